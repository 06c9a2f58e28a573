//! `little discover`: the ECR repositories (with their lifecycle and repository policies) and
//! IAM roles of an account and region that no CloudFormation stack manages, read in full so
//! that a stack config can reproduce them (`report::discover` writes it) and `little adopt`
//! take them over. A resource is managed when some stack lists it among its resources
//! (ListStacks, then ListStackResources of each). Roles that AWS owns (service-linked, SSO)
//! are left out. Not here: importing them (`deploy::adopt`).

use std::collections::BTreeSet;

use crate::aws::connect::Connect;
use crate::aws::drift::RepositoryFacts;
use crate::aws::iam::RoleFacts;
use crate::error::Result;

/// What `discover` found outside every stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovered {
    pub region: String,
    /// The account the clients act in, when STS said.
    pub account: Option<String>,
    pub repositories: Vec<RepositoryFacts>,
    /// Role name and what IAM says of it.
    pub roles: Vec<(String, RoleFacts)>,
    /// How many repositories and roles stacks manage (left out).
    pub managed: usize,
}

/// Lists the unmanaged repositories and roles of `region` (the default one when `None`).
pub async fn discover(connect: &dyn Connect, region: Option<&str>) -> Result<Discovered> {
    let clients = connect.clients(region, None).await?;
    let account = connect
        .caller(region, None)
        .await
        .ok()
        .map(|c| c.identity.account);
    // Physical ids of the repositories and roles that stacks hold.
    let mut managed_ids: BTreeSet<(String, String)> = BTreeSet::new();
    for stack in clients.ops.stack_names().await? {
        for r in clients.ops.resources(&stack).await? {
            if let Some(id) = r.physical_id {
                managed_ids.insert((r.resource_type, id));
            }
        }
    }
    let held = |kind: &str, name: &str| {
        managed_ids
            .iter()
            .any(|(k, id)| k == kind && (id == name || id.ends_with(&format!("/{name}"))))
    };
    let mut managed = 0;
    let mut repositories = Vec::new();
    for repo in clients.ecr.repositories().await? {
        if held("AWS::ECR::Repository", &repo.name) {
            managed += 1;
            continue;
        }
        if let Some(facts) = clients.drift.repository(&repo.name).await? {
            repositories.push(facts);
        }
    }
    repositories.sort_by(|a, b| a.name.cmp(&b.name));
    let mut roles = Vec::new();
    for listing in clients.iam.roles().await? {
        if listing.is_aws_owned() {
            continue;
        }
        if held("AWS::IAM::Role", &listing.name) {
            managed += 1;
            continue;
        }
        if let Some(facts) = clients.iam.role(&listing.name).await? {
            roles.push((listing.name, facts));
        }
    }
    roles.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Discovered {
        region: clients.region.clone(),
        account,
        repositories,
        roles,
        managed,
    })
}
