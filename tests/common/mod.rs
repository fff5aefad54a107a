//! Shared by the integration tests: the scenario fixtures in tests/cases/ (here), the one CLI
//! runner (`cli`) and the real-packet tests' namespace look-ups (`netns`).
#![allow(dead_code)]

pub mod cli;
pub mod netns;

use std::path::{Path, PathBuf};

use netpol::model::{load_str, LoadOptions, Probe, Snapshot};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct RawCase {
    name: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    objects: Vec<Value>,
    expect: Vec<RawExpect>,
}

#[derive(Deserialize)]
struct RawExpect {
    probes: Vec<String>,
    default: String,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize, Clone)]
struct RawRule {
    from: String,
    to: String,
    allowed: bool,
}

pub struct Expectation {
    pub probe: Probe,
    default: bool,
    rules: Vec<RawRule>,
}

fn pattern_matches(pattern: &str, pod: &str) -> bool {
    let (pn, pp) = pattern.split_once('/').unwrap_or((pattern, "*"));
    let (n, p) = pod.split_once('/').unwrap_or(("", pod));
    (pn == "*" || pn == n) && (pp == "*" || pp == p)
}

impl Expectation {
    /// The expected verdict for `from -> to` (pods written ns/name).
    pub fn allowed(&self, from: &str, to: &str) -> bool {
        if from == to {
            return true;
        }
        let mut v = self.default;
        for r in &self.rules {
            if pattern_matches(&r.from, from) && pattern_matches(&r.to, to) {
                v = r.allowed;
            }
        }
        v
    }
}

pub struct Case {
    pub name: String,
    pub source: String,
    pub path: PathBuf,
    /// The merged manifests (base + objects) as multi-document YAML.
    pub manifests: String,
    pub expectations: Vec<Expectation>,
}

impl Case {
    pub fn snapshot(&self) -> Snapshot {
        load_str(
            &self.path.display().to_string(),
            &self.manifests,
            &LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("case {}: {e}", self.name))
        .0
    }
}

fn object_id(v: &Value) -> (String, String, String) {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (s("/kind"), s("/metadata/namespace"), s("/metadata/name"))
}

fn read_objects(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let v = Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match v {
            Value::Null => {}
            Value::Array(items) => out.extend(items),
            Value::Object(ref o) if o.get("kind").and_then(Value::as_str) == Some("List") => out
                .extend(
                    o.get("items")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                ),
            other => out.push(other),
        }
    }
    out
}

pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "base") {
                collect(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

/// Every scenario fixture, sorted by name.
pub fn load_cases() -> Vec<Case> {
    let root = cases_dir();
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let raw: RawCase =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let mut objects = match &raw.base {
                Some(b) => read_objects(&root.join("base").join(format!("{b}.yaml"))),
                None => Vec::new(),
            };
            for o in raw.objects {
                let id = object_id(&o);
                match objects.iter().position(|x| object_id(x) == id) {
                    Some(i) => objects[i] = o,
                    None => objects.push(o),
                }
            }
            let manifests = objects
                .iter()
                .map(|o| serde_yaml::to_string(o).unwrap())
                .collect::<Vec<_>>()
                .join("---\n");
            let mut expectations = Vec::new();
            for e in raw.expect {
                let default = match e.default.as_str() {
                    "allow" => true,
                    "deny" => false,
                    other => panic!(
                        "{}: default must be allow or deny, not {other}",
                        path.display()
                    ),
                };
                for p in &e.probes {
                    let probe =
                        Probe::parse(p).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
                    expectations.push(Expectation {
                        probe,
                        default,
                        rules: e.rules.clone(),
                    });
                }
            }
            Case {
                name: raw.name,
                source: raw.source,
                path,
                manifests,
                expectations,
            }
        })
        .collect()
}
