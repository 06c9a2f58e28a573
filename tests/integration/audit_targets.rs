//! Where the audit's results go and how far it reaches, through the binary on the emulator:
//! the SARIF output validated against the SARIF 2.1.0 JSON schema; `--notify` to an SNS topic
//! (read back through an SQS subscription) and to a webhook on loopback; `--accounts` across
//! two accounts through their roles; `-v` counting API calls per operation.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ecr::types::ImageTagMutability;
use tokio::runtime::Runtime;

use crate::cfn::emulator_config;
use crate::harness::{node_tool, repo, Emulator, TestProject};

fn create_mutable(rt: &Runtime, config: &aws_config::SdkConfig, name: &str) {
    let ecr = aws_sdk_ecr::Client::new(config);
    rt.block_on(
        ecr.create_repository()
            .repository_name(name)
            .image_tag_mutability(ImageTagMutability::Mutable)
            .send(),
    )
    .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

/// The project's Python on `script`: (success, stdout and stderr).
fn python(script: &str, args: &[&str], input: &str) -> (bool, String) {
    let out = crate::harness::python(script, args, input);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    create_mutable(&rt, &emulator_config(&rt, &emulator), "team/mutable");
    let p = TestProject::new().with_emulator(&emulator);
    let out = p.run(&["audit", "--no-stacks", "--format", "sarif"]);
    out.code(2);
    // The schema comes through npm: without Node.js (and outside CI) the check is skipped.
    let Some(schema) = node_tool(
        repo().join(".venv/share/sarif-schema-2.1.0.json"),
        "the SARIF 2.1.0 schema check",
        false,
    ) else {
        return;
    };
    let (ok, text) = python(
        "import json, sys, jsonschema\n\
         schema = json.load(open(sys.argv[1]))\n\
         doc = json.load(sys.stdin)\n\
         cls = jsonschema.validators.validator_for(schema)\n\
         cls.check_schema(schema)\n\
         errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.path))\n\
         for e in errors: print('/'.join(map(str, e.path)), e.message)\n\
         print(len(doc['runs'][0]['results']), 'results,', len(errors), 'errors')\n\
         sys.exit(1 if errors else 0)",
        &[schema.to_str().unwrap()],
        &out.stdout,
    );
    assert!(ok, "the SARIF does not validate:\n{text}");
    assert!(!text.starts_with("0 results"), "{text}");

    // A schema check that cannot fail proves nothing: a broken document must fail it.
    let mut broken: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    broken["runs"][0]["results"][0]["level"] = "severe".into();
    let (ok, text) = python(
        "import json, sys, jsonschema\n\
         schema = json.load(open(sys.argv[1]))\n\
         cls = jsonschema.validators.validator_for(schema)\n\
         sys.exit(1 if list(cls(schema).iter_errors(json.load(sys.stdin))) else 0)",
        &[schema.to_str().unwrap()],
        &broken.to_string(),
    );
    assert!(!ok, "a wrong level passed the schema: {text}");
}

/// A webhook receiver on loopback: answers each request with the next status of `statuses`
/// (the last one repeats) and sends each request's line and body down the channel.
fn webhook(statuses: Vec<u16>) -> (String, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/services/T000/B000/secret-token",
        listener.local_addr().unwrap()
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).unwrap();
            let status = *statuses.get(i).or(statuses.last()).unwrap();
            let _ = tx.send((
                request_line.trim().to_owned(),
                String::from_utf8_lossy(&body).into_owned(),
            ));
            let reply = if status == 200 { "ok" } else { "no_service" };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (url, rx)
}

/// An SNS topic with an SQS queue subscribed to it, to read what is published: (topic ARN,
/// queue URL).
pub fn topic_with_inbox(
    rt: &Runtime,
    config: &aws_config::SdkConfig,
    topic: &str,
    queue: &str,
) -> (String, String) {
    let sns = aws_sdk_sns::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);
    rt.block_on(async {
        let topic = sns
            .create_topic()
            .name(topic)
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        let queue_url = sqs
            .create_queue()
            .queue_name(queue)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
            .clone();
        sns.subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .unwrap();
        (topic, queue_url)
    })
}

#[test]
fn notify_sends_the_non_compliant_repositories_to_sns_and_a_webhook() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    create_mutable(&rt, &config, "team/mutable");
    // The topic, with a queue subscribed to it to read what was published.
    let sqs = aws_sdk_sqs::Client::new(&config);
    let (topic, queue_url) = topic_with_inbox(&rt, &config, "audit", "audit-inbox");
    let (url, bodies) = webhook(vec![200]);
    let p = TestProject::new().with_emulator(&emulator);
    p.file(
        "little.yaml",
        &format!(
            "defaults:\n  region: us-east-1\naudit:\n  notify:\n    sns_topic_arn: {topic}\n    webhooks:\n      - url: {url}\n        format: slack\n"
        ),
    );
    let out = p.run(&[
        "audit",
        "--no-stacks",
        "--check",
        "ecr.tag-immutability",
        "--notify",
        "-v",
    ]);
    out.code(2)
        .stderr_has("notification sent: SNS topic")
        .stderr_has("notification sent: webhook http://127.0.0.1:")
        .stderr_has("AWS API calls:")
        .stderr_has("ecr:DescribeRepositories")
        .stderr_has("sns:Publish");
    assert!(
        !out.stderr.contains("secret-token"),
        "the webhook URL is a secret: {}",
        out.stderr
    );
    // -v counts calls per operation: one Publish.
    let publish = out
        .stderr
        .lines()
        .find(|l| l.contains("sns:Publish"))
        .unwrap();
    assert!(publish.trim_end().ends_with(" 1"), "{publish}");

    let (line, slack) = bodies.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(line, "POST /services/T000/B000/secret-token HTTP/1.1");
    let body: serde_json::Value = serde_json::from_str(&slack).unwrap();
    assert_eq!(
        body["text"],
        "little audit: 1 non-compliant repository in 123456789012 (us-east-1)"
    );
    // Repository text in a plain_text object: no mrkdwn is applied to it.
    assert_eq!(
        body["attachments"][0]["blocks"][2]["text"]["type"],
        "plain_text"
    );
    let item = body["attachments"][0]["blocks"][2]["text"]["text"]
        .as_str()
        .unwrap();
    assert!(item.starts_with("team/mutable\nregistry: 123456789012 · region: us-east-1 · remediated: no\n• HIGH ecr.tag-immutability"), "{item}");

    let message = rt.block_on(async {
        sqs.receive_message()
            .queue_url(&queue_url)
            .wait_time_seconds(2)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default()
    });
    assert_eq!(message.len(), 1, "one SNS message");
    let envelope: serde_json::Value =
        serde_json::from_str(message[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(
        envelope["Subject"],
        "little audit: 1 non-compliant repository in 123456789012 (us-east-1)"
    );
    let text = envelope["Message"].as_str().unwrap();
    assert!(text.contains("\nteam/mutable\n  registry: 123456789012\n  region: us-east-1\n  remediated: no\n  - HIGH ecr.tag-immutability"), "{text}");

    // With --remediate the notification says so; every finding was remediated: exit 0.
    let fixed = p.run(&[
        "audit",
        "--no-stacks",
        "--check",
        "ecr.tag-immutability",
        "--notify",
        "--remediate",
    ]);
    fixed.code(0);
    let (_, slack) = bodies.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(slack.contains("remediated: yes"), "{slack}");
    assert!(
        slack.contains("(remediated: MUTABLE -&gt; IMMUTABLE)"),
        "{slack}"
    );

    // No findings: nothing is sent.
    let clean = p.run(&[
        "audit",
        "--no-stacks",
        "--check",
        "ecr.tag-immutability",
        "--notify",
    ]);
    clean.success().stderr_has("notification: nothing to send");
    assert!(bodies.recv_timeout(Duration::from_millis(300)).is_err());
}

#[test]
fn a_failing_webhook_is_retried_then_reported() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    create_mutable(&rt, &emulator_config(&rt, &emulator), "team/mutable");
    let (url, bodies) = webhook(vec![503, 500, 500]);
    let p = TestProject::new().with_emulator(&emulator);
    p.file(
        "little.yaml",
        "defaults:\n  region: us-east-1\naudit:\n  notify:\n    webhooks:\n      - url_env: LITTLE_TEST_WEBHOOK\n        format: teams\n",
    );
    // The variable is unset: a clear error before any AWS call.
    p.run(&["audit", "--no-stacks", "--notify"])
        .code(1)
        .stderr_has(
            "`audit.notify.webhooks[0].url_env` names `LITTLE_TEST_WEBHOOK`, which is not set",
        );
    let out = {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_little"));
        cmd.current_dir(p.path())
            .args(["audit", "--no-stacks", "--notify", "--fail-on", "CRITICAL"])
            .env("LITTLE_TEST_WEBHOOK", &url)
            .env("AWS_ENDPOINT_URL", &emulator.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("NO_COLOR", "1");
        cmd.output().unwrap()
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("notification: the webhook at http://127.0.0.1:")
            && stderr.contains("HTTP 500"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret-token"), "{stderr}");
    let attempts: Vec<(String, String)> = bodies.try_iter().collect();
    assert_eq!(attempts.len(), 3, "three attempts");
    assert!(attempts[0]
        .1
        .contains("application/vnd.microsoft.card.adaptive"));
}

/// Credentials of a role in another account, as moto hands them out: calls made with them
/// act in that account.
fn as_account(rt: &Runtime, emulator: &Emulator, account: &str) -> aws_config::SdkConfig {
    let base = emulator_config(rt, emulator);
    let sts = aws_sdk_sts::Client::new(&base);
    let creds = rt
        .block_on(
            sts.assume_role()
                .role_arn(format!("arn:aws:iam::{account}:role/audit"))
                .role_session_name("setup")
                .send(),
        )
        .unwrap()
        .credentials
        .unwrap();
    base.into_builder()
        .credentials_provider(SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new(
                creds.access_key_id,
                creds.secret_access_key,
                Some(creds.session_token),
                None,
                "assumed",
            ),
        ))
        .build()
}

#[test]
fn accounts_are_audited_through_their_roles_and_labelled() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    create_mutable(&rt, &as_account(&rt, &emulator, "111111111111"), "team/a");
    create_mutable(&rt, &as_account(&rt, &emulator, "222222222222"), "team/b");
    let p = TestProject::new().with_emulator(&emulator);
    p.file(
        "little.yaml",
        "defaults:\n  region: us-east-1\n  account: tools\naccounts:\n  tools:\n    id: 111111111111\n    role_arn: arn:aws:iam::111111111111:role/audit\n  prod:\n    id: 222222222222\n    role_arn: arn:aws:iam::222222222222:role/audit\n",
    );
    let pairs = |out: &crate::harness::Output| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = out.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["account"].as_str().unwrap().to_owned(),
                    f["resource"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let one = p.run(&[
        "audit",
        "--no-stacks",
        "--check",
        "ecr.tag-immutability",
        "--format",
        "json",
    ]);
    one.code(2);
    assert_eq!(pairs(&one), [("111111111111".into(), "team/a".into())]);

    let all = p.run(&[
        "audit",
        "--accounts",
        "--no-stacks",
        "--check",
        "ecr.tag-immutability",
        "--format",
        "json",
    ]);
    all.code(2);
    assert_eq!(
        pairs(&all),
        [
            ("111111111111".into(), "team/a".into()),
            ("222222222222".into(), "team/b".into())
        ]
    );
    for f in all.json()["findings"].as_array().unwrap() {
        assert_eq!(f["region"], "us-east-1");
        assert!(f["arn"]
            .as_str()
            .unwrap()
            .contains(f["account"].as_str().unwrap()));
    }
    let text = p.run(&[
        "audit",
        "--accounts",
        "--no-stacks",
        "--check",
        "ecr.tag-immutability",
    ]);
    text.code(2)
        .stdout_has("111111111111")
        .stdout_has("222222222222");
}
