#!/bin/bash
# `scantrail epcis export` of a whole gen-data site by two binaries (a
# baseline and the one measured), alternated three times in one run:
# wall time, events (the command's own count), events/s, peak RSS
# (/usr/bin/time %M) and the load average after each run.
#
#   benches/epcis_export_cli.sh OLD_BINARY NEW_BINARY SITE_CONFIG [EXPORT FLAGS...]
#
# SITE_CONFIG names the store (`data_dir`) and `[site] gln`; make the
# store with `scantrail-dev gen-data --data DIR --movements 1000000
# --config /nonexistent.toml` (site `gen-site`).
set -u
old=$1 new=$2 config=$3
shift 3
for round in 1 2 3; do
  for which in old new; do
    bin=${!which}
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o /tmp/epcis-bench-rss "$bin" epcis export --config "$config" "$@" -o /dev/null 2>/tmp/epcis-bench-err
    end=$(date +%s.%N)
    secs=$(echo "$end - $start" | bc -l)
    events=$(grep -o '^[0-9]* events' /tmp/epcis-bench-err | cut -d' ' -f1)
    printf "round %s %s: %7.2f s %8d events %7.0f events/s  peak RSS %6s KB  load %s\n" \
      "$round" "$which" "$secs" "$events" "$(echo "$events / $secs" | bc -l)" \
      "$(cat /tmp/epcis-bench-rss)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
