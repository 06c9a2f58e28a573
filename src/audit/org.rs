//! How far the audit reaches: the accounts and regions it covers and how it reaches them.
//! `--org` lists the organisation's active accounts (AWS Organizations ListAccounts, every
//! page), drops `audit.exclude_accounts` and reaches each through the audit role
//! (`audit.role_name`, or the account's own `role_arn` in little.yaml); an account that cannot
//! be reached becomes an `org.account-unreachable` finding. The settings of little.yaml's
//! `audit:` that shape this (regions, concurrency, per-account timeout) are resolved and
//! validated here. Running the audit of each account is `run`'s job, not this module's.

use std::time::Duration;

use super::model::{Finding, Severity};
use crate::aws::organizations::Organization;
use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::project::config::AuditFile;
use crate::project::{is_account_id, Account, Project};

/// The finding of an account (in a region) that could not be audited: the role could not be
/// assumed, the registry could not be read, or the account took longer than its timeout.
pub const CHECK_ACCOUNT_UNREACHABLE: &str = "org.account-unreachable";

/// How many account and region pairs are audited at once, unless little.yaml says.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The time one account gets in one region, unless little.yaml says.
pub const DEFAULT_ACCOUNT_TIMEOUT: Duration = Duration::from_secs(300);

/// The audit's reach, from little.yaml's `audit:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// The role assumed in each member account with `--org`.
    pub role_name: String,
    /// The regions audited in each account; `None`: the region of the flags, the environment
    /// or the profile.
    pub regions: Vec<Option<String>>,
    /// Account and region pairs audited at once (at least 1).
    pub concurrency: usize,
    /// The time one account gets in one region, from when its audit starts.
    pub account_timeout: Duration,
    /// Account ids never audited with `--org`.
    pub exclude_accounts: Vec<String>,
}

impl Default for Reach {
    fn default() -> Self {
        Reach {
            role_name: "little-audit".into(),
            regions: vec![None],
            concurrency: DEFAULT_CONCURRENCY,
            account_timeout: DEFAULT_ACCOUNT_TIMEOUT,
            exclude_accounts: Vec::new(),
        }
    }
}

impl Reach {
    /// The reach of a loaded project (whose little.yaml has been validated by
    /// [`check_audit_file`], so that errors here are only a safety net).
    pub fn of(project: &Project) -> Result<Reach> {
        let file = &project.file.audit;
        let regions = if file.regions.is_empty() {
            vec![project.file.defaults.region.clone()]
        } else {
            file.regions.iter().cloned().map(Some).collect()
        };
        let account_timeout = match &file.account_timeout {
            Some(text) => crate::duration::parse(text)
                .map_err(|e| Error::Usage(format!("`audit.account_timeout`: {e}")))?,
            None => DEFAULT_ACCOUNT_TIMEOUT,
        };
        let concurrency = file.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
        if concurrency == 0 {
            return Err(Error::Usage(
                "`audit.concurrency` must be at least 1".into(),
            ));
        }
        Ok(Reach {
            role_name: file
                .role_name
                .clone()
                .unwrap_or_else(|| format!("{}-audit", project.name)),
            regions,
            concurrency,
            account_timeout,
            exclude_accounts: file
                .exclude_accounts
                .iter()
                .map(|a| a.to_string())
                .collect(),
        })
    }
}

/// The checks of little.yaml's `audit:` settings of the audit's reach, as diagnostics placed
/// by `at` (which finds the key's line and column).
pub fn check_audit_file(
    file: &AuditFile,
    at: &dyn Fn(&[&str], Diagnostic) -> Diagnostic,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    if let Some(name) = &file.role_name {
        if !is_role_name(name) {
            diags.push(at(
                &["audit", "role_name"],
                Diagnostic::error(
                    "wrong-type",
                    format!(
                        "`audit.role_name`: `{name}` is not an IAM role name (1 to 64 of letters, digits and +=,.@_-)"
                    ),
                )
                .with_note("a role name, not an ARN: `--org` builds `arn:aws:iam::<account>:role/<name>`"),
            ));
        }
    }
    for region in &file.regions {
        if let Err(why) = crate::region::check(region) {
            diags.push(at(
                &["audit", "regions"],
                Diagnostic::error("bad-region", format!("`audit.regions`: {why}")),
            ));
        }
    }
    if let Some(i) = file
        .regions
        .iter()
        .enumerate()
        .find(|(i, r)| file.regions[..*i].contains(r))
        .map(|(i, _)| i)
    {
        diags.push(at(
            &["audit", "regions"],
            Diagnostic::error(
                "duplicate",
                format!("`audit.regions` lists `{}` twice", file.regions[i]),
            ),
        ));
    }
    if file.concurrency == Some(0) {
        diags.push(at(
            &["audit", "concurrency"],
            Diagnostic::error("wrong-type", "`audit.concurrency` must be at least 1"),
        ));
    }
    if let Some(text) = &file.account_timeout {
        if let Err(e) = crate::duration::parse(text) {
            diags.push(at(
                &["audit", "account_timeout"],
                Diagnostic::error("wrong-type", format!("`audit.account_timeout`: {e}")),
            ));
        }
    }
    for id in &file.exclude_accounts {
        let id = id.to_string();
        if !is_account_id(&id) {
            diags.push(at(
                &["audit", "exclude_accounts"],
                Diagnostic::error(
                    "bad-account",
                    format!("`audit.exclude_accounts`: `{id}` is not a 12-digit AWS account id"),
                )
                .with_note("quote the id (\"012345678901\") so YAML keeps leading zeros"),
            ));
        }
    }
    diags
}

fn is_role_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// The ARN partition of a region: `aws-cn` in China, `aws-us-gov` in GovCloud, else `aws`.
pub fn partition(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// The accounts `--org` audits: the organisation's ACTIVE accounts, without the excluded
/// ones, sorted by id. Each is reached through its own `role_arn` (and named by its name) when
/// little.yaml lists it with one, else through the audit role named `reach.role_name`.
pub async fn org_accounts(
    org: &dyn Organization,
    project: &Project,
    reach: &Reach,
) -> Result<Vec<Account>> {
    let listed = org.accounts().await.map_err(|e| match e {
        Error::Aws { operation, message } => Error::Aws {
            operation,
            message: format!(
                "{message}; `--org` lists the organisation's accounts as the caller, which must \
                 be the organisation's management account or a delegated administrator, with \
                 `organizations:ListAccounts` allowed"
            ),
        },
        other => other,
    })?;
    // An organisation has at least its management account: none means no organisation.
    if listed.is_empty() {
        return Err(Error::Usage(
            "`--org`: organizations:ListAccounts listed no accounts; run it as the \
             organisation's management account or a delegated administrator, with \
             `organizations:ListAccounts` allowed"
                .into(),
        ));
    }
    let partition = partition(reach.regions.first().and_then(|r| r.as_deref()));
    let mut accounts: Vec<Account> = listed
        .into_iter()
        .filter(|a| a.is_active())
        .filter(|a| !reach.exclude_accounts.contains(&a.id))
        .map(|a| {
            match project
                .accounts
                .values()
                .find(|known| known.id == a.id && known.role_arn.is_some())
            {
                Some(known) => known.clone(),
                None => Account {
                    role_arn: Some(format!(
                        "arn:{partition}:iam::{}:role/{}",
                        a.id, reach.role_name
                    )),
                    name: if a.name.is_empty() {
                        a.id.clone()
                    } else {
                        a.name
                    },
                    id: a.id,
                },
            }
        })
        .collect();
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    accounts.dedup_by(|a, b| a.id == b.id);
    Ok(accounts)
}

/// The finding of an account that could not be audited in a region.
pub fn unreachable_finding(account: &Account, region: Option<&str>, cause: &str) -> Finding {
    let through = account
        .role_arn
        .as_deref()
        .map(|r| format!(" through `{r}`"))
        .unwrap_or_default();
    let place = region.unwrap_or("the default region");
    Finding {
        check: CHECK_ACCOUNT_UNREACHABLE.to_owned(),
        control: None,
        severity: Severity::High,
        resource: account.id.clone(),
        resource_type: "AWS::::Account".to_owned(),
        arn: None,
        account: Some(account.id.clone()),
        region: region.map(str::to_owned),
        message: format!(
            "account `{}` ({}) could not be audited in {place}{through}: {cause}",
            account.name, account.id
        ),
        remediation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::organizations::OrgAccount;

    fn diags(yaml: &str) -> Vec<String> {
        let file: AuditFile = serde_norway::from_str(yaml).unwrap();
        check_audit_file(&file, &|path, d| d.with_note(path.join(".")))
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn reach_settings_are_validated() {
        assert!(diags("role_name: little-audit\nregions: [us-east-1, eu-west-1]\nconcurrency: 4\naccount_timeout: 90s\nexclude_accounts: [\"012345678901\"]\n").is_empty());
        let d = diags("role_name: arn:aws:iam::1:role/x\nregions: [us-east-1, mars-1, us-east-1]\nconcurrency: 0\naccount_timeout: soon\nexclude_accounts: [1234]\n");
        assert_eq!(d.len(), 6, "{d:#?}");
        assert!(d[0].contains("is not an IAM role name"));
        assert!(d[1].contains("`mars-1` is not an AWS region"));
        assert!(d[2].contains("lists `us-east-1` twice"));
        assert!(d[3].contains("at least 1"));
        assert!(d[4].contains("`soon` is not a duration"));
        assert!(d[5].contains("`1234` is not a 12-digit"));
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition(Some("cn-north-1")), "aws-cn");
        assert_eq!(partition(Some("us-gov-west-1")), "aws-us-gov");
        assert_eq!(partition(Some("eu-west-1")), "aws");
        assert_eq!(partition(None), "aws");
    }

    struct Listed(Vec<OrgAccount>, Option<String>);

    #[async_trait::async_trait]
    impl Organization for Listed {
        async fn accounts(&self) -> Result<Vec<OrgAccount>> {
            match &self.1 {
                Some(e) => Err(Error::Aws {
                    operation: "organizations:ListAccounts".into(),
                    message: e.clone(),
                }),
                None => Ok(self.0.clone()),
            }
        }
        async fn accounts_for_parent(&self, _parent: &str) -> Result<Vec<OrgAccount>> {
            Ok(Vec::new())
        }
        async fn child_units(&self, _parent: &str) -> Result<Vec<String>> {
            Ok(Vec::new())
        }
        async fn management_account(&self) -> Result<String> {
            Ok("123456789012".into())
        }
    }

    fn account(id: &str, status: &str) -> OrgAccount {
        OrgAccount {
            id: id.into(),
            name: format!("name-{id}"),
            status: status.into(),
        }
    }

    fn project(yaml: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("little.yaml"), yaml).unwrap();
        let p = Project::load(dir.path()).unwrap();
        // The project keeps its root's path only; the directory may go.
        drop(dir);
        p
    }

    #[tokio::test]
    async fn active_accounts_without_the_excluded_through_the_audit_role() {
        let p = project(
            "name: acme\ndefaults:\n  region: us-east-1\naccounts:\n  prod:\n    id: \"333333333333\"\n    role_arn: arn:aws:iam::333333333333:role/custom\naudit:\n  exclude_accounts: [\"444444444444\"]\n",
        );
        let reach = Reach::of(&p).unwrap();
        assert_eq!(reach.role_name, "acme-audit");
        assert_eq!(reach.regions, [Some("us-east-1".to_owned())]);
        let org = Listed(
            vec![
                account("222222222222", "ACTIVE"),
                account("111111111111", "ACTIVE"),
                account("555555555555", "SUSPENDED"),
                account("666666666666", "PENDING_CLOSURE"),
                account("444444444444", "ACTIVE"),
                account("333333333333", "ACTIVE"),
            ],
            None,
        );
        let accounts = org_accounts(&org, &p, &reach).await.unwrap();
        let got: Vec<(&str, &str, &str)> = accounts
            .iter()
            .map(|a| {
                (
                    a.id.as_str(),
                    a.name.as_str(),
                    a.role_arn.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "111111111111",
                    "name-111111111111",
                    "arn:aws:iam::111111111111:role/acme-audit"
                ),
                (
                    "222222222222",
                    "name-222222222222",
                    "arn:aws:iam::222222222222:role/acme-audit"
                ),
                (
                    "333333333333",
                    "prod",
                    "arn:aws:iam::333333333333:role/custom"
                ),
            ]
        );
    }

    #[tokio::test]
    async fn a_failing_list_names_the_permission() {
        let p = project("defaults:\n  region: us-east-1\n");
        let org = Listed(
            vec![],
            Some("AccessDeniedException: You don't have permissions".into()),
        );
        let e = org_accounts(&org, &p, &Reach::of(&p).unwrap())
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("organizations:ListAccounts"), "{e}");
        assert!(e.contains("AccessDeniedException"), "{e}");
        assert!(
            e.contains("management account or a delegated administrator"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn an_empty_organisation_is_an_error() {
        let p = project("defaults:\n  region: us-east-1\n");
        let e = org_accounts(&Listed(vec![], None), &p, &Reach::of(&p).unwrap())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("`--org`: organizations:ListAccounts listed no accounts"),
            "{e}"
        );
    }

    #[test]
    fn unreachable_findings_name_the_role_and_cause() {
        let a = Account {
            name: "dev".into(),
            id: "111111111111".into(),
            role_arn: Some("arn:aws:iam::111111111111:role/acme-audit".into()),
        };
        let f = unreachable_finding(&a, Some("eu-west-1"), "AccessDenied: not authorized");
        assert_eq!(f.check, CHECK_ACCOUNT_UNREACHABLE);
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.resource, "111111111111");
        assert_eq!(f.account.as_deref(), Some("111111111111"));
        assert_eq!(f.region.as_deref(), Some("eu-west-1"));
        assert_eq!(f.message, "account `dev` (111111111111) could not be audited in eu-west-1 through `arn:aws:iam::111111111111:role/acme-audit`: AccessDenied: not authorized");
    }
}
