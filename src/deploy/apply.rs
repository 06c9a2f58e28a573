//! `little apply`: plan (or read a saved plan), refuse what is not allowed, ask for approval,
//! then execute each stack's change set in dependency order (independent stacks concurrently),
//! re-planning a stack whose dependency outputs became known only now, and wait, streaming
//! events. A failure stops the stacks that depend on it, not the others. Whatever is not
//! executed is cleaned up: no change set, and no empty REVIEW_IN_PROGRESS stack, is left behind.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::options::{check_risks, ApplyOptions};
use super::outcome::{
    cause_lines, failure_guidance, result, wait_with_events, ApplyReport, Outcome, StackResult,
};
use super::saved::check_saved;
use super::schedule::{self, Scheduled, Step};
use super::{ask, Ui};
use crate::aws::cloudformation::{wait_for_stack, StackInfo, StackStatus};
use crate::aws::connect::{Clients, Connect};
use crate::aws::stack_ops::EventCursor;
use crate::context::clients_for;
use crate::context::state::sweep;
use crate::error::{Error, Result};
use crate::plan::model::{Plan, PlanStatus, StackPlan};
use crate::plan::run::{discard, plan, plan_stack};
use crate::project::{Project, StackKind};

/// Plans (or checks the saved plan), asks, executes. Refusals are `Error::Refused` (exit 3),
/// after every kept change set was cleaned up.
pub async fn apply(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    options: ApplyOptions,
    ui: Arc<dyn Ui>,
) -> Result<ApplyReport> {
    let interrupt = options.plan.interrupt.clone();
    let plan = match &options.saved {
        Some(saved) => check_saved(&project, connect.as_ref(), saved, &options).await?,
        None => {
            let mut plan_options = options.plan.clone();
            plan_options.keep_change_sets = true;
            plan_options.replace_failed = options.replace_failed;
            plan(project.clone(), connect.clone(), plan_options).await?
        }
    };
    ui.show_plan(&plan);
    let existing: Vec<String> = plan
        .stacks
        .iter()
        .flat_map(|s| {
            s.adoptable
                .iter()
                .map(move |a| format!("{}: adopt it with `little adopt {}`", a.summary, s.stack))
        })
        .collect();
    if !existing.is_empty() {
        release(&project, connect.as_ref(), &plan, &options).await;
        return Err(Error::Refused(format!(
            "resources this apply would create exist already, and creating them would fail: {}",
            existing.join("; ")
        )));
    }
    if plan.has_failures() {
        release(&project, connect.as_ref(), &plan, &options).await;
        return Err(Error::PlanFailed(
            plan.stacks
                .iter()
                .filter(|s| s.status == PlanStatus::Failed)
                .map(|s| s.stack.clone())
                .collect(),
        ));
    }
    if !plan.has_changes() {
        return Ok(ApplyReport {
            stacks: plan
                .stacks
                .iter()
                .map(|s| result(&s.stack, Outcome::Unchanged, None, 0.0))
                .collect(),
            interrupted: false,
            cleanup: None,
        });
    }
    if let Err(refusal) = check_risks(
        &plan
            .stacks
            .iter()
            .flat_map(|s| &s.risks)
            .collect::<Vec<_>>(),
        &options,
    ) {
        release(&project, connect.as_ref(), &plan, &options).await;
        return Err(refusal);
    }
    if !options.yes {
        if !ui.can_ask() {
            release(&project, connect.as_ref(), &plan, &options).await;
            return Err(Error::Refused(
                "there is no terminal to ask for approval; pass `--yes` to apply without asking"
                    .into(),
            ));
        }
        let n = plan.stacks.iter().filter(|s| s.has_changes()).count();
        let question = format!(
            "Apply these changes to {n} stack{}?",
            if n == 1 { "" } else { "s" }
        );
        let answer = tokio::select! {
            answer = ask(ui.clone(), question) => answer,
            _ = interrupt.raised() => {
                release(&project, connect.as_ref(), &plan, &options).await;
                return Err(Error::Interrupted(format!(
                    "not approved: nothing was applied; {}",
                    released(&options)
                )));
            }
        };
        let approved = match answer {
            Ok(a) => a,
            Err(e) => {
                release(&project, connect.as_ref(), &plan, &options).await;
                return Err(e);
            }
        };
        if !approved {
            release(&project, connect.as_ref(), &plan, &options).await;
            return Err(Error::Refused(format!(
                "not approved; {}",
                released(&options)
            )));
        }
    }
    if interrupt.is_raised() {
        release(&project, connect.as_ref(), &plan, &options).await;
        return Err(Error::Interrupted(format!(
            "nothing was applied; {}",
            released(&options)
        )));
    }
    execute(project, connect, plan, options, ui).await
}

/// What is not applied after all: this run's change sets are deleted (with the empty stacks
/// their CREATE change sets made); a saved plan's are its own run's, kept for a later
/// `apply --plan` (with the flag it lacked, say).
async fn release(project: &Project, connect: &dyn Connect, plan: &Plan, options: &ApplyOptions) {
    if options.saved.is_none() {
        for s in &plan.stacks {
            discard(project, connect, s).await;
        }
    }
}

/// What [`release`] did, for people.
fn released(options: &ApplyOptions) -> &'static str {
    if options.saved.is_none() {
        "the change sets of this plan were deleted"
    } else {
        "the saved plan's change sets are kept for `little apply --plan`"
    }
}

/// `--replace-failed`, once approved: deletes the failed stack that the plan showed, if it is
/// still that stack in `ROLLBACK_COMPLETE` (nothing left in it), and waits until it is gone.
async fn delete_failed(
    clients: &Clients,
    planned: &StackPlan,
    options: &ApplyOptions,
    ui: &dyn Ui,
) -> Result<()> {
    let name = &planned.stack;
    let Some(info) = clients.cfn.describe_stack(name).await? else {
        return Ok(());
    };
    if !info.is_rolled_back_creation() {
        return Err(Error::StackState {
            stack: name.clone(),
            status: info.status,
            guidance: "it was planned as a failed stack to replace (ROLLBACK_COMPLETE) and has changed since; plan again".into(),
        });
    }
    ui.progress(
        name,
        "deleting the failed stack (ROLLBACK_COMPLETE) to create it again",
    );
    clients.cfn.delete_stack(name).await?;
    if let Some(left) = wait_for_stack(clients.cfn.as_ref(), name, options.wait).await? {
        if left.state() != StackStatus::DeleteComplete {
            return Err(Error::StackState {
                stack: name.clone(),
                status: left.status,
                guidance: format!("it could not be deleted; see `little events {name}`"),
            });
        }
    }
    Ok(())
}

/// Executes the plan's change sets in dependency order.
async fn execute(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    plan: Plan,
    options: ApplyOptions,
    ui: Arc<dyn Ui>,
) -> Result<ApplyReport> {
    let plans: BTreeMap<String, StackPlan> = plan
        .stacks
        .iter()
        .map(|s| (s.stack.clone(), s.clone()))
        .collect();
    let order: Vec<String> = plan.stacks.iter().map(|s| s.stack.clone()).collect();
    let selected: BTreeSet<String> = order.iter().cloned().collect();
    // For each stack, its dependencies in this plan: applied first.
    let before: BTreeMap<String, Vec<String>> = order
        .iter()
        .map(|name| {
            let deps = project
                .dependencies_of(name)
                .into_iter()
                .filter(|d| selected.contains(d))
                .collect();
            (name.clone(), deps)
        })
        .collect();
    let succeeded = |r: &StackResult| {
        !matches!(
            r.outcome,
            Outcome::Failed | Outcome::Skipped | Outcome::Cancelled
        )
    };
    let step = |name: String, failed_dep: Option<String>| {
        let stack_plan = plans[&name].clone();
        let (project, connect, options, ui) = (
            project.clone(),
            connect.clone(),
            options.clone(),
            ui.clone(),
        );
        async move {
            if let Some(dep) = failed_dep {
                discard(&project, connect.as_ref(), &stack_plan).await;
                let mut r = result(&name, Outcome::Skipped, None, 0.0);
                r.guidance = Some(format!(
                    "not applied: `{dep}`, which it depends on, did not succeed"
                ));
                return Step::Done(r);
            }
            if !stack_plan.has_changes() {
                return Step::Done(result(&name, Outcome::Unchanged, None, 0.0));
            }
            Step::Run(Box::pin(async move {
                apply_stack(
                    &project,
                    connect.as_ref(),
                    stack_plan,
                    &options,
                    ui.as_ref(),
                )
                .await
            }))
        }
    };
    let Scheduled {
        mut results,
        started,
        interrupted,
    } = schedule::run(
        &order,
        &before,
        &schedule::cloudformation_limit(options.plan.concurrency),
        &options.plan.interrupt,
        succeeded,
        step,
    )
    .await;

    // Interrupted: stacks whose change sets were executed go on in CloudFormation; every change
    // set this run made and did not execute is deleted (the planned ones, and any made by a
    // re-plan that was cut short), with the empty new stacks they created.
    let mut unfinished: Vec<String> = Vec::new();
    for name in &order {
        if !results.contains_key(name) {
            unfinished.push(name.clone());
        }
    }
    let swept = if unfinished.is_empty() {
        None
    } else {
        Some(
            sweep(
                &project,
                connect.as_ref(),
                &unfinished,
                &options.plan.run_id,
            )
            .await,
        )
    };
    for name in &unfinished {
        let running_now = swept.as_ref().is_some_and(|s| {
            s.running
                .iter()
                .any(|r| r.starts_with(&format!("`{name}`")))
        });
        let mut r = result(name, Outcome::Cancelled, None, 0.0);
        r.guidance = Some(if running_now {
            format!(
                "stopped waiting; CloudFormation goes on with it: `little events {name} --follow`"
            )
        } else if started.contains(name) {
            "stopped before its change set was executed; nothing was changed".to_owned()
        } else {
            "not started; nothing was changed".to_owned()
        });
        results.insert(name.clone(), r);
    }
    Ok(ApplyReport {
        stacks: order.iter().filter_map(|n| results.remove(n)).collect(),
        interrupted,
        cleanup: swept.map(|s| s.describe()),
    })
}

/// Applies one stack: re-plans it if it was planned with placeholders, executes its change set,
/// waits, and explains the outcome.
async fn apply_stack(
    project: &Project,
    connect: &dyn Connect,
    planned: StackPlan,
    options: &ApplyOptions,
    ui: &dyn Ui,
) -> StackResult {
    let started = Instant::now();
    let name = planned.stack.clone();
    let failed = |message: String| {
        let mut r = result(
            &name,
            Outcome::Failed,
            None,
            started.elapsed().as_secs_f64(),
        );
        r.root_cause.push(message);
        r
    };
    let Some(stack) = project.stack(&planned.stack) else {
        return failed("the stack is no longer in the project".into());
    };
    if let StackKind::Set(set) = &stack.kind {
        return super::stackset::apply_stack_set(
            project, connect, stack, set, planned, options, ui,
        )
        .await;
    }
    let clients = match clients_for(project, connect, stack).await {
        Ok(c) => c,
        Err(e) => return failed(e.to_string()),
    };
    let mut current = planned.clone();
    if planned.replaces_failed.is_some() {
        if let Err(e) = delete_failed(&clients, &planned, options, ui).await {
            return failed(e.to_string());
        }
    }
    if !planned.known_after_apply.is_empty() || planned.replaces_failed.is_some() {
        // The plan rendered placeholders for outputs that exist now, or could make no change
        // set while the failed stack was there: plan this stack again.
        if !planned.known_after_apply.is_empty() {
            ui.progress(
                &name,
                &format!(
                    "planning again with the outputs now known ({})",
                    planned.known_after_apply.join(", ")
                ),
            );
        }
        discard(project, connect, &planned).await;
        let mut plan_options = options.plan.clone();
        plan_options.keep_change_sets = true;
        plan_options.replace_failed = false;
        current = match plan_stack(project, connect, stack, &plan_options).await {
            Ok(p) => p,
            Err(e) => return failed(e.to_string()),
        };
        if let Err(e) = check_risks(&current.risks.iter().collect::<Vec<_>>(), options) {
            discard(project, connect, &current).await;
            let mut r = result(
                &name,
                Outcome::Cancelled,
                None,
                started.elapsed().as_secs_f64(),
            );
            r.root_cause.push(e.to_string());
            return r;
        }
        if !current.has_changes() {
            return result(
                &name,
                Outcome::Unchanged,
                None,
                started.elapsed().as_secs_f64(),
            );
        }
    }
    let Some(change_set) = current.change_set.clone() else {
        // Planned as changed, but CloudFormation saw nothing to do in the template or
        // parameters: new stack tags (which a change set may not carry alone), termination
        // protection or the stack policy.
        let mut r = result(
            &name,
            Outcome::Updated,
            None,
            started.elapsed().as_secs_f64(),
        );
        if !current.tag_changes.is_empty() {
            if let Err(e) = update_tags(&clients, stack, &current, options, ui).await {
                r.outcome = Outcome::Failed;
                r.root_cause.push(e.to_string());
                return r;
            }
        }
        match settle_settings(&clients, stack, &current, None, ui).await {
            Ok(warnings) => r.warnings.extend(warnings),
            Err(e) => {
                r.outcome = Outcome::Failed;
                r.root_cause.push(e.to_string());
            }
        }
        return r;
    };

    // Only this operation's events are shown, without reading the stack's history first: a
    // stack that this run's change set created has none but its review's, passed over; an
    // update's begin with the stack's own UPDATE_IN_PROGRESS.
    let mut cursor = if current.deployed.is_none() && current.replaces_failed.is_none() {
        EventCursor::new_stack()
    } else if current.replaces_failed.is_none() {
        EventCursor::for_update()
    } else {
        let mut cursor = EventCursor::new(None);
        let _ = cursor.poll(clients.ops.as_ref(), &name).await;
        cursor
    };
    ui.progress(&name, "executing the change set");
    if let Err(e) = clients
        .change_sets
        .execute_change_set(&change_set.stack_name, &change_set.name)
        .await
    {
        discard(project, connect, &current).await;
        return failed(e.to_string());
    }
    // Change sets carry no timeout: a stack's `timeout_in_minutes` bounds the wait instead.
    let mut wait = options.wait;
    if let Some(minutes) = stack.timeout_in_minutes {
        wait.timeout = Duration::from_secs(u64::from(minutes) * 60);
    }
    let (info, events) = match wait_with_events(&clients, &name, &mut cursor, wait, ui).await {
        Ok(x) => x,
        Err(e) => return failed(e.to_string()),
    };
    let secs = started.elapsed().as_secs_f64();
    let status = info.as_ref().map(|i| i.status.clone());
    let mut r = match status.as_deref().map(StackStatus::of) {
        Some(StackStatus::CreateComplete) => result(&name, Outcome::Created, status.clone(), secs),
        Some(StackStatus::UpdateComplete | StackStatus::ImportComplete) => {
            result(&name, Outcome::Updated, status.clone(), secs)
        }
        _ => {
            let mut r = result(&name, Outcome::Failed, status.clone(), secs);
            r.root_cause = cause_lines(&events);
            if r.root_cause.is_empty() {
                if let Some(reason) = info.as_ref().and_then(|i| i.status_reason.clone()) {
                    r.root_cause.push(reason);
                }
            }
            r.guidance = Some(failure_guidance(&name, status.as_deref(), &events));
            return r;
        }
    };
    r.changes = current.resource_changes.len();
    match settle_settings(&clients, stack, &current, info, ui).await {
        Ok(warnings) => r.warnings.extend(warnings),
        Err(e) => {
            // The template is deployed; a setting that was planned is not: the stack is not as
            // planned, so the run must not look green.
            r.outcome = Outcome::Failed;
            r.root_cause.push(e.to_string());
            r.guidance = Some(format!(
                "the template was deployed, but a planned setting was not applied; run `little apply {name}` again"
            ));
        }
    }
    r
}

/// New stack tags alone: UpdateStack with the deployed template and parameters, then the wait.
async fn update_tags(
    clients: &Clients,
    stack: &crate::project::Stack,
    planned: &StackPlan,
    options: &ApplyOptions,
    ui: &dyn Ui,
) -> Result<()> {
    let Some(info) = clients.cfn.describe_stack(&stack.name).await? else {
        return Err(Error::StackState {
            stack: stack.name.clone(),
            status: "gone".into(),
            guidance: "it was deleted since the plan; plan again".into(),
        });
    };
    let mut tags: BTreeMap<String, String> = info.tags.iter().cloned().collect();
    for c in &planned.tag_changes {
        match &c.after {
            Some(v) => tags.insert(c.key.clone(), v.clone()),
            None => tags.remove(&c.key),
        };
    }
    let mut cursor = EventCursor::for_update();
    ui.progress(&stack.name, "updating the stack's tags");
    clients
        .ops
        .update_tags(&crate::aws::stack_ops::TagUpdate {
            stack: stack.name.clone(),
            parameter_keys: info.parameters.iter().map(|(k, _)| k.clone()).collect(),
            tags: tags.into_iter().collect(),
            capabilities: info.capabilities.clone(),
            role_arn: stack.role_arn.clone(),
        })
        .await?;
    let (after, events) =
        wait_with_events(clients, &stack.name, &mut cursor, options.wait, ui).await?;
    match after.as_ref().map(StackInfo::state) {
        Some(StackStatus::UpdateComplete) => Ok(()),
        _ => {
            let status = after.as_ref().map(|i| i.status.as_str());
            let mut causes = cause_lines(&events);
            if causes.is_empty() {
                causes.push(format!(
                    "the stack ended in {}",
                    status.unwrap_or("nothing")
                ));
            }
            Err(Error::StackState {
                stack: stack.name.clone(),
                status: status.unwrap_or("gone").to_owned(),
                guidance: format!("its tags could not be updated: {}", causes.join("; ")),
            })
        }
    }
}

/// After a successful deployment: termination protection and the stack policy, which change
/// sets do not carry, as planned. Failing to set a planned setting is an error (the stack is
/// not as planned); on an endpoint that does not implement UpdateTerminationProtection, a
/// warning. `known` is the stack as the wait read it last, if it did (no second read).
async fn settle_settings(
    clients: &Clients,
    stack: &crate::project::Stack,
    planned: &StackPlan,
    known: Option<StackInfo>,
    ui: &dyn Ui,
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let info = match known {
        Some(info) => Some(info),
        None => clients.cfn.describe_stack(&stack.name).await?,
    };
    if let Some(info) = info.filter(|i| i.termination_protection != stack.termination_protection) {
        let word = if stack.termination_protection {
            "enabl"
        } else {
            "disabl"
        };
        ui.progress(&stack.name, &format!("{word}ing termination protection"));
        if let Err(e) = clients
            .ops
            .set_termination_protection(&stack.name, stack.termination_protection)
            .await
        {
            let unimplemented = e.to_string().contains("may not implement this call");
            if !unimplemented || planned.termination_protection.is_some() {
                return Err(Error::Aws {
                    operation: "cloudformation:UpdateTerminationProtection".into(),
                    message: format!(
                        "termination protection of `{}` could not be {word}ed: {e}",
                        info.name
                    ),
                });
            }
            warnings.push(format!("termination protection could not be {word}ed: {e}"));
        }
    }
    if let (Some(change), Some(policy)) = (&planned.stack_policy, &stack.stack_policy) {
        ui.progress(
            &stack.name,
            if change.before.is_none() {
                "setting the stack policy"
            } else {
                "updating the stack policy"
            },
        );
        clients.ops.set_stack_policy(&stack.name, policy).await?;
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::stack_ops::StackEvent;
    use crate::testing::fake_aws::{change_set, project, FakeAws, FakeConnect};

    pub use crate::testing::ui::TestUi;

    fn options(yes: bool) -> ApplyOptions {
        crate::testing::ui::apply_options(yes)
    }

    fn event(id: u32, logical: &str, ty: &str, status: &str, reason: Option<&str>) -> StackEvent {
        StackEvent {
            id: format!("{logical}-{status}-2026-11-23T07:31:{id:02}.000Z"),
            timestamp: format!("2026-11-23T07:31:{id:02}.000Z"),
            logical_id: logical.into(),
            physical_id: None,
            resource_type: ty.into(),
            status: status.into(),
            reason: reason.map(str::to_owned),
        }
    }

    const QUEUE: &str = "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}";

    #[tokio::test]
    async fn waits_across_polls_and_shows_each_event_once_in_order() {
        let (_d, project) = project(&[
            ("stacks/q.yaml", "name: q\ntemplate: q.json.njk\n"),
            ("templates/q.json.njk", QUEUE),
        ]);
        let aws = FakeAws::new();
        aws.answer_change_set("q", change_set(&[("Add", "Q", "AWS::SQS::Queue")]));
        aws.in_progress_polls.lock().unwrap().insert("q".into(), 3);
        aws.arriving.lock().unwrap().insert(
            "q".into(),
            vec![
                event(
                    1,
                    "q",
                    "AWS::CloudFormation::Stack",
                    "CREATE_IN_PROGRESS",
                    Some("User Initiated"),
                ),
                event(2, "Q", "AWS::SQS::Queue", "CREATE_IN_PROGRESS", None),
                event(3, "Q", "AWS::SQS::Queue", "CREATE_COMPLETE", None),
                event(
                    4,
                    "q",
                    "AWS::CloudFormation::Stack",
                    "CREATE_COMPLETE",
                    None,
                ),
            ],
        );
        let ui = Arc::new(TestUi::default());
        let report = apply(
            project,
            Arc::new(FakeConnect(aws.clone())),
            options(true),
            ui.clone(),
        )
        .await
        .unwrap();
        assert_eq!(report.stacks[0].outcome, Outcome::Created);
        assert_eq!(report.stacks[0].status.as_deref(), Some("CREATE_COMPLETE"));
        assert_eq!(report.stacks[0].changes, 1);
        assert_eq!(
            *ui.events.lock().unwrap(),
            [
                "q q CREATE_IN_PROGRESS",
                "q Q CREATE_IN_PROGRESS",
                "q Q CREATE_COMPLETE",
                "q q CREATE_COMPLETE"
            ]
        );
        assert!(!report.failed());
    }

    #[tokio::test]
    async fn a_failed_create_names_its_root_cause_and_the_way_out() {
        let (_d, project) = project(&[
            ("stacks/q.yaml", "name: q\ntemplate: q.json.njk\n"),
            ("templates/q.json.njk", QUEUE),
        ]);
        let aws = FakeAws::new();
        aws.answer_change_set("q", change_set(&[("Add", "Q", "AWS::SQS::Queue")]));
        aws.in_progress_polls.lock().unwrap().insert("q".into(), 1);
        aws.outcome
            .lock()
            .unwrap()
            .insert("q".into(), "ROLLBACK_COMPLETE".into());
        aws.arriving.lock().unwrap().insert(
            "q".into(),
            vec![
                event(1, "q", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", Some("User Initiated")),
                event(2, "Q", "AWS::SQS::Queue", "CREATE_FAILED", Some("Resource handler returned message: \"Queue name is invalid\" (HandlerErrorCode: InvalidRequest)")),
                event(3, "q", "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS", Some("The following resource(s) failed to create: [Q]. Rollback requested by user.")),
                event(4, "q", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", None),
            ],
        );
        let ui = Arc::new(TestUi::default());
        let report = apply(project, Arc::new(FakeConnect(aws)), options(true), ui)
            .await
            .unwrap();
        let r = &report.stacks[0];
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(r.status.as_deref(), Some("ROLLBACK_COMPLETE"));
        assert_eq!(r.root_cause.len(), 1, "{:?}", r.root_cause);
        assert!(r.root_cause[0].starts_with("Q (AWS::SQS::Queue) CREATE_FAILED: Resource handler returned message: \"Queue name is invalid\""));
        assert!(r.guidance.as_deref().unwrap().contains("--replace-failed"));
        assert!(report.failed());
    }

    #[tokio::test]
    async fn a_failure_stops_dependents_but_not_unrelated_stacks() {
        let (_d, project) = project(&[
            ("stacks/a.yaml", "name: a\ntemplate: q.json.njk\n"),
            (
                "stacks/b.yaml",
                "name: b\ntemplate: q.json.njk\ndepends_on: [a]\n",
            ),
            ("stacks/c.yaml", "name: c\ntemplate: q.json.njk\n"),
            ("templates/q.json.njk", QUEUE),
        ]);
        let aws = FakeAws::new();
        for s in ["a", "b", "c"] {
            aws.answer_change_set(s, change_set(&[("Add", "Q", "AWS::SQS::Queue")]));
        }
        aws.outcome
            .lock()
            .unwrap()
            .insert("a".into(), "ROLLBACK_COMPLETE".into());
        let report = apply(
            project,
            Arc::new(FakeConnect(aws.clone())),
            options(true),
            Arc::new(TestUi::default()),
        )
        .await
        .unwrap();
        let outcomes: Vec<(&str, Outcome)> = report
            .stacks
            .iter()
            .map(|r| (r.stack.as_str(), r.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("a", Outcome::Failed),
                ("b", Outcome::Skipped),
                ("c", Outcome::Created)
            ]
        );
        // b's change set was cleaned up, with the empty stack its CREATE change set made.
        assert!(
            aws.calls().contains(&"DeleteStack b".to_owned()),
            "{:?}",
            aws.calls()
        );
        assert!(!aws.calls().contains(&"ExecuteChangeSet b".to_owned()));
    }

    #[tokio::test]
    async fn update_rollback_failed_says_how_to_continue() {
        let events = vec![event(
            5,
            "s",
            "AWS::CloudFormation::Stack",
            "UPDATE_ROLLBACK_FAILED",
            None,
        )];
        let g = failure_guidance("s", Some("UPDATE_ROLLBACK_FAILED"), &events);
        assert!(g.contains("continue-update-rollback --stack-name s"), "{g}");
    }

    #[tokio::test]
    async fn destructive_changes_are_refused_without_the_flag_and_cleaned_up() {
        let (_d, project) = project(&[
            ("stacks/r.yaml", "name: r\ntemplate: r.json.njk\n"),
            ("templates/r.json.njk", "{\"Resources\": {\"Repo\": {\"Type\": \"AWS::ECR::Repository\", \"DeletionPolicy\": \"Retain\", \"UpdateReplacePolicy\": \"Retain\", \"Properties\": {\"RepositoryName\": \"team/new\"}}}}"),
        ]);
        let aws = FakeAws::new();
        aws.deploy(
            "r",
            "{\"Resources\": {\"Repo\": {\"Type\": \"AWS::ECR::Repository\", \"DeletionPolicy\": \"Retain\", \"UpdateReplacePolicy\": \"Retain\", \"Properties\": {\"RepositoryName\": \"team/old\"}}}}",
            &[],
            &[],
        );
        aws.answer_change_set(
            "r",
            change_set(&[("Modify", "Repo", "AWS::ECR::Repository")]),
        );
        let err = apply(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            options(true),
            Arc::new(TestUi::default()),
        )
        .await
        .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::REFUSED);
        assert!(err.to_string().contains("--allow-destructive"), "{err}");
        assert!(aws.calls().contains(&"DeleteChangeSet r".to_owned()));
        assert!(!aws
            .calls()
            .iter()
            .any(|c| c.starts_with("ExecuteChangeSet")));
        // Allowed, it goes through.
        let mut allowed = options(true);
        allowed.allow_destructive = true;
        let report = apply(
            project,
            Arc::new(FakeConnect(aws)),
            allowed,
            Arc::new(TestUi::default()),
        )
        .await
        .unwrap();
        assert_eq!(report.stacks[0].outcome, Outcome::Updated);
    }

    #[tokio::test]
    async fn declining_deletes_the_change_set_and_the_empty_new_stack() {
        let (_d, project) = project(&[
            ("stacks/q.yaml", "name: q\ntemplate: q.json.njk\n"),
            ("templates/q.json.njk", QUEUE),
        ]);
        let aws = FakeAws::new();
        aws.answer_change_set("q", change_set(&[("Add", "Q", "AWS::SQS::Queue")]));
        let ui = Arc::new(TestUi {
            terminal: true,
            answer: false,
            ..Default::default()
        });
        let err = apply(
            project,
            Arc::new(FakeConnect(aws.clone())),
            options(false),
            ui.clone(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::REFUSED);
        assert_eq!(
            *ui.asked.lock().unwrap(),
            ["Apply these changes to 1 stack?"]
        );
        let calls = aws.calls();
        assert!(calls.contains(&"DeleteChangeSet q".to_owned()), "{calls:?}");
        assert!(calls.contains(&"DeleteStack q".to_owned()), "{calls:?}");
        assert!(aws.stacks.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn without_a_terminal_and_without_yes_it_refuses() {
        let (_d, project) = project(&[
            ("stacks/q.yaml", "name: q\ntemplate: q.json.njk\n"),
            ("templates/q.json.njk", QUEUE),
        ]);
        let aws = FakeAws::new();
        aws.answer_change_set("q", change_set(&[("Add", "Q", "AWS::SQS::Queue")]));
        let err = apply(
            project,
            Arc::new(FakeConnect(aws.clone())),
            options(false),
            Arc::new(TestUi::default()),
        )
        .await
        .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::REFUSED);
        assert!(err.to_string().contains("--yes"));
        assert!(aws.stacks.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_dependent_of_a_changed_output_is_planned_again_and_left_alone_if_the_same() {
        let producer = |delay: u32| {
            format!("{{\"Resources\": {{\"Q\": {{\"Type\": \"AWS::SQS::Queue\", \"Properties\": {{\"DelaySeconds\": {delay}}}}}}}, \"Outputs\": {{\"Arn\": {{\"Value\": {{\"Fn::GetAtt\": [\"Q\", \"Arn\"]}}}}}}}}")
        };
        let consumer = "{\"Parameters\": {\"Arn\": {\"Type\": \"String\"}}, \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}";
        let new_producer = producer(5);
        let (_d, project) = project(&[
            ("stacks/q.yaml", "name: q\ntemplate: q.json.njk\n"),
            ("stacks/app.yaml", "name: app\ntemplate: app.json.njk\nparameters:\n  Arn: \"{{ stack_output('q', 'Arn') }}\"\n"),
            ("templates/q.json.njk", &new_producer),
            ("templates/app.json.njk", consumer),
        ]);
        let arn = "arn:aws:sqs:us-east-1:123456789012:q";
        let aws = FakeAws::new();
        aws.deploy("q", &producer(0), &[], &[("Arn", arn)]);
        aws.deploy("app", consumer, &[("Arn", arn)], &[]);
        aws.answer_change_set("q", change_set(&[("Modify", "Q", "AWS::SQS::Queue")]));
        let ui = Arc::new(TestUi::default());
        let report = apply(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            options(true),
            ui.clone(),
        )
        .await
        .unwrap();
        let outcomes: Vec<(&str, Outcome)> = report
            .stacks
            .iter()
            .map(|r| (r.stack.as_str(), r.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [("q", Outcome::Updated), ("app", Outcome::Unchanged)]
        );
        assert!(ui
            .lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("app: planning again with the outputs now known (q.Arn)")));
        // app's output turned out the same: no change set was made for it, before or after.
        let calls = aws.calls();
        assert!(
            !calls.iter().any(|c| c.starts_with("CreateChangeSet app")),
            "{calls:?}"
        );
        assert!(calls.iter().any(|c| c.starts_with("CreateChangeSet q")));

        // Saved, the plan is accepted as it is: app is planned again once q is applied.
        let connect = Arc::new(FakeConnect(aws.clone()));
        let mut o = options(true).plan;
        o.keep_change_sets = true;
        let plan = crate::plan::run::plan(project.clone(), connect.clone(), o)
            .await
            .unwrap();
        assert_eq!(plan.stacks[1].known_after_apply, ["q.Arn"]);
        let mut saved = options(true);
        saved.saved = Some(plan);
        let report = apply(project, connect, saved, Arc::new(TestUi::default()))
            .await
            .unwrap();
        let outcomes: Vec<(&str, Outcome)> = report
            .stacks
            .iter()
            .map(|r| (r.stack.as_str(), r.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [("q", Outcome::Updated), ("app", Outcome::Unchanged)]
        );
    }

    #[tokio::test]
    async fn dependents_are_planned_again_with_fresh_outputs() {
        let (_d, project) = project(&[
            ("stacks/iam.yaml", "name: iam\ntemplate: q.json.njk\n"),
            ("stacks/app.yaml", "name: app\ntemplate: p.json.njk\nparameters:\n  Role: \"{{ stack_output('iam', 'Arn') }}\"\n"),
            ("templates/q.json.njk", QUEUE),
            ("templates/p.json.njk", "{\"Parameters\": {\"Role\": {\"Type\": \"String\"}}, \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}"),
        ]);
        let aws = FakeAws::new();
        for s in ["iam", "app"] {
            aws.answer_change_set(s, change_set(&[("Add", "Q", "AWS::SQS::Queue")]));
        }
        // When iam is executed its output appears (the fake keeps what `deploy` set).
        let report =
            {
                let aws2 = aws.clone();
                let ui = Arc::new(TestUi::default());
                // Pre-create iam's outputs as they will be after its creation.
                tokio::spawn(async {}).await.unwrap();
                let r = apply(
                    project,
                    Arc::new(FakeConnect(aws2)),
                    options(true),
                    ui.clone(),
                )
                .await
                .unwrap();
                assert!(ui.lines.lock().unwrap().iter().any(
                    |l| l.contains("app: planning again with the outputs now known (iam.Arn)")
                ));
                r
            };
        // iam was created; app was planned again, and failed only because the fake's iam
        // has no `Arn` output: the error names it.
        assert_eq!(report.stacks[0].outcome, Outcome::Created);
        assert_eq!(report.stacks[1].outcome, Outcome::Failed);
        assert!(
            report.stacks[1].root_cause[0].contains("has no output `Arn`"),
            "{:?}",
            report.stacks[1]
        );
    }
}
