//! The linter's checks of the template's top-level sections: the root object, format version
//! and description, template size and service limits, logical ids, `Parameters` (against the
//! stack config), `Mappings`, `Conditions`, `Rules` and `Outputs`.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{
    hint, Context, LintFinding, Linter, Names, FORMAT_VERSION, INLINE_TEMPLATE_LIMIT,
    MAX_DESCRIPTION_BYTES, MAX_LOGICAL_ID, MAX_MAPPINGS, MAX_OUTPUTS, MAX_PARAMETERS,
    S3_TEMPLATE_LIMIT, SECTIONS,
};
use crate::diag::Severity;
use crate::template::params::{parameter_kind, parameter_types};
use crate::text::{child, short, thousands, type_name};

impl<'t> Linter<'t> {
    pub(super) fn template(&mut self, root: &'t Map<String, Value>, provided: &[String]) {
        self.names = Names::collect(root);
        self.has_transform = root.contains_key("Transform");
        self.check_dangling = !self.has_transform;
        for (key, value) in root {
            let pointer = child("", key);
            match key.as_str() {
                "AWSTemplateFormatVersion" => {
                    if value.as_str() != Some(FORMAT_VERSION) {
                        self.error(
                            "bad-format-version",
                            &pointer,
                            format!(
                                "`AWSTemplateFormatVersion` must be `{FORMAT_VERSION}`, not {}",
                                short(value)
                            ),
                        );
                    }
                }
                "Description" => match value {
                    Value::String(s) if s.len() > MAX_DESCRIPTION_BYTES => self.error(
                        "bad-description",
                        &pointer,
                        format!(
                            "`Description` is {} bytes; CloudFormation allows at most \
                             {MAX_DESCRIPTION_BYTES}",
                            s.len()
                        ),
                    ),
                    Value::String(_) => {}
                    other => self.error(
                        "bad-description",
                        &pointer,
                        format!("`Description` must be a string, not {}", type_name(other)),
                    ),
                },
                "Metadata" | "Transform" => {}
                "Parameters" => self.parameters(&pointer, value, provided),
                "Mappings" => self.mappings(&pointer, value),
                "Conditions" => self.conditions(&pointer, value),
                "Rules" => self.rules(&pointer, value),
                "Resources" => self.resources(&pointer, value),
                "Outputs" => self.outputs(&pointer, value),
                _ => {
                    let hint = hint(key, SECTIONS.iter().copied());
                    self.error(
                        "unknown-section",
                        &pointer,
                        format!("unknown template section `{key}`{hint}"),
                    );
                }
            }
        }
        self.unused();
        if !root.contains_key("Resources") {
            self.error(
                "missing-resources",
                "",
                "the template has no `Resources`; CloudFormation needs at least one resource"
                    .to_owned(),
            );
        }
        let mut seen = HashSet::new();
        for name in provided {
            if !seen.insert(name.as_str()) || self.names.parameter_set.contains(name.as_str()) {
                continue;
            }
            let hint = hint(name, self.names.parameters.iter().copied());
            self.error(
                "unknown-parameter",
                &child("/Parameters", name),
                format!(
                    "the stack config passes `{name}`, which the template does not declare{hint}"
                ),
            );
        }
    }

    pub(super) fn size(&mut self, size: usize) {
        if size > S3_TEMPLATE_LIMIT {
            self.error(
                "template-size",
                "",
                format!(
                    "the template is {} bytes, over CloudFormation's {}-byte limit for templates \
                     in S3",
                    thousands(size as u64),
                    thousands(S3_TEMPLATE_LIMIT as u64)
                ),
            );
        } else if size > INLINE_TEMPLATE_LIMIT {
            self.findings.push(LintFinding {
                severity: Severity::Warning,
                code: "template-size",
                message: format!(
                    "the template is {} bytes, over CloudFormation's {}-byte inline limit, and \
                     will be uploaded to S3 to deploy",
                    thousands(size as u64),
                    thousands(INLINE_TEMPLATE_LIMIT as u64)
                ),
                pointer: String::new(),
            });
        }
    }

    /// A section that must be an object; reports `bad-section` otherwise.
    pub(super) fn section<'v>(
        &mut self,
        name: &str,
        pointer: &str,
        value: &'v Value,
    ) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(m) => Some(m),
            other => {
                self.error(
                    "bad-section",
                    pointer,
                    format!("`{name}` must be an object, not {}", type_name(other)),
                );
                None
            }
        }
    }

    pub(super) fn limit(&mut self, pointer: &str, count: usize, max: usize, what: &str) {
        if count > max {
            self.error(
                "limit-exceeded",
                pointer,
                format!(
                    "the template declares {count} {what}; CloudFormation allows at most {max}"
                ),
            );
        }
    }

    pub(super) fn logical_id(&mut self, pointer: &str, id: &str, what: &str) {
        let problem = if id.is_empty() {
            Some(format!("{what} logical id must not be empty"))
        } else if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            Some(format!(
                "{what} logical id `{id}` must be alphanumeric (A-Z, a-z, 0-9)"
            ))
        } else if id.len() > MAX_LOGICAL_ID {
            Some(format!(
                "{what} logical id `{id}` is {} characters long; at most {MAX_LOGICAL_ID} are \
                 allowed",
                id.len()
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            self.error("bad-logical-id", pointer, message);
        }
    }

    pub(super) fn parameters(&mut self, pointer: &str, value: &'t Value, provided: &[String]) {
        let Some(parameters) = self.section("Parameters", pointer, value) else {
            return;
        };
        self.limit(pointer, parameters.len(), MAX_PARAMETERS, "parameters");
        for (name, def) in parameters {
            let p = child(pointer, name);
            self.logical_id(&p, name, "parameter");
            let Value::Object(def) = def else {
                self.error(
                    "bad-parameter",
                    &p,
                    format!(
                        "parameter `{name}` must be an object with a `Type`, not {}",
                        type_name(def)
                    ),
                );
                continue;
            };
            match def.get("Type") {
                None => self.error(
                    "bad-parameter",
                    &p,
                    format!("parameter `{name}` has no `Type`"),
                ),
                Some(Value::String(t)) if parameter_kind(t).is_none() => {
                    let known: Vec<String> = parameter_types().collect();
                    let hint = hint(t, known.iter().map(String::as_str));
                    self.error(
                        "bad-parameter-type",
                        &child(&p, "Type"),
                        format!(
                            "parameter `{name}` has type `{t}`, which CloudFormation does not \
                             know{hint}"
                        ),
                    );
                }
                Some(Value::String(_)) => {}
                Some(other) => self.error(
                    "bad-parameter",
                    &child(&p, "Type"),
                    format!(
                        "parameter `{name}`: `Type` must be a string, not {}",
                        type_name(other)
                    ),
                ),
            }
            if !def.contains_key("Default") && !provided.iter().any(|n| n == name) {
                self.error(
                    "missing-parameter",
                    &p,
                    format!(
                        "parameter `{name}` has no `Default`, and the stack config does not pass it"
                    ),
                );
            }
        }
    }

    pub(super) fn mappings(&mut self, pointer: &str, value: &'t Value) {
        let Some(mappings) = self.section("Mappings", pointer, value) else {
            return;
        };
        self.limit(pointer, mappings.len(), MAX_MAPPINGS, "mappings");
        for name in mappings.keys() {
            self.logical_id(&child(pointer, name), name, "mapping");
        }
    }

    pub(super) fn conditions(&mut self, pointer: &str, value: &'t Value) {
        let Some(conditions) = self.section("Conditions", pointer, value) else {
            return;
        };
        for (name, condition) in conditions {
            let p = child(pointer, name);
            self.logical_id(&p, name, "condition");
            self.walk(&p, condition, Context::Conditions);
        }
    }

    pub(super) fn rules(&mut self, pointer: &str, value: &'t Value) {
        let Some(rules) = self.section("Rules", pointer, value) else {
            return;
        };
        for (name, rule) in rules {
            self.walk(&child(pointer, name), rule, Context::Other);
        }
    }

    pub(super) fn outputs(&mut self, pointer: &str, value: &'t Value) {
        let Some(outputs) = self.section("Outputs", pointer, value) else {
            return;
        };
        self.limit(pointer, outputs.len(), MAX_OUTPUTS, "outputs");
        for (name, output) in outputs {
            let p = child(pointer, name);
            self.logical_id(&p, name, "output");
            let Value::Object(output) = output else {
                self.error(
                    "bad-output",
                    &p,
                    format!(
                        "output `{name}` must be an object with a `Value`, not {}",
                        type_name(output)
                    ),
                );
                continue;
            };
            if !output.contains_key("Value") {
                self.error("bad-output", &p, format!("output `{name}` has no `Value`"));
            }
            for (key, value) in output {
                let q = child(&p, key);
                match key.as_str() {
                    "Export" => {
                        match value {
                            Value::Object(export) if export.contains_key("Name") => {}
                            Value::Object(_) => self.error(
                                "bad-output",
                                &q,
                                format!("output `{name}`: `Export` needs a `Name`"),
                            ),
                            other => self.error(
                                "bad-output",
                                &q,
                                format!(
                                    "output `{name}`: `Export` must be an object with a `Name`, \
                                     not {}",
                                    type_name(other)
                                ),
                            ),
                        }
                        self.walk(&q, value, Context::Other);
                    }
                    "Condition" => {
                        if let Value::String(c) = value {
                            self.condition_name(&q, c);
                        }
                    }
                    _ => self.walk(&q, value, Context::Other),
                }
            }
        }
    }
}
