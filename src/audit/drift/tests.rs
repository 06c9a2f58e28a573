//! Unit tests of drift: CloudFormation's drift results read and the direct comparison of ECR
//! repositories and IAM roles with the rendered template.

use super::*;
use crate::aws::drift::{PropertyDifference, RepositoryFacts};
use crate::aws::iam::RoleFacts;
use crate::testing::fake_aws::{project, FakeAws, FakeConnect};
use serde_json::json;
use std::time::Duration;

fn repo_resource() -> StackResource {
    StackResource {
        logical_id: "Repo".into(),
        physical_id: Some("little/api".into()),
        resource_type: ECR_REPOSITORY.into(),
        status: "CREATE_COMPLETE".into(),
        drift_status: None,
    }
}

fn live_repo() -> RepositoryFacts {
    RepositoryFacts {
        name: "little/api".into(),
        arn: "arn:aws:ecr:us-east-1:123456789012:repository/little/api".into(),
        tag_mutability: "IMMUTABLE".into(),
        exclusion_filters: Vec::new(),
        scan_on_push: true,
        encryption_type: "AES256".into(),
        kms_key: None,
        lifecycle_policy: Some(
            "{\"rules\":[{\"rulePriority\":1,\"selection\":{\"tagStatus\":\"untagged\",\"countType\":\"sinceImagePushed\",\"countUnit\":\"days\",\"countNumber\":14},\"action\":{\"type\":\"expire\"}}]}".into(),
        ),
        repository_policy: None,
        tags: [("team".to_owned(), "platform".to_owned())].into(),
    }
}

fn repo_properties() -> Value {
    json!({
        "RepositoryName": "little/api",
        "ImageTagMutability": "IMMUTABLE",
        "ImageScanningConfiguration": {"ScanOnPush": true},
        "EncryptionConfiguration": {"EncryptionType": "AES256"},
        // JSON text with other spacing and key order: the same policy.
        "LifecyclePolicy": {"LifecyclePolicyText": "{ \"rules\": [ { \"action\": {\"type\": \"expire\"}, \"rulePriority\": 1, \"selection\": {\"countNumber\": 14, \"countUnit\": \"days\", \"countType\": \"sinceImagePushed\", \"tagStatus\": \"untagged\"} } ] }"},
        "Tags": [{"Key": "team", "Value": "platform"}]
    })
}

#[test]
fn a_repository_as_templated_is_in_sync() {
    let mut skipped = Vec::new();
    let d = compare_repository(
        &repo_resource(),
        &repo_properties(),
        Some(&live_repo()),
        &mut skipped,
    );
    assert_eq!(d.status, "IN_SYNC", "{d:?}");
    assert!(skipped.is_empty());
}

#[test]
fn a_changed_repository_shows_each_difference() {
    let mut live = live_repo();
    live.tag_mutability = "MUTABLE".into();
    live.scan_on_push = false;
    live.lifecycle_policy = None;
    live.repository_policy = Some("{\"Version\":\"2012-10-17\",\"Statement\":[]}".into());
    live.tags.insert("team".into(), "other".into());
    let mut props = repo_properties();
    props["RepositoryPolicyText"] = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}}, "Action": "ecr:*"}]});
    let mut skipped = Vec::new();
    let d = compare_repository(&repo_resource(), &props, Some(&live), &mut skipped);
    assert_eq!(d.status, "MODIFIED");
    let got: Vec<(&str, &str, &str, &str)> = d
        .differences
        .iter()
        .map(|p| {
            (
                p.path.as_str(),
                p.expected.as_str(),
                p.actual.as_str(),
                p.kind.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got[0],
        ("/ImageTagMutability", "IMMUTABLE", "MUTABLE", "NOT_EQUAL")
    );
    assert_eq!(
        got[1],
        (
            "/ImageScanningConfiguration/ScanOnPush",
            "true",
            "false",
            "NOT_EQUAL"
        )
    );
    assert_eq!(got[2].0, "/LifecyclePolicy/LifecyclePolicyText");
    assert_eq!(got[2].3, "REMOVE");
    assert_eq!(got[3], ("/Tags/0/Value", "platform", "other", "NOT_EQUAL"));
    assert_eq!(got.len(), 4);
    // The policy names the account through Fn::Sub: not compared, and said so.
    assert_eq!(skipped, ["/RepositoryPolicyText"]);
}

#[test]
fn a_missing_repository_is_deleted() {
    let d = compare_repository(&repo_resource(), &repo_properties(), None, &mut Vec::new());
    assert_eq!(d.status, "DELETED");
}

fn role_resource() -> StackResource {
    StackResource {
        logical_id: "Role".into(),
        physical_id: Some("little-ci".into()),
        resource_type: IAM_ROLE.into(),
        status: "CREATE_COMPLETE".into(),
        drift_status: None,
    }
}

fn trust() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
}

fn push() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:PutImage"], "Resource": "*"}]})
}

#[test]
fn a_role_compares_trust_inline_and_managed_policies() {
    let props = json!({
        "AssumeRolePolicyDocument": trust(),
        "Policies": [{"PolicyName": "push", "PolicyDocument": push()}],
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    });
    let same = RoleFacts {
        trust_policy: trust(),
        inline: [("push".to_owned(), push())].into(),
        managed: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
        ..Default::default()
    };
    let d = compare_role(&role_resource(), &props, Some(&same), &mut Vec::new());
    assert_eq!(d.status, "IN_SYNC", "{d:?}");

    let mut wider = push();
    wider["Statement"][0]["Action"] = json!(["ecr:*"]);
    let changed = RoleFacts {
        trust_policy: trust(),
        inline: [
            ("push".to_owned(), wider),
            ("extra".to_owned(), json!({"Statement": []})),
        ]
        .into(),
        managed: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
        ..Default::default()
    };
    let d = compare_role(&role_resource(), &props, Some(&changed), &mut Vec::new());
    let paths: Vec<(&str, &str)> = d
        .differences
        .iter()
        .map(|p| (p.path.as_str(), p.kind.as_str()))
        .collect();
    assert_eq!(
        paths,
        [
            ("/Policies/0/PolicyDocument", "NOT_EQUAL"),
            ("/Policies/extra", "ADD"),
            ("/ManagedPolicyArns", "REMOVE"),
            ("/ManagedPolicyArns", "ADD"),
        ]
    );
}

const TEMPLATE: &str = r#"{
  "Resources": {
    "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "little/api", "ImageTagMutability": "IMMUTABLE"}},
    "Topic": {"Type": "AWS::SNS::Topic"}
  }
}
"#;

fn fake_stack(aws: &FakeAws) {
    aws.deploy("registry", TEMPLATE, &[], &[]);
    aws.resources.lock().unwrap().insert(
        "registry".into(),
        vec![
            repo_resource(),
            StackResource {
                logical_id: "Topic".into(),
                physical_id: Some(
                    "arn:aws:sns:us-east-1:123456789012:registry-Topic-1B2C3D4E5F6G".into(),
                ),
                resource_type: "AWS::SNS::Topic".into(),
                status: "CREATE_COMPLETE".into(),
                drift_status: None,
            },
        ],
    );
}

fn selection(names: &[&str]) -> Selection {
    Selection {
        names: names.iter().map(|s| (*s).to_owned()).collect(),
        all: false,
    }
}

#[tokio::test]
async fn without_cloudformation_detection_the_live_resources_are_compared() {
    let (_dir, project) = project(&[
        ("templates/registry.json", TEMPLATE),
        (
            "stacks/registry.yaml",
            "name: registry\ntemplate: registry.json\n",
        ),
    ]);
    let aws = FakeAws::new();
    fake_stack(&aws);
    let mut live = live_repo();
    live.tag_mutability = "MUTABLE".into();
    aws.repositories
        .lock()
        .unwrap()
        .insert("little/api".into(), live);
    let report = drift(
        project.clone(),
        Arc::new(FakeConnect(aws.clone())),
        &selection(&["registry"]),
        &DriftOptions::default(),
    )
    .await
    .unwrap();
    assert!(report.drifted());
    let s = &report.stacks[0];
    assert_eq!(s.method, DriftMethod::Direct);
    assert_eq!(s.resources.len(), 1);
    assert_eq!(s.resources[0].differences[0].path, "/ImageTagMutability");
    assert_eq!(s.not_checked, ["Topic (AWS::SNS::Topic)"]);

    // Back as templated: in sync.
    aws.repositories
        .lock()
        .unwrap()
        .insert("little/api".into(), live_repo());
    let report = drift(
        project,
        Arc::new(FakeConnect(aws.clone())),
        &selection(&["registry"]),
        &DriftOptions::default(),
    )
    .await
    .unwrap();
    assert!(!report.drifted());
    assert!(report.stacks[0].resources.is_empty());
}

#[tokio::test]
async fn cloudformation_detection_wins_and_not_checked_resources_are_compared() {
    let (_dir, project) = project(&[
        ("templates/registry.json", TEMPLATE),
        (
            "stacks/registry.yaml",
            "name: registry\ntemplate: registry.json\n",
        ),
        ("templates/other.json", TEMPLATE),
        ("stacks/other.yaml", "name: other\ntemplate: other.json\n"),
    ]);
    let aws = FakeAws::new();
    fake_stack(&aws);
    let not_checked = |r: StackResource| ResourceDrift {
        logical_id: r.logical_id,
        physical_id: r.physical_id,
        resource_type: r.resource_type,
        status: "NOT_CHECKED".into(),
        differences: Vec::new(),
    };
    let topic = aws.resources.lock().unwrap()["registry"][1].clone();
    // An entry that names nothing (the emulator sends some) is not a resource to report.
    let unnamed = ResourceDrift {
        logical_id: String::new(),
        physical_id: None,
        resource_type: String::new(),
        status: "NOT_CHECKED".into(),
        differences: Vec::new(),
    };
    aws.drifts.lock().unwrap().insert(
        "registry".into(),
        vec![not_checked(repo_resource()), not_checked(topic), unnamed],
    );
    aws.repositories
        .lock()
        .unwrap()
        .insert("little/api".into(), live_repo());
    let report = drift(
        project,
        Arc::new(FakeConnect(aws.clone())),
        &selection(&["registry", "other"]),
        &DriftOptions::default(),
    )
    .await
    .unwrap();
    let s = &report.stacks[0];
    assert_eq!(s.stack, "other");
    assert_eq!(s.method, DriftMethod::None);
    assert_eq!(s.note.as_deref(), Some("not deployed"));
    let s = &report.stacks[1];
    assert_eq!(s.method, DriftMethod::CloudFormation);
    assert!(!s.drifted, "{s:?}");
    assert_eq!(s.not_checked, ["Topic (AWS::SNS::Topic)"]);
    let calls = aws.calls();
    assert!(calls.contains(&"DescribeRepositories little/api".to_owned()));
    assert!(!calls.iter().any(|c| c.starts_with("ListStackResources")));
}

/// CloudFormation's detection, in progress twice and then complete.
struct Scripted {
    statuses: std::sync::Mutex<Vec<crate::aws::drift::DetectionStatus>>,
    polls: std::sync::Mutex<usize>,
}

#[async_trait::async_trait]
impl crate::aws::drift::StackDrift for Scripted {
    async fn detect(&self, _stack: &str) -> Result<Option<String>> {
        Ok(Some("b78ac9b0-dec1-11e7-a451-503a3b0e4e82".into()))
    }
    async fn status(&self, _id: &str) -> Result<crate::aws::drift::DetectionStatus> {
        *self.polls.lock().unwrap() += 1;
        Ok(self.statuses.lock().unwrap().remove(0))
    }
    async fn resource_drifts(&self, _stack: &str) -> Result<Vec<ResourceDrift>> {
        Ok(vec![ResourceDrift {
            logical_id: "Repo".into(),
            physical_id: Some("little/api".into()),
            resource_type: ECR_REPOSITORY.into(),
            status: "MODIFIED".into(),
            differences: vec![PropertyDifference {
                path: "/ImageTagMutability".into(),
                expected: "IMMUTABLE".into(),
                actual: "MUTABLE".into(),
                kind: "NOT_EQUAL".into(),
            }],
        }])
    }
    async fn repository(&self, _name: &str) -> Result<Option<RepositoryFacts>> {
        panic!("a MODIFIED resource is not compared again")
    }
}

struct ScriptedConnect(Arc<FakeAws>, Arc<Scripted>);

#[async_trait::async_trait]
impl Connect for ScriptedConnect {
    async fn clients(
        &self,
        region: Option<&str>,
        account: Option<&crate::aws::connect::Account>,
    ) -> Result<Clients> {
        let mut c = FakeConnect(self.0.clone()).clients(region, account).await?;
        c.drift = self.1.clone();
        Ok(c)
    }

    async fn caller(
        &self,
        region: Option<&str>,
        account: Option<&crate::aws::connect::Account>,
    ) -> Result<crate::aws::connect::Caller> {
        FakeConnect(self.0.clone()).caller(region, account).await
    }
}

#[tokio::test]
async fn the_detection_is_polled_until_it_completes() {
    let (_dir, project) = project(&[
        ("templates/registry.json", TEMPLATE),
        (
            "stacks/registry.yaml",
            "name: registry\ntemplate: registry.json\n",
        ),
    ]);
    let aws = FakeAws::new();
    fake_stack(&aws);
    let status = |s: &str, d: Option<&str>| crate::aws::drift::DetectionStatus {
        status: s.into(),
        drift_status: d.map(str::to_owned),
        reason: None,
    };
    let scripted = Arc::new(Scripted {
        statuses: std::sync::Mutex::new(vec![
            status("DETECTION_IN_PROGRESS", None),
            status("DETECTION_IN_PROGRESS", None),
            status("DETECTION_COMPLETE", Some("DRIFTED")),
        ]),
        polls: std::sync::Mutex::new(0),
    });
    let options = DriftOptions {
        poll: Poll {
            first: Duration::from_millis(1),
            max: Duration::from_millis(2),
            timeout: Duration::from_secs(5),
        },
        ..DriftOptions::default()
    };
    let report = drift(
        project,
        Arc::new(ScriptedConnect(aws, scripted.clone())),
        &selection(&["registry"]),
        &options,
    )
    .await
    .unwrap();
    assert_eq!(*scripted.polls.lock().unwrap(), 3);
    let s = &report.stacks[0];
    assert_eq!(s.method, DriftMethod::CloudFormation);
    assert!(s.drifted);
    assert_eq!(s.resources[0].differences[0].actual, "MUTABLE");
    assert!(s.not_checked.is_empty());
}
