//! `little stacks`: the project's stacks as a table or JSON.

use std::io::Write;

use serde::Serialize;

use super::{table, write_json, Style};
use crate::error::{Error, Result};
use crate::project::Project;

/// One row of `little stacks`.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct StackRow {
    pub name: String,
    pub config: String,
    pub template: String,
    pub region: Option<String>,
    pub account: Option<String>,
    pub account_id: Option<String>,
    pub depends_on: Vec<String>,
    /// For a StackSet stack: `SERVICE_MANAGED: OUs ou-... in us-east-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_set: Option<String>,
}

/// The rows, in dependency order.
pub fn rows(project: &Project) -> Vec<StackRow> {
    project
        .select(&[], true)
        .unwrap_or_default()
        .into_iter()
        .map(|s| StackRow {
            name: s.name.clone(),
            config: s.file.to_string_lossy().replace('\\', "/"),
            template: s.template.clone(),
            region: s.region.clone(),
            account: s.account.clone(),
            account_id: project.account_of(s).map(|a| a.id.clone()),
            depends_on: project.dependencies_of(&s.name),
            stack_set: s.kind.stack_set().map(|set| {
                format!(
                    "{}: {} in {}",
                    set.permission_model.as_str(),
                    set.targets,
                    set.regions.join(", ")
                )
            }),
        })
        .collect()
}

pub fn write_text(w: &mut dyn Write, rows: &[StackRow], style: Style) -> Result<()> {
    if rows.is_empty() {
        writeln!(w, "no stacks: add stack configs under stacks/").map_err(Error::output)?;
        return Ok(());
    }
    let mut cells = vec![vec![
        style.bold("STACK"),
        style.bold("TEMPLATE"),
        style.bold("REGION"),
        style.bold("ACCOUNT"),
        style.bold("DEPENDS ON"),
    ]];
    // Bold headers carry escape codes; align on the plain text, then paint.
    let plain: Vec<Vec<String>> = std::iter::once(vec![
        "STACK".into(),
        "TEMPLATE".into(),
        "REGION".into(),
        "ACCOUNT".into(),
        "DEPENDS ON".into(),
    ])
    .chain(rows.iter().map(|r| {
        vec![
            r.name.clone(),
            r.template.clone(),
            r.region.clone().unwrap_or_else(|| "-".into()),
            match (&r.account, &r.account_id) {
                (Some(a), Some(id)) => format!("{a} ({id})"),
                _ => "-".into(),
            },
            if r.depends_on.is_empty() {
                "-".into()
            } else {
                r.depends_on.join(", ")
            },
        ]
    }))
    .collect();
    let text = table(&plain);
    let mut lines = text.lines();
    if let Some(head) = lines.next() {
        let head = if style.color {
            style.bold(head)
        } else {
            head.to_owned()
        };
        writeln!(w, "{head}").map_err(Error::output)?;
    }
    cells.clear();
    for line in lines {
        writeln!(w, "{line}").map_err(Error::output)?;
    }
    for r in rows {
        if let Some(set) = &r.stack_set {
            writeln!(w, "{} is a StackSet ({set})", r.name).map_err(Error::output)?;
        }
    }
    Ok(())
}

pub fn write_json_rows(w: &mut dyn Write, rows: &[StackRow]) -> Result<()> {
    write_json(w, &rows)
}
