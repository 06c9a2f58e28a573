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
//! set), and does no I/O.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use similar::{ChangeTag, TextDiff};

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

/// How many levels of JSON-in-a-string-in-JSON are expanded; deeper strings stay strings.
const MAX_EMBEDDED: usize = 8;

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

/// The canonical form used for comparison and display:
///
/// - strings that hold a JSON object or array (`LifecyclePolicyText`, `RepositoryPolicyText`,
///   policy documents given as strings) are parsed, and the parsed value made canonical;
/// - `{"Fn::GetAtt": "A.B.C"}` becomes `{"Fn::GetAtt": ["A", "B.C"]}`;
/// - numbers and booleans become their string forms (`1.0` and `1` both `"1"`, `true` `"true"`),
///   since CloudFormation passes `"5"` and `5` alike;
/// - object keys are sorted (recursively).
///
/// Order-insensitive collections (tags, policy statements, `DependsOn`) keep their order here;
/// the diff matches them without regard to it.
pub fn canonical(v: &Value) -> Value {
    canon(v, 0)
}

fn canon(v: &Value, embedded: usize) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(number_text(n)),
        Value::String(s) => match parse_embedded(s) {
            Some(inner) if embedded < MAX_EMBEDDED => canon(&inner, embedded + 1),
            _ => Value::String(s.clone()),
        },
        Value::Array(items) => Value::Array(items.iter().map(|i| canon(i, embedded)).collect()),
        Value::Object(m) => {
            if m.len() == 1 {
                if let Some(Value::String(s)) = m.get("Fn::GetAtt") {
                    if let Some((resource, attribute)) = s.split_once('.') {
                        let mut out = Map::new();
                        out.insert(
                            "Fn::GetAtt".into(),
                            Value::Array(vec![resource.into(), attribute.into()]),
                        );
                        return Value::Object(out);
                    }
                }
            }
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canon(v, embedded)))
                    .collect(),
            )
        }
    }
}

/// A number's text: integers without a fraction, whatever their JSON spelling (`1.0` is `1`).
fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    match n.as_f64() {
        // Exactly representable integers (|f| < 2^53) print without a fraction.
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
            format!("{}", f as i64)
        }
        Some(f) => format!("{f}"),
        None => n.to_string(),
    }
}

/// The JSON object or array a string holds, if it holds one.
fn parse_embedded(s: &str) -> Option<Value> {
    let t = s.trim();
    let bracketed =
        (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'));
    if !bracketed {
        return None;
    }
    match serde_json::from_str::<Value>(t) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => Some(v),
        _ => None,
    }
}

/// A unified diff (3 lines of context) of two values, each pretty-printed as canonical JSON
/// (keys sorted, embedded JSON strings expanded). `None` is no text at all, so an added value is
/// all `+` lines. Returns "" when the values are semantically equal. With `color`, `-` lines are
/// red and `+` lines green (ANSI).
pub fn unified(before: Option<&Value>, after: Option<&Value>, color: bool) -> String {
    let before = before.map(canonical);
    let after = after.map(canonical);
    let same = match (&before, &after) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let mut found = Vec::new();
            compare(&mut Vec::new(), a, b, Ctx::Plain, &mut found);
            found.is_empty()
        }
        _ => false,
    };
    if same {
        return String::new();
    }
    let old_text = before
        .map(display_form)
        .as_ref()
        .map(pretty)
        .unwrap_or_default();
    let new_text = after
        .map(display_form)
        .as_ref()
        .map(pretty)
        .unwrap_or_default();
    let diff = TextDiff::from_lines(old_text.as_str(), new_text.as_str());
    let mut out = String::new();
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&hunk.header().to_string());
        out.push('\n');
        for change in hunk.iter_changes() {
            let line = change.value().trim_end_matches(['\n', '\r']);
            let (sign, paint) = match change.tag() {
                ChangeTag::Delete => ('-', Some("31")),
                ChangeTag::Insert => ('+', Some("32")),
                ChangeTag::Equal => (' ', None),
            };
            match paint {
                Some(code) if color => {
                    out.push_str(&format!("\x1b[{code}m{sign}{line}\x1b[0m"));
                }
                _ => {
                    out.push(sign);
                    out.push_str(line);
                }
            }
            out.push('\n');
        }
    }
    out
}

fn pretty(v: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&sort_keys(v)).unwrap_or_default();
    text.push('\n');
    text
}

fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
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

struct Found {
    path: Vec<Seg>,
    kind: ChangeKind,
    before: Option<Value>,
    after: Option<Value>,
}

fn found(out: &mut Vec<Found>, path: &[Seg], before: Option<&Value>, after: Option<&Value>) {
    let kind = match (before, after) {
        (None, Some(_)) => ChangeKind::Added,
        (Some(_), None) => ChangeKind::Removed,
        _ => ChangeKind::Modified,
    };
    out.push(Found {
        path: path.to_vec(),
        kind,
        before: before.cloned(),
        after: after.cloned(),
    });
}

/// Sorts into path order and renders the paths.
fn finish(mut found: Vec<Found>) -> Vec<PropertyChange> {
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
        .into_iter()
        .map(|f| PropertyChange {
            path: render_path(&f.path),
            kind: f.kind,
            before: f.before.map(display_form),
            after: f.after.map(display_form),
        })
        .collect()
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

/// Compares two optional values at `path`; when only one side is there and it is an object,
/// the other counts as `{}` so that changes are reported at the deepest level.
fn compare_present(
    path: &mut Vec<Seg>,
    a: Option<&Value>,
    b: Option<&Value>,
    out: &mut Vec<Found>,
) {
    let empty = Value::Object(Map::new());
    match (a, b) {
        (Some(a), Some(b)) => compare(path, a, b, Ctx::Plain, out),
        (None, Some(b)) if b.is_object() => compare(path, &empty, b, Ctx::Plain, out),
        (Some(a), None) if a.is_object() => compare(path, a, &empty, Ctx::Plain, out),
        (None, None) => {}
        (a, b) => found(out, path, a, b),
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

/// Where in a document a value sits, for the parts of IAM policies that are order-insensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Plain,
    /// A policy statement (an element of `Statement`).
    Statement,
    /// A statement's `Principal`/`NotPrincipal`: its values are sets.
    Principal,
    /// A statement's `Condition`: its leaf values are sets.
    Condition,
    /// A string or an array of them whose order and duplicates do not matter.
    Set,
}

fn child_ctx(parent: Ctx, key: &str) -> Ctx {
    match (parent, key) {
        (Ctx::Statement, "Action" | "NotAction" | "Resource" | "NotResource") => Ctx::Set,
        (Ctx::Statement, "Principal" | "NotPrincipal") => Ctx::Principal,
        (Ctx::Statement, "Condition") => Ctx::Condition,
        (Ctx::Principal | Ctx::Set, _) => Ctx::Set,
        (Ctx::Condition, _) => Ctx::Condition,
        _ => Ctx::Plain,
    }
}

/// Whether a `Statement` key in this context holds policy statements.
fn holds_statements(ctx: Ctx) -> bool {
    matches!(ctx, Ctx::Plain | Ctx::Statement)
}

/// `{"Ref": ...}` or `{"Fn::...": ...}`: compared as written.
fn is_intrinsic(v: &Value) -> bool {
    match v.as_object() {
        Some(m) if m.len() == 1 => m
            .keys()
            .next()
            .is_some_and(|k| k == "Ref" || k.starts_with("Fn::")),
        _ => false,
    }
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The members of a set-like value: a string is a one-member set; other members are their
/// compact JSON.
fn set_of(v: &Value) -> BTreeSet<String> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => compact(other),
    };
    match v {
        Value::Array(items) => items.iter().map(text).collect(),
        other => BTreeSet::from([text(other)]),
    }
}

fn compare(path: &mut Vec<Seg>, a: &Value, b: &Value, ctx: Ctx, out: &mut Vec<Found>) {
    let ctx = if is_intrinsic(a) && is_intrinsic(b) {
        Ctx::Plain
    } else {
        ctx
    };
    let leaf_set = match ctx {
        Ctx::Set => true,
        Ctx::Principal | Ctx::Condition => !(a.is_object() && b.is_object()),
        Ctx::Plain | Ctx::Statement => false,
    };
    if leaf_set {
        if set_of(a) != set_of(b) {
            found(out, path, Some(a), Some(b));
        }
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => compare_objects(path, x, y, ctx, out),
        (Value::Array(x), Value::Array(y)) => compare_arrays(path, x, y, out),
        _ if a != b => found(out, path, Some(a), Some(b)),
        _ => {}
    }
}

fn compare_objects(
    path: &mut Vec<Seg>,
    x: &Map<String, Value>,
    y: &Map<String, Value>,
    ctx: Ctx,
    out: &mut Vec<Found>,
) {
    let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
    for key in keys {
        path.push(Seg::Key(key.clone()));
        match (x.get(key), y.get(key)) {
            (Some(a), Some(b)) if key == "Statement" && holds_statements(ctx) => {
                compare_statements(path, a, b, out)
            }
            (Some(a), Some(b)) => compare(path, a, b, child_ctx(ctx, key), out),
            (a, b) => found(out, path, a, b),
        }
        path.pop();
    }
}

fn compare_arrays(path: &mut Vec<Seg>, x: &[Value], y: &[Value], out: &mut Vec<Found>) {
    if !(x.is_empty() && y.is_empty()) {
        if let (Some(tx), Some(ty)) = (tag_entries(x), tag_entries(y)) {
            compare_keyed(path, "Key", &tx, &ty, Ctx::Plain, out);
            return;
        }
    }
    if x.len() == y.len() {
        for (i, (a, b)) in x.iter().zip(y).enumerate() {
            path.push(Seg::Index(i));
            compare(path, a, b, Ctx::Plain, out);
            path.pop();
        }
    } else {
        found(
            out,
            path,
            Some(&Value::Array(x.to_vec())),
            Some(&Value::Array(y.to_vec())),
        );
    }
}

/// Compares the elements of two order-insensitive arrays matched by a unique name.
fn compare_keyed(
    path: &mut Vec<Seg>,
    field: &'static str,
    x: &[(String, &Value)],
    y: &[(String, &Value)],
    ctx: Ctx,
    out: &mut Vec<Found>,
) {
    fn get<'v>(list: &[(String, &'v Value)], key: &str) -> Option<&'v Value> {
        list.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
    let keys: BTreeSet<&String> = x.iter().chain(y).map(|(k, _)| k).collect();
    for key in keys {
        path.push(Seg::Keyed(field, key.clone()));
        match (get(x, key), get(y, key)) {
            (Some(a), Some(b)) => compare(path, a, b, ctx, out),
            (a, b) => found(out, path, a, b),
        }
        path.pop();
    }
}

/// The elements of a tag list (`[{"Key": k, "Value": v}]`, keys unique) by key.
fn tag_entries(items: &[Value]) -> Option<Vec<(String, &Value)>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let m = item.as_object()?;
        let Some(Value::String(key)) = m.get("Key") else {
            return None;
        };
        let known = m
            .keys()
            .all(|k| matches!(k.as_str(), "Key" | "Value" | "PropagateAtLaunch"));
        if !known || !m.contains_key("Value") || !seen.insert(key.clone()) {
            return None;
        }
        out.push((key.clone(), item));
    }
    Some(out)
}

/// A statement list: one statement object or an array of them.
fn statement_list(v: &Value) -> Option<Vec<&Value>> {
    match v {
        Value::Array(items) => Some(items.iter().collect()),
        Value::Object(_) if !is_intrinsic(v) => Some(vec![v]),
        _ => None,
    }
}

/// The statements by their `Sid`, when every statement has a unique one.
fn sid_entries<'a>(list: &[&'a Value]) -> Option<Vec<(String, &'a Value)>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        let Some(Value::String(sid)) = s.get("Sid") else {
            return None;
        };
        if sid.is_empty() || !seen.insert(sid.clone()) {
            return None;
        }
        out.push((sid.clone(), *s));
    }
    Some(out)
}

/// Compares two `Statement` values without regard to statement order.
fn compare_statements(path: &mut Vec<Seg>, a: &Value, b: &Value, out: &mut Vec<Found>) {
    if a.is_object() && b.is_object() && !is_intrinsic(a) && !is_intrinsic(b) {
        return compare(path, a, b, Ctx::Statement, out);
    }
    let (Some(xs), Some(ys)) = (statement_list(a), statement_list(b)) else {
        return compare(path, a, b, Ctx::Plain, out);
    };
    let nx: Vec<String> = xs
        .iter()
        .map(|s| compact(&norm(s, Ctx::Statement)))
        .collect();
    let ny: Vec<String> = ys
        .iter()
        .map(|s| compact(&norm(s, Ctx::Statement)))
        .collect();
    let (mut sx, mut sy) = (nx.clone(), ny.clone());
    sx.sort();
    sy.sort();
    if sx == sy {
        return;
    }
    if let (Some(kx), Some(ky)) = (sid_entries(&xs), sid_entries(&ys)) {
        return compare_keyed(path, "Sid", &kx, &ky, Ctx::Statement, out);
    }
    // Pair equal statements wherever they are; what is left is what changed.
    let mut used = vec![false; ny.len()];
    let mut left_old = Vec::new();
    for (i, n) in nx.iter().enumerate() {
        match (0..ny.len()).find(|&j| !used[j] && ny[j] == *n) {
            Some(j) => used[j] = true,
            None => left_old.push(i),
        }
    }
    let left_new: Vec<usize> = (0..ny.len()).filter(|&j| !used[j]).collect();
    let at = |path: &mut Vec<Seg>,
              index: usize,
              out: &mut Vec<Found>,
              a: Option<&Value>,
              b: Option<&Value>| {
        path.push(Seg::Index(index));
        match (a, b) {
            (Some(a), Some(b)) => compare(path, a, b, Ctx::Statement, out),
            (a, b) => found(out, path, a, b),
        }
        path.pop();
    };
    if left_old == left_new {
        for &i in &left_old {
            at(path, i, out, Some(xs[i]), Some(ys[i]));
        }
    } else if let ([i], [j]) = (left_old.as_slice(), left_new.as_slice()) {
        at(path, *j, out, Some(xs[*i]), Some(ys[*j]));
    } else if left_old.is_empty() {
        for &j in &left_new {
            at(path, j, out, None, Some(ys[j]));
        }
    } else if left_new.is_empty() {
        for &i in &left_old {
            at(path, i, out, Some(xs[i]), None);
        }
    } else {
        found(out, path, Some(a), Some(b));
    }
}

/// An order-free form of a canonical value, for matching elements of order-insensitive arrays:
/// equal for values that [`compare`] finds no change between.
fn norm(v: &Value, ctx: Ctx) -> Value {
    if is_intrinsic(v) {
        return v.clone();
    }
    let leaf_set = match ctx {
        Ctx::Set => true,
        Ctx::Principal | Ctx::Condition => !v.is_object(),
        Ctx::Plain | Ctx::Statement => false,
    };
    if leaf_set {
        return Value::Array(set_of(v).into_iter().map(Value::String).collect());
    }
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, c)| {
                        let n = if k == "Statement" && holds_statements(ctx) {
                            norm_statements(c)
                        } else {
                            norm(c, child_ctx(ctx, k))
                        };
                        (k.clone(), n)
                    })
                    .collect(),
            )
        }
        Value::Array(items) => match tag_entries(items) {
            Some(mut tags) if !tags.is_empty() => {
                tags.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Array(tags.into_iter().map(|(_, t)| norm(t, Ctx::Plain)).collect())
            }
            _ => Value::Array(items.iter().map(|i| norm(i, Ctx::Plain)).collect()),
        },
        other => other.clone(),
    }
}

fn norm_statements(v: &Value) -> Value {
    match statement_list(v) {
        Some(list) => {
            let mut items: Vec<(String, Value)> = list
                .into_iter()
                .map(|s| {
                    let n = norm(s, Ctx::Statement);
                    (compact(&n), n)
                })
                .collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Array(items.into_iter().map(|(_, n)| n).collect())
        }
        None => norm(v, Ctx::Plain),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(resources: Value) -> Value {
        json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
    }

    fn paths(changes: &[PropertyChange]) -> Vec<(&str, ChangeKind)> {
        changes.iter().map(|c| (c.path.as_str(), c.kind)).collect()
    }

    /// The changes of the one modified resource.
    fn resource_changes_of(old: Value, new: Value) -> Vec<PropertyChange> {
        let d = diff_templates(Some(&template(old)), &template(new));
        assert_eq!(d.resources.len(), 1, "{d:#?}");
        assert_eq!(d.resources[0].kind, ChangeKind::Modified);
        d.resources[0].changes.clone()
    }

    fn assert_no_diff(old: Value, new: Value) {
        let d = diff_templates(Some(&old), &new);
        assert!(d.is_empty(), "{d:#?}");
    }

    #[test]
    fn reordered_keys_are_no_change() {
        let old = json!({"Resources": {"R": {"Type": "AWS::S3::Bucket", "Properties": {"A": 1, "B": {"x": 1, "y": 2}}}}, "Outputs": {"O": {"Value": "v", "Description": "d"}}});
        let new = json!({"Outputs": {"O": {"Description": "d", "Value": "v"}}, "Resources": {"R": {"Properties": {"B": {"y": 2, "x": 1}, "A": 1}, "Type": "AWS::S3::Bucket"}}});
        assert_no_diff(old, new);
    }

    #[test]
    fn number_and_boolean_formatting_is_no_change() {
        let old = template(
            json!({"R": {"Type": "T", "Properties": {"A": 1.0, "B": "5", "C": true, "D": [1, 2.50]}}}),
        );
        let new = template(
            json!({"R": {"Type": "T", "Properties": {"A": 1, "B": 5, "C": "true", "D": ["1", 2.5]}}}),
        );
        assert_no_diff(old, new);
    }

    #[test]
    fn different_numbers_are_a_change() {
        let c = resource_changes_of(
            json!({"R": {"Type": "T", "Properties": {"A": 1, "V": "1.10"}}}),
            json!({"R": {"Type": "T", "Properties": {"A": 1.5, "V": "1.1"}}}),
        );
        assert_eq!(
            paths(&c),
            [
                ("Properties.A", ChangeKind::Modified),
                ("Properties.V", ChangeKind::Modified)
            ]
        );
        // Compared as text, shown as numbers again.
        assert_eq!(c[0].before, Some(json!(1)));
        assert_eq!(c[0].after, Some(json!(1.5)));
    }

    #[test]
    fn getatt_string_form_is_the_array_form() {
        let old = template(
            json!({"R": {"Type": "T", "Properties": {"A": {"Fn::GetAtt": "Repo.Arn"}, "B": {"Fn::GetAtt": "Db.Endpoint.Address"}}}}),
        );
        let new = template(
            json!({"R": {"Type": "T", "Properties": {"A": {"Fn::GetAtt": ["Repo", "Arn"]}, "B": {"Fn::GetAtt": ["Db", "Endpoint.Address"]}}}}),
        );
        assert_no_diff(old, new);
        let c = resource_changes_of(
            json!({"R": {"Type": "T", "Properties": {"A": {"Fn::GetAtt": "Repo.Arn"}}}}),
            json!({"R": {"Type": "T", "Properties": {"A": {"Fn::GetAtt": ["Repo", "RepositoryUri"]}}}}),
        );
        assert_eq!(
            paths(&c),
            [("Properties.A.Fn::GetAtt[1]", ChangeKind::Modified)]
        );
    }

    #[test]
    fn embedded_json_with_other_key_order_and_whitespace_is_no_change() {
        let old = template(
            json!({"Repo": {"Type": "AWS::ECR::Repository", "Properties": {
                "RepositoryPolicyText": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ecr:BatchGetImage\",\"Principal\":{\"AWS\":\"arn:aws:iam::1:root\"}}]}",
                "LifecyclePolicy": {"LifecyclePolicyText": "{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"countNumber\": 10}}]}"}
            }}}),
        );
        let new = template(
            json!({"Repo": {"Type": "AWS::ECR::Repository", "Properties": {
                "RepositoryPolicyText": "{\n  \"Statement\": [ {\"Principal\": {\"AWS\": \"arn:aws:iam::1:root\"}, \"Action\": \"ecr:BatchGetImage\", \"Effect\": \"Allow\"} ],\n  \"Version\": \"2012-10-17\"\n}",
                "LifecyclePolicy": {"LifecyclePolicyText": {"rules": [{"selection": {"countNumber": "10"}, "rulePriority": 1.0}]}}
            }}}),
        );
        assert_no_diff(old, new);
    }

    #[test]
    fn changes_inside_embedded_json_have_deep_paths() {
        let lifecycle = |n: u32| {
            json!({"Repo": {"Type": "AWS::ECR::Repository", "Properties": {"LifecyclePolicy": {
                "LifecyclePolicyText": format!("{{\"rules\":[{{\"rulePriority\":1,\"selection\":{{\"tagStatus\":\"any\",\"countType\":\"imageCountMoreThan\",\"countNumber\":{n}}}}}]}}")
            }}}})
        };
        let c = resource_changes_of(lifecycle(10), lifecycle(20));
        assert_eq!(
            paths(&c),
            [(
                "Properties.LifecyclePolicy.LifecyclePolicyText.rules[0].selection.countNumber",
                ChangeKind::Modified
            )]
        );
        assert_eq!(c[0].before, Some(json!(10)));
        assert_eq!(c[0].after, Some(json!(20)));
    }

    #[test]
    fn depends_on_is_a_set() {
        let r = |d: Value| template(json!({"R": {"Type": "T", "DependsOn": d}}));
        assert_no_diff(r(json!("A")), r(json!(["A"])));
        assert_no_diff(r(json!(["A", "B"])), r(json!(["B", "A", "A"])));
        assert_no_diff(template(json!({"R": {"Type": "T"}})), r(json!([])));
        let d = diff_templates(Some(&r(json!("A"))), &r(json!(["A", "B"])));
        assert_eq!(
            paths(&d.resources[0].changes),
            [("DependsOn", ChangeKind::Modified)]
        );
        let d = diff_templates(Some(&template(json!({"R": {"Type": "T"}}))), &r(json!("A")));
        assert_eq!(
            paths(&d.resources[0].changes),
            [("DependsOn", ChangeKind::Added)]
        );
    }

    #[test]
    fn arrays_of_equal_length_are_compared_by_index_others_as_a_whole() {
        let c = resource_changes_of(
            json!({"R": {"Type": "T", "Properties": {"Ports": [80, 443], "Subnets": ["a", "b"]}}}),
            json!({"R": {"Type": "T", "Properties": {"Ports": [80, 8443], "Subnets": ["a", "b", "c"]}}}),
        );
        assert_eq!(
            paths(&c),
            [
                ("Properties.Ports[1]", ChangeKind::Modified),
                ("Properties.Subnets", ChangeKind::Modified)
            ]
        );
        assert_eq!(c[1].before, Some(json!(["a", "b"])));
        assert_eq!(c[1].after, Some(json!(["a", "b", "c"])));
    }

    #[test]
    fn tags_are_keyed_by_key() {
        let tags = |t: Value| template(json!({"R": {"Type": "T", "Properties": {"Tags": t}}}));
        assert_no_diff(
            tags(json!([{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])),
            tags(json!([{"Value": "2", "Key": "b"}, {"Key": "a", "Value": 1}])),
        );
        let d = diff_templates(
            Some(&tags(
                json!([{"Key": "Env", "Value": "dev"}, {"Key": "Team", "Value": "x"}]),
            )),
            &tags(json!([{"Key": "Owner", "Value": "me"}, {"Key": "Env", "Value": "prod"}])),
        );
        assert_eq!(
            paths(&d.resources[0].changes),
            [
                ("Properties.Tags[Key=Env].Value", ChangeKind::Modified),
                ("Properties.Tags[Key=Owner]", ChangeKind::Added),
                ("Properties.Tags[Key=Team]", ChangeKind::Removed),
            ]
        );
        assert_eq!(
            d.resources[0].changes[1].after,
            Some(json!({"Key": "Owner", "Value": "me"}))
        );
        // From no tags to some.
        let d = diff_templates(
            Some(&tags(json!([]))),
            &tags(json!([{"Key": "a", "Value": "1"}])),
        );
        assert_eq!(
            paths(&d.resources[0].changes),
            [("Properties.Tags[Key=a]", ChangeKind::Added)]
        );
    }

    fn role(statements: Value) -> Value {
        template(json!({"Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": statements}
        }}}))
    }

    #[test]
    fn statements_actions_and_principals_are_order_insensitive() {
        let a =
            json!({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"});
        let b = json!({"Effect": "Allow", "Principal": {"AWS": ["arn:1", "arn:2"]}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ["1", "2"]}}});
        let a2 = json!({"Resource": ["*"], "Action": ["s3:PutObject", "s3:GetObject"], "Effect": "Allow"});
        let b2 = json!({"Principal": {"AWS": ["arn:2", "arn:1"]}, "Action": ["sts:AssumeRole"], "Effect": "Allow",
            "Condition": {"StringEquals": {"aws:SourceAccount": ["2", "1"]}}});
        assert_no_diff(role(json!([a, b])), role(json!([b2, a2])));
        // One statement as an object or in an array.
        assert_no_diff(role(json!(a)), role(json!([a2])));
    }

    #[test]
    fn a_changed_statement_is_reported_inside_it() {
        let old = role(json!([
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]));
        // Reordered, and the trust statement gains a principal.
        let new = role(json!([
            {"Effect": "Allow", "Principal": {"Service": ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
        ]));
        let d = diff_templates(Some(&old), &new);
        assert_eq!(
            paths(&d.resources[0].changes),
            [(
                "Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service",
                ChangeKind::Modified
            )]
        );
    }

    #[test]
    fn added_and_sid_keyed_statements() {
        let s1 = json!({"Effect": "Allow", "Action": "a:A", "Resource": "*"});
        let s2 = json!({"Effect": "Deny", "Action": "a:B", "Resource": "*"});
        let d = diff_templates(Some(&role(json!([s1]))), &role(json!([s2, s1])));
        assert_eq!(
            paths(&d.resources[0].changes),
            [(
                "Properties.AssumeRolePolicyDocument.Statement[0]",
                ChangeKind::Added
            )]
        );
        let d = diff_templates(Some(&role(json!([s2, s1]))), &role(json!([s1])));
        assert_eq!(
            paths(&d.resources[0].changes),
            [(
                "Properties.AssumeRolePolicyDocument.Statement[0]",
                ChangeKind::Removed
            )]
        );
        let d = diff_templates(
            Some(&role(
                json!([{"Sid": "One", "Effect": "Allow", "Action": "a:A"}, {"Sid": "Two", "Effect": "Allow", "Action": "a:B"}]),
            )),
            &role(
                json!([{"Sid": "Two", "Effect": "Allow", "Action": "a:C"}, {"Sid": "One", "Effect": "Deny", "Action": "a:A"}]),
            ),
        );
        assert_eq!(
            paths(&d.resources[0].changes),
            [
                (
                    "Properties.AssumeRolePolicyDocument.Statement[Sid=One].Effect",
                    ChangeKind::Modified
                ),
                (
                    "Properties.AssumeRolePolicyDocument.Statement[Sid=Two].Action",
                    ChangeKind::Modified
                ),
            ]
        );
    }

    #[test]
    fn new_stack_adds_everything_sorted() {
        let new = json!({
            "Description": "d",
            "Parameters": {"Env": {"Type": "String"}},
            "Resources": {"B": {"Type": "AWS::S3::Bucket"}, "A": {"Type": "AWS::ECR::Repository"}},
            "Outputs": {"Uri": {"Value": "x"}}
        });
        let d = diff_templates(None, &new);
        let ids: Vec<(&str, &str, ChangeKind)> = d
            .resources
            .iter()
            .map(|r| (r.logical_id.as_str(), r.resource_type.as_str(), r.kind))
            .collect();
        assert_eq!(
            ids,
            [
                ("A", "AWS::ECR::Repository", ChangeKind::Added),
                ("B", "AWS::S3::Bucket", ChangeKind::Added)
            ]
        );
        assert_eq!(paths(&d.outputs), [("Uri", ChangeKind::Added)]);
        assert_eq!(paths(&d.parameters), [("Env", ChangeKind::Added)]);
        assert_eq!(paths(&d.sections), [("Description", ChangeKind::Added)]);
        assert!(diff_templates(None, &json!({})).is_empty());
    }

    #[test]
    fn removed_and_retyped_resources() {
        let old = template(
            json!({"Gone": {"Type": "AWS::SNS::Topic"}, "R": {"Type": "AWS::SQS::Queue", "Properties": {"A": 1}}}),
        );
        let new = template(json!({"R": {"Type": "AWS::SNS::Topic", "Properties": {"A": 1}}}));
        let d = diff_templates(Some(&old), &new);
        assert_eq!(d.resources.len(), 2);
        assert_eq!(d.resources[0].logical_id, "Gone");
        assert_eq!(d.resources[0].kind, ChangeKind::Removed);
        assert_eq!(d.resources[0].resource_type, "AWS::SNS::Topic");
        let r = &d.resources[1];
        assert!(r.type_changed);
        assert_eq!(r.resource_type, "AWS::SNS::Topic");
        assert_eq!(paths(&r.changes), [("Type", ChangeKind::Modified)]);
        assert_eq!(r.changes[0].before, Some(json!("AWS::SQS::Queue")));
    }

    #[test]
    fn resource_attributes_are_compared_and_others_ignored() {
        let old = template(
            json!({"R": {"Type": "T", "DeletionPolicy": "Retain", "Condition": "IsProd", "Metadata": {"a": 1}, "Comment": "x"}}),
        );
        let new = template(
            json!({"R": {"Type": "T", "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Retain", "Metadata": {"a": 2}, "Comment": "y", "Properties": {}}}),
        );
        let d = diff_templates(Some(&old), &new);
        assert_eq!(
            paths(&d.resources[0].changes),
            [
                ("Condition", ChangeKind::Removed),
                ("DeletionPolicy", ChangeKind::Modified),
                ("Metadata.a", ChangeKind::Modified),
                ("UpdateReplacePolicy", ChangeKind::Added),
            ]
        );
        assert!(!d.resources[0].type_changed);
    }

    #[test]
    fn properties_absent_is_empty_and_additions_are_deep() {
        assert_no_diff(
            template(json!({"R": {"Type": "T"}})),
            template(json!({"R": {"Type": "T", "Properties": {}}})),
        );
        let c = resource_changes_of(
            json!({"R": {"Type": "T"}}),
            json!({"R": {"Type": "T", "Properties": {"Name": "n"}}}),
        );
        assert_eq!(paths(&c), [("Properties.Name", ChangeKind::Added)]);
        assert_eq!(c[0].before, None);
        assert_eq!(c[0].after, Some(json!("n")));
    }

    #[test]
    fn outputs_parameters_and_sections_have_their_own_paths() {
        let old = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "a",
            "Transform": "AWS::Serverless-2016-10-31",
            "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
            "Mappings": {"M": {"k": {"v": 1}}},
            "Outputs": {"Uri": {"Value": "x", "Export": {"Name": "e"}}, "Old": {"Value": "o"}},
            "Resources": {}
        });
        let new = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "b",
            "Transform": ["AWS::Serverless-2016-10-31"],
            "Parameters": {"Env": {"Type": "String", "Default": "prod"}},
            "Mappings": {"M": {"k": {"v": 2}}},
            "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
            "Outputs": {"Uri": {"Value": "x", "Export": {"Name": "f"}}},
            "Resources": {}
        });
        let d = diff_templates(Some(&old), &new);
        assert!(d.resources.is_empty());
        assert_eq!(
            paths(&d.outputs),
            [
                ("Old", ChangeKind::Removed),
                ("Uri.Export.Name", ChangeKind::Modified)
            ]
        );
        assert_eq!(
            paths(&d.parameters),
            [("Env.Default", ChangeKind::Modified)]
        );
        assert_eq!(
            paths(&d.sections),
            [
                ("Conditions.IsProd", ChangeKind::Added),
                ("Description", ChangeKind::Modified),
                ("Mappings.M.k.v", ChangeKind::Modified),
            ]
        );
    }

    #[test]
    fn resources_are_sorted_and_changes_in_path_order() {
        let props = |n: u32| json!({"Type": "T", "Properties": {"Z": n, "A": {"B": [n, n, n, n, n, n, n, n, n, n, n, n]}}});
        let d = diff_templates(
            Some(&template(
                json!({"b": props(1), "a": props(1), "C": props(1)}),
            )),
            &template(json!({"C": props(2), "a": props(2), "b": props(2)})),
        );
        let ids: Vec<&str> = d.resources.iter().map(|r| r.logical_id.as_str()).collect();
        assert_eq!(ids, ["C", "a", "b"]);
        let p: Vec<&str> = d.resources[0]
            .changes
            .iter()
            .map(|c| c.path.as_str())
            .collect();
        assert_eq!(p[0], "Properties.A.B[0]");
        assert_eq!(p[2], "Properties.A.B[2]");
        assert_eq!(p[10], "Properties.A.B[10]");
        assert_eq!(p[12], "Properties.Z");
    }

    #[test]
    fn keys_with_dots_are_quoted_in_paths() {
        let c = resource_changes_of(
            json!({"R": {"Type": "T", "Metadata": {"kubernetes.io/cluster": "a"}}}),
            json!({"R": {"Type": "T", "Metadata": {"kubernetes.io/cluster": "b"}}}),
        );
        assert_eq!(c[0].path, "Metadata[\"kubernetes.io/cluster\"]");
    }

    #[test]
    fn canonical_form() {
        let v = json!({
            "b": [1.0, true, null, "x"],
            "a": {"Fn::GetAtt": "A.B.C"},
            "s": "{\"z\": 1, \"y\": \"[2]\"}",
            "t": " [1] ",
            "u": "{not json}"
        });
        let c = canonical(&v);
        assert_eq!(
            c,
            json!({
                "a": {"Fn::GetAtt": ["A", "B.C"]},
                "b": ["1", "true", null, "x"],
                "s": {"y": ["2"], "z": "1"},
                "t": ["1"],
                "u": "{not json}"
            })
        );
        let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["a", "b", "s", "t", "u"]);
        assert_eq!(canonical(&json!(1e300)), json!(format!("{}", 1e300)));
        assert_eq!(canonical(&json!(u64::MAX)), json!(u64::MAX.to_string()));
        assert_eq!(canonical(&json!(-2.0)), json!("-2"));
    }

    #[test]
    fn unified_is_empty_for_equal_values() {
        assert_eq!(unified(None, None, false), "");
        assert_eq!(
            unified(
                Some(&json!({"a": 1, "b": 2})),
                Some(&json!({"b": "2", "a": 1.0})),
                true
            ),
            ""
        );
        assert_eq!(
            unified(Some(&json!("{\"a\": 1}")), Some(&json!({"a": 1})), false),
            ""
        );
    }

    #[test]
    fn unified_shows_sorted_expanded_lines() {
        let before = json!({"z": 1, "doc": "{\"rules\": [{\"n\": 1}]}"});
        let after = json!({"z": 1, "doc": "{\"rules\": [{\"n\": 2}]}"});
        let text = unified(Some(&before), Some(&after), false);
        assert!(text.starts_with("@@ "), "{text}");
        assert!(text.contains("\n-        \"n\": 1\n"), "{text}");
        assert!(text.contains("\n+        \"n\": 2\n"), "{text}");
        assert!(text.contains("\n   \"doc\": {\n"), "{text}");
        assert!(!text.contains('\x1b'));
        // Keys sorted recursively.
        let text = unified(
            Some(&json!({"z": 1, "m": {"y": 1, "b": 1}})),
            Some(&json!({"z": 2, "m": {"y": 1, "b": 1}})),
            false,
        );
        assert_eq!(
            text,
            "@@ -3,5 +3,5 @@\n     \"b\": 1,\n     \"y\": 1\n   },\n-  \"z\": 1\n+  \"z\": 2\n }\n"
        );
    }

    #[test]
    fn unified_context_is_three_lines() {
        let before: Vec<u32> = (0..20).collect();
        let mut after = before.clone();
        after[10] = 99;
        let text = unified(Some(&json!(before)), Some(&json!(after)), false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 3 + 2 + 3, "{text}");
        assert_eq!(lines[4], "-  10,");
        assert_eq!(lines[5], "+  99,");
    }

    #[test]
    fn unified_colors_and_one_sided_values() {
        let text = unified(None, Some(&json!({"a": 1})), true);
        assert!(text.contains("\x1b[32m+{\x1b[0m\n"), "{text:?}");
        assert!(!text.contains("\x1b[31m"), "{text:?}");
        let text = unified(Some(&json!("x")), None, true);
        assert!(text.contains("\x1b[31m-\"x\"\x1b[0m\n"), "{text:?}");
        let text = unified(Some(&json!("x")), None, false);
        assert_eq!(text, "@@ -1 +0,0 @@\n-\"x\"\n");
    }

    #[test]
    fn odd_templates_do_not_panic() {
        let odd = [
            json!(null),
            json!([]),
            json!("text"),
            json!({"Resources": []}),
            json!({"Resources": {"R": "x", "S": null, "T": {"Type": 5, "Properties": [1], "DependsOn": {"a": 1}}}}),
            json!({"Outputs": "x", "Parameters": [1], "Transform": {"a": 1}}),
            json!({"Resources": {"R": {"Type": "T", "Properties": {"Statement": "x", "P": {"Statement": [1, {"Fn::If": ["c", {}, {}]}]}}}}}),
        ];
        for a in &odd {
            for b in &odd {
                let d = diff_templates(Some(a), b);
                let _ = serde_json::to_string(&d).unwrap();
                for r in &d.resources {
                    for c in &r.changes {
                        let _ = unified(c.before.as_ref(), c.after.as_ref(), true);
                    }
                }
                if a == b {
                    assert!(d.is_empty(), "{a} {d:#?}");
                }
            }
            let _ = diff_templates(None, a);
        }
        let d = diff_templates(Some(&json!({"Outputs": "x"})), &json!({"Outputs": "y"}));
        assert_eq!(paths(&d.outputs), [("Outputs", ChangeKind::Modified)]);
    }

    #[test]
    fn deeply_nested_embedded_json_stops_expanding() {
        let mut v = json!({"a": 1});
        for _ in 0..20 {
            v = json!({"a": v.to_string()});
        }
        let c = canonical(&v);
        let mut depth = 0;
        let mut cur = &c;
        while let Some(inner) = cur.as_object().and_then(|m| m.get("a")) {
            cur = inner;
            depth += 1;
        }
        assert_eq!(depth, MAX_EMBEDDED + 1);
        assert!(
            cur.as_str().is_some_and(|s| s.starts_with("{\"a\"")),
            "{cur}"
        );
    }

    #[test]
    fn serialises_kinds_lowercase() {
        let c = PropertyChange {
            path: "A".into(),
            kind: ChangeKind::Added,
            before: None,
            after: Some(json!(1)),
        };
        let text = serde_json::to_string(&c).unwrap();
        assert!(text.contains("\"kind\":\"added\""), "{text}");
        let back: PropertyChange = serde_json::from_str(&text).unwrap();
        assert_eq!(back, c);
    }
}
