//! `little serve`: the scheduled audit. Runs the audit at start and then on an interval,
//! never overlapping itself; keeps the last good results when a run fails, panics included
//! (logging it, counting it, and noting when it happened), so that the schedule goes on;
//! runs the continuous-scanning configurations; and serves metrics, the report, the scan
//! summary and feeds over HTTP (see [`http`]) until SIGTERM or Ctrl-C. What is served is
//! built once per run; a request copies a reference, never rebuilds a page.

pub mod configs;
pub mod http;
pub mod metrics;
pub mod permissions;
pub mod scan;
#[cfg(test)]
mod server_tests;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use hyper::body::Bytes;

use crate::audit::run::{audit_outcome, AuditOptions, AuditOutcome};
use crate::aws::connect::Connect;
use crate::error::{Error, Result};
use crate::project::Project;
use crate::text::plural;
use crate::time::{now, rfc3339_utc};
use configs::ConfigStore;
use scan::ConfigScan;

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
}

/// [`ServeOptions`] and what to tell before serving.
pub struct ServeSetup {
    pub options: ServeOptions,
    /// The interval as written, for the log.
    pub interval_text: String,
    /// Log lines about what is open for want of a token.
    pub notes: Vec<String>,
}

impl ServeOptions {
    /// The options of `little serve`: the flags over little.yaml's `audit` section (`root` is
    /// the project's directory, for a relative `audit.state_file`), over the defaults; the
    /// tokens from their files or variables. `audit` makes the audit's options, after the
    /// serve settings are checked.
    pub fn resolve(
        flags: ServeFlags,
        file: &crate::project::config::AuditFile,
        root: &Path,
        audit: impl FnOnce() -> Result<AuditOptions>,
    ) -> Result<ServeSetup> {
        let listen = flags
            .listen
            .or_else(|| file.listen.clone())
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let interval_text = flags
            .interval
            .or_else(|| file.interval.clone())
            .unwrap_or_else(|| DEFAULT_INTERVAL.into());
        let interval = crate::duration::parse(&interval_text)
            .map_err(|e| Error::Usage(format!("the interval: {e}")))?;
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
            None => token_from_env(&token_env),
        };
        let read_token = match &flags.read_token_file {
            Some(path) => Some(token_from_file(path, "--read-token-file")?),
            None => token_from_env(READ_TOKEN_ENV),
        };
        let options = ServeOptions {
            listen,
            interval,
            audit: audit()?,
            state_file,
            token,
            read_token,
            allow_public_unauthenticated: flags.allow_public_unauthenticated,
            limits: Limits {
                max_connections: flags.max_connections,
                ..Limits::default()
            },
            stale_after: flags.stale_after,
        };
        let mut notes = Vec::new();
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
            interval_text,
            notes,
        })
    }
}

/// A token from the environment, without surrounding whitespace (a value taken from a file
/// ends in a newline); None when unset or blank.
fn token_from_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
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

/// One audit, as the scheduler runs it: [`audit_outcome`] in production; tests inject
/// audits that fail or panic.
pub type AuditFn = Arc<
    dyn Fn(AuditOptions) -> Pin<Box<dyn Future<Output = Result<AuditOutcome>> + Send>>
        + Send
        + Sync,
>;

/// The metrics text as served.
#[derive(Clone, Default)]
pub struct Exposition {
    pub plain: Bytes,
    /// gzip (Prometheus asks for it): a tenth of the size.
    pub gzip: Option<Bytes>,
}

impl Exposition {
    pub fn new(text: String) -> Exposition {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(text.len() / 8),
            flate2::Compression::fast(),
        );
        let gzip = gz
            .write_all(text.as_bytes())
            .and_then(|_| gz.finish())
            .ok()
            .map(Bytes::from);
        Exposition {
            plain: Bytes::from(text),
            gzip,
        }
    }
}

/// The last successful audit, with the report pages built from it once.
pub struct Latest {
    pub outcome: AuditOutcome,
    /// Unix seconds.
    pub finished_at: u64,
    /// The same moment on the monotonic clock, for the readiness.
    pub finished: Instant,
    pub duration: f64,
    /// `/report.json`: the report as `little audit --format json` writes it.
    pub report_json: Bytes,
    /// `/report`: the report as a self-contained HTML page.
    pub report_html: Bytes,
}

impl Latest {
    /// The results of a good run, with their pages built.
    pub fn new(outcome: AuditOutcome, finished_at: u64, duration: f64) -> Result<Latest> {
        let mut json = serde_json::to_string_pretty(&outcome.report)
            .map_err(|e| Error::Internal(format!("the report as JSON: {e}")))?;
        json.push('\n');
        let html = crate::report::html::audit_html(
            &outcome.report,
            "little audit",
            concat!("little-stack ", env!("CARGO_PKG_VERSION")),
        );
        Ok(Latest {
            outcome,
            finished_at,
            finished: Instant::now(),
            duration,
            report_json: Bytes::from(json),
            report_html: Bytes::from(html),
        })
    }
}

/// What the HTTP handlers read and the scheduler writes. Locks are held only to swap or copy
/// an `Arc`, never across an await.
pub struct Shared {
    pub latest: RwLock<Option<Arc<Latest>>>,
    /// The exposition, plain and gzip-compressed, built once per run: a scrape is a
    /// reference count, not a copy (the text of a large registry is megabytes).
    pub metrics: RwLock<Exposition>,
    pub scans: RwLock<Arc<BTreeMap<String, ConfigScan>>>,
    pub configs: Mutex<ConfigStore>,
    pub errors_total: AtomicU64,
    /// Checks that a denied permission kept from running, once per check, registry and run.
    pub denied_total: AtomicU64,
    /// Remediations applied (`--remediate`), per check.
    pub remediations: Mutex<BTreeMap<String, u64>>,
    /// When the last run failed (Unix seconds); 0: none has.
    pub last_error_at: AtomicU64,
    pub last_duration: Mutex<Option<f64>>,
    /// Set once the first good run's metrics are built.
    pub ready: AtomicBool,
    pub token: Option<String>,
    pub read_token: Option<String>,
    pub default_region: Option<String>,
    pub runs: AtomicU64,
    /// The last good audit older than this: not ready.
    pub stale_after: Duration,
    pub limits: Limits,
}

impl Shared {
    pub fn new(
        configs: ConfigStore,
        token: Option<String>,
        default_region: Option<String>,
    ) -> Self {
        Shared {
            latest: RwLock::new(None),
            metrics: RwLock::new(Exposition::default()),
            scans: RwLock::new(Arc::new(BTreeMap::new())),
            configs: Mutex::new(configs),
            errors_total: AtomicU64::new(0),
            denied_total: AtomicU64::new(0),
            remediations: Mutex::new(BTreeMap::new()),
            last_error_at: AtomicU64::new(0),
            last_duration: Mutex::new(None),
            ready: AtomicBool::new(false),
            token,
            read_token: None,
            default_region,
            runs: AtomicU64::new(0),
            stale_after: Duration::MAX,
            limits: Limits::default(),
        }
    }

    pub fn latest(&self) -> Option<Arc<Latest>> {
        self.latest
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn metrics(&self) -> Exposition {
        self.metrics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn scans(&self) -> Arc<BTreeMap<String, ConfigScan>> {
        self.scans.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Ok when ready: a good audit has finished, its metrics are built, and it is no older
    /// than `stale_after`. Otherwise why not.
    pub fn readiness(&self) -> std::result::Result<(), String> {
        let latest = match self.latest() {
            Some(l) if self.ready.load(Ordering::Relaxed) => l,
            _ => return Err("the first audit has not finished".into()),
        };
        let age = latest.finished.elapsed();
        if age > self.stale_after {
            return Err(format!(
                "the last good audit ended {} ago, longer than the readiness limit of {}; the runs since have failed or not finished (see the log and little_audit_errors_total)",
                crate::duration::human(Duration::from_secs(age.as_secs())),
                crate::duration::human(self.stale_after),
            ));
        }
        Ok(())
    }

    /// Records a failed run: the counter, the time, the log line.
    fn record_error(&self, run: u64, duration: f64, errors: &[String]) {
        self.errors_total.fetch_add(1, Ordering::Relaxed);
        self.last_error_at.store(now().max(1), Ordering::Relaxed);
        log(&format!(
            "audit run {run} failed ({duration:.1} s); keeping the last good results: {}",
            errors.join("; ")
        ));
    }

    /// Logs and counts what a good run could not check (a denied permission) and what it
    /// remediated (`--remediate`).
    fn record_report(&self, run: u64, report: &crate::audit::model::AuditReport) {
        for n in &report.not_checked {
            log(&format!("audit run {run}: not checked: {}", n.reason));
        }
        self.denied_total
            .fetch_add(report.not_checked.len() as u64, Ordering::Relaxed);
        let mut remediations = self.remediations.lock().unwrap_or_else(|p| p.into_inner());
        for f in &report.findings {
            let Some(r) = f.remediation.as_ref().filter(|r| r.applied) else {
                continue;
            };
            log(&format!(
                "audit run {run}: remediated {} of `{}`{}: {} (`{}` -> `{}`)",
                f.check,
                f.resource,
                f.account
                    .as_deref()
                    .map(|a| format!(" in account {a}"))
                    .unwrap_or_default(),
                r.action,
                r.before,
                r.after
            ));
            *remediations.entry(f.check.clone()).or_default() += 1;
        }
    }

    /// Rebuilds the metrics text from the last good results and the counters.
    pub fn refresh_metrics(&self) {
        let latest = self.latest();
        let calls = crate::aws::calls::snapshot();
        let last_duration = *self.last_duration.lock().unwrap_or_else(|p| p.into_inner());
        let last_error = self.last_error_at.load(Ordering::Relaxed);
        let remediations = self
            .remediations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let input = metrics::MetricsInput {
            remediations: &remediations,
            last_good: latest
                .as_deref()
                .map(|l| (&l.outcome, l.finished_at, l.duration)),
            last_duration,
            errors_total: self.errors_total.load(Ordering::Relaxed),
            denied_total: self.denied_total.load(Ordering::Relaxed),
            last_error: (last_error > 0).then_some(last_error),
            calls: &calls,
        };
        match metrics::render(&input) {
            Ok(text) => {
                let exposition = Exposition::new(text);
                *self.metrics.write().unwrap_or_else(|p| p.into_inner()) = exposition;
            }
            Err(e) => log(&format!("error: {e}")),
        }
    }
}

/// A log line on stderr, stamped with the UTC time. Never panics (unlike `eprintln!`): a
/// server whose stderr is gone goes on serving.
pub fn log(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{} {message}", rfc3339_utc(now()));
}

/// The message of a task that panicked or was cancelled.
fn join_error(what: &str, e: tokio::task::JoinError) -> String {
    if e.is_panic() {
        let payload = e.into_panic();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        format!("{what} panicked: {message}")
    } else {
        format!("{what} was cancelled")
    }
}

/// The production audit.
pub fn default_audit(project: Arc<Project>, connect: Arc<dyn Connect>) -> AuditFn {
    Arc::new(move |options| Box::pin(audit_outcome(project.clone(), connect.clone(), options)))
}

/// One run: the audit, then the scan configurations, each in a task of its own so that a
/// panic in one is a failed run, not a stopped scheduler. A run with errors keeps the last
/// good audit and counts one error.
pub async fn run_once(
    project: &Arc<Project>,
    connect: &Arc<dyn Connect>,
    options: &ServeOptions,
    shared: &Shared,
    audit: &AuditFn,
) {
    let run = shared.runs.fetch_add(1, Ordering::Relaxed) + 1;
    let started = Instant::now();
    let mut audit_options = options.audit.clone();
    audit_options.now = now();
    let result = match tokio::spawn(audit(audit_options)).await {
        Ok(r) => r,
        Err(e) => Err(Error::Internal(join_error("the audit", e))),
    };
    let configs = shared
        .configs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .list();
    let previous = shared.scans();
    let scanning = {
        let (project, connect, configs) = (project.clone(), connect.clone(), configs.clone());
        let previous = previous.clone();
        tokio::spawn(async move {
            scan::scan_all(
                &project,
                connect.as_ref(),
                &configs,
                &previous,
                &rfc3339_utc(now()),
            )
            .await
        })
    };
    let mut errors: Vec<String> = match scanning.await {
        Ok((scans, scan_errors)) => {
            *shared.scans.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(scans);
            scan_errors
        }
        // The previous scans stay.
        Err(e) => vec![join_error("the scan of the configurations", e)],
    };
    let duration = started.elapsed().as_secs_f64();
    *shared
        .last_duration
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(duration);
    let mut audit_ok = false;
    match result {
        Ok(outcome) if outcome.report.errors.is_empty() => {
            let report = &outcome.report;
            shared.record_report(run, report);
            log(&format!(
                "audit run {run}: {}, {}, {} checked; {}; {} scanned; {duration:.1} s",
                plural(report.checked.repositories, "repository", "repositories"),
                plural(report.checked.images, "image", "images"),
                plural(report.checked.stacks, "stack", "stacks"),
                plural(report.findings.len(), "finding", "findings"),
                plural(configs.len(), "configuration", "configurations"),
            ));
            // The pages are built here, once, not per request.
            let built =
                tokio::task::spawn_blocking(move || Latest::new(outcome, now(), duration)).await;
            match built {
                Ok(Ok(latest)) => {
                    *shared.latest.write().unwrap_or_else(|p| p.into_inner()) =
                        Some(Arc::new(latest));
                    audit_ok = true;
                }
                Ok(Err(e)) => errors.push(e.to_string()),
                Err(e) => errors.push(join_error("building the report", e)),
            }
        }
        Ok(outcome) => errors.extend(outcome.report.errors),
        Err(e) => errors.push(e.to_string()),
    }
    if !errors.is_empty() {
        shared.record_error(run, duration, &errors);
    }
    shared.refresh_metrics();
    // Ready only once the metrics show a successful audit.
    if audit_ok {
        shared.ready.store(true, Ordering::Relaxed);
    }
}

/// Serves until SIGTERM or Ctrl-C. `on_listening` gets the bound address (useful with port 0).
pub async fn serve(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    options: ServeOptions,
    on_listening: impl FnOnce(std::net::SocketAddr),
) -> Result<()> {
    let audit = default_audit(project.clone(), connect.clone());
    serve_with(
        project,
        connect,
        options,
        audit,
        crate::interrupt::signalled(),
        on_listening,
    )
    .await
}

/// Whether listening on `address` needs no read token: loopback only.
pub fn is_loopback(address: &std::net::SocketAddr) -> bool {
    address.ip().to_canonical().is_loopback()
}

/// [`serve`] with the audit and the shutdown signal given.
pub async fn serve_with(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    options: ServeOptions,
    audit: AuditFn,
    shutdown: impl Future<Output = ()>,
    on_listening: impl FnOnce(std::net::SocketAddr),
) -> Result<()> {
    let store = ConfigStore::open(
        &options.state_file,
        &project.file.audit.scan_configs,
        project.file.defaults.region.as_deref(),
    )?;
    let listener = tokio::net::TcpListener::bind(&options.listen)
        .await
        .map_err(|e| Error::Usage(format!("cannot listen on `{}`: {e}", options.listen)))?;
    let address = listener.local_addr()?;
    if !is_loopback(&address) && options.read_token.is_none() {
        if !options.allow_public_unauthenticated {
            return Err(Error::Refused(format!(
                "`--listen {}` is reachable beyond this machine, and without a read token anyone who reaches it reads the report, the metrics and the findings (every repository, stack and account); set a read token (LITTLE_SERVE_READ_TOKEN or --read-token-file), listen on 127.0.0.1, or pass --allow-public-unauthenticated",
                options.listen
            )));
        }
        log(&format!(
            "WARNING: listening on {address} without a read token (--allow-public-unauthenticated): the report, metrics and findings are open to anyone who reaches this address"
        ));
    }
    let mut shared = Shared::new(
        store,
        options.token.clone(),
        project.file.defaults.region.clone(),
    );
    shared.read_token = options.read_token.clone();
    shared.limits = options.limits;
    shared.stale_after = options
        .interval
        .checked_mul(options.stale_after.max(1))
        .unwrap_or(Duration::MAX);
    let shared = Arc::new(shared);
    shared.refresh_metrics();
    on_listening(address);

    let scheduler = {
        let shared = shared.clone();
        let project = project.clone();
        let connect = connect.clone();
        let options = options.clone();
        tokio::spawn(async move {
            loop {
                // Sequential: the next run starts only after this one ends. The run is a task
                // of its own: whatever happens in it, the schedule goes on.
                let started = Instant::now();
                let run = {
                    let (shared, project, connect, options, audit) = (
                        shared.clone(),
                        project.clone(),
                        connect.clone(),
                        options.clone(),
                        audit.clone(),
                    );
                    tokio::spawn(async move {
                        run_once(&project, &connect, &options, &shared, &audit).await
                    })
                };
                if let Err(e) = run.await {
                    let run = shared.runs.load(Ordering::Relaxed);
                    shared.record_error(
                        run,
                        started.elapsed().as_secs_f64(),
                        &[join_error("the run", e)],
                    );
                    shared.refresh_metrics();
                }
                tokio::time::sleep(options.interval).await;
            }
        })
    };

    let result = http::accept(listener, shared, shutdown).await;
    scheduler.abort();
    log("stopped");
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::config::AuditFile;

    fn audit() -> Result<AuditOptions> {
        Ok(AuditOptions {
            checks: Vec::new(),
            remediate: false,
            all_accounts: false,
            org: false,
            reach: Default::default(),
            stacks: true,
            drift: None,
            settings: Default::default(),
            now: 0,
        })
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
        let setup = ServeOptions::resolve(
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
        let setup = ServeOptions::resolve(
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
        let setup = ServeOptions::resolve(
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
    fn a_bad_interval_is_named_before_the_audit_is_set_up() {
        let dir = tempfile::tempdir().unwrap();
        let e = ServeOptions::resolve(
            ServeFlags {
                interval: Some("soon".into()),
                ..token_files(dir.path())
            },
            &AuditFile::default(),
            Path::new("/p"),
            || Err(Error::Internal("not reached".into())),
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
        assert_eq!(token_from_env(name).as_deref(), Some("s3cret"));
        std::env::set_var(name, " \n");
        assert_eq!(token_from_env(name), None);
        std::env::remove_var(name);
        assert_eq!(token_from_env(name), None);
    }
}
