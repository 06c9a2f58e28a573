//! The schema checks that count: how many items an array has (min/max items, unique items),
//! and which of an object's properties are there together (exactly one of, at least one of, a
//! property that needs or excludes others).
//!
//! A property whose value is `Fn::If` may or may not be there once CloudFormation has resolved
//! it: a rule that names one is not judged, and an array with a `Fn::If` item is not held to
//! a minimum. `{"Ref": "AWS::NoValue"}` counts as absent.

use serde_json::{Map, Value};

use super::{is_no_value, Linter, Resource};
use crate::template::resource_schema::{PropertyRule, RuleKind, Shape};
use crate::text::{child, plural, short};

/// Whether a property is there once CloudFormation has resolved the template.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Presence {
    Absent,
    Present,
    /// A `Fn::If` that may leave it out.
    Maybe,
}

fn is_if(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| m.len() == 1 && m.contains_key("Fn::If"))
}

fn presence(map: &Map<String, Value>, name: &str) -> Presence {
    match map.get(name) {
        None => Presence::Absent,
        Some(v) if is_no_value(v) => Presence::Absent,
        Some(v) if is_if(v) => Presence::Maybe,
        Some(_) => Presence::Present,
    }
}

/// "`A`", "`A` and `B`".
fn names(set: &[String]) -> String {
    set.iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// "`A` or `B` and `C`".
fn alternatives<'a>(sets: impl Iterator<Item = &'a Vec<String>>) -> String {
    sets.map(|s| names(s)).collect::<Vec<_>>().join(" or ")
}

impl Linter<'_> {
    /// A rule between the properties of `map` (an object at `pointer`, `path` in the schema).
    pub(super) fn property_rule(
        &mut self,
        r: &Resource,
        pointer: &str,
        map: &Map<String, Value>,
        rule: &PropertyRule,
        path: &str,
        reported: &mut Vec<(String, String)>,
    ) {
        let named = rule.sets.iter().flatten();
        let states: Vec<(&String, Presence)> = named.map(|n| (n, presence(map, n))).collect();
        if states.iter().any(|(_, p)| *p == Presence::Maybe) {
            return;
        }
        let there = |name: &str| presence(map, name) == Presence::Present;
        let at = if path.is_empty() {
            String::new()
        } else {
            format!(" in `{}`", path.replace('/', "."))
        };
        let label = r.label();
        match rule.kind {
            RuleKind::One | RuleKind::Any => {
                let matched: Vec<&Vec<String>> = rule
                    .sets
                    .iter()
                    .filter(|set| set.iter().all(|n| there(n)))
                    .collect();
                let all = alternatives(rule.sets.iter());
                if matched.is_empty() {
                    let how = if rule.kind == RuleKind::One {
                        "one"
                    } else {
                        "at least one"
                    };
                    self.error(
                        "missing-property",
                        pointer,
                        format!("{label} needs {how} of {all}{at}"),
                    );
                } else if rule.kind == RuleKind::One && matched.len() > 1 {
                    let second = matched[1]
                        .iter()
                        .find(|n| !matched[0].contains(n))
                        .unwrap_or(&matched[1][0]);
                    self.error(
                        "exclusive-properties",
                        &child(pointer, second),
                        format!(
                            "{label} takes only one of {all}{at}, but has {}",
                            alternatives(matched.into_iter())
                        ),
                    );
                }
            }
            RuleKind::Needs => {
                let (Some(name), Some(others)) = (rule.sets.first(), rule.sets.get(1)) else {
                    return;
                };
                let Some(name) = name.first().filter(|n| there(n)) else {
                    return;
                };
                let missing: Vec<String> = others.iter().filter(|n| !there(n)).cloned().collect();
                if !missing.is_empty() {
                    self.error(
                        "missing-property",
                        pointer,
                        format!("{label}: `{name}`{at} needs {} too", names(&missing)),
                    );
                }
            }
            RuleKind::Excludes => {
                let (Some(name), Some(others)) = (rule.sets.first(), rule.sets.get(1)) else {
                    return;
                };
                let Some(name) = name.first().filter(|n| there(n)) else {
                    return;
                };
                // Each pair once (schemas state most both ways), at the key written later.
                let position = |n: &str| map.keys().position(|k| k == n);
                for other in others.iter().filter(|n| there(n)) {
                    let (first, later) = if position(other) < position(name) {
                        (other, name)
                    } else {
                        (name, other)
                    };
                    let pair = (first.clone(), later.clone());
                    if reported.contains(&pair) {
                        continue;
                    }
                    reported.push(pair);
                    self.error(
                        "exclusive-properties",
                        &child(pointer, later),
                        format!("{label}: `{first}` and `{later}`{at} exclude each other"),
                    );
                }
            }
        }
    }

    /// The count of an array's items against the schema, and their uniqueness.
    pub(super) fn schema_items(
        &mut self,
        r: &Resource,
        pointer: &str,
        items: &[Value],
        shape: &Shape,
        shown: &str,
    ) {
        let conditional = items.iter().any(is_if);
        let count = items
            .iter()
            .filter(|v| !is_if(v) && !is_no_value(v))
            .count();
        let n = plural(count, "item", "items");
        if let Some(min) = shape
            .min_items
            .filter(|m| (count as u64) < *m && !conditional)
        {
            self.error(
                "bad-count",
                pointer,
                format!(
                    "{}: `{shown}` has {n}, fewer than the minimum of {min}",
                    r.label()
                ),
            );
        } else if let Some(max) = shape.max_items.filter(|m| (count as u64) > *m) {
            self.error(
                "bad-count",
                pointer,
                format!(
                    "{}: `{shown}` has {n}, more than the maximum of {max}",
                    r.label()
                ),
            );
        }
        if shape.unique_items() {
            for (i, item) in items.iter().enumerate() {
                if is_if(item) || is_no_value(item) {
                    continue;
                }
                if let Some(first) = items[..i].iter().position(|earlier| earlier == item) {
                    self.error(
                        "duplicate-item",
                        &child(pointer, &i.to_string()),
                        format!(
                            "{}: `{shown}` lists {} twice (items {first} and {i}); its items \
                             must differ",
                            r.label(),
                            short(item)
                        ),
                    );
                    break;
                }
            }
        }
    }
}
