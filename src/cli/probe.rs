use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::common::{check_format, emit, CliError, CliResult, Global};
use crate::engine::explain::default_probes;
use crate::model::Probe;
use crate::probe::local::{self, LocalError, LocalOptions};
use crate::probe::ProbeReport;
use crate::report::{self, Format};

#[derive(Args)]
pub struct ProbeArgs {
    /// Run on this Linux host: pods become network namespaces, the enforcer's rules are applied
    /// between them, real packets are sent. Needs root (or CAP_NET_ADMIN), iptables and ipset.
    #[arg(long)]
    pub local: bool,
    /// Probes to send, e.g. tcp/80,udp/53 (default: every port the policies and pods name).
    #[arg(long, value_name = "PROTO/PORT,...")]
    pub ports: Option<String>,
    /// How long one check waits before calling it dropped (e.g. 1s, 500ms).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Checks in flight inside one source pod.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// With --local: do not apply the enforcer's rules, as on a CNI that ignores NetworkPolicy
    /// (shows what `probe` reports there).
    #[arg(long)]
    pub no_enforce: bool,
    /// Output format: table, json, yaml, csv, markdown or junit (one test case per connection,
    /// a failure for each disagreement).
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: Format,
    /// The prober image for prober pods (and --in-place containers); it must hold the agent as
    /// /netpol-prober (prober/Dockerfile).
    #[arg(long, value_name = "IMAGE", default_value = crate::probe::cluster::plan::DEFAULT_IMAGE)]
    pub image: String,
    /// Also probe this endpoint outside the cluster from every pod: IP:PORT (TCP),
    /// udp/IP:PORT, [IPv6]:PORT. Repeatable.
    #[arg(long = "to", value_name = "[PROTO/]IP:PORT")]
    pub to: Vec<String>,
    /// Probe from ephemeral containers inside the real pods (kubectl debug style) instead of
    /// prober pods. Needs Kubernetes 1.23+; leaves a terminated ephemeral container in the spec
    /// of every probed pod (they cannot be removed).
    #[arg(long, conflicts_with = "local")]
    pub in_place: bool,
    /// How long prober pods may take to start (image pull included).
    #[arg(long, default_value = "3m", value_parser = parse_duration)]
    pub start_timeout: Duration,
    /// Do not resolve the cluster DNS and the targets' Service names from every pod.
    #[arg(long)]
    pub no_dns: bool,
    /// Measure a change: apply these NetworkPolicies (with --local also cluster policies;
    /// file or directory; repeatable) and report how long until the pairs it flips behave as
    /// the engine says, and whether connections opened before a deny survive it. The previous
    /// policies are restored afterwards.
    #[arg(long = "apply", value_name = "FILE")]
    pub apply: Vec<std::path::PathBuf>,
    /// Measure a change that deletes this NetworkPolicy (networkpolicy/NAME or
    /// networkpolicy/NS/NAME), or with --local this cluster policy (cnp/NAME, anp/NAME,
    /// banp/default); repeatable.
    #[arg(long = "delete", value_name = "KIND/NAME")]
    pub delete: Vec<String>,
    /// With --apply/--delete: time between two rounds of new connections.
    #[arg(long, default_value = "100ms", value_parser = parse_duration)]
    pub interval: Duration,
    /// With --apply/--delete: how long the flipped pairs may take to match three times in a row.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub settle: Duration,
    /// With --apply/--delete: leave the change in place.
    #[arg(long)]
    pub keep: bool,
    /// With --apply/--delete: an established connection that survives a new deny is a failure
    /// (exit 1).
    #[arg(long)]
    pub require_cut: bool,
    /// With --apply/--delete on a cluster: after the change, start one more prober in the
    /// namespace of the change and measure how long it could send or receive what its policies
    /// deny (the new-pod window; 0 is the goal).
    #[arg(long, conflicts_with = "local")]
    pub new_pod: bool,
    /// With --local --apply: run the sandbox's enforcer with --terminate-established (open
    /// connections a change denies are cut).
    #[arg(long, requires = "local")]
    pub terminate_established: bool,
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: use e.g. 2s or 500ms"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        _ => return Err(format!("invalid duration unit in {s:?}: use ms, s or m")),
    };
    if secs <= 0.0 || secs > 3600.0 {
        return Err(format!(
            "duration {s:?} out of range: use more than 0 and at most 1h"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `--keep`, `--require-cut`, `--terminate-established` and `--new-pod` are about a change.
fn change_flags_need_a_change(args: &ProbeArgs) -> Result<(), CliError> {
    for (set, flag) in [
        (args.keep, "--keep"),
        (args.require_cut, "--require-cut"),
        (args.terminate_established, "--terminate-established"),
        (args.new_pod, "--new-pod"),
    ] {
        if set {
            return Err(CliError::Usage(format!(
                "{flag} goes with --apply FILE or --delete KIND/NAME"
            )));
        }
    }
    Ok(())
}

/// `--local` probes manifests, and only pods of them.
fn local_needs(global: &Global, args: &ProbeArgs) -> Result<(), CliError> {
    if !args.to.is_empty() {
        return Err(CliError::Usage(
            "--to probes endpoints outside a real cluster: it is not available with --local".into(),
        ));
    }
    if global.files.is_empty() {
        return Err(CliError::Usage(
            "probe --local needs manifests: pass -f FILE|DIR (e.g. -f manifests/examples/payments)"
                .into(),
        ));
    }
    Ok(())
}

pub fn run(global: &Global, args: &ProbeArgs) -> CliResult {
    check_format(
        args.output,
        &[
            Format::Table,
            Format::Json,
            Format::Yaml,
            Format::Csv,
            Format::Markdown,
            Format::Junit,
        ],
        "probe",
    )?;
    let measuring = !args.apply.is_empty() || !args.delete.is_empty();
    if !measuring {
        change_flags_need_a_change(args)?;
    }
    if !args.local {
        return super::probe_cluster::run(global, args);
    }
    local_needs(global, args)?;
    let explicit = match &args.ports {
        Some(p) => {
            Some(Probe::parse_list(p).map_err(|e| CliError::Usage(format!("--ports: {e}")))?)
        }
        None => None,
    };
    let (mut snap, ns) = global.snapshot(&[])?;
    let pods = global.pods_in_scope(&snap, &ns)?;
    if pods.is_empty() {
        return Err(CliError::Usage("no pods in scope to probe".into()));
    }
    let probes = explicit.unwrap_or_else(|| default_probes(&snap, &pods));
    if probes.is_empty() {
        return Err(CliError::Usage(
            "no ports to probe: pass --ports, e.g. --ports tcp/80".into(),
        ));
    }
    let map = |e: LocalError| match e {
        LocalError::Environment(m) => CliError::Environment(m),
        LocalError::Input(m) => CliError::Usage(m),
    };
    local::assign_addresses(&mut snap, &pods).map_err(map)?;
    let opts = LocalOptions {
        timeout: args.timeout,
        concurrency: args.concurrency.max(1),
        enforce: !args.no_enforce,
        progress: std::io::stderr().is_terminal(),
        ..LocalOptions::default()
    };
    if measuring {
        return run_apply(global, args, &snap, &ns, &pods, &probes, opts);
    }
    let mut report = local::run_local(&snap, &pods, &probes, &opts).map_err(map)?;
    crate::probe::compare::explain_disagreements(&mut report, &snap, &files_arg(global));
    emit(&render(&report, args.output));
    let s = report
        .matrix
        .summary
        .clone()
        .unwrap_or(crate::report::matrix::ProbeSummary {
            agree: 0,
            disagree: 0,
            errors: 0,
        });
    Ok(if s.disagree > 0 || s.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `probe --local --apply/--delete`: the enforcer's time to enforce in the sandbox.
fn run_apply(
    global: &Global,
    args: &ProbeArgs,
    snap: &crate::model::Snapshot,
    ns: &str,
    pods: &[usize],
    probes: &[Probe],
    local: LocalOptions,
) -> CliResult {
    use crate::probe::apply::{parse_delete, read_policies, ChangeSet};
    use crate::probe::local_apply::{run_local_apply, ApplyOptions};
    if !matches!(args.output, Format::Table | Format::Json | Format::Yaml) {
        return Err(CliError::Usage(
            "probe --apply/--delete prints table, json or yaml".into(),
        ));
    }
    let mut change = ChangeSet {
        applied: read_policies(&args.apply, ns, true).map_err(CliError::Usage)?,
        deleted: Vec::new(),
    };
    for d in &args.delete {
        change
            .deleted
            .push(parse_delete(d, ns).map_err(CliError::Usage)?);
    }
    let previous = read_policies(&global.files, ns, false).map_err(CliError::Usage)?;
    let opts = ApplyOptions {
        local,
        interval: args.interval,
        settle: args.settle,
        keep: args.keep,
        terminate_established: args.terminate_established,
        enforcer: None,
        explain_args: files_arg(global),
    };
    let report =
        run_local_apply(snap, &previous, &change, pods, probes, &opts).map_err(|e| match e {
            LocalError::Environment(m) => CliError::Environment(m),
            LocalError::Input(m) => CliError::Usage(m),
        })?;
    emit(&match args.output {
        Format::Table => report::probe::apply_table(&report),
        other => report::structured(&report, other),
    });
    Ok(if report.failed(args.require_cut) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// ` -f PATH ...` for the `explain traffic` commands named on disagreements.
fn files_arg(global: &Global) -> String {
    global
        .files
        .iter()
        .map(|f| format!(" -f {}", f.display()))
        .collect()
}

pub fn render(r: &ProbeReport, format: Format) -> String {
    match format {
        Format::Table => report::probe::table(r),
        Format::Csv => report::matrix::csv(&r.matrix),
        Format::Markdown => report::markdown::probe(r),
        Format::Junit => report::junit::junit(r),
        other => report::structured(r, other),
    }
}
