//! A template's policies as permission tuples: every (principal × action × resource ×
//! condition) of every statement of every policy a resource carries (trust, inline, managed,
//! resource and key policies), read from its canonical form, so that two versions of a resource
//! can be compared tuple by tuple.
//!
//! Intrinsic functions are not resolved: both branches of `Fn::If` count, `Ref: AWS::NoValue`
//! counts as nothing, and any other function counts as the text of its compact JSON. Nothing
//! here evaluates policies or matches wildcards (`ecr:*` and `ecr:PutImage` are two actions),
//! and nothing judges a change: that is the plan's risk analysis.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::template::intrinsic::is_intrinsic;

/// One (principal × action × resource) tuple of one policy statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Permission {
    /// Where the statement is: `AssumeRolePolicyDocument`, `Policies[ecr-push]`,
    /// `ManagedPolicyArns`, `RepositoryPolicyText`, `PolicyDocument`, `KeyPolicy`, ...
    pub policy: String,
    /// `Allow` or `Deny` as written (`-` when missing).
    pub effect: String,
    /// `*`, `AWS:<arn>`, `Service:<name>`, `Federated:<provider>`, `CanonicalUser:<id>`;
    /// `NOT ...` for `NotPrincipal`; `-` for identity policies (no principal).
    pub principal: String,
    /// The action; `NOT ...` for `NotAction`; `(managed policy)` for a managed policy ARN.
    pub action: String,
    /// The resource; `NOT ...` for `NotResource`; `-` when there is none.
    pub resource: String,
    /// The statement's `Condition` as compact canonical JSON (keys sorted, value lists sorted).
    pub condition: Option<String>,
}

/// Every permission tuple of a canonical resource, sorted and without duplicates.
pub fn permissions(resource: &Value) -> Vec<Permission> {
    let mut out = Vec::new();
    let resource_type = resource
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let empty = Map::new();
    let props = resource
        .get("Properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    // Each document is named by its property.
    let document = |key: &str, out: &mut Vec<Permission>| {
        if let Some(doc) = props.get(key) {
            expand_document(key, doc, out);
        }
    };
    match resource_type {
        "AWS::IAM::Role" => {
            document("AssumeRolePolicyDocument", &mut out);
            inline_policies(props.get("Policies"), &mut out);
            managed_policies(props.get("ManagedPolicyArns"), &mut out);
        }
        "AWS::IAM::User" | "AWS::IAM::Group" => {
            inline_policies(props.get("Policies"), &mut out);
            managed_policies(props.get("ManagedPolicyArns"), &mut out);
        }
        "AWS::IAM::Policy"
        | "AWS::IAM::ManagedPolicy"
        | "AWS::IAM::RolePolicy"
        | "AWS::IAM::UserPolicy"
        | "AWS::IAM::GroupPolicy"
        | "AWS::S3::BucketPolicy"
        | "AWS::SQS::QueuePolicy"
        | "AWS::SNS::TopicPolicy" => document("PolicyDocument", &mut out),
        "AWS::ECR::Repository" => document("RepositoryPolicyText", &mut out),
        "AWS::ECR::RegistryPolicy" => document("PolicyText", &mut out),
        "AWS::KMS::Key" | "AWS::KMS::ReplicaKey" => document("KeyPolicy", &mut out),
        "AWS::SecretsManager::ResourcePolicy" => document("ResourcePolicy", &mut out),
        _ => {}
    }
    sort_permissions(&mut out);
    out
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => compact(other),
    }
}

/// The values a template value may take: both branches of `Fn::If`, nothing for
/// `Ref: AWS::NoValue`, the value itself otherwise.
fn branches(v: &Value) -> Vec<&Value> {
    if let Some(Value::String(r)) = v.get("Ref") {
        if r == "AWS::NoValue" && is_intrinsic(v) {
            return Vec::new();
        }
    }
    if is_intrinsic(v) {
        if let Some(Value::Array(args)) = v.get("Fn::If") {
            if let [_, yes, no] = args.as_slice() {
                let mut out = branches(yes);
                out.extend(branches(no));
                return out;
            }
        }
    }
    vec![v]
}

/// The items of a list value (each branch flattened); a value that is not a list is one item.
fn items(v: &Value) -> Vec<&Value> {
    branches(v)
        .into_iter()
        .flat_map(|b| match b {
            Value::Array(list) => list.iter().flat_map(branches).collect(),
            other => vec![other],
        })
        .collect()
}

fn inline_policies(policies: Option<&Value>, out: &mut Vec<Permission>) {
    let Some(policies) = policies else {
        return;
    };
    for (i, policy) in items(policies).into_iter().enumerate() {
        let name = match policy.get("PolicyName") {
            Some(n) => text(n),
            None => i.to_string(),
        };
        match policy.get("PolicyDocument") {
            Some(doc) if !is_intrinsic(policy) => {
                expand_document(&format!("Policies[{name}]"), doc, out)
            }
            _ => out.push(unresolved(
                &format!("Policies[{i}]"),
                "(unresolved policy)",
                policy,
            )),
        }
    }
}

fn managed_policies(arns: Option<&Value>, out: &mut Vec<Permission>) {
    let Some(arns) = arns else {
        return;
    };
    for arn in items(arns) {
        out.push(Permission {
            policy: "ManagedPolicyArns".into(),
            effect: "Allow".into(),
            principal: "-".into(),
            action: "(managed policy)".into(),
            resource: text(arn),
            condition: None,
        });
    }
}

/// A part of a policy that cannot be read without resolving intrinsic functions: counted as an
/// Allow of its text, so that any change to it shows.
fn unresolved(policy: &str, what: &str, v: &Value) -> Permission {
    Permission {
        policy: policy.to_owned(),
        effect: "Allow".into(),
        principal: "-".into(),
        action: what.to_owned(),
        resource: compact(v),
        condition: None,
    }
}

pub fn expand_document(policy: &str, doc: &Value, out: &mut Vec<Permission>) {
    for doc in branches(doc) {
        // `Fn::Sub` of a document (already parsed by `canonical`): read the document, with its
        // placeholders as text.
        let doc = match doc.get("Fn::Sub") {
            Some(Value::Array(args)) if is_intrinsic(doc) => args.first().unwrap_or(doc),
            Some(inner) if is_intrinsic(doc) && inner.is_object() => inner,
            _ => doc,
        };
        let statements = match doc.get("Statement") {
            Some(s) if !is_intrinsic(doc) => s,
            _ => {
                out.push(unresolved(policy, "(unresolved policy document)", doc));
                continue;
            }
        };
        for statement in items(statements) {
            match statement.as_object() {
                Some(m) if !is_intrinsic(statement) => expand_statement(policy, m, out),
                _ => out.push(unresolved(policy, "(unresolved statement)", statement)),
            }
        }
    }
}

/// The texts of a list-valued field (`Action`, `Resource`, a principal's values).
fn texts(v: &Value) -> Vec<String> {
    if is_intrinsic(v) {
        return vec![compact(v)];
    }
    match v {
        Value::Array(list) => list.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

fn principal_texts(v: &Value) -> Vec<String> {
    match v {
        Value::Object(m) if !is_intrinsic(v) => m
            .iter()
            .flat_map(|(kind, values)| {
                texts(values)
                    .into_iter()
                    .map(move |value| format!("{kind}:{value}"))
            })
            .collect(),
        other => texts(other),
    }
}

/// The texts of a field and its `Not` form (`NOT ...`); `-` when neither is there.
fn field_texts(
    m: &Map<String, Value>,
    field: &str,
    not_field: &str,
    read: fn(&Value) -> Vec<String>,
) -> Vec<String> {
    let mut out: Vec<String> = m.get(field).map(read).unwrap_or_default();
    if let Some(v) = m.get(not_field) {
        out.extend(read(v).into_iter().map(|t| format!("NOT {t}")));
    }
    if !m.contains_key(field) && !m.contains_key(not_field) {
        out.push("-".into());
    }
    out.sort();
    out.dedup();
    out
}

/// The most (principal × action × resource) tuples one statement is expanded into.
const MAX_TUPLES: usize = 10_000;

pub fn expand_statement(policy: &str, m: &Map<String, Value>, out: &mut Vec<Permission>) {
    let effect = m.get("Effect").map(text).unwrap_or_else(|| "-".into());
    let principals = field_texts(m, "Principal", "NotPrincipal", principal_texts);
    let actions = field_texts(m, "Action", "NotAction", texts);
    let resources = field_texts(m, "Resource", "NotResource", texts);
    let condition = m.get("Condition").map(|c| compact(&condition_form(c)));
    let tuples = principals
        .len()
        .saturating_mul(actions.len())
        .saturating_mul(resources.len());
    if tuples > MAX_TUPLES {
        // Too many to list one by one: one permission of the joined lists.
        out.push(Permission {
            policy: policy.to_owned(),
            effect,
            principal: principals.join(", "),
            action: actions.join(", "),
            resource: resources.join(", "),
            condition,
        });
        return;
    }
    for principal in &principals {
        for action in &actions {
            for resource in &resources {
                out.push(Permission {
                    policy: policy.to_owned(),
                    effect: effect.clone(),
                    principal: principal.clone(),
                    action: action.clone(),
                    resource: resource.clone(),
                    condition: condition.clone(),
                });
            }
        }
    }
}

/// A condition without order: keys sorted (already, by `canonical`), value lists sorted and
/// without duplicates, a one-value list as the value itself.
fn condition_form(v: &Value) -> Value {
    if is_intrinsic(v) {
        return v.clone();
    }
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), condition_form(v)))
                .collect(),
        ),
        Value::Array(list) => {
            let mut items: Vec<Value> = list.iter().map(condition_form).collect();
            items.sort_by_key(compact);
            items.dedup();
            match <[Value; 1]>::try_from(items) {
                Ok([one]) => one,
                Err(items) => Value::Array(items),
            }
        }
        other => other.clone(),
    }
}

fn order(a: &Permission, b: &Permission) -> Ordering {
    (
        &a.policy,
        &a.effect,
        &a.principal,
        &a.action,
        &a.resource,
        &a.condition,
    )
        .cmp(&(
            &b.policy,
            &b.effect,
            &b.principal,
            &b.action,
            &b.resource,
            &b.condition,
        ))
}

pub fn sort_permissions(list: &mut Vec<Permission>) {
    list.sort_by(order);
    list.dedup_by(|a, b| order(a, b) == Ordering::Equal);
}

/// Membership in a sorted list.
pub fn contains(sorted: &[Permission], p: &Permission) -> bool {
    sorted.binary_search_by(|q| order(q, p)).is_ok()
}
