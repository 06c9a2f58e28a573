//! The nunjucks behaviour CloudFormation templates rely on, each with its expected output, and
//! a template in little-automation's style rendering to the JSON that nunjucks produces.

use serde_json::json;

use crate::harness::TestProject;

/// Renders `template` as stack `s` with `variables` (YAML) and returns the parsed output.
fn render(template: &str, variables: &str, extra_files: &[(&str, &str)]) -> serde_json::Value {
    let p = TestProject::new();
    p.stack("s", "t.json.njk", &format!("variables:\n{variables}"));
    p.template("t.json.njk", template);
    for (path, text) in extra_files {
        p.file(path, text);
    }
    let out = p.run(&["render", "s"]);
    out.success();
    out.json()
}

#[test]
fn dump_compact_and_chained() {
    let v = render(
        r#"{"A": {{ vars.doc | dump }}, "B": {{ vars.doc | dump | dump }}}"#,
        "  doc: {b: 1, a: [true, null, x]}\n",
        &[],
    );
    assert_eq!(v["A"], json!({"b": 1, "a": [true, null, "x"]}));
    assert_eq!(v["B"], json!(r#"{"b":1,"a":[true,null,"x"]}"#));
}

#[test]
fn dump_with_indent() {
    let v = render(
        r#"{"A": {{ vars.doc | dump(2) | dump }}}"#,
        "  doc: {a: 1}\n",
        &[],
    );
    assert_eq!(v["A"], json!("{\n  \"a\": 1\n}"));
}

#[test]
fn include_from_templates_root_and_relative() {
    let v = render(
        r#"{"A": {% include "lib/a.njk" %}, "B": {% include "./b.njk" %}}"#,
        "  x: 1\n",
        &[
            ("templates/lib/a.njk", "{{ vars.x + 1 }}"),
            ("templates/b.njk", "\"b\""),
        ],
    );
    assert_eq!(v, json!({"A": 2, "B": "b"}));
}

#[test]
fn include_sees_loop_variables() {
    let v = render(
        r#"[{% for item in vars.items %}{% include "lib/item.njk" %}{{ "," if not loop.last }}{% endfor %}]"#,
        "  items: [a, b]\n",
        &[("templates/lib/item.njk", "\"{{ item }}\"")],
    );
    assert_eq!(v, json!(["a", "b"]));
}

#[test]
fn import_and_from_import_macros_with_defaults() {
    let v = render(
        r#"{% import "lib/m.njk" as m %}{% from "lib/m.njk" import tag %}[{{ m.tag("a") }}, {{ tag("b", value="x") }}, {{ tag(key="c") }}]"#,
        "  {}\n",
        &[(
            "templates/lib/m.njk",
            r#"{% macro tag(key, value="v") %}{"Key": "{{ key }}", "Value": "{{ value }}"}{% endmacro %}"#,
        )],
    );
    assert_eq!(
        v,
        json!([
            {"Key": "a", "Value": "v"},
            {"Key": "b", "Value": "x"},
            {"Key": "c", "Value": "v"}
        ])
    );
}

#[test]
fn loop_first_last_index() {
    let v = render(
        r#"[{% for x in vars.xs %}{"first": {{ loop.first }}, "last": {{ loop.last }}, "i": {{ loop.index }}, "len": {{ loop.length }}}{{ "," if not loop.last }}{% endfor %}]"#,
        "  xs: [a, b, c]\n",
        &[],
    );
    assert_eq!(
        v[0],
        json!({"first": true, "last": false, "i": 1, "len": 3})
    );
    assert_eq!(
        v[2],
        json!({"first": false, "last": true, "i": 3, "len": 3})
    );
}

#[test]
fn whitespace_control() {
    let v = render(
        "{\"A\": \"{%- for x in vars.xs -%}\n   {{ x }}   \n{%- endfor -%}\", \"B\": \"  {{- 'x' -}}  \"}",
        "  xs: [a, b]\n",
        &[],
    );
    assert_eq!(v, json!({"A": "ab", "B": "x"}));
}

#[test]
fn default_filter_and_is_defined() {
    let v = render(
        r#"{"A": "{{ vars.missing | default('d') }}", "B": {{ vars.missing is defined }}, "C": "{{ vars.here | d('no') }}"}"#,
        "  here: yes-here\n",
        &[],
    );
    assert_eq!(v, json!({"A": "d", "B": false, "C": "yes-here"}));
}

#[test]
fn raw_blocks_are_copied() {
    let v = render(
        r#"{"A": "{% raw %}{{ not a tag }}{% endraw %}"}"#,
        "  {}\n",
        &[],
    );
    assert_eq!(v["A"], "{{ not a tag }}");
}

#[test]
fn length_attribute_like_nunjucks() {
    let v = render(
        r#"{"N": {{ vars.xs.length }}, "Any": {% if vars.xs.length %}true{% else %}false{% endif %}}"#,
        "  xs: [1, 2, 3]\n",
        &[],
    );
    assert_eq!(v, json!({"N": 3, "Any": true}));
}

#[test]
fn numbers_and_booleans_print_as_json() {
    let v = render(
        r#"{"A": {{ 10 / 5 }}, "B": {{ true }}, "C": {{ vars.f }}}"#,
        "  f: 1.5\n",
        &[],
    );
    assert_eq!(v, json!({"A": 2, "B": true, "C": 1.5}));
}

#[test]
fn context_names() {
    let p = TestProject::new();
    p.file(
        "little.yaml",
        "name: acme\ndefaults:\n  region: eu-west-1\n  account: dev\n  tags: {owner: platform}\naccounts:\n  dev: {id: \"123456789012\"}\n  prod: {id: \"210987654321\", role_arn: \"arn:aws:iam::210987654321:role/deploy\"}\nvariables:\n  org: o-abc\n",
    );
    p.stack(
        "s",
        "t.json.njk",
        "tags: {stage: dev}\nparameters:\n  Reader: \"{{ accounts.prod.id }}\"\n",
    );
    p.template(
        "t.json.njk",
        r#"{"name": "{{ stack.name }}", "region": "{{ stack.region }}", "account": "{{ stack.account }}",
           "account_id": "{{ stack.account_id }}", "fn_account": "{{ account_id() }}", "param": "{{ stack.parameters.Reader }}",
           "tags": {{ stack.tags | dump }}, "project": "{{ project.name }}", "org": "{{ project.variables.org }}",
           "role": "{{ accounts.prod.role_arn }}", "tp": {{ stack.termination_protection }}}"#,
    );
    let v = p.run(&["render", "s"]).success().json();
    assert_eq!(
        v,
        json!({
            "name": "s", "region": "eu-west-1", "account": "dev", "account_id": "123456789012",
            "fn_account": "123456789012", "param": "210987654321",
            "tags": {"owner": "platform", "stage": "dev"}, "project": "acme", "org": "o-abc",
            "role": "arn:aws:iam::210987654321:role/deploy", "tp": false
        })
    );
}

#[test]
fn stack_output_renders_a_marked_placeholder() {
    let p = TestProject::new();
    p.stack("iam", "t.json.njk", "");
    p.stack("ecr", "t.json.njk", "variables:\n  arn: \"x\"\n");
    p.template("t.json.njk", r#"{"Description": "{{ stack_output('iam', 'CiRoleArn') if stack.name == 'ecr' else 'none' }}"}"#);
    let v = p.run(&["render", "ecr"]).success().json();
    assert_eq!(v["Description"], "(known after apply: iam.CiRoleArn)");
    let stacks = p.run(&["stacks", "--format", "json"]).success().json();
    let ecr = stacks
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "ecr")
        .unwrap();
    // The reference in the template implies the dependency (of both stacks, as both use it).
    assert!(ecr["depends_on"]
        .as_array()
        .unwrap()
        .contains(&json!("iam")));
}

/// A template written for little-automation (nunjucks), with its stackParams.json, renders
/// unchanged to what nunjucks produced for it.
#[test]
fn little_automation_template_renders_unchanged() {
    let p = TestProject::new();
    p.file(
        "stacks/ecr/stackParams.json",
        r#"{
  "StackName": "legacy-ecr",
  "Parameters": [{"ParameterKey": "Stage", "ParameterValue": "dev"}],
  "Tags": [{"Key": "org", "Value": "applications"}, {"Key": "project", "Value": "infra"}],
  "Capabilities": ["CAPABILITY_NAMED_IAM"],
  "EnableTerminationProtection": true,
  "TimeoutInMinutes": 10,
  "Littleware": {
    "TemplatePath": "ecr/repos.json.njk",
    "Variables": {
      "repos": [{"name": "team/app", "keep": 10}, {"name": "team/worker", "keep": 5}]
    }
  }
}
"#,
    );
    p.template(
        "ecr/repos.json.njk",
        r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {"Stage": {"Type": "String"}},
  "Resources": {
    {% for repo in stackVariables.repos %}
    "Repo{{ loop.index }}": {
      "Type": "AWS::ECR::Repository",
      "DeletionPolicy": "Retain",
      "Properties": {
        "RepositoryName": "{{ repo.name }}",
        "ImageTagMutability": "IMMUTABLE",
        "LifecyclePolicy": {
          "LifecyclePolicyText": {{ {"rules": [{"rulePriority": 1, "description": "keep " ~ repo.keep, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": repo.keep}, "action": {"type": "expire"}}]} | dump | dump }}
        },
        "Tags": [
          {{ stackTagsStr }},
          { "Key": "stage", "Value": "{{ stackParameters.Stage }}" }
        ]
      }
    }{% if not loop.last %},{% endif %}
    {% endfor %}
  }
}
"#,
    );
    let v = p.run(&["render", "legacy-ecr"]).success().json();
    // What nunjucks 3.2 renders for this template and stackParams.json.
    let expected = json!({
      "AWSTemplateFormatVersion": "2010-09-09",
      "Parameters": {"Stage": {"Type": "String"}},
      "Resources": {
        "Repo1": {
          "Type": "AWS::ECR::Repository",
          "DeletionPolicy": "Retain",
          "Properties": {
            "RepositoryName": "team/app",
            "ImageTagMutability": "IMMUTABLE",
            "LifecyclePolicy": {
              "LifecyclePolicyText": "{\"rules\":[{\"rulePriority\":1,\"description\":\"keep 10\",\"selection\":{\"tagStatus\":\"any\",\"countType\":\"imageCountMoreThan\",\"countNumber\":10},\"action\":{\"type\":\"expire\"}}]}"
            },
            "Tags": [
              {"Key": "org", "Value": "applications"},
              {"Key": "project", "Value": "infra"},
              {"Key": "stage", "Value": "dev"}
            ]
          }
        },
        "Repo2": {
          "Type": "AWS::ECR::Repository",
          "DeletionPolicy": "Retain",
          "Properties": {
            "RepositoryName": "team/worker",
            "ImageTagMutability": "IMMUTABLE",
            "LifecyclePolicy": {
              "LifecyclePolicyText": "{\"rules\":[{\"rulePriority\":1,\"description\":\"keep 5\",\"selection\":{\"tagStatus\":\"any\",\"countType\":\"imageCountMoreThan\",\"countNumber\":5},\"action\":{\"type\":\"expire\"}}]}"
            },
            "Tags": [
              {"Key": "org", "Value": "applications"},
              {"Key": "project", "Value": "infra"},
              {"Key": "stage", "Value": "dev"}
            ]
          }
        }
      }
    });
    assert_eq!(v, expected);
    // Key order is the template's, as nunjucks writes it.
    let keys: Vec<&String> = v["Resources"]["Repo1"]["Properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        keys,
        [
            "RepositoryName",
            "ImageTagMutability",
            "LifecyclePolicy",
            "Tags"
        ]
    );
    p.run(&["validate", "legacy-ecr"]).success();
}
