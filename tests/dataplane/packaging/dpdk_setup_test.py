#!/usr/bin/env python3
"""poolreg-dpdk-setup (the appliance's root helper) in --dry-run, on a sysfs of the test's own
(POOLREG_SYSFS_ROOT): nothing is bound or reserved on this machine.

1. start --dry-run with a configuration naming a PCI device (driver ixgbe, IOMMU group 17) and
   512 hugepages of 2 MB on a --huge-dir: prints the planned hugepage reservation and mount,
   the saved driver, the bind to vfio-pci and the /dev/vfio node handed to the service user,
   and changes nothing (no state file).
2. start --dry-run with a PCI device that does not exist: exit 1 naming it, nothing planned.
3. stop --dry-run with saved state: binds the device back to its driver and gives back the
   hugepages reserved before.
4. The configured helper has no @...@ placeholder left.
"""
import argparse
import os
import subprocess
import sys
import tempfile


def make_sysfs(root):
    dev = os.path.join(root, "bus/pci/devices/0000:03:00.0")
    os.makedirs(dev)
    os.makedirs(os.path.join(root, "bus/pci/drivers/ixgbe"))
    os.makedirs(os.path.join(root, "kernel/iommu_groups/17"))
    os.symlink("../../../bus/pci/drivers/ixgbe", os.path.join(dev, "driver"))
    os.symlink("../../../kernel/iommu_groups/17", os.path.join(dev, "iommu_group"))
    hp = os.path.join(root, "kernel/mm/hugepages/hugepages-2048kB")
    os.makedirs(hp)
    with open(os.path.join(hp, "nr_hugepages"), "w", encoding="utf-8") as f:
        f.write("8\n")


def write_config(path, device):
    with open(path, "w", encoding="utf-8") as f:
        f.write('[asap]\nlisten = ["10.0.0.1"]\n[dpdk]\nenabled = true\nhugepages = 512\nhugepage_size_kb = 2048\n'
                f'eal_args = ["-l", "0-1", "-a", "{device}", "--huge-dir", "/dev/hugepages/poolreg"]\n')


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--setup", required=True, help="the configured poolreg-dpdk-setup")
    p.add_argument("--poolregd", required=True)
    a = p.parse_args()
    failures = []
    text = open(a.setup, encoding="utf-8").read()
    if "@CONFDIR@" in text or "@SBINDIR@" in text:
        failures.append("the configured helper still has @...@ placeholders")
    with tempfile.TemporaryDirectory(prefix="poolreg-dpdk-setup-") as tmp:
        sysfs, state = os.path.join(tmp, "sys"), os.path.join(tmp, "state")
        make_sysfs(sysfs)
        env = dict(os.environ, POOLREG_SYSFS_ROOT=sysfs)

        def run(action, config):
            r = subprocess.run(["bash", a.setup, action, "--dry-run", "-c", config, "--poolregd", a.poolregd,
                                "--state-dir", state, "--user", "root"],
                               capture_output=True, text=True, env=env, timeout=60)
            print(f"$ poolreg-dpdk-setup {action} --dry-run: exit {r.returncode}\n{r.stdout}{r.stderr}")
            return r

        good = os.path.join(tmp, "good.toml")
        write_config(good, "0000:03:00.0")
        r = run("start", good)
        want = [
            f"would record in {state}/dpdk-hugepages: 2048 8",
            "would run: dpdk-hugepages.py --pagesize 2048K --reserve 1048576K",
            "would run: dpdk-hugepages.py --pagesize 2048K --mount --directory /dev/hugepages/poolreg --user 0 --group 0",
            "would run: modprobe vfio-pci",
            f"would record in {state}/dpdk-devices: 0000:03:00.0 ixgbe",
            "would run: dpdk-devbind.py --bind=vfio-pci 0000:03:00.0",
            "would run: chown 0:0 /dev/vfio/17",
        ]
        if r.returncode != 0:
            failures.append(f"start --dry-run: exit {r.returncode}")
        for line in want:
            if line not in r.stdout.splitlines():
                failures.append(f"start --dry-run does not plan: {line}")
        if os.path.exists(state):
            failures.append("start --dry-run created the state directory")

        unknown = os.path.join(tmp, "unknown.toml")
        write_config(unknown, "0000:04:00.0")
        r = run("start", unknown)
        if r.returncode != 1 or "unknown PCI device 0000:04:00.0" not in r.stderr:
            failures.append("an unknown PCI device is not refused with exit 1 and its address")
        if "would run" in r.stdout:
            failures.append("actions planned for a configuration with an unknown device")

        os.makedirs(state)
        with open(os.path.join(state, "dpdk-devices"), "w", encoding="utf-8") as f:
            f.write("0000:03:00.0 ixgbe\n")
        with open(os.path.join(state, "dpdk-hugepages"), "w", encoding="utf-8") as f:
            f.write("2048 8\n")
        r = run("stop", good)
        for line in ["would run: dpdk-devbind.py --bind=ixgbe 0000:03:00.0",
                     "would run: dpdk-hugepages.py --pagesize 2048K --reserve 16384K"]:
            if line not in r.stdout.splitlines():
                failures.append(f"stop --dry-run does not plan: {line}")
        if not os.path.exists(os.path.join(state, "dpdk-devices")):
            failures.append("stop --dry-run removed the saved state")
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
