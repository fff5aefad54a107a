//! The agent's HTTP server for the kubelet's probes, Prometheus and `kubectl netpol enforcer
//! status|drops`: GET (and HEAD) only, bodies built in memory.
//!
//! | path | |
//! |---|---|
//! | `/healthz` | 200 while the reconcile loop is turning (liveness) |
//! | `/readyz` | 200 once the watches synced and the first apply succeeded |
//! | `/metrics` | OpenMetrics text (prometheus-client) |
//! | `/status` | `netpol::enforce::status::AgentStatus` as JSON |
//! | `/drops` | `netpol::enforce::status::DropsDoc` as JSON |
//!
//! hyper 1's HTTP/1 server rather than axum: five fixed paths need no router, and hyper,
//! hyper-util and http-body-util are already in the tree through kube's client, so this adds
//! almost no crates; hyper parses the request (a malformed one gets 400) and writes the response.

use std::convert::Infallible;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::telemetry::Telemetry;

/// The content type of `/metrics`: prometheus-client writes OpenMetrics 1.0.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The most a connection buffers (hyper's minimum is 8 KiB).
const MAX_HEAD: usize = 16 * 1024;

/// A client that has not sent its request head by then is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// The response to a request line's path: (status, content type, body).
pub fn respond(
    path: &str,
    telemetry: &Telemetry,
    liveness: Duration,
) -> (u16, &'static str, String) {
    let path = path.split('?').next().unwrap_or_default();
    let json = |v: serde_json::Result<String>| match v {
        Ok(s) => (200, "application/json", s),
        Err(e) => (500, "text/plain", format!("{e}\n")),
    };
    match path {
        "/healthz" | "/livez" => {
            if telemetry.alive(liveness) {
                (200, "text/plain", "ok\n".into())
            } else {
                (
                    503,
                    "text/plain",
                    format!(
                        "the reconcile loop has not run for more than {}s\n",
                        liveness.as_secs()
                    ),
                )
            }
        }
        "/readyz" => {
            if telemetry.ready() {
                (200, "text/plain", "ok\n".into())
            } else {
                (503, "text/plain", "not synced yet\n".into())
            }
        }
        "/metrics" => (200, OPENMETRICS, telemetry.metrics()),
        "/status" => json(serde_json::to_string_pretty(&telemetry.status())),
        "/drops" => json(serde_json::to_string(&telemetry.drops())),
        _ => (
            404,
            "text/plain",
            "not found: try /healthz, /readyz, /metrics, /status or /drops\n".into(),
        ),
    }
}

fn answer(
    request: &Request<Incoming>,
    telemetry: &Telemetry,
    liveness: Duration,
) -> Response<Full<Bytes>> {
    let (code, content_type, body) = match *request.method() {
        // hyper leaves out the body of a HEAD response and keeps its Content-Length.
        Method::GET | Method::HEAD => respond(request.uri().path(), telemetry, liveness),
        _ => (405, "text/plain", "only GET\n".into()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Serves until the task is dropped.
pub async fn serve(listener: TcpListener, telemetry: Telemetry, liveness: Duration) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        // Requests are a line and a few headers; a bigger head gets 431 (and bounded memory).
        .max_buf_size(MAX_HEAD)
        // One request per connection, as before: the kubelet and the API server's proxy open a
        // connection per request anyway, and no idle connection stays open.
        .keep_alive(false);
    loop {
        let sock = match listener.accept().await {
            Ok((sock, _)) => sock,
            Err(e) => {
                tracing::warn!("accepting an HTTP connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let telemetry = telemetry.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let response = answer(&request, &telemetry, liveness);
            async move { Ok::<_, Infallible>(response) }
        });
        let connection = http.serve_connection(TokioIo::new(sock), service);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("an HTTP connection ended with an error: {e}");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpol::enforce::status::{AgentStatus, DropRecord, DropsDoc};
    use netpol::enforce::Family;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// Sends `request` as is over a new connection and reads the answer to its end.
    async fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out))
            .await
            .expect("the server closes the connection after its answer")
            .unwrap();
        out
    }

    /// (status line, headers in lower case, body).
    fn split(response: &str) -> (&str, String, &str) {
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
        (status, headers.to_lowercase(), body)
    }

    async fn start(t: &Telemetry) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, t.clone(), Duration::from_secs(60)));
        (addr, server)
    }

    #[tokio::test]
    async fn serves_every_endpoint_over_tcp() {
        let t = Telemetry::new("n1", "nft", &[Family::V4]);
        t.record_drop(DropRecord {
            unix_ms: 1,
            direction: "ingress".into(),
            pod: Some("a/b".into()),
            peer: "10.0.0.1".into(),
            src: "10.0.0.1".into(),
            dst: "10.0.0.2".into(),
            protocol: "TCP".into(),
            port: Some(80),
            policies: vec!["a/deny".into()],
            chain: "NETPOL-I-x".into(),
        });
        let (addr, server) = start(&t).await;
        let get = |path: &str| {
            let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
            async move { exchange(addr, request.as_bytes()).await }
        };

        for path in ["/healthz", "/livez", "/healthz?verbose"] {
            let r = get(path).await;
            let (status, headers, body) = split(&r);
            assert_eq!(status, "HTTP/1.1 200 OK", "{path}");
            assert!(headers.contains("content-type: text/plain"), "{r}");
            assert_eq!(body, "ok\n");
        }
        let r = get("/readyz").await;
        assert_eq!(split(&r).0, "HTTP/1.1 503 Service Unavailable");
        assert_eq!(split(&r).2, "not synced yet\n");

        let r = get("/metrics").await;
        let (status, headers, body) = split(&r);
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(
            headers.contains(&format!("content-type: {OPENMETRICS}")),
            "{r}"
        );
        assert!(
            body.lines().any(|l| l == "netpol_enforcer_ready 0"),
            "{body}"
        );
        assert!(body.ends_with("# EOF\n"), "{body}");

        let r = get("/status").await;
        let (status, headers, body) = split(&r);
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(headers.contains("content-type: application/json"), "{r}");
        let st: AgentStatus = serde_json::from_str(body).unwrap();
        assert_eq!((st.node.as_str(), st.drops), ("n1", 1));

        let r = get("/drops").await;
        let doc: DropsDoc = serde_json::from_str(split(&r).2).unwrap();
        assert_eq!((doc.total, doc.drops[0].chain.as_str()), (1, "NETPOL-I-x"));

        let r = get("/nope").await;
        assert_eq!(split(&r).0, "HTTP/1.1 404 Not Found");
        assert!(split(&r).2.starts_with("not found: try /healthz"));

        let r = exchange(
            addr,
            b"POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        )
        .await;
        assert_eq!(split(&r).0, "HTTP/1.1 405 Method Not Allowed");
        assert_eq!(split(&r).2, "only GET\n");

        // HEAD: the headers of GET, the length of its body, no body.
        let r = exchange(addr, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let (status, headers, body) = split(&r);
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(headers.contains("content-length: 3"), "{r}");
        assert_eq!(body, "");

        // Ready after the first successful sync.
        t.synced(
            &crate::telemetry::SyncOutcome {
                kind: crate::telemetry::SyncKind::Full,
                took: Duration::from_millis(5),
                events: 1,
                isolated_pods: 0,
                local_pods: 0,
            },
            &Default::default(),
            Default::default(),
        );
        assert_eq!(split(&get("/readyz").await).0, "HTTP/1.1 200 OK");
        server.abort();
    }

    #[tokio::test]
    async fn a_malformed_or_huge_request_gets_4xx_and_the_server_goes_on() {
        let t = Telemetry::new("n1", "nft", &[Family::V4]);
        let (addr, server) = start(&t).await;
        for garbage in [
            &b"\x00\x01\x02 nonsense\r\n\r\n"[..],
            b"GET\r\n\r\n",
            b"GET /healthz HTTP/9.9\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n",
        ] {
            let r = exchange(addr, garbage).await;
            assert!(
                r.starts_with("HTTP/1.1 400 Bad Request"),
                "{garbage:?} got {r:?}"
            );
        }
        let mut huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\n".to_vec();
        for i in 0..1000 {
            huge.extend_from_slice(format!("X-Padding-{i}: {}\r\n", "y".repeat(40)).as_bytes());
        }
        huge.extend_from_slice(b"\r\n");
        let r = exchange(addr, &huge).await;
        assert!(r.starts_with("HTTP/1.1 431"), "{r:?}");
        // A client that never finishes its head is let go, and others are still served.
        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        let r = exchange(addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(r.starts_with("HTTP/1.1 200 OK"), "{r}");
        server.abort();
    }
}
