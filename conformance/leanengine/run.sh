#!/usr/bin/env bash
# Runs the official Node cloud engine (leanengine, pinned in package.json /
# package-lock.json, serving cloud.js) as the remote engine behind a freshly built
# `lc-mock serve --engine URL`, and reports each check of check.mjs.
#
#   conformance/leanengine/run.sh                     # from anywhere
#   LC_CHECKS='batch' conformance/leanengine/run.sh   # report only checks whose name matches
#   LC_CHECK_TRACE=1 conformance/leanengine/run.sh    # print every HTTP exchange
#   DEBUG='AV:*' conformance/leanengine/run.sh        # the engine SDK's own log (shown on failure)
#
# Only 127.0.0.1 is used. Both servers are stopped on exit, whatever happens.
# Exit status: that of check.mjs (1 if any check failed), or 2 if the setup failed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STARTUP_TIMEOUT="${LC_MOCK_STARTUP_TIMEOUT:-30}"

# lc-mock's defaults; the engine gets the same values through its own variables.
APP_ID="lc-mock-app"
APP_KEY="lc-mock-key"
MASTER_KEY="lc-mock-master"
HOOK_KEY="lc-mock-hook"

die() {
  echo "run.sh: $*" >&2
  exit 2
}

command -v node >/dev/null || die "node is not installed"
command -v npm >/dev/null || die "npm is not installed"
command -v curl >/dev/null || die "curl is not installed"

# 1. The pinned engine and SDK: `npm ci` only when node_modules is missing or older than
#    the lock file.
cd "$HERE"
stamp="node_modules/.package-lock.json"
if [[ ! -d node_modules || ! -f "$stamp" || package-lock.json -nt "$stamp" || package.json -nt "$stamp" ]]; then
  echo "run.sh: npm ci (installing the pinned leanengine and leancloud-storage)"
  npm ci --no-audit --no-fund --loglevel=error >&2 || die "npm ci failed"
fi

# 2. The emulator.
cd "$ROOT"
echo "run.sh: cargo build -p lc-mock --bin lc-mock"
cargo build -q -p lc-mock --bin lc-mock >&2 || die "cargo build -p lc-mock --bin lc-mock failed"
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
bin="$target_dir/debug/lc-mock"
[[ -x "$bin" ]] || die "$bin was not built"

# 3. Two free ports on 127.0.0.1, held together while chosen so that they differ.
read -r MOCK_PORT ENGINE_PORT < <(node -e '
  const net = require("node:net");
  const a = net.createServer().listen(0, "127.0.0.1", () => {
    const b = net.createServer().listen(0, "127.0.0.1", () => {
      console.log(a.address().port, b.address().port);
      a.close(); b.close();
    });
  });') || die "could not pick free ports"
[[ "$MOCK_PORT" =~ ^[0-9]+$ && "$ENGINE_PORT" =~ ^[0-9]+$ ]] || die "could not pick free ports"
MOCK_URL="http://127.0.0.1:$MOCK_PORT"
ENGINE_URL="http://127.0.0.1:$ENGINE_PORT"

workdir="$(mktemp -d)"
mock_pid=""
engine_pid=""
stop() {
  local pid="$1"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
cleanup() {
  stop "$mock_pid"
  stop "$engine_pid"
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_log() { # name file
  echo "run.sh: $1 (last 40 lines):" >&2
  tail -n 40 "$2" 2>/dev/null | sed 's/^/  | /' >&2 || true
}

# 4. The engine first (lc-mock may ask it for its hooks as soon as it starts), pointed
#    back at lc-mock's port.
cd "$HERE"
LEANCLOUD_APP_ID="$APP_ID" LEANCLOUD_APP_KEY="$APP_KEY" LEANCLOUD_APP_MASTER_KEY="$MASTER_KEY" \
  LEANCLOUD_APP_HOOK_KEY="$HOOK_KEY" LEANCLOUD_APP_PORT="$ENGINE_PORT" LEANCLOUD_API_SERVER="$MOCK_URL" \
  node server.js >"$workdir/engine.log" 2>&1 </dev/null &
engine_pid=$!

deadline=$((SECONDS + STARTUP_TIMEOUT))
until curl -fsS --noproxy '*' --max-time 1 "$ENGINE_URL/__engine/1/ping" >/dev/null 2>&1; do
  if ! kill -0 "$engine_pid" 2>/dev/null; then
    show_log "the engine exited before answering ping; its output" "$workdir/engine.log"
    exit 2
  fi
  if ((SECONDS >= deadline)); then
    show_log "the engine did not answer ping within ${STARTUP_TIMEOUT}s; its output" "$workdir/engine.log"
    exit 2
  fi
  sleep 0.1
done
echo "run.sh: engine: $(head -n 1 "$workdir/engine.log") (pid $engine_pid)"

# 5. lc-mock, with the engine; its first stdout line is its URL.
"$bin" serve --host 127.0.0.1 --port "$MOCK_PORT" --engine "$ENGINE_URL" \
  --app-id "$APP_ID" --app-key "$APP_KEY" --master-key "$MASTER_KEY" --hook-key "$HOOK_KEY" \
  >"$workdir/mock.stdout" 2>"$workdir/mock.stderr" </dev/null &
mock_pid=$!

url=""
deadline=$((SECONDS + STARTUP_TIMEOUT))
while :; do
  if [[ -s "$workdir/mock.stdout" ]] && [[ "$(head -c 4096 "$workdir/mock.stdout" | wc -l)" -ge 1 ]]; then
    IFS= read -r url <"$workdir/mock.stdout"
    break
  fi
  if ! kill -0 "$mock_pid" 2>/dev/null; then
    show_log "lc-mock exited before printing its URL; its stderr" "$workdir/mock.stderr"
    exit 2
  fi
  if ((SECONDS >= deadline)); then
    show_log "lc-mock printed no URL within ${STARTUP_TIMEOUT}s; its stderr" "$workdir/mock.stderr"
    exit 2
  fi
  sleep 0.1
done
url="${url%$'\r'}"
[[ "$url" == "$MOCK_URL" ]] || die "lc-mock printed '$url', expected $MOCK_URL"
echo "run.sh: lc-mock serving at $url with --engine $ENGINE_URL (pid $mock_pid)"

# 6. The checks.
status=0
LC_SERVER_URL="$MOCK_URL" LC_ENGINE_URL="$ENGINE_URL" LC_APP_ID="$APP_ID" LC_APP_KEY="$APP_KEY" \
  LC_MASTER_KEY="$MASTER_KEY" node check.mjs || status=$?

if [[ "$status" -ne 0 ]]; then
  echo "# lc-mock stderr (last 40 lines):"
  tail -n 40 "$workdir/mock.stderr" | sed 's/^/#   | /'
  echo "# engine output (last 40 lines):"
  tail -n 40 "$workdir/engine.log" | sed 's/^/#   | /'
fi
exit "$status"
