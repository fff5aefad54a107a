//! kubectl's label selector syntax (`-l app=web,tier!=db,env in (a,b),!debug`).

use super::{LabelSelector, Operator, Requirement};

/// Parses a `-l` selector; the error says what would be valid.
pub fn parse_selector_text(text: &str) -> Result<LabelSelector, String> {
    let mut sel = LabelSelector::default();
    let mut rest = text.trim();
    while !rest.is_empty() {
        // Split at the next comma outside parentheses.
        let mut depth = 0;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let term = rest[..end].trim();
        rest = rest.get(end + 1..).unwrap_or("").trim();
        if term.is_empty() {
            continue;
        }
        let bad = || {
            format!("invalid selector term {term:?}: use key=value, key!=value, key in (a,b), key notin (a,b), key or !key")
        };
        let key_ok = |k: &str| {
            !k.trim().is_empty()
                && k.trim()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        };
        let value_ok = |v: &str| {
            v.trim()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if let Some(key) = term.strip_prefix('!') {
            if !key_ok(key) {
                return Err(bad());
            }
            sel.match_expressions.push(Requirement {
                key: key.trim().to_string(),
                operator: Operator::DoesNotExist,
                values: vec![],
            });
        } else if let Some((k, v)) = term.split_once("!=") {
            if !key_ok(k) || !value_ok(v) {
                return Err(bad());
            }
            sel.match_expressions.push(Requirement {
                key: k.trim().to_string(),
                operator: Operator::NotIn,
                values: vec![v.trim().to_string()],
            });
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            if !key_ok(k) || !value_ok(v) {
                return Err(bad());
            }
            sel.match_labels
                .insert(k.trim().to_string(), v.trim().to_string());
        } else if let Some((k, vals)) =
            split_set(term, " notin ").or_else(|| split_set(term, " in "))
        {
            let op = if term.contains(" notin ") {
                Operator::NotIn
            } else {
                Operator::In
            };
            let vals = vals
                .trim()
                .strip_prefix('(')
                .and_then(|v| v.strip_suffix(')'))
                .ok_or_else(bad)?;
            let values: Vec<String> = vals
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            if values.is_empty() || !key_ok(k) || !values.iter().all(|v| value_ok(v)) {
                return Err(bad());
            }
            sel.match_expressions.push(Requirement {
                key: k.trim().to_string(),
                operator: op,
                values,
            });
        } else if term
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        {
            sel.match_expressions.push(Requirement {
                key: term.to_string(),
                operator: Operator::Exists,
                values: vec![],
            });
        } else {
            return Err(bad());
        }
    }
    Ok(sel)
}

fn split_set<'a>(term: &'a str, op: &str) -> Option<(&'a str, &'a str)> {
    term.find(op).map(|i| (&term[..i], &term[i + op.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubectl_forms() {
        let s = parse_selector_text("app=web, tier!=db,env in (a, b),!debug,has").unwrap();
        assert_eq!(s.match_labels.get("app").map(String::as_str), Some("web"));
        assert_eq!(s.match_expressions.len(), 4);
        assert_eq!(s.match_expressions[1].values, vec!["a", "b"]);
        assert_eq!(s.match_expressions[2].operator, Operator::DoesNotExist);
        assert_eq!(s.match_expressions[3].operator, Operator::Exists);
        assert!(parse_selector_text("a in b").is_err());
        assert!(parse_selector_text("=&").is_err());
    }
}
