//! Running the audit: for each account and region audited, gather every repository of the
//! registry (not only the project's) and check it, optionally remediate tag immutability, and
//! check the project's stacks. Accounts are audited concurrently; an account that cannot be
//! read is reported as an error and does not hide the others. With drift detection on, each
//! deployed stack's drift is found out as `little drift` does and reported as `stack.drift`.

use std::sync::Arc;

use super::drift::{stack_drift, StackDriftResult};
use super::ecr::{check_repository, gather, remediate, EcrSettings};
use super::model::Severity;
use super::model::{AuditReport, Checked, Finding};
use super::stacks::{check_stack, STACK_DRIFT};
use crate::aws::cloudformation::StackInfo;
use crate::aws::connect::Connect;
use crate::error::Result;
use crate::project::{Account, Project};

#[derive(Clone)]
pub struct AuditOptions {
    /// Only these checks (ids such as `ecr.tag-immutability`, or prefixes such as `ecr`).
    pub checks: Vec<String>,
    /// Set tag immutability where it is missing (otherwise: say what it would do).
    pub remediate: bool,
    /// Audit every account of little.yaml (through its role), not only the default one.
    pub all_accounts: bool,
    /// Check the project's stacks too.
    pub stacks: bool,
    /// Find out each deployed stack's drift (`--drift`); None: only read the status of the
    /// last detection.
    pub drift: Option<super::drift::DriftOptions>,
    pub settings: EcrSettings,
    /// Seconds since the Unix epoch.
    pub now: u64,
}

/// Whether a check id is selected by `--check`.
pub fn selected(check: &str, wanted: &[String]) -> bool {
    wanted.is_empty()
        || wanted.iter().any(|w| {
            check == w || check.starts_with(&format!("{w}.")) || check.starts_with(&format!("{w}-"))
        })
}

/// Every check id, for `--check` validation.
pub const ALL_CHECKS: &[&str] = &[
    super::ecr::CHECK_TAG_IMMUTABILITY,
    super::ecr::CHECK_SCANNING,
    super::ecr::CHECK_LIFECYCLE,
    super::ecr::CHECK_ENCRYPTION,
    super::ecr::CHECK_REPOSITORY_POLICY,
    super::ecr::CHECK_IMAGE_FINDINGS,
    super::ecr::CHECK_IMAGE_SCAN,
    super::stacks::STACK_DEPLOYED,
    super::stacks::STACK_HEALTHY,
    super::stacks::STACK_PROTECTED,
    STACK_DRIFT,
];

/// A `--check` that selects no check is a mistake, not an empty audit.
pub fn validate_checks(wanted: &[String]) -> Result<()> {
    for w in wanted {
        if !ALL_CHECKS
            .iter()
            .any(|c| selected(c, std::slice::from_ref(w)))
        {
            let hint = crate::error::closest(w, ALL_CHECKS.iter().copied())
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

/// The accounts to audit: every account of little.yaml with `--accounts`, else the default
/// account (or the caller's, when little.yaml names none).
fn targets(project: &Project, all: bool) -> Vec<Option<Account>> {
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
    let region = project.file.defaults.region.clone();
    let mut tasks = tokio::task::JoinSet::new();
    // The registry is read only when an ECR check is selected.
    let registries = if group_selected("ecr", &options.checks) {
        targets(&project, options.all_accounts)
    } else {
        Vec::new()
    };
    for (index, account) in registries.into_iter().enumerate() {
        let connect = connect.clone();
        let options = options.clone();
        let region = region.clone();
        tasks.spawn(async move {
            let result = audit_registry(
                connect.as_ref(),
                account.as_ref(),
                region.as_deref(),
                &options,
            )
            .await;
            (index, account, result)
        });
    }
    let mut parts = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(part) = joined {
            parts.push(part);
        }
    }
    parts.sort_by_key(|(i, _, _)| *i);
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut checked = Checked::default();
    let mut registries = Vec::new();
    let mut stacks = Vec::new();
    for (_, account, result) in parts {
        match result {
            Ok((f, c, inventory)) => {
                findings.extend(f);
                checked.repositories += c.repositories;
                checked.images += c.images;
                registries.push(inventory);
            }
            Err(e) => errors.push(format!(
                "the registry of {}: {e}",
                account
                    .map(|a| format!("account `{}` ({})", a.name, a.id))
                    .unwrap_or_else(|| "the default account".into())
            )),
        }
    }
    if options.stacks && group_selected("stack", &options.checks) {
        for stack in project.select(&[], true)? {
            let clients =
                match crate::plan::run::clients_for(&project, connect.as_ref(), stack).await {
                    Ok(c) => c,
                    Err(e) => {
                        errors.push(format!("stack `{}`: {e}", stack.name));
                        continue;
                    }
                };
            let account = project.account_of(stack).map(|a| a.id.as_str());
            match clients.cfn.describe_stack(&stack.name).await {
                Ok(info) => {
                    checked.stacks += 1;
                    let mut stack_findings =
                        check_stack(&stack.name, info.as_ref(), account, &clients.region);
                    let mut state = StackState {
                        stack: stack.name.clone(),
                        status: info.as_ref().map(|i| i.status.clone()),
                        drifted: info
                            .as_ref()
                            .and_then(|i| i.drift_status.as_deref())
                            .and_then(|d| match d {
                                "DRIFTED" => Some(true),
                                "IN_SYNC" => Some(false),
                                _ => None,
                            }),
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
                            Err(e) => errors.push(format!("drift of stack `{}`: {e}", stack.name)),
                        }
                    }
                    stacks.push(state);
                    findings.extend(
                        stack_findings
                            .into_iter()
                            .filter(|f| selected(&f.check, &options.checks)),
                    );
                }
                Err(e) => errors.push(format!("stack `{}`: {e}", stack.name)),
            }
        }
    }
    Ok(AuditOutcome {
        report: AuditReport::new(options.now, checked, findings, errors),
        registries,
        stacks,
    })
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

/// One account's registry in one region.
async fn audit_registry(
    connect: &dyn Connect,
    account: Option<&Account>,
    region: Option<&str>,
    options: &AuditOptions,
) -> Result<(Vec<Finding>, Checked, RegistryInventory)> {
    let clients = connect.clients(region, account).await?;
    let ecr = clients.ecr.as_ref();
    let (registry, facts, images) = gather(ecr, &options.settings).await?;
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
        .filter(|f| selected(&f.check, &options.checks))
        .collect();
    remediate(ecr, &mut findings, &facts, options.remediate).await?;
    let checked = Checked {
        repositories: facts.len(),
        images,
        stacks: 0,
    };
    let mut repositories = facts;
    for f in &mut repositories {
        for (_, scan) in &mut f.images {
            if let Some(scan) = scan {
                scan.findings = Vec::new();
            }
        }
    }
    Ok((
        findings,
        checked,
        RegistryInventory {
            account: account_id,
            region: clients.region.clone(),
            repositories,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let e = validate_checks(&["ecr.tag-imutability".into()]).unwrap_err();
        assert!(e.to_string().starts_with(
            "`--check ecr.tag-imutability` selects no check (did you mean `ecr.tag-immutability`?)"
        ));
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
