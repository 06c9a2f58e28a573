//! `little ecr lifecycle-preview` as text: what the policy does to the repository's images
//! now, one line per image it acts on (oldest first), and with `--ecr` whether ECR's own
//! preview agrees.

use std::io::Write;

use super::{table, Style};
use crate::audit::preview::{LifecyclePreview, PolicySource};
use crate::error::{Error, Result};
use crate::text::plural;

pub fn write_text(w: &mut dyn Write, p: &LifecyclePreview, style: Style) -> Result<()> {
    let source = match p.policy {
        PolicySource::Deployed => "its lifecycle policy",
        PolicySource::File => "the given lifecycle policy",
    };
    let expires = p.effect.expires();
    let moves = p.effect.selected.len() - expires;
    let mut head = format!(
        "{}: {source} expires {expires} of {} now",
        p.repository,
        plural(p.effect.images, "image", "images")
    );
    if moves > 0 {
        head.push_str(&format!(
            " and moves {} to archive",
            plural(moves, "image", "images")
        ));
    }
    writeln!(w, "{head}").map_err(Error::output)?;
    let rows: Vec<Vec<String>> = p
        .effect
        .selected
        .iter()
        .map(|s| {
            vec![
                format!("  {}", s.action),
                if s.tags.is_empty() {
                    "(untagged)".to_owned()
                } else {
                    s.tags.join(",")
                },
                s.digest.clone(),
                s.pushed_at
                    .as_deref()
                    .map(|t| format!("pushed {t}"))
                    .unwrap_or_default(),
                format!("rule {}", s.rule),
            ]
        })
        .collect();
    write!(w, "{}", table(&rows)).map_err(Error::output)?;
    if let Some(c) = &p.ecr {
        if c.agrees() {
            writeln!(
                w,
                "{}",
                style.green(&format!(
                    "ECR's own preview agrees: {}",
                    plural(c.selected, "image", "images")
                ))
            )
        } else {
            let mut text = format!(
                "ECR's own preview differs ({}):",
                plural(c.selected, "image", "images")
            );
            if !c.only_little.is_empty() {
                text.push_str(&format!(
                    " only little selects {};",
                    c.only_little.join(", ")
                ));
            }
            if !c.only_ecr.is_empty() {
                text.push_str(&format!(" only ECR selects {};", c.only_ecr.join(", ")));
            }
            writeln!(w, "{}", style.yellow(text.trim_end_matches(';')))
        }
        .map_err(Error::output)?;
    }
    Ok(())
}
