//! Running independent work at once, keeping the results in order: CPU-bound work (parsing
//! stack configs, rendering stacks) on every core with [`map`], and futures (AWS reads) a few at
//! a time with [`bounded`].

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
