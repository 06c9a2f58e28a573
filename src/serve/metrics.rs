//! `/metrics` of `little serve`: the ECR metrics that registry dashboards already use
//! (`aws_ecr_*`, with an `image` label of `<repository uri>:<tag>` that joins with
//! kube-state-metrics) and the tool's own (`little_*`), encoded by `prometheus-client` in the
//! OpenMetrics text format. The text is built once per audit run, so that a scrape costs a
//! copy, however large the registry.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::audit::run::AuditOutcome;
use crate::aws::calls::CallTable;
use crate::error::{Error, Result};

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// ecr_exporter's liveness gauge.
pub const EXPORTER_UP: &str = "aws_ecr_repository_exporter_up";

type Labels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// What the metrics are made of.
pub struct MetricsInput<'a> {
    /// Whether the last run's audit succeeded (`aws_ecr_repository_exporter_up`).
    pub exporter_up: bool,
    /// The last successful audit, with when it ended (Unix seconds) and how long it took.
    pub last_good: Option<(&'a AuditOutcome, u64, f64)>,
    /// The duration of the last run, successful or not.
    pub last_duration: Option<f64>,
    /// Failed runs (`reason="run_failed"`).
    pub errors_total: u64,
    /// Checks that IAM kept from running, counted once per check, registry and run
    /// (`reason="access_denied"`).
    pub denied_total: u64,
    /// Remediations applied by `--remediate`, per check.
    pub remediations: &'a std::collections::BTreeMap<String, u64>,
    /// When the last run failed (Unix seconds); None: none has.
    pub last_error: Option<u64>,
    pub calls: &'a CallTable,
    /// One `little_image_in_use` series per image and user (opt-in: a large registry runs
    /// many); the per-repository counts are always there.
    pub image_in_use_series: bool,
}

fn gauges(registry: &mut Registry, name: &str, help: &str) -> Family<Labels, FloatGauge> {
    let family = Family::<Labels, FloatGauge>::default();
    registry.register(name, help, family.clone());
    family
}

/// The exposition text.
pub fn render(input: &MetricsInput<'_>) -> Result<String> {
    let mut registry = Registry::default();
    // ecr_exporter's name and type; it exported 1 while it ran and stopped when a collection
    // failed, so 0 here (the server goes on, keeping the last good results) alerts the same.
    let up = FloatGauge::default();
    registry.register(
        EXPORTER_UP,
        "1 when the last collection (audit run) succeeded, 0 otherwise",
        up.clone(),
    );
    up.set(if input.exporter_up { 1.0 } else { 0.0 });
    let repository_count = gauges(
        &mut registry,
        "aws_ecr_repository_count",
        "Repositories in the registry",
    );
    let repository_info = gauges(
        &mut registry,
        "aws_ecr_repository_info",
        "A repository and its configuration (always 1)",
    );
    let image_size = gauges(
        &mut registry,
        "aws_ecr_image_size_in_bytes",
        "The size of a tagged image",
    );
    let pushed_at = gauges(
        &mut registry,
        "aws_ecr_image_pushed_at_timestamp_seconds",
        "When a tagged image was pushed",
    );
    let severity_count = gauges(
        &mut registry,
        "aws_ecr_image_scan_severity_count",
        "Scan findings of a tagged image per severity (from DescribeImageScanFindings)",
    );
    let scan_completed = gauges(
        &mut registry,
        "aws_ecr_image_scan_completed_at_timestamp_seconds",
        "When a tagged image's last scan completed",
    );
    let findings = gauges(
        &mut registry,
        "little_audit_findings",
        "Audit findings per check, severity, resource, account and region",
    );
    let stack_status = gauges(
        &mut registry,
        "little_stack_status",
        "A project stack's status (always 1; NOT_DEPLOYED when it does not exist)",
    );
    let stack_drifted = gauges(
        &mut registry,
        "little_stack_drifted",
        "1 when a project stack drifted, 0 when in sync (absent when unknown)",
    );
    let in_use_count = gauges(
        &mut registry,
        "little_images_in_use",
        "Images of a repository that run (ECS services and tasks, Lambda functions, Kubernetes pods)",
    );
    let in_use = gauges(
        &mut registry,
        "little_image_in_use",
        "An image that runs, per user (1; with audit.image_in_use_series)",
    );
    let expirable = gauges(
        &mut registry,
        "little_lifecycle_expirable_images",
        "Images the repository's lifecycle policy would expire now (evaluated as ECR does)",
    );
    let expirable_in_use = gauges(
        &mut registry,
        "little_lifecycle_expirable_images_in_use",
        "Images the repository's lifecycle policy would expire now that run",
    );
    let last_success = FloatGauge::default();
    registry.register(
        "little_audit_last_success_timestamp_seconds",
        "When the last successful audit ended",
        last_success.clone(),
    );
    let duration = FloatGauge::default();
    registry.register(
        "little_audit_duration_seconds",
        "How long the last audit took",
        duration.clone(),
    );
    if let Some(t) = input.last_error {
        let last_error = FloatGauge::default();
        registry.register(
            "little_audit_last_error_timestamp_seconds",
            "When the last failed audit run ended (absent while none has failed)",
            last_error.clone(),
        );
        last_error.set(t as f64);
    }
    let errors = Family::<Labels, Counter>::default();
    registry.register(
        "little_audit_errors",
        "Audit errors: runs that failed (reason run_failed), checks that a denied permission kept from running, once per check and registry (reason access_denied)",
        errors.clone(),
    );
    let remediations = Family::<Labels, Counter>::default();
    registry.register(
        "little_audit_remediations",
        "Remediations applied by `little serve --remediate`, per check",
        remediations.clone(),
    );
    for (check, n) in input.remediations {
        remediations
            .get_or_create(&vec![("check", check.clone())])
            .inc_by(*n);
    }
    let calls = Family::<Labels, Counter>::default();
    registry.register(
        "little_aws_api_calls",
        "AWS API calls per operation (retries included)",
        calls.clone(),
    );

    errors
        .get_or_create(&vec![("reason", "run_failed".to_owned())])
        .inc_by(input.errors_total);
    if input.denied_total > 0 {
        errors
            .get_or_create(&vec![("reason", "access_denied".to_owned())])
            .inc_by(input.denied_total);
    }
    for (operation, count) in input.calls {
        calls
            .get_or_create(&vec![("operation", operation.clone())])
            .inc_by(count.calls + count.retries);
    }
    if let Some(d) = input.last_duration {
        duration.set(d);
    }
    if let Some((outcome, finished, _)) = input.last_good {
        last_success.set(finished as f64);
        for inventory in &outcome.registries {
            let registry_id = inventory.account.clone();
            // Per region too: `--org` and `audit.regions` read each account in several.
            repository_count
                .get_or_create(&vec![
                    ("registry_id", registry_id.clone()),
                    ("region", inventory.region.clone()),
                ])
                .set(inventory.repositories.len() as f64);
            for facts in &inventory.repositories {
                let r = &facts.repository;
                repository_info
                    .get_or_create(&vec![
                        ("name", r.name.clone()),
                        ("registry_id", r.registry_id.clone()),
                        ("repository_uri", r.uri.clone()),
                        ("tag_mutability", r.tag_mutability.clone()),
                        ("scan_on_push", r.scan_on_push.to_string()),
                        ("encryption_type", r.encryption_type.clone()),
                    ])
                    .set(1.0);
                for (image, scan) in &facts.images {
                    for tag in &image.tags {
                        let labels: Labels = vec![
                            ("name", r.name.clone()),
                            ("tag", tag.clone()),
                            ("digest", image.digest.clone()),
                            ("registry_id", r.registry_id.clone()),
                            ("image", format!("{}:{tag}", r.uri)),
                        ];
                        if let Some(size) = image.size {
                            image_size.get_or_create(&labels).set(size as f64);
                        }
                        if let Some(t) = image
                            .pushed_at
                            .as_deref()
                            .and_then(crate::time::parse_rfc3339)
                        {
                            pushed_at.get_or_create(&labels).set(t);
                        }
                        let Some(scan) = scan else { continue };
                        if let Some(t) = scan
                            .completed_at
                            .as_deref()
                            .and_then(crate::time::parse_rfc3339)
                        {
                            scan_completed.get_or_create(&labels).set(t);
                        }
                        for (severity, n) in &scan.counts {
                            let mut with = labels.clone();
                            with.push(("severity", severity.clone()));
                            severity_count.get_or_create(&with).set(*n as f64);
                        }
                    }
                }
            }
        }
        lifecycle_series(outcome, &expirable, &expirable_in_use);
        let mut counts: std::collections::BTreeMap<Labels, f64> = Default::default();
        for image in &outcome.report.images_in_use {
            let mut labels: Labels = vec![("repository", image.repository.clone())];
            if let Some(a) = &image.account {
                labels.push(("account", a.clone()));
            }
            if let Some(r) = &image.region {
                labels.push(("region", r.clone()));
            }
            if input.image_in_use_series {
                for user in &image.in_use_by {
                    let mut with = labels.clone();
                    with.push(("digest", image.digest.clone()));
                    with.push(("user", user.clone()));
                    in_use.get_or_create(&with).set(1.0);
                }
            }
            *counts.entry(labels).or_default() += 1.0;
        }
        for (labels, n) in counts {
            in_use_count.get_or_create(&labels).set(n);
        }
        for f in &outcome.report.findings {
            // The same repository name in two accounts or regions is two series.
            let mut labels: Labels = vec![
                ("check", f.check.clone()),
                ("severity", f.severity.as_str().to_owned()),
                ("repository", f.resource.clone()),
            ];
            if let Some(a) = &f.account {
                labels.push(("account", a.clone()));
            }
            if let Some(r) = &f.region {
                labels.push(("region", r.clone()));
            }
            findings.get_or_create(&labels).inc();
        }
        for s in &outcome.stacks {
            stack_status
                .get_or_create(&vec![
                    ("stack", s.stack.clone()),
                    (
                        "status",
                        s.status.clone().unwrap_or_else(|| "NOT_DEPLOYED".into()),
                    ),
                ])
                .set(1.0);
            if let Some(d) = s.drifted {
                stack_drifted
                    .get_or_create(&vec![("stack", s.stack.clone())])
                    .set(if d { 1.0 } else { 0.0 });
            }
        }
    }
    let mut text = String::new();
    encode(&mut text, &registry).map_err(|e| Error::Internal(format!("metrics: {e}")))?;
    Ok(text)
}

/// Per repository with a lifecycle policy and its images read: how many images the policy
/// expires now, and how many of them run.
fn lifecycle_series(
    outcome: &AuditOutcome,
    expirable: &Family<Labels, FloatGauge>,
    expirable_in_use: &Family<Labels, FloatGauge>,
) {
    let now = i64::try_from(crate::time::now()).unwrap_or(i64::MAX);
    for inventory in &outcome.registries {
        for facts in &inventory.repositories {
            let (Some(policy), false) = (&facts.lifecycle, facts.listed.is_empty()) else {
                continue;
            };
            let Ok(rules) = crate::context::lifecycle::rules_of(policy) else {
                continue;
            };
            let effect = crate::context::lifecycle::effect(&rules, &facts.listed, now);
            let name = &facts.repository.name;
            let labels: Labels = vec![
                ("repository", name.clone()),
                ("account", inventory.account.clone()),
                ("region", inventory.region.clone()),
            ];
            expirable
                .get_or_create(&labels)
                .set(effect.expires() as f64);
            let running = effect
                .selected
                .iter()
                .filter(|s| s.action == "expire")
                .filter(|s| {
                    outcome.report.images_in_use.iter().any(|u| {
                        &u.repository == name
                            && u.digest == s.digest
                            && u.account.as_deref().is_none_or(|a| a == inventory.account)
                            && u.region.as_deref().is_none_or(|r| r == inventory.region)
                    })
                })
                .count();
            expirable_in_use.get_or_create(&labels).set(running as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::ecr::RepositoryFacts;
    use crate::audit::model::ImageInUse;
    use crate::audit::model::{AuditReport, Checked, Finding, Severity};
    use crate::audit::run::{RegistryInventory, StackState};
    use crate::aws::calls::CallCount;
    use crate::aws::ecr::{Image, Repository, ScanResult};

    fn outcome() -> AuditOutcome {
        let repository = Repository {
            name: "team/api".into(),
            arn: "arn:aws:ecr:us-east-1:123456789012:repository/team/api".into(),
            uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api".into(),
            registry_id: "123456789012".into(),
            tag_mutability: "IMMUTABLE".into(),
            exclusion_filters: vec![],
            scan_on_push: true,
            encryption_type: "KMS".into(),
            kms_key: None,
        };
        let image = Image {
            digest: "sha256:abc".into(),
            tags: vec!["v1".into(), "latest".into()],
            pushed_at: Some("2026-11-01T10:00:00Z".into()),
            size: Some(1234),
            last_pulled: None,
            scan: None,
        };
        let scan = ScanResult {
            status: "COMPLETE".into(),
            description: None,
            completed_at: Some("2026-11-01T10:05:00Z".into()),
            counts: [("HIGH".to_owned(), 2), ("LOW".to_owned(), 5)].into(),
            findings: vec![],
        };
        AuditOutcome {
            report: AuditReport::new(
                0,
                Checked::default(),
                vec![Finding {
                    check: "ecr.lifecycle".into(),
                    control: Some("ECR.3".into()),
                    severity: Severity::Medium,
                    resource: "team/api".into(),
                    resource_type: "AWS::ECR::Repository".into(),
                    arn: None,
                    account: None,
                    region: None,
                    message: "m".into(),
                    remediation: None,
                }],
                vec![],
            ),
            registries: vec![RegistryInventory {
                account: "123456789012".into(),
                region: "us-east-1".into(),
                repositories: vec![RepositoryFacts {
                    repository,
                    lifecycle: None,
                    policy: None,
                    images: vec![(image, Some(scan))],
                    listed: vec![],
                    unread: vec![],
                }],
            }],
            stacks: vec![
                StackState {
                    stack: "ecr".into(),
                    status: Some("UPDATE_COMPLETE".into()),
                    drifted: Some(true),
                },
                StackState {
                    stack: "iam".into(),
                    status: None,
                    drifted: None,
                },
            ],
        }
    }

    #[test]
    fn images_in_use_and_what_the_lifecycle_policy_expires_are_counted() {
        let mut o = outcome();
        let old = |digest: &str, tag: &str, month: u8| Image {
            digest: digest.into(),
            tags: vec![tag.into()],
            pushed_at: Some(format!("2026-0{month}-01T00:00:00Z")),
            size: None,
            last_pulled: None,
            scan: None,
        };
        let facts = &mut o.registries[0].repositories[0];
        facts.lifecycle = Some(r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#.into());
        facts.listed = vec![
            old("sha256:a", "v1", 1),
            old("sha256:b", "v2", 2),
            old("sha256:c", "v3", 3),
        ];
        o.report.images_in_use = vec![ImageInUse {
            repository: "team/api".into(),
            digest: "sha256:a".into(),
            tags: vec!["v1".into()],
            in_use_by: vec!["ecs:prod/api".into(), "lambda:resize".into()],
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
        }];
        let render_with = |series: bool| {
            render(&MetricsInput {
                exporter_up: true,
                last_good: Some((&o, 1_790_000_000, 1.5)),
                last_duration: None,
                errors_total: 0,
                denied_total: 0,
                remediations: &Default::default(),
                last_error: None,
                calls: &CallTable::new(),
                image_in_use_series: series,
            })
            .unwrap()
        };
        let text = render_with(false);
        let has =
            |text: &str, line: &str| assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        let labels = "repository=\"team/api\",account=\"123456789012\",region=\"us-east-1\"";
        has(&text, &format!("little_images_in_use{{{labels}}} 1.0"));
        // Keep 1 of 3: the two older go, one of them runs.
        has(
            &text,
            &format!("little_lifecycle_expirable_images{{{labels}}} 2.0"),
        );
        has(
            &text,
            &format!("little_lifecycle_expirable_images_in_use{{{labels}}} 1.0"),
        );
        assert!(!text.contains("little_image_in_use{"), "{text}");
        let text = render_with(true);
        has(
            &text,
            &format!(
                "little_image_in_use{{{labels},digest=\"sha256:a\",user=\"ecs:prod/api\"}} 1.0"
            ),
        );
        has(
            &text,
            &format!(
                "little_image_in_use{{{labels},digest=\"sha256:a\",user=\"lambda:resize\"}} 1.0"
            ),
        );
    }

    #[test]
    fn renders_every_family_with_its_labels() {
        let o = outcome();
        let mut calls = CallTable::new();
        calls.insert(
            "ecr:DescribeImages".into(),
            CallCount {
                calls: 3,
                retries: 1,
            },
        );
        let text = render(&MetricsInput {
            exporter_up: true,
            last_good: Some((&o, 1_790_000_000, 1.5)),
            last_duration: Some(2.5),
            errors_total: 2,
            denied_total: 3,
            remediations: &[("ecr.tag-immutability".to_owned(), 4)].into(),
            last_error: Some(1_790_000_100),
            calls: &calls,
            image_in_use_series: true,
        })
        .unwrap();
        let has = |line: &str| assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        has("aws_ecr_repository_count{registry_id=\"123456789012\",region=\"us-east-1\"} 1.0");
        has("aws_ecr_repository_info{name=\"team/api\",registry_id=\"123456789012\",repository_uri=\"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api\",tag_mutability=\"IMMUTABLE\",scan_on_push=\"true\",encryption_type=\"KMS\"} 1.0");
        has("aws_ecr_image_size_in_bytes{name=\"team/api\",tag=\"v1\",digest=\"sha256:abc\",registry_id=\"123456789012\",image=\"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:v1\"} 1234.0");
        has("aws_ecr_image_pushed_at_timestamp_seconds{name=\"team/api\",tag=\"latest\",digest=\"sha256:abc\",registry_id=\"123456789012\",image=\"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:latest\"} 1793527200.0");
        has("aws_ecr_image_scan_severity_count{name=\"team/api\",tag=\"v1\",digest=\"sha256:abc\",registry_id=\"123456789012\",image=\"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:v1\",severity=\"HIGH\"} 2.0");
        has("aws_ecr_image_scan_completed_at_timestamp_seconds{name=\"team/api\",tag=\"v1\",digest=\"sha256:abc\",registry_id=\"123456789012\",image=\"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:v1\"} 1793527500.0");
        has("little_audit_findings{check=\"ecr.lifecycle\",severity=\"MEDIUM\",repository=\"team/api\"} 1.0");
        has("little_stack_status{stack=\"ecr\",status=\"UPDATE_COMPLETE\"} 1.0");
        has("little_stack_status{stack=\"iam\",status=\"NOT_DEPLOYED\"} 1.0");
        has("little_stack_drifted{stack=\"ecr\"} 1.0");
        has("little_audit_last_success_timestamp_seconds 1790000000.0");
        has("little_audit_duration_seconds 2.5");
        has("little_audit_errors_total{reason=\"run_failed\"} 2");
        has("little_audit_errors_total{reason=\"access_denied\"} 3");
        has("little_audit_remediations_total{check=\"ecr.tag-immutability\"} 4");
        has("little_audit_last_error_timestamp_seconds 1790000100.0");
        has("little_aws_api_calls_total{operation=\"ecr:DescribeImages\"} 4");
        has("# HELP aws_ecr_repository_exporter_up 1 when the last collection (audit run) succeeded, 0 otherwise.");
        has("# TYPE aws_ecr_repository_exporter_up gauge");
        has("aws_ecr_repository_exporter_up 1.0");
        assert!(text.ends_with("# EOF\n"));
        assert!(!text.contains("little_stack_drifted{stack=\"iam\"}"));
    }

    #[test]
    fn accounts_and_regions_are_separate_series() {
        let mut o = outcome();
        let mut second = o.registries[0].clone();
        second.region = "eu-west-1".into();
        second.repositories.clear();
        o.registries.push(second);
        let mut f = o.report.findings[0].clone();
        f.account = Some("111111111111".into());
        f.region = Some("us-east-1".into());
        let mut g = f.clone();
        g.account = Some("222222222222".into());
        let mut h = f.clone();
        h.check = crate::audit::org::CHECK_ACCOUNT_UNREACHABLE.into();
        h.severity = Severity::High;
        h.resource = "333333333333".into();
        h.account = Some("333333333333".into());
        o.report.findings = vec![f, g, h];
        let text = render(&MetricsInput {
            exporter_up: true,
            last_good: Some((&o, 1_790_000_000, 1.5)),
            last_duration: None,
            errors_total: 0,
            denied_total: 0,
            remediations: &Default::default(),
            last_error: None,
            calls: &CallTable::new(),
            image_in_use_series: false,
        })
        .unwrap();
        let has = |line: &str| assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        has("aws_ecr_repository_count{registry_id=\"123456789012\",region=\"us-east-1\"} 1.0");
        has("aws_ecr_repository_count{registry_id=\"123456789012\",region=\"eu-west-1\"} 0.0");
        has("little_audit_findings{check=\"ecr.lifecycle\",severity=\"MEDIUM\",repository=\"team/api\",account=\"111111111111\",region=\"us-east-1\"} 1.0");
        has("little_audit_findings{check=\"ecr.lifecycle\",severity=\"MEDIUM\",repository=\"team/api\",account=\"222222222222\",region=\"us-east-1\"} 1.0");
        has("little_audit_findings{check=\"org.account-unreachable\",severity=\"HIGH\",repository=\"333333333333\",account=\"333333333333\",region=\"us-east-1\"} 1.0");
    }

    #[test]
    fn before_the_first_audit_only_the_tool_s_counters_have_values() {
        let text = render(&MetricsInput {
            exporter_up: false,
            last_good: None,
            last_duration: None,
            errors_total: 0,
            denied_total: 0,
            remediations: &Default::default(),
            last_error: None,
            calls: &CallTable::new(),
            image_in_use_series: false,
        })
        .unwrap();
        assert!(text.contains("little_audit_errors_total{reason=\"run_failed\"} 0"));
        assert!(text
            .lines()
            .any(|l| l == "aws_ecr_repository_exporter_up 0.0"));
        assert!(!text.contains("reason=\"access_denied\""));
        assert!(!text.contains("little_audit_last_error_timestamp_seconds"));
        assert!(!text.contains("aws_ecr_repository_count{"));
    }
}
