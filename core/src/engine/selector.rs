//! Label selector matching (metav1.LabelSelector semantics).

use crate::model::{LabelSelector, Labels, Operator, Requirement};

impl Requirement {
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            // NotIn also matches objects without the key, as in Kubernetes.
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

impl LabelSelector {
    /// matchLabels and matchExpressions are ANDed; an empty selector matches everything.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }

    /// The parts of the selector that `labels` fails, in words (for near misses).
    pub fn failures(&self, labels: &Labels) -> Vec<String> {
        let mut out = Vec::new();
        for (k, v) in &self.match_labels {
            match labels.get(k) {
                Some(have) if have == v => {}
                Some(have) => out.push(format!("{k}={v} (has {k}={have})")),
                None => out.push(format!("{k}={v} (has no {k} label)")),
            }
        }
        for r in &self.match_expressions {
            if !r.matches(labels) {
                let have = match labels.get(&r.key) {
                    Some(v) => format!("has {}={v}", r.key),
                    None => format!("has no {} label", r.key),
                };
                out.push(format!("{} ({have})", super::words::requirement(r)));
            }
        }
        out
    }
}
