//! Unit tests of the schema checks: for each, a broken template found at its pointer (with a
//! did-you-mean where there is one) and its fixed twin that passes.

use super::super::tests::summary;
use super::super::{lint, LintFinding, LintInput};
use crate::diag::Severity;
use serde_json::{json, Value};

fn run(template: &Value) -> Vec<LintFinding> {
    lint(&LintInput {
        template,
        size_bytes: 1000,
        provided_parameters: &[],
        resource_schemas: true,
        regions: &[],
    })
}

/// One resource `R` of `type_name` with `properties`.
fn one(type_name: &str, properties: Value) -> Value {
    json!({"Resources": {"R": {"Type": type_name, "Properties": properties}}})
}

/// The template has exactly one finding, an error of `code` at `pointer` with `fragment`.
fn rejects(template: &Value, code: &str, pointer: &str, fragment: &str) {
    let findings = run(template);
    assert!(
        findings.len() == 1
            && findings[0].code == code
            && findings[0].pointer == pointer
            && findings[0].severity == Severity::Error
            && findings[0].message.contains(fragment),
        "wanted one `{code}` at `{pointer}` containing `{fragment}`, got {:#?}",
        summary(&findings)
    );
}

fn accepts(template: &Value) {
    let findings = run(template);
    assert!(findings.is_empty(), "{:#?}", summary(&findings));
}

#[test]
fn unknown_resource_types_are_rejected_with_a_did_you_mean() {
    rejects(
        &one("AWS::ECR::Repo", json!({})),
        "unknown-resource-type",
        "/Resources/R/Type",
        "did you mean `AWS::ECR::Repository`?",
    );
    rejects(
        &one("AWS::S3::Bukcet", json!({})),
        "unknown-resource-type",
        "/Resources/R/Type",
        "did you mean `AWS::S3::Bucket`?",
    );
    rejects(
        &one("AWS::Ecr::Repository", json!({})),
        "unknown-resource-type",
        "/Resources/R/Type",
        "did you mean `AWS::ECR::Repository`?",
    );
    accepts(&one("AWS::ECR::Repository", json!({})));
    // Types no schema describes.
    accepts(&one(
        "Custom::Anything",
        json!({"ServiceToken": "arn", "X": 1}),
    ));
    accepts(&one(
        "AWS::CloudFormation::CustomResource",
        json!({"ServiceToken": "arn"}),
    ));
    accepts(&one("MyOrg::Storage::Bucket::MODULE", json!({"X": 1})));
    accepts(&one("MyOrg::Storage::Bucket", json!({"X": 1})));
    // Under a transform (SAM), types the schemas do not have are the transform's.
    let mut sam = one(
        "AWS::Serverless::Function",
        json!({"Runtime": "python3.12"}),
    );
    sam["Transform"] = json!("AWS::Serverless-2016-10-31");
    accepts(&sam);
}

#[test]
fn unknown_properties_are_rejected_with_a_did_you_mean() {
    rejects(
        &one("AWS::ECR::Repository", json!({"RepositoryNam": "team/api"})),
        "unknown-property",
        "/Resources/R/Properties/RepositoryNam",
        "did you mean `RepositoryName`?",
    );
    accepts(&one(
        "AWS::ECR::Repository",
        json!({"RepositoryName": "team/api"}),
    ));
    // Nested objects are closed too.
    rejects(
        &one(
            "AWS::ECR::Repository",
            json!({"ImageScanningConfiguration": {"ScanOnPsh": true}}),
        ),
        "unknown-property",
        "/Resources/R/Properties/ImageScanningConfiguration/ScanOnPsh",
        "did you mean `ScanOnPush`?",
    );
    accepts(&one(
        "AWS::ECR::Repository",
        json!({"ImageScanningConfiguration": {"ScanOnPush": true}}),
    ));
}

#[test]
fn missing_required_properties_are_rejected() {
    rejects(
        &one("AWS::IAM::Role", json!({"RoleName": "ci"})),
        "missing-property",
        "/Resources/R/Properties",
        "required property `AssumeRolePolicyDocument`",
    );
    accepts(&one(
        "AWS::IAM::Role",
        json!({"RoleName": "ci", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}),
    ));
    // Nested, and `AWS::NoValue` counts as absent.
    rejects(
        &one(
            "AWS::ECR::Repository",
            json!({"EncryptionConfiguration": {"KmsKey": "k", "EncryptionType": {"Ref": "AWS::NoValue"}}}),
        ),
        "missing-property",
        "/Resources/R/Properties/EncryptionConfiguration",
        "`EncryptionType` in `EncryptionConfiguration`",
    );
    accepts(&one(
        "AWS::ECR::Repository",
        json!({"EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": "k"}}),
    ));
    // No `Properties` at all.
    rejects(
        &json!({"Resources": {"R": {"Type": "AWS::IAM::Role"}}}),
        "missing-property",
        "/Resources/R",
        "no `Properties`",
    );
}

#[test]
fn read_only_properties_are_rejected() {
    rejects(
        &one("AWS::ECR::Repository", json!({"Arn": "arn:aws:ecr:x"})),
        "read-only-property",
        "/Resources/R/Properties/Arn",
        "`Arn` is read-only",
    );
}

#[test]
fn wrong_types_are_rejected_and_conversions_accepted() {
    rejects(
        &one("AWS::ECR::Repository", json!({"EmptyOnDelete": {"yes": 1}})),
        "wrong-type",
        "/Resources/R/Properties/EmptyOnDelete",
        "must be a boolean, not an object",
    );
    rejects(
        &one(
            "AWS::ECR::Repository",
            json!({"Tags": {"Key": "a", "Value": "b"}}),
        ),
        "wrong-type",
        "/Resources/R/Properties/Tags",
        "must be an array, not an object",
    );
    rejects(
        &one("AWS::SQS::Queue", json!({"DelaySeconds": "soon"})),
        "wrong-type",
        "/Resources/R/Properties/DelaySeconds",
        "must be an integer, not a string (`soon`)",
    );
    // CloudFormation converts scalars: "true" is a boolean, 5 and "5" integers, 5 a string.
    accepts(&one(
        "AWS::SQS::Queue",
        json!({"DelaySeconds": "5", "FifoQueue": "true", "QueueName": "q.fifo", "MessageRetentionPeriod": 60}),
    ));
    accepts(&one(
        "AWS::ECR::Repository",
        json!({"EmptyOnDelete": "false"}),
    ));
}

#[test]
fn enum_values_are_rejected_with_a_did_you_mean() {
    rejects(
        &one(
            "AWS::ECR::Repository",
            json!({"ImageTagMutability": "IMMUTABEL"}),
        ),
        "bad-enum-value",
        "/Resources/R/Properties/ImageTagMutability",
        "did you mean `IMMUTABLE`?",
    );
    accepts(&one(
        "AWS::ECR::Repository",
        json!({"ImageTagMutability": "IMMUTABLE"}),
    ));
}

#[test]
fn patterns_lengths_and_ranges_are_checked() {
    rejects(
        &one(
            "AWS::ECR::Repository",
            json!({"LifecyclePolicy": {"RegistryId": "12345678901x"}}),
        ),
        "pattern-mismatch",
        "/Resources/R/Properties/LifecyclePolicy/RegistryId",
        "does not match the pattern",
    );
    accepts(&one(
        "AWS::ECR::Repository",
        json!({"LifecyclePolicy": {"RegistryId": "123456789012"}}),
    ));
    rejects(
        &one("AWS::ECR::Repository", json!({"RepositoryName": "a"})),
        "bad-length",
        "/Resources/R/Properties/RepositoryName",
        "shorter than the minimum of 2",
    );
    rejects(
        &one("AWS::SQS::Queue", json!({"DelaySeconds": 901})),
        "out-of-range",
        "/Resources/R/Properties/DelaySeconds",
        "more than the maximum of 900",
    );
    accepts(&one("AWS::SQS::Queue", json!({"DelaySeconds": 900})));
}

#[test]
fn intrinsic_functions_are_taken_as_written() {
    accepts(&json!({
        "Parameters": {"Name": {"Type": "String", "Default": "n"}},
        "Conditions": {"C": {"Fn::Equals": ["a", "b"]}},
        "Resources": {"R": {
            "Type": "AWS::ECR::Repository",
            "DeletionPolicy": "Retain",
            "Properties": {
                "RepositoryName": {"Ref": "Name"},
                "EmptyOnDelete": {"Fn::If": ["C", true, {"Ref": "AWS::NoValue"}]},
                "ImageTagMutability": {"Fn::If": ["C", "IMMUTABLE", "MUTABLE"]},
                "Tags": [{"Fn::If": ["C", {"Key": "a", "Value": "b"}, {"Ref": "AWS::NoValue"}]},
                         {"Key": {"Fn::Sub": "${Name}"}, "Value": {"Fn::Join": ["", ["x"]]}}],
                "EncryptionConfiguration": {"Fn::If": ["C", {"EncryptionType": "KMS"}, {"Ref": "AWS::NoValue"}]}
            }
        }}
    }));
    let mut whole = one("AWS::IAM::Role", json!({"Fn::If": ["C", {}, {}]}));
    whole["Conditions"] = json!({"C": {"Fn::Equals": ["a", "b"]}});
    accepts(&whole);
}

#[test]
fn getatt_attributes_must_exist_with_a_did_you_mean() {
    let template = |attribute: &str| {
        json!({"Resources": {
            "Repo": {"Type": "AWS::ECR::Repository"},
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::GetAtt": ["Repo", attribute]}}},
            "Q2": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::GetAtt": format!("Repo.{attribute}")}}}
        }})
    };
    let findings = run(&template("RepositoryUrl"));
    assert_eq!(
        summary(&findings),
        [
            "error unknown-attribute /Resources/Q/Properties/QueueName/Fn::GetAtt/1: `Fn::GetAtt` asks `Repo` (`AWS::ECR::Repository`) for `RepositoryUrl`, which it does not have; did you mean `RepositoryUri`? (it has `Arn` or `RepositoryUri`)",
            "error unknown-attribute /Resources/Q2/Properties/QueueName/Fn::GetAtt: `Fn::GetAtt` asks `Repo` (`AWS::ECR::Repository`) for `RepositoryUrl`, which it does not have; did you mean `RepositoryUri`? (it has `Arn` or `RepositoryUri`)",
        ]
    );
    accepts(&template("RepositoryUri"));
    // A nested stack's outputs and a custom resource's attributes are open.
    accepts(&json!({"Resources": {
        "S": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://x"}},
        "C": {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn"}},
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": {"Fn::GetAtt": ["S", "Outputs.Name"]},
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["C", "Whatever"]}, "maxReceiveCount": 3}
        }}
    }}));
}

#[test]
fn off_checks_nothing_against_schemas() {
    let t = one("AWS::ECR::Repo", json!({"X": 1}));
    let findings = lint(&LintInput {
        template: &t,
        size_bytes: 1000,
        provided_parameters: &[],
        resource_schemas: false,
        regions: &[],
    });
    assert!(findings.is_empty(), "{:#?}", summary(&findings));
}

#[test]
fn types_a_region_lacks_are_rejected_there() {
    let t = one("AWS::ECR::PublicRepository", json!({}));
    let regions = ["us-east-1".to_owned(), "af-south-1".to_owned()];
    let findings = lint(&LintInput {
        template: &t,
        size_bytes: 1000,
        provided_parameters: &[],
        resource_schemas: true,
        regions: &regions,
    });
    assert_eq!(
        summary(&findings),
        ["error unavailable-resource-type /Resources/R/Type: resource `R` has type `AWS::ECR::PublicRepository`, which CloudFormation does not offer in `af-south-1`"]
    );
    let findings = lint(&LintInput {
        template: &t,
        size_bytes: 1000,
        provided_parameters: &[],
        resource_schemas: true,
        regions: &regions[..1],
    });
    assert!(findings.is_empty(), "{:#?}", summary(&findings));
}

#[test]
fn function_keys_in_properties_are_left_to_deployment() {
    accepts(&one(
        "AWS::ECR::Repository",
        json!({"RepositoryName": "team/api", "Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}}),
    ));
}

#[test]
fn sub_attributes_are_checked_like_getatt() {
    let template = |attribute: &str| {
        json!({"Resources": {
            "Repo": {"Type": "AWS::ECR::Repository"},
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": format!("${{Repo.{attribute}}}-q")}}}
        }})
    };
    rejects(
        &template("RepositoryUrl"),
        "unknown-attribute",
        "/Resources/Q/Properties/QueueName/Fn::Sub",
        "for `RepositoryUrl`, which it does not have; did you mean `RepositoryUri`?",
    );
    accepts(&template("RepositoryUri"));
}

#[test]
fn a_list_only_where_a_list_goes_and_one_value_only_where_one_goes() {
    let template = |names: &str, groups: &str| {
        json!({
            "Parameters": {
                "Name": {"Type": names, "Default": "a"},
                "Groups": {"Type": groups, "Default": "sg-1"}
            },
            "Resources": {
                "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": {"Ref": "Name"}}},
                "I": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1", "SecurityGroupIds": {"Ref": "Groups"}}}
            }
        })
    };
    let findings = run(&template(
        "CommaDelimitedList",
        "AWS::EC2::SecurityGroup::Id",
    ));
    assert_eq!(
        summary(&findings),
        [
            "error wrong-type /Resources/Repo/Properties/RepositoryName: resource `Repo` \
             (`AWS::ECR::Repository`): `RepositoryName` must be a string, but `Ref` of parameter \
             `Name` (`CommaDelimitedList`) gives a list (join it: `!Join [\",\", !Ref ...]`)",
            "error wrong-type /Resources/I/Properties/SecurityGroupIds: resource `I` \
             (`AWS::EC2::Instance`): `SecurityGroupIds` must be a list, but `Ref` of parameter \
             `Groups` (`AWS::EC2::SecurityGroup::Id`) gives one value (make it a list type such \
             as `CommaDelimitedList`, or write `[!Ref Groups]`)",
        ]
    );
    accepts(&template("String", "List<AWS::EC2::SecurityGroup::Id>"));
    // One value in a list of them is fine; a list inside a list is not.
    let mut t = template("String", "AWS::EC2::SecurityGroup::Id");
    t["Resources"]["I"]["Properties"]["SecurityGroupIds"] = json!([{"Ref": "Groups"}]);
    accepts(&t);
    let mut t = template("String", "List<AWS::EC2::SecurityGroup::Id>");
    t["Resources"]["I"]["Properties"]["SecurityGroupIds"] = json!([{"Ref": "Groups"}]);
    rejects(
        &t,
        "wrong-type",
        "/Resources/I/Properties/SecurityGroupIds/0",
        "gives a list",
    );
}

#[test]
fn one_of_at_least_one_of_needs_and_excludes() {
    // Exactly one of: none, and two.
    rejects(
        &one(
            "AWS::AutoScaling::AutoScalingGroup",
            json!({"MaxSize": "2", "MinSize": "1"}),
        ),
        "missing-property",
        "/Resources/R/Properties",
        "resource `R` (`AWS::AutoScaling::AutoScalingGroup`) needs one of `InstanceId` or \
         `LaunchConfigurationName` or `LaunchTemplate` or `MixedInstancesPolicy`",
    );
    rejects(
        &one(
            "AWS::AutoScaling::AutoScalingGroup",
            json!({"MaxSize": "2", "MinSize": "1", "InstanceId": "i-1", "LaunchConfigurationName": "lc"}),
        ),
        "exclusive-properties",
        "/Resources/R/Properties/LaunchConfigurationName",
        "takes only one of `InstanceId` or `LaunchConfigurationName` or `LaunchTemplate` or \
         `MixedInstancesPolicy`, but has `InstanceId` or `LaunchConfigurationName`",
    );
    accepts(&one(
        "AWS::AutoScaling::AutoScalingGroup",
        json!({"MaxSize": "2", "MinSize": "1", "LaunchConfigurationName": "lc"}),
    ));
    // A Fn::If may leave one out: not judged.
    accepts(&json!({
        "Conditions": {"C": {"Fn::Equals": ["a", "b"]}},
        "Resources": {"R": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {
            "MaxSize": "2", "MinSize": "1", "InstanceId": "i-1",
            "LaunchConfigurationName": {"Fn::If": ["C", "lc", {"Ref": "AWS::NoValue"}]}
        }}}
    }));
    // At least one of.
    rejects(
        &one("AWS::Events::Rule", json!({"State": "ENABLED"})),
        "missing-property",
        "/Resources/R/Properties",
        "needs at least one of `EventPattern` or `ScheduleExpression`",
    );
    accepts(&one(
        "AWS::Events::Rule",
        json!({"ScheduleExpression": "rate(1 day)", "EventPattern": {"source": ["x"]}}),
    ));
    // Excludes, reported once however many ways the schema states it, at the later key.
    let alarm = |extra: Value| {
        let mut p = json!({"ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1,
            "MetricName": "Errors", "Namespace": "AWS/Lambda", "Period": 60, "Threshold": 1});
        for (k, v) in extra.as_object().into_iter().flatten() {
            p[k] = v.clone();
        }
        one("AWS::CloudWatch::Alarm", p)
    };
    rejects(
        &alarm(json!({"Statistic": "Sum", "ExtendedStatistic": "p99"})),
        "exclusive-properties",
        "/Resources/R/Properties/ExtendedStatistic",
        "`Statistic` and `ExtendedStatistic` exclude each other",
    );
    accepts(&alarm(json!({"Statistic": "Sum"})));
}

#[test]
fn item_counts_and_unique_items() {
    let repo = |filters: Value| {
        one(
            "AWS::ECR::Repository",
            json!({"ImageTagMutability": "IMMUTABLE_WITH_EXCLUSION", "ImageTagMutabilityExclusionFilters": filters}),
        )
    };
    let filter = |v: &str| json!({"ImageTagMutabilityExclusionFilterType": "WILDCARD", "ImageTagMutabilityExclusionFilterValue": v});
    rejects(
        &repo(json!([])),
        "bad-count",
        "/Resources/R/Properties/ImageTagMutabilityExclusionFilters",
        "`ImageTagMutabilityExclusionFilters` has 0 items, fewer than the minimum of 1",
    );
    let six: Vec<Value> = (0..6).map(|i| filter(&format!("v{i}*"))).collect();
    rejects(
        &repo(json!(six)),
        "bad-count",
        "/Resources/R/Properties/ImageTagMutabilityExclusionFilters",
        "has 6 items, more than the maximum of 5",
    );
    accepts(&repo(json!([filter("latest"), filter("dev-*")])));
    // Unique items.
    let tags = |b: &str| {
        one(
            "AWS::ECR::Repository",
            json!({"Tags": [{"Key": "a", "Value": "1"}, {"Key": b, "Value": "1"}]}),
        )
    };
    rejects(
        &tags("a"),
        "duplicate-item",
        "/Resources/R/Properties/Tags/1",
        "`Tags` lists ",
    );
    accepts(&tags("b"));
}
