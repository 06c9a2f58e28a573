//! A fake Kubernetes API server on loopback (plain http), for the tests of the pod reader and of
//! the audit: `GET /api/v1/pods` and `GET /api/v1/namespaces/NS/pods` answered as the real
//! server does (a `PodList` with `apiVersion: v1`, `metadata.continue` paging by `limit`, the
//! `status.phase!=` field selector applied, 401 and 403 as `Status` objects). Its own thread
//! and runtime, so that a test may run the real binary against it. Test-only: also compiled into
//! the integration tests (`#[path]`), so it uses nothing of the crate.

use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use hyper::body::{Bytes, Frame};
use serde_json::{json, Value};

/// What the server holds and how it answers.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// The bearer token it accepts; others get 401.
    pub token: String,
    /// The pods (full pod objects).
    pub pods: Vec<Value>,
    /// Namespaces whose listing is forbidden; `*`: the cluster-wide listing.
    pub forbidden: Vec<String>,
    /// At most this many pods a page, besides the request's `limit`.
    pub page_size: Option<usize>,
    /// Every page says the same `continue` token (a broken server).
    pub same_continue: bool,
    /// Answer every listing with a body of this many bytes, streamed without a length.
    pub oversize: Option<usize>,
}

/// A running fake server; it stops with the test process.
pub struct FakeApi {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Each request's path and query, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
    pub behaviour: Arc<Mutex<Behaviour>>,
}

/// A pod of `namespace` named `name` in phase `phase`, controlled by `owner` (`(kind, name)`),
/// with `labels`, its containers (`(name, image, imageID)`) under `spec.containers`, and the
/// same for init containers.
pub fn pod(
    namespace: &str,
    name: &str,
    phase: &str,
    owner: Option<(&str, &str)>,
    labels: &[(&str, &str)],
    containers: &[(&str, &str, &str)],
    init: &[(&str, &str, &str)],
) -> Value {
    let specs = |cs: &[(&str, &str, &str)]| -> Vec<Value> {
        cs.iter()
            .map(|(n, image, _)| json!({"name": n, "image": image, "imagePullPolicy": "IfNotPresent", "resources": {}}))
            .collect()
    };
    let statuses = |cs: &[(&str, &str, &str)]| -> Vec<Value> {
        cs.iter()
            .map(|(n, image, id)| {
                json!({"name": n, "image": image, "imageID": id, "ready": true, "restartCount": 0,
                       "state": {"running": {"startedAt": "2025-01-01T00:00:00Z"}}})
            })
            .collect()
    };
    let owners: Vec<Value> = owner
        .into_iter()
        .map(|(kind, n)| {
            json!({"apiVersion": "apps/v1", "kind": kind, "name": n,
                   "uid": "6f1c1d2e-0000-4000-8000-000000000000", "controller": true,
                   "blockOwnerDeletion": true})
        })
        .collect();
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    json!({
        "metadata": {
            "name": name, "namespace": namespace, "uid": "0a0b0c0d-0000-4000-8000-000000000000",
            "resourceVersion": "12345", "creationTimestamp": "2025-01-01T00:00:00Z",
            "labels": labels, "ownerReferences": owners,
        },
        "spec": {"containers": specs(containers), "initContainers": specs(init),
                 "restartPolicy": "Always", "serviceAccountName": "default", "nodeName": "node-1"},
        "status": {"phase": phase, "podIP": "10.0.0.1",
                   "containerStatuses": statuses(containers),
                   "initContainerStatuses": statuses(init)},
    })
}

fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "details": {"kind": "pods"}, "code": code}),
    )
}

fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| crate::text::percent_decode(v))
    })
}

/// The answer to one request: status and JSON, or an oversize streamed body.
fn answer(b: &Behaviour, path: &str, query: &str, authorization: Option<&str>) -> Answer {
    if authorization != Some(&format!("Bearer {}", b.token)) {
        return Answer::Json(status(401, "Unauthorized", "Unauthorized"));
    }
    let namespace = match path {
        "/api/v1/pods" => None,
        p => match p
            .strip_prefix("/api/v1/namespaces/")
            .and_then(|r| r.strip_suffix("/pods"))
        {
            Some(ns) => Some(ns.to_owned()),
            None => {
                return Answer::Json(status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ))
            }
        },
    };
    let denied = match &namespace {
        None => b.forbidden.iter().any(|f| f == "*"),
        Some(ns) => b.forbidden.iter().any(|f| f == ns || f == "*"),
    };
    if denied {
        let scope = match &namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".into(),
        };
        return Answer::Json(status(403, "Forbidden", &format!(
            "pods is forbidden: User \"system:serviceaccount:little:little\" cannot list resource \"pods\" in API group \"\" {scope}"
        )));
    }
    if let Some(n) = b.oversize {
        return Answer::Oversize(n);
    }
    let excluded: Vec<String> = query_param(query, "fieldSelector")
        .unwrap_or_default()
        .split(',')
        .filter_map(|s| s.strip_prefix("status.phase!=").map(str::to_owned))
        .collect();
    let pods: Vec<&Value> = b
        .pods
        .iter()
        .filter(|p| {
            namespace
                .as_deref()
                .is_none_or(|ns| p["metadata"]["namespace"] == ns)
        })
        .filter(|p| {
            !excluded
                .iter()
                .any(|e| p["status"]["phase"].as_str() == Some(e.as_str()))
        })
        .collect();
    let limit = query_param(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(usize::MAX)
        .min(b.page_size.unwrap_or(usize::MAX))
        .max(1);
    let start = query_param(query, "continue")
        .and_then(|c| {
            c.strip_prefix("opaque-")
                .and_then(|n| n.parse::<usize>().ok())
        })
        .unwrap_or(0);
    let end = start.saturating_add(limit).min(pods.len());
    let page: Vec<&Value> = pods[start.min(end)..end].to_vec();
    let next = if b.same_continue {
        "opaque-0".to_owned()
    } else if end < pods.len() {
        format!("opaque-{end}")
    } else {
        String::new()
    };
    let mut metadata = json!({"resourceVersion": "98765"});
    if !next.is_empty() {
        metadata["continue"] = json!(next);
        metadata["remainingItemCount"] = json!(pods.len() - end);
    }
    Answer::Json((
        200,
        json!({"kind": "PodList", "apiVersion": "v1", "metadata": metadata, "items": page}),
    ))
}

enum Answer {
    Json((u16, Value)),
    Oversize(usize),
}

/// A body of `left` bytes, in 64 KiB frames, with no declared length.
struct Chunks {
    left: usize,
}

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        let n = self.left.min(64 * 1024);
        self.left -= n;
        std::task::Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b' '; n])))))
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;

/// Starts a fake API server answering as `behaviour` says.
pub fn start(behaviour: Behaviour) -> FakeApi {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let behaviour = Arc::new(Mutex::new(behaviour));
    let (seen, state) = (requests.clone(), behaviour.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (seen, state) = (seen.clone(), state.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let path = req.uri().path().to_owned();
                            let query = req.uri().query().unwrap_or_default().to_owned();
                            seen.lock().unwrap().push(format!("{path}?{query}"));
                            let auth = req
                                .headers()
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned);
                            let b = state.lock().unwrap().clone();
                            let response = match answer(&b, &path, &query, auth.as_deref()) {
                                Answer::Json((code, value)) => hyper::Response::builder()
                                    .status(code)
                                    .header("content-type", "application/json")
                                    .body(
                                        http_body_util::Full::new(Bytes::from(value.to_string()))
                                            .boxed(),
                                    ),
                                Answer::Oversize(n) => hyper::Response::builder()
                                    .status(200)
                                    .header("content-type", "application/json")
                                    .body(Chunks { left: n }.boxed()),
                            };
                            async move { response.map(|r: hyper::Response<Body>| r) }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    FakeApi {
        url,
        requests,
        behaviour,
    }
}
