//! `little validate`: the per-stack result and the summary line, as text or JSON.

use std::io::Write;

use super::{write_json, Style};
use crate::error::{Error, Result};
use crate::render::ops::Validation;

pub fn write_text(w: &mut dyn Write, report: &Validation, style: Style) -> Result<()> {
    for s in &report.stacks {
        let status = match (s.errors, s.warnings) {
            (0, 0) => style.green("ok"),
            (0, n) => style.yellow(&format!("ok, {n} warning{}", plural(n))),
            (e, n) => style.red(&format!(
                "{e} error{}{}",
                plural(e),
                if n > 0 {
                    format!(", {n} warning{}", plural(n))
                } else {
                    String::new()
                }
            )),
        };
        writeln!(w, "{:<32} {status}", s.stack).map_err(Error::output)?;
    }
    let errors: usize = report.stacks.iter().map(|s| s.errors).sum();
    let warnings: usize = report.stacks.iter().map(|s| s.warnings).sum();
    let n = report.stacks.len();
    writeln!(
        w,
        "validated {n} stack{}: {errors} error{}, {warnings} warning{}",
        plural(n),
        plural(errors),
        plural(warnings)
    )
    .map_err(Error::output)
}

pub fn write_json_report(w: &mut dyn Write, report: &Validation) -> Result<()> {
    write_json(w, report)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
