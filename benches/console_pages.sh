#!/usr/bin/env bash
# The console's page timings against a big store (BENCHMARKS.md, "Console
# pages at 1 million movements"): starts `scantrail run` on a `gen-data`
# store, signs in to the console as a supervisor with curl, and times each
# page and the API's answer to the same question over loopback, RUNS times
# each after one warm-up: the median and the largest of curl's
# time_starttransfer (the request sent until the first byte back; a page is
# rendered whole before its first byte, so this is the server's time plus
# one loopback round trip), and the daemon's CPU time per call (from
# /proc: what the answer costs the server, whatever the machine's load).
#
#   target/release/scantrail-dev gen-data --data /tmp/site-1m --movements 1000000 --config /nonexistent.toml
#   benches/console_pages.sh /tmp/site-1m [RUNS] [PORT]
#
# Needs target/release/scantrail (cargo build --release --bins), curl and
# python3 (for the sums). The store is opened by the daemon, so nothing else
# may have it open.
set -euo pipefail

DATA=${1:?usage: console_pages.sh DATA_DIR [RUNS] [PORT]}
RUNS=${2:-20}
PORT=${3:-18480}
BIN=${SCANTRAIL:-target/release/scantrail}
WORK=$(mktemp -d)
BASE="http://127.0.0.1:$PORT"
TOKEN=console-bench-supervisor-token
PASSWORD=console-bench-password
# gen-data's landmarks (src/dev/gen.rs): the lot with ~1,000 movements of
# the first product, and the serial product's numeric serials from 100000.
HOT_GTIN=09506000000008
HOT_LOT=HOT0001
SERIAL_GTIN=09506000000077

cat >"$WORK/site.toml" <<EOF
data_dir = "$DATA"
[site]
id = "gen-site"
name = "Benchmark site"
[http]
listen = "127.0.0.1:$PORT"
[[stations]]
id = "dock-1"
mode = "receive"
location = "DOCK-1"
[[stations]]
id = "dispatch-1"
mode = "dispatch"
location = "DISPATCH-1"
[[stations]]
id = "returns-1"
mode = "return"
location = "RETURNS"
[[tokens]]
name = "bench-api"
role = "supervisor"
token = "$TOKEN"
EOF
echo "$PASSWORD" | "$BIN" user add bench --role supervisor --config "$WORK/site.toml" >/dev/null

"$BIN" run --config "$WORK/site.toml" >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
trap 'kill $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 600); do
    curl -sf "$BASE/api/v1/health" >/dev/null 2>&1 && break
    sleep 0.5
done
curl -sf "$BASE/api/v1/health" >/dev/null || { cat "$WORK/daemon.log"; exit 1; }
# The daemon checks what was committed since the last verified point at
# start (the whole chain, once, on a store never verified): let it finish
# so that its reads are not timed with the pages.
for _ in $(seq 1 1200); do
    grep -q "verified what was committed\|verify at start\|failed its verify" "$WORK/daemon.log" && break
    sleep 0.5
done

# Sign in as a browser does: the form's token (and its cookie), then the POST.
JAR="$WORK/cookies"
csrf=$(curl -s -c "$JAR" -b "$JAR" "$BASE/login" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//')
curl -s -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "csrf=$csrf" \
    --data-urlencode "user=bench" --data-urlencode "password=$PASSWORD" \
    --data-urlencode "next=/" "$BASE/login"
grep -q scantrail_session "$JAR" || { echo "sign-in failed"; exit 1; }

# The daemon's CPU time so far (all threads, user + system), in clock ticks.
ticks() {
    awk '{ print $14 + $15 }' "/proc/$DAEMON/stat"
}
HZ=$(getconf CLK_TCK)

# time_of URL [curl args...]: "median max status bytes cpu" of RUNS calls,
# cpu being the daemon's CPU time per call (ms): on a loaded machine the
# wall time includes waiting for a core, the CPU time does not.
time_of() {
    local url=$1
    shift
    curl -s -o /dev/null "$@" "$url" >/dev/null # warm-up
    local t0
    t0=$(ticks)
    for _ in $(seq 1 "$RUNS"); do
        curl -s -o /dev/null -w '%{time_starttransfer} %{http_code} %{size_download}\n' "$@" "$url"
    done >"$WORK/times"
    local cpu=$(( $(ticks) - t0 ))
    python3 -c '
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
t = [float(r[0]) * 1000 for r in rows]
codes = chr(47).join(sorted({r[1] for r in rows}))
cpu = int(sys.argv[2]) * 1000 / int(sys.argv[3]) / len(rows)
print(f"{statistics.median(t):.1f} {max(t):.1f} {codes} {rows[-1][2]} {cpu:.1f}")' "$WORK/times" "$cpu" "$HZ"
}

row() {
    local name=$1 page=$2 api=$3
    local p a
    p=$(time_of "$BASE$page" -b "$JAR")
    if [ -n "$api" ]; then
        a=$(time_of "$BASE$api" -H "Authorization: Bearer $TOKEN")
    else
        a="- - - - -"
    fi
    read -r pm px pc pb pcpu <<<"$p"
    read -r am ax ac ab acpu <<<"$a"
    printf '| %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$page" "$pm" "$px" "$pcpu" "$pb" "$am" "$ax" "$acpu" "$ab"
    [ "$pc" = 200 ] || echo "   ^ page answered $pc" >&2
    [ -z "$api" ] || [ "$ac" = 200 ] || echo "   ^ API answered $ac" >&2
}

# The newest seq, from the journal page's first row, for the API's page of
# the same 50 movements.
HEAD=$(curl -s -b "$JAR" "$BASE/journal" | grep -o 'data-seq="[0-9]*"' | head -1 | tr -dc 0-9)
LAST=$(( HEAD > 50 ? HEAD - 49 : 1 ))

echo "runs: $RUNS each after one warm-up; load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
echo "| page | path | page median ms | page max ms | page CPU ms | page bytes | API median ms | API max ms | API CPU ms | API bytes |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
R=/api/v1/reports
row "floor" "/" ""
row "reports index" "/reports" ""
row "stock, whole store (page 1 of 100 rows)" "/reports/stock?by=batch" "$R/stock?by=batch"
row "stock of one GTIN" "/reports/stock?gtin=$HOT_GTIN" "$R/stock?gtin=$HOT_GTIN"
row "movements of a lot (~1,030)" "/reports/movements?gtin=$HOT_GTIN&lot=$HOT_LOT" "$R/movements?gtin=$HOT_GTIN&lot=$HOT_LOT"
row "recall by lot" "/reports/recall?gtin=$HOT_GTIN&lots=$HOT_LOT" "$R/recall?gtin=$HOT_GTIN&lot=$HOT_LOT"
row "recall by serial range (10,000)" "/reports/recall?gtin=$SERIAL_GTIN&from=100000&to=109999" "$R/recall?gtin=$SERIAL_GTIN&from=100000&to=109999"
row "trace of a lot" "/reports/trace?gtin=$HOT_GTIN&lot=$HOT_LOT" "$R/trace?gtin=$HOT_GTIN&lot=$HOT_LOT"
row "warranty of a serial" "/reports/warranty?gtin=$SERIAL_GTIN&serial=100001" "$R/warranty?gtin=$SERIAL_GTIN&serial=100001"
row "expiry within 60 days (page 1)" "/reports/expiry?days=60" "$R/expiry?days=60"
row "journal, newest 50" "/journal" "/api/v1/journal?since=$LAST&limit=50"
row "journal of a station (dock-1)" "/journal?station=dock-1" ""
row "journal of a rare station (returns-1)" "/journal?station=returns-1" ""
row "journal of a lot" "/journal?gtin=$HOT_GTIN&lot=$HOT_LOT" ""
row "holds and recalls" "/holds" "/api/v1/holds"
row "reference data (200 products)" "/reference" "/api/v1/products"
row "sync" "/sync" ""
