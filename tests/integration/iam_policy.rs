//! `little iam-policy` on the emulator with IAM enforced: a user with exactly the policy that
//! `little iam-policy COMMAND` prints runs `little COMMAND` (every audit check, serve's series
//! and readiness, plan, apply, status, outputs, events, drift, discover and destroy of a
//! stack), and every call
//! the command makes (its `-v` table) is an action of that policy. The projects name no
//! account: moto authorises every call but S3's against the resource `*`, so a statement
//! scoped to a stack's ARN would never match there (the scoping is unit-tested instead).
//! With ecr_exporter's policy and the project's stacks, `serve` is ready and exports the
//! registry, and the stack checks are not checked.

use std::collections::BTreeSet;
use std::process::Command;

use little_stack::aws::permissions::iam_action;
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::audit::registry;
use crate::harness::{Emulator, Output, TestProject};
use crate::least_privilege::user_with_policy;
use crate::serve::{parse_metrics, value, Server};

/// The policy `little iam-policy ARGS` prints for the project.
fn policy(p: &TestProject, args: &[&str]) -> Value {
    let mut all = vec!["iam-policy"];
    all.extend_from_slice(args);
    let out = p.run(&all);
    out.success();
    out.json()
}

/// The actions of a policy.
fn actions(policy: &Value) -> BTreeSet<String> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

/// `little ARGS` in the project, signed with `key`.
fn run_as(p: &TestProject, key: &(String, String), args: &[&str]) -> Output {
    let mut cmd: Command = p.command(p.path(), args);
    cmd.env("AWS_ACCESS_KEY_ID", &key.0)
        .env("AWS_SECRET_ACCESS_KEY", &key.1);
    let out = cmd.output().expect("run little");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The IAM actions of the calls a `-v` run made (`sts:GetCallerIdentity` needs none).
fn calls(out: &Output) -> BTreeSet<String> {
    out.stderr
        .lines()
        .skip_while(|l| !l.starts_with("AWS API calls:"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .filter(|op| op.contains(':') && *op != "sts:GetCallerIdentity")
        .map(|op| iam_action(op).to_owned())
        .collect()
}

/// Every call of a `-v` run is an action of the policy.
fn within(out: &Output, policy: &Value, what: &str) {
    let allowed = actions(policy);
    let made = calls(out);
    assert!(!made.is_empty(), "{what}: no call table\n{}", out.stderr);
    let outside: Vec<&String> = made.difference(&allowed).collect();
    assert!(
        outside.is_empty(),
        "{what} made calls its policy does not declare: {outside:?}\n{}",
        out.stderr
    );
}

const QUEUE: &str = r#"{
  "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "{{ stack.name }}-queue"}}},
  "Outputs": {"QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}}}
}
"#;

fn stacks_project(emulator: &Emulator) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.template("queue.json.njk", QUEUE);
    p.stack("work", "queue.json.njk", "");
    p
}

#[test]
fn audit_and_serve_with_their_iam_policy_check_everything() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    registry(&rt, &emulator);
    let p = stacks_project(&emulator);
    p.run(&["apply", "--all", "--yes"]).success();
    let audit_policy = policy(&p, &["audit"]);
    let serve_policy = policy(&p, &["serve"]);
    let auditor = user_with_policy(&rt, &emulator, "auditor", &audit_policy);
    let server = user_with_policy(&rt, &emulator, "server", &serve_policy);
    let _iam = emulator.enforce_iam();

    let out = run_as(&p, &auditor, &["-v", "audit", "--format", "json"]);
    out.code(2);
    let report = out.json();
    assert_eq!(report["not_checked"], Value::Null, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["checked"]["repositories"], 2);
    assert_eq!(report["checked"]["stacks"], 1);
    let checks: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    // team/mutable: immutability, scanning, lifecycle; the stack: termination protection.
    for c in [
        "ecr.tag-immutability",
        "ecr.scanning",
        "ecr.lifecycle",
        "stack.termination-protection",
    ] {
        assert!(checks.contains(c), "{c}: {report:#}");
    }
    within(&out, &audit_policy, "audit");

    // serve with its policy: every series, ready, nothing denied.
    let s = Server::start_as(&p, &["--interval", "1s"], &server);
    s.wait_for("/readyz", "readiness", |status, _| status == 200);
    let text = s.wait_for("/metrics", "a finished run", |_, b| {
        value(&parse_metrics(b), "aws_ecr_repository_count", &[]).is_some()
    });
    let samples = parse_metrics(&text);
    assert_eq!(value(&samples, "aws_ecr_repository_count", &[]), Some(2.0));
    assert!(
        value(
            &samples,
            "aws_ecr_image_size_in_bytes",
            &[("name", "team/good")]
        )
        .is_some(),
        "{text}"
    );
    assert!(
        samples
            .iter()
            .any(|(n, _, _)| n.starts_with("little_stack")),
        "{text}"
    );
    assert_eq!(
        value(
            &samples,
            "little_audit_errors_total",
            &[("reason", "access_denied")]
        )
        .unwrap_or(0.0),
        0.0,
        "{text}"
    );
    assert_eq!(
        value(
            &samples,
            "little_audit_errors_total",
            &[("reason", "run_failed")]
        ),
        Some(0.0)
    );
    s.stop();
}

/// ecr_exporter's documented policy.
const EXPORTER: &[&str] = &[
    "ecr:DescribeRepositories",
    "ecr:DescribeImages",
    "ecr:DescribeRegistry",
];

#[test]
fn with_the_exporters_policy_and_the_projects_stacks_serve_is_ready_and_stacks_are_not_checked() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    registry(&rt, &emulator);
    let p = stacks_project(&emulator);
    let exporter = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": EXPORTER, "Resource": "*"}]
    });
    let key = user_with_policy(&rt, &emulator, "exporter", &exporter);
    let _iam = emulator.enforce_iam();

    // audit: the stack checks are not checked (DescribeStacks denied), not an error.
    let out = run_as(&p, &key, &["audit", "--format", "json"]);
    out.code(2);
    let report = out.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    let denied: Vec<(&str, &str)> = report["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["check"].as_str().unwrap(),
                n["permission"].as_str().unwrap(),
            )
        })
        .filter(|(c, _)| c.starts_with("stack."))
        .collect();
    assert_eq!(
        denied,
        vec![
            ("stack.deployed", "cloudformation:DescribeStacks"),
            ("stack.healthy", "cloudformation:DescribeStacks"),
            (
                "stack.termination-protection",
                "cloudformation:DescribeStacks"
            ),
            ("stack.drift", "cloudformation:DescribeStacks"),
        ]
    );
    out.stderr_has("not checked: `stack.deployed`");

    // serve (the stacks included, as by default): ready, the registry's series exported.
    let s = Server::start_as(&p, &["--interval", "1s"], &key);
    s.wait_for("/readyz", "readiness", |status, _| status == 200);
    let text = s.wait_for("/metrics", "two counted runs", |_, b| {
        value(
            &parse_metrics(b),
            "little_audit_errors_total",
            &[("reason", "access_denied")],
        )
        .is_some_and(|n| n >= 24.0)
    });
    let samples = parse_metrics(&text);
    assert_eq!(value(&samples, "aws_ecr_repository_count", &[]), Some(2.0));
    assert!(
        value(
            &samples,
            "aws_ecr_image_size_in_bytes",
            &[("name", "team/good")]
        )
        .is_some(),
        "{text}"
    );
    assert_eq!(
        value(
            &samples,
            "little_audit_errors_total",
            &[("reason", "run_failed")]
        ),
        Some(0.0)
    );
    // Ten ECR checks and four stack checks not checked in each run.
    let denied = value(
        &samples,
        "little_audit_errors_total",
        &[("reason", "access_denied")],
    )
    .unwrap();
    assert_eq!(denied % 14.0, 0.0, "{denied}");
    s.stop();
}

#[test]
fn each_stack_command_runs_with_its_iam_policy_and_calls_nothing_else() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let p = stacks_project(&emulator);
    let commands = [
        "plan", "apply", "status", "outputs", "events", "drift", "discover", "destroy",
    ];
    let mut keys = Vec::new();
    for c in commands {
        let doc = if c == "discover" {
            policy(&p, &[c])
        } else {
            policy(&p, &[c, "--stack", "work"])
        };
        let key = user_with_policy(&rt, &emulator, &format!("{c}-user"), &doc);
        keys.push((c, doc, key));
    }
    let _iam = emulator.enforce_iam();
    for (c, doc, key) in &keys {
        let args: Vec<&str> = match *c {
            "plan" => vec!["-v", "plan", "work"],
            "apply" => vec!["-v", "apply", "work", "--yes"],
            "discover" => vec!["-v", "discover", "--output", "discovered"],
            "status" => vec!["-v", "status", "work"],
            "outputs" => vec!["-v", "outputs", "work"],
            "events" => vec!["-v", "events", "work"],
            "drift" => vec!["-v", "drift", "work"],
            _ => vec![
                "-v",
                "destroy",
                "work",
                "--yes",
                "--disable-termination-protection",
            ],
        };
        let out = run_as(&p, key, &args);
        // A plan of a new stack has changes; the others succeed.
        let want = if *c == "plan" { [0, 2] } else { [0, 0] };
        assert!(
            want.contains(&out.code),
            "{c}: exit {}\n{}\n{}",
            out.code,
            out.stdout,
            out.stderr
        );
        within(&out, doc, c);
    }
}

#[test]
fn the_scan_gate_and_promotion_run_with_their_iam_policy() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    registry(&rt, &emulator);
    let p = TestProject::new().with_emulator(&emulator);
    let report_policy = policy(&p, &["ecr-scan-report", "--start"]);
    let promote_policy = policy(&p, &["ecr-promote"]);
    let reporter = user_with_policy(&rt, &emulator, "reporter", &report_policy);
    let promoter = user_with_policy(&rt, &emulator, "promoter", &promote_policy);
    let _iam = emulator.enforce_iam();
    let out = run_as(
        &p,
        &reporter,
        &[
            "-v",
            "ecr",
            "scan-report",
            "team/good:v1",
            "--start",
            "--wait",
            "--timeout",
            "10",
            "--format",
            "json",
        ],
    );
    // The emulator's scan has one HIGH finding.
    out.code(2);
    assert_eq!(out.json()["status"], "COMPLETE");
    within(&out, &report_policy, "ecr scan-report");
    let out = run_as(
        &p,
        &promoter,
        &[
            "-v",
            "ecr",
            "promote",
            "team/good:v1",
            "release-1",
            "--fail-on",
            "CRITICAL",
        ],
    );
    out.success().stdout_has("promoted team/good@sha256:");
    within(&out, &promote_policy, "ecr promote");
}
