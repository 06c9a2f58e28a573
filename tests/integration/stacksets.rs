//! StackSet stacks on the emulator, through AWS Organizations: a service-managed StackSet
//! targeting an OU is planned and created, its template is updated (the plan shows the diff,
//! apply runs UpdateStackSet), and a region is added and removed (removal refused without
//! `--allow-destructive`). The operations' in-progress, failed and tolerance states, which
//! the emulator does not model, are tested with fakes and SDK mocks in the library.

use crate::harness::{python, Emulator, Output, TestProject};

const ROLE: &str = r#"{
  "Resources": {
    "AuditRole": {
      "Type": "AWS::IAM::Role",
      "Properties": {
        "RoleName": {"Fn::Sub": "{{ project.name }}-audit-${AWS::Region}"},
        "AssumeRolePolicyDocument": {
          "Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]
        }
      }
    }{% if vars.topic %},
    "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "audit-alerts"}}{% endif %}
  }
}
"#;

/// An organisation with an OU holding three accounts; returns the OU id and the account ids.
fn organisation(emulator: &Emulator) -> (String, Vec<String>) {
    let script = r#"
import sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
org = boto3.client("organizations", **kw)
org.create_organization(FeatureSet="ALL")
root = org.list_roots()["Roots"][0]["Id"]
ou = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
ids = []
for i in range(3):
    aid = org.create_account(AccountName=f"workload-{i}", Email=f"w{i}@example.com")["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=aid, SourceParentId=root, DestinationParentId=ou)
    ids.append(aid)
print(ou, " ".join(sorted(ids)))
"#;
    let out = python(script, &[&emulator.endpoint], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut words = text.split_whitespace().map(str::to_owned);
    let ou = words.next().unwrap();
    (ou, words.collect())
}

fn config(ou: &str, regions: &str, topic: bool) -> String {
    format!(
        "stack_set:\n  permission_model: SERVICE_MANAGED\n  organizational_units: [{ou}]\n  regions: [{regions}]\n  auto_deployment: {{enabled: true}}\n  operation_preferences: {{max_concurrent_percentage: 50, failure_tolerance_percentage: 10, region_concurrency: parallel}}\ncapabilities: [CAPABILITY_NAMED_IAM]\nvariables:\n  topic: {topic}\n"
    )
}

fn instances(p: &TestProject) -> Vec<(String, String, String)> {
    let out = p.run(&["status", "audit", "--format", "json"]);
    out.success();
    let v = out.json();
    v[0]["stack_set"]["instances"]
        .as_array()
        .unwrap_or_else(|| panic!("no instances:\n{}", out.stdout))
        .iter()
        .map(|i| {
            (
                i["account"].as_str().unwrap().to_owned(),
                i["region"].as_str().unwrap().to_owned(),
                i["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn apply(p: &TestProject, extra: &[&str]) -> Output {
    let mut args = vec!["apply", "--all", "--yes", "--allow-broadening"];
    args.extend_from_slice(extra);
    p.run(&args)
}

#[test]
fn a_service_managed_stack_set_is_created_updated_and_moved_between_regions() {
    let emulator = Emulator::lock();
    let (ou, accounts) = organisation(&emulator);
    let p = TestProject::new().with_emulator(&emulator);
    p.template("audit.json.njk", ROLE);
    p.stack("audit", "audit.json.njk", &config(&ou, "us-east-1", false));

    // New: the plan names the instances and the operations.
    let plan = p.run(&["plan", "--all", "--detailed-exitcode"]);
    plan.code(2);
    assert!(
        plan.stdout.contains("StackSet (SERVICE_MANAGED)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("Instances added (3)"),
        "{}",
        plan.stdout
    );
    for a in &accounts {
        assert!(
            plan.stdout.contains(&format!("+ {a} us-east-1 ({ou})")),
            "{}",
            plan.stdout
        );
    }
    assert!(plan.stdout.contains("1. CreateStackSet"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains(&format!(
            "2. CreateStackInstances for OUs {ou} in us-east-1 (3 instances)"
        )),
        "{}",
        plan.stdout
    );

    apply(&p, &[]).success();
    let now = instances(&p);
    assert_eq!(now.len(), 3, "{now:?}");
    let events = p.run(&["events", "audit"]);
    events.success();
    assert!(
        events.stdout.contains("CREATE_SUCCEEDED"),
        "{}",
        events.stdout
    );
    assert!(now
        .iter()
        .all(|(_, r, s)| r == "us-east-1" && s == "CURRENT"));
    p.run(&["plan", "--all", "--detailed-exitcode"]).code(0);

    // A template change: the plan shows the diff and an UpdateStackSet of every instance.
    p.stack("audit", "audit.json.njk", &config(&ou, "us-east-1", true));
    let plan = p.run(&["plan", "--all", "--detailed-exitcode", "--format", "json"]);
    plan.code(2);
    let v = plan.json();
    let s = &v["stacks"][0];
    assert_eq!(s["status"], "changed");
    assert_eq!(
        s["template_changes"]["resources"][0]["logical_id"],
        "Alerts"
    );
    assert_eq!(s["template_changes"]["resources"][0]["kind"], "added");
    assert_eq!(
        s["stack_set"]["operations"],
        serde_json::json!([{"action": "update_stack_set", "instances": 3}])
    );
    let out = apply(&p, &[]);
    out.success();
    assert!(out.stderr.contains("UpdateStackSet"), "{}", out.stderr);
    p.run(&["plan", "--all", "--detailed-exitcode"]).code(0);

    // A second region: three more instances.
    p.stack(
        "audit",
        "audit.json.njk",
        &config(&ou, "us-east-1, us-west-2", true),
    );
    let plan = p.run(&["plan", "--all"]);
    assert!(
        plan.stdout.contains("Instances added (3)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!(
            "CreateStackInstances for OUs {ou} in us-west-2 (3 instances)"
        )),
        "{}",
        plan.stdout
    );
    apply(&p, &[]).success();
    assert_eq!(instances(&p).len(), 6);

    // Removing it deletes stacks in three accounts: refused without the flag.
    p.stack("audit", "audit.json.njk", &config(&ou, "us-east-1", true));
    let refused = apply(&p, &[]);
    refused.code(3);
    assert!(
        refused.stderr.contains("--allow-destructive"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("audit instances"),
        "{}",
        refused.stderr
    );
    assert_eq!(instances(&p).len(), 6, "a refused apply changed nothing");
    apply(&p, &["--allow-destructive"]).success();
    let left = instances(&p);
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(left.iter().all(|(_, r, _)| r == "us-east-1"));
    p.run(&["plan", "--all", "--detailed-exitcode"]).code(0);

    // Destroyed: the instances, then the StackSet.
    let out = p.run(&["destroy", "audit", "--yes"]);
    out.success();
    assert!(
        out.stderr.contains("- delete  stack instance"),
        "{}",
        out.stderr
    );
    let status = p.run(&["status", "audit", "--format", "json"]);
    status.success();
    assert_eq!(status.json()[0]["deployed"], false, "{}", status.stdout);
}

#[test]
fn a_self_managed_stack_set_follows_its_account_list() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    p.file(
        "little.yaml",
        "defaults:\n  region: us-east-1\naccounts:\n  prod: {id: \"210987654321\"}\n  staging: {id: \"310987654321\"}\n",
    );
    p.template("audit.json.njk", ROLE);
    let config = |accounts: &str| {
        format!(
            "stack_set:\n  permission_model: SELF_MANAGED\n  accounts: [{accounts}]\n  regions: [us-east-1]\ncapabilities: [CAPABILITY_NAMED_IAM]\nvariables: {{topic: false}}\n"
        )
    };
    p.stack("audit", "audit.json.njk", &config("prod, staging"));
    let plan = p.run(&["plan", "--all"]);
    assert!(
        plan.stdout
            .contains("StackSet (SELF_MANAGED): accounts 210987654321, 310987654321 in us-east-1"),
        "{}",
        plan.stdout
    );
    apply(&p, &[]).success();
    let now = instances(&p);
    assert_eq!(
        now.iter().map(|(a, _, _)| a.as_str()).collect::<Vec<_>>(),
        ["210987654321", "310987654321"]
    );

    p.stack("audit", "audit.json.njk", &config("prod"));
    let plan = p.run(&["plan", "--all"]);
    assert!(
        plan.stdout.contains("- 310987654321 us-east-1"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("DeleteStackInstances for accounts 310987654321 in us-east-1 (1 instance, stacks deleted)"),
        "{}",
        plan.stdout
    );
    apply(&p, &["--allow-destructive"]).success();
    assert_eq!(instances(&p).len(), 1);
    p.run(&["plan", "--all", "--detailed-exitcode"]).code(0);
}

#[test]
fn drift_of_a_stack_set_says_the_endpoint_cannot_detect_it_and_lists_each_instance() {
    let emulator = Emulator::lock();
    let (ou, _) = organisation(&emulator);
    let p = TestProject::new().with_emulator(&emulator);
    p.template("audit.json.njk", ROLE);
    p.stack("audit", "audit.json.njk", &config(&ou, "us-east-1", false));
    let before = p.run(&["audit", "--check", "stack", "--format", "json"]);
    assert!(
        before
            .stdout
            .contains("StackSet `audit` is in the project but not deployed"),
        "{}",
        before.stdout
    );
    apply(&p, &[]).success();
    // Deployed with every instance CURRENT: the audit has nothing to say about it.
    let after = p.run(&["audit", "--check", "stack", "--format", "json"]);
    after.success();
    assert_eq!(
        after.json()["findings"].as_array().unwrap().len(),
        0,
        "{}",
        after.stdout
    );
    let out = p.run(&["drift", "audit", "--format", "json"]);
    out.success();
    let v = out.json();
    let s = &v["stacks"][0];
    assert_eq!(s["method"], "stackset", "{}", out.stdout);
    assert!(
        s["note"].as_str().unwrap().contains("DetectStackSetDrift"),
        "{}",
        out.stdout
    );
    assert_eq!(
        s["not_checked"].as_array().unwrap().len(),
        3,
        "{}",
        out.stdout
    );
}

#[test]
fn a_global_name_in_a_stack_set_of_several_regions_is_refused_at_plan() {
    let emulator = Emulator::lock();
    let (ou, _) = organisation(&emulator);
    let p = TestProject::new().with_emulator(&emulator);
    p.template(
        "audit.json.njk",
        &ROLE.replace(
            r#"{"Fn::Sub": "{{ project.name }}-audit-${AWS::Region}"}"#,
            r#""fixed-audit""#,
        ),
    );
    p.stack(
        "audit",
        "audit.json.njk",
        &config(&ou, "us-east-1, us-west-2", false),
    );
    let out = p.run(&["plan", "--all"]);
    out.code(1);
    assert!(
        out.stdout
            .contains("`AuditRole` names its AWS::IAM::Role `fixed-audit`"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_stack_set_config_with_stack_only_keys_is_refused_at_its_line() {
    let p = TestProject::new();
    p.template("audit.json.njk", ROLE);
    p.stack(
        "audit",
        "audit.json.njk",
        "termination_protection: true\nstack_set:\n  permission_model: SERVICE_MANAGED\n  accounts: [\"111111111111\"]\n  regions: [us-east-1, us-east-1]\n",
    );
    let out = p.run(&["validate", "--all"]);
    out.code(1);
    assert!(
        out.stderr.contains("stacks/audit.yaml:3:1"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("`termination_protection` applies to a stack"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("needs `organizational_units`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("`accounts` is for SELF_MANAGED"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("region `us-east-1` is listed twice"),
        "{}",
        out.stderr
    );
}
