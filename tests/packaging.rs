//! Packaging: the krew manifest template, the release profile and the workflows say what the
//! release and CI rely on.

use std::path::PathBuf;

fn read(path: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn krew_template_fills_into_a_manifest() {
    let template = read("krew/netpol.yaml");
    // What release.yml does: fill the placeholders, drop the comment lines.
    let filled: String = template
        .replace("{{VERSION}}", "v1.2.3")
        .replace("{{SHA256_LINUX_AMD64}}", &"a".repeat(64))
        .replace("{{SHA256_LINUX_ARM64}}", &"b".repeat(64))
        .replace("{{SHA256_DARWIN_AMD64}}", &"c".repeat(64))
        .replace("{{SHA256_DARWIN_ARM64}}", &"d".repeat(64))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !filled.contains("{{"),
        "a placeholder the workflow does not fill:\n{filled}"
    );
    let m: serde_yaml::Value = serde_yaml::from_str(&filled).unwrap();
    assert_eq!(m["kind"], "Plugin");
    assert_eq!(m["metadata"]["name"], "netpol");
    assert_eq!(m["spec"]["version"], "v1.2.3");
    let platforms = m["spec"]["platforms"].as_sequence().unwrap();
    let mut seen = Vec::new();
    for p in platforms {
        let (os, arch) = (
            p["selector"]["matchLabels"]["os"].as_str().unwrap(),
            p["selector"]["matchLabels"]["arch"].as_str().unwrap(),
        );
        let uri = p["uri"].as_str().unwrap();
        assert!(
            uri.ends_with(&format!("/v1.2.3/kubectl-netpol_v1.2.3_{os}_{arch}.tar.gz")),
            "{uri}"
        );
        assert_eq!(p["sha256"].as_str().unwrap().len(), 64);
        assert_eq!(p["bin"], "kubectl-netpol");
        seen.push(format!("{os}_{arch}"));
    }
    seen.sort();
    assert_eq!(
        seen,
        ["darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64"]
    );
    // Every platform is built and every placeholder is filled by the release workflow.
    let release = read(".github/workflows/release.yml");
    for platform in &seen {
        assert!(
            release.contains(&format!("platform: {platform}")),
            "release.yml does not build {platform}"
        );
        let placeholder = format!("{{{{SHA256_{}}}}}", platform.to_uppercase());
        assert!(
            template.contains(&placeholder) && release.contains(&placeholder),
            "{placeholder}"
        );
    }
}

#[test]
fn release_builds_archives_and_both_images() {
    let release = read(".github/workflows/release.yml");
    assert!(release.contains("tags: [\"v*\"]"));
    for needle in [
        "prober/Dockerfile",
        "enforcer/Dockerfile",
        "docker/build-push-action",
        "shasum -a 256",
        "--release --locked",
        "krew/netpol.yaml",
    ] {
        assert!(release.contains(needle), "release.yml lacks {needle}");
    }
    let cargo = read("Cargo.toml");
    let profile = cargo
        .split("[profile.release]")
        .nth(1)
        .expect("a release profile");
    assert!(
        profile.contains("lto = true") && profile.contains("strip = true"),
        "{profile}"
    );
}

#[test]
fn ci_runs_what_ci_run_runs() {
    let ci = read(".github/workflows/ci.yml");
    assert!(ci.contains("bash .ci/run"), "ci.yml must run .ci/run");
    assert!(read(".ci/run").contains("cargo test"));
}
