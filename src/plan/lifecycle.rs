//! What a changed lifecycle policy would do: for each ECR repository whose
//! `LifecyclePolicyText` the plan changes (or adds), the images it holds now (DescribeImages)
//! are run through ECR's rules under the new policy and the deployed one, so that the reviewer
//! reads "expires 212 of 240 images at once" before approving, not after.
//!
//! Best effort, as the plan's other lookups: a policy computed by an intrinsic function, a
//! repository that cannot be found, or a denied read gives a note instead of a figure.

use serde_json::Value;

use super::model::{LifecycleChange, LIFECYCLE_EXAMPLES};
use crate::aws::changeset::ResourceChange;
use crate::aws::connect::Clients;
use crate::context::lifecycle::{effect, image_name, rules_of};

/// A repository's lifecycle policy text in a template: `Ok(None)` without one, `Err` when it
/// is computed (an intrinsic function, not a literal).
fn policy_text(template: Option<&Value>, logical_id: &str) -> Result<Option<String>, ()> {
    let text = template
        .and_then(|t| t.get("Resources"))
        .and_then(|r| r.get(logical_id))
        .and_then(|r| r.get("Properties"))
        .and_then(|p| p.get("LifecyclePolicy"))
        .and_then(|l| l.get("LifecyclePolicyText"));
    match text {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(()),
    }
}

/// The repositories of `new` whose lifecycle policy differs from `old`'s (by meaning, not by
/// spacing): their logical ids, and the literal `RepositoryName` when the template gives one.
pub fn changed_policies(old: &Value, new: &Value) -> Vec<(String, Option<String>)> {
    let Some(resources) = new.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let parsed = |t: &str| serde_json::from_str::<Value>(t).ok();
    resources
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::ECR::Repository"))
        .filter(|(id, _)| {
            let before = policy_text(Some(old), id);
            let after = policy_text(Some(new), id);
            match (&before, &after) {
                (_, Ok(None)) => false,
                (Ok(Some(b)), Ok(Some(a))) => b != a && parsed(b) != parsed(a),
                (Err(()), Err(())) => {
                    let get = |t: &Value| {
                        t.pointer(&format!("/Resources/{id}/Properties/LifecyclePolicy"))
                            .cloned()
                    };
                    get(old) != get(new)
                }
                _ => true,
            }
        })
        .map(|(id, r)| {
            let name = r
                .pointer("/Properties/RepositoryName")
                .and_then(Value::as_str)
                .map(str::to_owned);
            (id.clone(), name)
        })
        .collect()
}

/// The effect of each changed lifecycle policy of a deployed stack.
pub async fn lifecycle_changes(
    clients: &Clients,
    stack: &str,
    old: &Value,
    new: &Value,
    changes: &[ResourceChange],
    now: i64,
) -> Vec<LifecycleChange> {
    let mut out = Vec::new();
    let mut resources = None;
    for (logical_id, named) in changed_policies(old, new) {
        let mut change = LifecycleChange {
            logical_id: logical_id.clone(),
            repository: String::new(),
            images: 0,
            expires: 0,
            expires_deployed: None,
            examples: Vec::new(),
            newly_expired: 0,
            note: None,
        };
        let new_rules = match policy_text(Some(new), &logical_id) {
            Ok(Some(text)) => rules_of(&text),
            _ => Err("the new policy is computed when the stack deploys".to_owned()),
        };
        let new_rules = match new_rules {
            Ok(r) => r,
            Err(e) => {
                change.note = Some(format!("not evaluated: {e}"));
                out.push(change);
                continue;
            }
        };
        let mut physical = named.or_else(|| {
            changes
                .iter()
                .find(|c| c.logical_id == logical_id)
                .and_then(|c| c.physical_id.clone())
        });
        if physical.is_none() {
            if resources.is_none() {
                resources = Some(clients.ops.resources(stack).await.unwrap_or_default());
            }
            physical = resources
                .iter()
                .flatten()
                .find(|r| r.logical_id == logical_id)
                .and_then(|r| r.physical_id.clone());
        }
        let Some(repository) = physical else {
            // Created by this change: it holds no images yet.
            out.push(change);
            continue;
        };
        change.repository = repository.clone();
        let images = match clients.ecr.images(&repository).await {
            Ok(images) => images,
            Err(e) => {
                change.note = Some(format!(
                    "the images of `{repository}` could not be read: {e}"
                ));
                out.push(change);
                continue;
            }
        };
        let after = effect(&new_rules, &images, now);
        let before = match policy_text(Some(old), &logical_id) {
            Ok(Some(text)) => rules_of(&text).ok().map(|r| effect(&r, &images, now)),
            _ => None,
        };
        change.images = after.images;
        change.expires = after.expires();
        change.expires_deployed = before.as_ref().map(|b| b.expires());
        let kept_before = |digest: &str| {
            before.as_ref().is_none_or(|b| {
                !b.selected
                    .iter()
                    .any(|s| s.digest == digest && s.action == "expire")
            })
        };
        let newly: Vec<String> = after
            .selected
            .iter()
            .filter(|s| s.action == "expire" && kept_before(&s.digest))
            .map(|s| image_name(&s.tags, &s.digest))
            .collect();
        change.newly_expired = newly.len();
        change.examples = newly.into_iter().take(LIFECYCLE_EXAMPLES).collect();
        out.push(change);
    }
    out
}

/// "expires 212 of 240 images at once (the deployed policy: 0): v1.0.0, v1.0.1, … and 202 more".
pub fn summary(c: &LifecycleChange) -> String {
    if let Some(note) = &c.note {
        return note.clone();
    }
    if c.repository.is_empty() {
        return "a new repository: no images to expire yet".to_owned();
    }
    let deployed = match c.expires_deployed {
        Some(n) => format!("the deployed policy: {n}"),
        None => "no policy is deployed".to_owned(),
    };
    let mut text = format!(
        "expires {} of `{}`'s {} at once ({deployed})",
        c.expires,
        c.repository,
        crate::text::plural(c.images, "image", "images")
    );
    if c.newly_expired > 0 {
        text.push_str(&format!("; newly expired: {}", c.examples.join(", ")));
        if c.newly_expired > c.examples.len() {
            text.push_str(&format!(" and {} more", c.newly_expired - c.examples.len()));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn repo(policy: Option<Value>) -> Value {
        let mut props = json!({"RepositoryName": "team/api"});
        if let Some(p) = policy {
            props["LifecyclePolicy"] = json!({"LifecyclePolicyText": p});
        }
        json!({"Resources": {"Repo": {"Type": "AWS::ECR::Repository", "Properties": props}}})
    }

    #[test]
    fn only_a_policy_that_means_something_else_is_a_change() {
        let keep5 = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#;
        let keep5_spaced = "{ \"rules\": [ {\"rulePriority\":1, \"selection\":{\"tagStatus\":\"any\",\"countType\":\"imageCountMoreThan\",\"countNumber\":5},\"action\":{\"type\":\"expire\"}}]}";
        let keep1 = keep5.replace("\"countNumber\":5", "\"countNumber\":1");
        let old = repo(Some(json!(keep5)));
        assert!(changed_policies(&old, &repo(Some(json!(keep5_spaced)))).is_empty());
        assert_eq!(
            changed_policies(&old, &repo(Some(json!(keep1)))),
            [("Repo".to_owned(), Some("team/api".to_owned()))]
        );
        // Added where there was none: a change; removed: not evaluated (nothing expires).
        assert_eq!(changed_policies(&repo(None), &old).len(), 1);
        assert!(changed_policies(&old, &repo(None)).is_empty());
        // Computed: a change when its expression changes.
        let sub = |n: u32| repo(Some(json!({"Fn::Sub": format!("{{\"rules\":[{n}]}}")})));
        assert!(changed_policies(&sub(1), &sub(1)).is_empty());
        assert_eq!(changed_policies(&sub(1), &sub(2)).len(), 1);
    }

    #[test]
    fn the_summary_reads_as_a_sentence() {
        let mut c = LifecycleChange {
            logical_id: "Repo".into(),
            repository: "team/api".into(),
            images: 240,
            expires: 212,
            expires_deployed: Some(0),
            examples: (0..10).map(|n| format!("v1.0.{n}")).collect(),
            newly_expired: 212,
            note: None,
        };
        assert_eq!(
            summary(&c),
            "expires 212 of `team/api`'s 240 images at once (the deployed policy: 0); newly expired: v1.0.0, v1.0.1, v1.0.2, v1.0.3, v1.0.4, v1.0.5, v1.0.6, v1.0.7, v1.0.8, v1.0.9 and 202 more"
        );
        c.note = Some("not evaluated: the new policy is computed when the stack deploys".into());
        assert!(summary(&c).starts_with("not evaluated"));
    }
}
