//! What happened to each stack of an `apply` or `destroy` ([`Outcome`], [`StackResult`],
//! [`ApplyReport`], [`Preview`] of a deletion), and how it is found out: [`wait_with_events`]
//! waits for a stack operation while streaming its events, [`cause_lines`] and
//! [`failure_guidance`] explain a failure. Printing them is `report::apply`.

use serde::{Deserialize, Serialize};

use super::Ui;
use crate::aws::cloudformation::{StackInfo, StackStatus};
use crate::aws::connect::Clients;
use crate::aws::stack_ops::{rollback_failures, root_cause, EventCursor, StackEvent};
use crate::error::{Error, Result};
use crate::poll::{poll_until, Poll};

/// What happened to one stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Updated,
    /// Deleted by `destroy`.
    Deleted,
    Unchanged,
    Failed,
    /// Not attempted because a stack it depends on failed.
    Skipped,
    /// Not attempted: interrupted, refused or declined.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackResult {
    pub stack: String,
    pub outcome: Outcome,
    /// The stack's final status, when it was touched.
    pub status: Option<String>,
    pub duration_secs: f64,
    /// Resource changes executed.
    pub changes: usize,
    /// The root cause of a failure: `LogicalId (Type) STATUS: reason`.
    pub root_cause: Vec<String>,
    /// What to do next, for a failure.
    pub guidance: Option<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyReport {
    pub stacks: Vec<StackResult>,
    pub interrupted: bool,
    /// After an interrupt: what was cleaned up and what still runs in CloudFormation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<String>,
}

impl ApplyReport {
    pub fn failed(&self) -> bool {
        self.interrupted
            || self
                .stacks
                .iter()
                .any(|s| matches!(s.outcome, Outcome::Failed | Outcome::Skipped))
    }

    /// Interrupted, failed, or ok.
    pub fn verdict(&self) -> crate::error::Verdict {
        use crate::error::Verdict;
        if self.interrupted {
            Verdict::Interrupted
        } else if self.failed() {
            Verdict::Failed
        } else {
            Verdict::Ok
        }
    }
}

/// A result with no changes, causes, guidance or warnings yet.
pub fn result(stack: &str, outcome: Outcome, status: Option<String>, secs: f64) -> StackResult {
    StackResult {
        stack: stack.to_owned(),
        outcome,
        status,
        duration_secs: secs,
        changes: 0,
        root_cause: Vec::new(),
        guidance: None,
        warnings: Vec::new(),
    }
}

/// What deleting one stack would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub stack: String,
    pub status: String,
    /// `LogicalId (Type) physical-id` of the resources CloudFormation deletes.
    pub deleted: Vec<String>,
    /// The ones it keeps (DeletionPolicy Retain, RetainExceptOnCreate or Snapshot).
    pub retained: Vec<String>,
    pub termination_protection: bool,
    pub importers: Vec<String>,
}

/// Waits for a stack operation, showing each new event once; returns the final state and every
/// event of the operation read. Events are read only while the stack is in progress, from where
/// the last read stopped, and once more at the end (the last ones come with the final status)
/// if they were followed or the operation failed; not for a stack that is gone, nor for one
/// that had already succeeded when it was first seen.
pub async fn wait_with_events(
    clients: &Clients,
    stack: &str,
    cursor: &mut EventCursor,
    poll: Poll,
    ui: &dyn Ui,
) -> Result<(Option<StackInfo>, Vec<StackEvent>)> {
    // The events come with each read of the stack's state while it is in progress: the cursor
    // and the events seen so far are shared by the reads.
    let seen = tokio::sync::Mutex::new((cursor, Vec::new(), false));
    let show_new = || async {
        let mut guard = seen.lock().await;
        let (cursor, all, read) = &mut *guard;
        *read = true;
        for e in cursor
            .poll(clients.ops.as_ref(), stack)
            .await
            .unwrap_or_default()
        {
            ui.event(stack, &e);
            all.push(e);
        }
    };
    let waited = poll_until(
        poll,
        || async {
            let info = clients.cfn.describe_stack(stack).await?;
            if info.as_ref().is_some_and(StackInfo::is_in_progress) {
                show_new().await;
            }
            Ok(info)
        },
        |info: &Option<StackInfo>| info.as_ref().is_none_or(|i| !i.is_in_progress()),
    )
    .await?;
    let info = waited.map_err(|_| Error::Aws {
        operation: "cloudformation:DescribeStacks".into(),
        message: format!(
            "stopped waiting after {}s; the operation goes on: `little events {stack} --follow`",
            poll.timeout.as_secs()
        ),
    })?;
    // The last events may have arrived with the final status: read once more if the events
    // were followed, or if the operation failed (its events say why). A stack that succeeded
    // before it was first seen in progress has nothing to explain: no read. A stack that is
    // gone (deleted) has no events to read by its name.
    let followed = seen.lock().await.2;
    if info.as_ref().is_some_and(|i| followed || i.is_failed()) {
        show_new().await;
    }
    let (_, all, _) = seen.into_inner();
    Ok((info, all))
}

/// The root cause of a failed operation, one line per cause:
/// `LogicalId (Type) STATUS: reason`.
pub fn cause_lines(events: &[StackEvent]) -> Vec<String> {
    root_cause(events)
        .iter()
        .map(|e| {
            format!(
                "{} ({}) {}: {}",
                e.logical_id,
                e.resource_type,
                e.status,
                e.reason.as_deref().unwrap_or("no reason given")
            )
        })
        .collect()
}

/// The way out of a failed stack operation.
pub fn failure_guidance(stack: &str, status: Option<&str>, events: &[StackEvent]) -> String {
    match status.map(StackStatus::of) {
        Some(StackStatus::RollbackComplete) => format!(
            "the creation failed and was rolled back; a stack in this state cannot be updated: fix the cause, then `little apply {stack} --replace-failed` plans its replacement and, once approved, deletes it and creates it again"
        ),
        Some(StackStatus::RollbackFailed) => format!(
            "the creation failed and so did its rollback: the stack may still hold resources; see `little events {stack}` for the ones that could not be deleted, clean them up, then `little destroy {stack}`"
        ),
        Some(StackStatus::UpdateRollbackComplete) => {
            "the update failed and was rolled back: the stack is as it was before; fix the cause and apply again".to_owned()
        }
        Some(StackStatus::UpdateRollbackFailed) => {
            let skip = rollback_failures(events);
            format!(
                "the update failed and so did its rollback; continue the rollback with `aws cloudformation continue-update-rollback --stack-name {stack}{}`, then apply again",
                if skip.is_empty() {
                    String::new()
                } else {
                    format!(" --resources-to-skip {}", skip.join(" "))
                }
            )
        }
        Some(_) => format!(
            "the stack ended in {}; see `little events {stack}`",
            status.unwrap_or_default()
        ),
        None => "the stack is gone".to_owned(),
    }
}
