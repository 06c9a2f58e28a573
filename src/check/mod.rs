//! `little check`: what is inside an image, read without Docker. The manifest comes from ECR
//! (BatchGetImage; an index is resolved to one platform), the config and the layers from the
//! registry's OCI distribution API. Layers are streamed and decompressed on the fly, keeping
//! only the files the checks read; nothing is executed. Images are untrusted input: every
//! size, count and wait is bounded by [`limits::Limits`] (`check.limits`), an image that
//! breaks a bound is a failed check of its report, and every string of the image in a report
//! has been through [`redact::Redactor`]. The checks are in [`rules`]; the SQS worker is in
//! [`worker`].

pub mod checks;
pub mod eol;
pub mod event;
pub mod facts;
pub mod image;
pub mod jar;
pub mod layers;
pub mod limits;
pub mod permissions;
pub mod redact;
pub mod registry;
pub mod rules;
pub mod settings;
pub mod tarstream;
pub mod waste;
pub mod worker;

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::aws::connect::Clients;
use crate::error::{Error, Result};
use facts::{Facts, HistoryStep, ImageFacts};
use image::{is_gzip, is_zstd, parse_manifest, pick_platform, ImageConfig, Manifest};
use layers::FileView;
use limits::{out_of_time, verify_bytes, Budget, Limits, Problem, Stop, TIMEOUT_CHECK};
use redact::Redactor;
use registry::{ChannelReader, Registry, CHANNEL_CHUNKS};
use rules::{CheckResult, Checks, Outcome};
use tarstream::TarError;

/// The report format's version.
pub const REPORT_VERSION: u32 = 1;

/// How images are checked.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    pub checks: Checks,
    /// The platform an index is resolved to [default: `linux/amd64`].
    pub platform: String,
    /// The registry's URL for blobs, instead of the one ECR's authorization names (a pull
    /// through a proxy; a local registry in tests).
    pub registry_url: Option<String>,
    /// What one image may make the check read, keep and wait for.
    pub limits: Limits,
    /// The label that waives an image's `fail` checks (`check.waiver_label`); none: off.
    pub waiver: Option<WaiverLabel>,
    /// The HTML report's logo and style sheet (`check.report`), checked `https://` URLs.
    pub branding: rules::ReportBranding,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            checks: Checks::default(),
            platform: "linux/amd64".into(),
            registry_url: None,
            limits: Limits::default(),
            waiver: Some(WaiverLabel {
                name: "ops_permit_dangerous".into(),
                value: "exigency".into(),
            }),
            branding: rules::ReportBranding::default(),
        }
    }
}

/// `check.waiver_label`: `NAME=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverLabel {
    pub name: String,
    pub value: String,
}

impl std::fmt::Display for WaiverLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.name, self.value)
    }
}

/// An image's waiver: it carries `check.waiver_label`, so its `fail` checks do not fail it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    /// `NAME=VALUE`, as `check.waiver_label` says it.
    pub label: String,
    /// The ids of the failing checks it waived.
    pub checks: Vec<String>,
}

/// `repository:tag` or `repository@sha256:...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    pub repository: String,
    /// A tag or a digest.
    pub reference: String,
}

impl ImageRef {
    pub fn parse(text: &str) -> Result<ImageRef> {
        let (repository, reference) = if let Some((r, d)) = text.split_once('@') {
            (r, d)
        } else if let Some((r, t)) = text.rsplit_once(':') {
            (r, t)
        } else {
            return Err(Error::Usage(format!(
                "`{text}` names no tag or digest: use REPOSITORY:TAG or REPOSITORY@sha256:..."
            )));
        };
        if repository.is_empty() || reference.is_empty() || repository.contains(':') {
            return Err(Error::Usage(format!(
                "`{text}` is not REPOSITORY:TAG or REPOSITORY@sha256:..."
            )));
        }
        Ok(ImageRef {
            repository: repository.to_owned(),
            reference: reference.to_owned(),
        })
    }

    /// Whether the reference is a digest (`sha256:...`, `sha512:...`; a tag has no `:`).
    pub fn is_digest(&self) -> bool {
        self.reference.contains(':')
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_digest() {
            write!(f, "{}@{}", self.repository, self.reference)
        } else {
            write!(f, "{}:{}", self.repository, self.reference)
        }
    }
}

/// What `--enforce` did, or would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enforcement {
    /// `ecr:BatchDeleteImage`.
    pub action: String,
    pub applied: bool,
    pub detail: String,
}

/// The image the report is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedImage {
    pub repository: String,
    pub tag: Option<String>,
    pub digest: String,
    pub platform: String,
    pub region: String,
    /// `<registry>/<repository>` as a pull would name it.
    pub uri: Option<String>,
    /// Who pushed it, as the push event says (`unknown` when it does not); none for a check
    /// not started by an event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_by: Option<String>,
}

/// The report of one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub version: u32,
    /// Unix seconds.
    pub created_at: u64,
    pub image: CheckedImage,
    /// The worst check's outcome (`pass`, `warn` or `fail`).
    pub outcome: Outcome,
    pub checks: Vec<CheckResult>,
    pub facts: Facts,
    pub history: Vec<HistoryStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<Enforcement>,
    /// What could not be read (such as a zstd layer).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The image carries `check.waiver_label`: its `fail` checks did not fail it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<Waiver>,
    /// The notification targets the worker gave up on (failed deliveries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undelivered: Vec<crate::notify::delivery::FailedDelivery>,
}

impl Waiver {
    /// One loud line: what was waived, and by which label.
    pub fn describe(&self) -> String {
        if self.checks.is_empty() {
            format!(
                "the image carries the waiver label {}; no failing check was waived",
                self.label
            )
        } else {
            format!(
                "{} ({}) waived by the label {}: they do not fail the image",
                crate::text::plural(self.checks.len(), "failing check", "failing checks"),
                self.checks.join(", "),
                self.label
            )
        }
    }
}

impl CheckReport {
    /// Whether a `fail` check failed.
    pub fn failed(&self) -> bool {
        self.outcome == Outcome::Fail
    }

    /// Changes when a `fail` check failed, else ok.
    pub fn verdict(&self) -> crate::error::Verdict {
        if self.failed() {
            crate::error::Verdict::Changes
        } else {
            crate::error::Verdict::Ok
        }
    }
}

/// A layer's place in the image, for messages: `layer 2 of 3 (sha256:0123456789ab)`.
fn layer_place(index: usize, count: usize, digest: &str) -> String {
    let short: String = digest.chars().take(19).collect();
    format!("layer {} of {count} ({short})", index + 1)
}

/// What reading one layer left: the view, the decompressed bytes, and why it stopped early.
struct LayerRead {
    view: FileView,
    bytes: u64,
    stopped: Option<Problem>,
}

/// Reads a layer in a blocking tar reader fed by the registry stream, within the limits: the
/// layer's and image's decompressed bytes (`image_before` were read before it) and the
/// image's deadline.
#[allow(clippy::too_many_arguments)]
async fn read_layer(
    registry: &Registry,
    repository: &str,
    layer: &image::Descriptor,
    place: String,
    limits: &Limits,
    image_before: u64,
    deadline: Instant,
    mut view: FileView,
) -> std::result::Result<(FileView, u64), Stop> {
    let (tx, rx) = tokio::sync::mpsc::channel(CHANNEL_CHUNKS);
    let gzip = is_gzip(&layer.media_type);
    let reader_limits = limits.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let limits = &reader_limits;
        let mut raw = ChannelReader::new(rx);
        let (applied, tripped, bytes) = {
            let mut decoded: Box<dyn std::io::Read + '_> = if gzip {
                Box::new(flate2::read::GzDecoder::new(&mut raw))
            } else {
                Box::new(&mut raw)
            };
            let mut budget = Budget::new(&mut decoded, limits, image_before, deadline);
            let applied = view.apply_layer(&mut budget, limits).and_then(|()| {
                // Read to the end (within the budget), so that the digest is checked over the
                // whole blob.
                std::io::copy(&mut budget, &mut std::io::sink())
                    .map(|_| ())
                    .map_err(TarError::Io)
            });
            (applied, budget.tripped.take(), budget.layer)
        };
        let applied = applied.and_then(|()| {
            std::io::copy(&mut raw, &mut std::io::sink())
                .map(|_| ())
                .map_err(TarError::Io)
        });
        let stopped = match (tripped, applied) {
            (Some(p), _) => Some(p),
            (None, Ok(())) => None,
            (None, Err(TarError::Problem(p))) => Some(p),
            (None, Err(TarError::Io(e))) => Some(Problem::Malformed(if gzip {
                format!("the gzip stream or the tar archive in it cannot be read: {e}")
            } else {
                format!("the tar archive cannot be read: {e}")
            })),
        };
        LayerRead {
            view,
            bytes,
            stopped,
        }
    });
    let size = u64::try_from(layer.size).ok().filter(|s| *s > 0);
    let fetched = registry.stream(repository, &layer.digest, size, tx).await;
    let read = reader
        .await
        .map_err(|e| Error::Internal(format!("the layer reader stopped: {e}")))?;
    // The registry's failure first: the reader's is then only its consequence.
    fetched?;
    match read.stopped {
        Some(p) => Err(Stop::Problem(p.at(&place))),
        None => Ok((read.view, read.bytes)),
    }
}

/// What was read of an image, filled in as it is read (so that a report can be made of what
/// there is when reading stops).
#[derive(Default)]
struct Partial {
    config: Option<ImageConfig>,
    layer_sizes: Vec<i64>,
    view: FileView,
    notes: Vec<String>,
    /// The registry's host, as ECR's authorization names it.
    host: String,
}

/// Reads the rest of an image after its top manifest: the manifest of the platform (of an
/// index), the config and the layers.
async fn read_image(
    clients: &Clients,
    image: &ImageRef,
    top: &crate::aws::ecr_images::Manifest,
    settings: &CheckSettings,
    deadline: Instant,
    partial: &mut Partial,
) -> std::result::Result<(), Stop> {
    let limits = &settings.limits;
    let malformed = |e: Error| Problem::Malformed(e.to_string());
    verify_bytes(top.body.as_bytes(), &top.digest, "the image manifest")?;
    let (config_descriptor, layers) = match parse_manifest(&top.body, top.media_type.as_deref())
        .map_err(malformed)?
    {
        Manifest::Image { config, layers } => (config, layers),
        Manifest::Index { manifests } => {
            let chosen = pick_platform(&manifests, &settings.platform)?;
            let inner = clients
                .images
                .manifest(&image.repository, &chosen.digest)
                .await?
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "the {} manifest {} of {image} is not in {}",
                        settings.platform, chosen.digest, clients.region
                    ))
                })?;
            verify_bytes(
                inner.body.as_bytes(),
                &chosen.digest,
                &format!("the {} manifest", settings.platform),
            )?;
            match parse_manifest(&inner.body, inner.media_type.as_deref()).map_err(malformed)? {
                Manifest::Image { config, layers } => (config, layers),
                Manifest::Index { .. } => {
                    return Err(
                        Problem::Malformed("an index inside an index is not read".into()).into(),
                    )
                }
            }
        }
    };
    // Every digest has a known form (and so a bounded length) before it is used anywhere.
    for d in std::iter::once(&config_descriptor).chain(&layers) {
        limits::parse_digest(&d.digest)?;
        if d.size < 0 {
            return Err(Problem::Malformed(format!(
                "the descriptor of {} has a negative size ({})",
                d.digest, d.size
            ))
            .into());
        }
    }
    partial.layer_sizes = layers.iter().map(|l| l.size).collect();
    let auth = clients.images.registry_auth().await?;
    partial.host = auth
        .endpoint
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .to_owned();
    let base = settings
        .registry_url
        .clone()
        .unwrap_or_else(|| auth.endpoint.clone());
    let registry = Registry::new(&base, Some(auth.header.clone()), limits.read_timeout)?;
    let config_size = u64::try_from(config_descriptor.size)
        .ok()
        .filter(|s| *s > 0);
    let config_bytes = registry
        .blob(
            &image.repository,
            &config_descriptor.digest,
            config_size,
            limits.max_config_bytes,
        )
        .await?;
    let entries = image::config_entries(&config_bytes).map_err(malformed)?;
    if entries > limits.max_config_entries {
        return Err(limits::over(
            "max_config_entries",
            limits.max_config_entries,
            format!(
                "the image config has {} environment variables, labels, command words and build steps",
                crate::text::thousands(entries)
            ),
        )
        .into());
    }
    partial.config = Some(ImageConfig::parse(&config_bytes).map_err(malformed)?);
    drop(config_bytes);

    let mut view = FileView::default();
    let mut image_bytes = 0u64;
    for (i, layer) in layers.iter().enumerate() {
        if is_zstd(&layer.media_type) {
            view.waste.skipped_layers += 1;
            partial.notes.push(format!(
                "layer {} is zstd-compressed and was not read; the file checks may miss what it holds",
                layer.digest
            ));
            continue;
        }
        let (next, bytes) = read_layer(
            &registry,
            &image.repository,
            layer,
            layer_place(i, layers.len(), &layer.digest),
            limits,
            image_bytes,
            deadline,
            view,
        )
        .await?;
        view = next;
        image_bytes += bytes;
    }
    if view.waste.capped {
        partial.notes.push(format!(
            "the layers hold more paths than the efficiency figure follows (`check.limits.max_tracked_paths` {}, `max_tracked_path_bytes` {}): the wasted bytes are a lower bound",
            crate::text::thousands(limits.max_tracked_paths),
            crate::text::thousands(limits.max_tracked_path_bytes)
        ));
    }
    if view.libraries_capped {
        partial.notes.push(format!(
            "more JARs than `check.limits.max_libraries` ({}): the rest were not judged",
            crate::text::thousands(limits.max_libraries)
        ));
    }
    partial.view = view;
    Ok(())
}

/// Checks one image. `now` is Unix seconds. An image that cannot be read within
/// `check.limits` (or whose blobs do not match their digests, or that is not well-formed) is
/// a report with that failed check; an error of AWS or the registry is an error.
pub async fn check_image(
    clients: &Clients,
    image: &ImageRef,
    settings: &CheckSettings,
    now: u64,
) -> Result<CheckReport> {
    let redactor = Redactor::new(&settings.checks.secrets)
        .map_err(|e| Error::Usage(format!("`check.checks.secrets.patterns`: {e}")))?;
    let deadline = Instant::now() + settings.limits.max_duration;
    let not_found = || Error::Usage(format!("there is no image {image} in {}", clients.region));
    let top = clients
        .images
        .manifest(&image.repository, &image.reference)
        .await?
        .ok_or_else(not_found)?;
    let mut partial = Partial::default();
    let read = tokio::time::timeout_at(
        deadline.into(),
        read_image(clients, image, &top, settings, deadline, &mut partial),
    )
    .await
    .unwrap_or_else(|_| Err(Stop::Problem(out_of_time(&settings.limits))));
    let problem = match read {
        Ok(()) => None,
        Err(Stop::Problem(p)) => Some(p),
        Err(Stop::Error(e)) => return Err(redactor.error(e)),
    };
    let uri = (!partial.host.is_empty()).then(|| format!("{}/{}", partial.host, image.repository));
    let image = CheckedImage {
        repository: image.repository.clone(),
        tag: (!image.is_digest()).then(|| image.reference.clone()),
        digest: top.digest.clone(),
        platform: settings.platform.clone(),
        region: clients.region.clone(),
        uri,
        pushed_by: None,
    };
    build_report(image, partial, problem, settings, now, &redactor)
}

/// The report of what was read of an image (and why reading stopped, if it did), redacted.
fn build_report(
    mut image: CheckedImage,
    mut partial: Partial,
    problem: Option<Problem>,
    settings: &CheckSettings,
    now: u64,
    redactor: &Redactor,
) -> Result<CheckReport> {
    let config = partial.config.take().unwrap_or_default();
    let waived = settings.waiver.as_ref().filter(|w| {
        config
            .config
            .labels
            .as_ref()
            .and_then(|l| l.get(&w.name))
            .is_some_and(|v| v.trim() == w.value)
    });
    if !config.os.is_empty() {
        image.platform = format!("{}/{}", config.os, config.architecture);
    }
    let history = facts::history(&config, redactor);
    let facts = ImageFacts {
        config,
        layer_sizes: std::mem::take(&mut partial.layer_sizes),
        // What an image read in part holds is not judged.
        files: if problem.is_some() {
            FileView::default()
        } else {
            std::mem::take(&mut partial.view)
        },
    };
    let (mut checks, facts_out) =
        checks::run_checks(&settings.checks, &facts, checks::day_of(now), redactor)
            .map_err(Error::Usage)?;
    if let Some(p) = &problem {
        for c in &mut checks {
            if c.outcome != Outcome::Skipped {
                c.outcome = Outcome::Skipped;
                c.summary = "not run: the image was not read to the end".into();
                c.details.clear();
            }
        }
        checks.insert(0, p.check_result());
    }
    let mut outcome = checks
        .iter()
        .map(|c| c.outcome)
        .max()
        .unwrap_or(Outcome::Pass)
        .max(Outcome::Pass);
    // A waiver covers what the checks found, never an image that could not be read.
    let waiver = waived.map(|w| Waiver {
        label: w.to_string(),
        checks: checks
            .iter()
            .filter(|c| c.outcome == Outcome::Fail && !c.id.starts_with("image."))
            .map(|c| c.id.clone())
            .collect(),
    });
    if waiver.is_some() && problem.is_none() && outcome == Outcome::Fail {
        outcome = Outcome::Warn;
    }
    let mut report = CheckReport {
        version: REPORT_VERSION,
        created_at: now,
        image,
        outcome,
        checks,
        facts: facts_out,
        history,
        enforcement: None,
        notes: partial.notes,
        waiver,
        undelivered: Vec::new(),
    };
    redactor.report(&mut report);
    Ok(report)
}

/// `--enforce`: deletes a failing image by digest (every tag goes with it); without `apply`,
/// records what it would do.
pub async fn enforce(clients: &Clients, report: &mut CheckReport, apply: bool) -> Result<()> {
    if !report.failed() {
        return Ok(());
    }
    let what = format!("{}@{}", report.image.repository, report.image.digest);
    // An image that was only not read in time is not judged: a slow registry says nothing
    // about it.
    let judged = report
        .checks
        .iter()
        .any(|c| c.outcome == Outcome::Fail && c.id != TIMEOUT_CHECK);
    let detail = if !judged {
        format!(
            "{what} was not read in time and is not deleted for that; check it again (`{TIMEOUT_CHECK}`)"
        )
    } else if apply {
        let deleted = clients
            .images
            .delete_image(&report.image.repository, &report.image.digest)
            .await?;
        if deleted {
            format!("deleted {what}")
        } else {
            format!("{what} was already gone")
        }
    } else {
        format!("would delete {what} (run with --enforce)")
    };
    report.enforcement = Some(Enforcement {
        action: "ecr:BatchDeleteImage".into(),
        applied: apply && judged,
        detail,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GITHUB: &str = "ghp_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVb";

    /// The secrets the hostile image below holds, and fragments of them that no output may
    /// show (a prefix included).
    const LEAKS: [&str; 13] = [
        "ghp_",
        "Zx9Qw8Er7Ty6",
        "QWERTYUIOPASDFGH",
        "hunter2",
        "tok-live",
        "glpat-",
        "npm_s3cr3t",
        "b3BlbnNzaC1rZXkt",
        "pg-pass-4242",
        "xoxb-",
        "from-the-env-step-4242",
        "PrettyLeak",
        "PlainRepoPass99",
    ];

    /// What was read of an image with secrets in its environment, labels, user, build
    /// history and files.
    fn hostile_partial() -> Partial {
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {
                "User": format!("app:{GITHUB}"),
                "Env": [
                    "PATH=/usr/bin",
                    format!("GREETING=hello {GITHUB}"),
                    "AWS_ACCESS_KEY_ID=AKIAQWERTYUIOPASDFGH",
                    "DB_PASSWORD=hunter2-s3cret-value",
                    "DATABASE_URL=postgres://app:pg-pass-4242@db/app",
                    "JAVA_VERSION=11 xoxb-1234567890-abcdefghij",
                ],
                "Labels": {
                    "com.acme.deploy-token": "tok-live-9f8e7d6c",
                    "notes": "glpat-ABCDEFGHIJKLMNOPQRST12",
                    "owner_team": "Platform xoxb-1234567890-abcdefghij",
                    "org.opencontainers.image.source": "https://ci:PlainRepoPass99@git.example/acme/api",
                },
            },
            "history": [
                {"created_by": format!("/bin/sh -c echo {GITHUB} > /root/.token"), "created": "2026-01-01 ghp_0123456789012345678901234567890123456"},
                {"created_by": "|1 NPM_TOKEN=npm_s3cr3tvalue /bin/sh -c npm ci"},
                {"created_by": "/bin/sh -c printf '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA && more\n-----END OPENSSH PRIVATE KEY-----' > /root/.ssh/id"},
                {"created_by": "/bin/sh -c #(nop) ENV PASSWORD=from-the-env-step-4242"},
            ],
        });
        let mut view = FileView::default();
        view.files.insert(
            "etc/os-release".into(),
            format!("ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian PrettyLeak {GITHUB}\"\n")
                .into_bytes(),
        );
        view.files.insert(
            "opt/java/openjdk/release".into(),
            format!("JAVA_VERSION=\"11 {GITHUB}\"\n").into_bytes(),
        );
        Partial {
            config: Some(ImageConfig::parse(&serde_json::to_vec(&config).unwrap()).unwrap()),
            layer_sizes: vec![100],
            view,
            notes: vec![format!("a note that quotes {GITHUB}")],
            host: "127.0.0.1:5000".into(),
        }
    }

    fn hostile_settings() -> CheckSettings {
        let mut settings = CheckSettings::default();
        settings
            .checks
            .labels
            .required
            .insert("com.acme.deploy-token".into(), "^x$".into());
        settings
            .checks
            .labels
            .required
            .insert("owner_team".into(), "^[a-z]+$".into());
        settings
            .checks
            .runtimes
            .minimum
            .insert("java".into(), "17".into());
        settings.checks.secrets.patterns.push("PrettyLeak".into());
        settings
    }

    fn image() -> CheckedImage {
        CheckedImage {
            repository: "team/api".into(),
            tag: Some("v1".into()),
            digest: format!("sha256:{}", "a".repeat(64)),
            platform: "linux/amd64".into(),
            region: "us-east-1".into(),
            uri: None,
            pushed_by: None,
        }
    }

    /// Every output of a report: the terminal summary, JSON (also what the worker stores),
    /// HTML, and each notification body (SNS text, Slack, Teams, JSON webhooks).
    fn every_output(report: &CheckReport) -> Vec<(&'static str, String)> {
        use crate::notify::WebhookFormat;
        let mut text = Vec::new();
        crate::report::check::write_text(&mut text, report, crate::report::Style::default())
            .unwrap();
        let note = worker::report_notification(report, Some("https://example.invalid/r".into()));
        vec![
            ("text", String::from_utf8(text).unwrap()),
            ("json", serde_json::to_string_pretty(report).unwrap()),
            (
                "html",
                crate::report::check::html(report, &Default::default()),
            ),
            ("sns", note.text()),
            ("slack", note.webhook_body(WebhookFormat::Slack).to_string()),
            ("teams", note.webhook_body(WebhookFormat::Teams).to_string()),
            (
                "webhook json",
                note.webhook_body(WebhookFormat::Json).to_string(),
            ),
        ]
    }

    #[test]
    fn no_secret_of_the_image_reaches_any_output() {
        let settings = hostile_settings();
        let redactor = Redactor::new(&settings.checks.secrets).unwrap();
        for problem in [
            None,
            Some(limits::over(
                "max_kept_files",
                256,
                "more than 256 files".into(),
            )),
        ] {
            let failed = problem.is_some();
            let report =
                build_report(image(), hostile_partial(), problem, &settings, 0, &redactor).unwrap();
            assert_eq!(report.outcome, Outcome::Fail);
            for (format, out) in every_output(&report) {
                for leak in LEAKS {
                    assert!(
                        !out.contains(leak),
                        "`{leak}` in the {format} output (problem: {failed}):\n{out}"
                    );
                }
                if !failed && format != "text" {
                    // Each format escapes the brackets its own way (Teams: `\[`).
                    assert!(
                        out.contains("redacted GitHub token, 40 characters"),
                        "{format}: {out}"
                    );
                }
            }
            // The history and facts are there, in redacted form.
            let json = serde_json::to_string(&report).unwrap();
            assert!(
                json.contains("NPM_TOKEN=[redacted secret, 15 characters]"),
                "{json}"
            );
            assert!(json.contains("[redacted private key, "), "{json}");
            assert!(
                json.contains("\"DB_PASSWORD\",\"[redacted secret, 20 characters]\""),
                "{json}"
            );
        }
        let report =
            build_report(image(), hostile_partial(), None, &settings, 0, &redactor).unwrap();
        let secrets = report.checks.iter().find(|c| c.id == "secrets").unwrap();
        assert!(
            secrets.details.iter().any(|d| d
                == "build step 1 holds a GitHub token: [redacted GitHub token, 40 characters]"),
            "{secrets:?}"
        );
        assert_eq!(
            report.facts.labels["org.opencontainers.image.source"],
            "https://git.example/acme/api"
        );
        let creds = report
            .checks
            .iter()
            .find(|c| c.id == "label_credentials")
            .unwrap();
        assert_eq!(creds.outcome, Outcome::Fail);
        assert!(creds.details.contains(&"label `org.opencontainers.image.source` holds a user and password in a URL: `https://git.example/acme/api` (shown without them)".to_owned()), "{creds:?}");
        let labels = report.checks.iter().find(|c| c.id == "labels").unwrap();
        assert!(labels.details.contains(&"label `com.acme.deploy-token` is `[redacted secret, 17 characters]`, which does not match `^x$`".to_owned()), "{labels:?}");
    }

    #[test]
    fn a_problem_fails_the_image_and_skips_the_other_checks() {
        let settings = CheckSettings::default();
        let redactor = Redactor::new(&settings.checks.secrets).unwrap();
        let problem = limits::over(
            "max_name_bytes",
            4096,
            "layer 1 of 1 (sha256:0123456789ab): a GNU long name of 1,000,000 bytes".into(),
        );
        let report = build_report(
            image(),
            hostile_partial(),
            Some(problem),
            &settings,
            0,
            &redactor,
        )
        .unwrap();
        assert_eq!(report.outcome, Outcome::Fail);
        assert_eq!(report.checks[0].id, "image.limit-exceeded");
        assert_eq!(
            report.checks[0].summary,
            "layer 1 of 1 (sha256:0123456789ab): a GNU long name of 1,000,000 bytes: over `check.limits.max_name_bytes` (4,096)"
        );
        assert!(report.checks[1..]
            .iter()
            .all(|c| c.outcome == Outcome::Skipped));
        assert_eq!(
            report.facts.os, None,
            "files of an image read in part are not judged"
        );
    }

    #[test]
    fn the_waiver_label_keeps_every_check_but_fails_nothing() {
        let settings = hostile_settings();
        let redactor = Redactor::new(&settings.checks.secrets).unwrap();
        let mut partial = hostile_partial();
        let waived = |p: &mut Partial, value: &str| {
            let labels = p
                .config
                .as_mut()
                .unwrap()
                .config
                .labels
                .get_or_insert_default();
            labels.insert("ops_permit_dangerous".into(), value.into());
        };
        waived(&mut partial, " exigency ");
        let report = build_report(image(), partial, None, &settings, 0, &redactor).unwrap();
        assert_eq!(report.outcome, Outcome::Warn, "no exit 2, no deletion");
        assert_eq!(report.verdict(), crate::error::Verdict::Ok);
        assert!(!report.failed());
        let failing: Vec<&str> = report
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Fail)
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(
            failing,
            ["labels", "secrets", "label_credentials"],
            "every check still runs and says what it found"
        );
        let waiver = report.waiver.clone().unwrap();
        assert_eq!(waiver.label, "ops_permit_dangerous=exigency");
        assert_eq!(waiver.checks, failing);
        let loud = "3 failing checks (labels, secrets, label_credentials) waived by the label ops_permit_dangerous=exigency";
        for (format, out) in every_output(&report) {
            if format == "json" {
                assert!(
                    out.contains("\"label\": \"ops_permit_dangerous=exigency\""),
                    "{out}"
                );
            } else if format != "teams" {
                // Teams escapes its markdown; the words are the same.
                assert!(out.contains(loud), "{format}: {out}");
            }
        }
        let note = worker::report_notification(&report, None);
        assert_eq!(
            note.title,
            "WAIVED team/api:v1: 3 failing checks waived by the label ops_permit_dangerous=exigency"
        );
        // Another value, or waivers turned off: no waiver.
        let mut partial = hostile_partial();
        waived(&mut partial, "please");
        let report = build_report(image(), partial, None, &settings, 0, &redactor).unwrap();
        assert_eq!((report.outcome, report.waiver), (Outcome::Fail, None));
        let off = CheckSettings {
            waiver: None,
            ..hostile_settings()
        };
        let mut partial = hostile_partial();
        waived(&mut partial, "exigency");
        let report = build_report(image(), partial, None, &off, 0, &redactor).unwrap();
        assert_eq!(report.outcome, Outcome::Fail);
        // An image that could not be read is not waived.
        let mut partial = hostile_partial();
        waived(&mut partial, "exigency");
        let problem = limits::over("max_kept_files", 256, "more than 256 files".into());
        let report =
            build_report(image(), partial, Some(problem), &settings, 0, &redactor).unwrap();
        assert_eq!(report.outcome, Outcome::Fail);
        assert!(report.waiver.unwrap().checks.is_empty());
    }

    #[test]
    fn image_references() {
        assert_eq!(
            ImageRef::parse("team/api:v1").unwrap(),
            ImageRef {
                repository: "team/api".into(),
                reference: "v1".into()
            }
        );
        let d = ImageRef::parse("team/api@sha256:abc").unwrap();
        assert!(d.is_digest());
        assert_eq!(d.to_string(), "team/api@sha256:abc");
        let d = ImageRef::parse("team/api@sha512:abc").unwrap();
        assert!(d.is_digest());
        assert_eq!(d.to_string(), "team/api@sha512:abc");
        assert!(ImageRef::parse("team/api").is_err());
        assert!(ImageRef::parse(":v1").is_err());
    }
}
