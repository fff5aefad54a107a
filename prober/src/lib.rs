//! netpol-prober: the agent inside kubectl-netpol's prober pods (and network namespaces for
//! `probe --local`).
//!
//! * [`serve`](serve::serve) listens on the ports a mirrored pod declares: TCP (accept, close),
//!   UDP (echo), SCTP (where the kernel has it) and, optionally, a tiny authoritative DNS server.
//! * [`run_plan`] runs a [`Plan`](plan::Plan) of checks (TCP connect, UDP round trip with a
//!   nonce, SCTP connect, DNS lookup) and says what the network did with each
//!   ([`Verdict`](plan::Verdict)).
//! * [`cli_main`] is the whole command line, shared by the `netpol-prober` binary and the
//!   hidden `kubectl-netpol prober` subcommand.

mod check;
mod cli;
mod dns_check;
mod dns_server;
pub mod plan;
mod run;
mod sctp;
pub mod serve;
mod socket;

pub use check::run_check;
pub use cli::{cli_main, cli_main_with_stdout, EXIT_ENV, EXIT_OK, EXIT_USAGE};
pub use run::{run_plan, run_plan_streaming};

/// One diagnostic line on stderr. Never panics, even when stderr is gone.
pub(crate) fn log(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "netpol-prober: {message}");
}
