//! Structural lint of a rendered CloudFormation template: the checks CloudFormation itself would
//! make when the template is validated or a change set is created (sections, logical ids,
//! resource types and attributes, references between names, parameters against the stack
//! config, service limits and template size), made offline so that `validate` fails early.
//!
//! This is not a resource-schema validator: it does not know which properties a resource type
//! takes, which attributes `Fn::GetAtt` may ask for or whether values are valid for AWS. It does
//! not evaluate intrinsic functions or conditions, and it does not locate findings in source text
//! (see `locate`); each finding carries an RFC 6901 pointer into the template instead.

use crate::diag::Severity;
use crate::text::{child, closest_ignoring_case, one_of, short, thousands, type_name};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// One problem found in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintFinding {
    pub severity: Severity,
    /// A stable kebab-case identifier of the kind of problem (`dangling-ref`).
    pub code: &'static str,
    pub message: String,
    /// JSON pointer of the offending value; `""` for the whole template.
    pub pointer: String,
}

/// What [`lint`] checks.
pub struct LintInput<'a> {
    /// The rendered template, parsed; YAML short-form tags are already converted to long form
    /// (`{"Ref": ..}`, `{"Fn::GetAtt": ..}`).
    pub template: &'a Value,
    /// Size of the rendered text as it would be uploaded.
    pub size_bytes: usize,
    /// Parameter keys the stack config passes.
    pub provided_parameters: &'a [String],
}

/// CloudFormation's limit for a template body passed inline.
pub const INLINE_TEMPLATE_LIMIT: usize = 51_200;
/// CloudFormation's limit for a template uploaded to S3.
pub const S3_TEMPLATE_LIMIT: usize = 1_000_000;

const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
];
const FORMAT_VERSION: &str = "2010-09-09";
const MAX_DESCRIPTION_BYTES: usize = 1024;
const MAX_LOGICAL_ID: usize = 255;
const MAX_RESOURCES: usize = 500;
const MAX_PARAMETERS: usize = 200;
const MAX_OUTPUTS: usize = 200;
const MAX_MAPPINGS: usize = 200;
const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];
const RESOURCE_ATTRIBUTES: &[&str] = &[
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "Metadata",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "CreationPolicy",
    "UpdatePolicy",
];
const DELETION_POLICIES: &[&str] = &["Delete", "Retain", "RetainExceptOnCreate", "Snapshot"];

/// Checks a rendered template. Findings come in document order (sections in the order they are
/// written, and within each section in the order of its entries), followed by findings about
/// the template as a whole: missing `Resources`, parameters the stack config passes but the
/// template does not declare, and the template's size.
pub fn lint(input: &LintInput) -> Vec<LintFinding> {
    let mut linter = Linter {
        findings: Vec::new(),
        names: Names::default(),
        check_dangling: true,
        has_transform: false,
    };
    match input.template {
        Value::Object(root) => linter.template(root, input.provided_parameters),
        other => linter.error(
            "not-an-object",
            "",
            format!(
                "a template must be an object of sections, not {}",
                type_name(other)
            ),
        ),
    }
    linter.size(input.size_bytes);
    linter.findings
}

/// The names a template declares, for reference checks.
#[derive(Default)]
struct Names<'t> {
    parameters: Vec<&'t str>,
    resources: Vec<&'t str>,
    conditions: Vec<&'t str>,
    mappings: Vec<&'t str>,
    parameter_set: HashSet<&'t str>,
    resource_set: HashSet<&'t str>,
    condition_set: HashSet<&'t str>,
    mapping_set: HashSet<&'t str>,
}

impl<'t> Names<'t> {
    fn collect(root: &'t Map<String, Value>) -> Self {
        let keys = |section: &str| -> Vec<&'t str> {
            match root.get(section) {
                Some(Value::Object(m)) => m.keys().map(String::as_str).collect(),
                _ => Vec::new(),
            }
        };
        let parameters = keys("Parameters");
        let resources = keys("Resources");
        let conditions = keys("Conditions");
        let mappings = keys("Mappings");
        Names {
            parameter_set: parameters.iter().copied().collect(),
            resource_set: resources.iter().copied().collect(),
            condition_set: conditions.iter().copied().collect(),
            mapping_set: mappings.iter().copied().collect(),
            parameters,
            resources,
            conditions,
            mappings,
        }
    }

    /// A `Ref` target: a parameter, a resource or a pseudo parameter.
    fn is_referenceable(&self, name: &str) -> bool {
        self.parameter_set.contains(name)
            || self.resource_set.contains(name)
            || PSEUDO_PARAMETERS.contains(&name)
    }

    fn referenceable(&self) -> impl Iterator<Item = &str> + '_ {
        self.parameters
            .iter()
            .chain(self.resources.iter())
            .copied()
            .chain(PSEUDO_PARAMETERS.iter().copied())
    }
}

struct Linter<'t> {
    findings: Vec<LintFinding>,
    names: Names<'t>,
    /// False when the template has a top-level `Transform`: macros may create names.
    check_dangling: bool,
    has_transform: bool,
}

/// Whether a walk is inside `Conditions`, where `{"Condition": X}` names a condition.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Conditions,
    Other,
}

impl<'t> Linter<'t> {
    fn error(&mut self, code: &'static str, pointer: &str, message: String) {
        self.findings.push(LintFinding {
            severity: Severity::Error,
            code,
            message,
            pointer: pointer.to_owned(),
        });
    }

    fn template(&mut self, root: &'t Map<String, Value>, provided: &[String]) {
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

    fn size(&mut self, size: usize) {
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
    fn section<'v>(
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

    fn limit(&mut self, pointer: &str, count: usize, max: usize, what: &str) {
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

    fn logical_id(&mut self, pointer: &str, id: &str, what: &str) {
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

    fn parameters(&mut self, pointer: &str, value: &'t Value, provided: &[String]) {
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

    fn mappings(&mut self, pointer: &str, value: &'t Value) {
        let Some(mappings) = self.section("Mappings", pointer, value) else {
            return;
        };
        self.limit(pointer, mappings.len(), MAX_MAPPINGS, "mappings");
        for name in mappings.keys() {
            self.logical_id(&child(pointer, name), name, "mapping");
        }
    }

    fn conditions(&mut self, pointer: &str, value: &'t Value) {
        let Some(conditions) = self.section("Conditions", pointer, value) else {
            return;
        };
        for (name, condition) in conditions {
            let p = child(pointer, name);
            self.logical_id(&p, name, "condition");
            self.walk(&p, condition, Context::Conditions);
        }
    }

    fn rules(&mut self, pointer: &str, value: &'t Value) {
        let Some(rules) = self.section("Rules", pointer, value) else {
            return;
        };
        for (name, rule) in rules {
            self.walk(&child(pointer, name), rule, Context::Other);
        }
    }

    fn resources(&mut self, pointer: &str, value: &'t Value) {
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

    fn resource(&mut self, pointer: &str, name: &str, resource: &'t Value) {
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
                    // With a transform (AWS::LanguageExtensions), policies may be intrinsics.
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
    }

    fn depends_on(&mut self, pointer: &str, name: &str, value: &Value) {
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

    fn depends_on_target(&mut self, pointer: &str, name: &str, target: &str) {
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

    fn outputs(&mut self, pointer: &str, value: &'t Value) {
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

    /// `name` must be a declared condition.
    fn condition_name(&mut self, pointer: &str, name: &str) {
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
    fn walk(&mut self, pointer: &str, value: &'t Value, context: Context) {
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
                            Value::String(name) => self.check_ref(&p, name),
                            other => children.push((p, other)),
                        },
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

    fn check_ref(&mut self, pointer: &str, name: &str) {
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

    fn check_getatt(
        &mut self,
        pointer: &str,
        arg: &'t Value,
        children: &mut Vec<(String, &'t Value)>,
    ) {
        let (p, resource) = match arg {
            Value::String(s) => (
                pointer.to_owned(),
                s.split_once('.').map_or(s.as_str(), |(r, _)| r),
            ),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate().skip(1) {
                    children.push((child(pointer, &i.to_string()), item));
                }
                match items.first() {
                    Some(Value::String(r)) => (child(pointer, "0"), r.as_str()),
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
        }
    }

    fn check_sub(
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
        for token in sub_references(template) {
            let name = token.split_once('.').map_or(token, |(n, _)| n);
            let known = vars.is_some_and(|v| v.contains_key(token) || v.contains_key(name))
                || self.names.is_referenceable(name);
            if !known {
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

    fn check_mapping(&mut self, pointer: &str, name: &str) {
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

/// "; did you mean `X`?" for the closest candidate, or nothing.
fn hint<'n>(name: &str, candidates: impl Iterator<Item = &'n str>) -> String {
    closest_ignoring_case(name, candidates)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// The names a `Fn::Sub` string refers to: the insides of `${...}`, trimmed; `${!Literal}` is an
/// escaped literal and refers to nothing. An unterminated `${` refers to nothing either.
fn sub_references(template: &str) -> Vec<&str> {
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
fn is_resource_type(t: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::testgen::Rng;
    use crate::text::edit_distance;
    use serde_json::json;

    fn run(template: &Value, provided: &[&str]) -> Vec<LintFinding> {
        let provided: Vec<String> = provided.iter().map(|s| (*s).to_owned()).collect();
        lint(&LintInput {
            template,
            size_bytes: 1000,
            provided_parameters: &provided,
        })
    }

    fn summary(findings: &[LintFinding]) -> Vec<String> {
        findings
            .iter()
            .map(|f| format!("{} {} {}: {}", f.severity, f.code, f.pointer, f.message))
            .collect()
    }

    fn codes(findings: &[LintFinding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.code).collect()
    }

    fn assert_finding(findings: &[LintFinding], code: &str, pointer: &str, fragment: &str) {
        assert!(
            findings
                .iter()
                .any(|f| f.code == code && f.pointer == pointer && f.message.contains(fragment)),
            "no `{code}` at `{pointer}` containing `{fragment}` in {:#?}",
            summary(findings)
        );
    }

    fn good() -> Value {
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "repositories",
            "Parameters": {
                "Env": {"Type": "String"},
                "Retain": {"Type": "String", "Default": "7"}
            },
            "Mappings": {"Accounts": {"dev": {"Id": "1"}}},
            "Conditions": {
                "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]}
            },
            "Resources": {
                "Repo": {
                    "Type": "AWS::ECR::Repository",
                    "DeletionPolicy": "Retain",
                    "UpdateReplacePolicy": "RetainExceptOnCreate",
                    "Properties": {
                        "RepositoryName": {"Fn::Sub": "${Env}-${AWS::Region}-${!Literal}"},
                        "Tags": [{"Key": "env", "Value": {"Ref": "Env"}}],
                        "Account": {"Fn::FindInMap": ["Accounts", {"Ref": "Env"}, "Id"]},
                        "Mode": {"Fn::If": ["IsProd", "IMMUTABLE", {"Ref": "AWS::NoValue"}]}
                    }
                },
                "Hook": {
                    "Type": "Custom::Hook-1",
                    "Condition": "NotProd",
                    "DependsOn": ["Repo"],
                    "Properties": {
                        "Arn": {"Fn::GetAtt": ["Repo", "Arn"]},
                        "Uri": {"Fn::GetAtt": "Repo.RepositoryUri"},
                        "Text": {"Fn::Sub": ["${Repo.Arn} ${X}", {"X": {"Ref": "Retain"}}]}
                    }
                },
                "Skill": {"Type": "Alexa::ASK::Skill", "DependsOn": "Repo"}
            },
            "Outputs": {
                "RepoArn": {
                    "Value": {"Fn::GetAtt": ["Repo", "Arn"]},
                    "Condition": "IsProd",
                    "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-repo"}}
                }
            }
        })
    }

    #[test]
    fn good_template_has_no_findings() {
        let findings = run(&good(), &["Env"]);
        assert!(findings.is_empty(), "{:#?}", summary(&findings));
    }

    #[test]
    fn root_must_be_an_object() {
        for v in [json!([]), json!("x"), json!(null)] {
            let findings = run(&v, &[]);
            assert_eq!(codes(&findings), ["not-an-object"]);
            assert_eq!(findings[0].pointer, "");
            assert_eq!(findings[0].severity, Severity::Error);
        }
    }

    #[test]
    fn unknown_sections_with_suggestions() {
        let mut t = good();
        t["Resource"] = json!({});
        t["outputs"] = json!({});
        t["Whatever"] = json!(1);
        let findings = run(&t, &["Env"]);
        assert_finding(
            &findings,
            "unknown-section",
            "/Resource",
            "did you mean `Resources`?",
        );
        assert_finding(
            &findings,
            "unknown-section",
            "/outputs",
            "did you mean `Outputs`?",
        );
        assert_finding(
            &findings,
            "unknown-section",
            "/Whatever",
            "unknown template section `Whatever`",
        );
        assert!(
            !findings[2].message.contains("did you mean"),
            "{:#?}",
            summary(&findings)
        );
        assert_eq!(findings.len(), 3, "{:#?}", summary(&findings));
    }

    #[test]
    fn format_version_and_description() {
        let mut t = good();
        t["AWSTemplateFormatVersion"] = json!("2010-09-10");
        t["Description"] = json!("é".repeat(513));
        let findings = run(&t, &["Env"]);
        assert_finding(
            &findings,
            "bad-format-version",
            "/AWSTemplateFormatVersion",
            "`2010-09-10`",
        );
        assert_finding(&findings, "bad-description", "/Description", "1026 bytes");
        assert_eq!(findings.len(), 2);

        t["AWSTemplateFormatVersion"] = json!(2010);
        t["Description"] = json!(["x"]);
        let findings = run(&t, &["Env"]);
        assert_finding(
            &findings,
            "bad-format-version",
            "/AWSTemplateFormatVersion",
            "`2010`",
        );
        assert_finding(
            &findings,
            "bad-description",
            "/Description",
            "must be a string",
        );

        t["Description"] = json!("x".repeat(1024));
        t["AWSTemplateFormatVersion"] = json!("2010-09-09");
        assert!(run(&t, &["Env"]).is_empty());
    }

    #[test]
    fn missing_or_empty_resources() {
        let findings = run(&json!({"Description": "x"}), &[]);
        assert_eq!(codes(&findings), ["missing-resources"]);
        assert_eq!(findings[0].pointer, "");
        let findings = run(&json!({"Resources": {}}), &[]);
        assert_finding(&findings, "missing-resources", "/Resources", "is empty");
        let findings = run(&json!({"Resources": []}), &[]);
        assert_finding(
            &findings,
            "missing-resources",
            "/Resources",
            "non-empty object",
        );
        assert_eq!(findings.len(), 1);
    }

    #[test]
    fn logical_ids() {
        let long = "A".repeat(256);
        let t = json!({
            "Parameters": {"my-param": {"Type": "String", "Default": ""}},
            "Mappings": {"map_1": {}},
            "Conditions": {"Is Prod": {"Fn::Equals": ["a", "b"]}},
            "Resources": {"Bücket": {"Type": "AWS::S3::Bucket"}, long.clone(): {"Type": "AWS::S3::Bucket"}, "": {"Type": "AWS::S3::Bucket"}},
            "Outputs": {"a/b": {"Value": "x"}}
        });
        let findings = run(&t, &[]);
        assert_finding(
            &findings,
            "bad-logical-id",
            "/Parameters/my-param",
            "parameter logical id `my-param`",
        );
        assert_finding(
            &findings,
            "bad-logical-id",
            "/Mappings/map_1",
            "mapping logical id",
        );
        assert_finding(
            &findings,
            "bad-logical-id",
            "/Conditions/Is Prod",
            "condition logical id",
        );
        assert_finding(
            &findings,
            "bad-logical-id",
            "/Resources/Bücket",
            "alphanumeric",
        );
        assert_finding(
            &findings,
            "bad-logical-id",
            &format!("/Resources/{long}"),
            "256 characters",
        );
        assert_finding(
            &findings,
            "bad-logical-id",
            "/Resources/",
            "must not be empty",
        );
        assert_finding(
            &findings,
            "bad-logical-id",
            "/Outputs/a~1b",
            "output logical id `a/b`",
        );
        assert_eq!(findings.len(), 7, "{:#?}", summary(&findings));
        let ok = "A".repeat(255);
        let t = json!({"Resources": {ok: {"Type": "AWS::S3::Bucket"}}});
        assert!(run(&t, &[]).is_empty());
    }

    #[test]
    fn resource_types() {
        for ok in [
            "AWS::S3::Bucket",
            "Custom::My_Thing@2-x",
            "Alexa::ASK::Skill",
            "Acme::Svc::Type1",
            "AWS::Serverless::Function",
            "Acme::S3::Bucket::MODULE",
        ] {
            assert!(is_resource_type(ok), "{ok}");
        }
        for bad in [
            "",
            "AWS::S3",
            "AWS::S3::",
            "::S3::Bucket",
            "AWS::S3::Bucket::Extra",
            "Custom::",
            "Custom::a b",
            "AWS::S-3::Bucket",
            "aws:s3:bucket",
            "AWS::S3::Bucket ",
        ] {
            assert!(!is_resource_type(bad), "{bad}");
        }
        let t = json!({"Resources": {
            "A": {"Type": "AWS::S3"},
            "B": {"Properties": {}},
            "C": {"Type": 3},
            "D": "AWS::S3::Bucket"
        }});
        let findings = run(&t, &[]);
        assert_finding(
            &findings,
            "bad-resource-type",
            "/Resources/A/Type",
            "`AWS::S3`",
        );
        assert_finding(
            &findings,
            "bad-resource-type",
            "/Resources/B",
            "has no `Type`",
        );
        assert_finding(
            &findings,
            "bad-resource-type",
            "/Resources/C/Type",
            "must be a string",
        );
        assert_finding(
            &findings,
            "bad-resource-type",
            "/Resources/D",
            "must be an object",
        );
        assert_eq!(findings.len(), 4, "{:#?}", summary(&findings));
    }

    #[test]
    fn resource_attributes() {
        let t = json!({"Resources": {"A": {
            "Type": "AWS::S3::Bucket",
            "Propertes": {},
            "DeletionPolicy": "Keep",
            "UpdateReplacePolicy": {"Fn::If": ["C", "Delete", "Retain"]},
            "Version": "1",
            "CreationPolicy": {}, "UpdatePolicy": {}, "Metadata": {}
        }}});
        let findings = run(&t, &[]);
        assert_finding(
            &findings,
            "unknown-resource-attribute",
            "/Resources/A/Propertes",
            "did you mean `Properties`?",
        );
        assert_finding(
            &findings,
            "bad-resource-attribute",
            "/Resources/A/DeletionPolicy",
            "`Keep`",
        );
        assert_finding(
            &findings,
            "bad-resource-attribute",
            "/Resources/A/UpdateReplacePolicy",
            "an object",
        );
        assert_finding(
            &findings,
            "unknown-resource-attribute",
            "/Resources/A/Version",
            "`Version`",
        );
        assert_eq!(findings.len(), 4, "{:#?}", summary(&findings));
        // Document order.
        assert_eq!(findings[0].pointer, "/Resources/A/Propertes");
        assert_eq!(findings[3].pointer, "/Resources/A/Version");
    }

    #[test]
    fn dangling_references() {
        let t = json!({
            "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
            "Conditions": {
                "IsProd": {"Fn::Equals": [{"Ref": "Envv"}, "prod"]},
                "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "IsDev"}]}
            },
            "Rules": {"R": {"Assertions": [{"Assert": {"Fn::Contains": [["a"], {"Ref": "Nope"}]}}]}},
            "Resources": {
                "Repo": {
                    "Type": "AWS::ECR::Repository",
                    "Condition": "IsProdd",
                    "DependsOn": ["Repo", "Bucket", 3],
                    "Properties": {
                        "Tags": [{"Key": "k", "Value": {"Ref": "Missing"}}],
                        "A": {"Fn::GetAtt": ["Bucket", "Arn"]},
                        "B": {"Fn::GetAtt": "Buckett.Arn.Deep"},
                        "C": {"Fn::Sub": "${Env}-${Nope}-${Repo.Arn}-${!Skip}-${Nope2.Attr}-${AWS::Region}"},
                        "D": {"Fn::Sub": ["${X}-${Y}", {"X": {"Ref": "Gone"}}]},
                        "E": {"Fn::If": ["Cond", {"Ref": "Env"}, {"Ref": "Gone2"}]},
                        "F": {"Fn::FindInMap": ["Map", "a", "b"]},
                        "G": {"Fn::FindInMap": [{"Ref": "Env"}, "a", "b"]},
                        "H": {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Ref": "Inside"}}},
                        "Condition": {"Ref": "Env"}
                    }
                }
            },
            "Outputs": {"O": {"Value": {"Ref": "Gone3"}, "Condition": "Nope", "Export": {"Name": {"Ref": "Gone4"}}}}
        });
        let findings = run(&t, &[]);
        let r = "/Resources/Repo";
        let p = "/Resources/Repo/Properties";
        let expected: Vec<(&str, String, &str)> = vec![
            ("dangling-ref", "/Conditions/IsProd/Fn::Equals/0/Ref".into(), "`Ref` to `Envv`, which is not a parameter, resource or pseudo parameter; did you mean `Env`?"),
            ("dangling-condition", "/Conditions/Both/Fn::And/1/Condition".into(), "condition `IsDev` is not declared"),
            ("dangling-ref", "/Rules/R/Assertions/0/Assert/Fn::Contains/1/Ref".into(), "`Nope`"),
            ("dangling-condition", format!("{r}/Condition"), "did you mean `IsProd`?"),
            ("dangling-depends-on", format!("{r}/DependsOn/0"), "depends on itself"),
            ("dangling-depends-on", format!("{r}/DependsOn/1"), "`DependsOn` names `Bucket`, which is not a resource"),
            ("bad-resource-attribute", format!("{r}/DependsOn/2"), "entries must be resource names"),
            ("dangling-ref", format!("{p}/Tags/0/Value/Ref"), "`Missing`"),
            ("dangling-getatt", format!("{p}/A/Fn::GetAtt/0"), "`Fn::GetAtt` on `Bucket`, which is not a resource"),
            ("dangling-getatt", format!("{p}/B/Fn::GetAtt"), "`Buckett`"),
            ("dangling-sub", format!("{p}/C/Fn::Sub"), "`${Nope}`"),
            ("dangling-sub", format!("{p}/C/Fn::Sub"), "`${Nope2.Attr}`, but `Nope2` is not"),
            ("dangling-sub", format!("{p}/D/Fn::Sub/0"), "`${Y}`"),
            ("dangling-ref", format!("{p}/D/Fn::Sub/1/X/Ref"), "`Gone`"),
            ("dangling-condition", format!("{p}/E/Fn::If/0"), "`Cond`"),
            ("dangling-ref", format!("{p}/E/Fn::If/2/Ref"), "`Gone2`"),
            ("dangling-mapping", format!("{p}/F/Fn::FindInMap/0"), "mapping `Map`, which is not declared in `Mappings`"),
            ("dangling-ref", "/Outputs/O/Value/Ref".into(), "`Gone3`"),
            ("dangling-condition", "/Outputs/O/Condition".into(), "`Nope`"),
            ("dangling-ref", "/Outputs/O/Export/Name/Ref".into(), "`Gone4`"),
        ];
        for (code, pointer, fragment) in &expected {
            assert_finding(&findings, code, pointer, fragment);
        }
        assert_eq!(findings.len(), expected.len(), "{:#?}", summary(&findings));
        // Stable document order.
        for (f, (code, pointer, _)) in findings.iter().zip(&expected) {
            assert_eq!((f.code, f.pointer.as_str()), (*code, pointer.as_str()));
        }
    }

    #[test]
    fn transform_skips_dangling_checks_but_not_others() {
        let t = json!({
            "Transform": "AWS::Serverless-2016-10-31",
            "Resources": {
                "Fn": {
                    "Type": "AWS::Serverless::Function",
                    "Condition": "Made",
                    "DependsOn": ["Fn", "Other"],
                    "DeletionPolicy": {"Fn::If": ["C", "Delete", "Retain"]},
                    "Properties": {"Role": {"Ref": "FnRole"}, "X": {"Fn::GetAtt": ["Made", "Arn"]},
                                   "Y": {"Fn::Sub": "${Made}"}, "Z": {"Fn::FindInMap": ["M", "a", "b"]}},
                    "Bogus": 1
                }
            },
            "Outputs": {"O": {}}
        });
        let findings = run(&t, &[]);
        assert_finding(
            &findings,
            "dangling-depends-on",
            "/Resources/Fn/DependsOn/0",
            "depends on itself",
        );
        assert_finding(
            &findings,
            "unknown-resource-attribute",
            "/Resources/Fn/Bogus",
            "`Bogus`",
        );
        assert_finding(&findings, "bad-output", "/Outputs/O", "has no `Value`");
        assert_eq!(findings.len(), 3, "{:#?}", summary(&findings));
    }

    #[test]
    fn conditions_key_only_checked_inside_conditions() {
        // In properties, a `Condition` key is data (an IAM statement's, say), not a reference.
        let t = json!({"Resources": {"P": {"Type": "AWS::IAM::Policy", "Properties": {
            "Doc": {"Condition": "NotACondition"},
            "Statement": [{"Condition": {"StringEquals": {"a": "b"}}}]
        }}}});
        assert!(run(&t, &[]).is_empty());
    }

    #[test]
    fn non_string_intrinsic_arguments_are_walked() {
        let t = json!({"Resources": {"A": {"Type": "AWS::S3::Bucket", "Properties": {
            "X": {"Fn::GetAtt": [{"Ref": "Nope1"}, "Arn"]},
            "Y": {"Fn::Sub": [{"Ref": "Nope2"}, {"V": "x"}]},
            "Z": {"Ref": {"Ref": "Nope3"}},
            "W": {"Fn::Join": ["", [{"Ref": "Nope4"}]]},
            "V": {"Fn::Sub": ["${V}", {"V": "x"}]},
            "U": {"Fn::GetAtt": ["A", {"Ref": "Nope5"}]}
        }}}});
        let findings = run(&t, &[]);
        let pointers: Vec<&str> = findings.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/Resources/A/Properties/X/Fn::GetAtt/0/Ref",
                "/Resources/A/Properties/Y/Fn::Sub/0/Ref",
                "/Resources/A/Properties/Z/Ref/Ref",
                "/Resources/A/Properties/W/Fn::Join/1/0/Ref",
                "/Resources/A/Properties/U/Fn::GetAtt/1/Ref",
            ],
            "{:#?}",
            summary(&findings)
        );
        assert!(findings.iter().all(|f| f.code == "dangling-ref"));
    }

    #[test]
    fn sub_reference_parsing() {
        assert_eq!(
            sub_references("a ${A} ${ B.C } ${!D} ${} ${E"),
            ["A", "B.C"]
        );
        assert_eq!(sub_references("${!A}${B}"), ["B"]);
        assert_eq!(sub_references("$${A}"), ["A"]);
        assert!(sub_references("no refs $ {A} {B}").is_empty());
        assert_eq!(sub_references("é${ü}é"), ["ü"]);
    }

    #[test]
    fn parameters_against_stack_config() {
        let t = json!({
            "Parameters": {
                "Env": {"Type": "String"},
                "Size": {"Type": "Number", "Default": 1},
                "Bad": "String",
                "NoType": {"Default": "x"},
                "NumType": {"Type": 1, "Default": "x"}
            },
            "Resources": {"A": {"Type": "AWS::S3::Bucket"}}
        });
        let findings = run(&t, &["Size", "Evn", "Other", "Other"]);
        assert_finding(
            &findings,
            "missing-parameter",
            "/Parameters/Env",
            "parameter `Env` has no `Default`, and the stack config does not pass it",
        );
        assert_finding(
            &findings,
            "bad-parameter",
            "/Parameters/Bad",
            "must be an object with a `Type`",
        );
        assert_finding(
            &findings,
            "bad-parameter",
            "/Parameters/NoType",
            "has no `Type`",
        );
        assert_finding(
            &findings,
            "bad-parameter",
            "/Parameters/NumType/Type",
            "must be a string",
        );
        assert_finding(&findings, "unknown-parameter", "/Parameters/Evn", "the stack config passes `Evn`, which the template does not declare; did you mean `Env`?");
        assert_finding(
            &findings,
            "unknown-parameter",
            "/Parameters/Other",
            "`Other`",
        );
        assert_eq!(findings.len(), 6, "{:#?}", summary(&findings));
        assert_eq!(findings[4].code, "unknown-parameter");

        let findings = run(&t, &["Env"]);
        assert!(!codes(&findings).contains(&"missing-parameter"));
        assert!(!codes(&findings).contains(&"unknown-parameter"));
    }

    #[test]
    fn provided_parameters_without_a_parameters_section() {
        let t = json!({"Resources": {"A": {"Type": "AWS::S3::Bucket"}}});
        let findings = run(&t, &["X/Y"]);
        assert_eq!(codes(&findings), ["unknown-parameter"]);
        assert_eq!(findings[0].pointer, "/Parameters/X~1Y");
    }

    #[test]
    fn outputs() {
        let t = json!({"Resources": {"A": {"Type": "AWS::S3::Bucket"}}, "Outputs": {
            "NoValue": {"Description": "x"},
            "BadExport": {"Value": "x", "Export": {"Value": "y"}},
            "ExportString": {"Value": "x", "Export": "name"},
            "NotObject": []
        }});
        let findings = run(&t, &[]);
        assert_finding(
            &findings,
            "bad-output",
            "/Outputs/NoValue",
            "has no `Value`",
        );
        assert_finding(
            &findings,
            "bad-output",
            "/Outputs/BadExport/Export",
            "needs a `Name`",
        );
        assert_finding(
            &findings,
            "bad-output",
            "/Outputs/ExportString/Export",
            "must be an object with a `Name`",
        );
        assert_finding(
            &findings,
            "bad-output",
            "/Outputs/NotObject",
            "must be an object with a `Value`",
        );
        assert_eq!(findings.len(), 4, "{:#?}", summary(&findings));
    }

    #[test]
    fn sections_of_the_wrong_type() {
        let t = json!({"Parameters": [], "Mappings": "x", "Conditions": 1, "Rules": null, "Outputs": true,
            "Resources": {"A": {"Type": "AWS::S3::Bucket"}}});
        let findings = run(&t, &[]);
        assert_eq!(codes(&findings), ["bad-section"; 5]);
        assert_finding(
            &findings,
            "bad-section",
            "/Parameters",
            "`Parameters` must be an object, not an array",
        );
        assert_finding(&findings, "bad-section", "/Outputs", "a boolean");
    }

    #[test]
    fn limits() {
        let mut resources = Map::new();
        for i in 0..501 {
            resources.insert(format!("R{i}"), json!({"Type": "AWS::SNS::Topic"}));
        }
        let mut parameters = Map::new();
        let mut outputs = Map::new();
        let mut mappings = Map::new();
        for i in 0..201 {
            parameters.insert(format!("P{i}"), json!({"Type": "String", "Default": ""}));
            outputs.insert(format!("O{i}"), json!({"Value": "x"}));
            mappings.insert(format!("M{i}"), json!({}));
        }
        let t = json!({"Parameters": parameters, "Mappings": mappings, "Resources": resources, "Outputs": outputs});
        let findings = run(&t, &[]);
        assert_eq!(
            codes(&findings),
            ["limit-exceeded"; 4],
            "{:#?}",
            summary(&findings)
        );
        assert_finding(
            &findings,
            "limit-exceeded",
            "/Resources",
            "501 resources; CloudFormation allows at most 500",
        );
        assert_finding(&findings, "limit-exceeded", "/Parameters", "201 parameters");
        assert_finding(&findings, "limit-exceeded", "/Outputs", "201 outputs");
        assert_finding(&findings, "limit-exceeded", "/Mappings", "201 mappings");
        assert!(findings.iter().all(|f| f.severity == Severity::Error));

        let mut t = t;
        if let Some(r) = t["Resources"].as_object_mut() {
            r.remove("R0");
        }
        let findings = run(&t, &[]);
        assert!(!findings.iter().any(|f| f.pointer == "/Resources"));
    }

    #[test]
    fn template_size() {
        let t = good();
        let provided = vec!["Env".to_owned()];
        let at = |size| {
            lint(&LintInput {
                template: &t,
                size_bytes: size,
                provided_parameters: &provided,
            })
        };
        assert!(at(INLINE_TEMPLATE_LIMIT).is_empty());
        let findings = at(INLINE_TEMPLATE_LIMIT + 1);
        assert_eq!(codes(&findings), ["template-size"]);
        assert_eq!(findings[0].severity, Severity::Warning);
        assert_eq!(
            findings[0].message,
            "the template is 51,201 bytes, over CloudFormation's 51,200-byte inline limit, and will be uploaded to S3 to deploy"
        );
        assert!(at(S3_TEMPLATE_LIMIT)[0].severity == Severity::Warning);
        let findings = at(S3_TEMPLATE_LIMIT + 1);
        assert_eq!(codes(&findings), ["template-size"]);
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(
            findings[0].message.contains("1,000,001 bytes"),
            "{}",
            findings[0].message
        );
        // Also reported for a template that is not an object.
        let v = json!(1);
        let findings = lint(&LintInput {
            template: &v,
            size_bytes: 60_000,
            provided_parameters: &[],
        });
        assert_eq!(codes(&findings), ["not-an-object", "template-size"]);
    }

    #[test]
    fn pointers_escape_tilde_and_slash() {
        let t = json!({"Resources": {"A": {"Type": "AWS::S3::Bucket", "Properties": {
            "a/b": {"c~d": {"Ref": "Nope"}}
        }}}});
        let findings = run(&t, &[]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].pointer, "/Resources/A/Properties/a~1b/c~0d/Ref");
    }

    #[test]
    fn deep_values_do_not_overflow_the_stack() {
        // Built by hand: `json!` would serialize (recursively) the value it is given.
        let mut v = json!({"Ref": "Nope"});
        for _ in 0..10_000 {
            v = Value::Array(vec![v]);
        }
        let mut properties = Map::new();
        properties.insert("X".to_owned(), v);
        let mut resource = Map::new();
        resource.insert("Type".to_owned(), json!("AWS::S3::Bucket"));
        resource.insert("Properties".to_owned(), Value::Object(properties));
        let mut resources = Map::new();
        resources.insert("A".to_owned(), Value::Object(resource));
        let mut root = Map::new();
        root.insert("Resources".to_owned(), Value::Object(resources));
        let t = Value::Object(root);
        let findings = run(&t, &[]);
        assert_eq!(codes(&findings), ["dangling-ref"]);
        assert_eq!(
            findings[0].pointer.len(),
            "/Resources/A/Properties/X".len() + 2 * 10_000 + 4
        );
        // Dropping a deep value recurses in serde_json; leak it instead of overflowing.
        std::mem::forget(t);
    }

    #[test]
    fn random_templates_never_panic() {
        let mut words: Vec<&str> = SECTIONS.to_vec();
        words.extend(RESOURCE_ATTRIBUTES);
        words.extend(PSEUDO_PARAMETERS);
        words.extend([
            "Ref",
            "Fn::GetAtt",
            "Fn::Sub",
            "Fn::If",
            "Fn::FindInMap",
            "Fn::Transform",
            "Condition",
            "A",
            "B",
            "A.Arn",
            "${A}",
            "${!A}",
            "${",
            "Value",
            "Export",
            "Name",
            "Default",
            "AWS::S3::Bucket",
            "Retain",
            "é/~",
            "",
        ]);
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut located = 0;
        for _ in 0..2000 {
            let template = rng.value(&words, 6);
            let provided = vec!["A".to_owned(), "Value".to_owned()];
            let findings = lint(&LintInput {
                template: &template,
                size_bytes: rng.below(2_000_000),
                provided_parameters: &provided,
            });
            let text = serde_json::to_string_pretty(&template).unwrap_or_default();
            located += findings.iter().filter(|f| f.pointer.len() > 1).count();
            for f in findings {
                assert!(f.pointer.is_empty() || f.pointer.starts_with('/'), "{f:?}");
                if f.code != "unknown-parameter" {
                    // Every pointer designates a value of the template, and can be found in its
                    // text.
                    assert!(template.pointer(&f.pointer).is_some(), "{f:?}");
                    assert!(
                        crate::locate::json_pointer_position(&text, &f.pointer).is_some(),
                        "{f:?} in {text}"
                    );
                }
                assert!(!f.message.is_empty());
                assert!(f.code.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            }
        }
        // The generator reaches deep enough to find problems below the root.
        assert!(located > 1000, "{located}");
    }
    #[test]
    fn helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(51_200), "51,200");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("é", "e"), 1);
        assert_eq!(
            closest_ignoring_case("Resorces", SECTIONS.iter().copied()),
            Some("Resources")
        );
        assert_eq!(closest_ignoring_case("A", ["B"].into_iter()), None);
        assert_eq!(
            closest_ignoring_case("Zzzzzz", SECTIONS.iter().copied()),
            None
        );
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(child("/x", "a~/b"), "/x/a~0~1b");
    }
}
