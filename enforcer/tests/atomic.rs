//! The node is never half-programmed: `netpol-enforcer apply` is killed (SIGKILL to its whole
//! process group, children included, as when a container is killed) at many moments of a large
//! apply that changes chains and set contents, and each time the node's firewall, read back
//! with the set references resolved to the sets' members, is exactly the old ruleset or the new
//! one (per address family: IPv4 and IPv6 are separate kernel transactions). A later apply
//! recovers and leaves no unused set behind; `remove` leaves no chain, rule or set.
//!
//! `netpol-enforcer apply` runs the same `Applier::apply` as the agent's full syncs (a new
//! policy, a repair, the first sync after a restart). A set-only sync (`Applier::refill_sets`,
//! a pod-only change) edits members in place and is not one transaction: killed there, the sets
//! may hold part of the change (each entry old or new, the chains untouched), and the restarted
//! agent's first sync is a full apply that rewrites every set.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_netpol-enforcer")
}

/// A synthetic cluster: `pods` dual-stack pods over 10 namespaces (half of them on node n0),
/// `policies` policies mixing pod, namespace and ipBlock peers, numbered and named ports,
/// ingress and egress. `shift` changes which pods carry which labels (so sets change content).
fn cluster(pods: usize, policies: usize, shift: usize) -> String {
    let mut out = String::new();
    for n in 0..10 {
        out.push_str(&format!(
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns{n}\n  labels: {{team: t{}}}\n",
            n % 3
        ));
    }
    for i in 0..pods {
        let app = (i / 10 + shift) % 40;
        out.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  namespace: ns{}\n  labels: {{app: a{app}, tier: t{}}}\n\
             spec:\n  nodeName: n{}\n  containers:\n  - name: c\n    ports:\n    - {{name: http, containerPort: {}}}\n\
             status:\n  podIP: 10.{}.{}.{}\n  podIPs: [{{ip: 10.{}.{}.{}}}, {{ip: 'fd00::{:x}'}}]\n",
            i % 10,
            app % 3,
            (i / 7) % 2,
            8000 + app % 3,
            100 + (i >> 16),
            (i >> 8) & 255,
            i & 255,
            100 + (i >> 16),
            (i >> 8) & 255,
            i & 255,
            i + 1
        ));
    }
    for p in 0..policies {
        let ns = p % 10;
        let app = p % 40;
        let peer = match p % 4 {
            0 => format!("podSelector: {{matchLabels: {{app: a{}}}}}", (p + 1) % 40),
            1 => format!(
                "namespaceSelector: {{matchLabels: {{team: t{}}}}}\n      podSelector: {{matchLabels: {{tier: t{}}}}}",
                p % 3,
                (p + 1) % 3
            ),
            2 => format!(
                "ipBlock: {{cidr: 10.{}.0.0/16, except: [10.{}.{}.0/24]}}",
                100 + p % 2,
                100 + p % 2,
                p % 200
            ),
            _ => "namespaceSelector: {}".to_string(),
        };
        let port = if p % 3 == 0 {
            "http".to_string()
        } else {
            (5000 + p % 50).to_string()
        };
        let (dir, key) = if p % 5 == 4 {
            ("Egress", "egress:\n  - to")
        } else {
            ("Ingress", "ingress:\n  - from")
        };
        out.push_str(&format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: pol{p}\n  namespace: ns{ns}\n\
             spec:\n  podSelector: {{matchLabels: {{app: a{app}}}}}\n  policyTypes: [{dir}]\n  {key}:\n    - {peer}\n    ports: [{{port: {port}}}]\n"
        ));
    }
    out
}

struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("netpol-{tag}-{}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "delete", &name])
            .stderr(Stdio::null())
            .status();
        assert!(Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap()
            .success());
        Netns(name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .status();
    }
}

fn enforcer(netns: &str, sub: &str, args: &[&str]) -> Command {
    let mut c = Command::new(exe());
    c.arg(sub)
        .args(["--netns", netns, "--iptables", "system"])
        .args(args)
        .env("NETPOL_LOG", "warn");
    c
}

fn apply(netns: &str, file: &std::path::Path) {
    let out = enforcer(netns, "apply", &["--node", "n0", "-f"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sets that exist but no rule references (garbage of a killed apply).
fn unreferenced_sets(netns: &str) -> Vec<String> {
    let mut referenced = std::collections::BTreeSet::new();
    for save in ["iptables-save", "ip6tables-save"] {
        for line in run(netns, &[save]).lines() {
            let words: Vec<&str> = line.split(' ').collect();
            for w in words.windows(2) {
                if w[0] == "--match-set" {
                    referenced.insert(w[1].to_string());
                }
            }
        }
    }
    run(netns, &["ipset", "list", "-n"])
        .lines()
        .map(str::trim)
        .filter(|s| !s.is_empty() && !referenced.contains(*s))
        .map(str::to_string)
        .collect()
}

#[test]
fn killing_the_agent_mid_apply_leaves_the_old_or_the_new_rules_never_a_mix() {
    let _serial = require_root();
    let ns = Netns::new("atomic");
    let dir = std::env::temp_dir().join(format!("netpol-atomic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let old_file = dir.join("old.yaml");
    let new_file = dir.join("new.yaml");
    std::fs::write(&old_file, cluster(1500, 60, 0)).unwrap();
    std::fs::write(&new_file, cluster(1500, 400, 7)).unwrap();

    apply(&ns.0, &old_file);
    let old = firewall_state(&ns.0);
    apply(&ns.0, &new_file);
    let new = firewall_state(&ns.0);
    assert_ne!(old.v4, new.v4);
    assert_ne!(old.v6, new.v6);
    assert!(new.v4.len() > 500, "a large apply: {} lines", new.v4.len());
    assert!(unreferenced_sets(&ns.0).is_empty());

    // How long the apply itself takes (after parsing and compiling).
    let mut apply_time = Duration::ZERO;
    let mut outcomes = (0, 0, 0); // (old, new, mixed families)
    let mut mid_apply = 0;
    let kills = 12;
    for k in 0..=kills {
        apply(&ns.0, &old_file);
        assert_eq!(firewall_state(&ns.0), old, "re-applying the old rules");
        let mut child = enforcer(&ns.0, "apply", &["--node", "n0", "-f"])
            .arg(&new_file)
            .env("NETPOL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        // Wait for "applying" (compiling is done), then kill after a delay spread over the
        // measured apply time; k == 0 measures it.
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while err.read_line(&mut line).unwrap() > 0 && !line.contains("applying") {
            line.clear();
        }
        let start = Instant::now();
        if k == 0 {
            assert!(child.wait().unwrap().success());
            apply_time = start.elapsed();
            assert_eq!(firewall_state(&ns.0), new);
            continue;
        }
        std::thread::sleep(apply_time * k / kills);
        let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
        let got = firewall_state(&ns.0);
        let v4 = if got.v4 == old.v4 {
            "old"
        } else if got.v4 == new.v4 {
            "new"
        } else {
            panic!(
                "IPv4 half-programmed after a kill at {:?}:\n{}",
                apply_time * k / kills,
                got.v4.join("\n")
            )
        };
        let v6 = if got.v6 == old.v6 {
            "old"
        } else if got.v6 == new.v6 {
            "new"
        } else {
            panic!(
                "IPv6 half-programmed after a kill at {:?}",
                apply_time * k / kills
            )
        };
        match (v4, v6) {
            ("old", "old") => {
                outcomes.0 += 1;
                // Killed after writing sets, before the commit: truly mid-apply.
                if !unreferenced_sets(&ns.0).is_empty() {
                    mid_apply += 1;
                }
            }
            ("new", "new") => outcomes.1 += 1,
            _ => outcomes.2 += 1,
        }
    }
    eprintln!(
        "apply of {} IPv4 rule lines took {apply_time:?}; after {kills} kills: {} old ({mid_apply} of them after the sets were written), {} new, {} with IPv4 new and IPv6 old",
        new.v4.len(),
        outcomes.0,
        outcomes.1,
        outcomes.2
    );
    // The kills must have landed inside the apply, or the test proves nothing: some before the
    // commit and some after the node started changing.
    assert!(outcomes.0 > 0, "no kill landed before the commit");
    assert!(
        mid_apply + outcomes.1 + outcomes.2 > 0,
        "no kill landed after the apply started changing the node"
    );
    // A restarted agent reconciles: the new rules, and the sets killed runs left are gone.
    apply(&ns.0, &new_file);
    assert_eq!(firewall_state(&ns.0), new);
    assert_eq!(unreferenced_sets(&ns.0), Vec::<String>::new());

    // Uninstall: nothing of ours is left.
    let out = enforcer(&ns.0, "remove", &[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left = leftovers(&ns.0);
    assert!(left.is_empty(), "left behind:\n{}", left.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
