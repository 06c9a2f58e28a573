//! Images in use by Kubernetes pods, on the emulator and a fake API server on loopback
//! (`src/testing/kube_api.rs`, compiled in here): a repository whose lifecycle policy keeps
//! only the newest image, and a Deployment's pod that runs the oldest. `little audit` lists the
//! image in `images_in_use` with its `k8s:` user and reports a HIGH
//! `ecr.lifecycle-expires-in-use` naming it; `little serve` exports it with the user label; a
//! 403 from the API server leaves the check not checked, naming the RBAC permission; a refused
//! token is an error of the report.

use serde_json::Value;
use tokio::runtime::Runtime;

use crate::harness::{Emulator, TestProject};
use crate::serve::{parse_metrics, value, Server};

#[allow(dead_code)]
#[path = "../../src/testing/kube_api.rs"]
mod kube_api;

const TOKEN: &str = "k8s-test-token-abc123";
const USER: &str = "k8s:prod/shop/deployment/api";

/// A project reading cluster `prod` through a kubeconfig in the project, with `token`.
fn project(emulator: &Emulator, server: &str, token: &str) -> TestProject {
    let p = TestProject::new().with_emulator(emulator);
    p.file(
        "little.yaml",
        "defaults:\n  region: us-east-1\naudit:\n  image_in_use_series: true\n  kubernetes:\n    - name: prod\n      kubeconfig: kube/config\n      namespaces: [shop]\n",
    );
    p.file(
        "kube/config",
        &format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: prod\n  cluster:\n    server: {server}\ncontexts:\n- name: prod\n  context:\n    cluster: prod\n    user: auditor\nusers:\n- name: auditor\n  user:\n    token: {token}\n"
        ),
    );
    p
}

#[test]
fn a_pod_running_an_image_the_lifecycle_policy_expires_is_reported_with_its_controller() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let (uri, digests) = crate::in_use::repository(&rt, &emulator);
    let api = kube_api::start(kube_api::Behaviour {
        token: TOKEN.into(),
        pods: vec![
            kube_api::pod(
                "shop",
                "api-7c9d6b5f4-q8x2m",
                "Running",
                Some(("ReplicaSet", "api-7c9d6b5f4")),
                &[("app", "api"), ("pod-template-hash", "7c9d6b5f4")],
                &[(
                    "api",
                    &format!("{uri}:v1"),
                    &format!("docker-pullable://{uri}@{}", digests[0]),
                )],
                &[],
            ),
            // Another registry's image: left out.
            kube_api::pod(
                "shop",
                "cache-0",
                "Running",
                Some(("StatefulSet", "cache")),
                &[],
                &[("redis", "docker.io/library/redis:7", "")],
                &[],
            ),
        ],
        ..kube_api::Behaviour::default()
    });

    let p = project(&emulator, &api.url, TOKEN);
    let out = p.run(&["audit", "--no-stacks", "--format", "json"]);
    out.code(2);
    assert!(!out.stderr.contains(TOKEN), "{}", out.stderr);
    let report = out.json();
    let in_use = report["images_in_use"].as_array().unwrap();
    assert_eq!(in_use.len(), 1, "{report}");
    assert_eq!(in_use[0]["digest"], Value::from(digests[0].clone()));
    assert_eq!(in_use[0]["in_use_by"], serde_json::json!([USER]));
    let expiring: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "ecr.lifecycle-expires-in-use")
        .collect();
    assert_eq!(expiring.len(), 1, "{report}");
    assert_eq!(expiring[0]["severity"], "HIGH");
    assert_eq!(
        expiring[0]["message"],
        Value::from(format!(
            "the lifecycle policy of repository `{}` would expire image `{}:v1` ({}), which is in use by {USER}: rule 1 (any image, beyond the newest 1)",
            crate::in_use::REPO,
            crate::in_use::REPO,
            digests[0]
        ))
    );
    assert_eq!(report["errors"], serde_json::json!([]));
    // Read once per run, in the namespace listed, with the paging parameters.
    let requests = api.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0].starts_with("/api/v1/namespaces/shop/pods?limit=500&fieldSelector="),
        "{requests:?}"
    );

    // `little serve` runs the same audit: the metric carries the pod's controller.
    let server = Server::start(&p, &["--interval", "1h", "--no-stacks"]);
    let text = server.wait_for("/metrics", "the image in use", |s, b| {
        s == 200 && b.contains("little_image_in_use{")
    });
    let samples = parse_metrics(&text);
    assert_eq!(
        value(
            &samples,
            "little_image_in_use",
            &[("digest", digests[0].as_str()), ("user", USER)]
        ),
        Some(1.0),
        "{text}"
    );
    drop(server);

    // RBAC denies the listing: the check is not checked, naming the permission; the audit
    // itself succeeds.
    api.behaviour.lock().unwrap().forbidden = vec!["shop".into()];
    let out = p.run(&crate::in_use::EXPIRING_IN_USE_JSON);
    out.code(0);
    let report = out.json();
    assert_eq!(
        report["not_checked"][0]["permission"],
        "kubernetes:list pods in namespace shop (cluster prod)",
        "{report}"
    );
    assert_eq!(report["not_checked"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["errors"], serde_json::json!([]));
    assert!(report["images_in_use"].is_null(), "{report}");

    // A refused token: an error of the report, which fails the audit; the token is not shown.
    api.behaviour.lock().unwrap().forbidden.clear();
    let p = project(&emulator, &api.url, "expired-token-xyz");
    let out = p.run(&crate::in_use::EXPIRING_IN_USE_JSON);
    // No finding (the pod's image is not known), an error: exit 1.
    out.code(1);
    let report = out.json();
    let errors = report["errors"].to_string();
    assert!(
        errors.contains("the credentials of Kubernetes cluster `prod` were refused"),
        "{report}"
    );
    assert!(!out.stdout.contains("expired-token-xyz") && !out.stderr.contains("expired-token-xyz"));
}
