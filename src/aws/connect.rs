//! Clients per account and region: [`Connect`] hands out the CloudFormation and change-set
//! clients for a stack, and says who they act as (the account guard compares that with the
//! stack's account); [`SdkConnect`] builds them from the SDK configuration, assuming the
//! account's `role_arn` through STS when one is set, and caches them, and the caller's
//! identity, per region and role: one GetCallerIdentity per target, not per stack.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use tokio::sync::{Mutex, OnceCell};

use super::changeset::{ChangeSetClient, ChangeSets};
use super::cloudformation::{CfnClient, CloudFormation};
use super::credentials::CredentialSource;
use super::drift::{DriftClient, StackDrift};
use super::iam::{Iam, IamClient};
use super::stack_ops::{StackOps, StackOpsClient};
use super::staging::{S3Staging, Staging};
use super::sts::{CallerIdentity, Identity, StsIdentity};
use super::{load, AwsSettings, Loaded};
use crate::error::{Error, Result};

/// An account that stacks deploy to, as `little.yaml` names it: the label, the 12-digit id, and
/// the role to assume in it (none: the caller's own credentials act there).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub name: String,
    pub id: String,
    pub role_arn: Option<String>,
}

/// AWS clients for one account and region.
#[derive(Clone)]
pub struct Clients {
    pub region: String,
    pub cfn: Arc<dyn CloudFormation>,
    pub change_sets: Arc<dyn ChangeSets>,
    pub ops: Arc<dyn StackOps>,
    /// Where templates over CloudFormation's inline limit go.
    pub staging: Arc<dyn Staging>,
    /// Drift detection, and live ECR repositories to compare directly.
    pub drift: Arc<dyn StackDrift>,
    pub iam: Arc<dyn Iam>,
    /// Whether buckets, queues, topics and KMS aliases exist by name (`little adopt`).
    pub named: Arc<dyn crate::aws::named::Named>,
    /// The registry, for audits.
    pub ecr: Arc<dyn crate::aws::ecr::Ecr>,
    /// What runs (ECS, Lambda), for the audit's images in use.
    pub workloads: Arc<dyn crate::aws::workloads::Workloads>,
    /// Image operations, for the scan gate and promotion.
    pub images: Arc<dyn crate::aws::ecr_images::EcrImages>,
    /// ECR's own lifecycle policy preview (`little ecr lifecycle-preview --ecr`).
    pub lifecycle: Arc<dyn crate::aws::ecr_lifecycle::LifecyclePreviews>,
    /// Notifications.
    pub sns: Arc<dyn crate::aws::sns::Publish>,
    /// The image check pipeline's queue.
    pub queue: Arc<dyn crate::aws::pipeline::Queue>,
    /// The image check pipeline's report bucket.
    pub reports: Arc<dyn crate::aws::pipeline::ReportStore>,
    /// AWS Organizations (read-only), for `--org` audits and StackSet OU targets.
    pub org: Arc<dyn crate::aws::organizations::Organization>,
    /// StackSets administered from this account and region, as its management account.
    pub stack_sets: Arc<dyn crate::aws::stacksets::StackSets>,
    /// The same, as a delegated administrator (`stack_set.call_as: DELEGATED_ADMIN`).
    pub stack_sets_delegated: Arc<dyn crate::aws::stacksets::StackSets>,
    /// Who these clients act as, once the account guard checked it
    /// (`context::clients_for`); none from [`Connect::clients`] itself.
    pub caller: Option<Caller>,
}

/// Who the clients of a region and account act as.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Caller {
    /// STS GetCallerIdentity with the credentials the clients use.
    pub identity: CallerIdentity,
    /// The region the clients call.
    pub region: String,
    /// Where the credentials come from.
    pub credentials: CredentialSource,
}

/// Hands out clients for a stack's account and region (the SDK in the CLI, fakes in tests).
#[async_trait]
pub trait Connect: Send + Sync {
    /// `region` None: the default region of the flags, the environment or the profile.
    async fn clients(&self, region: Option<&str>, account: Option<&Account>) -> Result<Clients>;

    /// Who the clients of `region` and `account` act as: STS GetCallerIdentity with the
    /// credentials they use (after assuming the account's `role_arn`), and where those
    /// credentials come from.
    async fn caller(&self, region: Option<&str>, account: Option<&Account>) -> Result<Caller>;
}

/// Clients are cached by region and assumed role.
type CacheKey = (Option<String>, Option<String>);

fn cache_key(region: Option<&str>, account: Option<&Account>) -> CacheKey {
    (
        region.map(str::to_owned),
        account.and_then(|a| a.role_arn.clone()),
    )
}

/// [`Connect`] through the AWS SDK.
pub struct SdkConnect {
    settings: AwsSettings,
    /// `defaults.template_bucket`: the bucket for templates over the inline limit.
    template_bucket: Option<String>,
    cache: Mutex<HashMap<CacheKey, Clients>>,
    /// The base configuration per region, shared by every role assumed there: one HTTP client
    /// (TLS setup, connection pool) per region rather than per account (`audit --org`).
    bases: Mutex<HashMap<Option<String>, Loaded>>,
    /// The configuration per region and role, shared by the clients and the caller's identity
    /// (one set of assumed-role credentials).
    targets: Mutex<HashMap<CacheKey, Loaded>>,
    /// The caller's identity per region and role, asked once even when stacks ask at once.
    callers: Mutex<HashMap<CacheKey, Arc<OnceCell<Caller>>>>,
}

impl SdkConnect {
    pub fn new(settings: AwsSettings, template_bucket: Option<String>) -> Self {
        SdkConnect {
            settings,
            template_bucket,
            cache: Mutex::new(HashMap::new()),
            bases: Mutex::new(HashMap::new()),
            targets: Mutex::new(HashMap::new()),
            callers: Mutex::new(HashMap::new()),
        }
    }

    /// The SDK configuration for a region, as the account's role when it has one.
    pub async fn config(
        &self,
        region: Option<&str>,
        account: Option<&Account>,
    ) -> Result<SdkConfig> {
        self.target(region, account).await.map(|t| t.config)
    }

    /// The configuration of a region and account, and where its credentials come from.
    async fn target(&self, region: Option<&str>, account: Option<&Account>) -> Result<Loaded> {
        let key = cache_key(region, account);
        let mut targets = self.targets.lock().await;
        if let Some(t) = targets.get(&key) {
            return Ok(t.clone());
        }
        let base = {
            let mut bases = self.bases.lock().await;
            match bases.get(&region.map(str::to_owned)) {
                Some(b) => b.clone(),
                None => {
                    let b = load(&self.settings, region).await?;
                    bases.insert(region.map(str::to_owned), b.clone());
                    b
                }
            }
        };
        let target = match account.and_then(|a| a.role_arn.as_deref()) {
            None => base,
            Some(role_arn) => {
                let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                    .session_name("little-stack")
                    .configure(&base.config)
                    .build()
                    .await;
                Loaded {
                    config: base
                        .config
                        .into_builder()
                        .credentials_provider(
                            aws_credential_types::provider::SharedCredentialsProvider::new(
                                provider,
                            ),
                        )
                        .build(),
                    source: CredentialSource::AssumedRole {
                        role_arn: role_arn.to_owned(),
                        base: Box::new(base.source),
                    },
                }
            }
        };
        targets.insert(key, target.clone());
        Ok(target)
    }
}

#[async_trait]
impl Connect for SdkConnect {
    async fn clients(&self, region: Option<&str>, account: Option<&Account>) -> Result<Clients> {
        let key = cache_key(region, account);
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.get(&key) {
            return Ok(c.clone());
        }
        let config = self.config(region, account).await?;
        let region = config
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| Error::AwsConfig("no AWS region".into()))?;
        let clients = Clients {
            staging: Arc::new(S3Staging::new(
                &config,
                account.map(|a| a.id.clone()),
                self.template_bucket.clone(),
            )),
            region,
            cfn: Arc::new(CfnClient::new(&config)),
            change_sets: Arc::new(ChangeSetClient::new(&config)),
            ops: Arc::new(StackOpsClient::new(&config)),
            drift: Arc::new(DriftClient::new(&config)),
            iam: Arc::new(IamClient::new(&config)),
            named: Arc::new(crate::aws::named::NamedClient::new(&config)),
            ecr: Arc::new(crate::aws::ecr::EcrClient::new(&config)),
            workloads: Arc::new(crate::aws::workloads::WorkloadsClient::new(&config)),
            images: Arc::new(crate::aws::ecr_images::EcrImagesClient::new(&config)),
            lifecycle: Arc::new(crate::aws::ecr_lifecycle::EcrLifecycleClient::new(&config)),
            sns: Arc::new(crate::aws::sns::SnsClient::new(&config)),
            queue: Arc::new(crate::aws::pipeline::SqsQueue::new(&config)),
            reports: Arc::new(crate::aws::pipeline::S3Reports::new(&config)),
            org: Arc::new(crate::aws::organizations::OrgClient::new(&config)),
            stack_sets: Arc::new(crate::aws::stacksets::StackSetClient::new(&config)),
            stack_sets_delegated: Arc::new(crate::aws::stacksets::StackSetClient::delegated_admin(
                &config,
            )),
            caller: None,
        };
        cache.insert(key, clients.clone());
        Ok(clients)
    }

    async fn caller(&self, region: Option<&str>, account: Option<&Account>) -> Result<Caller> {
        let cell = {
            let mut callers = self.callers.lock().await;
            callers
                .entry(cache_key(region, account))
                .or_default()
                .clone()
        };
        let caller = cell
            .get_or_try_init(|| async {
                let target = self.target(region, account).await?;
                let region = target
                    .config
                    .region()
                    .map(|r| r.to_string())
                    .ok_or_else(|| Error::AwsConfig("no AWS region".into()))?;
                let identity = StsIdentity::new(&target.config)
                    .caller_identity()
                    .await
                    .map_err(|e| naming_source(e, &target.source))?;
                Ok::<_, Error>(Caller {
                    identity,
                    region,
                    credentials: target.source,
                })
            })
            .await?;
        Ok(caller.clone())
    }
}

/// An STS failure with where the credentials come from in place of the generic hint about
/// missing credentials: with a profile or a role, that hint would point the wrong way.
fn naming_source(err: Error, source: &CredentialSource) -> Error {
    match err {
        Error::Aws { operation, message } => {
            let message = message
                .split("; no AWS credentials were found")
                .next()
                .unwrap_or_default()
                .trim_end();
            Error::Aws {
                operation,
                message: format!("{message}; the credentials come from {source}"),
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_identity_names_where_the_credentials_come_from() {
        let err = naming_source(
            Error::Aws {
                operation: "sts:GetCallerIdentity".into(),
                message: "an error occurred while loading credentials: exited with 1\n; no AWS credentials were found: set AWS_PROFILE".into(),
            },
            &CredentialSource::Process {
                profile: "ci".into(),
            },
        );
        assert_eq!(
            err.to_string(),
            "sts:GetCallerIdentity failed: an error occurred while loading credentials: exited with 1; the credentials come from the credential_process of profile `ci`"
        );
    }
}
