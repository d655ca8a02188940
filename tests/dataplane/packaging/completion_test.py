#!/usr/bin/env python3
"""Bash completions cannot go stale: for each tool, the options its completion offers for "-"
are exactly the options of its `--help` (CLI11's "  -x,--long TYPE  text" lines), and the
completion is in the installed file list of install_layout_test.py.

Usage: completion_test.py --completions-dir DIR --poolctl-completion FILE TOOL=BINARY...
(the completion of TOOL is DIR/TOOL, except poolctl's, which lives in cli/poolctl).
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import install_layout_test  # noqa: E402  (the installed file list)

OPTION_LINE = re.compile(r"^  (-\S+)")


def help_options(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"{binary} --help: exit {out.returncode}\n{out.stderr}")
    options = set()
    for line in out.stdout.splitlines():
        m = OPTION_LINE.match(line)
        if not m:
            continue
        for name in m.group(1).split(","):
            name = re.sub(r"\{.*\}$", "", name)  # CLI11's --flag{false}
            if name.startswith("-"):
                options.add(name)
    return options


def offered(completion_file, tool, words):
    """COMPREPLY of the completion function bound to `tool` for the command line `words`."""
    script = (
        f'source "{completion_file}"\n'
        f'func=$(complete -p {tool} | sed -E "s/.*-F ([^ ]+) .*/\\1/")\n'
        'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()\n'
        '"$func"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n')
    out = subprocess.run(["bash", "-c", script, "bash"] + words, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"completion of {tool}: exit {out.returncode}\n{out.stderr}")
    return {w for w in out.stdout.split("\n") if w}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--completions-dir", required=True)
    p.add_argument("--poolctl-completion", required=True)
    p.add_argument("tools", nargs="+", metavar="TOOL=BINARY")
    a = p.parse_args()
    # Installed with every option set (poolgen's with -Dloadgen=true); packaging_install checks
    # the list of this build's options exactly.
    installed = install_layout_test.completion_names(True)
    failures = []
    for pair in a.tools:
        tool, binary = pair.split("=", 1)
        path = a.poolctl_completion if tool == "poolctl" else os.path.join(a.completions_dir, tool)
        want = help_options(binary)
        got = offered(path, tool, [tool, "-"])  # poolctl: its global options (before a command)
        missing, extra = sorted(want - got), sorted(got - want)
        print(f"{tool}: --help has {len(want)} options, the completion offers {len(got)}")
        if missing:
            failures.append(f"{tool}: in --help, not completed: {' '.join(missing)}")
        if extra:
            failures.append(f"{tool}: completed, not in --help: {' '.join(extra)}")
        # A prefix narrows the list (the words are really filtered by what is typed).
        some = sorted(want)[-1]
        narrowed = offered(path, tool, [tool, some])
        if some not in narrowed or len(narrowed) >= len(got):
            failures.append(f"{tool}: completing {some!r} offers {sorted(narrowed)}")
        if tool not in installed:
            failures.append(f"{tool}: its completion is not in the installed file list (install_layout_test.py)")
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
