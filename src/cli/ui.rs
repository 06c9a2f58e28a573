//! The terminal side of apply and destroy ([`crate::deploy::Ui`]): the plan on stdout (or
//! stderr), progress and stack events on stderr, with a spinner per stack on a terminal, and
//! the question on the terminal.

use std::io::{IsTerminal, Write};

use super::context::Context;
use super::output::{stderr_line, Stdout};
use crate::error::Result;
use crate::report::{self, Layout, Style};

/// The terminal side of apply and destroy: the plan on stdout, progress and events on stderr,
/// questions on the terminal. Nothing it shows can fail the operation: stdout absorbs its
/// errors (see `output`) and stderr is best effort.
pub struct CliUi {
    out: Stdout,
    stdout: Style,
    stderr: Style,
    stdout_layout: Layout,
    stderr_layout: Layout,
    quiet: bool,
    /// The plan goes to stderr when stdout carries a JSON result.
    pub plan_to_stderr: bool,
    /// On a terminal: a spinner per stack, with events printed above them.
    bars: Option<std::sync::Mutex<Bars>>,
}

struct Bars {
    multi: indicatif::MultiProgress,
    by_stack: std::collections::HashMap<String, indicatif::ProgressBar>,
}

impl Bars {
    fn bar(&mut self, stack: &str) -> indicatif::ProgressBar {
        if let Some(b) = self.by_stack.get(stack) {
            return b.clone();
        }
        let bar = self.multi.add(indicatif::ProgressBar::new_spinner());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}")
        {
            bar.set_style(style);
        }
        bar.set_prefix(stack.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        self.by_stack.insert(stack.to_owned(), bar.clone());
        bar
    }
}

impl Drop for CliUi {
    fn drop(&mut self) {
        if let Some(bars) = &self.bars {
            let bars = bars.lock().unwrap_or_else(|e| e.into_inner());
            for b in bars.by_stack.values() {
                b.finish_and_clear();
            }
        }
    }
}

impl CliUi {
    pub fn new(ctx: &Context) -> Self {
        CliUi {
            out: ctx.out.clone(),
            stdout: ctx.stdout,
            stderr: ctx.stderr,
            stdout_layout: ctx.stdout_layout,
            stderr_layout: ctx.stderr_layout,
            quiet: ctx.quiet,
            plan_to_stderr: false,
            bars: (std::io::stderr().is_terminal() && !ctx.quiet).then(|| {
                std::sync::Mutex::new(Bars {
                    multi: indicatif::MultiProgress::new(),
                    by_stack: Default::default(),
                })
            }),
        }
    }
}

impl crate::deploy::Ui for CliUi {
    fn show_plan(&self, plan: &crate::plan::model::Plan) {
        let mut err = std::io::stderr().lock();
        if self.plan_to_stderr {
            let _ = report::plan::write_text(&mut err, plan, self.stderr, self.stderr_layout);
        } else {
            let mut out = &self.out;
            let _ = report::plan::write_text(&mut out, plan, self.stdout, self.stdout_layout);
            let _ = out.flush();
        }
        let _ = report::plan::write_failures(&mut err, plan, self.stderr);
    }

    fn can_ask(&self) -> bool {
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    fn confirm(&self, question: &str) -> Result<bool> {
        // Not held while waiting for the answer: an interrupt is reported on stderr.
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{} [y/N] ", self.stderr.bold(question));
        let _ = err.flush();
        drop(err);
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        Ok(matches!(
            answer.trim().to_ascii_lowercase().as_str(),
            "y" | "yes"
        ))
    }

    fn event(&self, stack: &str, event: &crate::aws::stack_ops::StackEvent) {
        if self.quiet {
            return;
        }
        let line = report::apply::event_line(stack, event, self.stderr);
        match &self.bars {
            Some(bars) => {
                let mut bars = bars.lock().unwrap_or_else(|e| e.into_inner());
                let bar = bars.bar(stack);
                if event.logical_id == stack {
                    bar.set_message(event.status.clone());
                }
                let _ = bars.multi.println(line);
            }
            None => stderr_line(line),
        }
    }

    fn progress(&self, stack: &str, message: &str) {
        if self.quiet {
            return;
        }
        match &self.bars {
            Some(bars) => {
                let mut bars = bars.lock().unwrap_or_else(|e| e.into_inner());
                bars.bar(stack).set_message(message.to_owned());
            }
            None => stderr_line(format_args!(
                "{} {message}",
                self.stderr.bold(&format!("{stack}:"))
            )),
        }
    }

    fn message(&self, text: &str) {
        let _ = write!(std::io::stderr().lock(), "{text}");
    }
}
