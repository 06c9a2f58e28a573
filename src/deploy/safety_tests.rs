//! Tests of apply's safety contract with the fakes: settings planned and applied, the
//! `--allow-unprotect` refusal, `--replace-failed` only after approval, run-scoped change
//! sets, cleanup on interrupt, and saved plans whose risks are computed again.

use std::sync::Arc;
use std::time::Duration;

use super::apply::apply;
use super::options::ApplyOptions;
use super::outcome::Outcome;
use super::Ui;
use crate::aws::changeset::ChangeSet;
use crate::aws::stack_ops::StackEvent;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::plan::model::{Plan, PlanStatus};
use crate::plan::risk::RiskKind;
use crate::testing::fake_aws::{project, FakeAws, FakeConnect};
use crate::testing::ui::{apply_options, TestUi};

const QUEUE: &str = "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}";

const DENY_DELETE: &str = r#"{"Statement":[{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"},{"Effect":"Deny","Action":"Update:Delete","Principal":"*","Resource":"LogicalResourceId/Q"}]}"#;

fn change_set(changes: &[(&str, &str)]) -> ChangeSet {
    let typed: Vec<(&str, &str, &str)> = changes
        .iter()
        .map(|(action, id)| (*action, *id, "AWS::SQS::Queue"))
        .collect();
    crate::testing::fake_aws::change_set(&typed)
}

fn options(yes: bool) -> ApplyOptions {
    apply_options(yes)
}

fn mutating(calls: &[String]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| {
            ["Create", "Execute", "Delete", "Update", "Set"]
                .iter()
                .any(|p| c.starts_with(p))
        })
        .cloned()
        .collect()
}

#[tokio::test]
async fn turning_termination_protection_off_is_refused_without_its_flag() {
    let (_d, project) = project(&[
        (
            "stacks/q.yaml",
            "name: q\ntemplate: q.json.njk\ntermination_protection: false\n",
        ),
        ("templates/q.json.njk", QUEUE),
    ]);
    let aws = FakeAws::new();
    aws.deploy("q", QUEUE, &[], &[]);
    aws.stacks
        .lock()
        .unwrap()
        .get_mut("q")
        .unwrap()
        .info
        .termination_protection = true;
    let connect = Arc::new(FakeConnect(aws.clone()));
    let err = apply(
        project.clone(),
        connect.clone(),
        options(true),
        Arc::new(TestUi::default()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let text = err.to_string();
    assert!(text.contains("`TerminationProtection`"), "{text}");
    assert!(text.contains("--allow-unprotect"), "{text}");
    assert!(
        !aws.calls()
            .iter()
            .any(|c| c.starts_with("UpdateTerminationProtection")),
        "{:?}",
        aws.calls()
    );
    assert!(aws.held_change_sets("q").is_empty());

    let mut allowed = options(true);
    allowed.allow_unprotect = true;
    let report = apply(project, connect, allowed, Arc::new(TestUi::default()))
        .await
        .unwrap();
    assert_eq!(report.stacks[0].outcome, Outcome::Updated);
    assert!(aws
        .calls()
        .iter()
        .any(|c| c == "UpdateTerminationProtection q false"));
}

#[tokio::test]
async fn a_stack_policy_change_alone_is_planned_and_applied() {
    let (_d, project) = project(&[
        (
            "stacks/q.yaml",
            &format!("name: q\ntemplate: q.json.njk\nstack_policy: {DENY_DELETE}\n"),
        ),
        ("templates/q.json.njk", QUEUE),
    ]);
    let aws = FakeAws::new();
    aws.deploy("q", QUEUE, &[], &[]);
    let report = apply(
        project.clone(),
        Arc::new(FakeConnect(aws.clone())),
        options(true),
        Arc::new(TestUi::default()),
    )
    .await
    .unwrap();
    assert_eq!(report.stacks[0].outcome, Outcome::Updated, "{report:?}");
    let set = aws.policies.lock().unwrap().get("q").cloned().unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&set).unwrap(),
        serde_json::from_str::<serde_json::Value>(DENY_DELETE).unwrap()
    );

    // The same again: nothing to do.
    let mut plan_options = options(true).plan;
    plan_options.keep_change_sets = false;
    let plan = crate::plan::run::plan(
        project.clone(),
        Arc::new(FakeConnect(aws.clone())),
        plan_options,
    )
    .await
    .unwrap();
    assert_eq!(plan.stacks[0].status, PlanStatus::Unchanged, "{plan:#?}");

    // Deployed with a policy that denied more: the config's loosens it, which is refused.
    aws.policies.lock().unwrap().insert(
        "q".into(),
        DENY_DELETE.replace(
            "]}",
            r#",{"Effect":"Deny","Action":"Update:Replace","Principal":"*","Resource":"*"}]}"#,
        ),
    );
    let before = aws.calls().len();
    let err = apply(
        project,
        Arc::new(FakeConnect(aws.clone())),
        options(true),
        Arc::new(TestUi::default()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    assert!(err.to_string().contains("`StackPolicy`"), "{err}");
    let after: Vec<String> = aws.calls()[before..].to_vec();
    assert!(
        !after.iter().any(|c| c.starts_with("SetStackPolicy")),
        "{after:?}"
    );
}

#[tokio::test]
async fn change_sets_carry_the_run_mark_and_another_runs_are_left_alone() {
    let (_d, project) = project(&[
        ("stacks/q.yaml", "name: q\ntemplate: q.json.njk\n"),
        (
            "templates/q.json.njk",
            QUEUE.replace("Q\"", "Q2\"").as_str(),
        ),
    ]);
    let aws = FakeAws::new();
    aws.deploy("q", QUEUE, &[], &[]);
    // A concurrent `plan --out` kept its change set.
    aws.held.lock().unwrap().insert(
        "q".into(),
        vec![("little-0-ffffffff".into(), "AVAILABLE".into())],
    );
    aws.answer_change_set("q", change_set(&[("Add", "Q2"), ("Remove", "Q")]));
    let mut o = options(true).plan;
    o.keep_change_sets = false;
    let plan = crate::plan::run::plan(project, Arc::new(FakeConnect(aws.clone())), o)
        .await
        .unwrap();
    assert_eq!(plan.stacks[0].status, PlanStatus::Changed);
    assert_eq!(aws.held_change_sets("q"), ["little-0-ffffffff"]);
}

#[tokio::test]
async fn replace_failed_deletes_only_after_approval_and_never_a_stack_holding_resources() {
    let (_d, project) = project(&[
        ("stacks/q.yaml", "name: q\ntemplate: q.json.njk\n"),
        ("templates/q.json.njk", QUEUE),
    ]);
    let aws = FakeAws::new();
    aws.deploy("q", QUEUE, &[], &[]);
    aws.stacks.lock().unwrap().get_mut("q").unwrap().info.status = "ROLLBACK_COMPLETE".into();
    aws.answer_change_set("q", change_set(&[("Add", "Q")]));
    let connect = Arc::new(FakeConnect(aws.clone()));

    // Declined: the plan showed the replacement, nothing was deleted.
    let mut o = options(false);
    o.replace_failed = true;
    let ui = Arc::new(TestUi {
        terminal: true,
        answer: false,
        ..TestUi::default()
    });
    let err = apply(project.clone(), connect.clone(), o.clone(), ui.clone())
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let shown: Plan = serde_json::from_str(&ui.lines.lock().unwrap()[0]).unwrap();
    assert_eq!(
        shown.stacks[0].replaces_failed.as_deref(),
        Some("ROLLBACK_COMPLETE")
    );
    assert!(mutating(&aws.calls()).is_empty(), "{:?}", aws.calls());

    // Approved: deleted, then created through a change set.
    let mut yes = o.clone();
    yes.yes = true;
    let report = apply(
        project.clone(),
        connect.clone(),
        yes.clone(),
        Arc::new(TestUi::default()),
    )
    .await
    .unwrap();
    assert_eq!(report.stacks[0].outcome, Outcome::Created, "{report:?}");
    let calls = mutating(&aws.calls());
    assert_eq!(
        calls,
        [
            "DeleteStack q",
            "CreateChangeSet q Some(Create)",
            "ExecuteChangeSet q"
        ]
    );

    // ROLLBACK_FAILED (and DELETE_FAILED) may hold resources: never deleted.
    for status in ["ROLLBACK_FAILED", "DELETE_FAILED"] {
        aws.stacks.lock().unwrap().get_mut("q").unwrap().info.status = status.into();
        let before = aws.calls().len();
        let err = apply(
            project.clone(),
            connect.clone(),
            yes.clone(),
            Arc::new(TestUi::default()),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("could not plan"), "{err}");
        let after = mutating(&aws.calls()[before..]);
        assert!(after.is_empty(), "{status}: {after:?}");
    }
}

/// A person who is asked, and presses Ctrl-C instead of answering.
struct InterruptedAtPrompt {
    inner: TestUi,
    trigger: crate::interrupt::Trigger,
}

impl Ui for InterruptedAtPrompt {
    fn show_plan(&self, plan: &Plan) {
        self.inner.show_plan(plan)
    }
    fn can_ask(&self) -> bool {
        true
    }
    fn confirm(&self, _question: &str) -> Result<bool> {
        self.trigger.raise();
        // Never answers in time: the interrupt must not wait for the terminal.
        std::thread::sleep(Duration::from_secs(30));
        Ok(true)
    }
    fn event(&self, stack: &str, event: &StackEvent) {
        self.inner.event(stack, event)
    }
    fn progress(&self, stack: &str, message: &str) {
        self.inner.progress(stack, message)
    }
    fn message(&self, text: &str) {
        self.inner.message(text)
    }
}

#[tokio::test]
async fn an_interrupt_at_the_prompt_leaves_no_change_set_and_no_empty_stack() {
    let (_d, project) = project(&[
        ("stacks/a.yaml", "name: a\ntemplate: q.json.njk\n"),
        ("stacks/b.yaml", "name: b\ntemplate: q.json.njk\n"),
        ("templates/q.json.njk", QUEUE),
    ]);
    let aws = FakeAws::new();
    aws.deploy(
        "a",
        "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"DelaySeconds\": 5}}}}",
        &[],
        &[],
    );
    for s in ["a", "b"] {
        aws.answer_change_set(s, change_set(&[("Add", "Q")]));
    }
    let (interrupt, trigger) = Interrupt::new();
    let mut o = options(false);
    o.plan.interrupt = interrupt;
    let ui = Arc::new(InterruptedAtPrompt {
        inner: TestUi::default(),
        trigger,
    });
    let started = std::time::Instant::now();
    let err = apply(project, Arc::new(FakeConnect(aws.clone())), o, ui)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(err, Error::Interrupted(_)), "{err}");
    assert_eq!(err.exit_code(), 130);
    assert!(aws.held_change_sets("a").is_empty());
    assert!(aws.held_change_sets("b").is_empty());
    // b was new: its REVIEW_IN_PROGRESS stack is gone too; a is untouched.
    let stacks = aws.stacks.lock().unwrap();
    assert!(!stacks.contains_key("b"));
    assert_eq!(stacks["a"].info.status, "CREATE_COMPLETE");
    drop(stacks);
    assert!(!aws
        .calls()
        .iter()
        .any(|c| c.starts_with("ExecuteChangeSet")));
}

#[tokio::test]
async fn an_interrupt_while_waiting_deletes_what_was_not_executed_and_names_what_runs() {
    let (_d, project) = project(&[
        ("stacks/a.yaml", "name: a\ntemplate: q.json.njk\n"),
        (
            "stacks/b.yaml",
            "name: b\ntemplate: q.json.njk\ndepends_on: [a]\n",
        ),
        ("templates/q.json.njk", QUEUE),
    ]);
    let aws = FakeAws::new();
    for s in ["a", "b"] {
        aws.answer_change_set(s, change_set(&[("Add", "Q")]));
    }
    // a stays in progress for a long time.
    aws.in_progress_polls
        .lock()
        .unwrap()
        .insert("a".into(), 1_000_000);
    let (interrupt, trigger) = Interrupt::new();
    let mut o = options(true);
    o.plan.interrupt = interrupt;
    o.wait.first = Duration::from_millis(5);
    o.wait.max = Duration::from_millis(5);
    o.wait.timeout = Duration::from_secs(60);
    let ui = Arc::new(TestUi::default());
    let aws2 = aws.clone();
    tokio::spawn(async move {
        // Once a is executing, press Ctrl-C.
        loop {
            if aws2.calls().iter().any(|c| c == "ExecuteChangeSet a") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        trigger.raise();
    });
    let report = tokio::time::timeout(
        Duration::from_secs(20),
        apply(project, Arc::new(FakeConnect(aws.clone())), o, ui),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(report.interrupted);
    let cleanup = report.cleanup.clone().unwrap();
    assert!(cleanup.contains("`a` (CREATE_IN_PROGRESS)"), "{cleanup}");
    assert_eq!(report.stacks[0].outcome, Outcome::Cancelled);
    assert!(report.stacks[0]
        .guidance
        .as_deref()
        .unwrap()
        .contains("little events a --follow"));
    // b never started: its change set and empty stack are gone.
    assert!(aws.held_change_sets("b").is_empty());
    assert!(!aws.stacks.lock().unwrap().contains_key("b"));
    assert!(!aws.calls().iter().any(|c| c == "ExecuteChangeSet b"));
}

#[tokio::test]
async fn an_interrupt_before_planning_starts_nothing() {
    let (_d, project) = project(&[
        ("stacks/a.yaml", "name: a\ntemplate: q.json.njk\n"),
        ("templates/q.json.njk", QUEUE),
    ]);
    let aws = FakeAws::new();
    let (interrupt, trigger) = Interrupt::new();
    trigger.raise();
    let mut o = options(true);
    o.plan.interrupt = interrupt;
    let err = apply(
        project,
        Arc::new(FakeConnect(aws.clone())),
        o,
        Arc::new(TestUi::default()),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Interrupted(_)), "{err}");
    assert!(mutating(&aws.calls()).is_empty(), "{:?}", aws.calls());
}

#[tokio::test]
async fn a_saved_plan_whose_risks_were_edited_is_refused() {
    let repo = r#"{"Resources": {"Repo": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {"RepositoryName": "{{ vars.name }}"}}}}"#;
    let (_d, project) = project(&[
        (
            "stacks/ecr.yaml",
            "name: ecr\ntemplate: repo.json.njk\nvariables:\n  name: team/new\n",
        ),
        ("templates/repo.json.njk", repo),
    ]);
    let aws = FakeAws::new();
    aws.deploy(
        "ecr",
        &repo.replace("{{ vars.name }}", "team/old"),
        &[],
        &[],
    );
    let mut cs = change_set(&[("Modify", "Repo")]);
    cs.changes[0].resource_type = "AWS::ECR::Repository".into();
    cs.changes[0].replacement = Some("True".into());
    aws.answer_change_set("ecr", cs);
    let connect = Arc::new(FakeConnect(aws.clone()));
    let mut o = options(true).plan;
    o.keep_change_sets = true;
    let plan = crate::plan::run::plan(project.clone(), connect.clone(), o)
        .await
        .unwrap();
    assert!(plan.stacks[0]
        .risks
        .iter()
        .any(|r| r.kind == RiskKind::Destructive));

    // Someone removes the risk from the file to get it through.
    let mut edited = plan.clone();
    edited.stacks[0].risks.clear();
    edited.summary.destructive = 0;
    let mut saved = options(true);
    saved.saved = Some(edited);
    let err = apply(
        project.clone(),
        connect.clone(),
        saved,
        Arc::new(TestUi::default()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(
        err.to_string()
            .contains("the risks of `ecr` are not those in the saved plan"),
        "{err}"
    );
    assert!(!aws
        .calls()
        .iter()
        .any(|c| c.starts_with("ExecuteChangeSet")));

    // The plan as saved still needs its flag, and with it, applies.
    let mut saved = options(true);
    saved.saved = Some(plan.clone());
    saved.allow_destructive = true;
    let report = apply(project, connect, saved, Arc::new(TestUi::default()))
        .await
        .unwrap();
    assert_eq!(report.stacks[0].outcome, Outcome::Updated, "{report:?}");
}

#[tokio::test]
async fn new_tags_alone_reach_the_stack_when_no_change_set_carries_them() {
    let (_d, project) = project(&[
        (
            "stacks/q.yaml",
            "name: q\ntemplate: q.json.njk\ntags: {team: b}\n",
        ),
        ("templates/q.json.njk", QUEUE),
    ]);
    let aws = FakeAws::new();
    aws.deploy("q", QUEUE, &[("Size", "2")], &[]);
    // The fake's change sets answer "didn't contain changes", as the emulator does for tags.
    let report = apply(
        project,
        Arc::new(FakeConnect(aws.clone())),
        options(true),
        Arc::new(TestUi::default()),
    )
    .await
    .unwrap();
    assert_eq!(report.stacks[0].outcome, Outcome::Updated, "{report:?}");
    let update = aws
        .calls()
        .into_iter()
        .find(|c| c.starts_with("UpdateStack q"))
        .expect("an UpdateStack");
    assert!(update.contains("(\"team\", \"b\")"), "{update}");
    let tags = aws.stacks.lock().unwrap()["q"].info.tags.clone();
    assert!(tags.contains(&("team".into(), "b".into())), "{tags:?}");
}

/// The refusal counts its risks in words that agree with the count.
#[test]
fn refusals_read_in_the_singular_and_the_plural() {
    let risk = |kind: RiskKind, id: &str| crate::plan::risk::Risk {
        kind,
        logical_id: id.into(),
        resource_type: "AWS::IAM::Role".into(),
        reason: String::new(),
        added: Vec::new(),
        removed: Vec::new(),
        holds: None,
    };
    let refusal = |risks: &[crate::plan::risk::Risk]| {
        let refs: Vec<_> = risks.iter().collect();
        match super::options::check_risks(&refs, &options(true)) {
            Err(Error::Refused(text)) => text,
            other => panic!("not refused: {other:?}"),
        }
    };
    assert_eq!(
        refusal(&[risk(RiskKind::Broadening, "Role")]),
        "1 change that broadens access (`Role`); pass `--allow-broadening` to allow"
    );
    let many: Vec<_> = (0..15)
        .map(|i| risk(RiskKind::Broadening, &format!("R{i}")))
        .collect();
    assert!(refusal(&many).starts_with("15 changes that broaden access (`R0`, "));
    let two = [
        risk(RiskKind::Destructive, "A"),
        risk(RiskKind::Destructive, "B"),
        risk(RiskKind::Unprotecting, "TerminationProtection"),
    ];
    assert_eq!(
        refusal(&two),
        "2 destructive changes (`A`, `B`); pass `--allow-destructive` to allow; 1 change that \
         lowers a stack's protection (`TerminationProtection`); pass `--allow-unprotect` to allow"
    );
}
