//! Deployment: `apply` executes planned change sets in dependency order and waits for them,
//! streaming stack events and explaining failures (`options`: what it may do; `saved`: a saved
//! plan checked; `outcome`: what happened and why); `destroy` deletes stacks safely; both run
//! through `schedule`; `stackset` applies and deletes StackSets; `status` reads what is
//! deployed. Talks to AWS only through the `aws` traits, and to the person at
//! the terminal only through [`Ui`].

pub mod adopt;
pub mod apply;
pub mod automation;
pub mod destroy;
pub mod options;
pub mod outcome;
pub mod permissions;
pub mod saved;
pub mod schedule;
pub mod stackset;
pub mod status;

#[cfg(test)]
mod safety_tests;

use std::sync::Arc;

use crate::aws::stack_ops::StackEvent;
use crate::error::{Error, Result};
use crate::plan::model::Plan;

/// What an operation needs from the person running it. The CLI prints to stderr and asks on the
/// terminal; tests script the answers.
pub trait Ui: Send + Sync {
    /// Shows the plan before asking for approval. Cannot fail: an operation never stops half-way
    /// because its plan could not be shown (the CLI's stdout may be a closed pipe).
    fn show_plan(&self, plan: &Plan);
    /// Whether there is a terminal to ask on.
    fn can_ask(&self) -> bool;
    /// Asks a yes/no question; only called when `can_ask`.
    fn confirm(&self, question: &str) -> Result<bool>;
    /// A new stack event, shown once, in order.
    fn event(&self, stack: &str, event: &StackEvent);
    /// A progress line (`creating change set`, `waiting`).
    fn progress(&self, stack: &str, message: &str);
    /// A block of text to show before a question (what `destroy` would delete).
    fn message(&self, text: &str);
}

/// Asks on a thread of its own: a blocking read of the terminal must not hold up the runtime,
/// and an interrupt must not wait for an answer (the thread ends with the process).
pub(crate) async fn ask(ui: Arc<dyn Ui>, question: String) -> Result<bool> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(ui.confirm(&question));
    });
    rx.await
        .map_err(|_| Error::Internal("the approval prompt ended without an answer".into()))?
}
