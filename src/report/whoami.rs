//! `little whoami`: who `little` acts as for each target, as text or JSON.

use std::io::Write;

use serde::{Deserialize, Serialize};

use super::{write_json, Style};
use crate::context::identity::TargetIdentity;
use crate::error::{Error, Result};

/// The JSON document of `little whoami --format json`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct WhoamiJson {
    pub targets: Vec<TargetJson>,
}

/// One target in the JSON document.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct TargetJson {
    /// The region called: the caller's when known, else the configured one (none: the
    /// environment's or the profile's, which could not be resolved).
    pub region: Option<String>,
    /// The account little.yaml names for the target (none: any).
    pub account: Option<AccountJson>,
    /// The selected stacks of the target (none: the project's default target).
    pub stacks: Vec<String>,
    pub caller: Option<CallerJson>,
    /// Where the credentials come from, in words.
    pub credentials: Option<String>,
    /// The same, as data (`kind`: environment, profile, process, sso, login, profile_role,
    /// web_identity, container, instance, assumed_role).
    pub credential_source: Option<serde_json::Value>,
    pub guard: GuardJson,
    /// Why the caller is unknown.
    pub error: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct AccountJson {
    pub name: String,
    pub id: String,
    pub role_arn: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct CallerJson {
    pub arn: String,
    pub account: String,
    pub user_id: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct GuardJson {
    pub passes: bool,
    pub reason: Option<String>,
}

/// The JSON document of the targets.
pub fn json(targets: &[TargetIdentity]) -> WhoamiJson {
    WhoamiJson {
        targets: targets
            .iter()
            .map(|t| TargetJson {
                region: t
                    .caller
                    .as_ref()
                    .map(|c| c.region.clone())
                    .or_else(|| t.target.region.clone()),
                account: t.target.account.as_ref().map(|a| AccountJson {
                    name: a.name.clone(),
                    id: a.id.clone(),
                    role_arn: a.role_arn.clone(),
                }),
                stacks: t.target.stacks.clone(),
                caller: t.caller.as_ref().map(|c| CallerJson {
                    arn: c.identity.arn.clone(),
                    account: c.identity.account.clone(),
                    user_id: c.identity.user_id.clone(),
                }),
                credentials: t.caller.as_ref().map(|c| c.credentials.to_string()),
                credential_source: t
                    .caller
                    .as_ref()
                    .and_then(|c| serde_json::to_value(&c.credentials).ok()),
                guard: GuardJson {
                    passes: t.guard.passes,
                    reason: t.guard.reason.clone(),
                },
                error: t.error.clone(),
            })
            .collect(),
    }
}

pub fn write_json_report(w: &mut dyn Write, targets: &[TargetIdentity]) -> Result<()> {
    write_json(w, &json(targets))
}

pub fn write_text(w: &mut dyn Write, targets: &[TargetIdentity], style: Style) -> Result<()> {
    for (i, t) in targets.iter().enumerate() {
        if i > 0 {
            writeln!(w).map_err(Error::output)?;
        }
        let region = t
            .caller
            .as_ref()
            .map(|c| c.region.clone())
            .or_else(|| t.target.region.clone())
            .unwrap_or_else(|| "the environment's region".into());
        let account = match &t.target.account {
            Some(a) => format!("account `{}` ({})", a.name, a.id),
            None => "any account".into(),
        };
        let stacks = if t.target.stacks.is_empty() {
            "the project's default target".to_owned()
        } else {
            t.target.stacks.join(", ")
        };
        writeln!(
            w,
            "{}: {stacks}",
            style.bold(&format!("{region}, {account}"))
        )
        .map_err(Error::output)?;
        let mut rows: Vec<(&str, String)> = Vec::new();
        if let Some(c) = &t.caller {
            rows.push(("caller", c.identity.arn.clone()));
            rows.push(("account", c.identity.account.clone()));
            rows.push(("region", c.region.clone()));
            rows.push(("credentials", c.credentials.to_string()));
        }
        if let Some(e) = &t.error {
            rows.push(("error", style.red(e)));
        }
        rows.push((
            "guard",
            match (&t.guard.passes, &t.guard.reason) {
                (true, _) => style.green("passes"),
                (false, Some(why)) => style.red(&format!("refuses: {why}")),
                (false, None) => style.red("refuses"),
            },
        ));
        for (key, value) in rows {
            writeln!(w, "  {key:<12} {value}").map_err(Error::output)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::connect::Account;
    use crate::aws::connect::Caller;
    use crate::aws::credentials::CredentialSource;
    use crate::aws::sts::CallerIdentity;
    use crate::context::identity::{GuardResult, Target};

    fn targets() -> Vec<TargetIdentity> {
        vec![
            TargetIdentity {
                target: Target {
                    region: Some("us-east-1".into()),
                    account: Some(Account {
                        name: "tooling".into(),
                        id: "123456789012".into(),
                        role_arn: None,
                    }),
                    stacks: vec!["ecr".into(), "iam".into()],
                },
                caller: Some(Caller {
                    identity: CallerIdentity {
                        account: "123456789012".into(),
                        arn: "arn:aws:iam::123456789012:user/ci".into(),
                        user_id: "AIDA".into(),
                    },
                    region: "us-east-1".into(),
                    credentials: CredentialSource::Process {
                        profile: "ci".into(),
                    },
                }),
                guard: GuardResult {
                    passes: true,
                    reason: None,
                },
                error: None,
            },
            TargetIdentity {
                target: Target {
                    region: None,
                    account: None,
                    stacks: Vec::new(),
                },
                caller: None,
                guard: GuardResult {
                    passes: false,
                    reason: Some("the caller is unknown".into()),
                },
                error: Some("sts:GetCallerIdentity failed: no credentials".into()),
            },
        ]
    }

    #[test]
    fn text_names_caller_account_region_credentials_and_verdict() {
        let mut out = Vec::new();
        write_text(&mut out, &targets(), Style::default()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "us-east-1, account `tooling` (123456789012): ecr, iam
  caller       arn:aws:iam::123456789012:user/ci
  account      123456789012
  region       us-east-1
  credentials  the credential_process of profile `ci`
  guard        passes

the environment's region, any account: the project's default target
  error        sts:GetCallerIdentity failed: no credentials
  guard        refuses: the caller is unknown
"
        );
    }

    #[test]
    fn json_reads_back() {
        let mut out = Vec::new();
        write_json_report(&mut out, &targets()).unwrap();
        let back: WhoamiJson = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, json(&targets()));
        assert_eq!(
            back.targets[0].credential_source,
            Some(serde_json::json!({"kind": "process", "profile": "ci"}))
        );
        assert_eq!(back.targets[1].caller, None);
    }
}
