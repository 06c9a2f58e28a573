//! Applying a StackSet stack: runs the operations its plan lists (CreateStackSet,
//! DeleteStackInstances, UpdateStackSet, CreateStackInstances), one at a time as AWS requires,
//! waits on each (DescribeStackSetOperation), and reports the per-account, per-region results
//! (ListStackSetOperationResults) with AWS's reasons. An operation that fails or stops ends
//! the StackSet's apply; instance failures AWS tolerated (`failure_tolerance_percentage`) are
//! warnings.

use std::time::Instant;

use super::options::{check_risks, ApplyOptions};
use super::outcome::{result, Outcome, Preview, StackResult};
use super::Ui;
use crate::aws::cloudformation::StackStatus;
use crate::aws::connect::{Clients, Connect};
use crate::aws::stacksets::{
    wait_for_operation, OperationInfo, OperationPreferences, OperationResult, StackSetRequest,
    StackSets,
};
use crate::context::clients_for;
use crate::plan::compare::{hashes_match, sha256};
use crate::plan::model::StackPlan;
use crate::plan::model::{InstanceRef, SetOperation};
use crate::plan::stackset::{group, plan_stack_set, prepare, stage};
use crate::project::stackset::StackSetConfig;
use crate::project::{Project, Stack, StackKind};

/// Applies one planned StackSet. Re-plans first when the project now renders something else
/// than the plan (outputs that became known), with the risk rules applied again.
pub async fn apply_stack_set(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
    set: &StackSetConfig,
    planned: StackPlan,
    options: &ApplyOptions,
    ui: &dyn Ui,
) -> StackResult {
    let started = Instant::now();
    let name = planned.stack.clone();
    let secs = || started.elapsed().as_secs_f64();
    let failed = |message: String, secs: f64| {
        let mut r = result(&name, Outcome::Failed, None, secs);
        r.root_cause.push(message);
        r
    };
    let clients = match clients_for(project, connect, stack).await {
        Ok(c) => c,
        Err(e) => return failed(e.to_string(), secs()),
    };
    let mut prepared = match prepare(project, connect, stack, set, &options.plan.render).await {
        Ok(p) => p,
        Err(e) => return failed(e.to_string(), secs()),
    };
    let mut current = planned;
    if !hashes_match(
        &current.hashes,
        &prepared.body,
        &prepared.rendered.template,
        &prepared.rendered.parameters,
    ) {
        ui.progress(&name, "planning again with the outputs now known");
        current = match plan_stack_set(project, connect, stack, set, &options.plan).await {
            Ok(p) => p,
            Err(e) => return failed(e.to_string(), secs()),
        };
        if let Err(e) = check_risks(&current.risks.iter().collect::<Vec<_>>(), options) {
            let mut r = result(&name, Outcome::Cancelled, None, secs());
            r.root_cause.push(e.to_string());
            return r;
        }
    }
    let Some(set_plan) = current.stack_set.clone() else {
        return failed("the plan of a StackSet has no StackSet part".into(), secs());
    };
    // Planned as changed for values known only after apply, which turned out the same.
    if set_plan.operations.is_empty() {
        return result(&name, Outcome::Unchanged, None, secs());
    }
    let sends_template = set_plan.operations.iter().any(|op| {
        matches!(
            op,
            SetOperation::CreateStackSet | SetOperation::UpdateStackSet { .. }
        )
    });
    if sends_template {
        if let Err(e) = stage(&clients, &mut prepared.request).await {
            return failed(e.to_string(), secs());
        }
    }
    let run = Run {
        clients: &clients,
        name: &name,
        prefs: &set_plan.preferences,
        wait: options.wait,
        again: "little apply",
        ui,
    };
    let mut r = run
        .operations(&set_plan.operations, Some(&prepared.request))
        .await;
    r.duration_secs = secs();
    r
}

/// What running a StackSet's operations needs: where, how, and the command that retries.
struct Run<'a> {
    clients: &'a Clients,
    name: &'a str,
    prefs: &'a OperationPreferences,
    wait: crate::poll::Poll,
    /// `little apply`, `little destroy NAME`: what to run again after fixing a failure.
    again: &'a str,
    ui: &'a dyn Ui,
}

impl Run<'_> {
    /// Runs the operations in order; stops at the first that does not succeed. `request` is
    /// what CreateStackSet and UpdateStackSet send.
    async fn operations(
        &self,
        operations: &[SetOperation],
        request: Option<&StackSetRequest>,
    ) -> StackResult {
        let (name, ui, prefs) = (self.name, self.ui, self.prefs);
        let sets = self.clients.stack_sets.as_ref();
        let created = operations.contains(&SetOperation::CreateStackSet);
        let mut out = result(
            name,
            if created {
                Outcome::Created
            } else {
                Outcome::Updated
            },
            None,
            0.0,
        );
        for op in operations {
            ui.progress(name, &op.to_string());
            let sent = request.ok_or_else(|| {
                crate::error::Error::Internal(format!("{} without a request", op_name(op)))
            });
            let started = match op {
                SetOperation::CreateStackSet => match sent {
                    Ok(req) => match sets.create_stack_set(req).await {
                        Ok(_) => continue,
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                },
                SetOperation::UpdateStackSet { .. } => match sent {
                    Ok(req) => sets.update_stack_set(req, prefs).await,
                    Err(e) => Err(e),
                },
                SetOperation::CreateInstances {
                    targets, regions, ..
                } => sets.create_instances(name, targets, regions, prefs).await,
                SetOperation::DeleteInstances {
                    targets,
                    regions,
                    retain,
                    ..
                } => {
                    sets.delete_instances(name, targets, regions, prefs, *retain)
                        .await
                }
            };
            let operation_id = match started {
                Ok(id) => id,
                Err(e) => {
                    out.outcome = Outcome::Failed;
                    out.root_cause.push(e.to_string());
                    out.guidance = Some(self.guidance(op, None));
                    return out;
                }
            };
            let mut progress = |info: &OperationInfo| {
                ui.progress(name, &format!("operation {} {}", info.id, info.status));
            };
            let info = match wait_for_operation(sets, name, &operation_id, self.wait, &mut progress)
                .await
            {
                Ok(info) => info,
                Err(e) => {
                    out.outcome = Outcome::Failed;
                    out.root_cause.push(e.to_string());
                    return out;
                }
            };
            let results = operation_results(sets, name, &operation_id, &mut out).await;
            let failures: Vec<&OperationResult> = results
                .iter()
                .filter(|r| matches!(r.status.as_str(), "FAILED" | "CANCELLED"))
                .collect();
            out.status = Some(info.status.clone());
            out.changes += results.len();
            for f in &failures {
                ui.progress(name, &f.to_string());
            }
            if info.status != "SUCCEEDED" {
                out.outcome = Outcome::Failed;
                out.root_cause = failures.iter().map(|f| f.to_string()).collect();
                if let Some(reason) = &info.status_reason {
                    out.root_cause
                        .push(format!("operation {}: {reason}", info.status));
                } else if out.root_cause.is_empty() {
                    out.root_cause.push(format!(
                        "operation {operation_id} ended {} without a reason",
                        info.status
                    ));
                }
                out.guidance = Some(self.guidance(op, Some((&info, failures.len()))));
                return out;
            }
            // Failures within the tolerance: the operation succeeded, these did not.
            for f in failures {
                out.warnings.push(format!(
                    "{f} (within `failure_tolerance_percentage`; `little status {name}` lists the instances that are not CURRENT)"
                ));
            }
        }
        out
    }

    fn guidance(&self, op: &SetOperation, ended: Option<(&OperationInfo, usize)>) -> String {
        let (name, again) = (self.name, self.again);
        let Some((info, failed)) = ended else {
            return format!(
                "AWS refused to start `{}`; nothing of it ran. If another operation is running on the StackSet, wait for it (`little status {name}`) and run `{again}` again",
                op_name(op)
            );
        };
        let tolerance = self.prefs.failure_tolerance_percentage.unwrap_or(0);
        match info.status.as_str() {
            "FAILED" if failed > 0 => format!(
                "{failed} instance{} failed, more than `failure_tolerance_percentage` ({tolerance}%) allows, so AWS stopped the operation; the instances it did not reach are unchanged. Fix the cause in the accounts named above and run `{again}` again (`little status {name}` lists the instances that are not CURRENT)",
                if failed == 1 { "" } else { "s" }
            ),
            "STOPPED" => format!(
                "the operation was stopped (StopStackSetOperation) before it reached every account; run `{again}` again to finish it"
            ),
            _ => format!(
                "see `little status {name}` for each instance, fix the cause, and run `{again}` again"
            ),
        }
    }
}

async fn operation_results(
    sets: &dyn StackSets,
    name: &str,
    operation_id: &str,
    out: &mut StackResult,
) -> Vec<OperationResult> {
    match sets.operation_results(name, operation_id).await {
        Ok(r) => r,
        Err(e) => {
            out.warnings.push(format!(
                "the results of operation {operation_id} could not be read: {e}"
            ));
            Vec::new()
        }
    }
}

fn op_name(op: &SetOperation) -> &'static str {
    match op {
        SetOperation::CreateStackSet => "CreateStackSet",
        SetOperation::UpdateStackSet { .. } => "UpdateStackSet",
        SetOperation::CreateInstances { .. } => "CreateStackInstances",
        SetOperation::DeleteInstances { .. } => "DeleteStackInstances",
    }
}

/// Why a saved plan of a StackSet can no longer be applied as it is: the StackSet, its
/// instances or what the project renders changed since.
pub async fn saved_plan_problems(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
    saved: &StackPlan,
    options: &ApplyOptions,
) -> crate::error::Result<Vec<String>> {
    let name = &saved.stack;
    let (Some(set_plan), StackKind::Set(set)) = (saved.stack_set.as_ref(), &stack.kind) else {
        return Ok(vec![format!(
            "`{name}` changed between a stack and a StackSet since the plan was made"
        )]);
    };
    let mut problems = Vec::new();
    let clients = clients_for(project, connect, stack).await?;
    let now = clients.stack_sets.describe_stack_set(name).await?;
    match (&saved.deployed, &now) {
        (Some(d), Some(now)) => {
            if sha256(&now.template_body) != d.template_sha256 {
                problems.push(format!(
                    "StackSet `{name}` was updated since the plan was made"
                ));
            }
            let instances: Vec<(String, String)> = clients
                .stack_sets
                .list_instances(name)
                .await?
                .into_iter()
                .map(|i| (i.account, i.region))
                .collect();
            let planned: Vec<(String, String)> = set_plan
                .instances
                .iter()
                .map(|i| (i.account.clone(), i.region.clone()))
                .collect();
            if instances != planned {
                problems.push(format!(
                    "StackSet `{name}` has other instances than when the plan was made ({} then, {} now)",
                    planned.len(),
                    instances.len()
                ));
            }
        }
        (None, Some(_)) => problems.push(format!(
            "StackSet `{name}` was new when planned and now exists"
        )),
        (Some(_), None) => problems.push(format!("StackSet `{name}` no longer exists")),
        (None, None) => {}
    }
    let prepared = prepare(project, connect, stack, set, &options.plan.render).await?;
    if !hashes_match(
        &saved.hashes,
        &prepared.body,
        &prepared.rendered.template,
        &prepared.rendered.parameters,
    ) {
        problems.push(format!(
            "`{name}` renders differently from when the plan was made (the template or its configuration changed)"
        ));
    }
    Ok(problems)
}

/// What `little destroy` would delete of a StackSet: each instance's stack (or keeps, with
/// `retain_stacks_on_removal`), then the StackSet. None when it is not deployed.
pub async fn destroy_preview(
    clients: &Clients,
    stack: &Stack,
) -> crate::error::Result<Option<Preview>> {
    let Some(info) = clients.stack_sets.describe_stack_set(&stack.name).await? else {
        return Ok(None);
    };
    let retain = stack
        .kind
        .stack_set()
        .is_some_and(|s| s.retain_stacks_on_removal);
    let mut preview = Preview {
        stack: stack.name.clone(),
        status: format!("STACK_SET_{}", info.status),
        deleted: Vec::new(),
        retained: Vec::new(),
        termination_protection: false,
        importers: Vec::new(),
    };
    for i in clients.stack_sets.list_instances(&stack.name).await? {
        let line = format!(
            "stack instance {} {} (AWS::CloudFormation::StackInstance){}",
            i.account,
            i.region,
            i.stack_id
                .as_deref()
                .map(|s| format!(" {s}"))
                .unwrap_or_default()
        );
        if retain {
            preview
                .retained
                .push(format!("{line}: retain_stacks_on_removal"));
        } else {
            preview.deleted.push(line);
        }
    }
    preview.deleted.push(format!(
        "StackSet {} (AWS::CloudFormation::StackSet) {}",
        stack.name, info.id
    ));
    Ok(Some(preview))
}

/// Deletes every instance of a StackSet (through the same operations and waits as apply),
/// then the StackSet.
pub async fn destroy_stack_set(
    clients: &Clients,
    stack: &Stack,
    set: &StackSetConfig,
    wait: crate::poll::Poll,
    ui: &dyn Ui,
) -> StackResult {
    let name = &stack.name;
    let again = format!("little destroy {name}");
    let fail = |e: String| {
        let mut out = result(name, Outcome::Failed, None, 0.0);
        out.root_cause.push(e);
        out.guidance = Some(format!(
            "fix the cause and run `{again}` again; `little status {name}` lists the instances left"
        ));
        out
    };
    let instances: Vec<InstanceRef> = match clients.stack_sets.list_instances(name).await {
        Ok(list) => list.iter().map(InstanceRef::from).collect(),
        Err(e) => return fail(e.to_string()),
    };
    let deletes: Vec<SetOperation> = group(&instances, &set.targets)
        .into_iter()
        .map(|(targets, regions, n)| SetOperation::DeleteInstances {
            targets,
            regions,
            instances: n,
            retain: set.retain_stacks_on_removal,
        })
        .collect();
    let run = Run {
        clients,
        name,
        prefs: &set.preferences,
        wait,
        again: &again,
        ui,
    };
    let mut out = run.operations(&deletes, None).await;
    if out.outcome == Outcome::Failed {
        return out;
    }
    ui.progress(name, "DeleteStackSet");
    if let Err(e) = clients.stack_sets.delete_stack_set(name).await {
        return fail(e.to_string());
    }
    out.outcome = Outcome::Deleted;
    out.status = Some(StackStatus::DeleteComplete.as_str().into());
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::aws::organizations::OrgAccount;
    use crate::deploy::apply::apply;
    use crate::error::Error;
    use crate::plan::model::PlanStatus;
    use crate::plan::run::plan;
    use crate::project::Selection;
    use crate::render::RenderOptions;
    use crate::testing::fake_aws::stacksets::OperationScript;
    use crate::testing::fake_aws::{project, FakeAws, FakeConnect};
    use crate::testing::ui::TestUi;

    const OU: &str = "ou-ab12-workload1";
    const A: &str = "111111111111";
    const B: &str = "222222222222";
    const ROLE: &str = "{\"Resources\": {\"Role\": {\"Type\": \"AWS::IAM::Role\", \"Properties\": {\"AssumeRolePolicyDocument\": {\"Version\": \"2012-10-17\", \"Statement\": []}}}}}";
    const ROLE_AND_TOPIC: &str = "{\"Resources\": {\"Role\": {\"Type\": \"AWS::IAM::Role\", \"Properties\": {\"AssumeRolePolicyDocument\": {\"Version\": \"2012-10-17\", \"Statement\": []}}}, \"Topic\": {\"Type\": \"AWS::SNS::Topic\"}}}";

    fn config(regions: &str, extra: &str) -> String {
        format!(
            "name: audit\ntemplate: audit.json.njk\nstack_set:\n  permission_model: SERVICE_MANAGED\n  organizational_units: [{OU}]\n  regions: [{regions}]\n  operation_preferences: {{failure_tolerance_percentage: 10, max_concurrent_percentage: 50}}\n{extra}"
        )
    }

    /// A project with the StackSet `audit` in these regions.
    fn audit_project(regions: &str) -> (tempfile::TempDir, Arc<Project>) {
        project(&[
            ("stacks/audit.yaml", &config(regions, "")),
            ("templates/audit.json.njk", ROLE),
        ])
    }

    /// Rewrites the StackSet's config and loads the project again.
    fn reconfigure(dir: &tempfile::TempDir, config: &str) -> Arc<Project> {
        std::fs::write(dir.path().join("stacks/audit.yaml"), config).unwrap();
        Arc::new(Project::load(dir.path()).unwrap())
    }

    async fn plan_now(project: &Arc<Project>, aws: &Arc<FakeAws>) -> crate::plan::model::Plan {
        plan(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            options().plan,
        )
        .await
        .unwrap()
    }

    fn org() -> Arc<FakeAws> {
        let aws = FakeAws::new();
        let account = |id: &str| OrgAccount {
            id: id.into(),
            name: format!("workload-{id}"),
            status: "ACTIVE".into(),
        };
        aws.org_accounts
            .lock()
            .unwrap()
            .insert(OU.into(), vec![account(A), account(B)]);
        aws
    }

    /// `--yes --allow-broadening`: the StackSets' roles are new grants.
    fn options() -> ApplyOptions {
        let mut o = crate::testing::ui::apply_options(true);
        o.allow_broadening = true;
        o
    }

    async fn run(
        project: &Arc<Project>,
        aws: &Arc<FakeAws>,
        options: ApplyOptions,
    ) -> (
        crate::error::Result<crate::deploy::outcome::ApplyReport>,
        Vec<String>,
    ) {
        let ui = Arc::new(TestUi::default());
        let r = apply(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            options,
            ui.clone(),
        )
        .await;
        let lines = ui.lines.lock().unwrap().clone();
        (r, lines)
    }

    #[tokio::test]
    async fn a_new_stack_set_is_created_with_an_instance_per_account_and_region() {
        let (_d, project) = audit_project("us-east-1, us-west-2");
        let aws = org();
        let (report, lines) = run(&project, &aws, options()).await;
        let report = report.unwrap();
        assert_eq!(report.stacks[0].outcome, Outcome::Created, "{lines:?}");
        assert_eq!(report.stacks[0].changes, 4);
        let calls = aws.calls();
        let order: Vec<&str> = calls
            .iter()
            .filter(|c| c.starts_with("Create"))
            .map(String::as_str)
            .collect();
        assert_eq!(
            order,
            [
                "CreateStackSet audit",
                &format!("CreateStackInstances audit OUs {OU} us-east-1,us-west-2")[..]
            ]
        );
        let instances = aws.sets.lock().unwrap().sets["audit"].instances.len();
        assert_eq!(instances, 4);

        // Applied again: nothing to do.
        let p = plan_now(&project, &aws).await;
        assert_eq!(
            p.stacks[0].status,
            PlanStatus::Unchanged,
            "{:?}",
            p.stacks[0]
        );
    }

    #[tokio::test]
    async fn an_update_is_polled_while_running_and_a_new_region_gets_instances() {
        let (dir, project) = audit_project("us-east-1");
        let aws = org();
        run(&project, &aws, options()).await.0.unwrap();
        std::fs::write(dir.path().join("templates/audit.json.njk"), ROLE_AND_TOPIC).unwrap();
        let project = reconfigure(&dir, &config("us-east-1, eu-west-1", ""));
        let p = plan_now(&project, &aws).await;
        let set = p.stacks[0].stack_set.as_ref().unwrap();
        assert_eq!(p.stacks[0].status, PlanStatus::Changed);
        assert_eq!(set.add.len(), 2);
        assert!(set.remove.is_empty());
        assert_eq!(
            p.stacks[0].template_changes.resources[0].logical_id,
            "Topic"
        );
        assert_eq!(
            set.operations,
            [
                SetOperation::UpdateStackSet { instances: 2 },
                SetOperation::CreateInstances {
                    targets: crate::aws::stacksets::Targets::OrganizationalUnits(vec![OU.into()]),
                    regions: vec!["eu-west-1".into()],
                    instances: 2
                }
            ]
        );
        aws.sets.lock().unwrap().scripts.push_back(OperationScript {
            running_polls: 3,
            ..Default::default()
        });
        let before = aws.calls().len();
        let (report, lines) = run(&project, &aws, options()).await;
        let report = report.unwrap();
        assert_eq!(report.stacks[0].outcome, Outcome::Updated, "{lines:?}");
        let polls = aws.calls()[before..]
            .iter()
            .filter(|c| c.starts_with("DescribeStackSetOperation"))
            .count();
        // 4 for the update (3 RUNNING, then SUCCEEDED), 1 for the create.
        assert_eq!(polls, 5);
        let statuses: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("operation op-"))
            .collect();
        assert!(statuses[0].ends_with("RUNNING"), "{lines:?}");
        assert!(statuses[1].ends_with("SUCCEEDED"), "{lines:?}");
        assert_eq!(aws.sets.lock().unwrap().sets["audit"].instances.len(), 4);
    }

    #[tokio::test]
    async fn a_failed_instance_over_the_tolerance_fails_the_apply_with_its_reason() {
        let (_d, project) = audit_project("us-east-1");
        let aws = org();
        // CreateStackSet starts no operation: the script is CreateStackInstances'.
        aws.sets.lock().unwrap().scripts.push_back(OperationScript {
            running_polls: 1,
            status: "FAILED".into(),
            status_reason: Some("The Operation op-1 has failed because the failure tolerance has been exceeded.".into()),
            failures: vec![(
                B.into(),
                "us-east-1".into(),
                "ResourceLogicalId:Role, ResourceType:AWS::IAM::Role, ResourceStatusReason:Role already exists.".into(),
            )],
        });
        let (report, _) = run(&project, &aws, options()).await;
        let report = report.unwrap();
        assert!(report.failed());
        let r = &report.stacks[0];
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(r.status.as_deref(), Some("FAILED"));
        assert!(
            r.root_cause[0].starts_with(&format!("{B} us-east-1 FAILED: ResourceLogicalId:Role")),
            "{r:?}"
        );
        assert!(
            r.root_cause[1].contains("failure tolerance has been exceeded"),
            "{r:?}"
        );
        let guidance = r.guidance.as_deref().unwrap();
        assert!(
            guidance.contains("`failure_tolerance_percentage` (10%)"),
            "{guidance}"
        );
        let set = &aws.sets.lock().unwrap().sets["audit"];
        let failed = set.instances.iter().find(|i| i.account == B).unwrap();
        assert_eq!(failed.status, "INOPERABLE");
    }

    #[tokio::test]
    async fn failures_within_the_tolerance_are_warnings() {
        let (_d, project) = audit_project("us-east-1");
        let aws = org();
        aws.sets.lock().unwrap().scripts.push_back(OperationScript {
            failures: vec![(A.into(), "us-east-1".into(), "Account 111111111111 should have 'AWSCloudFormationStackSetExecutionRole' role with trust relationship to Role 'AWSCloudFormationStackSetAdministrationRole'.".into())],
            ..Default::default()
        });
        let (report, _) = run(&project, &aws, options()).await;
        let report = report.unwrap();
        assert!(!report.failed());
        let r = &report.stacks[0];
        assert_eq!(r.outcome, Outcome::Created);
        assert!(
            r.warnings[0].contains("AWSCloudFormationStackSetExecutionRole"),
            "{r:?}"
        );
    }

    #[tokio::test]
    async fn removing_a_region_deletes_instances_only_with_allow_destructive() {
        let (dir, project) = audit_project("us-east-1, us-west-2");
        let aws = org();
        run(&project, &aws, options()).await.0.unwrap();
        let project = reconfigure(&dir, &config("us-east-1", ""));
        let (refused, _) = run(&project, &aws, options()).await;
        match refused {
            Err(Error::Refused(msg)) => {
                assert!(msg.contains("--allow-destructive"), "{msg}");
                assert!(msg.contains("audit instances"), "{msg}");
            }
            other => panic!("not refused: {other:?}"),
        }
        assert_eq!(aws.sets.lock().unwrap().sets["audit"].instances.len(), 4);
        let mut allowed = options();
        allowed.allow_destructive = true;
        let (report, _) = run(&project, &aws, allowed).await;
        assert_eq!(report.unwrap().stacks[0].outcome, Outcome::Updated);
        let set = &aws.sets.lock().unwrap().sets["audit"];
        assert_eq!(set.instances.len(), 2);
        assert!(set.instances.iter().all(|i| i.region == "us-east-1"));
        assert!(aws.calls().contains(&format!(
            "DeleteStackInstances audit OUs {OU} us-west-2 retain=false"
        )));
    }

    #[tokio::test]
    async fn retained_removals_are_not_destructive() {
        let (dir, project) = audit_project("us-east-1, us-west-2");
        let aws = org();
        run(&project, &aws, options()).await.0.unwrap();
        let project = reconfigure(
            &dir,
            &config("us-east-1", "  retain_stacks_on_removal: true\n"),
        );
        let (report, _) = run(&project, &aws, options()).await;
        assert_eq!(report.unwrap().stacks[0].outcome, Outcome::Updated);
        assert!(aws.calls().contains(&format!(
            "DeleteStackInstances audit OUs {OU} us-west-2 retain=true"
        )));
    }

    #[tokio::test]
    async fn a_saved_plan_is_stale_once_the_instances_changed() {
        let (_d, project) = audit_project("us-east-1");
        let aws = org();
        let saved = plan_now(&project, &aws).await;
        // Someone else creates it meanwhile.
        run(&project, &aws, options()).await.0.unwrap();
        let mut o = options();
        o.saved = Some(saved);
        let (r, _) = run(&project, &aws, o).await;
        match r {
            Err(Error::Refused(msg)) => assert!(msg.contains("was new when planned"), "{msg}"),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_stack_set_with_a_running_operation_is_not_planned_and_its_events_show_it() {
        let (_d, project) = audit_project("us-east-1");
        let aws = org();
        run(&project, &aws, options()).await.0.unwrap();
        // Someone else's update, still running.
        aws.sets.lock().unwrap().scripts.push_back(OperationScript {
            running_polls: 100,
            ..Default::default()
        });
        let req = crate::aws::stacksets::StackSetRequest {
            name: "audit".into(),
            template_body: ROLE.into(),
            ..Default::default()
        };
        let running = aws
            .update_stack_set(&req, &Default::default())
            .await
            .unwrap();
        let p = plan_now(&project, &aws).await;
        assert_eq!(p.stacks[0].status, PlanStatus::Failed);
        let error = p.stacks[0].error.as_deref().unwrap();
        assert!(
            error.contains(&format!("operation {running} is still running")),
            "{error}"
        );
        assert!(error.contains("UPDATE RUNNING"), "{error}");

        let events = crate::deploy::status::events(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            "audit",
            10,
        )
        .await
        .unwrap();
        let statuses: Vec<&str> = events.iter().map(|e| e.status.as_str()).collect();
        assert_eq!(statuses, ["CREATE_SUCCEEDED", "UPDATE_RUNNING"]);

        // Following: the update's end is shown once, then the follow ends with it.
        aws.sets
            .lock()
            .unwrap()
            .operations_mut()
            .values_mut()
            .for_each(|o| o.0 = o.0.min(2));
        let shown = std::sync::Mutex::new(Vec::new());
        let end = crate::deploy::status::follow(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            "audit",
            Duration::ZERO,
            &|e| shown.lock().unwrap().push(e.status.clone()),
        )
        .await
        .unwrap();
        assert_eq!(end.as_deref(), Some("UPDATE_SUCCEEDED"));
        assert_eq!(*shown.lock().unwrap(), ["UPDATE_SUCCEEDED"]);
        let outputs = crate::deploy::status::outputs(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            "audit",
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(outputs.contains("no outputs of its own"), "{outputs}");
    }

    #[tokio::test]
    async fn a_config_turned_into_a_stack_set_is_not_planned_while_its_stack_exists() {
        let (_d, project) = audit_project("us-east-1");
        let aws = org();
        aws.deploy("audit", ROLE, &[], &[]);
        let p = plan_now(&project, &aws).await;
        let error = p.stacks[0].error.as_deref().unwrap();
        assert!(
            error.contains("deployed as a stack (CREATE_COMPLETE)"),
            "{error}"
        );
        assert!(error.contains("delete-stack --stack-name audit"), "{error}");
        assert!(aws.sets.lock().unwrap().sets.is_empty());
    }

    #[tokio::test]
    async fn template_defaults_are_not_a_parameter_change_and_a_passed_value_is() {
        const WITH_PARAMETER: &str = "{\"Parameters\": {\"Retention\": {\"Type\": \"Number\", \"Default\": 30}, \"Team\": {\"Type\": \"String\"}}, \"Resources\": {\"Topic\": {\"Type\": \"AWS::SNS::Topic\"}}}";
        let (dir, project) = project(&[
            (
                "stacks/audit.yaml",
                &config("us-east-1", "parameters: {Team: platform}\n"),
            ),
            ("templates/audit.json.njk", WITH_PARAMETER),
        ]);
        let aws = org();
        run(&project, &aws, options()).await.0.unwrap();
        // The fake, like DescribeStackSet, lists only the parameters that were passed.
        let passed = aws.sets.lock().unwrap().sets["audit"]
            .info
            .parameters
            .clone();
        assert_eq!(passed.len(), 1, "{passed:?}");
        let p = plan_now(&project, &aws).await;
        assert_eq!(
            p.stacks[0].status,
            PlanStatus::Unchanged,
            "{:?}",
            p.stacks[0]
        );

        let project = reconfigure(
            &dir,
            &config("us-east-1", "parameters: {Team: platform, Retention: 90}\n"),
        );
        let p = plan_now(&project, &aws).await;
        let changes = &p.stacks[0].parameter_changes;
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].key, "Retention");
        assert_eq!(changes[0].before.as_deref(), Some("30"));
        assert_eq!(changes[0].after.as_deref(), Some("90"));
        assert_eq!(
            p.stacks[0].stack_set.as_ref().unwrap().operations,
            [SetOperation::UpdateStackSet { instances: 2 }]
        );
    }

    #[tokio::test]
    async fn the_management_account_never_gets_a_service_managed_instance() {
        let (_d, project) = audit_project("us-east-1");
        let aws = org();
        *aws.org_management.lock().unwrap() = A.into();
        let p = plan_now(&project, &aws).await;
        let add = &p.stacks[0].stack_set.as_ref().unwrap().add;
        assert_eq!(add.len(), 1, "{add:?}");
        assert_eq!(add[0].account, B);
    }

    #[tokio::test]
    async fn a_big_template_is_staged_by_apply_only() {
        // Over the 51,200-byte inline limit.
        let big = format!(
            "{{\"Description\": \"{}\", \"Resources\": {{\"Topic\": {{\"Type\": \"AWS::SNS::Topic\"}}}}}}",
            "x".repeat(60_000)
        );
        let (_d, project) = project(&[
            ("stacks/audit.yaml", &config("us-east-1", "")),
            ("templates/audit.json.njk", &big),
        ]);
        let aws = org();
        plan_now(&project, &aws).await;
        assert!(!aws.calls().iter().any(|c| c.starts_with("PutObject")));
        run(&project, &aws, options()).await.0.unwrap();
        let calls = aws.calls();
        let put = calls
            .iter()
            .position(|c| c.starts_with("PutObject audit"))
            .unwrap();
        let create = calls
            .iter()
            .position(|c| c.starts_with("CreateStackSet audit https://"))
            .unwrap_or_else(|| panic!("{calls:#?}"));
        assert!(put < create);
        assert_eq!(
            calls.iter().filter(|c| c.starts_with("PutObject")).count(),
            1
        );
    }

    #[tokio::test]
    async fn destroy_deletes_every_instance_then_the_stack_set() {
        let (_d, project) = audit_project("us-east-1, us-west-2");
        let aws = org();
        run(&project, &aws, options()).await.0.unwrap();
        let ui = Arc::new(TestUi::default());
        let report = crate::deploy::destroy::destroy(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            crate::deploy::destroy::DestroyOptions {
                stacks: vec!["audit".into()],
                all: false,
                yes: true,
                disable_termination_protection: false,
                concurrency: 4,
                wait: options().wait,
                interrupt: crate::interrupt::Interrupt::never(),
            },
            ui,
        )
        .await
        .unwrap();
        assert_eq!(report.previews[0].deleted.len(), 5, "{:?}", report.previews);
        assert_eq!(report.stacks[0].outcome, Outcome::Deleted);
        assert_eq!(report.stacks[0].status.as_deref(), Some("DELETE_COMPLETE"));
        assert!(aws.sets.lock().unwrap().sets.is_empty());
        let calls = aws.calls();
        let delete = calls
            .iter()
            .position(|c| c.starts_with("DeleteStackInstances"))
            .unwrap();
        let gone = calls
            .iter()
            .position(|c| c == "DeleteStackSet audit")
            .unwrap();
        assert!(delete < gone);
        assert_eq!(
            calls[delete],
            format!("DeleteStackInstances audit OUs {OU} us-east-1,us-west-2 retain=false")
        );
    }

    #[tokio::test]
    async fn drift_detection_names_each_drifted_instance() {
        let (_d, project) = audit_project("us-east-1");
        let aws = org();
        run(&project, &aws, options()).await.0.unwrap();
        aws.sets
            .lock()
            .unwrap()
            .drift
            .insert((B.into(), "us-east-1".into()), "DRIFTED".into());
        aws.sets.lock().unwrap().scripts.push_back(OperationScript {
            running_polls: 2,
            ..Default::default()
        });
        let report = crate::audit::drift::drift(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            &Selection {
                names: vec!["audit".into()],
                all: false,
            },
            &crate::audit::drift::DriftOptions {
                render: RenderOptions::default(),
                poll: crate::poll::Poll {
                    first: Duration::ZERO,
                    max: Duration::ZERO,
                    timeout: Duration::from_secs(5),
                },
                concurrency: 4,
            },
        )
        .await
        .unwrap();
        let r = &report.stacks[0];
        assert!(r.drifted);
        assert_eq!(r.method, crate::audit::drift::DriftMethod::StackSet);
        assert_eq!(r.resources.len(), 1);
        assert_eq!(r.resources[0].logical_id, format!("{B}/us-east-1"));
        assert!(aws.calls().iter().any(|c| c == "DetectStackSetDrift audit"));

        let status = crate::deploy::status::status(
            project.clone(),
            Arc::new(FakeConnect(aws.clone())),
            &Selection {
                names: vec!["audit".into()],
                all: false,
            },
        )
        .await
        .unwrap();
        let set = status[0].stack_set.as_ref().unwrap();
        assert_eq!(set.instances.len(), 2);
        assert_eq!(status[0].drift_status.as_deref(), Some("DRIFTED"));
    }

    #[tokio::test]
    async fn a_stack_set_written_otherwise_is_unchanged_unless_refreshed() {
        let (dir, project) = audit_project("us-east-1");
        let aws = org();
        run(&project, &aws, options()).await.0.unwrap();
        // The same trust policy, as a string with other spacing.
        std::fs::write(
            dir.path().join("templates/audit.json.njk"),
            "{\"Resources\": {\"Role\": {\"Type\": \"AWS::IAM::Role\", \"Properties\": {\"AssumeRolePolicyDocument\": \"{ \\\"Statement\\\": [], \\\"Version\\\": \\\"2012-10-17\\\" }\"}}}}",
        )
        .unwrap();
        let p = plan_now(&project, &aws).await;
        let s = &p.stacks[0];
        assert_eq!(s.status, PlanStatus::Unchanged, "{s:#?}");
        assert_eq!(
            s.formatting_only[0].paths[0].describe(),
            "Properties.AssumeRolePolicyDocument has the same policy, written as a string on one side and as JSON on the other"
        );
        let mut refresh = options().plan;
        refresh.refresh_templates = true;
        let p = plan(project.clone(), Arc::new(FakeConnect(aws.clone())), refresh)
            .await
            .unwrap();
        assert_eq!(p.stacks[0].status, PlanStatus::Changed);
        assert_eq!(
            p.stacks[0].stack_set.as_ref().unwrap().operations,
            [SetOperation::UpdateStackSet { instances: 2 }]
        );
    }

    #[tokio::test]
    async fn a_stack_set_reading_a_changing_output_runs_nothing_when_it_stays_the_same() {
        let queue = |delay: u32| {
            format!("{{\"Resources\": {{\"Q\": {{\"Type\": \"AWS::SQS::Queue\", \"Properties\": {{\"DelaySeconds\": {delay}}}}}}}, \"Outputs\": {{\"Arn\": {{\"Value\": {{\"Fn::GetAtt\": [\"Q\", \"Arn\"]}}}}}}}}")
        };
        let template = "{\"Parameters\": {\"Team\": {\"Type\": \"String\"}}, \"Resources\": {\"Topic\": {\"Type\": \"AWS::SNS::Topic\"}}}";
        let new_queue = queue(5);
        let (_d, project) = project(&[
            (
                "stacks/audit.yaml",
                &config(
                    "us-east-1",
                    "parameters: {Team: \"{{ stack_output('q', 'Arn') }}\"}\n",
                ),
            ),
            ("templates/audit.json.njk", template),
            ("stacks/q.yaml", "name: q\ntemplate: q.json.njk\n"),
            ("templates/q.json.njk", &new_queue),
        ]);
        let aws = org();
        let arn = "arn:aws:sqs:us-east-1:123456789012:q";
        aws.deploy("q", &new_queue, &[], &[("Arn", arn)]);
        run(&project, &aws, options()).await.0.unwrap();
        // q changes: the StackSet's Team is known only after apply.
        aws.deploy("q", &queue(0), &[], &[("Arn", arn)]);
        aws.answer_change_set(
            "q",
            crate::testing::fake_aws::change_set(&[("Modify", "Q", "AWS::SQS::Queue")]),
        );
        let p = plan_now(&project, &aws).await;
        let audit = p.stacks.iter().find(|s| s.stack == "audit").unwrap();
        assert_eq!(audit.status, PlanStatus::Changed, "{audit:#?}");
        assert_eq!(audit.known_after_apply, ["q.Arn"]);
        assert!(audit.stack_set.as_ref().unwrap().operations.is_empty());
        let before = aws.calls().len();
        let (report, lines) = run(&project, &aws, options()).await;
        let report = report.unwrap();
        let outcomes: Vec<(&str, Outcome)> = report
            .stacks
            .iter()
            .map(|r| (r.stack.as_str(), r.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [("q", Outcome::Updated), ("audit", Outcome::Unchanged)],
            "{lines:?}"
        );
        assert!(!aws.calls()[before..]
            .iter()
            .any(|c| c.starts_with("UpdateStackSet")));
    }
}
