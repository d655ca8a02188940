#!/usr/bin/env bash
# Runs poolgen scenarios against freshly started poolregd processes on 127.0.0.1 and regenerates
# perf/poolgen/results.md with the figures (per scenario: results/NAME.json report,
# results/NAME.timeseries.jsonl (one line per second), results/NAME-{latency,rate,spectrum}.png
# (poolgen-plot, with Debian's /usr/bin/python3 and python3-matplotlib), results/NAME.md section
# embedding the plots; results.md = every scenario's latest section).
#
#   perf/poolgen/run_scenarios.sh [smoke] [resolve-storm] [mobility] [mobility-1M] [cluster-3] [assoc-per-pe]
#                                 [mobility-real]
#   (default: smoke resolve-storm mobility cluster-3; "mobility" is the reduced run of
#   mobility-1M.toml with MOBILITY_PES PEs, "mobility-1M" the full 10^6 one; "assoc-per-pe" one
#   association per PE over two generator lanes, no timeseries: only the spectrum plot;
#   "mobility-real" (root) real addresses in network namespaces made by real_address_lab.sh, the
#   registrar's address check ON, moves by ASCONF and by new associations)
#
# Environment: POOLREGD, POOLGEN (binaries; default build-poolgen, then build), MOBILITY_REAL_PES
# (mobility-real's PEs, default 2000, at most 21844), MOBILITY_PES
# (default 100000: the reduced run of mobility-1M.toml; 1000000 for the full one), MOBILITY_DURATION
# (default 120 s), MOBILITY_1M_DURATION (default 200 s; the ramp-up alone takes 100 s), KILL_AT (cluster-3: seconds until one registrar is killed, default 12).
# Registrars listen on random free ports (never the example ports, so a registrar someone else runs
# on 3863 is not disturbed); poolgen's -r flags override the scenario files' registrar lists.
# The mobility scenarios run with the registrar's address check ON (the default): mobility and
# mobility-1M use address_mode "association" (every PE announces 127.0.0.1, a move changes its
# port), mobility-real real addresses. The others run with --set asap.address_check=false because
# they use address_mode "spread" (random 127.0.0.0/8 PE addresses; see scenarios/smoke.toml). All run
# with the
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
lab=""  # mobility-real's namespaces (real_address_lab.sh), deleted by stop_all

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

# start_pr NAME ASAP UDP ENRP [extra poolregd args...]; waits for "listening:". $check: the
# registrar's asap.address_check (false unless a scenario sets it).
start_pr() {
  local name=$1 asap=$2 udp=$3 enrp=$4; shift 4
  "$POOLREGD" --set 'asap.listen=["127.0.0.1"]' --set asap.sctp_port=$asap --set asap.tcp_port=$asap \
    --set asap.udp_encapsulation_port=$udp --set enrp.sctp_port=$enrp \
    --set "control.socket_path=\"$work/$name.sock\"" --set asap.address_check=$check \
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
  [ -n "$lab" ] && "$here/real_address_lab.sh" down "$lab"
  lab=""
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
rm = j.get("real_address_moves")
if rm:
    print(f"real-address moves ({cfg.get('pe_addresses')}, one association per PE, registrar's address check on):")
    print()
    print("| move | started | visible | move-to-visible p50 ms | p90 | p99 | p99.9 |\n|---|---|---|---|---|---|---|")
    for k, label in [("asconf", "make-before-break: ADD-IP, re-registration, DELETE-IP"),
                     ("new_association", "break-before-make: new association from the new address")]:
        h = rm[k]["move_to_visible"]
        q = lambda n: f"{h[n]:.3f}" if h["count"] else "–"
        print(f"| {label} | {rm[k]['started']} | {rm[k]['visible']} | {q('p50_ms')} | {q('p90_ms')} | {q('p99_ms')} | {q('p999_ms')} |")
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
  in_ns=()
  check=false
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
      check=true  # address_mode "association": the check on
      start_pr pr1 $asap $udp $enrp --set asap.keepalive_interval_ms=5000 || exit 1
      file=mobility-1M.toml; regs=(-r "127.0.0.1:$asap/$udp"); extra=(-n "$MOBILITY_PES" -d "$MOBILITY_DURATION") ;;
    mobility-1M)
      # 10^6 PEs at the 5 s default would be 200 000 keep-alives/s plus as many acks; an operator
      # scales the interval with the PE count (scenarios/mobility-1M.toml says why 120 s).
      check=true
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
    mobility-real)
      # Real addresses, address check ON (the default): a registrar in namespace $lab-reg at
      # 10.98.0.1, poolgen in $lab-gen (see real_address_lab.sh and scenarios/mobility-real.toml).
      [ "$(id -u)" = 0 ] || { echo "mobility-real needs root (network namespaces)"; continue; }
      lab="pgreal-$$"
      "$here/real_address_lab.sh" up "$lab" "${MOBILITY_REAL_PES:-2000}" || { lab=""; exit 1; }
      ip netns exec "$lab-reg" "$POOLREGD" --set 'asap.listen=["10.98.0.1"]' \
        --set "control.socket_path=\"$work/pr1.sock\"" --set limits.max_associations_per_address=0 \
        > "$work/pr1.log" 2>&1 &
      pids+=($!)
      for _ in $(seq 100); do grep -q "listening:" "$work/pr1.log" && break; sleep 0.1; done
      grep -q "listening:" "$work/pr1.log" || { echo "poolregd did not start:"; cat "$work/pr1.log"; exit 1; }
      file=mobility-real.toml; regs=(-r "10.98.0.1:3863/9899"); extra=(-n "${MOBILITY_REAL_PES:-2000}")
      in_ns=(ip netns exec "$lab-gen") ;;
    *) echo "unknown scenario $s"; continue ;;
  esac
  echo "== $s"
  cmd=("${in_ns[@]}" "$POOLGEN" -s "$here/scenarios/$file" "${regs[@]}" "${extra[@]}" --progress plain --report "$report"
       "${ts[@]}")
  start=$(date +%s)
  "${cmd[@]}" > "$out" 2>&1
  rc=$?
  tail -25 "$out"
  if [ "$s" = mobility-real ]; then  # the registrar's side of the moves, read before it stops
    python3 - "$work/pr1.sock" > "$work/registrar.txt" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'{"cmd":"stats"}\n')
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(1 << 20)
    if not chunk: break
    data += chunk
a = json.loads(data)["result"]["asap"]
keys = ["registrations", "reregistrations", "registrations_rejected", "addresses_filtered",
        "association_addresses_added", "association_addresses_removed", "associations_up", "pe_transports_followed"]
print("registrar (asap.address_check on, the default; control socket `stats`): " +
      ", ".join(f"{k} {a.get(k)}" for k in keys))
PY
  fi
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
    echo "${in_ns[*]}${in_ns[*]:+ }poolgen -s scenarios/$file ${regs[*]} ${extra[*]}"
    echo '```'
    [ "$s" = cluster-3 ] && { cat "$work/kill.txt" 2>/dev/null || echo "(kill did not happen)"; echo; }
    [ "$s" = mobility-real ] && { cat "$work/registrar.txt" 2>/dev/null || echo "(registrar stats unreadable)"; echo; }
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
  for name in smoke resolve-storm mobility mobility-1M cluster-3 assoc-per-pe mobility-real; do
    [ -f "$here/results/$name.md" ] && cat "$here/results/$name.md"
  done
  # Hand-written reading of the figures (not regenerated; update it when the figures change).
  [ -f "$here/results/notes.md" ] && cat "$here/results/notes.md"
} > "$here/results.md"
echo "wrote $here/results.md"
rm -rf "$work"
