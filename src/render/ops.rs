//! The `render` and `validate` operations: select stacks, render (and lint) each, and return
//! the results with every diagnostic. They print nothing.

use serde::Serialize;

use super::{count, RenderOptions, Rendered, Renderer};
use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::project::{Project, Selection};

/// Renders the selected stacks; fails with every diagnostic of every stack that did not render.
pub fn render_stacks(
    project: &Project,
    selection: &Selection,
    options: RenderOptions,
) -> Result<Vec<Rendered>> {
    let stacks = project.select(&selection.names, selection.all)?;
    let renderer = Renderer::new(project, options);
    let mut out = Vec::new();
    let mut diags: Vec<Diagnostic> = Vec::new();
    for result in crate::parallel::map(&stacks, |stack| renderer.render(stack)) {
        match result {
            Ok(r) => out.push(r),
            Err(d) => diags.extend(d),
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(Error::Invalid(diags))
    }
}

/// The result of validating one stack.
#[derive(Debug, Serialize)]
pub struct StackResult {
    pub stack: String,
    pub template: String,
    pub errors: usize,
    pub warnings: usize,
}

/// The result of `validate`: per stack, and every diagnostic.
#[derive(Debug, Serialize)]
pub struct Validation {
    /// The version of this JSON document's shape.
    pub version: u32,
    pub valid: bool,
    pub stacks: Vec<StackResult>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Validation {
    /// Ok when no stack has an error (warnings alone pass), else failed.
    pub fn verdict(&self) -> crate::error::Verdict {
        if self.valid {
            crate::error::Verdict::Ok
        } else {
            crate::error::Verdict::Failed
        }
    }
}

/// Renders and lints the selected stacks, reporting all problems, not just the first.
pub fn validate(
    project: &Project,
    selection: &Selection,
    options: RenderOptions,
) -> Result<Validation> {
    let stacks = project.select(&selection.names, selection.all)?;
    let renderer = Renderer::new(project, options);
    let mut results = Vec::new();
    let mut all = Vec::new();
    let checked = crate::parallel::map(&stacks, |stack| renderer.check(stack).1);
    for (stack, diags) in stacks.iter().zip(checked) {
        let (errors, warnings) = count(&diags);
        results.push(StackResult {
            stack: stack.name.clone(),
            template: stack.template.clone(),
            errors,
            warnings,
        });
        all.extend(diags);
    }
    Ok(Validation {
        version: 1,
        valid: results.iter().all(|r| r.errors == 0),
        stacks: results,
        diagnostics: all,
    })
}
