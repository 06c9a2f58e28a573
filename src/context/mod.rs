//! A project stack in its live AWS context: the clients of its account and region (after the
//! account guard, [`identity`]), the outputs of its deployed dependencies, and its template
//! rendered with them; [`state`] reads and cleans up what CloudFormation holds of it (stuck
//! states, deployed templates, unexecuted change sets).
//!
//! The layer between project/render/aws and the operations: plan, deploy and audit share
//! these helpers here instead of importing each other. What a plan is, how it is applied or
//! audited, is not here.

pub mod compare;
pub mod existing;
pub mod identity;
pub mod lifecycle;
pub mod listing;
pub mod state;

use std::collections::BTreeMap;

use crate::aws::connect::{Clients, Connect};
use crate::context::listing::Listings;
use crate::error::{Error, Result};
use crate::project::{Project, Stack};
use crate::render::{MissingOutputs, Outputs, RenderOptions, Rendered, Renderer};

/// The clients of a stack's account and region, once the account guard passed; for a
/// StackSet administered by a delegated administrator, its StackSet calls say so.
pub async fn clients_for(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
) -> Result<Clients> {
    // The account guard: refused before any call for the stack, when its credentials act in
    // another account than its own, or in one little.yaml does not allow.
    let caller = crate::context::identity::guard_stack(project, connect, stack).await?;
    let mut clients = connect
        .clients(stack.region.as_deref(), project.account_of(stack))
        .await?;
    clients.caller = Some(caller);
    if stack.kind.stack_set().is_some_and(|s| s.delegated_admin) {
        clients.stack_sets = clients.stack_sets_delegated.clone();
    }
    Ok(clients)
}

/// Reads the outputs of a stack's deployed dependencies (from `listings` where it lists their
/// region); the ones not deployed are left out (they render as placeholders) and listed.
async fn dependency_outputs(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
    listings: &Listings,
) -> Result<(Outputs, Vec<String>)> {
    let mut outputs = Outputs {
        known: BTreeMap::new(),
        missing: MissingOutputs::Placeholder,
    };
    let mut unknown = Vec::new();
    for dep in project.dependencies_of(&stack.name) {
        let Some(dep_stack) = project.stack(&dep) else {
            continue;
        };
        let clients = clients_for(project, connect, dep_stack).await?;
        match listings.describe(project, &clients, dep_stack).await? {
            Some(info) if info.is_deployed() => {
                outputs.known.insert(dep.clone(), info.outputs_map());
            }
            _ => {
                for (s, key) in &stack.output_refs {
                    if s == &dep {
                        unknown.push(format!("{dep}.{key}"));
                    }
                }
            }
        }
    }
    unknown.sort();
    unknown.dedup();
    Ok((outputs, unknown))
}

/// Renders a stack with the outputs of its deployed dependencies (`options.outputs` is
/// replaced by them); also returns the outputs that are known only after apply
/// (`stack.key`), rendered as placeholders. A template that does not render is
/// [`Error::Invalid`].
pub async fn render_live(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
    options: &RenderOptions,
) -> Result<(Rendered, Vec<String>)> {
    render_listed(project, connect, stack, options, &Listings::none()).await
}

/// [`render_live`], with the dependencies' deployed state read from `listings` where they
/// list its region (a plan of many stacks: the listing it reads its stacks from).
pub async fn render_listed(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
    options: &RenderOptions,
    listings: &Listings,
) -> Result<(Rendered, Vec<String>)> {
    let (outputs, known_after_apply) =
        dependency_outputs(project, connect, stack, listings).await?;
    let options = RenderOptions {
        outputs,
        ..options.clone()
    };
    let rendered = Renderer::new(project, options)
        .render(stack)
        .map_err(Error::Invalid)?;
    Ok((rendered, known_after_apply))
}
