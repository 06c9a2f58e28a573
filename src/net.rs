//! The HTTP client of the calls the tool makes outside the AWS SDK (webhooks, the registry's
//! OCI distribution API, health checks): HTTP/1.1, over https with the system's root
//! certificates (rustls with ring, as the SDK's own client) or plain http.

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

/// The most of an error body read for its excerpt: a server cannot make an error message
/// cost more memory than this.
pub const EXCERPT_BYTES: usize = 64 * 1024;

/// The start of a response body, for an error message (at most `max` characters, trimmed,
/// from at most [`EXCERPT_BYTES`] of the body); empty when it cannot be read.
pub async fn body_excerpt(mut body: hyper::body::Incoming, max: usize) -> String {
    use http_body_util::BodyExt;
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let room = EXCERPT_BYTES - bytes.len();
                    bytes.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            _ => break,
        }
    }
    let text: String = String::from_utf8_lossy(&bytes).chars().take(max).collect();
    text.trim().to_owned()
}
