//! `--terminate-established`: after an update, the open connections it denies are cut.
//!
//! The rules accept ESTABLISHED/RELATED traffic first (that is what makes them cheap), so a deny
//! only stops new connections: a connection opened before the deny keeps flowing for as long as
//! conntrack remembers it. With this option the agent lists conntrack after each sync that
//! changed the rules, asks the engine about every entry between pods (at least one of them on
//! this node; an entry from a pod to an address outside the cluster too), and deletes exactly
//! the entries whose connection the policies now deny. The next packet of such a connection is
//! then NEW again and meets the rules: dropped.
//!
//! Entries that start outside the cluster are left alone (the node's own traffic, kubelet
//! probes, is always allowed and looks the same).

use std::collections::HashMap;
use std::net::IpAddr;

use netpol::enforce::Runner;
use netpol::engine::{Endpoint, Engine, Traffic};
use netpol::model::{Probe, Protocol, Snapshot};

/// One conntrack entry, as its original direction says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub protocol: Protocol,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
}

/// Parses `conntrack -L` output (tcp, udp and sctp lines; the first src/dst/sport/dport are
/// the original direction).
pub fn parse_listing(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let protocol = match words.next() {
            Some("tcp") => Protocol::Tcp,
            Some("udp") => Protocol::Udp,
            Some("sctp") => Protocol::Sctp,
            _ => continue,
        };
        let (mut src, mut dst, mut sport, mut dport) = (None, None, None, None);
        for w in line.split_whitespace() {
            let Some((k, v)) = w.split_once('=') else {
                continue;
            };
            match k {
                "src" if src.is_none() => src = v.parse().ok(),
                "dst" if dst.is_none() => dst = v.parse().ok(),
                "sport" if sport.is_none() => sport = v.parse().ok(),
                "dport" if dport.is_none() => dport = v.parse().ok(),
                _ => {}
            }
        }
        if let (Some(src), Some(dst), Some(sport), Some(dport)) = (src, dst, sport, dport) {
            out.push(Entry {
                protocol,
                src,
                dst,
                sport,
                dport,
            });
        }
    }
    out
}

/// The entries whose connection the policies of `snap` deny, among those this node's rules
/// decide (one end a pod on `node`; the source a pod).
pub fn denied(snap: &Snapshot, node: &str, entries: &[Entry]) -> Vec<Entry> {
    let mut by_ip: HashMap<IpAddr, usize> = HashMap::new();
    for (i, pod) in snap.endpoint_pods() {
        for ip in &pod.ips {
            by_ip.insert(*ip, i);
        }
    }
    let engine = Engine::new(snap);
    let local = |i: usize| snap.pods[i].node.as_deref() == Some(node);
    entries
        .iter()
        .filter(|e| {
            let Some(&from) = by_ip.get(&e.src) else {
                return false;
            };
            let to = by_ip.get(&e.dst).copied();
            if !local(from) && !to.is_some_and(local) {
                return false;
            }
            if to == Some(from) {
                return false;
            }
            let verdict = engine.verdict(&Traffic {
                from: Endpoint::Pod(from),
                to: to.map_or(Endpoint::Ip(e.dst), Endpoint::Pod),
                probe: Probe::new(e.protocol, e.dport),
            });
            !verdict.allowed
        })
        .cloned()
        .collect()
}

/// Lists conntrack (both families), deletes the denied entries, and returns how many
/// connections it cut. Entries are deleted per (protocol, source, destination, port): the
/// policies decide on exactly those, so one `conntrack -D` covers every denied connection of
/// the group.
pub fn terminate<R: Runner>(runner: &R, snap: &Snapshot, node: &str) -> Result<u64, String> {
    let mut deleted = 0;
    for family in ["ipv4", "ipv6"] {
        let listing = runner
            .run("conntrack", &["-L", "-f", family], None)
            .map_err(|e| format!("cannot list conntrack: {e}"))?;
        let mut groups: std::collections::BTreeMap<(String, String, String, u16), u64> =
            std::collections::BTreeMap::new();
        for e in denied(snap, node, &parse_listing(&listing)) {
            *groups
                .entry((
                    e.protocol.as_str().to_ascii_lowercase(),
                    e.src.to_string(),
                    e.dst.to_string(),
                    e.dport,
                ))
                .or_insert(0) += 1;
        }
        for ((proto, src, dst, dport), n) in groups {
            let dport = dport.to_string();
            let args = [
                "-D", "-f", family, "-p", &proto, "-s", &src, "-d", &dst, "--dport", &dport,
            ];
            // Gone already (the connection closed meanwhile) is not a failure.
            if runner.run("conntrack", &args, None).is_ok() {
                deleted += n;
            }
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_original_direction() {
        let text = "tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=40000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=40000 [ASSURED] mark=0 use=1\n\
udp      17 29 src=fd00::1 dst=fd00::2 sport=5000 dport=53 [UNREPLIED] src=fd00::2 dst=fd00::1 sport=53 dport=5000 mark=0 use=1\n\
icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=1 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=1 mark=0 use=1\n\
conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.\n";
        let e = parse_listing(text);
        assert_eq!(e.len(), 2);
        assert_eq!(
            e[0],
            Entry {
                protocol: Protocol::Tcp,
                src: "10.0.0.1".parse().unwrap(),
                dst: "10.0.0.2".parse().unwrap(),
                sport: 40000,
                dport: 80
            }
        );
        assert_eq!(e[1].protocol, Protocol::Udp);
        assert_eq!(e[1].dport, 53);
    }

    #[test]
    fn only_denied_entries_between_pods_of_this_node() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: x, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: x, labels: {app: db}}
spec: {nodeName: n1, containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: x, labels: {app: api}}
spec: {nodeName: n1, containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.3}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: x}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}]}]
"#;
        let (snap, _) =
            netpol::model::load_str("t.yaml", yaml, &Default::default()).expect("manifests");
        let entry = |src: &str, dst: &str, dport| Entry {
            protocol: Protocol::Tcp,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            sport: 40000,
            dport,
        };
        let all = vec![
            entry("10.0.0.1", "10.0.0.2", 5432),    // web -> db: denied
            entry("10.0.0.3", "10.0.0.2", 5432),    // api -> db: allowed
            entry("10.0.0.3", "10.0.0.1", 80),      // api -> web: not isolated
            entry("192.168.1.1", "10.0.0.2", 5432), // from outside: left alone
        ];
        assert_eq!(denied(&snap, "n1", &all), vec![all[0].clone()]);
        assert!(denied(&snap, "other-node", &all).is_empty());
    }
}
