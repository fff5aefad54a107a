//! Shared by the real-packet tests of the agent: root check, building API objects, reading a
//! network namespace's iptables and ipset state.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use serde_json::json;

/// The tests create namespaces and check what is left: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn require_root() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        netpol::enforce::has_cap_net_admin(),
        "the real-packet tests need root (CAP_NET_ADMIN); run them as root, as .ci/run does"
    );
    guard
}

pub fn namespace(name: &str, labels: &[(&str, &str)]) -> Namespace {
    let labels: BTreeMap<&str, &str> = labels.iter().copied().collect();
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).unwrap()
}

pub fn pod(key: &str, labels: &[(&str, &str)], ips: &[&str], node: &str) -> Pod {
    let (ns, name) = key.split_once('/').unwrap();
    let labels: BTreeMap<&str, &str> = labels.iter().copied().collect();
    let pod_ips: Vec<serde_json::Value> = ips.iter().map(|ip| json!({"ip": ip})).collect();
    serde_json::from_value(json!({
        "metadata": {"namespace": ns, "name": name, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x",
                 "ports": [{"name": "http", "containerPort": 80}]}]},
        "status": {"phase": "Running", "podIP": ips[0], "podIPs": pod_ips}
    }))
    .unwrap()
}

pub fn policy(yaml: &str) -> NetworkPolicy {
    serde_yaml::from_str(yaml).unwrap()
}

pub fn run(netns: &str, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", netns])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Our part of a namespace's firewall, per family, with every set reference replaced by the
/// set's sorted members, so two states compare equal when they filter the same, whatever the
/// sets are called. Also: the FORWARD hook lines and our sets' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallState {
    pub v4: Vec<String>,
    pub v6: Vec<String>,
}

/// Every set's members, sorted, from one `ipset save`.
fn all_set_members(netns: &str) -> BTreeMap<String, String> {
    let mut sets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in run(netns, &["ipset", "save"]).lines() {
        if let Some(rest) = line.strip_prefix("add ") {
            if let Some((set, member)) = rest.split_once(' ') {
                sets.entry(set.to_string())
                    .or_default()
                    .push(member.to_string());
            }
        } else if let Some(rest) = line.strip_prefix("create ") {
            if let Some(set) = rest.split(' ').next() {
                sets.entry(set.to_string()).or_default();
            }
        }
    }
    sets.into_iter()
        .map(|(k, mut v)| {
            v.sort();
            (k, format!("{{{}}}", v.join(",")))
        })
        .collect()
}

fn family_state(netns: &str, save: &str, sets: &BTreeMap<String, String>) -> Vec<String> {
    let text = run(netns, &[save, "-t", "filter"]);
    let mut out = Vec::new();
    for line in text.lines() {
        let ours = line.starts_with(":NETPOL-")
            || line.starts_with("-A NETPOL-")
            || (line.starts_with("-A FORWARD") && line.contains("NETPOL-"));
        if !ours {
            continue;
        }
        let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
        for i in 1..words.len() {
            if words[i - 1] == "--match-set" {
                words[i] = sets
                    .get(&words[i])
                    .cloned()
                    .unwrap_or_else(|| format!("missing set {}", words[i]));
            }
        }
        // Counters on chain declarations change with traffic.
        if line.starts_with(':') {
            words.truncate(1);
        }
        out.push(words.join(" "));
    }
    out
}

pub fn firewall_state(netns: &str) -> FirewallState {
    let sets = all_set_members(netns);
    FirewallState {
        v4: family_state(netns, "iptables-save", &sets),
        v6: family_state(netns, "ip6tables-save", &sets),
    }
}

/// Anything of ours left: chains, rules, hooks (both families) and sets.
pub fn leftovers(netns: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for save in ["iptables-save", "ip6tables-save"] {
        out.extend(
            run(netns, &[save])
                .lines()
                .filter(|l| l.contains("NETPOL") || l.contains("NPDROP"))
                .map(|l| format!("{save}: {l}")),
        );
    }
    out.extend(
        run(netns, &["ipset", "list", "-n"])
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("ipset: {l}")),
    );
    out
}
