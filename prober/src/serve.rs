//! The listeners of a prober pod: TCP (accept and echo), UDP (echo), SCTP (accept and close,
//! where the kernel has it) and an optional tiny authoritative DNS server.

use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::socket::{self as nix_socket, Backlog, SockProtocol, SockType};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;

use crate::dns_server::{self, BadName, Records};
use crate::log;
use crate::sctp::{self, SctpError};
use crate::socket as sock;

/// What to listen on. Port 0 asks the kernel for a free port (the [`ReadyReport`] says which).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// Address of every listener: `0.0.0.0`, or `::` for dual stack.
    pub bind: IpAddr,
    pub tcp: Vec<u16>,
    pub udp: Vec<u16>,
    pub sctp: Vec<u16>,
    /// `(name, address)` records; when non-empty, DNS is served on `dns_port`.
    pub dns_records: Vec<(String, IpAddr)>,
    /// The DNS port (UDP and TCP); 53 when `None`.
    pub dns_port: Option<u16>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            tcp: Vec::new(),
            udp: Vec::new(),
            sctp: Vec::new(),
            dns_records: Vec::new(),
            dns_port: None,
        }
    }
}

/// Printed (as one JSON line) once every listener is bound.
///
/// Entries are `tcp/PORT`, `udp/PORT`, `sctp/PORT`, and `dns/udp/PORT`, `dns/tcp/PORT` for
/// the DNS server, with the ports actually bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyReport {
    pub ready: bool,
    pub listening: Vec<String>,
    /// Requested listeners this host cannot provide (SCTP without kernel support).
    pub unsupported: Vec<String>,
}

impl ReadyReport {
    /// The ports listening for `proto` (`"tcp"`, `"udp"`, `"sctp"`, `"dns/udp"`, `"dns/tcp"`).
    pub fn ports(&self, proto: &str) -> Vec<u16> {
        self.listening
            .iter()
            .filter_map(|entry| {
                let (p, port) = entry.rsplit_once('/')?;
                (p == proto).then(|| port.parse().ok()).flatten()
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {proto}/{port} at {bind}: {source}{}", hint(source, *port))]
    Bind {
        proto: &'static str,
        port: u16,
        bind: IpAddr,
        source: io::Error,
    },
    #[error("invalid DNS record name {name:?}: {message}")]
    DnsRecord { name: String, message: String },
    #[error("a listener stopped: {0}")]
    Listener(String),
}

fn bind_error(
    proto: &'static str,
    port: u16,
    bind: IpAddr,
) -> impl FnOnce(io::Error) -> ServeError {
    move |source| ServeError::Bind {
        proto,
        port,
        bind,
        source,
    }
}

fn hint(err: &io::Error, port: u16) -> &'static str {
    if err.kind() == io::ErrorKind::PermissionDenied && port < 1024 {
        " (ports below 1024 need CAP_NET_BIND_SERVICE or the sysctl net.ipv4.ip_unprivileged_port_start)"
    } else {
        ""
    }
}

/// Binds every listener, calls `ready` once with what listens, then serves until the returned
/// future is dropped. It returns only on error: a port that cannot be bound (SCTP without kernel
/// support is not an error: it is reported as unsupported) or a listener that died.
pub async fn serve(
    config: ServeConfig,
    ready: impl FnOnce(ReadyReport),
) -> Result<Infallible, ServeError> {
    let mut report = ReadyReport {
        ready: true,
        listening: Vec::new(),
        unsupported: Vec::new(),
    };
    // Validate before binding anything.
    let records = if config.dns_records.is_empty() {
        None
    } else {
        let records = Records::new(&config.dns_records)
            .map_err(|BadName { name, message }| ServeError::DnsRecord { name, message })?;
        Some(Arc::new(records))
    };
    let mut tasks = JoinSet::new();
    let bind = config.bind;
    let bind_err = |proto, port| bind_error(proto, port, bind);

    for port in unique(&config.tcp) {
        let listener = tcp_listener(SocketAddr::new(bind, port)).map_err(bind_err("tcp", port))?;
        report.listening.push(format!(
            "tcp/{}",
            listener.local_addr().map_or(port, |a| a.port())
        ));
        tasks.spawn(accept_and_close(listener));
    }
    for port in unique(&config.udp) {
        let socket = udp_socket(SocketAddr::new(bind, port)).map_err(bind_err("udp", port))?;
        report.listening.push(format!(
            "udp/{}",
            socket.local_addr().map_or(port, |a| a.port())
        ));
        tasks.spawn(echo(socket));
    }
    for port in unique(&config.sctp) {
        match sctp::Listener::bind(SocketAddr::new(bind, port)) {
            Ok(listener) => {
                report.listening.push(format!("sctp/{}", listener.port()));
                tasks.spawn(sctp_accept(listener));
            }
            Err(SctpError::Unsupported(_)) => report.unsupported.push(format!("sctp/{port}")),
            Err(SctpError::Io(source)) => return Err(bind_err("sctp", port)(source)),
        }
    }
    if let Some(records) = records {
        let port = config.dns_port.unwrap_or(53);
        let udp = udp_socket(SocketAddr::new(bind, port)).map_err(bind_err("dns/udp", port))?;
        // Port 0: TCP takes the port the kernel gave UDP, so one number serves both.
        let port = udp.local_addr().map_or(port, |a| a.port());
        let tcp = tcp_listener(SocketAddr::new(bind, port)).map_err(bind_err("dns/tcp", port))?;
        report.listening.push(format!("dns/udp/{port}"));
        report.listening.push(format!("dns/tcp/{port}"));
        tasks.spawn(dns_server::serve_udp(udp, records.clone()));
        tasks.spawn(dns_server::serve_tcp(tcp, records));
    }

    ready(report);

    // The listeners loop forever; one that ends has panicked.
    while let Some(joined) = tasks.join_next().await {
        if let Err(err) = joined {
            return Err(ServeError::Listener(err.to_string()));
        }
    }
    std::future::pending().await
}

/// The ports in order, without repeats.
fn unique(ports: &[u16]) -> Vec<u16> {
    let mut seen = Vec::with_capacity(ports.len());
    for port in ports {
        if !seen.contains(port) {
            seen.push(*port);
        }
    }
    seen
}

fn tcp_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let fd = sock::open(addr, SockType::Stream, SockProtocol::Tcp)?;
    sock::bind(&fd, SockType::Stream, addr)?;
    nix_socket::listen(&fd, Backlog::new(1024)?)?;
    TcpListener::from_std(std::net::TcpListener::from(fd))
}

fn udp_socket(addr: SocketAddr) -> io::Result<UdpSocket> {
    let fd = sock::open(addr, SockType::Datagram, SockProtocol::Udp)?;
    sock::bind(&fd, SockType::Datagram, addr)?;
    UdpSocket::from_std(std::net::UdpSocket::from(fd))
}

/// A failed accept (out of descriptors, an aborted handshake) must not stop the listener.
async fn pause_after(what: &str, err: io::Error) {
    log(&format!("{what}: {err}"));
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// Accepts connections and echoes what they send until the client closes: a connect check
/// closes at once; a `stream` flow keeps its connection and exchanges nonces over it.
async fn accept_and_close(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(async move {
                    let (mut r, mut w) = stream.into_split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
            Err(err) => pause_after("tcp accept", err).await,
        }
    }
}

/// Sends every datagram back to its sender, unchanged.
async fn echo(socket: UdpSocket) {
    let mut buf = vec![0u8; 65_535];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((len, peer)) => {
                if let Err(err) = socket.send_to(&buf[..len], peer).await {
                    log(&format!("udp echo to {peer}: {err}"));
                }
            }
            Err(err) => pause_after("udp receive", err).await,
        }
    }
}

async fn sctp_accept(listener: sctp::Listener) {
    loop {
        if let Err(err) = listener.accept_and_close().await {
            pause_after("sctp accept", err).await;
        }
    }
}
