#!/usr/bin/env bash
# The handheld page's weight and load time (BENCHMARKS.md, "Handheld page
# (issue 18)"): the browser test that measures them, with its figures
# printed. It starts `scantrail run` on loopback, enrols a handheld through
# the console, weighs /handheld/ with its script and style as served and
# as gzip -9 compresses them, then opens the page RUNS times in headless
# Chromium at a handheld's size and reads the Navigation Timing of each
# load (load event, and the moment the scan screen is up); the console's
# sign-in page, weighed and loaded the same way in the same run, is the
# baseline.
#
#   benches/handheld_page.sh [RUNS]          # default 20
#
# Needs Debian's chromium and chromium-driver, and gzip.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-20}" cargo test --test handheld the_page_is_light_and_loads_fast -- --nocapture 2>&1 \
    | grep -E '^(weight|load) '
