//! Reading blobs (image configs and layers) through a registry's OCI distribution API
//! (`GET /v2/<name>/blobs/<digest>`), authenticated with the ECR authorization token.
//! Redirects (ECR answers with a presigned S3 URL) are followed without the credentials.
//! Layers come as a stream of chunks through a small bounded channel, so memory stays the
//! same whatever their size; every blob's SHA-256 is checked against its digest.

use std::time::Duration;

use http::{header, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Chunks in flight between the network and the layer reader.
pub const CHANNEL_CHUNKS: usize = 8;

/// A registry to read blobs from.
#[derive(Clone)]
pub struct Registry {
    /// `https://123456789012.dkr.ecr.eu-west-1.amazonaws.com` (or a test registry).
    base: String,
    /// The `Authorization` header value for the registry itself.
    auth: Option<String>,
    client: crate::net::HttpClient<Empty<Bytes>>,
    timeout: Duration,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("base", &self.base)
            .finish()
    }
}

fn registry_error(message: String) -> Error {
    Error::Aws {
        operation: "registry".into(),
        message,
    }
}

impl Registry {
    pub fn new(base: &str, auth: Option<String>) -> Result<Registry> {
        let base = base.trim_end_matches('/').to_owned();
        base.parse::<Uri>()
            .map_err(|e| Error::Usage(format!("the registry URL `{base}` is not valid: {e}")))?;
        Ok(Registry {
            base,
            auth,
            client: crate::net::client().map_err(registry_error)?,
            timeout: Duration::from_secs(60),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// GET a blob, following up to five redirects; the response whose status is 200.
    async fn open(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<http::Response<hyper::body::Incoming>> {
        let mut url = format!("{}/v2/{repository}/blobs/{digest}", self.base);
        let mut with_auth = true;
        for _ in 0..6 {
            let uri: Uri = url
                .parse()
                .map_err(|e| registry_error(format!("a redirect to an invalid URL: {e}")))?;
            let mut request = http::Request::get(uri.clone()).header(
                header::USER_AGENT,
                concat!("little-stack/", env!("CARGO_PKG_VERSION")),
            );
            if with_auth {
                if let Some(a) = &self.auth {
                    request = request.header(header::AUTHORIZATION, a);
                }
            }
            let request = request
                .body(Empty::new())
                .map_err(|e| Error::Internal(e.to_string()))?;
            let response = tokio::time::timeout(self.timeout, self.client.request(request))
                .await
                .map_err(|_| {
                    registry_error(format!(
                        "no answer from {} within {} s",
                        host(&uri),
                        self.timeout.as_secs()
                    ))
                })?
                .map_err(|e| {
                    registry_error(format!("{}: {}", host(&uri), crate::net::error_text(&e)))
                })?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| registry_error(format!("a {status} without a Location")))?;
                let next = if location.starts_with('/') {
                    format!(
                        "{}://{}{location}",
                        uri.scheme_str().unwrap_or("https"),
                        host(&uri)
                    )
                } else {
                    location.to_owned()
                };
                // Credentials for the registry never go to the storage it redirects to.
                with_auth = next.parse::<Uri>().ok().map(|u| host(&u)) == Some(host(&uri));
                url = next;
                continue;
            }
            if status == StatusCode::OK {
                return Ok(response);
            }
            let text = crate::net::body_excerpt(response.into_body(), 300).await;
            return Err(registry_error(format!(
                "GET blob {digest} of {repository}: HTTP {status}: {text}"
            )));
        }
        Err(registry_error(format!(
            "GET blob {digest} of {repository}: too many redirects"
        )))
    }

    /// A small blob (the image config), at most `limit` bytes, checked against its digest.
    pub async fn blob(&self, repository: &str, digest: &str, limit: usize) -> Result<Vec<u8>> {
        let response = self.open(repository, digest).await?;
        let mut body = response.into_body();
        let mut out = Vec::new();
        let mut hasher = Sha256::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| registry_error(format!("reading {digest}: {e}")))?;
            if let Ok(data) = frame.into_data() {
                if out.len() + data.len() > limit {
                    return Err(registry_error(format!(
                        "blob {digest} is larger than {limit} bytes"
                    )));
                }
                hasher.update(&data);
                out.extend_from_slice(&data);
            }
        }
        verify(digest, hasher)?;
        Ok(out)
    }

    /// Streams a blob into `sink` chunk by chunk (the channel bounds what is in memory); the
    /// digest is checked at the end and a mismatch is sent as the last item.
    pub async fn stream(
        &self,
        repository: &str,
        digest: &str,
        sink: tokio::sync::mpsc::Sender<std::result::Result<Bytes, String>>,
    ) -> Result<()> {
        let response = self.open(repository, digest).await?;
        let mut body = response.into_body();
        let mut hasher = Sha256::new();
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(f) => f,
                Err(e) => {
                    let message = format!("reading layer {digest}: {e}");
                    let _ = sink.send(Err(message.clone())).await;
                    return Err(registry_error(message));
                }
            };
            if let Ok(data) = frame.into_data() {
                hasher.update(&data);
                if sink.send(Ok(data)).await.is_err() {
                    // The reader stopped (it failed and says why).
                    return Ok(());
                }
            }
        }
        if let Err(e) = verify(digest, hasher) {
            let _ = sink.send(Err(e.to_string())).await;
            return Err(e);
        }
        Ok(())
    }
}

fn verify(digest: &str, hasher: Sha256) -> Result<()> {
    let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
    if digest.starts_with("sha256:") && actual != digest {
        return Err(registry_error(format!(
            "blob {digest} does not match its digest (read {actual})"
        )));
    }
    Ok(())
}

fn host(uri: &Uri) -> String {
    uri.authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default()
}

/// A blocking [`std::io::Read`] over the chunks of a channel, for the tar reader (which runs
/// on a blocking thread).
pub struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<std::result::Result<Bytes, String>>,
    current: Bytes,
}

impl ChannelReader {
    pub fn new(rx: tokio::sync::mpsc::Receiver<std::result::Result<Bytes, String>>) -> Self {
        ChannelReader {
            rx,
            current: Bytes::new(),
        }
    }
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(message)) => return Err(std::io::Error::other(message)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}
