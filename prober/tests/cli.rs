//! The command line: `run` with a plan file (in-process, through `cli_main`), exit codes, and
//! the real binary serving and probing on loopback.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netpol_prober::plan::{CheckResult, Verdict};
use netpol_prober::serve::ReadyReport;
use netpol_prober::{cli_main, cli_main_with_stdout, EXIT_OK, EXIT_USAGE};

const BIN: &str = env!("CARGO_BIN_EXE_netpol-prober");

fn args(list: &[&str]) -> Vec<OsString> {
    std::iter::once("netpol-prober")
        .chain(list.iter().copied())
        .map(OsString::from)
        .collect()
}

fn parse_lines(output: &[u8]) -> Vec<CheckResult> {
    String::from_utf8(output.to_vec())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect()
}

#[test]
fn run_with_a_plan_file() {
    // A listening socket completes handshakes from its backlog; a closed port refuses.
    let listening = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let open = listening.local_addr().unwrap().port();
    let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"timeout_ms": 2000, "concurrency": 2, "checks": [
                {{"id": "open", "kind": "tcp", "host": "127.0.0.1", "port": {open}}},
                {{"id": "closed", "kind": "tcp", "host": "127.0.0.1", "port": {closed}}}
            ]}}"#
        ),
    )
    .unwrap();

    let mut out = Vec::new();
    let code = cli_main_with_stdout(args(&["run", "--plan", path.to_str().unwrap()]), &mut out);
    assert_eq!(code, EXIT_OK);
    let mut results = parse_lines(&out);
    results.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(results[0].id, "closed");
    assert_eq!(results[0].verdict, Verdict::Refused);
    assert_eq!(results[1].id, "open");
    assert_eq!(results[1].verdict, Verdict::Connected);
    assert_eq!(results[1].port, Some(open));
}

#[test]
fn bad_plans_and_usage_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"timeout_ms": 100, "concurrency": 1, "checks": [{"id": "a", "kind": "tcp", "host": "127.0.0.1", "port": 0}]}"#,
    )
    .unwrap();
    let missing = dir.path().join("missing.json");
    for list in [
        vec!["run", "--plan", bad.to_str().unwrap()],
        vec!["run", "--plan", missing.to_str().unwrap()],
        vec!["run", "--plan-json", "{\"timeout_ms\": 1}"],
        vec!["run"],
        vec!["serve", "--tcp", "http"],
        vec!["serve", "--dns-record", "no-ip-here"],
        vec!["bogus"],
    ] {
        let mut out = Vec::new();
        assert_eq!(
            cli_main_with_stdout(args(&list), &mut out),
            EXIT_USAGE,
            "{list:?}"
        );
        assert!(
            out.is_empty(),
            "{list:?} wrote {:?}",
            String::from_utf8_lossy(&out)
        );
    }
    // The binary reports the wrong field on stderr.
    let output = Command::new(BIN)
        .args(["run", "--plan", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(EXIT_USAGE));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("checks[0].port"), "{stderr}");
}

#[test]
fn help_exits_0() {
    assert_eq!(cli_main(args(&["--help"])), EXIT_OK);
}

#[tokio::test]
async fn cli_main_works_inside_a_runtime() {
    let closed = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let plan = format!(
        r#"{{"timeout_ms": 1000, "concurrency": 1, "checks": [{{"id": "u", "kind": "udp", "host": "127.0.0.1", "port": {closed}}}]}}"#
    );
    let mut out = Vec::new();
    assert_eq!(
        cli_main_with_stdout(args(&["run", "--plan-json", &plan]), &mut out),
        EXIT_OK
    );
    let results = parse_lines(&out);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].verdict, Verdict::Refused);
}

/// The binary end to end: serve (until stdin closes) and run against it, on loopback.
#[test]
fn binary_serves_and_probes() {
    let mut server = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--tcp",
            "0",
            "--udp",
            "0",
            "--dns-record",
            "web.x.test=10.9.8.7",
            "--dns-port",
            "0",
            "--exit-on-stdin-eof",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready_line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut ready_line)
        .unwrap();
    let report: ReadyReport = serde_json::from_str(&ready_line).unwrap();
    assert!(report.ready);
    assert!(report.unsupported.is_empty());
    let (tcp, udp, dns) = (
        report.ports("tcp")[0],
        report.ports("udp")[0],
        report.ports("dns/udp")[0],
    );

    let plan = format!(
        r#"{{"timeout_ms": 2000, "concurrency": 3, "checks": [
            {{"id": "t", "kind": "tcp", "host": "127.0.0.1", "port": {tcp}}},
            {{"id": "u", "kind": "udp", "host": "127.0.0.1", "port": {udp}}},
            {{"id": "d", "kind": "dns", "name": "web.x.test", "server": "127.0.0.1:{dns}"}}
        ]}}"#
    );
    let mut run = Command::new(BIN)
        .args(["run", "--plan", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    run.stdin
        .take()
        .unwrap()
        .write_all(plan.as_bytes())
        .unwrap();
    let output = run.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(EXIT_OK));
    let mut results = parse_lines(&output.stdout);
    results.sort_by(|a, b| a.id.cmp(&b.id));
    let summary: Vec<_> = results.iter().map(|r| (r.id.as_str(), r.verdict)).collect();
    assert_eq!(
        summary,
        [
            ("d", Verdict::Connected),
            ("t", Verdict::Connected),
            ("u", Verdict::Connected)
        ]
    );
    assert_eq!(results[0].addresses, ["10.9.8.7"]);

    // Closing stdin stops the server, cleanly.
    drop(server.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            panic!("serve did not exit on stdin EOF");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(EXIT_OK));
}

#[test]
fn binary_exits_3_when_a_port_is_taken() {
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--tcp",
            &port,
            "--exit-on-stdin-eof",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(3),
        "stdout {:?}, stderr {stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(output.stdout.is_empty(), "no ready line");
    assert!(stderr.contains(&format!("tcp/{port}")), "{stderr}");
}
