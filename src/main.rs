//! The `little` binary: parse arguments, run, map the result's verdict to an exit code.
//! Nothing else.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use little_stack::cli::commands::run;
use little_stack::cli::context::use_color;
use little_stack::cli::output::{self, Stdout};
use little_stack::cli::Cli;
use little_stack::error::{code, Verdict};
use little_stack::report::{diagnostics, Style};

/// mimalloc: rendering many stacks allocates heavily, and it is markedly faster at that than
/// the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Bad arguments exit 1, not clap's 2, which means "changes" or "findings" here.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(code(Verdict::Failed))
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let color = use_color(
        cli.global.color,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
    let verbose = cli.global.verbose;
    let stdout = Stdout::process();
    let result = run(cli, &stdout);
    // Whatever became of stdout, the result keeps its code: see `cli::output`.
    let stdout = stdout.finish();
    let style = Style { color };
    let mut stderr = std::io::stderr().lock();
    if verbose {
        let calls = little_stack::aws::calls::snapshot();
        if !calls.is_empty() {
            let _ = write!(stderr, "{}", little_stack::aws::calls::format_table(&calls));
        }
        let throttled: u64 = little_stack::aws::calls::all_throttles().values().sum();
        if throttled > 0 {
            let _ = writeln!(stderr, "Throttled responses: {throttled}");
        }
        if let Some((max, lowest, halvings)) = little_stack::parallel::backoff() {
            let _ = writeln!(
                stderr,
                "Concurrency: backed off from {max} to {lowest} at the lowest ({halvings} halving{})",
                if halvings == 1 { "" } else { "s" }
            );
        }
    }
    if let output::State::Failed(why) = &stdout {
        let _ = writeln!(
            stderr,
            "{}: cannot write to stdout: {why}",
            style.red("error")
        );
    }
    let verdict = match result {
        Ok(verdict) => verdict,
        Err(err) => {
            if err.diagnostics().is_empty() {
                let _ = writeln!(stderr, "{}: {err}", style.red("error"));
            } else {
                let _ = diagnostics::write_text(&mut stderr, err.diagnostics(), style);
                let n = err.diagnostics().iter().filter(|d| d.is_error()).count();
                let _ = writeln!(
                    stderr,
                    "{}: {n} error{} found",
                    style.red("error"),
                    if n == 1 { "" } else { "s" }
                );
            }
            err.verdict()
        }
    };
    ExitCode::from(code(output::verdict(verdict, &stdout)))
}
