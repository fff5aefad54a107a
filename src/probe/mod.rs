//! Probing: what to send (the plan, pure), where (backends: `local` network namespaces on this
//! host, or prober pods in a cluster), and how the observed matrix compares with the engine's.

pub mod cluster;
pub mod compare;
pub mod local;

pub use compare::{compare, observed_of, DnsRow, ProbeReport};
