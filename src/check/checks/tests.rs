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
        warn_from: None,
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
    // Past its end of life: `fail`, the second tier (the default severity).
    assert_eq!(os.outcome, Outcome::Fail);
    assert!(os.summary.contains("reached its end of life on 2024-06-30"));
    assert_eq!(
        os.details,
        ["debian 10: end of life 2024-06-30 (from check.checks.os.end_of_life)"]
    );
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

fn os_facts(release: &str) -> ImageFacts {
    facts(Some("app"), &[], &[], &[("etc/os-release", release)])
}

#[test]
fn the_os_rule_has_two_tiers_and_a_built_in_table() {
    let checks = Checks::default();
    let alpine = os_facts("ID=alpine\nVERSION_ID=3.21.2\nPRETTY_NAME=\"Alpine Linux v3.21\"\n");
    let day = |d: &str| day_number(d).unwrap();
    let os = |checks: &Checks, f: &ImageFacts, today: &str| {
        let (r, _) = run(checks, f, day(today)).unwrap();
        outcome(&r, "os").clone()
    };
    // The built-in table: Alpine 3.21 ends on 2026-11-01.
    let r = os(&checks, &alpine, "2026-06-01");
    assert_eq!(r.outcome, Outcome::Pass, "{r:?}");
    assert_eq!(
        r.summary,
        "Alpine Linux v3.21 is supported until 2026-11-01"
    );
    assert_eq!(
        r.details,
        ["alpine 3.21: end of life 2026-11-01 (from the built-in end-of-life table)"]
    );
    let r = os(&checks, &alpine, "2026-10-01");
    assert_eq!(r.outcome, Outcome::Warn, "within warn_days (90): {r:?}");
    assert_eq!(
        r.summary,
        "Alpine Linux v3.21 reaches its end of life on 2026-11-01 (in 31 days)"
    );
    assert_eq!(os(&checks, &alpine, "2026-11-01").outcome, Outcome::Fail);
    // A row of little.yaml wins, with its own warning date.
    let mut mine = Checks::default();
    mine.os.end_of_life.push(EndOfLife {
        id: "alpine".into(),
        version: "3.21".into(),
        date: "2027-01-31".into(),
        warn_from: Some("2026-05-01".into()),
    });
    assert_eq!(os(&mine, &alpine, "2026-04-30").outcome, Outcome::Pass);
    assert_eq!(os(&mine, &alpine, "2026-05-01").outcome, Outcome::Warn);
    assert_eq!(os(&mine, &alpine, "2026-11-01").outcome, Outcome::Warn);
    assert_eq!(os(&mine, &alpine, "2027-01-31").outcome, Outcome::Fail);
    mine.os.severity = Level::Warn;
    assert_eq!(os(&mine, &alpine, "2027-01-31").outcome, Outcome::Warn);
    // Without the built-in table an OS not in little.yaml's is not judged.
    let mut bare = Checks::default();
    bare.os.default_table = false;
    let r = os(&bare, &alpine, "2030-01-01");
    assert_eq!(r.outcome, Outcome::Pass);
    assert!(r.summary.contains("not in the end-of-life table"), "{r:?}");
    // Amazon Linux 2 and 2023, Ubuntu and UBI are in the table.
    for (release, today, want) in [
        (
            "ID=\"amzn\"\nVERSION_ID=\"2\"\n",
            "2026-07-01",
            Outcome::Fail,
        ),
        (
            "ID=\"amzn\"\nVERSION_ID=\"2023\"\n",
            "2026-07-01",
            Outcome::Pass,
        ),
        (
            "ID=ubuntu\nVERSION_ID=\"20.04\"\n",
            "2026-07-01",
            Outcome::Fail,
        ),
        (
            "ID=ubuntu\nVERSION_ID=\"22.04\"\n",
            "2027-04-01",
            Outcome::Warn,
        ),
        (
            "ID=\"rhel\"\nVERSION_ID=\"8.9\"\n",
            "2026-07-01",
            Outcome::Pass,
        ),
        (
            "ID=\"rhel\"\nVERSION_ID=\"7.9\"\n",
            "2026-07-01",
            Outcome::Fail,
        ),
    ] {
        let r = os(&checks, &os_facts(release), today);
        assert_eq!(r.outcome, want, "{release} on {today}: {r:?}");
    }
    // A bad date in little.yaml is an error naming it, even when its row does not match.
    mine.os.end_of_life[0].warn_from = Some("May 1st".into());
    let e = run(&mine, &os_facts("ID=debian\nVERSION_ID=12\n"), 0).unwrap_err();
    assert_eq!(
        e,
        "`check.checks.os.end_of_life`: the warn_from `May 1st` for alpine 3.21 is not a date (YYYY-MM-DD)"
    );
}

#[test]
fn efficiency_is_judged_from_the_wasted_bytes() {
    let limits = crate::check::limits::Limits::default();
    let mut f = facts(Some("app"), &[], &[], &[]);
    f.files.entries = 3;
    f.files.waste.begin_layer();
    f.files.waste.file("srv/data.bin", 3000, &limits);
    f.files.waste.file("srv/app", 1000, &limits);
    f.files.waste.begin_layer();
    f.files.waste.whiteout("srv/data.bin");
    let (r, facts_out) = run(&Checks::default(), &f, 0).unwrap();
    let e = outcome(&r, "efficiency");
    assert_eq!(e.outcome, Outcome::Warn);
    assert_eq!(
        e.summary,
        "25.0% efficient: 2.9 KiB of 3.9 KiB of files wasted (overwritten or deleted by a later layer)"
    );
    assert_eq!(e.details, ["25.0% is below the minimum of 80%"]);
    let eff = facts_out.efficiency.unwrap();
    assert_eq!((eff.file_bytes, eff.wasted_bytes), (4000, 3000));
    assert_eq!(eff.percent, 25.0);
    let mut checks = Checks::default();
    checks.efficiency.min_percent = 20;
    checks.efficiency.severity = Level::Fail;
    let (r, _) = run(&checks, &f, 0).unwrap();
    assert_eq!(outcome(&r, "efficiency").outcome, Outcome::Pass);
    checks.efficiency.max_wasted_bytes = Some(2999);
    let (r, _) = run(&checks, &f, 0).unwrap();
    let e = outcome(&r, "efficiency");
    assert_eq!(e.outcome, Outcome::Fail);
    assert_eq!(e.details, ["2.9 KiB wasted is more than 2.9 KiB"]);
    checks.efficiency.min_percent = 101;
    assert_eq!(
        run(&checks, &f, 0).unwrap_err(),
        "`check.checks.efficiency.min_percent` is 101; it is a percentage (0 to 100)"
    );
}

#[test]
fn libraries_older_than_their_rules_are_found() {
    use crate::check::jar::Library;
    let lib = |group: Option<&str>, name: &str, version: &str, path: &str| Library {
        group: group.map(str::to_owned),
        name: name.into(),
        version: version.into(),
        path: path.into(),
    };
    let mut f = facts(Some("app"), &[], &[], &[]);
    f.files.libraries.insert(
        "app/app.jar".into(),
        (
            1,
            vec![
                lib(
                    Some("org.apache.logging.log4j"),
                    "log4j-core",
                    "2.14.1",
                    "/app/app.jar",
                ),
                lib(
                    None,
                    "reactivemongo_2.12",
                    "0.12.7",
                    "/app/app.jar!/lib/reactivemongo_2.12-0.12.7.jar",
                ),
                lib(Some("com.example"), "log4j-core", "1.0", "/app/other.jar"),
            ],
        ),
    );
    f.files.libraries.insert(
        "lib/log4j-core-2.17.1.jar".into(),
        (
            1,
            vec![lib(
                None,
                "log4j-core",
                "2.17.1",
                "/lib/log4j-core-2.17.1.jar",
            )],
        ),
    );
    let (r, facts_out) = run(&Checks::default(), &f, 0).unwrap();
    let l = outcome(&r, "libraries");
    assert_eq!(l.outcome, Outcome::Fail);
    assert_eq!(
        l.details,
        ["log4j-core 2.14.1 (org.apache.logging.log4j) in /app/app.jar is older than 2.17.1 (fail)"],
        "another group's log4j-core is not Log4Shell's"
    );
    assert_eq!(
        l.summary,
        "1 of 4 Java libraries are older than their rules"
    );
    assert_eq!(facts_out.libraries.len(), 4);
    let mut checks = Checks::default();
    checks.libraries.rules.push(LibraryRule {
        name: "reactivemongo".into(),
        group: None,
        below: "0.13".into(),
        severity: Level::Warn,
    });
    checks.libraries.rules.push(LibraryRule {
        name: "log4j-core".into(),
        group: None,
        below: "2.0".into(),
        severity: Level::Warn,
    });
    let (r, _) = run(&checks, &f, 0).unwrap();
    let l = outcome(&r, "libraries");
    assert_eq!(l.outcome, Outcome::Warn, "{l:?}");
    assert_eq!(
        l.details,
        [
            "reactivemongo_2.12 0.12.7 in /app/app.jar!/lib/reactivemongo_2.12-0.12.7.jar is older than 0.13 (warn)",
            "log4j-core 1.0 (com.example) in /app/other.jar is older than 2.0 (warn)",
        ],
        "a rule of little.yaml replaces the built-in one of its name"
    );
    checks.libraries.rules[0].below = "latest".into();
    let e = run(&checks, &f, 0).unwrap_err();
    assert!(e.starts_with("`check.checks.libraries.rules[0]`"), "{e}");
    let (r, _) = run(&Checks::default(), &facts(Some("app"), &[], &[], &[]), 0).unwrap();
    assert_eq!(outcome(&r, "libraries").summary, "no Java libraries found");
}

#[test]
fn credentials_in_labels_are_found_and_stripped() {
    let f = facts(
        Some("app"),
        &[],
        &[
            (
                "org.opencontainers.image.source",
                "https://ci-bot:s3cr3t-t0ken@github.com/acme/api",
            ),
            (
                "com.azure.dev.image.build.repository.uri",
                "https://acme@dev.azure.com/acme/api/_git/api",
            ),
            (
                "notes",
                "built with ghp_0123456789abcdefghijklmnopqrstuvwxyz",
            ),
            ("owner_team", "platform"),
        ],
        &[],
    );
    let (r, _) = run(&Checks::default(), &f, 0).unwrap();
    let c = outcome(&r, "label_credentials");
    assert_eq!(c.outcome, Outcome::Fail);
    assert_eq!(
        c.details,
        [
            "label `notes` holds a GitHub token: built with [redacted GitHub token, 40 characters]",
            "label `org.opencontainers.image.source` holds a user and password in a URL: `https://github.com/acme/api` (shown without them)",
        ]
    );
    // The report's labels go through the same redactor (`Redactor::report`).
    let redactor = Redactor::new(&SecretsCheck::default()).unwrap();
    assert_eq!(
        redactor.label(
            "org.opencontainers.image.source",
            "https://ci-bot:s3cr3t-t0ken@github.com/acme/api"
        ),
        "https://github.com/acme/api"
    );
    assert_eq!(
        redactor.label("uri", "https://acme@dev.azure.com/acme/api/_git/api"),
        "https://dev.azure.com/acme/api/_git/api",
        "what comes before the host is never shown, credential or not"
    );
    let mut off = Checks::default();
    off.label_credentials.enabled = false;
    let (r, _) = run(&off, &f, 0).unwrap();
    assert_eq!(outcome(&r, "label_credentials").outcome, Outcome::Skipped);
}
