//! The enforcer's rules come from netpol-core (compile, render, apply, status); what only the CLI
//! needs, installing the DaemonSet on a cluster, lives here.

pub use netpol_core::enforce::*;

pub mod install;
