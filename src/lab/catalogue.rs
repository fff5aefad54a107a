//! The catalogue: the labs embedded in the binary at build time (see build.rs), or read from a
//! folder laid out like manifests/labs (for authors trying a new lab without rebuilding).

use std::collections::BTreeMap;
use std::path::Path;

use super::spec::{parse_lab_yaml, parse_wrong, Lab};
use super::LabError;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/labs.rs"));
}

/// Every lab, in catalogue order.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub labs: Vec<Lab>,
}

impl Catalogue {
    /// The labs built into this binary.
    pub fn embedded() -> Result<Catalogue, LabError> {
        Catalogue::from_files(
            embedded::FILES
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string())),
        )
    }

    /// The labs of a folder laid out like manifests/labs.
    pub fn from_dir(dir: &Path) -> Result<Catalogue, LabError> {
        let mut files = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d).map_err(|e| {
                LabError::Usage(format!(
                    "cannot read the lab catalogue {}: {e}",
                    d.display()
                ))
            })?;
            for entry in entries {
                let path = entry
                    .map_err(|e| {
                        LabError::Usage(format!(
                            "cannot read the lab catalogue {}: {e}",
                            d.display()
                        ))
                    })?
                    .path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml") {
                    let rel = path
                        .strip_prefix(dir)
                        .unwrap_or(&path)
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/");
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        LabError::Usage(format!("cannot read {}: {e}", path.display()))
                    })?;
                    files.push((rel, text));
                }
            }
        }
        Catalogue::from_files(files.into_iter())
    }

    /// Builds the catalogue from (path relative to the catalogue root, contents) pairs.
    pub fn from_files(
        files: impl Iterator<Item = (String, String)>,
    ) -> Result<Catalogue, LabError> {
        #[derive(Default)]
        struct Parts {
            lab: Option<(String, String)>,
            setup: Option<String>,
            solution: Option<String>,
            wrong: Vec<(String, String)>,
        }
        let mut folders: BTreeMap<String, Parts> = BTreeMap::new();
        for (path, text) in files {
            let segments: Vec<&str> = path.split('/').collect();
            let (folder, rest) = match segments.split_first() {
                Some((f, rest)) if !rest.is_empty() => (f.to_string(), rest),
                _ => continue,
            };
            let parts = folders.entry(folder).or_default();
            match rest {
                ["lab.yaml"] => parts.lab = Some((path.clone(), text)),
                ["setup.yaml"] => parts.setup = Some(text),
                ["solution.yaml"] => parts.solution = Some(text),
                ["wrong", _] => parts.wrong.push((path.clone(), text)),
                _ => {
                    return Err(LabError::Catalogue(format!(
                        "{path}: unexpected file (a lab folder holds lab.yaml, setup.yaml, solution.yaml and wrong/*.yaml)"
                    )))
                }
            }
        }
        let mut labs = Vec::new();
        for (folder, parts) in folders {
            let missing = |what: &str| LabError::Catalogue(format!("{folder}: missing {what}"));
            let (lab_file, lab_text) = parts.lab.ok_or_else(|| missing("lab.yaml"))?;
            let mut lab = parse_lab_yaml(&folder, &lab_file, &lab_text)?;
            lab.setup = parts.setup.ok_or_else(|| missing("setup.yaml"))?;
            lab.solution = parts.solution.ok_or_else(|| missing("solution.yaml"))?;
            let mut wrong = parts.wrong;
            wrong.sort();
            for (file, text) in wrong {
                lab.wrong.push(parse_wrong(&file, &text)?);
            }
            labs.push(lab);
        }
        labs.sort_by(|a, b| (a.number, &a.name).cmp(&(b.number, &b.name)));
        for pair in labs.windows(2) {
            if pair[0].name == pair[1].name {
                return Err(LabError::Catalogue(format!(
                    "two labs are named {} ({} and {})",
                    pair[0].name, pair[0].folder, pair[1].folder
                )));
            }
        }
        Ok(Catalogue { labs })
    }

    /// Finds a lab by name (`and-not-or`), number (`12`, `012`) or folder (`12-and-not-or`).
    pub fn find(&self, query: &str) -> Result<&Lab, LabError> {
        let q = query.trim();
        let by_number = q.parse::<u32>().ok();
        self.labs
            .iter()
            .find(|l| l.name == q || l.folder == q || Some(l.number) == by_number)
            .ok_or_else(|| {
                let similar: Vec<&str> = self
                    .labs
                    .iter()
                    .map(|l| l.name.as_str())
                    .filter(|n| n.contains(q) || q.contains(*n))
                    .take(5)
                    .collect();
                LabError::Usage(format!(
                    "no lab named {q:?}{}; see `kubectl netpol lab list`",
                    if similar.is_empty() {
                        String::new()
                    } else {
                        format!(" (did you mean {}?)", similar.join(", "))
                    }
                ))
            })
    }
}
