//! Any bytes as a manifest: loading must return a snapshot or an InputError, never panic; a
//! snapshot must then survive the engine (classes, matrix, explain of every pod and policy,
//! and the enforcer's compiler).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpol::engine::matrix::Matrix;
use netpol::engine::{Endpoint, Engine, Traffic};
use netpol::model::{load_str, LoadOptions, Probe, Protocol};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok((snap, _)) = load_str("fuzz.yaml", text, &LoadOptions::default()) else { return };
    if snap.pods.len() > 64 {
        return;
    }
    let engine = Engine::new(&snap);
    let all: Vec<usize> = (0..snap.pods.len()).collect();
    let mut probes = netpol::engine::explain::default_probes(&snap, &all);
    probes.truncate(8);
    probes.push(Probe::new(Protocol::Udp, 53));
    let m = Matrix::compute(&engine, &all, &probes);
    let _ = m.summary();
    for p in 0..snap.pods.len() {
        let _ = engine.explain_pod(p);
        for q in 0..snap.pods.len().min(8) {
            let _ = engine.explain_traffic(&Traffic { from: Endpoint::Pod(p), to: Endpoint::Pod(q), probe: probes[0] });
        }
        let _ = engine.explain_traffic(&Traffic { from: Endpoint::Ip("203.0.113.9".parse().unwrap()), to: Endpoint::Pod(p), probe: probes[0] });
    }
    for i in 0..snap.policies.len() {
        let _ = engine.explain_policy(i);
    }
    let _ = netpol::enforce::compile(&engine, None);
});
