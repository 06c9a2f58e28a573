//! Semantic diff of two CloudFormation templates in long form (`serde_json::Value`): which
//! resources, outputs, parameter declarations and other sections change, and for each changed
//! resource the deepest changed property paths.
//!
//! Everything is compared in the canonical form of [`canonical`], so that formatting never shows
//! up as a change: key order, `1.0` vs `1`, `"5"` vs `5`, the string form of `Fn::GetAtt`, JSON
//! documents embedded as strings, `DependsOn: A` vs `[A]`, reordered tags and reordered policy
//! statements, actions, resources and principals.
//!
//! This module does not evaluate intrinsic functions or parameters (`{"Ref": "X"}` is compared
//! as written), does not know which changes replace a resource (that is `risk`, and the change
//! set), and does no I/O. The walk itself is in `compare`; the coloured text diff that `plan`
//! prints is `report::diff`, over [`same`] and [`display_form`]. What the diff finds the same
//! but CloudFormation would send again (a policy text with other spacing) is `formatting`.

mod compare;
mod formatting;

pub use formatting::{formatting_only, FormattingKind, FormattingOnly, FormattingPath};

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::template::canonical::{canonical, compact, set_of, Ctx};
use compare::{compare, compare_objects, compare_present, finish, found};

/// What happened to a resource, property, output or section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Modified,
}

/// One change at one path. `before` and `after` are canonical values (see [`canonical`]);
/// `before` is `None` for `Added`, `after` is `None` for `Removed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PropertyChange {
    /// Dots between keys and `[i]` for array indices (`Properties.Tags[Key=Env].Value` for a
    /// tag, `...Statement[Sid=Pull]` for a statement with a unique `Sid`). Keys that contain
    /// `.`, `[` or `]` are written as a JSON string in brackets: `Condition.StringLike["a.b"]`.
    /// Within a section, paths are relative to the resource, the output, the parameter
    /// declaration, or the template (for `sections`).
    pub path: String,
    pub kind: ChangeKind,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// One resource that is added, removed or modified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResourceDiff {
    pub logical_id: String,
    /// The new type, or the old one for a removed resource.
    pub resource_type: String,
    pub kind: ChangeKind,
    /// For `Modified`: the changed attributes and properties, in path order. Empty otherwise.
    pub changes: Vec<PropertyChange>,
    /// For `Modified`: whether `Type` changed (CloudFormation then replaces the resource).
    pub type_changed: bool,
}

/// Everything that differs between two templates.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TemplateDiff {
    /// Sorted by logical id.
    pub resources: Vec<ResourceDiff>,
    /// Paths relative to `Outputs` (`RepoUri.Value`).
    pub outputs: Vec<PropertyChange>,
    /// Paths relative to `Parameters` (`Env.Default`).
    pub parameters: Vec<PropertyChange>,
    /// Every other top-level key (`Description`, `Metadata`, `Conditions`, `Mappings`, `Rules`,
    /// `Transform`, `AWSTemplateFormatVersion`, and any other), paths from the template root.
    pub sections: Vec<PropertyChange>,
}

impl TemplateDiff {
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
            && self.outputs.is_empty()
            && self.parameters.is_empty()
            && self.sections.is_empty()
    }
}

/// The resource attributes that are compared, in path order.
const ATTRIBUTES: &[&str] = &[
    "Condition",
    "CreationPolicy",
    "DeletionPolicy",
    "DependsOn",
    "Metadata",
    "Properties",
    "Type",
    "UpdatePolicy",
    "UpdateReplacePolicy",
];

/// Compares a deployed template with a rendered one. `old` None = a new stack: every resource,
/// output, parameter declaration and section is `Added`.
pub fn diff_templates(old: Option<&Value>, new: &Value) -> TemplateDiff {
    let old = old
        .map(canonical)
        .unwrap_or_else(|| Value::Object(Map::new()));
    let new = canonical(new);
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);

    let mut diff = TemplateDiff {
        resources: diff_resources(old.get("Resources"), new.get("Resources")),
        outputs: diff_section_entries("Outputs", old.get("Outputs"), new.get("Outputs")),
        parameters: diff_section_entries(
            "Parameters",
            old.get("Parameters"),
            new.get("Parameters"),
        ),
        sections: Vec::new(),
    };

    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut found = Vec::new();
    for key in keys {
        if matches!(key.as_str(), "Resources" | "Outputs" | "Parameters") {
            continue;
        }
        let mut a = present(old.get(key)).cloned();
        let mut b = present(new.get(key)).cloned();
        if key == "Transform" {
            a = a.map(transform_list);
            b = b.map(transform_list);
        }
        let mut path = vec![Seg::Key(key.clone())];
        compare_present(&mut path, a.as_ref(), b.as_ref(), &mut found);
    }
    diff.sections = finish(found);
    diff
}

// ---------------------------------------------------------------------------------------------
// Paths and collected changes

/// One step of a path. Ordering is path order: keys alphabetically, indices numerically.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Seg {
    Key(String),
    Index(usize),
    /// An element of an order-insensitive array, named by one of its fields (`[Key=Env]`).
    Keyed(&'static str, String),
}

fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if k.is_empty() || k.contains(['.', '[', ']']) => {
                out.push('[');
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(']');
            }
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Keyed(field, value) => out.push_str(&format!("[{field}={value}]")),
        }
    }
    out
}

/// The canonical form as people read it: the numbers and booleans that `canonical` turned into
/// strings (so that `"5"` and `5` compare equal) are shown as numbers and booleans again.
pub fn display_form(v: Value) -> Value {
    match v {
        Value::String(s) => {
            if s == "true" || s == "false" {
                return Value::Bool(s == "true");
            }
            let digits = s.strip_prefix('-').unwrap_or(&s);
            let numeric = !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit())
                && (digits.len() == 1 || !digits.starts_with('0'));
            if let (true, Ok(i)) = (numeric, s.parse::<i64>()) {
                return Value::from(i);
            }
            match s.parse::<f64>() {
                Ok(f) if f.is_finite() && format!("{f}") == s => serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or(Value::String(s)),
                _ => Value::String(s),
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(display_form).collect()),
        Value::Object(m) => {
            Value::Object(m.into_iter().map(|(k, v)| (k, display_form(v))).collect())
        }
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Template sections

/// A value that is there: absent and `null` are both "not there".
fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// `Transform: X` is `Transform: [X]`.
fn transform_list(v: Value) -> Value {
    match v {
        Value::Array(_) => v,
        other => Value::Array(vec![other]),
    }
}

/// `Outputs` or `Parameters`: paths relative to the section, unless it is not an object.
fn diff_section_entries(name: &str, a: Option<&Value>, b: Option<&Value>) -> Vec<PropertyChange> {
    let a = present(a);
    let b = present(b);
    let mut out = Vec::new();
    let shaped = |v: Option<&Value>| v.is_none_or(Value::is_object);
    if shaped(a) && shaped(b) {
        let empty = Map::new();
        let a = a.and_then(Value::as_object).unwrap_or(&empty);
        let b = b.and_then(Value::as_object).unwrap_or(&empty);
        compare_objects(&mut Vec::new(), a, b, Ctx::Plain, &mut out);
    } else {
        compare_present(&mut vec![Seg::Key(name.to_owned())], a, b, &mut out);
    }
    finish(out)
}

fn type_text(resource: &Value) -> String {
    match resource.get("Type") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => compact(other),
    }
}

fn diff_resources(old: Option<&Value>, new: Option<&Value>) -> Vec<ResourceDiff> {
    let empty = Map::new();
    let old = old.and_then(Value::as_object).unwrap_or(&empty);
    let new = new.and_then(Value::as_object).unwrap_or(&empty);
    let ids: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Vec::new();
    for id in ids {
        let entry = |resource_type: String, kind: ChangeKind| ResourceDiff {
            logical_id: id.clone(),
            resource_type,
            kind,
            changes: Vec::new(),
            type_changed: false,
        };
        match (old.get(id), new.get(id)) {
            (None, Some(n)) => out.push(entry(type_text(n), ChangeKind::Added)),
            (Some(o), None) => out.push(entry(type_text(o), ChangeKind::Removed)),
            (Some(o), Some(n)) => {
                let changes = resource_changes(o, n);
                if !changes.is_empty() {
                    let type_changed = type_text(o) != type_text(n);
                    out.push(ResourceDiff {
                        changes,
                        type_changed,
                        ..entry(type_text(n), ChangeKind::Modified)
                    });
                }
            }
            (None, None) => {}
        }
    }
    out
}

fn resource_changes(old: &Value, new: &Value) -> Vec<PropertyChange> {
    let empty = Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);
    let mut out = Vec::new();
    for &attr in ATTRIBUTES {
        let a = present(o.get(attr));
        let b = present(n.get(attr));
        let mut path = vec![Seg::Key(attr.to_owned())];
        if attr == "DependsOn" {
            // Absent, [] and order are all immaterial.
            let sa = a.map(set_of).unwrap_or_default();
            let sb = b.map(set_of).unwrap_or_default();
            if sa != sb {
                found(&mut out, &path, a, b);
            }
        } else {
            compare_present(&mut path, a, b, &mut out);
        }
    }
    finish(out)
}

// ---------------------------------------------------------------------------------------------
// Structural comparison

/// Whether two canonical values (see [`canonical`]) hold
/// no change between them, by the rules of this diff; `None` is an absent value.
pub fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let mut found = Vec::new();
            compare(&mut Vec::new(), a, b, Ctx::Plain, &mut found);
            found.is_empty()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
