//! Continuous scanning: on every run of `little serve`, for each scan configuration, start a
//! scan of every configured image (every tagged image when the configuration names no tags)
//! and read its result. ECR's once-a-day limit on basic scans and images it cannot scan are
//! states of the image, not errors; an error reading the registry is the configuration's
//! error and does not stop the others.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::configs::ScanConfig;
use crate::aws::connect::Connect;
use crate::aws::ecr::ImageFinding;
use crate::aws::ecr_images::StartScan;
use crate::error::{Error, Result};
use crate::project::Project;
use crate::report::atom::FeedEntry;

/// One tag's scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagScan {
    pub tag: String,
    /// Empty when the tag was not found.
    pub digest: String,
    /// What StartImageScan said: `started`, `already_scanned_today` (ECR allows one basic
    /// scan a day), `unsupported`, `not_found` (no such tag), or `error`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The scan's status (`COMPLETE`, `IN_PROGRESS`, `FAILED`, ...); None: never scanned.
    pub status: Option<String>,
    /// RFC 3339, UTC.
    pub completed_at: Option<String>,
    /// Findings per severity.
    pub counts: BTreeMap<String, i64>,
}

/// One configuration's latest run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigSummary {
    pub id: String,
    pub region: String,
    pub registry: Option<String>,
    pub repository: String,
    /// When this run scanned it (RFC 3339, UTC).
    pub scanned_at: String,
    pub tags: Vec<TagScan>,
    /// Why the configuration could not be scanned; its previous tags are kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A configuration's summary and the findings of its images (for its feed).
#[derive(Debug, Clone)]
pub struct ConfigScan {
    pub summary: ConfigSummary,
    pub findings: Vec<FeedEntry>,
}

/// The account of little.yaml whose id is the configuration's registry; None: the default
/// account (or the caller's).
fn account_for<'a>(
    project: &'a Project,
    config: &ScanConfig,
) -> Result<Option<&'a crate::aws::connect::Account>> {
    let default = project.default_account();
    match &config.registry {
        None => Ok(default),
        Some(id) => match project.accounts.values().find(|a| &a.id == id) {
            Some(a) => Ok(Some(a)),
            None if default.is_none() => Ok(None),
            None => Err(Error::Usage(format!(
                "registry {id} is not an account of little.yaml"
            ))),
        },
    }
}

/// Scans one configuration's images. `now` is the run's time (RFC 3339).
pub async fn scan_config(
    project: &Project,
    connect: &dyn Connect,
    config: &ScanConfig,
    now: &str,
) -> Result<ConfigScan> {
    let account = account_for(project, config)?;
    let clients = connect.clients(Some(&config.region), account).await?;
    let images = clients.ecr.images(&config.repository).await?;
    // (tag, digest) in the registry's order, or in the configuration's order of tags.
    let mut wanted: Vec<(String, Option<String>)> = Vec::new();
    if config.tags.is_empty() {
        for image in &images {
            for tag in &image.tags {
                wanted.push((tag.clone(), Some(image.digest.clone())));
            }
        }
    } else {
        for tag in &config.tags {
            let digest = images
                .iter()
                .find(|i| i.tags.iter().any(|t| t == tag))
                .map(|i| i.digest.clone());
            wanted.push((tag.clone(), digest));
        }
    }
    let mut started: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    let mut scanned: BTreeMap<String, Option<crate::aws::ecr::ScanResult>> = BTreeMap::new();
    let mut tags = Vec::new();
    let mut findings = Vec::new();
    let mut seen_findings: BTreeSet<String> = BTreeSet::new();
    for (tag, digest) in wanted {
        let Some(digest) = digest else {
            tags.push(TagScan {
                tag,
                digest: String::new(),
                state: "not_found".into(),
                detail: Some(format!("no image is tagged so in {}", config.repository)),
                status: None,
                completed_at: None,
                counts: BTreeMap::new(),
            });
            continue;
        };
        // One start and one read per image, however many of its tags are configured.
        if !started.contains_key(&digest) {
            let outcome = match clients.images.start_scan(&config.repository, &digest).await {
                Ok(StartScan::Started) => ("started".to_owned(), None),
                Ok(StartScan::AlreadyScannedToday) => ("already_scanned_today".to_owned(), None),
                Ok(StartScan::Unsupported(reason)) => ("unsupported".to_owned(), Some(reason)),
                Err(e) => ("error".to_owned(), Some(e.to_string())),
            };
            started.insert(digest.clone(), outcome);
            let scan = clients
                .ecr
                .scan_findings(&config.repository, &digest)
                .await?;
            scanned.insert(digest.clone(), scan);
        }
        let (state, detail) = started[&digest].clone();
        let scan = scanned[&digest].clone();
        if let Some(s) = &scan {
            if seen_findings.insert(digest.clone()) {
                findings.extend(s.findings.iter().map(|f: &ImageFinding| FeedEntry {
                    repository: config.repository.clone(),
                    tag: tag.clone(),
                    digest: digest.clone(),
                    scanned_at: s.completed_at.clone(),
                    finding: f.clone(),
                }));
            }
        }
        tags.push(TagScan {
            tag,
            digest,
            state,
            detail,
            status: scan.as_ref().map(|s| s.status.clone()),
            completed_at: scan.as_ref().and_then(|s| s.completed_at.clone()),
            counts: scan.map(|s| s.counts).unwrap_or_default(),
        });
    }
    Ok(ConfigScan {
        summary: ConfigSummary::of(config, now, tags),
        findings,
    })
}

impl ConfigSummary {
    /// The summary of a configuration scanned at `now`, with its tags.
    pub fn of(config: &ScanConfig, now: &str, tags: Vec<TagScan>) -> ConfigSummary {
        ConfigSummary {
            id: config.id.clone(),
            region: config.region.clone(),
            registry: config.registry.clone(),
            repository: config.repository.clone(),
            scanned_at: now.to_owned(),
            tags,
            error: None,
        }
    }
}

/// Scans every configuration; a configuration that fails keeps its previous result with the
/// error noted (or an empty one when it has none).
pub async fn scan_all(
    project: &Project,
    connect: &dyn Connect,
    configs: &[ScanConfig],
    previous: &BTreeMap<String, ConfigScan>,
    now: &str,
) -> (BTreeMap<String, ConfigScan>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for config in configs {
        match scan_config(project, connect, config, now).await {
            Ok(scan) => {
                out.insert(config.id.clone(), scan);
            }
            Err(e) => {
                let message = e.to_string();
                errors.push(format!("scan configuration `{}`: {message}", config.id));
                let mut kept = previous.get(&config.id).cloned().unwrap_or(ConfigScan {
                    summary: ConfigSummary::of(config, now, Vec::new()),
                    findings: Vec::new(),
                });
                kept.summary.error = Some(message);
                out.insert(config.id.clone(), kept);
            }
        }
    }
    (out, errors)
}
