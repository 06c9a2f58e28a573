//! The linter's checks of `Resources`: each resource's type, its attributes (`DependsOn`,
//! `Condition`, deletion policies, …) and the number of resources. The checks against a type's
//! schema are `schema`'s.

use serde_json::Value;

use super::refs::is_resource_type;
use super::{hint, Context, Linter, DELETION_POLICIES, MAX_RESOURCES, RESOURCE_ATTRIBUTES};
use crate::text::{child, one_of, short, type_name};

impl<'t> Linter<'t> {
    pub(super) fn resources(&mut self, pointer: &str, value: &'t Value) {
        let resources = match value {
            Value::Object(m) if !m.is_empty() => m,
            Value::Object(_) => {
                self.error(
                    "missing-resources",
                    pointer,
                    "`Resources` is empty; CloudFormation needs at least one resource".to_owned(),
                );
                return;
            }
            other => {
                self.error(
                    "missing-resources",
                    pointer,
                    format!(
                        "`Resources` must be a non-empty object, not {}",
                        type_name(other)
                    ),
                );
                return;
            }
        };
        self.limit(pointer, resources.len(), MAX_RESOURCES, "resources");
        for (name, resource) in resources {
            let p = child(pointer, name);
            self.logical_id(&p, name, "resource");
            self.resource(&p, name, resource);
        }
    }

    pub(super) fn resource(&mut self, pointer: &str, name: &str, resource: &'t Value) {
        let Value::Object(resource) = resource else {
            self.error(
                "bad-resource-type",
                pointer,
                format!(
                    "resource `{name}` must be an object with a `Type`, not {}",
                    type_name(resource)
                ),
            );
            return;
        };
        if !resource.contains_key("Type") {
            self.error(
                "bad-resource-type",
                pointer,
                format!("resource `{name}` has no `Type`"),
            );
        }
        for (key, value) in resource {
            let p = child(pointer, key);
            match key.as_str() {
                "Type" => match value {
                    Value::String(t) if is_resource_type(t) => {}
                    Value::String(t) => self.error(
                        "bad-resource-type",
                        &p,
                        format!(
                            "resource `{name}` has type `{t}`, which is not of the form \
                             `AWS::Service::Type`, `Custom::Name` or `Namespace::Service::Type`"
                        ),
                    ),
                    other => self.error(
                        "bad-resource-type",
                        &p,
                        format!(
                            "resource `{name}`: `Type` must be a string, not {}",
                            type_name(other)
                        ),
                    ),
                },
                "DeletionPolicy" | "UpdateReplacePolicy" => match value {
                    Value::String(v) if DELETION_POLICIES.contains(&v.as_str()) => {}
                    // The functions CloudFormation resolves here (as cfn-lint accepts them);
                    // with a transform (AWS::LanguageExtensions), any.
                    Value::Object(m) if is_policy_function(m) => {
                        self.walk(&p, value, Context::Other);
                    }
                    Value::Object(_) if self.has_transform => {}
                    other => self.error(
                        "bad-resource-attribute",
                        &p,
                        format!(
                            "resource `{name}`: `{key}` must be {}, not {}",
                            one_of(DELETION_POLICIES),
                            short(other)
                        ),
                    ),
                },
                "DependsOn" => self.depends_on(&p, name, value),
                "Condition" => match value {
                    Value::String(c) => self.condition_name(&p, c),
                    other => self.error(
                        "bad-resource-attribute",
                        &p,
                        format!(
                            "resource `{name}`: `Condition` must be the name of a condition, \
                             not {}",
                            type_name(other)
                        ),
                    ),
                },
                "Properties" | "Metadata" | "CreationPolicy" | "UpdatePolicy" => {
                    self.walk(&p, value, Context::Other);
                }
                _ => {
                    let hint = hint(key, RESOURCE_ATTRIBUTES.iter().copied());
                    self.error(
                        "unknown-resource-attribute",
                        &p,
                        format!("resource `{name}` has an unknown attribute `{key}`{hint}"),
                    );
                }
            }
        }
        self.resource_schema(pointer, name, resource);
    }

    pub(super) fn depends_on(&mut self, pointer: &str, name: &str, value: &Value) {
        match value {
            Value::String(target) => self.depends_on_target(pointer, name, target),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let p = child(pointer, &i.to_string());
                    match item {
                        Value::String(target) => self.depends_on_target(&p, name, target),
                        other => self.error(
                            "bad-resource-attribute",
                            &p,
                            format!(
                                "resource `{name}`: `DependsOn` entries must be resource names, \
                                 not {}",
                                type_name(other)
                            ),
                        ),
                    }
                }
            }
            other => self.error(
                "bad-resource-attribute",
                pointer,
                format!(
                    "resource `{name}`: `DependsOn` must be a resource name or an array of them, \
                     not {}",
                    type_name(other)
                ),
            ),
        }
    }

    pub(super) fn depends_on_target(&mut self, pointer: &str, name: &str, target: &str) {
        if target == name {
            self.error(
                "dangling-depends-on",
                pointer,
                format!("resource `{name}` depends on itself"),
            );
        } else if self.check_dangling && !self.names.resource_set.contains(target) {
            let hint = hint(target, self.names.resources.iter().copied());
            self.error(
                "dangling-depends-on",
                pointer,
                format!("`DependsOn` names `{target}`, which is not a resource{hint}"),
            );
        }
    }
}

/// `DeletionPolicy` and `UpdateReplacePolicy` may be `Ref`, `Fn::If`, `Fn::Sub`, `Fn::Select`
/// or `Fn::FindInMap` resolving to a policy.
fn is_policy_function(m: &serde_json::Map<String, Value>) -> bool {
    const FUNCTIONS: &[&str] = &["Ref", "Fn::If", "Fn::Sub", "Fn::Select", "Fn::FindInMap"];
    m.len() == 1 && m.keys().all(|k| FUNCTIONS.contains(&k.as_str()))
}
