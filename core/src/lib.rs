//! netpol-core: what a NetworkPolicy means, with no Kubernetes client and no terminal in it.
//! Both kubectl-netpol (the CLI) and netpol-enforcer (the agent) build on it, so the agent links
//! none of the CLI's crates.
//!
//! layers: `model` → `engine` → `enforce`
//!
//! `model` is what the cluster holds, parsed and validated (the model never prints: it returns
//! warnings and errors); `engine` what NetworkPolicy and the cluster-scoped tiers mean (the only
//! place that knows); `enforce` the enforcer's rules: a compiler that takes every decision from
//! the engine, a renderer to ipset/iptables-restore text, and an applier.

pub mod enforce;
pub mod engine;
pub mod model;
