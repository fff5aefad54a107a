//! SCTP one-to-one (SOCK_STREAM) sockets through nix, driven by tokio's `AsyncFd`.
//!
//! Many kernels (and most containers' seccomp-free defaults) have no SCTP module; socket
//! creation then fails and the caller reports `unsupported` instead of pretending.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{
    self, sockopt, AddressFamily, Backlog, SockFlag, SockProtocol, SockType, SockaddrStorage,
};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Why an SCTP socket could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SctpError {
    /// The kernel has no SCTP (EPROTONOSUPPORT and friends).
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

/// The errors `socket(2)` gives for a protocol the kernel does not know.
fn is_unsupported(errno: Errno) -> bool {
    matches!(
        errno,
        Errno::EPROTONOSUPPORT | Errno::ESOCKTNOSUPPORT | Errno::EPROTOTYPE | Errno::ENOPROTOOPT
    )
}

fn new_socket(addr: SocketAddr) -> Result<OwnedFd, SctpError> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    socket::socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        SockProtocol::Sctp,
    )
    .map_err(|errno| {
        if is_unsupported(errno) {
            SctpError::Unsupported(errno)
        } else {
            SctpError::from(errno)
        }
    })
}

/// Connects to `addr`; resolves once the association is up (or failed).
pub async fn connect(addr: SocketAddr) -> Result<(), SctpError> {
    let fd = new_socket(addr)?;
    match socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)) {
        Ok(()) => return Ok(()),
        Err(Errno::EINPROGRESS) => {}
        Err(errno) => return Err(errno.into()),
    }
    let fd = AsyncFd::with_interest(fd, Interest::WRITABLE)?;
    // Writable means the handshake finished; SO_ERROR says how.
    let _guard = fd.writable().await?;
    match socket::getsockopt(fd.get_ref(), sockopt::SocketError)? {
        0 => Ok(()),
        code => Err(Errno::from_raw(code).into()),
    }
}

/// A listening SCTP socket.
pub struct Listener {
    fd: AsyncFd<OwnedFd>,
}

impl Listener {
    /// Binds and listens on `addr` (dual stack when it is `::`).
    pub fn bind(addr: SocketAddr) -> Result<Self, SctpError> {
        let fd = new_socket(addr)?;
        socket::setsockopt(&fd, sockopt::ReuseAddr, &true)?;
        if addr.is_ipv6() {
            socket::setsockopt(&fd, sockopt::Ipv6V6Only, &false)?;
        }
        socket::bind(fd.as_raw_fd(), &SockaddrStorage::from(addr))?;
        socket::listen(&fd, Backlog::new(128)?)?;
        Ok(Self {
            fd: AsyncFd::with_interest(fd, Interest::READABLE)?,
        })
    }

    /// The bound port (useful when binding port 0).
    pub fn local_port(&self) -> io::Result<u16> {
        let addr: SockaddrStorage = socket::getsockname(self.fd.get_ref().as_fd().as_raw_fd())?;
        addr.as_sockaddr_in()
            .map(|a| a.port())
            .or_else(|| addr.as_sockaddr_in6().map(|a| a.port()))
            .ok_or_else(|| io::Error::other("SCTP socket has no inet address"))
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
                    // Closing is all the server does with an association.
                    let _ = nix::unistd::close(raw);
                    return Ok(());
                }
                Ok(Err(err)) => return Err(err),
                Err(_would_block) => continue,
            }
        }
    }
}
