//! `little check` end to end: test images built here (layers as tar files with os-release, a
//! Java release file, /etc/passwd; a config with labels, a user and a fake AWS key in its
//! environment) are pushed to a real OCI registry on loopback (Debian's docker-registry,
//! started through `scripts/registry`), their manifests to ECR on the emulator; then the
//! one-off check, `--enforce`, and the worker with SQS, S3 and SNS on the emulator.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::runtime::Runtime;

use crate::cfn::emulator_config;
use crate::harness::{free_port, repo, Emulator, TestProject};

mod hostile;
pub(crate) mod options;

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
            // Past its end of life: the second tier of the os rule, `fail` by default.
            ("os".to_owned(), "fail".to_owned()),
            ("runtimes".to_owned(), "warn".to_owned()),
            ("size".to_owned(), "pass".to_owned()),
            ("efficiency".to_owned(), "pass".to_owned()),
            ("libraries".to_owned(), "pass".to_owned()),
            ("label_credentials".to_owned(), "pass".to_owned()),
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
    let hex = &digest["sha256:".len()..];
    let base = format!("reports/team/bad/sha256-{hex}/20261129T100000Z");
    out.success()
        .stderr_has(&format!(": fail, report {base}.html"))
        .stderr_has("skipped: an ECR DELETE SUCCESS event")
        .stderr_has("stopped: 1 checked, 1 skipped, 0 ignored, 0 left in the queue");

    // The report, stored under repository/digest/time, its delivery state and the marker.
    let keys: Vec<String> = rt
        .block_on(
            s3.list_objects_v2()
                .bucket("reports")
                .prefix("reports/team/bad/")
                .send(),
        )
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert_eq!(
        keys,
        [
            format!("{base}.delivery.json"),
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
        .stderr_has("stopped: 0 checked, 1 skipped, 0 ignored, 0 left in the queue");
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
    let ecr = aws_sdk_ecr::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let pipe = pipeline(&rt, &emulator);
    let p = project(
        &emulator,
        &format!("  queue_url: {}\n  report_bucket: reports\n", pipe.queue),
    );
    // An image ECR has, while the registry cannot be reached: the event is true, the check
    // fails for a reason that may pass (a missing blob, by contrast, is the image's fault and
    // a finding).
    let unreachable = crate::harness::free_port();
    let config_text = std::fs::read_to_string(p.path().join("little.yaml")).unwrap();
    p.file(
        "little.yaml",
        &config_text.replace(
            &format!("127.0.0.1:{}", registry().port),
            &format!("127.0.0.1:{unreachable}"),
        ),
    );
    let digest = phantom_image(&rt, &ecr, "team/broken", "v1");
    send(
        &rt,
        &sqs,
        &pipe.queue,
        &push_event("team/broken", "v1", &digest, "PUSH"),
    );
    p.run(&["check", "--once"])
        .code(1)
        .stderr_has("left in the queue")
        .stderr_has("stopped: 0 checked, 0 skipped, 0 ignored, 1 left in the queue");
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

/// A manifest in ECR (with its true digest, which moto takes as given) whose blobs were never
/// pushed to the registry; its digest.
fn phantom_image(rt: &Runtime, ecr: &aws_sdk_ecr::Client, repository: &str, tag: &str) -> String {
    let missing = format!("sha256:{}", "1".repeat(64));
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": missing},
        "layers": [],
    })
    .to_string();
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
            .image_tag(tag)
            .image_digest(format!(
                "sha256:{}",
                hex::encode(Sha256::digest(manifest.as_bytes()))
            ))
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

/// A webhook receiver on loopback answering `status` to every post: its URL (with a secret
/// path) and the bodies it received.
fn hook(status: u16) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/services/T000/B000/secret-token",
        listener.local_addr().unwrap()
    );
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"
            );
        }
    });
    (url, bodies)
}

fn objects(rt: &Runtime, s3: &aws_sdk_s3::Client, prefix: &str) -> Vec<String> {
    rt.block_on(s3.list_objects_v2().bucket("reports").prefix(prefix).send())
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

fn s3(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

#[test]
fn forged_events_are_ignored_and_enforce_deletes_nothing() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let ecr = aws_sdk_ecr::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let s3 = s3(&config);
    let digest = bad_image(&rt, &ecr);
    good_image(&rt, &ecr);
    let pipe = pipeline(&rt, &emulator);
    let (url, posts) = hook(200);
    let p = project(
        &emulator,
        &format!(
            "  queue_url: {}\n  report_bucket: reports\n  repositories: [\"team/*\"]\n  notify:\n    webhooks:\n      - {{url: \"{url}\", format: slack}}\n",
            pipe.queue
        ),
    );
    let absent = format!("sha256:{}", "2".repeat(64));
    let forged = [
        // A repository the registry does not have.
        push_event("team/nothing", "v1", &digest, "PUSH"),
        // A digest the repository does not have.
        push_event("team/bad", "v1", &absent, "PUSH"),
        // The failing image under the name of the passing one.
        push_event("team/good", "v1", &digest, "PUSH"),
        // A tag that is not on the image.
        push_event("team/bad", "release", &digest, "PUSH"),
        // Markup in the tag.
        push_event(
            "team/bad",
            "<!channel> <https://evil.example|click>",
            &digest,
            "PUSH",
        ),
        push_event("team/bad", "v1\nmessage 1: pass", &digest, "PUSH"),
        // A path in the repository name.
        push_event("team/../../etc", "v1", &digest, "PUSH"),
        // Another account, another region, a repository not configured.
        push_event("team/bad", "v1", &digest, "PUSH").replace("123456789012", "999999999999"),
        push_event("team/bad", "v1", &digest, "PUSH").replace("us-east-1", "eu-west-1"),
        push_event("other/bad", "v1", &digest, "PUSH"),
    ];
    for body in &forged {
        send(&rt, &sqs, &pipe.queue, body);
    }
    let out = p.run(&["check", "--once", "--enforce"]);
    out.success()
        .stderr_has("ignored (deleted): the registry has no repository `team/nothing`")
        .stderr_has(&format!(
            "ignored (deleted): `team/bad` has no image {absent}"
        ))
        .stderr_has("ignored (deleted): `team/good` has no image")
        .stderr_has("ignored (deleted): the tag `release` is not on team/bad@")
        .stderr_has("`<!channel> <https://evil.example|click>` is not an image tag")
        .stderr_has("`v1\\nmessage 1: pass` is not an image tag")
        .stderr_has("`team/../../etc` is not a repository name")
        .stderr_has(
            "the event is from account 999999999999; this worker's registry is 123456789012",
        )
        .stderr_has("the event is from region `eu-west-1`; this worker checks us-east-1")
        .stderr_has("repository `other/bad` is not one of `check.repositories`")
        .stderr_has(&format!(
            "stopped: 0 checked, 0 skipped, {} ignored, 0 left in the queue",
            forged.len()
        ));
    assert!(
        !out.stderr.lines().any(|l| l.starts_with("message 1: pass")),
        "no log line forged: {}",
        out.stderr
    );
    // Nothing deleted, stored or sent; the queue is empty.
    let left = rt
        .block_on(ecr.describe_images().repository_name("team/bad").send())
        .unwrap();
    assert_eq!(left.image_details().len(), 1, "--enforce deleted nothing");
    assert!(objects(&rt, &s3, "").is_empty(), "no report");
    assert!(posts.lock().unwrap().is_empty(), "no notification");
    assert!(receive_all(&rt, &sqs, &pipe.queue).is_empty());

    // The true event: checked, enforced, reported.
    send(
        &rt,
        &sqs,
        &pipe.queue,
        &push_event("team/bad", "v1", &digest, "PUSH"),
    );
    p.run(&["check", "--once", "--enforce"])
        .success()
        .stderr_has("stopped: 1 checked, 0 skipped, 0 ignored, 0 left in the queue");
    let left = rt
        .block_on(ecr.describe_images().repository_name("team/bad").send())
        .unwrap();
    assert!(
        left.image_details().is_empty(),
        "the confirmed failing image is deleted"
    );
    assert_eq!(posts.lock().unwrap().len(), 1);
}

/// `team/hostile`: fails the label check with a label value made to inject markup.
const HOSTILE: &str = "<!channel> <https://evil.example|click> [x](javascript:alert(1)) *bold*";

fn hostile_image(rt: &Runtime, ecr: &aws_sdk_ecr::Client) -> String {
    push_image(
        rt,
        ecr,
        "team/hostile",
        "v1",
        &[layer(&[(
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\napp:x:10001:10001::/app:/usr/sbin/nologin\n",
        )])],
        json!({
            "architecture": "amd64", "os": "linux",
            "config": {"User": "app", "Env": ["PATH=/usr/bin"], "Labels": {"owner_team": HOSTILE}},
            "history": [],
        }),
    )
}

#[test]
fn a_dead_webhook_does_not_repost_to_a_working_one_across_redeliveries() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let ecr = aws_sdk_ecr::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let s3 = s3(&config);
    let digest = hostile_image(&rt, &ecr);
    let pipe = pipeline(&rt, &emulator);
    let (good, good_posts) = hook(200);
    let (dead, dead_posts) = hook(500);
    let p = project(
        &emulator,
        &format!(
            "  queue_url: {}\n  report_bucket: reports\n  notify:\n    sns_topic_arn: {}\n    delivery_attempts: 3\n    webhooks:\n      - {{url: \"{good}\", format: slack}}\n      - {{url: \"{dead}\", format: teams}}\n",
            pipe.queue, pipe.topic
        ),
    );
    send(
        &rt,
        &sqs,
        &pipe.queue,
        &push_event("team/hostile", "v1", &digest, "PUSH"),
    );
    // Three deliveries of the message (1 s visibility): the first two leave it for the dead
    // webhook alone, the third gives that one up and finishes the message.
    for delivery in 1..=3 {
        if delivery > 1 {
            std::thread::sleep(Duration::from_millis(1500));
        }
        let out = p.run(&["check", "--once"]);
        assert!(!out.stderr.contains("secret-token"), "{}", out.stderr);
        if delivery < 3 {
            out.code(1)
                .stderr_has(
                    "left in the queue: not yet delivered to Teams webhook http://127.0.0.1:",
                )
                .stderr_has("HTTP 500");
        } else {
            out.code(1)
                .stderr_has(": fail, report reports/team/hostile/sha256-")
                .stderr_has("not delivered to Teams webhook http://127.0.0.1:")
                .stderr_has("after 3 attempts")
                .stderr_has("stopped: 1 checked, 0 skipped, 0 ignored, 0 left in the queue, 1 deliveries failed");
        }
        assert_eq!(good_posts.lock().unwrap().len(), 1, "delivery {delivery}");
        assert_eq!(
            dead_posts.lock().unwrap().len(),
            3 * delivery as usize,
            "three attempts per delivery"
        );
    }
    // SNS had it once too.
    assert_eq!(receive_all(&rt, &sqs, &pipe.inbox).len(), 1);
    // The message is finished; a later delivery of it would be a duplicate.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(receive_all(&rt, &sqs, &pipe.queue).is_empty());

    // The Slack message carries the label escaped, in plain_text only.
    let slack: Value = serde_json::from_str(&good_posts.lock().unwrap()[0]).unwrap();
    let text = slack.to_string();
    assert!(
        !text.contains("<!channel>") && !text.contains("<https://evil"),
        "{text}"
    );
    assert!(
        text.contains("&lt;!channel&gt; &lt;https://evil.example|click&gt;"),
        "{text}"
    );
    for block in slack["attachments"][0]["blocks"].as_array().unwrap() {
        if block["text"]["type"] == "mrkdwn" {
            assert!(block["text"]["text"]
                .as_str()
                .unwrap()
                .ends_with("|Open the report>"));
        }
    }
    // The Teams card, with its markdown escaped.
    let teams = dead_posts.lock().unwrap()[0].clone();
    assert!(
        teams.contains("\\\\[x\\\\]\\\\(javascript:alert\\\\(1\\\\)\\\\)"),
        "{teams}"
    );

    // The report names the failed delivery (by host only) and escapes the label.
    let hex = &digest["sha256:".len()..];
    let base = format!("reports/team/hostile/sha256-{hex}/20261129T100000Z");
    let read = |key: String| {
        let o = rt
            .block_on(s3.get_object().bucket("reports").key(key).send())
            .unwrap();
        String::from_utf8(rt.block_on(o.body.collect()).unwrap().into_bytes().to_vec()).unwrap()
    };
    let report: Value = serde_json::from_str(&read(format!("{base}.json"))).unwrap();
    let undelivered = report["undelivered"].as_array().unwrap();
    assert_eq!(undelivered.len(), 1);
    assert!(undelivered[0]["target"]
        .as_str()
        .unwrap()
        .starts_with("Teams webhook http://127.0.0.1:"));
    assert_eq!(undelivered[0]["attempts"], 3);
    let html = read(format!("{base}.html"));
    assert!(html.contains("Notifications not delivered"));
    assert!(html.contains("&lt;!channel&gt;") && !html.contains("<!channel>"));
    assert!(!html.contains("secret-token") && !report.to_string().contains("secret-token"));
}

#[test]
fn worker_settings_are_checked_before_any_message_is_read() {
    let emulator = Emulator::lock();
    let p = project(
        &emulator,
        "  queue_url: http://127.0.0.1:1/q\n  notify:\n    delivery_attempts: 0\n",
    );
    p.run(&["check", "--once"]).code(1).stderr_has(
        "`check.notify.delivery_attempts` is 0; it must be 1 to 10 (and below the queue's maxReceiveCount)",
    );
    let p = project(
        &emulator,
        "  queue_url: http://127.0.0.1:1/q\n  repositories: [\"Team/*\"]\n",
    );
    p.run(&["check", "--once"])
        .code(1)
        .stderr_has("`check.repositories[0]` is `Team/*`, which matches no repository name");
}
