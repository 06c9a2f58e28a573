//! The one redactor of `little check`. Every string that comes from an image (its
//! environment, labels, user, build history, platform, and what its files say) passes through
//! [`Redactor`] before it reaches any output: [`Redactor::report`] is applied to each report
//! before it is returned, so the terminal summary, the JSON and HTML reports, the copies the
//! worker stores in S3, the notifications and the logs only ever see the redacted form.
//!
//! A secret is replaced by its kind and length, `[redacted GitHub token, 40 characters]`: no
//! prefix or suffix of it is shown. Secrets are found by their form (AWS key ids, private
//! keys, GitHub, GitLab, Slack, Stripe and Google tokens, JSON web tokens, passwords in URLs,
//! and `check.checks.secrets.patterns`) and by their name (`NAME=value` where the name says
//! PASSWORD, SECRET, TOKEN, API_KEY, ...). The secrets check uses the same patterns to report
//! them; `check.checks.secrets.allow` exempts names from both, but a value of a known token
//! form is redacted whatever its name. Redacting is idempotent: a redacted form is left alone.

use regex_lite::{Captures, Regex};

use super::facts::{Facts, HistoryStep, OsInfo};
use super::rules::{CheckResult, SecretsCheck};
use super::{CheckReport, CheckedImage, Enforcement};
use crate::error::Error;

/// What a secret looks like: `an` + `AWS access key id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretKind {
    pub article: &'static str,
    pub kind: &'static str,
}

impl SecretKind {
    /// `an AWS access key id`.
    pub fn described(self) -> String {
        format!("{} {}", self.article, self.kind)
    }
}

const SECRET: SecretKind = SecretKind {
    article: "a",
    kind: "secret",
};
const CONFIGURED: SecretKind = SecretKind {
    article: "a",
    kind: "configured secret pattern",
};

struct Pattern {
    re: Regex,
    what: SecretKind,
}

/// Finds and redacts secrets; built once per check from `check.checks.secrets`.
pub struct Redactor {
    values: Vec<Pattern>,
    extra: Vec<Regex>,
    /// A name that says its value is secret.
    name: Regex,
    /// `NAME=value` in free text, with such a name.
    assignment: Regex,
    /// A redacted form, left alone when met again.
    redacted: Regex,
    /// `scheme://userinfo@` in a URL.
    userinfo: Regex,
    allow: Vec<String>,
}

/// The redacted form of `secret`: its kind and length, nothing of its text.
pub fn form(kind: SecretKind, secret: &str) -> String {
    format!(
        "[redacted {}, {} characters]",
        kind.kind,
        secret.chars().count()
    )
}

impl Redactor {
    pub fn new(secrets: &SecretsCheck) -> std::result::Result<Redactor, String> {
        let p = |re: &str| Regex::new(re).map_err(|e| e.to_string());
        let kind = |article, kind| SecretKind { article, kind };
        let pattern = |re: &str, what| -> std::result::Result<Pattern, String> {
            Ok(Pattern { re: p(re)?, what })
        };
        Ok(Redactor {
            values: vec![
                pattern(
                    r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b",
                    kind("an", "AWS access key id"),
                )?,
                // The whole key: from its first line to its last (or to the end of the text).
                pattern(
                    r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|\z)",
                    kind("a", "private key"),
                )?,
                pattern(r"\bgh[pousr]_[A-Za-z0-9]{36,}", kind("a", "GitHub token"))?,
                pattern(r"\bgithub_pat_[A-Za-z0-9_]{22,}", kind("a", "GitHub token"))?,
                pattern(r"\bglpat-[A-Za-z0-9_-]{20,}", kind("a", "GitLab token"))?,
                pattern(r"\bxox[abposr]-[A-Za-z0-9-]{10,}", kind("a", "Slack token"))?,
                pattern(r"\bsk_live_[A-Za-z0-9]{20,}", kind("a", "Stripe key"))?,
                pattern(r"\bAIza[0-9A-Za-z_-]{35}", kind("a", "Google API key"))?,
                pattern(
                    r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
                    kind("a", "JSON web token"),
                )?,
                pattern(
                    r"\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:(?P<s>[^/\s@]+)@",
                    kind("a", "password in a URL"),
                )?,
            ],
            extra: secrets
                .patterns
                .iter()
                .map(|e| p(e))
                .collect::<std::result::Result<_, _>>()?,
            name: p(r"(?i)(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)")?,
            assignment: p(
                r#"(?i)\b(?P<name>[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)[A-Z0-9_]*)=(?P<s>"[^"\n]*"|'[^'\n]*'|[^\s$"'\[]\S*)"#,
            )?,
            redacted: p(r"\[redacted [A-Za-z ]{1,40}, [0-9]{1,12} characters\]")?,
            userinfo: p(r"\b(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<u>[^/\s@]+)@")?,
            allow: secrets.allow.clone(),
        })
    }

    /// Whether `check.checks.secrets.allow` names `name`.
    pub fn allowed(&self, name: &str) -> bool {
        self.allow.iter().any(|a| a == name)
    }

    /// Whether a variable of this name holds a secret (and is not allowed, nor a path to one:
    /// `*_FILE`, `*_PATH`).
    pub fn secret_name(&self, name: &str) -> bool {
        self.name.is_match(name)
            && !name.ends_with("_FILE")
            && !name.ends_with("_PATH")
            && !self.allowed(name)
    }

    /// What `value` looks like, if it holds a secret of a known form or of a configured pattern.
    pub fn kind_of(&self, value: &str) -> Option<SecretKind> {
        self.values
            .iter()
            .find(|p| p.re.is_match(value))
            .map(|p| p.what)
            .or_else(|| {
                self.extra
                    .iter()
                    .any(|re| re.is_match(value))
                    .then_some(CONFIGURED)
            })
    }

    /// The first secret of a known form in `text`: its kind and redacted form.
    pub fn first_secret(&self, text: &str) -> Option<(SecretKind, String)> {
        self.spans(text).into_iter().find_map(|(start, end, kind)| {
            (kind != SECRET).then(|| (kind, form(kind, &text[start..end])))
        })
    }

    /// The first `NAME=value` assignment of a secret-looking name in `text` (a build step):
    /// the name and the redacted value.
    pub fn first_assignment(&self, text: &str) -> Option<(String, String)> {
        self.assignment.captures_iter(text).find_map(|c| {
            let name = c.name("name")?.as_str();
            let value = c.name("s")?.as_str();
            self.secret_name(name)
                .then(|| (name.to_owned(), form(SECRET, value)))
        })
    }

    /// Whether the whole of `value` is a redacted form.
    fn is_redacted(&self, value: &str) -> bool {
        self.redacted
            .find(value)
            .is_some_and(|m| m.start() == 0 && m.end() == value.len())
    }

    /// The secret part of a match: its `s` group, or all of it.
    fn span(c: &Captures<'_>) -> Option<(usize, usize)> {
        c.name("s")
            .or_else(|| c.get(0))
            .map(|m| (m.start(), m.end()))
    }

    /// The secrets in `text`, in order, overlapping ones merged; none inside a redacted form.
    fn spans(&self, text: &str) -> Vec<(usize, usize, SecretKind)> {
        let mut found: Vec<(usize, usize, SecretKind)> = Vec::new();
        for p in &self.values {
            for c in p.re.captures_iter(text) {
                if let Some((s, e)) = Self::span(&c) {
                    found.push((s, e, p.what));
                }
            }
        }
        for re in &self.extra {
            for m in re.find_iter(text) {
                found.push((m.start(), m.end(), CONFIGURED));
            }
        }
        for c in self.assignment.captures_iter(text) {
            let named_secret = c.name("name").is_some_and(|n| self.secret_name(n.as_str()));
            if let (true, Some(v)) = (named_secret, c.name("s")) {
                found.push((v.start(), v.end(), SECRET));
            }
        }
        let kept: Vec<(usize, usize)> = self
            .redacted
            .find_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        found.retain(|(s, e, _)| *e > *s && !kept.iter().any(|(ks, ke)| s < ke && ks < e));
        found.sort_by_key(|(s, e, _)| (*s, std::cmp::Reverse(*e)));
        let mut merged: Vec<(usize, usize, SecretKind)> = Vec::new();
        for (s, e, k) in found {
            match merged.last_mut() {
                Some(last) if s < last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e, k)),
            }
        }
        merged
    }

    /// `text` with each secret in it replaced by its redacted form.
    pub fn text(&self, text: &str) -> String {
        let spans = self.spans(text);
        if spans.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (s, e, kind) in spans {
            out.push_str(&text[at..s]);
            out.push_str(&form(kind, &text[s..e]));
            at = e;
        }
        out.push_str(&text[at..]);
        out
    }

    /// The value of `name=value` (an environment variable, a label): all of it redacted when
    /// the name says it is secret, otherwise the secrets in it.
    pub fn pair(&self, name: &str, value: &str) -> String {
        if self.is_redacted(value) {
            value.to_owned()
        } else if !value.is_empty() && self.secret_name(name) {
            form(SECRET, value)
        } else {
            self.text(value)
        }
    }

    /// What credentials the first URL in `value` carries before its host (`a user and
    /// password`, `a token`), if any: a user with a password, a known token form, or a user
    /// name of 20 or more token characters. A plain user name (`org@dev.azure.com`) is not.
    pub fn url_credentials(&self, value: &str) -> Option<&'static str> {
        self.userinfo.captures_iter(value).find_map(|c| {
            let u = c.name("u")?.as_str();
            match u.split_once(':') {
                Some((_, password)) if !password.is_empty() => Some("a user and password"),
                _ if self.kind_of(u).is_some() => Some("a token"),
                _ if u.len() >= 20
                    && u.chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') =>
                {
                    Some("a token")
                }
                _ => None,
            }
        })
    }

    /// A label's value as every output shows it: URLs without what comes before their host
    /// (`https://user:token@github.com/x` is `https://github.com/x`), then as [`Self::pair`].
    pub fn label(&self, name: &str, value: &str) -> String {
        let stripped = self.userinfo.replace_all(value, "$scheme");
        self.pair(name, &stripped)
    }

    /// Every string of `report` that can hold what the image says, redacted. Each field is
    /// named, so that a field added to the report cannot be forgotten here.
    pub fn report(&self, report: &mut CheckReport) {
        let CheckReport {
            version: _,
            created_at: _,
            image,
            outcome: _,
            checks,
            facts,
            history,
            enforcement,
            notes,
            // The label little.yaml names and the ids of checks: nothing of the image's.
            waiver: _,
            // Webhook hosts and their answers, filled in by the worker: nothing of the image's.
            undelivered: _,
        } = report;
        // The repository, tag and digest are ECR's and the event's (and name the report).
        let CheckedImage {
            repository: _,
            tag: _,
            digest: _,
            platform,
            region: _,
            uri: _,
            pushed_by,
        } = image;
        *platform = self.text(platform);
        if let Some(p) = pushed_by {
            *p = self.text(p);
        }
        for c in checks {
            let CheckResult {
                id: _,
                title: _,
                outcome: _,
                severity: _,
                summary,
                details,
            } = c;
            *summary = self.text(summary);
            for d in details {
                *d = self.text(d);
            }
        }
        let Facts {
            os,
            user,
            labels,
            env,
            runtimes,
            size_bytes: _,
            layers: _,
            efficiency: _,
            libraries,
        } = facts;
        if let Some(OsInfo { id, version, name }) = os {
            *id = self.text(id);
            *version = self.text(version);
            *name = self.text(name);
        }
        *user = self.text(user);
        *labels = labels
            .iter()
            .map(|(k, v)| (self.text(k), self.label(k, v)))
            .collect();
        for l in libraries {
            let crate::check::jar::Library {
                group,
                name,
                version,
                path,
            } = l;
            if let Some(g) = group {
                *g = self.text(g);
            }
            *name = self.text(name);
            *version = self.text(version);
            *path = self.text(path);
        }
        for (k, v) in env.iter_mut() {
            *v = self.pair(k, v);
            *k = self.text(k);
        }
        *runtimes = runtimes
            .iter()
            .map(|(k, v)| (self.text(k), self.text(v)))
            .collect();
        for step in history {
            let HistoryStep {
                created,
                empty_layer: _,
                lines,
            } = step;
            if let Some(c) = created {
                *c = self.text(c);
            }
            for l in lines {
                *l = self.text(l);
            }
        }
        if let Some(Enforcement {
            action: _,
            applied: _,
            detail,
        }) = enforcement
        {
            *detail = self.text(detail);
        }
        for n in notes {
            *n = self.text(n);
        }
    }

    /// An error whose message may quote the image (such as the platforms of an index).
    pub fn error(&self, e: Error) -> Error {
        match e {
            Error::Usage(m) => Error::Usage(self.text(&m)),
            Error::Aws { operation, message } => Error::Aws {
                operation,
                message: self.text(&message),
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        Redactor::new(&SecretsCheck {
            allow: vec!["PUBLIC_TOKEN".into()],
            patterns: vec![r"\bcorp-[0-9]{6}\b".into()],
            ..SecretsCheck::default()
        })
        .unwrap()
    }

    const GITHUB: &str = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";

    #[test]
    fn secrets_become_their_kind_and_length_only() {
        let r = redactor();
        assert_eq!(
            r.text(&format!("echo {GITHUB} > /root/.token")),
            "echo [redacted GitHub token, 40 characters] > /root/.token"
        );
        assert_eq!(
            r.text("AKIAIOSFODNN7EXAMPLE and corp-123456"),
            "[redacted AWS access key id, 20 characters] and [redacted configured secret pattern, 11 characters]"
        );
        assert_eq!(
            r.text("postgres://app:hunter2@db:5432/app"),
            "postgres://app:[redacted password in a URL, 7 characters]@db:5432/app"
        );
        assert_eq!(
            r.text("|1 NPM_TOKEN=npm_abcdefgh /bin/sh -c npm ci"),
            "|1 NPM_TOKEN=[redacted secret, 12 characters] /bin/sh -c npm ci"
        );
        assert_eq!(
            r.text(r#"export DB_PASSWORD="two words" && run"#),
            "export DB_PASSWORD=[redacted secret, 11 characters] && run"
        );
        // A path to a secret, a reference to a variable, an allowed name: left alone.
        for plain in [
            "DB_PASSWORD_FILE=/run/secrets/db",
            "TOKEN=$TOKEN",
            "PUBLIC_TOKEN=abc",
            "apt-get install -y curl",
        ] {
            assert_eq!(r.text(plain), plain);
        }
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----";
        assert_eq!(
            r.text(&format!("x {key} y")),
            format!(
                "x [redacted private key, {} characters] y",
                key.chars().count()
            )
        );
        assert_eq!(
            r.text("-----BEGIN PRIVATE KEY-----\nMIIE rest of it"),
            "[redacted private key, 43 characters]"
        );
    }

    #[test]
    fn redacting_twice_changes_nothing() {
        let r = redactor();
        for text in [
            format!("A={GITHUB}"),
            "DB_PASSWORD=hunter2".into(),
            "SECRET=[redacted secret, 7 characters]".into(),
        ] {
            let once = r.text(&text);
            assert_eq!(r.text(&once), once, "{text}");
        }
        assert_eq!(
            r.pair("DB_PASSWORD", "hunter2"),
            "[redacted secret, 7 characters]"
        );
        assert_eq!(
            r.pair("DB_PASSWORD", "[redacted secret, 7 characters]"),
            "[redacted secret, 7 characters]"
        );
        assert_eq!(r.pair("PUBLIC_TOKEN", "abc"), "abc");
        assert_eq!(
            r.pair("PUBLIC_TOKEN", GITHUB),
            "[redacted GitHub token, 40 characters]",
            "a known token form is redacted whatever the name"
        );
        assert_eq!(r.pair("PATH", "/usr/bin"), "/usr/bin");
    }

    #[test]
    fn detection_for_the_secrets_check() {
        let r = redactor();
        assert_eq!(
            r.kind_of("AKIAIOSFODNN7EXAMPLE")
                .map(SecretKind::described)
                .as_deref(),
            Some("an AWS access key id")
        );
        assert_eq!(
            r.kind_of("corp-123456")
                .map(SecretKind::described)
                .as_deref(),
            Some("a configured secret pattern")
        );
        assert_eq!(r.kind_of("hello"), None);
        assert!(r.secret_name("DB_PASSWORD") && !r.secret_name("DB_PASSWORD_FILE"));
        assert!(!r.secret_name("PUBLIC_TOKEN"));
        let (kind, shown) = r.first_secret(&format!("echo {GITHUB}")).unwrap();
        assert_eq!(kind.kind, "GitHub token");
        assert_eq!(shown, "[redacted GitHub token, 40 characters]");
        assert_eq!(
            r.first_assignment("PUBLIC_TOKEN=a API_KEY=bcd"),
            Some(("API_KEY".into(), "[redacted secret, 3 characters]".into()))
        );
    }

    #[test]
    fn errors_that_quote_the_image_are_redacted() {
        let e = redactor().error(Error::Usage(format!(
            "the image has no linux/amd64 manifest (it has: {GITHUB}/x)"
        )));
        assert_eq!(
            e.to_string(),
            "the image has no linux/amd64 manifest (it has: [redacted GitHub token, 40 characters]/x)"
        );
    }
}
