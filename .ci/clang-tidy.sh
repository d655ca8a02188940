#!/usr/bin/env bash
# clang-tidy gate: runs clang-tidy (checks from the root .clang-tidy) over every project .cpp of a
# build dir's compile_commands.json and fails when a finding is new compared with the baseline.
#
#   bash .ci/clang-tidy.sh [BUILD_DIR]            check (default BUILD_DIR: build-ci/release)
#   bash .ci/clang-tidy.sh [BUILD_DIR] --update   rewrite .ci/clang-tidy-baseline.txt from this run
#   bash .ci/clang-tidy.sh --self-test            check this script's comparison on a tiny file
#
# A finding is keyed "path|check|message" (path relative to the repository top, no line or
# column), so edits elsewhere in a file do not disturb it; the baseline holds each key with its
# count. A location reported by several translation units (a header) counts once. The run fails
# when a key's count exceeds the baseline (the new findings are printed with file:line), when
# clang-tidy reports a compiler error, or when it crashes. Keys whose count dropped are counted
# as "gone": run --update to tighten the baseline. The raw output is kept in
# BUILD_DIR/clang-tidy.log. Generated sources (those inside the build dir) are not checked.
# Scope: sources under tests/ are skipped by default (CLANG_TIDY_SKIP, space-separated path
# prefixes, default "tests/"): their ~70 GoogleTest translation units would add several minutes
# to CI for findings in test code. CLANG_TIDY_SKIP= (empty) checks every source; use the same
# value for a check and for its --update, or the difference shows up as new/gone findings.
# Environment: CLANG_TIDY (binary, default clang-tidy), CLANG_TIDY_JOBS (default nproc).
# The last line printed is a one-line summary starting with "clang-tidy:".
set -uo pipefail
cd "$(dirname "$0")/.."
exec python3 - "$(pwd)" "$@" <<'PY'
import collections, json, os, re, shutil, subprocess, sys, tempfile, threading, time
from concurrent.futures import ThreadPoolExecutor

TOP = os.path.realpath(sys.argv[1])
ARGS = sys.argv[2:]
BASELINE = os.path.join(TOP, ".ci", "clang-tidy-baseline.txt")
TIDY = os.environ.get("CLANG_TIDY", "clang-tidy")
JOBS = int(os.environ.get("CLANG_TIDY_JOBS") or os.cpu_count() or 1)
# "file:line:col: warning: message [check]" (notes carry no check and are not findings).
FINDING = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): (?P<sev>warning|error): "
                     r"(?P<msg>.*) \[(?P<check>[^\]]+)\]$")


def rel(path, top, directory=None):
    path = os.path.realpath(os.path.join(directory or top, path))
    return os.path.relpath(path, top) if path.startswith(top + os.sep) else path


def sources(build_dir, top, skip):
    """Project .cpp files of the compile database (under the top, not generated in the build dir),
    each with the directory its compile command runs in (clang-tidy prints paths relative to it)."""
    with open(os.path.join(build_dir, "compile_commands.json")) as f:
        db = json.load(f)
    out = {}
    for entry in db:
        path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
        if not path.endswith(".cpp") or not path.startswith(top + os.sep):
            continue
        if path.startswith(build_dir + os.sep):
            continue  # generated (e.g. config/embedded_default_config.cpp)
        if any(rel(path, top).startswith(p) for p in skip):
            continue
        out.setdefault(path, os.path.realpath(entry["directory"]))
    return sorted(out.items())


cpu_seconds = {}


def run_tidy(build_dir, files, config_file=None, jobs=JOBS, log=None):
    """Runs clang-tidy on each (file, directory), `jobs` at a time. Returns [(file, directory, returncode, output)].
    Each file's output is appended to `log` as soon as it is done (a killed run leaves what it did)."""
    lock = threading.Lock()

    def one(item):
        path, directory = item
        cmd = [TIDY, "-p", build_dir, "--quiet"]
        if config_file:
            cmd.append("--config-file=" + config_file)
        cmd.append(path)
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, errors="replace")
        output = p.stdout.read()
        p.stdout.close()
        _, status, usage = os.wait4(p.pid, 0)  # this child's CPU time, for the log
        p.returncode = os.waitstatus_to_exitcode(status)
        cpu_seconds[path] = usage.ru_utime + usage.ru_stime
        if log:
            with lock:
                log.write(f"### {rel(path, TOP)} (exit {p.returncode}, {cpu_seconds[path]:.1f}s CPU)\n{output}")
                log.flush()
        return path, directory, p.returncode, output
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, files))


def normalize_message(msg):
    # Messages rarely carry locations; drop any so a key never depends on line numbers.
    return re.sub(r"(\S+):\d+:\d+", r"\1", msg).strip()


def findings(results, top):
    """(counts per key, locations per key, errors). One location reported by several TUs counts once."""
    seen = set()
    counts = collections.Counter()
    where = collections.defaultdict(list)
    errors = []
    for _, directory, _, output in results:
        for line in output.splitlines():
            m = FINDING.match(line)
            if not m:
                continue
            path = rel(m["path"], top, directory)
            key = f"{path}|{m['check']}|{normalize_message(m['msg'])}"
            loc = (key, m["line"], m["col"])
            if loc in seen:
                continue
            seen.add(loc)
            counts[key] += 1
            where[key].append(f"{path}:{m['line']}:{m['col']}: {m['sev']}: {m['msg']} [{m['check']}]")
            if m["sev"] == "error":
                errors.append(where[key][-1])
    return counts, where, errors


def read_baseline(path):
    base = collections.Counter()
    if not os.path.exists(path):
        return base
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            key, _, count = line.rpartition("|")
            base[key] += int(count)
    return base


def write_baseline(path, counts, tidy_version):
    with open(path, "w") as f:
        f.write("# clang-tidy findings accepted for now: path|check|message|count, sorted.\n")
        f.write(f"# Written by: bash .ci/clang-tidy.sh build-ci/release --update ({tidy_version}).\n")
        for key in sorted(counts):
            f.write(f"{key}|{counts[key]}\n")


def compare(counts, base):
    """(new: {key: (now, before)}, number of baseline findings no longer reported)."""
    new = {k: (n, base.get(k, 0)) for k, n in counts.items() if n > base.get(k, 0)}
    gone = sum(max(0, b - counts.get(k, 0)) for k, b in base.items())
    return new, gone


def tidy_version():
    try:
        out = subprocess.run([TIDY, "--version"], stdout=subprocess.PIPE, text=True).stdout
    except FileNotFoundError:
        return None
    m = re.search(r"LLVM version (\S+)", out)
    return f"clang-tidy {m.group(1)}" if m else "clang-tidy"


def crashed(results):
    # Exit 1 with error findings is a compiler error (reported as such); anything else non-zero is a crash.
    return [(p, rc, out) for p, _, rc, out in results
            if rc != 0 and not (rc == 1 and re.search(r"\berror: .*\[clang-diagnostic-", out))]


def self_test():
    """A tiny tree with a known bugprone finding in a header included by two TUs."""
    failures = []
    def expect(cond, what):
        if not cond:
            failures.append(what)
    tmp = tempfile.mkdtemp(prefix="poolreg-tidy-selftest-")
    try:
        top = os.path.realpath(tmp)
        src = os.path.join(top, "registrar")  # matches the HeaderFilterRegex like our own headers
        os.makedirs(src)
        header = ("#pragma once\n#include <string>\n#include <utility>\n"
                  "inline std::size_t moved_twice(std::string s) {\n"
                  "  std::string t = std::move(s);\n"
                  "  return s.size() + t.size();\n}\n")
        with open(os.path.join(src, "selftest.hpp"), "w") as f:
            f.write(header)
        for name in ("a", "b"):
            with open(os.path.join(src, name + ".cpp"), "w") as f:
                f.write(f'#include "registrar/selftest.hpp"\nstd::size_t {name}() {{ return moved_twice("x"); }}\n')
        build = os.path.join(top, "build")
        os.makedirs(build)
        with open(os.path.join(build, "compile_commands.json"), "w") as f:
            json.dump([{"directory": build, "file": f"../registrar/{n}.cpp",
                        "command": f"c++ -std=c++20 -I.. -c ../registrar/{n}.cpp -o {n}.o"}
                       for n in ("a", "b")], f)
        config = os.path.join(TOP, ".clang-tidy")
        files = sources(build, top, [])
        expect(len(files) == 2, f"2 sources listed, got {files}")
        results = run_tidy(build, files, config, jobs=2)
        expect(not crashed(results), f"clang-tidy failed: {results}")
        counts, where, errors = findings(results, top)
        key = "registrar/selftest.hpp|bugprone-use-after-move|'s' used after it was moved"
        expect(counts.get(key) == 1, f"header finding counted once: {dict(counts)}")
        expect(not errors, f"no compiler errors: {errors}")
        new, gone = compare(counts, collections.Counter())
        expect(key in new, "a finding missing from an empty baseline is new")
        new, gone = compare(counts, collections.Counter({key: 1}))
        expect(not new and gone == 0, "a baselined finding is not new")
        # Round trip through the baseline file.
        path = os.path.join(top, "baseline.txt")
        write_baseline(path, counts, "self-test")
        expect(read_baseline(path) == counts, "baseline file round trip")
        # The same finding moved by an edit above it still matches the baseline.
        with open(os.path.join(src, "selftest.hpp"), "w") as f:
            f.write(header.replace("#pragma once\n", "#pragma once\n// moved down\n\n"))
        counts2, _, _ = findings(run_tidy(build, [files[0]], config, jobs=1), top)
        new, gone = compare(counts2, read_baseline(path))
        expect(counts2 == counts and not new, f"a moved finding matches its key: {dict(counts2)}")
        # A second occurrence of a baselined key is new; a removed one is counted as gone.
        with open(os.path.join(src, "selftest.hpp"), "a") as f:
            f.write("inline std::size_t again(std::string s) {\n  std::string t = std::move(s);\n"
                    "  return s.size() + t.size();\n}\n")
        counts3, where3, _ = findings(run_tidy(build, files, config, jobs=2), top)
        new, gone = compare(counts3, read_baseline(path))
        expect(new.get(key) == (2, 1) and len(where3[key]) == 2, f"a second occurrence is new: {new}")
        new, gone = compare(collections.Counter(), read_baseline(path))
        expect(not new and gone == 1, "a fixed finding is counted as gone")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("clang-tidy self-test: FAILED:", f)
    print(f"clang-tidy self-test: {'FAILED' if failures else 'ok'} ({len(failures)} failed checks)")
    return 1 if failures else 0


def main():
    update = "--update" in ARGS
    positional = [a for a in ARGS if not a.startswith("--")]
    unknown = [a for a in ARGS if a.startswith("--") and a not in ("--update", "--self-test")]
    if unknown or len(positional) > 1:
        print("usage: bash .ci/clang-tidy.sh [BUILD_DIR (relative to the repository top)] [--update] | --self-test",
              file=sys.stderr)
        return 2
    version = tidy_version()
    if version is None:
        print(f"clang-tidy: {TIDY} not found (Debian package clang-tidy; run .ci/setup.sh)")
        return 1
    if "--self-test" in ARGS:
        return self_test()
    build_dir = os.path.realpath(positional[0] if positional else os.path.join(TOP, "build-ci", "release"))
    if not os.path.exists(os.path.join(build_dir, "compile_commands.json")):
        print(f"clang-tidy: no compile_commands.json in {build_dir} (meson setup it first)")
        return 1
    skip = os.environ.get("CLANG_TIDY_SKIP", "tests/").split()
    files = sources(build_dir, TOP, skip)
    start = time.monotonic()
    with open(os.path.join(build_dir, "clang-tidy.log"), "w") as log:
        results = run_tidy(build_dir, files, log=log)
    seconds = time.monotonic() - start
    counts, where, errors = findings(results, TOP)
    total = sum(counts.values())
    broken = crashed(results)
    for path, rc, output in broken:
        print(f"clang-tidy crashed on {rel(path, TOP)} (exit {rc}):")
        print("\n".join(output.splitlines()[-20:]))
    for e in errors:
        print("compiler error (fix it; never baselined):", e)
    if update:
        write_baseline(BASELINE, collections.Counter({k: n for k, n in counts.items()
                                                      if not k.split("|")[1].startswith("clang-diagnostic-error")}),
                       version)
        print(f"clang-tidy: baseline rewritten, {total} findings, {len(counts)} keys, "
              f"{len(files)} files, {seconds:.0f}s ({sum(cpu_seconds.values()):.0f}s CPU) ({os.path.relpath(BASELINE, TOP)})")
        return 1 if broken or errors else 0
    base = read_baseline(BASELINE)
    new, gone = compare(counts, base)
    for key in sorted(new):
        now, before = new[key]
        print(f"NEW clang-tidy finding ({now} now, {before} in the baseline): {key}")
        for loc in where[key]:
            print("  " + loc)
    if gone:
        print(f"{gone} baseline finding(s) no longer reported: tighten with "
              f"'bash .ci/clang-tidy.sh {os.path.relpath(build_dir, TOP)} --update'")
    failed = bool(new or broken or errors)
    new_count = sum(now - before for now, before in new.values())
    print(f"clang-tidy: {'FAILED' if failed else 'ok'}, {new_count} new, {gone} gone, {total} findings "
          f"({sum(base.values())} in the baseline), {len(files)} files, {JOBS} jobs, {seconds:.0f}s "
          f"({sum(cpu_seconds.values()):.0f}s CPU)")
    return 1 if failed else 0


sys.exit(main())
PY
