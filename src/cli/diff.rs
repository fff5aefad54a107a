use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::common::{check_format, emit, spinner, CliError, CliResult, Global};
use crate::diff::{self, Side};
use crate::engine::explain::default_probes;
use crate::model::{Probe, Snapshot};
use crate::report::{self, Format};

#[derive(Args)]
pub struct DiffArgs {
    /// OLD and NEW: each a manifest file or directory, or the word `live` for the cluster
    /// (two -f PATH work too).
    #[arg(value_name = "OLD NEW")]
    pub sides: Vec<String>,
    /// Probes to compare, e.g. tcp/80,udp/53 (default: every port either side names).
    #[arg(long, value_name = "PROTO/PORT,...")]
    pub ports: Option<String>,
    /// Exit 1 when any connection becomes allowed or denied (like `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
    /// Output format: table, json, yaml or markdown.
    #[arg(short = 'o', long = "output", value_parser = output_formats(), default_value = "table")]
    pub output: Format,
}

/// The formats this command offers (so help and completion list only those).
fn output_formats() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["table", "json", "yaml", "markdown"])
        .map(|s: String| <Format as clap::ValueEnum>::from_str(&s, true).unwrap_or(Format::Table))
}

/// Reads one side: `live`, or a manifest path. Returns the snapshot and the pods in scope.
fn load(global: &Global, side: &str) -> Result<(Snapshot, Vec<usize>), CliError> {
    let mut g = global.clone();
    g.files = if side == "live" {
        Vec::new()
    } else {
        vec![PathBuf::from(side)]
    };
    // Only the pods in scope are compared: a live side asks the server for those alone.
    let (snap, ns) = g.snapshot_in_scope()?;
    let pods = g.pods_in_scope(&snap, &ns)?;
    Ok((snap, pods))
}

pub fn run(global: &Global, args: &DiffArgs) -> CliResult {
    check_format(
        args.output,
        &[Format::Table, Format::Json, Format::Yaml, Format::Markdown],
        "diff",
    )?;
    let sides: Vec<String> = match (args.sides.len(), global.files.len()) {
        (2, 0) => args.sides.clone(),
        (0, 2) => global
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        _ => {
            return Err(CliError::Usage(
                "diff needs exactly two sides: `diff OLD NEW` (each a manifest file or directory, or `live`), or `diff -f OLD -f NEW`".into(),
            ))
        }
    };
    if sides[0] == "live" && sides[1] == "live" {
        return Err(CliError::Usage(
            "diff live live compares the cluster with itself; give a manifest path for one side"
                .into(),
        ));
    }
    let explicit = match &args.ports {
        Some(p) => {
            Some(Probe::parse_list(p).map_err(|e| CliError::Usage(format!("--ports: {e}")))?)
        }
        None => None,
    };
    let (old_snap, old_pods) = load(global, &sides[0])?;
    let (new_snap, new_pods) = load(global, &sides[1])?;
    let probes = explicit.unwrap_or_else(|| {
        let all: BTreeSet<Probe> = default_probes(&old_snap, &old_pods)
            .into_iter()
            .chain(default_probes(&new_snap, &new_pods))
            .collect();
        all.into_iter().collect()
    });
    if probes.is_empty() {
        return Err(CliError::Usage(
            "no ports to compare: neither side's policies or pods name one; pass --ports, e.g. --ports tcp/80".into(),
        ));
    }
    let pb = spinner("comparing");
    let d = diff::diff(
        &Side {
            name: &sides[0],
            snap: &old_snap,
            pods: &old_pods,
        },
        &Side {
            name: &sides[1],
            snap: &new_snap,
            pods: &new_pods,
        },
        &probes,
    );
    pb.finish_and_clear();
    let text = match args.output {
        Format::Table => report::diff::table(&d),
        Format::Markdown => report::diff::markdown(&d),
        other => report::structured(&d, other),
    };
    emit(&text);
    Ok(if args.exit_code && !d.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
