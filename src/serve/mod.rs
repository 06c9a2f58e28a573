//! `little serve`: the scheduled audit. Runs the audit at start and then on an interval,
//! never overlapping itself; keeps the last good results when a run fails, panics included
//! (logging it, counting it, and noting when it happened), so that the schedule goes on;
//! runs the continuous-scanning configurations; and serves metrics, the report, the scan
//! summary and feeds over HTTP (see [`http`]) until SIGTERM or Ctrl-C. What is served is
//! built once per run; a request copies a reference, never rebuilds a page.

pub mod configs;
pub mod cors;
pub mod http;
pub mod logging;
pub mod metrics;
mod options;
pub mod permissions;
pub mod scan;
#[cfg(test)]
mod server_tests;
pub mod settings;

use std::collections::BTreeMap;
use std::future::Future;

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
pub use options::{
    Limits, ServeFlags, ServeOptions, ServeSetup, DEFAULT_INTERVAL, DEFAULT_LISTEN,
    DEFAULT_STALE_AFTER, DEFAULT_STATE_FILE, DEFAULT_TOKEN_ENV, READ_TOKEN_ENV,
};
use scan::ConfigScan;

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
    /// Whether the last run's audit succeeded (`aws_ecr_repository_exporter_up`).
    pub last_run_ok: AtomicBool,
    /// The accounts of little.yaml (name, id): the registries a scan configuration may name.
    pub accounts: Vec<(String, String)>,
    /// The caller's account (STS, with the default account's credentials), once a run has
    /// found it out: a scan configuration may name it too.
    pub caller_account: RwLock<Option<String>>,
    /// The browser origins allowed to call the endpoints (CORS).
    pub cors_origins: Vec<String>,
    /// One `little_image_in_use` series per image and user (`audit.image_in_use_series`).
    pub image_in_use_series: bool,
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
            last_run_ok: AtomicBool::new(false),
            accounts: Vec::new(),
            caller_account: RwLock::new(None),
            cors_origins: Vec::new(),
            image_in_use_series: false,
        }
    }

    pub fn caller_account(&self) -> Option<String> {
        self.caller_account
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether a scan configuration may name `registry`: an account of little.yaml or the
    /// caller's. `Err` says which may be named; `Ok(false)`: the caller's account is not
    /// known yet (no run has reached AWS).
    pub fn known_registry(&self, registry: &str) -> std::result::Result<bool, String> {
        if self.accounts.iter().any(|(_, id)| id == registry) {
            return Ok(true);
        }
        let caller = self.caller_account();
        if caller.as_deref() == Some(registry) {
            return Ok(true);
        }
        let mut known: Vec<String> = self
            .accounts
            .iter()
            .map(|(name, id)| format!("{id} ({name})"))
            .collect();
        match caller {
            Some(c) => known.push(format!("{c} (the caller's)")),
            None => return Ok(false),
        }
        Err(format!(
            "`registry`: `{registry}` is not an account this server can scan; the known accounts are {}",
            known.join(", ")
        ))
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
        log_at(
            logging::Level::Error,
            &format!(
                "audit run {run} failed ({duration:.1} s); keeping the last good results: {}",
                errors.join("; ")
            ),
            &[
                ("run", run.into()),
                ("duration_seconds", duration.into()),
                ("errors", errors.into()),
            ],
        );
    }

    /// Logs and counts what a good run could not check (a denied permission) and what it
    /// remediated (`--remediate`).
    fn record_report(&self, run: u64, report: &crate::audit::model::AuditReport) {
        for n in &report.not_checked {
            log_at(
                logging::Level::Warning,
                &format!("audit run {run}: not checked: {}", n.reason),
                &[
                    ("run", run.into()),
                    ("check", n.check.clone().into()),
                    ("permission", n.permission.clone().into()),
                ],
            );
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
            exporter_up: self.last_run_ok.load(Ordering::Relaxed),
            remediations: &remediations,
            last_good: latest
                .as_deref()
                .map(|l| (&l.outcome, l.finished_at, l.duration)),
            last_duration,
            errors_total: self.errors_total.load(Ordering::Relaxed),
            denied_total: self.denied_total.load(Ordering::Relaxed),
            last_error: (last_error > 0).then_some(last_error),
            calls: &calls,
            image_in_use_series: self.image_in_use_series,
        };
        match metrics::render(&input) {
            Ok(text) => {
                let exposition = Exposition::new(text);
                *self.metrics.write().unwrap_or_else(|p| p.into_inner()) = exposition;
            }
            Err(e) => log_at(logging::Level::Error, &format!("error: {e}"), &[]),
        }
    }
}

/// A log line at the info level on stderr, stamped with the UTC time (see [`logging`]).
/// Never panics (unlike `eprintln!`): a server whose stderr is gone goes on serving.
pub fn log(message: &str) {
    logging::event(logging::Level::Info, message, &[]);
}

/// A log line at `level`, with its values by name (the fields of a JSON line).
pub fn log_at(level: logging::Level, message: &str, fields: &[(&str, serde_json::Value)]) {
    logging::event(level, message, fields);
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
    if shared.caller_account().is_none() {
        if let Ok(account) = caller_account(project, connect.as_ref(), options).await {
            *shared
                .caller_account
                .write()
                .unwrap_or_else(|p| p.into_inner()) = Some(account);
        }
    }
    let mismatch = options.registry.as_ref().and_then(|r| {
        let caller = shared.caller_account()?;
        registry_mismatch(project, r, &caller)
    });
    let result = match mismatch {
        Some(why) => Err(Error::Usage(why)),
        None => match tokio::spawn(audit(audit_options)).await {
            Ok(r) => r,
            Err(e) => Err(Error::Internal(join_error("the audit", e))),
        },
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
            log_at(
                logging::Level::Info,
                &format!(
                    "audit run {run}: {}, {}, {} checked; {}; {} scanned; {duration:.1} s",
                    plural(report.checked.repositories, "repository", "repositories"),
                    plural(report.checked.images, "image", "images"),
                    plural(report.checked.stacks, "stack", "stacks"),
                    plural(report.findings.len(), "finding", "findings"),
                    plural(configs.len(), "configuration", "configurations"),
                ),
                &[
                    ("run", run.into()),
                    ("repositories", report.checked.repositories.into()),
                    ("images", report.checked.images.into()),
                    ("stacks", report.checked.stacks.into()),
                    ("findings", report.findings.len().into()),
                    ("configurations", configs.len().into()),
                    ("duration_seconds", duration.into()),
                ],
            );
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
    shared.last_run_ok.store(audit_ok, Ordering::Relaxed);
    shared.refresh_metrics();
    // Ready only once the metrics show a successful audit.
    if audit_ok {
        shared.ready.store(true, Ordering::Relaxed);
    }
}

/// How long finding out the caller's account may take before a run goes on without it.
const CALLER_TIMEOUT: Duration = Duration::from_secs(30);

/// The caller's account: STS GetCallerIdentity with the credentials of the default account
/// (the ones a scan configuration without a registry uses), in the audit's first region.
async fn caller_account(
    project: &Project,
    connect: &dyn Connect,
    options: &ServeOptions,
) -> Result<String> {
    let region = options.audit.reach.regions.first().cloned().flatten();
    let lookup = connect.caller(region.as_deref(), project.default_account());
    match tokio::time::timeout(CALLER_TIMEOUT, lookup).await {
        Ok(caller) => Ok(caller?.identity.account),
        Err(_) => Err(Error::Internal(format!(
            "STS GetCallerIdentity did not answer within {}",
            crate::duration::human(CALLER_TIMEOUT)
        ))),
    }
}

/// Why the registry named (`--registry`, `ECR_REGISTRY_ID`, ...) cannot be audited: it is
/// no account of little.yaml (those are reached through their roles) and not the caller's.
fn registry_mismatch(
    project: &Project,
    registry: &settings::Chosen<String>,
    caller: &str,
) -> Option<String> {
    if registry.value == caller || project.accounts.values().any(|a| a.id == registry.value) {
        return None;
    }
    let mut known: Vec<String> = project
        .accounts
        .iter()
        .map(|(name, a)| format!("{} ({name})", a.id))
        .collect();
    known.push(format!("{caller} (the caller's)"));
    Some(format!(
        "{} `{}`: this registry is neither the caller's account nor an account of little.yaml, so little cannot read it; the known accounts are {} (add the account, with its role_arn, to little.yaml's accounts)",
        settings::named(registry),
        registry.value,
        known.join(", ")
    ))
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
        log_at(
            logging::Level::Warning,
            &format!(
                "WARNING: listening on {address} without a read token (--allow-public-unauthenticated): the report, metrics and findings are open to anyone who reaches this address"
            ),
            &[("address", address.to_string().into())],
        );
    }
    let mut shared = Shared::new(
        store,
        options.token.clone(),
        project.file.defaults.region.clone(),
    );
    shared.read_token = options.read_token.clone();
    shared.limits = options.limits;
    shared.cors_origins = options.cors_origins.clone();
    shared.image_in_use_series = options.image_in_use_series;
    shared.accounts = project
        .accounts
        .iter()
        .map(|(name, a)| (name.clone(), a.id.clone()))
        .collect();
    if let Some(registry) = &options.registry {
        let known = project.accounts.values().any(|a| a.id == registry.value);
        if !known {
            // Checked before serving when AWS answers; otherwise on every run.
            if let Ok(caller) = caller_account(&project, connect.as_ref(), &options).await {
                if let Some(why) = registry_mismatch(&project, registry, &caller) {
                    return Err(Error::Usage(why));
                }
                *shared
                    .caller_account
                    .write()
                    .unwrap_or_else(|p| p.into_inner()) = Some(caller);
            }
        }
    }
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
