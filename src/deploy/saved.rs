//! `apply --plan`: whether a saved plan still describes the world ([`check_saved`]): same
//! project, stacks unchanged since, the same rendering, change sets that can run as they are,
//! and the same risks computed again. Executing it is `apply`.

use super::options::ApplyOptions;
use crate::aws::changeset::wait_for_change_set;
use crate::aws::connect::Connect;
use crate::context::state::parse_deployed;
use crate::context::{clients_for, render_live};
use crate::error::{Error, Result};
use crate::plan::compare::{hashes_match, sha256};
use crate::plan::model::{Plan, PlanStatus};
use crate::plan::risk::Risk;
use crate::plan::run::{settings_changes, stack_risks};
use crate::project::Project;

/// Checks that a saved plan still describes the world: same project, stacks unchanged since
/// (status, last update, template), the same rendered template and parameters, and change sets
/// that can be executed as they are.
pub async fn check_saved(
    project: &Project,
    connect: &dyn Connect,
    saved: &Plan,
    options: &ApplyOptions,
) -> Result<Plan> {
    if saved.version != crate::plan::model::PLAN_VERSION {
        return Err(Error::Refused(format!(
            "the saved plan has version {}, this little reads version {}; plan again",
            saved.version,
            crate::plan::model::PLAN_VERSION
        )));
    }
    if saved.project != project.name {
        return Err(Error::Refused(format!(
            "the saved plan is for project `{}`, not `{}`",
            saved.project, project.name
        )));
    }
    let mut stale = Vec::new();
    for s in &saved.stacks {
        if !s.has_changes() {
            continue;
        }
        // A value of a dependency that this plan changes is known once that dependency is
        // applied: `apply` plans the stack again then, with the risks checked again, as the
        // plan said. A placeholder for a dependency that was not deployed is another matter:
        // the plan could say nothing of the stack.
        let placeholders: Vec<&str> = s
            .known_after_apply
            .iter()
            .map(String::as_str)
            .filter(|v| !changed_in(saved, v.split_once('.').map(|(d, _)| d).unwrap_or(v)))
            .collect();
        if !placeholders.is_empty() {
            stale.push(format!(
                "`{}` was planned with values known only after apply ({}); apply its dependencies, then plan again",
                s.stack,
                placeholders.join(", ")
            ));
            continue;
        }
        let Some(stack) = project.stack(&s.stack) else {
            stale.push(format!("`{}` is no longer in the project", s.stack));
            continue;
        };
        if stack.kind.is_set() || s.stack_set.is_some() {
            stale.extend(
                super::stackset::saved_plan_problems(project, connect, stack, s, options).await?,
            );
            continue;
        }
        if s.replaces_failed.is_some() {
            stale.push(format!(
                "`{}` replaces a failed stack, whose change set can only be made once it is deleted; apply it without `--plan` (`little apply {} --replace-failed`)",
                s.stack, s.stack
            ));
            continue;
        }
        // Without a change set, only the settings change sets do not carry may change.
        if s.change_set.is_none() && !s.resource_changes.is_empty() {
            stale.push(format!("`{}` has no change set in the saved plan", s.stack));
            continue;
        }
        let clients = clients_for(project, connect, stack).await?;
        let info = clients.cfn.describe_stack(&s.stack).await?;
        let mut deployed_template = None;
        match (&s.deployed, &info) {
            (Some(d), Some(now)) => {
                let template = clients.cfn.get_template(&s.stack).await?;
                let last = now.last_updated.clone().or_else(|| now.created.clone());
                if now.status != d.status
                    || last != d.last_updated
                    || sha256(&template) != d.template_sha256
                {
                    stale.push(format!(
                        "`{}` changed since the plan was made (status {} → {}, last updated {} → {})",
                        s.stack,
                        d.status,
                        now.status,
                        d.last_updated.as_deref().unwrap_or("-"),
                        last.as_deref().unwrap_or("-")
                    ));
                    continue;
                }
                deployed_template = Some(parse_deployed(&template)?);
            }
            (None, Some(now)) if now.is_review() => {}
            (None, Some(now)) => {
                stale.push(format!(
                    "`{}` was new when planned and now exists ({})",
                    s.stack, now.status
                ));
                continue;
            }
            (Some(_), None) | (None, None) => {
                stale.push(format!("`{}` or its change set no longer exists", s.stack));
                continue;
            }
        }
        // The project must still render what was planned.
        let (rendered, _) = render_live(project, connect, stack, &options.plan.render).await?;
        let matches = hashes_match(
            &s.hashes,
            &rendered.body(),
            &rendered.template,
            &rendered.parameters,
        );
        if !matches {
            stale.push(format!(
                "`{}` renders differently from when the plan was made (the template or its configuration changed)",
                s.stack
            ));
            continue;
        }
        // The risks are computed again, from AWS's answers now and the project, never taken
        // from the file: a plan edited to drop a risk, or a change set that says something
        // else now, is refused.
        let described = match &s.change_set {
            None => Ok(None),
            Some(cs) => wait_for_change_set(
                clients.change_sets.as_ref(),
                &cs.stack_name,
                &cs.name,
                options.plan.poll,
            )
            .await
            .map(Some),
        };
        let changes = match described {
            Ok(None) => Vec::new(),
            Ok(Some(cs)) if cs.execution_status.as_deref() == Some("AVAILABLE") => cs.changes,
            Ok(Some(cs)) => {
                stale.push(format!(
                    "the change set of `{}` cannot be executed ({})",
                    s.stack,
                    cs.execution_status.as_deref().unwrap_or(&cs.status)
                ));
                continue;
            }
            Err(e) => {
                stale.push(format!("the change set of `{}`: {e}", s.stack));
                continue;
            }
        };
        let mut now = s.clone();
        now.template_changes =
            crate::plan::diff::diff_templates(deployed_template.as_ref(), &rendered.template);
        let deployed_info = info.as_ref().filter(|_| s.deployed.is_some());
        (now.termination_protection, now.stack_policy) =
            settings_changes(&clients, stack, deployed_info).await?;
        let risks = stack_risks(
            deployed_template.as_ref(),
            &rendered.template,
            &now,
            &changes,
        );
        if !same_risks(&risks, &s.risks) {
            stale.push(format!(
                "the risks of `{}` are not those in the saved plan (now: {}; saved: {})",
                s.stack,
                risk_list(&risks),
                risk_list(&s.risks)
            ));
        }
    }
    if !stale.is_empty() {
        return Err(Error::Refused(format!(
            "the saved plan is stale: {}; run `little plan --out` again",
            stale.join("; ")
        )));
    }
    Ok(saved.clone())
}

/// Whether `stack` is a deployed stack that the plan changes.
fn changed_in(plan: &Plan, stack: &str) -> bool {
    plan.stacks
        .iter()
        .any(|p| p.stack == stack && p.status == PlanStatus::Changed && p.deployed.is_some())
}

/// Whether two lists hold the same risks, in any order. What a resource holds (`holds`: its
/// image count, say) is what AWS said when the plan was made, not part of the risk: it is
/// left out of the comparison.
fn same_risks(a: &[Risk], b: &[Risk]) -> bool {
    let key = |rs: &[Risk]| {
        let mut v: Vec<String> = rs
            .iter()
            .map(|r| {
                let r = Risk {
                    holds: None,
                    ..r.clone()
                };
                serde_json::to_string(&r).unwrap_or_default()
            })
            .collect();
        v.sort();
        v
    };
    key(a) == key(b)
}

/// `destructive `Repo`, broadening `Role``, or `none`.
fn risk_list(risks: &[Risk]) -> String {
    if risks.is_empty() {
        return "none".into();
    }
    risks
        .iter()
        .map(|r| format!("{} `{}`", r.kind.word(), r.logical_id))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::risk::RiskKind;

    fn risk(id: &str, holds: Option<&str>) -> Risk {
        Risk {
            kind: RiskKind::Destructive,
            logical_id: id.into(),
            resource_type: "AWS::ECR::Repository".into(),
            reason: format!("removes ECR repository `{id}`"),
            added: Vec::new(),
            removed: Vec::new(),
            holds: holds.map(str::to_owned),
        }
    }

    #[test]
    fn risks_compare_without_what_the_resource_holds_now() {
        // Images pushed since the plan was saved do not make it stale.
        assert!(same_risks(
            &[risk("A", Some("`a` holds 2 images")), risk("B", None)],
            &[risk("B", None), risk("A", Some("`a` holds 3 images"))]
        ));
        assert!(!same_risks(&[risk("A", None)], &[risk("B", None)]));
        assert!(!same_risks(&[risk("A", None)], &[]));
    }
}
