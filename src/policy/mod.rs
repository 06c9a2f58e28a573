//! Validation of the policy documents a project keeps under `policies/`: ECR lifecycle policies
//! and IAM policy documents (identity, resource and trust policies). Each problem comes with an
//! RFC 6901 pointer into the document so that the caller can show where it is.
//!
//! This module checks grammar only, offline and without AWS calls: it does not check that
//! actions, principals, ARNs or condition keys exist, does not evaluate policies, and does not
//! read files or locate pointers in text (see `locate`). All problems are reported, not just the
//! first.
//!
//! Here: the kinds of document, [`validate`], and the reading every policy user shares
//! ([`statements`], [`strings_of`]). The grammars are in `lifecycle` and `iam`; the expansion
//! of a template's policies into permission tuples, for the plan's risks, is in [`expand`].

pub mod expand;
mod iam;
mod lifecycle;
pub mod lifecycle_eval;

use serde_json::{Map, Value};

use crate::text::{child, one_of};

/// What a policy document under `policies/` is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// An ECR lifecycle policy (`{"rules": [...]}`).
    Lifecycle,
    /// An IAM policy attached to a user, group or role.
    Identity,
    /// A resource-based policy (ECR repository, S3 bucket, SQS queue, SNS topic).
    Resource,
    /// A role's trust policy (assume-role policy document).
    Trust,
}

/// Kind from the document's name under policies/: first path component `lifecycle` -> Lifecycle,
/// `repository`|`resource`|`bucket`|`queue`|`topic` -> Resource, `trust` -> Trust, `iam`|`identity` -> Identity;
/// otherwise guess from the document: object with `rules` -> Lifecycle; any statement with Principal/NotPrincipal
/// and an sts:AssumeRole* action -> Trust; with Principal -> Resource; else Identity.
///
/// `name` is the document's path under `policies/`, usually without its extension
/// (`lifecycle/dev-images`); the component is compared exactly, so `trust.json` is guessed from
/// its content while `trust` is a trust policy. A leading `./` or `policies/` is ignored.
pub fn kind_for(name: &str, doc: &Value) -> PolicyKind {
    let mut components = name
        .split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>();
    if components.len() > 1 && components[0] == "policies" {
        components.remove(0);
    }
    if let Some(first) = components.first() {
        match *first {
            "lifecycle" => return PolicyKind::Lifecycle,
            "repository" | "resource" | "bucket" | "queue" | "topic" => {
                return PolicyKind::Resource
            }
            "trust" => return PolicyKind::Trust,
            "iam" | "identity" => return PolicyKind::Identity,
            _ => {}
        }
    }
    guess_kind(doc)
}

fn guess_kind(doc: &Value) -> PolicyKind {
    let Some(root) = doc.as_object() else {
        return PolicyKind::Identity;
    };
    if root.contains_key("rules") {
        return PolicyKind::Lifecycle;
    }
    let statements = statements(doc);
    let has_principal =
        |s: &Map<String, Value>| s.contains_key("Principal") || s.contains_key("NotPrincipal");
    let assumes_role = |s: &Map<String, Value>| {
        strings_of(s.get("Action"))
            .iter()
            .any(|a| a.to_ascii_lowercase().starts_with("sts:assumerole"))
    };
    if statements
        .iter()
        .any(|s| has_principal(s) && assumes_role(s))
    {
        PolicyKind::Trust
    } else if statements.iter().any(|s| has_principal(s)) {
        PolicyKind::Resource
    } else {
        PolicyKind::Identity
    }
}

/// The statement objects of a policy document: its `Statement` object, or the objects of its
/// `Statement` array (other entries are skipped); none when there is no such key.
pub fn statements(doc: &Value) -> Vec<&Map<String, Value>> {
    match doc.get("Statement") {
        Some(Value::Object(s)) => vec![s],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// The strings of a string-or-array-of-strings value; other values give none.
pub fn strings_of(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// One problem in a policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    /// RFC 6901 JSON pointer into the document; `""` for the root.
    pub pointer: String,
    pub message: String,
}

/// Checks `doc` against the grammar of `kind`; returns every problem, in document order.
pub fn validate(kind: PolicyKind, doc: &Value) -> Vec<PolicyProblem> {
    let mut out = Problems::default();
    match kind {
        PolicyKind::Lifecycle => lifecycle::lifecycle(doc, &mut out),
        PolicyKind::Identity | PolicyKind::Resource | PolicyKind::Trust => {
            iam::policy_document(kind, doc, &mut out)
        }
    }
    out.0
}

#[derive(Default)]
struct Problems(Vec<PolicyProblem>);

impl Problems {
    fn push(&mut self, pointer: &str, message: impl Into<String>) {
        self.0.push(PolicyProblem {
            pointer: pointer.to_owned(),
            message: message.into(),
        });
    }
}

fn unknown_keys(
    pointer: &str,
    object: &Map<String, Value>,
    allowed: &[&str],
    prefix: &str,
    out: &mut Problems,
) {
    for key in object.keys() {
        if !allowed.contains(&key.as_str()) {
            out.push(
                &child(pointer, key),
                format!("{prefix}unknown key `{key}`; expected {}", one_of(allowed)),
            );
        }
    }
}

#[cfg(test)]
mod tests;
