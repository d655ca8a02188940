#!/usr/bin/env bash
# RSS per PE at 10^6 PEs, jemalloc (as linked into poolregd) against glibc malloc, in one run.
#
#   perf/registrar/run_memory_comparison.sh [build dir, default build]
#
# Each case runs in its own process, the two allocators alternating, because a process that
# freed a 10^6-PE handlespace keeps (part of) that memory and the next case's "before" would
# start from it. Prints one line per case and the jemalloc/glibc ratios.
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$top/build}"
je="$build/perf/registrar/handlespace_bench"
sys="$build/perf/registrar/handlespace_bench_system_malloc"
[ -x "$je" ] && [ -x "$sys" ] || { echo "build $je and $sys first"; exit 1; }

declare -A per_pe
for moves in 0 2; do
  for bin in "$je" "$sys"; do
    name="$(basename "$bin")"
    out="$("$bin" --benchmark_filter="^Memory/pes:1000000/moves:$moves/iterations:1\$" --benchmark_format=json 2>/dev/null)"
    value="$(python3 -c 'import json,sys; t=sys.stdin.read(); b=json.loads(t[t.index("{"):])["benchmarks"][0]; print("%.1f %.0f" % (b["rss_bytes_per_pe"], b["record_bytes"]))' <<<"$out")"
    per_pe["$name/$moves"]="${value%% *}"
    echo "$name Memory/pes:1000000/moves:$moves rss_bytes_per_pe ${value%% *} record_bytes ${value##* }"
  done
done
for moves in 0 2; do
  python3 -c "import sys; j,s=float(sys.argv[1]),float(sys.argv[2]); print('moves %s: jemalloc/glibc RSS per PE = %.2f' % (sys.argv[3], j/s))" \
    "${per_pe[handlespace_bench/$moves]}" "${per_pe[handlespace_bench_system_malloc/$moves]}" "$moves"
done
