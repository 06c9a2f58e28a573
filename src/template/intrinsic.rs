//! What counts as a CloudFormation intrinsic function, in one place.
//!
//! The rule: a value is an intrinsic function when it is an object with exactly one key, and that
//! key is `Ref` or starts with `Fn::` (`Fn::GetAtt`, `Fn::Sub`, `Fn::If`, …). CloudFormation
//! resolves such a value at deployment, so checks and comparisons take it as written.
//!
//! `{"Condition": "Name"}` is a function only inside the template's `Conditions` section (and the
//! condition arguments of `Fn::And`, `Fn::Or`, `Fn::Not` there); everywhere else, including in
//! resource properties such as policy documents, it is an ordinary object with a `Condition`
//! key. The linter, which walks `Conditions`, handles that case itself.
//!
//! This module does not evaluate functions or know which ones are valid where.

use serde_json::Value;

/// Whether an object key names an intrinsic function: `Ref` or `Fn::…`.
pub fn is_function_key(key: &str) -> bool {
    key == "Ref" || key.starts_with("Fn::")
}

/// `{"Ref": …}` or `{"Fn::…": …}` (one key): a function resolved at deployment.
pub fn is_intrinsic(v: &Value) -> bool {
    match v.as_object() {
        Some(m) if m.len() == 1 => m.keys().next().is_some_and(|k| is_function_key(k)),
        _ => false,
    }
}

/// Whether a value is or holds, at any depth, an object with a function key (`Ref`, `Fn::…`),
/// so that its deployed value cannot be known from the template alone.
pub fn has_intrinsic(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.keys().any(|k| is_function_key(k)) || m.values().any(has_intrinsic),
        Value::Array(items) => items.iter().any(has_intrinsic),
        _ => false,
    }
}

/// Whether `v` refers to the resource, parameter or condition `name` anywhere: `Ref`,
/// `Fn::GetAtt` (both forms), a `${name}` or `${name.Attr}` in `Fn::Sub` (or in the values of
/// its variable map), `Fn::If`'s condition, or a `Condition` key. Generous, never short: a
/// `Fn::Sub` variable that shadows `name` counts as a reference to it.
pub fn refers_to(v: &Value, name: &str) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, c)| {
            let direct = match (k.as_str(), c) {
                ("Ref" | "Condition", Value::String(s)) => s == name,
                ("Fn::GetAtt", Value::String(s)) => s.split('.').next() == Some(name),
                ("Fn::GetAtt", Value::Array(items)) => {
                    items.first().and_then(Value::as_str) == Some(name)
                }
                ("Fn::If", Value::Array(items)) => {
                    items.first().and_then(Value::as_str) == Some(name)
                }
                ("Fn::Sub", Value::String(s)) => sub_mentions(s, name),
                ("Fn::Sub", Value::Array(items)) => items
                    .first()
                    .and_then(Value::as_str)
                    .is_some_and(|s| sub_mentions(s, name)),
                _ => false,
            };
            direct || refers_to(c, name)
        }),
        Value::Array(items) => items.iter().any(|c| refers_to(c, name)),
        _ => false,
    }
}

/// Whether a `Fn::Sub` string has `${name}` or `${name.…}` (`${!name}` is a literal).
fn sub_mentions(text: &str, name: &str) -> bool {
    text.match_indices("${").any(|(i, _)| {
        let rest = text[i + 2..].trim_start();
        rest.strip_prefix(name)
            .is_some_and(|after| after.trim_start().starts_with(['}', '.']))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn functions_are_ref_and_fn_keys_alone() {
        assert!(is_intrinsic(&json!({"Ref": "X"})));
        assert!(is_intrinsic(&json!({"Fn::GetAtt": ["A", "Arn"]})));
        assert!(is_intrinsic(&json!({"Fn::Sub": "${AWS::Region}"})));
        // Two keys, or a key that is no function, is an ordinary object.
        assert!(!is_intrinsic(&json!({"Ref": "X", "Other": 1})));
        assert!(!is_intrinsic(&json!({"Fnx": 1})));
        assert!(!is_intrinsic(&json!("Ref")));
        assert!(!is_intrinsic(&json!([{"Ref": "X"}])));
        // A condition reference is a function only inside `Conditions`.
        assert!(!is_intrinsic(&json!({"Condition": "IsProd"})));
    }

    #[test]
    fn references_in_every_form() {
        for v in [
            json!({"Ref": "Repo"}),
            json!({"Fn::GetAtt": "Repo.Arn"}),
            json!({"Fn::GetAtt": ["Repo", "Arn"]}),
            json!({"Fn::Sub": "arn:${AWS::Partition}:x:::${Repo}"}),
            json!({"Fn::Sub": "${ Repo.Arn }/x"}),
            json!({"Fn::Sub": ["${X}", {"X": {"Ref": "Repo"}}]}),
            json!({"Fn::Join": ["", [{"Fn::If": ["Repo", "a", "b"]}]]}),
            json!({"Value": "x", "Condition": "Repo"}),
        ] {
            assert!(refers_to(&v, "Repo"), "{v}");
        }
        for v in [
            json!({"Ref": "Repository"}),
            json!({"Fn::Sub": "${RepoName}"}),
            json!({"Fn::Sub": "${!Repo}"}),
            json!("Repo"),
            json!({"Fn::GetAtt": ["Other", "Repo"]}),
        ] {
            assert!(!refers_to(&v, "Repo"), "{v}");
        }
    }

    #[test]
    fn held_functions_are_found_at_any_depth() {
        assert!(has_intrinsic(&json!({"a": [1, {"b": {"Ref": "X"}}]})));
        assert!(has_intrinsic(&json!({"Ref": "X", "Other": 1})));
        assert!(!has_intrinsic(&json!({"a": [1, {"Condition": "C"}]})));
        assert!(!has_intrinsic(&json!("Fn::Sub")));
    }
}
