#!/usr/bin/env bash
# Fuzz the loader and the engine: scripts/fuzz.sh [SECONDS]   (needs `cargo install cargo-fuzz`;
# cargo-fuzz needs nightly features, RUSTC_BOOTSTRAP=1 enables them on the stable toolchain)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=fuzz/corpus/load_and_evaluate
mkdir -p "$corpus"
cp manifests/examples/payments/*.yaml fuzz/seeds/* "$corpus/"
find manifests/labs -name '*.yaml' ! -name lab.yaml | while read -r f; do cp "$f" "$corpus/$(echo "$f" | tr / _)"; done
cd fuzz
# -s none: no AddressSanitizer. The code under test is safe Rust, so what the fuzzer hunts is
# panics (and hangs); without the sanitizer the build is several times faster.
RUSTC_BOOTSTRAP=1 cargo fuzz run -s none load_and_evaluate -- -max_total_time="${1:-60}" -max_len=8192
