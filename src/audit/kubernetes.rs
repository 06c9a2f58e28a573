//! The images that run in the Kubernetes clusters of `audit.kubernetes` ([`read_clusters`]):
//! every cluster read once per audit run, before the registries, at most [`CONCURRENCY`] at
//! once, each within `audit.account_timeout`. Their uses join every registry's (resolution by
//! repository URI keeps each registry's own images, so a cluster in one account pulling from
//! another's registry counts for that registry). A cluster that cannot be read is an error of
//! the report, as an unreachable registry is; one whose RBAC denies listing pods leaves
//! `ecr.lifecycle-expires-in-use` not checked, naming the permission. Reading a cluster is
//! `aws::kubernetes`'.

use std::time::Duration;

use super::ecr::in_use::IN_USE_CHECKS;
use super::model::NotChecked;
use super::run::selected;
use crate::aws::kubernetes::{cluster_images, Access, ClusterSource, ReadError};
use crate::aws::workloads::ImageUse;
use crate::parallel::{bounded, Pending};
use crate::project::audit::{KubernetesAccess, KubernetesCluster};

/// The most clusters read at once.
pub const CONCURRENCY: usize = 4;

/// What the clusters gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterReads {
    /// Every cluster's image uses (users `k8s:CLUSTER/NAMESPACE/KIND/NAME`).
    pub uses: Vec<ImageUse>,
    /// The clusters that could not be read, one sentence each.
    pub errors: Vec<String>,
    /// The in-use check, not checked for a cluster whose RBAC denied the listing.
    pub not_checked: Vec<NotChecked>,
}

/// A cluster's name and what reading it gave.
type ClusterRead = (String, Result<Vec<ImageUse>, ReadError>);

/// The reader's description of a cluster of little.yaml.
pub fn source(c: &KubernetesCluster) -> ClusterSource {
    ClusterSource {
        name: c.name.clone(),
        access: match &c.access {
            KubernetesAccess::Kubeconfig { path, context } => Access::Kubeconfig {
                paths: path.iter().cloned().collect(),
                context: context.clone(),
            },
            KubernetesAccess::InCluster => Access::InCluster,
        },
        namespaces: c.namespaces.clone(),
    }
}

/// The permission a denial names: `kubernetes:list pods (cluster prod)`.
pub fn permission(cluster: &str, denied: &str) -> String {
    format!("kubernetes:{denied} (cluster {cluster})")
}

/// Reads every cluster (at most [`CONCURRENCY`] at once, each within `timeout`); `checks` are
/// the selected checks (`--check`).
pub async fn read_clusters(
    clusters: &[KubernetesCluster],
    timeout: Duration,
    checks: &[String],
) -> ClusterReads {
    let sources: Vec<ClusterSource> = clusters.iter().map(source).collect();
    let reads: Vec<Pending<'_, ClusterRead>> = sources
        .iter()
        .map(|s| {
            Box::pin(async move {
                let result = match tokio::time::timeout(timeout, cluster_images(s)).await {
                    Ok(r) => r,
                    Err(_) => Err(ReadError::Failed(format!(
                        "Kubernetes cluster `{}`: not read within {} (`audit.account_timeout`)",
                        s.name,
                        crate::duration::human(timeout)
                    ))),
                };
                (s.name.clone(), result)
            }) as Pending<'_, _>
        })
        .collect();
    let mut out = ClusterReads::default();
    for (cluster, result) in bounded(reads, CONCURRENCY).await {
        match result {
            Ok(uses) => out.uses.extend(uses),
            Err(ReadError::Failed(e)) => out.errors.push(e),
            Err(ReadError::Denied {
                permission: denied,
                message,
            }) => {
                for check in IN_USE_CHECKS.iter().filter(|c| selected(c, checks)) {
                    out.not_checked.push(NotChecked {
                        check: (*check).to_owned(),
                        permission: permission(&cluster, &denied),
                        account: None,
                        region: None,
                        reason: format!(
                            "`{check}`: {message}, which the check needs: the images of cluster `{cluster}` are left out"
                        ),
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::ecr::in_use::CHECK_LIFECYCLE_EXPIRES_IN_USE;
    use crate::testing::kube_api::{self, pod, Behaviour};

    fn kubeconfig(dir: &std::path::Path, server: &str, token: &str) -> std::path::PathBuf {
        let path = dir.join(format!("{token}.yaml"));
        std::fs::write(
            &path,
            format!("current-context: c\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\nclusters:\n- name: c\n  cluster: {{server: '{server}'}}\nusers:\n- name: u\n  user: {{token: {token}}}\n"),
        )
        .unwrap();
        path
    }

    fn cluster(name: &str, path: std::path::PathBuf) -> KubernetesCluster {
        KubernetesCluster {
            name: name.into(),
            access: KubernetesAccess::Kubeconfig {
                path: Some(path),
                context: None,
            },
            namespaces: Vec::new(),
        }
    }

    #[tokio::test]
    async fn every_cluster_is_read_a_failure_is_an_error_and_a_denial_not_checked() {
        let api = kube_api::start(Behaviour {
            token: "good".into(),
            pods: vec![pod(
                "shop",
                "api-0",
                "Running",
                Some(("StatefulSet", "api")),
                &[],
                &[("api", "registry/api:v1", "")],
                &[],
            )],
            ..Behaviour::default()
        });
        let denied = kube_api::start(Behaviour {
            token: "good".into(),
            forbidden: vec!["*".into()],
            ..Behaviour::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let clusters = vec![
            cluster("prod", kubeconfig(dir.path(), &api.url, "good")),
            cluster("stale", {
                let p = dir.path().join("stale");
                std::fs::create_dir(&p).unwrap();
                kubeconfig(&p, &api.url, "bad")
            }),
            cluster("locked", {
                let p = dir.path().join("locked");
                std::fs::create_dir(&p).unwrap();
                kubeconfig(&p, &denied.url, "good")
            }),
        ];
        let reads = read_clusters(&clusters, Duration::from_secs(30), &[]).await;
        assert_eq!(
            reads.uses,
            vec![ImageUse {
                reference: "registry/api:v1".into(),
                digest: None,
                user: "k8s:prod/shop/statefulset/api".into(),
            }]
        );
        assert_eq!(reads.errors.len(), 1, "{reads:#?}");
        assert!(
            reads.errors[0]
                .starts_with("the credentials of Kubernetes cluster `stale` were refused"),
            "{reads:#?}"
        );
        // Each check of the images in use, once.
        assert_eq!(reads.not_checked.len(), IN_USE_CHECKS.len(), "{reads:#?}");
        let n = &reads.not_checked[0];
        assert_eq!(n.check, CHECK_LIFECYCLE_EXPIRES_IN_USE);
        assert_eq!(n.permission, "kubernetes:list pods (cluster locked)");
        assert!(
            n.reason.contains("denied `list pods` cluster-wide"),
            "{n:?}"
        );
        // Another check selected: a denial is no not-checked result of the in-use check.
        let other = read_clusters(
            &clusters[2..],
            Duration::from_secs(30),
            &["ecr.lifecycle".into()],
        )
        .await;
        assert!(other.not_checked.is_empty());
    }
}
