//! Unit tests of the ECR audit: repository settings, repository policies and image selection.

use super::images::selected_images;
use super::policy::wildcard;
use super::*;
use crate::aws::ecr::{ImageFinding, ScanRule};
use std::sync::Mutex;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "eu-west-1";
/// 2026-11-23T00:00:00Z.
const NOW: u64 = 1_795_392_000;
const DIGEST: &str = "sha256:9c2f4b7e1a3d5c6b8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f";
const LIFECYCLE: &str = r#"{"rules":[{"rulePriority":1,"description":"expire untagged","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#;

fn repo(name: &str) -> Repository {
    Repository {
        name: name.into(),
        arn: format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"),
        uri: format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}"),
        registry_id: ACCOUNT.into(),
        tag_mutability: "IMMUTABLE".into(),
        exclusion_filters: vec![],
        scan_on_push: true,
        encryption_type: "AES256".into(),
        kms_key: None,
    }
}

fn facts(repository: Repository) -> RepositoryFacts {
    RepositoryFacts {
        repository,
        lifecycle: Some(LIFECYCLE.into()),
        policy: None,
        images: vec![],
        listed: vec![],
        unread: vec![],
    }
}

fn basic() -> RegistryScanning {
    RegistryScanning {
        scan_type: "BASIC".into(),
        rules: vec![],
    }
}

fn check(f: &RepositoryFacts, settings: &EcrSettings) -> Vec<Finding> {
    check_repository(f, &basic(), settings, ACCOUNT, REGION, NOW)
}

fn checks(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.check.as_str()).collect()
}

#[test]
fn a_compliant_repository_has_no_findings() {
    assert_eq!(
        check(&facts(repo("team/api")), &EcrSettings::default()),
        vec![]
    );
}

#[test]
fn globs_exclude_repositories() {
    let settings = EcrSettings {
        exclude_repositories: vec!["sandbox/*".into(), "tmp-?".into()],
        ..EcrSettings::default()
    };
    assert!(is_excluded("sandbox/x/y", &settings));
    assert!(is_excluded("tmp-1", &settings));
    assert!(!is_excluded("tmp-12", &settings));
    assert!(!is_excluded("team/api", &settings));
    assert!(wildcard("a*b*c", "aXbYbc", false));
    assert!(!wildcard("a?c", "abc", false));
}

#[test]
fn tag_mutability_fails_unless_immutable() {
    let settings = EcrSettings::default();
    let mut r = repo("team/api");
    r.tag_mutability = "MUTABLE".into();
    let found = check(&facts(r.clone()), &settings);
    assert_eq!(checks(&found), vec![CHECK_TAG_IMMUTABILITY]);
    let f = &found[0];
    assert_eq!(f.control.as_deref(), Some("ECR.2"));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.resource, "team/api");
    assert_eq!(f.resource_type, "AWS::ECR::Repository");
    assert_eq!(f.arn.as_deref(), Some(r.arn.as_str()));
    assert_eq!(f.account.as_deref(), Some(ACCOUNT));
    assert_eq!(f.region.as_deref(), Some(REGION));
    assert!(
        f.message.starts_with("repository `team/api` has mutable"),
        "{}",
        f.message
    );

    r.tag_mutability = "MUTABLE_WITH_EXCLUSION".into();
    r.exclusion_filters = vec!["release-*".into()];
    assert_eq!(
        checks(&check(&facts(r.clone()), &settings)),
        vec![CHECK_TAG_IMMUTABILITY]
    );

    r.tag_mutability = "IMMUTABLE_WITH_EXCLUSION".into();
    r.exclusion_filters = vec!["latest".into()];
    assert!(check(&facts(r.clone()), &settings).is_empty());
    let strict = EcrSettings {
        allow_immutable_with_exclusion: false,
        ..EcrSettings::default()
    };
    let found = check(&facts(r), &strict);
    assert_eq!(checks(&found), vec![CHECK_TAG_IMMUTABILITY]);
    assert!(
        found[0].message.contains("`latest`"),
        "{}",
        found[0].message
    );
}

#[test]
fn scanning_passes_with_scan_on_push_or_a_matching_registry_rule() {
    let settings = EcrSettings::default();
    let mut r = repo("team/api");
    r.scan_on_push = false;
    let f = facts(r);
    let found = check(&f, &settings);
    assert_eq!(checks(&found), vec![CHECK_SCANNING]);
    assert_eq!(found[0].control.as_deref(), Some("ECR.1"));
    assert_eq!(found[0].severity, Severity::High);
    let registry = |frequency: &str, filter: &str| RegistryScanning {
        scan_type: "ENHANCED".into(),
        rules: vec![ScanRule {
            frequency: frequency.into(),
            filters: vec![filter.into()],
        }],
    };
    let run = |reg: RegistryScanning| check_repository(&f, &reg, &settings, ACCOUNT, REGION, NOW);
    assert!(run(registry("CONTINUOUS_SCAN", "team/*")).is_empty());
    assert!(run(registry("SCAN_ON_PUSH", "*")).is_empty());
    assert_eq!(checks(&run(registry("MANUAL", "*"))), vec![CHECK_SCANNING]);
    assert_eq!(
        checks(&run(registry("SCAN_ON_PUSH", "other/*"))),
        vec![CHECK_SCANNING]
    );
}

#[test]
fn lifecycle_must_exist_and_validate() {
    let settings = EcrSettings::default();
    let mut f = facts(repo("team/api"));
    f.lifecycle = None;
    let found = check(&f, &settings);
    assert_eq!(checks(&found), vec![CHECK_LIFECYCLE]);
    assert_eq!(found[0].control.as_deref(), Some("ECR.3"));
    assert_eq!(found[0].severity, Severity::Medium);
    assert!(found[0].message.contains("no lifecycle policy"));

    f.lifecycle = Some(r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"everything","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#.into());
    let found = check(&f, &settings);
    assert_eq!(checks(&found), vec![CHECK_LIFECYCLE]);
    assert!(
        found[0].message.contains("is invalid"),
        "{}",
        found[0].message
    );

    f.lifecycle = Some("{not json".into());
    assert!(check(&f, &settings)[0].message.contains("not JSON"));
}

#[test]
fn encryption_follows_the_settings() {
    let key = "arn:aws:kms:eu-west-1:123456789012:key/1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    let mut r = repo("team/api");
    assert!(check(&facts(r.clone()), &EcrSettings::default()).is_empty());
    let require = EcrSettings {
        require_kms: true,
        ..EcrSettings::default()
    };
    let found = check(&facts(r.clone()), &require);
    assert_eq!(checks(&found), vec![CHECK_ENCRYPTION]);
    assert_eq!(found[0].control.as_deref(), Some("ECR.5"));
    assert_eq!(found[0].severity, Severity::Medium);

    r.encryption_type = "KMS".into();
    r.kms_key = Some(key.into());
    assert!(check(&facts(r.clone()), &require).is_empty());
    let allowed = |k: &str| EcrSettings {
        allowed_kms_keys: vec![k.into()],
        ..EcrSettings::default()
    };
    assert!(check(&facts(r.clone()), &allowed(key)).is_empty());
    assert!(check(
        &facts(r.clone()),
        &allowed("1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f")
    )
    .is_empty());
    let found = check(
        &facts(r.clone()),
        &allowed("arn:aws:kms:eu-west-1:123456789012:key/other"),
    );
    assert_eq!(checks(&found), vec![CHECK_ENCRYPTION]);
    assert!(found[0].message.contains(key));
    r.kms_key = None;
    assert_eq!(
        checks(&check(&facts(r), &allowed(key))),
        vec![CHECK_ENCRYPTION]
    );
}

fn with_policy(policy: &str) -> RepositoryFacts {
    let mut f = facts(repo("team/api"));
    f.policy = Some(policy.into());
    f
}

#[test]
fn a_public_policy_without_a_condition_is_critical() {
    let settings = EcrSettings::default();
    let found = check(
        &with_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#,
        ),
        &settings,
    );
    assert_eq!(checks(&found), vec![CHECK_REPOSITORY_POLICY]);
    assert_eq!(found[0].severity, Severity::Critical);
    assert_eq!(found[0].control, None);
    assert!(
        found[0].message.contains("statement `Pull`"),
        "{}",
        found[0].message
    );

    let restricted = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}"#;
    assert!(check(&with_policy(restricted), &settings).is_empty());
    let denied = r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:*"}]}"#;
    assert!(check(&with_policy(denied), &settings).is_empty());
    let pushing = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"ecr:PutImage","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}}"#;
    let found = check(&with_policy(pushing), &settings);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::High);
    assert!(found[0].message.contains("`ecr:PutImage`"));
}

#[test]
fn cross_account_principals_must_be_known_and_may_not_push() {
    let settings = EcrSettings {
        known_accounts: vec!["210987654321".into()],
        ..EcrSettings::default()
    };
    let pull = |principal: &str| {
        format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":["ecr:BatchGetImage"]}}]}}"#
        )
    };
    assert!(check(
        &with_policy(&pull("arn:aws:iam::210987654321:root")),
        &settings
    )
    .is_empty());
    assert!(check(
        &with_policy(&pull("arn:aws:iam::123456789012:role/ci")),
        &settings
    )
    .is_empty());
    let found = check(&with_policy(&pull("999999999999")), &settings);
    assert_eq!(checks(&found), vec![CHECK_REPOSITORY_POLICY]);
    assert_eq!(found[0].severity, Severity::High);
    assert!(found[0].message.contains("`999999999999`"));
    let found = check(
        &with_policy(&pull("arn:aws:iam::999999999999:role/deploy")),
        &settings,
    );
    assert_eq!(found.len(), 1);

    let push = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:BatchGetImage","ecr:InitiateLayerUpload"]}]}"#;
    let found = check(&with_policy(push), &settings);
    assert_eq!(checks(&found), vec![CHECK_REPOSITORY_POLICY]);
    assert!(
        found[0].message.contains("`ecr:InitiateLayerUpload`"),
        "{}",
        found[0].message
    );
    let all = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"ecr:*"}]}"#;
    assert_eq!(check(&with_policy(all), &settings).len(), 1);
    let not_action = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"NotAction":"ecr:DeleteRepository"}]}"#;
    assert_eq!(check(&with_policy(not_action), &settings).len(), 1);
    let own = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"ecr:*"}]}"#;
    assert!(check(&with_policy(own), &settings).is_empty());
}

fn image(tag: Option<&str>) -> Image {
    Image {
        digest: DIGEST.into(),
        tags: tag.into_iter().map(str::to_owned).collect(),
        pushed_at: Some("2026-11-20T09:00:00Z".into()),
        size: Some(31_457_280),
        last_pulled: None,
        scan: None,
    }
}

fn scan(status: &str, completed: &str, counts: &[(&str, i64)]) -> ScanResult {
    ScanResult {
        status: status.into(),
        description: None,
        completed_at: Some(completed.into()),
        counts: counts.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect(),
        findings: vec![],
    }
}

#[test]
fn image_findings_report_the_counts_and_the_worst_severity() {
    let settings = EcrSettings::default();
    let mut f = facts(repo("team/api"));
    f.images = vec![(
        image(Some("v1.2.0")),
        Some(scan(
            "COMPLETE",
            "2026-11-22T08:00:00Z",
            &[
                ("HIGH", 3),
                ("CRITICAL", 1),
                ("INFORMATIONAL", 7),
                ("LOW", 0),
            ],
        )),
    )];
    let found = check(&f, &settings);
    assert_eq!(checks(&found), vec![CHECK_IMAGE_FINDINGS]);
    assert_eq!(found[0].severity, Severity::Critical);
    assert_eq!(
        found[0].message,
        format!("`team/api:v1.2.0` ({DIGEST}): 1 CRITICAL, 3 HIGH")
    );

    f.images[0].1 = Some(scan(
        "COMPLETE",
        "2026-11-22T08:00:00Z",
        &[("INFORMATIONAL", 2)],
    ));
    assert!(check(&f, &settings).is_empty());

    // Counts from the findings when the summary is missing.
    let mut s = scan("COMPLETE", "2026-11-22T08:00:00Z", &[]);
    s.findings = vec![ImageFinding {
        name: "CVE-9999-9999".into(),
        severity: "MEDIUM".into(),
        package: None,
        uri: None,
        description: None,
    }];
    f.images[0].1 = Some(s);
    let found = check(&f, &settings);
    assert_eq!(found[0].severity, Severity::Medium);
}

#[test]
fn image_scans_must_exist_succeed_and_be_recent() {
    let settings = EcrSettings::default();
    let mut f = facts(repo("team/api"));
    f.images = vec![(image(None), None)];
    let found = check(&f, &settings);
    assert_eq!(checks(&found), vec![CHECK_IMAGE_SCAN]);
    assert_eq!(found[0].severity, Severity::Medium);
    assert_eq!(
        found[0].message,
        format!("image `team/api@{DIGEST}` has never been scanned")
    );

    let mut failed = scan("UNSUPPORTED_IMAGE", "2026-11-22T08:00:00Z", &[]);
    failed.description =
        Some("The operating system and/or package manager are not supported.".into());
    f.images[0].1 = Some(failed);
    let found = check(&f, &settings);
    assert_eq!(checks(&found), vec![CHECK_IMAGE_SCAN]);
    assert!(found[0]
        .message
        .contains("`UNSUPPORTED_IMAGE`: The operating system"));

    f.images[0].1 = Some(scan("COMPLETE", "2026-10-01T00:00:00Z", &[]));
    let found = check(&f, &settings);
    assert_eq!(checks(&found), vec![CHECK_IMAGE_SCAN]);
    assert!(
        found[0].message.contains("53 days old"),
        "{}",
        found[0].message
    );
    f.images[0].1 = Some(scan("COMPLETE", "2026-11-01T00:00:00Z", &[]));
    assert!(check(&f, &settings).is_empty());
}

#[test]
fn the_newest_image_or_every_tagged_one_is_selected() {
    let at = |digest: &str, tag: Option<&str>, pushed: &str| Image {
        digest: digest.into(),
        tags: tag.into_iter().map(str::to_owned).collect(),
        pushed_at: Some(pushed.into()),
        size: None,
        last_pulled: None,
        scan: None,
    };
    let images = vec![
        at("sha256:a", Some("v1"), "2026-11-01T00:00:00Z"),
        at("sha256:b", None, "2026-11-20T00:00:00.5Z"),
        at("sha256:c", Some("v2"), "2026-11-10T00:00:00Z"),
    ];
    let newest = selected_images(images.clone(), false);
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].digest, "sha256:b");
    let tagged: Vec<String> = selected_images(images, true)
        .into_iter()
        .map(|i| i.digest)
        .collect();
    assert_eq!(tagged, vec!["sha256:a", "sha256:c"]);
}

/// An [`Ecr`] over fixed data that records the mutability it is given.
struct Fake {
    repositories: Vec<Repository>,
    set: Mutex<Vec<(String, String, Vec<String>)>>,
}

#[async_trait::async_trait]
impl Ecr for Fake {
    async fn repositories(&self) -> Result<Vec<Repository>> {
        Ok(self.repositories.clone())
    }
    async fn registry_scanning(&self) -> Result<RegistryScanning> {
        Ok(basic())
    }
    async fn lifecycle_policy(&self, repo: &str) -> Result<Option<String>> {
        Ok((repo == "team/api").then(|| LIFECYCLE.to_owned()))
    }
    async fn repository_policy(&self, _repo: &str) -> Result<Option<String>> {
        Ok(None)
    }
    async fn images(&self, repo: &str) -> Result<Vec<Image>> {
        Ok(if repo == "team/api" {
            vec![image(Some("v1.2.0"))]
        } else {
            vec![]
        })
    }
    async fn scan_findings(&self, _repo: &str, _digest: &str) -> Result<Option<ScanResult>> {
        Ok(Some(scan(
            "COMPLETE",
            "2026-11-22T08:00:00Z",
            &[("HIGH", 1)],
        )))
    }
    async fn set_tag_mutability(
        &self,
        repo: &str,
        mutability: &str,
        exclusion_filters: &[String],
    ) -> Result<()> {
        self.set.lock().unwrap().push((
            repo.to_owned(),
            mutability.to_owned(),
            exclusion_filters.to_vec(),
        ));
        Ok(())
    }
}

#[tokio::test]
async fn gather_skips_excluded_repositories_and_keeps_the_order() {
    let names: Vec<String> = (0..20).map(|i| format!("svc-{i:02}")).collect();
    let mut repositories: Vec<Repository> = names.iter().map(|n| repo(n)).collect();
    repositories.push(repo("team/api"));
    repositories.push(repo("sandbox/tmp"));
    let fake = Fake {
        repositories,
        set: Mutex::new(vec![]),
    };
    let settings = EcrSettings {
        exclude_repositories: vec!["sandbox/*".into()],
        ..EcrSettings::default()
    };
    let (_, facts, images) = gather(&fake, &settings, &super::repository_limit(CONCURRENCY))
        .await
        .unwrap();
    let got: Vec<&str> = facts.iter().map(|f| f.repository.name.as_str()).collect();
    let mut want: Vec<&str> = names.iter().map(String::as_str).collect();
    want.push("team/api");
    assert_eq!(got, want);
    assert_eq!(images, 1);
    let api = facts.last().unwrap();
    assert_eq!(api.lifecycle.as_deref(), Some(LIFECYCLE));
    assert_eq!(
        api.images[0].1.as_ref().unwrap().counts.get("HIGH"),
        Some(&1)
    );
}

#[tokio::test]
async fn remediation_describes_or_sets_immutable() {
    let mut mutable = repo("team/api");
    mutable.tag_mutability = "MUTABLE".into();
    let mut partial = repo("team/web");
    partial.tag_mutability = "MUTABLE_WITH_EXCLUSION".into();
    partial.exclusion_filters = vec!["release-*".into()];
    let fake = Fake {
        repositories: vec![mutable.clone(), partial.clone()],
        set: Mutex::new(vec![]),
    };
    let settings = EcrSettings::default();
    let all = [facts(mutable), facts(partial)];
    let mut findings: Vec<Finding> = all.iter().flat_map(|f| check(f, &settings)).collect();
    assert_eq!(findings.len(), 2);

    remediate(&fake, &mut findings, &all, false).await.unwrap();
    assert!(fake.set.lock().unwrap().is_empty());
    assert_eq!(
        findings[0].remediation,
        Some(Remediation {
            action: "ecr:PutImageTagMutability".into(),
            before: "MUTABLE".into(),
            after: "IMMUTABLE".into(),
            applied: false,
        })
    );
    assert_eq!(
        findings[1].remediation.as_ref().unwrap().before,
        "MUTABLE_WITH_EXCLUSION (release-*)"
    );

    remediate(&fake, &mut findings, &all, true).await.unwrap();
    assert_eq!(
        *fake.set.lock().unwrap(),
        vec![
            ("team/api".to_owned(), "IMMUTABLE".to_owned(), vec![]),
            ("team/web".to_owned(), "IMMUTABLE".to_owned(), vec![]),
        ]
    );
    assert!(findings
        .iter()
        .all(|f| f.remediation.as_ref().unwrap().applied));
}

/// [`Fake`], whose scan of `team/api` (the last repository read) is throttled once: a count of
/// `service`'s throttled responses grows, as the call counter's does on AWS.
struct ThrottledOnce {
    fake: Fake,
    service: &'static str,
    counts: std::sync::Arc<Mutex<std::collections::BTreeMap<String, u64>>>,
}

#[async_trait::async_trait]
impl Ecr for ThrottledOnce {
    async fn repositories(&self) -> Result<Vec<Repository>> {
        self.fake.repositories().await
    }
    async fn registry_scanning(&self) -> Result<RegistryScanning> {
        self.fake.registry_scanning().await
    }
    async fn lifecycle_policy(&self, repo: &str) -> Result<Option<String>> {
        self.fake.lifecycle_policy(repo).await
    }
    async fn repository_policy(&self, repo: &str) -> Result<Option<String>> {
        self.fake.repository_policy(repo).await
    }
    async fn images(&self, repo: &str) -> Result<Vec<Image>> {
        self.fake.images(repo).await
    }
    async fn scan_findings(&self, repo: &str, digest: &str) -> Result<Option<ScanResult>> {
        *self
            .counts
            .lock()
            .unwrap()
            .entry(self.service.to_owned())
            .or_default() += 1;
        self.fake.scan_findings(repo, digest).await
    }
    async fn set_tag_mutability(&self, repo: &str, m: &str, filters: &[String]) -> Result<()> {
        self.fake.set_tag_mutability(repo, m, filters).await
    }
}

#[tokio::test]
async fn the_repository_reads_halve_on_ecr_throttling_and_not_on_cloudformation() {
    let gathered_under = |service: &'static str| async move {
        let mut repositories: Vec<Repository> =
            (0..20).map(|i| repo(&format!("svc-{i:02}"))).collect();
        repositories.push(repo("team/api"));
        let counts = std::sync::Arc::new(Mutex::new(std::collections::BTreeMap::new()));
        let fake = ThrottledOnce {
            fake: Fake {
                repositories,
                set: Mutex::new(vec![]),
            },
            service,
            counts: counts.clone(),
        };
        let limit = repository_limit_with(CONCURRENCY, move |s| {
            counts.lock().unwrap().get(s).copied().unwrap_or(0)
        });
        let (_, facts, _) = gather(&fake, &EcrSettings::default(), &limit)
            .await
            .unwrap();
        assert_eq!(facts.len(), 21);
        (limit.current(), limit.backoff())
    };
    assert_eq!(
        gathered_under("cloudformation").await,
        (CONCURRENCY, (CONCURRENCY, 0))
    );
    // Halved once; the reads that succeeded after it may have grown it back by one.
    let (now, backoff) = gathered_under("ecr").await;
    assert_eq!(backoff, (CONCURRENCY / 2, 1));
    assert!(now < CONCURRENCY, "{now}");
}

/// [`Fake`] behind IAM: the calls in `denied` answer AWS's AccessDeniedException; every call
/// is logged.
struct Denying {
    fake: Fake,
    denied: Vec<&'static str>,
    calls: Mutex<Vec<String>>,
}

impl Denying {
    fn call(&self, operation: &str) -> Result<()> {
        self.calls.lock().unwrap().push(operation.to_owned());
        if self.denied.contains(&operation) {
            return Err(crate::error::Error::Aws {
                operation: operation.to_owned(),
                message: format!("AccessDeniedException: User: arn:aws:iam::{ACCOUNT}:user/exporter is not authorized to perform: {operation}"),
            });
        }
        Ok(())
    }

    fn count(&self, operation: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| *c == operation)
            .count()
    }
}

#[async_trait::async_trait]
impl Ecr for Denying {
    async fn repositories(&self) -> Result<Vec<Repository>> {
        self.call(DESCRIBE_REPOSITORIES)?;
        self.fake.repositories().await
    }
    async fn registry_scanning(&self) -> Result<RegistryScanning> {
        self.call(GET_REGISTRY_SCANNING)?;
        self.fake.registry_scanning().await
    }
    async fn lifecycle_policy(&self, repo: &str) -> Result<Option<String>> {
        self.call(GET_LIFECYCLE_POLICY)?;
        self.fake.lifecycle_policy(repo).await
    }
    async fn repository_policy(&self, repo: &str) -> Result<Option<String>> {
        self.call(GET_REPOSITORY_POLICY)?;
        self.fake.repository_policy(repo).await
    }
    async fn images(&self, repo: &str) -> Result<Vec<Image>> {
        self.call(DESCRIBE_IMAGES)?;
        self.fake.images(repo).await
    }
    async fn scan_findings(&self, repo: &str, digest: &str) -> Result<Option<ScanResult>> {
        self.call(DESCRIBE_SCAN_FINDINGS)?;
        self.fake.scan_findings(repo, digest).await
    }
    async fn set_tag_mutability(&self, repo: &str, m: &str, filters: &[String]) -> Result<()> {
        self.call(REMEDIATION_ACTION)?;
        self.fake.set_tag_mutability(repo, m, filters).await
    }
}

fn denying(denied: &[&'static str]) -> Denying {
    let mut api = repo("team/api");
    api.tag_mutability = "MUTABLE".into();
    api.scan_on_push = false;
    let mut web = repo("team/web");
    web.scan_on_push = false;
    Denying {
        fake: Fake {
            repositories: vec![api, web, repo("team/db")],
            set: Mutex::new(vec![]),
        },
        denied: denied.to_vec(),
        calls: Mutex::new(vec![]),
    }
}

/// The permissions of ecr_exporter's documented policy: DescribeRepositories, DescribeImages
/// (and DescribeRegistry, which the audit does not call).
const EXPORTER_DENIED: &[&str] = &[
    GET_REGISTRY_SCANNING,
    GET_LIFECYCLE_POLICY,
    GET_REPOSITORY_POLICY,
    DESCRIBE_SCAN_FINDINGS,
];

#[tokio::test]
async fn a_denied_read_skips_only_the_checks_that_need_it_and_is_not_tried_again() {
    let ecr = denying(EXPORTER_DENIED);
    // One repository at a time: the first denial is known before the next read.
    let g = gather_reads(
        &ecr,
        &EcrSettings::default(),
        &repository_limit(1),
        &Reads::all(),
    )
    .await
    .unwrap();
    assert_eq!(
        g.denied.iter().map(String::as_str).collect::<Vec<_>>(),
        vec![
            DESCRIBE_SCAN_FINDINGS,
            GET_LIFECYCLE_POLICY,
            GET_REGISTRY_SCANNING,
            GET_REPOSITORY_POLICY
        ]
    );
    for call in EXPORTER_DENIED {
        assert_eq!(ecr.count(call), 1, "{call}");
    }
    // The allowed reads still ran: every repository, every image listing.
    assert_eq!(ecr.count(DESCRIBE_IMAGES), 3);
    assert_eq!(g.facts.len(), 3);
    assert_eq!(g.images, 1);
    let found: Vec<(String, String)> = g
        .facts
        .iter()
        .flat_map(|f| {
            check_repository(
                f,
                &g.registry,
                &EcrSettings::default(),
                ACCOUNT,
                REGION,
                NOW,
            )
        })
        .map(|f| (f.resource, f.check))
        .collect();
    // Scanning is off on two repositories and team/api has HIGH findings, but those checks
    // could not run; tag immutability (DescribeRepositories alone) did.
    assert_eq!(
        found,
        vec![("team/api".to_owned(), CHECK_TAG_IMMUTABILITY.to_owned())]
    );
    let api = &g.facts[0];
    assert!(!api.can_check(CHECK_LIFECYCLE) && !api.can_check(CHECK_IMAGE_FINDINGS));
    assert!(api.can_check(CHECK_TAG_IMMUTABILITY) && api.can_check(CHECK_ENCRYPTION));
}

#[tokio::test]
async fn everything_allowed_reads_and_checks_everything() {
    let ecr = denying(&[]);
    let g = gather_reads(
        &ecr,
        &EcrSettings::default(),
        &repository_limit(CONCURRENCY),
        &Reads::all(),
    )
    .await
    .unwrap();
    assert!(g.denied.is_empty());
    assert!(g.facts.iter().all(|f| f.unread.is_empty()));
    let checks: std::collections::BTreeSet<String> = g
        .facts
        .iter()
        .flat_map(|f| {
            check_repository(
                f,
                &g.registry,
                &EcrSettings::default(),
                ACCOUNT,
                REGION,
                NOW,
            )
        })
        .map(|f| f.check)
        .collect();
    assert!(checks.contains(CHECK_LIFECYCLE) && checks.contains(CHECK_IMAGE_FINDINGS));
}

#[tokio::test]
async fn only_the_calls_of_the_selected_checks_are_made() {
    let ecr = denying(&[]);
    let reads = Reads::of(|c| c == CHECK_TAG_IMMUTABILITY);
    assert!(reads.0.is_empty());
    let g = gather_reads(&ecr, &EcrSettings::default(), &repository_limit(1), &reads)
        .await
        .unwrap();
    assert_eq!(*ecr.calls.lock().unwrap(), vec![DESCRIBE_REPOSITORIES]);
    assert_eq!(g.facts.len(), 3);
    let lifecycle = Reads::of(|c| c == CHECK_LIFECYCLE);
    assert_eq!(
        lifecycle.0.into_iter().collect::<Vec<_>>(),
        vec![GET_LIFECYCLE_POLICY]
    );
}

#[tokio::test]
async fn a_denied_repository_listing_still_fails_the_registry() {
    let ecr = denying(&[DESCRIBE_REPOSITORIES]);
    let e = gather_reads(
        &ecr,
        &EcrSettings::default(),
        &repository_limit(1),
        &Reads::all(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.denied_action(), Some(DESCRIBE_REPOSITORIES));
}

#[tokio::test]
async fn a_denied_remediation_leaves_the_findings_described_and_is_tried_once() {
    let mut ecr = denying(&[REMEDIATION_ACTION]);
    let mut web = repo("team/web");
    web.tag_mutability = "MUTABLE".into();
    ecr.fake.repositories.push(web);
    let g = gather_reads(
        &ecr,
        &EcrSettings::default(),
        &repository_limit(1),
        &Reads::default(),
    )
    .await
    .unwrap();
    let mut findings: Vec<Finding> = g
        .facts
        .iter()
        .flat_map(|f| {
            check_repository(
                f,
                &g.registry,
                &EcrSettings::default(),
                ACCOUNT,
                REGION,
                NOW,
            )
        })
        .filter(|f| f.check == CHECK_TAG_IMMUTABILITY)
        .collect();
    assert_eq!(findings.len(), 2);
    let denied = remediate(&ecr, &mut findings, &g.facts, true)
        .await
        .unwrap();
    assert_eq!(denied.as_deref(), Some(REMEDIATION_ACTION));
    assert_eq!(ecr.count(REMEDIATION_ACTION), 1);
    assert!(findings
        .iter()
        .all(|f| f.remediation.as_ref().is_some_and(|r| !r.applied)));
    // Allowed: both applied, nothing denied.
    let ecr = denying(&[]);
    let denied = remediate(&ecr, &mut findings, &g.facts, true)
        .await
        .unwrap();
    assert_eq!(denied, None);
    assert!(findings
        .iter()
        .all(|f| f.remediation.as_ref().is_some_and(|r| r.applied)));
}

/// [`Fake`] whose DescribeImages of `team/api` stays throttled (after the SDK's retries) the
/// first `times` times.
struct ThrottledImages {
    fake: Fake,
    times: Mutex<usize>,
}

#[async_trait::async_trait]
impl Ecr for ThrottledImages {
    async fn repositories(&self) -> Result<Vec<Repository>> {
        self.fake.repositories().await
    }
    async fn registry_scanning(&self) -> Result<RegistryScanning> {
        self.fake.registry_scanning().await
    }
    async fn lifecycle_policy(&self, repo: &str) -> Result<Option<String>> {
        self.fake.lifecycle_policy(repo).await
    }
    async fn repository_policy(&self, repo: &str) -> Result<Option<String>> {
        self.fake.repository_policy(repo).await
    }
    async fn images(&self, repo: &str) -> Result<Vec<Image>> {
        let throttled = {
            let mut left = self.times.lock().unwrap();
            let throttled = repo == "team/api" && *left > 0;
            if throttled {
                *left -= 1;
            }
            throttled
        };
        if throttled {
            return Err(crate::error::Error::Aws {
                operation: "ecr:DescribeImages".into(),
                message: "ThrottlingException: Rate exceeded".into(),
            });
        }
        self.fake.images(repo).await
    }
    async fn scan_findings(&self, repo: &str, digest: &str) -> Result<Option<ScanResult>> {
        self.fake.scan_findings(repo, digest).await
    }
    async fn set_tag_mutability(&self, repo: &str, m: &str, filters: &[String]) -> Result<()> {
        self.fake.set_tag_mutability(repo, m, filters).await
    }
}

#[tokio::test]
async fn a_read_still_throttled_after_the_sdks_retries_is_read_again_not_failed() {
    let fake = |times: usize| ThrottledImages {
        fake: Fake {
            repositories: vec![repo("team/web"), repo("team/api")],
            set: Mutex::new(vec![]),
        },
        times: Mutex::new(times),
    };
    // Throttled twice: read again after the pauses, and the audit has both repositories.
    let twice = fake(2);
    let (_, facts, _) = gather(&twice, &EcrSettings::default(), &repository_limit(4))
        .await
        .unwrap();
    assert_eq!(facts.len(), 2);
    assert_eq!(*twice.times.lock().unwrap(), 0);
    // Throttled through every pass: then it is an error, naming the call.
    let always = fake(usize::MAX);
    let e = gather(&always, &EcrSettings::default(), &repository_limit(4))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("ThrottlingException"), "{e}");
}
