//! The terminal tables with colour forced on: the colour codes are there, and every column
//! still starts at the same place in every row (comfy-table measures cells without the codes).
//! The snapshots in tests/snapshots/ show the tables with the codes stripped.

use netpol::enforce::install::{AgentPod, NodeAgent, Rollout};
use netpol::enforce::status::{AgentStatus, DropRecord, SyncRecord};
use netpol::lab::Catalogue;
use netpol::report::enforcer::{drops_text, status_text, DROPS_HEADER, STATUS_HEADER};

const NOW_MS: u64 = 1_800_000_000_000;

/// The text without its ANSI SGR sequences (`ESC [ ... m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Where each cell starts on `line`, finding the cells left to right.
fn offsets(line: &str, cells: &[&str]) -> Vec<usize> {
    let mut from = 0;
    cells
        .iter()
        .map(|cell| {
            let at = from
                + line[from..]
                    .find(cell)
                    .unwrap_or_else(|| panic!("{cell:?} not in {line:?}"));
            from = at + cell.len();
            line[..at].chars().count()
        })
        .collect()
}

/// Renders with colour on; checks that colour codes are present and that on each line that
/// starts a row the cells begin at the header's columns. Returns the text without colour.
fn coloured(render: impl FnOnce() -> String, header: &[&str], rows: &[Vec<&str>]) -> String {
    let raw = owo_colors::with_override(true, render);
    assert!(raw.contains("\u{1b}["), "no colour codes in:\n{raw}");
    let plain = strip_ansi(&raw);
    let lines: Vec<&str> = plain.lines().collect();
    let head = lines
        .iter()
        .position(|l| header.iter().all(|h| l.contains(h)))
        .unwrap_or_else(|| panic!("no header in:\n{plain}"));
    let columns = offsets(lines[head], header);
    for (line, cells) in lines[head + 1..].iter().zip(rows) {
        // A row may end in empty cells; compare the columns it has.
        let at = offsets(line, cells);
        assert_eq!(
            at,
            columns[..at.len()],
            "misaligned row {line:?} in:\n{plain}"
        );
    }
    plain
}

fn agent(node: &str, status: Option<AgentStatus>) -> NodeAgent {
    NodeAgent {
        pod: AgentPod {
            name: format!("netpol-enforcer-{node}"),
            node: Some(node.into()),
            phase: "Running".into(),
            ready: status.is_some(),
            restarts: 0,
            waiting: None,
            terminating: false,
        },
        error: status.is_none().then(|| "connection refused".into()),
        status,
    }
}

#[test]
fn enforcer_status_columns_align_with_colour() {
    let status = AgentStatus {
        node: "worker-1".into(),
        ready: true,
        last_sync: Some(SyncRecord {
            unix_ms: NOW_MS - 3_000,
            kind: "sets".into(),
            duration_ms: 4.0,
            error: None,
        }),
        rules: 42,
        ipsets: 7,
        ipset_members: 130,
        isolated_pods: 3,
        local_pods: 12,
        drops: 5,
        new_pods: "hold".into(),
        ..AgentStatus::default()
    };
    let agents = vec![
        agent("worker-1", Some(status)),
        agent("control-plane", None),
    ];
    let rollout = Rollout {
        desired: 2,
        updated: 2,
        available: 1,
        observed: true,
    };
    let rows = [
        vec![
            "worker-1",
            "yes",
            "3s ago (sets)",
            "4ms",
            "42",
            "7",
            "130",
            "3/12",
            "hold",
            "5",
            "0",
        ],
        vec![
            "control-plane",
            "no",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
        ],
    ];
    let plain = coloured(
        || status_text(Some(&rollout), &agents, NOW_MS),
        &STATUS_HEADER,
        &rows,
    );
    insta::assert_snapshot!(plain);
}

#[test]
fn enforcer_drops_columns_align_with_colour() {
    let drop = |ms: u64, pod: &str, port| DropRecord {
        unix_ms: NOW_MS - ms,
        direction: "ingress".into(),
        pod: Some(pod.into()),
        peer: "10.244.1.7".into(),
        src: "10.244.1.7".into(),
        dst: "10.244.2.9".into(),
        protocol: "TCP".into(),
        port,
        policies: vec!["payments/default-deny".into()],
        chain: "NETPOL-I-0".into(),
    };
    let drops = vec![
        (
            "worker-1".to_string(),
            drop(400_000, "payments/db", Some(5432)),
        ),
        (
            "worker-22".to_string(),
            drop(2_000, "payments/api-7d9f", None),
        ),
    ];
    let rows = [
        vec![
            "6m ago",
            "worker-1",
            "ingress",
            "payments/db",
            "10.244.1.7",
            "tcp/5432",
            "payments/default-deny",
        ],
        vec![
            "2s ago",
            "worker-22",
            "ingress",
            "payments/api-7d9f",
            "10.244.1.7",
            "tcp",
            "payments/default-deny",
        ],
    ];
    let errors = vec!["worker-3: connection refused".to_string()];
    let plain = coloured(|| drops_text(&drops, &errors, NOW_MS), &DROPS_HEADER, &rows);
    insta::assert_snapshot!(plain);
}

#[test]
fn lab_list_columns_align_with_colour() {
    let labs = Catalogue::embedded().expect("the embedded catalogue").labs;
    let cells: Vec<(String, String)> = labs
        .iter()
        .map(|l| (l.name.clone(), l.level.as_str().to_string()))
        .collect();
    let rows: Vec<Vec<&str>> = cells
        .iter()
        .map(|(name, level)| vec![name.as_str(), level.as_str()])
        .collect();
    // The number column is right-aligned, so the check starts at the name.
    coloured(
        || netpol::lab::render::list(&labs),
        &["NAME", "LEVEL"],
        &rows,
    );
}
