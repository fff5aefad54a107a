//! Showing results: coloured tables for people, JSON/YAML/CSV for scripts. No semantics here.

pub mod diff;
pub mod enforcer;
pub mod explain;
pub mod graph;
pub mod junit;
pub mod lint;
pub mod markdown;
pub mod matrix;
pub mod probe;
pub mod table;

use owo_colors::{OwoColorize, Stream};

/// Every output format some command offers; each command says which it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Format {
    Table,
    Json,
    Yaml,
    Csv,
    Summary,
    Markdown,
    Junit,
    Mermaid,
    Dot,
    Sarif,
}

impl Format {
    /// The name `-o` takes (clap's ValueEnum spells it the same way: lowercase).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Serialises for `-o json` / `-o yaml`.
pub fn structured<T: serde::Serialize>(value: &T, format: Format) -> String {
    match format {
        Format::Yaml => {
            serde_yaml::to_string(value).unwrap_or_else(|e| format!("# cannot render YAML: {e}\n"))
        }
        _ => {
            let mut s = serde_json::to_string_pretty(value)
                .unwrap_or_else(|e| format!("{{\"error\": \"cannot render JSON: {e}\"}}"));
            s.push('\n');
            s
        }
    }
}

pub fn green(s: &str) -> String {
    s.if_supports_color(Stream::Stdout, |t| t.green())
        .to_string()
}

pub fn red(s: &str) -> String {
    s.if_supports_color(Stream::Stdout, |t| t.red()).to_string()
}

pub fn bold(s: &str) -> String {
    s.if_supports_color(Stream::Stdout, |t| t.bold())
        .to_string()
}

pub fn dim(s: &str) -> String {
    s.if_supports_color(Stream::Stdout, |t| t.dimmed())
        .to_string()
}

pub fn yellow(s: &str) -> String {
    s.if_supports_color(Stream::Stdout, |t| t.yellow())
        .to_string()
}

pub fn cyan(s: &str) -> String {
    s.if_supports_color(Stream::Stdout, |t| t.cyan())
        .to_string()
}

/// A word for allowed/denied in colour.
pub fn verdict_word(allowed: bool) -> String {
    if allowed {
        green("ALLOWED")
    } else {
        red("DENIED")
    }
}

#[cfg(test)]
mod tests {
    use super::Format;
    use clap::ValueEnum;

    #[test]
    fn format_names_are_what_dash_o_takes() {
        for f in Format::value_variants() {
            assert_eq!(f.to_possible_value().unwrap().get_name(), f.name());
        }
    }
}
