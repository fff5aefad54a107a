//! Everything a cluster probe asks of the API, behind one narrow trait, so that the run can be
//! driven by kube against a real cluster or by a test double (`netns`) on this host.

use k8s_openapi::api::core::v1::{ConfigMap, EphemeralContainer, Pod, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{
    Api, AttachParams, DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams,
};
use kube::Client;
use tokio::io::AsyncReadExt;

use crate::k8s::{failure_of, Failure};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoErrorKind {
    /// RBAC said no (403): the message names the verb and resource.
    Forbidden,
    /// A 403 that is not about RBAC: the namespace is being deleted, so nothing new may be
    /// created in it.
    NamespaceTerminating,
    NotFound,
    /// The server does not offer this (e.g. ephemeral containers before 1.23).
    Unsupported,
    /// Creating something that is already there.
    Conflict,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct IoError {
    pub kind: IoErrorKind,
    pub message: String,
}

impl IoError {
    pub fn new(kind: IoErrorKind, message: impl Into<String>) -> IoError {
        IoError {
            kind,
            message: message.into(),
        }
    }

    pub fn other(message: impl Into<String>) -> IoError {
        IoError::new(IoErrorKind::Other, message)
    }
}

/// What an exec printed, and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    /// None when the command exited 0; otherwise what the server said (exit code, reason).
    pub failure: Option<String>,
}

/// Where an ephemeral container is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EphemeralState {
    /// Not in the pod's status yet.
    Missing,
    /// Waiting (pulling the image, or an error such as ErrImagePull).
    Waiting(String),
    Running,
    Terminated {
        exit_code: i32,
        reason: String,
    },
}

/// The Kubernetes operations of a cluster probe. Each maps to one API call (or a small
/// sequence); the RBAC they need is in `manifests/rbac/probe-role.yaml`.
// The futures are not required to be Send: runs are driven on one thread.
#[allow(async_fn_in_trait)]
pub trait ClusterIo {
    /// The server's (major, minor) version.
    async fn server_version(&self) -> Result<(u32, u32), IoError>;
    async fn list_services(&self, namespace: &str) -> Result<Vec<Service>, IoError>;
    /// Creates the object and returns it as stored (with its uid).
    async fn create_config_map(&self, cm: &ConfigMap) -> Result<ConfigMap, IoError>;
    async fn create_pod(&self, pod: &Pod) -> Result<Pod, IoError>;
    async fn list_pods(&self, namespace: &str, selector: &str) -> Result<Vec<Pod>, IoError>;
    async fn logs(&self, namespace: &str, pod: &str, container: &str) -> Result<String, IoError>;
    /// Runs `argv` in the container (no stdin) and returns what it printed.
    async fn exec(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        argv: &[String],
    ) -> Result<ExecOutput, IoError>;
    async fn add_ephemeral_container(
        &self,
        namespace: &str,
        pod: &str,
        container: &EphemeralContainer,
    ) -> Result<(), IoError>;
    async fn ephemeral_state(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
    ) -> Result<EphemeralState, IoError>;
    /// Deletes every Pod and ConfigMap matching `selector` in `namespaces` (None: all of them),
    /// pods with a 1 s grace period, or at once with `force` (for pods stuck terminating).
    /// Returns how many deletions were requested.
    async fn delete_labelled(
        &self,
        namespaces: Option<&[String]>,
        selector: &str,
        force: bool,
    ) -> Result<usize, IoError>;
    /// The Pods and ConfigMaps matching `selector` that still exist, as `Kind ns/name`.
    async fn list_labelled(
        &self,
        namespaces: Option<&[String]>,
        selector: &str,
    ) -> Result<Vec<String>, IoError>;
    /// The NetworkPolicy as stored (None: there is none).
    async fn get_policy(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<NetworkPolicy>, IoError>;
    /// Server-side apply of a NetworkPolicy with field manager `kubectl-netpol` (forcing
    /// conflicts); returns once the API server has accepted it.
    async fn apply_policy(&self, policy: &NetworkPolicy) -> Result<(), IoError>;
    /// Deletes a NetworkPolicy (gone already is not an error).
    async fn delete_policy(&self, namespace: &str, name: &str) -> Result<(), IoError>;
    /// Runs `argv` in the container with `input` on its stdin, which stays open until the
    /// returned stream is dropped (then the command sees end of file); stdout arrives line by
    /// line as it is printed.
    async fn exec_stream(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        argv: &[String],
        input: &str,
    ) -> Result<LineStream, IoError>;
}

/// The output lines of a command started with [`ClusterIo::exec_stream`]; dropping it closes
/// the command's stdin.
pub struct LineStream {
    pub lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl LineStream {
    /// Forwards `stdout`'s lines until it ends or the stream is dropped, then runs `finish`
    /// (which closes the command's stdin and waits for or kills the command).
    pub fn forward(
        stdout: impl tokio::io::AsyncRead + Unpin + Send + 'static,
        finish: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> LineStream {
        use tokio::io::AsyncBufReadExt;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stdout).lines();
            loop {
                tokio::select! {
                    _ = &mut stop_rx => break,
                    l = lines.next_line() => match l {
                        Ok(Some(l)) => {
                            if tx.send(l).is_err() {
                                break;
                            }
                        }
                        _ => break,
                    },
                }
            }
            finish.await;
        });
        LineStream {
            lines: rx,
            stop: Some(stop_tx),
        }
    }
}

impl Drop for LineStream {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// The field manager of `probe --apply`'s server-side applies.
pub const FIELD_MANAGER: &str = "kubectl-netpol";

/// [`ClusterIo`] with kube.
#[derive(Clone)]
pub struct KubeIo {
    client: Client,
}

impl KubeIo {
    pub fn new(client: Client) -> KubeIo {
        KubeIo { client }
    }

    fn pods(&self, namespace: Option<&str>) -> Api<Pod> {
        match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        }
    }

    fn config_maps(&self, namespace: Option<&str>) -> Api<ConfigMap> {
        match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        }
    }
}

/// Turns a kube error into an [`IoError`] that says what was being done.
pub fn kube_error(what: &str, e: kube::Error) -> IoError {
    let e = crate::k8s::ApiError::new(what, &e);
    let kind = match e.failure {
        Failure::NamespaceTerminating => IoErrorKind::NamespaceTerminating,
        Failure::Forbidden => IoErrorKind::Forbidden,
        Failure::NotFound => IoErrorKind::NotFound,
        Failure::Unsupported => IoErrorKind::Unsupported,
        Failure::Conflict => IoErrorKind::Conflict,
        Failure::Transient | Failure::Other => IoErrorKind::Other,
    };
    IoError::new(kind, e.to_string())
}

fn status_failure(s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Status) -> Option<String> {
    if s.status.as_deref() == Some("Success") {
        return None;
    }
    let code = s
        .details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|c| c.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
        .and_then(|c| c.message.clone())
        .map(|m| format!(" (exit code {m})"))
        .unwrap_or_default();
    Some(format!("{}{code}", s.message.clone().unwrap_or_default()))
}

impl ClusterIo for KubeIo {
    async fn server_version(&self) -> Result<(u32, u32), IoError> {
        let info = self
            .client
            .apiserver_version()
            .await
            .map_err(|e| kube_error("reading the server version", e))?;
        let num = |s: &str| -> u32 {
            s.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        };
        Ok((num(&info.major), num(&info.minor)))
    }

    async fn list_services(&self, namespace: &str) -> Result<Vec<Service>, IoError> {
        let api: Api<Service> = Api::namespaced(self.client.clone(), namespace);
        api.list(&ListParams::default())
            .await
            .map(|l| l.items)
            .map_err(|e| kube_error(&format!("listing services in {namespace}"), e))
    }

    async fn create_config_map(&self, cm: &ConfigMap) -> Result<ConfigMap, IoError> {
        let ns = cm.metadata.namespace.as_deref();
        self.config_maps(ns)
            .create(&PostParams::default(), cm)
            .await
            .map_err(|e| kube_error(&format!("creating configmap in {}", ns.unwrap_or("")), e))
    }

    async fn create_pod(&self, pod: &Pod) -> Result<Pod, IoError> {
        let ns = pod.metadata.namespace.as_deref();
        self.pods(ns)
            .create(&PostParams::default(), pod)
            .await
            .map_err(|e| kube_error(&format!("creating a pod in {}", ns.unwrap_or("")), e))
    }

    async fn list_pods(&self, namespace: &str, selector: &str) -> Result<Vec<Pod>, IoError> {
        self.pods(Some(namespace))
            .list(&ListParams::default().labels(selector))
            .await
            .map(|l| l.items)
            .map_err(|e| kube_error(&format!("listing pods in {namespace}"), e))
    }

    async fn logs(&self, namespace: &str, pod: &str, container: &str) -> Result<String, IoError> {
        self.pods(Some(namespace))
            .logs(
                pod,
                &LogParams {
                    container: Some(container.to_string()),
                    ..LogParams::default()
                },
            )
            .await
            .map_err(|e| kube_error(&format!("reading the log of {namespace}/{pod}"), e))
    }

    async fn exec(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        argv: &[String],
    ) -> Result<ExecOutput, IoError> {
        let what = format!("exec in {namespace}/{pod}");
        let params = AttachParams::default()
            .container(container)
            .stdin(false)
            .stdout(true)
            .stderr(true)
            .max_stdout_buf_size(1 << 20)
            .max_stderr_buf_size(1 << 16);
        let mut process = self
            .pods(Some(namespace))
            .exec(pod, argv.to_vec(), &params)
            .await
            .map_err(|e| kube_error(&what, e))?;
        let status = process.take_status();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        match (process.stdout(), process.stderr()) {
            (Some(mut o), Some(mut e)) => {
                let (ro, re) = tokio::join!(o.read_to_end(&mut out), e.read_to_end(&mut err));
                ro.and(re)
                    .map_err(|e| IoError::other(format!("{what}: reading the output: {e}")))?;
            }
            _ => return Err(IoError::other(format!("{what}: no output streams"))),
        }
        let status = match status {
            Some(s) => s.await,
            None => None,
        };
        let joined = process.join().await;
        let failure = match (&status, joined) {
            (Some(s), _) => status_failure(s),
            (None, Err(e)) => Some(format!("the exec stream failed: {e}")),
            (None, Ok(())) => None,
        };
        Ok(ExecOutput {
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: String::from_utf8_lossy(&err).into_owned(),
            failure,
        })
    }

    async fn add_ephemeral_container(
        &self,
        namespace: &str,
        pod: &str,
        container: &EphemeralContainer,
    ) -> Result<(), IoError> {
        // A strategic merge patch appends to the list (ephemeralContainers merge by name).
        let patch = serde_json::json!({"spec": {"ephemeralContainers": [container]}});
        self.pods(Some(namespace))
            .patch_ephemeral_containers(pod, &PatchParams::default(), &Patch::Strategic(patch))
            .await
            .map(|_| ())
            .map_err(|e| {
                let mut err = kube_error(
                    &format!("adding an ephemeral container to {namespace}/{pod}"),
                    e,
                );
                if err.kind == IoErrorKind::NotFound && !err.message.contains("pods \"") {
                    err.kind = IoErrorKind::Unsupported;
                }
                err
            })
    }

    async fn ephemeral_state(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
    ) -> Result<EphemeralState, IoError> {
        let p = self
            .pods(Some(namespace))
            .get(pod)
            .await
            .map_err(|e| kube_error(&format!("reading {namespace}/{pod}"), e))?;
        let Some(cs) = p
            .status
            .and_then(|s| s.ephemeral_container_statuses)
            .and_then(|v| v.into_iter().find(|c| c.name == container))
        else {
            return Ok(EphemeralState::Missing);
        };
        let state = cs.state.unwrap_or_default();
        Ok(if let Some(t) = state.terminated {
            EphemeralState::Terminated {
                exit_code: t.exit_code,
                reason: t.reason.unwrap_or_default(),
            }
        } else if state.running.is_some() {
            EphemeralState::Running
        } else {
            let w = state.waiting.unwrap_or_default();
            EphemeralState::Waiting(
                [w.reason, w.message]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": "),
            )
        })
    }

    async fn delete_labelled(
        &self,
        namespaces: Option<&[String]>,
        selector: &str,
        force: bool,
    ) -> Result<usize, IoError> {
        let namespaces = match namespaces {
            Some(n) => n.to_vec(),
            None => self.labelled_namespaces(selector).await?,
        };
        let lp = ListParams::default().labels(selector);
        let dp = DeleteParams {
            grace_period_seconds: Some(if force { 0 } else { 1 }),
            propagation_policy: Some(kube::api::PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        // All namespaces and both kinds at once: the user waits for the slowest, not the sum.
        let deletes = namespaces.iter().map(|ns| {
            let (dp, lp) = (&dp, &lp);
            async move {
                let (pod_api, cm_api) = (self.pods(Some(ns)), self.config_maps(Some(ns)));
                let (pods, cms) = futures::join!(
                    pod_api.delete_collection(dp, lp),
                    cm_api.delete_collection(dp, lp)
                );
                let pods =
                    pods.map_err(|e| kube_error(&format!("deleting prober pods in {ns}"), e))?;
                let cms = cms.map_err(|e| {
                    kube_error(&format!("deleting the run's configmaps in {ns}"), e)
                })?;
                Ok::<usize, IoError>(
                    pods.left().map(|l| l.items.len()).unwrap_or(0)
                        + cms.left().map(|l| l.items.len()).unwrap_or(0),
                )
            }
        });
        let count = futures::future::try_join_all(deletes)
            .await?
            .into_iter()
            .sum();
        Ok(count)
    }

    async fn list_labelled(
        &self,
        namespaces: Option<&[String]>,
        selector: &str,
    ) -> Result<Vec<String>, IoError> {
        let lp = ListParams::default().labels(selector);
        let scopes: Vec<Option<&str>> = match namespaces {
            Some(n) => n.iter().map(|s| Some(s.as_str())).collect(),
            None => vec![None],
        };
        let mut out = Vec::new();
        for ns in scopes {
            let pods = self
                .pods(ns)
                .list(&lp)
                .await
                .map_err(|e| kube_error("listing prober pods", e))?;
            for p in pods.items {
                out.push(format!(
                    "Pod {}/{}",
                    p.metadata.namespace.unwrap_or_default(),
                    p.metadata.name.unwrap_or_default()
                ));
            }
            let cms = self
                .config_maps(ns)
                .list(&lp)
                .await
                .map_err(|e| kube_error("listing the runs' configmaps", e))?;
            for c in cms.items {
                out.push(format!(
                    "ConfigMap {}/{}",
                    c.metadata.namespace.unwrap_or_default(),
                    c.metadata.name.unwrap_or_default()
                ));
            }
        }
        out.sort();
        Ok(out)
    }

    async fn get_policy(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<NetworkPolicy>, IoError> {
        let api: Api<NetworkPolicy> = Api::namespaced(self.client.clone(), namespace);
        api.get_opt(name)
            .await
            .map_err(|e| kube_error(&format!("reading networkpolicy {namespace}/{name}"), e))
    }

    async fn apply_policy(&self, policy: &NetworkPolicy) -> Result<(), IoError> {
        let ns = policy.metadata.namespace.clone().unwrap_or_default();
        let name = policy.metadata.name.clone().unwrap_or_default();
        let api: Api<NetworkPolicy> = Api::namespaced(self.client.clone(), &ns);
        let mut obj = policy.clone();
        obj.metadata.managed_fields = None;
        obj.metadata.resource_version = None;
        obj.metadata.uid = None;
        obj.metadata.creation_timestamp = None;
        obj.metadata.generation = None;
        let mut value = serde_json::to_value(&obj)
            .map_err(|e| IoError::other(format!("networkpolicy {ns}/{name}: {e}")))?;
        value["apiVersion"] = "networking.k8s.io/v1".into();
        value["kind"] = "NetworkPolicy".into();
        api.patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(value),
        )
        .await
        .map(|_| ())
        .map_err(|e| kube_error(&format!("applying networkpolicy {ns}/{name}"), e))
    }

    async fn delete_policy(&self, namespace: &str, name: &str) -> Result<(), IoError> {
        let api: Api<NetworkPolicy> = Api::namespaced(self.client.clone(), namespace);
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(e) if failure_of(&e) == Failure::NotFound => Ok(()),
            Err(e) => Err(kube_error(
                &format!("deleting networkpolicy {namespace}/{name}"),
                e,
            )),
        }
    }

    async fn exec_stream(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        argv: &[String],
        input: &str,
    ) -> Result<LineStream, IoError> {
        use tokio::io::AsyncWriteExt;
        let what = format!("exec in {namespace}/{pod}");
        let params = AttachParams::default()
            .container(container)
            .stdin(true)
            .stdout(true)
            .stderr(false);
        let mut process = self
            .pods(Some(namespace))
            .exec(pod, argv.to_vec(), &params)
            .await
            .map_err(|e| kube_error(&what, e))?;
        let mut stdin = process
            .stdin()
            .ok_or_else(|| IoError::other(format!("{what}: no stdin")))?;
        let stdout = process
            .stdout()
            .ok_or_else(|| IoError::other(format!("{what}: no stdout")))?;
        stdin
            .write_all(input.as_bytes())
            .await
            .map_err(|e| IoError::other(format!("{what}: writing stdin: {e}")))?;
        Ok(LineStream::forward(stdout, async move {
            // End of file on the command's stdin: the streaming prober stops.
            drop(stdin);
            let _ = process.join().await;
        }))
    }
}

impl KubeIo {
    /// Namespaces holding any Pod or ConfigMap with the selector (deletecollection is
    /// per namespace).
    async fn labelled_namespaces(&self, selector: &str) -> Result<Vec<String>, IoError> {
        let mut out: Vec<String> = self
            .list_labelled(None, selector)
            .await?
            .into_iter()
            .filter_map(|s| {
                s.split_once(' ')
                    .and_then(|(_, r)| r.split_once('/'))
                    .map(|(ns, _)| ns.to_string())
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(
            serde_json::from_value(serde_json::json!({
                "status": "Failure", "message": message, "reason": "Forbidden", "code": code
            }))
            .unwrap(),
        )
    }

    #[test]
    fn a_terminating_namespace_is_not_an_rbac_problem() {
        let e = kube_error(
            "creating pod payments/netpol-probe-x-0",
            api(403, "pods \"netpol-probe-x-0\" is forbidden: unable to create new content in namespace payments because it is being terminated"),
        );
        assert_eq!(e.kind, IoErrorKind::NamespaceTerminating);
        let e = kube_error(
            "creating pod payments/netpol-probe-x-0",
            api(403, "pods is forbidden: User \"bob\" cannot create resource \"pods\" in API group \"\" in the namespace \"payments\""),
        );
        assert_eq!(e.kind, IoErrorKind::Forbidden);
    }
}
