#!/usr/bin/env bash
# End-to-end loopback benchmark: starts poolregd (release build in build/ unless BUILD_DIR is set)
# on random free ports, runs poolreg-e2e-bench load processes against it over usrsctp/UDP and TCP,
# with 1 and 2 client processes, for handle resolutions and registrations, and prints the numbers.
#   bash perf/dataplane/run_e2e.sh [SECONDS] [INFLIGHT]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
SECONDS_PER_RUN=${1:-3}
INFLIGHT=${2:-16}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then meson setup "$BUILD_DIR" --buildtype=release >/dev/null; fi
nice -n 5 ninja -C "$BUILD_DIR" dataplane/daemon/poolregd perf/dataplane/poolreg-e2e-bench >/dev/null
POOLREGD=$BUILD_DIR/dataplane/daemon/poolregd
BENCH=$BUILD_DIR/perf/dataplane/poolreg-e2e-bench

free_port() {  # $1 = tcp|udp
  python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[1]=='tcp' else socket.SOCK_DGRAM); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"
}
ASAP=$(free_port tcp)
UDP=$(free_port udp)
ENRP=$(free_port tcp)
WORK=$(mktemp -d /tmp/poolreg-e2e-XXXXXX)
LOG=$WORK/poolregd.log

"$POOLREGD" --set asap.sctp_port="$ASAP" --set asap.tcp_port="$ASAP" --set asap.udp_encapsulation_port="$UDP" \
  --set enrp.enabled=false --set control.enabled=false --log-level warn >"$LOG" 2>&1 &
DAEMON=$!
cleanup() { kill -TERM "$DAEMON" 2>/dev/null || true; wait "$DAEMON" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
# Ready when the TCP listener accepts.
for _ in $(seq 100); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',int(sys.argv[1])),0.2).close()" "$ASAP" 2>/dev/null; then break; fi
  sleep 0.1
done
echo "poolregd pid $DAEMON: ASAP 127.0.0.1:$ASAP (SCTP over UDP $UDP, TCP), ${SECONDS_PER_RUN}s per run, $INFLIGHT in flight per client"
echo "cpu: $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-9s %8s %14s %12s\n' transport mode clients 'total ops/s' 'mean lat us'
for transport in sctp tcp; do
  for mode in resolve register; do
    for clients in 1 2; do
      pids=()
      for c in $(seq "$clients"); do
        "$BENCH" --transport "$transport" --mode "$mode" --port "$ASAP" --udp "$UDP" --seconds "$SECONDS_PER_RUN" \
          --inflight "$INFLIGHT" --pes 10 >"$WORK/out.$c" 2>&1 &
        pids+=($!)
      done
      for p in "${pids[@]}"; do wait "$p" || true; done
      total=0; lat=0; n=0
      for c in $(seq "$clients"); do
        line=$(grep '^e2e ' "$WORK/out.$c" || true)
        if [ -z "$line" ]; then echo "client $c failed: $(cat "$WORK/out.$c")" >&2; continue; fi
        rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$line")
        mean=$(sed -n 's/.* mean_us=\([0-9.]*\).*/\1/p' <<<"$line")
        total=$(python3 -c "print(round($total+$rate))"); lat=$(python3 -c "print($lat+$mean)"); n=$((n+1))
      done
      [ "$n" -gt 0 ] && lat=$(python3 -c "print(round($lat/$n))")
      printf '%-6s %-9s %8s %14s %12s\n' "$transport" "$mode" "$clients" "$total" "$lat"
    done
  done
done
