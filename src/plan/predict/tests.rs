//! Tests of `predict`: what is predicted (in-place updates, additions, removals, parameters
//! read by properties) and what is left to a change set, with the reason.

use indexmap::IndexMap;
use serde_json::{json, Value};

use super::predict;
use crate::aws::changeset::ResourceChange;
use crate::aws::cloudformation::StackInfo;
use crate::plan::compare::value_changes;
use crate::plan::diff::diff_templates;
use crate::plan::model::{PlanStatus, StackPlan};
use crate::testing::plan_inputs::{self, rendered, stack};

fn deployed() -> StackInfo {
    plan_inputs::deployed("UPDATE_COMPLETE")
}

fn params(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The prediction for a deployed stack moving from `old` (with `old_params`) to `new`.
fn update(
    old: &Value,
    old_params: &[(&str, &str)],
    new: &Value,
    new_params: &[(&str, &str)],
) -> Result<Vec<ResourceChange>, String> {
    let mut plan = StackPlan::empty("s", "us-east-1", PlanStatus::New);
    plan.template_changes = diff_templates(Some(old), new);
    plan.parameter_changes = value_changes(Some(params(old_params)), &params(new_params), &[]);
    predict(
        &stack(),
        &rendered(new, new_params),
        Some(&deployed()),
        Some(old),
        &plan,
    )
}

fn queue(properties: Value) -> Value {
    json!({"Parameters": {"Delay": {"Type": "Number"}},
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": properties}}})
}

fn summary(changes: &[ResourceChange]) -> Vec<String> {
    changes
        .iter()
        .map(|c| {
            let details: Vec<String> = c
                .details
                .iter()
                .map(|d| {
                    format!(
                        "{}.{}<{}{}>",
                        d.attribute.as_deref().unwrap_or(""),
                        d.name.as_deref().unwrap_or(""),
                        d.change_source.as_deref().unwrap_or(""),
                        d.causing_entity
                            .as_deref()
                            .map(|e| format!(" {e}"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            format!(
                "{} {} {} {} [{}] {}",
                c.action,
                c.logical_id,
                c.resource_type,
                c.replacement.as_deref().unwrap_or("-"),
                c.scope.join(","),
                details.join(" ")
            )
        })
        .collect()
}

#[test]
fn a_parameter_read_by_a_mutable_property_modifies_in_place() {
    let t = queue(json!({"DelaySeconds": {"Ref": "Delay"}}));
    let changes = update(&t, &[("Delay", "0")], &t, &[("Delay", "5")]).unwrap();
    assert_eq!(
        summary(&changes),
        ["Modify Queue AWS::SQS::Queue False [Properties] Properties.DelaySeconds<ParameterReference Delay>"]
    );
}

#[test]
fn direct_changes_additions_and_removals_are_predicted() {
    let old = json!({"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 0,
            "Tags": [{"Key": "team", "Value": "a"}]}},
        "Topic": {"Type": "AWS::SNS::Topic"}}});
    let new = json!({"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 5,
            "Tags": [{"Key": "team", "Value": "b"}]},
            "Metadata": {"note": "x"}},
        "Log": {"Type": "AWS::Logs::LogGroup"}},
        "Outputs": {"Url": {"Value": {"Ref": "Queue"}}},
        "Description": "queues"});
    let changes = update(&old, &[], &new, &[]).unwrap();
    assert_eq!(
        summary(&changes),
        [
            "Add Log AWS::Logs::LogGroup - [] ",
            "Modify Queue AWS::SQS::Queue False [Metadata,Properties,Tags] Metadata.<DirectModification> Properties.DelaySeconds<DirectModification> Tags.<DirectModification>",
            "Remove Topic AWS::SNS::Topic - [] ",
        ]
    );
}

#[test]
fn a_new_stack_adds_every_resource() {
    let t = queue(json!({"DelaySeconds": {"Ref": "Delay"}}));
    let mut plan = StackPlan::empty("s", "us-east-1", PlanStatus::New);
    plan.template_changes = diff_templates(None, &t);
    let changes = predict(
        &stack(),
        &rendered(&t, &[("Delay", "1")]),
        None,
        None,
        &plan,
    )
    .unwrap();
    assert_eq!(summary(&changes), ["Add Queue AWS::SQS::Queue - [] "]);
    // A transform expands into resources only CloudFormation knows.
    let sam = json!({"Transform": "AWS::Serverless-2016-10-31", "Resources": {}});
    plan.template_changes = diff_templates(None, &sam);
    let why = predict(&stack(), &rendered(&sam, &[]), None, None, &plan).unwrap_err();
    assert!(why.contains("transform"), "{why}");
}

#[test]
fn what_may_replace_is_left_to_the_change_set() {
    let why = |old: Value, op: &[(&str, &str)], new: Value, np: &[(&str, &str)]| {
        update(&old, op, &new, np).unwrap_err()
    };
    // A create-only property of the schema, changed directly or through a parameter.
    let named = |n: &str| queue(json!({"QueueName": n}));
    assert!(why(named("a"), &[], named("b"), &[]).contains("`Queue`'s `QueueName` changes"));
    let by_param = queue(json!({"QueueName": {"Ref": "Delay"}}));
    let w = why(
        by_param.clone(),
        &[("Delay", "1")],
        by_param,
        &[("Delay", "2")],
    );
    assert!(w.contains("sets `Queue`'s `QueueName`"), "{w}");
    // A nested create-only path (DynamoDB's KeySchema) under a changed property.
    let table = |attr: &str| {
        json!({"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "KeySchema": [{"AttributeName": attr, "KeyType": "HASH"}]}}}})
    };
    assert!(why(table("a"), &[], table("b"), &[]).contains("KeySchema"));
    // The type changes.
    let typed = |t: &str| json!({"Resources": {"X": {"Type": t}}});
    assert!(why(typed("AWS::SNS::Topic"), &[], typed("AWS::SQS::Queue"), &[]).contains("type"));
    // A type without a schema.
    let custom =
        |v: i64| json!({"Resources": {"C": {"Type": "Custom::Thing", "Properties": {"V": v}}}});
    assert!(why(custom(1), &[], custom(2), &[]).contains("custom resource"));
    let third = |v: i64| json!({"Resources": {"M": {"Type": "Acme::Thing::Widget", "Properties": {"V": v}}}});
    assert!(why(third(1), &[], third(2), &[]).contains("resource schema little does not have"));
    let provided = |v: i64| {
        json!({"Resources": {"C": {"Type": "AWS::CloudFormation::CustomResource",
            "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:1:function:f", "V": v}}}})
    };
    assert!(why(provided(1), &[], provided(2), &[]).contains("custom resource"));
    // Another attribute than Properties and Metadata.
    let kept =
        |p: &str| json!({"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "DeletionPolicy": p}}});
    assert!(why(kept("Delete"), &[], kept("Retain"), &[]).contains("`DeletionPolicy`"));
    // Conditions and mappings may add or remove resources; so may a parameter they read.
    let cond = |v: &str| {
        json!({"Parameters": {"Delay": {"Type": "Number"}},
            "Conditions": {"Slow": {"Fn::Equals": [{"Ref": "Delay"}, v]}},
            "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Condition": "Slow"}}})
    };
    assert!(why(cond("1"), &[], cond("2"), &[]).contains("`Conditions`"));
    let c = cond("1");
    assert!(
        why(c.clone(), &[("Delay", "1")], c, &[("Delay", "2")]).contains("`Conditions` read it")
    );
    // A create-only property that reads a resource modified in place.
    let pair = |delay: i64| {
        json!({"Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": delay}},
            "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {
                "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]}, "Protocol": "sqs", "TopicArn": "t"}}}})
    };
    let w = why(pair(0), &[], pair(5), &[]);
    assert!(
        w.contains("`Sub`'s create-only property `Endpoint` reads `Queue`"),
        "{w}"
    );
    // Stack tags reach the resources.
    let t = queue(json!({}));
    let mut plan = StackPlan::empty("s", "us-east-1", PlanStatus::New);
    plan.tag_changes = value_changes(Some(params(&[])), &params(&[("team", "a")]), &[]);
    let w = predict(
        &stack(),
        &rendered(&t, &[]),
        Some(&deployed()),
        Some(&t),
        &plan,
    )
    .unwrap_err();
    assert!(w.contains("tags"), "{w}");
    // What the comparison cannot see (comparable) stays with the change set.
    let dynamic = queue(json!({"DelaySeconds": "{{resolve:ssm:delay}}"}));
    assert!(why(queue(json!({})), &[], dynamic, &[]).contains("dynamic references"));
}

#[test]
fn a_mutable_property_that_reads_a_changing_resource_is_predicted() {
    // A policy's Queues list reads the queue, which changes in place: no replacement anywhere.
    let pair = |delay: i64| {
        json!({"Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": delay}},
            "Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
                "Queues": [{"Ref": "Queue"}], "PolicyDocument": {"Statement": []}}}}})
    };
    let changes = update(&pair(0), &[], &pair(5), &[]).unwrap();
    assert_eq!(
        summary(&changes),
        ["Modify Queue AWS::SQS::Queue False [Properties] Properties.DelaySeconds<DirectModification>"]
    );
}
