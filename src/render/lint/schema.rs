//! The linter's checks of resources against CloudFormation's resource provider schemas
//! (`template::resource_schema`): unknown resource types, unknown, missing-required and
//! read-only properties, JSON types, enum values, patterns, lengths and ranges, and
//! `Fn::GetAtt` attributes a type does not have, and types a region of the stack lacks.
//!
//! A value that is an intrinsic function (`Ref`, `Fn::…`, including `Fn::If` and
//! `{"Ref": "AWS::NoValue"}`) is taken as written: CloudFormation resolves it at deployment.
//! Types the schemas do not cover (`Custom::…`, `AWS::CloudFormation::CustomResource`, modules,
//! private registry types, and anything under a `Transform`) are not checked. Patterns the
//! regular-expression engine cannot read (look-arounds, Unicode classes) are not checked either.
//! What CloudFormation would reject is an error; nothing here is a mere warning yet.

use regex_lite::Regex;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use super::{hint, Linter};
use crate::template::intrinsic::is_intrinsic;
use crate::template::resource_schema::{
    catalog, Catalog, JsonTypes, PropertyRule, ResourceSchema, Shape,
};
use crate::text::{child, closest_ignoring_case, plural, short, type_name};

/// What an object of a schema allows: its properties, the ones it needs, the rules between
/// them, and whether it takes others.
struct Object<'s> {
    properties: &'s BTreeMap<String, Shape>,
    required: &'s [String],
    rules: &'s [PropertyRule],
    closed: bool,
}

/// What the checks of one resource share.
struct Resource<'a> {
    name: &'a str,
    type_name: &'a str,
    schema: &'a ResourceSchema,
}

impl Resource<'_> {
    fn label(&self) -> String {
        format!("resource `{}` (`{}`)", self.name, self.type_name)
    }
}

/// Types no schema describes and CloudFormation accepts.
fn is_unschematized(t: &str) -> bool {
    t.starts_with("Custom::")
        || t == "AWS::CloudFormation::CustomResource"
        || t.ends_with("::MODULE")
}

impl<'t> Linter<'t> {
    /// Checks a resource's type and `Properties` against its schema.
    pub(super) fn resource_schema(
        &mut self,
        pointer: &str,
        name: &str,
        resource: &'t Map<String, Value>,
    ) {
        if !self.resource_schemas {
            return;
        }
        let Some(Value::String(type_name)) = resource.get("Type") else {
            return;
        };
        let Ok(catalog) = catalog() else {
            return;
        };
        if is_unschematized(type_name) {
            return;
        }
        let Some(schema) = catalog.get(type_name) else {
            let published = type_name.starts_with("AWS::") || type_name.starts_with("Alexa::");
            if published && !self.has_transform {
                let hint = type_hint(type_name, catalog)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                self.error(
                    "unknown-resource-type",
                    &child(pointer, "Type"),
                    format!(
                        "resource `{name}` has type `{type_name}`, which CloudFormation does not \
                         know{hint}"
                    ),
                );
            }
            return;
        };
        for region in self.regions {
            if catalog.missing_in(region, type_name) {
                self.error(
                    "unavailable-resource-type",
                    &child(pointer, "Type"),
                    format!(
                        "resource `{name}` has type `{type_name}`, which CloudFormation does not \
                         offer in `{region}`"
                    ),
                );
            }
        }
        let r = Resource {
            name,
            type_name,
            schema,
        };
        match resource.get("Properties") {
            None => {
                if let Some(first) = schema.required.first() {
                    self.error(
                        "missing-property",
                        pointer,
                        format!(
                            "{} has no `Properties`, and `{first}` is required",
                            r.label()
                        ),
                    );
                }
            }
            Some(v) if is_intrinsic(v) => {}
            Some(Value::Object(props)) => {
                let p = child(pointer, "Properties");
                let object = Object {
                    properties: &schema.properties,
                    required: &schema.required,
                    rules: &schema.rules,
                    closed: schema.is_closed(),
                };
                self.schema_object(&r, &p, props, &object, "");
            }
            Some(other) => self.error(
                "wrong-type",
                &child(pointer, "Properties"),
                format!(
                    "{}: `Properties` must be an object, not {}",
                    r.label(),
                    crate::text::type_name(other)
                ),
            ),
        }
    }

    fn schema_object(
        &mut self,
        r: &Resource,
        pointer: &str,
        map: &Map<String, Value>,
        object: &Object,
        path: &str,
    ) {
        let (properties, required, closed) = (object.properties, object.required, object.closed);
        for (key, value) in map {
            let p = child(pointer, key);
            // `Fn::Transform` (`AWS::Include`) and the like make properties at deployment.
            if is_no_value(value) || key.starts_with("Fn::") {
                continue;
            }
            let Some(shape) = properties.get(key) else {
                if closed {
                    let hint = hint(key, properties.keys().map(String::as_str));
                    let at = if path.is_empty() {
                        String::new()
                    } else {
                        format!(" in `{}`", path.replace('/', "."))
                    };
                    self.error(
                        "unknown-property",
                        &p,
                        format!("{} has no property `{key}`{at}{hint}", r.label()),
                    );
                }
                continue;
            };
            let sub = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}/{key}")
            };
            if r.schema.read_only.contains(&sub) {
                self.error(
                    "read-only-property",
                    &p,
                    format!(
                        "{}: `{}` is read-only; CloudFormation sets it (read it with \
                         `Fn::GetAtt`)",
                        r.label(),
                        sub.replace('/', ".")
                    ),
                );
                continue;
            }
            self.schema_value(r, &p, value, shape, &sub);
        }
        // An object with a function for a key (`Fn::Transform`, a macro) is not checked for
        // what it lacks.
        if map.keys().any(|k| k.starts_with("Fn::")) {
            return;
        }
        for name in required {
            let present = map.get(name).is_some_and(|v| !is_no_value(v));
            if !present {
                let what = if path.is_empty() {
                    String::new()
                } else {
                    format!(" in `{}`", path.replace('/', "."))
                };
                self.error(
                    "missing-property",
                    pointer,
                    format!(
                        "{} is missing the required property `{name}`{what}",
                        r.label()
                    ),
                );
            }
        }
        let mut reported = Vec::new();
        for rule in object.rules {
            self.property_rule(r, pointer, map, rule, path, &mut reported);
        }
    }

    fn schema_value(
        &mut self,
        r: &Resource,
        pointer: &str,
        value: &Value,
        shape: &Shape,
        path: &str,
    ) {
        if is_intrinsic(value) {
            if let Some(Value::String(name)) = value.get("Ref") {
                self.ref_kind(r, pointer, name, shape, path);
            }
            return;
        }
        let Some(shape) = r.schema.resolve(shape) else {
            return;
        };
        let shown = path.replace('/', ".");
        if !shape.types.is_any() && !fits(shape.types, value) {
            self.error(
                "wrong-type",
                pointer,
                format!(
                    "{}: `{shown}` must be {}, not {}",
                    r.label(),
                    article(shape.types),
                    short_type(value)
                ),
            );
            return;
        }
        match value {
            Value::Object(map) => {
                if !shape.properties.is_empty() || shape.is_closed() || !shape.rules.is_empty() {
                    let object = Object {
                        properties: &shape.properties,
                        required: &shape.required,
                        rules: &shape.rules,
                        closed: shape.is_closed(),
                    };
                    self.schema_object(r, pointer, map, &object, path);
                }
            }
            Value::Array(items) => {
                self.schema_items(r, pointer, items, shape, &shown);
                if let Some(item) = &shape.items {
                    let sub = format!("{path}/*");
                    for (i, v) in items.iter().enumerate() {
                        self.schema_value(r, &child(pointer, &i.to_string()), v, item, &sub);
                    }
                }
            }
            Value::Null => {}
            scalar => self.schema_scalar(r, pointer, scalar, shape, &shown),
        }
    }

    fn schema_scalar(
        &mut self,
        r: &Resource,
        pointer: &str,
        value: &Value,
        shape: &Shape,
        shown: &str,
    ) {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return,
        };
        if let Some(allowed) = &shape.allowed {
            let names: Vec<String> = allowed.iter().filter_map(scalar_text).collect();
            if !names.is_empty() && !names.contains(&text) {
                let shown_names: Vec<&str> = names.iter().map(String::as_str).collect();
                let hint = closest_ignoring_case(&text, shown_names.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                let list = if names.len() <= 12 {
                    format!(" (allowed: {})", crate::text::one_of(&shown_names))
                } else {
                    String::new()
                };
                self.error(
                    "bad-enum-value",
                    pointer,
                    format!(
                        "{}: `{shown}` is {}, which is not an allowed value{hint}{list}",
                        r.label(),
                        short(value)
                    ),
                );
                return;
            }
        }
        if let Value::String(s) = value {
            let len = s.chars().count();
            if let Some(min) = shape.min_length.filter(|m| (len as u64) < *m) {
                self.error(
                    "bad-length",
                    pointer,
                    format!(
                        "{}: `{shown}` is {} long, shorter than the minimum of {min}",
                        r.label(),
                        plural(len, "character", "characters")
                    ),
                );
            } else if let Some(max) = shape.max_length.filter(|m| (len as u64) > *m) {
                self.error(
                    "bad-length",
                    pointer,
                    format!(
                        "{}: `{shown}` is {} long, longer than the maximum of {max}",
                        r.label(),
                        plural(len, "character", "characters")
                    ),
                );
            } else if let Some(pattern) = &shape.pattern {
                if pattern_rejects(pattern, s) {
                    self.error(
                        "pattern-mismatch",
                        pointer,
                        format!(
                            "{}: `{shown}` is {}, which does not match the pattern `{pattern}`",
                            r.label(),
                            short(value)
                        ),
                    );
                }
            }
        }
        let number = match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) if shape.minimum.is_some() || shape.maximum.is_some() => {
                s.trim().parse::<f64>().ok()
            }
            _ => None,
        };
        if let Some(n) = number {
            if let Some(min) = shape.minimum.filter(|m| n < *m) {
                self.error(
                    "out-of-range",
                    pointer,
                    format!(
                        "{}: `{shown}` is {n}, less than the minimum of {min}",
                        r.label()
                    ),
                );
            } else if let Some(max) = shape.maximum.filter(|m| n > *m) {
                self.error(
                    "out-of-range",
                    pointer,
                    format!(
                        "{}: `{shown}` is {n}, more than the maximum of {max}",
                        r.label()
                    ),
                );
            }
        }
    }

    /// `Ref` of `name` where a value of `shape` goes: a list (a list parameter,
    /// `AWS::NotificationARNs`) only where an array is allowed, one value only where something
    /// else than an array is.
    fn ref_kind(&mut self, r: &Resource, pointer: &str, name: &str, shape: &Shape, path: &str) {
        if !self.names.is_referenceable(name) || name == "AWS::NoValue" {
            return;
        }
        let Some(shape) = r.schema.resolve(shape) else {
            return;
        };
        let types = shape.types;
        if types.is_any() {
            return;
        }
        let list = self.names.is_list(name);
        let what = match self.names.parameter_types.get(name) {
            Some(t) => format!("parameter `{name}` (`{t}`)"),
            None if self.names.resource_set.contains(name) => format!("resource `{name}`"),
            None => format!("`{name}`"),
        };
        let shown = path.replace('/', ".");
        if list && !types.has(JsonTypes::ARRAY) {
            self.error(
                "wrong-type",
                pointer,
                format!(
                    "{}: `{shown}` must be {}, but `Ref` of {what} gives a list{}",
                    r.label(),
                    article(types),
                    if types.has(JsonTypes::STRING) {
                        " (join it: `!Join [\",\", !Ref ...]`)"
                    } else {
                        ""
                    }
                ),
            );
        } else if !list && types == JsonTypes::only(JsonTypes::ARRAY) {
            self.error(
                "wrong-type",
                pointer,
                format!(
                    "{}: `{shown}` must be a list, but `Ref` of {what} gives one value (make it \
                     a list type such as `CommaDelimitedList`, or write `[!Ref {name}]`)",
                    r.label()
                ),
            );
        }
    }

    /// `Fn::GetAtt` of `attribute` on a resource of the template: the attribute must be one its
    /// type has.
    pub(super) fn getatt_attribute(&mut self, pointer: &str, resource: &str, attribute: &str) {
        if !self.resource_schemas {
            return;
        }
        let Some(type_name) = self.names.resource_types.get(resource).copied() else {
            return;
        };
        if is_unschematized(type_name) {
            return;
        }
        let Ok(catalog) = catalog() else {
            return;
        };
        let Some(schema) = catalog.get(type_name) else {
            return;
        };
        if !schema.has_attribute(attribute) {
            let hint = hint(attribute, schema.attribute_names());
            let known: Vec<&str> = schema.attribute_names().take(12).collect();
            let list = if known.is_empty() {
                " (it has none)".to_owned()
            } else {
                format!(" (it has {})", crate::text::one_of(&known))
            };
            self.error(
                "unknown-attribute",
                pointer,
                format!(
                    "`Fn::GetAtt` asks `{resource}` (`{type_name}`) for `{attribute}`, which it \
                     does not have{hint}{list}"
                ),
            );
        }
    }
}

/// `{"Ref": "AWS::NoValue"}`: the property is left out.
fn is_no_value(v: &Value) -> bool {
    v.as_object().is_some_and(|m| {
        m.len() == 1 && m.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue")
    })
}

/// Whether a value fits the types, with CloudFormation's conversions: scalars are accepted as
/// strings, and strings that read as numbers or booleans as those.
fn fits(types: JsonTypes, value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(_) => types.has(JsonTypes::OBJECT),
        Value::Array(_) => types.has(JsonTypes::ARRAY),
        Value::Bool(_) => types.has(JsonTypes::BOOLEAN) || types.has(JsonTypes::STRING),
        Value::Number(n) => {
            types.has(JsonTypes::NUMBER)
                || types.has(JsonTypes::STRING)
                || (types.has(JsonTypes::INTEGER)
                    && (n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)))
                || (types.has(JsonTypes::BOOLEAN) && matches!(n.as_i64(), Some(0 | 1)))
        }
        Value::String(s) => {
            let s = s.trim();
            types.has(JsonTypes::STRING)
                || (types.has(JsonTypes::INTEGER) && s.parse::<i64>().is_ok())
                || (types.has(JsonTypes::NUMBER) && s.parse::<f64>().is_ok())
                || (types.has(JsonTypes::BOOLEAN)
                    && matches!(s.to_ascii_lowercase().as_str(), "true" | "false"))
        }
    }
}

/// "a string", "an object or a string", for messages.
fn article(types: JsonTypes) -> String {
    types
        .describe()
        .split(" or ")
        .map(|t| match t {
            "integer" | "array" | "object" => format!("an {t}"),
            t => format!("a {t}"),
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

fn short_type(value: &Value) -> String {
    match value {
        Value::String(_) | Value::Number(_) => format!("{} ({})", type_name(value), short(value)),
        other => type_name(other).to_owned(),
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether a pattern the engine can read rejects `text`. Compiled patterns are kept for the
/// process (the schemas have a few thousand); an unreadable pattern rejects nothing.
fn pattern_rejects(pattern: &str, text: &str) -> bool {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let Ok(mut cache) = cache.lock() else {
        return false;
    };
    let regex = cache
        .entry(pattern.to_owned())
        .or_insert_with(|| Regex::new(pattern).ok());
    regex.as_ref().is_some_and(|re| !re.is_match(text))
}

/// The type `t` was probably meant to be: the same name in another case, one within a small
/// edit distance, or the one type of the same service whose name starts with `t`'s last part
/// (`AWS::ECR::Repo` → `AWS::ECR::Repository`).
fn type_hint<'c>(t: &str, catalog: &'c Catalog) -> Option<&'c str> {
    if let Some(same) = catalog.type_names().find(|n| n.eq_ignore_ascii_case(t)) {
        return Some(same);
    }
    if let Some(near) = closest_ignoring_case(t, catalog.type_names()) {
        return Some(near);
    }
    let (service, last) = t.rsplit_once("::")?;
    let service = format!("{}::", service.to_ascii_lowercase());
    let last = last.to_ascii_lowercase();
    if last.len() < 3 {
        return None;
    }
    catalog
        .type_names()
        .filter(|n| {
            let lower = n.to_ascii_lowercase();
            lower.starts_with(&service) && lower[service.len()..].starts_with(&last)
        })
        .min_by_key(|n| n.len())
}

mod counts;

#[cfg(test)]
mod tests;
