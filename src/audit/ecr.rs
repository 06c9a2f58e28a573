//! The ECR checks: tag immutability (with remediation), scanning, lifecycle policies,
//! encryption, repository policies, and the scan findings of the newest (or every tagged)
//! image. [`gather`] reads the registry through the [`Ecr`] adapter; [`check_repository`] is a
//! pure function over what it read; [`remediate`] sets tag immutability.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{Finding, Remediation, Severity};
use crate::aws::ecr::{Ecr, Image, RegistryScanning, Repository, ScanResult};
use crate::error::Result;
use crate::policy::{validate, PolicyKind};

pub const CHECK_TAG_IMMUTABILITY: &str = "ecr.tag-immutability";
pub const CONTROL_TAG_IMMUTABILITY: &str = "ECR.2";
pub const SEVERITY_TAG_IMMUTABILITY: Severity = Severity::High;

pub const CHECK_SCANNING: &str = "ecr.scanning";
pub const CONTROL_SCANNING: &str = "ECR.1";
pub const SEVERITY_SCANNING: Severity = Severity::High;

pub const CHECK_LIFECYCLE: &str = "ecr.lifecycle";
pub const CONTROL_LIFECYCLE: &str = "ECR.3";
pub const SEVERITY_LIFECYCLE: Severity = Severity::Medium;

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

/// How many repositories [`gather`] reads at once.
pub const CONCURRENCY: usize = 8;

/// Condition keys that restrict a public principal to an organization or account.
const RESTRICTING_KEYS: [&str; 4] = [
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourceaccount",
    "aws:principalaccount",
];

/// Actions that push images or delete them, or change the repository's access.
const PUSH_ACTIONS: [&str; 8] = [
    "ecr:putimage",
    "ecr:initiatelayerupload",
    "ecr:uploadlayerpart",
    "ecr:completelayerupload",
    "ecr:batchdeleteimage",
    "ecr:deleterepository",
    "ecr:setrepositorypolicy",
    "ecr:*",
];

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
}

/// Whether `name` matches the wildcard `pattern`: `*` matches any run of characters, and `?`
/// one character when `question` is set.
fn wildcard(pattern: &str, name: &str, question: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == n[ni] || (question && p[pi] == '?')) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
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

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
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

/// A JSON value that is a string or an array of strings, as strings.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The account id a principal names: `arn:aws:iam::<id>:...` or a bare 12-digit id.
fn principal_account(principal: &str) -> Option<String> {
    let is_id = crate::project::is_account_id;
    if is_id(principal) {
        return Some(principal.to_owned());
    }
    let mut parts = principal.split(':');
    if parts.next() != Some("arn") {
        return None;
    }
    let _partition = parts.next();
    if parts.next() != Some("iam") {
        return None;
    }
    let _region = parts.next();
    parts.next().filter(|id| is_id(id)).map(str::to_owned)
}

/// Whether the statement grants a push or delete action.
fn grants_push(statement: &serde_json::Map<String, Value>) -> Option<String> {
    let wildcard_action = |a: &str, p: &str| wildcard(&a.to_ascii_lowercase(), p, true);
    if let Some(actions) = statement.get("Action") {
        let actions = strings(Some(actions));
        return PUSH_ACTIONS
            .iter()
            .find(|p| actions.iter().any(|a| wildcard_action(a, p)))
            .map(|_| {
                actions
                    .iter()
                    .find(|a| PUSH_ACTIONS.iter().any(|p| wildcard_action(a, p)))
                    .cloned()
                    .unwrap_or_default()
            });
    }
    // `NotAction`: everything but the listed actions.
    let not = strings(statement.get("NotAction"));
    PUSH_ACTIONS[..7]
        .iter()
        .find(|p| !not.iter().any(|a| wildcard_action(a, p)))
        .map(|p| format!("NotAction (allows `{p}`)"))
}

fn has_restricting_condition(statement: &serde_json::Map<String, Value>) -> bool {
    statement
        .get("Condition")
        .and_then(Value::as_object)
        .is_some_and(|ops| {
            ops.values().filter_map(Value::as_object).any(|keys| {
                keys.keys()
                    .any(|k| RESTRICTING_KEYS.contains(&k.to_ascii_lowercase().as_str()))
            })
        })
}

/// The repository policy's problems, each with its severity.
fn repository_policy(
    repo: &Repository,
    policy: &str,
    settings: &EcrSettings,
) -> Vec<(Severity, String)> {
    let name = &repo.name;
    let doc: Value = match serde_json::from_str(policy) {
        Ok(d) => d,
        Err(e) => {
            return vec![(
                SEVERITY_REPOSITORY_POLICY,
                format!("the repository policy of `{name}` is not JSON: {e}"),
            )]
        }
    };
    let statements: Vec<&serde_json::Map<String, Value>> = match doc.get("Statement") {
        Some(Value::Object(s)) => vec![s],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<(Severity, String)> = Vec::new();
    let mut push = |item: (Severity, String)| {
        if !out.contains(&item) {
            out.push(item);
        }
    };
    for (index, s) in statements.iter().enumerate() {
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let label = s
            .get("Sid")
            .and_then(Value::as_str)
            .map(|sid| format!("statement `{sid}`"))
            .unwrap_or_else(|| format!("statement {}", index + 1));
        let (public, aws) = match s.get("Principal") {
            Some(Value::String(p)) => (p == "*", Vec::new()),
            Some(Value::Object(m)) => {
                let aws = strings(m.get("AWS"));
                (aws.iter().any(|a| a == "*"), aws)
            }
            _ => (false, Vec::new()),
        };
        let restricted = has_restricting_condition(s);
        let pushes = grants_push(s);
        if public && !restricted {
            push((
                SEVERITY_PUBLIC_POLICY,
                format!(
                    "the repository policy of `{name}` grants access to everyone (`*`) in {label} without an `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, `aws:SourceAccount` or `aws:PrincipalAccount` condition"
                ),
            ));
        }
        if public {
            if let Some(action) = &pushes {
                push((
                    SEVERITY_REPOSITORY_POLICY,
                    format!(
                        "the repository policy of `{name}` grants `{action}` to other accounts (`*`) in {label}"
                    ),
                ));
            }
        }
        let mut others: Vec<String> = aws
            .iter()
            .filter_map(|p| principal_account(p))
            .filter(|id| *id != repo.registry_id)
            .collect();
        others.dedup();
        for id in &others {
            if !settings.known_accounts.contains(id) {
                push((
                    SEVERITY_REPOSITORY_POLICY,
                    format!(
                        "the repository policy of `{name}` grants access to account `{id}` in {label}, which is not an account of little.yaml"
                    ),
                ));
            }
            if let Some(action) = &pushes {
                push((
                    SEVERITY_REPOSITORY_POLICY,
                    format!(
                        "the repository policy of `{name}` grants `{action}` to account `{id}` in {label}"
                    ),
                ));
            }
        }
    }
    out
}

/// The counts per severity, worst first, without informational ones; from the findings when
/// the counts are missing.
fn severity_counts(scan: &ScanResult) -> Vec<(Severity, i64)> {
    let mut counts: BTreeMap<Severity, i64> = BTreeMap::new();
    if scan.counts.is_empty() {
        for f in &scan.findings {
            if let Ok(s) = f.severity.parse::<Severity>() {
                *counts.entry(s).or_default() += 1;
            }
        }
    } else {
        for (s, n) in &scan.counts {
            if let Ok(s) = s.parse::<Severity>() {
                *counts.entry(s).or_default() += n;
            }
        }
    }
    counts
        .into_iter()
        .rev()
        .filter(|(s, n)| *s > Severity::Informational && *n > 0)
        .collect()
}

/// Seconds since the epoch of an RFC 3339 time.
fn epoch_secs(ts: &str) -> Option<i64> {
    use aws_smithy_types::date_time::Format;
    use aws_smithy_types::DateTime;
    DateTime::from_str(ts, Format::DateTime)
        .or_else(|_| DateTime::from_str(ts, Format::DateTimeWithOffset))
        .ok()
        .map(|d| d.secs())
}

fn image_label(repo: &str, image: &Image) -> String {
    match image.tags.first() {
        Some(tag) => format!("`{repo}:{tag}` ({})", image.digest),
        None => format!("`{repo}@{}`", image.digest),
    }
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
    if let Some(m) = tag_immutability(repo, settings) {
        out.push(f(
            CHECK_TAG_IMMUTABILITY,
            Some(CONTROL_TAG_IMMUTABILITY),
            SEVERITY_TAG_IMMUTABILITY,
            m,
        ));
    }
    if let Some(m) = scanning(repo, registry) {
        out.push(f(
            CHECK_SCANNING,
            Some(CONTROL_SCANNING),
            SEVERITY_SCANNING,
            m,
        ));
    }
    if let Some(m) = lifecycle(repo, facts.lifecycle.as_deref()) {
        out.push(f(
            CHECK_LIFECYCLE,
            Some(CONTROL_LIFECYCLE),
            SEVERITY_LIFECYCLE,
            m,
        ));
    }
    if let Some(m) = encryption(repo, settings) {
        out.push(f(
            CHECK_ENCRYPTION,
            Some(CONTROL_ENCRYPTION),
            SEVERITY_ENCRYPTION,
            m,
        ));
    }
    if let Some(policy) = &facts.policy {
        for (severity, m) in repository_policy(repo, policy, settings) {
            out.push(f(CHECK_REPOSITORY_POLICY, None, severity, m));
        }
    }
    let stale_after = i64::from(settings.stale_scan_days) * 86_400;
    for (image, scan) in &facts.images {
        let label = image_label(&repo.name, image);
        let Some(scan) = scan else {
            out.push(f(
                CHECK_IMAGE_SCAN,
                None,
                SEVERITY_IMAGE_SCAN,
                format!("image {label} has never been scanned"),
            ));
            continue;
        };
        if matches!(scan.status.as_str(), "FAILED" | "UNSUPPORTED_IMAGE") {
            let why = scan
                .description
                .as_ref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            out.push(f(
                CHECK_IMAGE_SCAN,
                None,
                SEVERITY_IMAGE_SCAN,
                format!("the scan of image {label} is `{}`{why}", scan.status),
            ));
        } else if let Some(done) = scan.completed_at.as_deref().and_then(epoch_secs) {
            let age = i64::try_from(now).unwrap_or(i64::MAX) - done;
            if age > stale_after {
                out.push(f(
                    CHECK_IMAGE_SCAN,
                    None,
                    SEVERITY_IMAGE_SCAN,
                    format!(
                        "the last scan of image {label} is {} days old (more than {})",
                        age / 86_400,
                        settings.stale_scan_days
                    ),
                ));
            }
        }
        let counts = severity_counts(scan);
        if let Some((worst, _)) = counts.first() {
            let text = counts
                .iter()
                .map(|(s, n)| format!("{n} {s}"))
                .collect::<Vec<_>>()
                .join(", ");
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

/// The images whose scans are checked: the newest, or every tagged one.
fn selected_images(mut images: Vec<Image>, all_tagged: bool) -> Vec<Image> {
    if all_tagged {
        images.retain(|i| !i.tags.is_empty());
        return images;
    }
    let key = |i: &Image| i.pushed_at.as_deref().and_then(epoch_secs);
    let mut newest: Option<Image> = None;
    for image in images {
        if newest.as_ref().is_none_or(|n| key(&image) > key(n)) {
            newest = Some(image);
        }
    }
    newest.into_iter().collect()
}

async fn repository_facts(
    ecr: &dyn Ecr,
    repository: Repository,
    settings: &EcrSettings,
) -> Result<RepositoryFacts> {
    let name = repository.name.clone();
    let lifecycle = ecr.lifecycle_policy(&name).await?;
    let policy = ecr.repository_policy(&name).await?;
    let mut images = Vec::new();
    for image in selected_images(ecr.images(&name).await?, settings.all_tagged_images) {
        let scan = ecr.scan_findings(&name, &image.digest).await?;
        images.push((image, scan));
    }
    Ok(RepositoryFacts {
        repository,
        lifecycle,
        policy,
        images,
    })
}

type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs the futures with at most `limit` at once; the results in the futures' order.
async fn bounded<'a, T>(futures: Vec<Pending<'a, T>>, limit: usize) -> Vec<T> {
    let total = futures.len();
    let mut queue = futures.into_iter().enumerate();
    let mut running: Vec<(usize, Pending<'a, T>)> = Vec::new();
    let mut results: Vec<Option<T>> = (0..total).map(|_| None).collect();
    std::future::poll_fn(|cx| loop {
        while running.len() < limit.max(1) {
            match queue.next() {
                Some(item) => running.push(item),
                None => break,
            }
        }
        if running.is_empty() {
            return Poll::Ready(());
        }
        let mut progressed = false;
        let mut i = 0;
        while i < running.len() {
            if let Poll::Ready(v) = running[i].1.as_mut().poll(cx) {
                let (index, _) = running.swap_remove(i);
                results[index] = Some(v);
                progressed = true;
            } else {
                i += 1;
            }
        }
        if !progressed {
            return Poll::Pending;
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

/// Reads the registry's scanning configuration and each repository that is not excluded, a
/// few at a time; the repositories in the registry's order, and how many images were looked
/// at.
pub async fn gather(
    ecr: &dyn Ecr,
    settings: &EcrSettings,
) -> Result<(RegistryScanning, Vec<RepositoryFacts>, usize)> {
    let registry = ecr.registry_scanning().await?;
    let repositories: Vec<Repository> = ecr
        .repositories()
        .await?
        .into_iter()
        .filter(|r| !is_excluded(&r.name, settings))
        .collect();
    let futures: Vec<Pending<'_, Result<RepositoryFacts>>> = repositories
        .into_iter()
        .map(|r| Box::pin(repository_facts(ecr, r, settings)) as Pending<'_, _>)
        .collect();
    let facts = bounded(futures, CONCURRENCY)
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    let images = facts.iter().map(|f| f.images.len()).sum();
    Ok((registry, facts, images))
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
/// marks the finding's remediation applied; without `apply`, describes what it would do.
pub async fn remediate(
    ecr: &dyn Ecr,
    findings: &mut [Finding],
    facts: &[RepositoryFacts],
    apply: bool,
) -> Result<()> {
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
        if apply {
            ecr.set_tag_mutability(&repo.name, &after, &filters).await?;
        }
        finding.remediation = Some(Remediation {
            action: REMEDIATION_ACTION.to_owned(),
            before,
            after,
            applied: apply,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
        let run =
            |reg: RegistryScanning| check_repository(&f, &reg, &settings, ACCOUNT, REGION, NOW);
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
        let (_, facts, images) = gather(&fake, &settings).await.unwrap();
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
}
