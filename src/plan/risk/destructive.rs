//! Destructive risks: a data-bearing resource removed or replaced, and the sentence that says
//! what happens to its data (deletion and replacement policies as written).

use serde_json::Value;

use super::data_bearing::DataBearing;
use super::{Risk, RiskKind};
use crate::plan::diff::ResourceDiff;

pub(super) fn destructive(rd: &ResourceDiff, reason: String) -> Risk {
    Risk {
        kind: RiskKind::Destructive,
        logical_id: rd.logical_id.clone(),
        resource_type: rd.resource_type.clone(),
        reason,
        added: Vec::new(),
        removed: Vec::new(),
        holds: None,
    }
}

/// Whether a diff path (`Properties.KeySchema[0].AttributeName`) is at or under a property.
pub(super) fn touches(path: &str, property: &str) -> bool {
    path.strip_prefix("Properties.")
        .and_then(|rest| rest.strip_prefix(property))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// "the old repository and its images".
pub(super) fn subject(b: &DataBearing, old: bool) -> String {
    let mut s = String::from("the ");
    if old {
        s.push_str("old ");
    }
    s.push_str(b.short);
    if !b.contents.is_empty() {
        s.push_str(" and ");
        s.push_str(b.contents);
    }
    s
}

/// Whether the resource is spoken of with its contents ("the repository and its images"),
/// which takes a plural verb.
pub(super) fn has_contents(b: &DataBearing) -> bool {
    !b.contents.is_empty()
}

/// "the repository and its images are deleted".
pub(super) fn deleted(b: &DataBearing, old: bool) -> String {
    let verb = if has_contents(b) { "are" } else { "is" };
    format!("{} {verb} {}", subject(b, old), b.gone)
}

/// "the repository and its images stay in the account, outside the stack".
pub(super) fn kept(b: &DataBearing, old: bool) -> String {
    let verb = if has_contents(b) { "stay" } else { "stays" };
    format!(
        "{} {verb} in the account, outside the stack",
        subject(b, old)
    )
}

/// A deletion or update-replace policy as written: `None` when absent.
pub(super) fn policy_text(resource: Option<&Value>, attribute: &str) -> Option<String> {
    match resource?.get(attribute)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(serde_json::to_string(other).unwrap_or_default()),
    }
}

/// What removing the resource does with it, per its `DeletionPolicy` (in the old template).
pub(super) fn removal_tail(b: &DataBearing, old_resource: Option<&Value>) -> String {
    let written = policy_text(old_resource, "DeletionPolicy");
    // RDS snapshots by default: DB clusters, and DB instances outside a cluster.
    let default_snapshot = match b.resource_type {
        "AWS::RDS::DBCluster" => true,
        "AWS::RDS::DBInstance" => old_resource
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get("DBClusterIdentifier"))
            .is_none(),
        _ => false,
    };
    let (policy, label) = match &written {
        Some(p) => (p.as_str(), format!("DeletionPolicy {p}")),
        None if default_snapshot => ("Snapshot", "no DeletionPolicy, so Snapshot".to_owned()),
        None => ("Delete", String::new()),
    };
    match policy {
        "Retain" | "RetainExceptOnCreate" => format!(" ({label}: {})", kept(b, false)),
        "Snapshot" if b.snapshots => format!(
            " ({label}: a final snapshot is kept, then {})",
            deleted(b, false)
        ),
        "Snapshot" => format!(
            " ({label}, which {} does not support): {}",
            b.noun,
            deleted(b, false)
        ),
        "Delete" if label.is_empty() => format!(": {}", deleted(b, false)),
        "Delete" => format!(" ({label}): {}", deleted(b, false)),
        _ => format!(
            " ({label}): {} unless it resolves to Retain",
            deleted(b, false)
        ),
    }
}

/// What replacing the resource does with the old one, per its `UpdateReplacePolicy` (in the
/// new template; CloudFormation's default is Delete).
pub(super) fn replacement_tail(b: &DataBearing, new_resource: Option<&Value>) -> String {
    let written = policy_text(new_resource, "UpdateReplacePolicy");
    let policy = written.as_deref().unwrap_or("Delete");
    let label = format!("UpdateReplacePolicy {policy}");
    match policy {
        "Retain" | "RetainExceptOnCreate" => format!(
            " ({label}: {}; the stack then points at {})",
            kept(b, true),
            b.fresh
        ),
        "Snapshot" if b.snapshots => format!(
            " ({label}: a final snapshot is kept, then {}; the stack then points at {})",
            deleted(b, true),
            b.fresh
        ),
        "Snapshot" => format!(
            " ({label}, which {} does not support): {}",
            b.noun,
            deleted(b, true)
        ),
        "Delete" if written.is_none() => format!(": {}", deleted(b, true)),
        "Delete" => format!(" ({label}): {}", deleted(b, true)),
        _ => format!(
            " ({label}): {} unless it resolves to Retain",
            deleted(b, true)
        ),
    }
}

/// "`A`", "`A` and `B`", "`A`, `B` and `C`".
pub(super) fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
