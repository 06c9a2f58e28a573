//! Audits: CloudFormation drift, ECR hygiene (tag immutability with remediation, scanning,
//! lifecycle, encryption, repository policies, images in use by ECS, Lambda and Kubernetes),
//! image scan findings, and the project's stacks; one [`model::Finding`] for all of them.

pub mod discover;
pub mod drift;
pub mod ecr;
pub mod ecr_verbs;
pub mod gate;
pub mod kubernetes;
pub mod model;
pub mod notify;
pub mod options;
pub mod org;
pub mod permissions;
pub mod preview;
pub mod run;
pub mod stacks;
