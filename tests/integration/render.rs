//! `little render` and `little stacks`: output forms, files, selection and order.

use serde_json::json;

use crate::harness::TestProject;

fn two_stacks() -> TestProject {
    let p = TestProject::new();
    p.stack("b-net", "q.json.njk", "");
    p.stack("a-app", "q.json.njk", "depends_on: [b-net]\n");
    p.template("q.json.njk", "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": \"{{ stack.name }}\"}}}}\n");
    p
}

#[test]
fn render_all_to_stdout_is_one_json_object() {
    let p = two_stacks();
    let v = p.run(&["render", "--all"]).success().json();
    assert_eq!(
        v["a-app"]["Resources"]["Q"]["Properties"]["QueueName"],
        "a-app"
    );
    assert_eq!(
        v["b-net"]["Resources"]["Q"]["Properties"]["QueueName"],
        "b-net"
    );
}

#[test]
fn render_out_writes_one_file_per_stack() {
    let p = two_stacks();
    let out_dir = p.path().join("build");
    p.run(&["render", "--all", "--out", "build"])
        .success()
        .stderr_has("wrote ");
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("a-app.json")).unwrap())
            .unwrap();
    assert_eq!(a["Resources"]["Q"]["Type"], "AWS::SQS::Queue");
    assert!(out_dir.join("b-net.json").is_file());
}

#[test]
fn render_yaml() {
    let p = two_stacks();
    let out = p.run(&["render", "a-app", "--format", "yaml"]);
    out.success()
        .stdout_has("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n");
}

#[test]
fn yaml_templates_with_short_forms_render_as_long_forms() {
    let p = TestProject::new();
    p.stack("y", "y.yaml.njk", "");
    p.template(
        "y.yaml.njk",
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\nOutputs:\n  Arn:\n    Value: !GetAtt Q.Arn\n  Url:\n    Value: !Ref Q\n  Name:\n    Value: !Sub '${AWS::StackName}-q'\n",
    );
    let v = p.run(&["render", "y"]).success().json();
    assert_eq!(
        v["Outputs"]["Arn"]["Value"],
        json!({"Fn::GetAtt": ["Q", "Arn"]})
    );
    assert_eq!(v["Outputs"]["Url"]["Value"], json!({"Ref": "Q"}));
    assert_eq!(
        v["Outputs"]["Name"]["Value"],
        json!({"Fn::Sub": "${AWS::StackName}-q"})
    );
    p.run(&["validate", "y"]).success();
}

#[test]
fn stacks_lists_in_dependency_order() {
    let p = two_stacks();
    let v = p.run(&["stacks", "--format", "json"]).success().json();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b-net", "a-app"]);
    assert_eq!(v[1]["depends_on"], json!(["b-net"]));
    assert_eq!(v[1]["config"], "stacks/a-app.yaml");
    let text = p.run(&["stacks"]).success().stdout.clone();
    assert!(text.starts_with("STACK  "), "{text}");
    assert!(
        text.contains("a-app  q.json.njk  us-east-1  -        b-net"),
        "{text}"
    );
}

#[test]
fn project_is_found_from_a_subdirectory_and_by_flag() {
    let p = two_stacks();
    std::fs::create_dir_all(p.path().join("stacks/deep")).unwrap();
    p.run_in(&p.path().join("stacks/deep"), &["render", "a-app"])
        .success();
    let elsewhere = tempfile::tempdir().unwrap();
    let root = p.path().to_str().unwrap().to_owned();
    p.run_in(elsewhere.path(), &["--project", &root, "render", "a-app"])
        .success();
}

#[test]
fn validate_json_report() {
    let p = two_stacks();
    let v = p
        .run(&["validate", "--all", "--format", "json"])
        .success()
        .json();
    assert_eq!(v["version"], 1);
    assert_eq!(v["valid"], true);
    assert_eq!(v["stacks"].as_array().unwrap().len(), 2);
}

#[test]
fn oversized_template_is_a_warning() {
    let p = TestProject::new();
    p.stack("big", "big.json.njk", "");
    p.template(
        "big.json.njk",
        "{\"Resources\": {\n{% for i in range(400) %}\"Queue{{ i }}\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": \"queue-with-a-long-name-to-take-room-{{ i }}-abcdefghijklmnopqrstuvwxyz0123456789\"}}{{ \",\" if not loop.last }}\n{% endfor %}}}\n",
    );
    let out = p.run(&["validate", "big"]);
    out.success()
        .stderr_has("warning[template-size]")
        .stderr_has("51,200")
        .stdout_has("ok, 1 warning");
}

#[test]
fn closed_stdout_is_not_an_error() {
    use std::process::{Command, Stdio};
    let p = two_stacks();
    let mut child = Command::new(env!("CARGO_BIN_EXE_little"))
        .args(["render", "--all"])
        .current_dir(p.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn the_repository_s_own_stacks_validate() {
    let p = TestProject::from_repo();
    let out = p.run(&["validate", "--all"]);
    out.success().stdout_has(" 0 errors, 0 warnings");
}
