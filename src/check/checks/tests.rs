//! Unit tests of the image checks, one function per check, on images built in the test.

use super::*;
use crate::check::facts::{below, day_number, history, split_command, version_numbers, wrap};
use crate::check::image::{HistoryEntry, ImageConfig, RunConfig};
use crate::check::layers::FileView;
use crate::check::redact::Redactor;
use crate::check::rules::*;

fn facts(
    user: Option<&str>,
    env: &[&str],
    labels: &[(&str, &str)],
    files: &[(&str, &str)],
) -> ImageFacts {
    let mut view = FileView::default();
    for (p, c) in files {
        view.files.insert((*p).into(), c.as_bytes().to_vec());
    }
    ImageFacts {
        config: ImageConfig {
            config: RunConfig {
                user: user.map(str::to_owned),
                env: Some(env.iter().map(|e| (*e).to_owned()).collect()),
                labels: Some(labels.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()),
                ..RunConfig::default()
            },
            history: vec![HistoryEntry {
                created_by: Some("/bin/sh -c apt-get update && apt-get install -y curl; rm -rf /var/lib/apt/lists/*".into()),
                ..HistoryEntry::default()
            }],
            ..ImageConfig::default()
        },
        layer_sizes: vec![10, 20],
        files: view,
    }
}

fn run(
    checks: &Checks,
    facts: &ImageFacts,
    today: i64,
) -> std::result::Result<(Vec<CheckResult>, Facts), String> {
    let redactor = Redactor::new(&checks.secrets).unwrap();
    run_checks(checks, facts, today, &redactor)
}

fn outcome<'a>(results: &'a [CheckResult], id: &str) -> &'a CheckResult {
    results.iter().find(|r| r.id == id).unwrap()
}

#[test]
fn a_clean_image_passes() {
    let mut checks = Checks::default();
    checks
        .labels
        .required
        .insert("owner_team".into(), "^[a-z-]+$".into());
    let f = facts(
        Some("app"),
        &["PATH=/usr/bin", "JAVA_VERSION=jdk-21.0.2+13"],
        &[("owner_team", "platform")],
        &[
            (
                "etc/passwd",
                "root:x:0:0::/root:/bin/sh\napp:x:10001:10001::/app:/bin/false\n",
            ),
            (
                "etc/os-release",
                "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
            ),
        ],
    );
    let (results, facts) = run(&checks, &f, day_number("2026-11-29").unwrap()).unwrap();
    for r in &results {
        assert_eq!(r.outcome, Outcome::Pass, "{r:?}");
    }
    assert_eq!(facts.user, "app");
    assert_eq!(facts.os.unwrap().version, "12");
    assert_eq!(facts.runtimes["java"], "jdk-21.0.2+13 (JAVA_VERSION)");
    assert_eq!(
        outcome(&results, "non_root").summary,
        "runs as `app` (uid 10001)"
    );
}

#[test]
fn each_violation_is_found() {
    let mut checks = Checks::default();
    checks
        .labels
        .required
        .insert("owner_team".into(), "^[a-z-]+$".into());
    checks.labels.required.insert("version".into(), ".*".into());
    checks.os.end_of_life.push(EndOfLife {
        id: "debian".into(),
        version: "10".into(),
        date: "2024-06-30".into(),
    });
    checks.runtimes.minimum.insert("java".into(), "17".into());
    checks.size.max_layers = 1;
    let f = facts(
        None,
        &[
            "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
            "DB_PASSWORD=hunter2",
            "CONFIG_FILE=/etc/x",
        ],
        &[("owner_team", "Platform Team")],
        &[
            ("etc/os-release", "ID=debian\nVERSION_ID=\"10\"\n"),
            ("opt/java/openjdk/release", "JAVA_VERSION=\"11.0.22\"\n"),
        ],
    );
    let (results, facts) = run(&checks, &f, day_number("2026-11-29").unwrap()).unwrap();
    let labels = outcome(&results, "labels");
    assert_eq!(labels.outcome, Outcome::Fail);
    assert_eq!(
        labels.details,
        [
            "label `owner_team` is `Platform Team`, which does not match `^[a-z-]+$`",
            "label `version` is missing",
        ]
    );
    assert_eq!(outcome(&results, "non_root").outcome, Outcome::Fail);
    let secrets = outcome(&results, "secrets");
    assert_eq!(secrets.outcome, Outcome::Fail);
    assert_eq!(secrets.details, [
        "environment variable `AWS_ACCESS_KEY_ID` holds an AWS access key id: [redacted AWS access key id, 20 characters]",
        "environment variable `DB_PASSWORD` is set to a value: [redacted secret, 7 characters]",
    ]);
    assert!(!facts
        .env
        .iter()
        .any(|(_, v)| v.contains("EXAMPLE") || v == "hunter2"));
    let os = outcome(&results, "os");
    assert_eq!(os.outcome, Outcome::Warn);
    assert!(os.summary.contains("reached its end of life on 2024-06-30"));
    let rt = outcome(&results, "runtimes");
    assert_eq!(rt.outcome, Outcome::Warn);
    assert_eq!(
        rt.details,
        ["java 11.0.22 (from /opt/java/openjdk/release) is older than 17"]
    );
    assert_eq!(outcome(&results, "size").outcome, Outcome::Warn);
}

#[test]
fn secrets_in_the_build_history() {
    let mut f = facts(Some("1000"), &[], &[], &[]);
    f.config.history.push(HistoryEntry {
        created_by: Some("|1 NPM_TOKEN=npm_abcdefgh /bin/sh -c npm ci".into()),
        ..HistoryEntry::default()
    });
    f.config.history.push(HistoryEntry {
        created_by: Some(
            "/bin/sh -c echo ghp_0123456789abcdefghijklmnopqrstuvwxyz > /root/.token".into(),
        ),
        ..HistoryEntry::default()
    });
    let (results, _) = run(&Checks::default(), &f, 0).unwrap();
    assert_eq!(
        outcome(&results, "secrets").details,
        [
            "build step 2 sets `NPM_TOKEN` to a value: [redacted secret, 12 characters]",
            "build step 3 holds a GitHub token: [redacted GitHub token, 40 characters]",
        ]
    );
}

#[test]
fn the_details_of_a_check_are_capped() {
    let env: Vec<String> = (0..120).map(|i| format!("TOKEN_{i}=v{i}")).collect();
    let env: Vec<&str> = env.iter().map(String::as_str).collect();
    let (results, facts) = run(&Checks::default(), &facts(None, &env, &[], &[]), 0).unwrap();
    let secrets = outcome(&results, "secrets");
    assert_eq!(secrets.summary, "120 possible secrets");
    assert_eq!(secrets.details.len(), MAX_DETAILS + 1);
    assert_eq!(secrets.details[MAX_DETAILS], "and 70 more");
    assert_eq!(facts.env.len(), 120);
}

#[test]
fn history_is_split_and_wrapped() {
    let f = facts(None, &[], &[], &[]);
    let steps = history(&f.config, &Redactor::new(&SecretsCheck::default()).unwrap());
    assert_eq!(
        steps[0].lines,
        [
            "apt-get update",
            "apt-get install -y curl",
            "rm -rf /var/lib/apt/lists/*"
        ]
    );
    let long = format!("echo {}", "word ".repeat(40));
    let wrapped = wrap(long.trim(), 40);
    assert!(
        wrapped.iter().all(|l| l.chars().count() <= 40),
        "{wrapped:?}"
    );
    assert!(wrapped[1].starts_with("    "));
    assert_eq!(split_command("echo 'a && b'; ls"), ["echo 'a && b'", "ls"]);
}

#[test]
fn versions_compare_by_their_numbers() {
    assert!(below("11.0.22", "17"));
    assert!(!below("17.0.1", "17"));
    assert!(below("3.8.10", "3.9"));
    assert!(!below("20.11.0", "18"));
    assert_eq!(version_numbers("jdk-21.0.2+13"), [21, 0, 2]);
    assert_eq!(day_number("1970-01-01"), Some(0));
    assert_eq!(day_number("2024-03-01"), Some(19_783));
    assert_eq!(day_number("2024-13-01"), None);
}

#[test]
fn a_bad_pattern_is_named() {
    let mut checks = Checks::default();
    checks.labels.required.insert("team".into(), "([".into());
    let e = run(&checks, &facts(None, &[], &[], &[]), 0).unwrap_err();
    assert!(
        e.starts_with("`check.checks.labels.required.team`: `([` is not a regular expression"),
        "{e}"
    );
}
