#!/usr/bin/env bash
# Runs the official LeanCloud JavaScript SDK (pinned in package.json / package-lock.json)
# against a freshly built `lc-mock serve` and reports each check (see check.mjs).
#
#   conformance/js-sdk/run.sh            # from anywhere
#   LC_CHECKS='query' conformance/js-sdk/run.sh    # report only checks whose name matches
#   LC_CHECK_TRACE=1 conformance/js-sdk/run.sh     # print every HTTP exchange
#   DEBUG='leancloud*' conformance/js-sdk/run.sh   # the SDK's own request log (stderr)
#   LC_RECORD_TO=FILE conformance/js-sdk/run.sh    # the SDK talks to `lc-mock record` in
#                                                  # front of the emulator, which appends
#                                                  # every exchange to FILE (roundtrip.sh)
#
# Exit status: that of check.mjs (1 if any check failed), or 2 if the setup failed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STARTUP_TIMEOUT="${LC_MOCK_STARTUP_TIMEOUT:-60}"

APP_ID="js-sdk-conformance-app"
APP_KEY="js-sdk-conformance-key"
MASTER_KEY="js-sdk-conformance-master"
HOOK_KEY="js-sdk-conformance-hook"

die() {
  echo "run.sh: $*" >&2
  exit 2
}

command -v node >/dev/null || die "node is not installed"
command -v npm >/dev/null || die "npm is not installed"

# 1. The pinned SDK: `npm ci` only when node_modules is missing or older than the lock file.
cd "$HERE"
stamp="node_modules/.package-lock.json"
if [[ ! -d node_modules || ! -f "$stamp" || package-lock.json -nt "$stamp" || package.json -nt "$stamp" ]]; then
  echo "run.sh: npm ci (installing the pinned SDK)"
  npm ci --no-audit --no-fund --loglevel=error >&2 || die "npm ci failed"
fi

# 2. The emulator.
cd "$ROOT"
echo "run.sh: cargo build -p lc-mock --bin lc-mock"
cargo build -p lc-mock --bin lc-mock >&2 || die "cargo build -p lc-mock --bin lc-mock failed"
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
bin="$target_dir/debug/lc-mock"
[[ -x "$bin" ]] || die "$bin was not built"

# 3. Start it on a free port; its first stdout line is its URL.
workdir="$(mktemp -d)"
server_pid=""
recorder_pid=""
cleanup() {
  if [[ -n "$recorder_pid" ]] && kill -0 "$recorder_pid" 2>/dev/null; then
    # Ctrl-C, as a person would stop it: it prints its summary and exits.
    kill -INT "$recorder_pid" 2>/dev/null || true
    wait "$recorder_pid" 2>/dev/null || true
    sed 's/^/run.sh: /' "$workdir/recorder.stderr" >&2 || true
  fi
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$bin" serve --host 127.0.0.1 --port 0 \
  --app-id "$APP_ID" --app-key "$APP_KEY" --master-key "$MASTER_KEY" --hook-key "$HOOK_KEY" \
  >"$workdir/stdout" 2>"$workdir/stderr" </dev/null &
server_pid=$!

url=""
deadline=$((SECONDS + STARTUP_TIMEOUT))
while :; do
  # A complete first line (newline-terminated) is the URL.
  if [[ -s "$workdir/stdout" ]] && [[ "$(head -c 4096 "$workdir/stdout" | wc -l)" -ge 1 ]]; then
    IFS= read -r url <"$workdir/stdout"
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run.sh: lc-mock exited before printing its URL; its stderr:" >&2
    sed 's/^/  | /' "$workdir/stderr" >&2 || true
    exit 2
  fi
  if ((SECONDS >= deadline)); then
    echo "run.sh: lc-mock printed no URL within ${STARTUP_TIMEOUT}s; its stderr so far:" >&2
    sed 's/^/  | /' "$workdir/stderr" >&2 || true
    exit 2
  fi
  sleep 0.1
done
url="${url%$'\r'}"
[[ "$url" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || die "unexpected first line from lc-mock serve: '$url'"
echo "run.sh: lc-mock serving at $url (pid $server_pid)"

# 3b. With LC_RECORD_TO, a recorder in front of it: the SDK talks to the recorder.
if [[ -n "${LC_RECORD_TO:-}" ]]; then
  "$bin" record --upstream "$url" --listen 127.0.0.1:0 --out "$LC_RECORD_TO" \
    --master-key "$MASTER_KEY" --app-id "$APP_ID" --gap-secs 0 --quiet \
    >"$workdir/recorder.stdout" 2>"$workdir/recorder.stderr" </dev/null &
  recorder_pid=$!
  record_url=""
  deadline=$((SECONDS + STARTUP_TIMEOUT))
  until [[ -s "$workdir/recorder.stdout" ]] && [[ "$(wc -l <"$workdir/recorder.stdout")" -ge 1 ]]; do
    kill -0 "$recorder_pid" 2>/dev/null || die "lc-mock record exited: $(cat "$workdir/recorder.stderr")"
    ((SECONDS < deadline)) || die "lc-mock record printed no URL within ${STARTUP_TIMEOUT}s"
    sleep 0.1
  done
  IFS= read -r record_url <"$workdir/recorder.stdout"
  echo "run.sh: lc-mock record at $record_url, appending to $LC_RECORD_TO"
  url="$record_url"
fi

# 4. The checks.
cd "$HERE"
status=0
LC_SERVER_URL="$url" LC_APP_ID="$APP_ID" LC_APP_KEY="$APP_KEY" LC_MASTER_KEY="$MASTER_KEY" \
  node check.mjs || status=$?

if [[ "$status" -ne 0 && -s "$workdir/stderr" ]]; then
  echo "# lc-mock stderr (last 40 lines):"
  tail -n 40 "$workdir/stderr" | sed 's/^/#   | /'
fi
exit "$status"
