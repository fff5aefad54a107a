#!/usr/bin/env bash
# Benchmarks whose numbers are in the README. Run as root on an otherwise idle machine:
#   sudo scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin kubectl-netpol --example gen_cluster >/dev/null
BIN=target/release/kubectl-netpol
GEN=target/release/examples/gen_cluster
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() { # label, command...
  local label=$1; shift
  local best="" mem=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null
    read -r s kb <"$work/t"
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; mem=$kb; fi
  done
  printf '%-58s %6.2f s  %6d MiB peak\n' "$label" "$best" "$((mem / 1024))"
}

$GEN --pods 5000 --namespaces 50 --policies 1000 >"$work/big.yaml"
measure "matrix -o summary, 5000 pods/50 ns/1000 policies, 3 probes" \
  $BIN matrix -f "$work/big.yaml" -o summary --ports tcp/8000,tcp/9090,udp/53
measure "explain pod, same snapshot" $BIN explain pod ns7/app7-357 -f "$work/big.yaml"
measure "explain traffic, same snapshot" $BIN explain traffic ns7/app7-357 ns8/app7-358 --port tcp/8000 -f "$work/big.yaml"

if [ "$(id -u)" = 0 ]; then
  $GEN --pods 50 --namespaces 5 --policies 40 >"$work/fifty.yaml"
  measure "probe --local, 50 pods, tcp+udp x 2 ports (10,000 checks)" \
    $BIN probe --local -f "$work/fifty.yaml" --ports tcp/8000,tcp/9090,udp/53,udp/8000 -o json
fi
