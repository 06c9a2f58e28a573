//! The integration tests: one binary, a module per feature. Each test runs the real `little`
//! binary in a temporary project; AWS tests talk to a local moto server on loopback.

mod harness;

// `src/testing/kube_api.rs`, compiled in here too (in_use_k8s), names `crate::text`.
use little_stack::text;

mod adopt;
mod apply;
mod audit;
mod audit_targets;
mod automation;
mod aws;
mod bad_input;
mod bootstrap;
mod calls;
mod cfn;
mod check;
mod destroy;
mod docs;
mod drift;
mod ecr_audit;
mod exact;
mod getting_started;
mod iam_policy;
mod identity;
mod in_use;
mod in_use_k8s;
mod k8s;
mod kit;
mod least_privilege;
mod nunjucks;
mod org;
mod output;
mod plan;
mod plan_output;
mod render;
mod safety;
mod security;
mod serve;
mod stack_ops;
mod stacksets;
mod template_staging;
#[cfg(unix)]
mod untrusted;
mod validate_corpus;
mod validate_project;
mod validate_schema;
mod workflows;
