//! The image check pipeline's AWS calls: the SQS queue that ECR push events arrive on
//! ([`Queue`]) and the S3 bucket the reports go to ([`ReportStore`]), with their SDK adapters.
//! No SDK type leaves this file.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use super::sdk_error;
use crate::error::{Error, Result};

/// A message received from the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    /// What deletes it.
    pub receipt_handle: String,
    pub body: String,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// ReceiveMessage: up to `max` (at most 10) messages, waiting up to `wait` (at most 20 s)
    /// for the first.
    async fn receive(&self, queue_url: &str, max: i32, wait: Duration) -> Result<Vec<Message>>;
    /// DeleteMessage.
    async fn delete(&self, queue_url: &str, receipt_handle: &str) -> Result<()>;
}

/// How a report object is encrypted at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// SSE-S3.
    S3,
    /// SSE-KMS with this key (None: the account's `aws/s3` key).
    Kms(Option<String>),
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Whether the object exists (HeadObject).
    async fn exists(&self, bucket: &str, key: &str) -> Result<bool>;
    /// GetObject: the object's bytes, None when there is no such object; an object over
    /// `limit` bytes is an error (it is not read past the limit).
    async fn get(&self, bucket: &str, key: &str, limit: usize) -> Result<Option<Vec<u8>>>;
    /// PutObject, private and encrypted.
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        encryption: &Encryption,
    ) -> Result<()>;
    /// A presigned GET URL valid for `expires`.
    async fn presign(&self, bucket: &str, key: &str, expires: Duration) -> Result<String>;
    /// Whether the bucket holds any object (ListObjectsV2 of one key).
    async fn holds_objects(&self, bucket: &str) -> Result<bool>;
}

/// [`Queue`] through the SDK's SQS client.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
}

impl SqsQueue {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        SqsQueue {
            client: super::sdk_client!(aws_sdk_sqs, config),
        }
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn receive(&self, queue_url: &str, max: i32, wait: Duration) -> Result<Vec<Message>> {
        let out = self
            .client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(max.clamp(1, 10))
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
            )
            .send()
            .await
            .map_err(|e| sdk_error("sqs:ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                Some(Message {
                    id: m.message_id()?.to_owned(),
                    receipt_handle: m.receipt_handle()?.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                    receive_count: m
                        .attributes()
                        .and_then(|a| {
                            a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
                        })
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1),
                })
            })
            .collect())
    }

    async fn delete(&self, queue_url: &str, receipt_handle: &str) -> Result<()> {
        self.client
            .delete_message()
            .queue_url(queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| sdk_error("sqs:DeleteMessage", e))?;
        Ok(())
    }
}

/// [`ReportStore`] through the SDK's S3 client.
pub struct S3Reports {
    client: aws_sdk_s3::Client,
}

impl S3Reports {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        // Virtual-host addressing needs DNS that an endpoint override does not have.
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .interceptor(super::calls::CallCounter)
            .build();
        S3Reports {
            client: aws_sdk_s3::Client::from_conf(s3),
        }
    }
}

#[async_trait]
impl ReportStore for S3Reports {
    async fn holds_objects(&self, bucket: &str) -> Result<bool> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .max_keys(1)
            .send()
            .await
            .map_err(|e| sdk_error("s3:ListObjectsV2", e))?;
        Ok(out.key_count().unwrap_or(0) > 0 || !out.contents().is_empty())
    }

    async fn exists(&self, bucket: &str, key: &str) -> Result<bool> {
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                if e.as_service_error().is_some_and(|s| s.is_not_found()) {
                    Ok(false)
                } else {
                    Err(sdk_error("s3:HeadObject", e))
                }
            }
        }
    }

    async fn get(&self, bucket: &str, key: &str, limit: usize) -> Result<Option<Vec<u8>>> {
        let out = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                return if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                    Ok(None)
                } else {
                    Err(sdk_error("s3:GetObject", e))
                };
            }
        };
        let too_big = || Error::Aws {
            operation: "s3:GetObject".into(),
            message: format!("s3://{bucket}/{key} is over {limit} bytes"),
        };
        if out
            .content_length()
            .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > limit))
        {
            return Err(too_big());
        }
        let mut body = out.body;
        let mut bytes = Vec::new();
        while let Some(chunk) = body.try_next().await.map_err(|e| Error::Aws {
            operation: "s3:GetObject".into(),
            message: format!("reading s3://{bucket}/{key}: {e}"),
        })? {
            if bytes.len() + chunk.len() > limit {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(bytes))
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        encryption: &Encryption,
    ) -> Result<()> {
        let mut put = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body));
        put = match encryption {
            Encryption::S3 => put.server_side_encryption(ServerSideEncryption::Aes256),
            Encryption::Kms(key) => put
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .set_ssekms_key_id(key.clone()),
        };
        put.send().await.map_err(|e| sdk_error("s3:PutObject", e))?;
        Ok(())
    }

    async fn presign(&self, bucket: &str, key: &str, expires: Duration) -> Result<String> {
        let config = PresigningConfig::expires_in(expires).map_err(|e| {
            Error::Usage(format!(
                "a report link cannot last {} s: {e} (S3 allows up to 7 days)",
                expires.as_secs()
            ))
        })?;
        let request = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| sdk_error("s3:GetObject (presign)", e))?;
        Ok(request.uri().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
    use aws_sdk_s3::types::error::NoSuchKey;
    use aws_sdk_s3::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    #[tokio::test]
    async fn get_reads_an_object_within_its_limit() {
        let found = mock!(Client::get_object)
            .match_requests(|r| r.bucket() == Some("reports") && r.key() == Some("a.json"))
            .then_output(|| {
                GetObjectOutput::builder()
                    .body(ByteStream::from_static(b"{\"a\":1}"))
                    .build()
            });
        let missing = mock!(Client::get_object)
            .then_error(|| GetObjectError::NoSuchKey(NoSuchKey::builder().build()));
        let big = mock!(Client::get_object).then_output(|| {
            GetObjectOutput::builder()
                .body(ByteStream::from(vec![b'x'; 100]))
                .build()
        });
        let store = S3Reports {
            client: mock_client!(aws_sdk_s3, RuleMode::Sequential, [&found, &missing, &big]),
        };
        assert_eq!(
            store.get("reports", "a.json", 64).await.unwrap(),
            Some(b"{\"a\":1}".to_vec())
        );
        assert_eq!(store.get("reports", "b.json", 64).await.unwrap(), None);
        let err = store.get("reports", "c.json", 64).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("s3://reports/c.json is over 64 bytes"),
            "{err}"
        );
    }
}
