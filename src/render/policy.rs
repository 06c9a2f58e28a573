//! Validation of the policy documents a project keeps under `policies/`: ECR lifecycle policies
//! and IAM policy documents (identity, resource and trust policies). Each problem comes with an
//! RFC 6901 pointer into the document so that the caller can show where it is.
//!
//! This module checks grammar only, offline and without AWS calls: it does not check that
//! actions, principals, ARNs or condition keys exist, does not evaluate policies, and does not
//! read files or locate pointers in text (see `locate`). All problems are reported, not just the
//! first.

use crate::template::intrinsic::is_intrinsic;
use crate::text::{child, one_of, type_name};
use serde_json::{Map, Value};
use std::collections::HashMap;

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
    let statements: Vec<&Map<String, Value>> = match root.get("Statement") {
        Some(Value::Object(s)) => vec![s],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
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

/// The strings of a string-or-array-of-strings value; other values give none.
fn strings_of(value: Option<&Value>) -> Vec<&str> {
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
        PolicyKind::Lifecycle => lifecycle(doc, &mut out),
        PolicyKind::Identity | PolicyKind::Resource | PolicyKind::Trust => {
            policy_document(kind, doc, &mut out)
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

// ---------------------------------------------------------------------------------------------
// ECR lifecycle policies
// ---------------------------------------------------------------------------------------------

const MAX_RULES: usize = 50;
const RULE_KEYS: &[&str] = &["rulePriority", "description", "selection", "action"];
const SELECTION_KEYS: &[&str] = &[
    "tagStatus",
    "tagPrefixList",
    "tagPatternList",
    "storageClass",
    "countType",
    "countUnit",
    "countNumber",
];
const ACTION_KEYS: &[&str] = &["type", "targetStorageClass"];
const TAG_STATUSES: &[&str] = &["tagged", "untagged", "any"];
const COUNT_TYPES: &[&str] = &[
    "imageCountMoreThan",
    "sinceImagePushed",
    "sinceImagePulled",
    "sinceImageTransitioned",
];
const STORAGE_CLASSES: &[&str] = &["standard", "archive"];
const MAX_PATTERN_WILDCARDS: usize = 4;

fn lifecycle(doc: &Value, out: &mut Problems) {
    let Some(root) = doc.as_object() else {
        out.push(
            "",
            format!(
                "a lifecycle policy must be an object with `rules`, not {}",
                type_name(doc)
            ),
        );
        return;
    };
    for key in root.keys().filter(|k| *k != "rules") {
        out.push(
            &child("", key),
            format!("unknown key `{key}`; a lifecycle policy has only `rules`"),
        );
    }
    let rules = match root.get("rules") {
        None => {
            out.push("", "a lifecycle policy needs `rules`");
            return;
        }
        Some(Value::Array(rules)) => rules,
        Some(other) => {
            out.push(
                "/rules",
                format!("`rules` must be an array, not {}", type_name(other)),
            );
            return;
        }
    };
    if rules.is_empty() {
        out.push("/rules", "`rules` must have at least one rule");
    } else if rules.len() > MAX_RULES {
        out.push(
            "/rules",
            format!(
                "`rules` has {} rules; a lifecycle policy allows at most {MAX_RULES}",
                rules.len()
            ),
        );
    }
    // (rule number, priority) of rules with a valid priority, and those with `tagStatus` `any`.
    let mut priorities: Vec<(usize, u64)> = Vec::new();
    let mut any_rules: Vec<usize> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let n = i + 1;
        let pointer = child("/rules", &i.to_string());
        let checked = lifecycle_rule(n, &pointer, rule, &priorities, out);
        if let Some(priority) = checked.priority {
            priorities.push((n, priority));
        }
        if checked.tag_status_any {
            any_rules.push(i);
        }
    }
    for i in any_rules {
        let n = i + 1;
        let Some(&(_, mine)) = priorities.iter().find(|(m, _)| *m == n) else {
            continue;
        };
        let higher = priorities
            .iter()
            .filter(|(m, p)| *m != n && *p >= mine)
            .max_by_key(|(_, p)| *p);
        if let Some((m, p)) = higher {
            out.push(
                &format!("/rules/{i}/rulePriority"),
                format!(
                    "rule {n}: a rule with `tagStatus` `any` must have the highest `rulePriority`, \
                     but rule {m} has {p} (this rule has {mine})"
                ),
            );
        }
    }
}

struct CheckedRule {
    priority: Option<u64>,
    tag_status_any: bool,
}

fn lifecycle_rule(
    n: usize,
    pointer: &str,
    rule: &Value,
    priorities: &[(usize, u64)],
    out: &mut Problems,
) -> CheckedRule {
    let mut checked = CheckedRule {
        priority: None,
        tag_status_any: false,
    };
    let Some(rule) = rule.as_object() else {
        out.push(
            pointer,
            format!("rule {n}: must be an object, not {}", type_name(rule)),
        );
        return checked;
    };
    unknown_keys(pointer, rule, RULE_KEYS, &format!("rule {n}: "), out);

    match rule.get("rulePriority") {
        None => out.push(pointer, format!("rule {n}: missing `rulePriority`")),
        Some(value) => {
            let p = child(pointer, "rulePriority");
            match value.as_u64().filter(|v| (1..=999).contains(v)) {
                Some(priority) => {
                    if let Some((m, _)) = priorities.iter().find(|(_, q)| *q == priority) {
                        out.push(
                            &p,
                            format!(
                                "rule {n}: `rulePriority` {priority} is already used by rule {m}; \
                                 priorities must be unique"
                            ),
                        );
                    }
                    checked.priority = Some(priority);
                }
                None => out.push(
                    &p,
                    format!(
                        "rule {n}: `rulePriority` must be an integer from 1 to 999, not {value}"
                    ),
                ),
            }
        }
    }

    if let Some(description) = rule.get("description") {
        if !description.is_string() {
            out.push(
                &child(pointer, "description"),
                format!(
                    "rule {n}: `description` must be a string, not {}",
                    type_name(description)
                ),
            );
        }
    }

    match rule.get("selection") {
        None => out.push(pointer, format!("rule {n}: missing `selection`")),
        Some(Value::Object(selection)) => {
            checked.tag_status_any =
                lifecycle_selection(n, &child(pointer, "selection"), selection, out);
        }
        Some(other) => out.push(
            &child(pointer, "selection"),
            format!(
                "rule {n}: `selection` must be an object, not {}",
                type_name(other)
            ),
        ),
    }

    match rule.get("action") {
        None => out.push(pointer, format!("rule {n}: missing `action`")),
        Some(Value::Object(action)) => lifecycle_action(n, &child(pointer, "action"), action, out),
        Some(other) => out.push(
            &child(pointer, "action"),
            format!(
                "rule {n}: `action` must be an object, not {}",
                type_name(other)
            ),
        ),
    }
    checked
}

/// Checks a rule's `selection`; returns whether its `tagStatus` is `any`.
fn lifecycle_selection(
    n: usize,
    pointer: &str,
    selection: &Map<String, Value>,
    out: &mut Problems,
) -> bool {
    let prefix = format!("rule {n}: ");
    unknown_keys(pointer, selection, SELECTION_KEYS, &prefix, out);

    let tag_status = match selection.get("tagStatus") {
        None => {
            out.push(pointer, format!("rule {n}: missing `tagStatus`"));
            None
        }
        Some(Value::String(s)) if TAG_STATUSES.contains(&s.as_str()) => Some(s.as_str()),
        Some(other) => {
            out.push(
                &child(pointer, "tagStatus"),
                format!(
                    "rule {n}: `tagStatus` must be {}, not {other}",
                    one_of(TAG_STATUSES)
                ),
            );
            None
        }
    };

    for list in ["tagPrefixList", "tagPatternList"] {
        if let Some(value) = selection.get(list) {
            tag_list(n, &child(pointer, list), list, value, out);
        }
    }
    let prefixes = selection.contains_key("tagPrefixList");
    let patterns = selection.contains_key("tagPatternList");
    match tag_status {
        Some("tagged") => {
            if !prefixes && !patterns {
                out.push(
                    pointer,
                    format!(
                        "rule {n}: `tagStatus` `tagged` needs `tagPrefixList` or `tagPatternList`"
                    ),
                );
            } else if prefixes && patterns {
                out.push(
                    pointer,
                    format!(
                        "rule {n}: `tagPrefixList` and `tagPatternList` cannot be used together"
                    ),
                );
            }
        }
        Some(status) => {
            for list in ["tagPrefixList", "tagPatternList"] {
                if selection.contains_key(list) {
                    out.push(
                        &child(pointer, list),
                        format!(
                            "rule {n}: `{list}` is only allowed with `tagStatus` `tagged`, \
                             not `{status}`"
                        ),
                    );
                }
            }
        }
        None => {}
    }

    let count_type = match selection.get("countType") {
        None => {
            out.push(pointer, format!("rule {n}: missing `countType`"));
            None
        }
        Some(Value::String(s)) if COUNT_TYPES.contains(&s.as_str()) => Some(s.as_str()),
        Some(other) => {
            out.push(
                &child(pointer, "countType"),
                format!(
                    "rule {n}: `countType` must be {}, not {other}",
                    one_of(COUNT_TYPES)
                ),
            );
            None
        }
    };

    match (selection.get("countUnit"), count_type) {
        (Some(_), Some("imageCountMoreThan")) => out.push(
            &child(pointer, "countUnit"),
            format!("rule {n}: `countUnit` is not allowed with `countType` `imageCountMoreThan`"),
        ),
        (Some(unit), _) if unit.as_str() != Some("days") => out.push(
            &child(pointer, "countUnit"),
            format!("rule {n}: `countUnit` must be `days`, not {unit}"),
        ),
        (None, Some(t)) if t.starts_with("since") => out.push(
            pointer,
            format!("rule {n}: `countType` `{t}` needs `countUnit` `days`"),
        ),
        _ => {}
    }

    match selection.get("countNumber") {
        None => out.push(pointer, format!("rule {n}: missing `countNumber`")),
        Some(value) if value.as_u64().is_some_and(|v| v >= 1) => {}
        Some(value) => out.push(
            &child(pointer, "countNumber"),
            format!("rule {n}: `countNumber` must be a positive integer, not {value}"),
        ),
    }

    match selection.get("storageClass") {
        Some(Value::String(s)) if STORAGE_CLASSES.contains(&s.as_str()) => {}
        Some(other) => out.push(
            &child(pointer, "storageClass"),
            format!(
                "rule {n}: `storageClass` must be {}, not {other}",
                one_of(STORAGE_CLASSES)
            ),
        ),
        None if count_type == Some("sinceImageTransitioned") => out.push(
            pointer,
            format!("rule {n}: `countType` `sinceImageTransitioned` needs `storageClass`"),
        ),
        None => {}
    }

    tag_status == Some("any")
}

fn tag_list(n: usize, pointer: &str, list: &str, value: &Value, out: &mut Problems) {
    let Value::Array(items) = value else {
        out.push(
            pointer,
            format!(
                "rule {n}: `{list}` must be an array of strings, not {}",
                type_name(value)
            ),
        );
        return;
    };
    if items.is_empty() {
        out.push(pointer, format!("rule {n}: `{list}` must not be empty"));
    }
    for (i, item) in items.iter().enumerate() {
        let p = child(pointer, &i.to_string());
        match item {
            Value::String(s) if s.is_empty() => {
                out.push(&p, format!("rule {n}: `{list}` has an empty entry"));
            }
            Value::String(s) => {
                let wildcards = s.matches('*').count();
                if list == "tagPatternList" && wildcards > MAX_PATTERN_WILDCARDS {
                    out.push(
                        &p,
                        format!(
                            "rule {n}: tag pattern `{s}` has {wildcards} `*` wildcards; \
                             at most {MAX_PATTERN_WILDCARDS} are allowed"
                        ),
                    );
                }
            }
            other => out.push(
                &p,
                format!(
                    "rule {n}: `{list}` entries must be strings, not {}",
                    type_name(other)
                ),
            ),
        }
    }
}

fn lifecycle_action(n: usize, pointer: &str, action: &Map<String, Value>, out: &mut Problems) {
    unknown_keys(pointer, action, ACTION_KEYS, &format!("rule {n}: "), out);
    let target = action.get("targetStorageClass");
    match action.get("type") {
        None => out.push(
            pointer,
            format!("rule {n}: `action` needs `type` (`expire`)"),
        ),
        Some(Value::String(t)) if t == "expire" => {
            if target.is_some() {
                out.push(
                    &child(pointer, "targetStorageClass"),
                    format!(
                        "rule {n}: `targetStorageClass` is only allowed with `type` `transition`"
                    ),
                );
            }
        }
        Some(Value::String(t)) if t == "transition" => match target {
            None => out.push(
                pointer,
                format!("rule {n}: `type` `transition` needs `targetStorageClass` `archive`"),
            ),
            Some(Value::String(c)) if c == "archive" => {}
            Some(other) => out.push(
                &child(pointer, "targetStorageClass"),
                format!("rule {n}: `targetStorageClass` must be `archive`, not {other}"),
            ),
        },
        Some(other) => out.push(
            &child(pointer, "type"),
            format!("rule {n}: `action` `type` must be `expire` or `transition`, not {other}"),
        ),
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

// ---------------------------------------------------------------------------------------------
// IAM policy documents
// ---------------------------------------------------------------------------------------------

const DOCUMENT_KEYS: &[&str] = &["Version", "Id", "Statement"];
const VERSIONS: &[&str] = &["2012-10-17", "2008-10-17"];
const STATEMENT_KEYS: &[&str] = &[
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
const PRINCIPAL_KEYS: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];
const TRUST_ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
];

fn policy_document(kind: PolicyKind, doc: &Value, out: &mut Problems) {
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

    match statement.get("Effect") {
        None => out.push(pointer, format!("{prefix}missing `Effect`")),
        Some(Value::String(e)) if e == "Allow" || e == "Deny" => {}
        Some(other) => out.push(
            &child(pointer, "Effect"),
            format!("{prefix}`Effect` must be `Allow` or `Deny`, not {other}"),
        ),
    }

    // Principal / NotPrincipal.
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
            principal_check(&prefix, &child(pointer, key), key, value, out);
        }
    }

    // Action / NotAction.
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
            actions_check(kind, &prefix, &child(pointer, key), key, value, out);
        }
    }

    // Resource / NotResource.
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
                string_or_strings(&prefix, &child(pointer, key), key, value, out);
            }
        }
    }

    if let Some(condition) = statement.get("Condition") {
        condition_check(&prefix, &child(pointer, "Condition"), condition, out);
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
fn is_action_pattern(action: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testgen::Rng;
    use serde_json::json;

    fn messages(problems: &[PolicyProblem]) -> Vec<String> {
        problems
            .iter()
            .map(|p| format!("{}: {}", p.pointer, p.message))
            .collect()
    }

    fn assert_has(problems: &[PolicyProblem], pointer: &str, fragment: &str) {
        assert!(
            problems
                .iter()
                .any(|p| p.pointer == pointer && p.message.contains(fragment)),
            "no problem at `{pointer}` containing `{fragment}` in {:#?}",
            messages(problems)
        );
    }

    fn good_lifecycle() -> Value {
        json!({
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "keep 10 release images",
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPatternList": ["v*.*.*"],
                        "countType": "imageCountMoreThan",
                        "countNumber": 10
                    },
                    "action": {"type": "expire"}
                },
                {
                    "rulePriority": 2,
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": 7
                    },
                    "action": {"type": "expire"}
                },
                {
                    "rulePriority": 10,
                    "selection": {
                        "tagStatus": "any",
                        "countType": "sinceImagePulled",
                        "countUnit": "days",
                        "countNumber": 90
                    },
                    "action": {"type": "transition", "targetStorageClass": "archive"}
                }
            ]
        })
    }

    #[test]
    fn cloudformation_functions_are_accepted_where_strings_go() {
        let doc = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": {"Fn::GetAtt": ["CiRole", "Arn"]}},
                "Action": "ecr:BatchGetImage",
                "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:ecr:*:${AWS::AccountId}:repository/*"}, {"Ref": "RepoArn"}],
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrgId"}}}
            }]
        });
        assert_eq!(validate(PolicyKind::Resource, &doc), vec![]);
        let bad = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": {"Nope": 1}}, "Action": "s3:GetObject"}]});
        assert!(!validate(PolicyKind::Resource, &bad).is_empty());
    }

    #[test]
    fn kind_from_directory_name() {
        let doc = json!({});
        assert_eq!(kind_for("lifecycle/keep.json", &doc), PolicyKind::Lifecycle);
        for dir in ["repository", "resource", "bucket", "queue", "topic"] {
            assert_eq!(
                kind_for(&format!("{dir}/x.json"), &doc),
                PolicyKind::Resource,
                "{dir}"
            );
        }
        assert_eq!(kind_for("trust/ci.json", &doc), PolicyKind::Trust);
        assert_eq!(kind_for("iam/deploy.json", &doc), PolicyKind::Identity);
        assert_eq!(kind_for("identity/a/b.json", &doc), PolicyKind::Identity);
        assert_eq!(kind_for("policies/trust/ci.json", &doc), PolicyKind::Trust);
        assert_eq!(kind_for("./lifecycle/x.json", &doc), PolicyKind::Lifecycle);
        assert_eq!(kind_for("trust\\ci.json", &doc), PolicyKind::Trust);
    }

    #[test]
    fn directory_name_wins_over_content() {
        let lifecycle = good_lifecycle();
        assert_eq!(kind_for("trust/x.json", &lifecycle), PolicyKind::Trust);
        assert_eq!(
            kind_for("lifecycle/x.json", &json!(null)),
            PolicyKind::Lifecycle
        );
    }

    #[test]
    fn kind_guessed_from_content() {
        assert_eq!(kind_for("x.json", &good_lifecycle()), PolicyKind::Lifecycle);
        // The component is compared exactly: `trust.json` is not `trust`.
        assert_eq!(kind_for("trust.json", &json!({})), PolicyKind::Identity);
        assert_eq!(kind_for("trust", &json!({})), PolicyKind::Trust);
        assert_eq!(kind_for("Trust/x", &json!({})), PolicyKind::Identity);
        let trust = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
             "Action": ["sts:TagSession", "sts:AssumeRoleWithWebIdentity"]}
        ]});
        assert_eq!(kind_for("other/x.json", &trust), PolicyKind::Trust);
        let trust_single = json!({"Statement": {"Principal": "*", "Action": "sts:AssumeRole"}});
        assert_eq!(kind_for("x.json", &trust_single), PolicyKind::Trust);
        let resource = json!({"Statement": [{"Principal": {"AWS": "arn:aws:iam::1:root"},
            "Action": "ecr:BatchGetImage"}]});
        assert_eq!(kind_for("x.json", &resource), PolicyKind::Resource);
        let not_principal =
            json!({"Statement": [{"NotPrincipal": {"AWS": "x"}, "Action": "s3:*"}]});
        assert_eq!(kind_for("x.json", &not_principal), PolicyKind::Resource);
        let identity = json!({"Statement": [{"Action": "sts:AssumeRole", "Resource": "*"}]});
        assert_eq!(kind_for("x.json", &identity), PolicyKind::Identity);
        assert_eq!(kind_for("x.json", &json!([1, 2])), PolicyKind::Identity);
        assert_eq!(kind_for("", &json!("text")), PolicyKind::Identity);
    }

    #[test]
    fn valid_lifecycle_policy_has_no_problems() {
        let problems = validate(PolicyKind::Lifecycle, &good_lifecycle());
        assert!(problems.is_empty(), "{:#?}", messages(&problems));
    }

    #[test]
    fn lifecycle_root_shape() {
        assert_has(
            &validate(PolicyKind::Lifecycle, &json!([])),
            "",
            "must be an object",
        );
        assert_has(
            &validate(PolicyKind::Lifecycle, &json!({})),
            "",
            "needs `rules`",
        );
        let problems = validate(PolicyKind::Lifecycle, &json!({"rules": {}, "extra": 1}));
        assert_has(&problems, "/extra", "unknown key `extra`");
        assert_has(&problems, "/rules", "must be an array");
        assert_has(
            &validate(PolicyKind::Lifecycle, &json!({"rules": []})),
            "/rules",
            "at least one rule",
        );
    }

    #[test]
    fn lifecycle_too_many_rules() {
        let rules: Vec<Value> = (1..=51)
            .map(|p| {
                json!({"rulePriority": p, "selection": {"tagStatus": "untagged",
                    "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}})
            })
            .collect();
        let problems = validate(PolicyKind::Lifecycle, &json!({ "rules": rules }));
        assert_eq!(problems.len(), 1, "{:#?}", messages(&problems));
        assert_has(&problems, "/rules", "51 rules");
        let fifty = json!({"rules": rules[..50]});
        assert!(validate(PolicyKind::Lifecycle, &fifty).is_empty());
    }

    #[test]
    fn lifecycle_reports_all_problems_with_rule_numbers() {
        let doc = json!({"rules": [
            {"rulePriority": 0, "selection": {"tagStatus": "tagged", "countType": "imageCountMoreThan",
             "countNumber": 0}, "action": {"type": "delete"}, "note": "x"},
            {"rulePriority": 1.5, "description": 3, "selection": "all", "action": []},
            "rule"
        ]});
        let problems = validate(PolicyKind::Lifecycle, &doc);
        assert_has(&problems, "/rules/0/note", "rule 1: unknown key `note`");
        assert_has(
            &problems,
            "/rules/0/rulePriority",
            "rule 1: `rulePriority` must be an integer from 1 to 999",
        );
        assert_has(
            &problems,
            "/rules/0/selection",
            "rule 1: `tagStatus` `tagged` needs `tagPrefixList` or `tagPatternList`",
        );
        assert_has(
            &problems,
            "/rules/0/selection/countNumber",
            "positive integer",
        );
        assert_has(
            &problems,
            "/rules/0/action/type",
            "must be `expire` or `transition`",
        );
        assert_has(&problems, "/rules/1/rulePriority", "rule 2:");
        assert_has(&problems, "/rules/1/description", "must be a string");
        assert_has(&problems, "/rules/1/selection", "must be an object");
        assert_has(&problems, "/rules/1/action", "must be an object");
        assert_has(&problems, "/rules/2", "rule 3: must be an object");
        assert_eq!(problems.len(), 10, "{:#?}", messages(&problems));
        // Document order.
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(pointers[0], "/rules/0/note");
        assert_eq!(pointers[9], "/rules/2");
    }

    #[test]
    fn lifecycle_missing_required_keys() {
        let doc = json!({"rules": [{"selection": {}, "action": {}}, {}]});
        let problems = validate(PolicyKind::Lifecycle, &doc);
        assert_has(&problems, "/rules/0", "rule 1: missing `rulePriority`");
        assert_has(&problems, "/rules/0/selection", "missing `tagStatus`");
        assert_has(&problems, "/rules/0/selection", "missing `countType`");
        assert_has(&problems, "/rules/0/selection", "missing `countNumber`");
        assert_has(&problems, "/rules/0/action", "needs `type`");
        assert_has(&problems, "/rules/1", "rule 2: missing `rulePriority`");
        assert_has(&problems, "/rules/1", "rule 2: missing `selection`");
        assert_has(&problems, "/rules/1", "rule 2: missing `action`");
        assert_eq!(problems.len(), 8, "{:#?}", messages(&problems));
    }

    #[test]
    fn lifecycle_priorities_unique_and_any_last() {
        let mut doc = good_lifecycle();
        doc["rules"][1]["rulePriority"] = json!(1);
        let problems = validate(PolicyKind::Lifecycle, &doc);
        assert_has(
            &problems,
            "/rules/1/rulePriority",
            "rule 2: `rulePriority` 1 is already used by rule 1",
        );
        assert_eq!(problems.len(), 1, "{:#?}", messages(&problems));

        let mut doc = good_lifecycle();
        doc["rules"][2]["rulePriority"] = json!(2);
        doc["rules"][1]["rulePriority"] = json!(5);
        let problems = validate(PolicyKind::Lifecycle, &doc);
        assert_has(
            &problems,
            "/rules/2/rulePriority",
            "rule 3: a rule with `tagStatus` `any` must have the highest `rulePriority`, but rule 2 has 5",
        );
        assert_eq!(problems.len(), 1, "{:#?}", messages(&problems));
    }

    #[test]
    fn lifecycle_at_most_one_any_rule() {
        let mut doc = good_lifecycle();
        doc["rules"][0]["selection"] =
            json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 3});
        let problems = validate(PolicyKind::Lifecycle, &doc);
        assert_has(
            &problems,
            "/rules/0/rulePriority",
            "rule 1: a rule with `tagStatus` `any`",
        );
        assert_eq!(problems.len(), 1, "{:#?}", messages(&problems));
    }

    #[test]
    fn lifecycle_tag_lists() {
        let selection = |s: Value| json!({"rules": [{"rulePriority": 1, "selection": s, "action": {"type": "expire"}}]});
        let problems = validate(
            PolicyKind::Lifecycle,
            &selection(
                json!({"tagStatus": "tagged", "tagPrefixList": ["a"], "tagPatternList": ["*a*b*c*d*e"],
                "countType": "imageCountMoreThan", "countNumber": 1}),
            ),
        );
        assert_has(&problems, "/rules/0/selection", "cannot be used together");
        assert_has(
            &problems,
            "/rules/0/selection/tagPatternList/0",
            "has 5 `*` wildcards",
        );
        assert_eq!(problems.len(), 2, "{:#?}", messages(&problems));

        let problems = validate(
            PolicyKind::Lifecycle,
            &selection(
                json!({"tagStatus": "tagged", "tagPatternList": ["*a*b*c*d"],
                "countType": "imageCountMoreThan", "countNumber": 1}),
            ),
        );
        assert!(problems.is_empty(), "{:#?}", messages(&problems));

        let problems = validate(
            PolicyKind::Lifecycle,
            &selection(
                json!({"tagStatus": "tagged", "tagPrefixList": [], "countType": "imageCountMoreThan", "countNumber": 1}),
            ),
        );
        assert_has(
            &problems,
            "/rules/0/selection/tagPrefixList",
            "must not be empty",
        );
        assert_eq!(problems.len(), 1);

        let problems = validate(
            PolicyKind::Lifecycle,
            &selection(
                json!({"tagStatus": "tagged", "tagPrefixList": ["", 3], "countType": "imageCountMoreThan", "countNumber": 1}),
            ),
        );
        assert_has(
            &problems,
            "/rules/0/selection/tagPrefixList/0",
            "empty entry",
        );
        assert_has(
            &problems,
            "/rules/0/selection/tagPrefixList/1",
            "must be strings",
        );
        assert_eq!(problems.len(), 2);

        let problems = validate(
            PolicyKind::Lifecycle,
            &selection(
                json!({"tagStatus": "untagged", "tagPrefixList": ["a"], "tagPatternList": "x",
                "countType": "imageCountMoreThan", "countNumber": 1}),
            ),
        );
        assert_has(
            &problems,
            "/rules/0/selection/tagPatternList",
            "must be an array of strings",
        );
        assert_has(
            &problems,
            "/rules/0/selection/tagPrefixList",
            "only allowed with `tagStatus` `tagged`, not `untagged`",
        );
        assert_has(
            &problems,
            "/rules/0/selection/tagPatternList",
            "only allowed with `tagStatus` `tagged`",
        );
        assert_eq!(problems.len(), 3, "{:#?}", messages(&problems));

        let problems = validate(
            PolicyKind::Lifecycle,
            &selection(
                json!({"tagStatus": "Tagged", "countType": "imageCountMoreThan", "countNumber": 1}),
            ),
        );
        assert_has(
            &problems,
            "/rules/0/selection/tagStatus",
            "must be `tagged`, `untagged` or `any`",
        );
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn lifecycle_count_rules() {
        let selection = |s: Value| json!({"rules": [{"rulePriority": 1, "selection": s, "action": {"type": "expire"}}]});
        let problems = validate(
            PolicyKind::Lifecycle,
            &selection(
                json!({"tagStatus": "untagged", "countType": "imageCountMoreThan", "countUnit": "days", "countNumber": 1}),
            ),
        );
        assert_has(
            &problems,
            "/rules/0/selection/countUnit",
            "not allowed with `countType` `imageCountMoreThan`",
        );
        assert_eq!(problems.len(), 1);

        let problems = validate(
            PolicyKind::Lifecycle,
            &selection(
                json!({"tagStatus": "untagged", "countType": "sinceImagePushed", "countNumber": 1}),
            ),
        );
        assert_has(
            &problems,
            "/rules/0/selection",
            "`countType` `sinceImagePushed` needs `countUnit` `days`",
        );
        assert_eq!(problems.len(), 1);

        let problems = validate(
            PolicyKind::Lifecycle,
            &selection(
                json!({"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "hours", "countNumber": -1}),
            ),
        );
        assert_has(&problems, "/rules/0/selection/countUnit", "must be `days`");
        assert_has(
            &problems,
            "/rules/0/selection/countNumber",
            "must be a positive integer, not -1",
        );
        assert_eq!(problems.len(), 2);

        let problems = validate(
            PolicyKind::Lifecycle,
            &selection(
                json!({"tagStatus": "untagged", "countType": "imageCountLessThan", "countNumber": "3"}),
            ),
        );
        assert_has(
            &problems,
            "/rules/0/selection/countType",
            "must be `imageCountMoreThan`",
        );
        assert_has(
            &problems,
            "/rules/0/selection/countNumber",
            "positive integer",
        );
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn lifecycle_storage_class_and_transition() {
        let rule = |s: Value, a: Value| json!({"rules": [{"rulePriority": 1, "selection": s, "action": a}]});
        let ok = rule(
            json!({"tagStatus": "untagged", "storageClass": "archive", "countType": "sinceImageTransitioned",
                "countUnit": "days", "countNumber": 90}),
            json!({"type": "expire"}),
        );
        assert!(validate(PolicyKind::Lifecycle, &ok).is_empty());

        let problems = validate(
            PolicyKind::Lifecycle,
            &rule(
                json!({"tagStatus": "untagged", "storageClass": "glacier", "countType": "imageCountMoreThan", "countNumber": 1}),
                json!({"type": "transition"}),
            ),
        );
        assert_has(
            &problems,
            "/rules/0/selection/storageClass",
            "must be `standard` or `archive`",
        );
        assert_has(
            &problems,
            "/rules/0/action",
            "`type` `transition` needs `targetStorageClass` `archive`",
        );
        assert_eq!(problems.len(), 2, "{:#?}", messages(&problems));

        let problems = validate(
            PolicyKind::Lifecycle,
            &rule(
                json!({"tagStatus": "untagged", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 1}),
                json!({"type": "expire", "targetStorageClass": "archive", "when": "now"}),
            ),
        );
        assert_has(&problems, "/rules/0/selection", "needs `storageClass`");
        assert_has(
            &problems,
            "/rules/0/action/targetStorageClass",
            "only allowed with `type` `transition`",
        );
        assert_has(&problems, "/rules/0/action/when", "unknown key `when`");
        assert_eq!(problems.len(), 3, "{:#?}", messages(&problems));

        let problems = validate(
            PolicyKind::Lifecycle,
            &rule(
                json!({"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}),
                json!({"type": "transition", "targetStorageClass": "standard"}),
            ),
        );
        assert_has(
            &problems,
            "/rules/0/action/targetStorageClass",
            "must be `archive`",
        );
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn lifecycle_unknown_selection_key_is_escaped_in_pointer() {
        let doc = json!({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged",
            "countType": "imageCountMoreThan", "countNumber": 1, "a/b~c": true}, "action": {"type": "expire"}}]});
        let problems = validate(PolicyKind::Lifecycle, &doc);
        assert_has(
            &problems,
            "/rules/0/selection/a~1b~0c",
            "rule 1: unknown key `a/b~c`",
        );
        assert_eq!(problems.len(), 1);
    }

    fn identity() -> Value {
        json!({
            "Version": "2012-10-17",
            "Id": "deploy",
            "Statement": [
                {"Sid": "Push", "Effect": "Allow", "Action": ["ecr:PutImage", "ecr:Upload*"],
                 "Resource": "arn:aws:ecr:*:*:repository/app"},
                {"Effect": "Deny", "NotAction": "iam:*", "NotResource": ["arn:aws:s3:::x"],
                 "Condition": {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-west-2"]},
                               "Bool": {"aws:SecureTransport": false},
                               "NumericLessThan": {"s3:max-keys": 10}}}
            ]
        })
    }

    #[test]
    fn valid_identity_policy_has_no_problems() {
        let problems = validate(PolicyKind::Identity, &identity());
        assert!(problems.is_empty(), "{:#?}", messages(&problems));
        let mut old = identity();
        old["Version"] = json!("2008-10-17");
        assert!(validate(PolicyKind::Identity, &old).is_empty());
    }

    #[test]
    fn document_root_problems() {
        assert_has(
            &validate(PolicyKind::Identity, &json!("x")),
            "",
            "must be an object",
        );
        let problems = validate(PolicyKind::Identity, &json!({"Id": 3, "Extra": true}));
        assert_has(&problems, "/Extra", "unknown key `Extra`");
        assert_has(&problems, "", "missing `Version`");
        assert_has(&problems, "/Id", "must be a string");
        assert_has(&problems, "", "missing `Statement`");
        assert_eq!(problems.len(), 4, "{:#?}", messages(&problems));

        let problems = validate(
            PolicyKind::Identity,
            &json!({"Version": "2012-10-18", "Statement": []}),
        );
        assert_has(&problems, "/Version", "must be `2012-10-17`");
        assert_has(&problems, "/Statement", "must not be empty");
        assert_eq!(problems.len(), 2);

        let problems = validate(
            PolicyKind::Identity,
            &json!({"Version": "2012-10-17", "Statement": "x"}),
        );
        assert_has(&problems, "/Statement", "object or an array of objects");
        let problems = validate(
            PolicyKind::Identity,
            &json!({"Version": "2012-10-17", "Statement": [1]}),
        );
        assert_has(&problems, "/Statement/0", "statement 1: must be an object");
    }

    #[test]
    fn statement_problems_are_all_reported() {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "a-b", "Effect": "allow", "Action": "s3:GetObject", "NotAction": "s3:*",
             "Resource": "*", "NotResource": "*", "Principal": "*", "Extra": 1},
            {"Action": []},
            {"Sid": "One", "Effect": "Allow", "Action": ["S3:Get", "s3", "s3:", "*", 4, "s3:Get Object"],
             "Resource": 5},
            {"Sid": "One", "Effect": "Deny", "Action": "*", "Resource": [], "Sid2": 1}
        ]});
        let problems = validate(PolicyKind::Identity, &doc);
        assert_has(
            &problems,
            "/Statement/0/Extra",
            "statement 1: unknown key `Extra`",
        );
        assert_has(&problems, "/Statement/0/Sid", "must be alphanumeric");
        assert_has(
            &problems,
            "/Statement/0/Effect",
            "must be `Allow` or `Deny`",
        );
        assert_has(
            &problems,
            "/Statement/0/Principal",
            "not allowed in an identity policy",
        );
        assert_has(
            &problems,
            "/Statement/0/NotAction",
            "cannot be used together",
        );
        assert_has(
            &problems,
            "/Statement/0/NotResource",
            "cannot be used together",
        );
        assert_has(&problems, "/Statement/1", "statement 2: missing `Effect`");
        assert_has(&problems, "/Statement/1/Action", "must not be empty");
        assert_has(
            &problems,
            "/Statement/1",
            "needs `Resource` or `NotResource`",
        );
        assert_has(&problems, "/Statement/2/Action/0", "action `S3:Get`");
        assert_has(&problems, "/Statement/2/Action/1", "action `s3`");
        assert_has(&problems, "/Statement/2/Action/2", "action `s3:`");
        assert_has(&problems, "/Statement/2/Action/4", "must be strings");
        assert_has(&problems, "/Statement/2/Action/5", "action `s3:Get Object`");
        assert_has(
            &problems,
            "/Statement/2/Resource",
            "string or an array of strings",
        );
        assert_has(&problems, "/Statement/3/Sid2", "unknown key");
        assert_has(
            &problems,
            "/Statement/3/Sid",
            "statement 4: `Sid` `One` is already used by statement 3",
        );
        assert_has(&problems, "/Statement/3/Resource", "must not be empty");
        assert_eq!(problems.len(), 18, "{:#?}", messages(&problems));
    }

    #[test]
    fn single_statement_object_and_empty_sids() {
        let doc = json!({"Version": "2012-10-17", "Statement":
            {"Sid": "", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}});
        assert!(validate(PolicyKind::Identity, &doc).is_empty());
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
            {"Sid": "", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]});
        assert!(validate(PolicyKind::Identity, &doc).is_empty());
        let doc =
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Resource": "*"}});
        let problems = validate(PolicyKind::Identity, &doc);
        assert_has(
            &problems,
            "/Statement",
            "statement 1: needs `Action` or `NotAction`",
        );
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn resource_policy_rules() {
        let ok = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Pull", "Effect": "Allow",
             "Principal": {"AWS": ["arn:aws:iam::111122223333:root"], "Service": "lambda.amazonaws.com"},
             "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]},
            {"Effect": "Deny", "NotPrincipal": {"CanonicalUser": "abc"}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}
        ]});
        let problems = validate(PolicyKind::Resource, &ok);
        assert!(problems.is_empty(), "{:#?}", messages(&problems));

        let bad = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*"},
            {"Effect": "Allow", "Principal": "*", "NotPrincipal": "*", "Action": "s3:*"},
            {"Effect": "Allow", "Principal": "arn:aws:iam::1:root", "Action": "s3:*"},
            {"Effect": "Allow", "Principal": {"Aws": "x", "Service": [], "Federated": [1]}, "Action": "s3:*"},
            {"Effect": "Allow", "Principal": {}, "Action": "s3:*"}
        ]});
        let problems = validate(PolicyKind::Resource, &bad);
        assert_has(
            &problems,
            "/Statement/0",
            "needs `Principal` or `NotPrincipal`",
        );
        assert_has(
            &problems,
            "/Statement/1/NotPrincipal",
            "cannot be used together",
        );
        assert_has(
            &problems,
            "/Statement/2/Principal",
            "must be `\"*\"` or an object",
        );
        assert_has(
            &problems,
            "/Statement/3/Principal/Aws",
            "unknown principal type `Aws`",
        );
        assert_has(
            &problems,
            "/Statement/3/Principal/Service",
            "must not be empty",
        );
        assert_has(
            &problems,
            "/Statement/3/Principal/Federated/0",
            "must be strings",
        );
        assert_has(&problems, "/Statement/4/Principal", "names no principal");
        assert_eq!(problems.len(), 7, "{:#?}", messages(&problems));
    }

    #[test]
    fn trust_policy_rules() {
        let ok = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
            "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:assumerole"],
            "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:o/r:*"}}
        }]});
        let problems = validate(PolicyKind::Trust, &ok);
        assert!(problems.is_empty(), "{:#?}", messages(&problems));

        let bad = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
            {"Effect": "Allow", "NotPrincipal": {"AWS": "x"}, "Principal": "*",
             "Action": ["sts:AssumeRole", "s3:GetObject", "sts:*"], "NotResource": "*"}
        ]});
        let problems = validate(PolicyKind::Trust, &bad);
        assert_has(
            &problems,
            "/Statement/0",
            "statement 1: a trust policy needs `Principal`",
        );
        assert_has(
            &problems,
            "/Statement/0/Resource",
            "not allowed in a trust policy",
        );
        assert_has(
            &problems,
            "/Statement/1/NotPrincipal",
            "not allowed in a trust policy",
        );
        assert_has(
            &problems,
            "/Statement/1/Action/1",
            "action `s3:GetObject` is not allowed in a trust policy",
        );
        assert_has(
            &problems,
            "/Statement/1/Action/2",
            "action `sts:*` is not allowed",
        );
        assert_has(
            &problems,
            "/Statement/1/NotResource",
            "not allowed in a trust policy",
        );
        assert_eq!(problems.len(), 6, "{:#?}", messages(&problems));
    }

    #[test]
    fn condition_shape() {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": []},
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {
                "StringEquals": "x",
                "StringLike": {"a": null, "b": {"c": 1}, "d": [1, "x", true, [2], {}], "e": 1.5}
            }}
        ]});
        let problems = validate(PolicyKind::Identity, &doc);
        assert_has(
            &problems,
            "/Statement/0/Condition",
            "must be an object of operators",
        );
        assert_has(
            &problems,
            "/Statement/1/Condition/StringEquals",
            "operator `StringEquals`",
        );
        assert_has(
            &problems,
            "/Statement/1/Condition/StringLike/a",
            "condition key `a`",
        );
        assert_has(
            &problems,
            "/Statement/1/Condition/StringLike/b",
            "condition key `b`",
        );
        assert_has(
            &problems,
            "/Statement/1/Condition/StringLike/d/3",
            "condition key `d`",
        );
        assert_has(
            &problems,
            "/Statement/1/Condition/StringLike/d/4",
            "condition key `d`",
        );
        assert_eq!(problems.len(), 6, "{:#?}", messages(&problems));
    }

    #[test]
    fn messages_start_lower_case() {
        let docs = [
            (PolicyKind::Lifecycle, json!({"x": 1, "rules": [{}]})),
            (PolicyKind::Trust, json!({"x": 1, "Statement": [{}]})),
            (PolicyKind::Identity, json!(null)),
        ];
        for (kind, doc) in docs {
            for p in validate(kind, &doc) {
                let first = p.message.chars().next().unwrap_or(' ');
                assert!(first.is_lowercase() || first == '`', "{}", p.message);
            }
        }
    }

    #[test]
    fn random_documents_never_panic() {
        let mut words: Vec<&str> = vec!["rules", "Version", "Id", "2012-10-17"];
        words.extend(RULE_KEYS);
        words.extend(SELECTION_KEYS);
        words.extend(ACTION_KEYS);
        words.extend(TAG_STATUSES);
        words.extend(COUNT_TYPES);
        words.extend(STATEMENT_KEYS);
        words.extend(PRINCIPAL_KEYS);
        words.extend(TRUST_ACTIONS);
        words.extend([
            "expire",
            "transition",
            "archive",
            "days",
            "Allow",
            "*",
            "s3:Get*",
            "a/~b",
        ]);
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut deep = 0;
        for i in 0..2000 {
            let doc = match i % 3 {
                0 => rng.value(&words, 6),
                1 => json!({"rules": [rng.value(&words, 4), rng.value(&words, 4)]}),
                _ => {
                    json!({"Version": "2012-10-17", "Statement": [rng.value(&words, 4), rng.value(&words, 4)]})
                }
            };
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            let kind = kind_for("x", &doc);
            for kind in [
                kind,
                PolicyKind::Lifecycle,
                PolicyKind::Identity,
                PolicyKind::Resource,
                PolicyKind::Trust,
            ] {
                for p in validate(kind, &doc) {
                    deep += usize::from(p.pointer.matches('/').count() > 2);
                    assert!(p.pointer.is_empty() || p.pointer.starts_with('/'), "{p:?}");
                    assert!(doc.pointer(&p.pointer).is_some(), "{p:?} in {doc}");
                    assert!(
                        crate::render::locate::json_pointer_position(&text, &p.pointer).is_some(),
                        "{p:?} in {text}"
                    );
                    assert!(!p.message.is_empty());
                }
            }
        }
        // The generator reaches problems deep in documents.
        assert!(deep > 500, "{deep}");
    }
    #[test]
    fn action_patterns() {
        for ok in [
            "*",
            "s3:GetObject",
            "execute-api:Invoke",
            "ec2:Describe*",
            "s3:Get?bject",
            "a4b:x",
        ] {
            assert!(is_action_pattern(ok), "{ok}");
        }
        for bad in [
            "",
            "s3",
            ":x",
            "s3:",
            "S3:Get",
            "s3:Get Object",
            "s_3:x",
            "s3:Get:Object",
            "*:*",
        ] {
            assert!(!is_action_pattern(bad), "{bad}");
        }
    }
}
