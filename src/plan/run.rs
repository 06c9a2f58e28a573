//! Computing a plan: for each selected stack, read the deployed state, render the template with
//! the outputs of deployed dependencies, compare it semantically (template, parameters with
//! their defaults, tags, settings), ask CloudFormation for a change set unless the comparison
//! tells the whole truth and finds no change (`comparable`), classify risks, and clean up.
//! Stacks are planned concurrently (bounded); results keep the selection's dependency order,
//! one failing stack does not hide the others, and a dependent of a stack that changes lists
//! the values it reads as known after apply (`after_apply`).
//!
//! Talks to AWS only through the `aws` traits, obtained from a [`Connect`].

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::comparable::uncompared;
use super::compare::{deployed_of, effective_parameters, hashes, sha256, to_map, value_changes};
use super::diff::{diff_templates, formatting_only, TemplateDiff};
use super::model::{
    Adoptable, BoolChange, ChangeSetMode, Plan, PlanOptions, PlanStatus, PolicyChange, StackPlan,
};
use super::risk::{dedupe, replacement_risk_forced_by, template_risks, Replacement, Risk};
use super::settings::{policy_change, settings_risks};
use crate::aws::changeset::{
    change_set_name, run_change_set_name, wait_for_change_set, ChangeSet, ChangeSetId,
    ChangeSetRequest, ChangeSetType, ResourceChange,
};
use crate::aws::cloudformation::StackInfo;
use crate::aws::connect::{Clients, Connect};
use crate::context::existing::{self, Found};
use crate::context::listing::Listings;
use crate::context::state::{check_state, discard_change_set, parse_deployed, sweep};
use crate::context::{clients_for, render_listed};
use crate::error::{Error, Result};
use crate::project::{Project, Stack, StackKind};
use crate::render::Rendered;
use crate::template::params::{no_echo_parameters, required_capabilities};

/// Plans the selected stacks.
pub async fn plan(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    options: PlanOptions,
) -> Result<Plan> {
    let selection = project.select(&options.selection.names, options.selection.all)?;
    // Many stacks of one account and region: their deployed state is read in one listing.
    let listings = Arc::new(Listings::of(&project, &selection));
    let names: Vec<String> = selection.into_iter().map(|s| s.name.clone()).collect();
    // At most `concurrency` at once, fewer while CloudFormation throttles.
    let limit = Arc::new(crate::parallel::AdaptiveLimit::new(
        options.concurrency,
        || crate::aws::calls::throttles("cloudformation"),
    ));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, name) in names.iter().enumerate() {
        let project = project.clone();
        let connect = connect.clone();
        let options = options.clone();
        let limit = limit.clone();
        let listings = listings.clone();
        let name = name.clone();
        tasks.spawn(async move {
            // A stack whose plan ended on throttling (even after the SDK's retries) is planned
            // again, after a pause, at the concurrency the throttling left: a plan only reads,
            // and cleans up the change set it made.
            let plan = crate::poll::again_while_throttled(&THROTTLED_AGAIN, || async {
                let permit = limit.acquire().await;
                if options.interrupt.is_raised() {
                    return Err(Error::Interrupted("not planned".into()));
                }
                let plan = plan_one(&project, connect.as_ref(), &name, &options, &listings).await;
                permit.finish(plan.as_ref().is_err_and(Error::is_throttling));
                plan
            })
            .await;
            (index, name, plan)
        });
    }
    let mut results: Vec<Option<StackPlan>> = vec![None; names.len()];
    let mut templates: BTreeMap<String, Value> = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (index, name, result) = joined.map_err(|e| Error::Io(std::io::Error::other(e)))?;
        let stack = project.stack(&name);
        results[index] = Some(match result {
            Ok((p, template)) => {
                if let Some(t) = template {
                    templates.insert(name.clone(), t);
                }
                p
            }
            Err(e) => failed_plan(&project, stack, &name, &e),
        });
    }
    if options.interrupt.is_raised() {
        // Every stack that was being planned has finished: nothing this run made may stay.
        let swept = sweep(&project, connect.as_ref(), &names, &options.run_id).await;
        return Err(Error::Interrupted(format!(
            "nothing was applied; {}",
            swept.describe()
        )));
    }
    let mut stacks: Vec<StackPlan> = results.into_iter().flatten().collect();
    super::after_apply::mark(&project, &mut stacks, &templates);
    Ok(Plan::new(&project.name, options.now, stacks))
}

/// The pauses before a stack whose plan ended on throttling is planned again.
const THROTTLED_AGAIN: [std::time::Duration; 4] = [
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(2),
    std::time::Duration::from_secs(4),
    std::time::Duration::from_secs(8),
];

/// Plans one stack of the selection (a StackSet or a stack), with the rendered template of a
/// stack.
async fn plan_one(
    project: &Project,
    connect: &dyn Connect,
    name: &str,
    options: &PlanOptions,
    listings: &Listings,
) -> Result<(StackPlan, Option<Value>)> {
    match project.stack(name).map(|s| (s, &s.kind)) {
        Some((stack, StackKind::Set(set))) => {
            super::stackset::plan_stack_set(project, connect, stack, set, options)
                .await
                .map(|p| (p, None))
        }
        Some((stack, StackKind::Single)) => plan_single(project, connect, stack, options, listings)
            .await
            .map(|(p, t)| (p, Some(t))),
        None => Err(Error::UnknownStack {
            name: name.to_owned(),
            suggestion: None,
        }),
    }
}

fn failed_plan(project: &Project, stack: Option<&Stack>, name: &str, err: &Error) -> StackPlan {
    let message = match err {
        Error::Invalid(diags) => diags
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    };
    let region = stack.and_then(|s| s.region.clone()).unwrap_or_default();
    StackPlan {
        // The account refused by the guard is the caller's; otherwise the plan never reached
        // AWS as far as the caller, and the configured account is all there is to show.
        account_id: match err {
            Error::AccountRefused(r) if !r.is_empty() => Some(r[0].caller_account.clone()),
            _ => stack
                .and_then(|s| project.account_of(s))
                .map(|a| a.id.clone()),
        },
        error: Some(message),
        ..StackPlan::empty(name, &region, PlanStatus::Failed)
    }
}

/// Plans one stack (not a StackSet): its deployed state, the rendered template compared with
/// it, and, unless the comparison tells the whole truth and finds no change, the change set
/// CloudFormation makes of it, kept for `apply` when asked.
pub async fn plan_stack(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
    options: &PlanOptions,
) -> Result<StackPlan> {
    Ok(
        plan_single(project, connect, stack, options, &Listings::none())
            .await?
            .0,
    )
}

/// [`plan_stack`], with the rendered template (whose outputs a dependent may read).
async fn plan_single(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
    options: &PlanOptions,
    listings: &Listings,
) -> Result<(StackPlan, Value)> {
    let clients = clients_for(project, connect, stack).await?;
    let (rendered, known_after_apply) =
        render_listed(project, connect, stack, &options.render, listings).await?;
    let body = rendered.body();
    let current = listings.describe(project, &clients, stack).await?;
    let (deployed, replaces_failed) = read_deployed(current, options)?;
    let old_template = match &deployed {
        Some(_) => {
            let text = clients.cfn.get_template(&stack.name).await?;
            Some((parse_deployed(&text)?, sha256(&text)))
        }
        None => None,
    };
    let mut plan = compare(
        &clients,
        stack,
        &rendered,
        &body,
        deployed.as_ref(),
        old_template.as_ref(),
    )
    .await?;
    plan.known_after_apply = known_after_apply;
    plan.replaces_failed = replaces_failed;
    plan.adoptable = adoptable(
        &clients,
        &rendered.template,
        old_template.as_ref().map(|(v, _)| v),
    )
    .await;
    if plan.replaces_failed.is_some() {
        plan.risks = stack_risks(None, &rendered.template, &plan, &[]);
        return Ok((plan, rendered.template));
    }

    // A deployed stack whose comparison finds no change is unchanged, without a change set,
    // unless something decides the outcome that the comparison cannot see, or
    // `--refresh-templates` asks to send a template that is written differently.
    if let (Some(info), Some((old, old_sha256))) = (&deployed, &old_template) {
        if compares_unchanged(&plan) {
            plan.change_set_reason = uncompared(stack, &rendered, info, old).or_else(|| {
                (options.refresh_templates && *old_sha256 != sha256(&body)).then(|| {
                    "`--refresh-templates`, and the deployed template is written differently".into()
                })
            });
            if plan.change_set_reason.is_none() {
                plan.risks = stack_risks(Some(old), &rendered.template, &plan, &[]);
                plan.status = PlanStatus::Unchanged;
                return Ok((plan, rendered.template));
            }
        }
    }

    // `--change-set auto`: a stack whose every change is known to update in place (or to add
    // or remove a resource) is planned from the comparison, without asking CloudFormation.
    let mut predicted = None;
    if options.change_sets == ChangeSetMode::Auto
        && !options.keep_change_sets
        && plan.change_set_reason.is_none()
    {
        match super::predict::predict(
            stack,
            &rendered,
            deployed.as_ref(),
            old_template.as_ref().map(|(v, _)| v),
            &plan,
        ) {
            Ok(changes) => predicted = Some(changes),
            Err(why) => plan.change_set_reason = Some(why),
        }
    }
    let (changes, kept) = match predicted {
        Some(changes) => {
            plan.predicted = true;
            (changes, None)
        }
        None => {
            ask(
                &clients,
                stack,
                &rendered,
                &body,
                deployed.is_some(),
                &plan,
                options,
            )
            .await?
        }
    };
    finish(
        &clients,
        stack,
        &mut plan,
        deployed.as_ref(),
        old_template.as_ref(),
        &rendered.template,
        changes,
    )
    .await;
    plan.change_set = kept;
    Ok((plan, rendered.template))
}

/// The change set: what CloudFormation itself says it would do. Its resource changes, and its
/// id when it is kept for `apply` (otherwise it is deleted here). A failed change set is an
/// error.
async fn ask(
    clients: &Clients,
    stack: &Stack,
    rendered: &Rendered,
    body: &str,
    deployed: bool,
    plan: &StackPlan,
    options: &PlanOptions,
) -> Result<(Vec<ResourceChange>, Option<ChangeSetId>)> {
    let change_set_type = if deployed {
        ChangeSetType::Update
    } else {
        ChangeSetType::Create
    };
    let request =
        change_set_request(clients, stack, rendered, body, change_set_type, options).await?;
    let (created, change_set) =
        make_change_set(clients, &request, change_set_type, options).await?;
    let failure = change_set.is_failed().then(|| {
        format!(
            "the change set failed: {}",
            change_set
                .status_reason
                .clone()
                .unwrap_or_else(|| "no reason given".into())
        )
    });
    // A change set without resource changes still carries new parameter and tag values, and
    // a template whose outputs (or other sections) changed: executing it is how they reach
    // the stack (AWS makes such a change set, complete with no changes, only when there is
    // something to execute; with nothing at all it fails, "didn't contain changes").
    let executable = change_set.is_ready()
        && (!change_set.changes.is_empty()
            || !plan.parameter_changes.is_empty()
            || !plan.tag_changes.is_empty()
            || !plan.template_changes.is_empty());
    let keep = options.keep_change_sets
        && failure.is_none()
        && (!change_set.has_no_changes() || executable);
    if !keep {
        discard_change_set(
            clients,
            &stack.name,
            &request.change_set_name,
            change_set_type,
        )
        .await;
    }
    if let Some(reason) = failure {
        return Err(Error::Aws {
            operation: "cloudformation:CreateChangeSet".into(),
            message: reason,
        });
    }
    Ok((change_set.changes, created.filter(|_| keep)))
}

/// The plan of a changed or new stack, from the resource changes (the change set's, or the
/// predicted ones): its risks, what a destructive change would lose, what a changed lifecycle
/// policy would expire, and its status.
async fn finish(
    clients: &Clients,
    stack: &Stack,
    plan: &mut StackPlan,
    deployed: Option<&StackInfo>,
    old_template: Option<&(Value, String)>,
    template: &Value,
    changes: Vec<ResourceChange>,
) {
    let old = old_template.map(|(v, _)| v);
    plan.risks = stack_risks(old, template, plan, &changes);
    if deployed.is_some() {
        super::cost::what_is_lost(clients, &stack.name, &mut plan.risks, &changes, old).await;
        if let Some(old) = old {
            plan.lifecycle_changes = super::lifecycle::lifecycle_changes(
                clients,
                &stack.name,
                old,
                template,
                &changes,
                i64::try_from(crate::time::now()).unwrap_or(i64::MAX),
            )
            .await;
        }
    }
    plan.status = match deployed {
        None => PlanStatus::New,
        Some(_) => {
            let changed = !plan.template_changes.is_empty()
                || !plan.parameter_changes.is_empty()
                || !plan.tag_changes.is_empty()
                || plan.termination_protection.is_some()
                || plan.stack_policy.is_some()
                || !changes.is_empty();
            if changed {
                PlanStatus::Changed
            } else {
                PlanStatus::Unchanged
            }
        }
    };
    plan.resource_changes = changes;
}

/// The resources the stack would add that exist already (`little adopt` takes them over).
/// Best effort: a lookup that fails (no `ecr:DescribeRepositories` or `iam:GetRole` right)
/// leaves the resource out, and the plan goes on as it did before such lookups.
async fn adoptable(clients: &Clients, template: &Value, old: Option<&Value>) -> Vec<Adoptable> {
    let added = existing::added(template, old);
    let Ok(found) = existing::look_up(clients, template, &added).await else {
        return Vec::new();
    };
    found
        .into_iter()
        .filter_map(|f| match f {
            Found::Exists(e) => Some(Adoptable {
                logical_id: e.logical_id,
                resource_type: e.resource_type,
                name: e.name,
                summary: e.summary,
            }),
            _ => None,
        })
        .collect()
}

/// Whether the comparison found nothing to change: template, parameters (defaults applied),
/// tags, termination protection and stack policy.
fn compares_unchanged(plan: &StackPlan) -> bool {
    plan.template_changes.is_empty()
        && plan.parameter_changes.is_empty()
        && plan.tag_changes.is_empty()
        && plan.termination_protection.is_none()
        && plan.stack_policy.is_none()
}

/// The deployed stack, if there is one to compare with, of what DescribeStacks answered (a
/// stack in REVIEW_IN_PROGRESS holds only a change set: it is still new), and, with
/// `--replace-failed`, the status of the failed stack to replace. A stack that cannot be
/// changed now is refused with the way out.
fn read_deployed(
    mut current: Option<StackInfo>,
    options: &PlanOptions,
) -> Result<(Option<StackInfo>, Option<String>)> {
    // `--replace-failed`: a stack whose creation was rolled back holds nothing; apply deletes
    // it, after approval, and creates it again. Until then there is no change set to make.
    let replaces_failed = match &current {
        Some(info) if options.replace_failed && info.is_rolled_back_creation() => {
            Some(info.status.clone())
        }
        _ => None,
    };
    if replaces_failed.is_some() {
        current = None;
    }
    if let Some(info) = &current {
        check_state(info, options.replace_failed)?;
    }
    Ok((current.filter(StackInfo::is_deployed), replaces_failed))
}

/// The stack's plan as far as comparing tells: template, parameter, tag and setting changes,
/// and the hashes; status New, no risks and no change set yet.
async fn compare(
    clients: &Clients,
    stack: &Stack,
    rendered: &Rendered,
    body: &str,
    deployed: Option<&StackInfo>,
    old_template: Option<&(Value, String)>,
) -> Result<StackPlan> {
    let template_changes = diff_templates(old_template.map(|(v, _)| v), &rendered.template);
    let formatting = old_template
        .map(|(old, _)| formatting_only(old, &rendered.template, &template_changes))
        .unwrap_or_default();
    let no_echo = no_echo_parameters(&rendered.template);
    let effective = effective_parameters(rendered);
    let parameter_changes = value_changes(
        deployed.map(|d| to_map(&d.parameters)),
        &effective,
        &no_echo,
    );
    let tag_changes = value_changes(deployed.map(|d| to_map(&d.tags)), &rendered.tags, &[]);
    let (termination_protection, stack_policy) = settings_changes(clients, stack, deployed).await?;
    Ok(StackPlan {
        stack: stack.name.clone(),
        region: clients.region.clone(),
        // The account the plan read from: the caller's, which the guard matched with the
        // configured one (if any).
        account_id: clients.caller.as_ref().map(|c| c.identity.account.clone()),
        status: PlanStatus::New,
        error: None,
        deployed: deployed
            .zip(old_template)
            .map(|(d, (_, hash))| deployed_of(d, hash.clone())),
        risks: Vec::new(),
        template_changes,
        parameter_changes,
        tag_changes,
        termination_protection,
        stack_policy,
        formatting_only: formatting,
        resource_changes: Vec::new(),
        change_set: None,
        predicted: false,
        change_set_reason: None,
        known_after_apply: Vec::new(),
        hashes: hashes(body, &rendered.template, &rendered.parameters)?,
        stack_set: None,
        replaces_failed: None,
        adoptable: Vec::new(),
        lifecycle_changes: Vec::new(),
    })
}

/// The CreateChangeSet request of a stack, named for this run: a concurrent run's change set
/// (a `plan --out` kept for a later `apply --plan`) is never replaced or deleted by this one.
/// A template over CloudFormation's inline limit goes by S3 URL.
async fn change_set_request(
    clients: &Clients,
    stack: &Stack,
    rendered: &Rendered,
    body: &str,
    change_set_type: ChangeSetType,
    options: &PlanOptions,
) -> Result<ChangeSetRequest> {
    let parameters: Vec<(String, String)> = rendered.parameter_pairs();
    let tags: Vec<(String, String)> = rendered.tag_pairs();
    let capabilities = required_capabilities(&rendered.template, &stack.capabilities);
    let name = match &options.change_set_name {
        Some(name) => name.clone(),
        None => run_change_set_name(
            &stack.name,
            &change_set_name(body, &parameters, &tags, &capabilities),
            &options.run_id,
        ),
    };
    let (template_body, template_url) = if crate::aws::staging::needs_staging(body) {
        (
            None,
            Some(clients.staging.upload_template(&stack.name, body).await?),
        )
    } else {
        (Some(body.to_owned()), None)
    };
    Ok(ChangeSetRequest {
        stack_name: stack.name.clone(),
        change_set_name: name,
        change_set_type: Some(change_set_type),
        template_body,
        template_url,
        parameters,
        tags,
        capabilities,
        description: Some(format!("little plan of {}", stack.name)),
        role_arn: stack.role_arn.clone(),
        notification_arns: stack.notification_arns.clone(),
        resources_to_import: Vec::new(),
    })
}

/// Creates the change set and waits for it: its id (None when CloudFormation refused to make
/// one because nothing would change) and the change set as described. A wait that fails
/// deletes what was made.
async fn make_change_set(
    clients: &Clients,
    request: &ChangeSetRequest,
    change_set_type: ChangeSetType,
    options: &PlanOptions,
) -> Result<(Option<ChangeSetId>, ChangeSet)> {
    let (stack, name) = (&request.stack_name, &request.change_set_name);
    let created = clients.change_sets.create_change_set(request).await?;
    let change_set = match &created {
        // CloudFormation refused to make one: nothing would change.
        None => ChangeSet {
            id: ChangeSetId {
                id: String::new(),
                stack_id: String::new(),
                name: name.clone(),
                stack_name: stack.clone(),
            },
            status: "FAILED".into(),
            execution_status: None,
            status_reason: Some("No updates are to be performed.".into()),
            changes: Vec::new(),
        },
        Some(_) => {
            let waited =
                wait_for_change_set(clients.change_sets.as_ref(), stack, name, options.poll).await;
            match waited {
                Ok(cs) => cs,
                Err(e) => {
                    discard_change_set(clients, stack, name, change_set_type).await;
                    return Err(e);
                }
            }
        }
    };
    Ok((created, change_set))
}

/// The stack settings that change sets do not carry, as they would change: termination
/// protection against the deployed stack (`deployed` None: a new stack), and the stack policy
/// against GetStackPolicy. Plan and `apply --plan` both compute them here.
pub async fn settings_changes(
    clients: &Clients,
    stack: &Stack,
    deployed: Option<&StackInfo>,
) -> Result<(Option<BoolChange>, Option<PolicyChange>)> {
    let termination_protection = deployed.and_then(|d| {
        (d.termination_protection != stack.termination_protection).then_some(BoolChange {
            before: d.termination_protection,
            after: stack.termination_protection,
        })
    });
    let stack_policy = match (deployed, &stack.stack_policy) {
        (Some(_), Some(configured)) => {
            let before = clients.ops.stack_policy(&stack.name).await?;
            policy_change(before.as_deref(), Some(configured))
        }
        (None, configured) => policy_change(None, configured.as_deref()),
        (Some(_), None) => None,
    };
    Ok((termination_protection, stack_policy))
}

/// Every risk of a stack's plan: the template's (removals, replacements, broader policies),
/// the replacements only the change set sees, and the settings' (termination protection off, a
/// looser stack policy). `apply --plan` computes them again the same way and compares.
pub fn stack_risks(
    old_template: Option<&Value>,
    new_template: &Value,
    plan: &StackPlan,
    changes: &[ResourceChange],
) -> Vec<Risk> {
    let diff: &TemplateDiff = &plan.template_changes;
    let mut risks = template_risks(old_template, new_template, diff);
    for change in changes {
        let replacement = match change.replacement.as_deref() {
            Some("True") => Replacement::True,
            Some("Conditional") => Replacement::Conditional,
            _ => continue,
        };
        if let Some(r) = replacement_risk_forced_by(
            &change.logical_id,
            &change.resource_type,
            replacement,
            new_template,
            &change.recreating_properties(),
        ) {
            risks.push(r);
        }
    }
    risks.extend(settings_risks(
        &plan.stack,
        plan.termination_protection.as_ref(),
        plan.stack_policy.as_ref(),
    ));
    dedupe(risks)
}

/// Deletes the change set a stack's plan kept, and the empty stack its CREATE change set
/// made; for a plan that is not applied.
pub async fn discard(project: &Project, connect: &dyn Connect, s: &StackPlan) {
    let Some(cs) = &s.change_set else { return };
    let Some(stack) = project.stack(&s.stack) else {
        return;
    };
    let Ok(clients) = clients_for(project, connect, stack).await else {
        return;
    };
    let kind = if s.status == PlanStatus::New {
        ChangeSetType::Create
    } else {
        ChangeSetType::Update
    };
    discard_change_set(&clients, &cs.stack_name, &cs.name, kind).await;
}

#[cfg(test)]
mod flow_tests {
    use crate::poll::Poll;
    use crate::project::Selection;
    use crate::render::RenderOptions;
    use std::sync::Arc;

    use super::*;
    use crate::aws::changeset::{ChangeDetail, ChangeSet, ChangeSetId, ResourceChange};
    use crate::plan::model::Plan;
    use crate::plan::risk::RiskKind;
    use crate::testing::fake_aws::{project, FakeAws, FakeConnect};

    const REPO: &str = r#"{"Parameters": {"Token": {"Type": "String", "NoEcho": true}},
      "Resources": {"Repo": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": {"RepositoryName": "{{ vars.name }}"}}}}"#;

    fn options(names: &[&str]) -> PlanOptions {
        PlanOptions {
            selection: Selection {
                names: names.iter().map(|s| s.to_string()).collect(),
                all: names.is_empty(),
            },
            concurrency: 4,
            keep_change_sets: false,
            change_sets: crate::plan::model::ChangeSetMode::Always,
            poll: Poll {
                first: std::time::Duration::ZERO,
                max: std::time::Duration::ZERO,
                timeout: std::time::Duration::from_secs(5),
            },
            render: RenderOptions::default(),
            now: 1,
            run_id: "5eed1e55".into(),
            change_set_name: None,
            replace_failed: false,
            refresh_templates: false,
            interrupt: crate::interrupt::Interrupt::never(),
        }
    }

    fn replacement_change_set(stack: &str) -> ChangeSet {
        ChangeSet {
            id: ChangeSetId {
                id: String::new(),
                stack_id: String::new(),
                name: String::new(),
                stack_name: stack.into(),
            },
            status: "CREATE_COMPLETE".into(),
            execution_status: Some("AVAILABLE".into()),
            status_reason: None,
            changes: vec![ResourceChange {
                action: "Modify".into(),
                logical_id: "Repo".into(),
                physical_id: Some("team/old".into()),
                resource_type: "AWS::ECR::Repository".into(),
                replacement: Some("True".into()),
                scope: vec!["Properties".into()],
                details: vec![ChangeDetail {
                    attribute: Some("Properties".into()),
                    name: Some("RepositoryName".into()),
                    requires_recreation: Some("Always".into()),
                    evaluation: Some("Static".into()),
                    change_source: Some("DirectModification".into()),
                    causing_entity: None,
                }],
            }],
        }
    }

    fn rendered_repo(name: &str) -> String {
        REPO.replace("{{ vars.name }}", name)
    }

    #[tokio::test]
    async fn a_rename_is_destructive_once_though_both_template_and_change_set_say_so() {
        let (_d, project) = project(&[
            ("stacks/ecr.yaml", "name: ecr\ntemplate: repo.json.njk\nparameters:\n  Token: s3cret-value\nvariables:\n  name: team/new\n"),
            ("templates/repo.json.njk", REPO),
        ]);
        let aws = FakeAws::new();
        aws.deploy("ecr", &rendered_repo("team/old"), &[("Token", "****")], &[]);
        aws.answer_change_set("ecr", replacement_change_set("ecr"));
        let plan = plan(
            project,
            Arc::new(FakeConnect(aws.clone())),
            options(&["ecr"]),
        )
        .await
        .unwrap();
        let s = &plan.stacks[0];
        assert_eq!(s.status, PlanStatus::Changed);
        let destructive: Vec<_> = s
            .risks
            .iter()
            .filter(|r| r.kind == RiskKind::Destructive)
            .collect();
        assert_eq!(destructive.len(), 1, "{:#?}", s.risks);
        assert_eq!(destructive[0].logical_id, "Repo");
        assert_eq!(
            s.resource_changes[0].details[0].name.as_deref(),
            Some("RepositoryName")
        );
        // The NoEcho value is never in the plan.
        let json = serde_json::to_string(&plan).unwrap();
        assert!(!json.contains("s3cret-value"), "{json}");
        // The change set was deleted: the plan was not saved.
        assert!(
            aws.calls().iter().any(|c| c == "DeleteChangeSet ecr"),
            "{:?}",
            aws.calls()
        );
    }

    #[tokio::test]
    async fn auto_plans_an_in_place_change_without_a_change_set_and_asks_for_a_replacement() {
        const QUEUE: &str = r#"{"Parameters": {"Delay": {"Type": "Number"}},
          "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {
            "DelaySeconds": {"Ref": "Delay"}, "QueueName": "{{ vars.name }}"}}}}"#;
        let (_d, project) = project(&[
            ("stacks/q.yaml", "name: q\ntemplate: q.json.njk\nparameters:\n  Delay: \"5\"\nvariables:\n  name: jobs\n"),
            ("stacks/r.yaml", "name: r\ntemplate: q.json.njk\nparameters:\n  Delay: \"0\"\nvariables:\n  name: renamed\n"),
            ("stacks/n.yaml", "name: n\ntemplate: q.json.njk\nparameters:\n  Delay: \"0\"\nvariables:\n  name: fresh\n"),
            ("templates/q.json.njk", QUEUE),
        ]);
        let aws = FakeAws::new();
        aws.deploy(
            "q",
            &QUEUE.replace("{{ vars.name }}", "jobs"),
            &[("Delay", "0")],
            &[],
        );
        aws.deploy(
            "r",
            &QUEUE.replace("{{ vars.name }}", "old"),
            &[("Delay", "0")],
            &[],
        );
        let mut replaced =
            crate::testing::fake_aws::change_set(&[("Modify", "Queue", "AWS::SQS::Queue")]);
        replaced.changes[0].replacement = Some("True".into());
        aws.answer_change_set("r", replaced);
        let mut o = options(&[]);
        o.change_sets = ChangeSetMode::Auto;
        let plan = plan(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            o.clone(),
        )
        .await
        .unwrap();
        let by = |name: &str| plan.stacks.iter().find(|s| s.stack == name).unwrap();
        // The delay changes in place: predicted, no change set made.
        let q = by("q");
        assert_eq!(q.status, PlanStatus::Changed);
        assert!(q.predicted && q.change_set_reason.is_none(), "{q:#?}");
        assert_eq!(q.resource_changes.len(), 1);
        assert_eq!(q.resource_changes[0].replacement.as_deref(), Some("False"));
        // A new stack adds its queue, without a change set either.
        let n = by("n");
        assert_eq!((n.status, n.predicted), (PlanStatus::New, true));
        assert_eq!(n.resource_changes[0].action, "Add");
        // The queue's name is create-only: CloudFormation is asked, and says why.
        let r = by("r");
        assert!(!r.predicted, "{r:#?}");
        assert!(r
            .change_set_reason
            .as_deref()
            .unwrap()
            .contains("`QueueName` changes"));
        assert_eq!(r.resource_changes[0].replacement.as_deref(), Some("True"));
        let calls = aws.calls();
        let made: Vec<&String> = calls
            .iter()
            .filter(|c| c.starts_with("CreateChangeSet"))
            .collect();
        assert_eq!(made, ["CreateChangeSet r Some(Update)"], "{calls:?}");

        // `always` (and a saved plan) asks for every changed or new stack.
        aws.calls.lock().unwrap().clear();
        o.change_sets = ChangeSetMode::Always;
        let plan = plan_fn(project, aws.clone(), o).await;
        assert!(plan.stacks.iter().all(|s| !s.predicted));
        let made = aws
            .calls()
            .iter()
            .filter(|c| c.starts_with("CreateChangeSet"))
            .count();
        assert_eq!(made, 3, "{:?}", aws.calls());
    }

    #[tokio::test(start_paused = true)]
    async fn a_stack_whose_plan_ends_on_throttling_is_planned_again_up_to_a_bound() {
        const QUEUE: &str = r#"{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}"#;
        let (_d, project) = project(&[
            ("stacks/a.yaml", "name: a\ntemplate: q.json\n"),
            ("stacks/b.yaml", "name: b\ntemplate: q.json\n"),
            ("templates/q.json", QUEUE),
        ]);
        let aws = FakeAws::new();
        aws.deploy("a", QUEUE, &[], &[]);
        aws.deploy("b", QUEUE, &[], &[]);
        // `a` is throttled twice, then read; `b` more often than a plan is tried.
        let retries = u32::try_from(THROTTLED_AGAIN.len()).unwrap();
        aws.throttled_reads.lock().unwrap().insert("a".into(), 2);
        aws.throttled_reads
            .lock()
            .unwrap()
            .insert("b".into(), retries + 1);
        let plan = plan_fn(project, aws.clone(), options(&[])).await;
        let by = |name: &str| plan.stacks.iter().find(|s| s.stack == name).unwrap();
        assert_eq!(by("a").status, PlanStatus::Unchanged, "{plan:#?}");
        let b = by("b");
        assert_eq!(b.status, PlanStatus::Failed);
        assert!(b.error.as_deref().unwrap().contains("Throttling"), "{b:#?}");
        let reads = |name: &str| {
            let call = format!("DescribeStacks {name}");
            aws.calls().iter().filter(|c| **c == call).count()
        };
        assert_eq!(reads("a"), 3);
        assert_eq!(reads("b"), usize::try_from(retries).unwrap() + 1);
    }

    async fn plan_fn(project: Arc<Project>, aws: Arc<FakeAws>, o: PlanOptions) -> Plan {
        plan(project, Arc::new(FakeConnect(aws)), o).await.unwrap()
    }

    #[tokio::test]
    async fn a_replaced_repository_says_how_many_images_it_holds() {
        let image = |at: &str| crate::aws::ecr::Image {
            digest: format!("sha256:{at}"),
            tags: Vec::new(),
            pushed_at: Some(at.into()),
            size: None,
            last_pulled: None,
            scan: None,
        };
        for physical_in_change_set in [true, false] {
            let (_d, project) = project(&[
                ("stacks/ecr.yaml", "name: ecr\ntemplate: repo.json.njk\nparameters:\n  Token: x\nvariables:\n  name: team/new\n"),
                ("templates/repo.json.njk", REPO),
            ]);
            let aws = FakeAws::new();
            aws.deploy("ecr", &rendered_repo("team/old"), &[("Token", "****")], &[]);
            let mut cs = replacement_change_set("ecr");
            if !physical_in_change_set {
                // Then the stack's resources tell the repository.
                cs.changes[0].physical_id = None;
                aws.resources.lock().unwrap().insert(
                    "ecr".into(),
                    vec![crate::aws::stack_ops::StackResource {
                        logical_id: "Repo".into(),
                        physical_id: Some("team/old".into()),
                        resource_type: "AWS::ECR::Repository".into(),
                        status: "CREATE_COMPLETE".into(),
                        drift_status: None,
                    }],
                );
            }
            aws.answer_change_set("ecr", cs);
            aws.repository_images.lock().unwrap().insert(
                "team/old".into(),
                vec![image("2026-11-01T08:00:00Z"), image("2026-11-30T14:02:11Z")],
            );
            let plan = plan(
                project,
                Arc::new(FakeConnect(aws.clone())),
                options(&["ecr"]),
            )
            .await
            .unwrap();
            let risk = &plan.stacks[0].risks[0];
            assert_eq!(risk.kind, RiskKind::Destructive);
            assert!(
                risk.reason.contains("because `RepositoryName` changes"),
                "{}",
                risk.reason
            );
            assert_eq!(
                risk.holds.as_deref(),
                Some("`team/old` holds 2 images, the newest pushed 2026-11-30T14:02:11Z")
            );
            assert!(aws.calls().iter().any(|c| c == "DescribeImages team/old"));
        }
        // AWS not answering does not fail the plan: the risk says so.
        let (_d, project) = project(&[
            ("stacks/ecr.yaml", "name: ecr\ntemplate: repo.json.njk\nparameters:\n  Token: x\nvariables:\n  name: team/new\n"),
            ("templates/repo.json.njk", REPO),
        ]);
        let aws = FakeAws::new();
        aws.deploy("ecr", &rendered_repo("team/old"), &[("Token", "****")], &[]);
        aws.answer_change_set("ecr", replacement_change_set("ecr"));
        aws.failing.lock().unwrap().insert(
            "DescribeImages team/old".into(),
            "AccessDeniedException: not allowed".into(),
        );
        let plan = plan(project, Arc::new(FakeConnect(aws)), options(&["ecr"]))
            .await
            .unwrap();
        let holds = plan.stacks[0].risks[0].holds.clone().unwrap_or_default();
        assert!(
            holds.starts_with("the images of `team/old` could not be counted:")
                && holds.contains("not allowed"),
            "{holds}"
        );
    }

    #[tokio::test]
    async fn a_change_set_without_changes_means_unchanged() {
        let (_d, project) = project(&[
            ("stacks/ecr.yaml", "name: ecr\ntemplate: repo.json.njk\nparameters:\n  Token: x\nvariables:\n  name: team/app\n"),
            ("templates/repo.json.njk", REPO),
        ]);
        let aws = FakeAws::new();
        // Deployed with the same template, written differently (YAML, other key order).
        aws.deploy(
            "ecr",
            "Resources:\n  Repo:\n    Properties:\n      RepositoryName: team/app\n    UpdateReplacePolicy: Retain\n    DeletionPolicy: Retain\n    Type: AWS::ECR::Repository\nParameters:\n  Token:\n    NoEcho: true\n    Type: String\n",
            &[("Token", "****")],
            &[],
        );
        let plan = plan(
            project,
            Arc::new(FakeConnect(aws.clone())),
            options(&["ecr"]),
        )
        .await
        .unwrap();
        let s = &plan.stacks[0];
        assert_eq!(s.status, PlanStatus::Unchanged, "{s:#?}");
        assert!(s.risks.is_empty());
        assert!(!plan.has_changes());
        // The NoEcho value cannot be compared: the change set was asked, and the plan says why.
        assert!(
            s.change_set_reason
                .as_deref()
                .is_some_and(|r| r.contains("NoEcho parameter `Token`")),
            "{s:#?}"
        );
        assert_eq!(created_change_sets(&aws).len(), 1);
    }

    const POLICY_REPO: &str = r#"{"Parameters": {"Env": {"Type": "String", "Default": "dev"}},
      "Resources": {"Repo": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": {"RepositoryName": "team/app", "LifecyclePolicy": {"LifecyclePolicyText": "{{ vars.policy | dump | replace('\"', '\\\"') }}"}}}},
      "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Repo", "Arn"]}}}}"#;

    /// The policy repository deployed by other means: YAML, keys in another order, the policy
    /// text re-spaced with its keys reordered, the parameter given its default.
    const POLICY_REPO_DEPLOYED: &str = "Outputs:\n  Arn:\n    Value: !GetAtt Repo.Arn\nResources:\n  Repo:\n    UpdateReplacePolicy: Retain\n    DeletionPolicy: Retain\n    Type: AWS::ECR::Repository\n    Properties:\n      LifecyclePolicy:\n        LifecyclePolicyText: '{ \"rules\": [ { \"selection\": { \"tagStatus\": \"any\", \"countType\": \"imageCountMoreThan\", \"countNumber\": 10 }, \"rulePriority\": 1, \"action\": { \"type\": \"expire\" } } ] }'\n      RepositoryName: team/app\nParameters:\n  Env:\n    Default: dev\n    Type: String\n";

    fn policy_project() -> (tempfile::TempDir, Arc<Project>) {
        project(&[
            ("stacks/ecr.yaml", "name: ecr\ntemplate: repo.json.njk\nvariables:\n  policy: {rules: [{rulePriority: 1, selection: {tagStatus: any, countType: imageCountMoreThan, countNumber: 10}, action: {type: expire}}]}\n"),
            ("templates/repo.json.njk", POLICY_REPO),
        ])
    }

    fn created_change_sets(aws: &FakeAws) -> Vec<String> {
        aws.calls()
            .into_iter()
            .filter(|c| c.starts_with("CreateChangeSet"))
            .collect()
    }

    #[tokio::test]
    async fn an_equivalent_deployed_form_is_unchanged_without_a_change_set() {
        let (_d, project) = policy_project();
        let aws = FakeAws::new();
        aws.deploy("ecr", POLICY_REPO_DEPLOYED, &[("Env", "dev")], &[]);
        // What CloudFormation would say of the policy text: Modify. It is not asked.
        aws.answer_change_set(
            "ecr",
            crate::testing::fake_aws::change_set(&[("Modify", "Repo", "AWS::ECR::Repository")]),
        );
        let plan = plan(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            options(&["ecr"]),
        )
        .await
        .unwrap();
        let s = &plan.stacks[0];
        assert_eq!(s.status, PlanStatus::Unchanged, "{s:#?}");
        assert!(!plan.has_changes());
        assert!(s.template_changes.is_empty());
        assert!(s.resource_changes.is_empty());
        assert_eq!(s.change_set_reason, None);
        assert_eq!(created_change_sets(&aws), Vec::<String>::new());
        // The policy text is written otherwise: said, once, for its resource.
        assert_eq!(s.formatting_only.len(), 1, "{:#?}", s.formatting_only);
        assert_eq!(s.formatting_only[0].logical_id, "Repo");
        assert_eq!(
            s.formatting_only[0].paths[0].describe(),
            "Properties.LifecyclePolicy.LifecyclePolicyText has the same policy"
        );

        // `--refresh-templates`: the change set is made and its word decides.
        let mut refresh = options(&["ecr"]);
        refresh.refresh_templates = true;
        let plan = plan_with(project.clone(), &aws, refresh).await;
        let s = &plan.stacks[0];
        assert_eq!(s.status, PlanStatus::Changed, "{s:#?}");
        assert_eq!(s.resource_changes[0].logical_id, "Repo");
        assert!(s
            .change_set_reason
            .as_deref()
            .unwrap()
            .contains("--refresh-templates"));
        assert_eq!(created_change_sets(&aws).len(), 1);
    }

    async fn plan_with(project: Arc<Project>, aws: &Arc<FakeAws>, options: PlanOptions) -> Plan {
        plan(project, Arc::new(FakeConnect(aws.clone())), options)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn settings_and_parameters_are_compared_before_the_change_set_is_skipped() {
        let (_d, project) = policy_project();
        let aws = FakeAws::new();
        // Another parameter value than the default: a change, found with its key.
        aws.deploy("ecr", POLICY_REPO_DEPLOYED, &[("Env", "prod")], &[]);
        let plan = plan_with(project.clone(), &aws, options(&["ecr"])).await;
        assert_eq!(plan.stacks[0].parameter_changes[0].key, "Env");
        assert_eq!(created_change_sets(&aws).len(), 1);

        // The same parameters, but termination protection on: a change the settings carry.
        let aws = FakeAws::new();
        aws.deploy("ecr", POLICY_REPO_DEPLOYED, &[("Env", "dev")], &[]);
        aws.stacks
            .lock()
            .unwrap()
            .get_mut("ecr")
            .unwrap()
            .info
            .termination_protection = true;
        let plan = plan_with(project.clone(), &aws, options(&["ecr"])).await;
        assert_eq!(plan.stacks[0].status, PlanStatus::Changed);
        assert!(plan.stacks[0].termination_protection.is_some());

        // A service role the config sets and the stack lacks: the change set decides.
        let (_d, project) = policy_project();
        let mut stack = project.stack("ecr").cloned().unwrap();
        stack.role_arn = Some("arn:aws:iam::123456789012:role/cfn".into());
        let aws = FakeAws::new();
        aws.deploy("ecr", POLICY_REPO_DEPLOYED, &[("Env", "dev")], &[]);
        let s = plan_stack(
            &project,
            &FakeConnect(aws.clone()),
            &stack,
            &options(&["ecr"]),
        )
        .await
        .unwrap();
        assert_eq!(s.status, PlanStatus::Unchanged);
        assert!(
            s.change_set_reason
                .as_deref()
                .unwrap()
                .contains("service role"),
            "{s:#?}"
        );
        assert_eq!(created_change_sets(&aws).len(), 1);
    }

    #[tokio::test]
    async fn a_dependent_of_a_changing_output_knows_it_after_apply() {
        let (_d, project) = project(&[
            ("stacks/ecr.yaml", "name: ecr\ntemplate: repo.json.njk\nvariables:\n  policy: {rules: []}\n"),
            ("stacks/app.yaml", "name: app\ntemplate: q.json.njk\nparameters:\n  Role: \"{{ stack_output('ecr', 'Arn') }}\"\n"),
            ("templates/repo.json.njk", POLICY_REPO),
            ("templates/q.json.njk", "{\"Parameters\": {\"Role\": {\"Type\": \"String\"}}, \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": {\"Ref\": \"Role\"}}}}}"),
        ]);
        let arn = "arn:aws:ecr:us-east-1:123456789012:repository/team/app";
        let aws = FakeAws::new();
        // ecr's repository changes (its policy does): its Arn output may change.
        aws.deploy(
            "ecr",
            POLICY_REPO_DEPLOYED,
            &[("Env", "dev")],
            &[("Arn", arn)],
        );
        aws.deploy(
            "app",
            "{\"Parameters\": {\"Role\": {\"Type\": \"String\"}}, \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": {\"Ref\": \"Role\"}}}}}",
            &[("Role", arn)],
            &[],
        );
        aws.answer_change_set(
            "ecr",
            crate::testing::fake_aws::change_set(&[("Modify", "Repo", "AWS::ECR::Repository")]),
        );
        let plan = plan_with(project, &aws, options(&[])).await;
        let (ecr, app) = (&plan.stacks[0], &plan.stacks[1]);
        assert_eq!(
            (ecr.stack.as_str(), ecr.status),
            ("ecr", PlanStatus::Changed)
        );
        assert_eq!(app.stack, "app");
        // app itself compares the same, without a change set; its input is not known yet.
        assert!(app.template_changes.is_empty() && app.parameter_changes.is_empty());
        assert_eq!(app.known_after_apply, ["ecr.Arn"]);
        assert_eq!(app.status, PlanStatus::Changed);
        assert_eq!(plan.summary.changed, 2);
        assert!(!created_change_sets(&aws)
            .iter()
            .any(|c| c.contains(" app ")));
    }

    #[tokio::test]
    async fn a_new_stack_leaves_nothing_behind_and_reads_dependency_outputs() {
        let (_d, project) = project(&[
            ("stacks/iam.yaml", "name: iam\ntemplate: q.json.njk\n"),
            ("stacks/app.yaml", "name: app\ntemplate: q.json.njk\nparameters:\n  Role: \"{{ stack_output('iam', 'RoleArn') }}\"\n"),
            ("stacks/web.yaml", "name: web\ntemplate: q.json.njk\nparameters:\n  Role: \"{{ stack_output('app', 'Other') }}\"\n"),
            ("templates/q.json.njk", "{\"Parameters\": {\"Role\": {\"Type\": \"String\", \"Default\": \"none\"}}, \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": {\"Ref\": \"Role\"}}}}}"),
        ]);
        let aws = FakeAws::new();
        aws.deploy(
            "iam",
            "{\"Resources\": {}}",
            &[],
            &[("RoleArn", "arn:aws:iam::123456789012:role/ci")],
        );
        let plan = plan(
            project,
            Arc::new(FakeConnect(aws.clone())),
            options(&["app", "web"]),
        )
        .await
        .unwrap();
        let app = plan.stacks.iter().find(|s| s.stack == "app").unwrap();
        let web = plan.stacks.iter().find(|s| s.stack == "web").unwrap();
        assert_eq!(app.status, PlanStatus::New);
        assert!(app.known_after_apply.is_empty());
        assert_eq!(web.known_after_apply, ["app.Other"]);
        // The REVIEW_IN_PROGRESS stacks that CREATE change sets made are gone.
        assert!(aws.stacks.lock().unwrap().get("app").is_none());
        assert!(
            aws.calls().iter().any(|c| c == "DeleteStack app"),
            "{:?}",
            aws.calls()
        );
        // Dependency order: app before web.
        assert_eq!(plan.stacks[0].stack, "app");
    }

    #[tokio::test]
    async fn many_stacks_and_the_outputs_they_read_come_from_one_listing_of_the_region() {
        use crate::context::listing::LIST_FROM;
        let template = "{\"Parameters\": {\"Role\": {\"Type\": \"String\", \"Default\": \"none\"}}, \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": {\"Ref\": \"Role\"}}}}}";
        let mut files: Vec<(String, String)> = vec![
            ("stacks/base.yaml".into(), "name: base\ntemplate: q.json.njk\n".into()),
            ("stacks/app.yaml".into(), "name: app\ntemplate: q.json.njk\nparameters:\n  Role: \"{{ stack_output('base', 'RoleArn') }}\"\n".into()),
            ("templates/q.json.njk".into(), template.into()),
        ];
        files.extend((2..LIST_FROM).map(|i| {
            (
                format!("stacks/s{i}.yaml"),
                format!("name: s{i}\ntemplate: q.json.njk\n"),
            )
        }));
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let (_d, project) = project(&refs);
        let aws = FakeAws::new();
        aws.deploy(
            "base",
            "{\"Resources\": {}}",
            &[],
            &[("RoleArn", "arn:aws:iam::123456789012:role/ci")],
        );
        // Predicted plans: no change set, whose cleanup of a new stack reads it again.
        let mut auto = options(&[]);
        auto.change_sets = crate::plan::model::ChangeSetMode::Auto;
        let plan = plan(project, Arc::new(FakeConnect(aws.clone())), auto)
            .await
            .unwrap();
        let app = plan.stacks.iter().find(|s| s.stack == "app").unwrap();
        // `base`'s output was read (not a placeholder known only after apply)...
        assert!(app.known_after_apply.is_empty(), "{app:#?}");
        // ... from the listing, as was every stack's state: no DescribeStacks of a stack.
        let calls = aws.calls();
        let described: Vec<&String> = calls
            .iter()
            .filter(|c| c.starts_with("DescribeStacks"))
            .collect();
        assert_eq!(described, ["DescribeStacks (page 1)"], "{calls:?}");
    }

    #[tokio::test]
    async fn one_stack_failing_to_describe_does_not_hide_the_others() {
        let (_d, project) = project(&[
            ("stacks/a.yaml", "name: a\ntemplate: q.json.njk\n"),
            ("stacks/b.yaml", "name: b\ntemplate: q.json.njk\n"),
            (
                "templates/q.json.njk",
                "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}",
            ),
        ]);
        let aws = FakeAws::new();
        aws.broken
            .lock()
            .unwrap()
            .insert("a".into(), "Throttling: Rate exceeded".into());
        let plan = plan(project, Arc::new(FakeConnect(aws)), options(&[]))
            .await
            .unwrap();
        assert_eq!(plan.stacks[0].status, PlanStatus::Failed);
        assert!(plan.stacks[0]
            .error
            .as_deref()
            .unwrap()
            .contains("Rate exceeded"));
        assert_eq!(plan.stacks[1].status, PlanStatus::New);
        assert!(plan.has_failures());
    }

    #[tokio::test]
    async fn a_template_over_the_inline_limit_goes_by_s3_url() {
        let big = "{\"Resources\": {\n{% for i in range(400) %}\"Queue{{ i }}\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": \"a-queue-with-a-long-name-{{ i }}-abcdefghijklmnopqrstuvwxyz0123456789\"}}{{ \",\" if not loop.last }}{% endfor %}}}";
        let (_d, project) = project(&[
            ("stacks/big.yaml", "name: big\ntemplate: big.json.njk\n"),
            ("templates/big.json.njk", big),
        ]);
        let aws = FakeAws::new();
        let plan = plan(
            project,
            Arc::new(FakeConnect(aws.clone())),
            options(&["big"]),
        )
        .await
        .unwrap();
        assert_eq!(
            plan.stacks[0].status,
            PlanStatus::New,
            "{:?}",
            plan.stacks[0].error
        );
        let calls = aws.calls();
        assert!(
            calls.iter().any(|c| c.starts_with("PutObject big ")),
            "{calls:?}"
        );
        assert!(
            calls
                .iter()
                .any(|c| c.starts_with("CreateChangeSet big Some(Create) url=https://")),
            "{calls:?}"
        );
    }

    /// AWS answers a change of outputs alone with a change set that is complete, executable
    /// and lists no resource change: it is kept for apply (executing it is how the output
    /// reaches the stack), not taken for "nothing to do".
    #[tokio::test]
    async fn a_change_set_for_outputs_alone_is_kept_to_execute() {
        let queue = "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}";
        let (_d, project) = project(&[
            ("stacks/a.yaml", "name: a\ntemplate: q.json.njk\n"),
            (
                "templates/q.json.njk",
                &format!("{queue}, \"Outputs\": {{\"Url\": {{\"Value\": {{\"Ref\": \"Q\"}}}}}}}}"),
            ),
        ]);
        let aws = FakeAws::new();
        aws.deploy("a", &format!("{queue}}}"), &[], &[]);
        let mut cs = replacement_change_set("a");
        cs.changes.clear();
        aws.answer_change_set("a", cs);
        let mut keep = options(&["a"]);
        keep.keep_change_sets = true;
        let plan = plan(project, Arc::new(FakeConnect(aws)), keep)
            .await
            .unwrap();
        let s = &plan.stacks[0];
        assert_eq!(s.status, PlanStatus::Changed, "{s:#?}");
        assert!(s.resource_changes.is_empty());
        assert!(s.change_set.is_some(), "kept to execute: {s:#?}");
    }

    #[tokio::test]
    async fn a_failed_change_set_is_a_failed_plan_with_the_reason() {
        let (_d, project) = project(&[
            ("stacks/a.yaml", "name: a\ntemplate: q.json.njk\n"),
            (
                "templates/q.json.njk",
                "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}",
            ),
        ]);
        let aws = FakeAws::new();
        let mut cs = replacement_change_set("a");
        cs.status = "FAILED".into();
        cs.status_reason = Some("Requires capabilities : [CAPABILITY_NAMED_IAM]".into());
        cs.changes.clear();
        aws.answer_change_set("a", cs);
        let plan = plan(project, Arc::new(FakeConnect(aws)), options(&["a"]))
            .await
            .unwrap();
        assert_eq!(plan.stacks[0].status, PlanStatus::Failed);
        assert!(plan.stacks[0]
            .error
            .as_deref()
            .unwrap()
            .contains("Requires capabilities : [CAPABILITY_NAMED_IAM]"));
    }
}
