#!/usr/bin/env bash
# Endpoint keep-alives on the lanes (issue 16 item 2, asap.keepalive_on_lanes) against the control
# thread (the switch off), one run, same tree: poolregd on kernel sockets with 2 lanes, PES PEs
# registered by poolgen over PE_ASSOCS associations from THREADS generator threads (each its own
# UDP socket, so the associations spread over the lanes as steering puts them), keep-alives at the
# RFC interval (5 s, timeout 5 s), PUS PUs resolving at RESOLVE_RATE/s. Per mode and round:
#   control  CPU-seconds per second of the control thread (the daemon's main thread) while the load
#            runs after the ramp-up (registrations done): the figure the switch moves
#   lanes    CPU-seconds per second of the lane threads over the same window
#   ka/s     Keep-Alives the PEs answered per second (poolgen's count over the whole run)
#   res p99  poolgen's resolution p99 over the whole run (ramp-up included), ms
# plus, from `poolctl stats` at the end, where the Keep-Alives were sent (lane keepalives_sent per
# lane, the control thread's asap keepalives_sent).
# What the figures leave out: the generator runs on the same (2-core) machine and competes with the
# daemon for CPU; one daemon process per mode; PEs register over a few shared associations (not one
# association per PE as real PEs do); no ENRP; 100 ms sampling granularity of /proc.
#
#   [PES=20000] [PE_ASSOCS=16] [THREADS=4] [MEASURE=20] [ROUNDS=2] [PUS=4] [RESOLVE_RATE=1000] \
#     bash perf/dataplane/lane_keepalive_bench.sh
#
# ACCEPT=1: issue 16's acceptance run instead (keep-alives on the lanes only): for each count in
# ACCEPT_PES (default 1000000; e.g. "1000000 600000 400000" to find the largest one sustained),
# one daemon, the PEs registered (ramp), then a window of MEASURE s (default 60) in which a second
# poolgen (1 thread, PUs only, its own association) resolves at RESOLVE_RATE/s, so its p50/p99 are
# the window's alone. Per count, from `poolctl stats` at the window's start and end: Keep-Alives
# sent and Acks consumed per second by the lanes (target PES/5 each), Acks forwarded to the control
# thread, timeouts, PEs removed by keep-alive timeout (all false removals: poolgen's PEs never die,
# its keep-alives ignored must stay 0), PEs still registered; registrar CPU-s/s (process, control
# thread, lanes), poolgen's CPU-s/s, the load average; with PERF_SECONDS > 0 (default 10) the
# registrar's hottest symbols (perf record -F 499 in the window's middle). "sustained": sent and
# consumed >= 95 % of PES/5, no timeout, no removal, every resolution answered.
# ACCEPT_BATCH="true false" runs each count with asap.keepalive_batch on and off (one send per
# association and tick vs one per Keep-Alive) and prints lane packets (in and out) and lane
# CPU-microseconds per Keep-Alive sent in the window for each.
#   ACCEPT=1 [ACCEPT_PES=1000000] [ACCEPT_BATCH=true] [MEASURE=60] [REGISTER_RATE=50000] [PE_ASSOCS=16] [THREADS=4] \
#     [PUS=4] [RESOLVE_RATE=1000] [PERF_SECONDS=10] bash perf/dataplane/lane_keepalive_bench.sh
# Bounded: each count takes its ramp (PES/REGISTER_RATE + 6 s) + MEASURE + ~10 s; poolgen runs under
# timeout(1) and skips the deregistration (--no-cleanup: the daemon is stopped anyway).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-build}
PES=${PES:-20000}
PE_ASSOCS=${PE_ASSOCS:-16}
THREADS=${THREADS:-4}
MEASURE_SET=${MEASURE:-}
MEASURE=${MEASURE:-20}
ROUNDS=${ROUNDS:-2}
PUS=${PUS:-4}
RESOLVE_RATE=${RESOLVE_RATE:-1000}
REGISTER_RATE_SET=${REGISTER_RATE:-}
REGISTER_RATE=${REGISTER_RATE:-10000}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then meson setup "$BUILD_DIR" -Doptimization=2 -Ddebug=false >/dev/null; fi
nice -n 5 ninja -C "$BUILD_DIR" -j2 dataplane/daemon/poolregd perf/poolgen/poolgen cli/poolctl/poolctl >/dev/null
B=$ROOT/$BUILD_DIR
WORK=$(mktemp -d /tmp/poolreg-ka-bench-XXXXXX)
STARTED=()  # processes this script started, stopped on any exit
cleanup() { local p; for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
ASAP_PORT=${ASAP_PORT:-24863}
UDP_PORT=${UDP_PORT:-24899}
HZ=$(getconf CLK_TCK)

# utime+stime (clock ticks) of thread $2 of process $1 ("main" = the process's own thread, else a
# grep -E pattern on the thread names, summed).
ticks() {
  local pid=$1 which=$2 sum=0 t name rest
  for t in /proc/"$pid"/task/*; do
    [ -r "$t/stat" ] || continue
    if [ "$which" = main ]; then
      [ "$(basename "$t")" = "$pid" ] || continue
    else
      name=$(cat "$t/comm" 2>/dev/null || true)
      echo "$name" | grep -Eq "$which" || continue
    fi
    rest=$(sed 's/^.*) //' "$t/stat")
    set -- $rest
    sum=$((sum + ${12} + ${13}))
  done
  echo "$sum"
}

measure() {  # $1 = true | false (asap.keepalive_on_lanes)
  local on=$1 ctl="$WORK/control.sock" pid gen c0 c1 l0 l1 ramp report="$WORK/report.json"
  "$B/dataplane/daemon/poolregd" --listen 127.0.0.1 --lanes 2 --set asap.tcp=false --set enrp.enabled=false \
    --set control.enabled=true --set control.socket_path="$ctl" --set asap.sctp_port=$ASAP_PORT \
    --set asap.udp_encapsulation_port=$UDP_PORT --set asap.address_check=false \
    --set limits.max_pes_per_association=0 --set limits.max_pes_per_address=0 \
    --set asap.keepalive_interval_ms=5000 --set asap.keepalive_timeout_ms=5000 \
    --set asap.keepalive_on_lanes="$on" --log-level warn >"$WORK/daemon.log" 2>&1 </dev/null &
  pid=$!
  sleep 1.5
  ramp=$(( (PES + REGISTER_RATE - 1) / REGISTER_RATE + 6 ))  # registrations, then one keep-alive round
  timeout $((ramp + MEASURE + 60)) "$B/perf/poolgen/poolgen" -r "127.0.0.1:$ASAP_PORT/$UDP_PORT" -n "$PES" -p 100 \
    --pe-assocs "$PE_ASSOCS" --threads "$THREADS" --register-rate "$REGISTER_RATE" --pus "$PUS" \
    --resolve-rate "$RESOLVE_RATE" --items 3 -d $((ramp + MEASURE)) --address-mode spread --progress off \
    --report "$report" >"$WORK/poolgen.log" 2>&1 </dev/null &
  gen=$!
  sleep "$ramp"
  c0=$(ticks "$pid" main); l0=$(ticks "$pid" '^lane')
  sleep "$MEASURE"
  c1=$(ticks "$pid" main); l1=$(ticks "$pid" '^lane')
  wait "$gen" || true
  local stats
  stats=$("$B/cli/poolctl/poolctl" -s "$ctl" --json stats 2>/dev/null || echo '{}')
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local ka p99 lanes_ka ctl_ka
  ka=$(jq -r '.achieved.keepalives_answered_per_s // 0' "$report" 2>/dev/null || echo 0)
  p99=$(jq -r '.latency.resolution.p99_ms // 0' "$report" 2>/dev/null || echo 0)
  lanes_ka=$(echo "$stats" | jq -r '[(.lanes // .result.lanes) | .[] | .keepalives_sent] | map(tostring) | join("/")' \
    2>/dev/null || echo -)
  ctl_ka=$(echo "$stats" | jq -r '(.asap // .result.asap).keepalives_sent' 2>/dev/null || echo -)
  # No PE may be removed falsely: every PE answers (keep-alive timeouts at the registrar must stay 0).
  local timeouts errors
  timeouts=$(echo "$stats" | jq -r '(.asap // .result.asap).keepalive_timeouts' 2>/dev/null || echo -)
  errors=$(jq -r '[.errors // {} | .. | numbers] | add // 0' "$report" 2>/dev/null || echo -)
  echo "control=$(echo "scale=4; ($c1 - $c0) / $HZ / $MEASURE" | bc) lanes=$(echo "scale=4; ($l1 - $l0) / $HZ / $MEASURE" | bc)" \
    "ka_per_s=$ka res_p99_ms=$p99 lane_keepalives_sent=$lanes_ka control_keepalives_sent=$ctl_ka" \
    "keepalive_timeouts=$timeouts poolgen_errors=$errors"
}


# ---- ACCEPT=1: the acceptance run ----
lane_sum() { echo "$1" | jq -r "[(.lanes // .result.lanes) | .[] | .$2] | add // 0" 2>/dev/null || echo 0; }
asap_of() { echo "$1" | jq -r "(.asap // .result.asap).$2 // 0" 2>/dev/null || echo 0; }
rate() { echo "scale=0; ($2 - $1) / $MEASURE_S" | bc; }
accept_one() {  # $1 = PEs, $2 = asap.keepalive_batch
  local pes=$1 batch=$2 ctl="$WORK/control.sock" pid gen gp pu ramp s0 s1 c0 c1 l0 l1 p0 p1 g0 g1
  local report="$WORK/report.json" pu_report="$WORK/pu-report.json"
  "$B/dataplane/daemon/poolregd" --listen 127.0.0.1 --lanes 2 --set asap.tcp=false --set enrp.enabled=false \
    --set control.enabled=true --set control.socket_path="$ctl" --set asap.sctp_port=$ASAP_PORT \
    --set asap.udp_encapsulation_port=$UDP_PORT --set asap.address_check=false \
    --set limits.max_pes_per_association=0 --set limits.max_pes_per_address=0 \
    --set asap.keepalive_interval_ms=5000 --set asap.keepalive_timeout_ms=5000 \
    --set asap.keepalive_on_lanes=true --set asap.keepalive_batch="$batch" --log-level warn \
    >"$WORK/daemon.log" 2>&1 </dev/null &
  pid=$!
  STARTED+=("$pid")
  sleep 1.5
  ramp=$(( (pes + REGISTER_RATE - 1) / REGISTER_RATE + 6 ))  # registrations, then one keep-alive round
  # A slow registrar is not a dead one: poolgen must not abort an association whose requests time
  # out under load (its failover re-registers the PEs elsewhere: rebinds, not keep-alive load).
  printf '[run]\nsilent_association_s = 0\n' >"$WORK/accept.toml"
  timeout $((ramp + MEASURE + 30)) "$B/perf/poolgen/poolgen" -s "$WORK/accept.toml" \
    -r "127.0.0.1:$ASAP_PORT/$UDP_PORT" -n "$pes" -p 100 \
    --pe-assocs "$PE_ASSOCS" --threads "$THREADS" --register-rate "$REGISTER_RATE" --pus 0 --probes 0 \
    -d $((ramp + MEASURE + 2)) --address-mode spread --progress off --no-cleanup \
    --report "$report" >"$WORK/poolgen.log" 2>&1 </dev/null &
  gen=$!
  STARTED+=("$gen")
  sleep "$ramp"
  kill -0 "$pid" 2>/dev/null || { echo "  PES=$pes: poolregd ended early:"; tail -n 5 "$WORK/daemon.log"; return; }
  s0=$("$B/cli/poolctl/poolctl" -s "$ctl" --json stats 2>/dev/null || echo '{}')
  gp=$(pgrep -P "$gen" | head -n 1 || true)  # poolgen itself, under timeout(1)
  c0=$(ticks "$pid" main); l0=$(ticks "$pid" '^lane'); p0=$(ticks_all "$pid"); g0=$(ticks "${gp:-$gen}" '.')
  timeout $((MEASURE + 20)) "$B/perf/poolgen/poolgen" -r "127.0.0.1:$ASAP_PORT/$UDP_PORT" -n 0 -p 100 --probes 0 \
    --pus "$PUS" --resolve-rate "$RESOLVE_RATE" --items 3 -d "$MEASURE" --progress off \
    --report "$pu_report" >"$WORK/pu.log" 2>&1 </dev/null &
  pu=$!
  STARTED+=("$pu")
  local hot="" t0 t1 perfp=""
  t0=$(date +%s.%N)
  if [ "${PERF_SECONDS:-10}" -gt 0 ] && command -v perf >/dev/null; then
    # In the window's middle; reported after the window (perf report takes seconds of CPU).
    (sleep $(( (MEASURE - PERF_SECONDS) / 2 ))
     perf record -F 499 -p "$pid" -o "$WORK/perf.data" -- sleep "$PERF_SECONDS" >/dev/null 2>&1 || true) &
    perfp=$!
    STARTED+=("$perfp")
  fi
  sleep "$MEASURE"
  s1=$("$B/cli/poolctl/poolctl" -s "$ctl" --json stats 2>/dev/null || echo '{}')
  t1=$(date +%s.%N)
  c1=$(ticks "$pid" main); l1=$(ticks "$pid" '^lane'); p1=$(ticks_all "$pid"); g1=$(ticks "${gp:-$gen}" '.')
  local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
  MEASURE_S=$(echo "$t1 - $t0" | bc)  # the window as it ran (rates are per second of it)
  wait "$pu" || true
  kill -TERM "$gen" 2>/dev/null || true
  wait "$gen" || true
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -n "$perfp" ]; then
    wait "$perfp" 2>/dev/null || true
    hot=$(perf report -i "$WORK/perf.data" --no-children --sort comm,symbol --stdio 2>/dev/null |
      grep -E '^ +[0-9]' | head -n "${PERF_TOP:-15}" | sed -e 's/^ */    /' -e 's/[ -]*$//' || true)
  fi
  local sent acked fwd lane_to ctl_to removed pes_now ka_ctl target ignored answered res p50 p99 res_to
  sent=$(rate "$(lane_sum "$s0" keepalives_sent)" "$(lane_sum "$s1" keepalives_sent)")
  acked=$(rate "$(lane_sum "$s0" keepalive_acks)" "$(lane_sum "$s1" keepalive_acks)")
  fwd=$(( $(lane_sum "$s1" keepalive_acks_forwarded) - $(lane_sum "$s0" keepalive_acks_forwarded) ))
  lane_to=$(lane_sum "$s1" keepalive_timeouts)
  ctl_to=$(asap_of "$s1" keepalive_timeouts)
  removed=$(asap_of "$s1" removed_by_keepalive_timeout)
  ka_ctl=$(( $(asap_of "$s1" keepalives_sent) - $(asap_of "$s0" keepalives_sent) ))
  pes_now=$(echo "$s1" | jq -r '(.handlespace // .result.handlespace).pes // 0' 2>/dev/null || echo 0)
  target=$((pes / 5))
  ignored=$(jq -r '[.. | objects | to_entries[] | select(.key | test("keepalive.*ignored")) | .value | numbers] | add // 0' \
    "$report" 2>/dev/null || echo -)
  answered=$(jq -r '.achieved.keepalives_answered_per_s // 0' "$report" 2>/dev/null || echo 0)
  res=$(jq -r '.achieved.resolutions_per_s // .achieved.resolution_per_s // 0' "$pu_report" 2>/dev/null || echo 0)
  p50=$(jq -r '.latency.resolution.p50_ms // 0' "$pu_report" 2>/dev/null || echo 0)
  p99=$(jq -r '.latency.resolution.p99_ms // 0' "$pu_report" 2>/dev/null || echo 0)
  # The PU poolgen's errors about resolutions (its idle PE associations, carrying no PE, may be closed
  # by the registrar's idle timeout: not a resolution failure).
  res_to=$(jq -c '.errors // {} | with_entries(select(.key | test("resol")))' "$pu_report" 2>/dev/null || echo -)
  local ok=yes
  [ $((sent * 100)) -ge $((target * 95)) ] && [ $((acked * 100)) -ge $((target * 95)) ] || ok=no
  [ "$lane_to" = 0 ] && [ "$ctl_to" = 0 ] && [ "$removed" = 0 ] && [ "$pes_now" = "$pes" ] || ok=no
  [ "$res_to" = '{}' ] || ok=no
  local ka_n txp rxp batches lane_cpu
  ka_n=$(( $(lane_sum "$s1" keepalives_sent) - $(lane_sum "$s0" keepalives_sent) ))
  txp=$(( $(lane_sum "$s1" tx_packets) - $(lane_sum "$s0" tx_packets) ))
  rxp=$(( $(lane_sum "$s1" rx_packets) - $(lane_sum "$s0" rx_packets) ))
  batches=$(( $(lane_sum "$s1" keepalive_batches) - $(lane_sum "$s0" keepalive_batches) ))
  lane_cpu=$(( l1 - l0 ))
  echo "  PES=$pes asap.keepalive_batch=$batch: sustained=$ok registered=$pes_now/$pes"
  echo "    per keep-alive sent in the window: lane packets out=$(echo "scale=3; $txp / ($ka_n + 1)" | bc)" \
    "in=$(echo "scale=3; $rxp / ($ka_n + 1)" | bc), lane CPU us=$(echo "scale=2; $lane_cpu * 1000000 / $HZ / ($ka_n + 1)" | bc);" \
    "batches=$batches (mean $(echo "scale=1; $ka_n / ($batches + 1)" | bc) Keep-Alives)"
  echo "    keep-alives/s sent=$sent acks consumed/s=$acked (target $target each); acks forwarded to the control" \
    "thread=$fwd; control thread's own keep-alives=$ka_ctl; poolgen answered/s (whole run)=$answered ignored=$ignored"
  echo "    timeouts: lanes=$lane_to control=$ctl_to; PEs removed by keep-alive timeout (false removals)=$removed"
  echo "    resolutions (window, 1-thread PU poolgen): $res/s p50=${p50} ms p99=${p99} ms errors=$res_to"
  echo "    registrar CPU-s/s: process=$(echo "scale=3; ($p1 - $p0) / $HZ / $MEASURE_S" | bc)" \
    "control=$(echo "scale=3; ($c1 - $c0) / $HZ / $MEASURE_S" | bc) lanes=$(echo "scale=3; ($l1 - $l0) / $HZ / $MEASURE_S" | bc);" \
    "PE poolgen CPU-s/s=$(echo "scale=3; ($g1 - $g0) / $HZ / $MEASURE_S" | bc); window ${MEASURE_S}s; load average $load"
  echo "    lanes: $(echo "$s1" | jq -r '[(.lanes // .result.lanes) | .[] | "lane \(.lane): watched=\(.keepalive_watched) sent=\(.keepalives_sent) acks=\(.keepalive_acks) rx_packets=\(.rx_packets) tx_packets=\(.tx_packets) send_failures=\(.keepalive_send_failures)"] | join("; ")' 2>/dev/null)"
  if [ -n "$hot" ]; then echo "    registrar hottest symbols (perf, ${PERF_SECONDS}s of the window):"; echo "$hot"; fi
}
# utime+stime (clock ticks) of every thread of process $1.
ticks_all() { local rest; rest=$(sed 's/^.*) //' /proc/"$1"/stat 2>/dev/null) || { echo 0; return; }; set -- $rest; echo $((${12} + ${13})); }
if [ "${ACCEPT:-0}" = 1 ]; then
  MEASURE=${MEASURE_SET:-60}
  REGISTER_RATE=${REGISTER_RATE_SET:-50000}
  echo "cpu: $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg); head $(git rev-parse --short HEAD);" \
    "acceptance: PE_ASSOCS=$PE_ASSOCS THREADS=$THREADS MEASURE=${MEASURE}s REGISTER_RATE=$REGISTER_RATE" \
    "PUS=$PUS RESOLVE_RATE=$RESOLVE_RATE"
  for n in ${ACCEPT_PES:-1000000}; do
    for batch in ${ACCEPT_BATCH:-true}; do accept_one "$n" "$batch"; done
  done
  exit 0
fi

field() { echo "$1" | sed -n "s/.*$2=\([0-9.]*\).*/\1/p"; }
echo "cpu: $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg); head $(git rev-parse --short HEAD);" \
  "PES=$PES PE_ASSOCS=$PE_ASSOCS THREADS=$THREADS MEASURE=${MEASURE}s"
declare -A CTL P99
for r in $(seq 1 "$ROUNDS"); do
  for on in true false; do
    line=$(measure "$on")
    echo "  keepalive_on_lanes=$on round $r: $line"
    CTL[$on]="${CTL[$on]:-} $(field "$line" control)"
    P99[$on]="${P99[$on]:-} $(field "$line" res_p99_ms)"
  done
done
avg() { echo "$@" | tr ' ' '\n' | awk 'NF {s += $1; n++} END {printf "%.4f", n ? s / n : 0}'; }
on_ctl=$(avg ${CTL[true]}); off_ctl=$(avg ${CTL[false]})
on_p99=$(avg ${P99[true]}); off_p99=$(avg ${P99[false]})
echo "control thread CPU-s/s: on lanes $on_ctl, on the control thread $off_ctl," \
  "ratio on/off $(echo "scale=3; $on_ctl / ($off_ctl + 0.00001)" | bc)"
echo "resolution p99 ms: on lanes $on_p99, on the control thread $off_p99," \
  "ratio on/off $(echo "scale=3; $on_p99 / ($off_p99 + 0.00001)" | bc)"
