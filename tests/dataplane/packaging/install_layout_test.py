#!/usr/bin/env python3
"""Installs the build into a temporary DESTDIR and checks what an appliance gets.

1. `meson install --destdir TMP --no-rebuild` installs exactly the expected files (no more, no
   fewer): binaries, units (poolregd.service and the DPDK variant poolregd-dpdk.service), the
   DPDK setup helper, sysusers/tmpfiles snippets, config template, completions, docs, man pages.
2. Each installed unit points at the installed binary, helper, config and docs.
3. With --systemd: `systemd-analyze verify` on each installed unit, and `security --offline`
   gives an exposure <= 3.0 (poolregd.service) / 2.0 (poolregd-dpdk.service; the figures are printed). Where systemd-analyze is absent or cannot run, the
   test exits 77 (meson's "skipped") after checks 1 and 2 passed.

Paths come from the command line (meson.build passes the configured directories), so the test
holds for any --prefix.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

MAX_EXPOSURE = 3.0
SKIP = 77


def rel(path):
    return path.lstrip("/")


def completion_names(loadgen):
    """The tools with a bash completion installed (poolgen's only with -Dloadgen=true)."""
    return ["poolctl", "poolregd", "poolreg-pe", "poolreg-pu"] + (["poolgen"] if loadgen else [])


def expected_files(a):
    prefix, share = a.prefix, os.path.join(a.prefix, a.datadir)
    doc = os.path.join(share, "doc", "poolreg")
    man = os.path.join(a.prefix, a.mandir)
    files = [
        os.path.join(prefix, a.sbindir, "poolregd"),
        os.path.join(prefix, a.bindir, "poolctl"),
        os.path.join(prefix, a.bindir, "poolreg-pe"),
        os.path.join(prefix, a.bindir, "poolreg-pu"),
        os.path.join(a.unitdir, "poolregd.service"),
        os.path.join(a.unitdir, "poolregd-dpdk.service"),
        os.path.join(prefix, a.libexecdir, "poolreg", "poolreg-dpdk-setup"),
        os.path.join(a.sysusersdir, "poolreg.conf"),
        os.path.join(a.tmpfilesdir, "poolreg.conf"),
        os.path.join(prefix, a.sysconfdir, "poolreg", "poolregd.toml"),
        os.path.join(doc, "README.md"),
        os.path.join(doc, "poolreg-json.schema.json"),
        os.path.join(doc, "config", "README.md"),
        os.path.join(man, "man8", "poolregd.8"),
        os.path.join(man, "man8", "poolctl.8"),
        os.path.join(man, "man5", "poolregd.toml.5"),
    ]
    files += [os.path.join(share, "bash-completion", "completions", t) for t in completion_names(a.loadgen)]
    monitoring = os.path.join(a.source_root, "config", "monitoring")
    files += [os.path.join(doc, "config", "monitoring", f) for f in sorted(os.listdir(monitoring))]
    if a.loadgen:
        files += [os.path.join(prefix, a.bindir, "poolgen"), os.path.join(man, "man1", "poolgen.1")]
    # An absolute directory (systemd's, /etc) stays absolute; a relative one is under the prefix.
    return sorted({os.path.join(prefix, f) for f in files})


def installed_files(destdir):
    found = []
    for root, _, names in os.walk(destdir):
        for n in names:
            found.append("/" + os.path.relpath(os.path.join(root, n), destdir))
    return sorted(found)


# Each installed unit and the most its `systemd-analyze security` exposure may be: the kernel
# socket unit is sandboxed tightly; the DPDK variant needs vfio devices and CAP_IPC_LOCK.
UNITS = {"poolregd.service": MAX_EXPOSURE, "poolregd-dpdk.service": 2.0}


def check_unit(a, destdir, failures, name):
    unit_path = os.path.join(destdir, rel(os.path.join(a.prefix, a.unitdir)), name)
    text = open(unit_path, encoding="utf-8").read()
    if re.search(r"@[A-Z_]+@", text):
        failures.append(f"{name}: an unfilled @...@ placeholder is left")
    exec_start = re.search(r"^ExecStart=(\S+) -c (\S+)", text, re.M)
    if not exec_start:
        failures.append(f"{name}: no 'ExecStart=BINARY -c CONFIG' line")
        return unit_path
    for path in exec_start.groups():
        if not os.path.isfile(os.path.join(destdir, rel(path))):
            failures.append(f"{name}: ExecStart names {path}, which is not installed")
    # ExecStartPre/ExecStopPost programs ('+' = run as root) must be installed too.
    for path in re.findall(r"^Exec(?:StartPre|StopPost)=[+!@-]*(\S+)", text, re.M):
        if not os.path.isfile(os.path.join(destdir, rel(path))):
            failures.append(f"{name}: names {path}, which is not installed")
    for doc in re.findall(r"file://(\S+)", text):
        if not os.path.isfile(os.path.join(destdir, rel(doc))):
            failures.append(f"{name}: Documentation names {doc}, which is not installed")
    for page, section in re.findall(r"man:([\w.-]+)\((\d)\)", text):
        if not os.path.isfile(os.path.join(destdir, rel(os.path.join(a.prefix, a.mandir)),
                                           f"man{section}", f"{page}.{section}")):
            failures.append(f"{name}: Documentation names man:{page}({section}), which is not installed")
    return unit_path


def systemd_checks(unit_path, destdir, failures, name):
    """Returns False when systemd-analyze is absent or cannot run here."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("SKIP systemd checks: systemd-analyze not found")
        return False
    # verify checks that the Exec programs exist on this host, and --root=DESTDIR would hide
    # systemd's own units (sysinit.target, ...): verify a copy whose installed program paths are
    # prefixed by the DESTDIR, everything else unchanged (check_unit found them installed).
    text = open(unit_path, encoding="utf-8").read()
    programs = set(re.findall(r"^Exec(?:Start|StartPre|StopPost)=[+!@-]*(\S+)", text, re.M))
    copy_dir = os.path.join(destdir, "verify-copy")
    os.makedirs(copy_dir, exist_ok=True)
    copy = os.path.join(copy_dir, name)
    for program in programs:
        if os.path.isfile(os.path.join(destdir, rel(program))):
            text = re.sub(r"^(Exec\w+=[+!@-]*)" + re.escape(program) + r"\b",
                          lambda m: m.group(1) + os.path.join(destdir, rel(program)), text, flags=re.M)
    with open(copy, "w", encoding="utf-8") as f:
        f.write(text)
    verify = subprocess.run([analyze, "verify", "--man=no", copy], capture_output=True, text=True, timeout=60)
    print(f"systemd-analyze verify {name}: exit {verify.returncode}\n{verify.stdout}{verify.stderr}")
    if verify.returncode != 0 and "poolregd" not in verify.stdout + verify.stderr:
        print("SKIP systemd checks: systemd-analyze cannot run in this environment")
        return False
    if verify.returncode != 0 or verify.stderr.strip():
        failures.append(f"systemd-analyze verify {name} reports problems (output above)")
    security = subprocess.run([analyze, "security", "--offline=true", "--no-pager", unit_path],
                              capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for " + re.escape(name) + r": ([\d.]+)", security.stdout)
    if not m:
        print(security.stdout + security.stderr)
        failures.append(f"systemd-analyze security {name}: no exposure level in its output")
        return True
    exposure, limit = float(m.group(1)), UNITS[name]
    print(f"systemd-analyze security --offline {name}: exposure {exposure} (limit {limit})")
    if exposure > limit:
        print(security.stdout)
        failures.append(f"{name}: exposure {exposure} > {limit}")
    return True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--meson", required=True)
    p.add_argument("--build-dir", required=True)
    p.add_argument("--source-root", required=True)
    for d in ("prefix", "bindir", "sbindir", "libexecdir", "datadir", "mandir", "sysconfdir", "unitdir", "sysusersdir",
              "tmpfilesdir"):
        p.add_argument("--" + d, required=True)
    p.add_argument("--loadgen", choices=("true", "false"), required=True)
    p.add_argument("--systemd", action="store_true", help="also run systemd-analyze verify and security")
    a = p.parse_args()
    a.loadgen = a.loadgen == "true"

    failures = []
    with tempfile.TemporaryDirectory(prefix="poolreg-install-") as destdir:
        install = subprocess.run([a.meson, "install", "-C", a.build_dir, "--no-rebuild", "--quiet",
                                  "--destdir", destdir], capture_output=True, text=True, timeout=300)
        if install.returncode != 0:
            print(install.stdout + install.stderr)
            print("FAIL: meson install")
            return 1
        want, got = expected_files(a), installed_files(destdir)
        for f in sorted(set(want) - set(got)):
            failures.append(f"not installed: {f}")
        for f in sorted(set(got) - set(want)):
            failures.append(f"installed but not expected: {f}")
        print("installed:\n  " + "\n  ".join(got))
        ran = True
        if not failures:
            for name in UNITS:
                unit = check_unit(a, destdir, failures, name)
                if a.systemd and not failures:
                    ran = systemd_checks(unit, destdir, failures, name) and ran
    for f in failures:
        print("FAIL: " + f)
    if failures:
        return 1
    return 0 if ran else SKIP


if __name__ == "__main__":
    sys.exit(main())
