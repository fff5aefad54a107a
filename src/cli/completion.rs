use std::process::ExitCode;

use clap::Args;
use clap_complete::Shell;

use super::common::{emit, CliResult};

#[derive(Args)]
pub struct CompletionArgs {
    /// bash, zsh, fish or powershell.
    pub shell: Shell,
}

pub fn run(args: &CompletionArgs, cmd: &mut clap::Command) -> CliResult {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, cmd, "kubectl-netpol", &mut buf);
    emit(&String::from_utf8_lossy(&buf));
    Ok(ExitCode::SUCCESS)
}
