//! The IAM permissions of the audit, declared once: the calls each check needs (the ECR
//! checks' in [`super::ecr::CHECK_CALLS`], the stack checks' here), the one call every ECR
//! check needs, remediation, `--org` and `--drift`. `run` reads these declarations to make only
//! the selected checks' calls and to turn a denied call into not-checked results; `little
//! iam-policy` reads the same ones (through [`needs`]) to print the minimal policy.

use super::ecr::{CHECK_CALLS, DESCRIBE_REPOSITORIES, REMEDIATION_ACTION};
use super::org::CHECK_ACCOUNT_UNREACHABLE;
use super::run::selected;
use super::stacks::{STACK_DEPLOYED, STACK_DRIFT, STACK_HEALTHY, STACK_PROTECTED};
use crate::aws::permissions::{need, Need, Scope, When};

pub const DESCRIBE_STACKS: &str = "cloudformation:DescribeStacks";
pub const DESCRIBE_STACK_SET: &str = "cloudformation:DescribeStackSet";
pub const LIST_STACK_INSTANCES: &str = "cloudformation:ListStackInstances";
pub const LIST_ACCOUNTS: &str = "organizations:ListAccounts";
pub const ASSUME_ROLE: &str = "sts:AssumeRole";

/// The stack checks: each reads the project's stacks with `cloudformation:DescribeStacks`
/// (a StackSet stack with [`STACK_SET_CALLS`] instead). A denied read makes them not checked.
pub const STACK_CHECKS: &[&str] = &[STACK_DEPLOYED, STACK_HEALTHY, STACK_PROTECTED, STACK_DRIFT];

/// The reads of a single stack's checks.
pub const STACK_CALLS: &[&str] = &[DESCRIBE_STACKS];

/// The reads of a StackSet stack's checks.
pub const STACK_SET_CALLS: &[&str] = &[DESCRIBE_STACK_SET, LIST_STACK_INSTANCES];

/// The checks and the calls they need, every one: the ECR checks (with
/// `ecr:DescribeRepositories`, which each needs), the stack checks (single stacks), and
/// `org.account-unreachable` (`--org`).
pub fn check_calls() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = CHECK_CALLS
        .iter()
        .map(|(check, calls)| {
            let mut all = vec![DESCRIBE_REPOSITORIES];
            all.extend(calls.iter().copied());
            (*check, all)
        })
        .collect();
    out.extend(STACK_CHECKS.iter().map(|c| (*c, STACK_CALLS.to_vec())));
    out.push((CHECK_ACCOUNT_UNREACHABLE, vec![LIST_ACCOUNTS, ASSUME_ROLE]));
    out
}

/// What `little drift` needs (and the audit with `--drift`): CloudFormation's detection, and
/// the direct comparison of ECR repositories and IAM roles with the template rendered with the
/// dependencies' outputs.
pub const DRIFT: &[Need] = &[
    need(DESCRIBE_STACKS, Scope::Stack, When::Always),
    need(DESCRIBE_STACKS, Scope::Dependency, When::Always),
    need(
        "cloudformation:DetectStackDrift",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:DescribeStackDriftDetectionStatus",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:DescribeStackResourceDrifts",
        Scope::Stack,
        When::SingleStack,
    ),
    need(
        "cloudformation:ListStackResources",
        Scope::Stack,
        When::SingleStack,
    ),
    need("ecr:DescribeRepositories", Scope::Any, When::SingleStack),
    need("ecr:GetLifecyclePolicy", Scope::Any, When::SingleStack),
    need("ecr:GetRepositoryPolicy", Scope::Any, When::SingleStack),
    need("ecr:ListTagsForResource", Scope::Any, When::SingleStack),
    need("iam:GetRole", Scope::Any, When::SingleStack),
    need("iam:ListRolePolicies", Scope::Any, When::SingleStack),
    need("iam:GetRolePolicy", Scope::Any, When::SingleStack),
    need(
        "iam:ListAttachedRolePolicies",
        Scope::Any,
        When::SingleStack,
    ),
    need("sts:AssumeRole", Scope::AccountRole, When::Always),
    need(DESCRIBE_STACK_SET, Scope::StackSet, When::StackSet),
    need(LIST_STACK_INSTANCES, Scope::StackSet, When::StackSet),
    need(
        "cloudformation:DetectStackSetDrift",
        Scope::StackSet,
        When::StackSet,
    ),
    need(
        "cloudformation:DescribeStackSetOperation",
        Scope::StackSet,
        When::StackSet,
    ),
];

/// What `little ecr scan-report` needs (`ecr:StartImageScan` with `--start`): the gate in
/// [`super::gate`] resolves the image with BatchGetImage and reads its scan.
pub const SCAN_REPORT: &[Need] = &[
    need("ecr:BatchGetImage", Scope::Any, When::Always),
    need("ecr:DescribeImageScanFindings", Scope::Any, When::Always),
    need("ecr:StartImageScan", Scope::Any, When::Start),
];

/// What `little ecr promote` needs besides [`SCAN_REPORT`]: the release tag is a PutImage of
/// the same manifest.
pub const PROMOTE: &[Need] = &[need("ecr:PutImage", Scope::Any, When::Always)];

/// What the audit is asked to do, as far as its permissions depend on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditScope {
    /// `--check`: ids or prefixes; empty: every check.
    pub checks: Vec<String>,
    /// Whether the project's stacks are checked (not `--no-stacks`).
    pub stacks: bool,
    pub remediate: bool,
    pub drift: bool,
    pub org: bool,
}

/// The permissions an audit needs: those of the selected checks, and of `--remediate`,
/// `--drift` and `--org`. Stack reads are [`Scope::Stack`] (single stacks, under
/// [`When::SingleStack`]) or [`Scope::StackSet`] (under [`When::StackSet`]).
pub fn needs(scope: &AuditScope) -> Vec<Need> {
    let wanted = |check: &str| selected(check, &scope.checks);
    let mut out = Vec::new();
    let ecr: Vec<&(&str, &[&str])> = CHECK_CALLS.iter().filter(|(c, _)| wanted(c)).collect();
    let org = scope.org && wanted(CHECK_ACCOUNT_UNREACHABLE);
    if !ecr.is_empty() || org {
        out.push(need(DESCRIBE_REPOSITORIES, Scope::Any, When::Always));
    }
    for (_, calls) in ecr {
        out.extend(calls.iter().map(|c| need(c, Scope::Any, When::Always)));
    }
    if scope.remediate && wanted(super::ecr::CHECK_TAG_IMMUTABILITY) {
        out.push(need(REMEDIATION_ACTION, Scope::Any, When::Always));
    }
    if scope.org && (!out.is_empty() || org) {
        out.push(need(LIST_ACCOUNTS, Scope::Any, When::Always));
        out.push(need(ASSUME_ROLE, Scope::OrgAuditRole, When::Always));
    } else if !out.is_empty() {
        out.push(need(ASSUME_ROLE, Scope::AccountRole, When::Always));
    }
    if scope.stacks && STACK_CHECKS.iter().any(|c| wanted(c)) {
        out.extend(
            STACK_CALLS
                .iter()
                .map(|c| need(c, Scope::Stack, When::SingleStack)),
        );
        out.extend(
            STACK_SET_CALLS
                .iter()
                .map(|c| need(c, Scope::StackSet, When::StackSet)),
        );
        out.push(need(ASSUME_ROLE, Scope::AccountRole, When::Always));
        if scope.drift && wanted(STACK_DRIFT) {
            out.extend(DRIFT.iter().copied());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The not-checked results of the stack checks that a denied `permission` kept from running
/// (the selected ones among [`STACK_CHECKS`]).
pub fn denied_stack_checks<'a>(checks: &'a [String]) -> impl Iterator<Item = &'static str> + 'a {
    STACK_CHECKS
        .iter()
        .copied()
        .filter(move |c| selected(c, checks))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(needs: &[Need]) -> Vec<&str> {
        let mut a: Vec<&str> = needs.iter().map(|n| n.action).collect();
        a.sort();
        a.dedup();
        a
    }

    #[test]
    fn the_immutability_check_alone_needs_describe_repositories_and_the_remediation() {
        let scope = AuditScope {
            checks: vec!["ecr.tag-immutability".into()],
            remediate: true,
            stacks: true,
            ..AuditScope::default()
        };
        assert_eq!(
            actions(&needs(&scope)),
            vec![
                "ecr:DescribeRepositories",
                "ecr:PutImageTagMutability",
                "sts:AssumeRole"
            ]
        );
    }

    #[test]
    fn every_check_needs_the_calls_its_gathering_makes() {
        let all = needs(&AuditScope {
            stacks: true,
            ..AuditScope::default()
        });
        let got = actions(&all);
        for (_, calls) in CHECK_CALLS {
            for c in *calls {
                assert!(got.contains(c), "{c}");
            }
        }
        assert!(got.contains(&DESCRIBE_STACKS));
        assert!(!got.contains(&LIST_ACCOUNTS));
        assert!(!got.contains(&REMEDIATION_ACTION));
        // --no-stacks: no CloudFormation.
        let ecr = needs(&AuditScope::default());
        assert!(actions(&ecr)
            .iter()
            .all(|a| !a.starts_with("cloudformation:")));
    }

    #[test]
    fn the_per_check_table_names_every_check() {
        let table = check_calls();
        for c in super::super::run::ALL_CHECKS {
            assert!(table.iter().any(|(t, _)| t == c), "{c}");
        }
    }
}
