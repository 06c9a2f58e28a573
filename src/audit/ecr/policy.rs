//! The repository-policy check of the ECR audit: who a deployed repository policy lets in
//! (everyone, other accounts) and whether it lets them push, delete or change access.
//!
//! Statements and string lists are read with `crate::policy`; the wildcard matching of action
//! patterns and repository globs is here. Findings are built by the parent module.

use serde_json::{Map, Value};

use super::{EcrSettings, SEVERITY_PUBLIC_POLICY, SEVERITY_REPOSITORY_POLICY};
use crate::audit::model::Severity;
use crate::aws::ecr::Repository;
use crate::policy::{statements, strings_of};

/// Condition keys that restrict a public principal to an organization or account.
const RESTRICTING_KEYS: [&str; 4] = [
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourceaccount",
    "aws:principalaccount",
];

/// Actions that push images or delete them, or change the repository's access.
const PUSH_ACTIONS: [&str; 7] = [
    "ecr:putimage",
    "ecr:initiatelayerupload",
    "ecr:uploadlayerpart",
    "ecr:completelayerupload",
    "ecr:batchdeleteimage",
    "ecr:deleterepository",
    "ecr:setrepositorypolicy",
];

/// The action that grants every ECR action, the push actions among them.
const PUSH_WILDCARD: &str = "ecr:*";

/// The push actions, then the wildcard: what an `Action` list is matched against.
fn push_patterns() -> impl Iterator<Item = &'static str> {
    PUSH_ACTIONS.iter().copied().chain([PUSH_WILDCARD])
}

/// Whether `name` matches the wildcard `pattern`: `*` matches any run of characters, and `?`
/// one character when `question` is set.
pub(super) fn wildcard(pattern: &str, name: &str, question: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == n[ni] || (question && p[pi] == '?')) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The account id a principal names: `arn:aws:iam::<id>:...` or a bare 12-digit id.
fn principal_account(principal: &str) -> Option<String> {
    let is_id = crate::aws::names::is_account_id;
    if is_id(principal) {
        return Some(principal.to_owned());
    }
    let mut parts = principal.split(':');
    if parts.next() != Some("arn") {
        return None;
    }
    let _partition = parts.next();
    if parts.next() != Some("iam") {
        return None;
    }
    let _region = parts.next();
    parts.next().filter(|id| is_id(id)).map(str::to_owned)
}

/// The push or delete action the statement grants, as written (`NotAction (allows …)` for a
/// `NotAction` that leaves one out); none when it grants none.
fn grants_push(statement: &Map<String, Value>) -> Option<String> {
    let wildcard_action = |a: &str, p: &str| wildcard(&a.to_ascii_lowercase(), p, true);
    if let Some(actions) = statement.get("Action") {
        let actions = strings_of(Some(actions));
        return push_patterns()
            .find(|p| actions.iter().any(|a| wildcard_action(a, p)))
            .map(|_| {
                actions
                    .iter()
                    .find(|a| push_patterns().any(|p| wildcard_action(a, p)))
                    .map(|a| a.to_string())
                    .unwrap_or_default()
            });
    }
    // `NotAction`: everything but the listed actions. Each push action is named in
    // `PUSH_ACTIONS`, so one of them that the list leaves out is a push granted.
    let not = strings_of(statement.get("NotAction"));
    PUSH_ACTIONS
        .iter()
        .find(|p| !not.iter().any(|a| wildcard_action(a, p)))
        .map(|p| format!("NotAction (allows `{p}`)"))
}

/// Whether the statement's `Condition` names a key that restricts it to an organization or an
/// account.
fn has_restricting_condition(statement: &Map<String, Value>) -> bool {
    statement
        .get("Condition")
        .and_then(Value::as_object)
        .is_some_and(|ops| {
            ops.values().filter_map(Value::as_object).any(|keys| {
                keys.keys()
                    .any(|k| RESTRICTING_KEYS.contains(&k.to_ascii_lowercase().as_str()))
            })
        })
}

/// The repository policy's problems, each with its severity.
pub(super) fn repository_policy(
    repo: &Repository,
    policy: &str,
    settings: &EcrSettings,
) -> Vec<(Severity, String)> {
    let name = &repo.name;
    let doc: Value = match serde_json::from_str(policy) {
        Ok(d) => d,
        Err(e) => {
            return vec![(
                SEVERITY_REPOSITORY_POLICY,
                format!("the repository policy of `{name}` is not JSON: {e}"),
            )]
        }
    };
    let mut out: Vec<(Severity, String)> = Vec::new();
    let mut push = |item: (Severity, String)| {
        if !out.contains(&item) {
            out.push(item);
        }
    };
    for (index, s) in statements(&doc).into_iter().enumerate() {
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let label = s
            .get("Sid")
            .and_then(Value::as_str)
            .map(|sid| format!("statement `{sid}`"))
            .unwrap_or_else(|| format!("statement {}", index + 1));
        let (public, aws) = match s.get("Principal") {
            Some(Value::String(p)) => (p == "*", Vec::new()),
            Some(Value::Object(m)) => {
                let aws = strings_of(m.get("AWS"));
                (aws.contains(&"*"), aws)
            }
            _ => (false, Vec::new()),
        };
        let restricted = has_restricting_condition(s);
        let pushes = grants_push(s);
        if public && !restricted {
            push((
                SEVERITY_PUBLIC_POLICY,
                format!(
                    "the repository policy of `{name}` grants access to everyone (`*`) in {label} without an `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, `aws:SourceAccount` or `aws:PrincipalAccount` condition"
                ),
            ));
        }
        if public {
            if let Some(action) = &pushes {
                push((
                    SEVERITY_REPOSITORY_POLICY,
                    format!(
                        "the repository policy of `{name}` grants `{action}` to other accounts (`*`) in {label}"
                    ),
                ));
            }
        }
        let mut others: Vec<String> = aws
            .iter()
            .filter_map(|p| principal_account(p))
            .filter(|id| *id != repo.registry_id)
            .collect();
        others.dedup();
        for id in &others {
            if !settings.known_accounts.contains(id) {
                push((
                    SEVERITY_REPOSITORY_POLICY,
                    format!(
                        "the repository policy of `{name}` grants access to account `{id}` in {label}, which is not an account of little.yaml"
                    ),
                ));
            }
            if let Some(action) = &pushes {
                push((
                    SEVERITY_REPOSITORY_POLICY,
                    format!(
                        "the repository policy of `{name}` grants `{action}` to account `{id}` in {label}"
                    ),
                ));
            }
        }
    }
    out
}
