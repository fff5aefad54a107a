//! netpol-prober: the agent inside kubectl-netpol's prober pods (and network namespaces for
//! `probe --local`).
//!
//! * [`serve`](serve::serve) listens on the ports a mirrored pod declares: TCP (accept, echo until the client closes),
//!   UDP (echo), SCTP (where the kernel has it) and, optionally, a tiny authoritative DNS server.
//! * [`run_plan`] runs a [`Plan`](plan::Plan) of checks (TCP connect, UDP round trip with a
//!   nonce, SCTP connect, DNS lookup) and says what the network did with each
//!   ([`Verdict`](plan::Verdict)).
//! * [`stream`] keeps running: checks with new connections every interval and established
//!   flows exercised on the same 5-tuple, one JSON line per result (`probe --apply`).
//! * [`cli_main`] is the whole command line, shared by the `netpol-prober` binary and the
//!   hidden `kubectl-netpol prober` subcommand.

//!
//! The agent itself runs on Linux (pods, network namespaces); elsewhere only [`plan`], the
//! checks' wire format, is built, for the kubectl-netpol client.

pub mod plan;

#[cfg(target_os = "linux")]
mod check;
#[cfg(target_os = "linux")]
mod cli;
#[cfg(target_os = "linux")]
mod dns_check;
#[cfg(target_os = "linux")]
mod dns_server;
#[cfg(target_os = "linux")]
mod run;
#[cfg(target_os = "linux")]
mod sctp;
#[cfg(target_os = "linux")]
pub mod serve;
#[cfg(target_os = "linux")]
mod socket;
#[cfg(target_os = "linux")]
pub mod stream;

#[cfg(target_os = "linux")]
pub use check::run_check;
#[cfg(target_os = "linux")]
pub use cli::{cli_main, cli_main_with_stdout, EXIT_ENV, EXIT_OK, EXIT_USAGE};
#[cfg(target_os = "linux")]
pub use run::{run_plan, run_plan_streaming};

/// One diagnostic line on stderr. Never panics, even when stderr is gone.
#[cfg(target_os = "linux")]
pub(crate) fn log(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "netpol-prober: {message}");
}
