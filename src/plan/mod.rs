//! `little plan`: what deploying the rendered templates would change in the deployed stacks.
//!
//! `diff` compares a deployed template with a rendered one semantically (and finds what is
//! only written differently); `comparable` says whether that comparison tells the whole truth,
//! so that an unchanged stack needs no change set; `predict` tells what a change set
//! would say of a stack whose changes all update in place (`--change-set auto`); `after_apply` marks the values a dependent
//! reads from a stack that changes in the same plan; `risk` finds the
//! destructive and permission-broadening changes among them; `settings` plans termination
//! protection and the stack policy, and finds the changes that lower a protection; `compare`
//! finds the parameter and tag changes and the hashes `apply --plan` checks (a template's
//! parameters and capabilities are read by `template::params`). None of them talks to AWS. `model` is the plan
//! document and the options it is made with; `run` computes it through the `aws` traits and
//! `context`, `stackset` for StackSets; `cost` asks AWS what a destructive change would lose.

pub mod after_apply;
pub mod comparable;
pub mod compare;
pub mod cost;
pub mod diff;
pub mod lifecycle;
pub mod model;
pub mod permissions;
pub mod predict;
pub mod risk;
pub mod run;
pub mod settings;
pub mod stackset;
