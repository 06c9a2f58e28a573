//! Images in use on the emulator: an ECS service and a Lambda function run images of a
//! repository whose lifecycle policy keeps only the newest; `little audit` reports both images
//! in use, with their users, and a HIGH `ecr.lifecycle-expires-in-use` finding for each.
//!
//! moto accepts an ECS service without container instances (no task runs: the running tasks'
//! digests are covered by the SDK-mock tests in `src/aws/workloads`), and the launcher answers
//! Lambda's ResolvedImageUri as AWS does (scripts/moto-server.py).

use std::time::Duration;

/// The audit of only `ecr.lifecycle-expires-in-use`, as JSON, of the emulator's account.
pub const EXPIRING_IN_USE_JSON: [&str; 6] = [
    "audit",
    "--no-stacks",
    "--check",
    "ecr.lifecycle-expires-in-use",
    "--format",
    "json",
];

use aws_sdk_ecs::types::ContainerDefinition;
use aws_sdk_lambda::types::{FunctionCode, PackageType};
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::cfn::emulator_config;
use crate::harness::{Emulator, TestProject};

pub(crate) const REPO: &str = "inuse/api";
const KEEP_ONE: &str = r#"{"rules":[{"rulePriority":1,"description":"keep the newest","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#;

/// A Docker image manifest (schema 2) of one layer; `n` makes the image distinct (moto
/// 5.2.5 derives an image's digest from its layers' digests alone, AWS from the whole
/// manifest: distinct layers give distinct digests in both).
pub(crate) fn manifest(n: usize) -> String {
    let size = 1469 + n;
    let layer = format!("{:064x}", 0x4abc_f206_6143_2fb2_u64 + n as u64);
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{size},"digest":"sha256:9a1f7c6f7e3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c"}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3623807,"digest":"sha256:{layer}"}}]}}"#
    )
}

/// The repository with v1, v2, v3 pushed a second apart (ECR orders images by push time),
/// and its policy; the repository's URI and the digests, oldest first.
pub(crate) fn repository(rt: &Runtime, emulator: &Emulator) -> (String, Vec<String>) {
    let ecr = aws_sdk_ecr::Client::new(&emulator_config(rt, emulator));
    rt.block_on(async {
        let uri = ecr
            .create_repository()
            .repository_name(REPO)
            .send()
            .await
            .unwrap()
            .repository
            .and_then(|r| r.repository_uri)
            .unwrap();
        ecr.put_lifecycle_policy()
            .repository_name(REPO)
            .lifecycle_policy_text(KEEP_ONE)
            .send()
            .await
            .unwrap();
        let mut digests = Vec::new();
        for (n, tag) in ["v1", "v2", "v3"].iter().enumerate() {
            if n > 0 {
                tokio::time::sleep(Duration::from_millis(1100)).await;
            }
            let put = ecr
                .put_image()
                .repository_name(REPO)
                .image_manifest(manifest(n))
                .image_manifest_media_type("application/vnd.docker.distribution.manifest.v2+json")
                .image_tag(*tag)
                .send()
                .await
                .unwrap();
            digests.push(
                put.image
                    .and_then(|i| i.image_id)
                    .and_then(|i| i.image_digest)
                    .unwrap(),
            );
        }
        (uri, digests)
    })
}

/// An ECS service in cluster `prod` running `image`.
pub(crate) fn ecs_service(rt: &Runtime, emulator: &Emulator, image: &str) {
    let ecs = aws_sdk_ecs::Client::new(&emulator_config(rt, emulator));
    rt.block_on(async {
        ecs.create_cluster()
            .cluster_name("prod")
            .send()
            .await
            .unwrap();
        ecs.register_task_definition()
            .family("api")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("api")
                    .image(image)
                    .memory(512)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        ecs.create_service()
            .cluster("prod")
            .service_name("api")
            .task_definition("api")
            .desired_count(1)
            .send()
            .await
            .unwrap();
    });
}

/// A Lambda function `worker` packaged as `image`.
fn lambda_function(rt: &Runtime, emulator: &Emulator, image: &str) {
    let config = emulator_config(rt, emulator);
    let iam = aws_sdk_iam::Client::new(&config);
    let lambda = aws_sdk_lambda::Client::new(&config);
    rt.block_on(async {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let role = iam
            .create_role()
            .role_name("worker")
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap()
            .role
            .unwrap()
            .arn;
        lambda
            .create_function()
            .function_name("worker")
            .role(role)
            .package_type(PackageType::Image)
            .code(FunctionCode::builder().image_uri(image).build())
            .send()
            .await
            .unwrap();
    });
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_lifecycle_policy_that_would_expire_running_images_is_reported_with_their_users() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let (uri, digests) = repository(&rt, &emulator);
    // The oldest by tag on ECS, the second by digest on Lambda; the newest runs nowhere.
    ecs_service(&rt, &emulator, &format!("{uri}:v1"));
    lambda_function(&rt, &emulator, &format!("{uri}@{}", digests[1]));

    let p = TestProject::new().with_emulator(&emulator);
    let out = p.run(&["audit", "--no-stacks", "--format", "json"]);
    out.code(2);
    let report = out.json();
    let in_use: Vec<(String, String, Vec<String>, Vec<String>)> = report["images_in_use"]
        .as_array()
        .unwrap_or_else(|| panic!("no images_in_use in {report}"))
        .iter()
        .map(|i| {
            (
                i["repository"].as_str().unwrap().to_owned(),
                i["digest"].as_str().unwrap().to_owned(),
                strings(&i["tags"]),
                strings(&i["in_use_by"]),
            )
        })
        .collect();
    let mut want = vec![
        (
            REPO.to_owned(),
            digests[0].clone(),
            vec!["v1".to_owned()],
            vec!["ecs:prod/api".to_owned()],
        ),
        (
            REPO.to_owned(),
            digests[1].clone(),
            vec!["v2".to_owned()],
            vec!["lambda:worker".to_owned()],
        ),
    ];
    want.sort();
    assert_eq!(in_use, want);

    let mut expiring: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "ecr.lifecycle-expires-in-use")
        .map(|f| {
            assert_eq!(f["severity"], "HIGH", "{f}");
            assert_eq!(f["resource"], REPO, "{f}");
            (
                f["severity"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    expiring.sort();
    let message = |tag: &str, digest: &str, user: &str| {
        format!("the lifecycle policy of repository `{REPO}` would expire image `{REPO}:{tag}` ({digest}), which is in use by {user}: rule 1 (any image, beyond the newest 1)")
    };
    let mut want = vec![
        (
            "HIGH".to_owned(),
            message("v1", &digests[0], "ecs:prod/api"),
        ),
        (
            "HIGH".to_owned(),
            message("v2", &digests[1], "lambda:worker"),
        ),
    ];
    want.sort();
    assert_eq!(expiring, want, "{report}");
    assert!(report["not_checked"].is_null(), "{report}");

    // The text output names the users too; the check alone selects only its reads.
    let text = p.run(&[
        "audit",
        "--no-stacks",
        "--check",
        "ecr.lifecycle-expires-in-use",
    ]);
    text.code(2).stdout_has("which is in use by ecs:prod/api");

    // The newest image running instead: nothing in use would expire.
    let ecs = aws_sdk_ecs::Client::new(&emulator_config(&rt, &emulator));
    rt.block_on(async {
        ecs.register_task_definition()
            .family("api")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("api")
                    .image(format!("{uri}:v3"))
                    .memory(512)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        ecs.update_service()
            .cluster("prod")
            .service("api")
            .task_definition("api:2")
            .send()
            .await
            .unwrap();
    });
    let after = p.run(&EXPIRING_IN_USE_JSON);
    let report = after.json();
    let users: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users.len(), 1, "{report}");
    assert!(users[0].contains("lambda:worker"), "{report}");
}

#[test]
fn a_denied_lambda_call_leaves_the_check_not_checked_and_still_reports_what_ecs_runs() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let (uri, digests) = repository(&rt, &emulator);
    ecs_service(&rt, &emulator, &format!("{uri}:v1"));
    lambda_function(&rt, &emulator, &format!("{uri}@{}", digests[1]));
    let (id, secret) = crate::least_privilege::user(
        &rt,
        &emulator,
        "no-lambda",
        &[
            "ecr:DescribeRepositories",
            "ecr:GetLifecyclePolicy",
            "ecr:DescribeImages",
            "ecs:ListClusters",
            "ecs:ListServices",
            "ecs:DescribeServices",
            "ecs:DescribeTaskDefinition",
            "ecs:ListTasks",
            "ecs:DescribeTasks",
        ],
    );
    let p = TestProject::new()
        .with_emulator(&emulator)
        .with_credentials(&id, &secret);
    let _iam = emulator.enforce_iam();
    let out = p.run(&EXPIRING_IN_USE_JSON);
    out.code(2);
    let report = out.json();
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 1, "{report}");
    assert!(messages[0].contains("in use by ecs:prod/api"), "{report}");
    assert_eq!(
        report["not_checked"][0]["permission"], "lambda:ListFunctions",
        "{report}"
    );
    assert_eq!(report["not_checked"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["errors"], serde_json::json!([]));
}

#[test]
fn an_alias_keeps_its_version_in_use_and_running_images_are_held_to_their_scans() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let (uri, digests) = repository(&rt, &emulator);
    ecs_service(&rt, &emulator, &format!("{uri}:v1"));
    // Version 1 of `worker` runs v2 behind the alias `live`; `$LATEST` has moved on to v3.
    lambda_function(&rt, &emulator, &format!("{uri}:v2"));
    let config = emulator_config(&rt, &emulator);
    let lambda = aws_sdk_lambda::Client::new(&config);
    let ecr = aws_sdk_ecr::Client::new(&config);
    rt.block_on(async {
        let version = lambda
            .publish_version()
            .function_name("worker")
            .send()
            .await
            .unwrap()
            .version
            .unwrap();
        lambda
            .create_alias()
            .function_name("worker")
            .name("live")
            .function_version(version)
            .send()
            .await
            .unwrap();
        lambda
            .update_function_code()
            .function_name("worker")
            .image_uri(format!("{uri}:v3"))
            .send()
            .await
            .unwrap();
        // v1 is scanned (the emulator's scan finds one HIGH); v2 and v3 never are.
        ecr.start_image_scan()
            .repository_name(REPO)
            .image_id(
                aws_sdk_ecr::types::ImageIdentifier::builder()
                    .image_tag("v1")
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });

    let p = TestProject::new().with_emulator(&emulator);
    let out = p.run(&[
        "-v",
        "audit",
        "--no-stacks",
        "--check",
        "ecr.lifecycle-expires-in-use",
        "--check",
        "ecr.in-use",
        "--format",
        "json",
    ]);
    out.code(2);
    let report = out.json();
    let in_use: Vec<(String, Vec<String>)> = report["images_in_use"]
        .as_array()
        .unwrap_or_else(|| panic!("no images_in_use in {report}"))
        .iter()
        .map(|i| {
            (
                i["digest"].as_str().unwrap().to_owned(),
                strings(&i["in_use_by"]),
            )
        })
        .collect();
    let mut want = vec![
        (digests[0].clone(), vec!["ecs:prod/api".to_owned()]),
        (digests[1].clone(), vec!["lambda:worker:live".to_owned()]),
        (digests[2].clone(), vec!["lambda:worker".to_owned()]),
    ];
    want.sort();
    assert_eq!(in_use, want, "{report}");

    let mut found: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    let label = |tag: &str, n: usize| format!("image `{REPO}:{tag}` ({})", digests[n]);
    let mut want = vec![
        (
            "ecr.in-use-image-findings".to_owned(),
            "HIGH".to_owned(),
            format!("{}, in use by ecs:prod/api, has findings at or above HIGH: 1 HIGH", label("v1", 0)),
        ),
        (
            "ecr.in-use-image-scan".to_owned(),
            "MEDIUM".to_owned(),
            format!("{}, in use by lambda:worker:live, has never been scanned", label("v2", 1)),
        ),
        (
            "ecr.in-use-image-scan".to_owned(),
            "MEDIUM".to_owned(),
            format!("{}, in use by lambda:worker, has never been scanned", label("v3", 2)),
        ),
        (
            "ecr.lifecycle-expires-in-use".to_owned(),
            "HIGH".to_owned(),
            format!("the lifecycle policy of repository `{REPO}` would expire image `{REPO}:v1` ({}), which is in use by ecs:prod/api: rule 1 (any image, beyond the newest 1)", digests[0]),
        ),
        (
            "ecr.lifecycle-expires-in-use".to_owned(),
            "HIGH".to_owned(),
            format!("the lifecycle policy of repository `{REPO}` would expire image `{REPO}:v2` ({}), which is in use by lambda:worker:live: rule 1 (any image, beyond the newest 1)", digests[1]),
        ),
    ];
    want.sort();
    assert_eq!(found, want, "{report}");
    // The scans come with the images: no DescribeImageScanFindings.
    assert!(
        !out.stderr.contains("ecr:DescribeImageScanFindings"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("lambda:ListAliases"), "{}", out.stderr);
}
