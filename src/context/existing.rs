//! Which resources of a rendered template already exist in the account, outside the stack:
//! matched by physical name (an ECR repository's `RepositoryName`, an IAM role's `RoleName`),
//! with what they hold (a repository's images) and how they differ from the template (the
//! drift comparison of [`super::compare`]). `plan` flags them (a new stack would fail with
//! "already exists"), `adopt` imports them. Not here: the import itself (`deploy::adopt`).

use serde_json::Value;

use crate::aws::connect::Clients;
use crate::aws::drift::PropertyDifference;
use crate::aws::import::{import_key, ImportKey};
use crate::aws::stack_ops::StackResource;
use crate::error::Result;
use crate::text::plural;

/// A template resource that exists already, and may be imported.
#[derive(Debug, Clone, PartialEq)]
pub struct Existing {
    pub logical_id: String,
    pub resource_type: String,
    /// Its physical name (`team-a/api`).
    pub name: String,
    /// The identifier of `ResourcesToImport`: key and value.
    pub identifier: (String, String),
    /// For people: "repository `team-a/api` exists with 312 images".
    pub summary: String,
    /// Where the live resource differs from the template (the second change set changes it).
    pub differences: Vec<PropertyDifference>,
    /// Properties not compared: built with intrinsic functions.
    pub skipped: Vec<String>,
}

/// What became of looking up one template resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Exists(Existing),
    /// Its type can be imported and its name is a literal, but nothing has that name: the
    /// stack creates it.
    Missing {
        logical_id: String,
        resource_type: String,
        name: String,
        noun: &'static str,
    },
    /// It cannot be matched by name: why (a type `little adopt` does not import, a name the
    /// template computes or leaves to CloudFormation, a type not looked up).
    Unmatched {
        logical_id: String,
        resource_type: String,
        reason: String,
    },
}

impl Found {
    pub fn logical_id(&self) -> &str {
        match self {
            Found::Exists(e) => &e.logical_id,
            Found::Missing { logical_id, .. } | Found::Unmatched { logical_id, .. } => logical_id,
        }
    }
}

/// The resources of `template` that `old` (the deployed template; `None` for a new stack) does
/// not hold: the ones a change set would add, in template order.
pub fn added(template: &Value, old: Option<&Value>) -> Vec<String> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let held = old
        .and_then(|o| o.get("Resources"))
        .and_then(Value::as_object);
    resources
        .keys()
        .filter(|id| !held.is_some_and(|h| h.contains_key(*id)))
        .cloned()
        .collect()
}

/// Looks up each of `logical_ids` (resources of `template`) by its physical name.
pub async fn look_up(
    clients: &Clients,
    template: &Value,
    logical_ids: &[String],
) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    for id in logical_ids {
        let resource = &template["Resources"][id];
        let resource_type = resource["Type"].as_str().unwrap_or_default().to_owned();
        let unmatched = |reason: String| Found::Unmatched {
            logical_id: id.clone(),
            resource_type: resource_type.clone(),
            reason,
        };
        let key = match import_key(&resource_type) {
            Ok(key) => key,
            Err(reason) => {
                found.push(unmatched(reason));
                continue;
            }
        };
        let properties = resource.get("Properties").cloned().unwrap_or(Value::Null);
        let Some(name) = properties
            .get(key.name_property)
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            found.push(unmatched(format!(
                "its {} is not a literal in the template (computed, or left to CloudFormation): \
                 there is no name to look up",
                key.name_property
            )));
            continue;
        };
        found.push(look_up_one(clients, id, key, &name, &properties).await?);
    }
    Ok(found)
}

async fn look_up_one(
    clients: &Clients,
    id: &str,
    key: &'static ImportKey,
    name: &str,
    properties: &Value,
) -> Result<Found> {
    let resource = StackResource {
        logical_id: id.to_owned(),
        physical_id: Some(name.to_owned()),
        resource_type: key.resource_type.to_owned(),
        status: String::new(),
        drift_status: None,
    };
    let missing = || Found::Missing {
        logical_id: id.to_owned(),
        resource_type: key.resource_type.to_owned(),
        name: name.to_owned(),
        noun: key.noun,
    };
    let mut skipped = Vec::new();
    let (summary, differences) = match key.resource_type {
        "AWS::ECR::Repository" => {
            let Some(facts) = clients.drift.repository(name).await? else {
                return Ok(missing());
            };
            let images = clients.ecr.images(name).await?.len();
            let drift = super::compare::compare_repository(
                &resource,
                properties,
                Some(&facts),
                &mut skipped,
            );
            (
                format!(
                    "repository `{name}` exists with {}",
                    plural(images, "image", "images")
                ),
                drift.differences,
            )
        }
        "AWS::IAM::Role" => {
            let Some(facts) = clients.iam.role(name).await? else {
                return Ok(missing());
            };
            let drift =
                super::compare::compare_role(&resource, properties, Some(&facts), &mut skipped);
            (format!("role `{name}` exists"), drift.differences)
        }
        other => {
            return Ok(Found::Unmatched {
                logical_id: id.to_owned(),
                resource_type: other.to_owned(),
                reason: format!(
                    "this version of `little` does not look up existing {}s by name yet \
                     (ECR repositories and IAM roles only)",
                    key.noun
                ),
            })
        }
    };
    Ok(Found::Exists(Existing {
        logical_id: id.to_owned(),
        resource_type: key.resource_type.to_owned(),
        name: name.to_owned(),
        identifier: (key.identifier.to_owned(), name.to_owned()),
        summary,
        differences,
        skipped,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn added_resources_are_the_ones_the_deployed_template_lacks() {
        let template = json!({"Resources": {"A": {"Type": "X"}, "B": {"Type": "Y"}}});
        assert_eq!(added(&template, None), vec!["A", "B"]);
        let old = json!({"Resources": {"A": {"Type": "X"}}});
        assert_eq!(added(&template, Some(&old)), vec!["B"]);
        assert!(added(&json!({}), None).is_empty());
    }
}
