//! What a template says about its parameters and needs: the parameter defaults as
//! CloudFormation receives values, the NoEcho parameters, the capabilities it requires, and
//! the parameter types CloudFormation knows (and which of them are lists).
//!
//! Reads the template's JSON only; no project, rendering or AWS.

use indexmap::IndexMap;
use serde_json::Value;

/// The AWS-specific parameter types whose values are ids or names of one kind, each also
/// accepted as `List<...>` and inside `AWS::SSM::Parameter::Value<...>`.
const AWS_ID_TYPES: &[&str] = &[
    "AWS::EC2::AvailabilityZone::Name",
    "AWS::EC2::Image::Id",
    "AWS::EC2::Instance::Id",
    "AWS::EC2::SecurityGroup::GroupName",
    "AWS::EC2::SecurityGroup::Id",
    "AWS::EC2::Subnet::Id",
    "AWS::EC2::VPC::Id",
    "AWS::EC2::Volume::Id",
    "AWS::Route53::HostedZone::Id",
];

/// What a parameter of a type holds once resolved: one value, or a list of values (which
/// `Ref` gives as a list, and `Fn::Sub` cannot take).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterKind {
    Scalar,
    List,
}

/// The kind of a parameter type CloudFormation accepts; `None` for a type it rejects. As
/// CloudFormation does (and cfn-lint with it), any `List<...>` and any
/// `AWS::SSM::Parameter::Value<...>` is accepted, documented or not.
pub fn parameter_kind(type_name: &str) -> Option<ParameterKind> {
    const SSM: &str = "AWS::SSM::Parameter::Value<";
    if let Some(inner) = type_name
        .strip_prefix(SSM)
        .and_then(|t| t.strip_suffix('>'))
    {
        let list = inner == "CommaDelimitedList" || inner.starts_with("List<");
        return Some(if list {
            ParameterKind::List
        } else {
            ParameterKind::Scalar
        });
    }
    if type_name == "CommaDelimitedList"
        || (type_name.starts_with("List<") && type_name.ends_with('>'))
    {
        return Some(ParameterKind::List);
    }
    let scalar = matches!(
        type_name,
        "String" | "Number" | "AWS::EC2::KeyPair::KeyName" | "AWS::SSM::Parameter::Name"
    ) || AWS_ID_TYPES.contains(&type_name);
    scalar.then_some(ParameterKind::Scalar)
}

/// The documented parameter types, for a did-you-mean.
pub fn parameter_types() -> impl Iterator<Item = String> {
    let plain = [
        "String",
        "Number",
        "CommaDelimitedList",
        "List<Number>",
        "List<String>",
    ];
    let singles = AWS_ID_TYPES
        .iter()
        .copied()
        .chain(["AWS::EC2::KeyPair::KeyName", "AWS::SSM::Parameter::Name"]);
    plain
        .into_iter()
        .map(str::to_owned)
        .chain(singles.clone().map(str::to_owned))
        .chain(AWS_ID_TYPES.iter().map(|t| format!("List<{t}>")))
        .chain(
            ["String", "Number", "CommaDelimitedList", "List<String>"]
                .into_iter()
                .map(str::to_owned)
                .chain(singles.map(str::to_owned))
                .map(|t| format!("AWS::SSM::Parameter::Value<{t}>")),
        )
}

/// The template's parameter defaults, as CloudFormation receives values.
pub fn template_defaults(template: &Value) -> IndexMap<String, String> {
    let mut out = IndexMap::new();
    if let Some(params) = template.get("Parameters").and_then(Value::as_object) {
        for (k, p) in params {
            if let Some(d) = p.get("Default") {
                out.insert(k.clone(), scalar_text(d));
            }
        }
    }
    out
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Names of the template's NoEcho parameters.
pub fn no_echo_parameters(template: &Value) -> Vec<String> {
    template
        .get("Parameters")
        .and_then(Value::as_object)
        .map(|params| {
            params
                .iter()
                .filter(|(_, p)| {
                    matches!(p.get("NoEcho"), Some(Value::Bool(true)))
                        || p.get("NoEcho").and_then(Value::as_str) == Some("true")
                })
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The capabilities a template needs, with the ones the config lists.
pub fn required_capabilities(template: &Value, configured: &[String]) -> Vec<String> {
    let mut caps: Vec<String> = configured.to_vec();
    let mut add = |c: &str| {
        if !caps.iter().any(|x| x == c) {
            caps.push(c.to_owned());
        }
    };
    if template.get("Transform").is_some() {
        add("CAPABILITY_AUTO_EXPAND");
    }
    if let Some(resources) = template.get("Resources").and_then(Value::as_object) {
        for r in resources.values() {
            let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
            if ty == "AWS::CloudFormation::Macro" || ty == "AWS::Serverless::Application" {
                add("CAPABILITY_AUTO_EXPAND");
            }
            if ty.starts_with("AWS::IAM::") {
                let props = r.get("Properties");
                let named = [
                    "RoleName",
                    "ManagedPolicyName",
                    "UserName",
                    "GroupName",
                    "InstanceProfileName",
                ]
                .iter()
                .any(|k| props.and_then(|p| p.get(*k)).is_some());
                if named {
                    add("CAPABILITY_NAMED_IAM");
                } else {
                    add("CAPABILITY_IAM");
                }
            }
        }
    }
    if caps.iter().any(|c| c == "CAPABILITY_NAMED_IAM") {
        caps.retain(|c| c != "CAPABILITY_IAM");
    }
    caps.sort();
    caps
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameter_types_and_their_kinds() {
        use super::{parameter_kind, parameter_types, ParameterKind::*};
        for t in [
            "String",
            "Number",
            "AWS::EC2::VPC::Id",
            "AWS::SSM::Parameter::Name",
        ] {
            assert_eq!(parameter_kind(t), Some(Scalar), "{t}");
        }
        for t in [
            "CommaDelimitedList",
            "List<Number>",
            "List<AWS::EC2::Subnet::Id>",
            "AWS::SSM::Parameter::Value<List<String>>",
            "AWS::SSM::Parameter::Value<CommaDelimitedList>",
        ] {
            assert_eq!(parameter_kind(t), Some(List), "{t}");
        }
        assert_eq!(
            parameter_kind("AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"),
            Some(Scalar)
        );
        for t in ["Strin", "string", "List", "AWS::EC2::VPC", "Integer", ""] {
            assert_eq!(parameter_kind(t), None, "{t}");
        }
        // Every documented type is accepted.
        let all: Vec<String> = parameter_types().collect();
        assert!(all.len() > 30, "{}", all.len());
        assert!(all.iter().all(|t| parameter_kind(t).is_some()));
    }

    #[test]
    fn capabilities_from_the_template() {
        let t = json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {}}}});
        assert_eq!(required_capabilities(&t, &[]), ["CAPABILITY_IAM"]);
        let t = json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}}}, "Transform": "AWS::Serverless-2016-10-31"});
        assert_eq!(
            required_capabilities(&t, &["CAPABILITY_IAM".into()]),
            ["CAPABILITY_AUTO_EXPAND", "CAPABILITY_NAMED_IAM"]
        );
    }
}
