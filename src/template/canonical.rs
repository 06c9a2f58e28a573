//! The canonical form of template values, used wherever two templates or two policies are
//! compared: [`canonical`] removes formatting (key order, `1.0` vs `1`, `"5"` vs `5`, the string
//! form of `Fn::GetAtt`, JSON documents embedded as strings; [`canonical_text`] keeps the
//! embedded documents' text, as CloudFormation does), and [`norm`] further removes the
//! order of order-insensitive collections (tags, policy statements and their actions, resources,
//! principals and condition values), with the contexts ([`Ctx`]) that say where that applies.
//!
//! Nothing here reports differences (that is `plan::diff`) or evaluates intrinsic functions.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::intrinsic::is_intrinsic;

/// How many levels of JSON-in-a-string-in-JSON are expanded; deeper strings stay strings.
pub const MAX_EMBEDDED: usize = 8;

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

/// The canonical form with the JSON documents embedded as strings kept as their text: what
/// CloudFormation itself compares. Two values whose [`canonical`] forms are equal but whose
/// `canonical_text` forms differ mean the same and are written differently, in a way that
/// CloudFormation sees (a policy text with other spacing or key order, say).
pub fn canonical_text(v: &Value) -> Value {
    canon(v, MAX_EMBEDDED)
}

pub fn canon(v: &Value, embedded: usize) -> Value {
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
pub fn number_text(n: &serde_json::Number) -> String {
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
pub fn parse_embedded(s: &str) -> Option<Value> {
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

/// Where in a document a value sits, for the parts of IAM policies that are order-insensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
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

pub fn child_ctx(parent: Ctx, key: &str) -> Ctx {
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
pub fn holds_statements(ctx: Ctx) -> bool {
    matches!(ctx, Ctx::Plain | Ctx::Statement)
}

pub fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The members of a set-like value: a string is a one-member set; other members are their
/// compact JSON.
pub fn set_of(v: &Value) -> BTreeSet<String> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => compact(other),
    };
    match v {
        Value::Array(items) => items.iter().map(text).collect(),
        other => BTreeSet::from([text(other)]),
    }
}

/// The elements of a tag list (`[{"Key": k, "Value": v}]`, keys unique) by key.
pub fn tag_entries(items: &[Value]) -> Option<Vec<(String, &Value)>> {
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
pub fn statement_list(v: &Value) -> Option<Vec<&Value>> {
    match v {
        Value::Array(items) => Some(items.iter().collect()),
        Value::Object(_) if !is_intrinsic(v) => Some(vec![v]),
        _ => None,
    }
}

/// The statements by their `Sid`, when every statement has a unique one.
pub fn sid_entries<'a>(list: &[&'a Value]) -> Option<Vec<(String, &'a Value)>> {
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

/// An order-free form of a canonical value, for matching elements of order-insensitive arrays:
/// equal for values that `plan::diff` finds no change between.
pub fn norm(v: &Value, ctx: Ctx) -> Value {
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

pub fn norm_statements(v: &Value) -> Value {
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
    fn canonical_text_keeps_embedded_documents_as_written() {
        let compact = json!({"b": 1.0, "Text": "{\"rules\":[]}", "a": {"Fn::GetAtt": "A.B"}});
        let spaced = json!({"a": {"Fn::GetAtt": ["A", "B"]}, "Text": "{ \"rules\": [ ] }", "b": 1});
        assert_eq!(canonical(&compact), canonical(&spaced));
        assert_ne!(canonical_text(&compact), canonical_text(&spaced));
        assert_eq!(
            canonical_text(&compact),
            json!({"Text": "{\"rules\":[]}", "a": {"Fn::GetAtt": ["A", "B"]}, "b": "1"})
        );
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
}
