//! The one runner for the CLI tests: the kubectl-netpol binary that cargo built for this test,
//! run from the repository root without colour, with assert_cmd.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary under test; for tests that spawn it (to signal it) instead of waiting for it.
pub fn bin() -> &'static Path {
    assert_cmd::cargo::cargo_bin!("kubectl-netpol")
}

/// The binary, ready for arguments: no colour (NO_COLOR), run from the repository root so the
/// tests can name manifests/ and tests/ relatively.
pub fn netpol() -> Command {
    let mut cmd = Command::new(bin());
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

/// As [`netpol`], and never the developer's cluster: commands that need one fail to reach it.
pub fn offline() -> Command {
    let mut cmd = netpol();
    cmd.env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBERNETES_SERVICE_HOST");
    cmd
}

/// Runs the command to its end: (exit code, or -1 when a signal ended it; stdout; stderr).
pub fn outcome(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run kubectl-netpol");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `kubectl-netpol ARGS` run by [`netpol`].
pub fn run(args: &[&str]) -> (i32, String, String) {
    outcome(netpol().args(args))
}
