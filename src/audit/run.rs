//! Running the audit: for each account and region audited, gather every repository of the
//! registry (not only the project's) and check it, optionally remediate tag immutability, and
//! check the project's stacks. Accounts are audited concurrently; an account that cannot be
//! read is reported as an error and does not hide the others.

use std::sync::Arc;

use super::ecr::{check_repository, gather, remediate, EcrSettings};
use super::model::{AuditReport, Checked, Finding};
use super::stacks::check_stack;
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

/// The accounts to audit: every account of little.yaml with `--accounts`, else the default
/// account (or the caller's, when little.yaml names none).
fn targets(project: &Project, all: bool) -> Vec<Option<Account>> {
    if all && !project.accounts.is_empty() {
        return project.accounts.values().cloned().map(Some).collect();
    }
    vec![project
        .file
        .defaults
        .account
        .as_ref()
        .and_then(|a| project.accounts.get(a))
        .cloned()]
}

/// Audits the registry of each target account and the project's stacks.
pub async fn audit(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    options: AuditOptions,
) -> Result<AuditReport> {
    let region = project.file.defaults.region.clone();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, account) in targets(&project, options.all_accounts)
        .into_iter()
        .enumerate()
    {
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
    for (_, account, result) in parts {
        match result {
            Ok((f, c)) => {
                findings.extend(f);
                checked.repositories += c.repositories;
                checked.images += c.images;
            }
            Err(e) => errors.push(format!(
                "the registry of {}: {e}",
                account
                    .map(|a| format!("account `{}` ({})", a.name, a.id))
                    .unwrap_or_else(|| "the default account".into())
            )),
        }
    }
    if options.stacks && selected("stack", &options.checks) {
        for stack in project.select(&[], true)? {
            let clients =
                match crate::plan::run::clients_for(&project, connect.as_ref(), stack).await {
                    Ok(c) => c,
                    Err(e) => {
                        errors.push(format!("stack `{}`: {e}", stack.name));
                        continue;
                    }
                };
            match clients.cfn.describe_stack(&stack.name).await {
                Ok(info) => {
                    checked.stacks += 1;
                    findings.extend(
                        check_stack(
                            &stack.name,
                            info.as_ref(),
                            project.account_of(stack).map(|a| a.id.as_str()),
                            &clients.region,
                        )
                        .into_iter()
                        .filter(|f| selected(&f.check, &options.checks)),
                    );
                }
                Err(e) => errors.push(format!("stack `{}`: {e}", stack.name)),
            }
        }
    }
    Ok(AuditReport::new(options.now, checked, findings, errors))
}

/// One account's registry in one region.
async fn audit_registry(
    connect: &dyn Connect,
    account: Option<&Account>,
    region: Option<&str>,
    options: &AuditOptions,
) -> Result<(Vec<Finding>, Checked)> {
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
    Ok((
        findings,
        Checked {
            repositories: facts.len(),
            images,
            stacks: 0,
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
}
