//! `little plan` against the local emulator: a new stack, an unchanged one, one with added,
//! modified and removed resources, saved plans, and the JSON read back into the schema types.

use little_stack::aws::changeset::{ChangeSetClient, ChangeSets};
use little_stack::aws::cloudformation::{wait_for_stack, CfnClient, CloudFormation, StackRequest};
use little_stack::plan::diff::ChangeKind;
use little_stack::plan::model::{Plan, PlanStatus};
use tokio::runtime::Runtime;

use crate::cfn::{emulator_config, FAST};
use crate::harness::{Emulator, TestProject};

const QUEUES: &str = r#"{
  "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
  "Resources": {
    {% for q in vars.queues %}
    "Queue{{ q.id }}": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "{{ stack.name }}-{{ q.id }}", "DelaySeconds": {{ q.delay | default(0) }}}}{{ "," if not loop.last }}
    {% endfor %}
  },
  "Outputs": {"First": {"Value": {"Ref": "Queue{{ vars.queues[0].id }}"}}}
}
"#;

fn project(emulator: &Emulator, queues: &str) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.template("queues.json.njk", QUEUES);
    p.stack(
        "queues",
        "queues.json.njk",
        &format!("variables:\n  queues: {queues}\n"),
    );
    p
}

/// Deploys the stack as the project renders it now, through the AWS layer.
fn deploy(rt: &Runtime, emulator: &Emulator, p: &TestProject, stack: &str) {
    let body = p.run(&["render", stack]).success().stdout.clone();
    let cfn = CfnClient::new(&emulator_config(rt, emulator));
    rt.block_on(async {
        cfn.create_stack(&StackRequest {
            stack_name: stack.into(),
            template_body: body,
            ..Default::default()
        })
        .await
        .expect("create");
        let info = wait_for_stack(&cfn, stack, FAST)
            .await
            .expect("wait")
            .expect("exists");
        assert_eq!(info.status, "CREATE_COMPLETE");
    });
}

fn plan_json(p: &TestProject, args: &[&str], code: i32) -> Plan {
    let mut all = vec!["plan", "--format", "json"];
    all.extend_from_slice(args);
    let out = p.run(&all);
    out.code(code);
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not a plan ({e}):\n{}", out.stdout))
}

#[test]
fn a_new_stack_is_planned_with_a_create_change_set_that_is_cleaned_up() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let p = project(&emulator, "[{id: A}, {id: B}]");
    let plan = plan_json(&p, &["queues", "--detailed-exitcode"], 2);
    assert_eq!(plan.version, 1);
    let s = &plan.stacks[0];
    assert_eq!(s.status, PlanStatus::New);
    assert_eq!(s.region, "us-east-1");
    let adds: Vec<(&str, &str)> = s
        .resource_changes
        .iter()
        .map(|c| (c.action.as_str(), c.logical_id.as_str()))
        .collect();
    assert_eq!(adds, [("Add", "QueueA"), ("Add", "QueueB")]);
    assert_eq!(plan.summary.new, 1);
    assert!(s.change_set.is_none());
    assert_eq!(s.hashes.template_sha256.len(), 64);
    // Neither the change set nor the REVIEW_IN_PROGRESS stack is left behind.
    let cfn = CfnClient::new(&emulator_config(&rt, &emulator));
    let left = rt.block_on(cfn.describe_stack("queues")).unwrap();
    assert!(left.is_none(), "left behind: {left:?}");
}

#[test]
fn an_unchanged_stack_exits_0_with_detailed_exitcode() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let p = project(&emulator, "[{id: A}]");
    deploy(&rt, &emulator, &p, "queues");
    let plan = plan_json(&p, &["queues", "--detailed-exitcode"], 0);
    let s = &plan.stacks[0];
    assert_eq!(s.status, PlanStatus::Unchanged, "{s:#?}");
    assert!(s.template_changes.is_empty());
    assert!(
        s.parameter_changes.is_empty(),
        "Env equals its default: {:?}",
        s.parameter_changes
    );
    assert!(s.resource_changes.is_empty());
    assert_eq!(s.deployed.as_ref().unwrap().status, "CREATE_COMPLETE");
    let text = p.run(&["plan", "queues"]);
    text.success()
        .stdout_has("queues (us-east-1, 123456789012): unchanged");
}

#[test]
fn added_modified_and_removed_resources_with_exact_paths() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let p = project(&emulator, "[{id: A}, {id: B}]");
    deploy(&rt, &emulator, &p, "queues");
    // A changes its delay, B goes, C comes.
    p.stack(
        "queues",
        "queues.json.njk",
        "variables:\n  queues: [{id: A, delay: 5}, {id: C}]\n",
    );
    let plan = plan_json(&p, &["--all", "--detailed-exitcode"], 2);
    let s = &plan.stacks[0];
    assert_eq!(s.status, PlanStatus::Changed);
    let kinds: Vec<(&str, ChangeKind)> = s
        .template_changes
        .resources
        .iter()
        .map(|r| (r.logical_id.as_str(), r.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("QueueA", ChangeKind::Modified),
            ("QueueB", ChangeKind::Removed),
            ("QueueC", ChangeKind::Added)
        ]
    );
    let a = &s.template_changes.resources[0];
    assert_eq!(a.changes.len(), 1, "{:?}", a.changes);
    assert_eq!(a.changes[0].path, "Properties.DelaySeconds");
    assert_eq!(a.changes[0].before, Some(serde_json::json!(0)));
    assert_eq!(a.changes[0].after, Some(serde_json::json!(5)));
    let mut actions: Vec<(String, String)> = s
        .resource_changes
        .iter()
        .map(|c| (c.action.clone(), c.logical_id.clone()))
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            ("Add".to_owned(), "QueueC".to_owned()),
            ("Modify".to_owned(), "QueueA".to_owned()),
            ("Remove".to_owned(), "QueueB".to_owned())
        ]
    );
    // An SQS queue holds messages: removing one is destructive.
    assert!(
        s.risks.iter().any(|r| r.logical_id == "QueueB"),
        "{:#?}",
        s.risks
    );
    let text = p.run(&["plan", "queues", "--color", "never"]);
    text.success()
        .stdout_has("queues (us-east-1, 123456789012): changed")
        .stdout_has("~ QueueA (AWS::SQS::Queue)")
        .stdout_has("~ Properties.DelaySeconds")
        .stdout_has("-0")
        .stdout_has("+5")
        .stdout_has("- QueueB (AWS::SQS::Queue)");
    let md = p.run(&["plan", "queues", "--format", "markdown"]);
    md.success()
        .stdout_has(
            "| `queues` | changed: 1 to add, 1 to modify, 1 to remove | **1 destructive** |",
        )
        .stdout_has("```diff");
}

#[test]
fn a_saved_plan_keeps_its_change_set() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let p = project(&emulator, "[{id: A}]");
    deploy(&rt, &emulator, &p, "queues");
    p.stack(
        "queues",
        "queues.json.njk",
        "variables:\n  queues: [{id: A, delay: 9}]\n",
    );
    p.run(&["plan", "--all", "--out", "plan.json"])
        .success()
        .stderr_has("saved the plan to plan.json");
    let saved: Plan =
        serde_json::from_str(&std::fs::read_to_string(p.path().join("plan.json")).unwrap())
            .unwrap();
    let id = saved.stacks[0]
        .change_set
        .clone()
        .expect("a kept change set");
    assert!(id.name.starts_with("little-"), "{id:?}");
    let cs = ChangeSetClient::new(&emulator_config(&rt, &emulator));
    let (page, _) = rt
        .block_on(cs.describe_change_set_page("queues", &id.name, None))
        .expect("the change set is still there");
    assert_eq!(page.status, "CREATE_COMPLETE");
}

#[test]
fn one_failing_stack_does_not_hide_the_others() {
    let emulator = Emulator::lock();
    let p = project(&emulator, "[{id: A}]");
    p.template("broken.json.njk", "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": {{ vars.nope }}}}}}");
    p.stack("broken", "broken.json.njk", "");
    let plan = plan_json(&p, &["--all"], 1);
    let statuses: Vec<(&str, PlanStatus)> = plan
        .stacks
        .iter()
        .map(|s| (s.stack.as_str(), s.status))
        .collect();
    assert_eq!(
        statuses,
        [("broken", PlanStatus::Failed), ("queues", PlanStatus::New)]
    );
    assert!(plan.stacks[0]
        .error
        .as_deref()
        .unwrap()
        .contains("templates/broken.json.njk:1:"));
}
