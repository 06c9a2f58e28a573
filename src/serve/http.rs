//! The HTTP endpoints of `little serve` (HTTP/1.1 through hyper):
//!
//! | endpoint | answer | token |
//! |---|---|---|
//! | `GET /healthz` | 200 while the process runs | none |
//! | `GET /readyz` | 200 while the last good audit is recent enough, else 503 | none |
//! | `GET /metrics` | the OpenMetrics text of the last run | read |
//! | `GET /report` | the last good audit as a self-contained HTML page | read |
//! | `GET /report.json` | the same as JSON (`little audit --format json`) | read |
//! | `GET /configs` | the scan configurations | read |
//! | `POST /configs` | adds one (JSON body); 201 with its id; 422 for a registry it cannot reach | API |
//! | `GET /configs/{id}` | one; 404 when unknown | read |
//! | `DELETE /configs/{id}` | deletes one; 204, 404 when unknown | API |
//! | `GET /summary` | per configuration and tag: scan state, severity counts, scan time | read |
//! | `GET /findings/{id}` | the configuration's findings as an Atom feed | read |
//!
//! "read": the read token when one is set (the API token is accepted too), else open.
//! Each route answers with and without a trailing slash (`/configs/`, `/summary/`, as the
//! continuous-scanning service it replaces wrote them). CORS is [`super::cors`]'.
//! Connections are limited in number and in time (see [`super::Limits`]): beyond the limit
//! they wait in the listen backlog; one that sends nothing for too long is closed. The
//! pages are built once per run ([`super::Latest`]); a request only copies a reference.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Semaphore;

use super::configs::NewScanConfig;
use super::{log, Shared};
use crate::error::{Error, Result};

/// The largest request body accepted (a scan configuration is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;
/// How long open connections get to finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(10);
/// At most one "all connections in use" line per this long.
const FULL_LOG_EVERY: Duration = Duration::from_secs(60);

type Answer = Response<Full<Bytes>>;

/// A connection's stream that notes when bytes last moved either way, for the idle timeout.
struct Tracked<S> {
    inner: S,
    epoch: Instant,
    /// Milliseconds from `epoch` to the last read or write that moved bytes.
    last: Arc<AtomicU64>,
}

impl<S> Tracked<S> {
    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Accepts connections until `shutdown` resolves, then lets open ones finish (up to
/// [`DRAIN`]). At most `limits.max_connections` are served at once: the next one is
/// accepted only when a slot is free, so that the others wait in the kernel's backlog
/// rather than take file descriptors; each is closed after `limits.idle_timeout` without
/// traffic.
pub async fn accept(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let limits = shared.limits;
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut full_logged: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        if slots.available_permits() == 0
            && full_logged.is_none_or(|t| t.elapsed() >= FULL_LOG_EVERY)
        {
            super::log_at(
                super::logging::Level::Warning,
                &format!(
                    "all {} connections are in use (--max-connections); new ones wait until one closes",
                    limits.max_connections
                ),
                &[],
            );
            full_logged = Some(Instant::now());
        }
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(s) => s,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut shutdown => break,
        };
        let (stream, _) = match accepted {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors, most likely: wait for some to close.
                super::log_at(
                    super::logging::Level::Error,
                    &format!("accept failed: {e}"),
                    &[],
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = shared.clone();
        let service = hyper::service::service_fn(move |req| {
            let shared = shared.clone();
            async move { Ok::<_, Infallible>(handle(req, &shared).await) }
        });
        let last = Arc::new(AtomicU64::new(0));
        let epoch = Instant::now();
        let io = Tracked {
            inner: stream,
            epoch,
            last: last.clone(),
        };
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(io), service);
        let watched = graceful.watch(connection);
        let idle_timeout = limits.idle_timeout;
        tokio::spawn(async move {
            tokio::pin!(watched);
            loop {
                let since = Duration::from_millis(last.load(Ordering::Relaxed));
                let idle = epoch.elapsed().saturating_sub(since);
                if idle >= idle_timeout {
                    // Dropping the connection closes it.
                    break;
                }
                tokio::select! {
                    _ = &mut watched => break,
                    _ = tokio::time::sleep(idle_timeout - idle) => {}
                }
            }
            drop(slot);
        });
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

/// The token of an `Authorization: Bearer <token>` header: the scheme in any case, the
/// token without surrounding whitespace.
fn bearer(req: &Request<Incoming>) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once([' ', '\t'])?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Whether two secrets are equal, in a time that depends on neither (their SHA-256 digests
/// are compared, every byte).
fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(expected.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

fn unauthorised(message: &str) -> Answer {
    let mut r = problem(StatusCode::UNAUTHORIZED, message);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer realm=\"little serve\""),
    );
    r
}

/// Whether the request carries the API token (POST and DELETE).
fn authorised(req: &Request<Incoming>, shared: &Shared) -> std::result::Result<(), Answer> {
    let Some(token) = &shared.token else {
        return Err(problem(
            StatusCode::FORBIDDEN,
            "changing scan configurations is disabled: no API token is configured (set the variable named by audit.api_token_env, LITTLE_SERVE_TOKEN by default, or pass --token-file)",
        ));
    };
    match bearer(req) {
        Some(given) if same_secret(given, token) => Ok(()),
        _ => Err(unauthorised(
            "a valid bearer token (the API token) is required",
        )),
    }
}

/// Whether the request may read: always when no read token is set; else it must carry the
/// read token or the API token.
fn may_read(req: &Request<Incoming>, shared: &Shared) -> std::result::Result<(), Answer> {
    let Some(read) = &shared.read_token else {
        return Ok(());
    };
    let given = bearer(req).unwrap_or("");
    let api = shared
        .token
        .as_deref()
        .is_some_and(|t| same_secret(given, t));
    if same_secret(given, read) || api {
        Ok(())
    } else {
        Err(unauthorised(
            "a valid bearer token (the read token) is required",
        ))
    }
}

/// Whether a request is for a read endpoint (the report, metrics, configurations, summary
/// and feeds; not the probes). `path` is without its trailing slash.
fn is_read(method: &Method, path: &str) -> bool {
    method == Method::GET
        && (matches!(
            path,
            "/metrics" | "/report" | "/report.json" | "/configs" | "/summary"
        ) || path.starts_with("/configs/")
            || path.starts_with("/findings/"))
}

/// A path without one trailing slash: the original continuous-scanning service's routes
/// were written `/configs/`, `/summary/`, `/findings/{id}/`, and each answers either way.
fn route_path(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    }
}

/// The methods a route takes; None: no such route.
fn methods(path: &str) -> Option<&'static str> {
    match path {
        "/healthz" | "/readyz" | "/metrics" | "/report" | "/report.json" | "/summary" => {
            Some("GET")
        }
        "/configs" => Some("GET, POST"),
        p if p.starts_with("/configs/") => Some("GET, DELETE"),
        p if p.starts_with("/findings/") => Some("GET"),
        _ => None,
    }
}

const NO_SUCH_ENDPOINT: &str = "no such endpoint; see /healthz, /readyz, /metrics, /report, /report.json, /configs, /configs/{id}, /summary, /findings/{id}";

/// Routes one request, and adds the CORS headers its origin may have.
pub async fn handle(req: Request<Incoming>, shared: &Shared) -> Answer {
    let origin =
        super::cors::allowed_origin(req.headers(), &shared.cors_origins).map(str::to_owned);
    let debug = super::logging::enabled(super::logging::Level::Debug);
    let line = debug.then(|| format!("{} {}", req.method(), req.uri().path()));
    let mut answer = route(req, shared, origin.is_some()).await;
    super::cors::decorate(&mut answer, origin.as_deref(), &shared.cors_origins);
    if let Some(line) = line {
        super::log_at(
            super::logging::Level::Debug,
            &format!("{line} {}", answer.status().as_u16()),
            &[("status", answer.status().as_u16().into())],
        );
    }
    answer
}

async fn route(req: Request<Incoming>, shared: &Shared, origin_allowed: bool) -> Answer {
    let full = req.uri().path().to_owned();
    let path = route_path(&full);
    let method = req.method().clone();
    if super::cors::is_preflight(&method, req.headers()) {
        let Some(allowed) = methods(path) else {
            return problem(StatusCode::NOT_FOUND, NO_SUCH_ENDPOINT);
        };
        if origin_allowed {
            return super::cors::preflight_ok(allowed);
        }
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .unwrap_or("?");
        return problem(
            StatusCode::FORBIDDEN,
            &super::cors::refusal(origin, &shared.cors_origins),
        );
    }
    if is_read(&method, path) {
        if let Err(r) = may_read(&req, shared) {
            return r;
        }
    }
    match (method.clone(), path) {
        (Method::GET, "/healthz") => answer(StatusCode::OK, "text/plain", "ok\n"),
        (Method::GET, "/readyz") => match shared.readiness() {
            Ok(()) => answer(StatusCode::OK, "text/plain", "ready\n"),
            Err(why) => answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                format!("{why}\n"),
            ),
        },
        (Method::GET, "/metrics") => metrics(&req, shared),
        (Method::GET, "/report") => report_page(shared),
        (Method::GET, "/report.json") => match shared.latest() {
            Some(latest) => answer(
                StatusCode::OK,
                "application/json",
                latest.report_json.clone(),
            ),
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
        (Method::POST, "/configs") => add_config(req, shared).await,
        (Method::GET, p) if p.starts_with("/configs/") => {
            let id = &p["/configs/".len()..];
            let found = shared
                .configs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(id)
                .cloned();
            match found {
                Some(config) => json_answer(StatusCode::OK, &json!(config)),
                None => problem(
                    StatusCode::NOT_FOUND,
                    &format!("no scan configuration `{id}`"),
                ),
            }
        }
        (Method::DELETE, p) if p.starts_with("/configs/") => {
            delete_config(&req, shared, &p["/configs/".len()..])
        }
        (Method::GET, "/summary") => summary(shared),
        (Method::GET, p) if p.starts_with("/findings/") => {
            findings(&req, shared, &p["/findings/".len()..])
        }
        (_, p) => match methods(p) {
            Some(allowed) => method_not_allowed(allowed),
            None => problem(StatusCode::NOT_FOUND, NO_SUCH_ENDPOINT),
        },
    }
}

/// `GET /metrics`: the exposition, gzipped when the client accepts it.
fn metrics(req: &Request<Incoming>, shared: &Shared) -> Answer {
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
        _ => answer(
            StatusCode::OK,
            super::metrics::CONTENT_TYPE,
            exposition.plain,
        ),
    };
    r.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("accept-encoding"),
    );
    r
}

/// `GET /report`: the latest audit's HTML page, under a policy that runs no script.
fn report_page(shared: &Shared) -> Answer {
    match shared.latest() {
        Some(latest) => {
            let mut r = answer(
                StatusCode::OK,
                "text/html; charset=utf-8",
                latest.report_html.clone(),
            );
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                header::HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
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
    }
}

/// `POST /configs`: adds a scan configuration (authorised; the body bounded in size and time).
async fn add_config(req: Request<Incoming>, shared: &Shared) -> Answer {
    if let Err(r) = authorised(&req, shared) {
        return r;
    }
    let collect = Limited::new(req.into_body(), MAX_BODY).collect();
    let body = match tokio::time::timeout(shared.limits.body_timeout, collect).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) => return problem(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string()),
        Err(_) => {
            return problem(
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time",
            )
        }
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
    // A well-formed registry that this server cannot reach would fail every run: refused
    // now, naming the ones it can. (A malformed one is the store's 400.)
    let registry = new
        .registry
        .as_deref()
        .filter(|r| crate::aws::names::is_account_id(r));
    if let Some(r) = registry {
        match shared.known_registry(r) {
            Ok(true) => {}
            Ok(false) => {
                let mut answer = problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!(
                        "`registry`: cannot check `{r}` yet: it is no account of little.yaml, and the caller's account is not known until a run has reached AWS; try again shortly"
                    ),
                );
                answer
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
                return answer;
            }
            Err(why) => return problem(StatusCode::UNPROCESSABLE_ENTITY, &why),
        }
    }
    let added = shared
        .configs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .add(new, shared.default_region.as_deref());
    match added {
        Ok(config) => {
            super::log_at(
                super::logging::Level::Info,
                &format!(
                    "scan configuration {} added: {} in {}",
                    config.id, config.repository, config.region
                ),
                &[
                    ("id", config.id.clone().into()),
                    ("repository", config.repository.clone().into()),
                    ("region", config.region.clone().into()),
                ],
            );
            let mut r = json_answer(StatusCode::CREATED, &json!(config));
            if let Ok(v) = header::HeaderValue::from_str(&format!("/configs/{}", config.id)) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Err(Error::Usage(m)) => problem(StatusCode::BAD_REQUEST, &m),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// `DELETE /configs/{id}` (authorised).
fn delete_config(req: &Request<Incoming>, shared: &Shared, id: &str) -> Answer {
    if let Err(r) = authorised(req, shared) {
        return r;
    }
    let deleted = shared
        .configs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .delete(id);
    match deleted {
        Ok(true) => {
            super::log_at(
                super::logging::Level::Info,
                &format!("scan configuration {id} deleted"),
                &[("id", id.into())],
            );
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

/// `GET /summary`: every configuration, scanned or not yet.
fn summary(shared: &Shared) -> Answer {
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

/// `GET /findings/{id}`: a configuration's scan findings as an Atom feed.
fn findings(req: &Request<Incoming>, shared: &Shared, id: &str) -> Answer {
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
        .unwrap_or_else(|| crate::time::rfc3339_utc(0));
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

fn method_not_allowed(allowed: &'static str) -> Answer {
    let mut r = problem(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    r.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allowed));
    r
}
