//! The DNS check: a hickory-resolver lookup whose outcome says whether the server was reached.
//!
//! hickory sends UDP queries from unconnected sockets, where Linux never reports an ICMP port
//! unreachable, and its name-server pool folds I/O errors into "no connections". So this
//! resolver runs on a small runtime provider that connects its UDP sockets to the server (the
//! kernel then reports ECONNREFUSED) and remembers the last socket error, which tells
//! `refused` from other failures.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::{
    DnsUdpSocket, RuntimeProvider, TokioHandle, TokioRuntimeProvider, TokioTime,
};
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::Resolver;
use tokio::io::{Interest, Ready};
use tokio::net::UdpSocket;

use crate::check::Outcome;
use crate::plan::Verdict;

/// Resolves `name` (A and AAAA) through `server`, or the system configuration when `None`.
pub(crate) async fn lookup(name: &str, server: Option<SocketAddr>, timeout: Duration) -> Outcome {
    let runtime = ProbeRuntime::default();
    let mut builder = match server {
        Some(addr) => {
            let mut name_server = NameServerConfig::udp_and_tcp(addr.ip());
            for connection in &mut name_server.connections {
                connection.port = addr.port();
            }
            Resolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![name_server]),
                runtime.clone(),
            )
        }
        None => match Resolver::builder(runtime.clone()) {
            Ok(builder) => builder,
            Err(err) => {
                return Outcome::error(format!(
                    "cannot read the system DNS configuration (/etc/resolv.conf): {err}"
                ))
            }
        },
    };
    let options = builder.options_mut();
    options.timeout = timeout;
    options.attempts = 0;
    // Probe the network, not /etc/hosts.
    options.use_hosts_file = ResolveHosts::Never;
    options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    let resolver = match builder.build() {
        Ok(resolver) => resolver,
        Err(err) => return Outcome::error(format!("cannot build a DNS resolver: {err}")),
    };
    let from = match server {
        Some(addr) => addr.to_string(),
        None => "the system resolvers".to_string(),
    };
    // The search list can turn one lookup into several queries: bound the whole of it. The
    // margin lets an A answer win over an AAAA query that times out at the same moment.
    match tokio::time::timeout(timeout + timeout / 10, resolver.lookup_ip(name)).await {
        Err(_) => Outcome::timeout(&format!("no answer from {from}"), timeout),
        Ok(Ok(lookup)) => {
            let mut outcome = Outcome::new(Verdict::Connected, None);
            outcome.addresses = lookup.iter().map(|ip| ip.to_string()).collect();
            outcome
        }
        Ok(Err(err)) => classify(&err, runtime.last_error(), &from, timeout),
    }
}

/// Any answer from a server is `connected`; the response code goes in the detail.
fn classify(
    err: &NetError,
    socket_error: Option<SocketError>,
    from: &str,
    timeout: Duration,
) -> Outcome {
    match err {
        NetError::Dns(DnsError::NoRecordsFound(NoRecords { response_code, .. })) => {
            let detail = match response_code {
                ResponseCode::NoError => "NOERROR, no addresses".to_string(),
                code => rcode_name(*code),
            };
            Outcome::new(Verdict::Connected, detail)
        }
        NetError::Dns(DnsError::ResponseCode(code)) => {
            Outcome::new(Verdict::Connected, rcode_name(*code))
        }
        NetError::Timeout => Outcome::timeout(&format!("no answer from {from}"), timeout),
        NetError::Io(io_err) => Outcome::from_io(io_err),
        // The pool reports every connection-level failure as "no connections".
        NetError::NoConnections => match socket_error {
            Some(SocketError { kind, message }) => Outcome::from_io(&io::Error::new(kind, message)),
            None => Outcome::error(format!("DNS lookup failed: {err}")),
        },
        other => Outcome::error(format!("DNS lookup failed: {other}")),
    }
}

fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("rcode {} ({other})", u16::from(other)),
    }
}

/// The last socket error one lookup's sockets saw.
#[derive(Debug, Clone)]
struct SocketError {
    kind: io::ErrorKind,
    message: String,
}

#[derive(Clone, Default)]
struct LastError(Arc<Mutex<Option<SocketError>>>);

impl LastError {
    fn record(&self, err: &io::Error) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(SocketError {
                kind: err.kind(),
                message: err.to_string(),
            });
        }
    }

    fn get(&self) -> Option<SocketError> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// Tokio, with connected UDP sockets and socket errors remembered.
#[derive(Clone, Default)]
struct ProbeRuntime {
    tokio: TokioRuntimeProvider,
    last_error: LastError,
}

impl ProbeRuntime {
    fn last_error(&self) -> Option<SocketError> {
        self.last_error.get()
    }
}

type BoxedIo<T> = Pin<Box<dyn Send + Future<Output = io::Result<T>>>>;

impl RuntimeProvider for ProbeRuntime {
    type Handle = TokioHandle;
    type Timer = TokioTime;
    type Udp = ConnectedUdp;
    type Tcp = <TokioRuntimeProvider as RuntimeProvider>::Tcp;

    fn create_handle(&self) -> Self::Handle {
        self.tokio.create_handle()
    }

    fn connect_tcp(
        &self,
        server_addr: SocketAddr,
        bind_addr: Option<SocketAddr>,
        timeout: Option<Duration>,
    ) -> BoxedIo<Self::Tcp> {
        let connecting = self.tokio.connect_tcp(server_addr, bind_addr, timeout);
        let last_error = self.last_error.clone();
        Box::pin(async move { connecting.await.inspect_err(|err| last_error.record(err)) })
    }

    fn bind_udp(&self, local_addr: SocketAddr, server_addr: SocketAddr) -> BoxedIo<Self::Udp> {
        let last_error = self.last_error.clone();
        Box::pin(async move {
            let socket = UdpSocket::bind(local_addr).await?;
            socket
                .connect(server_addr)
                .await
                .inspect_err(|err| last_error.record(err))?;
            Ok(ConnectedUdp::new(socket, last_error))
        })
    }
}

/// A UDP socket connected to the name server. Replies can only come from the address queried,
/// which is what hickory checks anyway.
struct ConnectedUdp {
    socket: Arc<UdpSocket>,
    /// Resolves when the socket has an error pending (see [`ConnectedUdp::poll_error`]).
    error_ready: Mutex<Option<ErrorReady>>,
    last_error: LastError,
}

type ErrorReady = Pin<Box<dyn Future<Output = io::Result<Ready>> + Send>>;

impl ConnectedUdp {
    fn new(socket: UdpSocket, last_error: LastError) -> Self {
        Self {
            socket: Arc::new(socket),
            error_ready: Mutex::new(None),
            last_error,
        }
    }

    fn note<T>(&self, polled: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if let Poll::Ready(Err(err)) = &polled {
            self.last_error.record(err);
        }
        polled
    }

    /// The pending socket error (ECONNREFUSED after an ICMP port unreachable), if any.
    ///
    /// tokio wakes a poll-based reader on readable events only, and an ICMP error is an error
    /// event (EPOLLERR) with no data: without this watch, the receive would wait for the full
    /// timeout. Registers `cx` to be woken when an error arrives.
    fn poll_error(&self, cx: &mut Context<'_>) -> Option<io::Error> {
        let mut slot = self.error_ready.lock().ok()?;
        let watch = slot.get_or_insert_with(|| {
            let socket = self.socket.clone();
            Box::pin(async move { socket.ready(Interest::ERROR).await })
        });
        if watch.as_mut().poll(cx).is_pending() {
            return None;
        }
        *slot = None;
        match self.socket.take_error() {
            Ok(Some(err)) | Err(err) => Some(err),
            Ok(None) => {
                // Someone else consumed it: clear the readiness and watch again.
                let _ = self.socket.try_io(Interest::ERROR, || {
                    Err::<(), _>(io::ErrorKind::WouldBlock.into())
                });
                cx.waker().wake_by_ref();
                None
            }
        }
    }
}

impl DnsUdpSocket for ConnectedUdp {
    type Time = TokioTime;

    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let polled = match DnsUdpSocket::poll_recv_from(&*self.socket, cx, buf) {
            Poll::Pending => match self.poll_error(cx) {
                Some(err) => Poll::Ready(Err(err)),
                None => Poll::Pending,
            },
            ready => ready,
        };
        self.note(polled)
    }

    fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.note(DnsUdpSocket::poll_send_to(&*self.socket, cx, buf, target))
    }
}
