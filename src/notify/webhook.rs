//! Posting a JSON message to a webhook (Slack, Teams or your own receiver) over HTTPS (or
//! HTTP on loopback), with a total timeout per attempt (connecting, sending, the answer's
//! headers and the part of an error body that is read, together) and retries with backoff on
//! connection errors, timeouts, 429 and 5xx answers. A 2xx answer is success as soon as its
//! headers arrive (its body is not waited for, so a slow body never makes a delivered message
//! be sent again); an error body is read up to a bound, for the message. Webhook URLs are
//! secrets: errors name only the host.

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
    /// The whole of one attempt: connecting, sending, the answer's headers and the part of an
    /// error body that is read.
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
        let deadline = tokio::time::Instant::now() + retry.timeout;
        let outcome = match tokio::time::timeout_at(deadline, client.request(request)).await {
            Err(_) => Err((
                true,
                format!("no answer within {}", crate::duration::human(retry.timeout)),
            )),
            Ok(Err(e)) => Err((true, crate::net::error_text(&e))),
            Ok(Ok(response)) => {
                let status = response.status();
                if status.is_success() {
                    Ok(())
                } else {
                    // What fits in the attempt's time, up to a bound.
                    let text = tokio::time::timeout_at(
                        deadline,
                        crate::net::body_excerpt(response.into_body(), 200),
                    )
                    .await
                    .unwrap_or_default();
                    let retryable = status.as_u16() == 429 || status.is_server_error();
                    Err((
                        retryable,
                        format!("HTTP {status}: {text}")
                            .trim_end_matches(": ")
                            .to_owned(),
                    ))
                }
            }
        };
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
    use std::io::{BufRead, BufReader, Write};
    use std::time::Instant;

    /// A server on loopback that reads each request's head and then runs `answer` on the
    /// connection; its URL.
    fn server(answer: fn(&mut std::net::TcpStream)) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                    }
                    answer(&mut stream);
                });
            }
        });
        url
    }

    const QUICK: Retry = Retry {
        attempts: 2,
        backoff: Duration::from_millis(10),
        timeout: Duration::from_millis(700),
    };

    #[tokio::test]
    async fn a_body_that_never_ends_costs_at_most_the_timeout() {
        // Headers of an error, then a body trickling for ever.
        let url = server(|s| {
            let _ = write!(s, "HTTP/1.1 500 X\r\nContent-Length: 100000000\r\n\r\n");
            for _ in 0..600 {
                if s.write_all(b"x").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let started = Instant::now();
        let err = post_json(&url, &serde_json::json!({}), QUICK)
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(err.to_string().contains("HTTP 500"), "{err}");
    }

    #[tokio::test]
    async fn an_answer_that_never_comes_is_a_timeout() {
        let url = server(|_| std::thread::sleep(Duration::from_secs(30)));
        let started = Instant::now();
        let err = post_json(&url, &serde_json::json!({}), QUICK)
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(err.to_string().contains("no answer within"), "{err}");
    }

    #[tokio::test]
    async fn a_huge_error_body_is_read_up_to_a_bound() {
        let url = server(|s| {
            let body = vec![b'e'; 8 * 1024 * 1024];
            let _ = write!(
                s,
                "HTTP/1.1 400 X\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        });
        let err = post_json(&url, &serde_json::json!({}), QUICK)
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("HTTP 400 Bad Request: eee"), "{text}");
        assert!(text.len() < 400, "{} characters", text.len());
    }

    #[tokio::test]
    async fn success_does_not_wait_for_the_body() {
        // 200 at once, then a body that never comes: delivered, not retried.
        let url = server(|s| {
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
            std::thread::sleep(Duration::from_secs(30));
        });
        let started = Instant::now();
        post_json(&url, &serde_json::json!({}), QUICK)
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_millis(700));
    }

    #[test]
    fn redaction_keeps_only_scheme_and_host() {
        assert_eq!(
            redacted("https://hooks.slack.com/services/T000/B000/XXXX"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(redacted("not a url"), "an invalid URL");
    }
}
