//! The enforcer's rules: a pure compiler (snapshot + node → desired chains and ipsets), a
//! renderer (ipset / iptables-restore text) and an applier that runs them. `probe --local` and
//! the netpol-enforcer agent share all three, so the real-packet tests on one machine test the
//! rules the DaemonSet installs.
//!
//! (They live in netpol-core, under both the kubectl-netpol binary, which needs them for
//! `probe --local`, and the netpol-enforcer agent, which must not link the CLI.)

pub mod apply;
pub mod compile;
pub mod render;
pub mod status;

pub use apply::{has_cap_net_admin, Applier, CommandRunner, Runner};
pub use compile::{
    compile, compile_with, ChainInfo, CompileOptions, DropLog, Family, NodeRules, Ruleset,
    DROP_LOG_PREFIX,
};

/// Everything the tool creates starts with these, so clean-up can find exactly its own objects.
pub const CHAIN_PREFIX: &str = "NETPOL-";
pub const ENTRY_CHAIN: &str = "NETPOL-FORWARD";
pub const SET_PREFIX: &str = "NP";
