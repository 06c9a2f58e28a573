//! `little validate`'s checks across the stacks of a project, through the real binary: for each,
//! a broken project rejected at the right file:line:column, and its fixed twin passing. No AWS.
//! (The checks' details are unit-tested in `src/render/across/tests.rs`.)

use crate::harness::TestProject;

const ROLE: &str = "{\n  \"Resources\": {\n    \"Role\": {\n      \"Type\": \"AWS::IAM::Role\",\n      \"Properties\": {\n        \"RoleName\": \"deployer\",\n        \"AssumeRolePolicyDocument\": {\"Version\": \"2012-10-17\", \"Statement\": []}\n      }\n    }\n  }\n}\n";

#[test]
fn a_capability_list_that_misses_named_iam_is_a_warning_at_the_list() {
    let p = TestProject::new();
    p.template("r.json.njk", ROLE);
    p.stack("s", "r.json.njk", "capabilities: [CAPABILITY_IAM]\n");
    p.run(&["validate", "--all"])
        .success()
        .stdout_has("s                                ok, 1 warning")
        .stderr_has("warning[missing-capability]: `capabilities` does not list `CAPABILITY_NAMED_IAM`, which the template needs: resource `Role` (AWS::IAM::Role) has a custom name (`RoleName`)")
        .stderr_has("stacks/s.yaml:3:1")
        .stderr_has("`Role`: templates/r.json.njk:6:21")
        .stderr_has("fix: `capabilities: [CAPABILITY_NAMED_IAM]`");
    p.stack("s", "r.json.njk", "capabilities: [CAPABILITY_NAMED_IAM]\n");
    p.run(&["validate", "--all"])
        .success()
        .stdout_has("0 errors, 0 warnings");
}

#[test]
fn a_misspelt_region_fails_validate_in_a_stack_config_and_in_little_yaml() {
    let p = TestProject::new();
    p.template(
        "q.json",
        "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}\n",
    );
    p.stack("s", "q.json", "region: us-esat-1\n");
    p.run(&["validate", "--all"])
        .code(1)
        .stderr_has(
            "error[bad-region]: `us-esat-1` is not an AWS region (did you mean `us-east-1`?)",
        )
        .stderr_has("stacks/s.yaml:3:");
    p.stack("s", "q.json", "");
    p.file("little.yaml", "defaults:\n  region: us-esat-1\n");
    p.run(&["validate", "--all"])
        .code(1)
        .stderr_has("(did you mean `us-east-1`?)")
        .stderr_has("little.yaml:2:");
    p.file("little.yaml", "defaults:\n  region: us-east-1\n");
    p.run(&["validate", "--all"]).success();
}

#[test]
fn one_repository_name_in_two_stacks_is_an_error_at_both() {
    let p = TestProject::new();
    p.template(
        "r.json.njk",
        "{\"Resources\": {\n  \"Repo\": {\"Type\": \"AWS::ECR::Repository\", \"Properties\": {\n    \"RepositoryName\": \"{{ vars.name }}\"}}}}\n",
    );
    p.stack("a", "r.json.njk", "variables: {name: team/api}\n");
    p.stack("b", "r.json.njk", "variables: {name: team/api}\n");
    let out = p.run(&["validate", "--all"]);
    out.code(1)
        .stdout_has("a                                1 error")
        .stdout_has("b                                1 error")
        .stderr_has("error[duplicate-name]: `Repo` (AWS::ECR::Repository) is named `team/api`, a name another resource also makes in the default account and region us-east-1")
        .stderr_has("templates/r.json.njk:3:23")
        .stderr_has("also `Repo` of stack `b`: templates/r.json.njk:3:23");
    p.stack("b", "r.json.njk", "variables: {name: team/web}\n");
    p.run(&["validate", "--all"]).success();
}

#[test]
fn stack_output_of_a_key_the_producer_does_not_output_is_an_error_with_did_you_mean() {
    let p = TestProject::new();
    p.template(
        "p.json.njk",
        "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}},\n \"Outputs\": {\"QueueArn\": {\"Value\": {\"Fn::GetAtt\": [\"Q\", \"Arn\"]}}}}\n",
    );
    p.template(
        "c.json.njk",
        "{\"Parameters\": {\"Arn\": {\"Type\": \"String\"}},\n \"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\"}}}\n",
    );
    p.stack("p", "p.json.njk", "");
    p.stack(
        "c",
        "c.json.njk",
        "parameters:\n  Arn: \"{{ stack_output('p', 'QueueArm') }}\"\n",
    );
    // Validating the consumer alone still reads the producer's rendered template.
    p.run(&["validate", "c"])
        .code(1)
        .stderr_has("error[unknown-output]: `stack_output('p', 'QueueArm')`: the template of stack `p` has no output `QueueArm`")
        .stderr_has("stacks/c.yaml:4:12")
        .stderr_has("did you mean `QueueArn`?")
        .stderr_has("the outputs of stack `p`: QueueArn (templates/p.json.njk:2:13)");
    p.stack(
        "c",
        "c.json.njk",
        "parameters:\n  Arn: \"{{ stack_output('p', 'QueueArn') }}\"\n",
    );
    p.run(&["validate", "c"]).success();
    // A producing stack that is not in the project is an error at load.
    p.stack(
        "c",
        "c.json.njk",
        "parameters:\n  Arn: \"{{ stack_output('q', 'QueueArn') }}\"\n",
    );
    p.run(&["validate", "--all"])
        .code(1)
        .stderr_has("names unknown stack `q`")
        .stderr_has("did you mean `p`?");
}

#[test]
fn imports_without_an_exporter_warn_and_one_export_twice_is_an_error() {
    let p = TestProject::new();
    let exporter = |name: &str| {
        format!("{{\"Resources\": {{\"Q\": {{\"Type\": \"AWS::SQS::Queue\"}}}},\n \"Outputs\": {{\"Arn\": {{\"Value\": {{\"Fn::GetAtt\": [\"Q\", \"Arn\"]}},\n   \"Export\": {{\"Name\": \"{name}\"}}}}}}}}\n")
    };
    p.template("e.json.njk", &exporter("shared-arn"));
    p.template(
        "i.yaml.njk",
        "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !ImportValue shared-amr\n",
    );
    p.stack("e", "e.json.njk", "");
    p.stack("i", "i.yaml.njk", "");
    p.run(&["validate", "--all"])
        .success()
        .stdout_has("i                                ok, 1 warning")
        .stderr_has("warning[unknown-import]: `Fn::ImportValue` of `shared-amr`, which no stack of the project exports in the default account and region us-east-1: unless a stack outside the project exports it")
        .stderr_has("templates/i.yaml.njk:5:33")
        .stderr_has("did you mean `shared-arn`?");
    p.template(
        "i.yaml.njk",
        "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !ImportValue shared-arn\n",
    );
    p.run(&["validate", "--all"])
        .success()
        .stdout_has("0 errors, 0 warnings");
    p.stack("e2", "e.json.njk", "");
    p.run(&["validate", "--all"])
        .code(1)
        .stderr_has("error[duplicate-export]: output `Arn` exports `shared-arn`, which another stack also exports in the default account and region us-east-1")
        .stderr_has("templates/e.json.njk:3:23")
        .stderr_has("also exported by stack `e2`");
}
