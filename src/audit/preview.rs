//! `little ecr lifecycle-preview`: what a lifecycle policy (the repository's own, or one from
//! a file) would do to a repository's images now, evaluated offline as ECR evaluates it; with
//! `--ecr`, set beside ECR's own preview (StartLifecyclePolicyPreview) and the differences
//! named.

use serde::Serialize;

use crate::aws::ecr::Ecr;
use crate::aws::ecr_lifecycle::LifecyclePreviews;
use crate::context::lifecycle::{effect, image_name, rules_of, Effect};
use crate::error::{Error, Result, Verdict};

/// Where the previewed policy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicySource {
    /// The repository's lifecycle policy (GetLifecyclePolicy).
    Deployed,
    /// A file given with `--policy`.
    File,
}

/// ECR's own preview beside little's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EcrComparison {
    /// How many images ECR's preview acts on.
    pub selected: usize,
    /// Images little selects that ECR does not (names: a tag, or a short digest).
    pub only_little: Vec<String>,
    /// Images ECR selects that little does not.
    pub only_ecr: Vec<String>,
}

impl EcrComparison {
    pub fn agrees(&self) -> bool {
        self.only_little.is_empty() && self.only_ecr.is_empty()
    }
}

/// The preview of one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LifecyclePreview {
    pub repository: String,
    pub policy: PolicySource,
    #[serde(flatten)]
    pub effect: Effect,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecr: Option<EcrComparison>,
}

impl LifecyclePreview {
    /// Ok, or Changes (exit 2) when `--ecr` found that ECR's preview and little's differ.
    pub fn verdict(&self) -> Verdict {
        match &self.ecr {
            Some(c) if !c.agrees() => Verdict::Changes,
            _ => Verdict::Ok,
        }
    }
}

/// Previews `policy` (the repository's own when `None`) on `repository`'s images at `now`;
/// with `ecr_preview`, asks ECR's preview too and compares.
pub async fn lifecycle_preview(
    ecr: &dyn Ecr,
    repository: &str,
    policy: Option<String>,
    now: i64,
    ecr_preview: Option<(&dyn LifecyclePreviews, std::time::Duration)>,
) -> Result<LifecyclePreview> {
    let (text, source) = match policy {
        Some(text) => (text, PolicySource::File),
        None => match ecr.lifecycle_policy(repository).await? {
            Some(text) => (text, PolicySource::Deployed),
            None => {
                return Err(Error::Usage(format!(
                    "repository `{repository}` has no lifecycle policy: give one to preview with `--policy FILE`"
                )))
            }
        },
    };
    let rules = rules_of(&text).map_err(|e| {
        Error::Usage(format!(
            "the {} lifecycle policy of `{repository}` cannot be evaluated: {e}",
            match source {
                PolicySource::Deployed => "deployed",
                PolicySource::File => "given",
            }
        ))
    })?;
    let images = ecr.images(repository).await?;
    let effect = effect(&rules, &images, now);
    let ecr = match ecr_preview {
        None => None,
        Some((client, timeout)) => {
            let sent = (source == PolicySource::File).then_some(text.as_str());
            let theirs = client
                .preview(repository, sent, std::time::Duration::from_secs(2), timeout)
                .await?;
            let name = |tags: &[String], digest: &str| image_name(tags, digest);
            let only_little = effect
                .selected
                .iter()
                .filter(|s| !theirs.iter().any(|t| t.digest == s.digest))
                .map(|s| name(&s.tags, &s.digest))
                .collect();
            let only_ecr = theirs
                .iter()
                .filter(|t| !effect.selected.iter().any(|s| s.digest == t.digest))
                .map(|t| name(&t.tags, &t.digest))
                .collect();
            Some(EcrComparison {
                selected: theirs.len(),
                only_little,
                only_ecr,
            })
        }
    };
    Ok(LifecyclePreview {
        repository: repository.to_owned(),
        policy: source,
        effect,
        ecr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::ecr::Image;
    use crate::testing::fake_aws::FakeAws;

    fn image(digest: &str, tag: &str, pushed: &str) -> Image {
        Image {
            digest: digest.into(),
            tags: vec![tag.into()],
            pushed_at: Some(pushed.into()),
            size: None,
            last_pulled: None,
            scan: None,
        }
    }

    const KEEP_ONE: &str = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#;

    #[tokio::test]
    async fn the_deployed_policy_or_a_file_is_previewed_on_the_images() {
        let fake = FakeAws::default();
        fake.repository_images.lock().unwrap().insert(
            "team/api".into(),
            vec![
                image("sha256:a", "v1", "2026-11-01T00:00:00Z"),
                image("sha256:b", "v2", "2026-11-02T00:00:00Z"),
            ],
        );
        let e = lifecycle_preview(&fake, "team/api", None, 1_800_000_000, None)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("has no lifecycle policy"), "{e}");
        let p = lifecycle_preview(
            &fake,
            "team/api",
            Some(KEEP_ONE.into()),
            1_800_000_000,
            None,
        )
        .await
        .unwrap();
        assert_eq!(p.policy, PolicySource::File);
        assert_eq!(p.effect.images, 2);
        assert_eq!(p.effect.selected.len(), 1);
        assert_eq!(p.effect.selected[0].tags, ["v1"]);
        assert_eq!(p.verdict(), Verdict::Ok);
        let e = lifecycle_preview(&fake, "team/api", Some("{\"rules\":3}".into()), 0, None)
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("given lifecycle policy of `team/api` cannot be evaluated"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn ecrs_own_preview_is_compared_and_a_difference_exits_2() {
        use crate::aws::ecr_lifecycle::PreviewImage;
        let fake = FakeAws::default();
        fake.repository_images.lock().unwrap().insert(
            "team/api".into(),
            vec![
                image("sha256:a", "v1", "2026-11-01T00:00:00Z"),
                image("sha256:b", "v2", "2026-11-02T00:00:00Z"),
                image("sha256:c", "v3", "2026-11-03T00:00:00Z"),
            ],
        );
        let said = |digests: &[(&str, &str)]| {
            digests
                .iter()
                .map(|(d, t)| PreviewImage {
                    digest: (*d).into(),
                    tags: vec![(*t).into()],
                    pushed_at: None,
                    rule: 1,
                    action: "EXPIRE".into(),
                })
                .collect::<Vec<_>>()
        };
        let timeout = std::time::Duration::from_secs(1);
        *fake.lifecycle_preview.lock().unwrap() =
            Some(said(&[("sha256:a", "v1"), ("sha256:b", "v2")]));
        let p = lifecycle_preview(
            &fake,
            "team/api",
            Some(KEEP_ONE.into()),
            1_800_000_000,
            Some((&fake, timeout)),
        )
        .await
        .unwrap();
        let c = p.ecr.as_ref().unwrap();
        assert!(c.agrees() && c.selected == 2);
        assert_eq!(p.verdict(), Verdict::Ok);
        *fake.lifecycle_preview.lock().unwrap() =
            Some(said(&[("sha256:a", "v1"), ("sha256:c", "v3")]));
        let p = lifecycle_preview(
            &fake,
            "team/api",
            Some(KEEP_ONE.into()),
            1_800_000_000,
            Some((&fake, timeout)),
        )
        .await
        .unwrap();
        let c = p.ecr.as_ref().unwrap();
        assert_eq!(
            (c.only_little.clone(), c.only_ecr.clone()),
            (vec!["v2".to_owned()], vec!["v3".to_owned()])
        );
        assert_eq!(p.verdict(), Verdict::Changes);
    }
}
