//! `little audit --org` and `little serve --org` on the emulator: an organisation of 22 member
//! accounts (20 audited) and its management account, each with its own violations in one or two regions,
//! audited through the audit role; every finding labelled by account and region, suspended and
//! excluded accounts skipped, a little.yaml account reached through its own role and named by
//! its little.yaml name; and a clear error when the caller's organisation cannot be listed.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::{Emulator, TestProject};
use crate::serve::{parse_metrics, value, Server};

const MEMBERS: usize = 22;
/// Member indexes: the one closed (SUSPENDED) and the one in `audit.exclude_accounts`.
const CLOSED: usize = 20;
const EXCLUDED: usize = 21;
/// The member that little.yaml names, with its own role.
const NAMED: usize = 5;

/// The kinds of repository, and the check each one fails (`clean` fails none).
const KINDS: [(&str, Option<&str>); 5] = [
    ("mutable", Some("ecr.tag-immutability")),
    ("no-scan", Some("ecr.scanning")),
    ("no-lifecycle", Some("ecr.lifecycle")),
    ("aes256", Some("ecr.encryption")),
    ("clean", None),
];

/// Creates the organisation, its members and their repositories through boto3; the member
/// account ids in creation order.
const SETUP: &str = r#"
import json, sys, boto3
endpoint = sys.argv[1]
spec = json.load(sys.stdin)
keys = dict(endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
org = boto3.client("organizations", region_name="us-east-1", **keys)
org.create_organization(FeatureSet="ALL")
ids = []
for i in range(spec["members"]):
    status = org.create_account(AccountName=f"member-{i:02d}", Email=f"member-{i:02d}@example.com")
    ids.append(status["CreateAccountStatus"]["AccountId"])
org.close_account(AccountId=ids[spec["closed"]])
sts = boto3.client("sts", region_name="us-east-1", **keys)
lifecycle = json.dumps({"rules": [{"rulePriority": 1, "description": "expire untagged", "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}, "action": {"type": "expire"}}]})
for index, region, name, kind in spec["repositories"]:
    account = ids[index]
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
    ecr = boto3.client("ecr", region_name=region, endpoint_url=endpoint, aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    encryption = {"encryptionType": "AES256"} if kind == "aes256" else \
        {"encryptionType": "KMS", "kmsKey": f"arn:aws:kms:{region}:{account}:key/5f0c2a1e-3b4d-4c6e-8f7a-9b0c1d2e3f4a"}
    ecr.create_repository(repositoryName=name, imageTagMutability="MUTABLE" if kind == "mutable" else "IMMUTABLE",
                          imageScanningConfiguration={"scanOnPush": kind != "no-scan"}, encryptionConfiguration=encryption)
    if kind != "no-lifecycle":
        ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=lifecycle)
print(json.dumps(ids))
"#;

/// The repositories: (member index, region, name, kind). Member k has one repository of kind
/// k mod 5 in us-east-1; members 0 to 3 also one in eu-west-1, of another kind.
fn repositories() -> Vec<(usize, &'static str, String, &'static str)> {
    let mut out = Vec::new();
    for k in 0..MEMBERS {
        out.push((
            k,
            "us-east-1",
            format!("team-{k:02}/api"),
            KINDS[k % KINDS.len()].0,
        ));
    }
    for (k, kind) in ["no-lifecycle", "mutable", "aes256", "clean"]
        .into_iter()
        .enumerate()
    {
        out.push((k, "eu-west-1", format!("team-{k:02}/worker"), kind));
    }
    out
}

fn check_of(kind: &str) -> Option<&'static str> {
    KINDS.iter().find(|(k, _)| *k == kind).and_then(|(_, c)| *c)
}

/// (account, region, check, resource) of each finding.
fn findings(doc: &Value) -> BTreeSet<(String, String, String, String)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (s("account"), s("region"), s("check"), s("resource"))
        })
        .collect()
}

const CHECKS: [&str; 10] = [
    "--check",
    "ecr.tag-immutability",
    "--check",
    "ecr.scanning",
    "--check",
    "ecr.lifecycle",
    "--check",
    "ecr.encryption",
    "--check",
    "org",
];

#[test]
fn an_organisation_is_audited_account_by_account_in_every_region() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);

    // No organisation yet: the audit fails, and says what is needed (AWS answers
    // AWSOrganizationsNotInUseException, moto an empty list).
    p.file(
        "little.yaml",
        "name: acme\ndefaults:\n  region: us-east-1\n",
    );
    p.run(&["audit", "--org", "--no-stacks"])
        .code(1)
        .stderr_has("organizations:ListAccounts")
        .stderr_has("management account or a delegated administrator, with `organizations:ListAccounts` allowed");
    p.run(&["audit", "--org", "--accounts"])
        .code(1)
        .stderr_has("cannot be used with");

    let spec = serde_json::json!({
        "members": MEMBERS,
        "closed": CLOSED,
        "repositories": repositories(),
    });
    let out = crate::harness::python(SETUP, &[&emulator.endpoint], &spec.to_string());
    assert!(
        out.status.success(),
        "setup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ids.len(), MEMBERS);

    p.file(
        "little.yaml",
        &format!(
            "name: acme\ndefaults:\n  region: us-east-1\naccounts:\n  named:\n    id: \"{named}\"\n    role_arn: arn:aws:iam::{named}:role/custom-audit\naudit:\n  require_kms: true\n  regions: [us-east-1, eu-west-1]\n  concurrency: 4\n  account_timeout: 2m\n  exclude_accounts: [\"{excluded}\"]\n",
            named = ids[NAMED],
            excluded = ids[EXCLUDED]
        ),
    );
    let mut args = vec!["-v", "audit", "--org", "--no-stacks", "--format", "json"];
    args.extend_from_slice(&CHECKS);
    let out = p.run(&args);
    out.code(2).stderr_has("organizations:ListAccounts");
    let doc = out.json();
    assert_eq!(doc["errors"], serde_json::json!([]), "{}", out.stdout);

    let mut expected = BTreeSet::new();
    for (k, region, name, kind) in repositories() {
        if k == CLOSED || k == EXCLUDED {
            continue;
        }
        if let Some(check) = check_of(kind) {
            expected.insert((ids[k].clone(), region.to_owned(), check.to_owned(), name));
        }
    }
    let got = findings(&doc);
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nunexpected: {extra:#?}"
    );
    // Every reachable account was audited, clean ones included: 20 members (one closed, one
    // excluded) and the management account, in two regions each; the little.yaml account by
    // its name.
    let names = doc["accounts"].as_object().expect("the accounts audited");
    assert_eq!(names.len(), MEMBERS - 2 + 1, "{names:?}");
    assert_eq!(names[&ids[NAMED]], "named");
    assert_eq!(names[&ids[0]], "member-00");
    assert!(!names.contains_key(&ids[CLOSED]) && !names.contains_key(&ids[EXCLUDED]));
    for f in doc["findings"].as_array().unwrap() {
        let arn = f["arn"].as_str().unwrap_or_default();
        assert!(
            arn.contains(&format!(
                ":{}:{}:",
                f["region"].as_str().unwrap(),
                f["account"].as_str().unwrap()
            )),
            "{f}"
        );
    }
    let read = repositories()
        .iter()
        .filter(|(k, _, _, _)| *k != CLOSED && *k != EXCLUDED)
        .count();
    assert_eq!(doc["checked"]["repositories"], read, "{}", doc["checked"]);

    // The text report: a heading per account, with its name.
    let mut args = vec!["audit", "--org", "--no-stacks"];
    args.extend_from_slice(&CHECKS);
    let text = p.run(&args);
    text.code(2)
        .stdout_has(&format!("== account named ({}): 1 finding\n", ids[NAMED]))
        .stdout_has(&format!("== account member-00 ({}): 2 findings\n", ids[0]))
        .stdout_has("team-01/worker (eu-west-1)")
        .stdout_has(", 21 accounts\n");
    // Markdown carries the account and region.
    let mut args = vec!["audit", "--org", "--no-stacks", "--format", "markdown"];
    args.extend_from_slice(&CHECKS);
    p.run(&args)
        .code(2)
        .stdout_has("| Severity | Account | Region | Resource |")
        .stdout_has(&format!(
            "| HIGH | member-01 ({}) | eu-west-1 | `team-01/worker` |",
            ids[1]
        ));

    // `little serve --org`: the scheduled run is organisation-wide, and the metrics carry the
    // accounts.
    let server = Server::start(
        &p,
        &[
            "--org",
            "--no-stacks",
            "--interval",
            "24h",
            "--check",
            "ecr.tag-immutability",
            "--check",
            "org",
        ],
    );
    server.wait_for("/readyz", "readiness", |s, _| s == 200);
    let (status, report) = server.get("/report.json");
    assert_eq!(status, 200);
    let report: Value = serde_json::from_str(&report).unwrap();
    let mutable: BTreeSet<_> = expected
        .iter()
        .filter(|(_, _, c, _)| c == "ecr.tag-immutability")
        .cloned()
        .collect();
    assert_eq!(findings(&report), mutable);
    let (_, metrics) = server.get("/metrics");
    let samples = parse_metrics(&metrics);
    assert_eq!(
        value(
            &samples,
            "little_audit_findings",
            &[
                ("check", "ecr.tag-immutability"),
                ("repository", "team-01/worker"),
                ("account", &ids[1]),
                ("region", "eu-west-1"),
            ]
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        value(
            &samples,
            "aws_ecr_repository_count",
            &[("registry_id", &ids[1]), ("region", "eu-west-1")]
        ),
        Some(1.0)
    );
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
}
