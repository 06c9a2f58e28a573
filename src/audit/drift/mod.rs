//! `little drift`: whether deployed stacks still match what CloudFormation deployed.
//!
//! Per deployed stack, CloudFormation's own drift detection first (start it, poll with
//! backoff until it ends, read the resources that drifted). Where it is unavailable (the
//! emulator), and for the resources it reports NOT_CHECKED, the live configuration of ECR
//! repositories and IAM roles is compared with the rendered template directly (rendered with
//! the deployed dependencies' outputs, as a plan renders it). Other resources are listed as
//! not checked.
//!
//! The direct comparison looks only at the properties the template sets, as CloudFormation
//! does, and skips values built with intrinsic functions (`Ref`, `Fn::*`): their deployed value
//! is not in the template (`context::compare`). StackSets are `stackset`.

pub mod stackset;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::compare::{compare_repository, compare_role};

use crate::aws::connect::{Clients, Connect};
use crate::aws::drift::{DetectionStatus, ResourceDrift};
use crate::aws::stack_ops::StackResource;
use crate::context::{clients_for, render_live};
use crate::error::{Error, Result};
use crate::parallel::{adaptive, AdaptiveLimit, Pending};
use crate::poll::{poll_until, Poll};
use crate::project::Selection;
use crate::project::{Project, Stack, StackKind};
use crate::render::RenderOptions;

pub const ECR_REPOSITORY: &str = "AWS::ECR::Repository";
pub const IAM_ROLE: &str = "AWS::IAM::Role";

/// The drift of the selected stacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub stacks: Vec<StackDriftResult>,
}

impl DriftReport {
    /// Whether any stack drifted.
    pub fn drifted(&self) -> bool {
        self.stacks.iter().any(|s| s.drifted)
    }

    /// Whether the drift of some stack could not be found out.
    pub fn has_errors(&self) -> bool {
        self.stacks.iter().any(|s| s.error.is_some())
    }

    /// Changes when a stack drifted (over errors); failed when one could not be checked.
    pub fn verdict(&self) -> crate::error::Verdict {
        use crate::error::Verdict;
        if self.drifted() {
            Verdict::Changes
        } else if self.has_errors() {
            Verdict::Failed
        } else {
            Verdict::Ok
        }
    }
}

/// How a stack's drift was found out; written in lower case (`cloudformation`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftMethod {
    /// CloudFormation's drift detection.
    CloudFormation,
    /// Live resources compared with the template.
    Direct,
    /// Not deployed: nothing to compare.
    None,
    /// A StackSet: DetectStackSetDrift over its instances.
    StackSet,
    /// The drift could not be found out.
    Error,
}

impl DriftMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftMethod::CloudFormation => "cloudformation",
            DriftMethod::Direct => "direct",
            DriftMethod::None => "none",
            DriftMethod::StackSet => "stackset",
            DriftMethod::Error => "error",
        }
    }
}

impl std::fmt::Display for DriftMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stack's drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackDriftResult {
    pub stack: String,
    /// How the drift was found out.
    pub method: DriftMethod,
    pub drifted: bool,
    /// The resources that drifted (MODIFIED or DELETED).
    pub resources: Vec<ResourceDrift>,
    /// What was not compared: resources (`Topic (AWS::SNS::Topic)`) and properties built with
    /// intrinsic functions (`Role /Policies/0/PolicyDocument (intrinsic functions)`).
    pub not_checked: Vec<String>,
    /// Such as "not deployed", or the reason CloudFormation's detection failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why the stack's drift could not be found out (method `error`); the other stacks are
    /// still checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone)]
pub struct DriftOptions {
    pub render: RenderOptions,
    /// Waiting for a drift detection ([`Poll::DRIFT`] by default).
    pub poll: Poll,
    /// The most stacks checked at once (fewer while CloudFormation throttles).
    pub concurrency: usize,
}

/// How many stacks `drift` checks at once by default.
pub const DEFAULT_CONCURRENCY: usize = 32;

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            render: RenderOptions::default(),
            poll: Poll::DRIFT,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// The drift of the selected stacks, in dependency order. The stacks are checked at once (their
/// detections started together and polled together), up to `options.concurrency`, fewer while
/// CloudFormation throttles. A stack whose drift cannot be found out (access denied, a template
/// that no longer renders) is reported with its error; the others are still checked.
pub async fn drift(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    selection: &Selection,
    options: &DriftOptions,
) -> Result<DriftReport> {
    let selected = project.select(&selection.names, selection.all)?;
    let limit = Arc::new(AdaptiveLimit::new(options.concurrency, || {
        crate::aws::calls::throttles("cloudformation")
    }));
    let futures: Vec<Pending<'_, StackDriftResult>> = selected
        .iter()
        .map(|stack| -> Pending<'_, StackDriftResult> {
            let (project, connect) = (&project, &connect);
            Box::pin(async move {
                match stack_drift(project, connect.as_ref(), stack, options).await {
                    Ok(r) => r,
                    Err(e) => StackDriftResult::failed(&stack.name, &e),
                }
            })
        })
        .collect();
    let throttled = |r: &StackDriftResult| {
        r.error
            .as_deref()
            .is_some_and(crate::aws::calls::is_throttling_message)
    };
    let stacks = adaptive(futures, &limit, &throttled).await;
    Ok(DriftReport { stacks })
}

impl StackDriftResult {
    /// The result for a stack whose drift could not be found out.
    pub fn failed(stack: &str, error: &Error) -> Self {
        let error = match error {
            Error::Invalid(diags) => diags
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            e => e.to_string(),
        };
        StackDriftResult {
            stack: stack.to_owned(),
            method: DriftMethod::Error,
            drifted: false,
            resources: Vec::new(),
            not_checked: Vec::new(),
            note: None,
            error: Some(error),
        }
    }
}

/// One stack's drift.
pub async fn stack_drift(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
    options: &DriftOptions,
) -> Result<StackDriftResult> {
    let clients = clients_for(project, connect, stack).await?;
    if let StackKind::Set(set) = &stack.kind {
        return stackset::stack_set_drift(&clients, stack, set, options.poll).await;
    }
    let mut result = StackDriftResult {
        stack: stack.name.clone(),
        method: DriftMethod::None,
        drifted: false,
        resources: Vec::new(),
        not_checked: Vec::new(),
        note: None,
        error: None,
    };
    match clients.cfn.describe_stack(&stack.name).await? {
        Some(info) if info.is_deployed() => {}
        _ => {
            result.note = Some("not deployed".into());
            return Ok(result);
        }
    }

    // The resources left to compare directly: all of them without CloudFormation's detection,
    // the NOT_CHECKED ones with it.
    let to_compare: Vec<StackResource> =
        match cloudformation_drift(&clients, stack, options.poll).await? {
            Some((drifts, reason)) => {
                result.method = DriftMethod::CloudFormation;
                result.note = reason;
                let mut rest = Vec::new();
                // An entry without a logical id names no resource of the stack: nothing to
                // compare or report (moto sends such entries).
                for d in drifts.into_iter().filter(|d| !d.logical_id.is_empty()) {
                    if d.is_not_checked() {
                        rest.push(StackResource {
                            logical_id: d.logical_id,
                            physical_id: d.physical_id,
                            resource_type: d.resource_type,
                            status: String::new(),
                            drift_status: Some(d.status),
                        });
                    } else if d.has_drifted() {
                        result.resources.push(d);
                    }
                }
                rest
            }
            None => {
                result.method = DriftMethod::Direct;
                clients.ops.resources(&stack.name).await?
            }
        };

    let comparable =
        |r: &StackResource| r.resource_type == ECR_REPOSITORY || r.resource_type == IAM_ROLE;
    if to_compare.iter().any(comparable) {
        let (rendered, _) = render_live(project, connect, stack, &options.render).await?;
        let template = &rendered.template;
        for r in &to_compare {
            if !comparable(r) {
                continue;
            }
            let properties = template
                .pointer(&format!(
                    "/Resources/{}/Properties",
                    crate::text::escape_segment(&r.logical_id)
                ))
                .cloned()
                .unwrap_or(Value::Object(Default::default()));
            let Some(physical) = r.physical_id.as_deref() else {
                result.not_checked.push(format!(
                    "{} ({}): no physical id",
                    r.logical_id, r.resource_type
                ));
                continue;
            };
            let mut skipped = Vec::new();
            let drift = if r.resource_type == ECR_REPOSITORY {
                let live = clients.drift.repository(physical).await?;
                compare_repository(r, &properties, live.as_ref(), &mut skipped)
            } else {
                let live = clients.iam.role(physical).await?;
                compare_role(r, &properties, live.as_ref(), &mut skipped)
            };
            result.not_checked.extend(
                skipped
                    .into_iter()
                    .map(|p| format!("{} {p} (intrinsic functions)", r.logical_id)),
            );
            if !drift.is_in_sync() {
                result.resources.push(drift);
            }
        }
    }
    for r in to_compare.iter().filter(|r| !comparable(r)) {
        result
            .not_checked
            .push(format!("{} ({})", r.logical_id, r.resource_type));
    }
    result.drifted = !result.resources.is_empty();
    Ok(result)
}

/// CloudFormation's drift detection: the resources MODIFIED, DELETED or NOT_CHECKED, and the
/// reason if the detection failed (partly); `None` if it is unavailable.
async fn cloudformation_drift(
    clients: &Clients,
    stack: &Stack,
    poll: Poll,
) -> Result<Option<(Vec<ResourceDrift>, Option<String>)>> {
    let Some(id) = clients.drift.detect(&stack.name).await? else {
        return Ok(None);
    };
    let waited = poll_until(
        poll,
        || clients.drift.status(&id),
        |status: &DetectionStatus| !status.in_progress(),
    )
    .await?;
    let status = waited.map_err(|_| Error::Aws {
        operation: "cloudformation:DescribeStackDriftDetectionStatus".into(),
        message: format!(
            "drift detection {id} of {} still in progress after {} s",
            stack.name,
            poll.timeout.as_secs()
        ),
    })?;
    // A failed detection still reports the resources it could check.
    let reason = status.failed().then(|| {
        format!(
            "drift detection failed: {}",
            status.reason.as_deref().unwrap_or("no reason given")
        )
    });
    let drifts = clients.drift.resource_drifts(&stack.name).await?;
    Ok(Some((drifts, reason)))
}

#[cfg(test)]
mod tests;
