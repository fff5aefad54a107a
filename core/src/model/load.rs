//! Reading manifests: files, directories (recursively, .yaml/.yml/.json), stdin (`-`),
//! multi-document YAML and `kind: List`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::error::FieldError;
use super::parse::{
    parse_cluster_policy_object, parse_namespace_object, parse_node_object, parse_pod_object,
    parse_policy_object, template_path,
};
use super::{ClusterKind, InputError, Snapshot, Source};

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Namespace for objects that name none (like `kubectl apply -n`).
    pub default_namespace: String,
    /// Only these Pods (namespace, name) are wanted (`explain pod`): a Pod document whose kind,
    /// namespace and name a line scan can read for certain, and which is not one of them, is
    /// skipped without being parsed (or validated). Pods are most of a big snapshot's bytes.
    /// Workloads and every other kind are always read.
    pub only_pods: Option<Vec<(String, String)>>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            default_namespace: "default".into(),
            only_pods: None,
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

/// One line per skipped kind, with its count, most frequent first: "skipped 3 Service objects
/// (kinds this tool does not read; -v lists them)".
pub fn skipped_summary(skipped: &[Skipped]) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for s in skipped {
        *counts.entry(s.kind.as_str()).or_default() += 1;
    }
    let mut kinds: Vec<(&str, usize)> = counts.into_iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    kinds
        .into_iter()
        .map(|(kind, n)| {
            format!(
                "skipped {n} {kind} object{} (a kind this tool does not read; -v lists them)",
                if n == 1 { "" } else { "s" }
            )
        })
        .collect()
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
    let mut loader = Loader::new(opts);
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
    let mut loader = Loader::new(opts);
    loader.add_text(name, text)?;
    loader.snap.finish();
    Ok((loader.snap, loader.skipped))
}

pub fn collect_files(path: &Path) -> Result<Vec<PathBuf>, InputError> {
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

impl<'o> Loader<'o> {
    fn new(opts: &'o LoadOptions) -> Loader<'o> {
        Loader {
            snap: Snapshot::default(),
            skipped: Vec::new(),
            seen: Default::default(),
            opts,
        }
    }

    fn add_text(&mut self, file: &str, text: &str) -> Result<(), InputError> {
        for parsed in parse_text(file, text, self.opts)? {
            self.merge(parsed)?;
        }
        Ok(())
    }

    fn merge(&mut self, parsed: Parsed) -> Result<(), InputError> {
        match parsed {
            Parsed::Policy(policy) => {
                let source = policy.source.clone();
                self.check_duplicate("NetworkPolicy", &policy.namespace, &policy.name, &source)?;
                self.snap.policies.push(policy);
            }
            Parsed::Namespace(ns, source) => {
                self.check_duplicate("Namespace", "", &ns.name, &source)?;
                self.snap.namespaces.insert(ns.name.clone(), ns);
            }
            Parsed::Pod(pod) => {
                let source = pod.source.clone();
                let kind = if pod.origin == super::PodOrigin::Pod {
                    "Pod"
                } else {
                    "workload"
                };
                self.check_duplicate(kind, &pod.namespace, &pod.name, &source)?;
                self.snap.pods.push(pod);
            }
            Parsed::ClusterPolicy(policy) => {
                let source = policy.source.clone();
                self.check_duplicate(policy.kind.kind(), "", &policy.name, &source)?;
                self.snap.cluster_policies.push(policy);
            }
            Parsed::Node(node) => {
                let source = node.source.clone();
                self.check_duplicate("Node", "", &node.name, &source)?;
                self.snap.nodes.push(node);
            }
            Parsed::Skipped(s) => self.skipped.push(s),
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

/// One object read from a document, before it joins the snapshot.
enum Parsed {
    Policy(super::Policy),
    Namespace(super::Namespace, Source),
    Pod(super::Pod),
    ClusterPolicy(super::ClusterPolicy),
    Node(super::Node),
    Skipped(Skipped),
}

/// Below this size, splitting the work is not worth a thread.
const PARALLEL_MIN_BYTES: usize = 256 * 1024;

/// Parses every document of a text. Large texts are cut at document markers (a line starting
/// with `---` is always a document start in YAML) and parsed on every core; anything unusual
/// (directives, `...` end markers, or any error) falls back to the sequential parser, which
/// also gives the exact error.
fn parse_text(file: &str, text: &str, opts: &LoadOptions) -> Result<Vec<Parsed>, InputError> {
    let default_ns = opts.default_namespace.as_str();
    // Before the parser: it would build the whole of a deep nesting before refusing it.
    if let Err(deep) = super::depth::check_depth(text) {
        return Err(InputError::new(
            file,
            format!(
                "line {}: nested more than {} levels deep; Kubernetes objects are far shallower (is this a generated or hostile file?)",
                deep.line,
                super::depth::MAX_DEPTH
            ),
        )
        .object(format!("document {}", deep.document)));
    }
    if text.len() >= PARALLEL_MIN_BYTES || opts.only_pods.is_some() {
        if let Some(parsed) = parse_pieces(file, text, opts) {
            return Ok(parsed);
        }
    }
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let document = i + 1;
        let value = Value::deserialize(doc).map_err(|e| {
            InputError::new(file, format!("not valid YAML or JSON: {e}"))
                .object(format!("document {document}"))
        })?;
        parse_value(file, document, value, default_ns, &mut out)?;
    }
    Ok(out)
}

fn split_documents(text: &str) -> Option<Vec<&str>> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with('%') || line.starts_with("...") {
            return None;
        }
        if line.starts_with("---") && line[3..].chars().next().is_none_or(char::is_whitespace) {
            starts.push(offset);
        }
        offset += line.len();
    }
    let mut pieces = Vec::new();
    let head = &text[..starts.first().copied().unwrap_or(text.len())];
    // Before the first marker, a document exists only if something other than comments is there.
    if head
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    {
        pieces.push(head);
    }
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(text.len());
        pieces.push(&text[start..end]);
    }
    Some(pieces)
}

/// Parses the documents one by one (on every core when the text is big), skipping the Pods
/// that are not wanted. `None`: do it the sequential way (which also finds the exact error).
fn parse_pieces(file: &str, text: &str, opts: &LoadOptions) -> Option<Vec<Parsed>> {
    let default_ns = opts.default_namespace.as_str();
    let pieces = split_documents(text)?;
    let wanted = |piece: &str| match &opts.only_pods {
        None => true,
        Some(only) => match plain_pod_name(piece) {
            Some((ns, name)) => {
                let ns = ns.unwrap_or(default_ns);
                only.iter().any(|(n, p)| n == ns && p == name)
            }
            None => true,
        },
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    let threads = if text.len() >= PARALLEL_MIN_BYTES && pieces.len() >= 2 * threads {
        threads
    } else if opts.only_pods.is_some() {
        1
    } else {
        return None;
    };
    let chunk = pieces.len().div_ceil(threads).max(1);
    let results: Vec<Option<Vec<Parsed>>> = std::thread::scope(|s| {
        let handles: Vec<_> = pieces
            .chunks(chunk)
            .enumerate()
            .map(|(c, group)| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    for (i, piece) in group.iter().enumerate() {
                        if !wanted(piece) {
                            continue;
                        }
                        let value: Value = serde_yaml::from_str(piece).ok()?;
                        parse_value(file, c * chunk + i + 1, value, default_ns, &mut out).ok()?;
                    }
                    Some(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    let mut all = Vec::new();
    for r in results {
        all.extend(r?);
    }
    Some(all)
}

/// The namespace (if written) and name of a document that is certainly one Pod, by a line
/// scan: block style, `kind: Pod` at the top level, plain DNS-label values for `metadata.name`
/// and `metadata.namespace`. Anything less certain is `None` (the document gets parsed).
fn plain_pod_name(piece: &str) -> Option<(Option<&str>, &str)> {
    let (mut kind_pod, mut kinds) = (false, 0);
    let (mut name, mut namespace) = (None, None);
    let mut in_metadata = false;
    let mut child_indent = None;
    for line in piece.lines() {
        if let Some(rest) = line.strip_prefix("---") {
            // Content on the marker line itself is not worth understanding here.
            if !(rest.trim().is_empty() || rest.trim_start().starts_with('#')) {
                return None;
            }
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if indent == 0 {
            in_metadata = false;
            if let Some(v) = line.strip_prefix("kind:") {
                kinds += 1;
                kind_pod = v.trim() == "Pod";
            } else if line.trim_end() == "metadata:" {
                in_metadata = true;
            } else if !line.contains(':') || line.starts_with(['{', '[', '-', '?', '&', '!']) {
                return None;
            }
            continue;
        }
        if !in_metadata {
            continue;
        }
        let at = *child_indent.get_or_insert(indent);
        if indent != at {
            continue;
        }
        if let Some(v) = trimmed.strip_prefix("name:") {
            name = Some(plain(v.trim_start())?);
        } else if let Some(v) = trimmed.strip_prefix("namespace:") {
            namespace = Some(plain(v.trim_start())?);
        }
    }
    (kind_pod && kinds == 1).then_some((namespace, name?))
}

/// A DNS-label-like plain scalar (what a Pod's name and namespace must be anyway).
fn plain(v: &str) -> Option<&str> {
    let v = v.trim_end();
    (!v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'))
    .then_some(v)
}

/// One document's value into objects (a `kind: List` gives several). Pure, so documents can
/// be parsed in parallel.
fn parse_value(
    file: &str,
    document: usize,
    value: Value,
    default_ns: &str,
    out: &mut Vec<Parsed>,
) -> Result<(), InputError> {
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
    let Some((kind, api_version, value)) = object_header(file, document, value)? else {
        return Ok(());
    };
    if kind == "List" || kind.ends_with("List") && value.get("items").is_some_and(Value::is_array) {
        for item in value
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            parse_value(file, document, item, default_ns, out)?;
        }
        return Ok(());
    }
    match kind.as_str() {
        "NetworkPolicy" if api_version == "networking.k8s.io/v1" || api_version.is_empty() => {
            out.push(Parsed::Policy(parse_policy_object(&value, default_ns, source).map_err(|(o, e)| at(e, o))?));
        }
        "NetworkPolicy" => {
            return Err(InputError::new(file, format!("apiVersion {api_version:?} is not supported for NetworkPolicy: use networking.k8s.io/v1"))
                .object(format!("document {document}"))
                .field("apiVersion"))
        }
        k if ClusterKind::parse(k).is_some_and(|c| c.kind() == k) => {
            let Some(kind) = ClusterKind::parse(k) else { return Ok(()) };
            if api_version != kind.api_version() {
                return Err(InputError::new(file, format!("apiVersion {api_version:?} is not supported for {k}: use {}", kind.api_version()))
                    .object(format!("document {document}"))
                    .field("apiVersion"));
            }
            out.push(Parsed::ClusterPolicy(parse_cluster_policy_object(&value, kind, source).map_err(|(o, e)| at(e, o))?));
        }
        "Node" => out.push(Parsed::Node(parse_node_object(&value, source).map_err(|(o, e)| at(e, o))?)),
        "Namespace" => out.push(Parsed::Namespace(parse_namespace_object(&value).map_err(|(o, e)| at(e, o))?, source)),
        k if k == "Pod" || template_path(k).is_some() => {
            if let Some(pod) = parse_pod_object(&value, k, default_ns, source).map_err(|(o, e)| at(e, o))? {
                out.push(Parsed::Pod(pod));
            }
        }
        _ => {
            let name = value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
            out.push(Parsed::Skipped(Skipped { source, kind, name }));
        }
    }
    Ok(())
}

/// A document's kind and apiVersion, or None for an empty document; an error when it is not
/// a Kubernetes object.
fn object_header(
    file: &str,
    document: usize,
    value: Value,
) -> Result<Option<(String, String, Value)>, InputError> {
    let obj = match value {
        Value::Null => return Ok(None),
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
    Ok(Some((kind, api_version, Value::Object(obj))))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn big_text() -> String {
        let mut t = String::from("# a comment before the first document\n");
        for i in 0..3000 {
            match i % 4 {
                0 => t.push_str(&format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: ns{}, labels: {{app: a{}}}}}\nspec:\n  containers: [{{name: c, ports: [{{containerPort: 80, name: http}}]}}]\nstatus: {{podIP: 10.0.{}.{}}}\n", i % 7, i % 5, i / 250, i % 250)),
                1 => t.push_str(&format!("--- # policy\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: n{i}, namespace: ns{}}}\nspec:\n  podSelector: {{matchLabels: {{app: a1}}}}\n  ingress:\n  - from: [{{podSelector: {{}}}}]\n    ports: [{{port: http}}]\n", i % 7)),
                2 => t.push_str(&format!("---\napiVersion: v1\nkind: List\nitems:\n- {{apiVersion: v1, kind: Namespace, metadata: {{name: ns{i}, labels: {{team: t}}}}}}\n- {{apiVersion: v1, kind: Service, metadata: {{name: s{i}}}}}\n")),
                _ => t.push_str("---\n# an empty document\n"),
            }
        }
        t
    }

    #[test]
    fn parallel_parse_equals_sequential() {
        let text = big_text();
        assert!(text.len() >= PARALLEL_MIN_BYTES);
        let parallel =
            parse_pieces("f", &text, &LoadOptions::default()).expect("parallel path taken");
        let mut sequential = Vec::new();
        for (i, doc) in serde_yaml::Deserializer::from_str(&text).enumerate() {
            parse_value(
                "f",
                i + 1,
                Value::deserialize(doc).unwrap(),
                "default",
                &mut sequential,
            )
            .unwrap();
        }
        assert_eq!(parallel.len(), sequential.len());
        let key = |p: &Parsed| match p {
            Parsed::Policy(x) => format!("policy {} {}", x.key(), x.source),
            Parsed::Namespace(n, s) => format!("ns {} {s}", n.name),
            Parsed::Pod(x) => format!("pod {} {} {:?}", x.key(), x.source, x.ips),
            Parsed::Skipped(s) => format!("skip {} {}", s.name, s.source),
            Parsed::ClusterPolicy(c) => format!("cluster {} {}", c.key(), c.source),
            Parsed::Node(n) => format!("node {} {}", n.name, n.source),
        };
        for (a, b) in parallel.iter().zip(&sequential) {
            assert_eq!(key(a), key(b));
        }
    }

    #[test]
    fn errors_in_big_files_name_the_document() {
        let mut text = big_text();
        text.push_str("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: x}\nspec: {podSelector: {}, ingres: []}\n");
        let err = load_str("big.yaml", &text, &LoadOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("big.yaml: NetworkPolicy x/bad: field spec.ingres"),
            "{err}"
        );
        let text = format!("{}---\nkind: [broken\n", big_text());
        let err = load_str("big.yaml", &text, &LoadOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("document 3001") && err.to_string().contains("not valid YAML"),
            "{err}"
        );
    }

    #[test]
    fn a_plain_pod_is_named_by_a_line_scan_and_anything_unusual_is_left_to_the_parser() {
        let pod = "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  namespace: shop\n  labels: {name: x}\nspec: {}\n";
        assert_eq!(plain_pod_name(pod), Some((Some("shop"), "web-1")));
        let no_ns = "kind: Pod\nmetadata:\n  labels:\n    name: not-this\n  name: web-1\n";
        assert_eq!(plain_pod_name(no_ns), Some((None, "web-1")));
        for unsure in [
            "kind: Deployment\nmetadata:\n  name: web\n",
            "kind: Pod\nmetadata: {name: web}\n",
            "kind: Pod\nmetadata:\n  name: \"web\"\n",
            "kind: Pod\nmetadata:\n  name: web # comment\n",
            "kind: Pod\nkind: Pod\nmetadata:\n  name: web\n",
            "--- {kind: Pod, metadata: {name: web}}\n",
            "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"web\"}}\n",
            "kind: List\nitems:\n- kind: Pod\n  metadata:\n    name: web\n",
        ] {
            assert_eq!(plain_pod_name(unsure), None, "{unsure}");
        }
    }

    #[test]
    fn only_the_wanted_pods_are_read_and_every_other_kind_still_is() {
        // Flow-style pods (big_text) are always parsed; block-style ones can be skipped.
        let mut text = big_text();
        for i in 0..500 {
            text.push_str(&format!("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b{i}\n  namespace: ns{}\n  labels: {{app: b}}\nspec: {{}}\n", i % 3));
        }
        let full = load_str("f", &text, &LoadOptions::default()).unwrap().0;
        let want = full.pods.iter().find(|p| p.name == "b7").unwrap();
        let only = LoadOptions {
            only_pods: Some(vec![(want.namespace.clone(), want.name.clone())]),
            ..LoadOptions::default()
        };
        let some = load_str("f", &text, &only).unwrap().0;
        let pod_names = |s: &Snapshot| -> Vec<String> {
            s.pods
                .iter()
                .filter(|p| p.origin == super::super::PodOrigin::Pod)
                .map(|p| format!("{}/{}", p.namespace, p.name))
                .collect()
        };
        let flow_pods = pod_names(&full)
            .iter()
            .filter(|n| !n.contains("/b"))
            .count();
        assert!(flow_pods > 100);
        let mut got = pod_names(&some);
        got.retain(|n| n.contains("/b"));
        assert_eq!(got, vec![format!("{}/{}", want.namespace, want.name)]);
        assert_eq!(pod_names(&some).len(), flow_pods + 1);
        assert_eq!(some.policies.len(), full.policies.len());
        assert_eq!(some.namespaces.len(), full.namespaces.len());
        let workloads = |s: &Snapshot| {
            s.pods
                .iter()
                .filter(|p| p.origin != super::super::PodOrigin::Pod)
                .count()
        };
        assert_eq!(workloads(&some), workloads(&full));
        // Small inputs take the same path.
        let small = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec: {}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec: {}\n";
        let only_b = LoadOptions {
            only_pods: Some(vec![("default".into(), "b".into())]),
            ..LoadOptions::default()
        };
        let s = load_str("f", small, &only_b).unwrap().0;
        assert_eq!(pod_names(&s), vec!["default/b".to_string()]);
    }
}
