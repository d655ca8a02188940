#!/usr/bin/env python3
"""poolregd under the installed unit's user and capabilities serves a PU (issue 18 item 1).

There is no systemd as PID 1 here, so the unit's privilege settings are applied by hand:
1. `meson install` into a temporary DESTDIR; read the installed poolregd.service's User=,
   Group=, CapabilityBoundingSet=, AmbientCapabilities=, NoNewPrivileges= and ExecStart=.
2. User=poolreg (Group=poolreg) is used when that user exists, else mapped to 65534 (no user is
   created here). ExecStart runs through `setpriv` with those ids, bounding/inheritable/ambient
   sets and no-new-privs, inside new IPC/UTS/mount namespaces (`unshare`, where it works; the
   network namespace stays the host's, so the tools reach it over loopback). Its control socket
   goes to a directory owned by that user, as RuntimeDirectory= would make it.
3. A PE (poolreg-pe) registers, a PU (poolreg-pu) resolves it over loopback.
4. /proc/PID/status of every thread: uids and gids are the unit's, the effective and permitted
   sets are exactly the ambient set, the bounding set exactly CapabilityBoundingSet=,
   NoNewPrivs as NoNewPrivileges=. Fails if the daemon kept root or any extra capability.
5. SIGTERM: exit 0.
With --dpdk the same for poolregd-dpdk.service (CAP_IPC_LOCK in its bounding and ambient sets)
on a net_ring vdev without hugepages: EAL must start as that user with that one capability, and
every thread must hold exactly it (no PU: nothing outside reaches a net_ring port).
Exit 77 (skipped) when not root or setpriv is missing.
"""
import argparse
import grp
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
NOBODY = 65534
# linux/capability.h order.
CAPABILITIES = [
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
    "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
    "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
    "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
    "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
    "checkpoint_restore"]


def unit_settings(text):
    settings = {}
    for line in text.splitlines():
        m = re.match(r"^(\w+)=(.*)$", line)
        if m:
            settings[m.group(1)] = m.group(2).strip()  # the last assignment wins, as in systemd
    return settings


def capability_names(value):
    names = [n.lower().removeprefix("cap_") for n in value.split()]
    for n in names:
        if n not in CAPABILITIES:
            raise ValueError(f"unknown capability {n}")
    return names


def mask(names):
    m = 0
    for n in names:
        m |= 1 << CAPABILITIES.index(n)
    return m


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def task_status(pid):
    tasks = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        fields = {}
        with open(f"/proc/{pid}/task/{tid}/status", encoding="utf-8") as f:
            for line in f:
                key, _, rest = line.partition(":")
                fields[key] = rest.strip()
        tasks[tid] = fields
    return tasks


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def serve_a_pu(a, registrar, udp, name):
    """poolreg-pe registers two PEs, poolreg-pu resolves them (bounded). Returns the failures."""
    pe = subprocess.Popen([a.pe, "-r", registrar, "--udp-encaps-port", str(udp), "--pool", "UnitPool",
                           "--count", "2", "--duration", "20", "-q"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    answer = {}

    def resolved():
        r = subprocess.run([a.pu, "-r", registrar, "--udp-encaps-port", str(udp), "--pool", "UnitPool",
                            "-n", "5", "--json", "--timeout-ms", "2000"], capture_output=True, text=True, timeout=15)
        answer["text"] = r.stdout + r.stderr
        try:
            return r.returncode == 0 and len(json.loads(r.stdout)["pes"]) == 2
        except (ValueError, KeyError):
            return False

    try:
        if wait_for(resolved, 15):
            print(f"{name}: PU resolved UnitPool: 2 PEs")
            return []
        return [f"{name}: the PU did not resolve the PE's pool: " + answer.get("text", "")]
    finally:
        pe.kill()
        pe.wait(timeout=10)


def run_unit(a, destdir, setpriv, name, extra, serve):
    """Runs the installed unit `name`'s ExecStart (plus `extra`) under its user and capability
    settings; with `serve`, a PE registers and a PU resolves it. Returns the failures."""
    failures = []
    unit_path = os.path.join(destdir, os.path.join(a.prefix, a.unitdir).lstrip("/"), name)
    s = unit_settings(open(unit_path, encoding="utf-8").read())
    bounding = capability_names(s.get("CapabilityBoundingSet", ""))
    ambient = capability_names(s.get("AmbientCapabilities", ""))
    no_new_privs = s.get("NoNewPrivileges", "no") in ("yes", "true", "1")
    try:
        user = pwd.getpwnam(s["User"])
        uid, user_gid, user_note = user.pw_uid, user.pw_gid, f"User={s['User']} (uid {user.pw_uid})"
        user_exists = True
    except KeyError:
        uid, user_gid, user_note = NOBODY, NOBODY, f"User={s['User']} does not exist here: uid {NOBODY}"
        user_exists = False
    try:
        gid = grp.getgrnam(s["Group"]).gr_gid if "Group" in s else user_gid
    except KeyError:
        gid = NOBODY
    print(f"{name}: {user_note}, gid {gid}, CapabilityBoundingSet={bounding}, AmbientCapabilities={ambient}, "
          f"NoNewPrivileges={no_new_privs}")

    # The installed tree must be readable by that user (TemporaryDirectory is 0700).
    for root, dirs, _ in os.walk(destdir):
        os.chmod(root, 0o755)
    rundir = os.path.join(destdir, "run-" + name)  # RuntimeDirectory=poolreg, owned by User/Group
    os.mkdir(rundir, 0o750)
    os.chown(rundir, uid, gid)

    # ExecStart with the installed paths, the control socket in rundir, and free ports.
    argv = shlex.split(s["ExecStart"])
    argv[0] = os.path.join(destdir, argv[0].lstrip("/"))
    argv[argv.index("-c") + 1] = os.path.join(destdir, argv[argv.index("-c") + 1].lstrip("/"))
    for i, x in enumerate(argv):
        if x.startswith("control.socket_path="):
            argv[i] = f'control.socket_path="{rundir}/poolregd.sock"'
    asap, udp, enrp = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    argv += ["--set", f"asap.sctp_port={asap}", "--set", f"asap.tcp_port={asap}",
             "--set", f"asap.udp_encapsulation_port={udp}", "--set", f"enrp.sctp_port={enrp}"] + extra

    caps = lambda names: ",".join(["-all"] + ["+" + n for n in names])  # noqa: E731
    priv = [setpriv, f"--reuid={uid}", f"--regid={gid}",
            "--init-groups" if user_exists else "--clear-groups",
            f"--bounding-set={caps(bounding)}", f"--inh-caps={caps(ambient)}", f"--ambient-caps={caps(ambient)}"]
    if no_new_privs:
        priv.append("--no-new-privs")
    namespaces = ["unshare", "--ipc", "--uts", "--mount", "--propagation", "private"]
    if subprocess.run(namespaces + ["true"], capture_output=True, timeout=10).returncode != 0:
        print("note: unshare of IPC/UTS/mount namespaces not possible here: running without")
        namespaces = []
    command = namespaces + priv + argv
    print("running: " + shlex.join(command))
    log_path = os.path.join(destdir, name + ".log")
    with open(log_path, "w", encoding="utf-8") as log:
        daemon = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log_text = lambda: open(log_path, encoding="utf-8", errors="replace").read()  # noqa: E731
    try:
        if not wait_for(lambda: "listening:" in log_text() or daemon.poll() is not None, 15) or \
                daemon.poll() is not None:
            print(log_text())
            return [f"{name}: poolregd did not start under the unit's user and capabilities"]
        want_bounding, want_ambient = mask(bounding), mask(ambient)
        tasks = task_status(daemon.pid)
        for tid, t in sorted(tasks.items()):
            uids, gids = t["Uid"].split(), t["Gid"].split()
            eff, prm, bnd = int(t["CapEff"], 16), int(t["CapPrm"], 16), int(t["CapBnd"], 16)
            print(f"task {tid} {t['Name']}: Uid {uids} Gid {gids} CapEff {eff:x} CapPrm {prm:x} CapBnd {bnd:x} "
                  f"NoNewPrivs {t['NoNewPrivs']}")
            if uids != [str(uid)] * 4 or gids != [str(gid)] * 4:
                failures.append(f"{name}: task {tid}: Uid {uids} Gid {gids}, not {uid}/{gid}")
            if eff != want_ambient or prm != want_ambient:
                failures.append(f"{name}: task {tid}: CapEff {eff:x} CapPrm {prm:x}, the unit grants {want_ambient:x}")
            if bnd != want_bounding:
                failures.append(f"{name}: task {tid}: CapBnd {bnd:x}, the unit's bounding set is {want_bounding:x}")
            if no_new_privs and t["NoNewPrivs"] != "1":
                failures.append(f"{name}: task {tid}: NoNewPrivs {t['NoNewPrivs']}")

        if serve:
            failures += serve_a_pu(a, f"127.0.0.1:{asap}", udp, name)
        else:
            print(f"{name}: started under the unit's user and capabilities (a PU cannot reach a net_ring port)")
        daemon.send_signal(signal.SIGTERM)
        try:
            code = daemon.wait(timeout=10)
            if code != 0:
                failures.append(f"{name}: poolregd exited {code} on SIGTERM")
        except subprocess.TimeoutExpired:
            failures.append(f"{name}: poolregd did not stop within 10 s of SIGTERM")
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(timeout=10)
    if failures:
        print(log_text())
    return failures


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--meson", required=True)
    p.add_argument("--build-dir", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--unitdir", required=True)
    p.add_argument("--pe", required=True)
    p.add_argument("--pu", required=True)
    p.add_argument("--dpdk", action="store_true", help="also poolregd-dpdk.service, on a net_ring vdev")
    a = p.parse_args()
    if os.geteuid() != 0:
        print("SKIP: needs root (setpriv switches to the unit's user)")
        return SKIP
    setpriv = shutil.which("setpriv")
    if not setpriv:
        print("SKIP: setpriv (util-linux) not found")
        return SKIP

    failures = []
    with tempfile.TemporaryDirectory(prefix="poolreg-unit-") as destdir:
        install = subprocess.run([a.meson, "install", "-C", a.build_dir, "--no-rebuild", "--quiet", "--destdir", destdir],
                                 capture_output=True, text=True, timeout=300)
        if install.returncode != 0:
            print(install.stdout + install.stderr)
            print("FAIL: meson install")
            return 1
        failures += run_unit(a, destdir, setpriv, "poolregd.service", [], serve=True)
        if a.dpdk and os.cpu_count() >= 2:
            # The appliance unit on a virtual device: EAL starts with only CAP_IPC_LOCK, as uid 65534.
            prefix = f"poolreg-unit-{os.getpid()}"
            failures += run_unit(a, destdir, setpriv, "poolregd-dpdk.service",
                                 ["--listen", "10.99.0.1", "--set", "asap.tcp=false", "--set", "enrp.enabled=false",
                                  "--set", "dpdk.lcores=0-1", "--set", "dpdk.idle_sleep_us=500", "--",
                                  "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--file-prefix=" + prefix,
                                  "--vdev=net_ring0", "--log-level=lib.eal:error"], serve=False)
            shutil.rmtree(f"/tmp/dpdk/{prefix}", ignore_errors=True)  # EAL's runtime dir as non-root
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
