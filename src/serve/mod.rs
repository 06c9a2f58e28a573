//! `little serve`: the scheduled audit. Runs the audit at start and then on an interval,
//! never overlapping itself; keeps the last good results when a run fails (logging and
//! counting the error); runs the continuous-scanning configurations; and serves metrics, the
//! report, the scan summary and feeds over HTTP (see [`http`]) until SIGTERM or Ctrl-C.

pub mod configs;
pub mod http;
pub mod metrics;
pub mod scan;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::audit::run::{audit_outcome, AuditOptions, AuditOutcome};
use crate::aws::connect::Connect;
use crate::error::{Error, Result};
use crate::project::Project;
use crate::report::rfc3339_utc;
use configs::ConfigStore;
use scan::ConfigScan;

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
}

/// The metrics text as served.
#[derive(Clone, Default)]
pub struct Exposition {
    pub plain: hyper::body::Bytes,
    /// gzip (Prometheus asks for it): a tenth of the size.
    pub gzip: Option<hyper::body::Bytes>,
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
            .map(hyper::body::Bytes::from);
        Exposition {
            plain: hyper::body::Bytes::from(text),
            gzip,
        }
    }
}

/// The last successful audit.
pub struct Latest {
    pub outcome: AuditOutcome,
    /// Unix seconds.
    pub finished_at: u64,
    pub duration: f64,
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
    pub last_duration: Mutex<Option<f64>>,
    pub ready: AtomicBool,
    pub token: Option<String>,
    pub default_region: Option<String>,
    pub runs: AtomicU64,
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
            last_duration: Mutex::new(None),
            ready: AtomicBool::new(false),
            token,
            default_region,
            runs: AtomicU64::new(0),
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

    /// Rebuilds the metrics text from the last good results and the counters.
    pub fn refresh_metrics(&self) {
        let latest = self.latest();
        let calls = crate::aws::calls::snapshot();
        let last_duration = *self.last_duration.lock().unwrap_or_else(|p| p.into_inner());
        let input = metrics::MetricsInput {
            last_good: latest
                .as_deref()
                .map(|l| (&l.outcome, l.finished_at, l.duration)),
            last_duration,
            errors_total: self.errors_total.load(Ordering::Relaxed),
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

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// One run: the audit, then the scan configurations. A run with errors keeps the last good
/// audit and counts one error.
pub async fn run_once(
    project: &Arc<Project>,
    connect: &Arc<dyn Connect>,
    options: &ServeOptions,
    shared: &Shared,
) {
    let run = shared.runs.fetch_add(1, Ordering::Relaxed) + 1;
    let started = Instant::now();
    let mut audit_options = options.audit.clone();
    audit_options.now = now();
    let result = audit_outcome(project.clone(), connect.clone(), audit_options).await;
    let configs = shared
        .configs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .list();
    let previous = shared.scans();
    let (scans, scan_errors) = scan::scan_all(
        project,
        connect.as_ref(),
        &configs,
        &previous,
        &rfc3339_utc(now()),
    )
    .await;
    *shared.scans.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(scans);
    let duration = started.elapsed().as_secs_f64();
    *shared
        .last_duration
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(duration);
    let mut errors: Vec<String> = scan_errors;
    let mut audit_ok = false;
    match result {
        Ok(outcome) if outcome.report.errors.is_empty() => {
            let report = &outcome.report;
            log(&format!(
                "audit run {run}: {} repositories, {} images, {} stacks checked; {} findings; {} configurations scanned; {duration:.1} s",
                report.checked.repositories,
                report.checked.images,
                report.checked.stacks,
                report.findings.len(),
                configs.len(),
            ));
            *shared.latest.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(Latest {
                outcome,
                finished_at: now(),
                duration,
            }));
            audit_ok = true;
        }
        Ok(outcome) => errors.extend(outcome.report.errors),
        Err(e) => errors.push(e.to_string()),
    }
    if !errors.is_empty() {
        shared.errors_total.fetch_add(1, Ordering::Relaxed);
        log(&format!(
            "audit run {run} failed ({duration:.1} s); keeping the last good results: {}",
            errors.join("; ")
        ));
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
    let store = ConfigStore::open(
        &options.state_file,
        &project.file.audit.scan_configs,
        project.file.defaults.region.as_deref(),
    )?;
    let listener = tokio::net::TcpListener::bind(&options.listen)
        .await
        .map_err(|e| Error::Usage(format!("cannot listen on `{}`: {e}", options.listen)))?;
    let address = listener.local_addr()?;
    let shared = Arc::new(Shared::new(
        store,
        options.token.clone(),
        project.file.defaults.region.clone(),
    ));
    shared.refresh_metrics();
    on_listening(address);

    let scheduler = {
        let shared = shared.clone();
        let project = project.clone();
        let connect = connect.clone();
        let options = options.clone();
        tokio::spawn(async move {
            loop {
                // Sequential: the next run starts only after this one ends.
                run_once(&project, &connect, &options, &shared).await;
                tokio::time::sleep(options.interval).await;
            }
        })
    };

    let result = http::accept(listener, shared, crate::interrupt::signalled()).await;
    scheduler.abort();
    log("stopped");
    result
}

/// `30m`, `1h`, `90s`, `1h30m`, `2d`: a duration of whole units.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration; use forms such as 90s, 30m, 1h, 1h30m");
    let mut total = 0u64;
    let mut digits = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        total = total
            .checked_add(n.checked_mul(unit).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        any = true;
    }
    if !digits.is_empty() || !any {
        return Err(bad());
    }
    if total == 0 {
        return Err(format!("`{text}`: the interval must be longer than zero"));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_bad_ones_are_named() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("30").unwrap_err().contains("not a duration"));
        assert!(parse_duration("3x").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("0s")
            .unwrap_err()
            .contains("longer than zero"));
    }
}
