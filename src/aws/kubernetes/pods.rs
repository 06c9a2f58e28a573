//! One page of a Kubernetes `PodList`, read down to what the audit keeps: each container's image
//! (of `spec.containers`, `initContainers` and `ephemeralContainers`), the digest that runs
//! (the same container's `imageID` in the pod's status, when it names one), and who runs it
//! (the pod's controller). The rest of the pod is skipped while parsing. Listing the pages is
//! the parent module's job.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::aws::workloads::ImageUse;

#[derive(Debug, Deserialize)]
pub(super) struct PodList {
    #[serde(default)]
    pub metadata: Option<ListMeta>,
    #[serde(default)]
    pub items: Option<Vec<Pod>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ListMeta {
    #[serde(rename = "continue")]
    pub next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Pod {
    metadata: PodMeta,
    spec: Option<PodSpec>,
    status: Option<PodStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodMeta {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    owner_references: Option<Vec<OwnerReference>>,
}

#[derive(Debug, Deserialize)]
struct OwnerReference {
    kind: String,
    name: String,
    controller: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    containers: Option<Vec<Container>>,
    init_containers: Option<Vec<Container>>,
    ephemeral_containers: Option<Vec<Container>>,
}

#[derive(Debug, Deserialize)]
struct Container {
    name: String,
    image: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodStatus {
    container_statuses: Option<Vec<ContainerStatus>>,
    init_container_statuses: Option<Vec<ContainerStatus>>,
    ephemeral_container_statuses: Option<Vec<ContainerStatus>>,
}

#[derive(Debug, Deserialize)]
struct ContainerStatus {
    name: String,
    #[serde(rename = "imageID")]
    image_id: Option<String>,
}

/// The manifest digest of a container status's `imageID`: `docker-pullable://REPO@sha256:…`
/// or `REPO@sha256:…` give it; a bare `sha256:…` (or `docker://sha256:…`) is the runtime's
/// local image id, not a manifest digest, and gives none.
pub(super) fn digest_of_image_id(image_id: &str) -> Option<String> {
    let id = image_id
        .split_once("://")
        .map_or(image_id, |(_, rest)| rest);
    let (_, digest) = id.rsplit_once('@')?;
    let (algorithm, hex) = digest.split_once(':')?;
    (!algorithm.is_empty() && !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| digest.to_owned())
}

/// Who runs a pod: `KIND/NAME` of its controller, in lower case; a ReplicaSet named after its
/// pod template hash (`api-5d4f8b9c7`, label `pod-template-hash: 5d4f8b9c7`) is its
/// Deployment's (`deployment/api`); a pod with no controller is itself (`pod/NAME`).
fn controller(meta: &PodMeta) -> String {
    let owner = meta
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true));
    let Some(owner) = owner else {
        return format!("pod/{}", meta.name);
    };
    let kind = owner.kind.to_ascii_lowercase();
    if kind == "replicaset" {
        let hash = meta
            .labels
            .as_ref()
            .and_then(|l| l.get("pod-template-hash"))
            .filter(|h| !h.is_empty());
        if let Some(deployment) =
            hash.and_then(|h| owner.name.strip_suffix(h.as_str())?.strip_suffix('-'))
        {
            if !deployment.is_empty() {
                return format!("deployment/{deployment}");
            }
        }
    }
    format!("{kind}/{}", owner.name)
}

/// The image uses of one pod of cluster `cluster`, added to `out` (deduplicated there).
pub(super) fn pod_uses(cluster: &str, pod: &Pod, out: &mut BTreeSet<ImageUse>) {
    let Some(spec) = &pod.spec else { return };
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let user = format!("k8s:{cluster}/{namespace}/{}", controller(&pod.metadata));
    let status = pod.status.as_ref();
    let groups = [
        (
            &spec.containers,
            status.and_then(|s| s.container_statuses.as_ref()),
        ),
        (
            &spec.init_containers,
            status.and_then(|s| s.init_container_statuses.as_ref()),
        ),
        (
            &spec.ephemeral_containers,
            status.and_then(|s| s.ephemeral_container_statuses.as_ref()),
        ),
    ];
    for (containers, statuses) in groups {
        for c in containers.iter().flatten() {
            let Some(image) = c.image.as_deref().filter(|i| !i.is_empty()) else {
                continue;
            };
            let digest = statuses
                .into_iter()
                .flatten()
                .find(|s| s.name == c.name)
                .and_then(|s| s.image_id.as_deref())
                .and_then(digest_of_image_id);
            out.insert(ImageUse {
                reference: image.to_owned(),
                digest,
                user: user.clone(),
            });
        }
    }
}
