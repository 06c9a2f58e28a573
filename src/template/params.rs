//! What a template says about its parameters and needs: the parameter defaults as
//! CloudFormation receives values, the NoEcho parameters, and the capabilities it requires.
//!
//! Reads the template's JSON only; no project, rendering or AWS.

use indexmap::IndexMap;
use serde_json::Value;

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
