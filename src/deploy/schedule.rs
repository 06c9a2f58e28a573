//! The runner of `apply` and `destroy`: stacks in an order, each started the moment the stacks
//! it waits for are done (not when a whole level is), up to an adaptive limit at once (halved
//! when CloudFormation throttles, grown back after successes), and none started after Ctrl-C
//! (the running ones are then no longer waited for).
//!
//! What starting a stack means, and what counts as done well enough for the next ones, is the
//! caller's: this file knows neither change sets nor deletions.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::outcome::StackResult;
use crate::interrupt::Interrupt;
use crate::parallel::{AdaptiveLimit, Permit};

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
/// `limit` running at once (a run that ended on throttling, or while the service throttled,
/// halves it). `step` is called (and awaited) for each stack as it starts, with
/// the first stack of `before` whose result is not `ok`, if any. Stops when every stack has a
/// result, when nothing can start and nothing runs, or at `interrupt` (the running tasks are
/// aborted: their operations go on in AWS, unwaited).
pub async fn run<S, F>(
    order: &[String],
    before: &BTreeMap<String, Vec<String>>,
    limit: &Arc<AdaptiveLimit>,
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
    let mut permits: BTreeMap<String, Permit> = BTreeMap::new();
    let mut interrupted = false;
    let none = Vec::new();
    loop {
        // Start every stack whose predecessors are done, up to the limit.
        for name in order {
            if started.contains(name) {
                continue;
            }
            let first = before.get(name).unwrap_or(&none);
            if first.iter().any(|d| !results.contains_key(d)) {
                continue;
            }
            let Some(permit) = limit.try_acquire() else {
                break;
            };
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
                    permits.insert(name.clone(), permit);
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
                    if let Some(permit) = permits.remove(&name) {
                        let throttled = r
                            .root_cause
                            .iter()
                            .any(|c| crate::aws::calls::is_throttling_message(c));
                        permit.finish(throttled);
                    }
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

/// How many stacks' state is read at once before a run (the previews of `destroy`).
pub const SURVEY_CONCURRENCY: usize = 32;

/// The adaptive limit of a fan-out over CloudFormation stacks, at most `max` at once: it backs
/// off on CloudFormation's throttled responses (counted by `aws::calls`).
pub fn cloudformation_limit(max: usize) -> Arc<AdaptiveLimit> {
    Arc::new(AdaptiveLimit::new(max, || {
        crate::aws::calls::throttles("cloudformation")
    }))
}
