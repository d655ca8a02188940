#!/bin/sh
# Bounded libFuzzer run for the 'fuzz' suite: fresh seed corpus in a temp dir, then fuzz it.
#   run_fuzz.sh <fuzzer> <seed generator> [seconds]
set -eu
fuzzer=$1
seedgen=$2
seconds=${3:-50}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus" "$dir/artifacts"
"$seedgen" "$dir/corpus"
# -error_exitcode=1: libFuzzer's default for a crash is 77, which meson counts as SKIP, so a
# finding passed CI unseen (fuzz_decode's RFC-mode round trip, 2026-12-07).
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus"
