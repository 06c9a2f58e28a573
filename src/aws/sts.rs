//! Who the caller is: STS GetCallerIdentity behind the [`Identity`] trait.

use async_trait::async_trait;

use super::sdk_error;
use crate::error::Result;

/// The caller's identity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

#[async_trait]
pub trait Identity: Send + Sync {
    async fn caller_identity(&self) -> Result<CallerIdentity>;
}

/// [`Identity`] through the SDK's STS client.
pub struct StsIdentity {
    client: aws_sdk_sts::Client,
}

impl StsIdentity {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        StsIdentity {
            client: super::sdk_client!(aws_sdk_sts, config),
        }
    }
}

#[async_trait]
impl Identity for StsIdentity {
    async fn caller_identity(&self) -> Result<CallerIdentity> {
        let out = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| sdk_error("sts:GetCallerIdentity", e))?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
            user_id: out.user_id().unwrap_or_default().to_owned(),
        })
    }
}
