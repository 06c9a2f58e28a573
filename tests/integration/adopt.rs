//! `little adopt` (and what `plan` and `apply` say of resources that exist already) against the
//! emulator: repositories with images and a role made through the ECR and IAM APIs are imported
//! into a new stack with nothing recreated (the images stay), a property that differed is
//! changed by the update after the import, and the next plan is clean; a stack destroyed with
//! its repositories retained is adopted again; a resource that does not exist and a type that
//! cannot be imported are errors naming them.

use aws_sdk_ecr::types::ImageTagMutability;
use tokio::runtime::Runtime;

use crate::audit::put_test_image;
use crate::cfn::emulator_config;
use crate::harness::{repo, Emulator, TestProject};

pub const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A repository that exists (`team-a/api`, IMMUTABLE here, MUTABLE live), one that does not
/// (`team-a/new`) and a role that exists (`app-role`).
const TEMPLATE: &str = r#"{
  "Resources": {
    "ApiRepo": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain",
      "Properties": {"RepositoryName": "team-a/api", "ImageTagMutability": "IMMUTABLE"}},
    "NewRepo": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain",
      "Properties": {"RepositoryName": "team-a/new", "ImageTagMutability": "IMMUTABLE"}},
    "AppRole": {"Type": "AWS::IAM::Role",
      "Properties": {"RoleName": "app-role", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}
  },
  "Outputs": {"ApiArn": {"Value": {"Fn::GetAtt": ["ApiRepo", "Arn"]}}}
}
"#;

fn repository(rt: &Runtime, ecr: &aws_sdk_ecr::Client, name: &str, mutability: ImageTagMutability) {
    rt.block_on(
        ecr.create_repository()
            .repository_name(name)
            .image_tag_mutability(mutability)
            .send(),
    )
    .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

pub fn images(rt: &Runtime, ecr: &aws_sdk_ecr::Client, name: &str) -> usize {
    rt.block_on(ecr.describe_images().repository_name(name).send())
        .unwrap_or_else(|e| panic!("describe images of {name}: {e:?}"))
        .image_details()
        .len()
}

pub fn mutability(rt: &Runtime, ecr: &aws_sdk_ecr::Client, name: &str) -> String {
    rt.block_on(ecr.describe_repositories().repository_names(name).send())
        .unwrap()
        .repositories()[0]
        .image_tag_mutability()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default()
}

/// The logical ids of a stack's resources.
pub fn stack_resources(rt: &Runtime, emulator: &Emulator, stack: &str) -> Vec<String> {
    let cfn = aws_sdk_cloudformation::Client::new(&emulator_config(rt, emulator));
    let mut ids: Vec<String> = rt
        .block_on(cfn.list_stack_resources().stack_name(stack).send())
        .unwrap()
        .stack_resource_summaries()
        .iter()
        .map(|r| r.logical_resource_id().unwrap_or_default().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn existing_resources_are_flagged_refused_by_apply_and_adopted_with_their_images() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let ecr = aws_sdk_ecr::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    repository(&rt, &ecr, "team-a/api", ImageTagMutability::Mutable);
    put_test_image(&rt, &ecr, "team-a/api", "v1");
    put_test_image(&rt, &ecr, "team-a/api", "latest"); // the same image, a second tag
    rt.block_on(
        iam.create_role()
            .role_name("app-role")
            .assume_role_policy_document(TRUST)
            .send(),
    )
    .unwrap();

    let p = TestProject::new().with_emulator(&emulator);
    p.template("app.json.njk", TEMPLATE);
    p.stack(
        "app",
        "app.json.njk",
        "capabilities: [CAPABILITY_NAMED_IAM]\n",
    );

    // plan flags what exists; apply refuses with the way out.
    p.run(&["plan", "app"])
        .success()
        .stdout_has("repository `team-a/api` exists with 1 image (ApiRepo): adopt it with `little adopt app`")
        .stdout_has("role `app-role` exists (AppRole)");
    p.run(&["apply", "app", "--yes"]).code(3).stderr_has(
        "repository `team-a/api` exists with 1 image: adopt it with `little adopt app`",
    );
    assert_eq!(images(&rt, &ecr, "team-a/api"), 1);

    // Asked by name: a resource that does not exist, one that is not in the template.
    p.run(&["adopt", "app", "--resource", "NewRepo", "--yes"])
        .code(1)
        .stderr_has("`NewRepo` (AWS::ECR::Repository): repository `team-a/new` does not exist");
    p.run(&["adopt", "app", "--resource", "Nope", "--yes"])
        .code(1)
        .stderr_has("`Nope` is not a resource of its template");
    // Without a terminal and without --yes: refused, nothing imported.
    p.run(&["adopt", "app"]).code(3);

    let adopted = p.run(&["adopt", "app", "--yes"]);
    adopted
        .success()
        .stderr_has(
            "adopt   ApiRepo (AWS::ECR::Repository): repository `team-a/api` exists with 1 image",
        )
        .stderr_has("~ /ImageTagMutability: MUTABLE -> IMMUTABLE")
        .stderr_has("adopt   AppRole (AWS::IAM::Role): role `app-role` exists")
        .stderr_has(
            "create  NewRepo (AWS::ECR::Repository): repository `team-a/new` does not exist",
        );
    // The plan of the update after the import shows the change of the property that differed.
    adopted
        .stdout_has("Modify  ApiRepo  AWS::ECR::Repository")
        .stdout_has("~ Properties.ImageTagMutability")
        .stdout_has("-\"MUTABLE\"")
        .stdout_has("+\"IMMUTABLE\"")
        .stdout_has("Add     NewRepo  AWS::ECR::Repository");
    assert_eq!(images(&rt, &ecr, "team-a/api"), 1, "no image lost");
    assert_eq!(mutability(&rt, &ecr, "team-a/api"), "IMMUTABLE");
    assert_eq!(mutability(&rt, &ecr, "team-a/new"), "IMMUTABLE");
    assert_eq!(
        stack_resources(&rt, &emulator, "app"),
        vec!["ApiRepo", "AppRole", "NewRepo"]
    );
    p.run(&["plan", "app", "--detailed-exitcode"]).code(0);
}

#[test]
fn a_destroyed_stack_with_retained_repositories_is_adopted_again() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(&rt, &emulator));
    let p = TestProject::new().with_emulator(&emulator);
    p.template(
        "repos.json.njk",
        r#"{"Resources": {"Repo": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain",
           "Properties": {"RepositoryName": "kept/repo", "ImageTagMutability": "IMMUTABLE"}}}}"#,
    );
    p.stack("repos", "repos.json.njk", "");
    p.run(&["apply", "repos", "--yes"]).success();
    put_test_image(&rt, &ecr, "kept/repo", "v1");
    p.run(&["destroy", "repos", "--yes"]).success();
    assert_eq!(images(&rt, &ecr, "kept/repo"), 1, "retained");

    p.run(&["plan", "repos"]).success().stdout_has(
        "repository `kept/repo` exists with 1 image (Repo): adopt it with `little adopt repos`",
    );
    p.run(&["apply", "repos", "--yes"])
        .code(3)
        .stderr_has("adopt it with `little adopt repos`");
    p.run(&["adopt", "repos", "--yes"]).success();
    assert_eq!(images(&rt, &ecr, "kept/repo"), 1, "nothing deleted");
    assert_eq!(stack_resources(&rt, &emulator, "repos"), vec!["Repo"]);
    p.run(&["plan", "repos", "--detailed-exitcode"]).code(0);
}

#[test]
fn a_type_that_cannot_be_imported_and_nothing_to_adopt_are_errors_naming_the_resource() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    p.template(
        "reg.json.njk",
        r#"{"Resources": {
             "Registry": {"Type": "AWS::ECR::RegistryPolicy", "Properties": {"PolicyText": {"Version": "2012-10-17", "Statement": []}}},
             "Repo": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain", "Properties": {"RepositoryName": "not/there"}}}}"#,
    );
    p.stack("reg", "reg.json.njk", "");
    p.run(&["adopt", "reg", "--resource", "Registry", "--yes"])
        .code(1)
        .stderr_has("`Registry` (AWS::ECR::RegistryPolicy) cannot be adopted")
        .stderr_has("AWS::ECR::RegistryPolicy is not one of them");
    p.run(&["adopt", "reg", "--yes"])
        .code(1)
        .stderr_has("nothing to adopt")
        .stderr_has("`Repo`: repository `not/there` does not exist");
}

const LIFECYCLE: &str = r#"{"rules":[{"rulePriority":1,"description":"keep 5 untagged","selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#;
const PULL: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#;

#[test]
fn discover_writes_configs_that_validate_and_that_adopt_takes_over() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let ecr = aws_sdk_ecr::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let p = TestProject::new().with_emulator(&emulator);
    for t in [
        "templates/ecr/repositories.json.njk",
        "templates/iam/roles.json.njk",
        "templates/lib/macros.njk",
    ] {
        p.file(t, &std::fs::read_to_string(repo().join(t)).unwrap());
    }
    // A repository a stack manages: not discovered.
    p.template(
        "managed.json.njk",
        r#"{"Resources": {"Repo": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain",
           "Properties": {"RepositoryName": "managed/one", "ImageTagMutability": "IMMUTABLE"}}}}"#,
    );
    p.stack("managed", "managed.json.njk", "");
    p.run(&["apply", "managed", "--yes"]).success();
    // Made by hand: a mutable repository with an image and both policies, and a role.
    repository(&rt, &ecr, "legacy/api", ImageTagMutability::Mutable);
    rt.block_on(async {
        ecr.put_lifecycle_policy()
            .repository_name("legacy/api")
            .lifecycle_policy_text(LIFECYCLE)
            .send()
            .await
            .unwrap();
        ecr.set_repository_policy()
            .repository_name("legacy/api")
            .policy_text(PULL)
            .send()
            .await
            .unwrap();
        iam.create_role()
            .role_name("legacy-app")
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .unwrap();
    });
    put_test_image(&rt, &ecr, "legacy/api", "v1");

    let discovered = p.run(&["discover", "--output", "stacks/legacy", "--name", "legacy"]);
    discovered
        .success()
        .stderr_has("found 1 repository and 1 role that no stack manages in us-east-1 (1 managed by stacks)")
        .stdout_has("legacy-repositories.yaml (stack `legacy-repositories`)")
        .stdout_has("legacy-roles.yaml (stack `legacy-roles`)");
    let text =
        std::fs::read_to_string(p.path().join("stacks/legacy/legacy-repositories.yaml")).unwrap();
    assert!(text.contains("legacy/api: tags are MUTABLE"), "{text}");
    assert!(!text.contains("managed/one"), "{text}");
    // Written again into the same place: nothing is overwritten.
    p.run(&["discover", "--output", "stacks/legacy", "--name", "legacy"])
        .code(1)
        .stderr_has("legacy-repositories.yaml");
    p.run(&["validate", "legacy-repositories", "legacy-roles"])
        .success();
    p.run(&["plan", "legacy-repositories"])
        .success()
        .stdout_has("repository `legacy/api` exists with 1 image (RepoLegacyApi)");

    let adopted = p.run(&["adopt", "legacy-repositories", "legacy-roles", "--yes"]);
    adopted
        .success()
        .stderr_has("adopt   RepoLegacyApi (AWS::ECR::Repository)")
        .stderr_has("~ /ImageTagMutability: MUTABLE -> IMMUTABLE")
        .stderr_has("adopt   RoleLegacyApp (AWS::IAM::Role): role `legacy-app` exists");
    // The policies were carried as they are: no difference there.
    for unchanged in [
        "/LifecyclePolicy",
        "/RepositoryPolicyText",
        "/AssumeRolePolicyDocument",
    ] {
        assert!(
            !adopted.stderr.contains(unchanged),
            "{unchanged}:\n{}",
            adopted.stderr
        );
    }
    assert_eq!(images(&rt, &ecr, "legacy/api"), 1, "no image lost");
    assert_eq!(mutability(&rt, &ecr, "legacy/api"), "IMMUTABLE");
    assert_eq!(
        stack_resources(&rt, &emulator, "legacy-roles"),
        vec!["RoleLegacyApp"]
    );
    p.run(&["plan", "--all", "--detailed-exitcode"]).code(0);
    // Nothing is left to discover.
    p.run(&["discover"]).success().stderr_has(
        "found 0 repositories and 0 roles that no stack manages in us-east-1 (3 managed by stacks)",
    );
}

#[test]
fn an_existing_queue_bucket_with_objects_and_kms_alias_are_adopted_and_then_plan_clean() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let s3 = aws_sdk_s3::Client::new(&config);
    let url = rt
        .block_on(sqs.create_queue().queue_name("adopted-jobs").send())
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    rt.block_on(s3.create_bucket().bucket("adopted-data").send())
        .unwrap();
    rt.block_on(
        s3.put_object()
            .bucket("adopted-data")
            .key("kept.txt")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"kept"))
            .send(),
    )
    .unwrap();

    let kms = aws_sdk_kms::Client::new(&config);
    let key = rt
        .block_on(kms.create_key().send())
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    rt.block_on(
        kms.create_alias()
            .alias_name("alias/adopted")
            .target_key_id(&key)
            .send(),
    )
    .unwrap();

    let p = TestProject::new().with_emulator(&emulator);
    p.template(
        "data.json.njk",
        &r#"{"Resources": {
             "Key": {"Type": "AWS::KMS::Alias", "DeletionPolicy": "Retain",
               "Properties": {"AliasName": "alias/adopted", "TargetKeyId": "KEY"}},
             "Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain",
               "Properties": {"BucketName": "adopted-data"}},
             "Jobs": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain",
               "Properties": {"QueueName": "adopted-jobs", "VisibilityTimeout": 60}}}}"#
            .replace("KEY", &key),
    );
    p.stack("data", "data.json.njk", "");
    p.run(&["plan", "data"]).success().stdout_has(
        "bucket `adopted-data` exists and holds objects (Data): adopt it with `little adopt data`",
    );
    p.run(&["adopt", "data", "--yes"])
        .success()
        .stderr_has(
            "adopt   Data (AWS::S3::Bucket): bucket `adopted-data` exists and holds objects",
        )
        .stderr_has(&format!(
            "adopt   Jobs (AWS::SQS::Queue): queue `adopted-jobs` exists ({url})"
        ))
        .stderr_has("adopt   Key (AWS::KMS::Alias): KMS alias `alias/adopted` exists")
        .stderr_has("differences not compared for this type");
    assert_eq!(
        stack_resources(&rt, &emulator, "data"),
        vec!["Data", "Jobs", "Key"]
    );
    let kept = rt
        .block_on(s3.list_objects_v2().bucket("adopted-data").send())
        .unwrap();
    assert_eq!(kept.contents().len(), 1, "the object is still there");
    // The update after the import applied the template's visibility timeout.
    let attributes = rt
        .block_on(
            sqs.get_queue_attributes()
                .queue_url(&url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout)
                .send(),
        )
        .unwrap();
    assert_eq!(
        attributes
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout))
            .map(String::as_str),
        Some("60")
    );
    p.run(&["plan", "data", "--detailed-exitcode"]).code(0);
}
