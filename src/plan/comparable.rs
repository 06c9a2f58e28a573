//! Whether the comparison of a deployed stack with what would be deployed tells the whole
//! truth. A stack whose template, parameters (template defaults applied), tags, termination
//! protection and stack policy mean what is deployed is unchanged, and needs no change set,
//! unless something decides the outcome that the comparison cannot see: [`uncompared`] names
//! the first such thing, and the plan then asks CloudFormation with a change set, as it does
//! for every changed stack. Safety first: when in doubt, the change set decides.
//!
//! Pure: reads the rendered stack, its config and what DescribeStacks returned; no AWS call.
//! The comparison itself is `compare` and `diff`; what a plan does with the answer is `run`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::aws::cloudformation::StackInfo;
use crate::project::Stack;
use crate::render::Rendered;
use crate::template::params::no_echo_parameters;

use super::compare::effective_parameters;

/// Why the comparison cannot say that the stack is unchanged, or None when it can. Asked of a
/// deployed stack whose comparison found no change, and by `predict` of one whose comparison
/// found changes (the same blind spots hide what they would do); `old_template` is the
/// deployed one.
pub fn uncompared(
    stack: &Stack,
    rendered: &Rendered,
    deployed: &StackInfo,
    old_template: &Value,
) -> Option<String> {
    let template = &rendered.template;
    let effective = effective_parameters(rendered);
    // DescribeStacks answers `****` for a NoEcho value, whatever it is. A value the config
    // sets may differ from the deployed one; so may a template default, since a stack deployed
    // by other means may have been given another value, which an update without the parameter
    // would reset to the default. Only CloudFormation can compare them.
    if let Some(key) = no_echo_parameters(template)
        .into_iter()
        .find(|k| effective.contains_key(k))
    {
        return Some(format!(
            "the NoEcho parameter `{key}` reads back as `****`, so only CloudFormation can compare it"
        ));
    }
    // An SSM parameter type is resolved at each update: the value it names may have changed.
    if let Some(key) = ssm_parameters(template)
        .into_iter()
        .find(|k| effective.contains_key(k))
    {
        return Some(format!(
            "the parameter `{key}` is resolved from Systems Manager when the stack is updated"
        ));
    }
    for (t, which) in [(template, "template"), (old_template, "deployed template")] {
        if t.get("Transform").is_some() || holds_key(t, "Fn::Transform") {
            return Some(format!(
                "the {which} has a transform, which CloudFormation expands when it deploys"
            ));
        }
    }
    if let Some(id) = nested_template(template) {
        return Some(format!(
            "`{id}` deploys a template from a URL, whose content the comparison cannot see"
        ));
    }
    if holds_text(template, "{{resolve:") {
        return Some(
            "the template has dynamic references (`{{resolve:...}}`), resolved when the stack is updated"
                .into(),
        );
    }
    // A change set sends the configured role (none: the stack keeps its own) and the
    // configured notification topics (none: it removes the deployed ones).
    if let Some(role) = &stack.role_arn {
        if deployed.role_arn.as_deref() != Some(role.as_str()) {
            return Some(format!(
                "the stack's service role would change from {} to {role}",
                deployed.role_arn.as_deref().unwrap_or("none")
            ));
        }
    }
    let topics = |l: &[String]| l.iter().cloned().collect::<BTreeSet<String>>();
    if topics(&stack.notification_arns) != topics(&deployed.notification_arns) {
        return Some("the stack's notification topics would change".into());
    }
    None
}

/// The parameters declared with an `AWS::SSM::Parameter::...` type.
fn ssm_parameters(template: &Value) -> Vec<String> {
    template
        .get("Parameters")
        .and_then(Value::as_object)
        .map(|params| {
            params
                .iter()
                .filter(|(_, p)| {
                    p.get("Type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.starts_with("AWS::SSM::Parameter::"))
                })
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// A nested stack, or any resource that takes its template from a URL.
fn nested_template(template: &Value) -> Option<String> {
    let resources = template.get("Resources")?.as_object()?;
    resources
        .iter()
        .find(|(_, r)| {
            r.get("Type").and_then(Value::as_str) == Some("AWS::CloudFormation::Stack")
                || r.get("Properties")
                    .and_then(|p| p.get("TemplateURL"))
                    .is_some()
        })
        .map(|(id, _)| id.clone())
}

/// Whether an object key `key` appears anywhere in `v`.
fn holds_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(m) => m.contains_key(key) || m.values().any(|c| holds_key(c, key)),
        Value::Array(items) => items.iter().any(|c| holds_key(c, key)),
        _ => false,
    }
}

/// Whether a string anywhere in `v` contains `text`.
fn holds_text(v: &Value, text: &str) -> bool {
    match v {
        Value::String(s) => s.contains(text),
        Value::Object(m) => m.values().any(|c| holds_text(c, text)),
        Value::Array(items) => items.iter().any(|c| holds_text(c, text)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::plan_inputs::{self, rendered, stack};
    use serde_json::json;

    fn deployed() -> StackInfo {
        plan_inputs::deployed("CREATE_COMPLETE")
    }

    const QUEUE: &str = "AWS::SQS::Queue";

    #[test]
    fn a_plain_template_is_compared_in_full() {
        let t = json!({"Parameters": {"Env": {"Type": "String", "Default": "dev"}},
            "Resources": {"Q": {"Type": QUEUE}}});
        assert_eq!(
            uncompared(&stack(), &rendered(&t, &[]), &deployed(), &t),
            None
        );
    }

    #[test]
    fn what_a_comparison_cannot_see_needs_a_change_set() {
        let s = stack();
        let d = deployed();
        let reason = |t: Value, params: &[(&str, &str)]| {
            uncompared(&s, &rendered(&t, params), &d, &t).unwrap_or_default()
        };
        let no_echo = json!({"Parameters": {"Token": {"Type": "String", "NoEcho": true}},
            "Resources": {"Q": {"Type": QUEUE}}});
        assert!(reason(no_echo.clone(), &[("Token", "x")]).contains("NoEcho parameter `Token`"));
        // Declared but given no value: nothing to compare, nothing sent.
        assert_eq!(reason(no_echo, &[]), "");
        let defaulted = json!({"Parameters": {"Token": {"Type": "String", "NoEcho": "true", "Default": "d"}},
            "Resources": {}});
        assert!(reason(defaulted, &[]).contains("NoEcho"));
        let ssm = json!({"Parameters": {"Ami": {"Type": "AWS::SSM::Parameter::Value<String>"}},
            "Resources": {}});
        assert!(reason(ssm, &[("Ami", "/ami/latest")]).contains("Systems Manager"));
        assert!(reason(
            json!({"Transform": "AWS::Serverless-2016-10-31", "Resources": {}}),
            &[]
        )
        .contains("transform"));
        assert!(reason(
            json!({"Resources": {"Q": {"Type": QUEUE, "Properties": {"Fn::Transform": {"Name": "AWS::Include"}}}}}),
            &[]
        )
        .contains("transform"));
        assert!(reason(
            json!({"Resources": {"N": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://x"}}}}),
            &[]
        )
        .contains("`N` deploys a template from a URL"));
        assert!(reason(
            json!({"Resources": {"Q": {"Type": QUEUE, "Properties": {"QueueName": "{{resolve:ssm:/name}}"}}}}),
            &[]
        )
        .contains("dynamic references"));
        // The deployed template's transform counts too.
        let plain = json!({"Resources": {}});
        let old = json!({"Transform": "AWS::Serverless-2016-10-31", "Resources": {}});
        assert!(uncompared(&s, &rendered(&plain, &[]), &d, &old)
            .unwrap()
            .contains("deployed template has a transform"));
    }

    #[test]
    fn a_role_or_topics_the_change_set_would_change() {
        let t = json!({"Resources": {}});
        let r = rendered(&t, &[]);
        let mut s = stack();
        let mut d = deployed();
        // No role configured: the stack keeps its own.
        d.role_arn = Some("arn:aws:iam::123456789012:role/cfn".into());
        assert_eq!(uncompared(&s, &r, &d, &t), None);
        s.role_arn = Some("arn:aws:iam::123456789012:role/cfn".into());
        assert_eq!(uncompared(&s, &r, &d, &t), None);
        s.role_arn = Some("arn:aws:iam::123456789012:role/other".into());
        assert!(uncompared(&s, &r, &d, &t)
            .unwrap()
            .contains("service role would change"));
        s.role_arn = d.role_arn.clone();
        // Topics: the configured list replaces the deployed one, in any order.
        d.notification_arns = vec!["arn:aws:sns:us-east-1:123456789012:a".into()];
        assert!(uncompared(&s, &r, &d, &t)
            .unwrap()
            .contains("notification topics"));
        s.notification_arns = d.notification_arns.clone();
        assert_eq!(uncompared(&s, &r, &d, &t), None);
    }
}
