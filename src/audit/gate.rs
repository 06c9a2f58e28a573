//! The scan gate and promotion: the findings of one image, waiting for a scan in progress and
//! starting one on request; and a release tag put on the same manifest only when the scan
//! passes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::model::Severity;
use crate::aws::ecr::{Ecr, ImageFinding, ScanStatus};
use crate::aws::ecr_images::{EcrImages, PutTag, StartScan};
use crate::error::{Error, Result};
use crate::poll::{poll_until, Poll};

#[derive(Debug, Clone)]
pub struct GateOptions {
    /// Wait for a scan in progress (or started) to complete.
    pub wait: bool,
    /// Start a scan when the image has none.
    pub start: bool,
    pub fail_on: Severity,
    pub timeout: Duration,
    pub poll: Duration,
}

/// The scan gate's verdict on one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    pub repository: String,
    pub reference: String,
    pub digest: String,
    /// The scan status (`COMPLETE`, `ACTIVE`, `IN_PROGRESS`, `FAILED`, ...), or `NOT_SCANNED`.
    pub status: String,
    pub completed_at: Option<String>,
    /// Findings per severity.
    pub counts: BTreeMap<String, i64>,
    pub findings: Vec<ImageFinding>,
    /// Whether a scan was started by this run.
    pub started: bool,
    pub passed: bool,
    /// Why it did not pass.
    pub reason: Option<String>,
}

/// Splits `repo:tag` or `repo@sha256:...`.
pub fn parse_image(image: &str) -> Result<(String, String)> {
    if let Some((repo, digest)) = image.split_once('@') {
        return Ok((repo.to_owned(), digest.to_owned()));
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !repo.is_empty() && !tag.is_empty() && !tag.contains('/') => {
            Ok((repo.to_owned(), tag.to_owned()))
        }
        _ => Err(Error::Usage(format!(
            "`{image}` names no image: use REPOSITORY:TAG or REPOSITORY@sha256:DIGEST"
        ))),
    }
}

fn worst_at_or_above(counts: &BTreeMap<String, i64>, threshold: Severity) -> Option<String> {
    let mut hits: Vec<(Severity, i64)> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .filter_map(|(s, n)| s.parse::<Severity>().ok().map(|s| (s, *n)))
        .filter(|(s, _)| *s >= threshold)
        .collect();
    hits.sort_by_key(|h| std::cmp::Reverse(h.0));
    (!hits.is_empty()).then(|| {
        hits.iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// The findings of one image, with the gate's verdict.
pub async fn scan_report(
    ecr: &dyn Ecr,
    images: &dyn EcrImages,
    repository: &str,
    reference: &str,
    options: &GateOptions,
) -> Result<GateResult> {
    let manifest = images
        .manifest(repository, reference)
        .await?
        .ok_or_else(|| Error::Aws {
            operation: "ecr:BatchGetImage".into(),
            message: format!("there is no image `{reference}` in repository `{repository}`"),
        })?;
    let deadline = Instant::now() + options.timeout;
    let digest = manifest.digest.as_str();
    let mut started = false;
    let mut scan = ecr.scan_findings(repository, digest).await?;
    if scan.is_none() && options.start {
        match images.start_scan(repository, digest).await? {
            StartScan::Started => {
                started = true;
                scan = ecr.scan_findings(repository, digest).await?;
            }
            StartScan::AlreadyScannedToday => started = true,
            StartScan::Unsupported(why) => {
                return Ok(verdict(
                    repository,
                    reference,
                    digest,
                    None,
                    started,
                    Some(format!("the image cannot be scanned: {why}")),
                ));
            }
        }
    }
    let status_of = |scan: &Option<crate::aws::ecr::ScanResult>| {
        scan.as_ref()
            .map(|s| s.status.clone())
            .unwrap_or_else(|| ScanStatus::NotScanned.as_str().into())
    };
    // A scan that may still finish: one under way, or one asked for that has not started.
    let pending = |scan: &Option<crate::aws::ecr::ScanResult>| {
        ScanStatus::of(&status_of(scan)).may_change() && (scan.is_some() || started)
    };
    if options.wait && pending(&scan) && Instant::now() < deadline {
        tokio::time::sleep(options.poll).await;
        let wait = Poll {
            first: options.poll,
            max: options.poll,
            timeout: deadline.saturating_duration_since(Instant::now()),
        };
        scan = match poll_until(
            wait,
            || ecr.scan_findings(repository, digest),
            |s| !pending(s),
        )
        .await?
        {
            Ok(s) | Err(s) => s,
        };
    }
    let status = status_of(&scan);
    let state = ScanStatus::of(&status);
    let pending = pending(&scan);
    let reason = match state {
        _ if state.is_done() => None,
        ScanStatus::NotScanned => {
            Some("the image has never been scanned (pass `--start`)".to_owned())
        }
        _ if pending => Some(format!(
            "the scan is still `{status}` after {}s",
            options.timeout.as_secs()
        )),
        _ => Some(format!(
            "the scan is `{status}`{}",
            scan.as_ref()
                .and_then(|r| r.description.clone())
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )),
    };
    let reason = reason.or_else(|| {
        scan.as_ref()
            .and_then(|s| worst_at_or_above(&s.counts, options.fail_on))
            .map(|w| format!("{w} (at or above {})", options.fail_on))
    });
    let mut v = verdict(
        repository,
        reference,
        digest,
        scan.as_ref(),
        started,
        reason,
    );
    v.status = status;
    Ok(v)
}

fn verdict(
    repository: &str,
    reference: &str,
    digest: &str,
    scan: Option<&crate::aws::ecr::ScanResult>,
    started: bool,
    reason: Option<String>,
) -> GateResult {
    GateResult {
        repository: repository.to_owned(),
        reference: reference.to_owned(),
        digest: digest.to_owned(),
        status: scan
            .map(|s| s.status.clone())
            .unwrap_or_else(|| ScanStatus::NotScanned.as_str().into()),
        completed_at: scan.and_then(|s| s.completed_at.clone()),
        counts: scan.map(|s| s.counts.clone()).unwrap_or_default(),
        findings: scan.map(|s| s.findings.clone()).unwrap_or_default(),
        started,
        passed: reason.is_none(),
        reason,
    }
}

/// The result of a promotion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    pub gate: GateResult,
    pub release_tag: String,
    pub outcome: PromotionOutcome,
}

/// What a promotion did (`tagged`, `already-tagged` or `refused` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromotionOutcome {
    /// The release tag was put on the image.
    Tagged,
    /// The release tag already named the image.
    AlreadyTagged,
    /// The scan gate did not pass: nothing was tagged.
    Refused,
}

impl GateResult {
    /// Ok when the scan passes the gate, else changes (findings to look at).
    pub fn verdict(&self) -> crate::error::Verdict {
        if self.passed {
            crate::error::Verdict::Ok
        } else {
            crate::error::Verdict::Changes
        }
    }
}

impl Promotion {
    /// Changes when the gate refused the tag, else ok.
    pub fn verdict(&self) -> crate::error::Verdict {
        match self.outcome {
            PromotionOutcome::Refused => crate::error::Verdict::Changes,
            PromotionOutcome::Tagged | PromotionOutcome::AlreadyTagged => crate::error::Verdict::Ok,
        }
    }
}

/// Puts `release_tag` on the image's manifest when its scan passes the gate.
pub async fn promote(
    ecr: &dyn Ecr,
    images: &dyn EcrImages,
    repository: &str,
    reference: &str,
    release_tag: &str,
    options: &GateOptions,
) -> Result<Promotion> {
    let gate = scan_report(ecr, images, repository, reference, options).await?;
    if !gate.passed {
        return Ok(Promotion {
            gate,
            release_tag: release_tag.to_owned(),
            outcome: PromotionOutcome::Refused,
        });
    }
    let manifest = images
        .manifest(repository, &gate.digest)
        .await?
        .ok_or_else(|| Error::Aws {
            operation: "ecr:BatchGetImage".into(),
            message: format!("image `{}` disappeared from `{repository}`", gate.digest),
        })?;
    let outcome = match images.put_tag(repository, &manifest, release_tag).await? {
        PutTag::Tagged => PromotionOutcome::Tagged,
        // Some registries answer "already exists" for a tag on another image of an IMMUTABLE
        // repository: look at what the tag names.
        PutTag::AlreadyThere | PutTag::TagTaken => {
            let current = images.manifest(repository, release_tag).await?;
            match current {
                Some(m) if m.digest == manifest.digest => PromotionOutcome::AlreadyTagged,
                Some(m) => {
                    return Err(Error::Aws {
                        operation: "ecr:PutImage".into(),
                        message: format!(
                            "tag `{release_tag}` of `{repository}` already names another image ({}); the repository's tags are immutable, so choose another release tag",
                            m.digest
                        ),
                    })
                }
                None => {
                    return Err(Error::Aws {
                        operation: "ecr:PutImage".into(),
                        message: format!("ECR refused tag `{release_tag}` on `{repository}`"),
                    })
                }
            }
        }
    };
    Ok(Promotion {
        gate,
        release_tag: release_tag.to_owned(),
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::ecr::ScanResult;
    use crate::aws::ecr_images::Manifest;
    use crate::testing::fake_aws::FakeAws;

    fn scan(status: &str, high: i64) -> Option<ScanResult> {
        Some(ScanResult {
            status: status.into(),
            description: None,
            completed_at: None,
            counts: [("HIGH".to_owned(), high)].into_iter().collect(),
            findings: Vec::new(),
        })
    }

    fn registry(scans: Vec<Option<ScanResult>>) -> std::sync::Arc<FakeAws> {
        let aws = FakeAws::new();
        *aws.image.lock().unwrap() = Some(Manifest {
            digest: "sha256:abc".into(),
            media_type: None,
            body: "{}".into(),
        });
        *aws.scans.lock().unwrap() = scans;
        aws
    }

    fn options(wait: bool, start: bool, timeout_ms: u64) -> GateOptions {
        GateOptions {
            wait,
            start,
            fail_on: Severity::Critical,
            timeout: Duration::from_millis(timeout_ms),
            poll: Duration::from_millis(5),
        }
    }

    fn scan_reads(aws: &FakeAws) -> usize {
        let calls = aws.calls.lock().unwrap();
        calls
            .iter()
            .filter(|c| c.starts_with("DescribeImageScanFindings"))
            .count()
    }

    #[tokio::test]
    async fn a_scan_in_progress_is_waited_for_until_it_completes() {
        let aws = registry(vec![
            scan("IN_PROGRESS", 0),
            scan("IN_PROGRESS", 0),
            scan("COMPLETE", 1),
        ]);
        let r = scan_report(
            aws.as_ref(),
            aws.as_ref(),
            "team/app",
            "v1",
            &options(true, false, 5_000),
        )
        .await
        .unwrap();
        assert_eq!(r.status, "COMPLETE");
        assert!(r.passed, "{r:?}");
        assert_eq!(r.counts["HIGH"], 1);
        assert_eq!(scan_reads(&aws), 3);
    }

    #[tokio::test]
    async fn a_scan_still_running_at_the_timeout_fails_the_gate_with_its_status() {
        let aws = registry(vec![scan("IN_PROGRESS", 0)]);
        let r = scan_report(
            aws.as_ref(),
            aws.as_ref(),
            "team/app",
            "v1",
            &options(true, false, 40),
        )
        .await
        .unwrap();
        assert!(!r.passed);
        assert_eq!(
            r.reason.as_deref(),
            Some("the scan is still `IN_PROGRESS` after 0s")
        );
        assert!(scan_reads(&aws) >= 2, "it polled");
    }

    #[tokio::test]
    async fn a_missing_scan_is_started_when_asked_and_then_read() {
        let aws = registry(vec![None, scan("COMPLETE", 0)]);
        let r = scan_report(
            aws.as_ref(),
            aws.as_ref(),
            "team/app",
            "v1",
            &options(false, true, 1_000),
        )
        .await
        .unwrap();
        assert!(r.started && r.passed, "{r:?}");
        assert!(aws
            .calls
            .lock()
            .unwrap()
            .contains(&"StartImageScan team/app sha256:abc".to_owned()));
        // Without --start nor a scan, the gate says how to get one.
        let aws = registry(Vec::new());
        let r = scan_report(
            aws.as_ref(),
            aws.as_ref(),
            "team/app",
            "v1",
            &options(true, false, 1_000),
        )
        .await
        .unwrap();
        assert_eq!(r.status, "NOT_SCANNED");
        assert_eq!(
            r.reason.as_deref(),
            Some("the image has never been scanned (pass `--start`)")
        );
        assert_eq!(scan_reads(&aws), 1, "nothing to wait for");
    }

    #[test]
    fn image_references() {
        assert_eq!(
            parse_image("team/api:v1.2.0").unwrap(),
            ("team/api".to_owned(), "v1.2.0".to_owned())
        );
        assert_eq!(
            parse_image("team/api@sha256:abc").unwrap(),
            ("team/api".to_owned(), "sha256:abc".to_owned())
        );
        assert!(parse_image("team/api").is_err());
    }

    #[test]
    fn the_threshold_counts_severities_at_or_above() {
        let counts: BTreeMap<String, i64> = [
            ("HIGH".into(), 2),
            ("LOW".into(), 5),
            ("CRITICAL".into(), 0),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            worst_at_or_above(&counts, Severity::High).as_deref(),
            Some("2 HIGH")
        );
        assert_eq!(worst_at_or_above(&counts, Severity::Critical), None);
        assert_eq!(
            worst_at_or_above(&counts, Severity::Low).as_deref(),
            Some("2 HIGH, 5 LOW")
        );
    }

    #[test]
    fn a_gate_that_does_not_pass_and_a_refused_promotion_need_attention() {
        use crate::error::Verdict;
        let gate = |passed| GateResult {
            repository: "team/api".into(),
            reference: "v1".into(),
            digest: "sha256:abc".into(),
            status: "COMPLETE".into(),
            completed_at: None,
            counts: BTreeMap::new(),
            findings: Vec::new(),
            started: false,
            passed,
            reason: None,
        };
        assert_eq!(gate(true).verdict(), Verdict::Ok);
        assert_eq!(gate(false).verdict(), Verdict::Changes);
        let promotion = |outcome, passed| Promotion {
            gate: gate(passed),
            release_tag: "v2".into(),
            outcome,
        };
        assert_eq!(
            promotion(PromotionOutcome::Tagged, true).verdict(),
            Verdict::Ok
        );
        assert_eq!(
            promotion(PromotionOutcome::AlreadyTagged, true).verdict(),
            Verdict::Ok
        );
        assert_eq!(
            promotion(PromotionOutcome::Refused, false).verdict(),
            Verdict::Changes
        );
    }
}
