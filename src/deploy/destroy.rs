//! `little destroy`: deletes stacks, dependents first, after showing which resources each one
//! deletes and which it retains, and after one approval for the whole run.
//!
//! Nothing is lost without a flag: it refuses (before deleting anything) while termination
//! protection is on, unless allowed; while a deployed stack that is not being destroyed in the
//! same run uses a target, through `stack_output()`, `depends_on` or an import of one of its
//! exports; and without a terminal to ask on and without `--yes`. Independent stacks are
//! deleted concurrently (bounded); a stack that fails to delete keeps the stacks it depends on.
//! Termination protection turned off for a deletion that then does not happen is turned back
//! on. StackSet stacks go through [`super::stackset`]. Not here: what is shown and how
//! (through [`Ui`] and `report::apply`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::outcome::{cause_lines, result, wait_with_events, Outcome, Preview, StackResult};
use super::schedule::{self, Scheduled, Step};
use super::Ui;
use crate::aws::cloudformation::{Import, StackStatus};
use crate::aws::connect::{Clients, Connect};
use crate::aws::stack_ops::EventCursor;
use crate::context::clients_for;
use crate::context::state::parse_deployed;
use crate::error::{Error, Result};
use crate::poll::Poll;
use crate::project::{Project, Stack, StackKind};
use in_use::{how_it_uses, in_use_refusal, Deployed, User};

mod in_use;

#[derive(Clone)]
pub struct DestroyOptions {
    /// The stacks named (ignored with `all`).
    pub stacks: Vec<String>,
    /// Every stack of the project.
    pub all: bool,
    /// Approve without asking.
    pub yes: bool,
    pub disable_termination_protection: bool,
    /// How many independent stacks are deleted at once.
    pub concurrency: usize,
    pub wait: Poll,
    /// Ctrl-C or SIGTERM: at the prompt nothing is deleted; while deleting, no further stack
    /// is started and the ones being deleted go on in CloudFormation.
    pub interrupt: crate::interrupt::Interrupt,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestroyReport {
    /// What each deployed stack selected would lose, in the order of deletion.
    pub previews: Vec<Preview>,
    /// What happened to each, in the same order.
    pub stacks: Vec<StackResult>,
    /// Ctrl-C stopped the run.
    #[serde(default)]
    pub interrupted: bool,
}

impl DestroyReport {
    /// Whether a stack selected is still there: failed, skipped, cancelled or interrupted.
    pub fn failed(&self) -> bool {
        self.interrupted || self.stacks.iter().any(|s| s.outcome != Outcome::Deleted)
    }

    /// Ok when there was nothing to delete; else interrupted, failed, or ok.
    pub fn verdict(&self) -> crate::error::Verdict {
        use crate::error::Verdict;
        if self.stacks.is_empty() {
            Verdict::Ok
        } else if self.interrupted {
            Verdict::Interrupted
        } else if self.failed() {
            Verdict::Failed
        } else {
            Verdict::Ok
        }
    }
}

/// Deletes the stacks selected, dependents first. Refusals are `Error::Refused` (exit 3), made
/// before anything is deleted.
pub async fn destroy(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    options: DestroyOptions,
    ui: Arc<dyn Ui>,
) -> Result<DestroyReport> {
    let selected = project.select(&options.stacks, options.all)?;
    // Dependencies first, reversed: dependents first.
    let order: Vec<&Stack> = selected.into_iter().rev().collect();
    let mut deployed = Deployed::default();
    let survey = survey(
        &project,
        connect.as_ref(),
        &order,
        &mut deployed,
        ui.as_ref(),
    )
    .await?;
    for p in &survey.previews {
        ui.message(&preview_text(p));
    }
    refuse(
        &project,
        connect.as_ref(),
        &order,
        &survey,
        &options,
        &mut deployed,
    )
    .await?;
    if survey.previews.is_empty() {
        return Ok(DestroyReport {
            previews: survey.previews,
            stacks: Vec::new(),
            interrupted: false,
        });
    }
    confirm(&survey.previews, &options, &ui).await?;
    let (stacks, interrupted) = delete_all(
        project,
        connect,
        &survey.previews,
        &survey.importers_in_run,
        &options,
        ui,
    )
    .await;
    Ok(DestroyReport {
        previews: survey.previews,
        stacks,
        interrupted,
    })
}

/// What the stacks to destroy hold and who uses them, before anything is deleted.
struct Survey {
    /// What each deployed stack would lose, in the order of deletion.
    previews: Vec<Preview>,
    /// Stacks being destroyed that import each target's exports: deleted before it.
    importers_in_run: BTreeMap<String, BTreeSet<String>>,
    /// Deployed stacks outside the run that use a target.
    users_outside: BTreeMap<String, Vec<User>>,
}

/// A deployed stack's preview and the imports of its exports.
type Previewed = (Preview, Vec<Import>);

/// Previews each deployed stack of `order` and finds who uses it: the stacks of the run that
/// import its exports, and the deployed stacks outside the run that use it.
async fn survey(
    project: &Project,
    connect: &dyn Connect,
    order: &[&Stack],
    deployed: &mut Deployed,
    ui: &dyn Ui,
) -> Result<Survey> {
    let targets: BTreeSet<&str> = order.iter().map(|s| s.name.as_str()).collect();
    let mut survey = Survey {
        previews: Vec::new(),
        importers_in_run: BTreeMap::new(),
        users_outside: BTreeMap::new(),
    };
    // The previews are read at once (fewer while CloudFormation throttles), then looked at
    // in order.
    let limit = super::schedule::cloudformation_limit(super::schedule::SURVEY_CONCURRENCY);
    let reads: Vec<crate::parallel::Pending<'_, Result<Option<Previewed>>>> = order
        .iter()
        .map(
            |stack| -> crate::parallel::Pending<'_, Result<Option<Previewed>>> {
                Box::pin(async move {
                    let clients = clients_for(project, connect, stack).await?;
                    if stack.kind.is_set() {
                        Ok(super::stackset::destroy_preview(&clients, stack)
                            .await?
                            .map(|p| (p, Vec::new())))
                    } else {
                        stack_preview(&clients, stack).await
                    }
                })
            },
        )
        .collect();
    let throttled = |r: &Result<Option<Previewed>>| {
        r.as_ref()
            .is_err_and(|e| crate::aws::calls::is_throttling_message(&e.to_string()))
    };
    let previews = crate::parallel::adaptive(reads, &limit, &throttled).await;
    for (stack, read) in order.iter().zip(previews) {
        let Some((preview, imports)) = read? else {
            ui.progress(&stack.name, "not deployed; nothing to delete");
            continue;
        };
        let mut users = Vec::new();
        for dependent in project.graph.dependents(&stack.name) {
            if targets.contains(dependent) {
                continue;
            }
            let Some(d) = project.stack(dependent) else {
                continue;
            };
            if deployed.check(project, connect, d).await? {
                users.push(User {
                    name: d.name.clone(),
                    how: how_it_uses(d, &stack.name),
                    in_project: true,
                });
            }
        }
        for Import { export, importer } in imports {
            if targets.contains(importer.as_str()) {
                survey
                    .importers_in_run
                    .entry(stack.name.clone())
                    .or_default()
                    .insert(importer);
                continue;
            }
            let how = format!("import of export `{export}`");
            match users.iter_mut().find(|u| u.name == importer) {
                Some(u) => u.how.push(how),
                None => users.push(User {
                    in_project: project.stack(&importer).is_some(),
                    name: importer,
                    how: vec![how],
                }),
            }
        }
        if !users.is_empty() {
            survey.users_outside.insert(stack.name.clone(), users);
        }
        survey.previews.push(preview);
    }
    Ok(survey)
}

/// Refuses, before anything is deleted, a run that would delete a stack still used outside
/// it, or one with termination protection that the flag does not allow to turn off.
async fn refuse(
    project: &Project,
    connect: &dyn Connect,
    order: &[&Stack],
    survey: &Survey,
    options: &DestroyOptions,
    deployed: &mut Deployed,
) -> Result<()> {
    let mut refusals: Vec<String> = survey
        .previews
        .iter()
        .filter(|p| p.termination_protection && !options.disable_termination_protection)
        .map(|p| {
            format!(
                "`{}` has termination protection; pass `--disable-termination-protection` to turn it off and delete",
                p.stack
            )
        })
        .collect();
    if !survey.users_outside.is_empty() {
        refusals.insert(
            0,
            in_use_refusal(project, connect, order, &survey.users_outside, deployed).await?,
        );
    }
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused(format!(
            "{}; nothing was deleted",
            refusals.join("; ")
        )))
    }
}

/// The one approval of the run: `--yes`, or a yes at the terminal; an interrupt at the
/// question deletes nothing.
async fn confirm(previews: &[Preview], options: &DestroyOptions, ui: &Arc<dyn Ui>) -> Result<()> {
    if options.yes {
        return Ok(());
    }
    if !ui.can_ask() {
        return Err(Error::Refused(
            "there is no terminal to ask for approval; pass `--yes` to delete without asking"
                .into(),
        ));
    }
    let names: Vec<String> = previews.iter().map(|p| format!("`{}`", p.stack)).collect();
    let question = if names.len() == 1 {
        format!("Delete {}?", names[0])
    } else {
        format!(
            "Delete these {} stacks, in this order: {}?",
            names.len(),
            names.join(", ")
        )
    };
    let answer = tokio::select! {
        answer = super::ask(ui.clone(), question) => answer?,
        _ = options.interrupt.raised() => {
            return Err(Error::Interrupted("not approved: nothing was deleted".into()));
        }
    };
    if !answer {
        return Err(Error::Refused("not approved; nothing was deleted".into()));
    }
    Ok(())
}

/// What deleting a deployed stack would do, and the imports of its exports; None when it is
/// not deployed.
async fn stack_preview(clients: &Clients, stack: &Stack) -> Result<Option<Previewed>> {
    let Some(info) = clients.cfn.describe_stack(&stack.name).await? else {
        return Ok(None);
    };
    // The template, the imports and the resources, read at once. Without the template, every
    // resource is shown as deleted: never fewer than the truth. The stack's exports are its
    // outputs' export names: no ListExports of the whole region.
    let exports = info.export_names();
    let (template, imports, resources) = tokio::join!(
        clients.cfn.get_template(&stack.name),
        clients.cfn.imports_of_exports(&exports),
        clients.ops.resources(&stack.name),
    );
    let template = template.unwrap_or_default();
    let policies = deletion_policies(&template);
    let imports = imports?;
    let mut importers: Vec<String> = imports.iter().map(|i| i.importer.clone()).collect();
    importers.sort();
    importers.dedup();
    let mut preview = Preview {
        stack: stack.name.clone(),
        status: info.status.clone(),
        deleted: Vec::new(),
        retained: Vec::new(),
        termination_protection: info.termination_protection,
        importers,
    };
    for r in resources? {
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
    Ok(Some((preview, imports)))
}

/// Deletes the previewed stacks: a stack once every stack being destroyed that depends on it
/// (or imports its exports) is gone, up to `concurrency` at once. A stack whose dependent was
/// not deleted is skipped. Ctrl-C stops waiting; what was not started is cancelled.
async fn delete_all(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    previews: &[Preview],
    importers_in_run: &BTreeMap<String, BTreeSet<String>>,
    options: &DestroyOptions,
    ui: Arc<dyn Ui>,
) -> (Vec<StackResult>, bool) {
    let order: Vec<String> = previews.iter().map(|p| p.stack.clone()).collect();
    let in_run: BTreeSet<&str> = order.iter().map(String::as_str).collect();
    // For each stack, the stacks of this run that must be gone first.
    let first: BTreeMap<String, Vec<String>> = order
        .iter()
        .map(|name| {
            let mut before: Vec<String> = project
                .graph
                .dependents(name)
                .into_iter()
                .filter(|d| in_run.contains(d) && d != name)
                .map(str::to_owned)
                .collect();
            for i in importers_in_run.get(name).into_iter().flatten() {
                if in_run.contains(i.as_str()) && !before.contains(i) {
                    before.push(i.clone());
                }
            }
            (name.clone(), before)
        })
        .collect();
    let protection_off: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let previews_by_name: BTreeMap<&str, &Preview> =
        previews.iter().map(|p| (p.stack.as_str(), p)).collect();
    let step = |name: String, kept: Option<String>| {
        let (project, connect, ui, off) = (
            project.clone(),
            connect.clone(),
            ui.clone(),
            protection_off.clone(),
        );
        let preview = previews_by_name.get(name.as_str()).map(|p| (*p).clone());
        let wait = options.wait;
        async move {
            if let Some(dependent) = kept {
                let mut r = result(&name, Outcome::Skipped, None, 0.0);
                r.guidance = Some(format!(
                    "not deleted: `{dependent}`, which depends on it, was not deleted"
                ));
                ui.progress(&name, &format!("skipped: `{dependent}` was not deleted"));
                return Step::Done(r);
            }
            let Some(preview) = preview else {
                let mut r = result(&name, Outcome::Failed, None, 0.0);
                r.root_cause.push("no preview of the stack".into());
                return Step::Done(r);
            };
            Step::Run(Box::pin(async move {
                delete_one(
                    &project,
                    connect.as_ref(),
                    &preview,
                    wait,
                    ui.as_ref(),
                    &off,
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
        &first,
        &schedule::cloudformation_limit(options.concurrency),
        &options.interrupt,
        |r| r.outcome == Outcome::Deleted,
        step,
    )
    .await;
    // Stacks whose protection was turned off and that are not known to be gone.
    let left: Vec<String> = protection_off
        .lock()
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    for name in &order {
        if results.contains_key(name) {
            continue;
        }
        let mut r = result(name, Outcome::Cancelled, None, 0.0);
        if started.contains(name) {
            r.guidance = Some(format!(
                "stopped waiting; CloudFormation goes on with it: `little events {name} --follow`"
            ));
        } else if interrupted {
            r.guidance = Some("not deleted: interrupted before it started".into());
        } else {
            // Only a stack that imports from a stack it depends on can get here.
            r.guidance = Some(
                "not deleted: the stacks to delete before it (dependents, importers of its exports) wait for each other"
                    .into(),
            );
        }
        if left.contains(name) {
            if let Some(stack) = project.stack(name) {
                match clients_for(&project, connect.as_ref(), stack).await {
                    Ok(clients) => r
                        .warnings
                        .extend(restore_protection(&clients, name, ui.as_ref()).await),
                    Err(e) => r.warnings.push(protection_left_off(
                        name,
                        None,
                        &e.to_string(),
                        ui.as_ref(),
                    )),
                }
            }
        }
        results.insert(name.clone(), r);
    }
    (
        order.iter().filter_map(|n| results.remove(n)).collect(),
        interrupted,
    )
}

/// Deletes one stack and waits: turns termination protection off first when it is on (the
/// run was allowed to), and back on when the deletion then does not happen.
async fn delete_one(
    project: &Project,
    connect: &dyn Connect,
    preview: &Preview,
    wait: Poll,
    ui: &dyn Ui,
    protection_off: &Mutex<BTreeSet<String>>,
) -> StackResult {
    let started = Instant::now();
    let name = preview.stack.as_str();
    let failed = |cause: String| {
        let mut r = result(name, Outcome::Failed, None, started.elapsed().as_secs_f64());
        r.root_cause.push(cause);
        r.guidance = Some(format!(
            "fix the cause and run `little destroy {name}` again"
        ));
        r
    };
    let Some(stack) = project.stack(name) else {
        return failed("the stack is no longer in the project".into());
    };
    let clients = match clients_for(project, connect, stack).await {
        Ok(c) => c,
        Err(e) => return failed(e.to_string()),
    };
    if let StackKind::Set(set) = &stack.kind {
        let r = super::stackset::destroy_stack_set(&clients, stack, set, wait, ui).await;
        return StackResult {
            duration_secs: started.elapsed().as_secs_f64(),
            ..r
        };
    }
    let mark = |off: bool| {
        if let Ok(mut set) = protection_off.lock() {
            if off {
                set.insert(name.to_owned());
            } else {
                set.remove(name);
            }
        }
    };
    let turned_off = preview.termination_protection;
    if turned_off {
        ui.progress(name, "disabling termination protection");
        // Marked first: interrupted while the call is under way, it is turned on again.
        mark(true);
        if let Err(e) = clients.ops.set_termination_protection(name, false).await {
            mark(false);
            return failed(e.to_string());
        }
    }
    let mut cursor = EventCursor::for_delete();
    ui.progress(name, "deleting");
    let mut r = match clients.cfn.delete_stack(name).await {
        Err(e) => failed(e.to_string()),
        Ok(()) => match wait_with_events(&clients, name, &mut cursor, wait, ui).await {
            Err(e) => {
                let mut r = failed(e.to_string());
                r.guidance = Some(format!(
                    "the deletion may go on in CloudFormation: `little events {name} --follow`, then `little destroy {name}` again if the stack is still there"
                ));
                r
            }
            Ok((None, _)) => result(
                name,
                Outcome::Deleted,
                Some(StackStatus::DeleteComplete.as_str().into()),
                started.elapsed().as_secs_f64(),
            ),
            Ok((Some(info), events)) => {
                let mut r = result(
                    name,
                    Outcome::Failed,
                    Some(info.status.clone()),
                    started.elapsed().as_secs_f64(),
                );
                r.root_cause = cause_lines(&events);
                if r.root_cause.is_empty() {
                    r.root_cause.extend(info.status_reason.clone());
                }
                r.guidance = Some(format!(
                    "fix the cause (a non-empty bucket or repository is the usual one) and run `little destroy {name}` again"
                ));
                r
            }
        },
    };
    r.changes = preview.deleted.len();
    match (&r.outcome, &r.status) {
        (Outcome::Deleted, _) => ui.progress(name, "deleted"),
        (_, Some(status)) => ui.progress(name, &format!("not deleted: {status}")),
        (_, None) => ui.progress(name, "not deleted"),
    }
    if turned_off {
        if r.outcome != Outcome::Deleted {
            r.warnings
                .extend(restore_protection(&clients, name, ui).await);
        }
        mark(false);
    }
    r
}

/// Turns termination protection back on after a deletion that did not happen (or may not
/// have): the warning that says so, or, loudly, that it is still off and how to turn it on.
async fn restore_protection(clients: &Clients, name: &str, ui: &dyn Ui) -> Vec<String> {
    match clients.ops.set_termination_protection(name, true).await {
        Ok(()) => {
            ui.progress(name, "termination protection turned back on");
            vec!["the deletion did not complete; termination protection was turned back on".into()]
        }
        // Gone after all (a deletion that went on after the wait stopped): nothing to protect.
        Err(_) if matches!(clients.cfn.describe_stack(name).await, Ok(None)) => Vec::new(),
        Err(e) => vec![protection_left_off(
            name,
            Some(&clients.region),
            &e.to_string(),
            ui,
        )],
    }
}

/// Says loudly that a stack's termination protection is off and could not be turned back on,
/// with the command that does it; returns the same as a warning for the summary.
fn protection_left_off(name: &str, region: Option<&str>, error: &str, ui: &dyn Ui) -> String {
    let fix = format!(
        "aws cloudformation update-termination-protection --enable-termination-protection --stack-name {name}{}",
        region.map(|r| format!(" --region {r}")).unwrap_or_default()
    );
    ui.message(&format!(
        "\nWARNING: termination protection of `{name}` is OFF and could not be turned back on ({error}).\nTurn it back on with:\n  {fix}\n\n"
    ));
    format!("termination protection is OFF and could not be turned back on ({error}); run `{fix}`")
}

/// (logical id, DeletionPolicy) of every resource of a deployed template.
fn deletion_policies(template: &str) -> Vec<(String, String)> {
    let parsed: Option<Value> = parse_deployed(template).ok();
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
    use crate::aws::stack_ops::StackResource;
    use crate::testing::fake_aws::{project, FakeAws, FakeConnect};
    use crate::testing::ui::TestUi;
    use std::time::Duration;

    const QUEUE: &str = "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}";
    const KEPT: &str = "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}, \"Repo\": {\"Type\": \"AWS::ECR::Repository\", \"DeletionPolicy\": \"Retain\"}}}";
    const USES: &str = "{\"Parameters\": {\"Arn\": {\"Type\": \"String\"}}, \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}";

    fn options(stacks: &[&str], yes: bool) -> DestroyOptions {
        DestroyOptions {
            stacks: stacks.iter().map(|s| (*s).to_owned()).collect(),
            all: stacks.is_empty(),
            yes,
            disable_termination_protection: false,
            concurrency: 4,
            wait: Poll {
                first: Duration::ZERO,
                max: Duration::ZERO,
                timeout: Duration::from_secs(5),
            },
            interrupt: crate::interrupt::Interrupt::never(),
        }
    }

    /// a; b depends on a (`depends_on`, and reads its output); c reads b's output; d alone.
    fn chain() -> (tempfile::TempDir, Arc<Project>) {
        project(&[
            ("stacks/a.yaml", "name: a\ntemplate: q.json.njk\n"),
            (
                "stacks/b.yaml",
                "name: b\ntemplate: p.json.njk\ndepends_on: [a]\nparameters:\n  Arn: \"{{ stack_output('a', 'Arn') }}\"\n",
            ),
            (
                "stacks/c.yaml",
                "name: c\ntemplate: p.json.njk\nparameters:\n  Arn: \"{{ stack_output('b', 'Arn') }}\"\n",
            ),
            ("stacks/d.yaml", "name: d\ntemplate: q.json.njk\n"),
            ("templates/q.json.njk", QUEUE),
            ("templates/p.json.njk", USES),
        ])
    }

    fn deploy_all(aws: &FakeAws, names: &[&str]) {
        for n in names {
            aws.deploy(
                n,
                QUEUE,
                &[],
                &[("Arn", "arn:aws:sqs:us-east-1:123456789012:q")],
            );
        }
    }

    fn protect(aws: &FakeAws, name: &str) {
        aws.stacks
            .lock()
            .unwrap()
            .get_mut(name)
            .unwrap()
            .info
            .termination_protection = true;
    }

    async fn run(
        project: &Arc<Project>,
        aws: &Arc<FakeAws>,
        options: DestroyOptions,
        ui: &Arc<TestUi>,
    ) -> Result<DestroyReport> {
        destroy(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            options,
            ui.clone(),
        )
        .await
    }

    fn position(calls: &[String], call: &str) -> usize {
        calls
            .iter()
            .position(|c| c == call)
            .unwrap_or_else(|| panic!("no {call:?} in {calls:#?}"))
    }

    fn deletes(aws: &FakeAws) -> Vec<String> {
        aws.calls()
            .into_iter()
            .filter(|c| c.starts_with("DeleteStack "))
            .collect()
    }

    #[tokio::test]
    async fn all_goes_dependents_first_and_a_failure_keeps_what_it_depends_on() {
        let (_d, project) = chain();
        let aws = FakeAws::new();
        deploy_all(&aws, &["a", "b", "c", "d"]);
        aws.delete_outcome
            .lock()
            .unwrap()
            .insert("b".into(), "DELETE_FAILED".into());
        let ui = Arc::new(TestUi::default());
        let report = run(&project, &aws, options(&[], true), &ui).await.unwrap();
        let outcomes: Vec<(&str, Outcome)> = report
            .stacks
            .iter()
            .map(|r| (r.stack.as_str(), r.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("d", Outcome::Deleted),
                ("c", Outcome::Deleted),
                ("b", Outcome::Failed),
                ("a", Outcome::Skipped)
            ]
        );
        assert_eq!(
            report.stacks[3].guidance.as_deref(),
            Some("not deleted: `b`, which depends on it, was not deleted")
        );
        assert_eq!(report.stacks[2].status.as_deref(), Some("DELETE_FAILED"));
        assert!(report.failed());
        let calls = aws.calls();
        assert!(position(&calls, "DeleteStack c") < position(&calls, "DeleteStack b"));
        assert!(!calls.contains(&"DeleteStack a".to_owned()), "{calls:#?}");
        let stacks = aws.stacks.lock().unwrap();
        assert!(stacks.contains_key("a") && stacks.contains_key("b"));
        assert!(!stacks.contains_key("c") && !stacks.contains_key("d"));
    }

    #[tokio::test]
    async fn a_deployed_dependent_outside_the_run_is_refused_naming_it_and_how() {
        let (_d, project) = chain();
        let aws = FakeAws::new();
        deploy_all(&aws, &["a", "b", "c"]);
        let ui = Arc::new(TestUi::default());
        let err = run(&project, &aws, options(&["a"], true), &ui)
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::REFUSED);
        assert_eq!(
            err.to_string(),
            "refused: `a` is used by deployed stack `b` (stack_output('a', 'Arn'), depends_on); \
             destroy them in the same run (`little destroy c b a`) or every stack of the project \
             (`little destroy --all`); nothing was deleted"
        );
        assert!(deletes(&aws).is_empty());
        // The preview was shown all the same.
        assert!(ui
            .lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("a (CREATE_COMPLETE):")));

        // Naming b too: c still uses b.
        let err = run(&project, &aws, options(&["a", "b"], true), &ui)
            .await
            .unwrap_err();
        assert!(
            err.to_string().starts_with("refused: `b` is used by deployed stack `c` (stack_output('b', 'Arn')); destroy it in the same run (`little destroy c b a`)"),
            "{err}"
        );
        assert!(deletes(&aws).is_empty());

        // All three: dependents first.
        let report = run(&project, &aws, options(&["b", "a", "c"], true), &ui)
            .await
            .unwrap();
        assert!(!report.failed(), "{report:?}");
        assert_eq!(
            deletes(&aws),
            ["DeleteStack c", "DeleteStack b", "DeleteStack a"]
        );
    }

    #[tokio::test]
    async fn a_dependent_that_is_not_deployed_does_not_block() {
        let (_d, project) = chain();
        let aws = FakeAws::new();
        deploy_all(&aws, &["a", "b"]);
        // An empty stack left by a plan's CREATE change set is not deployed either.
        aws.stacks.lock().unwrap().get_mut("b").unwrap().info.status = "REVIEW_IN_PROGRESS".into();
        let ui = Arc::new(TestUi::default());
        let report = run(&project, &aws, options(&["a"], true), &ui)
            .await
            .unwrap();
        assert_eq!(report.stacks.len(), 1);
        assert_eq!(report.stacks[0].outcome, Outcome::Deleted);
        assert_eq!(deletes(&aws), ["DeleteStack a"]);
    }

    #[tokio::test]
    async fn importers_of_its_exports_block_unless_destroyed_in_the_same_run() {
        let (_d, project) = project(&[
            ("stacks/net.yaml", "name: net\ntemplate: q.json.njk\n"),
            ("stacks/web.yaml", "name: web\ntemplate: q.json.njk\n"),
            ("templates/q.json.njk", QUEUE),
        ]);
        let aws = FakeAws::new();
        deploy_all(&aws, &["net", "web"]);
        // Its exports are named by its outputs (no ListExports needed).
        for (key, export) in [("SubnetIds", "net-SubnetIds"), ("VpcId", "net-VpcId")] {
            aws.stacks
                .lock()
                .unwrap()
                .get_mut("net")
                .unwrap()
                .info
                .outputs
                .push(crate::aws::cloudformation::StackOutput {
                    key: key.into(),
                    value: "x".into(),
                    export_name: Some(export.into()),
                    description: None,
                });
        }
        aws.imports.lock().unwrap().insert(
            "net".into(),
            vec![
                Import {
                    export: "net-SubnetIds".into(),
                    importer: "legacy".into(),
                },
                Import {
                    export: "net-VpcId".into(),
                    importer: "web".into(),
                },
            ],
        );
        let ui = Arc::new(TestUi::default());
        let err = run(&project, &aws, options(&["net"], true), &ui)
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::REFUSED);
        assert_eq!(
            err.to_string(),
            "refused: `net` is used by deployed stacks `legacy` (import of export `net-SubnetIds`), \
             `web` (import of export `net-VpcId`); destroy it in the same run (`little destroy web net`) \
             or every stack of the project (`little destroy --all`); `legacy` is not in this project: \
             remove its imports (or delete it) first; nothing was deleted"
        );
        // web goes in the same run, legacy still imports.
        let err = run(&project, &aws, options(&[], true), &ui)
            .await
            .unwrap_err();
        assert!(
            err.to_string().starts_with("refused: `net` is used by deployed stack `legacy` (import of export `net-SubnetIds`); `legacy` is not in this project"),
            "{err}"
        );
        assert!(deletes(&aws).is_empty());
        // Once legacy is gone, web is deleted before net although no config says so.
        aws.imports
            .lock()
            .unwrap()
            .get_mut("net")
            .unwrap()
            .remove(0);
        let report = run(&project, &aws, options(&[], true), &ui).await.unwrap();
        assert!(!report.failed(), "{report:?}");
        assert_eq!(deletes(&aws), ["DeleteStack web", "DeleteStack net"]);
    }

    #[tokio::test]
    async fn every_resource_deleted_or_retained_is_shown_and_asked_about_once() {
        let (_d, project) = chain();
        let aws = FakeAws::new();
        deploy_all(&aws, &["a", "d"]);
        aws.stacks.lock().unwrap().get_mut("a").unwrap().template = KEPT.into();
        aws.resources.lock().unwrap().insert(
            "a".into(),
            ["Q", "Repo"]
                .iter()
                .map(|id| StackResource {
                    logical_id: (*id).into(),
                    physical_id: Some(format!("phys-{id}")),
                    resource_type: if *id == "Q" {
                        "AWS::SQS::Queue"
                    } else {
                        "AWS::ECR::Repository"
                    }
                    .into(),
                    status: "CREATE_COMPLETE".into(),
                    drift_status: None,
                })
                .collect(),
        );
        // No terminal, no --yes: refused, nothing deleted.
        let ui = Arc::new(TestUi::default());
        let err = run(&project, &aws, options(&[], false), &ui)
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::REFUSED);
        assert!(err.to_string().contains("pass `--yes`"), "{err}");
        assert!(deletes(&aws).is_empty());
        let shown = ui.lines.lock().unwrap().join("");
        assert!(shown.contains("a (CREATE_COMPLETE):\n  - delete  Q (AWS::SQS::Queue) phys-Q\n  = retain  Repo (AWS::ECR::Repository) phys-Repo: Retain\n"), "{shown}");
        assert!(
            shown.contains("d (CREATE_COMPLETE):\n  no resources\n"),
            "{shown}"
        );
        // b and c are not deployed: said so.
        assert!(
            shown.contains("b: not deployed; nothing to delete"),
            "{shown}"
        );

        // Declined at the terminal: asked once, nothing deleted.
        let ui = Arc::new(TestUi {
            terminal: true,
            answer: false,
            ..Default::default()
        });
        let err = run(&project, &aws, options(&[], false), &ui)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "refused: not approved; nothing was deleted"
        );
        assert_eq!(
            *ui.asked.lock().unwrap(),
            ["Delete these 2 stacks, in this order: `d`, `a`?"]
        );
        assert!(deletes(&aws).is_empty());
    }

    #[tokio::test]
    async fn protection_is_refused_without_the_flag_and_restored_after_a_failed_delete() {
        let (_d, project) = chain();
        let aws = FakeAws::new();
        deploy_all(&aws, &["a"]);
        protect(&aws, "a");
        let ui = Arc::new(TestUi::default());
        let err = run(&project, &aws, options(&["a"], true), &ui)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("pass `--disable-termination-protection`"),
            "{err}"
        );
        assert!(!aws
            .calls()
            .iter()
            .any(|c| c.starts_with("UpdateTerminationProtection")));

        aws.delete_outcome
            .lock()
            .unwrap()
            .insert("a".into(), "DELETE_FAILED".into());
        aws.in_progress_polls.lock().unwrap().insert("a".into(), 2);
        let mut allowed = options(&["a"], true);
        allowed.disable_termination_protection = true;
        let report = run(&project, &aws, allowed, &ui).await.unwrap();
        let r = &report.stacks[0];
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(
            r.warnings,
            ["the deletion did not complete; termination protection was turned back on"]
        );
        let calls = aws.calls();
        let off = position(&calls, "UpdateTerminationProtection a false");
        let delete = position(&calls, "DeleteStack a");
        let on = position(&calls, "UpdateTerminationProtection a true");
        assert!(off < delete && delete < on, "{calls:#?}");
        let stacks = aws.stacks.lock().unwrap();
        assert!(stacks["a"].info.termination_protection);
        assert_eq!(stacks["a"].info.status, "DELETE_FAILED");
    }

    #[tokio::test]
    async fn protection_is_restored_when_delete_stack_itself_is_refused() {
        let (_d, project) = chain();
        let aws = FakeAws::new();
        deploy_all(&aws, &["a"]);
        protect(&aws, "a");
        aws.failing.lock().unwrap().insert(
            "DeleteStack a".into(),
            "AccessDenied: not authorized to perform cloudformation:DeleteStack".into(),
        );
        let mut allowed = options(&["a"], true);
        allowed.disable_termination_protection = true;
        let ui = Arc::new(TestUi::default());
        let report = run(&project, &aws, allowed, &ui).await.unwrap();
        assert_eq!(report.stacks[0].outcome, Outcome::Failed);
        assert!(report.stacks[0].root_cause[0].contains("AccessDenied"));
        assert!(aws.stacks.lock().unwrap()["a"].info.termination_protection);
        assert!(ui
            .lines
            .lock()
            .unwrap()
            .contains(&"a: termination protection turned back on".to_owned()));
    }

    #[tokio::test]
    async fn protection_that_cannot_be_restored_is_said_loudly_with_the_fix() {
        let (_d, project) = chain();
        let aws = FakeAws::new();
        deploy_all(&aws, &["a"]);
        protect(&aws, "a");
        aws.delete_outcome
            .lock()
            .unwrap()
            .insert("a".into(), "DELETE_FAILED".into());
        aws.failing.lock().unwrap().insert(
            "UpdateTerminationProtection a true".into(),
            "Throttling: Rate exceeded".into(),
        );
        let mut allowed = options(&["a"], true);
        allowed.disable_termination_protection = true;
        let ui = Arc::new(TestUi::default());
        let report = run(&project, &aws, allowed, &ui).await.unwrap();
        let fix = "aws cloudformation update-termination-protection --enable-termination-protection --stack-name a --region us-east-1";
        let w = &report.stacks[0].warnings;
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("termination protection is OFF and could not be turned back on (cloudformation:UpdateTerminationProtection failed: Throttling: Rate exceeded)"), "{w:?}");
        assert!(w[0].ends_with(&format!("run `{fix}`")), "{w:?}");
        let shown = ui.lines.lock().unwrap().join("");
        assert!(
            shown.contains("WARNING: termination protection of `a` is OFF"),
            "{shown}"
        );
        assert!(shown.contains(&format!("\n  {fix}\n")), "{shown}");
        assert!(!aws.stacks.lock().unwrap()["a"].info.termination_protection);
    }

    #[tokio::test]
    async fn a_deleted_stack_keeps_no_protection_warning() {
        let (_d, project) = chain();
        let aws = FakeAws::new();
        deploy_all(&aws, &["d"]);
        protect(&aws, "d");
        let mut allowed = options(&["d"], true);
        allowed.disable_termination_protection = true;
        let report = run(&project, &aws, allowed, &Arc::new(TestUi::default()))
            .await
            .unwrap();
        assert_eq!(report.stacks[0].outcome, Outcome::Deleted);
        assert!(report.stacks[0].warnings.is_empty());
        assert!(!aws
            .calls()
            .contains(&"UpdateTerminationProtection d true".to_owned()));
    }

    /// The index of the last call about `stack` before its deletion ended.
    fn last_describe(calls: &[String], stack: &str) -> usize {
        calls
            .iter()
            .rposition(|c| c == &format!("DescribeStacks {stack}"))
            .unwrap()
    }

    #[tokio::test]
    async fn independent_stacks_go_concurrently_within_the_limit_dependents_never() {
        let (_d, project) = project(&[
            ("stacks/x.yaml", "name: x\ntemplate: q.json.njk\n"),
            ("stacks/y.yaml", "name: y\ntemplate: q.json.njk\n"),
            (
                "stacks/z.yaml",
                "name: z\ntemplate: q.json.njk\ndepends_on: [x]\n",
            ),
            ("templates/q.json.njk", QUEUE),
        ]);
        let slow = |aws: &FakeAws| {
            for s in ["x", "y", "z"] {
                aws.in_progress_polls.lock().unwrap().insert(s.into(), 4);
            }
        };
        let mut opts = options(&[], true);
        opts.wait.first = Duration::from_millis(2);
        opts.wait.max = Duration::from_millis(2);

        let aws = FakeAws::new();
        deploy_all(&aws, &["x", "y", "z"]);
        slow(&aws);
        let report = run(&project, &aws, opts.clone(), &Arc::new(TestUi::default()))
            .await
            .unwrap();
        assert!(!report.failed(), "{report:?}");
        let calls = aws.calls();
        // y and z are independent: they overlap; x waits for z, its dependent.
        assert!(
            position(&calls, "DeleteStack y") < last_describe(&calls, "z"),
            "{calls:#?}"
        );
        assert!(
            last_describe(&calls, "z") < position(&calls, "DeleteStack x"),
            "{calls:#?}"
        );

        // One at a time.
        let aws = FakeAws::new();
        deploy_all(&aws, &["x", "y", "z"]);
        slow(&aws);
        opts.concurrency = 1;
        run(&project, &aws, opts, &Arc::new(TestUi::default()))
            .await
            .unwrap();
        let calls = aws.calls();
        let order = deletes(&aws);
        assert_eq!(order, ["DeleteStack z", "DeleteStack y", "DeleteStack x"]);
        assert!(
            last_describe(&calls, "z") < position(&calls, "DeleteStack y"),
            "{calls:#?}"
        );
        assert!(
            last_describe(&calls, "y") < position(&calls, "DeleteStack x"),
            "{calls:#?}"
        );
    }

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
