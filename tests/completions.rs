//! Shell completion: the scripts kept in completions/ are what `completion SHELL` prints now
//! (regenerate with `UPDATE_COMPLETIONS=1 cargo test --test completions`), kubectl's plugin
//! completion helper works, and names complete dynamically.

mod common;

use assert_cmd::Command;
use common::cli::{bin, netpol, outcome, root, run};

/// (shell, file in completions/) — the names clap_complete's Shell::file_name gives.
const SCRIPTS: &[(&str, &str)] = &[
    ("bash", "kubectl-netpol.bash"),
    ("zsh", "_kubectl-netpol"),
    ("fish", "kubectl-netpol.fish"),
    ("powershell", "_kubectl-netpol.ps1"),
];

#[test]
fn completion_scripts_in_completions_are_current() {
    let update = std::env::var_os("UPDATE_COMPLETIONS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (shell, file) in SCRIPTS {
        let (code, script, _) = run(&["completion", shell]);
        assert_eq!(code, 0);
        assert!(script.contains("kubectl-netpol"), "{shell}: {script}");
        let path = root().join("completions").join(file);
        if update {
            std::fs::write(&path, &script).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(kept) if kept == script => {}
            _ => stale.push(format!("completions/{file}")),
        }
    }
    assert!(
        stale.is_empty(),
        "stale completion scripts: {}; the command line changed, regenerate them with\n    UPDATE_COMPLETIONS=1 cargo test --test completions\nand commit the result",
        stale.join(", ")
    );
}

/// Runs completions/kubectl_complete-netpol as kubectl would: the words after `kubectl netpol`.
fn kubectl_complete(words: &[&str]) -> Vec<String> {
    let dir = bin().parent().unwrap();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (code, out, _) = outcome(
        Command::new(root().join("completions/kubectl_complete-netpol"))
            .current_dir(root())
            .args(words)
            .env("PATH", path),
    );
    assert_eq!(code, 0, "{out}");
    out.lines().map(String::from).collect()
}

fn values(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .filter(|l| !l.starts_with(':'))
        .map(|l| l.split('\t').next().unwrap())
        .collect()
}

#[test]
fn kubectl_plugin_helper_speaks_cobra() {
    let helper = root().join("completions/kubectl_complete-netpol");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&helper).unwrap().permissions().mode();
        assert!(
            mode & 0o111 != 0,
            "kubectl_complete-netpol must be executable"
        );
    }
    // Subcommands, then the directive: no file completion.
    let lines = kubectl_complete(&[""]);
    assert_eq!(lines.last().unwrap(), ":4");
    for sub in [
        "explain",
        "matrix",
        "probe",
        "lint",
        "diff",
        "lab",
        "completion",
    ] {
        assert!(values(&lines).contains(&sub), "{sub} missing: {lines:?}");
    }
    assert!(
        !values(&lines).iter().any(|v| v.starts_with('-')),
        "flags only after a dash: {lines:?}"
    );
    assert!(values(&kubectl_complete(&["lint", "--sev"])).contains(&"--severity"));
}

#[test]
fn names_complete_from_the_manifests_on_the_line() {
    let f = "manifests/examples/payments";
    let pods = kubectl_complete(&["explain", "pod", "-f", f, "-n", "payments", ""]);
    assert_eq!(
        values(&pods),
        vec![
            "api",
            "db",
            "frontend/web",
            "kube-system/coredns",
            "monitoring/prometheus"
        ]
    );
    assert!(pods.contains(&"api\tapp=api".to_string()), "{pods:?}");
    let from = kubectl_complete(&["-f", f, "explain", "traffic", "monitoring/"]);
    assert_eq!(values(&from), vec!["monitoring/prometheus"]);
    let policies = kubectl_complete(&["explain", "policy", "-f", f, "payments/allow-"]);
    assert_eq!(
        values(&policies),
        vec![
            "payments/allow-api-to-db",
            "payments/allow-dns-egress",
            "payments/allow-monitoring-scrape",
            "payments/allow-web-to-api"
        ]
    );
    let namespaces = kubectl_complete(&["matrix", "-f", f, "-n", "p"]);
    assert_eq!(values(&namespaces), vec!["payments"]);
    let labs = kubectl_complete(&["lab", "start", "and-"]);
    assert_eq!(values(&labs), vec!["and-not-or"]);
    // File names for -f: a directory gets no trailing space (directive 4|2).
    let files = kubectl_complete(&["matrix", "-f", "manifests/exa"]);
    assert_eq!(values(&files), vec!["manifests/examples/"]);
    assert_eq!(files.last().unwrap(), ":6");
}

#[test]
fn dynamic_registration_scripts() {
    // A generic COMPLETE in the environment does not hijack the command.
    let (code, out, _) = outcome(netpol().arg("--version").env("COMPLETE", "1"));
    assert_eq!(code, 0, "{out}");
    let (code, script, _) = outcome(netpol().env("KUBECTL_NETPOL_COMPLETE", "bash"));
    assert_eq!(code, 0);
    assert!(
        script.contains("kubectl-netpol") && script.contains("complete"),
        "{script}"
    );
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, script, _) = run(&["completion", shell, "--dynamic"]);
        assert_eq!(code, 0);
        assert!(
            script.contains("COMPLETE") && script.contains("kubectl-netpol"),
            "{shell}: {script}"
        );
    }
}
