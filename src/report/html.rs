//! An audit report as one self-contained HTML5 page, for `little serve`.
//!
//! The page has inline CSS and nothing else: no scripts, stylesheets, fonts or images are
//! loaded from anywhere, and the referrer policy is `no-referrer`, so a presigned link to the
//! page never leaks through a `Referer` header. Every string from the report is escaped.
//! It presents the same data as the text and Markdown writers in `report::audit`; it does not
//! compute or sort anything itself.

use indexmap::IndexMap;

use super::audit::{summary, xml_escape as esc};
use crate::audit::model::{AuditReport, Finding, Severity};
use crate::text::plural;
use crate::time::rfc3339_utc;

/// The page's whole stylesheet; kept under 4 KB.
const CSS: &str = "\
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--mute:#59636e;--line:#d1d9e0;\
--card:#f6f8fa;--warn-bg:#fff8c5;--warn-line:#d4a72c}\
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--mute:#9198a1;\
--line:#3d444d;--card:#151b23;--warn-bg:#272115;--warn-line:#9e6a03}}\
*{box-sizing:border-box}\
body{margin:0 auto;max-width:64rem;padding:1.5rem;background:var(--bg);color:var(--fg);\
font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",sans-serif}\
h1{font-size:1.6rem;margin:0 0 .25rem}\
h2{font-size:1.2rem;margin:2rem 0 .5rem;border-bottom:1px solid var(--line)}\
h3{font-size:1rem;margin:1rem 0 .5rem;word-break:break-all}\
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}\
.meta,.type,.arn,.rem{color:var(--mute)}\
.type{font-weight:normal;font-size:.85em}\
.arn{font-size:.85em;margin:-.4rem 0 .5rem;word-break:break-all}\
ul.counts{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}\
ul.counts li{border:1px solid var(--line);border-radius:6px;padding:.2rem .5rem}\
.sev{display:inline-block;min-width:7.5rem;text-align:center;border-radius:4px;padding:0 .4rem;\
font-size:.75rem;font-weight:700;color:#fff;letter-spacing:.03em}\
ul.counts .sev{min-width:0}\
.sev-critical{background:#8b1a1a}.sev-high{background:#c2410c}.sev-medium{background:#9a6700}\
.sev-low{background:#1d4ed8}.sev-informational{background:#57606a}\
.errors{background:var(--warn-bg);border:1px solid var(--warn-line);border-radius:6px;\
padding:.5rem 1rem;margin:1rem 0}\
.errors h2{border:0;margin:.25rem 0;font-size:1rem}\
ul.findings{list-style:none;padding:0;margin:0}\
li.finding{background:var(--card);border:1px solid var(--line);border-radius:6px;\
padding:.5rem .75rem;margin:.4rem 0}\
.msg{margin:.25rem 0 0}.rem{margin:.25rem 0 0;font-size:.9em}\
.empty{font-size:1.1rem;padding:1rem;border:1px dashed var(--line);border-radius:6px}\
footer{margin-top:2rem;color:var(--mute);font-size:.85em}";

fn badge(s: Severity) -> String {
    format!(
        "<span class=\"sev sev-{}\">{}</span>",
        s.as_str().to_ascii_lowercase(),
        s.as_str()
    )
}

/// The heading of an account/region group.
fn place(account: Option<&str>, region: Option<&str>) -> String {
    match (account, region) {
        (Some(a), Some(r)) => format!("{} {}", esc(a), esc(r)),
        (Some(a), None) => format!("{} <span class=\"meta\">(region unknown)</span>", esc(a)),
        (None, Some(r)) => format!("<span class=\"meta\">(account unknown)</span> {}", esc(r)),
        (None, None) => "<span class=\"meta\">(account and region unknown)</span>".to_owned(),
    }
}

fn finding_html(out: &mut String, f: &Finding) {
    out.push_str("<li class=\"finding\">");
    out.push_str(&badge(f.severity));
    out.push_str(&format!(" <code class=\"check\">{}</code>", esc(&f.check)));
    if let Some(c) = &f.control {
        out.push_str(&format!(
            " <span class=\"control\">Security Hub <code>{}</code></span>",
            esc(c)
        ));
    }
    out.push_str(&format!("<p class=\"msg\">{}</p>", esc(&f.message)));
    if let Some(r) = &f.remediation {
        out.push_str(&format!(
            "<p class=\"rem\">{} <code>{}</code>: <code>{}</code> &rarr; <code>{}</code></p>",
            if r.applied {
                "Remediated by"
            } else {
                "<code>--remediate</code> would call"
            },
            esc(&r.action),
            esc(&r.before),
            esc(&r.after)
        ));
    }
    out.push_str("</li>\n");
}

/// The page for `report`. `title` heads the page; `generated_by` (such as `little 0.1.0`) is
/// named in the footer. Both are escaped like everything else.
pub fn audit_html(report: &AuditReport, title: &str, generated_by: &str) -> String {
    let title = esc(title);
    let created = rfc3339_utc(report.created_at);
    let mut out = String::with_capacity(8192);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    out.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n");
    out.push_str(&format!("<title>{title}</title>\n<style>{CSS}</style>\n"));
    out.push_str("</head>\n<body>\n<header>\n");
    out.push_str(&format!("<h1>{title}</h1>\n"));
    out.push_str(&format!(
        "<p class=\"meta\">Audit of <time datetime=\"{created}\">{created}</time></p>\n"
    ));
    out.push_str(&format!(
        "<p class=\"checked\">Checked {}, {}, {}.</p>\n",
        plural(report.checked.repositories, "repository", "repositories"),
        plural(report.checked.images, "image", "images"),
        plural(report.checked.stacks, "stack", "stacks"),
    ));
    out.push_str(&format!(
        "<p class=\"summary\">{}</p>\n",
        esc(&summary(report))
    ));
    out.push_str("<ul class=\"counts\">\n");
    for s in Severity::ALL.iter().rev() {
        let n = report.findings.iter().filter(|f| f.severity == *s).count();
        out.push_str(&format!(
            "<li data-severity=\"{}\">{} <span class=\"count\">{n}</span></li>\n",
            s.as_str(),
            badge(*s)
        ));
    }
    out.push_str("</ul>\n</header>\n<main>\n");

    if !report.errors.is_empty() {
        out.push_str("<section class=\"errors\" role=\"alert\">\n");
        out.push_str(&format!(
            "<h2>&#9888; Not checked ({})</h2>\n<ul>\n",
            plural(report.errors.len(), "error", "errors")
        ));
        for e in &report.errors {
            out.push_str(&format!("<li>{}</li>\n", esc(e)));
        }
        out.push_str("</ul>\n</section>\n");
    }

    if report.findings.is_empty() {
        out.push_str("<p class=\"empty\">No findings.</p>\n");
    }

    // Groups in the order they first appear; the report is already sorted.
    type Resources<'a> = IndexMap<(&'a str, &'a str), Vec<&'a Finding>>;
    let mut groups: IndexMap<(Option<&str>, Option<&str>), Resources> = IndexMap::new();
    for f in &report.findings {
        groups
            .entry((f.account.as_deref(), f.region.as_deref()))
            .or_default()
            .entry((f.resource.as_str(), f.resource_type.as_str()))
            .or_default()
            .push(f);
    }
    for ((account, region), resources) in &groups {
        out.push_str(&format!(
            "<section class=\"group\">\n<h2>{}</h2>\n",
            place(*account, *region)
        ));
        for ((resource, resource_type), findings) in resources {
            out.push_str(&format!(
                "<article class=\"resource\">\n<h3>{} <span class=\"type\">{}</span></h3>\n",
                esc(resource),
                esc(resource_type)
            ));
            if let Some(arn) = findings.iter().find_map(|f| f.arn.as_deref()) {
                out.push_str(&format!("<p class=\"arn mono\">{}</p>\n", esc(arn)));
            }
            out.push_str("<ul class=\"findings\">\n");
            for f in findings {
                finding_html(&mut out, f);
            }
            out.push_str("</ul>\n</article>\n");
        }
        out.push_str("</section>\n");
    }

    out.push_str(&format!(
        "</main>\n<footer>Generated by {}.</footer>\n</body>\n</html>\n",
        esc(generated_by)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::model::{Checked, Remediation};

    fn finding(
        account: Option<&str>,
        region: Option<&str>,
        resource: &str,
        severity: Severity,
        check: &str,
        message: &str,
    ) -> Finding {
        Finding {
            check: check.into(),
            control: Some("ECR.2".into()),
            severity,
            resource: resource.into(),
            resource_type: "AWS::ECR::Repository".into(),
            arn: account.map(|a| format!("arn:aws:ecr:us-east-1:{a}:repository/{resource}")),
            account: account.map(Into::into),
            region: region.map(Into::into),
            message: message.into(),
            remediation: None,
        }
    }

    fn report() -> AuditReport {
        let a = Some("111111111111");
        let b = Some("222222222222");
        let east = Some("us-east-1");
        let west = Some("eu-west-1");
        let mut immutable = finding(
            a,
            east,
            "team/api",
            Severity::High,
            "ecr.tag-immutability",
            "tags are MUTABLE",
        );
        immutable.remediation = Some(Remediation {
            action: "ecr:PutImageTagMutability".into(),
            before: "MUTABLE".into(),
            after: "IMMUTABLE".into(),
            applied: false,
        });
        let mut scan = finding(
            b,
            west,
            "team/web",
            Severity::Critical,
            "ecr.image-scan",
            "CVE in <script>alert('x')</script> & \"more\"",
        );
        scan.control = None;
        scan.remediation = Some(Remediation {
            action: "ecr:PutImageScanningConfiguration".into(),
            before: "off".into(),
            after: "on".into(),
            applied: true,
        });
        let mut stack = finding(
            a,
            east,
            "iam-roles",
            Severity::Low,
            "cfn.termination-protection",
            "termination protection is off",
        );
        stack.resource_type = "AWS::CloudFormation::Stack".into();
        AuditReport::new(
            1_772_446_530,
            Checked {
                repositories: 2,
                images: 1,
                stacks: 1,
            },
            vec![
                scan,
                immutable,
                finding(
                    a,
                    east,
                    "team/api",
                    Severity::Medium,
                    "ecr.lifecycle",
                    "no lifecycle policy",
                ),
                stack,
                finding(
                    None,
                    None,
                    "orphan",
                    Severity::Informational,
                    "ecr.info",
                    "nothing",
                ),
            ],
            vec![],
        )
    }

    fn pos(html: &str, needle: &str) -> usize {
        html.find(needle)
            .unwrap_or_else(|| panic!("`{needle}` not in:\n{html}"))
    }

    #[test]
    fn html_is_a_complete_document_with_the_required_meta() {
        let html = audit_html(&report(), "Audit", "little 0.1.0");
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(html.ends_with("</html>\n"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("<meta name=\"viewport\""));
        assert!(html.contains("<meta name=\"referrer\" content=\"no-referrer\">"));
        assert!(html.contains("<title>Audit</title>"));
        assert!(html.contains("<h1>Audit</h1>"));
        assert!(html.contains("Generated by little 0.1.0."));
        assert!(
            html.contains("<time datetime=\"2026-03-02T10:15:30Z\">2026-03-02T10:15:30Z</time>")
        );
        assert!(html.contains("Checked 2 repositories, 1 image, 1 stack."));
        assert_eq!(html.matches("<style>").count(), 1);
        assert!(CSS.len() < 4096, "CSS is {} bytes", CSS.len());
    }

    #[test]
    fn html_has_no_external_references() {
        let html = audit_html(&report(), "Audit", "little 0.1.0");
        let lower = html.to_ascii_lowercase();
        for bad in [
            "http",
            "//",
            "<link",
            "<script",
            "src=",
            "href=",
            "url(",
            "@import",
            "@font-face",
            "<img",
            "<iframe",
            "<object",
            "<embed",
        ] {
            assert!(!lower.contains(bad), "`{bad}` in:\n{html}");
        }
    }

    #[test]
    fn html_escapes_every_user_string() {
        let mut r = report();
        r.findings[0].check = "a<b".into();
        r.findings[0].resource = "r&'s".into();
        r.findings[0].account = Some("\"acct\"".into());
        r.errors = vec!["<img onerror=x>".into()];
        let html = audit_html(&r, "<T> & 'q'", "<gen>");
        assert!(html.contains(
            "CVE in &lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;more&quot;"
        ));
        assert!(html.contains("<title>&lt;T&gt; &amp; &apos;q&apos;</title>"));
        assert!(html.contains("<code class=\"check\">a&lt;b</code>"));
        assert!(html.contains("r&amp;&apos;s"));
        assert!(html.contains("&quot;acct&quot;"));
        assert!(html.contains("<li>&lt;img onerror=x&gt;</li>"));
        assert!(html.contains("Generated by &lt;gen&gt;."));
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains("<script"));
        assert!(!lower.contains("<img"));
        assert!(!html.contains("<T>") && !html.contains("<gen>") && !html.contains("a<b"));
    }

    #[test]
    fn html_groups_by_account_region_then_resource_in_report_order() {
        let r = report();
        let html = audit_html(&r, "Audit", "little");
        // The report sorts (None, None) first, then by account, region and resource.
        let unknown = pos(&html, "(account and region unknown)");
        let a = pos(&html, "<h2>111111111111 us-east-1</h2>");
        let b = pos(&html, "<h2>222222222222 eu-west-1</h2>");
        assert!(unknown < a && a < b, "{html}");
        assert_eq!(html.matches("<section class=\"group\">").count(), 3);
        let roles = pos(
            &html,
            "<h3>iam-roles <span class=\"type\">AWS::CloudFormation::Stack",
        );
        let api = pos(
            &html,
            "<h3>team/api <span class=\"type\">AWS::ECR::Repository",
        );
        let web = pos(&html, "<h3>team/web ");
        assert!(a < roles && roles < api && api < b && b < web, "{html}");
        assert_eq!(html.matches("<article class=\"resource\">").count(), 4);
        // Within a resource, the report's order: worst first.
        let high = pos(&html, "ecr.tag-immutability");
        let medium = pos(&html, "ecr.lifecycle");
        assert!(api < high && high < medium && medium < b);
        // Each finding appears once, in the order of report.findings.
        let order: Vec<usize> = r
            .findings
            .iter()
            .map(|f| pos(&html, &format!("<code class=\"check\">{}</code>", f.check)))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    }

    #[test]
    fn html_shows_finding_details_and_remediation() {
        let html = audit_html(&report(), "Audit", "little");
        assert!(html.contains(
            "<span class=\"sev sev-high\">HIGH</span> <code class=\"check\">ecr.tag-immutability</code> \
             <span class=\"control\">Security Hub <code>ECR.2</code></span><p class=\"msg\">tags are MUTABLE</p>"
        ), "{html}");
        assert!(html.contains(
            "<code>--remediate</code> would call <code>ecr:PutImageTagMutability</code>: \
             <code>MUTABLE</code> &rarr; <code>IMMUTABLE</code>"
        ));
        assert!(html.contains(
            "Remediated by <code>ecr:PutImageScanningConfiguration</code>: <code>off</code> &rarr; <code>on</code>"
        ));
        // No control: no Security Hub label on that finding.
        let web = pos(&html, "ecr.image-scan</code>");
        assert!(html[web..].starts_with("ecr.image-scan</code><p class=\"msg\">"));
        assert!(html.contains("arn:aws:ecr:us-east-1:111111111111:repository/team/api"));
    }

    #[test]
    fn html_counts_each_severity() {
        let html = audit_html(&report(), "Audit", "little");
        let expect = [
            ("CRITICAL", 1),
            ("HIGH", 1),
            ("MEDIUM", 1),
            ("LOW", 1),
            ("INFORMATIONAL", 1),
        ];
        let mut last = 0;
        for (sev, n) in expect {
            let at = pos(&html, &format!("<li data-severity=\"{sev}\">"));
            assert!(at > last, "counts out of order at {sev}");
            last = at;
            let li = &html[at..at + html[at..].find("</li>").unwrap_or(0)];
            assert!(
                li.contains(&format!("<span class=\"count\">{n}</span>")),
                "{li}"
            );
        }
        assert!(html.contains("5 findings (1 CRITICAL, 1 HIGH, 1 MEDIUM, 1 LOW, 1 INFORMATIONAL)"));

        let mut r = report();
        r.findings.retain(|f| f.severity == Severity::High);
        r.findings.push(r.findings[0].clone());
        let html = audit_html(&r, "Audit", "little");
        assert!(html.contains(
            "<li data-severity=\"HIGH\"><span class=\"sev sev-high\">HIGH</span> <span class=\"count\">2</span></li>"
        ));
        assert!(html.contains(
            "<li data-severity=\"CRITICAL\"><span class=\"sev sev-critical\">CRITICAL</span> <span class=\"count\">0</span></li>"
        ));
    }

    #[test]
    fn html_shows_the_empty_state() {
        let r = AuditReport::new(0, Checked::default(), vec![], vec![]);
        let html = audit_html(&r, "Audit", "little");
        assert!(html.contains("<p class=\"empty\">No findings.</p>"));
        assert!(html.contains("1970-01-01T00:00:00Z"));
        assert!(html.contains("Checked 0 repositories, 0 images, 0 stacks."));
        assert!(!html.contains("<section"));
        assert!(!html.contains("class=\"errors\""));
        assert_eq!(html.matches("<span class=\"count\">0</span>").count(), 5);

        let html = audit_html(&report(), "Audit", "little");
        assert!(!html.contains("No findings"));
    }

    #[test]
    fn html_shows_errors_in_a_warning_box() {
        let mut r = report();
        r.errors = vec![
            "scan findings of `team/x`: access denied".into(),
            "stack `y`: throttled".into(),
        ];
        let html = audit_html(&r, "Audit", "little");
        let at = pos(&html, "<section class=\"errors\" role=\"alert\">");
        assert!(at < pos(&html, "<section class=\"group\">"));
        assert!(html.contains("Not checked (2 errors)"));
        assert!(html.contains("<li>scan findings of `team/x`: access denied</li>"));
        assert!(html.contains("<li>stack `y`: throttled</li>"));

        // Errors and no findings: both the box and the empty state.
        let r = AuditReport::new(0, Checked::default(), vec![], vec!["denied".into()]);
        let html = audit_html(&r, "Audit", "little");
        assert!(html.contains("Not checked (1 error)"));
        assert!(html.contains("No findings."));
    }
}
