//! Drift: CloudFormation's own drift detection behind the [`StackDrift`] trait (start a
//! detection, read its status, read the resources that drifted), and the live configuration of
//! ECR repositories (through [`super::ecr::Ecr`], plus their tags) for comparing them with the
//! template directly where CloudFormation cannot (the emulator implements no drift call;
//! CloudFormation reports some resources NOT_CHECKED).
//!
//! The SDK adapter [`DriftClient`] maps the SDK's types to the project's own; nothing of the
//! SDK leaves this file. A drift call the endpoint does not implement (HTTP 5xx without an AWS
//! error, or an error saying it is not supported) is "unavailable", not an error.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};

use super::ecr::{Ecr, EcrClient};
use super::sdk_error;
use crate::error::Result;

/// The state of one drift detection, as DescribeStackDriftDetectionStatus reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectionStatus {
    /// `DETECTION_IN_PROGRESS`, `DETECTION_COMPLETE` or `DETECTION_FAILED`.
    pub status: String,
    /// `DRIFTED`, `IN_SYNC`, `NOT_CHECKED` or `UNKNOWN`, once known.
    pub drift_status: Option<String>,
    pub reason: Option<String>,
}

impl DetectionStatus {
    pub fn in_progress(&self) -> bool {
        self.status == "DETECTION_IN_PROGRESS"
    }

    /// Whether the detection failed (it still reports the resources it could check).
    pub fn failed(&self) -> bool {
        self.status == "DETECTION_FAILED"
    }
}

/// What a drift status (of a stack, a StackSet or a StackSet instance) says: `DRIFTED` is
/// drift, `IN_SYNC` none; `NOT_CHECKED`, `UNKNOWN` or no detection yet is unknown (None).
pub fn drifted(status: Option<&str>) -> Option<bool> {
    match status? {
        "DRIFTED" => Some(true),
        "IN_SYNC" => Some(false),
        _ => None,
    }
}

/// One property that differs between the template and the live resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyDifference {
    /// A JSON pointer into the resource's properties, such as `/ImageTagMutability` or
    /// `/Tags/0/Value`.
    pub path: String,
    /// The value in the template (JSON text for objects and lists); empty when absent.
    pub expected: String,
    /// The live value; empty when absent.
    pub actual: String,
    /// `ADD`, `REMOVE` or `NOT_EQUAL`.
    pub kind: String,
}

/// One resource's drift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDrift {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    /// `IN_SYNC`, `MODIFIED`, `DELETED` or `NOT_CHECKED`.
    pub status: String,
    pub differences: Vec<PropertyDifference>,
}

impl ResourceDrift {
    pub const IN_SYNC: &'static str = "IN_SYNC";
    pub const MODIFIED: &'static str = "MODIFIED";
    pub const DELETED: &'static str = "DELETED";
    pub const NOT_CHECKED: &'static str = "NOT_CHECKED";

    /// Whether the resource is as its template says.
    pub fn is_in_sync(&self) -> bool {
        self.status == Self::IN_SYNC
    }

    /// Whether the resource drifted: `MODIFIED` or `DELETED`.
    pub fn has_drifted(&self) -> bool {
        self.status == Self::MODIFIED || self.status == Self::DELETED
    }

    /// Whether CloudFormation could not check the resource (`NOT_CHECKED`).
    pub fn is_not_checked(&self) -> bool {
        self.status == Self::NOT_CHECKED
    }
}

/// The live configuration of an ECR repository.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RepositoryFacts {
    pub name: String,
    pub arn: String,
    /// `MUTABLE`, `IMMUTABLE`, `MUTABLE_WITH_EXCLUSION` or `IMMUTABLE_WITH_EXCLUSION`.
    pub tag_mutability: String,
    /// (filter type, filter), such as (`WILDCARD`, `latest*`).
    pub exclusion_filters: Vec<(String, String)>,
    pub scan_on_push: bool,
    /// `AES256`, `KMS` or `KMS_DSSE`.
    pub encryption_type: String,
    pub kms_key: Option<String>,
    /// The lifecycle policy's text, if it has one.
    pub lifecycle_policy: Option<String>,
    /// The repository policy's text, if it has one.
    pub repository_policy: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// CloudFormation's drift detection, and the live state of the resources compared directly.
#[async_trait]
pub trait StackDrift: Send + Sync {
    /// DetectStackDrift: the detection's id, or `None` when the endpoint does not offer drift
    /// detection.
    async fn detect(&self, stack: &str) -> Result<Option<String>>;
    /// DescribeStackDriftDetectionStatus.
    async fn status(&self, detection_id: &str) -> Result<DetectionStatus>;
    /// DescribeStackResourceDrifts of the resources MODIFIED, DELETED or NOT_CHECKED, all
    /// pages.
    async fn resource_drifts(&self, stack: &str) -> Result<Vec<ResourceDrift>>;
    /// The live configuration of an ECR repository (DescribeRepositories, GetLifecyclePolicy,
    /// GetRepositoryPolicy, ListTagsForResource); `None` if it does not exist.
    async fn repository(&self, name: &str) -> Result<Option<RepositoryFacts>>;
}

/// [`StackDrift`] through the SDK's CloudFormation and ECR clients.
pub struct DriftClient {
    cfn: aws_sdk_cloudformation::Client,
    /// Repositories, lifecycle and repository policies.
    registry: Box<dyn Ecr>,
    /// ListTagsForResource, which [`Ecr`] does not offer.
    ecr: aws_sdk_ecr::Client,
}

impl DriftClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        let ecr = super::sdk_client!(aws_sdk_ecr, config);
        DriftClient {
            cfn: super::sdk_client!(aws_sdk_cloudformation, config),
            registry: Box::new(EcrClient::from_client(ecr.clone())),
            ecr,
        }
    }

    /// Wraps clients built elsewhere (tests: mock clients).
    pub fn from_clients(cfn: aws_sdk_cloudformation::Client, ecr: aws_sdk_ecr::Client) -> Self {
        DriftClient {
            cfn,
            registry: Box::new(EcrClient::from_client(ecr.clone())),
            ecr,
        }
    }
}

/// How many pages a listing reads at most: a guard against a token that never ends.
const MAX_PAGES: usize = 1000;

/// `None` for an absent or empty text.
fn text(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Whether a failed call means "this endpoint offers no drift detection": a 5xx without an AWS
/// error document (the emulator's HTML page), or an error saying so.
pub(crate) fn unavailable<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    let SdkError::ServiceError(se) = err else {
        return false;
    };
    let e = se.err();
    let status = se.raw().status().as_u16();
    if e.code().is_none() && e.message().is_none() && status >= 500 {
        return true;
    }
    let said = format!(
        "{} {}",
        e.code().unwrap_or_default(),
        e.message().unwrap_or_default()
    )
    .to_ascii_lowercase();
    said.contains("not supported")
        || said.contains("not implemented")
        || said.contains("notimplemented")
}

fn resource_drift(d: &aws_sdk_cloudformation::types::StackResourceDrift) -> ResourceDrift {
    ResourceDrift {
        logical_id: d.logical_resource_id().unwrap_or_default().to_owned(),
        physical_id: text(d.physical_resource_id()),
        resource_type: d.resource_type().unwrap_or_default().to_owned(),
        status: d
            .stack_resource_drift_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        differences: d
            .property_differences()
            .iter()
            .map(|p| PropertyDifference {
                path: p.property_path().unwrap_or_default().to_owned(),
                expected: p.expected_value().unwrap_or_default().to_owned(),
                actual: p.actual_value().unwrap_or_default().to_owned(),
                kind: p
                    .difference_type()
                    .map(|k| k.as_str().to_owned())
                    .unwrap_or_default(),
            })
            .collect(),
    }
}

#[async_trait]
impl StackDrift for DriftClient {
    async fn detect(&self, stack: &str) -> Result<Option<String>> {
        // An endpoint without drift detection answers 5xx, which the SDK takes for a transient
        // error: retried soon (not after the default second), so that finding it out is quick.
        let retry = aws_smithy_types::retry::RetryConfig::standard()
            .with_initial_backoff(std::time::Duration::from_millis(50));
        match self
            .cfn
            .detect_stack_drift()
            .stack_name(stack)
            .customize()
            .config_override(aws_sdk_cloudformation::config::Builder::default().retry_config(retry))
            .send()
            .await
        {
            Ok(out) => Ok(text(out.stack_drift_detection_id())),
            Err(e) if unavailable(&e) => Ok(None),
            Err(e) => Err(sdk_error("cloudformation:DetectStackDrift", e)),
        }
    }

    async fn status(&self, detection_id: &str) -> Result<DetectionStatus> {
        let out = self
            .cfn
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(detection_id)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:DescribeStackDriftDetectionStatus", e))?;
        Ok(DetectionStatus {
            status: out
                .detection_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            drift_status: out.stack_drift_status().map(|s| s.as_str().to_owned()),
            reason: text(out.detection_status_reason()),
        })
    }

    async fn resource_drifts(&self, stack: &str) -> Result<Vec<ResourceDrift>> {
        use aws_sdk_cloudformation::types::StackResourceDriftStatus as S;
        let mut drifts = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .cfn
                .describe_stack_resource_drifts()
                .stack_name(stack)
                .set_stack_resource_drift_status_filters(Some(vec![
                    S::Modified,
                    S::Deleted,
                    S::NotChecked,
                ]))
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("cloudformation:DescribeStackResourceDrifts", e))?;
            drifts.extend(page.stack_resource_drifts().iter().map(resource_drift));
            match text(page.next_token()) {
                Some(next) if token.as_ref() != Some(&next) => token = Some(next),
                _ => break,
            }
        }
        Ok(drifts)
    }

    async fn repository(&self, name: &str) -> Result<Option<RepositoryFacts>> {
        let Some(repo) = self
            .registry
            .repositories()
            .await?
            .into_iter()
            .find(|r| r.name == name)
        else {
            return Ok(None);
        };
        let lifecycle_policy = self.registry.lifecycle_policy(name).await?;
        let repository_policy = self.registry.repository_policy(name).await?;
        let tags = self
            .ecr
            .list_tags_for_resource()
            .resource_arn(&repo.arn)
            .send()
            .await
            .map_err(|e| sdk_error("ecr:ListTagsForResource", e))?
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        Ok(Some(RepositoryFacts {
            name: repo.name,
            arn: repo.arn,
            tag_mutability: repo.tag_mutability,
            exclusion_filters: repo
                .exclusion_filters
                .into_iter()
                .map(|f| ("WILDCARD".to_owned(), f))
                .collect(),
            scan_on_push: repo.scan_on_push,
            encryption_type: repo.encryption_type,
            kms_key: repo.kms_key,
            lifecycle_policy,
            repository_policy,
            tags,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::operation::describe_stack_drift_detection_status::DescribeStackDriftDetectionStatusOutput;
    use aws_sdk_cloudformation::operation::describe_stack_resource_drifts::DescribeStackResourceDriftsOutput;
    use aws_sdk_cloudformation::operation::detect_stack_drift::DetectStackDriftOutput;
    use aws_sdk_cloudformation::types::{
        DifferenceType, PropertyDifference as SdkDifference, StackDriftDetectionStatus,
        StackDriftStatus, StackResourceDrift, StackResourceDriftStatus,
    };
    use aws_sdk_cloudformation::Client;
    use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
    use aws_sdk_ecr::operation::get_repository_policy::GetRepositoryPolicyOutput;
    use aws_sdk_ecr::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_ecr::types::{
        EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
        Repository, Tag,
    };
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
    use aws_smithy_types::DateTime;

    const STACK: &str = "ecr-repositories";
    const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/ecr-repositories/6c1b1e30-c8a7-11f0-9e1b-0affd1e2c3b4";
    const DETECTION: &str = "b78ac9b0-dec1-11e7-a451-503a3b0e4e82";
    const TOKEN_2: &str = "AAAAAQAAAAEAAAAB2d3J0Lk1YWNyb3NzLXBhZ2UtdG9rZW4tMg==";
    const REPO_ARN: &str = "arn:aws:ecr:us-east-1:123456789012:repository/little/api";

    fn cfn(rules: &[&Rule]) -> Client {
        mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, rules, |c| c
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled()))
    }

    fn ecr(rules: &[&Rule]) -> aws_sdk_ecr::Client {
        mock_client!(aws_sdk_ecr, RuleMode::MatchAny, rules, |c| c
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled()))
    }

    fn drift_client(cfn_rules: &[&Rule], ecr_rules: &[&Rule]) -> DriftClient {
        DriftClient::from_clients(cfn(cfn_rules), ecr(ecr_rules))
    }

    fn at(s: &str) -> DateTime {
        DateTime::from_str(s, aws_smithy_types::date_time::Format::DateTime).unwrap()
    }

    fn status_output(
        status: StackDriftDetectionStatus,
        drift: Option<StackDriftStatus>,
    ) -> DescribeStackDriftDetectionStatusOutput {
        let mut b = DescribeStackDriftDetectionStatusOutput::builder()
            .stack_id(STACK_ID)
            .stack_drift_detection_id(DETECTION)
            .detection_status(status)
            .timestamp(at("2026-11-23T08:10:02.417Z"));
        if let Some(d) = drift {
            b = b.stack_drift_status(d).drifted_stack_resource_count(1);
        }
        b.build()
    }

    fn sdk_drift(
        logical: &str,
        physical: &str,
        ty: &str,
        status: StackResourceDriftStatus,
        differences: Vec<SdkDifference>,
    ) -> StackResourceDrift {
        StackResourceDrift::builder()
            .stack_id(STACK_ID)
            .logical_resource_id(logical)
            .physical_resource_id(physical)
            .resource_type(ty)
            .stack_resource_drift_status(status)
            .timestamp(at("2026-11-23T08:10:01.903Z"))
            .set_property_differences(Some(differences))
            .build()
    }

    fn difference(path: &str, expected: &str, actual: &str, kind: DifferenceType) -> SdkDifference {
        SdkDifference::builder()
            .property_path(path)
            .expected_value(expected)
            .actual_value(actual)
            .difference_type(kind)
            .build()
    }

    #[tokio::test]
    async fn a_detection_runs_to_completion_and_its_drifts_come_from_every_page() {
        let detect = mock!(Client::detect_stack_drift)
            .match_requests(|r| r.stack_name() == Some(STACK))
            .then_output(|| {
                DetectStackDriftOutput::builder()
                    .stack_drift_detection_id(DETECTION)
                    .build()
            });
        let status = mock!(Client::describe_stack_drift_detection_status)
            .match_requests(|r| r.stack_drift_detection_id() == Some(DETECTION))
            .sequence()
            .output(|| status_output(StackDriftDetectionStatus::DetectionInProgress, None))
            .times(2)
            .output(|| {
                status_output(
                    StackDriftDetectionStatus::DetectionComplete,
                    Some(StackDriftStatus::Drifted),
                )
            })
            .build();
        let filters = |r: &aws_sdk_cloudformation::operation::describe_stack_resource_drifts::DescribeStackResourceDriftsInput| {
            r.stack_resource_drift_status_filters()
                == [
                    StackResourceDriftStatus::Modified,
                    StackResourceDriftStatus::Deleted,
                    StackResourceDriftStatus::NotChecked,
                ]
        };
        let first = mock!(Client::describe_stack_resource_drifts)
            .match_requests(move |r| {
                r.stack_name() == Some(STACK) && r.next_token().is_none() && filters(r)
            })
            .then_output(|| {
                DescribeStackResourceDriftsOutput::builder()
                    .stack_resource_drifts(sdk_drift(
                        "Repo",
                        "little/api",
                        "AWS::ECR::Repository",
                        StackResourceDriftStatus::Modified,
                        vec![
                            difference(
                                "/ImageTagMutability",
                                "IMMUTABLE",
                                "MUTABLE",
                                DifferenceType::NotEqual,
                            ),
                            difference(
                                "/Tags/1",
                                "{\"Key\":\"team\",\"Value\":\"platform\"}",
                                "null",
                                DifferenceType::Remove,
                            ),
                        ],
                    ))
                    .next_token(TOKEN_2)
                    .build()
            });
        let second = mock!(Client::describe_stack_resource_drifts)
            .match_requests(move |r| {
                r.stack_name() == Some(STACK) && r.next_token() == Some(TOKEN_2) && filters(r)
            })
            .then_output(|| {
                DescribeStackResourceDriftsOutput::builder()
                    .stack_resource_drifts(sdk_drift(
                        "Rule",
                        "little-scan-rule",
                        "AWS::Events::Rule",
                        StackResourceDriftStatus::NotChecked,
                        Vec::new(),
                    ))
                    .build()
            });
        let d = drift_client(&[&detect, &status, &first, &second], &[]);

        assert_eq!(d.detect(STACK).await.unwrap().as_deref(), Some(DETECTION));
        for _ in 0..2 {
            let s = d.status(DETECTION).await.unwrap();
            assert!(s.in_progress());
            assert_eq!(s.drift_status, None);
        }
        let done = d.status(DETECTION).await.unwrap();
        assert_eq!(
            done,
            DetectionStatus {
                status: "DETECTION_COMPLETE".into(),
                drift_status: Some("DRIFTED".into()),
                reason: None,
            }
        );
        let drifts = d.resource_drifts(STACK).await.unwrap();
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
        assert_eq!(drifts.len(), 2);
        assert_eq!(
            drifts[0],
            ResourceDrift {
                logical_id: "Repo".into(),
                physical_id: Some("little/api".into()),
                resource_type: "AWS::ECR::Repository".into(),
                status: "MODIFIED".into(),
                differences: vec![
                    PropertyDifference {
                        path: "/ImageTagMutability".into(),
                        expected: "IMMUTABLE".into(),
                        actual: "MUTABLE".into(),
                        kind: "NOT_EQUAL".into(),
                    },
                    PropertyDifference {
                        path: "/Tags/1".into(),
                        expected: "{\"Key\":\"team\",\"Value\":\"platform\"}".into(),
                        actual: "null".into(),
                        kind: "REMOVE".into(),
                    },
                ],
            }
        );
        assert_eq!(drifts[1].status, "NOT_CHECKED");
        assert!(drifts[1].differences.is_empty());
    }

    #[tokio::test]
    async fn an_endpoint_without_drift_detection_is_unavailable_not_an_error() {
        let html = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n";
        // DetectStackDrift retries a 5xx soon (its own retry settings): every attempt gets it.
        let detect = mock!(Client::detect_stack_drift)
            .sequence()
            .http_status(500, Some(html.to_owned()))
            .repeatedly()
            .build();
        let d = drift_client(&[&detect], &[]);
        assert_eq!(d.detect(STACK).await.unwrap(), None);
        assert!(detect.num_calls() >= 1);
    }

    #[tokio::test]
    async fn a_real_error_of_detection_is_an_error() {
        let body = r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id gone does not exist</Message></Error><RequestId>3c5f2b1e-0000-4000-8000-000000000000</RequestId></ErrorResponse>"#;
        let detect = mock!(Client::detect_stack_drift)
            .sequence()
            .http_status(400, Some(body.to_owned()))
            .build();
        let d = drift_client(&[&detect], &[]);
        let err = d.detect("gone").await.unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[tokio::test]
    async fn a_repository_reads_back_with_its_policies_and_tags() {
        let describe = mock!(aws_sdk_ecr::Client::describe_repositories).then_output(|| {
            DescribeRepositoriesOutput::builder()
                .repositories(
                    Repository::builder()
                        .repository_arn(REPO_ARN)
                        .registry_id("123456789012")
                        .repository_name("little/api")
                        .repository_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/little/api")
                        .image_tag_mutability(ImageTagMutability::Immutable)
                        .image_scanning_configuration(
                            ImageScanningConfiguration::builder()
                                .scan_on_push(true)
                                .build(),
                        )
                        .encryption_configuration(
                            EncryptionConfiguration::builder()
                                .encryption_type(EncryptionType::Aes256)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
        });
        let lifecycle = mock!(aws_sdk_ecr::Client::get_lifecycle_policy)
            .sequence()
            .http_status(
                400,
                Some(r#"{"__type":"LifecyclePolicyNotFoundException","message":"Lifecycle policy does not exist for the repository with name 'little/api' in the registry with id '123456789012'"}"#.to_owned()),
            )
            .build();
        let policy = mock!(aws_sdk_ecr::Client::get_repository_policy).then_output(|| {
            GetRepositoryPolicyOutput::builder()
                .registry_id("123456789012")
                .repository_name("little/api")
                .policy_text("{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ ]\n}")
                .build()
        });
        let tags = mock!(aws_sdk_ecr::Client::list_tags_for_resource)
            .match_requests(|r| r.resource_arn() == Some(REPO_ARN))
            .then_output(|| {
                ListTagsForResourceOutput::builder()
                    .tags(
                        Tag::builder()
                            .key("team")
                            .value("platform")
                            .build()
                            .unwrap(),
                    )
                    .build()
            });
        let d = drift_client(&[], &[&describe, &lifecycle, &policy, &tags]);
        let facts = d.repository("little/api").await.unwrap().unwrap();
        assert_eq!(facts.tag_mutability, "IMMUTABLE");
        assert!(facts.scan_on_push);
        assert_eq!(facts.encryption_type, "AES256");
        assert_eq!(facts.lifecycle_policy, None);
        assert!(facts.repository_policy.unwrap().contains("2012-10-17"));
        assert_eq!(facts.tags["team"], "platform");

        // Not in the registry's listing: none.
        let missing = mock!(aws_sdk_ecr::Client::describe_repositories)
            .then_output(|| DescribeRepositoriesOutput::builder().build());
        let d = drift_client(&[], &[&missing]);
        assert_eq!(d.repository("gone").await.unwrap(), None);
    }
}
