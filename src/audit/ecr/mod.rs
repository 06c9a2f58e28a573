//! The ECR checks: tag immutability (with remediation), scanning, lifecycle policies,
//! encryption, repository policies, and the scan findings of the newest (or every tagged)
//! image. [`gather`] reads the registry through the [`Ecr`] adapter; [`check_repository`] is a
//! pure function over what it read; [`remediate`] sets tag immutability. The repository-policy
//! check is in `policy`, the reading and counting of images in `images`, the evaluation of
//! lifecycle policies on a repository's images in `lifecycle`, the images that run (ECS,
//! Lambda) and the lifecycle policies that would expire them in `in_use`.

mod images;
pub mod in_use;
pub mod lifecycle;
mod policy;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{Finding, Remediation, Severity};
use crate::aws::ecr::{Ecr, Image, RegistryScanning, Repository, ScanResult, ScanStatus};
use crate::error::Result;
use crate::parallel::{adaptive, AdaptiveLimit, Pending};
use crate::policy::{validate, PolicyKind};
use crate::text::quoted;
use images::{counts_text, image_label, repository_facts, severity_counts};
use policy::{repository_policy, wildcard};

pub const CHECK_TAG_IMMUTABILITY: &str = "ecr.tag-immutability";
pub const CONTROL_TAG_IMMUTABILITY: &str = "ECR.2";
pub const SEVERITY_TAG_IMMUTABILITY: Severity = Severity::High;

pub const CHECK_SCANNING: &str = "ecr.scanning";
pub const CONTROL_SCANNING: &str = "ECR.1";
pub const SEVERITY_SCANNING: Severity = Severity::High;

pub const CHECK_LIFECYCLE: &str = "ecr.lifecycle";
pub const CONTROL_LIFECYCLE: &str = "ECR.3";
pub const SEVERITY_LIFECYCLE: Severity = Severity::Medium;

/// A lifecycle policy that expires nothing now and, at the repository's push rate, nothing
/// within a year: as good as none.
pub const CHECK_LIFECYCLE_INEFFECTIVE: &str = "ecr.lifecycle-ineffective";
pub const SEVERITY_LIFECYCLE_INEFFECTIVE: Severity = Severity::Medium;

/// Images nobody has pulled for `audit.unused_after_days` that no lifecycle rule expires:
/// storage paid for what nothing runs.
pub const CHECK_IMAGE_UNUSED: &str = "ecr.image-unused";
pub const SEVERITY_IMAGE_UNUSED: Severity = Severity::Low;

pub const CHECK_ENCRYPTION: &str = "ecr.encryption";
pub const CONTROL_ENCRYPTION: &str = "ECR.5";
pub const SEVERITY_ENCRYPTION: Severity = Severity::Medium;

pub const CHECK_REPOSITORY_POLICY: &str = "ecr.repository-policy";
pub const SEVERITY_REPOSITORY_POLICY: Severity = Severity::High;
/// A public principal without a restricting condition.
pub const SEVERITY_PUBLIC_POLICY: Severity = Severity::Critical;

/// Severity: the worst among the image's findings.
pub const CHECK_IMAGE_FINDINGS: &str = "ecr.image-findings";

pub const CHECK_IMAGE_SCAN: &str = "ecr.image-scan";
pub const SEVERITY_IMAGE_SCAN: Severity = Severity::Medium;

pub const RESOURCE_TYPE: &str = "AWS::ECR::Repository";
/// The remediation's API call.
pub const REMEDIATION_ACTION: &str = "ecr:PutImageTagMutability";

/// The calls of the optional reads, as the adapter names them in its errors (and as IAM names
/// the permissions).
pub const GET_REGISTRY_SCANNING: &str = "ecr:GetRegistryScanningConfiguration";
pub const GET_LIFECYCLE_POLICY: &str = "ecr:GetLifecyclePolicy";
pub const GET_REPOSITORY_POLICY: &str = "ecr:GetRepositoryPolicy";
pub const DESCRIBE_IMAGES: &str = "ecr:DescribeImages";
pub const DESCRIBE_SCAN_FINDINGS: &str = "ecr:DescribeImageScanFindings";
/// The one call every ECR check needs (its denial fails the registry's audit).
pub const DESCRIBE_REPOSITORIES: &str = "ecr:DescribeRepositories";

/// The calls of the checks of the images in use, after `$first`: the repository's images
/// (with their scan summaries) and what runs.
macro_rules! in_use_reads {
    ($($first:expr),*) => {
        &[
            $($first,)*
            DESCRIBE_IMAGES,
            in_use::ECS_LIST_CLUSTERS,
            in_use::ECS_LIST_SERVICES,
            in_use::ECS_DESCRIBE_SERVICES,
            in_use::ECS_DESCRIBE_TASK_DEFINITION,
            in_use::ECS_LIST_TASKS,
            in_use::ECS_DESCRIBE_TASKS,
            in_use::LAMBDA_LIST_FUNCTIONS,
            in_use::LAMBDA_GET_FUNCTION,
            in_use::LAMBDA_LIST_ALIASES,
        ]
    };
}

/// Each ECR check and the calls it needs besides `ecr:DescribeRepositories` (ECS's and
/// Lambda's too, for the checks of images in use). A denied call
/// turns the checks that need it into not-checked results; the others still run.
pub const CHECK_CALLS: &[(&str, &[&str])] = &[
    (CHECK_TAG_IMMUTABILITY, &[]),
    (CHECK_SCANNING, &[GET_REGISTRY_SCANNING]),
    (CHECK_LIFECYCLE, &[GET_LIFECYCLE_POLICY]),
    (
        CHECK_LIFECYCLE_INEFFECTIVE,
        &[GET_LIFECYCLE_POLICY, DESCRIBE_IMAGES],
    ),
    (CHECK_IMAGE_UNUSED, &[GET_LIFECYCLE_POLICY, DESCRIBE_IMAGES]),
    (
        in_use::CHECK_LIFECYCLE_EXPIRES_IN_USE,
        in_use_reads!(GET_LIFECYCLE_POLICY),
    ),
    (in_use::CHECK_IN_USE_IMAGE_SCAN, in_use_reads!()),
    (in_use::CHECK_IN_USE_IMAGE_FINDINGS, in_use_reads!()),
    (CHECK_ENCRYPTION, &[]),
    (CHECK_REPOSITORY_POLICY, &[GET_REPOSITORY_POLICY]),
    (
        CHECK_IMAGE_FINDINGS,
        &[DESCRIBE_IMAGES, DESCRIBE_SCAN_FINDINGS],
    ),
    (CHECK_IMAGE_SCAN, &[DESCRIBE_IMAGES, DESCRIBE_SCAN_FINDINGS]),
];

/// The calls `check` needs besides `ecr:DescribeRepositories`.
pub fn calls_of(check: &str) -> &'static [&'static str] {
    CHECK_CALLS
        .iter()
        .find(|(c, _)| *c == check)
        .map(|(_, calls)| *calls)
        .unwrap_or(&[])
}

/// The optional reads [`gather_reads`] makes: the calls of the selected checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads(pub std::collections::BTreeSet<&'static str>);

impl Reads {
    /// Every optional read.
    pub fn all() -> Self {
        Reads(
            CHECK_CALLS
                .iter()
                .flat_map(|(_, calls)| calls.iter().copied())
                .collect(),
        )
    }

    /// The reads of the checks that `wanted` selects.
    pub fn of(wanted: impl Fn(&str) -> bool) -> Self {
        Reads(
            CHECK_CALLS
                .iter()
                .filter(|(c, _)| wanted(c))
                .flat_map(|(_, calls)| calls.iter().copied())
                .collect(),
        )
    }

    pub fn has(&self, call: &str) -> bool {
        self.0.contains(call)
    }
}

/// What [`gather_reads`] read about a registry.
#[derive(Debug, Clone)]
pub struct Gathered {
    pub registry: RegistryScanning,
    pub facts: Vec<RepositoryFacts>,
    /// How many images were looked at.
    pub images: usize,
    /// The calls IAM denied (each tried until its first denial, then no more).
    pub denied: std::collections::BTreeSet<String>,
}

/// The most repositories of one registry [`gather`] reads at once (fewer while ECR throttles:
/// see [`repository_limit`]).
pub const CONCURRENCY: usize = 32;

/// The pauses before a repository whose read stayed throttled is read again (one at a time).
const THROTTLED_AGAIN: [std::time::Duration; 3] = [
    std::time::Duration::from_millis(500),
    std::time::Duration::from_secs(2),
    std::time::Duration::from_secs(5),
];

/// The service whose throttled responses slow the repository reads down.
pub const SERVICE: &str = "ecr";

/// The limit of one registry's repository reads: it starts at `max` and halves when ECR
/// throttles, ECR's own throttles and no other service's (CloudFormation's slow the stacks'
/// fan-outs, not this one). One limit per registry (account and region), since ECR's rate
/// limits are per account and region: a slow account does not hold the others back. The
/// throttle counter is the process's (a throttle in one registry slows the reads of the
/// registries being read at the same time too: the cautious side).
pub fn repository_limit(max: usize) -> std::sync::Arc<AdaptiveLimit> {
    repository_limit_with(max, crate::aws::calls::throttles)
}

/// [`repository_limit`] over other per-service throttle counters (tests).
pub fn repository_limit_with(
    max: usize,
    throttles: impl Fn(&str) -> u64 + Send + Sync + 'static,
) -> std::sync::Arc<AdaptiveLimit> {
    std::sync::Arc::new(AdaptiveLimit::new(max, move || throttles(SERVICE)))
}

/// The ECR audit's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcrSettings {
    /// Repository name globs (`*`, `?`) that the audit skips.
    pub exclude_repositories: Vec<String>,
    /// Whether `IMMUTABLE_WITH_EXCLUSION` passes the tag immutability check.
    pub allow_immutable_with_exclusion: bool,
    /// KMS keys (ARNs or key ids) allowed for encryption; empty: any KMS key.
    pub allowed_kms_keys: Vec<String>,
    /// Whether `AES256` fails the encryption check.
    pub require_kms: bool,
    /// The account ids of little.yaml: repository policies may name them.
    pub known_accounts: Vec<String>,
    pub organization_id: Option<String>,
    /// A scan older than this many days is stale.
    pub stale_scan_days: u32,
    /// `ecr.image-unused`: an image not pulled for this many days (pushed, when never pulled)
    /// that the lifecycle policy keeps.
    pub unused_after_days: u32,
    /// `ecr.in-use-image-findings`: the least severity of a finding, in the scan of an image in
    /// use, that is reported.
    pub in_use_findings_at: Severity,
    /// Check every tagged image, not only the newest image.
    pub all_tagged_images: bool,
}

impl Default for EcrSettings {
    fn default() -> Self {
        EcrSettings {
            exclude_repositories: Vec::new(),
            allow_immutable_with_exclusion: true,
            allowed_kms_keys: Vec::new(),
            require_kms: false,
            known_accounts: Vec::new(),
            organization_id: None,
            stale_scan_days: 30,
            unused_after_days: 90,
            in_use_findings_at: Severity::High,
            all_tagged_images: false,
        }
    }
}

/// What [`gather`] read about one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryFacts {
    pub repository: Repository,
    pub lifecycle: Option<String>,
    pub policy: Option<String>,
    /// The newest image, or every tagged image with `all_tagged_images`, with its scan.
    pub images: Vec<(Image, Option<ScanResult>)>,
    /// Every image of the repository, when the selected checks evaluate its lifecycle policy
    /// (not kept in reports).
    #[serde(skip)]
    pub listed: Vec<Image>,
    /// The optional calls that were not made (the selected checks do not need them) or that
    /// IAM denied: the checks that need them are skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

impl RepositoryFacts {
    /// Whether `call` was made and answered.
    pub fn read(&self, call: &str) -> bool {
        !self.unread.iter().any(|u| u == call)
    }

    /// Whether every call `check` needs was made and answered.
    pub fn can_check(&self, check: &str) -> bool {
        calls_of(check).iter().all(|c| self.read(c))
    }
}

/// Whether the audit skips the repository.
pub fn is_excluded(name: &str, settings: &EcrSettings) -> bool {
    settings
        .exclude_repositories
        .iter()
        .any(|g| wildcard(g, name, true))
}

fn finding(
    check: &str,
    control: Option<&str>,
    severity: Severity,
    repo: &Repository,
    account: &str,
    region: &str,
    message: String,
) -> Finding {
    Finding {
        check: check.to_owned(),
        control: control.map(str::to_owned),
        severity,
        resource: repo.name.clone(),
        resource_type: RESOURCE_TYPE.to_owned(),
        arn: (!repo.arn.is_empty()).then(|| repo.arn.clone()),
        account: (!account.is_empty()).then(|| account.to_owned()),
        region: (!region.is_empty()).then(|| region.to_owned()),
        message,
        remediation: None,
    }
}

/// The tag immutability check's message, or `None` when it passes.
fn tag_immutability(repo: &Repository, settings: &EcrSettings) -> Option<String> {
    let name = &repo.name;
    match repo.tag_mutability.as_str() {
        "IMMUTABLE" => None,
        "IMMUTABLE_WITH_EXCLUSION" if settings.allow_immutable_with_exclusion => None,
        "IMMUTABLE_WITH_EXCLUSION" => Some(format!(
            "repository `{name}` is `IMMUTABLE_WITH_EXCLUSION`: tags matching {} can be overwritten",
            quoted(&repo.exclusion_filters)
        )),
        "MUTABLE_WITH_EXCLUSION" => Some(format!(
            "repository `{name}` is `MUTABLE_WITH_EXCLUSION`: tags not matching {} can be overwritten",
            quoted(&repo.exclusion_filters)
        )),
        other => Some(format!(
            "repository `{name}` has mutable image tags (`{other}`): a tag can be moved to another image"
        )),
    }
}

fn scanning(repo: &Repository, registry: &RegistryScanning) -> Option<String> {
    let covered = repo.scan_on_push
        || registry.rules.iter().any(|r| {
            matches!(r.frequency.as_str(), "SCAN_ON_PUSH" | "CONTINUOUS_SCAN")
                && r.filters.iter().any(|f| wildcard(f, &repo.name, false))
        });
    (!covered).then(|| {
        format!(
            "images pushed to repository `{}` are not scanned: scan on push is off and no registry scanning rule with `SCAN_ON_PUSH` or `CONTINUOUS_SCAN` matches it",
            repo.name
        )
    })
}

fn lifecycle(repo: &Repository, policy: Option<&str>) -> Option<String> {
    let name = &repo.name;
    let Some(text) = policy else {
        return Some(format!(
            "repository `{name}` has no lifecycle policy: old images are never expired"
        ));
    };
    let doc: Value = match serde_json::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            return Some(format!(
                "the lifecycle policy of repository `{name}` is not JSON: {e}"
            ))
        }
    };
    validate(PolicyKind::Lifecycle, &doc).first().map(|p| {
        let at = if p.pointer.is_empty() {
            String::new()
        } else {
            format!(" at `{}`", p.pointer)
        };
        format!(
            "the lifecycle policy of repository `{name}` is invalid{at}: {}",
            p.message
        )
    })
}

/// Whether `key` (an ARN, key id or alias) is among the allowed keys.
fn allowed_key(key: &str, allowed: &[String]) -> bool {
    allowed.iter().any(|a| {
        key == a
            || key.ends_with(&format!("/{a}"))
            || a.ends_with(&format!("/{key}"))
            || a.ends_with(&format!(":{key}"))
    })
}

fn encryption(repo: &Repository, settings: &EcrSettings) -> Option<String> {
    let name = &repo.name;
    if repo.encryption_type == "AES256" {
        return settings.require_kms.then(|| {
            format!("repository `{name}` is encrypted with `AES256`, not with a KMS key")
        });
    }
    if settings.allowed_kms_keys.is_empty() {
        return None;
    }
    match &repo.kms_key {
        Some(key) if allowed_key(key, &settings.allowed_kms_keys) => None,
        Some(key) => Some(format!(
            "repository `{name}` is encrypted with KMS key `{key}`, which is not an allowed key"
        )),
        None => Some(format!(
            "repository `{name}` is encrypted with the AWS managed key `aws/ecr`, which is not an allowed key"
        )),
    }
}

/// What is wrong with an image's scan (`label` names the image): never scanned, failed or not
/// supported, no longer watched by enhanced scanning, or older than `stale_scan_days`; `None`
/// when it is fine. `now` in seconds since the epoch.
pub(super) fn scan_problem(
    label: &str,
    scan: Option<&ScanResult>,
    settings: &EcrSettings,
    now: u64,
) -> Option<String> {
    let Some(scan) = scan else {
        return Some(format!("image {label} has never been scanned"));
    };
    let status = ScanStatus::of(&scan.status);
    if status == ScanStatus::ScanEligibilityExpired {
        return Some(format!(
            "image {label} is no longer scanned: enhanced scanning stopped watching it (`{}`)",
            scan.status
        ));
    }
    if status == ScanStatus::Other {
        let why = scan
            .description
            .as_ref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Some(format!(
            "the scan of image {label} is `{}`{why}",
            scan.status
        ));
    }
    let done = scan
        .completed_at
        .as_deref()
        .and_then(crate::time::parse_rfc3339_secs)?;
    let age = i64::try_from(now).unwrap_or(i64::MAX) - done;
    (age > i64::from(settings.stale_scan_days) * 86_400).then(|| {
        format!(
            "the last scan of image {label} is {} days old (more than {})",
            age / 86_400,
            settings.stale_scan_days
        )
    })
}

/// All checks for one repository; `account` and `region` label the findings; `now` (seconds
/// since the epoch) dates the scans.
pub fn check_repository(
    facts: &RepositoryFacts,
    registry: &RegistryScanning,
    settings: &EcrSettings,
    account: &str,
    region: &str,
    now: u64,
) -> Vec<Finding> {
    let repo = &facts.repository;
    let f = |check: &str, control: Option<&str>, severity: Severity, message: String| {
        finding(check, control, severity, repo, account, region, message)
    };
    let mut out = Vec::new();
    let can = |check: &str| facts.can_check(check);
    if let Some(m) = tag_immutability(repo, settings) {
        out.push(f(
            CHECK_TAG_IMMUTABILITY,
            Some(CONTROL_TAG_IMMUTABILITY),
            SEVERITY_TAG_IMMUTABILITY,
            m,
        ));
    }
    if let Some(m) = scanning(repo, registry).filter(|_| can(CHECK_SCANNING)) {
        out.push(f(
            CHECK_SCANNING,
            Some(CONTROL_SCANNING),
            SEVERITY_SCANNING,
            m,
        ));
    }
    if let Some(m) = lifecycle(repo, facts.lifecycle.as_deref()).filter(|_| can(CHECK_LIFECYCLE)) {
        out.push(f(
            CHECK_LIFECYCLE,
            Some(CONTROL_LIFECYCLE),
            SEVERITY_LIFECYCLE,
            m,
        ));
    }
    if let Some(m) = facts
        .lifecycle
        .as_deref()
        .filter(|_| can(CHECK_LIFECYCLE_INEFFECTIVE))
        .and_then(|policy| lifecycle::ineffective(&repo.name, policy, &facts.listed, now))
    {
        out.push(f(
            CHECK_LIFECYCLE_INEFFECTIVE,
            None,
            SEVERITY_LIFECYCLE_INEFFECTIVE,
            m,
        ));
    }
    let unused = can(CHECK_IMAGE_UNUSED)
        .then(|| {
            lifecycle::unused(
                &repo.name,
                facts.lifecycle.as_deref(),
                &facts.listed,
                settings.unused_after_days,
                now,
            )
        })
        .flatten();
    if let Some(m) = unused {
        out.push(f(CHECK_IMAGE_UNUSED, None, SEVERITY_IMAGE_UNUSED, m));
    }
    if let Some(m) = encryption(repo, settings) {
        out.push(f(
            CHECK_ENCRYPTION,
            Some(CONTROL_ENCRYPTION),
            SEVERITY_ENCRYPTION,
            m,
        ));
    }
    if let Some(policy) = facts
        .policy
        .as_ref()
        .filter(|_| can(CHECK_REPOSITORY_POLICY))
    {
        for (severity, m) in repository_policy(repo, policy, settings) {
            out.push(f(CHECK_REPOSITORY_POLICY, None, severity, m));
        }
    }
    let images = if can(CHECK_IMAGE_SCAN) {
        facts.images.as_slice()
    } else {
        &[]
    };
    for (image, scan) in images {
        let label = image_label(&repo.name, image);
        if let Some(m) = scan_problem(&label, scan.as_ref(), settings, now) {
            out.push(f(CHECK_IMAGE_SCAN, None, SEVERITY_IMAGE_SCAN, m));
        }
        let Some(scan) = scan else {
            continue;
        };
        let counts = severity_counts(scan);
        if let Some((worst, _)) = counts.first() {
            let text = counts_text(&counts);
            out.push(f(
                CHECK_IMAGE_FINDINGS,
                None,
                *worst,
                format!("{label}: {text}"),
            ));
        }
    }
    out
}

/// [`gather_reads`] with every optional read, failing on a denied one (for callers that need
/// everything read).
pub async fn gather(
    ecr: &dyn Ecr,
    settings: &EcrSettings,
    limit: &std::sync::Arc<AdaptiveLimit>,
) -> Result<(RegistryScanning, Vec<RepositoryFacts>, usize)> {
    let g = gather_reads(ecr, settings, limit, &Reads::all()).await?;
    if let Some(call) = g.denied.first() {
        return Err(crate::error::Error::Aws {
            operation: call.clone(),
            message: "AccessDenied: IAM denied this call".into(),
        });
    }
    Ok((g.registry, g.facts, g.images))
}

/// Reads the registry's scanning configuration (once, when `reads` has it) and each
/// repository that is not excluded, as many at once as `limit` allows; the repositories in
/// the registry's order. Only the optional calls in `reads` are made; one that IAM denies is
/// not made again in this registry, and the repositories' facts name it as unread.
pub async fn gather_reads(
    ecr: &dyn Ecr,
    settings: &EcrSettings,
    limit: &std::sync::Arc<AdaptiveLimit>,
    reads: &Reads,
) -> Result<Gathered> {
    let denied = images::Denied::default();
    let registry = images::optional(
        &denied,
        GET_REGISTRY_SCANNING,
        reads,
        ecr.registry_scanning(),
    )
    .await?;
    let repositories: Vec<Repository> = ecr
        .repositories()
        .await?
        .into_iter()
        .filter(|r| !is_excluded(&r.name, settings))
        .collect();
    let futures: Vec<Pending<'_, Result<RepositoryFacts>>> = repositories
        .iter()
        .cloned()
        .map(|r| Box::pin(repository_facts(ecr, r, settings, reads, &denied)) as Pending<'_, _>)
        .collect();
    let throttled = |r: &Result<RepositoryFacts>| {
        r.as_ref()
            .err()
            .is_some_and(|e| crate::aws::calls::is_throttling_message(&e.to_string()))
    };
    let mut results = adaptive(futures, limit, &throttled).await;
    // A repository whose read was still throttled after the SDK's retries is read again, one
    // at a time and after a pause, instead of failing the registry's audit.
    for pause in THROTTLED_AGAIN {
        let again: Vec<usize> = (0..results.len())
            .filter(|&i| throttled(&results[i]))
            .collect();
        if again.is_empty() {
            break;
        }
        tokio::time::sleep(pause).await;
        for i in again {
            let repository = repositories[i].clone();
            results[i] = repository_facts(ecr, repository, settings, reads, &denied).await;
        }
    }
    let mut facts = results.into_iter().collect::<Result<Vec<_>>>()?;
    if registry.is_none() {
        for f in &mut facts {
            f.unread.push(GET_REGISTRY_SCANNING.to_owned());
        }
    }
    let images = facts.iter().map(|f| f.images.len()).sum();
    Ok(Gathered {
        registry: registry.unwrap_or_default(),
        facts,
        images,
        denied: denied.into_set(),
    })
}

/// The tag mutability a failing repository is given: `IMMUTABLE`. (A `MUTABLE_WITH_EXCLUSION`
/// repository's filters name the tags that were immutable; kept with
/// `IMMUTABLE_WITH_EXCLUSION` they would become the only mutable ones, so they are dropped.)
fn remediation_for(repo: &Repository) -> (String, String, Vec<String>) {
    let describe = |m: &str, filters: &[String]| {
        if filters.is_empty() {
            m.to_owned()
        } else {
            format!("{m} ({})", filters.join(", "))
        }
    };
    let before = describe(&repo.tag_mutability, &repo.exclusion_filters);
    ("IMMUTABLE".to_owned(), before, Vec::new())
}

/// `--remediate`: sets `IMMUTABLE` on every repository with a tag immutability finding and
/// marks the finding's remediation applied; without `apply`, describes what it would do. When
/// IAM denies the call, the remaining remediations are only described and the denied action
/// is returned (the findings stay, not remediated).
pub async fn remediate(
    ecr: &dyn Ecr,
    findings: &mut [Finding],
    facts: &[RepositoryFacts],
    apply: bool,
) -> Result<Option<String>> {
    let mut denied: Option<String> = None;
    for finding in findings
        .iter_mut()
        .filter(|f| f.check == CHECK_TAG_IMMUTABILITY)
    {
        let Some(repo) = facts.iter().map(|f| &f.repository).find(|r| {
            r.name == finding.resource
                && (finding.arn.is_none() || finding.arn.as_deref() == Some(r.arn.as_str()))
        }) else {
            continue;
        };
        let (after, before, filters) = remediation_for(repo);
        let mut applied = false;
        if apply && denied.is_none() {
            match ecr.set_tag_mutability(&repo.name, &after, &filters).await {
                Ok(()) => applied = true,
                Err(e) => match e.denied_action() {
                    Some(action) => denied = Some(action.to_owned()),
                    None => return Err(e),
                },
            }
        }
        finding.remediation = Some(Remediation {
            action: REMEDIATION_ACTION.to_owned(),
            before,
            after,
            applied,
        });
    }
    Ok(denied)
}

#[cfg(test)]
mod tests;
