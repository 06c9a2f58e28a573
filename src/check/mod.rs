//! `little check`: what is inside an image, read without Docker. The manifest comes from ECR
//! (BatchGetImage; an index is resolved to one platform), the config and the layers from the
//! registry's OCI distribution API. Layers are streamed and decompressed on the fly, keeping
//! only the files the checks read, so memory stays bounded whatever the image's size; nothing
//! is executed. The checks are in [`rules`]; the SQS worker is in [`worker`].

pub mod event;
pub mod image;
pub mod layers;
pub mod registry;
pub mod rules;
pub mod worker;

use serde::{Deserialize, Serialize};

use crate::aws::connect::Clients;
use crate::error::{Error, Result};
use image::{is_gzip, is_zstd, parse_manifest, pick_platform, ImageConfig, Manifest};
use layers::FileView;
use registry::{ChannelReader, Registry, CHANNEL_CHUNKS};
use rules::{CheckResult, Checks, Facts, HistoryStep, ImageFacts, Outcome};

/// The report format's version.
pub const REPORT_VERSION: u32 = 1;
/// The largest image config read.
const MAX_CONFIG: usize = 8 * 1024 * 1024;

/// How images are checked.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    pub checks: Checks,
    /// The platform an index is resolved to [default: `linux/amd64`].
    pub platform: String,
    /// The registry's URL for blobs, instead of the one ECR's authorization names (a pull
    /// through a proxy; a local registry in tests).
    pub registry_url: Option<String>,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            checks: Checks::default(),
            platform: "linux/amd64".into(),
            registry_url: None,
        }
    }
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

    pub fn is_digest(&self) -> bool {
        self.reference.starts_with("sha256:")
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
    /// The notification targets the worker gave up on (failed deliveries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undelivered: Vec<crate::notify::delivery::FailedDelivery>,
}

impl CheckReport {
    /// Whether a `fail` check failed.
    pub fn failed(&self) -> bool {
        self.outcome == Outcome::Fail
    }
}

/// Reads a layer through a blocking tar reader fed by the registry stream.
async fn read_layer(
    registry: &Registry,
    repository: &str,
    digest: &str,
    gzip: bool,
    mut view: FileView,
) -> Result<FileView> {
    let (tx, rx) = tokio::sync::mpsc::channel(CHANNEL_CHUNKS);
    let reader = tokio::task::spawn_blocking(move || {
        let mut raw = ChannelReader::new(rx);
        let applied = if gzip {
            let mut gz = flate2::read::GzDecoder::new(&mut raw);
            let r = view.apply_layer(&mut gz);
            // Read to the end, so that the digest is checked over the whole blob.
            r.and_then(|_| std::io::copy(&mut gz, &mut std::io::sink()).map(|_| ()))
        } else {
            view.apply_layer(&mut raw)
        };
        let drained = std::io::copy(&mut raw, &mut std::io::sink()).map(|_| ());
        (view, applied.and(drained))
    });
    let fetched = registry.stream(repository, digest, tx).await;
    let (view, applied) = reader
        .await
        .map_err(|e| Error::Internal(format!("the layer reader stopped: {e}")))?;
    fetched?;
    applied.map_err(|e| Error::Aws {
        operation: "registry".into(),
        message: format!("layer {digest} of {repository} cannot be read: {e}"),
    })?;
    Ok(view)
}

/// Checks one image. `now` is Unix seconds.
pub async fn check_image(
    clients: &Clients,
    image: &ImageRef,
    settings: &CheckSettings,
    now: u64,
) -> Result<CheckReport> {
    let not_found = || Error::Usage(format!("there is no image {image} in {}", clients.region));
    let top = clients
        .images
        .manifest(&image.repository, &image.reference)
        .await?
        .ok_or_else(not_found)?;
    let digest = top.digest.clone();
    let (config_descriptor, layers) = match parse_manifest(&top.body, top.media_type.as_deref())? {
        Manifest::Image { config, layers } => (config, layers),
        Manifest::Index { manifests } => {
            let chosen = pick_platform(&manifests, &settings.platform)?;
            let inner = clients
                .images
                .manifest(&image.repository, &chosen.digest)
                .await?
                .ok_or_else(not_found)?;
            match parse_manifest(&inner.body, inner.media_type.as_deref())? {
                Manifest::Image { config, layers } => (config, layers),
                Manifest::Index { .. } => {
                    return Err(Error::Usage(format!(
                        "{image}: an index inside an index is not read"
                    )))
                }
            }
        }
    };
    let auth = clients.images.registry_auth().await?;
    let base = settings
        .registry_url
        .clone()
        .unwrap_or_else(|| auth.endpoint.clone());
    let registry = Registry::new(&base, Some(auth.header.clone()))?;
    let config_bytes = registry
        .blob(&image.repository, &config_descriptor.digest, MAX_CONFIG)
        .await?;
    let config = ImageConfig::parse(&config_bytes)?;

    let mut view = FileView::default();
    let mut notes = Vec::new();
    for layer in &layers {
        if is_zstd(&layer.media_type) {
            notes.push(format!(
                "layer {} is zstd-compressed and was not read; the file checks may miss what it holds",
                layer.digest
            ));
            continue;
        }
        view = read_layer(
            &registry,
            &image.repository,
            &layer.digest,
            is_gzip(&layer.media_type),
            view,
        )
        .await?;
    }
    let facts = ImageFacts {
        config: config.clone(),
        layer_sizes: layers.iter().map(|l| l.size).collect(),
        files: view,
    };
    let (checks, facts_out) =
        rules::run_checks(&settings.checks, &facts, rules::day_of(now)).map_err(Error::Usage)?;
    let outcome = checks
        .iter()
        .map(|c| c.outcome)
        .max()
        .unwrap_or(Outcome::Pass)
        .max(Outcome::Pass);
    let host = auth
        .endpoint
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .to_owned();
    Ok(CheckReport {
        version: REPORT_VERSION,
        created_at: now,
        image: CheckedImage {
            repository: image.repository.clone(),
            tag: (!image.is_digest()).then(|| image.reference.clone()),
            digest,
            platform: if config.os.is_empty() {
                settings.platform.clone()
            } else {
                format!("{}/{}", config.os, config.architecture)
            },
            region: clients.region.clone(),
            uri: (!host.is_empty()).then(|| format!("{host}/{}", image.repository)),
        },
        outcome,
        checks,
        facts: facts_out,
        history: rules::history(&config),
        enforcement: None,
        notes,
        undelivered: Vec::new(),
    })
}

/// `--enforce`: deletes a failing image by digest (every tag goes with it); without `apply`,
/// records what it would do.
pub async fn enforce(clients: &Clients, report: &mut CheckReport, apply: bool) -> Result<()> {
    if !report.failed() {
        return Ok(());
    }
    let what = format!("{}@{}", report.image.repository, report.image.digest);
    let detail = if apply {
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
        applied: apply,
        detail,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(ImageRef::parse("team/api").is_err());
        assert!(ImageRef::parse(":v1").is_err());
    }
}
