//! Structural lint of a rendered CloudFormation template: the checks CloudFormation itself would
//! make when the template is validated or a change set is created (sections, logical ids,
//! resource types and attributes, references between names, parameters against the stack
//! config, service limits and template size), made offline so that `validate` fails early.
//!
//! With `resource_schemas` on, `schema` also checks resources against CloudFormation's resource
//! provider schemas (types, properties, values, `Fn::GetAtt` attributes). The linter does not
//! evaluate intrinsic functions or conditions (a function is taken as written), and it does not
//! locate findings in source text (see `locate`); each finding carries an RFC 6901 pointer into
//! the template instead.
//!
//! Here: the entry point, the names a template declares, and the `Linter` with its findings.
//! Its checks are split by what they read: `sections` (the template's top-level sections,
//! limits and size), `resources` (resources and their attributes), `refs` (the walk over
//! values: `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::FindInMap`, conditions) and `schema` (resources
//! against their types' schemas).

mod refs;
mod resources;
mod schema;
mod sections;

use crate::diag::Severity;
use crate::template::params::{parameter_kind, ParameterKind};
use crate::text::{child, closest_ignoring_case, type_name};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

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

impl LintFinding {
    /// Whether the finding is about a key rather than its value (a key that should not be
    /// there): its position is the key's.
    pub fn names_a_key(&self) -> bool {
        matches!(
            self.code,
            "unknown-property"
                | "read-only-property"
                | "unknown-resource-attribute"
                | "unknown-section"
                | "exclusive-properties"
        )
    }
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
    /// Whether to check resources against CloudFormation's resource schemas (`schema`).
    pub resource_schemas: bool,
    /// The regions the template is deployed to (a stack's region, a StackSet's regions), for
    /// resource types a region lacks; empty when unknown.
    pub regions: &'a [String],
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
        resource_schemas: input.resource_schemas,
        regions: input.regions,
        used: HashSet::new(),
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
    /// Each resource's `Type`, where it is a string.
    resource_types: HashMap<&'t str, &'t str>,
    /// Each parameter's `Type`, where it is a string.
    parameter_types: HashMap<&'t str, &'t str>,
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
        let resource_types = match root.get("Resources") {
            Some(Value::Object(m)) => m
                .iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.get("Type")?.as_str()?)))
                .collect(),
            _ => HashMap::new(),
        };
        let parameter_types = match root.get("Parameters") {
            Some(Value::Object(m)) => m
                .iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.get("Type")?.as_str()?)))
                .collect(),
            _ => HashMap::new(),
        };
        Names {
            resource_types,
            parameter_types,
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

    /// Whether `Ref` of `name` gives a list: a list-typed parameter, or the pseudo parameter
    /// `AWS::NotificationARNs`.
    fn is_list(&self, name: &str) -> bool {
        name == "AWS::NotificationARNs"
            || self
                .parameter_types
                .get(name)
                .and_then(|t| parameter_kind(t))
                == Some(ParameterKind::List)
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
    /// Whether to check resources against their schemas.
    resource_schemas: bool,
    regions: &'t [String],
    /// The parameters, conditions and mappings something refers to, for the warnings about
    /// ones nothing uses.
    used: HashSet<String>,
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

    /// Something CloudFormation accepts but that is probably a mistake.
    fn warning(&mut self, code: &'static str, pointer: &str, message: String) {
        self.findings.push(LintFinding {
            severity: Severity::Warning,
            code,
            message,
            pointer: pointer.to_owned(),
        });
    }

    /// Warnings about parameters, conditions and mappings that nothing uses (a template with a
    /// `Transform` is not judged: its macros may use them).
    fn unused(&mut self) {
        if !self.check_dangling {
            return;
        }
        let sections = [
            ("Parameters", "parameter", &self.names.parameters),
            ("Conditions", "condition", &self.names.conditions),
            ("Mappings", "mapping", &self.names.mappings),
        ];
        let mut found = Vec::new();
        for (section, what, names) in sections {
            for name in names.iter().filter(|n| !self.used.contains(**n)) {
                found.push((
                    child(&child("", section), name),
                    format!("{what} `{name}` is declared but not used"),
                    what,
                ));
            }
        }
        for (pointer, message, what) in found {
            let code = match what {
                "parameter" => "unused-parameter",
                "condition" => "unused-condition",
                _ => "unused-mapping",
            };
            self.warning(code, &pointer, message);
        }
    }
}

/// "; did you mean `X`?" for the closest candidate, or nothing.
fn hint<'n>(name: &str, candidates: impl Iterator<Item = &'n str>) -> String {
    closest_ignoring_case(name, candidates)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
