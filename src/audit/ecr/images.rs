//! The images of the ECR audit: which images' scans are checked (the newest, or every tagged
//! one), what a repository's facts are (read through the [`Ecr`] adapter), and how scan results
//! are counted and labelled. The image checks themselves are in the parent module.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    EcrSettings, Reads, RepositoryFacts, DESCRIBE_IMAGES, DESCRIBE_SCAN_FINDINGS,
    GET_LIFECYCLE_POLICY, GET_REPOSITORY_POLICY,
};
use crate::audit::model::Severity;
use crate::aws::ecr::{Ecr, Image, Repository, ScanResult};
use crate::error::Result;

/// The counts per severity, worst first, without informational ones; from the findings when
/// the counts are missing.
pub(super) fn severity_counts(scan: &ScanResult) -> Vec<(Severity, i64)> {
    let mut counts: BTreeMap<Severity, i64> = BTreeMap::new();
    if scan.counts.is_empty() {
        for f in &scan.findings {
            if let Ok(s) = f.severity.parse::<Severity>() {
                *counts.entry(s).or_default() += 1;
            }
        }
    } else {
        for (s, n) in &scan.counts {
            if let Ok(s) = s.parse::<Severity>() {
                *counts.entry(s).or_default() += n;
            }
        }
    }
    counts
        .into_iter()
        .rev()
        .filter(|(s, n)| *s > Severity::Informational && *n > 0)
        .collect()
}

/// Counts per severity as a message says them: `2 CRITICAL, 5 HIGH`.
pub(super) fn counts_text(counts: &[(Severity, i64)]) -> String {
    counts
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn image_label(repo: &str, image: &Image) -> String {
    match image.tags.first() {
        Some(tag) => format!("`{repo}:{tag}` ({})", image.digest),
        None => format!("`{repo}@{}`", image.digest),
    }
}

/// The images whose scans are checked: the newest, or every tagged one.
pub(super) fn selected_images(mut images: Vec<Image>, all_tagged: bool) -> Vec<Image> {
    if all_tagged {
        images.retain(|i| !i.tags.is_empty());
        return images;
    }
    let key = |i: &Image| {
        i.pushed_at
            .as_deref()
            .and_then(crate::time::parse_rfc3339_secs)
    };
    let mut newest: Option<Image> = None;
    for image in images {
        if newest.as_ref().is_none_or(|n| key(&image) > key(n)) {
            newest = Some(image);
        }
    }
    newest.into_iter().collect()
}

/// The calls IAM denied in one registry, shared by its repositories' reads.
#[derive(Default)]
pub(super) struct Denied(std::sync::Mutex<BTreeSet<String>>);

impl Denied {
    fn has(&self, call: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(call)
    }

    fn add(&self, call: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(call.to_owned());
    }

    pub(super) fn into_set(self) -> BTreeSet<String> {
        self.0.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

/// An optional read: `None` when `reads` does not have it, when IAM already denied it in this
/// registry, or when it denies it now (remembered); other errors are errors.
pub(super) async fn optional<T>(
    denied: &Denied,
    call: &str,
    reads: &Reads,
    read: impl std::future::Future<Output = Result<T>>,
) -> Result<Option<T>> {
    if !reads.has(call) || denied.has(call) {
        return Ok(None);
    }
    match read.await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.denied_action().is_some() => {
            denied.add(e.denied_action().unwrap_or(call));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn repository_facts(
    ecr: &dyn Ecr,
    repository: Repository,
    settings: &EcrSettings,
    reads: &Reads,
    denied: &Denied,
) -> Result<RepositoryFacts> {
    let name = repository.name.clone();
    // The three reads are independent: at once, one round trip instead of three.
    let (lifecycle, policy, listed) = tokio::try_join!(
        optional(
            denied,
            GET_LIFECYCLE_POLICY,
            reads,
            ecr.lifecycle_policy(&name)
        ),
        optional(
            denied,
            GET_REPOSITORY_POLICY,
            reads,
            ecr.repository_policy(&name)
        ),
        optional(denied, DESCRIBE_IMAGES, reads, ecr.images(&name))
    )?;
    let mut unread = Vec::new();
    for (call, read) in [
        (GET_LIFECYCLE_POLICY, lifecycle.is_some()),
        (GET_REPOSITORY_POLICY, policy.is_some()),
        (DESCRIBE_IMAGES, listed.is_some()),
    ] {
        if !read {
            unread.push(call.to_owned());
        }
    }
    let mut images = Vec::new();
    let mut scans_read = listed.is_some();
    let listed = listed.unwrap_or_default();
    // Kept to evaluate the lifecycle policy (or find what its absence keeps), and to resolve
    // the tags that workloads run.
    let kept = if (reads.has(GET_LIFECYCLE_POLICY) && lifecycle.is_some())
        || super::in_use::reads_workloads(reads)
    {
        listed.clone()
    } else {
        Vec::new()
    };
    for image in selected_images(listed, settings.all_tagged_images) {
        let scan = if scans_read {
            let read = ecr.scan_findings(&name, &image.digest);
            match optional(denied, DESCRIBE_SCAN_FINDINGS, reads, read).await? {
                Some(scan) => scan,
                None => {
                    scans_read = false;
                    None
                }
            }
        } else {
            None
        };
        images.push((image, scan));
    }
    if !scans_read || !reads.has(DESCRIBE_SCAN_FINDINGS) {
        unread.push(DESCRIBE_SCAN_FINDINGS.to_owned());
    }
    Ok(RepositoryFacts {
        repository,
        lifecycle: lifecycle.flatten(),
        policy: policy.flatten(),
        images,
        listed: kept,
        unread,
    })
}
