//! The network namespaces the real-packet tests look for: local runs name theirs
//! `netpol-<run>-*`, where the run id (hex) shifted right by 16 is the process id.

use std::process::Command;

/// Every `netpol-*` network namespace on this host, whoever made it.
pub fn netpol_namespaces() -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with("netpol-"))
        .map(str::to_string)
        .collect()
}

/// The namespaces that runs of these processes made and left (other engineers' runs on this
/// machine have other pids).
pub fn left_by(pids: &[u32]) -> Vec<String> {
    netpol_namespaces()
        .into_iter()
        .filter(|n| {
            n.trim_start_matches("netpol-")
                .split('-')
                .next()
                .and_then(|run| u64::from_str_radix(run, 16).ok())
                .is_some_and(|run| pids.contains(&((run >> 16) as u32)))
        })
        .collect()
}

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Serialises the real-packet tests of one test binary (each checks that its runs left no
/// namespace, so they must not overlap) and fails, never skips, without root.
pub fn require_root(what: &str) -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        netpol::probe::local::has_cap_net_admin(),
        "{what} need root (CAP_NET_ADMIN) for network namespaces; run them as root, as .ci/run does"
    );
    guard
}
