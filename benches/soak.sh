#!/bin/bash
# The site daemon left running: `scantrail-dev loadtest --saturate` drives
# the real `scantrail run` over HTTP until its store holds TARGET
# movements, and every 10 s the daemon's own metrics (movements held,
# resident memory, bytes on disk), with the kernel's peak of the daemon's
# resident memory so far (VmHWM: a reopening between two samples shows
# there), are appended to OUT/samples.csv. benches/soak_plot.py draws the
# samples as an SVG.
#
#   benches/soak.sh BINDIR OUT [TARGET_MOVEMENTS] [HANDHELDS]
#
# BINDIR holds `scantrail` and `scantrail-dev` (target/release); OUT is a
# new folder (store, daemon log with the store's reopenings, samples).
# Default: 10,000,000 movements, 50 handhelds. The daemon runs with the
# default `[store] memory_mb`.
set -u
bindir=$1 out=$2 target=${3:-10000000} handhelds=${4:-50}
mkdir -p "$out"
# Running, and not a zombie its parent (loadtest) has not reaped yet.
alive() { [ -n "$(ps -o stat= -p "$1" 2>/dev/null | grep -v Z)" ]; }
# Long enough to reach the target at 1,000 scans/s; stopped at the target.
# The store's own lines (its reopenings, with how long each took) go to
# daemon.log beside the store; the scans' do not.
"$bindir/scantrail-dev" loadtest --scanners 0 --handhelds "$handhelds" --saturate \
  --duration $((target / 1000)) --data "$out/store" --scantrail "$bindir/scantrail" \
  --daemon-log warn,scantrail::store=info \
  >"$out/loadtest.out" 2>&1 &
loadtest=$!
daemon=""
for _ in $(seq 300); do
  daemon=$(pgrep -f "^$bindir/scantrail run --config $out/" | head -1)
  [ -n "$daemon" ] && break
  sleep 0.2
done
[ -n "$daemon" ] || { echo "the daemon did not start; see $out/loadtest.out" >&2; exit 1; }
port=""
for _ in $(seq 300); do
  port=$(ss -ltnpH "( sport > :0 )" 2>/dev/null | grep "pid=$daemon," | grep -o '127.0.0.1:[0-9]*' | head -1 | cut -d: -f2)
  [ -n "$port" ] && break
  sleep 0.2
done
[ -n "$port" ] || { echo "cannot find the daemon's port" >&2; exit 1; }
echo "seconds,movements,rss_bytes,store_bytes,load1,peak_rss_bytes" >"$out/samples.csv"
start=$(date +%s)
while alive "$daemon"; do
  m=$(curl -s "http://127.0.0.1:$port/api/v1/metrics")
  movements=$(echo "$m" | awk '$1 == "scantrail_store_movements" {print $2}')
  rss=$(echo "$m" | awk '$1 == "process_resident_memory_bytes" {print $2}')
  bytes=$(echo "$m" | awk '$1 == "scantrail_store_bytes" {print $2}')
  peak=$(awk '$1 == "VmHWM:" {print $2 * 1024}' "/proc/$daemon/status" 2>/dev/null)
  echo "$(($(date +%s) - start)),$movements,$rss,$bytes,$(cut -d' ' -f1 /proc/loadavg),$peak" >>"$out/samples.csv"
  if [ -n "$movements" ] && [ "$movements" -ge "$target" ]; then
    # Stop the daemon as systemd would, then the load.
    kill -TERM "$daemon"
    while alive "$daemon"; do sleep 0.5; done
    kill "$loadtest" 2>/dev/null
    break
  fi
  sleep 10
done
wait "$loadtest" 2>/dev/null
tail -n 3 "$out/samples.csv"
