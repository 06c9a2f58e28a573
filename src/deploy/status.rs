//! `little status`, `little events` and `little outputs`: what is deployed, read-only.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::aws::cloudformation::{StackInfo, StackOutput};
use crate::aws::connect::Connect;
use crate::aws::stack_ops::{EventCursor, StackEvent};
use crate::aws::stacksets::OperationInfo;
use crate::context::clients_for;
use crate::error::{Error, Result};
use crate::poll::{poll_until, Poll};
use crate::project::Project;
use crate::project::Selection;

/// One stack as deployed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackStatus {
    pub stack: String,
    pub region: String,
    pub deployed: bool,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub last_updated: Option<String>,
    pub drift_status: Option<String>,
    pub termination_protection: bool,
    pub outputs: Vec<Output>,
    /// For a StackSet stack: its instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_set: Option<StackSetStatus>,
}

impl StackStatus {
    /// A stack (or StackSet) of the project that is not deployed.
    pub fn not_deployed(stack: &str, region: &str) -> StackStatus {
        StackStatus {
            stack: stack.to_owned(),
            region: region.to_owned(),
            deployed: false,
            status: None,
            reason: None,
            last_updated: None,
            drift_status: None,
            termination_protection: false,
            outputs: Vec::new(),
            stack_set: None,
        }
    }
}

/// A deployed StackSet: each instance's status and drift, and the last drift detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackSetStatus {
    pub permission_model: String,
    pub instances: Vec<crate::aws::stacksets::InstanceSummary>,
    /// Instances by status (`CURRENT`, `OUTDATED`, `INOPERABLE`).
    pub counts: std::collections::BTreeMap<String, usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drifted_instances: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_drift_check: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub key: String,
    pub value: String,
    pub export_name: Option<String>,
    pub description: Option<String>,
}

impl From<&StackOutput> for Output {
    fn from(o: &StackOutput) -> Self {
        Output {
            key: o.key.clone(),
            value: o.value.clone(),
            export_name: o.export_name.clone(),
            description: o.description.clone(),
        }
    }
}

/// The status of the selected stacks, in dependency order.
pub async fn status(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    selection: &Selection,
) -> Result<Vec<StackStatus>> {
    let mut out = Vec::new();
    for stack in project.select(&selection.names, selection.all)? {
        let clients = clients_for(&project, connect.as_ref(), stack).await?;
        if stack.kind.is_set() {
            out.push(stack_set_status(&clients, &stack.name).await?);
            continue;
        }
        let info = clients.cfn.describe_stack(&stack.name).await?;
        out.push(match info {
            Some(i) => StackStatus {
                stack: stack.name.clone(),
                region: clients.region.clone(),
                deployed: true,
                status: Some(i.status.clone()),
                reason: i.status_reason.clone(),
                last_updated: i.last_updated.clone().or(i.created.clone()),
                drift_status: i.drift_status.clone(),
                termination_protection: i.termination_protection,
                outputs: i.outputs.iter().map(Output::from).collect(),
                stack_set: None,
            },
            None => StackStatus::not_deployed(&stack.name, &clients.region),
        });
    }
    Ok(out)
}

/// The status of a StackSet stack: DescribeStackSet and every instance.
pub async fn stack_set_status(
    clients: &crate::aws::connect::Clients,
    name: &str,
) -> Result<StackStatus> {
    let Some(info) = clients.stack_sets.describe_stack_set(name).await? else {
        return Ok(StackStatus::not_deployed(name, &clients.region));
    };
    let instances = clients.stack_sets.list_instances(name).await?;
    let mut counts = std::collections::BTreeMap::new();
    for i in &instances {
        *counts.entry(i.status.clone()).or_insert(0) += 1;
    }
    let not_current = instances.iter().filter(|i| i.status != "CURRENT").count();
    Ok(StackStatus {
        stack: name.to_owned(),
        region: clients.region.clone(),
        deployed: true,
        status: Some(format!("STACK_SET_{}", info.status)),
        reason: (not_current > 0).then(|| {
            format!(
                "{not_current} of {} instances are not CURRENT",
                instances.len()
            )
        }),
        last_updated: None,
        drift_status: info.drift_status.clone(),
        termination_protection: false,
        outputs: Vec::new(),
        stack_set: Some(StackSetStatus {
            permission_model: info.permission_model.clone(),
            instances,
            counts,
            drifted_instances: info.drifted_instances,
            last_drift_check: info.last_drift_check.clone(),
        }),
    })
}

/// The outputs of one deployed stack.
pub async fn outputs(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    stack: &str,
) -> Result<Vec<Output>> {
    let s = status(
        project,
        connect,
        &Selection {
            names: vec![stack.to_owned()],
            all: false,
        },
    )
    .await?;
    match s.into_iter().next() {
        Some(st) if st.stack_set.is_some() => Err(Error::StackState {
            stack: stack.to_owned(),
            status: "a StackSet".into(),
            guidance: format!(
                "a StackSet has one stack per account and region and no outputs of its own; `little status {stack}` lists its instances"
            ),
        }),
        Some(st) if st.deployed => Ok(st.outputs),
        _ => Err(Error::StackState {
            stack: stack.to_owned(),
            status: "not deployed".into(),
            guidance: format!("it has no outputs; `little apply {stack}` deploys it"),
        }),
    }
}

/// The clients of one stack, named on the command line.
async fn stack_clients(
    project: &Project,
    connect: &dyn Connect,
    stack: &str,
) -> Result<crate::aws::connect::Clients> {
    let s = project
        .select(&[stack.to_owned()], false)?
        .into_iter()
        .next()
        .ok_or(Error::NoStacksSelected)?;
    clients_for(project, connect, s).await
}

/// The newest `limit` events of a stack, oldest first.
pub async fn events(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    stack: &str,
    limit: usize,
) -> Result<Vec<StackEvent>> {
    let clients = stack_clients(&project, connect.as_ref(), stack).await?;
    if is_stack_set(&project, stack) {
        return stack_set_events(&clients, stack, limit).await;
    }
    if clients.cfn.describe_stack(stack).await?.is_none() {
        return Err(Error::StackState {
            stack: stack.to_owned(),
            status: "not deployed".into(),
            guidance: "it has no events".into(),
        });
    }
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let (page, next) = clients.ops.events_page(stack, token).await?;
        out.extend(page);
        if out.len() >= limit || next.is_none() {
            break;
        }
        token = next;
    }
    out.truncate(limit);
    out.reverse();
    Ok(out)
}

/// Follows a stack's events until it is no longer in progress, calling `show` for each new one.
/// Events before the call are not shown.
pub async fn follow(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    stack: &str,
    poll: std::time::Duration,
    show: &(dyn Fn(&StackEvent) + Send + Sync),
) -> Result<Option<String>> {
    let clients = stack_clients(&project, connect.as_ref(), stack).await?;
    if is_stack_set(&project, stack) {
        return follow_stack_set(&clients, stack, poll, show).await;
    }
    let mut cursor = EventCursor::new(None);
    cursor.poll(clients.ops.as_ref(), stack).await?;
    let cursor = tokio::sync::Mutex::new(cursor);
    let waited = poll_until(
        every(poll),
        || async {
            for e in cursor
                .lock()
                .await
                .poll(clients.ops.as_ref(), stack)
                .await?
            {
                show(&e);
            }
            clients.cfn.describe_stack(stack).await
        },
        |info: &Option<StackInfo>| info.as_ref().is_none_or(|i| !i.is_in_progress()),
    )
    .await?;
    Ok(waited.unwrap_or_else(|last| last).map(|i| i.status))
}

/// Polling at a steady `interval`, for as long as it takes (following ends when the stack
/// does, or at Ctrl-C).
fn every(interval: std::time::Duration) -> Poll {
    Poll {
        first: interval,
        max: interval,
        timeout: std::time::Duration::MAX,
    }
}

fn is_stack_set(project: &Project, stack: &str) -> bool {
    project.stack(stack).is_some_and(|s| s.kind.is_set())
}

/// A StackSet operation as an event line: `UPDATE SUCCEEDED` of the StackSet.
fn operation_event(stack: &str, o: &crate::aws::stacksets::OperationInfo) -> StackEvent {
    StackEvent {
        id: format!("{}-{}", o.id, o.status),
        timestamp: o.ended.clone().or(o.created.clone()).unwrap_or_default(),
        logical_id: stack.to_owned(),
        physical_id: Some(o.id.clone()),
        resource_type: "AWS::CloudFormation::StackSet".into(),
        status: format!("{}_{}", o.action, o.status),
        reason: o.status_reason.clone().or_else(|| {
            o.failed_instances
                .filter(|n| *n > 0)
                .map(|n| format!("{n} instance(s) failed; `little status {stack}`"))
        }),
    }
}

/// A StackSet's newest `limit` operations, oldest first, as events.
async fn stack_set_events(
    clients: &crate::aws::connect::Clients,
    stack: &str,
    limit: usize,
) -> Result<Vec<StackEvent>> {
    if clients
        .stack_sets
        .describe_stack_set(stack)
        .await?
        .is_none()
    {
        return Err(Error::StackState {
            stack: stack.to_owned(),
            status: "not deployed".into(),
            guidance: "it has no operations".into(),
        });
    }
    let mut out: Vec<StackEvent> = clients
        .stack_sets
        .list_operations(stack)
        .await?
        .iter()
        .take(limit)
        .map(|o| operation_event(stack, o))
        .collect();
    out.reverse();
    Ok(out)
}

/// Follows a StackSet's operations until none is running, showing each new status once.
async fn follow_stack_set(
    clients: &crate::aws::connect::Clients,
    stack: &str,
    poll: std::time::Duration,
    show: &(dyn Fn(&StackEvent) + Send + Sync),
) -> Result<Option<String>> {
    let seen: std::collections::BTreeSet<String> = clients
        .stack_sets
        .list_operations(stack)
        .await?
        .iter()
        .map(|o| format!("{}-{}", o.id, o.status))
        .collect();
    let seen = tokio::sync::Mutex::new(seen);
    let waited = poll_until(
        every(poll),
        || async {
            let operations = clients.stack_sets.list_operations(stack).await?;
            let mut seen = seen.lock().await;
            for o in operations.iter().rev() {
                let e = operation_event(stack, o);
                if seen.insert(e.id.clone()) {
                    show(&e);
                }
            }
            Ok(operations)
        },
        |operations: &Vec<OperationInfo>| operations.first().is_none_or(|o| o.is_done()),
    )
    .await?;
    let operations = waited.unwrap_or_else(|last| last);
    Ok(operations
        .first()
        .map(|o| format!("{}_{}", o.action, o.status)))
}
