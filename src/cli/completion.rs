//! Shell completion, three ways:
//! - `completion SHELL`: a static script (also kept in completions/), commands and flags only;
//! - `completion SHELL --dynamic` (or `KUBECTL_NETPOL_COMPLETE=SHELL kubectl-netpol`): a script
//!   that calls back into the binary, which also completes pod, policy, namespace, context and
//!   lab names;
//! - `kubectl-netpol __complete WORDS...`: cobra's completion protocol (candidates, then
//!   `:<directive>`), which kubectl's plugin completion (kubectl >= 1.26) calls through the
//!   `kubectl_complete-netpol` script, so `kubectl netpol <TAB>` completes too.
//!
//! Names come from the manifests named by -f on the line being completed, else from the live
//! cluster (kubeconfig, --context, -n), with a short timeout; failures complete nothing.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::EnvCompleter;
use clap_complete::Shell;

use super::common::{emit, CliResult};
use crate::k8s::live;
use crate::model::{self, LoadOptions, Snapshot};

/// The name the scripts complete (the binary; kubectl's plugin completion goes through
/// kubectl_complete-netpol).
pub const BIN: &str = "kubectl-netpol";

/// The environment variable that switches the binary into clap's dynamic completion (not
/// clap's default `COMPLETE`, which is too generic a name to own).
pub const VAR: &str = "KUBECTL_NETPOL_COMPLETE";

#[derive(Args)]
pub struct CompletionArgs {
    /// bash, zsh, fish or powershell.
    pub shell: Shell,
    /// Print a script that asks the binary for candidates, so pod, policy, namespace, context
    /// and lab names complete too (the same as `KUBECTL_NETPOL_COMPLETE=SHELL kubectl-netpol`).
    #[arg(long)]
    pub dynamic: bool,
}

pub fn run(args: &CompletionArgs, cmd: &mut clap::Command) -> CliResult {
    let mut buf = Vec::new();
    if args.dynamic {
        let shell: &dyn EnvCompleter =
            match args.shell {
                Shell::Bash => &clap_complete::env::Bash,
                Shell::Zsh => &clap_complete::env::Zsh,
                Shell::Fish => &clap_complete::env::Fish,
                Shell::PowerShell => &clap_complete::env::Powershell,
                Shell::Elvish => &clap_complete::env::Elvish,
                _ => return Err(super::CliError::Usage(
                    "dynamic completion is available for bash, zsh, fish, powershell and elvish"
                        .into(),
                )),
            };
        shell
            .write_registration(VAR, BIN, BIN, BIN, &mut buf)
            .map_err(|e| super::CliError::Environment(format!("cannot write the script: {e}")))?;
    } else {
        clap_complete::generate(args.shell, cmd, BIN, &mut buf);
    }
    emit(&String::from_utf8_lossy(&buf));
    Ok(ExitCode::SUCCESS)
}

/// Handles completion requests before normal parsing: `KUBECTL_NETPOL_COMPLETE=SHELL
/// kubectl-netpol -- ...` (clap's dynamic completion) and `kubectl-netpol __complete ...`
/// (cobra's protocol, for kubectl). Returns the exit code when it handled one.
pub fn intercept(factory: fn() -> clap::Command) -> Option<ExitCode> {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "__complete") {
        return Some(cobra_complete(factory(), &args[2..]));
    }
    clap_complete::CompleteEnv::with_factory(factory)
        .var(VAR)
        .bin(BIN)
        .complete();
    None
}

/// Cobra's `__complete`: one candidate per line (`value\tdescription`), then `:<directive>`
/// (4 = no file completion; 0 = let the shell complete file names; +2 = no space after).
fn cobra_complete(mut cmd: clap::Command, words: &[OsString]) -> ExitCode {
    let mut args: Vec<OsString> = vec![BIN.into()];
    args.extend(words.iter().cloned());
    if words.is_empty() {
        args.push(OsString::new());
    }
    let index = args.len() - 1;
    let cwd = std::env::current_dir().ok();
    let typing_flag = words
        .last()
        .is_some_and(|w| w.to_string_lossy().starts_with('-'));
    let mut candidates =
        clap_complete::engine::complete(&mut cmd, args, index, cwd.as_deref()).unwrap_or_default();
    // Like cobra: flags only once a dash is typed, unless nothing else fits.
    let is_flag = |c: &CompletionCandidate| c.get_value().to_string_lossy().starts_with('-');
    if !typing_flag && candidates.iter().any(|c| !is_flag(c)) {
        candidates.retain(|c| !is_flag(c));
    }
    let mut out = String::new();
    let mut no_space = false;
    let mut shown = 0;
    for c in candidates.iter().filter(|c| !c.is_hide_set()) {
        let value = c.get_value().to_string_lossy();
        no_space |= value.ends_with('/');
        out.push_str(&value);
        if let Some(help) = c.get_help() {
            let help = help.to_string();
            if let Some(first) = help.lines().next() {
                out.push('\t');
                out.push_str(first);
            }
        }
        out.push('\n');
        shown += 1;
    }
    let directive = match (shown, no_space) {
        (0, _) => 0,
        (_, true) => 4 | 2,
        (_, false) => 4,
    };
    out.push_str(&format!(":{directive}\n"));
    emit(&out);
    ExitCode::SUCCESS
}

/// What the line being completed says about where names come from.
#[derive(Debug, Default, PartialEq, Eq)]
struct LineContext {
    files: Vec<PathBuf>,
    namespaces: Vec<String>,
    all_namespaces: bool,
    context: Option<String>,
    kubeconfig: Option<PathBuf>,
}

/// The words of the line: after `__complete`, or after `--` for clap's dynamic completion.
fn line_words() -> Vec<String> {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let start = if args.get(1).is_some_and(|a| a == "__complete") {
        2
    } else {
        args.iter()
            .position(|a| a == "--")
            .map_or(args.len(), |i| i + 2)
    };
    args.get(start..)
        .map(<[String]>::to_vec)
        .unwrap_or_default()
}

fn parse_line(words: &[String]) -> LineContext {
    let mut ctx = LineContext::default();
    // The last word is the one being completed: not a value yet.
    let done = &words[..words.len().saturating_sub(1)];
    let mut i = 0;
    while i < done.len() {
        let w = done[i].as_str();
        let next = done.get(i + 1).cloned();
        let take = |long: &str, short: Option<char>| -> Option<(String, bool)> {
            if w == long || short.is_some_and(|s| w == format!("-{s}")) {
                return next.clone().map(|v| (v, true));
            }
            if let Some(v) = w.strip_prefix(&format!("{long}=")) {
                return Some((v.to_string(), false));
            }
            if let Some(s) = short {
                if let Some(v) = w.strip_prefix(&format!("-{s}")) {
                    if !v.is_empty() && !w.starts_with("--") {
                        return Some((v.trim_start_matches('=').to_string(), false));
                    }
                }
            }
            None
        };
        if let Some((v, skip)) = take("--filename", Some('f')) {
            ctx.files.push(PathBuf::from(v));
            i += 1 + usize::from(skip);
        } else if let Some((v, skip)) = take("--namespace", Some('n')) {
            ctx.namespaces.push(v);
            i += 1 + usize::from(skip);
        } else if let Some((v, skip)) = take("--context", None) {
            ctx.context = Some(v);
            i += 1 + usize::from(skip);
        } else if let Some((v, skip)) = take("--kubeconfig", None) {
            ctx.kubeconfig = Some(PathBuf::from(v));
            i += 1 + usize::from(skip);
        } else {
            if w == "-A" || w == "--all-namespaces" {
                ctx.all_namespaces = true;
            }
            i += 1;
        }
    }
    ctx
}

/// The snapshot names are completed from, and the namespace bare names belong to.
fn snapshot_for_line() -> Option<(Snapshot, String)> {
    let ctx = parse_line(&line_words());
    if !ctx.files.is_empty() {
        let ns = ctx
            .namespaces
            .first()
            .cloned()
            .unwrap_or_else(|| "default".into());
        let files: Vec<PathBuf> = ctx.files.into_iter().filter(|f| f.exists()).collect();
        let (snap, _) = model::load_paths(
            &files,
            &LoadOptions {
                default_namespace: ns.clone(),
                ..Default::default()
            },
        )
        .ok()?;
        return Some((snap, ns));
    }
    super::common::runtime().ok()?.block_on(async {
        let work = async {
            let (client, context_ns) = crate::k8s::connect(&crate::k8s::ClusterArgs {
                kubeconfig: ctx.kubeconfig.clone(),
                context: ctx.context.clone(),
            })
            .await
            .ok()?;
            let ns = ctx
                .namespaces
                .first()
                .cloned()
                .unwrap_or(context_ns.clone());
            let scope = live::Scope {
                namespaces: ctx.namespaces.clone(),
                all_namespaces: ctx.all_namespaces,
                selector: None,
            };
            let snap = live::load_live(&client, &ns, &scope).await.ok()?.snapshot;
            Some((snap, ns))
        };
        tokio::time::timeout(Duration::from_secs(3), work)
            .await
            .ok()
            .flatten()
    })
}

/// `name` for objects in the default namespace, `ns/name` for the others (and for all once
/// the word has a slash).
fn object_candidates<'a>(
    current: &OsStr,
    default_ns: &str,
    objects: impl Iterator<Item = (&'a str, &'a str, String)>,
) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let qualified = current.contains('/');
    let mut out: Vec<CompletionCandidate> = objects
        .filter_map(|(ns, name, help)| {
            let value = if !qualified && ns == default_ns {
                name.to_string()
            } else {
                format!("{ns}/{name}")
            };
            value
                .starts_with(current.as_ref())
                .then(|| CompletionCandidate::new(value).help(Some(help.into())))
        })
        .collect();
    out.sort_by(|a, b| a.get_value().cmp(b.get_value()));
    out
}

/// Pod names (`explain pod`, `explain traffic`).
pub fn pods(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some((snap, ns)) = snapshot_for_line() else {
        return Vec::new();
    };
    object_candidates(
        current,
        &ns,
        snap.pods.iter().map(|p| {
            let labels = p
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            (p.namespace.as_str(), p.name.as_str(), labels)
        }),
    )
}

/// NetworkPolicy names (`explain policy`).
pub fn policies(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some((snap, ns)) = snapshot_for_line() else {
        return Vec::new();
    };
    object_candidates(
        current,
        &ns,
        snap.policies.iter().map(|p| {
            (
                p.namespace.as_str(),
                p.name.as_str(),
                "NetworkPolicy".to_string(),
            )
        }),
    )
}

/// Namespace names (-n).
pub fn namespaces(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some((snap, _)) = snapshot_for_line() else {
        return Vec::new();
    };
    let current = current.to_string_lossy();
    snap.namespaces
        .keys()
        .filter(|n| n.starts_with(current.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

/// kubeconfig context names (--context).
pub fn contexts(current: &OsStr) -> Vec<CompletionCandidate> {
    let ctx = parse_line(&line_words());
    let config = match &ctx.kubeconfig {
        Some(p) => kube::config::Kubeconfig::read_from(p),
        None => kube::config::Kubeconfig::read(),
    };
    let Ok(config) = config else {
        return Vec::new();
    };
    let current = current.to_string_lossy();
    config
        .contexts
        .iter()
        .filter(|c| c.name.starts_with(current.as_ref()))
        .map(|c| CompletionCandidate::new(&c.name))
        .collect()
}

/// Lab names and numbers (`lab start|check|hint|solution|setup|reset`).
pub fn labs(current: &OsStr) -> Vec<CompletionCandidate> {
    let Ok(catalogue) = crate::lab::Catalogue::embedded() else {
        return Vec::new();
    };
    let current = current.to_string_lossy();
    catalogue
        .labs
        .iter()
        .filter(|l| l.name.starts_with(current.as_ref()))
        .map(|l| CompletionCandidate::new(&l.name).help(Some(l.title.clone().into())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn reads_files_and_namespaces_from_the_line() {
        let c = parse_line(&words(
            "-f a.yaml explain pod --filename=b -nx --context dev -A --namespace y -f",
        ));
        assert_eq!(c.files, vec![PathBuf::from("a.yaml"), PathBuf::from("b")]);
        assert_eq!(c.namespaces, vec!["x".to_string(), "y".to_string()]);
        assert_eq!(c.context.as_deref(), Some("dev"));
        assert!(c.all_namespaces);
    }

    #[test]
    fn bare_names_for_the_default_namespace() {
        let objs = vec![
            ("payments", "api", String::new()),
            ("payments", "db", String::new()),
            ("frontend", "web", String::new()),
        ];
        let values = |cur: &str| -> Vec<String> {
            object_candidates(OsStr::new(cur), "payments", objs.clone().into_iter())
                .iter()
                .map(|c| c.get_value().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(values(""), vec!["api", "db", "frontend/web"]);
        assert_eq!(values("fr"), vec!["frontend/web"]);
        assert_eq!(values("payments/"), vec!["payments/api", "payments/db"]);
    }
}
