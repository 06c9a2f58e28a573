//! `little drift` against the local emulator, which implements no CloudFormation drift call:
//! the repository's live configuration is compared with the template directly. A repository
//! changed out of band drifts (exit 2); an untouched one does not (exit 0).

use aws_sdk_ecr::types::ImageTagMutability;
use tokio::runtime::Runtime;

use crate::cfn::emulator_config;
use crate::harness::{Emulator, TestProject};

const REGISTRY: &str = r#"{
  "Resources": {
    "Repo": {
      "Type": "AWS::ECR::Repository",
      "Properties": {
        "RepositoryName": "{{ stack.name }}/api",
        "ImageTagMutability": "IMMUTABLE",
        "Tags": [{"Key": "team", "Value": "platform"}]
      }
    }
  }
}
"#;

fn project(emulator: &Emulator) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.template("registry.json.njk", REGISTRY);
    p.stack("drifting", "registry.json.njk", "");
    p.stack("steady", "registry.json.njk", "");
    p
}

#[test]
fn a_repository_changed_out_of_band_drifts_and_an_untouched_one_does_not() {
    let emulator = Emulator::lock();
    let p = project(&emulator);
    p.run(&["apply", "--all", "--yes"]).success();

    // Nothing changed yet.
    let clean = p.run(&["drift", "--all", "--format", "json"]);
    clean.success();
    let report = clean.json();
    let stacks = report["stacks"].as_array().unwrap();
    assert_eq!(stacks.len(), 2, "{report:#}");
    for s in stacks {
        assert_eq!(s["drifted"], false, "{report:#}");
        assert_eq!(s["method"], "direct", "{report:#}");
    }

    // Out of band: the repository becomes mutable.
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    rt.block_on(
        ecr.put_image_tag_mutability()
            .repository_name("drifting/api")
            .image_tag_mutability(ImageTagMutability::Mutable)
            .send(),
    )
    .unwrap();

    let drifted = p.run(&["drift", "drifting", "--format", "json"]);
    drifted.code(2);
    let report = drifted.json();
    let stack = &report["stacks"][0];
    assert_eq!(stack["stack"], "drifting");
    assert_eq!(stack["drifted"], true);
    let repo = &stack["resources"][0];
    assert_eq!(repo["logical_id"], "Repo", "{report:#}");
    assert_eq!(repo["resource_type"], "AWS::ECR::Repository");
    assert_eq!(repo["status"], "MODIFIED");
    let differences = repo["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{report:#}");
    let d = &differences[0];
    assert_eq!(
        d["path"].as_str().unwrap().trim_start_matches('/'),
        "ImageTagMutability"
    );
    assert_eq!(d["expected"], "IMMUTABLE");
    assert_eq!(d["actual"], "MUTABLE");

    // The text report says the same.
    p.run(&["drift", "drifting"])
        .code(2)
        .stdout_has("~ Repo (AWS::ECR::Repository) MODIFIED")
        .stdout_has("/ImageTagMutability: IMMUTABLE -> MUTABLE");

    // The other stack's repository was not touched.
    let steady = p.run(&["drift", "steady", "--format", "json"]);
    steady.success();
    assert_eq!(steady.json()["stacks"][0]["drifted"], false);

    // The audit runs the same detection with --drift and reports the drifted property.
    let audit = p.run(&[
        "audit",
        "--drift",
        "--check",
        "stack.drift",
        "--format",
        "json",
    ]);
    audit.success();
    let findings = audit.json()["findings"].as_array().unwrap().clone();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["resource"], "drifting");
    assert_eq!(findings[0]["severity"], "MEDIUM");
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("Repo MODIFIED (/ImageTagMutability)"),
        "{findings:#?}"
    );
    p.run(&["audit", "--drift", "--fail-on", "MEDIUM"])
        .code(2)
        .stdout_has("drifting");

    // A stack whose drift cannot be found out is reported with its error; the others are
    // still checked.
    p.template(
        "broken.json.njk",
        &REGISTRY.replace("{{ stack.name }}/api", "{{ no_such_function() }}"),
    );
    p.stack("steady", "broken.json.njk", "");
    let partial = p.run(&["drift", "--all", "--format", "json"]);
    partial.code(2);
    let report = partial.json();
    assert_eq!(report["stacks"][0]["drifted"], true, "{report:#}");
    assert_eq!(report["stacks"][1]["method"], "error", "{report:#}");
    assert!(
        report["stacks"][1]["error"]
            .as_str()
            .unwrap()
            .contains("no_such_function"),
        "{report:#}"
    );
    p.run(&["drift", "steady"])
        .code(1)
        .stdout_has("steady: error:")
        .stdout_has("broken.json.njk");
}

#[test]
fn a_stack_not_deployed_is_reported_as_such() {
    let emulator = Emulator::lock();
    let p = project(&emulator);
    p.run(&["drift", "steady"])
        .success()
        .stdout_has("steady: not deployed");
}
