#!/usr/bin/env bash
# Runs Microsoft's WOPI validator definitions (../shared/wopi-validator) against a fresh `quire serve`.
# Twice: with a full token (every group CheckFileInfo advertises), and with a token that may not create files
# (the PutRelativeFileUnsupported group, which needs UserCanNotWriteRelative=true).
set -euo pipefail
cd "$(dirname "$0")/.."
runner=../shared/wopi-validator/run.py
[ -f "$runner" ] || { echo "wopi-validator: $runner not present, skipped"; exit 0; }

tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
: > "$tmp/test.wopitest"
setsid node bin/quire.js serve --data "$tmp/data" --port "$port" --log-level warn >"$tmp/serve.log" 2>&1 &
spid=$!
cleanup() { kill -TERM -- "-$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for _ in $(seq 1 80); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.25; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
fid=$(node bin/quire.js add "$tmp/test.wopitest" --data "$tmp/data" | json id)
full=$(node bin/quire.js token "$fid" --user validator --name Validator --data "$tmp/data" | json access_token)
src="http://127.0.0.1:$port/wopi/files/$fid"

status=0
echo "== WOPI validator, full token"
python3 "$runner" --wopisrc "$src" --token "$full" | tee "$tmp/full.txt" | grep -E '^(FAIL|--)' || true
tail -1 "$tmp/full.txt"
grep -q '^FAIL' "$tmp/full.txt" && status=1

echo "== WOPI validator, read-only token (PutRelativeFileUnsupported)"
ro=$(node bin/quire.js token "$fid" --user viewer --name Viewer --read-only --data "$tmp/data" | json access_token)
python3 "$runner" --wopisrc "$src" --token "$ro" --group PutRelativeFileUnsupported | tee "$tmp/ro.txt" | grep -E '^(FAIL|PASS|SKIP|--)' || true
tail -1 "$tmp/ro.txt"
grep -q '^FAIL' "$tmp/ro.txt" && status=1
grep -qE '^PASS' "$tmp/ro.txt" || { echo "PutRelativeFileUnsupported did not run"; status=1; }
if [ $status -ne 0 ]; then echo "--- server log"; tail -50 "$tmp/serve.log"; fi
exit $status
