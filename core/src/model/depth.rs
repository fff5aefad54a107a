//! A cheap pre-scan that refuses absurdly deep nesting before the YAML parser sees it. A
//! document of 100,000 `[` is tiny but the parser builds the whole nesting before its recursion
//! limit fires, which takes tens of seconds; Kubernetes objects are a few dozen levels deep.
//!
//! The scan is an estimate that errs low: it counts flow collections (`[`, `{` that open a
//! value, outside quotes and comments), block indentation levels and compact `- ` / `? `
//! indicators. Under-counting is harmless (the parser still has its own limit); it must never
//! count more levels than the YAML really has.

/// Deeper than any Kubernetes object this tool reads (a Pod is about 10 levels deep).
pub const MAX_DEPTH: usize = 64;

/// Where the nesting first went too deep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    pub line: usize,
    pub document: usize,
}

#[derive(Default)]
struct Scan {
    /// Open flow collections.
    flow: usize,
    /// Inside a quoted scalar that spans lines: the closing quote.
    quote: Option<u8>,
    /// Indentation of the enclosing block lines.
    indents: Vec<usize>,
    /// Inside a block scalar (`|`, `>`) opened on a line with this indentation.
    block_scalar: Option<usize>,
    document: usize,
    seen_content: bool,
}

/// Checks `text`; Err names the first line where nesting exceeds `MAX_DEPTH`.
pub fn check_depth(text: &str) -> Result<(), TooDeep> {
    let mut scan = Scan::default();
    for (i, line) in text.split('\n').enumerate() {
        let depth = scan.line(line.as_bytes());
        if depth > MAX_DEPTH {
            return Err(TooDeep {
                line: i + 1,
                document: scan.document.max(1),
            });
        }
    }
    Ok(())
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\r'
}

impl Scan {
    /// Scans one line; returns the deepest nesting seen on it.
    fn line(&mut self, line: &[u8]) -> usize {
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let rest = &line[indent..];
        let blank = rest.iter().all(|&b| is_blank(b)) || rest.first() == Some(&b'#');
        if let Some(opened_at) = self.block_scalar {
            if blank || indent > opened_at {
                return 0;
            }
            self.block_scalar = None;
        }
        if self.flow == 0 && self.quote.is_none() {
            if rest.starts_with(b"---") && rest.get(3).is_none_or(|&b| is_blank(b)) {
                self.document += 1;
                self.indents.clear();
                return 0;
            }
            if blank {
                return 0;
            }
            if !self.seen_content && self.document == 0 {
                self.document = 1;
            }
            self.seen_content = true;
            while self.indents.last().is_some_and(|&top| top >= indent) {
                self.indents.pop();
            }
            self.indents.push(indent);
        }
        let compact = compact_indicators(rest);
        let base = self.indents.len() + compact;
        let mut deepest = base + self.flow;
        let mut prev = b' ';
        let mut k = 0;
        while k < rest.len() {
            let b = rest[k];
            if let Some(q) = self.quote {
                // `\"` in double quotes and `''` in single quotes do not close the scalar.
                let escaped = match q {
                    b'"' => b == b'\\',
                    _ => b == b'\'' && rest.get(k + 1) == Some(&b'\''),
                };
                if escaped {
                    k += 2;
                    continue;
                }
                if b == q {
                    self.quote = None;
                }
            } else if b == b'#' && is_blank(prev) {
                break;
            } else if (b == b'"' || b == b'\'') && opens_value(prev) {
                self.quote = Some(b);
            } else if (b == b'[' || b == b'{') && opens_value(prev) {
                self.flow += 1;
                deepest = deepest.max(base + self.flow);
            } else if (b == b']' || b == b'}') && self.flow > 0 {
                self.flow -= 1;
            }
            prev = b;
            k += 1;
        }
        if self.flow == 0 && self.quote.is_none() && opens_block_scalar(rest) {
            self.block_scalar = Some(indent);
        }
        deepest
    }
}

/// Can a value (a quoted scalar or a flow collection) start after this character?
fn opens_value(prev: u8) -> bool {
    is_blank(prev) || matches!(prev, b'[' | b'{' | b',' | b':' | b'-' | b'?')
}

/// `- - - x` and `? ? x`: block collections opened on one line.
fn compact_indicators(rest: &[u8]) -> usize {
    let mut n = 0;
    let mut k = 0;
    while k + 1 < rest.len() && matches!(rest[k], b'-' | b'?') && is_blank(rest[k + 1]) {
        n += 1;
        k += 2;
        while k < rest.len() && is_blank(rest[k]) {
            k += 1;
        }
    }
    n
}

/// Does the line end with a block scalar header (`key: |`, `- >-`, `|2+ # comment`)?
fn opens_block_scalar(rest: &[u8]) -> bool {
    let text = match rest.windows(2).position(|w| is_blank(w[0]) && w[1] == b'#') {
        Some(p) => &rest[..p],
        None => rest,
    };
    let trimmed: Vec<u8> = text
        .iter()
        .rev()
        .skip_while(|&&b| is_blank(b))
        .copied()
        .collect();
    // `trimmed` is reversed: indicators [+-0-9]* then | or >, then a blank or the line start.
    let k = trimmed
        .iter()
        .take_while(|&&b| b == b'+' || b == b'-' || b.is_ascii_digit())
        .count();
    matches!(trimmed.get(k), Some(b'|' | b'>')) && trimmed.get(k + 1).is_none_or(|&b| is_blank(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_manifests_pass() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  annotations:\n    note: 'it''s [fine'\n    script: |\n      [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\nspec:\n  containers:\n  - name: c\n    args: [\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]\n    ports: [{containerPort: 80}]\n";
        assert_eq!(check_depth(text), Ok(()));
        let json = r#"{"kind":"List","items":[{"kind":"Pod","metadata":{"labels":{"a":"b"}}}]}"#;
        assert_eq!(check_depth(json), Ok(()));
    }

    #[test]
    fn deep_flow_block_and_compact_nesting_are_refused() {
        let flow = format!("---\nkind: Pod\n---\nspec: {}", "[".repeat(100_000));
        assert_eq!(
            check_depth(&flow),
            Err(TooDeep {
                line: 4,
                document: 2
            })
        );
        let compact = format!("a:\n  {}x\n", "- ".repeat(70));
        assert_eq!(check_depth(&compact).unwrap_err().line, 2);
        let block: String = (0..70)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert_eq!(check_depth(&block).unwrap_err().line, 65);
    }

    #[test]
    fn sixty_four_levels_are_allowed() {
        let text = format!("a: {}{}", "[".repeat(63), "]".repeat(63));
        assert_eq!(check_depth(&text), Ok(()));
        let text = format!("a: {}{}", "[".repeat(64), "]".repeat(64));
        assert!(check_depth(&text).is_err());
    }
}
