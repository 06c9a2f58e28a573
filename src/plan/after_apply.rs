//! Values known only after apply, across the stacks of one plan: a dependent reads its
//! dependencies' outputs when it is planned, so an output that the plan changes in its own
//! stack is not known yet. As terraform shows `(known after apply)`, such a dependent lists
//! the `stack.Output` values it reads that may change, and is planned as changed: `apply`
//! plans it again once its dependencies are applied, with the values then deployed.
//!
//! Which outputs may change is decided from the producing stack's plan and rendered template:
//! an output whose declaration changes, or that refers to a resource the template diff or the
//! change set changes, or to a parameter that changes; all of them when the template has a
//! transform, its other sections change, or the stack's own inputs are not known yet.
//! Generous, never short: a value that may change is never shown as known.
//!
//! Pure: works on plans already made (no AWS call); the plans themselves are `run`'s.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::model::{PlanStatus, StackPlan};
use crate::project::Project;
use crate::template::intrinsic::refers_to;

/// The outputs of a planned stack that may change at apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changing {
    /// Every output.
    All,
    /// These output keys.
    Keys(BTreeSet<String>),
}

impl Changing {
    fn covers(&self, key: &str) -> bool {
        match self {
            Changing::All => true,
            Changing::Keys(keys) => keys.contains(key),
        }
    }
}

/// Marks, in `plans` (in dependency order), the values each stack reads from a dependency that
/// changes in this plan: added to its `known_after_apply`, and an unchanged stack becomes
/// changed. `templates` holds the rendered template of each stack planned with one.
pub fn mark(project: &Project, plans: &mut [StackPlan], templates: &BTreeMap<String, Value>) {
    let mut changing: BTreeMap<String, Changing> = BTreeMap::new();
    for plan in plans.iter_mut() {
        if plan.status == PlanStatus::Failed {
            continue;
        }
        let Some(stack) = project.stack(&plan.stack) else {
            continue;
        };
        let mut unknown: Vec<String> = stack
            .output_refs
            .iter()
            .filter(|(dep, key)| changing.get(dep).is_some_and(|c| c.covers(key)))
            .map(|(dep, key)| format!("{dep}.{key}"))
            .collect();
        if !unknown.is_empty() {
            unknown.append(&mut plan.known_after_apply);
            unknown.sort();
            unknown.dedup();
            plan.known_after_apply = unknown;
            if plan.status == PlanStatus::Unchanged {
                plan.status = PlanStatus::Changed;
            }
        }
        if plan.status == PlanStatus::Changed {
            let outputs = if plan.known_after_apply.is_empty() {
                templates
                    .get(&plan.stack)
                    .map(|t| changing_outputs(t, plan))
                    .unwrap_or(Changing::All)
            } else {
                // Its own inputs are not known yet: neither is anything it outputs.
                Changing::All
            };
            changing.insert(plan.stack.clone(), outputs);
        }
    }
}

/// The outputs of a changed stack that may change at apply, from its plan and its rendered
/// template.
pub fn changing_outputs(template: &Value, plan: &StackPlan) -> Changing {
    let diff = &plan.template_changes;
    if template.get("Transform").is_some() || !diff.sections.is_empty() {
        return Changing::All;
    }
    // What changes: resources (in the template or in the change set), parameter values and
    // parameter declarations.
    let mut changed: BTreeSet<&str> = BTreeSet::new();
    changed.extend(diff.resources.iter().map(|r| r.logical_id.as_str()));
    changed.extend(plan.resource_changes.iter().map(|c| c.logical_id.as_str()));
    changed.extend(plan.parameter_changes.iter().map(|c| c.key.as_str()));
    changed.extend(diff.parameters.iter().map(|c| first_key(&c.path)));
    let parameters_change = !plan.parameter_changes.is_empty() || !diff.parameters.is_empty();
    // Outputs whose declaration changes, or that are removed.
    let mut keys: BTreeSet<String> = diff
        .outputs
        .iter()
        .map(|c| first_key(&c.path).to_owned())
        .collect();
    if let Some(outputs) = template.get("Outputs").and_then(Value::as_object) {
        for (key, output) in outputs {
            let text = output.to_string();
            let may_change = changed.iter().any(|name| refers_to(output, name))
                // Another stack's export, or a value resolved at deployment.
                || text.contains("Fn::ImportValue")
                || text.contains("{{resolve:")
                // A condition or a mapping may be decided by a parameter.
                || (parameters_change
                    && (output.get("Condition").is_some()
                        || text.contains("Fn::If")
                        || text.contains("Fn::FindInMap")));
            if may_change {
                keys.insert(key.clone());
            }
        }
    }
    Changing::Keys(keys)
}

/// The first key of a diff path (`RepoUri.Value` → `RepoUri`; `["a.b"].Value` → `a.b`).
fn first_key(path: &str) -> &str {
    if let Some(rest) = path.strip_prefix("[\"") {
        return rest.split("\"]").next().unwrap_or(rest);
    }
    path.split(['.', '[']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::changeset::ResourceChange;
    use crate::plan::diff::diff_templates;
    use crate::plan::model::ValueChange;
    use crate::testing::fake_aws::project;
    use serde_json::json;

    fn plan(name: &str, status: PlanStatus) -> StackPlan {
        StackPlan::empty(name, "us-east-1", status)
    }

    fn template(arn: &str) -> Value {
        json!({
            "Parameters": {"Name": {"Type": "String"}},
            "Resources": {
                "Role": {"Type": "AWS::IAM::Role", "Properties": {"Path": arn}},
                "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": {"Ref": "Name"}}}},
            "Outputs": {
                "RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}},
                "RepoUri": {"Value": {"Fn::Sub": "${Repo.RepositoryUri}"}},
                "Region": {"Value": {"Ref": "AWS::Region"}}}
        })
    }

    fn keys(c: Changing) -> Vec<String> {
        match c {
            Changing::All => vec!["*".into()],
            Changing::Keys(k) => k.into_iter().collect(),
        }
    }

    #[test]
    fn only_outputs_that_refer_to_what_changes_are_unknown() {
        let old = template("/a/");
        let new = template("/b/");
        let mut p = plan("iam", PlanStatus::Changed);
        p.template_changes = diff_templates(Some(&old), &new);
        assert_eq!(keys(changing_outputs(&new, &p)), ["RoleArn"]);
        // A parameter change reaches the outputs that use it, through the resources.
        let mut p = plan("iam", PlanStatus::Changed);
        p.parameter_changes.push(ValueChange {
            key: "Name".into(),
            kind: crate::plan::diff::ChangeKind::Modified,
            before: Some("a".into()),
            after: Some("b".into()),
            masked: false,
        });
        p.resource_changes.push(ResourceChange {
            action: "Modify".into(),
            logical_id: "Repo".into(),
            physical_id: None,
            resource_type: "AWS::ECR::Repository".into(),
            replacement: Some("True".into()),
            scope: Vec::new(),
            details: Vec::new(),
        });
        assert_eq!(keys(changing_outputs(&new, &p)), ["RepoUri"]);
        // A tag change alone changes no output.
        let p = plan("iam", PlanStatus::Changed);
        assert_eq!(keys(changing_outputs(&new, &p)), Vec::<String>::new());
        // A changed output declaration, or a transform: the output, or all of them.
        let mut changed = new.clone();
        changed["Outputs"]["Region"]["Value"] = json!("fixed");
        let mut p = plan("iam", PlanStatus::Changed);
        p.template_changes = diff_templates(Some(&new), &changed);
        assert_eq!(keys(changing_outputs(&changed, &p)), ["Region"]);
        changed["Transform"] = json!("AWS::Serverless-2016-10-31");
        assert_eq!(keys(changing_outputs(&changed, &p)), ["*"]);
    }

    #[test]
    fn a_dependent_of_a_changing_output_is_changed_and_so_are_its_dependents() {
        let (_d, project) = project(&[
            ("stacks/iam.yaml", "name: iam\ntemplate: t.json.njk\n"),
            ("stacks/app.yaml", "name: app\ntemplate: t.json.njk\nparameters:\n  Name: \"{{ stack_output('iam', 'RoleArn') }}\"\n"),
            ("stacks/web.yaml", "name: web\ntemplate: t.json.njk\nparameters:\n  Name: \"{{ stack_output('app', 'Region') }}\"\n"),
            ("stacks/other.yaml", "name: other\ntemplate: t.json.njk\nparameters:\n  Name: \"{{ stack_output('iam', 'Region') }}\"\n"),
            ("templates/t.json.njk", "{\"Parameters\": {\"Name\": {\"Type\": \"String\", \"Default\": \"x\"}}, \"Resources\": {}}"),
        ]);
        let old = template("/a/");
        let new = template("/b/");
        let mut iam = plan("iam", PlanStatus::Changed);
        iam.template_changes = diff_templates(Some(&old), &new);
        let mut plans = vec![
            iam,
            plan("app", PlanStatus::Unchanged),
            plan("other", PlanStatus::Unchanged),
            plan("web", PlanStatus::Unchanged),
        ];
        let templates: BTreeMap<String, Value> = ["iam", "app", "other", "web"]
            .iter()
            .map(|s| (s.to_string(), new.clone()))
            .collect();
        mark(&project, &mut plans, &templates);
        let seen: Vec<(&str, PlanStatus, Vec<String>)> = plans
            .iter()
            .map(|p| (p.stack.as_str(), p.status, p.known_after_apply.clone()))
            .collect();
        assert_eq!(
            seen,
            [
                ("iam", PlanStatus::Changed, vec![]),
                ("app", PlanStatus::Changed, vec!["iam.RoleArn".to_owned()]),
                // The region output of iam does not change.
                ("other", PlanStatus::Unchanged, vec![]),
                // app's inputs are unknown: so are all its outputs.
                ("web", PlanStatus::Changed, vec!["app.Region".to_owned()]),
            ]
        );
    }

    #[test]
    fn paths_name_their_output() {
        assert_eq!(first_key("RepoUri.Value"), "RepoUri");
        assert_eq!(first_key("RepoUri"), "RepoUri");
        assert_eq!(first_key("[\"a.b\"].Value"), "a.b");
        assert_eq!(first_key("Name.Default"), "Name");
    }
}
