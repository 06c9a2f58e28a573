//! The registry's read-only calls for audits, behind the [`Ecr`] trait: repositories with their
//! configuration, the registry's scanning configuration, lifecycle and repository policies,
//! images and their scan findings; and the one write the audit's remediation needs, the tag
//! mutability. Image manifests, tagging and starting scans are in `ecr_images`.
//!
//! The SDK adapter [`EcrClient`] maps the SDK's types to this file's own; nothing of the SDK
//! leaves this file, and AWS's error codes are matched only here.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ecr::types::{
    ImageIdentifier, ImageTagMutability, ImageTagMutabilityExclusionFilter,
    ImageTagMutabilityExclusionFilterType,
};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde::{Deserialize, Serialize};

use super::sdk_error;
use crate::error::{Error, Result};

/// One repository and its configuration, as DescribeRepositories reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    pub name: String,
    pub arn: String,
    pub uri: String,
    /// The account id of the registry.
    pub registry_id: String,
    /// `MUTABLE`, `IMMUTABLE`, `MUTABLE_WITH_EXCLUSION` or `IMMUTABLE_WITH_EXCLUSION`.
    pub tag_mutability: String,
    /// The wildcard filters of the tags excepted from the mutability setting.
    pub exclusion_filters: Vec<String>,
    pub scan_on_push: bool,
    /// `AES256`, `KMS` or `KMS_DSSE`.
    pub encryption_type: String,
    pub kms_key: Option<String>,
}

/// One rule of the registry's scanning configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRule {
    /// `SCAN_ON_PUSH`, `CONTINUOUS_SCAN` or `MANUAL`.
    pub frequency: String,
    /// Wildcard patterns of the repository names the rule applies to.
    pub filters: Vec<String>,
}

/// The registry's scanning configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryScanning {
    /// `BASIC` or `ENHANCED`.
    pub scan_type: String,
    pub rules: Vec<ScanRule>,
}

/// One image of a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub digest: String,
    pub tags: Vec<String>,
    /// RFC 3339, UTC.
    pub pushed_at: Option<String>,
    pub size: Option<i64>,
    /// ECR's `lastRecordedPullTime` (RFC 3339, UTC): recorded at most once a day; `None` when
    /// never pulled since ECR began recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_pulled: Option<String>,
    /// The image's scan as DescribeImages summarises it (status, completion, findings per
    /// severity; no list of findings), without another call; `None` when never scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<ScanResult>,
}

/// One finding of an image scan, basic or enhanced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFinding {
    /// The vulnerability's name (basic) or title (enhanced), such as `CVE-2024-3094`.
    pub name: String,
    pub severity: String,
    /// The vulnerable package (the first one), when known.
    pub package: Option<String>,
    pub uri: Option<String>,
    pub description: Option<String>,
}

/// The result of an image's scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanResult {
    /// `COMPLETE`, `FAILED`, `IN_PROGRESS`, `ACTIVE`, `UNSUPPORTED_IMAGE`, ...
    pub status: String,
    pub description: Option<String>,
    /// RFC 3339, UTC.
    pub completed_at: Option<String>,
    /// Findings per severity (`CRITICAL`, `HIGH`, ...).
    pub counts: BTreeMap<String, i64>,
    pub findings: Vec<ImageFinding>,
}

/// An image's scan status, as ECR names it (`ScanResult::status`); the ones the scan gate acts
/// on are named, any other is [`ScanStatus::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanStatus {
    /// A basic scan finished.
    Complete,
    /// Enhanced scanning watches the image continuously.
    Active,
    InProgress,
    Pending,
    /// No scan result: the image was never scanned (what `little` reports then, too).
    NotScanned,
    /// Enhanced scanning stopped watching the image; a new scan is due.
    ScanEligibilityExpired,
    /// FAILED, UNSUPPORTED_IMAGE, FINDINGS_UNAVAILABLE, ...
    Other,
}

impl ScanStatus {
    const NAMED: [(ScanStatus, &'static str); 6] = [
        (ScanStatus::Complete, "COMPLETE"),
        (ScanStatus::Active, "ACTIVE"),
        (ScanStatus::InProgress, "IN_PROGRESS"),
        (ScanStatus::Pending, "PENDING"),
        (ScanStatus::NotScanned, "NOT_SCANNED"),
        (
            ScanStatus::ScanEligibilityExpired,
            "SCAN_ELIGIBILITY_EXPIRED",
        ),
    ];

    /// The status ECR names `text`.
    pub fn of(text: &str) -> ScanStatus {
        Self::NAMED
            .iter()
            .find(|(_, name)| *name == text)
            .map_or(ScanStatus::Other, |(status, _)| *status)
    }

    /// ECR's name of the status (`Other` has none of its own: `""`).
    pub fn as_str(self) -> &'static str {
        Self::NAMED
            .iter()
            .find(|(status, _)| *status == self)
            .map_or("", |(_, name)| name)
    }

    /// Whether the scan has findings to read (`COMPLETE`, or `ACTIVE` under enhanced scanning).
    pub fn is_done(self) -> bool {
        matches!(self, ScanStatus::Complete | ScanStatus::Active)
    }

    /// Whether waiting may still bring a result.
    pub fn may_change(self) -> bool {
        matches!(
            self,
            ScanStatus::InProgress
                | ScanStatus::Pending
                | ScanStatus::NotScanned
                | ScanStatus::ScanEligibilityExpired
        )
    }
}

/// The registry's calls that the audit makes.
#[async_trait]
pub trait Ecr: Send + Sync {
    /// DescribeRepositories, all pages.
    async fn repositories(&self) -> Result<Vec<Repository>>;
    /// GetRegistryScanningConfiguration.
    async fn registry_scanning(&self) -> Result<RegistryScanning>;
    /// GetLifecyclePolicy's policy text; `None` when the repository has none.
    async fn lifecycle_policy(&self, repo: &str) -> Result<Option<String>>;
    /// GetRepositoryPolicy's policy text; `None` when the repository has none.
    async fn repository_policy(&self, repo: &str) -> Result<Option<String>>;
    /// DescribeImages, all pages.
    async fn images(&self, repo: &str) -> Result<Vec<Image>>;
    /// DescribeImageScanFindings, all pages; `None` when the image was never scanned.
    async fn scan_findings(&self, repo: &str, digest: &str) -> Result<Option<ScanResult>>;
    /// PutImageTagMutability, with the given exclusion filters (for the `*_WITH_EXCLUSION`
    /// settings).
    async fn set_tag_mutability(
        &self,
        repo: &str,
        mutability: &str,
        exclusion_filters: &[String],
    ) -> Result<()>;
}

/// [`Ecr`] through the SDK's ECR client.
pub struct EcrClient {
    client: aws_sdk_ecr::Client,
}

impl EcrClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        EcrClient {
            client: super::sdk_client!(aws_sdk_ecr, config),
        }
    }

    /// Wraps a client built elsewhere (tests: a mock client).
    pub fn from_client(client: aws_sdk_ecr::Client) -> Self {
        EcrClient { client }
    }
}

/// How many pages a listing reads at most: a guard against a token that never ends.
const MAX_PAGES: usize = 10_000;
/// The largest page that DescribeRepositories and DescribeImages allow.
const PAGE_SIZE: i32 = 1000;

fn rfc3339(t: Option<&DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(Format::DateTime).ok())
}

/// `None` for an absent or empty text.
fn text(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The next token, or `None` at the end (or if AWS sends the same token again).
fn next(current: &Option<String>, token: Option<&str>) -> Option<String> {
    text(token).filter(|t| current.as_ref() != Some(t))
}

fn repository(r: &aws_sdk_ecr::types::Repository) -> Repository {
    let encryption = r.encryption_configuration();
    Repository {
        name: r.repository_name().unwrap_or_default().to_owned(),
        arn: r.repository_arn().unwrap_or_default().to_owned(),
        uri: r.repository_uri().unwrap_or_default().to_owned(),
        registry_id: r.registry_id().unwrap_or_default().to_owned(),
        tag_mutability: r
            .image_tag_mutability()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_else(|| "MUTABLE".to_owned()),
        exclusion_filters: r
            .image_tag_mutability_exclusion_filters()
            .iter()
            .map(|f| f.filter().to_owned())
            .collect(),
        scan_on_push: r
            .image_scanning_configuration()
            .map(|c| c.scan_on_push())
            .unwrap_or(false),
        encryption_type: encryption
            .map(|e| e.encryption_type().as_str().to_owned())
            .unwrap_or_else(|| "AES256".to_owned()),
        kms_key: encryption.and_then(|e| text(e.kms_key())),
    }
}

fn image(d: &aws_sdk_ecr::types::ImageDetail) -> Image {
    Image {
        digest: d.image_digest().unwrap_or_default().to_owned(),
        tags: d.image_tags().to_vec(),
        pushed_at: rfc3339(d.image_pushed_at()),
        size: d.image_size_in_bytes(),
        last_pulled: rfc3339(d.last_recorded_pull_time()),
        scan: scan_summary(d),
    }
}

/// DescribeImages' summary of an image's scan, `None` when it reports none.
fn scan_summary(d: &aws_sdk_ecr::types::ImageDetail) -> Option<ScanResult> {
    let status = d.image_scan_status();
    let summary = d.image_scan_findings_summary();
    if status.is_none() && summary.is_none() {
        return None;
    }
    Some(ScanResult {
        status: status
            .and_then(|s| s.status())
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "COMPLETE".to_owned()),
        description: status.and_then(|s| text(s.description())),
        completed_at: summary.and_then(|s| rfc3339(s.image_scan_completed_at())),
        counts: summary
            .and_then(|s| s.finding_severity_counts())
            .map(|counts| {
                counts
                    .iter()
                    .map(|(s, n)| (s.as_str().to_owned(), i64::from(*n)))
                    .collect()
            })
            .unwrap_or_default(),
        findings: Vec::new(),
    })
}

fn basic_finding(f: &aws_sdk_ecr::types::ImageScanFinding) -> ImageFinding {
    let attribute = |key: &str| {
        f.attributes()
            .iter()
            .find(|a| a.key() == key)
            .and_then(|a| text(a.value()))
    };
    ImageFinding {
        name: f.name().unwrap_or_default().to_owned(),
        severity: f
            .severity()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "UNDEFINED".to_owned()),
        package: attribute("package_name"),
        uri: text(f.uri()),
        description: text(f.description()),
    }
}

fn enhanced_finding(f: &aws_sdk_ecr::types::EnhancedImageScanFinding) -> ImageFinding {
    let details = f.package_vulnerability_details();
    ImageFinding {
        name: text(f.title())
            .or_else(|| details.and_then(|d| text(d.vulnerability_id())))
            .unwrap_or_default(),
        severity: text(f.severity()).unwrap_or_else(|| "UNTRIAGED".to_owned()),
        package: details
            .and_then(|d| d.vulnerable_packages().first())
            .and_then(|p| text(p.name())),
        uri: details.and_then(|d| text(d.source_url())),
        description: text(f.description()),
    }
}

/// The not-found error of an optional document (`None`), or the failure.
fn not_found<E>(
    operation: &str,
    err: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
    is_not_found: impl Fn(&E) -> bool,
) -> Result<Option<String>>
where
    E: std::error::Error
        + aws_smithy_types::error::metadata::ProvideErrorMetadata
        + Send
        + Sync
        + 'static,
{
    if err.as_service_error().is_some_and(is_not_found) {
        Ok(None)
    } else {
        Err(sdk_error(operation, err))
    }
}

#[async_trait]
impl Ecr for EcrClient {
    async fn repositories(&self) -> Result<Vec<Repository>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .describe_repositories()
                .max_results(PAGE_SIZE)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("ecr:DescribeRepositories", e))?;
            out.extend(page.repositories().iter().map(repository));
            match next(&token, page.next_token()) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        Ok(out)
    }

    async fn registry_scanning(&self) -> Result<RegistryScanning> {
        let out = self
            .client
            .get_registry_scanning_configuration()
            .send()
            .await
            .map_err(|e| sdk_error("ecr:GetRegistryScanningConfiguration", e))?;
        let Some(config) = out.scanning_configuration() else {
            return Ok(RegistryScanning {
                scan_type: "BASIC".to_owned(),
                rules: Vec::new(),
            });
        };
        Ok(RegistryScanning {
            scan_type: config
                .scan_type()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_else(|| "BASIC".to_owned()),
            rules: config
                .rules()
                .iter()
                .map(|r| ScanRule {
                    frequency: r.scan_frequency().as_str().to_owned(),
                    filters: r
                        .repository_filters()
                        .iter()
                        .map(|f| f.filter().to_owned())
                        .collect(),
                })
                .collect(),
        })
    }

    async fn lifecycle_policy(&self, repo: &str) -> Result<Option<String>> {
        match self
            .client
            .get_lifecycle_policy()
            .repository_name(repo)
            .send()
            .await
        {
            Ok(out) => Ok(text(out.lifecycle_policy_text())),
            Err(e) => not_found("ecr:GetLifecyclePolicy", e, |e| {
                e.is_lifecycle_policy_not_found_exception()
            }),
        }
    }

    async fn repository_policy(&self, repo: &str) -> Result<Option<String>> {
        match self
            .client
            .get_repository_policy()
            .repository_name(repo)
            .send()
            .await
        {
            Ok(out) => Ok(text(out.policy_text())),
            Err(e) => not_found("ecr:GetRepositoryPolicy", e, |e| {
                e.is_repository_policy_not_found_exception()
            }),
        }
    }

    async fn images(&self, repo: &str) -> Result<Vec<Image>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .describe_images()
                .repository_name(repo)
                .max_results(PAGE_SIZE)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("ecr:DescribeImages", e))?;
            out.extend(page.image_details().iter().map(image));
            match next(&token, page.next_token()) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        Ok(out)
    }

    async fn scan_findings(&self, repo: &str, digest: &str) -> Result<Option<ScanResult>> {
        let mut result: Option<ScanResult> = None;
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = match self
                .client
                .describe_image_scan_findings()
                .repository_name(repo)
                .image_id(ImageIdentifier::builder().image_digest(digest).build())
                .max_results(PAGE_SIZE)
                .set_next_token(token.clone())
                .send()
                .await
            {
                Ok(page) => page,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_scan_not_found_exception()) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(sdk_error("ecr:DescribeImageScanFindings", e)),
            };
            let r = result.get_or_insert_with(|| ScanResult {
                status: page
                    .image_scan_status()
                    .and_then(|s| s.status())
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                description: page.image_scan_status().and_then(|s| text(s.description())),
                completed_at: None,
                counts: BTreeMap::new(),
                findings: Vec::new(),
            });
            if let Some(f) = page.image_scan_findings() {
                if r.completed_at.is_none() {
                    r.completed_at = rfc3339(f.image_scan_completed_at());
                }
                if r.counts.is_empty() {
                    if let Some(counts) = f.finding_severity_counts() {
                        r.counts = counts
                            .iter()
                            .map(|(s, n)| (s.as_str().to_owned(), i64::from(*n)))
                            .collect();
                    }
                }
                r.findings.extend(f.findings().iter().map(basic_finding));
                r.findings
                    .extend(f.enhanced_findings().iter().map(enhanced_finding));
            }
            match next(&token, page.next_token()) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        Ok(result)
    }

    async fn set_tag_mutability(
        &self,
        repo: &str,
        mutability: &str,
        exclusion_filters: &[String],
    ) -> Result<()> {
        let filters = exclusion_filters
            .iter()
            .map(|f| {
                ImageTagMutabilityExclusionFilter::builder()
                    .filter_type(ImageTagMutabilityExclusionFilterType::Wildcard)
                    .filter(f)
                    .build()
                    .map_err(|e| Error::Aws {
                        operation: "ecr:PutImageTagMutability".into(),
                        message: e.to_string(),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        self.client
            .put_image_tag_mutability()
            .repository_name(repo)
            .image_tag_mutability(ImageTagMutability::from(mutability))
            .set_image_tag_mutability_exclusion_filters((!filters.is_empty()).then_some(filters))
            .send()
            .await
            .map_err(|e| sdk_error("ecr:PutImageTagMutability", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_statuses_read_and_write_as_ecr_names_them() {
        for status in super::ScanStatus::NAMED.map(|(s, _)| s) {
            assert_eq!(super::ScanStatus::of(status.as_str()), status);
        }
        assert_eq!(super::ScanStatus::of("FAILED"), super::ScanStatus::Other);
        assert!(
            super::ScanStatus::of("ACTIVE").is_done()
                && super::ScanStatus::of("COMPLETE").is_done()
        );
        assert!(!super::ScanStatus::of("IN_PROGRESS").is_done());
        assert!(super::ScanStatus::of("PENDING").may_change());
        assert!(!super::ScanStatus::of("UNSUPPORTED_IMAGE").may_change());
    }
    use aws_sdk_ecr::operation::describe_image_scan_findings::DescribeImageScanFindingsOutput;
    use aws_sdk_ecr::operation::describe_images::DescribeImagesOutput;
    use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
    use aws_sdk_ecr::operation::get_lifecycle_policy::{
        GetLifecyclePolicyError, GetLifecyclePolicyOutput,
    };
    use aws_sdk_ecr::operation::get_registry_scanning_configuration::GetRegistryScanningConfigurationOutput;
    use aws_sdk_ecr::operation::get_repository_policy::GetRepositoryPolicyError;
    use aws_sdk_ecr::types::error::{
        LifecyclePolicyNotFoundException, RepositoryPolicyNotFoundException,
    };
    use aws_sdk_ecr::types::{
        EncryptionConfiguration, EncryptionType, EnhancedImageScanFinding, FindingSeverity,
        ImageDetail, ImageScanFindings, ImageScanStatus, ImageScanningConfiguration,
        PackageVulnerabilityDetails, RegistryScanningConfiguration, RegistryScanningRule,
        Repository as SdkRepository, ScanFrequency, ScanStatus, ScanType, ScanningRepositoryFilter,
        ScanningRepositoryFilterType, VulnerablePackage,
    };
    use aws_sdk_ecr::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::retry::RetryConfig;

    const ACCOUNT: &str = "123456789012";
    const TOKEN_2: &str =
        "ukD72mdD/mC8b5xV3susmJzzaTgp3hKwR9nRUW1yZZ7Jh+WKqrQXHSGw1W+2Z5I2OaM1dHA=";
    const DIGEST: &str = "sha256:4f1a9b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";

    fn client(rules: &[&aws_smithy_mocks::Rule]) -> EcrClient {
        EcrClient::from_client(mock_client!(
            aws_sdk_ecr,
            RuleMode::Sequential,
            rules,
            |c| c.retry_config(RetryConfig::disabled())
        ))
    }

    fn at(ts: &str) -> DateTime {
        DateTime::from_str(ts, Format::DateTime).unwrap()
    }

    fn sdk_repo(name: &str, mutability: &str, kms: Option<&str>) -> SdkRepository {
        let encryption = match kms {
            Some(key) => EncryptionConfiguration::builder()
                .encryption_type(EncryptionType::Kms)
                .kms_key(key),
            None => EncryptionConfiguration::builder().encryption_type(EncryptionType::Aes256),
        };
        SdkRepository::builder()
            .repository_arn(format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{name}"))
            .registry_id(ACCOUNT)
            .repository_name(name)
            .repository_uri(format!("{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{name}"))
            .created_at(at("2026-03-02T10:15:30Z"))
            .image_tag_mutability(ImageTagMutability::from(mutability))
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(kms.is_some())
                    .build(),
            )
            .encryption_configuration(encryption.build().unwrap())
            .build()
    }

    #[tokio::test]
    async fn repositories_come_over_pages_with_max_results() {
        let first = mock!(Client::describe_repositories)
            .match_requests(|r| r.next_token().is_none() && r.max_results() == Some(1000))
            .then_output(|| {
                DescribeRepositoriesOutput::builder()
                    .repositories(sdk_repo("team/api", "MUTABLE", None))
                    .next_token(TOKEN_2)
                    .build()
            });
        let second = mock!(Client::describe_repositories)
            .match_requests(|r| r.next_token() == Some(TOKEN_2) && r.max_results() == Some(1000))
            .then_output(|| {
                let mut repo = sdk_repo(
                    "team/web",
                    "IMMUTABLE_WITH_EXCLUSION",
                    Some("arn:aws:kms:us-east-1:123456789012:key/0f6c8a1e-2b3d-4c5e-8f9a-0b1c2d3e4f5a"),
                );
                repo = SdkRepository::builder()
                    .set_repository_arn(repo.repository_arn().map(str::to_owned))
                    .set_registry_id(repo.registry_id().map(str::to_owned))
                    .set_repository_name(repo.repository_name().map(str::to_owned))
                    .set_repository_uri(repo.repository_uri().map(str::to_owned))
                    .set_image_tag_mutability(repo.image_tag_mutability().cloned())
                    .set_image_scanning_configuration(repo.image_scanning_configuration().cloned())
                    .set_encryption_configuration(repo.encryption_configuration().cloned())
                    .image_tag_mutability_exclusion_filters(
                        ImageTagMutabilityExclusionFilter::builder()
                            .filter_type(ImageTagMutabilityExclusionFilterType::Wildcard)
                            .filter("latest")
                            .build()
                            .unwrap(),
                    )
                    .build();
                DescribeRepositoriesOutput::builder()
                    .repositories(repo)
                    .build()
            });
        let ecr = client(&[&first, &second]);
        let repos = ecr.repositories().await.unwrap();
        assert_eq!(first.num_calls(), 1);
        assert_eq!(second.num_calls(), 1);
        assert_eq!(
            repos[0],
            Repository {
                name: "team/api".into(),
                arn: "arn:aws:ecr:us-east-1:123456789012:repository/team/api".into(),
                uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api".into(),
                registry_id: ACCOUNT.into(),
                tag_mutability: "MUTABLE".into(),
                exclusion_filters: vec![],
                scan_on_push: false,
                encryption_type: "AES256".into(),
                kms_key: None,
            }
        );
        assert_eq!(repos[1].tag_mutability, "IMMUTABLE_WITH_EXCLUSION");
        assert_eq!(repos[1].exclusion_filters, vec!["latest".to_owned()]);
        assert!(repos[1].scan_on_push);
        assert_eq!(repos[1].encryption_type, "KMS");
        assert!(repos[1]
            .kms_key
            .as_deref()
            .unwrap()
            .ends_with("0b1c2d3e4f5a"));
    }

    #[tokio::test]
    async fn images_come_over_pages() {
        let detail = |digest: &str, tag: Option<&str>, pushed: &str| {
            ImageDetail::builder()
                .registry_id(ACCOUNT)
                .repository_name("team/api")
                .image_digest(digest)
                .set_image_tags(tag.map(|t| vec![t.to_owned()]))
                .image_size_in_bytes(31_457_280)
                .image_pushed_at(at(pushed))
                .image_manifest_media_type("application/vnd.docker.distribution.manifest.v2+json")
                .build()
        };
        let first = mock!(Client::describe_images)
            .match_requests(|r| {
                r.repository_name() == Some("team/api")
                    && r.next_token().is_none()
                    && r.max_results() == Some(1000)
            })
            .then_output(move || {
                DescribeImagesOutput::builder()
                    .image_details(detail(DIGEST, Some("v1.2.0"), "2026-11-20T09:00:00Z"))
                    .next_token(TOKEN_2)
                    .build()
            });
        let second = mock!(Client::describe_images)
            .match_requests(|r| r.next_token() == Some(TOKEN_2) && r.max_results() == Some(1000))
            .then_output(move || {
                DescribeImagesOutput::builder()
                    .image_details(detail("sha256:00aa", None, "2026-11-01T09:00:00.5Z"))
                    .build()
            });
        let ecr = client(&[&first, &second]);
        let images = ecr.images("team/api").await.unwrap();
        assert_eq!(
            images,
            vec![
                Image {
                    digest: DIGEST.into(),
                    tags: vec!["v1.2.0".into()],
                    pushed_at: Some("2026-11-20T09:00:00Z".into()),
                    size: Some(31_457_280),
                    last_pulled: None,
                    scan: None,
                },
                Image {
                    digest: "sha256:00aa".into(),
                    tags: vec![],
                    pushed_at: Some("2026-11-01T09:00:00.5Z".into()),
                    size: Some(31_457_280),
                    last_pulled: None,
                    scan: None,
                },
            ]
        );
    }

    #[tokio::test]
    async fn enhanced_findings_and_counts_are_read() {
        let rule = mock!(Client::describe_image_scan_findings)
            .match_requests(|r| {
                r.repository_name() == Some("team/api")
                    && r.image_id().and_then(|i| i.image_digest()) == Some(DIGEST)
            })
            .then_output(|| {
                let finding = EnhancedImageScanFinding::builder()
                    .aws_account_id(ACCOUNT)
                    .description("Malicious code was discovered in the upstream tarballs of xz.")
                    .finding_arn(
                        "arn:aws:inspector2:us-east-1:123456789012:finding/0b6f0c5b8f0e4d1a",
                    )
                    .severity("CRITICAL")
                    .status("ACTIVE")
                    .title("CVE-2024-3094 - xz-utils")
                    .r#type("PACKAGE_VULNERABILITY")
                    .score(10.0)
                    .package_vulnerability_details(
                        PackageVulnerabilityDetails::builder()
                            .source("NVD")
                            .source_url("https://nvd.nist.gov/vuln/detail/CVE-2024-3094")
                            .vulnerability_id("CVE-2024-3094")
                            .vulnerable_packages(
                                VulnerablePackage::builder()
                                    .name("xz-utils")
                                    .version("5.6.0")
                                    .package_manager("OS")
                                    .build(),
                            )
                            .build(),
                    )
                    .build();
                DescribeImageScanFindingsOutput::builder()
                    .registry_id(ACCOUNT)
                    .repository_name("team/api")
                    .image_scan_status(
                        ImageScanStatus::builder()
                            .status(ScanStatus::Active)
                            .description("Continuous scan is selected for image.")
                            .build(),
                    )
                    .image_scan_findings(
                        ImageScanFindings::builder()
                            .image_scan_completed_at(at("2026-11-22T08:00:00Z"))
                            .finding_severity_counts(FindingSeverity::Critical, 1)
                            .finding_severity_counts(FindingSeverity::High, 3)
                            .enhanced_findings(finding)
                            .build(),
                    )
                    .build()
            });
        let ecr = client(&[&rule]);
        let scan = ecr
            .scan_findings("team/api", DIGEST)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(scan.status, "ACTIVE");
        assert_eq!(scan.completed_at.as_deref(), Some("2026-11-22T08:00:00Z"));
        assert_eq!(scan.counts.get("CRITICAL"), Some(&1));
        assert_eq!(scan.counts.get("HIGH"), Some(&3));
        assert_eq!(
            scan.findings,
            vec![ImageFinding {
                name: "CVE-2024-3094 - xz-utils".into(),
                severity: "CRITICAL".into(),
                package: Some("xz-utils".into()),
                uri: Some("https://nvd.nist.gov/vuln/detail/CVE-2024-3094".into()),
                description: Some(
                    "Malicious code was discovered in the upstream tarballs of xz.".into()
                ),
            }]
        );
    }

    #[tokio::test]
    async fn missing_policies_are_none() {
        let lifecycle = mock!(Client::get_lifecycle_policy).then_error(|| {
            GetLifecyclePolicyError::LifecyclePolicyNotFoundException(
                LifecyclePolicyNotFoundException::builder()
                    .message("Lifecycle policy does not exist for the repository with name 'team/api' in the registry with id '123456789012'")
                    .build(),
            )
        });
        let policy = mock!(Client::get_repository_policy).then_error(|| {
            GetRepositoryPolicyError::RepositoryPolicyNotFoundException(
                RepositoryPolicyNotFoundException::builder()
                    .message("Repository policy does not exist for the repository with name 'team/api' in the registry with id '123456789012'")
                    .build(),
            )
        });
        let present = mock!(Client::get_lifecycle_policy).then_output(|| {
            GetLifecyclePolicyOutput::builder()
                .registry_id(ACCOUNT)
                .repository_name("team/web")
                .lifecycle_policy_text(r#"{"rules":[]}"#)
                .build()
        });
        let ecr = client(&[&lifecycle, &policy, &present]);
        assert_eq!(ecr.lifecycle_policy("team/api").await.unwrap(), None);
        assert_eq!(ecr.repository_policy("team/api").await.unwrap(), None);
        assert_eq!(
            ecr.lifecycle_policy("team/web").await.unwrap().as_deref(),
            Some(r#"{"rules":[]}"#)
        );
    }

    #[tokio::test]
    async fn registry_scanning_rules_are_read() {
        let rule = mock!(Client::get_registry_scanning_configuration).then_output(|| {
            GetRegistryScanningConfigurationOutput::builder()
                .registry_id(ACCOUNT)
                .scanning_configuration(
                    RegistryScanningConfiguration::builder()
                        .scan_type(ScanType::Enhanced)
                        .rules(
                            RegistryScanningRule::builder()
                                .scan_frequency(ScanFrequency::ContinuousScan)
                                .repository_filters(
                                    ScanningRepositoryFilter::builder()
                                        .filter("team/*")
                                        .filter_type(ScanningRepositoryFilterType::Wildcard)
                                        .build()
                                        .unwrap(),
                                )
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
        });
        let ecr = client(&[&rule]);
        assert_eq!(
            ecr.registry_scanning().await.unwrap(),
            RegistryScanning {
                scan_type: "ENHANCED".into(),
                rules: vec![ScanRule {
                    frequency: "CONTINUOUS_SCAN".into(),
                    filters: vec!["team/*".into()],
                }],
            }
        );
    }

    /// AWS's answer to a throttled JSON API call.
    const THROTTLING: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;

    #[tokio::test]
    async fn a_throttled_call_is_an_aws_error_when_retries_are_off() {
        let throttled = mock!(Client::describe_repositories)
            .sequence()
            .http_status(400, Some(THROTTLING.to_owned()))
            .build();
        let ecr = client(&[&throttled]);
        match ecr.repositories().await {
            Err(Error::Aws { operation, message }) => {
                assert_eq!(operation, "ecr:DescribeRepositories");
                assert_eq!(message, "ThrottlingException: Rate exceeded");
            }
            other => panic!("expected Error::Aws, got {other:?}"),
        }
        assert_eq!(throttled.num_calls(), 1);
    }

    /// With the SDK's standard retry, a throttled call is taken again after a backoff, and the
    /// call counter of `-v` shows the retry.
    #[tokio::test]
    async fn a_throttled_call_is_retried_and_counted() {
        let throttled = mock!(Client::describe_repositories)
            .sequence()
            .http_status(400, Some(THROTTLING.to_owned()))
            .output(|| {
                DescribeRepositoriesOutput::builder()
                    .repositories(sdk_repo("team/api", "IMMUTABLE", None))
                    .build()
            })
            .build();
        let ecr = EcrClient::from_client(mock_client!(
            aws_sdk_ecr,
            RuleMode::Sequential,
            [&throttled],
            |c| c
                .retry_config(
                    RetryConfig::standard()
                        .with_max_attempts(3)
                        .with_initial_backoff(std::time::Duration::from_millis(1))
                )
                .interceptor(crate::aws::calls::CallCounter)
        ));
        let count = || {
            crate::aws::calls::snapshot()
                .get("ecr:DescribeRepositories")
                .copied()
                .unwrap_or_default()
        };
        let before = count();
        let repos = ecr.repositories().await.unwrap();
        assert_eq!(repos.len(), 1);
        assert_eq!(throttled.num_calls(), 2);
        let after = count();
        assert!(after.calls > before.calls);
        assert_eq!(after.retries - before.retries, 1);
    }

    #[tokio::test]
    async fn tag_mutability_keeps_exclusion_filters() {
        let rule = mock!(Client::put_image_tag_mutability)
            .match_requests(|r| {
                r.repository_name() == Some("team/web")
                    && r.image_tag_mutability() == Some(&ImageTagMutability::ImmutableWithExclusion)
                    && r.image_tag_mutability_exclusion_filters()
                        .iter()
                        .map(|f| f.filter())
                        .eq(["latest"])
            })
            .then_output(|| {
                aws_sdk_ecr::operation::put_image_tag_mutability::PutImageTagMutabilityOutput::builder()
                    .build()
            });
        let ecr = client(&[&rule]);
        ecr.set_tag_mutability("team/web", "IMMUTABLE_WITH_EXCLUSION", &["latest".into()])
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 1);
    }
}
