//! Tests of the Kubernetes reader: the kubeconfig (each way to authenticate, each refusal), the
//! pods (containers, init and ephemeral containers, each `imageID` form, controllers), the
//! exec plugin, and the listing against the fake API server of `crate::testing::kube_api`
//! (paging, the field selector, 401, 403, the body bound, a token that never ends).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::kubeconfig::{target, Auth};
use super::pods::{digest_of_image_id, pod_uses, Pod};
use super::*;
use crate::testing::kube_api::{self, pod, Behaviour};

/// A public certificate of a throwaway test CA (no key is kept).
const CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBiTCCAS+gAwIBAgIUKxsQwUTVUBJTesuYZYGm3DUc8+IwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwObGl0dGxlLXRlc3QtY2EwIBcNMjYxMjAzMDQ0NDI4WhgPMjEy
NjExMDkwNDQ0MjhaMBkxFzAVBgNVBAMMDmxpdHRsZS10ZXN0LWNhMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEaIIbPPUA4g8H8SlwKvxEgrx7CWlZ7vrHRrjYHqLo
5P+lLf/4qUszRpSdSC75iwAuu7DfrXYct58BupvGbOZ116NTMFEwHQYDVR0OBBYE
FNeIBoCi+oyFX8XWKRuT9QiRxKhuMB8GA1UdIwQYMBaAFNeIBoCi+oyFX8XWKRuT
9QiRxKhuMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgfCyJFpB/
gKgWCVlUdimto3T97nZ6pl2S0PdbvE+mX5UCIQCua59eVzr+10lXzxIlwA34TwpC
wrXCvN0Yp6qIzf0v0A==
-----END CERTIFICATE-----
";

const TOKEN: &str = "s3cr3t-t0ken-value";

fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A kubeconfig with one context `ctx` (current) on cluster `c` at `server`, user `u` as
/// `user` (YAML, indented for `user:`).
fn kubeconfig(dir: &Path, server: &str, cluster_extra: &str, user: &str) -> PathBuf {
    let text = format!(
        "apiVersion: v1\nkind: Config\npreferences: {{}}\ncurrent-context: ctx\nclusters:\n- name: c\n  cluster:\n    server: {server}\n{cluster_extra}contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n    namespace: default\n- name: other\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n{user}"
    );
    let path = dir.join("config");
    std::fs::write(&path, text).unwrap();
    path
}

fn read(path: &Path, context: Option<&str>) -> Result<Target, String> {
    target(&[path.to_path_buf()], context)
}

#[test]
fn a_token_user_and_a_ca_from_data_or_a_relative_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca = format!(
        "    certificate-authority-data: {}\n",
        b64(CA_PEM.as_bytes())
    );
    let path = kubeconfig(
        dir.path(),
        "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
        &ca,
        &format!("    token: {TOKEN}\n"),
    );
    let t = read(&path, None).unwrap();
    assert_eq!(t.server, "https://ABC.gr7.eu-west-1.eks.amazonaws.com");
    assert_eq!(t.ca_pem.as_deref(), Some(CA_PEM.as_bytes()));
    assert_eq!(t.auth, Auth::Token(TOKEN.into()));
    // The Debug form never shows the token.
    assert!(!format!("{t:?}").contains(TOKEN));
    assert!(tls_config(&t).is_ok());

    std::fs::write(dir.path().join("ca.crt"), CA_PEM).unwrap();
    std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
    let path = kubeconfig(
        dir.path(),
        "https://k8s.example.com:6443",
        "    certificate-authority: ca.crt\n",
        "    tokenFile: token\n",
    );
    let t = read(&path, Some("other")).unwrap();
    assert_eq!(t.ca_pem.as_deref(), Some(CA_PEM.as_bytes()));
    assert_eq!(t.auth, Auth::TokenFile(dir.path().join("token")));
}

#[test]
fn a_client_certificate_user_and_an_exec_user() {
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(
        dir.path(),
        "https://127.0.0.1:6443",
        "",
        &format!(
            "    client-certificate-data: {}\n    client-key-data: {}\n",
            b64(b"CERT"),
            b64(b"KEY")
        ),
    );
    let t = read(&path, None).unwrap();
    assert_eq!(t.client, Some((b"CERT".to_vec(), b"KEY".to_vec())));
    assert_eq!(t.auth, Auth::None);
    // Not PEM: a clear error that shows neither.
    let e = tls_config(&t).unwrap_err();
    assert_eq!(e, "the client certificate holds no PEM certificate");

    // As `aws eks update-kubeconfig` writes it.
    let path = kubeconfig(
        dir.path(),
        "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
        "",
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      args:\n      - --region\n      - eu-west-1\n      - eks\n      - get-token\n      - --cluster-name\n      - prod\n      - --output\n      - json\n      command: aws\n      env:\n      - name: AWS_PROFILE\n        value: prod\n      interactiveMode: IfAvailable\n      provideClusterInfo: false\n",
    );
    let t = read(&path, None).unwrap();
    let Auth::Exec(exec) = t.auth else {
        panic!("{t:?}")
    };
    assert_eq!(exec.command, PathBuf::from("aws"));
    assert_eq!(exec.args[..3], ["--region", "eu-west-1", "eks"]);
    assert_eq!(exec.env, [("AWS_PROFILE".to_owned(), "prod".to_owned())]);
    assert_eq!(exec.api_version, "client.authentication.k8s.io/v1beta1");
    // A command with a `/` is relative to the kubeconfig.
    let path = kubeconfig(
        dir.path(),
        "https://k.example.com",
        "",
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./bin/token\n",
    );
    let Auth::Exec(exec) = read(&path, None).unwrap().auth else {
        panic!()
    };
    assert_eq!(exec.command, dir.path().join("./bin/token"));
}

#[test]
fn what_cannot_be_honoured_safely_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let token = format!("    token: {TOKEN}\n");
    let cases: Vec<(String, String, &str)> = vec![
        (
            "    insecure-skip-tls-verify: true\n".into(),
            token.clone(),
            "`insecure-skip-tls-verify: true` is refused",
        ),
        (
            "    tls-server-name: other\n".into(),
            token.clone(),
            "`tls-server-name` is not supported",
        ),
        (
            "    proxy-url: http://proxy:3128\n".into(),
            token.clone(),
            "`proxy-url` is not supported",
        ),
        (
            "    certificate-authority-data: not*base64\n".into(),
            token.clone(),
            "`certificate-authority-data` is not base64",
        ),
        (
            String::new(),
            "    auth-provider:\n      name: oidc\n".into(),
            "`auth-provider` plugins are not supported",
        ),
        (
            String::new(),
            "    username: admin\n    password: hunter2\n".into(),
            "basic authentication",
        ),
        (
            String::new(),
            format!("{token}    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n"),
            "both a token and an `exec` plugin",
        ),
        (
            String::new(),
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n".into(),
            "`apiVersion` must be one of",
        ),
        (
            String::new(),
            format!("    client-certificate-data: {}\n", b64(b"C")),
            "a client certificate without `client-key`",
        ),
        (String::new(), "    {}\n".into(), "no credentials"),
    ];
    for (cluster, user, want) in cases {
        let path = kubeconfig(dir.path(), "https://k.example.com", &cluster, &user);
        let e = read(&path, None).unwrap_err();
        assert!(e.contains(want), "{e}");
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(!e.contains(TOKEN) && !e.contains("hunter2"), "{e}");
    }
    let path = kubeconfig(dir.path(), "https://k.example.com", "", &token);
    let e = read(&path, Some("prod")).unwrap_err();
    assert!(e.contains("has no context `prod`"), "{e}");
    assert!(read(&path, Some("otter"))
        .unwrap_err()
        .contains("did you mean `other`?"));
    let e = read(&dir.path().join("missing"), None).unwrap_err();
    assert!(e.contains("cannot read kubeconfig"), "{e}");
    // Plain http is refused off loopback, and only https or http is a server.
    assert!(server_uri("http://10.0.0.1:8080")
        .unwrap_err()
        .contains("in clear"));
    assert!(server_uri("ftp://k").is_err());
    assert_eq!(
        server_uri("http://127.0.0.1:1/").unwrap(),
        "http://127.0.0.1:1"
    );
    assert!(server_uri("http://localhost:1").is_ok());
    assert!(server_uri("http://[::1]:1").is_ok());
}

#[test]
fn a_broken_kubeconfig_is_an_error_at_its_line_that_quotes_no_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    // A token where a user map belongs: the parser's message would quote it.
    std::fs::write(
        &path,
        format!("current-context: ctx\nusers:\n- name: u\n  user: {TOKEN}\n"),
    )
    .unwrap();
    let e = read(&path, None).unwrap_err();
    assert!(
        e.contains(&format!("kubeconfig `{}`, line 4", path.display())),
        "{e}"
    );
    assert!(!e.contains(TOKEN), "{e}");
    std::fs::write(&path, "clusters: [\n").unwrap();
    let e = read(&path, None).unwrap_err();
    assert!(e.contains("line "), "{e}");
    std::fs::write(&path, "clusters: []\n").unwrap();
    assert!(read(&path, None)
        .unwrap_err()
        .contains("has no `current-context`"));
}

#[test]
fn a_kubeconfig_list_merges_with_the_first_file_winning() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::write(&a, "current-context: ctx\nclusters:\n- name: c\n  cluster:\n    server: https://first.example.com\n").unwrap();
    std::fs::create_dir(&b).unwrap();
    let b = kubeconfig(&b, "https://second.example.com", "", "    token: t\n");
    let t = target(&[a, dir.path().join("absent"), b], None).unwrap();
    assert_eq!(t.server, "https://first.example.com");
    assert_eq!(t.auth, Auth::Token("t".into()));
    let env = |k: &str| match k {
        "KUBECONFIG" => Some("/x/one:/x/two".to_owned()),
        _ => None,
    };
    assert_eq!(
        default_paths(&env).unwrap(),
        [PathBuf::from("/x/one"), PathBuf::from("/x/two")]
    );
    let env = |k: &str| (k == "HOME").then(|| "/home/me".to_owned());
    assert_eq!(
        default_paths(&env).unwrap(),
        [PathBuf::from("/home/me/.kube/config")]
    );
    assert!(default_paths(&|_: &str| None).is_err());
}

#[test]
fn in_cluster_credentials_come_from_the_service_account() {
    let dir = tempfile::tempdir().unwrap();
    let env = |k: &str| match k {
        "KUBERNETES_SERVICE_HOST" => Some("10.100.0.1".to_owned()),
        "KUBERNETES_SERVICE_PORT" => Some("443".to_owned()),
        _ => None,
    };
    let e = in_cluster_target(&env, dir.path()).unwrap_err();
    assert!(e.contains("service account CA"), "{e}");
    std::fs::write(dir.path().join("ca.crt"), CA_PEM).unwrap();
    assert!(in_cluster_target(&env, dir.path())
        .unwrap_err()
        .contains("no service account token"));
    std::fs::write(dir.path().join("token"), TOKEN).unwrap();
    let t = in_cluster_target(&env, dir.path()).unwrap();
    assert_eq!(t.server, "https://10.100.0.1:443");
    assert_eq!(t.auth, Auth::TokenFile(dir.path().join("token")));
    let v6 = |k: &str| match k {
        "KUBERNETES_SERVICE_HOST" => Some("fd00::1".to_owned()),
        "KUBERNETES_SERVICE_PORT" => Some("443".to_owned()),
        _ => None,
    };
    assert_eq!(
        in_cluster_target(&v6, dir.path()).unwrap().server,
        "https://[fd00::1]:443"
    );
    assert!(in_cluster_target(&|_: &str| None, dir.path())
        .unwrap_err()
        .contains("KUBERNETES_SERVICE_HOST"));
}

#[test]
fn image_ids_give_a_digest_only_when_they_name_a_manifest() {
    let d = "sha256:2b4e7a4d0b9c5c8d3f6a1e0f9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c";
    assert_eq!(
        digest_of_image_id(&format!(
            "docker-pullable://111111111111.dkr.ecr.eu-west-1.amazonaws.com/api@{d}"
        )),
        Some(d.to_owned())
    );
    assert_eq!(
        digest_of_image_id(&format!("docker.io/library/nginx@{d}")),
        Some(d.to_owned())
    );
    assert_eq!(digest_of_image_id(d), None);
    assert_eq!(digest_of_image_id(&format!("docker://{d}")), None);
    assert_eq!(digest_of_image_id(""), None);
    assert_eq!(digest_of_image_id("repo@sha256:nothex"), None);
}

fn uses_of(value: serde_json::Value) -> Vec<ImageUse> {
    let pod: Pod = serde_json::from_value(value).unwrap();
    let mut out = BTreeSet::new();
    pod_uses("prod", &pod, &mut out);
    out.into_iter().collect()
}

fn image_use(reference: &str, digest: Option<&str>, user: &str) -> ImageUse {
    ImageUse {
        reference: reference.into(),
        digest: digest.map(str::to_owned),
        user: user.into(),
    }
}

#[test]
fn a_pods_containers_give_their_images_with_the_digest_that_runs_and_the_controller() {
    let d1 = format!("sha256:{}", "a".repeat(64));
    let d2 = format!("sha256:{}", "b".repeat(64));
    let mut p = pod(
        "shop",
        "api-5d4f8b9c7-x2x9z",
        "Running",
        Some(("ReplicaSet", "api-5d4f8b9c7")),
        &[("app", "api"), ("pod-template-hash", "5d4f8b9c7")],
        &[
            (
                "api",
                "registry/api:v1",
                &format!("docker-pullable://registry/api@{d1}"),
            ),
            ("sidecar", "envoy:1.30", &d2),
        ],
        &[("migrate", "registry/api:v1", &format!("registry/api@{d1}"))],
    );
    p["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox:1.36"}]);
    p["status"]["ephemeralContainerStatuses"] =
        json!([{"name": "debug", "imageID": format!("docker.io/library/busybox@{d2}")}]);
    let user = "k8s:prod/shop/deployment/api";
    assert_eq!(
        uses_of(p),
        vec![
            image_use("busybox:1.36", Some(&d2), user),
            // The bare local id gives no digest.
            image_use("envoy:1.30", None, user),
            // The container and the init container: one use.
            image_use("registry/api:v1", Some(&d1), user),
        ]
    );
    let controlled = |owner: Option<(&str, &str)>, labels: &[(&str, &str)]| {
        uses_of(pod(
            "ns",
            "p-0",
            "Running",
            owner,
            labels,
            &[("c", "img", "")],
            &[],
        ))[0]
            .user
            .clone()
    };
    assert_eq!(
        controlled(Some(("StatefulSet", "db")), &[]),
        "k8s:prod/ns/statefulset/db"
    );
    assert_eq!(
        controlled(Some(("DaemonSet", "agent")), &[]),
        "k8s:prod/ns/daemonset/agent"
    );
    assert_eq!(
        controlled(Some(("Job", "backup-29012345")), &[]),
        "k8s:prod/ns/job/backup-29012345"
    );
    assert_eq!(controlled(None, &[]), "k8s:prod/ns/pod/p-0");
    // A ReplicaSet of no Deployment (no hash in its name) stays one.
    assert_eq!(
        controlled(
            Some(("ReplicaSet", "web")),
            &[("pod-template-hash", "abc12")]
        ),
        "k8s:prod/ns/replicaset/web"
    );
    assert_eq!(
        controlled(Some(("ReplicaSet", "web-abc12")), &[]),
        "k8s:prod/ns/replicaset/web-abc12"
    );
    // An owner that is not the controller does not count.
    let mut p = pod(
        "ns",
        "p-0",
        "Running",
        Some(("Node", "n1")),
        &[],
        &[("c", "img", "")],
        &[],
    );
    p["metadata"]["ownerReferences"][0]["controller"] = json!(false);
    assert_eq!(uses_of(p)[0].user, "k8s:prod/ns/pod/p-0");
    // A pod without a spec, or a container without an image, gives nothing.
    assert!(uses_of(json!({"metadata": {"name": "x", "namespace": "ns"}})).is_empty());
}

fn fake(pods: Vec<serde_json::Value>) -> kube_api::FakeApi {
    kube_api::start(Behaviour {
        token: TOKEN.into(),
        pods,
        ..Behaviour::default()
    })
}

fn token_target(server: &str, token: &str) -> Target {
    Target {
        server: server.into(),
        ca_pem: None,
        client: None,
        auth: Auth::Token(token.into()),
    }
}

fn many_pods(n: usize) -> Vec<serde_json::Value> {
    (0..n)
        .map(|i| {
            let ns = if i % 2 == 0 { "a" } else { "b" };
            pod(
                ns,
                &format!("job-{i}"),
                if i == 7 { "Succeeded" } else { "Running" },
                Some(("Job", &format!("job-{i}"))),
                &[],
                &[("c", &format!("registry/app:{i}"), "")],
                &[],
            )
        })
        .collect()
}

#[tokio::test]
async fn every_page_is_read_with_the_limit_and_the_selector() {
    let api = fake(many_pods(1203));
    let uses = images("prod", &token_target(&api.url, TOKEN), &[])
        .await
        .unwrap();
    // The finished pod is left out by the field selector.
    assert_eq!(uses.len(), 1202);
    assert!(!uses.iter().any(|u| u.reference == "registry/app:7"));
    assert!(uses.iter().any(|u| u.user == "k8s:prod/b/job/job-1201"));
    let requests = api.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert_eq!(
        requests[0],
        "/api/v1/pods?limit=500&fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed"
    );
    assert!(
        requests[1].ends_with("&continue=opaque-500"),
        "{requests:?}"
    );
    assert!(
        requests[2].ends_with("&continue=opaque-1000"),
        "{requests:?}"
    );

    // Per namespace: one listing each, pages smaller than asked.
    api.behaviour.lock().unwrap().page_size = Some(100);
    api.requests.lock().unwrap().clear();
    let uses = images("prod", &token_target(&api.url, TOKEN), &["a".to_owned()])
        .await
        .unwrap();
    assert_eq!(uses.len(), 602);
    assert!(uses.iter().all(|u| u.user.starts_with("k8s:prod/a/")));
    let requests = api.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 7);
    assert!(requests[0].starts_with("/api/v1/namespaces/a/pods?limit=500&"));
}

#[tokio::test]
async fn refused_credentials_and_rbac_denials_are_told_apart() {
    let api = fake(many_pods(3));
    let e = images("prod", &token_target(&api.url, "wrong-token"), &[])
        .await
        .unwrap_err();
    let ReadError::Failed(text) = &e else {
        panic!("{e:?}")
    };
    assert!(
        text.starts_with("the credentials of Kubernetes cluster `prod` were refused"),
        "{text}"
    );
    assert!(!text.contains("wrong-token"), "{text}");
    // No token at all.
    let anonymous = Target {
        auth: Auth::None,
        ..token_target(&api.url, "")
    };
    assert!(images("prod", &anonymous, &[]).await.is_err());

    api.behaviour.lock().unwrap().forbidden = vec!["*".into()];
    let e = images("prod", &token_target(&api.url, TOKEN), &[])
        .await
        .unwrap_err();
    let ReadError::Denied {
        permission,
        message,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(permission, "list pods");
    assert!(
        message.contains("denied `list pods` cluster-wide: pods is forbidden"),
        "{message}"
    );

    api.behaviour.lock().unwrap().forbidden = vec!["b".into()];
    let e = images(
        "prod",
        &token_target(&api.url, TOKEN),
        &["a".into(), "b".into()],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, ReadError::Denied { permission, .. } if permission == "list pods in namespace b"),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_broken_server_is_an_error_not_a_hang_or_a_heap() {
    let api = fake(many_pods(3));
    api.behaviour.lock().unwrap().same_continue = true;
    let e = images("prod", &token_target(&api.url, TOKEN), &[])
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("the same continue token twice"),
        "{e}"
    );
    assert!(e.to_string().contains(&api.url), "{e}");

    let api = fake(Vec::new());
    api.behaviour.lock().unwrap().oversize = Some(MAX_PAGE_BYTES + 200 * 1024);
    let e = images("prod", &token_target(&api.url, TOKEN), &[])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("larger than 32 MiB"), "{e}");

    // Nothing listens: an error naming the cluster and the server.
    let closed = format!("http://127.0.0.1:{}", {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    });
    let e = images("prod", &token_target(&closed, TOKEN), &[])
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Kubernetes cluster `prod` (http://127.0.0.1:"),
        "{e}"
    );
}

/// An executable script in `dir` with this shell body.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn exec(command: PathBuf, api_version: &str) -> Exec {
    Exec {
        api_version: api_version.into(),
        command,
        args: vec!["eks".into(), "get-token".into()],
        env: vec![("CLUSTER".into(), "prod".into())],
        install_hint: Some("install the AWS CLI".into()),
        user: "arn:aws:eks:eu-west-1:111111111111:cluster/prod".into(),
    }
}

#[tokio::test]
async fn an_exec_plugin_prints_the_token_it_authenticates_with() {
    let dir = tempfile::tempdir().unwrap();
    let v1beta1 = "client.authentication.k8s.io/v1beta1";
    // It sees its arguments, its environment and the exec info, as kubectl passes them.
    let ok = script(
        dir.path(),
        "get-token",
        &format!(
            r#"[ "$1 $2 $CLUSTER" = "eks get-token prod" ] || exit 3
case "$KUBERNETES_EXEC_INFO" in *'"kind":"ExecCredential"'*) ;; *) exit 4 ;; esac
printf '{{"kind":"ExecCredential","apiVersion":"{v1beta1}","spec":{{}},"status":{{"expirationTimestamp":"2030-01-01T00:00:00Z","token":"{TOKEN}"}}}}'"#
        ),
    );
    assert_eq!(exec_token(&exec(ok.clone(), v1beta1)).await.unwrap(), TOKEN);

    // Through the reader, against the fake server.
    let api = fake(many_pods(2));
    let t = Target {
        auth: Auth::Exec(exec(ok.clone(), v1beta1)),
        ..token_target(&api.url, "")
    };
    assert_eq!(images("prod", &t, &[]).await.unwrap().len(), 2);

    let e = exec_token(&exec(ok, "client.authentication.k8s.io/v1"))
        .await
        .unwrap_err();
    assert!(e.contains("of another `apiVersion`"), "{e}");
    assert!(!e.contains(TOKEN), "{e}");
    let failing = script(
        dir.path(),
        "fails",
        "echo 'Unable to locate credentials' >&2; exit 255",
    );
    let e = exec_token(&exec(failing, v1beta1)).await.unwrap_err();
    assert!(
        e.contains("failed (exit status: 255): Unable to locate credentials"),
        "{e}"
    );
    let garbage = script(dir.path(), "garbage", "echo not json");
    let e = exec_token(&exec(garbage, v1beta1)).await.unwrap_err();
    assert!(e.contains("printed no ExecCredential JSON"), "{e}");
    let no_token = script(
        dir.path(),
        "no-token",
        &format!(r#"printf '{{"kind":"ExecCredential","apiVersion":"{v1beta1}","status":{{}}}}'"#),
    );
    let e = exec_token(&exec(no_token, v1beta1)).await.unwrap_err();
    assert!(e.contains("without `status.token`"), "{e}");
    let e = exec_token(&exec(dir.path().join("absent"), v1beta1))
        .await
        .unwrap_err();
    assert!(
        e.contains("could not start") && e.contains("(install the AWS CLI)"),
        "{e}"
    );
}
