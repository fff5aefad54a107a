//! `probe -o json`: the matrix document with observed verdicts, DNS rows and the verdict.

use serde::{Deserialize, Serialize};

use super::matrix::MatrixDoc;

/// A DNS check from one pod: could it reach the cluster DNS and resolve a name?
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DnsRow {
    pub from: String,
    /// The DNS server pod (or address).
    pub server: String,
    pub name: String,
    /// What the policies allow: the pod may reach the DNS server on UDP 53.
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub observed: Option<bool>,
    pub verdict: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub agree: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub addresses: Vec<String>,
}

/// `probe -o json`: the matrix document with observed verdicts, DNS rows and a summary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProbeReport {
    #[serde(flatten)]
    pub matrix: MatrixDoc,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub dns: Vec<DnsRow>,
    /// The one-line conclusion.
    pub verdict: String,
}
