//! little-stack: render, plan, apply and audit CloudFormation stacks for container platforms on AWS.
//!
//! The binary `little` is a thin shell over this library: `cli` turns arguments into options,
//! each operation returns data, and `report` writes it.

// Diagnostics travel as the error of parsing functions; they are built only on the error path,
// so their size costs nothing on the hot path and boxing them would only add noise.
#![allow(clippy::result_large_err)]
pub mod audit;
pub mod aws;
pub mod check;
pub mod cli;
pub mod context;
pub mod deploy;
pub mod diag;
pub mod duration;
pub mod error;

pub mod init;
pub mod interrupt;
pub mod locate;
pub mod net;
pub mod notify;
pub mod parallel;
pub mod permissions;
pub mod plan;
pub mod policy;
pub mod poll;
pub mod project;
pub mod region;
pub mod render;
pub mod report;
pub mod schema;
pub mod serve;
pub mod template;
pub mod text;
pub mod time;

#[cfg(test)]
mod architecture_tests;
#[cfg(test)]
mod testing;
