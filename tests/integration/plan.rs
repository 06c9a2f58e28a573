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

const REPOSITORY: &str = r#"{"Resources": {"Repo": {"Type": "AWS::ECR::Repository", "Properties": {
  "RepositoryName": "{{ vars.name }}"{% if vars.kms %},
  "EncryptionConfiguration": {"EncryptionType": "KMS"}{% endif %}}}}}
"#;

#[test]
fn a_replaced_repository_says_how_many_images_it_loses() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let p = TestProject::new().with_emulator(&emulator);
    p.template("repo.json.njk", REPOSITORY);
    p.stack("repos", "repo.json.njk", "variables:\n  name: team/old\n");
    deploy(&rt, &emulator, &p, "repos");
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    rt.block_on(
        ecr.put_image()
            .repository_name("team/old")
            .image_manifest(crate::audit::MANIFEST)
            .image_manifest_media_type("application/vnd.docker.distribution.manifest.v2+json")
            .image_tag("v1")
            .send(),
    )
    .expect("put image");

    // A new name replaces the repository: the plan says what the old one holds.
    p.stack("repos", "repo.json.njk", "variables:\n  name: team/new\n");
    let out = p.run(&["plan", "repos"]);
    out.success()
        .stdout_has("! destructive: replaces ECR repository `Repo` because `RepositoryName` changes: the old repository and its images\n    are deleted\n")
        .stdout_has("now: `team/old` holds 1 image, the newest pushed 20");

    // So does a change of its encryption, found in the template (CloudFormation's change set
    // is not needed to know it), with the count in the JSON plan.
    p.stack(
        "repos",
        "repo.json.njk",
        "variables:\n  name: team/old\n  kms: true\n",
    );
    let plan = plan_json(&p, &["repos"], 0);
    let risk = &plan.stacks[0].risks[0];
    assert!(
        risk.reason.starts_with(
            "replaces ECR repository `Repo` because `EncryptionConfiguration` changes"
        ),
        "{}",
        risk.reason
    );
    assert!(
        risk.holds
            .as_deref()
            .is_some_and(|h| h.starts_with("`team/old` holds 1 image")),
        "{:?}",
        risk.holds
    );
}

/// A repository with a lifecycle policy (JSON in a string) and a repository policy (JSON), and a
/// queue, as little renders them.
const POLICIES: &str = r#"{
  "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
  "Resources": {
    "Repo": {"Type": "AWS::ECR::Repository", "Properties": {
      "RepositoryName": "{{ stack.name }}-repo",
      "ImageScanningConfiguration": {"ScanOnPush": true},
      "LifecyclePolicy": {"LifecyclePolicyText": {{ vars.lifecycle | dump | dump }}},
      "RepositoryPolicyText": {{ vars.policy | dump }}}},
    "Queue": {"Type": "AWS::SQS::Queue", "Properties": {
      "QueueName": {"Fn::Sub": "${AWS::StackName}-q"},
      "DelaySeconds": {{ vars.delay | default(0) }},
      "Tags": [{"Key": "env", "Value": {"Ref": "Env"}}]}}
  },
  "Outputs": {"QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}}, "RepoName": {"Value": {"Ref": "Repo"}}}
}
"#;

const POLICY_VARIABLES: &str = "variables:\n  lifecycle: {rules: [{rulePriority: 1, description: old images, selection: {tagStatus: any, countType: imageCountMoreThan, countNumber: 30}, action: {type: expire}}]}\n  policy: {Version: '2012-10-17', Statement: [{Sid: Pull, Effect: Allow, Principal: {AWS: 'arn:aws:iam::123456789012:root'}, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']}]}\n";

/// The same stack as deployed by another tool, in YAML: keys in another order, short forms, the
/// lifecycle policy re-spaced with its keys reordered, the repository policy as a string,
/// `ScanOnPush` quoted, the parameter given its default.
const POLICIES_YAML: &str = r#"Outputs:
  RepoName:
    Value: !Ref Repo
  QueueArn:
    Value: !GetAtt Queue.Arn
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Tags:
        - Value: !Ref Env
          Key: env
      DelaySeconds: 0
      QueueName: !Sub "${AWS::StackName}-q"
  Repo:
    Properties:
      RepositoryPolicyText: '{ "Statement": [ { "Action": [ "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer" ], "Principal": { "AWS": "arn:aws:iam::123456789012:root" }, "Effect": "Allow", "Sid": "Pull" } ], "Version": "2012-10-17" }'
      LifecyclePolicy:
        LifecyclePolicyText: |
          {
            "rules": [
              {
                "action": {"type": "expire"},
                "selection": {"countNumber": 30, "countType": "imageCountMoreThan", "tagStatus": "any"},
                "description": "old images",
                "rulePriority": 1
              }
            ]
          }
      ImageScanningConfiguration:
        ScanOnPush: "true"
      RepositoryName: oob-yaml-repo
    Type: AWS::ECR::Repository
Parameters:
  Env:
    Default: dev
    Type: String
"#;

/// The same again as compact JSON with other key orders (and the repository policy's actions
/// in another order).
const POLICIES_JSON: &str = r#"{"Outputs":{"RepoName":{"Value":{"Ref":"Repo"}},"QueueArn":{"Value":{"Fn::GetAtt":["Queue","Arn"]}}},"Parameters":{"Env":{"Type":"String","Default":"dev"}},"Resources":{"Repo":{"Type":"AWS::ECR::Repository","Properties":{"RepositoryPolicyText":{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["ecr:GetDownloadUrlForLayer","ecr:BatchGetImage"]}]},"RepositoryName":"oob-json-repo","LifecyclePolicy":{"LifecyclePolicyText":"{\"rules\":[{\"selection\":{\"tagStatus\":\"any\",\"countType\":\"imageCountMoreThan\",\"countNumber\":30},\"rulePriority\":1,\"description\":\"old images\",\"action\":{\"type\":\"expire\"}}]}"},"ImageScanningConfiguration":{"ScanOnPush":true}}},"Queue":{"Properties":{"DelaySeconds":0.0,"QueueName":{"Fn::Sub":"${AWS::StackName}-q"},"Tags":[{"Value":{"Ref":"Env"},"Key":"env"}]},"Type":"AWS::SQS::Queue"}}}"#;

/// Creates a stack from a body, as another tool would, through the AWS layer.
fn deploy_body(
    rt: &Runtime,
    emulator: &Emulator,
    stack: &str,
    body: &str,
    parameters: &[(&str, &str)],
) {
    let cfn = CfnClient::new(&emulator_config(rt, emulator));
    rt.block_on(async {
        cfn.create_stack(&StackRequest {
            stack_name: stack.into(),
            template_body: body.into(),
            parameters: parameters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Default::default()
        })
        .await
        .expect("create");
        let info = wait_for_stack(&cfn, stack, FAST)
            .await
            .expect("wait")
            .expect("exists");
        assert_eq!(info.status, "CREATE_COMPLETE", "{info:?}");
    });
}

/// How many times `little -v` says it called `operation` (0 when it is not in the table).
fn calls_of(stderr: &str, operation: &str) -> u64 {
    assert!(
        stderr.contains("AWS API calls:"),
        "no call table:\n{stderr}"
    );
    stderr
        .lines()
        .find(|l| l.split_whitespace().next() == Some(operation))
        .and_then(|l| l.split_whitespace().nth(1))
        .map(|n| n.parse().expect("a count"))
        .unwrap_or(0)
}

#[test]
fn equivalent_deployed_forms_are_unchanged_without_a_change_set() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let p = TestProject::new().with_emulator(&emulator);
    p.template("policies.json.njk", POLICIES);
    p.stack("oob-yaml", "policies.json.njk", POLICY_VARIABLES);
    p.stack("oob-json", "policies.json.njk", POLICY_VARIABLES);
    deploy_body(&rt, &emulator, "oob-yaml", POLICIES_YAML, &[("Env", "dev")]);
    deploy_body(&rt, &emulator, "oob-json", POLICIES_JSON, &[]);

    let out = p.run(&[
        "-v",
        "plan",
        "--all",
        "--detailed-exitcode",
        "--format",
        "json",
    ]);
    out.code(0);
    let plan: Plan = serde_json::from_str(&out.stdout).expect("a plan");
    for s in &plan.stacks {
        assert_eq!(s.status, PlanStatus::Unchanged, "{s:#?}");
        assert!(s.template_changes.is_empty(), "{s:#?}");
        assert!(s.parameter_changes.is_empty() && s.tag_changes.is_empty());
        assert!(s.resource_changes.is_empty() && s.change_set.is_none());
    }
    // No change set was made for either, and nothing else but reading.
    assert_eq!(calls_of(&out.stderr, "cloudformation:CreateChangeSet"), 0);
    assert_eq!(calls_of(&out.stderr, "cloudformation:DeleteChangeSet"), 0);
    assert_eq!(calls_of(&out.stderr, "cloudformation:GetTemplate"), 2);
    // What CloudFormation would send again for its text alone is said, per resource.
    let paths = |name: &str| -> Vec<String> {
        let s = plan.stacks.iter().find(|s| s.stack == name).unwrap();
        s.formatting_only
            .iter()
            .flat_map(|f| {
                f.paths
                    .iter()
                    .map(move |p| format!("{} {}", f.logical_id, p.describe()))
            })
            .collect()
    };
    assert_eq!(
        paths("oob-yaml"),
        [
            "Repo Properties.LifecyclePolicy.LifecyclePolicyText has the same policy",
            "Repo Properties.RepositoryPolicyText has the same policy, written as a string on one side and as JSON on the other"
        ]
    );
    assert_eq!(
        paths("oob-json"),
        [
            "Repo Properties.LifecyclePolicy.LifecyclePolicyText has the same policy",
            "Repo Properties.RepositoryPolicyText.Statement[0].Action has the same items in another order"
        ]
    );
    p.run(&["plan", "oob-yaml", "--color", "never"])
        .success()
        .stdout_has("oob-yaml (us-east-1, 123456789012): unchanged\n  Formatting only, counted as unchanged (`--refresh-templates` sends it):\n    Repo (AWS::ECR::Repository): Properties.LifecyclePolicy.LifecyclePolicyText has the same policy;\n      Properties.RepositoryPolicyText has the same policy");

    // `apply` does nothing for them, and makes no change set either.
    let applied = p.run(&["-v", "apply", "--all", "--yes"]);
    applied.success().stdout_has("no changes");
    assert_eq!(
        calls_of(&applied.stderr, "cloudformation:CreateChangeSet"),
        0
    );

    // `--refresh-templates` asks CloudFormation, which sends the resources again.
    let refreshed = p.run(&[
        "-v",
        "plan",
        "oob-yaml",
        "--refresh-templates",
        "--format",
        "json",
    ]);
    refreshed.success();
    assert_eq!(
        calls_of(&refreshed.stderr, "cloudformation:CreateChangeSet"),
        1
    );
    let plan: Plan = serde_json::from_str(&refreshed.stdout).expect("a plan");
    let s = &plan.stacks[0];
    assert!(
        s.change_set_reason
            .as_deref()
            .unwrap_or_default()
            .contains("--refresh-templates"),
        "{s:#?}"
    );
    assert!(s.template_changes.is_empty());
    // The emulator, like CloudFormation, sends the repository again for its policy text.
    assert_eq!(s.status, PlanStatus::Changed, "{s:#?}");
    let modified: Vec<(&str, &str)> = s
        .resource_changes
        .iter()
        .map(|c| (c.action.as_str(), c.logical_id.as_str()))
        .collect();
    assert_eq!(modified, [("Modify", "Repo")]);
    // Applied with it on purpose, the stack takes little's text; then nothing is left to send.
    p.run(&["apply", "oob-yaml", "--refresh-templates", "--yes"])
        .success()
        .stdout_has("oob-yaml  updated");
    let plan = plan_json(&p, &["oob-yaml", "--detailed-exitcode"], 0);
    assert!(plan.stacks[0].formatting_only.is_empty(), "{plan:#?}");

    // A real one-property change is still found, with its path: an in-place update, predicted
    // without a change set (`--change-set auto`, the default).
    p.stack(
        "oob-yaml",
        "policies.json.njk",
        &format!("{POLICY_VARIABLES}  delay: 7\n"),
    );
    let changed = p.run(&[
        "-v",
        "plan",
        "oob-yaml",
        "--detailed-exitcode",
        "--format",
        "json",
    ]);
    changed.code(2);
    assert_eq!(
        calls_of(&changed.stderr, "cloudformation:CreateChangeSet"),
        0
    );
    let plan: Plan = serde_json::from_str(&changed.stdout).expect("a plan");
    let s = &plan.stacks[0];
    assert_eq!(s.status, PlanStatus::Changed);
    assert!(s.predicted, "{s:#?}");
    let predicted: Vec<(&str, &str, Option<&str>)> = s
        .resource_changes
        .iter()
        .map(|c| {
            (
                c.action.as_str(),
                c.logical_id.as_str(),
                c.replacement.as_deref(),
            )
        })
        .collect();
    assert_eq!(predicted, [("Modify", "Queue", Some("False"))]);
    let found: Vec<(&str, &str)> = s
        .template_changes
        .resources
        .iter()
        .flat_map(|r| {
            r.changes
                .iter()
                .map(move |c| (r.logical_id.as_str(), c.path.as_str()))
        })
        .collect();
    assert_eq!(found, [("Queue", "Properties.DelaySeconds")]);
}

#[test]
fn a_dependent_of_a_changed_stack_knows_its_values_after_apply() {
    let emulator = Emulator::lock();
    let p = project(&emulator, "[{id: A}]");
    p.template(
        "reader.json.njk",
        r#"{"Parameters": {"Source": {"Type": "String"}}, "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": [{"Key": "source", "Value": {"Ref": "Source"}}]}}}}"#,
    );
    p.stack(
        "reader",
        "reader.json.njk",
        "parameters:\n  Source: \"{{ stack_output('queues', 'First') }}\"\n",
    );
    p.run(&["apply", "--all", "--yes"]).success();
    p.run(&["plan", "--all", "--detailed-exitcode"]).code(0);

    // The queue `First` names changes: reader's value is known only after apply.
    p.stack(
        "queues",
        "queues.json.njk",
        "variables:\n  queues: [{id: A, delay: 3}]\n",
    );
    let plan = plan_json(&p, &["--all", "--detailed-exitcode"], 2);
    let reader = plan.stacks.iter().find(|s| s.stack == "reader").unwrap();
    assert_eq!(reader.status, PlanStatus::Changed, "{reader:#?}");
    assert_eq!(reader.known_after_apply, ["queues.First"]);
    assert!(reader.template_changes.is_empty() && reader.parameter_changes.is_empty());
    assert_eq!(plan.summary.changed, 2);
    p.run(&["plan", "--all", "--color", "never"])
        .success()
        .stdout_has("reader (us-east-1, 123456789012): changed\n  Known after apply: queues.First (the dependency changes in this plan)\n");
    p.run(&["plan", "--all", "--format", "markdown"])
        .success()
        .stdout_has("| `reader` | changed | - |")
        .stdout_has("Known after apply (the dependency changes in this plan): `queues.First`");

    // Applied, reader is planned again once queues is: its value turned out the same.
    let applied = p.run(&["apply", "--all", "--yes"]);
    applied
        .success()
        .stderr_has("reader: planning again with the outputs now known (queues.First)");
    assert!(
        applied
            .stdout
            .lines()
            .any(|l| l.starts_with("reader ") && l.contains("no changes")),
        "{}",
        applied.stdout
    );
    p.run(&["plan", "--all", "--detailed-exitcode"]).code(0);
}

const KEEPING: &str = r#"{"Resources": {"Repo": {"Type": "AWS::ECR::Repository", "Properties": {
  "RepositoryName": "team/kept",
  "LifecyclePolicy": {"LifecyclePolicyText": {{ {"rules": [{"rulePriority": 1, "description": "keep the newest", "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": vars.keep}, "action": {"type": "expire"}}]} | dump | dump }}}}}}}
"#;

#[test]
fn a_changed_lifecycle_policy_says_which_images_it_would_expire() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let p = TestProject::new().with_emulator(&emulator);
    p.template("kept.json.njk", KEEPING);
    p.stack("kept", "kept.json.njk", "variables:\n  keep: 10\n");
    deploy(&rt, &emulator, &p, "kept");
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    for (n, tag) in ["v1", "v2", "v3"].iter().enumerate() {
        // Distinct manifests, so distinct digests; pushed in this order.
        let manifest = crate::in_use::manifest(10 + n);
        rt.block_on(
            ecr.put_image()
                .repository_name("team/kept")
                .image_manifest(manifest)
                .image_manifest_media_type("application/vnd.docker.distribution.manifest.v2+json")
                .image_tag(*tag)
                .send(),
        )
        .expect("put image");
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }

    // Keeping 1 instead of 10 expires the two older images at once; v1 runs in ECS.
    crate::in_use::ecs_service(
        &rt,
        &emulator,
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/kept:v1",
    );
    p.stack("kept", "kept.json.njk", "variables:\n  keep: 1\n");
    p.run(&["plan", "kept"])
        .success()
        .stdout_has("lifecycle: Repo: expires 2 of `team/kept`'s 3 images at once (the deployed policy: 0); newly expired: v1, v2; 1 of\n    them runs: v1 (ecs:prod/api)\n");
    let plan = plan_json(&p, &["kept"], 0);
    let change = &plan.stacks[0].lifecycle_changes[0];
    assert_eq!(
        (
            change.images,
            change.expires,
            change.expires_deployed,
            change.newly_expired
        ),
        (3, 2, Some(0), 2)
    );
    // Back to the deployed policy: nothing to say.
    p.stack("kept", "kept.json.njk", "variables:\n  keep: 10\n");
    let plan = plan_json(&p, &["kept"], 0);
    assert!(plan.stacks[0].lifecycle_changes.is_empty());
}
