//! `diff` for people: the groups of connections that become allowed and denied, as a terminal
//! table or a markdown table for a pull request.

use std::fmt::Write;

use super::markdown::{cell, code};
use super::{bold, dim, green, red, yellow};
use crate::doc::diff::{Change, Diff, Group};

/// "x/a", "x/a, x/b", or "5 pods: x/a, x/b, x/c, ..."
fn pods_text(pods: &[String], max: usize) -> String {
    if pods.len() <= max {
        pods.join(", ")
    } else {
        format!("{} pods: {}, …", pods.len(), pods[..max - 1].join(", "))
    }
}

fn probes_line(d: &Diff) -> String {
    d.probes
        .iter()
        .map(|p| format!("{}/{}", p.protocol.to_lowercase(), p.port))
        .collect::<Vec<_>>()
        .join(", ")
}

fn headline(d: &Diff) -> String {
    if d.is_empty() {
        "no connection changes".to_string()
    } else {
        format!(
            "{} connection{} become{} allowed, {} become{} denied",
            d.allowed.len(),
            if d.allowed.len() == 1 { "" } else { "s" },
            if d.allowed.len() == 1 { "s" } else { "" },
            d.denied.len(),
            if d.denied.len() == 1 { "s" } else { "" }
        )
    }
}

fn context_lines(d: &Diff) -> Vec<String> {
    let mut lines = Vec::new();
    let p = &d.policies;
    let mut parts = Vec::new();
    if !p.added.is_empty() {
        parts.push(format!("added {}", p.added.join(", ")));
    }
    if !p.removed.is_empty() {
        parts.push(format!("removed {}", p.removed.join(", ")));
    }
    if !p.changed.is_empty() {
        parts.push(format!("changed {}", p.changed.join(", ")));
    }
    if !parts.is_empty() {
        lines.push(format!("policies: {}", parts.join("; ")));
    }
    if !d.pods.changed.is_empty() {
        lines.push(format!(
            "pods with other labels or ports: {}",
            pods_text(&d.pods.changed, 6)
        ));
    }
    if !d.pods.only_old.is_empty() {
        lines.push(format!(
            "only in {} (not compared): {}",
            d.old,
            pods_text(&d.pods.only_old, 6)
        ));
    }
    if !d.pods.only_new.is_empty() {
        lines.push(format!(
            "only in {} (not compared): {}",
            d.new,
            pods_text(&d.pods.only_new, 6)
        ));
    }
    lines
}

fn groups(d: &Diff, change: Change) -> impl Iterator<Item = &Group> {
    d.groups.iter().filter(move |g| g.change == change)
}

pub fn table(d: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        bold(&format!("diff {} -> {}: {}", d.old, d.new, headline(d)))
    );
    let _ = writeln!(
        out,
        "{}",
        dim(&format!(
            "{} pods compared on {}",
            d.pods.common,
            probes_line(d)
        ))
    );
    for l in context_lines(d) {
        let _ = writeln!(out, "{}", dim(&l));
    }
    for (change, sign, title, count) in [
        (
            Change::Allowed,
            green("+"),
            green("now ALLOWED"),
            d.allowed.len(),
        ),
        (Change::Denied, red("-"), red("now DENIED"), d.denied.len()),
    ] {
        if count == 0 {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{sign} {title} ({count} connection{})",
            if count == 1 { "" } else { "s" }
        );
        let rows: Vec<(String, String, String)> = groups(d, change)
            .map(|g| {
                (
                    pods_text(&g.from, 4),
                    pods_text(&g.to, 4),
                    g.probes.join(", "),
                )
            })
            .collect();
        let w_from = rows
            .iter()
            .map(|r| r.0.chars().count())
            .max()
            .unwrap_or(0)
            .min(60);
        let w_to = rows
            .iter()
            .map(|r| r.1.chars().count())
            .max()
            .unwrap_or(0)
            .min(60);
        for (from, to, probes) in rows {
            let _ = writeln!(
                out,
                "  {sign} {from:<w_from$}  ->  {to:<w_to$}  {}",
                yellow(&probes)
            );
        }
    }
    if d.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            green("no connection becomes allowed or denied")
        );
    }
    out
}

pub fn markdown(d: &Diff) -> String {
    let mut out = String::from("### NetworkPolicy diff\n\n");
    let _ = writeln!(
        out,
        "{} → {}: **{}** ({} pods compared on {})\n",
        code(&d.old),
        code(&d.new),
        headline(d),
        d.pods.common,
        probes_line(d)
    );
    if !d.is_empty() {
        out.push_str("| change | from | to | probes | connections |\n|---|---|---|---|--:|\n");
        for change in [Change::Allowed, Change::Denied] {
            for g in groups(d, change) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    match change {
                        Change::Allowed => "✅ now allowed",
                        Change::Denied => "❌ now denied",
                    },
                    cell(&pods_text(&g.from, 6)),
                    cell(&pods_text(&g.to, 6)),
                    g.probes.join(", "),
                    g.connections
                );
            }
        }
        out.push('\n');
    }
    for l in context_lines(d) {
        let _ = writeln!(out, "- {}", cell(&l));
    }
    out
}
