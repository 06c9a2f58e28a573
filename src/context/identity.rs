//! Who `little` acts as, and the account guard. Before a stack's clients are handed out (and so
//! before anything is read or changed for it), the account its credentials act in — STS
//! GetCallerIdentity, after assuming its account's `role_arn` — must be the stack's account
//! (`account:`, else `defaults.account`) and one little.yaml allows (`allowed_account_ids`,
//! `forbidden_account_ids`); otherwise the stack is refused (exit 3). `little whoami` shows the
//! same, per target.
//!
//! Not here: where credentials come from (`aws::credentials`), building and caching clients and
//! identities (`aws::connect`), printing (`report::whoami`).

use crate::aws::connect::Account;
use crate::aws::connect::{Caller, Connect};
use crate::error::{AccountRefusal, Error, Result};
use crate::project::{Project, Stack};

/// Compares the caller with the account a stack (or, without one, the project's defaults)
/// targets, and with little.yaml's allowed and forbidden accounts.
pub fn check(
    project: &Project,
    stack: Option<&Stack>,
    expected: Option<&Account>,
    caller: &Caller,
) -> std::result::Result<(), AccountRefusal> {
    let actual = caller.identity.account.as_str();
    let subject = match stack {
        Some(s) => format!("stack `{}` ({})", s.name, project.shown(&s.file).display()),
        None => "the default target of little.yaml".to_owned(),
    };
    let who = format!(
        "the credentials, from {}, act as {} in account {actual}",
        caller.credentials, caller.identity.arn
    );
    let refuse = |message: String| AccountRefusal {
        stack: stack.map(|s| s.name.clone()),
        caller_account: actual.to_owned(),
        message,
    };
    if let Some(account) = expected {
        if account.id != actual {
            let fix = match &account.role_arn {
                None => format!(
                    "use credentials of account {} (`--profile` with a profile of that account), or give account `{}` a `role_arn` in little.yaml to assume there",
                    account.id, account.name
                ),
                Some(role) => format!(
                    "the `role_arn` of account `{}` ({role}) leads to account {actual}: correct its `role_arn` or `id` in little.yaml",
                    account.name
                ),
            };
            return Err(refuse(format!(
                "{subject} deploys to account `{}` ({}), but {who}; {fix}",
                account.name, account.id
            )));
        }
    }
    let allowed = project.allowed_account_ids();
    if !allowed.is_empty() && !allowed.iter().any(|a| a == actual) {
        return Err(refuse(format!(
            "{subject}: {who}, which `allowed_account_ids` in little.yaml does not allow ({}); use credentials of an allowed account, or add {actual} to `allowed_account_ids`",
            allowed.join(", ")
        )));
    }
    if project.forbidden_account_ids().iter().any(|a| a == actual) {
        return Err(refuse(format!(
            "{subject}: {who}, which `forbidden_account_ids` in little.yaml forbids; use credentials of another account"
        )));
    }
    Ok(())
}

/// The guard of one stack: who its clients act as, refused unless [`check`] passes.
pub async fn guard_stack(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
) -> Result<Caller> {
    let account = project.account_of(stack);
    let caller = connect.caller(stack.region.as_deref(), account).await?;
    check(project, Some(stack), account, &caller).map_err(|r| Error::AccountRefused(vec![r]))?;
    Ok(caller)
}

/// The guard of every selected stack, before an operation starts, so that none of them is
/// touched when one is refused; every refusal is reported, not only the first.
pub async fn guard_stacks(
    project: &Project,
    connect: &dyn Connect,
    stacks: &[&Stack],
) -> Result<()> {
    let mut refusals = Vec::new();
    for stack in stacks {
        match guard_stack(project, connect, stack).await {
            Ok(_) => {}
            Err(Error::AccountRefused(r)) => refusals.extend(r),
            Err(e) => return Err(e),
        }
    }
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(Error::AccountRefused(refusals))
    }
}

/// A region and account that stacks deploy to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Target {
    /// None: the region of the environment or the profile.
    pub region: Option<String>,
    /// None: the caller's account, whichever it is.
    pub account: Option<Account>,
    /// The selected stacks of this target, in dependency order.
    pub stacks: Vec<String>,
}

/// Failed when a caller identity could not be found; refused when a target fails the account
/// guard; else ok.
pub fn verdict(targets: &[TargetIdentity]) -> crate::error::Verdict {
    use crate::error::Verdict;
    if targets.iter().any(|t| t.error.is_some()) {
        Verdict::Failed
    } else if targets.iter().any(|t| !t.guard.passes) {
        Verdict::Refused
    } else {
        Verdict::Ok
    }
}

/// The distinct targets of the stacks, in the order they first appear; with no stack, the
/// project's default target (`defaults.region` or `--region`, `defaults.account`).
pub fn targets(project: &Project, stacks: &[&Stack]) -> Vec<Target> {
    if stacks.is_empty() {
        return vec![Target {
            region: project.file.defaults.region.clone(),
            account: project.default_account().cloned(),
            stacks: Vec::new(),
        }];
    }
    let mut out: Vec<Target> = Vec::new();
    for stack in stacks {
        let account = project.account_of(stack).cloned();
        match out
            .iter_mut()
            .find(|t| t.region == stack.region && t.account == account)
        {
            Some(t) => t.stacks.push(stack.name.clone()),
            None => out.push(Target {
                region: stack.region.clone(),
                account,
                stacks: vec![stack.name.clone()],
            }),
        }
    }
    out
}

/// Who `little` acts as for one target.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TargetIdentity {
    pub target: Target,
    /// None when the caller could not be found (`error` says why).
    pub caller: Option<Caller>,
    /// Whether the account guard lets the target's stacks be deployed.
    pub guard: GuardResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The account guard's verdict on a target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GuardResult {
    pub passes: bool,
    /// Why it refuses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `little whoami`: the caller, its credentials and the guard's verdict for each target of the
/// selected stacks (or the project's default target).
/// A configuration that cannot be loaded (an unknown profile, no region) is an error; a
/// target whose caller cannot be found (a role that cannot be assumed) says why.
pub async fn whoami(
    project: &Project,
    connect: &dyn Connect,
    stacks: &[&Stack],
) -> Result<Vec<TargetIdentity>> {
    let mut out = Vec::new();
    for target in targets(project, stacks) {
        let caller = connect
            .caller(target.region.as_deref(), target.account.as_ref())
            .await;
        if let Err(e @ (Error::UnknownProfile { .. } | Error::AwsConfig(_))) = caller {
            return Err(e);
        }
        out.push(match caller {
            Ok(caller) => {
                // The guard of a target is the guard of its first stack: they share the
                // account and region, so only the subject of the sentence differs.
                let stack = target.stacks.first().and_then(|s| project.stack(s));
                let verdict = check(project, stack, target.account.as_ref(), &caller);
                TargetIdentity {
                    guard: GuardResult {
                        passes: verdict.is_ok(),
                        reason: verdict.err().map(|r| r.message),
                    },
                    caller: Some(caller),
                    target,
                    error: None,
                }
            }
            Err(e) => TargetIdentity {
                target,
                caller: None,
                guard: GuardResult {
                    passes: false,
                    reason: Some("the caller could not be found".into()),
                },
                error: Some(e.to_string()),
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::aws::credentials::CredentialSource;
    use crate::aws::sts::CallerIdentity;
    use crate::testing::fake_aws::{project, FakeAws, FakeConnect};

    const TEMPLATE: &str = r#"{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}"#;

    fn caller(account: &str) -> Caller {
        Caller {
            identity: CallerIdentity {
                account: account.into(),
                arn: format!("arn:aws:iam::{account}:user/ci"),
                user_id: "AIDAEXAMPLE".into(),
            },
            region: "us-east-1".into(),
            credentials: CredentialSource::Environment,
        }
    }

    fn with_little_yaml(little: &str, stacks: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        let mut files = vec![("little.yaml", little), ("templates/t.json", TEMPLATE)];
        files.extend_from_slice(stacks);
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let project = Project::load(dir.path()).unwrap();
        (dir, project)
    }

    const ACCOUNTS: &str = "defaults:\n  region: us-east-1\naccounts:\n  dev: {id: \"111111111111\"}\n  prod: {id: \"210987654321\", role_arn: \"arn:aws:iam::210987654321:role/deploy\"}\n";

    #[test]
    fn the_callers_account_must_be_the_stacks() {
        let (_d, p) = with_little_yaml(
            ACCOUNTS,
            &[(
                "stacks/app.yaml",
                "name: app\ntemplate: t.json\naccount: dev\n",
            )],
        );
        let stack = p.stack("app").unwrap();
        let dev = p.account_of(stack);
        assert!(check(&p, Some(stack), dev, &caller("111111111111")).is_ok());
        let refusal = check(&p, Some(stack), dev, &caller("123456789012")).unwrap_err();
        assert_eq!(refusal.stack.as_deref(), Some("app"));
        assert_eq!(refusal.caller_account, "123456789012");
        assert!(
            refusal.message.starts_with("stack `app` ("),
            "{}",
            refusal.message
        );
        for part in [
            "app.yaml) deploys to account `dev` (111111111111)",
            "the credentials, from the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), act as arn:aws:iam::123456789012:user/ci in account 123456789012",
            "`--profile` with a profile of that account",
            "give account `dev` a `role_arn`",
        ] {
            assert!(refusal.message.contains(part), "{part}: {}", refusal.message);
        }
    }

    #[test]
    fn a_role_that_leads_elsewhere_is_named() {
        let (_d, p) = with_little_yaml(
            ACCOUNTS,
            &[(
                "stacks/app.yaml",
                "name: app\ntemplate: t.json\naccount: prod\n",
            )],
        );
        let stack = p.stack("app").unwrap();
        let refusal = check(
            &p,
            Some(stack),
            p.account_of(stack),
            &caller("123456789012"),
        )
        .unwrap_err();
        assert!(
            refusal.message.contains("the `role_arn` of account `prod` (arn:aws:iam::210987654321:role/deploy) leads to account 123456789012"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn allowed_and_forbidden_accounts_apply_to_stacks_that_name_none() {
        let (_d, p) = with_little_yaml(
            "defaults:\n  region: us-east-1\nallowed_account_ids: [\"999999999999\"]\n",
            &[("stacks/app.yaml", "name: app\ntemplate: t.json\n")],
        );
        let stack = p.stack("app").unwrap();
        assert!(check(&p, Some(stack), None, &caller("999999999999")).is_ok());
        let refusal = check(&p, Some(stack), None, &caller("123456789012")).unwrap_err();
        assert!(
            refusal.message.contains("which `allowed_account_ids` in little.yaml does not allow (999999999999); use credentials of an allowed account, or add 123456789012"),
            "{}",
            refusal.message
        );

        let (_d, p) = with_little_yaml(
            "defaults:\n  region: us-east-1\nforbidden_account_ids: [\"123456789012\"]\n",
            &[("stacks/app.yaml", "name: app\ntemplate: t.json\n")],
        );
        let stack = p.stack("app").unwrap();
        assert!(check(&p, Some(stack), None, &caller("111111111111")).is_ok());
        let refusal = check(&p, Some(stack), None, &caller("123456789012")).unwrap_err();
        assert!(refusal
            .message
            .contains("`forbidden_account_ids` in little.yaml forbids"));
    }

    #[test]
    fn targets_are_distinct_regions_and_accounts() {
        let (_d, p) = with_little_yaml(
            ACCOUNTS,
            &[
                ("stacks/a.yaml", "name: a\ntemplate: t.json\naccount: dev\n"),
                ("stacks/b.yaml", "name: b\ntemplate: t.json\naccount: dev\n"),
                (
                    "stacks/c.yaml",
                    "name: c\ntemplate: t.json\naccount: dev\nregion: eu-west-1\n",
                ),
                ("stacks/d.yaml", "name: d\ntemplate: t.json\n"),
            ],
        );
        let all = p.select(&[], true).unwrap();
        let t = targets(&p, &all);
        let shown: Vec<(Option<&str>, Option<&str>, Vec<&str>)> = t
            .iter()
            .map(|t| {
                (
                    t.region.as_deref(),
                    t.account.as_ref().map(|a| a.name.as_str()),
                    t.stacks.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                (Some("us-east-1"), Some("dev"), vec!["a", "b"]),
                (Some("eu-west-1"), Some("dev"), vec!["c"]),
                (Some("us-east-1"), None, vec!["d"]),
            ]
        );
        let default = targets(&p, &[]);
        assert_eq!(default.len(), 1);
        assert_eq!(default[0].region.as_deref(), Some("us-east-1"));
        assert!(default[0].stacks.is_empty());
    }

    #[tokio::test]
    async fn a_stack_of_another_account_is_refused_before_any_call_that_changes_anything() {
        let (_dir, project) = with_little_yaml(
            ACCOUNTS,
            &[
                ("stacks/ok.yaml", "name: ok\ntemplate: t.json\n"),
                (
                    "stacks/app.yaml",
                    "name: app\ntemplate: t.json\naccount: dev\n",
                ),
            ],
        );
        let project = Arc::new(project);
        let aws = FakeAws::new();
        aws.answer_caller_account("123456789012");
        let connect = FakeConnect(aws.clone());
        let stacks = project.select(&[], true).unwrap();
        let err = guard_stacks(&project, &connect, &stacks).await.unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::REFUSED);
        let Error::AccountRefused(refusals) = &err else {
            panic!("{err}")
        };
        assert_eq!(refusals.len(), 1);
        assert_eq!(refusals[0].stack.as_deref(), Some("app"));
        assert!(err.to_string().contains("111111111111"), "{err}");
        assert!(err.to_string().contains("123456789012"), "{err}");

        // Through the plan, which apply runs first: the stack fails before any change set.
        let mut options = crate::testing::ui::apply_options(true).plan;
        options.selection = crate::project::Selection {
            names: vec!["app".into()],
            all: false,
        };
        options.concurrency = 2;
        options.keep_change_sets = true;
        let plan = crate::plan::run::plan(project.clone(), Arc::new(connect), options)
            .await
            .unwrap();
        assert!(plan.has_failures());
        assert_eq!(plan.stacks[0].account_id.as_deref(), Some("123456789012"));
        let calls = aws.calls();
        assert!(
            calls.iter().all(|c| c.starts_with("GetCallerIdentity")),
            "a refused stack made other calls: {calls:?}"
        );
        assert!(!calls
            .iter()
            .any(|c| c.starts_with("CreateChangeSet") || c.starts_with("CreateStack")));
    }

    #[tokio::test]
    async fn the_plan_shows_the_account_it_reads_from() {
        let (_dir, project) = project(&[
            ("templates/t.json", TEMPLATE),
            ("stacks/app.yaml", "name: app\ntemplate: t.json\n"),
        ]);
        let aws = FakeAws::new();
        aws.answer_caller_account("210987654321");
        let mut options = crate::testing::ui::apply_options(true).plan;
        options.selection = crate::project::Selection {
            names: vec!["app".into()],
            all: false,
        };
        options.concurrency = 1;
        options.keep_change_sets = false;
        let plan = crate::plan::run::plan(project, Arc::new(FakeConnect(aws.clone())), options)
            .await
            .unwrap();
        assert!(!plan.has_failures(), "{:?}", plan.stacks[0].error);
        assert_eq!(plan.stacks[0].account_id.as_deref(), Some("210987654321"));
    }

    #[tokio::test]
    async fn whoami_reports_each_target_and_its_verdict() {
        let (_d, p) = with_little_yaml(
            ACCOUNTS,
            &[
                ("stacks/a.yaml", "name: a\ntemplate: t.json\naccount: dev\n"),
                ("stacks/d.yaml", "name: d\ntemplate: t.json\n"),
            ],
        );
        let aws = FakeAws::new();
        aws.answer_caller_account("123456789012");
        let all = p.select(&[], true).unwrap();
        let report = whoami(&p, &FakeConnect(aws), &all).await.unwrap();
        assert_eq!(report.len(), 2);
        assert_eq!(report[0].target.stacks, vec!["a".to_owned()]);
        assert!(!report[0].guard.passes);
        assert!(report[0]
            .guard
            .reason
            .as_deref()
            .unwrap()
            .contains("deploys to account `dev` (111111111111)"));
        assert!(report[1].guard.passes);
        assert_eq!(
            report[1].caller.as_ref().unwrap().identity.account,
            "123456789012"
        );
    }
}
