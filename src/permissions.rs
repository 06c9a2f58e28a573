//! `little iam-policy`: the minimal IAM policy of a command for a project, built from the
//! declarations the operations keep beside their code (`audit::permissions`, which the audit
//! also reads to decide which calls to make and what a denied call keeps from running;
//! `plan::permissions`, `deploy::permissions`, `check::permissions`, `serve::permissions`).
//! Each declaration's condition ([`When`]) is resolved against the selected stacks and the
//! flags, and its scope ([`Scope`]) into resources: the stacks' ARNs where little.yaml gives
//! their account and region, the roles little.yaml names, else `"*"`. [`markdown`] writes the
//! per-command and per-check tables of docs/iam-permissions.md from the same declarations.
//! Makes no AWS call and prints nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::audit::permissions::{self as audit, AuditScope};
use crate::aws::permissions::{service, stack_arn, stack_set_arn, Need, Scope, When};
use crate::error::{Error, Result};
use crate::project::{Project, Stack};

/// The commands that call AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Command {
    Audit,
    Serve,
    Check,
    Plan,
    Apply,
    Adopt,
    Destroy,
    Drift,
    Status,
    Outputs,
    Events,
    Discover,
    Whoami,
    EcrScanReport,
    EcrPromote,
}

impl Command {
    pub const ALL: &'static [Command] = &[
        Command::Plan,
        Command::Apply,
        Command::Adopt,
        Command::Destroy,
        Command::Drift,
        Command::Status,
        Command::Outputs,
        Command::Events,
        Command::Discover,
        Command::Whoami,
        Command::Audit,
        Command::Serve,
        Command::Check,
        Command::EcrScanReport,
        Command::EcrPromote,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Command::Audit => "audit",
            Command::Serve => "serve",
            Command::Check => "check",
            Command::Plan => "plan",
            Command::Apply => "apply",
            Command::Adopt => "adopt",
            Command::Destroy => "destroy",
            Command::Drift => "drift",
            Command::Status => "status",
            Command::Outputs => "outputs",
            Command::Events => "events",
            Command::Discover => "discover",
            Command::Whoami => "whoami",
            Command::EcrScanReport => "ecr scan-report",
            Command::EcrPromote => "ecr promote",
        }
    }

    /// Whether the command works on stacks that `--stack` selects.
    pub fn takes_stacks(self) -> bool {
        !matches!(
            self,
            Command::Audit
                | Command::Serve
                | Command::Check
                | Command::Discover
                | Command::EcrScanReport
                | Command::EcrPromote
        )
    }

    fn is_audit(self) -> bool {
        matches!(self, Command::Audit | Command::Serve)
    }
}

/// `whoami` assumes the targets' account roles (its `sts:GetCallerIdentity` needs no
/// permission).
const WHOAMI: &[Need] = &[crate::aws::permissions::need(
    "sts:AssumeRole",
    Scope::AccountRole,
    When::Always,
)];

/// What the policy is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyOptions {
    pub command: Command,
    /// `--check` (audit, serve): ids or prefixes; empty: every check.
    pub checks: Vec<String>,
    /// `--stack`: the stacks; empty: every stack of the project.
    pub stacks: Vec<String>,
    /// `--no-stacks` (audit, serve).
    pub no_stacks: bool,
    pub remediate: bool,
    pub drift: bool,
    pub org: bool,
    pub replace_failed: bool,
    pub large_templates: bool,
    pub queue: bool,
    pub enforce: bool,
    /// `ecr scan-report --start`.
    pub start: bool,
}

impl PolicyOptions {
    pub fn new(command: Command) -> Self {
        PolicyOptions {
            command,
            checks: Vec::new(),
            stacks: Vec::new(),
            no_stacks: false,
            remediate: false,
            drift: false,
            org: false,
            replace_failed: false,
            large_templates: false,
            queue: false,
            enforce: false,
            start: false,
        }
    }

    fn audit_scope(&self) -> AuditScope {
        AuditScope {
            checks: self.checks.clone(),
            stacks: !self.no_stacks,
            remediate: self.remediate,
            drift: self.drift,
            org: self.org,
        }
    }
}

/// The declared permissions of a command, before conditions and scopes are resolved.
pub fn declared(options: &PolicyOptions) -> Vec<Need> {
    use crate::deploy::permissions as deploy;
    use crate::plan::permissions::PERMISSIONS as PLAN;
    let parts: Vec<&[Need]> = match options.command {
        Command::Plan => vec![PLAN],
        Command::Apply => vec![PLAN, deploy::APPLY],
        Command::Adopt => vec![PLAN, deploy::APPLY, deploy::ADOPT],
        Command::Destroy => vec![deploy::DESTROY],
        Command::Drift => vec![audit::DRIFT],
        Command::Status | Command::Outputs => vec![deploy::READ],
        Command::Events => vec![deploy::READ, deploy::EVENTS],
        Command::Discover => vec![deploy::DISCOVER],
        Command::Whoami => vec![WHOAMI],
        Command::Check => vec![crate::check::permissions::PERMISSIONS],
        Command::Audit => vec![],
        Command::Serve => vec![crate::serve::permissions::SCANS],
        Command::EcrScanReport => vec![audit::SCAN_REPORT],
        Command::EcrPromote => vec![audit::SCAN_REPORT, audit::PROMOTE],
    };
    let mut out: Vec<Need> = parts.into_iter().flatten().copied().collect();
    if options.command.is_audit() {
        out.extend(audit::needs(&options.audit_scope()));
    }
    out.sort();
    out.dedup();
    out
}

/// What the selected stacks are, for the declarations' conditions.
#[derive(Debug, Default)]
struct Facts {
    single: bool,
    set: bool,
    service_managed: bool,
    stack_policy: bool,
    service_role: bool,
    listed: bool,
}

impl Facts {
    fn of(project: &Project, stacks: &[&Stack]) -> Facts {
        let mut f = Facts {
            listed: !crate::context::listing::Listings::of(project, stacks).is_empty(),
            ..Facts::default()
        };
        for s in stacks {
            match s.kind.stack_set() {
                Some(set) => {
                    f.set = true;
                    f.service_managed |= set.execution_role_name().is_none();
                }
                None => f.single = true,
            }
            f.stack_policy |= s.stack_policy.is_some();
            f.service_role |= s.role_arn.is_some();
        }
        f
    }
}

fn holds(when: When, facts: &Facts, options: &PolicyOptions) -> bool {
    match when {
        When::Always => true,
        When::SingleStack => facts.single,
        When::StackSet => facts.set,
        When::ServiceManaged => facts.service_managed,
        When::StackPolicy => facts.stack_policy,
        When::ServiceRole => facts.service_role,
        When::LargeTemplate => options.large_templates,
        When::ManyStacks => facts.listed,
        When::ReplaceFailed => options.replace_failed,
        When::Queue => options.queue,
        When::Enforce => options.enforce,
        When::ScanConfigs => true,
        When::Start => options.start,
    }
}

/// The stacks a policy covers: `--stack`'s, else every stack of the project.
fn selection<'a>(project: &'a Project, options: &PolicyOptions) -> Result<Vec<&'a Stack>> {
    if !options.stacks.is_empty() && !options.command.takes_stacks() {
        return Err(Error::Usage(format!(
            "the policy of `little {}` takes no `--stack`: {}",
            options.command.name(),
            if options.command.is_audit() {
                "the audit checks every stack of the project (`--no-stacks`: none)"
            } else {
                "the command works on no stack"
            }
        )));
    }
    if options.command.is_audit() && options.no_stacks {
        return Ok(Vec::new());
    }
    if !options.command.takes_stacks() && !options.command.is_audit() {
        return Ok(Vec::new());
    }
    project.select(&options.stacks, options.stacks.is_empty())
}

/// The resources of a scope for the selected stacks; `None` for `"*"`, an empty set when the
/// scope names nothing (the permission is then not needed).
fn resources(
    scope: Scope,
    project: &Project,
    stacks: &[&Stack],
    options: &PolicyOptions,
) -> Option<BTreeSet<String>> {
    let account_id = |s: &Stack| project.account_of(s).map(|a| a.id.clone());
    let arn_of = |s: &Stack, set: bool| -> Option<String> {
        let region = s.region.as_deref()?;
        let account = account_id(s)?;
        Some(if set {
            stack_set_arn(region, &account, &s.name)
        } else {
            stack_arn(region, &account, &s.name)
        })
    };
    let all =
        |arns: Vec<Option<String>>| -> Option<BTreeSet<String>> { arns.into_iter().collect() };
    match scope {
        Scope::Any => None,
        Scope::Stack => all(stacks
            .iter()
            .filter(|s| !s.kind.is_set())
            .map(|s| arn_of(s, false))
            .collect()),
        Scope::Dependency => {
            let chosen: BTreeSet<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
            let mut deps = BTreeSet::new();
            for s in stacks {
                deps.extend(project.dependencies_of(&s.name));
            }
            all(deps
                .iter()
                .filter(|d| !chosen.contains(d.as_str()))
                .filter_map(|d| project.stacks.iter().find(|s| &s.name == d))
                .filter(|s| !s.kind.is_set())
                .map(|s| arn_of(s, false))
                .collect())
        }
        Scope::StackSet => all(stacks
            .iter()
            .filter(|s| s.kind.is_set())
            .map(|s| arn_of(s, true))
            .collect()),
        Scope::AccountRole => {
            let mut roles = BTreeSet::new();
            let mut accounts: Vec<_> = stacks
                .iter()
                .filter_map(|s| project.account_of(s))
                .collect();
            if options.command.is_audit() || stacks.is_empty() {
                accounts.extend(project.default_account());
            }
            roles.extend(accounts.iter().filter_map(|a| a.role_arn.clone()));
            Some(roles)
        }
        Scope::ServiceRole => Some(stacks.iter().filter_map(|s| s.role_arn.clone()).collect()),
        Scope::AdministrationRole => {
            let mut roles = BTreeSet::new();
            for s in stacks {
                let Some(set) = s.kind.stack_set() else {
                    continue;
                };
                if set.execution_role_name().is_none() {
                    continue;
                }
                let account = account_id(s);
                match set.administration_role_arn(account.as_deref()) {
                    Ok(Some(arn)) => {
                        roles.insert(arn);
                    }
                    Ok(None) => match account {
                        Some(id) => {
                            roles.insert(format!(
                                "arn:aws:iam::{id}:role/AWSCloudFormationStackSetAdministrationRole"
                            ));
                        }
                        None => return None,
                    },
                    Err(_) => return None,
                }
            }
            Some(roles)
        }
        Scope::OrgAuditRole => {
            let region = project.reach.regions.first().cloned().flatten();
            let partition = crate::aws::permissions::partition(region.as_deref().unwrap_or(""));
            Some(
                [format!(
                    "arn:{partition}:iam::*:role/{}",
                    project.reach.role_name
                )]
                .into_iter()
                .collect(),
            )
        }
    }
}

/// Each action the command needs for the project, with its resources (`None`: `"*"`).
pub fn actions(
    project: &Project,
    options: &PolicyOptions,
) -> Result<BTreeMap<&'static str, Option<BTreeSet<String>>>> {
    let stacks = selection(project, options)?;
    let facts = Facts::of(project, &stacks);
    let mut out: BTreeMap<&'static str, Option<BTreeSet<String>>> = BTreeMap::new();
    for n in declared(options) {
        if !holds(n.when, &facts, options) {
            continue;
        }
        let found = resources(n.scope, project, &stacks, options);
        if found.as_ref().is_some_and(|r| r.is_empty()) {
            continue;
        }
        match (out.get_mut(n.action), found) {
            (None, found) => {
                out.insert(n.action, found);
            }
            (Some(have), None) => *have = None,
            (Some(Some(have)), Some(more)) => have.extend(more),
            (Some(None), Some(_)) => {}
        }
    }
    Ok(out)
}

/// The policy document: one statement per service and set of resources, actions sorted.
pub fn policy(project: &Project, options: &PolicyOptions) -> Result<Value> {
    Ok(document(&actions(project, options)?))
}

/// The policy document of actions and their resources.
pub fn document(actions: &BTreeMap<&'static str, Option<BTreeSet<String>>>) -> Value {
    let mut groups: BTreeMap<(&str, Option<&BTreeSet<String>>), Vec<&str>> = BTreeMap::new();
    for (action, resources) in actions {
        groups
            .entry((service(action), resources.as_ref()))
            .or_default()
            .push(action);
    }
    let mut per_service: BTreeMap<&str, usize> = BTreeMap::new();
    let statements: Vec<Value> = groups
        .into_iter()
        .map(|((svc, resources), actions)| {
            let n = per_service.entry(svc).or_default();
            *n += 1;
            let sid = format!(
                "{}{}",
                capitalised(svc),
                if *n > 1 { n.to_string() } else { String::new() }
            );
            let resource = match resources {
                None => json!("*"),
                Some(r) if r.len() == 1 => json!(r.iter().next()),
                Some(r) => json!(r),
            };
            json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource})
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn capitalised(service: &str) -> String {
    let mut out = String::new();
    for part in service.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// Turns one of [`PolicyOptions`]' flags on.
type SetFlag = fn(&mut PolicyOptions);

/// The tables of docs/iam-permissions.md: per command, the actions always needed and those
/// needed under a condition (a kind of stack, a setting, a flag); per check, its actions.
pub fn markdown() -> String {
    let mut out = String::from("| command | IAM actions | only when |\n|---|---|---|\n");
    for command in Command::ALL {
        let base = PolicyOptions::new(*command);
        let mut always: BTreeSet<&str> = BTreeSet::new();
        let mut only: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for n in declared(&base) {
            match condition(n.when, *command) {
                None => {
                    always.insert(n.action);
                }
                Some(c) => {
                    only.entry(c).or_default().insert(n.action);
                }
            }
        }
        // The audit's flags add declarations of their own.
        if command.is_audit() {
            let flags: [(&str, SetFlag); 3] = [
                ("`--remediate`", |o| o.remediate = true),
                ("`--drift`", |o| o.drift = true),
                ("`--org`", |o| o.org = true),
            ];
            let before: BTreeSet<&str> = declared(&base).iter().map(|n| n.action).collect();
            for (label, set) in flags {
                let mut options = base.clone();
                set(&mut options);
                for n in declared(&options) {
                    if !before.contains(n.action) {
                        only.entry(label).or_default().insert(n.action);
                    }
                }
            }
        }
        for set in only.values_mut() {
            set.retain(|a| !always.contains(a));
        }
        only.retain(|_, set| !set.is_empty());
        let conditional: Vec<String> = only
            .iter()
            .map(|(c, set)| format!("{c}: {}", codes(set.iter().copied())))
            .collect();
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            command.name(),
            if always.is_empty() {
                "none".to_owned()
            } else {
                codes(always.iter().copied())
            },
            conditional.join("; ")
        ));
    }
    out.push_str("\n| check | IAM actions |\n|---|---|\n");
    for (check, calls) in audit::check_calls() {
        out.push_str(&format!(
            "| `{check}` | {} |\n",
            codes(calls.iter().copied())
        ));
    }
    out
}

fn codes<'a>(actions: impl Iterator<Item = &'a str>) -> String {
    actions
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The condition of a declaration as the doc's table says it; None: always (for a command on
/// single stacks).
fn condition(when: When, command: Command) -> Option<&'static str> {
    match when {
        When::Always | When::SingleStack | When::ScanConfigs => None,
        When::StackSet => Some("StackSet stacks"),
        When::ServiceManaged => Some("SERVICE_MANAGED StackSets"),
        When::StackPolicy => Some("`stack_policy`"),
        When::ServiceRole => Some("a stack `role_arn`"),
        When::LargeTemplate => Some("templates over 51,200 bytes (`--large-templates`)"),
        When::ManyStacks => {
            Some("10 or more stacks in one account and region (read in one listing of the region)")
        }
        When::ReplaceFailed => Some("`--replace-failed`"),
        When::Queue if command == Command::Check => Some("`--queue`"),
        When::Queue => None,
        When::Enforce => Some("`--enforce`"),
        When::Start => Some("`--start`"),
    }
}

#[cfg(test)]
mod tests;
