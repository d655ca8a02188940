#!/usr/bin/env bash
# The README's run command: install what is missing, build, start poolregd on its embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
ninja -C build dataplane/daemon/poolregd >/dev/null
exec ./build/dataplane/daemon/poolregd "$@"
