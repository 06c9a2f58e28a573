//! The options of `little serve` ([`ServeOptions`]): its flags over its variables and
//! ecr_exporter's (in [`super::settings`]'s order) over little.yaml's `audit` section over
//! the defaults, and its tokens from their files or variables. Running it is the parent
//! module's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{logging, settings};
use crate::audit::run::AuditOptions;
use crate::error::{Error, Result};

/// The default of `--stale-after`: `/readyz` turns unready once the last good audit is older
/// than this many intervals.
pub const DEFAULT_STALE_AFTER: u32 = 3;

/// Limits on the HTTP connections, so that idle, slow or too many clients cannot take the
/// server (and its liveness endpoint) away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; beyond it, new ones wait in the listen backlog until one
    /// closes.
    pub max_connections: usize,
    /// Time a client gets to send a request's headers (from the connection's start, or the
    /// end of its previous request).
    pub header_read_timeout: Duration,
    /// A connection on which nothing is read or written for this long is closed (an idle
    /// keep-alive connection, a client that stops reading an answer or sending a body).
    pub idle_timeout: Duration,
    /// Time a client gets to send a request's body.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 256,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
        }
    }
}

/// How `little serve` runs.
#[derive(Clone)]
pub struct ServeOptions {
    /// Such as `127.0.0.1:9000` (port 0: any free port).
    pub listen: String,
    pub interval: Duration,
    /// The audit of each run (its `now` is set per run).
    pub audit: AuditOptions,
    pub state_file: PathBuf,
    /// The bearer token that POST and DELETE require; None: they are refused.
    pub token: Option<String>,
    /// The bearer token that the read endpoints (the report, metrics, configurations,
    /// summary and feeds) require; None: they are open. `/healthz` and `/readyz` are always
    /// open. The API token is accepted there too.
    pub read_token: Option<String>,
    /// Listening beyond loopback without a read token is refused unless this is set.
    pub allow_public_unauthenticated: bool,
    pub limits: Limits,
    /// `/readyz` answers 503 once the last good audit is older than this many intervals.
    pub stale_after: u32,
    /// The registry (account id) audited, and where it was named (`--registry`,
    /// `ECR_REGISTRY_ID`, ...); None: the default account's. One that is no account of
    /// little.yaml must be the caller's: checked at start and on every run.
    pub registry: Option<settings::Chosen<String>>,
    /// The browser origins allowed to call the endpoints (CORS); none: no CORS headers.
    pub cors_origins: Vec<String>,
    /// One `little_image_in_use` series per image and user (`audit.image_in_use_series`).
    pub image_in_use_series: bool,
}

/// The address `little serve` listens on when neither `--listen` nor `audit.listen` names one.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9000";
/// The time between audits (`audit.interval`).
pub const DEFAULT_INTERVAL: &str = "30m";
/// Where the scan configurations added through the API are kept, in the project
/// (`audit.state_file`).
pub const DEFAULT_STATE_FILE: &str = ".little/serve-state.json";
/// The variable that holds the API token (`audit.api_token_env`).
pub const DEFAULT_TOKEN_ENV: &str = "LITTLE_SERVE_TOKEN";
/// The variable that holds the read token.
pub const READ_TOKEN_ENV: &str = "LITTLE_SERVE_READ_TOKEN";

/// The flags of `little serve` that [`ServeOptions::resolve`] reads.
#[derive(Debug, Clone, Default)]
pub struct ServeFlags {
    pub listen: Option<String>,
    pub interval: Option<String>,
    /// `--state`.
    pub state: Option<PathBuf>,
    pub token_file: Option<PathBuf>,
    pub read_token_file: Option<PathBuf>,
    pub allow_public_unauthenticated: bool,
    pub max_connections: usize,
    pub stale_after: u32,
    /// `--registry`.
    pub registry: Option<String>,
    /// `--cors-origin`, each.
    pub cors_origins: Vec<String>,
    /// `--log-level` (`-q` and `-v` are handed in as `error` and `debug`).
    pub log_level: Option<String>,
    /// `--log-format`.
    pub log_format: Option<String>,
}

/// [`ServeOptions`] and what to tell before serving.
pub struct ServeSetup {
    pub options: ServeOptions,
    /// The interval as written, for the log.
    pub interval_text: String,
    /// Log lines about what is open for want of a token, and where the listen address and
    /// the interval came from when a variable chose them.
    pub notes: Vec<String>,
    /// The log's level and format, for [`logging::configure`].
    pub log_level: logging::Level,
    pub log_format: logging::Format,
}

impl ServeOptions {
    /// The options of `little serve`: each setting from its flag, else little's own
    /// variable, else ecr_exporter's (see [`settings`]), else little.yaml's `audit` section
    /// (`root` is the project's directory, for a relative `audit.state_file`), else the
    /// default; the tokens from their files or variables. `audit` makes the audit's options
    /// for the registry chosen (an account id, None: the default account's), after the
    /// serve settings are checked.
    pub fn resolve(
        flags: ServeFlags,
        file: &crate::project::config::AuditFile,
        root: &Path,
        audit: impl FnOnce(Option<&settings::Chosen<String>>) -> Result<AuditOptions>,
    ) -> Result<ServeSetup> {
        Self::resolve_with(flags, file, root, &settings::process_env, audit)
    }

    /// [`ServeOptions::resolve`] with the environment handed in.
    pub fn resolve_with(
        flags: ServeFlags,
        file: &crate::project::config::AuditFile,
        root: &Path,
        env: settings::Env,
        audit: impl FnOnce(Option<&settings::Chosen<String>>) -> Result<AuditOptions>,
    ) -> Result<ServeSetup> {
        let log_level = settings::log_level(flags.log_level.clone(), env)?;
        let log_format = settings::log_format(flags.log_format.clone(), env)?;
        let listen = settings::listen(flags.listen, env, file.listen.as_deref(), DEFAULT_LISTEN)?;
        let (interval_chosen, interval) = settings::interval(
            flags.interval,
            env,
            file.interval.as_deref(),
            DEFAULT_INTERVAL,
        )?;
        let registry = settings::registry(flags.registry, env)?;
        let cors_origins = settings::cors_origins(&flags.cors_origins, &file.cors_origins)?;
        let state_file = match (flags.state, &file.state_file) {
            (Some(p), _) => p,
            (None, Some(p)) => root.join(p),
            (None, None) => root.join(DEFAULT_STATE_FILE),
        };
        let token_env = file
            .api_token_env
            .clone()
            .unwrap_or_else(|| DEFAULT_TOKEN_ENV.into());
        let token = match &flags.token_file {
            Some(path) => Some(token_from_file(path, "--token-file")?),
            None => token_from_env(env, &token_env),
        };
        let read_token = match &flags.read_token_file {
            Some(path) => Some(token_from_file(path, "--read-token-file")?),
            None => token_from_env(env, READ_TOKEN_ENV),
        };
        let mut notes = Vec::new();
        for (what, c) in [("listen address", &listen), ("interval", &interval_chosen)] {
            if !c.source.starts_with("--") && c.source.contains(char::is_uppercase) {
                notes.push(format!("the {what} `{}` is from {}", c.value, c.source));
            }
        }
        if let Some(r) = &registry {
            notes.push(format!("auditing registry {} (from {})", r.value, r.source));
        }
        let options = ServeOptions {
            listen: listen.value,
            interval,
            audit: audit(registry.as_ref())?,
            state_file,
            token,
            read_token,
            allow_public_unauthenticated: flags.allow_public_unauthenticated,
            limits: Limits {
                max_connections: flags.max_connections,
                ..Limits::default()
            },
            stale_after: flags.stale_after,
            registry,
            cors_origins,
            image_in_use_series: file.image_in_use_series.unwrap_or(false),
        };
        if options.token.is_none() {
            notes.push(format!(
                "{token_env} is not set: POST and DELETE /configs are disabled"
            ));
        }
        if options.read_token.is_none() {
            notes.push(format!(
                "{READ_TOKEN_ENV} is not set: the report, metrics, configurations and feeds need no token"
            ));
        }
        Ok(ServeSetup {
            options,
            interval_text: interval_chosen.value,
            notes,
            log_level,
            log_format,
        })
    }
}

/// A token from the environment, without surrounding whitespace (a value taken from a file
/// ends in a newline); None when unset or blank.
fn token_from_env(env: settings::Env, name: &str) -> Option<String> {
    env(name)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// A token from a file, without surrounding whitespace; an empty one is an error.
fn token_from_file(path: &Path, flag: &str) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::Usage(format!(
            "`{flag} {}`: the file holds no token",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::config::AuditFile;

    fn audit(_: Option<&settings::Chosen<String>>) -> Result<AuditOptions> {
        Ok(AuditOptions {
            checks: Vec::new(),
            remediate: false,
            all_accounts: false,
            account: None,
            org: false,
            reach: Default::default(),
            stacks: true,
            drift: None,
            settings: Default::default(),
            now: 0,
        })
    }

    /// [`ServeOptions::resolve`] in an empty environment.
    fn resolve(
        flags: ServeFlags,
        file: &AuditFile,
        root: &Path,
        audit: impl FnOnce(Option<&settings::Chosen<String>>) -> Result<AuditOptions>,
    ) -> Result<ServeSetup> {
        ServeOptions::resolve_with(flags, file, root, &|_| None, audit)
    }

    fn token_files(dir: &Path) -> ServeFlags {
        // Token files, so that no variable of the environment counts.
        std::fs::write(dir.join("t"), "api\n").unwrap();
        std::fs::write(dir.join("r"), " read ").unwrap();
        ServeFlags {
            token_file: Some(dir.join("t")),
            read_token_file: Some(dir.join("r")),
            max_connections: 7,
            stale_after: 4,
            ..ServeFlags::default()
        }
    }

    #[test]
    fn serve_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let setup = resolve(
            token_files(dir.path()),
            &AuditFile::default(),
            Path::new("/p"),
            audit,
        )
        .unwrap();
        let o = &setup.options;
        assert_eq!(o.listen, "127.0.0.1:9000");
        assert_eq!(o.interval, Duration::from_secs(1800));
        assert_eq!(setup.interval_text, "30m");
        assert_eq!(o.state_file, Path::new("/p/.little/serve-state.json"));
        assert_eq!(o.token.as_deref(), Some("api"));
        assert_eq!(o.read_token.as_deref(), Some("read"));
        assert_eq!(o.limits.max_connections, 7);
        assert_eq!(o.stale_after, 4);
        assert!(setup.notes.is_empty());
    }

    #[test]
    fn serve_flags_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = AuditFile {
            listen: Some("0.0.0.0:80".into()),
            interval: Some("1h".into()),
            state_file: Some("state.json".into()),
            api_token_env: Some("LITTLE_TEST_SERVE_TOKEN_UNSET_91c2".into()),
            ..AuditFile::default()
        };
        let setup = resolve(
            ServeFlags {
                token_file: None,
                ..token_files(dir.path())
            },
            &file,
            Path::new("/p"),
            audit,
        )
        .unwrap();
        assert_eq!(setup.options.listen, "0.0.0.0:80");
        assert_eq!(setup.options.interval, Duration::from_secs(3600));
        assert_eq!(setup.options.state_file, Path::new("/p/state.json"));
        assert_eq!(setup.options.token, None);
        assert_eq!(
            setup.notes,
            ["LITTLE_TEST_SERVE_TOKEN_UNSET_91c2 is not set: POST and DELETE /configs are disabled"]
        );
        let setup = resolve(
            ServeFlags {
                listen: Some("127.0.0.1:0".into()),
                interval: Some("90s".into()),
                state: Some("/elsewhere.json".into()),
                ..token_files(dir.path())
            },
            &file,
            Path::new("/p"),
            audit,
        )
        .unwrap();
        assert_eq!(setup.options.listen, "127.0.0.1:0");
        assert_eq!(setup.options.interval, Duration::from_secs(90));
        assert_eq!(setup.interval_text, "90s");
        assert_eq!(setup.options.state_file, Path::new("/elsewhere.json"));
    }

    #[test]
    fn ecr_exporter_s_variables_come_after_little_s_own_and_before_little_yaml() {
        let dir = tempfile::tempdir().unwrap();
        let file = AuditFile {
            listen: Some("127.0.0.1:9100".into()),
            interval: Some("1h".into()),
            cors_origins: vec!["https://dash.example.com".into()],
            ..AuditFile::default()
        };
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let ecr_exporter = vars(&[
            ("APP_HOST", "127.0.0.2"),
            ("APP_PORT", "9200"),
            ("CACHE_REFRESH_INTERVAL", "600"),
            ("ECR_REGISTRY_ID", "123456789012"),
            ("LOG_LEVEL", "WARNING"),
            ("LOG_FORMAT", "json"),
        ]);
        let mut registry_seen = None;
        let setup = ServeOptions::resolve_with(
            token_files(dir.path()),
            &file,
            Path::new("/p"),
            &ecr_exporter,
            |r| {
                registry_seen = r.cloned();
                audit(r)
            },
        )
        .unwrap();
        let o = &setup.options;
        assert_eq!(o.listen, "127.0.0.2:9200");
        assert_eq!(o.interval, Duration::from_secs(600));
        assert_eq!(setup.interval_text, "600");
        let registry = o.registry.clone().unwrap();
        assert_eq!(
            (registry.value.as_str(), registry.source.as_str()),
            ("123456789012", "ECR_REGISTRY_ID")
        );
        assert_eq!(registry_seen, Some(registry));
        assert_eq!(setup.log_level, logging::Level::Warning);
        assert_eq!(setup.log_format, logging::Format::Json);
        assert_eq!(o.cors_origins, ["https://dash.example.com"]);
        assert_eq!(
            setup.notes,
            [
                "the listen address `127.0.0.2:9200` is from APP_HOST and APP_PORT",
                "the interval `600` is from CACHE_REFRESH_INTERVAL",
                "auditing registry 123456789012 (from ECR_REGISTRY_ID)",
            ]
        );

        // little's own variables over ecr_exporter's; the flags over both.
        let both = vars(&[
            ("LITTLE_SERVE_LISTEN", "127.0.0.3:9300"),
            ("LITTLE_SERVE_INTERVAL", "2m"),
            ("LITTLE_SERVE_REGISTRY", "210987654321"),
            ("LITTLE_LOG_LEVEL", "error"),
            ("LITTLE_LOG_FORMAT", "text"),
            ("APP_HOST", "127.0.0.2"),
            ("APP_PORT", "9200"),
            ("CACHE_REFRESH_INTERVAL", "600"),
            ("ECR_REGISTRY_ID", "123456789012"),
            ("LOG_LEVEL", "WARNING"),
            ("LOG_FORMAT", "json"),
        ]);
        let setup = ServeOptions::resolve_with(
            token_files(dir.path()),
            &file,
            Path::new("/p"),
            &both,
            audit,
        )
        .unwrap();
        assert_eq!(setup.options.listen, "127.0.0.3:9300");
        assert_eq!(setup.options.interval, Duration::from_secs(120));
        assert_eq!(setup.options.registry.unwrap().value, "210987654321");
        assert_eq!(setup.log_level, logging::Level::Error);
        assert_eq!(setup.log_format, logging::Format::Text);
        let flags = ServeFlags {
            listen: Some("127.0.0.1:0".into()),
            interval: Some("5s".into()),
            registry: Some("111111111111".into()),
            log_level: Some("debug".into()),
            log_format: Some("json".into()),
            cors_origins: vec!["http://localhost:3000".into()],
            ..token_files(dir.path())
        };
        let setup =
            ServeOptions::resolve_with(flags, &file, Path::new("/p"), &both, audit).unwrap();
        assert_eq!(setup.options.listen, "127.0.0.1:0");
        assert_eq!(setup.options.interval, Duration::from_secs(5));
        assert_eq!(setup.options.registry.unwrap().value, "111111111111");
        assert_eq!(setup.log_level, logging::Level::Debug);
        assert_eq!(setup.log_format, logging::Format::Json);
        assert_eq!(
            setup.options.cors_origins,
            ["http://localhost:3000", "https://dash.example.com"]
        );
        assert_eq!(
            setup.notes,
            ["auditing registry 111111111111 (from --registry)"]
        );

        // Nothing set: little.yaml, then the defaults.
        let setup = resolve(token_files(dir.path()), &file, Path::new("/p"), audit).unwrap();
        assert_eq!(setup.options.listen, "127.0.0.1:9100");
        assert_eq!(setup.options.interval, Duration::from_secs(3600));
        assert_eq!(setup.options.registry, None);
        assert_eq!(setup.log_level, logging::Level::Info);
        assert_eq!(setup.log_format, logging::Format::Text);
    }

    #[test]
    fn a_bad_variable_is_named() {
        let dir = tempfile::tempdir().unwrap();
        for (name, value, expected) in [
            ("APP_PORT", "nine", "APP_PORT=`nine` is not a port number"),
            (
                "CACHE_REFRESH_INTERVAL",
                "ten minutes",
                "(from CACHE_REFRESH_INTERVAL)",
            ),
            (
                "ECR_REGISTRY_ID",
                "42",
                "ECR_REGISTRY_ID: `42` is not a registry id",
            ),
            ("LOG_LEVEL", "LOUD", "LOG_LEVEL: `LOUD` is not a log level"),
            ("LOG_FORMAT", "xml", "LOG_FORMAT: `xml` is not a log format"),
        ] {
            let env = move |n: &str| (n == name).then(|| value.to_owned());
            let e = ServeOptions::resolve_with(
                token_files(dir.path()),
                &AuditFile::default(),
                Path::new("/p"),
                &env,
                |_| Err(Error::Internal("not reached".into())),
            )
            .err()
            .unwrap();
            assert!(matches!(e, Error::Usage(_)), "{e}");
            assert!(e.to_string().contains(expected), "{name}: {e}");
        }
    }

    #[test]
    fn a_bad_interval_is_named_before_the_audit_is_set_up() {
        let dir = tempfile::tempdir().unwrap();
        let e = resolve(
            ServeFlags {
                interval: Some("soon".into()),
                ..token_files(dir.path())
            },
            &AuditFile::default(),
            Path::new("/p"),
            |_| Err(Error::Internal("not reached".into())),
        )
        .err()
        .unwrap();
        assert!(e.to_string().starts_with("the interval: "), "{e}");
    }

    #[test]
    fn tokens_lose_their_surrounding_whitespace() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "  s3cret\r\n").unwrap();
        assert_eq!(
            token_from_file(&file, "--read-token-file").unwrap(),
            "s3cret"
        );
        std::fs::write(&file, "\n \n").unwrap();
        let e = token_from_file(&file, "--read-token-file").unwrap_err();
        assert!(e.to_string().contains("holds no token"), "{e}");
        assert!(e.to_string().contains("--read-token-file"), "{e}");
        let e = token_from_file(&dir.path().join("missing"), "--token-file").unwrap_err();
        assert!(matches!(e, Error::Read { .. }), "{e}");

        // A variable of this test's own: no other test reads it.
        let name = "LITTLE_TEST_TOKEN_FROM_ENV_7f3a";
        std::env::set_var(name, "s3cret\n");
        let env = &settings::process_env;
        assert_eq!(token_from_env(env, name).as_deref(), Some("s3cret"));
        std::env::set_var(name, " \n");
        assert_eq!(token_from_env(env, name), None);
        std::env::remove_var(name);
        assert_eq!(token_from_env(env, name), None);
    }
}
