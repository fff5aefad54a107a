use std::process::ExitCode;

use clap::Args;

use super::common::{emit, CliError, CliResult, Global};
use crate::probe::local;

#[derive(Args)]
pub struct CleanupArgs {
    /// Remove what `probe --local` runs left on this host (network namespaces netpol-*, and with
    /// them their links, chains and sets).
    #[arg(long)]
    pub local: bool,
}

pub fn run(global: &Global, args: &CleanupArgs) -> CliResult {
    if !args.local {
        return super::probe_cluster::cleanup(global);
    }
    local::preflight().map_err(|e| CliError::Environment(e.to_string()))?;
    let removed = local::cleanup_leftovers().map_err(|e| CliError::Environment(e.to_string()))?;
    emit(&if removed.is_empty() {
        "nothing to clean up\n".to_string()
    } else {
        format!(
            "removed {} network namespaces: {}\n",
            removed.len(),
            removed.join(" ")
        )
    });
    Ok(ExitCode::SUCCESS)
}
