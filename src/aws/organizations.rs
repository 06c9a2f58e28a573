//! AWS Organizations, read-only: the organisation's accounts (every page) and the accounts
//! under an organizational unit, nested units included. Used by `little audit --org` to find
//! the accounts to audit and by StackSet plans to find the accounts an OU target reaches.

use async_trait::async_trait;

use super::sdk_error;
use crate::error::Result;

/// One member account of the organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
}

impl OrgAccount {
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

#[async_trait]
pub trait Organization: Send + Sync {
    /// Every account of the organisation, all pages, in the order AWS lists them.
    async fn accounts(&self) -> Result<Vec<OrgAccount>>;
    /// The accounts directly under a root or OU (`r-...`, `ou-...`).
    async fn accounts_for_parent(&self, parent: &str) -> Result<Vec<OrgAccount>>;
    /// The OUs directly under a root or OU.
    async fn child_units(&self, parent: &str) -> Result<Vec<String>>;
    /// The management account's id (DescribeOrganization).
    async fn management_account(&self) -> Result<String>;
}

/// The accounts under `parent` and every OU nested in it (StackSets deploy to those too),
/// sorted by id, without repeats.
pub async fn accounts_under(org: &dyn Organization, parent: &str) -> Result<Vec<OrgAccount>> {
    let mut pending = vec![parent.to_owned()];
    let mut seen_units = std::collections::BTreeSet::new();
    let mut found = std::collections::BTreeMap::new();
    while let Some(unit) = pending.pop() {
        if !seen_units.insert(unit.clone()) {
            continue;
        }
        for a in org.accounts_for_parent(&unit).await? {
            found.insert(a.id.clone(), a);
        }
        pending.extend(org.child_units(&unit).await?);
    }
    Ok(found.into_values().collect())
}

/// [`Organization`] through the SDK.
pub struct OrgClient {
    client: aws_sdk_organizations::Client,
}

impl OrgClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        OrgClient {
            client: super::sdk_client!(aws_sdk_organizations, config),
        }
    }
}

fn account_of(a: &aws_sdk_organizations::types::Account) -> OrgAccount {
    OrgAccount {
        id: a.id().unwrap_or_default().to_owned(),
        name: a.name().unwrap_or_default().to_owned(),
        status: a
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "ACTIVE".into()),
    }
}

#[async_trait]
impl Organization for OrgClient {
    async fn accounts(&self) -> Result<Vec<OrgAccount>> {
        let pages = self
            .client
            .list_accounts()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("organizations:ListAccounts", e))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.accounts())
            .map(account_of)
            .collect())
    }

    async fn accounts_for_parent(&self, parent: &str) -> Result<Vec<OrgAccount>> {
        let pages = self
            .client
            .list_accounts_for_parent()
            .parent_id(parent)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("organizations:ListAccountsForParent", e))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.accounts())
            .map(account_of)
            .collect())
    }

    async fn management_account(&self) -> Result<String> {
        let out = self
            .client
            .describe_organization()
            .send()
            .await
            .map_err(|e| sdk_error("organizations:DescribeOrganization", e))?;
        Ok(out
            .organization()
            .and_then(|o| o.master_account_id())
            .unwrap_or_default()
            .to_owned())
    }

    async fn child_units(&self, parent: &str) -> Result<Vec<String>> {
        let pages = self
            .client
            .list_organizational_units_for_parent()
            .parent_id(parent)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("organizations:ListOrganizationalUnitsForParent", e))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.organizational_units())
            .filter_map(|u| u.id().map(str::to_owned))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Tree {
        accounts: HashMap<&'static str, Vec<&'static str>>,
        units: HashMap<&'static str, Vec<&'static str>>,
    }

    #[async_trait]
    impl Organization for Tree {
        async fn accounts(&self) -> Result<Vec<OrgAccount>> {
            Ok(Vec::new())
        }
        async fn accounts_for_parent(&self, parent: &str) -> Result<Vec<OrgAccount>> {
            Ok(self
                .accounts
                .get(parent)
                .into_iter()
                .flatten()
                .map(|id| OrgAccount {
                    id: (*id).into(),
                    name: format!("n{id}"),
                    status: "ACTIVE".into(),
                })
                .collect())
        }
        async fn child_units(&self, parent: &str) -> Result<Vec<String>> {
            Ok(self
                .units
                .get(parent)
                .into_iter()
                .flatten()
                .map(|s| (*s).to_owned())
                .collect())
        }
        async fn management_account(&self) -> Result<String> {
            Ok("999999999999".into())
        }
    }

    #[tokio::test]
    async fn nested_units_are_included_once() {
        let tree = Tree {
            accounts: HashMap::from([
                ("ou-a", vec!["111111111111", "222222222222"]),
                ("ou-b", vec!["333333333333"]),
                ("ou-c", vec!["222222222222"]),
            ]),
            units: HashMap::from([("ou-a", vec!["ou-b", "ou-c"]), ("ou-b", vec!["ou-c"])]),
        };
        let ids: Vec<String> = accounts_under(&tree, "ou-a")
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(ids, ["111111111111", "222222222222", "333333333333"]);
    }
}

#[cfg(test)]
mod pagination_tests {
    //! `OrgClient` against a mocked SDK client: every page of ListAccounts is read.
    use super::*;
    use aws_sdk_organizations::operation::list_accounts::ListAccountsOutput;
    use aws_sdk_organizations::types::{Account, AccountStatus};
    use aws_sdk_organizations::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::retry::RetryConfig;

    fn account(id: &str, status: AccountStatus) -> Account {
        Account::builder()
            .id(id)
            .name(format!("acct-{id}"))
            .status(status)
            .build()
    }

    #[tokio::test]
    async fn list_accounts_reads_every_page() {
        let first = mock!(Client::list_accounts)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| {
                ListAccountsOutput::builder()
                    .accounts(account("111111111111", AccountStatus::Active))
                    .accounts(account("222222222222", AccountStatus::Suspended))
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(Client::list_accounts)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(|| {
                ListAccountsOutput::builder()
                    .accounts(account("333333333333", AccountStatus::Active))
                    .next_token("page-3")
                    .build()
            });
        let third = mock!(Client::list_accounts)
            .match_requests(|r| r.next_token() == Some("page-3"))
            .then_output(|| {
                ListAccountsOutput::builder()
                    .accounts(account("444444444444", AccountStatus::PendingClosure))
                    .build()
            });
        let org = OrgClient {
            client: mock_client!(
                aws_sdk_organizations,
                RuleMode::Sequential,
                &[&first, &second, &third],
                |c| c.retry_config(RetryConfig::disabled())
            ),
        };
        let accounts = org.accounts().await.unwrap();
        let got: Vec<(&str, &str, bool)> = accounts
            .iter()
            .map(|a| (a.id.as_str(), a.status.as_str(), a.is_active()))
            .collect();
        assert_eq!(
            got,
            [
                ("111111111111", "ACTIVE", true),
                ("222222222222", "SUSPENDED", false),
                ("333333333333", "ACTIVE", true),
                ("444444444444", "PENDING_CLOSURE", false),
            ]
        );
        assert_eq!(accounts[0].name, "acct-111111111111");
        assert_eq!(
            first.num_calls() + second.num_calls() + third.num_calls(),
            3
        );
    }

    #[tokio::test]
    async fn a_denied_list_is_an_error_naming_the_operation() {
        let denied = mock!(Client::list_accounts).then_error(|| {
            aws_sdk_organizations::operation::list_accounts::ListAccountsError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("You don't have permissions to access this resource.")
                    .build(),
            )
        });
        let org = OrgClient {
            client: mock_client!(
                aws_sdk_organizations,
                RuleMode::Sequential,
                &[&denied],
                |c| c.retry_config(RetryConfig::disabled())
            ),
        };
        let e = org.accounts().await.unwrap_err().to_string();
        assert_eq!(
            e,
            "organizations:ListAccounts failed: AccessDeniedException: You don't have permissions to access this resource."
        );
    }
}
