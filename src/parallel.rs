//! Running independent work at once, keeping the results in order: CPU-bound work (parsing
//! stack configs, rendering stacks) on every core with [`map`], and futures (AWS reads) a few at
//! a time with [`bounded`], or under an [`AdaptiveLimit`] that backs off when a service throttles
//! ([`adaptive`]).

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// `f` over the items on every core (rendering is CPU-bound and stacks are independent); the
/// results in the items' order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len().max(1));
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// A boxed future that [`bounded`] runs.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs the futures with at most `limit` at once; the results in the futures' order.
pub async fn bounded<'a, T>(futures: Vec<Pending<'a, T>>, limit: usize) -> Vec<T> {
    let total = futures.len();
    let mut queue = futures.into_iter().enumerate();
    let mut running: Vec<(usize, Pending<'a, T>)> = Vec::new();
    let mut results: Vec<Option<T>> = (0..total).map(|_| None).collect();
    std::future::poll_fn(|cx| loop {
        while running.len() < limit.max(1) {
            match queue.next() {
                Some(item) => running.push(item),
                None => break,
            }
        }
        if running.is_empty() {
            return Poll::Ready(());
        }
        let mut progressed = false;
        let mut i = 0;
        while i < running.len() {
            if let Poll::Ready(v) = running[i].1.as_mut().poll(cx) {
                let (index, _) = running.swap_remove(i);
                results[index] = Some(v);
                progressed = true;
            } else {
                i += 1;
            }
        }
        if !progressed {
            return Poll::Pending;
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

/// How many calls of one kind (stacks of a fan-out against one service) run at once, adapted
/// to the service: it starts at the upper bound, halves when a call was throttled, and grows
/// back by one after as many successes as the limit (additive increase, multiplicative
/// decrease). One halving per window: a throttle seen by a task that started before the last
/// halving does not halve again, nor does one within `cooldown` (1 s) of it, so that a steady
/// share of throttled calls settles the limit where halvings and growth balance rather than at
/// one.
///
/// Throttling is read from `throttles`, a counter of the service's throttled responses that
/// only grows (kept by the caller: this file knows no AWS): a task during which it grew was
/// throttled.
pub struct AdaptiveLimit {
    max: usize,
    cooldown: std::time::Duration,
    throttles: Box<dyn Fn() -> u64 + Send + Sync>,
    state: std::sync::Mutex<LimitState>,
    freed: tokio::sync::Notify,
}

struct LimitState {
    limit: usize,
    running: usize,
    successes: usize,
    /// Bumped at each halving.
    window: u64,
    last_halving: Option<std::time::Instant>,
    lowest: usize,
    halvings: u32,
}

/// A place under an [`AdaptiveLimit`]; give it back with [`Permit::finish`] (dropping it
/// counts as neither a success nor a throttle).
pub struct Permit {
    limit: std::sync::Arc<AdaptiveLimit>,
    window: u64,
    throttles: u64,
}

impl AdaptiveLimit {
    /// A limit between 1 and `max`, starting at `max`.
    pub fn new(max: usize, throttles: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        let max = max.max(1);
        AdaptiveLimit {
            max,
            cooldown: std::time::Duration::from_secs(1),
            throttles: Box::new(throttles),
            state: std::sync::Mutex::new(LimitState {
                limit: max,
                running: 0,
                successes: 0,
                window: 0,
                last_halving: None,
                lowest: max,
                halvings: 0,
            }),
            freed: tokio::sync::Notify::new(),
        }
    }

    /// The same limit with another least time between two halvings.
    pub fn with_cooldown(mut self, cooldown: std::time::Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LimitState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a place under the current limit.
    pub async fn acquire(self: &std::sync::Arc<Self>) -> Permit {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Some(p) = self.try_acquire() {
                return p;
            }
            freed.await;
        }
    }

    /// A place under the current limit if one is free now.
    pub fn try_acquire(self: &std::sync::Arc<Self>) -> Option<Permit> {
        let mut s = self.state();
        if s.running >= s.limit {
            return None;
        }
        s.running += 1;
        Some(Permit {
            limit: self.clone(),
            window: s.window,
            throttles: (self.throttles)(),
        })
    }

    /// The limit now.
    pub fn current(&self) -> usize {
        self.state().limit
    }

    /// The upper bound.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The lowest the limit went, and how many times it was halved.
    pub fn backoff(&self) -> (usize, u32) {
        let s = self.state();
        (s.lowest, s.halvings)
    }

    fn release(&self, window: u64, throttled: Option<bool>) {
        let mut s = self.state();
        s.running = s.running.saturating_sub(1);
        match throttled {
            Some(true)
                if window == s.window
                    && s.last_halving.is_none_or(|t| t.elapsed() >= self.cooldown) =>
            {
                s.last_halving = Some(std::time::Instant::now());
                s.limit = (s.limit / 2).max(1);
                s.successes = 0;
                s.window += 1;
                s.halvings += 1;
                s.lowest = s.lowest.min(s.limit);
                note_backoff(self.max, s.limit);
            }
            Some(true) => {}
            Some(false) => {
                s.successes += 1;
                if s.successes >= s.limit && s.limit < self.max {
                    s.limit += 1;
                    s.successes = 0;
                }
            }
            None => {}
        }
        drop(s);
        self.freed.notify_waiters();
    }
}

impl Permit {
    /// Gives the place back: a success, unless the service throttled a call meanwhile or
    /// `throttled` says the task itself ended on throttling.
    pub fn finish(mut self, throttled: bool) {
        let seen = throttled || (self.limit.throttles)() > self.throttles;
        self.limit.release(self.window, Some(seen));
        self.window = u64::MAX;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.window != u64::MAX {
            self.limit.release(self.window, None);
        }
    }
}

/// How far the adaptive limits of this process backed off: (their upper bound, the lowest
/// any went, the halvings), for `-v`.
static BACKOFF: std::sync::Mutex<Option<(usize, usize, u32)>> = std::sync::Mutex::new(None);

fn note_backoff(max: usize, limit: usize) {
    let mut b = BACKOFF.lock().unwrap_or_else(|p| p.into_inner());
    let (top, lowest, halvings) = b.unwrap_or((max, max, 0));
    *b = Some((top.max(max), lowest.min(limit), halvings + 1));
}

/// How far the adaptive limits of this process backed off, if any did: (their upper bound,
/// the lowest any went, how many times they were halved).
pub fn backoff() -> Option<(usize, usize, u32)> {
    *BACKOFF.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs the futures under `limit` (each waits for a place, then runs, then gives it back: a
/// success unless the service throttled meanwhile or `throttled` holds for its result); the
/// results in the futures' order.
pub async fn adaptive<'a, T>(
    futures: Vec<Pending<'a, T>>,
    limit: &std::sync::Arc<AdaptiveLimit>,
    throttled: &'a (dyn Fn(&T) -> bool + Sync),
) -> Vec<T>
where
    T: Send + 'a,
{
    let wrapped: Vec<Pending<'a, T>> = futures
        .into_iter()
        .map(|f| -> Pending<'a, T> {
            let limit = limit.clone();
            Box::pin(async move {
                let permit = limit.acquire().await;
                let value = f.await;
                permit.finish(throttled(&value));
                value
            })
        })
        .collect();
    // Every future waits for its own place: run them all, the limit bounds them.
    bounded(wrapped, usize::MAX).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn halves_on_throttling_once_per_window_and_grows_back_slowly() {
        let count = Arc::new(AtomicU64::new(0));
        let c = count.clone();
        let limit = Arc::new(
            AdaptiveLimit::new(32, move || c.load(Ordering::SeqCst))
                .with_cooldown(std::time::Duration::ZERO),
        );
        let a = limit.try_acquire().unwrap();
        let b = limit.try_acquire().unwrap();
        count.fetch_add(1, Ordering::SeqCst);
        a.finish(false);
        assert_eq!(limit.current(), 16);
        // b started in the same window: no second halving.
        b.finish(false);
        assert_eq!(limit.current(), 16);
        // A task that ends on throttling itself halves too.
        limit.try_acquire().unwrap().finish(true);
        assert_eq!(limit.current(), 8);
        assert_eq!(limit.backoff(), (8, 2));
        // 8 successes grow it by one.
        for _ in 0..8 {
            limit.try_acquire().unwrap().finish(false);
        }
        assert_eq!(limit.current(), 9);
        // Never below one, never above the bound.
        for _ in 0..10 {
            limit.try_acquire().unwrap().finish(true);
        }
        assert_eq!(limit.current(), 1);
        let small = Arc::new(AdaptiveLimit::new(2, || 0));
        for _ in 0..10 {
            small.try_acquire().unwrap().finish(false);
        }
        assert_eq!(small.current(), 2);
    }

    #[test]
    fn no_second_halving_within_the_cooldown() {
        let limit = Arc::new(AdaptiveLimit::new(32, || 0));
        limit.try_acquire().unwrap().finish(true);
        limit.try_acquire().unwrap().finish(true);
        assert_eq!(limit.current(), 16);
        assert_eq!(limit.backoff(), (16, 1));
    }

    #[test]
    fn no_more_than_the_limit_hold_a_place() {
        let limit = Arc::new(AdaptiveLimit::new(2, || 0));
        let a = limit.try_acquire();
        let b = limit.try_acquire();
        assert!(a.is_some() && b.is_some());
        assert!(limit.try_acquire().is_none());
        drop(a);
        assert!(limit.try_acquire().is_some());
    }

    #[tokio::test]
    async fn adaptive_keeps_order_and_the_bound() {
        let limit = Arc::new(AdaptiveLimit::new(3, || 0));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let futures: Vec<Pending<'_, usize>> = (0..10)
            .map(|i| -> Pending<'_, usize> {
                let (running, peak) = (running.clone(), peak.clone());
                Box::pin(async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        let out = adaptive(futures, &limit, &|_| false).await;
        assert_eq!(out, (0..10).collect::<Vec<_>>());
        assert!(peak.load(Ordering::SeqCst) <= 3);
    }
}
