//! SCTP one-to-one (SOCK_STREAM) sockets through nix, driven by tokio's `AsyncFd`.
//!
//! Many kernels have no SCTP module loaded (or allowed); socket creation then fails, and the
//! caller reports `unsupported` instead of pretending.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{self, sockopt, Backlog, SockFlag, SockProtocol, SockType, SockaddrStorage};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::socket as sock;

/// Why an SCTP socket could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SctpError {
    /// The kernel has no SCTP.
    #[error("SCTP is not supported by this kernel ({0})")]
    Unsupported(Errno),
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl From<Errno> for SctpError {
    fn from(errno: Errno) -> Self {
        SctpError::Io(io::Error::from(errno))
    }
}

fn open(addr: SocketAddr) -> Result<OwnedFd, SctpError> {
    sock::open(addr, SockType::Stream, SockProtocol::Sctp).map_err(|errno| match errno {
        // What socket(2) says for a protocol the kernel does not know.
        Errno::EPROTONOSUPPORT | Errno::ESOCKTNOSUPPORT | Errno::EPROTOTYPE => {
            SctpError::Unsupported(errno)
        }
        other => other.into(),
    })
}

fn register(fd: OwnedFd, interest: Interest) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: an OwnedFd is an open descriptor that stays open, under the same number, until
    // the AsyncFd that owns it is dropped.
    unsafe { AsyncFd::register_with_interest(fd, interest) }.map_err(io::Error::from)
}

/// Connects to `addr`; resolves once the association is up (or has failed).
pub(crate) async fn connect(addr: SocketAddr) -> Result<(), SctpError> {
    let fd = open(addr)?;
    match socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)) {
        Ok(()) => return Ok(()),
        Err(Errno::EINPROGRESS) => {}
        Err(errno) => return Err(errno.into()),
    }
    let fd = register(fd, Interest::WRITABLE)?;
    // Writable means the handshake is over; SO_ERROR says how it went.
    let _ready = fd.writable().await?;
    match socket::getsockopt(fd.get_ref(), sockopt::SocketError)? {
        0 => Ok(()),
        code => Err(Errno::from_raw(code).into()),
    }
}

/// A listening SCTP socket that accepts associations and closes them.
pub(crate) struct Listener {
    fd: AsyncFd<OwnedFd>,
    port: u16,
}

impl Listener {
    pub fn bind(addr: SocketAddr) -> Result<Self, SctpError> {
        let fd = open(addr)?;
        sock::bind(&fd, SockType::Stream, addr)?;
        socket::listen(&fd, Backlog::new(128)?)?;
        let port = sock::local_port(&fd)?;
        Ok(Self {
            fd: register(fd, Interest::READABLE)?,
            port,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Accepts one association and closes it at once.
    pub async fn accept_and_close(&self) -> io::Result<()> {
        loop {
            let mut guard = self.fd.readable().await?;
            let accepted = guard.try_io(|fd| {
                socket::accept4(fd.get_ref().as_raw_fd(), SockFlag::SOCK_CLOEXEC)
                    .map_err(io::Error::from)
            });
            match accepted {
                Ok(Ok(raw)) => {
                    let _ = nix::unistd::close(raw);
                    return Ok(());
                }
                Ok(Err(err)) => return Err(err),
                Err(_would_block) => continue,
            }
        }
    }
}
