//! `little serve` as a server in this process, on loopback, with injected audits: the
//! schedule survives a panicking and a failing run, readiness follows the age of the last
//! good results, the connection limit and timeouts keep `/healthz` reachable, and the read
//! token guards the read endpoints. Every wait is bounded.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};

use super::*;
use crate::audit::model::{AuditReport, Checked};
use crate::testing::fake_aws::{FakeAws, FakeConnect};

/// A server started by [`start`], stopped by [`Running::stop`].
struct Running {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<()>>,
    _dir: tempfile::TempDir,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        let stopped = tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("the server stopped in time");
        stopped.unwrap().unwrap();
    }
}

fn good() -> AuditOutcome {
    AuditOutcome {
        report: AuditReport::new(1_790_000_000, Checked::default(), vec![], vec![]),
        registries: vec![],
        stacks: vec![],
    }
}

fn options(dir: &std::path::Path, project: &Project) -> ServeOptions {
    ServeOptions {
        listen: "127.0.0.1:0".into(),
        interval: Duration::from_millis(50),
        audit: AuditOptions {
            checks: vec![],
            remediate: false,
            all_accounts: false,
            account: None,
            org: false,
            reach: project.reach.clone(),
            stacks: false,
            drift: None,
            settings: crate::audit::ecr::EcrSettings::default(),
            now: 0,
        },
        state_file: dir.join("state/serve.json"),
        token: Some("api-secret".into()),
        read_token: None,
        allow_public_unauthenticated: false,
        limits: Limits::default(),
        stale_after: 3,
        registry: None,
        cors_origins: Vec::new(),
        image_in_use_series: false,
    }
}

/// Starts a server with `audit`, its options changed by `tweak`.
async fn try_start(
    audit: AuditFn,
    tweak: impl FnOnce(&mut ServeOptions),
) -> std::result::Result<Running, Error> {
    try_start_in(&[], audit, tweak).await
}

/// [`try_start`] in a project with these files besides its little.yaml (which they may
/// replace).
async fn try_start_in(
    files: &[(&str, &str)],
    audit: AuditFn,
    tweak: impl FnOnce(&mut ServeOptions),
) -> std::result::Result<Running, Error> {
    let (dir, project) = crate::testing::fake_aws::project(files);
    let connect: Arc<dyn Connect> = Arc::new(FakeConnect(FakeAws::new()));
    let mut options = options(dir.path(), &project);
    tweak(&mut options);
    let (stop, stopped) = oneshot::channel::<()>();
    let (listening, address) = oneshot::channel();
    let task = tokio::spawn(serve_with(
        project,
        connect,
        options,
        audit,
        async move {
            let _ = stopped.await;
        },
        move |a| {
            let _ = listening.send(a);
        },
    ));
    match address.await {
        Ok(address) => Ok(Running {
            address,
            stop,
            task,
            _dir: dir,
        }),
        Err(_) => Err(task.await.unwrap().unwrap_err()),
    }
}

async fn start(audit: AuditFn, tweak: impl FnOnce(&mut ServeOptions)) -> Running {
    try_start(audit, tweak).await.expect("the server starts")
}

/// One request (`Connection: close`); the status and the body. `auth`: the whole
/// Authorization header value.
async fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
) -> (u16, String) {
    let mut s = TcpStream::connect(address).await.unwrap();
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    s.write_all(
        format!("{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut raw))
        .await
        .expect("an answer within 20 s")
        .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if status == 401 {
        assert!(
            head.to_ascii_lowercase()
                .contains("www-authenticate: bearer"),
            "{head}"
        );
    }
    (status, body.to_owned())
}

async fn get(address: SocketAddr, path: &str) -> (u16, String) {
    request(address, "GET", path, None).await
}

/// Polls `path` until `ok` holds, for at most 30 s.
async fn wait_for(
    address: SocketAddr,
    path: &str,
    what: &str,
    ok: impl Fn(u16, &str) -> bool,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get(address, path).await;
        if ok(status, &body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "waited 30 s for {what}; last answer {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of an unlabelled sample.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// An audit whose run `n` waits until `gate` reaches `n`, then does what `script` says.
fn gated(
    gate: watch::Receiver<u64>,
    calls: Arc<AtomicU64>,
    script: fn(u64) -> Result<AuditOutcome>,
) -> AuditFn {
    Arc::new(move |_options| {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        let mut gate = gate.clone();
        Box::pin(async move {
            let _ = gate.wait_for(|g| *g >= n).await;
            script(n)
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_survives_a_panicking_and_a_failing_run() {
    let (open, gate) = watch::channel(0u64);
    let calls = Arc::new(AtomicU64::new(0));
    let audit = gated(gate, calls.clone(), |n| match n {
        2 => panic!("injected panic in audit run 2"),
        3 => Err(Error::Aws {
            operation: "ecr:DescribeRepositories".into(),
            message: "injected failure".into(),
        }),
        _ => Ok(good()),
    });
    let server = start(audit, |o| {
        o.interval = Duration::from_millis(500);
        o.stale_after = 2;
    })
    .await;
    let a = server.address;
    assert_eq!(get(a, "/readyz").await.0, 503);
    let up = |text: &str| sample(text, "aws_ecr_repository_exporter_up");
    assert_eq!(up(&get(a, "/metrics").await.1), Some(0.0), "no run yet");

    open.send_replace(1);
    wait_for(a, "/readyz", "readiness after run 1", |s, _| s == 200).await;
    let metrics = get(a, "/metrics").await.1;
    assert_eq!(up(&metrics), Some(1.0));
    assert_eq!(
        sample(&metrics, "little_audit_errors_total{reason=\"run_failed\"}"),
        Some(0.0)
    );
    assert_eq!(
        sample(&metrics, "little_audit_last_error_timestamp_seconds"),
        None
    );

    // Run 2 panics, run 3 fails; run 4 waits: each is counted, and the results of run 1
    // age until /readyz says so.
    open.send_replace(3);
    let metrics = wait_for(a, "/metrics", "two counted errors", |_, b| {
        sample(b, "little_audit_errors_total{reason=\"run_failed\"}") == Some(2.0)
    })
    .await;
    assert!(sample(&metrics, "little_audit_last_error_timestamp_seconds").unwrap() > 1.7e9);
    assert!(sample(&metrics, "little_audit_last_success_timestamp_seconds").unwrap() > 1.7e9);
    assert_eq!(up(&metrics), Some(0.0), "the last run failed");
    let unready = wait_for(a, "/readyz", "staleness", |s, _| s == 503).await;
    assert!(unready.contains("the last good audit ended"), "{unready}");
    assert_eq!(get(a, "/healthz").await.0, 200);
    let (status, report) = get(a, "/report.json").await;
    assert_eq!(status, 200, "the last good report is kept");
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["created_at"], 1_790_000_000);

    // Run 4 succeeds: ready again, and the schedule went on past the panic.
    open.send_replace(4);
    wait_for(a, "/readyz", "readiness after run 4", |s, _| s == 200).await;
    assert!(calls.load(Ordering::SeqCst) >= 4);
    let metrics = get(a, "/metrics").await.1;
    assert_eq!(
        sample(&metrics, "little_audit_errors_total{reason=\"run_failed\"}"),
        Some(2.0)
    );
    assert_eq!(up(&metrics), Some(1.0), "run 4 succeeded");
    open.send_replace(u64::MAX);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_that_failed_is_an_error_and_readiness_waits_for_a_good_run() {
    // Every run has an error in its report (a check that could not run): never ready.
    let (open, gate) = watch::channel(u64::MAX);
    let audit = gated(gate, Arc::new(AtomicU64::new(0)), |_| {
        let mut o = good();
        o.report.errors.push("ecr: access denied".into());
        Ok(o)
    });
    let server = start(audit, |_| {}).await;
    let a = server.address;
    wait_for(a, "/metrics", "a counted error", |_, b| {
        sample(b, "little_audit_errors_total{reason=\"run_failed\"}").is_some_and(|n| n >= 1.0)
    })
    .await;
    let (status, body) = get(a, "/readyz").await;
    assert_eq!(status, 503);
    assert!(body.contains("the first audit has not finished"), "{body}");
    assert_eq!(get(a, "/report").await.0, 503);
    drop(open);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_checks_and_remediations_are_counted_and_the_run_is_good() {
    use crate::audit::model::{Finding, NotChecked, Remediation, Severity};
    // Every run: one check that IAM kept from running, one remediated finding.
    let (_open, gate) = watch::channel(u64::MAX);
    let audit = gated(gate, Arc::new(AtomicU64::new(0)), |_| {
        let mut o = good();
        o.report.not_checked.push(NotChecked {
            check: "ecr.lifecycle".into(),
            permission: "ecr:GetLifecyclePolicy".into(),
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            reason: "IAM denied `ecr:GetLifecyclePolicy`".into(),
        });
        o.report.findings.push(Finding {
            check: "ecr.tag-immutability".into(),
            control: Some("ECR.2".into()),
            severity: Severity::High,
            resource: "team/api".into(),
            resource_type: "AWS::ECR::Repository".into(),
            arn: None,
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            message: "mutable".into(),
            remediation: Some(Remediation {
                action: "ecr:PutImageTagMutability".into(),
                before: "MUTABLE".into(),
                after: "IMMUTABLE".into(),
                applied: true,
            }),
        });
        Ok(o)
    });
    let server = start(audit, |_| {}).await;
    let a = server.address;
    // A denied check does not keep the server unready.
    wait_for(a, "/readyz", "readiness", |s, _| s == 200).await;
    let metrics = wait_for(a, "/metrics", "two runs counted", |_, b| {
        sample(b, "little_audit_errors_total{reason=\"access_denied\"}").is_some_and(|n| n >= 2.0)
    })
    .await;
    assert_eq!(
        sample(&metrics, "little_audit_errors_total{reason=\"run_failed\"}"),
        Some(0.0)
    );
    let denied = sample(
        &metrics,
        "little_audit_errors_total{reason=\"access_denied\"}",
    );
    let fixed = sample(
        &metrics,
        "little_audit_remediations_total{check=\"ecr.tag-immutability\"}",
    );
    // One of each per run (the metrics are rebuilt after each run's counts).
    assert_eq!(denied, fixed, "{metrics}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_limit_and_timeouts_keep_healthz_reachable() {
    let (_open, gate) = watch::channel(u64::MAX);
    let audit = gated(gate, Arc::new(AtomicU64::new(0)), |_| Ok(good()));
    let idle = Duration::from_millis(800);
    let server = start(audit, |o| {
        o.interval = Duration::from_secs(3600);
        o.limits = Limits {
            max_connections: 2,
            header_read_timeout: idle,
            idle_timeout: idle,
            body_timeout: idle,
        };
    })
    .await;
    let a = server.address;

    // Two silent connections take both slots; a third request waits for one of them to be
    // closed, and is then answered.
    let mut silent = Vec::new();
    for _ in 0..2 {
        silent.push(TcpStream::connect(a).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let (status, _) = get(a, "/healthz").await;
    let waited = started.elapsed();
    assert_eq!(status, 200);
    assert!(
        waited >= idle - Duration::from_millis(300),
        "answered in {waited:?}: the limit of 2 did not hold"
    );
    assert!(waited < Duration::from_secs(10), "waited {waited:?}");
    // The silent ones were closed by the server.
    for mut s in silent {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("the server closed the silent connection");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }

    // Many more connections than the limit, held open: /healthz still answers, in bounded
    // time, as the server closes idle ones.
    let mut crowd = Vec::new();
    for _ in 0..20 {
        crowd.push(TcpStream::connect(a).await.unwrap());
    }
    let started = Instant::now();
    let probe = tokio::spawn(async move { get(a, "/healthz").await });
    let (status, _) = tokio::time::timeout(Duration::from_secs(60), probe)
        .await
        .expect("/healthz answered within 60 s under 20 idle connections")
        .unwrap();
    assert_eq!(status, 200);
    // 20 idle connections through 2 slots, each held at most ~0.8 s: about 8 s.
    assert!(started.elapsed() < Duration::from_secs(30));
    drop(crowd);

    // A client that trickles its headers is cut off by the header timeout.
    let mut slow = TcpStream::connect(a).await.unwrap();
    let started = Instant::now();
    let mut closed = false;
    for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
        if slow.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !closed {
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut buf))
            .await
            .expect("the server cut the slow client off");
        // hyper answers 408 or just closes.
        match read {
            Ok(0) | Err(_) => {}
            Ok(n) => assert!(
                String::from_utf8_lossy(&buf[..n]).contains(" 408 "),
                "{}",
                String::from_utf8_lossy(&buf[..n])
            ),
        }
    }
    assert!(started.elapsed() < Duration::from_secs(15));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_token_guards_the_read_endpoints() {
    let (_open, gate) = watch::channel(u64::MAX);
    let audit = gated(gate, Arc::new(AtomicU64::new(0)), |_| Ok(good()));
    let server = start(audit, |o| o.read_token = Some("read-secret".into())).await;
    let a = server.address;
    // The probes stay open.
    assert_eq!(get(a, "/healthz").await.0, 200);
    wait_for(a, "/readyz", "readiness", |s, _| s == 200).await;
    for path in [
        "/metrics",
        "/report",
        "/report.json",
        "/configs",
        "/summary",
        "/findings/yaml-1",
    ] {
        assert_eq!(get(a, path).await.0, 401, "{path} without a token");
        assert_eq!(
            request(a, "GET", path, Some("Bearer wrong")).await.0,
            401,
            "{path} with a wrong token"
        );
        assert_eq!(
            request(a, "GET", path, Some("Basic cmVhZC1zZWNyZXQ="))
                .await
                .0,
            401,
            "{path} with another scheme"
        );
    }
    for auth in [
        "Bearer read-secret",
        "bearer read-secret",
        "BEARER   read-secret  ",
        // The API token may read too.
        "Bearer api-secret",
    ] {
        let (status, body) = request(a, "GET", "/report.json", Some(auth)).await;
        assert_eq!(status, 200, "{auth}: {body}");
        assert_eq!(request(a, "GET", "/metrics", Some(auth)).await.0, 200);
    }
    // The read token does not write; the API token's scheme is case-insensitive too.
    assert_eq!(
        request(a, "DELETE", "/configs/nope", Some("Bearer read-secret"))
            .await
            .0,
        401
    );
    assert_eq!(
        request(a, "DELETE", "/configs/nope", Some("bEaReR api-secret"))
            .await
            .0,
        404
    );
    // The report is the one built for the run.
    let (_, json) = request(a, "GET", "/report.json", Some("Bearer read-secret")).await;
    let latest = serde_json::to_string_pretty(&good().report).unwrap() + "\n";
    assert_eq!(json, latest);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listening_beyond_loopback_needs_a_read_token_or_the_flag() {
    let audit = || {
        gated(
            watch::channel(u64::MAX).1,
            Arc::new(AtomicU64::new(0)),
            |_| Ok(good()),
        )
    };
    let refused = try_start(audit(), |o| o.listen = "0.0.0.0:0".into())
        .await
        .err()
        .expect("refused");
    assert!(matches!(refused, Error::Refused(_)), "{refused}");
    let message = refused.to_string();
    assert!(
        message.contains("--allow-public-unauthenticated"),
        "{message}"
    );
    assert!(message.contains("LITTLE_SERVE_READ_TOKEN"), "{message}");

    let with_token = start(audit(), |o| {
        o.listen = "0.0.0.0:0".into();
        o.read_token = Some("r".into());
    })
    .await;
    with_token.stop().await;
    let allowed = start(audit(), |o| {
        o.listen = "0.0.0.0:0".into();
        o.allow_public_unauthenticated = true;
    })
    .await;
    allowed.stop().await;
    assert!(is_loopback(&"[::1]:9000".parse().unwrap()));
    assert!(is_loopback(&"[::ffff:127.0.0.1]:9000".parse().unwrap()));
    assert!(!is_loopback(&"[::]:9000".parse().unwrap()));
    assert!(!is_loopback(&"10.0.0.1:9000".parse().unwrap()));
}

/// One raw request; the status, the head (lower case) and the body.
async fn raw(address: SocketAddr, text: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(address).await.unwrap();
    s.write_all(text.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut answer))
        .await
        .expect("an answer within 20 s")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {answer:?}"));
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// A request with these extra header lines and body.
async fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String, String) {
    raw(
        address,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await
}

const API: &str = "Authorization: Bearer api-secret\r\n";

fn always_good() -> AuditFn {
    gated(
        watch::channel(u64::MAX).1,
        Arc::new(AtomicU64::new(0)),
        |_| Ok(good()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_with_and_without_a_trailing_slash() {
    let server = start_in_yaml(
        "defaults:\n  region: us-east-1\naudit:\n  scan_configs:\n    - repository: team/api\n",
        |_| {},
    )
    .await;
    let a = server.address;
    wait_for(a, "/readyz", "readiness", |s, _| s == 200).await;
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/report",
        "/report.json",
        "/configs",
        "/configs/yaml-1",
        "/summary",
        "/findings/yaml-1",
    ] {
        let (plain, _) = get(a, path).await;
        let (slashed, body) = get(a, &format!("{path}/")).await;
        assert_eq!(plain, 200, "{path}");
        assert_eq!(slashed, 200, "{path}/: {body}");
    }
    // Unknown ids and routes stay 404 either way; a wrong method is 405 either way.
    for path in [
        "/configs/nope",
        "/configs/nope/",
        "/findings/nope/",
        "/nowhere/",
        "/findings/",
    ] {
        assert_eq!(get(a, path).await.0, 404, "{path}");
    }
    for path in ["/summary/", "/configs/yaml-1/"] {
        let (status, head, _) = send(a, "PUT", path, API, "").await;
        assert_eq!(status, 405, "{path}");
        assert!(head.contains("allow: "), "{head}");
    }
    assert_eq!(get(a, "/").await.0, 404);

    // POST and DELETE with the slash, as the original's clients send them.
    let (status, head, body) = send(
        a,
        "POST",
        "/configs/",
        API,
        r#"{"repository": "team/web", "tags": ["latest"]}"#,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(head.contains(&format!("location: /configs/{id}")), "{head}");
    let (status, body) = get(a, &format!("/configs/{id}/")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        created
    );
    assert_eq!(get(a, &format!("/findings/{id}/")).await.0, 200);
    let (status, _, body) = send(a, "DELETE", &format!("/configs/{id}/"), API, "").await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(get(a, &format!("/configs/{id}")).await.0, 404);
    server.stop().await;
}

/// [`start`] with this little.yaml.
async fn start_in_yaml(yaml: &str, tweak: impl FnOnce(&mut ServeOptions)) -> Running {
    try_start_in(&[("little.yaml", yaml)], always_good(), tweak)
        .await
        .expect("the server starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configurations_carry_when_they_were_created() {
    let server = start_in_yaml(
        "defaults:\n  region: us-east-1\naudit:\n  scan_configs:\n    - repository: team/api\n",
        |_| {},
    )
    .await;
    let a = server.address;
    let before = crate::time::now();
    let (status, _, body) = send(a, "POST", "/configs", API, r#"{"repository": "team/web"}"#).await;
    assert_eq!(status, 201, "{body}");
    let (_, list) = get(a, "/configs").await;
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let configs = list["configs"].as_array().unwrap();
    assert_eq!(configs[0]["id"], "yaml-1");
    assert!(configs[0]["created"].is_null(), "declared in little.yaml");
    let created = configs[1]["created"].as_str().expect("created, as text");
    let at = crate::time::parse_rfc3339(created).expect("RFC 3339");
    assert!(
        at >= before as f64 - 1.0 && at <= crate::time::now() as f64 + 1.0,
        "{created}"
    );
    assert!(created.ends_with('Z'), "{created}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_answers_listed_origins_only() {
    let server = start(always_good(), |o| {
        o.cors_origins = vec!["https://dash.example.com".into()];
    })
    .await;
    let a = server.address;
    // A listed origin: its own name back (never `*`), and no credentials header.
    let (status, head, _) = send(
        a,
        "GET",
        "/configs",
        "Origin: https://dash.example.com\r\n",
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        head.contains("access-control-allow-origin: https://dash.example.com"),
        "{head}"
    );
    assert!(head.contains("vary: origin"), "{head}");
    assert!(!head.contains("access-control-allow-credentials"), "{head}");
    // Another origin: no CORS header; the answer itself is unchanged.
    let (status, head, _) = send(
        a,
        "GET",
        "/configs",
        "Origin: https://evil.example.com\r\n",
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert!(!head.contains("access-control-allow-origin"), "{head}");
    // Preflights: the listed origin gets the route's methods, with or without the slash.
    for path in ["/configs", "/configs/"] {
        let (status, head, _) = send(
            a,
            "OPTIONS",
            path,
            "Origin: https://dash.example.com\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type\r\n",
            "",
        )
        .await;
        assert_eq!(status, 204, "{path}: {head}");
        assert!(
            head.contains("access-control-allow-origin: https://dash.example.com"),
            "{head}"
        );
        assert!(
            head.contains("access-control-allow-methods: get, post"),
            "{head}"
        );
        assert!(
            head.contains("access-control-allow-headers: authorization, content-type"),
            "{head}"
        );
        assert!(head.contains("access-control-max-age: 600"), "{head}");
    }
    let (status, head, _) = send(
        a,
        "OPTIONS",
        "/configs/abc",
        "Origin: https://dash.example.com\r\nAccess-Control-Request-Method: DELETE\r\n",
        "",
    )
    .await;
    assert_eq!(status, 204);
    assert!(
        head.contains("access-control-allow-methods: get, delete"),
        "{head}"
    );
    // An unlisted origin's preflight: 403, saying which are allowed.
    let (status, head, body) = send(
        a,
        "OPTIONS",
        "/configs",
        "Origin: https://evil.example.com\r\nAccess-Control-Request-Method: POST\r\n",
        "",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(!head.contains("access-control-allow-origin"), "{head}");
    assert!(body.contains("https://dash.example.com"), "{body}");
    // A preflight for no route: 404.
    let (status, _, _) = send(
        a,
        "OPTIONS",
        "/nowhere",
        "Origin: https://dash.example.com\r\nAccess-Control-Request-Method: GET\r\n",
        "",
    )
    .await;
    assert_eq!(status, 404);
    server.stop().await;

    // CORS off (no origin listed): no header, and a preflight is refused naming the option.
    let server = start(always_good(), |_| {}).await;
    let a = server.address;
    let (status, head, _) = send(
        a,
        "GET",
        "/healthz",
        "Origin: https://dash.example.com\r\n",
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        !head.contains("access-control-") && !head.contains("vary: origin"),
        "{head}"
    );
    let (status, _, body) = send(
        a,
        "OPTIONS",
        "/configs",
        "Origin: https://dash.example.com\r\nAccess-Control-Request-Method: POST\r\n",
        "",
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("--cors-origin"), "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_configs_accepts_only_registries_this_server_can_reach() {
    // No default account: the caller's account (the fake's 123456789012) is the default.
    let server = start_in_yaml(
        "defaults:\n  region: us-east-1\naccounts:\n  prod:\n    id: \"111111111111\"\n",
        |_| {},
    )
    .await;
    let a = server.address;
    let post = |registry: &'static str| async move {
        let body = format!(r#"{{"repository": "team/web", "registry": "{registry}"}}"#);
        send(a, "POST", "/configs", API, &body).await
    };
    // An account of little.yaml is known before any run.
    assert_eq!(post("111111111111").await.0, 201);
    wait_for(a, "/readyz", "readiness", |s, _| s == 200).await;
    // The caller's, once a run found it out.
    let (status, _, body) = post("123456789012").await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) = post("999999999999").await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("`registry`: `999999999999`"), "{body}");
    assert!(body.contains("111111111111 (prod)"), "{body}");
    assert!(body.contains("123456789012 (the caller's)"), "{body}");
    // Malformed: the 400 of the field, as before.
    let (status, _, body) = post("12345").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("12-digit"), "{body}");
    let (_, list) = get(a, "/configs").await;
    assert!(!list.contains("999999999999"), "{list}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_is_neither_the_caller_s_nor_of_little_yaml_is_refused_at_start() {
    let chosen = |id: &str| settings::Chosen {
        value: id.to_owned(),
        source: "ECR_REGISTRY_ID".to_owned(),
    };
    let yaml = "defaults:\n  region: us-east-1\naccounts:\n  prod:\n    id: \"111111111111\"\n";
    let e = try_start_in(&[("little.yaml", yaml)], always_good(), |o| {
        o.registry = Some(chosen("999999999999"));
    })
    .await
    .err()
    .expect("refused");
    assert!(matches!(e, Error::Usage(_)), "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with("ECR_REGISTRY_ID `999999999999`: "),
        "{text}"
    );
    assert!(
        text.contains("111111111111 (prod), 123456789012 (the caller's)"),
        "{text}"
    );
    // The caller's, and an account of little.yaml: served.
    for id in ["123456789012", "111111111111"] {
        let server = try_start_in(&[("little.yaml", yaml)], always_good(), |o| {
            o.registry = Some(chosen(id));
        })
        .await
        .expect("the server starts");
        wait_for(server.address, "/readyz", "readiness", |s, _| s == 200).await;
        server.stop().await;
    }
}
