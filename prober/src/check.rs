//! One check: a connection attempt or a DNS lookup, bounded by a timeout, turned into a verdict.

use std::hash::{BuildHasher, RandomState};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::Interest;
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::MissedTickBehavior;

use crate::dns_check;
use crate::plan::{Check, CheckResult, Target, Verdict};
use crate::sctp::{self, SctpError};

/// How UDP probes start, so a DNS server on the probed port can tell them from queries.
pub(crate) const UDP_PROBE_PREFIX: &[u8] = b"NETPOL ";

/// A verdict with its explanation, before it is dressed as a [`CheckResult`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    pub verdict: Verdict,
    pub detail: Option<String>,
    pub addresses: Vec<String>,
}

impl Outcome {
    pub fn new(verdict: Verdict, detail: impl Into<Option<String>>) -> Self {
        Self {
            verdict,
            detail: detail.into(),
            addresses: Vec::new(),
        }
    }

    pub fn error(detail: impl Into<String>) -> Self {
        Self::new(Verdict::Error, detail.into())
    }

    pub fn timeout(what: &str, timeout: Duration) -> Self {
        Self::new(
            Verdict::Timeout,
            format!("{what} within {} ms", timeout.as_millis()),
        )
    }

    /// The result row for `check`; latency in milliseconds, to the microsecond.
    pub fn into_result(self, check: &Check, latency: Duration) -> CheckResult {
        CheckResult {
            id: check.id.clone(),
            kind: check.kind,
            host: check.host.clone(),
            port: check.port,
            name: check.name.clone(),
            verdict: self.verdict,
            latency_ms: (latency.as_secs_f64() * 1_000_000.0).round() / 1000.0,
            detail: self.detail,
            addresses: self.addresses,
        }
    }

    /// A socket error: refused means the packet got through and was rejected.
    pub fn from_io(err: &io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::ConnectionRefused => Self::new(Verdict::Refused, err.to_string()),
            io::ErrorKind::TimedOut => Self::new(Verdict::Timeout, err.to_string()),
            _ => Self::error(err.to_string()),
        }
    }
}

/// Runs one check once. Never fails: every problem is a verdict.
pub async fn run_check(check: &Check, timeout: Duration) -> CheckResult {
    let start = Instant::now();
    let outcome = match check.target() {
        Err(err) => Outcome::error(format!("invalid check: {err}")),
        Ok(Target::Tcp(addr)) => tcp(addr, timeout).await,
        Ok(Target::Udp(addr)) => udp(addr, timeout).await,
        Ok(Target::Sctp(addr)) => sctp(addr, timeout).await,
        Ok(Target::Dns { name, server }) => dns_check::lookup(&name, server, timeout).await,
    };
    outcome.into_result(check, start.elapsed())
}

/// Connected when the three-way handshake completes.
async fn tcp(addr: SocketAddr, timeout: Duration) -> Outcome {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Outcome::timeout("no answer to SYN", timeout),
        Ok(Ok(_stream)) => Outcome::new(Verdict::Connected, None),
        Ok(Err(err)) => Outcome::from_io(&err),
    }
}

/// Connected when the server echoes our random nonce back. The datagram is resent a few times
/// within the timeout so that one lost packet is not reported as a drop.
async fn udp(addr: SocketAddr, timeout: Duration) -> Outcome {
    match tokio::time::timeout(timeout, udp_round_trip(addr, timeout)).await {
        Err(_) => Outcome::timeout("no echo", timeout),
        Ok(Ok(())) => Outcome::new(Verdict::Connected, None),
        Ok(Err(err)) => Outcome::from_io(&err),
    }
}

async fn udp_round_trip(addr: SocketAddr, timeout: Duration) -> io::Result<()> {
    let local = match addr {
        SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
    };
    let socket = UdpSocket::bind(local).await?;
    // Connected, so that an ICMP port unreachable comes back as ECONNREFUSED.
    socket.connect(addr).await?;
    let payload = format!("NETPOL {}", nonce());
    debug_assert!(payload.as_bytes().starts_with(UDP_PROBE_PREFIX));
    let mut resend = tokio::time::interval(
        (timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1)),
    );
    resend.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut buf = vec![0u8; 2048];
    loop {
        tokio::select! {
            _ = resend.tick() => {
                socket.send(payload.as_bytes()).await?;
            }
            received = socket.recv(&mut buf) => {
                let len = received?;
                if buf.get(..len) == Some(payload.as_bytes()) {
                    return Ok(());
                }
                // A stale echo of another nonce, or noise: keep waiting.
            }
            // An ICMP port unreachable is an error event, not a readable one: watch it too.
            ready = socket.ready(Interest::ERROR) => {
                ready?;
                if let Some(err) = socket.take_error()? {
                    return Err(err);
                }
                // Already consumed: clear the readiness, keep waiting.
                let _ = socket.try_io(Interest::ERROR, || Err::<(), _>(io::ErrorKind::WouldBlock.into()));
            }
        }
    }
}

/// Connected when the association is established; unsupported without kernel SCTP.
async fn sctp(addr: SocketAddr, timeout: Duration) -> Outcome {
    match tokio::time::timeout(timeout, sctp::connect(addr)).await {
        Err(_) => Outcome::timeout("no answer to INIT", timeout),
        Ok(Ok(())) => Outcome::new(Verdict::Connected, None),
        Ok(Err(err @ SctpError::Unsupported(_))) => {
            Outcome::new(Verdict::Unsupported, err.to_string())
        }
        Ok(Err(SctpError::Io(err))) => Outcome::from_io(&err),
    }
}

/// 128 random bits as hex, different on every call.
fn nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    // RandomState is seeded from the OS random source.
    let state = RandomState::new();
    format!(
        "{:016x}{:016x}",
        state.hash_one((count, 1u8)),
        state.hash_one((count, 2u8))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_differ() {
        let a = nonce();
        let b = nonce();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn an_invalid_check_is_an_error_not_a_panic() {
        let check = Check {
            id: "x".into(),
            kind: crate::plan::CheckKind::Tcp,
            host: Some("not-an-ip".into()),
            port: Some(80),
            name: None,
            server: None,
        };
        let result = run_check(&check, Duration::from_millis(10)).await;
        assert_eq!(result.verdict, Verdict::Error);
        assert!(result.detail.unwrap_or_default().contains("host"));
    }
}
