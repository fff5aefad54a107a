//! The kubernetes-sigs/network-policy-api conformance scenarios of tests/fixtures/cluster-policy
//! as steps: a scenario directory is one step (`expected.json` + `manifests/`) or ordered steps
//! `step-1/`, `step-2/`, ... of the same layout (a subtest that changes objects between checks).
//! Each step loads `base/*.yaml`, except the base files its `manifests/` replaces by name.

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster-policy")
}

/// One snapshot of an upstream subtest and the connections upstream checks on it.
pub struct Step {
    /// The scenario directory name, with `/step-N` for a multi-step scenario.
    pub name: String,
    pub subtest: String,
    /// The files to load, in order: the base files it keeps, then its own manifests.
    pub files: Vec<PathBuf>,
    pub checks: Vec<Value>,
}

impl Step {
    /// Every file as one multi-document YAML text.
    pub fn manifests(&self) -> String {
        self.files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect::<Vec<_>>()
            .join("\n---\n")
    }
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

fn step(name: String, dir: &Path) -> Step {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json"))
            .unwrap_or_else(|e| panic!("{name}: expected.json: {e}")),
    )
    .unwrap_or_else(|e| panic!("{name}: expected.json: {e}"));
    let own = yaml_files(&dir.join("manifests"));
    let mut files: Vec<PathBuf> = yaml_files(&root().join("base"))
        .into_iter()
        .filter(|b| !own.iter().any(|o| o.file_name() == b.file_name()))
        .collect();
    files.extend(own);
    let checks = expected["connections"].as_array().unwrap().clone();
    assert!(!checks.is_empty(), "{name}: no checks");
    Step {
        subtest: expected["upstream"]["subtest"]
            .as_str()
            .unwrap()
            .to_string(),
        name,
        files,
        checks,
    }
}

/// The steps of every scenario whose directory name starts with `prefix`, in order.
pub fn steps(prefix: &str) -> Vec<Step> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.contains("--") && n.starts_with(prefix))
        })
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if dir.join("expected.json").exists() {
            out.push(step(name, &dir));
            continue;
        }
        let mut n = 1;
        while dir.join(format!("step-{n}")).is_dir() {
            out.push(step(
                format!("{name}/step-{n}"),
                &dir.join(format!("step-{n}")),
            ));
            n += 1;
        }
        assert!(
            n > 2,
            "{name}: neither expected.json nor step-1/ and step-2/"
        );
        let extra = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(
            extra,
            n - 1,
            "{name}: steps must be step-1 .. step-{}",
            n - 1
        );
    }
    out
}
