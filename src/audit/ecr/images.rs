//! The images of the ECR audit: which images' scans are checked (the newest, or every tagged
//! one), what a repository's facts are (read through the [`Ecr`] adapter), and how scan results
//! are counted and labelled. The image checks themselves are in the parent module.

use std::collections::BTreeMap;

use super::{EcrSettings, RepositoryFacts};
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

pub(super) async fn repository_facts(
    ecr: &dyn Ecr,
    repository: Repository,
    settings: &EcrSettings,
) -> Result<RepositoryFacts> {
    let name = repository.name.clone();
    // The three reads are independent: at once, one round trip instead of three.
    let (lifecycle, policy, listed) = tokio::try_join!(
        ecr.lifecycle_policy(&name),
        ecr.repository_policy(&name),
        ecr.images(&name)
    )?;
    let mut images = Vec::new();
    for image in selected_images(listed, settings.all_tagged_images) {
        let scan = ecr.scan_findings(&name, &image.digest).await?;
        images.push((image, scan));
    }
    Ok(RepositoryFacts {
        repository,
        lifecycle,
        policy,
        images,
    })
}
