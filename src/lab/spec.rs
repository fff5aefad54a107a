//! One lab as the catalogue describes it (manifests/labs/README.md): `lab.yaml`, the setup and
//! solution manifests, and the typical wrong answers with their comment headers.

use serde::{Deserialize, Serialize};

use super::LabError;
use crate::model::Probe;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Level {
    Beginner,
    Intermediate,
    Advanced,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What a check asks about: a connection to a pod on one port, or DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Pod {
        to: String,
        probe: Probe,
    },
    /// May `from` reach the cluster DNS on UDP 53?
    Dns,
}

/// One required (or forbidden) connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSpec {
    /// `namespace/name` as setup.yaml names the pod (a workload counts as one pod).
    pub from: String,
    pub target: Target,
    /// What the user's policies must give: allowed (true) or denied (false).
    pub allowed: bool,
    /// Shown when the check fails.
    pub why: String,
}

impl CheckSpec {
    /// `FROM -> TO proto/port` or `FROM -> dns`, the form of `# expect-failing:` lines.
    pub fn id(&self) -> String {
        match &self.target {
            Target::Pod { to, probe } => format!("{} -> {to} {probe}", self.from),
            Target::Dns => format!("{} -> dns", self.from),
        }
    }

    /// The pods the check names.
    pub fn pods(&self) -> Vec<&str> {
        match &self.target {
            Target::Pod { to, .. } => vec![self.from.as_str(), to.as_str()],
            Target::Dns => vec![self.from.as_str()],
        }
    }
}

/// A typical wrong answer (`wrong/<mistake>.yaml`) and what it must fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongAnswer {
    /// Path inside the catalogue, e.g. `02-allow-client-ingress/wrong/and-or-swapped.yaml`.
    pub file: String,
    pub mistake: String,
    /// Check ids (see `CheckSpec::id`), exactly the checks this answer fails.
    pub expect_failing: Vec<String>,
    /// Case-insensitive substrings the checker's output for the failing checks must contain.
    pub message_mentions: Vec<String>,
    pub manifests: String,
}

/// A lab of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lab {
    /// The NN of the folder: the catalogue's order.
    pub number: u32,
    /// `NN-<name>`.
    pub folder: String,
    pub name: String,
    pub title: String,
    pub level: Level,
    pub source: String,
    /// Exactly the Namespace objects of setup.yaml: what `start` creates and `reset` deletes.
    pub namespaces: Vec<String>,
    /// Works only offline (-f) or in the local sandbox (e.g. it relies on status.podIP).
    pub local_only: bool,
    pub notes: Option<String>,
    pub task: String,
    pub hints: Vec<String>,
    pub checks: Vec<CheckSpec>,
    pub setup: String,
    pub solution: String,
    pub wrong: Vec<WrongAnswer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLab {
    name: String,
    title: String,
    level: Level,
    source: String,
    namespaces: Vec<String>,
    #[serde(rename = "local-only", default)]
    local_only: bool,
    #[serde(default)]
    notes: Option<String>,
    task: String,
    #[serde(default)]
    hints: Vec<String>,
    checks: Vec<RawCheck>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    from: String,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    port: Option<String>,
    #[serde(default)]
    dns: bool,
    allowed: bool,
    why: String,
}

fn bad(file: &str, message: impl Into<String>) -> LabError {
    LabError::Catalogue(format!("{file}: {}", message.into()))
}

/// Parses `lab.yaml`; setup, solution and wrong answers are attached by the catalogue.
pub(crate) fn parse_lab_yaml(folder: &str, file: &str, text: &str) -> Result<Lab, LabError> {
    let (number, slug) = folder
        .split_once('-')
        .and_then(|(n, s)| n.parse::<u32>().ok().map(|n| (n, s)))
        .ok_or_else(|| bad(file, "the folder must be named NN-<name>"))?;
    let de = serde_yaml::Deserializer::from_str(text);
    let raw: RawLab = serde_path_to_error::deserialize(de)
        .map_err(|e| bad(file, format!("field {}: {}", e.path(), e.inner())))?;
    if raw.name != slug {
        return Err(bad(
            file,
            format!("name {:?} must equal the folder's slug {slug:?}", raw.name),
        ));
    }
    let mut checks = Vec::new();
    for (i, c) in raw.checks.into_iter().enumerate() {
        let at = |m: String| bad(file, format!("checks[{i}]: {m}"));
        let target = match (c.dns, c.to, c.port) {
            (true, None, None) => Target::Dns,
            (true, _, _) => return Err(at("a dns check has no `to` and no `port`".into())),
            (false, Some(to), Some(port)) => Target::Pod {
                to,
                probe: Probe::parse(&port).map_err(at)?,
            },
            (false, _, _) => {
                return Err(at(
                    "needs `to` and `port` (e.g. tcp/80), or `dns: true`".into()
                ))
            }
        };
        let check = CheckSpec {
            from: c.from,
            target,
            allowed: c.allowed,
            why: c.why,
        };
        for pod in check.pods() {
            if !pod.contains('/') {
                return Err(at(format!("pod {pod:?} must be written namespace/name")));
            }
        }
        checks.push(check);
    }
    Ok(Lab {
        number,
        folder: folder.to_string(),
        name: raw.name,
        title: raw.title,
        level: raw.level,
        source: raw.source,
        namespaces: raw.namespaces,
        local_only: raw.local_only,
        notes: raw.notes,
        task: raw.task,
        hints: raw.hints,
        checks,
        setup: String::new(),
        solution: String::new(),
        wrong: Vec::new(),
    })
}

/// Reads the comment header of a wrong answer.
pub(crate) fn parse_wrong(file: &str, text: &str) -> Result<WrongAnswer, LabError> {
    let mut mistake = None;
    let mut expect_failing = Vec::new();
    let mut message_mentions = Vec::new();
    for line in text.lines() {
        let Some(comment) = line.strip_prefix('#') else {
            if line.trim().is_empty() {
                continue;
            }
            break;
        };
        let comment = comment.trim();
        if let Some(v) = comment.strip_prefix("mistake:") {
            mistake = Some(v.trim().to_string());
        } else if let Some(v) = comment.strip_prefix("expect-failing:") {
            expect_failing.push(normalise_id(v));
        } else if let Some(v) = comment.strip_prefix("message-mentions:") {
            let list: Vec<String> = serde_yaml::from_str(v.trim()).map_err(|e| {
                bad(
                    file,
                    format!("message-mentions must be a YAML flow list like [OR, namespaceSelector]: {e}"),
                )
            })?;
            message_mentions.extend(list);
        }
    }
    let mistake = mistake.ok_or_else(|| bad(file, "the header needs a `# mistake: NAME` line"))?;
    let stem = file
        .rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".yaml"))
        .unwrap_or(file);
    if mistake != stem {
        return Err(bad(
            file,
            format!("the file must be named after its mistake ({mistake}.yaml)"),
        ));
    }
    Ok(WrongAnswer {
        file: file.to_string(),
        mistake,
        expect_failing,
        message_mentions,
        manifests: text.to_string(),
    })
}

/// `a  ->  b TCP/80` → `a -> b tcp/80`.
fn normalise_id(s: &str) -> String {
    let parts: Vec<&str> = s.split_whitespace().collect();
    match parts.as_slice() {
        [from, "->", "dns"] => format!("{from} -> dns"),
        [from, "->", to, port] => match Probe::parse(port) {
            Ok(p) => format!("{from} -> {to} {p}"),
            Err(_) => parts.join(" "),
        },
        _ => parts.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_are_the_yaml_names() {
        for l in [Level::Beginner, Level::Intermediate, Level::Advanced] {
            assert_eq!(
                serde_json::to_string(&l).unwrap(),
                format!("\"{}\"", l.as_str())
            );
        }
    }

    #[test]
    fn wrong_answer_headers() {
        let w = parse_wrong(
            "01-x/wrong/and-or-swapped.yaml",
            "# mistake: and-or-swapped\n# expect-failing: a/b  ->  c/d TCP/80\n# expect-failing: a/b -> dns\n# message-mentions: [OR, 9090, \"x: y\"]\n# free text\napiVersion: v1\n# expect-failing: not/a -> header tcp/1\n",
        )
        .unwrap();
        assert_eq!(w.mistake, "and-or-swapped");
        assert_eq!(w.expect_failing, ["a/b -> c/d tcp/80", "a/b -> dns"]);
        assert_eq!(w.message_mentions, ["OR", "9090", "x: y"]);
        assert!(parse_wrong("01-x/wrong/other.yaml", "# mistake: and-or-swapped\n").is_err());
        assert!(parse_wrong("01-x/wrong/m.yaml", "kind: List\n").is_err());
    }

    #[test]
    fn lab_yaml_errors_name_the_field() {
        let ok = "name: x\ntitle: t\nlevel: beginner\nsource: s\nnamespaces: [a]\ntask: t\nchecks:\n  - {from: a/p, dns: true, allowed: true, why: w}\n";
        let lab = parse_lab_yaml("01-x", "01-x/lab.yaml", ok).unwrap();
        assert_eq!(lab.checks[0].id(), "a/p -> dns");
        let e =
            parse_lab_yaml("01-x", "01-x/lab.yaml", &ok.replace("beginner", "expert")).unwrap_err();
        assert!(e.to_string().contains("level"), "{e}");
        let e = parse_lab_yaml("01-y", "01-y/lab.yaml", ok).unwrap_err();
        assert!(e.to_string().contains("slug"), "{e}");
        let e = parse_lab_yaml("01-x", "01-x/lab.yaml", &ok.replace("dns: true", "to: a/q"))
            .unwrap_err();
        assert!(e.to_string().contains("checks[0]"), "{e}");
    }
}
