//! Publishing to an SNS topic: [`Publish`] and its SDK adapter, for notifications.

use async_trait::async_trait;

use super::sdk_error;
use crate::error::Result;

/// SNS's limit on a message subject.
pub const SUBJECT_LIMIT: usize = 100;

#[async_trait]
pub trait Publish: Send + Sync {
    /// Publishes `message` with `subject` to the topic; returns the message id.
    async fn publish(&self, topic_arn: &str, subject: &str, message: &str) -> Result<String>;
}

/// [`Publish`] through the SDK's SNS client.
pub struct SnsClient {
    client: aws_sdk_sns::Client,
}

impl SnsClient {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        SnsClient {
            client: super::sdk_client!(aws_sdk_sns, config),
        }
    }
}

#[async_trait]
impl Publish for SnsClient {
    async fn publish(&self, topic_arn: &str, subject: &str, message: &str) -> Result<String> {
        let out = self
            .client
            .publish()
            .topic_arn(topic_arn)
            .subject(subject_line(subject))
            .message(message)
            .send()
            .await
            .map_err(|e| sdk_error("sns:Publish", e))?;
        Ok(out.message_id().unwrap_or_default().to_owned())
    }
}

/// A subject SNS accepts: one line of printable ASCII, at most [`SUBJECT_LIMIT`] characters
/// (SNS refuses others).
pub fn subject_line(subject: &str) -> String {
    let mut s: String = subject
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .collect();
    if s.len() > SUBJECT_LIMIT {
        s.truncate(SUBJECT_LIMIT - 3);
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_one_short_ascii_line() {
        assert_eq!(subject_line("a\nb — c"), "a b   c");
        let long = subject_line(&"x".repeat(150));
        assert_eq!(long.len(), SUBJECT_LIMIT);
        assert!(long.ends_with("..."));
    }
}
