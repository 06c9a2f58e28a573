//! The HTTP client of the calls the tool makes outside the AWS SDK (webhooks, the registry's
//! OCI distribution API, health checks): HTTP/1.1, over https with the system's root
//! certificates (rustls with ring, as the SDK's own client) or plain http; and [`get`], the
//! GET of `little healthcheck`.

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A client for request bodies of type `B`.
pub type HttpClient<B> = Client<hyper_rustls::HttpsConnector<HttpConnector>, B>;

/// A new client; the error says why TLS could not be set up.
pub fn client<B>() -> Result<HttpClient<B>, String>
where
    B: hyper::body::Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
        .map_err(|e| format!("no TLS root certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// A client over https with `config`'s roots and client certificate (a Kubernetes API server's
/// own certificate authority), or plain http.
pub fn client_with_tls<B>(config: rustls::ClientConfig) -> HttpClient<B>
where
    B: hyper::body::Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(connector)
}

/// An error and its sources, joined with `: ` (hyper's own message alone says little).
pub fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text = format!("{text}: {next}");
        }
        source = s.source();
    }
    text
}

/// GETs `uri` (http, or https with the system's root certificates) and returns the answer's
/// status, having read the body. The error is a sentence naming the cause.
pub async fn get(uri: &http::Uri) -> Result<http::StatusCode, String> {
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    if !matches!(uri.scheme_str(), Some("http") | Some("https")) {
        return Err("the URL must start with http:// or https://".into());
    }
    let client: HttpClient<Empty<Bytes>> = client()?;
    let request = http::Request::get(uri.clone())
        .header(
            http::header::USER_AGENT,
            concat!("little-stack/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let response = client.request(request).await.map_err(|e| error_text(&e))?;
    let status = response.status();
    let _ = response.into_body().collect().await;
    Ok(status)
}

/// The most of a body [`body_excerpt`] reads: an error page is not read to its end, however
/// long it is (the connection is dropped instead of reused).
pub const EXCERPT_BYTES: usize = 64 * 1024;

/// The start of a response body, for an error message (at most `max` characters, trimmed);
/// empty when it cannot be read. At most [`EXCERPT_BYTES`] are read; the caller bounds the
/// time it may take.
pub async fn body_excerpt(body: hyper::body::Incoming, max: usize) -> String {
    let bytes = read_at_most(body, EXCERPT_BYTES.min(max.saturating_mul(4).max(1))).await;
    let text: String = String::from_utf8_lossy(&bytes).chars().take(max).collect();
    text.trim().to_owned()
}

/// Up to `limit` bytes of a body (fewer when it ends or fails first).
pub async fn read_at_most<B>(body: B, limit: usize) -> Vec<u8>
where
    B: hyper::body::Body + Unpin,
{
    use http_body_util::BodyExt;
    let mut body = body;
    let mut bytes = Vec::new();
    while bytes.len() < limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(mut data) = frame.into_data() {
                    use hyper::body::Buf;
                    let take = data.remaining().min(limit - bytes.len());
                    bytes.extend_from_slice(&data.copy_to_bytes(take));
                }
            }
            _ => break,
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use hyper::body::{Bytes, Frame};
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A body that never ends.
    struct Endless;

    impl hyper::body::Body for Endless {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"0123456789")))))
        }
    }

    #[tokio::test]
    async fn a_body_is_read_up_to_its_limit_only() {
        // The read stops at the limit.
        let got = read_at_most(Endless, 25).await;
        assert_eq!(got.len(), 25);
        let short = http_body_util::Full::new(Bytes::from_static(b"abc")).boxed();
        assert_eq!(read_at_most(short, 25).await, b"abc");
    }
}
