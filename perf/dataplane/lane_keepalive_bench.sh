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
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-build}
PES=${PES:-20000}
PE_ASSOCS=${PE_ASSOCS:-16}
THREADS=${THREADS:-4}
MEASURE=${MEASURE:-20}
ROUNDS=${ROUNDS:-2}
PUS=${PUS:-4}
RESOLVE_RATE=${RESOLVE_RATE:-1000}
REGISTER_RATE=${REGISTER_RATE:-10000}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then meson setup "$BUILD_DIR" -Doptimization=2 -Ddebug=false >/dev/null; fi
nice -n 5 ninja -C "$BUILD_DIR" -j2 dataplane/daemon/poolregd perf/poolgen/poolgen cli/poolctl/poolctl >/dev/null
B=$ROOT/$BUILD_DIR
WORK=$(mktemp -d /tmp/poolreg-ka-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
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
