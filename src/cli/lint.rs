use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::common::{check_format, emit, CliError, CliResult, Global};
use crate::lint::{self, locate, Finding, Severity};
use crate::report::{self, lint::LintDoc, Format};

#[derive(Args)]
pub struct LintArgs {
    /// Manifests to lint (files or directories, like -f), or the word `live` for the cluster
    /// (the default when no manifests are given).
    #[arg(value_name = "PATH|live")]
    pub paths: Vec<PathBuf>,
    /// Show findings at or above this severity, and exit 1 when there is one.
    #[arg(long, value_enum, default_value = "warning")]
    pub severity: Severity,
    /// Output format: table, json, yaml, markdown or sarif (SARIF 2.1.0, for code scanning).
    #[arg(short = 'o', long = "output", value_parser = output_formats(), default_value = "table")]
    pub output: Format,
}

/// The formats this command offers (so help and completion list only those).
fn output_formats() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["table", "json", "yaml", "markdown", "sarif"])
        .map(|s: String| <Format as clap::ValueEnum>::from_str(&s, true).unwrap_or(Format::Table))
}

pub fn run(global: &Global, args: &LintArgs) -> CliResult {
    check_format(
        args.output,
        &[
            Format::Table,
            Format::Json,
            Format::Yaml,
            Format::Markdown,
            Format::Sarif,
        ],
        "lint",
    )?;
    let live_word = args.paths.iter().any(|p| p.as_os_str() == "live");
    let mut g = global.clone();
    g.files.extend(
        args.paths
            .iter()
            .filter(|p| p.as_os_str() != "live")
            .cloned(),
    );
    if live_word && !g.files.is_empty() {
        return Err(CliError::Usage(
            "lint reads either manifests (PATH or -f PATH) or the live cluster (`live`), not both"
                .into(),
        ));
    }
    let (snap, default_ns) = g.snapshot(&[])?;
    let complete = if g.offline() {
        lint::Completeness::MANIFESTS
    } else {
        lint::Completeness::live(&snap, g.all_namespaces)
    };
    let mut findings = lint::lint_with(&snap, complete);
    // The -n/-A scope: for manifests every namespace unless -n narrows it; live, as kubectl.
    let scope: Vec<String> = if g.all_namespaces || (g.offline() && g.namespaces.is_empty()) {
        Vec::new()
    } else if g.namespaces.is_empty() {
        vec![default_ns]
    } else {
        g.namespaces.clone()
    };
    if !scope.is_empty() {
        findings.retain(|f| {
            let ns = if f.object.namespace.is_empty() {
                &f.object.name
            } else {
                &f.object.namespace
            };
            scope.contains(ns)
        });
    }
    add_lines(&mut findings);
    let all = lint::counts(&findings);
    let shown: Vec<Finding> = findings
        .into_iter()
        .filter(|f| f.severity >= args.severity)
        .collect();
    let text = match args.output {
        Format::Table => report::lint::table(&shown, all, args.severity),
        Format::Markdown => report::lint::markdown(&shown, all, args.severity),
        Format::Sarif => report::lint::sarif(&shown),
        other => report::structured(
            &LintDoc {
                severity: args.severity,
                findings: &shown,
                summary: all,
            },
            other,
        ),
    };
    emit(&text);
    Ok(if shown.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Fills in the line of each finding's object, reading each manifest file once.
fn add_lines(findings: &mut [Finding]) {
    let mut texts: HashMap<String, Option<String>> = HashMap::new();
    for f in findings {
        let (Some(file), Some(doc)) = (&f.file, f.document) else {
            continue;
        };
        let text = texts
            .entry(file.clone())
            .or_insert_with(|| std::fs::read_to_string(file).ok());
        if let Some(t) = text {
            f.line = locate::object_line(t, doc, &f.object.name);
        }
    }
}
