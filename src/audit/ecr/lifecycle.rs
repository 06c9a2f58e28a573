//! Lifecycle policies judged by what they do to a repository's images, not by being there:
//! the `ecr.lifecycle-ineffective` check, and `ecr.image-unused` (images nobody pulls that the
//! policy keeps). The evaluator is [`crate::policy::lifecycle_eval`];
//! the translation of ECR's images into its own, shared with the plan, is
//! [`crate::context::lifecycle`].

use crate::aws::ecr::Image;
use crate::context::lifecycle::{describe_rule, eval_images};
use crate::policy::lifecycle_eval::{self, Outlook};
use crate::text::plural;

/// The `ecr.lifecycle-ineffective` message for a repository whose policy expires nothing now
/// and nothing within [`lifecycle_eval::HORIZON_DAYS`] at its push rate; `None` when the policy
/// acts, when the repository holds no image (nothing to keep small), or when the policy is not
/// valid (`ecr.lifecycle` reports that).
pub fn ineffective(repository: &str, policy: &str, images: &[Image], now: u64) -> Option<String> {
    if images.is_empty() {
        return None;
    }
    let rules = crate::context::lifecycle::rules_of(policy).ok()?;
    let images = eval_images(images);
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    if lifecycle_eval::outlook(&rules, &images, now) != Outlook::Never {
        return None;
    }
    let eval = lifecycle_eval::evaluate(&rules, &images, now);
    let why: Vec<String> = rules
        .iter()
        .zip(&eval.rules)
        .map(|(rule, effect)| {
            let what = describe_rule(rule);
            if effect.matched == 0 {
                format!("{what} matches none of them")
            } else if effect.claimed == 0 {
                format!(
                    "{what} matches {} that a rule of higher priority already holds",
                    plural(effect.matched, "image", "images")
                )
            } else {
                format!(
                    "{what} holds {} and would reach its limit only after more than {} days at the push rate of the last {} days",
                    plural(effect.claimed, "image", "images"),
                    lifecycle_eval::HORIZON_DAYS,
                    lifecycle_eval::RATE_WINDOW_DAYS
                )
            }
        })
        .collect();
    Some(format!(
        "the lifecycle policy of repository `{repository}` never expires an image: of its {}, {}",
        plural(images.len(), "image", "images"),
        why.join("; ")
    ))
}

/// The `ecr.image-unused` message: the images not pulled for `days` days (or, never pulled,
/// pushed that long ago) that the lifecycle policy keeps (all of them when there is no policy);
/// `None` when there are none.
pub fn unused(
    repository: &str,
    policy: Option<&str>,
    images: &[Image],
    days: u32,
    now: u64,
) -> Option<String> {
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let expired: Vec<String> = match policy.map(crate::context::lifecycle::rules_of) {
        Some(Ok(rules)) => crate::context::lifecycle::effect(&rules, images, now)
            .selected
            .into_iter()
            .filter(|s| s.action == "expire")
            .map(|s| s.digest)
            .collect(),
        // A policy that cannot be read is `ecr.lifecycle`'s finding; this one waits for it.
        Some(Err(_)) => return None,
        None => Vec::new(),
    };
    let cutoff = now.saturating_sub(i64::from(days) * 86_400);
    let mut stale: Vec<(i64, String)> = eval_images(images)
        .into_iter()
        .filter(|i| i.last_pulled.unwrap_or(i.pushed_at) < cutoff)
        .filter(|i| !expired.contains(&i.digest))
        .map(|i| {
            let at = i.last_pulled.unwrap_or(i.pushed_at);
            (
                at,
                crate::context::lifecycle::image_name(&i.tags, &i.digest),
            )
        })
        .collect();
    if stale.is_empty() {
        return None;
    }
    stale.sort();
    let shown: Vec<&str> = stale.iter().take(10).map(|(_, n)| n.as_str()).collect();
    let more = stale.len().saturating_sub(shown.len());
    let kept_by = if policy.is_some() {
        "its lifecycle policy keeps them"
    } else {
        "it has no lifecycle policy"
    };
    Some(format!(
        "repository `{repository}` keeps {} not pulled for {days} days ({kept_by}): {}{}",
        plural(stale.len(), "image", "images"),
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn image(digest: &str, tag: Option<&str>, days_ago: u64) -> Image {
        Image {
            digest: digest.into(),
            tags: tag.into_iter().map(str::to_owned).collect(),
            pushed_at: Some(crate::time::rfc3339_utc(NOW - days_ago * 86_400)),
            size: None,
            last_pulled: None,
            scan: None,
        }
    }

    #[test]
    fn a_prefix_matching_no_tag_is_ineffective_and_says_why() {
        let policy = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["release-"],"countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#;
        let images = [image("a", Some("v1"), 30), image("b", Some("v2"), 2)];
        let m = ineffective("team/api", policy, &images, NOW).expect("a finding");
        assert_eq!(
            m,
            "the lifecycle policy of repository `team/api` never expires an image: of its 2 images, rule 1 (tags starting release-, beyond the newest 5) matches none of them"
        );
    }

    #[test]
    fn a_policy_that_expires_now_or_soon_is_effective() {
        let policy = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#;
        let old = [image("a", Some("v1"), 30)];
        assert_eq!(ineffective("r", policy, &old, NOW), None);
        let young = [image("a", Some("v1"), 3)];
        assert_eq!(ineffective("r", policy, &young, NOW), None);
    }

    #[test]
    fn a_count_out_of_reach_is_ineffective() {
        let policy = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":500},"action":{"type":"expire"}}]}"#;
        let images = [image("a", Some("v1"), 60), image("b", None, 10)];
        let m = ineffective("r", policy, &images, NOW).expect("a finding");
        assert!(
            m.contains("holds 2 images and would reach its limit only after more than 365 days"),
            "{m}"
        );
    }

    #[test]
    fn an_invalid_policy_is_left_to_the_lifecycle_check() {
        assert_eq!(ineffective("r", "{", &[], NOW), None);
        let images = [image("a", Some("v1"), 30)];
        assert_eq!(ineffective("r", r#"{"rules": 3}"#, &images, NOW), None);
    }

    #[test]
    fn images_nobody_pulls_that_the_policy_keeps_are_unused() {
        let mut pulled = image("p", Some("v3"), 200);
        pulled.last_pulled = Some(crate::time::rfc3339_utc(NOW - 86_400));
        let images = [
            image("a", Some("v1"), 300),
            image("b", Some("v2"), 200),
            pulled,
            image("c", Some("v4"), 10),
        ];
        // No policy: v1 and v2 (oldest first); v3 was pulled yesterday, v4 is young.
        assert_eq!(
            unused("team/api", None, &images, 90, NOW).as_deref(),
            Some("repository `team/api` keeps 2 images not pulled for 90 days (it has no lifecycle policy): v1, v2")
        );
        // A policy that expires v1 leaves v2.
        let keep3 = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}}]}"#;
        assert_eq!(
            unused("team/api", Some(keep3), &images, 90, NOW).as_deref(),
            Some("repository `team/api` keeps 1 image not pulled for 90 days (its lifecycle policy keeps them): v2")
        );
        assert_eq!(unused("team/api", None, &images, 400, NOW), None);
        assert_eq!(unused("team/api", Some("{"), &images, 90, NOW), None);
    }

    #[test]
    fn an_empty_repository_has_nothing_to_expire() {
        let policy = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["x"],"countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#;
        assert_eq!(ineffective("r", policy, &[], NOW), None);
    }
}
