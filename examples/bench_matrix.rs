//! The matrix benchmark's inner timer: loads a snapshot once, then times the set-algebra matrix
//! and (with --pairwise) the previous pair-by-pair algorithm on the same snapshot, and checks
//! that both give the same counts. Used by scripts/bench.sh.
//!
//!   cargo run --release --example bench_matrix -- FILE --ports tcp/8000,tcp/9090,udp/53 [--pairwise]

use std::path::PathBuf;
use std::time::Instant;

use netpol::engine::matrix::Matrix;
use netpol::engine::Engine;
use netpol::model::{load_paths, LoadOptions, Probe};

// The allocator the CLI uses, so the numbers are comparable.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = args
        .first()
        .ok_or("usage: bench_matrix FILE [--ports P,...] [--pairwise]")?;
    let ports = args
        .iter()
        .position(|a| a == "--ports")
        .and_then(|i| args.get(i + 1))
        .map_or("tcp/8000,tcp/9090,udp/53", String::as_str);
    let probes = Probe::parse_list(ports)?;
    let start = Instant::now();
    let (snap, _) =
        load_paths(&[PathBuf::from(file)], &LoadOptions::default()).map_err(|e| e.to_string())?;
    let loaded = start.elapsed();
    let start = Instant::now();
    let engine = Engine::new(&snap);
    let _ = engine.class_count(); // classes are built on first use
    let compiled = start.elapsed();
    let pods: Vec<usize> = (0..snap.pods.len()).collect();
    let start = Instant::now();
    let counts = Matrix::count_only(&engine, &pods, &probes);
    let set_time = start.elapsed();
    println!(
        "{} pods, {} policies, {} classes: load {:.2} s, classes {:.2} s, matrix+summary (sets) {:.3} s",
        snap.pods.len(),
        snap.policies.len(),
        counts.classes,
        loaded.as_secs_f64(),
        compiled.as_secs_f64(),
        set_time.as_secs_f64()
    );
    if args.iter().any(|a| a == "--pairwise") {
        let start = Instant::now();
        let pairwise = Matrix::compute_pairwise(&engine, &pods, &probes);
        let old_counts = pairwise.counts();
        let pair_time = start.elapsed();
        let sets = Matrix::compute(&engine, &pods, &probes);
        if old_counts != counts || !pairwise.same_verdicts(&sets) {
            return Err("the set algebra and the pair-by-pair matrix differ".into());
        }
        println!(
            "matrix+summary (pair by pair) {:.3} s: set algebra {:.1}x faster, same verdicts",
            pair_time.as_secs_f64(),
            pair_time.as_secs_f64() / set_time.as_secs_f64().max(1e-9)
        );
    }
    for c in &counts.probes {
        println!(
            "{} {}: {} allowed, {} denied",
            c.protocol, c.port, c.allowed, c.denied
        );
    }
    Ok(())
}
