//! Turning one Kubernetes object (as JSON) into model types, with exact field paths in errors.
//! Validation follows the API server's (ValidateNetworkPolicy), so what fails here would also
//! be refused by `kubectl apply`.
//!
//! Here: reading JSON with paths (fields, lists, label maps and their validation, selectors,
//! peers, ports, metadata) and the Namespace. `policy`: NetworkPolicy; `pod`: pods and workload
//! templates; `cluster`: the cluster-scoped policies and Node.

use serde_json::{Map, Value};

use super::error::FieldError;
use super::*;

mod cluster;
mod pod;
mod policy;
pub use cluster::{parse_cluster_policy_object, parse_node_object};
pub use pod::parse_pod_object;
pub(crate) use pod::template_path;
pub use policy::parse_policy_object;

type Result<T> = std::result::Result<T, FieldError>;

/// A value and the path that led to it.
#[derive(Clone, Copy)]
struct Node<'a, 'p> {
    value: &'a Value,
    path: &'p str,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Node<'a, '_> {
    fn err(&self, message: impl Into<String>) -> FieldError {
        FieldError::new(self.path, message)
    }

    /// The object's map, refusing keys outside `allowed` (like `kubectl --validate=strict`).
    fn object(&self, allowed: &[&str]) -> Result<&'a Map<String, Value>> {
        let map = self.value.as_object().ok_or_else(|| {
            self.err(format!(
                "expected an object, found {}",
                describe(self.value)
            ))
        })?;
        if !allowed.is_empty() {
            if let Some(bad) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
                return Err(FieldError::new(
                    join(self.path, bad),
                    format!(
                        "unknown field {bad:?}; valid fields here are: {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(map)
    }

    fn str(&self) -> Result<&'a str> {
        self.value
            .as_str()
            .ok_or_else(|| self.err(format!("expected a string, found {}", describe(self.value))))
    }

    fn list(&self) -> Result<&'a Vec<Value>> {
        self.value
            .as_array()
            .ok_or_else(|| self.err(format!("expected a list, found {}", describe(self.value))))
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Looks up `key` in `map`; null counts as absent, as it does for the API server.
fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

/// Runs `f` on every element of an optional list field, with indexed paths.
fn each<'a, T>(
    map: &'a Map<String, Value>,
    parent: &str,
    key: &str,
    mut f: impl for<'p> FnMut(Node<'a, 'p>) -> Result<T>,
) -> Result<Option<Vec<T>>> {
    let Some(v) = field(map, key) else {
        return Ok(None);
    };
    let path = join(parent, key);
    let items = Node {
        value: v,
        path: &path,
    }
    .list()?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        out.push(f(Node {
            value: item,
            path: &p,
        })?);
    }
    Ok(Some(out))
}

fn string_map(node: Node<'_, '_>) -> Result<Labels> {
    let map = node.object(&[])?;
    let mut out = Labels::new();
    for (k, v) in map {
        let p = join(node.path, k);
        let v = match v {
            Value::String(s) => s.clone(),
            // YAML turns `version: 1` and `enabled: true` into numbers and booleans; the API
            // server refuses them. Say so, with the fix.
            other => {
                return Err(FieldError::new(
                    p,
                    format!(
                        "label values must be strings, found {}: quote it, e.g. \"{}\"",
                        describe(other),
                        plain(other)
                    ),
                ))
            }
        };
        out.insert(k.clone(), v);
    }
    Ok(out)
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Label keys: optional DNS-subdomain prefix and a name of at most 63 characters.
fn validate_label_key(key: &str, path: &str) -> Result<()> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty() && name.len() <= 63 && is_label_value_chars(name);
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            })
    });
    if name_ok && prefix_ok {
        Ok(())
    } else {
        Err(FieldError::new(
            path,
            format!("invalid label key {key:?}: a key is an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (e.g. app or example.com/tier)"),
        ))
    }
}

fn is_label_value_chars(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(|c| c.is_ascii_alphanumeric())
        && b.last().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn validate_label_value(value: &str, path: &str) -> Result<()> {
    if value.is_empty() || (value.len() <= 63 && is_label_value_chars(value)) {
        Ok(())
    } else {
        Err(FieldError::new(
            path,
            format!("invalid label value {value:?}: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (or empty)"),
        ))
    }
}

fn validate_labels(labels: &Labels, path: &str) -> Result<()> {
    for (k, v) in labels {
        let p = join(path, k);
        validate_label_key(k, &p)?;
        validate_label_value(v, &p)?;
    }
    Ok(())
}

fn parse_selector(node: Node<'_, '_>) -> Result<LabelSelector> {
    let map = node.object(&["matchLabels", "matchExpressions"])?;
    let mut sel = LabelSelector::default();
    if let Some(v) = field(map, "matchLabels") {
        let p = join(node.path, "matchLabels");
        sel.match_labels = string_map(Node { value: v, path: &p })?;
        validate_labels(&sel.match_labels, &p)?;
    }
    if let Some(reqs) = each(map, node.path, "matchExpressions", parse_requirement)? {
        sel.match_expressions = reqs;
    }
    Ok(sel)
}

fn parse_requirement(node: Node<'_, '_>) -> Result<Requirement> {
    let map = node.object(&["key", "operator", "values"])?;
    let key_path = join(node.path, "key");
    let key = match field(map, "key") {
        Some(v) => Node {
            value: v,
            path: &key_path,
        }
        .str()?
        .to_string(),
        None => {
            return Err(FieldError::new(
                key_path,
                "missing: every matchExpressions entry needs a key",
            ))
        }
    };
    validate_label_key(&key, &key_path)?;
    let op_path = join(node.path, "operator");
    let op_text = field(map, "operator")
        .map(|v| {
            Node {
                value: v,
                path: &op_path,
            }
            .str()
        })
        .transpose()?;
    let operator = match op_text {
        Some("In") => Operator::In,
        Some("NotIn") => Operator::NotIn,
        Some("Exists") => Operator::Exists,
        Some("DoesNotExist") => Operator::DoesNotExist,
        Some(other) => {
            return Err(FieldError::new(
                op_path,
                format!(
                "unknown operator {other:?}: use In, NotIn, Exists or DoesNotExist (case matters)"
            ),
            ))
        }
        None => {
            return Err(FieldError::new(
                op_path,
                "missing: use In, NotIn, Exists or DoesNotExist",
            ))
        }
    };
    let values_path = join(node.path, "values");
    let values: Vec<String> = each(map, node.path, "values", |n| {
        let s = n.str()?;
        validate_label_value(s, n.path)?;
        Ok(s.to_string())
    })?
    .unwrap_or_default();
    match operator {
        Operator::In | Operator::NotIn if values.is_empty() => Err(FieldError::new(
            values_path,
            format!("operator {operator:?} needs at least one value"),
        )),
        Operator::Exists | Operator::DoesNotExist if !values.is_empty() => Err(FieldError::new(
            values_path,
            format!("operator {operator:?} takes no values: remove values, or use In/NotIn"),
        )),
        _ => Ok(Requirement {
            key,
            operator,
            values,
        }),
    }
}

fn parse_cidr(text: &str, path: &str) -> Result<ipnet::IpNet> {
    let net: ipnet::IpNet = text.trim().parse().map_err(|_| {
        FieldError::new(
            path,
            format!("invalid CIDR {text:?}: write an address and a prefix length, e.g. 10.0.0.0/8 or 2001:db8::/32"),
        )
    })?;
    Ok(net.trunc())
}

fn parse_ip_block(node: Node<'_, '_>) -> Result<IpBlock> {
    let map = node.object(&["cidr", "except"])?;
    let cidr_path = join(node.path, "cidr");
    let cidr_text = match field(map, "cidr") {
        Some(v) => Node {
            value: v,
            path: &cidr_path,
        }
        .str()?
        .to_string(),
        None => {
            return Err(FieldError::new(
                cidr_path,
                "missing: an ipBlock needs a cidr, e.g. 10.0.0.0/8",
            ))
        }
    };
    let cidr = parse_cidr(&cidr_text, &cidr_path)?;
    let except = each(map, node.path, "except", |n| {
        let e = parse_cidr(n.str()?, n.path)?;
        let same_family = matches!(
            (cidr, e),
            (ipnet::IpNet::V4(_), ipnet::IpNet::V4(_)) | (ipnet::IpNet::V6(_), ipnet::IpNet::V6(_))
        );
        if !same_family || !cidr.contains(&e) || e.prefix_len() <= cidr.prefix_len() {
            return Err(n.err(format!(
                "except {e} must be a strict subset of the cidr {cidr}"
            )));
        }
        Ok(e)
    })?
    .unwrap_or_default();
    Ok(IpBlock {
        cidr_text,
        cidr,
        except,
    })
}

fn parse_peer(node: Node<'_, '_>, allow_ip: bool) -> Result<Peer> {
    let map = node.object(&["podSelector", "namespaceSelector", "ipBlock"])?;
    let pods = field(map, "podSelector")
        .map(|v| {
            parse_selector(Node {
                value: v,
                path: &join(node.path, "podSelector"),
            })
        })
        .transpose()?;
    let namespaces = field(map, "namespaceSelector")
        .map(|v| {
            parse_selector(Node {
                value: v,
                path: &join(node.path, "namespaceSelector"),
            })
        })
        .transpose()?;
    if let Some(v) = field(map, "ipBlock") {
        if pods.is_some() || namespaces.is_some() {
            return Err(node.err(
                "ipBlock cannot be combined with podSelector or namespaceSelector in one peer: make them separate list items",
            ));
        }
        let _ = allow_ip;
        return Ok(Peer::IpBlock(parse_ip_block(Node {
            value: v,
            path: &join(node.path, "ipBlock"),
        })?));
    }
    match (namespaces, pods) {
        (None, None) => Err(node.err(
            "a peer needs podSelector, namespaceSelector or ipBlock; to allow every peer, omit from/to instead",
        )),
        (None, Some(pods)) => Ok(Peer::Pods { namespaces: NamespaceScope::PolicyNamespace, pods }),
        (Some(ns), pods) => Ok(Peer::Pods { namespaces: NamespaceScope::Selector(ns), pods: pods.unwrap_or_default() }),
    }
}

/// IANA service names, as container ports and policies may use them.
fn is_port_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && s.chars().any(|c| c.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn port_number(v: &Value, path: &str) -> Result<u16> {
    match v.as_i64() {
        Some(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err(FieldError::new(
            path,
            format!("port {} is out of range: use 1-65535", plain(v)),
        )),
    }
}

fn parse_protocol(map: &Map<String, Value>, path: &str) -> Result<Protocol> {
    let p = join(path, "protocol");
    match field(map, "protocol") {
        None => Ok(Protocol::Tcp),
        Some(v) => {
            let s = Node { value: v, path: &p }.str()?.to_string();
            match s.as_str() {
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

fn parse_policy_port(node: Node<'_, '_>) -> Result<PolicyPort> {
    let map = node.object(&["protocol", "port", "endPort"])?;
    let protocol = parse_protocol(map, node.path)?;
    let port_path = join(node.path, "port");
    let port = match field(map, "port") {
        None => None,
        Some(Value::String(s)) if is_port_name(s) => Some(PortSpec::Name(s.clone())),
        Some(Value::String(s)) => {
            return Err(FieldError::new(
                port_path,
                format!("{s:?} is neither a port number nor a valid port name: a number must not be quoted, a name is up to 15 lower-case letters, digits and '-' with at least one letter (e.g. http)"),
            ))
        }
        Some(v @ Value::Number(_)) => Some(PortSpec::Number(port_number(v, &port_path)?)),
        Some(other) => return Err(FieldError::new(port_path, format!("expected a port number or name, found {}", describe(other)))),
    };
    let end_path = join(node.path, "endPort");
    let end_port = match field(map, "endPort") {
        None => None,
        Some(v) => {
            let end = port_number(v, &end_path)?;
            match &port {
                Some(PortSpec::Number(start)) if end >= *start => Some(end),
                Some(PortSpec::Number(start)) => {
                    return Err(FieldError::new(
                        end_path,
                        format!("endPort {end} is below port {start}: endPort must be >= port"),
                    ))
                }
                Some(PortSpec::Name(_)) => {
                    return Err(FieldError::new(
                        end_path,
                        "endPort needs a numeric port; it cannot follow a named port",
                    ))
                }
                None => {
                    return Err(FieldError::new(
                        end_path,
                        "endPort needs port to be set to the start of the range",
                    ))
                }
            }
        }
    };
    Ok(PolicyPort {
        protocol,
        port,
        end_port,
    })
}

fn parse_rule(node: Node<'_, '_>, peers_key: &str) -> Result<Rule> {
    let map = node.object(&[peers_key, "ports"])?;
    let peers = each(map, node.path, peers_key, |n| parse_peer(n, true))?.unwrap_or_default();
    let ports = each(map, node.path, "ports", parse_policy_port)?.unwrap_or_default();
    Ok(Rule { peers, ports })
}

struct Meta {
    name: String,
    namespace: Option<String>,
    labels: Labels,
}

fn parse_meta(obj: &Map<String, Value>) -> Result<Meta> {
    let Some(meta) = field(obj, "metadata") else {
        return Err(FieldError::new(
            "metadata",
            "missing: every object needs metadata.name",
        ));
    };
    let meta_node = Node {
        value: meta,
        path: "metadata",
    };
    let map = meta_node.object(&[])?;
    let name = match field(map, "name") {
        Some(v) => Node {
            value: v,
            path: "metadata.name",
        }
        .str()?
        .to_string(),
        None => {
            return Err(FieldError::new(
                "metadata.name",
                "missing: every object needs a name",
            ))
        }
    };
    if name.is_empty() {
        return Err(FieldError::new("metadata.name", "must not be empty"));
    }
    let namespace = field(map, "namespace")
        .map(|v| {
            Node {
                value: v,
                path: "metadata.namespace",
            }
            .str()
            .map(str::to_string)
        })
        .transpose()?;
    let labels = match field(map, "labels") {
        Some(v) => string_map(Node {
            value: v,
            path: "metadata.labels",
        })?,
        None => Labels::new(),
    };
    validate_labels(&labels, "metadata.labels")?;
    Ok(Meta {
        name,
        namespace,
        labels,
    })
}

/// The object's map, metadata, namespace (defaulted) and its name for messages (`Kind ns/name`).
type Opened<'a> = (&'a Map<String, Value>, Meta, String, String);

fn open_object<'a>(
    obj: &'a Value,
    kind: &str,
    default_namespace: &str,
) -> std::result::Result<Opened<'a>, (Option<String>, FieldError)> {
    let map = Node {
        value: obj,
        path: "",
    }
    .object(&[])
    .map_err(|e| (None, e))?;
    let meta = parse_meta(map).map_err(|e| (None, e))?;
    let namespace = meta
        .namespace
        .clone()
        .unwrap_or_else(|| default_namespace.to_string());
    let label = format!("{kind} {namespace}/{}", meta.name);
    Ok((map, meta, namespace, label))
}

/// Parses a Namespace object.
pub fn parse_namespace_object(
    obj: &Value,
) -> std::result::Result<Namespace, (Option<String>, FieldError)> {
    let top = Node {
        value: obj,
        path: "",
    };
    let map = top.object(&[]).map_err(|e| (None, e))?;
    let meta = parse_meta(map).map_err(|e| (None, e))?;
    Ok(Namespace {
        name: meta.name,
        labels: meta.labels,
        declared: true,
    })
}
