//! `lint` output: a table for people, JSON, markdown, and SARIF 2.1.0 for code scanning.

use std::fmt::Write;

use serde::Serialize;

use super::markdown::{cell, code};
use super::{bold, cyan, dim, red, yellow};
use crate::lint::{rule_info, rules, Counts, Finding, Severity};

/// `lint -o json`.
#[derive(Debug, Serialize)]
pub struct LintDoc<'a> {
    /// The chosen threshold: findings below it are left out.
    pub severity: Severity,
    pub findings: &'a [Finding],
    /// Counts of every finding, shown or not.
    pub summary: Counts,
}

fn location(f: &Finding) -> String {
    let mut s = match (&f.file, f.line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => match f.document {
            Some(d) => format!("{file} (document {d})"),
            None => file.clone(),
        },
        _ => String::new(),
    };
    if let Some(field) = &f.field {
        if !s.is_empty() {
            s.push_str(", ");
        }
        s.push_str(field);
    }
    s
}

fn severity_word(s: Severity) -> String {
    match s {
        Severity::Error => red("error"),
        Severity::Warning => yellow("warning"),
        Severity::Info => cyan("info"),
    }
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                format!("{prefix}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn summary_line(shown: &[Finding], all: Counts, threshold: Severity) -> String {
    let hidden = all.error + all.warning + all.info - shown.len();
    let mut s = if shown.is_empty() {
        format!("no findings at or above {}", threshold.as_str())
    } else {
        let c = crate::lint::counts(shown);
        let mut parts = Vec::new();
        for (n, w) in [(c.error, "error"), (c.warning, "warning"), (c.info, "info")] {
            if n > 0 {
                parts.push(format!(
                    "{n} {w}{}",
                    if n == 1 || w == "info" { "" } else { "s" }
                ));
            }
        }
        format!(
            "{} finding{}: {}",
            shown.len(),
            if shown.len() == 1 { "" } else { "s" },
            parts.join(", ")
        )
    };
    if hidden > 0 {
        let _ = write!(
            s,
            " ({hidden} below {} not shown; --severity info shows everything)",
            threshold.as_str()
        );
    }
    s
}

pub fn table(shown: &[Finding], all: Counts, threshold: Severity) -> String {
    let mut out = String::new();
    for f in shown {
        let _ = writeln!(
            out,
            "{} {}  {}  {}",
            severity_word(f.severity),
            bold(f.rule),
            f.object,
            dim(&location(f))
        );
        let _ = writeln!(out, "  {}", indent(&f.message, "  "));
        let _ = writeln!(out, "  {} {}", dim("why:"), indent(&f.why, "       "));
        let _ = writeln!(out, "  {} {}\n", dim("fix:"), indent(&f.fix, "       "));
    }
    let _ = writeln!(out, "{}", summary_line(shown, all, threshold));
    out
}

pub fn markdown(shown: &[Finding], all: Counts, threshold: Severity) -> String {
    let mut out = String::from("### kubectl netpol lint\n\n");
    let _ = writeln!(out, "{}\n", summary_line(shown, all, threshold));
    if shown.is_empty() {
        return out;
    }
    out.push_str("| severity | rule | object | where | finding |\n|---|---|---|---|---|\n");
    for f in shown {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            f.severity.as_str(),
            code(f.rule),
            cell(&f.object.to_string()),
            cell(&location(f)),
            cell(&f.message)
        );
    }
    out.push_str("\n<details><summary>Why these matter and how to fix them</summary>\n\n");
    let mut seen = Vec::new();
    for f in shown {
        if seen.contains(&f.rule) {
            continue;
        }
        seen.push(f.rule);
        if let Some(info) = rule_info(f.rule) {
            let _ = writeln!(
                out,
                "**{}**: {}\n\n{}\n\n```yaml\n# fix\n{}\n```\n",
                info.id, info.title, info.why, info.fix
            );
        }
    }
    out.push_str("</details>\n");
    out
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// GitHub ranks security alerts by this (0.1 - 10).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "7.5",
        Severity::Warning => "5.0",
        Severity::Info => "2.0",
    }
}

/// A file name as a SARIF URI: relative paths stay relative (to the repository root, where CI
/// runs lint), absolute ones become file:// URIs.
fn artifact_uri(file: &str) -> Option<(String, bool)> {
    if file.is_empty() || file == "<stdin>" || file == "cluster" {
        return None;
    }
    let f = file.replace('\\', "/");
    let f = f.trim_start_matches("./");
    let encoded: String = f
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '#' => "%23".to_string(),
            '?' => "%3F".to_string(),
            '%' => "%25".to_string(),
            c => c.to_string(),
        })
        .collect();
    if encoded.starts_with('/') {
        Some((format!("file://{encoded}"), false))
    } else {
        Some((encoded, true))
    }
}

/// FNV-1a, for a fingerprint that is stable across runs and line moves.
fn fingerprint(f: &Finding) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    let key = format!(
        "{}|{}|{}",
        f.rule,
        f.object,
        f.field.as_deref().unwrap_or("")
    );
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// Where a finding is: the object (and field) by name, and the file and line when known.
fn sarif_location(f: &Finding) -> serde_json::Value {
    let mut logical = f.object.to_string().replace(' ', "/");
    if let Some(field) = &f.field {
        logical.push('/');
        logical.push_str(field);
    }
    let mut location = serde_json::json!({
        "logicalLocations": [{"fullyQualifiedName": logical, "kind": "object"}],
    });
    if let Some((uri, relative)) = f.file.as_deref().and_then(artifact_uri) {
        let mut artifact = serde_json::json!({"uri": uri});
        if relative {
            artifact["uriBaseId"] = serde_json::json!("%SRCROOT%");
        }
        let mut physical = serde_json::json!({"artifactLocation": artifact});
        if let Some(line) = f.line {
            physical["region"] = serde_json::json!({"startLine": line});
        }
        location["physicalLocation"] = physical;
    }
    location
}

/// SARIF 2.1.0, as GitHub code scanning takes it (`github/codeql-action/upload-sarif`).
pub fn sarif(shown: &[Finding]) -> String {
    let all_rules = rules();
    let rules_json: Vec<serde_json::Value> = all_rules
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "name": r.id.split('-').map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
                }).collect::<String>(),
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.why},
                "help": {
                    "text": format!("{}\n\nFix: {}", r.why, r.fix),
                    "markdown": format!("{}\n\n**Fix:**\n\n```yaml\n{}\n```", r.why, r.fix),
                },
                "defaultConfiguration": {"level": sarif_level(r.severity)},
                "properties": {
                    "tags": ["kubernetes", "networkpolicy", "security"],
                    "precision": "high",
                    "problem.severity": match r.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                        Severity::Info => "recommendation",
                    },
                    "security-severity": security_severity(r.severity),
                },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = shown
        .iter()
        .map(|f| {
            serde_json::json!({
                "ruleId": f.rule,
                "ruleIndex": all_rules.iter().position(|r| r.id == f.rule).unwrap_or(0),
                "level": sarif_level(f.severity),
                "message": {"text": format!("{}: {}\nWhy: {}\nFix: {}", f.object, f.message, f.why, f.fix)},
                "locations": [sarif_location(f)],
                "partialFingerprints": {"netpolFinding/v1": fingerprint(f)},
            })
        })
        .collect();
    let doc = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kubectl-netpol",
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules_json,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the directory lint ran in (the repository root in CI)"}}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
