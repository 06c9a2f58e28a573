//! `little apply`, `destroy`, `status`, `outputs` and `events` against the local emulator:
//! from nothing, again with no changes, after a change, from a saved plan, a stale saved plan,
//! refusal without a terminal, destroy in reverse dependency order, and NoEcho secrecy.

use little_stack::deploy::outcome::{ApplyReport, Outcome};

use crate::harness::{Emulator, Output, TestProject};

const BASE: &str = r#"{
  "Parameters": {"Secret": {"Type": "String", "NoEcho": true, "Default": "none"}},
  "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "{{ stack.name }}-{{ vars.suffix }}", "DelaySeconds": {{ vars.delay | default(0) }}}}},
  "Outputs": {"QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}}}
}
"#;

const APP: &str = r#"{
  "Parameters": {"BaseArn": {"Type": "String"}},
  "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "{{ stack.name }}", "Tags": [{"Key": "base", "Value": {"Ref": "BaseArn"}}]}}},
  "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}}
}
"#;

const SECRET: &str = "hunter2-do-not-print";

fn project(emulator: &Emulator, suffix: &str) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.template("base.json.njk", BASE);
    p.template("app.json.njk", APP);
    p.stack(
        "base",
        "base.json.njk",
        &format!("parameters:\n  Secret: {SECRET}\nvariables:\n  suffix: {suffix}\n"),
    );
    p.stack(
        "app",
        "app.json.njk",
        "parameters:\n  BaseArn: \"{{ stack_output('base', 'QueueArn') }}\"\n",
    );
    p
}

fn report(out: &Output) -> ApplyReport {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not a report ({e}):\n{}\n{}", out.stdout, out.stderr))
}

fn outcomes(r: &ApplyReport) -> Vec<(String, Outcome)> {
    r.stacks
        .iter()
        .map(|s| (s.stack.clone(), s.outcome))
        .collect()
}

fn never_secret(out: &Output) {
    assert!(
        !out.stdout.contains(SECRET),
        "stdout shows the NoEcho value:\n{}",
        out.stdout
    );
    assert!(
        !out.stderr.contains(SECRET),
        "stderr shows the NoEcho value:\n{}",
        out.stderr
    );
}

#[test]
fn apply_from_nothing_then_again_then_after_a_change() {
    let emulator = Emulator::lock();
    let p = project(&emulator, "one");

    let first = p.run(&["apply", "--all", "--yes", "--format", "json"]);
    first.success();
    never_secret(&first);
    assert_eq!(
        outcomes(&report(&first)),
        [
            ("base".to_owned(), Outcome::Created),
            ("app".to_owned(), Outcome::Created)
        ]
    );
    // app was planned with a placeholder for base's output, then again with the real value.
    first.stderr_has("app: planning again with the outputs now known (base.QueueArn)");

    let status = p.run(&["status"]);
    status
        .success()
        .stdout_has("CREATE_COMPLETE")
        .stdout_has("QueueArn");
    never_secret(&status);
    let outputs = p.run(&["outputs", "base", "--format", "json"]);
    let arn = outputs.success().json()["QueueArn"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        arn.starts_with("arn:aws:sqs:us-east-1:123456789012:base-one"),
        "{arn}"
    );

    // Nothing changed: nothing is executed.
    let again = p.run(&["apply", "--all", "--yes", "--format", "json"]);
    again.success();
    assert_eq!(
        outcomes(&report(&again)),
        [
            ("base".to_owned(), Outcome::Unchanged),
            ("app".to_owned(), Outcome::Unchanged)
        ]
    );

    // A variable changes: base is updated; app's input did not change.
    p.stack(
        "base",
        "base.json.njk",
        &format!("parameters:\n  Secret: {SECRET}\nvariables:\n  suffix: one\n  delay: 3\n"),
    );
    let plan = p.run(&["plan", "--all", "--detailed-exitcode"]);
    plan.code(2)
        .stdout_has("base (us-east-1, 123456789012): changed");
    never_secret(&plan);
    let changed = p.run(&["apply", "--all", "--yes", "--format", "json"]);
    changed.success();
    never_secret(&changed);
    let r = report(&changed);
    assert_eq!(r.stacks[0].outcome, Outcome::Updated, "{r:?}");
    let events = p.run(&["events", "base"]);
    events.success().stdout_has("UPDATE_COMPLETE");
    never_secret(&events);
}

#[test]
fn a_replacing_change_is_refused_without_the_flag() {
    let emulator = Emulator::lock();
    let p = project(&emulator, "one");
    p.run(&["apply", "base", "--yes"]).success();
    p.stack("base", "base.json.njk", "variables:\n  suffix: renamed\n");
    // Renaming a queue replaces it, and a queue holds messages.
    let refused = p.run(&["apply", "base", "--yes"]);
    refused.code(3).stderr_has("--allow-destructive");
    // Nothing is left behind: a new plan still sees the change and no change set lingers.
    p.run(&["plan", "base", "--detailed-exitcode"]).code(2);
}

#[test]
fn without_a_terminal_and_without_yes_nothing_happens() {
    let emulator = Emulator::lock();
    let p = project(&emulator, "one");
    let out = p.run(&["apply", "base"]);
    out.code(3)
        .stderr_has("no terminal to ask for approval; pass `--yes`");
    p.run(&["status", "base", "--format", "json"])
        .success()
        .stdout_has("\"deployed\": false");
}

#[test]
fn a_saved_plan_is_applied_exactly_and_a_stale_one_refused() {
    let emulator = Emulator::lock();
    let p = project(&emulator, "one");
    p.run(&["apply", "base", "--yes"]).success();

    p.stack(
        "base",
        "base.json.njk",
        &format!("parameters:\n  Secret: {SECRET}\nvariables:\n  suffix: one\n  delay: 5\n"),
    );
    p.run(&["plan", "base", "--out", "plan.json"]).success();
    let applied = p.run(&["apply", "--plan", "plan.json", "--yes", "--format", "json"]);
    applied.success();
    assert_eq!(report(&applied).stacks[0].outcome, Outcome::Updated);

    // Planned, then the stack changes behind the plan's back: the plan is stale.
    p.stack(
        "base",
        "base.json.njk",
        &format!("parameters:\n  Secret: {SECRET}\nvariables:\n  suffix: one\n  delay: 6\n"),
    );
    p.run(&["plan", "base", "--out", "stale.json"]).success();
    p.stack(
        "base",
        "base.json.njk",
        &format!("parameters:\n  Secret: {SECRET}\nvariables:\n  suffix: one\n  delay: 7\n"),
    );
    p.run(&["apply", "base", "--yes"]).success();
    let stale = p.run(&["apply", "--plan", "stale.json", "--yes"]);
    stale.code(3).stderr_has("the saved plan is stale");

    // The plan file holds the NoEcho value neither as is nor as a plain SHA-256 of it...
    let saved = std::fs::read_to_string(p.path().join("plan.json")).unwrap();
    assert!(!saved.contains(SECRET));
    for guess in [SECRET.to_owned(), format!("Secret={SECRET}")] {
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(guess.as_bytes()));
        assert!(!saved.contains(&digest), "a plain SHA-256 of `{guess}`");
    }
    assert!(saved.contains("\"pbkdf2-hmac-sha256\""), "{saved}");
    // ...and a NoEcho value changed after the plan still makes it stale.
    let with_secret = |secret: &str| {
        format!("parameters:\n  Secret: {secret}\nvariables:\n  suffix: one\n  delay: 8\n")
    };
    p.stack("base", "base.json.njk", &with_secret(SECRET));
    p.run(&["plan", "base", "--out", "secret.json"]).success();
    p.stack("base", "base.json.njk", &with_secret("another-secret"));
    let changed = p.run(&["apply", "--plan", "secret.json", "--yes"]);
    changed
        .code(3)
        .stderr_has("the saved plan is stale")
        .stderr_has("renders differently");
    never_secret(&changed);
}

#[test]
fn destroy_goes_in_reverse_dependency_order() {
    let emulator = Emulator::lock();
    let p = project(&emulator, "one");
    p.run(&["apply", "--all", "--yes"]).success();
    let refused = p.run(&["destroy", "base", "app"]);
    refused.code(3).stderr_has("pass `--yes`");
    let out = p.run(&["destroy", "base", "app", "--yes"]);
    out.success()
        .stderr_has("- delete  Queue (AWS::SQS::Queue)");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[1].starts_with("app ") && lines[1].contains("deleted"),
        "{}",
        out.stdout
    );
    assert!(
        lines[2].starts_with("base ") && lines[2].contains("deleted"),
        "{}",
        out.stdout
    );
    p.run(&["status", "--format", "json"])
        .success()
        .stdout_has("\"deployed\": false");
}

/// The repository's own bootstrap, applied from nothing on the emulator, then again.
#[test]
fn the_whole_bootstrap_applies_from_nothing_and_then_has_no_changes() {
    let emulator = Emulator::lock();
    let p = TestProject::from_repo().with_emulator(&emulator);
    // The organisation the StackSets target, with the emulator's ids in the configs.
    crate::harness::library_organisation(&emulator, p.path());
    // Termination protection stays on, as the bootstrap wants it (the launcher implements it).
    let config = std::fs::read_to_string(p.path().join("little.yaml")).unwrap();
    assert!(config.contains("termination_protection: true"), "{config}");
    // A new stack's grants are broadening: a bootstrap needs the flag.
    let refused = p.run(&["apply", "--all", "--yes"]);
    refused.code(3).stderr_has("--allow-broadening");

    let first = p.run(&[
        "apply",
        "--all",
        "--yes",
        "--allow-broadening",
        "--format",
        "json",
    ]);
    first.success();
    let r = report(&first);
    assert_eq!(r.stacks.len(), 10, "{r:?}");
    for s in &r.stacks {
        assert_eq!(s.outcome, Outcome::Created, "{s:?}");
    }
    // ecr-repositories was planned again once iam-ci's output existed.
    first.stderr_has(
        "ecr-repositories: planning again with the outputs now known (iam-ci.CiRoleArn)",
    );

    let again = p.run(&["apply", "--all", "--yes", "--format", "json"]);
    again.success();
    for s in &report(&again).stacks {
        assert_eq!(s.outcome, Outcome::Unchanged, "{s:?}");
    }
    let status = p.run(&["status", "--format", "json"]);
    let stacks = status.success().json();
    assert!(
        stacks
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "CREATE_COMPLETE" || s["status"] == "STACK_SET_ACTIVE"),
        "{stacks}"
    );
    // Every StackSet reached the accounts of its OUs, and every instance is current.
    for s in stacks.as_array().unwrap() {
        if let Some(set) = s.get("stack_set") {
            let instances = set["instances"].as_array().unwrap();
            assert!(!instances.is_empty(), "{s}");
            assert!(instances.iter().all(|i| i["status"] == "CURRENT"), "{s}");
        }
    }
}

/// A change of outputs alone (no resource changes): CloudFormation makes a change set without
/// changes that is still executable, and executing it is how the new output reaches the stack.
#[test]
fn a_change_of_outputs_alone_is_applied() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    let template = |extra: &str| {
        format!(
            r#"{{"Resources": {{"Queue": {{"Type": "AWS::SQS::Queue"}}}},
  "Outputs": {{"QueueArn": {{"Value": {{"Fn::GetAtt": ["Queue", "Arn"]}}}}{extra}}}}}"#
        )
    };
    p.template("q.json.njk", &template(""));
    p.stack("outs", "q.json.njk", "");
    p.run(&["apply", "outs", "--yes"]).success();
    p.template(
        "q.json.njk",
        &template(r#", "QueueUrl": {"Value": {"Ref": "Queue"}}"#),
    );
    p.run(&["plan", "outs", "--detailed-exitcode"])
        .code(2)
        .stdout_has("changed");
    let applied = p.run(&["apply", "outs", "--yes", "--format", "json"]);
    applied.success();
    assert_eq!(report(&applied).stacks[0].outcome, Outcome::Updated);
    let outputs = p.run(&["outputs", "outs", "--format", "json"]);
    assert!(
        outputs.success().json()["QueueUrl"].is_string(),
        "{}",
        outputs.stdout
    );
    p.run(&["plan", "outs", "--detailed-exitcode"]).code(0);
}
