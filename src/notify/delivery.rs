//! Delivery of one notification to several targets (an SNS topic, webhooks) with a state per
//! target, so that a message that is handled again (an SQS redelivery) sends only to the
//! targets that have not had it: a dead webhook is retried on its own and never makes the
//! working ones post twice. After its last attempt a target is given up and named as a
//! failed delivery.
//!
//! It keeps no state itself: the caller stores [`DeliveryState`] (the check worker puts it
//! beside the report in S3, and keeps it in memory) and says how many rounds a target gets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{webhook, Notification};
use crate::aws::sns::Publish;
use crate::notify::WebhookFormat;

/// Where a notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Sns { topic_arn: String },
    Webhook { url: String, format: WebhookFormat },
}

impl Target {
    /// A stable id for the state: the topic's ARN, or a hash of the webhook's URL (which is a
    /// secret, and stays out of the state).
    pub fn id(&self) -> String {
        match self {
            Target::Sns { topic_arn } => format!("sns:{topic_arn}"),
            Target::Webhook { url, .. } => {
                let hash = hex::encode(Sha256::digest(url.as_bytes()));
                format!("webhook:{}", &hash[..16])
            }
        }
    }

    /// What messages and reports call it (a webhook by its host only).
    pub fn name(&self) -> String {
        match self {
            Target::Sns { topic_arn } => format!("SNS topic {topic_arn}"),
            Target::Webhook { url, format } => {
                let kind = match format {
                    WebhookFormat::Slack => "Slack",
                    WebhookFormat::Teams => "Teams",
                    WebhookFormat::Json => "JSON",
                };
                format!("{kind} webhook {}", webhook::redacted(url))
            }
        }
    }
}

/// How far a target got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetState {
    /// [`Target::name`].
    pub name: String,
    pub delivered: bool,
    /// The rounds in which it failed.
    pub failures: u32,
    /// The last failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// No more attempts: a failed delivery.
    #[serde(default)]
    pub given_up: bool,
}

/// The delivery of one notification, by [`Target::id`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryState {
    pub targets: BTreeMap<String, TargetState>,
}

/// A target that did not get the notification, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedDelivery {
    /// [`Target::name`]: a webhook by its host only.
    pub target: String,
    /// The rounds it was tried in (each with its own retries).
    pub attempts: u32,
    pub error: String,
}

impl DeliveryState {
    /// The targets given up.
    pub fn failed(&self) -> Vec<FailedDelivery> {
        self.targets
            .values()
            .filter(|t| t.given_up)
            .map(|t| FailedDelivery {
                target: t.name.clone(),
                attempts: t.failures,
                error: t.error.clone().unwrap_or_default(),
            })
            .collect()
    }

    /// The names of `targets` that still wait for the notification (neither delivered nor
    /// given up).
    pub fn pending(&self, targets: &[Target]) -> Vec<String> {
        targets
            .iter()
            .filter(|t| {
                self.targets
                    .get(&t.id())
                    .is_none_or(|s| !s.delivered && !s.given_up)
            })
            .map(Target::name)
            .collect()
    }
}

/// Sends `notification` to each of `targets` that has not had it (each webhook with `retry`'s
/// attempts) and records the outcome in `state`. A target that fails is given up when it has
/// failed in `rounds` rounds. Returns the names of the targets still pending.
pub async fn deliver(
    notification: &Notification,
    targets: &[Target],
    sns: &dyn Publish,
    retry: webhook::Retry,
    rounds: u32,
    state: &mut DeliveryState,
) -> Vec<String> {
    for target in targets {
        let entry = state.targets.entry(target.id()).or_default();
        entry.name = target.name();
        if entry.delivered || entry.given_up {
            continue;
        }
        let sent = match target {
            Target::Sns { topic_arn } => sns
                .publish(topic_arn, &notification.title, &notification.text())
                .await
                .map(|_| ()),
            Target::Webhook { url, format } => {
                webhook::post_json(url, &notification.webhook_body(*format), retry).await
            }
        };
        match sent {
            Ok(()) => {
                entry.delivered = true;
                entry.error = None;
            }
            Err(e) => {
                entry.failures += 1;
                entry.error = Some(e.to_string());
                entry.given_up = entry.failures >= rounds.max(1);
            }
        }
    }
    state.pending(targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Outcome;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    fn note() -> Notification {
        Notification {
            source: "little check".into(),
            title: "FAIL team/api:v1".into(),
            outcome: Outcome::Fail,
            summary: "s".into(),
            items: Vec::new(),
            link: None,
        }
    }

    const FAST: webhook::Retry = webhook::Retry {
        attempts: 2,
        backoff: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
    };

    #[tokio::test]
    async fn a_dead_target_is_retried_alone_then_given_up() {
        let (good, good_posts) = crate::testing::webhook::counting_hook(200);
        let (dead, dead_posts) = crate::testing::webhook::counting_hook(500);
        let fake = crate::testing::fake_aws::FakeAws::new();
        let targets = vec![
            Target::Sns {
                topic_arn: "arn:aws:sns:us-east-1:123456789012:results".into(),
            },
            Target::Webhook {
                url: good,
                format: WebhookFormat::Slack,
            },
            Target::Webhook {
                url: dead.clone(),
                format: WebhookFormat::Teams,
            },
        ];
        let mut state = DeliveryState::default();
        // Three deliveries of the same message, as SQS would redeliver it.
        for round in 1..=3 {
            let pending = deliver(&note(), &targets, fake.as_ref(), FAST, 3, &mut state).await;
            if round < 3 {
                assert_eq!(pending, [targets[2].name()], "round {round}");
            } else {
                assert!(pending.is_empty(), "given up after three rounds");
            }
            // The state survives a round trip through its stored form.
            let stored = serde_json::to_string(&state).unwrap();
            state = serde_json::from_str(&stored).unwrap();
            assert!(
                !stored.contains("secret"),
                "the webhook URL stays out: {stored}"
            );
        }
        assert_eq!(
            good_posts.load(Ordering::SeqCst),
            1,
            "the working webhook got one post"
        );
        assert_eq!(
            fake.published.lock().unwrap().len(),
            1,
            "SNS got one message"
        );
        assert_eq!(
            dead_posts.load(Ordering::SeqCst),
            3 * 2,
            "three rounds of two attempts"
        );
        let failed = state.failed();
        assert_eq!(failed.len(), 1);
        assert!(failed[0]
            .target
            .starts_with("Teams webhook http://127.0.0.1:"));
        assert!(!failed[0].target.contains("secret"));
        assert_eq!(failed[0].attempts, 3);
        assert!(failed[0].error.contains("HTTP 500"), "{}", failed[0].error);
        assert!(state.pending(&targets).is_empty());

        // With one round, a failure is given up at once.
        let mut fresh = DeliveryState::default();
        let pending = deliver(&note(), &targets[2..], fake.as_ref(), FAST, 1, &mut fresh).await;
        assert!(pending.is_empty());
        assert_eq!(fresh.failed()[0].attempts, 1);
    }

    #[test]
    fn target_ids_are_stable_and_keep_the_url_out() {
        let a = Target::Webhook {
            url: "https://hooks.slack.com/services/T0/B0/secret".into(),
            format: WebhookFormat::Slack,
        };
        assert_eq!(a.id(), a.clone().id());
        assert!(a.id().starts_with("webhook:") && !a.id().contains("secret"));
        assert_eq!(a.name(), "Slack webhook https://hooks.slack.com/…");
        let b = Target::Webhook {
            url: "https://hooks.slack.com/services/T0/B0/other".into(),
            format: WebhookFormat::Slack,
        };
        assert_ne!(a.id(), b.id());
    }
}
