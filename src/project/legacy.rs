//! little-automation's `stackParams.json` format, read as it is so that its users can move over
//! without rewriting their configs. Converts into the native [`StackFile`].

use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;

use super::config::{parse_json, ParamValue, Scalar, StackFile};
use crate::diag::Diagnostic;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StackParams {
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    #[serde(rename = "StackName")]
    stack_name: String,
    #[serde(rename = "Parameters", default)]
    parameters: Vec<Parameter>,
    #[serde(rename = "Tags", default)]
    tags: Vec<Tag>,
    #[serde(rename = "Capabilities", default)]
    capabilities: Vec<String>,
    #[serde(rename = "EnableTerminationProtection")]
    termination_protection: Option<bool>,
    #[serde(rename = "TimeoutInMinutes")]
    timeout_in_minutes: Option<u32>,
    #[serde(rename = "Littleware")]
    littleware: Littleware,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Parameter {
    #[serde(rename = "ParameterKey")]
    key: String,
    #[serde(rename = "ParameterValue")]
    value: Scalar,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tag {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Value")]
    value: Scalar,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Littleware {
    #[serde(rename = "TemplatePath")]
    template_path: String,
    #[serde(rename = "Variables", default)]
    variables: serde_json::Map<String, serde_json::Value>,
    #[serde(rename = "Region")]
    region: Option<String>,
    #[serde(rename = "DependsOn", default)]
    depends_on: Vec<String>,
}

/// Parses a `stackParams.json` into a native stack config.
pub fn parse(file: &Path, text: &str) -> Result<StackFile, Diagnostic> {
    let p: StackParams = parse_json(file, text)?;
    Ok(StackFile {
        name: p.stack_name,
        template: p.littleware.template_path,
        region: p.littleware.region,
        account: None,
        termination_protection: p.termination_protection,
        capabilities: p.capabilities,
        depends_on: p.littleware.depends_on,
        parameters: p
            .parameters
            .into_iter()
            .map(|x| (x.key, ParamValue::Scalar(x.value)))
            .collect::<IndexMap<_, _>>(),
        tags: p.tags.into_iter().map(|t| (t.key, t.value)).collect(),
        variables: p.littleware.variables,
        timeout_in_minutes: p.timeout_in_minutes,
        description: None,
        stack_policy: None,
        notification_arns: Vec::new(),
        role_arn: None,
        stack_set: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_origin_format() {
        let text = r#"{
          "StackName": "ecr-repos",
          "Parameters": [{"ParameterKey": "Env", "ParameterValue": "dev"}],
          "Tags": [{"Key": "team", "Value": "platform"}],
          "Capabilities": ["CAPABILITY_IAM"],
          "EnableTerminationProtection": true,
          "TimeoutInMinutes": 30,
          "Littleware": {"TemplatePath": "ecr.json.njk", "Variables": {"repos": ["a"]}}
        }"#;
        let s = parse(Path::new("stackParams.json"), text).unwrap();
        assert_eq!(s.name, "ecr-repos");
        assert_eq!(s.template, "ecr.json.njk");
        assert_eq!(s.parameters["Env"].to_cfn_string(), "dev");
        assert_eq!(s.tags["team"].to_string(), "platform");
        assert_eq!(s.termination_protection, Some(true));
        assert_eq!(s.timeout_in_minutes, Some(30));
        assert_eq!(s.variables["repos"][0], "a");
    }

    #[test]
    fn unknown_keys_are_errors_with_a_line() {
        let text = "{\n  \"StackName\": \"x\",\n  \"Bogus\": 1,\n  \"Littleware\": {\"TemplatePath\": \"t\"}\n}";
        let d = parse(Path::new("stackParams.json"), text).unwrap_err();
        assert_eq!(d.code, "unknown-key");
        assert_eq!(d.location.unwrap().line, Some(3));
    }
}
