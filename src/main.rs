//! The `little` binary: parse arguments, run, map the result to an exit code. Nothing else.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use little_stack::cli::output::{self, Stdout};
use little_stack::cli::{run, Cli};
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
                ExitCode::from(little_stack::error::exit::ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let color = match cli.global.color {
        little_stack::cli::ColorChoice::Always => true,
        little_stack::cli::ColorChoice::Never => false,
        little_stack::cli::ColorChoice::Auto => {
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
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
    }
    if let output::State::Failed(why) = &stdout {
        let _ = writeln!(
            stderr,
            "{}: cannot write to stdout: {why}",
            style.red("error")
        );
    }
    let code = match result {
        Ok(code) => code,
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
            err.exit_code()
        }
    };
    ExitCode::from(output::exit_code(code, &stdout))
}
