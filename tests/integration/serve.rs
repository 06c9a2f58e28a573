//! `little serve` as a process against the emulator: readiness, `/metrics` parsed by the
//! Prometheus project's own OpenMetrics parser, the report, scan configurations through the
//! API (with and without the token, kept across a restart), the summary and the Atom feed
//! (parsed as XML), a clean exit on SIGTERM; and a run while the emulator is gone, which
//! keeps the last results, counts the error and recovers when it comes back.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability};
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::cfn::{config_for, emulator_config};
use crate::harness::{free_port, repo, Emulator, TestProject};

const TOKEN: &str = "serve-test-token";

/// A running `little serve`, stopped (SIGTERM) when dropped.
pub(crate) struct Server {
    child: Child,
    address: String,
    log: mpsc::Receiver<String>,
}

impl Server {
    pub(crate) fn start(p: &TestProject, args: &[&str]) -> Server {
        let mut all = vec!["--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Server::start_with_env(p, &all, &[])
    }

    /// `little serve ARGS` with these variables set (and no `--listen` of its own).
    pub(crate) fn start_with_env(p: &TestProject, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        let mut cmd = p.command(p.path(), &all);
        cmd.envs(env.iter().copied());
        Server::spawn(cmd)
    }

    /// [`Server::start`], signing AWS calls with the access key `(id, secret)`.
    pub(crate) fn start_as(p: &TestProject, args: &[&str], key: &(String, String)) -> Server {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut cmd = p.command(p.path(), &all);
        cmd.env("AWS_ACCESS_KEY_ID", &key.0)
            .env("AWS_SECRET_ACCESS_KEY", &key.1);
        Server::spawn(cmd)
    }

    fn spawn(mut cmd: Command) -> Server {
        cmd.env("LITTLE_SERVE_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start little serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let address = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("little serve printed no address");
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split(' ').next().unwrap().to_owned();
            }
        };
        Server {
            child,
            address,
            log: rx,
        }
    }

    pub(crate) fn get(&self, path: &str) -> (u16, String) {
        request(&self.address, "GET", path, None, None)
    }

    /// Polls `path` until `ok` holds for its answer.
    pub(crate) fn wait_for(
        &self,
        path: &str,
        what: &str,
        ok: impl Fn(u16, &str) -> bool,
    ) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, body) = self.get(path);
            if ok(status, &body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "waited 60 s for {what}; last answer {status}: {body}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGTERM, then the exit status and the rest of the log.
    pub(crate) fn stop(mut self) -> (Option<i32>, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let code = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s.code();
            }
            assert!(Instant::now() < deadline, "little serve ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        let log: Vec<String> = self.log.try_iter().collect();
        (code, log.join("\n"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request; the status and the body.
fn request(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut s = TcpStream::connect(address).expect("connect to little serve");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {text}"));
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, body.to_owned())
}

/// The samples of an OpenMetrics exposition, parsed by the `prometheus_client` package:
/// `[name, labels, value]` each.
pub(crate) fn parse_metrics(text: &str) -> Vec<(String, serde_json::Map<String, Value>, f64)> {
    let script = "import json, sys\n\
        from prometheus_client.openmetrics.parser import text_string_to_metric_families\n\
        out = []\n\
        for family in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   for s in family.samples:\n\
        \x20       out.append([s.name, s.labels, s.value])\n\
        print(json.dumps(out))";
    let out = crate::harness::python(script, &[], text);
    assert!(
        out.status.success(),
        "the exposition does not parse: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let samples: Vec<(String, serde_json::Map<String, Value>, f64)> =
        serde_json::from_slice(&out.stdout).unwrap();
    samples
}

/// The value of the sample `name` whose labels include `labels`.
pub(crate) fn value(
    samples: &[(String, serde_json::Map<String, Value>, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).and_then(Value::as_str) == Some(*v))
        })
        .map(|(_, _, v)| *v)
}

fn registry_with_an_image(rt: &Runtime, ecr: &aws_sdk_ecr::Client, name: &str) {
    rt.block_on(async {
        ecr.create_repository()
            .repository_name(name)
            .image_tag_mutability(ImageTagMutability::Mutable)
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(true)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
    crate::audit::put_test_image(rt, ecr, name, "v1");
}

#[test]
fn serve_exports_metrics_manages_scan_configurations_and_stops_on_sigterm() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    registry_with_an_image(&rt, &ecr, "team/api");
    let p = TestProject::new().with_emulator(&emulator);
    p.file(
        "little.yaml",
        "defaults:\n  region: us-east-1\naudit:\n  scan_configs:\n    - repository: team/api\n      tags: [v1]\n",
    );
    let state = p.path().join("state/serve.json");
    let state_arg = state.to_str().unwrap().to_owned();
    let server = Server::start(
        &p,
        &["--interval", "1s", "--no-stacks", "--state", &state_arg],
    );
    assert_eq!(server.get("/healthz").0, 200);
    server.wait_for("/readyz", "readiness", |s, _| s == 200);

    // The scan is started by the first run; its findings reach the metrics from the next.
    let text = server.wait_for("/metrics", "scan metrics", |s, b| {
        s == 200 && b.contains("aws_ecr_image_scan_severity_count{")
    });
    let samples = parse_metrics(&text);
    let uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api";
    let image = format!("{uri}:v1");
    assert_eq!(
        value(
            &samples,
            "aws_ecr_repository_count",
            &[("registry_id", "123456789012")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &samples,
            "aws_ecr_repository_info",
            &[
                ("name", "team/api"),
                ("repository_uri", uri),
                ("tag_mutability", "MUTABLE"),
                ("scan_on_push", "true"),
                ("encryption_type", "AES256"),
            ]
        ),
        Some(1.0)
    );
    let size = value(
        &samples,
        "aws_ecr_image_size_in_bytes",
        &[("name", "team/api"), ("tag", "v1"), ("image", &image)],
    )
    .expect("image size");
    assert!(size > 0.0);
    let pushed = value(
        &samples,
        "aws_ecr_image_pushed_at_timestamp_seconds",
        &[("image", &image)],
    )
    .expect("pushed at");
    assert!(pushed > 1.7e9);
    assert!(
        value(
            &samples,
            "aws_ecr_image_scan_severity_count",
            &[("image", &image), ("severity", "HIGH")]
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{text}"
    );
    assert!(value(
        &samples,
        "aws_ecr_image_scan_completed_at_timestamp_seconds",
        &[("image", &image)]
    )
    .is_some());
    assert_eq!(
        value(
            &samples,
            "little_audit_findings",
            &[
                ("check", "ecr.tag-immutability"),
                ("repository", "team/api")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &samples,
            "little_audit_errors_total",
            &[("reason", "run_failed")]
        ),
        Some(0.0)
    );
    assert!(value(&samples, "little_audit_last_success_timestamp_seconds", &[]).unwrap() > 1.7e9);
    assert!(value(&samples, "little_audit_duration_seconds", &[]).is_some());
    assert!(
        value(
            &samples,
            "little_aws_api_calls_total",
            &[("operation", "ecr:DescribeRepositories")]
        )
        .unwrap()
            >= 2.0
    );

    // gzip when asked, as Prometheus asks.
    let raw = {
        let mut s = TcpStream::connect(&server.address).unwrap();
        write!(
            s,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        raw
    };
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert!(head.contains("vary: accept-encoding"), "{head}");
    let mut plain = String::new();
    flate2::read::GzDecoder::new(&raw[split + 4..])
        .read_to_string(&mut plain)
        .unwrap();
    assert!(plain.contains("aws_ecr_repository_count") && plain.ends_with("# EOF\n"));

    // The report, as HTML and JSON.
    let (status, html) = server.get("/report");
    assert_eq!(status, 200);
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("team/api"));
    let (status, json) = server.get("/report.json");
    assert_eq!(status, 200);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["check"] == "ecr.tag-immutability"));

    // Scan configurations: the declared one, then one added through the API.
    let (_, configs) = server.get("/configs");
    let configs: Value = serde_json::from_str(&configs).unwrap();
    assert_eq!(configs["configs"][0]["id"], "yaml-1");
    assert_eq!(configs["configs"][0]["source"], "config");
    let new = r#"{"repository": "team/web", "tags": ["latest"]}"#;
    assert_eq!(
        request(&server.address, "POST", "/configs", None, Some(new)).0,
        401
    );
    assert_eq!(
        request(
            &server.address,
            "POST",
            "/configs",
            Some("wrong"),
            Some(new)
        )
        .0,
        401
    );
    let (status, bad) = request(
        &server.address,
        "POST",
        "/configs",
        Some(TOKEN),
        Some(r#"{"repository": "Bad Name"}"#),
    );
    assert_eq!(status, 400, "{bad}");
    assert!(bad.contains("`repository`"), "{bad}");
    let (status, created) = request(&server.address, "POST", "/configs", Some(TOKEN), Some(new));
    assert_eq!(status, 201, "{created}");
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, listed) = server.get("/configs");
    assert!(listed.contains(&id));
    // The original service's routes, with the slash; `created` with each added one.
    let (status, listed) = server.get("/configs/");
    assert_eq!(status, 200);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let added = listed["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .unwrap();
    assert!(added["created"].as_str().unwrap().ends_with('Z'), "{added}");
    assert_eq!(server.get(&format!("/configs/{id}/")).0, 200);
    assert_eq!(server.get("/summary/").0, 200);
    // A registry this server cannot reach: 422, naming the caller's account.
    let (status, refused) = request(
        &server.address,
        "POST",
        "/configs/",
        Some(TOKEN),
        Some(r#"{"repository": "team/web", "registry": "999999999999"}"#),
    );
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("123456789012 (the caller's)"), "{refused}");
    assert_eq!(
        request(
            &server.address,
            "DELETE",
            "/configs/nope",
            Some(TOKEN),
            None
        )
        .0,
        404
    );
    assert_eq!(
        request(
            &server.address,
            "DELETE",
            "/configs/yaml-1",
            Some(TOKEN),
            None
        )
        .0,
        409
    );
    assert_eq!(
        request(
            &server.address,
            "DELETE",
            &format!("/configs/{id}"),
            None,
            None
        )
        .0,
        401
    );

    // The summary: per configuration and tag, the scan and its counts.
    let summary = server.wait_for("/summary", "the summary", |s, b| {
        s == 200 && b.contains("\"HIGH\"")
    });
    let summary: Value = serde_json::from_str(&summary).unwrap();
    let first = &summary["configs"][0];
    assert_eq!(first["id"], "yaml-1");
    assert_eq!(first["tags"][0]["tag"], "v1");
    assert!(first["tags"][0]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert!(first["tags"][0]["counts"]["HIGH"].as_i64().unwrap() >= 1);
    assert!(first["tags"][0]["completed_at"].is_string());
    // team/web does not exist: its configuration carries the error.
    let web = summary["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(
        web["error"].is_string() || web["scanned_at"].is_null(),
        "{web}"
    );

    // The feed, parsed as XML.
    let (status, feed) = server.get("/findings/yaml-1");
    assert_eq!(status, 200);
    let mut parse = Command::new(repo().join(".venv/bin/python"))
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as ET\n\
             ns = {'a': 'http://www.w3.org/2005/Atom'}\n\
             feed = ET.fromstring(sys.stdin.read())\n\
             entries = feed.findall('a:entry', ns)\n\
             print(len(entries), ' '.join(sorted({e.find('a:category', ns).get('term') for e in entries})))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    parse
        .stdin
        .take()
        .unwrap()
        .write_all(feed.as_bytes())
        .unwrap();
    let parsed = parse.wait_with_output().unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let parsed = String::from_utf8_lossy(&parsed.stdout).trim().to_owned();
    let (count, severities) = parsed.split_once(' ').unwrap();
    assert!(count.parse::<usize>().unwrap() >= 1, "{parsed}\n{feed}");
    assert!(severities.contains("HIGH"), "{parsed}");
    assert_eq!(server.get("/findings/nope").0, 404);
    assert_eq!(server.get("/nowhere").0, 404);

    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("stopped"), "{log}");

    // A restart finds the added configuration again; deleting it with the token works.
    let server = Server::start(
        &p,
        &["--interval", "1h", "--no-stacks", "--state", &state_arg],
    );
    let (_, listed) = server.get("/configs");
    assert!(listed.contains(&id), "{listed}");
    assert_eq!(
        request(
            &server.address,
            "DELETE",
            &format!("/configs/{id}"),
            Some(TOKEN),
            None
        )
        .0,
        204
    );
    let (_, listed) = server.get("/configs");
    assert!(!listed.contains(&id));
    let (code, _) = server.stop();
    assert_eq!(code, Some(0));
}

/// Without AWS (nothing listens at the endpoint): every run fails, and that is counted. The
/// read token comes from a file with a trailing newline and is asked for in any case of the
/// scheme; beyond loopback without one, `serve` refuses to start.
#[test]
fn serve_guards_its_read_endpoints_and_refuses_to_listen_openly() {
    let p = TestProject::new();
    p.file("secrets/read-token", "r34d-t0ken\n");
    let refused = p.run(&["serve", "--listen", "0.0.0.0:0", "--interval", "1h"]);
    refused
        .code(3)
        .stderr_has("--allow-public-unauthenticated")
        .stderr_has("LITTLE_SERVE_READ_TOKEN");
    p.file("secrets/empty", "\n");
    p.run(&["serve", "--read-token-file", "secrets/empty"])
        .code(1)
        .stderr_has("holds no token");

    let server = Server::start(
        &p,
        &[
            "--interval",
            "1s",
            "--no-stacks",
            "--read-token-file",
            "secrets/read-token",
        ],
    );
    assert_eq!(server.get("/healthz").0, 200);
    let (status, _) = server.get("/metrics");
    assert_eq!(status, 401);
    let get = |auth: &str, path: &str| {
        let mut s = TcpStream::connect(&server.address).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        raw
    };
    assert!(get("Bearer wrong", "/metrics").starts_with("HTTP/1.1 401"));
    let metrics = get("bearer r34d-t0ken", "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    // Nothing answers at the AWS endpoint: the runs fail and are counted, the server stays.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = get("BEARER r34d-t0ken", "/metrics");
        if text.lines().any(|l| {
            l.starts_with("little_audit_errors_total{reason=\"run_failed\"} ") && !l.ends_with(" 0")
        }) {
            assert!(text.contains("little_audit_last_error_timestamp_seconds "));
            break;
        }
        assert!(Instant::now() < deadline, "no counted error: {text}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(server.get("/readyz").0, 503);
    assert_eq!(server.get("/healthz").0, 200);
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
}

/// A moto server of this test's own, to stop and start again.
struct OwnEmulator {
    child: Child,
    port: u16,
}

impl OwnEmulator {
    fn start(port: u16) -> OwnEmulator {
        let child = crate::harness::spawn_moto(port);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        OwnEmulator { child, port }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_keeps_the_last_results_while_aws_is_unreachable_and_recovers() {
    // The shared emulator is left alone: this test stops and starts its own.
    let port = free_port();
    let moto = OwnEmulator::start(port);
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&config_for(&rt, &moto.endpoint(), "us-east-1"));
    registry_with_an_image(&rt, &ecr, "team/before");
    let p = TestProject::new().with_endpoint(&moto.endpoint());
    // Ready while the results are younger than 60 intervals: the failed runs below keep it.
    let server = Server::start(
        &p,
        &["--interval", "1s", "--no-stacks", "--stale-after", "60"],
    );
    server.wait_for("/readyz", "readiness", |s, _| s == 200);
    let before = parse_metrics(&server.get("/metrics").1);
    assert_eq!(
        value(
            &before,
            "aws_ecr_repository_info",
            &[("name", "team/before")]
        ),
        Some(1.0)
    );

    // The emulator goes away: runs fail, the last results stay, errors are counted.
    moto.stop();
    let failing = server.wait_for("/metrics", "a counted error", |_, b| {
        b.lines().any(|l| {
            l.starts_with("little_audit_errors_total{reason=\"run_failed\"} ") && !l.ends_with(" 0")
        })
    });
    let failing = parse_metrics(&failing);
    assert_eq!(
        value(
            &failing,
            "aws_ecr_repository_info",
            &[("name", "team/before")]
        ),
        Some(1.0),
        "the last good results are kept"
    );
    assert_eq!(server.get("/readyz").0, 200);
    let (status, report) = server.get("/report.json");
    assert_eq!(status, 200);
    assert!(report.contains("team/before"));

    // It comes back (empty, as a restarted emulator is): the next run succeeds.
    let moto = OwnEmulator::start(port);
    registry_with_an_image(&rt, &ecr, "team/after");
    let recovered = server.wait_for("/metrics", "recovery", |_, b| b.contains("team/after"));
    let recovered = parse_metrics(&recovered);
    assert_eq!(
        value(
            &recovered,
            "aws_ecr_repository_info",
            &[("name", "team/after")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &recovered,
            "aws_ecr_repository_info",
            &[("name", "team/before")]
        ),
        None
    );
    assert!(
        value(
            &recovered,
            "little_audit_errors_total",
            &[("reason", "run_failed")]
        )
        .unwrap()
            >= 1.0
    );
    let (code, log) = server.stop();
    assert_eq!(code, Some(0));
    assert!(log.contains("keeping the last good results"), "{log}");
    moto.stop();
}

/// The sample alert rules use only metrics that `little serve` exports (and
/// kube-state-metrics' `kube_pod_container_info` for the join).
#[test]
fn the_sample_alert_rules_use_exported_metrics() {
    let exported = [
        "aws_ecr_repository_count",
        "aws_ecr_repository_info",
        "aws_ecr_image_size_in_bytes",
        "aws_ecr_image_pushed_at_timestamp_seconds",
        "aws_ecr_image_scan_severity_count",
        "aws_ecr_image_scan_completed_at_timestamp_seconds",
        "little_audit_findings",
        "little_stack_status",
        "little_stack_drifted",
        "little_audit_last_success_timestamp_seconds",
        "little_audit_duration_seconds",
        "little_audit_errors_total",
        "little_aws_api_calls_total",
        "kube_pod_container_info",
    ];
    let text = std::fs::read_to_string(repo().join("deploy/prometheus/alerts.yml")).unwrap();
    let rules: Value = serde_norway::from_str(&text).unwrap();
    let mut seen = 0;
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let expr = rule["expr"].as_str().unwrap();
            assert!(rule["alert"].is_string() && rule["annotations"]["summary"].is_string());
            let names: Vec<&str> = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| {
                    w.starts_with("aws_ecr_") || w.starts_with("little_") || w.starts_with("kube_")
                })
                .collect();
            assert!(!names.is_empty(), "{expr}");
            for n in names {
                assert!(exported.contains(&n), "`{n}` in `{expr}` is not exported");
            }
            seen += 1;
        }
    }
    assert!(seen >= 8);
    let scrape: Value = serde_norway::from_str(
        &std::fs::read_to_string(repo().join("deploy/prometheus/scrape.yml")).unwrap(),
    )
    .unwrap();
    assert_eq!(scrape["scrape_configs"][0]["metrics_path"], "/metrics");
}

/// ecr_exporter's variables alone configure `little serve`: the address from APP_HOST and
/// APP_PORT, the interval in bare seconds, the registry, JSON logs; `/metrics` exports
/// ecr_exporter's series and `aws_ecr_repository_exporter_up 1`. A bad value is named.
#[test]
fn serve_takes_ecr_exporter_s_variables() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    registry_with_an_image(&rt, &ecr, "exporter/api");
    let p = TestProject::new().with_emulator(&emulator);
    p.file("little.yaml", "defaults:\n  region: us-east-1\n");
    let port = free_port().to_string();
    let server = Server::start_with_env(
        &p,
        &["--no-stacks"],
        &[
            ("APP_HOST", "127.0.0.1"),
            ("APP_PORT", &port),
            ("CACHE_REFRESH_INTERVAL", "1"),
            ("ECR_REGISTRY_ID", "123456789012"),
            ("LOG_LEVEL", "INFO"),
            ("LOG_FORMAT", "json"),
        ],
    );
    assert_eq!(server.address, format!("127.0.0.1:{port}"));
    let text = server.wait_for("/metrics/", "a good run", |s, b| {
        s == 200 && b.contains("aws_ecr_repository_exporter_up 1.0")
    });
    let samples = parse_metrics(&text);
    assert_eq!(
        value(&samples, "aws_ecr_repository_exporter_up", &[]),
        Some(1.0)
    );
    assert!(
        text.contains("# TYPE aws_ecr_repository_exporter_up gauge"),
        "{text}"
    );
    assert_eq!(
        value(
            &samples,
            "aws_ecr_repository_info",
            &[("name", "exporter/api"), ("registry_id", "123456789012")]
        ),
        Some(1.0)
    );
    // Every second: more runs follow within a few seconds.
    let runs = |b: &str| {
        value(
            &parse_metrics(b),
            "little_aws_api_calls_total",
            &[("operation", "ecr:DescribeRepositories")],
        )
        .unwrap_or(0.0)
    };
    let first = runs(&text);
    server.wait_for("/metrics", "a second run a second later", |_, b| {
        runs(b) > first
    });
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    // JSON logs: every line one object with the time, the level, the message and fields.
    let mut lines = 0;
    for line in log.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["timestamp"].as_str().unwrap().ends_with('Z'), "{line}");
        assert!(v["level"].is_string() && v["message"].is_string(), "{line}");
        assert!(v["fields"].is_object(), "{line}");
        lines += 1;
    }
    assert!(log.contains("audit run"), "{log}");
    assert!(lines >= 2, "{log}");

    // A registry that is neither the caller's nor an account of little.yaml is refused at
    // start, naming the variable; so is a bad value.
    let refused = p
        .command(
            p.path(),
            &["serve", "--no-stacks", "--listen", "127.0.0.1:0"],
        )
        .env("ECR_REGISTRY_ID", "999999999999")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("ECR_REGISTRY_ID `999999999999`"),
        "{stderr}"
    );
    assert!(stderr.contains("123456789012 (the caller's)"), "{stderr}");
    for (name, bad, expected) in [
        ("APP_PORT", "nine", "APP_PORT=`nine` is not a port number"),
        (
            "CACHE_REFRESH_INTERVAL",
            "soon",
            "(from CACHE_REFRESH_INTERVAL)",
        ),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: `LOUD` is not a log level"),
    ] {
        let out = p
            .command(p.path(), &["serve"])
            .env(name, bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}
