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
# Environment: ROUNDS=N runs the handlespace_daemon_bench cases N times, old and new alternating
# (on a shared machine one run of a case can be off by 30 %); DAEMON_ONLY=1 leaves out
# handlespace_bench and teardown_latency (so OLD_BUILD needs only handlespace_daemon_bench).
set -euo pipefail
rounds="${ROUNDS:-1}"
daemon_only="${DAEMON_ONLY:-0}"
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
  "DaemonDeregisterView/pes:1000000/per_assoc:1/"
  "DaemonDeregisterView/pes:1000000/per_assoc:1000/"
  "DaemonRemove/pes:1000000/per_assoc:1/"
  "DaemonRegisterChurn/pes:10000\$"
  "DaemonDeregisterChurn/pes:10000\$"
  "DaemonTeardown/assoc_pes:100000/"
  "DaemonMemory/pes:1000000/per_assoc:1/"
  "DaemonMemory/pes:1000000/per_assoc:1000/"
)
for round in $(seq 1 "$rounds"); do
  for c in "${cases[@]}"; do
    # Memory figures do not depend on load: one round is enough.
    if [ "$round" -gt 1 ] && [[ "$c" == DaemonMemory* || "$c" == DaemonTeardown* ]]; then continue; fi
    for side in old new; do
      dir="$old"; [ "$side" = new ] && dir="$new"
      echo "== round $round $side $c (load: $(cut -d' ' -f1 /proc/loadavg))"
      "$dir/perf/registrar/handlespace_daemon_bench" --benchmark_filter="^$c" 2>&1 | grep -E '^Daemon' || true
    done
  done
done
[ "$daemon_only" = 1 ] && exit 0
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
