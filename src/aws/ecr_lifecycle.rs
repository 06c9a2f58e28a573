//! ECR's own lifecycle policy preview (StartLifecyclePolicyPreview, then
//! GetLifecyclePolicyPreview until it completes): what ECR says a policy would expire in a
//! repository now. `little ecr lifecycle-preview --ecr` sets it beside little's offline
//! evaluation ([`crate::policy::lifecycle_eval`]); the tests here check the evaluator against
//! ECR's answers to the user guide's examples.

use std::time::Duration;

use async_trait::async_trait;
use aws_smithy_types::date_time::Format;

use super::sdk_error;
use crate::error::{Error, Result};

/// An image ECR's preview acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewImage {
    pub digest: String,
    pub tags: Vec<String>,
    /// RFC 3339, UTC.
    pub pushed_at: Option<String>,
    /// The priority of the rule that acts on it.
    pub rule: i64,
    /// `EXPIRE` or `TRANSITION`, as ECR names it.
    pub action: String,
}

/// ECR's own preview of a lifecycle policy.
#[async_trait]
pub trait LifecyclePreviews: Send + Sync {
    /// Starts ECR's preview of `policy` (the repository's own policy when `None`) and waits,
    /// polling every `poll`, at most `timeout`, for its results: the images it would act on.
    async fn preview(
        &self,
        repository: &str,
        policy: Option<&str>,
        poll: Duration,
        timeout: Duration,
    ) -> Result<Vec<PreviewImage>>;
}

#[async_trait]
impl LifecyclePreviews for EcrLifecycleClient {
    async fn preview(
        &self,
        repository: &str,
        policy: Option<&str>,
        poll: Duration,
        timeout: Duration,
    ) -> Result<Vec<PreviewImage>> {
        EcrLifecycleClient::preview(self, repository, policy, poll, timeout).await
    }
}

/// The most pages of results read: a guard against a token that never ends.
const MAX_PAGES: usize = 1_000;

/// ECR's lifecycle policy preview through the SDK.
pub struct EcrLifecycleClient {
    client: aws_sdk_ecr::Client,
}

impl EcrLifecycleClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        EcrLifecycleClient {
            client: super::sdk_client!(aws_sdk_ecr, config),
        }
    }

    pub fn from_client(client: aws_sdk_ecr::Client) -> Self {
        EcrLifecycleClient { client }
    }

    /// Starts ECR's preview of `policy` (the repository's own policy when `None`) and waits,
    /// polling every `poll`, at most `timeout`, for its results: the images it would act on.
    pub async fn preview(
        &self,
        repository: &str,
        policy: Option<&str>,
        poll: Duration,
        timeout: Duration,
    ) -> Result<Vec<PreviewImage>> {
        self.client
            .start_lifecycle_policy_preview()
            .repository_name(repository)
            .set_lifecycle_policy_text(policy.map(str::to_owned))
            .send()
            .await
            .map_err(|e| sdk_error("ecr:StartLifecyclePolicyPreview", e))?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(found) = self.results(repository).await? {
                return Ok(found);
            }
            if tokio::time::Instant::now() + poll > deadline {
                return Err(Error::Aws {
                    operation: "ecr:GetLifecyclePolicyPreview".into(),
                    message: format!(
                        "ECR's preview of `{repository}` did not complete within {} s",
                        timeout.as_secs()
                    ),
                });
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// The preview's results once it completed; `None` while it is in progress.
    async fn results(&self, repository: &str) -> Result<Option<Vec<PreviewImage>>> {
        use aws_sdk_ecr::types::LifecyclePolicyPreviewStatus as Status;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .get_lifecycle_policy_preview()
                .repository_name(repository)
                .max_results(100)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("ecr:GetLifecyclePolicyPreview", e))?;
            match page.status() {
                Some(Status::Complete) => {}
                Some(Status::InProgress) | None => return Ok(None),
                Some(other) => {
                    return Err(Error::Aws {
                        operation: "ecr:GetLifecyclePolicyPreview".into(),
                        message: format!(
                            "ECR's preview of `{repository}` ended `{}`",
                            other.as_str()
                        ),
                    })
                }
            }
            for r in page.preview_results() {
                out.push(PreviewImage {
                    digest: r.image_digest().unwrap_or_default().to_owned(),
                    tags: r.image_tags().to_vec(),
                    pushed_at: r
                        .image_pushed_at()
                        .and_then(|t| t.fmt(Format::DateTime).ok()),
                    rule: r.applied_rule_priority().map(i64::from).unwrap_or_default(),
                    action: r
                        .action()
                        .and_then(|a| a.r#type())
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_else(|| "EXPIRE".into()),
                });
            }
            match page.next_token().filter(|t| !t.is_empty()) {
                Some(next) if token.as_deref() != Some(next) => token = Some(next.to_owned()),
                _ => return Ok(Some(out)),
            }
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    //! ECR's answers to the user guide's examples, mocked as ECR sends them, against the
    //! evaluator's on the same images.
    use super::*;
    use crate::policy::lifecycle_eval::{evaluate, parse, EvalImage};
    use aws_sdk_ecr::operation::get_lifecycle_policy_preview::GetLifecyclePolicyPreviewOutput;
    use aws_sdk_ecr::operation::start_lifecycle_policy_preview::StartLifecyclePolicyPreviewOutput;
    use aws_sdk_ecr::types::{
        ImageActionType, LifecyclePolicyPreviewResult, LifecyclePolicyPreviewStatus,
        LifecyclePolicyRuleAction,
    };
    use aws_sdk_ecr::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::DateTime;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;

    /// A documented example: the images (name, tags, days since push), the policy, and what
    /// ECR's preview says it expires (name, rule).
    struct Example {
        images: Vec<(&'static str, Vec<&'static str>, i64)>,
        policy: serde_json::Value,
        ecr_expires: Vec<(&'static str, i64)>,
    }

    fn prefix_count(priority: i64, prefixes: &[&str], n: u64) -> serde_json::Value {
        json!({"rulePriority": priority, "selection": {"tagStatus": "tagged",
            "tagPrefixList": prefixes, "countType": "imageCountMoreThan", "countNumber": n},
            "action": {"type": "expire"}})
    }

    fn examples() -> Vec<Example> {
        let alpha_beta = vec![
            ("A", vec!["alpha-1"], 12),
            ("B", vec!["beta-1"], 11),
            ("C", vec!["alpha-2", "beta-2"], 10),
            ("D", vec!["alpha-3"], 4),
            ("E", vec!["beta-3"], 3),
            ("F", vec!["alpha-4", "beta-4"], 2),
        ];
        vec![
            // "Filtering on multiple rules", example A.
            Example {
                images: vec![
                    ("A", vec!["beta-1", "prod-1"], 10),
                    ("B", vec!["beta-2", "prod-2"], 9),
                    ("C", vec!["beta-3"], 8),
                ],
                policy: json!({"rules": [prefix_count(1, &["prod"], 1), prefix_count(2, &["beta"], 1)]}),
                ecr_expires: vec![("A", 1)],
            },
            // "Filtering on multiple rules", example B.
            Example {
                images: vec![
                    ("A", vec!["beta-1", "prod-1"], 10),
                    ("B", vec!["beta-2", "prod-2"], 9),
                    ("C", vec!["beta-3", "prod-3"], 8),
                ],
                policy: json!({"rules": [prefix_count(1, &["prod"], 1), prefix_count(2, &["beta"], 1)]}),
                ecr_expires: vec![("A", 1), ("B", 1)],
            },
            // "Filtering on multiple tags in a single rule", by age.
            Example {
                images: alpha_beta.clone(),
                policy: json!({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "tagged",
                    "tagPrefixList": ["alpha", "beta"], "countType": "sinceImagePushed",
                    "countUnit": "days", "countNumber": 5}, "action": {"type": "expire"}}]}),
                ecr_expires: vec![("C", 1)],
            },
            // "Filtering on multiple tags in a single rule", by count.
            Example {
                images: alpha_beta,
                policy: json!({"rules": [prefix_count(1, &["alpha", "beta"], 1)]}),
                ecr_expires: vec![("C", 1)],
            },
        ]
    }

    fn digest(name: &str) -> String {
        format!("sha256:{}", name.to_lowercase().repeat(64))
    }

    /// ECR's preview of one example, mocked: the start, one IN_PROGRESS answer, then the
    /// results over two pages.
    fn ecr_client(example: &Example) -> EcrLifecycleClient {
        let results: Vec<LifecyclePolicyPreviewResult> = example
            .ecr_expires
            .iter()
            .map(|(name, rule)| {
                let (_, tags, days) = example.images.iter().find(|(n, _, _)| n == name).unwrap();
                LifecyclePolicyPreviewResult::builder()
                    .image_digest(digest(name))
                    .set_image_tags(Some(tags.iter().map(|t| t.to_string()).collect()))
                    .image_pushed_at(DateTime::from_secs(NOW - days * DAY))
                    .applied_rule_priority(*rule as i32)
                    .action(
                        LifecyclePolicyRuleAction::builder()
                            .r#type(ImageActionType::Expire)
                            .build(),
                    )
                    .build()
            })
            .collect();
        let (first, rest) = results.split_at(results.len().min(1));
        let (first, rest) = (first.to_vec(), rest.to_vec());
        let start = mock!(Client::start_lifecycle_policy_preview)
            .match_requests(|r| {
                r.repository_name() == Some("team/api") && r.lifecycle_policy_text().is_some()
            })
            .then_output(|| StartLifecyclePolicyPreviewOutput::builder().build());
        let running = mock!(Client::get_lifecycle_policy_preview)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| {
                GetLifecyclePolicyPreviewOutput::builder()
                    .status(LifecyclePolicyPreviewStatus::InProgress)
                    .build()
            });
        let page_one = mock!(Client::get_lifecycle_policy_preview)
            .match_requests(|r| r.next_token().is_none())
            .then_output(move || {
                GetLifecyclePolicyPreviewOutput::builder()
                    .status(LifecyclePolicyPreviewStatus::Complete)
                    .set_preview_results(Some(first.clone()))
                    .next_token("page-2")
                    .build()
            });
        let page_two = mock!(Client::get_lifecycle_policy_preview)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(move || {
                GetLifecyclePolicyPreviewOutput::builder()
                    .status(LifecyclePolicyPreviewStatus::Complete)
                    .set_preview_results(Some(rest.clone()))
                    .build()
            });
        EcrLifecycleClient::from_client(mock_client!(
            aws_sdk_ecr,
            RuleMode::Sequential,
            [&start, &running, &page_one, &page_two]
        ))
    }

    #[tokio::test]
    async fn the_evaluator_agrees_with_ecrs_preview_on_the_documented_examples() {
        for (n, example) in examples().iter().enumerate() {
            let ecr = ecr_client(example);
            let policy = example.policy.to_string();
            let previewed = ecr
                .preview(
                    "team/api",
                    Some(&policy),
                    Duration::ZERO,
                    Duration::from_secs(5),
                )
                .await
                .unwrap_or_else(|e| panic!("example {n}: {e}"));
            let mut from_ecr: Vec<(String, i64)> = previewed
                .iter()
                .map(|p| (p.digest.clone(), p.rule))
                .collect();
            from_ecr.sort();
            assert!(previewed
                .iter()
                .all(|p| p.action == "EXPIRE" && p.pushed_at.is_some()));

            let images: Vec<EvalImage> = example
                .images
                .iter()
                .map(|(name, tags, days)| EvalImage {
                    digest: digest(name),
                    tags: tags.iter().map(|t| t.to_string()).collect(),
                    pushed_at: NOW - days * DAY,
                    last_pulled: None,
                    archived: false,
                    transitioned_at: None,
                })
                .collect();
            let rules = parse(&example.policy).unwrap();
            let mut ours: Vec<(String, i64)> = evaluate(&rules, &images, NOW)
                .selected
                .into_iter()
                .map(|d| (d.digest, d.rule))
                .collect();
            ours.sort();
            assert_eq!(ours, from_ecr, "example {n}");
        }
    }

    #[tokio::test]
    async fn a_failed_or_slow_preview_is_an_error_naming_the_repository() {
        let start = mock!(Client::start_lifecycle_policy_preview)
            .then_output(|| StartLifecyclePolicyPreviewOutput::builder().build());
        let failed = mock!(Client::get_lifecycle_policy_preview).then_output(|| {
            GetLifecyclePolicyPreviewOutput::builder()
                .status(LifecyclePolicyPreviewStatus::Failed)
                .build()
        });
        let ecr = EcrLifecycleClient::from_client(mock_client!(
            aws_sdk_ecr,
            RuleMode::Sequential,
            [&start, &failed]
        ));
        let e = ecr
            .preview("team/api", None, Duration::ZERO, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("preview of `team/api` ended `FAILED`"),
            "{e}"
        );

        let running = mock!(Client::get_lifecycle_policy_preview).then_output(|| {
            GetLifecyclePolicyPreviewOutput::builder()
                .status(LifecyclePolicyPreviewStatus::InProgress)
                .build()
        });
        let ecr = EcrLifecycleClient::from_client(mock_client!(
            aws_sdk_ecr,
            RuleMode::MatchAny,
            [&start, &running]
        ));
        let e = ecr
            .preview(
                "team/api",
                None,
                Duration::from_millis(10),
                Duration::from_millis(30),
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("did not complete within"), "{e}");
    }
}
