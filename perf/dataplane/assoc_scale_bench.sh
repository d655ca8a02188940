#!/bin/sh
# Associations at scale on one lane (issue 16 item 4), one run: poolreg-assoc-scale-bench at
# growing association counts with the engine's defaults, then the usrsctp / engine knobs at one
# count side by side (ratios within this run). Figures and what they leave out:
# perf/dataplane/assoc_scale_results.md.
#   usage: assoc_scale_bench.sh [build-dir] [counts] [knob-count] [idle-s]
set -eu
build=${1:-build}
counts=${2:-"1000 4000 16000"}
knob_count=${3:-4000}
idle=${4:-12}
bench="$build/perf/dataplane/poolreg-assoc-scale-bench"
[ -x "$bench" ] || { echo "build $bench first (ninja -C $build perf/dataplane/poolreg-assoc-scale-bench)" >&2; exit 1; }

summary() {  # the figures of one run, one block
  grep -E '^(set-up|idle|survived|memory|  class)' || true
}

echo "== ladder: defaults (SCTP heartbeat 1000 ms, ASAP keep-alive 5000 ms), idle ${idle} s"
for n in $counts; do
  echo "-- $n associations"
  "$bench" -n "$n" --idle-s "$idle" --size-classes 6 2>/dev/null | summary
done

echo "== knobs at $knob_count associations, idle 3 s (memory and set-up cost; ratios to 'defaults')"
for knob in "defaults:" "streams 16 (before):--streams 16" "streams 2:--streams 2" \
            "peer asks 2048 streams:--peer-streams 2048" \
            "usrsctp timers every 1 ms (before):--timer-ms 1" \
            "sndbuf/rcvbuf 64 KiB:--send-space 65536 --receive-space 65536" \
            "no PE registration:--no-register"; do
  name=${knob%%:*}
  args=${knob#*:}
  echo "-- $name"
  # shellcheck disable=SC2086  # args are separate options
  "$bench" -n "$knob_count" --idle-s 3 --size-classes 3 $args 2>/dev/null | summary
done
echo "left out: the packet source (DPDK/kernel UDP), lane<->control rings, ENRP; the synthetic peers share the"
echo "process (set-ups per registrar CPU-second counts only the registrar's calls)"
