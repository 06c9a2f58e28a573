//! Test doubles, compiled only for tests: an in-memory AWS account behind the `aws` traits
//! (`fake_aws`, with its StackSet service), a scripted person at a terminal (`ui`), a
//! counting webhook on loopback (`webhook`) and a fake Kubernetes API server on loopback
//! (`kube_api`), and the inputs of the plan's pure steps (`plan_inputs`). Nothing of the library depends on them.

pub mod fake_aws;
pub mod kube_api;
pub mod plan_inputs;
pub mod ui;
pub mod webhook;
