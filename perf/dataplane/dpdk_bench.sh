#!/usr/bin/env bash
# DPDK backend benchmarks (needs root for part 2), printed with ratios to the kernel backend:
#  1. poolreg-dpdk-packet-bench: packets/s of the poll-lcore packet path (net_ring ports, 1 and 2
#     lcores, synthetic SCTP/UDP frames carrying ASAP Handle Resolutions from 1024 peers, and the
#     same SCTP packets as native SCTP, IP protocol 132) vs the kernel UDP receive path (see
#     dpdk_packet_bench.cpp for exactly what is timed); native / UDP per lcore.
#  1b. poolreg-dpdk-resolution-bench: Handle Resolutions/s of the poll lanes (real packet path,
#     usrsctp copy per lane, LaneResolver) with 1 and 2 lcores and with software steering, fed by
#     a synthetic SCTP source (pre-built requests from 128 associations per lane, see
#     dpdk_resolution_bench.cpp) on net_ring, over UDP encapsulation and over native SCTP; vs
#     poolreg-sctp-synth (the same source over UDP) against poolregd on kernel sockets.
#  2. Handle resolutions/s end to end: poolreg-pu (client library, usrsctp over UDP) in a network
#     namespace fires REPEAT pipelined resolutions (--interval-ms 0) at
#       a) poolregd --dpdk on net_af_packet bound to a veth whose peer is in the namespace,
#          answering on the poll lcore (registrar.resolve_on_lanes and dpdk.resolve_on_poll_lcore true, the default),
#       a') the same with dpdk.resolve_on_poll_lcore = false (through the rings to AsapServer),
#       b) poolregd on kernel sockets inside the same namespace (over its loopback),
#     3 PEs registered in the pool. net_af_packet costs a syscall per burst (no real NIC here), and
#     the kernel run has no veth hop, so b) is favoured.
#  3. The synthetic source (poolreg-sctp-synth, 128 associations, 16 requests in flight) from the
#     namespace through the veth against poolregd --dpdk with 1 and 2 poll lcores (net_af_packet
#     qpairs=2: the kernel's fanout spreads the flows) and against poolregd on kernel sockets.
#     Every process shares the machine's CPUs, so the poll lcores sleep when idle here
#     (SYNTH_IDLE_SLEEP_US, default 50): busy-polling lanes would starve the source.
#   [IDLE_SLEEP_US=0] [SYNTH_IDLE_SLEEP_US=50] bash perf/dataplane/dpdk_bench.sh [REPEAT]
#   (IDLE_SLEEP_US: dpdk.idle_sleep_us of the part 2 DPDK runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
REPEAT=${1:-5000}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then meson setup "$BUILD_DIR" --buildtype=release >/dev/null; fi
nice -n 5 ninja -C "$BUILD_DIR" dataplane/daemon/poolregd perf/dataplane/poolreg-dpdk-packet-bench \
  perf/dataplane/poolreg-dpdk-resolution-bench perf/dataplane/poolreg-sctp-synth \
  cli/tools/poolreg-pe cli/tools/poolreg-pu >/dev/null
B=$BUILD_DIR

# poolregd on kernel sockets at $2, run through the command prefix $1 ("" or "ip netns exec NS"),
# 10 PEs in BenchPool, then poolreg-sctp-synth against it (16 in flight); prints the source's line.
kernel_synth() {
  local prefix=$1 addr=$2 log daemon pe
  log=$(mktemp /tmp/poolreg-synth-XXXXXX.log)
  $prefix "$B/dataplane/daemon/poolregd" --listen "$addr" --set asap.tcp=false --set enrp.enabled=false \
    --set control.enabled=false --log-level warn >"$log" 2>&1 </dev/null &
  daemon=$!; sleep 1
  $prefix timeout 30 "$B/cli/tools/poolreg-pe" -r "$addr:3863" --pool BenchPool --count 10 --duration 15 -q \
    >/dev/null 2>&1 </dev/null &
  pe=$!; sleep 1.5
  $prefix timeout 30 "$B/perf/dataplane/poolreg-sctp-synth" --registrar "$addr" --seconds 5 --window 16 2>&1 || true
  kill -TERM "$pe" "$daemon" 2>/dev/null || true
  wait "$pe" "$daemon" 2>/dev/null || true
  rm -f "$log"
}
echo "cpu: $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== 1. packet path (packets/s) =="
JSON=$(mktemp /tmp/poolreg-dpdk-bench-XXXXXX.json)
"$B/perf/dataplane/poolreg-dpdk-packet-bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$JSON" --benchmark_out_format=json >/dev/null 2>&1
python3 - "$JSON" <<'PY'
import json, sys
rows = {b["run_name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("aggregate_name") == "median"}
k = rows["BM_KernelUdpReceive/real_time"]["items_per_second"]
print(f"{'benchmark':40s} {'packets/s':>12s} {'per lcore':>12s} {'vs kernel':>10s}")
for name, b in rows.items():
    r = b["items_per_second"]; per = b.get("per_lcore", r)
    print(f"{name:40s} {r:12.0f} {per:12.0f} {r/k:9.2f}x")
for n in (1, 2):
    u = rows.get(f"BM_DpdkPacketPath/lcores:{n}/real_time"); v = rows.get(f"BM_DpdkPacketPathNative/lcores:{n}/real_time")
    if u and v: print(f"native / UDP-encapsulated packets/s per lcore, {n} lcore(s): {v['per_lcore']/u['per_lcore']:.2f}x")
PY
rm -f "$JSON"

echo "== 1b. handle resolutions/s per poll lcore, synthetic SCTP source (pre-built requests, 128 associations per lane) =="
JSON=$(mktemp /tmp/poolreg-dpdk-bench-XXXXXX.json)
"$B/perf/dataplane/poolreg-dpdk-resolution-bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$JSON" --benchmark_out_format=json >/dev/null 2>&1
# The same source over UDP against poolregd on kernel sockets (its usrsctp UDP encapsulation),
# 10 PEs in the pool as in-process; the source runs on the same CPUs, the lanes' source does not.
KERNEL_SYNTH=$(kernel_synth "" 127.0.0.1)
echo "kernel-socket poolregd, same source over UDP loopback: $KERNEL_SYNTH"
python3 - "$JSON" "$KERNEL_SYNTH" <<'PY'
import json, re, sys
rows = {b["run_name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("aggregate_name") == "median"}
m = re.search(r"rate=([0-9.]+)", sys.argv[2]); k = float(m.group(1)) if m else None
print(f"{'benchmark':46s} {'resolutions/s':>14s} {'per lcore':>12s} {'vs kernel':>10s} {'steered':>8s}")
for name, b in rows.items():
    r = b["items_per_second"]; per = b.get("per_lcore", r)
    print(f"{name:46s} {r:14.0f} {per:12.0f} " + (f"{r/k:9.2f}x" if k else "        -") +
          f" {100 * b.get('steered_share', 0):7.1f}%")
old_key = rows.get("BM_PollLaneResolutionsNicRss/key:0/real_time"); new_key = rows.get("BM_PollLaneResolutionsNicRss/key:1/real_time")
if old_key and new_key:
    print(f"RSS with poolregd's key vs the drivers' usual key: {new_key['items_per_second']/old_key['items_per_second']:.2f}x resolutions/s, "
          f"frames handed between lanes {100 * old_key.get('steered_share', 0):.1f}% -> {100 * new_key.get('steered_share', 0):.1f}%")
one = rows.get("BM_PollLaneResolutions/lcores:1/real_time"); two = rows.get("BM_PollLaneResolutions/lcores:2/real_time")
if one and two: print(f"2 lcores / 1 lcore: {two['items_per_second']/one['items_per_second']:.2f}x (on {__import__('os').cpu_count()} CPUs)")
for n in (1, 2):
    u = rows.get(f"BM_PollLaneResolutions/lcores:{n}/real_time"); v = rows.get(f"BM_PollLaneResolutionsNative/lcores:{n}/real_time")
    if u and v: print(f"native / UDP-encapsulated Handle Resolutions/s per lane, {n} lane(s): {v['per_lcore']/u['per_lcore']:.2f}x")
PY
rm -f "$JSON"

echo "== 2. handle resolutions/s, $REPEAT pipelined by one PU =="
if [ "$(id -u)" != 0 ] || ! command -v ethtool >/dev/null; then echo "skipped: needs root and ethtool"; exit 0; fi
NS=prdpdk-bench-$$; OUT=pdbo$$; IN=pdbi$$; WORK=$(mktemp -d /tmp/poolreg-dpdk-bench-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true; ip link del "$OUT" 2>/dev/null || true; rm -rf "$WORK"
  rm -rf "/var/run/dpdk/poolreg-bench-$$"
}
trap cleanup EXIT
ip netns add "$NS"
ip link add "$OUT" type veth peer name "$IN"
ip link set "$IN" netns "$NS"
sysctl -qw "net.ipv6.conf.$OUT.disable_ipv6=1"; ip link set "$OUT" up; ethtool -K "$OUT" tx off rx off >/dev/null
X="ip netns exec $NS"
$X ip addr add 10.96.0.2/24 dev "$IN"; $X ip link set "$IN" up; $X ip link set lo up
$X ethtool -K "$IN" tx off rx off >/dev/null

run_pu() {  # $1 = registrar address; prints resolutions/s
  local start end
  $X timeout 20 "$B/cli/tools/poolreg-pe" -r "$1:3863" --pool BenchPool --count 3 --duration 12 -q >/dev/null 2>&1 &
  PIDS+=($!); sleep 1.5
  start=$(date +%s.%N)
  $X "$B/cli/tools/poolreg-pu" -r "$1:3863" --pool BenchPool --repeat "$REPEAT" --interval-ms 0 --json \
    --timeout-ms 10000 >"$WORK/pu.json" 2>&1 || true
  end=$(date +%s.%N)
  python3 - "$WORK/pu.json" "$start" "$end" "$REPEAT" <<'PY'
import json, sys
res = json.load(open(sys.argv[1])); ok = sum(1 for r in res if r.get("status") == "ok" and len(r.get("pes", [])) == 3)
secs = float(sys.argv[3]) - float(sys.argv[2])
print(f"{ok}/{sys.argv[4]} answered with 3 PEs in {secs:.3f} s: {ok/secs:.0f} resolutions/s")
PY
}

run_dpdk() {  # $1 = dpdk.resolve_on_poll_lcore; prints the PU line, then the poll lcore's latency view
  "$B/dataplane/daemon/poolregd" --dpdk --listen 10.96.0.1 --set asap.tcp=false --set enrp.enabled=false \
    --set control.enabled=false --set dpdk.idle_sleep_us="${IDLE_SLEEP_US:-0}" --set dpdk.resolve_on_poll_lcore="$1" \
    --log-level warn -- -l 0-1 --no-huge -m 256 --no-pci \
    --no-shconf --file-prefix="poolreg-bench-$$" --vdev="net_af_packet0,iface=$OUT" --log-level=lib.eal:error \
    >"$WORK/dpdk.log" 2>&1 &
  PIDS+=($!); sleep 2
  run_pu 10.96.0.1
  python3 - "/var/run/dpdk/poolreg-bench-$$/dpdk_telemetry.v2" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1]); s.recv(1024)
s.send(b"/poolreg/resolution_latency"); h = json.loads(s.recv(65536))["/poolreg/resolution_latency"]
path = "answered on the poll lcore" if sys.argv[2] == "true" else "both ring hops + control lcore"
print(f"       poll-lcore view: {h['count']} resolutions, mean {h['mean_us']} us from request packet to response "
      f"handed to usrsctp ({path})")
PY
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=()
  rm -rf "/var/run/dpdk/poolreg-bench-$$"
}
OUTPUT=$(run_dpdk true); DPDK_LINE=$(head -1 <<<"$OUTPUT")
echo "dpdk, poll lcore answers (idle_sleep_us=${IDLE_SLEEP_US:-0}): $OUTPUT"
OUTPUT=$(run_dpdk false); CONTROL_LINE=$(head -1 <<<"$OUTPUT")
echo "dpdk, control lcore answers:                   $OUTPUT"

$X "$B/dataplane/daemon/poolregd" --listen 10.96.0.2 --set asap.tcp=false --set enrp.enabled=false \
  --set control.enabled=false --log-level warn >"$WORK/kernel.log" 2>&1 &
PIDS+=($!); sleep 1
printf 'kernel (usrsctp UDP, loopback):   '; KERNEL_LINE=$(run_pu 10.96.0.2); echo "$KERNEL_LINE"
python3 - "$DPDK_LINE" "$CONTROL_LINE" "$KERNEL_LINE" <<'PY'
import re, sys
d, c, k = (float(re.search(r"([0-9.]+) resolutions/s", s).group(1)) for s in sys.argv[1:4])
print(f"ratio dpdk poll-lcore answers / control-lcore answers: {d/c:.2f}x")
print(f"ratio dpdk (poll lcore) / kernel: {d/k:.2f}x; dpdk (control lcore) / kernel: {c/k:.2f}x")
PY

for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=()

echo "== 3. handle resolutions/s, synthetic source (128 associations) over the veth: poolregd --dpdk with 1 and 2 poll lcores =="
# 2 lanes: net_af_packet with 2 queue pairs (the kernel fans the source's flows out over them);
# every lcore floats over the CPUs there are. The source runs in the namespace on the same CPUs.
run_dpdk_synth() {  # $1 = poll lcores; prints the synth line
  local lanes=$1 vdev="net_af_packet0,iface=$OUT" cores="-l 0-1" daemon pe
  if [ "$lanes" -gt 1 ]; then vdev="$vdev,qpairs=$lanes"; cores="--lcores=(0-$lanes)@(0-$(( $(nproc) - 1 )))"; fi
  "$B/dataplane/daemon/poolregd" --dpdk --listen 10.96.0.1 --set asap.tcp=false --set enrp.enabled=false \
    --set control.enabled=false --set dpdk.idle_sleep_us="${SYNTH_IDLE_SLEEP_US:-50}" --log-level warn -- $cores --no-huge \
    -m 256 --no-pci --no-shconf --file-prefix="poolreg-bench-$$" --vdev="$vdev" --log-level=lib.eal:error \
    >"$WORK/dpdk-synth.log" 2>&1 </dev/null &
  daemon=$!; sleep 2
  $X timeout 30 "$B/cli/tools/poolreg-pe" -r 10.96.0.1:3863 --pool BenchPool --count 10 --duration 12 -q \
    >/dev/null 2>&1 </dev/null &
  pe=$!; sleep 1.5
  $X timeout 30 "$B/perf/dataplane/poolreg-sctp-synth" --registrar 10.96.0.1 --seconds 5 --window 16 \
    --first-port $((20000 + lanes * 1000)) 2>&1 || true
  kill -TERM "$pe" "$daemon" 2>/dev/null || true
  wait "$pe" "$daemon" 2>/dev/null || true
  rm -rf "/var/run/dpdk/poolreg-bench-$$"
}
SYNTH1=$(run_dpdk_synth 1); echo "dpdk, 1 poll lcore:  $SYNTH1"
SYNTH2=$(run_dpdk_synth 2); echo "dpdk, 2 poll lcores: $SYNTH2"
SYNTHK=$(kernel_synth "$X" 10.96.0.2)
echo "kernel (usrsctp UDP, loopback):  $SYNTHK"
python3 - "$SYNTH1" "$SYNTH2" "$SYNTHK" <<'PY'
import re, sys
def rate(s):
    m = re.search(r"rate=([0-9.]+)", s); return float(m.group(1)) if m else None
one, two, k = (rate(s) for s in sys.argv[1:4])
if one and two: print(f"2 poll lcores / 1 poll lcore: {two/one:.2f}x")
if one and k: print(f"dpdk 1 lcore / kernel: {one/k:.2f}x" + (f"; dpdk 2 lcores / kernel: {two/k:.2f}x" if two else ""))
PY
