//! Tests of the plan's risks: data-bearing replacements and removals, broadening of IAM and
//! resource policies, and their order.

use super::data_bearing::{is_data_bearing, replacing_properties};
use super::*;
use crate::plan::diff::diff_templates;
use serde_json::json;

fn template(resources: Value) -> Value {
    json!({"Resources": resources})
}

fn risks(old: &Value, new: &Value) -> Vec<Risk> {
    template_risks(Some(old), new, &diff_templates(Some(old), new))
}

fn only(risks: &[Risk]) -> &Risk {
    assert_eq!(risks.len(), 1, "{risks:#?}");
    &risks[0]
}

fn perm(policy: &str, effect: &str, principal: &str, action: &str, resource: &str) -> Permission {
    Permission {
        policy: policy.into(),
        effect: effect.into(),
        principal: principal.into(),
        action: action.into(),
        resource: resource.into(),
        condition: None,
    }
}

fn role(trust: Value, policies: Value, managed: Value) -> Value {
    template(json!({"CiRole": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": trust},
        "Policies": policies,
        "ManagedPolicyArns": managed
    }}}))
}

fn trust(principals: Value) -> Value {
    json!([{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}])
}

#[test]
fn trust_policy_principal_added() {
    let old = role(
        trust(json!("arn:aws:iam::111111111111:root")),
        json!([]),
        json!([]),
    );
    let new = role(
        trust(json!([
            "arn:aws:iam::111111111111:root",
            "arn:aws:iam::222222222222:root"
        ])),
        json!([]),
        json!([]),
    );
    let all = risks(&old, &new);
    let r = only(&all);
    assert_eq!(r.kind, RiskKind::Broadening);
    assert_eq!(r.logical_id, "CiRole");
    assert_eq!(r.resource_type, "AWS::IAM::Role");
    assert_eq!(
        r.reason,
        "widens IAM role `CiRole` trust policy: 1 permission added"
    );
    assert_eq!(
        r.added,
        [perm(
            "AssumeRolePolicyDocument",
            "Allow",
            "AWS:arn:aws:iam::222222222222:root",
            "sts:AssumeRole",
            "-"
        )]
    );
    assert!(r.removed.is_empty());
}

#[test]
fn inline_policy_action_widened_to_a_wildcard() {
    let policy = |actions: Value| {
        json!([{"PolicyName": "ecr-push", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": "arn:aws:ecr:eu-west-1:1:repository/app"}
        ]}}])
    };
    let t = trust(json!("arn:aws:iam::1:root"));
    let old = role(
        t.clone(),
        policy(json!(["ecr:PutImage", "ecr:InitiateLayerUpload"])),
        json!([]),
    );
    let new = role(t, policy(json!("ecr:*")), json!([]));
    let all = risks(&old, &new);
    let r = only(&all);
    assert_eq!(r.kind, RiskKind::Broadening);
    let repo = "arn:aws:ecr:eu-west-1:1:repository/app";
    assert_eq!(
        r.added,
        [perm("Policies[ecr-push]", "Allow", "-", "ecr:*", repo)]
    );
    assert_eq!(
        r.removed,
        [
            perm(
                "Policies[ecr-push]",
                "Allow",
                "-",
                "ecr:InitiateLayerUpload",
                repo
            ),
            perm("Policies[ecr-push]", "Allow", "-", "ecr:PutImage", repo),
        ]
    );
    assert_eq!(
        r.reason,
        "widens IAM role `CiRole` inline policy `ecr-push`: 1 permission added, 2 removed"
    );
}

#[test]
fn condition_removed() {
    let statement = |condition: Option<Value>| {
        let mut s = json!({"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"});
        if let Some(c) = condition {
            s["Condition"] = c;
        }
        json!([s])
    };
    let cond = json!({"StringLike": {"token.actions.githubusercontent.com:sub": ["repo:org/app:*", "repo:org/lib:*"]}});
    let old = role(statement(Some(cond)), json!([]), json!([]));
    let new = role(statement(None), json!([]), json!([]));
    let all = risks(&old, &new);
    let r = only(&all);
    assert_eq!(r.kind, RiskKind::Broadening);
    assert_eq!(r.added.len(), 1);
    assert_eq!(r.added[0].condition, None);
    assert_eq!(r.removed.len(), 1);
    assert_eq!(
        r.removed[0].condition.as_deref(),
        Some(
            r#"{"StringLike":{"token.actions.githubusercontent.com:sub":["repo:org/app:*","repo:org/lib:*"]}}"#
        )
    );
    assert_eq!(
        r.removed[0].principal,
        "Federated:arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"
    );
}

#[test]
fn condition_changed_is_removed_and_added() {
    let statement = |account: &str| {
        json!([{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}}}])
    };
    let queue = |s: Value| {
        template(
            json!({"P": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"PolicyDocument": {"Statement": s}}}}),
        )
    };
    let all = risks(&queue(statement("1")), &queue(statement("2")));
    let r = only(&all);
    assert_eq!(
        r.reason,
        "widens SQS queue policy `P`: 1 permission added, 1 removed"
    );
    assert_eq!(
        r.added[0].condition.as_deref(),
        Some(r#"{"StringEquals":{"aws:SourceAccount":"2"}}"#)
    );
    assert_eq!(
        r.removed[0].condition.as_deref(),
        Some(r#"{"StringEquals":{"aws:SourceAccount":"1"}}"#)
    );
}

fn repo(policy: Option<Value>, extra: Value) -> Value {
    let mut props = json!({"RepositoryName": "app"});
    if let Some(p) = policy {
        props["RepositoryPolicyText"] = p;
    }
    let mut resource = json!({"Type": "AWS::ECR::Repository", "Properties": props});
    if let (Some(r), Some(e)) = (resource.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    template(json!({"Repo": resource}))
}

#[test]
fn repository_policy_as_json_string_gains_a_principal() {
    let old = repo(
        Some(json!("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Pull\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111111111111:root\"},\"Action\":[\"ecr:BatchGetImage\",\"ecr:GetDownloadUrlForLayer\"]}]}")),
        json!({}),
    );
    let new = repo(
        Some(json!("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Pull\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::111111111111:root\",\"*\"]},\"Action\":[\"ecr:BatchGetImage\",\"ecr:GetDownloadUrlForLayer\"]}]}")),
        json!({}),
    );
    let all = risks(&old, &new);
    let r = only(&all);
    assert_eq!(r.kind, RiskKind::Broadening);
    assert_eq!(r.resource_type, "AWS::ECR::Repository");
    assert_eq!(
        r.added,
        [
            perm(
                "RepositoryPolicyText",
                "Allow",
                "AWS:*",
                "ecr:BatchGetImage",
                "-"
            ),
            perm(
                "RepositoryPolicyText",
                "Allow",
                "AWS:*",
                "ecr:GetDownloadUrlForLayer",
                "-"
            ),
        ]
    );
    assert_eq!(
        r.reason,
        "widens ECR repository `Repo` repository policy: 2 permissions added"
    );
}

#[test]
fn reordered_statements_and_keys_are_no_risk() {
    let s1 = json!({"Effect": "Allow", "Principal": {"AWS": ["arn:1", "arn:2"]}, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]});
    let s2 = json!({"Effect": "Deny", "Principal": "*", "Action": "ecr:DeleteRepository", "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ["1", "2"]}}});
    let old = repo(
        Some(
            json!({"Version": "2012-10-17", "Statement": [s1, s2]})
                .to_string()
                .into(),
        ),
        json!({}),
    );
    let s1r = json!({"Action": ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], "Principal": {"AWS": ["arn:2", "arn:1"]}, "Effect": "Allow"});
    let s2r = json!({"Condition": {"StringNotEquals": {"aws:PrincipalAccount": ["2", "1", "2"]}}, "Action": ["ecr:DeleteRepository"], "Effect": "Deny", "Principal": "*"});
    let new = repo(
        Some(json!({"Statement": [s2r, s1r], "Version": "2012-10-17"})),
        json!({}),
    );
    assert!(risks(&old, &new).is_empty(), "{:#?}", risks(&old, &new));
    assert!(diff_templates(Some(&old), &new).is_empty());
}

#[test]
fn repository_rename_is_destructive() {
    let old = repo(None, json!({}));
    let mut new = old.clone();
    new["Resources"]["Repo"]["Properties"]["RepositoryName"] = json!("app-v2");
    let all = risks(&old, &new);
    let r = only(&all);
    assert_eq!(r.kind, RiskKind::Destructive);
    assert_eq!(r.logical_id, "Repo");
    assert_eq!(
        r.reason,
        "replaces ECR repository `Repo` because `RepositoryName` changes: the old repository and its images are deleted"
    );
}

#[test]
fn replacement_with_retain_still_destructive_and_says_so() {
    let old = repo(None, json!({"UpdateReplacePolicy": "Retain"}));
    let mut new = old.clone();
    new["Resources"]["Repo"]["Properties"]["RepositoryName"] = json!("app-v2");
    new["Resources"]["Repo"]["Properties"]["EncryptionConfiguration"] =
        json!({"EncryptionType": "KMS"});
    let all = risks(&old, &new);
    let r = only(&all);
    assert_eq!(r.kind, RiskKind::Destructive);
    assert_eq!(
        r.reason,
        "replaces ECR repository `Repo` because `RepositoryName` and `EncryptionConfiguration` change (UpdateReplacePolicy Retain: the old repository and its images stay in the account, outside the stack; the stack then points at a new, empty repository)"
    );
}

#[test]
fn bucket_replacement_reason() {
    let bucket = |name: &str| {
        template(
            json!({"Reports": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}}}),
        )
    };
    let all = risks(&bucket("a"), &bucket("b"));
    assert_eq!(
        only(&all).reason,
        "replaces S3 bucket `Reports` because `BucketName` changes: the old bucket and its objects are deleted"
    );
}

#[test]
fn in_place_changes_of_data_bearing_resources_are_no_risk() {
    let old = repo(None, json!({}));
    let mut new = old.clone();
    new["Resources"]["Repo"]["Properties"]["ImageTagMutability"] = json!("IMMUTABLE");
    assert!(risks(&old, &new).is_empty());
}

#[test]
fn removal_of_a_retained_repository_is_destructive_with_the_note() {
    let old = repo(None, json!({"DeletionPolicy": "Retain"}));
    let new = template(json!({}));
    let all = risks(&old, &new);
    let r = only(&all);
    assert_eq!(r.kind, RiskKind::Destructive);
    assert_eq!(r.resource_type, "AWS::ECR::Repository");
    assert_eq!(
        r.reason,
        "removes ECR repository `Repo` (DeletionPolicy Retain: the repository and its images stay in the account, outside the stack)"
    );
    let all = risks(&repo(None, json!({})), &new);
    assert_eq!(
        only(&all).reason,
        "removes ECR repository `Repo`: the repository and its images are deleted"
    );
}

#[test]
fn removal_of_an_rds_instance_snapshots_by_default() {
    let old = template(
        json!({"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres"}}}),
    );
    let all = risks(&old, &template(json!({})));
    assert_eq!(
        only(&all).reason,
        "removes RDS DB instance `Db` (no DeletionPolicy, so Snapshot: a final snapshot is kept, then the DB instance and its data are deleted)"
    );
}

#[test]
fn removal_of_an_sns_topic_is_no_risk() {
    let old =
        template(json!({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}}));
    assert!(risks(&old, &template(json!({}))).is_empty());
}

#[test]
fn type_change_of_a_data_bearing_resource_is_destructive() {
    let old = template(json!({"Q": {"Type": "AWS::SQS::Queue"}}));
    let new = template(json!({"Q": {"Type": "AWS::SNS::Topic"}}));
    let all = risks(&old, &new);
    let r = only(&all);
    assert_eq!(r.kind, RiskKind::Destructive);
    assert_eq!(r.resource_type, "AWS::SQS::Queue");
    assert_eq!(
        r.reason,
        "replaces SQS queue `Q` because its type changes to `AWS::SNS::Topic`: the old queue and its messages are deleted"
    );
    // The other way round loses nothing.
    assert!(risks(&new, &old).is_empty());
}

#[test]
fn managed_policy_arn_added() {
    let t = trust(json!("arn:aws:iam::1:root"));
    let old = role(
        t.clone(),
        json!([]),
        json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
    );
    let new = role(
        t,
        json!([]),
        json!([
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        ]),
    );
    let all = risks(&old, &new);
    let r = only(&all);
    assert_eq!(
        r.added,
        [perm(
            "ManagedPolicyArns",
            "Allow",
            "-",
            "(managed policy)",
            "arn:aws:iam::aws:policy/AdministratorAccess"
        )]
    );
    assert_eq!(
        r.reason,
        "widens IAM role `CiRole` managed policies: 1 permission added"
    );
    // Removing one is narrowing.
    assert!(risks(&new, &old).is_empty());
}

#[test]
fn removed_deny_is_broadening() {
    let policy = |statements: Value| {
        template(
            json!({"BP": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": "b", "PolicyDocument": {"Statement": statements}}}}),
        )
    };
    let allow = json!({"Effect": "Allow", "Principal": {"AWS": "arn:1"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"});
    let deny = json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*", "Condition": {"Bool": {"aws:SecureTransport": false}}});
    let all = risks(&policy(json!([allow, deny])), &policy(json!([allow])));
    let r = only(&all);
    assert_eq!(r.kind, RiskKind::Broadening);
    assert!(r.added.is_empty());
    assert_eq!(r.removed.len(), 1);
    assert_eq!(r.removed[0].effect, "Deny");
    assert_eq!(
        r.removed[0].condition.as_deref(),
        Some(r#"{"Bool":{"aws:SecureTransport":"false"}}"#)
    );
    assert_eq!(
        r.reason,
        "widens S3 bucket policy `BP`: 1 permission removed (Deny)"
    );
    // Removing only an Allow narrows; adding a Deny narrows.
    assert!(risks(&policy(json!([allow, deny])), &policy(json!([deny]))).is_empty());
    assert!(risks(&policy(json!([allow])), &policy(json!([allow, deny]))).is_empty());
    // Removing the whole bucket policy removes its Deny.
    let all = risks(&policy(json!([deny])), &template(json!({})));
    assert_eq!(only(&all).removed.len(), 1);
}

#[test]
fn negated_elements_are_broadening_whenever_added() {
    let policy = |statements: Value| {
        template(
            json!({"P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": statements}}}}),
        )
    };
    let base = json!({"Effect": "Deny", "Action": "iam:*", "Resource": "*"});
    let not = json!({"Effect": "Deny", "NotAction": ["s3:GetObject"], "NotResource": "arn:x"});
    let all = risks(&policy(json!([base])), &policy(json!([base, not])));
    let r = only(&all);
    assert_eq!(
        r.added,
        [perm(
            "PolicyDocument",
            "Deny",
            "-",
            "NOT s3:GetObject",
            "NOT arn:x"
        )]
    );
    assert_eq!(
        r.reason,
        "widens IAM managed policy `P`: 1 permission added"
    );
}

#[test]
fn a_new_stack_shows_what_it_grants() {
    let new = role(
        trust(json!("arn:aws:iam::1:root")),
        json!([{"PolicyName": "push", "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": ["ecr:PutImage"], "Resource": "*"}}}]),
        json!([]),
    );
    let all = template_risks(None, &new, &diff_templates(None, &new));
    let r = only(&all);
    assert_eq!(r.kind, RiskKind::Broadening);
    assert_eq!(r.added.len(), 2);
    assert_eq!(
        r.reason,
        "grants 2 permissions through new IAM role `CiRole` (trust policy and inline policy `push`)"
    );
    // A new, unprotected bucket is not destructive.
    let bucket = template(json!({"B": {"Type": "AWS::S3::Bucket"}}));
    assert!(template_risks(None, &bucket, &diff_templates(None, &bucket)).is_empty());
}

#[test]
fn intrinsics_are_text_and_fn_if_expands_both_branches() {
    let policy = json!({"Fn::If": ["IsProd",
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "arn:aws:s3:::${Bucket}/*"}}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, {"Ref": "AWS::NoValue"}]}
    ]});
    let new = template(
        json!({"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": policy}}}),
    );
    let all = template_risks(None, &new, &diff_templates(None, &new));
    let r = only(&all);
    assert_eq!(
        r.added,
        [
            perm("PolicyDocument", "Allow", "-", "s3:*", "*"),
            perm(
                "PolicyDocument",
                "Allow",
                "-",
                "s3:GetObject",
                r#"{"Fn::Sub":"arn:aws:s3:::${Bucket}/*"}"#
            ),
        ]
    );
    // A document that cannot be read still shows its text.
    let new = template(
        json!({"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Ref": "Doc"}}}}),
    );
    let all = template_risks(None, &new, &diff_templates(None, &new));
    assert_eq!(only(&all).added[0].action, "(unresolved policy document)");
    assert_eq!(only(&all).added[0].resource, r#"{"Ref":"Doc"}"#);
}

#[test]
fn huge_statements_are_not_expanded_one_by_one() {
    let many = |prefix: &str| -> Vec<String> { (0..30).map(|i| format!("{prefix}{i}")).collect() };
    let policy = |extra: &str| {
        let mut actions = many("s3:A");
        actions.push(extra.to_owned());
        template(
            json!({"P": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Principal": {"AWS": many("arn:")}, "Action": actions, "Resource": many("r")}
            ]}}}}),
        )
    };
    let all = risks(&policy("s3:X"), &policy("s3:Y"));
    let r = only(&all);
    assert_eq!((r.added.len(), r.removed.len()), (1, 1));
    assert!(
        r.added[0].action.ends_with(", s3:Y"),
        "{}",
        r.added[0].action
    );
    assert!(r.added[0].principal.starts_with("AWS:arn:0, AWS:arn:1, "));
    // Below the limit, every tuple is listed.
    let small = |extra: &str| {
        template(
            json!({"P": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Principal": {"AWS": many("arn:")}, "Action": [extra], "Resource": many("r")}
            ]}}}}),
        )
    };
    assert_eq!(only(&risks(&small("a"), &small("b"))).added.len(), 900);
}

#[test]
fn key_policy_is_read() {
    let key = |principal: &str| {
        template(
            json!({"K": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
                {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:Decrypt", "Resource": "*"}
            ]}}}}),
        )
    };
    let all = risks(&key("arn:1"), &key("arn:2"));
    let r = only(&all);
    assert_eq!(
        r.reason,
        "widens KMS key `K` key policy: 1 permission added, 1 removed"
    );
}

#[test]
fn replacement_risk_from_a_change_set() {
    let t = repo(None, json!({"UpdateReplacePolicy": "Retain"}));
    let r = replacement_risk("Repo", "AWS::ECR::Repository", Replacement::True, &t).unwrap();
    assert_eq!(r.kind, RiskKind::Destructive);
    assert_eq!(
        r.reason,
        "CloudFormation replaces ECR repository `Repo` (UpdateReplacePolicy Retain: the old repository and its images stay in the account, outside the stack; the stack then points at a new, empty repository)"
    );
    let r = replacement_risk(
        "T",
        "AWS::DynamoDB::Table",
        Replacement::Conditional,
        &json!({}),
    )
    .unwrap();
    assert_eq!(
        r.reason,
        "CloudFormation may replace DynamoDB table `T`, depending on values known only during the update: the old table and its items are deleted"
    );
    assert!(replacement_risk("Repo", "AWS::ECR::Repository", Replacement::False, &t).is_none());
    assert!(replacement_risk("Topic", "AWS::SNS::Topic", Replacement::True, &t).is_none());
}

#[test]
fn dedupe_merges_template_and_change_set_replacements() {
    let old = repo(None, json!({}));
    let mut new = old.clone();
    new["Resources"]["Repo"]["Properties"]["RepositoryName"] = json!("b");
    let mut all = risks(&old, &new);
    all.push(replacement_risk("Repo", "AWS::ECR::Repository", Replacement::True, &new).unwrap());
    all.push(replacement_risk("Other", "AWS::S3::Bucket", Replacement::True, &new).unwrap());
    let merged = dedupe(all);
    assert_eq!(merged.len(), 2);
    assert_eq!(merged[0].logical_id, "Repo");
    assert!(merged[0]
        .reason
        .contains("because `RepositoryName` changes"));
    assert_eq!(merged[1].logical_id, "Other");
    // Same logical id, other kind: kept apart; permissions merge without duplicates.
    let b = |added: Vec<Permission>| Risk {
        kind: RiskKind::Broadening,
        logical_id: "Repo".into(),
        resource_type: "AWS::ECR::Repository".into(),
        reason: "r".into(),
        added,
        removed: Vec::new(),
        holds: None,
    };
    let p = perm("RepositoryPolicyText", "Allow", "*", "ecr:*", "-");
    let q = perm("RepositoryPolicyText", "Allow", "*", "ecr:A", "-");
    let merged = dedupe(vec![
        merged[0].clone(),
        b(vec![p.clone()]),
        b(vec![q.clone(), p.clone()]),
    ]);
    assert_eq!(merged.len(), 2);
    assert_eq!(merged[1].added, [p, q]);
}

#[test]
fn data_bearing_types_and_replacing_properties() {
    for t in [
        "AWS::ECR::Repository",
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        "AWS::DynamoDB::Table",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::EFS::FileSystem",
        "AWS::SQS::Queue",
        "AWS::Kinesis::Stream",
        "AWS::SecretsManager::Secret",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::EC2::Volume",
        "AWS::Backup::BackupVault",
    ] {
        assert!(is_data_bearing(t), "{t}");
    }
    for t in [
        "AWS::SNS::Topic",
        "AWS::ECR::PullThroughCacheRule",
        "AWS::IAM::Role",
        "",
        "aws::s3::bucket",
    ] {
        assert!(!is_data_bearing(t), "{t}");
        assert!(replacing_properties(t).is_empty());
    }
    assert_eq!(
        replacing_properties("AWS::DynamoDB::Table"),
        ["TableName", "KeySchema"]
    );
    assert!(!replacing_properties("AWS::Logs::LogGroup").contains(&"KmsKeyId"));
    assert!(touches(
        "Properties.KeySchema[0].AttributeName",
        "KeySchema"
    ));
    assert!(touches("Properties.Name", "Name"));
    assert!(!touches("Properties.NameSuffix", "Name"));
    assert!(!touches(
        "Properties.GlobalSecondaryIndexes[0].KeySchema",
        "KeySchema"
    ));
}

#[test]
fn kms_key_replacement_names_the_consequence() {
    let key = |spec: &str| {
        template(json!({"K": {"Type": "AWS::KMS::Key", "Properties": {"KeySpec": spec}}}))
    };
    let all = risks(&key("SYMMETRIC_DEFAULT"), &key("RSA_2048"));
    assert_eq!(
        only(&all).reason,
        "replaces KMS key `K` because `KeySpec` changes: the old key is scheduled for deletion (data encrypted with it becomes unreadable)"
    );
}

#[test]
fn destructive_risks_come_first_sorted() {
    let old = template(json!({
        "Z": {"Type": "AWS::S3::Bucket"},
        "A": {"Type": "AWS::SQS::Queue"},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": []}}}
    }));
    let new = template(json!({
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": trust(json!("arn:1"))}}}
    }));
    let all = risks(&old, &new);
    let kinds: Vec<(RiskKind, &str)> = all
        .iter()
        .map(|r| (r.kind, r.logical_id.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (RiskKind::Destructive, "A"),
            (RiskKind::Destructive, "Z"),
            (RiskKind::Broadening, "Role")
        ]
    );
}

#[test]
fn odd_input_does_not_panic() {
    let odd = [
        json!(null),
        json!({"Resources": 1}),
        json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [1, null, {"Effect": ["x"], "Principal": [1, {"a": 2}], "Action": {"b": 1}}]},
            "Policies": [1, {"PolicyName": {"Ref": "N"}}, {"PolicyDocument": "x"}, {"Fn::If": ["c", {"PolicyName": "p", "PolicyDocument": {"Statement": {}}}]}],
            "ManagedPolicyArns": {"Ref": "Arns"}
        }}}}),
        json!({"Resources": {"R": {"Type": "AWS::ECR::Repository", "DeletionPolicy": {"Fn::If": ["c", "Retain", "Delete"]}, "Properties": {"RepositoryPolicyText": "[1,2]"}}}}),
        json!({"Resources": {"R": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": {"Effect": "Allow", "Principal": {}, "Condition": [[], {}]}}}}}}),
    ];
    for a in &odd {
        for b in &odd {
            let d = diff_templates(Some(a), b);
            let all = template_risks(Some(a), b, &d);
            let _ = dedupe(all);
            let _ = replacement_risk("R", "AWS::ECR::Repository", Replacement::Conditional, b);
        }
        let _ = template_risks(None, a, &diff_templates(None, a));
    }
    // An intrinsic deletion policy is reported as written.
    let all = risks(&odd[3], &json!({}));
    assert!(
        only(&all)
            .reason
            .contains(r#"DeletionPolicy {"Fn::If":["c","Retain","Delete"]}"#),
        "{all:#?}"
    );
}

#[test]
fn serialised_shapes() {
    assert_eq!(
        serde_json::to_string(&RiskKind::Destructive).unwrap(),
        "\"destructive\""
    );
    assert_eq!(
        serde_json::to_string(&Replacement::Conditional).unwrap(),
        "\"Conditional\""
    );
    let r: Replacement = serde_json::from_str("\"True\"").unwrap();
    assert_eq!(r, Replacement::True);
}

#[test]
fn a_create_only_property_of_the_resource_schema_replaces_too() {
    // `ImportSourceSpecification` is not in the table of DynamoDB's replacing properties; the
    // resource schema says it is create-only.
    let table = |bucket: &str| {
        template(json!({"T": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "TableName": "orders",
            "ImportSourceSpecification": {"S3BucketSource": {"S3Bucket": bucket}, "InputFormat": "CSV"}
        }}}))
    };
    let all = risks(&table("a"), &table("b"));
    let r = only(&all);
    assert_eq!(r.kind, RiskKind::Destructive);
    assert!(
        r.reason
            .starts_with("replaces DynamoDB table `T` because `ImportSourceSpecification` changes"),
        "{}",
        r.reason
    );
    // A nested create-only property under a listed one is named once, by the listed one.
    let repo = |key: &str| {
        template(
            json!({"Repo": {"Type": "AWS::ECR::Repository", "Properties": {
                "EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": key}
            }}}),
        )
    };
    let all = risks(&repo("k1"), &repo("k2"));
    assert!(
        only(&all).reason.starts_with(
            "replaces ECR repository `Repo` because `EncryptionConfiguration` changes:"
        ),
        "{}",
        only(&all).reason
    );
}

#[test]
fn a_change_set_names_the_property_that_forces_the_replacement() {
    let r = replacement_risk_forced_by(
        "Repo",
        "AWS::ECR::Repository",
        Replacement::True,
        &json!({}),
        &[
            "RepositoryName".to_owned(),
            "EncryptionConfiguration".to_owned(),
        ],
    )
    .unwrap();
    assert_eq!(
        r.reason,
        "CloudFormation replaces ECR repository `Repo` because `RepositoryName` and `EncryptionConfiguration` change: the old repository and its images are deleted"
    );
}
