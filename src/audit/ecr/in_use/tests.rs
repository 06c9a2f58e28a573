//! Resolution of image references to the registry's digests, and the
//! `ecr.lifecycle-expires-in-use` check on what it resolved.

use super::*;
use crate::aws::ecr::{Image, Repository};

const NOW: u64 = 1_800_000_000;
const HOST: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const KEEP_ONE: &str = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#;

fn image(digest: &str, tag: &str, days_ago: u64) -> Image {
    Image {
        digest: digest.into(),
        tags: vec![tag.into()],
        pushed_at: Some(crate::time::rfc3339_utc(NOW - days_ago * 86_400)),
        size: None,
        last_pulled: None,
    }
}

fn facts(name: &str, policy: Option<&str>) -> RepositoryFacts {
    RepositoryFacts {
        repository: Repository {
            name: name.into(),
            arn: format!("arn:aws:ecr:eu-west-1:123456789012:repository/{name}"),
            uri: format!("{HOST}/{name}"),
            registry_id: "123456789012".into(),
            tag_mutability: "IMMUTABLE".into(),
            exclusion_filters: vec![],
            scan_on_push: true,
            encryption_type: "AES256".into(),
            kms_key: None,
        },
        lifecycle: policy.map(str::to_owned),
        policy: None,
        images: vec![],
        listed: vec![
            image("sha256:01", "v1", 30),
            image("sha256:02", "v2", 20),
            image("sha256:03", "v3", 10),
        ],
        unread: vec![],
    }
}

fn uses(list: &[(&str, Option<&str>, &str)]) -> Vec<ImageUse> {
    list.iter()
        .map(|(r, d, u)| ImageUse {
            reference: (*r).to_owned(),
            digest: d.map(str::to_owned),
            user: (*u).to_owned(),
        })
        .collect()
}

#[test]
fn references_resolve_by_running_digest_then_own_digest_then_tag() {
    let api = facts("team/api", None);
    let other = facts("team/api-v2", None);
    let refs = uses(&[
        (&format!("{HOST}/team/api:v1"), None, "ecs:prod/api"),
        // The running digest wins over the tag's current image.
        (
            &format!("{HOST}/team/api:v3"),
            Some("sha256:02"),
            "ecs:prod/task/migrate",
        ),
        (&format!("{HOST}/team/api@sha256:02"), None, "lambda:worker"),
        (
            &format!("{HOST}/team/api:v2@sha256:03"),
            None,
            "lambda:tagged-and-pinned",
        ),
        // No tag: latest, which no image has.
        (&format!("{HOST}/team/api"), None, "ecs:prod/untagged"),
        // A tag no image has.
        (&format!("{HOST}/team/api:gone"), None, "ecs:prod/gone"),
        // Another repository whose name starts the same.
        (&format!("{HOST}/team/api-v2:v1"), None, "ecs:prod/v2"),
        // Other registries.
        ("public.ecr.aws/nginx/nginx:1.27", None, "ecs:prod/web"),
        (
            "210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/api:v1",
            None,
            "ecs:prod/x",
        ),
    ]);
    let resolved = resolve(&refs, &[api.clone(), other.clone()]);
    let api_uses = &resolved["team/api"];
    let users = |d: &str| api_uses[d].iter().cloned().collect::<Vec<_>>();
    assert_eq!(users("sha256:01"), vec!["ecs:prod/api"]);
    assert_eq!(
        users("sha256:02"),
        vec!["ecs:prod/task/migrate", "lambda:worker"]
    );
    assert_eq!(users("sha256:03"), vec!["lambda:tagged-and-pinned"]);
    assert_eq!(api_uses.len(), 3);
    assert_eq!(resolved["team/api-v2"]["sha256:01"].len(), 1);
    assert_eq!(resolved.len(), 2);

    let listed = images_in_use(&resolved, &[api, other], "123456789012", "eu-west-1");
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[0].repository, "team/api");
    assert_eq!(listed[0].tags, vec!["v1".to_owned()]);
    assert_eq!(listed[0].in_use_by, vec!["ecs:prod/api".to_owned()]);
    assert_eq!(listed[0].account.as_deref(), Some("123456789012"));
}

#[test]
fn a_policy_that_would_expire_a_running_image_is_high_and_names_its_users() {
    let f = facts("team/api", Some(KEEP_ONE));
    let refs = uses(&[
        (&format!("{HOST}/team/api:v1"), None, "ecs:prod/api"),
        (&format!("{HOST}/team/api@sha256:02"), None, "lambda:worker"),
        (&format!("{HOST}/team/api:v3"), None, "ecs:prod/web"),
    ]);
    let resolved = resolve(&refs, std::slice::from_ref(&f));
    let found = expires_in_use(&f, &resolved["team/api"], "123456789012", "eu-west-1", NOW);
    let mut messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
    messages.sort();
    assert_eq!(
        messages,
        vec![
            "the lifecycle policy of repository `team/api` would expire image `team/api:v1` (sha256:01), which is in use by ecs:prod/api: rule 1 (any image, beyond the newest 1)",
            "the lifecycle policy of repository `team/api` would expire image `team/api:v2` (sha256:02), which is in use by lambda:worker: rule 1 (any image, beyond the newest 1)",
        ]
    );
    assert_eq!(found.len(), 2);
    assert!(found
        .iter()
        .all(|f| f.severity == Severity::High && f.check == CHECK_LIFECYCLE_EXPIRES_IN_USE));
    assert_eq!(found[0].resource, "team/api");
}

#[test]
fn no_policy_an_invalid_one_or_nothing_running_finds_nothing() {
    let refs = uses(&[(&format!("{HOST}/team/api:v1"), None, "ecs:prod/api")]);
    for policy in [None, Some("{"), Some(r#"{"rules": 3}"#)] {
        let f = facts("team/api", policy);
        let resolved = resolve(&refs, std::slice::from_ref(&f));
        assert!(expires_in_use(&f, &resolved["team/api"], "", "", NOW).is_empty());
    }
    let f = facts("team/api", Some(KEEP_ONE));
    assert!(expires_in_use(&f, &BTreeMap::new(), "", "", NOW).is_empty());
    // The newest image, kept by the policy, running: nothing.
    let newest = uses(&[(&format!("{HOST}/team/api:v3"), None, "ecs:prod/api")]);
    let resolved = resolve(&newest, std::slice::from_ref(&f));
    assert!(expires_in_use(&f, &resolved["team/api"], "", "", NOW).is_empty());
}

#[test]
fn the_tag_and_digest_after_a_repository_uri() {
    let uri = "h/team/api";
    assert_eq!(
        after_repository("h/team/api:v1", uri),
        Some((Some("v1"), None))
    );
    assert_eq!(
        after_repository("h/team/api", uri),
        Some((Some("latest"), None))
    );
    assert_eq!(
        after_repository("h/team/api@sha256:1", uri),
        Some((None, Some("sha256:1")))
    );
    assert_eq!(
        after_repository("h/team/api:v1@sha256:1", uri),
        Some((Some("v1"), Some("sha256:1")))
    );
    assert_eq!(after_repository("h/team/api-v2:v1", uri), None);
    assert_eq!(after_repository("h/team/apix", uri), None);
}

#[tokio::test]
async fn a_workload_read_still_throttled_is_read_again_and_other_errors_are_not() {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let read = |fail: usize, message: &'static str| {
        let calls = &calls;
        move || async move {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n < fail {
                Err(crate::error::Error::Aws {
                    operation: "ecs:ListClusters".into(),
                    message: message.into(),
                })
            } else {
                Ok(Vec::new())
            }
        }
    };
    assert!(
        again_if_throttled(read(1, "ThrottlingException: Rate exceeded"))
            .await
            .is_ok()
    );
    assert_eq!(calls.swap(0, std::sync::atomic::Ordering::SeqCst), 2);
    assert!(again_if_throttled(read(1, "ServerException: boom"))
        .await
        .is_err());
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}
