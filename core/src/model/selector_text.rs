//! kubectl's label selector syntax (`-l app=web,tier!=db,env in (a,b),!debug`).

use super::{LabelSelector, Operator, Requirement};

/// Parses a `-l` selector; the error says what would be valid.
pub fn parse_selector_text(text: &str) -> Result<LabelSelector, String> {
    let mut sel = LabelSelector::default();
    for term in terms(text) {
        match parse_term(term) {
            Some(Term::Label(k, v)) => {
                sel.match_labels.insert(k, v);
            }
            Some(Term::Requirement(r)) => sel.match_expressions.push(r),
            None => {
                return Err(format!("invalid selector term {term:?}: use key=value, key!=value, key in (a,b), key notin (a,b), key or !key"));
            }
        }
    }
    Ok(sel)
}

/// The terms of a selector: split at commas outside parentheses, trimmed, empty ones dropped.
fn terms(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
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
        if !term.is_empty() {
            out.push(term);
        }
    }
    out
}

enum Term {
    /// `key=value` (matchLabels).
    Label(String, String),
    Requirement(Requirement),
}

fn key_ok(k: &str) -> bool {
    !k.trim().is_empty()
        && k.trim()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn value_ok(v: &str) -> bool {
    v.trim()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn requirement(key: &str, operator: Operator, values: Vec<String>) -> Option<Term> {
    Some(Term::Requirement(Requirement {
        key: key.trim().to_string(),
        operator,
        values,
    }))
}

/// One term, or None when it is not valid kubectl selector syntax.
fn parse_term(term: &str) -> Option<Term> {
    if let Some(key) = term.strip_prefix('!') {
        return key_ok(key)
            .then(|| requirement(key, Operator::DoesNotExist, vec![]))
            .flatten();
    }
    if let Some((k, v)) = term.split_once("!=") {
        return (key_ok(k) && value_ok(v))
            .then(|| requirement(k, Operator::NotIn, vec![v.trim().to_string()]))
            .flatten();
    }
    if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return (key_ok(k) && value_ok(v))
            .then(|| Term::Label(k.trim().to_string(), v.trim().to_string()));
    }
    if let Some((k, vals)) = split_set(term, " notin ").or_else(|| split_set(term, " in ")) {
        let op = if term.contains(" notin ") {
            Operator::NotIn
        } else {
            Operator::In
        };
        let vals = vals.trim().strip_prefix('(')?.strip_suffix(')')?;
        let values: Vec<String> = vals
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        let ok = !values.is_empty() && key_ok(k) && values.iter().all(|v| value_ok(v));
        return ok.then(|| requirement(k, op, values)).flatten();
    }
    key_ok(term)
        .then(|| requirement(term, Operator::Exists, vec![]))
        .flatten()
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
