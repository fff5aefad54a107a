//! Pods that sit on a Linux bridge (the bridge, flannel and kindnet-style CNIs) talk to each
//! other at layer 2: their packets cross iptables' FORWARD chain only when br_netfilter is
//! loaded and `net.bridge.bridge-nf-call-iptables` (and `-ip6tables`) is 1. Without that, the
//! enforcer would miss every connection between two pods of the same node.
//!
//! The agent cannot load a kernel module (it has no CAP_SYS_MODULE, on purpose), so a missing
//! br_netfilter is a warning in its status; a 0 it sets to 1. In a pod, /proc/sys is read-only:
//! the DaemonSet mounts the host's /proc/sys/net elsewhere (NETPOL_PROC_SYS_NET).

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct BridgeCheck {
    /// Where `net` sysctls are (`/proc/sys/net`, or the host's mounted elsewhere).
    pub proc_sys_net: PathBuf,
    /// Where the interfaces are (`/sys/class/net`).
    pub sys_class_net: PathBuf,
}

impl Default for BridgeCheck {
    fn default() -> Self {
        BridgeCheck {
            proc_sys_net: PathBuf::from("/proc/sys/net"),
            sys_class_net: PathBuf::from("/sys/class/net"),
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct BridgeReport {
    /// Bridges with at least one port.
    pub bridges: Vec<String>,
    /// What was changed, in words.
    pub changed: Vec<String>,
    /// What could not be fixed, in words.
    pub warnings: Vec<String>,
}

const KEYS: [&str; 2] = ["bridge-nf-call-iptables", "bridge-nf-call-ip6tables"];

impl BridgeCheck {
    /// Bridges that have ports (a bridge without ports carries no pod traffic).
    pub fn bridges(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.sys_class_net) else {
            return Vec::new();
        };
        let mut out: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().join("bridge").is_dir())
            .filter(|e| {
                std::fs::read_dir(e.path().join("brif"))
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(false)
            })
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        out.sort();
        out
    }

    /// Makes bridged pod traffic visible to iptables when there are bridges with ports.
    pub fn ensure(&self) -> BridgeReport {
        let mut report = BridgeReport {
            bridges: self.bridges(),
            ..Default::default()
        };
        if report.bridges.is_empty() {
            return report;
        }
        let dir = self.proc_sys_net.join("bridge");
        if !dir.is_dir() {
            report.warnings.push(format!(
                "br_netfilter is not loaded, so traffic between pods on bridge {} of this node \
                 bypasses iptables and policies between pods of the same node are NOT enforced: \
                 run `modprobe br_netfilter` on the node (and add it to /etc/modules-load.d)",
                report.bridges.join(", ")
            ));
            return report;
        }
        for key in KEYS {
            let path = dir.join(key);
            match std::fs::read_to_string(&path) {
                Ok(v) if v.trim() == "1" => {}
                Ok(_) => match std::fs::write(&path, "1\n") {
                    Ok(()) => report
                        .changed
                        .push(format!("set net.bridge.{key}=1 (pods sit behind a bridge)")),
                    Err(e) => report.warnings.push(format!(
                        "net.bridge.{key} is 0 and cannot be set ({}: {e}): traffic between \
                         pods of the same node is NOT enforced; set it on the node with sysctl",
                        path.display()
                    )),
                },
                Err(e) => report
                    .warnings
                    .push(format!("cannot read {}: {e}", path.display())),
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "netpol-bridge-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn sets_the_sysctl_only_when_pods_sit_behind_a_bridge() {
        let root = dir();
        let check = BridgeCheck {
            proc_sys_net: root.join("proc"),
            sys_class_net: root.join("sys"),
        };
        std::fs::create_dir_all(root.join("sys/eth0")).unwrap();
        std::fs::create_dir_all(root.join("sys/cni0/bridge")).unwrap();
        std::fs::create_dir_all(root.join("sys/cni0/brif")).unwrap();
        // A bridge without ports: nothing to do.
        assert_eq!(check.ensure(), BridgeReport::default());
        std::fs::create_dir_all(root.join("sys/cni0/brif/veth1")).unwrap();
        // br_netfilter not loaded: a warning.
        let r = check.ensure();
        assert_eq!(r.bridges, ["cni0"]);
        assert!(r.warnings[0].contains("modprobe br_netfilter"), "{r:?}");
        // Loaded but off: switched on.
        std::fs::create_dir_all(root.join("proc/bridge")).unwrap();
        for k in KEYS {
            std::fs::write(root.join("proc/bridge").join(k), "0\n").unwrap();
        }
        let r = check.ensure();
        assert_eq!(r.changed.len(), 2, "{r:?}");
        assert!(r.warnings.is_empty());
        for k in KEYS {
            assert_eq!(
                std::fs::read_to_string(root.join("proc/bridge").join(k)).unwrap(),
                "1\n"
            );
        }
        assert!(check.ensure().changed.is_empty());
        let _ = std::fs::remove_dir_all(root);
    }
}
