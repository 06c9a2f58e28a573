//! Image scan findings as an Atom 1.0 feed (RFC 4287), for `little serve`'s
//! `GET /findings/{id}`: one entry per finding of an image, so a feed reader shows new
//! vulnerabilities as they are found.
//!
//! It writes what the caller gives it, in that order; it does not fetch, filter or sort
//! findings. Every string is XML-escaped, and characters that XML 1.0 forbids are replaced.

use sha2::{Digest, Sha256};

use super::audit::xml_escape;
use crate::audit::model::Severity;
use crate::aws::ecr::ImageFinding;

/// One finding of one image's scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    /// RFC 3339 UTC, when the scan completed (None: unknown)
    pub scanned_at: Option<String>,
    pub finding: ImageFinding,
}

/// Escapes `s` for XML text or attribute values, first replacing the characters XML 1.0
/// does not allow at all (control characters other than tab, newline and carriage return,
/// and U+FFFE, U+FFFF) with U+FFFD, so the document stays well-formed whatever a scanner
/// wrote.
fn xml_text(s: &str) -> String {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}'
    };
    if s.chars().all(allowed) {
        xml_escape(s)
    } else {
        let clean: String = s
            .chars()
            .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
            .collect();
        xml_escape(&clean)
    }
}

/// The finding's severity as the feed shows it: ECR's `UNDEFINED` and `INFO` read as
/// `INFORMATIONAL`, like in the audit; an unknown value is kept, an empty one is `UNKNOWN`.
fn severity(raw: &str) -> String {
    match raw.parse::<Severity>() {
        Ok(s) => s.as_str().to_owned(),
        Err(_) if raw.trim().is_empty() => "UNKNOWN".to_owned(),
        Err(_) => raw.to_owned(),
    }
}

/// `repository:tag@digest`, leaving out an empty tag or digest.
fn image(e: &FeedEntry) -> String {
    let mut s = e.repository.clone();
    if !e.tag.is_empty() {
        s.push(':');
        s.push_str(&e.tag);
    }
    if !e.digest.is_empty() {
        s.push('@');
        s.push_str(&e.digest);
    }
    s
}

/// `repository:tag`, or `repository@digest` for an untagged image: the short name in titles.
fn short_image(e: &FeedEntry) -> String {
    if e.tag.is_empty() {
        image(e)
    } else {
        format!("{}:{}", e.repository, e.tag)
    }
}

/// A stable id: a SHA-256 over the feed id, repository, digest, finding name and package,
/// each length-prefixed so that no two different tuples hash the same input.
fn entry_id(feed_id: &str, e: &FeedEntry) -> String {
    let mut h = Sha256::new();
    let package = e.finding.package.as_deref();
    for part in [
        Some(feed_id),
        Some(e.repository.as_str()),
        Some(e.digest.as_str()),
        Some(e.finding.name.as_str()),
        package,
    ] {
        match part {
            Some(p) => {
                h.update(b"s");
                h.update((p.len() as u64).to_be_bytes());
                h.update(p.as_bytes());
            }
            None => h.update(b"n"),
        }
    }
    format!("urn:little-stack:finding:{}", hex::encode(h.finalize()))
}

/// Whether a finding's URI may be a link: only absolute `http` and `https` URIs, so that a
/// `javascript:` or relative value never reaches a feed reader as a link.
fn linkable(uri: &str) -> bool {
    let lower = uri.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !uri.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn write_entry(out: &mut String, feed_id: &str, updated: &str, e: &FeedEntry) {
    let f = &e.finding;
    let sev = severity(&f.severity);
    let title = match f.package.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => format!("{sev} {} in {p} ({})", f.name, short_image(e)),
        None => format!("{sev} {} ({})", f.name, short_image(e)),
    };
    let mut content = format!("Severity: {sev}\nVulnerability: {}\n", f.name);
    if let Some(p) = f.package.as_deref().filter(|p| !p.is_empty()) {
        content.push_str(&format!("Package: {p}\n"));
    }
    content.push_str(&format!("Image: {}\n", image(e)));
    if let Some(at) = &e.scanned_at {
        content.push_str(&format!("Scanned: {at}\n"));
    }
    if let Some(uri) = f.uri.as_deref().filter(|u| !u.is_empty()) {
        content.push_str(&format!("More: {uri}\n"));
    }
    if let Some(d) = f.description.as_deref().filter(|d| !d.is_empty()) {
        content.push('\n');
        content.push_str(d);
        content.push('\n');
    }

    out.push_str("  <entry>\n");
    out.push_str(&format!("    <id>{}</id>\n", entry_id(feed_id, e)));
    out.push_str(&format!(
        "    <title type=\"text\">{}</title>\n",
        xml_text(&title)
    ));
    out.push_str(&format!(
        "    <updated>{}</updated>\n",
        xml_text(e.scanned_at.as_deref().unwrap_or(updated))
    ));
    if let Some(uri) = f.uri.as_deref().filter(|u| linkable(u)) {
        out.push_str(&format!(
            "    <link rel=\"alternate\" href=\"{}\"/>\n",
            xml_text(uri)
        ));
    }
    out.push_str(&format!(
        "    <category term=\"{}\" scheme=\"urn:little-stack:severity\"/>\n",
        xml_text(&sev)
    ));
    out.push_str(&format!(
        "    <content type=\"text\">{}</content>\n",
        xml_text(&content)
    ));
    out.push_str("  </entry>\n");
}

/// The feed document. `feed_id` makes the feed's id (`urn:little-stack:findings:{feed_id}`)
/// and every entry's; `updated` is the feed's RFC 3339 time, also used for an entry whose
/// scan time is unknown; `self_url` is the feed's own address.
pub fn findings_feed(
    feed_id: &str,
    title: &str,
    self_url: &str,
    updated: &str,
    entries: &[FeedEntry],
) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!(
        "  <id>urn:little-stack:findings:{}</id>\n",
        xml_text(feed_id)
    ));
    out.push_str(&format!(
        "  <title type=\"text\">{}</title>\n",
        xml_text(title)
    ));
    out.push_str(&format!("  <updated>{}</updated>\n", xml_text(updated)));
    out.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        xml_text(self_url)
    ));
    out.push_str("  <author>\n    <name>little-stack</name>\n  </author>\n");
    out.push_str(&format!(
        "  <generator version=\"{}\">little-stack</generator>\n",
        env!("CARGO_PKG_VERSION")
    ));
    for e in entries {
        write_entry(&mut out, feed_id, updated, e);
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SELF: &str = "https://audit.example.com/findings/abc?x=1&y=2";
    const UPDATED: &str = "2026-03-02T10:15:30Z";

    fn entry(name: &str, package: Option<&str>, scanned_at: Option<&str>) -> FeedEntry {
        FeedEntry {
            repository: "team/api".into(),
            tag: "v1".into(),
            digest: "sha256:0123abcd".into(),
            scanned_at: scanned_at.map(Into::into),
            finding: ImageFinding {
                name: name.into(),
                severity: "HIGH".into(),
                package: package.map(Into::into),
                uri: Some(format!("https://nvd.nist.gov/vuln/detail/{name}")),
                description: Some("a backdoor in liblzma".into()),
            },
        }
    }

    fn entries_of(feed: &str) -> Vec<&str> {
        feed.split("<entry>").skip(1).collect()
    }

    /// The text between `<tag ...>` and `</tag>`, the first one in `xml`.
    fn element<'a>(xml: &'a str, tag: &str) -> &'a str {
        let start = xml
            .find(&format!("<{tag}"))
            .unwrap_or_else(|| panic!("no <{tag}> in {xml}"));
        let open_end = start + xml[start..].find('>').unwrap_or(0) + 1;
        let close = xml[open_end..]
            .find(&format!("</{tag}>"))
            .unwrap_or_else(|| panic!("no </{tag}> in {xml}"));
        &xml[open_end..open_end + close]
    }

    #[test]
    fn atom_feed_has_the_required_elements_in_order() {
        let feed = findings_feed(
            "abc",
            "Findings",
            SELF,
            UPDATED,
            &[entry("CVE-2024-3094", Some("xz-utils"), None)],
        );
        assert!(feed.starts_with(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
        ));
        assert!(feed.ends_with("</feed>\n"));
        let head = &feed[..feed.find("<entry>").unwrap_or(feed.len())];
        assert_eq!(element(head, "id"), "urn:little-stack:findings:abc");
        assert_eq!(element(head, "title"), "Findings");
        assert_eq!(element(head, "updated"), UPDATED);
        assert!(head.contains(
            "<link rel=\"self\" type=\"application/atom+xml\" href=\"https://audit.example.com/findings/abc?x=1&amp;y=2\"/>"
        ));
        assert_eq!(element(head, "name"), "little-stack");
        assert!(head.contains("<author>"));
        assert!(head.contains(&format!(
            "<generator version=\"{}\">little-stack</generator>",
            env!("CARGO_PKG_VERSION")
        )));
        // Feed metadata comes before every entry.
        assert_eq!(feed.matches("<entry>").count(), 1);
        assert_eq!(feed.matches("</entry>").count(), 1);
        let e = entries_of(&feed)[0];
        let (id, title, updated) = (
            e.find("<id>").unwrap_or(usize::MAX),
            e.find("<title").unwrap_or(usize::MAX),
            e.find("<updated>").unwrap_or(usize::MAX),
        );
        assert!(id < title && title < updated && updated < e.len(), "{e}");
        assert_eq!(
            element(e, "title"),
            "HIGH CVE-2024-3094 in xz-utils (team/api:v1)"
        );
        assert_eq!(element(e, "updated"), UPDATED);
        assert!(e.contains(
            "<link rel=\"alternate\" href=\"https://nvd.nist.gov/vuln/detail/CVE-2024-3094\"/>"
        ));
        assert!(e.contains("<category term=\"HIGH\" scheme=\"urn:little-stack:severity\"/>"));
        let content = element(e, "content");
        assert!(e.contains("<content type=\"text\">"));
        assert!(content.contains("Severity: HIGH\n"));
        assert!(content.contains("Vulnerability: CVE-2024-3094\n"));
        assert!(content.contains("Package: xz-utils\n"));
        assert!(content.contains("Image: team/api:v1@sha256:0123abcd\n"));
        assert!(content.contains("a backdoor in liblzma"));
    }

    #[test]
    fn atom_entry_ids_are_stable_and_unique() {
        let list = [
            entry("CVE-1", Some("a"), None),
            entry("CVE-1", Some("b"), None),
            entry("CVE-2", Some("a"), None),
            entry("CVE-1", None, None),
            entry("CVE-1", Some(""), None),
        ];
        let feed = findings_feed("abc", "F", SELF, UPDATED, &list);
        let ids: Vec<&str> = entries_of(&feed).iter().map(|e| element(e, "id")).collect();
        assert_eq!(ids.len(), 5);
        for id in &ids {
            let hash = id
                .strip_prefix("urn:little-stack:finding:")
                .unwrap_or_else(|| panic!("{id}"));
            assert_eq!(hash.len(), 64);
            assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        let unique: std::collections::BTreeSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");

        // Stable: the same input, another time or title, gives the same ids.
        let again = findings_feed("abc", "Other", SELF, "2027-01-01T00:00:00Z", &list);
        let again: Vec<&str> = entries_of(&again)
            .iter()
            .map(|e| element(e, "id"))
            .collect();
        assert_eq!(ids, again);
        // Another feed, another digest: other ids.
        let other = findings_feed("xyz", "F", SELF, UPDATED, &list[..1]);
        assert_ne!(element(entries_of(&other)[0], "id"), ids[0]);
        let mut moved = list[0].clone();
        moved.digest = "sha256:ffff".into();
        let moved = findings_feed("abc", "F", SELF, UPDATED, &[moved]);
        assert_ne!(element(entries_of(&moved)[0], "id"), ids[0]);
    }

    #[test]
    fn atom_escapes_markup_ampersands_and_quotes() {
        let mut e = entry("CVE-<1>", Some("pkg&\"q\""), Some("2026-01-01T00:00:00Z"));
        e.repository = "team/<api>".into();
        e.tag = "v'1'".into();
        e.finding.description = Some("a < b && c > \"d\" 'e' ]]> \u{1}bell".into());
        e.finding.uri = Some("https://example.com/?a=1&b=\"2\"".into());
        let feed = findings_feed(
            "i<d>&",
            "T & <t> \"q\" 'a'",
            "https://x/?a&b=\"c\"",
            UPDATED,
            &[e],
        );
        assert!(feed.contains("<id>urn:little-stack:findings:i&lt;d&gt;&amp;</id>"));
        assert!(feed.contains(
            "<title type=\"text\">T &amp; &lt;t&gt; &quot;q&quot; &apos;a&apos;</title>"
        ));
        assert!(feed.contains("href=\"https://x/?a&amp;b=&quot;c&quot;\""));
        let entry = entries_of(&feed)[0];
        assert_eq!(
            element(entry, "title"),
            "HIGH CVE-&lt;1&gt; in pkg&amp;&quot;q&quot; (team/&lt;api&gt;:v&apos;1&apos;)"
        );
        assert!(entry.contains("href=\"https://example.com/?a=1&amp;b=&quot;2&quot;\""));
        let content = element(entry, "content");
        assert!(content.contains(
            "a &lt; b &amp;&amp; c &gt; &quot;d&quot; &apos;e&apos; ]]&gt; \u{FFFD}bell"
        ));
        assert!(!content.contains('\u{1}'));
        // Nothing unescaped is left: every `&` starts an entity, no stray `<` in text.
        for (i, _) in feed.match_indices('&') {
            let rest = &feed[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|ent| rest.starts_with(ent)),
                "bare & at {i}: {}",
                &rest[..rest.len().min(20)]
            );
        }
        assert!(!feed.contains("<1>") && !feed.contains("<api>") && !feed.contains("<t>"));
        // The scan time is the entry's updated.
        assert_eq!(element(entry, "updated"), "2026-01-01T00:00:00Z");
    }

    #[test]
    fn atom_handles_missing_optional_fields() {
        let mut e = entry("CVE-9", None, None);
        e.tag = String::new();
        e.finding.uri = None;
        e.finding.description = None;
        e.finding.severity = "UNDEFINED".into();
        let mut js = entry("CVE-10", Some("p"), None);
        js.finding.uri = Some("javascript:alert(1)".into());
        js.finding.severity = "weird".into();
        let feed = findings_feed("abc", "F", SELF, UPDATED, &[e, js]);
        let list = entries_of(&feed);
        assert_eq!(
            element(list[0], "title"),
            "INFORMATIONAL CVE-9 (team/api@sha256:0123abcd)"
        );
        assert!(!list[0].contains("<link"));
        assert!(list[0].contains("<category term=\"INFORMATIONAL\""));
        let content = element(list[0], "content");
        assert!(!content.contains("Package:"));
        assert!(content.contains("Image: team/api@sha256:0123abcd\n"));
        assert_eq!(element(list[0], "updated"), UPDATED);
        // A non-http URI is not a link, though the text still names it.
        assert!(!list[1].contains("<link"));
        assert!(element(list[1], "content").contains("More: javascript:alert(1)"));
        assert!(list[1].contains("<category term=\"weird\""));
    }

    #[test]
    fn atom_feed_without_entries_is_valid() {
        let feed = findings_feed("abc", "F", SELF, UPDATED, &[]);
        assert!(!feed.contains("<entry>"));
        assert!(feed.contains("<updated>2026-03-02T10:15:30Z</updated>"));
        assert!(feed.ends_with("</generator>\n</feed>\n"), "{feed}");
    }

    #[test]
    fn xml_text_replaces_forbidden_characters() {
        assert_eq!(xml_text("a\tb\nc\rd"), "a\tb\nc\rd");
        assert_eq!(
            xml_text("a\u{0}b\u{1b}c\u{FFFE}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}"
        );
        assert_eq!(xml_text("\u{1F600}<"), "\u{1F600}&lt;");
    }
}
