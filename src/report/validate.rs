//! `little validate`: the per-stack result and the summary line, as text or JSON.

use std::io::Write;

use super::{write_json, Style};
use crate::error::{Error, Result};
use crate::render::ops::Validation;
use crate::text::plural_suffix;

pub fn write_text(w: &mut dyn Write, report: &Validation, style: Style) -> Result<()> {
    for s in &report.stacks {
        let status = match (s.errors, s.warnings) {
            (0, 0) => style.green("ok"),
            (0, n) => style.yellow(&format!("ok, {n} warning{}", plural_suffix(n))),
            (e, n) => style.red(&format!(
                "{e} error{}{}",
                plural_suffix(e),
                if n > 0 {
                    format!(", {n} warning{}", plural_suffix(n))
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
    let strict = if report.strict && errors == 0 && warnings > 0 {
        " (--strict: the warnings fail it)"
    } else {
        ""
    };
    writeln!(
        w,
        "validated {n} stack{}: {errors} error{}, {warnings} warning{}{strict}",
        plural_suffix(n),
        plural_suffix(errors),
        plural_suffix(warnings)
    )
    .map_err(Error::output)
}

pub fn write_json_report(w: &mut dyn Write, report: &Validation) -> Result<()> {
    write_json(w, report)
}
