//! The JSON the AWS CLI prints, for the verbs of `little stack` and `little ecr` that printed it
//! in little-automation (`describe`, `events`, `resources`, `list`, `show-change`,
//! `scanreport`): the same top-level keys and field names, built from little's own types, so
//! that `jq` filters written for the original keep working. Fields AWS leaves out when empty
//! are left out.

use serde_json::{json, Map, Value};

use crate::aws::changeset::ChangeSet;
use crate::aws::cloudformation::StackInfo;
use crate::aws::ecr::ScanResult;
use crate::aws::stack_ops::{StackEvent, StackResource};

/// An object of the pairs whose value is not null.
fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<_, _>>(),
    )
}

fn opt(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

fn some_list(v: Vec<Value>) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        Value::Array(v)
    }
}

fn stack(s: &StackInfo) -> Value {
    object(vec![
        ("StackId", json!(s.id)),
        ("StackName", json!(s.name)),
        (
            "Parameters",
            some_list(
                s.parameters
                    .iter()
                    .map(|(k, v)| json!({"ParameterKey": k, "ParameterValue": v}))
                    .collect(),
            ),
        ),
        ("CreationTime", opt(&s.created)),
        ("LastUpdatedTime", opt(&s.last_updated)),
        ("StackStatus", json!(s.status)),
        ("StackStatusReason", opt(&s.status_reason)),
        ("NotificationARNs", json!(s.notification_arns)),
        (
            "Capabilities",
            some_list(s.capabilities.iter().map(|c| json!(c)).collect()),
        ),
        (
            "Outputs",
            some_list(
                s.outputs
                    .iter()
                    .map(|o| {
                        object(vec![
                            ("OutputKey", json!(o.key)),
                            ("OutputValue", json!(o.value)),
                            ("Description", opt(&o.description)),
                            ("ExportName", opt(&o.export_name)),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("RoleARN", opt(&s.role_arn)),
        (
            "Tags",
            json!(s
                .tags
                .iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect::<Vec<_>>()),
        ),
        (
            "EnableTerminationProtection",
            json!(s.termination_protection),
        ),
        (
            "DriftInformation",
            json!({"StackDriftStatus": s.drift_status.as_deref().unwrap_or("NOT_CHECKED")}),
        ),
    ])
}

/// `aws cloudformation describe-stacks --stack-name NAME`.
pub fn describe_stacks(stacks: &[StackInfo]) -> Value {
    json!({ "Stacks": stacks.iter().map(stack).collect::<Vec<_>>() })
}

/// `aws cloudformation list-stacks`: one summary per stack.
pub fn list_stacks(stacks: &[StackInfo]) -> Value {
    let summaries: Vec<Value> = stacks
        .iter()
        .map(|s| {
            object(vec![
                ("StackId", json!(s.id)),
                ("StackName", json!(s.name)),
                ("CreationTime", opt(&s.created)),
                ("LastUpdatedTime", opt(&s.last_updated)),
                ("StackStatus", json!(s.status)),
                ("StackStatusReason", opt(&s.status_reason)),
                (
                    "DriftInformation",
                    json!({"StackDriftStatus": s.drift_status.as_deref().unwrap_or("NOT_CHECKED")}),
                ),
            ])
        })
        .collect();
    json!({ "StackSummaries": summaries })
}

/// `aws cloudformation describe-stack-events --stack-name NAME`: newest first, as AWS lists
/// them; `events` are oldest first.
pub fn stack_events(stack: &StackInfo, events: &[StackEvent]) -> Value {
    let list: Vec<Value> = events
        .iter()
        .rev()
        .map(|e| {
            object(vec![
                ("StackId", json!(stack.id)),
                ("EventId", json!(e.id)),
                ("StackName", json!(stack.name)),
                ("LogicalResourceId", json!(e.logical_id)),
                ("PhysicalResourceId", opt(&e.physical_id)),
                ("ResourceType", json!(e.resource_type)),
                ("Timestamp", json!(e.timestamp)),
                ("ResourceStatus", json!(e.status)),
                ("ResourceStatusReason", opt(&e.reason)),
            ])
        })
        .collect();
    json!({ "StackEvents": list })
}

/// `aws cloudformation describe-stack-resources --stack-name NAME`.
pub fn stack_resources(stack: &StackInfo, resources: &[StackResource]) -> Value {
    let list: Vec<Value> = resources
        .iter()
        .map(|r| {
            object(vec![
                ("StackName", json!(stack.name)),
                ("StackId", json!(stack.id)),
                ("LogicalResourceId", json!(r.logical_id)),
                ("PhysicalResourceId", opt(&r.physical_id)),
                ("ResourceType", json!(r.resource_type)),
                ("ResourceStatus", json!(r.status)),
                (
                    "DriftInformation",
                    json!({"StackResourceDriftStatus": r.drift_status.as_deref().unwrap_or("NOT_CHECKED")}),
                ),
            ])
        })
        .collect();
    json!({ "StackResources": list })
}

/// `aws cloudformation describe-change-set --change-set-name NAME --stack-name STACK`.
pub fn change_set(cs: &ChangeSet) -> Value {
    let changes: Vec<Value> = cs
        .changes
        .iter()
        .map(|c| {
            let details: Vec<Value> = c
                .details
                .iter()
                .map(|d| {
                    object(vec![
                        (
                            "Target",
                            object(vec![
                                ("Attribute", opt(&d.attribute)),
                                ("Name", opt(&d.name)),
                                ("RequiresRecreation", opt(&d.requires_recreation)),
                            ]),
                        ),
                        ("Evaluation", opt(&d.evaluation)),
                        ("ChangeSource", opt(&d.change_source)),
                        ("CausingEntity", opt(&d.causing_entity)),
                    ])
                })
                .collect();
            json!({
                "Type": "Resource",
                "ResourceChange": object(vec![
                    ("Action", json!(c.action)),
                    ("LogicalResourceId", json!(c.logical_id)),
                    ("PhysicalResourceId", opt(&c.physical_id)),
                    ("ResourceType", json!(c.resource_type)),
                    ("Replacement", opt(&c.replacement)),
                    ("Scope", json!(c.scope)),
                    ("Details", json!(details)),
                ]),
            })
        })
        .collect();
    object(vec![
        ("Changes", json!(changes)),
        ("ChangeSetName", json!(cs.id.name)),
        ("ChangeSetId", json!(cs.id.id)),
        ("StackId", json!(cs.id.stack_id)),
        ("StackName", json!(cs.id.stack_name)),
        ("ExecutionStatus", opt(&cs.execution_status)),
        ("Status", json!(cs.status)),
        ("StatusReason", opt(&cs.status_reason)),
    ])
}

/// `aws ecr describe-image-scan-findings --repository-name REPO --image-id imageTag=TAG`.
pub fn scan_findings(
    registry_id: &str,
    repository: &str,
    digest: &str,
    tag: &str,
    scan: &ScanResult,
) -> Value {
    let findings: Vec<Value> = scan
        .findings
        .iter()
        .map(|f| {
            let attributes: Vec<Value> = f
                .package
                .iter()
                .map(|p| json!({"key": "package_name", "value": p}))
                .collect();
            object(vec![
                ("name", json!(f.name)),
                ("description", opt(&f.description)),
                ("uri", opt(&f.uri)),
                ("severity", json!(f.severity)),
                ("attributes", json!(attributes)),
            ])
        })
        .collect();
    object(vec![
        ("registryId", json!(registry_id)),
        ("repositoryName", json!(repository)),
        ("imageId", json!({"imageDigest": digest, "imageTag": tag})),
        (
            "imageScanStatus",
            object(vec![
                ("status", json!(scan.status)),
                ("description", opt(&scan.description)),
            ]),
        ),
        (
            "imageScanFindings",
            object(vec![
                ("imageScanCompletedAt", opt(&scan.completed_at)),
                ("findingSeverityCounts", json!(scan.counts)),
                ("findings", json!(findings)),
            ]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_newest_first_with_aws_names() {
        let info = StackInfo {
            name: "s".into(),
            id: "arn:s".into(),
            ..Default::default()
        };
        let e = |id: &str, status: &str| StackEvent {
            id: id.into(),
            timestamp: "2026-01-01T00:00:00Z".into(),
            logical_id: "s".into(),
            physical_id: None,
            resource_type: "AWS::CloudFormation::Stack".into(),
            status: status.into(),
            reason: None,
        };
        let v = stack_events(
            &info,
            &[e("1", "CREATE_IN_PROGRESS"), e("2", "CREATE_COMPLETE")],
        );
        assert_eq!(v["StackEvents"][0]["EventId"], "2");
        assert_eq!(v["StackEvents"][0]["ResourceStatus"], "CREATE_COMPLETE");
        assert_eq!(v["StackEvents"][1]["StackId"], "arn:s");
        assert!(v["StackEvents"][0].get("PhysicalResourceId").is_none());
    }

    #[test]
    fn describe_leaves_out_what_aws_leaves_out() {
        let info = StackInfo {
            name: "s".into(),
            id: "arn:s".into(),
            status: "CREATE_COMPLETE".into(),
            parameters: vec![("Env".into(), "dev".into())],
            ..Default::default()
        };
        let v = describe_stacks(&[info]);
        let s = &v["Stacks"][0];
        assert_eq!(s["Parameters"][0]["ParameterKey"], "Env");
        assert!(s.get("Outputs").is_none());
        assert!(s.get("StackStatusReason").is_none());
        assert_eq!(s["EnableTerminationProtection"], false);
    }
}
