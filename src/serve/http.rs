//! The HTTP endpoints of `little serve` (HTTP/1.1 through hyper):
//!
//! | endpoint | answer |
//! |---|---|
//! | `GET /healthz` | 200 while the process runs |
//! | `GET /readyz` | 200 after the first successful audit, else 503 |
//! | `GET /metrics` | the OpenMetrics text of the last run |
//! | `GET /report` | the last good audit as a self-contained HTML page |
//! | `GET /report.json` | the same as JSON (`little audit --format json`) |
//! | `GET /configs` | the scan configurations |
//! | `POST /configs` | adds one (JSON body); 201 with its id; bearer token required |
//! | `DELETE /configs/{id}` | deletes one; 204, 404 when unknown; bearer token required |
//! | `GET /summary` | per configuration and tag: scan state, severity counts, scan time |
//! | `GET /findings/{id}` | the configuration's findings as an Atom feed |

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::json;

use super::configs::NewScanConfig;
use super::{log, Shared};
use crate::error::{Error, Result};

/// The largest request body accepted (a scan configuration is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;
/// How long open connections get to finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(10);

type Answer = Response<Full<Bytes>>;

/// Accepts connections until `shutdown` resolves, then lets open ones finish (up to
/// [`DRAIN`]).
pub async fn accept(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        log(&format!("accept failed: {e}"));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let shared = shared.clone();
                let service = hyper::service::service_fn(move |req| {
                    let shared = shared.clone();
                    async move { Ok::<_, Infallible>(handle(req, &shared).await) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), service);
                let watched = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = watched.await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    log("shutting down");
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        log("connections still open after the drain time; closing them");
    }
    Ok(())
}

fn answer(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Answer {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

fn json_answer(status: StatusCode, value: &serde_json::Value) -> Answer {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    answer(status, "application/json", text)
}

fn problem(status: StatusCode, message: &str) -> Answer {
    json_answer(status, &json!({"error": message}))
}

/// Whether the request carries the configured bearer token (compared in constant time).
fn authorised(req: &Request<Incoming>, shared: &Shared) -> std::result::Result<(), Answer> {
    let Some(token) = &shared.token else {
        return Err(problem(
            StatusCode::FORBIDDEN,
            "changing scan configurations is disabled: no API token is configured (set the variable named by audit.api_token_env, LITTLE_SERVE_TOKEN by default)",
        ));
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let same = given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        let mut r = problem(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        Err(r)
    }
}

/// Routes one request.
pub async fn handle(req: Request<Incoming>, shared: &Shared) -> Answer {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    match (method.clone(), path.as_str()) {
        (Method::GET, "/healthz") => answer(StatusCode::OK, "text/plain", "ok\n"),
        (Method::GET, "/readyz") => {
            if shared.ready.load(Ordering::Relaxed) {
                answer(StatusCode::OK, "text/plain", "ready\n")
            } else {
                answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    "the first audit has not finished\n",
                )
            }
        }
        (Method::GET, "/metrics") => {
            let exposition = shared.metrics();
            let gzip_ok = req
                .headers()
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| {
                    v.split(',')
                        .any(|e| e.split(';').next().map(str::trim) == Some("gzip"))
                });
            let mut r = match (gzip_ok, exposition.gzip) {
                (true, Some(gz)) => {
                    let mut r = answer(StatusCode::OK, super::metrics::CONTENT_TYPE, gz);
                    r.headers_mut().insert(
                        header::CONTENT_ENCODING,
                        header::HeaderValue::from_static("gzip"),
                    );
                    r
                }
                _ => answer(StatusCode::OK, super::metrics::CONTENT_TYPE, exposition.plain),
            };
            r.headers_mut().insert(
                header::VARY,
                header::HeaderValue::from_static("accept-encoding"),
            );
            r
        }
        (Method::GET, "/report") => match shared.latest() {
            Some(latest) => {
                let page = crate::report::html::audit_html(
                    &latest.outcome.report,
                    "little audit",
                    concat!("little-stack ", env!("CARGO_PKG_VERSION")),
                );
                let mut r = answer(StatusCode::OK, "text/html; charset=utf-8", page);
                r.headers_mut().insert(
                    header::CONTENT_SECURITY_POLICY,
                    header::HeaderValue::from_static(
                        "default-src 'none'; style-src 'unsafe-inline'",
                    ),
                );
                r.headers_mut().insert(
                    header::REFERRER_POLICY,
                    header::HeaderValue::from_static("no-referrer"),
                );
                r
            }
            None => problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "the first audit has not finished",
            ),
        },
        (Method::GET, "/report.json") => match shared.latest() {
            Some(latest) => match serde_json::to_value(&latest.outcome.report) {
                Ok(v) => json_answer(StatusCode::OK, &v),
                Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            },
            None => problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "the first audit has not finished",
            ),
        },
        (Method::GET, "/configs") => {
            let list = shared
                .configs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .list();
            json_answer(StatusCode::OK, &json!({ "configs": list }))
        }
        (Method::POST, "/configs") => {
            if let Err(r) = authorised(&req, shared) {
                return r;
            }
            let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => return problem(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string()),
            };
            let new: NewScanConfig = match serde_json::from_slice(&body) {
                Ok(n) => n,
                Err(e) => {
                    return problem(
                        StatusCode::BAD_REQUEST,
                        &format!(
                            "the body is not a scan configuration: {e} (fields: region, registry, repository, tags)"
                        ),
                    )
                }
            };
            let added = shared
                .configs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .add(new, shared.default_region.as_deref());
            match added {
                Ok(config) => {
                    log(&format!(
                        "scan configuration {} added: {} in {}",
                        config.id, config.repository, config.region
                    ));
                    let mut r = json_answer(StatusCode::CREATED, &json!(config));
                    if let Ok(v) = header::HeaderValue::from_str(&format!("/configs/{}", config.id))
                    {
                        r.headers_mut().insert(header::LOCATION, v);
                    }
                    r
                }
                Err(Error::Usage(m)) => problem(StatusCode::BAD_REQUEST, &m),
                Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            }
        }
        (Method::DELETE, p) if p.starts_with("/configs/") => {
            if let Err(r) = authorised(&req, shared) {
                return r;
            }
            let id = &p["/configs/".len()..];
            let deleted = shared
                .configs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .delete(id);
            match deleted {
                Ok(true) => {
                    log(&format!("scan configuration {id} deleted"));
                    answer(StatusCode::NO_CONTENT, "text/plain", Bytes::new())
                }
                Ok(false) => problem(
                    StatusCode::NOT_FOUND,
                    &format!("no scan configuration `{id}`"),
                ),
                Err(Error::Refused(m)) => problem(StatusCode::CONFLICT, &m),
                Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            }
        }
        (Method::GET, "/summary") => {
            let scans = shared.scans();
            let configs = shared
                .configs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .list();
            // Every configuration, scanned or not yet.
            let list: Vec<serde_json::Value> = configs
                .iter()
                .map(|c| match scans.get(&c.id) {
                    Some(s) => json!(s.summary),
                    None => json!({
                        "id": c.id,
                        "region": c.region,
                        "registry": c.registry,
                        "repository": c.repository,
                        "scanned_at": null,
                        "tags": [],
                    }),
                })
                .collect();
            json_answer(StatusCode::OK, &json!({ "configs": list }))
        }
        (Method::GET, p) if p.starts_with("/findings/") => {
            let id = &p["/findings/".len()..];
            let known = shared
                .configs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(id)
                .cloned();
            let Some(config) = known else {
                return problem(
                    StatusCode::NOT_FOUND,
                    &format!("no scan configuration `{id}`"),
                );
            };
            let scans = shared.scans();
            let scan = scans.get(id);
            let updated = scan
                .map(|s| s.summary.scanned_at.clone())
                .unwrap_or_else(|| crate::report::rfc3339_utc(0));
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let feed = crate::report::atom::findings_feed(
                id,
                &format!("Scan findings of {} ({})", config.repository, config.region),
                &format!("http://{host}/findings/{id}"),
                &updated,
                scan.map(|s| s.findings.as_slice()).unwrap_or(&[]),
            );
            answer(StatusCode::OK, "application/atom+xml; charset=utf-8", feed)
        }
        (_, "/healthz" | "/readyz" | "/metrics" | "/report" | "/report.json" | "/summary") => {
            method_not_allowed("GET")
        }
        (_, "/configs") => method_not_allowed("GET, POST"),
        (_, p) if p.starts_with("/configs/") => method_not_allowed("DELETE"),
        (_, p) if p.starts_with("/findings/") => method_not_allowed("GET"),
        _ => problem(
            StatusCode::NOT_FOUND,
            "no such endpoint; see /healthz, /readyz, /metrics, /report, /report.json, /configs, /summary, /findings/{id}",
        ),
    }
}

fn method_not_allowed(allowed: &'static str) -> Answer {
    let mut r = problem(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    r.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allowed));
    r
}
