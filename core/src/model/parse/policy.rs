//! The `networking.k8s.io/v1` NetworkPolicy, validated as ValidateNetworkPolicy does.

use serde_json::Value;

use super::*;

/// Parses a `networking.k8s.io/v1` NetworkPolicy. Unknown fields in `spec` are errors.
pub fn parse_policy_object(
    obj: &Value,
    default_namespace: &str,
    source: Source,
) -> std::result::Result<Policy, (Option<String>, FieldError)> {
    let (map, meta, namespace, label) = open_object(obj, "NetworkPolicy", default_namespace)?;
    let wrap = |e: FieldError| (Some(label.clone()), e);
    let spec_value = field(map, "spec").ok_or_else(|| {
        wrap(FieldError::new(
            "spec",
            "missing: a NetworkPolicy needs a spec with at least podSelector",
        ))
    })?;
    let spec = Node {
        value: spec_value,
        path: "spec",
    };
    let spec_map = spec
        .object(&["podSelector", "ingress", "egress", "policyTypes"])
        .map_err(wrap)?;
    // The Go type has no omitempty on podSelector: an omitted one decodes as {} (all pods).
    let pod_selector = match field(spec_map, "podSelector") {
        Some(v) => parse_selector(Node {
            value: v,
            path: "spec.podSelector",
        })
        .map_err(wrap)?,
        None => LabelSelector::default(),
    };
    let ingress = each(spec_map, "spec", "ingress", |n| parse_rule(n, "from")).map_err(wrap)?;
    let egress = each(spec_map, "spec", "egress", |n| parse_rule(n, "to")).map_err(wrap)?;
    let types = each(spec_map, "spec", "policyTypes", |n| match n.str()? {
        "Ingress" => Ok(Direction::Ingress),
        "Egress" => Ok(Direction::Egress),
        other => Err(n.err(format!(
            "unknown policy type {other:?}: use Ingress and/or Egress (case matters)"
        ))),
    })
    .map_err(wrap)?;
    let (types_ingress, types_egress, types_explicit) = match types {
        Some(t) if t.is_empty() => (true, egress.as_ref().is_some_and(|e| !e.is_empty()), false),
        Some(t) => {
            let mut seen = std::collections::BTreeSet::new();
            for d in &t {
                if !seen.insert(*d) {
                    return Err(wrap(FieldError::new(
                        "spec.policyTypes",
                        format!(
                            "{} is listed twice",
                            match d {
                                Direction::Ingress => "Ingress",
                                Direction::Egress => "Egress",
                            }
                        ),
                    )));
                }
            }
            (
                seen.contains(&Direction::Ingress),
                seen.contains(&Direction::Egress),
                true,
            )
        }
        // The API server's defaulting: Ingress always, Egress iff there is an egress rule.
        None => (true, egress.as_ref().is_some_and(|e| !e.is_empty()), false),
    };
    let egress_written = egress.is_some();
    Ok(Policy {
        namespace,
        name: meta.name,
        pod_selector,
        egress_written,
        ingress: ingress.unwrap_or_default(),
        egress: egress.unwrap_or_default(),
        types_ingress,
        types_egress,
        types_explicit,
        source,
    })
}
