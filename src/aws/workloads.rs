//! What runs in an account and region, as image references, behind the [`Workloads`] trait:
//! the containers of ECS services and running tasks, and Lambda functions packaged as images
//! (`$LATEST` and the versions their aliases route to). The audit resolves the references into
//! its registry's images (`audit::ecr::in_use`); this file only reads them. Kubernetes pods
//! are read by [`super::kubernetes`], as the same [`ImageUse`]s.
//!
//! A service's task definitions are those of its deployments (the primary one and, during a
//! rollout, the ones it replaces: a rollback goes back to them), or its own when AWS lists no
//! deployment.
//!
//! The calls, for C clusters with S services and T running tasks, D distinct task definitions
//! among the services' deployments, and F functions of which I are images, with A aliases
//! naming V distinct published versions:
//! ECS: ⌈C/100⌉ ListClusters, per cluster ⌈S/100⌉ ListServices, ⌈S/10⌉ DescribeServices,
//! ⌈T/100⌉ ListTasks and ⌈T/100⌉ DescribeTasks, then D DescribeTaskDefinition in all;
//! Lambda: ⌈F/50⌉ ListFunctions, then per image function ⌈A/50⌉ ListAliases, and I + V
//! GetFunction. At most [`CONCURRENCY`] at once.
//!
//! The SDK adapter [`WorkloadsClient`] maps the SDK's types to this file's own; nothing of the
//! SDK leaves this file.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_ecs::types::DesiredStatus;
use aws_sdk_lambda::types::PackageType;

use super::sdk_error;
use crate::error::Result;
use crate::parallel::{bounded, Pending};

/// One image reference that a workload uses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageUse {
    /// The reference as the workload names it: `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG`,
    /// `…/REPO@sha256:…`, or any other registry's.
    pub reference: String,
    /// The digest that runs, when the runtime says (an ECS task's container, a Lambda
    /// function's resolved image).
    pub digest: Option<String>,
    /// Who uses it: `ecs:CLUSTER/SERVICE`, `ecs:CLUSTER/task/FAMILY` (a task no service
    /// started), `lambda:FUNCTION` (its `$LATEST`), `lambda:FUNCTION:ALIAS`,
    /// `k8s:CLUSTER/NAMESPACE/KIND/NAME` (a pod's controller).
    pub user: String,
}

/// The reads of what runs.
#[async_trait]
pub trait Workloads: Send + Sync {
    /// The images of every ECS service's task definition and of every running task's
    /// containers, in every cluster.
    async fn ecs_images(&self) -> Result<Vec<ImageUse>>;
    /// The images of every Lambda function packaged as an image: its `$LATEST`, and the
    /// versions its aliases route to.
    async fn lambda_images(&self) -> Result<Vec<ImageUse>>;
}

/// The most calls of one kind in flight at once.
pub const CONCURRENCY: usize = 8;
/// How many pages a listing reads at most: a guard against a token that never ends.
const MAX_PAGES: usize = 10_000;
/// DescribeServices takes at most 10 services a call.
const SERVICES_PER_CALL: usize = 10;
/// ListClusters, ListServices and ListTasks return at most 100 a page, and DescribeTasks
/// takes at most 100 tasks a call.
const ECS_PAGE: usize = 100;
/// ListFunctions and ListAliases return at most 50 a page.
const LAMBDA_PAGE: i32 = 50;
/// Lambda's name of a function's unpublished version.
const LATEST: &str = "$LATEST";

/// [`Workloads`] through the SDK's ECS and Lambda clients.
pub struct WorkloadsClient {
    ecs: aws_sdk_ecs::Client,
    lambda: aws_sdk_lambda::Client,
}

impl WorkloadsClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        WorkloadsClient {
            ecs: super::sdk_client!(aws_sdk_ecs, config),
            lambda: super::sdk_client!(aws_sdk_lambda, config),
        }
    }

    /// Wraps clients built elsewhere (tests: mock clients).
    pub fn from_clients(ecs: aws_sdk_ecs::Client, lambda: aws_sdk_lambda::Client) -> Self {
        WorkloadsClient { ecs, lambda }
    }
}

/// The next token, or `None` at the end (or if AWS sends the same token again).
fn next(current: &Option<String>, token: Option<&str>) -> Option<String> {
    token
        .filter(|t| !t.is_empty() && current.as_deref() != Some(*t))
        .map(str::to_owned)
}

/// The last part of an ARN's resource (`…:cluster/prod` → `prod`); the text itself if it
/// has no `/`.
fn arn_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// A task definition's family from its ARN (`…:task-definition/api:7` → `api`).
fn family(arn: &str) -> &str {
    let name = arn_name(arn);
    name.rsplit_once(':').map_or(name, |(f, _)| f)
}

/// The digest of a resolved image URI (`…/REPO@sha256:…`).
fn digest_of(uri: &str) -> Option<String> {
    uri.rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| d.contains(':'))
        .map(str::to_owned)
}

/// What one cluster runs: its services (name, task definition) and its running tasks' images.
type ClusterRead = (String, Vec<(String, String)>, Vec<ImageUse>);

impl WorkloadsClient {
    async fn clusters(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .ecs
                .list_clusters()
                .max_results(ECS_PAGE as i32)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("ecs:ListClusters", e))?;
            out.extend(page.cluster_arns().iter().cloned());
            token = next(&token, page.next_token());
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn services(&self, cluster: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .ecs
                .list_services()
                .cluster(cluster)
                .max_results(ECS_PAGE as i32)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("ecs:ListServices", e))?;
            out.extend(page.service_arns().iter().cloned());
            token = next(&token, page.next_token());
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn running_tasks(&self, cluster: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .ecs
                .list_tasks()
                .cluster(cluster)
                .desired_status(DesiredStatus::Running)
                .max_results(ECS_PAGE as i32)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("ecs:ListTasks", e))?;
            out.extend(page.task_arns().iter().cloned());
            token = next(&token, page.next_token());
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// The services of a cluster with their task definitions, and its running tasks' images.
    async fn cluster(&self, arn: String) -> Result<ClusterRead> {
        let name = arn_name(&arn).to_owned();
        let (service_arns, task_arns) =
            tokio::try_join!(self.services(&arn), self.running_tasks(&arn))?;
        let mut services = Vec::new();
        for chunk in service_arns.chunks(SERVICES_PER_CALL) {
            let out = self
                .ecs
                .describe_services()
                .cluster(&arn)
                .set_services(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| sdk_error("ecs:DescribeServices", e))?;
            for s in out.services() {
                let Some(service) = s.service_name() else {
                    continue;
                };
                let mut definitions: BTreeSet<&str> = s
                    .deployments()
                    .iter()
                    .filter_map(|d| d.task_definition())
                    .collect();
                if definitions.is_empty() {
                    definitions.extend(s.task_definition());
                }
                for definition in definitions {
                    services.push((service.to_owned(), definition.to_owned()));
                }
            }
        }
        let mut uses = Vec::new();
        for chunk in task_arns.chunks(ECS_PAGE) {
            let out = self
                .ecs
                .describe_tasks()
                .cluster(&arn)
                .set_tasks(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| sdk_error("ecs:DescribeTasks", e))?;
            for task in out.tasks() {
                let user = match task.group().and_then(|g| g.strip_prefix("service:")) {
                    Some(service) => format!("ecs:{name}/{service}"),
                    None => format!(
                        "ecs:{name}/task/{}",
                        family(task.task_definition_arn().unwrap_or_default())
                    ),
                };
                for c in task.containers() {
                    if let Some(image) = c.image() {
                        uses.push(ImageUse {
                            reference: image.to_owned(),
                            digest: c.image_digest().map(str::to_owned),
                            user: user.clone(),
                        });
                    }
                }
            }
        }
        Ok((name, services, uses))
    }

    /// The container images of a task definition.
    async fn definition_images(&self, definition: String) -> Result<(String, Vec<String>)> {
        let out = self
            .ecs
            .describe_task_definition()
            .task_definition(&definition)
            .send()
            .await
            .map_err(|e| sdk_error("ecs:DescribeTaskDefinition", e))?;
        let images = out
            .task_definition()
            .map(|t| {
                t.container_definitions()
                    .iter()
                    .filter_map(|c| c.image().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok((definition, images))
    }

    async fn image_functions(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .lambda
                .list_functions()
                .max_items(LAMBDA_PAGE)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| sdk_error("lambda:ListFunctions", e))?;
            out.extend(
                page.functions()
                    .iter()
                    .filter(|f| f.package_type() == Some(&PackageType::Image))
                    .filter_map(|f| f.function_name().map(str::to_owned)),
            );
            marker = next(&marker, page.next_marker());
            if marker.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// The image of one version of a function (`None`: its `$LATEST`), as `user` uses it.
    async fn function_image(
        &self,
        function: &str,
        version: Option<&str>,
    ) -> Result<Option<ImageUse>> {
        let out = self
            .lambda
            .get_function()
            .function_name(function)
            .set_qualifier(version.map(str::to_owned))
            .send()
            .await
            .map_err(|e| sdk_error("lambda:GetFunction", e))?;
        let Some(code) = out.code() else {
            return Ok(None);
        };
        let Some(reference) = code.image_uri().or(code.resolved_image_uri()) else {
            return Ok(None);
        };
        Ok(Some(ImageUse {
            reference: reference.to_owned(),
            digest: code.resolved_image_uri().and_then(digest_of),
            user: format!("lambda:{function}"),
        }))
    }

    /// A function's aliases, each with the versions it routes to (its own and, with weighted
    /// routing, the additional one).
    async fn aliases(&self, function: &str) -> Result<Vec<(String, Vec<String>)>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .lambda
                .list_aliases()
                .function_name(function)
                .max_items(LAMBDA_PAGE)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| sdk_error("lambda:ListAliases", e))?;
            for alias in page.aliases() {
                let Some(name) = alias.name() else { continue };
                let mut versions: Vec<String> = alias
                    .function_version()
                    .map(str::to_owned)
                    .into_iter()
                    .collect();
                if let Some(weights) = alias
                    .routing_config()
                    .and_then(|r| r.additional_version_weights())
                {
                    versions.extend(weights.keys().cloned());
                }
                out.push((name.to_owned(), versions));
            }
            marker = next(&marker, page.next_marker());
            if marker.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// What one image function runs: its `$LATEST` (user `lambda:FUNCTION`) and the version
    /// behind each alias (user `lambda:FUNCTION:ALIAS`), each version read once.
    async fn function_images(&self, function: String) -> Result<Vec<ImageUse>> {
        let (latest, aliases) = tokio::try_join!(
            self.function_image(&function, None),
            self.aliases(&function)
        )?;
        let mut versions: BTreeMap<&str, Option<ImageUse>> = BTreeMap::new();
        for version in aliases.iter().flat_map(|(_, v)| v) {
            if version != LATEST && !versions.contains_key(version.as_str()) {
                let image = self.function_image(&function, Some(version)).await?;
                versions.insert(version, image);
            }
        }
        let mut uses: Vec<ImageUse> = latest.iter().cloned().collect();
        for (alias, routed) in &aliases {
            for version in routed {
                let image = if version == LATEST {
                    latest.as_ref()
                } else {
                    versions.get(version.as_str()).and_then(Option::as_ref)
                };
                if let Some(image) = image {
                    uses.push(ImageUse {
                        user: format!("lambda:{function}:{alias}"),
                        ..image.clone()
                    });
                }
            }
        }
        Ok(uses)
    }
}

#[async_trait]
impl Workloads for WorkloadsClient {
    async fn ecs_images(&self) -> Result<Vec<ImageUse>> {
        let clusters = self.clusters().await?;
        let reads: Vec<Pending<'_, Result<ClusterRead>>> = clusters
            .into_iter()
            .map(|c| Box::pin(self.cluster(c)) as Pending<'_, _>)
            .collect();
        let mut uses = Vec::new();
        let mut services = Vec::new();
        for read in bounded(reads, CONCURRENCY).await {
            let (cluster, s, u) = read?;
            uses.extend(u);
            services.extend(
                s.into_iter()
                    .map(|(s, d)| (format!("ecs:{cluster}/{s}"), d)),
            );
        }
        let definitions: BTreeSet<String> = services.iter().map(|(_, d)| d.clone()).collect();
        let reads: Vec<Pending<'_, Result<(String, Vec<String>)>>> = definitions
            .into_iter()
            .map(|d| Box::pin(self.definition_images(d)) as Pending<'_, _>)
            .collect();
        let mut images: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for read in bounded(reads, CONCURRENCY).await {
            let (definition, refs) = read?;
            images.insert(definition, refs);
        }
        for (user, definition) in services {
            for reference in images.get(&definition).into_iter().flatten() {
                uses.push(ImageUse {
                    reference: reference.clone(),
                    digest: None,
                    user: user.clone(),
                });
            }
        }
        uses.sort();
        uses.dedup();
        Ok(uses)
    }

    async fn lambda_images(&self) -> Result<Vec<ImageUse>> {
        let functions = self.image_functions().await?;
        let reads: Vec<Pending<'_, Result<Vec<ImageUse>>>> = functions
            .into_iter()
            .map(|f| Box::pin(self.function_images(f)) as Pending<'_, _>)
            .collect();
        let mut uses = Vec::new();
        for read in bounded(reads, CONCURRENCY).await {
            uses.extend(read?);
        }
        uses.sort();
        uses.dedup();
        Ok(uses)
    }
}

#[cfg(test)]
mod tests;
