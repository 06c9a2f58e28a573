//! The report of `little check`: a text summary for the terminal and a self-contained HTML
//! page (inline CSS and logo, no external assets unless `check.report` names a logo or a style
//! sheet; the page's no-referrer policy keeps a presigned link to it from leaking through a
//! Referer header either way). The JSON form is the report itself. Text from the image (labels,
//! environment, build history, findings) is escaped for each: one line without control
//! characters on the terminal, HTML entities in the page (`notify::escape`).

use std::io::Write;

use super::Style;
use crate::check::checks::human;
use crate::check::rules::{Outcome, ReportBranding};
use crate::check::CheckReport;
use crate::error::{Error, Result};
use crate::notify::escape::{html as escape, line};
use crate::time::rfc3339_utc;

fn mark(outcome: Outcome, style: Style) -> String {
    match outcome {
        Outcome::Pass => style.green("pass"),
        Outcome::Warn => style.yellow("warn"),
        Outcome::Fail => style.red("FAIL"),
        Outcome::Skipped => style.dim("skip"),
    }
}

fn image_name(r: &CheckReport) -> String {
    match &r.image.tag {
        Some(t) => format!("{}:{t}", r.image.repository),
        None => format!("{}@{}", r.image.repository, r.image.digest),
    }
}

/// The longest text shown on one terminal line.
const LINE: usize = 2000;

/// The terminal summary: the image, a line per check with its details, and the outcome.
pub fn write_text(w: &mut dyn Write, r: &CheckReport, style: Style) -> Result<()> {
    let l = |s: &str| line(s, LINE);
    let mut out = format!(
        "{} ({}, {})\n  digest {}\n",
        style.bold(&l(&image_name(r))),
        l(&r.image.platform),
        l(&r.image.region),
        l(&r.image.digest)
    );
    if let Some(who) = &r.image.pushed_by {
        out.push_str(&format!("  pushed by {}\n", l(who)));
    }
    for c in &r.checks {
        out.push_str(&format!(
            "  {} {}: {}\n",
            mark(c.outcome, style),
            l(&c.title),
            l(&c.summary)
        ));
        for d in &c.details {
            out.push_str(&format!("         {}\n", l(d)));
        }
    }
    for n in &r.notes {
        out.push_str(&format!("  {}\n", style.dim(&format!("note: {}", l(n)))));
    }
    if let Some(w) = &r.waiver {
        out.push_str(&format!(
            "  {} {}\n",
            style.yellow("WAIVED:"),
            l(&w.describe())
        ));
    }
    if let Some(e) = &r.enforcement {
        out.push_str(&format!("  enforcement: {}\n", l(&e.detail)));
    }
    for f in &r.undelivered {
        out.push_str(&format!(
            "  not delivered to {} after {} attempts: {}\n",
            l(&f.target),
            f.attempts,
            l(&f.error)
        ));
    }
    out.push_str(&format!("outcome: {}\n", mark(r.outcome, style)));
    w.write_all(out.as_bytes()).map_err(Error::output)
}

const CSS: &str = "body{font:14px/1.5 system-ui,sans-serif;margin:0;color:#1f2328;background:#fff}\
header{display:flex;gap:12px;align-items:center;padding:16px 24px;border-bottom:1px solid #d0d7de}\
main{padding:8px 24px 32px;max-width:1100px}h1{font-size:20px;margin:0}h2{font-size:16px;margin:24px 0 8px}\
.o{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;color:#fff}\
.pass{background:#1a7f37}.warn{background:#9a6700}.fail{background:#cf222e}.skipped{background:#6e7781}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;padding:6px 8px;text-align:left;vertical-align:top}\
code,pre{font:12px/1.45 ui-monospace,monospace}pre{background:#f6f8fa;padding:8px;overflow:auto;margin:0}\
.muted{color:#656d76}ul{margin:4px 0;padding-left:20px}\
.waived{border:3px solid #9a6700;background:#fff8c5;color:#1f2328;padding:8px 12px;font-size:16px}\
@media(prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}pre{background:#161b22}td,th,header{border-color:#30363d}.muted{color:#8d96a0}}";

/// A small inline logo: a container with a check mark.
const LOGO: &str = "<svg width=\"32\" height=\"32\" viewBox=\"0 0 32 32\" aria-hidden=\"true\"><rect x=\"3\" y=\"7\" width=\"26\" height=\"18\" rx=\"3\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\"/><path d=\"M10 16l4 4 8-8\" fill=\"none\" stroke=\"#1a7f37\" stroke-width=\"3\"/></svg>";

/// The report as an HTML page: self-contained, unless `branding` names a logo or a style
/// sheet (checked `https://` URLs, `check.report`), which the page then loads.
pub fn html(r: &CheckReport, branding: &ReportBranding) -> String {
    let badge = |o: Outcome| format!("<span class=\"o {}\">{}</span>", o.as_str(), o.as_str());
    let mut page = String::with_capacity(8192);
    page.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    page.push_str("<meta name=\"referrer\" content=\"no-referrer\"><meta name=\"color-scheme\" content=\"light dark\">");
    page.push_str(&format!(
        "<title>{} — little check</title>",
        escape(&image_name(r))
    ));
    page.push_str(&format!("<style>{CSS}</style>"));
    if let Some(css) = &branding.css_url {
        page.push_str(&format!(
            "<link rel=\"stylesheet\" href=\"{}\" referrerpolicy=\"no-referrer\">",
            escape(css)
        ));
    }
    page.push_str("</head><body>");
    let logo = match &branding.logo_url {
        Some(url) => format!(
            "<img src=\"{}\" alt=\"\" height=\"32\" referrerpolicy=\"no-referrer\">",
            escape(url)
        ),
        None => LOGO.to_owned(),
    };
    page.push_str(&format!(
        "<header>{logo}<div><h1>{} {}</h1><div class=\"muted\">{} · {} · <code>{}</code> · {}</div></div></header><main>",
        escape(&image_name(r)),
        badge(r.outcome),
        escape(&r.image.region),
        escape(&r.image.platform),
        escape(&r.image.digest),
        rfc3339_utc(r.created_at)
    ));
    if let Some(w) = &r.waiver {
        page.push_str(&format!(
            "<p class=\"waived\"><strong>WAIVED</strong>: {}</p>",
            escape(&w.describe())
        ));
    }
    if let Some(e) = &r.enforcement {
        page.push_str(&format!(
            "<p><strong>Enforcement</strong> ({}): {}</p>",
            escape(&e.action),
            escape(&e.detail)
        ));
    }
    page.push_str("<h2>Checks</h2><table><tr><th>Check</th><th>Result</th><th>Details</th></tr>");
    for c in &r.checks {
        page.push_str(&format!(
            "<tr><td>{}<div class=\"muted\">{} on failure</div></td><td>{}</td><td>{}",
            escape(&c.title),
            match c.severity {
                crate::check::rules::Level::Fail => "fails",
                crate::check::rules::Level::Warn => "warns",
            },
            badge(c.outcome),
            escape(&c.summary)
        ));
        if !c.details.is_empty() {
            page.push_str("<ul>");
            for d in &c.details {
                page.push_str(&format!("<li>{}</li>", escape(d)));
            }
            page.push_str("</ul>");
        }
        page.push_str("</td></tr>");
    }
    page.push_str("</table>");
    let f = &r.facts;
    page.push_str("<h2>Image</h2><table>");
    let row =
        |k: &str, v: String| format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&v));
    if let Some(who) = &r.image.pushed_by {
        page.push_str(&row("Pushed by", who.clone()));
    }
    page.push_str(&row(
        "OS",
        f.os.as_ref()
            .map(|o| o.name.clone())
            .unwrap_or_else(|| "none found".into()),
    ));
    page.push_str(&row("User", f.user.clone()));
    page.push_str(&row(
        "Size",
        format!(
            "{} compressed, {} layers",
            human(f.size_bytes.max(0) as u64),
            f.layers
        ),
    ));
    if let Some(e) = &f.efficiency {
        page.push_str(&row(
            "Efficiency",
            format!(
                "{:.1}%: {} of {} of files wasted{}",
                e.percent,
                human(e.wasted_bytes),
                human(e.file_bytes),
                if e.capped { " (at least)" } else { "" }
            ),
        ));
    }
    for (k, v) in &f.runtimes {
        page.push_str(&row(k, v.clone()));
    }
    for l in &f.libraries {
        page.push_str(&row(
            "Library",
            format!("{} {} ({})", l.name, l.version, l.path),
        ));
    }
    page.push_str("</table>");
    if !f.labels.is_empty() {
        page.push_str("<h2>Labels</h2><table>");
        for (k, v) in &f.labels {
            page.push_str(&format!(
                "<tr><th><code>{}</code></th><td>{}</td></tr>",
                escape(k),
                escape(v)
            ));
        }
        page.push_str("</table>");
    }
    if !f.env.is_empty() {
        page.push_str("<h2>Environment</h2><pre>");
        for (k, v) in &f.env {
            page.push_str(&format!("{}={}\n", escape(k), escape(v)));
        }
        page.push_str("</pre>");
    }
    if !r.history.is_empty() {
        page.push_str("<h2>Build history</h2><table>");
        for (i, h) in r.history.iter().enumerate() {
            page.push_str(&format!(
                "<tr><td class=\"muted\">{}{}</td><td><pre>{}</pre></td></tr>",
                i + 1,
                if h.empty_layer { " (no layer)" } else { "" },
                escape(&h.lines.join("\n"))
            ));
        }
        page.push_str("</table>");
    }
    if !r.undelivered.is_empty() {
        page.push_str("<h2>Notifications not delivered</h2><ul>");
        for f in &r.undelivered {
            page.push_str(&format!(
                "<li>{} (after {} attempts): {}</li>",
                escape(&f.target),
                f.attempts,
                escape(&f.error)
            ));
        }
        page.push_str("</ul>");
    }
    if !r.notes.is_empty() {
        page.push_str("<h2>Notes</h2><ul>");
        for n in &r.notes {
            page.push_str(&format!("<li>{}</li>", escape(n)));
        }
        page.push_str("</ul>");
    }
    page.push_str(&format!(
        "<p class=\"muted\">little-stack {}</p></main></body></html>\n",
        env!("CARGO_PKG_VERSION")
    ));
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::facts::Facts;
    use crate::check::rules::{CheckResult, Level};
    use crate::check::{CheckedImage, Enforcement, REPORT_VERSION};

    fn report() -> CheckReport {
        CheckReport {
            version: REPORT_VERSION,
            created_at: 0,
            image: CheckedImage {
                repository: "team/api".into(),
                tag: Some("v1".into()),
                digest: "sha256:abc".into(),
                platform: "linux/amd64".into(),
                region: "us-east-1".into(),
                uri: None,
                pushed_by: None,
            },
            outcome: Outcome::Fail,
            checks: vec![CheckResult {
                id: "secrets".into(),
                title: "No secrets".into(),
                outcome: Outcome::Fail,
                severity: Level::Fail,
                summary: "1 possible secret".into(),
                details: vec!["`<script>` AKIA…".into()],
            }],
            facts: Facts {
                env: vec![("A".into(), "<b>".into())],
                ..Facts::default()
            },
            history: vec![],
            enforcement: Some(Enforcement {
                action: "ecr:BatchDeleteImage".into(),
                applied: false,
                detail: "would delete team/api@sha256:abc (run with --enforce)".into(),
            }),
            notes: vec![],
            waiver: None,
            undelivered: vec![],
        }
    }

    #[test]
    fn text_lists_checks_details_and_outcome() {
        let mut out = Vec::new();
        write_text(&mut out, &report(), Style::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("team/api:v1 (linux/amd64, us-east-1)\n"));
        assert!(text.contains("  FAIL No secrets: 1 possible secret\n         `<script>` AKIA…\n"));
        assert!(text.contains("enforcement: would delete"));
        assert!(text.ends_with("outcome: FAIL\n"));
    }

    #[test]
    fn html_is_escaped_and_self_contained() {
        let page = html(&report(), &ReportBranding::default());
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("A=&lt;b&gt;"));
        for external in ["http:", "https:", "src=", "<link", "<script", "url("] {
            assert!(!page.contains(external), "{external}");
        }
        assert!(page.contains("<meta name=\"referrer\" content=\"no-referrer\">"));
    }

    #[test]
    fn branding_puts_the_logo_and_style_sheet_in_the_page_escaped() {
        let branding = ReportBranding {
            logo_url: Some("https://cdn.example/logo.png?a=1&b=2".into()),
            css_url: Some("https://cdn.example/report.css".into()),
        };
        let page = html(&report(), &branding);
        assert!(page.contains(
            "<img src=\"https://cdn.example/logo.png?a=1&amp;b=2\" alt=\"\" height=\"32\" referrerpolicy=\"no-referrer\">"
        ));
        assert!(page.contains(
            "<link rel=\"stylesheet\" href=\"https://cdn.example/report.css\" referrerpolicy=\"no-referrer\">"
        ));
        // After the page's own style, so that it can override it; little's logo replaced.
        assert!(page.find("<style>").unwrap() < page.find("<link").unwrap());
        assert!(!page.contains("<svg"));
        assert!(page.contains("<meta name=\"referrer\" content=\"no-referrer\">"));
    }

    #[test]
    fn hostile_image_text_makes_no_markup_or_terminal_codes() {
        let evil = "<!channel> <https://evil|click> [x](javascript:alert(1)) *bold* \"'><img src=x onerror=alert(1)>\n../\u{1b}]8;;https://evil\u{7}";
        let mut r = report();
        r.image.tag = Some(evil.into());
        r.checks[0].summary = evil.into();
        r.checks[0].details = vec![evil.into()];
        r.facts.labels = [(evil.to_owned(), evil.to_owned())].into();
        r.facts.env = vec![(evil.into(), evil.into())];
        r.facts.runtimes = [(evil.to_owned(), evil.to_owned())].into();
        r.notes = vec![evil.into()];
        r.undelivered = vec![crate::notify::delivery::FailedDelivery {
            target: evil.into(),
            attempts: 3,
            error: evil.into(),
        }];
        let page = html(&r, &ReportBranding::default());
        assert!(!page.contains("<img"), "no element from the image");
        assert!(!page.contains("<!channel>") && !page.contains("\u{1b}"));
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(page.contains("Notifications not delivered"));
        // Every tag in the page is the writer's own.
        let tags: std::collections::BTreeSet<String> = page
            .split('<')
            .skip(1)
            .map(|t| t.split([' ', '>']).next().unwrap_or_default().to_owned())
            .collect();
        for t in &tags {
            assert!(
                [
                    "!DOCTYPE", "html", "head", "meta", "title", "/title", "style", "/style",
                    "/head", "body", "header", "svg", "rect", "path", "/svg", "div", "h1", "span",
                    "/span", "/h1", "/div", "code", "/code", "/header", "main", "p", "strong",
                    "/strong", "/p", "h2", "/h2", "table", "tr", "th", "/th", "td", "/td", "/tr",
                    "ul", "li", "/li", "/ul", "/table", "pre", "/pre", "/main", "/body", "/html",
                    "/rect", "/path"
                ]
                .contains(&t.as_str()),
                "<{t} in the page"
            );
        }
        let mut out = Vec::new();
        write_text(&mut out, &r, Style::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(
            text.contains("*bold*"),
            "the terminal shows the text as it is"
        );
        // Each detail, note and delivery stays on its line.
        assert!(!text.contains("\n../"), "{text}");
    }
}
