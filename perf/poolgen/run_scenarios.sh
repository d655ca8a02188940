#!/usr/bin/env bash
# Runs poolgen scenarios against freshly started poolregd processes on 127.0.0.1 and regenerates
# perf/poolgen/results.md with the figures (per scenario: results/NAME.json report,
# results/NAME.timeseries.jsonl (one line per second), results/NAME-{latency,rate,spectrum}.png
# (poolgen-plot, with Debian's /usr/bin/python3 and python3-matplotlib), results/NAME.md section
# embedding the plots; results.md = every scenario's latest section).
#
#   perf/poolgen/run_scenarios.sh [smoke] [resolve-storm] [mobility] [mobility-1M] [cluster-3] [assoc-per-pe]
#   (default: smoke resolve-storm mobility cluster-3; "mobility" is the reduced run of
#   mobility-1M.toml with MOBILITY_PES PEs, "mobility-1M" the full 10^6 one; "assoc-per-pe" one
#   association per PE over two generator lanes, no timeseries: only the spectrum plot)
#
# Environment: POOLREGD, POOLGEN (binaries; default build-poolgen, then build), MOBILITY_PES
# (default 100000: the reduced run of mobility-1M.toml; 1000000 for the full one), MOBILITY_DURATION
# (default 120 s), MOBILITY_1M_DURATION (default 200 s; the ramp-up alone takes 100 s), KILL_AT (cluster-3: seconds until one registrar is killed, default 12).
# Registrars listen on random free ports (never the example ports, so a registrar someone else runs
# on 3863 is not disturbed); poolgen's -r flags override the scenario files' registrar lists.
# Every registrar runs with --set asap.address_check=false because the scenarios use
# address_mode "spread" (random 127.0.0.0/8 PE addresses; see scenarios/smoke.toml), and with the
# per-client PE quotas off: poolgen multiplexes up to 10^6 PEs over a few associations from one
# address, far past limits.max_pes_per_association / max_pes_per_address (config/README.md).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
pick() { for b in "$@"; do [ -x "$b" ] && { echo "$b"; return; }; done; echo ""; }
POOLREGD="${POOLREGD:-$(pick "$top/build-poolgen/dataplane/daemon/poolregd" "$top/build/dataplane/daemon/poolregd")}"
POOLGEN="${POOLGEN:-$(pick "$top/build-poolgen/perf/poolgen/poolgen" "$top/build/perf/poolgen/poolgen")}"
MOBILITY_PES="${MOBILITY_PES:-100000}"
MOBILITY_DURATION="${MOBILITY_DURATION:-120}"
MOBILITY_1M_DURATION="${MOBILITY_1M_DURATION:-200}"
KILL_AT="${KILL_AT:-12}"
[ -x "$POOLREGD" ] && [ -x "$POOLGEN" ] || { echo "build poolregd and poolgen first (POOLREGD/POOLGEN)"; exit 1; }
scenarios=("$@")
[ ${#scenarios[@]} -eq 0 ] && scenarios=(smoke resolve-storm mobility cluster-3)
work="$(mktemp -d /tmp/poolgen-run-XXXXXX)"
mkdir -p "$here/results"
pids=()

free_port() {  # a port free for both TCP and UDP on 127.0.0.1
  python3 - <<'PY'
import socket, random
while True:
    p = random.randint(20000, 60000)
    try:
        t = socket.socket(); t.bind(("127.0.0.1", p)); u = socket.socket(type=socket.SOCK_DGRAM); u.bind(("127.0.0.1", p))
        t.close(); u.close(); print(p); break
    except OSError:
        pass
PY
}

# start_pr NAME ASAP UDP ENRP [extra poolregd args...]; waits for "listening:".
start_pr() {
  local name=$1 asap=$2 udp=$3 enrp=$4; shift 4
  "$POOLREGD" --set 'asap.listen=["127.0.0.1"]' --set asap.sctp_port=$asap --set asap.tcp_port=$asap \
    --set asap.udp_encapsulation_port=$udp --set enrp.sctp_port=$enrp \
    --set "control.socket_path=\"$work/$name.sock\"" --set asap.address_check=false \
    --set limits.max_pes_per_association=0 --set limits.max_pes_per_address=0 "$@" \
    > "$work/$name.log" 2>&1 &
  local pid=$!
  pids+=($pid)
  eval "pid_$name=$pid"
  for _ in $(seq 100); do grep -q "listening:" "$work/$name.log" && return 0; sleep 0.1; done
  echo "poolregd $name did not start:"; cat "$work/$name.log"; return 1
}
stop_all() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  pids=()
}
trap stop_all EXIT

summary() {  # summary NAME JSON: one markdown block of figures from the report
  python3 - "$1" "$2" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
try:
    j = json.load(open(path))
except Exception as e:
    print(f"(no report: {e})"); sys.exit()
c, a, l, m, g = j["counts"], j["achieved"], j["latency"], j["memory"], j["gauges"]
cfg = j["config"]
def lat(k):
    h = l[k]
    if h["count"] == 0: return f"| {k} | 0 | – | – | – | – |"
    return f"| {k} | {h['count']} | {h['p50_ms']:.3f} | {h['p90_ms']:.3f} | {h['p99_ms']:.3f} | {h['p999_ms']:.3f} |"
print(f"size run: {cfg['pe_count']} PEs (+{cfg['probes']} probes) in {cfg['pool_count']} pools, {cfg['pu_count']} PUs, "
      f"{len(cfg['registrars'])} registrar(s), {cfg['transport']}, load phase {j['elapsed_s']:.1f} s, "
      f"ramp-up {j['ramp_s']:.1f} s (0 = not finished), peak registered {g['peak_pes_registered']}")
print()
print(f"achieved: registrations {a['registrations_per_s']:.0f}/s (target {cfg['register_rate']:.0f}), "
      f"moves {a['reregistrations_per_s']:.0f}/s, resolutions {a['resolutions_per_s']:.0f}/s "
      f"(target {cfg['resolve_rate']:.0f}), keep-alive acks {a['keepalives_answered_per_s']:.0f}/s")
print()
print("| latency (ms) | n | p50 | p90 | p99 | p99.9 |\n|---|---|---|---|---|---|")
for k in ["registration", "reregistration", "deregistration", "resolution", "resolution_raw", "move_to_visible"]:
    if k in l: print(lat(k))
print()
print("resolution is measured from the intended send time (coordinated omission corrected), "
      "resolution_raw from the real send.")
print()
keys = ["registrations_sent","registrations_ok","registrations_failed","registrations_timeout","reregistrations_ok",
        "reregistrations_timeout","deregistrations_ok","failovers","pes_died","keepalives_answered","keepalives_ignored",
        "resolutions_ok","resolutions_unknown_pool","resolutions_timeout","resolutions_skipped","unreachable_reports",
        "probe_visible","probe_gave_up","connections_lost"]
print("counts: " + ", ".join(f"{k} {c[k]}" for k in keys))
print()
pa = j.get("pe_associations")
if pa and cfg.get("assoc_per_pe"):
    print(f"PE associations ({pa['lanes']} lane(s), one per PE): attempted {pa['attempted']}, up {pa['up']}, "
          f"failed {pa['failed']}, set-up {pa['setup_rate_per_s']:.0f}/s over {pa['setup_s']:.1f} s; VmRSS "
          f"{m['vmrss_before_setup_bytes']/1e6:.1f} -> {m['vmrss_after_setup_bytes']/1e6:.1f} MB: "
          f"{m['vmrss_bytes_per_pe']:.0f} B per simulated PE, {m['vmrss_bytes_per_association']:.0f} B per "
          f"association (usrsctp included)")
    print()
print(f"memory: RSS start {m['rss_start_bytes']/1e6:.1f} MB, loaded {m['rss_loaded_bytes']/1e6:.1f} MB, "
      f"peak {m['rss_peak_bytes']/1e6:.1f} MB, {m['bytes_per_pe']:.0f} B per simulated PE (PeSlot {m['pe_slot_bytes']} B)")
print()
errs = j["errors"]
print("errors: " + (", ".join(f"{k}: {v}" for k, v in errs.items()) if errs else "none"))
for w in j.get("verdict", {}).get("warnings", []):
    print()
    print(f"warning: {w}")
PY
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for s in "${scenarios[@]}"; do
  asap=$(free_port); udp=$(free_port); enrp=$(free_port)
  report="$here/results/$s.json"
  out="$work/$s.out"
  extra=()
  series="$here/results/$s.timeseries.jsonl"
  ts=(--timeseries "$series")
  case "$s" in
    smoke)
      start_pr pr1 $asap $udp $enrp --set asap.keepalive_interval_ms=1000 --set asap.keepalive_timeout_ms=1000 || exit 1
      file=smoke.toml; regs=(-r "127.0.0.1:$asap/$udp") ;;
    resolve-storm)
      start_pr pr1 $asap $udp $enrp || exit 1
      file=resolve-storm.toml; regs=(-r "127.0.0.1:$asap/$udp") ;;
    mobility)
      start_pr pr1 $asap $udp $enrp --set asap.keepalive_interval_ms=5000 || exit 1
      file=mobility-1M.toml; regs=(-r "127.0.0.1:$asap/$udp"); extra=(-n "$MOBILITY_PES" -d "$MOBILITY_DURATION") ;;
    mobility-1M)
      # 10^6 PEs at the 5 s default would be 200 000 keep-alives/s plus as many acks; an operator
      # scales the interval with the PE count (scenarios/mobility-1M.toml says why 120 s).
      start_pr pr1 $asap $udp $enrp --set asap.keepalive_interval_ms=120000 || exit 1
      file=mobility-1M.toml; regs=(-r "127.0.0.1:$asap/$udp"); extra=(-d "$MOBILITY_1M_DURATION") ;;
    cluster-3)
      a2=$(free_port); u2=$(free_port); e2=$(free_port); a3=$(free_port); u3=$(free_port); e3=$(free_port)
      map=(--sctp-peer-udp-port $enrp=$udp --sctp-peer-udp-port $e2=$u2 --sctp-peer-udp-port $e3=$u3)
      peers() { echo "enrp.peers=[{address=\"127.0.0.1:$1\"},{address=\"127.0.0.1:$2\"}]"; }
      start_pr pra $asap $udp $enrp -c "$top/config/cluster-a.toml" --set "$(peers $e2 $e3)" "${map[@]}" || exit 1
      start_pr prb $a2 $u2 $e2 -c "$top/config/cluster-b.toml" --set "$(peers $enrp $e3)" "${map[@]}" || exit 1
      start_pr prc $a3 $u3 $e3 -c "$top/config/cluster-c.toml" --set "$(peers $enrp $e2)" "${map[@]}" || exit 1
      sleep 3  # let the registrars find each other
      file=cluster-3.toml; regs=(-r "127.0.0.1:$asap/$udp" -r "127.0.0.1:$a2/$u2" -r "127.0.0.1:$a3/$u3")
      ( sleep "$KILL_AT"; kill -9 "$pid_prb" 2>/dev/null && echo "killed registrar b (pid $pid_prb) at ${KILL_AT}s" >> "$work/kill.txt" ) &
      ;;
    assoc-per-pe)
      # Every association comes from 127.0.0.1: lift the per-address limit (4096) and the total.
      start_pr pr1 $asap $udp $enrp --set limits.max_associations_per_address=0 \
        --set limits.max_associations=200000 --set asap.keepalive_interval_ms=30000 || exit 1
      file=assoc-per-pe.toml; regs=(-r "127.0.0.1:$asap/$udp"); ts=() ;;  # --threads 2: no timeseries
    *) echo "unknown scenario $s"; continue ;;
  esac
  echo "== $s"
  cmd=("$POOLGEN" -s "$here/scenarios/$file" "${regs[@]}" "${extra[@]}" --progress plain --report "$report"
       "${ts[@]}")
  start=$(date +%s)
  "${cmd[@]}" > "$out" 2>&1
  rc=$?
  tail -25 "$out"
  plots=""
  plot_in=(--report "$report")
  [ ${#ts[@]} -gt 0 ] && plot_in+=(--timeseries "$series")
  if /usr/bin/python3 "$here/poolgen-plot" "${plot_in[@]}" -o "$here/results/$s" \
      --title "$s" > "$work/$s.plot" 2>&1; then
    plots=yes
  else
    echo "poolgen-plot failed (python3-matplotlib installed? .ci/setup.sh):"; cat "$work/$s.plot"
  fi
  {
    echo "## $s ($file)"
    echo
    echo "run $(date -u '+%Y-%m-%d %H:%M UTC'), $(( $(date +%s) - start )) s wall, poolgen exit $rc, load average at start of run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo '```'
    echo "poolgen -s scenarios/$file ${regs[*]} ${extra[*]}"
    echo '```'
    [ "$s" = cluster-3 ] && { cat "$work/kill.txt" 2>/dev/null || echo "(kill did not happen)"; echo; }
    summary "$s" "$report"
    echo
    if [ -n "$plots" ]; then
      [ ${#ts[@]} -gt 0 ] && echo "![$s: latency over time](results/$s-latency.png)"
      [ ${#ts[@]} -gt 0 ] && echo "![$s: achieved vs target rate](results/$s-rate.png)"
      echo "![$s: percentile spectrum and CDF](results/$s-spectrum.png)"
      echo
    fi
  } > "$here/results/$s.md"
  stop_all
  rm -f "$work/kill.txt"
done
{
  echo "# poolgen results"
  echo
  echo "Regenerated by \`perf/poolgen/run_scenarios.sh\` — do not edit by hand. Each section is from the"
  echo "latest run of that scenario (results/NAME.md and results/NAME.json; the last invocation ran: ${scenarios[*]})."
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB RAM, shared with other builds/tests"
  echo "(load average before the runs: $load_before). poolgen and every poolregd run on the same cores, so the"
  echo "figures are a lower bound of what poolregd does on an idle machine. Binaries: $POOLREGD, $POOLGEN."
  echo
  for name in smoke resolve-storm mobility mobility-1M cluster-3 assoc-per-pe; do
    [ -f "$here/results/$name.md" ] && cat "$here/results/$name.md"
  done
  # Hand-written reading of the figures (not regenerated; update it when the figures change).
  [ -f "$here/results/notes.md" ] && cat "$here/results/notes.md"
} > "$here/results.md"
echo "wrote $here/results.md"
rm -rf "$work"
