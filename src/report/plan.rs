//! `little plan` output: text for people (risks first, then the change set, then the template,
//! parameter, tag and termination-protection changes), JSON (the versioned plan document) and
//! Markdown for pull-request comments and `$GITHUB_STEP_SUMMARY`.

use std::io::Write;

use super::{table, write_json, Style};
use crate::error::{Error, Result};
use crate::plan::diff::{ChangeKind, PropertyChange};
use crate::plan::model::{InstanceRef, Plan, PlanStatus, StackPlan, StackSetPlan, ValueChange};
use crate::plan::risk::{Risk, RiskKind};
use crate::policy::expand::Permission;
use crate::report::diff::unified;

pub fn write_json_plan(w: &mut dyn Write, plan: &Plan) -> Result<()> {
    write_json(w, plan)
}

fn status_word(s: PlanStatus) -> &'static str {
    match s {
        PlanStatus::New => "new",
        PlanStatus::Changed => "changed",
        PlanStatus::Unchanged => "unchanged",
        PlanStatus::Failed => "failed",
    }
}

fn sign(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "+",
        ChangeKind::Removed => "-",
        ChangeKind::Modified => "~",
    }
}

fn risk_word(k: RiskKind) -> &'static str {
    k.word()
}

/// `, N unprotecting` in the summary line, when a plan has any.
fn unprotecting_count(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} unprotecting")
    }
}

fn permission_row(sign: &str, p: &Permission) -> Vec<String> {
    vec![
        sign.to_owned(),
        p.effect.clone(),
        p.principal.clone(),
        p.action.clone(),
        p.resource.clone(),
        p.condition.clone().unwrap_or_else(|| "-".into()),
        p.policy.clone(),
    ]
}

fn permission_rows(r: &Risk) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        String::new(),
        "EFFECT".into(),
        "PRINCIPAL".into(),
        "ACTION".into(),
        "RESOURCE".into(),
        "CONDITION".into(),
        "POLICY".into(),
    ]];
    rows.extend(r.added.iter().map(|p| permission_row("+", p)));
    rows.extend(r.removed.iter().map(|p| permission_row("-", p)));
    rows
}

fn value_text(c: &ValueChange) -> String {
    match c.kind {
        ChangeKind::Added => format!("{} = {}", c.key, c.after.as_deref().unwrap_or_default()),
        ChangeKind::Removed => format!("{} = {}", c.key, c.before.as_deref().unwrap_or_default()),
        ChangeKind::Modified if c.masked => format!("{}: (NoEcho value changed)", c.key),
        ChangeKind::Modified => format!(
            "{}: {} -> {}",
            c.key,
            c.before.as_deref().unwrap_or_default(),
            c.after.as_deref().unwrap_or_default()
        ),
    }
}

/// Text for people.
pub fn write_text(w: &mut dyn Write, plan: &Plan, style: Style) -> Result<()> {
    let mut out = String::new();
    for s in &plan.stacks {
        stack_text(&mut out, s, plan, style);
    }
    let sum = &plan.summary;
    out.push_str(&format!(
        "Plan: {} new, {} changed, {} unchanged, {} failed. Risks: {} destructive, {} broadening{}.\n",
        sum.new,
        sum.changed,
        sum.unchanged,
        sum.failed,
        sum.destructive,
        sum.broadening,
        unprotecting_count(sum.unprotecting)
    ));
    w.write_all(out.as_bytes()).map_err(Error::output)
}

/// For stderr, whatever stdout carries: every stack that could not be planned, as an `error:`
/// line with the first line of its error and the others indented below it.
pub fn write_failures(w: &mut dyn Write, plan: &Plan, style: Style) -> Result<()> {
    let mut out = String::new();
    for s in plan
        .stacks
        .iter()
        .filter(|s| s.status == PlanStatus::Failed)
    {
        let error = s.error.as_deref().unwrap_or("no reason given");
        let mut lines = error.lines();
        out.push_str(&format!(
            "{}: cannot plan stack `{}`: {}\n",
            style.red("error"),
            s.stack,
            lines.next().unwrap_or_default()
        ));
        for line in lines {
            out.push_str(&format!("  {line}\n"));
        }
    }
    w.write_all(out.as_bytes()).map_err(Error::output)
}

/// The values a stack reads that are known only after apply, grouped by why: `(why, values)`.
fn known_after_apply<'a>(s: &'a StackPlan, plan: &Plan) -> Vec<(&'static str, Vec<&'a str>)> {
    let mut changing = Vec::new();
    let mut absent = Vec::new();
    for value in &s.known_after_apply {
        let dep = value.split_once('.').map(|(d, _)| d).unwrap_or(value);
        let changes = plan
            .stacks
            .iter()
            .any(|p| p.stack == dep && p.status == PlanStatus::Changed);
        if changes {
            changing.push(value.as_str());
        } else {
            absent.push(value.as_str());
        }
    }
    [
        ("the dependency is not deployed yet", absent),
        ("the dependency changes in this plan", changing),
    ]
    .into_iter()
    .filter(|(_, values)| !values.is_empty())
    .collect()
}

/// `Formatting only` for the text plan: one line per resource.
fn formatting_text(out: &mut String, s: &StackPlan) {
    if s.formatting_only.is_empty() {
        return;
    }
    if s.status == PlanStatus::Unchanged {
        out.push_str(&format!(
            "  Formatting only, counted as unchanged (`--refresh-templates` sends {}):\n",
            if s.formatting_only.len() == 1 {
                "it"
            } else {
                "them"
            }
        ));
    } else {
        out.push_str("  Formatting only:\n");
    }
    for f in &s.formatting_only {
        out.push_str(&format!(
            "    {} ({}): {}\n",
            f.logical_id,
            f.resource_type,
            f.paths
                .iter()
                .map(|p| p.describe())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
}

fn stack_text(out: &mut String, s: &StackPlan, plan: &Plan, style: Style) {
    let status = match s.status {
        PlanStatus::New => style.green("new"),
        PlanStatus::Changed => style.yellow("changed"),
        PlanStatus::Unchanged => style.dim("unchanged"),
        PlanStatus::Failed => style.red("failed"),
    };
    let account = s
        .account_id
        .as_deref()
        .map(|a| format!(", {a}"))
        .unwrap_or_default();
    out.push_str(&format!(
        "{} ({}{account}): {status}\n",
        style.bold(&s.stack),
        s.region
    ));
    if let Some(e) = &s.error {
        for line in e.lines() {
            out.push_str(&format!("  {line}\n"));
        }
        out.push('\n');
        return;
    }
    if let Some(status) = &s.replaces_failed {
        out.push_str(&format!(
            "  {} the failed stack ({status}) is deleted, then created again; its change set is made then\n",
            style.yellow("replace:")
        ));
    }
    for r in &s.risks {
        let head = format!("! {}:", risk_word(r.kind));
        out.push_str(&format!("  {} {}\n", style.red(&head), r.reason));
        if let Some(holds) = &r.holds {
            out.push_str(&format!("    {} {holds}\n", style.yellow("now:")));
        }
        if !r.added.is_empty() || !r.removed.is_empty() {
            for line in table(&permission_rows(r)).lines() {
                let painted = if line.starts_with('+') {
                    style.green(line)
                } else if line.starts_with('-') {
                    style.red(line)
                } else {
                    line.to_owned()
                };
                out.push_str(&format!("      {painted}\n"));
            }
        }
    }
    if let Some(set) = &s.stack_set {
        stack_set_text(out, set, style);
    }
    if !s.resource_changes.is_empty() {
        out.push_str("  Change set:\n");
        let rows: Vec<Vec<String>> = s
            .resource_changes
            .iter()
            .map(|c| {
                vec![
                    c.action.clone(),
                    c.logical_id.clone(),
                    c.resource_type.clone(),
                    match c.replacement.as_deref() {
                        Some("True") => "replacement".into(),
                        Some("Conditional") => "replacement: conditional".into(),
                        _ => String::new(),
                    },
                    c.physical_id.clone().unwrap_or_default(),
                ]
            })
            .collect();
        for line in table(&rows).lines() {
            out.push_str(&format!("    {line}\n"));
        }
        for c in &s.resource_changes {
            for d in &c.details {
                let target = [d.attribute.as_deref(), d.name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(".");
                out.push_str(&format!(
                    "      {}: {target} ({}{}{}{})\n",
                    c.logical_id,
                    d.evaluation.as_deref().unwrap_or("Static"),
                    d.change_source
                        .as_deref()
                        .map(|c| format!(", {c}"))
                        .unwrap_or_default(),
                    d.causing_entity
                        .as_deref()
                        .map(|c| format!(" {c}"))
                        .unwrap_or_default(),
                    d.requires_recreation
                        .as_deref()
                        .filter(|r| *r != "Never")
                        .map(|r| format!(", recreation: {r}"))
                        .unwrap_or_default(),
                ));
            }
        }
    }
    let diff = &s.template_changes;
    if !diff.resources.is_empty() && s.status != PlanStatus::New {
        out.push_str("  Template:\n");
        for r in &diff.resources {
            out.push_str(&format!(
                "    {} {} ({})\n",
                sign(r.kind),
                r.logical_id,
                r.resource_type
            ));
            if r.kind == ChangeKind::Modified {
                for c in &r.changes {
                    property_text(out, c, style, "      ");
                }
            }
        }
    } else if s.status == PlanStatus::New {
        out.push_str(&format!(
            "  Template: {} resource{} to create\n",
            diff.resources.len(),
            if diff.resources.len() == 1 { "" } else { "s" }
        ));
        // The change set lists them already, with their actions.
        if s.resource_changes.is_empty() {
            for r in &diff.resources {
                out.push_str(&format!("    + {} ({})\n", r.logical_id, r.resource_type));
            }
        }
    }
    for (title, changes) in [
        ("Outputs", &diff.outputs),
        ("Parameter declarations", &diff.parameters),
        ("Sections", &diff.sections),
    ] {
        if !changes.is_empty() && s.status != PlanStatus::New {
            out.push_str(&format!("  {title}:\n"));
            for c in changes {
                property_text(out, c, style, "    ");
            }
        }
    }
    for (title, changes) in [
        ("Parameters", &s.parameter_changes),
        ("Tags", &s.tag_changes),
    ] {
        if !changes.is_empty() {
            out.push_str(&format!("  {title}:\n"));
            for c in changes {
                out.push_str(&format!("    {} {}\n", sign(c.kind), value_text(c)));
            }
        }
    }
    if let Some(tp) = &s.termination_protection {
        out.push_str(&format!(
            "  Termination protection: {} -> {}\n",
            tp.before, tp.after
        ));
    }
    if let Some(p) = &s.stack_policy {
        out.push_str(&format!("  Stack policy: {}\n", p.summary()));
        for st in &p.removed {
            out.push_str(&format!("    {} {st}\n", style.red("-")));
        }
        for st in &p.added {
            out.push_str(&format!("    {} {st}\n", style.green("+")));
        }
    }
    formatting_text(out, s);
    for (why, values) in known_after_apply(s, plan) {
        out.push_str(&format!(
            "  Known after apply: {} ({why})\n",
            values.join(", ")
        ));
    }
    if let Some(why) = &s.change_set_reason {
        out.push_str(&format!("  Change set made: {why}\n"));
    }
    out.push('\n');
}

/// A StackSet's targets, instance changes and operations, in the text plan.
fn stack_set_text(out: &mut String, set: &StackSetPlan, style: Style) {
    out.push_str(&format!(
        "  StackSet ({}): {} in {}; {} instance{} deployed\n",
        set.permission_model,
        set.targets,
        set.regions.join(", "),
        set.instances.len(),
        if set.instances.len() == 1 { "" } else { "s" }
    ));
    let line = |i: &InstanceRef| {
        format!(
            "{} {}{}",
            i.account,
            i.region,
            i.organizational_unit
                .as_deref()
                .map(|o| format!(" ({o})"))
                .unwrap_or_default()
        )
    };
    if !set.add.is_empty() {
        out.push_str(&format!("  Instances added ({}):\n", set.add.len()));
        for i in &set.add {
            out.push_str(&format!("    {} {}\n", style.green("+"), line(i)));
        }
    }
    if !set.remove.is_empty() {
        out.push_str(&format!(
            "  Instances removed ({}, stacks {}):\n",
            set.remove.len(),
            if set.retain_removed {
                "retained"
            } else {
                "deleted"
            }
        ));
        for i in &set.remove {
            out.push_str(&format!("    {} {}\n", style.red("-"), line(i)));
        }
    }
    if !set.unhealthy.is_empty() {
        out.push_str("  Instances not CURRENT:\n");
        for i in &set.unhealthy {
            out.push_str(&format!(
                "    {} {} {}{}\n",
                i.account,
                i.region,
                i.status,
                i.status_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ));
        }
    }
    for c in &set.setting_changes {
        out.push_str(&format!("  Setting: {} {}\n", sign(c.kind), value_text(c)));
    }
    if !set.operations.is_empty() {
        out.push_str("  Operations:\n");
        for (n, op) in set.operations.iter().enumerate() {
            out.push_str(&format!("    {}. {op}\n", n + 1));
        }
    }
}

fn property_text(out: &mut String, c: &PropertyChange, style: Style, indent: &str) {
    out.push_str(&format!("{indent}{} {}\n", sign(c.kind), c.path));
    let text = unified(c.before.as_ref(), c.after.as_ref(), style.color);
    for line in text.lines() {
        out.push_str(&format!("{indent}    {line}\n"));
    }
}

/// Markdown for pull-request comments and `$GITHUB_STEP_SUMMARY`.
pub fn write_markdown(w: &mut dyn Write, plan: &Plan) -> Result<()> {
    let mut out = String::new();
    let sum = &plan.summary;
    out.push_str(&format!("## little plan: `{}`\n\n", plan.project));
    out.push_str(&format!(
        "**{} new, {} changed, {} unchanged, {} failed** · risks: **{} destructive, {} broadening{}**\n\n",
        sum.new,
        sum.changed,
        sum.unchanged,
        sum.failed,
        sum.destructive,
        sum.broadening,
        unprotecting_count(sum.unprotecting)
    ));
    out.push_str("| Stack | Region | Status | Risks |\n|---|---|---|---|\n");
    for s in &plan.stacks {
        let formatting = if s.formatting_only.is_empty() || s.status != PlanStatus::Unchanged {
            String::new()
        } else {
            format!(
                " (formatting only: {})",
                s.formatting_only
                    .iter()
                    .map(|f| format!("`{}`", f.logical_id))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push_str(&format!(
            "| `{}` | {} | {}{formatting} | {} |\n",
            s.stack,
            s.region,
            status_word(s.status),
            if s.risks.is_empty() {
                "-".to_owned()
            } else {
                s.risks
                    .iter()
                    .map(|r| risk_word(r.kind))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
    }
    out.push('\n');
    for s in plan
        .stacks
        .iter()
        .filter(|s| s.status != PlanStatus::Unchanged)
    {
        out.push_str(&format!("### `{}`: {}\n\n", s.stack, status_word(s.status)));
        if let Some(e) = &s.error {
            out.push_str(&format!("```\n{}\n```\n\n", e.trim_end()));
            continue;
        }
        if let Some(status) = &s.replaces_failed {
            out.push_str(&format!(
                "The failed stack ({status}) is deleted, then created again.\n\n"
            ));
        }
        for r in &s.risks {
            let holds = r
                .holds
                .as_ref()
                .map(|h| format!("\n> Now: {}", md_escape(h)))
                .unwrap_or_default();
            out.push_str(&format!(
                "> [!WARNING]\n> **{}**: {}{holds}\n\n",
                risk_word(r.kind),
                md_escape(&r.reason)
            ));
            if !r.added.is_empty() || !r.removed.is_empty() {
                out.push_str("| | Effect | Principal | Action | Resource | Condition | Policy |\n|---|---|---|---|---|---|---|\n");
                for (sign, p) in r
                    .added
                    .iter()
                    .map(|p| ("+", p))
                    .chain(r.removed.iter().map(|p| ("-", p)))
                {
                    out.push_str(&format!(
                        "| {sign} | {} | `{}` | `{}` | `{}` | {} | {} |\n",
                        p.effect,
                        p.principal,
                        p.action,
                        p.resource,
                        p.condition
                            .as_deref()
                            .map(|c| format!("`{}`", c.replace('|', "\\|")))
                            .unwrap_or_else(|| "-".into()),
                        md_escape(&p.policy)
                    ));
                }
                out.push('\n');
            }
        }
        if let Some(set) = &s.stack_set {
            out.push_str(&format!(
                "StackSet ({}): {} in {}; {} instances deployed, **+{} / -{}**{}\n\n",
                set.permission_model,
                set.targets,
                set.regions.join(", "),
                set.instances.len(),
                set.add.len(),
                set.remove.len(),
                if set.remove.is_empty() || set.retain_removed {
                    ""
                } else {
                    " (removed stacks are deleted)"
                }
            ));
            if !set.add.is_empty() || !set.remove.is_empty() {
                out.push_str("| | Account | Region |\n|---|---|---|\n");
                for (sign, i) in set
                    .add
                    .iter()
                    .map(|i| ("+", i))
                    .chain(set.remove.iter().map(|i| ("-", i)))
                {
                    out.push_str(&format!("| {sign} | {} | {} |\n", i.account, i.region));
                }
                out.push('\n');
            }
            for (n, op) in set.operations.iter().enumerate() {
                out.push_str(&format!("{}. {}\n", n + 1, md_escape(&op.to_string())));
            }
            if !set.operations.is_empty() {
                out.push('\n');
            }
        }
        if !s.resource_changes.is_empty() {
            out.push_str("| Action | Logical ID | Type | Replacement |\n|---|---|---|---|\n");
            for c in &s.resource_changes {
                out.push_str(&format!(
                    "| {} | `{}` | `{}` | {} |\n",
                    c.action,
                    c.logical_id,
                    c.resource_type,
                    c.replacement.as_deref().unwrap_or("-")
                ));
            }
            out.push('\n');
        }
        let modified: Vec<_> = s
            .template_changes
            .resources
            .iter()
            .filter(|r| r.kind == ChangeKind::Modified)
            .collect();
        if !modified.is_empty() {
            out.push_str("<details><summary>Template diff</summary>\n\n```diff\n");
            for r in modified {
                for c in &r.changes {
                    out.push_str(&format!("# {} {}\n", r.logical_id, c.path));
                    out.push_str(&unified(c.before.as_ref(), c.after.as_ref(), false));
                }
            }
            out.push_str("```\n\n</details>\n\n");
        }
        let values: Vec<(&str, &ValueChange)> = s
            .parameter_changes
            .iter()
            .map(|c| ("parameter", c))
            .chain(s.tag_changes.iter().map(|c| ("tag", c)))
            .collect();
        if !values.is_empty() {
            out.push_str("| | Kind | Change |\n|---|---|---|\n");
            for (kind, c) in values {
                out.push_str(&format!(
                    "| {} | {kind} | `{}` |\n",
                    sign(c.kind),
                    value_text(c).replace('|', "\\|")
                ));
            }
            out.push('\n');
        }
        if let Some(tp) = &s.termination_protection {
            out.push_str(&format!(
                "Termination protection: {} → {}\n\n",
                tp.before, tp.after
            ));
        }
        if let Some(p) = &s.stack_policy {
            out.push_str(&format!("Stack policy: {}\n\n```diff\n", p.summary()));
            for st in &p.removed {
                out.push_str(&format!("- {st}\n"));
            }
            for st in &p.added {
                out.push_str(&format!("+ {st}\n"));
            }
            out.push_str("```\n\n");
        }
        if !s.formatting_only.is_empty() {
            out.push_str("Formatting only:\n\n");
            for f in &s.formatting_only {
                out.push_str(&format!(
                    "- `{}` (`{}`): {}\n",
                    f.logical_id,
                    f.resource_type,
                    md_escape(
                        &f.paths
                            .iter()
                            .map(|p| p.describe())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                ));
            }
            out.push('\n');
        }
        for (why, values) in known_after_apply(s, plan) {
            out.push_str(&format!(
                "Known after apply ({why}): {}\n\n",
                values
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(why) = &s.change_set_reason {
            out.push_str(&format!("Change set made: {}\n\n", md_escape(why)));
        }
    }
    w.write_all(out.as_bytes()).map_err(Error::output)
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(name: &str, status: &str, error: Option<&str>) -> StackPlan {
        serde_json::from_value(serde_json::json!({
            "stack": name, "region": "us-east-1", "account_id": null, "status": status,
            "error": error, "deployed": null, "risks": [],
            "template_changes": {"resources": [], "outputs": [], "parameters": [], "sections": []},
            "parameter_changes": [], "tag_changes": [], "resource_changes": [],
            "change_set": null, "known_after_apply": [],
            "hashes": {"template_sha256": "", "parameters_sha256": ""}
        }))
        .unwrap()
    }

    #[test]
    fn failures_are_error_lines_on_their_own() {
        let plan = Plan::new(
            "p",
            1,
            vec![
                stack("fine", "new", None),
                stack(
                    "broken",
                    "failed",
                    Some("templates/a.json.njk:3:7: undefined value\n  in include b.njk"),
                ),
                stack(
                    "denied",
                    "failed",
                    Some("CreateChangeSet failed: access denied"),
                ),
            ],
        );
        let mut buf = Vec::new();
        write_failures(&mut buf, &plan, Style::default()).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "error: cannot plan stack `broken`: templates/a.json.njk:3:7: undefined value\n\
             \x20   in include b.njk\n\
             error: cannot plan stack `denied`: CreateChangeSet failed: access denied\n"
        );
        let fine = Plan::new("p", 1, vec![stack("fine", "unchanged", None)]);
        let mut buf = Vec::new();
        write_failures(&mut buf, &fine, Style::default()).unwrap();
        assert!(buf.is_empty());
    }
}
