//! The images that run: what ECS and Lambda use ([`read_uses`], through the
//! [`Workloads`] adapter), resolved to the digests of the audited registry's images
//! ([`resolve`]: a reference by digest keeps it, one by tag is looked up among the
//! repository's images, with no extra call; references into other registries are left out),
//! the `ecr.lifecycle-expires-in-use` check: a lifecycle policy that would expire an image
//! that runs ([`expires_in_use`]); and the checks of what runs ([`running_risks`]): an image in
//! use whose scan is missing, failed or stale (`ecr.in-use-image-scan`), or has findings at or
//! above `audit.in_use_findings_at` (`ecr.in-use-image-findings`), read from DescribeImages'
//! scan summary with no call of their own. The pods of the Kubernetes
//! clusters of `audit.kubernetes` are read once per audit run (`audit::kubernetes`) and join
//! each registry's uses.

use std::collections::{BTreeMap, BTreeSet};

use super::images::{counts_text, image_label, severity_counts};
use super::{finding, scan_problem, EcrSettings, Reads, RepositoryFacts};
use crate::audit::model::{Finding, ImageInUse, Severity};
use crate::aws::workloads::{ImageUse, Workloads};
use crate::context::lifecycle::{
    after_repository, describe_rule, digest_of, eval_images, rules_of,
};
use crate::error::Result;
use crate::policy::lifecycle_eval;

/// A lifecycle policy that would expire an image that runs: the next scale-out or restart
/// cannot pull it.
pub const CHECK_LIFECYCLE_EXPIRES_IN_USE: &str = "ecr.lifecycle-expires-in-use";
pub const SEVERITY_LIFECYCLE_EXPIRES_IN_USE: Severity = Severity::High;

/// An image in use whose scan is missing, failed, no longer watched or stale.
pub const CHECK_IN_USE_IMAGE_SCAN: &str = "ecr.in-use-image-scan";
pub const SEVERITY_IN_USE_IMAGE_SCAN: Severity = Severity::Medium;
/// An image in use with scan findings at or above `audit.in_use_findings_at`; severity: the
/// worst of them.
pub const CHECK_IN_USE_IMAGE_FINDINGS: &str = "ecr.in-use-image-findings";

/// The checks that read what runs.
pub const IN_USE_CHECKS: &[&str] = &[
    CHECK_LIFECYCLE_EXPIRES_IN_USE,
    CHECK_IN_USE_IMAGE_SCAN,
    CHECK_IN_USE_IMAGE_FINDINGS,
];

pub const ECS_LIST_CLUSTERS: &str = "ecs:ListClusters";
pub const ECS_LIST_SERVICES: &str = "ecs:ListServices";
pub const ECS_DESCRIBE_SERVICES: &str = "ecs:DescribeServices";
pub const ECS_DESCRIBE_TASK_DEFINITION: &str = "ecs:DescribeTaskDefinition";
pub const ECS_LIST_TASKS: &str = "ecs:ListTasks";
pub const ECS_DESCRIBE_TASKS: &str = "ecs:DescribeTasks";
pub const LAMBDA_LIST_FUNCTIONS: &str = "lambda:ListFunctions";
pub const LAMBDA_GET_FUNCTION: &str = "lambda:GetFunction";
pub const LAMBDA_LIST_ALIASES: &str = "lambda:ListAliases";

/// The calls that read what runs.
pub const WORKLOAD_CALLS: &[&str] = &[
    ECS_LIST_CLUSTERS,
    ECS_LIST_SERVICES,
    ECS_DESCRIBE_SERVICES,
    ECS_DESCRIBE_TASK_DEFINITION,
    ECS_LIST_TASKS,
    ECS_DESCRIBE_TASKS,
    LAMBDA_LIST_FUNCTIONS,
    LAMBDA_GET_FUNCTION,
    LAMBDA_LIST_ALIASES,
];

/// Whether the selected checks read what runs.
pub fn reads_workloads(reads: &Reads) -> bool {
    WORKLOAD_CALLS.iter().any(|c| reads.has(c))
}

/// What runs in one account and region: ECS and Lambda at once. A call IAM denies is added to
/// `denied` and its service's part is left out (the checks that need it are reported as not
/// checked); other errors are errors.
pub async fn read_uses(
    workloads: &dyn Workloads,
    reads: &Reads,
    denied: &mut BTreeSet<String>,
) -> Result<Vec<ImageUse>> {
    let ecs = async {
        if reads.has(ECS_LIST_CLUSTERS) {
            crate::poll::again_while_throttled(&THROTTLED_AGAIN, || workloads.ecs_images()).await
        } else {
            Ok(Vec::new())
        }
    };
    let lambda = async {
        if reads.has(LAMBDA_LIST_FUNCTIONS) {
            crate::poll::again_while_throttled(&THROTTLED_AGAIN, || workloads.lambda_images()).await
        } else {
            Ok(Vec::new())
        }
    };
    let (ecs, lambda) = tokio::join!(ecs, lambda);
    let mut uses = Vec::new();
    for part in [ecs, lambda] {
        match part {
            Ok(u) => uses.extend(u),
            Err(e) => match e.denied_action() {
                Some(action) => {
                    denied.insert(action.to_owned());
                }
                None => return Err(e),
            },
        }
    }
    Ok(uses)
}

/// The pauses before a workload read still throttled after the SDK's retries is read again,
/// instead of failing the registry's audit.
const THROTTLED_AGAIN: [std::time::Duration; 2] = [
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(4),
];

/// Who uses each image of each repository: repository name → digest → users. A reference
/// into a repository of `facts` (its URI, then `:TAG`, `@DIGEST` or nothing) counts; the
/// digest that runs (when the runtime reported one) wins over the reference's own, which wins
/// over the image its tag names among the repository's listed images. A tag that names no
/// image, and references into other registries, are left out.
pub fn resolve<'a>(
    uses: impl IntoIterator<Item = &'a ImageUse>,
    facts: &[RepositoryFacts],
) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for u in uses {
        let Some(f) = facts.iter().find(|f| {
            let uri = &f.repository.uri;
            !uri.is_empty() && after_repository(&u.reference, uri).is_some()
        }) else {
            continue;
        };
        let digest = digest_of(
            &u.reference,
            u.digest.as_deref(),
            &f.repository.uri,
            &f.listed,
        );
        if let Some(digest) = digest {
            out.entry(f.repository.name.clone())
                .or_default()
                .entry(digest)
                .or_default()
                .insert(u.user.clone());
        }
    }
    out
}

/// The report's images in use of one registry.
pub fn images_in_use(
    resolved: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    facts: &[RepositoryFacts],
    account: &str,
    region: &str,
) -> Vec<ImageInUse> {
    let mut out = Vec::new();
    for (repository, images) in resolved {
        let listed = facts
            .iter()
            .find(|f| &f.repository.name == repository)
            .map(|f| f.listed.as_slice())
            .unwrap_or_default();
        for (digest, users) in images {
            out.push(ImageInUse {
                repository: repository.clone(),
                digest: digest.clone(),
                tags: listed
                    .iter()
                    .find(|i| &i.digest == digest)
                    .map(|i| i.tags.clone())
                    .unwrap_or_default(),
                in_use_by: users.iter().cloned().collect(),
                account: (!account.is_empty()).then(|| account.to_owned()),
                region: (!region.is_empty()).then(|| region.to_owned()),
            });
        }
    }
    out
}

/// The `ecr.lifecycle-expires-in-use` findings of one repository: each image in use (digest →
/// users) that its lifecycle policy, evaluated on its images now, would expire. None when the
/// repository has no policy, or an invalid one (`ecr.lifecycle` reports that).
pub fn expires_in_use(
    facts: &RepositoryFacts,
    in_use: &BTreeMap<String, BTreeSet<String>>,
    account: &str,
    region: &str,
    now: u64,
) -> Vec<Finding> {
    let repo = &facts.repository;
    let Some(rules) = facts.lifecycle.as_deref().and_then(|p| rules_of(p).ok()) else {
        return Vec::new();
    };
    if in_use.is_empty() {
        return Vec::new();
    }
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let eval = lifecycle_eval::evaluate(&rules, &eval_images(&facts.listed), now);
    eval.expired()
        .filter_map(|d| {
            let users = in_use.get(&d.digest)?;
            let rule = rules.iter().find(|r| r.priority == d.rule)?;
            let label = match d.tags.first() {
                Some(tag) => format!("`{}:{tag}` ({})", repo.name, d.digest),
                None => format!("`{}@{}`", repo.name, d.digest),
            };
            let users: Vec<&str> = users.iter().map(String::as_str).collect();
            Some(finding(
                CHECK_LIFECYCLE_EXPIRES_IN_USE,
                None,
                SEVERITY_LIFECYCLE_EXPIRES_IN_USE,
                repo,
                account,
                region,
                format!(
                    "the lifecycle policy of repository `{}` would expire image {label}, which is in use by {}: {}",
                    repo.name,
                    users.join(", "),
                    describe_rule(rule)
                ),
            ))
        })
        .collect()
}

/// The `ecr.in-use-image-scan` and `ecr.in-use-image-findings` findings of one repository's
/// images in use (digest → users), from the scan summary DescribeImages gave each image. An
/// image in use that the repository no longer lists is left to `ecr.lifecycle-expires-in-use`
/// and the runtime.
pub fn running_risks(
    facts: &RepositoryFacts,
    in_use: &BTreeMap<String, BTreeSet<String>>,
    settings: &EcrSettings,
    account: &str,
    region: &str,
    now: u64,
) -> Vec<Finding> {
    let repo = &facts.repository;
    let mut out = Vec::new();
    for (digest, users) in in_use {
        let Some(image) = facts.listed.iter().find(|i| &i.digest == digest) else {
            continue;
        };
        let users: Vec<&str> = users.iter().map(String::as_str).collect();
        let label = format!(
            "{}, in use by {},",
            image_label(&repo.name, image),
            users.join(", ")
        );
        let f = |check: &str, severity: Severity, message: String| {
            finding(check, None, severity, repo, account, region, message)
        };
        if facts.can_check(CHECK_IN_USE_IMAGE_SCAN) {
            if let Some(m) = scan_problem(&label, image.scan.as_ref(), settings, now) {
                out.push(f(CHECK_IN_USE_IMAGE_SCAN, SEVERITY_IN_USE_IMAGE_SCAN, m));
            }
        }
        let Some(scan) = image
            .scan
            .as_ref()
            .filter(|_| facts.can_check(CHECK_IN_USE_IMAGE_FINDINGS))
        else {
            continue;
        };
        let counts: Vec<(Severity, i64)> = severity_counts(scan)
            .into_iter()
            .filter(|(s, _)| *s >= settings.in_use_findings_at)
            .collect();
        if let Some((worst, _)) = counts.first() {
            let text = counts_text(&counts);
            out.push(f(
                CHECK_IN_USE_IMAGE_FINDINGS,
                *worst,
                format!(
                    "image {label} has findings at or above {}: {text}",
                    settings.in_use_findings_at
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests;
