//! The ECR audit against the local emulator, through the library: repositories that violate
//! each check and one that complies, gathered and checked; then `remediate` sets tag
//! immutability and a second audit finds no mutable repository.
//!
//! moto keeps ECR's configuration faithfully but ignores `maxResults`, and its scan findings
//! are one fake HIGH finding after StartImageScan; pagination and enhanced findings are
//! covered by the SDK-mock unit tests in `src/aws/ecr.rs`.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_ecr::types::{
    EncryptionConfiguration, EncryptionType, ImageIdentifier, ImageScanningConfiguration,
    ImageTagMutability,
};
use little_stack::audit::ecr::{
    check_repository, gather, remediate, EcrSettings, CHECK_ENCRYPTION, CHECK_IMAGE_FINDINGS,
    CHECK_LIFECYCLE, CHECK_LIFECYCLE_INEFFECTIVE, CHECK_REPOSITORY_POLICY, CHECK_SCANNING,
    CHECK_TAG_IMMUTABILITY,
};
use little_stack::audit::model::{Finding, Severity};
use little_stack::aws::ecr::EcrClient;
use tokio::runtime::Runtime;

use crate::cfn::emulator_config;
use crate::harness::Emulator;

const ACCOUNT: &str = "123456789012";
const KMS_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/5f0c2a1e-3b4d-4c6e-8f7a-9b0c1d2e3f4a";

const LIFECYCLE: &str = r#"{"rules":[{"rulePriority":1,"description":"expire untagged images","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#;

const PUBLIC_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicPull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#;

const FOREIGN_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PartnerPull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#;

/// A minimal Docker image manifest (schema 2).
const MANIFEST: &str = r#"{
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
  "config": {
    "mediaType": "application/vnd.docker.container.image.v1+json",
    "size": 1469,
    "digest": "sha256:9a1f7c6f7e3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c"
  },
  "layers": [
    {
      "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
      "size": 3623807,
      "digest": "sha256:4abcf20661432fb2d719aaf90656f55c287f8ca915dc1c92ec14ff61e67fbaf8"
    }
  ]
}"#;

struct Repo {
    name: &'static str,
    mutability: ImageTagMutability,
    scan_on_push: bool,
    kms: bool,
    lifecycle: bool,
    policy: Option<&'static str>,
    image: bool,
}

/// A compliant repository of this name.
fn good(name: &'static str) -> Repo {
    Repo {
        name,
        mutability: ImageTagMutability::Immutable,
        scan_on_push: true,
        kms: true,
        lifecycle: true,
        policy: None,
        image: false,
    }
}

fn create(rt: &Runtime, ecr: &aws_sdk_ecr::Client, repo: &Repo) {
    let encryption = if repo.kms {
        EncryptionConfiguration::builder()
            .encryption_type(EncryptionType::Kms)
            .kms_key(KMS_KEY)
    } else {
        EncryptionConfiguration::builder().encryption_type(EncryptionType::Aes256)
    };
    rt.block_on(
        ecr.create_repository()
            .repository_name(repo.name)
            .image_tag_mutability(repo.mutability.clone())
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(repo.scan_on_push)
                    .build(),
            )
            .encryption_configuration(encryption.build().unwrap())
            .send(),
    )
    .unwrap_or_else(|e| panic!("create {}: {e:?}", repo.name));
    if repo.lifecycle {
        rt.block_on(
            ecr.put_lifecycle_policy()
                .repository_name(repo.name)
                .lifecycle_policy_text(LIFECYCLE)
                .send(),
        )
        .unwrap_or_else(|e| panic!("lifecycle of {}: {e:?}", repo.name));
    }
    if let Some(policy) = repo.policy {
        rt.block_on(
            ecr.set_repository_policy()
                .repository_name(repo.name)
                .policy_text(policy)
                .send(),
        )
        .unwrap_or_else(|e| panic!("policy of {}: {e:?}", repo.name));
    }
    if repo.image {
        let put = rt
            .block_on(
                ecr.put_image()
                    .repository_name(repo.name)
                    .image_manifest(MANIFEST)
                    .image_manifest_media_type(
                        "application/vnd.docker.distribution.manifest.v2+json",
                    )
                    .image_tag("v1.2.0")
                    .send(),
            )
            .unwrap_or_else(|e| panic!("put image into {}: {e:?}", repo.name));
        let digest = put
            .image()
            .and_then(|i| i.image_id())
            .and_then(|i| i.image_digest())
            .expect("the image's digest")
            .to_owned();
        rt.block_on(
            ecr.start_image_scan()
                .repository_name(repo.name)
                .image_id(ImageIdentifier::builder().image_digest(digest).build())
                .send(),
        )
        .unwrap_or_else(|e| panic!("scan in {}: {e:?}", repo.name));
    }
}

fn settings() -> EcrSettings {
    EcrSettings {
        exclude_repositories: vec!["sandbox/*".into()],
        require_kms: true,
        known_accounts: vec![ACCOUNT.into(), "210987654321".into()],
        ..EcrSettings::default()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Gathers and checks the registry as `little audit` does; the findings and the number of
/// repositories and images looked at.
fn audit(
    rt: &Runtime,
    ecr: &EcrClient,
) -> (
    Vec<Finding>,
    Vec<little_stack::audit::ecr::RepositoryFacts>,
    usize,
) {
    let settings = settings();
    let limit = little_stack::audit::ecr::repository_limit(little_stack::audit::ecr::CONCURRENCY);
    let (registry, facts, images) = rt.block_on(gather(ecr, &settings, &limit)).expect("gather");
    let findings = facts
        .iter()
        .flat_map(|f| check_repository(f, &registry, &settings, ACCOUNT, "us-east-1", now()))
        .collect();
    (findings, facts, images)
}

fn pairs(findings: &[Finding]) -> BTreeSet<(String, String)> {
    findings
        .iter()
        .map(|f| (f.check.clone(), f.resource.clone()))
        .collect()
}

#[test]
fn the_audit_finds_each_violation_and_remediates_tag_mutability() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let sdk = aws_sdk_ecr::Client::new(&config);
    let repos = [
        Repo {
            mutability: ImageTagMutability::Mutable,
            ..good("audit/mutable")
        },
        Repo {
            lifecycle: false,
            ..good("audit/no-lifecycle")
        },
        Repo {
            scan_on_push: false,
            ..good("audit/unscanned")
        },
        Repo {
            policy: Some(PUBLIC_POLICY),
            ..good("audit/public")
        },
        Repo {
            policy: Some(FOREIGN_POLICY),
            ..good("audit/foreign")
        },
        Repo {
            kms: false,
            ..good("audit/aes")
        },
        Repo {
            image: true,
            ..good("audit/scanned")
        },
        good("audit/good"),
        // Excluded: violates everything, reported nowhere.
        Repo {
            mutability: ImageTagMutability::Mutable,
            scan_on_push: false,
            kms: false,
            lifecycle: false,
            policy: Some(PUBLIC_POLICY),
            ..good("sandbox/scratch")
        },
    ];
    for repo in &repos {
        create(&rt, &sdk, repo);
    }

    let ecr = EcrClient::new(&config);
    let (findings, facts, images) = audit(&rt, &ecr);
    let want: BTreeSet<(String, String)> = [
        (CHECK_TAG_IMMUTABILITY, "audit/mutable"),
        (CHECK_LIFECYCLE, "audit/no-lifecycle"),
        (CHECK_SCANNING, "audit/unscanned"),
        (CHECK_REPOSITORY_POLICY, "audit/public"),
        (CHECK_REPOSITORY_POLICY, "audit/foreign"),
        (CHECK_ENCRYPTION, "audit/aes"),
        (CHECK_IMAGE_FINDINGS, "audit/scanned"),
        // Its policy expires untagged images only, and it holds one tagged image.
        (CHECK_LIFECYCLE_INEFFECTIVE, "audit/scanned"),
    ]
    .into_iter()
    .map(|(c, r)| (c.to_owned(), r.to_owned()))
    .collect();
    assert_eq!(pairs(&findings), want, "{findings:#?}");
    assert_eq!(facts.len(), 8);
    assert_eq!(images, 1);

    let by = |check: &str, resource: &str| {
        findings
            .iter()
            .find(|f| f.check == check && f.resource == resource)
            .unwrap()
            .clone()
    };
    let public = by(CHECK_REPOSITORY_POLICY, "audit/public");
    assert_eq!(public.severity, Severity::Critical);
    let foreign = by(CHECK_REPOSITORY_POLICY, "audit/foreign");
    assert_eq!(foreign.severity, Severity::High);
    assert!(
        foreign.message.contains("`999999999999`"),
        "{}",
        foreign.message
    );
    let scanned = by(CHECK_IMAGE_FINDINGS, "audit/scanned");
    assert_eq!(scanned.severity, Severity::High);
    assert!(
        scanned
            .message
            .starts_with("`audit/scanned:v1.2.0` (sha256:"),
        "{}",
        scanned.message
    );
    assert!(
        scanned.message.ends_with("): 1 HIGH"),
        "{}",
        scanned.message
    );
    let mutable = by(CHECK_TAG_IMMUTABILITY, "audit/mutable");
    assert_eq!(mutable.control.as_deref(), Some("ECR.2"));
    assert_eq!(
        mutable.arn.as_deref(),
        Some("arn:aws:ecr:us-east-1:123456789012:repository/audit/mutable")
    );
    assert_eq!(mutable.account.as_deref(), Some(ACCOUNT));
    assert_eq!(mutable.region.as_deref(), Some("us-east-1"));

    let mut findings = findings;
    rt.block_on(remediate(&ecr, &mut findings, &facts, true))
        .expect("remediate");
    let remediation = by_check(&findings, CHECK_TAG_IMMUTABILITY)
        .remediation
        .clone()
        .expect("a remediation");
    assert!(remediation.applied);
    assert_eq!(remediation.action, "ecr:PutImageTagMutability");
    assert_eq!(remediation.before, "MUTABLE");
    assert_eq!(remediation.after, "IMMUTABLE");

    let (again, _, _) = audit(&rt, &ecr);
    assert!(
        again.iter().all(|f| f.check != CHECK_TAG_IMMUTABILITY),
        "{again:#?}"
    );
    let mut want_after = want;
    want_after.remove(&(
        CHECK_TAG_IMMUTABILITY.to_owned(),
        "audit/mutable".to_owned(),
    ));
    assert_eq!(pairs(&again), want_after);
    // The excluded repository was left alone.
    let scratch = rt
        .block_on(
            sdk.describe_repositories()
                .repository_names("sandbox/scratch")
                .send(),
        )
        .unwrap();
    assert_eq!(
        scratch.repositories()[0].image_tag_mutability(),
        Some(&ImageTagMutability::Mutable)
    );
}

fn by_check<'a>(findings: &'a [Finding], check: &str) -> &'a Finding {
    findings.iter().find(|f| f.check == check).unwrap()
}

/// Pushes one distinct image (its own layer, so its own digest) per tag.
fn push(rt: &Runtime, ecr: &aws_sdk_ecr::Client, repo: &str, tags: &[&str]) {
    static PUSHED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    for tag in tags {
        let n = PUSHED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let manifest = crate::in_use::manifest(100 + n);
        rt.block_on(
            ecr.put_image()
                .repository_name(repo)
                .image_manifest(manifest)
                .image_manifest_media_type("application/vnd.docker.distribution.manifest.v2+json")
                .image_tag(*tag)
                .send(),
        )
        .unwrap_or_else(|e| panic!("put {repo}:{tag}: {e:?}"));
    }
}

#[test]
fn a_lifecycle_policy_that_matches_no_image_is_ineffective() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let sdk = aws_sdk_ecr::Client::new(&config);
    // A prefix that none of the tags has (the team tags `v1.2.3`), and a policy that acts.
    let never = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["release-"],"countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}}]}"#;
    let acts = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}"#;
    for (repo, policy) in [("lifecycle/never", never), ("lifecycle/acts", acts)] {
        create(
            &rt,
            &sdk,
            &Repo {
                lifecycle: false,
                ..good(repo)
            },
        );
        rt.block_on(
            sdk.put_lifecycle_policy()
                .repository_name(repo)
                .lifecycle_policy_text(policy)
                .send(),
        )
        .unwrap();
        push(&rt, &sdk, repo, &["v1.0.0", "v1.1.0", "v1.2.0"]);
    }
    let ecr = EcrClient::new(&config);
    let (findings, _, _) = audit(&rt, &ecr);
    let ineffective: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.check == CHECK_LIFECYCLE_INEFFECTIVE && f.resource.starts_with("lifecycle/"))
        .collect();
    assert_eq!(ineffective.len(), 1, "{findings:#?}");
    assert_eq!(ineffective[0].resource, "lifecycle/never");
    assert_eq!(ineffective[0].severity, Severity::Medium);
    assert_eq!(
        ineffective[0].message,
        "the lifecycle policy of repository `lifecycle/never` never expires an image: of its 3 images, rule 1 (tags starting release-, beyond the newest 3) matches none of them"
    );
}

#[test]
fn lifecycle_preview_lists_what_the_deployed_or_a_proposed_policy_expires() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let sdk = aws_sdk_ecr::Client::new(&config);
    let repo = "preview/api";
    create(
        &rt,
        &sdk,
        &Repo {
            lifecycle: false,
            ..good(repo)
        },
    );
    // Rule 1 keeps the newest release- image, rule 2 the newest one of any other: the
    // guide's rule-priority interplay (a release image is never rule 2's to expire).
    let deployed = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["release-"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},{"rulePriority":2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#;
    rt.block_on(
        sdk.put_lifecycle_policy()
            .repository_name(repo)
            .lifecycle_policy_text(deployed)
            .send(),
    )
    .unwrap();
    for tag in ["release-1", "dev-1", "release-2", "dev-2"] {
        push(&rt, &sdk, repo, &[tag]);
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    let p = crate::harness::TestProject::new().with_emulator(&emulator);
    let out = p.run(&["--region", "us-east-1", "ecr", "lifecycle-preview", repo]);
    out.success()
        .stdout_has("preview/api: its lifecycle policy expires 2 of 4 images now\n");
    let text = out.stdout.clone();
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains("expire  release-1") && lines[0].ends_with("rule 1"),
        "{text}"
    );
    assert!(
        lines[1].contains("expire  dev-1") && lines[1].ends_with("rule 2"),
        "{text}"
    );

    // A proposed policy from a file: keep 3 of any kind expires the oldest image only.
    p.file(
        "keep-3.json",
        r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}}]}"#,
    );
    let out = p.run(&[
        "--region",
        "us-east-1",
        "ecr",
        "lifecycle-preview",
        repo,
        "--policy",
        "keep-3.json",
        "--format",
        "json",
    ]);
    out.success();
    let json = out.json();
    assert_eq!(json["policy"], "file");
    assert_eq!(json["images"], 4);
    let selected = json["selected"].as_array().unwrap();
    assert_eq!(selected.len(), 1);
    assert_eq!(selected[0]["tags"][0], "release-1");
    // A repository without a policy, and no --policy: a clear error.
    create(
        &rt,
        &sdk,
        &Repo {
            lifecycle: false,
            ..good("preview/none")
        },
    );
    p.run(&["--region", "us-east-1", "ecr", "lifecycle-preview", "preview/none"])
        .code(1)
        .stderr_has("repository `preview/none` has no lifecycle policy: give one to preview with `--policy FILE`");
}
