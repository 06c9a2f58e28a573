//! `little audit` output: a text table grouped by resource, JSON (the versioned report),
//! SARIF 2.1.0 for code scanning, JUnit XML for CI test reports, and Markdown.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::json;

use super::{table, write_json, Style};
use crate::audit::model::{AuditReport, Finding, Severity};
use crate::error::{Error, Result};
use crate::text::plural;

fn paint(style: Style, s: Severity) -> String {
    match s {
        Severity::Critical | Severity::High => style.red(s.as_str()),
        Severity::Medium => style.yellow(s.as_str()),
        _ => s.as_str().to_owned(),
    }
}

/// The summary line: `3 findings (1 CRITICAL, 2 HIGH) in 12 repositories, 40 images, 8 stacks`.
pub fn summary(report: &AuditReport) -> String {
    let mut counts: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
    for f in &report.findings {
        *counts.entry(std::cmp::Reverse(f.severity)).or_default() += 1;
    }
    let by = counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.0))
        .collect::<Vec<_>>()
        .join(", ");
    let n = report.findings.len();
    format!(
        "{}{} in {}, {}, {}{}",
        plural(n, "finding", "findings"),
        if by.is_empty() {
            String::new()
        } else {
            format!(" ({by})")
        },
        plural(report.checked.repositories, "repository", "repositories"),
        plural(report.checked.images, "image", "images"),
        plural(report.checked.stacks, "stack", "stacks"),
        match report.accounts.len() {
            0 | 1 => String::new(),
            n => format!(", {n} accounts"),
        }
    )
}

/// Whether the report spans several accounts, so that findings are grouped by account.
fn multi_account(report: &AuditReport) -> bool {
    report.accounts.len() > 1
        || report
            .findings
            .iter()
            .filter_map(|f| f.account.as_deref())
            .any(|a| Some(a) != report.findings.iter().find_map(|f| f.account.as_deref()))
}

/// `name (id)` of an account, or the id when its name is unknown.
fn account_label(report: &AuditReport, id: &str) -> String {
    match report.accounts.get(id) {
        Some(name) if name != id => format!("{name} ({id})"),
        _ => id.to_owned(),
    }
}

/// Text: one block per resource, its findings worst first; when the audit reached several
/// accounts, the blocks are grouped under a heading per account (name and id).
pub fn write_text(w: &mut dyn Write, report: &AuditReport, style: Style) -> Result<()> {
    let mut out = String::new();
    let by_account = multi_account(report);
    let mut per_account: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &report.findings {
        *per_account
            .entry(f.account.as_deref().unwrap_or(""))
            .or_default() += 1;
    }
    let mut current_account: Option<&Option<String>> = None;
    let mut current: Option<(&Option<String>, &Option<String>, &str)> = None;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let flush = |out: &mut String, rows: &mut Vec<Vec<String>>| {
        for line in table(rows).lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        rows.clear();
    };
    for f in &report.findings {
        let key = (&f.account, &f.region, f.resource.as_str());
        if current != Some(key) {
            flush(&mut out, &mut rows);
            if by_account && current_account != Some(&f.account) {
                let id = f.account.as_deref().unwrap_or("");
                let n = per_account.get(id).copied().unwrap_or(0);
                out.push_str(&format!(
                    "{}\n",
                    style.bold(&format!(
                        "== account {}: {n} finding{}",
                        if id.is_empty() {
                            "(none)".to_owned()
                        } else {
                            account_label(report, id)
                        },
                        if n == 1 { "" } else { "s" }
                    ))
                ));
                current_account = Some(&f.account);
            }
            let account = f.account.as_deref().filter(|_| !by_account);
            let place = [account, f.region.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            out.push_str(&format!(
                "{}{}\n",
                style.bold(&f.resource),
                if place.is_empty() {
                    String::new()
                } else {
                    format!(" ({place})")
                }
            ));
            current = Some(key);
        }
        let mut message = f.message.clone();
        if let Some(r) = &f.remediation {
            message.push_str(&format!(
                " [{} {}: {} -> {}]",
                if r.applied {
                    "remediated by"
                } else {
                    "--remediate would call"
                },
                r.action,
                r.before,
                r.after
            ));
        }
        rows.push(vec![
            paint(style, f.severity),
            f.check.clone(),
            f.control.clone().unwrap_or_else(|| "-".into()),
            message,
        ]);
    }
    flush(&mut out, &mut rows);
    for e in &report.errors {
        out.push_str(&format!("{} {e}\n", style.yellow("not checked:")));
    }
    for n in &report.not_checked {
        out.push_str(&format!(
            "{} {}\n",
            style.yellow("not checked:"),
            not_checked_line(report, n)
        ));
    }
    out.push_str(&summary(report));
    out.push('\n');
    w.write_all(out.as_bytes()).map_err(Error::output)
}

/// One not-checked line: the check, where (with several accounts), the denied permission.
fn not_checked_line(report: &AuditReport, n: &crate::audit::model::NotChecked) -> String {
    let place = match (&n.account, &n.region) {
        (Some(a), Some(r)) if multi_account(report) => {
            format!(" (account {}, {r})", account_label(report, a))
        }
        (_, Some(r)) => format!(" ({r})"),
        _ => String::new(),
    };
    let remediation = n.permission == crate::audit::ecr::REMEDIATION_ACTION;
    // A Kubernetes cluster's RBAC (`kubernetes:list pods (cluster prod)`), else IAM.
    let who = if n.permission.starts_with("kubernetes:") {
        "Kubernetes RBAC"
    } else {
        "IAM"
    };
    format!(
        "`{}`{place}: {who} denied `{}`{}",
        n.check,
        n.permission,
        if remediation { " (not remediated)" } else { "" }
    )
}

pub fn write_json_report(w: &mut dyn Write, report: &AuditReport) -> Result<()> {
    write_json(w, report)
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

/// SARIF 2.1.0: one rule per check, one result per finding, located at the resource's ARN.
pub fn sarif(report: &AuditReport) -> serde_json::Value {
    let mut rules: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in &report.findings {
        rules.entry(f.check.as_str()).or_insert(f);
    }
    let rule_ids: Vec<&str> = rules.keys().copied().collect();
    let rules_json: Vec<serde_json::Value> = rules
        .iter()
        .map(|(id, f)| {
            json!({
                "id": id,
                "name": id.replace(['.', '-'], "_"),
                "shortDescription": {"text": match &f.control {
                    Some(c) => format!("{id} (Security Hub {c})"),
                    None => id.to_string(),
                }},
                "properties": {"securityHubControl": f.control},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            let uri = f.arn.clone().unwrap_or_else(|| {
                format!("{}/{}", f.resource_type.replace("::", "/"), f.resource)
            });
            json!({
                "ruleId": f.check,
                "ruleIndex": rule_ids.iter().position(|r| *r == f.check),
                "level": sarif_level(f.severity),
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": uri}},
                    "logicalLocations": [{"name": f.resource, "kind": "resource", "fullyQualifiedName": f.resource_type}]
                }],
                "properties": {
                    "severity": f.severity.as_str(),
                    "account": f.account,
                    "region": f.region,
                    "remediated": f.remediation.as_ref().map(|r| r.applied),
                },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "little",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/little-stack/little-stack",
                "rules": rules_json,
            }},
            "results": results,
        }]
    })
}

pub fn write_sarif(w: &mut dyn Write, report: &AuditReport) -> Result<()> {
    write_json(w, &sarif(report))
}

/// Escapes `&`, `<`, `>`, `"` and `'` for XML text and attribute values; also used for HTML.
pub(crate) fn xml_escape(s: &str) -> String {
    crate::notify::escape::html(s)
}

/// JUnit XML: a test suite per check, a test case per finding (failed), so CI shows each
/// non-compliant resource.
pub fn junit(report: &AuditReport) -> String {
    let mut by_check: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        by_check.entry(f.check.as_str()).or_default().push(f);
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"little audit\" tests=\"{0}\" failures=\"{0}\" errors=\"{1}\">\n",
        report.findings.len(),
        report.errors.len()
    ));
    for (check, findings) in &by_check {
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{1}\" failures=\"{1}\">\n",
            xml_escape(check),
            findings.len()
        ));
        for f in findings {
            let name = match (&f.account, &f.region) {
                (Some(a), Some(r)) => format!("{} ({a} {r})", f.resource),
                _ => f.resource.clone(),
            };
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n      <failure type=\"{}\" message=\"{}\"/>\n    </testcase>\n",
                xml_escape(check),
                xml_escape(&name),
                f.severity.as_str(),
                xml_escape(&f.message)
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    if !report.errors.is_empty() {
        out.push_str(&format!(
            "  <testsuite name=\"not checked\" tests=\"{0}\" errors=\"{0}\">\n",
            report.errors.len()
        ));
        for (i, e) in report.errors.iter().enumerate() {
            out.push_str(&format!(
                "    <testcase classname=\"not checked\" name=\"error {}\">\n      <error message=\"{}\"/>\n    </testcase>\n",
                i + 1,
                xml_escape(e)
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

pub fn write_junit(w: &mut dyn Write, report: &AuditReport) -> Result<()> {
    w.write_all(junit(report).as_bytes()).map_err(Error::output)
}

/// Markdown for pull requests, issues and `$GITHUB_STEP_SUMMARY`.
pub fn write_markdown(w: &mut dyn Write, report: &AuditReport) -> Result<()> {
    let mut out = format!("## little audit\n\n**{}**\n\n", summary(report));
    if !report.findings.is_empty() {
        let by_account = multi_account(report);
        out.push_str(if by_account {
            "| Severity | Account | Region | Resource | Check | Control | Finding |\n|---|---|---|---|---|---|---|\n"
        } else {
            "| Severity | Resource | Check | Control | Finding |\n|---|---|---|---|---|\n"
        });
        for f in &report.findings {
            let place = if by_account {
                format!(
                    " {} | {} |",
                    f.account
                        .as_deref()
                        .map(|a| account_label(report, a).replace('|', "\\|"))
                        .unwrap_or_else(|| "-".into()),
                    f.region.as_deref().unwrap_or("-")
                )
            } else {
                String::new()
            };
            out.push_str(&format!(
                "| {} |{place} `{}` | `{}` | {} | {}{} |\n",
                f.severity,
                f.resource,
                f.check,
                f.control.as_deref().unwrap_or("-"),
                f.message.replace('|', "\\|"),
                match &f.remediation {
                    Some(r) if r.applied => " (remediated)".to_owned(),
                    _ => String::new(),
                }
            ));
        }
        out.push('\n');
    }
    for e in &report.errors {
        out.push_str(&format!("- not checked: {}\n", e.replace('|', "\\|")));
    }
    for n in &report.not_checked {
        out.push_str(&format!("- not checked: {}\n", not_checked_line(report, n)));
    }
    w.write_all(out.as_bytes()).map_err(Error::output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::model::{Checked, Remediation};

    fn report() -> AuditReport {
        let f = |check: &str, sev, res: &str, msg: &str| Finding {
            check: check.into(),
            control: Some("ECR.2".into()),
            severity: sev,
            resource: res.into(),
            resource_type: "AWS::ECR::Repository".into(),
            arn: Some(format!(
                "arn:aws:ecr:us-east-1:123456789012:repository/{res}"
            )),
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            message: msg.into(),
            remediation: None,
        };
        let mut a = f(
            "ecr.tag-immutability",
            Severity::High,
            "team/api",
            "tags are `MUTABLE` & <open>",
        );
        a.remediation = Some(Remediation {
            action: "ecr:PutImageTagMutability".into(),
            before: "MUTABLE".into(),
            after: "IMMUTABLE".into(),
            applied: true,
        });
        AuditReport::new(
            1,
            Checked {
                repositories: 2,
                images: 3,
                stacks: 0,
            },
            vec![
                a,
                f(
                    "ecr.lifecycle",
                    Severity::Medium,
                    "team/web",
                    "no lifecycle policy",
                ),
            ],
            vec!["scan findings of `x`: denied".into()],
        )
    }

    #[test]
    fn sarif_has_the_required_shape() {
        let s = sarif(&report());
        assert_eq!(s["version"], "2.1.0");
        let run = &s["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "little");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        for r in results {
            let idx = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[idx]["id"], r["ruleId"]);
            assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
            assert!(r["message"]["text"].is_string());
            assert!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string());
        }
    }

    #[test]
    fn several_accounts_are_grouped_and_named() {
        let mut r = report();
        r.findings[1].account = Some("210987654321".into());
        r.accounts = [
            ("123456789012".to_owned(), "tooling".to_owned()),
            ("210987654321".to_owned(), "prod".to_owned()),
        ]
        .into();
        let mut buf = Vec::new();
        write_text(&mut buf, &r, Style::default()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.starts_with(
                "== account tooling (123456789012): 1 finding\nteam/api (us-east-1)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\n== account prod (210987654321): 1 finding\nteam/web (us-east-1)\n"),
            "{text}"
        );
        assert!(text.ends_with(", 0 stacks, 2 accounts\n"), "{text}");
        let mut md = Vec::new();
        write_markdown(&mut md, &r).unwrap();
        let md = String::from_utf8(md).unwrap();
        assert!(
            md.contains("| Severity | Account | Region | Resource |"),
            "{md}"
        );
        assert!(
            md.contains("| MEDIUM | prod (210987654321) | us-east-1 | `team/web` |"),
            "{md}"
        );
        // One account: no account column.
        let mut md = Vec::new();
        write_markdown(&mut md, &report()).unwrap();
        assert!(String::from_utf8(md)
            .unwrap()
            .contains("| Severity | Resource | Check |"));
    }

    #[test]
    fn checks_kept_from_running_by_iam_are_listed_in_text_and_markdown() {
        let mut r = report();
        r.not_checked.push(crate::audit::model::NotChecked {
            check: "ecr.lifecycle".into(),
            permission: "ecr:GetLifecyclePolicy".into(),
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            reason: "denied".into(),
        });
        let mut buf = Vec::new();
        write_text(&mut buf, &r, Style::default()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.contains(
                "not checked: `ecr.lifecycle` (us-east-1): IAM denied `ecr:GetLifecyclePolicy`\n"
            ),
            "{text}"
        );
        let mut md = Vec::new();
        write_markdown(&mut md, &r).unwrap();
        let md = String::from_utf8(md).unwrap();
        assert!(
            md.contains(
                "- not checked: `ecr.lifecycle` (us-east-1): IAM denied `ecr:GetLifecyclePolicy`\n"
            ),
            "{md}"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json["not_checked"][0]["permission"],
            "ecr:GetLifecyclePolicy"
        );
        // A cluster's RBAC denial, in no account or region.
        r.not_checked = vec![crate::audit::model::NotChecked {
            check: "ecr.lifecycle-expires-in-use".into(),
            permission: "kubernetes:list pods (cluster prod)".into(),
            account: None,
            region: None,
            reason: "denied".into(),
        }];
        let mut buf = Vec::new();
        write_text(&mut buf, &r, Style::default()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.contains("not checked: `ecr.lifecycle-expires-in-use`: Kubernetes RBAC denied `kubernetes:list pods (cluster prod)`\n"),
            "{text}"
        );
        // Absent from the JSON when every check ran.
        assert!(serde_json::to_value(report())
            .unwrap()
            .get("not_checked")
            .is_none());
    }

    #[test]
    fn junit_escapes_and_counts() {
        let x = junit(&report());
        assert!(x.starts_with("<?xml version=\"1.0\""));
        assert!(x.contains("tests=\"2\" failures=\"2\" errors=\"1\""));
        assert!(x.contains("tags are `MUTABLE` &amp; &lt;open&gt;"), "{x}");
        assert!(!x.contains("& <open>"));
    }

    #[test]
    fn text_groups_by_resource_and_shows_remediation() {
        let mut buf = Vec::new();
        write_text(&mut buf, &report(), Style::default()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.contains("team/api (123456789012 us-east-1)"), "{text}");
        assert!(
            text.contains("[remediated by ecr:PutImageTagMutability: MUTABLE -> IMMUTABLE]"),
            "{text}"
        );
        assert!(text.contains("not checked: scan findings of `x`: denied"));
        assert!(
            text.ends_with("2 findings (1 HIGH, 1 MEDIUM) in 2 repositories, 3 images, 0 stacks\n"),
            "{text}"
        );
    }
}
