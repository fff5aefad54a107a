//! Which iptables: the image carries both the nft and the legacy variant, and the agent must use
//! the one the node (kube-proxy, the CNI) uses, or its rules would sit in a table the kernel
//! evaluates separately. Like kube-proxy's iptables-wrapper: look for kubelet/kube-proxy's
//! marker chains, else pick the variant that holds more rules.

use netpol::enforce::apply::ApplyError;
use netpol::enforce::Runner;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Detect (nft unless the node's rules are in legacy iptables).
    Auto,
    Nft,
    Legacy,
    /// Whatever `iptables` is on PATH.
    System,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Nft => "nft",
            Backend::Legacy => "legacy",
            Backend::System => "system",
        }
    }

    /// The program to run for `program` (`iptables-restore` → `iptables-nft-restore`).
    pub fn program(self, program: &str) -> String {
        let suffix = match self {
            Backend::Nft => "nft",
            Backend::Legacy => "legacy",
            Backend::Auto | Backend::System => return program.to_string(),
        };
        for base in ["ip6tables", "iptables"] {
            if let Some(rest) = program.strip_prefix(base) {
                if rest.is_empty() || rest.starts_with('-') {
                    return format!("{base}-{suffix}{rest}");
                }
            }
        }
        program.to_string()
    }
}

/// Runs the chosen variant of iptables; everything else unchanged.
#[derive(Debug, Clone)]
pub struct BackendRunner<R> {
    pub inner: R,
    pub backend: Backend,
}

impl<R: Runner> Runner for BackendRunner<R> {
    fn run(&self, program: &str, args: &[&str], stdin: Option<&str>) -> Result<String, ApplyError> {
        self.inner.run(&self.backend.program(program), args, stdin)
    }
}

/// Chains kubelet and kube-proxy create so that others can tell which variant they use.
const HINTS: [&str; 2] = ["KUBE-IPTABLES-HINT", "KUBE-KUBELET-CANARY"];

/// Picks nft or legacy for this node.
pub fn detect<R: Runner>(runner: &R) -> Backend {
    let save = |b: Backend, table: &str| {
        runner
            .run(&b.program("iptables-save"), &["-t", table], None)
            .ok()
    };
    for b in [Backend::Nft, Backend::Legacy] {
        if save(b, "mangle").is_some_and(|t| HINTS.iter().any(|h| t.contains(h))) {
            return b;
        }
    }
    let count = |b: Backend| {
        ["filter", "nat"]
            .iter()
            .filter_map(|t| save(b, t))
            .map(|t| t.lines().filter(|l| l.starts_with("-A ")).count())
            .sum::<usize>()
    };
    if count(Backend::Legacy) > count(Backend::Nft) {
        Backend::Legacy
    } else {
        Backend::Nft
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn programs_are_renamed_per_variant() {
        assert_eq!(
            Backend::Nft.program("iptables-restore"),
            "iptables-nft-restore"
        );
        assert_eq!(Backend::Legacy.program("ip6tables"), "ip6tables-legacy");
        assert_eq!(
            Backend::Legacy.program("ip6tables-save"),
            "ip6tables-legacy-save"
        );
        assert_eq!(Backend::Nft.program("ipset"), "ipset");
        assert_eq!(Backend::System.program("iptables"), "iptables");
    }

    struct Fake(HashMap<&'static str, &'static str>);

    impl Runner for Fake {
        fn run(&self, program: &str, args: &[&str], _: Option<&str>) -> Result<String, ApplyError> {
            let key = format!("{program} {}", args.join(" "));
            self.0
                .iter()
                .find(|(k, _)| **k == key)
                .map(|(_, v)| v.to_string())
                .ok_or(ApplyError {
                    program: program.into(),
                    args: args.join(" "),
                    message: "no".into(),
                })
        }
    }

    #[test]
    fn detects_the_variant_the_node_uses() {
        let legacy_hint = Fake(HashMap::from([(
            "iptables-legacy-save -t mangle",
            ":KUBE-IPTABLES-HINT - [0:0]\n",
        )]));
        assert_eq!(detect(&legacy_hint), Backend::Legacy);
        let more_legacy = Fake(HashMap::from([
            (
                "iptables-legacy-save -t filter",
                "-A FORWARD -j X\n-A X -j ACCEPT\n",
            ),
            ("iptables-nft-save -t filter", "-A FORWARD -j X\n"),
        ]));
        assert_eq!(detect(&more_legacy), Backend::Legacy);
        assert_eq!(detect(&Fake(HashMap::new())), Backend::Nft);
    }
}
