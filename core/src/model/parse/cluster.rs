//! ClusterNetworkPolicy (v1alpha2), AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1)
//! and Node. Validation follows the CRDs of kubernetes-sigs/network-policy-api (the kubebuilder
//! markers and CEL rules of `apis/*/…_types.go`), so what fails here the API server refuses too.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::{
    describe, each, field, join, open_object, parse_cidr, parse_selector, plain, Node, Result,
};
use crate::model::{
    Action, ClusterKind, ClusterPeer, ClusterPolicy, ClusterPort, ClusterRule, ClusterSubject,
    ClusterTier, FieldError, IpBlock, LabelSelector, NamespacedPods, Protocol, Source,
};

/// The limits and choices that differ between the API versions.
struct Dialect {
    kind: ClusterKind,
    /// MaxItems of ingress/egress, of from/to, and of protocols/ports.
    max_rules: usize,
    /// Actions as written, with their meaning.
    actions: &'static [(&'static str, Action)],
    /// Egress peer fields this kind offers.
    egress_peers: &'static [&'static str],
    /// v1alpha1's NamespacedPod requires namespaceSelector; v1alpha2 makes it optional.
    namespace_selector_required: bool,
}

const INGRESS_PEERS: &[&str] = &["namespaces", "pods"];

fn dialect(kind: ClusterKind) -> Dialect {
    match kind {
        ClusterKind::ClusterNetworkPolicy => Dialect {
            kind,
            max_rules: 25,
            actions: &[
                ("Accept", Action::Accept),
                ("Deny", Action::Deny),
                ("Pass", Action::Pass),
            ],
            egress_peers: &["namespaces", "pods", "nodes", "networks", "domainNames"],
            namespace_selector_required: false,
        },
        ClusterKind::AdminNetworkPolicy => Dialect {
            kind,
            max_rules: 100,
            actions: &[
                ("Allow", Action::Accept),
                ("Deny", Action::Deny),
                ("Pass", Action::Pass),
            ],
            egress_peers: &["namespaces", "pods", "nodes", "networks", "domainNames"],
            namespace_selector_required: true,
        },
        ClusterKind::BaselineAdminNetworkPolicy => Dialect {
            kind,
            max_rules: 100,
            actions: &[("Allow", Action::Accept), ("Deny", Action::Deny)],
            egress_peers: &["namespaces", "pods", "nodes", "networks"],
            namespace_selector_required: true,
        },
    }
}

/// A required field, or an error that says it is missing and what it should hold.
fn required<'a>(
    map: &'a Map<String, Value>,
    parent: &str,
    key: &str,
    what: &str,
) -> Result<&'a Value> {
    field(map, key).ok_or_else(|| FieldError::new(join(parent, key), format!("missing: {what}")))
}

/// Exactly one of `keys` is set (MinProperties=1, MaxProperties=1 on the CRD).
fn one_of<'a>(node: Node<'a, '_>, keys: &[&str], what: &str) -> Result<(&'a str, &'a Value)> {
    let map = node.object(keys)?;
    let set: Vec<(&String, &Value)> = map.iter().filter(|(_, v)| !v.is_null()).collect();
    match set.as_slice() {
        [(k, v)] => Ok((k.as_str(), v)),
        [] => Err(node.err(format!(
            "{what} needs exactly one of {}; it has none",
            keys.join(", ")
        ))),
        more => Err(node.err(format!(
            "{what} needs exactly one of {}; it has {}: make them separate list items",
            keys.join(", "),
            more.iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        ))),
    }
}

fn list_len_ok(len: usize, min: usize, max: usize, path: &str, what: &str) -> Result<()> {
    if len < min {
        return Err(FieldError::new(
            path,
            format!(
                "{what} needs at least {min} item{}",
                if min == 1 { "" } else { "s" }
            ),
        ));
    }
    if len > max {
        return Err(FieldError::new(
            path,
            format!("{what} holds {len} items; the API allows at most {max}"),
        ));
    }
    Ok(())
}

fn selector_at(value: &Value, path: &str) -> Result<LabelSelector> {
    parse_selector(Node { value, path })
}

fn parse_namespaced_pods(node: Node<'_, '_>, d: &Dialect) -> Result<NamespacedPods> {
    let map = node.object(&["namespaceSelector", "podSelector"])?;
    let namespaces = match field(map, "namespaceSelector") {
        Some(v) => selector_at(v, &join(node.path, "namespaceSelector"))?,
        None if d.namespace_selector_required => {
            return Err(FieldError::new(
                join(node.path, "namespaceSelector"),
                "missing: write {} to mean every namespace",
            ))
        }
        None => LabelSelector::default(),
    };
    let pods = selector_at(
        required(map, node.path, "podSelector", "write {} to mean every pod")?,
        &join(node.path, "podSelector"),
    )?;
    Ok(NamespacedPods { namespaces, pods })
}

fn parse_subject(node: Node<'_, '_>, d: &Dialect) -> Result<ClusterSubject> {
    let (key, value) = one_of(node, &["namespaces", "pods"], "subject")?;
    let path = join(node.path, key);
    Ok(match key {
        "namespaces" => ClusterSubject::Namespaces(selector_at(value, &path)?),
        _ => ClusterSubject::Pods(parse_namespaced_pods(Node { value, path: &path }, d)?),
    })
}

/// Up to 25 distinct items (`listType=set`, MinItems=1, MaxItems=25).
fn set_of_strings<'a>(value: &'a Value, path: &str, what: &str) -> Result<Vec<(String, &'a str)>> {
    let items = Node { value, path }.list()?;
    list_len_ok(items.len(), 1, 25, path, what)?;
    let mut out: Vec<(String, &str)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let s = Node {
            value: item,
            path: &p,
        }
        .str()?;
        if out.iter().any(|(_, seen)| *seen == s) {
            return Err(FieldError::new(
                p,
                format!("{s:?} is listed twice (the list is a set)"),
            ));
        }
        out.push((p, s));
    }
    Ok(out)
}

/// The CRD's DomainName pattern: an optional `*.` prefix, then two or more DNS labels.
fn is_domain_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    let s = s.strip_prefix("*.").unwrap_or(s);
    let labels: Vec<&str> = s.split('.').collect();
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    labels.len() >= 2 && labels.iter().all(|l| label_ok(l))
}

fn parse_peer(node: Node<'_, '_>, allowed: &[&str], d: &Dialect) -> Result<ClusterPeer> {
    let (key, value) = one_of(node, allowed, "a peer")?;
    let path = join(node.path, key);
    Ok(match key {
        "namespaces" => ClusterPeer::Namespaces(selector_at(value, &path)?),
        "pods" => ClusterPeer::Pods(parse_namespaced_pods(Node { value, path: &path }, d)?),
        "nodes" => ClusterPeer::Nodes(selector_at(value, &path)?),
        "networks" => {
            let mut blocks = Vec::new();
            for (p, text) in set_of_strings(value, &path, "networks")? {
                if text.len() > 43 {
                    return Err(FieldError::new(p, "a CIDR is at most 43 characters"));
                }
                blocks.push(IpBlock {
                    cidr_text: text.to_string(),
                    cidr: parse_cidr(text, &p)?,
                    except: Vec::new(),
                });
            }
            ClusterPeer::Networks(blocks)
        }
        _ => {
            let mut names = Vec::new();
            for (p, name) in set_of_strings(value, &path, "domainNames")? {
                if !is_domain_name(name) {
                    return Err(FieldError::new(p, format!("{name:?} is not a domain name: write e.g. example.com, or *.example.com for its subdomains ('*' only as the whole first label)")));
                }
                names.push(name.to_string());
            }
            ClusterPeer::DomainNames(names)
        }
    })
}

fn port_in_range(v: &Value, path: &str) -> Result<u16> {
    match v.as_i64() {
        Some(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err(FieldError::new(
            path,
            format!("{} is not a port: use a number 1-65535", plain(v)),
        )),
    }
}

/// `{start, end}`; v1alpha2 refuses start >= end (CEL `self.start < self.end`), v1alpha1 has no
/// such rule, but a start above the end matches nothing, which is never meant.
fn parse_range(node: Node<'_, '_>, extra: &[&str], strict: bool) -> Result<(u16, u16)> {
    let mut keys = vec!["start", "end"];
    keys.extend_from_slice(extra);
    let map = node.object(&keys)?;
    let start = port_in_range(
        required(map, node.path, "start", "a range needs start and end")?,
        &join(node.path, "start"),
    )?;
    let end = port_in_range(
        required(map, node.path, "end", "a range needs start and end")?,
        &join(node.path, "end"),
    )?;
    if (strict && start >= end) || start > end {
        return Err(FieldError::new(
            join(node.path, "end"),
            format!("end {end} must be greater than start {start}; for one port use number instead of range"),
        ));
    }
    Ok((start, end))
}

fn protocol_of(map: &Map<String, Value>, path: &str) -> Result<Protocol> {
    match field(map, "protocol") {
        None => Ok(Protocol::Tcp),
        Some(v) => {
            let p = join(path, "protocol");
            match (Node { value: v, path: &p }).str()? {
                "TCP" => Ok(Protocol::Tcp),
                "UDP" => Ok(Protocol::Udp),
                "SCTP" => Ok(Protocol::Sctp),
                other => Err(FieldError::new(
                    p,
                    format!("unknown protocol {other:?}: use TCP, UDP or SCTP (upper case)"),
                )),
            }
        }
    }
}

fn named_port(value: &Value, path: &str) -> Result<ClusterPort> {
    let name = Node { value, path }.str()?;
    if name.is_empty() {
        return Err(FieldError::new(
            path,
            "empty: write the container port's name",
        ));
    }
    Ok(ClusterPort::Named(name.to_string()))
}

/// v1alpha2 `protocols[]`: `tcp|udp|sctp: {destinationPort: {number} | {range}}` or
/// `destinationNamedPort`.
fn parse_protocol_entry(node: Node<'_, '_>) -> Result<ClusterPort> {
    let (key, value) = one_of(
        node,
        &["tcp", "udp", "sctp", "destinationNamedPort"],
        "a protocols entry",
    )?;
    let path = join(node.path, key);
    let protocol = match key {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "sctp" => Protocol::Sctp,
        _ => return named_port(value, &path),
    };
    let inner = Node { value, path: &path };
    let map = inner.object(&["destinationPort"])?;
    let dest = field(map, "destinationPort").ok_or_else(|| {
        inner.err(format!(
            "{key} needs destinationPort (number or range); to match every {} port, list no protocols",
            protocol.as_str()
        ))
    })?;
    let dest_path = join(&path, "destinationPort");
    let (which, v) = one_of(
        Node {
            value: dest,
            path: &dest_path,
        },
        &["number", "range"],
        "destinationPort",
    )?;
    let p = join(&dest_path, which);
    let (start, end) = match which {
        "number" => {
            let n = port_in_range(v, &p)?;
            (n, n)
        }
        _ => parse_range(Node { value: v, path: &p }, &[], true)?,
    };
    Ok(ClusterPort::Range {
        protocol,
        start,
        end,
    })
}

/// v1alpha1 `ports[]`: `portNumber {protocol, port}`, `namedPort`, `portRange {protocol, start, end}`.
fn parse_port_entry(node: Node<'_, '_>) -> Result<ClusterPort> {
    let (key, value) = one_of(
        node,
        &["portNumber", "namedPort", "portRange"],
        "a ports entry",
    )?;
    let path = join(node.path, key);
    let inner = Node { value, path: &path };
    match key {
        "namedPort" => named_port(value, &path),
        "portNumber" => {
            let map = inner.object(&["protocol", "port"])?;
            let protocol = protocol_of(map, &path)?;
            let port = port_in_range(
                required(map, &path, "port", "portNumber needs port (1-65535)")?,
                &join(&path, "port"),
            )?;
            Ok(ClusterPort::Range {
                protocol,
                start: port,
                end: port,
            })
        }
        _ => {
            let map = inner.object(&["protocol", "start", "end"])?;
            let protocol = protocol_of(map, &path)?;
            let (start, end) = parse_range(inner, &["protocol"], false)?;
            Ok(ClusterPort::Range {
                protocol,
                start,
                end,
            })
        }
    }
}

fn parse_rule_name(map: &Map<String, Value>, path: &str) -> Result<String> {
    let Some(v) = field(map, "name") else {
        return Ok(String::new());
    };
    let p = join(path, "name");
    let n = Node { value: v, path: &p }.str()?;
    if n.chars().count() > 100 {
        return Err(FieldError::new(p, "a rule name is at most 100 characters"));
    }
    Ok(n.to_string())
}

/// A rule's action in the kind's words (v1alpha1 Allow, v1alpha2 Accept), with a hint when the
/// other version's word was used.
fn parse_action(map: &Map<String, Value>, path: &str, d: &Dialect) -> Result<Action> {
    let action_path = join(path, "action");
    let written: Vec<&str> = d.actions.iter().map(|(w, _)| *w).collect();
    let action_text = Node {
        value: required(map, path, "action", &format!("use {}", written.join(", ")))?,
        path: &action_path,
    }
    .str()?;
    let action = d
        .actions
        .iter()
        .find(|(w, _)| *w == action_text)
        .map(|(_, a)| *a)
        .ok_or_else(|| {
            let hint = match (d.kind, action_text) {
                (ClusterKind::ClusterNetworkPolicy, "Allow") => {
                    " (Allow is v1alpha1's word; ClusterNetworkPolicy says Accept)".to_string()
                }
                (k, "Accept") if k.is_v1alpha1() => {
                    format!(" (Accept is v1alpha2's word; {} says Allow)", k.kind())
                }
                (ClusterKind::BaselineAdminNetworkPolicy, "Pass") => {
                    " (there is no tier below the baseline to pass to)".to_string()
                }
                _ => String::new(),
            };
            FieldError::new(
                &action_path,
                format!(
                    "unknown action {action_text:?}: {} takes {} (case matters){hint}",
                    d.kind.kind(),
                    written.join(", ")
                ),
            )
        })?;
    Ok(action)
}

/// `ports` (v1alpha1) or `protocols` (v1alpha2); none means every port.
fn parse_rule_ports(
    map: &Map<String, Value>,
    path: &str,
    ports_key: &str,
    d: &Dialect,
) -> Result<Vec<ClusterPort>> {
    if field(map, ports_key).is_none() {
        return Ok(Vec::new());
    }
    let parse = if d.kind.is_v1alpha1() {
        parse_port_entry
    } else {
        parse_protocol_entry
    };
    let ports = each(map, path, ports_key, parse)?.unwrap_or_default();
    list_len_ok(
        ports.len(),
        1,
        d.max_rules,
        &join(path, ports_key),
        &format!("{ports_key} (omit it to match every port)"),
    )?;
    Ok(ports)
}

fn parse_rule(
    node: Node<'_, '_>,
    dir: crate::model::Direction,
    d: &Dialect,
) -> Result<ClusterRule> {
    let ingress = dir == crate::model::Direction::Ingress;
    let peers_key = if ingress { "from" } else { "to" };
    let ports_key = if d.kind.is_v1alpha1() {
        "ports"
    } else {
        "protocols"
    };
    let map = node.object(&["name", "action", peers_key, ports_key])?;
    let name = parse_rule_name(map, node.path)?;
    let action = parse_action(map, node.path, d)?;
    let peer_fields = if ingress {
        INGRESS_PEERS
    } else {
        d.egress_peers
    };
    let peers_path = join(node.path, peers_key);
    required(
        map,
        node.path,
        peers_key,
        &format!(
            "a rule needs at least one peer in {peers_key} ({})",
            peer_fields.join(", ")
        ),
    )?;
    let peers =
        each(map, node.path, peers_key, |n| parse_peer(n, peer_fields, d))?.unwrap_or_default();
    list_len_ok(peers.len(), 1, d.max_rules, &peers_path, peers_key)?;
    let ports = parse_rule_ports(map, node.path, ports_key, d)?;
    // CEL on the egress rule: a named port means nothing for addresses outside the pods.
    if !ingress && ports.iter().any(|p| matches!(p, ClusterPort::Named(_))) {
        if let Some(i) = peers.iter().position(|p| {
            matches!(
                p,
                ClusterPeer::Networks(_) | ClusterPeer::Nodes(_) | ClusterPeer::DomainNames(_)
            )
        }) {
            return Err(FieldError::new(
                format!("{peers_path}[{i}]"),
                format!("a networks, nodes or domainNames peer cannot be used with a named port in {ports_key}: they have no named ports; use port numbers, or put the named port in a rule of its own"),
            ));
        }
    }
    Ok(ClusterRule {
        name,
        action,
        peers,
        ports,
    })
}

/// `spec.tier` of a ClusterNetworkPolicy; the v1alpha1 kinds say it by their kind.
fn parse_tier(spec: &Map<String, Value>, kind: ClusterKind) -> Result<ClusterTier> {
    match kind {
        ClusterKind::AdminNetworkPolicy => return Ok(ClusterTier::Admin),
        ClusterKind::BaselineAdminNetworkPolicy => return Ok(ClusterTier::Baseline),
        ClusterKind::ClusterNetworkPolicy => {}
    }
    let v = required(spec, "spec", "tier", "use Admin or Baseline")?;
    match (Node {
        value: v,
        path: "spec.tier",
    })
    .str()?
    {
        "Admin" => Ok(ClusterTier::Admin),
        "Baseline" => Ok(ClusterTier::Baseline),
        other => Err(FieldError::new(
            "spec.tier",
            format!("unknown tier {other:?}: use Admin or Baseline (case matters)"),
        )),
    }
}

/// `spec.priority`, 0 to 1000; the baseline (one per cluster) has none.
fn parse_priority(spec: &Map<String, Value>, kind: ClusterKind) -> Result<u32> {
    if kind == ClusterKind::BaselineAdminNetworkPolicy {
        return Ok(0);
    }
    let v = required(
        spec,
        "spec",
        "priority",
        "a number from 0 (first) to 1000 (last)",
    )?;
    match v.as_i64() {
        Some(n) if (0..=1000).contains(&n) && v.is_i64() => Ok(n as u32),
        _ => Err(FieldError::new(
            "spec.priority",
            format!(
                "priority {} is out of range: use a whole number from 0 (evaluated first) to 1000",
                match v {
                    Value::Number(_) => plain(v),
                    other => describe(other),
                }
            ),
        )),
    }
}

/// Parses a ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy (`kind`
/// says which). Unknown fields in `spec` are errors, as the structural CRD prunes or refuses them.
pub fn parse_cluster_policy_object(
    obj: &Value,
    kind: ClusterKind,
    source: Source,
) -> std::result::Result<ClusterPolicy, (Option<String>, FieldError)> {
    let (map, meta, _namespace, _) = open_object(obj, kind.kind(), "")?;
    let label = format!("{} {}", kind.kind(), meta.name);
    let wrap = |e: FieldError| (Some(label.clone()), e);
    let d = dialect(kind);
    if kind == ClusterKind::BaselineAdminNetworkPolicy && meta.name != "default" {
        return Err(wrap(FieldError::new(
            "metadata.name",
            format!("a BaselineAdminNetworkPolicy must be named \"default\" (there is one per cluster), not {:?}", meta.name),
        )));
    }
    let spec_value = field(map, "spec").ok_or_else(|| {
        wrap(FieldError::new(
            "spec",
            format!("missing: a {} needs a spec with subject", kind.kind()),
        ))
    })?;
    let spec_node = Node {
        value: spec_value,
        path: "spec",
    };
    let spec_keys: &[&str] = match kind {
        ClusterKind::ClusterNetworkPolicy => &["tier", "priority", "subject", "ingress", "egress"],
        ClusterKind::AdminNetworkPolicy => &["priority", "subject", "ingress", "egress"],
        ClusterKind::BaselineAdminNetworkPolicy => &["subject", "ingress", "egress"],
    };
    let spec = spec_node.object(spec_keys).map_err(wrap)?;
    let tier = parse_tier(spec, kind).map_err(wrap)?;
    let priority = parse_priority(spec, kind).map_err(wrap)?;
    let subject_value = required(
        spec,
        "spec",
        "subject",
        "use namespaces or pods to say which pods the policy applies to",
    )
    .map_err(wrap)?;
    let subject = parse_subject(
        Node {
            value: subject_value,
            path: "spec.subject",
        },
        &d,
    )
    .map_err(wrap)?;
    let rules = |dir: crate::model::Direction,
                 key: &str|
     -> std::result::Result<Vec<ClusterRule>, (Option<String>, FieldError)> {
        let list = each(spec, "spec", key, |n| parse_rule(n, dir, &d))
            .map_err(wrap)?
            .unwrap_or_default();
        if list.len() > d.max_rules {
            return Err(wrap(FieldError::new(
                join("spec", key),
                format!(
                    "{} rules; a {} allows at most {}",
                    list.len(),
                    kind.kind(),
                    d.max_rules
                ),
            )));
        }
        Ok(list)
    };
    let ingress = rules(crate::model::Direction::Ingress, "ingress")?;
    let egress = rules(crate::model::Direction::Egress, "egress")?;
    Ok(ClusterPolicy {
        kind,
        name: meta.name,
        tier,
        priority,
        subject,
        ingress,
        egress,
        source,
    })
}

/// Parses a v1 Node: name, labels and the IP addresses of `status.addresses`.
pub fn parse_node_object(
    obj: &Value,
    source: Source,
) -> std::result::Result<crate::model::Node, (Option<String>, FieldError)> {
    let (map, meta, _, _) = open_object(obj, "Node", "")?;
    let label = format!("Node {}", meta.name);
    let mut addresses: Vec<IpAddr> = Vec::new();
    if let Some(Value::Array(list)) = map.get("status").and_then(|s| s.get("addresses")) {
        for (i, item) in list.iter().enumerate() {
            let Some(text) = item.get("address").and_then(Value::as_str) else {
                return Err((
                    Some(label),
                    FieldError::new(
                        format!("status.addresses[{i}].address"),
                        "missing: each address needs address",
                    ),
                ));
            };
            // Hostname and DNS entries are names; an IP entry that is not an IP would make a
            // `nodes` peer miss that node in silence.
            let kind = item.get("type").and_then(Value::as_str).unwrap_or_default();
            match text.parse::<IpAddr>() {
                Ok(ip) if !addresses.contains(&ip) => addresses.push(ip),
                Ok(_) => {}
                Err(_) if matches!(kind, "InternalIP" | "ExternalIP") => {
                    return Err((
                        Some(label),
                        FieldError::new(
                            format!("status.addresses[{i}].address"),
                            format!("{text:?} is not an IP address (its type is {kind})"),
                        ),
                    ))
                }
                Err(_) => {}
            }
        }
    }
    Ok(crate::model::Node {
        name: meta.name,
        labels: meta.labels,
        addresses,
        source,
    })
}

#[cfg(test)]
mod tests {
    use crate::model::*;

    const MIXED: &str = r#"
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: tenancy}
spec:
  tier: Admin
  priority: 20
  subject: {pods: {podSelector: {matchLabels: {app: a}}}}
  egress:
  - name: pass-same-tenant
    action: Pass
    to: [{namespaces: {matchLabels: {tenant: t1}}}]
    protocols: [{tcp: {destinationPort: {range: {start: 80, end: 90}}}}, {destinationNamedPort: http}]
  - {action: Deny, to: [{networks: [10.0.0.1/8]}, {nodes: {}}, {domainNames: ["*.example.com"]}]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: old}
spec:
  priority: 3
  subject: {namespaces: {}}
  ingress:
  - action: Allow
    from: [{pods: {namespaceSelector: {}, podSelector: {}}}]
    ports: [{portNumber: {port: 53, protocol: UDP}}, {portRange: {start: 1, end: 9}}, {namedPort: dns}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {zone: a}}
status: {addresses: [{type: InternalIP, address: 192.168.0.5}, {type: Hostname, address: n1}]}
"#;

    #[test]
    fn both_api_versions_map_to_one_form_in_evaluation_order() {
        let (snap, skipped) = load_str("m.yaml", MIXED, &LoadOptions::default()).unwrap();
        assert!(skipped.is_empty());
        let keys: Vec<String> = snap.cluster_policies.iter().map(|p| p.key()).collect();
        assert_eq!(keys, ["anp/old", "cnp/tenancy", "banp/default"]);
        let old = &snap.cluster_policies[0];
        assert_eq!((old.tier, old.priority), (ClusterTier::Admin, 3));
        assert_eq!(old.ingress[0].action, Action::Accept);
        assert_eq!(
            old.ingress[0].ports,
            vec![
                ClusterPort::Range {
                    protocol: Protocol::Udp,
                    start: 53,
                    end: 53
                },
                ClusterPort::Range {
                    protocol: Protocol::Tcp,
                    start: 1,
                    end: 9
                },
                ClusterPort::Named("dns".into()),
            ]
        );
        let cnp = &snap.cluster_policies[1];
        assert_eq!(cnp.egress[0].name, "pass-same-tenant");
        assert_eq!(cnp.egress[0].action, Action::Pass);
        match &cnp.egress[1].peers[0] {
            ClusterPeer::Networks(b) => assert_eq!(b[0].cidr.to_string(), "10.0.0.0/8"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(&cnp.subject, ClusterSubject::Pods(p) if p.namespaces.is_empty()));
        assert_eq!(snap.cluster_policies[2].tier, ClusterTier::Baseline);
        assert_eq!(
            snap.nodes[0].addresses,
            vec!["192.168.0.5".parse::<std::net::IpAddr>().unwrap()]
        );
        assert!(snap.cluster_api_mix_warning().is_some());
        assert_eq!(snap.find_cluster_policy("CNP/tenancy"), Some(1));
        assert_eq!(snap.find_cluster_policy("banp/default"), Some(2));
        assert_eq!(snap.find_cluster_policy("anp/tenancy"), None);
    }
}
