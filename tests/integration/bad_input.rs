//! Bad input: every case exits 1 with a message naming the file and line, and never panics
//! (the harness fails any run whose stderr shows a panic).

use crate::harness::TestProject;

const GOOD: &str = r#"{
  "Resources": {
    "Queue": {"Type": "AWS::SQS::Queue"}
  }
}
"#;

/// A project with stack `s` rendering `templates/t.json.njk`, plus `files`; runs `validate --all`
/// and checks exit 1 and that stderr holds every `expect`.
#[track_caller]
fn check(files: &[(&str, &str)], expect: &[&str]) {
    let p = TestProject::new();
    p.stack("s", "t.json.njk", "");
    p.template("t.json.njk", GOOD);
    for (path, text) in files {
        p.file(path, text);
    }
    let out = p.run(&["validate", "--all"]);
    out.code(1);
    for e in expect {
        out.stderr_has(e);
    }
}

// ---- templates -------------------------------------------------------------------------

#[test]
fn template_syntax_error() {
    check(
        &[("templates/t.json.njk", "{\n  \"Resources\": {% if %}\n}\n")],
        &[
            "error[template-syntax]",
            "templates/t.json.njk:2:",
            "\"Resources\": {% if %}",
        ],
    );
}

#[test]
fn unclosed_block() {
    check(
        &[(
            "templates/t.json.njk",
            "{\n{% for x in [1] %}\n  \"Resources\": {}\n}\n",
        )],
        &["error[template-syntax]", "templates/t.json.njk:"],
    );
}

#[test]
fn undefined_variable_has_line_and_column() {
    check(
        &[("templates/t.json.njk", "{\n  \"Description\": \"{{ vars.missing }}\",\n  \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}\n}\n")],
        &["error[undefined-variable]", "vars.missing", "--> templates/t.json.njk:2:22", "= stack: s"],
    );
}

#[test]
fn undefined_variable_in_an_include_names_the_chain() {
    check(
        &[
            ("templates/t.json.njk", "{\n  \"Resources\": {\n    {% include \"lib/queue.njk\" %}\n  }\n}\n"),
            ("templates/lib/queue.njk", "\"Q\": {\"Type\": \"AWS::SQS::Queue\",\n \"Properties\": {\"QueueName\": \"{{ vars.nope }}\"}}\n"),
        ],
        &["--> templates/lib/queue.njk:2:", "= included from templates/t.json.njk:3:5"],
    );
}

#[test]
fn include_of_a_missing_template() {
    check(
        &[(
            "templates/t.json.njk",
            "{\n  \"Resources\": {\n    {% include \"lib/nope.njk\" %}\n  }\n}\n",
        )],
        &[
            "error[bad-include]",
            "template `lib/nope.njk` not found",
            "templates/t.json.njk:3:",
        ],
    );
}

#[test]
fn include_cannot_escape_templates() {
    check(
        &[("templates/t.json.njk", "{% include \"../little.yaml\" %}\n")],
        &["error[bad-include]", "templates/t.json.njk:1:"],
    );
}

#[test]
fn import_of_an_undefined_macro() {
    check(
        &[
            (
                "templates/t.json.njk",
                "{% from \"lib/m.njk\" import nope %}\n{{ nope() }}\n",
            ),
            ("templates/lib/m.njk", "{% macro yes() %}{}{% endmacro %}\n"),
        ],
        &["templates/t.json.njk:2:"],
    );
}

#[test]
fn output_missing_a_comma_points_at_the_source_line() {
    check(
        &[(
            "templates/t.json.njk",
            "{\n  \"Resources\": {\n{% for n in [\"A\", \"B\"] %}\n    \"Q{{ n }}\": {\"Type\": \"AWS::SQS::Queue\"}\n{% endfor %}\n  }\n}\n",
        )],
        &["error[invalid-output]", "not valid JSON", "--> templates/t.json.njk:4:5", "rendered line"],
    );
}

#[test]
fn output_with_a_trailing_comma() {
    check(
        &[(
            "templates/t.json.njk",
            "{\n  \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"},}\n}\n",
        )],
        &["error[invalid-output]", "--> templates/t.json.njk:2:"],
    );
}

#[test]
fn output_error_inside_an_included_template() {
    check(
        &[
            ("templates/t.json.njk", "{\n  \"Resources\": {\n    {% include \"lib/q.njk\" %}\n  }\n}\n"),
            ("templates/lib/q.njk", "\"Q\": {\"Type\": \"AWS::SQS::Queue\",\n  \"Properties\": {\"DelaySeconds\": 5 6}}\n"),
        ],
        &["error[invalid-output]", "--> templates/lib/q.njk:2:", "included from templates/t.json.njk:3:5"],
    );
}

#[test]
fn yaml_output_that_is_not_yaml() {
    check(
        &[
            ("stacks/s.yaml", "name: s\ntemplate: t.yaml.njk\n"),
            (
                "templates/t.yaml.njk",
                "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n   Bad: [1\n",
            ),
        ],
        &[
            "error[invalid-output]",
            "not valid YAML",
            "templates/t.yaml.njk:",
        ],
    );
}

#[test]
fn yaml_output_with_an_unknown_tag() {
    check(
        &[
            ("stacks/s.yaml", "name: s\ntemplate: t.yaml.njk\n"),
            ("templates/t.yaml.njk", "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Reff X\n"),
        ],
        &["unknown YAML tag `!Reff`", "--> templates/t.yaml.njk:5:"],
    );
}

#[test]
fn dangling_ref() {
    check(
        &[("templates/t.json.njk", "{\n  \"Resources\": {\n    \"Q\": {\"Type\": \"AWS::SQS::Queue\",\n      \"Properties\": {\"QueueName\": {\"Ref\": \"Nope\"}}}\n  }\n}\n")],
        &["error[dangling-ref]", "`Nope`", "--> templates/t.json.njk:4:"],
    );
}

#[test]
fn dangling_getatt() {
    check(
        &[("templates/t.json.njk", "{\n  \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}},\n  \"Outputs\": {\n    \"Arn\": {\"Value\": {\"Fn::GetAtt\": [\"Nope\", \"Arn\"]}}\n  }\n}\n")],
        &["error[dangling-getatt]", "--> templates/t.json.njk:4:"],
    );
}

#[test]
fn dangling_sub_variable() {
    check(
        &[("templates/t.json.njk", "{\n  \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\",\n    \"Properties\": {\"QueueName\": {\"Fn::Sub\": \"${Missing}-q\"}}}}\n}\n")],
        &["error[dangling-sub]", "templates/t.json.njk:3:"],
    );
}

#[test]
fn unknown_top_level_section() {
    check(
        &[(
            "templates/t.json.njk",
            "{\n  \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}},\n  \"Output\": {}\n}\n",
        )],
        &[
            "error[unknown-section]",
            "`Outputs`",
            "templates/t.json.njk:3:",
        ],
    );
}

// ---- policies --------------------------------------------------------------------------

const USES_POLICY: &str = "{\n  \"Resources\": {\"R\": {\"Type\": \"AWS::ECR::Repository\", \"Properties\": {\n    \"LifecyclePolicy\": {\"LifecyclePolicyText\": {{ policy(\"lifecycle/dev\") | dump | dump }}}}}}\n}\n";

#[test]
fn lifecycle_rule_untagged_with_prefixes() {
    check(
        &[
            ("templates/t.json.njk", USES_POLICY),
            ("policies/lifecycle/dev.json", "{\n  \"rules\": [\n    {\n      \"rulePriority\": 1,\n      \"selection\": {\n        \"tagStatus\": \"untagged\",\n        \"tagPrefixList\": [\"dev\"],\n        \"countType\": \"imageCountMoreThan\",\n        \"countNumber\": 3\n      },\n      \"action\": {\"type\": \"expire\"}\n    }\n  ]\n}\n"),
        ],
        &["error[invalid-policy]", "--> policies/lifecycle/dev.json:", "included from templates/t.json.njk:3:"],
    );
}

#[test]
fn lifecycle_duplicate_priorities() {
    check(
        &[
            ("templates/t.json.njk", USES_POLICY),
            ("policies/lifecycle/dev.json", "{\"rules\": [\n{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"untagged\", \"countType\": \"imageCountMoreThan\", \"countNumber\": 3}, \"action\": {\"type\": \"expire\"}},\n{\"rulePriority\": 1, \"selection\": {\"tagStatus\": \"tagged\", \"tagPrefixList\": [\"v\"], \"countType\": \"imageCountMoreThan\", \"countNumber\": 3}, \"action\": {\"type\": \"expire\"}}\n]}\n"),
        ],
        &["error[invalid-policy]", "rulePriority", "--> policies/lifecycle/dev.json:3:"],
    );
}

#[test]
fn iam_policy_without_effect() {
    check(
        &[
            ("templates/t.json.njk", "{\"Resources\": {\"P\": {\"Type\": \"AWS::IAM::ManagedPolicy\", \"Properties\": {\n  \"PolicyDocument\": {{ policy(\"iam/read\") | dump }}}}}}\n"),
            ("policies/iam/read.json", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Action\": \"ecr:DescribeRepositories\", \"Resource\": \"*\"}\n  ]\n}\n"),
        ],
        &["error[invalid-policy]", "Effect", "--> policies/iam/read.json:4:"],
    );
}

#[test]
fn missing_policy_file() {
    check(
        &[("templates/t.json.njk", USES_POLICY)],
        &[
            "policy `lifecycle/dev` not found",
            "templates/t.json.njk:3:",
        ],
    );
}

#[test]
fn policy_that_is_not_json() {
    check(
        &[
            ("templates/t.json.njk", USES_POLICY),
            (
                "policies/lifecycle/dev.json",
                "{\n  \"rules\": [\n    {\"rulePriority\": 1,}\n  ]\n}\n",
            ),
        ],
        &["error[policy-syntax]", "--> policies/lifecycle/dev.json:3:"],
    );
}

// ---- configs ---------------------------------------------------------------------------

#[test]
fn project_file_yaml_syntax_error() {
    check(
        &[(
            "little.yaml",
            "defaults:\n  region: us-east-1\n  tags: {a: b\n",
        )],
        &["error[yaml-syntax]", "--> little.yaml:"],
    );
}

#[test]
fn project_file_unknown_key() {
    check(
        &[(
            "little.yaml",
            "defaults:\n  region: us-east-1\n  regoin: eu-west-1\n",
        )],
        &[
            "error[unknown-key]",
            "unknown field `regoin`",
            "--> little.yaml:3:",
        ],
    );
}

#[test]
fn project_file_bad_account_id() {
    check(
        &[("little.yaml", "accounts:\n  dev:\n    id: \"1234\"\n")],
        &["error[bad-account]", "--> little.yaml:3:5"],
    );
}

#[test]
fn stack_config_yaml_syntax_error() {
    check(
        &[(
            "stacks/s.yaml",
            "name: s\ntemplate: t.json.njk\nvariables: {a: [1, 2}\n",
        )],
        &["error[yaml-syntax]", "--> stacks/s.yaml:"],
    );
}

#[test]
fn stack_config_unknown_key() {
    check(
        &[(
            "stacks/s.yaml",
            "name: s\ntemplate: t.json.njk\ndepend_on: [x]\n",
        )],
        &[
            "error[unknown-key]",
            "unknown field `depend_on`",
            "--> stacks/s.yaml:3:1",
        ],
    );
}

#[test]
fn stack_config_wrong_type() {
    check(
        &[(
            "stacks/s.yaml",
            "name: s\ntemplate: t.json.njk\ntermination_protection: maybe\n",
        )],
        &["error[wrong-type]", "--> stacks/s.yaml:3:"],
    );
}

#[test]
fn stack_config_missing_template() {
    check(
        &[("stacks/s.yaml", "name: s\n\ntemplate: nope.json.njk\n")],
        &[
            "error[missing-template]",
            "template `nope.json.njk` not found",
            "--> stacks/s.yaml:3:1",
        ],
    );
}

#[test]
fn stack_config_unknown_dependency() {
    check(
        &[(
            "stacks/s.yaml",
            "name: s\ntemplate: t.json.njk\ndepends_on: [iam-rolez]\n",
        )],
        &[
            "error[unknown-stack]",
            "`iam-rolez`",
            "--> stacks/s.yaml:3:14",
        ],
    );
}

#[test]
fn dependency_cycle_is_named() {
    check(
        &[
            ("stacks/s.yaml", "name: s\ntemplate: t.json.njk\ndepends_on: [b]\n"),
            ("stacks/b.yaml", "name: b\ntemplate: t.json.njk\nparameters:\n  X: \"{{ stack_output('c', 'Out') }}\"\n"),
            ("stacks/c.yaml", "name: c\ntemplate: t.json.njk\ndepends_on: [s]\n"),
        ],
        &["error[dependency-cycle]", "dependency cycle: b -> c -> s -> b", "--> stacks/b.yaml:4:"],
    );
}

#[test]
fn stack_output_of_an_unknown_stack() {
    check(
        &[("stacks/s.yaml", "name: s\ntemplate: t.json.njk\nparameters:\n  Arn: \"{{ stack_output('nope', 'Arn') }}\"\n")],
        &["error[unknown-stack]", "--> stacks/s.yaml:4:"],
    );
}

#[test]
fn stack_config_unknown_account() {
    check(
        &[
            ("little.yaml", "accounts:\n  dev: {id: \"123456789012\"}\n"),
            (
                "stacks/s.yaml",
                "name: s\ntemplate: t.json.njk\naccount: dve\n",
            ),
        ],
        &[
            "error[unknown-account]",
            "did you mean `dev`?",
            "--> stacks/s.yaml:3:1",
        ],
    );
}

#[test]
fn duplicate_stack_names() {
    check(
        &[("stacks/z.yaml", "name: s\ntemplate: t.json.njk\n")],
        &[
            "error[duplicate-stack]",
            "stack `s` is also defined in `stacks/s.yaml`",
            "--> stacks/z.yaml:1:1",
        ],
    );
}

#[test]
fn parameter_not_in_the_template() {
    check(
        &[(
            "stacks/s.yaml",
            "name: s\ntemplate: t.json.njk\nparameters:\n  Nope: x\n",
        )],
        &[
            "error[unknown-parameter]",
            "`Nope`",
            "--> stacks/s.yaml:4:3",
        ],
    );
}

#[test]
fn required_parameter_not_given() {
    check(
        &[("templates/t.json.njk", "{\n  \"Parameters\": {\"Env\": {\"Type\": \"String\"}},\n  \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}\n}\n")],
        &["error[missing-parameter]", "`Env`", "templates/t.json.njk:2:"],
    );
}

#[test]
fn parameter_expression_error_points_at_the_config() {
    check(
        &[
            ("stacks/s.yaml", "name: s\ntemplate: t.json.njk\nparameters:\n  Env: \"{{ accounts.prod.id }}\"\n"),
            ("templates/t.json.njk", "{\"Parameters\": {\"Env\": {\"Type\": \"String\"}}, \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}\n"),
        ],
        &["error[undefined-variable]", "`parameters.Env`", "--> stacks/s.yaml:4:3"],
    );
}

#[test]
fn stack_params_json_unknown_key() {
    check(
        &[("stacks/legacy/stackParams.json", "{\n  \"StackName\": \"legacy\",\n  \"Bogus\": true,\n  \"Littleware\": {\"TemplatePath\": \"t.json.njk\"}\n}\n")],
        &["error[unknown-key]", "--> stacks/legacy/stackParams.json:3:"],
    );
}

#[test]
fn stack_params_json_syntax_error() {
    check(
        &[(
            "stacks/legacy/stackParams.json",
            "{\n  \"StackName\": \"legacy\"\n  \"Littleware\": {}\n}\n",
        )],
        &[
            "error[json-syntax]",
            "--> stacks/legacy/stackParams.json:3:",
        ],
    );
}

#[test]
fn bad_stack_name() {
    check(
        &[("stacks/s.yaml", "name: my_stack\ntemplate: t.json.njk\n")],
        &["error[bad-stack-name]", "--> stacks/s.yaml:1:1"],
    );
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let p = TestProject::new();
    p.stack("a", "a.json.njk", "");
    p.stack("b", "b.json.njk", "");
    p.template("a.json.njk", "{{ vars.x }}");
    p.template(
        "b.json.njk",
        "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\", \"DependsOn\": \"Nope\"}}}",
    );
    let out = p.run(&["validate", "--all"]);
    out.code(1)
        .stderr_has("templates/a.json.njk:1:")
        .stderr_has("error[dangling-depends-on]")
        .stdout_has("validated 2 stacks: 2 errors");
}

#[test]
fn unknown_stack_on_the_command_line() {
    let p = TestProject::new();
    p.stack("iam-roles", "t.json.njk", "");
    p.template("t.json.njk", GOOD);
    p.run(&["render", "iam-role"])
        .code(1)
        .stderr_has("error: unknown stack `iam-role` (did you mean `iam-roles`?)");
    p.run(&["render"])
        .code(1)
        .stderr_has("name one or more stacks, or pass `--all`");
}

#[test]
fn no_project_found() {
    let dir = tempfile::tempdir().unwrap();
    let p = TestProject::new();
    let out = p.run_in(dir.path(), &["stacks"]);
    out.code(1).stderr_has("no `little.yaml` found");
}

/// A command line that does not parse exits 1, never 2 (which means changes or findings);
/// help and version exit 0.
#[test]
fn bad_arguments_exit_1_not_2() {
    let p = TestProject::new();
    p.run(&["plan", "--all", "--no-such-flag"])
        .code(1)
        .stderr_has("unexpected argument '--no-such-flag'");
    p.run(&["audit", "--fail-on"]).code(1);
    p.run(&["--help"]).success().stdout_has("Usage: little");
    p.run(&["plan", "--help"]).success();
}

// ---- hostile sizes -------------------------------------------------------------------------

#[test]
fn deeply_nested_yaml_is_refused_quickly() {
    let deep = 100_000;
    let started = std::time::Instant::now();
    check(
        &[(
            "stacks/s.yaml",
            &format!(
                "name: s\ntemplate: t.json.njk\nvariables:\n  x: {}{}\n",
                "[".repeat(deep),
                "]".repeat(deep)
            ),
        )],
        &[
            "error[yaml-nesting]",
            "stacks/s.yaml:4:70",
            "deeper than 64 levels",
        ],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn a_huge_timeout_is_an_error_not_a_panic() {
    let p = TestProject::new();
    for args in [
        &["apply", "--all", "--timeout", "18446744073709551615"][..],
        &["destroy", "--all", "--timeout", "18446744073709551615"],
        &[
            "ecr",
            "scan-report",
            "team/api:v1",
            "--timeout",
            "18446744073709551615",
        ],
    ] {
        p.run(args)
            .code(1)
            .stderr_has("invalid value '18446744073709551615' for '--timeout");
    }
}
