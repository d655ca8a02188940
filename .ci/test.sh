#!/usr/bin/env bash
# The README's test command: install what is missing, build every variant, run every suite.
#   release build (-O2, asserts on):   suites unit, integration, stress, dpdk
#   ASan+UBSan build:               suites unit, integration, dpdk
#   TSan build:                     suite stress (only the executables it runs are built)
#   clang libFuzzer build:          suite fuzz (bounded runs; targeted build too)
#   clang-tidy (after the release variant, on its compile_commands.json): .ci/clang-tidy.sh fails
#   on findings missing from .ci/clang-tidy-baseline.txt; its one-line summary is repeated at the end
# Exits non-zero on any failure; the last line is "N passed, N failed".
# POOLREG_TEST_VARIANTS limits the variants (e.g. "release asan") for quick local runs.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash .ci/setup.sh || { echo "setup failed"; exit 1; }

variants=${POOLREG_TEST_VARIANTS:-"release asan tsan fuzz"}
jobs=$(nproc)
status=0
summaries=()

# Build-dir-relative paths of the executables the given suites run: every word of a test's command
# line that names a build target's output, absolute or relative to the build dir (a script's
# arguments, e.g. run_fuzz.sh's fuzzer and seed generator, are relative; missing them built
# everything).
suite_targets() {
  local dir=$1; shift
  meson introspect --tests --targets "$dir" | python3 -c '
import json, os, sys
dir, suites = os.path.realpath(sys.argv[1]), set(sys.argv[2:])
info = json.load(sys.stdin)
outputs = {os.path.relpath(os.path.realpath(f), dir) for t in info["targets"] for f in t["filename"]}
for t in info["tests"]:
    if suites & {s.split(":")[-1] for s in t["suite"]}:
        for part in t["cmd"]:
            rel = os.path.relpath(os.path.realpath(os.path.join(dir, part)), dir)
            if rel in outputs:
                print(rel)
' "$dir" "$@" | sort -u
}

run_variant() {
  local name=$1 suites=$2; shift 2
  local dir="$top/build-ci/$name"
  echo "=== $name: configure"
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$top/build-ci/$name.setup.log" 2>&1 || {
      cat "$top/build-ci/$name.setup.log"; echo "=== $name: configure FAILED"; status=1; return; }
  fi
  echo "=== $name: build"
  # Variants that run only some suites build only those suites' executables (TSan, fuzz).
  local targets=()
  if [ "${POOLREG_TARGETED_BUILD:-0}" = 1 ]; then
    mapfile -t targets < <(suite_targets "$dir" $suites)
  fi
  if ! ninja -C "$dir" -j "$jobs" "${targets[@]}" >"$top/build-ci/$name.build.log" 2>&1; then
    tail -60 "$top/build-ci/$name.build.log"; echo "=== $name: build FAILED"; status=1; return
  fi
  local args=()
  for s in $suites; do args+=(--suite "$s"); done
  echo "=== $name: test (${suites})"
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "$jobs" "${args[@]}" || status=1
  summaries+=("$dir/meson-logs/testlog.json")
}

# clang-tidy over the release variant's sources (self-test of the comparison first; both cheap
# next to the builds). The raw output stays in build-ci/release/clang-tidy.log.
tidy_summary=""
run_clang_tidy() {
  local dir="$top/build-ci/release"
  echo "=== release: clang-tidy"
  if [ ! -f "$dir/compile_commands.json" ]; then
    tidy_summary="clang-tidy: not run (release not configured)"; status=1; echo "$tidy_summary"; return
  fi
  local out="$top/build-ci/release.clang-tidy.out"
  { bash .ci/clang-tidy.sh --self-test && bash .ci/clang-tidy.sh "$dir"; } 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  tidy_summary=$(grep '^clang-tidy' "$out" | tail -1)
  [ $rc -eq 0 ] || { status=1; tidy_summary="${tidy_summary:-clang-tidy: FAILED (exit $rc)}"; }
}

mkdir -p build-ci
for v in $variants; do
  case $v in
    release) run_variant release "unit integration stress dpdk" -Doptimization=2 -Ddebug=false
             run_clang_tidy ;;
    asan) run_variant asan "unit integration dpdk" --buildtype=debug -Db_sanitize=address,undefined \
            -Db_lundef=false -Dbenchmarks=disabled ;;
    tsan) POOLREG_TARGETED_BUILD=1 run_variant tsan "stress" --buildtype=debugoptimized -Db_sanitize=thread -Dbenchmarks=disabled ;;
    fuzz) CC=clang CXX=clang++ POOLREG_TARGETED_BUILD=1 run_variant fuzz "fuzz" --buildtype=debugoptimized -Dfuzz=true \
            -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=disabled ;;
    *) echo "unknown variant $v"; status=1 ;;
  esac
done

[ -n "$tidy_summary" ] && echo "$tidy_summary"
# One closing line over every variant's results.
python3 - "${summaries[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            for line in f:
                r = json.loads(line).get("result")
                if r in ("OK", "EXPECTEDFAIL"): passed += 1
                elif r == "SKIP": skipped += 1
                else: failed += 1
    except FileNotFoundError:
        pass
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
[ ${#summaries[@]} -gt 0 ] || status=1
exit $status
