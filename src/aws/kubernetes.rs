//! What runs in a Kubernetes cluster (an EKS cluster, or any other), as image references: the
//! containers of its pods, read from the API server with a kubeconfig's context or the pod's
//! own service account ([`cluster_images`]). The audit adds them to the images in use of every
//! registry it audits (`audit::kubernetes`); this file only reads them.
//!
//! The calls, for P pods (not finished) in a cluster: ⌈P/500⌉ `GET /api/v1/pods` (or per listed
//! namespace), with `continue` paging, each page's body at most [`MAX_PAGE_BYTES`] and at most
//! [`MAX_PAGES`] pages. The RBAC needed: `list` on `pods` (cluster-wide, or in each namespace).
//!
//! The server is reached over https, trusting the kubeconfig's certificate authority (else the
//! system's roots), or over plain http only on loopback: a token never crosses a network in
//! clear. Requests authenticate with a bearer token (given, read from a file, or printed by an
//! exec plugin such as `aws eks get-token`) and/or a client certificate. No error or log holds
//! a token or a key. The kubeconfig is read in [`kubeconfig`], a page of pods in [`pods`].

mod kubeconfig;
mod pods;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;

pub use kubeconfig::{default_paths, Auth, Exec, Target};

use super::workloads::ImageUse;
use crate::net::HttpClient;

/// Pods a page asks for.
pub const PAGE_SIZE: usize = 500;
/// The largest body of one page: a page past it is an error, not read further.
pub const MAX_PAGE_BYTES: usize = 32 * 1024 * 1024;
/// The most pages of one listing: a guard against a `continue` token that never ends.
pub const MAX_PAGES: usize = 10_000;
/// The time one request (a page, read to its end) gets.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The time an exec plugin gets to print its credential.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);
/// The most an exec plugin may print.
const MAX_EXEC_OUTPUT: u64 = 1024 * 1024;
/// Pods that run or will: finished pods hold no image that a restart pulls.
const FIELD_SELECTOR: &str = "status.phase!=Succeeded,status.phase!=Failed";
/// Where a pod finds its service account's token and the cluster's certificate authority.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// How a cluster is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// A kubeconfig's context: the files (none: `KUBECONFIG`, else `~/.kube/config`) and the
    /// context (none: the current context).
    Kubeconfig {
        paths: Vec<PathBuf>,
        context: Option<String>,
    },
    /// The service account of the pod this runs in (`KUBERNETES_SERVICE_HOST`, `_PORT`, and
    /// the token and certificate authority under [`SERVICE_ACCOUNT_DIR`]).
    InCluster,
}

/// A cluster to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSource {
    /// The label of its users: `k8s:NAME/NAMESPACE/KIND/NAME`.
    pub name: String,
    pub access: Access,
    /// The namespaces to list; empty: all, with one cluster-wide listing.
    pub namespaces: Vec<String>,
}

/// Why a cluster could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// RBAC denied a listing: `permission` is `list pods` or `list pods in namespace N`.
    Denied { permission: String, message: String },
    /// Anything else, as a sentence naming the cluster.
    Failed(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Denied { message, .. } | ReadError::Failed(message) => f.write_str(message),
        }
    }
}

/// The images of the pods (not finished) of one cluster, deduplicated, in order.
pub async fn cluster_images(source: &ClusterSource) -> Result<Vec<ImageUse>, ReadError> {
    let target = match &source.access {
        Access::Kubeconfig { paths, context } => {
            let env = |k: &str| std::env::var(k).ok();
            let paths = if paths.is_empty() {
                default_paths(&env).map_err(|e| failed(&source.name, &e))?
            } else {
                paths.clone()
            };
            kubeconfig::target(&paths, context.as_deref())
        }
        Access::InCluster => in_cluster_target(
            &|k: &str| std::env::var(k).ok(),
            Path::new(SERVICE_ACCOUNT_DIR),
        ),
    }
    .map_err(|e| failed(&source.name, &e))?;
    images(&source.name, &target, &source.namespaces).await
}

fn failed(cluster: &str, why: &str) -> ReadError {
    ReadError::Failed(format!("Kubernetes cluster `{cluster}`: {why}"))
}

/// The target of the service account this runs as, from `env` and the files in `dir`.
pub fn in_cluster_target(
    env: &dyn Fn(&str) -> Option<String>,
    dir: &Path,
) -> Result<Target, String> {
    let host = env("KUBERNETES_SERVICE_HOST").filter(|h| !h.is_empty());
    let port = env("KUBERNETES_SERVICE_PORT").filter(|p| !p.is_empty());
    let (Some(host), Some(port)) = (host, port) else {
        return Err("`in_cluster: true` but `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` are not set: is this running in a pod?".into());
    };
    if port.parse::<u16>().is_err() {
        return Err("`KUBERNETES_SERVICE_PORT` is not a port number".into());
    }
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    let ca = kubeconfig::read_bounded(&dir.join("ca.crt"), "service account CA")?;
    let token = dir.join("token");
    if !token.is_file() {
        return Err(format!(
            "no service account token at `{}`: does the pod mount one (`automountServiceAccountToken`)?",
            token.display()
        ));
    }
    Ok(Target {
        server: format!("https://{host}:{port}"),
        ca_pem: Some(ca),
        client: None,
        auth: Auth::TokenFile(token),
    })
}

/// Whether a host is this machine's loopback.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The server's address, checked: https, or http on loopback.
fn server_uri(server: &str) -> Result<String, String> {
    let uri: http::Uri = server
        .parse()
        .map_err(|_| format!("server `{server}` is not a URL"))?;
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return Err(format!("server `{server}` names no host"));
    }
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if is_loopback(host) => {}
        Some("http") => {
            return Err(format!(
            "server `{server}` is plain http: a token would cross the network in clear; use https"
        ))
        }
        _ => return Err(format!("server `{server}` must start with https://")),
    }
    if uri.query().is_some() {
        return Err(format!("server `{server}` has a query"));
    }
    Ok(server.trim_end_matches('/').to_owned())
}

/// The TLS settings of a target: its certificate authority (else the system's roots) and its
/// client certificate.
fn tls_config(target: &Target) -> Result<rustls::ClientConfig, String> {
    use hyper_rustls::ConfigBuilderExt;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS: {e}"))?;
    let builder = match &target.ca_pem {
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|_| "the certificate authority is not PEM".to_owned())?;
                roots
                    .add(cert)
                    .map_err(|e| format!("the certificate authority is not usable: {e}"))?;
            }
            if roots.is_empty() {
                return Err("the certificate authority holds no PEM certificate".into());
            }
            builder.with_root_certificates(roots)
        }
        None => builder
            .with_native_roots()
            .map_err(|e| format!("no TLS root certificates: {e}"))?,
    };
    match &target.client {
        Some((cert, key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<_, _>>()
                .map_err(|_| "the client certificate is not PEM".to_owned())?;
            if chain.is_empty() {
                return Err("the client certificate holds no PEM certificate".into());
            }
            let key = PrivateKeyDer::from_pem_slice(key)
                .map_err(|_| "the client key is not a PEM private key".to_owned())?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|_| "the client certificate and key do not make a usable pair".into())
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// The bearer token of a target, when it has one.
async fn bearer(auth: &Auth) -> Result<Option<String>, String> {
    match auth {
        Auth::None => Ok(None),
        Auth::Token(t) => Ok(Some(t.clone())),
        Auth::TokenFile(path) => {
            let bytes = kubeconfig::read_bounded(path, "token file")?;
            let token = String::from_utf8(bytes)
                .map_err(|_| format!("token file `{}` is not text", path.display()))?;
            let token = token.trim();
            if token.is_empty() {
                return Err(format!("token file `{}` is empty", path.display()));
            }
            Ok(Some(token.to_owned()))
        }
        Auth::Exec(exec) => exec_token(exec).await.map(Some),
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredential {
    api_version: Option<String>,
    kind: Option<String>,
    status: Option<ExecStatus>,
}

#[derive(serde::Deserialize)]
struct ExecStatus {
    token: Option<String>,
}

/// Runs an exec plugin and reads the token of the ExecCredential it prints.
pub async fn exec_token(exec: &Exec) -> Result<String, String> {
    use tokio::io::AsyncReadExt;
    let name = exec.command.display().to_string();
    let what = format!("the exec plugin `{name}` of user `{}`", exec.user);
    let info = serde_json::json!({
        "apiVersion": exec.api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": false},
    });
    let mut child = tokio::process::Command::new(&exec.command)
        .args(&exec.args)
        .envs(exec.env.iter().map(|(k, v)| (k, v)))
        .env("KUBERNETES_EXEC_INFO", info.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            let hint = exec
                .install_hint
                .as_deref()
                .map(|h| format!(" ({})", h.trim()))
                .unwrap_or_default();
            format!("{what} could not start: {e}{hint}")
        })?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let run = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut stdout = (&mut stdout).take(MAX_EXEC_OUTPUT + 1);
        let mut stderr = (&mut stderr).take(64 * 1024);
        let (a, b) = tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
        a.and(b)?;
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((status, out, err))
    };
    let (status, out, err) = match tokio::time::timeout(EXEC_TIMEOUT, run).await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return Err(format!("{what} failed: {e}")),
        Err(_) => {
            return Err(format!(
                "{what} did not finish within {}",
                crate::duration::human(EXEC_TIMEOUT)
            ))
        }
    };
    if !status.success() {
        let text = String::from_utf8_lossy(&err);
        let last: String = text
            .trim()
            .lines()
            .last()
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        return Err(format!(
            "{what} failed ({status}){}",
            if last.is_empty() {
                String::new()
            } else {
                format!(": {last}")
            }
        ));
    }
    if out.len() as u64 > MAX_EXEC_OUTPUT {
        return Err(format!("{what} printed more than 1 MiB"));
    }
    let credential: ExecCredential = serde_json::from_slice(&out).map_err(|e| {
        format!(
            "{what} printed no ExecCredential JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    if credential.kind.as_deref() != Some("ExecCredential") {
        return Err(format!("{what} printed no ExecCredential (`kind`)"));
    }
    if credential.api_version.as_deref() != Some(exec.api_version.as_str()) {
        return Err(format!(
            "{what} printed an ExecCredential of another `apiVersion` than `{}`",
            exec.api_version
        ));
    }
    credential
        .status
        .and_then(|s| s.token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("{what} printed an ExecCredential without `status.token` (a client certificate from a plugin is not supported)"))
}

/// A cluster's connection: its address, client, bearer token.
struct Connection {
    cluster: String,
    server: String,
    client: HttpClient<Empty<Bytes>>,
    authorization: Option<http::HeaderValue>,
}

impl Connection {
    async fn open(cluster: &str, target: &Target) -> Result<Connection, ReadError> {
        let fail = |why: String| failed(cluster, &why);
        let server = server_uri(&target.server).map_err(fail)?;
        let tls = tls_config(target).map_err(fail)?;
        let authorization = match bearer(&target.auth).await.map_err(fail)? {
            Some(token) => {
                let mut value =
                    http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        fail("the token holds characters an HTTP header cannot carry".into())
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Connection {
            cluster: cluster.to_owned(),
            server,
            client: crate::net::client_with_tls(tls),
            authorization,
        })
    }

    fn failed(&self, why: &str) -> ReadError {
        ReadError::Failed(format!(
            "Kubernetes cluster `{}` ({}): {why}",
            self.cluster, self.server
        ))
    }

    /// One page of pods; the path is `/api/v1/pods` or `/api/v1/namespaces/NS/pods`.
    async fn page(
        &self,
        path: &str,
        next: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<pods::PodList, ReadError> {
        use crate::text::percent_encode;
        let mut url = format!(
            "{}{path}?limit={PAGE_SIZE}&fieldSelector={}",
            self.server,
            percent_encode(FIELD_SELECTOR)
        );
        if let Some(next) = next {
            url.push_str("&continue=");
            url.push_str(&percent_encode(next));
        }
        let mut request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("little-stack/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(auth) = &self.authorization {
            request = request.header(http::header::AUTHORIZATION, auth.clone());
        }
        let request = request
            .body(Empty::new())
            .map_err(|_| self.failed("the request could not be built"))?;
        let work = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| self.failed(&crate::net::error_text(&e)))?;
            let status = response.status();
            let declared = response
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > MAX_PAGE_BYTES as u64) {
                return Err(self.too_large());
            }
            let body = crate::net::read_at_most(response.into_body(), MAX_PAGE_BYTES + 1).await;
            if body.len() > MAX_PAGE_BYTES {
                return Err(self.too_large());
            }
            Ok((status, body))
        };
        let (status, body) =
            tokio::time::timeout(REQUEST_TIMEOUT, work)
                .await
                .map_err(|_| {
                    self.failed(&format!(
                        "no answer within {}",
                        crate::duration::human(REQUEST_TIMEOUT)
                    ))
                })??;
        if !status.is_success() {
            return Err(self.status_error(status, &body, namespace));
        }
        serde_json::from_slice(&body).map_err(|e| {
            self.failed(&format!(
                "the answer is not a PodList: {}",
                kubeconfig::without_values(&e.to_string())
            ))
        })
    }

    fn too_large(&self) -> ReadError {
        self.failed(&format!(
            "a page of pods is larger than {} MiB",
            MAX_PAGE_BYTES / 1024 / 1024
        ))
    }

    /// An answer other than 2xx, read as a Kubernetes `Status`.
    fn status_error(
        &self,
        status: http::StatusCode,
        body: &[u8],
        namespace: Option<&str>,
    ) -> ReadError {
        #[derive(serde::Deserialize)]
        struct Status {
            message: Option<String>,
            reason: Option<String>,
        }
        let parsed: Option<Status> = serde_json::from_slice(body).ok();
        let message: String = parsed
            .as_ref()
            .and_then(|s| s.message.clone().or_else(|| s.reason.clone()))
            .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned())
            .chars()
            .take(300)
            .collect();
        let said = if message.is_empty() {
            String::new()
        } else {
            format!(": {message}")
        };
        match status.as_u16() {
            401 => ReadError::Failed(format!(
                "the credentials of Kubernetes cluster `{}` were refused ({}, HTTP 401){said}",
                self.cluster, self.server
            )),
            403 => {
                let permission = match namespace {
                    Some(ns) => format!("list pods in namespace {ns}"),
                    None => "list pods".to_owned(),
                };
                ReadError::Denied {
                    message: format!(
                        "Kubernetes cluster `{}` ({}) denied `{permission}`{}{said}",
                        self.cluster,
                        self.server,
                        if namespace.is_none() {
                            " cluster-wide"
                        } else {
                            ""
                        }
                    ),
                    permission,
                }
            }
            410 => self.failed(&format!(
                "the listing's continue token expired while paging (HTTP 410){said}"
            )),
            code => self.failed(&format!("HTTP {code}{said}")),
        }
    }

    /// Every page of one listing, each pod's uses added to `out`.
    async fn list(
        &self,
        namespace: Option<&str>,
        out: &mut BTreeSet<ImageUse>,
    ) -> Result<(), ReadError> {
        let path = match namespace {
            Some(ns) => format!(
                "/api/v1/namespaces/{}/pods",
                crate::text::percent_encode(ns)
            ),
            None => "/api/v1/pods".to_owned(),
        };
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self.page(&path, next.as_deref(), namespace).await?;
            for pod in page.items.iter().flatten() {
                pods::pod_uses(&self.cluster, pod, out);
            }
            let token = page.metadata.and_then(|m| m.next).filter(|t| !t.is_empty());
            match token {
                None => return Ok(()),
                Some(t) if next.as_deref() == Some(t.as_str()) => {
                    return Err(self.failed("the server sent the same continue token twice"))
                }
                Some(t) => next = Some(t),
            }
        }
        Err(self.failed(&format!(
            "the pod listing did not end within {MAX_PAGES} pages"
        )))
    }
}

/// The images of the pods of a target: one listing cluster-wide, or one per namespace.
pub async fn images(
    cluster: &str,
    target: &Target,
    namespaces: &[String],
) -> Result<Vec<ImageUse>, ReadError> {
    let connection = Connection::open(cluster, target).await?;
    let mut out = BTreeSet::new();
    if namespaces.is_empty() {
        connection.list(None, &mut out).await?;
    } else {
        for ns in namespaces {
            connection.list(Some(ns), &mut out).await?;
        }
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests;
