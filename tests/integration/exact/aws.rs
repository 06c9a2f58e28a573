//! Exact output of the commands that talk to AWS, on the emulator: plan (new, unchanged,
//! modified, markdown, summary), apply (create, no change, the two refusals), status, outputs, whoami,
//! destroy (refused, done), drift and audit.

use aws_sdk_ecr::types::ImageTagMutability;
use tokio::runtime::Runtime;

use super::{run, Exact};
use crate::cfn::emulator_config;
use crate::harness::{Emulator, TestProject, MINIMAL_PROJECT};

/// Queues from a list: `[{id: A}, {id: B, delay: 5}]` makes QueueA and QueueB.
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

/// The stack `queues` with `queues` as its list.
fn queues(emulator: &Emulator, queues: &str) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.template("queues.json.njk", QUEUES);
    set_queues(&p, queues);
    p
}

fn set_queues(p: &TestProject, queues: &str) {
    p.stack(
        "queues",
        "queues.json.njk",
        &format!("variables:\n  queues: {queues}\n"),
    );
}

/// [`queues`] with QueueA and QueueB deployed, then changed: A's delay, B removed, C added.
fn changed(p: &TestProject) {
    run(p, &["apply", "queues", "--yes"]).success();
    set_queues(p, "[{id: A, delay: 5}, {id: C}]");
}

/// The first plan of a stack that does not exist: the change set's additions.
#[test]
fn exact_plan_of_a_new_stack() {
    let emulator = Emulator::lock();
    let p = queues(&emulator, "[{id: A}, {id: B}]");
    let out = run(&p, &["plan", "queues", "--detailed-exitcode"]);
    Exact::new(&out).is(
        2,
        r#"
            queues (us-east-1, 123456789012): new
              Change set (predicted, none made):
                Add  QueueA  AWS::SQS::Queue
                Add  QueueB  AWS::SQS::Queue
              Template: 2 resources to create

            Plan: 1 new, 0 changed, 0 unchanged, 0 failed. Risks: 0 destructive, 0 broadening.
            "#,
        "",
    );
}

#[test]
fn exact_plan_of_an_unchanged_stack() {
    let emulator = Emulator::lock();
    let p = queues(&emulator, "[{id: A}, {id: B}]");
    run(&p, &["apply", "queues", "--yes"]).success();
    let out = run(&p, &["plan", "--all", "--detailed-exitcode"]);
    Exact::new(&out).is(
        0,
        r#"
            queues (us-east-1, 123456789012): unchanged

            Plan: 0 new, 0 changed, 1 unchanged, 0 failed. Risks: 0 destructive, 0 broadening.
            "#,
        "",
    );
}

/// A modified property (with its diff), a removed and an added resource, and the risk.
#[test]
fn exact_plan_of_a_modified_stack() {
    let emulator = Emulator::lock();
    let p = queues(&emulator, "[{id: A}, {id: B}]");
    changed(&p);
    let out = run(&p, &["plan", "queues", "--detailed-exitcode"]);
    Exact::new(&out).is(
        2,
        r#"
            queues (us-east-1, 123456789012): changed
              ! destructive: removes SQS queue `QueueB`: the queue and its messages are deleted
              Change set (predicted, none made):
                Add     QueueC  AWS::SQS::Queue
                Modify  QueueA  AWS::SQS::Queue
                Remove  QueueB  AWS::SQS::Queue
              Template:
                ~ QueueA (AWS::SQS::Queue)
                  ~ Properties.DelaySeconds
                      @@ -1 +1 @@
                      -0
                      +5
                - QueueB (AWS::SQS::Queue)
                + QueueC (AWS::SQS::Queue)

            Plan: 0 new, 1 changed, 0 unchanged, 0 failed. Risks: 1 destructive, 0 broadening.
            "#,
        "",
    );
}

/// A repository whose lifecycle policy text is written as little writes it, deployed; then
/// the same policy re-spaced with its keys reordered.
fn policy_text(emulator: &Emulator) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.template(
        "repo.json.njk",
        r#"{"Resources": {"Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "exact-repo", "LifecyclePolicy": {"LifecyclePolicyText": {{ vars.text | dump }}}}}}}"#,
    );
    p.stack(
        "ecr",
        "repo.json.njk",
        "variables:\n  text: '{\"rules\":[{\"rulePriority\":1,\"selection\":{\"tagStatus\":\"any\",\"countType\":\"imageCountMoreThan\",\"countNumber\":9},\"action\":{\"type\":\"expire\"}}]}'\n",
    );
    run(&p, &["apply", "ecr", "--yes"]).success();
    p.stack(
        "ecr",
        "repo.json.njk",
        "variables:\n  text: '{ \"rules\": [ { \"action\": { \"type\": \"expire\" }, \"rulePriority\": 1, \"selection\": { \"countNumber\": 9, \"countType\": \"imageCountMoreThan\", \"tagStatus\": \"any\" } } ] }'\n",
    );
    p
}

/// The same policy, written otherwise: unchanged (exit 0), and said.
#[test]
fn exact_plan_of_a_formatting_only_change() {
    let emulator = Emulator::lock();
    let p = policy_text(&emulator);
    let out = run(&p, &["plan", "ecr", "--detailed-exitcode"]);
    Exact::new(&out).is(
        0,
        r#"
            ecr (us-east-1, 123456789012): unchanged
              Formatting only, counted as unchanged (`--refresh-templates` sends it):
                Repo (AWS::ECR::Repository): Properties.LifecyclePolicy.LifecyclePolicyText has the same policy

            Plan: 0 new, 0 changed, 1 unchanged, 0 failed. Risks: 0 destructive, 0 broadening.
            "#,
        "",
    );
    let out = run(
        &p,
        &["plan", "ecr", "--detailed-exitcode", "--refresh-templates"],
    );
    Exact::new(&out).is(
        2,
        r#"
            ecr (us-east-1, 123456789012): changed
              Change set:
                Modify  Repo  AWS::ECR::Repository
              Formatting only:
                Repo (AWS::ECR::Repository): Properties.LifecyclePolicy.LifecyclePolicyText has the same policy
              Change set made: `--refresh-templates`, and the deployed template is written differently

            Plan: 0 new, 1 changed, 0 unchanged, 0 failed. Risks: 0 destructive, 0 broadening.
            "#,
        "",
    );
}

/// A stack that reads an output of a stack that changes: its value is known after apply.
#[test]
fn exact_plan_of_a_dependent_of_a_changed_stack() {
    let emulator = Emulator::lock();
    let p = queues(&emulator, "[{id: A}]");
    p.stack(
        "reader",
        "queues.json.njk",
        "parameters:\n  Env: \"{{ stack_output('queues', 'First') }}\"\nvariables:\n  queues: [{id: R}]\n",
    );
    run(&p, &["apply", "--all", "--yes"]).success();
    set_queues(&p, "[{id: A, delay: 2}]");
    let out = run(&p, &["plan", "--all", "--detailed-exitcode"]);
    Exact::new(&out).is(
        2,
        r#"
            queues (us-east-1, 123456789012): changed
              Change set (predicted, none made):
                Modify  QueueA  AWS::SQS::Queue
              Template:
                ~ QueueA (AWS::SQS::Queue)
                  ~ Properties.DelaySeconds
                      @@ -1 +1 @@
                      -0
                      +2

            reader (us-east-1, 123456789012): changed
              Known after apply: queues.First (the dependency changes in this plan)

            Plan: 0 new, 2 changed, 0 unchanged, 0 failed. Risks: 0 destructive, 0 broadening.
            "#,
        "",
    );
}

/// The same plan for a pull request or a job summary, titled with the project's name: the
/// marker a workflow finds its comment by, the summary table, the risks, one section a stack.
#[test]
fn exact_plan_as_markdown() {
    let emulator = Emulator::lock();
    let p = queues(&emulator, "[{id: A}, {id: B}]");
    p.file("little.yaml", &format!("name: exact\n{MINIMAL_PROJECT}"));
    changed(&p);
    let out = run(&p, &["plan", "queues", "--format", "markdown"]);
    Exact::new(&out).is(
        0,
        r#"
            <!-- little-plan: exact -->
            ## little plan: `exact`

            **0 new, 1 changed, 0 unchanged, 0 failed** · risks: **1 destructive, 0 broadening**

            | Stack | Change | Risks |
            |---|---|---|
            | `queues` | changed: 1 to add, 1 to modify, 1 to remove | **1 destructive** |

            > [!CAUTION]
            > - `queues`: **destructive**: removes SQS queue `QueueB`: the queue and its messages are deleted

            <details><summary><code>queues</code> · changed: 1 to add, 1 to modify, 1 to remove · <b>1 destructive</b></summary>

            changed · us-east-1 · account 123456789012

            **destructive**: removes SQS queue `QueueB`: the queue and its messages are deleted

            Predicted from the comparison (no change set made):

            | Action | Logical ID | Type | Replacement |
            |---|---|---|---|
            | Add | `QueueC` | `AWS::SQS::Queue` | - |
            | Modify | `QueueA` | `AWS::SQS::Queue` | False |
            | Remove | `QueueB` | `AWS::SQS::Queue` | - |

            Template diff:

            ```diff
            # QueueA Properties.DelaySeconds
            @@ -1 +1 @@
            -0
            +5
            ```

            </details>

            "#,
        "",
    );
}

/// `--summary`: each stack's change and risks, then the totals; in Markdown, the table alone.
#[test]
fn exact_plan_summary() {
    let emulator = Emulator::lock();
    let p = queues(&emulator, "[{id: A}, {id: B}]");
    p.file("little.yaml", &format!("name: exact\n{MINIMAL_PROJECT}"));
    changed(&p);
    let out = run(&p, &["plan", "--all", "--summary"]);
    Exact::new(&out).is(
        0,
        r#"
            STACK   CHANGE                                       RISKS
            queues  changed: 1 to add, 1 to modify, 1 to remove  1 destructive

            Plan: 0 new, 1 changed, 0 unchanged, 0 failed. Risks: 1 destructive, 0 broadening.
            "#,
        "",
    );
    let out = run(&p, &["plan", "--all", "--summary", "--format", "markdown"]);
    Exact::new(&out).is(
        0,
        r#"
            <!-- little-plan: exact -->
            ## little plan: `exact`

            **0 new, 1 changed, 0 unchanged, 0 failed** · risks: **1 destructive, 0 broadening**

            | Stack | Change | Risks |
            |---|---|---|
            | `queues` | changed: 1 to add, 1 to modify, 1 to remove | **1 destructive** |

            "#,
        "",
    );
}

/// The plan, the summary table, and on stderr the change set's progress. The emulator creates
/// the stack at once, so it is never seen in progress: no events are read or shown (on AWS,
/// they stream while the stack is in progress; the unit tests of `apply` show them).
#[test]
fn exact_apply_creating_a_stack() {
    let emulator = Emulator::lock();
    let p = queues(&emulator, "[{id: A}, {id: B}]");
    let out = run(&p, &["apply", "queues", "--yes"]);
    Exact::new(&out).column("DURATION").is(
        0,
        r#"
            queues (us-east-1, 123456789012): new
              Change set:
                Add  QueueA  AWS::SQS::Queue
                Add  QueueB  AWS::SQS::Queue
              Template: 2 resources to create

            Plan: 1 new, 0 changed, 0 unchanged, 0 failed. Risks: 0 destructive, 0 broadening.
            STACK   RESULT   DURATION    CHANGES
            queues  created  [duration]  2
            "#,
        r#"
            queues: executing the change set
            "#,
    );
}

#[test]
fn exact_apply_without_changes() {
    let emulator = Emulator::lock();
    let p = queues(&emulator, "[{id: A}, {id: B}]");
    run(&p, &["apply", "queues", "--yes"]).success();
    let out = run(&p, &["apply", "queues", "--yes"]);
    Exact::new(&out).column("DURATION").is(
        0,
        r#"
            queues (us-east-1, 123456789012): unchanged

            Plan: 0 new, 0 changed, 1 unchanged, 0 failed. Risks: 0 destructive, 0 broadening.
            STACK   RESULT      DURATION  CHANGES
            queues  no changes  -         -
            "#,
        "",
    );
}

/// Refused for safety (exit 3): no terminal to ask and no --yes.
#[test]
fn exact_apply_refused_without_a_terminal() {
    let emulator = Emulator::lock();
    let p = queues(&emulator, "[{id: A}, {id: B}]");
    let out = run(&p, &["apply", "queues"]);
    Exact::new(&out).is(
        3,
        r#"
            queues (us-east-1, 123456789012): new
              Change set:
                Add  QueueA  AWS::SQS::Queue
                Add  QueueB  AWS::SQS::Queue
              Template: 2 resources to create

            Plan: 1 new, 0 changed, 0 unchanged, 0 failed. Risks: 0 destructive, 0 broadening.
            "#,
        "error: refused: there is no terminal to ask for approval; pass `--yes` to apply without asking\n",
    );
}

/// Refused for safety (exit 3) even with --yes: a destructive change needs its own flag.
#[test]
fn exact_apply_refused_for_a_destructive_change() {
    let emulator = Emulator::lock();
    let p = queues(&emulator, "[{id: A}, {id: B}]");
    run(&p, &["apply", "queues", "--yes"]).success();
    set_queues(&p, "[{id: A}]");
    let out = run(&p, &["apply", "queues", "--yes"]);
    Exact::new(&out).is(
        3,
        r#"
            queues (us-east-1, 123456789012): changed
              ! destructive: removes SQS queue `QueueB`: the queue and its messages are deleted
              Change set:
                Remove  QueueB  AWS::SQS::Queue
              Template:
                - QueueB (AWS::SQS::Queue)

            Plan: 0 new, 1 changed, 0 unchanged, 0 failed. Risks: 1 destructive, 0 broadening.
            "#,
        "error: refused: 1 destructive change (`QueueB`); pass `--allow-destructive` to allow\n",
    );
}

/// [`queues`] deployed, and `later` (after it) not deployed.
fn deployed_and_not(emulator: &Emulator) -> TestProject {
    let p = queues(emulator, "[{id: A}, {id: B}]");
    p.stack(
        "later",
        "queues.json.njk",
        "depends_on: [queues]\nvariables:\n  queues: [{id: X}]\n",
    );
    run(&p, &["apply", "queues", "--yes"]).success();
    p
}

#[test]
fn exact_status() {
    let emulator = Emulator::lock();
    let p = deployed_and_not(&emulator);
    let out = run(&p, &["status"]);
    Exact::new(&out).column("LAST UPDATED").is(
        0,
        r#"
            STACK   REGION     STATUS           LAST UPDATED  DRIFT  PROTECTED
            queues  us-east-1  CREATE_COMPLETE  [timestamp]   -      no
            later   us-east-1  not deployed     -             -      -

            queues outputs:
              First  https://sqs.us-east-1.amazonaws.com/123456789012/queues-A
            "#,
        "",
    );
}

#[test]
fn exact_outputs() {
    let emulator = Emulator::lock();
    let p = deployed_and_not(&emulator);
    let out = run(&p, &["outputs", "queues"]);
    Exact::new(&out).is(
        0,
        "First  https://sqs.us-east-1.amazonaws.com/123456789012/queues-A\n",
        "",
    );
}

#[test]
fn exact_whoami() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    let out = run(&p, &["whoami"]);
    Exact::new(&out).is(
        0,
        r#"
            us-east-1, any account: the project's default target
              caller       arn:aws:sts::123456789012:user/moto
              account      123456789012
              region       us-east-1
              credentials  the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)
              guard        passes
            "#,
        "",
    );
}

/// Refused for safety (exit 3) after showing what would be deleted.
#[test]
fn exact_destroy_refused_without_yes() {
    let emulator = Emulator::lock();
    let p = deployed_and_not(&emulator);
    let out = run(&p, &["destroy", "--all"]);
    Exact::new(&out).is(
        3,
        "",
        r#"
            later: not deployed; nothing to delete
            queues (CREATE_COMPLETE):
              - delete  QueueA (AWS::SQS::Queue) https://sqs.us-east-1.amazonaws.com/123456789012/queues-A
              - delete  QueueB (AWS::SQS::Queue) https://sqs.us-east-1.amazonaws.com/123456789012/queues-B
            error: refused: there is no terminal to ask for approval; pass `--yes` to delete without asking
            "#,
    );
}

#[test]
fn exact_destroy() {
    let emulator = Emulator::lock();
    let p = deployed_and_not(&emulator);
    let out = run(&p, &["destroy", "--all", "--yes"]);
    Exact::new(&out).column("DURATION").is(
        0,
        r#"
            STACK   RESULT   DURATION    CHANGES
            queues  deleted  [duration]  2
            "#,
        r#"
            later: not deployed; nothing to delete
            queues (CREATE_COMPLETE):
              - delete  QueueA (AWS::SQS::Queue) https://sqs.us-east-1.amazonaws.com/123456789012/queues-A
              - delete  QueueB (AWS::SQS::Queue) https://sqs.us-east-1.amazonaws.com/123456789012/queues-B
            queues: deleting
            queues: deleted
            "#,
    );
}

/// An ECR repository per stack, `drifting` and `steady`, deployed; then `drifting/api` made
/// mutable out of band.
fn registries(emulator: &Emulator) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.template(
        "registry.json.njk",
        r#"{
  "Resources": {
    "Repo": {
      "Type": "AWS::ECR::Repository",
      "Properties": {
        "RepositoryName": "{{ stack.name }}/api",
        "ImageTagMutability": "IMMUTABLE",
        "Tags": [{"Key": "team", "Value": "platform"}]
      }
    }
  }
}
"#,
    );
    p.stack("drifting", "registry.json.njk", "");
    p.stack("steady", "registry.json.njk", "");
    run(&p, &["apply", "--all", "--yes"]).success();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, emulator));
    rt.block_on(
        ecr.put_image_tag_mutability()
            .repository_name("drifting/api")
            .image_tag_mutability(ImageTagMutability::Mutable)
            .send(),
    )
    .unwrap();
    p
}

#[test]
fn exact_drift() {
    let emulator = Emulator::lock();
    let p = registries(&emulator);
    let out = run(&p, &["drift", "--all"]);
    Exact::new(&out).is(
        2,
        r#"
            drifting: drifted (direct)
              ~ Repo (AWS::ECR::Repository) MODIFIED
                  /ImageTagMutability: IMMUTABLE -> MUTABLE
            steady: in sync (direct)
            "#,
        "",
    );
}

/// Findings grouped by stack and repository, each group aligned on its own, then the count.
#[test]
fn exact_audit_findings() {
    let emulator = Emulator::lock();
    let p = registries(&emulator);
    let out = run(&p, &["audit", "--drift"]);
    Exact::new(&out).is(
        2,
        r#"
            drifting (us-east-1)
              MEDIUM  stack.drift                   -  stack `drifting` has drifted: Repo MODIFIED (/ImageTagMutability) (`little drift drifting`)
              LOW     stack.termination-protection  -  stack `drifting` has no termination protection
            steady (us-east-1)
              LOW  stack.termination-protection  -  stack `steady` has no termination protection
            drifting/api (123456789012 us-east-1)
              HIGH    ecr.scanning          ECR.1  images pushed to repository `drifting/api` are not scanned: scan on push is off and no registry scanning rule with `SCAN_ON_PUSH` or `CONTINUOUS_SCAN` matches it
              HIGH    ecr.tag-immutability  ECR.2  repository `drifting/api` has mutable image tags (`MUTABLE`): a tag can be moved to another image [--remediate would call ecr:PutImageTagMutability: MUTABLE -> IMMUTABLE]
              MEDIUM  ecr.lifecycle         ECR.3  repository `drifting/api` has no lifecycle policy: old images are never expired
            steady/api (123456789012 us-east-1)
              HIGH    ecr.scanning   ECR.1  images pushed to repository `steady/api` are not scanned: scan on push is off and no registry scanning rule with `SCAN_ON_PUSH` or `CONTINUOUS_SCAN` matches it
              MEDIUM  ecr.lifecycle  ECR.3  repository `steady/api` has no lifecycle policy: old images are never expired
            8 findings (3 HIGH, 3 MEDIUM, 2 LOW) in 2 repositories, 0 images, 2 stacks
            "#,
        "",
    );
    let out = run(
        &p,
        &["audit", "--check", "ecr.tag-immutability", "--remediate"],
    );
    // Every finding at or above --fail-on was remediated: exit 0.
    Exact::new(&out).is(
        0,
        r#"
            drifting/api (123456789012 us-east-1)
              HIGH  ecr.tag-immutability  ECR.2  repository `drifting/api` has mutable image tags (`MUTABLE`): a tag can be moved to another image [remediated by ecr:PutImageTagMutability: MUTABLE -> IMMUTABLE]
            1 finding (1 HIGH) in 2 repositories, 0 images, 0 stacks
            "#,
        "",
    );
}
