//! CORS for `little serve`'s endpoints, for dashboards in a browser: off unless origins are
//! listed (`--cors-origin`, `audit.cors_origins`). A listed origin gets
//! `Access-Control-Allow-Origin` with its own name on every answer, and its preflights
//! (`OPTIONS` with `Access-Control-Request-Method`) are answered 204 with the route's
//! methods; any other origin gets no CORS header, and its preflight a 403 that says why.
//! Never `*`, never `Access-Control-Allow-Credentials`: the API takes bearer tokens, which a
//! page sends only where it is allowed to.

use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;

/// How long a browser may keep a preflight's answer.
const MAX_AGE_SECONDS: &str = "600";

/// The `Origin` of a request, when it is one of `allowed` (compared without regard to case).
pub fn allowed_origin<'a>(headers: &'a HeaderMap, allowed: &[String]) -> Option<&'a str> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    allowed
        .iter()
        .any(|a| a.eq_ignore_ascii_case(origin.trim_end_matches('/')))
        .then_some(origin)
}

/// Whether a request is a CORS preflight.
pub fn is_preflight(method: &http::Method, headers: &HeaderMap) -> bool {
    method == http::Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Adds the CORS headers to an answer: `Vary: Origin` whenever CORS is on, and the allowed
/// origin when the request's is listed.
pub fn decorate(answer: &mut Response<Full<Bytes>>, origin: Option<&str>, allowed: &[String]) {
    if allowed.is_empty() {
        return;
    }
    let headers = answer.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) else {
        return;
    };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("location, www-authenticate"),
    );
}

/// The answer to a preflight for a route that takes `methods`, from an allowed origin:
/// 204 with what it may send. (The origin itself is added by [`decorate`].)
pub fn preflight_ok(methods: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE_SECONDS),
    );
    h.insert(header::ALLOW, HeaderValue::from_static(methods));
    r
}

/// Why a preflight is refused.
pub fn refusal(origin: &str, allowed: &[String]) -> String {
    if allowed.is_empty() {
        format!(
            "cross-origin requests are not allowed: the origin `{origin}` is not listed (CORS is off; list origins with --cors-origin or little.yaml's audit.cors_origins)"
        )
    } else {
        format!(
            "cross-origin requests from `{origin}` are not allowed; the allowed origins are {}",
            allowed.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn only_listed_origins_are_allowed() {
        let allowed = vec!["https://dash.example.com".to_owned()];
        let h = headers(&[("origin", "https://DASH.example.com")]);
        assert_eq!(
            allowed_origin(&h, &allowed),
            Some("https://DASH.example.com")
        );
        let h = headers(&[("origin", "https://evil.example.com")]);
        assert_eq!(allowed_origin(&h, &allowed), None);
        assert_eq!(allowed_origin(&HeaderMap::new(), &allowed), None);
        assert_eq!(allowed_origin(&h, &[]), None);
    }

    #[test]
    fn decorate_adds_the_origin_and_vary_but_never_a_wildcard() {
        let allowed = vec!["https://dash.example.com".to_owned()];
        let mut r = Response::new(Full::new(Bytes::new()));
        decorate(&mut r, Some("https://dash.example.com"), &allowed);
        assert_eq!(
            r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://dash.example.com"
        );
        assert_eq!(r.headers()[header::VARY], "origin");
        assert!(!r
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
        let mut r = Response::new(Full::new(Bytes::new()));
        decorate(&mut r, None, &allowed);
        assert!(!r
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        assert_eq!(r.headers()[header::VARY], "origin");
        let mut r = Response::new(Full::new(Bytes::new()));
        decorate(&mut r, Some("https://dash.example.com"), &[]);
        assert!(r.headers().is_empty(), "CORS off: no header at all");
        let p = preflight_ok("GET, POST");
        assert_eq!(p.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            p.headers()[header::ACCESS_CONTROL_ALLOW_METHODS],
            "GET, POST"
        );
        assert!(is_preflight(
            &http::Method::OPTIONS,
            &headers(&[("origin", "x"), ("access-control-request-method", "POST")])
        ));
        assert!(!is_preflight(
            &http::Method::OPTIONS,
            &headers(&[("origin", "x")])
        ));
        assert!(refusal("https://x", &allowed).contains("https://dash.example.com"));
        assert!(refusal("https://x", &[]).contains("--cors-origin"));
    }
}
