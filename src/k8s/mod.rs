//! The one place the CLI talks to the Kubernetes API: the client and kubeconfig handling (the
//! rules kubectl uses), one way to read a failed call ([`ApiError`]), one retry for transient
//! failures ([`retry_transient`]), paged lists ([`list_paged`]), and the live snapshot (`live`).
//! The other folders call through narrow traits (probe, install, lab) so their planning code is
//! tested with test doubles; each maps an [`ApiError`] into its own words (RBAC hints differ).

pub mod live;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// How to reach the cluster: the usual kubectl flags.
#[derive(Debug, Clone, Default)]
pub struct ClusterArgs {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

/// The kubeconfig could not be read or used.
#[derive(Debug, thiserror::Error)]
#[error("cannot load the kubeconfig: {0} (set KUBECONFIG, pass --kubeconfig, or use -f to read manifests instead)")]
pub struct ConfigError(String);

/// A client and the namespace the context points at (`KUBECONFIG`, `--kubeconfig`, `--context`,
/// then the in-cluster config, as kubectl).
pub async fn connect(args: &ClusterArgs) -> Result<(Client, String), ConfigError> {
    let opts = KubeConfigOptions {
        context: args.context.clone(),
        ..Default::default()
    };
    let config = match &args.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path)
                .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
            Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|e| ConfigError(e.to_string()))?
        }
        None if args.context.is_some() => Config::from_kubeconfig(&opts)
            .await
            .map_err(|e| ConfigError(e.to_string()))?,
        None => Config::infer()
            .await
            .map_err(|e| ConfigError(e.to_string()))?,
    };
    let ns = config.default_namespace.clone();
    let client = Client::try_from(config).map_err(|e| ConfigError(e.to_string()))?;
    Ok((client, ns))
}

/// What kind of failure an API call met; callers decide from this, not from status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// RBAC said no (403): the message names the verb and resource.
    Forbidden,
    /// A 403 that is not about RBAC: the namespace is being deleted, so nothing new may be
    /// created in it.
    NamespaceTerminating,
    /// 404: the object, or the resource type (no CRD), does not exist.
    NotFound,
    /// 409: someone else changed or created it first.
    Conflict,
    /// 405/415: the server does not serve this call (an old API server, a missing subresource).
    Unsupported,
    /// Worth trying again shortly: 429, 500, 503, 504, or a fresh namespace whose service
    /// account is not made yet.
    Transient,
    /// Anything else, including a server that cannot be reached.
    Other,
}

/// A failed API call: what was being done, and what the server (or the connection) said.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct ApiError {
    pub failure: Failure,
    pub what: String,
    /// The server's message with its HTTP code and reason, or the connection error.
    pub detail: String,
}

impl ApiError {
    pub fn new(what: impl Into<String>, e: &kube::Error) -> ApiError {
        let detail = match e {
            kube::Error::Api(s) if s.reason.is_empty() => {
                format!("{} (HTTP {})", s.message, s.code)
            }
            kube::Error::Api(s) => format!("{} (HTTP {}, {})", s.message, s.code, s.reason),
            other => other.to_string(),
        };
        ApiError {
            failure: failure_of(e),
            what: what.into(),
            detail,
        }
    }

    pub fn is(&self, failure: Failure) -> bool {
        self.failure == failure
    }
}

/// Sorts a kube error into a [`Failure`].
pub fn failure_of(e: &kube::Error) -> Failure {
    let kube::Error::Api(s) = e else {
        return Failure::Other;
    };
    // A fresh namespace's `default` service account (or its token) is made a moment after the
    // namespace: creating a pod there is refused until then. A service account object that is
    // simply not there (deleting one already gone) is NotFound, not this.
    let message = s.message.to_ascii_lowercase();
    let service_account_not_ready = message.contains("error looking up service account")
        || message.contains("no api token found for service account")
        || message.contains("serviceaccount \"default\" not found");
    match s.code {
        403 if namespace_terminating(&s.message) => Failure::NamespaceTerminating,
        403 | 404 if service_account_not_ready => Failure::Transient,
        403 => Failure::Forbidden,
        404 => Failure::NotFound,
        405 | 415 => Failure::Unsupported,
        409 => Failure::Conflict,
        429 | 500 | 503 | 504 => Failure::Transient,
        _ => Failure::Other,
    }
}

/// The API server's 403 for a namespace being deleted: `unable to create new content in
/// namespace X because it is being terminated` (reason NamespaceTerminating). It is not an
/// RBAC problem, and must not be reported as one.
pub fn namespace_terminating(message: &str) -> bool {
    message.contains("because it is being terminated")
}

/// Runs `call` until it succeeds, fails for a reason other than [`Failure::Transient`], or
/// `give_up_after` has passed, waiting `pause` between tries (as the API server's own
/// Retry-After advice suggests for 429/503).
pub async fn retry_transient<T, F, Fut>(
    give_up_after: Duration,
    pause: Duration,
    mut call: F,
) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let started = Instant::now();
    loop {
        match call().await {
            Err(e) if failure_of(&e) == Failure::Transient && started.elapsed() < give_up_after => {
                tokio::time::sleep(pause).await;
            }
            other => return other,
        }
    }
}

/// Objects per list request, as kubectl asks (`--chunk-size` defaults to 500): a 50,000-pod
/// cluster comes in pages instead of one response the API server must build whole.
pub const PAGE_SIZE: u32 = 500;

/// Told how many objects of a kind have been read so far, after each page of a list that
/// needs more than one.
pub type Progress<'a> = &'a (dyn Fn(&str, usize) + Sync);

/// A paged list failed: the API refused, or `each` refused an object.
#[derive(Debug)]
pub enum ListError<E> {
    Api(kube::Error),
    Item(E),
}

/// Lists every object, page by page (limit/continue), handing each to `each` as its page
/// arrives so a page's raw objects are dropped before the next is read.
pub async fn list_paged<K, E>(
    api: &Api<K>,
    params: &ListParams,
    what: &str,
    progress: Progress<'_>,
    mut each: impl FnMut(K) -> Result<(), E>,
) -> Result<(), ListError<E>>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut params = params.clone().limit(PAGE_SIZE);
    let mut read = 0;
    loop {
        let page = api.list(&params).await.map_err(ListError::Api)?;
        read += page.items.len();
        for item in page.items {
            each(item).map_err(ListError::Item)?;
        }
        match page.metadata.continue_.filter(|t| !t.is_empty()) {
            Some(token) => {
                progress(what, read);
                params = params.continue_token(&token);
            }
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(
            serde_json::from_value(serde_json::json!({
                "status": "Failure", "message": message, "reason": "Reason", "code": code
            }))
            .unwrap(),
        )
    }

    #[test]
    fn failures_are_sorted_by_what_the_caller_can_do() {
        let cases = [
            (403, "unable to create new content in namespace x because it is being terminated", Failure::NamespaceTerminating),
            (403, "pods is forbidden: User \"bob\" cannot create resource \"pods\"", Failure::Forbidden),
            (403, "pods \"p\" is forbidden: error looking up service account x/default: serviceaccount \"default\" not found", Failure::Transient),
            (404, "the server could not find the requested resource", Failure::NotFound),
            (404, "serviceaccounts \"netpol-enforcer\" not found", Failure::NotFound),
            (403, "pods \"p\" is forbidden: no API token found for service account \"x/default\"", Failure::Transient),
            (409, "already exists", Failure::Conflict),
            (415, "unsupported media type", Failure::Unsupported),
            (429, "too many requests", Failure::Transient),
            (503, "unavailable", Failure::Transient),
            (422, "invalid", Failure::Other),
        ];
        for (code, message, want) in cases {
            assert_eq!(failure_of(&api(code, message)), want, "{code} {message}");
        }
    }

    #[test]
    fn an_api_error_says_what_was_being_done_and_what_the_server_said() {
        let e = ApiError::new("creating pod a/b", &api(403, "forbidden: no"));
        assert_eq!(
            e.to_string(),
            "creating pod a/b: forbidden: no (HTTP 403, Reason)"
        );
        assert!(e.is(Failure::Forbidden));
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_they_pass_or_time_runs_out() {
        let pause = Duration::from_millis(5);
        let mut calls = 0;
        let out: Result<u32, _> = retry_transient(Duration::from_secs(60), pause, || {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    Err(api(503, "busy"))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(out.unwrap(), 3);

        let mut calls = 0;
        let out: Result<u32, _> = retry_transient(Duration::from_millis(50), pause, || {
            calls += 1;
            async { Err(api(503, "busy")) }
        })
        .await;
        assert!(out.is_err(), "gives up after the deadline");
        assert!(calls >= 2, "{calls}");

        let mut calls = 0;
        let out: Result<u32, _> = retry_transient(Duration::from_secs(60), pause, || {
            calls += 1;
            async { Err(api(403, "pods is forbidden")) }
        })
        .await;
        assert!(out.is_err());
        assert_eq!(calls, 1, "RBAC refusals are not retried");
    }
}
