//! The grammar of ECR lifecycle policies (`{"rules": [...]}`): rule keys, priorities, the
//! selection (tag status, prefixes and patterns, count type and unit) and the action.
//!
//! Problems only; the kinds of document and the entry point are in the parent module.

use serde_json::{Map, Value};

use super::{unknown_keys, Problems};
use crate::text::{child, one_of, type_name};

const MAX_RULES: usize = 50;

pub(super) const RULE_KEYS: &[&str] = &["rulePriority", "description", "selection", "action"];

pub(super) const SELECTION_KEYS: &[&str] = &[
    "tagStatus",
    "tagPrefixList",
    "tagPatternList",
    "storageClass",
    "countType",
    "countUnit",
    "countNumber",
];

pub(super) const ACTION_KEYS: &[&str] = &["type", "targetStorageClass"];

pub(super) const TAG_STATUSES: &[&str] = &["tagged", "untagged", "any"];

pub(super) const COUNT_TYPES: &[&str] = &[
    "imageCountMoreThan",
    "sinceImagePushed",
    "sinceImagePulled",
    "sinceImageTransitioned",
];

const STORAGE_CLASSES: &[&str] = &["standard", "archive"];

const MAX_PATTERN_WILDCARDS: usize = 4;

pub(super) fn lifecycle(doc: &Value, out: &mut Problems) {
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
