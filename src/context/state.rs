//! What CloudFormation holds of a stack, read and cleaned up: the states an operation cannot
//! proceed from ([`check_state`], with the way out), a deployed template ([`parse_deployed`]),
//! and the change sets a run made and did not execute ([`discard_change_set`], [`sweep`]).
//!
//! No plan, apply or audit logic: the operations decide when to call these.

use serde_json::Value;

use super::clients_for;
use crate::aws::changeset::{made_by_run, ChangeSetType};
use crate::aws::cloudformation::{StackInfo, StackStatus};
use crate::aws::connect::{Clients, Connect};
use crate::error::{Error, Result};
use crate::project::Project;
use crate::template::parse;

/// Refuses stacks that cannot be changed now, saying the way out.
///
/// `replace_failed`: the caller replaces `ROLLBACK_COMPLETE` stacks itself; the guidance for
/// the others says why `--replace-failed` does not touch them.
pub fn check_state(info: &StackInfo, replace_failed: bool) -> Result<()> {
    let guidance = match info.state() {
        _ if info.is_in_progress() => format!(
            "another operation is running ({}); wait for it to finish (`little events {} --follow`) and run again",
            info.status, info.name
        ),
        StackStatus::RollbackComplete => format!(
            "its creation failed and was rolled back, so it cannot be updated; delete it (`little destroy {}`), or run `little apply --replace-failed`, which shows the replacement in the plan and, once approved, deletes and recreates it",
            info.name
        ),
        StackStatus::RollbackFailed => format!(
            "its creation failed and so did the rollback, so it may still hold resources; {}see `little events {}` for the resources that could not be deleted, clean them up or retain them, then `little destroy {}`",
            if replace_failed {
                "`--replace-failed` never deletes a stack that may hold resources; "
            } else {
                ""
            },
            info.name,
            info.name
        ),
        StackStatus::UpdateRollbackFailed => format!(
            "an update failed and so did its rollback; continue the rollback, skipping the resources that cannot roll back: `aws cloudformation continue-update-rollback --stack-name {}` (see `little events {}` for the resources that failed)",
            info.name, info.name
        ),
        StackStatus::DeleteFailed => format!(
            "its deletion failed and it still holds resources{}; see `little events {}`, fix the cause and run `little destroy {}` again",
            if replace_failed {
                " (`--replace-failed` never deletes such a stack)"
            } else {
                ""
            },
            info.name,
            info.name
        ),
        _ => return Ok(()),
    };
    Err(Error::StackState {
        stack: info.name.clone(),
        status: info.status.clone(),
        guidance,
    })
}

/// Deletes a change set that will not be executed, and the empty stack (REVIEW_IN_PROGRESS)
/// its CREATE change set made. The one cleanup of an unexecuted change set: plan, apply and
/// [`sweep`] all end here or do the same per change set.
/// Failures here are not the operation's failures: they are reported on stderr by the
/// caller's next run at worst, so they are ignored.
pub async fn discard_change_set(clients: &Clients, stack: &str, name: &str, kind: ChangeSetType) {
    let _ = clients.change_sets.delete_change_set(stack, name).await;
    if kind == ChangeSetType::Create {
        if let Ok(Some(info)) = clients.cfn.describe_stack(stack).await {
            if info.is_review() {
                let _ = clients.cfn.delete_stack(stack).await;
            }
        }
    }
}

/// What [`sweep`] did: change sets and empty stacks deleted, stacks still running in
/// CloudFormation, and what could not be cleaned up.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    pub change_sets: Vec<String>,
    pub stacks: Vec<String>,
    /// `stack (STATUS)`: operations that go on in CloudFormation.
    pub running: Vec<String>,
    pub failures: Vec<String>,
}

impl Swept {
    /// One sentence for people: what was cleaned up and what still runs.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!(
            "deleted {} unexecuted change set{} and {} empty new stack{}",
            self.change_sets.len(),
            if self.change_sets.len() == 1 { "" } else { "s" },
            self.stacks.len(),
            if self.stacks.len() == 1 { "" } else { "s" }
        )];
        if self.running.is_empty() {
            parts.push("nothing is running in CloudFormation".into());
        } else {
            parts.push(format!(
                "still running in CloudFormation: {} (`little events STACK --follow` to watch)",
                self.running.join(", ")
            ));
        }
        if !self.failures.is_empty() {
            parts.push(format!("could not clean up: {}", self.failures.join("; ")));
        }
        parts.join("; ")
    }
}

/// Deletes what one run made and did not execute: its change sets (found by the run's mark,
/// wherever the run got to) and the empty `REVIEW_IN_PROGRESS` stacks they created; reports
/// the stacks whose operations go on. StackSets are left out: they hold no change sets.
pub async fn sweep(
    project: &Project,
    connect: &dyn Connect,
    stacks: &[String],
    run_id: &str,
) -> Swept {
    let mut swept = Swept::default();
    for name in stacks {
        let Some(stack) = project.stack(name) else {
            continue;
        };
        if stack.kind.is_set() {
            continue;
        }
        let clients = match clients_for(project, connect, stack).await {
            Ok(c) => c,
            Err(e) => {
                swept.failures.push(format!("`{name}`: {e}"));
                continue;
            }
        };
        let info = match clients.cfn.describe_stack(name).await {
            Ok(Some(info)) => info,
            Ok(None) => continue,
            Err(e) => {
                swept.failures.push(format!("`{name}`: {e}"));
                continue;
            }
        };
        let held = match clients.change_sets.list_change_sets(name).await {
            Ok(h) => h,
            Err(e) => {
                swept.failures.push(format!("`{name}`: {e}"));
                Vec::new()
            }
        };
        let mut left = held.len();
        for cs in held.iter().filter(|cs| made_by_run(&cs.name, run_id)) {
            let executed = cs
                .execution_status
                .as_deref()
                .is_some_and(|s| s.starts_with("EXECUTE_"));
            if executed {
                continue;
            }
            match clients.change_sets.delete_change_set(name, &cs.name).await {
                Ok(()) => {
                    left -= 1;
                    swept.change_sets.push(format!("{name}/{}", cs.name));
                }
                Err(e) => swept.failures.push(format!("`{name}` {}: {e}", cs.name)),
            }
        }
        if info.is_review() && left == 0 {
            match clients.cfn.delete_stack(name).await {
                Ok(()) => swept.stacks.push(name.clone()),
                Err(e) => swept.failures.push(format!("`{name}`: {e}")),
            }
        } else if info.is_in_progress() {
            swept.running.push(format!("`{name}` ({})", info.status));
        }
    }
    swept
}

/// A deployed template body: JSON, or YAML with short forms.
pub fn parse_deployed(text: &str) -> Result<Value> {
    parse::parse(text, parse::Syntax::Json)
        .or_else(|_| parse::parse(text, parse::Syntax::Yaml))
        .map_err(|e| Error::Aws {
            operation: "cloudformation:GetTemplate".into(),
            message: format!("the deployed template cannot be read: {}", e.message),
        })
}
