//! Template staging: CloudFormation takes inline template bodies up to 51,200 bytes; bigger
//! ones are uploaded to an S3 bucket and passed by URL. The bucket is created on first use,
//! encrypted, with public access blocked, a TLS-only policy, owner-enforced object ownership and
//! a lifecycle rule that expires staged templates after a week. Every call that takes it names
//! the deploying account as `ExpectedBucketOwner`, so a bucket of the same name owned by anyone
//! else is refused before a template is put in it (it could read or swap them).
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
    /// For the caller's account id, when the stack names no account (None: tests, which name
    /// one).
    sts: Option<super::sts::StsIdentity>,
    region: String,
    /// The endpoint override (the emulator): URLs are path style on it.
    endpoint: Option<String>,
    account_id: Option<String>,
    configured_bucket: Option<String>,
    /// The bucket and its owner's account id, once it is known to exist, be that account's
    /// and be secured.
    ready: Mutex<Option<Staged>>,
}

/// The staging bucket, known to exist and to belong to `owner`.
#[derive(Clone)]
struct Staged {
    bucket: String,
    /// The account id every call passes as `ExpectedBucketOwner`.
    owner: String,
}

/// The error for a bucket S3 says is not the account's: S3 answers HeadBucket with 403 when
/// `ExpectedBucketOwner` does not match (or when a policy denies the caller). Nothing is
/// uploaded to it.
fn not_ours(bucket: &str, account: &str) -> Error {
    Error::Refused(format!(
        "the template bucket `{bucket}` is not owned by account `{account}` (S3 answered 403 to HeadBucket with ExpectedBucketOwner `{account}`: another account owns it, or a policy denies this caller); no template was uploaded to it; name a bucket that account `{account}` owns in `defaults.template_bucket` in little.yaml"
    ))
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

/// The error of a call that configures a bucket just created. A bucket that exists is used as
/// it is: if configuring it fails half-way, say so, or the next run would use it without the
/// missing settings.
fn half_configured(bucket: &str, err: Error) -> Error {
    match err {
        Error::Aws { operation, message } => Error::Aws {
            operation,
            message: format!(
                "{message} (the template bucket `{bucket}` was created but is not fully configured: delete it so that the next run creates it again, or finish its configuration)"
            ),
        },
        other => other,
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
            .interceptor(super::calls::CallCounter)
            .build();
        S3Staging {
            client: aws_sdk_s3::Client::from_conf(s3_config),
            sts: Some(super::sts::StsIdentity::new(config)),
            account_id,
            configured_bucket: bucket,
            region,
            endpoint,
            ready: Mutex::new(None),
        }
    }

    /// Wraps a client built elsewhere (tests: a mock client), without an endpoint override.
    #[cfg(test)]
    fn from_client(
        client: aws_sdk_s3::Client,
        region: &str,
        account_id: &str,
        bucket: Option<String>,
    ) -> Self {
        S3Staging {
            client,
            sts: None,
            region: region.to_owned(),
            endpoint: None,
            account_id: Some(account_id.to_owned()),
            configured_bucket: bucket,
            ready: Mutex::new(None),
        }
    }

    /// Creates and secures the bucket unless it exists; refuses a bucket of another account.
    /// Returns the bucket's name and owner.
    async fn ensure_bucket(&self) -> Result<Staged> {
        use super::sts::Identity;
        let mut ready = self.ready.lock().await;
        if let Some(s) = ready.as_ref() {
            return Ok(s.clone());
        }
        // The account that must own the bucket: every call that can says so
        // (`ExpectedBucketOwner`), so that S3 refuses a bucket of anyone else.
        let owner = match (&self.account_id, &self.sts) {
            (Some(a), _) => a.clone(),
            (None, Some(sts)) => sts.caller_identity().await?.account,
            (None, None) => {
                return Err(Error::AwsConfig(
                    "no account id to check the template bucket's owner against".into(),
                ))
            }
        };
        let o = owner.as_str();
        let bucket = self
            .configured_bucket
            .clone()
            .unwrap_or_else(|| default_bucket(o, &self.region));
        let b = &bucket;
        match self
            .client
            .head_bucket()
            .bucket(b)
            .expected_bucket_owner(o)
            .send()
            .await
        {
            Ok(_) => {
                let staged = Staged { bucket, owner };
                *ready = Some(staged.clone());
                return Ok(staged);
            }
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                match status {
                    Some(404) => {}
                    // S3 redirects to the bucket's own region (AWS, not the emulator).
                    Some(301) => {
                        let elsewhere = e
                            .raw_response()
                            .and_then(|r| r.headers().get("x-amz-bucket-region"))
                            .map(|r| format!(" (`{r}`)"))
                            .unwrap_or_default();
                        return Err(Error::Aws {
                            operation: "s3:HeadBucket".into(),
                            message: format!(
                                "the template bucket `{b}` is in another region{elsewhere}, not `{}`; name a bucket of this region in `defaults.template_bucket`",
                                self.region
                            ),
                        });
                    }
                    // With ExpectedBucketOwner, S3 answers 403 for a bucket of another account:
                    // it could read or swap the templates CloudFormation deploys.
                    Some(403) => return Err(not_ours(b, o)),
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
        if let Err(e) = create.send().await {
            let service = e.as_service_error();
            if service.is_some_and(|s| s.is_bucket_already_exists()) {
                return Err(Error::Aws {
                    operation: "s3:CreateBucket".into(),
                    message: format!(
                        "the bucket name `{b}` is taken by another account; name another template bucket in `defaults.template_bucket` in little.yaml"
                    ),
                });
            }
            // Another run created it between HeadBucket and here: secure it all the same (the
            // calls below are idempotent).
            if !service.is_some_and(|s| s.is_bucket_already_owned_by_you()) {
                return Err(sdk_error("s3:CreateBucket", e));
            }
        }
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
            .expected_bucket_owner(o)
            .server_side_encryption_configuration(encryption)
            .send()
            .await
            .map_err(|e| half_configured(b, sdk_error("s3:PutBucketEncryption", e)))?;
        self.client
            .put_public_access_block()
            .bucket(b)
            .expected_bucket_owner(o)
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
            .map_err(|e| half_configured(b, sdk_error("s3:PutPublicAccessBlock", e)))?;
        self.client
            .put_bucket_ownership_controls()
            .bucket(b)
            .expected_bucket_owner(o)
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
            .map_err(|e| half_configured(b, sdk_error("s3:PutBucketOwnershipControls", e)))?;
        self.client
            .put_bucket_policy()
            .bucket(b)
            .expected_bucket_owner(o)
            .policy(tls_only_policy(b))
            .send()
            .await
            .map_err(|e| half_configured(b, sdk_error("s3:PutBucketPolicy", e)))?;
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
            .expected_bucket_owner(o)
            .lifecycle_configuration(lifecycle)
            .send()
            .await
            .map_err(|e| half_configured(b, sdk_error("s3:PutBucketLifecycleConfiguration", e)))?;
        let staged = Staged { bucket, owner };
        *ready = Some(staged.clone());
        Ok(staged)
    }
}

#[async_trait]
impl Staging for S3Staging {
    async fn upload_template(&self, stack: &str, body: &str) -> Result<String> {
        let Staged { bucket, owner } = self.ensure_bucket().await?;
        let key = template_key(stack, body);
        self.client
            .put_object()
            .bucket(&bucket)
            .expected_bucket_owner(&owner)
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
    use aws_sdk_s3::operation::create_bucket::{CreateBucketError, CreateBucketOutput};
    use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
    use aws_sdk_s3::operation::put_bucket_encryption::PutBucketEncryptionOutput;
    use aws_sdk_s3::operation::put_bucket_lifecycle_configuration::PutBucketLifecycleConfigurationOutput;
    use aws_sdk_s3::operation::put_bucket_ownership_controls::PutBucketOwnershipControlsOutput;
    use aws_sdk_s3::operation::put_bucket_policy::PutBucketPolicyOutput;
    use aws_sdk_s3::operation::put_object::PutObjectOutput;
    use aws_sdk_s3::operation::put_public_access_block::PutPublicAccessBlockOutput;
    use aws_sdk_s3::types::error::BucketAlreadyOwnedByYou;
    use aws_sdk_s3::Client;
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    const ACCOUNT: &str = "123456789012";

    fn staging(region: &'static str, bucket: Option<&str>, rules: &[&Rule]) -> S3Staging {
        let client = mock_client!(aws_sdk_s3, RuleMode::Sequential, rules, |c| c
            .region(aws_config::Region::new(region)));
        S3Staging::from_client(client, region, ACCOUNT, bucket.map(str::to_owned))
    }

    /// Whether a request names the account as the bucket's expected owner. Every rule below
    /// that can checks it: in sequential mode a request that a rule does not match fails the
    /// test, so a call without `ExpectedBucketOwner` cannot pass unnoticed. (CreateBucket has
    /// no such parameter: a bucket being created has no owner to check yet.)
    fn owned(expected_bucket_owner: Option<&str>) -> bool {
        expected_bucket_owner == Some(ACCOUNT)
    }

    fn head_status(status: u16) -> Rule {
        mock!(Client::head_bucket)
            .match_requests(|r| owned(r.expected_bucket_owner()))
            .then_http_response(move || {
                Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty())
            })
    }

    /// The calls that secure a bucket just created, each checked for what it sets.
    fn securing(bucket: &'static str) -> Vec<Rule> {
        vec![
            mock!(Client::put_bucket_encryption)
                .match_requests(move |r| {
                    let rule = &r.server_side_encryption_configuration().unwrap().rules()[0];
                    r.bucket() == Some(bucket)
                        && owned(r.expected_bucket_owner())
                        && rule
                            .apply_server_side_encryption_by_default()
                            .map(|d| d.sse_algorithm())
                            == Some(&ServerSideEncryption::Aes256)
                        && rule.bucket_key_enabled() == Some(true)
                })
                .then_output(|| PutBucketEncryptionOutput::builder().build()),
            mock!(Client::put_public_access_block)
                .match_requests(move |r| {
                    let c = r.public_access_block_configuration().unwrap();
                    r.bucket() == Some(bucket)
                        && owned(r.expected_bucket_owner())
                        && [
                            c.block_public_acls(),
                            c.ignore_public_acls(),
                            c.block_public_policy(),
                            c.restrict_public_buckets(),
                        ] == [Some(true); 4]
                })
                .then_output(|| PutPublicAccessBlockOutput::builder().build()),
            mock!(Client::put_bucket_ownership_controls)
                .match_requests(move |r| {
                    r.bucket() == Some(bucket)
                        && owned(r.expected_bucket_owner())
                        && r.ownership_controls().unwrap().rules()[0].object_ownership()
                            == &ObjectOwnership::BucketOwnerEnforced
                })
                .then_output(|| PutBucketOwnershipControlsOutput::builder().build()),
            mock!(Client::put_bucket_policy)
                .match_requests(move |r| {
                    let p: serde_json::Value = serde_json::from_str(r.policy().unwrap()).unwrap();
                    let st = &p["Statement"][0];
                    r.bucket() == Some(bucket)
                        && owned(r.expected_bucket_owner())
                        && st["Effect"] == "Deny"
                        && st["Action"] == "s3:*"
                        && st["Condition"]["Bool"]["aws:SecureTransport"] == "false"
                        && st["Resource"][1] == format!("arn:aws:s3:::{bucket}/*")
                })
                .then_output(|| PutBucketPolicyOutput::builder().build()),
            mock!(Client::put_bucket_lifecycle_configuration)
                .match_requests(move |r| {
                    let rule = &r.lifecycle_configuration().unwrap().rules()[0];
                    r.bucket() == Some(bucket)
                        && owned(r.expected_bucket_owner())
                        && rule.status() == &ExpirationStatus::Enabled
                        && rule.filter().and_then(|f| f.prefix()) == Some("templates/")
                        && rule.expiration().and_then(|e| e.days()) == Some(7)
                })
                .then_output(|| PutBucketLifecycleConfigurationOutput::builder().build()),
        ]
    }

    fn put_object(bucket: &'static str, key: String) -> Rule {
        mock!(Client::put_object)
            .match_requests(move |r| {
                r.bucket() == Some(bucket)
                    && owned(r.expected_bucket_owner())
                    && r.key() == Some(key.as_str())
                    && r.content_type() == Some("application/json")
                    && r.server_side_encryption() == Some(&ServerSideEncryption::Aes256)
            })
            .then_output(|| PutObjectOutput::builder().build())
    }

    #[tokio::test]
    async fn a_missing_bucket_is_created_in_the_region_and_secured() {
        let bucket = "little-templates-123456789012-eu-west-1";
        let body = "x".repeat(INLINE_LIMIT + 1);
        let key = template_key("app", &body);
        let head = head_status(404);
        let create = mock!(Client::create_bucket)
            .match_requests(move |r| {
                r.bucket() == Some(bucket)
                    && r.create_bucket_configuration()
                        .and_then(|c| c.location_constraint())
                        == Some(&BucketLocationConstraint::EuWest1)
            })
            .then_output(|| CreateBucketOutput::builder().build());
        let secure = securing(bucket);
        let put = put_object(bucket, key.clone());
        let put_again = put_object(bucket, key.clone());
        let mut rules = vec![&head, &create];
        rules.extend(secure.iter());
        rules.extend([&put, &put_again]);
        let staging = staging("eu-west-1", None, &rules);

        let url = staging.upload_template("app", &body).await.unwrap();
        assert_eq!(
            url,
            format!("https://{bucket}.s3.eu-west-1.amazonaws.com/{key}")
        );
        // The same body again: the same key, and the bucket is not looked at again.
        assert_eq!(staging.upload_template("app", &body).await.unwrap(), url);
        assert_eq!(head.num_calls(), 1);
        assert_eq!(create.num_calls(), 1);
        assert_eq!(put.num_calls() + put_again.num_calls(), 2);
        assert!(secure.iter().all(|r| r.num_calls() == 1));
    }

    #[tokio::test]
    async fn in_us_east_1_the_bucket_has_no_location_constraint() {
        let bucket = "little-templates-123456789012-us-east-1";
        let head = head_status(404);
        let create = mock!(Client::create_bucket)
            .match_requests(|r| r.create_bucket_configuration().is_none())
            .then_output(|| CreateBucketOutput::builder().build());
        let secure = securing(bucket);
        let put = put_object(bucket, template_key("app", "{}"));
        let mut rules = vec![&head, &create];
        rules.extend(secure.iter());
        rules.push(&put);
        let url = staging("us-east-1", None, &rules)
            .upload_template("app", "{}")
            .await
            .unwrap();
        assert!(url.starts_with(&format!(
            "https://{bucket}.s3.us-east-1.amazonaws.com/templates/app/"
        )));
        assert_eq!(create.num_calls(), 1);
    }

    #[tokio::test]
    async fn an_existing_bucket_is_used_as_it_is() {
        let head = mock!(Client::head_bucket)
            .match_requests(|r| {
                r.bucket() == Some("team-templates") && owned(r.expected_bucket_owner())
            })
            .then_output(|| HeadBucketOutput::builder().build());
        let put = put_object("team-templates", template_key("app", "{}"));
        let url = staging("eu-west-1", Some("team-templates"), &[&head, &put])
            .upload_template("app", "{}")
            .await
            .unwrap();
        assert!(url.starts_with("https://team-templates.s3.eu-west-1.amazonaws.com/templates/app/"));
        assert_eq!(put.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_bucket_of_another_account_is_refused_by_name() {
        let head = head_status(403);
        let head_again = head_status(403);
        let put = put_object("someone-elses", template_key("app", "{}"));
        let staging = staging(
            "eu-west-1",
            Some("someone-elses"),
            &[&head, &head_again, &put],
        );
        let err = staging.upload_template("app", "{}").await.unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::REFUSED, "{err}");
        let message = err.to_string();
        assert!(
            message.contains(
                "the template bucket `someone-elses` is not owned by account `123456789012`"
            ),
            "{message}"
        );
        assert!(message.contains("`defaults.template_bucket`"), "{message}");
        assert_eq!(put.num_calls(), 0);
        // It stays refused: the bucket was not remembered as ready.
        assert!(staging.upload_template("app", "{}").await.is_err());
        assert_eq!(head_again.num_calls(), 1);
        assert_eq!(put.num_calls(), 0);
    }

    #[tokio::test]
    async fn the_default_bucket_of_another_account_is_refused_and_not_created() {
        // Someone else made `little-templates-<our account>-<region>` before us.
        let bucket = "little-templates-123456789012-eu-west-1";
        let head = head_status(403);
        let create =
            mock!(Client::create_bucket).then_output(|| CreateBucketOutput::builder().build());
        let put = put_object(bucket, template_key("app", "{}"));
        let err = staging("eu-west-1", None, &[&head, &create, &put])
            .upload_template("app", "{}")
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::REFUSED, "{err}");
        assert!(err.to_string().contains(&format!("`{bucket}`")), "{err}");
        assert_eq!(head.num_calls(), 1);
        assert_eq!(create.num_calls() + put.num_calls(), 0);
    }

    #[tokio::test]
    async fn a_bucket_in_another_region_is_refused_with_its_region() {
        let head = mock!(Client::head_bucket).then_http_response(|| {
            let mut r = Response::new(StatusCode::try_from(301).unwrap(), SdkBody::empty());
            r.headers_mut().insert("x-amz-bucket-region", "us-west-2");
            r
        });
        let err = staging("eu-west-1", Some("team-templates"), &[&head])
            .upload_template("app", "{}")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`team-templates` is in another region (`us-west-2`), not `eu-west-1`"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_bucket_created_meanwhile_is_secured_all_the_same() {
        let bucket = "little-templates-123456789012-eu-west-1";
        let head = head_status(404);
        let create = mock!(Client::create_bucket).then_error(|| {
            CreateBucketError::BucketAlreadyOwnedByYou(BucketAlreadyOwnedByYou::builder().build())
        });
        let secure = securing(bucket);
        let put = put_object(bucket, template_key("app", "{}"));
        let mut rules = vec![&head, &create];
        rules.extend(secure.iter());
        rules.push(&put);
        staging("eu-west-1", None, &rules)
            .upload_template("app", "{}")
            .await
            .unwrap();
        assert!(secure.iter().all(|r| r.num_calls() == 1));
        assert_eq!(put.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_half_configured_bucket_is_named_in_the_error() {
        let bucket = "little-templates-123456789012-eu-west-1";
        let head = head_status(404);
        let create =
            mock!(Client::create_bucket).then_output(|| CreateBucketOutput::builder().build());
        let encryption = mock!(Client::put_bucket_encryption).then_error(|| {
            aws_sdk_s3::operation::put_bucket_encryption::PutBucketEncryptionError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDenied")
                    .message("Access Denied")
                    .build(),
            )
        });
        let err = staging("eu-west-1", None, &[&head, &create, &encryption])
            .upload_template("app", "{}")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("s3:PutBucketEncryption failed: AccessDenied: Access Denied"),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "`{bucket}` was created but is not fully configured"
            )),
            "{err}"
        );
    }

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
