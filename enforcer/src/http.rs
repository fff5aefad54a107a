//! A very small HTTP/1.1 server for the kubelet's probes, Prometheus and `kubectl netpol
//! enforcer status|drops`: GET only, one response per connection, bodies built in memory.
//!
//! | path | |
//! |---|---|
//! | `/healthz` | 200 while the reconcile loop is turning (liveness) |
//! | `/readyz` | 200 once the watches synced and the first apply succeeded |
//! | `/metrics` | Prometheus text |
//! | `/status` | `netpol::enforce::status::AgentStatus` as JSON |
//! | `/drops` | `netpol::enforce::status::DropsDoc` as JSON |

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::telemetry::Telemetry;

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
        "/metrics" => (
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            telemetry.metrics(),
        ),
        "/status" => json(serde_json::to_string_pretty(&telemetry.status())),
        "/drops" => json(serde_json::to_string(&telemetry.drops())),
        _ => (
            404,
            "text/plain",
            "not found: try /healthz, /readyz, /metrics, /status or /drops\n".into(),
        ),
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

async fn handle(mut sock: TcpStream, telemetry: Telemetry, liveness: Duration) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    if read.is_err() {
        return;
    }
    let head = String::from_utf8_lossy(&buf);
    let mut words = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, path) = (words.next().unwrap_or_default(), words.next());
    let (code, ctype, body) = match (method, path) {
        ("GET" | "HEAD", Some(p)) => respond(p, &telemetry, liveness),
        (_, Some(_)) => (405, "text/plain", "only GET\n".into()),
        _ => (400, "text/plain", "bad request\n".into()),
    };
    let mut out = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(code),
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        out.extend_from_slice(body.as_bytes());
    }
    let _ = sock.write_all(&out).await;
    let _ = sock.shutdown().await;
}

/// Serves until the task is dropped.
pub async fn serve(listener: TcpListener, telemetry: Telemetry, liveness: Duration) {
    loop {
        match listener.accept().await {
            Ok((sock, _)) => {
                tokio::spawn(handle(sock, telemetry.clone(), liveness));
            }
            Err(e) => {
                tracing::warn!("accepting an HTTP connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpol::enforce::Family;

    #[tokio::test]
    async fn serves_health_readiness_metrics_and_status() {
        let t = Telemetry::new("n1", "nft", &[Family::V4]);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, t.clone(), Duration::from_secs(60)));
        let get = |path: &'static str| async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        assert!(get("/healthz").await.starts_with("HTTP/1.1 200 OK"));
        assert!(get("/readyz").await.starts_with("HTTP/1.1 503"));
        let m = get("/metrics").await;
        assert!(m.contains("netpol_enforcer_ready 0"), "{m}");
        let s = get("/status").await;
        let body = s.split("\r\n\r\n").nth(1).unwrap();
        let st: netpol::enforce::status::AgentStatus = serde_json::from_str(body).unwrap();
        assert_eq!(st.node, "n1");
        assert!(get("/nope").await.starts_with("HTTP/1.1 404"));
        server.abort();
    }
}
