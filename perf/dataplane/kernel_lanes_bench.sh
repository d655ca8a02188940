#!/usr/bin/env bash
# Handle Resolutions/s through poolregd on kernel sockets: the SCTP lanes (this tree) with 1 and
# 2 lanes against the previous single-thread kernel path (usrsctp's own threads + the event loop,
# poolregd built from BASE, by default the merge base with main), all in one run, fed by the
# synthetic SCTP source over UDP (poolreg-sctp-synth: pre-built Handle Resolutions, 128
# associations spread over SOCKETS (32) UDP sockets so that the lanes' steering sees 32 peers, 16 requests in
# flight), 10 PEs in the pool.
#
# Also CPU-seconds per 10^6 resolutions of every lane thread (utime+stime of the threads named
# lane<i>, /proc/<pid>/task/*/stat), of all lanes together and of the whole daemon, and the share
# of the datagrams the lanes read that they handed to another lane (sum of the lanes'
# sctp_steered_out / rx_packets from `poolctl stats`; 0 with the kernel's cBPF steering). On a machine with few CPUs the
# source competes with the lanes for them: compare the CPU cost per resolution per lane, which
# must not grow from 1 to 2 lanes, rather than the rate.
#
#   [BASE=<commit> | BASE_POOLREGD=<binary>] [PREV_POOLREGD=<binary>] [SECONDS=5] [ROUNDS=3] \
#     bash perf/dataplane/kernel_lanes_bench.sh
# PREV_POOLREGD: also 2 lanes of another lanes build (e.g. main's, to compare a steering change).
# The baseline is built once in a worktree under ${BASE_DIR:-/tmp/poolreg-bench-base} (only the
# poolregd target) and kept for later runs; the current tree's client tools drive both daemons.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-build}
# bash's own SECONDS (time since the shell started) is 0 here unless the caller set it: 0 = default.
SECONDS_RUN=${SECONDS:-0}
[ "$SECONDS_RUN" -gt 0 ] 2>/dev/null || SECONDS_RUN=5
ROUNDS=${ROUNDS:-3}
BASE=${BASE:-$(git merge-base HEAD main)}
BASE_DIR=${BASE_DIR:-/tmp/poolreg-bench-base}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then meson setup "$BUILD_DIR" -Doptimization=2 -Ddebug=false >/dev/null; fi
nice -n 5 ninja -C "$BUILD_DIR" dataplane/daemon/poolregd perf/dataplane/poolreg-sctp-synth cli/tools/poolreg-pe \
  >/dev/null
B=$ROOT/$BUILD_DIR

# The baseline poolregd: the tree at BASE, built with the same options (or BASE_POOLREGD, an
# already built poolregd of a commit before the lanes, e.g. a copy of main's build).
if [ -z "${BASE_POOLREGD:-}" ]; then
  if [ ! -d "$BASE_DIR/src" ]; then
    git worktree add --detach "$BASE_DIR/src" "$BASE" >/dev/null 2>&1
  fi
  (cd "$BASE_DIR/src" && git checkout -q --detach "$BASE")
  if [ ! -f "$BASE_DIR/build/build.ninja" ]; then
    meson setup "$BASE_DIR/build" "$BASE_DIR/src" -Doptimization=2 -Ddebug=false >/dev/null
  fi
  nice -n 5 ninja -C "$BASE_DIR/build" dataplane/daemon/poolregd >/dev/null
  BASE_POOLREGD=$BASE_DIR/build/dataplane/daemon/poolregd
fi

WORK=$(mktemp -d /tmp/poolreg-lanes-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ASAP_PORT=${ASAP_PORT:-23863}
UDP_PORT=${UDP_PORT:-29899}
SOCKETS=${SOCKETS:-32}  # UDP sockets of the source: peers the lanes steer (few peers split unevenly)
WINDOW=${WINDOW:-16}    # requests in flight (closed loop: small windows measure latency as much as CPU)

# Sum of utime+stime (clock ticks) of the threads of $1 whose name matches $2 (a grep -E pattern).
thread_ticks() {
  local pid=$1 pattern=$2 sum=0 t name rest
  for t in /proc/"$pid"/task/*; do
    [ -r "$t/stat" ] || continue
    name=$(cat "$t/comm" 2>/dev/null || true)
    echo "$name" | grep -Eq "$pattern" || continue
    rest=$(sed 's/^.*) //' "$t/stat")  # fields after "(comm) "
    set -- $rest
    sum=$((sum + ${12} + ${13}))  # utime, stime (fields 14, 15 of stat)
  done
  echo "$sum"
}

# One measurement: poolregd binary $1 with extra flags $2; prints
# "rate=<answers/s> answers=<n> lane_cpu=<s> daemon_cpu=<s> lanes=<k> steered=<%>".
measure() {
  local daemon_bin=$1 flags=$2 log pid pe synth_out before_lane before_all after_lane after_all answers rate lanes
  local steered=- ctl="$WORK/control.sock"
  log="$WORK/daemon.log"
  # shellcheck disable=SC2086
  "$daemon_bin" --listen 127.0.0.1 --set asap.tcp=false --set enrp.enabled=false --set control.enabled=true \
    --set control.socket_path="$ctl" \
    --set asap.sctp_port=$ASAP_PORT --set asap.udp_encapsulation_port=$UDP_PORT --log-level warn $flags \
    >"$log" 2>&1 </dev/null &
  pid=$!
  sleep 1.5
  timeout 60 "$B/cli/tools/poolreg-pe" -r "127.0.0.1:$ASAP_PORT" --udp-encaps-port "$UDP_PORT" --pool BenchPool \
    --count 10 --duration $((SECONDS_RUN + 20)) -q >/dev/null 2>&1 </dev/null &
  pe=$!
  sleep 1.5
  lanes=$(for t in /proc/"$pid"/task/*; do cat "$t/comm"; done 2>/dev/null | grep -c '^lane' || true)
  before_lane=$(thread_ticks "$pid" '^lane')
  before_all=$(thread_ticks "$pid" '.')
  synth_out=$(timeout 60 "$B/perf/dataplane/poolreg-sctp-synth" --registrar 127.0.0.1 --udp-port "$UDP_PORT" \
    --sctp-port "$ASAP_PORT" --seconds "$SECONDS_RUN" --window "$WINDOW" --sockets "$SOCKETS" 2>&1 || true)
  after_lane=$(thread_ticks "$pid" '^lane')
  after_all=$(thread_ticks "$pid" '.')
  if [ "$lanes" -gt 0 ]; then
    steered=$("$B/cli/poolctl/poolctl" -s "$ctl" --json stats 2>/dev/null | jq -r '[.lanes // .result.lanes
      | .[]] | (map(.sctp_steered_out) | add) as $out | (map(.rx_packets) | add) as $rx
      | if $rx > 0 then ($out * 1000 / $rx | floor) / 10 else "-" end' 2>/dev/null || echo -)
  fi
  kill -TERM "$pe" "$pid" 2>/dev/null || true
  wait "$pe" "$pid" 2>/dev/null || true
  answers=$(echo "$synth_out" | sed -n 's/.*answers=\([0-9]*\).*/\1/p')
  rate=$(echo "$synth_out" | sed -n 's/.*rate=\([0-9]*\).*/\1/p')
  if [ -z "$answers" ] || [ "$answers" = 0 ]; then
    echo "rate=0 answers=0 lane_cpu=0 daemon_cpu=0 lanes=$lanes error=\"$synth_out $(tail -3 "$log")\""
    return
  fi
  local hz
  hz=$(getconf CLK_TCK)
  echo "rate=$rate answers=$answers lane_cpu=$(echo "scale=3; ($after_lane - $before_lane) / $hz" | bc)" \
    "daemon_cpu=$(echo "scale=3; ($after_all - $before_all) / $hz" | bc) lanes=$lanes steered=$steered"
}

field() { echo "$1" | sed -n "s/.*$2=\([0-9.]*\).*/\1/p"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }

echo "cpu: $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg); base ${BASE_POOLREGD}, head $(git rev-parse --short HEAD)"
declare -A RATE LANE_CPU_PER_M LANES_CPU_PER_M DAEMON_CPU_PER_M STEERED
NAMES="base lanes1 lanes2"
# PREV_POOLREGD: also 2 lanes of another lanes build (e.g. main before a steering change).
[ -n "${PREV_POOLREGD:-}" ] && NAMES="$NAMES prev2"
for name in $NAMES; do
  rates=() lane_per_m=() lanes_per_m=() daemon_per_m=() steered=()
  for ((r = 1; r <= ROUNDS; ++r)); do
    case $name in
      base) line=$(measure "$BASE_POOLREGD" "") ;;
      lanes1) line=$(measure "$B/dataplane/daemon/poolregd" "--lanes 1") ;;
      lanes2) line=$(measure "$B/dataplane/daemon/poolregd" "--lanes 2") ;;
      prev2) line=$(measure "$PREV_POOLREGD" "--lanes 2") ;;
    esac
    echo "  $name round $r: $line"
    ans=$(field "$line" answers)
    [ -n "$ans" ] && [ "$ans" != 0 ] || continue
    rates+=("$(field "$line" rate)")
    k=$(field "$line" lanes); [ "$k" -gt 0 ] || k=1
    # CPU-seconds per 10^6 resolutions, per lane (the lane threads' CPU divided by the lane count).
    lane_per_m+=("$(echo "scale=3; $(field "$line" lane_cpu) * 1000000 / $ans / $k" | bc)")
    lanes_per_m+=("$(echo "scale=3; $(field "$line" lane_cpu) * 1000000 / $ans" | bc)")
    daemon_per_m+=("$(echo "scale=3; $(field "$line" daemon_cpu) * 1000000 / $ans" | bc)")
    st=$(field "$line" steered); [ -n "$st" ] && steered+=("$st")
  done
  RATE[$name]=$(printf '%s\n' "${rates[@]:-0}" | median)
  LANE_CPU_PER_M[$name]=$(printf '%s\n' "${lane_per_m[@]:-0}" | median)
  LANES_CPU_PER_M[$name]=$(printf '%s\n' "${lanes_per_m[@]:-0}" | median)
  STEERED[$name]=$( [ ${#steered[@]} -gt 0 ] && printf '%s\n' "${steered[@]}" | median || echo -)
  DAEMON_CPU_PER_M[$name]=$(printf '%s\n' "${daemon_per_m[@]:-0}" | median)
done
echo "== Handle Resolutions/s through poolregd on kernel sockets (median of $ROUNDS, ${SECONDS_RUN}s each) =="
row() { printf '%-38s %10s %16s %16s %16s %12s\n' "$@"; }
row "" "res/s" "lane CPU/10^6/ln" "lanes CPU/10^6" "daemon CPU/10^6" "steered %"
row "previous single-thread path (base)" "${RATE[base]}" "-" "-" "${DAEMON_CPU_PER_M[base]}" "-"
for name in lanes1 lanes2 prev2; do
  [ -n "${RATE[$name]:-}" ] || continue
  case $name in lanes1) label="1 lane" ;; lanes2) label="2 lanes" ;; prev2) label="2 lanes, PREV_POOLREGD" ;; esac
  row "$label" "${RATE[$name]}" "${LANE_CPU_PER_M[$name]}" "${LANES_CPU_PER_M[$name]}" "${DAEMON_CPU_PER_M[$name]}" \
    "${STEERED[$name]}"
done
if [ "${RATE[base]}" != 0 ] && [ "${RATE[lanes1]}" != 0 ]; then
  echo "1 lane / base: $(echo "scale=2; ${RATE[lanes1]} / ${RATE[base]}" | bc)x (goal >= 1.0)"
  echo "2 lanes / 1 lane: $(echo "scale=2; ${RATE[lanes2]} / ${RATE[lanes1]}" | bc)x (goal >= 1.6 where the source has CPUs of its own)"
fi
