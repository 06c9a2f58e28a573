//! Cases for the lifecycle evaluator: the ECR user guide's worked examples ("Examples of
//! lifecycle policies", "Lifecycle policy evaluation rules") and the rules' corners.

use serde_json::json;

use super::*;

const NOW: i64 = 1_800_000_000;

fn image(digest: &str, tags: &[&str], days_ago: i64) -> EvalImage {
    EvalImage {
        digest: digest.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        pushed_at: NOW - days_ago * DAY,
        last_pulled: None,
        archived: false,
        transitioned_at: None,
    }
}

fn rule(priority: i64, selection: serde_json::Value) -> serde_json::Value {
    json!({"rulePriority": priority, "selection": selection, "action": {"type": "expire"}})
}

fn expired(policy: serde_json::Value, images: &[EvalImage]) -> Vec<String> {
    let rules = parse(&policy).expect("policy parses");
    let mut out: Vec<String> = evaluate(&rules, images, NOW)
        .expired()
        .map(|d| d.digest.clone())
        .collect();
    out.sort();
    out
}

fn prefix_count(priority: i64, prefixes: &[&str], n: u64) -> serde_json::Value {
    rule(
        priority,
        json!({"tagStatus": "tagged", "tagPrefixList": prefixes,
               "countType": "imageCountMoreThan", "countNumber": n}),
    )
}

#[test]
fn documented_multiple_rules_a_an_image_kept_by_a_higher_rule_is_not_expired_by_a_lower_one() {
    // Rule 1 (prod, keep 1) marks A. Rule 2 (beta, keep 1) marks A and B; A is already
    // expired and B is kept by rule 1, so only A goes.
    let images = [
        image("A", &["beta-1", "prod-1"], 10),
        image("B", &["beta-2", "prod-2"], 9),
        image("C", &["beta-3"], 8),
    ];
    let policy = json!({"rules": [prefix_count(1, &["prod"], 1), prefix_count(2, &["beta"], 1)]});
    assert_eq!(expired(policy, &images), ["A"]);
}

#[test]
fn documented_multiple_rules_b_both_rules_agree() {
    let images = [
        image("A", &["beta-1", "prod-1"], 10),
        image("B", &["beta-2", "prod-2"], 9),
        image("C", &["beta-3", "prod-3"], 8),
    ];
    let policy = json!({"rules": [prefix_count(1, &["prod"], 1), prefix_count(2, &["beta"], 1)]});
    assert_eq!(expired(policy, &images), ["A", "B"]);
}

fn alpha_beta() -> Vec<EvalImage> {
    vec![
        image("A", &["alpha-1"], 12),
        image("B", &["beta-1"], 11),
        image("C", &["alpha-2", "beta-2"], 10),
        image("D", &["alpha-3"], 4),
        image("E", &["beta-3"], 3),
        image("F", &["alpha-4", "beta-4"], 2),
    ]
}

#[test]
fn documented_multiple_tags_in_one_rule_by_age() {
    // Only images with an alpha AND a beta tag are selected (C, F); C is older than 5 days.
    let policy = json!({"rules": [rule(1, json!({"tagStatus": "tagged",
        "tagPrefixList": ["alpha", "beta"], "countType": "sinceImagePushed",
        "countUnit": "days", "countNumber": 5}))]});
    assert_eq!(expired(policy, &alpha_beta()), ["C"]);
}

#[test]
fn documented_multiple_tags_in_one_rule_by_count() {
    // C and F have both prefixes; keeping one (the newest, F) expires C.
    let policy = json!({"rules": [prefix_count(1, &["alpha", "beta"], 1)]});
    assert_eq!(expired(policy, &alpha_beta()), ["C"]);
}

#[test]
fn documented_keep_one_untagged_image() {
    let images = [
        image("u1", &[], 5),
        image("u2", &[], 4),
        image("u3", &[], 1),
        image("t1", &["v1"], 9),
    ];
    let policy = json!({"rules": [rule(1, json!({"tagStatus": "untagged",
        "countType": "imageCountMoreThan", "countNumber": 1}))]});
    assert_eq!(expired(policy, &images), ["u1", "u2"]);
}

#[test]
fn documented_pattern_by_age() {
    let images = [
        image("old-prod", &["prod"], 20),
        image("old-prod1", &["prod1"], 15),
        image("new-prod2", &["prod2"], 3),
        image("old-dev", &["dev"], 30),
    ];
    let policy = json!({"rules": [rule(1, json!({"tagStatus": "tagged",
        "tagPatternList": ["prod*"], "countType": "sinceImagePushed",
        "countUnit": "days", "countNumber": 14}))]});
    assert_eq!(expired(policy, &images), ["old-prod", "old-prod1"]);
}

#[test]
fn a_lower_any_rule_cannot_expire_what_a_tagged_rule_claims() {
    // The surprise the guide's rule implies: release images kept by rule 1 are safe from the
    // 30-day "any" rule however old they are; only the untagged and other images age out.
    let images = [
        image("r1", &["release-1"], 400),
        image("r2", &["release-2"], 200),
        image("x", &["feature-x"], 40),
        image("u", &[], 35),
        image("y", &["feature-y"], 2),
    ];
    let policy = json!({"rules": [
        prefix_count(1, &["release"], 10),
        rule(2, json!({"tagStatus": "any", "countType": "sinceImagePushed",
            "countUnit": "days", "countNumber": 30})),
    ]});
    assert_eq!(expired(policy, &images), ["u", "x"]);
}

#[test]
fn a_lower_rule_counts_images_claimed_above_as_if_not_expired() {
    // Rule 2 (any, keep 2) counts every image: the newest two are p3 and t3, so it marks t1,
    // t2 and p1, p2; p1, p2 belong to rule 1 (which keeps 5 of them), so only t1 and t2 go.
    let images = [
        image("p1", &["prod-1"], 9),
        image("t1", &["test-1"], 8),
        image("p2", &["prod-2"], 7),
        image("t2", &["test-2"], 6),
        image("t3", &["test-3"], 2),
        image("p3", &["prod-3"], 1),
    ];
    let policy = json!({"rules": [
        prefix_count(1, &["prod"], 5),
        rule(2, json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 2})),
    ]});
    assert_eq!(expired(policy, &images), ["t1", "t2"]);
}

#[test]
fn rules_apply_in_priority_order_whatever_their_order_in_the_document() {
    let images = [image("a", &["prod-1"], 9), image("b", &["prod-2"], 1)];
    let policy = json!({"rules": [
        rule(5, json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 100})),
        prefix_count(1, &["prod"], 1),
    ]});
    let rules = parse(&policy).unwrap();
    assert_eq!(rules[0].priority, 1);
    let eval = evaluate(&rules, &images, NOW);
    assert_eq!(eval.selected.len(), 1);
    assert_eq!(
        (eval.selected[0].digest.as_str(), eval.selected[0].rule),
        ("a", 1)
    );
    assert_eq!(eval.rules[1].matched, 2);
    assert_eq!(eval.rules[1].claimed, 0);
}

#[test]
fn since_pulled_uses_the_last_pull_and_the_push_when_never_pulled() {
    let mut pulled_lately = image("pulled", &["v1"], 100);
    pulled_lately.last_pulled = Some(NOW - 2 * DAY);
    let never = image("never", &["v2"], 100);
    let policy = json!({"rules": [rule(1, json!({"tagStatus": "any",
        "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 30}))]});
    assert_eq!(expired(policy, &[pulled_lately, never]), ["never"]);
}

#[test]
fn archive_rules_see_only_archived_images_and_transitions_are_not_expiries() {
    let mut archived = image("arch", &["v1"], 400);
    archived.archived = true;
    archived.transitioned_at = Some(NOW - 200 * DAY);
    let standard = image("std", &["v2"], 400);
    let policy = json!({"rules": [
        json!({"rulePriority": 1, "selection": {"tagStatus": "any", "storageClass": "archive",
            "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 90},
            "action": {"type": "expire"}}),
        json!({"rulePriority": 2, "selection": {"tagStatus": "any",
            "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 365},
            "action": {"type": "transition", "targetStorageClass": "archive"}}),
    ]});
    let rules = parse(&policy).unwrap();
    let eval = evaluate(&rules, &[archived, standard], NOW);
    let got: Vec<(&str, Action)> = eval
        .selected
        .iter()
        .map(|d| (d.digest.as_str(), d.action))
        .collect();
    assert_eq!(
        got,
        [("arch", Action::Expire), ("std", Action::Transition)],
        "oldest first"
    );
}

#[test]
fn patterns_match_whole_tags_with_wildcards_anywhere() {
    for (pattern, tag, want) in [
        ("prod*", "prod", true),
        ("prod*", "prod1", true),
        ("prod*", "preprod", false),
        ("*prod", "preprod", true),
        ("*test*1*2*3", "mytest-1-2-3", true),
        ("*test*1*2*3", "mytest-1-3-2", false),
        ("v*.*", "v1.2", true),
        ("v*.*", "v12", false),
        ("exact", "exact", true),
        ("exact", "exactly", false),
        ("a*a", "a", false),
        ("a*a", "aa", true),
        ("*", "", true),
    ] {
        assert_eq!(pattern_matches(pattern, tag), want, "{pattern} on {tag}");
    }
}

#[test]
fn every_prefix_must_match_some_tag() {
    let images = [
        image("both", &["prod-1", "eu-1"], 50),
        image("one", &["prod-2"], 50),
    ];
    let policy = json!({"rules": [rule(1, json!({"tagStatus": "tagged",
        "tagPrefixList": ["prod", "eu"], "countType": "sinceImagePushed",
        "countUnit": "days", "countNumber": 1}))]});
    assert_eq!(expired(policy, &images), ["both"]);
}

#[test]
fn a_bad_policy_is_an_error_naming_the_rule() {
    let e = parse(
        &json!({"rules": [prefix_count(1, &["a"], 1), json!({"rulePriority": 2,
        "selection": {"tagStatus": "sometimes", "countType": "imageCountMoreThan",
        "countNumber": 1}})]}),
    )
    .unwrap_err();
    assert!(e.starts_with("rule 2:"), "{e}");
    let e = parse(&json!({"rules": [prefix_count(1, &["a"], 1), prefix_count(1, &["b"], 1)]}))
        .unwrap_err();
    assert!(e.contains("rulePriority 1"), "{e}");
    assert!(parse(&json!({"Rules": []})).is_err());
}

#[test]
fn a_prefix_that_matches_nothing_never_expires() {
    let images = [image("a", &["v1"], 10), image("b", &["v2"], 1)];
    let rules = parse(&json!({"rules": [prefix_count(1, &["release-"], 5)]})).unwrap();
    assert_eq!(outlook(&rules, &images, NOW), Outlook::Never);
}

#[test]
fn a_count_rule_fires_when_the_push_rate_reaches_it() {
    // 3 images, keep 5, 3 pushes in the last 90 days: 3 more pushes needed, one per 30 days.
    let images = [
        image("a", &["v1"], 80),
        image("b", &["v2"], 50),
        image("c", &["v3"], 20),
    ];
    let rules = parse(&json!({"rules": [rule(1, json!({"tagStatus": "any",
        "countType": "imageCountMoreThan", "countNumber": 5}))]}))
    .unwrap();
    assert_eq!(
        outlook(&rules, &images, NOW),
        Outlook::ExpiresIn { days: 90, rule: 1 }
    );
    // Keep 1,000 at that rate: about 82 years away, beyond the horizon.
    let rules = parse(&json!({"rules": [rule(1, json!({"tagStatus": "any",
        "countType": "imageCountMoreThan", "countNumber": 1000}))]}))
    .unwrap();
    assert_eq!(outlook(&rules, &images, NOW), Outlook::Never);
    // A repository nobody pushes to any more never reaches the count.
    let stale = [image("a", &["v1"], 400)];
    let rules = parse(&json!({"rules": [rule(1, json!({"tagStatus": "any",
        "countType": "imageCountMoreThan", "countNumber": 5}))]}))
    .unwrap();
    assert_eq!(outlook(&rules, &stale, NOW), Outlook::Never);
}

#[test]
fn an_age_rule_fires_when_its_oldest_image_comes_of_age() {
    let images = [image("a", &["v1"], 10)];
    let rules = parse(&json!({"rules": [rule(1, json!({"tagStatus": "any",
        "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30}))]}))
    .unwrap();
    assert_eq!(
        outlook(&rules, &images, NOW),
        Outlook::ExpiresIn { days: 21, rule: 1 }
    );
    let images = [image("a", &["v1"], 40)];
    assert_eq!(
        outlook(&rules, &images, NOW),
        Outlook::ExpiresNow { images: 1 }
    );
}

#[test]
fn a_rule_shadowed_by_a_higher_one_never_fires() {
    // Rule 1 claims every tagged image and keeps 100; rule 2 (prod, 7 days) claims nothing.
    let images = [image("a", &["prod-1"], 60), image("b", &["prod-2"], 1)];
    let rules = parse(&json!({"rules": [
        rule(1, json!({"tagStatus": "tagged", "tagPatternList": ["*"],
            "countType": "imageCountMoreThan", "countNumber": 100})),
        rule(2, json!({"tagStatus": "tagged", "tagPrefixList": ["prod"],
            "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7})),
    ]}))
    .unwrap();
    let eval = evaluate(&rules, &images, NOW);
    assert!(eval.selected.is_empty());
    assert_eq!((eval.rules[1].matched, eval.rules[1].claimed), (2, 0));
    assert_eq!(outlook(&rules, &images, NOW), Outlook::Never);
}
