//! Pod start waits for the enforcer: a chained CNI plugin whose ADD returns only once the agent
//! has placed the new pod under its policies (as Calico's plugin waits for Felix).
//!
//! Three parts:
//! - the plugin itself ([`plugin_main`]): this same binary, run by the container runtime with
//!   `CNI_COMMAND` set; it passes the previous plugin's result through unchanged and, on ADD,
//!   asks the agent over a unix socket to place the pod's addresses, waiting for the answer;
//! - the socket server ([`serve`]): turns each ADD into a [`PlaceRequest`] for the agent loop;
//! - chaining ([`CniChain`]): at start the agent copies itself into the node's CNI bin dir and
//!   appends the plugin to the conflist the runtime uses (keeping the original bytes beside it);
//!   on shutdown it puts the original bytes back, so uninstalling leaves the file as it was.
//!
//! The plugin never fails a pod: without an agent, or past its timeout, it lets the ADD succeed,
//! and the hold (`NETPOL-HOLD`) keeps the pod's traffic dropped until the agent places it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::IpAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

/// The plugin's `type` in the conflist, and its file name in the CNI bin dir.
pub const PLUGIN_TYPE: &str = "netpol-enforcer";
/// Where the agent listens (a hostPath shared by the agent and the node's runtime).
pub const DEFAULT_SOCKET: &str = "/run/netpol-enforcer/cni.sock";
/// The original conflist is kept beside it under its name plus this (an extension libcni
/// does not load).
pub const BACKUP_SUFFIX: &str = ".netpol-enforcer-orig";
/// How long an ADD waits for the agent before letting the pod start held.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the plugin asks the agent: place this pod, whose sandbox has these addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceMessage {
    pub namespace: String,
    pub name: String,
    pub ips: Vec<IpAddr>,
}

/// The agent's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceReply {
    pub placed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One ADD waiting in the agent loop; the reply says whether the pod is placed.
#[derive(Debug)]
pub struct PlaceRequest {
    /// `namespace/name`.
    pub pod: String,
    pub ips: Vec<IpAddr>,
    pub reply: oneshot::Sender<Result<(), String>>,
}

// ---------------------------------------------------------------------------------------------
// The plugin

/// Whether this process was started by a container runtime as a CNI plugin.
pub fn invoked_as_plugin() -> bool {
    std::env::var_os("CNI_COMMAND").is_some()
}

/// `K8S_POD_NAMESPACE` and `K8S_POD_NAME` from `CNI_ARGS` (`K=V;K=V`).
fn pod_from_args(args: &str) -> Option<(String, String)> {
    let get = |key: &str| {
        args.split(';')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    };
    Some((get("K8S_POD_NAMESPACE")?, get("K8S_POD_NAME")?))
}

/// The addresses of the previous plugin's result (`ips[].address`, CIDR form).
fn result_ips(prev: &Value) -> Vec<IpAddr> {
    prev.get("ips")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| i.get("address")?.as_str())
        .filter_map(|a| a.split('/').next()?.parse().ok())
        .collect()
}

/// Asks the agent at `socket` to place the pod; Ok once it says so.
pub fn ask_agent(socket: &Path, msg: &PlaceMessage, timeout: Duration) -> Result<(), String> {
    let stream = UnixStream::connect(socket)
        .map_err(|e| format!("cannot reach the agent at {}: {e}", socket.display()))?;
    stream.set_read_timeout(Some(timeout)).ok();
    stream.set_write_timeout(Some(timeout)).ok();
    let mut line = serde_json::to_string(msg).map_err(|e| e.to_string())?;
    line.push('\n');
    (&stream)
        .write_all(line.as_bytes())
        .map_err(|e| format!("cannot write to the agent: {e}"))?;
    let mut answer = String::new();
    BufReader::new(&stream)
        .read_line(&mut answer)
        .map_err(|e| format!("no answer from the agent within {timeout:?}: {e}"))?;
    let reply: PlaceReply = serde_json::from_str(answer.trim())
        .map_err(|e| format!("the agent answered {answer:?}: {e}"))?;
    if reply.placed {
        Ok(())
    } else {
        Err(reply.reason.unwrap_or_else(|| "not placed".into()))
    }
}

/// What one CNI invocation prints and how it exits. Pure apart from asking the agent, so the
/// protocol is unit-tested.
fn handle(
    command: &str,
    args: &str,
    conf: &str,
    ask: impl Fn(&Path, &PlaceMessage, Duration) -> Result<(), String>,
) -> (String, String, u8) {
    let error = |code: u32, msg: &str| {
        let out = json!({"cniVersion": "1.0.0", "code": code, "msg": msg});
        (out.to_string(), String::new(), 1u8)
    };
    match command {
        "VERSION" => {
            let out = json!({
                "cniVersion": "1.0.0",
                "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
            });
            (out.to_string(), String::new(), 0)
        }
        "ADD" => {
            let conf: Value = match serde_json::from_str(conf) {
                Ok(v) => v,
                Err(e) => return error(6, &format!("the network configuration is not JSON: {e}")),
            };
            let Some(prev) = conf.get("prevResult").cloned() else {
                return error(
                    7,
                    "netpol-enforcer is a chained plugin: it needs a previous plugin's result (prevResult)",
                );
            };
            let mut result = prev.clone();
            if let (Some(o), Some(v)) = (result.as_object_mut(), conf.get("cniVersion")) {
                o.insert("cniVersion".into(), v.clone());
            }
            let socket = conf
                .get("socket")
                .and_then(Value::as_str)
                .unwrap_or(DEFAULT_SOCKET);
            let timeout = conf
                .get("timeoutSeconds")
                .and_then(Value::as_f64)
                .filter(|s| *s > 0.0)
                .map(Duration::from_secs_f64)
                .unwrap_or(DEFAULT_TIMEOUT);
            let ips = result_ips(&prev);
            let log = match pod_from_args(args) {
                Some((namespace, name)) if !ips.is_empty() => {
                    let msg = PlaceMessage {
                        namespace,
                        name,
                        ips,
                    };
                    match ask(Path::new(socket), &msg, timeout) {
                        Ok(()) => String::new(),
                        // The hold keeps the pod's traffic dropped until the agent places it.
                        Err(e) => format!(
                            "netpol-enforcer: {}/{} starts unplaced (held until the agent places it): {e}\n",
                            msg.namespace, msg.name
                        ),
                    }
                }
                _ => String::new(),
            };
            (result.to_string(), log, 0)
        }
        // Nothing of ours to delete, check or collect: the agent follows pods through the API.
        "DEL" | "CHECK" | "GC" | "STATUS" => (String::new(), String::new(), 0),
        other => error(4, &format!("unknown CNI_COMMAND {other:?}")),
    }
}

/// The plugin's entry point (this binary with `CNI_COMMAND` set).
pub fn plugin_main() -> ExitCode {
    let command = std::env::var("CNI_COMMAND").unwrap_or_default();
    let args = std::env::var("CNI_ARGS").unwrap_or_default();
    let mut conf = String::new();
    if command != "VERSION" {
        let _ = std::io::stdin().read_to_string(&mut conf);
    }
    let (out, log, code) = handle(&command, &args, &conf, ask_agent);
    if !out.is_empty() {
        println!("{out}");
    }
    if !log.is_empty() {
        eprint!("{log}");
    }
    ExitCode::from(code)
}

// ---------------------------------------------------------------------------------------------
// The agent's socket

/// Answers each connection's ADD once the agent loop has placed the pod (or said why not).
pub async fn serve(listener: tokio::net::UnixListener, tx: mpsc::Sender<PlaceRequest>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut line = String::new();
            let mut reader = tokio::io::BufReader::new(read);
            if reader.read_line(&mut line).await.is_err() {
                return;
            }
            let reply = match serde_json::from_str::<PlaceMessage>(line.trim()) {
                Ok(msg) => {
                    let (reply, answer) = oneshot::channel();
                    let req = PlaceRequest {
                        pod: format!("{}/{}", msg.namespace, msg.name),
                        ips: msg.ips,
                        reply,
                    };
                    if tx.send(req).await.is_err() {
                        Err("the agent is stopping".to_string())
                    } else {
                        answer
                            .await
                            .unwrap_or_else(|_| Err("the agent is stopping".into()))
                    }
                }
                Err(e) => Err(format!("not a placement request: {e}")),
            };
            let reply = match reply {
                Ok(()) => PlaceReply {
                    placed: true,
                    reason: None,
                },
                Err(reason) => PlaceReply {
                    placed: false,
                    reason: Some(reason),
                },
            };
            if let Ok(mut text) = serde_json::to_string(&reply) {
                text.push('\n');
                let _ = write.write_all(text.as_bytes()).await;
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Chaining into the node's conflist

/// Where the node keeps its CNI configuration and plugins (as the agent's container sees them),
/// and the socket path the plugin is told (as the node sees it).
#[derive(Debug, Clone)]
pub struct CniChain {
    pub conf_dir: PathBuf,
    pub bin_dir: PathBuf,
    pub socket: PathBuf,
    pub timeout: Duration,
}

/// What [`CniChain::install`] did: the file it chained (to undo on shutdown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chained {
    pub conflist: PathBuf,
    /// The bytes written, to tell whether someone changed the file since.
    pub written: Vec<u8>,
}

/// The configuration file the runtime uses: the first `.conf`, `.conflist` or `.json` by name
/// (as libcni orders them).
pub fn active_config(conf_dir: &Path) -> Result<Option<PathBuf>, String> {
    let entries = std::fs::read_dir(conf_dir).map_err(|e| {
        format!(
            "cannot read the CNI configuration directory {}: {e}",
            conf_dir.display()
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("conf" | "conflist" | "json")
                )
        })
        .collect();
    files.sort();
    Ok(files.into_iter().next())
}

fn backup_path(conflist: &Path) -> PathBuf {
    let mut name = conflist.as_os_str().to_owned();
    name.push(BACKUP_SUFFIX);
    PathBuf::from(name)
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so the
/// runtime never reads half a file.
fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = path.with_extension("netpol-enforcer-tmp");
    std::fs::write(&tmp, bytes).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode));
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot replace {}: {e}", path.display())
    })
}

fn is_ours(plugin: &Value) -> bool {
    plugin.get("type").and_then(Value::as_str) == Some(PLUGIN_TYPE)
}

impl CniChain {
    /// The plugin entry this agent appends.
    fn entry(&self) -> Value {
        json!({
            "type": PLUGIN_TYPE,
            "socket": self.socket.to_string_lossy(),
            "timeoutSeconds": self.timeout.as_secs_f64(),
        })
    }

    /// Copies `exe` into the bin dir as the plugin and appends the plugin to the active
    /// conflist. Err (with the reason) when the node cannot be chained: then the hold alone
    /// protects new pods.
    pub fn install(&self, exe: &Path) -> Result<Chained, String> {
        let Some(conflist) = active_config(&self.conf_dir)? else {
            return Err(format!(
                "no CNI configuration in {} yet",
                self.conf_dir.display()
            ));
        };
        if conflist.extension().and_then(|e| e.to_str()) != Some("conflist") {
            return Err(format!(
                "{} is a single-plugin configuration, not a conflist: a plugin cannot be chained to it",
                conflist.display()
            ));
        }
        let bytes = std::fs::read(&conflist)
            .map_err(|e| format!("cannot read {}: {e}", conflist.display()))?;
        let backup = backup_path(&conflist);
        // After a crash the file may still hold our entry: start from the original then.
        let original = if contains_ours(&bytes) {
            match std::fs::read(&backup) {
                Ok(orig) => orig,
                Err(_) => without_ours(&bytes)?,
            }
        } else {
            bytes.clone()
        };
        let mut conf: Value = serde_json::from_slice(&original)
            .map_err(|e| format!("{} is not JSON: {e}", conflist.display()))?;
        let Some(plugins) = conf.get_mut("plugins").and_then(Value::as_array_mut) else {
            return Err(format!("{} has no plugins list", conflist.display()));
        };
        plugins.retain(|p| !is_ours(p));
        plugins.push(self.entry());
        let mut written = serde_json::to_vec_pretty(&conf).map_err(|e| e.to_string())?;
        written.push(b'\n');

        let target = self.bin_dir.join(PLUGIN_TYPE);
        let tmp = self.bin_dir.join(format!(".{PLUGIN_TYPE}.tmp"));
        std::fs::copy(exe, &tmp)
            .map_err(|e| format!("cannot copy the plugin to {}: {e}", tmp.display()))?;
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755));
        }
        std::fs::rename(&tmp, &target)
            .map_err(|e| format!("cannot install the plugin as {}: {e}", target.display()))?;

        write_atomically(&backup, &original, 0o644)?;
        write_atomically(&conflist, &written, mode_of(&conflist))?;
        Ok(Chained { conflist, written })
    }

    /// Undoes [`CniChain::install`]: the original bytes back (or, when someone rewrote the file
    /// since, only our entry removed), the backup and the plugin binary gone.
    pub fn uninstall(&self, chained: &Chained) -> Result<(), String> {
        let backup = backup_path(&chained.conflist);
        let current = std::fs::read(&chained.conflist).ok();
        match (current, std::fs::read(&backup)) {
            (Some(cur), Ok(orig)) if cur == chained.written => {
                write_atomically(&chained.conflist, &orig, mode_of(&chained.conflist))?;
            }
            (Some(cur), _) if contains_ours(&cur) => {
                let text = without_ours(&cur)?;
                write_atomically(&chained.conflist, &text, mode_of(&chained.conflist))?;
            }
            // Gone, or rewritten without us: nothing to undo in it.
            _ => {}
        }
        let _ = std::fs::remove_file(&backup);
        match std::fs::remove_file(self.bin_dir.join(PLUGIN_TYPE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!(
                "cannot remove the plugin from {}: {e}",
                self.bin_dir.display()
            )),
            _ => Ok(()),
        }
    }
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644)
}

/// The conflist with our entry taken out (formatting not kept).
fn without_ours(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut conf: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if let Some(plugins) = conf.get_mut("plugins").and_then(Value::as_array_mut) {
        plugins.retain(|p| !is_ours(p));
    }
    let mut text = serde_json::to_vec_pretty(&conf).map_err(|e| e.to_string())?;
    text.push(b'\n');
    Ok(text)
}

fn contains_ours(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| v.get("plugins").and_then(Value::as_array).cloned())
        .is_some_and(|ps| ps.iter().any(is_ours))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRIDGE: &str = r#"{
  "cniVersion": "0.4.0",
  "name": "pods",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.244.0.0/24"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
"#;

    fn chain(dir: &Path) -> CniChain {
        let conf_dir = dir.join("net.d");
        let bin_dir = dir.join("bin");
        std::fs::create_dir_all(&conf_dir).unwrap();
        std::fs::create_dir_all(&bin_dir).unwrap();
        CniChain {
            conf_dir,
            bin_dir,
            socket: PathBuf::from("/run/netpol-enforcer/cni.sock"),
            timeout: Duration::from_secs(5),
        }
    }

    fn exe(dir: &Path) -> PathBuf {
        let p = dir.join("exe");
        std::fs::write(&p, b"#!/bin/true\n").unwrap();
        p
    }

    #[test]
    fn chaining_appends_the_plugin_and_uninstall_restores_the_exact_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let c = chain(dir.path());
        let file = c.conf_dir.join("10-pods.conflist");
        std::fs::write(&file, BRIDGE).unwrap();
        std::fs::write(c.conf_dir.join("20-other.conflist"), BRIDGE).unwrap();
        let chained = c.install(&exe(dir.path())).unwrap();
        assert_eq!(
            chained.conflist, file,
            "the first file by name is the one in use"
        );
        let conf: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let plugins = conf["plugins"].as_array().unwrap();
        assert_eq!(plugins.len(), 3);
        assert_eq!(plugins[2]["type"], PLUGIN_TYPE);
        assert_eq!(plugins[2]["socket"], "/run/netpol-enforcer/cni.sock");
        assert!(c.bin_dir.join(PLUGIN_TYPE).exists());
        // The backup's extension is not one libcni loads.
        assert_eq!(active_config(&c.conf_dir).unwrap(), Some(file.clone()));
        // A second start (after a crash) does not chain twice.
        let again = c.install(&exe(dir.path())).unwrap();
        assert_eq!(again, chained);
        c.uninstall(&again).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), BRIDGE);
        let left: Vec<_> = std::fs::read_dir(&c.conf_dir).unwrap().collect();
        assert_eq!(left.len(), 2, "no backup left");
        assert!(!c.bin_dir.join(PLUGIN_TYPE).exists());
        // Uninstalling twice is harmless.
        c.uninstall(&again).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), BRIDGE);
    }

    #[test]
    fn a_file_rewritten_since_loses_only_our_entry() {
        let dir = tempfile::tempdir().unwrap();
        let c = chain(dir.path());
        let file = c.conf_dir.join("10-pods.conflist");
        std::fs::write(&file, BRIDGE).unwrap();
        let chained = c.install(&exe(dir.path())).unwrap();
        let mut conf: Value = serde_json::from_slice(&chained.written).unwrap();
        conf["name"] = json!("renamed");
        std::fs::write(&file, serde_json::to_vec(&conf).unwrap()).unwrap();
        c.uninstall(&chained).unwrap();
        let now: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(now["name"], "renamed");
        assert_eq!(now["plugins"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn nodes_that_cannot_be_chained_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let c = chain(dir.path());
        let e = c.install(&exe(dir.path())).unwrap_err();
        assert!(e.contains("no CNI configuration"), "{e}");
        std::fs::write(c.conf_dir.join("10-pods.conf"), r#"{"type":"bridge"}"#).unwrap();
        let e = c.install(&exe(dir.path())).unwrap_err();
        assert!(e.contains("single-plugin"), "{e}");
        let missing = CniChain {
            conf_dir: dir.path().join("nope"),
            ..c
        };
        assert!(missing.install(&exe(dir.path())).is_err());
    }

    #[test]
    fn the_plugin_passes_the_result_through_and_asks_the_agent() {
        let conf = json!({
            "cniVersion": "1.0.0", "name": "pods", "type": PLUGIN_TYPE,
            "socket": "/tmp/x.sock", "timeoutSeconds": 2,
            "prevResult": {"cniVersion": "1.0.0",
                "interfaces": [{"name": "eth0"}],
                "ips": [{"address": "10.244.0.7/24", "interface": 0}]}
        })
        .to_string();
        let args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=payments;K8S_POD_NAME=api-1;K8S_POD_INFRA_CONTAINER_ID=abc";
        let asked = std::sync::Mutex::new(None);
        let (out, log, code) = handle("ADD", args, &conf, |sock, msg, t| {
            *asked.lock().unwrap() = Some((sock.to_path_buf(), msg.clone(), t));
            Ok(())
        });
        assert_eq!(code, 0);
        assert!(log.is_empty());
        let result: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(result["ips"][0]["address"], "10.244.0.7/24");
        let (sock, msg, t) = asked.lock().unwrap().clone().unwrap();
        assert_eq!(sock, PathBuf::from("/tmp/x.sock"));
        assert_eq!(t, Duration::from_secs(2));
        assert_eq!(
            msg,
            PlaceMessage {
                namespace: "payments".into(),
                name: "api-1".into(),
                ips: vec!["10.244.0.7".parse().unwrap()]
            }
        );
        // No agent: the pod still starts (held), and the reason is logged.
        let (out2, log, code) = handle("ADD", args, &conf, |_, _, _| Err("no agent".into()));
        assert_eq!((out2, code), (out, 0));
        assert!(
            log.contains("payments/api-1") && log.contains("no agent"),
            "{log}"
        );
        // Not chained: a clear CNI error.
        let (out, _, code) = handle("ADD", args, r#"{"cniVersion":"1.0.0"}"#, |_, _, _| Ok(()));
        assert_eq!(code, 1);
        assert!(out.contains("prevResult"));
        assert_eq!(handle("DEL", args, &conf, |_, _, _| Ok(())).2, 0);
        assert!(handle("VERSION", "", "", |_, _, _| Ok(()))
            .0
            .contains("supportedVersions"));
    }

    #[test]
    fn the_socket_round_trip_places_through_the_agent_loop() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("cni.sock");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (tx, mut rx) = mpsc::channel(4);
        let listener = rt.block_on(async { tokio::net::UnixListener::bind(&sock).unwrap() });
        rt.spawn(serve(listener, tx));
        // The "agent loop": places everything in namespace ok, refuses the rest.
        rt.spawn(async move {
            while let Some(req) = rx.recv().await {
                let answer = if req.pod.starts_with("ok/") {
                    Ok(())
                } else {
                    Err(format!("{} is not on this node", req.pod))
                };
                let _ = req.reply.send(answer);
            }
        });
        let _guard = rt.enter();
        let worker = std::thread::spawn(move || {
            let msg = |ns: &str| PlaceMessage {
                namespace: ns.into(),
                name: "p".into(),
                ips: vec!["10.0.0.1".parse().unwrap()],
            };
            let ok = ask_agent(&sock, &msg("ok"), Duration::from_secs(5));
            let no = ask_agent(&sock, &msg("other"), Duration::from_secs(5));
            (ok, no)
        });
        let (ok, no) = rt.block_on(async {
            loop {
                if worker.is_finished() {
                    break worker.join().unwrap();
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        assert_eq!(ok, Ok(()));
        assert!(no.unwrap_err().contains("not on this node"));
    }
}
