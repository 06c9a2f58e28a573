//! The options `little check` took over from the earlier Robot Framework image check: the
//! waiver label (`ops_permit_dangerous=exigency`), credentials stripped from a repository-URL
//! label, the efficiency figure, JAR library rules, the built-in end-of-life table, report
//! branding, `skip_untagged` and "pushed by" from a CloudTrail PutImage event.

use serde_json::{json, Value};
use tokio::runtime::Runtime;

use super::{gzip, outcomes, pipeline, project, push_image, send};
use crate::cfn::emulator_config;
use crate::harness::Emulator;

/// A stored (uncompressed) ZIP of (name, content) entries, as a JAR.
pub(super) fn jar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, content) in entries {
        let offset = out.len() as u32;
        let sizes = [
            0u32.to_le_bytes(), // crc, not checked
            (content.len() as u32).to_le_bytes(),
            (content.len() as u32).to_le_bytes(),
        ]
        .concat();
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&sizes);
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(content);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&sizes);
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let at = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// A gzip-compressed tar layer of (path, bytes) files.
pub(super) fn layer_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, path, *content).unwrap();
    }
    gzip(&tar.into_inner().unwrap())
}

/// `team/waived`: Alpine 3.18 (past its end of life in the built-in table), log4j-core
/// 2.14.1 in a JAR, 100,000 bytes written in one layer and deleted in the next, a token in
/// the source label's URL, and the waiver label.
fn waived_image(rt: &Runtime, ecr: &aws_sdk_ecr::Client) -> String {
    let pom = b"groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n";
    let app = jar(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        (
            "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
            pom,
        ),
    ]);
    let cache = vec![b'x'; 100_000];
    push_image(
        rt,
        ecr,
        "team/waived",
        "v1",
        &[
            layer_of(&[
                (
                    "etc/os-release",
                    b"ID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME=\"Alpine Linux v3.18\"\n",
                ),
                ("etc/passwd", b"app:x:10001:10001::/app:/sbin/nologin\n"),
                ("var/cache/build.tar", &cache),
                ("app/app.jar", &app),
            ]),
            layer_of(&[("var/cache/.wh.build.tar", b"")]),
        ],
        json!({
            "architecture": "amd64", "os": "linux",
            "config": {"User": "app", "Env": ["PATH=/usr/bin"], "Labels": {
                "owner_team": "platform",
                "ops_permit_dangerous": "exigency",
                "org.opencontainers.image.source": "https://ci-bot:tok3n-s3cret-value@github.com/acme/api",
            }},
            "history": [{"created_by": "/bin/sh -c #(nop) USER app", "empty_layer": true}],
        }),
    )
}

#[test]
fn a_waived_image_is_checked_and_reported_but_not_failed_or_deleted() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    waived_image(&rt, &ecr);
    let p = project(
        &emulator,
        "  report:\n    logo_url: https://cdn.example/logo.svg?v=1&t=2\n    css_url: https://cdn.example/report.css\n",
    );
    let out = p.run(&["check", "team/waived:v1", "--enforce", "--format", "json"]);
    out.success();
    let report = out.json();
    assert_eq!(report["outcome"], "warn");
    assert_eq!(
        outcomes(&report),
        [
            ("labels".to_owned(), "pass".to_owned()),
            ("non_root".to_owned(), "pass".to_owned()),
            ("secrets".to_owned(), "pass".to_owned()),
            ("os".to_owned(), "fail".to_owned()),
            ("runtimes".to_owned(), "pass".to_owned()),
            ("size".to_owned(), "pass".to_owned()),
            ("efficiency".to_owned(), "warn".to_owned()),
            ("libraries".to_owned(), "fail".to_owned()),
            ("label_credentials".to_owned(), "fail".to_owned()),
        ]
    );
    assert_eq!(
        report["waiver"],
        json!({"label": "ops_permit_dangerous=exigency", "checks": ["os", "libraries", "label_credentials"]})
    );
    assert!(report.get("enforcement").is_none(), "nothing to enforce");
    let left = rt
        .block_on(ecr.describe_images().repository_name("team/waived").send())
        .unwrap();
    assert_eq!(left.image_details().len(), 1, "the image is still there");

    let checks = report["checks"].as_array().unwrap();
    assert_eq!(
        checks[3]["summary"],
        "Alpine Linux v3.18 reached its end of life on 2025-05-09"
    );
    assert_eq!(
        checks[7]["details"][0],
        "log4j-core 2.14.1 (org.apache.logging.log4j) in /app/app.jar is older than 2.17.1 (fail)"
    );
    assert_eq!(
        checks[8]["details"][0],
        "label `org.opencontainers.image.source` holds a user and password in a URL: `https://github.com/acme/api` (shown without them)"
    );
    assert_eq!(
        report["facts"]["labels"]["org.opencontainers.image.source"],
        "https://github.com/acme/api"
    );
    let efficiency = &report["facts"]["efficiency"];
    assert_eq!(efficiency["wasted_bytes"], 100_000);
    assert!(
        efficiency["percent"].as_f64().unwrap() < 80.0,
        "{efficiency}"
    );
    assert!(!out.stdout.contains("tok3n") && !out.stdout.contains("ci-bot"));

    // The text summary and the HTML page say it loudly; the page has the branding.
    let waived = "WAIVED: 3 failing checks (os, libraries, label_credentials) waived by the label ops_permit_dangerous=exigency: they do not fail the image";
    p.run(&["check", "team/waived:v1"])
        .success()
        .stdout_has(waived)
        .stdout_has("outcome: warn");
    let html = std::fs::read_to_string(p.path().join("little-check/team/waived/v1.html")).unwrap();
    assert!(
        html.contains("<strong>WAIVED</strong>: 3 failing checks"),
        "{html}"
    );
    assert!(html.contains("<img src=\"https://cdn.example/logo.svg?v=1&amp;t=2\""));
    assert!(html.contains("<link rel=\"stylesheet\" href=\"https://cdn.example/report.css\""));
    assert!(!html.contains("tok3n"));

    // Without waivers the same image fails.
    let strict = project(&emulator, "  waiver_label: \"\"\n");
    strict
        .run(&["check", "team/waived:v1"])
        .code(2)
        .stdout_has("outcome: FAIL");
    // A branding URL that is not https is refused before anything is read.
    project(
        &emulator,
        "  report:\n    logo_url: http://cdn.example/l.svg\n",
    )
    .run(&["check", "team/waived:v1"])
    .code(1)
    .stderr_has(
        "`check.report.logo_url` is `http://cdn.example/l.svg`: it must be an https:// URL",
    );
}

#[test]
fn the_worker_skips_untagged_pushes_and_names_who_pushed() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let ecr = aws_sdk_ecr::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let digest = waived_image(&rt, &ecr);
    let pipe = pipeline(&rt, &emulator);
    let p = project(
        &emulator,
        &format!(
            "  queue_url: {}\n  report_bucket: reports\n  skip_untagged: true\n",
            pipe.queue
        ),
    );
    let untagged = json!({
        "version": "0", "id": "e1", "detail-type": "ECR Image Action", "source": "aws.ecr",
        "account": "123456789012", "time": "2026-11-29T10:00:00Z", "region": "us-east-1",
        "resources": [],
        "detail": {"result": "SUCCESS", "repository-name": "team/waived", "image-digest": digest,
                   "action-type": "PUSH"},
    });
    let trail = json!({
        "version": "0", "id": "e2", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ecr", "account": "123456789012", "time": "2026-11-29T10:00:05Z",
        "region": "us-east-1", "resources": [],
        "detail": {
            "eventSource": "ecr.amazonaws.com", "eventName": "PutImage",
            "eventTime": "2026-11-29T10:00:04Z", "awsRegion": "us-east-1",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/ci-bot", "userName": "ci-bot"},
            "requestParameters": {"repositoryName": "team/waived", "imageTag": "v1", "registryId": "123456789012"},
            "responseElements": {"image": {"repositoryName": "team/waived", "imageId": {"imageDigest": digest, "imageTag": "v1"}}},
        },
    });
    send(&rt, &sqs, &pipe.queue, &untagged.to_string());
    send(&rt, &sqs, &pipe.queue, &trail.to_string());
    let hex = &digest["sha256:".len()..];
    let base = format!("reports/team/waived/sha256-{hex}/20261129T100004Z");
    p.run(&["check", "--once"])
        .success()
        .stderr_has(&format!(
            "skipped: team/waived@{digest} was pushed without a tag (check.skip_untagged)"
        ))
        .stderr_has(&format!(": warn, report {base}.html"))
        .stderr_has("stopped: 1 checked, 1 skipped, 0 ignored, 0 left in the queue");
    let stored = rt
        .block_on(
            s3.get_object()
                .bucket("reports")
                .key(format!("{base}.json"))
                .send(),
        )
        .unwrap();
    let body = rt.block_on(stored.body.collect()).unwrap().into_bytes();
    let report: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["image"]["pushed_by"], "ci-bot");
    assert_eq!(report["image"]["tag"], "v1");
    assert_eq!(report["waiver"]["label"], "ops_permit_dangerous=exigency");
}
