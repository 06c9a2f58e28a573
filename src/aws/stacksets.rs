//! CloudFormation StackSets: [`StackSets`], the calls `little` makes to deploy one template
//! to many accounts and regions, with its SDK adapter, and [`wait_for_operation`], which polls
//! a StackSet operation until it ends.
//!
//! A StackSet runs one operation at a time (create, update or delete instances, drift
//! detection); each operation has per-account, per-region results with AWS's reasons.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types as t;
use serde::{Deserialize, Serialize};

use super::sdk_error;
use crate::error::{Error, Result};
use crate::poll::{poll_until, Poll};

/// A deployed StackSet, as DescribeStackSet returns it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackSetInfo {
    pub name: String,
    pub id: String,
    /// `ACTIVE` or `DELETED`.
    pub status: String,
    pub template_body: String,
    pub description: Option<String>,
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub capabilities: Vec<String>,
    /// `SERVICE_MANAGED` or `SELF_MANAGED`.
    pub permission_model: String,
    pub administration_role_arn: Option<String>,
    pub execution_role_name: Option<String>,
    pub auto_deployment: Option<AutoDeployment>,
    /// Service-managed: the OUs (or root) the instances were deployed to.
    pub organizational_units: Vec<String>,
    /// The last drift detection: `DRIFTED`, `IN_SYNC`, `NOT_CHECKED`; None when never run.
    pub drift_status: Option<String>,
    pub drifted_instances: Option<i32>,
    pub last_drift_check: Option<String>,
}

impl StackSetInfo {
    /// Whether the last drift detection found drift (`DRIFTED`).
    pub fn has_drifted(&self) -> bool {
        super::drift::drifted(self.drift_status.as_deref()) == Some(true)
    }
}

/// Automatic deployment to accounts that join a target OU (service-managed only).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default,
)]
pub struct AutoDeployment {
    pub enabled: bool,
    /// Keep the stacks of an account that leaves the OU.
    pub retain_stacks_on_account_removal: bool,
}

/// What CreateStackSet and UpdateStackSet send.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackSetRequest {
    pub name: String,
    /// The template itself, or `template_url` for one staged in S3.
    pub template_body: String,
    pub template_url: Option<String>,
    pub description: Option<String>,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub capabilities: Vec<String>,
    pub permission_model: String,
    pub administration_role_arn: Option<String>,
    pub execution_role_name: Option<String>,
    pub auto_deployment: Option<AutoDeployment>,
}

/// Where instances go: the accounts under OUs (service-managed) or accounts (self-managed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Targets {
    OrganizationalUnits(Vec<String>),
    Accounts(Vec<String>),
}

impl Targets {
    pub fn is_empty(&self) -> bool {
        match self {
            Targets::OrganizationalUnits(v) | Targets::Accounts(v) => v.is_empty(),
        }
    }
}

impl std::fmt::Display for Targets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Targets::OrganizationalUnits(v) => write!(f, "OUs {}", v.join(", ")),
            Targets::Accounts(v) => write!(f, "accounts {}", v.join(", ")),
        }
    }
}

/// How fast an operation rolls out and how many failures it tolerates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OperationPreferences {
    /// Per region, the share of accounts deployed at once [default: AWS's, 1 account].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_percentage: Option<u8>,
    /// Per region, the share of accounts that may fail before the operation stops
    /// [default: 0].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_tolerance_percentage: Option<u8>,
    /// `parallel` or `sequential` (one region after the other, in the listed order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_concurrency: Option<RegionConcurrency>,
    /// With `sequential`: the regions in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub region_order: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RegionConcurrency {
    Parallel,
    Sequential,
}

/// One stack instance: a stack of the StackSet in one account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InstanceSummary {
    pub account: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizational_unit: Option<String>,
    /// `CURRENT`, `OUTDATED` or `INOPERABLE`.
    pub status: String,
    /// `PENDING`, `RUNNING`, `SUCCEEDED`, `FAILED`, `CANCELLED`, `INOPERABLE`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detailed_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// `DRIFTED`, `IN_SYNC`, `UNKNOWN`, `NOT_CHECKED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_id: Option<String>,
}

/// A StackSet operation's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationInfo {
    pub id: String,
    /// `CREATE`, `UPDATE`, `DELETE`, `DETECT_DRIFT`.
    pub action: String,
    /// `QUEUED`, `RUNNING`, `SUCCEEDED`, `FAILED`, `STOPPING`, `STOPPED`.
    pub status: String,
    pub status_reason: Option<String>,
    pub failed_instances: Option<i32>,
    /// When it started and ended (RFC 3339), where AWS says.
    pub created: Option<String>,
    pub ended: Option<String>,
}

impl OperationInfo {
    pub fn is_done(&self) -> bool {
        matches!(self.status.as_str(), "SUCCEEDED" | "FAILED" | "STOPPED")
    }
}

/// One account and region of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationResult {
    pub account: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizational_unit: Option<String>,
    /// `PENDING`, `RUNNING`, `SUCCEEDED`, `FAILED`, `CANCELLED`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl OperationResult {
    /// Whether the operation failed in this account and region.
    pub fn is_failed(&self) -> bool {
        self.status == "FAILED"
    }
}

impl std::fmt::Display for OperationResult {
    /// `111111111111 us-east-1 FAILED: reason`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}: {}",
            self.account,
            self.region,
            self.status,
            self.reason.as_deref().unwrap_or("no reason given")
        )
    }
}

/// The StackSet calls.
#[async_trait]
pub trait StackSets: Send + Sync {
    /// None when the StackSet does not exist (or was deleted).
    async fn describe_stack_set(&self, name: &str) -> Result<Option<StackSetInfo>>;
    /// Returns the StackSet id.
    async fn create_stack_set(&self, req: &StackSetRequest) -> Result<String>;
    /// Updates the template, parameters and settings of every instance; returns the
    /// operation id.
    async fn update_stack_set(
        &self,
        req: &StackSetRequest,
        prefs: &OperationPreferences,
    ) -> Result<String>;
    /// Every instance, all pages.
    async fn list_instances(&self, name: &str) -> Result<Vec<InstanceSummary>>;
    async fn create_instances(
        &self,
        name: &str,
        targets: &Targets,
        regions: &[String],
        prefs: &OperationPreferences,
    ) -> Result<String>;
    /// `retain`: keep the stacks (and their resources) but remove them from the StackSet.
    async fn delete_instances(
        &self,
        name: &str,
        targets: &Targets,
        regions: &[String],
        prefs: &OperationPreferences,
        retain: bool,
    ) -> Result<String>;
    async fn describe_operation(&self, name: &str, operation_id: &str) -> Result<OperationInfo>;
    /// Per account and region, all pages.
    async fn operation_results(
        &self,
        name: &str,
        operation_id: &str,
    ) -> Result<Vec<OperationResult>>;
    /// Starts drift detection on every instance; returns the operation id, or None when the
    /// endpoint does not implement DetectStackSetDrift.
    async fn detect_drift(
        &self,
        name: &str,
        prefs: &OperationPreferences,
    ) -> Result<Option<String>>;
    /// The StackSet's operations, newest first, all pages.
    async fn list_operations(&self, name: &str) -> Result<Vec<OperationInfo>>;
    /// Deletes an empty StackSet.
    async fn delete_stack_set(&self, name: &str) -> Result<()>;
}

/// Polls an operation until it succeeds, fails or stops, with backoff and a timeout;
/// `progress` hears each new status.
pub async fn wait_for_operation(
    sets: &dyn StackSets,
    name: &str,
    operation_id: &str,
    poll: Poll,
    progress: &mut (dyn FnMut(&OperationInfo) + Send),
) -> Result<OperationInfo> {
    let mut last_status = String::new();
    let waited = poll_until(
        poll,
        || sets.describe_operation(name, operation_id),
        |info: &OperationInfo| {
            if info.status != last_status {
                last_status = info.status.clone();
                progress(info);
            }
            info.is_done()
        },
    )
    .await?;
    waited.map_err(|info| Error::Aws {
        operation: format!("waiting for StackSet `{name}` operation {operation_id}"),
        message: format!(
            "it is still `{}` after {}; follow it with `little status {name}`",
            info.status,
            crate::duration::human(poll.timeout)
        ),
    })
}

/// [`StackSets`] through the SDK's CloudFormation client.
pub struct StackSetClient {
    client: aws_sdk_cloudformation::Client,
    /// `DELEGATED_ADMIN` when the caller is a delegated administrator of StackSets (not the
    /// management account); sent with every call.
    call_as: Option<t::CallAs>,
}

impl StackSetClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        StackSetClient {
            client: super::sdk_client!(aws_sdk_cloudformation, config),
            call_as: None,
        }
    }

    /// The client of a delegated administrator: every call says `CallAs: DELEGATED_ADMIN`.
    pub fn delegated_admin(config: &aws_config::SdkConfig) -> Self {
        StackSetClient {
            call_as: Some(t::CallAs::DelegatedAdmin),
            ..StackSetClient::new(config)
        }
    }

    #[cfg(test)]
    pub fn from_client(client: aws_sdk_cloudformation::Client, delegated: bool) -> Self {
        StackSetClient {
            client,
            call_as: delegated.then_some(t::CallAs::DelegatedAdmin),
        }
    }
}

fn is_missing_stack_set<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("StackSetNotFoundException")
}

fn parameters(list: &[(String, String)]) -> Vec<t::Parameter> {
    list.iter()
        .map(|(k, v)| {
            t::Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build()
        })
        .collect()
}

fn tags(list: &[(String, String)]) -> Result<Vec<t::Tag>> {
    Ok(list
        .iter()
        .map(|(k, v)| t::Tag::builder().key(k).value(v).build())
        .collect())
}

fn preferences(p: &OperationPreferences) -> t::StackSetOperationPreferences {
    t::StackSetOperationPreferences::builder()
        .set_max_concurrent_percentage(p.max_concurrent_percentage.map(i32::from))
        .set_failure_tolerance_percentage(p.failure_tolerance_percentage.map(i32::from))
        .set_region_concurrency_type(p.region_concurrency.map(|c| match c {
            RegionConcurrency::Parallel => t::RegionConcurrencyType::Parallel,
            RegionConcurrency::Sequential => t::RegionConcurrencyType::Sequential,
        }))
        .set_region_order((!p.region_order.is_empty()).then(|| p.region_order.clone()))
        .build()
}

fn auto_deployment(a: &AutoDeployment) -> t::AutoDeployment {
    t::AutoDeployment::builder()
        .enabled(a.enabled)
        .retain_stacks_on_account_removal(a.retain_stacks_on_account_removal)
        .build()
}

fn deployment_targets(targets: &Targets) -> t::DeploymentTargets {
    match targets {
        Targets::OrganizationalUnits(units) => t::DeploymentTargets::builder()
            .set_organizational_unit_ids(Some(units.clone()))
            .build(),
        Targets::Accounts(accounts) => t::DeploymentTargets::builder()
            .set_accounts(Some(accounts.clone()))
            .build(),
    }
}

fn permission_model(model: &str) -> t::PermissionModels {
    t::PermissionModels::from(model)
}

fn time_text(d: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    d.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

/// Sets what CreateStackSet and UpdateStackSet share (their builders are distinct types
/// with the same setters) from a [`StackSetRequest`].
macro_rules! with_request {
    ($call:expr, $req:expr, $call_as:expr) => {{
        let req: &StackSetRequest = $req;
        let call = $call
            .set_call_as($call_as.clone())
            .set_description(req.description.clone())
            .set_parameters(Some(parameters(&req.parameters)))
            .set_tags(Some(tags(&req.tags)?))
            .set_capabilities(Some(
                req.capabilities
                    .iter()
                    .map(|c| t::Capability::from(c.as_str()))
                    .collect(),
            ))
            .permission_model(permission_model(&req.permission_model))
            .set_administration_role_arn(req.administration_role_arn.clone())
            .set_execution_role_name(req.execution_role_name.clone())
            .set_auto_deployment(req.auto_deployment.as_ref().map(auto_deployment));
        match &req.template_url {
            Some(url) => call.template_url(url),
            None => call.template_body(&req.template_body),
        }
    }};
}

#[async_trait]
impl StackSets for StackSetClient {
    async fn describe_stack_set(&self, name: &str) -> Result<Option<StackSetInfo>> {
        let out = match self
            .client
            .describe_stack_set()
            .stack_set_name(name)
            .set_call_as(self.call_as.clone())
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error().is_some_and(|se| {
                    se.is_stack_set_not_found_exception() || is_missing_stack_set(se)
                }) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(sdk_error("cloudformation:DescribeStackSet", e)),
        };
        let Some(s) = out.stack_set() else {
            return Ok(None);
        };
        let status = s
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        if status == "DELETED" {
            return Ok(None);
        }
        let drift = s.stack_set_drift_detection_details();
        Ok(Some(StackSetInfo {
            name: s.stack_set_name().unwrap_or(name).to_owned(),
            id: s.stack_set_id().unwrap_or_default().to_owned(),
            status,
            template_body: s.template_body().unwrap_or_default().to_owned(),
            description: s.description().map(str::to_owned),
            parameters: s
                .parameters()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.parameter_key()?.to_owned(),
                        p.parameter_value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect(),
            tags: s
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                .collect(),
            capabilities: s
                .capabilities()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            permission_model: s
                .permission_model()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "SELF_MANAGED".into()),
            administration_role_arn: s.administration_role_arn().map(str::to_owned),
            execution_role_name: s.execution_role_name().map(str::to_owned),
            auto_deployment: s.auto_deployment().map(|a| AutoDeployment {
                enabled: a.enabled().unwrap_or(false),
                retain_stacks_on_account_removal: a
                    .retain_stacks_on_account_removal()
                    .unwrap_or(false),
            }),
            organizational_units: s.organizational_unit_ids().to_vec(),
            drift_status: drift
                .and_then(|d| d.drift_status())
                .map(|d| d.as_str().to_owned()),
            drifted_instances: drift.and_then(|d| d.drifted_stack_instances_count()),
            last_drift_check: time_text(drift.and_then(|d| d.last_drift_check_timestamp())),
        }))
    }

    async fn create_stack_set(&self, req: &StackSetRequest) -> Result<String> {
        let call = with_request!(
            self.client.create_stack_set().stack_set_name(&req.name),
            req,
            self.call_as
        );
        let out = call
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:CreateStackSet", e))?;
        Ok(out.stack_set_id().unwrap_or_default().to_owned())
    }

    async fn update_stack_set(
        &self,
        req: &StackSetRequest,
        prefs: &OperationPreferences,
    ) -> Result<String> {
        let call = with_request!(
            self.client
                .update_stack_set()
                .stack_set_name(&req.name)
                .operation_preferences(preferences(prefs)),
            req,
            self.call_as
        );
        let out = call
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:UpdateStackSet", e))?;
        Ok(out.operation_id().unwrap_or_default().to_owned())
    }

    async fn list_instances(&self, name: &str) -> Result<Vec<InstanceSummary>> {
        let items = self
            .client
            .list_stack_instances()
            .stack_set_name(name)
            .set_call_as(self.call_as.clone())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("cloudformation:ListStackInstances", e))?;
        let mut out: Vec<_> = items
            .iter()
            .map(|s| InstanceSummary {
                account: s.account().unwrap_or_default().to_owned(),
                region: s.region().unwrap_or_default().to_owned(),
                organizational_unit: s.organizational_unit_id().map(str::to_owned),
                status: s
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                detailed_status: s
                    .stack_instance_status()
                    .and_then(|c| c.detailed_status())
                    .map(|d| d.as_str().to_owned()),
                status_reason: s.status_reason().map(str::to_owned),
                drift_status: s.drift_status().map(|d| d.as_str().to_owned()),
                stack_id: s.stack_id().map(str::to_owned),
            })
            .collect();
        out.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        Ok(out)
    }

    async fn create_instances(
        &self,
        name: &str,
        targets: &Targets,
        regions: &[String],
        prefs: &OperationPreferences,
    ) -> Result<String> {
        let mut call = self
            .client
            .create_stack_instances()
            .stack_set_name(name)
            .set_call_as(self.call_as.clone())
            .set_regions(Some(regions.to_vec()))
            .operation_preferences(preferences(prefs));
        // As for deletes: self-managed StackSets name their accounts, service-managed ones
        // their OUs.
        call = match targets {
            Targets::Accounts(accounts) => call.set_accounts(Some(accounts.clone())),
            Targets::OrganizationalUnits(_) => call.deployment_targets(deployment_targets(targets)),
        };
        let out = call
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:CreateStackInstances", e))?;
        Ok(out.operation_id().unwrap_or_default().to_owned())
    }

    async fn delete_instances(
        &self,
        name: &str,
        targets: &Targets,
        regions: &[String],
        prefs: &OperationPreferences,
        retain: bool,
    ) -> Result<String> {
        let mut call = self
            .client
            .delete_stack_instances()
            .stack_set_name(name)
            .set_call_as(self.call_as.clone())
            .set_regions(Some(regions.to_vec()))
            .operation_preferences(preferences(prefs))
            .retain_stacks(retain);
        // Self-managed StackSets name their accounts (the older, flat form that every
        // implementation reads); service-managed ones name their OUs.
        call = match targets {
            Targets::Accounts(accounts) => call.set_accounts(Some(accounts.clone())),
            Targets::OrganizationalUnits(_) => call.deployment_targets(deployment_targets(targets)),
        };
        let out = call
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:DeleteStackInstances", e))?;
        Ok(out.operation_id().unwrap_or_default().to_owned())
    }

    async fn describe_operation(&self, name: &str, operation_id: &str) -> Result<OperationInfo> {
        let out = self
            .client
            .describe_stack_set_operation()
            .stack_set_name(name)
            .set_call_as(self.call_as.clone())
            .operation_id(operation_id)
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:DescribeStackSetOperation", e))?;
        let op = out.stack_set_operation().ok_or_else(|| Error::Aws {
            operation: "cloudformation:DescribeStackSetOperation".into(),
            message: format!("no operation {operation_id} in the answer"),
        })?;
        Ok(OperationInfo {
            id: op.operation_id().unwrap_or(operation_id).to_owned(),
            action: op
                .action()
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default(),
            status: op
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            status_reason: op.status_reason().map(str::to_owned),
            failed_instances: op
                .status_details()
                .and_then(|d| d.failed_stack_instances_count()),
            created: time_text(op.creation_timestamp()),
            ended: time_text(op.end_timestamp()),
        })
    }

    async fn list_operations(&self, name: &str) -> Result<Vec<OperationInfo>> {
        let items = self
            .client
            .list_stack_set_operations()
            .stack_set_name(name)
            .set_call_as(self.call_as.clone())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("cloudformation:ListStackSetOperations", e))?;
        let mut out: Vec<_> = items
            .iter()
            .map(|o| OperationInfo {
                id: o.operation_id().unwrap_or_default().to_owned(),
                action: o
                    .action()
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_default(),
                status: o
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                status_reason: o.status_reason().map(str::to_owned),
                failed_instances: o
                    .status_details()
                    .and_then(|d| d.failed_stack_instances_count()),
                created: time_text(o.creation_timestamp()),
                ended: time_text(o.end_timestamp()),
            })
            .collect();
        // Newest first, as DescribeStackEvents lists events.
        out.sort_by(|a, b| b.created.cmp(&a.created));
        Ok(out)
    }

    async fn operation_results(
        &self,
        name: &str,
        operation_id: &str,
    ) -> Result<Vec<OperationResult>> {
        let items = self
            .client
            .list_stack_set_operation_results()
            .stack_set_name(name)
            .set_call_as(self.call_as.clone())
            .operation_id(operation_id)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("cloudformation:ListStackSetOperationResults", e))?;
        let mut out: Vec<_> = items
            .iter()
            .map(|s| OperationResult {
                account: s.account().unwrap_or_default().to_owned(),
                region: s.region().unwrap_or_default().to_owned(),
                organizational_unit: s.organizational_unit_id().map(str::to_owned),
                status: s
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                reason: s.status_reason().map(str::to_owned),
            })
            .collect();
        out.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        Ok(out)
    }

    async fn detect_drift(
        &self,
        name: &str,
        prefs: &OperationPreferences,
    ) -> Result<Option<String>> {
        match self
            .client
            .detect_stack_set_drift()
            .stack_set_name(name)
            .set_call_as(self.call_as.clone())
            .operation_preferences(preferences(prefs))
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.operation_id().unwrap_or_default().to_owned())),
            Err(e) if super::drift::unavailable(&e) => Ok(None),
            Err(e) => Err(sdk_error("cloudformation:DetectStackSetDrift", e)),
        }
    }

    async fn delete_stack_set(&self, name: &str) -> Result<()> {
        self.client
            .delete_stack_set()
            .stack_set_name(name)
            .set_call_as(self.call_as.clone())
            .send()
            .await
            .map_err(|e| sdk_error("cloudformation:DeleteStackSet", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use aws_sdk_cloudformation::operation::describe_stack_set::DescribeStackSetError;
    use aws_sdk_cloudformation::operation::describe_stack_set_operation::DescribeStackSetOperationOutput;
    use aws_sdk_cloudformation::operation::list_stack_set_operation_results::ListStackSetOperationResultsOutput;
    use aws_sdk_cloudformation::operation::update_stack_set::UpdateStackSetOutput;
    use aws_sdk_cloudformation::types::error::StackSetNotFoundException;
    use aws_sdk_cloudformation::types::{
        AccountGateResult, AccountGateStatus, StackSetOperation, StackSetOperationAction,
        StackSetOperationResultStatus, StackSetOperationResultSummary, StackSetOperationStatus,
        StackSetOperationStatusDetails,
    };
    use aws_sdk_cloudformation::Client;
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};

    const SET: &str = "iam-audit";
    const OPERATION: &str = "3e1b4d4c-5f0a-4c7d-9d2e-1f0b6c9a7e21";
    const FAILED_REASON: &str = "ResourceLogicalId:AuditRole, ResourceType:AWS::IAM::Role, ResourceStatusReason:acme-platform-audit already exists in stack arn:aws:cloudformation:us-east-1:222222222222:stack/legacy-audit/0b1c.";

    fn client(rules: &[&Rule]) -> StackSetClient {
        StackSetClient::from_client(
            mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, rules, |c| c
                .retry_config(aws_smithy_types::retry::RetryConfig::disabled())),
            false,
        )
    }

    #[tokio::test]
    async fn a_delegated_administrator_says_so_in_every_call() {
        let delegated = mock!(Client::list_stack_instances)
            .match_requests(|r| r.call_as() == Some(&t::CallAs::DelegatedAdmin))
            .then_output(|| {
                aws_sdk_cloudformation::operation::list_stack_instances::ListStackInstancesOutput::builder().build()
            });
        let sets = StackSetClient::from_client(
            mock_client!(
                aws_sdk_cloudformation,
                RuleMode::MatchAny,
                [&delegated],
                |c| c.retry_config(aws_smithy_types::retry::RetryConfig::disabled())
            ),
            true,
        );
        assert!(sets.list_instances(SET).await.unwrap().is_empty());
        assert_eq!(delegated.num_calls(), 1);
    }

    fn operation(status: StackSetOperationStatus, failed: i32) -> DescribeStackSetOperationOutput {
        let mut op = StackSetOperation::builder()
            .operation_id(OPERATION)
            .stack_set_id(format!("{SET}:6dd29d80-acfc-4294-a05b-db024549ddf2"))
            .action(StackSetOperationAction::Update)
            .status(status.clone())
            .status_details(
                StackSetOperationStatusDetails::builder()
                    .failed_stack_instances_count(failed)
                    .build(),
            );
        if status == StackSetOperationStatus::Failed {
            op = op.status_reason("The Operation 3e1b4d4c-5f0a-4c7d-9d2e-1f0b6c9a7e21 has failed because the failure tolerance has been exceeded.");
        }
        DescribeStackSetOperationOutput::builder()
            .stack_set_operation(op.build())
            .build()
    }

    fn result(
        account: &str,
        status: StackSetOperationResultStatus,
        reason: Option<&str>,
    ) -> StackSetOperationResultSummary {
        StackSetOperationResultSummary::builder()
            .account(account)
            .region("us-east-1")
            .organizational_unit_id("ou-ab12-workload1")
            .status(status)
            .set_status_reason(reason.map(str::to_owned))
            .account_gate_result(
                AccountGateResult::builder()
                    .status(AccountGateStatus::Skipped)
                    .status_reason("Function not found: arn:aws:lambda:us-east-1:111111111111:function:AWSCloudFormationStackSetAccountGate")
                    .build(),
            )
            .build()
    }

    fn quick() -> Poll {
        Poll {
            first: Duration::ZERO,
            max: Duration::ZERO,
            timeout: Duration::from_secs(5),
        }
    }

    #[tokio::test]
    async fn an_operation_is_polled_while_running_and_each_status_is_heard_once() {
        let describe = mock!(Client::describe_stack_set_operation)
            .match_requests(|r| {
                r.operation_id() == Some(OPERATION) && r.stack_set_name() == Some(SET)
            })
            .sequence()
            .output(|| operation(StackSetOperationStatus::Queued, 0))
            .output(|| operation(StackSetOperationStatus::Running, 0))
            .times(3)
            .output(|| operation(StackSetOperationStatus::Succeeded, 0))
            .build();
        let sets = client(&[&describe]);
        let mut heard = Vec::new();
        let info = wait_for_operation(&sets, SET, OPERATION, quick(), &mut |i| {
            heard.push(i.status.clone())
        })
        .await
        .unwrap();
        assert_eq!(info.status, "SUCCEEDED");
        assert_eq!(heard, ["QUEUED", "RUNNING", "SUCCEEDED"]);
        assert_eq!(describe.num_calls(), 5);
    }

    #[tokio::test]
    async fn a_failed_operation_gives_its_reason_and_each_failed_instance() {
        let describe = mock!(Client::describe_stack_set_operation)
            .sequence()
            .output(|| operation(StackSetOperationStatus::Running, 0))
            .output(|| operation(StackSetOperationStatus::Failed, 1))
            .build();
        let first = mock!(Client::list_stack_set_operation_results)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| {
                ListStackSetOperationResultsOutput::builder()
                    .summaries(result(
                        "111111111111",
                        StackSetOperationResultStatus::Succeeded,
                        None,
                    ))
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(Client::list_stack_set_operation_results)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(|| {
                ListStackSetOperationResultsOutput::builder()
                    .summaries(result(
                        "222222222222",
                        StackSetOperationResultStatus::Failed,
                        Some(FAILED_REASON),
                    ))
                    .summaries(result(
                        "333333333333",
                        StackSetOperationResultStatus::Cancelled,
                        Some("Cancelled since failure tolerance has exceeded"),
                    ))
                    .build()
            });
        let sets = client(&[&describe, &first, &second]);
        let info = wait_for_operation(&sets, SET, OPERATION, quick(), &mut |_| {})
            .await
            .unwrap();
        assert_eq!(info.status, "FAILED");
        assert_eq!(info.failed_instances, Some(1));
        assert!(info
            .status_reason
            .as_deref()
            .unwrap()
            .contains("failure tolerance has been exceeded"));
        let results = sets.operation_results(SET, OPERATION).await.unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[1].status, "FAILED");
        assert_eq!(results[1].reason.as_deref(), Some(FAILED_REASON));
        assert_eq!(
            results[1].organizational_unit.as_deref(),
            Some("ou-ab12-workload1")
        );
        assert_eq!(results[2].status, "CANCELLED");
    }

    #[tokio::test]
    async fn an_operation_still_running_at_the_timeout_is_an_error_that_says_how_to_follow() {
        let describe = mock!(Client::describe_stack_set_operation)
            .then_output(|| operation(StackSetOperationStatus::Running, 0));
        let sets = client(&[&describe]);
        let poll = Poll {
            first: Duration::from_millis(1),
            max: Duration::from_millis(1),
            timeout: Duration::from_millis(20),
        };
        let err = wait_for_operation(&sets, SET, OPERATION, poll, &mut |_| {})
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("still `RUNNING`"), "{err}");
        assert!(err.contains("little status iam-audit"), "{err}");
    }

    #[tokio::test]
    async fn a_missing_stack_set_is_none_and_an_update_sends_the_preferences() {
        let missing = mock!(Client::describe_stack_set).then_error(|| {
            DescribeStackSetError::StackSetNotFoundException(
                StackSetNotFoundException::builder()
                    .message("StackSet iam-audit not found")
                    .build(),
            )
        });
        let update = mock!(Client::update_stack_set)
            .match_requests(|r| {
                let p = r.operation_preferences().unwrap();
                p.failure_tolerance_percentage() == Some(10)
                    && p.max_concurrent_percentage() == Some(25)
                    && p.region_concurrency_type() == Some(&t::RegionConcurrencyType::Sequential)
                    && p.region_order() == ["us-east-1", "eu-west-1"]
                    && r.auto_deployment().and_then(|a| a.enabled()) == Some(true)
                    && r.template_body().is_some()
            })
            .then_output(|| {
                UpdateStackSetOutput::builder()
                    .operation_id(OPERATION)
                    .build()
            });
        let sets = client(&[&missing, &update]);
        assert_eq!(sets.describe_stack_set(SET).await.unwrap(), None);
        let req = StackSetRequest {
            name: SET.into(),
            template_body: "{}".into(),
            permission_model: "SERVICE_MANAGED".into(),
            auto_deployment: Some(AutoDeployment {
                enabled: true,
                retain_stacks_on_account_removal: false,
            }),
            ..Default::default()
        };
        let prefs = OperationPreferences {
            max_concurrent_percentage: Some(25),
            failure_tolerance_percentage: Some(10),
            region_concurrency: Some(RegionConcurrency::Sequential),
            region_order: vec!["us-east-1".into(), "eu-west-1".into()],
        };
        assert_eq!(
            sets.update_stack_set(&req, &prefs).await.unwrap(),
            OPERATION
        );
        assert_eq!(update.num_calls(), 1);
    }
}
