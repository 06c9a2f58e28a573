//! Resolution of image references to the registry's digests, and the
//! `ecr.lifecycle-expires-in-use` check on what it resolved.

use super::*;
use crate::audit::ecr::DESCRIBE_IMAGES as DESCRIBE_IMAGES_CALL;
use crate::aws::ecr::{Image, Repository, ScanResult};

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
        scan: None,
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

fn scanned(days_ago: u64, status: &str, counts: &[(&str, i64)]) -> Option<ScanResult> {
    Some(ScanResult {
        status: status.into(),
        description: (status == "FAILED").then(|| "UnsupportedImageError".to_owned()),
        completed_at: Some(crate::time::rfc3339_utc(NOW - days_ago * 86_400)),
        counts: counts.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect(),
        findings: vec![],
    })
}

#[test]
fn running_images_with_missing_failed_or_stale_scans_or_serious_findings_are_named() {
    let mut f = facts("team/api", None);
    // v1: never scanned; v2: scanned 40 days ago (stale) with 2 HIGH and 5 LOW; v3: failed.
    f.listed[1].scan = scanned(40, "COMPLETE", &[("HIGH", 2), ("LOW", 5)]);
    f.listed[2].scan = scanned(1, "FAILED", &[]);
    // A fourth image, fine: scanned yesterday, only MEDIUM findings.
    let mut v4 = image("sha256:04", "v4", 1);
    v4.scan = scanned(1, "ACTIVE", &[("MEDIUM", 3)]);
    f.listed.push(v4);
    let users = |list: &[&str]| {
        list.iter()
            .map(|u| (*u).to_owned())
            .collect::<BTreeSet<_>>()
    };
    let in_use: BTreeMap<String, BTreeSet<String>> = [
        ("sha256:01".to_owned(), users(&["ecs:prod/api"])),
        (
            "sha256:02".to_owned(),
            users(&["lambda:worker", "lambda:worker:live"]),
        ),
        ("sha256:03".to_owned(), users(&["ecs:prod/web"])),
        ("sha256:04".to_owned(), users(&["ecs:prod/batch"])),
        // Not listed by the repository: nothing to say here.
        ("sha256:99".to_owned(), users(&["ecs:prod/gone"])),
    ]
    .into();
    let settings = EcrSettings::default();
    let got: Vec<(String, Severity, String)> =
        running_risks(&f, &in_use, &settings, "123456789012", "eu-west-1", NOW)
            .into_iter()
            .map(|f| (f.check, f.severity, f.message))
            .collect();
    assert_eq!(
        got,
        vec![
            (
                CHECK_IN_USE_IMAGE_SCAN.to_owned(),
                Severity::Medium,
                "image `team/api:v1` (sha256:01), in use by ecs:prod/api, has never been scanned"
                    .to_owned()
            ),
            (
                CHECK_IN_USE_IMAGE_SCAN.to_owned(),
                Severity::Medium,
                "the last scan of image `team/api:v2` (sha256:02), in use by lambda:worker, lambda:worker:live, is 40 days old (more than 30)".to_owned()
            ),
            (
                CHECK_IN_USE_IMAGE_FINDINGS.to_owned(),
                Severity::High,
                "image `team/api:v2` (sha256:02), in use by lambda:worker, lambda:worker:live, has findings at or above HIGH: 2 HIGH".to_owned()
            ),
            (
                CHECK_IN_USE_IMAGE_SCAN.to_owned(),
                Severity::Medium,
                "the scan of image `team/api:v3` (sha256:03), in use by ecs:prod/web, is `FAILED`: UnsupportedImageError".to_owned()
            ),
        ]
    );
    // A lower threshold reports v4's MEDIUM findings too, and v2's at its worst.
    let medium = EcrSettings {
        in_use_findings_at: Severity::Medium,
        ..EcrSettings::default()
    };
    let findings: Vec<(String, Severity)> = running_risks(&f, &in_use, &medium, "", "", NOW)
        .into_iter()
        .filter(|f| f.check == CHECK_IN_USE_IMAGE_FINDINGS)
        .map(|f| (f.resource_type.clone() + " " + &f.message, f.severity))
        .map(|(m, s)| (m.split(", in use").next().unwrap().to_owned(), s))
        .collect();
    assert_eq!(
        findings,
        vec![
            (
                "AWS::ECR::Repository image `team/api:v2` (sha256:02)".to_owned(),
                Severity::High
            ),
            (
                "AWS::ECR::Repository image `team/api:v4` (sha256:04)".to_owned(),
                Severity::Medium
            ),
        ]
    );
    // Checks whose reads were not made report nothing.
    f.unread.push(DESCRIBE_IMAGES_CALL.to_owned());
    assert!(running_risks(&f, &in_use, &settings, "", "", NOW).is_empty());
}
