//! What a destructive change would lose, asked while planning so that the reviewer sees it
//! before approving: for an ECR repository that is removed or replaced, how many images it
//! holds and when the newest was pushed (DescribeImages); for an S3 bucket, whether it holds
//! objects (ListObjectsV2 of one key); for a KMS key, when its scheduled deletion takes effect
//! (the old template's `PendingWindowInDays`, 30 days when not written).
//!
//! The resource is found by its physical id in the change set, else in the deployed stack's
//! resources (ListStackResources, once per stack). A question AWS does not answer does not fail
//! the plan: the risk says what could not be found out instead.

use serde_json::Value;

use super::risk::{Risk, RiskKind};
use crate::aws::changeset::ResourceChange;
use crate::aws::connect::Clients;
use crate::aws::stack_ops::StackResource;
use crate::text::plural;

/// Fills in [`Risk::holds`] for the destructive risks of `stack` (deployed, with `old` its
/// deployed template) that remove or replace a repository, a bucket or a key.
pub async fn what_is_lost(
    clients: &Clients,
    stack: &str,
    risks: &mut [Risk],
    changes: &[ResourceChange],
    old: Option<&Value>,
) {
    let mut resources: Option<Vec<StackResource>> = None;
    for risk in risks.iter_mut() {
        if risk.kind != RiskKind::Destructive {
            continue;
        }
        let kind = risk.resource_type.as_str();
        if kind == "AWS::KMS::Key" {
            risk.holds = Some(key_deletion(old, &risk.logical_id));
            continue;
        }
        if !matches!(kind, "AWS::ECR::Repository" | "AWS::S3::Bucket") {
            continue;
        }
        let mut physical = changes
            .iter()
            .find(|c| c.logical_id == risk.logical_id)
            .and_then(|c| c.physical_id.clone());
        if physical.is_none() {
            if resources.is_none() {
                resources = Some(clients.ops.resources(stack).await.unwrap_or_default());
            }
            physical = resources
                .iter()
                .flatten()
                .find(|r| r.logical_id == risk.logical_id)
                .and_then(|r| r.physical_id.clone());
        }
        // Not created yet (or gone already): nothing to lose.
        let Some(physical) = physical else {
            continue;
        };
        risk.holds = Some(match kind {
            "AWS::ECR::Repository" => match clients.ecr.images(&physical).await {
                Ok(images) => images_text(&physical, &images),
                Err(e) => format!("the images of `{physical}` could not be counted: {e}"),
            },
            _ => match clients.reports.holds_objects(&physical).await {
                Ok(true) => format!("bucket `{physical}` holds objects"),
                Ok(false) => format!("bucket `{physical}` is empty"),
                Err(e) => format!("whether bucket `{physical}` holds objects is not known: {e}"),
            },
        });
    }
}

/// "`team/api` holds 12 images, the newest pushed 2026-11-30T14:02:11Z".
fn images_text(repository: &str, images: &[crate::aws::ecr::Image]) -> String {
    if images.is_empty() {
        return format!("`{repository}` holds no images");
    }
    let newest = images.iter().filter_map(|i| i.pushed_at.as_deref()).max();
    let count = plural(images.len(), "image", "images");
    match newest {
        Some(at) => format!("`{repository}` holds {count}, the newest pushed {at}"),
        None => format!("`{repository}` holds {count}"),
    }
}

/// When a removed key's deletion takes effect, from the deployed template.
fn key_deletion(old: Option<&Value>, logical_id: &str) -> String {
    let window = old
        .and_then(|t| t.get("Resources"))
        .and_then(|r| r.get(logical_id))
        .and_then(|r| r.get("Properties"))
        .and_then(|p| p.get("PendingWindowInDays"));
    let days = match window {
        None => "30 days (the default)".to_owned(),
        Some(Value::Number(n)) => format!("{n} days (`PendingWindowInDays`)"),
        Some(Value::String(s)) => format!("{s} days (`PendingWindowInDays`)"),
        Some(_) => "the days `PendingWindowInDays` gives".to_owned(),
    };
    format!(
        "the key is deleted {days} after the stack lets go of it; until then \
         kms:CancelKeyDeletion can save it, after that what it encrypted cannot be decrypted"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::ecr::Image;
    use serde_json::json;

    fn image(at: Option<&str>) -> Image {
        Image {
            digest: "sha256:1".into(),
            tags: Vec::new(),
            pushed_at: at.map(str::to_owned),
            size: None,
            last_pulled: None,
            scan: None,
        }
    }

    #[test]
    fn images_are_counted_with_the_newest_push() {
        assert_eq!(images_text("a", &[]), "`a` holds no images");
        assert_eq!(
            images_text(
                "team/api",
                &[
                    image(Some("2026-11-01T00:00:00Z")),
                    image(None),
                    image(Some("2026-11-30T14:02:11Z"))
                ]
            ),
            "`team/api` holds 3 images, the newest pushed 2026-11-30T14:02:11Z"
        );
        assert_eq!(images_text("a", &[image(None)]), "`a` holds 1 image");
    }

    #[test]
    fn a_key_is_deleted_after_its_pending_window() {
        let t = json!({"Resources": {
            "K": {"Type": "AWS::KMS::Key", "Properties": {"PendingWindowInDays": 7}},
            "D": {"Type": "AWS::KMS::Key"}
        }});
        assert!(key_deletion(Some(&t), "K").starts_with(
            "the key is deleted 7 days (`PendingWindowInDays`) after the stack lets go of it"
        ));
        assert!(key_deletion(Some(&t), "D").contains("30 days (the default)"));
        assert!(key_deletion(None, "D").contains("kms:CancelKeyDeletion"));
    }
}
