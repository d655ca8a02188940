#!/usr/bin/env bash
# Fuzz soak: runs every libFuzzer target (or the named ones) for a given time each on its own
# persistent corpus and reports executions, exec/s and coverage (libFuzzer's cov:/ft: of the
# final stats line) per target, as a markdown table. Not run in CI (see README.md).
#   perf/fuzz/run_soak.sh [TARGET...] [--time SECONDS] [--build-dir DIR] [--corpus-root DIR]
#                         [--out FILE] [--jobs N] [-- LIBFUZZER_ARGS...]
# TARGET: a fuzz suite test name (fuzz_decode, fuzz_registrar_state, ...); none = all of them.
# The build dir (default build-fuzz) is configured like .ci/test.sh's fuzz variant when it does
# not exist, and only the targets and their seed generators are built. A corpus dir that is
# empty is seeded by the target's seed generator first. --jobs N runs N libFuzzer workers per
# target (-fork=N; figures are summed over workers); default 1. Arguments after -- go to every
# libFuzzer run as they are (e.g. -entropic=0, -max_len=512).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=60 build=build-fuzz corpus_root="" out="" jobs=1 targets=() extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --time) seconds=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --corpus-root) corpus_root=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
cd "$top"
[[ $build = /* ]] || build="$top/$build"
corpus_root=${corpus_root:-$build/soak-corpus}

if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$build" --buildtype=debugoptimized -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=disabled >/dev/null
fi

# "name fuzzer seedgen" per fuzz suite test (run_fuzz.sh's arguments, build-dir relative), from
# meson's test list.
mapfile -t rows < <(meson introspect --tests "$build" | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if "fuzz" in {s.split(":")[-1] for s in t["suite"]} and len(t["cmd"]) >= 3:
        print(t["name"], t["cmd"][1], t["cmd"][2])
')
[ ${#rows[@]} -gt 0 ] || { echo "no fuzz targets in $build (configured with -Dfuzz=true?)" >&2; exit 1; }
if [ ${#targets[@]} -eq 0 ]; then
  for r in "${rows[@]}"; do targets+=("${r%% *}"); done
fi

declare -A fuzzer seedgen
for r in "${rows[@]}"; do
  read -r name f s <<<"$r"
  fuzzer[$name]=$f seedgen[$name]=$s
done
build_targets=()
for t in "${targets[@]}"; do
  [ -n "${fuzzer[$t]:-}" ] || { echo "unknown fuzz target $t" >&2; exit 2; }
  build_targets+=("${fuzzer[$t]}" "${seedgen[$t]}")
done
ninja -C "$build" -j "${POOLREG_JOBS:-2}" "${build_targets[@]}" >/dev/null

table="| target | seconds | executions | exec/s | cov | ft | corpus | result |
|---|---|---|---|---|---|---|---|"
status=0
for t in "${targets[@]}"; do
  corpus="$corpus_root/$t" artifacts="$corpus_root/$t.artifacts"
  mkdir -p "$corpus" "$artifacts"
  [ -n "$(ls -A "$corpus")" ] || "$build/${seedgen[$t]}" "$corpus"
  log="$corpus_root/$t.log"
  echo "=== $t: ${seconds} s, corpus $corpus, log $log" >&2
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [ "$jobs" -gt 1 ] && args+=(-fork="$jobs" -ignore_crashes=0)
  args+=("${extra[@]}")
  rc=0
  "$build/${fuzzer[$t]}" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  # Final figures: stat:: lines (single process), else the last status line (fork mode).
  row=$(python3 - "$log" "$rc" "$t" "$seconds" <<'PY'
import re, sys
log, rc, name, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
text = open(log, errors="replace").read()
status = [l for l in text.splitlines() if re.match(r"#\d+:?\s+(DONE|pulse|NEW|REDUCE|INITED|cov:)", l)]
last = status[-1] if status else ""
def field(key, line):
    m = re.search(re.escape(key) + r":?\s+(\S+)", line)
    return m.group(1) if m else "?"
execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", text)
execs = execs.group(1) if execs else (re.match(r"#(\d+)", last).group(1) if last else "?")
rate = re.search(r"stat::average_exec_per_sec:\s*(\d+)", text)
rate = rate.group(1) if rate else field("exec/s", last)
units = re.findall(r"Test unit written to (\S+)", text)
result = "clean" if rc == 0 else ("CRASH: " + ", ".join(units) if units else f"exit {rc}")
print(f"| {name} | {seconds} | {execs} | {rate} | {field('cov', last)} | {field('ft', last)} | "
      f"{field('corp', last)} | {result} |")
PY
)
  table+=$'\n'"$row"
  [ "$rc" -eq 0 ] || status=1
done
echo "$table"
[ -z "$out" ] || echo "$table" >"$out"
exit $status
