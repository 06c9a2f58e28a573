//! The grammar of IAM policy documents (identity, resource and trust policies): `Version`,
//! `Statement`, and each statement's keys, one check per key (`Sid`, `Effect`, principals,
//! actions, resources, `Condition`).
//!
//! Problems only; the kinds of document and the entry point are in the parent module.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{unknown_keys, PolicyKind, Problems};
use crate::template::intrinsic::is_intrinsic;
use crate::text::{child, one_of, type_name};

const DOCUMENT_KEYS: &[&str] = &["Version", "Id", "Statement"];

const VERSIONS: &[&str] = &["2012-10-17", "2008-10-17"];

pub(super) const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

pub(super) const PRINCIPAL_KEYS: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];

pub(super) const TRUST_ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
];

pub(super) fn policy_document(kind: PolicyKind, doc: &Value, out: &mut Problems) {
    let Some(root) = doc.as_object() else {
        out.push(
            "",
            format!(
                "a policy document must be an object with `Version` and `Statement`, not {}",
                type_name(doc)
            ),
        );
        return;
    };
    unknown_keys("", root, DOCUMENT_KEYS, "", out);

    match root.get("Version") {
        None => out.push("", "missing `Version` (`2012-10-17`)"),
        Some(Value::String(v)) if VERSIONS.contains(&v.as_str()) => {}
        Some(other) => out.push(
            "/Version",
            format!("`Version` must be `2012-10-17`, not {other}"),
        ),
    }
    if let Some(id) = root.get("Id") {
        if !id.is_string() {
            out.push(
                "/Id",
                format!("`Id` must be a string, not {}", type_name(id)),
            );
        }
    }

    let mut sids: HashMap<String, usize> = HashMap::new();
    match root.get("Statement") {
        None => out.push("", "missing `Statement`"),
        Some(Value::Object(statement)) => {
            statement_check(kind, 1, "/Statement", statement, &mut sids, out);
        }
        Some(Value::Array(statements)) => {
            if statements.is_empty() {
                out.push("/Statement", "`Statement` must not be empty");
            }
            for (i, statement) in statements.iter().enumerate() {
                let pointer = child("/Statement", &i.to_string());
                match statement {
                    Value::Object(statement) => {
                        statement_check(kind, i + 1, &pointer, statement, &mut sids, out);
                    }
                    other => out.push(
                        &pointer,
                        format!(
                            "statement {}: must be an object, not {}",
                            i + 1,
                            type_name(other)
                        ),
                    ),
                }
            }
        }
        Some(other) => out.push(
            "/Statement",
            format!(
                "`Statement` must be an object or an array of objects, not {}",
                type_name(other)
            ),
        ),
    }
}

fn statement_check(
    kind: PolicyKind,
    n: usize,
    pointer: &str,
    statement: &Map<String, Value>,
    sids: &mut HashMap<String, usize>,
    out: &mut Problems,
) {
    let prefix = format!("statement {n}: ");
    unknown_keys(pointer, statement, STATEMENT_KEYS, &prefix, out);
    sid_check(&prefix, n, pointer, statement, sids, out);
    effect_check(&prefix, pointer, statement, out);
    principals_check(kind, &prefix, pointer, statement, out);
    action_keys_check(kind, &prefix, pointer, statement, out);
    resources_check(kind, &prefix, pointer, statement, out);
    if let Some(condition) = statement.get("Condition") {
        condition_check(&prefix, &child(pointer, "Condition"), condition, out);
    }
}

/// `Sid`: alphanumeric, and unique among the document's statements (empty ones excepted).
fn sid_check(
    prefix: &str,
    n: usize,
    pointer: &str,
    statement: &Map<String, Value>,
    sids: &mut HashMap<String, usize>,
    out: &mut Problems,
) {
    if let Some(sid) = statement.get("Sid") {
        let p = child(pointer, "Sid");
        match sid {
            Value::String(s) if !s.chars().all(|c| c.is_ascii_alphanumeric()) => out.push(
                &p,
                format!("{prefix}`Sid` `{s}` must be alphanumeric (A-Z, a-z, 0-9)"),
            ),
            // An empty `Sid` is accepted (the IAM console writes them) and needs no uniqueness.
            Value::String(s) if s.is_empty() => {}
            Value::String(s) => {
                if let Some(m) = sids.get(s) {
                    out.push(
                        &p,
                        format!("{prefix}`Sid` `{s}` is already used by statement {m}"),
                    );
                } else {
                    sids.insert(s.clone(), n);
                }
            }
            other => out.push(
                &p,
                format!("{prefix}`Sid` must be a string, not {}", type_name(other)),
            ),
        }
    }
}

/// `Effect`: present, and `Allow` or `Deny`.
fn effect_check(prefix: &str, pointer: &str, statement: &Map<String, Value>, out: &mut Problems) {
    match statement.get("Effect") {
        None => out.push(pointer, format!("{prefix}missing `Effect`")),
        Some(Value::String(e)) if e == "Allow" || e == "Deny" => {}
        Some(other) => out.push(
            &child(pointer, "Effect"),
            format!("{prefix}`Effect` must be `Allow` or `Deny`, not {other}"),
        ),
    }
}

/// `Principal` / `NotPrincipal`: which the kind of policy needs or forbids, and their shape.
fn principals_check(
    kind: PolicyKind,
    prefix: &str,
    pointer: &str,
    statement: &Map<String, Value>,
    out: &mut Problems,
) {
    let principal = statement.contains_key("Principal");
    let not_principal = statement.contains_key("NotPrincipal");
    match kind {
        PolicyKind::Identity => {
            for key in ["Principal", "NotPrincipal"] {
                if statement.contains_key(key) {
                    out.push(
                        &child(pointer, key),
                        format!("{prefix}`{key}` is not allowed in an identity policy"),
                    );
                }
            }
        }
        PolicyKind::Resource => {
            if !principal && !not_principal {
                out.push(
                    pointer,
                    format!("{prefix}a resource policy needs `Principal` or `NotPrincipal`"),
                );
            } else if principal && not_principal {
                out.push(
                    &child(pointer, "NotPrincipal"),
                    format!("{prefix}`Principal` and `NotPrincipal` cannot be used together"),
                );
            }
        }
        PolicyKind::Trust | PolicyKind::Lifecycle => {
            if not_principal {
                out.push(
                    &child(pointer, "NotPrincipal"),
                    format!("{prefix}`NotPrincipal` is not allowed in a trust policy"),
                );
            }
            if !principal {
                out.push(pointer, format!("{prefix}a trust policy needs `Principal`"));
            }
        }
    }
    for key in ["Principal", "NotPrincipal"] {
        if let Some(value) = statement.get(key) {
            principal_check(prefix, &child(pointer, key), key, value, out);
        }
    }
}

/// `Action` / `NotAction`: exactly one of them, and their shape.
fn action_keys_check(
    kind: PolicyKind,
    prefix: &str,
    pointer: &str,
    statement: &Map<String, Value>,
    out: &mut Problems,
) {
    match (statement.get("Action"), statement.get("NotAction")) {
        (None, None) => out.push(pointer, format!("{prefix}needs `Action` or `NotAction`")),
        (Some(_), Some(_)) => out.push(
            &child(pointer, "NotAction"),
            format!("{prefix}`Action` and `NotAction` cannot be used together"),
        ),
        _ => {}
    }
    for key in ["Action", "NotAction"] {
        if let Some(value) = statement.get(key) {
            actions_check(kind, prefix, &child(pointer, key), key, value, out);
        }
    }
}

/// `Resource` / `NotResource`: which the kind of policy needs or forbids, and their shape.
fn resources_check(
    kind: PolicyKind,
    prefix: &str,
    pointer: &str,
    statement: &Map<String, Value>,
    out: &mut Problems,
) {
    let resource = statement.contains_key("Resource");
    let not_resource = statement.contains_key("NotResource");
    match kind {
        PolicyKind::Trust | PolicyKind::Lifecycle => {
            for key in ["Resource", "NotResource"] {
                if statement.contains_key(key) {
                    out.push(
                        &child(pointer, key),
                        format!("{prefix}`{key}` is not allowed in a trust policy"),
                    );
                }
            }
        }
        PolicyKind::Identity if !resource && !not_resource => out.push(
            pointer,
            format!("{prefix}needs `Resource` or `NotResource`"),
        ),
        _ if resource && not_resource => out.push(
            &child(pointer, "NotResource"),
            format!("{prefix}`Resource` and `NotResource` cannot be used together"),
        ),
        _ => {}
    }
    if !matches!(kind, PolicyKind::Trust | PolicyKind::Lifecycle) {
        for key in ["Resource", "NotResource"] {
            if let Some(value) = statement.get(key) {
                string_or_strings(prefix, &child(pointer, key), key, value, out);
            }
        }
    }
}

/// Checks a string-or-non-empty-array-of-strings value; returns the strings with their
/// pointers.
fn string_or_strings<'v>(
    prefix: &str,
    pointer: &str,
    name: &str,
    value: &'v Value,
    out: &mut Problems,
) -> Vec<(String, &'v str)> {
    match value {
        Value::String(s) => vec![(pointer.to_owned(), s.as_str())],
        // A CloudFormation function (`Ref`, `Fn::GetAtt`, `Fn::Sub`, ...) yields a string when
        // the template is deployed: nothing to check now.
        v if is_intrinsic(v) => Vec::new(),
        Value::Array(items) => {
            if items.is_empty() {
                out.push(pointer, format!("{prefix}`{name}` must not be empty"));
            }
            let mut strings = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let p = child(pointer, &i.to_string());
                match item {
                    Value::String(s) => strings.push((p, s.as_str())),
                    v if is_intrinsic(v) => {}
                    other => out.push(
                        &p,
                        format!(
                            "{prefix}`{name}` entries must be strings, not {}",
                            type_name(other)
                        ),
                    ),
                }
            }
            strings
        }
        other => {
            out.push(
                pointer,
                format!(
                    "{prefix}`{name}` must be a string or an array of strings, not {}",
                    type_name(other)
                ),
            );
            Vec::new()
        }
    }
}

fn principal_check(prefix: &str, pointer: &str, name: &str, value: &Value, out: &mut Problems) {
    match value {
        Value::String(s) if s == "*" => {}
        Value::Object(map) => {
            if map.is_empty() {
                out.push(pointer, format!("{prefix}`{name}` names no principal"));
            }
            for (key, v) in map {
                let p = child(pointer, key);
                if PRINCIPAL_KEYS.contains(&key.as_str()) {
                    string_or_strings(prefix, &p, key, v, out);
                } else {
                    out.push(
                        &p,
                        format!(
                            "{prefix}unknown principal type `{key}` in `{name}`; expected {}",
                            one_of(PRINCIPAL_KEYS)
                        ),
                    );
                }
            }
        }
        other => out.push(
            pointer,
            format!(
                "{prefix}`{name}` must be `\"*\"` or an object with {}, not {other}",
                one_of(PRINCIPAL_KEYS)
            ),
        ),
    }
}

fn actions_check(
    kind: PolicyKind,
    prefix: &str,
    pointer: &str,
    name: &str,
    value: &Value,
    out: &mut Problems,
) {
    for (p, action) in string_or_strings(prefix, pointer, name, value, out) {
        if !is_action_pattern(action) {
            out.push(
                &p,
                format!(
                    "{prefix}action `{action}` must be `*` or `service:Action` \
                     (service in lower-case letters, digits and hyphens)"
                ),
            );
        } else if kind == PolicyKind::Trust
            && !TRUST_ACTIONS.iter().any(|t| t.eq_ignore_ascii_case(action))
        {
            out.push(
                &p,
                format!(
                    "{prefix}action `{action}` is not allowed in a trust policy; expected {}",
                    one_of(TRUST_ACTIONS)
                ),
            );
        }
    }
}

/// `*`, or `service:Pattern` with a service of lower-case letters, digits and hyphens and a
/// pattern of letters, digits, `*`, `?`, `-` and `_`.
pub(super) fn is_action_pattern(action: &str) -> bool {
    if action == "*" {
        return true;
    }
    let Some((service, pattern)) = action.split_once(':') else {
        return false;
    };
    !service.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !pattern.is_empty()
        && pattern
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '?' | '-' | '_'))
}

fn condition_check(prefix: &str, pointer: &str, condition: &Value, out: &mut Problems) {
    let Value::Object(operators) = condition else {
        out.push(
            pointer,
            format!(
                "{prefix}`Condition` must be an object of operators, not {}",
                type_name(condition)
            ),
        );
        return;
    };
    for (operator, keys) in operators {
        let p = child(pointer, operator);
        let Value::Object(keys) = keys else {
            out.push(
                &p,
                format!(
                    "{prefix}condition operator `{operator}` must map condition keys to values, \
                     not {}",
                    type_name(keys)
                ),
            );
            continue;
        };
        for (key, value) in keys {
            let q = child(&p, key);
            match value {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {}
                v if is_intrinsic(v) => {}
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if !matches!(item, Value::String(_) | Value::Number(_) | Value::Bool(_))
                            && !is_intrinsic(item)
                        {
                            out.push(
                                &child(&q, &i.to_string()),
                                format!(
                                    "{prefix}condition key `{key}` values must be strings, \
                                     numbers or booleans, not {}",
                                    type_name(item)
                                ),
                            );
                        }
                    }
                }
                other => out.push(
                    &q,
                    format!(
                        "{prefix}condition key `{key}` must have a string, number, boolean or \
                         array value, not {}",
                        type_name(other)
                    ),
                ),
            }
        }
    }
}
