#!/usr/bin/env bash
# The enforcer's numbers in the README. Run as root on an otherwise idle machine (needs
# iproute2, iptables, ipset and iperf3):
#   sudo scripts/bench-enforcer.sh
#
# 1. compile + render for node0 (110 local pods) of a 10,000-pod / 2,000-policy cluster
#    (then again with 200 ClusterNetworkPolicies added)
# 2. the agent's first sync, then pod-only changes through its loop, applied to a network
#    namespace (as the DaemonSet would on a node)
# 3. the packet path: iperf3 TCP throughput between two pods on a bridge (br_netfilter on),
#    with no rules of ours, and with 1,000 policies isolating the server (5 rounds of 5 s,
#    alternating which goes first); and the cost of a new connection (1,000 sequential TCP
#    connects) in both cases
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p netpol-enforcer --bin netpol-enforcer --example enforcer_bench >/dev/null
cargo build --release --example gen_cluster >/dev/null
T=${CARGO_TARGET_DIR:-target}/release
ENF=$T/netpol-enforcer
work=$(mktemp -d)
run=nb$$
node=netpol-$run-node
cli=netpol-$run-client
srv=netpol-$run-server
server_pid=
cleanup() {
  # The servers we started (the iperf3 daemon by its pid file), then the namespaces.
  [ -s "$work/iperf3.pid" ] && kill "$(cat "$work/iperf3.pid")" 2>/dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  for n in $cli $srv $node; do ip netns delete "$n" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "== compile + render, and the agent's loop (10,000 pods, 2,000 policies, 91 nodes)"
$T/examples/gen_cluster --pods 10000 --namespaces 100 --policies 2000 --nodes 91 >"$work/big.yaml"
ip netns add "$node"
$T/examples/enforcer_bench "$work/big.yaml" --node node0 --netns "$node"
ip netns delete "$node"

echo
echo "== the same cluster plus 200 ClusterNetworkPolicies (Admin and Baseline)"
$T/examples/gen_cluster --pods 10000 --namespaces 100 --policies 2000 --nodes 91 --cluster-policies 200 >"$work/big-cnp.yaml"
ip netns add "$node"
$T/examples/enforcer_bench "$work/big-cnp.yaml" --node node0 --netns "$node"
ip netns delete "$node"

echo
echo "== packet path: two pods on a bridge, iperf3 TCP, 5 s per run"
ip netns add "$node"; ip netns add "$cli"; ip netns add "$srv"
ip -n "$node" link add br0 type bridge
ip -n "$node" link set br0 up
ip netns exec "$node" sysctl -q -w net.bridge.bridge-nf-call-iptables=1
i=1
for p in $cli $srv; do
  ip -n "$node" link add "v$i" type veth peer name eth0 netns "$p"
  ip -n "$node" link set "v$i" master br0 up
  ip -n "$p" link set lo up
  ip -n "$p" link set eth0 up
  ip -n "$p" addr add "10.99.0.$i/24" dev eth0
  i=$((i + 1))
done

# Both pods on node "bench"; 1,000 policies select the server: 999 allow other clients on
# other ports, one allows the client on 5201 (iperf3) and 8080.
{
  printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: bench, labels: {app: client}}\nspec: {nodeName: bench, containers: [{name: c}]}\nstatus: {podIP: 10.99.0.1}\n'
  printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: server, namespace: bench, labels: {app: server}}\nspec: {nodeName: bench, containers: [{name: c}]}\nstatus: {podIP: 10.99.0.2}\n'
  for n in $(seq 1 999); do
    printf -- '---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p%d, namespace: bench}\nspec:\n  podSelector: {matchLabels: {app: server}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: other%d}}}]\n    ports: [{port: %d}]\n' "$n" "$n" $((10000 + n))
  done
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: zz-client, namespace: bench}\nspec:\n  podSelector: {matchLabels: {app: server}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: client}}}]\n    ports: [{port: 5201}, {port: 8080}]\n'
} >"$work/thousand.yaml"

ip netns exec "$srv" iperf3 -s -D -p 5201 -I "$work/iperf3.pid" >/dev/null
ip netns exec "$srv" "$ENF" prober serve --tcp 8080 </dev/null >/dev/null 2>&1 &
server_pid=$!
sleep 0.5
connects_plan() {
  python3 -c 'import json; print(json.dumps({"timeout_ms": 1000, "concurrency": 1, "checks": [{"id": str(i), "kind": "tcp", "host": "10.99.0.2", "port": 8080} for i in range(1000)]}))'
}
throughput() {
  ip netns exec "$cli" iperf3 -c 10.99.0.2 -p 5201 -t 5 -J |
    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}
connects() {
  local start end
  start=$(date +%s.%N)
  connects_plan | ip netns exec "$cli" "$ENF" prober run --plan - | grep -c '"connected"' >/dev/null
  end=$(date +%s.%N)
  python3 -c "print('%.0f' % (($end - $start) * 1e6 / 1000))"
}
# Rounds alternate which case runs first, so a change of load during the run hits both.
none_run() {
  "$ENF" remove --netns "$node" --iptables system
  none+=("$(throughput)")
  none_c=$(connects)
}
with_run() {
  "$ENF" apply --netns "$node" --iptables system --node bench -f "$work/thousand.yaml" >/dev/null 2>&1
  with+=("$(throughput)")
  with_c=$(connects)
}
declare -a none with
for round in 1 2 3 4 5; do
  if [ $((round % 2)) = 1 ]; then none_run; with_run; else with_run; none_run; fi
  echo "round $round: none ${none[-1]} Gbit/s (${none_c} us/connect), 1000 policies ${with[-1]} Gbit/s (${with_c} us/connect)"
done
"$ENF" apply --netns "$node" --iptables system --node bench -f "$work/thousand.yaml" >/dev/null 2>&1
rules=$(ip netns exec "$node" iptables-save -t filter | grep -c '^-A NETPOL-' || true)
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
best() { printf '%s\n' "$@" | sort -n | tail -1; }
m0=$(median "${none[@]}"); m1=$(median "${with[@]}")
b0=$(best "${none[@]}"); b1=$(best "${with[@]}")
pct() { python3 -c "print('%+.1f%%' % (($2 - $1) / $1 * 100))"; }
echo "median: none $m0 Gbit/s, with 1000 policies ($rules rules in our chains) $m1 Gbit/s: $(pct "$m0" "$m1")"
echo "best:   none $b0 Gbit/s, with 1000 policies $b1 Gbit/s: $(pct "$b0" "$b1")"
echo "(load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg))"
"$ENF" remove --netns "$node" --iptables system
