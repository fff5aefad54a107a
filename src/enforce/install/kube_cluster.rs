//! [`EnforcerCluster`] over kube: server-side apply, deletes, the DaemonSet's rollout, the agent
//! pods, and the agents' HTTP port through the API server's pod proxy.

use crate::k8s::{failure_of, ApiError, Failure};
use std::time::Duration;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::Client;

use super::{
    AgentPod, EnforcerCluster, InstallError, Object, Rollout, Workload, FIELD_MANAGER, NAME,
    NAMESPACE, SELECTOR,
};
use crate::enforce::status::AGENT_PORT;

/// `$body` with `$api` the typed API of the object's kind (cluster-scoped, or in `$ns`) and
/// `$o` the object: one place that knows which kind lives where.
macro_rules! with_api {
    ($object:expr, $client:expr, $ns:expr, |$api:ident, $o:ident| $body:expr) => {
        match $object {
            Object::Namespace($o) => {
                let $api = Api::<Namespace>::all($client);
                $body
            }
            Object::ServiceAccount($o) => {
                let $api = Api::<ServiceAccount>::namespaced($client, $ns);
                $body
            }
            Object::ClusterRole($o) => {
                let $api = Api::<ClusterRole>::all($client);
                $body
            }
            Object::ClusterRoleBinding($o) => {
                let $api = Api::<ClusterRoleBinding>::all($client);
                $body
            }
            Object::DaemonSet($o) => {
                let $api = Api::<DaemonSet>::namespaced($client, $ns);
                $body
            }
        }
    };
}

/// The real cluster, through kube.
pub struct KubeCluster {
    pub client: Client,
}

fn api_error(what: &str, e: kube::Error) -> InstallError {
    let e = ApiError::new(what, &e);
    if e.is(Failure::Forbidden) {
        InstallError::Api(format!(
            "{e}; installing the enforcer needs cluster-admin rights"
        ))
    } else {
        InstallError::Api(e.to_string())
    }
}

fn is_not_found(e: &kube::Error) -> bool {
    failure_of(e) == Failure::NotFound
}

fn images_of(spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> Vec<String> {
    spec.map(|s| {
        s.containers
            .iter()
            .chain(s.init_containers.iter().flatten())
            .filter_map(|c| c.image.clone())
            .collect()
    })
    .unwrap_or_default()
}

impl EnforcerCluster for KubeCluster {
    async fn workloads(&self) -> Result<Vec<Workload>, InstallError> {
        let mut out = Vec::new();
        let all: Api<DaemonSet> = Api::all(self.client.clone());
        let list = match all.list(&ListParams::default()).await {
            Ok(l) => l,
            Err(e) if failure_of(&e) == Failure::Forbidden => {
                Api::<DaemonSet>::namespaced(self.client.clone(), "kube-system")
                    .list(&ListParams::default())
                    .await
                    .map_err(|e| api_error("listing DaemonSets in kube-system", e))?
            }
            Err(e) => return Err(api_error("listing DaemonSets", e)),
        };
        for ds in list.items {
            out.push(Workload {
                kind: "DaemonSet".into(),
                namespace: ds.metadata.namespace.clone().unwrap_or_default(),
                name: ds.metadata.name.clone().unwrap_or_default(),
                images: images_of(ds.spec.as_ref().and_then(|s| s.template.spec.as_ref())),
            });
        }
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), "kube-system");
        for p in pods
            .list(&ListParams::default())
            .await
            .map_err(|e| api_error("listing pods in kube-system", e))?
            .items
        {
            out.push(Workload {
                kind: "Pod".into(),
                namespace: "kube-system".into(),
                name: p.metadata.name.clone().unwrap_or_default(),
                images: images_of(p.spec.as_ref()),
            });
        }
        Ok(out)
    }

    async fn apply(&self, object: &Object) -> Result<(), InstallError> {
        let pp = PatchParams::apply(FIELD_MANAGER).force();
        let name = object.name();
        let ns = object.namespace().unwrap_or_else(|| NAMESPACE.to_string());
        let what = format!("applying {}", object.describe());
        let c = self.client.clone();
        with_api!(object, c, &ns, |api, o| api
            .patch(&name, &pp, &Patch::Apply(o))
            .await
            .map(|_| ()))
        .map_err(|e| api_error(&what, e))
    }

    async fn delete(&self, object: &Object) -> Result<bool, InstallError> {
        let dp = DeleteParams::background();
        let name = object.name();
        let ns = object.namespace().unwrap_or_else(|| NAMESPACE.to_string());
        let c = self.client.clone();
        let result = with_api!(object, c, &ns, |api, _o| api
            .delete(&name, &dp)
            .await
            .map(|_| ()));
        match result {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(api_error(&format!("deleting {}", object.describe()), e)),
        }
    }

    async fn rollout(&self) -> Result<Option<Rollout>, InstallError> {
        let api: Api<DaemonSet> = Api::namespaced(self.client.clone(), NAMESPACE);
        let Some(ds) = api
            .get_opt(NAME)
            .await
            .map_err(|e| api_error("reading the enforcer DaemonSet", e))?
        else {
            return Ok(None);
        };
        let st = ds.status.unwrap_or_default();
        let generation = ds.metadata.generation.unwrap_or(0);
        Ok(Some(Rollout {
            desired: st.desired_number_scheduled.max(0) as u32,
            updated: st.updated_number_scheduled.unwrap_or(0).max(0) as u32,
            available: st.number_available.unwrap_or(0).max(0) as u32,
            observed: st.observed_generation.unwrap_or(0) >= generation,
        }))
    }

    async fn agent_pods(&self) -> Result<Vec<AgentPod>, InstallError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), NAMESPACE);
        let list = match api.list(&ListParams::default().labels(SELECTOR)).await {
            Ok(l) => l,
            Err(e) if is_not_found(&e) => return Ok(Vec::new()),
            Err(e) => return Err(api_error("listing the enforcer pods", e)),
        };
        Ok(list
            .items
            .into_iter()
            .map(|p| {
                let st = p.status.unwrap_or_default();
                let cs = st.container_statuses.unwrap_or_default();
                AgentPod {
                    name: p.metadata.name.unwrap_or_default(),
                    node: p.spec.and_then(|s| s.node_name),
                    phase: st.phase.unwrap_or_else(|| "Unknown".into()),
                    ready: st
                        .conditions
                        .unwrap_or_default()
                        .iter()
                        .any(|c| c.type_ == "Ready" && c.status == "True"),
                    restarts: cs.iter().map(|c| c.restart_count.max(0) as u32).sum(),
                    waiting: cs
                        .iter()
                        .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
                        .next(),
                    terminating: p.metadata.deletion_timestamp.is_some(),
                }
            })
            .collect())
    }

    async fn agent_get(&self, pod: &str, path: &str) -> Result<String, InstallError> {
        let req = kube::core::Request::new(format!("/api/v1/namespaces/{NAMESPACE}/pods"))
            .get_subresource(&format!("proxy{path}"), &format!("{pod}:{AGENT_PORT}"))
            .map_err(|e| InstallError::Api(format!("building a request: {e}")))?;
        self.client
            .request_text(req)
            .await
            .map_err(|e| api_error(&format!("asking {pod} for {path}"), e))
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}
