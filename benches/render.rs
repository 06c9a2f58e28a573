//! Criterion micro-benchmark of the renderer: one stack whose template loops over 500
//! resources (ECR repositories with a lifecycle policy, a repository policy and tags), from
//! template text to a parsed template, and with the structural lint (`validate`). (150
//! outputs: CloudFormation allows 200.)

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use little_stack::project::Project;
use little_stack::render::{RenderOptions, Renderer};

const TEMPLATE: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Description": "500 repositories",
  "Resources": {
{%- for i in range(vars.count) %}
    "Repo{{ i }}": {
      "Type": "AWS::ECR::Repository",
      "Properties": {
        "RepositoryName": "bench/service-{{ i }}",
        "ImageTagMutability": "IMMUTABLE",
        "ImageScanningConfiguration": {"ScanOnPush": true},
        "EncryptionConfiguration": {"EncryptionType": "KMS"},
        "LifecyclePolicy": {"LifecyclePolicyText": {{ {"rules": [{"rulePriority": 1, "description": "expire untagged", "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}, "action": {"type": "expire"}}]} | dump | dump }}},
        "RepositoryPolicyText": {"Version": "2012-10-17", "Statement": [{"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]},
        "Tags": [{"Key": "service", "Value": "service-{{ i }}"}, {"Key": "team", "Value": "{{ ["a", "b", "c"][i % 3] }}"}]
      }
    }{{ "," if not loop.last }}
{%- endfor %}
  },
  "Outputs": {
{%- for i in range([vars.count, 150] | min) %}
    "Repo{{ i }}Arn": {"Value": {"Fn::GetAtt": ["Repo{{ i }}", "Arn"]}}{{ "," if not loop.last }}
{%- endfor %}
  }
}
"#;

fn project(dir: &Path) -> Project {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::create_dir_all(dir.join("stacks")).unwrap();
    std::fs::write(dir.join("little.yaml"), "defaults:\n  region: us-east-1\n").unwrap();
    std::fs::write(dir.join("templates/big.json.njk"), TEMPLATE).unwrap();
    std::fs::write(
        dir.join("stacks/big.yaml"),
        "name: big\ntemplate: big.json.njk\nvariables:\n  count: 500\n",
    )
    .unwrap();
    Project::load(dir).unwrap()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    let stack = project.select(&["big".into()], false).unwrap()[0];
    let renderer = Renderer::new(&project, RenderOptions::default());
    let rendered = renderer.render(stack).unwrap();
    assert_eq!(
        rendered.template["Resources"].as_object().unwrap().len(),
        500
    );
    let mut group = c.benchmark_group("render");
    group.sample_size(20);
    group.bench_function("render 500 resources", |b| {
        b.iter(|| renderer.render(stack).unwrap())
    });
    group.bench_function("validate 500 resources", |b| {
        b.iter(|| {
            let (r, diags) = renderer.check(stack);
            assert!(
                r.is_some() && diags.iter().all(|d| !d.is_error()),
                "{diags:?}"
            );
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
