//! Planning a StackSet stack (`stack_set:` in its config): the template, parameter and tag
//! diff against the deployed StackSet (DescribeStackSet), the stack instances the targets
//! add and remove (ListStackInstances against the accounts of the targets, found through
//! AWS Organizations for OUs), and the operations `apply` would run, in order.
//!
//! StackSets have no change sets, so the plan's resource changes come from the template diff
//! alone; risks are the template's (deletions, replacements, broadened policies) plus the
//! removal of instances, which deletes their stacks unless they are retained.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::compare::{effective_parameters, hashes, sha256, value_changes};
use super::diff::{diff_templates, formatting_only, TemplateDiff};
use super::model::{Deployed, PlanStatus, StackPlan, ValueChange};
use super::model::{InstanceRef, PlanOptions, SetOperation, StackSetPlan};
use super::risk::{dedupe, template_risks, Risk, RiskKind};
use crate::aws::connect::{Clients, Connect};
use crate::aws::organizations::accounts_under;
use crate::aws::stacksets::{
    AutoDeployment, InstanceSummary, StackSetInfo, StackSetRequest, Targets,
};
use crate::context::state::parse_deployed;
use crate::context::{clients_for, render_live};
use crate::error::{Error, Result};
use crate::project::config::PermissionModel;
use crate::project::stackset::StackSetConfig;
use crate::project::{Project, Stack};
use crate::render::{RenderOptions, Rendered};
use crate::template::params::{no_echo_parameters, required_capabilities, template_defaults};

/// What a StackSet stack renders to and would send, shared by plan and apply.
pub struct Prepared {
    pub rendered: Rendered,
    pub body: String,
    pub request: StackSetRequest,
    pub known_after_apply: Vec<String>,
}

/// Renders a StackSet stack and builds its CreateStackSet/UpdateStackSet request, with the
/// template inline: [`stage`] moves one over the inline limit to S3 when it is sent.
pub async fn prepare(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
    set: &StackSetConfig,
    render: &RenderOptions,
) -> Result<Prepared> {
    let (rendered, known_after_apply) = render_live(project, connect, stack, render).await?;
    let body = rendered.body();
    let administration_role_arn = set
        .administration_role_arn(project.account_of(stack).map(|a| a.id.as_str()))
        .map_err(|name| {
            Error::Usage(format!(
                "stack `{}`: `stack_set.administration_role` `{name}` is a role name; give the stack an `account` (or `defaults.account`) so that its ARN is known, or write the ARN",
                stack.name
            ))
        })?;
    let request = StackSetRequest {
        name: stack.name.clone(),
        template_body: body.clone(),
        template_url: None,
        description: stack.description.clone(),
        parameters: rendered.parameter_pairs(),
        tags: rendered.tag_pairs(),
        capabilities: required_capabilities(&rendered.template, &stack.capabilities),
        permission_model: set.permission_model.as_str().to_owned(),
        administration_role_arn,
        execution_role_name: set.execution_role_name(),
        auto_deployment: match set.permission_model {
            PermissionModel::ServiceManaged => Some(set.auto_deployment.unwrap_or_default()),
            PermissionModel::SelfManaged => None,
        },
    };
    Ok(Prepared {
        rendered,
        body,
        request,
        known_after_apply,
    })
}

/// A template over CloudFormation's inline limit goes to S3 and by URL: done only by
/// `apply`, right before the request is sent, so that planning uploads nothing.
pub async fn stage(clients: &Clients, request: &mut StackSetRequest) -> Result<()> {
    if request.template_url.is_none() && crate::aws::staging::needs_staging(&request.template_body)
    {
        request.template_url = Some(
            clients
                .staging
                .upload_template(&request.name, &request.template_body)
                .await?,
        );
    }
    Ok(())
}

/// The account and region pairs the targets reach now; for OUs, the accounts under them
/// (nested OUs included), each with its OU.
pub async fn desired_instances(
    clients: &Clients,
    set: &StackSetConfig,
) -> Result<BTreeSet<InstanceRef>> {
    let mut accounts: Vec<(String, Option<String>)> = Vec::new();
    match &set.targets {
        Targets::Accounts(ids) => accounts.extend(ids.iter().map(|a| (a.clone(), None))),
        Targets::OrganizationalUnits(units) => {
            // AWS never deploys a service-managed instance to the management account, even
            // in a targeted OU or under the root.
            let management = clients.org.management_account().await.map_err(|e| Error::Aws {
                operation: "reading the organisation".into(),
                message: format!(
                    "{e}; a SERVICE_MANAGED StackSet is planned from the management or delegated administrator account"
                ),
            })?;
            for ou in units {
                let found = accounts_under(clients.org.as_ref(), ou)
                    .await
                    .map_err(|e| Error::Aws {
                        operation: format!("listing the accounts of `{ou}`"),
                        message: format!(
                            "{e}; a SERVICE_MANAGED StackSet is planned from the management or delegated administrator account"
                        ),
                    })?;
                accounts.extend(
                    found
                        .into_iter()
                        .filter(|a| a.is_active() && a.id != management)
                        .map(|a| (a.id, Some(ou.clone()))),
                );
            }
        }
    }
    let mut out = BTreeSet::new();
    for region in &set.regions {
        for (account, ou) in &accounts {
            out.insert(InstanceRef {
                account: account.clone(),
                region: region.clone(),
                organizational_unit: ou.clone(),
            });
        }
    }
    Ok(out)
}

/// The instances to add and to remove, and the operations that do it. Pure, so that it is
/// tested on its own.
///
/// Service-managed StackSets are changed a whole OU and region at a time, so an instance is
/// removed only when its OU or its region is no longer targeted; an account that left a
/// target OU is AWS's to remove (automatic deployment), never by deleting the OU's instances.
pub fn reconcile(
    set: &StackSetConfig,
    exists: bool,
    template_changed: bool,
    deployed: &[InstanceSummary],
    desired: &BTreeSet<InstanceRef>,
) -> (Vec<InstanceRef>, Vec<InstanceRef>, Vec<SetOperation>) {
    let have: BTreeSet<(&str, &str)> = deployed
        .iter()
        .map(|i| (i.account.as_str(), i.region.as_str()))
        .collect();
    let add: Vec<InstanceRef> = desired
        .iter()
        .filter(|d| !have.contains(&(d.account.as_str(), d.region.as_str())))
        .cloned()
        .collect();
    let wanted: BTreeSet<(&str, &str)> = desired
        .iter()
        .map(|d| (d.account.as_str(), d.region.as_str()))
        .collect();
    let remove: Vec<InstanceRef> = match &set.targets {
        Targets::Accounts(_) => deployed
            .iter()
            .filter(|i| !wanted.contains(&(i.account.as_str(), i.region.as_str())))
            .map(InstanceRef::from)
            .collect(),
        Targets::OrganizationalUnits(units) => deployed
            .iter()
            .filter(|i| {
                let region_gone = !set.regions.contains(&i.region);
                let unit_gone = i
                    .organizational_unit
                    .as_ref()
                    .is_some_and(|ou| !units.contains(ou));
                region_gone || unit_gone
            })
            .map(InstanceRef::from)
            .collect(),
    };

    let mut operations = Vec::new();
    if !exists {
        operations.push(SetOperation::CreateStackSet);
    }
    for (targets, regions, n) in group(&remove, &set.targets) {
        operations.push(SetOperation::DeleteInstances {
            targets,
            regions,
            instances: n,
            retain: set.retain_stacks_on_removal,
        });
    }
    if exists && template_changed {
        // With no instance left to update, the StackSet itself still takes the new template.
        operations.push(SetOperation::UpdateStackSet {
            instances: deployed.len() - remove.len(),
        });
    }
    for (targets, regions, n) in group(&add, &set.targets) {
        operations.push(SetOperation::CreateInstances {
            targets,
            regions,
            instances: n,
        });
    }
    (add, remove, operations)
}

/// Groups instances into operations that touch exactly them: targets (accounts or OUs)
/// that share the same set of regions go together.
pub fn group(instances: &[InstanceRef], kind: &Targets) -> Vec<(Targets, Vec<String>, usize)> {
    let by_ou = matches!(kind, Targets::OrganizationalUnits(_));
    // The target an instance is reached through; "" for an OU that AWS did not report.
    let key = |i: &InstanceRef| {
        if by_ou {
            i.organizational_unit.clone().unwrap_or_default()
        } else {
            i.account.clone()
        }
    };
    let mut regions_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for i in instances {
        regions_of
            .entry(key(i))
            .or_default()
            .insert(i.region.clone());
    }
    let mut groups: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for (target, regions) in regions_of {
        groups
            .entry(regions.into_iter().collect())
            .or_default()
            .push(target);
    }
    groups
        .into_iter()
        .map(|(regions, targets)| {
            let n = instances
                .iter()
                .filter(|i| targets.contains(&key(i)) && regions.contains(&i.region))
                .count();
            let targets = if by_ou {
                // An instance whose OU AWS did not report is reached through every
                // targeted OU (only a removed region takes such an instance away).
                let mut units: Vec<String> = Vec::new();
                for t in targets {
                    if t.is_empty() {
                        if let Targets::OrganizationalUnits(all) = kind {
                            units.extend(all.iter().cloned());
                        }
                    } else {
                        units.push(t);
                    }
                }
                let mut seen = BTreeSet::new();
                units.retain(|u| seen.insert(u.clone()));
                Targets::OrganizationalUnits(units)
            } else {
                Targets::Accounts(targets)
            };
            (targets, regions, n)
        })
        .collect()
}

/// IAM resources whose name is fixed (the same in every region): `` `Role` names its
/// AWS::IAM::Role `audit` ``. A name built with `${AWS::Region}` is fine, and so is a
/// resource with a `Condition`.
pub fn global_names(template: &serde_json::Value) -> Vec<String> {
    const NAMED: &[(&str, &str)] = &[
        ("AWS::IAM::Role", "RoleName"),
        ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
        ("AWS::IAM::User", "UserName"),
        ("AWS::IAM::Group", "GroupName"),
        ("AWS::IAM::InstanceProfile", "InstanceProfileName"),
        ("AWS::IAM::OIDCProvider", "Url"),
    ];
    let mut out = Vec::new();
    let Some(resources) = template.get("Resources").and_then(|r| r.as_object()) else {
        return out;
    };
    for (id, r) in resources {
        let ty = r.get("Type").and_then(|t| t.as_str()).unwrap_or_default();
        // A resource with a Condition may exist in one region only (a condition on
        // AWS::Region); trust it.
        if r.get("Condition").is_some() {
            continue;
        }
        let Some((_, key)) = NAMED.iter().find(|(t, _)| *t == ty) else {
            continue;
        };
        let Some(name) = r.get("Properties").and_then(|p| p.get(*key)) else {
            continue;
        };
        let regional = name.to_string().contains("AWS::Region");
        if !regional {
            let shown = name
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| name.to_string());
            out.push(format!("`{id}` names its {ty} `{shown}`"));
        }
    }
    out
}

/// The StackSet's own settings that change.
fn setting_changes(info: &StackSetInfo, req: &StackSetRequest) -> Vec<ValueChange> {
    let text = |a: &Option<AutoDeployment>| {
        a.map(|a| {
            if a.enabled {
                format!(
                    "enabled ({} stacks on account removal)",
                    if a.retain_stacks_on_account_removal {
                        "retain"
                    } else {
                        "delete"
                    }
                )
            } else {
                "disabled".to_owned()
            }
        })
    };
    let mut out = Vec::new();
    let mut push = |key: &str, before: Option<String>, after: Option<String>| {
        if after.is_some() && before != after {
            out.push(ValueChange {
                key: key.to_owned(),
                kind: super::diff::ChangeKind::Modified,
                before,
                after,
                masked: false,
            });
        }
    };
    push(
        "auto_deployment",
        text(&info.auto_deployment),
        text(&req.auto_deployment),
    );
    push(
        "execution_role",
        info.execution_role_name.clone(),
        req.execution_role_name.clone(),
    );
    push(
        "administration_role",
        info.administration_role_arn.clone(),
        req.administration_role_arn.clone(),
    );
    push(
        "description",
        info.description.clone(),
        req.description.clone(),
    );
    out
}

/// Plans one StackSet stack.
pub async fn plan_stack_set(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
    set: &StackSetConfig,
    options: &PlanOptions,
) -> Result<StackPlan> {
    let clients = clients_for(project, connect, stack).await?;
    let prepared = prepare(project, connect, stack, set, &options.render).await?;
    refuse_global_names(set, &prepared.rendered)?;
    let (current, deployed_instances) = read_current(&clients, stack, set).await?;
    let old_template = match &current {
        Some(info) => Some(parse_deployed(&info.template_body)?),
        None => None,
    };
    let rendered = &prepared.rendered;
    let changes = SetChanges::of(
        current.as_ref(),
        old_template.as_ref(),
        rendered,
        &prepared.request,
    );
    let desired = desired_instances(&clients, set).await?;
    // `--refresh-templates`: a StackSet that means what is rendered but is written differently
    // takes the new text too.
    let refresh = options.refresh_templates
        && current
            .as_ref()
            .is_some_and(|i| sha256(&i.template_body) != sha256(&prepared.body));
    let (add, remove, operations) = reconcile(
        set,
        current.is_some(),
        changes.update_needed() || refresh,
        &deployed_instances,
        &desired,
    );
    let formatting = old_template
        .as_ref()
        .map(|old| formatting_only(old, &rendered.template, &changes.template))
        .unwrap_or_default();
    let unhealthy: Vec<InstanceSummary> = deployed_instances
        .iter()
        .filter(|i| i.status != "CURRENT")
        .cloned()
        .collect();
    let risks = set_risks(
        stack,
        set,
        old_template.as_ref(),
        rendered,
        &changes.template,
        current.is_some().then_some(deployed_instances.len()),
        &remove,
    );
    let status = match &current {
        None => PlanStatus::New,
        Some(_) if operations.is_empty() => PlanStatus::Unchanged,
        Some(_) => PlanStatus::Changed,
    };
    Ok(StackPlan {
        stack: stack.name.clone(),
        region: clients.region.clone(),
        account_id: clients.caller.as_ref().map(|c| c.identity.account.clone()),
        status,
        error: None,
        deployed: current.as_ref().map(|i| Deployed {
            stack_id: i.id.clone(),
            status: i.status.clone(),
            last_updated: None,
            template_sha256: sha256(&i.template_body),
        }),
        risks,
        template_changes: changes.template,
        parameter_changes: changes.parameters,
        tag_changes: changes.tags,
        termination_protection: None,
        stack_policy: None,
        formatting_only: formatting,
        resource_changes: Vec::new(),
        change_set: None,
        predicted: false,
        change_set_reason: None,
        adoptable: Vec::new(),
        lifecycle_changes: Vec::new(),
        known_after_apply: prepared.known_after_apply.clone(),
        hashes: hashes(
            &prepared.body,
            &prepared.rendered.template,
            &prepared.rendered.parameters,
        )?,
        stack_set: Some(StackSetPlan {
            permission_model: set.permission_model.as_str().to_owned(),
            targets: set.targets.clone(),
            regions: set.regions.clone(),
            instances: deployed_instances,
            add,
            remove,
            retain_removed: set.retain_stacks_on_removal,
            unhealthy,
            setting_changes: changes.settings,
            operations,
            preferences: set.preferences.clone(),
        }),
        replaces_failed: None,
    })
}

/// Refuses IAM names in a StackSet deployed to several regions: they are global to an
/// account, so the second region's instance would fail.
fn refuse_global_names(set: &StackSetConfig, rendered: &Rendered) -> Result<()> {
    if set.regions.len() > 1 {
        if let Some(problem) = global_names(&rendered.template).first() {
            return Err(Error::Usage(format!(
                "{problem}, but IAM names are global to an account and the StackSet deploys to {} regions in each: the second region's instance would fail with EntityAlreadyExists. Put the region in the name (`{{\"Fn::Sub\": \"name-${{AWS::Region}}\"}}`), leave the name out, or deploy to one region",
                set.regions.len()
            )));
        }
    }
    Ok(())
}

/// The deployed StackSet and its instances; refused when a plain stack of the same name is
/// deployed, an operation is running, or the permission model differs.
async fn read_current(
    clients: &Clients,
    stack: &Stack,
    set: &StackSetConfig,
) -> Result<(Option<StackSetInfo>, Vec<InstanceSummary>)> {
    let current = clients.stack_sets.describe_stack_set(&stack.name).await?;
    let deployed_instances = match &current {
        Some(_) => clients.stack_sets.list_instances(&stack.name).await?,
        None => Vec::new(),
    };
    if current.is_none() {
        // A stack config turned into a StackSet: its old stack would collide with the
        // instances (same resource names) and would be left behind.
        if let Some(old) = clients.cfn.describe_stack(&stack.name).await? {
            return Err(Error::StackState {
                stack: stack.name.clone(),
                status: format!("deployed as a stack ({})", old.status),
                guidance: format!(
                    "its config now declares a StackSet; delete the stack first (`aws cloudformation delete-stack --stack-name {}`, after checking what it holds), or its resources' names collide with the StackSet's instances",
                    stack.name
                ),
            });
        }
    }
    if current.is_some() {
        let operations = clients.stack_sets.list_operations(&stack.name).await?;
        if let Some(busy) = operations.iter().find(|o| !o.is_done()) {
            return Err(Error::StackState {
                stack: stack.name.clone(),
                status: format!("{} {}", busy.action, busy.status),
                guidance: format!(
                    "StackSet operation {} is still running and AWS runs one at a time; wait for it (`little events {} --follow`) and run again",
                    busy.id, stack.name
                ),
            });
        }
    }
    if let Some(info) = &current {
        if info.permission_model != set.permission_model.as_str() {
            return Err(Error::Usage(format!(
                "StackSet `{}` is {} but its config says {}; AWS cannot change a StackSet's permission model: delete it (`little destroy {}`) and apply again",
                stack.name,
                info.permission_model,
                set.permission_model.as_str(),
                stack.name
            )));
        }
    }
    Ok((current, deployed_instances))
}

/// What changes in the StackSet itself: template, parameters, tags and settings.
struct SetChanges {
    template: TemplateDiff,
    parameters: Vec<ValueChange>,
    tags: Vec<ValueChange>,
    settings: Vec<ValueChange>,
}

impl SetChanges {
    fn of(
        current: Option<&StackSetInfo>,
        old_template: Option<&Value>,
        rendered: &Rendered,
        request: &StackSetRequest,
    ) -> SetChanges {
        let template = diff_templates(old_template, &rendered.template);
        let no_echo = no_echo_parameters(&rendered.template);
        let effective = effective_parameters(rendered);
        // DescribeStackSet may list only the parameters that were passed: compare both sides
        // with their template's defaults applied.
        let deployed_params = current.map(|i| {
            let mut with_defaults = old_template.map(template_defaults).unwrap_or_default();
            for (k, v) in &i.parameters {
                with_defaults.insert(k.clone(), v.clone());
            }
            with_defaults
        });
        let parameters = value_changes(deployed_params, &effective, &no_echo);
        let tags = value_changes(
            current.map(|i| i.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            &rendered.tags,
            &[],
        );
        let settings = current
            .map(|i| setting_changes(i, request))
            .unwrap_or_default();
        SetChanges {
            template,
            parameters,
            tags,
            settings,
        }
    }

    /// Whether the StackSet needs an UpdateStackSet.
    fn update_needed(&self) -> bool {
        !self.template.is_empty()
            || !self.parameters.is_empty()
            || !self.tags.is_empty()
            || !self.settings.is_empty()
    }
}

/// The risks of a StackSet's plan: the template's, said of each instance (`instances`: how
/// many are deployed, None for a new StackSet), and the deletion of removed instances' stacks.
fn set_risks(
    stack: &Stack,
    set: &StackSetConfig,
    old_template: Option<&Value>,
    rendered: &Rendered,
    template_changes: &TemplateDiff,
    instances: Option<usize>,
    remove: &[InstanceRef],
) -> Vec<Risk> {
    let mut risks = template_risks(old_template, &rendered.template, template_changes);
    if let Some(deployed) = instances.filter(|_| !risks.is_empty()) {
        // Each instance's stack takes the change: say how many.
        let n = deployed - remove.len();
        for r in &mut risks {
            r.reason = format!(
                "{} (in each of the StackSet's {n} instance{})",
                r.reason.trim_end_matches('.'),
                if n == 1 { "" } else { "s" }
            );
        }
    }
    if !remove.is_empty() && !set.retain_stacks_on_removal {
        let accounts: BTreeSet<&str> = remove.iter().map(|r| r.account.as_str()).collect();
        let regions: BTreeSet<&str> = remove.iter().map(|r| r.region.as_str()).collect();
        risks.push(Risk {
            kind: RiskKind::Destructive,
            logical_id: format!("{} instances", stack.name),
            resource_type: "AWS::CloudFormation::StackInstances".into(),
            reason: format!(
                "deletes {} stack instance{} of StackSet `{}` and every resource in them ({} account{} in {}); set `stack_set.retain_stacks_on_removal: true` to keep the stacks",
                remove.len(),
                if remove.len() == 1 { "" } else { "s" },
                stack.name,
                accounts.len(),
                if accounts.len() == 1 { "" } else { "s" },
                regions.into_iter().collect::<Vec<_>>().join(", ")
            ),
            added: Vec::new(),
            removed: Vec::new(),
            holds: None,
        });
    }
    dedupe(risks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::stacksets::OperationPreferences;

    fn set(targets: Targets, regions: &[&str]) -> StackSetConfig {
        StackSetConfig {
            permission_model: match targets {
                Targets::Accounts(_) => PermissionModel::SelfManaged,
                Targets::OrganizationalUnits(_) => PermissionModel::ServiceManaged,
            },
            targets,
            regions: regions.iter().map(|r| r.to_string()).collect(),
            administration_role: None,
            execution_role: None,
            auto_deployment: None,
            preferences: OperationPreferences::default(),
            retain_stacks_on_removal: false,
            delegated_admin: false,
        }
    }

    fn inst(account: &str, region: &str, ou: Option<&str>) -> InstanceSummary {
        InstanceSummary {
            account: account.into(),
            region: region.into(),
            organizational_unit: ou.map(str::to_owned),
            status: "CURRENT".into(),
            detailed_status: None,
            status_reason: None,
            drift_status: None,
            stack_id: None,
        }
    }

    fn want(pairs: &[(&str, &str, Option<&str>)]) -> BTreeSet<InstanceRef> {
        pairs
            .iter()
            .map(|(a, r, ou)| InstanceRef {
                account: (*a).into(),
                region: (*r).into(),
                organizational_unit: ou.map(str::to_owned),
            })
            .collect()
    }

    #[test]
    fn a_new_stack_set_is_created_then_its_instances() {
        let s = set(
            Targets::OrganizationalUnits(vec!["ou-ab12-abcdefgh".into()]),
            &["us-east-1"],
        );
        let desired = want(&[
            ("111111111111", "us-east-1", Some("ou-ab12-abcdefgh")),
            ("222222222222", "us-east-1", Some("ou-ab12-abcdefgh")),
        ]);
        let (add, remove, ops) = reconcile(&s, false, true, &[], &desired);
        assert_eq!(add.len(), 2);
        assert!(remove.is_empty());
        assert_eq!(
            ops,
            [
                SetOperation::CreateStackSet,
                SetOperation::CreateInstances {
                    targets: Targets::OrganizationalUnits(vec!["ou-ab12-abcdefgh".into()]),
                    regions: vec!["us-east-1".into()],
                    instances: 2
                }
            ]
        );
    }

    #[test]
    fn a_removed_region_deletes_the_ous_instances_there_only() {
        let ou = Some("ou-ab12-abcdefgh");
        let s = set(
            Targets::OrganizationalUnits(vec!["ou-ab12-abcdefgh".into()]),
            &["us-east-1"],
        );
        let deployed = [
            inst("111111111111", "us-east-1", ou),
            inst("111111111111", "eu-west-1", ou),
        ];
        let desired = want(&[("111111111111", "us-east-1", ou)]);
        let (add, remove, ops) = reconcile(&s, true, false, &deployed, &desired);
        assert!(add.is_empty());
        assert_eq!(remove.len(), 1);
        assert_eq!(
            ops,
            [SetOperation::DeleteInstances {
                targets: Targets::OrganizationalUnits(vec!["ou-ab12-abcdefgh".into()]),
                regions: vec!["eu-west-1".into()],
                instances: 1,
                retain: false
            }]
        );
    }

    #[test]
    fn an_account_that_left_the_ou_is_not_deleted_by_ou() {
        let ou = Some("ou-ab12-abcdefgh");
        let s = set(
            Targets::OrganizationalUnits(vec!["ou-ab12-abcdefgh".into()]),
            &["us-east-1"],
        );
        let deployed = [
            inst("111111111111", "us-east-1", ou),
            inst("999999999999", "us-east-1", ou),
        ];
        let desired = want(&[("111111111111", "us-east-1", ou)]);
        let (_, remove, ops) = reconcile(&s, true, false, &deployed, &desired);
        assert!(remove.is_empty());
        assert!(ops.is_empty());
    }

    #[test]
    fn self_managed_groups_never_touch_other_pairs() {
        let s = set(
            Targets::Accounts(vec!["111111111111".into(), "222222222222".into()]),
            &["us-east-1", "us-west-2"],
        );
        // 111 is missing in us-west-2, 222 is missing in us-east-1.
        let deployed = [
            inst("111111111111", "us-east-1", None),
            inst("222222222222", "us-west-2", None),
            inst("333333333333", "us-east-1", None),
        ];
        let desired = want(&[
            ("111111111111", "us-east-1", None),
            ("111111111111", "us-west-2", None),
            ("222222222222", "us-east-1", None),
            ("222222222222", "us-west-2", None),
        ]);
        let (add, remove, ops) = reconcile(&s, true, true, &deployed, &desired);
        assert_eq!(add.len(), 2);
        assert_eq!(remove.len(), 1);
        assert_eq!(
            ops,
            [
                SetOperation::DeleteInstances {
                    targets: Targets::Accounts(vec!["333333333333".into()]),
                    regions: vec!["us-east-1".into()],
                    instances: 1,
                    retain: false
                },
                SetOperation::UpdateStackSet { instances: 2 },
                SetOperation::CreateInstances {
                    targets: Targets::Accounts(vec!["222222222222".into()]),
                    regions: vec!["us-east-1".into()],
                    instances: 1
                },
                SetOperation::CreateInstances {
                    targets: Targets::Accounts(vec!["111111111111".into()]),
                    regions: vec!["us-west-2".into()],
                    instances: 1
                },
            ]
        );
    }
}
