//! Criterion micro-benchmark of the template diff: two templates of 500 resources, as a
//! deployed one (YAML-shaped key order, policies as JSON strings) and a rendered one with 50
//! resources changed, 5 added and 5 removed; the semantic diff and the unified text diff.

use criterion::{criterion_group, criterion_main, Criterion};
use little_stack::plan::diff::diff_templates;
use little_stack::report::diff::unified;
use serde_json::{json, Map, Value};

fn template(changed: bool) -> Value {
    let mut resources = Map::new();
    let range = if changed { 5..505 } else { 0..500 };
    for i in range {
        let keep = if changed && i % 10 == 0 { 30 } else { 20 };
        resources.insert(
            format!("Repo{i}"),
            json!({
                "Type": "AWS::ECR::Repository",
                "Properties": {
                    "RepositoryName": format!("bench/service-{i}"),
                    "ImageTagMutability": "IMMUTABLE",
                    "ImageScanningConfiguration": {"ScanOnPush": true},
                    "LifecyclePolicy": {"LifecyclePolicyText": json!({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep}, "action": {"type": "expire"}}]}).to_string()},
                    "RepositoryPolicyText": {"Version": "2012-10-17", "Statement": [{"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]},
                    "Tags": [{"Key": "service", "Value": format!("service-{i}")}]
                }
            }),
        );
    }
    json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
}

fn bench(c: &mut Criterion) {
    let old = template(false);
    let new = template(true);
    let diff = diff_templates(Some(&old), &new);
    assert!(!diff.is_empty());
    let mut group = c.benchmark_group("diff");
    group.sample_size(20);
    group.bench_function("semantic diff 500 resources", |b| {
        b.iter(|| diff_templates(Some(&old), &new))
    });
    group.bench_function("unified text diff 500 resources", |b| {
        b.iter(|| unified(Some(&old), Some(&new), false))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
