//! `little apply` and `little destroy` results: a summary table (stack, result, duration,
//! changes), then each failure's root cause and way out, and warnings. Also the text of stack
//! events and `little status`/`outputs`.

use std::io::Write;

use super::{table, Style};
use crate::aws::stack_ops::StackEvent;
use crate::deploy::outcome::{Outcome, StackResult};
use crate::deploy::status::{Output, StackStatus};
use crate::error::{Error, Result};

fn outcome_word(o: Outcome, destroy: bool) -> &'static str {
    match (o, destroy) {
        (Outcome::Created, _) => "created",
        (Outcome::Updated, _) => "updated",
        (Outcome::Deleted, _) => "deleted",
        (Outcome::Unchanged, _) => "no changes",
        (Outcome::Failed, _) => "FAILED",
        (Outcome::Skipped, _) => "skipped",
        (Outcome::Cancelled, _) => "cancelled",
    }
}

/// The summary of an apply (or, with `destroy`, of a destroy).
pub fn write_summary(
    w: &mut dyn Write,
    results: &[StackResult],
    destroy: bool,
    style: Style,
) -> Result<()> {
    let mut rows = vec![vec![
        "STACK".to_owned(),
        "RESULT".to_owned(),
        "DURATION".to_owned(),
        "CHANGES".to_owned(),
    ]];
    for r in results {
        rows.push(vec![
            r.stack.clone(),
            outcome_word(r.outcome, destroy).to_owned(),
            if r.duration_secs > 0.0 {
                format!("{:.1}s", r.duration_secs)
            } else {
                "-".into()
            },
            if r.changes > 0 {
                r.changes.to_string()
            } else {
                "-".into()
            },
        ]);
    }
    let mut out = String::new();
    for (i, line) in table(&rows).lines().enumerate() {
        let painted = if i == 0 {
            style.bold(line)
        } else if line.contains("FAILED") {
            style.red(line)
        } else {
            line.to_owned()
        };
        out.push_str(&painted);
        out.push('\n');
    }
    for r in results {
        if !r.root_cause.is_empty() || r.guidance.is_some() {
            out.push_str(&format!("\n{}:\n", style.bold(&r.stack)));
            for c in &r.root_cause {
                out.push_str(&format!("  {} {c}\n", style.red("cause:")));
            }
            if let Some(g) = &r.guidance {
                out.push_str(&format!("  {} {g}\n", style.blue("next:")));
            }
        }
        for wng in &r.warnings {
            out.push_str(&format!(
                "{} {}: {wng}\n",
                style.yellow("warning:"),
                r.stack
            ));
        }
    }
    w.write_all(out.as_bytes()).map_err(Error::output)
}

/// For stderr, after an apply that Ctrl-C or SIGTERM stopped: what was cleaned up and what
/// still runs in CloudFormation (the report's `cleanup`).
pub fn write_interrupted(w: &mut dyn Write, cleanup: Option<&str>, style: Style) -> Result<()> {
    writeln!(
        w,
        "{}: interrupted: {}",
        style.red("error"),
        cleanup.unwrap_or("every stack had finished")
    )
    .map_err(Error::output)
}

/// For stderr, whatever stdout carries: every stack that failed, was skipped or was not
/// deployed (deleted, with `destroy`) as an `error:` line with its first cause, then its further
/// causes and the way out. Nothing for a run in which every stack succeeded.
pub fn write_failures(
    w: &mut dyn Write,
    results: &[StackResult],
    destroy: bool,
    style: Style,
) -> Result<()> {
    let mut out = String::new();
    for r in results {
        let what = match (r.outcome, destroy) {
            (Outcome::Failed, _) => "failed",
            (Outcome::Skipped, _) => "was skipped",
            (Outcome::Cancelled, false) => "was not deployed",
            (Outcome::Cancelled, true) => "was not deleted",
            (Outcome::Created | Outcome::Updated | Outcome::Deleted | Outcome::Unchanged, _) => {
                continue
            }
        };
        let mut causes = r.root_cause.iter();
        let mut guidance = r.guidance.as_deref();
        // The first cause on the line itself; without one, the way out says why.
        let first = causes
            .next()
            .map(String::as_str)
            .or_else(|| guidance.take());
        out.push_str(&format!(
            "{}: stack `{}` {what}",
            style.red("error"),
            r.stack
        ));
        match first {
            Some(why) => out.push_str(&format!(": {why}\n")),
            None => out.push('\n'),
        }
        for c in causes {
            out.push_str(&format!("  {} {c}\n", style.red("cause:")));
        }
        if let Some(g) = guidance {
            out.push_str(&format!("  {} {g}\n", style.blue("next:")));
        }
    }
    w.write_all(out.as_bytes()).map_err(Error::output)
}

/// One event line: `07:31:24 stack Logical (Type) STATUS reason`.
pub fn event_line(stack: &str, e: &StackEvent, style: Style) -> String {
    let time = e
        .timestamp
        .split('T')
        .nth(1)
        .map(|t| t.trim_end_matches('Z').split('.').next().unwrap_or(t))
        .unwrap_or(&e.timestamp);
    let status = if e.status.ends_with("_FAILED") || e.status.contains("ROLLBACK") {
        style.red(&e.status)
    } else if e.status.ends_with("_COMPLETE") {
        style.green(&e.status)
    } else {
        e.status.clone()
    };
    let mut line = format!(
        "{time} {stack} {} ({}) {status}",
        e.logical_id, e.resource_type
    );
    if let Some(r) = &e.reason {
        line.push_str(&format!(" {}", style.dim(r)));
    }
    line
}

pub fn write_status(w: &mut dyn Write, stacks: &[StackStatus], style: Style) -> Result<()> {
    let mut rows = vec![vec![
        "STACK".to_owned(),
        "REGION".to_owned(),
        "STATUS".to_owned(),
        "LAST UPDATED".to_owned(),
        "DRIFT".to_owned(),
        "PROTECTED".to_owned(),
    ]];
    for s in stacks {
        rows.push(vec![
            s.stack.clone(),
            s.region.clone(),
            s.status.clone().unwrap_or_else(|| "not deployed".into()),
            s.last_updated.clone().unwrap_or_else(|| "-".into()),
            s.drift_status.clone().unwrap_or_else(|| "-".into()),
            if s.deployed && s.stack_set.is_none() {
                if s.termination_protection {
                    "yes"
                } else {
                    "no"
                }
                .into()
            } else {
                "-".into()
            },
        ]);
    }
    let mut out = String::new();
    for (i, line) in table(&rows).lines().enumerate() {
        out.push_str(&if i == 0 {
            style.bold(line)
        } else {
            line.to_owned()
        });
        out.push('\n');
    }
    for s in stacks {
        let Some(set) = &s.stack_set else { continue };
        let counts: Vec<String> = set.counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        out.push_str(&format!(
            "\n{} StackSet ({}): {} instance{}{}\n",
            style.bold(&s.stack),
            set.permission_model,
            set.instances.len(),
            if set.instances.len() == 1 { "" } else { "s" },
            if counts.is_empty() {
                String::new()
            } else {
                format!(" ({})", counts.join(", "))
            }
        ));
        let mut rows = vec![vec![
            "ACCOUNT".to_owned(),
            "REGION".to_owned(),
            "STATUS".to_owned(),
            "DETAIL".to_owned(),
            "DRIFT".to_owned(),
            "REASON".to_owned(),
        ]];
        for i in &set.instances {
            rows.push(vec![
                i.account.clone(),
                i.region.clone(),
                i.status.clone(),
                i.detailed_status.clone().unwrap_or_else(|| "-".into()),
                i.drift_status.clone().unwrap_or_else(|| "-".into()),
                i.status_reason.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        for line in table(&rows).lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    for s in stacks.iter().filter(|s| !s.outputs.is_empty()) {
        out.push_str(&format!("\n{} outputs:\n", style.bold(&s.stack)));
        for line in outputs_table(&s.outputs).lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    w.write_all(out.as_bytes()).map_err(Error::output)
}

fn outputs_table(outputs: &[Output]) -> String {
    let rows: Vec<Vec<String>> = outputs
        .iter()
        .map(|o| {
            vec![
                o.key.clone(),
                o.value.clone(),
                o.export_name
                    .as_deref()
                    .map(|e| format!("(export {e})"))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    table(&rows)
}

pub fn write_outputs(w: &mut dyn Write, outputs: &[Output]) -> Result<()> {
    w.write_all(outputs_table(outputs).as_bytes())
        .map_err(Error::output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(name: &str, outcome: Outcome, causes: &[&str], guidance: Option<&str>) -> StackResult {
        StackResult {
            stack: name.into(),
            outcome,
            status: None,
            duration_secs: 0.0,
            changes: 0,
            root_cause: causes.iter().map(|c| (*c).to_owned()).collect(),
            guidance: guidance.map(str::to_owned),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn failures_are_error_lines_with_their_causes_and_way_out() {
        let results = vec![
            stack("ok", Outcome::Created, &[], None),
            stack("same", Outcome::Unchanged, &[], None),
            stack(
                "base",
                Outcome::Failed,
                &[
                    "Queue (AWS::SQS::Queue) CREATE_FAILED: bad name",
                    "Topic (AWS::SNS::Topic) CREATE_FAILED: denied",
                ],
                Some("fix the cause, then `little apply base --replace-failed`"),
            ),
            stack(
                "app",
                Outcome::Skipped,
                &[],
                Some("not applied: `base`, which it depends on, did not succeed"),
            ),
            stack("late", Outcome::Cancelled, &[], None),
        ];
        let mut buf = Vec::new();
        write_failures(&mut buf, &results, false, Style::default()).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "error: stack `base` failed: Queue (AWS::SQS::Queue) CREATE_FAILED: bad name\n\
             \x20 cause: Topic (AWS::SNS::Topic) CREATE_FAILED: denied\n\
             \x20 next: fix the cause, then `little apply base --replace-failed`\n\
             error: stack `app` was skipped: not applied: `base`, which it depends on, did not succeed\n\
             error: stack `late` was not deployed\n"
        );
        let mut buf = Vec::new();
        write_failures(&mut buf, &results[..2], false, Style::default()).unwrap();
        assert!(buf.is_empty(), "a successful run has no error lines");
        let mut buf = Vec::new();
        write_failures(&mut buf, &results[4..], true, Style::default()).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "error: stack `late` was not deleted\n"
        );
    }

    #[test]
    fn a_failure_is_summarised_with_its_cause_and_way_out() {
        let results = vec![
            StackResult {
                stack: "ecr-repositories".into(),
                outcome: Outcome::Failed,
                status: Some("ROLLBACK_COMPLETE".into()),
                duration_secs: 42.0,
                changes: 0,
                root_cause: vec!["Repo (AWS::ECR::Repository) CREATE_FAILED: Invalid parameter at 'LifecyclePolicyText'".into()],
                guidance: Some("fix the cause, then `little apply ecr-repositories --replace-failed`".into()),
                warnings: Vec::new(),
            },
            StackResult {
                stack: "iam-ci".into(),
                outcome: Outcome::Created,
                status: Some("CREATE_COMPLETE".into()),
                duration_secs: 3.5,
                changes: 4,
                root_cause: Vec::new(),
                guidance: None,
                warnings: vec!["termination protection could not be enabled: denied".into()],
            },
        ];
        let mut buf = Vec::new();
        write_summary(&mut buf, &results, false, Style::default()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.starts_with("STACK             RESULT   DURATION  CHANGES\n"),
            "{text}"
        );
        assert!(
            text.contains("ecr-repositories  FAILED   42.0s     -\n"),
            "{text}"
        );
        assert!(
            text.contains("iam-ci            created  3.5s      4\n"),
            "{text}"
        );
        assert!(
            text.contains("  cause: Repo (AWS::ECR::Repository) CREATE_FAILED: Invalid parameter"),
            "{text}"
        );
        assert!(
            text.contains(
                "  next: fix the cause, then `little apply ecr-repositories --replace-failed`"
            ),
            "{text}"
        );
        assert!(
            text.contains("warning: iam-ci: termination protection could not be enabled: denied"),
            "{text}"
        );
    }

    #[test]
    fn an_interrupt_says_what_was_cleaned_up() {
        let text = |cleanup| {
            let mut w = Vec::new();
            write_interrupted(&mut w, cleanup, Style { color: false }).unwrap();
            String::from_utf8(w).unwrap()
        };
        assert_eq!(text(None), "error: interrupted: every stack had finished\n");
        assert_eq!(
            text(Some("deleted 2 change sets")),
            "error: interrupted: deleted 2 change sets\n"
        );
    }
}
