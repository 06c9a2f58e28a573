//! What CloudFormation's change set of a stack would say, predicted from the comparison and
//! CloudFormation's resource schemas, for `plan --change-set auto`: a stack whose every change
//! is known to update in place needs no change set to be planned.
//!
//! The prediction is made only where it is certain: each resource added or removed, and each
//! property changed (directly or through a changed parameter) that is not create-only in the
//! type's resource schema (nor in the data-bearing table of `risk`). Everything else is left to
//! CloudFormation, and [`predict`] says why: a change that replaces a resource (whether it
//! does is CloudFormation's word to give), a type without a schema, a changed condition or
//! mapping, a resource attribute other than `Properties` and `Metadata`, a create-only property
//! that reads a changing resource, stack tags (CloudFormation copies them to resources), and
//! whatever the comparison itself cannot see (`comparable`). Safety first: when in doubt, the
//! change set decides, and `apply` always makes one.
//!
//! Pure: reads the templates, the comparison and the embedded schemas; no AWS call.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::comparable::uncompared;
use super::diff::ChangeKind;
use super::model::StackPlan;
use super::risk::data_bearing::replacing_properties;
use crate::aws::changeset::{ChangeDetail, ResourceChange};
use crate::aws::cloudformation::StackInfo;
use crate::project::Stack;
use crate::render::Rendered;
use crate::template::intrinsic::refers_to;
use crate::template::resource_schema::catalog;

/// The template sections whose change says nothing about resources.
const INERT_SECTIONS: &[&str] = &["AWSTemplateFormatVersion", "Description", "Metadata"];

/// The resource changes a change set would report, or why only a change set can tell.
/// `deployed` and `old` are the deployed stack and template (None: a new stack); `plan` holds
/// the comparison (template, parameter and tag changes).
pub fn predict(
    stack: &Stack,
    rendered: &Rendered,
    deployed: Option<&StackInfo>,
    old: Option<&Value>,
    plan: &StackPlan,
) -> Result<Vec<ResourceChange>, String> {
    let template = &rendered.template;
    match (deployed, old) {
        (Some(info), Some(old)) => {
            if let Some(why) = uncompared(stack, rendered, info, old) {
                return Err(why);
            }
        }
        _ => {
            if template.get("Transform").is_some() {
                return Err(
                    "the template has a transform, which CloudFormation expands when it deploys"
                        .into(),
                );
            }
        }
    }
    if !plan.tag_changes.is_empty() && deployed.is_some() {
        return Err(
            "the stack's tags change, and CloudFormation copies them to its resources".into(),
        );
    }
    let diff = &plan.template_changes;
    if let Some(s) = diff
        .sections
        .iter()
        .find(|s| !INERT_SECTIONS.contains(&section_of(&s.path)))
    {
        return Err(format!(
            "the template's `{}` change, which may add, remove or replace resources",
            section_of(&s.path)
        ));
    }
    let resources = section(template, "Resources");
    let mut changes: BTreeMap<String, ResourceChange> = BTreeMap::new();
    for rd in &diff.resources {
        let change = match rd.kind {
            ChangeKind::Added => resource_change("Add", &rd.logical_id, &rd.resource_type),
            ChangeKind::Removed => resource_change("Remove", &rd.logical_id, &rd.resource_type),
            ChangeKind::Modified if rd.type_changed => {
                return Err(format!("the type of `{}` changes", rd.logical_id))
            }
            ChangeKind::Modified => {
                let replacing = replacing(&rd.resource_type)
                    .ok_or_else(|| no_schema(&rd.logical_id, &rd.resource_type))?;
                let mut change = modify(&rd.logical_id, &rd.resource_type);
                for c in &rd.changes {
                    let (attribute, rest) = split_attribute(&c.path);
                    match attribute {
                        "Metadata" => push_detail(&mut change, "Metadata", None, None),
                        "Properties" => {
                            let property = top_property(rest);
                            if let Some(p) = replacing.iter().find(|p| overlaps(rest, p)) {
                                return Err(replaces(&rd.logical_id, p));
                            }
                            push_detail(&mut change, "Properties", Some(property), None);
                        }
                        other => {
                            return Err(format!(
                                "`{}`'s `{other}` changes, which only CloudFormation can weigh",
                                rd.logical_id
                            ))
                        }
                    }
                }
                change
            }
        };
        changes.insert(rd.logical_id.clone(), change);
    }
    for p in &plan.parameter_changes {
        parameter_change(template, resources, &p.key, &mut changes)?;
    }
    // A create-only property that reads a resource being modified may be replaced with it
    // (a new attribute value): CloudFormation evaluates that.
    let modified: Vec<&String> = changes
        .iter()
        .filter(|(_, c)| c.action == "Modify")
        .map(|(id, _)| id)
        .collect();
    if !modified.is_empty() {
        for (other, resource) in resources {
            let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("");
            let replacing = replacing(kind);
            let properties = resource.get("Properties").and_then(Value::as_object);
            for (name, value) in properties.into_iter().flatten() {
                let create_only = replacing
                    .as_ref()
                    .is_none_or(|r| r.iter().any(|p| overlaps(name, p)));
                if !create_only {
                    continue;
                }
                if let Some(id) = modified
                    .iter()
                    .find(|id| *id != &other && refers_to(value, id))
                {
                    return Err(format!(
                        "`{other}`'s create-only property `{name}` reads `{id}`, which changes: only CloudFormation can tell whether that replaces `{other}`"
                    ));
                }
            }
        }
    }
    // Additions, then modifications, then removals; each in the template's order.
    let mut changes: Vec<ResourceChange> = changes.into_values().collect();
    let rank = |c: &ResourceChange| match c.action.as_str() {
        "Add" => 0,
        "Modify" => 1,
        _ => 2,
    };
    let order: BTreeMap<&str, usize> = resources
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let position = |c: &ResourceChange| order.get(c.logical_id.as_str()).copied();
    changes.sort_by_key(|c| (rank(c), position(c)));
    Ok(changes)
}

/// The resources whose properties read a changed parameter are modified in place, unless the
/// parameter reaches a condition, a rule, a resource attribute other than `Properties`, or a
/// create-only property.
fn parameter_change(
    template: &Value,
    resources: &Map<String, Value>,
    key: &str,
    changes: &mut BTreeMap<String, ResourceChange>,
) -> Result<(), String> {
    for name in ["Conditions", "Rules"] {
        if template.get(name).is_some_and(|s| refers_to(s, key)) {
            return Err(format!(
                "the parameter `{key}` changes, and the template's `{name}` read it"
            ));
        }
    }
    for (id, resource) in resources {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        for (attribute, value) in resource.as_object().into_iter().flatten() {
            if attribute == "Properties" || !refers_to(value, key) {
                continue;
            }
            return Err(format!(
                "the parameter `{key}` changes, and `{id}`'s `{attribute}` reads it"
            ));
        }
        let properties = resource.get("Properties").and_then(Value::as_object);
        for (name, value) in properties.into_iter().flatten() {
            if !refers_to(value, key) {
                continue;
            }
            let replacing = replacing(kind).ok_or_else(|| no_schema(id, kind))?;
            if let Some(p) = replacing.iter().find(|p| overlaps(name, p)) {
                return Err(format!(
                    "the parameter `{key}` changes, and it sets `{id}`'s `{p}`, whose change replaces it"
                ));
            }
            let change = changes
                .entry(id.clone())
                .or_insert_with(|| modify(id, kind));
            if change.action == "Modify" {
                push_detail(change, "Properties", Some(name), Some(key));
            }
        }
    }
    Ok(())
}

/// The property paths (`a.b`) whose change replaces a resource of the type: the create-only
/// properties of its resource schema (a path is cut before a `*` segment, so that it covers
/// more, never less) and the data-bearing table's. None when little has no schema for it, or
/// for a custom resource.
fn replacing(resource_type: &str) -> Option<Vec<String>> {
    // A custom resource's provider decides, on each update, whether it replaces.
    if resource_type.starts_with("Custom::")
        || resource_type == "AWS::CloudFormation::CustomResource"
    {
        return None;
    }
    let schema = catalog().ok()?.get(resource_type)?;
    let mut out: Vec<String> = replacing_properties(resource_type)
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    for path in &schema.create_only {
        let cut: Vec<&str> = path.split('/').take_while(|s| *s != "*").collect();
        if !cut.is_empty() {
            out.push(cut.join("."));
        }
    }
    Some(out)
}

/// Whether a change at `path` (relative to `Properties`: `A.B[0].C`) and a property path `p`
/// (`A.B`) meet: one is at or under the other.
fn overlaps(path: &str, p: &str) -> bool {
    let under = |long: &str, short: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    };
    under(path, p) || under(p, path)
}

/// `Properties.A.B` → (`Properties`, `A.B`); `DeletionPolicy` → (`DeletionPolicy`, ``).
fn split_attribute(path: &str) -> (&str, &str) {
    match path.find(['.', '[']) {
        Some(i) => (&path[..i], path[i..].trim_start_matches('.')),
        None => (path, ""),
    }
}

/// The property a path relative to `Properties` starts with.
fn top_property(path: &str) -> &str {
    path.split(['.', '[']).next().unwrap_or(path)
}

/// The top-level key a section path starts with (`Conditions.IsProd` → `Conditions`).
fn section_of(path: &str) -> &str {
    split_attribute(path).0
}

fn section<'t>(template: &'t Value, name: &str) -> &'t Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    template
        .get(name)
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

fn no_schema(id: &str, kind: &str) -> String {
    if kind.starts_with("Custom::") || kind == "AWS::CloudFormation::CustomResource" {
        format!("`{id}` is a custom resource (`{kind}`), whose provider decides whether an update replaces it")
    } else {
        format!("`{id}` is a `{kind}`, whose resource schema little does not have")
    }
}

fn replaces(id: &str, property: &str) -> String {
    format!("`{id}`'s `{property}` changes, which replaces it: CloudFormation says how")
}

fn resource_change(action: &str, id: &str, kind: &str) -> ResourceChange {
    ResourceChange {
        action: action.into(),
        logical_id: id.into(),
        physical_id: None,
        resource_type: kind.into(),
        replacement: None,
        scope: Vec::new(),
        details: Vec::new(),
    }
}

fn modify(id: &str, kind: &str) -> ResourceChange {
    ResourceChange {
        replacement: Some("False".into()),
        ..resource_change("Modify", id, kind)
    }
}

/// One detail as a change set gives it (a changed `Tags` property is the `Tags` attribute),
/// each target once; the scope follows.
fn push_detail(
    change: &mut ResourceChange,
    attribute: &str,
    name: Option<&str>,
    cause: Option<&str>,
) {
    let (attribute, name) = match name {
        Some("Tags") => ("Tags", None),
        other => (attribute, other),
    };
    let detail = ChangeDetail {
        attribute: Some(attribute.into()),
        name: name.map(str::to_owned),
        requires_recreation: Some("Never".into()),
        evaluation: Some("Static".into()),
        change_source: Some(
            if cause.is_some() {
                "ParameterReference"
            } else {
                "DirectModification"
            }
            .into(),
        ),
        causing_entity: cause.map(str::to_owned),
    };
    let same_target = |d: &ChangeDetail| {
        d.attribute == detail.attribute
            && d.name == detail.name
            && d.causing_entity == detail.causing_entity
    };
    if !change.details.iter().any(same_target) {
        change.details.push(detail);
    }
    if !change.scope.iter().any(|s| s == attribute) {
        change.scope.push(attribute.into());
        change.scope.sort();
    }
}

#[cfg(test)]
mod tests;
