//! What a changed lifecycle policy would do: for each ECR repository whose
//! `LifecyclePolicyText` the plan changes (or adds), the images it holds now (DescribeImages)
//! are run through ECR's rules under the new policy and the deployed one, so that the reviewer
//! reads "expires 212 of 240 images at once" before approving, not after.
//!
//! Best effort, as the plan's other lookups: a policy computed by an intrinsic function, a
//! repository that cannot be found, or a denied read gives a note instead of a figure.

use serde_json::Value;

use super::model::{ExpiredInUse, LifecycleChange, LIFECYCLE_EXAMPLES};
use crate::aws::changeset::ResourceChange;
use crate::aws::connect::Clients;
use crate::aws::ecr::Image;
use crate::aws::workloads::ImageUse;
use crate::context::lifecycle::{digest_of, effect, image_name, rules_of};

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
    let mut uses = None;
    for (logical_id, named) in changed_policies(old, new) {
        let mut change = LifecycleChange {
            logical_id: logical_id.clone(),
            repository: String::new(),
            images: 0,
            expires: 0,
            expires_deployed: None,
            examples: Vec::new(),
            newly_expired: 0,
            in_use: Vec::new(),
            in_use_note: None,
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
        let newly: Vec<(String, &str)> = after
            .selected
            .iter()
            .filter(|s| s.action == "expire" && kept_before(&s.digest))
            .map(|s| (image_name(&s.tags, &s.digest), s.digest.as_str()))
            .collect();
        change.newly_expired = newly.len();
        change.examples = newly
            .iter()
            .take(LIFECYCLE_EXAMPLES)
            .map(|(name, _)| name.clone())
            .collect();
        if !newly.is_empty() {
            match running(clients, &mut uses).await {
                Ok(uses) => {
                    let uri = clients.caller.as_ref().map(|c| {
                        format!(
                            "{}.dkr.ecr.{}.amazonaws.com/{repository}",
                            c.identity.account, clients.region
                        )
                    });
                    change.in_use = match uri {
                        Some(uri) => in_use(&newly, uses, &uri, &images),
                        None => Vec::new(),
                    };
                }
                Err(e) => change.in_use_note = Some(e),
            }
        }
        out.push(change);
    }
    out
}

/// What runs in the stack's account and region (ECS and Lambda), read once per plan of a
/// stack; a failed read is a note, not a failed plan.
async fn running<'a>(
    clients: &Clients,
    uses: &'a mut Option<Result<Vec<ImageUse>, String>>,
) -> Result<&'a [ImageUse], String> {
    if uses.is_none() {
        let (ecs, lambda) = tokio::join!(
            clients.workloads.ecs_images(),
            clients.workloads.lambda_images()
        );
        let read = ecs.and_then(|mut e| {
            e.extend(lambda?);
            Ok(e)
        });
        *uses = Some(read.map_err(|e| {
            format!("whether they run is not known: ECS and Lambda could not be read: {e}")
        }));
    }
    match uses.as_ref() {
        Some(Ok(u)) => Ok(u.as_slice()),
        Some(Err(e)) => Err(e.clone()),
        None => Ok(&[]),
    }
}

/// The newly expired images (name, digest) that a workload runs, with its users.
fn in_use(
    newly: &[(String, &str)],
    uses: &[ImageUse],
    uri: &str,
    images: &[Image],
) -> Vec<ExpiredInUse> {
    newly
        .iter()
        .filter_map(|(name, digest)| {
            let mut users: Vec<String> = uses
                .iter()
                .filter(|u| {
                    digest_of(&u.reference, u.digest.as_deref(), uri, images).as_deref()
                        == Some(*digest)
                })
                .map(|u| u.user.clone())
                .collect();
            users.sort();
            users.dedup();
            (!users.is_empty()).then(|| ExpiredInUse {
                image: name.clone(),
                digest: (*digest).to_owned(),
                users,
            })
        })
        .collect()
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
    if !c.in_use.is_empty() {
        let each: Vec<String> = c
            .in_use
            .iter()
            .map(|u| format!("{} ({})", u.image, u.users.join(", ")))
            .collect();
        text.push_str(&format!(
            "; {} of them {}: {}",
            c.in_use.len(),
            if c.in_use.len() == 1 { "runs" } else { "run" },
            each.join(", ")
        ));
    }
    if let Some(note) = &c.in_use_note {
        text.push_str(&format!("; {note}"));
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
            in_use: vec![ExpiredInUse {
                image: "v1.0.3".into(),
                digest: "sha256:3".into(),
                users: vec!["ecs:prod/api".into(), "lambda:resize".into()],
            }],
            in_use_note: None,
            note: None,
        };
        assert_eq!(
            summary(&c),
            "expires 212 of `team/api`'s 240 images at once (the deployed policy: 0); newly expired: v1.0.0, v1.0.1, v1.0.2, v1.0.3, v1.0.4, v1.0.5, v1.0.6, v1.0.7, v1.0.8, v1.0.9 and 202 more; 1 of them runs: v1.0.3 (ecs:prod/api, lambda:resize)"
        );
        c.note = Some("not evaluated: the new policy is computed when the stack deploys".into());
        assert!(summary(&c).starts_with("not evaluated"));
    }
}
