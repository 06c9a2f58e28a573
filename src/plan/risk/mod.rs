//! The risks in a plan that a reviewer must not miss:
//!
//! - destructive: a data-bearing resource (ECR repository, S3 bucket, database, queue, key, ...)
//!   is removed or replaced, so that the stack ends up without its data, whatever its
//!   `DeletionPolicy`/`UpdateReplacePolicy` (a retained resource leaves the stack; a replaced one
//!   is followed by a new, empty one);
//! - broadening: a policy (trust, inline, managed, resource or key policy) grants more than
//!   before: an `Allow` (principal × action × resource × condition) tuple appears, or a `Deny`
//!   tuple disappears;
//! - unprotecting: termination protection turned off, or a looser stack policy (computed in
//!   `settings`, which owns those two settings).
//!
//! This module reads templates and the template diff only. It does not evaluate policies (no
//! wildcard matching: `ecr:*` replacing `ecr:GetDownloadUrlForLayer` is one permission added and
//! one removed), does not resolve intrinsic functions or parameters (their compact JSON is used
//! as text), and does not talk to AWS: replacements that only a change set can see come in
//! through [`replacement_risk`].

mod broadening;
pub mod data_bearing;
mod destructive;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::diff::{ChangeKind, TemplateDiff};
use crate::policy::expand::{sort_permissions, Permission};
use crate::template::canonical::canonical;
use crate::template::resource_schema::catalog;
use broadening::broadening;
use data_bearing::{data_bearing, DataBearing};
use destructive::{destructive, join_and, removal_tail, replacement_tail, touches};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RiskKind {
    Destructive,
    Broadening,
    /// A protection of the stack itself is lowered: termination protection turned off, or a
    /// stack policy that protects less (see `settings`).
    Unprotecting,
}

impl RiskKind {
    /// The word for people and Markdown tables: `destructive`, `broadening`, `unprotecting`.
    pub fn word(self) -> &'static str {
        match self {
            RiskKind::Destructive => "destructive",
            RiskKind::Broadening => "broadening",
            RiskKind::Unprotecting => "unprotecting",
        }
    }
}

/// Whether a change replaces a resource, as CloudFormation change sets say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Replacement {
    True,
    Conditional,
    False,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Risk {
    pub kind: RiskKind,
    pub logical_id: String,
    pub resource_type: String,
    /// One sentence for people, naming the resource in backticks.
    pub reason: String,
    /// For `Broadening`: every tuple the resource's policies gain (Allow and Deny), sorted.
    pub added: Vec<Permission>,
    /// For `Broadening`: every tuple the resource's policies lose (Allow and Deny), sorted.
    pub removed: Vec<Permission>,
    /// For `Destructive`: what the resource holds now, as AWS says (`12 images, the newest
    /// pushed 2026-11-30T14:02:11Z`), or when the loss takes effect; none when not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holds: Option<String>,
}

/// Risks visible in the templates alone: the removal of a data-bearing resource; a predicted
/// replacement of one (a replacing property changed, or its `Type` changed); the broadening of
/// any policy. `old` None = a new stack (every `Allow` tuple is added). Destructive risks come
/// first, each kind sorted by logical id.
pub fn template_risks(old: Option<&Value>, new: &Value, diff: &TemplateDiff) -> Vec<Risk> {
    let old = old
        .map(canonical)
        .unwrap_or_else(|| Value::Object(Map::new()));
    let new = canonical(new);
    let empty = Map::new();
    let old_resources = resources(&old).unwrap_or(&empty);
    let new_resources = resources(&new).unwrap_or(&empty);

    let mut risks = Vec::new();
    for rd in &diff.resources {
        let old_resource = old_resources.get(&rd.logical_id);
        let new_resource = new_resources.get(&rd.logical_id);
        match rd.kind {
            ChangeKind::Added => {}
            ChangeKind::Removed => {
                if let Some(b) = data_bearing(&rd.resource_type) {
                    risks.push(destructive(
                        rd,
                        format!(
                            "removes {} `{}`{}",
                            b.noun,
                            rd.logical_id,
                            removal_tail(b, old_resource)
                        ),
                    ));
                }
            }
            ChangeKind::Modified if rd.type_changed => {
                let old_type = old_resource.map(type_of).unwrap_or_default();
                if let Some(b) = data_bearing(&old_type) {
                    risks.push(Risk {
                        resource_type: old_type.clone(),
                        ..destructive(
                            rd,
                            format!(
                                "replaces {} `{}` because its type changes to `{}`{}",
                                b.noun,
                                rd.logical_id,
                                rd.resource_type,
                                replacement_tail(b, new_resource)
                            ),
                        )
                    });
                }
            }
            ChangeKind::Modified => {
                let Some(b) = data_bearing(&rd.resource_type) else {
                    continue;
                };
                let replacing = replacing_with_schema(b);
                let changed: Vec<&str> = replacing
                    .iter()
                    .map(String::as_str)
                    .filter(|p| rd.changes.iter().any(|c| touches(&c.path, p)))
                    .collect();
                if !changed.is_empty() {
                    let names: Vec<String> = changed.iter().map(|p| format!("`{p}`")).collect();
                    risks.push(destructive(
                        rd,
                        format!(
                            "replaces {} `{}` because {} change{}{}",
                            b.noun,
                            rd.logical_id,
                            join_and(&names),
                            if changed.len() == 1 { "s" } else { "" },
                            replacement_tail(b, new_resource)
                        ),
                    ));
                }
            }
        }
    }
    risks.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));

    let ids: BTreeSet<&String> = old_resources.keys().chain(new_resources.keys()).collect();
    for id in ids {
        if let Some(r) = broadening(id, old_resources.get(id), new_resources.get(id)) {
            risks.push(r);
        }
    }
    risks
}

/// A change set said this resource is replaced (`True` or `Conditional`): destructive when the
/// type is data-bearing. `template` is the new template; its `UpdateReplacePolicy` for the
/// resource decides whether the old one is retained, which the reason says.
pub fn replacement_risk(
    logical_id: &str,
    resource_type: &str,
    replacement: Replacement,
    template: &Value,
) -> Option<Risk> {
    replacement_risk_forced_by(logical_id, resource_type, replacement, template, &[])
}

/// [`replacement_risk`], naming the properties whose change forces the replacement (the change
/// set's details that require recreation), when it names any.
pub fn replacement_risk_forced_by(
    logical_id: &str,
    resource_type: &str,
    replacement: Replacement,
    template: &Value,
    forcing: &[String],
) -> Option<Risk> {
    let b = data_bearing(resource_type)?;
    let because = if forcing.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = forcing.iter().map(|p| format!("`{p}`")).collect();
        format!(
            " because {} change{}",
            join_and(&names),
            if forcing.len() == 1 { "s" } else { "" }
        )
    };
    let resource = template
        .get("Resources")
        .and_then(|r| r.get(logical_id))
        .map(canonical);
    let tail = replacement_tail(b, resource.as_ref());
    let reason = match replacement {
        Replacement::False => return None,
        Replacement::True => format!(
            "CloudFormation replaces {} `{logical_id}`{because}{tail}",
            b.noun
        ),
        Replacement::Conditional => format!(
            "CloudFormation may replace {} `{logical_id}`{because}, depending on values known only during the update{tail}",
            b.noun
        ),
    };
    Some(Risk {
        kind: RiskKind::Destructive,
        logical_id: logical_id.to_owned(),
        resource_type: resource_type.to_owned(),
        reason,
        added: Vec::new(),
        removed: Vec::new(),
        holds: None,
    })
}

/// Merges risks of the same kind and logical id (a replacement predicted from the template and
/// reported by the change set become one). The first risk's reason and type are kept, so pass
/// template risks first; permissions are merged. Order is that of first appearance.
pub fn dedupe(risks: Vec<Risk>) -> Vec<Risk> {
    let mut out: Vec<Risk> = Vec::new();
    for risk in risks {
        match out
            .iter_mut()
            .find(|r| r.kind == risk.kind && r.logical_id == risk.logical_id)
        {
            Some(existing) => {
                existing.added.extend(risk.added);
                existing.removed.extend(risk.removed);
                sort_permissions(&mut existing.added);
                sort_permissions(&mut existing.removed);
            }
            None => out.push(risk),
        }
    }
    out
}

/// The properties whose change replaces a resource of the type: the table's, and the
/// create-only properties of CloudFormation's resource schema for the type (`a.b` for a nested
/// one; one under a property already listed is left out).
fn replacing_with_schema(b: &DataBearing) -> Vec<String> {
    let mut out: Vec<String> = b.replacing.iter().map(|p| (*p).to_owned()).collect();
    let schema = catalog().ok().and_then(|c| c.get(b.resource_type));
    for path in schema.iter().flat_map(|s| s.create_only.iter()) {
        if path.contains('*') {
            continue;
        }
        let path = path.replace('/', ".");
        let covered = out
            .iter()
            .any(|p| path == *p || path.starts_with(&format!("{p}.")));
        if !covered {
            out.push(path);
        }
    }
    out
}

fn resources(template: &Value) -> Option<&Map<String, Value>> {
    template.get("Resources").and_then(Value::as_object)
}

fn type_of(resource: &Value) -> String {
    match resource.get("Type") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests;
