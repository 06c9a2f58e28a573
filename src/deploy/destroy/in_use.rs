//! Whether deployed stacks outside a `destroy` run still use a stack being destroyed (through
//! `stack_output()`, `depends_on` or an import of its exports), and the refusal that names
//! each user and the command that destroys them too.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::connect::Connect;
use crate::context::clients_for;
use crate::error::Result;
use crate::project::{Project, Stack};

/// A deployed stack, outside the run, that uses a stack being destroyed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct User {
    pub(super) name: String,
    /// `stack_output('a', 'Key')`, `depends_on`, ``import of export `X` ``.
    pub(super) how: Vec<String>,
    /// Whether `little destroy` can delete it too.
    pub(super) in_project: bool,
}

/// Whether project stacks are deployed, each asked once.
#[derive(Default)]
pub(super) struct Deployed(BTreeMap<String, bool>);

impl Deployed {
    /// A stack is deployed when it exists, but for the empty REVIEW_IN_PROGRESS stack that a
    /// plan's CREATE change set leaves (it has no resources); a StackSet when it exists.
    pub(super) async fn check(
        &mut self,
        project: &Project,
        connect: &dyn Connect,
        stack: &Stack,
    ) -> Result<bool> {
        if let Some(known) = self.0.get(&stack.name) {
            return Ok(*known);
        }
        let clients = clients_for(project, connect, stack).await?;
        let deployed = if stack.kind.is_set() {
            clients
                .stack_sets
                .describe_stack_set(&stack.name)
                .await?
                .is_some()
        } else {
            clients
                .cfn
                .describe_stack(&stack.name)
                .await?
                .is_some_and(|i| i.is_deployed())
        };
        self.0.insert(stack.name.clone(), deployed);
        Ok(deployed)
    }
}

/// How `user` uses `stack`: each `stack_output('stack', 'Key')` it reads, and `depends_on`.
pub(super) fn how_it_uses(user: &Stack, stack: &str) -> Vec<String> {
    let mut how: Vec<String> = Vec::new();
    for (dep, key) in &user.output_refs {
        let r = format!("stack_output('{dep}', '{key}')");
        if dep == stack && !how.contains(&r) {
            how.push(r);
        }
    }
    if user.depends_on.iter().any(|d| d == stack) {
        how.push("depends_on".into());
    }
    if how.is_empty() {
        how.push("a dependency".into());
    }
    how
}

/// The refusal for targets that deployed stacks outside the run still use: each target, each
/// user and how, and the way out: the command that destroys the users too (with the deployed
/// project stacks that use them in turn), or `--all`; a stack outside the project has to stop
/// importing first.
pub(super) async fn in_use_refusal(
    project: &Project,
    connect: &dyn Connect,
    order: &[&Stack],
    users: &BTreeMap<String, Vec<User>>,
    deployed: &mut Deployed,
) -> Result<String> {
    let mut parts = Vec::new();
    for stack in order {
        let Some(list) = users.get(&stack.name) else {
            continue;
        };
        let who: Vec<String> = list
            .iter()
            .map(|u| format!("`{}` ({})", u.name, u.how.join(", ")))
            .collect();
        parts.push(format!(
            "`{}` is used by deployed stack{} {}",
            stack.name,
            if who.len() == 1 { "" } else { "s" },
            who.join(", ")
        ));
    }
    // The project stacks to destroy too: the users, and deployed project stacks using them.
    let named: BTreeSet<&str> = order.iter().map(|s| s.name.as_str()).collect();
    let mut more: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = users
        .values()
        .flatten()
        .filter(|u| u.in_project)
        .map(|u| u.name.clone())
        .collect();
    while let Some(name) = todo.pop() {
        if named.contains(name.as_str()) || !more.insert(name.clone()) {
            continue;
        }
        for dependent in project.graph.dependents(&name) {
            if let Some(d) = project.stack(dependent) {
                if !more.contains(dependent) && deployed.check(project, connect, d).await? {
                    todo.push(dependent.to_owned());
                }
            }
        }
    }
    let outside: BTreeSet<&str> = users
        .values()
        .flatten()
        .filter(|u| !u.in_project)
        .map(|u| u.name.as_str())
        .collect();
    let mut way_out = Vec::new();
    if !more.is_empty() {
        // Dependents first, as they would be deleted; the command's order does not matter.
        let mut all: Vec<String> = project
            .graph
            .order()
            .into_iter()
            .rev()
            .filter(|n| more.contains(n) || named.contains(n.as_str()))
            .collect();
        all.dedup();
        way_out.push(format!(
            "destroy {} in the same run (`little destroy {}`) or every stack of the project (`little destroy --all`)",
            if more.len() == 1 { "it" } else { "them" },
            all.join(" ")
        ));
    }
    if !outside.is_empty() {
        let one = outside.len() == 1;
        way_out.push(format!(
            "{} {} not in this project: remove {} imports (or delete {}) first",
            outside
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", "),
            if one { "is" } else { "are" },
            if one { "its" } else { "their" },
            if one { "it" } else { "them" },
        ));
    }
    Ok(format!("{}; {}", parts.join("; "), way_out.join("; ")))
}
