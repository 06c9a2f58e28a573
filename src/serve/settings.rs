//! Where each setting of `little serve` comes from: its flag, else little's own variable,
//! else the variable of the tool it replaces (ecr_exporter's `APP_HOST` and `APP_PORT`,
//! `CACHE_REFRESH_INTERVAL`, `ECR_REGISTRY_ID`, `LOG_LEVEL`), else little.yaml, else the
//! default. A bad value is an error that names where it came from. The environment is
//! handed in ([`Env`]), so that the order can be tested without touching the process's.

use std::time::Duration;

use super::logging::{Format, Level};
use crate::error::{Error, Result};

/// A lookup of the environment: the value of a variable, None when unset.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process's environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// little's own variable of `--listen`.
pub const LISTEN_ENV: &str = "LITTLE_SERVE_LISTEN";
/// little's own variable of `--interval`.
pub const INTERVAL_ENV: &str = "LITTLE_SERVE_INTERVAL";
/// little's own variable of `--registry`.
pub const REGISTRY_ENV: &str = "LITTLE_SERVE_REGISTRY";
/// little's own variable of `--log-level`.
pub const LOG_LEVEL_ENV: &str = "LITTLE_LOG_LEVEL";
/// little's own variable of `--log-format`.
pub const LOG_FORMAT_ENV: &str = "LITTLE_LOG_FORMAT";

/// ecr_exporter's variables, read after little's own.
pub const APP_HOST: &str = "APP_HOST";
pub const APP_PORT: &str = "APP_PORT";
pub const CACHE_REFRESH_INTERVAL: &str = "CACHE_REFRESH_INTERVAL";
pub const ECR_REGISTRY_ID: &str = "ECR_REGISTRY_ID";
pub const LOG_LEVEL: &str = "LOG_LEVEL";
/// Not ecr_exporter's (it always logged JSON), but the usual name.
pub const LOG_FORMAT: &str = "LOG_FORMAT";

/// Every variable `little serve` reads for its settings, little's first (for the docs and
/// the tests' clean environment).
pub const VARIABLES: &[&str] = &[
    LISTEN_ENV,
    INTERVAL_ENV,
    REGISTRY_ENV,
    LOG_LEVEL_ENV,
    LOG_FORMAT_ENV,
    APP_HOST,
    APP_PORT,
    CACHE_REFRESH_INTERVAL,
    ECR_REGISTRY_ID,
    LOG_LEVEL,
    LOG_FORMAT,
];

/// A setting's value and where it came from (`--interval`, `CACHE_REFRESH_INTERVAL`,
/// `little.yaml's audit.interval`, `the default`), for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen<T> {
    pub value: T,
    pub source: String,
}

fn chosen<T>(value: T, source: impl Into<String>) -> Chosen<T> {
    Chosen {
        value,
        source: source.into(),
    }
}

/// A variable's value without surrounding whitespace; None when unset or blank (as
/// `docker run -e APP_PORT=` sets it).
fn var(env: Env, name: &str) -> Option<String> {
    env(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The first of `candidates` (source, value) that is set.
fn first(candidates: Vec<(&str, Option<String>)>) -> Option<Chosen<String>> {
    candidates
        .into_iter()
        .find_map(|(source, value)| value.map(|v| chosen(v, source)))
}

/// The address to listen on: `--listen`, `LITTLE_SERVE_LISTEN`, `APP_HOST` and `APP_PORT`
/// (either alone takes the other half from little.yaml's `audit.listen`, else from the
/// default), `audit.listen`, `default`.
pub fn listen(
    flag: Option<String>,
    env: Env,
    file: Option<&str>,
    default: &str,
) -> Result<Chosen<String>> {
    if let Some(c) = first(vec![("--listen", flag), (LISTEN_ENV, var(env, LISTEN_ENV))]) {
        return Ok(c);
    }
    let below = match file {
        Some(f) => chosen(f.to_owned(), "little.yaml's audit.listen"),
        None => chosen(default.to_owned(), "the default"),
    };
    let (host, port) = (var(env, APP_HOST), var(env, APP_PORT));
    if host.is_none() && port.is_none() {
        return Ok(below);
    }
    let (below_host, below_port) = split_address(&below.value)
        .or_else(|| split_address(default))
        .unwrap_or(("127.0.0.1", "9000"));
    let port = match &port {
        Some(p) => {
            p.parse::<u16>().map_err(|_| {
                Error::Usage(format!(
                    "{APP_PORT}=`{p}` is not a port number (0 to 65535)"
                ))
            })?;
            p.as_str()
        }
        None => below_port,
    };
    let host = match &host {
        Some(h) => {
            let bare = h.trim_start_matches('[').trim_end_matches(']');
            let fine = bare
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '%' | '_'));
            if !fine {
                return Err(Error::Usage(format!(
                    "{APP_HOST}=`{h}` is not a host name or IP address"
                )));
            }
            bare
        }
        None => below_host,
    };
    let source = match (var(env, APP_HOST).is_some(), var(env, APP_PORT).is_some()) {
        (true, true) => format!("{APP_HOST} and {APP_PORT}"),
        (true, false) => format!("{APP_HOST} (the port from {})", below.source),
        _ => format!("{APP_PORT} (the host from {})", below.source),
    };
    let address = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok(chosen(address, source))
}

/// The URL of `path` on this machine's `little serve`, for `little healthcheck`: the address
/// `little serve` would take from the environment (`LITTLE_SERVE_LISTEN`, else `APP_HOST` and
/// `APP_PORT`, else the default; little.yaml is not read), a wildcard host as loopback.
pub fn local_url(env: Env, path: &str) -> Result<String> {
    let address = listen(None, env, None, super::DEFAULT_LISTEN)?.value;
    let (host, port) = split_address(&address)
        .ok_or_else(|| Error::Usage(format!("`{address}` (from {LISTEN_ENV}) is not host:port")))?;
    let host = match host {
        "0.0.0.0" | "" => "127.0.0.1",
        "::" => "::1",
        h => h,
    };
    Ok(if host.contains(':') {
        format!("http://[{host}]:{port}{path}")
    } else {
        format!("http://{host}:{port}{path}")
    })
}

/// `host:port` as its two halves (an IPv6 host without its brackets).
fn split_address(address: &str) -> Option<(&str, &str)> {
    let (host, port) = address.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty() && port.parse::<u16>().is_ok()).then_some((host, port))
}

/// The time between audits: `--interval`, `LITTLE_SERVE_INTERVAL`, `CACHE_REFRESH_INTERVAL`,
/// `audit.interval`, `default`. Each takes a duration (`90s`, `30m`, `1h30m`) or bare
/// seconds, as ecr_exporter's `CACHE_REFRESH_INTERVAL` does (`600`).
pub fn interval(
    flag: Option<String>,
    env: Env,
    file: Option<&str>,
    default: &str,
) -> Result<(Chosen<String>, Duration)> {
    let c = first(vec![
        ("--interval", flag),
        (INTERVAL_ENV, var(env, INTERVAL_ENV)),
        (CACHE_REFRESH_INTERVAL, var(env, CACHE_REFRESH_INTERVAL)),
        ("little.yaml's audit.interval", file.map(str::to_owned)),
    ])
    .unwrap_or_else(|| chosen(default.to_owned(), "the default"));
    let parsed = parse_interval(&c.value)
        .map_err(|e| Error::Usage(format!("the interval: {e} (from {})", c.source)))?;
    Ok((c, parsed))
}

/// A duration, or a whole number of seconds.
pub fn parse_interval(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
        return match t.parse::<u64>() {
            Ok(0) => Err(format!("`{text}`: the interval must be longer than zero")),
            Ok(n) => Ok(Duration::from_secs(n)),
            Err(_) => Err(format!("`{text}` is too many seconds")),
        };
    }
    crate::duration::parse(t).map_err(|e| format!("{e}, or a number of seconds"))
}

/// The registry (account id) audited instead of the default account's: `--registry`,
/// `LITTLE_SERVE_REGISTRY`, `ECR_REGISTRY_ID`; None: the default account's (or the
/// caller's).
pub fn registry(flag: Option<String>, env: Env) -> Result<Option<Chosen<String>>> {
    let Some(c) = first(vec![
        ("--registry", flag),
        (REGISTRY_ENV, var(env, REGISTRY_ENV)),
        (ECR_REGISTRY_ID, var(env, ECR_REGISTRY_ID)),
    ]) else {
        return Ok(None);
    };
    if !crate::aws::names::is_account_id(&c.value) {
        return Err(Error::Usage(format!(
            "{}: `{}` is not a registry id (the 12-digit account id)",
            named(&c),
            c.value
        )));
    }
    Ok(Some(c))
}

/// How a source is named in a message: `--flag`, or `VARIABLE=value`'s variable.
pub fn named<T>(c: &Chosen<T>) -> String {
    if c.source.starts_with("--") || c.source.contains(' ') {
        format!("`{}`", c.source)
    } else {
        c.source.clone()
    }
}

/// The log level: `--log-level` (or `-q`, errors only, and `-v`, debug, given as the flag),
/// `LITTLE_LOG_LEVEL`, `LOG_LEVEL`, info.
pub fn log_level(flag: Option<String>, env: Env) -> Result<Level> {
    let c = first(vec![
        ("--log-level", flag),
        (LOG_LEVEL_ENV, var(env, LOG_LEVEL_ENV)),
        (LOG_LEVEL, var(env, LOG_LEVEL)),
    ]);
    match c {
        None => Ok(Level::Info),
        Some(c) => c
            .value
            .parse()
            .map_err(|e| Error::Usage(format!("{}: {e}", named(&c)))),
    }
}

/// The log format: `--log-format`, `LITTLE_LOG_FORMAT`, `LOG_FORMAT`, text.
pub fn log_format(flag: Option<String>, env: Env) -> Result<Format> {
    let c = first(vec![
        ("--log-format", flag),
        (LOG_FORMAT_ENV, var(env, LOG_FORMAT_ENV)),
        (LOG_FORMAT, var(env, LOG_FORMAT)),
    ]);
    match c {
        None => Ok(Format::Text),
        Some(c) => c
            .value
            .parse()
            .map_err(|e| Error::Usage(format!("{}: {e}", named(&c)))),
    }
}

/// The browser origins allowed to call the API (CORS): `--cors-origin` and
/// `audit.cors_origins` together, each `scheme://host[:port]` (no path, no `*`: the API
/// takes bearer tokens, and a wildcard would hand them to any page).
pub fn cors_origins(flags: &[String], file: &[String]) -> Result<Vec<String>> {
    let mut origins: Vec<String> = Vec::new();
    let given = flags
        .iter()
        .map(|o| (o, "--cors-origin"))
        .chain(file.iter().map(|o| (o, "little.yaml's audit.cors_origins")));
    for (origin, source) in given {
        let o = origin.trim().trim_end_matches('/').to_ascii_lowercase();
        if let Err(why) = check_origin(&o) {
            return Err(Error::Usage(format!(
                "`{origin}` (from {source}) is not an origin: {why}"
            )));
        }
        if !origins.contains(&o) {
            origins.push(o);
        }
    }
    Ok(origins)
}

/// Why `origin` is not `scheme://host[:port]`.
fn check_origin(origin: &str) -> std::result::Result<(), String> {
    if origin.contains('*') {
        return Err("`*` is not accepted: list each origin (the API takes bearer tokens)".into());
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err("write it as scheme://host[:port], such as https://dash.example.com".into());
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!("the scheme is `{scheme}`, not http or https"));
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err("an origin is scheme://host[:port], with no path, query or user".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    const DEFAULT: &str = "127.0.0.1:9000";

    #[test]
    fn listen_takes_the_flag_then_little_s_variable_then_app_host_and_port_then_the_file() {
        let all = env(&[
            (LISTEN_ENV, "127.0.0.1:7000"),
            (APP_HOST, "0.0.0.0"),
            (APP_PORT, "8080"),
        ]);
        let l = |flag: Option<&str>, e: Env, file: Option<&str>| {
            listen(flag.map(str::to_owned), e, file, DEFAULT).unwrap()
        };
        assert_eq!(
            l(Some("127.0.0.1:1"), &all, Some("0.0.0.0:2")),
            chosen("127.0.0.1:1".to_owned(), "--listen")
        );
        assert_eq!(
            l(None, &all, Some("0.0.0.0:2")),
            chosen("127.0.0.1:7000".to_owned(), LISTEN_ENV)
        );
        let app = env(&[(APP_HOST, "0.0.0.0"), (APP_PORT, "8080")]);
        let c = l(None, &app, Some("127.0.0.1:2"));
        assert_eq!(c.value, "0.0.0.0:8080");
        assert_eq!(c.source, "APP_HOST and APP_PORT");
        // One half: the other from little.yaml, else from the default.
        let port = env(&[(APP_PORT, " 8080 ")]);
        assert_eq!(l(None, &port, Some("10.0.0.1:2")).value, "10.0.0.1:8080");
        assert_eq!(l(None, &port, None).value, "127.0.0.1:8080");
        let host = env(&[(APP_HOST, "::")]);
        assert_eq!(l(None, &host, None).value, "[::]:9000");
        assert_eq!(l(None, &host, Some("[::1]:9100")).value, "[::]:9100");
        // Blank is unset; nothing set: the file, then the default.
        let blank = env(&[(APP_PORT, ""), (LISTEN_ENV, " ")]);
        assert_eq!(
            l(None, &blank, Some("0.0.0.0:2")),
            chosen("0.0.0.0:2".to_owned(), "little.yaml's audit.listen")
        );
        assert_eq!(
            l(None, &blank, None),
            chosen(DEFAULT.to_owned(), "the default")
        );
    }

    #[test]
    fn healthcheck_s_url_follows_the_variables() {
        assert_eq!(
            local_url(&env(&[]), "/healthz").unwrap(),
            "http://127.0.0.1:9000/healthz"
        );
        let app = env(&[(APP_HOST, "0.0.0.0"), (APP_PORT, "9100")]);
        assert_eq!(
            local_url(&app, "/healthz").unwrap(),
            "http://127.0.0.1:9100/healthz"
        );
        let own = env(&[(LISTEN_ENV, "[::]:9200"), (APP_PORT, "9100")]);
        assert_eq!(
            local_url(&own, "/healthz").unwrap(),
            "http://[::1]:9200/healthz"
        );
        let e = local_url(&env(&[(APP_PORT, "x")]), "/healthz").unwrap_err();
        assert!(e.to_string().starts_with("APP_PORT=`x`"), "{e}");
    }

    #[test]
    fn a_bad_app_port_or_host_is_named() {
        let e = listen(None, &env(&[(APP_PORT, "http")]), None, DEFAULT).unwrap_err();
        assert!(matches!(e, Error::Usage(_)));
        assert_eq!(
            e.to_string(),
            "APP_PORT=`http` is not a port number (0 to 65535)"
        );
        let e = listen(None, &env(&[(APP_PORT, "70000")]), None, DEFAULT).unwrap_err();
        assert!(e.to_string().starts_with("APP_PORT=`70000`"), "{e}");
        let e = listen(None, &env(&[(APP_HOST, "a b/c")]), None, DEFAULT).unwrap_err();
        assert!(e.to_string().starts_with("APP_HOST=`a b/c`"), "{e}");
        // A flag wins over a bad variable, which is then not read.
        assert!(listen(
            Some("127.0.0.1:0".into()),
            &env(&[(APP_PORT, "x")]),
            None,
            DEFAULT
        )
        .is_ok());
    }

    #[test]
    fn interval_in_bare_seconds_or_a_duration_in_order() {
        let i = |flag: Option<&str>, e: Env, file: Option<&str>| {
            interval(flag.map(str::to_owned), e, file, "30m")
        };
        let all = env(&[(INTERVAL_ENV, "2m"), (CACHE_REFRESH_INTERVAL, "600")]);
        let (c, d) = i(Some("90s"), &all, Some("1h")).unwrap();
        assert_eq!(
            (c.source.as_str(), d),
            ("--interval", Duration::from_secs(90))
        );
        let (c, d) = i(None, &all, Some("1h")).unwrap();
        assert_eq!(
            (c.source.as_str(), d),
            (INTERVAL_ENV, Duration::from_secs(120))
        );
        let cache = env(&[(CACHE_REFRESH_INTERVAL, "600")]);
        let (c, d) = i(None, &cache, Some("1h")).unwrap();
        assert_eq!(
            (c.source.as_str(), c.value.as_str(), d),
            (CACHE_REFRESH_INTERVAL, "600", Duration::from_secs(600))
        );
        let cache = env(&[(CACHE_REFRESH_INTERVAL, "1h30m")]);
        assert_eq!(i(None, &cache, None).unwrap().1, Duration::from_secs(5400));
        let (c, d) = i(None, &env(&[]), Some("1h")).unwrap();
        assert_eq!(
            (c.source.as_str(), d),
            ("little.yaml's audit.interval", Duration::from_secs(3600))
        );
        let (c, d) = i(None, &env(&[]), None).unwrap();
        assert_eq!(
            (c.source.as_str(), d),
            ("the default", Duration::from_secs(1800))
        );
        for bad in ["soon", "0", "-5", "99999999999999999999999"] {
            let e = i(None, &env(&[(CACHE_REFRESH_INTERVAL, bad)]), None).unwrap_err();
            assert!(matches!(e, Error::Usage(_)));
            let text = e.to_string();
            assert!(text.starts_with("the interval: "), "{text}");
            assert!(text.ends_with("(from CACHE_REFRESH_INTERVAL)"), "{text}");
        }
    }

    #[test]
    fn registry_from_the_flag_little_s_variable_or_ecr_registry_id() {
        assert_eq!(registry(None, &env(&[])).unwrap(), None);
        let both = env(&[
            (REGISTRY_ENV, "111111111111"),
            (ECR_REGISTRY_ID, "222222222222"),
        ]);
        assert_eq!(
            registry(Some("333333333333".into()), &both).unwrap(),
            Some(chosen("333333333333".to_owned(), "--registry"))
        );
        assert_eq!(
            registry(None, &both).unwrap(),
            Some(chosen("111111111111".to_owned(), REGISTRY_ENV))
        );
        assert_eq!(
            registry(None, &env(&[(ECR_REGISTRY_ID, "222222222222")])).unwrap(),
            Some(chosen("222222222222".to_owned(), ECR_REGISTRY_ID))
        );
        let e = registry(None, &env(&[(ECR_REGISTRY_ID, "12345")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ECR_REGISTRY_ID: `12345` is not a registry id (the 12-digit account id)"
        );
        let e = registry(Some("x".into()), &env(&[])).unwrap_err();
        assert!(e.to_string().starts_with("`--registry`: `x`"), "{e}");
    }

    #[test]
    fn log_level_and_format_in_order() {
        let all = env(&[
            (LOG_LEVEL_ENV, "warning"),
            (LOG_LEVEL, "DEBUG"),
            (LOG_FORMAT_ENV, "text"),
            (LOG_FORMAT, "json"),
        ]);
        assert_eq!(log_level(Some("error".into()), &all).unwrap(), Level::Error);
        assert_eq!(log_level(None, &all).unwrap(), Level::Warning);
        assert_eq!(
            log_level(None, &env(&[(LOG_LEVEL, "DEBUG")])).unwrap(),
            Level::Debug
        );
        assert_eq!(log_level(None, &env(&[])).unwrap(), Level::Info);
        let e = log_level(None, &env(&[(LOG_LEVEL, "LOUD")])).unwrap_err();
        assert!(e.to_string().starts_with("LOG_LEVEL: `LOUD`"), "{e}");
        assert_eq!(log_format(Some("json".into()), &all).unwrap(), Format::Json);
        assert_eq!(log_format(None, &all).unwrap(), Format::Text);
        assert_eq!(
            log_format(None, &env(&[(LOG_FORMAT, "JSON")])).unwrap(),
            Format::Json
        );
        assert_eq!(log_format(None, &env(&[])).unwrap(), Format::Text);
        let e = log_format(None, &env(&[(LOG_FORMAT_ENV, "xml")])).unwrap_err();
        assert!(e.to_string().starts_with("LITTLE_LOG_FORMAT: `xml`"), "{e}");
    }

    #[test]
    fn cors_origins_are_checked_and_merged() {
        let o = cors_origins(
            &["https://Dash.example.com/".into()],
            &[
                "https://dash.example.com".into(),
                "http://localhost:3000".into(),
            ],
        )
        .unwrap();
        assert_eq!(o, ["https://dash.example.com", "http://localhost:3000"]);
        for bad in [
            "*",
            "https://*.example.com",
            "dash.example.com",
            "ftp://x",
            "https://x/path",
            "https://",
        ] {
            let e = cors_origins(&[bad.into()], &[]).unwrap_err();
            assert!(
                e.to_string()
                    .contains("(from --cors-origin) is not an origin"),
                "{e}"
            );
        }
        let e = cors_origins(&[], &["*".into()]).unwrap_err();
        assert!(e.to_string().contains("audit.cors_origins"), "{e}");
    }
}
