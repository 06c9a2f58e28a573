//! Interruption as a value: an [`Interrupt`] is handed to the operations that change AWS
//! (plan, apply, destroy), which watch it at their safe points (before starting a stack, at
//! the approval prompt, while waiting) and clean up what they made before they stop.
//!
//! [`signalled`] waits for Ctrl-C or SIGTERM; the CLI turns them into a [`Trigger`] (and
//! `little serve` into a graceful shutdown); tests trigger it by hand.

use tokio::sync::watch;

/// Whether the run was asked to stop; cheap to clone and to check.
#[derive(Clone, Debug)]
pub struct Interrupt {
    rx: watch::Receiver<bool>,
}

/// The side that raises an [`Interrupt`].
#[derive(Debug)]
pub struct Trigger {
    tx: watch::Sender<bool>,
}

impl Interrupt {
    /// A new interrupt and the trigger that raises it.
    pub fn new() -> (Interrupt, Trigger) {
        let (tx, rx) = watch::channel(false);
        (Interrupt { rx }, Trigger { tx })
    }

    /// An interrupt that never comes (library callers that handle no signals).
    pub fn never() -> Interrupt {
        let (tx, rx) = watch::channel(false);
        // A receiver whose sender is gone keeps its last value: never raised.
        drop(tx);
        Interrupt { rx }
    }

    /// Whether it has been raised.
    pub fn is_raised(&self) -> bool {
        *self.rx.borrow()
    }

    /// Waits until it is raised; never returns for [`Interrupt::never`].
    pub async fn raised(&self) {
        let mut rx = self.rx.clone();
        if rx.wait_for(|raised| *raised).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::never()
    }
}

impl Trigger {
    /// Raises the interrupt; every watcher sees it.
    pub fn raise(&self) {
        let _ = self.tx.send(true);
    }
}

/// Resolves on the next Ctrl-C or SIGTERM (Ctrl-C only where there is no SIGTERM).
pub async fn signalled() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn raised_once_seen_by_every_clone() {
        let (interrupt, trigger) = Interrupt::new();
        let other = interrupt.clone();
        assert!(!interrupt.is_raised());
        let waiter = tokio::spawn(async move { other.raised().await });
        trigger.raise();
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
        assert!(interrupt.is_raised());
        // Raised stays raised.
        interrupt.raised().await;
    }

    #[tokio::test]
    async fn never_is_never_raised() {
        let never = Interrupt::never();
        assert!(!never.is_raised());
        let waited = tokio::time::timeout(Duration::from_millis(20), never.raised()).await;
        assert!(waited.is_err());
    }
}
