//! little.yaml's `audit:` section, resolved once when the project loads into the audit's
//! [`Reach`] (the role assumed in member accounts, the regions, how many accounts at once, the
//! time one account gets, the accounts left out), with every problem reported at its line.
//! The Kubernetes clusters whose pods' images are in use (`audit.kubernetes`) are resolved
//! here too ([`kubernetes`]). Running the audit is `crate::audit`'s job; this module only reads
//! the settings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::config::{AuditFile, KubernetesClusterFile};
use crate::aws::names::{is_account_id, is_role_name};
use crate::diag::Diagnostic;

/// How many account and region pairs are audited at once, unless little.yaml says.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The time one account gets in one region, unless little.yaml says.
pub const DEFAULT_ACCOUNT_TIMEOUT: Duration = Duration::from_secs(300);

/// The audit's reach, from little.yaml's `audit:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// The role assumed in each member account with `--org`.
    pub role_name: String,
    /// The regions audited in each account; `None`: the region of the flags, the environment
    /// or the profile.
    pub regions: Vec<Option<String>>,
    /// Account and region pairs audited at once (at least 1).
    pub concurrency: usize,
    /// The time one account gets in one region, from when its audit starts.
    pub account_timeout: Duration,
    /// Account ids never audited with `--org`.
    pub exclude_accounts: Vec<String>,
    /// The Kubernetes clusters whose pods' images are in use (`audit.kubernetes`).
    pub kubernetes: Vec<KubernetesCluster>,
}

/// A cluster of `audit.kubernetes`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubernetesCluster {
    pub name: String,
    pub access: KubernetesAccess,
    /// Empty: every namespace.
    pub namespaces: Vec<String>,
}

/// How a cluster of `audit.kubernetes` is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubernetesAccess {
    /// A kubeconfig (None: `$KUBECONFIG`, else `~/.kube/config`; absolute when given) and a
    /// context (None: the current one).
    Kubeconfig {
        path: Option<PathBuf>,
        context: Option<String>,
    },
    /// The service account of the pod `little` runs in.
    InCluster,
}

impl Default for Reach {
    fn default() -> Self {
        Reach {
            role_name: "little-audit".into(),
            regions: vec![None],
            concurrency: DEFAULT_CONCURRENCY,
            account_timeout: DEFAULT_ACCOUNT_TIMEOUT,
            exclude_accounts: Vec::new(),
            kubernetes: Vec::new(),
        }
    }
}

/// The reach little.yaml's `audit:` describes for project `project_name` (whose role is
/// `<project>-audit` unless named) with `default_region` (`defaults.region`), and the problems
/// of the section as diagnostics placed by `at` (which finds the key's line and column). Where
/// a setting is wrong its default stands in the value; the diagnostics stop the load.
pub fn resolve(
    file: &AuditFile,
    project_name: &str,
    default_region: Option<&str>,
    at: &dyn Fn(&[&str], Diagnostic) -> Diagnostic,
) -> (Reach, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    if let Some(name) = &file.role_name {
        if !is_role_name(name) {
            diags.push(at(
                &["audit", "role_name"],
                Diagnostic::error(
                    "wrong-type",
                    format!(
                        "`audit.role_name`: `{name}` is not an IAM role name (1 to 64 of letters, digits and +=,.@_-)"
                    ),
                )
                .with_note("a role name, not an ARN: `--org` builds `arn:aws:iam::<account>:role/<name>`"),
            ));
        }
    }
    for region in &file.regions {
        if let Err(why) = crate::region::check(region) {
            diags.push(at(
                &["audit", "regions"],
                Diagnostic::error("bad-region", format!("`audit.regions`: {why}")),
            ));
        }
    }
    if let Some(i) = file
        .regions
        .iter()
        .enumerate()
        .find(|(i, r)| file.regions[..*i].contains(r))
        .map(|(i, _)| i)
    {
        diags.push(at(
            &["audit", "regions"],
            Diagnostic::error(
                "duplicate",
                format!("`audit.regions` lists `{}` twice", file.regions[i]),
            ),
        ));
    }
    if file.concurrency == Some(0) {
        diags.push(at(
            &["audit", "concurrency"],
            Diagnostic::error("wrong-type", "`audit.concurrency` must be at least 1"),
        ));
    }
    let account_timeout = match &file.account_timeout {
        Some(text) => match crate::duration::parse(text) {
            Ok(d) => d,
            Err(e) => {
                diags.push(at(
                    &["audit", "account_timeout"],
                    Diagnostic::error("wrong-type", format!("`audit.account_timeout`: {e}")),
                ));
                DEFAULT_ACCOUNT_TIMEOUT
            }
        },
        None => DEFAULT_ACCOUNT_TIMEOUT,
    };
    for id in &file.exclude_accounts {
        let id = id.to_string();
        if !is_account_id(&id) {
            diags.push(at(
                &["audit", "exclude_accounts"],
                Diagnostic::error(
                    "bad-account",
                    format!("`audit.exclude_accounts`: `{id}` is not a 12-digit AWS account id"),
                )
                .with_note("quote the id (\"012345678901\") so YAML keeps leading zeros"),
            ));
        }
    }
    let regions = if file.regions.is_empty() {
        vec![default_region.map(str::to_owned)]
    } else {
        file.regions.iter().cloned().map(Some).collect()
    };
    let reach = Reach {
        role_name: file
            .role_name
            .clone()
            .unwrap_or_else(|| format!("{project_name}-audit")),
        regions,
        concurrency: file
            .concurrency
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_CONCURRENCY),
        account_timeout,
        exclude_accounts: file
            .exclude_accounts
            .iter()
            .map(|a| a.to_string())
            .collect(),
        kubernetes: Vec::new(),
    };
    (reach, diags)
}

/// Whether a name is a cluster label: 1 to 100 of letters, digits, `.`, `_`, `-`.
fn is_cluster_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Whether a name is a Kubernetes namespace (an RFC 1123 label: 1 to 63 of lower-case letters,
/// digits and `-`, starting and ending with a letter or digit).
fn is_namespace(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    name.len() <= 63
        && edge(name.chars().next())
        && edge(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The clusters of `audit.kubernetes`, a relative kubeconfig resolved against the project's
/// `root`, and the problems of the list as diagnostics placed by `at` (which finds key `key`
/// of item `index`).
pub fn kubernetes(
    clusters: &[KubernetesClusterFile],
    root: &Path,
    at: &dyn Fn(usize, &str, Diagnostic) -> Diagnostic,
) -> (Vec<KubernetesCluster>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut out = Vec::new();
    let error =
        |i: usize, key: &str, message: String| at(i, key, Diagnostic::error("wrong-type", message));
    for (i, c) in clusters.iter().enumerate() {
        let item = format!("`audit.kubernetes[{i}]`");
        if !is_cluster_label(&c.name) {
            diags.push(error(i, "name", format!("{item}: `name` `{}` must be 1 to 100 of letters, digits, `.`, `_` and `-` (it labels the images' users: `k8s:NAME/...`)", c.name)));
        } else if clusters[..i].iter().any(|o| o.name == c.name) {
            diags.push(at(
                i,
                "name",
                Diagnostic::error(
                    "duplicate",
                    format!("`audit.kubernetes` names cluster `{}` twice", c.name),
                ),
            ));
        }
        let in_cluster = c.in_cluster == Some(true);
        if in_cluster && (c.kubeconfig.is_some() || c.context.is_some()) {
            let key = if c.kubeconfig.is_some() {
                "kubeconfig"
            } else {
                "context"
            };
            diags.push(at(
                i,
                key,
                Diagnostic::error(
                    "wrong-type",
                    format!("{item} (`{}`): `in_cluster: true` uses the pod's service account; `kubeconfig` and `context` cannot go with it", c.name),
                )
                .with_note("keep `in_cluster: true` for `little serve` in the cluster, or a kubeconfig's context elsewhere"),
            ));
        }
        if c.kubeconfig.as_deref() == Some("") {
            diags.push(error(
                i,
                "kubeconfig",
                format!("{item}: `kubeconfig` is empty"),
            ));
        }
        if c.context.as_deref() == Some("") {
            diags.push(error(i, "context", format!("{item}: `context` is empty")));
        }
        for (n, ns) in c.namespaces.iter().enumerate() {
            if !is_namespace(ns) {
                diags.push(error(i, "namespaces", format!("{item}: `{ns}` is not a Kubernetes namespace name (lower-case letters, digits and `-`, at most 63)")));
            } else if c.namespaces[..n].contains(ns) {
                diags.push(error(
                    i,
                    "namespaces",
                    format!("{item}: `namespaces` lists `{ns}` twice"),
                ));
            }
        }
        let access = if in_cluster {
            KubernetesAccess::InCluster
        } else {
            KubernetesAccess::Kubeconfig {
                path: c
                    .kubeconfig
                    .as_deref()
                    .filter(|p| !p.is_empty())
                    .map(|p| root.join(p)),
                context: c.context.clone().filter(|c| !c.is_empty()),
            }
        };
        out.push(KubernetesCluster {
            name: c.name.clone(),
            access,
            namespaces: c.namespaces.clone(),
        });
    }
    (out, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(yaml: &str) -> (Reach, Vec<String>) {
        let file: AuditFile = serde_norway::from_str(yaml).unwrap();
        let (reach, diags) = resolve(&file, "shop", Some("eu-west-1"), &|path, d| {
            d.with_note(path.join("."))
        });
        (reach, diags.into_iter().map(|d| d.message).collect())
    }

    #[test]
    fn reach_settings_are_validated() {
        let (reach, d) = resolved("role_name: little-audit\nregions: [us-east-1, eu-west-1]\nconcurrency: 4\naccount_timeout: 90s\nexclude_accounts: [\"012345678901\"]\n");
        assert!(d.is_empty(), "{d:#?}");
        assert_eq!(
            reach,
            Reach {
                role_name: "little-audit".into(),
                regions: vec![Some("us-east-1".into()), Some("eu-west-1".into())],
                concurrency: 4,
                account_timeout: Duration::from_secs(90),
                exclude_accounts: vec!["012345678901".into()],
                kubernetes: Vec::new(),
            }
        );
        let (_, d) = resolved("role_name: arn:aws:iam::1:role/x\nregions: [us-east-1, mars-1, us-east-1]\nconcurrency: 0\naccount_timeout: soon\nexclude_accounts: [1234]\n");
        assert_eq!(d.len(), 6, "{d:#?}");
        assert!(d[0].contains("is not an IAM role name"));
        assert!(d[1].contains("`mars-1` is not an AWS region"));
        assert!(d[2].contains("lists `us-east-1` twice"));
        assert!(d[3].contains("at least 1"));
        assert!(d[4].contains("`soon` is not a duration"));
        assert!(d[5].contains("`1234` is not a 12-digit"));
    }

    fn clusters(yaml: &str) -> (Vec<KubernetesCluster>, Vec<String>) {
        let file: AuditFile = serde_norway::from_str(yaml).unwrap();
        let (out, diags) = kubernetes(&file.kubernetes, Path::new("/p"), &|i, key, d| {
            d.with_note(format!("{i}.{key}"))
        });
        (
            out,
            diags
                .into_iter()
                .map(|d| format!("{} [{}]", d.message, d.notes.join("; ")))
                .collect(),
        )
    }

    #[test]
    fn kubernetes_clusters_are_validated_and_resolved() {
        let (out, d) = clusters("kubernetes:\n- {name: prod, kubeconfig: kube/prod.yaml, context: eks-prod, namespaces: [shop, team-a]}\n- {name: here, in_cluster: true}\n- {name: dev}\n");
        assert!(d.is_empty(), "{d:#?}");
        assert_eq!(
            out,
            vec![
                KubernetesCluster {
                    name: "prod".into(),
                    access: KubernetesAccess::Kubeconfig {
                        path: Some(PathBuf::from("/p/kube/prod.yaml")),
                        context: Some("eks-prod".into()),
                    },
                    namespaces: vec!["shop".into(), "team-a".into()],
                },
                KubernetesCluster {
                    name: "here".into(),
                    access: KubernetesAccess::InCluster,
                    namespaces: vec![],
                },
                KubernetesCluster {
                    name: "dev".into(),
                    access: KubernetesAccess::Kubeconfig {
                        path: None,
                        context: None,
                    },
                    namespaces: vec![],
                },
            ]
        );
        let (_, d) = clusters("kubernetes:\n- {name: prod, in_cluster: true, context: x}\n- {name: prod, namespaces: [Shop, a, a]}\n- {name: 'a/b', kubeconfig: ''}\n");
        assert_eq!(d.len(), 6, "{d:#?}");
        assert!(
            d[0].contains("`kubeconfig` and `context` cannot go with it [")
                && d[0].ends_with("0.context]"),
            "{d:#?}"
        );
        assert!(
            d[1].contains("names cluster `prod` twice") && d[1].ends_with("1.name]"),
            "{d:#?}"
        );
        assert!(
            d[2].contains("`Shop` is not a Kubernetes namespace"),
            "{d:#?}"
        );
        assert!(d[3].contains("lists `a` twice"), "{d:#?}");
        assert!(d[4].contains("`name` `a/b` must be"), "{d:#?}");
        assert!(d[5].contains("`kubeconfig` is empty"), "{d:#?}");
    }

    #[test]
    fn an_empty_section_takes_the_defaults() {
        let (reach, d) = resolved("{}");
        assert!(d.is_empty());
        assert_eq!(reach.role_name, "shop-audit");
        assert_eq!(reach.regions, vec![Some("eu-west-1".to_owned())]);
        assert_eq!(reach.concurrency, DEFAULT_CONCURRENCY);
        assert_eq!(reach.account_timeout, DEFAULT_ACCOUNT_TIMEOUT);
    }
}
