//! A tiny authoritative DNS responder for `serve --dns-record NAME=IP`.
//!
//! The zones are the parents of the configured names (`web.x.test` makes `x.test` a zone; a
//! single-label name is its own zone). Configured names get their A/AAAA records; other names
//! inside a zone get NXDOMAIN (or NODATA when a configured name lies below them); names outside
//! every zone get REFUSED. Names compare case-insensitively, with or without the trailing dot.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, Metadata, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;

use crate::log;

const TTL: u32 = 5;
/// The UDP payload we offer to EDNS clients (the DNS flag day 2020 value).
const EDNS_PAYLOAD: u16 = 1232;
/// The classic UDP limit for clients without EDNS.
const PLAIN_UDP_PAYLOAD: usize = 512;
/// How long an idle DNS-over-TCP connection is kept.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// A `--dns-record` whose name is not a DNS name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadName {
    pub name: String,
    pub message: String,
}

/// The records served, keyed by lower-case fully qualified name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Records {
    names: HashMap<Name, Vec<IpAddr>>,
    zones: Vec<Name>,
}

impl Records {
    /// Builds the record set; the error names the bad name.
    pub fn new(records: &[(String, IpAddr)]) -> Result<Self, BadName> {
        let mut out = Records::default();
        for (text, ip) in records {
            let name = normalize(text).map_err(|message| BadName {
                name: text.clone(),
                message,
            })?;
            let zone = if name.num_labels() > 1 {
                name.trim_to(usize::from(name.num_labels()) - 1)
            } else {
                name.clone()
            };
            if !out.zones.contains(&zone) {
                out.zones.push(zone);
            }
            let ips = out.names.entry(name).or_default();
            if !ips.contains(ip) {
                ips.push(*ip);
            }
        }
        Ok(out)
    }

    /// The reply to one wire-format request, or `None` when it deserves none (not a query,
    /// too short to carry an id). `udp` limits the size; a larger reply is truncated (TC).
    pub fn reply(&self, request: &[u8], udp: bool) -> Option<Vec<u8>> {
        let request = match Message::from_vec(request) {
            Ok(message) => message,
            Err(_) => {
                // Unparseable: answer FORMERR if there is at least a header to answer to.
                if request.len() < 12 {
                    return None;
                }
                let id = u16::from_be_bytes([request[0], request[1]]);
                return Message::error_msg(id, OpCode::Query, ResponseCode::FormErr)
                    .to_vec()
                    .ok();
            }
        };
        if request.metadata.message_type != MessageType::Query {
            return None;
        }
        let response = self.respond(&request);
        let bytes = response.to_vec().ok()?;
        let limit = match &request.edns {
            Some(edns) => usize::from(edns.max_payload().clamp(512, EDNS_PAYLOAD)),
            None => PLAIN_UDP_PAYLOAD,
        };
        if udp && bytes.len() > limit {
            return response.truncate().to_vec().ok();
        }
        Some(bytes)
    }

    fn respond(&self, request: &Message) -> Message {
        let mut response = Message::response(request.metadata.id, request.metadata.op_code);
        response.metadata = Metadata::response_from_request(&request.metadata);
        response.add_queries(request.queries.iter().cloned());
        if request.edns.is_some() {
            let mut edns = Edns::new();
            edns.set_max_payload(EDNS_PAYLOAD);
            response.set_edns(edns);
        }
        let rcode = match (request.metadata.op_code, request.queries.as_slice()) {
            (OpCode::Query, [query]) => self.answer(query, &mut response),
            (OpCode::Query, _) => ResponseCode::FormErr,
            _ => ResponseCode::NotImp,
        };
        response.metadata.response_code = rcode;
        response
    }

    fn answer(&self, query: &Query, response: &mut Message) -> ResponseCode {
        if query.query_class() != DNSClass::IN {
            return ResponseCode::Refused;
        }
        let name = query.name().to_lowercase();
        // The closest enclosing zone.
        let Some(zone) = self
            .zones
            .iter()
            .filter(|zone| zone.zone_of(&name))
            .max_by_key(|zone| zone.num_labels())
        else {
            return ResponseCode::Refused;
        };
        response.metadata.authoritative = true;
        if let Some(ips) = self.names.get(&name) {
            let wanted = query.query_type();
            for ip in ips {
                let matches = match ip {
                    IpAddr::V4(_) => matches!(wanted, RecordType::A | RecordType::ANY),
                    IpAddr::V6(_) => matches!(wanted, RecordType::AAAA | RecordType::ANY),
                };
                if matches {
                    response.add_answer(Record::from_rdata(
                        query.name().clone(),
                        TTL,
                        RData::from(*ip),
                    ));
                }
            }
            if response.answers.is_empty() {
                response.add_authority(soa(zone));
            }
            return ResponseCode::NoError;
        }
        response.add_authority(soa(zone));
        // A name with configured names below it exists, even without records of its own.
        if *zone == name || self.names.keys().any(|known| name.zone_of(known)) {
            ResponseCode::NoError
        } else {
            ResponseCode::NXDomain
        }
    }
}

/// Lower case, fully qualified.
pub(crate) fn normalize(text: &str) -> Result<Name, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "." {
        return Err("empty name".into());
    }
    let mut name = Name::from_utf8(trimmed).map_err(|err| err.to_string())?;
    name.set_fqdn(true);
    Ok(name.to_lowercase())
}

/// The SOA that goes with negative answers (its minimum is the negative-caching TTL).
fn soa(zone: &Name) -> Record {
    Record::from_rdata(
        zone.clone(),
        TTL,
        RData::SOA(SOA::new(zone.clone(), zone.clone(), 1, 60, 60, 60, TTL)),
    )
}

/// Answers DNS over UDP forever.
pub(crate) async fn serve_udp(socket: UdpSocket, records: Arc<Records>) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let (len, peer) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(err) => {
                log(&format!("dns/udp: receive: {err}"));
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // A UDP probe of port 53 itself (`NETPOL <nonce>`) is echoed like on any probed UDP
        // port, so a DNS pod answers both DNS queries and reachability probes on 53.
        let request = buf.get(..len).unwrap_or_default();
        let reply = if request.starts_with(crate::check::UDP_PROBE_PREFIX) {
            Some(request.to_vec())
        } else {
            records.reply(request, true)
        };
        if let Some(reply) = reply {
            if let Err(err) = socket.send_to(&reply, peer).await {
                log(&format!("dns/udp: reply to {peer}: {err}"));
            }
        }
    }
}

/// Answers DNS over TCP forever, one task per connection.
pub(crate) async fn serve_tcp(listener: TcpListener, records: Arc<Records>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, records.clone()));
                }
                Err(err) => {
                    log(&format!("dns/tcp: accept: {err}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Length-prefixed messages (RFC 1035 4.2.2) until the client closes or goes idle.
async fn serve_connection(mut stream: TcpStream, records: Arc<Records>) -> io::Result<()> {
    loop {
        let len = match tokio::time::timeout(TCP_IDLE, stream.read_u16()).await {
            Err(_) => return Ok(()),
            Ok(Err(err)) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(result) => result?,
        };
        let mut request = vec![0u8; usize::from(len)];
        tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut request))
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        let Some(reply) = records.reply(&request, false) else {
            continue;
        };
        let Ok(reply_len) = u16::try_from(reply.len()) else {
            continue;
        };
        let mut framed = Vec::with_capacity(reply.len() + 2);
        framed.extend_from_slice(&reply_len.to_be_bytes());
        framed.extend_from_slice(&reply);
        stream.write_all(&framed).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> Records {
        Records::new(&[
            ("Web.X.Test".into(), "10.0.0.1".parse().unwrap()),
            ("web.x.test.".into(), "fd00::1".parse().unwrap()),
            ("db.deep.x.test".into(), "10.0.0.2".parse().unwrap()),
            ("single".into(), "10.0.0.3".parse().unwrap()),
        ])
        .unwrap()
    }

    fn ask(records: &Records, name: &str, ty: RecordType) -> Message {
        let mut query = Message::query();
        query.metadata.id = 4242;
        query.add_query(Query::query(Name::from_utf8(name).unwrap(), ty));
        let reply = records
            .reply(&query.to_vec().unwrap(), true)
            .expect("a reply");
        let reply = Message::from_vec(&reply).unwrap();
        assert_eq!(reply.metadata.id, 4242);
        assert_eq!(reply.metadata.message_type, MessageType::Response);
        reply
    }

    fn addresses(message: &Message) -> Vec<String> {
        message
            .answers
            .iter()
            .map(|record| match &record.data {
                RData::A(a) => a.0.to_string(),
                RData::AAAA(aaaa) => aaaa.0.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn answers_configured_names_case_insensitively() {
        let records = records();
        let reply = ask(&records, "WEB.x.test.", RecordType::A);
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(reply.metadata.authoritative);
        assert_eq!(addresses(&reply), ["10.0.0.1"]);
        let reply = ask(&records, "web.x.test", RecordType::AAAA);
        assert_eq!(addresses(&reply), ["fd00::1"]);
        let reply = ask(&records, "single.", RecordType::A);
        assert_eq!(addresses(&reply), ["10.0.0.3"]);
    }

    #[test]
    fn nodata_for_other_types_and_empty_non_terminals() {
        let records = records();
        for (name, ty) in [
            ("web.x.test.", RecordType::MX),
            ("deep.x.test.", RecordType::A),
            ("x.test.", RecordType::A),
        ] {
            let reply = ask(&records, name, ty);
            assert_eq!(
                reply.metadata.response_code,
                ResponseCode::NoError,
                "{name}"
            );
            assert!(reply.answers.is_empty(), "{name}");
            assert_eq!(reply.authorities.len(), 1, "SOA for {name}");
        }
    }

    #[test]
    fn nxdomain_inside_the_zones_refused_outside() {
        let records = records();
        let reply = ask(&records, "other.x.test.", RecordType::A);
        assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
        assert!(reply.metadata.authoritative);
        let reply = ask(&records, "sub.web.x.test.", RecordType::A);
        assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
        let reply = ask(&records, "example.org.", RecordType::A);
        assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
        assert!(!reply.metadata.authoritative);
    }

    #[test]
    fn garbage_gets_formerr_or_nothing() {
        let records = records();
        assert_eq!(records.reply(&[], true), None);
        assert_eq!(records.reply(&[1], true), None);
        let mut junk = vec![0x12, 0x34];
        junk.extend_from_slice(&[0xff; 20]);
        let reply = Message::from_vec(&records.reply(&junk, true).unwrap()).unwrap();
        assert_eq!(reply.metadata.id, 0x1234);
        assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);
        // Responses are never answered.
        let mut response = Message::response(7, OpCode::Query);
        response.add_query(Query::query(
            Name::from_utf8("web.x.test.").unwrap(),
            RecordType::A,
        ));
        assert_eq!(records.reply(&response.to_vec().unwrap(), true), None);
    }

    #[test]
    fn rejects_bad_names() {
        assert!(Records::new(&[("".into(), "10.0.0.1".parse().unwrap())]).is_err());
        assert!(Records::new(&[("a..b".into(), "10.0.0.1".parse().unwrap())]).is_err());
    }

    #[test]
    fn truncates_large_udp_replies() {
        let many: Vec<(String, IpAddr)> = (0..60u8)
            .map(|i| ("big.x.test".to_string(), IpAddr::from([10, 1, 0, i])))
            .collect();
        let records = Records::new(&many).unwrap();
        let mut query = Message::query();
        query.add_query(Query::query(
            Name::from_utf8("big.x.test.").unwrap(),
            RecordType::A,
        ));
        let bytes = query.to_vec().unwrap();
        let udp = Message::from_vec(&records.reply(&bytes, true).unwrap()).unwrap();
        assert!(udp.metadata.truncation);
        assert!(udp.answers.is_empty());
        let tcp = Message::from_vec(&records.reply(&bytes, false).unwrap()).unwrap();
        assert!(!tcp.metadata.truncation);
        assert_eq!(tcp.answers.len(), 60);
    }
}
