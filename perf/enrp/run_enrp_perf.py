#!/usr/bin/env python3
"""ENRP scenarios with real poolregd processes on 127.0.0.1; regenerates perf/enrp/results.md.

  perf/enrp/run_enrp_perf.py [propagation] [sync:N ...] [takeover] [report]
  (default: propagation sync:100000 sync:1000000 takeover; "report" only rewrites results.md)

Scenarios (each bounded; figures in results/NAME.json, results/NAME.md, results.md = all):
- propagation: update propagation A->B under background churn. poolgen drives two registrars
  (static peers); its move-to-visible probes re-register at one registrar and resolve at the
  OTHER one every probe interval until the new address shows, while background PEs move and PUs
  resolve. The same load against ONE registrar (probe resolved where it registered) is the
  baseline measured in the same invocation: the difference is what ENRP propagation adds.
- sync:N: a registrar joins a cluster holding N PEs. poolgen registers N PEs at A (A alone);
  then B starts with A as static peer and syncs A's table (mentor sync, W=0). Measured: time
  from B's start until B holds N PEs, and the checksums agree; every count is checked at the end
  on both sides (no PE dropped anywhere). Run for two Handle Table Response sizes: RSPLIB's
  (128 PEs / 1400 bytes) and a bulk one (1024 PEs / 65535 bytes).
- takeover: three registrars (RSPLIB fast profile: heartbeat 2444 ms, last heard 5 s, no response
  5 s, takeover expiry 5 s); PEs registered at B; kill -9 B; the control sockets of A and C are
  polled every 20 ms: time until B is seen dead (takeover started), until the takeover finished
  (a winner owns all of B's PEs) and until the other survivor agrees (Takeover Server applied).
  Repeated TAKEOVER_RUNS times (default 3).

Environment: POOLREGD, POOLGEN (binaries; default build-enrp, build, build-poolgen), TAKEOVER_RUNS,
SYNC_TIMEOUT_S (default 600), RAMP_RATE (registrations/s for sync:N, default 20000).
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))


def pick(env, rel):
    if os.environ.get(env):
        return os.environ[env]
    for d in ("build-enrp", "build", "build-poolgen"):
        p = os.path.join(TOP, d, rel)
        if os.access(p, os.X_OK):
            return p
    return ""


POOLREGD = pick("POOLREGD", "dataplane/daemon/poolregd")
POOLGEN = pick("POOLGEN", "perf/poolgen/poolgen")
WORK = tempfile.mkdtemp(prefix="enrp-perf-")
PROCS = []


def free_port():
    """A port free for TCP and UDP on 127.0.0.1."""
    while True:
        p = random.randint(20000, 60000)
        try:
            t = socket.socket()
            t.bind(("127.0.0.1", p))
            u = socket.socket(type=socket.SOCK_DGRAM)
            u.bind(("127.0.0.1", p))
            t.close()
            u.close()
            return p
        except OSError:
            pass


class Registrar:
    def __init__(self, name, rid, extra=()):
        self.name, self.id = name, rid
        self.asap, self.udp, self.enrp = free_port(), free_port(), free_port()
        self.sock = os.path.join(WORK, name + ".sock")
        self.log = os.path.join(WORK, name + ".log")
        self.extra = list(extra) + (["--log-level", "debug"] if os.environ.get("ENRP_PERF_DEBUG") else [])
        self.proc = None

    def start(self, peers, timeout=10):
        peer_list = ", ".join(
            f'{{ address = "127.0.0.1:{p.enrp}", udp_port = {p.udp} }}' for p in peers)
        args = [POOLREGD, "--id", str(self.id), "--set", 'asap.listen=["127.0.0.1"]',
                "--set", f"asap.sctp_port={self.asap}", "--set", f"asap.tcp_port={self.asap}",
                "--set", f"asap.udp_encapsulation_port={self.udp}", "--set", f"enrp.sctp_port={self.enrp}",
                "--set", f'control.socket_path="{self.sock}"', "--set", "asap.address_check=false",
                # poolgen puts up to 10^6 PEs over a few loopback associations: quotas off.
                "--set", "limits.max_pes_per_association=0", "--set", "limits.max_pes_per_address=0",
                "--set", f"enrp.peers=[{peer_list}]"] + self.extra
        self.proc = subprocess.Popen(args, stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        PROCS.append(self.proc)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "listening:" in open(self.log).read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"poolregd {self.name} did not start:\n" + open(self.log).read())

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def ctl(self, cmd, args=None, timeout=30):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(self.sock)
        s.sendall((json.dumps({"cmd": cmd, "args": args or {}}) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            buf += chunk
        s.close()
        r = json.loads(buf)
        if not r.get("ok"):
            raise RuntimeError(f"{self.name} {cmd}: {r}")
        return r["result"]

    def pes(self):
        return self.ctl("stats")["handlespace"]["pes"]

    def counter(self, name):
        return self.ctl("stats")["enrp"][name]

    def peer(self, rid):
        for p in self.ctl("peers")["peers"]:
            if int(p["id"], 16) == rid:
                return p
        return None

    def registrar_arg(self):
        return f"127.0.0.1:{self.asap}/{self.udp}"


def wait_for(pred, timeout, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def poolgen(regs, args, report, log_name):
    cmd = [POOLGEN] + [x for r in regs for x in ("-r", r.registrar_arg())] + args + [
        "--progress", "plain", "--report", report]
    p = subprocess.Popen(cmd, stdout=open(os.path.join(WORK, log_name), "w"), stderr=subprocess.STDOUT)
    PROCS.append(p)
    return p, cmd


def stop_all():
    for p in PROCS:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in PROCS:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    PROCS.clear()


def load_line():
    return " ".join(open("/proc/loadavg").read().split()[:3])


# ---------------------------------------------------------------------------------------------

def propagation():
    """(a) move-to-visible at another registrar vs at the same one, under churn."""
    out = {"scenario": "propagation", "load_at_start": load_line(), "runs": {}}
    scenario = ["-s", os.path.join(HERE, "propagation.toml")]
    load = scenario + ["-n", "10000", "-p", "20", "--register-rate", "5000", "--move-interval", "5", "--pus", "20",
            "--resolve-rate", "1000", "--items", "3", "--probes", "8", "--probe-move-every", "0.25",
            "-d", "30", "--life-ms", "60000", "--dead-fraction", "0", "--unreachable-fraction", "0"]
    idle = scenario + ["-n", "100", "-p", "4", "--move-interval", "0", "--pus", "0", "--probes", "8",
            "--probe-move-every", "0.25", "-d", "30", "--life-ms", "60000", "--dead-fraction", "0"]
    tcp = ["--mode", "nextgen", "--set", "enrp.tcp=true"]
    for label, n, args, mode in (("one registrar, churn (baseline)", 1, load, []),
                                 ("A->B over ENRP, churn", 2, load, []),
                                 ("A->B over ENRP, idle", 2, idle, []),
                                 ("A->B over ENRP/TCP (next-gen), idle", 2, idle, tcp)):
        regs = [Registrar(f"p{len(out['runs'])}{i}", 0x30000001 + i, ["--set", "enrp.profile=fast"] + mode)
                for i in range(n)]
        for r in regs:
            if mode:
                r.extra += ["--set", f"enrp.tcp_port={r.enrp}"]
        for r in regs:
            r.start([x for x in regs if x is not r])
        time.sleep(2 if n > 1 else 0.5)
        report = os.path.join(WORK, f"propagation-{len(out['runs'])}.json")
        p, cmd = poolgen(regs, args, report, f"poolgen-propagation-{len(out['runs'])}.log")
        rc = p.wait(120)
        j = json.load(open(report))
        mv = j["latency"]["move_to_visible"]
        updates = sum(r.counter("updates_applied") for r in regs) if n > 1 else 0
        out["runs"][label] = {
            "registrars": n, "poolgen_exit": rc, "samples": mv["count"], "p50_ms": mv["p50_ms"],
            "p90_ms": mv["p90_ms"], "p99_ms": mv["p99_ms"], "max_ms": mv["max_ms"],
            "background_moves_per_s": j["achieved"]["reregistrations_per_s"],
            "resolutions_per_s": j["achieved"]["resolutions_per_s"], "handle_updates_applied": updates,
            "probe_gave_up": j["counts"]["probe_gave_up"],
            "poolgen": " ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd))}
        for r in regs:
            r.stop()
        stop_all()
    return out


def propagation_direct(samples=200):
    """(a') the ENRP hop alone: operator deregistration at A (control socket, Handle Update DEL)
    until B's control socket no longer finds the PE, polled back to back (no poll interval).
    Includes two control-socket round trips (A's command, B's last lookup), reported apart."""
    a = Registrar("da", 0x60000001, ["--set", "enrp.profile=fast"])
    b = Registrar("db", 0x60000002, ["--set", "enrp.profile=fast"])
    a.start([b])
    b.start([a])
    time.sleep(2)
    gen, _ = poolgen([a], ["-n", str(samples), "-p", "1", "--pool-prefix", "direct", "--move-interval", "0",
                           "--pus", "0", "--probes", "0", "--life-ms", "600000", "-d", "120", "--dead-fraction", "0"],
                     os.path.join(WORK, "direct.json"), "poolgen-direct.log")
    wait_for(lambda: b.pes() >= samples, 30, 0.2)
    pool = a.ctl("pools")["pools"][0]["handle"]
    ids = [p["id"] for p in a.ctl("pool", {"handle": pool})["pes"]]
    lat, rtt = [], []
    for pid in ids:
        t = time.perf_counter()
        b.ctl("pe", {"handle": pool, "id": pid})
        rtt.append((time.perf_counter() - t) * 1000)
        t0 = time.perf_counter()
        a.ctl("deregister", {"handle": pool, "id": pid})
        polls = 0
        while polls < 100000:
            polls += 1
            try:
                b.ctl("pe", {"handle": pool, "id": pid})
            except RuntimeError:
                break
        lat.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.005)
    lat.sort()
    rtt.sort()
    gen.send_signal(signal.SIGINT)
    gen.send_signal(signal.SIGINT)
    a.stop()
    b.stop()
    stop_all()
    q = lambda v, f: round(v[min(len(v) - 1, int(len(v) * f))], 3)
    return {"samples": len(lat), "p50_ms": q(lat, 0.5), "p90_ms": q(lat, 0.9), "p99_ms": q(lat, 0.99),
            "max_ms": round(lat[-1], 3), "control_rtt_p50_ms": q(rtt, 0.5)}


def sync(n, elements, max_bytes, label):
    """(b) a registrar joining a cluster that holds n PEs."""
    res = {"pes": n, "response": label, "load_at_start": load_line()}
    timers = ["--set", "enrp.profile=fast", "--set", "asap.keepalive_interval_ms=300000",
              "--set", f"enrp.max_elements_per_handle_table_response={elements}",
              "--set", f"enrp.max_handle_table_response_bytes={max_bytes}",
              "--set", "asap.max_message_bytes=65535"]
    a = Registrar(f"sa-{n}-{elements}", 0x40000001, timers)
    b = Registrar(f"sb-{n}-{elements}", 0x40000002, timers)
    a.start([b])
    rate = int(os.environ.get("RAMP_RATE", "20000"))
    ramp_budget = n / rate * 4 + 60
    tag = f"sync-{n}-{elements}"
    report = os.path.join(WORK, tag + ".json")
    pools = max(1, n // 10000)
    gen, _ = poolgen([a], ["-n", str(n), "-p", str(pools), "--register-rate", str(rate), "--window", "4000",
                           "--pe-assocs", "4", "--move-interval", "0", "--pus", "0", "--probes", "0",
                           "--dead-fraction", "0", "--life-ms", "3600000", "-d", str(int(ramp_budget + 900)),
                           "--timeout-ms", "20000"], report, f"poolgen-{tag}.log")
    t_ramp = time.time()
    reached = wait_for(lambda: a.pes() >= n or gen.poll() is not None, ramp_budget, 1.0)
    res["ramp_s"] = round(time.time() - t_ramp, 1)
    res["registered_at_a"] = a.pes()
    if not reached or a.pes() < n:
        res["error"] = f"ramp-up incomplete: {a.pes()} of {n} PEs at A after {res['ramp_s']} s"
        stop_all()
        return res
    t0 = time.time()
    b.start([a])
    timeout = float(os.environ.get("SYNC_TIMEOUT_S", "600"))
    progress = []
    last = -1
    while time.time() - t0 < timeout:
        got = b.pes()
        if got != last:
            progress.append((round(time.time() - t0, 2), got))
            last = got
        if got >= n:
            break
        time.sleep(0.1)
    res["sync_s"] = round(time.time() - t0, 2) if last >= n else None
    res["pes_at_b"] = b.pes()
    if last < n:
        el = time.time() - t0
        res["error"] = f"sync incomplete after {el:.0f} s: {last} of {n} PEs at B ({last / el:.0f} PEs/s)"
    res["rate_pes_per_s"] = round(n / res["sync_s"]) if res.get("sync_s") else round(last / (time.time() - t0))
    in_sync = wait_for(lambda: (a.peer(b.id) or {}).get("in_sync") and (b.peer(a.id) or {}).get("in_sync"), 30, 0.2)
    res["checksums_agree"] = bool(in_sync)
    res["pes_at_a_end"], res["pes_at_b_end"] = a.pes(), b.pes()
    res["no_pe_dropped"] = res["pes_at_a_end"] == n and res["pes_at_b_end"] == n
    sa, sb = a.ctl("stats")["enrp"], b.ctl("stats")["enrp"]
    res["responses"] = sb["sync_responses_received"]
    res["bytes"] = sb["sync_bytes_received"]
    res["pes_per_response"] = round(sb["sync_pes_received"] / max(1, sb["sync_responses_received"]), 1)
    res["sync_timeouts_b"] = sb["sync_timeouts"]
    res["pes_purged_a"], res["pes_expired_b"] = sa["sync_pes_purged"], sb["pes_expired"]
    res["problems"] = {f"{side}.{k}": v for side, st in (("a", sa), ("b", sb))
                       for k, v in st.items() if k in ("decode_failures", "errors_sent", "errors_received",
                                                       "send_failures", "sync_rejects_sent") and v}
    res["progress"] = progress[:: max(1, len(progress) // 20)]
    gen.send_signal(signal.SIGINT)
    gen.send_signal(signal.SIGINT)  # second one: skip the deregistration of n PEs
    a.stop()
    b.stop()
    stop_all()
    return res


def takeover_once(k):
    """(c) kill -9 of a registrar owning k PEs; returns the times seen by the survivors."""
    regs = [Registrar(x, 0x50000001 + i, ["--set", "enrp.profile=fast", "--set", "asap.keepalive_interval_ms=60000"])
            for i, x in enumerate("abc")]
    for r in regs:
        r.start([x for x in regs if x is not r])
    a, b, c = regs
    ok = wait_for(lambda: all((r.peer(x.id) or {}).get("state") == "alive" for r in regs for x in regs if x is not r),
                  20, 0.2)
    if not ok:
        return {"error": "cluster did not form"}
    report = os.path.join(WORK, "takeover.json")
    gen, _ = poolgen([b], ["-n", str(k), "-p", "10", "--register-rate", "10000", "--move-interval", "0", "--pus", "0",
                           "--probes", "0", "--dead-fraction", "0", "--life-ms", "600000", "-d", "120"],
                     report, "poolgen-takeover.log")
    if not wait_for(lambda: all(((r.peer(b.id) or {}).get("pe_count") or 0) >= k for r in (a, c)), 60, 0.2):
        stop_all()
        return {"error": "PEs did not reach A and C"}
    time.sleep(3)  # a few heartbeats: the kill lands at a random point of the cycle
    t0 = time.time()
    b.kill9()
    seen = {}
    deadline = t0 + 60
    while time.time() < deadline:
        now = round(time.time() - t0, 3)
        for r in (a, c):
            st = r.ctl("stats")["enrp"]
            p = r.peer(b.id)
            if "dead" not in seen and (st["takeovers_started"] > 0 or p is None or p["state"] == "dead"):
                seen["dead"] = now
            if "won" not in seen and st["takeovers_won"] > 0:
                seen["won"], seen["winner"] = now, r.name
        if "won" in seen:
            winner = a if seen["winner"] == "a" else c
            other = c if winner is a else a
            wp = other.peer(winner.id)
            if wp and wp["pe_count"] >= k and (other.peer(b.id) is None or other.peer(b.id)["pe_count"] == 0):
                seen["agreed"] = now
                seen["owned_by_winner"] = winner.ctl("stats")["handlespace"]["owned_pes"]
                break
        time.sleep(0.02)
    gen.send_signal(signal.SIGINT)
    gen.send_signal(signal.SIGINT)
    for r in (a, c):
        r.stop()
    stop_all()
    return seen


def takeover():
    runs = int(os.environ.get("TAKEOVER_RUNS", "3"))
    k = 10000
    out = {"scenario": "takeover", "pes_at_b": k, "profile": "fast (2444/5000/5000/5000 ms)",
           "detection_bound_s": "5 + 5 (MAX-TIME-LAST-HEARD + MAX-TIME-NO-RESPONSE)",
           "load_at_start": load_line(), "runs": []}
    for _ in range(runs):
        out["runs"].append(takeover_once(k))
    return out


# ---------------------------------------------------------------------------------------------

def md_propagation(r):
    lines = ["## (a) update propagation A->B under churn", "",
             f"load average at start: {r['load_at_start']}", "",
             "| run | samples | p50 ms | p90 ms | p99 ms | max ms | background moves/s | resolutions/s | gave up |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, x in r["runs"].items():
        lines.append(f"| {label} | {x['samples']} | {x['p50_ms']:.3f} | {x['p90_ms']:.3f} | {x['p99_ms']:.3f} | "
                     f"{x['max_ms']:.3f} | {x['background_moves_per_s']:.0f} | {x['resolutions_per_s']:.0f} | "
                     f"{x['probe_gave_up']} |")
    runs = list(r["runs"].values())
    if len(runs) >= 2 and runs[0]["p50_ms"] > 0:
        lines += ["", f"ENRP propagation adds {runs[1]['p50_ms'] - runs[0]['p50_ms']:.3f} ms at p50 and "
                      f"{runs[1]['p99_ms'] - runs[0]['p99_ms']:.3f} ms at p99 (ratio p50 "
                      f"{runs[1]['p50_ms'] / runs[0]['p50_ms']:.2f}x, p99 {runs[1]['p99_ms'] / max(runs[0]['p99_ms'], 1e-9):.2f}x)."]
    lines += ["", "```"] + [x["poolgen"] for x in runs] + ["```", ""]
    d = r.get("direct")
    if d:
        lines += ["The ENRP hop alone (operator deregistration at A = Handle Update DEL, B's control socket "
                  "polled back to back until the PE is gone; idle pair over SCTP):", "",
                  "| samples | p50 ms | p90 ms | p99 ms | max ms | control-socket round trip p50 ms |",
                  "|---|---|---|---|---|---|",
                  f"| {d['samples']} | {d['p50_ms']} | {d['p90_ms']} | {d['p99_ms']} | {d['max_ms']} | "
                  f"{d['control_rtt_p50_ms']} |", ""]
    return "\n".join(lines)


def md_sync(rs):
    lines = ["## (b) sync of a new registrar", "",
             "| PEs | response size | ramp-up s | sync s | PEs/s | responses | PEs/response | MB | checksums agree | "
             "no PE dropped (A, B at end) | load at start | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for x in rs:
        lines.append(
            f"| {x['pes']} | {x['response']} | {x.get('ramp_s', '–')} | {x.get('sync_s') or '–'} | "
            f"{x.get('rate_pes_per_s', '–')} | {x.get('responses', '–')} | {x.get('pes_per_response', '–')} | "
            f"{x.get('bytes', 0) / 1e6:.1f} | {x.get('checksums_agree', '–')} | "
            f"{x.get('no_pe_dropped', '–')} ({x.get('pes_at_a_end', '–')}, {x.get('pes_at_b_end', '–')}) | "
            f"{x['load_at_start']} | {x.get('error', '')} |")
    lines += ["", "Progress of each sync (seconds after B started, PEs at B) is in results/sync.json.", ""]
    return "\n".join(lines)


def md_takeover(r):
    lines = ["## (c) takeover after kill -9", "",
             f"{r['pes_at_b']} PEs homed at B, profile {r['profile']}, dead-peer bound {r['detection_bound_s']}; "
             f"load average at start: {r['load_at_start']}", "",
             "| run | B seen dead s | takeover won s | survivors agree s | winner | PEs owned by winner |",
             "|---|---|---|---|---|---|"]
    for i, x in enumerate(r["runs"]):
        lines.append(f"| {i + 1} | {x.get('dead', '–')} | {x.get('won', '–')} | {x.get('agreed', '–')} | "
                     f"{x.get('winner', '–')} | {x.get('owned_by_winner', x.get('error', '–'))} |")
    lines.append("")
    return "\n".join(lines)


def main():
    if not POOLREGD or not POOLGEN:
        sys.exit("build poolregd and poolgen first (or set POOLREGD / POOLGEN)")
    todo = sys.argv[1:] or ["propagation", "sync:100000", "sync:1000000", "takeover"]
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    try:
        for t in todo:
            print("==", t, flush=True)
            if t == "propagation":
                r = propagation()
                r["direct"] = propagation_direct()
                json.dump(r, open(os.path.join(HERE, "results", "propagation.json"), "w"), indent=1)
                open(os.path.join(HERE, "results", "propagation.md"), "w").write(md_propagation(r))
            elif t.startswith("sync:"):
                n = int(t.split(":")[1])
                path = os.path.join(HERE, "results", "sync.json")
                old = json.load(open(path)) if os.path.exists(path) else []
                old = [x for x in old if x["pes"] != n]
                for elements, max_bytes, label in ((128, 1400, "128 PEs / 1400 B (RSPLIB)"),
                                                   (1024, 65535, "1024 PEs / 65535 B")):
                    x = sync(n, elements, max_bytes, label)
                    print(json.dumps({k: v for k, v in x.items() if k != "progress"}), flush=True)
                    old.append(x)
                    if "ramp-up incomplete" in x.get("error", ""):
                        break
                old.sort(key=lambda x: (x["pes"], x["response"]))
                json.dump(old, open(path, "w"), indent=1)
                open(os.path.join(HERE, "results", "sync.md"), "w").write(md_sync(old))
            elif t == "takeover":
                r = takeover()
                json.dump(r, open(os.path.join(HERE, "results", "takeover.json"), "w"), indent=1)
                open(os.path.join(HERE, "results", "takeover.md"), "w").write(md_takeover(r))
            elif t != "report":  # "report": only regenerate results.md
                print("unknown scenario", t)
    finally:
        stop_all()
    with open(os.path.join(HERE, "results.md"), "w") as f:
        f.write("# ENRP performance (perf/enrp/run_enrp_perf.py)\n\n"
                "Regenerated by `perf/enrp/run_enrp_perf.py` — do not edit by hand; each section is the latest "
                "run of that scenario (results/*.json hold every figure). "
                f"Machine: {os.cpu_count()} cores shared with other builds and tests; poolgen and every poolregd "
                f"run on the same cores. Binaries: {POOLREGD}, {POOLGEN}.\n\n")
        for name in ("propagation", "sync", "takeover"):
            p = os.path.join(HERE, "results", name + ".md")
            if os.path.exists(p):
                f.write(open(p).read() + "\n")
        notes = os.path.join(HERE, "results", "notes.md")
        if os.path.exists(notes):
            f.write(open(notes).read())
    print("wrote", os.path.join(HERE, "results.md"))


if __name__ == "__main__":
    main()
