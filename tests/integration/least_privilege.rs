//! Least privilege on the emulator with IAM enforced: with exactly the permissions that the
//! earlier tools documented, `little audit` and `little serve` do those tools' jobs and report
//! the checks whose calls are denied as not checked, naming the permission, once per check.
//!
//! The users, their policies and access keys, and the registry are made first with the test
//! credentials; then [`Emulator::enforce_iam`] makes moto check every call against the
//! caller's policies (AWS's AccessDeniedException for a denied one).

use aws_sdk_ecr::types::ImageTagMutability;
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::audit::registry;
use crate::cfn::emulator_config;
use crate::harness::{Emulator, TestProject};
use crate::serve::{parse_metrics, value, Server};

/// ecr_exporter's documented policy.
const EXPORTER: &[&str] = &[
    "ecr:DescribeRepositories",
    "ecr:DescribeImages",
    "ecr:DescribeRegistry",
];

/// The immutability check's documented policy.
const IMMUTABILITY: &[&str] = &[
    "ecr:DescribeRepositories",
    "ecr:PutImageTagMutability",
    "sns:Publish",
];

/// An IAM user allowed `actions` on every resource, and its access key (id, secret).
pub(crate) fn user(
    rt: &Runtime,
    emulator: &Emulator,
    name: &str,
    actions: &[&str],
) -> (String, String) {
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]
    });
    user_with_policy(rt, emulator, name, &policy)
}

/// An IAM user with `policy` attached, and its access key (id, secret).
pub(crate) fn user_with_policy(
    rt: &Runtime,
    emulator: &Emulator,
    name: &str,
    policy: &Value,
) -> (String, String) {
    let iam = aws_sdk_iam::Client::new(&emulator_config(rt, emulator));
    rt.block_on(async {
        iam.create_user().user_name(name).send().await.unwrap();
        let arn = iam
            .create_policy()
            .policy_name(format!("{name}-policy"))
            .policy_document(policy.to_string())
            .send()
            .await
            .unwrap()
            .policy
            .and_then(|p| p.arn)
            .unwrap();
        iam.attach_user_policy()
            .user_name(name)
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
        let key = iam
            .create_access_key()
            .user_name(name)
            .send()
            .await
            .unwrap()
            .access_key
            .unwrap();
        (key.access_key_id, key.secret_access_key)
    })
}

fn not_checked(report: &Value) -> Vec<(String, String)> {
    report["not_checked"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| {
                    (
                        n["check"].as_str().unwrap().to_owned(),
                        n["permission"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The checks that ecr_exporter's policy cannot run, with the first permission each lacks.
fn exporter_not_checked() -> Vec<(String, String)> {
    [
        ("ecr.scanning", "ecr:GetRegistryScanningConfiguration"),
        ("ecr.lifecycle", "ecr:GetLifecyclePolicy"),
        ("ecr.lifecycle-ineffective", "ecr:GetLifecyclePolicy"),
        ("ecr.image-unused", "ecr:GetLifecyclePolicy"),
        ("ecr.lifecycle-expires-in-use", "ecr:GetLifecyclePolicy"),
        ("ecr.in-use-image-scan", "ecs:ListClusters"),
        ("ecr.in-use-image-findings", "ecs:ListClusters"),
        ("ecr.repository-policy", "ecr:GetRepositoryPolicy"),
        ("ecr.image-findings", "ecr:DescribeImageScanFindings"),
        ("ecr.image-scan", "ecr:DescribeImageScanFindings"),
    ]
    .iter()
    .map(|(c, p)| ((*c).to_owned(), (*p).to_owned()))
    .collect()
}

#[test]
fn audit_with_the_exporters_policy_checks_what_it_can_and_names_what_it_cannot() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    registry(&rt, &emulator);
    let (id, secret) = user(&rt, &emulator, "exporter", EXPORTER);
    let p = TestProject::new()
        .with_emulator(&emulator)
        .with_credentials(&id, &secret);
    let _iam = emulator.enforce_iam();
    let out = p.run(&["audit", "--no-stacks", "--format", "json"]);
    // team/mutable's tag immutability (DescribeRepositories alone) is still a HIGH finding.
    out.code(2);
    let report = out.json();
    let findings: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap(),
                f["resource"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(findings, vec![("ecr.tag-immutability", "team/mutable")]);
    assert_eq!(report["checked"]["repositories"], 2);
    assert_eq!(report["checked"]["images"], 1);
    assert_eq!(report["errors"], serde_json::json!([]));
    // Once per check, not once per repository (there are two).
    assert_eq!(not_checked(&report), exporter_not_checked());
    out.stderr_has("not checked: `ecr.lifecycle` in account 123456789012, us-east-1: IAM denied `ecr:GetLifecyclePolicy`, which the check needs");

    // The same in text.
    let text = p.run(&["audit", "--no-stacks"]);
    text.code(2).stdout_has(
        "not checked: `ecr.image-findings` (us-east-1): IAM denied `ecr:DescribeImageScanFindings`",
    );

    // --remediate without ecr:PutImageTagMutability: the finding stays (exit 2), the rest of
    // the audit is reported, and the denied remediation is named.
    let denied = p.run(&["audit", "--no-stacks", "--remediate", "--format", "json"]);
    denied.code(2);
    let report = denied.json();
    assert_eq!(report["findings"][0]["remediation"]["applied"], false);
    let mut want = exporter_not_checked();
    want.push((
        "ecr.tag-immutability".to_owned(),
        "ecr:PutImageTagMutability".to_owned(),
    ));
    assert_eq!(not_checked(&report), want);
}

#[test]
fn audit_with_the_immutability_checks_policy_remediates_and_exits_0() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = registry(&rt, &emulator);
    let (id, secret) = user(&rt, &emulator, "immutability", IMMUTABILITY);
    let p = TestProject::new()
        .with_emulator(&emulator)
        .with_credentials(&id, &secret);
    let iam = emulator.enforce_iam();
    let out = p.run(&[
        "-v",
        "audit",
        "--no-stacks",
        "--check",
        "ecr.tag-immutability",
        "--remediate",
        "--format",
        "json",
    ]);
    // Every finding at or above --fail-on was remediated: 0.
    out.success();
    // Only the check's calls were made: no lifecycle, policy, image or scanning reads.
    let mut calls: Vec<&str> = out
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("AWS API calls:"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .filter(|op| op.contains(':'))
        .collect();
    calls.sort();
    assert_eq!(
        calls,
        vec!["ecr:DescribeRepositories", "ecr:PutImageTagMutability"],
        "{}",
        out.stderr
    );
    let report = out.json();
    assert_eq!(not_checked(&report), vec![]);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(findings[0]["resource"], "team/mutable");
    assert_eq!(findings[0]["remediation"]["applied"], true);
    drop(iam);
    let mutability = rt.block_on(async {
        ecr.describe_repositories()
            .repository_names("team/mutable")
            .send()
            .await
            .unwrap()
            .repositories()[0]
            .image_tag_mutability()
            .cloned()
    });
    assert_eq!(mutability, Some(ImageTagMutability::Immutable));
}

#[test]
fn a_remediation_that_leaves_a_finding_exits_2() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    registry(&rt, &emulator);
    let p = TestProject::new().with_emulator(&emulator);
    // Tag immutability is remediated, scanning is not: still a HIGH finding.
    p.run(&[
        "audit",
        "--no-stacks",
        "--check",
        "ecr.tag-immutability",
        "--check",
        "ecr.scanning",
        "--remediate",
    ])
    .code(2)
    .stdout_has("remediated by ecr:PutImageTagMutability");
}

#[test]
fn serve_with_the_exporters_policy_exports_the_registry_and_is_ready() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    registry(&rt, &emulator);
    let (id, secret) = user(&rt, &emulator, "exporter", EXPORTER);
    let p = TestProject::new()
        .with_emulator(&emulator)
        .with_credentials(&id, &secret);
    let _iam = emulator.enforce_iam();
    let server = Server::start(&p, &["--no-stacks", "--interval", "1s"]);
    server.wait_for("/readyz", "readiness", |s, _| s == 200);
    let text = server.wait_for("/metrics", "two counted runs", |_, b| {
        value(
            &parse_metrics(b),
            "little_audit_errors_total",
            &[("reason", "access_denied")],
        )
        .is_some_and(|n| n >= 16.0)
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
    // Ten checks not checked per run: the count grows by ten each run.
    let denied = value(
        &samples,
        "little_audit_errors_total",
        &[("reason", "access_denied")],
    )
    .unwrap();
    assert_eq!(denied % 10.0, 0.0, "{denied}");
    let (_, log) = server.stop();
    assert!(
        log.contains("not checked: `ecr.lifecycle` in account 123456789012, us-east-1: IAM denied `ecr:GetLifecyclePolicy`"),
        "{log}"
    );
}

#[test]
fn serve_with_audit_remediate_and_the_immutability_checks_policy_remediates_once() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = registry(&rt, &emulator);
    let (id, secret) = user(&rt, &emulator, "immutability", IMMUTABILITY);
    let p = TestProject::new()
        .with_emulator(&emulator)
        .with_credentials(&id, &secret);
    p.file(
        "little.yaml",
        "defaults:\n  region: us-east-1\naudit:\n  remediate: true\n",
    );
    let iam = emulator.enforce_iam();
    let server = Server::start(&p, &["--no-stacks", "--interval", "1s"]);
    server.wait_for("/readyz", "readiness", |s, _| s == 200);
    // Three runs (five checks not checked in each): the first remediated, the count stays 1.
    let text = server.wait_for("/metrics", "three counted runs", |_, b| {
        value(
            &parse_metrics(b),
            "little_audit_errors_total",
            &[("reason", "access_denied")],
        )
        .is_some_and(|n| n >= 3.0 * 5.0)
    });
    let samples = parse_metrics(&text);
    assert_eq!(
        value(
            &samples,
            "little_audit_remediations_total",
            &[("check", "ecr.tag-immutability")]
        ),
        Some(1.0),
        "{text}"
    );
    let (_, log) = server.stop();
    assert!(
        log.contains("remediated ecr.tag-immutability of `team/mutable` in account 123456789012: ecr:PutImageTagMutability (`MUTABLE` -> `IMMUTABLE`)"),
        "{log}"
    );
    drop(iam);
    let mutability = rt.block_on(async {
        ecr.describe_repositories()
            .repository_names("team/mutable")
            .send()
            .await
            .unwrap()
            .repositories()[0]
            .image_tag_mutability()
            .cloned()
    });
    assert_eq!(mutability, Some(ImageTagMutability::Immutable));
}
