//! `little adopt`: takes resources that already exist (matched by physical name: repository,
//! role, ...) into the stacks whose templates declare them, without recreating anything.
//!
//! For each stack: the resources its template adds that exist already ([`existing`]), shown
//! with what they hold and how they differ from the template; once approved, an IMPORT change
//! set whose template is the deployed one (or, for a new stack, none) plus the adopted
//! resources as they are live, each with `DeletionPolicy: Retain` when the template sets none,
//! as CloudFormation requires; then `apply` updates the stacks to their full templates (the
//! second change set: the differences shown, and the resources that did not exist). Not here:
//! finding unmanaged resources for a new config (`audit::discover`).

use std::sync::Arc;

use serde_json::{Map, Value};

use super::apply::apply;
use super::options::ApplyOptions;
use super::outcome::{wait_with_events, ApplyReport};
use super::{ask, Ui};
use crate::aws::changeset::{
    run_change_set_name, wait_for_change_set, ChangeSetRequest, ChangeSetType, ResourceToImport,
};
use crate::aws::cloudformation::StackStatus;
use crate::aws::connect::{Clients, Connect};
use crate::aws::drift::PropertyDifference;
use crate::aws::import::import_key;
use crate::aws::stack_ops::EventCursor;
use crate::context::existing::{self, Existing, Found};
use crate::context::state::{check_state, discard_change_set, parse_deployed};
use crate::context::{clients_for, render_live};
use crate::error::{Error, Result};
use crate::project::{Project, Selection, Stack};
use crate::template::intrinsic::refers_to;
use crate::template::params::required_capabilities;

/// What to adopt and how to apply afterwards.
#[derive(Clone)]
pub struct AdoptOptions {
    /// The stacks (`apply.plan.selection`), the approval, the risks allowed and the waits of
    /// the update that follows the import.
    pub apply: ApplyOptions,
    /// Adopt only these logical ids; each must exist. Empty: every resource that exists.
    pub resources: Vec<String>,
}

/// One stack's adoption, as planned.
#[derive(Debug, Clone)]
pub struct StackAdoption {
    pub stack: String,
    /// Every resource the template adds, looked up.
    pub found: Vec<Found>,
    /// Whether the stack is deployed already (the import adds to it) or new.
    pub deployed: bool,
}

impl StackAdoption {
    /// The resources to import.
    pub fn adopted(&self) -> impl Iterator<Item = &Existing> {
        self.found.iter().filter_map(|f| match f {
            Found::Exists(e) => Some(e),
            _ => None,
        })
    }
}

/// What `adopt` did: the imports, then the update.
#[derive(Debug)]
pub struct AdoptReport {
    pub adopted: Vec<StackAdoption>,
    pub apply: ApplyReport,
}

impl AdoptReport {
    pub fn verdict(&self) -> crate::error::Verdict {
        self.apply.verdict()
    }
}

/// A stack ready to import: its clients, its rendered template and what to send.
struct Prepared {
    stack: Stack,
    clients: Clients,
    adoption: StackAdoption,
    request: ChangeSetRequest,
}

/// Plans the adoption of the selected stacks, shows it, asks, imports, then applies.
pub async fn adopt(
    project: Arc<Project>,
    connect: Arc<dyn Connect>,
    options: AdoptOptions,
    ui: Arc<dyn Ui>,
) -> Result<AdoptReport> {
    let selection = &options.apply.plan.selection;
    let stacks = project.select(&selection.names, selection.all)?;
    let names: Vec<String> = stacks.iter().map(|s| s.name.clone()).collect();
    let mut prepared = Vec::new();
    for stack in stacks {
        prepared.push(prepare(&project, connect.as_ref(), stack, &options).await?);
    }
    let adoptions: Vec<StackAdoption> = prepared.iter().map(|p| p.adoption.clone()).collect();
    ui.message(&adoption_text(&adoptions));
    if !options.apply.yes {
        if !ui.can_ask() {
            return Err(Error::Refused(
                "there is no terminal to ask for approval; pass `--yes` to adopt without asking"
                    .into(),
            ));
        }
        let n: usize = adoptions.iter().map(|a| a.adopted().count()).sum();
        let question = format!(
            "Import {n} existing resource{} into their stacks, then apply the templates?",
            if n == 1 { "" } else { "s" }
        );
        if !ask(ui.clone(), question).await? {
            return Err(Error::Refused("not approved; nothing was imported".into()));
        }
    }
    let mut imported: Vec<&str> = Vec::new();
    for p in &prepared {
        if let Err(e) = import(p, &options, ui.as_ref()).await {
            if imported.is_empty() {
                return Err(e);
            }
            // What was imported stays imported: say so, and how to finish.
            return Err(Error::Adopt {
                stack: p.stack.name.clone(),
                problems: vec![
                    e.to_string(),
                    format!(
                        "{} imported already: `little apply {}` applies their templates",
                        imported
                            .iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        imported.join(" ")
                    ),
                ],
            });
        }
        imported.push(&p.stack.name);
    }
    let mut apply_options = options.apply.clone();
    apply_options.yes = true;
    apply_options.plan.selection = Selection {
        names: names.clone(),
        all: false,
    };
    let report = apply(project, connect, apply_options, ui).await?;
    Ok(AdoptReport {
        adopted: adoptions,
        apply: report,
    })
}

/// Looks up what the stack's template adds, checks what was asked for, and builds the IMPORT
/// change set's request.
async fn prepare(
    project: &Project,
    connect: &dyn Connect,
    stack: &Stack,
    options: &AdoptOptions,
) -> Result<Prepared> {
    if stack.kind.stack_set().is_some() {
        return Err(Error::Adopt {
            stack: stack.name.clone(),
            problems: vec!["it is a StackSet; `little adopt` imports into stacks only".into()],
        });
    }
    let clients = clients_for(project, connect, stack).await?;
    let (rendered, unknown) =
        render_live(project, connect, stack, &options.apply.plan.render).await?;
    if !unknown.is_empty() {
        return Err(Error::Adopt {
            stack: stack.name.clone(),
            problems: vec![format!(
                "it reads outputs that are not deployed yet ({}): apply the stacks it depends on first",
                unknown.join(", ")
            )],
        });
    }
    let info = clients
        .cfn
        .describe_stack(&stack.name)
        .await?
        .filter(|i| i.is_deployed());
    let old = match &info {
        Some(info) => {
            check_state(info, false)?;
            Some(parse_deployed(
                &clients.cfn.get_template(&stack.name).await?,
            )?)
        }
        None => None,
    };
    let added = existing::added(&rendered.template, old.as_ref());
    let mut found = existing::look_up(&clients, &rendered.template, &added).await?;
    choose(
        &stack.name,
        &rendered.template,
        &added,
        &mut found,
        &options.resources,
    )?;
    let adoption = StackAdoption {
        stack: stack.name.clone(),
        found,
        deployed: info.is_some(),
    };
    let template = import_template(&rendered.template, old.as_ref(), &adoption)?;
    let body = serde_json::to_string(&template)
        .map_err(|e| Error::Internal(format!("the import template: {e}")))?;
    let parameters = match &info {
        Some(info) => info.parameters.clone(),
        None => rendered
            .parameter_pairs()
            .into_iter()
            .filter(|(k, _)| template["Parameters"].get(k).is_some())
            .collect(),
    };
    let request = ChangeSetRequest {
        stack_name: stack.name.clone(),
        change_set_name: run_change_set_name(&stack.name, "import", &options.apply.plan.run_id),
        change_set_type: Some(ChangeSetType::Import),
        template_body: Some(body),
        template_url: None,
        parameters,
        tags: rendered.tag_pairs(),
        capabilities: required_capabilities(&template, &stack.capabilities),
        description: Some(format!("little adopt of {}", stack.name)),
        role_arn: stack.role_arn.clone(),
        notification_arns: stack.notification_arns.clone(),
        resources_to_import: adoption
            .adopted()
            .map(|e| ResourceToImport {
                logical_id: e.logical_id.clone(),
                resource_type: e.resource_type.clone(),
                identifier: vec![e.identifier.clone()],
            })
            .collect(),
    };
    Ok(Prepared {
        stack: stack.clone(),
        clients,
        adoption,
        request,
    })
}

/// Keeps the resources asked for (`--resource`), each of which must exist and be importable;
/// without any, at least one resource must exist. The errors name the resource.
fn choose(
    stack: &str,
    template: &Value,
    added: &[String],
    found: &mut [Found],
    wanted: &[String],
) -> Result<()> {
    let mut problems = Vec::new();
    for id in wanted {
        if template["Resources"].get(id).is_none() {
            problems.push(format!("`{id}` is not a resource of its template"));
        } else if !added.contains(id) {
            problems.push(format!("`{id}` is in the stack already"));
        }
    }
    for f in found.iter() {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == f.logical_id()) {
            continue;
        }
        match f {
            Found::Missing {
                logical_id,
                resource_type,
                name,
                noun,
            } if !wanted.is_empty() => problems.push(format!(
                "`{logical_id}` ({resource_type}): {noun} `{name}` does not exist in this account and region; there is nothing to adopt (`little apply` creates it)"
            )),
            Found::Unmatched {
                logical_id,
                resource_type,
                reason,
            } if !wanted.is_empty() => problems.push(format!(
                "`{logical_id}` ({resource_type}) cannot be adopted: {reason}"
            )),
            _ => {}
        }
    }
    if !problems.is_empty() {
        return Err(Error::Adopt {
            stack: stack.into(),
            problems,
        });
    }
    if !wanted.is_empty() {
        // Only the resources asked for are imported; the others stay to be created.
        for f in found.iter_mut() {
            if let Found::Exists(e) = f {
                if !wanted.contains(&e.logical_id) {
                    *f = Found::Unmatched {
                        logical_id: e.logical_id.clone(),
                        resource_type: e.resource_type.clone(),
                        reason: format!("{}, but `--resource` did not name it", e.summary),
                    };
                }
            }
        }
    }
    if !found.iter().any(|f| matches!(f, Found::Exists(_))) {
        let mut why: Vec<String> = found
            .iter()
            .map(|f| match f {
                Found::Missing {
                    logical_id,
                    noun,
                    name,
                    ..
                } => format!("`{logical_id}`: {noun} `{name}` does not exist"),
                Found::Unmatched {
                    logical_id,
                    resource_type,
                    reason,
                } => format!("`{logical_id}` ({resource_type}): {reason}"),
                Found::Exists(_) => String::new(),
            })
            .collect();
        if why.is_empty() {
            why.push("its template adds no resource".into());
        }
        why.insert(0, "nothing to adopt".into());
        return Err(Error::Adopt {
            stack: stack.into(),
            problems: why,
        });
    }
    Ok(())
}

/// The IMPORT change set's template: the deployed template, outputs unchanged (a new stack:
/// the rendered one's parameters, mappings and conditions, and no outputs) plus each adopted
/// resource as it is live
/// (its differences from the template undone; a type not compared keeps only its name and
/// the properties its import needs, `ImportKey::kept_on_import`), with `DeletionPolicy: Retain` when the template
/// sets none, and without `DependsOn` on resources the import does not hold.
pub fn import_template(
    rendered: &Value,
    old: Option<&Value>,
    adoption: &StackAdoption,
) -> Result<Value> {
    let mut template = match old {
        Some(old) => old.clone(),
        None => {
            let mut t = Map::new();
            for key in [
                "AWSTemplateFormatVersion",
                "Description",
                "Parameters",
                "Mappings",
                "Conditions",
            ] {
                if let Some(v) = rendered.get(key) {
                    t.insert(key.to_owned(), v.clone());
                }
            }
            t.insert("Resources".into(), Value::Object(Map::new()));
            Value::Object(t)
        }
    };
    let adopted: Vec<&Existing> = adoption.adopted().collect();
    let held: Vec<String> = template["Resources"]
        .as_object()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default();
    for e in &adopted {
        let mut resource = rendered["Resources"][&e.logical_id].clone();
        if let Some(properties) = resource.get_mut("Properties") {
            as_live(properties, &e.differences);
            if !e.compared {
                let kept = import_key(&e.resource_type).map_or(&[][..], |k| k.kept_on_import);
                if let Some(p) = properties.as_object_mut() {
                    p.retain(|name, _| kept.contains(&name.as_str()));
                }
            }
        }
        if resource.get("DeletionPolicy").is_none() {
            resource["DeletionPolicy"] = Value::String("Retain".into());
        }
        let present =
            |id: &str| held.iter().any(|h| h == id) || adopted.iter().any(|a| a.logical_id == id);
        if let Some(depends) = resource.get("DependsOn").cloned() {
            let kept: Vec<Value> = match depends {
                Value::String(s) => vec![Value::String(s)],
                Value::Array(a) => a,
                _ => Vec::new(),
            }
            .into_iter()
            .filter(|d| d.as_str().is_some_and(present))
            .collect();
            if let Some(obj) = resource.as_object_mut() {
                if kept.is_empty() {
                    obj.remove("DependsOn");
                } else {
                    obj.insert("DependsOn".into(), Value::Array(kept));
                }
            }
        }
        let others: Vec<String> = rendered["Resources"]
            .as_object()
            .map(|r| r.keys().filter(|k| !present(k)).cloned().collect())
            .unwrap_or_default();
        if let Some(other) = others
            .iter()
            .find(|o| refers_to(resource.get("Properties").unwrap_or(&Value::Null), o))
        {
            return Err(Error::Adopt {
                stack: adoption.stack.clone(),
                problems: vec![format!(
                    "`{}` cannot be imported on its own: its properties refer to `{other}`, which the import does not hold",
                    e.logical_id
                )],
            });
        }
        if let Some(resources) = template["Resources"].as_object_mut() {
            resources.insert(e.logical_id.clone(), resource);
        }
    }
    // CloudFormation refuses an IMPORT change set that adds or changes outputs ("As part of
    // the import operation, you cannot modify or add [Outputs]"): the deployed stack's stay as
    // they are (a new stack has none), and the update that follows brings the template's.
    Ok(template)
}

/// Sets each property that differs to its live value (a property absent live is removed), so
/// that the import records the resource as it is and the update that follows changes it.
fn as_live(properties: &mut Value, differences: &[PropertyDifference]) {
    // Removals last and from the end, so that the indexes of a list stay right.
    let mut removals: Vec<&str> = Vec::new();
    for d in differences {
        if properties.pointer(&d.path).is_none() && d.actual.is_empty() {
            continue;
        }
        if d.actual.is_empty() {
            removals.push(&d.path);
            continue;
        }
        let Some(slot) = properties.pointer_mut(&d.path) else {
            // A live value the template does not name (an inline policy added by hand): the
            // import cannot describe it; the update leaves or removes it as the template says.
            continue;
        };
        *slot = if slot.is_string() {
            Value::String(d.actual.clone())
        } else {
            serde_json::from_str(&d.actual).unwrap_or_else(|_| Value::String(d.actual.clone()))
        };
    }
    removals.sort();
    for path in removals.into_iter().rev() {
        remove_pointer(properties, path);
    }
}

/// Removes the value at a JSON pointer, and the objects that it leaves empty.
fn remove_pointer(root: &mut Value, path: &str) {
    let Some((parent, last)) = path.rsplit_once('/') else {
        return;
    };
    if let Some(container) = root.pointer_mut(parent) {
        match container {
            Value::Object(m) => {
                m.remove(last);
            }
            Value::Array(a) => {
                if let Ok(i) = last.parse::<usize>() {
                    if i < a.len() {
                        a.remove(i);
                    }
                }
            }
            _ => {}
        }
    }
    if !parent.is_empty()
        && root
            .pointer(parent)
            .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
    {
        remove_pointer(root, parent);
    }
}

/// Creates the IMPORT change set, waits for it, executes it and waits for the stack.
async fn import(p: &Prepared, options: &AdoptOptions, ui: &dyn Ui) -> Result<()> {
    let name = &p.stack.name;
    ui.progress(name, "creating the import change set");
    let kind = if p.adoption.deployed {
        ChangeSetType::Update
    } else {
        ChangeSetType::Create
    };
    let Some(_) = p.clients.change_sets.create_change_set(&p.request).await? else {
        return Err(Error::Internal(format!(
            "CloudFormation made no import change set for `{name}`"
        )));
    };
    match wait_for_change_set(
        p.clients.change_sets.as_ref(),
        name,
        &p.request.change_set_name,
        options.apply.plan.poll,
    )
    .await
    {
        Ok(cs) if cs.is_ready() => {}
        Ok(cs) => {
            discard_change_set(&p.clients, name, &p.request.change_set_name, kind).await;
            return Err(Error::Aws {
                operation: "cloudformation:CreateChangeSet".into(),
                message: format!(
                    "the import change set of `{name}` failed: {}",
                    cs.status_reason.unwrap_or_else(|| "no reason given".into())
                ),
            });
        }
        Err(e) => {
            discard_change_set(&p.clients, name, &p.request.change_set_name, kind).await;
            return Err(e);
        }
    }
    ui.progress(name, "importing");
    let mut cursor = EventCursor::new_stack();
    p.clients
        .change_sets
        .execute_change_set(name, &p.request.change_set_name)
        .await?;
    let (info, _) = wait_with_events(&p.clients, name, &mut cursor, options.apply.wait, ui).await?;
    match info {
        Some(info) if info.state() == StackStatus::ImportComplete => Ok(()),
        Some(info) => Err(Error::StackState {
            stack: name.clone(),
            status: info.status,
            guidance: format!(
                "the import did not complete; nothing was recreated or deleted (imported resources are retained): see `little events {name}`"
            ),
        }),
        None => Err(Error::StackState {
            stack: name.clone(),
            status: "gone".into(),
            guidance: "the stack disappeared during the import".into(),
        }),
    }
}

/// The adoption for people: per stack, what is adopted (and how it differs from the
/// template), what is created, what cannot be adopted and why.
pub fn adoption_text(adoptions: &[StackAdoption]) -> String {
    let mut out = String::new();
    for a in adoptions {
        out.push_str(&format!(
            "{} ({}):\n",
            a.stack,
            if a.deployed { "deployed" } else { "new stack" }
        ));
        for f in &a.found {
            match f {
                Found::Exists(e) => {
                    out.push_str(&format!(
                        "  adopt   {} ({}): {}\n",
                        e.logical_id, e.resource_type, e.summary
                    ));
                    if !e.compared {
                        out.push_str(
                            "            differences not compared for this type: the update after the import applies the template\n",
                        );
                    }
                    for d in &e.differences {
                        out.push_str(&format!(
                            "            ~ {}: {} -> {} (changed by the update after the import)\n",
                            d.path,
                            shown(&d.actual),
                            shown(&d.expected)
                        ));
                    }
                }
                Found::Missing {
                    logical_id,
                    resource_type,
                    noun,
                    name,
                } => out.push_str(&format!(
                    "  create  {logical_id} ({resource_type}): {noun} `{name}` does not exist\n"
                )),
                Found::Unmatched {
                    logical_id,
                    resource_type,
                    reason,
                } => out.push_str(&format!(
                    "  create  {logical_id} ({resource_type}): not adopted: {reason}\n"
                )),
            }
        }
    }
    out
}

/// A value in a line: `(none)` when absent.
fn shown(s: &str) -> &str {
    if s.is_empty() {
        "(none)"
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn existing(id: &str, differences: Vec<PropertyDifference>) -> Found {
        Found::Exists(Existing {
            logical_id: id.into(),
            resource_type: "AWS::ECR::Repository".into(),
            name: "team-a/api".into(),
            identifier: ("RepositoryName".into(), "team-a/api".into()),
            summary: "repository `team-a/api` exists with 3 images".into(),
            differences,
            skipped: Vec::new(),
            compared: true,
        })
    }

    fn difference(path: &str, expected: &str, actual: &str) -> PropertyDifference {
        PropertyDifference {
            path: path.into(),
            expected: expected.into(),
            actual: actual.into(),
            kind: "NOT_EQUAL".into(),
        }
    }

    fn rendered() -> Value {
        json!({
            "Parameters": {"Ci": {"Type": "String"}},
            "Resources": {
                "Repo": {"Type": "AWS::ECR::Repository", "DependsOn": ["Provider"],
                         "Properties": {"RepositoryName": "team-a/api", "ImageTagMutability": "IMMUTABLE",
                                        "LifecyclePolicy": {"LifecyclePolicyText": "{}"},
                                        "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}},
                "Provider": {"Type": "AWS::IAM::OIDCProvider", "Properties": {}}
            },
            "Outputs": {
                "RepoArn": {"Value": {"Fn::GetAtt": ["Repo", "Arn"]}},
                "ProviderArn": {"Value": {"Ref": "Provider"}}
            }
        })
    }

    #[test]
    fn a_new_stack_imports_its_resources_as_they_are_live_and_retained() {
        let adoption = StackAdoption {
            stack: "app".into(),
            found: vec![existing(
                "Repo",
                vec![
                    difference("/ImageTagMutability", "IMMUTABLE", "MUTABLE"),
                    difference("/LifecyclePolicy/LifecyclePolicyText", "{}", ""),
                    difference("/Tags/0", "{\"Key\":\"a\",\"Value\":\"1\"}", ""),
                ],
            )],
            deployed: false,
        };
        let t = import_template(&rendered(), None, &adoption).unwrap();
        let repo = &t["Resources"]["Repo"];
        assert_eq!(repo["DeletionPolicy"], "Retain");
        assert_eq!(repo["Properties"]["ImageTagMutability"], "MUTABLE");
        assert!(
            repo["Properties"].get("LifecyclePolicy").is_none(),
            "{repo}"
        );
        assert_eq!(
            repo["Properties"]["Tags"],
            json!([{"Key": "b", "Value": "2"}])
        );
        assert!(
            repo.get("DependsOn").is_none(),
            "the provider is not imported: {repo}"
        );
        assert!(t["Resources"].get("Provider").is_none());
        assert_eq!(t["Parameters"], json!({"Ci": {"Type": "String"}}));
        assert!(
            t.get("Outputs").is_none(),
            "an import adds no outputs (CloudFormation refuses it): {t}"
        );
    }

    #[test]
    fn a_deployed_stack_keeps_its_template_and_gains_the_imports() {
        let old = json!({"Resources": {"Provider": {"Type": "AWS::IAM::OIDCProvider", "Properties": {}}},
                         "Outputs": {"ProviderArn": {"Value": {"Ref": "Provider"}}}});
        let mut rendered = rendered();
        rendered["Resources"]["Repo"]["DeletionPolicy"] = json!("Delete");
        let adoption = StackAdoption {
            stack: "app".into(),
            found: vec![existing("Repo", Vec::new())],
            deployed: true,
        };
        let t = import_template(&rendered, Some(&old), &adoption).unwrap();
        assert_eq!(t["Outputs"], old["Outputs"]);
        assert_eq!(t["Resources"]["Provider"], old["Resources"]["Provider"]);
        assert_eq!(
            t["Resources"]["Repo"]["DeletionPolicy"], "Delete",
            "the template's own"
        );
        assert_eq!(t["Resources"]["Repo"]["DependsOn"], json!(["Provider"]));
    }

    #[test]
    fn a_type_not_compared_is_imported_with_its_name_and_updated_to_the_rest() {
        let rendered = json!({"Resources": {"Jobs": {"Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": "jobs.fifo", "FifoQueue": true, "VisibilityTimeout": 60,
                           "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}}},
            "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {}}}});
        let adoption = StackAdoption {
            stack: "app".into(),
            found: vec![Found::Exists(Existing {
                logical_id: "Jobs".into(),
                resource_type: "AWS::SQS::Queue".into(),
                name: "jobs.fifo".into(),
                identifier: ("QueueUrl".into(), "https://q/jobs.fifo".into()),
                summary: "queue `jobs.fifo` exists".into(),
                differences: Vec::new(),
                skipped: Vec::new(),
                compared: false,
            })],
            deployed: false,
        };
        let t = import_template(&rendered, None, &adoption).unwrap();
        // Not the timeout (the update sets it), nor the reference to a queue not imported.
        assert_eq!(
            t["Resources"]["Jobs"]["Properties"],
            json!({"QueueName": "jobs.fifo", "FifoQueue": true})
        );
        assert_eq!(t["Resources"]["Jobs"]["DeletionPolicy"], "Retain");
        let text = adoption_text(&[adoption]);
        assert!(
            text.contains("differences not compared for this type"),
            "{text}"
        );
    }

    #[test]
    fn an_import_that_refers_to_a_resource_it_lacks_names_both() {
        let mut rendered = rendered();
        rendered["Resources"]["Repo"]["Properties"]["RepositoryPolicyText"] =
            json!({"Principal": {"Fn::GetAtt": ["Provider", "Arn"]}});
        let adoption = StackAdoption {
            stack: "app".into(),
            found: vec![existing("Repo", Vec::new())],
            deployed: false,
        };
        let err = import_template(&rendered, None, &adoption)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`Repo`") && err.contains("`Provider`"),
            "{err}"
        );
    }

    #[test]
    fn asked_resources_must_exist_and_be_importable() {
        let template = rendered();
        let added = vec!["Repo".to_owned(), "Provider".to_owned()];
        let mut found = vec![
            Found::Missing {
                logical_id: "Repo".into(),
                resource_type: "AWS::ECR::Repository".into(),
                name: "team-a/api".into(),
                noun: "repository",
            },
            Found::Unmatched {
                logical_id: "Provider".into(),
                resource_type: "AWS::IAM::OIDCProvider".into(),
                reason: "not one of them".into(),
            },
        ];
        let wanted = vec!["Repo".to_owned(), "Provider".to_owned(), "Nope".to_owned()];
        let err = choose("app", &template, &added, &mut found, &wanted)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`Nope` is not a resource of its template"),
            "{err}"
        );
        assert!(
            err.contains("repository `team-a/api` does not exist"),
            "{err}"
        );
        assert!(
            err.contains("`Provider` (AWS::IAM::OIDCProvider) cannot be adopted"),
            "{err}"
        );
        let err = choose("app", &template, &added, &mut found, &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("nothing to adopt"), "{err}");
    }
}
