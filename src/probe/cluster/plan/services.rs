//! What lies beyond the prober pods: `--to` externals, the cluster DNS, and the Services whose
//! names DNS rows resolve (and that might route to probers).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use k8s_openapi::api::core::v1::Service;

use super::{Group, CLUSTER_DNS_NAME, DNS_LABEL, DNS_NAMESPACE, RUN_LABEL};
use crate::model::{Labels, Probe, Protocol, Snapshot};

/// An endpoint outside the cluster: `--to IP:PORT` (TCP), `--to udp/IP:PORT`, `[IPv6]:PORT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct External {
    pub probe: Probe,
    pub ip: IpAddr,
}

impl External {
    pub fn parse(text: &str) -> Result<External, String> {
        let t = text.trim();
        let (protocol, rest) = match t.split_once('/') {
            Some((p, rest)) if !p.contains(':') && !p.contains('.') => (
                Protocol::parse(p).ok_or_else(|| {
                    format!("unknown protocol {p:?} in {t:?}: use tcp, udp or sctp, e.g. udp/10.0.0.1:53")
                })?,
                rest,
            ),
            _ => (Protocol::Tcp, t),
        };
        let addr: SocketAddr = rest.parse().map_err(|_| {
            format!(
                "{t:?} is not IP:PORT (e.g. 169.254.169.254:80, udp/8.8.8.8:53, [2001:db8::1]:443)"
            )
        })?;
        if addr.port() == 0 {
            return Err(format!("{t:?}: the port must be between 1 and 65535"));
        }
        Ok(External {
            probe: Probe::new(protocol, addr.port()),
            ip: addr.ip(),
        })
    }
}

/// The cluster DNS: the pods behind it (for the expected side) and how rows name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsTarget {
    pub server: String,
    /// Snapshot indices of the DNS pods.
    pub pods: Vec<usize>,
}

/// The cluster DNS pods of the snapshot (kube-system, k8s-app=kube-dns), if any are known.
pub fn dns_target(snap: &Snapshot) -> Option<DnsTarget> {
    let pods: Vec<usize> = snap
        .pods
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p.namespace == DNS_NAMESPACE
                && p.labels.get(DNS_LABEL.0).map(String::as_str) == Some(DNS_LABEL.1)
                && !p.labels.contains_key(RUN_LABEL)
        })
        .map(|(i, _)| i)
        .collect();
    (!pods.is_empty()).then(|| DnsTarget {
        server: format!("{DNS_NAMESPACE}/kube-dns"),
        pods,
    })
}

/// What a Service needs to be for DNS rows and for the "would it route to probers" warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    pub namespace: String,
    pub name: String,
    /// Empty: the Service has no selector (its endpoints are managed by hand).
    pub selector: BTreeMap<String, String>,
    pub publish_not_ready: bool,
}

pub fn service_info(s: &Service) -> ServiceInfo {
    let spec = s.spec.clone().unwrap_or_default();
    ServiceInfo {
        namespace: s.metadata.namespace.clone().unwrap_or_default(),
        name: s.metadata.name.clone().unwrap_or_default(),
        selector: spec.selector.unwrap_or_default(),
        publish_not_ready: spec.publish_not_ready_addresses == Some(true),
    }
}

fn service_selects(s: &ServiceInfo, namespace: &str, labels: &Labels) -> bool {
    s.namespace == namespace
        && !s.selector.is_empty()
        && s.selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The names each source resolves: the cluster DNS check, then `svc.ns` for every Service that
/// selects a probed pod.
pub fn dns_names(services: &[ServiceInfo], groups: &[Group]) -> Vec<String> {
    let mut names = vec![CLUSTER_DNS_NAME.to_string()];
    let mut svc: BTreeSet<String> = BTreeSet::new();
    for s in services {
        if groups
            .iter()
            .any(|g| service_selects(s, &g.namespace, &g.labels))
        {
            svc.insert(format!("{}.{}", s.name, s.namespace));
        }
    }
    names.extend(svc);
    names
}

/// Services that publish not-ready addresses send traffic to probers despite the readiness
/// gate: say so before making them.
pub fn not_ready_service_warnings(services: &[ServiceInfo], groups: &[Group]) -> Vec<String> {
    services
        .iter()
        .filter(|s| s.publish_not_ready)
        .filter(|s| {
            groups
                .iter()
                .any(|g| service_selects(s, &g.namespace, &g.labels))
        })
        .map(|s| {
            format!(
                "Service {}/{} publishes not-ready addresses: while the probe runs it also lists the prober pods that mirror its pods (they accept TCP and echo it, and echo UDP)",
                s.namespace, s.name
            )
        })
        .collect()
}
