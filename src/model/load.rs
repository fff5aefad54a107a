//! Reading manifests: files, directories (recursively, .yaml/.yml/.json), stdin (`-`),
//! multi-document YAML and `kind: List`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::error::FieldError;
use super::parse::{parse_namespace_object, parse_pod_object, parse_policy_object, template_path};
use super::{InputError, Snapshot, Source};

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Namespace for objects that name none (like `kubectl apply -n`).
    pub default_namespace: String,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            default_namespace: "default".into(),
        }
    }
}

/// An object that was read but is not one of the kinds the engine uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub source: Source,
    pub kind: String,
    pub name: String,
}

/// Which object a key names, to refuse duplicates.
fn object_key(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind} {namespace}/{name}")
}

/// Reads every path into one snapshot.
pub fn load_paths(
    paths: &[PathBuf],
    opts: &LoadOptions,
) -> Result<(Snapshot, Vec<Skipped>), InputError> {
    let mut loader = Loader {
        snap: Snapshot::default(),
        skipped: Vec::new(),
        seen: Default::default(),
        opts,
    };
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
                InputError::new("<stdin>", format!("cannot read standard input: {e}"))
            })?;
            loader.add_text("<stdin>", &text)?;
        } else {
            for file in collect_files(path)? {
                let name = file.display().to_string();
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| InputError::new(&name, format!("cannot read file: {e}")))?;
                loader.add_text(&name, &text)?;
            }
        }
    }
    loader.snap.finish();
    Ok((loader.snap, loader.skipped))
}

/// Reads manifests from a string (tests, labs, embedded examples).
pub fn load_str(
    name: &str,
    text: &str,
    opts: &LoadOptions,
) -> Result<(Snapshot, Vec<Skipped>), InputError> {
    let mut loader = Loader {
        snap: Snapshot::default(),
        skipped: Vec::new(),
        seen: Default::default(),
        opts,
    };
    loader.add_text(name, text)?;
    loader.snap.finish();
    Ok((loader.snap, loader.skipped))
}

fn collect_files(path: &Path) -> Result<Vec<PathBuf>, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        InputError::new(
            path.display().to_string(),
            format!("cannot open: {e} (give a manifest file, a directory of them, or - for stdin)"),
        )
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            InputError::new(
                dir.display().to_string(),
                format!("cannot read directory: {e}"),
            )
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| {
                InputError::new(
                    dir.display().to_string(),
                    format!("cannot read directory: {e}"),
                )
            })?;
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

struct Loader<'o> {
    snap: Snapshot,
    skipped: Vec<Skipped>,
    seen: std::collections::HashMap<String, Source>,
    opts: &'o LoadOptions,
}

impl Loader<'_> {
    fn add_text(&mut self, file: &str, text: &str) -> Result<(), InputError> {
        for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
            let document = i + 1;
            let value = Value::deserialize(doc).map_err(|e| {
                InputError::new(file, format!("not valid YAML or JSON: {e}"))
                    .object(format!("document {document}"))
            })?;
            self.add_value(file, document, value)?;
        }
        Ok(())
    }

    fn add_value(&mut self, file: &str, document: usize, value: Value) -> Result<(), InputError> {
        let source = Source {
            file: file.to_string(),
            document,
        };
        let at = |e: FieldError, object: Option<String>| {
            let err = InputError::new(file, e.message)
                .object(object.unwrap_or_else(|| format!("document {document}")));
            if e.field.is_empty() {
                err
            } else {
                err.field(e.field)
            }
        };
        let obj = match value {
            Value::Null => return Ok(()),
            Value::Object(o) => o,
            other => {
                return Err(InputError::new(
                    file,
                    format!(
                    "expected a Kubernetes object (a mapping with apiVersion and kind), found {}",
                    short(&other)
                ),
                )
                .object(format!("document {document}")))
            }
        };
        let kind = match obj.get("kind") {
            Some(Value::String(k)) => k.clone(),
            _ => {
                return Err(InputError::new(
                    file,
                    "missing kind: every object needs apiVersion and kind",
                )
                .object(format!("document {document}"))
                .field("kind"))
            }
        };
        let api_version = obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let value = Value::Object(obj);
        if kind == "List"
            || kind.ends_with("List") && value.get("items").is_some_and(Value::is_array)
        {
            let items = value
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for item in items {
                self.add_value(file, document, item)?;
            }
            return Ok(());
        }
        let default_ns = self.opts.default_namespace.clone();
        match kind.as_str() {
            "NetworkPolicy" if api_version == "networking.k8s.io/v1" || api_version.is_empty() => {
                let policy = parse_policy_object(&value, &default_ns, source.clone()).map_err(|(o, e)| at(e, o))?;
                self.check_duplicate(&kind, &policy.namespace, &policy.name, &source)?;
                self.snap.policies.push(policy);
            }
            "NetworkPolicy" => {
                return Err(InputError::new(file, format!("apiVersion {api_version:?} is not supported for NetworkPolicy: use networking.k8s.io/v1"))
                    .object(format!("document {document}"))
                    .field("apiVersion"))
            }
            "Namespace" => {
                let ns = parse_namespace_object(&value).map_err(|(o, e)| at(e, o))?;
                self.check_duplicate(&kind, "", &ns.name, &source)?;
                self.snap.namespaces.insert(ns.name.clone(), ns);
            }
            k if k == "Pod" || template_path(k).is_some() => {
                if let Some(pod) = parse_pod_object(&value, k, &default_ns, source.clone()).map_err(|(o, e)| at(e, o))? {
                    self.check_duplicate(if k == "Pod" { "Pod" } else { "workload" }, &pod.namespace, &pod.name, &source)?;
                    self.snap.pods.push(pod);
                }
            }
            _ => {
                let name = value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
                self.skipped.push(Skipped { source, kind, name });
            }
        }
        Ok(())
    }

    fn check_duplicate(
        &mut self,
        kind: &str,
        namespace: &str,
        name: &str,
        source: &Source,
    ) -> Result<(), InputError> {
        // A workload's virtual pod shares the pods' name space: a Pod and a Deployment of the
        // same name would be two endpoints with one name.
        let key = object_key(
            if kind == "workload" { "Pod" } else { kind },
            namespace,
            name,
        );
        if let Some(first) = self.seen.get(&key) {
            return Err(InputError::new(&source.file, format!("defined twice: first in {first}; names must be unique per kind and namespace (a workload's pods are named after it)"))
                .object(format!("{kind} {namespace}/{name}").replace(" /", " ")));
        }
        self.seen.insert(key, source.clone());
        Ok(())
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 40 {
        format!(
            "{}...",
            &s[..s.char_indices().nth(40).map(|(i, _)| i).unwrap_or(s.len())]
        )
    } else {
        s
    }
}
