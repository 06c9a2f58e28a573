//! little-automation's layout and verbs on the emulator: a `stackParams.json` under
//! `AWS/db/cloudformation/...` (no `stacks/`, no little.yaml) whose `TemplatePath` is relative
//! to the `AWS/` folder (`$LITTLE_HOME`), driven through `little stack filter|create|update|
//! events|describe|resources|make-change|show-change|rm-change|list|delete`, and the image its
//! stack's repository holds through `little ecr registry|list|login|scanreport|scan-in-progress`.

use aws_sdk_ecr::types::ImageIdentifier;
use tokio::runtime::Runtime;

use crate::audit::put_test_image;
use crate::cfn::emulator_config;
use crate::harness::{Emulator, TestProject};

const PARAMS: &str = "AWS/db/cloudformation/acme/cloud/ecr/stackParams.json";

/// A template in little-automation's style: repositories from `stackVariables`, the stack
/// bucket in an output, an include beside the template by its bare name.
const TEMPLATE: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {
    "ReaderAccountList": {"Type": "CommaDelimitedList", "Description": "readers"}
  },
  "Resources": {
    {% for repo in stackVariables.ecrRepoList %}
    "{{ repo.resourceName }}": {% include "repo.json.njk" %}{% if not loop.last %},{% endif %}
    {% endfor %}
  },
  "Outputs": {
    "Bucket": {"Value": "{{ stackBucket }}"},
    "Stage": {"Value": "{{ stackParameters.Stage }}"}
  }
}
"#;

const REPO: &str = r#"{
      "Type": "AWS::ECR::Repository",
      "Properties": {
        "RepositoryName": "{{ repo.repoName }}",
        "ImageTagMutability": "IMMUTABLE",
        "ImageScanningConfiguration": {"ScanOnPush": true}
      }
    }"#;

fn params(repos: &[(&str, &str)]) -> String {
    let list: Vec<String> = repos
        .iter()
        .map(|(r, n)| format!(r#"{{"resourceName": "{r}", "repoName": "{n}"}}"#))
        .collect();
    format!(
        r#"{{
    "StackName": "ecr-setup",
    "Capabilities": [],
    "TimeoutInMinutes": 5,
    "EnableTerminationProtection": true,
    "Parameters": [
        {{"ParameterKey": "ReaderAccountList", "ParameterValue": "arn:aws:iam::123456789012:root"}},
        {{"ParameterKey": "Stage", "ParameterValue": "dev"}}
    ],
    "Tags": [{{"Key": "org", "Value": "applications"}}],
    "Littleware": {{
        "TemplatePath": "lib/cloudformation/cloud/ecr/ecr.json",
        "Variables": {{"ecrRepoList": [{}]}}
    }}
}}
"#,
        list.join(", ")
    )
}

fn layout(emulator: &Emulator) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    std::fs::remove_file(p.path().join("little.yaml")).unwrap();
    let template = TEMPLATE.replace(
        r#""ReaderAccountList": {"Type": "CommaDelimitedList", "Description": "readers"}"#,
        r#""ReaderAccountList": {"Type": "CommaDelimitedList", "Description": "readers"},
    "Stage": {"Type": "String"}"#,
    );
    p.file("AWS/lib/cloudformation/cloud/ecr/ecr.json", &template)
        .file("AWS/lib/cloudformation/cloud/ecr/repo.json.njk", REPO)
        .file(PARAMS, &params(&[("sessionMgr", "little/session_mgr")]));
    p
}

fn stack(p: &TestProject, args: &[&str]) -> crate::harness::Output {
    let mut all = vec!["--region", "us-east-1", "stack"];
    all.extend_from_slice(args);
    p.run(&all)
}

#[test]
fn little_automation_stack_params_outside_stacks_deploy_through_the_stack_verbs() {
    let emulator = Emulator::lock();
    let p = layout(&emulator);

    // filter: the rendered template, with stackBucket from the account (moto has no alias).
    let rendered = stack(&p, &["filter", PARAMS]).success().json();
    assert_eq!(
        rendered["Resources"]["sessionMgr"]["Properties"]["RepositoryName"],
        "little/session_mgr"
    );
    assert_eq!(
        rendered["Outputs"]["Bucket"]["Value"],
        "cloudformation-123456789012-us-east-1"
    );
    stack(&p, &["bucket"])
        .success()
        .stdout_has("cloudformation-123456789012-us-east-1\n");
    // variables, then filter-template with them: the same template.
    let vars = stack(&p, &["variables", PARAMS]).success().stdout.clone();
    let same = stack(
        &p,
        &[
            "filter-template",
            "AWS/lib/cloudformation/cloud/ecr/ecr.json",
            &vars,
        ],
    )
    .success()
    .json();
    assert_eq!(same, rendered);

    // create, then create again: it exists.
    stack(&p, &["create", "--dryRun", PARAMS])
        .success()
        .stdout_has("sessionMgr");
    stack(&p, &["describe", PARAMS])
        .code(1)
        .stderr_has("does not exist");
    stack(&p, &["create", PARAMS]).success();
    stack(&p, &["create", PARAMS])
        .code(1)
        .stderr_has("already exists");
    let described = stack(&p, &["describe", PARAMS]).success().json();
    let s = &described["Stacks"][0];
    assert_eq!(s["StackName"], "ecr-setup");
    assert_eq!(s["StackStatus"], "CREATE_COMPLETE");
    assert_eq!(s["EnableTerminationProtection"], true);

    // events: AWS's JSON, newest first.
    let events = stack(&p, &["events", PARAMS]).success().json();
    let list = events["StackEvents"].as_array().unwrap();
    assert!(!list.is_empty());
    assert_eq!(list[0]["StackName"], "ecr-setup");
    assert_eq!(list[0]["LogicalResourceId"], "ecr-setup");
    assert_eq!(list[0]["ResourceStatus"], "CREATE_COMPLETE");

    // update with a second repository.
    p.file(
        PARAMS,
        &params(&[("sessionMgr", "little/session_mgr"), ("api", "little/api")]),
    );
    stack(&p, &["update", PARAMS]).success();
    let resources = stack(&p, &["resources", PARAMS]).success().json();
    let mut ids: Vec<&str> = resources["StackResources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["LogicalResourceId"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec!["api", "sessionMgr"]);

    // make-change, show-change, rm-change: a change set named little-$USER-$HOSTNAME.
    p.file(
        PARAMS,
        &params(&[
            ("sessionMgr", "little/session_mgr"),
            ("api", "little/api"),
            ("web", "little/web"),
        ]),
    );
    let name = stack(&p, &["change-name"])
        .success()
        .stdout
        .trim()
        .to_owned();
    assert!(name.starts_with("little-"), "{name}");
    stack(&p, &["make-change", PARAMS]).success();
    let shown = stack(&p, &["show-change", PARAMS]).success().json();
    assert_eq!(shown["ChangeSetName"], name.as_str());
    assert_eq!(
        shown["Changes"][0]["ResourceChange"]["LogicalResourceId"],
        "web"
    );
    stack(&p, &["rm-change", PARAMS]).success();
    stack(&p, &["show-change", PARAMS]).code(1);
    // Made again, then executed: the stack has the third repository.
    stack(&p, &["make-change", PARAMS]).success();
    stack(&p, &["exec-change", PARAMS]).success();
    let resources = stack(&p, &["resources", PARAMS]).success().json();
    assert_eq!(resources["StackResources"].as_array().unwrap().len(), 3);

    // list: the whole account.
    let all = stack(&p, &["list"]).success().json();
    assert!(all["StackSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["StackName"] == "ecr-setup"));

    // ecr verbs on the stack's repository.
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    put_test_image(&rt, &ecr, "little/session_mgr", "latest");
    let ecr_run = |args: &[&str]| {
        let mut all = vec!["--region", "us-east-1", "ecr"];
        all.extend_from_slice(args);
        p.run(&all)
    };
    let registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    ecr_run(&["registry"])
        .success()
        .stdout_has(&format!("{registry}\n"));
    ecr_run(&["list"])
        .success()
        .stdout_has(&format!("{registry}/little/session_mgr\n"));
    assert!(!ecr_run(&["login", "--stdout"])
        .success()
        .stdout
        .trim()
        .is_empty());
    // Not scanned yet: ScanNotFoundException, exit 1; nor in progress.
    ecr_run(&["scanreport", "little/session_mgr", "latest"])
        .code(1)
        .stderr_has("ScanNotFoundException");
    ecr_run(&["scan-in-progress", "little/session_mgr", "latest"]).code(1);
    rt.block_on(
        ecr.start_image_scan()
            .repository_name("little/session_mgr")
            .image_id(ImageIdentifier::builder().image_tag("latest").build())
            .send(),
    )
    .unwrap();
    let report = ecr_run(&["scanreport", "little/session_mgr", "latest"])
        .success()
        .json();
    assert_eq!(report["repositoryName"], "little/session_mgr");
    assert_eq!(report["imageId"]["imageTag"], "latest");
    assert_eq!(report["registryId"], "123456789012");
    assert_eq!(report["imageScanStatus"]["status"], "COMPLETE");
    assert!(report["imageScanFindings"]["findingSeverityCounts"].is_object());
    ecr_run(&["scan-in-progress", "little/session_mgr", "latest"])
        .code(1)
        .stdout_has("");
    ecr_run(&["scanreport", "little/session_mgr", "nope"])
        .code(1)
        .stderr_has("ImageNotFoundException");

    // delete: termination protection (on in stackParams.json) turned off, as the original did.
    // A repository that holds images is not deleted (AWS refuses), so the image goes first.
    rt.block_on(
        ecr.batch_delete_image()
            .repository_name("little/session_mgr")
            .image_ids(ImageIdentifier::builder().image_tag("latest").build())
            .send(),
    )
    .unwrap();
    stack(&p, &["delete", PARAMS]).success();
    stack(&p, &["describe", PARAMS]).code(1);
}

#[test]
fn a_template_path_that_names_no_file_is_an_error_at_the_config() {
    let p = TestProject::new();
    p.file(
        "AWS/db/x/stackParams.json",
        "{\"StackName\": \"x\", \"Littleware\": {\"TemplatePath\": \"lib/none.json\"}}",
    );
    p.run(&[
        "stack",
        "filter",
        "--bucket",
        "b",
        "AWS/db/x/stackParams.json",
    ])
    .code(1)
    .stderr_has("template `lib/none.json` not found");
    // --home names the folder TemplatePath is relative to.
    p.file(
        "elsewhere/lib/none.json",
        "{\"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\"}}}",
    );
    let home = p.path().join("elsewhere");
    p.run(&[
        "stack",
        "filter",
        "--bucket",
        "b",
        "--home",
        home.to_str().unwrap(),
        "AWS/db/x/stackParams.json",
    ])
    .success()
    .stdout_has("AWS::SNS::Topic");
    // STACK may be a stack of the project, by name.
    p.template("topic.json", "{\"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\", \"Properties\": {\"TopicName\": \"{{ stackBucket }}\"}}}}")
        .stack("topics", "topic.json", "");
    let rendered = p
        .run(&["stack", "filter", "--bucket", "b-1", "topics"])
        .success()
        .json();
    assert_eq!(rendered["Resources"]["T"]["Properties"]["TopicName"], "b-1");
    p.run(&["stack", "filter", "--bucket", "b", "nope"])
        .code(1)
        .stderr_has("nope");
}
