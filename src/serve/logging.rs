//! The log of `little serve` (and of the image-check worker, which shares it): one line per
//! event on stderr, at or above the chosen level, as text (`<time> <message>`, the time in
//! RFC 3339 UTC) or as JSON (one object per line: `timestamp`, `level`, `message` and
//! `fields`, the event's values by name). Which level and format is set once at start
//! ([`configure`]); writing never panics, so a server whose stderr is gone goes on serving.
//! Which flag or variable chooses them is [`super::settings`]'.

use std::sync::atomic::{AtomicU8, Ordering};

use serde_json::{json, Map, Value};

use crate::time::{now, rfc3339_utc};

/// How much is logged: events at this level and above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }

    fn from_u8(n: u8) -> Level {
        match n {
            0 => Level::Debug,
            1 => Level::Info,
            2 => Level::Warning,
            _ => Level::Error,
        }
    }
}

impl std::str::FromStr for Level {
    type Err = String;

    /// The names of Python's `logging` levels, which ecr_exporter's `LOG_LEVEL` takes, in
    /// any case (`critical` and `fatal` log errors, as `error` does; `notset` and `trace`
    /// everything, as `debug` does).
    fn from_str(text: &str) -> Result<Level, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "debug" | "notset" | "trace" => Ok(Level::Debug),
            "info" => Ok(Level::Info),
            "warning" | "warn" => Ok(Level::Warning),
            "error" | "critical" | "fatal" => Ok(Level::Error),
            _ => Err(format!(
                "`{text}` is not a log level; use debug, info, warning or error"
            )),
        }
    }
}

/// How a log line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `<time> <message>`.
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Format, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            _ => Err(format!("`{text}` is not a log format; use text or json")),
        }
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static JSON: AtomicU8 = AtomicU8::new(0);

/// Sets the level and the format of every log line from now on.
pub fn configure(level: Level, format: Format) {
    LEVEL.store(level as u8, Ordering::Relaxed);
    JSON.store(u8::from(format == Format::Json), Ordering::Relaxed);
}

/// Whether an event at `level` is written.
pub fn enabled(level: Level) -> bool {
    level >= Level::from_u8(LEVEL.load(Ordering::Relaxed))
}

/// Writes one event, if its level is enabled.
pub fn event(level: Level, message: &str, fields: &[(&str, Value)]) {
    if !enabled(level) {
        return;
    }
    let format = if JSON.load(Ordering::Relaxed) == 1 {
        Format::Json
    } else {
        Format::Text
    };
    let line = line(format, &rfc3339_utc(now()), level, message, fields);
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// One log line, without its newline. In text, the message says it all (the fields repeat
/// what it says); in JSON, a newline in the message is escaped, so a line is an event.
pub fn line(
    format: Format,
    timestamp: &str,
    level: Level,
    message: &str,
    fields: &[(&str, Value)],
) -> String {
    match format {
        Format::Text => format!("{timestamp} {message}"),
        Format::Json => {
            let fields: Map<String, Value> = fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            json!({
                "timestamp": timestamp,
                "level": level.as_str(),
                "message": message,
                "fields": fields,
            })
            .to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_take_python_s_names_in_any_case() {
        for (text, level) in [
            ("DEBUG", Level::Debug),
            ("NOTSET", Level::Debug),
            ("trace", Level::Debug),
            ("info", Level::Info),
            ("Warning", Level::Warning),
            ("WARN", Level::Warning),
            ("ERROR", Level::Error),
            ("CRITICAL", Level::Error),
            (" fatal ", Level::Error),
        ] {
            assert_eq!(text.parse::<Level>(), Ok(level), "{text}");
        }
        let e = "loud".parse::<Level>().unwrap_err();
        assert!(e.contains("`loud` is not a log level"), "{e}");
        assert_eq!("JSON".parse::<Format>(), Ok(Format::Json));
        assert_eq!("text".parse::<Format>(), Ok(Format::Text));
        assert!("xml"
            .parse::<Format>()
            .unwrap_err()
            .contains("text or json"));
        assert!(Level::Error > Level::Warning && Level::Info > Level::Debug);
    }

    #[test]
    fn a_json_line_is_one_object_with_its_fields() {
        let text = line(
            Format::Json,
            "2026-12-02T21:00:00Z",
            Level::Warning,
            "two\nlines \"quoted\"",
            &[("run", json!(3)), ("errors", json!(["a", "b"]))],
        );
        assert!(!text.contains('\n'), "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            json!({
                "timestamp": "2026-12-02T21:00:00Z",
                "level": "warning",
                "message": "two\nlines \"quoted\"",
                "fields": {"run": 3, "errors": ["a", "b"]},
            })
        );
        let empty: Value =
            serde_json::from_str(&line(Format::Json, "t", Level::Info, "m", &[])).unwrap();
        assert_eq!(empty["fields"], json!({}));
        assert_eq!(
            line(Format::Text, "t", Level::Error, "m", &[("x", json!(1))]),
            "t m"
        );
    }
}
