//! The probe plan (input of `run`) and the check results (its output, one JSON line each).
//!
//! These types are the contract between the kubectl-netpol CLI, which builds plans, and the
//! agent, which runs them; field names are the JSON names.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::rr::Name;
use serde::{Deserialize, Serialize};

/// The longest timeout a plan may ask for, so a typo cannot hang a probe for days.
pub const MAX_TIMEOUT_MS: u64 = 600_000;

/// The default DNS port, used when a check's `server` has no port.
pub const DNS_PORT: u16 = 53;

/// What to run: every check, at most `concurrency` at a time, each bounded by `timeout_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Time allowed for one attempt of one check, in milliseconds (1..=600000).
    pub timeout_ms: u64,
    /// How many checks may be in flight at once (at least 1).
    pub concurrency: usize,
    /// How many times a check whose verdict is `error` is run again (for pods still starting).
    #[serde(default)]
    pub retries: u32,
    /// The checks, in the order their results are returned by [`crate::run_plan`].
    pub checks: Vec<Check>,
}

/// One check: a connection attempt (`tcp`, `udp`, `sctp` to `host`:`port`) or a DNS lookup
/// (`dns` of `name`, through `server` or the system resolver configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Chosen by the plan's author; echoed in the result. Unique within a plan.
    pub id: String,
    pub kind: CheckKind,
    /// The destination IP address (tcp, udp, sctp). A literal address, not a host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The destination port (tcp, udp, sctp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The name to resolve (dns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The DNS server, `IP`, `IP:PORT` or `[IPv6]:PORT` (dns); absent means the system
    /// configuration (`/etc/resolv.conf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum CheckKind {
    Tcp,
    Udp,
    Sctp,
    Dns,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What the network did with one check.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Verdict {
    /// TCP/SCTP handshake completed; UDP nonce echoed back; DNS server answered.
    Connected,
    /// Actively rejected (TCP RST, ICMP port unreachable, SCTP ABORT): the network let the
    /// packet through, but nothing listens there.
    Refused,
    /// No answer within the timeout: the packets were dropped (or never answered).
    Timeout,
    /// This host cannot run the check at all (SCTP without kernel support).
    Unsupported,
    /// Anything else; `detail` says what (no route, unreachable network, ...).
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The result of one check; printed by `run` as one JSON line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub kind: CheckKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub verdict: Verdict,
    /// Time from the start of the (last) attempt to the verdict.
    pub latency_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// DNS answers (A and AAAA), in the order the server gave them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
}

/// A plan that cannot be run, and which field is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    /// Path of the offending field, such as `checks[2].port` (`.` for the whole document).
    pub field: String,
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field == "." {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for PlanError {}

impl PlanError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What a validated check talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Tcp(SocketAddr),
    Udp(SocketAddr),
    Sctp(SocketAddr),
    /// A DNS lookup of `name`, through `server` or the system configuration.
    Dns {
        name: String,
        server: Option<SocketAddr>,
    },
}

impl Plan {
    /// Parses and validates a plan; the error names the wrong field.
    pub fn from_json(text: &str) -> Result<Self, PlanError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let plan: Plan = serde_path_to_error::deserialize(de).map_err(|err| {
            // A missing or unknown field is reported at its parent object.
            let path = err.path().to_string();
            let field = if path.is_empty() {
                ".".to_string()
            } else {
                path
            };
            PlanError::new(field, err.into_inner().to_string())
        })?;
        plan.validate()?;
        Ok(plan)
    }

    /// Checks what serde cannot: ranges, the fields each kind needs, unique ids.
    pub fn validate(&self) -> Result<(), PlanError> {
        if self.timeout_ms == 0 || self.timeout_ms > MAX_TIMEOUT_MS {
            return Err(PlanError::new(
                "timeout_ms",
                format!(
                    "must be between 1 and {MAX_TIMEOUT_MS}, got {}",
                    self.timeout_ms
                ),
            ));
        }
        if self.concurrency == 0 {
            return Err(PlanError::new("concurrency", "must be at least 1"));
        }
        let mut ids = HashSet::new();
        for (i, check) in self.checks.iter().enumerate() {
            check.target().map_err(|mut err| {
                err.field = format!("checks[{i}].{}", err.field);
                err
            })?;
            if !ids.insert(check.id.as_str()) {
                return Err(PlanError::new(
                    format!("checks[{i}].id"),
                    format!("duplicate id {:?}", check.id),
                ));
            }
        }
        Ok(())
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

impl Check {
    /// Validates the check and says what it talks to. Error fields are relative to the check.
    pub fn target(&self) -> Result<Target, PlanError> {
        if self.id.is_empty() {
            return Err(PlanError::new("id", "must not be empty"));
        }
        match self.kind {
            CheckKind::Tcp => self.socket_addr().map(Target::Tcp),
            CheckKind::Udp => self.socket_addr().map(Target::Udp),
            CheckKind::Sctp => self.socket_addr().map(Target::Sctp),
            CheckKind::Dns => self.dns_target(),
        }
    }

    fn socket_addr(&self) -> Result<SocketAddr, PlanError> {
        let unused = [
            ("name", self.name.is_some()),
            ("server", self.server.is_some()),
        ];
        if let Some((field, _)) = unused.into_iter().find(|(_, present)| *present) {
            return Err(PlanError::new(
                field,
                format!("not used by a {} check (only by dns)", self.kind),
            ));
        }
        let host = self
            .host
            .as_deref()
            .ok_or_else(|| PlanError::new("host", format!("required for a {} check", self.kind)))?;
        let ip = parse_ip(host)
            .ok_or_else(|| PlanError::new("host", format!("{host:?} is not an IP address")))?;
        match self.port {
            None => Err(PlanError::new(
                "port",
                format!("required for a {} check", self.kind),
            )),
            Some(0) => Err(PlanError::new("port", "must be between 1 and 65535")),
            Some(port) => Ok(SocketAddr::new(ip, port)),
        }
    }

    fn dns_target(&self) -> Result<Target, PlanError> {
        let unused = [("host", self.host.is_some()), ("port", self.port.is_some())];
        if let Some((field, _)) = unused.into_iter().find(|(_, present)| *present) {
            return Err(PlanError::new(
                field,
                "not used by a dns check (use name and server)",
            ));
        }
        let name = self
            .name
            .as_deref()
            .ok_or_else(|| PlanError::new("name", "required for a dns check"))?;
        if name.is_empty() || name == "." {
            return Err(PlanError::new("name", "must not be empty"));
        }
        Name::from_utf8(name)
            .map_err(|err| PlanError::new("name", format!("{name:?} is not a DNS name: {err}")))?;
        let server = match self.server.as_deref() {
            None => None,
            Some(text) => Some(parse_server(text).ok_or_else(|| {
                PlanError::new(
                    "server",
                    format!("{text:?} is not IP, IP:PORT or [IPv6]:PORT"),
                )
            })?),
        };
        Ok(Target::Dns {
            name: name.to_string(),
            server,
        })
    }
}

/// An IP address, IPv6 with or without brackets.
fn parse_ip(text: &str) -> Option<IpAddr> {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse().ok()
}

/// `IP`, `IP:PORT` or `[IPv6]:PORT`; the port defaults to 53 and must not be 0.
fn parse_server(text: &str) -> Option<SocketAddr> {
    let addr = match text.parse::<SocketAddr>() {
        Ok(addr) => addr,
        Err(_) => SocketAddr::new(parse_ip(text)?, DNS_PORT),
    };
    (addr.port() != 0).then_some(addr)
}

// ---- `stream`: the plan of a prober that keeps running (see the agent's stream module).

/// What `stream` runs: the first line of its stdin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamPlan {
    /// Time between two rounds, in milliseconds (10..=60000).
    pub interval_ms: u64,
    /// Time allowed for one check or one flow exchange, in milliseconds (1..=600000).
    pub timeout_ms: u64,
    /// Checks in flight at once, over all rounds (at least 1).
    pub concurrency: usize,
    /// Checks fired every round, each with a new connection (tcp, udp, sctp).
    #[serde(default)]
    pub checks: Vec<Check>,
    /// Flows opened once and exercised every round (tcp or udp).
    #[serde(default)]
    pub flows: Vec<Check>,
}

/// What a result line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamEvent {
    /// A flow's opening (TCP handshake, or the first UDP exchange).
    FlowOpen,
    /// One exchange on an open flow.
    Flow,
    /// One check with a new connection.
    Check,
    /// Every flow has been opened (or failed to open): rounds start now.
    Started,
}

/// One line of `stream`'s output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamResult {
    pub event: StreamEvent,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default)]
    pub round: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// When the attempt started, in milliseconds since the Unix epoch.
    pub sent_unix_ms: f64,
    #[serde(default)]
    pub latency_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl StreamPlan {
    pub fn from_json(text: &str) -> Result<StreamPlan, PlanError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let plan: StreamPlan = serde_path_to_error::deserialize(de).map_err(|err| {
            let path = err.path().to_string();
            PlanError {
                field: if path.is_empty() { ".".into() } else { path },
                message: err.into_inner().to_string(),
            }
        })?;
        plan.validate()?;
        Ok(plan)
    }

    pub fn validate(&self) -> Result<(), PlanError> {
        let err = |field: String, message: String| PlanError { field, message };
        if !(10..=60_000).contains(&self.interval_ms) {
            return Err(err(
                "interval_ms".into(),
                format!("must be between 10 and 60000, got {}", self.interval_ms),
            ));
        }
        if self.timeout_ms == 0 || self.timeout_ms > MAX_TIMEOUT_MS {
            return Err(err(
                "timeout_ms".into(),
                format!(
                    "must be between 1 and {MAX_TIMEOUT_MS}, got {}",
                    self.timeout_ms
                ),
            ));
        }
        if self.concurrency == 0 {
            return Err(err("concurrency".into(), "must be at least 1".into()));
        }
        let mut ids = std::collections::HashSet::new();
        for (list, name) in [(&self.checks, "checks"), (&self.flows, "flows")] {
            for (i, c) in list.iter().enumerate() {
                let target = c.target().map_err(|mut e| {
                    e.field = format!("{name}[{i}].{}", e.field);
                    e
                })?;
                let ok = !matches!(
                    (name, &target),
                    (_, Target::Dns { .. }) | ("flows", Target::Sctp(_))
                );
                if !ok {
                    return Err(err(
                        format!("{name}[{i}].kind"),
                        format!(
                            "{} is not streamed (checks: tcp, udp, sctp; flows: tcp, udp)",
                            c.kind
                        ),
                    ));
                }
                if !ids.insert(c.id.as_str()) {
                    return Err(err(
                        format!("{name}[{i}].id"),
                        format!("duplicate id {:?}", c.id),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_json_names() {
        use CheckKind::*;
        use Verdict::*;
        for k in [Tcp, Udp, Sctp, Dns] {
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{k}\""));
            assert_eq!(k.as_str(), k.to_string());
        }
        for v in [Connected, Refused, Timeout, Unsupported, Error] {
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{v}\""));
            assert_eq!(v.as_str(), v.to_string());
        }
    }

    fn err(text: &str) -> PlanError {
        match Plan::from_json(text) {
            Ok(plan) => panic!("expected an error, parsed {plan:?}"),
            Err(err) => err,
        }
    }

    #[test]
    fn parses_a_full_plan() {
        let plan = Plan::from_json(
            r#"{"timeout_ms": 1500, "concurrency": 8, "retries": 2, "checks": [
                {"id": "a", "kind": "tcp", "host": "10.0.0.1", "port": 80},
                {"id": "b", "kind": "udp", "host": "::1", "port": 53},
                {"id": "c", "kind": "sctp", "host": "[fd00::1]", "port": 9000},
                {"id": "d", "kind": "dns", "name": "kubernetes.default"},
                {"id": "e", "kind": "dns", "name": "web.x.svc.cluster.local.", "server": "10.96.0.10:5353"},
                {"id": "f", "kind": "dns", "name": "web", "server": "[::1]:53"},
                {"id": "g", "kind": "dns", "name": "web", "server": "fd00::10"}
            ]}"#,
        )
        .expect("valid plan");
        assert_eq!(plan.timeout_ms, 1500);
        assert_eq!(plan.concurrency, 8);
        assert_eq!(plan.retries, 2);
        assert_eq!(plan.checks.len(), 7);
        assert_eq!(plan.checks[1].kind, CheckKind::Udp);
        assert_eq!(
            plan.checks[0].target().unwrap(),
            Target::Tcp("10.0.0.1:80".parse().unwrap())
        );
        assert_eq!(
            plan.checks[2].target().unwrap(),
            Target::Sctp("[fd00::1]:9000".parse().unwrap())
        );
        assert_eq!(
            plan.checks[3].target().unwrap(),
            Target::Dns {
                name: "kubernetes.default".into(),
                server: None
            }
        );
        let server = |i: usize| match plan.checks[i].target().unwrap() {
            Target::Dns { server, .. } => server,
            other => panic!("not dns: {other:?}"),
        };
        assert_eq!(server(4), Some("10.96.0.10:5353".parse().unwrap()));
        assert_eq!(server(5), Some("[::1]:53".parse().unwrap()));
        assert_eq!(server(6), Some("[fd00::10]:53".parse().unwrap()));
    }

    #[test]
    fn retries_default_to_zero_and_checks_may_be_empty() {
        let plan = Plan::from_json(r#"{"timeout_ms": 1, "concurrency": 1, "checks": []}"#).unwrap();
        assert_eq!(plan.retries, 0);
        assert!(plan.checks.is_empty());
    }

    #[test]
    fn plan_round_trips_through_json() {
        let text = r#"{"timeout_ms":100,"concurrency":2,"retries":1,"checks":[{"id":"a","kind":"tcp","host":"127.0.0.1","port":1}]}"#;
        let plan = Plan::from_json(text).unwrap();
        assert_eq!(serde_json::to_string(&plan).unwrap(), text);
    }

    #[test]
    fn names_the_wrong_field() {
        let cases = [
            (r#"{"concurrency": 1, "checks": []}"#, ".", "timeout_ms"),
            (
                r#"{"timeout_ms": 0, "concurrency": 1, "checks": []}"#,
                "timeout_ms",
                "between",
            ),
            (
                r#"{"timeout_ms": 9999999, "concurrency": 1, "checks": []}"#,
                "timeout_ms",
                "between",
            ),
            (
                r#"{"timeout_ms": -5, "concurrency": 1, "checks": []}"#,
                "timeout_ms",
                "invalid value",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 0, "checks": []}"#,
                "concurrency",
                "at least 1",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [], "extra": 1}"#,
                "extra",
                "unknown field `extra`",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "icmp", "host": "1.2.3.4"}]}"#,
                "checks[0].kind",
                "unknown variant `icmp`",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "tcp", "host": "1.2.3.4", "port": 70000}]}"#,
                "checks[0].port",
                "invalid value",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "tcp", "host": "1.2.3.4", "port": 0}]}"#,
                "checks[0].port",
                "between 1 and 65535",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "tcp", "port": 80}]}"#,
                "checks[0].host",
                "required",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "udp", "host": "web.local", "port": 80}]}"#,
                "checks[0].host",
                "not an IP address",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "sctp", "host": "1.2.3.4"}]}"#,
                "checks[0].port",
                "required",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "tcp", "host": "1.2.3.4", "port": 1, "name": "x"}]}"#,
                "checks[0].name",
                "only by dns",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "dns"}]}"#,
                "checks[0].name",
                "required",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "dns", "name": "x", "port": 53}]}"#,
                "checks[0].port",
                "not used by a dns check",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "dns", "name": "x", "server": "dns.local"}]}"#,
                "checks[0].server",
                "not IP",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "dns", "name": "x", "server": "1.1.1.1:0"}]}"#,
                "checks[0].server",
                "not IP",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "dns", "name": "a..b"}]}"#,
                "checks[0].name",
                "not a DNS name",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "", "kind": "dns", "name": "x"}]}"#,
                "checks[0].id",
                "empty",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [
                    {"id": "a", "kind": "dns", "name": "x"},
                    {"id": "a", "kind": "dns", "name": "y"}]}"#,
                "checks[1].id",
                "duplicate",
            ),
            (
                r#"{"timeout_ms": 10, "concurrency": 1, "checks": [{"id": "a", "kind": "tcp", "host": "1.2.3.4", "port": 1, "hots": "x"}]}"#,
                "checks[0].hots",
                "unknown field `hots`",
            ),
            ("not json", ".", "expected"),
            ("", ".", "EOF"),
        ];
        for (text, field, message) in cases {
            let err = err(text);
            assert_eq!(err.field, field, "field for {text}: {err}");
            assert!(
                err.message.contains(message),
                "message for {text}: {err} (wanted {message:?})"
            );
        }
    }

    #[test]
    fn result_json_skips_empty_fields() {
        let result = CheckResult {
            id: "a".into(),
            kind: CheckKind::Tcp,
            host: Some("10.0.0.1".into()),
            port: Some(80),
            name: None,
            verdict: Verdict::Refused,
            latency_ms: 1.5,
            detail: None,
            addresses: vec![],
        };
        assert_eq!(
            serde_json::to_string(&result).unwrap(),
            r#"{"id":"a","kind":"tcp","host":"10.0.0.1","port":80,"verdict":"refused","latency_ms":1.5}"#
        );
        let back: CheckResult =
            serde_json::from_str(&serde_json::to_string(&result).unwrap()).unwrap();
        assert_eq!(back, result);
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn plan_names_the_wrong_field() {
        let bad = [
            (
                r#"{"interval_ms": 5, "timeout_ms": 100, "concurrency": 1}"#,
                "interval_ms",
            ),
            (
                r#"{"interval_ms": 100, "timeout_ms": 100, "concurrency": 1, "flows": [{"id": "a", "kind": "sctp", "host": "10.0.0.1", "port": 1}]}"#,
                "flows[0].kind",
            ),
            (
                r#"{"interval_ms": 100, "timeout_ms": 100, "concurrency": 1, "checks": [{"id": "a", "kind": "dns", "name": "x"}]}"#,
                "checks[0].kind",
            ),
            (
                r#"{"interval_ms": 100, "timeout_ms": 100, "concurrency": 1, "checks": [{"id": "a", "kind": "tcp", "host": "10.0.0.1", "port": 1}], "flows": [{"id": "a", "kind": "tcp", "host": "10.0.0.1", "port": 1}]}"#,
                "flows[0].id",
            ),
            (
                r#"{"interval_ms": 100, "timeout_ms": 100, "concurrency": 1, "extra": 1}"#,
                "extra",
            ),
        ];
        for (text, field) in bad {
            let e = StreamPlan::from_json(text).unwrap_err();
            assert_eq!(e.field, field, "{text}: {e}");
        }
        StreamPlan::from_json(r#"{"interval_ms": 100, "timeout_ms": 100, "concurrency": 1}"#)
            .unwrap();
    }
}
