//! `little destroy` against the local emulator: refused while a deployed stack outside the run
//! uses a target (nothing deleted), the same with both named, and `--all` in reverse dependency
//! order with the resources retained shown.

use std::collections::BTreeMap;

use crate::harness::{Emulator, Output, TestProject};

/// A queue, kept by CloudFormation on deletion, and one that is deleted.
const BASE: &str = r#"{
  "Resources": {
    "Kept": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain", "Properties": {"QueueName": "{{ stack.name }}-kept"}},
    "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "{{ stack.name }}-queue"}}
  },
  "Outputs": {"QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}}}
}
"#;

const USER: &str = r#"{
  "Parameters": {"BaseArn": {"Type": "String", "Default": "none"}},
  "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "{{ stack.name }}", "Tags": [{"Key": "base", "Value": {"Ref": "BaseArn"}}]}}},
  "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}}
}
"#;

/// base; app reads base's output; top depends on app; solo stands alone.
fn project(emulator: &Emulator) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.template("base.json.njk", BASE);
    p.template("user.json.njk", USER);
    p.stack("base", "base.json.njk", "");
    p.stack(
        "app",
        "user.json.njk",
        "parameters:\n  BaseArn: \"{{ stack_output('base', 'QueueArn') }}\"\n",
    );
    p.stack("top", "user.json.njk", "depends_on: [app]\n");
    p.stack("solo", "user.json.njk", "");
    p
}

/// Whether each stack of the project is deployed, from `little status`.
fn deployed(p: &TestProject) -> BTreeMap<String, bool> {
    let status = p.run(&["status", "--format", "json"]);
    status
        .success()
        .json()
        .as_array()
        .unwrap_or_else(|| panic!("not a list:\n{}", status.stdout))
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap().to_owned(),
                s["deployed"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Where `needle` first appears on stderr.
#[track_caller]
fn at(out: &Output, needle: &str) -> usize {
    out.stderr
        .find(needle)
        .unwrap_or_else(|| panic!("stderr lacks {needle:?}:\n{}", out.stderr))
}

/// The stack names of the summary's rows, in order.
fn summary(out: &Output) -> Vec<(String, String)> {
    out.stdout
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split_whitespace();
            (
                cols.next().unwrap_or_default().to_owned(),
                cols.next().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_stack_a_deployed_stack_uses_is_not_destroyed_alone() {
    let emulator = Emulator::lock();
    let p = project(&emulator);
    p.run(&["apply", "base", "app", "--yes"]).success();

    let refused = p.run(&["destroy", "base", "--yes"]);
    refused
        .code(3)
        .stderr_has("`base` is used by deployed stack `app` (stack_output('base', 'QueueArn'))")
        .stderr_has("(`little destroy app base`)")
        .stderr_has("`little destroy --all`")
        .stderr_has("nothing was deleted");
    assert!(
        !refused.stderr.contains("base: deleting"),
        "{}",
        refused.stderr
    );
    let now = deployed(&p);
    assert!(now["base"] && now["app"], "{now:?}");

    // Both named (in any order): app goes first.
    let out = p.run(&["destroy", "base", "app", "--yes"]);
    out.success();
    assert_eq!(
        summary(&out),
        [
            ("app".to_owned(), "deleted".to_owned()),
            ("base".to_owned(), "deleted".to_owned())
        ],
        "{}",
        out.stdout
    );
    assert!(at(&out, "app: deleted\n") < at(&out, "base: deleting"));
    let now = deployed(&p);
    assert!(!now["base"] && !now["app"], "{now:?}");
}

#[test]
fn a_dependent_that_is_not_deployed_does_not_block() {
    let emulator = Emulator::lock();
    let p = project(&emulator);
    p.run(&["apply", "base", "--yes"]).success();
    let out = p.run(&["destroy", "base", "--yes"]);
    out.success();
    assert_eq!(
        summary(&out),
        [("base".to_owned(), "deleted".to_owned())],
        "{}",
        out.stdout
    );
}

#[test]
fn destroy_all_goes_in_reverse_dependency_order_and_shows_what_is_retained() {
    let emulator = Emulator::lock();
    let p = project(&emulator);
    p.run(&["apply", "--all", "--yes"]).success();

    // Without a terminal and without --yes: refused, nothing deleted.
    let refused = p.run(&["destroy", "--all"]);
    refused.code(3).stderr_has("pass `--yes`");
    assert!(deployed(&p).values().all(|d| *d));

    let out = p.run(&["destroy", "--all", "--yes", "--concurrency", "2"]);
    out.success()
        .stderr_has("base (CREATE_COMPLETE):\n")
        .stderr_has("  - delete  Queue (AWS::SQS::Queue)")
        .stderr_has("  = retain  Kept (AWS::SQS::Queue)")
        .stderr_has(": Retain\n")
        .stderr_has("  - delete  Topic (AWS::SNS::Topic)");
    // Every stack's preview comes before the first deletion.
    for s in ["top", "app", "base", "solo"] {
        assert!(
            at(&out, &format!("{s} (CREATE_COMPLETE):\n")) < at(&out, ": deleting"),
            "{}",
            out.stderr
        );
    }
    // Dependents first: each one's deletion is complete before its dependency's starts.
    let top_done = at(&out, "top: deleted\n");
    let app_done = at(&out, "app: deleted\n");
    assert!(at(&out, "top: deleting") < top_done);
    assert!(top_done < at(&out, "app: deleting"), "{}", out.stderr);
    assert!(app_done < at(&out, "base: deleting"), "{}", out.stderr);
    let rows = summary(&out);
    assert_eq!(rows.len(), 4, "{}", out.stdout);
    assert!(rows.iter().all(|(_, r)| r == "deleted"), "{}", out.stdout);
    let names: Vec<&str> = rows.iter().map(|(s, _)| s.as_str()).collect();
    let index = |s: &str| names.iter().position(|n| *n == s).unwrap();
    assert!(
        index("top") < index("app") && index("app") < index("base"),
        "{names:?}"
    );
    assert!(deployed(&p).values().all(|d| !*d));
}
