//! Shared by the integration tests: the scenario fixtures in tests/cases/ (here), the one CLI
//! runner (`cli`), the cluster-policy conformance steps (`cluster_fixtures`) and the real-packet
//! tests' namespace look-ups (`netns`).
#![allow(dead_code)]

pub mod cli;
pub mod cluster_fixtures;
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

/// The enforcer's full ruleset for `snap` as the node would receive it: per family the set
/// comments, the `ipset restore` text and the `iptables-restore` text, then what each class
/// chain checks. Two variants: every pod (as `probe --local`), and `node` with drop logging
/// and the hold of unplaced addresses (as the agent runs).
pub fn enforcer_text(snap: &Snapshot, node: Option<&str>, hold: &[&str]) -> String {
    use netpol::enforce::compile::{compile_with, CompileOptions, DropLog, Family};
    use netpol::enforce::render;
    use netpol::engine::Engine;
    use std::fmt::Write;
    let engine = Engine::new(snap);
    let agent = CompileOptions {
        log_drops: Some(DropLog {
            nflog_group: 7,
            per_second: 5,
        }),
        hold: hold.iter().map(|h| h.parse().unwrap()).collect(),
    };
    let mut out = String::new();
    for (label, node, opts) in [
        ("every pod", None, CompileOptions::default()),
        ("agent", node, agent),
    ] {
        let rules = compile_with(&engine, node, &opts);
        for f in [Family::V4, Family::V6] {
            let r = rules.family(f);
            let _ = writeln!(out, "## {label} ({node:?}), {f:?}: sets");
            for (name, s) in &r.sets {
                let _ = writeln!(out, "# {name}: {}", s.comment);
            }
            out.push_str(&render::ipset_restore(r));
            let _ = writeln!(out, "## {label} ({node:?}), {f:?}: iptables");
            out.push_str(&render::iptables_restore(r, &[]));
        }
        let _ = writeln!(out, "## {label}: chains");
        for (chain, info) in &rules.chain_info {
            let _ = writeln!(out, "{chain}: {} {:?}", info.direction, info.policies);
        }
        let _ = writeln!(out, "## {label}: without ip {:?}", rules.pods_without_ip);
    }
    out
}

/// Compares `text` with the golden file `tests/golden/NAME` byte for byte; with
/// `UPDATE_GOLDEN=1`, writes it instead. Returns a description of the difference.
pub fn check_golden(name: &str, text: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return None;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    if want == text {
        return None;
    }
    let first = want
        .lines()
        .zip(text.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(want.lines().count().min(text.lines().count()));
    Some(format!(
        "{name}: differs from line {}: golden {:?}, now {:?}",
        first + 1,
        want.lines().nth(first),
        text.lines().nth(first)
    ))
}
