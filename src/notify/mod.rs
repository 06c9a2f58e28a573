//! Notifications: one [`Notification`] (a title, an outcome, a summary and an item per
//! resource) rendered as an SNS message, a Slack message, a Microsoft Teams Adaptive Card or
//! plain JSON, and sent to the targets of `little.yaml`. The audit builds its notification in
//! `audit::notify`; the formats and the sending are shared.

pub mod delivery;
pub mod escape;
pub mod webhook;

use serde::Serialize;
use serde_json::{json, Value};

use crate::aws::sns::Publish;
use crate::error::{Error, Result};

/// How a notification's news is: it colours the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

impl Outcome {
    fn slack_colour(self) -> &'static str {
        match self {
            Outcome::Pass => "#2eb67d",
            Outcome::Warn => "#ecb22e",
            Outcome::Fail => "#e01e5a",
        }
    }

    fn teams_colour(self) -> &'static str {
        match self {
            Outcome::Pass => "Good",
            Outcome::Warn => "Warning",
            Outcome::Fail => "Attention",
        }
    }
}

/// One resource in a notification: a title (the repository), facts (registry, region,
/// remediated) and lines (its findings).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub title: String,
    pub facts: Vec<(String, String)>,
    pub lines: Vec<String>,
}

/// What is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    /// `little audit`, `little check`.
    pub source: String,
    pub title: String,
    pub outcome: Outcome,
    pub summary: String,
    pub items: Vec<Item>,
    /// A report to open, when there is one.
    pub link: Option<String>,
}

/// Chat messages show at most this many items; the rest are counted.
pub const MAX_ITEMS: usize = 20;

/// The longest value in a plain-text message, in characters.
const TEXT_LIMIT: usize = 4000;

impl Notification {
    /// The plain-text body (SNS e-mail and SMS subscribers read this). Every value is one
    /// line ([`escape::line`]), so none can add a line of its own (a fake `Report:` link).
    pub fn text(&self) -> String {
        let l = |s: &str| escape::line(s, TEXT_LIMIT);
        let mut out = format!("{}\n\n{}\n", l(&self.title), l(&self.summary));
        for item in &self.items {
            out.push_str(&format!("\n{}\n", l(&item.title)));
            for (k, v) in &item.facts {
                out.push_str(&format!("  {}: {}\n", l(k), l(v)));
            }
            for line in &item.lines {
                out.push_str(&format!("  - {}\n", l(line)));
            }
        }
        if let Some(link) = &self.link {
            out.push_str(&format!("\nReport: {}\n", l(link)));
        }
        out.push_str(&format!("\n-- {}\n", l(&self.source)));
        out
    }

    /// A Slack incoming-webhook message: a coloured attachment of Block Kit sections. Every
    /// text is [`escape::slack`]d and in a `plain_text` object (no mentions, links or
    /// formatting come from it); the only mrkdwn is the report link the tool writes.
    pub fn slack(&self) -> Value {
        let plain = |s: &str, max: usize| json!({"type": "plain_text", "text": escape::slack_clipped(s, max), "emoji": false});
        let mut blocks = vec![
            json!({"type": "header", "text": plain(&self.title, 150)}),
            json!({"type": "section", "text": plain(&self.summary, 3000)}),
        ];
        for item in self.items.iter().take(MAX_ITEMS) {
            let mut text = item.title.clone();
            let facts: Vec<String> = item
                .facts
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            if !facts.is_empty() {
                text.push_str(&format!("\n{}", facts.join(" · ")));
            }
            for line in &item.lines {
                text.push_str(&format!("\n• {line}"));
            }
            blocks.push(json!({"type": "section", "text": plain(&text, 3000)}));
        }
        if self.items.len() > MAX_ITEMS {
            blocks.push(json!({"type": "context", "elements": [plain(&format!("and {} more", self.items.len() - MAX_ITEMS), 3000)]}));
        }
        if let Some(link) = &self.link {
            // A `|` would end the link's address early.
            let address = escape::slack(&link.replace('|', "%7C"));
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("<{address}|Open the report>"), "verbatim": true}}));
        }
        blocks.push(json!({"type": "context", "elements": [plain(&self.source, 3000)]}));
        json!({
            "text": escape::slack_clipped(&self.title, 3000),
            "mrkdwn": false,
            "attachments": [{"color": self.outcome.slack_colour(), "blocks": blocks}],
        })
    }

    /// A Microsoft Teams workflow-webhook message: an Adaptive Card. Every text is
    /// [`escape::teams`]d (its markdown is not applied, it cannot start a line).
    pub fn teams(&self) -> Value {
        let t = escape::teams;
        let mut body = vec![
            json!({"type": "TextBlock", "text": t(&self.title), "weight": "Bolder", "size": "Medium", "color": self.outcome.teams_colour(), "wrap": true}),
            json!({"type": "TextBlock", "text": t(&self.summary), "wrap": true}),
        ];
        for item in self.items.iter().take(MAX_ITEMS) {
            body.push(json!({"type": "TextBlock", "text": t(&item.title), "weight": "Bolder", "wrap": true, "separator": true}));
            if !item.facts.is_empty() {
                let facts: Vec<Value> = item
                    .facts
                    .iter()
                    .map(|(k, v)| json!({"title": t(k), "value": t(v)}))
                    .collect();
                body.push(json!({"type": "FactSet", "facts": facts}));
            }
            if !item.lines.is_empty() {
                let text: Vec<String> = item.lines.iter().map(|l| format!("- {}", t(l))).collect();
                body.push(json!({"type": "TextBlock", "text": text.join("\n"), "wrap": true, "spacing": "Small"}));
            }
        }
        if self.items.len() > MAX_ITEMS {
            body.push(json!({"type": "TextBlock", "text": format!("and {} more", self.items.len() - MAX_ITEMS), "isSubtle": true}));
        }
        let mut card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "msteams": {"width": "Full"},
            "body": body,
        });
        if let Some(link) = &self.link {
            card["actions"] =
                json!([{"type": "Action.OpenUrl", "title": "Open the report", "url": link}]);
        }
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card,
            }],
        })
    }

    /// The message for a webhook of `format`.
    pub fn webhook_body(&self, format: WebhookFormat) -> Value {
        match format {
            WebhookFormat::Slack => self.slack(),
            WebhookFormat::Teams => self.teams(),
            WebhookFormat::Json => serde_json::to_value(self).unwrap_or(Value::Null),
        }
    }
}

/// Where notifications go, with every webhook URL resolved.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    pub sns_topic_arn: Option<String>,
    pub webhooks: Vec<(String, WebhookFormat)>,
}

/// How a webhook wants its message (little.yaml's `format:` of a webhook).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// A Slack incoming webhook message (Block Kit, with a coloured attachment).
    #[default]
    Slack,
    /// A Microsoft Teams workflow webhook message (an Adaptive Card).
    Teams,
    /// The notification itself as JSON, for your own receivers.
    Json,
}

/// A webhook's URL from `url` or the environment variable `url_env` names; `field` names the
/// setting in errors.
pub fn webhook_url(url: Option<&str>, url_env: Option<&str>, field: &str) -> Result<String> {
    match (url, url_env) {
        (Some(u), None) => Ok(u.to_owned()),
        (None, Some(var)) => std::env::var(var)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                Error::Usage(format!("`{field}.url_env` names `{var}`, which is not set"))
            }),
        _ => Err(Error::Usage(format!(
            "`{field}` needs one of `url` and `url_env`"
        ))),
    }
}

/// Sends the notification to every target; every target is tried, and the failures are
/// returned together. Returns what was sent, a line per target.
pub async fn send(
    notification: &Notification,
    targets: &Targets,
    sns: Option<&dyn Publish>,
    retry: webhook::Retry,
) -> Result<Vec<String>> {
    let mut sent = Vec::new();
    let mut failures = Vec::new();
    if let Some(topic) = &targets.sns_topic_arn {
        match sns {
            Some(sns) => match sns
                .publish(topic, &notification.title, &notification.text())
                .await
            {
                Ok(id) => sent.push(format!("SNS topic {topic} (message {id})")),
                Err(e) => failures.push(e.to_string()),
            },
            None => failures.push("no SNS client".into()),
        }
    }
    for (url, format) in &targets.webhooks {
        match webhook::post_json(url, &notification.webhook_body(*format), retry).await {
            Ok(()) => sent.push(format!("webhook {}", webhook::redacted(url))),
            Err(e) => failures.push(e.to_string()),
        }
    }
    if failures.is_empty() {
        Ok(sent)
    } else {
        Err(Error::Notify(failures.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(items: usize) -> Notification {
        Notification {
            source: "little audit".into(),
            title: "2 non-compliant repositories".into(),
            outcome: Outcome::Fail,
            summary: "Registry 123456789012 in eu-west-1.".into(),
            items: (0..items)
                .map(|i| Item {
                    title: format!("team/app-{i}"),
                    facts: vec![("remediated".into(), "no".into())],
                    lines: vec!["HIGH ecr.tag-immutability: tags <are> mutable".into()],
                })
                .collect(),
            link: Some("https://example.com/r".into()),
        }
    }

    #[test]
    fn slack_message_is_coloured_escaped_and_bounded() {
        let v = sample(25).slack();
        assert_eq!(v["text"], "2 non-compliant repositories");
        assert_eq!(v["mrkdwn"], false);
        let attachment = &v["attachments"][0];
        assert_eq!(attachment["color"], "#e01e5a");
        let blocks = attachment["blocks"].as_array().unwrap();
        // header, summary, 20 items, "and 5 more", link, source
        assert_eq!(blocks.len(), 2 + MAX_ITEMS + 3);
        assert_eq!(blocks[2]["text"]["type"], "plain_text");
        let item = blocks[2]["text"]["text"].as_str().unwrap();
        assert!(
            item.starts_with("team/app-0\nremediated: no\n• HIGH"),
            "{item}"
        );
        assert!(item.contains("&lt;are&gt;"));
        assert_eq!(blocks[22]["elements"][0]["text"], "and 5 more");
        assert_eq!(blocks[23]["text"]["type"], "mrkdwn");
        assert_eq!(
            blocks[23]["text"]["text"],
            "<https://example.com/r|Open the report>"
        );
    }

    /// A notification whose every text is hostile.
    fn hostile() -> Notification {
        let evil =
            "<!channel> <https://evil.example|click> [x](javascript:alert(1)) *bold*\n- fake & co";
        Notification {
            source: evil.into(),
            title: evil.into(),
            outcome: Outcome::Fail,
            summary: evil.into(),
            items: vec![Item {
                title: evil.into(),
                facts: vec![(evil.into(), evil.into())],
                lines: vec![evil.into(), "../../etc/passwd".into()],
            }],
            link: Some("https://reports.example/r?X-Amz-Signature=1&b=2|<x>".into()),
        }
    }

    /// Every string in a JSON value, with the path to it.
    fn strings(v: &Value, path: String, out: &mut Vec<(String, String)>) {
        match v {
            Value::String(s) => out.push((path, s.clone())),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, x)| strings(x, format!("{path}/{i}"), out)),
            Value::Object(o) => o
                .iter()
                .for_each(|(k, x)| strings(x, format!("{path}/{k}"), out)),
            _ => {}
        }
    }

    #[test]
    fn hostile_text_makes_no_slack_mention_link_or_formatting() {
        let v = hostile().slack();
        let mut all = Vec::new();
        strings(&v, String::new(), &mut all);
        for (path, s) in &all {
            if path.ends_with("/text") && !s.starts_with("<https://reports.example/") {
                assert!(!s.contains(['<', '>']), "{path}: {s}");
                assert!(s.contains("&lt;!channel&gt;"), "{path}: {s}");
                assert!(s.contains("&amp; co"), "{path}: {s}");
            }
        }
        // mrkdwn (where `*bold*` would apply) holds only the tool's own link.
        let mrkdwn: Vec<&Value> = v["attachments"][0]["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["text"]["type"] == "mrkdwn")
            .collect();
        assert_eq!(mrkdwn.len(), 1);
        assert_eq!(
            mrkdwn[0]["text"]["text"],
            "<https://reports.example/r?X-Amz-Signature=1&amp;b=2%7C&lt;x&gt;|Open the report>"
        );
        assert_eq!(mrkdwn[0]["text"]["verbatim"], true);
        assert_eq!(v["mrkdwn"], false, "the fallback text is not mrkdwn");
    }

    #[test]
    fn hostile_text_makes_no_teams_link_emphasis_or_line() {
        let v = hostile().teams();
        let card = &v["attachments"][0]["content"];
        let mut all = Vec::new();
        strings(&card["body"], String::new(), &mut all);
        for (path, s) in &all {
            if !(path.ends_with("/text") || path.ends_with("/title") || path.ends_with("/value")) {
                continue;
            }
            assert!(!s.contains("](javascript"), "{path}: {s}");
            assert!(
                s.contains("\\]\\(javascript:alert\\(1\\)\\)"),
                "{path}: {s}"
            );
            assert!(s.contains("\\*bold\\*"), "{path}: {s}");
            assert!(s.contains("\\<\\!channel\\>"), "{path}: {s}");
            // The hostile newline did not start a list item: the only line breaks are the
            // tool's own, each followed by its `- `.
            for l in s.split('\n').skip(1) {
                assert!(l.starts_with("- "), "{path}: {s}");
                assert!(!l[2..].starts_with("- "), "{path}: {s}");
            }
        }
    }

    #[test]
    fn hostile_text_stays_on_its_line_in_plain_text() {
        let t = hostile().text();
        assert!(!t.contains("\n- fake"), "{t}");
        assert!(t.contains("*bold*\\n- fake & co"), "{t}");
        assert_eq!(t.lines().filter(|l| l.starts_with("Report: ")).count(), 1);
    }

    #[test]
    fn teams_message_is_an_adaptive_card() {
        let v = sample(1).teams();
        assert_eq!(v["type"], "message");
        let a = &v["attachments"][0];
        assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
        let card = &a["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["body"][0]["color"], "Attention");
        assert_eq!(card["body"][3]["facts"][0]["title"], "remediated");
        assert_eq!(card["actions"][0]["url"], "https://example.com/r");
    }

    #[test]
    fn text_lists_items_facts_and_lines() {
        let t = sample(1).text();
        assert!(
            t.starts_with("2 non-compliant repositories\n\nRegistry 123456789012 in eu-west-1.\n")
        );
        assert!(t.contains("\nteam/app-0\n  remediated: no\n  - HIGH ecr.tag-immutability"));
        assert!(t.contains("Report: https://example.com/r"));
    }
}
