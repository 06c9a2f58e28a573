//! Posting a JSON message to a webhook (Slack, Teams or your own receiver) over HTTPS (or
//! HTTP on loopback), with a timeout per attempt and retries with backoff on connection
//! errors, 429 and 5xx answers. Webhook URLs are secrets: errors name only the host.

use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;

use crate::error::{Error, Result};

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    /// The first wait; doubled after each failed attempt.
    pub backoff: Duration,
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 3,
            backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The host of a URL, for messages that must not show the URL's secret path.
pub fn redacted(url: &str) -> String {
    match url.parse::<http::Uri>() {
        Ok(u) => format!(
            "{}://{}/…",
            u.scheme_str().unwrap_or("https"),
            u.authority().map(|a| a.as_str()).unwrap_or("?")
        ),
        Err(_) => "an invalid URL".into(),
    }
}

/// Posts `body` as JSON to `url`; the answer's status must be 2xx.
pub async fn post_json(url: &str, body: &serde_json::Value, retry: Retry) -> Result<()> {
    let uri: http::Uri = url.parse().map_err(|_| {
        Error::Usage(format!(
            "the webhook URL {} is not a valid URL",
            redacted(url)
        ))
    })?;
    if !matches!(uri.scheme_str(), Some("https") | Some("http")) {
        return Err(Error::Usage(format!(
            "the webhook URL {} must start with https://",
            redacted(url)
        )));
    }
    let client: crate::net::HttpClient<Full<Bytes>> =
        crate::net::client().map_err(|e| webhook_error(url, e))?;
    let payload =
        Bytes::from(serde_json::to_vec(body).map_err(|e| Error::Internal(e.to_string()))?);
    let mut wait = retry.backoff;
    let mut last = String::new();
    for attempt in 1..=retry.attempts.max(1) {
        let request = http::Request::post(uri.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("little-stack/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(payload.clone()))
            .map_err(|e| Error::Internal(e.to_string()))?;
        let outcome = tokio::time::timeout(retry.timeout, async {
            let response = client
                .request(request)
                .await
                .map_err(|e| (true, crate::net::error_text(&e)))?;
            let status = response.status();
            // Read to the end either way, so that the connection can be reused.
            let text = crate::net::body_excerpt(response.into_body(), 200).await;
            if status.is_success() {
                return Ok(());
            }
            let retryable = status.as_u16() == 429 || status.is_server_error();
            Err((retryable, format!("HTTP {status}: {text}")))
        })
        .await
        .unwrap_or_else(|_| {
            Err((
                true,
                format!("no answer within {} s", retry.timeout.as_secs()),
            ))
        });
        match outcome {
            Ok(()) => return Ok(()),
            Err((retryable, text)) => {
                last = text;
                if !retryable || attempt == retry.attempts {
                    break;
                }
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
    Err(webhook_error(url, last))
}

fn webhook_error(url: &str, message: String) -> Error {
    Error::Notify(format!("the webhook at {}: {message}", redacted(url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_only_scheme_and_host() {
        assert_eq!(
            redacted("https://hooks.slack.com/services/T000/B000/XXXX"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(redacted("not a url"), "an invalid URL");
    }
}
