//! Text for `explain pod|policy|traffic`.

use std::fmt::Write;

use super::{bold, cyan, dim, green, red, verdict_word, yellow};
use crate::engine::explain::{
    DirectionJson, HalfJson, PodExplanation, PolicyExplanation, TrafficExplanation,
};
use crate::engine::explain_cluster::{ClusterPolicyExplanation, ClusterPolicyJson};

/// One cluster policy's rules of both directions, indented.
fn cluster_rules(out: &mut String, p: &ClusterPolicyJson, indent: &str) {
    for (title, rules) in [("ingress", &p.ingress), ("egress", &p.egress)] {
        for r in rules {
            let label = if r.name.is_empty() {
                r.index.to_string()
            } else {
                format!("'{}'", r.name)
            };
            let _ = writeln!(out, "{indent}{title} rule {label}: {}", r.text);
        }
    }
}

pub fn cluster_policy(e: &ClusterPolicyExplanation) -> String {
    let p = &e.policy;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        bold(&format!("{} {}", p.kind, p.policy)),
        dim(&format!("({})", p.source))
    );
    let _ = writeln!(out, "Tier {}, priority {}", p.tier, p.priority);
    let _ = writeln!(
        out,
        "Selects {}: {}",
        p.subject,
        if e.selects.is_empty() {
            yellow("no pods right now")
        } else {
            e.selects.join(", ")
        }
    );
    if p.ingress.is_empty() && p.egress.is_empty() {
        let _ = writeln!(out, "{}", dim("no rules: it affects no traffic"));
    }
    cluster_rules(&mut out, p, "  ");
    for n in &e.notes {
        let _ = writeln!(out, "{} {n}", dim("note:"));
    }
    out
}

fn direction_block(out: &mut String, title: &str, d: &DirectionJson) {
    let state = if d.isolated {
        red("isolated")
    } else {
        green("not isolated")
    };
    let _ = writeln!(out, "{} {state}", bold(title));
    if d.policies.is_empty() {
        let _ = writeln!(out, "  {}", dim(&d.summary));
    }
    for p in &d.policies {
        let _ = writeln!(
            out,
            "  {} {}",
            cyan(&format!("{}/{}", p.namespace, p.name)),
            dim(&format!(
                "(podSelector: {})",
                if p.pod_selector.is_empty() {
                    "{} all pods"
                } else {
                    &p.pod_selector
                }
            ))
        );
        if p.rules.is_empty() {
            let _ = writeln!(
                out,
                "    {}",
                red(&format!(
                    "no {} rules: allows nothing",
                    title.trim_end_matches(':').to_lowercase()
                ))
            );
        }
        for r in &p.rules {
            let _ = writeln!(out, "    rule {}: {}", r.index, r.text);
            for port in r
                .ports
                .iter()
                .filter(|p| p.resolved.is_some() || p.text.contains("not declared"))
            {
                let _ = writeln!(out, "      {}", dim(&port.text));
            }
        }
    }
}

pub fn pod(e: &PodExplanation) -> String {
    let mut out = String::new();
    let labels = e
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let _ = writeln!(
        out,
        "{} {}",
        bold(&format!("Pod {}", e.pod)),
        dim(&format!("[{labels}]"))
    );
    direction_block(&mut out, "Ingress:", &e.ingress);
    direction_block(&mut out, "Egress:", &e.egress);
    if !e.cluster_policies.is_empty() {
        let _ = writeln!(out, "{}", bold("Cluster policies (in evaluation order):"));
        for p in &e.cluster_policies {
            let _ = writeln!(
                out,
                "  {} {} {}",
                cyan(&p.policy),
                p.tier,
                dim(&format!("priority {} (subject: {})", p.priority, p.subject))
            );
            cluster_rules(&mut out, p, "    ");
        }
    }
    for n in &e.notes {
        let _ = writeln!(out, "{} {n}", dim("note:"));
    }
    out
}

pub fn policy(e: &PolicyExplanation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        bold(&format!("NetworkPolicy {}", e.policy)),
        dim(&format!("({})", e.source))
    );
    let sel = if e.pod_selector.is_empty() {
        "all pods in the namespace".to_string()
    } else {
        format!("pods {}", e.pod_selector)
    };
    let _ = writeln!(
        out,
        "Selects {sel}: {}",
        if e.selects.is_empty() {
            yellow("no pods right now")
        } else {
            e.selects.join(", ")
        }
    );
    for (title, d) in [("Ingress", &e.ingress), ("Egress", &e.egress)] {
        if !d.affected {
            let _ = writeln!(
                out,
                "{}: {}",
                bold(title),
                dim("not affected (not in policyTypes)")
            );
            continue;
        }
        if d.rules.is_empty() {
            let _ = writeln!(
                out,
                "{}: {}",
                bold(title),
                red("denies everything (no rules)")
            );
        } else {
            let _ = writeln!(out, "{}:", bold(title));
            for r in &d.rules {
                let _ = writeln!(out, "  rule {}: {}", r.index, r.text);
            }
        }
    }
    for n in &e.notes {
        let _ = writeln!(out, "{} {n}", dim("note:"));
    }
    out
}

fn half(out: &mut String, title: &str, h: &HalfJson) {
    let _ = writeln!(
        out,
        "  {} {} {}",
        bold(title),
        verdict_word(h.allowed),
        dim(&format!("({})", h.subject))
    );
    let _ = writeln!(
        out,
        "    {}",
        h.text.split("; closest:").next().unwrap_or(&h.text)
    );
    for tier in &h.cluster {
        let _ = writeln!(out, "    {} {}", dim(&format!("{}:", tier.tier)), tier.text);
        if let Some(m) = &tier.nearest_miss {
            let _ = writeln!(out, "      {} {m}", yellow("nearest miss:"));
        }
    }
    if h.ambiguous {
        let _ = writeln!(
            out,
            "    {}",
            yellow("ambiguous: another order of equal priorities gives the other answer")
        );
    }
    if let Some(nm) = &h.near_miss {
        if let Some(rule) = nm.miss.rule {
            let _ = writeln!(
                out,
                "    {} {}/{} rule {rule}: {}",
                yellow("nearest miss:"),
                nm.policy.namespace,
                nm.policy.name,
                nm.miss.rule_text
            );
        } else {
            let _ = writeln!(
                out,
                "    {} {}/{}: {}",
                yellow("nearest miss:"),
                nm.policy.namespace,
                nm.policy.name,
                nm.miss.rule_text
            );
        }
        for m in &nm.miss.matched {
            let _ = writeln!(out, "      {} {m}", green("✓"));
        }
        for f in &nm.miss.failed {
            let _ = writeln!(out, "      {} {f}", red("✗"));
        }
    }
}

pub fn traffic(e: &TrafficExplanation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} → {} on {} {}: {}",
        bold(&e.from),
        bold(&e.to),
        e.protocol,
        e.port,
        verdict_word(e.allowed)
    );
    if e.ambiguous {
        let _ = writeln!(
            out,
            "{}",
            yellow(
                "AMBIGUOUS: the answer depends on the order of cluster policies of equal priority"
            )
        );
    }
    half(&mut out, "egress ", &e.egress);
    half(&mut out, "ingress", &e.ingress);
    for n in &e.notes {
        let _ = writeln!(out, "{} {n}", dim("note:"));
    }
    out
}
