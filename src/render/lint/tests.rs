//! Tests of the rendered template's lint: structure, references, schemas and the checks
//! across stacks.

use super::refs::{is_resource_type, sub_references};
use super::*;
use crate::template::testgen::Rng;
use crate::text::{child, edit_distance, one_of, thousands};
use serde_json::json;

fn run(template: &Value, provided: &[&str]) -> Vec<LintFinding> {
    let provided: Vec<String> = provided.iter().map(|s| (*s).to_owned()).collect();
    lint(&LintInput {
        template,
        size_bytes: 1000,
        provided_parameters: &provided,
        resource_schemas: false,
        regions: &[],
    })
}

/// Findings as `severity code pointer: message` lines, to compare whole.
pub(super) fn summary(findings: &[LintFinding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| format!("{} {} {}: {}", f.severity, f.code, f.pointer, f.message))
        .collect()
}

fn codes(findings: &[LintFinding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code).collect()
}

fn assert_finding(findings: &[LintFinding], code: &str, pointer: &str, fragment: &str) {
    assert!(
        findings
            .iter()
            .any(|f| f.code == code && f.pointer == pointer && f.message.contains(fragment)),
        "no `{code}` at `{pointer}` containing `{fragment}` in {:#?}",
        summary(findings)
    );
}

fn good() -> Value {
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "repositories",
        "Parameters": {
            "Env": {"Type": "String"},
            "Retain": {"Type": "String", "Default": "7"}
        },
        "Mappings": {"Accounts": {"dev": {"Id": "1"}}},
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]}
        },
        "Resources": {
            "Repo": {
                "Type": "AWS::ECR::Repository",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "RetainExceptOnCreate",
                "Properties": {
                    "RepositoryName": {"Fn::Sub": "${Env}-${AWS::Region}-${!Literal}"},
                    "Tags": [{"Key": "env", "Value": {"Ref": "Env"}}],
                    "Account": {"Fn::FindInMap": ["Accounts", {"Ref": "Env"}, "Id"]},
                    "Mode": {"Fn::If": ["IsProd", "IMMUTABLE", {"Ref": "AWS::NoValue"}]}
                }
            },
            "Hook": {
                "Type": "Custom::Hook-1",
                "Condition": "NotProd",
                "DependsOn": ["Repo"],
                "Properties": {
                    "Arn": {"Fn::GetAtt": ["Repo", "Arn"]},
                    "Uri": {"Fn::GetAtt": "Repo.RepositoryUri"},
                    "Text": {"Fn::Sub": ["${Repo.Arn} ${X}", {"X": {"Ref": "Retain"}}]}
                }
            },
            "Skill": {"Type": "Alexa::ASK::Skill", "DependsOn": "Repo"}
        },
        "Outputs": {
            "RepoArn": {
                "Value": {"Fn::GetAtt": ["Repo", "Arn"]},
                "Condition": "IsProd",
                "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-repo"}}
            }
        }
    })
}

#[test]
fn good_template_has_no_findings() {
    let findings = run(&good(), &["Env"]);
    assert!(findings.is_empty(), "{:#?}", summary(&findings));
}

#[test]
fn root_must_be_an_object() {
    for v in [json!([]), json!("x"), json!(null)] {
        let findings = run(&v, &[]);
        assert_eq!(codes(&findings), ["not-an-object"]);
        assert_eq!(findings[0].pointer, "");
        assert_eq!(findings[0].severity, Severity::Error);
    }
}

#[test]
fn unknown_sections_with_suggestions() {
    let mut t = good();
    t["Resource"] = json!({});
    t["outputs"] = json!({});
    t["Whatever"] = json!(1);
    let findings = run(&t, &["Env"]);
    assert_finding(
        &findings,
        "unknown-section",
        "/Resource",
        "did you mean `Resources`?",
    );
    assert_finding(
        &findings,
        "unknown-section",
        "/outputs",
        "did you mean `Outputs`?",
    );
    assert_finding(
        &findings,
        "unknown-section",
        "/Whatever",
        "unknown template section `Whatever`",
    );
    assert!(
        !findings[2].message.contains("did you mean"),
        "{:#?}",
        summary(&findings)
    );
    assert_eq!(findings.len(), 3, "{:#?}", summary(&findings));
}

#[test]
fn format_version_and_description() {
    let mut t = good();
    t["AWSTemplateFormatVersion"] = json!("2010-09-10");
    t["Description"] = json!("é".repeat(513));
    let findings = run(&t, &["Env"]);
    assert_finding(
        &findings,
        "bad-format-version",
        "/AWSTemplateFormatVersion",
        "`2010-09-10`",
    );
    assert_finding(&findings, "bad-description", "/Description", "1026 bytes");
    assert_eq!(findings.len(), 2);

    t["AWSTemplateFormatVersion"] = json!(2010);
    t["Description"] = json!(["x"]);
    let findings = run(&t, &["Env"]);
    assert_finding(
        &findings,
        "bad-format-version",
        "/AWSTemplateFormatVersion",
        "`2010`",
    );
    assert_finding(
        &findings,
        "bad-description",
        "/Description",
        "must be a string",
    );

    t["Description"] = json!("x".repeat(1024));
    t["AWSTemplateFormatVersion"] = json!("2010-09-09");
    assert!(run(&t, &["Env"]).is_empty());
}

#[test]
fn missing_or_empty_resources() {
    let findings = run(&json!({"Description": "x"}), &[]);
    assert_eq!(codes(&findings), ["missing-resources"]);
    assert_eq!(findings[0].pointer, "");
    let findings = run(&json!({"Resources": {}}), &[]);
    assert_finding(&findings, "missing-resources", "/Resources", "is empty");
    let findings = run(&json!({"Resources": []}), &[]);
    assert_finding(
        &findings,
        "missing-resources",
        "/Resources",
        "non-empty object",
    );
    assert_eq!(findings.len(), 1);
}

#[test]
fn logical_ids() {
    let long = "A".repeat(256);
    let t = json!({
        "Parameters": {"my-param": {"Type": "String", "Default": ""}},
        "Mappings": {"map_1": {}},
        "Conditions": {"Is Prod": {"Fn::Equals": ["a", "b"]}},
        "Resources": {"Bücket": {"Type": "AWS::S3::Bucket"}, long.clone(): {"Type": "AWS::S3::Bucket"}, "": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"a/b": {"Value": "x"}}
    });
    let findings = run(&t, &[]);
    assert_finding(
        &findings,
        "bad-logical-id",
        "/Parameters/my-param",
        "parameter logical id `my-param`",
    );
    assert_finding(
        &findings,
        "bad-logical-id",
        "/Mappings/map_1",
        "mapping logical id",
    );
    assert_finding(
        &findings,
        "bad-logical-id",
        "/Conditions/Is Prod",
        "condition logical id",
    );
    assert_finding(
        &findings,
        "bad-logical-id",
        "/Resources/Bücket",
        "alphanumeric",
    );
    assert_finding(
        &findings,
        "bad-logical-id",
        &format!("/Resources/{long}"),
        "256 characters",
    );
    assert_finding(
        &findings,
        "bad-logical-id",
        "/Resources/",
        "must not be empty",
    );
    assert_finding(
        &findings,
        "bad-logical-id",
        "/Outputs/a~1b",
        "output logical id `a/b`",
    );
    // The three declared and unused are warned about too.
    for (code, pointer) in [
        ("unused-parameter", "/Parameters/my-param"),
        ("unused-condition", "/Conditions/Is Prod"),
        ("unused-mapping", "/Mappings/map_1"),
    ] {
        assert_finding(&findings, code, pointer, "is declared but not used");
    }
    assert_eq!(findings.len(), 10, "{:#?}", summary(&findings));
    let ok = "A".repeat(255);
    let t = json!({"Resources": {ok: {"Type": "AWS::S3::Bucket"}}});
    assert!(run(&t, &[]).is_empty());
}

#[test]
fn resource_types() {
    for ok in [
        "AWS::S3::Bucket",
        "Custom::My_Thing@2-x",
        "Alexa::ASK::Skill",
        "Acme::Svc::Type1",
        "AWS::Serverless::Function",
        "Acme::S3::Bucket::MODULE",
    ] {
        assert!(is_resource_type(ok), "{ok}");
    }
    for bad in [
        "",
        "AWS::S3",
        "AWS::S3::",
        "::S3::Bucket",
        "AWS::S3::Bucket::Extra",
        "Custom::",
        "Custom::a b",
        "AWS::S-3::Bucket",
        "aws:s3:bucket",
        "AWS::S3::Bucket ",
    ] {
        assert!(!is_resource_type(bad), "{bad}");
    }
    let t = json!({"Resources": {
        "A": {"Type": "AWS::S3"},
        "B": {"Properties": {}},
        "C": {"Type": 3},
        "D": "AWS::S3::Bucket"
    }});
    let findings = run(&t, &[]);
    assert_finding(
        &findings,
        "bad-resource-type",
        "/Resources/A/Type",
        "`AWS::S3`",
    );
    assert_finding(
        &findings,
        "bad-resource-type",
        "/Resources/B",
        "has no `Type`",
    );
    assert_finding(
        &findings,
        "bad-resource-type",
        "/Resources/C/Type",
        "must be a string",
    );
    assert_finding(
        &findings,
        "bad-resource-type",
        "/Resources/D",
        "must be an object",
    );
    assert_eq!(findings.len(), 4, "{:#?}", summary(&findings));
}

#[test]
fn resource_attributes() {
    let t = json!({"Resources": {"A": {
        "Type": "AWS::S3::Bucket",
        "Propertes": {},
        "DeletionPolicy": "Keep",
        "UpdateReplacePolicy": {"Fn::GetAtt": ["A", "Arn"]},
        "Version": "1",
        "CreationPolicy": {}, "UpdatePolicy": {}, "Metadata": {}
    }}});
    let findings = run(&t, &[]);
    assert_finding(
        &findings,
        "unknown-resource-attribute",
        "/Resources/A/Propertes",
        "did you mean `Properties`?",
    );
    assert_finding(
        &findings,
        "bad-resource-attribute",
        "/Resources/A/DeletionPolicy",
        "`Keep`",
    );
    assert_finding(
        &findings,
        "bad-resource-attribute",
        "/Resources/A/UpdateReplacePolicy",
        "an object",
    );
    assert_finding(
        &findings,
        "unknown-resource-attribute",
        "/Resources/A/Version",
        "`Version`",
    );
    assert_eq!(findings.len(), 4, "{:#?}", summary(&findings));
    // Document order.
    assert_eq!(findings[0].pointer, "/Resources/A/Propertes");
    assert_eq!(findings[3].pointer, "/Resources/A/Version");
}

#[test]
fn dangling_references() {
    let t = json!({
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Envv"}, "prod"]},
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "IsDev"}]}
        },
        "Rules": {"R": {"Assertions": [{"Assert": {"Fn::Contains": [["a"], {"Ref": "Nope"}]}}]}},
        "Resources": {
            "Repo": {
                "Type": "AWS::ECR::Repository",
                "Condition": "IsProdd",
                "DependsOn": ["Repo", "Bucket", 3],
                "Properties": {
                    "Tags": [{"Key": "k", "Value": {"Ref": "Missing"}}],
                    "A": {"Fn::GetAtt": ["Bucket", "Arn"]},
                    "B": {"Fn::GetAtt": "Buckett.Arn.Deep"},
                    "C": {"Fn::Sub": "${Env}-${Nope}-${Repo.Arn}-${!Skip}-${Nope2.Attr}-${AWS::Region}"},
                    "D": {"Fn::Sub": ["${X}-${Y}", {"X": {"Ref": "Gone"}}]},
                    "E": {"Fn::If": ["Cond", {"Ref": "Env"}, {"Ref": "Gone2"}]},
                    "F": {"Fn::FindInMap": ["Map", "a", "b"]},
                    "G": {"Fn::FindInMap": [{"Ref": "Env"}, "a", "b"]},
                    "H": {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Ref": "Inside"}}},
                    "Condition": {"Ref": "Env"}
                }
            }
        },
        "Outputs": {
            "O": {"Value": {"Ref": "Gone3"}, "Condition": "Nope", "Export": {"Name": {"Ref": "Gone4"}}},
            "Both": {"Value": "x", "Condition": "Both"}
        }
    });
    let findings = run(&t, &[]);
    let r = "/Resources/Repo";
    let p = "/Resources/Repo/Properties";
    let expected: Vec<(&str, String, &str)> = vec![
        ("dangling-ref", "/Conditions/IsProd/Fn::Equals/0/Ref".into(), "`Ref` to `Envv`, which is not a parameter, resource or pseudo parameter; did you mean `Env`?"),
        ("dangling-condition", "/Conditions/Both/Fn::And/1/Condition".into(), "condition `IsDev` is not declared"),
        ("dangling-ref", "/Rules/R/Assertions/0/Assert/Fn::Contains/1/Ref".into(), "`Nope`"),
        ("dangling-condition", format!("{r}/Condition"), "did you mean `IsProd`?"),
        ("dangling-depends-on", format!("{r}/DependsOn/0"), "depends on itself"),
        ("dangling-depends-on", format!("{r}/DependsOn/1"), "`DependsOn` names `Bucket`, which is not a resource"),
        ("bad-resource-attribute", format!("{r}/DependsOn/2"), "entries must be resource names"),
        ("dangling-ref", format!("{p}/Tags/0/Value/Ref"), "`Missing`"),
        ("dangling-getatt", format!("{p}/A/Fn::GetAtt/0"), "`Fn::GetAtt` on `Bucket`, which is not a resource"),
        ("dangling-getatt", format!("{p}/B/Fn::GetAtt"), "`Buckett`"),
        ("dangling-sub", format!("{p}/C/Fn::Sub"), "`${Nope}`"),
        ("dangling-sub", format!("{p}/C/Fn::Sub"), "`${Nope2.Attr}`, but `Nope2` is not"),
        ("dangling-sub", format!("{p}/D/Fn::Sub/0"), "`${Y}`"),
        ("dangling-ref", format!("{p}/D/Fn::Sub/1/X/Ref"), "`Gone`"),
        ("dangling-condition", format!("{p}/E/Fn::If/0"), "`Cond`"),
        ("dangling-ref", format!("{p}/E/Fn::If/2/Ref"), "`Gone2`"),
        ("dangling-mapping", format!("{p}/F/Fn::FindInMap/0"), "mapping `Map`, which is not declared in `Mappings`"),
        ("dangling-ref", "/Outputs/O/Value/Ref".into(), "`Gone3`"),
        ("dangling-condition", "/Outputs/O/Condition".into(), "`Nope`"),
        ("dangling-ref", "/Outputs/O/Export/Name/Ref".into(), "`Gone4`"),
    ];
    for (code, pointer, fragment) in &expected {
        assert_finding(&findings, code, pointer, fragment);
    }
    assert_eq!(findings.len(), expected.len(), "{:#?}", summary(&findings));
    // Stable document order.
    for (f, (code, pointer, _)) in findings.iter().zip(&expected) {
        assert_eq!((f.code, f.pointer.as_str()), (*code, pointer.as_str()));
    }
}

#[test]
fn transform_skips_dangling_checks_but_not_others() {
    let t = json!({
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Condition": "Made",
                "DependsOn": ["Fn", "Other"],
                "DeletionPolicy": {"Fn::If": ["C", "Delete", "Retain"]},
                "Properties": {"Role": {"Ref": "FnRole"}, "X": {"Fn::GetAtt": ["Made", "Arn"]},
                               "Y": {"Fn::Sub": "${Made}"}, "Z": {"Fn::FindInMap": ["M", "a", "b"]}},
                "Bogus": 1
            }
        },
        "Outputs": {"O": {}}
    });
    let findings = run(&t, &[]);
    assert_finding(
        &findings,
        "dangling-depends-on",
        "/Resources/Fn/DependsOn/0",
        "depends on itself",
    );
    assert_finding(
        &findings,
        "unknown-resource-attribute",
        "/Resources/Fn/Bogus",
        "`Bogus`",
    );
    assert_finding(&findings, "bad-output", "/Outputs/O", "has no `Value`");
    assert_eq!(findings.len(), 3, "{:#?}", summary(&findings));
}

#[test]
fn conditions_key_only_checked_inside_conditions() {
    // In properties, a `Condition` key is data (an IAM statement's, say), not a reference.
    let t = json!({"Resources": {"P": {"Type": "AWS::IAM::Policy", "Properties": {
        "Doc": {"Condition": "NotACondition"},
        "Statement": [{"Condition": {"StringEquals": {"a": "b"}}}]
    }}}});
    assert!(run(&t, &[]).is_empty());
}

#[test]
fn non_string_intrinsic_arguments_are_walked() {
    let t = json!({"Resources": {"A": {"Type": "AWS::S3::Bucket", "Properties": {
        "X": {"Fn::GetAtt": [{"Ref": "Nope1"}, "Arn"]},
        "Y": {"Fn::Sub": [{"Ref": "Nope2"}, {"V": "x"}]},
        "Z": {"Ref": {"Ref": "Nope3"}},
        "W": {"Fn::Join": ["", [{"Ref": "Nope4"}]]},
        "V": {"Fn::Sub": ["${V}", {"V": "x"}]},
        "U": {"Fn::GetAtt": ["A", {"Ref": "Nope5"}]}
    }}}});
    let findings = run(&t, &[]);
    let pointers: Vec<&str> = findings.iter().map(|f| f.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/Resources/A/Properties/X/Fn::GetAtt/0/Ref",
            "/Resources/A/Properties/Y/Fn::Sub/0/Ref",
            "/Resources/A/Properties/Z/Ref/Ref",
            "/Resources/A/Properties/W/Fn::Join/1/0/Ref",
            "/Resources/A/Properties/U/Fn::GetAtt/1/Ref",
        ],
        "{:#?}",
        summary(&findings)
    );
    assert!(findings.iter().all(|f| f.code == "dangling-ref"));
}

#[test]
fn sub_reference_parsing() {
    assert_eq!(
        sub_references("a ${A} ${ B.C } ${!D} ${} ${E"),
        ["A", "B.C"]
    );
    assert_eq!(sub_references("${!A}${B}"), ["B"]);
    assert_eq!(sub_references("$${A}"), ["A"]);
    assert!(sub_references("no refs $ {A} {B}").is_empty());
    assert_eq!(sub_references("é${ü}é"), ["ü"]);
}

#[test]
fn parameters_against_stack_config() {
    let t = json!({
        "Parameters": {
            "Env": {"Type": "String"},
            "Size": {"Type": "Number", "Default": 1},
            "Bad": "String",
            "NoType": {"Default": "x"},
            "NumType": {"Type": 1, "Default": "x"},
            "Typo": {"Type": "Strin", "Default": "x"},
            "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>", "Default": "x"}
        },
        "Resources": {"A": {"Type": "AWS::S3::Bucket", "Metadata": {"Uses": [
            {"Ref": "Env"}, {"Ref": "Size"}, {"Ref": "Bad"}, {"Ref": "NoType"},
            {"Ref": "NumType"}, {"Ref": "Typo"}, {"Ref": "Subnets"}
        ]}}}
    });
    let findings = run(&t, &["Size", "Evn", "Other", "Other"]);
    assert_finding(
        &findings,
        "missing-parameter",
        "/Parameters/Env",
        "parameter `Env` has no `Default`, and the stack config does not pass it",
    );
    assert_finding(
        &findings,
        "bad-parameter",
        "/Parameters/Bad",
        "must be an object with a `Type`",
    );
    assert_finding(
        &findings,
        "bad-parameter",
        "/Parameters/NoType",
        "has no `Type`",
    );
    assert_finding(
        &findings,
        "bad-parameter",
        "/Parameters/NumType/Type",
        "must be a string",
    );
    assert_finding(
        &findings,
        "unknown-parameter",
        "/Parameters/Evn",
        "the stack config passes `Evn`, which the template does not declare; did you mean `Env`?",
    );
    assert_finding(
        &findings,
        "unknown-parameter",
        "/Parameters/Other",
        "`Other`",
    );
    assert_finding(
        &findings,
        "bad-parameter-type",
        "/Parameters/Typo/Type",
        "parameter `Typo` has type `Strin`, which CloudFormation does not know; did you mean \
         `String`?",
    );
    assert_eq!(findings.len(), 7, "{:#?}", summary(&findings));
    assert_eq!(findings[5].code, "unknown-parameter");

    let findings = run(&t, &["Env"]);
    assert!(!codes(&findings).contains(&"missing-parameter"));
    assert!(!codes(&findings).contains(&"unknown-parameter"));
}

#[test]
fn provided_parameters_without_a_parameters_section() {
    let t = json!({"Resources": {"A": {"Type": "AWS::S3::Bucket"}}});
    let findings = run(&t, &["X/Y"]);
    assert_eq!(codes(&findings), ["unknown-parameter"]);
    assert_eq!(findings[0].pointer, "/Parameters/X~1Y");
}

#[test]
fn outputs() {
    let t = json!({"Resources": {"A": {"Type": "AWS::S3::Bucket"}}, "Outputs": {
        "NoValue": {"Description": "x"},
        "BadExport": {"Value": "x", "Export": {"Value": "y"}},
        "ExportString": {"Value": "x", "Export": "name"},
        "NotObject": []
    }});
    let findings = run(&t, &[]);
    assert_finding(
        &findings,
        "bad-output",
        "/Outputs/NoValue",
        "has no `Value`",
    );
    assert_finding(
        &findings,
        "bad-output",
        "/Outputs/BadExport/Export",
        "needs a `Name`",
    );
    assert_finding(
        &findings,
        "bad-output",
        "/Outputs/ExportString/Export",
        "must be an object with a `Name`",
    );
    assert_finding(
        &findings,
        "bad-output",
        "/Outputs/NotObject",
        "must be an object with a `Value`",
    );
    assert_eq!(findings.len(), 4, "{:#?}", summary(&findings));
}

#[test]
fn sections_of_the_wrong_type() {
    let t = json!({"Parameters": [], "Mappings": "x", "Conditions": 1, "Rules": null, "Outputs": true,
        "Resources": {"A": {"Type": "AWS::S3::Bucket"}}});
    let findings = run(&t, &[]);
    assert_eq!(codes(&findings), ["bad-section"; 5]);
    assert_finding(
        &findings,
        "bad-section",
        "/Parameters",
        "`Parameters` must be an object, not an array",
    );
    assert_finding(&findings, "bad-section", "/Outputs", "a boolean");
}

#[test]
fn limits() {
    let mut resources = Map::new();
    for i in 0..501 {
        resources.insert(format!("R{i}"), json!({"Type": "AWS::SNS::Topic"}));
    }
    let mut parameters = Map::new();
    let mut outputs = Map::new();
    let mut mappings = Map::new();
    for i in 0..201 {
        parameters.insert(format!("P{i}"), json!({"Type": "String", "Default": ""}));
        outputs.insert(format!("O{i}"), json!({"Value": "x"}));
        mappings.insert(format!("M{i}"), json!({}));
    }
    // Every parameter and mapping used, so that only the limits are found.
    let uses: Vec<Value> = (0..201)
        .flat_map(|i| {
            [
                json!({"Ref": format!("P{i}")}),
                json!({"Fn::FindInMap": [format!("M{i}"), "a", "b"]}),
            ]
        })
        .collect();
    resources["R1"]["Metadata"] = json!({ "Uses": uses });
    let t = json!({"Parameters": parameters, "Mappings": mappings, "Resources": resources, "Outputs": outputs});
    let findings = run(&t, &[]);
    assert_eq!(
        codes(&findings),
        ["limit-exceeded"; 4],
        "{:#?}",
        summary(&findings)
    );
    assert_finding(
        &findings,
        "limit-exceeded",
        "/Resources",
        "501 resources; CloudFormation allows at most 500",
    );
    assert_finding(&findings, "limit-exceeded", "/Parameters", "201 parameters");
    assert_finding(&findings, "limit-exceeded", "/Outputs", "201 outputs");
    assert_finding(&findings, "limit-exceeded", "/Mappings", "201 mappings");
    assert!(findings.iter().all(|f| f.severity == Severity::Error));

    let mut t = t;
    if let Some(r) = t["Resources"].as_object_mut() {
        r.remove("R0");
    }
    let findings = run(&t, &[]);
    assert!(!findings.iter().any(|f| f.pointer == "/Resources"));
}

#[test]
fn template_size() {
    let t = good();
    let provided = vec!["Env".to_owned()];
    let at = |size| {
        lint(&LintInput {
            template: &t,
            size_bytes: size,
            provided_parameters: &provided,
            resource_schemas: false,
            regions: &[],
        })
    };
    assert!(at(INLINE_TEMPLATE_LIMIT).is_empty());
    let findings = at(INLINE_TEMPLATE_LIMIT + 1);
    assert_eq!(codes(&findings), ["template-size"]);
    assert_eq!(findings[0].severity, Severity::Warning);
    assert_eq!(
        findings[0].message,
        "the template is 51,201 bytes, over CloudFormation's 51,200-byte inline limit, and will be uploaded to S3 to deploy"
    );
    assert!(at(S3_TEMPLATE_LIMIT)[0].severity == Severity::Warning);
    let findings = at(S3_TEMPLATE_LIMIT + 1);
    assert_eq!(codes(&findings), ["template-size"]);
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(
        findings[0].message.contains("1,000,001 bytes"),
        "{}",
        findings[0].message
    );
    // Also reported for a template that is not an object.
    let v = json!(1);
    let findings = lint(&LintInput {
        template: &v,
        size_bytes: 60_000,
        provided_parameters: &[],
        resource_schemas: false,
        regions: &[],
    });
    assert_eq!(codes(&findings), ["not-an-object", "template-size"]);
}

#[test]
fn pointers_escape_tilde_and_slash() {
    let t = json!({"Resources": {"A": {"Type": "AWS::S3::Bucket", "Properties": {
        "a/b": {"c~d": {"Ref": "Nope"}}
    }}}});
    let findings = run(&t, &[]);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].pointer, "/Resources/A/Properties/a~1b/c~0d/Ref");
}

#[test]
fn deep_values_do_not_overflow_the_stack() {
    // Built by hand: `json!` would serialize (recursively) the value it is given.
    let mut v = json!({"Ref": "Nope"});
    for _ in 0..10_000 {
        v = Value::Array(vec![v]);
    }
    let mut properties = Map::new();
    properties.insert("X".to_owned(), v);
    let mut resource = Map::new();
    resource.insert("Type".to_owned(), json!("AWS::S3::Bucket"));
    resource.insert("Properties".to_owned(), Value::Object(properties));
    let mut resources = Map::new();
    resources.insert("A".to_owned(), Value::Object(resource));
    let mut root = Map::new();
    root.insert("Resources".to_owned(), Value::Object(resources));
    let t = Value::Object(root);
    let findings = run(&t, &[]);
    assert_eq!(codes(&findings), ["dangling-ref"]);
    assert_eq!(
        findings[0].pointer.len(),
        "/Resources/A/Properties/X".len() + 2 * 10_000 + 4
    );
    // Dropping a deep value recurses in serde_json; leak it instead of overflowing.
    std::mem::forget(t);
}

#[test]
fn random_templates_never_panic() {
    let mut words: Vec<&str> = SECTIONS.to_vec();
    words.extend(RESOURCE_ATTRIBUTES);
    words.extend(PSEUDO_PARAMETERS);
    words.extend([
        "Ref",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::If",
        "Fn::FindInMap",
        "Fn::Transform",
        "Condition",
        "A",
        "B",
        "A.Arn",
        "${A}",
        "${!A}",
        "${",
        "Value",
        "Export",
        "Name",
        "Default",
        "AWS::S3::Bucket",
        "Retain",
        "é/~",
        "",
    ]);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut located = 0;
    for _ in 0..2000 {
        let template = rng.value(&words, 6);
        let provided = vec!["A".to_owned(), "Value".to_owned()];
        let findings = lint(&LintInput {
            template: &template,
            size_bytes: rng.below(2_000_000),
            provided_parameters: &provided,
            resource_schemas: false,
            regions: &[],
        });
        let text = serde_json::to_string_pretty(&template).unwrap_or_default();
        located += findings.iter().filter(|f| f.pointer.len() > 1).count();
        for f in findings {
            assert!(f.pointer.is_empty() || f.pointer.starts_with('/'), "{f:?}");
            if f.code != "unknown-parameter" {
                // Every pointer designates a value of the template, and can be found in its
                // text.
                assert!(template.pointer(&f.pointer).is_some(), "{f:?}");
                assert!(
                    crate::locate::json_pointer_position(&text, &f.pointer).is_some(),
                    "{f:?} in {text}"
                );
            }
            assert!(!f.message.is_empty());
            assert!(f.code.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
        }
    }
    // The generator reaches deep enough to find problems below the root.
    assert!(located > 1000, "{located}");
}
#[test]
fn helpers() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1000), "1,000");
    assert_eq!(thousands(51_200), "51,200");
    assert_eq!(thousands(1_234_567), "1,234,567");
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("é", "e"), 1);
    assert_eq!(
        closest_ignoring_case("Resorces", SECTIONS.iter().copied()),
        Some("Resources")
    );
    assert_eq!(closest_ignoring_case("A", ["B"].into_iter()), None);
    assert_eq!(
        closest_ignoring_case("Zzzzzz", SECTIONS.iter().copied()),
        None
    );
    assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    assert_eq!(child("/x", "a~/b"), "/x/a~0~1b");
}

#[test]
fn deletion_policies_may_be_the_functions_cloudformation_resolves_there() {
    let t = json!({
        "Parameters": {"Keep": {"Type": "String", "Default": "Retain"}},
        "Conditions": {"C": {"Fn::Equals": [{"Ref": "Keep"}, "Retain"]}},
        "Resources": {"A": {
            "Type": "AWS::SQS::Queue",
            "DeletionPolicy": {"Fn::If": ["C", "Retain", "Delete"]},
            "UpdateReplacePolicy": {"Ref": "Keep"}
        }}
    });
    let findings = run(&t, &[]);
    assert!(findings.is_empty(), "{:#?}", summary(&findings));
    // Their references are checked like any other.
    let t =
        json!({"Resources": {"A": {"Type": "AWS::SQS::Queue", "DeletionPolicy": {"Ref": "Kep"}}}});
    assert_finding(
        &run(&t, &[]),
        "dangling-ref",
        "/Resources/A/DeletionPolicy/Ref",
        "`Kep`",
    );
}

#[test]
fn references_of_the_wrong_kind_and_their_fixed_twins() {
    let t = json!({
        "Parameters": {
            "Env": {"Type": "String", "Default": "dev"},
            "Names": {"Type": "CommaDelimitedList", "Default": "a,b"}
        },
        "Conditions": {
            "HasRepo": {"Fn::Equals": [{"Ref": "Repo"}, "x"]},
            "HasArn": {"Fn::Equals": [{"Fn::GetAtt": ["Repo", "Arn"]}, "x"]},
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}
        },
        "Resources": {
            "Repo": {
                "Type": "AWS::ECR::Repository",
                "Condition": "IsProd",
                "Metadata": {
                    "A": {"Fn::Sub": "${Env.Arn}"},
                    "B": {"Fn::Sub": "${AWS::Region.Name}"},
                    "C": {"Fn::Sub": "${Names}-x"},
                    "D": {"Fn::Sub": "${AWS::NotificationARNs}"},
                    "E": {"Fn::If": ["HasRepo", "a", {"Fn::If": ["HasArn", "b", "c"]}]}
                }
            }
        }
    });
    let m = "/Resources/Repo/Metadata";
    assert_eq!(
        summary(&run(&t, &[])),
        [
            "error resource-in-conditions /Conditions/HasRepo/Fn::Equals/0/Ref: `Ref` of resource \
             `Repo` in `Conditions`: conditions are evaluated before any resource exists, so they \
             can use only parameters, mappings and pseudo parameters"
                .to_owned(),
            "error resource-in-conditions /Conditions/HasArn/Fn::Equals/0/Fn::GetAtt: \
             `Fn::GetAtt` in `Conditions`: conditions are evaluated before any resource exists, \
             so they can use only parameters, mappings and pseudo parameters"
                .to_owned(),
            format!(
                "error bad-sub-attribute {m}/A/Fn::Sub: `Fn::Sub` uses `${{Env.Arn}}`, but `Env` \
                 is a parameter, not a resource: only resources have attributes (write `${{Env}}` \
                 for its value)"
            ),
            format!(
                "error bad-sub-attribute {m}/B/Fn::Sub: `Fn::Sub` uses `${{AWS::Region.Name}}`, \
                 but `AWS::Region` is a pseudo parameter, not a resource: only resources have \
                 attributes (write `${{AWS::Region}}` for its value)"
            ),
            format!(
                "error list-in-sub {m}/C/Fn::Sub: `Fn::Sub` uses `${{Names}}`, which is a list; \
                 `Fn::Sub` substitutes only strings (join it first: `${{Joined}}` with `Joined: \
                 !Join [\",\", !Ref Names]` as a variable)"
            ),
            format!("error list-in-sub {m}/D/Fn::Sub: `Fn::Sub` uses `${{AWS::NotificationARNs}}`, which is a list; `Fn::Sub` substitutes only strings (join it first: `${{Joined}}` with `Joined: !Join [\",\", !Ref AWS::NotificationARNs]` as a variable)"),
        ]
    );
    // The fixed twin: conditions on parameters, attributes of resources, lists joined.
    let fixed = json!({
        "Parameters": {
            "Env": {"Type": "String", "Default": "dev"},
            "Names": {"Type": "CommaDelimitedList", "Default": "a,b"}
        },
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
        "Resources": {
            "Repo": {
                "Type": "AWS::ECR::Repository",
                "Condition": "IsProd",
                "Metadata": {
                    "A": {"Fn::Sub": "${Repo.Arn}"},
                    "B": {"Fn::Sub": "${AWS::Region}"},
                    "C": {"Fn::Sub": ["${Joined}-x", {"Joined": {"Fn::Join": [",", {"Ref": "Names"}]}}]},
                    "D": {"Fn::Sub": ["${Names}", {"Names": "shadowed by the variable"}]}
                }
            }
        }
    });
    assert!(
        run(&fixed, &[]).is_empty(),
        "{:#?}",
        summary(&run(&fixed, &[]))
    );
}

#[test]
fn what_cloudformation_accepts_but_is_probably_a_mistake_is_a_warning() {
    let t = json!({
        "Parameters": {
            "Used": {"Type": "String", "Default": "a"},
            "InSub": {"Type": "String", "Default": "a"},
            "InRule": {"Type": "String", "Default": "a"},
            "Unused": {"Type": "String", "Default": "a"}
        },
        "Rules": {"R": {"Assertions": [{"Assert": {"Fn::Contains": [["a"], {"Ref": "InRule"}]}}]}},
        "Mappings": {"Used": {"a": {"b": "c"}}, "Spare": {"a": {"b": "c"}}},
        "Conditions": {
            "A": {"Fn::Equals": [{"Ref": "Used"}, "a"]},
            "B": {"Fn::Not": [{"Condition": "A"}]},
            "Idle": {"Fn::Equals": ["a", "b"]}
        },
        "Resources": {
            "T": {
                "Type": "AWS::SNS::Topic",
                "Condition": "B",
                "Properties": {
                    "TopicName": {"Fn::Sub": "${InSub}-topic"},
                    "DisplayName": {"Fn::Sub": "plain"},
                    "KmsMasterKeyId": {"Fn::FindInMap": ["Used", "a", "b"]}
                }
            }
        }
    });
    let findings = run(&t, &[]);
    assert_eq!(
        summary(&findings),
        [
            "warning sub-not-needed /Resources/T/Properties/DisplayName/Fn::Sub: `Fn::Sub` of a \
             string without `${...}`: the string can be written as it is",
            "warning unused-parameter /Parameters/Unused: parameter `Unused` is declared but not \
             used",
            "warning unused-condition /Conditions/Idle: condition `Idle` is declared but not used",
            "warning unused-mapping /Mappings/Spare: mapping `Spare` is declared but not used",
        ]
    );
    assert!(findings.iter().all(|f| f.severity == Severity::Warning));
    // Under a transform, macros may use them: no warning.
    let mut transformed = t.clone();
    transformed["Transform"] = json!("AWS::LanguageExtensions");
    assert!(!codes(&run(&transformed, &[]))
        .iter()
        .any(|c| c.starts_with("unused-")));
}
