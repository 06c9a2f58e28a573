//! `little destroy`: deletes stacks in reverse dependency order, after showing which resources
//! will be deleted and which retained, refusing while termination protection is on (unless
//! allowed) or while another stack imports one of its exports.

use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::apply::{cause_lines, wait_with_events, Outcome, StackResult};
use super::Ui;
use crate::aws::cloudformation::Poll;
use crate::aws::connect::Connect;
use crate::aws::stack_ops::EventCursor;
use crate::error::{Error, Result};
use crate::plan::run::clients_for;
use crate::project::Project;

#[derive(Clone)]
pub struct DestroyOptions {
    pub stacks: Vec<String>,
    pub yes: bool,
    pub disable_termination_protection: bool,
    pub wait: Poll,
}

/// What deleting one stack would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub stack: String,
    pub status: String,
    /// `LogicalId (Type) physical-id` of the resources CloudFormation deletes.
    pub deleted: Vec<String>,
    /// The ones it keeps (DeletionPolicy Retain, RetainExceptOnCreate or Snapshot).
    pub retained: Vec<String>,
    pub termination_protection: bool,
    pub importers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestroyReport {
    pub previews: Vec<Preview>,
    pub stacks: Vec<StackResult>,
}

/// Deletes the named stacks (dependents first).
pub async fn destroy(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    options: DestroyOptions,
    ui: Arc<dyn Ui>,
) -> Result<DestroyReport> {
    let mut stacks = project.select(&options.stacks, false)?;
    stacks.reverse();
    let mut previews = Vec::new();
    let mut refusals = Vec::new();
    for stack in &stacks {
        let clients = clients_for(&project, connect.as_ref(), stack).await?;
        if stack.stack_set.is_some() {
            match super::stackset::destroy_preview(&clients, stack).await? {
                Some(p) => previews.push(p),
                None => ui.progress(&stack.name, "not deployed; nothing to delete"),
            }
            continue;
        }
        let Some(info) = clients.cfn.describe_stack(&stack.name).await? else {
            ui.progress(&stack.name, "not deployed; nothing to delete");
            continue;
        };
        let template = clients
            .cfn
            .get_template(&stack.name)
            .await
            .unwrap_or_default();
        let policies = deletion_policies(&template);
        let mut preview = Preview {
            stack: stack.name.clone(),
            status: info.status.clone(),
            deleted: Vec::new(),
            retained: Vec::new(),
            termination_protection: info.termination_protection,
            importers: clients.cfn.importers_of(&stack.name).await?,
        };
        for r in clients.ops.resources(&stack.name).await? {
            let line = format!(
                "{} ({}){}",
                r.logical_id,
                r.resource_type,
                r.physical_id
                    .as_deref()
                    .map(|p| format!(" {p}"))
                    .unwrap_or_default()
            );
            match policies.iter().find(|(id, _)| *id == r.logical_id) {
                Some((_, p))
                    if matches!(p.as_str(), "Retain" | "RetainExceptOnCreate" | "Snapshot") =>
                {
                    preview.retained.push(format!("{line}: {p}"))
                }
                _ => preview.deleted.push(line),
            }
        }
        // Stacks being destroyed together may import each other's exports.
        let others: Vec<&String> = preview
            .importers
            .iter()
            .filter(|i| !options.stacks.contains(i))
            .collect();
        if !others.is_empty() {
            refusals.push(format!(
                "`{}` exports values that {} import{}; destroy {} first",
                stack.name,
                others
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if others.len() == 1 { "s" } else { "" },
                if others.len() == 1 { "it" } else { "them" }
            ));
        }
        if info.termination_protection && !options.disable_termination_protection {
            refusals.push(format!(
                "`{}` has termination protection; pass `--disable-termination-protection` to turn it off and delete",
                stack.name
            ));
        }
        previews.push(preview);
    }
    for p in &previews {
        ui.message(&preview_text(p));
    }
    if !refusals.is_empty() {
        return Err(Error::Refused(refusals.join("; ")));
    }
    if previews.is_empty() {
        return Ok(DestroyReport {
            previews,
            stacks: Vec::new(),
        });
    }
    if !options.yes {
        if !ui.can_ask() {
            return Err(Error::Refused(
                "there is no terminal to ask for approval; pass `--yes` to delete without asking"
                    .into(),
            ));
        }
        let names: Vec<String> = previews.iter().map(|p| format!("`{}`", p.stack)).collect();
        if !ui.confirm(&format!("Delete {}?", names.join(", ")))? {
            return Err(Error::Refused("not approved; nothing was deleted".into()));
        }
    }
    let mut results = Vec::new();
    let mut failed = false;
    for p in &previews {
        let started = Instant::now();
        let stack = project.stack(&p.stack).ok_or_else(|| Error::UnknownStack {
            name: p.stack.clone(),
            suggestion: None,
        })?;
        let mut result = StackResult {
            stack: p.stack.clone(),
            outcome: Outcome::Cancelled,
            status: None,
            duration_secs: 0.0,
            changes: p.deleted.len(),
            root_cause: Vec::new(),
            guidance: None,
            warnings: Vec::new(),
        };
        if failed {
            result.guidance = Some("not deleted: an earlier deletion failed".into());
            results.push(result);
            continue;
        }
        let clients = clients_for(&project, connect.as_ref(), stack).await?;
        if stack.stack_set.is_some() {
            let r = super::stackset::destroy_stack_set(&clients, stack, options.wait, ui.as_ref())
                .await;
            failed = r.outcome == Outcome::Failed;
            results.push(StackResult {
                duration_secs: started.elapsed().as_secs_f64(),
                ..r
            });
            continue;
        }
        if p.termination_protection {
            ui.progress(&p.stack, "disabling termination protection");
            clients
                .ops
                .set_termination_protection(&p.stack, false)
                .await?;
        }
        let mut cursor = EventCursor::new(None);
        let _ = cursor.poll(clients.ops.as_ref(), &p.stack).await;
        ui.progress(&p.stack, "deleting");
        clients.cfn.delete_stack(&p.stack).await?;
        let (info, events) =
            wait_with_events(&clients, &p.stack, &mut cursor, options.wait, ui.as_ref()).await?;
        result.duration_secs = started.elapsed().as_secs_f64();
        match info {
            None => result.outcome = Outcome::Updated,
            Some(i) if i.status == "DELETE_COMPLETE" => result.outcome = Outcome::Updated,
            Some(i) => {
                failed = true;
                result.outcome = Outcome::Failed;
                result.status = Some(i.status.clone());
                result.root_cause = cause_lines(&events);
                if result.root_cause.is_empty() {
                    result.root_cause.extend(i.status_reason.clone());
                }
                result.guidance = Some(format!(
                    "fix the cause (a non-empty bucket or repository is the usual one) and run `little destroy {}` again",
                    p.stack
                ));
            }
        }
        if result.outcome == Outcome::Updated {
            result.status = Some("DELETE_COMPLETE".into());
        }
        results.push(result);
    }
    Ok(DestroyReport {
        previews,
        stacks: results,
    })
}

/// (logical id, DeletionPolicy) of every resource of a deployed template.
fn deletion_policies(template: &str) -> Vec<(String, String)> {
    let parsed: Option<Value> = crate::render::parse::parse(template, crate::render::Syntax::Json)
        .or_else(|_| crate::render::parse::parse(template, crate::render::Syntax::Yaml))
        .ok();
    parsed
        .as_ref()
        .and_then(|t| t.get("Resources"))
        .and_then(Value::as_object)
        .map(|rs| {
            rs.iter()
                .map(|(id, r)| {
                    (
                        id.clone(),
                        r.get("DeletionPolicy")
                            .and_then(Value::as_str)
                            .unwrap_or("Delete")
                            .to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The preview as people read it.
pub fn preview_text(p: &Preview) -> String {
    let mut out = format!("{} ({}):\n", p.stack, p.status);
    if p.deleted.is_empty() && p.retained.is_empty() {
        out.push_str("  no resources\n");
    }
    for d in &p.deleted {
        out.push_str(&format!("  - delete  {d}\n"));
    }
    for r in &p.retained {
        out.push_str(&format!("  = retain  {r}\n"));
    }
    if p.termination_protection {
        out.push_str("  termination protection is on\n");
    }
    if !p.importers.is_empty() {
        out.push_str(&format!("  imported by: {}\n", p.importers.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletion_policies_from_json_and_yaml() {
        let json = r#"{"Resources": {"A": {"Type": "T", "DeletionPolicy": "Retain"}, "B": {"Type": "T"}}}"#;
        assert_eq!(
            deletion_policies(json),
            [
                ("A".to_owned(), "Retain".to_owned()),
                ("B".to_owned(), "Delete".to_owned())
            ]
        );
        let yaml = "Resources:\n  A:\n    Type: T\n    DeletionPolicy: Snapshot\n";
        assert_eq!(
            deletion_policies(yaml),
            [("A".to_owned(), "Snapshot".to_owned())]
        );
    }
}
