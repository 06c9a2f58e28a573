//! `little plan --format markdown`, for a pull-request comment and `$GITHUB_STEP_SUMMARY`: a
//! hidden marker (`<!-- little-plan: PROJECT -->`, for a workflow to find its comment), the
//! title and totals, a summary table (stack, change, risks), the list of risks, then one
//! collapsible `<details>` section per stack that changes or failed.
//!
//! The document stays within a character limit ([`COMMENT_LIMIT`]: a GitHub comment holds
//! 65,536): beyond it, the least important parts are cut, the biggest first (template diffs,
//! then permission tables, instance tables, parameter and tag changes, change set tables,
//! errors, risks; then whole sections and summary rows), and a line says what was cut and
//! where the whole plan is. What stays is valid GitHub Markdown: every table escapes its `|`,
//! every code span and fence is longer than the backticks inside it, every `<details>` closes.

use std::collections::BTreeMap;
use std::io::Write;

use super::markdown::{cell, cell_code, code, fenced, html, prose};
use super::permissions::statements;
use super::plan::{
    change_words, formatting_line, known_after_apply, risk_counts, sign, status_word,
    unprotecting_count, value_text,
};
use crate::error::{Error, Result};
use crate::plan::diff::ChangeKind;
use crate::plan::model::{Plan, PlanStatus, StackPlan, ValueChange};
use crate::plan::risk::{Risk, RiskKind};
use crate::report::diff::unified;
use crate::text::{plural, thousands};

/// The default limit: under the 65,536 characters of a GitHub comment, with room for a
/// workflow's own line above the plan.
pub const COMMENT_LIMIT: usize = 60_000;

/// An error message is shown up to this many characters.
const ERROR_CHARS: usize = 4_000;

/// How to write the Markdown plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// Characters the document may have; beyond, the least important parts are cut.
    pub limit: usize,
    /// Only the title, the totals and the summary table (`--summary`).
    pub summary_only: bool,
    /// Where the whole plan was saved (`--out`), for the line that says what was cut.
    pub saved_to: Option<String>,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            limit: COMMENT_LIMIT,
            summary_only: false,
            saved_to: None,
        }
    }
}

/// The Markdown plan, cut to `options.limit` characters.
pub fn write_markdown(w: &mut dyn Write, plan: &Plan, options: &MarkdownOptions) -> Result<()> {
    let mut doc = Doc::new(plan, options);
    while doc.chars() > options.limit && doc.cut_one() {}
    w.write_all(doc.render().as_bytes()).map_err(Error::output)
}

/// What a part is, for the line that counts what was cut; the order is the order of cutting
/// (least important first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    TemplateDiff,
    FormattingOnly,
    PermissionTail,
    Permissions,
    Instances,
    KnownAfterApply,
    Values,
    Protection,
    StackPolicy,
    Operations,
    ChangeSet,
    Error,
    RiskList,
    Risk,
}

impl Part {
    /// The part in the line that counts what was cut: one, and several.
    fn nouns(self) -> (&'static str, &'static str) {
        match self {
            Part::PermissionTail => (
                "permission table cut to its first statements",
                "permission tables cut to their first statements",
            ),
            Part::RiskList => ("list of risks", "list of risks"),
            other => {
                let one = other.noun();
                (one, "")
            }
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Part::TemplateDiff => "template diff",
            Part::FormattingOnly => "formatting-only list",
            Part::PermissionTail => "permission table tail",
            Part::Permissions => "permission table",
            Part::Instances => "instance table",
            Part::KnownAfterApply => "known-after-apply list",
            Part::Values => "parameter, tag and setting table",
            Part::Protection => "termination protection change",
            Part::StackPolicy => "stack policy diff",
            Part::Operations => "StackSet operation list",
            Part::ChangeSet => "change set table",
            Part::Error => "error message",
            Part::RiskList => "list of risks",
            Part::Risk => "risk",
        }
    }
}

/// A part of the document that can be cut whole.
struct Block {
    part: Part,
    text: String,
    chars: usize,
    /// What stands in its place once cut (a table's last row saying how many rows are left
    /// out), usually nothing.
    stub: String,
    stub_chars: usize,
    cut: bool,
}

impl Block {
    fn new(part: Part, text: String) -> Block {
        Block::with_stub(part, text, String::new())
    }

    fn with_stub(part: Part, text: String, stub: String) -> Block {
        Block {
            part,
            chars: text.chars().count(),
            text,
            stub_chars: stub.chars().count(),
            stub,
            cut: false,
        }
    }

    /// What the block shows now.
    fn shown(&self) -> (&str, usize) {
        if self.cut {
            (&self.stub, self.stub_chars)
        } else {
            (&self.text, self.chars)
        }
    }
}

/// One stack's `<details>` section.
struct Section {
    /// `<details><summary>…</summary>` and the lines that are never cut.
    head: String,
    head_chars: usize,
    blocks: Vec<Block>,
    /// Cut whole: not even its head is shown.
    dropped: bool,
}

const SECTION_END: &str = "</details>\n\n";

/// The document, with what has been cut so far.
struct Doc<'a> {
    limit: usize,
    saved_to: Option<&'a str>,
    /// The marker, the title and the totals.
    title: String,
    title_chars: usize,
    /// The summary table's header and rows.
    table_head: &'static str,
    rows: Vec<String>,
    rows_shown: usize,
    risk_list: Option<Block>,
    sections: Vec<Section>,
}

impl<'a> Doc<'a> {
    fn new(plan: &Plan, options: &'a MarkdownOptions) -> Doc<'a> {
        let sum = &plan.summary;
        let title = format!(
            "<!-- little-plan: {} -->\n## little plan: {}\n\n**{} new, {} changed, {} unchanged, {} failed** · risks: **{} destructive, {} broadening{}**\n\n",
            plan.project.replace("--", "- -"),
            code(&plan.project),
            sum.new,
            sum.changed,
            sum.unchanged,
            sum.failed,
            sum.destructive,
            sum.broadening,
            unprotecting_count(sum.unprotecting)
        );
        let rows: Vec<String> = plan
            .stacks
            .iter()
            .map(|s| {
                format!(
                    "| {} | {} | {} |\n",
                    cell_code(&s.stack),
                    cell(&change_words(s)),
                    risk_counts(s)
                        .map(|r| format!("**{}**", cell(&r)))
                        .unwrap_or_else(|| "-".into())
                )
            })
            .collect();
        let mut doc = Doc {
            limit: options.limit,
            saved_to: options.saved_to.as_deref(),
            title_chars: title.chars().count(),
            title,
            table_head: "| Stack | Change | Risks |\n|---|---|---|\n",
            rows_shown: rows.len(),
            rows,
            risk_list: None,
            sections: Vec::new(),
        };
        if options.summary_only {
            return doc;
        }
        doc.risk_list = risk_list(plan);
        doc.sections = plan
            .stacks
            .iter()
            .filter(|s| s.status != PlanStatus::Unchanged)
            .map(|s| section(s, plan))
            .collect();
        doc
    }

    fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.risk_list.iter().chain(
            self.sections
                .iter()
                .filter(|s| !s.dropped)
                .flat_map(|s| s.blocks.iter()),
        )
    }

    /// What has been cut, counted by part: `2 template diffs, 1 permission table`.
    fn cut_counts<'b>(blocks: impl Iterator<Item = &'b Block>) -> Vec<String> {
        let mut counts: BTreeMap<Part, usize> = BTreeMap::new();
        for b in blocks.filter(|b| b.cut) {
            *counts.entry(b.part).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|(part, n)| match part.nouns() {
                (one, "") => plural(n, one, &format!("{one}s")),
                (_, many) if part == Part::RiskList => many.to_owned(),
                (one, many) => plural(n, one, many),
            })
            .collect()
    }

    fn whole_plan(&self) -> String {
        match self.saved_to {
            Some(path) => format!("The whole plan is in {} (saved with `--out`).", code(path)),
            None => "`little plan --format json` or `--out FILE` gives the whole plan.".into(),
        }
    }

    /// The line under the summary table when anything was cut.
    fn cut_line(&self) -> Option<String> {
        let mut parts = Self::cut_counts(self.blocks());
        let dropped = self.sections.iter().filter(|s| s.dropped).count();
        if dropped > 0 {
            parts.push(plural(dropped, "stack section", "stack sections"));
        }
        let hidden = self.rows.len() - self.rows_shown;
        if hidden > 0 {
            parts.push(plural(hidden, "summary row", "summary rows"));
        }
        (!parts.is_empty()).then(|| {
            format!(
                "_Cut to stay under {} characters: {}. {}_\n\n",
                thousands(self.limit as u64),
                parts.join(", "),
                self.whole_plan()
            )
        })
    }

    /// The note at the end of a section that lost parts.
    fn section_note(&self, s: &Section) -> Option<String> {
        let parts = Self::cut_counts(s.blocks.iter());
        (!parts.is_empty()).then(|| {
            format!(
                "_Left out to stay under {} characters: {}. {}_\n\n",
                thousands(self.limit as u64),
                parts.join(", "),
                self.whole_plan()
            )
        })
    }

    fn section_text(&self, s: &Section) -> String {
        if s.dropped {
            return String::new();
        }
        let mut out = s.head.clone();
        for b in &s.blocks {
            out.push_str(b.shown().0);
        }
        out.extend(self.section_note(s));
        out.push_str(SECTION_END);
        out
    }

    fn render(&self) -> String {
        let mut out = self.title.clone();
        out.push_str(self.table_head);
        for row in &self.rows[..self.rows_shown] {
            out.push_str(row);
        }
        out.extend(self.hidden_row());
        out.push('\n');
        out.extend(self.cut_line());
        if let Some(b) = self.risk_list.as_ref().filter(|b| !b.cut) {
            out.push_str(&b.text);
        }
        for s in &self.sections {
            out.push_str(&self.section_text(s));
        }
        out
    }

    /// The length of [`Doc::render`], from the parts' counts.
    fn chars(&self) -> usize {
        let count = |s: &str| s.chars().count();
        let mut n = self.title_chars + count(self.table_head) + 1;
        n += self.rows[..self.rows_shown]
            .iter()
            .map(|r| count(r))
            .sum::<usize>();
        n += self.hidden_row().map_or(0, |r| count(&r));
        n += self.cut_line().map_or(0, |l| count(&l));
        n += self
            .risk_list
            .as_ref()
            .filter(|b| !b.cut)
            .map_or(0, |b| b.chars);
        for s in self.sections.iter().filter(|s| !s.dropped) {
            n += s.head_chars + count(SECTION_END);
            n += s.blocks.iter().map(|b| b.shown().1).sum::<usize>();
            n += self.section_note(s).map_or(0, |l| count(&l));
        }
        n
    }

    /// The row that stands for the summary rows cut.
    fn hidden_row(&self) -> Option<String> {
        let hidden = self.rows.len() - self.rows_shown;
        (hidden > 0).then(|| {
            format!(
                "| … | {} not shown | |\n",
                plural(hidden, "more stack", "more stacks")
            )
        })
    }

    /// Cuts the least important part left, the biggest of its kind first; then the last
    /// section, then the last summary row. False when nothing is left to cut.
    fn cut_one(&mut self) -> bool {
        let mut best: Option<(Part, usize, Option<usize>, usize)> = None;
        let mut consider = |part: Part, chars: usize, section: Option<usize>, index: usize| {
            let better = match best {
                None => true,
                // Among equals, the later: the end of the plan goes first.
                Some((p, c, _, _)) => part < p || (part == p && chars >= c),
            };
            if better {
                best = Some((part, chars, section, index));
            }
        };
        if let Some(b) = self.risk_list.as_ref().filter(|b| !b.cut) {
            consider(b.part, b.chars, None, 0);
        }
        for (si, s) in self.sections.iter().enumerate().filter(|(_, s)| !s.dropped) {
            for (bi, b) in s.blocks.iter().enumerate().filter(|(_, b)| !b.cut) {
                consider(b.part, b.chars, Some(si), bi);
            }
        }
        match best {
            Some((_, _, None, _)) => {
                if let Some(b) = self.risk_list.as_mut() {
                    b.cut = true;
                }
                true
            }
            Some((_, _, Some(si), bi)) => {
                let blocks = &mut self.sections[si].blocks;
                blocks[bi].cut = true;
                // A table's rest (cut before it, so shown as its stub) goes with it.
                if blocks[bi].part == Part::Permissions
                    && blocks
                        .get(bi + 1)
                        .is_some_and(|b| b.part == Part::PermissionTail)
                {
                    blocks.remove(bi + 1);
                }
                true
            }
            None => {
                if let Some(s) = self.sections.iter_mut().rev().find(|s| !s.dropped) {
                    s.dropped = true;
                    true
                } else if self.rows_shown > 0 {
                    self.rows_shown -= 1;
                    true
                } else {
                    false
                }
            }
        }
    }
}

/// Every risk of the plan, one bullet each, in an alert: a caution when anything is destroyed
/// or unprotected, else a warning.
fn risk_list(plan: &Plan) -> Option<Block> {
    let risks: Vec<(&StackPlan, &Risk)> = plan
        .stacks
        .iter()
        .flat_map(|s| s.risks.iter().map(move |r| (s, r)))
        .collect();
    if risks.is_empty() {
        return None;
    }
    let severe = risks.iter().any(|(_, r)| r.kind != RiskKind::Broadening);
    let mut text = format!("> [!{}]\n", if severe { "CAUTION" } else { "WARNING" });
    for (s, r) in risks {
        text.push_str(&format!(
            "> - {}: **{}**: {}\n",
            code(&s.stack),
            r.kind.word(),
            prose(&r.reason)
        ));
    }
    text.push('\n');
    Some(Block::new(Part::RiskList, text))
}

/// A stack's section: its head (never cut), then its parts in the order of the text plan.
fn section(s: &StackPlan, plan: &Plan) -> Section {
    let mut summary = format!(
        "<code>{}</code> · {}",
        html(&s.stack),
        html(&change_words(s))
    );
    if let Some(risks) = risk_counts(s) {
        summary.push_str(&format!(" · <b>{}</b>", html(&risks)));
    }
    let mut head = format!("<details><summary>{summary}</summary>\n\n");
    head.push_str(&format!(
        "{} · {}{}\n\n",
        status_word(s.status),
        s.region,
        s.account_id
            .as_deref()
            .map(|a| format!(" · account {a}"))
            .unwrap_or_default()
    ));
    if let Some(status) = &s.replaces_failed {
        head.push_str(&format!(
            "The failed stack ({}) is deleted, then created again; its change set is made then.\n\n",
            prose(status)
        ));
    }
    for a in &s.adoptable {
        head.push_str(&format!(
            "**exists**: {} ({}): adopt it with {}\n\n",
            prose(&a.summary),
            code(&a.logical_id),
            code(&format!("little adopt {}", s.stack))
        ));
    }
    for c in &s.lifecycle_changes {
        head.push_str(&format!(
            "**lifecycle**: {}: {}\n\n",
            code(&c.logical_id),
            prose(&crate::plan::lifecycle::summary(c))
        ));
    }
    let mut blocks = Vec::new();
    if let Some(e) = &s.error {
        blocks.push(Block::new(Part::Error, error_text(e)));
    }
    for r in &s.risks {
        let holds = r
            .holds
            .as_ref()
            .map(|h| format!(" Now: {}", prose(h)))
            .unwrap_or_default();
        blocks.push(Block::new(
            Part::Risk,
            format!("**{}**: {}{holds}\n\n", r.kind.word(), prose(&r.reason)),
        ));
        if !r.added.is_empty() || !r.removed.is_empty() {
            blocks.extend(permission_table(r));
        }
    }
    stack_set_blocks(s, &mut blocks);
    if !s.resource_changes.is_empty() {
        let mut t = if s.predicted {
            "Predicted from the comparison (no change set made):\n\n".to_owned()
        } else {
            String::new()
        };
        t.push_str("| Action | Logical ID | Type | Replacement |\n|---|---|---|---|\n");
        for c in &s.resource_changes {
            t.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&c.action),
                cell_code(&c.logical_id),
                cell_code(&c.resource_type),
                cell(c.replacement.as_deref().unwrap_or("-"))
            ));
        }
        t.push('\n');
        blocks.push(Block::new(Part::ChangeSet, t));
    } else if !s.template_changes.resources.is_empty() {
        // No change set (a StackSet): the template's resources.
        let mut t = "| | Logical ID | Type |\n|---|---|---|\n".to_owned();
        for r in &s.template_changes.resources {
            t.push_str(&format!(
                "| {} | {} | {} |\n",
                sign(r.kind),
                cell_code(&r.logical_id),
                cell_code(&r.resource_type)
            ));
        }
        t.push('\n');
        blocks.push(Block::new(Part::ChangeSet, t));
    }
    if let Some(diff) = template_diff(s) {
        blocks.push(Block::new(Part::TemplateDiff, diff));
    }
    let values: Vec<(&str, &ValueChange)> = s
        .parameter_changes
        .iter()
        .map(|c| ("parameter", c))
        .chain(s.tag_changes.iter().map(|c| ("tag", c)))
        .chain(
            s.stack_set
                .iter()
                .flat_map(|set| set.setting_changes.iter().map(|c| ("setting", c))),
        )
        .collect();
    if !values.is_empty() {
        let mut t = "| | Kind | Change |\n|---|---|---|\n".to_owned();
        for (kind, c) in values {
            t.push_str(&format!(
                "| {} | {kind} | {} |\n",
                sign(c.kind),
                cell_code(&value_text(c))
            ));
        }
        t.push('\n');
        blocks.push(Block::new(Part::Values, t));
    }
    if let Some(tp) = &s.termination_protection {
        blocks.push(Block::new(
            Part::Protection,
            format!("Termination protection: {} → {}\n\n", tp.before, tp.after),
        ));
    }
    if let Some(p) = &s.stack_policy {
        let mut body = String::new();
        for st in &p.removed {
            body.push_str(&format!("- {st}\n"));
        }
        for st in &p.added {
            body.push_str(&format!("+ {st}\n"));
        }
        blocks.push(Block::new(
            Part::StackPolicy,
            format!("Stack policy: {}\n\n{}", p.summary(), fenced("diff", &body)),
        ));
    }
    if !s.formatting_only.is_empty() {
        let mut t = "Formatting only:\n\n".to_owned();
        for f in &s.formatting_only {
            t.push_str(&format!("- {}\n", prose(&formatting_line(f))));
        }
        t.push('\n');
        blocks.push(Block::new(Part::FormattingOnly, t));
    }
    for (why, values) in known_after_apply(s, plan) {
        blocks.push(Block::new(
            Part::KnownAfterApply,
            format!(
                "Known after apply ({why}): {}\n\n",
                values
                    .iter()
                    .map(|k| code(k))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if let Some(why) = &s.change_set_reason {
        blocks.push(Block::new(
            Part::ChangeSet,
            format!("Change set made: {}\n\n", prose(why)),
        ));
    }
    Section {
        head_chars: head.chars().count(),
        head,
        blocks,
        dropped: false,
    }
}

/// The error of a stack that could not be planned, in a code block, its first characters.
fn error_text(e: &str) -> String {
    let e = e.trim_end();
    let n = e.chars().count();
    if n <= ERROR_CHARS {
        return fenced("", e);
    }
    let start: String = e.chars().take(ERROR_CHARS).collect();
    format!(
        "{}_… and {} more characters of the error._\n\n",
        fenced("", &start),
        thousands((n - ERROR_CHARS) as u64)
    )
}

/// A statement of a permission table is cut after this many, the widest first
/// ([`statements`]' order), before the whole table is.
const FIRST_STATEMENTS: usize = 5;

/// A broadening risk's permissions as statements, one row each: the table with its first
/// statements, and when there are more, the rest apart, to be cut first.
fn permission_table(r: &Risk) -> Vec<Block> {
    let list = |v: &[&str], sep: &str| {
        if v == ["-"] {
            "-".to_owned()
        } else {
            v.iter().map(|x| cell_code(x)).collect::<Vec<_>>().join(sep)
        }
    };
    let all = statements(r);
    let rows: Vec<String> = all
        .iter()
        .map(|st| {
            format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                st.sign(),
                cell(st.effect),
                cell_code(&st.actions.join(", ")),
                list(&st.resources, "<br>"),
                list(&st.principals, "<br>"),
                st.condition.map(cell_code).unwrap_or_else(|| "-".into()),
                cell_code(st.policy)
            )
        })
        .collect();
    let mut head = "| | Effect | Actions | Resources | Principal | Condition | Policy |\n|---|---|---|---|---|---|---|\n".to_owned();
    let first = rows.len().min(FIRST_STATEMENTS);
    head.push_str(&rows[..first].concat());
    if rows.len() == first {
        head.push('\n');
        return vec![Block::new(Part::Permissions, head)];
    }
    let rest = &all[first..];
    let stub = format!(
        "| … | | {} more statement{} ({}) left out | | | | |\n\n",
        rest.len(),
        crate::text::plural_suffix(rest.len()),
        plural(
            rest.iter().map(|s| s.tuples).sum(),
            "permission",
            "permissions"
        )
    );
    vec![
        Block::new(Part::Permissions, head),
        Block::with_stub(Part::PermissionTail, rows[first..].concat() + "\n", stub),
    ]
}

/// The StackSet's targets and operations (never cut before the change set) and its instance
/// table.
fn stack_set_blocks(s: &StackPlan, blocks: &mut Vec<Block>) {
    let Some(set) = &s.stack_set else { return };
    let mut text = format!(
        "StackSet ({}): {} in {}; {} deployed, **+{} / -{}**{}\n\n",
        prose(&set.permission_model),
        prose(&set.targets.to_string()),
        prose(&set.regions.join(", ")),
        plural(set.instances.len(), "instance", "instances"),
        set.add.len(),
        set.remove.len(),
        if set.remove.is_empty() || set.retain_removed {
            ""
        } else {
            " (removed stacks are deleted)"
        }
    );
    for (n, op) in set.operations.iter().enumerate() {
        text.push_str(&format!("{}. {}\n", n + 1, prose(&op.to_string())));
    }
    if !set.operations.is_empty() {
        text.push('\n');
    }
    blocks.push(Block::new(Part::Operations, text));
    if set.add.is_empty() && set.remove.is_empty() && set.unhealthy.is_empty() {
        return;
    }
    let mut t = "| | Account | Region | Status |\n|---|---|---|---|\n".to_owned();
    for (sign, i) in set
        .add
        .iter()
        .map(|i| ("+", i))
        .chain(set.remove.iter().map(|i| ("-", i)))
    {
        t.push_str(&format!(
            "| {sign} | {} | {} | {} |\n",
            cell(&i.account),
            cell(&i.region),
            if sign == "+" { "added" } else { "removed" }
        ));
    }
    for i in &set.unhealthy {
        t.push_str(&format!(
            "| | {} | {} | {} |\n",
            cell(&i.account),
            cell(&i.region),
            cell(&format!(
                "{}{}",
                i.status,
                i.status_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ))
        ));
    }
    t.push('\n');
    blocks.push(Block::new(Part::Instances, t));
}

/// The diff of the modified resources' properties, outputs, parameter declarations and other
/// sections of a stack that exists, as one `diff` code block.
fn template_diff(s: &StackPlan) -> Option<String> {
    if s.status == PlanStatus::New {
        return None;
    }
    let d = &s.template_changes;
    let mut body = String::new();
    for r in d
        .resources
        .iter()
        .filter(|r| r.kind == ChangeKind::Modified)
    {
        for c in &r.changes {
            body.push_str(&format!("# {} {}\n", r.logical_id, c.path));
            body.push_str(&unified(c.before.as_ref(), c.after.as_ref(), false));
        }
    }
    for (title, changes) in [
        ("Outputs", &d.outputs),
        ("Parameters", &d.parameters),
        ("Sections", &d.sections),
    ] {
        for c in changes {
            body.push_str(&format!("# {title}: {}\n", c.path));
            body.push_str(&unified(c.before.as_ref(), c.after.as_ref(), false));
        }
    }
    (!body.is_empty()).then(|| format!("Template diff:\n\n{}", fenced("diff", &body)))
}

#[cfg(test)]
mod tests;
