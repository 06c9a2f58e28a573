//! Clients per account and region: [`Connect`] hands out the CloudFormation and change-set
//! clients for a stack; [`SdkConnect`] builds them from the SDK configuration, assuming the
//! account's `role_arn` through STS when one is set, and caches them per region and role.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use tokio::sync::Mutex;

use super::changeset::{ChangeSetClient, ChangeSets};
use super::cloudformation::{CfnClient, CloudFormation};
use super::drift::{DriftClient, StackDrift};
use super::iam::{Iam, IamClient};
use super::stack_ops::{StackOps, StackOpsClient};
use super::staging::{S3Staging, Staging};
use super::{load_config, AwsSettings};
use crate::error::{Error, Result};
use crate::project::Account;

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
    /// The registry, for audits.
    pub ecr: Arc<dyn crate::aws::ecr::Ecr>,
    /// Image operations, for the scan gate and promotion.
    pub images: Arc<dyn crate::aws::ecr_images::EcrImages>,
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
}

/// Hands out clients for a stack's account and region (the SDK in the CLI, fakes in tests).
#[async_trait]
pub trait Connect: Send + Sync {
    /// `region` None: the default region of the flags, the environment or the profile.
    async fn clients(&self, region: Option<&str>, account: Option<&Account>) -> Result<Clients>;
}

/// Clients are cached by region and assumed role.
type CacheKey = (Option<String>, Option<String>);

/// [`Connect`] through the AWS SDK.
pub struct SdkConnect {
    settings: AwsSettings,
    /// `defaults.template_bucket`: the bucket for templates over the inline limit.
    template_bucket: Option<String>,
    cache: Mutex<HashMap<CacheKey, Clients>>,
    /// The base configuration per region, shared by every role assumed there: one HTTP client
    /// (TLS setup, connection pool) per region rather than per account (`audit --org`).
    bases: Mutex<HashMap<Option<String>, SdkConfig>>,
}

impl SdkConnect {
    pub fn new(settings: AwsSettings, template_bucket: Option<String>) -> Self {
        SdkConnect {
            settings,
            template_bucket,
            cache: Mutex::new(HashMap::new()),
            bases: Mutex::new(HashMap::new()),
        }
    }

    /// The SDK configuration for a region, as the account's role when it has one.
    pub async fn config(
        &self,
        region: Option<&str>,
        account: Option<&Account>,
    ) -> Result<SdkConfig> {
        let base = {
            let mut bases = self.bases.lock().await;
            match bases.get(&region.map(str::to_owned)) {
                Some(b) => b.clone(),
                None => {
                    let b = load_config(&self.settings, region).await?;
                    bases.insert(region.map(str::to_owned), b.clone());
                    b
                }
            }
        };
        let Some(role_arn) = account.and_then(|a| a.role_arn.as_deref()) else {
            return Ok(base);
        };
        let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .session_name("little-stack")
            .configure(&base)
            .build()
            .await;
        Ok(base
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build())
    }
}

#[async_trait]
impl Connect for SdkConnect {
    async fn clients(&self, region: Option<&str>, account: Option<&Account>) -> Result<Clients> {
        let key = (
            region.map(str::to_owned),
            account.and_then(|a| a.role_arn.clone()),
        );
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
            ecr: Arc::new(crate::aws::ecr::EcrClient::new(&config)),
            images: Arc::new(crate::aws::ecr_images::EcrImagesClient::new(&config)),
            sns: Arc::new(crate::aws::sns::SnsClient::new(&config)),
            queue: Arc::new(crate::aws::pipeline::SqsQueue::new(&config)),
            reports: Arc::new(crate::aws::pipeline::S3Reports::new(&config)),
            org: Arc::new(crate::aws::organizations::OrgClient::new(&config)),
            stack_sets: Arc::new(crate::aws::stacksets::StackSetClient::new(&config)),
            stack_sets_delegated: Arc::new(crate::aws::stacksets::StackSetClient::delegated_admin(
                &config,
            )),
        };
        cache.insert(key, clients.clone());
        Ok(clients)
    }
}
