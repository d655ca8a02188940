#!/usr/bin/env bash
# The network-namespace lab of poolgen's real-address mobility mode (--pe-addresses), shared by
# run_scenarios.sh mobility-real and the poolgen_integration test RealAddressMovesWithAddressCheckOn:
#
#   real_address_lab.sh up NAME PES    # namespaces NAME-gen and NAME-reg joined by a veth pair
#   real_address_lab.sh down NAME      # deletes both (with every interface and address in them)
#
# NAME-reg holds the registrar's address 10.98.0.1/16 on its eth0. NAME-gen holds 10.99.0.1/16 on
# its eth0 (the address it sends from towards the registrar: poolgen's anchor, prefix + 1) and
# the PE addresses 10.99.0.2 .. 10.99.0.(1 + 3 PES) as /32 aliases (three per PE, see
# real_address_fleet.hpp), so `poolgen --pe-addresses 10.99.0.0/16` runs in NAME-gen against
# `-r 10.98.0.1:3863/9899 --allow-remote`. At most 21844 PEs (the /16). Needs root and `ip`.
set -eu
action=${1:-}
name=${2:-}
[ -n "$action" ] && [ -n "$name" ] || { echo "usage: $0 up NAME PES | down NAME" >&2; exit 2; }
gen="$name-gen"
reg="$name-reg"
if [ "$action" = down ]; then
  ip netns del "$gen" 2>/dev/null || true
  ip netns del "$reg" 2>/dev/null || true
  exit 0
fi
[ "$action" = up ] || { echo "usage: $0 up NAME PES | down NAME" >&2; exit 2; }
pes=${3:-}
[[ "$pes" =~ ^[0-9]+$ ]] && [ "$pes" -ge 1 ] && [ "$pes" -le 21844 ] || { echo "PES: 1..21844" >&2; exit 2; }
ip netns add "$gen"
ip netns add "$reg" || { ip netns del "$gen"; exit 1; }
trap 'ip netns del "$gen" 2>/dev/null; ip netns del "$reg" 2>/dev/null' ERR
# Both ends are made inside the namespaces: no name in the caller's namespace can clash.
ip -n "$gen" link add eth0 type veth peer name eth0 netns "$reg"
for ns in "$gen" "$reg"; do
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
done
ip -n "$reg" addr add 10.98.0.1/16 dev eth0
ip -n "$gen" addr add 10.99.0.1/16 dev eth0
# One `ip -batch` for the aliases: thousands of `ip addr add` processes would take minutes.
batch=$(mktemp)
for ((k = 2; k < 2 + 3 * pes; k++)); do
  echo "addr add 10.99.$((k >> 8)).$((k & 255))/32 dev eth0"
done > "$batch"
ip -n "$gen" -batch "$batch"
rm -f "$batch"
ip -n "$gen" route add 10.98.0.0/16 dev eth0 src 10.99.0.1
ip -n "$reg" route add 10.99.0.0/16 dev eth0 src 10.98.0.1
trap - ERR
