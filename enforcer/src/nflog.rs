//! Drop logging: the class chains send the packets they are about to drop (rate-limited) to an
//! NFLOG group with the prefix `NPDROP <chain>`; this listener reads that group over netlink
//! (NETLINK_NETFILTER, the nfnetlink_log subsystem), maps each packet back to the local pod, the
//! direction and the policies that isolate it, and records it for `/drops` and the metrics.
//!
//! Reading NFLOG needs CAP_NET_ADMIN and nothing on disk (unlike LOG, whose lines go to the
//! kernel log). When nobody listens, the kernel discards the messages.

use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use etherparse::{Ipv6ExtensionSlice, LaxIpSlice};
use netpol::enforce::compile::HOLD_CHAIN;
use netpol::enforce::status::DropRecord;
use netpol::enforce::DROP_LOG_PREFIX;
use nix::sys::socket::{
    bind, recv, send, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag,
    SockProtocol, SockType,
};
use nix::sys::time::TimeVal;

use crate::telemetry::{unix_ms, DropContext, Telemetry};

const NFNL_SUBSYS_ULOG: u16 = 4;
const NFULNL_MSG_PACKET: u16 = 0;
const NFULNL_MSG_CONFIG: u16 = 1;
const NFULA_CFG_CMD: u16 = 1;
const NFULA_CFG_MODE: u16 = 2;
const NFULNL_CFG_CMD_BIND: u8 = 1;
const NFULNL_CFG_CMD_PF_BIND: u8 = 3;
const NFULNL_COPY_PACKET: u8 = 2;
const NFULA_PAYLOAD: u16 = 9;
const NFULA_PREFIX: u16 = 10;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLMSG_ERROR: u16 = 2;
/// Bytes of each packet copied to us: enough for the IP and transport headers.
const COPY_RANGE: u32 = 128;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One nfnetlink_log configuration message.
fn config_message(seq: u32, family: u8, group: u16, attrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut payload = vec![family, 0];
    payload.extend(group.to_be_bytes());
    for (ty, data) in attrs {
        let len = 4 + data.len();
        payload.extend((len as u16).to_ne_bytes());
        payload.extend(ty.to_ne_bytes());
        payload.extend(data);
        payload.resize(align4(payload.len()), 0);
    }
    let mut msg = Vec::with_capacity(16 + payload.len());
    msg.extend(((16 + payload.len()) as u32).to_ne_bytes());
    msg.extend(((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG).to_ne_bytes());
    msg.extend((NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    msg.extend(seq.to_ne_bytes());
    msg.extend(0u32.to_ne_bytes());
    msg.extend(payload);
    msg
}

/// Netlink messages in a datagram: (type, sequence, payload after the header).
fn messages(buf: &[u8]) -> Vec<(u16, u32, &[u8])> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 16 <= buf.len() {
        let len = u32::from_ne_bytes([buf[off], buf[off + 1], buf[off + 2], buf[off + 3]]) as usize;
        if len < 16 || off + len > buf.len() {
            break;
        }
        let ty = u16::from_ne_bytes([buf[off + 4], buf[off + 5]]);
        let seq = u32::from_ne_bytes([buf[off + 8], buf[off + 9], buf[off + 10], buf[off + 11]]);
        out.push((ty, seq, &buf[off + 16..off + len]));
        off += align4(len);
    }
    out
}

/// The attributes of an nfnetlink message (after its 4-byte nfgenmsg).
fn attributes(payload: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut off = 4;
    while off + 4 <= payload.len() {
        let len = u16::from_ne_bytes([payload[off], payload[off + 1]]) as usize;
        let ty = u16::from_ne_bytes([payload[off + 2], payload[off + 3]]) & 0x3fff;
        if len < 4 || off + len > payload.len() {
            break;
        }
        out.push((ty, &payload[off + 4..off + len]));
        off += align4(len);
    }
    out
}

/// A packet's addresses, protocol and destination port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    pub port: Option<u16>,
}

/// Reads a logged packet with etherparse: the IP header, IPv4 options and IPv6 extension
/// headers (hop-by-hop, routing, fragment, destination options, AH) are skipped for us. NFLOG
/// hands over only the first 128 bytes (`--nflog-size`), so the lax parser, which takes a cut
/// packet, is the one to use. The destination port is read only from a packet that carries the
/// start of its transport header: a later fragment has none.
pub fn parse_packet(p: &[u8]) -> Option<PacketInfo> {
    let (ip, _ext_error) = LaxIpSlice::from_slice(p).ok()?;
    let payload = ip.payload();
    let first_fragment = match &ip {
        LaxIpSlice::Ipv4(v4) => v4.header().fragments_offset().value() == 0,
        LaxIpSlice::Ipv6(v6) => v6.extensions().clone().into_iter().all(|e| match e {
            Ipv6ExtensionSlice::Fragment(f) => f.fragment_offset().value() == 0,
            _ => true,
        }),
    };
    let protocol = payload.ip_number.0;
    // TCP, UDP and SCTP all start with the source port, then the destination port.
    let port = match protocol {
        6 | 17 | 132 if first_fragment => payload
            .payload
            .get(2..4)
            .map(|b| u16::from_be_bytes([b[0], b[1]])),
        _ => None,
    };
    Some(PacketInfo {
        src: ip.source_addr(),
        dst: ip.destination_addr(),
        protocol,
        port,
    })
}

fn protocol_name(p: u8) -> String {
    match p {
        1 => "ICMP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        58 => "ICMPv6".into(),
        132 => "SCTP".into(),
        n => n.to_string(),
    }
}

/// A logged packet → the drop as `/drops` shows it.
pub fn drop_record(prefix: &str, packet: &PacketInfo, ctx: &DropContext) -> Option<DropRecord> {
    let chain = prefix
        .trim_end_matches('\0')
        .strip_prefix(DROP_LOG_PREFIX)?
        .trim()
        .to_string();
    let name = |ip: &IpAddr| ctx.pods_by_ip.get(ip).cloned();
    if chain == HOLD_CHAIN {
        // A pod not placed yet has no name here; the other side may have one.
        return Some(DropRecord {
            unix_ms: unix_ms(),
            direction: "held".into(),
            pod: None,
            peer: name(&packet.src)
                .or_else(|| name(&packet.dst))
                .unwrap_or_else(|| format!("{} → {}", packet.src, packet.dst)),
            src: packet.src.to_string(),
            dst: packet.dst.to_string(),
            protocol: protocol_name(packet.protocol),
            port: packet.port,
            policies: Vec::new(),
            chain,
        });
    }
    let info = ctx.chains.get(&chain);
    let ingress = match info {
        Some(i) => i.direction == netpol::model::Direction::Ingress,
        None => chain.starts_with("NETPOL-I-"),
    };
    let (local, other) = if ingress {
        (packet.dst, packet.src)
    } else {
        (packet.src, packet.dst)
    };
    Some(DropRecord {
        unix_ms: unix_ms(),
        direction: if ingress { "ingress" } else { "egress" }.into(),
        pod: ctx.pods_by_ip.get(&local).cloned(),
        peer: ctx
            .pods_by_ip
            .get(&other)
            .cloned()
            .unwrap_or_else(|| other.to_string()),
        src: packet.src.to_string(),
        dst: packet.dst.to_string(),
        protocol: protocol_name(packet.protocol),
        port: packet.port,
        policies: info.map(|i| i.policies.clone()).unwrap_or_default(),
        chain,
    })
}

fn io(e: nix::Error) -> std::io::Error {
    std::io::Error::from_raw_os_error(e as i32)
}

/// Opens the netlink socket and binds the group (in the current thread's network namespace).
fn open(group: u16) -> std::io::Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkNetFilter,
    )
    .map_err(io)?;
    bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(io)?;
    setsockopt(&fd, sockopt::ReceiveTimeout, &TimeVal::new(0, 500_000)).map_err(io)?;
    // Old kernels (< 3.17) need the protocol families bound first; newer ones ignore it.
    for (seq, family) in [
        (1u32, libc_af(AddressFamily::Inet)),
        (2, libc_af(AddressFamily::Inet6)),
    ] {
        let msg = config_message(
            seq,
            family,
            0,
            &[(NFULA_CFG_CMD, vec![NFULNL_CFG_CMD_PF_BIND])],
        );
        send(fd.as_raw_fd(), &msg, MsgFlags::empty()).map_err(io)?;
    }
    let mut mode = COPY_RANGE.to_be_bytes().to_vec();
    mode.extend([NFULNL_COPY_PACKET, 0]);
    for (seq, attrs) in [
        (3u32, vec![(NFULA_CFG_CMD, vec![NFULNL_CFG_CMD_BIND])]),
        (4, vec![(NFULA_CFG_MODE, mode)]),
    ] {
        let msg = config_message(seq, 0, group, &attrs);
        send(fd.as_raw_fd(), &msg, MsgFlags::empty()).map_err(io)?;
    }
    // Acknowledgements: the bind (3) and mode (4) must succeed.
    let mut buf = vec![0u8; 8192];
    let mut acked = 0;
    for _ in 0..20 {
        let n = match recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Ok(n) => n,
            Err(nix::Error::EAGAIN) => break,
            Err(e) => return Err(io(e)),
        };
        for (ty, seq, payload) in messages(&buf[..n]) {
            if ty == NLMSG_ERROR && payload.len() >= 4 {
                let code = i32::from_ne_bytes([payload[0], payload[1], payload[2], payload[3]]);
                if seq >= 3 {
                    if code != 0 {
                        return Err(std::io::Error::from_raw_os_error(-code));
                    }
                    acked += 1;
                }
            }
        }
        if acked >= 2 {
            return Ok(fd);
        }
    }
    Err(std::io::Error::other(
        "the kernel did not acknowledge the NFLOG bind",
    ))
}

fn libc_af(f: AddressFamily) -> u8 {
    f as i32 as u8
}

/// Listens on `group` in a thread of its own (entering `netns`, a `/run/netns/NAME` path,
/// first), recording drops in `telemetry` until `stop` is set. Returns once the group is bound.
pub fn spawn(
    group: u16,
    netns: Option<PathBuf>,
    telemetry: Telemetry,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("nflog".into())
        .spawn(move || {
            let opened = (|| {
                if let Some(path) = &netns {
                    let f = std::fs::File::open(path)?;
                    nix::sched::setns(f.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                        .map_err(io)?;
                }
                open(group)
            })();
            let fd = match opened {
                Ok(fd) => {
                    let _ = ready_tx.send(Ok(()));
                    fd
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let mut buf = vec![0u8; 65536];
            while !stop.load(Ordering::Relaxed) {
                let n = match recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                    Ok(n) => n,
                    Err(nix::Error::EAGAIN | nix::Error::EINTR) => continue,
                    // The socket buffer overflowed: some drops were not logged.
                    Err(nix::Error::ENOBUFS) => continue,
                    Err(e) => {
                        tracing::warn!("reading NFLOG failed, drop logging stops: {e}");
                        return;
                    }
                };
                let ctx = telemetry.drop_context();
                for (ty, _, payload) in messages(&buf[..n]) {
                    if ty != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) {
                        continue;
                    }
                    let attrs = attributes(payload);
                    let prefix = attrs
                        .iter()
                        .find(|(t, _)| *t == NFULA_PREFIX)
                        .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
                    let packet = attrs
                        .iter()
                        .find(|(t, _)| *t == NFULA_PAYLOAD)
                        .and_then(|(_, v)| parse_packet(v));
                    if let (Some(prefix), Some(packet)) = (prefix, packet) {
                        if let Some(d) = drop_record(&prefix, &packet, &ctx) {
                            tracing::debug!(
                                direction = d.direction.as_str(),
                                pod = d.pod.as_deref().unwrap_or("?"),
                                peer = d.peer.as_str(),
                                "dropped {} {}",
                                d.protocol,
                                d.port.map(|p| p.to_string()).unwrap_or_default()
                            );
                            telemetry.record_drop(d);
                        }
                    }
                }
            }
        })?;
    match ready_rx.recv_timeout(Duration::from_secs(5)) {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(std::io::Error::other("the NFLOG listener did not start")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpol::enforce::ChainInfo;
    use netpol::model::Direction;
    use std::net::Ipv6Addr;

    fn tcp_v4(src: [u8; 4], dst: [u8; 4], dport: u16) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0];
        p.extend(src);
        p.extend(dst);
        p.extend(40000u16.to_be_bytes());
        p.extend(dport.to_be_bytes());
        p.extend([0u8; 16]);
        p
    }

    /// A captured packet from enforcer/tests/fixtures/packets (see its README).
    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/packets/{name}.hex",
            env!("CARGO_MANIFEST_DIR")
        );
        let hex = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let hex = hex.trim();
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn captured_packets_give_addresses_protocol_and_port() {
        // (fixture, source, destination, protocol, destination port)
        let cases = [
            (
                "tcp-syn-v4-to-8080",
                "10.99.0.1",
                "10.99.0.2",
                6,
                Some(8080),
            ),
            ("udp-v6-to-53", "fd99::1", "fd99::2", 17, Some(53)),
            (
                "udp-v4-first-fragment-to-5353",
                "10.99.0.1",
                "10.99.0.2",
                17,
                Some(5353),
            ),
            // A later fragment carries data where the port would be: no port.
            ("udp-v4-later-fragment", "10.99.0.1", "10.99.0.2", 17, None),
            (
                "udp-v6-first-fragment-to-5354",
                "fd99::1",
                "fd99::2",
                17,
                Some(5354),
            ),
            ("udp-v6-later-fragment", "fd99::1", "fd99::2", 17, None),
            ("icmp-v4-echo", "10.99.0.1", "10.99.0.2", 1, None),
            (
                "tcp-v4-behind-ah-to-8080",
                "10.99.0.1",
                "10.99.0.2",
                6,
                Some(8080),
            ),
        ];
        for (name, src, dst, protocol, port) in cases {
            let p = parse_packet(&fixture(name)).unwrap_or_else(|| panic!("{name}: unread"));
            assert_eq!(
                (p.src.to_string(), p.dst.to_string(), p.protocol, p.port),
                (src.to_string(), dst.to_string(), protocol, port),
                "{name}"
            );
        }
        // Behind a hop-by-hop header (MLD from a link-local address).
        let mld = parse_packet(&fixture("icmpv6-mld-behind-hop-by-hop")).unwrap();
        assert_eq!((mld.protocol, mld.port), (58, None));
        assert_eq!(mld.dst.to_string(), "ff02::16");
    }

    #[test]
    fn packets_are_read_for_addresses_and_ports() {
        let p = parse_packet(&tcp_v4([10, 0, 0, 1], [10, 0, 0, 2], 8080)).unwrap();
        assert_eq!(p.src.to_string(), "10.0.0.1");
        assert_eq!(p.dst.to_string(), "10.0.0.2");
        assert_eq!((p.protocol, p.port), (6, Some(8080)));
        // IPv6 UDP behind a hop-by-hop header.
        let mut v6 = vec![0x60, 0, 0, 0, 0, 16, 0, 64];
        v6.extend("fd00::1".parse::<Ipv6Addr>().unwrap().octets());
        v6.extend("fd00::2".parse::<Ipv6Addr>().unwrap().octets());
        v6.extend([17, 0, 0, 0, 0, 0, 0, 0]);
        v6.extend(5353u16.to_be_bytes());
        v6.extend(53u16.to_be_bytes());
        v6.extend([0, 8, 0, 0]);
        let p = parse_packet(&v6).unwrap();
        assert_eq!((p.protocol, p.port), (17, Some(53)));
        assert_eq!(p.dst.to_string(), "fd00::2");
        assert!(parse_packet(&[0x45, 0]).is_none());
        assert!(parse_packet(&[]).is_none());
    }

    #[test]
    fn drops_map_back_to_pod_direction_and_policies() {
        let mut ctx = DropContext::default();
        ctx.chains.insert(
            "NETPOL-I-abc".into(),
            ChainInfo {
                direction: Direction::Ingress,
                policies: vec!["x/deny-all".into()],
            },
        );
        ctx.pods_by_ip
            .insert("10.0.0.2".parse().unwrap(), "x/web".into());
        ctx.pods_by_ip
            .insert("10.0.0.1".parse().unwrap(), "y/client".into());
        let p = parse_packet(&tcp_v4([10, 0, 0, 1], [10, 0, 0, 2], 80)).unwrap();
        let d = drop_record("NPDROP NETPOL-I-abc\0", &p, &ctx).unwrap();
        assert_eq!(d.direction, "ingress");
        assert_eq!(d.pod.as_deref(), Some("x/web"));
        assert_eq!(d.peer, "y/client");
        assert_eq!(d.policies, ["x/deny-all"]);
        assert_eq!((d.protocol.as_str(), d.port), ("TCP", Some(80)));
        // Unknown chain (rules changed since): the name still tells the direction.
        let d = drop_record("NPDROP NETPOL-E-zzz", &p, &ctx).unwrap();
        assert_eq!(d.direction, "egress");
        assert_eq!(d.pod.as_deref(), Some("y/client"));
        assert!(drop_record("something else", &p, &ctx).is_none());
    }

    #[test]
    fn config_messages_are_well_formed() {
        let m = config_message(7, 0, 1742, &[(NFULA_CFG_CMD, vec![NFULNL_CFG_CMD_BIND])]);
        assert_eq!(m.len(), 16 + 4 + 8);
        assert_eq!(
            u32::from_ne_bytes(m[0..4].try_into().unwrap()) as usize,
            m.len()
        );
        assert_eq!(&m[18..20], &1742u16.to_be_bytes());
        let parsed = messages(&m);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].1, 7);
        assert_eq!(attributes(parsed[0].2), vec![(NFULA_CFG_CMD, &[1u8][..])]);
    }
}
