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
//! is not in the template.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aws::connect::{Clients, Connect};
use crate::aws::drift::{DetectionStatus, PropertyDifference, RepositoryFacts, ResourceDrift};
use crate::aws::iam::RoleFacts;
use crate::aws::stack_ops::StackResource;
use crate::context::{clients_for, render_live};
use crate::error::{Error, Result};
use crate::plan::diff::canonical;
use crate::poll::{poll_until, Poll};
use crate::project::{Project, Stack};
use crate::render::ops::Selection;
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
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            render: RenderOptions::default(),
            poll: Poll::DRIFT,
        }
    }
}

/// The drift of the selected stacks, in dependency order. A stack whose drift cannot be
/// found out (access denied, a template that no longer renders) is reported with its error;
/// the others are still checked.
pub async fn drift(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    selection: &Selection,
    options: &DriftOptions,
) -> Result<DriftReport> {
    let mut stacks = Vec::new();
    for stack in project.select(&selection.names, selection.all)? {
        let result = match stack_drift(&project, connect.as_ref(), stack, options).await {
            Ok(r) => r,
            Err(e) => StackDriftResult::failed(&stack.name, &e),
        };
        stacks.push(result);
    }
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
    if stack.stack_set.is_some() {
        return stack_set_drift(&clients, stack, options.poll).await;
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
                for d in drifts {
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
                    pointer_escape(&r.logical_id)
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

/// A StackSet's drift: DetectStackSetDrift over every instance, waited on, then each
/// instance's drift status. Where the endpoint has no StackSet drift detection, the status of
/// the last detection is reported, with a note. A drifted instance is reported as a resource
/// `<account>/<region>`; `little drift` on the instance's own stack gives its resources.
pub async fn stack_set_drift(
    clients: &Clients,
    stack: &Stack,
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
    let prefs = stack
        .stack_set
        .as_ref()
        .map(|s| s.preferences.clone())
        .unwrap_or_default();
    match clients.stack_sets.detect_drift(name, &prefs).await? {
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

/// A JSON pointer token (`~` and `/` escaped).
fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Whether a template value is (or holds) an intrinsic function.
fn has_intrinsic(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            m.keys().any(|k| k == "Ref" || k.starts_with("Fn::")) || m.values().any(has_intrinsic)
        }
        Value::Array(items) => items.iter().any(has_intrinsic),
        _ => false,
    }
}

/// A value's text in a difference: strings as they are, others as compact JSON.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Collects the differences of one resource.
struct Differences<'a> {
    properties: &'a Value,
    found: Vec<PropertyDifference>,
    skipped: &'a mut Vec<String>,
}

impl Differences<'_> {
    /// The template's value at a pointer, unless absent or built with intrinsic functions
    /// (then noted as skipped).
    fn expected(&mut self, path: &str) -> Option<Value> {
        let v = self.properties.pointer(path)?;
        if has_intrinsic(v) {
            self.skipped.push(path.to_owned());
            return None;
        }
        Some(v.clone())
    }

    fn differ(&mut self, path: &str, expected: &Value, actual: &Value) {
        if canonical(expected) == canonical(actual) {
            return;
        }
        let kind = match (expected.is_null(), actual.is_null()) {
            (false, true) => "REMOVE",
            (true, false) => "ADD",
            _ => "NOT_EQUAL",
        };
        self.found.push(PropertyDifference {
            path: path.to_owned(),
            expected: shown(expected),
            actual: shown(actual),
            kind: kind.into(),
        });
    }

    /// Compares a template string property with the live text (absent live: null).
    fn text(&mut self, path: &str, actual: Option<&str>) {
        if let Some(expected) = self.expected(path) {
            let actual = actual
                .map(|a| Value::String(a.to_owned()))
                .unwrap_or(Value::Null);
            self.differ(path, &expected, &actual);
        }
    }

    /// Compares a JSON document (object or JSON text in the template) with the live text.
    fn document(&mut self, path: &str, actual: Option<&Value>) {
        if let Some(expected) = self.expected(path) {
            self.differ(path, &expected, actual.unwrap_or(&Value::Null));
        }
    }

    fn into_drift(self, r: &StackResource) -> ResourceDrift {
        ResourceDrift {
            logical_id: r.logical_id.clone(),
            physical_id: r.physical_id.clone(),
            resource_type: r.resource_type.clone(),
            status: if self.found.is_empty() {
                "IN_SYNC"
            } else {
                "MODIFIED"
            }
            .into(),
            differences: self.found,
        }
    }
}

fn deleted(r: &StackResource) -> ResourceDrift {
    ResourceDrift {
        logical_id: r.logical_id.clone(),
        physical_id: r.physical_id.clone(),
        resource_type: r.resource_type.clone(),
        status: "DELETED".into(),
        differences: Vec::new(),
    }
}

/// A JSON text as a value: parsed if it is JSON, else the text.
fn json_text(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))
}

/// Compares an ECR repository's template properties with its live configuration.
pub fn compare_repository(
    r: &StackResource,
    properties: &Value,
    live: Option<&RepositoryFacts>,
    skipped: &mut Vec<String>,
) -> ResourceDrift {
    let Some(live) = live else {
        return deleted(r);
    };
    let mut d = Differences {
        properties,
        found: Vec::new(),
        skipped,
    };
    d.text("/ImageTagMutability", Some(&live.tag_mutability));
    if let Some(expected) = d.expected("/ImageTagMutabilityExclusionFilters") {
        let want: BTreeSet<(String, String)> = expected
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                (
                    shown(&f["ImageTagMutabilityExclusionFilterType"]),
                    shown(&f["ImageTagMutabilityExclusionFilterValue"]),
                )
            })
            .collect();
        let have: BTreeSet<(String, String)> = live.exclusion_filters.iter().cloned().collect();
        if want != have {
            let list = |s: &BTreeSet<(String, String)>| {
                Value::Array(
                    s.iter()
                        .map(|(t, f)| {
                            serde_json::json!({
                                "ImageTagMutabilityExclusionFilterType": t,
                                "ImageTagMutabilityExclusionFilterValue": f,
                            })
                        })
                        .collect(),
                )
            };
            d.differ(
                "/ImageTagMutabilityExclusionFilters",
                &list(&want),
                &list(&have),
            );
        }
    }
    if let Some(expected) = d.expected("/ImageScanningConfiguration/ScanOnPush") {
        d.differ(
            "/ImageScanningConfiguration/ScanOnPush",
            &expected,
            &Value::Bool(live.scan_on_push),
        );
    }
    d.text(
        "/EncryptionConfiguration/EncryptionType",
        Some(&live.encryption_type),
    );
    d.text("/EncryptionConfiguration/KmsKey", live.kms_key.as_deref());
    let lifecycle = live.lifecycle_policy.as_deref().map(json_text);
    d.document("/LifecyclePolicy/LifecyclePolicyText", lifecycle.as_ref());
    let policy = live.repository_policy.as_deref().map(json_text);
    d.document("/RepositoryPolicyText", policy.as_ref());
    if let Some(tags) = d.expected("/Tags") {
        compare_tags(&mut d, &tags, &live.tags);
    }
    d.into_drift(r)
}

/// The template's tags (a list of Key/Value) against the live ones: each template tag must be
/// there with its value; tags added outside the template (stack tags, AWS's own) are not drift.
fn compare_tags(d: &mut Differences<'_>, tags: &Value, live: &BTreeMap<String, String>) {
    for (i, tag) in tags.as_array().into_iter().flatten().enumerate() {
        let key = shown(&tag["Key"]);
        let value = &tag["Value"];
        match live.get(&key) {
            Some(v) => d.differ(
                &format!("/Tags/{i}/Value"),
                value,
                &Value::String(v.clone()),
            ),
            None => d.differ(&format!("/Tags/{i}"), tag, &Value::Null),
        }
    }
}

/// Compares an IAM role's template properties with its live policies.
pub fn compare_role(
    r: &StackResource,
    properties: &Value,
    live: Option<&RoleFacts>,
    skipped: &mut Vec<String>,
) -> ResourceDrift {
    let Some(live) = live else {
        return deleted(r);
    };
    let mut d = Differences {
        properties,
        found: Vec::new(),
        skipped,
    };
    d.document("/AssumeRolePolicyDocument", Some(&live.trust_policy));
    if properties.get("Policies").is_some() {
        let mut named: BTreeSet<String> = BTreeSet::new();
        let count = properties["Policies"].as_array().map_or(0, Vec::len);
        for i in 0..count {
            let Some(name) = d.expected(&format!("/Policies/{i}/PolicyName")) else {
                continue;
            };
            let name = shown(&name);
            named.insert(name.clone());
            match live.inline.get(&name) {
                Some(doc) => d.document(&format!("/Policies/{i}/PolicyDocument"), Some(doc)),
                None => {
                    let expected = properties["Policies"][i].clone();
                    d.differ(&format!("/Policies/{i}"), &expected, &Value::Null);
                }
            }
        }
        // Inline policies added outside the template; unknown when a name is computed.
        let computed = d.skipped.iter().any(|p| p.ends_with("/PolicyName"));
        if !computed {
            for (name, doc) in &live.inline {
                if !named.contains(name) {
                    let actual = serde_json::json!({"PolicyName": name, "PolicyDocument": doc});
                    d.differ(&format!("/Policies/{name}"), &Value::Null, &actual);
                }
            }
        }
    }
    if let Some(expected) = d.expected("/ManagedPolicyArns") {
        let want: BTreeSet<String> = expected
            .as_array()
            .into_iter()
            .flatten()
            .map(shown)
            .collect();
        let have: BTreeSet<String> = live.managed.iter().cloned().collect();
        for arn in want.difference(&have) {
            d.differ(
                "/ManagedPolicyArns",
                &Value::String(arn.clone()),
                &Value::Null,
            );
        }
        for arn in have.difference(&want) {
            d.differ(
                "/ManagedPolicyArns",
                &Value::Null,
                &Value::String(arn.clone()),
            );
        }
    }
    d.into_drift(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fake::{project, FakeAws, FakeConnect};
    use serde_json::json;
    use std::time::Duration;

    fn repo_resource() -> StackResource {
        StackResource {
            logical_id: "Repo".into(),
            physical_id: Some("little/api".into()),
            resource_type: ECR_REPOSITORY.into(),
            status: "CREATE_COMPLETE".into(),
            drift_status: None,
        }
    }

    fn live_repo() -> RepositoryFacts {
        RepositoryFacts {
            name: "little/api".into(),
            arn: "arn:aws:ecr:us-east-1:123456789012:repository/little/api".into(),
            tag_mutability: "IMMUTABLE".into(),
            exclusion_filters: Vec::new(),
            scan_on_push: true,
            encryption_type: "AES256".into(),
            kms_key: None,
            lifecycle_policy: Some(
                "{\"rules\":[{\"rulePriority\":1,\"selection\":{\"tagStatus\":\"untagged\",\"countType\":\"sinceImagePushed\",\"countUnit\":\"days\",\"countNumber\":14},\"action\":{\"type\":\"expire\"}}]}".into(),
            ),
            repository_policy: None,
            tags: [("team".to_owned(), "platform".to_owned())].into(),
        }
    }

    fn repo_properties() -> Value {
        json!({
            "RepositoryName": "little/api",
            "ImageTagMutability": "IMMUTABLE",
            "ImageScanningConfiguration": {"ScanOnPush": true},
            "EncryptionConfiguration": {"EncryptionType": "AES256"},
            // JSON text with other spacing and key order: the same policy.
            "LifecyclePolicy": {"LifecyclePolicyText": "{ \"rules\": [ { \"action\": {\"type\": \"expire\"}, \"rulePriority\": 1, \"selection\": {\"countNumber\": 14, \"countUnit\": \"days\", \"countType\": \"sinceImagePushed\", \"tagStatus\": \"untagged\"} } ] }"},
            "Tags": [{"Key": "team", "Value": "platform"}]
        })
    }

    #[test]
    fn a_repository_as_templated_is_in_sync() {
        let mut skipped = Vec::new();
        let d = compare_repository(
            &repo_resource(),
            &repo_properties(),
            Some(&live_repo()),
            &mut skipped,
        );
        assert_eq!(d.status, "IN_SYNC", "{d:?}");
        assert!(skipped.is_empty());
    }

    #[test]
    fn a_changed_repository_shows_each_difference() {
        let mut live = live_repo();
        live.tag_mutability = "MUTABLE".into();
        live.scan_on_push = false;
        live.lifecycle_policy = None;
        live.repository_policy = Some("{\"Version\":\"2012-10-17\",\"Statement\":[]}".into());
        live.tags.insert("team".into(), "other".into());
        let mut props = repo_properties();
        props["RepositoryPolicyText"] = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}}, "Action": "ecr:*"}]});
        let mut skipped = Vec::new();
        let d = compare_repository(&repo_resource(), &props, Some(&live), &mut skipped);
        assert_eq!(d.status, "MODIFIED");
        let got: Vec<(&str, &str, &str, &str)> = d
            .differences
            .iter()
            .map(|p| {
                (
                    p.path.as_str(),
                    p.expected.as_str(),
                    p.actual.as_str(),
                    p.kind.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got[0],
            ("/ImageTagMutability", "IMMUTABLE", "MUTABLE", "NOT_EQUAL")
        );
        assert_eq!(
            got[1],
            (
                "/ImageScanningConfiguration/ScanOnPush",
                "true",
                "false",
                "NOT_EQUAL"
            )
        );
        assert_eq!(got[2].0, "/LifecyclePolicy/LifecyclePolicyText");
        assert_eq!(got[2].3, "REMOVE");
        assert_eq!(got[3], ("/Tags/0/Value", "platform", "other", "NOT_EQUAL"));
        assert_eq!(got.len(), 4);
        // The policy names the account through Fn::Sub: not compared, and said so.
        assert_eq!(skipped, ["/RepositoryPolicyText"]);
    }

    #[test]
    fn a_missing_repository_is_deleted() {
        let d = compare_repository(&repo_resource(), &repo_properties(), None, &mut Vec::new());
        assert_eq!(d.status, "DELETED");
    }

    fn role_resource() -> StackResource {
        StackResource {
            logical_id: "Role".into(),
            physical_id: Some("little-ci".into()),
            resource_type: IAM_ROLE.into(),
            status: "CREATE_COMPLETE".into(),
            drift_status: None,
        }
    }

    fn trust() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    }

    fn push() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:PutImage"], "Resource": "*"}]})
    }

    #[test]
    fn a_role_compares_trust_inline_and_managed_policies() {
        let props = json!({
            "AssumeRolePolicyDocument": trust(),
            "Policies": [{"PolicyName": "push", "PolicyDocument": push()}],
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        });
        let same = RoleFacts {
            trust_policy: trust(),
            inline: [("push".to_owned(), push())].into(),
            managed: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
        };
        let d = compare_role(&role_resource(), &props, Some(&same), &mut Vec::new());
        assert_eq!(d.status, "IN_SYNC", "{d:?}");

        let mut wider = push();
        wider["Statement"][0]["Action"] = json!(["ecr:*"]);
        let changed = RoleFacts {
            trust_policy: trust(),
            inline: [
                ("push".to_owned(), wider),
                ("extra".to_owned(), json!({"Statement": []})),
            ]
            .into(),
            managed: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
        };
        let d = compare_role(&role_resource(), &props, Some(&changed), &mut Vec::new());
        let paths: Vec<(&str, &str)> = d
            .differences
            .iter()
            .map(|p| (p.path.as_str(), p.kind.as_str()))
            .collect();
        assert_eq!(
            paths,
            [
                ("/Policies/0/PolicyDocument", "NOT_EQUAL"),
                ("/Policies/extra", "ADD"),
                ("/ManagedPolicyArns", "REMOVE"),
                ("/ManagedPolicyArns", "ADD"),
            ]
        );
    }

    const TEMPLATE: &str = r#"{
  "Resources": {
    "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "little/api", "ImageTagMutability": "IMMUTABLE"}},
    "Topic": {"Type": "AWS::SNS::Topic"}
  }
}
"#;

    fn fake_stack(aws: &FakeAws) {
        aws.deploy("registry", TEMPLATE, &[], &[]);
        aws.resources.lock().unwrap().insert(
            "registry".into(),
            vec![
                repo_resource(),
                StackResource {
                    logical_id: "Topic".into(),
                    physical_id: Some(
                        "arn:aws:sns:us-east-1:123456789012:registry-Topic-1B2C3D4E5F6G".into(),
                    ),
                    resource_type: "AWS::SNS::Topic".into(),
                    status: "CREATE_COMPLETE".into(),
                    drift_status: None,
                },
            ],
        );
    }

    fn selection(names: &[&str]) -> Selection {
        Selection {
            names: names.iter().map(|s| (*s).to_owned()).collect(),
            all: false,
        }
    }

    #[tokio::test]
    async fn without_cloudformation_detection_the_live_resources_are_compared() {
        let (_dir, project) = project(&[
            ("templates/registry.json", TEMPLATE),
            (
                "stacks/registry.yaml",
                "name: registry\ntemplate: registry.json\n",
            ),
        ]);
        let aws = FakeAws::new();
        fake_stack(&aws);
        let mut live = live_repo();
        live.tag_mutability = "MUTABLE".into();
        aws.repositories
            .lock()
            .unwrap()
            .insert("little/api".into(), live);
        let report = drift(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            &selection(&["registry"]),
            &DriftOptions::default(),
        )
        .await
        .unwrap();
        assert!(report.drifted());
        let s = &report.stacks[0];
        assert_eq!(s.method, DriftMethod::Direct);
        assert_eq!(s.resources.len(), 1);
        assert_eq!(s.resources[0].differences[0].path, "/ImageTagMutability");
        assert_eq!(s.not_checked, ["Topic (AWS::SNS::Topic)"]);

        // Back as templated: in sync.
        aws.repositories
            .lock()
            .unwrap()
            .insert("little/api".into(), live_repo());
        let report = drift(
            project,
            Arc::new(FakeConnect(aws.clone())),
            &selection(&["registry"]),
            &DriftOptions::default(),
        )
        .await
        .unwrap();
        assert!(!report.drifted());
        assert!(report.stacks[0].resources.is_empty());
    }

    #[tokio::test]
    async fn cloudformation_detection_wins_and_not_checked_resources_are_compared() {
        let (_dir, project) = project(&[
            ("templates/registry.json", TEMPLATE),
            (
                "stacks/registry.yaml",
                "name: registry\ntemplate: registry.json\n",
            ),
            ("templates/other.json", TEMPLATE),
            ("stacks/other.yaml", "name: other\ntemplate: other.json\n"),
        ]);
        let aws = FakeAws::new();
        fake_stack(&aws);
        let not_checked = |r: StackResource| ResourceDrift {
            logical_id: r.logical_id,
            physical_id: r.physical_id,
            resource_type: r.resource_type,
            status: "NOT_CHECKED".into(),
            differences: Vec::new(),
        };
        let topic = aws.resources.lock().unwrap()["registry"][1].clone();
        aws.drifts.lock().unwrap().insert(
            "registry".into(),
            vec![not_checked(repo_resource()), not_checked(topic)],
        );
        aws.repositories
            .lock()
            .unwrap()
            .insert("little/api".into(), live_repo());
        let report = drift(
            project,
            Arc::new(FakeConnect(aws.clone())),
            &selection(&["registry", "other"]),
            &DriftOptions::default(),
        )
        .await
        .unwrap();
        let s = &report.stacks[0];
        assert_eq!(s.stack, "other");
        assert_eq!(s.method, DriftMethod::None);
        assert_eq!(s.note.as_deref(), Some("not deployed"));
        let s = &report.stacks[1];
        assert_eq!(s.method, DriftMethod::CloudFormation);
        assert!(!s.drifted, "{s:?}");
        assert_eq!(s.not_checked, ["Topic (AWS::SNS::Topic)"]);
        let calls = aws.calls();
        assert!(calls.contains(&"DescribeRepositories little/api".to_owned()));
        assert!(!calls.iter().any(|c| c.starts_with("ListStackResources")));
    }

    /// CloudFormation's detection, in progress twice and then complete.
    struct Scripted {
        statuses: std::sync::Mutex<Vec<crate::aws::drift::DetectionStatus>>,
        polls: std::sync::Mutex<usize>,
    }

    #[async_trait::async_trait]
    impl crate::aws::drift::StackDrift for Scripted {
        async fn detect(&self, _stack: &str) -> Result<Option<String>> {
            Ok(Some("b78ac9b0-dec1-11e7-a451-503a3b0e4e82".into()))
        }
        async fn status(&self, _id: &str) -> Result<crate::aws::drift::DetectionStatus> {
            *self.polls.lock().unwrap() += 1;
            Ok(self.statuses.lock().unwrap().remove(0))
        }
        async fn resource_drifts(&self, _stack: &str) -> Result<Vec<ResourceDrift>> {
            Ok(vec![ResourceDrift {
                logical_id: "Repo".into(),
                physical_id: Some("little/api".into()),
                resource_type: ECR_REPOSITORY.into(),
                status: "MODIFIED".into(),
                differences: vec![PropertyDifference {
                    path: "/ImageTagMutability".into(),
                    expected: "IMMUTABLE".into(),
                    actual: "MUTABLE".into(),
                    kind: "NOT_EQUAL".into(),
                }],
            }])
        }
        async fn repository(&self, _name: &str) -> Result<Option<RepositoryFacts>> {
            panic!("a MODIFIED resource is not compared again")
        }
    }

    struct ScriptedConnect(Arc<FakeAws>, Arc<Scripted>);

    #[async_trait::async_trait]
    impl Connect for ScriptedConnect {
        async fn clients(
            &self,
            region: Option<&str>,
            account: Option<&crate::project::Account>,
        ) -> Result<Clients> {
            let mut c = FakeConnect(self.0.clone()).clients(region, account).await?;
            c.drift = self.1.clone();
            Ok(c)
        }

        async fn caller(
            &self,
            region: Option<&str>,
            account: Option<&crate::project::Account>,
        ) -> Result<crate::aws::connect::Caller> {
            FakeConnect(self.0.clone()).caller(region, account).await
        }
    }

    #[tokio::test]
    async fn the_detection_is_polled_until_it_completes() {
        let (_dir, project) = project(&[
            ("templates/registry.json", TEMPLATE),
            (
                "stacks/registry.yaml",
                "name: registry\ntemplate: registry.json\n",
            ),
        ]);
        let aws = FakeAws::new();
        fake_stack(&aws);
        let status = |s: &str, d: Option<&str>| crate::aws::drift::DetectionStatus {
            status: s.into(),
            drift_status: d.map(str::to_owned),
            reason: None,
        };
        let scripted = Arc::new(Scripted {
            statuses: std::sync::Mutex::new(vec![
                status("DETECTION_IN_PROGRESS", None),
                status("DETECTION_IN_PROGRESS", None),
                status("DETECTION_COMPLETE", Some("DRIFTED")),
            ]),
            polls: std::sync::Mutex::new(0),
        });
        let options = DriftOptions {
            poll: Poll {
                first: Duration::from_millis(1),
                max: Duration::from_millis(2),
                timeout: Duration::from_secs(5),
            },
            ..DriftOptions::default()
        };
        let report = drift(
            project,
            Arc::new(ScriptedConnect(aws, scripted.clone())),
            &selection(&["registry"]),
            &options,
        )
        .await
        .unwrap();
        assert_eq!(*scripted.polls.lock().unwrap(), 3);
        let s = &report.stacks[0];
        assert_eq!(s.method, DriftMethod::CloudFormation);
        assert!(s.drifted);
        assert_eq!(s.resources[0].differences[0].actual, "MUTABLE");
        assert!(s.not_checked.is_empty());
    }
}
