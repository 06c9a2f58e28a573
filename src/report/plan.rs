//! `little plan` output for people and programs: text (risks first, then the change set, then
//! the template, parameter, tag and termination-protection changes; fitted to a width), the
//! summary table (`--summary`), and JSON (the versioned plan document). Markdown, for
//! pull-request comments and job summaries, is `plan_markdown`.

use std::io::Write;

use super::permissions::{statements, Statement};
use super::{fit_table, write_json, Layout, Style};
use crate::error::{Error, Result};
use crate::plan::diff::{ChangeKind, FormattingOnly, PropertyChange};
use crate::plan::model::{InstanceRef, Plan, PlanStatus, StackPlan, StackSetPlan, ValueChange};
use crate::plan::risk::{Risk, RiskKind};
use crate::report::diff::unified;
use crate::text::{columns, pack, plural, wrap, wrap_value};

pub fn write_json_plan(w: &mut dyn Write, plan: &Plan) -> Result<()> {
    write_json(w, plan)
}

pub(super) fn status_word(s: PlanStatus) -> &'static str {
    match s {
        PlanStatus::New => "new",
        PlanStatus::Changed => "changed",
        PlanStatus::Unchanged => "unchanged",
        PlanStatus::Failed => "failed",
    }
}

pub(super) fn sign(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "+",
        ChangeKind::Removed => "-",
        ChangeKind::Modified => "~",
    }
}

/// `, N unprotecting` in the summary line, when a plan has any.
pub(super) fn unprotecting_count(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} unprotecting")
    }
}

/// The plan's last line: `Plan: 1 new, ... Risks: 0 destructive, 2 broadening.`
fn totals(plan: &Plan) -> String {
    let sum = &plan.summary;
    format!(
        "Plan: {} new, {} changed, {} unchanged, {} failed. Risks: {} destructive, {} broadening{}.",
        sum.new,
        sum.changed,
        sum.unchanged,
        sum.failed,
        sum.destructive,
        sum.broadening,
        unprotecting_count(sum.unprotecting)
    )
}

/// What a stack's change is, in a few words for a summary table: `new: 5 to add`,
/// `changed: 1 to modify (1 replaced), 1 to remove`, `no changes`, `failed`.
pub fn change_words(s: &StackPlan) -> String {
    let mut parts: Vec<String> = Vec::new();
    let count = |n: usize, what: &str| (n > 0).then(|| format!("{n} {what}"));
    if !s.resource_changes.is_empty() {
        let of = |action: &str| {
            s.resource_changes
                .iter()
                .filter(|c| c.action == action)
                .count()
        };
        let replaced = s
            .resource_changes
            .iter()
            .filter(|c| c.replacement.as_deref() == Some("True"))
            .count();
        parts.extend(count(of("Add"), "to add"));
        parts.extend(count(of("Modify"), "to modify").map(|m| {
            if replaced > 0 {
                format!("{m} ({replaced} replaced)")
            } else {
                m
            }
        }));
        parts.extend(count(of("Remove"), "to remove"));
        parts.extend(count(of("Import"), "to import"));
        parts.extend(count(of("Dynamic"), "dynamic"));
    } else if s.has_changes() {
        // No change set (a StackSet, or a stack whose change set is made at apply): the
        // template's resources.
        let of = |kind: ChangeKind| {
            s.template_changes
                .resources
                .iter()
                .filter(|r| r.kind == kind)
                .count()
        };
        parts.extend(count(of(ChangeKind::Added), "to add"));
        parts.extend(count(of(ChangeKind::Modified), "to modify"));
        parts.extend(count(of(ChangeKind::Removed), "to remove"));
    }
    if let Some(set) = &s.stack_set {
        if !set.add.is_empty() {
            parts.push(format!(
                "+{}",
                plural(set.add.len(), "instance", "instances")
            ));
        }
        if !set.remove.is_empty() {
            parts.push(format!(
                "-{}",
                plural(set.remove.len(), "instance", "instances")
            ));
        }
    }
    if s.status == PlanStatus::Changed {
        parts.extend(count(s.parameter_changes.len(), "parameters").map(|p| {
            if s.parameter_changes.len() == 1 {
                "1 parameter".to_owned()
            } else {
                p
            }
        }));
        parts.extend(count(s.tag_changes.len(), "tags").map(|t| {
            if s.tag_changes.len() == 1 {
                "1 tag".to_owned()
            } else {
                t
            }
        }));
        if s.termination_protection.is_some() {
            parts.push("termination protection".into());
        }
        if s.stack_policy.is_some() {
            parts.push("stack policy".into());
        }
    }
    if s.replaces_failed.is_some() {
        parts.insert(0, "replaces the failed stack".into());
    }
    let word = match s.status {
        PlanStatus::Unchanged if !s.formatting_only.is_empty() => {
            return format!(
                "no changes (formatting only: {})",
                s.formatting_only
                    .iter()
                    .map(|f| f.logical_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        PlanStatus::Unchanged => return "no changes".into(),
        PlanStatus::Failed => return "failed".into(),
        other => status_word(other),
    };
    if parts.is_empty() {
        word.to_owned()
    } else {
        format!("{word}: {}", parts.join(", "))
    }
}

/// A stack's risks counted by kind: `1 destructive, 2 broadening`; None without risks.
pub fn risk_counts(s: &StackPlan) -> Option<String> {
    let words: Vec<String> = [
        RiskKind::Destructive,
        RiskKind::Broadening,
        RiskKind::Unprotecting,
    ]
    .into_iter()
    .filter_map(|kind| {
        let n = s.risks.iter().filter(|r| r.kind == kind).count();
        (n > 0).then(|| format!("{n} {}", kind.word()))
    })
    .collect();
    (!words.is_empty()).then(|| words.join(", "))
}

/// Text for people, fitted to `layout`.
pub fn write_text(w: &mut dyn Write, plan: &Plan, style: Style, layout: Layout) -> Result<()> {
    let mut out = String::new();
    for s in &plan.stacks {
        stack_text(&mut out, s, plan, style, layout);
    }
    lines(&mut out, 0, 0, &totals(plan), layout);
    w.write_all(out.as_bytes()).map_err(Error::output)
}

/// The summary table (`--summary`): each stack's change and risks, then the totals.
pub fn write_text_summary(
    w: &mut dyn Write,
    plan: &Plan,
    style: Style,
    layout: Layout,
) -> Result<()> {
    let mut rows = vec![vec!["STACK".into(), "CHANGE".into(), "RISKS".into()]];
    rows.extend(plan.stacks.iter().map(|s| {
        vec![
            s.stack.clone(),
            change_words(s),
            risk_counts(s).unwrap_or_else(|| "-".into()),
        ]
    }));
    let mut out = String::new();
    for (i, line) in fit_table(&rows, layout, 0).lines().enumerate() {
        let risky = i > 0 && plan.stacks.get(i - 1).is_some_and(|s| !s.risks.is_empty());
        out.push_str(&if risky {
            style.red(line)
        } else {
            line.to_owned()
        });
        out.push('\n');
    }
    out.push('\n');
    lines(&mut out, 0, 0, &totals(plan), layout);
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

/// Prose at `indent`, as it is when it fits, else wrapped to the width with the lines after
/// the first at `hang`.
fn lines(out: &mut String, indent: usize, hang: usize, text: &str, layout: Layout) {
    if indent + columns(text) <= layout.width {
        if !text.is_empty() {
            out.push_str(&" ".repeat(indent));
            out.push_str(text);
        }
        out.push('\n');
        return;
    }
    let room = layout.room(hang.max(indent));
    for (i, line) in wrap(text, room).iter().enumerate() {
        if !line.is_empty() {
            out.push_str(&" ".repeat(if i == 0 { indent } else { hang }));
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// [`lines`] whose first line starts with `head`, painted.
fn headed(out: &mut String, indent: usize, head: &str, painted: &str, text: &str, layout: Layout) {
    let mut block = String::new();
    lines(
        &mut block,
        indent,
        indent + 2,
        &format!("{head} {text}"),
        layout,
    );
    let pad = " ".repeat(indent);
    if let Some(rest) = block.strip_prefix(&format!("{pad}{head}")) {
        out.push_str(&format!("{pad}{painted}{rest}"));
    } else {
        out.push_str(&block);
    }
}

/// One value on its own line at `indent`: whole with `--verbose`, else shortened to the width.
fn value_line(out: &mut String, indent: usize, text: &str, layout: Layout) {
    out.push_str(&" ".repeat(indent));
    out.push_str(&layout.value(text, indent));
    out.push('\n');
}

/// The values a stack reads that are known only after apply, grouped by why: `(why, values)`.
pub fn known_after_apply<'a>(s: &'a StackPlan, plan: &Plan) -> Vec<(&'static str, Vec<&'a str>)> {
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

/// A resource written differently from what is deployed, in a line: `Repo
/// (AWS::ECR::Repository): LifecyclePolicyText has the same policy`.
pub fn formatting_line(f: &FormattingOnly) -> String {
    format!(
        "{} ({}): {}",
        f.logical_id,
        f.resource_type,
        f.paths
            .iter()
            .map(|p| p.describe())
            .collect::<Vec<_>>()
            .join("; ")
    )
}

/// `Formatting only` for the text plan: one line per resource.
fn formatting_text(out: &mut String, s: &StackPlan, layout: Layout) {
    if s.formatting_only.is_empty() {
        return;
    }
    if s.status == PlanStatus::Unchanged {
        lines(
            out,
            2,
            4,
            &format!(
                "Formatting only, counted as unchanged (`--refresh-templates` sends {}):",
                if s.formatting_only.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            ),
            layout,
        );
    } else {
        out.push_str("  Formatting only:\n");
    }
    for f in &s.formatting_only {
        lines(out, 4, 6, &formatting_line(f), layout);
    }
}

fn stack_text(out: &mut String, s: &StackPlan, plan: &Plan, style: Style, layout: Layout) {
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
            // Each line keeps its own indentation (a cause under its error, a source line).
            let text = line.trim_start();
            let lead = columns(line) - columns(text);
            lines(out, 2 + lead, 4 + lead, text.trim_end(), layout);
        }
        out.push('\n');
        return;
    }
    if let Some(status) = &s.replaces_failed {
        headed(
            out,
            2,
            "replace:",
            &style.yellow("replace:"),
            &format!("the failed stack ({status}) is deleted, then created again; its change set is made then"),
            layout,
        );
    }
    for r in &s.risks {
        risk_text(out, r, style, layout);
    }
    for a in &s.adoptable {
        headed(
            out,
            2,
            "exists:",
            &style.yellow("exists:"),
            &format!(
                "{} ({}): adopt it with `little adopt {}` (creating it would fail)",
                a.summary, a.logical_id, s.stack
            ),
            layout,
        );
    }
    for c in &s.lifecycle_changes {
        headed(
            out,
            2,
            "lifecycle:",
            &style.yellow("lifecycle:"),
            &format!("{}: {}", c.logical_id, crate::plan::lifecycle::summary(c)),
            layout,
        );
    }
    if let Some(set) = &s.stack_set {
        stack_set_text(out, set, style, layout);
    }
    change_set_text(out, s, layout);
    template_text(out, s, style, layout);
    for (title, changes) in [
        ("Parameters", &s.parameter_changes),
        ("Tags", &s.tag_changes),
    ] {
        if !changes.is_empty() {
            out.push_str(&format!("  {title}:\n"));
            for c in changes {
                value_line(
                    out,
                    4,
                    &format!("{} {}", sign(c.kind), value_text(c)),
                    layout,
                );
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
        for (sign, st) in p
            .removed
            .iter()
            .map(|st| (style.red("-"), st))
            .chain(p.added.iter().map(|st| (style.green("+"), st)))
        {
            out.push_str(&format!("    {sign} {}\n", layout.value(st, 6)));
        }
    }
    formatting_text(out, s, layout);
    for (why, values) in known_after_apply(s, plan) {
        lines(
            out,
            2,
            4,
            &format!("Known after apply: {} ({why})", values.join(", ")),
            layout,
        );
    }
    if let Some(why) = &s.change_set_reason {
        lines(out, 2, 4, &format!("Change set made: {why}"), layout);
    }
    out.push('\n');
}

/// A risk: its reason, then the permissions it grants or takes away, as statements.
fn risk_text(out: &mut String, r: &Risk, style: Style, layout: Layout) {
    let head = format!("! {}:", r.kind.word());
    headed(out, 2, &head, &style.red(&head), &r.reason, layout);
    if let Some(holds) = &r.holds {
        headed(out, 4, "now:", &style.yellow("now:"), holds, layout);
    }
    for st in statements(r) {
        statement_text(out, &st, style, layout);
    }
}

/// One statement at column 6: `+ Allow` and its actions (wrapped), then its principals,
/// resources, condition and policy, one labelled value a line.
fn statement_text(out: &mut String, st: &Statement<'_>, style: Style, layout: Layout) {
    const INDENT: usize = 6;
    const LABEL: usize = 11;
    let head = format!("{} {}", st.sign(), st.effect);
    let painted = if st.added {
        style.green(&head)
    } else {
        style.red(&head)
    };
    let at = INDENT + columns(&head) + 1;
    for (i, line) in pack(&st.actions, ", ", layout.room(at)).iter().enumerate() {
        if i == 0 {
            out.push_str(&format!("{}{painted} ", " ".repeat(INDENT)));
        } else {
            out.push_str(&" ".repeat(at));
        }
        out.push_str(&layout.value(line, at));
        out.push('\n');
    }
    // Values are what the risk is about: wrapped, never shortened.
    let at = INDENT + 4 + LABEL;
    let mut labelled = |label: &str, values: &[&str]| {
        let mut label = label;
        for v in values {
            let parts = if layout.full {
                vec![(*v).to_owned()]
            } else {
                wrap_value(v, layout.room(at))
            };
            for part in parts {
                out.push_str(&format!(
                    "{}{label:<LABEL$}{part}\n",
                    " ".repeat(INDENT + 4)
                ));
                label = "";
            }
        }
    };
    let named = |v: &[&str]| v != ["-"];
    if named(&st.principals) {
        let label = if st.principals.len() == 1 {
            "principal"
        } else {
            "principals"
        };
        labelled(label, &st.principals);
    }
    if named(&st.resources) {
        let label = if st.resources.len() == 1 {
            "resource"
        } else {
            "resources"
        };
        labelled(label, &st.resources);
    }
    if let Some(c) = st.condition {
        labelled("condition", &[c]);
    }
    labelled("policy", &[st.policy]);
}

/// What the change set would do, per resource, then the details of each change.
fn change_set_text(out: &mut String, s: &StackPlan, layout: Layout) {
    if s.resource_changes.is_empty() {
        return;
    }
    out.push_str(if s.predicted {
        "  Change set (predicted, none made):\n"
    } else {
        "  Change set:\n"
    });
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
    for line in fit_table(&rows, layout, 4).lines() {
        out.push_str(&format!("    {line}\n"));
    }
    for c in &s.resource_changes {
        // A predicted direct modification is the template's diff, shown below.
        let shown = c
            .details
            .iter()
            .filter(|d| !s.predicted || d.change_source.as_deref() != Some("DirectModification"));
        for d in shown {
            let target = [d.attribute.as_deref(), d.name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(".");
            let line = format!(
                "{}: {target} ({}{}{}{})",
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
            );
            value_line(out, 6, &line, layout);
        }
    }
}

/// The template's changes: per resource with property diffs for a stack that exists, a count
/// for a new one; then outputs, parameter declarations and other sections.
fn template_text(out: &mut String, s: &StackPlan, style: Style, layout: Layout) {
    let diff = &s.template_changes;
    if !diff.resources.is_empty() && s.status != PlanStatus::New {
        out.push_str("  Template:\n");
        for r in &diff.resources {
            value_line(
                out,
                4,
                &format!("{} {} ({})", sign(r.kind), r.logical_id, r.resource_type),
                layout,
            );
            if r.kind == ChangeKind::Modified {
                for c in &r.changes {
                    property_text(out, c, style, 6, layout);
                }
            }
        }
    } else if s.status == PlanStatus::New {
        out.push_str(&format!(
            "  Template: {} to create\n",
            plural(diff.resources.len(), "resource", "resources")
        ));
        // The change set lists them already, with their actions.
        if s.resource_changes.is_empty() {
            for r in &diff.resources {
                value_line(
                    out,
                    4,
                    &format!("+ {} ({})", r.logical_id, r.resource_type),
                    layout,
                );
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
                property_text(out, c, style, 4, layout);
            }
        }
    }
}

pub(super) fn value_text(c: &ValueChange) -> String {
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

/// A StackSet's targets, instance changes and operations, in the text plan.
fn stack_set_text(out: &mut String, set: &StackSetPlan, style: Style, layout: Layout) {
    lines(
        out,
        2,
        4,
        &format!(
            "StackSet ({}): {} in {}; {} deployed",
            set.permission_model,
            set.targets,
            set.regions.join(", "),
            plural(set.instances.len(), "instance", "instances")
        ),
        layout,
    );
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
            let text = format!(
                "{} {} {}{}",
                i.account,
                i.region,
                i.status,
                i.status_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
            lines(out, 4, 6, &text, layout);
        }
    }
    for c in &set.setting_changes {
        value_line(
            out,
            2,
            &format!("Setting: {} {}", sign(c.kind), value_text(c)),
            layout,
        );
    }
    if !set.operations.is_empty() {
        out.push_str("  Operations:\n");
        for (n, op) in set.operations.iter().enumerate() {
            lines(out, 4, 7, &format!("{}. {op}", n + 1), layout);
        }
    }
}

/// A changed property at `indent`: its path, then the unified diff of its values below it,
/// each line fitted to the width and coloured by its sign.
fn property_text(
    out: &mut String,
    c: &PropertyChange,
    style: Style,
    indent: usize,
    layout: Layout,
) {
    value_line(out, indent, &format!("{} {}", sign(c.kind), c.path), layout);
    let text = unified(c.before.as_ref(), c.after.as_ref(), false);
    let at = indent + 4;
    for line in text.lines() {
        let fitted = layout.value(line, at);
        let painted = match line.chars().next() {
            Some('-') => style.paint("31", &fitted),
            Some('+') => style.green(&fitted),
            _ => fitted.into_owned(),
        };
        out.push_str(&format!("{}{painted}\n", " ".repeat(at)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new IAM role that grants `sts:AssumeRole` to a long principal under a long condition,
    /// and `s3:GetObject` and `s3:PutObject` on two buckets.
    fn role_plan() -> Plan {
        let tuple = |action: &str, principal: &str, resource: &str, condition: Option<&str>| {
            serde_json::json!({"policy": "Policies[p]", "effect": "Allow", "principal": principal,
                               "action": action, "resource": resource, "condition": condition})
        };
        let long = format!(
            "AWS:arn:aws:iam::123456789012:role/{}",
            "very-long-name-".repeat(8)
        );
        let condition = format!(
            "{{\"StringEquals\":{{\"aws:PrincipalOrgID\":\"{}\"}}}}",
            "o-".repeat(40)
        );
        let mut s = stack("roles", "new", None);
        s.risks = serde_json::from_value(serde_json::json!([{
            "kind": "broadening", "logical_id": "Role", "resource_type": "AWS::IAM::Role",
            "reason": "grants 5 permissions through new IAM role `Role` (trust policy and inline policy `p`)",
            "added": [
                tuple("s3:GetObject", "-", "arn:aws:s3:::a/*", None),
                tuple("s3:GetObject", "-", "arn:aws:s3:::b/*", None),
                tuple("s3:PutObject", "-", "arn:aws:s3:::a/*", None),
                tuple("s3:PutObject", "-", "arn:aws:s3:::b/*", None),
                tuple("sts:AssumeRole", &long, "-", Some(&condition)),
            ],
            "removed": []
        }]))
        .unwrap();
        s.resource_changes = serde_json::from_value(serde_json::json!([{
            "action": "Add", "logical_id": "Role", "physical_id": null,
            "resource_type": "AWS::IAM::Role", "replacement": null, "scope": [], "details": []
        }]))
        .unwrap();
        Plan::new("p", 1, vec![s])
    }

    fn text(plan: &Plan, layout: Layout) -> String {
        let mut buf = Vec::new();
        write_text(&mut buf, plan, Style::default(), layout).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn permissions_are_statements_that_fit_the_width() {
        let plan = role_plan();
        let narrow = Layout {
            width: 60,
            full: false,
        };
        let out = text(&plan, narrow);
        for line in out.lines() {
            assert!(columns(line) <= 60, "{line:?} is wider than 60:\n{out}");
        }
        assert!(out.contains("\n      + Allow s3:GetObject, s3:PutObject\n          resources  arn:aws:s3:::a/*\n                     arn:aws:s3:::b/*\n          policy     Policies[p]\n"), "{out}");
        // The long principal and condition are wrapped, every character kept.
        let joined: String = out.lines().map(str::trim).collect();
        assert!(joined.contains(&"very-long-name-".repeat(8)), "{out}");
        assert!(joined.contains(&"o-".repeat(40)), "{out}");
        // --verbose: each value whole on its line.
        let full = text(
            &plan,
            Layout {
                full: true,
                ..narrow
            },
        );
        assert!(
            full.lines().any(|l| l.ends_with(&format!(
                "principal  AWS:arn:aws:iam::123456789012:role/{}",
                "very-long-name-".repeat(8)
            ))),
            "{full}"
        );
        // The default width leaves short lines as they were.
        let wide = text(&plan, Layout::default());
        assert!(
            wide.contains("\n  Change set:\n    Add  Role  AWS::IAM::Role\n"),
            "{wide}"
        );
    }

    #[test]
    fn long_values_are_shortened_unless_verbose() {
        let mut plan = role_plan();
        plan.stacks[0].status = PlanStatus::Changed;
        plan.stacks[0].parameter_changes = vec![ValueChange {
            key: "Image".into(),
            kind: ChangeKind::Modified,
            before: Some("x".repeat(100)),
            after: Some("y".repeat(100)),
            masked: false,
        }];
        let narrow = Layout {
            width: 60,
            full: false,
        };
        let out = text(&plan, narrow);
        assert!(out.lines().all(|l| columns(l) <= 60), "{out}");
        assert!(
            out.contains(&format!("    ~ Image: {}…\n", "x".repeat(46))),
            "{out}"
        );
        let full = text(
            &plan,
            Layout {
                full: true,
                ..narrow
            },
        );
        assert!(
            full.contains(&format!(
                "    ~ Image: {} -> {}\n",
                "x".repeat(100),
                "y".repeat(100)
            )),
            "{full}"
        );
    }

    #[test]
    fn errors_keep_their_indentation_and_wrap_only_when_too_wide() {
        let long = format!("templates/a.njk:3:7: {}", "word ".repeat(30));
        let error = format!("{long}\n  in include b.njk\n    |  x  =  1\n");
        let plan = Plan::new("p", 1, vec![stack("broken", "failed", Some(&error))]);
        let out = text(
            &plan,
            Layout {
                width: 60,
                full: false,
            },
        );
        assert!(out.lines().all(|l| columns(l) <= 60), "{out}");
        assert!(
            out.contains("\n    in include b.njk\n      |  x  =  1\n\n"),
            "{out}"
        );
        let joined: Vec<&str> = out.split_whitespace().collect();
        assert_eq!(joined.iter().filter(|w| **w == "word").count(), 30, "{out}");
    }

    #[test]
    fn the_summary_is_a_table_of_changes_and_risks() {
        let mut plan = role_plan();
        plan.stacks.push(stack("quiet", "unchanged", None));
        let plan = Plan::new("p", 1, plan.stacks);
        let mut buf = Vec::new();
        write_text_summary(&mut buf, &plan, Style::default(), Layout::default()).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "STACK  CHANGE         RISKS\n\
             roles  new: 1 to add  1 broadening\n\
             quiet  no changes     -\n\
             \n\
             Plan: 1 new, 0 changed, 1 unchanged, 0 failed. Risks: 0 destructive, 1 broadening.\n"
        );
    }

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
    fn a_resource_that_exists_already_is_flagged_with_the_way_to_adopt_it() {
        let mut s = stack("repos", "new", None);
        s.adoptable = vec![crate::plan::model::Adoptable {
            logical_id: "Repo".into(),
            resource_type: "AWS::ECR::Repository".into(),
            name: "team-a/api".into(),
            summary: "repository `team-a/api` exists with 312 images".into(),
        }];
        let plan = Plan::new("p", 1, vec![s]);
        let mut buf = Vec::new();
        write_text(&mut buf, &plan, Style::default(), Layout::default()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.contains("  exists: repository `team-a/api` exists with 312 images (Repo): adopt it with `little adopt repos`"),
            "{text}"
        );
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
