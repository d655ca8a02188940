#!/usr/bin/env bash
# Old against new handlespace as the daemon uses it, in one run (perf/registrar/daemon_results.md).
#
#   perf/registrar/run_daemon_comparison.sh OLD_BUILD NEW_BUILD [latency PEs, default 1000000]
#
# OLD_BUILD: a build of the tree to compare against with handlespace_daemon_bench,
# handlespace_bench and teardown_latency, the first and last built from THIS tree's
# perf/registrar sources (copy handlespace_daemon_bench.cpp, teardown_latency.cpp,
# bench_support.hpp and meson.build over first: they compile against both APIs). Each case runs
# in its own process, old and new alternating, so memory figures start from a fresh heap and
# load changes hit both sides.
# The old teardown is quadratic: its 10^6-PE cases are left out (minutes each).
set -euo pipefail
old="$1"
new="$2"
latency_pes="${3:-1000000}"
cases=(
  "DaemonResolve3/pes:1000000/per_assoc:1\$"
  "DaemonResolve3/pes:1000000/per_assoc:1000\$"
  "DaemonReregister/pes:1000000/per_assoc:1\$"
  "DaemonReregister/pes:1000000/per_assoc:1000\$"
  "DaemonDeregister/pes:1000000/per_assoc:1/"
  "DaemonDeregister/pes:1000000/per_assoc:1000/"
  "DaemonRemove/pes:1000000/per_assoc:1/"
  "DaemonTeardown/assoc_pes:100000/"
  "DaemonMemory/pes:1000000/per_assoc:1/"
  "DaemonMemory/pes:1000000/per_assoc:1000/"
)
for c in "${cases[@]}"; do
  for side in old new; do
    dir="$old"; [ "$side" = new ] && dir="$new"
    echo "== $side $c"
    "$dir/perf/registrar/handlespace_daemon_bench" --benchmark_filter="^$c" 2>&1 | grep -E '^Daemon' || true
  done
done
echo "== new DaemonTeardown/assoc_pes:1000000 (old: quadratic, left out)"
"$new/perf/registrar/handlespace_daemon_bench" --benchmark_filter='^DaemonTeardown/assoc_pes:1000000/' 2>&1 | grep -E '^Daemon'
for side in old new; do
  dir="$old"; [ "$side" = new ] && dir="$new"
  echo "== $side Memory/pes:1000000/moves:0 (handlespace_bench: no association)"
  "$dir/perf/registrar/handlespace_bench" --benchmark_filter='^Memory/pes:1000000/moves:0/' 2>&1 | grep -E '^Memory'
done
for side in old new; do
  dir="$old"; [ "$side" = new ] && dir="$new"
  echo "== $side teardown_latency 100000"
  "$dir/perf/registrar/teardown_latency" 100000 1000
done
echo "== new teardown_latency $latency_pes (old: quadratic, left out)"
"$new/perf/registrar/teardown_latency" "$latency_pes" 10000
