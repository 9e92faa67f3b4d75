#!/usr/bin/env bash
# The console in a real browser: Debian's chromium, headless, loads /console/ from
# `lc-mock serve --cloud app --fixtures fixtures/database_settings` and the DOM it builds
# must show the app's classes with their row counts (read through the API with the
# master key the loopback page is given). Installs chromium with apt-get when missing
# (install-browser.sh).
#
#   conformance/console/check.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
die() { echo "console/check.sh: $*" >&2; exit 2; }

bash "$HERE/install-browser.sh" || die "chromium could not be installed"
browser="$(command -v chromium)"

cd "$ROOT"
cargo build -q -p lc-mock --bin lc-mock || die "cargo build -p lc-mock failed"
bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug/lc-mock"
work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$bin" serve --cloud app --fixtures fixtures/database_settings --port 0 >"$work/out" 2>"$work/err" </dev/null &
pid=$!
for _ in $(seq 1 300); do
  [[ -s "$work/out" ]] && [[ "$(wc -l <"$work/out")" -ge 1 ]] && break
  kill -0 "$pid" 2>/dev/null || { sed 's/^/  | /' "$work/err" >&2; die "lc-mock exited"; }
  sleep 0.1
done
url="$(head -n1 "$work/out")"
[[ "$url" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || die "unexpected first line: '$url'"

# The page fetches its config and the class list, then renders them: give it time.
"$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --user-data-dir="$work/profile" --virtual-time-budget=15000 --run-all-compositor-stages-before-draw \
  --dump-dom "$url/console/" >"$work/dom.html" 2>"$work/browser.err" || {
  sed 's/^/  | /' "$work/browser.err" >&2; die "chromium failed"; }

# The fixture classes, each with its count, as the page built them.
count_of() { curl -s -H "X-LC-Id: $1" -H "X-LC-Key: $2,master" "$url/1.1/classes/$3?count=1&limit=0" | sed -E 's/.*"count":([0-9]+).*/\1/'; }
config="$(curl -s "$url/console/config.json")"
app_id="$(echo "$config" | sed -E 's/.*"appId":"([^"]*)".*/\1/')"
master="$(echo "$config" | sed -E 's/.*"masterKey":"([^"]*)".*/\1/')"
failed=0
for class in Business Review _User; do
  n="$(count_of "$app_id" "$master" "$class")"
  if grep -q "<span>$class</span><span class=\"muted\">$n</span>" "$work/dom.html"; then
    echo "ok - the console lists $class with its $n rows"
  else
    echo "not ok - the console does not list $class with $n rows"; failed=1
  fi
done
if grep -q 'The console could not start' "$work/dom.html"; then
  echo "not ok - the console reported an error"; failed=1
fi
if ((failed)); then
  echo "# the DOM the browser built:"; head -c 4000 "$work/dom.html" | sed 's/^/#   /'
  exit 1
fi
echo "console check: passed"
