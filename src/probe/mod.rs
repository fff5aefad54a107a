//! Probing: what to send (the plan, pure), where (backends: `local` network namespaces on this
//! host, or prober pods in a cluster), and how the observed matrix compares with the engine's.

pub mod apply;
pub mod cluster;
pub mod compare;
pub mod local;
pub mod local_apply;

pub use compare::{compare, observed_of, DnsRow, ProbeReport};

/// The prober's check that sends `probe` to `host` (TCP/SCTP connect, UDP round trip).
pub(crate) fn connection_check(
    id: String,
    host: std::net::IpAddr,
    probe: crate::model::Probe,
) -> netpol_prober::plan::Check {
    use crate::model::Protocol;
    use netpol_prober::plan::{Check, CheckKind};
    Check {
        id,
        kind: match probe.protocol {
            Protocol::Tcp => CheckKind::Tcp,
            Protocol::Udp => CheckKind::Udp,
            Protocol::Sctp => CheckKind::Sctp,
        },
        host: Some(host.to_string()),
        port: Some(probe.port),
        name: None,
        server: None,
    }
}
