use std::process::ExitCode;

use clap::Args;

use super::common::{check_format, emit, spinner, CliError, CliResult, Global};
use crate::engine::explain::default_probes;
use crate::engine::matrix::Matrix;
use crate::engine::Engine;
use crate::model::Probe;
use crate::report::{self, matrix::MatrixDoc, Format};

#[derive(Args)]
pub struct MatrixArgs {
    /// Probes to compute, e.g. tcp/80,udp/53 (default: every port the policies and pods name).
    #[arg(long, value_name = "PROTO/PORT,...")]
    pub ports: Option<String>,
    /// Output format: table, json, yaml, csv, markdown, mermaid or dot (graphs of the allowed
    /// flows, pods grouped by namespace), or summary (counts only, for very large clusters).
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: Format,
}

pub fn run(global: &Global, args: &MatrixArgs) -> CliResult {
    check_format(
        args.output,
        &[
            Format::Table,
            Format::Json,
            Format::Yaml,
            Format::Csv,
            Format::Summary,
            Format::Markdown,
            Format::Mermaid,
            Format::Dot,
        ],
        "matrix",
    )?;
    let explicit = match &args.ports {
        Some(p) => {
            Some(Probe::parse_list(p).map_err(|e| CliError::Usage(format!("--ports: {e}")))?)
        }
        None => None,
    };
    let (snap, ns) = global.snapshot_in_scope()?;
    let pods = global.pods_in_scope(&snap, &ns)?;
    let probes = explicit.unwrap_or_else(|| default_probes(&snap, &pods));
    if probes.is_empty() {
        return Err(CliError::Usage("no ports to probe: no policy or container port names one; pass --ports, e.g. --ports tcp/80".into()));
    }
    let pb = spinner("computing the matrix");
    let engine = Engine::new(&snap);
    if args.output == Format::Summary {
        // Counts only: one probe's class matrix in memory at a time.
        let counts = Matrix::count_only(&engine, &pods, &probes);
        pb.finish_and_clear();
        emit(&report::matrix::summary_text(&counts, false));
        return Ok(ExitCode::SUCCESS);
    }
    let m = Matrix::compute(&engine, &pods, &probes);
    pb.finish_and_clear();
    let text = match args.output {
        Format::Table => {
            if m.pods.is_empty() {
                "no pods in scope\n".to_string()
            } else {
                report::matrix::matrix_table(&m, &snap)
            }
        }
        Format::Csv => report::matrix::csv(&MatrixDoc::from_matrix(&m, &snap)),
        Format::Markdown => report::markdown::matrix(&MatrixDoc::from_matrix(&m, &snap)),
        Format::Mermaid => report::graph::FlowGraph::build(&engine, &m).mermaid(),
        Format::Dot => report::graph::FlowGraph::build(&engine, &m).dot(),
        other => report::structured(&MatrixDoc::from_matrix(&m, &snap), other),
    };
    emit(&text);
    Ok(ExitCode::SUCCESS)
}
