#!/usr/bin/env bash
# Benchmarks whose numbers are in the README. Run as root on an otherwise idle machine:
#   sudo scripts/bench.sh            (BENCH_BIG=0 skips the 100,000-pod run)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin kubectl-netpol --example gen_cluster --example bench_matrix >/dev/null
BIN=target/release/kubectl-netpol
GEN=target/release/examples/gen_cluster
INNER=target/release/examples/bench_matrix
PORTS=tcp/8000,tcp/9090,udp/53
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() { # label, runs, command...
  local label=$1 runs=$2; shift 2
  local best="" mem=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null
    read -r s kb <"$work/t"
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; mem=$kb; fi
  done
  printf '%-66s %6.2f s  %6d MiB peak\n' "$label" "$best" "$((mem / 1024))"
}

# The n-th pod of a generated file, as ns/name.
nth_pod() { # file, n
  awk -v want="$2" '/^kind: Pod/{p=1} p&&/^  name:/{n=$2} p&&/^  namespace:/{c++; p=0; if(c==want){print $2"/"n; exit}}' "$1"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"

$GEN --pods 5000 --namespaces 50 --policies 1000 >"$work/big.yaml"
measure "matrix -o summary, 5000 pods/50 ns/1000 policies, 3 probes" 3 \
  $BIN matrix -f "$work/big.yaml" -o summary --ports $PORTS
measure "explain pod, same snapshot" 3 $BIN explain pod ns7/app7-357 -f "$work/big.yaml"
measure "explain traffic, same snapshot" 3 $BIN explain traffic ns7/app7-357 ns8/app7-358 --port tcp/8000 -f "$work/big.yaml"

# The hard case: 400 apps x 5 tiers x 3 versions, ipBlock excepts cutting the addresses.
for size in 5000:1000 20000:4000; do
  pods=${size%:*} policies=${size#*:}
  f="$work/diverse-$pods.yaml"
  $GEN --diverse --pods "$pods" --namespaces 50 --policies "$policies" >"$f"
  measure "diverse: matrix -o summary, $pods pods/$policies policies, 3 probes" 3 \
    $BIN matrix -f "$f" -o summary --ports $PORTS
  # Sets against the previous pair-by-pair code, same snapshot, same process.
  $INNER "$f" --ports $PORTS --pairwise | sed 's/^/    /'
done
# Cluster-scoped policy: the same 5,000 diverse pods with 200 ClusterNetworkPolicies added
# (target: at most 1.5x the time without them).
$GEN --diverse --pods 5000 --namespaces 50 --policies 1000 --cluster-policies 200 >"$work/cnp-5000.yaml"
measure "diverse + 200 cluster policies: matrix -o summary, 5000 pods" 3 \
  $BIN matrix -f "$work/cnp-5000.yaml" -o summary --ports $PORTS

f="$work/diverse-20000.yaml"
pod=$(nth_pod "$f" 1000)
measure "diverse 20000: explain pod $pod" 3 $BIN explain pod "$pod" -f "$f"
measure "diverse 20000: explain traffic" 3 $BIN explain traffic "$pod" "$(nth_pod "$f" 2000)" --port tcp/8000 -f "$f"
measure "diverse 20000: diff of the snapshot against itself" 1 $BIN diff -f "$f" -f "$f" --ports $PORTS

if [ "${BENCH_BIG:-1}" = 1 ]; then
  f="$work/diverse-100000.yaml"
  $GEN --diverse --pods 100000 --namespaces 50 --policies 20000 >"$f"
  measure "diverse: matrix -o summary, 100000 pods/20000 policies, 3 probes" 1 \
    $BIN matrix -f "$f" -o summary --ports $PORTS
  $INNER "$f" --ports $PORTS | sed 's/^/    /'
  rm -f "$f"
fi

# A YAML bomb by depth: 200 KB of '[' must be refused at once (exit 2).
{ printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: '; head -c 200000 /dev/zero | tr '\0' '['; echo; } >"$work/deep.yaml"
start=$(date +%s.%N)
if $BIN matrix -f "$work/deep.yaml" --ports tcp/80 >/dev/null 2>"$work/err"; then echo "deep nesting was accepted!"; exit 1; fi
printf '%-66s %6.2f s  (%s)\n' "200 KB of nested [ refused" "$(echo "$(date +%s.%N) - $start" | bc)" "$(head -c 80 "$work/err")"

if [ "$(id -u)" = 0 ]; then
  $GEN --pods 50 --namespaces 5 --policies 40 >"$work/fifty.yaml"
  measure "probe --local, 50 pods, tcp+udp x 2 ports (10,000 checks)" 3 \
    $BIN probe --local -f "$work/fifty.yaml" --ports tcp/8000,tcp/9090,udp/53,udp/8000 -o json
fi
