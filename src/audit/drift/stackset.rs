//! A StackSet's drift: DetectStackSetDrift over its instances, waited on, and each instance's
//! drift status. A stack's own drift is in `drift`; the comparison of live resources in
//! `compare`.

use super::{DriftMethod, StackDriftResult};
use crate::aws::connect::Clients;
use crate::aws::drift::ResourceDrift;
use crate::error::Result;
use crate::poll::Poll;
use crate::project::stackset::StackSetConfig;
use crate::project::Stack;

/// A StackSet's drift: DetectStackSetDrift over every instance, waited on, then each
/// instance's drift status. Where the endpoint has no StackSet drift detection, the status of
/// the last detection is reported, with a note. A drifted instance is reported as a resource
/// `<account>/<region>`; `little drift` on the instance's own stack gives its resources.
pub async fn stack_set_drift(
    clients: &Clients,
    stack: &Stack,
    set: &StackSetConfig,
    poll: Poll,
) -> Result<StackDriftResult> {
    let name = &stack.name;
    let mut result = StackDriftResult {
        stack: name.clone(),
        method: DriftMethod::StackSet,
        drifted: false,
        resources: Vec::new(),
        not_checked: Vec::new(),
        note: None,
        error: None,
    };
    if clients.stack_sets.describe_stack_set(name).await?.is_none() {
        result.method = DriftMethod::None;
        result.note = Some("not deployed".into());
        return Ok(result);
    }
    match clients
        .stack_sets
        .detect_drift(name, &set.preferences)
        .await?
    {
        Some(operation) => {
            let info = crate::aws::stacksets::wait_for_operation(
                clients.stack_sets.as_ref(),
                name,
                &operation,
                poll,
                &mut |_| {},
            )
            .await?;
            if info.status != "SUCCEEDED" {
                let failed: Vec<String> = clients
                    .stack_sets
                    .operation_results(name, &operation)
                    .await
                    .unwrap_or_default()
                    .iter()
                    .filter(|r| r.is_failed())
                    .map(|r| r.to_string())
                    .collect();
                result.note = Some(format!(
                    "drift detection {}{}",
                    info.status,
                    if failed.is_empty() {
                        info.status_reason
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    } else {
                        format!(": {}", failed.join("; "))
                    }
                ));
            }
        }
        None => {
            result.note = Some(
                "this endpoint does not implement DetectStackSetDrift; showing each instance's status from its last detection".into(),
            );
        }
    }
    for i in clients.stack_sets.list_instances(name).await? {
        let at = format!("{}/{}", i.account, i.region);
        match crate::aws::drift::drifted(i.drift_status.as_deref()) {
            Some(true) => {
                result.drifted = true;
                result.resources.push(ResourceDrift {
                    logical_id: at,
                    physical_id: i.stack_id.clone(),
                    resource_type: "AWS::CloudFormation::StackInstance".into(),
                    status: "MODIFIED".into(),
                    differences: Vec::new(),
                });
            }
            Some(false) => {}
            None => result.not_checked.push(format!(
                "instance {at} ({})",
                i.drift_status.as_deref().unwrap_or("never checked")
            )),
        }
    }
    Ok(result)
}
