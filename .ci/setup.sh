#!/usr/bin/env bash
# Installs every Debian 12 package poolreg needs to build, test and run.
# Idempotent: packages already present are skipped and nothing is printed for them.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config meson ninja-build python3 clang lld llvm libclang-rt-14-dev clang-tidy
  libdpdk-dev dpdk usrsctp-dev-placeholder
  libtbb-dev libjemalloc-dev libsystemd-dev
  libssl-dev openssl  # TLS for ASAP/ENRP over TCP (dataplane/tcp/tls_*); the openssl CLI makes the TLS tests' certificates
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libtomlplusplus-dev libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libpcap-dev tshark iproute2 ethtool tmux prometheus help2man systemd python3-jsonschema
  python3-matplotlib  # perf/poolgen/poolgen-plot (run with /usr/bin/python3)
  util-linux  # setpriv, unshare: tests/dataplane/packaging runs poolregd under the unit's user
)
# usrsctp's Debian package name.
PACKAGES=("${PACKAGES[@]/usrsctp-dev-placeholder/libusrsctp-dev}")

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "setup: installing ${missing[*]}"
# tshark asks whether non-root users may capture; answer "no" up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
