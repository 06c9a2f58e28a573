//! Reading blobs (image configs and layers) through a registry's OCI distribution API
//! (`GET /v2/<name>/blobs/<digest>`), authenticated with the ECR authorization token.
//! Redirects (ECR answers with a presigned S3 URL) are followed without the credentials.
//! Layers come as a stream of chunks through a small bounded channel, so memory stays the
//! same whatever their size; every blob is checked against its digest (sha256 or sha512) and
//! its descriptor's size.
//!
//! The registry is not trusted to be quick: it has `check.limits.read_timeout` to send the
//! headers of an answer and each next part of its body, and an error body is read only up to
//! a bound. The token is sent only over https, or over plain http to a loopback address (a
//! local test registry); any other plain-http registry is refused.

use std::net::IpAddr;
use std::time::Duration;

use http::{header, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;

use super::limits::{over, parse_digest, Hasher, Problem, Stop};
use crate::error::{Error, Result};
use crate::text::thousands;

/// Chunks in flight between the network and the layer reader.
pub const CHANNEL_CHUNKS: usize = 8;
/// Characters of an error body in an error message.
const ERROR_EXCERPT: usize = 300;

/// A registry to read blobs from.
#[derive(Clone)]
pub struct Registry {
    /// `https://123456789012.dkr.ecr.eu-west-1.amazonaws.com` (or a test registry).
    base: String,
    /// The `Authorization` header value for the registry itself.
    auth: Option<String>,
    client: crate::net::HttpClient<Empty<Bytes>>,
    /// How long an answer's headers, or the next part of its body, may take.
    read_timeout: Duration,
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

/// Whether `uri`'s host is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
fn loopback(uri: &Uri) -> bool {
    match uri.host() {
        Some(h) if h.eq_ignore_ascii_case("localhost") => true,
        Some(h) => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// Whether credentials may go to `uri`: https, or plain http to a loopback address.
fn may_carry_credentials(uri: &Uri) -> bool {
    match uri.scheme_str() {
        Some("https") => true,
        Some("http") => loopback(uri),
        _ => false,
    }
}

/// A repository name as the distribution spec allows it (lowercase path components of
/// letters, digits and `._-`), so that it cannot change the URL it is put in.
fn check_repository(repository: &str) -> Result<()> {
    let ok = !repository.is_empty()
        && repository.len() <= 256
        && repository.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && part
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric())
        });
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "`{repository}` is not a repository name (lowercase letters, digits, `._-` and `/`)"
        )))
    }
}

impl Registry {
    /// A registry at `base`. With `auth`, `base` must be https or a loopback address: the
    /// token is never sent over plain http to another host.
    pub fn new(base: &str, auth: Option<String>, read_timeout: Duration) -> Result<Registry> {
        let base = base.trim_end_matches('/').to_owned();
        let uri = base
            .parse::<Uri>()
            .map_err(|e| Error::Usage(format!("the registry URL `{base}` is not valid: {e}")))?;
        if !matches!(uri.scheme_str(), Some("https" | "http")) || uri.host().is_none() {
            return Err(Error::Usage(format!(
                "the registry URL `{base}` is not an https:// (or http://) URL"
            )));
        }
        if auth.is_some() && !may_carry_credentials(&uri) {
            return Err(Error::Refused(format!(
                "the registry URL `{base}` is plain http to a host that is not a loopback address, and the ECR authorization token is sent only over https (or to 127.0.0.1, ::1 or localhost, such as a local test registry): use an https:// URL in `check.registry_url` or `--registry-url`"
            )));
        }
        Ok(Registry {
            base,
            auth,
            client: crate::net::client().map_err(registry_error)?,
            read_timeout,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn timed_out(&self, what: &str) -> Stop {
        Stop::Problem(Problem::Timeout(format!(
            "{what} within `check.limits.read_timeout` ({})",
            crate::duration::human(self.read_timeout)
        )))
    }

    /// GET a blob, following up to five redirects; the response whose status is 200.
    async fn open(
        &self,
        repository: &str,
        digest: &str,
    ) -> std::result::Result<http::Response<hyper::body::Incoming>, Stop> {
        check_repository(repository)?;
        parse_digest(digest)?;
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
            if with_auth && may_carry_credentials(&uri) {
                if let Some(a) = &self.auth {
                    request = request.header(header::AUTHORIZATION, a);
                }
            }
            let request = request
                .body(Empty::new())
                .map_err(|e| Error::Internal(e.to_string()))?;
            let response = tokio::time::timeout(self.read_timeout, self.client.request(request))
                .await
                .map_err(|_| {
                    self.timed_out(&format!("{} sent no answer for blob {digest}", host(&uri)))
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
            // The error body is read up to a bound and for a bounded time.
            let text = tokio::time::timeout(
                self.read_timeout,
                crate::net::body_excerpt(response.into_body(), ERROR_EXCERPT),
            )
            .await
            .unwrap_or_default();
            return Err(registry_error(format!(
                "GET blob {digest} of {repository}: HTTP {status}: {text}"
            ))
            .into());
        }
        Err(registry_error(format!(
            "GET blob {digest} of {repository}: too many redirects"
        ))
        .into())
    }

    /// The next part of a body, within the read timeout.
    async fn next_frame(
        &self,
        body: &mut hyper::body::Incoming,
        what: &str,
    ) -> std::result::Result<Option<Bytes>, Stop> {
        loop {
            let frame = tokio::time::timeout(self.read_timeout, body.frame())
                .await
                .map_err(|_| self.timed_out(&format!("the registry sent no more of {what}")))?;
            match frame {
                None => return Ok(None),
                Some(Err(e)) => {
                    return Err(registry_error(format!(
                        "reading {what}: {}",
                        crate::net::error_text(&e)
                    ))
                    .into())
                }
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }

    /// A small blob (the image config), at most `limit` bytes (`check.limits.max_config_bytes`),
    /// checked against its digest and its descriptor's `size` (when it names one).
    pub async fn blob(
        &self,
        repository: &str,
        digest: &str,
        size: Option<u64>,
        limit: u64,
    ) -> std::result::Result<Vec<u8>, Stop> {
        let mut hasher = Hasher::for_digest(digest)?;
        let too_big = |n: u64| {
            over(
                "max_config_bytes",
                limit,
                format!(
                    "the image config {digest} is {} bytes or more",
                    thousands(n)
                ),
            )
        };
        if let Some(s) = size.filter(|s| *s > limit) {
            return Err(too_big(s).into());
        }
        let response = self.open(repository, digest).await?;
        let mut body = response.into_body();
        let mut out = Vec::new();
        let what = format!("blob {digest}");
        while let Some(data) = self.next_frame(&mut body, &what).await? {
            let total = (out.len() + data.len()) as u64;
            if total > limit {
                return Err(too_big(total).into());
            }
            check_size(digest, size, total, false)?;
            hasher.update(&data);
            out.extend_from_slice(&data);
        }
        check_size(digest, size, out.len() as u64, true)?;
        hasher.verify(digest, &format!("the image config {digest}"))?;
        Ok(out)
    }

    /// Streams a blob into `sink` chunk by chunk (the channel bounds what is in memory); its
    /// digest and size are checked at the end. A failure is also sent to the reader as the
    /// last item, so that it stops.
    pub async fn stream(
        &self,
        repository: &str,
        digest: &str,
        size: Option<u64>,
        sink: tokio::sync::mpsc::Sender<std::result::Result<Bytes, String>>,
    ) -> std::result::Result<(), Stop> {
        let result = self.stream_into(repository, digest, size, &sink).await;
        if let Err(stop) = &result {
            let message = match stop {
                Stop::Problem(p) => p.to_string(),
                Stop::Error(e) => e.to_string(),
            };
            let _ = sink.send(Err(message)).await;
        }
        result
    }

    async fn stream_into(
        &self,
        repository: &str,
        digest: &str,
        size: Option<u64>,
        sink: &tokio::sync::mpsc::Sender<std::result::Result<Bytes, String>>,
    ) -> std::result::Result<(), Stop> {
        let mut hasher = Hasher::for_digest(digest)?;
        let response = self.open(repository, digest).await?;
        let mut body = response.into_body();
        let what = format!("layer {digest}");
        let mut total = 0u64;
        while let Some(data) = self.next_frame(&mut body, &what).await? {
            total += data.len() as u64;
            check_size(digest, size, total, false)?;
            hasher.update(&data);
            if sink.send(Ok(data)).await.is_err() {
                // The reader stopped (it failed and says why).
                return Ok(());
            }
        }
        check_size(digest, size, total, true)?;
        hasher.verify(digest, &format!("layer {digest}"))?;
        Ok(())
    }
}

/// A blob longer than its descriptor's `size` (or, at its end, of another length) is not the
/// blob the manifest names.
fn check_size(
    digest: &str,
    size: Option<u64>,
    read: u64,
    end: bool,
) -> std::result::Result<(), Problem> {
    match size {
        Some(s) if read > s => Err(Problem::Digest(format!(
            "blob {digest} is longer than the {} bytes its descriptor says",
            thousands(s)
        ))),
        Some(s) if end && read != s => Err(Problem::Digest(format!(
            "blob {digest} is {} bytes, not the {} bytes its descriptor says",
            thousands(read),
            thousands(s)
        ))),
        _ => Ok(()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(1);

    #[test]
    fn the_token_goes_only_over_https_or_to_loopback() {
        let token = || Some("Basic dG9rZW4=".to_owned());
        for ok in [
            "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "http://127.0.0.1:5000",
            "http://127.8.9.10:5000/",
            "http://[::1]:5000",
            "http://localhost:5000",
        ] {
            Registry::new(ok, token(), T).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        let e = Registry::new("http://registry.example.com:5000", token(), T).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit::REFUSED, "{e}");
        assert!(e.to_string().starts_with("refused: the registry URL `http://registry.example.com:5000` is plain http to a host that is not a loopback address"), "{e}");
        assert!(
            e.to_string()
                .contains("`check.registry_url` or `--registry-url`"),
            "{e}"
        );
        // Nothing to protect: allowed.
        Registry::new("http://registry.example.com:5000", None, T).unwrap();
        assert!(Registry::new("ftp://127.0.0.1/", token(), T).is_err());
        assert!(!may_carry_credentials(
            &"http://127.0.0.1.example.com/".parse().unwrap()
        ));
        assert!(!may_carry_credentials(&"http://10.0.0.1/".parse().unwrap()));
    }

    #[test]
    fn repository_names_and_sizes_are_checked() {
        check_repository("team/api").unwrap();
        check_repository("a.b_c-d/e").unwrap();
        for bad in [
            "",
            "Team/api",
            "team//api",
            "../x",
            "team/api?x=1",
            "team/api#x",
            "/team",
        ] {
            assert!(check_repository(bad).is_err(), "{bad}");
        }
        let d = "sha256:00";
        check_size(d, Some(10), 10, true).unwrap();
        check_size(d, None, 99, true).unwrap();
        check_size(d, Some(10), 5, false).unwrap();
        assert_eq!(
            check_size(d, Some(10), 11, false).unwrap_err().to_string(),
            "blob sha256:00 is longer than the 10 bytes its descriptor says"
        );
        assert_eq!(
            check_size(d, Some(10), 9, true).unwrap_err().to_string(),
            "blob sha256:00 is 9 bytes, not the 10 bytes its descriptor says"
        );
    }
}
