#!/usr/bin/env bash
# Makes a migration fixture (tests/store_upgrade.rs) with an older
# scantrail's release build: a site store of 3,000 generated movements,
# a handheld's scan with scan_id "before-1" and an unreadable scan, both
# answered by that build's daemon, and that build's answers to the reports
# the test compares, packed as store.tar.xz beside site.toml.
#
#   git worktree add /tmp/old COMMIT && (cd /tmp/old && cargo build --release)
#   tests/data/make_store_fixture.sh /tmp/old/target/release tests/data/store-schemaN
set -euo pipefail

bin=$(cd "$1" && pwd)
out=$(mkdir -p "$2" && cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$daemon" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

cp "$here/store-schema3/site.toml" "$out/site.toml"
port=18931
{ cat "$out/site.toml"; } | sed "s/^\[http\]$/[http]\nlisten = \"127.0.0.1:$port\"/" >run.toml
"$bin/scantrail-dev" gen-data --movements 3000 --data data >/dev/null
"$bin/scantrail" run --config run.toml >daemon.log 2>&1 &
daemon=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break
    sleep 0.1
done
mkdir answers
scan() {
    curl -s -H "Authorization: Bearer handheld-token-1" -H 'Content-Type: application/json' \
        -d "$1" "http://127.0.0.1:$port/api/v1/scans"
}
scan '{"data":"]d201095060001343521730123110L1\u001d21BEFORE-1","scan_id":"before-1"}' >answers/scan-before-1.json
scan '{"data":"not a barcode","scan_id":"before-2"}' >/dev/null
kill -TERM "$daemon"
wait "$daemon" || true

report() {
    "$bin/scantrail" report "$@" --format json --config /nonexistent/scantrail.toml --data data
}
report recall --gtin 09506000000008 --lot HOT0001 >answers/recall-hot-lot.json
report movements --gtin 09506000000008 --lot HOT0001 >answers/movements-hot-lot.json
report stock >answers/stock.json
report trace --gtin 09506000000077 --serial 100001 >answers/trace-serial.json
report recall --gtin 09506000000077 --from 100000 --to 100400 >answers/recall-serial-range.json
report warranty --gtin 09506000000077 --serial 100001 --today 2026-11-30 >answers/warranty.json
report expiry --days 3650 --today 2026-11-30 >answers/expiry.json
tar -cJf "$out/store.tar.xz" data answers
echo "made $out/store.tar.xz: $(head -c 200 answers/scan-before-1.json)"
