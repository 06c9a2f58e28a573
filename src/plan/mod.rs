//! `little plan`: what deploying the rendered templates would change in the deployed stacks.
//!
//! `diff` compares a deployed template with a rendered one semantically; `risk` finds the
//! destructive and permission-broadening changes among them; `settings` plans termination
//! protection and the stack policy, and finds the changes that lower a protection; `compare`
//! finds the parameter and tag changes and the hashes `apply --plan` checks (a template's
//! parameters and capabilities are read by `template::params`). None of them talks to AWS. `model` is the plan
//! document and the options it is made with; `run` computes it through the `aws` traits and
//! `context`, `stackset` for StackSets; `cost` asks AWS what a destructive change would lose.

pub mod compare;
pub mod cost;
pub mod diff;
pub mod model;
pub mod risk;
pub mod run;
pub mod settings;
pub mod stackset;
