//! `little drift`: per stack, the resources that drifted and how, as text or JSON.

use std::io::Write;

use super::{write_json, Style};
use crate::audit::drift::{DriftMethod, DriftReport};
use crate::error::{Error, Result};

/// Per stack a line with its verdict; per drifted resource
/// `~ Repo (AWS::ECR::Repository) MODIFIED`, then `path: expected -> actual` per difference;
/// then what was not checked.
pub fn write_text(w: &mut dyn Write, report: &DriftReport, style: Style) -> Result<()> {
    let mut out = String::new();
    for s in &report.stacks {
        if let Some(error) = &s.error {
            out.push_str(&format!(
                "{}: {} {error}\n",
                style.bold(&s.stack),
                style.red("error:")
            ));
            continue;
        }
        let verdict = if s.method == DriftMethod::None {
            style.dim(s.note.as_deref().unwrap_or("not checked"))
        } else if s.drifted {
            style.yellow("drifted")
        } else {
            style.green("in sync")
        };
        let method = if s.method == DriftMethod::None {
            String::new()
        } else {
            style.dim(&format!(" ({})", s.method))
        };
        out.push_str(&format!("{}: {verdict}{method}\n", style.bold(&s.stack)));
        if s.method != DriftMethod::None {
            if let Some(note) = &s.note {
                out.push_str(&format!("  {}\n", style.dim(note)));
            }
        }
        for r in &s.resources {
            let mark = if r.status == "DELETED" {
                style.red("-")
            } else {
                style.yellow("~")
            };
            out.push_str(&format!(
                "  {mark} {} ({}) {}\n",
                r.logical_id, r.resource_type, r.status
            ));
            for d in &r.differences {
                if let Some(lines) = document_diff(&d.expected, &d.actual, style) {
                    out.push_str(&format!("      {}:\n", d.path));
                    for line in lines.lines() {
                        out.push_str(&format!("        {line}\n"));
                    }
                    continue;
                }
                let expected = if d.expected.is_empty() {
                    "(none)"
                } else {
                    &d.expected
                };
                let actual = if d.actual.is_empty() {
                    "(none)"
                } else {
                    &d.actual
                };
                out.push_str(&format!("      {}: {expected} -> {actual}\n", d.path));
            }
        }
        if !s.not_checked.is_empty() {
            out.push_str(&format!(
                "  {}\n",
                style.dim(&format!("not checked: {}", s.not_checked.join(", ")))
            ));
        }
    }
    if report.stacks.is_empty() {
        out.push_str("no stacks\n");
    }
    w.write_all(out.as_bytes()).map_err(Error::output)
}

/// A line diff of two JSON documents (objects or arrays, such as a role's policy), which read
/// badly on one line each; `None` for other values, shown as `expected -> actual`.
fn document_diff(expected: &str, actual: &str, style: Style) -> Option<String> {
    let document = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
    };
    let (expected, actual) = (document(expected)?, document(actual)?);
    let diff = super::diff::unified(Some(&expected), Some(&actual), style.color);
    (!diff.is_empty()).then_some(diff)
}

pub fn write_json_report(w: &mut dyn Write, report: &DriftReport) -> Result<()> {
    write_json(w, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::drift::StackDriftResult;
    use crate::aws::drift::{PropertyDifference, ResourceDrift};

    fn report() -> DriftReport {
        DriftReport {
            stacks: vec![
                StackDriftResult {
                    stack: "ecr-repositories".into(),
                    method: DriftMethod::CloudFormation,
                    drifted: true,
                    resources: vec![ResourceDrift {
                        logical_id: "Repo".into(),
                        physical_id: Some("little/api".into()),
                        resource_type: "AWS::ECR::Repository".into(),
                        status: "MODIFIED".into(),
                        differences: vec![PropertyDifference {
                            path: "/ImageTagMutability".into(),
                            expected: "IMMUTABLE".into(),
                            actual: "MUTABLE".into(),
                            kind: "NOT_EQUAL".into(),
                        }],
                    }],
                    not_checked: vec!["Rule (AWS::Events::Rule)".into()],
                    note: None,
                    error: None,
                },
                StackDriftResult {
                    stack: "iam-ci".into(),
                    method: DriftMethod::Direct,
                    drifted: false,
                    resources: Vec::new(),
                    not_checked: Vec::new(),
                    note: None,
                    error: None,
                },
                StackDriftResult {
                    stack: "scan-notify".into(),
                    method: DriftMethod::None,
                    drifted: false,
                    resources: Vec::new(),
                    not_checked: Vec::new(),
                    note: Some("not deployed".into()),
                    error: None,
                },
                StackDriftResult::failed(
                    "iam-humans",
                    &Error::Aws {
                        operation: "cloudformation:DescribeStacks".into(),
                        message: "AccessDenied: no".into(),
                    },
                ),
            ],
        }
    }

    #[test]
    fn text_shows_each_drifted_property() {
        let mut out = Vec::new();
        write_text(&mut out, &report(), Style::default()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ecr-repositories: drifted (cloudformation)\n  ~ Repo (AWS::ECR::Repository) MODIFIED\n      /ImageTagMutability: IMMUTABLE -> MUTABLE\n  not checked: Rule (AWS::Events::Rule)\niam-ci: in sync (direct)\nscan-notify: not deployed\niam-humans: error: cloudformation:DescribeStacks failed: AccessDenied: no\n"
        );
    }

    #[test]
    fn a_changed_policy_document_is_shown_as_a_line_diff() {
        let mut r = report();
        r.stacks.truncate(1);
        r.stacks[0].resources[0].differences = vec![PropertyDifference {
            path: "/Policies/0/PolicyDocument".into(),
            expected: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}"#.into(),
            actual: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#.into(),
            kind: "NOT_EQUAL".into(),
        }];
        let mut out = Vec::new();
        write_text(&mut out, &r, Style::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("      /Policies/0/PolicyDocument:\n        @@"),
            "{text}"
        );
        assert!(
            text.contains("\n        -      \"Action\": \"ecr:BatchGetImage\",\n        +      \"Action\": \"ecr:*\",\n"),
            "{text}"
        );
        assert!(!text.contains("->"), "{text}");
    }

    #[test]
    fn json_round_trips() {
        let mut out = Vec::new();
        write_json_report(&mut out, &report()).unwrap();
        let back: DriftReport = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, report());
    }
}
