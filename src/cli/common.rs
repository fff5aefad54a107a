//! What every subcommand shares: the kubectl-like flags, reading the snapshot, errors and exit codes.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::k8s::live::{self, LiveSnapshot, Scope};
use crate::k8s::{self, ClusterArgs};
use crate::model::{self, InputError, LoadOptions, Snapshot};
use crate::report::Format;

#[derive(Args, Debug, Clone, Default)]
pub struct Global {
    /// Manifests to read instead of the live cluster: a file, a directory (searched recursively
    /// for .yaml/.yml/.json) or - for stdin. Repeatable.
    #[arg(short = 'f', long = "filename", global = true, value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Namespace scope (repeatable); also the namespace of pod and policy names written without one.
    #[arg(short = 'n', long = "namespace", global = true, value_name = "NS",
          add = clap_complete::ArgValueCompleter::new(super::completion::namespaces))]
    pub namespaces: Vec<String>,
    /// Every namespace.
    #[arg(short = 'A', long = "all-namespaces", global = true)]
    pub all_namespaces: bool,
    /// Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db).
    #[arg(short = 'l', long = "selector", global = true, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME",
          add = clap_complete::ArgValueCompleter::new(super::completion::contexts))]
    pub context: Option<String>,
    /// Never colour the output (NO_COLOR and non-terminals are respected too).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Say more (e.g. list objects of kinds that were skipped).
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Input(#[from] InputError),
    #[error("{0}")]
    Cluster(String),
    #[error("{0}")]
    Environment(String),
    /// The check found a problem (exit 1); the message was already printed when empty.
    #[error("{0}")]
    Found(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Found(_) => 1,
            CliError::Usage(_) | CliError::Input(_) => 2,
            CliError::Cluster(_) | CliError::Environment(_) => 3,
        }
    }
}

impl From<live::LiveError> for CliError {
    fn from(e: live::LiveError) -> Self {
        CliError::Cluster(e.to_string())
    }
}

impl From<k8s::ConfigError> for CliError {
    fn from(e: k8s::ConfigError) -> Self {
        CliError::Cluster(e.to_string())
    }
}

/// Prints what a live read has to say: each warning once per process (a command may read the
/// cluster more than once, e.g. `lab check --probe`), and the notes with -v.
pub fn tell_live(read: &LiveSnapshot, verbose: bool) {
    static SAID: std::sync::Mutex<std::collections::BTreeSet<String>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    for w in &read.warnings {
        if said.insert(w.clone()) {
            eprintln!("warning: {w}");
        }
    }
    if verbose {
        for n in &read.notes {
            eprintln!("note: {n}");
        }
    }
}

pub type CliResult = Result<ExitCode, CliError>;

impl Global {
    pub fn apply_color(&self) {
        if self.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            owo_colors::set_override(false);
        }
    }

    /// The namespace for names written without one.
    pub fn default_namespace(&self, context_ns: &str) -> String {
        self.namespaces
            .first()
            .cloned()
            .unwrap_or_else(|| context_ns.to_string())
    }

    pub fn offline(&self) -> bool {
        !self.files.is_empty()
    }

    pub fn cluster_args(&self) -> ClusterArgs {
        ClusterArgs {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
        }
    }

    /// Reads the snapshot: manifests with -f, else the live cluster for `extra_namespaces` plus
    /// the -n/-A scope. Returns the snapshot and the default namespace for names.
    pub fn snapshot(&self, extra_namespaces: &[String]) -> Result<(Snapshot, String), CliError> {
        self.read_snapshot(extra_namespaces, None, None)
    }

    /// As `snapshot`, for commands about these pods only (`explain pod`, `explain traffic`,
    /// each NAME or NAMESPACE/NAME): offline, the other Pod documents are not even parsed,
    /// because on a big snapshot parsing them is nearly all the time. Live, the same as
    /// `snapshot`.
    pub fn snapshot_for_pods(&self, pods: &[&str]) -> Result<(Snapshot, String), CliError> {
        let default_ns = self.default_namespace("default");
        let only = pods
            .iter()
            .map(|spec| {
                let (ns, name) = model::split_ref(spec, &default_ns);
                (ns.to_string(), name.to_string())
            })
            .collect();
        self.read_snapshot(&namespaces_of(pods), None, Some(only))
    }

    /// As `snapshot`, for commands that only look at the pods in scope (matrix): a live
    /// cluster is asked for the -l pods only, as kubectl does, instead of every pod.
    pub fn snapshot_in_scope(&self) -> Result<(Snapshot, String), CliError> {
        let selector = match &self.selector {
            Some(s) if !self.offline() => {
                // Refuse a bad selector here (exit 2), not as the server's error.
                model::parse_selector_text(s).map_err(|e| CliError::Usage(format!("-l: {e}")))?;
                Some(s.clone())
            }
            _ => None,
        };
        self.read_snapshot(&[], selector, None)
    }

    fn read_snapshot(
        &self,
        extra_namespaces: &[String],
        selector: Option<String>,
        only_pods: Option<Vec<(String, String)>>,
    ) -> Result<(Snapshot, String), CliError> {
        if self.offline() {
            let default_ns = self.default_namespace("default");
            let (snap, skipped) = model::load_paths(
                &self.files,
                &LoadOptions {
                    default_namespace: default_ns.clone(),
                    only_pods,
                },
            )?;
            // Always said (a skipped kind may be one that changes the answer); the objects
            // themselves with -v.
            for line in model::skipped_summary(&skipped) {
                eprintln!("note: {line}");
            }
            if self.verbose > 0 {
                for s in &skipped {
                    eprintln!("skipped {} {} ({})", s.kind, s.name, s.source);
                }
            }
            if let Some(w) = snap.cluster_api_mix_warning() {
                eprintln!("warning: {w}");
            }
            return Ok((snap, default_ns));
        }
        runtime()?.block_on(async {
            let spinner = spinner("reading the cluster");
            let (client, context_ns) = k8s::connect(&self.cluster_args()).await?;
            let mut namespaces = self.namespaces.clone();
            for ns in extra_namespaces {
                if !namespaces.contains(ns) {
                    namespaces.push(ns.clone());
                }
            }
            let scope = Scope {
                namespaces,
                all_namespaces: self.all_namespaces,
                selector,
            };
            let progress = |what: &str, read: usize| {
                spinner.set_message(format!("reading the cluster: {read} {what} so far"));
            };
            let read =
                live::load_live_with_progress(&client, &context_ns, &scope, &progress).await?;
            spinner.finish_and_clear();
            tell_live(&read, self.verbose > 0);
            let snap = read.snapshot;
            if let Some(w) = snap.cluster_api_mix_warning() {
                eprintln!("warning: {w}");
            }
            Ok((snap, self.default_namespace(&context_ns)))
        })
    }

    /// Pods in the -n/-A/-l scope (for -f: every pod when no -n is given).
    pub fn pods_in_scope(&self, snap: &Snapshot, default_ns: &str) -> Result<Vec<usize>, CliError> {
        let selector = match &self.selector {
            Some(s) => Some(
                model::parse_selector_text(s).map_err(|e| CliError::Usage(format!("-l: {e}")))?,
            ),
            None => None,
        };
        let namespaces: Vec<String> =
            if self.all_namespaces || (self.offline() && self.namespaces.is_empty()) {
                Vec::new()
            } else if self.namespaces.is_empty() {
                vec![default_ns.to_string()]
            } else {
                self.namespaces.clone()
            };
        Ok(snap
            .endpoint_pods()
            .filter(|(_, p)| namespaces.is_empty() || namespaces.contains(&p.namespace))
            .filter(|(_, p)| selector.as_ref().is_none_or(|s| s.matches(&p.labels)))
            .map(|(i, _)| i)
            .collect())
    }
}

/// A spinner on stderr, hidden when stderr is not a terminal.
pub fn spinner(message: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message(message.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(100));
    pb
}

/// Refuses a format the command does not offer, listing those it does.
pub fn check_format(format: Format, allowed: &[Format], command: &str) -> Result<(), CliError> {
    if allowed.contains(&format) {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "{command} does not offer -o {}; use one of: {}",
            format.name(),
            allowed
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

/// Prints to stdout, ignoring a closed pipe (e.g. `| head`).
pub fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(text.as_bytes());
}

/// Did you mean: up to five names containing the query.
pub fn suggestions<'a>(query: &str, names: impl Iterator<Item = &'a str>) -> String {
    let q = query.rsplit('/').next().unwrap_or(query);
    let similar: Vec<&str> = names.filter(|n| n.contains(q)).take(5).collect();
    if similar.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", similar.join(", "))
    }
}

/// Namespaces a live read must include for these names (NAMESPACE/NAME; addresses have none).
pub fn namespaces_of(specs: &[&str]) -> Vec<String> {
    specs
        .iter()
        .filter(|s| s.parse::<std::net::IpAddr>().is_err())
        .filter_map(|s| s.split_once('/').map(|(ns, _)| ns.to_string()))
        .collect()
}

/// The one async runtime a CLI command needs: current-thread (the commands wait on the API and
/// on processes, not on CPU), with timers and I/O.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Environment(format!("cannot start the async runtime: {e}")))
}
