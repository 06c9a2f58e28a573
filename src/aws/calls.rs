//! Counting AWS API calls per operation: an SDK interceptor on every client the project builds
//! records each request it sends (first attempts and retries apart) in a process-wide table.
//! `-v` prints the table after a command; `little serve` exports it as
//! `little_aws_api_calls_total{operation}`. Throttled responses are counted per service
//! ([`throttles`]), for the fan-outs that back off on them.

use std::collections::BTreeMap;
use std::sync::Mutex;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The requests sent for one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCount {
    /// Operations started (first attempts).
    pub calls: u64,
    /// Further attempts after a throttling or transient error.
    pub retries: u64,
}

/// `service:Operation` (such as `ecr:DescribeRepositories`) to its counts.
pub type CallTable = BTreeMap<String, CallCount>;

static CALLS: Mutex<CallTable> = Mutex::new(BTreeMap::new());

/// Throttled responses per service (`cloudformation`, `ecr`): what adaptive fan-outs back off
/// on (see [`crate::parallel::AdaptiveLimit`]).
static THROTTLES: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// The throttled responses of a service so far (`cloudformation`, `ecr`, ...).
pub fn throttles(service: &str) -> u64 {
    THROTTLES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(service)
        .copied()
        .unwrap_or(0)
}

/// Every service's throttled responses so far.
pub fn all_throttles() -> BTreeMap<String, u64> {
    THROTTLES.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Records a throttled response of `service`.
pub fn record_throttle(service: &str) {
    *THROTTLES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(service.to_owned())
        .or_default() += 1;
}

/// Whether an error response says the caller was throttled (`Throttling`,
/// `ThrottlingException`, `TooManyRequestsException`, `Rate exceeded`, HTTP 429).
pub fn is_throttling(status: u16, body: &[u8]) -> bool {
    if status == 429 {
        return true;
    }
    if status != 400 && status != 503 {
        return false;
    }
    let text = String::from_utf8_lossy(body);
    is_throttling_message(&text)
}

/// Whether an error's text names throttling.
pub fn is_throttling_message(text: &str) -> bool {
    crate::error::is_throttling_text(text)
}

/// Records one request; `attempt` counts from 1.
pub fn record(operation: &str, attempt: u32) {
    let mut table = CALLS.lock().unwrap_or_else(|p| p.into_inner());
    let count = table.entry(operation.to_owned()).or_default();
    if attempt > 1 {
        count.retries += 1;
    } else {
        count.calls += 1;
    }
}

/// The counts so far.
pub fn snapshot() -> CallTable {
    CALLS.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// `ecr:DescribeRepositories` from the SDK's service and operation names.
pub fn operation_name(service: &str, operation: &str) -> String {
    let service = match service.to_ascii_lowercase().as_str() {
        "cloudformation" => "cloudformation".to_owned(),
        s => s.replace(' ', ""),
    };
    format!("{service}:{operation}")
}

/// The interceptor added to every SDK client (see [`crate::aws::sdk_client`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct CallCounter;

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "little-stack call counter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            let attempt = cfg
                .load::<RequestAttempts>()
                .map(|a| a.attempts())
                .unwrap_or(1);
            record(&operation_name(meta.service(), meta.name()), attempt);
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(meta), Some(response)) = (cfg.load::<Metadata>(), context.response()) {
            let body = response.body().bytes().unwrap_or_default();
            if is_throttling(response.status().as_u16(), body) {
                let op = operation_name(meta.service(), meta.name());
                let service = op.split(':').next().unwrap_or_default();
                record_throttle(service);
            }
        }
        Ok(())
    }
}

/// The table as text for `-v`: one line per operation, the busiest first, and a total.
pub fn format_table(table: &CallTable) -> String {
    if table.is_empty() {
        return "AWS API calls: none\n".into();
    }
    let mut rows: Vec<(&String, &CallCount)> = table.iter().collect();
    rows.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then(a.0.cmp(b.0)));
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::from("AWS API calls:\n");
    let (mut calls, mut retries) = (0, 0);
    for (op, c) in rows {
        calls += c.calls;
        retries += c.retries;
        out.push_str(&format!("  {op:<width$}  {:>6}", c.calls));
        if c.retries > 0 {
            out.push_str(&format!("  ({} retried)", c.retries));
        }
        out.push('\n');
    }
    out.push_str(&format!("  {:<width$}  {calls:>6}", "total"));
    if retries > 0 {
        out.push_str(&format!("  ({retries} retried)"));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_busiest_first_with_retries() {
        let mut t = CallTable::new();
        t.insert(
            "ecr:DescribeImages".into(),
            CallCount {
                calls: 12,
                retries: 2,
            },
        );
        t.insert(
            "ecr:DescribeRepositories".into(),
            CallCount {
                calls: 1,
                retries: 0,
            },
        );
        let text = format_table(&t);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "AWS API calls:");
        assert!(lines[1].contains("ecr:DescribeImages") && lines[1].ends_with("12  (2 retried)"));
        assert!(lines[2].contains("ecr:DescribeRepositories") && lines[2].ends_with(" 1"));
        assert!(lines[3].contains("total") && lines[3].ends_with("13  (2 retried)"));
    }

    #[test]
    fn throttling_responses_are_recognised() {
        assert!(is_throttling(
            400,
            b"<Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
        ));
        assert!(is_throttling(400, br#"{"__type":"ThrottlingException"}"#));
        assert!(is_throttling(429, b""));
        assert!(!is_throttling(400, b"<Code>ValidationError</Code>"));
        assert!(!is_throttling(200, b"Throttling"));
        record_throttle("test-service");
        assert_eq!(throttles("test-service"), 1);
    }

    #[test]
    fn operation_names_are_lowercase_service_colon_operation() {
        assert_eq!(
            operation_name("ECR", "DescribeImages"),
            "ecr:DescribeImages"
        );
        assert_eq!(
            operation_name("CloudFormation", "DescribeStacks"),
            "cloudformation:DescribeStacks"
        );
    }
}
