//! `little validate` against CloudFormation's resource schemas: for each check, a template that
//! CloudFormation would reject is reported at its template line and column (with a did-you-mean
//! where there is one, and the rendered template's pointer as a note), and its fixed twin passes.
//! The checks themselves are unit-tested in `render::lint::schema`.

use crate::harness::TestProject;

/// A project whose stack `s` renders `template` (with `vars` as the stack's variables).
fn project(template: &str, vars: &str) -> TestProject {
    let p = TestProject::new();
    p.stack("s", "t.json.njk", vars);
    p.template("t.json.njk", template);
    p
}

/// `broken` fails validation with every `expect` on stderr; `fixed` passes.
#[track_caller]
fn pair(broken: &str, fixed: &str, vars: &str, expect: &[&str]) {
    let out = project(broken, vars).run(&["validate", "--all"]);
    out.code(1);
    for e in expect {
        out.stderr_has(e);
    }
    project(fixed, vars).run(&["validate", "--all"]).success();
}

fn resource(type_name: &str, properties: &str) -> String {
    format!(
        "{{\n  \"Resources\": {{\n    \"R\": {{\n      \"Type\": \"{type_name}\",\n      \"Properties\": {properties}\n    }}\n  }}\n}}\n"
    )
}

#[test]
fn unknown_resource_type() {
    pair(
        &resource("AWS::ECR::Repo", "{}"),
        &resource("AWS::ECR::Repository", "{}"),
        "",
        &[
            "error[unknown-resource-type]: resource `R` has type `AWS::ECR::Repo`, which CloudFormation does not know; did you mean `AWS::ECR::Repository`?",
            "--> templates/t.json.njk:4:15",
            "at `/Resources/R/Type` in the rendered template",
        ],
    );
}

#[test]
fn misspelt_property() {
    pair(
        &resource("AWS::ECR::Repository", "{\"RepositoryNam\": \"team/api\"}"),
        &resource("AWS::ECR::Repository", "{\"RepositoryName\": \"team/api\"}"),
        "",
        &[
            "error[unknown-property]",
            "has no property `RepositoryNam`; did you mean `RepositoryName`?",
            // At the key that should not be there, not at its value.
            "--> templates/t.json.njk:5:22",
        ],
    );
}

#[test]
fn missing_required_property() {
    pair(
        &resource("AWS::IAM::Role", "{\"RoleName\": \"ci\"}"),
        &resource(
            "AWS::IAM::Role",
            "{\"RoleName\": \"ci\", \"AssumeRolePolicyDocument\": {\"Version\": \"2012-10-17\", \"Statement\": []}}",
        ),
        "",
        &[
            "error[missing-property]",
            "is missing the required property `AssumeRolePolicyDocument`",
            "--> templates/t.json.njk:5:21",
        ],
    );
}

#[test]
fn read_only_property() {
    pair(
        &resource(
            "AWS::ECR::Repository",
            "{\"Arn\": \"arn:aws:ecr:us-east-1:123456789012:repository/x\"}",
        ),
        &resource("AWS::ECR::Repository", "{}"),
        "",
        &[
            "error[read-only-property]",
            "`Arn` is read-only",
            "--> templates/t.json.njk:5:22",
        ],
    );
}

#[test]
fn wrong_type() {
    pair(
        &resource("AWS::SQS::Queue", "{\"DelaySeconds\": \"soon\"}"),
        &resource("AWS::SQS::Queue", "{\"DelaySeconds\": \"5\"}"),
        "",
        &[
            "error[wrong-type]",
            "`DelaySeconds` must be an integer, not a string (`soon`)",
            "--> templates/t.json.njk:5:38",
        ],
    );
}

#[test]
fn enum_value_from_the_stack_config() {
    // The value comes from the stack's variables: the rendered template is checked, and the
    // finding is at the template line that produced it.
    let template = resource(
        "AWS::ECR::Repository",
        "{\"ImageTagMutability\": \"{{ vars.mutability }}\"}",
    );
    let out =
        project(&template, "variables:\n  mutability: IMMUTABEL\n").run(&["validate", "--all"]);
    out.code(1)
        .stderr_has("error[bad-enum-value]")
        .stderr_has("`ImageTagMutability` is `IMMUTABEL`, which is not an allowed value; did you mean `IMMUTABLE`?")
        .stderr_has("--> templates/t.json.njk:5:44");
    project(&template, "variables:\n  mutability: IMMUTABLE\n")
        .run(&["validate", "--all"])
        .success();
}

#[test]
fn pattern_length_and_range() {
    pair(
        &resource(
            "AWS::ECR::Repository",
            "{\"LifecyclePolicy\": {\"RegistryId\": \"12345678901x\"}}",
        ),
        &resource(
            "AWS::ECR::Repository",
            "{\"LifecyclePolicy\": {\"RegistryId\": \"123456789012\"}}",
        ),
        "",
        &[
            "error[pattern-mismatch]",
            "`LifecyclePolicy.RegistryId`",
            "--> templates/t.json.njk:5:56",
        ],
    );
    pair(
        &resource("AWS::ECR::Repository", "{\"RepositoryName\": \"a\"}"),
        &resource("AWS::ECR::Repository", "{\"RepositoryName\": \"ab\"}"),
        "",
        &[
            "error[bad-length]",
            "shorter than the minimum of 2",
            "--> templates/t.json.njk:5:40",
        ],
    );
    pair(
        &resource("AWS::SQS::Queue", "{\"DelaySeconds\": 901}"),
        &resource("AWS::SQS::Queue", "{\"DelaySeconds\": 900}"),
        "",
        &[
            "error[out-of-range]",
            "more than the maximum of 900",
            "--> templates/t.json.njk:5:38",
        ],
    );
}

#[test]
fn getatt_attribute() {
    let template = |attribute: &str| {
        format!(
            "{{\n  \"Resources\": {{\"Repo\": {{\"Type\": \"AWS::ECR::Repository\"}}}},\n  \"Outputs\": {{\n    \"Uri\": {{\"Value\": {{\"Fn::GetAtt\": [\"Repo\", \"{attribute}\"]}}}}\n  }}\n}}\n"
        )
    };
    pair(
        &template("RepositoryUrl"),
        &template("RepositoryUri"),
        "",
        &[
            "error[unknown-attribute]",
            "for `RepositoryUrl`, which it does not have; did you mean `RepositoryUri`?",
            "--> templates/t.json.njk:4:46",
        ],
    );
}

#[test]
fn intrinsic_functions_and_no_value_are_accepted() {
    let template = r#"{
  "Parameters": {"Mutability": {"Type": "String", "Default": "IMMUTABLE"}},
  "Conditions": {"Prod": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}},
  "Resources": {
    "Repo": {
      "Type": "AWS::ECR::Repository",
      "DeletionPolicy": "Retain",
      "Properties": {
        "ImageTagMutability": {"Ref": "Mutability"},
        "EmptyOnDelete": {"Fn::If": ["Prod", false, {"Ref": "AWS::NoValue"}]},
        "RepositoryName": {"Fn::Sub": "${AWS::StackName}-api"}
      }
    }
  }
}
"#;
    project(template, "").run(&["validate", "--all"]).success();
}

#[test]
fn type_the_stack_s_region_lacks() {
    let template = resource("AWS::ECR::PublicRepository", "{}");
    let out = project(&template, "region: af-south-1\n").run(&["validate", "--all"]);
    out.code(1)
        .stderr_has("error[unavailable-resource-type]: resource `R` has type `AWS::ECR::PublicRepository`, which CloudFormation does not offer in `af-south-1`")
        .stderr_has("--> templates/t.json.njk:4:15");
    project(&template, "region: us-east-1\n")
        .run(&["validate", "--all"])
        .success();
}

/// A project whose stack `s` renders the YAML `template`.
fn yaml_project(template: &str) -> TestProject {
    let p = TestProject::new();
    p.stack("s", "t.yaml.njk", "");
    p.template("t.yaml.njk", template);
    p
}

#[test]
fn an_unknown_property_in_yaml_is_shown_at_its_key() {
    let broken = "Resources:\n  R:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryNam: team/api\n      Tags: [{Key: a, Valu: b}]\n";
    let out = yaml_project(broken).run(&["validate", "--all"]);
    out.code(1)
        .stderr_has("has no property `RepositoryNam`; did you mean `RepositoryName`?")
        .stderr_has("--> templates/t.yaml.njk:5:7")
        .stderr_has("has no property `Valu` in `Tags.*`; did you mean `Value`?")
        .stderr_has("--> templates/t.yaml.njk:6:23");
    yaml_project(
        &broken
            .replace("RepositoryNam:", "RepositoryName:")
            .replace("Valu:", "Value:"),
    )
    .run(&["validate", "--all"])
    .success();
}

#[test]
fn references_of_the_wrong_kind() {
    // A list parameter where a string goes.
    let t = |name: &str| {
        format!(
            "Parameters:\n  Names:\n    Type: CommaDelimitedList\n    Default: a,b\nResources:\n  R:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: {name}\n"
        )
    };
    yaml_project(&t("!Ref Names"))
        .run(&["validate", "--all"])
        .code(1)
        .stderr_has("error[wrong-type]")
        .stderr_has("`RepositoryName` must be a string, but `Ref` of parameter `Names` (`CommaDelimitedList`) gives a list")
        .stderr_has("--> templates/t.yaml.njk:9:23");
    yaml_project(&t("!Join [\"-\", !Ref Names]"))
        .run(&["validate", "--all"])
        .success();
    // A resource in a condition.
    let c = |value: &str| {
        format!(
            "Parameters:\n  Env:\n    Type: String\n    Default: dev\nConditions:\n  IsProd: !Equals [{value}, prod]\nResources:\n  R:\n    Type: AWS::ECR::Repository\n    Condition: IsProd\n"
        )
    };
    yaml_project(&c("!Ref R"))
        .run(&["validate", "--all"])
        .code(1)
        .stderr_has("error[resource-in-conditions]: `Ref` of resource `R` in `Conditions`")
        .stderr_has("--> templates/t.yaml.njk:6:25");
    yaml_project(&c("!Ref Env"))
        .run(&["validate", "--all"])
        .success();
    // An unknown parameter type, with a did-you-mean.
    let p = |ty: &str| {
        format!("Parameters:\n  Env:\n    Type: {ty}\n    Default: dev\nResources:\n  R:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: !Ref Env\n")
    };
    yaml_project(&p("Strng"))
        .run(&["validate", "--all"])
        .code(1)
        .stderr_has("parameter `Env` has type `Strng`, which CloudFormation does not know; did you mean `String`?")
        .stderr_has("--> templates/t.yaml.njk:3:11");
    yaml_project(&p("String"))
        .run(&["validate", "--all"])
        .success();
}

#[test]
fn warnings_pass_unless_strict() {
    let t = "Parameters:\n  Spare:\n    Type: String\n    Default: x\nResources:\n  R:\n    Type: AWS::ECR::Repository\n";
    let p = yaml_project(t);
    p.run(&["validate", "--all"])
        .success()
        .stdout_has("ok, 1 warning")
        .stderr_has("warning[unused-parameter]: parameter `Spare` is declared but not used")
        .stderr_has("--> templates/t.yaml.njk:2:3");
    p.run(&["validate", "--all", "--strict"])
        .code(1)
        .stdout_has("validated 1 stack: 0 errors, 1 warning (--strict: the warnings fail it)");
    let json = p
        .run(&["validate", "--all", "--strict", "--format", "json"])
        .json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["strict"], true);
}

#[test]
fn schema_checks_can_be_left_out() {
    // A type newer than the schemas in the binary: the schema checks would refuse it.
    let p = project(&resource("AWS::ECR::Repo", "{}"), "");
    p.run(&["validate", "--all"]).code(1);
    p.run(&["validate", "--all", "--no-schema-checks"])
        .success();
    // The structural checks stay.
    project(&resource("AWS:ECR:Repo", "{}"), "")
        .run(&["validate", "--all", "--no-schema-checks"])
        .code(1)
        .stderr_has("error[bad-resource-type]");
}
