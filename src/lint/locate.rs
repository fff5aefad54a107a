//! Where an object sits in its manifest file, for SARIF regions and `file:line` in tables.
//! Pure text search on the file's contents; the CLI reads the file.

/// The 1-based line of object `name` in document `document` (1-based, as the loader counts
/// them) of a YAML or JSON file: the line of its `name:` field, else the document's first line.
pub fn object_line(text: &str, document: usize, name: &str) -> Option<usize> {
    let (start, lines) = documents(text).into_iter().nth(document.checked_sub(1)?)?;
    let found = lines
        .iter()
        .position(|l| line_names(l, name))
        .or_else(|| lines.iter().position(|l| is_content(l)))?;
    Some(start + found + 1)
}

/// Documents of a multi-document YAML stream: (index of the first line, lines), skipping the
/// empty ones (only blanks and comments) that the YAML loader does not count either.
fn documents(text: &str) -> Vec<(usize, Vec<&str>)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut current: Vec<&str> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("---") && line[3..].trim().is_empty() {
            if current.iter().any(|l| is_content(l)) {
                out.push((start, std::mem::take(&mut current)));
            }
            current.clear();
            start = i + 1;
        } else {
            current.push(line);
        }
    }
    if current.iter().any(|l| is_content(l)) {
        out.push((start, current));
    }
    out
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#') && t != "..."
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Does the line hold `name: <name>` (YAML block or flow style, or JSON `"name": "<name>"`)?
fn line_names(line: &str, name: &str) -> bool {
    let mut rest = line;
    while let Some(i) = rest.find("name") {
        let before = rest[..i].chars().next_back();
        let after = &rest[i + 4..];
        rest = after;
        if before.is_some_and(is_name_char) {
            continue;
        }
        let after = after.strip_prefix('"').unwrap_or(after).trim_start();
        let Some(value) = after.strip_prefix(':') else {
            continue;
        };
        let value = value.trim_start();
        let value = value
            .strip_prefix('"')
            .or_else(|| value.strip_prefix('\''))
            .unwrap_or(value);
        if let Some(tail) = value.strip_prefix(name) {
            if !tail.starts_with(is_name_char) {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_name_line_in_the_right_document() {
        let text = "# comment\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: payments}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  namespace: payments\n  name: api\nspec: {}\n";
        assert_eq!(object_line(text, 1, "payments"), Some(5));
        assert_eq!(object_line(text, 2, "api"), Some(11));
        assert_eq!(object_line(text, 2, "nope"), Some(7));
        assert_eq!(object_line(text, 3, "api"), None);
    }

    #[test]
    fn names_are_whole_words() {
        assert!(line_names("  name: api", "api"));
        assert!(line_names("metadata: {name: api, namespace: x}", "api"));
        assert!(line_names("  \"name\": \"api\",", "api"));
        assert!(!line_names("  name: api-2", "api"));
        assert!(!line_names("  namespace: api", "api"));
        assert!(!line_names("  hostname: api", "api"));
    }
}
