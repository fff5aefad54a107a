use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::common::{check_format, emit, runtime, spinner, CliError, CliResult, Global};
use super::probe::parse_duration;
use crate::lab::check::{bind_live, evaluate, setup_snapshot, LabReport};
use crate::lab::cluster::{self, ResetAction};
use crate::lab::render::{self, LabSummary};
use crate::lab::{check_answer, sandbox, Answer, Catalogue, Lab, LabError};
use crate::probe::cluster::ClusterOptions;
use crate::probe::local::LocalOptions;
use crate::report::{self, dim, yellow, Format};

#[derive(Args)]
pub struct LabArgs {
    #[command(subcommand)]
    pub what: LabCommand,
    /// Output format: table, json or yaml (list and check).
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        default_value = "table"
    )]
    pub output: Format,
    /// Read the labs from this folder (laid out like manifests/labs) instead of the built-in
    /// catalogue: for lab authors.
    #[arg(long, global = true, value_name = "DIR")]
    pub catalogue: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum LabCommand {
    /// List the labs: name, level, title.
    List,
    /// Create the lab's namespaces, pods and policies in the cluster and print the task
    /// (--local: print the task only; the sandbox is built per check).
    Start {
        /// The lab: its name (e.g. and-not-or) or number.
        #[arg(add = clap_complete::ArgValueCompleter::new(super::completion::labs))]
        name: String,
        /// No cluster: print the task and write nothing.
        #[arg(long)]
        local: bool,
        /// Take over lab namespaces that already exist without this lab's label.
        #[arg(long)]
        force: bool,
    },
    /// Check your policies against the lab's required connections: from the cluster (policies
    /// in the lab's namespaces), or from files with -f.
    Check {
        #[arg(add = clap_complete::ArgValueCompleter::new(super::completion::labs))]
        name: String,
        /// No cluster: judge setup + your -f policies here (with --probe: real packets in
        /// network namespaces on this host, as root).
        #[arg(long)]
        local: bool,
        /// Also send real packets for every check.
        #[arg(long)]
        probe: bool,
        /// With --probe: how long one check waits before calling it dropped.
        #[arg(long, default_value = "1s", value_parser = parse_duration)]
        timeout: Duration,
        /// With --probe on a cluster: the prober image.
        #[arg(long, value_name = "IMAGE", default_value = crate::probe::cluster::plan::DEFAULT_IMAGE)]
        image: String,
    },
    /// Print a hint: the first, or hint N.
    Hint {
        #[arg(add = clap_complete::ArgValueCompleter::new(super::completion::labs))]
        name: String,
        n: Option<usize>,
    },
    /// Print the reference solution, ready for `kubectl apply -f -`.
    Solution {
        #[arg(add = clap_complete::ArgValueCompleter::new(super::completion::labs))]
        name: String,
    },
    /// Print the lab's setup manifests (what start creates).
    Setup {
        #[arg(add = clap_complete::ArgValueCompleter::new(super::completion::labs))]
        name: String,
    },
    /// Delete the lab's namespaces (only those that carry its kubectl-netpol/lab label).
    Reset {
        #[arg(add = clap_complete::ArgValueCompleter::new(super::completion::labs))]
        name: String,
        /// No cluster: nothing to delete (the sandbox removes itself after every check).
        #[arg(long)]
        local: bool,
    },
    /// Check the catalogue's invariants (for lab authors, with --catalogue DIR).
    #[command(hide = true)]
    Verify,
}

impl From<LabError> for CliError {
    fn from(e: LabError) -> Self {
        match e {
            LabError::Catalogue(_) | LabError::Usage(_) => CliError::Usage(e.to_string()),
            LabError::Input(i) => CliError::Input(i),
            LabError::Cluster(m) => CliError::Cluster(m),
            LabError::Environment(m) => CliError::Environment(m),
        }
    }
}

fn local_only_refusal(lab: &Lab, what: &str) -> CliError {
    CliError::Usage(format!(
        "lab {} only works offline (it relies on fixed pod addresses that a cluster ignores): {what}",
        lab.name
    ))
}

fn files_text(global: &Global) -> String {
    global
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn run(global: &Global, args: &LabArgs) -> CliResult {
    let structured_ok = matches!(args.what, LabCommand::List | LabCommand::Check { .. });
    if structured_ok {
        check_format(
            args.output,
            &[Format::Table, Format::Json, Format::Yaml],
            "lab list|check",
        )?;
    } else {
        check_format(args.output, &[Format::Table], "this lab command")?;
    }
    let catalogue = match &args.catalogue {
        Some(dir) => Catalogue::from_dir(dir)?,
        None => Catalogue::embedded()?,
    };
    match &args.what {
        LabCommand::List => list(&catalogue, args.output),
        LabCommand::Start { name, local, force } => {
            let lab = catalogue.find(name)?;
            if *local {
                emit(&render::task(lab, true));
                return Ok(ExitCode::SUCCESS);
            }
            if lab.local_only {
                return Err(local_only_refusal(
                    lab,
                    &format!("run `kubectl netpol lab start {} --local`", lab.name),
                ));
            }
            start(global, lab, *force)
        }
        LabCommand::Check {
            name,
            local,
            probe,
            timeout,
            image,
        } => {
            let lab = catalogue.find(name)?;
            let packets = probe.then_some(Packets {
                timeout: *timeout,
                image: image.clone(),
            });
            check(global, args.output, lab, *local, packets)
        }
        LabCommand::Hint { name, n } => hint(catalogue.find(name)?, n.unwrap_or(1)),
        LabCommand::Solution { name } => {
            let lab = catalogue.find(name)?;
            emit(&with_newline(&lab.solution));
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Setup { name } => {
            let lab = catalogue.find(name)?;
            emit(&with_newline(&lab.setup));
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Reset { name, local } => {
            let lab = catalogue.find(name)?;
            if *local {
                emit("nothing to reset: --local checks build their sandbox for each check and remove it afterwards (leftovers of a killed run: kubectl netpol cleanup --local)\n");
                return Ok(ExitCode::SUCCESS);
            }
            reset(global, lab)
        }
        LabCommand::Verify => verify(&catalogue),
    }
}

fn list(catalogue: &Catalogue, output: Format) -> CliResult {
    if output == Format::Table {
        emit(&render::list(&catalogue.labs));
    } else {
        let list: Vec<LabSummary> = catalogue.labs.iter().map(LabSummary::of).collect();
        emit(&report::structured(&list, output));
    }
    Ok(ExitCode::SUCCESS)
}

fn hint(lab: &Lab, n: usize) -> CliResult {
    if n == 0 || n > lab.hints.len() {
        return Err(CliError::Usage(format!(
            "lab {} has {} hints: ask for 1 to {}",
            lab.name,
            lab.hints.len(),
            lab.hints.len()
        )));
    }
    emit(&render::hint(lab, n));
    Ok(ExitCode::SUCCESS)
}

/// Every lab's invariants (the solution passes, each wrong answer fails as it says); exit 1
/// when one does not hold.
fn verify(catalogue: &Catalogue) -> CliResult {
    let mut problems = Vec::new();
    for lab in &catalogue.labs {
        problems.extend(crate::lab::verify(lab));
    }
    for p in &problems {
        emit(&format!("{p}\n"));
    }
    if problems.is_empty() {
        emit(&format!(
            "{} labs: every invariant holds\n",
            catalogue.labs.len()
        ));
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}

fn with_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

fn start(global: &Global, lab: &Lab, force: bool) -> CliResult {
    let rt = runtime()?;
    let outcome = rt.block_on(async {
        let pb = spinner(&format!("applying the setup of lab {}", lab.name));
        let (client, _) = crate::k8s::connect(&global.cluster_args()).await?;
        let outcome = cluster::start(&cluster::KubeLabIo::new(client), lab, force).await;
        pb.finish_and_clear();
        Ok::<_, CliError>(outcome?)
    })?;
    for object in &outcome.taken_over {
        eprintln!(
            "{}",
            yellow(&format!(
                "warning: took over {object} (--force): whatever was in it stays, and `lab reset {}` will delete it",
                lab.name
            ))
        );
    }
    if !outcome.reused.is_empty() {
        eprintln!(
            "{}",
            dim(&format!(
                "{} already existed from an earlier start: updated in place (your policies are kept)",
                outcome.reused.join(", ")
            ))
        );
    }
    let mut out = String::new();
    for a in &outcome.applied {
        out.push_str(&dim(&format!("{} serverside-applied\n", a.text())));
    }
    out.push('\n');
    out.push_str(&render::task(lab, false));
    emit(&out);
    Ok(ExitCode::SUCCESS)
}

fn reset(global: &Global, lab: &Lab) -> CliResult {
    let rt = runtime()?;
    let actions = rt.block_on(async {
        let pb = spinner(&format!("deleting the objects of lab {}", lab.name));
        let (client, _) = crate::k8s::connect(&global.cluster_args()).await?;
        let r = cluster::reset(&cluster::KubeLabIo::new(client), lab).await;
        pb.finish_and_clear();
        Ok::<_, CliError>(r?)
    })?;
    let mut out = String::new();
    for (object, action) in &actions {
        out.push_str(&match action {
            ResetAction::Deleted => format!("{object} deleted\n"),
            ResetAction::NotFound => dim(&format!("{object} not found: nothing to delete\n")),
            ResetAction::AlreadyDeleting => dim(&format!("{object} is already being deleted\n")),
            ResetAction::Kept(why) => yellow(&format!("{object} kept: {why}\n")),
        });
    }
    if actions
        .iter()
        .any(|(o, a)| o.starts_with("namespace/") && *a == ResetAction::Deleted)
    {
        out.push_str(&dim(
            "namespaces take a few seconds to go away; start another lab when `kubectl get ns` no longer lists them\n",
        ));
    }
    emit(&out);
    Ok(ExitCode::SUCCESS)
}

/// `lab check --probe`: how the real packets are sent.
struct Packets {
    timeout: Duration,
    image: String,
}

fn check(
    global: &Global,
    output: Format,
    lab: &Lab,
    local: bool,
    probe: Option<Packets>,
) -> CliResult {
    let offline = !global.files.is_empty();
    refuse_check(global, lab, local, probe.is_some())?;
    let (report, source_line) = if offline {
        check_offline(global, lab, probe.as_ref())?
    } else {
        check_live(global, lab, probe.as_ref())?
    };
    if output == Format::Table {
        emit(&render::report(lab, &report, &source_line));
    } else {
        emit(&report::structured(&report, output));
    }
    if report.passed {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}

/// The combinations of `lab check` flags that cannot work, said as usage errors.
fn refuse_check(global: &Global, lab: &Lab, local: bool, probe: bool) -> Result<(), CliError> {
    let offline = !global.files.is_empty();
    if local && !offline {
        return Err(CliError::Usage(format!(
            "--local judges your manifests: pass them with -f FILE|DIR (e.g. kubectl netpol lab check {} --local -f my-solution/)",
            lab.name
        )));
    }
    if probe && !local && offline {
        return Err(CliError::Usage(
            "--probe with -f sends real packets in the local sandbox: add --local (as root), or drop -f to probe the lab in the cluster".into(),
        ));
    }
    if lab.local_only && !offline {
        return Err(local_only_refusal(
            lab,
            &format!(
                "check your policies with `kubectl netpol lab check {} --local -f DIR`",
                lab.name
            ),
        ));
    }
    Ok(())
}

/// `lab check -f`: the user's manifests on the lab's setup (and with --probe --local, real
/// packets in a local sandbox). Returns the report and where the policies came from.
fn check_offline(
    global: &Global,
    lab: &Lab,
    probe: Option<&Packets>,
) -> Result<(LabReport, String), CliError> {
    let (user, _) = global.snapshot(&[])?;
    let answer = Answer::of_snapshot(&user);
    if answer.is_empty() {
        eprintln!(
            "{}",
            yellow(&format!(
                "warning: no policy in {}: checking the lab's setup alone",
                files_text(global)
            ))
        );
    }
    let pb = spinner("checking");
    let mut report = check_answer(lab, &answer, &[]);
    pb.finish_and_clear();
    let mut source_line = format!(
        "the lab's setup + {} from {}",
        policies(answer.len(), ""),
        files_text(global)
    );
    if let Some(packets) = probe {
        if let Ok(r) = report.as_mut() {
            let opts = LocalOptions {
                timeout: packets.timeout,
                progress: std::io::stderr().is_terminal(),
                ..LocalOptions::default()
            };
            sandbox::probe_local(lab, &answer, r, &opts)?;
            source_line.push_str("; real packets in a local sandbox");
        }
    }
    Ok((report?, source_line))
}

/// "1 policy", "3 cluster policies".
fn policies(n: usize, kind: &str) -> String {
    format!("{n} {kind}{}", if n == 1 { "policy" } else { "policies" })
}

/// `lab check` on a cluster: the policies in the lab's namespaces and the cluster policies
/// (and with --probe, real packets between prober pods).
fn check_live(
    global: &Global,
    lab: &Lab,
    probe: Option<&Packets>,
) -> Result<(LabReport, String), CliError> {
    let (mut snap, _) = global.snapshot(&lab.namespaces)?;
    snap.policies
        .retain(|p| lab.namespaces.contains(&p.namespace));
    let namespaced = snap.policies.len();
    let setup = setup_snapshot(lab)?;
    let (snap, bindings) = bind_live(lab, &setup, snap)?;
    let mut report = evaluate(lab, &snap, &bindings, "cluster", &[])?;
    let cluster_policies = snap.cluster_policies.len();
    let mut source_line = format!(
        "{} from the cluster in namespace {}",
        policies(namespaced, ""),
        lab.namespaces.join(", ")
    );
    if cluster_policies > 0 {
        source_line.push_str(&format!(", and {}", policies(cluster_policies, "cluster ")));
    }
    if let Some(packets) = probe {
        let rows: BTreeMap<String, String> = bindings
            .pods
            .iter()
            .map(|(lab_pod, &i)| (lab_pod.clone(), snap.pods[i].key()))
            .collect();
        let opts = ClusterOptions {
            image: packets.image.clone(),
            timeout: packets.timeout,
            progress: std::io::stderr().is_terminal(),
            ..ClusterOptions::default()
        };
        let notes = runtime()?.block_on(async {
            let (client, context_ns) = crate::k8s::connect(&global.cluster_args()).await?;
            Ok::<_, CliError>(
                cluster::probe(&client, &context_ns, lab, &rows, &mut report, &opts).await?,
            )
        })?;
        for n in notes {
            eprintln!("note: {n}");
        }
        source_line.push_str("; real packets between prober pods in the cluster");
    }
    Ok((report, source_line))
}
