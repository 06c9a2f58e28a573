//! A repository's live images under a lifecycle policy: ECR's images translated for the
//! evaluator ([`crate::policy::lifecycle_eval`]), rules described for people, and the effect of
//! a policy (deployed or proposed) on the images a repository holds now. Shared by the plan of
//! a changed policy, the audit's lifecycle checks and `little ecr lifecycle-preview`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aws::ecr::Image;
use crate::policy::lifecycle_eval::{self, Action, Count, EvalImage, Rule, TagSelection};
use crate::time::parse_rfc3339_secs;

/// The evaluator's view of ECR's images. An image without a push time (ECR always gives one)
/// cannot be ordered and is left out.
pub fn eval_images(images: &[Image]) -> Vec<EvalImage> {
    images
        .iter()
        .filter_map(|i| {
            Some(EvalImage {
                digest: i.digest.clone(),
                tags: i.tags.clone(),
                pushed_at: parse_rfc3339_secs(i.pushed_at.as_deref()?)?,
                last_pulled: i.last_pulled.as_deref().and_then(parse_rfc3339_secs),
                archived: false,
                transitioned_at: None,
            })
        })
        .collect()
}

/// A rule, as a reader recognises it: `rule 2 (tagged, prefixes release-; more than 50)`.
pub fn describe_rule(rule: &Rule) -> String {
    let tags = match &rule.tags {
        TagSelection::Any => "any image".to_owned(),
        TagSelection::Untagged => "untagged images".to_owned(),
        TagSelection::Tagged { prefixes, patterns } => {
            let mut parts = Vec::new();
            if !prefixes.is_empty() {
                parts.push(format!("tags starting {}", prefixes.join(" and ")));
            }
            if !patterns.is_empty() {
                parts.push(format!("tags like {}", patterns.join(" and ")));
            }
            if parts.is_empty() {
                "tagged images".to_owned()
            } else {
                parts.join(", ")
            }
        }
    };
    let count = match rule.count {
        Count::MoreThan(n) => format!("beyond the newest {n}"),
        Count::SincePushed(d) => format!("pushed over {d} days ago"),
        Count::SincePulled(d) => format!("not pulled for {d} days"),
        Count::SinceTransitioned(d) => format!("archived over {d} days ago"),
    };
    format!("rule {} ({tags}, {count})", rule.priority)
}

/// An image a policy acts on, as people name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Selected {
    pub digest: String,
    pub tags: Vec<String>,
    /// RFC 3339, UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_at: Option<String>,
    /// The rule's priority.
    pub rule: i64,
    /// `expire` or `transition`.
    pub action: String,
}

/// What a policy does to a repository's images now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Effect {
    /// The images the repository holds (with a push time).
    pub images: usize,
    /// The images the policy acts on, oldest first.
    pub selected: Vec<Selected>,
}

impl Effect {
    /// How many images the policy expires.
    pub fn expires(&self) -> usize {
        self.selected
            .iter()
            .filter(|s| s.action == "expire")
            .count()
    }
}

/// Reads a lifecycle policy's text for the evaluator; the error says what is wrong.
pub fn rules_of(text: &str) -> Result<Vec<Rule>, String> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| format!("the policy is not JSON: {e}"))?;
    lifecycle_eval::parse(&doc)
}

/// What `rules` do to `images` at `now` (Unix seconds).
pub fn effect(rules: &[Rule], images: &[Image], now: i64) -> Effect {
    let eval_images = eval_images(images);
    let eval = lifecycle_eval::evaluate(rules, &eval_images, now);
    let pushed = |digest: &str| {
        images
            .iter()
            .find(|i| i.digest == digest)
            .and_then(|i| i.pushed_at.clone())
    };
    Effect {
        images: eval_images.len(),
        selected: eval
            .selected
            .into_iter()
            .map(|d| Selected {
                pushed_at: pushed(&d.digest),
                digest: d.digest,
                tags: d.tags,
                rule: d.rule,
                action: match d.action {
                    Action::Expire => "expire".into(),
                    Action::Transition => "transition".into(),
                },
            })
            .collect(),
    }
}

/// The tag or digest a reference names after a repository's URI (`:TAG`, `@DIGEST`,
/// `:TAG@DIGEST`, or nothing: `latest`); `None` when the reference is not into `uri`.
pub fn after_repository<'a>(
    reference: &'a str,
    uri: &str,
) -> Option<(Option<&'a str>, Option<&'a str>)> {
    let rest = reference.strip_prefix(uri)?;
    let (tagged, digest) = match rest.split_once('@') {
        Some((t, d)) => (t, Some(d)),
        None => (rest, None),
    };
    let tag = match tagged {
        "" => None,
        t => Some(t.strip_prefix(':')?),
    };
    Some((tag.or(digest.is_none().then_some("latest")), digest))
}

/// The digest an image reference into the repository at `uri` runs: the digest the runtime
/// reported (`running`), else the reference's own, else the image its tag names among
/// `images`; `None` for a reference into another repository or a tag that names no image.
pub fn digest_of(
    reference: &str,
    running: Option<&str>,
    uri: &str,
    images: &[Image],
) -> Option<String> {
    let (tag, digest) = after_repository(reference, uri)?;
    running.or(digest).map(str::to_owned).or_else(|| {
        let tag = tag?;
        images
            .iter()
            .find(|i| i.tags.iter().any(|t| t == tag))
            .map(|i| i.digest.clone())
    })
}

/// An image as a reader finds it: `v1.2.0` (its first tag) or its short digest.
pub fn image_name(tags: &[String], digest: &str) -> String {
    match tags.first() {
        Some(tag) => tag.clone(),
        None => digest
            .split_once(':')
            .map(|(_, hex)| format!("untagged {}", &hex[..hex.len().min(12)]))
            .unwrap_or_else(|| digest.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(digest: &str, tag: Option<&str>, pushed: &str) -> Image {
        Image {
            digest: digest.into(),
            tags: tag.into_iter().map(str::to_owned).collect(),
            pushed_at: Some(pushed.into()),
            size: None,
            last_pulled: None,
            scan: None,
        }
    }

    #[test]
    fn the_effect_names_each_image_with_its_rule_oldest_first() {
        let rules = rules_of(r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#).unwrap();
        let images = [
            image("sha256:b", Some("v2"), "2026-11-02T00:00:00Z"),
            image("sha256:a", Some("v1"), "2026-11-01T00:00:00Z"),
            image("sha256:c", None, "2026-11-03T00:00:00Z"),
        ];
        let e = effect(&rules, &images, 1_800_000_000);
        assert_eq!(e.images, 3);
        assert_eq!(e.expires(), 2);
        let names: Vec<String> = e
            .selected
            .iter()
            .map(|s| image_name(&s.tags, &s.digest))
            .collect();
        assert_eq!(names, ["v1", "v2"]);
        assert_eq!(
            e.selected[0].pushed_at.as_deref(),
            Some("2026-11-01T00:00:00Z")
        );
        assert_eq!(
            image_name(&[], "sha256:0123456789abcdef0123"),
            "untagged 0123456789ab"
        );
    }

    #[test]
    fn a_policy_that_is_not_json_or_not_a_policy_says_so() {
        assert!(rules_of("{")
            .unwrap_err()
            .starts_with("the policy is not JSON"));
        assert!(rules_of(r#"{"rules": 1}"#).is_err());
    }
}
