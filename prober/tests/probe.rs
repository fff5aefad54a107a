//! Real packets on loopback only: `serve` in-process, checks against it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use netpol_prober::plan::{Check, CheckKind, CheckResult, Plan, Verdict};
use netpol_prober::serve::{serve, ReadyReport, ServeConfig, ServeError};
use netpol_prober::{run_plan, run_plan_streaming};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A server running in this test's runtime; stopped on drop.
struct Server {
    report: ReadyReport,
    task: JoinHandle<ServeError>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    fn port(&self, proto: &str) -> u16 {
        let ports = self.report.ports(proto);
        assert_eq!(ports.len(), 1, "one {proto} port in {:?}", self.report);
        ports[0]
    }
}

async fn start(config: ServeConfig) -> Result<Server, ServeError> {
    let (ready_tx, ready_rx) = oneshot::channel();
    let mut task = tokio::spawn(async move {
        let Err(err) = serve(config, |report| {
            let _ = ready_tx.send(report);
        })
        .await;
        err
    });
    tokio::select! {
        ready = ready_rx => match ready {
            Ok(report) => Ok(Server { report, task }),
            Err(_) => Err(task.await.expect("serve task")),
        },
        err = &mut task => Err(err.expect("serve task")),
        _ = tokio::time::sleep(Duration::from_secs(5)) => panic!("serve was not ready in 5 s"),
    }
}

fn loopback_config() -> ServeConfig {
    ServeConfig {
        bind: LOOPBACK,
        ..ServeConfig::default()
    }
}

fn socket_check(kind: CheckKind, ip: IpAddr, port: u16) -> Check {
    Check {
        id: format!("{kind}-{port}"),
        kind,
        host: Some(ip.to_string()),
        port: Some(port),
        name: None,
        server: None,
    }
}

fn dns_check(name: &str, server: SocketAddr) -> Check {
    Check {
        id: format!("dns-{name}"),
        kind: CheckKind::Dns,
        host: None,
        port: None,
        name: Some(name.to_string()),
        server: Some(server.to_string()),
    }
}

fn plan(timeout_ms: u64, checks: Vec<Check>) -> Plan {
    let plan = Plan {
        timeout_ms,
        concurrency: 4,
        retries: 0,
        checks,
    };
    plan.validate().expect("a valid plan");
    plan
}

async fn run_one(check: Check, timeout_ms: u64) -> CheckResult {
    let mut results = run_plan(&plan(timeout_ms, vec![check])).await;
    assert_eq!(results.len(), 1);
    results.remove(0)
}

/// A port that was free a moment ago (nothing listens on it now).
fn closed_tcp_port() -> u16 {
    let listener = std::net::TcpListener::bind((LOOPBACK, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

fn closed_udp_port(ip: IpAddr) -> u16 {
    let socket = std::net::UdpSocket::bind((ip, 0)).unwrap();
    socket.local_addr().unwrap().port()
}

/// A UDP socket that reads everything and never answers.
async fn silent_udp() -> (SocketAddr, JoinHandle<()>) {
    let socket = UdpSocket::bind((LOOPBACK, 0)).await.unwrap();
    let addr = socket.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while socket.recv_from(&mut buf).await.is_ok() {}
    });
    (addr, task)
}

fn assert_verdict(result: &CheckResult, verdict: Verdict) {
    assert_eq!(result.verdict, verdict, "{result:?}");
}

#[tokio::test]
async fn tcp_connected_and_refused() {
    let server = start(ServeConfig {
        tcp: vec![0],
        ..loopback_config()
    })
    .await
    .unwrap();
    let port = server.port("tcp");

    let result = run_one(socket_check(CheckKind::Tcp, LOOPBACK, port), 2000).await;
    assert_verdict(&result, Verdict::Connected);
    assert_eq!(result.id, format!("tcp-{port}"));
    assert_eq!(result.port, Some(port));
    assert!(result.latency_ms >= 0.0 && result.latency_ms < 2000.0);

    let closed = closed_tcp_port();
    let result = run_one(socket_check(CheckKind::Tcp, LOOPBACK, closed), 2000).await;
    assert_verdict(&result, Verdict::Refused);
}

#[tokio::test]
async fn tcp_on_ipv6_loopback() {
    let Ok(server) = start(ServeConfig {
        bind: IpAddr::V6(Ipv6Addr::LOCALHOST),
        tcp: vec![0],
        ..ServeConfig::default()
    })
    .await
    else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    let port = server.port("tcp");
    let result = run_one(
        socket_check(CheckKind::Tcp, Ipv6Addr::LOCALHOST.into(), port),
        2000,
    )
    .await;
    assert_verdict(&result, Verdict::Connected);
}

#[tokio::test]
async fn udp_echo_connected() {
    let server = start(ServeConfig {
        udp: vec![0],
        ..loopback_config()
    })
    .await
    .unwrap();
    let port = server.port("udp");

    // The server echoes datagrams unchanged...
    let client = UdpSocket::bind((LOOPBACK, 0)).await.unwrap();
    client.connect((LOOPBACK, port)).await.unwrap();
    client.send(b"NETPOL hello").await.unwrap();
    let mut buf = [0u8; 64];
    let len = tokio::time::timeout(Duration::from_secs(2), client.recv(&mut buf))
        .await
        .expect("an echo")
        .unwrap();
    assert_eq!(&buf[..len], b"NETPOL hello");

    // ...and the check sees its own nonce come back.
    let result = run_one(socket_check(CheckKind::Udp, LOOPBACK, port), 2000).await;
    assert_verdict(&result, Verdict::Connected);
}

#[tokio::test]
async fn udp_refused_by_icmp_port_unreachable() {
    let port = closed_udp_port(LOOPBACK);
    let result = run_one(socket_check(CheckKind::Udp, LOOPBACK, port), 2000).await;
    assert_verdict(&result, Verdict::Refused);
    assert!(result.latency_ms < 1000.0, "{result:?}");
}

#[tokio::test]
async fn udp_timeout_when_nobody_answers() {
    let (addr, _reader) = silent_udp().await;
    let started = Instant::now();
    let result = run_one(socket_check(CheckKind::Udp, LOOPBACK, addr.port()), 300).await;
    assert_verdict(&result, Verdict::Timeout);
    assert!(result.latency_ms >= 300.0, "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

async fn dns_server() -> Server {
    start(ServeConfig {
        dns_records: vec![
            ("web.x.test".into(), "10.1.2.3".parse().unwrap()),
            ("Web.X.Test.".into(), "fd00::5".parse().unwrap()),
        ],
        dns_port: Some(0),
        ..loopback_config()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn dns_answers_the_configured_address() {
    let server = dns_server().await;
    let port = server.port("dns/udp");
    assert_eq!(server.port("dns/tcp"), port);
    let addr = SocketAddr::new(LOOPBACK, port);

    for name in ["web.x.test", "WEB.x.Test."] {
        let result = run_one(dns_check(name, addr), 2000).await;
        assert_verdict(&result, Verdict::Connected);
        assert_eq!(result.addresses, ["10.1.2.3", "fd00::5"], "{result:?}");
        assert_eq!(result.detail, None);
    }
}

#[tokio::test]
async fn dns_nxdomain_is_connected() {
    let server = dns_server().await;
    let addr = SocketAddr::new(LOOPBACK, server.port("dns/udp"));
    let result = run_one(dns_check("nope.x.test", addr), 2000).await;
    assert_verdict(&result, Verdict::Connected);
    assert_eq!(result.detail.as_deref(), Some("NXDOMAIN"));
    assert!(result.addresses.is_empty());

    // Outside the configured zones the server refuses, which still proves it was reached.
    let result = run_one(dns_check("example.org.", addr), 2000).await;
    assert_verdict(&result, Verdict::Connected);
    assert_eq!(result.detail.as_deref(), Some("REFUSED"));
}

#[tokio::test]
async fn dns_over_tcp() {
    let server = dns_server().await;
    let mut stream = TcpStream::connect((LOOPBACK, server.port("dns/tcp")))
        .await
        .unwrap();
    for (id, name) in [(7u16, "web.x.test."), (8, "nope.x.test.")] {
        let mut query = Message::query();
        query.metadata.id = id;
        query.add_query(Query::query(Name::from_utf8(name).unwrap(), RecordType::A));
        let bytes = query.to_vec().unwrap();
        stream.write_u16(bytes.len() as u16).await.unwrap();
        stream.write_all(&bytes).await.unwrap();
        let len = stream.read_u16().await.unwrap();
        let mut reply = vec![0u8; usize::from(len)];
        stream.read_exact(&mut reply).await.unwrap();
        let reply = Message::from_vec(&reply).unwrap();
        assert_eq!(reply.metadata.id, id);
        if id == 7 {
            assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
            let answers: Vec<_> = reply.answers.iter().map(|r| r.data.clone()).collect();
            assert_eq!(answers, [RData::from(IpAddr::from([10, 1, 2, 3]))]);
        } else {
            assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
        }
    }
}

#[tokio::test]
async fn dns_timeout_when_the_server_is_silent() {
    let (addr, _reader) = silent_udp().await;
    let started = Instant::now();
    let result = run_one(dns_check("web.x.test", addr), 400).await;
    assert_verdict(&result, Verdict::Timeout);
    assert!(result.latency_ms >= 400.0, "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn dns_refused_when_the_port_is_closed() {
    let addr = SocketAddr::new(LOOPBACK, closed_udp_port(LOOPBACK));
    let result = run_one(dns_check("web.x.test", addr), 2000).await;
    assert_verdict(&result, Verdict::Refused);
    assert!(result.latency_ms < 1000.0, "{result:?}");
}

/// What `socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)` says on this kernel.
fn kernel_has_sctp() -> bool {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockProtocol, SockType};
    socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        SockProtocol::Sctp,
    )
    .is_ok()
}

#[tokio::test]
async fn sctp_matches_the_kernel() {
    let server = start(ServeConfig {
        tcp: vec![0],
        sctp: vec![0],
        ..loopback_config()
    })
    .await
    .unwrap();
    // The other listeners keep serving either way.
    assert_eq!(server.report.ports("tcp").len(), 1);
    if kernel_has_sctp() {
        let port = server.port("sctp");
        assert!(server.report.unsupported.is_empty());
        let result = run_one(socket_check(CheckKind::Sctp, LOOPBACK, port), 2000).await;
        assert_verdict(&result, Verdict::Connected);
    } else {
        assert_eq!(server.report.unsupported, ["sctp/0"]);
        assert!(server.report.ports("sctp").is_empty());
        let result = run_one(socket_check(CheckKind::Sctp, LOOPBACK, 9), 2000).await;
        assert_verdict(&result, Verdict::Unsupported);
        assert!(result.detail.unwrap_or_default().contains("SCTP"));
    }
}

#[tokio::test]
async fn a_taken_port_is_a_bind_error() {
    let taken = std::net::TcpListener::bind((LOOPBACK, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = start(ServeConfig {
        tcp: vec![port],
        ..loopback_config()
    })
    .await
    .err()
    .expect("a bind error");
    assert!(
        matches!(err, ServeError::Bind { proto: "tcp", port: p, .. } if p == port),
        "{err}"
    );
    assert!(err.to_string().contains(&format!("tcp/{port}")), "{err}");
}

#[tokio::test]
async fn results_come_back_in_plan_order_with_bounded_concurrency() {
    let server = start(ServeConfig {
        tcp: vec![0],
        udp: vec![0],
        ..loopback_config()
    })
    .await
    .unwrap();
    let (silent, _reader) = silent_udp().await;
    let mut checks = vec![
        socket_check(CheckKind::Udp, LOOPBACK, silent.port()),
        socket_check(CheckKind::Tcp, LOOPBACK, server.port("tcp")),
        socket_check(CheckKind::Udp, LOOPBACK, server.port("udp")),
        socket_check(CheckKind::Tcp, LOOPBACK, closed_tcp_port()),
    ];
    for (i, check) in checks.iter_mut().enumerate() {
        check.id = format!("c{i}");
    }
    let mut plan = plan(300, checks);
    plan.concurrency = 2;

    let mut order = Vec::new();
    run_plan_streaming(&plan, |index, result| {
        order.push((index, result.verdict));
        ControlFlow::Continue(())
    })
    .await;
    assert_eq!(order.len(), 4);
    // The silent one (first in the plan) finishes last.
    assert_eq!(order.last(), Some(&(0, Verdict::Timeout)));

    let results = run_plan(&plan).await;
    let ids: Vec<_> = results.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["c0", "c1", "c2", "c3"]);
    let verdicts: Vec<_> = results.iter().map(|r| r.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Timeout,
            Verdict::Connected,
            Verdict::Connected,
            Verdict::Refused
        ]
    );
}

#[tokio::test]
async fn streaming_stops_on_break() {
    let checks = (0..5)
        .map(|i| {
            let mut check = socket_check(CheckKind::Tcp, LOOPBACK, closed_tcp_port());
            check.id = format!("c{i}");
            check
        })
        .collect();
    let plan = plan(1000, checks);
    let mut seen = 0;
    run_plan_streaming(&plan, |_, _| {
        seen += 1;
        ControlFlow::Break(())
    })
    .await;
    assert_eq!(seen, 1);
}

#[tokio::test]
async fn errors_are_retried() {
    // An invalid check (the plan is not validated here) is an `error` every time.
    let plan = Plan {
        timeout_ms: 100,
        concurrency: 1,
        retries: 2,
        checks: vec![Check {
            id: "bad".into(),
            kind: CheckKind::Tcp,
            host: Some("not-an-ip".into()),
            port: Some(80),
            name: None,
            server: None,
        }],
    };
    let started = Instant::now();
    let results = run_plan(&plan).await;
    assert_verdict(&results[0], Verdict::Error);
    let detail = results[0].detail.clone().unwrap_or_default();
    assert!(detail.contains("after 2 retries"), "{detail}");
    // 200 ms, then 400 ms between the attempts.
    assert!(started.elapsed() >= Duration::from_millis(600));

    // Non-error verdicts are not retried.
    let mut plan = plan;
    plan.checks = vec![socket_check(CheckKind::Tcp, LOOPBACK, closed_tcp_port())];
    let started = Instant::now();
    let results = run_plan(&plan).await;
    assert_verdict(&results[0], Verdict::Refused);
    assert_eq!(
        results[0].detail.as_deref().map(|d| d.contains("retries")),
        Some(false)
    );
    assert!(started.elapsed() < Duration::from_millis(200));
}

#[tokio::test]
async fn dns_port_also_echoes_udp_probes() {
    // A DNS pod is probed on UDP 53 like any other port: the responder must echo the probe.
    let server = dns_server().await;
    let port = server.port("dns/udp");
    let result = run_one(socket_check(CheckKind::Udp, LOOPBACK, port), 2000).await;
    assert_verdict(&result, Verdict::Connected);
    let dns = run_one(
        dns_check("web.x.test", SocketAddr::new(LOOPBACK, port)),
        2000,
    )
    .await;
    assert_verdict(&dns, Verdict::Connected);
}
