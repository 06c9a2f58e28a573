//! IAM roles as deployed, behind the [`Iam`] trait: the trust policy, the inline policies and
//! the attached managed policies of a role, for comparing them with a template.
//!
//! IAM returns policy documents URL-encoded; [`decode_policy`] turns them back into JSON. A
//! document that is not JSON after decoding (the emulator returns inline policies as Python
//! repr text) is kept as a JSON string, so that comparing it shows what came back.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::sdk_error;
use crate::error::Result;

/// A role's policies, as IAM reports them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RoleFacts {
    pub trust_policy: serde_json::Value,
    /// Inline policies by name.
    pub inline: BTreeMap<String, serde_json::Value>,
    /// The ARNs of the attached managed policies, sorted.
    pub managed: Vec<String>,
    /// What GetRole says of the role itself.
    #[serde(default)]
    pub settings: RoleSettings,
}

/// A role's own settings, as GetRole reports them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoleSettings {
    pub path: String,
    pub description: Option<String>,
    /// Seconds.
    pub max_session_duration: Option<i32>,
    pub tags: BTreeMap<String, String>,
}

/// A role as ListRoles reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleListing {
    pub name: String,
    /// Such as `/` or `/aws-service-role/…/` (roles that AWS services own).
    pub path: String,
}

impl RoleListing {
    /// Whether AWS owns the role (a service-linked role, or one AWS reserves for SSO): no
    /// stack may manage it.
    pub fn is_aws_owned(&self) -> bool {
        self.path.starts_with("/aws-service-role/") || self.path.starts_with("/aws-reserved/")
    }
}

/// IAM's read calls on roles.
#[async_trait]
pub trait Iam: Send + Sync {
    /// GetRole, ListRolePolicies + GetRolePolicy, ListAttachedRolePolicies; `None` if the role
    /// does not exist.
    async fn role(&self, name: &str) -> Result<Option<RoleFacts>>;
    /// ListRoles, every page.
    async fn roles(&self) -> Result<Vec<RoleListing>>;
    /// ListAccountAliases: the account's alias (an account has at most one), None without.
    async fn account_alias(&self) -> Result<Option<String>>;
}

/// [`Iam`] through the SDK's IAM client.
pub struct IamClient {
    client: aws_sdk_iam::Client,
}

impl IamClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        IamClient {
            client: super::sdk_client!(aws_sdk_iam, config),
        }
    }

    /// Wraps a client built elsewhere (tests: a mock client).
    pub fn from_client(client: aws_sdk_iam::Client) -> Self {
        IamClient { client }
    }
}

/// A policy document as IAM returns it: URL-decoded and parsed; a JSON string if it is not
/// JSON.
pub fn decode_policy(document: &str) -> serde_json::Value {
    let decoded = if document.trim_start().starts_with('{') {
        document.to_owned()
    } else {
        crate::text::percent_decode(document)
    };
    serde_json::from_str(&decoded).unwrap_or(serde_json::Value::String(decoded))
}

/// How many pages a listing reads at most.
const MAX_PAGES: usize = 1000;

#[async_trait]
impl Iam for IamClient {
    async fn role(&self, name: &str) -> Result<Option<RoleFacts>> {
        let role = match self.client.get_role().role_name(name).send().await {
            Ok(out) => out,
            Err(e) => {
                let missing = matches!(&e, aws_smithy_runtime_api::client::result::SdkError::ServiceError(se) if se.err().is_no_such_entity_exception());
                if missing {
                    return Ok(None);
                }
                return Err(sdk_error("iam:GetRole", e));
            }
        };
        let trust_policy = role
            .role()
            .and_then(|r| r.assume_role_policy_document())
            .map(decode_policy)
            .unwrap_or(serde_json::Value::Null);

        let mut names = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .list_role_policies()
                .role_name(name)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| sdk_error("iam:ListRolePolicies", e))?;
            names.extend(page.policy_names().iter().cloned());
            match page
                .marker()
                .filter(|m| page.is_truncated() && !m.is_empty())
            {
                Some(m) if marker.as_deref() != Some(m) => marker = Some(m.to_owned()),
                _ => break,
            }
        }
        let mut inline = BTreeMap::new();
        for policy in names {
            let out = self
                .client
                .get_role_policy()
                .role_name(name)
                .policy_name(&policy)
                .send()
                .await
                .map_err(|e| sdk_error("iam:GetRolePolicy", e))?;
            inline.insert(policy, decode_policy(out.policy_document()));
        }

        let mut managed = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .list_attached_role_policies()
                .role_name(name)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| sdk_error("iam:ListAttachedRolePolicies", e))?;
            managed.extend(
                page.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_owned)),
            );
            match page
                .marker()
                .filter(|m| page.is_truncated() && !m.is_empty())
            {
                Some(m) if marker.as_deref() != Some(m) => marker = Some(m.to_owned()),
                _ => break,
            }
        }
        managed.sort();
        let settings = role
            .role()
            .map(|r| RoleSettings {
                path: r.path().to_owned(),
                description: r.description().filter(|d| !d.is_empty()).map(str::to_owned),
                max_session_duration: r.max_session_duration(),
                tags: r
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
            })
            .unwrap_or_default();
        Ok(Some(RoleFacts {
            trust_policy,
            inline,
            managed,
            settings,
        }))
    }

    async fn account_alias(&self) -> Result<Option<String>> {
        let out = self
            .client
            .list_account_aliases()
            .send()
            .await
            .map_err(|e| sdk_error("iam:ListAccountAliases", e))?;
        Ok(out.account_aliases().first().cloned())
    }

    async fn roles(&self) -> Result<Vec<RoleListing>> {
        let mut roles = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .list_roles()
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| sdk_error("iam:ListRoles", e))?;
            roles.extend(page.roles().iter().map(|r| RoleListing {
                name: r.role_name().to_owned(),
                path: r.path().to_owned(),
            }));
            match page
                .marker()
                .filter(|m| page.is_truncated() && !m.is_empty())
            {
                Some(m) if marker.as_deref() != Some(m) => marker = Some(m.to_owned()),
                _ => break,
            }
        }
        Ok(roles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::operation::get_role::GetRoleOutput;
    use aws_sdk_iam::operation::get_role_policy::GetRolePolicyOutput;
    use aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput;
    use aws_sdk_iam::operation::list_role_policies::ListRolePoliciesOutput;
    use aws_sdk_iam::types::{AttachedPolicy, Role};
    use aws_sdk_iam::Client;
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
    use serde_json::json;

    const ROLE: &str = "little-ci-deploy";
    // As IAM returns it: URL-encoded.
    const TRUST: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22codebuild.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
    const PUSH: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B%22ecr%3APutImage%22%5D%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";

    fn client(rules: &[&Rule]) -> IamClient {
        IamClient::from_client(mock_client!(aws_sdk_iam, RuleMode::MatchAny, rules, |c| c
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled())))
    }

    #[test]
    fn documents_are_url_decoded() {
        assert_eq!(crate::text::percent_decode("a%20b%2"), "a b%2");
        assert_eq!(crate::text::percent_decode("%7B%7D"), "{}");
        assert_eq!(decode_policy("%7B%22a%22%3A1%7D"), json!({"a": 1}));
        assert_eq!(decode_policy("{\"a\": 1}"), json!({"a": 1}));
        assert_eq!(decode_policy("{'a': 1}"), json!("{'a': 1}"));
    }

    #[tokio::test]
    async fn a_role_reads_back_with_every_page_of_its_policies() {
        let get = mock!(Client::get_role)
            .match_requests(|r| r.role_name() == Some(ROLE))
            .then_output(|| {
                GetRoleOutput::builder()
                    .role(
                        Role::builder()
                            .path("/")
                            .role_name(ROLE)
                            .role_id("AROA3XFRBF23EXAMPLE1")
                            .arn(format!("arn:aws:iam::123456789012:role/{ROLE}"))
                            .create_date(aws_smithy_types::DateTime::from_secs(1_795_000_000))
                            .assume_role_policy_document(TRUST)
                            .build()
                            .unwrap(),
                    )
                    .build()
            });
        let names1 = mock!(Client::list_role_policies)
            .match_requests(|r| r.marker().is_none())
            .then_output(|| {
                ListRolePoliciesOutput::builder()
                    .policy_names("push")
                    .is_truncated(true)
                    .marker("AAEAAQ==")
                    .build()
                    .unwrap()
            });
        let names2 = mock!(Client::list_role_policies)
            .match_requests(|r| r.marker() == Some("AAEAAQ=="))
            .then_output(|| {
                ListRolePoliciesOutput::builder()
                    .policy_names("pull")
                    .is_truncated(false)
                    .build()
                    .unwrap()
            });
        let doc = mock!(Client::get_role_policy).then_output(|| {
            GetRolePolicyOutput::builder()
                .role_name(ROLE)
                .policy_name("push")
                .policy_document(PUSH)
                .build()
                .unwrap()
        });
        let attached = mock!(Client::list_attached_role_policies).then_output(|| {
            ListAttachedRolePoliciesOutput::builder()
                .attached_policies(
                    AttachedPolicy::builder()
                        .policy_name("ReadOnlyAccess")
                        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
                        .build(),
                )
                .is_truncated(false)
                .build()
        });
        let iam = client(&[&get, &names1, &names2, &doc, &attached]);
        let facts = iam.role(ROLE).await.unwrap().unwrap();
        assert_eq!(
            facts.trust_policy["Statement"][0]["Principal"]["Service"],
            "codebuild.amazonaws.com"
        );
        assert_eq!(facts.inline.keys().collect::<Vec<_>>(), ["pull", "push"]);
        assert_eq!(
            facts.inline["push"]["Statement"][0]["Action"][0],
            "ecr:PutImage"
        );
        assert_eq!(facts.managed, ["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
        assert_eq!(doc.num_calls(), 2);
    }

    #[tokio::test]
    async fn a_missing_role_is_none() {
        let body = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name gone cannot be found.</Message></Error><RequestId>4a1c0000-0000-4000-8000-000000000000</RequestId></ErrorResponse>"#;
        let get = mock!(Client::get_role)
            .sequence()
            .http_status(404, Some(body.to_owned()))
            .build();
        assert_eq!(client(&[&get]).role("gone").await.unwrap(), None);
    }

    #[tokio::test]
    async fn roles_come_over_pages_and_aws_owned_ones_are_told_apart() {
        let role = |name: &str, path: &str| {
            Role::builder()
                .role_name(name)
                .path(path)
                .role_id("AROA")
                .arn(format!("arn:aws:iam::123456789012:role{path}{name}"))
                .create_date(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .unwrap()
        };
        let first = mock!(Client::list_roles)
            .match_requests(|r| r.marker().is_none())
            .then_output(move || {
                aws_sdk_iam::operation::list_roles::ListRolesOutput::builder()
                    .roles(role("app", "/"))
                    .is_truncated(true)
                    .marker("m2")
                    .build()
                    .unwrap()
            });
        let second = mock!(Client::list_roles)
            .match_requests(|r| r.marker() == Some("m2"))
            .then_output(move || {
                aws_sdk_iam::operation::list_roles::ListRolesOutput::builder()
                    .roles(role(
                        "AWSServiceRoleForECR",
                        "/aws-service-role/ecr.amazonaws.com/",
                    ))
                    .is_truncated(false)
                    .build()
                    .unwrap()
            });
        let roles = client(&[&first, &second]).roles().await.unwrap();
        let names: Vec<(&str, bool)> = roles
            .iter()
            .map(|r| (r.name.as_str(), r.is_aws_owned()))
            .collect();
        assert_eq!(names, vec![("app", false), ("AWSServiceRoleForECR", true)]);
    }

    #[tokio::test]
    async fn the_account_alias_is_the_first_or_none() {
        let one = mock!(Client::list_account_aliases).then_output(|| {
            aws_sdk_iam::operation::list_account_aliases::ListAccountAliasesOutput::builder()
                .account_aliases("frickjack")
                .build()
                .unwrap()
        });
        assert_eq!(
            client(&[&one]).account_alias().await.unwrap().as_deref(),
            Some("frickjack")
        );
        let none = mock!(Client::list_account_aliases).then_output(|| {
            aws_sdk_iam::operation::list_account_aliases::ListAccountAliasesOutput::builder()
                .set_account_aliases(Some(Vec::new()))
                .build()
                .unwrap()
        });
        assert_eq!(client(&[&none]).account_alias().await.unwrap(), None);
    }
}
