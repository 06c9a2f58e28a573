//! Whether resources exist by their physical name, for `little adopt` and `plan`'s adoption
//! hints: an S3 bucket (HeadBucket, and whether it holds objects), an SQS queue (GetQueueUrl),
//! an SNS topic (GetTopicAttributes) and a KMS alias (ListAliases). ECR repositories and IAM
//! roles are looked up by `drift` and `iam`. No SDK type leaves this file.

use async_trait::async_trait;

use super::sdk_error;
use crate::error::{Error, Result};

/// What HeadBucket says of a bucket name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketState {
    /// No bucket has this name.
    Missing,
    /// A bucket of this account (and region); whether it holds any object.
    Owned { holds_objects: bool },
    /// A bucket exists with this name, but S3 refuses to show it (403): another account's,
    /// or one these credentials may not list.
    Forbidden,
    /// A bucket of this name is in another region (S3 redirects: 301), which one if S3 says.
    OtherRegion(Option<String>),
}

#[async_trait]
pub trait Named: Send + Sync {
    /// HeadBucket (with `owner`, the account, as the expected bucket owner when known), and
    /// ListObjectsV2 of one key when the bucket is there.
    async fn bucket(&self, name: &str, owner: Option<&str>) -> Result<BucketState>;
    /// GetQueueUrl: the queue's URL, None when no queue has this name.
    async fn queue_url(&self, name: &str) -> Result<Option<String>>;
    /// GetTopicAttributes: whether the topic exists.
    async fn topic_exists(&self, arn: &str) -> Result<bool>;
    /// ListAliases (every page): whether the alias (`alias/...`) exists.
    async fn kms_alias_exists(&self, alias: &str) -> Result<bool>;
}

/// [`Named`] through the SDK's S3, SQS, SNS and KMS clients.
pub struct NamedClient {
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    sns: aws_sdk_sns::Client,
    kms: aws_sdk_kms::Client,
}

impl NamedClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        NamedClient {
            s3: super::sdk_client!(aws_sdk_s3, config),
            sqs: super::sdk_client!(aws_sdk_sqs, config),
            sns: super::sdk_client!(aws_sdk_sns, config),
            kms: super::sdk_client!(aws_sdk_kms, config),
        }
    }

    #[cfg(test)]
    fn with_s3(s3: aws_sdk_s3::Client, config: &aws_config::SdkConfig) -> Self {
        NamedClient {
            s3,
            ..NamedClient::new(config)
        }
    }
}

#[async_trait]
impl Named for NamedClient {
    async fn bucket(&self, name: &str, owner: Option<&str>) -> Result<BucketState> {
        let head = self.s3.head_bucket().bucket(name);
        let head = match owner {
            Some(o) => head.expected_bucket_owner(o),
            None => head,
        };
        if let Err(e) = head.send().await {
            let status = e.raw_response().map(|r| r.status().as_u16());
            return match status {
                Some(404) => Ok(BucketState::Missing),
                Some(403) => Ok(BucketState::Forbidden),
                Some(301) => Ok(BucketState::OtherRegion(
                    e.raw_response()
                        .and_then(|r| r.headers().get("x-amz-bucket-region"))
                        .map(str::to_owned),
                )),
                _ => Err(sdk_error("s3:HeadBucket", e)),
            };
        }
        let out = self
            .s3
            .list_objects_v2()
            .bucket(name)
            .max_keys(1)
            .send()
            .await
            .map_err(|e| sdk_error("s3:ListObjectsV2", e))?;
        Ok(BucketState::Owned {
            holds_objects: out.key_count().unwrap_or(0) > 0 || !out.contents().is_empty(),
        })
    }

    async fn queue_url(&self, name: &str) -> Result<Option<String>> {
        match self.sqs.get_queue_url().queue_name(name).send().await {
            Ok(out) => Ok(out.queue_url().map(str::to_owned)),
            Err(e) => {
                let gone = e.as_service_error().is_some_and(|s| {
                    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
                    s.is_queue_does_not_exist()
                        || s.code().is_some_and(|c| c.contains("NonExistentQueue"))
                });
                if gone {
                    Ok(None)
                } else {
                    Err(sdk_error("sqs:GetQueueUrl", e))
                }
            }
        }
    }

    async fn topic_exists(&self, arn: &str) -> Result<bool> {
        match self.sns.get_topic_attributes().topic_arn(arn).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception())
                {
                    Ok(false)
                } else {
                    Err(sdk_error("sns:GetTopicAttributes", e))
                }
            }
        }
    }

    async fn kms_alias_exists(&self, alias: &str) -> Result<bool> {
        let mut marker: Option<String> = None;
        // KMS pages by 100 at most; an account has at most a few thousand aliases per region.
        for _ in 0..1000 {
            let out = self
                .kms
                .list_aliases()
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| sdk_error("kms:ListAliases", e))?;
            if out.aliases().iter().any(|a| a.alias_name() == Some(alias)) {
                return Ok(true);
            }
            match out.next_marker() {
                Some(m) if out.truncated() => marker = Some(m.to_owned()),
                _ => return Ok(false),
            }
        }
        Err(Error::Aws {
            operation: "kms:ListAliases".into(),
            message: "more than 1000 pages of aliases: stopped looking".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
    use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
    use aws_sdk_s3::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    fn config() -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .region(aws_config::Region::new("us-east-1"))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    fn head_status(status: u16) -> aws_smithy_mocks::Rule {
        mock!(Client::head_bucket)
            .match_requests(|r| r.expected_bucket_owner() == Some("123456789012"))
            .then_http_response(move || {
                Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty())
            })
    }

    #[tokio::test]
    async fn head_bucket_answers_say_whose_the_bucket_is() {
        for (status, expected) in [
            (404, BucketState::Missing),
            (403, BucketState::Forbidden),
            (301, BucketState::OtherRegion(None)),
        ] {
            let rule = head_status(status);
            let s3 = mock_client!(aws_sdk_s3, RuleMode::Sequential, [&rule]);
            let named = NamedClient::with_s3(s3, &config());
            assert_eq!(
                named.bucket("b", Some("123456789012")).await.unwrap(),
                expected,
                "{status}"
            );
        }
        let rule = head_status(500);
        let s3 = mock_client!(aws_sdk_s3, RuleMode::Sequential, [&rule]);
        let err = NamedClient::with_s3(s3, &config())
            .bucket("b", Some("123456789012"))
            .await;
        assert!(err.is_err());
    }

    #[tokio::test]
    async fn an_owned_bucket_says_whether_it_holds_objects() {
        for (count, holds) in [(1, true), (0, false)] {
            let head =
                mock!(Client::head_bucket).then_output(|| HeadBucketOutput::builder().build());
            let list = mock!(Client::list_objects_v2)
                .match_requests(|r| r.bucket() == Some("b") && r.max_keys() == Some(1))
                .then_output(move || ListObjectsV2Output::builder().key_count(count).build());
            let s3 = mock_client!(aws_sdk_s3, RuleMode::Sequential, [&head, &list]);
            let named = NamedClient::with_s3(s3, &config());
            assert_eq!(
                named.bucket("b", Some("123456789012")).await.unwrap(),
                BucketState::Owned {
                    holds_objects: holds
                }
            );
        }
    }
}
