//! `little check --queue URL`: the image check worker. It long-polls the SQS queue that the
//! image check pipeline feeds (20 s, batches of 10), reads EventBridge "ECR Image Action"
//! PUSH SUCCESS events (and CloudTrail PutImage events, for older setups; either may come
//! wrapped in an SNS envelope), checks each pushed image, stores the report in the report
//! bucket, sends the notification, and only then deletes the message. A message that fails
//! stays in the queue: it is received again after the visibility timeout and ends in the
//! dead-letter queue. Reports are keyed by the event's time and the image digest, so a
//! retried message overwrites its own report instead of adding one; a marker object written
//! after the notification makes a redelivered, finished message a no-op.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use serde_json::Value;

use super::rules::Outcome;
use super::{check_image, enforce, CheckReport, CheckSettings, ImageRef};
use crate::aws::connect::Clients;
use crate::aws::pipeline::{Encryption, Message};
use crate::error::{Error, Result};
use crate::notify::{webhook, Item, Notification};

/// A push of an image, from its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    pub repository: String,
    pub tag: Option<String>,
    pub digest: String,
    /// The event's time (RFC 3339): stable across redeliveries.
    pub time: String,
}

/// What a message holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Push(PushEvent),
    /// Another action or event (deleted without a check), and why.
    Skip(String),
    /// Not an event at all (left for the dead-letter queue), and why.
    Invalid(String),
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Reads a queue message.
pub fn parse_message(body: &str) -> Parsed {
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return Parsed::Invalid(format!("the message is not JSON: {e}")),
    };
    // An SNS envelope around the event.
    if v.get("Type").and_then(Value::as_str) == Some("Notification") {
        return match v.get("Message").and_then(Value::as_str) {
            Some(inner) => parse_message(inner),
            None => Parsed::Invalid("an SNS notification without a Message".into()),
        };
    }
    let time = text(&v, "/time").unwrap_or_default();
    match v.get("detail-type").and_then(Value::as_str) {
        Some("ECR Image Action") => {
            let action = text(&v, "/detail/action-type").unwrap_or_default();
            let result = text(&v, "/detail/result").unwrap_or_default();
            if action != "PUSH" || result != "SUCCESS" {
                return Parsed::Skip(format!("an ECR {action} {result} event"));
            }
            match (
                text(&v, "/detail/repository-name"),
                text(&v, "/detail/image-digest"),
            ) {
                (Some(repository), Some(digest)) => Parsed::Push(PushEvent {
                    repository,
                    tag: text(&v, "/detail/image-tag"),
                    digest,
                    time,
                }),
                _ => Parsed::Invalid(
                    "an ECR push event without repository-name or image-digest".into(),
                ),
            }
        }
        Some("AWS API Call via CloudTrail") => {
            if text(&v, "/detail/eventSource").as_deref() != Some("ecr.amazonaws.com")
                || text(&v, "/detail/eventName").as_deref() != Some("PutImage")
            {
                return Parsed::Skip("a CloudTrail event other than ECR PutImage".into());
            }
            if let Some(code) = text(&v, "/detail/errorCode") {
                return Parsed::Skip(format!("a failed PutImage ({code})"));
            }
            let repository = text(&v, "/detail/responseElements/image/repositoryName")
                .or_else(|| text(&v, "/detail/requestParameters/repositoryName"));
            let digest = text(&v, "/detail/responseElements/image/imageId/imageDigest");
            let tag = text(&v, "/detail/responseElements/image/imageId/imageTag")
                .or_else(|| text(&v, "/detail/requestParameters/imageTag"));
            let time = text(&v, "/detail/eventTime").unwrap_or(time);
            match (repository, digest) {
                (Some(repository), Some(digest)) => Parsed::Push(PushEvent {
                    repository,
                    tag,
                    digest,
                    time,
                }),
                _ => Parsed::Invalid("a PutImage event without repository or digest".into()),
            }
        }
        Some(other) => Parsed::Skip(format!("a `{other}` event")),
        None => Parsed::Invalid("the message is not an EventBridge event".into()),
    }
}

/// The report's object key without its extension:
/// `<prefix><repository>/<tag or untagged>/<event time>-<digest prefix>`.
pub fn report_key(prefix: &str, event: &PushEvent) -> String {
    let time: String = event
        .time
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let digest = event.digest.trim_start_matches("sha256:");
    let short: String = digest.chars().take(12).collect();
    format!(
        "{prefix}{}/{}/{}-{short}",
        event.repository,
        event.tag.as_deref().unwrap_or("untagged"),
        if time.is_empty() { "0" } else { &time }
    )
}

/// Who hears about which outcomes.
#[derive(Debug, Clone, Default)]
pub struct CheckTargets {
    pub sns_topic_arn: Option<String>,
    /// The outcomes SNS gets (empty: all).
    pub sns_on: Vec<Outcome>,
    /// (URL, format, outcomes; empty: all).
    pub webhooks: Vec<(String, crate::project::config::WebhookFormat, Vec<Outcome>)>,
}

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub queue_url: String,
    pub bucket: Option<String>,
    pub prefix: String,
    pub encryption: Encryption,
    pub link_expiry: Duration,
    pub enforce: bool,
    pub targets: CheckTargets,
    pub settings: CheckSettings,
    /// Stop when the queue is empty (instead of polling for ever).
    pub once: bool,
    pub wait: Duration,
    pub retry: webhook::Retry,
}

/// The notification of a report.
pub fn report_notification(report: &CheckReport, link: Option<String>) -> Notification {
    let image = match &report.image.tag {
        Some(t) => format!("{}:{t}", report.image.repository),
        None => format!("{}@{}", report.image.repository, report.image.digest),
    };
    let failed: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.outcome >= Outcome::Warn)
        .collect();
    let title = match report.outcome {
        Outcome::Fail => format!("FAIL {image}: {} checks need attention", failed.len()),
        Outcome::Warn => format!("WARN {image}: {} checks need attention", failed.len()),
        _ => format!("PASS {image}"),
    };
    let mut summary = format!(
        "{} in {} ({}), digest {}.",
        image, report.image.region, report.image.platform, report.image.digest
    );
    if let Some(e) = &report.enforcement {
        summary.push_str(&format!(" Enforcement: {}.", e.detail));
    }
    Notification {
        source: format!("little check {}", env!("CARGO_PKG_VERSION")),
        title,
        outcome: match report.outcome {
            Outcome::Fail => crate::notify::Outcome::Fail,
            Outcome::Warn => crate::notify::Outcome::Warn,
            _ => crate::notify::Outcome::Pass,
        },
        summary,
        items: failed
            .iter()
            .map(|c| Item {
                title: format!("{} {}", c.outcome.as_str().to_uppercase(), c.title),
                facts: Vec::new(),
                lines: std::iter::once(c.summary.clone())
                    .chain(c.details.iter().cloned())
                    .collect(),
            })
            .collect(),
        link,
    }
}

/// Sends the report's notification to the targets that want its outcome.
pub async fn notify(
    clients: &Clients,
    targets: &CheckTargets,
    report: &CheckReport,
    link: Option<String>,
    retry: webhook::Retry,
) -> Result<()> {
    let message = report_notification(report, link);
    let wants = |on: &[Outcome]| on.is_empty() || on.contains(&report.outcome);
    let mut failures = Vec::new();
    if let Some(topic) = &targets.sns_topic_arn {
        if wants(&targets.sns_on) {
            if let Err(e) = clients
                .sns
                .publish(topic, &message.title, &message.text())
                .await
            {
                failures.push(e.to_string());
            }
        }
    }
    for (url, format, on) in &targets.webhooks {
        if wants(on) {
            if let Err(e) = webhook::post_json(url, &message.webhook_body(*format), retry).await {
                failures.push(e.to_string());
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::Notify(failures.join("; ")))
    }
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Checked, stored, notified and deleted.
    Checked {
        key: Option<String>,
        outcome: Outcome,
    },
    /// Deleted without a check (another event, or a duplicate).
    Skipped(String),
    /// Left in the queue (to be received again, then to go to the dead-letter queue).
    Left(String),
}

/// The worker's memory of finished images (bounded).
#[derive(Debug, Default)]
pub struct Seen {
    order: VecDeque<String>,
    set: BTreeSet<String>,
}

impl Seen {
    const LIMIT: usize = 10_000;

    fn contains(&self, k: &str) -> bool {
        self.set.contains(k)
    }

    fn insert(&mut self, k: String) {
        if self.set.insert(k.clone()) {
            self.order.push_back(k);
            if self.order.len() > Self::LIMIT {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

/// Handles one message: check, enforce, store, notify, then delete.
pub async fn handle(
    clients: &Clients,
    options: &WorkerOptions,
    seen: &mut Seen,
    message: &Message,
    now: u64,
) -> Handled {
    let event = match parse_message(&message.body) {
        Parsed::Push(e) => e,
        Parsed::Skip(why) => {
            return match clients
                .queue
                .delete(&options.queue_url, &message.receipt_handle)
                .await
            {
                Ok(()) => Handled::Skipped(why),
                Err(e) => Handled::Left(format!("{why}, but it could not be deleted: {e}")),
            }
        }
        Parsed::Invalid(why) => return Handled::Left(why),
    };
    let key = options
        .bucket
        .as_ref()
        .map(|_| report_key(&options.prefix, &event));
    let identity = format!("{}@{}#{}", event.repository, event.digest, event.time);
    let delete = |why: String| async move {
        match clients
            .queue
            .delete(&options.queue_url, &message.receipt_handle)
            .await
        {
            Ok(()) => Handled::Skipped(why),
            Err(e) => Handled::Left(format!("a duplicate, but it could not be deleted: {e}")),
        }
    };
    if seen.contains(&identity) {
        return delete(format!("a duplicate of {identity}, checked already")).await;
    }
    if let (Some(bucket), Some(key)) = (&options.bucket, &key) {
        match clients.reports.exists(bucket, &format!("{key}.done")).await {
            Ok(true) => {
                seen.insert(identity.clone());
                return delete(format!("a duplicate: s3://{bucket}/{key}.json exists")).await;
            }
            Ok(false) => {}
            Err(e) => return Handled::Left(e.to_string()),
        }
    }
    let outcome = process(clients, options, &event, key.as_deref(), now).await;
    match outcome {
        Ok(result) => {
            if let Err(e) = clients
                .queue
                .delete(&options.queue_url, &message.receipt_handle)
                .await
            {
                return Handled::Left(format!(
                    "checked, but the message could not be deleted: {e}"
                ));
            }
            seen.insert(identity);
            Handled::Checked {
                key,
                outcome: result,
            }
        }
        Err(e) => Handled::Left(e.to_string()),
    }
}

async fn process(
    clients: &Clients,
    options: &WorkerOptions,
    event: &PushEvent,
    key: Option<&str>,
    now: u64,
) -> Result<Outcome> {
    let image = ImageRef {
        repository: event.repository.clone(),
        reference: event.digest.clone(),
    };
    let mut report = check_image(clients, &image, &options.settings, now).await?;
    report.image.tag = event.tag.clone();
    enforce(clients, &mut report, options.enforce).await?;
    let mut link = None;
    if let (Some(bucket), Some(key)) = (&options.bucket, key) {
        let json =
            serde_json::to_vec_pretty(&report).map_err(|e| Error::Internal(e.to_string()))?;
        let html = crate::report::check::html(&report);
        clients
            .reports
            .put(
                bucket,
                &format!("{key}.json"),
                json,
                "application/json",
                &options.encryption,
            )
            .await?;
        clients
            .reports
            .put(
                bucket,
                &format!("{key}.html"),
                html.into_bytes(),
                "text/html; charset=utf-8",
                &options.encryption,
            )
            .await?;
        link = Some(
            clients
                .reports
                .presign(bucket, &format!("{key}.html"), options.link_expiry)
                .await?,
        );
    }
    notify(clients, &options.targets, &report, link, options.retry).await?;
    if let (Some(bucket), Some(key)) = (&options.bucket, key) {
        clients
            .reports
            .put(
                bucket,
                &format!("{key}.done"),
                Vec::new(),
                "text/plain",
                &options.encryption,
            )
            .await?;
    }
    Ok(report.outcome)
}

/// Polls the queue until `stop` resolves (or, with `once`, until it is empty); each message
/// is handled in turn and `log` hears what became of it.
pub async fn run(
    clients: &Clients,
    options: &WorkerOptions,
    stop: impl std::future::Future<Output = ()>,
    log: &(dyn Fn(&str) + Sync),
) -> Result<WorkerStats> {
    let mut seen = Seen::default();
    let mut stats = WorkerStats::default();
    // With `once`: the messages handled in this run; a batch of only those means the queue
    // holds nothing new (a failed message comes back after its visibility timeout).
    let mut handled_ids: BTreeSet<String> = BTreeSet::new();
    tokio::pin!(stop);
    let mut failures_in_a_row = 0u32;
    loop {
        let received = tokio::select! {
            r = clients.queue.receive(&options.queue_url, 10, options.wait) => r,
            _ = &mut stop => break,
        };
        let messages = match received {
            Ok(m) => {
                failures_in_a_row = 0;
                m
            }
            Err(e) => {
                if options.once {
                    return Err(e);
                }
                failures_in_a_row += 1;
                let pause = Duration::from_secs(2u64.pow(failures_in_a_row.min(5)));
                log(&format!(
                    "receiving failed ({e}); again in {} s",
                    pause.as_secs()
                ));
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        if messages.is_empty() {
            if options.once {
                break;
            }
            continue;
        }
        if options.once && messages.iter().all(|m| handled_ids.contains(&m.id)) {
            break;
        }
        for m in &messages {
            if options.once && !handled_ids.insert(m.id.clone()) {
                continue;
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            match handle(clients, options, &mut seen, m, now).await {
                Handled::Checked { key, outcome } => {
                    stats.checked += 1;
                    log(&format!(
                        "message {}: {}{}",
                        m.id,
                        outcome.as_str(),
                        key.map(|k| format!(", report {k}.html"))
                            .unwrap_or_default()
                    ));
                }
                Handled::Skipped(why) => {
                    stats.skipped += 1;
                    log(&format!("message {}: skipped: {why}", m.id));
                }
                Handled::Left(why) => {
                    stats.left += 1;
                    log(&format!(
                        "message {} (received {} times) left in the queue: {why}",
                        m.id, m.receive_count
                    ));
                }
            }
        }
    }
    Ok(stats)
}

/// What a worker run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    pub checked: u64,
    pub skipped: u64,
    pub left: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUSH: &str = r#"{"version":"0","id":"e1","detail-type":"ECR Image Action","source":"aws.ecr","account":"123456789012","time":"2026-11-29T10:00:00Z","region":"us-east-1","resources":[],
      "detail":{"result":"SUCCESS","repository-name":"team/api","image-digest":"sha256:0123456789abcdef0123","action-type":"PUSH","image-tag":"v1"}}"#;

    #[test]
    fn eventbridge_push_events_are_read() {
        assert_eq!(
            parse_message(PUSH),
            Parsed::Push(PushEvent {
                repository: "team/api".into(),
                tag: Some("v1".into()),
                digest: "sha256:0123456789abcdef0123".into(),
                time: "2026-11-29T10:00:00Z".into(),
            })
        );
        let deleted = PUSH.replace("\"PUSH\"", "\"DELETE\"");
        assert_eq!(
            parse_message(&deleted),
            Parsed::Skip("an ECR DELETE SUCCESS event".into())
        );
        let failed = PUSH.replace("SUCCESS", "FAILURE");
        assert!(matches!(parse_message(&failed), Parsed::Skip(_)));
    }

    #[test]
    fn sns_envelopes_and_cloudtrail_events() {
        let envelope = serde_json::json!({"Type": "Notification", "Message": PUSH}).to_string();
        assert!(matches!(parse_message(&envelope), Parsed::Push(_)));
        let trail = r#"{"detail-type":"AWS API Call via CloudTrail","time":"2026-11-29T10:00:01Z","detail":{"eventSource":"ecr.amazonaws.com","eventName":"PutImage","eventTime":"2026-11-29T10:00:00Z",
          "requestParameters":{"repositoryName":"team/api","imageTag":"v2"},"responseElements":{"image":{"repositoryName":"team/api","imageId":{"imageDigest":"sha256:ff","imageTag":"v2"}}}}}"#;
        assert_eq!(
            parse_message(trail),
            Parsed::Push(PushEvent {
                repository: "team/api".into(),
                tag: Some("v2".into()),
                digest: "sha256:ff".into(),
                time: "2026-11-29T10:00:00Z".into(),
            })
        );
        assert!(matches!(parse_message("not json"), Parsed::Invalid(_)));
        assert!(matches!(parse_message("{}"), Parsed::Invalid(_)));
        assert!(matches!(
            parse_message(r#"{"detail-type":"EC2 Instance State-change Notification"}"#),
            Parsed::Skip(_)
        ));
    }

    #[test]
    fn report_keys_are_stable_per_event() {
        let Parsed::Push(e) = parse_message(PUSH) else {
            panic!()
        };
        assert_eq!(
            report_key("reports/", &e),
            "reports/team/api/v1/20261129T100000Z-0123456789ab"
        );
    }

    #[test]
    fn the_seen_set_is_bounded() {
        let mut s = Seen::default();
        for i in 0..(Seen::LIMIT + 5) {
            s.insert(i.to_string());
        }
        assert_eq!(s.set.len(), Seen::LIMIT);
        assert!(!s.contains("0"));
        assert!(s.contains(&(Seen::LIMIT + 4).to_string()));
    }
}
