//! Unit tests of the semantic template diff and the formatting-only differences.

use super::*;
use serde_json::json;

fn template(resources: Value) -> Value {
    json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
}

fn paths(changes: &[PropertyChange]) -> Vec<(&str, ChangeKind)> {
    changes.iter().map(|c| (c.path.as_str(), c.kind)).collect()
}

/// The changes of the one modified resource.
fn resource_changes_of(old: Value, new: Value) -> Vec<PropertyChange> {
    let d = diff_templates(Some(&template(old)), &template(new));
    assert_eq!(d.resources.len(), 1, "{d:#?}");
    assert_eq!(d.resources[0].kind, ChangeKind::Modified);
    d.resources[0].changes.clone()
}

fn assert_no_diff(old: Value, new: Value) {
    let d = diff_templates(Some(&old), &new);
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn reordered_keys_are_no_change() {
    let old = json!({"Resources": {"R": {"Type": "AWS::S3::Bucket", "Properties": {"A": 1, "B": {"x": 1, "y": 2}}}}, "Outputs": {"O": {"Value": "v", "Description": "d"}}});
    let new = json!({"Outputs": {"O": {"Description": "d", "Value": "v"}}, "Resources": {"R": {"Properties": {"B": {"y": 2, "x": 1}, "A": 1}, "Type": "AWS::S3::Bucket"}}});
    assert_no_diff(old, new);
}

#[test]
fn number_and_boolean_formatting_is_no_change() {
    let old = template(
        json!({"R": {"Type": "T", "Properties": {"A": 1.0, "B": "5", "C": true, "D": [1, 2.50]}}}),
    );
    let new = template(
        json!({"R": {"Type": "T", "Properties": {"A": 1, "B": 5, "C": "true", "D": ["1", 2.5]}}}),
    );
    assert_no_diff(old, new);
}

#[test]
fn different_numbers_are_a_change() {
    let c = resource_changes_of(
        json!({"R": {"Type": "T", "Properties": {"A": 1, "V": "1.10"}}}),
        json!({"R": {"Type": "T", "Properties": {"A": 1.5, "V": "1.1"}}}),
    );
    assert_eq!(
        paths(&c),
        [
            ("Properties.A", ChangeKind::Modified),
            ("Properties.V", ChangeKind::Modified)
        ]
    );
    // Compared as text, shown as numbers again.
    assert_eq!(c[0].before, Some(json!(1)));
    assert_eq!(c[0].after, Some(json!(1.5)));
}

#[test]
fn getatt_string_form_is_the_array_form() {
    let old = template(
        json!({"R": {"Type": "T", "Properties": {"A": {"Fn::GetAtt": "Repo.Arn"}, "B": {"Fn::GetAtt": "Db.Endpoint.Address"}}}}),
    );
    let new = template(
        json!({"R": {"Type": "T", "Properties": {"A": {"Fn::GetAtt": ["Repo", "Arn"]}, "B": {"Fn::GetAtt": ["Db", "Endpoint.Address"]}}}}),
    );
    assert_no_diff(old, new);
    let c = resource_changes_of(
        json!({"R": {"Type": "T", "Properties": {"A": {"Fn::GetAtt": "Repo.Arn"}}}}),
        json!({"R": {"Type": "T", "Properties": {"A": {"Fn::GetAtt": ["Repo", "RepositoryUri"]}}}}),
    );
    assert_eq!(
        paths(&c),
        [("Properties.A.Fn::GetAtt[1]", ChangeKind::Modified)]
    );
}

#[test]
fn embedded_json_with_other_key_order_and_whitespace_is_no_change() {
    let old = template(
        json!({"Repo": {"Type": "AWS::ECR::Repository", "Properties": {
            "RepositoryPolicyText": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ecr:BatchGetImage\",\"Principal\":{\"AWS\":\"arn:aws:iam::1:root\"}}]}",
            "LifecyclePolicy": {"LifecyclePolicyText": "{\"rules\": [{\"rulePriority\": 1, \"selection\": {\"countNumber\": 10}}]}"}
        }}}),
    );
    let new = template(
        json!({"Repo": {"Type": "AWS::ECR::Repository", "Properties": {
            "RepositoryPolicyText": "{\n  \"Statement\": [ {\"Principal\": {\"AWS\": \"arn:aws:iam::1:root\"}, \"Action\": \"ecr:BatchGetImage\", \"Effect\": \"Allow\"} ],\n  \"Version\": \"2012-10-17\"\n}",
            "LifecyclePolicy": {"LifecyclePolicyText": {"rules": [{"selection": {"countNumber": "10"}, "rulePriority": 1.0}]}}
        }}}),
    );
    assert_no_diff(old, new);
}

#[test]
fn changes_inside_embedded_json_have_deep_paths() {
    let lifecycle = |n: u32| {
        json!({"Repo": {"Type": "AWS::ECR::Repository", "Properties": {"LifecyclePolicy": {
            "LifecyclePolicyText": format!("{{\"rules\":[{{\"rulePriority\":1,\"selection\":{{\"tagStatus\":\"any\",\"countType\":\"imageCountMoreThan\",\"countNumber\":{n}}}}}]}}")
        }}}})
    };
    let c = resource_changes_of(lifecycle(10), lifecycle(20));
    assert_eq!(
        paths(&c),
        [(
            "Properties.LifecyclePolicy.LifecyclePolicyText.rules[0].selection.countNumber",
            ChangeKind::Modified
        )]
    );
    assert_eq!(c[0].before, Some(json!(10)));
    assert_eq!(c[0].after, Some(json!(20)));
}

#[test]
fn depends_on_is_a_set() {
    let r = |d: Value| template(json!({"R": {"Type": "T", "DependsOn": d}}));
    assert_no_diff(r(json!("A")), r(json!(["A"])));
    assert_no_diff(r(json!(["A", "B"])), r(json!(["B", "A", "A"])));
    assert_no_diff(template(json!({"R": {"Type": "T"}})), r(json!([])));
    let d = diff_templates(Some(&r(json!("A"))), &r(json!(["A", "B"])));
    assert_eq!(
        paths(&d.resources[0].changes),
        [("DependsOn", ChangeKind::Modified)]
    );
    let d = diff_templates(Some(&template(json!({"R": {"Type": "T"}}))), &r(json!("A")));
    assert_eq!(
        paths(&d.resources[0].changes),
        [("DependsOn", ChangeKind::Added)]
    );
}

#[test]
fn arrays_of_equal_length_are_compared_by_index_others_as_a_whole() {
    let c = resource_changes_of(
        json!({"R": {"Type": "T", "Properties": {"Ports": [80, 443], "Subnets": ["a", "b"]}}}),
        json!({"R": {"Type": "T", "Properties": {"Ports": [80, 8443], "Subnets": ["a", "b", "c"]}}}),
    );
    assert_eq!(
        paths(&c),
        [
            ("Properties.Ports[1]", ChangeKind::Modified),
            ("Properties.Subnets", ChangeKind::Modified)
        ]
    );
    assert_eq!(c[1].before, Some(json!(["a", "b"])));
    assert_eq!(c[1].after, Some(json!(["a", "b", "c"])));
}

#[test]
fn tags_are_keyed_by_key() {
    let tags = |t: Value| template(json!({"R": {"Type": "T", "Properties": {"Tags": t}}}));
    assert_no_diff(
        tags(json!([{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])),
        tags(json!([{"Value": "2", "Key": "b"}, {"Key": "a", "Value": 1}])),
    );
    let d = diff_templates(
        Some(&tags(
            json!([{"Key": "Env", "Value": "dev"}, {"Key": "Team", "Value": "x"}]),
        )),
        &tags(json!([{"Key": "Owner", "Value": "me"}, {"Key": "Env", "Value": "prod"}])),
    );
    assert_eq!(
        paths(&d.resources[0].changes),
        [
            ("Properties.Tags[Key=Env].Value", ChangeKind::Modified),
            ("Properties.Tags[Key=Owner]", ChangeKind::Added),
            ("Properties.Tags[Key=Team]", ChangeKind::Removed),
        ]
    );
    assert_eq!(
        d.resources[0].changes[1].after,
        Some(json!({"Key": "Owner", "Value": "me"}))
    );
    // From no tags to some.
    let d = diff_templates(
        Some(&tags(json!([]))),
        &tags(json!([{"Key": "a", "Value": "1"}])),
    );
    assert_eq!(
        paths(&d.resources[0].changes),
        [("Properties.Tags[Key=a]", ChangeKind::Added)]
    );
}

fn role(statements: Value) -> Value {
    template(json!({"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": statements}
    }}}))
}

#[test]
fn statements_actions_and_principals_are_order_insensitive() {
    let a = json!({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"});
    let b = json!({"Effect": "Allow", "Principal": {"AWS": ["arn:1", "arn:2"]}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ["1", "2"]}}});
    let a2 =
        json!({"Resource": ["*"], "Action": ["s3:PutObject", "s3:GetObject"], "Effect": "Allow"});
    let b2 = json!({"Principal": {"AWS": ["arn:2", "arn:1"]}, "Action": ["sts:AssumeRole"], "Effect": "Allow",
        "Condition": {"StringEquals": {"aws:SourceAccount": ["2", "1"]}}});
    assert_no_diff(role(json!([a, b])), role(json!([b2, a2])));
    // One statement as an object or in an array.
    assert_no_diff(role(json!(a)), role(json!([a2])));
}

#[test]
fn a_changed_statement_is_reported_inside_it() {
    let old = role(json!([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]));
    // Reordered, and the trust statement gains a principal.
    let new = role(json!([
        {"Effect": "Allow", "Principal": {"Service": ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    ]));
    let d = diff_templates(Some(&old), &new);
    assert_eq!(
        paths(&d.resources[0].changes),
        [(
            "Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service",
            ChangeKind::Modified
        )]
    );
}

#[test]
fn added_and_sid_keyed_statements() {
    let s1 = json!({"Effect": "Allow", "Action": "a:A", "Resource": "*"});
    let s2 = json!({"Effect": "Deny", "Action": "a:B", "Resource": "*"});
    let d = diff_templates(Some(&role(json!([s1]))), &role(json!([s2, s1])));
    assert_eq!(
        paths(&d.resources[0].changes),
        [(
            "Properties.AssumeRolePolicyDocument.Statement[0]",
            ChangeKind::Added
        )]
    );
    let d = diff_templates(Some(&role(json!([s2, s1]))), &role(json!([s1])));
    assert_eq!(
        paths(&d.resources[0].changes),
        [(
            "Properties.AssumeRolePolicyDocument.Statement[0]",
            ChangeKind::Removed
        )]
    );
    let d = diff_templates(
        Some(&role(
            json!([{"Sid": "One", "Effect": "Allow", "Action": "a:A"}, {"Sid": "Two", "Effect": "Allow", "Action": "a:B"}]),
        )),
        &role(
            json!([{"Sid": "Two", "Effect": "Allow", "Action": "a:C"}, {"Sid": "One", "Effect": "Deny", "Action": "a:A"}]),
        ),
    );
    assert_eq!(
        paths(&d.resources[0].changes),
        [
            (
                "Properties.AssumeRolePolicyDocument.Statement[Sid=One].Effect",
                ChangeKind::Modified
            ),
            (
                "Properties.AssumeRolePolicyDocument.Statement[Sid=Two].Action",
                ChangeKind::Modified
            ),
        ]
    );
}

#[test]
fn new_stack_adds_everything_sorted() {
    let new = json!({
        "Description": "d",
        "Parameters": {"Env": {"Type": "String"}},
        "Resources": {"B": {"Type": "AWS::S3::Bucket"}, "A": {"Type": "AWS::ECR::Repository"}},
        "Outputs": {"Uri": {"Value": "x"}}
    });
    let d = diff_templates(None, &new);
    let ids: Vec<(&str, &str, ChangeKind)> = d
        .resources
        .iter()
        .map(|r| (r.logical_id.as_str(), r.resource_type.as_str(), r.kind))
        .collect();
    assert_eq!(
        ids,
        [
            ("A", "AWS::ECR::Repository", ChangeKind::Added),
            ("B", "AWS::S3::Bucket", ChangeKind::Added)
        ]
    );
    assert_eq!(paths(&d.outputs), [("Uri", ChangeKind::Added)]);
    assert_eq!(paths(&d.parameters), [("Env", ChangeKind::Added)]);
    assert_eq!(paths(&d.sections), [("Description", ChangeKind::Added)]);
    assert!(diff_templates(None, &json!({})).is_empty());
}

#[test]
fn removed_and_retyped_resources() {
    let old = template(
        json!({"Gone": {"Type": "AWS::SNS::Topic"}, "R": {"Type": "AWS::SQS::Queue", "Properties": {"A": 1}}}),
    );
    let new = template(json!({"R": {"Type": "AWS::SNS::Topic", "Properties": {"A": 1}}}));
    let d = diff_templates(Some(&old), &new);
    assert_eq!(d.resources.len(), 2);
    assert_eq!(d.resources[0].logical_id, "Gone");
    assert_eq!(d.resources[0].kind, ChangeKind::Removed);
    assert_eq!(d.resources[0].resource_type, "AWS::SNS::Topic");
    let r = &d.resources[1];
    assert!(r.type_changed);
    assert_eq!(r.resource_type, "AWS::SNS::Topic");
    assert_eq!(paths(&r.changes), [("Type", ChangeKind::Modified)]);
    assert_eq!(r.changes[0].before, Some(json!("AWS::SQS::Queue")));
}

#[test]
fn resource_attributes_are_compared_and_others_ignored() {
    let old = template(
        json!({"R": {"Type": "T", "DeletionPolicy": "Retain", "Condition": "IsProd", "Metadata": {"a": 1}, "Comment": "x"}}),
    );
    let new = template(
        json!({"R": {"Type": "T", "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Retain", "Metadata": {"a": 2}, "Comment": "y", "Properties": {}}}),
    );
    let d = diff_templates(Some(&old), &new);
    assert_eq!(
        paths(&d.resources[0].changes),
        [
            ("Condition", ChangeKind::Removed),
            ("DeletionPolicy", ChangeKind::Modified),
            ("Metadata.a", ChangeKind::Modified),
            ("UpdateReplacePolicy", ChangeKind::Added),
        ]
    );
    assert!(!d.resources[0].type_changed);
}

#[test]
fn properties_absent_is_empty_and_additions_are_deep() {
    assert_no_diff(
        template(json!({"R": {"Type": "T"}})),
        template(json!({"R": {"Type": "T", "Properties": {}}})),
    );
    let c = resource_changes_of(
        json!({"R": {"Type": "T"}}),
        json!({"R": {"Type": "T", "Properties": {"Name": "n"}}}),
    );
    assert_eq!(paths(&c), [("Properties.Name", ChangeKind::Added)]);
    assert_eq!(c[0].before, None);
    assert_eq!(c[0].after, Some(json!("n")));
}

#[test]
fn outputs_parameters_and_sections_have_their_own_paths() {
    let old = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "a",
        "Transform": "AWS::Serverless-2016-10-31",
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
        "Mappings": {"M": {"k": {"v": 1}}},
        "Outputs": {"Uri": {"Value": "x", "Export": {"Name": "e"}}, "Old": {"Value": "o"}},
        "Resources": {}
    });
    let new = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "b",
        "Transform": ["AWS::Serverless-2016-10-31"],
        "Parameters": {"Env": {"Type": "String", "Default": "prod"}},
        "Mappings": {"M": {"k": {"v": 2}}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
        "Outputs": {"Uri": {"Value": "x", "Export": {"Name": "f"}}},
        "Resources": {}
    });
    let d = diff_templates(Some(&old), &new);
    assert!(d.resources.is_empty());
    assert_eq!(
        paths(&d.outputs),
        [
            ("Old", ChangeKind::Removed),
            ("Uri.Export.Name", ChangeKind::Modified)
        ]
    );
    assert_eq!(
        paths(&d.parameters),
        [("Env.Default", ChangeKind::Modified)]
    );
    assert_eq!(
        paths(&d.sections),
        [
            ("Conditions.IsProd", ChangeKind::Added),
            ("Description", ChangeKind::Modified),
            ("Mappings.M.k.v", ChangeKind::Modified),
        ]
    );
}

#[test]
fn resources_are_sorted_and_changes_in_path_order() {
    let props = |n: u32| json!({"Type": "T", "Properties": {"Z": n, "A": {"B": [n, n, n, n, n, n, n, n, n, n, n, n]}}});
    let d = diff_templates(
        Some(&template(
            json!({"b": props(1), "a": props(1), "C": props(1)}),
        )),
        &template(json!({"C": props(2), "a": props(2), "b": props(2)})),
    );
    let ids: Vec<&str> = d.resources.iter().map(|r| r.logical_id.as_str()).collect();
    assert_eq!(ids, ["C", "a", "b"]);
    let p: Vec<&str> = d.resources[0]
        .changes
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(p[0], "Properties.A.B[0]");
    assert_eq!(p[2], "Properties.A.B[2]");
    assert_eq!(p[10], "Properties.A.B[10]");
    assert_eq!(p[12], "Properties.Z");
}

#[test]
fn keys_with_dots_are_quoted_in_paths() {
    let c = resource_changes_of(
        json!({"R": {"Type": "T", "Metadata": {"kubernetes.io/cluster": "a"}}}),
        json!({"R": {"Type": "T", "Metadata": {"kubernetes.io/cluster": "b"}}}),
    );
    assert_eq!(c[0].path, "Metadata[\"kubernetes.io/cluster\"]");
}

#[test]
fn serialises_kinds_lowercase() {
    let c = PropertyChange {
        path: "A".into(),
        kind: ChangeKind::Added,
        before: None,
        after: Some(json!(1)),
    };
    let text = serde_json::to_string(&c).unwrap();
    assert!(text.contains("\"kind\":\"added\""), "{text}");
    let back: PropertyChange = serde_json::from_str(&text).unwrap();
    assert_eq!(back, c);
}
