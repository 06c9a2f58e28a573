//! `little check` end to end: test images built here (layers as tar files with os-release, a
//! Java release file, /etc/passwd; a config with labels, a user and a fake AWS key in its
//! environment) are pushed to a real OCI registry on loopback (Debian's docker-registry,
//! started through `scripts/registry`), their manifests to ECR on the emulator; then the
//! one-off check, `--enforce`, and the worker with SQS, S3 and SNS on the emulator.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::runtime::Runtime;

use crate::cfn::emulator_config;
use crate::harness::{free_port, repo, Emulator, TestProject};

mod hostile;

/// The test registry, started once per test process; it stops when the process exits.
struct Registry {
    port: u16,
    _child: Child,
    _dir: tempfile::TempDir,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

fn registry() -> &'static Registry {
    REGISTRY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(repo().join("scripts/registry"))
            .args(["run", &port.to_string(), dir.path().to_str().unwrap()])
            .stdout(Stdio::null())
            .spawn()
            .expect("start scripts/registry");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((status, _)) = http(port, "GET", "/v2/", "", &[]) {
                if status == 200 {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the registry did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Registry {
            port,
            _child: child,
            _dir: dir,
        }
    })
}

/// One HTTP/1.1 request to the registry; (status, headers and body as text).
fn http(
    port: u16,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, text))
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn digest512(bytes: &[u8]) -> String {
    format!("sha512:{}", hex::encode(sha2::Sha512::digest(bytes)))
}

/// Uploads a blob (an upload session, then the whole blob in one PUT); its digest.
fn push_blob(repository: &str, bytes: &[u8]) -> String {
    push_blob_as(repository, bytes, digest(bytes))
}

/// Uploads a blob under the digest `d` (sha256 or sha512).
fn push_blob_as(repository: &str, bytes: &[u8], d: String) -> String {
    let port = registry().port;
    let (status, text) = http(
        port,
        "POST",
        &format!("/v2/{repository}/blobs/uploads/"),
        "application/octet-stream",
        &[],
    )
    .unwrap();
    assert_eq!(status, 202, "blob upload: {text}");
    let location = text
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .expect("a Location")
        .trim();
    let path = location
        .split_once("://")
        .map(|(_, rest)| &rest[rest.find('/').unwrap_or(0)..])
        .unwrap_or(location);
    let separator = if path.contains('?') { '&' } else { '?' };
    let (status, text) = http(
        port,
        "PUT",
        &format!("{path}{separator}digest={d}"),
        "application/octet-stream",
        bytes,
    )
    .unwrap();
    assert_eq!(status, 201, "blob upload: {text}");
    d
}

/// A gzip-compressed tar layer of files (path, content, mode).
fn layer(files: &[(&str, &str)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, path, content.as_bytes()).unwrap();
    }
    gzip(&tar.into_inner().unwrap())
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(raw).unwrap();
    gz.finish().unwrap()
}

/// A test image: layers to the registry, the manifest to ECR (the emulator) under `tag`;
/// returns the manifest's digest as ECR reports it.
fn push_image(
    rt: &Runtime,
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    tag: &str,
    layers: &[Vec<u8>],
    config: Value,
) -> String {
    let layer_descriptors: Vec<Value> = layers
        .iter()
        .map(|l| {
            json!({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": l.len(), "digest": push_blob(repository, l)})
        })
        .collect();
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let config_digest = push_blob(repository, &config_bytes);
    let config_descriptor = json!({"mediaType": "application/vnd.docker.container.image.v1+json", "size": config_bytes.len(), "digest": config_digest});
    push_manifest(
        rt,
        ecr,
        repository,
        tag,
        config_descriptor,
        layer_descriptors,
    )
}

/// The manifest of a config and layers (descriptors) to ECR under `tag`, with its digest
/// (the SHA-256 of its bytes, as ECR computes it; the emulator is told it).
fn push_manifest(
    rt: &Runtime,
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    tag: &str,
    config: Value,
    layers: Vec<Value>,
) -> String {
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": config,
        "layers": layers,
    })
    .to_string();
    let manifest_digest = digest(manifest.as_bytes());
    rt.block_on(async {
        let _ = ecr
            .create_repository()
            .repository_name(repository)
            .send()
            .await;
        ecr.put_image()
            .repository_name(repository)
            .image_manifest(&manifest)
            .image_manifest_media_type("application/vnd.docker.distribution.manifest.v2+json")
            .image_digest(&manifest_digest)
            .image_tag(tag)
            .send()
            .await
            .unwrap()
            .image
            .unwrap()
            .image_id
            .unwrap()
            .image_digest
            .unwrap()
    })
}

/// `team/bad`: root, a fake AWS key in its environment, no owner label, Debian 10, Java 11.
fn bad_image(rt: &Runtime, ecr: &aws_sdk_ecr::Client) -> String {
    push_image(
        rt,
        ecr,
        "team/bad",
        "v1",
        &[
            layer(&[
                (
                    "etc/os-release",
                    "PRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\nID=debian\nVERSION_ID=\"10\"\n",
                ),
                ("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"),
            ]),
            layer(&[(
                "opt/java/openjdk/release",
                "IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_VERSION=\"11.0.22\"\n",
            )]),
        ],
        json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/usr/bin", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"], "Labels": {"version": "1"}},
            "history": [{"created_by": "/bin/sh -c apt-get update && apt-get install -y openjdk-11-jre; rm -rf /var/lib/apt/lists/*"}],
        }),
    )
}

/// `team/good`: a non-root user, the owner label, Debian 12, Java 21.
fn good_image(rt: &Runtime, ecr: &aws_sdk_ecr::Client) -> String {
    push_image(
        rt,
        ecr,
        "team/good",
        "v1",
        &[layer(&[
            (
                "etc/os-release",
                "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
            ),
            (
                "etc/passwd",
                "root:x:0:0:root:/root:/bin/bash\napp:x:10001:10001::/app:/usr/sbin/nologin\n",
            ),
            ("opt/java/openjdk/release", "JAVA_VERSION=\"21.0.2\"\n"),
        ])],
        json!({
            "architecture": "amd64", "os": "linux",
            "config": {"User": "app", "Env": ["PATH=/usr/bin"], "Labels": {"owner_team": "platform"}},
            "history": [{"created_by": "/bin/sh -c #(nop) USER app", "empty_layer": true}],
        }),
    )
}

fn project(emulator: &Emulator, extra: &str) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.file(
        "little.yaml",
        &format!(
            "defaults:\n  region: us-east-1\ncheck:\n  registry_url: http://127.0.0.1:{}\n{extra}  checks:\n    labels:\n      required: {{owner_team: \"^[a-z][a-z0-9-]+$\"}}\n    os:\n      end_of_life:\n        - {{id: debian, version: \"10\", date: \"2024-06-30\"}}\n        - {{id: debian, version: \"12\", date: \"2028-06-30\"}}\n    runtimes:\n      minimum: {{java: \"17\"}}\n",
            registry().port
        ),
    );
    p
}

fn outcomes(report: &Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn check_finds_each_violation_and_passes_a_clean_image() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    let bad = bad_image(&rt, &ecr);
    good_image(&rt, &ecr);
    let p = project(&emulator, "");

    let out = p.run(&["check", "team/bad:v1", "--format", "json"]);
    out.code(2);
    let report = out.json();
    assert_eq!(report["outcome"], "fail");
    assert_eq!(report["image"]["digest"], bad.as_str());
    assert_eq!(
        outcomes(&report),
        [
            ("labels".to_owned(), "fail".to_owned()),
            ("non_root".to_owned(), "fail".to_owned()),
            ("secrets".to_owned(), "fail".to_owned()),
            ("os".to_owned(), "warn".to_owned()),
            ("runtimes".to_owned(), "warn".to_owned()),
            ("size".to_owned(), "pass".to_owned()),
        ]
    );
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks[0]["details"][0], "label `owner_team` is missing");
    assert_eq!(
        checks[2]["details"][0],
        "environment variable `AWS_ACCESS_KEY_ID` holds an AWS access key id: [redacted AWS access key id, 20 characters]"
    );
    assert!(checks[3]["summary"]
        .as_str()
        .unwrap()
        .contains("Debian GNU/Linux 10 (buster) reached its end of life on 2024-06-30"));
    assert_eq!(
        checks[4]["details"][0],
        "java 11.0.22 (from /opt/java/openjdk/release) is older than 17"
    );
    assert_eq!(report["facts"]["os"]["id"], "debian");
    assert_eq!(
        report["history"][0]["lines"],
        json!([
            "apt-get update",
            "apt-get install -y openjdk-11-jre",
            "rm -rf /var/lib/apt/lists/*"
        ])
    );
    assert!(
        !out.stdout.contains("EXAMPLE"),
        "the key is never shown whole"
    );
    // Without --enforce it says what it would do.
    assert_eq!(report["enforcement"]["applied"], false);

    // The report files, the HTML self-contained.
    let html = std::fs::read_to_string(p.path().join("little-check/team/bad/v1.html")).unwrap();
    assert!(html.contains("team/bad:v1"));
    for external in ["http:", "https:", "src=", "<link", "<script"] {
        assert!(!html.contains(external), "{external} in the HTML report");
    }
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(p.path().join("little-check/team/bad/v1.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(saved, report);

    // The text summary.
    p.run(&["check", "team/bad:v1"])
        .code(2)
        .stdout_has("FAIL Runs as a non-root user: runs as `root` (uid 0)")
        .stdout_has("outcome: FAIL");

    let good = p.run(&["check", "team/good:v1", "--format", "json"]);
    good.success();
    let report = good.json();
    assert_eq!(report["outcome"], "pass");
    assert!(
        outcomes(&report).iter().all(|(_, o)| o == "pass"),
        "{report:#}"
    );
    assert_eq!(report["facts"]["user"], "app");
    assert_eq!(
        report["facts"]["runtimes"]["java"],
        "21.0.2 (/opt/java/openjdk/release)"
    );

    // Bad input: no such image, a malformed reference.
    p.run(&["check", "team/good:v9"])
        .code(1)
        .stderr_has("there is no image team/good:v9");
    p.run(&["check", "team/good"])
        .code(1)
        .stderr_has("names no tag or digest");
}

#[test]
fn enforce_deletes_a_failing_image() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    bad_image(&rt, &ecr);
    let p = project(&emulator, "");
    let out = p.run(&["check", "team/bad:v1", "--enforce", "--format", "json"]);
    out.code(2);
    let enforcement = &out.json()["enforcement"];
    assert_eq!(enforcement["applied"], true);
    assert!(enforcement["detail"]
        .as_str()
        .unwrap()
        .starts_with("deleted team/bad@sha256:"));
    let left = rt
        .block_on(ecr.describe_images().repository_name("team/bad").send())
        .unwrap();
    assert!(left.image_details().is_empty(), "the image is gone");
}

struct Pipeline {
    queue: String,
    inbox: String,
    topic: String,
}

/// The pipeline's queue (1 s visibility, so that a failed message comes back quickly), its
/// bucket, and its topic with a queue subscribed to read the notifications.
fn pipeline(rt: &Runtime, emulator: &Emulator) -> Pipeline {
    let config = emulator_config(rt, emulator);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let (topic, inbox) =
        crate::audit_targets::topic_with_inbox(rt, &config, "results", "results-inbox");
    rt.block_on(async {
        s3.create_bucket().bucket("reports").send().await.unwrap();
        let queue = sqs
            .create_queue()
            .queue_name("image-check")
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
                "1",
            )
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        Pipeline {
            queue,
            inbox,
            topic,
        }
    })
}

fn push_event(repository: &str, tag: &str, digest: &str, action: &str) -> String {
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "ECR Image Action", "source": "aws.ecr", "account": "123456789012",
        "time": "2026-11-29T10:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"result": "SUCCESS", "repository-name": repository, "image-digest": digest,
                   "action-type": action, "image-tag": tag},
    })
    .to_string()
}

fn send(rt: &Runtime, sqs: &aws_sdk_sqs::Client, queue: &str, body: &str) {
    rt.block_on(
        sqs.send_message()
            .queue_url(queue)
            .message_body(body)
            .send(),
    )
    .unwrap();
}

fn receive_all(
    rt: &Runtime,
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
) -> Vec<aws_sdk_sqs::types::Message> {
    rt.block_on(async {
        sqs.receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
            )
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default()
    })
}

#[test]
fn the_worker_stores_the_report_notifies_and_deletes_the_message() {
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
    let digest = bad_image(&rt, &ecr);
    let pipe = pipeline(&rt, &emulator);
    let p = project(
        &emulator,
        &format!(
            "  queue_url: {}\n  report_bucket: reports\n  link_expiry: 1h\n  notify:\n    sns_topic_arn: {}\n",
            pipe.queue, pipe.topic
        ),
    );
    // A push, a delete (skipped), and the same push again (a duplicate).
    send(
        &rt,
        &sqs,
        &pipe.queue,
        &push_event("team/bad", "v1", &digest, "PUSH"),
    );
    send(
        &rt,
        &sqs,
        &pipe.queue,
        &push_event("team/bad", "v0", &digest, "DELETE"),
    );
    let out = p.run(&["check", "--once"]);
    out.success()
        .stderr_has(": fail, report reports/team/bad/v1/20261129T100000Z-")
        .stderr_has("skipped: an ECR DELETE SUCCESS event")
        .stderr_has("stopped: 1 checked, 1 skipped, 0 left in the queue");

    // The report, stored under repository/tag/time, and the marker.
    let keys: Vec<String> = rt
        .block_on(
            s3.list_objects_v2()
                .bucket("reports")
                .prefix("reports/team/bad/v1/")
                .send(),
        )
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    let short = &digest["sha256:".len().."sha256:".len() + 12];
    let base = format!("reports/team/bad/v1/20261129T100000Z-{short}");
    assert_eq!(
        keys,
        [
            format!("{base}.done"),
            format!("{base}.html"),
            format!("{base}.json")
        ]
    );
    let stored = rt
        .block_on(
            s3.get_object()
                .bucket("reports")
                .key(format!("{base}.json"))
                .send(),
        )
        .unwrap();
    assert_eq!(
        stored.server_side_encryption().map(|e| e.as_str()),
        Some("AES256")
    );
    let body = rt.block_on(stored.body.collect()).unwrap().into_bytes();
    let report: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["outcome"], "fail");
    assert_eq!(report["image"]["tag"], "v1");

    // The notification, with a presigned link to the HTML report.
    let notes = receive_all(&rt, &sqs, &pipe.inbox);
    assert_eq!(notes.len(), 1);
    let envelope: Value = serde_json::from_str(notes[0].body().unwrap()).unwrap();
    assert_eq!(
        envelope["Subject"],
        "FAIL team/bad:v1: 5 checks need attention"
    );
    let text = envelope["Message"].as_str().unwrap();
    assert!(text.contains("Report: http"), "{text}");
    assert!(
        text.contains(&format!("{base}.html")) && text.contains("X-Amz-Signature="),
        "{text}"
    );
    assert!(text.contains("FAIL Runs as a non-root user"), "{text}");

    // The queue is empty; the same push again is a duplicate: deleted, nothing new.
    assert!(receive_all(&rt, &sqs, &pipe.queue).is_empty());
    send(
        &rt,
        &sqs,
        &pipe.queue,
        &push_event("team/bad", "v1", &digest, "PUSH"),
    );
    p.run(&["check", "--once"])
        .success()
        .stderr_has("skipped: a duplicate: s3://reports/")
        .stderr_has("stopped: 0 checked, 1 skipped, 0 left in the queue");
    assert!(
        receive_all(&rt, &sqs, &pipe.inbox).is_empty(),
        "no second notification"
    );
}

#[test]
fn a_message_that_fails_is_left_in_the_queue_and_received_again() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let pipe = pipeline(&rt, &emulator);
    let p = project(
        &emulator,
        &format!("  queue_url: {}\n  report_bucket: reports\n", pipe.queue),
    );
    // A push of an image that ECR does not have: the check fails.
    let missing = format!("sha256:{}", "0".repeat(64));
    send(
        &rt,
        &sqs,
        &pipe.queue,
        &push_event("team/none", "v1", &missing, "PUSH"),
    );
    p.run(&["check", "--once"])
        .code(1)
        .stderr_has("left in the queue")
        .stderr_has("stopped: 0 checked, 0 skipped, 1 left in the queue");
    // After the visibility timeout it is there again, received a second time.
    std::thread::sleep(Duration::from_millis(1500));
    let again = receive_all(&rt, &sqs, &pipe.queue);
    assert_eq!(again.len(), 1, "the message was not deleted");
    let count: u32 = again[0].attributes().unwrap()
        [&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount]
        .parse()
        .unwrap();
    assert!(count >= 2, "received {count} times");
}
