//! Waiting with backoff: [`Poll`] (the first interval, growing by half up to a cap, and a
//! timeout) and [`poll_until`], the one backoff loop of every wait (stacks, change sets,
//! StackSet operations, drift detections, stack events); and [`again_while_throttled`], the
//! one loop that tries work again while it stays throttled after the SDK's retries.
//!
//! What is read and when it is done are the caller's: nothing here knows AWS. The defaults of
//! each kind of wait are the constants of [`Poll`]; there is no `Default`, so that every wait
//! names its kind.

use std::time::Duration;

use crate::error::Result;

/// How a wait polls: the first interval, growing by half each time up to `max` (each wait
/// jittered by up to a fifth either way, so that many waits do not poll in step), and the time
/// after which it gives up.
#[derive(Debug, Clone, Copy)]
pub struct Poll {
    pub first: Duration,
    pub max: Duration,
    pub timeout: Duration,
}

impl Poll {
    /// A stack operation: 0.5 s, growing to 2 s (an ended operation is seen within about 2 s);
    /// give up after 60 minutes.
    pub const STACK: Poll = Poll {
        first: Duration::from_millis(500),
        max: Duration::from_secs(2),
        timeout: Duration::from_secs(60 * 60),
    };
    /// A change set being made: 0.25 s, growing to 2 s; give up after 10 minutes.
    pub const CHANGE_SET: Poll = Poll {
        first: Duration::from_millis(250),
        max: Duration::from_secs(2),
        timeout: Duration::from_secs(600),
    };
    /// A drift detection: 0.5 s, growing to 3 s; give up after 10 minutes.
    pub const DRIFT: Poll = Poll {
        first: Duration::from_millis(500),
        max: Duration::from_secs(3),
        timeout: Duration::from_secs(600),
    };
}

/// `attempt`, tried again after each pause of `pauses` (jittered) while it ends on throttling
/// even after the SDK's retries; the last result otherwise. Any other error, or a success,
/// ends it at once.
pub async fn again_while_throttled<T, F, Fut>(pauses: &[Duration], mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut result = attempt().await;
    for pause in pauses {
        match &result {
            Err(e) if e.is_throttling() => {
                tokio::time::sleep(jitter(*pause)).await;
                result = attempt().await;
            }
            _ => break,
        }
    }
    result
}

/// `interval` times a factor between 0.8 and 1.2, from the process's random hash keys.
fn jitter(interval: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(interval.as_nanos());
    let unit = (h.finish() % 1001) as f64 / 1000.0;
    interval.mul_f64(0.8 + 0.4 * unit)
}

/// Reads with `read` until `done` holds, waiting `poll.first` between reads, growing by half
/// up to `poll.max`: `Ok` with the value read last once done, `Err` with it at `poll.timeout`.
/// Each caller words its own timeout error with the last state it saw. A read refused for its
/// rate (throttled even after the SDK's retries) is read again at the next interval, as many
/// waits at once may well be throttled; any other error ends the wait.
pub async fn poll_until<T, F, Fut>(
    poll: Poll,
    mut read: F,
    mut done: impl FnMut(&T) -> bool,
) -> Result<std::result::Result<T, T>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let start = tokio::time::Instant::now();
    let mut interval = poll.first.min(poll.max);
    loop {
        let value = match read().await {
            Ok(value) => Some(value),
            Err(e) if e.is_throttling() && start.elapsed() < poll.timeout => None,
            Err(e) => return Err(e),
        };
        let elapsed = start.elapsed();
        if let Some(value) = value {
            if done(&value) {
                return Ok(Ok(value));
            }
            if elapsed >= poll.timeout {
                return Ok(Err(value));
            }
        }
        tokio::time::sleep(jitter(interval).min(poll.timeout - elapsed)).await;
        interval = interval.mul_f64(1.5).min(poll.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn work_still_throttled_is_tried_again_after_each_pause_and_other_errors_are_not() {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let read = |fail: usize, message: &'static str| {
            let calls = &calls;
            move || async move {
                let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n < fail {
                    Err(crate::error::Error::Aws {
                        operation: "ecs:ListClusters".into(),
                        message: message.into(),
                    })
                } else {
                    Ok(())
                }
            }
        };
        let pauses = [Duration::from_secs(1), Duration::from_secs(4)];
        let take = || calls.swap(0, std::sync::atomic::Ordering::SeqCst);
        assert!(
            again_while_throttled(&pauses, read(1, "ThrottlingException: Rate exceeded"))
                .await
                .is_ok()
        );
        assert_eq!(take(), 2);
        assert!(
            again_while_throttled(&pauses, read(1, "ServerException: boom"))
                .await
                .is_err()
        );
        assert_eq!(take(), 1);
        // Throttled every time: once, then once after each pause.
        let still = again_while_throttled(&pauses, read(9, "Throttling: Rate exceeded")).await;
        assert!(still.is_err_and(|e| e.is_throttling()));
        assert_eq!(take(), 3);
    }

    #[test]
    fn jitter_stays_within_a_fifth() {
        let base = Duration::from_millis(1000);
        for _ in 0..200 {
            let j = jitter(base);
            assert!(
                j >= Duration::from_millis(800) && j <= Duration::from_millis(1200),
                "{j:?}"
            );
        }
    }

    const QUICK: Poll = Poll {
        first: Duration::from_millis(1),
        max: Duration::from_millis(2),
        timeout: Duration::from_secs(5),
    };

    fn aws(message: &str) -> crate::error::Error {
        crate::error::Error::Aws {
            operation: "cloudformation:DescribeStacks".into(),
            message: message.into(),
        }
    }

    #[tokio::test]
    async fn a_throttled_read_is_read_again_and_other_errors_end_the_wait() {
        let reads = std::sync::atomic::AtomicU32::new(0);
        let got = poll_until(
            QUICK,
            || async {
                match reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                    0 => Err(aws("Throttling: Rate exceeded")),
                    1 => Err(aws("TooManyRequestsException: slow down")),
                    n => Ok(n),
                }
            },
            |n| *n >= 3,
        )
        .await
        .unwrap();
        assert_eq!(got, Ok(3));

        let err = poll_until(
            QUICK,
            || async { Err::<u32, _>(aws("ValidationError: Stack with id x does not exist")) },
            |_| true,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("ValidationError"), "{err}");
    }
}
