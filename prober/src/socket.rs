//! Raw socket set-up shared by the listeners and the SCTP client: non-blocking, close-on-exec,
//! SO_REUSEADDR for stream sockets, dual stack when bound to `::`.

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{
    self, sockopt, AddressFamily, SockFlag, SockProtocol, SockType, SockaddrStorage,
};

/// A new non-blocking socket of `addr`'s family.
pub(crate) fn open(
    addr: SocketAddr,
    ty: SockType,
    protocol: SockProtocol,
) -> Result<OwnedFd, Errno> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    socket::socket(
        family,
        ty,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        protocol,
    )
}

/// Binds `fd` (opened by [`open`] with type `ty`) to `addr`.
pub(crate) fn bind(fd: &OwnedFd, ty: SockType, addr: SocketAddr) -> Result<(), Errno> {
    if ty == SockType::Stream {
        socket::setsockopt(fd, sockopt::ReuseAddr, &true)?;
    }
    if addr.is_ipv6() {
        // `::` also takes IPv4, whatever net.ipv6.bindv6only says.
        socket::setsockopt(fd, sockopt::Ipv6V6Only, &false)?;
    }
    socket::bind(fd.as_raw_fd(), &SockaddrStorage::from(addr))
}

/// The port `fd` is bound to (the kernel's choice when bound to port 0).
pub(crate) fn local_port(fd: &OwnedFd) -> Result<u16, Errno> {
    let addr: SockaddrStorage = socket::getsockname(fd.as_raw_fd())?;
    addr.as_sockaddr_in()
        .map(|a| a.port())
        .or_else(|| addr.as_sockaddr_in6().map(|a| a.port()))
        .ok_or(Errno::EAFNOSUPPORT)
}
