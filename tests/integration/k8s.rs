//! The Kubernetes example in deploy/kubernetes/: every document parses and the kustomization
//! lists every manifest; the container runs `little serve` with flags its help lists, as the
//! image's non-root user with a read-only root filesystem; the probes, the Service and the
//! ServiceMonitor meet on the port `--listen` opens; and, end to end, the init container's
//! command unpacks the project and `little serve` started with the container's arguments
//! (paths mapped to a temporary directory, the emulator for AWS) answers the liveness,
//! readiness and metrics paths.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_norway::Value;

use crate::harness::{free_port, repo, Emulator, TestProject};
use crate::workflows::{check_invocation, help};

fn dir() -> PathBuf {
    repo().join("deploy/kubernetes")
}

/// Every document of every manifest (not the kustomization), with its file name.
fn documents() -> Vec<(String, Value)> {
    let mut docs = Vec::new();
    for file in manifests() {
        let text = std::fs::read_to_string(dir().join(&file)).unwrap();
        for doc in serde_norway::Deserializer::from_str(&text) {
            let value = Value::deserialize(doc).unwrap_or_else(|e| panic!("{file}: {e}"));
            if !value.is_null() {
                docs.push((file.clone(), value));
            }
        }
    }
    docs
}

/// The YAML files of deploy/kubernetes/ but kustomization.yaml.
fn manifests() -> BTreeSet<String> {
    std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect()
}

fn kustomization() -> Value {
    let text = std::fs::read_to_string(dir().join("kustomization.yaml")).unwrap();
    serde_norway::from_str(&text).unwrap()
}

/// The one document of this kind.
fn one(kind: &str) -> Value {
    let found: Vec<Value> = documents()
        .into_iter()
        .filter(|(_, d)| d["kind"].as_str() == Some(kind))
        .map(|(_, d)| d)
        .collect();
    assert_eq!(found.len(), 1, "expected one {kind}");
    found.into_iter().next().unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|s| {
            s.iter()
                .map(|v| v.as_str().expect("a string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The container named `name` of a pod spec's `containers` or `initContainers`.
fn container<'a>(pod: &'a Value, list: &str, name: &str) -> &'a Value {
    pod[list]
        .as_sequence()
        .and_then(|s| s.iter().find(|c| c["name"].as_str() == Some(name)))
        .unwrap_or_else(|| panic!("no {list} entry named {name}"))
}

/// The value after `flag` in an argument list.
fn arg_value<'a>(args: &'a [String], flag: &str) -> &'a str {
    let i = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("{flag} missing from {args:?}"));
    &args[i + 1]
}

/// (volume name, mount path) of a container.
fn mounts(container: &Value) -> Vec<(String, String)> {
    container["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["mountPath"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Whether every label of `selector` is on `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let selector = selector.as_mapping().expect("a selector");
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[test]
fn every_manifest_parses_and_the_kustomization_lists_them() {
    for (file, doc) in documents() {
        for key in ["apiVersion", "kind"] {
            assert!(
                doc[key].as_str().is_some(),
                "{file}: a document without {key}"
            );
        }
        assert!(
            doc["metadata"]["name"].as_str().is_some(),
            "{file}: a document without a name"
        );
    }
    let k = kustomization();
    let listed: BTreeSet<String> = strings(&k["resources"]).into_iter().collect();
    assert_eq!(listed, manifests(), "kustomization.yaml's resources");
    let generated = k["configMapGenerator"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|g| g["name"].as_str() == Some("little-project"))
        .expect("a little-project ConfigMap generator");
    assert_eq!(strings(&generated["files"]), ["project.tar.gz"]);
}

#[test]
fn the_container_runs_little_serve_as_documented() {
    let deployment = one("Deployment");
    assert_eq!(deployment["spec"]["replicas"].as_u64(), Some(1));
    let pod = &deployment["spec"]["template"]["spec"];
    let little = container(pod, "containers", "little");
    assert_eq!(strings(&little["command"]), ["little"]);
    let args = strings(&little["args"]);
    assert_eq!(args[0], "serve");
    check_invocation(&args).unwrap_or_else(|e| panic!("deployment.yaml: {e}"));

    // --listen opens the port the probes use.
    let listen = arg_value(&args, "--listen");
    let port: u64 = listen.rsplit(':').next().unwrap().parse().unwrap();
    let ports = little["ports"].as_sequence().unwrap();
    let named = |name: &str| {
        ports
            .iter()
            .find(|p| p["name"].as_str() == Some(name))
            .and_then(|p| p["containerPort"].as_u64())
    };
    let serve_help = help(&["serve"]);
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &little[probe]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe}");
        assert!(
            serve_help.contains(path),
            "`little serve --help` does not name {path}"
        );
        let port_name = get["port"].as_str().expect("a named port");
        assert_eq!(named(port_name), Some(port), "{probe} port {port_name}");
    }

    // The token comes from a Secret, in the variable `little serve` reads.
    let env = little["env"].as_sequence().unwrap();
    let token = env
        .iter()
        .find(|e| e["name"].as_str() == Some("LITTLE_SERVE_TOKEN"))
        .expect("LITTLE_SERVE_TOKEN");
    assert!(token["valueFrom"]["secretKeyRef"]["name"]
        .as_str()
        .is_some());
    assert!(serve_help.contains("LITTLE_SERVE_TOKEN"));

    // The project is what the init container unpacks; the state is on the claim.
    let volumes = pod["volumes"].as_sequence().unwrap();
    let volume = |name: &str| {
        volumes
            .iter()
            .find(|v| v["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("no volume {name}"))
    };
    let mount_of = |c: &Value, path: &str| {
        mounts(c)
            .into_iter()
            .find(|(_, p)| p == path)
            .map(|(n, _)| n)
            .unwrap_or_else(|| panic!("nothing mounted at {path}"))
    };
    let project = arg_value(&args, "--project");
    let init = container(pod, "initContainers", "project");
    assert_eq!(mount_of(init, project), mount_of(little, project));
    assert!(strings(&init["command"]).iter().any(|a| a == project));
    assert!(volume(&mount_of(little, project))["emptyDir"].is_mapping());
    let state = Path::new(arg_value(&args, "--state"));
    let state_volume = volume(&mount_of(little, state.parent().unwrap().to_str().unwrap()));
    let claim = state_volume["persistentVolumeClaim"]["claimName"]
        .as_str()
        .unwrap();
    assert_eq!(
        one("PersistentVolumeClaim")["metadata"]["name"].as_str(),
        Some(claim)
    );
    // The read token is a file of a Secret volume: the Secret the ServiceMonitor sends.
    let read_token = Path::new(arg_value(&args, "--read-token-file"));
    let token_volume = volume(&mount_of(
        little,
        read_token.parent().unwrap().to_str().unwrap(),
    ));
    let secret = token_volume["secret"]["secretName"]
        .as_str()
        .expect("the read token's volume is a Secret");
    let monitor = one("ServiceMonitor");
    let credentials = &monitor["spec"]["endpoints"][0]["authorization"]["credentials"];
    assert_eq!(credentials["name"].as_str(), Some(secret));
    assert_eq!(
        credentials["key"].as_str(),
        read_token.file_name().unwrap().to_str()
    );
    let bundle = init["command"][2].as_str().unwrap();
    let bundle_dir = Path::new(bundle).parent().unwrap().to_str().unwrap();
    assert_eq!(
        volume(&mount_of(init, bundle_dir))["configMap"]["name"].as_str(),
        Some("little-project")
    );

    // Non-root, read-only, no privilege escalation, IRSA.
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    for c in [little, init] {
        let sc = &c["securityContext"];
        assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true));
        assert_eq!(sc["allowPrivilegeEscalation"].as_bool(), Some(false));
        assert_eq!(strings(&sc["capabilities"]["drop"]), ["ALL"]);
    }
    let account = one("ServiceAccount");
    assert_eq!(pod["serviceAccountName"], account["metadata"]["name"]);
    let role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].as_str();
    assert!(
        role.is_some_and(|r| r.starts_with("arn:aws:iam::")),
        "{role:?}"
    );
}

#[test]
fn the_service_account_may_list_pods_for_audit_kubernetes_in_cluster() {
    let role = one("ClusterRole");
    let rules = role["rules"].as_sequence().unwrap();
    assert_eq!(rules.len(), 1, "only pods are read");
    assert_eq!(strings(&rules[0]["apiGroups"]), [""]);
    assert_eq!(strings(&rules[0]["resources"]), ["pods"]);
    assert_eq!(strings(&rules[0]["verbs"]), ["get", "list"]);
    let binding = one("ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["kind"], "ClusterRole");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    let account = one("ServiceAccount");
    let subjects = binding["subjects"].as_sequence().unwrap();
    assert_eq!(subjects.len(), 1);
    assert_eq!(subjects[0]["kind"], "ServiceAccount");
    assert_eq!(subjects[0]["name"], account["metadata"]["name"]);
    assert_eq!(subjects[0]["namespace"], kustomization()["namespace"]);
}

#[test]
fn the_service_and_the_servicemonitor_reach_the_metrics_port() {
    let deployment = one("Deployment");
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert!(selects(
        &deployment["spec"]["selector"]["matchLabels"],
        pod_labels
    ));
    let little = container(
        &deployment["spec"]["template"]["spec"],
        "containers",
        "little",
    );
    let container_ports: Vec<&str> = little["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();

    let service = one("Service");
    assert!(selects(&service["spec"]["selector"], pod_labels));
    let port = &service["spec"]["ports"][0];
    assert!(container_ports.contains(&port["targetPort"].as_str().unwrap()));
    let monitor = one("ServiceMonitor");
    assert!(selects(
        &monitor["spec"]["selector"]["matchLabels"],
        &service["metadata"]["labels"]
    ));
    let endpoint = &monitor["spec"]["endpoints"][0];
    assert_eq!(endpoint["port"], port["name"]);
    assert_eq!(endpoint["path"].as_str(), Some("/metrics"));
    assert!(help(&["serve"]).contains("/metrics"));
}

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GET `path` on loopback `port`, with a bearer token if given: the status and body, or None
/// if nothing answers.
fn get(port: u16, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{auth}\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

/// Polls until `path` answers 200; its body.
fn wait_for_200(
    port: u16,
    path: &str,
    token: Option<&str>,
    within: Duration,
    child: &mut Child,
) -> String {
    let deadline = Instant::now() + within;
    let mut last = None;
    loop {
        if let Some((status, body)) = get(port, path, token) {
            if status == 200 {
                return body;
            }
            last = Some(status);
        }
        if let Ok(Some(exit)) = child.try_wait() {
            panic!("little serve exited ({exit}) before {path} answered 200");
        }
        assert!(
            Instant::now() < deadline,
            "{path} did not answer 200 within {within:?} (last status: {last:?})"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn serve_answers_the_probes_with_the_containers_arguments() {
    let deployment = one("Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let init = container(pod, "initContainers", "project");
    let little = container(pod, "containers", "little");

    // Each volume is a directory here; a container path under a mount maps into it.
    let tmp = tempfile::tempdir().unwrap();
    let map = |c: &Value, arg: &str| -> String {
        for (name, path) in mounts(c) {
            if let Some(rest) = arg.strip_prefix(&path) {
                if rest.is_empty() || rest.starts_with('/') {
                    let host = tmp.path().join(&name);
                    std::fs::create_dir_all(&host).unwrap();
                    return format!("{}{rest}", host.display());
                }
            }
        }
        arg.to_owned()
    };

    // The ConfigMap's file, made as kustomization.yaml says.
    let bundle = strings(&init["command"])[2].clone();
    let status = Command::new("tar")
        .arg("-czf")
        .arg(map(init, &bundle))
        .args(["little.yaml", "stacks", "templates", "policies"])
        .current_dir(repo())
        .status()
        .unwrap();
    assert!(status.success(), "tar -czf");
    let command: Vec<String> = strings(&init["command"])
        .iter()
        .map(|a| map(init, a))
        .collect();
    let status = Command::new(&command[0])
        .args(&command[1..])
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the init container's command: {command:?}"
    );

    let port = free_port();
    let args: Vec<String> = strings(&little["args"])
        .iter()
        .map(|a| {
            if a.contains("0.0.0.0:") {
                format!("127.0.0.1:{port}")
            } else {
                map(little, a)
            }
        })
        .collect();
    // The Secret's file, as Kubernetes mounts it (`--from-literal`: no newline; a file
    // made with an editor would end in one, which little ignores).
    let token = "k8s-read-token";
    let token_file = &args[args.iter().position(|a| a == "--read-token-file").unwrap() + 1];
    std::fs::write(token_file, format!("{token}\n")).unwrap();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    let mut running = Running(
        p.command(tmp.path(), &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start little serve"),
    );
    let child = &mut running.0;
    let liveness = little["livenessProbe"]["httpGet"]["path"].as_str().unwrap();
    let readiness = little["readinessProbe"]["httpGet"]["path"]
        .as_str()
        .unwrap();
    let metrics = one("ServiceMonitor")["spec"]["endpoints"][0]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for_200(port, liveness, None, Duration::from_secs(30), child);
    wait_for_200(port, readiness, None, Duration::from_secs(120), child);
    assert_eq!(get(port, &metrics, None).map(|a| a.0), Some(401));
    let body = wait_for_200(port, &metrics, Some(token), Duration::from_secs(10), child);
    assert!(
        body.contains("little_audit_last_success_timestamp_seconds"),
        "{metrics}:\n{body}"
    );
    // The project's stacks were found in the unpacked project.
    assert!(body.contains("stack=\"iam-ci\""), "{metrics}:\n{body}");
}
