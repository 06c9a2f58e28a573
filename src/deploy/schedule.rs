//! The runner of `apply` and `destroy`: stacks in an order, each started once the stacks it
//! waits for are done, up to a limit at once, and none started after Ctrl-C (the running ones
//! are then no longer waited for).
//!
//! What starting a stack means, and what counts as done well enough for the next ones, is the
//! caller's: this file knows neither change sets nor deletions.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;

use super::outcome::StackResult;
use crate::interrupt::Interrupt;

/// What happens to a stack whose predecessors are done.
pub enum Step {
    /// Decided at once (skipped, unchanged), without a task.
    Done(StackResult),
    /// Run as a task of its own.
    Run(Pin<Box<dyn Future<Output = StackResult> + Send>>),
}

/// What a run of the schedule did.
pub struct Scheduled {
    /// The result of each stack that finished or was decided; the others are not there.
    pub results: BTreeMap<String, StackResult>,
    /// The stacks that were started (decided or run).
    pub started: BTreeSet<String>,
    /// Ctrl-C stopped the run.
    pub interrupted: bool,
}

/// Runs `order`: a stack starts once each stack of `before[stack]` has a result, at most
/// `limit` running at once. `step` is called (and awaited) for each stack as it starts, with
/// the first stack of `before` whose result is not `ok`, if any. Stops when every stack has a
/// result, when nothing can start and nothing runs, or at `interrupt` (the running tasks are
/// aborted: their operations go on in AWS, unwaited).
pub async fn run<S, F>(
    order: &[String],
    before: &BTreeMap<String, Vec<String>>,
    limit: usize,
    interrupt: &Interrupt,
    ok: impl Fn(&StackResult) -> bool,
    mut step: S,
) -> Scheduled
where
    S: FnMut(String, Option<String>) -> F,
    F: Future<Output = Step>,
{
    let mut results: BTreeMap<String, StackResult> = BTreeMap::new();
    let mut running: tokio::task::JoinSet<(String, StackResult)> = tokio::task::JoinSet::new();
    let mut started: BTreeSet<String> = BTreeSet::new();
    let limit = limit.max(1);
    let mut interrupted = false;
    let none = Vec::new();
    loop {
        // Start every stack whose predecessors are done, up to the limit.
        for name in order {
            if started.contains(name) || running.len() >= limit {
                continue;
            }
            let first = before.get(name).unwrap_or(&none);
            if first.iter().any(|d| !results.contains_key(d)) {
                continue;
            }
            started.insert(name.clone());
            let failed = first
                .iter()
                .find(|d| results.get(*d).is_some_and(|r| !ok(r)))
                .cloned();
            match step(name.clone(), failed).await {
                Step::Done(r) => {
                    results.insert(name.clone(), r);
                }
                Step::Run(task) => {
                    let name = name.clone();
                    running.spawn(async move { (name, task.await) });
                }
            }
        }
        if results.len() == order.len() || running.is_empty() {
            // Done, or nothing can start and nothing runs (not on an acyclic graph).
            break;
        }
        tokio::select! {
            joined = running.join_next() => {
                if let Some(Ok((name, r))) = joined {
                    results.insert(name, r);
                }
            }
            _ = interrupt.raised(), if !interrupted => {
                interrupted = true;
                running.abort_all();
                while running.join_next().await.is_some() {}
                break;
            }
        }
    }
    Scheduled {
        results,
        started,
        interrupted,
    }
}
