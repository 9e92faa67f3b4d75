#!/usr/bin/env bash
# The recorder's round trip with the official JavaScript SDK: run every check of
# check.mjs through `lc-mock record` in front of `lc-mock serve` (each check a test case
# of its own, objects made by earlier checks fetched as seeds), then replay the recording
# against fresh emulators and hold it to roundtrip-floors.json.
#
#   conformance/js-sdk/roundtrip.sh
#
# The floors: L1 1.0; L2 0.97, because one check orders by `createdAt` objects a batch
# created, and whether those creates fall in one millisecond or several differs from run
# to run (upstream and replay alike), which changes the order of the tie.
#
# Exit status: 1 if a check failed, a floor was not met or a key reached the file; 2 if
# the setup failed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
file="$(mktemp -d)/js-sdk.jsonl"
trap 'rm -rf "$(dirname "$file")"' EXIT

LC_RECORD_TO="$file" LC_RECORD_CASES=1 bash "$HERE/run.sh"

# The keys run.sh gives the emulator must not be in the recording.
for key in js-sdk-conformance-app js-sdk-conformance-key js-sdk-conformance-master js-sdk-conformance-hook; do
  if grep -q -- "$key" "$file"; then
    echo "roundtrip.sh: the key $key is in the recording" >&2
    exit 1
  fi
done

# Object ids start with their creation second. Objects the replay creates must sort
# after those the recording seeded, as they do when a recording is replayed days later:
# start the replay in a later second than the recording's last.
sleep 1

cd "$ROOT"
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
"$target_dir/debug/lc-mock" replay "$file" --cloud none --floors "$HERE/roundtrip-floors.json"
