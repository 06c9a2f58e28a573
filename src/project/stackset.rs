//! A stack config's `stack_set:`, checked and resolved: the permission model with its
//! targets (OUs, or account ids resolved from little.yaml's names), the regions, automatic
//! deployment and operation preferences. Every problem is a diagnostic at its key.

use super::bad_region;
use super::config::{CallAs, PermissionModel, StackFile, StackSetFile};
use crate::aws::connect::Account;
use crate::aws::names::{is_account_id, is_region, is_unit_id};
use crate::aws::stacksets::{AutoDeployment, OperationPreferences, RegionConcurrency, Targets};
use crate::diag::Diagnostic;
use indexmap::IndexMap;

/// The default execution role of self-managed StackSets (AWS's own).
pub const DEFAULT_EXECUTION_ROLE: &str = "AWSCloudFormationStackSetExecutionRole";

/// A validated `stack_set:`.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSetConfig {
    pub permission_model: PermissionModel,
    /// OUs (service-managed) or account ids (self-managed).
    pub targets: Targets,
    pub regions: Vec<String>,
    /// Self-managed: a role name, or an ARN as written.
    pub administration_role: Option<String>,
    pub execution_role: Option<String>,
    pub auto_deployment: Option<AutoDeployment>,
    pub preferences: OperationPreferences,
    pub retain_stacks_on_removal: bool,
    /// Calls are made as a delegated administrator of StackSets.
    pub delegated_admin: bool,
}

impl StackSetConfig {
    /// The administration role's ARN to send: None when none is configured (AWS then uses
    /// `AWSCloudFormationStackSetAdministrationRole` of the caller's account); a role name
    /// becomes an ARN in the administrator account `account_id`, and without one is `Err`
    /// with the name.
    pub fn administration_role_arn(
        &self,
        account_id: Option<&str>,
    ) -> std::result::Result<Option<String>, String> {
        match (self.administration_role.as_deref(), account_id) {
            (None, _) => Ok(None),
            (Some(arn), _) if arn.starts_with("arn:") => Ok(Some(arn.to_owned())),
            (Some(name), Some(id)) => Ok(Some(format!("arn:aws:iam::{id}:role/{name}"))),
            (Some(name), None) => Err(name.to_owned()),
        }
    }

    pub fn execution_role_name(&self) -> Option<String> {
        (self.permission_model == PermissionModel::SelfManaged).then(|| {
            self.execution_role
                .clone()
                .unwrap_or_else(|| DEFAULT_EXECUTION_ROLE.to_owned())
        })
    }
}

/// Checks `raw.stack_set` against the rest of the stack config; `at(path, d)` places a
/// diagnostic at a key of the config.
pub fn resolve(
    raw: &StackFile,
    accounts: &IndexMap<String, Account>,
    at: &dyn Fn(&[&str], Diagnostic) -> Diagnostic,
) -> Result<Option<StackSetConfig>, Vec<Diagnostic>> {
    let Some(s) = &raw.stack_set else {
        return Ok(None);
    };
    let mut diags = Vec::new();
    // Stack-only settings mean nothing to a StackSet: refuse them rather than ignore them.
    let stack_only: [(&str, bool); 5] = [
        (
            "termination_protection",
            raw.termination_protection.is_some(),
        ),
        ("stack_policy", raw.stack_policy.is_some()),
        ("notification_arns", !raw.notification_arns.is_empty()),
        ("timeout_in_minutes", raw.timeout_in_minutes.is_some()),
        ("role_arn", raw.role_arn.is_some()),
    ];
    for (key, set) in stack_only {
        if set {
            diags.push(at(
                &[key],
                Diagnostic::error(
                    "stack-set",
                    format!("`{key}` applies to a stack, not to a StackSet (`stack_set:`)"),
                ),
            ));
        }
    }
    let config = check(s, accounts, at, &mut diags);
    if diags.is_empty() {
        Ok(Some(config))
    } else {
        Err(diags)
    }
}

fn check(
    s: &StackSetFile,
    accounts: &IndexMap<String, Account>,
    at: &dyn Fn(&[&str], Diagnostic) -> Diagnostic,
    diags: &mut Vec<Diagnostic>,
) -> StackSetConfig {
    let mut err = |path: &[&str], msg: String| {
        let mut full = vec!["stack_set"];
        full.extend_from_slice(path);
        diags.push(at(&full, Diagnostic::error("stack-set", msg)));
    };
    let targets = match s.permission_model {
        PermissionModel::ServiceManaged => {
            if s.organizational_units.is_empty() {
                err(
                    &["permission_model"],
                    "a SERVICE_MANAGED StackSet needs `organizational_units` (OU ids `ou-...` or the root `r-...`)".into(),
                );
            }
            for ou in &s.organizational_units {
                if !is_unit_id(ou) {
                    err(
                        &["organizational_units"],
                        format!(
                            "`{ou}` is not an OU id (`ou-abcd-12345678`) or a root id (`r-abcd`)"
                        ),
                    );
                }
            }
            for (key, set) in [
                ("accounts", !s.accounts.is_empty()),
                ("administration_role", s.administration_role.is_some()),
                ("execution_role", s.execution_role.is_some()),
            ] {
                if set {
                    err(
                        &[key],
                        format!("`{key}` is for SELF_MANAGED StackSets; SERVICE_MANAGED ones target `organizational_units` through AWS Organizations"),
                    );
                }
            }
            Targets::OrganizationalUnits(dedup(s.organizational_units.clone()))
        }
        PermissionModel::SelfManaged => {
            if s.accounts.is_empty() {
                err(
                    &["permission_model"],
                    "a SELF_MANAGED StackSet needs `accounts` (names in little.yaml or 12-digit ids)".into(),
                );
            }
            if !s.organizational_units.is_empty() {
                err(
                    &["organizational_units"],
                    "`organizational_units` is for SERVICE_MANAGED StackSets; SELF_MANAGED ones name `accounts`".into(),
                );
            }
            if s.auto_deployment.is_some() {
                err(
                    &["auto_deployment"],
                    "`auto_deployment` is for SERVICE_MANAGED StackSets only".into(),
                );
            }
            let mut ids = Vec::new();
            for a in &s.accounts {
                let a = a.to_string();
                if let Some(acc) = accounts.get(&a) {
                    ids.push(acc.id.clone());
                } else if is_account_id(&a) {
                    ids.push(a);
                } else {
                    err(
                        &["accounts"],
                        format!(
                            "`{a}` is neither an account of little.yaml nor a 12-digit account id"
                        ),
                    );
                }
            }
            Targets::Accounts(dedup(ids))
        }
    };
    if s.regions.is_empty() {
        err(
            &["regions"],
            "`regions` must name at least one region".into(),
        );
    }
    let mut regions = Vec::new();
    for r in &s.regions {
        if !is_region(r) {
            let d = bad_region(r);
            err(&["regions"], d.message.clone());
        } else if regions.contains(r) {
            err(&["regions"], format!("region `{r}` is listed twice"));
        } else {
            regions.push(r.clone());
        }
    }
    let p = &s.operation_preferences;
    if let Some(m) = p.max_concurrent_percentage {
        if !(1..=100).contains(&m) {
            err(
                &["operation_preferences", "max_concurrent_percentage"],
                format!("`max_concurrent_percentage` is {m}; it must be 1 to 100"),
            );
        }
    }
    if let Some(f) = p.failure_tolerance_percentage {
        if f > 100 {
            err(
                &["operation_preferences", "failure_tolerance_percentage"],
                format!("`failure_tolerance_percentage` is {f}; it must be 0 to 100"),
            );
        }
    }
    let delegated_admin = s.call_as == Some(CallAs::DelegatedAdmin);
    if delegated_admin && s.permission_model == PermissionModel::SelfManaged {
        err(
            &["call_as"],
            "`call_as: DELEGATED_ADMIN` is for SERVICE_MANAGED StackSets; a SELF_MANAGED one is administered from its own account".into(),
        );
    }
    let sequential = p.region_concurrency == Some(RegionConcurrency::Sequential);
    StackSetConfig {
        permission_model: s.permission_model,
        targets,
        preferences: OperationPreferences {
            max_concurrent_percentage: p.max_concurrent_percentage,
            failure_tolerance_percentage: p.failure_tolerance_percentage,
            region_concurrency: p.region_concurrency,
            region_order: if sequential {
                regions.clone()
            } else {
                Vec::new()
            },
        },
        regions,
        administration_role: s.administration_role.clone(),
        execution_role: s.execution_role.clone(),
        auto_deployment: s.auto_deployment.map(|a| AutoDeployment {
            enabled: a.enabled,
            retain_stacks_on_account_removal: a.retain_stacks_on_account_removal.unwrap_or(false),
        }),
        retain_stacks_on_removal: s.retain_stacks_on_removal.unwrap_or(false),
        delegated_admin,
    }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_administration_role_is_sent_only_when_configured() {
        let with = |role: Option<&str>| StackSetConfig {
            permission_model: PermissionModel::SelfManaged,
            targets: Targets::Accounts(vec!["111111111111".into()]),
            regions: vec!["us-east-1".into()],
            administration_role: role.map(str::to_owned),
            execution_role: None,
            auto_deployment: None,
            preferences: OperationPreferences::default(),
            retain_stacks_on_removal: false,
            delegated_admin: false,
        };
        assert_eq!(
            with(None).administration_role_arn(Some("123456789012")),
            Ok(None)
        );
        assert_eq!(
            with(Some("stacksets-admin")).administration_role_arn(Some("123456789012")),
            Ok(Some(
                "arn:aws:iam::123456789012:role/stacksets-admin".into()
            ))
        );
        let arn = "arn:aws:iam::210987654321:role/admin";
        assert_eq!(
            with(Some(arn)).administration_role_arn(None),
            Ok(Some(arn.into()))
        );
        assert_eq!(
            with(Some("stacksets-admin")).administration_role_arn(None),
            Err("stacksets-admin".into())
        );
    }

    #[test]
    fn unit_ids() {
        assert!(is_unit_id("ou-ab12-abcdefgh"));
        assert!(is_unit_id("r-ab12"));
        assert!(!is_unit_id("ou-ab12"));
        assert!(!is_unit_id("OU-AB12-ABCDEFGH"));
        assert!(!is_unit_id("123456789012"));
    }
}
