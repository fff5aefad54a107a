//! What a policy port admits, in the terms a dataplane compiler needs: a protocol and a
//! destination port range, or a named port that each destination pod resolves for itself.
//! `Engine::port_matches` asks the same questions for one connection.

use crate::model::{ContainerPort, PolicyPort, PortSpec, Protocol};

/// Destination ports of one protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRange {
    pub protocol: Protocol,
    /// Inclusive first and last port; None: every port of the protocol.
    pub ports: Option<(u16, u16)>,
}

/// What one policy port admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortTarget<'p> {
    /// The same ports whatever the destination (a number, a number with `endPort`, or no port).
    Fixed(PortRange),
    /// A container port name: it means a number only on a destination pod that declares it
    /// for this protocol (see [`named_port`]), and may mean different numbers on different pods.
    Named { name: &'p str, protocol: Protocol },
}

/// The ports one policy port admits (the protocol defaults to TCP when the model is built).
pub fn port_target(port: &PolicyPort) -> PortTarget<'_> {
    let fixed = |ports| {
        PortTarget::Fixed(PortRange {
            protocol: port.protocol,
            ports,
        })
    };
    match &port.port {
        None => fixed(None),
        Some(PortSpec::Number(n)) => fixed(Some((*n, port.end_port.unwrap_or(*n)))),
        Some(PortSpec::Name(name)) => PortTarget::Named {
            name,
            protocol: port.protocol,
        },
    }
}

/// The number a named port means on a pod with these container ports: the first container
/// port with that name and protocol. None when the pod does not declare it.
pub fn named_port(ports: &[ContainerPort], name: &str, protocol: Protocol) -> Option<u16> {
    ports
        .iter()
        .find(|cp| cp.name.as_deref() == Some(name) && cp.protocol == protocol)
        .map(|cp| cp.port)
}

/// Every (protocol, number) a container port name means on a pod with these ports, in
/// declaration order: what a cluster policy's named port admits there.
pub fn named_ports_any_protocol(ports: &[ContainerPort], name: &str) -> Vec<PortRange> {
    ports
        .iter()
        .filter(|cp| cp.name.as_deref() == Some(name))
        .map(|cp| PortRange {
            protocol: cp.protocol,
            ports: Some((cp.port, cp.port)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(protocol: Protocol, port: Option<PortSpec>, end_port: Option<u16>) -> PolicyPort {
        PolicyPort {
            protocol,
            port,
            end_port,
        }
    }

    #[test]
    fn numbers_ranges_and_absent_ports_are_fixed() {
        let range = |protocol, ports| PortTarget::Fixed(PortRange { protocol, ports });
        assert_eq!(
            port_target(&port(Protocol::Udp, None, None)),
            range(Protocol::Udp, None)
        );
        assert_eq!(
            port_target(&port(Protocol::Tcp, Some(PortSpec::Number(80)), None)),
            range(Protocol::Tcp, Some((80, 80)))
        );
        assert_eq!(
            port_target(&port(Protocol::Sctp, Some(PortSpec::Number(80)), Some(90))),
            range(Protocol::Sctp, Some((80, 90)))
        );
        let named = port(Protocol::Tcp, Some(PortSpec::Name("http".into())), None);
        assert_eq!(
            port_target(&named),
            PortTarget::Named {
                name: "http",
                protocol: Protocol::Tcp
            }
        );
    }

    #[test]
    fn a_named_port_resolves_per_protocol_to_the_first_declaration() {
        let cp = |name: &str, port, protocol| ContainerPort {
            name: Some(name.into()),
            port,
            protocol,
        };
        let ports = [
            cp("dns", 53, Protocol::Udp),
            cp("dns", 5353, Protocol::Tcp),
            cp("dns", 54, Protocol::Udp),
        ];
        assert_eq!(named_port(&ports, "dns", Protocol::Udp), Some(53));
        assert_eq!(named_port(&ports, "dns", Protocol::Tcp), Some(5353));
        assert_eq!(named_port(&ports, "dns", Protocol::Sctp), None);
        assert_eq!(named_port(&ports, "http", Protocol::Tcp), None);
        let any: Vec<(Protocol, Option<(u16, u16)>)> = named_ports_any_protocol(&ports, "dns")
            .into_iter()
            .map(|r| (r.protocol, r.ports))
            .collect();
        assert_eq!(
            any,
            [
                (Protocol::Udp, Some((53, 53))),
                (Protocol::Tcp, Some((5353, 5353))),
                (Protocol::Udp, Some((54, 54)))
            ]
        );
    }
}
