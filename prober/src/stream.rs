//! `stream`: a prober that keeps running. It fires every check of its plan with a NEW
//! connection every `interval_ms` (rounds overlap when a check waits longer than the interval),
//! and keeps established flows open and exercised on the same 5-tuple, printing one JSON line
//! per result as it comes, until stdin closes. `probe --apply` uses it to see the moment a
//! policy change reaches the dataplane without an exec (or a process start) per round.
//!
//! A flow is a TCP connection kept open (a nonce line written, the echo read back) or a UDP
//! socket bound once and connected (a nonce sent, the echo read back), exercised every interval.
//! Each result carries the wall-clock time its attempt started (`sent_unix_ms`), so the caller
//! can line results up with the moment a change was accepted.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{mpsc, Semaphore};
use tokio::time::MissedTickBehavior;

use crate::check::run_check;
use crate::plan::{Check, Target, Verdict};
pub use crate::plan::{StreamEvent, StreamPlan, StreamResult};

fn unix_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Runs the plan until `stop` resolves, sending every result to `out`.
pub async fn run_stream(
    plan: StreamPlan,
    out: mpsc::UnboundedSender<StreamResult>,
    stop: impl std::future::Future<Output = ()>,
) {
    let interval = Duration::from_millis(plan.interval_ms);
    let timeout = Duration::from_millis(plan.timeout_ms);
    let mut tasks = tokio::task::JoinSet::new();
    let open = open_flows(&plan, timeout, &out).await;
    let _ = out.send(StreamResult {
        event: StreamEvent::Started,
        id: String::new(),
        round: 0,
        verdict: None,
        sent_unix_ms: unix_ms(),
        latency_ms: 0.0,
        detail: None,
    });
    for (id, flow) in open {
        tasks.spawn(exchange_every(id, flow, interval, timeout, out.clone()));
    }
    if !plan.checks.is_empty() {
        let checks = Arc::new(plan.checks.clone());
        let limit = Arc::new(Semaphore::new(plan.concurrency));
        tasks.spawn(check_every(checks, limit, interval, timeout, out.clone()));
    }
    stop.await;
    tasks.abort_all();
}

/// Opens every flow of the plan at once, reporting each; returns those that opened.
async fn open_flows(
    plan: &StreamPlan,
    timeout: Duration,
    out: &mpsc::UnboundedSender<StreamResult>,
) -> Vec<(String, Flow)> {
    let mut opening = tokio::task::JoinSet::new();
    for f in plan.flows.clone() {
        opening.spawn(async move {
            let sent = unix_ms();
            let start = Instant::now();
            let flow = Flow::open(&f, timeout).await;
            (f, flow, sent, start.elapsed())
        });
    }
    let mut open = Vec::new();
    while let Some(Ok((f, flow, sent, took))) = opening.join_next().await {
        let (verdict, detail) = match &flow {
            Ok(_) => (Verdict::Connected, None),
            Err(o) => (o.0, Some(o.1.clone())),
        };
        let _ = out.send(StreamResult {
            event: StreamEvent::FlowOpen,
            id: f.id.clone(),
            round: 0,
            verdict: Some(verdict),
            sent_unix_ms: sent,
            latency_ms: ms(took),
            detail,
        });
        if let Ok(flow) = flow {
            open.push((f.id.clone(), flow));
        }
    }
    open
}

/// One exchange on an open flow every interval, each reported, until `out` closes.
async fn exchange_every(
    id: String,
    mut flow: Flow,
    interval: Duration,
    timeout: Duration,
    out: mpsc::UnboundedSender<StreamResult>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut round = 0;
    loop {
        tick.tick().await;
        round += 1;
        let sent = unix_ms();
        let start = Instant::now();
        let (verdict, detail) = match flow.exchange(timeout).await {
            Ok(()) => (Verdict::Connected, None),
            Err((v, d)) => (v, Some(d)),
        };
        let r = StreamResult {
            event: StreamEvent::Flow,
            id: id.clone(),
            round,
            verdict: Some(verdict),
            sent_unix_ms: sent,
            latency_ms: ms(start.elapsed()),
            detail,
        };
        if out.send(r).is_err() {
            return;
        }
    }
}

/// Every check as a new connection every interval (at most `limit` at once), each reported.
async fn check_every(
    checks: Arc<Vec<Check>>,
    limit: Arc<Semaphore>,
    interval: Duration,
    timeout: Duration,
    out: mpsc::UnboundedSender<StreamResult>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut round = 0u64;
    let mut inflight = tokio::task::JoinSet::new();
    loop {
        tick.tick().await;
        round += 1;
        while inflight.try_join_next().is_some() {}
        for c in checks.iter() {
            let c = c.clone();
            let out = out.clone();
            let limit = limit.clone();
            inflight.spawn(async move {
                let Ok(_permit) = limit.acquire_owned().await else {
                    return;
                };
                let sent = unix_ms();
                let r = run_check(&c, timeout).await;
                let _ = out.send(StreamResult {
                    event: StreamEvent::Check,
                    id: r.id,
                    round,
                    verdict: Some(r.verdict),
                    sent_unix_ms: sent,
                    latency_ms: r.latency_ms,
                    detail: r.detail,
                });
            });
        }
    }
}

type FlowError = (Verdict, String);

fn io_verdict(e: &io::Error) -> FlowError {
    let v = match e.kind() {
        io::ErrorKind::ConnectionRefused => Verdict::Refused,
        io::ErrorKind::TimedOut => Verdict::Timeout,
        _ => Verdict::Error,
    };
    (v, e.to_string())
}

/// An open flow.
enum Flow {
    Tcp {
        reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
        writer: tokio::net::tcp::OwnedWriteHalf,
        counter: u64,
    },
    Udp {
        socket: UdpSocket,
        counter: u64,
    },
}

impl Flow {
    async fn open(check: &Check, timeout: Duration) -> Result<Flow, FlowError> {
        let target = check
            .target()
            .map_err(|e| (Verdict::Error, format!("invalid flow: {e}")))?;
        match target {
            Target::Tcp(addr) => {
                let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
                    Err(_) => {
                        return Err((
                            Verdict::Timeout,
                            format!("no answer to SYN within {} ms", timeout.as_millis()),
                        ))
                    }
                    Ok(Err(e)) => return Err(io_verdict(&e)),
                    Ok(Ok(s)) => s,
                };
                let _ = stream.set_nodelay(true);
                let (r, w) = stream.into_split();
                let mut flow = Flow::Tcp {
                    reader: BufReader::new(r),
                    writer: w,
                    counter: 0,
                };
                flow.exchange(timeout).await?;
                Ok(flow)
            }
            Target::Udp(addr) => {
                let local = match addr {
                    SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
                    SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
                };
                let socket = UdpSocket::bind(local).await.map_err(|e| io_verdict(&e))?;
                socket.connect(addr).await.map_err(|e| io_verdict(&e))?;
                let mut flow = Flow::Udp { socket, counter: 0 };
                flow.exchange(timeout).await?;
                Ok(flow)
            }
            _ => Err((Verdict::Unsupported, "flows are tcp or udp".into())),
        }
    }

    /// One nonce there and back on the same connection (TCP) or 5-tuple (UDP).
    async fn exchange(&mut self, timeout: Duration) -> Result<(), FlowError> {
        let pid = std::process::id();
        match self {
            Flow::Tcp {
                reader,
                writer,
                counter,
            } => {
                *counter += 1;
                let line = format!("NETPOL FLOW {pid} {counter}\n");
                let work = async {
                    writer.write_all(line.as_bytes()).await?;
                    let mut got = String::new();
                    loop {
                        got.clear();
                        // Echoes of earlier rounds that timed out may still arrive: skip them.
                        if reader.read_line(&mut got).await? == 0 {
                            return Err(io::Error::new(
                                io::ErrorKind::ConnectionAborted,
                                "the server closed the connection",
                            ));
                        }
                        if got == line {
                            return Ok(());
                        }
                    }
                };
                match tokio::time::timeout(timeout, work).await {
                    Err(_) => Err((
                        Verdict::Timeout,
                        format!("no echo within {} ms", timeout.as_millis()),
                    )),
                    Ok(r) => r.map_err(|e| io_verdict(&e)),
                }
            }
            Flow::Udp { socket, counter } => {
                *counter += 1;
                let payload = format!("NETPOL FLOW {pid} {counter}");
                let work = async {
                    socket.send(payload.as_bytes()).await?;
                    let mut buf = vec![0u8; 2048];
                    loop {
                        let n = socket.recv(&mut buf).await?;
                        if buf.get(..n) == Some(payload.as_bytes()) {
                            return Ok::<(), io::Error>(());
                        }
                    }
                };
                match tokio::time::timeout(timeout, work).await {
                    Err(_) => Err((
                        Verdict::Timeout,
                        format!("no echo within {} ms", timeout.as_millis()),
                    )),
                    Ok(r) => r.map_err(|e| io_verdict(&e)),
                }
            }
        }
    }
}
