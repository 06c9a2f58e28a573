//! `little check --queue URL`: the image check worker. It long-polls the SQS queue that the
//! image check pipeline feeds (20 s, batches of 10), reads EventBridge "ECR Image Action"
//! PUSH SUCCESS events (and CloudTrail PutImage events, for older setups; either may come
//! wrapped in an SNS envelope), and treats each as a claim: it is validated and confirmed with
//! ECR ([`super::event`]) before anything is checked, enforced, stored or sent; an event that
//! is not true of this worker's registry is deleted, logged and counted as ignored. A
//! confirmed push is checked, its report stored in the report bucket, and its notification
//! delivered target by target ([`crate::notify::delivery`]): a target that fails leaves the
//! message in the queue, and when it comes back only the targets still missing it are tried;
//! after `check.notify.delivery_attempts` a failing target is written into the report as a
//! failed delivery and the message is finished. The delivery state lives beside the report
//! (`<key>.delivery.json`) and in memory, so a redelivery never checks or enforces again.
//! Reports are keyed by the repository, the digest and the event's time, so a retried message
//! overwrites its own report; a marker written at the end makes a redelivered, finished
//! message a no-op.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use serde_json::Value;

use super::event::{self, Claim, Confirmation, PushEvent, Scope};
use super::rules::Outcome;
use super::{check_image, enforce, CheckReport, CheckSettings, ImageRef};
use crate::aws::connect::Clients;
use crate::aws::pipeline::{Encryption, Message};
use crate::error::{Error, Result};
use crate::notify::delivery::{self, DeliveryState, FailedDelivery, Target};
use crate::notify::{escape, webhook, Item, Notification};

/// What a message holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A push, as the event claims it (not yet validated or confirmed).
    Push(Claim),
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

/// Reads a queue message. What it returns is only what the message says: see
/// [`event::validate`] and [`event::confirm`].
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
    let account = text(&v, "/account");
    let region = text(&v, "/region");
    match v.get("detail-type").and_then(Value::as_str) {
        Some("ECR Image Action") => {
            let action = text(&v, "/detail/action-type").unwrap_or_default();
            let result = text(&v, "/detail/result").unwrap_or_default();
            if action != "PUSH" || result != "SUCCESS" {
                return Parsed::Skip(format!(
                    "an ECR {} {} event",
                    escape::line(&action, 40),
                    escape::line(&result, 40)
                ));
            }
            match (
                text(&v, "/detail/repository-name"),
                text(&v, "/detail/image-digest"),
            ) {
                (Some(repository), Some(digest)) => Parsed::Push(Claim {
                    repository,
                    tag: text(&v, "/detail/image-tag"),
                    digest,
                    time,
                    account,
                    region,
                    registry_id: None,
                    pushed_by: None,
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
                return Parsed::Skip(format!("a failed PutImage ({})", escape::line(&code, 80)));
            }
            let repository = text(&v, "/detail/responseElements/image/repositoryName")
                .or_else(|| text(&v, "/detail/requestParameters/repositoryName"));
            let digest = text(&v, "/detail/responseElements/image/imageId/imageDigest");
            let tag = text(&v, "/detail/responseElements/image/imageId/imageTag")
                .or_else(|| text(&v, "/detail/requestParameters/imageTag"));
            let time = text(&v, "/detail/eventTime").unwrap_or(time);
            match (repository, digest) {
                (Some(repository), Some(digest)) => Parsed::Push(Claim {
                    repository,
                    tag,
                    digest,
                    time,
                    account: account.or_else(|| text(&v, "/detail/recipientAccountId")),
                    region: region.or_else(|| text(&v, "/detail/awsRegion")),
                    registry_id: text(&v, "/detail/requestParameters/registryId"),
                    pushed_by: text(&v, "/detail/userIdentity/userName")
                        .or_else(|| text(&v, "/detail/userIdentity/arn"))
                        .or_else(|| text(&v, "/detail/userIdentity/principalId")),
                }),
                _ => Parsed::Invalid("a PutImage event without repository or digest".into()),
            }
        }
        Some(other) => Parsed::Skip(format!("a `{}` event", escape::line(other, 80))),
        None => Parsed::Invalid("the message is not an EventBridge event".into()),
    }
}

/// The report's object key without its extension:
/// `<prefix><repository>/sha256-<digest>/<event time>`. Made of the validated repository
/// name and digest (never of a tag) through [`escape::s3_key`].
pub fn report_key(prefix: &str, event: &PushEvent) -> Result<String> {
    let digest = format!("sha256-{}", event.digest_hex());
    let mut segments: Vec<&str> = event.repository.split('/').collect();
    segments.push(&digest);
    segments.push(&event.time);
    escape::s3_key(prefix, &segments).map_err(|e| {
        Error::Internal(format!(
            "the report key of {}: {e}",
            escape::line(&event.image(), 200)
        ))
    })
}

/// Who hears about which outcomes.
#[derive(Debug, Clone, Default)]
pub struct CheckTargets {
    pub sns_topic_arn: Option<String>,
    /// The outcomes SNS gets (empty: all).
    pub sns_on: Vec<Outcome>,
    /// (URL, format, outcomes; empty: all).
    pub webhooks: Vec<(String, crate::notify::WebhookFormat, Vec<Outcome>)>,
}

impl CheckTargets {
    /// The targets that want `outcome`.
    pub fn wanting(&self, outcome: Outcome) -> Vec<Target> {
        let wants = |on: &[Outcome]| on.is_empty() || on.contains(&outcome);
        let mut out = Vec::new();
        if let Some(topic) = &self.sns_topic_arn {
            if wants(&self.sns_on) {
                out.push(Target::Sns {
                    topic_arn: topic.clone(),
                });
            }
        }
        for (url, format, on) in &self.webhooks {
            if wants(on) {
                out.push(Target::Webhook {
                    url: url.clone(),
                    format: *format,
                });
            }
        }
        out
    }
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
    /// `check.repositories`: the repositories events are accepted for (`*` patterns); empty:
    /// every repository of the worker's registry.
    pub repositories: Vec<String>,
    /// `check.notify.delivery_attempts`: the deliveries of a message in which a failing
    /// target is tried before it is given up.
    pub delivery_attempts: u32,
    /// `check.skip_untagged` (or `--skip-untagged`): a push without a tag is deleted
    /// unchecked, with the reason logged.
    pub skip_untagged: bool,
    /// Stop when the queue is empty (instead of polling for ever).
    pub once: bool,
    pub wait: Duration,
    pub retry: webhook::Retry,
    /// Writes a report as the HTML page stored beside its JSON (the printer is the caller's:
    /// `report::check::html`; an operation does not reach up to the printers).
    pub html: fn(&CheckReport, &super::rules::ReportBranding) -> String,
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
    let title = match (report.outcome, &report.waiver) {
        (Outcome::Fail, _) => format!("FAIL {image}: {} checks need attention", failed.len()),
        (_, Some(w)) if !w.checks.is_empty() => format!(
            "WAIVED {image}: {} failing checks waived by the label {}",
            w.checks.len(),
            w.label
        ),
        (Outcome::Warn, _) => format!("WARN {image}: {} checks need attention", failed.len()),
        _ => format!("PASS {image}"),
    };
    let mut summary = format!(
        "{} in {} ({}), digest {}.",
        image, report.image.region, report.image.platform, report.image.digest
    );
    if let Some(who) = &report.image.pushed_by {
        summary.push_str(&format!(" Pushed by {who}."));
    }
    if let Some(w) = &report.waiver {
        summary.push_str(&format!(" WAIVED: {}.", w.describe()));
    }
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

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Checked, stored, notified (or given up on a target) and deleted.
    Checked {
        key: Option<String>,
        outcome: Outcome,
        /// The targets given up.
        undelivered: Vec<FailedDelivery>,
    },
    /// Deleted without a check (another event, or a duplicate).
    Skipped(String),
    /// Deleted without a check: the event is not true of this worker's registry (malformed
    /// fields, another account or region, a repository not configured, a digest or tag ECR
    /// does not have).
    Ignored(String),
    /// Left in the queue (to be received again, then to go to the dead-letter queue).
    Left(String),
}

/// A bounded set of keys, oldest forgotten first.
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

/// A checked image whose notification has not reached every target yet.
#[derive(Debug, Clone)]
pub struct Pending {
    pub report: CheckReport,
    pub state: DeliveryState,
}

/// What the worker remembers between messages: the images finished, and the deliveries in
/// progress (both bounded; with a report bucket, S3 holds the same).
#[derive(Debug, Default)]
pub struct Memory {
    seen: Seen,
    pending: BTreeMap<String, Pending>,
    pending_order: VecDeque<String>,
}

impl Memory {
    const PENDING_LIMIT: usize = 1_000;

    fn keep_pending(&mut self, identity: &str, pending: Pending) {
        if self.pending.insert(identity.to_owned(), pending).is_none() {
            self.pending_order.push_back(identity.to_owned());
            if self.pending_order.len() > Self::PENDING_LIMIT {
                if let Some(old) = self.pending_order.pop_front() {
                    self.pending.remove(&old);
                }
            }
        }
    }

    fn finish(&mut self, identity: &str) {
        if self.pending.remove(identity).is_some() {
            self.pending_order.retain(|k| k != identity);
        }
        self.seen.insert(identity.to_owned());
    }
}

/// The largest delivery state and report read back from the bucket.
const MAX_STATE: usize = 1024 * 1024;
const MAX_REPORT: usize = 16 * 1024 * 1024;

/// Handles one message: validate and confirm the event, check, enforce, store, deliver, then
/// delete.
pub async fn handle(
    clients: &Clients,
    options: &WorkerOptions,
    memory: &mut Memory,
    message: &Message,
    now: u64,
) -> Handled {
    let delete = |done: Handled| async move {
        match clients
            .queue
            .delete(&options.queue_url, &message.receipt_handle)
            .await
        {
            Ok(()) => done,
            Err(e) => Handled::Left(format!("the message could not be deleted: {e}")),
        }
    };
    let claim = match parse_message(&message.body) {
        Parsed::Push(c) => c,
        Parsed::Skip(why) => return delete(Handled::Skipped(why)).await,
        Parsed::Invalid(why) => return Handled::Left(why),
    };
    let scope = Scope {
        region: clients.region.clone(),
        repositories: options.repositories.clone(),
    };
    let event = match event::validate(&claim, &scope) {
        Ok(e) => e,
        Err(why) => return delete(Handled::Ignored(why)).await,
    };
    if options.skip_untagged && event.tag.is_none() {
        return delete(Handled::Skipped(format!(
            "{} was pushed without a tag (check.skip_untagged)",
            event.image()
        )))
        .await;
    }
    let key = match options
        .bucket
        .as_ref()
        .map(|_| report_key(&options.prefix, &event))
        .transpose()
    {
        Ok(k) => k,
        Err(e) => return delete(Handled::Ignored(e.to_string())).await,
    };
    let identity = format!("{}@{}#{}", event.repository, event.digest, event.time);
    if memory.seen.contains(&identity) {
        return delete(Handled::Skipped(format!(
            "a duplicate of {identity}, checked already"
        )))
        .await;
    }
    let stored = options.bucket.as_deref().zip(key.as_deref());
    if let Some((bucket, key)) = stored {
        match clients.reports.exists(bucket, &format!("{key}.done")).await {
            Ok(true) => {
                memory.seen.insert(identity.clone());
                return delete(Handled::Skipped(format!(
                    "a duplicate: s3://{bucket}/{key}.json exists"
                )))
                .await;
            }
            Ok(false) => {}
            Err(e) => return Handled::Left(e.to_string()),
        }
    }
    // A delivery in progress (this message came back): no second check or enforcement.
    let resumed = match memory.pending.get(&identity) {
        Some(p) => Some(p.clone()),
        None => match stored {
            Some((bucket, key)) => match load_pending(clients, bucket, key).await {
                Ok(p) => p,
                Err(e) => return Handled::Left(e.to_string()),
            },
            None => None,
        },
    };
    let Pending {
        mut report,
        mut state,
    } = match resumed {
        Some(p) => p,
        None => match event::confirm(clients.images.as_ref(), &event).await {
            Err(e) => return Handled::Left(e.to_string()),
            Ok(Confirmation::Rejected(why)) => return delete(Handled::Ignored(why)).await,
            Ok(Confirmation::Confirmed) => {
                match check_and_store(clients, options, &event, stored, now).await {
                    Ok(report) => Pending {
                        report,
                        state: DeliveryState::default(),
                    },
                    Err(e) => return Handled::Left(e.to_string()),
                }
            }
        },
    };
    let link = match stored {
        Some((bucket, key)) => match clients
            .reports
            .presign(bucket, &format!("{key}.html"), options.link_expiry)
            .await
        {
            Ok(l) => Some(l),
            Err(e) => return Handled::Left(e.to_string()),
        },
        None => None,
    };
    let notification = report_notification(&report, link);
    let targets = options.targets.wanting(report.outcome);
    let pending = delivery::deliver(
        &notification,
        &targets,
        clients.sns.as_ref(),
        options.retry,
        options.delivery_attempts,
        &mut state,
    )
    .await;
    if let Some((bucket, key)) = stored {
        if let Err(e) = save_state(clients, options, bucket, key, &state).await {
            memory.keep_pending(&identity, Pending { report, state });
            return Handled::Left(e.to_string());
        }
    }
    if !pending.is_empty() {
        let errors: Vec<String> = state
            .targets
            .values()
            .filter(|t| !t.delivered && !t.given_up)
            .map(|t| format!("{}: {}", t.name, t.error.as_deref().unwrap_or("not tried")))
            .collect();
        memory.keep_pending(&identity, Pending { report, state });
        return Handled::Left(format!(
            "not yet delivered to {}; only those are tried when the message comes back",
            errors.join("; ")
        ));
    }
    let undelivered = state.failed();
    if !undelivered.is_empty() {
        report.undelivered = undelivered.clone();
        if let Some((bucket, key)) = stored {
            if let Err(e) = store_report(clients, options, bucket, key, &report).await {
                memory.keep_pending(&identity, Pending { report, state });
                return Handled::Left(e.to_string());
            }
        }
    }
    if let Some((bucket, key)) = stored {
        if let Err(e) = clients
            .reports
            .put(
                bucket,
                &format!("{key}.done"),
                Vec::new(),
                "text/plain",
                &options.encryption,
            )
            .await
        {
            memory.keep_pending(&identity, Pending { report, state });
            return Handled::Left(e.to_string());
        }
    }
    memory.finish(&identity);
    delete(Handled::Checked {
        key,
        outcome: report.outcome,
        undelivered,
    })
    .await
}

/// The delivery in progress of a report in the bucket: its state and the report, or None when
/// there is no state.
async fn load_pending(clients: &Clients, bucket: &str, key: &str) -> Result<Option<Pending>> {
    let Some(raw) = clients
        .reports
        .get(bucket, &format!("{key}.delivery.json"), MAX_STATE)
        .await?
    else {
        return Ok(None);
    };
    let bad = |what: &str, e: serde_json::Error| {
        Error::Internal(format!(
            "s3://{bucket}/{key}.{what} cannot be read back: {e}"
        ))
    };
    let state: DeliveryState = serde_json::from_slice(&raw).map_err(|e| bad("delivery.json", e))?;
    let Some(raw) = clients
        .reports
        .get(bucket, &format!("{key}.json"), MAX_REPORT)
        .await?
    else {
        return Ok(None);
    };
    let report: CheckReport = serde_json::from_slice(&raw).map_err(|e| bad("json", e))?;
    Ok(Some(Pending { report, state }))
}

async fn save_state(
    clients: &Clients,
    options: &WorkerOptions,
    bucket: &str,
    key: &str,
    state: &DeliveryState,
) -> Result<()> {
    let body = serde_json::to_vec_pretty(state).map_err(|e| Error::Internal(e.to_string()))?;
    clients
        .reports
        .put(
            bucket,
            &format!("{key}.delivery.json"),
            body,
            "application/json",
            &options.encryption,
        )
        .await
}

async fn store_report(
    clients: &Clients,
    options: &WorkerOptions,
    bucket: &str,
    key: &str,
    report: &CheckReport,
) -> Result<()> {
    let json = serde_json::to_vec_pretty(report).map_err(|e| Error::Internal(e.to_string()))?;
    let html = (options.html)(report, &options.settings.branding);
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
        .await
}

/// Checks a confirmed image, enforces, and stores the report with an empty delivery state (so
/// that a redelivery resumes the delivery instead of checking again).
async fn check_and_store(
    clients: &Clients,
    options: &WorkerOptions,
    event: &PushEvent,
    stored: Option<(&str, &str)>,
    now: u64,
) -> Result<CheckReport> {
    let image = ImageRef {
        repository: event.repository.clone(),
        reference: event.digest.clone(),
    };
    let mut report = check_image(clients, &image, &options.settings, now).await?;
    report.image.tag = event.tag.clone();
    report.image.pushed_by = Some(event.pushed_by.clone().unwrap_or_else(|| "unknown".into()));
    enforce(clients, &mut report, options.enforce).await?;
    if let Some((bucket, key)) = stored {
        store_report(clients, options, bucket, key, &report).await?;
        save_state(clients, options, bucket, key, &DeliveryState::default()).await?;
    }
    Ok(report)
}

/// Polls the queue until `stop` resolves (or, with `once`, until it is empty); each message
/// is handled in turn and `log` hears what became of it.
pub async fn run(
    clients: &Clients,
    options: &WorkerOptions,
    stop: impl std::future::Future<Output = ()>,
    log: &(dyn Fn(&str) + Sync),
) -> Result<WorkerStats> {
    let mut memory = Memory::default();
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
            let now = crate::time::now();
            let id = escape::line(&m.id, 100);
            match handle(clients, options, &mut memory, m, now).await {
                Handled::Checked {
                    key,
                    outcome,
                    undelivered,
                } => {
                    stats.checked += 1;
                    stats.undelivered += undelivered.len() as u64;
                    let failed: Vec<String> = undelivered
                        .iter()
                        .map(|f| {
                            format!(
                                "; not delivered to {} after {} attempts: {}",
                                f.target, f.attempts, f.error
                            )
                        })
                        .collect();
                    log(&format!(
                        "message {id}: {}{}{}",
                        outcome.as_str(),
                        key.map(|k| format!(", report {k}.html"))
                            .unwrap_or_default(),
                        failed.concat()
                    ));
                }
                Handled::Skipped(why) => {
                    stats.skipped += 1;
                    log(&format!("message {id}: skipped: {why}"));
                }
                Handled::Ignored(why) => {
                    stats.ignored += 1;
                    log(&format!("message {id}: ignored (deleted): {why}"));
                }
                Handled::Left(why) => {
                    stats.left += 1;
                    log(&format!(
                        "message {id} (received {} times) left in the queue: {why}",
                        m.receive_count
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
    /// Events deleted unchecked: not true of this worker's registry.
    pub ignored: u64,
    pub left: u64,
    /// Targets given up (failed deliveries, in the reports).
    pub undelivered: u64,
}

impl WorkerStats {
    /// With `once`, failed when a message was left in the queue or a delivery failed; else ok.
    pub fn verdict(&self, once: bool) -> crate::error::Verdict {
        if once && (self.left > 0 || self.undelivered > 0) {
            crate::error::Verdict::Failed
        } else {
            crate::error::Verdict::Ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::ecr_images::{
        ImageLookup, ImageRecord, Manifest, PutTag, RegistryAuth, StartScan,
    };
    use crate::aws::pipeline::{Queue, ReportStore};
    use crate::notify::WebhookFormat;
    use async_trait::async_trait;
    use std::sync::{Arc, Mutex};

    const DIGEST: &str = "sha256:0d5e2a7b8d0c4c1f3e6b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b";

    fn push(repository: &str, tag: &str, digest: &str) -> String {
        serde_json::json!({
            "version": "0", "id": "e1", "detail-type": "ECR Image Action", "source": "aws.ecr",
            "account": "123456789012", "time": "2026-11-29T10:00:00Z", "region": "us-east-1",
            "resources": [],
            "detail": {"result": "SUCCESS", "repository-name": repository, "image-digest": digest,
                       "action-type": "PUSH", "image-tag": tag},
        })
        .to_string()
    }

    fn claim(repository: &str, tag: &str) -> Claim {
        Claim {
            repository: repository.into(),
            tag: Some(tag.into()),
            digest: DIGEST.into(),
            time: "2026-11-29T10:00:00Z".into(),
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            registry_id: None,
            pushed_by: None,
        }
    }

    #[test]
    fn eventbridge_push_events_are_read() {
        assert_eq!(
            parse_message(&push("team/api", "v1", DIGEST)),
            Parsed::Push(claim("team/api", "v1"))
        );
        let deleted = push("team/api", "v1", DIGEST).replace("\"PUSH\"", "\"DELETE\"");
        assert_eq!(
            parse_message(&deleted),
            Parsed::Skip("an ECR DELETE SUCCESS event".into())
        );
        let failed = push("team/api", "v1", DIGEST).replace("SUCCESS", "FAILURE");
        assert!(matches!(parse_message(&failed), Parsed::Skip(_)));
        // Text from the event is one line in a skip reason too.
        let odd = push("team/api", "v1", DIGEST).replace("\"PUSH\"", "\"X\\nmessage 2: fail\"");
        let Parsed::Skip(why) = parse_message(&odd) else {
            panic!()
        };
        assert!(!why.contains('\n'), "{why}");
    }

    #[test]
    fn sns_envelopes_and_cloudtrail_events() {
        let envelope =
            serde_json::json!({"Type": "Notification", "Message": push("team/api", "v1", DIGEST)})
                .to_string();
        assert!(matches!(parse_message(&envelope), Parsed::Push(_)));
        let trail = format!(
            r#"{{"detail-type":"AWS API Call via CloudTrail","time":"2026-11-29T10:00:01Z","detail":{{"eventSource":"ecr.amazonaws.com","eventName":"PutImage","eventTime":"2026-11-29T10:00:00Z","recipientAccountId":"123456789012","awsRegion":"us-east-1",
          "userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/ci","userName":"ci-bot"}},
          "requestParameters":{{"repositoryName":"team/api","imageTag":"v2","registryId":"123456789012"}},"responseElements":{{"image":{{"repositoryName":"team/api","imageId":{{"imageDigest":"{DIGEST}","imageTag":"v2"}}}}}}}}}}"#
        );
        assert_eq!(
            parse_message(&trail),
            Parsed::Push(Claim {
                registry_id: Some("123456789012".into()),
                pushed_by: Some("ci-bot".into()),
                ..claim("team/api", "v2")
            })
        );
        // An assumed role has no user name: its ARN.
        let role = trail.replace(
            r#""userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/ci","userName":"ci-bot"}"#,
            r#""userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/ci/run-7"}"#,
        );
        let Parsed::Push(c) = parse_message(&role) else {
            panic!()
        };
        assert_eq!(
            c.pushed_by.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/ci/run-7")
        );
        assert!(matches!(parse_message("not json"), Parsed::Invalid(_)));
        assert!(matches!(parse_message("{}"), Parsed::Invalid(_)));
        assert!(matches!(
            parse_message(r#"{"detail-type":"EC2 Instance State-change Notification"}"#),
            Parsed::Skip(_)
        ));
    }

    #[test]
    fn report_keys_are_made_of_the_repository_digest_and_time() {
        let scope = Scope {
            region: "us-east-1".into(),
            repositories: Vec::new(),
        };
        let e = event::validate(&claim("team/api", "v1"), &scope).unwrap();
        assert_eq!(
            report_key("reports/", &e).unwrap(),
            format!(
                "reports/team/api/sha256-{}/20261129T100000Z",
                &DIGEST["sha256:".len()..]
            )
        );
        // The tag is never part of it.
        let other = event::validate(&claim("team/api", "v2"), &scope).unwrap();
        assert_eq!(
            report_key("r/", &e).unwrap(),
            report_key("r/", &other).unwrap()
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

    /// ECR, SQS and S3 for the worker, recording every call.
    #[derive(Default)]
    struct Fake {
        /// DescribeImages answers, by repository.
        images: Mutex<BTreeMap<String, ImageLookup>>,
        /// Repositories whose DescribeImages fails.
        failing: Mutex<BTreeSet<String>>,
        calls: Mutex<Vec<String>>,
        objects: Mutex<BTreeMap<String, Vec<u8>>>,
    }

    impl Fake {
        fn log(&self, call: String) {
            self.calls.lock().unwrap().push(call);
        }
        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl crate::aws::ecr_images::EcrImages for Fake {
        async fn manifest(&self, repo: &str, reference: &str) -> Result<Option<Manifest>> {
            self.log(format!("BatchGetImage {repo} {reference}"));
            Ok(None)
        }
        async fn describe_image(&self, repo: &str, digest: &str) -> Result<ImageLookup> {
            self.log(format!("DescribeImages {repo} {digest}"));
            if self.failing.lock().unwrap().contains(repo) {
                return Err(Error::Aws {
                    operation: "ecr:DescribeImages".into(),
                    message: "ThrottlingException: throttled".into(),
                });
            }
            Ok(self
                .images
                .lock()
                .unwrap()
                .get(repo)
                .cloned()
                .unwrap_or(ImageLookup::NoRepository))
        }
        async fn put_tag(&self, _: &str, _: &Manifest, _: &str) -> Result<PutTag> {
            self.log("PutImage".into());
            Ok(PutTag::Tagged)
        }
        async fn start_scan(&self, _: &str, _: &str) -> Result<StartScan> {
            self.log("StartImageScan".into());
            Ok(StartScan::Started)
        }
        async fn registry_auth(&self) -> Result<RegistryAuth> {
            self.log("GetAuthorizationToken".into());
            Err(Error::Internal("not in this fake".into()))
        }
        async fn delete_image(&self, repo: &str, digest: &str) -> Result<bool> {
            self.log(format!("BatchDeleteImage {repo} {digest}"));
            Ok(true)
        }
    }

    #[async_trait]
    impl Queue for Fake {
        async fn receive(&self, _: &str, _: i32, _: Duration) -> Result<Vec<Message>> {
            Ok(Vec::new())
        }
        async fn delete(&self, _: &str, receipt_handle: &str) -> Result<()> {
            self.log(format!("DeleteMessage {receipt_handle}"));
            Ok(())
        }
    }

    #[async_trait]
    impl ReportStore for Fake {
        async fn exists(&self, _: &str, key: &str) -> Result<bool> {
            Ok(self.objects.lock().unwrap().contains_key(key))
        }
        async fn holds_objects(&self, _: &str) -> Result<bool> {
            Ok(!self.objects.lock().unwrap().is_empty())
        }
        async fn get(&self, _: &str, key: &str, _: usize) -> Result<Option<Vec<u8>>> {
            Ok(self.objects.lock().unwrap().get(key).cloned())
        }
        async fn put(
            &self,
            _: &str,
            key: &str,
            body: Vec<u8>,
            _: &str,
            _: &Encryption,
        ) -> Result<()> {
            self.log(format!("PutObject {key}"));
            self.objects.lock().unwrap().insert(key.into(), body);
            Ok(())
        }
        async fn presign(&self, _: &str, key: &str, _: Duration) -> Result<String> {
            Ok(format!("https://reports.example/{key}?X-Amz-Signature=x"))
        }
    }

    async fn clients(fake: &Arc<Fake>, aws: &Arc<crate::testing::fake_aws::FakeAws>) -> Clients {
        use crate::aws::connect::Connect;
        let connect = crate::testing::fake_aws::FakeConnect(aws.clone());
        let mut c = connect.clients(Some("us-east-1"), None).await.unwrap();
        c.images = fake.clone();
        c.queue = fake.clone();
        c.reports = fake.clone();
        c
    }

    fn options(webhooks: Vec<String>) -> WorkerOptions {
        WorkerOptions {
            queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/q".into(),
            bucket: Some("reports".into()),
            prefix: "reports/".into(),
            encryption: Encryption::S3,
            link_expiry: Duration::from_secs(3600),
            enforce: true,
            targets: CheckTargets {
                sns_topic_arn: Some("arn:aws:sns:us-east-1:123456789012:results".into()),
                sns_on: Vec::new(),
                webhooks: webhooks
                    .into_iter()
                    .map(|u| (u, WebhookFormat::Slack, Vec::new()))
                    .collect(),
            },
            settings: CheckSettings::default(),
            repositories: Vec::new(),
            delivery_attempts: 3,
            skip_untagged: false,
            once: true,
            wait: Duration::from_secs(1),
            retry: webhook::Retry {
                attempts: 1,
                backoff: Duration::from_millis(10),
                timeout: Duration::from_secs(5),
            },
            html: crate::report::check::html,
        }
    }

    fn message(body: &str, receive_count: u32) -> Message {
        Message {
            id: "m1".into(),
            receipt_handle: "rh1".into(),
            body: body.into(),
            receive_count,
        }
    }

    #[tokio::test]
    async fn forged_events_are_ignored_and_nothing_is_checked_or_deleted() {
        let fake = Arc::new(Fake::default());
        let aws = crate::testing::fake_aws::FakeAws::new();
        // team/api exists, with DIGEST tagged v1 only, in account 123456789012.
        fake.images.lock().unwrap().insert(
            "team/api".into(),
            ImageLookup::Found(ImageRecord {
                registry_id: "123456789012".into(),
                digest: DIGEST.into(),
                tags: vec!["v1".into()],
            }),
        );
        fake.images
            .lock()
            .unwrap()
            .insert("team/gone".into(), ImageLookup::NoImage);
        let c = clients(&fake, &aws).await;
        let mut narrow = options(Vec::new());
        narrow.repositories = vec!["team/*".into()];
        let other_account = push("team/api", "v1", DIGEST).replace("123456789012", "999999999999");
        let cases: Vec<(String, &str)> = vec![
            (
                push("team/none", "v1", DIGEST),
                "the registry has no repository `team/none`",
            ),
            (
                push("team/gone", "v1", DIGEST),
                "`team/gone` has no image sha256:",
            ),
            (
                push("team/api", "v9", DIGEST),
                "the tag `v9` is not on team/api@sha256:",
            ),
            (
                push("team/api", "<!channel>", DIGEST),
                "`<!channel>` is not an image tag",
            ),
            (
                push("team/api", "v1\n*bold*", DIGEST),
                "is not an image tag",
            ),
            (
                push("team/<https://evil|x>", "v1", DIGEST),
                "is not a repository name",
            ),
            (
                push("team/api", "v1", "sha256:../../x"),
                "is not an image digest",
            ),
            (
                push("platform/api", "v1", DIGEST),
                "is not one of `check.repositories`",
            ),
            (
                other_account,
                "the event is from account 999999999999; this worker's registry is 123456789012",
            ),
            (
                push("team/api", "v1", DIGEST).replace("us-east-1", "eu-west-1"),
                "region `eu-west-1`",
            ),
        ];
        let mut memory = Memory::default();
        for (body, why) in &cases {
            let handled = handle(&c, &narrow, &mut memory, &message(body, 1), 0).await;
            match handled {
                Handled::Ignored(got) => {
                    assert!(got.contains(why), "{got} (wanted {why})");
                    assert!(!got.contains('\n'), "{got}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        let calls = fake.calls();
        assert_eq!(
            calls
                .iter()
                .filter(|c| c.starts_with("DeleteMessage"))
                .count(),
            cases.len(),
            "every forged event is deleted from the queue: {calls:?}"
        );
        for c in &calls {
            assert!(
                c.starts_with("DeleteMessage") || c.starts_with("DescribeImages"),
                "nothing is checked, stored or deleted from ECR: {c}"
            );
        }
        assert!(aws.published.lock().unwrap().is_empty(), "nothing is sent");
        // Only well-formed events of a configured repository reach ECR.
        assert_eq!(
            calls
                .iter()
                .filter(|c| c.starts_with("DescribeImages"))
                .count(),
            4
        );
        // An ECR error is not a rejection: the message stays, to be tried again.
        fake.failing.lock().unwrap().insert("team/api".into());
        let handled = handle(
            &c,
            &narrow,
            &mut memory,
            &message(&push("team/api", "v1", DIGEST), 1),
            0,
        )
        .await;
        assert!(
            matches!(&handled, Handled::Left(why) if why.contains("throttled")),
            "{handled:?}"
        );
        // Nor is a message that is not an event at all: it is left for the dead-letter queue.
        let handled = handle(&c, &narrow, &mut memory, &message("<!channel>", 1), 0).await;
        assert!(matches!(handled, Handled::Left(_)), "{handled:?}");
    }

    fn stored_report() -> CheckReport {
        CheckReport {
            version: super::super::REPORT_VERSION,
            created_at: 0,
            image: super::super::CheckedImage {
                repository: "team/api".into(),
                tag: Some("v1".into()),
                digest: DIGEST.into(),
                platform: "linux/amd64".into(),
                region: "us-east-1".into(),
                uri: None,
                pushed_by: None,
            },
            outcome: Outcome::Fail,
            checks: Vec::new(),
            facts: Default::default(),
            history: Vec::new(),
            enforcement: None,
            notes: Vec::new(),
            waiver: None,
            undelivered: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_redelivery_resumes_the_delivery_without_checking_again() {
        use std::sync::atomic::Ordering;
        let (good, good_posts) = crate::testing::webhook::counting_hook(200);
        let (dead, dead_posts) = crate::testing::webhook::counting_hook(500);
        let fake = Arc::new(Fake::default());
        let aws = crate::testing::fake_aws::FakeAws::new();
        let c = clients(&fake, &aws).await;
        let opts = options(vec![good, dead]);
        let scope = Scope {
            region: "us-east-1".into(),
            repositories: Vec::new(),
        };
        let key = report_key(
            "reports/",
            &event::validate(&claim("team/api", "v1"), &scope).unwrap(),
        )
        .unwrap();
        // As a first delivery left it: the report stored, nothing delivered yet.
        fake.objects.lock().unwrap().insert(
            format!("{key}.json"),
            serde_json::to_vec(&stored_report()).unwrap(),
        );
        fake.objects
            .lock()
            .unwrap()
            .insert(format!("{key}.delivery.json"), b"{\"targets\":{}}".to_vec());
        let body = push("team/api", "v1", DIGEST);
        for receive in 1..=3 {
            // A fresh worker each time: the state comes from the bucket.
            let mut memory = Memory::default();
            let handled = handle(&c, &opts, &mut memory, &message(&body, receive), 0).await;
            if receive < 3 {
                let Handled::Left(why) = handled else {
                    panic!("{handled:?}")
                };
                assert!(
                    why.contains("not yet delivered to Slack webhook http://127.0.0.1:"),
                    "{why}"
                );
                assert!(why.contains("HTTP 500"), "{why}");
                assert!(!why.contains("secret"), "{why}");
            } else {
                let Handled::Checked {
                    undelivered,
                    outcome,
                    ..
                } = handled
                else {
                    panic!("{handled:?}")
                };
                assert_eq!(outcome, Outcome::Fail);
                assert_eq!(undelivered.len(), 1);
                assert_eq!(undelivered[0].attempts, 3);
            }
        }
        assert_eq!(
            good_posts.load(Ordering::SeqCst),
            1,
            "the working webhook posted once"
        );
        assert_eq!(aws.published.lock().unwrap().len(), 1, "SNS once");
        assert_eq!(dead_posts.load(Ordering::SeqCst), 3);
        let calls = fake.calls();
        assert!(
            !calls.iter().any(|c| c.starts_with("BatchGetImage")
                || c.starts_with("BatchDeleteImage")
                || c.starts_with("DescribeImages")),
            "no second check or enforcement: {calls:?}"
        );
        assert_eq!(
            calls
                .iter()
                .filter(|c| c.starts_with("DeleteMessage"))
                .count(),
            1,
            "finished once given up: {calls:?}"
        );
        // The report names the failed delivery; the marker is written.
        {
            let objects = fake.objects.lock().unwrap();
            let report: CheckReport =
                serde_json::from_slice(&objects[&format!("{key}.json")]).unwrap();
            assert_eq!(report.undelivered.len(), 1);
            assert!(report.undelivered[0]
                .target
                .starts_with("Slack webhook http://127.0.0.1:"));
            let html = String::from_utf8(objects[&format!("{key}.html")].clone()).unwrap();
            assert!(html.contains("not delivered"), "{html}");
            assert!(objects.contains_key(&format!("{key}.done")));
        }
        // A fourth delivery is a duplicate.
        let handled = handle(&c, &opts, &mut Memory::default(), &message(&body, 4), 0).await;
        assert!(matches!(handled, Handled::Skipped(_)), "{handled:?}");
        assert_eq!(good_posts.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn untagged_pushes_are_skipped_with_their_reason_when_asked() {
        let fake = Arc::new(Fake::default());
        let aws = crate::testing::fake_aws::FakeAws::new();
        let c = clients(&fake, &aws).await;
        let mut untagged: Value = serde_json::from_str(&push("team/api", "v1", DIGEST)).unwrap();
        untagged["detail"]
            .as_object_mut()
            .unwrap()
            .remove("image-tag");
        let body = untagged.to_string();
        let mut opts = options(Vec::new());
        opts.skip_untagged = true;
        let handled = handle(&c, &opts, &mut Memory::default(), &message(&body, 1), 0).await;
        assert_eq!(
            handled,
            Handled::Skipped(format!(
                "team/api@{DIGEST} was pushed without a tag (check.skip_untagged)"
            ))
        );
        assert_eq!(
            fake.calls(),
            ["DeleteMessage rh1"],
            "nothing is read or checked"
        );
        // A tagged push is not skipped; nor is an untagged one without the setting.
        for (body, skip) in [(push("team/api", "v1", DIGEST), true), (body, false)] {
            opts.skip_untagged = skip;
            let handled = handle(&c, &opts, &mut Memory::default(), &message(&body, 1), 0).await;
            assert!(
                matches!(&handled, Handled::Ignored(why) if why.contains("no repository")),
                "{handled:?}"
            );
        }
    }

    #[test]
    fn only_a_once_run_that_left_work_fails() {
        use crate::error::Verdict;
        let clean = WorkerStats {
            checked: 2,
            ..WorkerStats::default()
        };
        assert_eq!(clean.verdict(true), Verdict::Ok);
        let left = WorkerStats { left: 1, ..clean };
        let undelivered = WorkerStats {
            undelivered: 1,
            ..clean
        };
        assert_eq!(left.verdict(true), Verdict::Failed);
        assert_eq!(undelivered.verdict(true), Verdict::Failed);
        // A worker that runs until stopped leaves the queue to the next one.
        assert_eq!(left.verdict(false), Verdict::Ok);
    }
}
