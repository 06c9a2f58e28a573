//! Running the audit: for each account and region audited, gather every repository of the
//! registry (not only the project's) and check it, optionally remediate tag immutability, and
//! check the project's stacks. Account and region pairs are audited concurrently (at most
//! `audit.concurrency` at once, each within `audit.account_timeout`); an account that cannot
//! be read is reported as an error, or with `--org` as an `org.account-unreachable` finding,
//! and does not hide the others. With drift detection on, each deployed stack's drift is found
//! out as `little drift` does and reported as `stack.drift`. Which accounts `--org` reaches is
//! [`super::org`]'s.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::drift::{stack_drift, StackDriftResult};
use super::ecr::{check_repository, gather_reads, in_use, remediate, EcrSettings, Reads};
use super::model::Severity;
use super::model::{AuditReport, Checked, Finding, NotChecked};
use super::org::{org_accounts, unreachable_finding, CHECK_ACCOUNT_UNREACHABLE};
use super::permissions::denied_stack_checks;
use super::stacks::{check_stack, STACK_DRIFT};
use crate::aws::cloudformation::StackInfo;
use crate::aws::connect::Account;
use crate::aws::connect::Connect;
use crate::aws::workloads::ImageUse;
use crate::error::Result;
use crate::parallel::AdaptiveLimit;
use crate::project::audit::Reach;
use crate::project::Project;

#[derive(Clone)]
pub struct AuditOptions {
    /// Only these checks (ids such as `ecr.tag-immutability`, or prefixes such as `ecr`).
    pub checks: Vec<String>,
    /// Set tag immutability where it is missing (otherwise: say what it would do).
    pub remediate: bool,
    /// Audit every account of little.yaml (through its role), not only the default one.
    pub all_accounts: bool,
    /// Audit this account of little.yaml (through its role) instead of the default one
    /// (`serve --registry`, `ECR_REGISTRY_ID`).
    pub account: Option<Account>,
    /// Audit every active account of the organisation (`--org`) through the audit role; an
    /// account that cannot be audited is a finding.
    pub org: bool,
    /// The regions, concurrency, per-account timeout and audit role (little.yaml's `audit:`).
    pub reach: Reach,
    /// Check the project's stacks too.
    pub stacks: bool,
    /// Find out each deployed stack's drift (`--drift`); None: only read the status of the
    /// last detection.
    pub drift: Option<super::drift::DriftOptions>,
    pub settings: EcrSettings,
    /// Seconds since the Unix epoch.
    pub now: u64,
}

/// Whether a check id is selected by `--check`: a check's own id selects it alone (so
/// `ecr.lifecycle` is not `ecr.lifecycle-ineffective` too); anything else is a prefix up to a
/// `.` or `-` (`ecr`, `ecr.image`).
pub fn selected(check: &str, wanted: &[String]) -> bool {
    wanted.is_empty()
        || wanted.iter().any(|w| {
            check == w
                || (!ALL_CHECKS.contains(&w.as_str())
                    && (check.starts_with(&format!("{w}.")) || check.starts_with(&format!("{w}-"))))
        })
}

/// Every check id, for `--check` validation.
pub const ALL_CHECKS: &[&str] = &[
    super::ecr::CHECK_TAG_IMMUTABILITY,
    super::ecr::CHECK_SCANNING,
    super::ecr::CHECK_LIFECYCLE,
    super::ecr::CHECK_LIFECYCLE_INEFFECTIVE,
    super::ecr::CHECK_IMAGE_UNUSED,
    super::ecr::in_use::CHECK_LIFECYCLE_EXPIRES_IN_USE,
    super::ecr::in_use::CHECK_IN_USE_IMAGE_SCAN,
    super::ecr::in_use::CHECK_IN_USE_IMAGE_FINDINGS,
    super::ecr::CHECK_ENCRYPTION,
    super::ecr::CHECK_REPOSITORY_POLICY,
    super::ecr::CHECK_IMAGE_FINDINGS,
    super::ecr::CHECK_IMAGE_SCAN,
    super::stacks::STACK_DEPLOYED,
    super::stacks::STACK_HEALTHY,
    super::stacks::STACK_PROTECTED,
    STACK_DRIFT,
    CHECK_ACCOUNT_UNREACHABLE,
];

/// A `--check` that selects no check is a mistake, not an empty audit.
pub fn validate_checks(wanted: &[String]) -> Result<()> {
    for w in wanted {
        if !ALL_CHECKS
            .iter()
            .any(|c| selected(c, std::slice::from_ref(w)))
        {
            let hint = crate::text::closest(w, ALL_CHECKS.iter().copied())
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            return Err(crate::error::Error::Usage(format!(
                "`--check {w}` selects no check{hint}; the checks are {}",
                ALL_CHECKS.join(", ")
            )));
        }
    }
    Ok(())
}

/// Whether any check of a group (`ecr`, `stack`) is selected by `--check`.
pub fn group_selected(group: &str, wanted: &[String]) -> bool {
    wanted.is_empty()
        || wanted
            .iter()
            .any(|w| w == group || w.starts_with(&format!("{group}.")))
}

/// The accounts to audit: the one named (`serve --registry`), else every account of
/// little.yaml with `--accounts`, else the default account (or the caller's, when
/// little.yaml names none).
fn targets(project: &Project, all: bool, account: Option<&Account>) -> Vec<Option<Account>> {
    if let Some(a) = account {
        return vec![Some(a.clone())];
    }
    if all && !project.accounts.is_empty() {
        return project.accounts.values().cloned().map(Some).collect();
    }
    vec![project.default_account().cloned()]
}

/// What one account's registry held when it was audited (for `little serve`'s metrics).
#[derive(Debug, Clone)]
pub struct RegistryInventory {
    pub account: String,
    pub region: String,
    pub repositories: Vec<super::ecr::RepositoryFacts>,
}

/// A project stack as the audit found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackState {
    pub stack: String,
    /// None: not deployed.
    pub status: Option<String>,
    /// From this run's detection with `--drift`, else the last detection's status; None
    /// when unknown.
    pub drifted: Option<bool>,
}

/// The audit's report, with what it read.
#[derive(Debug, Clone)]
pub struct AuditOutcome {
    pub report: AuditReport,
    pub registries: Vec<RegistryInventory>,
    pub stacks: Vec<StackState>,
}

/// Audits the registry of each target account and the project's stacks.
pub async fn audit(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    options: AuditOptions,
) -> Result<AuditReport> {
    Ok(audit_outcome(project, connect, options).await?.report)
}

/// [`audit`], keeping the registries' inventory and the stacks' states. Scan findings lists
/// are dropped from the inventory (their counts stay), so that it stays small.
pub async fn audit_outcome(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    options: AuditOptions,
) -> Result<AuditOutcome> {
    let reach = &options.reach;
    // The registry is read when an ECR check is selected; with `--org` also to find out
    // whether each account can be reached.
    let read_registries = group_selected("ecr", &options.checks)
        || (options.org && group_selected("org", &options.checks));
    let accounts: Vec<Option<Account>> = if !read_registries {
        Vec::new()
    } else if options.org {
        let first = reach.regions.first().cloned().flatten();
        let caller = connect.clients(first.as_deref(), None).await?;
        org_accounts(caller.org.as_ref(), &project, reach)
            .await?
            .into_iter()
            .map(Some)
            .collect()
    } else {
        targets(&project, options.all_accounts, options.account.as_ref())
    };
    let mut names = BTreeMap::new();
    for a in accounts.iter().flatten() {
        names.insert(a.id.clone(), a.name.clone());
    }
    let units: Vec<(Option<Account>, Option<String>)> = accounts
        .iter()
        .flat_map(|a| reach.regions.iter().map(move |r| (a.clone(), r.clone())))
        .collect();
    // The Kubernetes clusters' pods, once for every registry.
    let reads_workloads = in_use::reads_workloads(&Reads::of(|c| selected(c, &options.checks)));
    let clusters = if read_registries && reads_workloads && !reach.kubernetes.is_empty() {
        let timeout = reach.account_timeout;
        super::kubernetes::read_clusters(&reach.kubernetes, timeout, &options.checks).await
    } else {
        super::kubernetes::ClusterReads::default()
    };
    let cluster_uses = Arc::new(clusters.uses);
    let parts = audit_units(connect.clone(), &options, units, cluster_uses).await;
    let mut findings = Vec::new();
    let mut errors = clusters.errors;
    let mut not_checked = clusters.not_checked;
    let mut checked = Checked::default();
    let mut registries = Vec::new();
    let mut stacks = Vec::new();
    let mut images_in_use = Vec::new();
    for (account, region, result) in parts {
        match result {
            Ok((f, c, inventory, skipped, in_use)) => {
                findings.extend(f);
                images_in_use.extend(in_use);
                not_checked.extend(skipped);
                checked.repositories += c.repositories;
                checked.images += c.images;
                registries.push(inventory);
            }
            Err(failure) => {
                let cause = failure.cause(reach);
                match (&account, options.org) {
                    (Some(a), true) => {
                        if selected(CHECK_ACCOUNT_UNREACHABLE, &options.checks) {
                            findings.push(unreachable_finding(a, region.as_deref(), &cause));
                        }
                    }
                    _ => errors.push(format!(
                        "the registry of {}{}: {cause}",
                        account
                            .as_ref()
                            .map(|a| format!("account `{}` ({})", a.name, a.id))
                            .unwrap_or_else(|| "the default account".into()),
                        region
                            .as_deref()
                            .filter(|_| reach.regions.len() > 1)
                            .map(|r| format!(" in {r}"))
                            .unwrap_or_default()
                    )),
                }
            }
        }
    }
    if options.stacks && group_selected("stack", &options.checks) {
        for stack in project.select(&[], true)? {
            let clients = match crate::context::clients_for(&project, connect.as_ref(), stack).await
            {
                Ok(c) => c,
                Err(e) => {
                    errors.push(format!("stack `{}`: {e}", stack.name));
                    continue;
                }
            };
            let account = project.account_of(stack).map(|a| a.id.as_str());
            if stack.kind.is_set() {
                match audit_stack_set(
                    &project,
                    connect.as_ref(),
                    stack,
                    &clients,
                    account,
                    &options,
                )
                .await
                {
                    Ok((f, state, drift_error)) => {
                        checked.stacks += 1;
                        findings.extend(f);
                        stacks.push(state);
                        match drift_error {
                            Some((_, Some(permission))) => record_denial(
                                &mut not_checked,
                                [STACK_DRIFT]
                                    .into_iter()
                                    .filter(|c| selected(c, &options.checks)),
                                &permission,
                                account,
                                &clients.region,
                            ),
                            Some((e, None)) => errors.push(e),
                            None => {}
                        }
                    }
                    Err(e) => match e.denied_action() {
                        Some(permission) => record_denial(
                            &mut not_checked,
                            denied_stack_checks(&options.checks),
                            permission,
                            account,
                            &clients.region,
                        ),
                        None => errors.push(format!("StackSet `{}`: {e}", stack.name)),
                    },
                }
                continue;
            }
            match clients.cfn.describe_stack(&stack.name).await {
                Ok(info) => {
                    checked.stacks += 1;
                    let mut stack_findings =
                        check_stack(&stack.name, info.as_ref(), account, &clients.region);
                    let mut state = StackState {
                        stack: stack.name.clone(),
                        status: info.as_ref().map(|i| i.status.clone()),
                        drifted: crate::aws::drift::drifted(
                            info.as_ref().and_then(|i| i.drift_status.as_deref()),
                        ),
                    };
                    let detect = options
                        .drift
                        .as_ref()
                        .filter(|_| info.is_some() && selected(STACK_DRIFT, &options.checks));
                    if let Some(drift_options) = detect {
                        // A fresh detection replaces the status of the last one.
                        stack_findings.retain(|f| f.check != STACK_DRIFT);
                        match stack_drift(&project, connect.as_ref(), stack, drift_options).await {
                            Ok(result) => {
                                state.drifted = Some(result.drifted);
                                stack_findings.extend(drift_finding(
                                    &result,
                                    info.as_ref(),
                                    account,
                                    &clients.region,
                                ))
                            }
                            Err(e) => match e.denied_action() {
                                Some(permission) => record_denial(
                                    &mut not_checked,
                                    [STACK_DRIFT].into_iter(),
                                    permission,
                                    account,
                                    &clients.region,
                                ),
                                None => {
                                    errors.push(format!("drift of stack `{}`: {e}", stack.name))
                                }
                            },
                        }
                    }
                    stacks.push(state);
                    findings.extend(
                        stack_findings
                            .into_iter()
                            .filter(|f| selected(&f.check, &options.checks)),
                    );
                }
                Err(e) => match e.denied_action() {
                    Some(permission) => record_denial(
                        &mut not_checked,
                        denied_stack_checks(&options.checks),
                        permission,
                        account,
                        &clients.region,
                    ),
                    None => errors.push(format!("stack `{}`: {e}", stack.name)),
                },
            }
        }
    }
    let mut report = AuditReport::new(options.now, checked, findings, errors);
    report.not_checked = not_checked;
    report.images_in_use = images_in_use;
    if names.len() > 1 || options.org {
        report.accounts = names;
    }
    Ok(AuditOutcome {
        report,
        registries,
        stacks,
    })
}

/// A StackSet stack's findings and state; with `--drift`, a fresh detection (an error in it
/// is returned apart, as for stacks, with the action when IAM denied it).
async fn audit_stack_set(
    project: &Project,
    connect: &dyn Connect,
    stack: &crate::project::Stack,
    clients: &crate::aws::connect::Clients,
    account: Option<&str>,
    options: &AuditOptions,
) -> Result<(Vec<Finding>, StackState, Option<(String, Option<String>)>)> {
    let info = clients.stack_sets.describe_stack_set(&stack.name).await?;
    let instances = match &info {
        Some(_) => clients.stack_sets.list_instances(&stack.name).await?,
        None => Vec::new(),
    };
    let mut found = super::stacks::check_stack_set(
        &stack.name,
        info.as_ref(),
        &instances,
        account,
        &clients.region,
    );
    let mut state = StackState {
        stack: stack.name.clone(),
        status: info.as_ref().map(|i| format!("STACK_SET_{}", i.status)),
        drifted: crate::aws::drift::drifted(info.as_ref().and_then(|i| i.drift_status.as_deref())),
    };
    let mut drift_error = None;
    let detect = options
        .drift
        .as_ref()
        .filter(|_| info.is_some() && selected(STACK_DRIFT, &options.checks));
    if let Some(drift_options) = detect {
        found.retain(|f| f.check != STACK_DRIFT);
        match stack_drift(project, connect, stack, drift_options).await {
            Ok(result) => {
                state.drifted = Some(result.drifted);
                found.extend(drift_finding(&result, None, account, &clients.region));
            }
            Err(e) => {
                drift_error = Some((
                    format!("drift of StackSet `{}`: {e}", stack.name),
                    e.denied_action().map(str::to_owned),
                ))
            }
        }
    }
    found.retain(|f| selected(&f.check, &options.checks));
    Ok((found, state, drift_error))
}

/// Why one account's registry in one region could not be audited.
enum UnitFailure {
    Failed(crate::error::Error),
    TimedOut,
}

impl UnitFailure {
    fn cause(&self, reach: &Reach) -> String {
        match self {
            UnitFailure::Failed(e) => {
                let text = e.to_string();
                // A role that cannot be assumed fails as credentials that cannot be loaded; the
                // hint about configuring credentials would mislead there.
                match text.find("; no AWS credentials were found") {
                    Some(i) => text[..i].to_owned(),
                    None => text,
                }
            }
            UnitFailure::TimedOut => format!(
                "the audit did not finish within {} (`audit.account_timeout`)",
                crate::duration::human(reach.account_timeout)
            ),
        }
    }
}

type UnitResult = std::result::Result<RegistryAudit, UnitFailure>;

/// The services whose throttles slow the (account, region) fan-out: ECR, whose reads are the
/// units' work, and STS, through which every account's role is assumed from the same caller
/// (the calls of little's own STS clients are counted; a unit that fails on a throttled role
/// assumption is a throttle of its own). CloudFormation's throttles do not: they slow the
/// stacks' fan-outs.
pub const UNIT_SERVICES: &[&str] = &[super::ecr::SERVICE, "sts"];

/// The limit of the (account, region) fan-out: `audit.concurrency` at most, halved when ECR or
/// STS throttles.
fn unit_limit(max: usize) -> Arc<AdaptiveLimit> {
    unit_limit_with(max, crate::aws::calls::throttles)
}

/// [`unit_limit`] over other per-service throttle counters (tests).
fn unit_limit_with(
    max: usize,
    throttles: impl Fn(&str) -> u64 + Send + Sync + 'static,
) -> Arc<AdaptiveLimit> {
    Arc::new(AdaptiveLimit::new(max, move || {
        UNIT_SERVICES.iter().map(|s| throttles(s)).sum()
    }))
}

/// Audits each (account, region) with at most `reach.concurrency` at once (fewer while ECR or
/// STS throttles: [`unit_limit`]), each within `reach.account_timeout` from when it starts
/// (waiting for a place does not count); the results in the order of `units`. `cluster_uses`
/// (the Kubernetes clusters' pods) join every registry's own.
async fn audit_units(
    connect: Arc<dyn Connect>,
    options: &AuditOptions,
    units: Vec<(Option<Account>, Option<String>)>,
    cluster_uses: Arc<Vec<ImageUse>>,
) -> Vec<(Option<Account>, Option<String>, UnitResult)> {
    let limit = unit_limit(options.reach.concurrency);
    let timeout = options.reach.account_timeout;
    let mut tasks = tokio::task::JoinSet::new();
    let count = units.len();
    for (index, (account, region)) in units.into_iter().enumerate() {
        let connect = connect.clone();
        let options = options.clone();
        let limit = limit.clone();
        let cluster_uses = cluster_uses.clone();
        tasks.spawn(async move {
            let permit = limit.acquire().await;
            let work = audit_registry(
                connect.as_ref(),
                account.as_ref(),
                region.as_deref(),
                &options,
                &cluster_uses,
            );
            let result = match tokio::time::timeout(timeout, work).await {
                Ok(Ok(done)) => Ok(done),
                Ok(Err(e)) => Err(UnitFailure::Failed(e)),
                Err(_) => Err(UnitFailure::TimedOut),
            };
            let throttled = matches!(&result, Err(UnitFailure::Failed(e))
                if crate::aws::calls::is_throttling_message(&e.to_string()));
            permit.finish(throttled);
            (index, account, region, result)
        });
    }
    let mut parts = Vec::with_capacity(count);
    while let Some(joined) = tasks.join_next().await {
        if let Ok(part) = joined {
            parts.push(part);
        }
    }
    parts.sort_by_key(|(i, _, _, _)| *i);
    parts
        .into_iter()
        .map(|(_, account, region, result)| (account, region, result))
        .collect()
}

/// The `stack.drift` finding of a drift detection: the drifted resources and their changed
/// properties; None when the stack is in sync.
fn drift_finding(
    result: &StackDriftResult,
    info: Option<&StackInfo>,
    account: Option<&str>,
    region: &str,
) -> Option<Finding> {
    if !result.drifted {
        return None;
    }
    let resources: Vec<String> = result
        .resources
        .iter()
        .map(|r| {
            let paths: Vec<&str> = r.differences.iter().map(|d| d.path.as_str()).collect();
            if paths.is_empty() {
                format!("{} {}", r.logical_id, r.status)
            } else {
                format!("{} {} ({})", r.logical_id, r.status, paths.join(", "))
            }
        })
        .collect();
    Some(Finding {
        check: STACK_DRIFT.to_owned(),
        control: None,
        severity: Severity::Medium,
        resource: result.stack.clone(),
        resource_type: "AWS::CloudFormation::Stack".to_owned(),
        arn: info.map(|i| i.id.clone()),
        account: account.map(str::to_owned),
        region: Some(region.to_owned()),
        message: format!(
            "stack `{}` has drifted: {} (`little drift {}`)",
            result.stack,
            resources.join("; "),
            result.stack
        ),
        remediation: None,
    })
}

/// One account's registry in one region; `cluster_uses` are the Kubernetes clusters' pods.
async fn audit_registry(
    connect: &dyn Connect,
    account: Option<&Account>,
    region: Option<&str>,
    options: &AuditOptions,
    cluster_uses: &[ImageUse],
) -> Result<RegistryAudit> {
    let clients = connect.clients(region, account).await?;
    let ecr = clients.ecr.as_ref();
    // Each registry its own limit: ECR's rate limits are per account and region.
    let limit = super::ecr::repository_limit(super::ecr::CONCURRENCY);
    // Only the calls of the selected checks.
    let reads = Reads::of(|c| selected(c, &options.checks));
    let gathered = gather_reads(ecr, &options.settings, &limit, &reads).await?;
    let (registry, facts, images) = (gathered.registry, gathered.facts, gathered.images);
    let mut denied = gathered.denied;
    let uses = if in_use::reads_workloads(&reads) {
        in_use::read_uses(clients.workloads.as_ref(), &reads, &mut denied).await?
    } else {
        Vec::new()
    };
    // The clusters' pods are shared by every registry: read where they are, not copied.
    let resolved = in_use::resolve(uses.iter().chain(cluster_uses), &facts);
    let account_id = match account {
        Some(a) => a.id.clone(),
        None => facts
            .first()
            .map(|f| f.repository.registry_id.clone())
            .unwrap_or_default(),
    };
    let mut findings: Vec<Finding> = facts
        .iter()
        .flat_map(|f| {
            check_repository(
                f,
                &registry,
                &options.settings,
                &account_id,
                &clients.region,
                options.now,
            )
        })
        .chain(facts.iter().flat_map(|f| {
            let Some(users) = resolved.get(&f.repository.name) else {
                return Vec::new();
            };
            let mut out = in_use::running_risks(
                f,
                users,
                &options.settings,
                &account_id,
                &clients.region,
                options.now,
            );
            if f.can_check(in_use::CHECK_LIFECYCLE_EXPIRES_IN_USE) {
                out.extend(in_use::expires_in_use(
                    f,
                    users,
                    &account_id,
                    &clients.region,
                    options.now,
                ));
            }
            out
        }))
        .filter(|f| selected(&f.check, &options.checks))
        .collect();
    let images_in_use = in_use::images_in_use(&resolved, &facts, &account_id, &clients.region);
    if let Some(action) = remediate(ecr, &mut findings, &facts, options.remediate).await? {
        denied.insert(action);
    }
    let checked = Checked {
        repositories: facts.len(),
        images,
        stacks: 0,
    };
    let mut repositories = facts;
    for f in &mut repositories {
        for (image, scan) in &mut f.images {
            // The scan read in full is kept (its counts): the summary would repeat it.
            image.scan = None;
            if let Some(scan) = scan {
                scan.findings = Vec::new();
            }
        }
    }
    let not_checked = not_checked(&denied, options, &account_id, &clients.region);
    Ok((
        findings,
        checked,
        RegistryInventory {
            account: account_id,
            region: clients.region.clone(),
            repositories,
        },
        not_checked,
        images_in_use,
    ))
}

/// One registry's findings, what it looked at, its inventory, the checks IAM kept from
/// running, and its images in use.
type RegistryAudit = (
    Vec<Finding>,
    Checked,
    RegistryInventory,
    Vec<NotChecked>,
    Vec<crate::audit::model::ImageInUse>,
);

/// The selected checks that a denied call kept from running in one registry: one each; and
/// `--remediate` kept from remediating (`ecr:PutImageTagMutability` denied).
fn not_checked(
    denied: &std::collections::BTreeSet<String>,
    options: &AuditOptions,
    account: &str,
    region: &str,
) -> Vec<NotChecked> {
    let remediation: &[(&str, &[&str])] = &[(
        super::ecr::CHECK_TAG_IMMUTABILITY,
        &[super::ecr::REMEDIATION_ACTION],
    )];
    super::ecr::CHECK_CALLS
        .iter()
        .chain(remediation.iter().filter(|_| options.remediate))
        .filter(|(check, _)| selected(check, &options.checks))
        .filter_map(|(check, calls)| {
            let permission = calls.iter().find(|c| denied.contains(**c))?;
            Some(denial(check, permission, account, region))
        })
        .collect()
}

/// The not-checked result of `check` in one account and region, kept from running by a denied
/// `permission`.
fn denial(check: &str, permission: &str, account: &str, region: &str) -> NotChecked {
    NotChecked {
        check: check.to_owned(),
        permission: permission.to_owned(),
        account: (!account.is_empty()).then(|| account.to_owned()),
        region: (!region.is_empty()).then(|| region.to_owned()),
        reason: format!(
            "`{check}` in {}{region}: IAM denied `{permission}`, which {}",
            if account.is_empty() {
                String::new()
            } else {
                format!("account {account}, ")
            },
            if permission == super::ecr::REMEDIATION_ACTION {
                "`--remediate` needs: the findings are not remediated"
            } else {
                "the check needs"
            }
        ),
    }
}

/// Records that a denied `permission` kept `checks` from running in one account and region,
/// once per check there (several stacks of a region share one line).
fn record_denial<'a>(
    not_checked: &mut Vec<NotChecked>,
    checks: impl Iterator<Item = &'a str>,
    permission: &str,
    account: Option<&str>,
    region: &str,
) {
    let account = account.unwrap_or_default();
    for check in checks {
        let known = not_checked.iter().any(|n| {
            n.check == check
                && n.account.as_deref().unwrap_or_default() == account
                && n.region.as_deref().unwrap_or_default() == region
        });
        if !known {
            not_checked.push(denial(check, permission, account, region));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_the_named_account_over_all_and_the_default() {
        let (_dir, project) = crate::testing::fake_aws::project(&[(
            "little.yaml",
            "defaults:\n  region: us-east-1\n  account: dev\naccounts:\n  dev: {id: \"111111111111\"}\n  prod: {id: \"222222222222\"}\n",
        )]);
        let ids = |t: Vec<Option<Account>>| -> Vec<String> {
            t.into_iter()
                .map(|a| a.map(|a| a.id).unwrap_or_default())
                .collect()
        };
        let prod = project.accounts.get("prod").cloned();
        assert_eq!(
            ids(targets(&project, false, prod.as_ref())),
            ["222222222222"]
        );
        assert_eq!(
            ids(targets(&project, true, prod.as_ref())),
            ["222222222222"]
        );
        assert_eq!(ids(targets(&project, false, None)), ["111111111111"]);
        assert_eq!(
            ids(targets(&project, true, None)),
            ["111111111111", "222222222222"]
        );
    }

    #[test]
    fn check_selection_by_id_or_prefix() {
        let wanted = vec!["ecr.lifecycle".to_owned(), "stack".to_owned()];
        assert!(selected("ecr.lifecycle", &wanted));
        assert!(selected("stack.healthy", &wanted));
        assert!(!selected("ecr.scanning", &wanted));
        assert!(selected("anything", &[]));
    }

    #[test]
    fn unknown_checks_are_refused_with_a_hint() {
        assert!(validate_checks(&["ecr".into(), "stack.drift".into(), "ecr.image".into()]).is_ok());
        // A check's own id selects it alone; a prefix selects its family.
        let lifecycle = ["ecr.lifecycle".to_owned()];
        assert!(selected("ecr.lifecycle", &lifecycle));
        assert!(!selected("ecr.lifecycle-ineffective", &lifecycle));
        let image = ["ecr.image".to_owned()];
        assert!(selected("ecr.image-scan", &image) && selected("ecr.image-findings", &image));
        assert!(selected("ecr.lifecycle-ineffective", &["ecr".to_owned()]));
        let e = validate_checks(&["ecr.tag-imutability".into()]).unwrap_err();
        assert!(e.to_string().starts_with(
            "`--check ecr.tag-imutability` selects no check (did you mean `ecr.tag-immutability`?)"
        ));
    }

    #[test]
    fn a_denied_call_makes_each_selected_check_that_needs_it_not_checked_once() {
        use crate::audit::ecr::*;
        let denied: std::collections::BTreeSet<String> = [
            GET_LIFECYCLE_POLICY.to_owned(),
            DESCRIBE_SCAN_FINDINGS.to_owned(),
        ]
        .into();
        let options = |checks: &[&str]| AuditOptions {
            checks: checks.iter().map(|c| (*c).to_owned()).collect(),
            remediate: false,
            all_accounts: false,
            account: None,
            org: false,
            reach: Reach::default(),
            stacks: false,
            drift: None,
            settings: EcrSettings::default(),
            now: 0,
        };
        let all = not_checked(&denied, &options(&[]), "111111111111", "eu-west-1");
        let got: Vec<(&str, &str)> = all
            .iter()
            .map(|n| (n.check.as_str(), n.permission.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (CHECK_LIFECYCLE, GET_LIFECYCLE_POLICY),
                (CHECK_LIFECYCLE_INEFFECTIVE, GET_LIFECYCLE_POLICY),
                (CHECK_IMAGE_UNUSED, GET_LIFECYCLE_POLICY),
                (in_use::CHECK_LIFECYCLE_EXPIRES_IN_USE, GET_LIFECYCLE_POLICY),
                (CHECK_IMAGE_FINDINGS, DESCRIBE_SCAN_FINDINGS),
                (CHECK_IMAGE_SCAN, DESCRIBE_SCAN_FINDINGS),
            ]
        );
        assert_eq!(
            all[0].reason,
            "`ecr.lifecycle` in account 111111111111, eu-west-1: IAM denied `ecr:GetLifecyclePolicy`, which the check needs"
        );
        assert_eq!(all[0].account.as_deref(), Some("111111111111"));
        // Checks that were not selected are not reported.
        let one = not_checked(
            &denied,
            &options(&["ecr.tag-immutability"]),
            "",
            "eu-west-1",
        );
        assert!(one.is_empty());
        // A denied ECS call keeps the check of images in use from running, named once.
        let ecs: std::collections::BTreeSet<String> = [in_use::ECS_LIST_CLUSTERS.to_owned()].into();
        let in_use = not_checked(
            &ecs,
            &options(&[in_use::CHECK_LIFECYCLE_EXPIRES_IN_USE]),
            "",
            "eu-west-1",
        );
        assert_eq!(in_use.len(), 1);
        assert_eq!(
            in_use[0].reason,
            "`ecr.lifecycle-expires-in-use` in eu-west-1: IAM denied `ecs:ListClusters`, which the check needs"
        );
    }

    #[test]
    fn a_denied_describe_stacks_makes_the_stack_checks_not_checked_once_not_an_error() {
        use crate::testing::fake_aws::{FakeAws, FakeConnect};
        let dir = tempfile::tempdir().unwrap();
        let file = |rel: &str, text: &str| {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        file(
            "little.yaml",
            "name: acme\ndefaults:\n  region: us-east-1\n",
        );
        file(
            "templates/t.json",
            r#"{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}"#,
        );
        file("stacks/app.yaml", "name: app\ntemplate: t.json\n");
        file("stacks/web.yaml", "name: web\ntemplate: t.json\n");
        file("stacks/other.yaml", "name: other\ntemplate: t.json\n");
        let project = Arc::new(Project::load(dir.path()).unwrap());
        let fake = FakeAws::new();
        for stack in ["app", "web"] {
            fake.broken.lock().unwrap().insert(
                stack.into(),
                "AccessDenied: User: arn:aws:iam::123456789012:user/x is not authorized to perform: cloudformation:DescribeStacks".into(),
            );
        }
        fake.broken
            .lock()
            .unwrap()
            .insert("other".into(), "InternalFailure: try again".into());
        let options = AuditOptions {
            checks: vec!["stack".into()],
            remediate: false,
            all_accounts: false,
            org: false,
            reach: project.reach.clone(),
            stacks: true,
            drift: None,
            settings: EcrSettings::default(),
            now: 0,
            account: None,
        };
        let outcome = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(audit_outcome(project, Arc::new(FakeConnect(fake)), options))
            .unwrap();
        let report = outcome.report;
        let got: Vec<(&str, &str)> = report
            .not_checked
            .iter()
            .map(|n| (n.check.as_str(), n.permission.as_str()))
            .collect();
        // Once per check in the region, though two stacks were denied.
        assert_eq!(
            got,
            vec![
                ("stack.deployed", "cloudformation:DescribeStacks"),
                ("stack.healthy", "cloudformation:DescribeStacks"),
                (
                    "stack.termination-protection",
                    "cloudformation:DescribeStacks"
                ),
                ("stack.drift", "cloudformation:DescribeStacks"),
            ]
        );
        assert_eq!(
            report.not_checked[0].reason,
            "`stack.deployed` in us-east-1: IAM denied `cloudformation:DescribeStacks`, which the check needs"
        );
        // Any other failure is still an error of its stack.
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        assert!(
            report.errors[0].starts_with("stack `other`:"),
            "{:?}",
            report.errors
        );
    }

    mod org {
        //! `--org` with fakes: which accounts are audited, over which regions, how many at
        //! once, and what an unreachable or hanging account becomes.
        use super::super::*;
        use crate::aws::organizations::OrgAccount;
        use crate::testing::fake_aws::{FakeAws, FakeConnect};
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Mutex;
        use std::time::Duration;

        /// How the account of an id behaves.
        fn behaviour(id: &str) -> &'static str {
            match id {
                "100000000001" => "denied",
                "100000000002" => "hangs",
                "100000000003" => "broken-registry",
                _ => "fine",
            }
        }

        /// The registry of one account and region: one MUTABLE repository; reading it takes a
        /// second of (paused) time, and the number of registries being read at once is kept.
        struct Registry {
            id: String,
            region: String,
            world: Arc<World>,
        }

        #[derive(Default)]
        struct World {
            in_flight: AtomicUsize,
            most: AtomicUsize,
            read: Mutex<Vec<(String, String)>>,
        }

        #[async_trait::async_trait]
        impl crate::aws::ecr::Ecr for Registry {
            async fn repositories(&self) -> Result<Vec<crate::aws::ecr::Repository>> {
                match behaviour(&self.id) {
                    "hangs" => std::future::pending::<()>().await,
                    "broken-registry" => {
                        return Err(crate::error::Error::Aws {
                            operation: "ecr:DescribeRepositories".into(),
                            message: "AccessDeniedException: not authorized".into(),
                        })
                    }
                    _ => {}
                }
                let now = self.world.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                self.world.most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
                self.world.in_flight.fetch_sub(1, Ordering::SeqCst);
                self.world
                    .read
                    .lock()
                    .unwrap()
                    .push((self.id.clone(), self.region.clone()));
                let name = format!("team/{}", self.id);
                Ok(vec![crate::aws::ecr::Repository {
                    arn: format!("arn:aws:ecr:{}:{}:repository/{name}", self.region, self.id),
                    uri: format!("{}.dkr.ecr.{}.amazonaws.com/{name}", self.id, self.region),
                    name,
                    registry_id: self.id.clone(),
                    tag_mutability: "MUTABLE".into(),
                    exclusion_filters: vec![],
                    scan_on_push: true,
                    encryption_type: "AES256".into(),
                    kms_key: None,
                }])
            }
            async fn registry_scanning(&self) -> Result<crate::aws::ecr::RegistryScanning> {
                Ok(crate::aws::ecr::RegistryScanning {
                    scan_type: "BASIC".into(),
                    rules: Vec::new(),
                })
            }
            async fn lifecycle_policy(&self, _repo: &str) -> Result<Option<String>> {
                Ok(None)
            }
            async fn repository_policy(&self, _repo: &str) -> Result<Option<String>> {
                Ok(None)
            }
            async fn images(&self, _repo: &str) -> Result<Vec<crate::aws::ecr::Image>> {
                Ok(Vec::new())
            }
            async fn scan_findings(
                &self,
                _repo: &str,
                _digest: &str,
            ) -> Result<Option<crate::aws::ecr::ScanResult>> {
                Ok(None)
            }
            async fn set_tag_mutability(&self, _: &str, _: &str, _: &[String]) -> Result<()> {
                Ok(())
            }
        }

        /// Clients per account: the role of `denied` cannot be assumed; the caller (no
        /// account) gets the organisation.
        struct OrgConnect {
            fake: Arc<FakeAws>,
            world: Arc<World>,
            assumed: Mutex<Vec<String>>,
        }

        #[async_trait::async_trait]
        impl Connect for OrgConnect {
            async fn clients(
                &self,
                region: Option<&str>,
                account: Option<&Account>,
            ) -> Result<crate::aws::connect::Clients> {
                let mut clients = FakeConnect(self.fake.clone()).clients(region, None).await?;
                let Some(account) = account else {
                    return Ok(clients);
                };
                let role = account.role_arn.clone().unwrap_or_default();
                self.assumed.lock().unwrap().push(role.clone());
                if behaviour(&account.id) == "denied" {
                    return Err(crate::error::Error::Aws {
                        operation: "ecr:DescribeRepositories".into(),
                        message: format!("dispatch failure: an error occurred while loading credentials: AccessDenied: User is not authorized to perform: sts:AssumeRole on resource: {role}; no AWS credentials were found: set AWS_PROFILE"),
                    });
                }
                clients.ecr = Arc::new(Registry {
                    id: account.id.clone(),
                    region: clients.region.clone(),
                    world: self.world.clone(),
                });
                Ok(clients)
            }

            async fn caller(
                &self,
                region: Option<&str>,
                account: Option<&Account>,
            ) -> Result<crate::aws::connect::Caller> {
                FakeConnect(self.fake.clone()).caller(region, account).await
            }
        }

        fn org_of(ids: &[(&str, &str)]) -> Arc<FakeAws> {
            let fake = FakeAws::new();
            fake.org_accounts.lock().unwrap().insert(
                "r-root".into(),
                ids.iter()
                    .map(|(id, status)| OrgAccount {
                        id: (*id).into(),
                        name: format!("acct-{}", &id[8..]),
                        status: (*status).into(),
                    })
                    .collect(),
            );
            fake
        }

        fn project(audit: &str) -> Arc<Project> {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(
                dir.path().join("little.yaml"),
                format!("name: acme\ndefaults:\n  region: us-east-1\naudit:\n{audit}"),
            )
            .unwrap();
            Arc::new(Project::load(dir.path()).unwrap())
        }

        fn options(project: &Project, checks: &[&str]) -> AuditOptions {
            AuditOptions {
                checks: checks.iter().map(|c| (*c).to_owned()).collect(),
                remediate: false,
                all_accounts: false,
                account: None,
                org: true,
                reach: project.reach.clone(),
                stacks: false,
                drift: None,
                settings: crate::audit::ecr::EcrSettings::default(),
                now: 1_790_000_000,
            }
        }

        fn run(
            fake: Arc<FakeAws>,
            project: Arc<Project>,
            options: AuditOptions,
        ) -> (AuditOutcome, Arc<World>, Vec<String>) {
            let world = Arc::new(World::default());
            let connect = Arc::new(OrgConnect {
                fake,
                world: world.clone(),
                assumed: Mutex::new(Vec::new()),
            });
            let outcome = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .unwrap()
                .block_on(audit_outcome(project, connect.clone(), options))
                .unwrap();
            let assumed = connect.assumed.lock().unwrap().clone();
            (outcome, world, assumed)
        }

        fn found(o: &AuditOutcome) -> Vec<(String, String, String)> {
            o.report
                .findings
                .iter()
                .map(|f| {
                    (
                        f.account.clone().unwrap_or_default(),
                        f.region.clone().unwrap_or_default(),
                        f.check.clone(),
                    )
                })
                .collect()
        }

        #[test]
        fn every_active_account_in_every_region_minus_the_excluded() {
            let fake = org_of(&[
                ("200000000001", "ACTIVE"),
                ("200000000002", "SUSPENDED"),
                ("200000000003", "ACTIVE"),
                ("200000000004", "ACTIVE"),
            ]);
            let p = project(
                "  regions: [us-east-1, eu-west-1]\n  exclude_accounts: [\"200000000004\"]\n",
            );
            let o = options(&p, &["ecr.tag-immutability", "org"]);
            let (outcome, world, assumed) = run(fake.clone(), p, o);
            assert_eq!(
                found(&outcome),
                [
                    (
                        "200000000001".into(),
                        "eu-west-1".into(),
                        "ecr.tag-immutability".into()
                    ),
                    (
                        "200000000001".into(),
                        "us-east-1".into(),
                        "ecr.tag-immutability".into()
                    ),
                    (
                        "200000000003".into(),
                        "eu-west-1".into(),
                        "ecr.tag-immutability".into()
                    ),
                    (
                        "200000000003".into(),
                        "us-east-1".into(),
                        "ecr.tag-immutability".into()
                    ),
                ]
            );
            assert!(outcome.report.errors.is_empty());
            assert_eq!(world.read.lock().unwrap().len(), 4);
            assert!(
                assumed.iter().all(|r| r.ends_with(":role/acme-audit")),
                "{assumed:?}"
            );
            assert_eq!(
                outcome
                    .report
                    .accounts
                    .get("200000000003")
                    .map(String::as_str),
                Some("acct-0003")
            );
            assert!(!outcome.report.accounts.contains_key("200000000002"));
            assert_eq!(outcome.registries.len(), 4);
            assert_eq!(
                fake.calls().iter().filter(|c| *c == "ListAccounts").count(),
                1
            );
        }

        #[test]
        fn unreachable_and_hanging_accounts_are_findings_and_the_others_finish() {
            let fake = org_of(&[
                ("100000000001", "ACTIVE"),
                ("100000000002", "ACTIVE"),
                ("100000000003", "ACTIVE"),
                ("100000000004", "ACTIVE"),
            ]);
            let p = project("  account_timeout: 90s\n");
            let o = options(&p, &[]);
            let (outcome, _, _) = run(fake, p, o);
            let unreachable: Vec<&Finding> = outcome
                .report
                .findings
                .iter()
                .filter(|f| f.check == CHECK_ACCOUNT_UNREACHABLE)
                .collect();
            assert_eq!(unreachable.len(), 3, "{:#?}", outcome.report.findings);
            let by = |id: &str| {
                unreachable
                    .iter()
                    .find(|f| f.resource == id)
                    .unwrap_or_else(|| panic!("no finding for {id}"))
            };
            let denied = by("100000000001");
            assert_eq!(denied.severity, Severity::High);
            assert_eq!(denied.region.as_deref(), Some("us-east-1"));
            assert!(denied.message.starts_with("account `acct-0001` (100000000001) could not be audited in us-east-1 through `arn:aws:iam::100000000001:role/acme-audit`: ecr:DescribeRepositories failed: dispatch failure"), "{}", denied.message);
            assert!(!denied.message.contains("no AWS credentials were found"));
            assert!(by("100000000002")
                .message
                .ends_with("the audit did not finish within 1m 30s (`audit.account_timeout`)"));
            assert!(by("100000000003")
                .message
                .contains("AccessDeniedException: not authorized"));
            // The reachable account is audited as usual; nothing is an error.
            assert!(found(&outcome).contains(&(
                "100000000004".into(),
                "us-east-1".into(),
                "ecr.tag-immutability".into()
            )));
            assert!(
                outcome.report.errors.is_empty(),
                "{:?}",
                outcome.report.errors
            );
            assert!(outcome.report.fails(Severity::High));
        }

        #[test]
        fn the_unreachable_check_can_be_deselected_or_chosen_alone() {
            let fake = org_of(&[("100000000001", "ACTIVE"), ("200000000001", "ACTIVE")]);
            let p = project("  concurrency: 2\n");
            let (outcome, _, _) = run(fake.clone(), p.clone(), options(&p, &["ecr.scanning"]));
            assert!(
                outcome.report.findings.is_empty(),
                "{:#?}",
                outcome.report.findings
            );
            assert!(outcome.report.errors.is_empty());
            // Only `org`: the accounts are still reached, and only reachability is reported.
            let (outcome, world, _) =
                run(fake, p.clone(), options(&p, &["org.account-unreachable"]));
            assert_eq!(
                found(&outcome),
                [(
                    "100000000001".into(),
                    "us-east-1".into(),
                    CHECK_ACCOUNT_UNREACHABLE.into()
                )]
            );
            assert_eq!(world.read.lock().unwrap().len(), 1);
        }

        #[test]
        fn no_more_accounts_than_the_concurrency_are_audited_at_once() {
            let ids: Vec<String> = (1..=20).map(|i| format!("3000000000{i:02}")).collect();
            let listed: Vec<(&str, &str)> = ids.iter().map(|i| (i.as_str(), "ACTIVE")).collect();
            let fake = org_of(&listed);
            let p = project("  concurrency: 3\n  regions: [us-east-1, us-west-2]\n");
            let (outcome, world, _) = run(fake, p.clone(), options(&p, &["ecr.tag-immutability"]));
            assert_eq!(outcome.report.findings.len(), 40);
            assert_eq!(world.read.lock().unwrap().len(), 40);
            assert_eq!(world.most.load(Ordering::SeqCst), 3);
        }

        #[test]
        fn a_failing_list_of_accounts_is_an_error() {
            struct Denied;
            #[async_trait::async_trait]
            impl Connect for Denied {
                async fn clients(
                    &self,
                    region: Option<&str>,
                    account: Option<&Account>,
                ) -> Result<crate::aws::connect::Clients> {
                    struct NoOrg;
                    #[async_trait::async_trait]
                    impl crate::aws::organizations::Organization for NoOrg {
                        async fn accounts(&self) -> Result<Vec<OrgAccount>> {
                            Err(crate::error::Error::Aws {
                                operation: "organizations:ListAccounts".into(),
                                message: "AWSOrganizationsNotInUseException: Your account is not a member of an organization.".into(),
                            })
                        }
                        async fn accounts_for_parent(&self, _: &str) -> Result<Vec<OrgAccount>> {
                            Ok(vec![])
                        }
                        async fn child_units(&self, _: &str) -> Result<Vec<String>> {
                            Ok(vec![])
                        }
                        async fn management_account(&self) -> Result<String> {
                            Err(crate::error::Error::Aws {
                                operation: "organizations:DescribeOrganization".into(),
                                message: "AWSOrganizationsNotInUseException: Your account is not a member of an organization.".into(),
                            })
                        }
                    }
                    let mut c = FakeConnect(FakeAws::new()).clients(region, account).await?;
                    c.org = Arc::new(NoOrg);
                    Ok(c)
                }

                async fn caller(
                    &self,
                    region: Option<&str>,
                    account: Option<&Account>,
                ) -> Result<crate::aws::connect::Caller> {
                    FakeConnect(FakeAws::new()).caller(region, account).await
                }
            }
            let p = project("  regions: [eu-central-1]\n");
            let e = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap()
                .block_on(audit_outcome(p.clone(), Arc::new(Denied), options(&p, &[])))
                .err()
                .unwrap()
                .to_string();
            assert!(
                e.starts_with(
                    "organizations:ListAccounts failed: AWSOrganizationsNotInUseException"
                ),
                "{e}"
            );
            assert!(e.contains("`organizations:ListAccounts` allowed"), "{e}");
        }
    }

    #[test]
    fn the_accounts_fan_out_halves_on_ecr_or_sts_throttling_and_not_on_cloudformation() {
        let counts: Arc<std::sync::Mutex<BTreeMap<String, u64>>> = Arc::default();
        let c = counts.clone();
        let limit = unit_limit_with(8, move |s| c.lock().unwrap().get(s).copied().unwrap_or(0));
        let throttle = |service: &str| {
            *counts
                .lock()
                .unwrap()
                .entry(service.to_owned())
                .or_default() += 1;
        };
        let permit = limit.try_acquire().unwrap();
        throttle("cloudformation");
        permit.finish(false);
        assert_eq!(limit.current(), 8);
        let permit = limit.try_acquire().unwrap();
        throttle("ecr");
        permit.finish(false);
        assert_eq!(limit.current(), 4);
        // STS too (every account's role is assumed from the same caller): a new limit, as
        // this one waits a second before it halves again.
        let c = counts.clone();
        let sts = unit_limit_with(8, move |s| c.lock().unwrap().get(s).copied().unwrap_or(0));
        let permit = sts.try_acquire().unwrap();
        throttle("sts");
        permit.finish(false);
        assert_eq!(sts.current(), 4);
    }

    #[test]
    fn groups_are_selected_by_any_of_their_checks() {
        let wanted = vec!["stack.drift".to_owned()];
        assert!(group_selected("stack", &wanted));
        assert!(!group_selected("ecr", &wanted));
        assert!(group_selected("ecr", &["ecr".to_owned()]));
        assert!(!group_selected("ecr", &["ecrx".to_owned()]));
        assert!(group_selected("ecr", &[]));
    }
}
