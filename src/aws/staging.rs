//! Template staging: CloudFormation takes inline template bodies up to 51,200 bytes; bigger
//! ones are uploaded to an S3 bucket and passed by URL. The bucket is created on first use,
//! encrypted, with public access blocked, a TLS-only policy, owner-enforced object ownership and
//! a lifecycle rule that expires staged templates after a week.
//!
//! No SDK type leaves this file.

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, CreateBucketConfiguration,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, ObjectOwnership,
    OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use super::sdk_error;
use crate::error::{Error, Result};

/// CloudFormation's limit for an inline template body.
pub const INLINE_LIMIT: usize = 51_200;

/// Whether a template body must be uploaded.
pub fn needs_staging(body: &str) -> bool {
    body.len() > INLINE_LIMIT
}

/// Where a template too big to send inline is put.
#[async_trait]
pub trait Staging: Send + Sync {
    /// Uploads `body` and returns an HTTPS URL CloudFormation can read (TemplateURL).
    async fn upload_template(&self, stack: &str, body: &str) -> Result<String>;
}

/// [`Staging`] in an S3 bucket of the account.
pub struct S3Staging {
    client: aws_sdk_s3::Client,
    /// For the caller's account id, when the stack names no account.
    sts: super::sts::StsIdentity,
    region: String,
    /// The endpoint override (the emulator): URLs are path style on it.
    endpoint: Option<String>,
    account_id: Option<String>,
    configured_bucket: Option<String>,
    /// The bucket, once it is known to exist and be secured.
    ready: Mutex<Option<String>>,
}

/// The default bucket name: `little-templates-<account>-<region>`.
pub fn default_bucket(account_id: &str, region: &str) -> String {
    format!("little-templates-{account_id}-{region}")
}

/// The object key of a template: stable for the same body, so re-uploads are idempotent.
pub fn template_key(stack: &str, body: &str) -> String {
    format!(
        "templates/{stack}/{}.json",
        hex::encode(Sha256::digest(body.as_bytes()))
    )
}

/// The URL CloudFormation reads the template from.
pub fn template_url(endpoint: Option<&str>, bucket: &str, region: &str, key: &str) -> String {
    match endpoint {
        Some(e) => format!("{}/{bucket}/{key}", e.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
    }
}

/// The bucket policy: no request without TLS.
fn tls_only_policy(bucket: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyPlainHttp",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }]
    })
    .to_string()
}

impl S3Staging {
    /// `bucket`: the configured name, or None for [`default_bucket`] (of `account_id`, or of the
    /// caller's account, asked of STS on first use).
    pub fn new(
        config: &aws_config::SdkConfig,
        account_id: Option<String>,
        bucket: Option<String>,
    ) -> Self {
        let region = config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into());
        let endpoint = config.endpoint_url().map(str::to_owned);
        // Virtual-host addressing needs DNS that an endpoint override does not have.
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(endpoint.is_some())
            .build();
        S3Staging {
            client: aws_sdk_s3::Client::from_conf(s3_config),
            sts: super::sts::StsIdentity::new(config),
            account_id,
            configured_bucket: bucket,
            region,
            endpoint,
            ready: Mutex::new(None),
        }
    }

    /// Creates and secures the bucket unless it exists; refuses a bucket of another account.
    /// Returns the bucket's name.
    async fn ensure_bucket(&self) -> Result<String> {
        use super::sts::Identity;
        let mut ready = self.ready.lock().await;
        if let Some(b) = ready.as_ref() {
            return Ok(b.clone());
        }
        let bucket = match (&self.configured_bucket, &self.account_id) {
            (Some(b), _) => b.clone(),
            (None, Some(a)) => default_bucket(a, &self.region),
            (None, None) => {
                default_bucket(&self.sts.caller_identity().await?.account, &self.region)
            }
        };
        let b = &bucket;
        match self.client.head_bucket().bucket(b).send().await {
            Ok(_) => {
                *ready = Some(bucket.clone());
                return Ok(bucket);
            }
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                match status {
                    Some(404) => {}
                    Some(403) => {
                        return Err(Error::Aws {
                            operation: "s3:HeadBucket".into(),
                            message: format!(
                                "the template bucket `{b}` exists but this account cannot use it (it belongs to another account, or a policy denies it); set `defaults.template_bucket` in little.yaml"
                            ),
                        })
                    }
                    _ => return Err(sdk_error("s3:HeadBucket", e)),
                }
            }
        }
        let mut create = self.client.create_bucket().bucket(b);
        if self.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        create
            .send()
            .await
            .map_err(|e| sdk_error("s3:CreateBucket", e))?;
        let build = |what: &str, e: aws_sdk_s3::error::BuildError| Error::Aws {
            operation: what.to_owned(),
            message: e.to_string(),
        };
        let encryption = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(
                        ServerSideEncryptionByDefault::builder()
                            .sse_algorithm(ServerSideEncryption::Aes256)
                            .build()
                            .map_err(|e| build("s3:PutBucketEncryption", e))?,
                    )
                    .bucket_key_enabled(true)
                    .build(),
            )
            .build()
            .map_err(|e| build("s3:PutBucketEncryption", e))?;
        self.client
            .put_bucket_encryption()
            .bucket(b)
            .server_side_encryption_configuration(encryption)
            .send()
            .await
            .map_err(|e| sdk_error("s3:PutBucketEncryption", e))?;
        self.client
            .put_public_access_block()
            .bucket(b)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("s3:PutPublicAccessBlock", e))?;
        self.client
            .put_bucket_ownership_controls()
            .bucket(b)
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(
                        OwnershipControlsRule::builder()
                            .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                            .build()
                            .map_err(|e| build("s3:PutBucketOwnershipControls", e))?,
                    )
                    .build()
                    .map_err(|e| build("s3:PutBucketOwnershipControls", e))?,
            )
            .send()
            .await
            .map_err(|e| sdk_error("s3:PutBucketOwnershipControls", e))?;
        self.client
            .put_bucket_policy()
            .bucket(b)
            .policy(tls_only_policy(b))
            .send()
            .await
            .map_err(|e| sdk_error("s3:PutBucketPolicy", e))?;
        let lifecycle = BucketLifecycleConfiguration::builder()
            .rules(
                LifecycleRule::builder()
                    .id("expire-staged-templates")
                    .status(ExpirationStatus::Enabled)
                    .filter(LifecycleRuleFilter::builder().prefix("templates/").build())
                    .expiration(LifecycleExpiration::builder().days(7).build())
                    .build()
                    .map_err(|e| build("s3:PutBucketLifecycleConfiguration", e))?,
            )
            .build()
            .map_err(|e| build("s3:PutBucketLifecycleConfiguration", e))?;
        self.client
            .put_bucket_lifecycle_configuration()
            .bucket(b)
            .lifecycle_configuration(lifecycle)
            .send()
            .await
            .map_err(|e| sdk_error("s3:PutBucketLifecycleConfiguration", e))?;
        *ready = Some(bucket.clone());
        Ok(bucket)
    }
}

#[async_trait]
impl Staging for S3Staging {
    async fn upload_template(&self, stack: &str, body: &str) -> Result<String> {
        let bucket = self.ensure_bucket().await?;
        let key = template_key(stack, body);
        self.client
            .put_object()
            .bucket(&bucket)
            .key(&key)
            .content_type("application/json")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .map_err(|e| sdk_error("s3:PutObject", e))?;
        Ok(template_url(
            self.endpoint.as_deref(),
            &bucket,
            &self.region,
            &key,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_keys() {
        let key = template_key("ecr-repositories", "{}");
        assert!(key.starts_with("templates/ecr-repositories/"), "{key}");
        assert!(key.ends_with(".json"));
        assert_eq!(key, template_key("ecr-repositories", "{}"));
        assert_ne!(key, template_key("ecr-repositories", "{ }"));
        assert_eq!(
            template_url(None, "b", "eu-west-1", "templates/s/x.json"),
            "https://b.s3.eu-west-1.amazonaws.com/templates/s/x.json"
        );
        assert_eq!(
            template_url(Some("http://127.0.0.1:5000/"), "b", "us-east-1", "k"),
            "http://127.0.0.1:5000/b/k"
        );
        assert_eq!(
            default_bucket("123456789012", "us-east-1"),
            "little-templates-123456789012-us-east-1"
        );
    }

    #[test]
    fn only_big_templates_are_staged() {
        assert!(!needs_staging(&"x".repeat(INLINE_LIMIT)));
        assert!(needs_staging(&"x".repeat(INLINE_LIMIT + 1)));
    }

    #[test]
    fn the_policy_denies_plain_http() {
        let p: serde_json::Value = serde_json::from_str(&tls_only_policy("b")).unwrap();
        assert_eq!(p["Statement"][0]["Effect"], "Deny");
        assert_eq!(
            p["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"],
            "false"
        );
    }
}
