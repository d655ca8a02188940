#!/usr/bin/env bash
# ASAP writes through poolregd on kernel sockets (kernel lanes, SCTP over UDP on loopback): the
# CPU-seconds per 10^6 writes of the lane threads and of the control thread (poolregd's main
# thread: AsapServer writes the handlespace there) with 1 and 2 lanes, in one run (issue 16, the
# baseline of item 1: today every write crosses from its lane to the control thread and back).
#
# Load: poolreg-sctp-synth --writes (sctp_synth_client.cpp): ASSOCIATIONS (1024) associations
# from 127.0.0.1, spread over SOCKETS (32) UDP sockets so that the lanes' steering sees 32 peers,
# each association carrying one PE of its own (pools WritePool-0..63) that it registers before
# timing and then re-registers, the associations taking turns in a random order, WINDOW (64)
# writes in flight. poolregd with its defaults (address check on, keep-alives on lanes) except
# asap.keepalive_interval_ms = 300000 (its maximum: no Keep-Alive goes out during the run, the
# source would not answer it), enrp.enabled = false, asap.tcp = false.
# CPU: utime+stime of the threads named lane<i> and of the main thread (/proc/<pid>/task/*/stat)
# between the start and the end of the timed writes; the daemon's whole CPU beside them. Per lane:
# the lane thread's CPU per 10^6 of the ASAP messages that lane read in the same window
# (poolctl stats asap_messages_in: every one a write here), so an uneven steering split shows.
#
#   [SECONDS=5] [ROUNDS=3] [PERF=1] bash perf/dataplane/write_path_bench.sh
# PERF=1: also a perf profile of the control thread during one extra 2-lane run (top symbols).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-build}
SECONDS_RUN=${SECONDS:-0}
[ "$SECONDS_RUN" -gt 0 ] 2>/dev/null || SECONDS_RUN=5
ROUNDS=${ROUNDS:-3}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then meson setup "$BUILD_DIR" -Doptimization=2 -Ddebug=false >/dev/null; fi
nice -n 5 ninja -C "$BUILD_DIR" dataplane/daemon/poolregd perf/dataplane/poolreg-sctp-synth cli/poolctl/poolctl >/dev/null
B=$ROOT/$BUILD_DIR

WORK=$(mktemp -d /tmp/poolreg-write-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ASAP_PORT=${ASAP_PORT:-24863}
UDP_PORT=${UDP_PORT:-30899}
ASSOCIATIONS=${ASSOCIATIONS:-1024}
SOCKETS=${SOCKETS:-32}
WINDOW=${WINDOW:-64}

# One pass over the threads of $1 (utime+stime clock ticks, /proc/<pid>/task/*/stat): prints
# "<lane threads> <main thread> <all threads> <lane0> <lane1>"; main = the thread whose id is the pid.
thread_ticks() {
  local pid=$1 lane=0 main=0 all=0 l0=0 l1=0 t name rest ticks
  for t in /proc/"$pid"/task/*; do
    [ -r "$t/stat" ] || continue
    name=$(cat "$t/comm" 2>/dev/null || true)
    rest=$(sed 's/^.*) //' "$t/stat")  # fields after "(comm) "
    set -- $rest
    ticks=$((${12} + ${13}))  # utime, stime (fields 14, 15 of stat)
    all=$((all + ticks))
    case $name in lane*) lane=$((lane + ticks)) ;; esac
    case $name in lane0) l0=$ticks ;; lane1) l1=$ticks ;; esac
    [ "${t##*/}" = "$pid" ] && main=$ticks
  done
  echo "$lane $main $all $l0 $l1"
}

# The ASAP messages each lane read so far (poolctl stats: asap_messages_in of lane 0 and lane 1).
lane_messages() {
  "$B/cli/poolctl/poolctl" -s "$1" --json stats 2>/dev/null |
    jq -r '[(.lanes // .result.lanes)[] | .asap_messages_in] + [0, 0] | "\(.[0]) \(.[1])"' 2>/dev/null || echo "0 0"
}

# One run with $1 lanes; prints "rate= answers= lane_cpu= control_cpu= daemon_cpu= refused= rejected=".
measure() {
  local lanes=$1 profile=${2:-} log pid synth_out ctl="$WORK/control.sock" hz
  log="$WORK/daemon.log"
  "$B/dataplane/daemon/poolregd" --listen 127.0.0.1 --lanes "$lanes" --set asap.tcp=false --set enrp.enabled=false \
    --set control.enabled=true --set control.socket_path="$ctl" --set asap.keepalive_interval_ms=300000 \
    --set asap.sctp_port=$ASAP_PORT --set asap.udp_encapsulation_port=$UDP_PORT --log-level warn \
    >"$log" 2>&1 </dev/null &
  pid=$!
  sleep 1.5
  # The source registers every PE first (untimed), then sends re-registrations for SECONDS_RUN.
  local b_lane b_ctl b_all a_lane a_ctl a_all b_l0 b_l1 a_l0 a_l1 b_m0 b_m1 a_m0 a_m1 synth_pid perf_pid=""
  "$B/perf/dataplane/poolreg-sctp-synth" --registrar 127.0.0.1 --udp-port "$UDP_PORT" --sctp-port "$ASAP_PORT" \
    --writes --associations "$ASSOCIATIONS" --sockets "$SOCKETS" --window "$WINDOW" --seconds "$SECONDS_RUN" \
    >"$WORK/synth.out" 2>&1 &
  synth_pid=$!
  # Registration of every PE takes well under a second; the ticks start after it.
  sleep 1
  read -r b_lane b_ctl b_all b_l0 b_l1 < <(thread_ticks "$pid")
  read -r b_m0 b_m1 < <(lane_messages "$ctl")
  if [ -n "$profile" ]; then
    perf record -F 999 -g -t "$pid" -o "$profile" -- sleep $((SECONDS_RUN - 2)) >/dev/null 2>&1 &
    perf_pid=$!
  fi
  sleep $((SECONDS_RUN - 1))
  read -r a_lane a_ctl a_all a_l0 a_l1 < <(thread_ticks "$pid")
  read -r a_m0 a_m1 < <(lane_messages "$ctl")
  [ -n "$perf_pid" ] && wait "$perf_pid" 2>/dev/null || true
  wait "$synth_pid" 2>/dev/null || true
  synth_out=$(cat "$WORK/synth.out")
  local rejected
  rejected=$("$B/cli/poolctl/poolctl" -s "$ctl" --json stats 2>/dev/null |
    jq -r '[.. | objects | .registrations_rejected? // empty] | first // "-"' 2>/dev/null || echo -)
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local answers rate seconds
  answers=$(echo "$synth_out" | sed -n 's/.*answers=\([0-9]*\).*/\1/p')
  rate=$(echo "$synth_out" | sed -n 's/.*rate=\([0-9]*\).*/\1/p')
  seconds=$(echo "$synth_out" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
  if [ -z "$answers" ] || [ "$answers" = 0 ]; then
    echo "rate=0 answers=0 error=\"$synth_out $(tail -3 "$log")\""
    return
  fi
  hz=$(getconf CLK_TCK)
  # The ticks cover SECONDS_RUN - 1 s of the timed writes: writes in that window = rate * (SECONDS_RUN - 1).
  local in_window
  in_window=$(echo "$rate * ($SECONDS_RUN - 1)" | bc)
  echo "rate=$rate answers=$answers window_writes=$in_window" \
    "lane_cpu=$(echo "scale=3; ($a_lane - $b_lane) / $hz" | bc)" \
    "control_cpu=$(echo "scale=3; ($a_ctl - $b_ctl) / $hz" | bc)" \
    "daemon_cpu=$(echo "scale=3; ($a_all - $b_all) / $hz" | bc) seconds=$seconds" \
    "refused=$(echo "$synth_out" | sed -n 's/.*refused=\([0-9]*\).*/\1/p') rejected=$rejected" \
    "lane0_cpu=$(echo "scale=3; ($a_l0 - $b_l0) / $hz" | bc) lane0_writes=$((a_m0 - b_m0))" \
    "lane1_cpu=$(echo "scale=3; ($a_l1 - $b_l1) / $hz" | bc) lane1_writes=$((a_m1 - b_m1))"
}

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=\([0-9.]*\).*/\1/p" | head -1; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }

echo "cpu: $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg); head $(git rev-parse --short HEAD)"
declare -A RATE LANES_PER_M CONTROL_PER_M DAEMON_PER_M LANE0_PER_M LANE1_PER_M
# CPU-seconds per 10^6 of the lane's own writes (its ASAP messages read in the window); - without.
per_own() { if [ "${2:-0}" -gt 0 ] 2>/dev/null; then echo "scale=3; $1 * 1000000 / $2" | bc; fi; }
# Values of one figure, per lane count, space-separated (rounds alternate 1 and 2 lanes, so that a
# change of the machine's load during the run hits both alike).
declare -A V
add() { V[$1,$2]="${V[$1,$2]:-} $3"; }
med() { local v=${V[$1,$2]:-}; if [ -n "$v" ]; then printf '%s\n' $v | median; else echo "${3:-0}"; fi; }
for ((r = 1; r <= ROUNDS; ++r)); do
  for lanes in 1 2; do
    line=$(measure "$lanes")
    echo "  lanes=$lanes round $r: $line"
    # Writes in the CPU window: what the lanes read (poolctl), else the source's rate times the window.
    m0=$(field "$line" lane0_writes) m1=$(field "$line" lane1_writes)
    w=$((${m0:-0} + ${m1:-0}))
    [ "$w" -gt 0 ] || w=$(field "$line" window_writes)
    [ -n "$w" ] && [ "${w%.*}" != 0 ] && [ -n "$(field "$line" lane_cpu)" ] || continue
    add rate "$lanes" "$(field "$line" rate)"
    add lanes "$lanes" "$(echo "scale=3; $(field "$line" lane_cpu) * 1000000 / $w" | bc)"
    add control "$lanes" "$(echo "scale=3; $(field "$line" control_cpu) * 1000000 / $w" | bc)"
    add daemon "$lanes" "$(echo "scale=3; $(field "$line" daemon_cpu) * 1000000 / $w" | bc)"
    v=$(per_own "$(field "$line" lane0_cpu)" "$m0"); [ -n "$v" ] && add lane0 "$lanes" "$v"
    v=$(per_own "$(field "$line" lane1_cpu)" "$m1"); [ -n "$v" ] && add lane1 "$lanes" "$v"
  done
done
for lanes in 1 2; do
  RATE[$lanes]=$(med rate "$lanes")
  LANES_PER_M[$lanes]=$(med lanes "$lanes")
  CONTROL_PER_M[$lanes]=$(med control "$lanes")
  DAEMON_PER_M[$lanes]=$(med daemon "$lanes")
  LANE0_PER_M[$lanes]=$(med lane0 "$lanes" -)
  LANE1_PER_M[$lanes]=$(med lane1 "$lanes" -)
done
echo "== ASAP re-registrations through poolregd on kernel lanes (median of $ROUNDS, ${SECONDS_RUN}s each) =="
row() { printf '%-10s %9s %17s %17s %17s %17s %17s\n' "$@"; }
row "" "writes/s" "lanes CPU-s/10^6" "lane0 /10^6 own" "lane1 /10^6 own" "control /10^6" "daemon /10^6"
for lanes in 1 2; do
  row "$lanes lane(s)" "${RATE[$lanes]}" "${LANES_PER_M[$lanes]}" "${LANE0_PER_M[$lanes]}" "${LANE1_PER_M[$lanes]}" \
    "${CONTROL_PER_M[$lanes]}" "${DAEMON_PER_M[$lanes]}"
done
if [ "${RATE[1]}" != 0 ]; then
  echo "2 lanes / 1 lane: writes/s $(echo "scale=2; ${RATE[2]} / ${RATE[1]}" | bc)x," \
    "lanes CPU per write $(echo "scale=2; ${LANES_PER_M[2]} / ${LANES_PER_M[1]}" | bc)x," \
    "control CPU per write $(echo "scale=2; ${CONTROL_PER_M[2]} / ${CONTROL_PER_M[1]}" | bc)x"
fi
if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
  echo "== perf: poolregd's threads, 2 lanes (self time, top symbols of the control thread) =="
  line=$(measure 2 "$WORK/perf.data")
  echo "  $line"
  perf report -i "$WORK/perf.data" --comm "$(basename "$B/dataplane/daemon/poolregd")" --no-children \
    --percentage relative --sort sym -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -25 | cut -c1-150
fi
echo "left out: one source host (127.0.0.1; the source competes with poolregd for the CPUs), SCTP over UDP"
echo "on loopback, re-registrations only (no deregistrations), no ENRP peers (no Handle Updates sent), no"
echo "Keep-Alives sent (interval 300 s), steering by 32 source UDP ports (the lanes' shares may be uneven)."
