//! Tests of the policy grammars (ECR lifecycle, IAM identity, resource and trust policies) and
//! of the reading every policy user shares.

use super::iam::{is_action_pattern, PRINCIPAL_KEYS, STATEMENT_KEYS, TRUST_ACTIONS};
use super::lifecycle::{ACTION_KEYS, COUNT_TYPES, RULE_KEYS, SELECTION_KEYS, TAG_STATUSES};
use super::*;
use crate::template::testgen::Rng;
use serde_json::json;

fn messages(problems: &[PolicyProblem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.pointer, p.message))
        .collect()
}

fn assert_has(problems: &[PolicyProblem], pointer: &str, fragment: &str) {
    assert!(
        problems
            .iter()
            .any(|p| p.pointer == pointer && p.message.contains(fragment)),
        "no problem at `{pointer}` containing `{fragment}` in {:#?}",
        messages(problems)
    );
}

fn good_lifecycle() -> Value {
    json!({
        "rules": [
            {
                "rulePriority": 1,
                "description": "keep 10 release images",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["v*.*.*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": 10
                },
                "action": {"type": "expire"}
            },
            {
                "rulePriority": 2,
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 7
                },
                "action": {"type": "expire"}
            },
            {
                "rulePriority": 10,
                "selection": {
                    "tagStatus": "any",
                    "countType": "sinceImagePulled",
                    "countUnit": "days",
                    "countNumber": 90
                },
                "action": {"type": "transition", "targetStorageClass": "archive"}
            }
        ]
    })
}

#[test]
fn cloudformation_functions_are_accepted_where_strings_go() {
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::GetAtt": ["CiRole", "Arn"]}},
            "Action": "ecr:BatchGetImage",
            "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:ecr:*:${AWS::AccountId}:repository/*"}, {"Ref": "RepoArn"}],
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrgId"}}}
        }]
    });
    assert_eq!(validate(PolicyKind::Resource, &doc), vec![]);
    let bad = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": {"Nope": 1}}, "Action": "s3:GetObject"}]});
    assert!(!validate(PolicyKind::Resource, &bad).is_empty());
}

#[test]
fn kind_from_directory_name() {
    let doc = json!({});
    assert_eq!(kind_for("lifecycle/keep.json", &doc), PolicyKind::Lifecycle);
    for dir in ["repository", "resource", "bucket", "queue", "topic"] {
        assert_eq!(
            kind_for(&format!("{dir}/x.json"), &doc),
            PolicyKind::Resource,
            "{dir}"
        );
    }
    assert_eq!(kind_for("trust/ci.json", &doc), PolicyKind::Trust);
    assert_eq!(kind_for("iam/deploy.json", &doc), PolicyKind::Identity);
    assert_eq!(kind_for("identity/a/b.json", &doc), PolicyKind::Identity);
    assert_eq!(kind_for("policies/trust/ci.json", &doc), PolicyKind::Trust);
    assert_eq!(kind_for("./lifecycle/x.json", &doc), PolicyKind::Lifecycle);
    assert_eq!(kind_for("trust\\ci.json", &doc), PolicyKind::Trust);
}

#[test]
fn directory_name_wins_over_content() {
    let lifecycle = good_lifecycle();
    assert_eq!(kind_for("trust/x.json", &lifecycle), PolicyKind::Trust);
    assert_eq!(
        kind_for("lifecycle/x.json", &json!(null)),
        PolicyKind::Lifecycle
    );
}

#[test]
fn kind_guessed_from_content() {
    assert_eq!(kind_for("x.json", &good_lifecycle()), PolicyKind::Lifecycle);
    // The component is compared exactly: `trust.json` is not `trust`.
    assert_eq!(kind_for("trust.json", &json!({})), PolicyKind::Identity);
    assert_eq!(kind_for("trust", &json!({})), PolicyKind::Trust);
    assert_eq!(kind_for("Trust/x", &json!({})), PolicyKind::Identity);
    let trust = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
         "Action": ["sts:TagSession", "sts:AssumeRoleWithWebIdentity"]}
    ]});
    assert_eq!(kind_for("other/x.json", &trust), PolicyKind::Trust);
    let trust_single = json!({"Statement": {"Principal": "*", "Action": "sts:AssumeRole"}});
    assert_eq!(kind_for("x.json", &trust_single), PolicyKind::Trust);
    let resource = json!({"Statement": [{"Principal": {"AWS": "arn:aws:iam::1:root"},
        "Action": "ecr:BatchGetImage"}]});
    assert_eq!(kind_for("x.json", &resource), PolicyKind::Resource);
    let not_principal = json!({"Statement": [{"NotPrincipal": {"AWS": "x"}, "Action": "s3:*"}]});
    assert_eq!(kind_for("x.json", &not_principal), PolicyKind::Resource);
    let identity = json!({"Statement": [{"Action": "sts:AssumeRole", "Resource": "*"}]});
    assert_eq!(kind_for("x.json", &identity), PolicyKind::Identity);
    assert_eq!(kind_for("x.json", &json!([1, 2])), PolicyKind::Identity);
    assert_eq!(kind_for("", &json!("text")), PolicyKind::Identity);
}

#[test]
fn valid_lifecycle_policy_has_no_problems() {
    let problems = validate(PolicyKind::Lifecycle, &good_lifecycle());
    assert!(problems.is_empty(), "{:#?}", messages(&problems));
}

#[test]
fn lifecycle_root_shape() {
    assert_has(
        &validate(PolicyKind::Lifecycle, &json!([])),
        "",
        "must be an object",
    );
    assert_has(
        &validate(PolicyKind::Lifecycle, &json!({})),
        "",
        "needs `rules`",
    );
    let problems = validate(PolicyKind::Lifecycle, &json!({"rules": {}, "extra": 1}));
    assert_has(&problems, "/extra", "unknown key `extra`");
    assert_has(&problems, "/rules", "must be an array");
    assert_has(
        &validate(PolicyKind::Lifecycle, &json!({"rules": []})),
        "/rules",
        "at least one rule",
    );
}

#[test]
fn lifecycle_too_many_rules() {
    let rules: Vec<Value> = (1..=51)
        .map(|p| {
            json!({"rulePriority": p, "selection": {"tagStatus": "untagged",
                "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}})
        })
        .collect();
    let problems = validate(PolicyKind::Lifecycle, &json!({ "rules": rules }));
    assert_eq!(problems.len(), 1, "{:#?}", messages(&problems));
    assert_has(&problems, "/rules", "51 rules");
    let fifty = json!({"rules": rules[..50]});
    assert!(validate(PolicyKind::Lifecycle, &fifty).is_empty());
}

#[test]
fn lifecycle_reports_all_problems_with_rule_numbers() {
    let doc = json!({"rules": [
        {"rulePriority": 0, "selection": {"tagStatus": "tagged", "countType": "imageCountMoreThan",
         "countNumber": 0}, "action": {"type": "delete"}, "note": "x"},
        {"rulePriority": 1.5, "description": 3, "selection": "all", "action": []},
        "rule"
    ]});
    let problems = validate(PolicyKind::Lifecycle, &doc);
    assert_has(&problems, "/rules/0/note", "rule 1: unknown key `note`");
    assert_has(
        &problems,
        "/rules/0/rulePriority",
        "rule 1: `rulePriority` must be an integer from 1 to 999",
    );
    assert_has(
        &problems,
        "/rules/0/selection",
        "rule 1: `tagStatus` `tagged` needs `tagPrefixList` or `tagPatternList`",
    );
    assert_has(
        &problems,
        "/rules/0/selection/countNumber",
        "positive integer",
    );
    assert_has(
        &problems,
        "/rules/0/action/type",
        "must be `expire` or `transition`",
    );
    assert_has(&problems, "/rules/1/rulePriority", "rule 2:");
    assert_has(&problems, "/rules/1/description", "must be a string");
    assert_has(&problems, "/rules/1/selection", "must be an object");
    assert_has(&problems, "/rules/1/action", "must be an object");
    assert_has(&problems, "/rules/2", "rule 3: must be an object");
    assert_eq!(problems.len(), 10, "{:#?}", messages(&problems));
    // Document order.
    let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(pointers[0], "/rules/0/note");
    assert_eq!(pointers[9], "/rules/2");
}

#[test]
fn lifecycle_missing_required_keys() {
    let doc = json!({"rules": [{"selection": {}, "action": {}}, {}]});
    let problems = validate(PolicyKind::Lifecycle, &doc);
    assert_has(&problems, "/rules/0", "rule 1: missing `rulePriority`");
    assert_has(&problems, "/rules/0/selection", "missing `tagStatus`");
    assert_has(&problems, "/rules/0/selection", "missing `countType`");
    assert_has(&problems, "/rules/0/selection", "missing `countNumber`");
    assert_has(&problems, "/rules/0/action", "needs `type`");
    assert_has(&problems, "/rules/1", "rule 2: missing `rulePriority`");
    assert_has(&problems, "/rules/1", "rule 2: missing `selection`");
    assert_has(&problems, "/rules/1", "rule 2: missing `action`");
    assert_eq!(problems.len(), 8, "{:#?}", messages(&problems));
}

#[test]
fn lifecycle_priorities_unique_and_any_last() {
    let mut doc = good_lifecycle();
    doc["rules"][1]["rulePriority"] = json!(1);
    let problems = validate(PolicyKind::Lifecycle, &doc);
    assert_has(
        &problems,
        "/rules/1/rulePriority",
        "rule 2: `rulePriority` 1 is already used by rule 1",
    );
    assert_eq!(problems.len(), 1, "{:#?}", messages(&problems));

    let mut doc = good_lifecycle();
    doc["rules"][2]["rulePriority"] = json!(2);
    doc["rules"][1]["rulePriority"] = json!(5);
    let problems = validate(PolicyKind::Lifecycle, &doc);
    assert_has(
        &problems,
        "/rules/2/rulePriority",
        "rule 3: a rule with `tagStatus` `any` must have the highest `rulePriority`, but rule 2 has 5",
    );
    assert_eq!(problems.len(), 1, "{:#?}", messages(&problems));
}

#[test]
fn lifecycle_at_most_one_any_rule() {
    let mut doc = good_lifecycle();
    doc["rules"][0]["selection"] =
        json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 3});
    let problems = validate(PolicyKind::Lifecycle, &doc);
    assert_has(
        &problems,
        "/rules/0/rulePriority",
        "rule 1: a rule with `tagStatus` `any`",
    );
    assert_eq!(problems.len(), 1, "{:#?}", messages(&problems));
}

#[test]
fn lifecycle_tag_lists() {
    let selection = |s: Value| json!({"rules": [{"rulePriority": 1, "selection": s, "action": {"type": "expire"}}]});
    let problems = validate(
        PolicyKind::Lifecycle,
        &selection(
            json!({"tagStatus": "tagged", "tagPrefixList": ["a"], "tagPatternList": ["*a*b*c*d*e"],
            "countType": "imageCountMoreThan", "countNumber": 1}),
        ),
    );
    assert_has(&problems, "/rules/0/selection", "cannot be used together");
    assert_has(
        &problems,
        "/rules/0/selection/tagPatternList/0",
        "has 5 `*` wildcards",
    );
    assert_eq!(problems.len(), 2, "{:#?}", messages(&problems));

    let problems = validate(
        PolicyKind::Lifecycle,
        &selection(
            json!({"tagStatus": "tagged", "tagPatternList": ["*a*b*c*d"],
            "countType": "imageCountMoreThan", "countNumber": 1}),
        ),
    );
    assert!(problems.is_empty(), "{:#?}", messages(&problems));

    let problems = validate(
        PolicyKind::Lifecycle,
        &selection(
            json!({"tagStatus": "tagged", "tagPrefixList": [], "countType": "imageCountMoreThan", "countNumber": 1}),
        ),
    );
    assert_has(
        &problems,
        "/rules/0/selection/tagPrefixList",
        "must not be empty",
    );
    assert_eq!(problems.len(), 1);

    let problems = validate(
        PolicyKind::Lifecycle,
        &selection(
            json!({"tagStatus": "tagged", "tagPrefixList": ["", 3], "countType": "imageCountMoreThan", "countNumber": 1}),
        ),
    );
    assert_has(
        &problems,
        "/rules/0/selection/tagPrefixList/0",
        "empty entry",
    );
    assert_has(
        &problems,
        "/rules/0/selection/tagPrefixList/1",
        "must be strings",
    );
    assert_eq!(problems.len(), 2);

    let problems = validate(
        PolicyKind::Lifecycle,
        &selection(
            json!({"tagStatus": "untagged", "tagPrefixList": ["a"], "tagPatternList": "x",
            "countType": "imageCountMoreThan", "countNumber": 1}),
        ),
    );
    assert_has(
        &problems,
        "/rules/0/selection/tagPatternList",
        "must be an array of strings",
    );
    assert_has(
        &problems,
        "/rules/0/selection/tagPrefixList",
        "only allowed with `tagStatus` `tagged`, not `untagged`",
    );
    assert_has(
        &problems,
        "/rules/0/selection/tagPatternList",
        "only allowed with `tagStatus` `tagged`",
    );
    assert_eq!(problems.len(), 3, "{:#?}", messages(&problems));

    let problems = validate(
        PolicyKind::Lifecycle,
        &selection(
            json!({"tagStatus": "Tagged", "countType": "imageCountMoreThan", "countNumber": 1}),
        ),
    );
    assert_has(
        &problems,
        "/rules/0/selection/tagStatus",
        "must be `tagged`, `untagged` or `any`",
    );
    assert_eq!(problems.len(), 1);
}

#[test]
fn lifecycle_count_rules() {
    let selection = |s: Value| json!({"rules": [{"rulePriority": 1, "selection": s, "action": {"type": "expire"}}]});
    let problems = validate(
        PolicyKind::Lifecycle,
        &selection(
            json!({"tagStatus": "untagged", "countType": "imageCountMoreThan", "countUnit": "days", "countNumber": 1}),
        ),
    );
    assert_has(
        &problems,
        "/rules/0/selection/countUnit",
        "not allowed with `countType` `imageCountMoreThan`",
    );
    assert_eq!(problems.len(), 1);

    let problems = validate(
        PolicyKind::Lifecycle,
        &selection(
            json!({"tagStatus": "untagged", "countType": "sinceImagePushed", "countNumber": 1}),
        ),
    );
    assert_has(
        &problems,
        "/rules/0/selection",
        "`countType` `sinceImagePushed` needs `countUnit` `days`",
    );
    assert_eq!(problems.len(), 1);

    let problems = validate(
        PolicyKind::Lifecycle,
        &selection(
            json!({"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "hours", "countNumber": -1}),
        ),
    );
    assert_has(&problems, "/rules/0/selection/countUnit", "must be `days`");
    assert_has(
        &problems,
        "/rules/0/selection/countNumber",
        "must be a positive integer, not -1",
    );
    assert_eq!(problems.len(), 2);

    let problems = validate(
        PolicyKind::Lifecycle,
        &selection(
            json!({"tagStatus": "untagged", "countType": "imageCountLessThan", "countNumber": "3"}),
        ),
    );
    assert_has(
        &problems,
        "/rules/0/selection/countType",
        "must be `imageCountMoreThan`",
    );
    assert_has(
        &problems,
        "/rules/0/selection/countNumber",
        "positive integer",
    );
    assert_eq!(problems.len(), 2);
}

#[test]
fn lifecycle_storage_class_and_transition() {
    let rule =
        |s: Value, a: Value| json!({"rules": [{"rulePriority": 1, "selection": s, "action": a}]});
    let ok = rule(
        json!({"tagStatus": "untagged", "storageClass": "archive", "countType": "sinceImageTransitioned",
            "countUnit": "days", "countNumber": 90}),
        json!({"type": "expire"}),
    );
    assert!(validate(PolicyKind::Lifecycle, &ok).is_empty());

    let problems = validate(
        PolicyKind::Lifecycle,
        &rule(
            json!({"tagStatus": "untagged", "storageClass": "glacier", "countType": "imageCountMoreThan", "countNumber": 1}),
            json!({"type": "transition"}),
        ),
    );
    assert_has(
        &problems,
        "/rules/0/selection/storageClass",
        "must be `standard` or `archive`",
    );
    assert_has(
        &problems,
        "/rules/0/action",
        "`type` `transition` needs `targetStorageClass` `archive`",
    );
    assert_eq!(problems.len(), 2, "{:#?}", messages(&problems));

    let problems = validate(
        PolicyKind::Lifecycle,
        &rule(
            json!({"tagStatus": "untagged", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 1}),
            json!({"type": "expire", "targetStorageClass": "archive", "when": "now"}),
        ),
    );
    assert_has(&problems, "/rules/0/selection", "needs `storageClass`");
    assert_has(
        &problems,
        "/rules/0/action/targetStorageClass",
        "only allowed with `type` `transition`",
    );
    assert_has(&problems, "/rules/0/action/when", "unknown key `when`");
    assert_eq!(problems.len(), 3, "{:#?}", messages(&problems));

    let problems = validate(
        PolicyKind::Lifecycle,
        &rule(
            json!({"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}),
            json!({"type": "transition", "targetStorageClass": "standard"}),
        ),
    );
    assert_has(
        &problems,
        "/rules/0/action/targetStorageClass",
        "must be `archive`",
    );
    assert_eq!(problems.len(), 1);
}

#[test]
fn lifecycle_unknown_selection_key_is_escaped_in_pointer() {
    let doc = json!({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged",
        "countType": "imageCountMoreThan", "countNumber": 1, "a/b~c": true}, "action": {"type": "expire"}}]});
    let problems = validate(PolicyKind::Lifecycle, &doc);
    assert_has(
        &problems,
        "/rules/0/selection/a~1b~0c",
        "rule 1: unknown key `a/b~c`",
    );
    assert_eq!(problems.len(), 1);
}

fn identity() -> Value {
    json!({
        "Version": "2012-10-17",
        "Id": "deploy",
        "Statement": [
            {"Sid": "Push", "Effect": "Allow", "Action": ["ecr:PutImage", "ecr:Upload*"],
             "Resource": "arn:aws:ecr:*:*:repository/app"},
            {"Effect": "Deny", "NotAction": "iam:*", "NotResource": ["arn:aws:s3:::x"],
             "Condition": {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-west-2"]},
                           "Bool": {"aws:SecureTransport": false},
                           "NumericLessThan": {"s3:max-keys": 10}}}
        ]
    })
}

#[test]
fn valid_identity_policy_has_no_problems() {
    let problems = validate(PolicyKind::Identity, &identity());
    assert!(problems.is_empty(), "{:#?}", messages(&problems));
    let mut old = identity();
    old["Version"] = json!("2008-10-17");
    assert!(validate(PolicyKind::Identity, &old).is_empty());
}

#[test]
fn document_root_problems() {
    assert_has(
        &validate(PolicyKind::Identity, &json!("x")),
        "",
        "must be an object",
    );
    let problems = validate(PolicyKind::Identity, &json!({"Id": 3, "Extra": true}));
    assert_has(&problems, "/Extra", "unknown key `Extra`");
    assert_has(&problems, "", "missing `Version`");
    assert_has(&problems, "/Id", "must be a string");
    assert_has(&problems, "", "missing `Statement`");
    assert_eq!(problems.len(), 4, "{:#?}", messages(&problems));

    let problems = validate(
        PolicyKind::Identity,
        &json!({"Version": "2012-10-18", "Statement": []}),
    );
    assert_has(&problems, "/Version", "must be `2012-10-17`");
    assert_has(&problems, "/Statement", "must not be empty");
    assert_eq!(problems.len(), 2);

    let problems = validate(
        PolicyKind::Identity,
        &json!({"Version": "2012-10-17", "Statement": "x"}),
    );
    assert_has(&problems, "/Statement", "object or an array of objects");
    let problems = validate(
        PolicyKind::Identity,
        &json!({"Version": "2012-10-17", "Statement": [1]}),
    );
    assert_has(&problems, "/Statement/0", "statement 1: must be an object");
}

#[test]
fn statement_problems_are_all_reported() {
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "a-b", "Effect": "allow", "Action": "s3:GetObject", "NotAction": "s3:*",
         "Resource": "*", "NotResource": "*", "Principal": "*", "Extra": 1},
        {"Action": []},
        {"Sid": "One", "Effect": "Allow", "Action": ["S3:Get", "s3", "s3:", "*", 4, "s3:Get Object"],
         "Resource": 5},
        {"Sid": "One", "Effect": "Deny", "Action": "*", "Resource": [], "Sid2": 1}
    ]});
    let problems = validate(PolicyKind::Identity, &doc);
    assert_has(
        &problems,
        "/Statement/0/Extra",
        "statement 1: unknown key `Extra`",
    );
    assert_has(&problems, "/Statement/0/Sid", "must be alphanumeric");
    assert_has(
        &problems,
        "/Statement/0/Effect",
        "must be `Allow` or `Deny`",
    );
    assert_has(
        &problems,
        "/Statement/0/Principal",
        "not allowed in an identity policy",
    );
    assert_has(
        &problems,
        "/Statement/0/NotAction",
        "cannot be used together",
    );
    assert_has(
        &problems,
        "/Statement/0/NotResource",
        "cannot be used together",
    );
    assert_has(&problems, "/Statement/1", "statement 2: missing `Effect`");
    assert_has(&problems, "/Statement/1/Action", "must not be empty");
    assert_has(
        &problems,
        "/Statement/1",
        "needs `Resource` or `NotResource`",
    );
    assert_has(&problems, "/Statement/2/Action/0", "action `S3:Get`");
    assert_has(&problems, "/Statement/2/Action/1", "action `s3`");
    assert_has(&problems, "/Statement/2/Action/2", "action `s3:`");
    assert_has(&problems, "/Statement/2/Action/4", "must be strings");
    assert_has(&problems, "/Statement/2/Action/5", "action `s3:Get Object`");
    assert_has(
        &problems,
        "/Statement/2/Resource",
        "string or an array of strings",
    );
    assert_has(&problems, "/Statement/3/Sid2", "unknown key");
    assert_has(
        &problems,
        "/Statement/3/Sid",
        "statement 4: `Sid` `One` is already used by statement 3",
    );
    assert_has(&problems, "/Statement/3/Resource", "must not be empty");
    assert_eq!(problems.len(), 18, "{:#?}", messages(&problems));
}

#[test]
fn single_statement_object_and_empty_sids() {
    let doc = json!({"Version": "2012-10-17", "Statement":
        {"Sid": "", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}});
    assert!(validate(PolicyKind::Identity, &doc).is_empty());
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
        {"Sid": "", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]});
    assert!(validate(PolicyKind::Identity, &doc).is_empty());
    let doc = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Resource": "*"}});
    let problems = validate(PolicyKind::Identity, &doc);
    assert_has(
        &problems,
        "/Statement",
        "statement 1: needs `Action` or `NotAction`",
    );
    assert_eq!(problems.len(), 1);
}

#[test]
fn resource_policy_rules() {
    let ok = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Pull", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::111122223333:root"], "Service": "lambda.amazonaws.com"},
         "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]},
        {"Effect": "Deny", "NotPrincipal": {"CanonicalUser": "abc"}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}
    ]});
    let problems = validate(PolicyKind::Resource, &ok);
    assert!(problems.is_empty(), "{:#?}", messages(&problems));

    let bad = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*"},
        {"Effect": "Allow", "Principal": "*", "NotPrincipal": "*", "Action": "s3:*"},
        {"Effect": "Allow", "Principal": "arn:aws:iam::1:root", "Action": "s3:*"},
        {"Effect": "Allow", "Principal": {"Aws": "x", "Service": [], "Federated": [1]}, "Action": "s3:*"},
        {"Effect": "Allow", "Principal": {}, "Action": "s3:*"}
    ]});
    let problems = validate(PolicyKind::Resource, &bad);
    assert_has(
        &problems,
        "/Statement/0",
        "needs `Principal` or `NotPrincipal`",
    );
    assert_has(
        &problems,
        "/Statement/1/NotPrincipal",
        "cannot be used together",
    );
    assert_has(
        &problems,
        "/Statement/2/Principal",
        "must be `\"*\"` or an object",
    );
    assert_has(
        &problems,
        "/Statement/3/Principal/Aws",
        "unknown principal type `Aws`",
    );
    assert_has(
        &problems,
        "/Statement/3/Principal/Service",
        "must not be empty",
    );
    assert_has(
        &problems,
        "/Statement/3/Principal/Federated/0",
        "must be strings",
    );
    assert_has(&problems, "/Statement/4/Principal", "names no principal");
    assert_eq!(problems.len(), 7, "{:#?}", messages(&problems));
}

#[test]
fn trust_policy_rules() {
    let ok = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
        "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:assumerole"],
        "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:o/r:*"}}
    }]});
    let problems = validate(PolicyKind::Trust, &ok);
    assert!(problems.is_empty(), "{:#?}", messages(&problems));

    let bad = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
        {"Effect": "Allow", "NotPrincipal": {"AWS": "x"}, "Principal": "*",
         "Action": ["sts:AssumeRole", "s3:GetObject", "sts:*"], "NotResource": "*"}
    ]});
    let problems = validate(PolicyKind::Trust, &bad);
    assert_has(
        &problems,
        "/Statement/0",
        "statement 1: a trust policy needs `Principal`",
    );
    assert_has(
        &problems,
        "/Statement/0/Resource",
        "not allowed in a trust policy",
    );
    assert_has(
        &problems,
        "/Statement/1/NotPrincipal",
        "not allowed in a trust policy",
    );
    assert_has(
        &problems,
        "/Statement/1/Action/1",
        "action `s3:GetObject` is not allowed in a trust policy",
    );
    assert_has(
        &problems,
        "/Statement/1/Action/2",
        "action `sts:*` is not allowed",
    );
    assert_has(
        &problems,
        "/Statement/1/NotResource",
        "not allowed in a trust policy",
    );
    assert_eq!(problems.len(), 6, "{:#?}", messages(&problems));
}

#[test]
fn condition_shape() {
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": []},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {
            "StringEquals": "x",
            "StringLike": {"a": null, "b": {"c": 1}, "d": [1, "x", true, [2], {}], "e": 1.5}
        }}
    ]});
    let problems = validate(PolicyKind::Identity, &doc);
    assert_has(
        &problems,
        "/Statement/0/Condition",
        "must be an object of operators",
    );
    assert_has(
        &problems,
        "/Statement/1/Condition/StringEquals",
        "operator `StringEquals`",
    );
    assert_has(
        &problems,
        "/Statement/1/Condition/StringLike/a",
        "condition key `a`",
    );
    assert_has(
        &problems,
        "/Statement/1/Condition/StringLike/b",
        "condition key `b`",
    );
    assert_has(
        &problems,
        "/Statement/1/Condition/StringLike/d/3",
        "condition key `d`",
    );
    assert_has(
        &problems,
        "/Statement/1/Condition/StringLike/d/4",
        "condition key `d`",
    );
    assert_eq!(problems.len(), 6, "{:#?}", messages(&problems));
}

#[test]
fn messages_start_lower_case() {
    let docs = [
        (PolicyKind::Lifecycle, json!({"x": 1, "rules": [{}]})),
        (PolicyKind::Trust, json!({"x": 1, "Statement": [{}]})),
        (PolicyKind::Identity, json!(null)),
    ];
    for (kind, doc) in docs {
        for p in validate(kind, &doc) {
            let first = p.message.chars().next().unwrap_or(' ');
            assert!(first.is_lowercase() || first == '`', "{}", p.message);
        }
    }
}

#[test]
fn random_documents_never_panic() {
    let mut words: Vec<&str> = vec!["rules", "Version", "Id", "2012-10-17"];
    words.extend(RULE_KEYS);
    words.extend(SELECTION_KEYS);
    words.extend(ACTION_KEYS);
    words.extend(TAG_STATUSES);
    words.extend(COUNT_TYPES);
    words.extend(STATEMENT_KEYS);
    words.extend(PRINCIPAL_KEYS);
    words.extend(TRUST_ACTIONS);
    words.extend([
        "expire",
        "transition",
        "archive",
        "days",
        "Allow",
        "*",
        "s3:Get*",
        "a/~b",
    ]);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut deep = 0;
    for i in 0..2000 {
        let doc = match i % 3 {
            0 => rng.value(&words, 6),
            1 => json!({"rules": [rng.value(&words, 4), rng.value(&words, 4)]}),
            _ => {
                json!({"Version": "2012-10-17", "Statement": [rng.value(&words, 4), rng.value(&words, 4)]})
            }
        };
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        let kind = kind_for("x", &doc);
        for kind in [
            kind,
            PolicyKind::Lifecycle,
            PolicyKind::Identity,
            PolicyKind::Resource,
            PolicyKind::Trust,
        ] {
            for p in validate(kind, &doc) {
                deep += usize::from(p.pointer.matches('/').count() > 2);
                assert!(p.pointer.is_empty() || p.pointer.starts_with('/'), "{p:?}");
                assert!(doc.pointer(&p.pointer).is_some(), "{p:?} in {doc}");
                assert!(
                    crate::locate::json_pointer_position(&text, &p.pointer).is_some(),
                    "{p:?} in {text}"
                );
                assert!(!p.message.is_empty());
            }
        }
    }
    // The generator reaches problems deep in documents.
    assert!(deep > 500, "{deep}");
}
#[test]
fn action_patterns() {
    for ok in [
        "*",
        "s3:GetObject",
        "execute-api:Invoke",
        "ec2:Describe*",
        "s3:Get?bject",
        "a4b:x",
    ] {
        assert!(is_action_pattern(ok), "{ok}");
    }
    for bad in [
        "",
        "s3",
        ":x",
        "s3:",
        "S3:Get",
        "s3:Get Object",
        "s_3:x",
        "s3:Get:Object",
        "*:*",
    ] {
        assert!(!is_action_pattern(bad), "{bad}");
    }
}

#[test]
fn a_condition_reference_in_a_policy_is_no_function() {
    // `{"Condition": X}` is a function only in a template's `Conditions`; in a policy it is an
    // object where a string belongs. `Ref` and `Fn::*` are taken as written.
    let doc = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:GetObject", {"Condition": "IsProd"}],
            "Resource": [{"Ref": "BucketArn"}, {"Fn::Sub": "${BucketArn}/*"}]
        }]
    });
    let problems = validate(PolicyKind::Identity, &doc);
    assert_eq!(problems.len(), 1, "{:#?}", messages(&problems));
    assert_eq!(problems[0].pointer, "/Statement/0/Action/1");
}
