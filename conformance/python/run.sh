#!/usr/bin/env bash
# The official Python SDK's own test suite (the tests/ of the PyPI sdist of leancloud
# 3.0.2) against `lc-mock serve`: installs the pinned packages (requirements.txt, with
# hashes) into a venv under target/, starts the emulator on the classes the suite expects
# (fixtures/), runs pytest with the exclusions deselected, and fails when fewer tests
# pass than floor.txt says.
#
#   conformance/python/run.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
die() { echo "python/run.sh: $*" >&2; exit 2; }
command -v python3 >/dev/null || die "python3 is not installed"

target="${CARGO_TARGET_DIR:-$ROOT/target}"
venv="$target/python-sdk-venv"
stamp="$venv/.requirements"
if [[ ! -f "$stamp" ]] || ! cmp -s "$stamp" "$HERE/requirements.txt"; then
  echo "python/run.sh: installing the pinned SDK and pytest into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --require-hashes -r "$HERE/requirements.txt" || die "pip install failed"
  cp "$HERE/requirements.txt" "$stamp"
fi

work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# The suite itself, from the same pinned sdist.
"$venv/bin/pip" download -q --no-deps --no-binary :all: --require-hashes -d "$work" \
  -r <(grep '^leancloud==' "$HERE/requirements.txt") || die "pip download of the sdist failed"
tar xzf "$work"/leancloud-3.0.2.tar.gz -C "$work"
suite="$work/leancloud-3.0.2"
# A test asset the sdist does not ship (the file tests upload it).
printf 'A sample text file for the file tests.\n' >"$suite/tests/sample_text.txt"

cd "$ROOT"
cargo build -q -p lc-mock --bin lc-mock || die "cargo build -p lc-mock failed"
"$target/debug/lc-mock" serve --port 0 --fixtures "$HERE/fixtures" \
  --app-id py-sdk-app --app-key py-sdk-key --master-key py-sdk-master --hook-key py-sdk-hook \
  >"$work/out" 2>"$work/err" </dev/null &
pid=$!
for _ in $(seq 1 300); do
  [[ -s "$work/out" ]] && [[ "$(wc -l <"$work/out")" -ge 1 ]] && break
  kill -0 "$pid" 2>/dev/null || { sed 's/^/  | /' "$work/err" >&2; die "lc-mock exited"; }
  sleep 0.1
done
url="$(head -n1 "$work/out")"

deselect=()
while IFS= read -r line; do
  id="${line%% # *}"
  [[ -z "$id" || "$id" == \#* ]] && continue
  if [[ "$id" == *::* ]]; then deselect+=(--deselect "$id"); else deselect+=(--ignore "$id"); fi
done <"$HERE/exclusions.txt"

cd "$suite"
set +e
LEANCLOUD_API_SERVER="$url" APP_ID=py-sdk-app APP_KEY=py-sdk-key MASTER_KEY=py-sdk-master HOOK_KEY=py-sdk-hook \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider -W ignore "${deselect[@]}" tests -rfE >"$work/pytest.log" 2>&1
set -e
grep -E '^(FAILED|ERROR) ' "$work/pytest.log" | cut -c1-200 || true
summary="$(tail -n1 "$work/pytest.log")"
echo "python SDK suite: $summary"
passed="$(echo "$summary" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)"
floor="$(tr -d '[:space:]' <"$HERE/floor.txt")"
if ((passed < floor)); then
  echo "python/run.sh: $passed passed, under the floor of $floor" >&2
  exit 1
fi
echo "python/run.sh: $passed passed (floor $floor)"
