//! Formatting-only differences: where a deployed resource and its rendered form mean the same
//! (the semantic diff finds no change in it) but are written differently in a way that
//! CloudFormation sees, so that a change set would list the resource as `Modify` and send it
//! again: a JSON document embedded as a string (`LifecyclePolicyText`, `RepositoryPolicyText`,
//! a policy given as a string) with other spacing or key order, a document that is a string on
//! one side and JSON on the other, an order-insensitive list (tags, statements) in another
//! order.
//!
//! Key order, number spelling and the short forms of intrinsic functions are no formatting
//! here: CloudFormation reads the template, so they never reach a resource. This module only
//! reports; the semantic diff is the parent module, and what a plan does with these is `run`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{present, render_path, type_text, Seg, TemplateDiff, ATTRIBUTES};
use crate::template::canonical::{
    canonical, canonical_text, child_ctx, holds_statements, norm, Ctx,
};

/// How a value is written differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FormattingKind {
    /// A JSON document held in a string, with other spacing or key order.
    Text,
    /// A JSON document held in a string on one side, written as JSON on the other.
    Shape,
    /// The same items (tags, statements, actions) in another order.
    Order,
    /// Any other writing of the same value.
    Other,
}

/// One value written differently, at its path in the resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FormattingPath {
    /// As in the template diff: `Properties.LifecyclePolicy.LifecyclePolicyText`.
    pub path: String,
    pub kind: FormattingKind,
}

/// A resource that means the same as deployed and is written differently: a change set would
/// send it again, for its text alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FormattingOnly {
    pub logical_id: String,
    pub resource_type: String,
    /// In path order.
    pub paths: Vec<FormattingPath>,
}

impl FormattingPath {
    /// `Properties.LifecyclePolicy.LifecyclePolicyText has the same policy`, for people.
    pub fn describe(&self) -> String {
        let last = self
            .path
            .rsplit(['.', '['])
            .next()
            .unwrap_or(&self.path)
            .to_ascii_lowercase();
        let noun = if last.contains("policy") {
            "policy"
        } else {
            "document"
        };
        match self.kind {
            FormattingKind::Text => format!("{} has the same {noun}", self.path),
            FormattingKind::Shape => format!(
                "{} has the same {noun}, written as a string on one side and as JSON on the other",
                self.path
            ),
            FormattingKind::Order => format!("{} has the same items in another order", self.path),
            FormattingKind::Other => format!("{} has the same value, written otherwise", self.path),
        }
    }
}

/// The resources of `new` that the semantic diff `diff` (of `old` and `new`) finds unchanged
/// and that CloudFormation would still see as changed, with the paths where they are written
/// differently. Sorted by logical id.
pub fn formatting_only(old: &Value, new: &Value, diff: &TemplateDiff) -> Vec<FormattingOnly> {
    let empty = Map::new();
    let resources = |t: &Value| {
        t.get("Resources")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| empty.clone())
    };
    let (old_resources, new_resources) = (resources(old), resources(new));
    let mut ids: Vec<&String> = new_resources
        .keys()
        .filter(|id| old_resources.contains_key(*id))
        .filter(|id| !diff.resources.iter().any(|r| &r.logical_id == *id))
        .collect();
    ids.sort();
    let mut out = Vec::new();
    for id in ids {
        let (o, n) = (&old_resources[id], &new_resources[id]);
        let mut found = Vec::new();
        for &attr in ATTRIBUTES {
            // `DependsOn: A` and `[A]` are one to CloudFormation; an attribute on one side only
            // is a change the diff reports, or none at all (`Properties: {}`).
            if attr == "DependsOn" {
                continue;
            }
            let (Some(a), Some(b)) = (present(o.get(attr)), present(n.get(attr))) else {
                continue;
            };
            let mut path = vec![Seg::Key(attr.to_owned())];
            let (a, b) = (canonical_text(a), canonical_text(b));
            walk(&mut path, &a, &b, Ctx::Plain, &mut found);
        }
        if !found.is_empty() {
            found.sort_by(|a, b| a.0.cmp(&b.0));
            out.push(FormattingOnly {
                logical_id: id.clone(),
                resource_type: type_text(n),
                paths: found
                    .into_iter()
                    .map(|(path, kind)| FormattingPath {
                        path: render_path(&path),
                        kind,
                    })
                    .collect(),
            });
        }
    }
    out
}

/// Finds, under `path`, the deepest places where two values in canonical text form differ.
/// The values mean the same (the caller's diff says so), so only their writing differs; `ctx`
/// says, as for the diff, where order does not matter (policy statements and their lists).
fn walk(
    path: &mut Vec<Seg>,
    a: &Value,
    b: &Value,
    ctx: Ctx,
    out: &mut Vec<(Vec<Seg>, FormattingKind)>,
) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(ma), Value::Object(mb))
            if ma.len() == mb.len() && ma.keys().all(|k| mb.contains_key(k)) =>
        {
            for (k, va) in ma {
                let child = if k == "Statement" && holds_statements(ctx) {
                    Ctx::Statement
                } else {
                    child_ctx(ctx, k)
                };
                path.push(Seg::Key(k.clone()));
                walk(path, va, &mb[k], child, out);
                path.pop();
            }
        }
        (Value::Array(xa), Value::Array(xb))
            if xa.len() == xb.len()
                && xa
                    .iter()
                    .zip(xb)
                    .all(|(x, y)| norm(&canonical(x), ctx) == norm(&canonical(y), ctx)) =>
        {
            for (i, (x, y)) in xa.iter().zip(xb).enumerate() {
                path.push(Seg::Index(i));
                walk(path, x, y, ctx, out);
                path.pop();
            }
        }
        (Value::Array(_), Value::Array(_)) => out.push((path.clone(), FormattingKind::Order)),
        (Value::String(_), Value::String(_)) => out.push((path.clone(), FormattingKind::Text)),
        (Value::String(_), Value::Object(_) | Value::Array(_))
        | (Value::Object(_) | Value::Array(_), Value::String(_)) => {
            out.push((path.clone(), FormattingKind::Shape))
        }
        _ => out.push((path.clone(), FormattingKind::Other)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::diff_templates;
    use super::*;
    use serde_json::json;

    fn repo(policy: Value, tags: Value) -> Value {
        json!({"Resources": {
            "Repo": {"Type": "AWS::ECR::Repository", "Properties": {
                "RepositoryName": "team/app",
                "LifecyclePolicy": {"LifecyclePolicyText": policy},
                "Tags": tags}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 5}}}})
    }

    fn found(old: &Value, new: &Value) -> Vec<FormattingOnly> {
        let diff = diff_templates(Some(old), new);
        formatting_only(old, new, &diff)
    }

    #[test]
    fn a_respaced_or_reordered_policy_text_is_formatting_only() {
        let tags = json!([{"Key": "a", "Value": "1"}]);
        let old = repo(
            json!("{\"rules\":[{\"rulePriority\":1,\"action\":{\"type\":\"expire\"}}]}"),
            tags.clone(),
        );
        let new = repo(
            json!(
                "{ \"rules\": [ { \"action\": { \"type\": \"expire\" }, \"rulePriority\": 1 } ] }"
            ),
            tags,
        );
        assert!(diff_templates(Some(&old), &new).is_empty());
        let f = found(&old, &new);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].logical_id, "Repo");
        assert_eq!(f[0].resource_type, "AWS::ECR::Repository");
        assert_eq!(
            f[0].paths,
            [FormattingPath {
                path: "Properties.LifecyclePolicy.LifecyclePolicyText".into(),
                kind: FormattingKind::Text
            }]
        );
        assert_eq!(
            f[0].paths[0].describe(),
            "Properties.LifecyclePolicy.LifecyclePolicyText has the same policy"
        );
    }

    #[test]
    fn key_order_numbers_and_short_forms_are_not_formatting() {
        let old = json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue", "DependsOn": "R",
            "Properties": {"DelaySeconds": 5.0, "QueueName": {"Fn::GetAtt": "R.Name"}}}}});
        let new = json!({"Resources": {"Q": {"Properties": {"QueueName": {"Fn::GetAtt": ["R", "Name"]},
            "DelaySeconds": "5"}, "DependsOn": ["R"], "Type": "AWS::SQS::Queue"}}});
        assert!(diff_templates(Some(&old), &new).is_empty());
        assert!(found(&old, &new).is_empty());
    }

    #[test]
    fn a_string_against_json_and_reordered_tags_are_formatting() {
        let policy = json!({"rules": []});
        let old = repo(
            Value::String(policy.to_string()),
            json!([{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]),
        );
        let new = repo(
            policy,
            json!([{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]),
        );
        let f = found(&old, &new);
        let paths: Vec<(&str, FormattingKind)> = f[0]
            .paths
            .iter()
            .map(|p| (p.path.as_str(), p.kind))
            .collect();
        assert_eq!(
            paths,
            [
                (
                    "Properties.LifecyclePolicy.LifecyclePolicyText",
                    FormattingKind::Shape
                ),
                ("Properties.Tags", FormattingKind::Order)
            ]
        );
        assert_eq!(
            f[0].paths[1].describe(),
            "Properties.Tags has the same items in another order"
        );
    }

    #[test]
    fn reordered_actions_are_found_inside_their_statement() {
        let policy = |actions: Value| {
            json!({"Resources": {"Repo": {"Type": "AWS::ECR::Repository", "Properties": {
                "RepositoryPolicyText": {"Statement": [{"Sid": "Pull", "Effect": "Allow", "Action": actions}]}}}}})
        };
        let old = policy(json!(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]));
        let new = policy(json!(["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]));
        let f = found(&old, &new);
        assert_eq!(
            f[0].paths,
            [FormattingPath {
                path: "Properties.RepositoryPolicyText.Statement[0].Action".into(),
                kind: FormattingKind::Order
            }]
        );
    }

    #[test]
    fn a_resource_with_a_real_change_is_the_diffs() {
        let old = repo(json!("{\"rules\":[]}"), json!([]));
        let mut new = repo(json!("{ \"rules\": [] }"), json!([]));
        new["Resources"]["Repo"]["Properties"]["RepositoryName"] = json!("team/other");
        assert!(found(&old, &new).is_empty());
        // A real change elsewhere leaves the formatting of another resource to report.
        let mut new = repo(json!("{ \"rules\": [] }"), json!([]));
        new["Resources"]["Queue"]["Properties"]["DelaySeconds"] = json!(6);
        let f = found(&old, &new);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].logical_id, "Repo");
    }
}
