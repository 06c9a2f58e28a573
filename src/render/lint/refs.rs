//! The linter's walk over template values: references by `Ref`, `Fn::GetAtt`, `Fn::Sub` and
//! `Fn::FindInMap` to names the template does not declare, and condition names (a
//! `{"Condition": X}` object names a condition only inside `Conditions`); and references of
//! the wrong kind: a resource in `Conditions` (which CloudFormation evaluates before any
//! resource exists), an attribute of a parameter in `Fn::Sub` (`${Param.Attr}`), and a list
//! parameter in `Fn::Sub`, which substitutes strings only.

use serde_json::Value;

use super::{hint, Context, Linter};
use crate::text::child;

impl<'t> Linter<'t> {
    /// `name` must be a declared condition.
    pub(super) fn condition_name(&mut self, pointer: &str, name: &str) {
        self.used.insert(name.to_owned());
        if self.check_dangling && !self.names.condition_set.contains(name) {
            let hint = hint(name, self.names.conditions.iter().copied());
            self.error(
                "dangling-condition",
                pointer,
                format!("condition `{name}` is not declared in `Conditions`{hint}"),
            );
        }
    }

    /// Checks the intrinsic functions in `value` that name other parts of the template. Walks
    /// with an explicit stack, children in document order; does not enter `Fn::Transform`.
    pub(super) fn walk(&mut self, pointer: &str, value: &'t Value, context: Context) {
        if !self.check_dangling {
            return;
        }
        let mut stack: Vec<(String, &'t Value)> = vec![(pointer.to_owned(), value)];
        while let Some((pointer, value)) = stack.pop() {
            let mut children: Vec<(String, &'t Value)> = Vec::new();
            match value {
                Value::Object(map) if map.len() == 1 => {
                    let Some((key, arg)) = map.iter().next() else {
                        continue;
                    };
                    let p = child(&pointer, key);
                    match key.as_str() {
                        "Fn::Transform" => continue,
                        "Ref" => match arg {
                            Value::String(name) => {
                                self.check_ref(&p, name);
                                if context == Context::Conditions {
                                    self.resource_in_conditions(&p, name, "Ref");
                                }
                            }
                            other => children.push((p, other)),
                        },
                        "Fn::GetAtt" if context == Context::Conditions => {
                            self.error(
                                "resource-in-conditions",
                                &p,
                                "`Fn::GetAtt` in `Conditions`: conditions are evaluated before \
                                 any resource exists, so they can use only parameters, mappings \
                                 and pseudo parameters"
                                    .to_owned(),
                            );
                        }
                        "Fn::GetAtt" => self.check_getatt(&p, arg, &mut children),
                        "Fn::Sub" => self.check_sub(&p, arg, &mut children),
                        "Fn::If" => match arg {
                            Value::Array(items) => {
                                for (i, item) in items.iter().enumerate() {
                                    let q = child(&p, &i.to_string());
                                    match item {
                                        Value::String(c) if i == 0 => self.condition_name(&q, c),
                                        other => children.push((q, other)),
                                    }
                                }
                            }
                            other => children.push((p, other)),
                        },
                        "Condition" if context == Context::Conditions => match arg {
                            Value::String(c) => self.condition_name(&p, c),
                            other => children.push((p, other)),
                        },
                        "Fn::FindInMap" => match arg {
                            Value::Array(items) => {
                                for (i, item) in items.iter().enumerate() {
                                    let q = child(&p, &i.to_string());
                                    match item {
                                        Value::String(m) if i == 0 => self.check_mapping(&q, m),
                                        other => children.push((q, other)),
                                    }
                                }
                            }
                            other => children.push((p, other)),
                        },
                        _ => children.push((p, arg)),
                    }
                }
                Value::Object(map) => {
                    for (key, v) in map {
                        children.push((child(&pointer, key), v));
                    }
                }
                Value::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        children.push((child(&pointer, &i.to_string()), v));
                    }
                }
                _ => {}
            }
            // Scalars need no visit; containers are pushed so that the first is popped first.
            stack.extend(
                children
                    .into_iter()
                    .filter(|(_, v)| v.is_object() || v.is_array())
                    .rev(),
            );
        }
    }

    pub(super) fn check_ref(&mut self, pointer: &str, name: &str) {
        self.used.insert(name.to_owned());
        if !self.names.is_referenceable(name) {
            let hint = hint(name, self.names.referenceable());
            self.error(
                "dangling-ref",
                pointer,
                format!(
                    "`Ref` to `{name}`, which is not a parameter, resource or pseudo parameter{hint}"
                ),
            );
        }
    }

    /// `Ref` of a resource inside `Conditions`, which CloudFormation rejects.
    fn resource_in_conditions(&mut self, pointer: &str, name: &str, function: &str) {
        if self.names.resource_set.contains(name) {
            self.error(
                "resource-in-conditions",
                pointer,
                format!(
                    "`{function}` of resource `{name}` in `Conditions`: conditions are evaluated \
                     before any resource exists, so they can use only parameters, mappings and \
                     pseudo parameters"
                ),
            );
        }
    }

    pub(super) fn check_getatt(
        &mut self,
        pointer: &str,
        arg: &'t Value,
        children: &mut Vec<(String, &'t Value)>,
    ) {
        // The attribute, where it is written out, and its pointer.
        let (p, resource, attribute) = match arg {
            Value::String(s) => {
                let (r, a) = s
                    .split_once('.')
                    .map_or((s.as_str(), None), |(r, a)| (r, Some(a)));
                (pointer.to_owned(), r, a.map(|a| (pointer.to_owned(), a)))
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate().skip(1) {
                    children.push((child(pointer, &i.to_string()), item));
                }
                let attribute = match items.get(1) {
                    Some(Value::String(a)) if items.len() == 2 => {
                        Some((child(pointer, "1"), a.as_str()))
                    }
                    _ => None,
                };
                match items.first() {
                    Some(Value::String(r)) => (child(pointer, "0"), r.as_str(), attribute),
                    Some(other) => {
                        children.insert(0, (child(pointer, "0"), other));
                        return;
                    }
                    None => return,
                }
            }
            other => {
                children.push((pointer.to_owned(), other));
                return;
            }
        };
        if !self.names.resource_set.contains(resource) {
            let hint = hint(resource, self.names.resources.iter().copied());
            self.error(
                "dangling-getatt",
                &p,
                format!("`Fn::GetAtt` on `{resource}`, which is not a resource{hint}"),
            );
        } else if let Some((ap, attribute)) = attribute {
            self.getatt_attribute(&ap, resource, attribute);
        }
    }

    pub(super) fn check_sub(
        &mut self,
        pointer: &str,
        arg: &'t Value,
        children: &mut Vec<(String, &'t Value)>,
    ) {
        let (p, template, vars) = match arg {
            Value::String(s) => (pointer.to_owned(), s.as_str(), None),
            Value::Array(items) => {
                let vars = match items.get(1) {
                    Some(Value::Object(vars)) => {
                        let vp = child(pointer, "1");
                        for (key, v) in vars {
                            children.push((child(&vp, key), v));
                        }
                        Some(vars)
                    }
                    Some(other) => {
                        children.push((child(pointer, "1"), other));
                        None
                    }
                    None => None,
                };
                match items.first() {
                    Some(Value::String(s)) => (child(pointer, "0"), s.as_str(), vars),
                    Some(other) => {
                        children.insert(0, (child(pointer, "0"), other));
                        return;
                    }
                    None => return,
                }
            }
            other => {
                children.push((pointer.to_owned(), other));
                return;
            }
        };
        if !template.contains("${") {
            self.warning(
                "sub-not-needed",
                &p,
                "`Fn::Sub` of a string without `${...}`: the string can be written as it is"
                    .to_owned(),
            );
        }
        for token in sub_references(template) {
            let (name, attribute) = token
                .split_once('.')
                .map_or((token, None), |(n, a)| (n, Some(a)));
            self.used.insert(name.to_owned());
            if vars.is_some_and(|v| v.contains_key(token) || v.contains_key(name)) {
                continue;
            }
            let known = self.names.is_referenceable(name);
            if known {
                self.sub_reference_kind(&p, token, name, attribute);
            } else {
                let hint = hint(
                    name,
                    vars.into_iter()
                        .flat_map(|v| v.keys().map(String::as_str))
                        .chain(self.names.referenceable()),
                );
                self.error(
                    "dangling-sub",
                    &p,
                    format!(
                        "`Fn::Sub` uses `${{{token}}}`, but `{name}` is not a `Fn::Sub` variable, \
                         parameter, resource or pseudo parameter{hint}"
                    ),
                );
            }
        }
    }

    /// A `${...}` of `Fn::Sub` that names a declared parameter, resource or pseudo parameter:
    /// an attribute must be a resource's (and one its type has), and the value a string.
    fn sub_reference_kind(&mut self, pointer: &str, token: &str, name: &str, attr: Option<&str>) {
        match attr {
            Some(attribute) if self.names.resource_set.contains(name) => {
                self.getatt_attribute(pointer, name, attribute);
            }
            Some(_) => {
                let what = if self.names.parameter_set.contains(name) {
                    "a parameter"
                } else {
                    "a pseudo parameter"
                };
                self.error(
                    "bad-sub-attribute",
                    pointer,
                    format!(
                        "`Fn::Sub` uses `${{{token}}}`, but `{name}` is {what}, not a resource: \
                         only resources have attributes (write `${{{name}}}` for its value)"
                    ),
                );
            }
            None if self.names.is_list(name) => self.error(
                "list-in-sub",
                pointer,
                format!(
                    "`Fn::Sub` uses `${{{name}}}`, which is a list; `Fn::Sub` substitutes only \
                     strings (join it first: `${{Joined}}` with `Joined: !Join [\",\", !Ref \
                     {name}]` as a variable)"
                ),
            ),
            None => {}
        }
    }

    pub(super) fn check_mapping(&mut self, pointer: &str, name: &str) {
        self.used.insert(name.to_owned());
        if !self.names.mapping_set.contains(name) {
            let hint = hint(name, self.names.mappings.iter().copied());
            self.error(
                "dangling-mapping",
                pointer,
                format!(
                    "`Fn::FindInMap` uses mapping `{name}`, which is not declared in `Mappings`{hint}"
                ),
            );
        }
    }
}

/// The names a `Fn::Sub` string refers to: the insides of `${...}`, trimmed; `${!Literal}` is an
/// escaped literal and refers to nothing. An unterminated `${` refers to nothing either.
pub(super) fn sub_references(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        if let Some(literal) = after.strip_prefix('!') {
            rest = literal;
            continue;
        }
        let Some(j) = after.find('}') else {
            break;
        };
        let name = after[..j].trim();
        if !name.is_empty() {
            names.push(name);
        }
        rest = &after[j + 1..];
    }
    names
}

/// `AWS::Service::Type`, `Alexa::ASK::Skill` and any `Namespace::Service::Type` of three
/// alphanumeric parts; `Custom::Name` (letters, digits, `_`, `@`, `-`); and module types
/// `Namespace::Service::Type::MODULE`.
pub(super) fn is_resource_type(t: &str) -> bool {
    let alnum = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric());
    let parts: Vec<&str> = t.split("::").collect();
    match parts.as_slice() {
        ["Custom", name] => {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '-'))
        }
        [a, b, c] | [a, b, c, "MODULE"] => alnum(a) && alnum(b) && alnum(c),
        _ => false,
    }
}
