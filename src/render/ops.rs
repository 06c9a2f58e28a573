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
    /// No stack has an error (with `strict`, nor a warning).
    pub valid: bool,
    /// Whether warnings fail the validation too (`--strict`).
    pub strict: bool,
    pub stacks: Vec<StackResult>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Validation {
    /// Ok when valid, else failed.
    pub fn verdict(&self) -> crate::error::Verdict {
        if self.valid {
            crate::error::Verdict::Ok
        } else {
            crate::error::Verdict::Failed
        }
    }
}

/// Renders and lints the selected stacks, then checks them against each other (`across`),
/// reporting all problems, not just the first.
pub fn validate(
    project: &Project,
    selection: &Selection,
    options: RenderOptions,
    strict: bool,
) -> Result<Validation> {
    let stacks = project.select(&selection.names, selection.all)?;
    let renderer = Renderer::new(project, options);
    // Each render gives its facts to the project checks and is dropped.
    let checked = crate::parallel::map(&stacks, |stack| {
        let (rendered, diags) = renderer.check(stack);
        let facts = rendered.map(|r| super::across::facts(&renderer, stack, &r));
        (facts, diags)
    });
    // The stacks whose outputs the selected ones read, rendered (not linted) for their outputs.
    let mut producers: Vec<&crate::project::Stack> = Vec::new();
    for stack in &stacks {
        for (dep, _) in &stack.output_refs {
            let selected = stacks.iter().any(|s| &s.name == dep);
            if !selected && !producers.iter().any(|p| &p.name == dep) {
                if let Some(p) = project.stack(dep) {
                    producers.push(p);
                }
            }
        }
    }
    let produced = crate::parallel::map(&producers, |stack| {
        renderer
            .render(stack)
            .ok()
            .map(|r| super::across::facts(&renderer, stack, &r))
    });
    let input = super::across::Input {
        selected: subjects(
            stacks
                .iter()
                .copied()
                .zip(checked.iter().map(|(f, _)| f.as_ref()))
                .collect(),
        ),
        producers: subjects(
            producers
                .iter()
                .copied()
                .zip(produced.iter().map(Option::as_ref))
                .collect(),
        ),
        whole_project: stacks.len() == project.stacks.len(),
    };
    let mut across = super::across::check(&renderer, &input);
    let mut results = Vec::new();
    let mut all = Vec::new();
    for (stack, (_, mut diags)) in stacks.iter().zip(checked) {
        // The project checks' findings go with the stack they are about.
        let mut i = 0;
        while i < across.len() {
            if across[i].stack.as_deref() == Some(stack.name.as_str()) {
                diags.push(across.remove(i));
            } else {
                i += 1;
            }
        }
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
        valid: results
            .iter()
            .all(|r| r.errors == 0 && !(strict && r.warnings > 0)),
        strict,
        stacks: results,
        diagnostics: all,
    })
}

/// The stacks that rendered, with their renders.
fn subjects<'a>(
    pairs: Vec<(&'a crate::project::Stack, Option<&'a super::across::Facts>)>,
) -> Vec<super::across::Subject<'a>> {
    pairs
        .into_iter()
        .filter_map(|(stack, facts)| facts.map(|facts| super::across::Subject { stack, facts }))
        .collect()
}
