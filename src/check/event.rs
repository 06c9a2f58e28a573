//! A push event is a claim, not a fact: anyone who can send to the queue can write one. This
//! module turns what a message claims ([`Claim`]) into a [`PushEvent`] the worker may act on,
//! in two steps: [`validate`] (every field has the form AWS gives it: a repository name, a
//! `sha256:` digest, an OCI tag, a 12-digit account, the worker's region, a repository the
//! configuration accepts) and [`confirm`] (ECR DescribeImages: the repository exists in the
//! worker's registry, holds that digest, the registry is the event's account, and the tag is
//! on that image). Nothing from an event is checked, enforced, stored or reported before both.
//!
//! It does not read messages (that is `worker::parse_message`) and does not decide what
//! happens to a rejected one (the worker deletes it and counts it).

use crate::aws::ecr_images::{EcrImages, ImageLookup};
use crate::error::Result;
use crate::notify::escape;

/// What a push event claims, as read from the message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Claim {
    pub repository: String,
    pub tag: Option<String>,
    pub digest: String,
    /// The event's time: stable across redeliveries.
    pub time: String,
    /// The event's account (EventBridge `account`).
    pub account: Option<String>,
    /// The event's region (EventBridge `region`).
    pub region: Option<String>,
    /// The registry a CloudTrail PutImage names (`requestParameters.registryId`), if any.
    pub registry_id: Option<String>,
    /// Who pushed, as a CloudTrail PutImage's `userIdentity` says (its user name, else its
    /// ARN, else its principal id); EventBridge's ECR events do not say.
    pub pushed_by: Option<String>,
}

/// A push whose every field has its AWS form (and, once [`confirm`]ed, is true).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:` and 64 lower-case hex digits.
    pub digest: String,
    /// The event's time in letters and digits only (`20261129T100000Z`), at most 32; `0`
    /// when the event has none.
    pub time: String,
    pub account: String,
    /// Who pushed, on one line, at most 200 characters (escaped); none when the event does
    /// not say.
    pub pushed_by: Option<String>,
}

impl PushEvent {
    /// The digest's 64 hex digits.
    pub fn digest_hex(&self) -> &str {
        self.digest.trim_start_matches("sha256:")
    }

    /// `repository:tag`, or `repository@digest` without a tag.
    pub fn image(&self) -> String {
        match &self.tag {
            Some(t) => format!("{}:{t}", self.repository),
            None => format!("{}@{}", self.repository, self.digest),
        }
    }
}

/// Which repositories the worker accepts events for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The worker's region: events of another are not for it.
    pub region: String,
    /// `check.repositories`: names, `*` matching any characters (`team/*`); empty: every
    /// repository of the worker's registry.
    pub repositories: Vec<String>,
}

/// A repository name as ECR allows it: path components of lower-case letters and digits,
/// separated inside by `.`, `_` or `-` (`__` too), joined with `/`; 2 to 256 characters.
pub fn is_repository_name(s: &str) -> bool {
    (2..=256).contains(&s.len())
        && s.split('/').all(|part| {
            let bytes = part.as_bytes();
            let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
            bytes.first().is_some_and(alnum)
                && bytes.last().is_some_and(alnum)
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(b))
                && !bytes
                    .windows(2)
                    .any(|w| b"._-".contains(&w[0]) && b"._-".contains(&w[1]) && w != b"__")
        })
}

/// An image digest as ECR gives it: `sha256:` and 64 lower-case hex digits.
pub fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// An image tag as the OCI distribution spec allows it: a letter, digit or `_`, then up to
/// 127 letters, digits, `_`, `.` or `-`.
pub fn is_tag(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c))
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `name` matches `pattern` (`*` matches any characters, `/` included).
pub fn matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    name.len() >= first.len() + last.len()
}

/// Shown in a message: an event's text, one line, short.
fn shown(s: &str) -> String {
    escape::line(s, 80)
}

/// Checks the form of every field the event claims, and that it is for this worker; the
/// error says which field is wrong (its value shown escaped, on one line).
pub fn validate(claim: &Claim, scope: &Scope) -> std::result::Result<PushEvent, String> {
    if !is_repository_name(&claim.repository) {
        return Err(format!(
            "`{}` is not a repository name",
            shown(&claim.repository)
        ));
    }
    if !is_digest(&claim.digest) {
        return Err(format!(
            "`{}` is not an image digest (sha256: and 64 hex digits)",
            shown(&claim.digest)
        ));
    }
    if let Some(tag) = &claim.tag {
        if !is_tag(tag) {
            return Err(format!("`{}` is not an image tag", shown(tag)));
        }
    }
    let account = match &claim.account {
        Some(a) if is_account(a) => a.clone(),
        Some(a) => return Err(format!("`{}` is not an account id", shown(a))),
        None => return Err("the event names no account".into()),
    };
    if let Some(registry) = &claim.registry_id {
        if registry != &account {
            return Err(format!(
                "the event names registry `{}` in account {account}",
                shown(registry)
            ));
        }
    }
    match &claim.region {
        Some(r) if r == &scope.region => {}
        Some(r) => {
            return Err(format!(
                "the event is from region `{}`; this worker checks {}",
                shown(r),
                scope.region
            ))
        }
        None => return Err("the event names no region".into()),
    }
    if !scope.repositories.is_empty()
        && !scope
            .repositories
            .iter()
            .any(|p| matches(p, &claim.repository))
    {
        return Err(format!(
            "repository `{}` is not one of `check.repositories`",
            claim.repository
        ));
    }
    let time: String = claim
        .time
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(32)
        .collect();
    Ok(PushEvent {
        repository: claim.repository.clone(),
        tag: claim.tag.clone(),
        digest: claim.digest.clone(),
        time: if time.is_empty() { "0".into() } else { time },
        account,
        pushed_by: claim.pushed_by.as_deref().map(|p| escape::line(p, 200)),
    })
}

/// What ECR says of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    Confirmed,
    /// The event is not true of the worker's registry, and why.
    Rejected(String),
}

/// Asks ECR whether the event is true: the repository exists in the worker's registry and
/// holds the digest, the registry is the event's account, and the tag (if any) is on that
/// image now. An AWS error is an error (the message is tried again), not a rejection.
pub async fn confirm(images: &dyn EcrImages, event: &PushEvent) -> Result<Confirmation> {
    let record = match images
        .describe_image(&event.repository, &event.digest)
        .await?
    {
        ImageLookup::Found(r) => r,
        ImageLookup::NoRepository => {
            return Ok(Confirmation::Rejected(format!(
                "the registry has no repository `{}`",
                event.repository
            )))
        }
        ImageLookup::NoImage => {
            return Ok(Confirmation::Rejected(format!(
                "`{}` has no image {}",
                event.repository, event.digest
            )))
        }
    };
    if record.registry_id != event.account {
        return Ok(Confirmation::Rejected(format!(
            "the event is from account {}; this worker's registry is {}",
            event.account, record.registry_id
        )));
    }
    if let Some(tag) = &event.tag {
        if !record.tags.iter().any(|t| t == tag) {
            return Ok(Confirmation::Rejected(format!(
                "the tag `{tag}` is not on {}@{} (moved since, or never there)",
                event.repository, event.digest
            )));
        }
    }
    Ok(Confirmation::Confirmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0d5e2a7b8d0c4c1f3e6b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b";

    fn claim() -> Claim {
        Claim {
            repository: "team/api".into(),
            tag: Some("v1.2".into()),
            digest: DIGEST.into(),
            time: "2026-11-29T10:00:00Z".into(),
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            registry_id: None,
            pushed_by: None,
        }
    }

    fn scope() -> Scope {
        Scope {
            region: "us-east-1".into(),
            repositories: Vec::new(),
        }
    }

    #[test]
    fn names_digests_and_tags_have_their_aws_form() {
        for ok in ["team/api", "a1", "team/api_v2", "a/b/c", "x.y-z__w"] {
            assert!(is_repository_name(ok), "{ok}");
        }
        for bad in [
            "Team/api",
            "team//api",
            "/team",
            "team/",
            "team/../x",
            "team/.x",
            "a",
            "a b",
            "<!channel>",
            "team/api\n",
            "a..b",
            "a-_b",
        ] {
            assert!(!is_repository_name(bad), "{bad}");
        }
        assert!(!is_repository_name(&"a".repeat(257)));
        assert!(is_digest(DIGEST));
        for bad in [
            "sha256:abc",
            "sha512:00",
            &DIGEST.to_uppercase(),
            &format!("{DIGEST}0"),
        ] {
            assert!(!is_digest(bad), "{bad}");
        }
        for ok in ["v1", "1.2.3-rc.1", "_x", "latest"] {
            assert!(is_tag(ok), "{ok}");
        }
        for bad in [
            "",
            ".x",
            "-x",
            "v1 ",
            "<!channel>",
            "*bold*",
            "v1\nv2",
            "../x",
            "a/b",
            "](javascript:x)",
        ] {
            assert!(!is_tag(bad), "{bad}");
        }
        assert!(!is_tag(&"a".repeat(129)));
    }

    #[test]
    fn patterns() {
        assert!(matches("team/*", "team/api"));
        assert!(matches("team/*", "team/a/b"));
        assert!(!matches("team/*", "teams/api"));
        assert!(matches("*/api", "team/api"));
        assert!(matches("team/*-svc", "team/a-svc"));
        assert!(!matches("team/*-svc", "team/a-svc2"));
        assert!(matches("team/api", "team/api"));
        assert!(!matches("team/api", "team/api2"));
        assert!(matches("a*a", "aa"));
        assert!(!matches("ab*ba", "aba"));
        assert!(matches("*", "anything"));
    }

    #[test]
    fn a_valid_claim_becomes_an_event() {
        let e = validate(&claim(), &scope()).unwrap();
        assert_eq!(e.time, "20261129T100000Z");
        assert_eq!(e.account, "123456789012");
        assert_eq!(e.image(), "team/api:v1.2");
        assert_eq!(e.digest_hex().len(), 64);
    }

    #[test]
    fn a_forged_claim_is_refused_with_its_reason() {
        let cases: Vec<(Claim, &str)> = vec![
            (
                Claim {
                    repository: "team/<!channel>".into(),
                    ..claim()
                },
                "is not a repository name",
            ),
            (
                Claim {
                    digest: "sha256:../../x".into(),
                    ..claim()
                },
                "is not an image digest",
            ),
            (
                Claim {
                    tag: Some("<https://evil|click>".into()),
                    ..claim()
                },
                "`<https://evil|click>` is not an image tag",
            ),
            (
                Claim {
                    tag: Some("v1\nmessage 9: checked".into()),
                    ..claim()
                },
                "`v1\\nmessage 9: checked` is not an image tag",
            ),
            (
                Claim {
                    account: None,
                    ..claim()
                },
                "names no account",
            ),
            (
                Claim {
                    account: Some("12345".into()),
                    ..claim()
                },
                "is not an account id",
            ),
            (
                Claim {
                    region: Some("eu-west-1".into()),
                    ..claim()
                },
                "region `eu-west-1`; this worker checks us-east-1",
            ),
            (
                Claim {
                    region: None,
                    ..claim()
                },
                "names no region",
            ),
            (
                Claim {
                    registry_id: Some("999999999999".into()),
                    ..claim()
                },
                "names registry `999999999999`",
            ),
        ];
        for (c, why) in cases {
            let err = validate(&c, &scope()).unwrap_err();
            assert!(err.contains(why), "{err} (wanted {why})");
            assert!(!err.contains('\n'), "{err}");
        }
        let narrow = Scope {
            repositories: vec!["platform/*".into()],
            ..scope()
        };
        assert!(validate(&claim(), &narrow)
            .unwrap_err()
            .contains("is not one of `check.repositories`"));
        // An overlong time is cut; one with no letters or digits is `0`.
        let long = Claim {
            time: "9".repeat(100),
            ..claim()
        };
        assert_eq!(validate(&long, &scope()).unwrap().time.len(), 32);
        let none = Claim {
            time: "::".into(),
            ..claim()
        };
        assert_eq!(validate(&none, &scope()).unwrap().time, "0");
    }
}
