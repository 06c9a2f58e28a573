//! `little audit` and `little ecr scan-report` / `promote` through the binary, on the
//! emulator: findings as JSON, SARIF and JUnit, remediation, the scan gate and promotion.

use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability};
use tokio::runtime::Runtime;

use crate::cfn::emulator_config;
use crate::harness::{Emulator, TestProject};

pub const MANIFEST: &str = r#"{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
 "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469, "digest": "sha256:9a1f7c6f7e3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c"},
 "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 3623807, "digest": "sha256:4abcf20661432fb2d719aaf90656f55c287f8ca915dc1c92ec14ff61e67fbaf8"}]}"#;

const LIFECYCLE: &str = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#;

/// `team/mutable`: mutable, not scanned, no lifecycle. `team/good`: compliant, with an image.
pub(crate) fn registry(rt: &Runtime, emulator: &Emulator) -> aws_sdk_ecr::Client {
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(rt, emulator));
    rt.block_on(async {
        ecr.create_repository()
            .repository_name("team/mutable")
            .image_tag_mutability(ImageTagMutability::Mutable)
            .send()
            .await
            .unwrap();
        ecr.create_repository()
            .repository_name("team/good")
            .image_tag_mutability(ImageTagMutability::Immutable)
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(true)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        ecr.put_lifecycle_policy()
            .repository_name("team/good")
            .lifecycle_policy_text(LIFECYCLE)
            .send()
            .await
            .unwrap();
    });
    put_test_image(rt, &ecr, "team/good", "v1");
    ecr
}

/// Puts a minimal image (a Docker schema 2 manifest) into a repository under `tag`.
pub fn put_test_image(rt: &Runtime, ecr: &aws_sdk_ecr::Client, repository: &str, tag: &str) {
    rt.block_on(
        ecr.put_image()
            .repository_name(repository)
            .image_manifest(MANIFEST)
            .image_manifest_media_type("application/vnd.docker.distribution.manifest.v2+json")
            .image_tag(tag)
            .send(),
    )
    .unwrap_or_else(|e| panic!("put an image into {repository}: {e:?}"));
}

fn pairs(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_owned(),
                f["resource"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn audit_finds_remediates_and_reports_in_every_format() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    registry(&rt, &emulator);
    let p = TestProject::new().with_emulator(&emulator);
    let first = p.run(&[
        "audit",
        "--no-stacks",
        "--check",
        "ecr.tag-immutability",
        "--check",
        "ecr.scanning",
        "--check",
        "ecr.lifecycle",
        "--format",
        "json",
    ]);
    first.code(2);
    assert_eq!(
        pairs(&first.json()),
        [
            ("ecr.lifecycle".to_owned(), "team/mutable".to_owned()),
            ("ecr.scanning".to_owned(), "team/mutable".to_owned()),
            ("ecr.tag-immutability".to_owned(), "team/mutable".to_owned()),
        ]
    );
    // Without --remediate it says what it would do.
    let findings = first.json()["findings"].as_array().unwrap().clone();
    let immutability = findings
        .iter()
        .find(|f| f["check"] == "ecr.tag-immutability")
        .unwrap();
    assert_eq!(
        immutability["remediation"]["applied"],
        serde_json::json!(false)
    );
    assert_eq!(immutability["control"], "ECR.2");

    let sarif = p.run(&["audit", "--no-stacks", "--format", "sarif"]);
    let s = sarif.code(2).json();
    assert_eq!(s["version"], "2.1.0");
    assert!(!s["runs"][0]["results"].as_array().unwrap().is_empty());
    let junit = p.run(&["audit", "--no-stacks", "--format", "junit"]);
    junit
        .code(2)
        .stdout_has("<?xml version=\"1.0\"")
        .stdout_has("<testsuite name=\"ecr.tag-immutability\"");
    // A real XML parser reads it (the project's Python, which runs the emulator).
    let mut parse = std::process::Command::new(crate::harness::repo().join(".venv/bin/python"))
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as ET; r = ET.fromstring(sys.stdin.read()); print(r.tag, r.get('tests'), len(r.findall('testsuite/testcase')))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    parse
        .stdin
        .take()
        .unwrap()
        .write_all(junit.stdout.as_bytes())
        .unwrap();
    let parsed = parse.wait_with_output().unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let summary = String::from_utf8_lossy(&parsed.stdout).trim().to_owned();
    let tests: usize = summary.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(summary.starts_with("testsuites ") && tests > 0, "{summary}");
    assert!(
        summary.ends_with(&format!(" {tests}")),
        "every finding is a test case: {summary}"
    );

    let fixed = p.run(&[
        "audit",
        "--no-stacks",
        "--check",
        "ecr.tag-immutability",
        "--remediate",
    ]);
    // Every finding at or above --fail-on was remediated: success.
    fixed
        .success()
        .stdout_has("remediated by ecr:PutImageTagMutability: MUTABLE -> IMMUTABLE");
    let after = p.run(&[
        "audit",
        "--no-stacks",
        "--check",
        "ecr.tag-immutability",
        "--format",
        "json",
    ]);
    after.success();
    assert!(pairs(&after.json()).is_empty());
}

#[test]
fn the_scan_gate_and_promotion() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    registry(&rt, &emulator);
    let p = TestProject::new().with_emulator(&emulator);
    // Never scanned: the gate fails and says how to start one.
    p.run(&["ecr", "scan-report", "team/good:v1"])
        .code(2)
        .stdout_has("never been scanned");
    // Started and waited for: the emulator's scan has one HIGH finding.
    let report = p.run(&[
        "ecr",
        "scan-report",
        "team/good:v1",
        "--start",
        "--wait",
        "--timeout",
        "10",
        "--format",
        "json",
    ]);
    let r = report.code(2).json();
    assert_eq!(r["status"], "COMPLETE");
    assert_eq!(r["counts"]["HIGH"], 1);
    // HIGH is below a CRITICAL threshold: promotion goes through, once.
    p.run(&[
        "ecr",
        "promote",
        "team/good:v1",
        "release-1",
        "--fail-on",
        "CRITICAL",
    ])
    .success()
    .stdout_has("promoted team/good@sha256:");
    p.run(&[
        "ecr",
        "promote",
        "team/good:v1",
        "release-1",
        "--fail-on",
        "CRITICAL",
    ])
    .success()
    .stdout_has("already names");
    // At the default HIGH threshold it is refused.
    p.run(&["ecr", "promote", "team/good:v1", "release-2"])
        .code(2)
        .stdout_has("refused to tag team/good:release-2");
    p.run(&["ecr", "scan-report", "team/none:v1"]).code(1);
    p.run(&["ecr", "scan-report", "no-tag"])
        .code(1)
        .stderr_has("names no image");
}

/// Every fourth call answered `Throttling: Rate exceeded` by scripts/latency-proxy.py: the
/// audit retries them, backs its repository reads off (`-v` says how far) and reports what it
/// reports without throttling.
#[test]
fn a_throttled_audit_backs_off_and_finds_the_same() {
    use std::io::BufRead;
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    rt.block_on(async {
        for i in 0..24 {
            let mutability = if i % 3 == 0 {
                ImageTagMutability::Mutable
            } else {
                ImageTagMutability::Immutable
            };
            ecr.create_repository()
                .repository_name(format!("team/svc-{i:02}"))
                .image_tag_mutability(mutability)
                .send()
                .await
                .unwrap();
        }
    });
    for i in 0..24 {
        put_test_image(&rt, &ecr, &format!("team/svc-{i:02}"), "v1");
    }
    let args = ["-v", "audit", "--no-stacks", "--format", "json"];
    let plain = TestProject::new().with_emulator(&emulator).run(&args);
    plain.code(2);

    let mut proxy = std::process::Command::new(crate::harness::repo().join(".venv/bin/python"))
        .arg(crate::harness::repo().join("scripts/latency-proxy.py"))
        .arg(&emulator.endpoint)
        .arg("0")
        .args([
            "--latency-ms",
            "1",
            "--throttle-every",
            "4",
            "--exit-with-parent",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the latency proxy");
    let mut endpoint = String::new();
    std::io::BufReader::new(proxy.stdout.take().unwrap())
        .read_line(&mut endpoint)
        .unwrap();
    let p = TestProject::new().with_endpoint(endpoint.trim());
    let out = p
        .command(p.path(), &args)
        .env("AWS_MAX_ATTEMPTS", "5")
        .output()
        .unwrap();
    let _ = proxy.kill();
    let _ = proxy.wait();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Throttled responses: "), "{stderr}");
    assert!(
        stderr.contains("Concurrency: backed off from 32 to "),
        "{stderr}"
    );
    let throttled: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let plain = plain.json();
    assert_eq!(throttled["errors"], serde_json::json!([]));
    assert_eq!(throttled["checked"], plain["checked"]);
    assert_eq!(throttled["checked"]["repositories"], 24);
    assert_eq!(throttled["findings"], plain["findings"]);
    assert!(
        pairs(&throttled).contains(&("ecr.tag-immutability".into(), "team/svc-21".into())),
        "{throttled}"
    );
}
