//! little.yaml's `audit:` section, resolved once when the project loads into the audit's
//! [`Reach`] (the role assumed in member accounts, the regions, how many accounts at once, the
//! time one account gets, the accounts left out), with every problem reported at its line.
//! Running the audit is `crate::audit`'s job; this module only reads the settings.

use std::time::Duration;

use super::config::AuditFile;
use crate::aws::names::{is_account_id, is_role_name};
use crate::diag::Diagnostic;

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

/// The reach little.yaml's `audit:` describes for project `project_name` (whose role is
/// `<project>-audit` unless named) with `default_region` (`defaults.region`), and the problems
/// of the section as diagnostics placed by `at` (which finds the key's line and column). Where
/// a setting is wrong its default stands in the value; the diagnostics stop the load.
pub fn resolve(
    file: &AuditFile,
    project_name: &str,
    default_region: Option<&str>,
    at: &dyn Fn(&[&str], Diagnostic) -> Diagnostic,
) -> (Reach, Vec<Diagnostic>) {
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
    let account_timeout = match &file.account_timeout {
        Some(text) => match crate::duration::parse(text) {
            Ok(d) => d,
            Err(e) => {
                diags.push(at(
                    &["audit", "account_timeout"],
                    Diagnostic::error("wrong-type", format!("`audit.account_timeout`: {e}")),
                ));
                DEFAULT_ACCOUNT_TIMEOUT
            }
        },
        None => DEFAULT_ACCOUNT_TIMEOUT,
    };
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
    let regions = if file.regions.is_empty() {
        vec![default_region.map(str::to_owned)]
    } else {
        file.regions.iter().cloned().map(Some).collect()
    };
    let reach = Reach {
        role_name: file
            .role_name
            .clone()
            .unwrap_or_else(|| format!("{project_name}-audit")),
        regions,
        concurrency: file
            .concurrency
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_CONCURRENCY),
        account_timeout,
        exclude_accounts: file
            .exclude_accounts
            .iter()
            .map(|a| a.to_string())
            .collect(),
    };
    (reach, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(yaml: &str) -> (Reach, Vec<String>) {
        let file: AuditFile = serde_norway::from_str(yaml).unwrap();
        let (reach, diags) = resolve(&file, "shop", Some("eu-west-1"), &|path, d| {
            d.with_note(path.join("."))
        });
        (reach, diags.into_iter().map(|d| d.message).collect())
    }

    #[test]
    fn reach_settings_are_validated() {
        let (reach, d) = resolved("role_name: little-audit\nregions: [us-east-1, eu-west-1]\nconcurrency: 4\naccount_timeout: 90s\nexclude_accounts: [\"012345678901\"]\n");
        assert!(d.is_empty(), "{d:#?}");
        assert_eq!(
            reach,
            Reach {
                role_name: "little-audit".into(),
                regions: vec![Some("us-east-1".into()), Some("eu-west-1".into())],
                concurrency: 4,
                account_timeout: Duration::from_secs(90),
                exclude_accounts: vec!["012345678901".into()],
            }
        );
        let (_, d) = resolved("role_name: arn:aws:iam::1:role/x\nregions: [us-east-1, mars-1, us-east-1]\nconcurrency: 0\naccount_timeout: soon\nexclude_accounts: [1234]\n");
        assert_eq!(d.len(), 6, "{d:#?}");
        assert!(d[0].contains("is not an IAM role name"));
        assert!(d[1].contains("`mars-1` is not an AWS region"));
        assert!(d[2].contains("lists `us-east-1` twice"));
        assert!(d[3].contains("at least 1"));
        assert!(d[4].contains("`soon` is not a duration"));
        assert!(d[5].contains("`1234` is not a 12-digit"));
    }

    #[test]
    fn an_empty_section_takes_the_defaults() {
        let (reach, d) = resolved("{}");
        assert!(d.is_empty());
        assert_eq!(reach.role_name, "shop-audit");
        assert_eq!(reach.regions, vec![Some("eu-west-1".to_owned())]);
        assert_eq!(reach.concurrency, DEFAULT_CONCURRENCY);
        assert_eq!(reach.account_timeout, DEFAULT_ACCOUNT_TIMEOUT);
    }
}
