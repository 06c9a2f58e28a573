//! The crate's error type, and [`Verdict`]: what a result means to the one who ran the command,
//! with [`code`], the one place where verdicts (of results and of errors) become exit codes.
//!
//! Variants carry the context a user needs (file, stack, AWS operation) and lower-case messages
//! with names in backticks. Problems in user files travel as [`Diagnostic`]s, so that every one
//! of them can be reported, not only the first.

use std::path::PathBuf;

use crate::diag::Diagnostic;

/// What a command's result means to the one who ran it: each operation's result says its own
/// verdict, and [`code`] alone turns a verdict into the process's exit code
/// (docs/exit-codes.md is the contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Success: no changes, no findings.
    Ok,
    /// Error: bad input, AWS failure, internal error; something could not be done or checked.
    Failed,
    /// Changes present (`plan --detailed-exitcode`), drift found, findings at or above the
    /// threshold: a result that needs attention.
    Changes,
    /// Refused for safety.
    Refused,
    /// Stopped by Ctrl-C or SIGTERM, after cleaning up.
    Interrupted,
}

/// The exit code of a verdict: the only place where verdicts become numbers.
pub const fn code(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Ok => 0,
        Verdict::Failed => 1,
        Verdict::Changes => 2,
        Verdict::Refused => 3,
        // 128 + SIGINT, as shells report it.
        Verdict::Interrupted => 130,
    }
}

/// The exit code of each verdict, by name (for assertions and `main`'s parse errors).
pub mod exit {
    use super::{code, Verdict};

    /// Success: no changes, no findings.
    pub const OK: u8 = code(Verdict::Ok);
    /// Error: bad input, AWS failure, internal error.
    pub const ERROR: u8 = code(Verdict::Failed);
    /// Changes present (`plan --detailed-exitcode`), drift found, findings at or above the threshold.
    pub const CHANGES: u8 = code(Verdict::Changes);
    /// Refused for safety.
    pub const REFUSED: u8 = code(Verdict::Refused);
    /// Stopped by Ctrl-C or SIGTERM, after cleaning up.
    pub const INTERRUPTED: u8 = code(Verdict::Interrupted);
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more problems in the user's files; each carries its own location.
    #[error("{}", summarize(.0))]
    Invalid(Vec<Diagnostic>),

    #[error("no `little.yaml` found in `{}` or any parent directory", .start.display())]
    ProjectNotFound { start: PathBuf },

    #[error("cannot read `{}`: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write `{}`: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("unknown stack `{name}`{}", did_you_mean(.suggestion))]
    UnknownStack {
        name: String,
        suggestion: Option<String>,
    },

    #[error("name one or more stacks, or pass `--all`")]
    NoStacksSelected,

    /// A command-line argument that clap cannot check (an image reference, a duration).
    #[error("{0}")]
    Usage(String),

    /// An AWS API call failed; `message` is AWS's own text.
    #[error("{operation} failed: {message}")]
    Aws { operation: String, message: String },

    /// The AWS configuration (credentials, region, endpoint) could not be loaded.
    #[error("aws configuration: {0}")]
    AwsConfig(String),

    /// `--profile` or `AWS_PROFILE` names a profile that the AWS config files do not have.
    #[error("AWS profile `{name}` ({origin}) is not in {}{}", .files.join(" or "), profile_hint(.suggestion, .known))]
    UnknownProfile {
        name: String,
        /// `--profile` or `AWS_PROFILE`.
        origin: String,
        /// The config and credentials files searched.
        files: Vec<String>,
        suggestion: Option<String>,
        /// The profiles the files have.
        known: Vec<String>,
    },

    /// The account guard refused: the credentials used for a stack act in another account
    /// than the stack's, or in one little.yaml does not allow. Exits 3.
    #[error("{}", .0.iter().map(|r| format!("refused: {}", r.message)).collect::<Vec<_>>().join("\n"))]
    AccountRefused(Vec<AccountRefusal>),

    /// A stack is in a state that the operation cannot proceed from; `guidance` says the way out.
    #[error("stack `{stack}` is {status}: {guidance}")]
    StackState {
        stack: String,
        status: String,
        guidance: String,
    },

    /// `adopt`: what cannot be adopted into a stack, each problem naming its resource.
    #[error("cannot adopt into `{stack}`: {}", .problems.join("; "))]
    Adopt {
        stack: String,
        problems: Vec<String>,
    },

    /// An operation was refused for safety; exits 3.
    #[error("refused: {0}")]
    Refused(String),

    /// Stopped by Ctrl-C or SIGTERM; the text says what was cleaned up and what still runs.
    #[error("interrupted: {0}")]
    Interrupted(String),

    /// `apply`: some stacks could not be planned (the plan shows why), so nothing was applied.
    #[error("plan failed: could not plan {}; nothing was applied", .0.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "))]
    PlanFailed(Vec<String>),

    /// A notification (SNS, webhook) could not be sent.
    #[error("notification: {0}")]
    Notify(String),

    /// A bug: something the program should have ruled out.
    #[error("internal error: {0}")]
    Internal(String),

    /// Writing output failed. Stdout itself never fails this way: see `cli::output`.
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),

    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Whether an error's text names throttling (AWS's `Throttling`, `TooManyRequestsException`,
/// `Rate exceeded`, S3's `SlowDown`).
pub fn is_throttling_text(text: &str) -> bool {
    ["Throttling", "TooManyRequests", "Rate exceeded", "SlowDown"]
        .iter()
        .any(|w| text.contains(w))
}

/// Whether an error's text says IAM denied the call (`AccessDenied`, `AccessDeniedException`,
/// EC2's `UnauthorizedOperation`, or a message `... is not authorized to perform: ...`).
pub fn is_access_denied_text(text: &str) -> bool {
    [
        "AccessDenied",
        "UnauthorizedOperation",
        "not authorized to perform",
    ]
    .iter()
    .any(|w| text.contains(w))
}

impl Error {
    /// The action (such as `ecr:GetLifecyclePolicy`) that IAM denied, when this error is an
    /// AWS call refused for a missing permission.
    pub fn denied_action(&self) -> Option<&str> {
        match self {
            Error::Aws { operation, message } if is_access_denied_text(message) => {
                Some(operation.as_str())
            }
            _ => None,
        }
    }

    /// Whether AWS refused the call for its rate (after the SDK's own retries): the same call
    /// may succeed a little later.
    pub fn is_throttling(&self) -> bool {
        is_throttling_text(&self.to_string())
    }

    /// What this error means for the run: refused, interrupted, or failed.
    pub fn verdict(&self) -> Verdict {
        match self {
            Error::Refused(_) | Error::AccountRefused(_) => Verdict::Refused,
            Error::Interrupted(_) => Verdict::Interrupted,
            _ => Verdict::Failed,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        code(self.verdict())
    }

    /// The diagnostics, when the error is about the user's files.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::Invalid(d) => d,
            _ => &[],
        }
    }

    /// Maps an error writing a report or a line of output. A closed pipe is an error like
    /// any other here: only stdout may be closed by its reader, and `cli::output::Stdout`
    /// absorbs that.
    pub fn output(err: std::io::Error) -> Error {
        Error::Output(err)
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::Invalid(vec![d])
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One refusal of the account guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRefusal {
    /// The stack refused; none for a target with no stack (`little whoami`).
    pub stack: Option<String>,
    /// The account the credentials act in (STS GetCallerIdentity).
    pub caller_account: String,
    /// The whole sentence: the stack and its file, both accounts, the credentials' source and
    /// what would fix it.
    pub message: String,
}

fn profile_hint(suggestion: &Option<String>, known: &[String]) -> String {
    match (suggestion, known) {
        (Some(_), _) => did_you_mean(suggestion),
        (None, []) => "; the files hold no profile".into(),
        (None, known) => format!("; the files hold the profiles {}", known.join(", ")),
    }
}

fn summarize(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    match (errors, diags.first()) {
        (1, Some(d)) => d.message.clone(),
        (n, _) => format!("{n} errors"),
    }
}

fn did_you_mean(s: &Option<String>) -> String {
    match s {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verdict_has_its_documented_code() {
        // docs/exit-codes.md: 0 success, 1 error, 2 changes or findings, 3 refused, 130
        // interrupted.
        assert_eq!(code(Verdict::Ok), 0);
        assert_eq!(code(Verdict::Failed), 1);
        assert_eq!(code(Verdict::Changes), 2);
        assert_eq!(code(Verdict::Refused), 3);
        assert_eq!(code(Verdict::Interrupted), 130);
        assert_eq!(
            [
                exit::OK,
                exit::ERROR,
                exit::CHANGES,
                exit::REFUSED,
                exit::INTERRUPTED
            ],
            [0, 1, 2, 3, 130]
        );
    }

    #[test]
    fn errors_have_verdicts() {
        assert_eq!(Error::Refused("x".into()).verdict(), Verdict::Refused);
        assert_eq!(
            Error::AccountRefused(Vec::new()).verdict(),
            Verdict::Refused
        );
        assert_eq!(
            Error::Interrupted("x".into()).verdict(),
            Verdict::Interrupted
        );
        assert_eq!(Error::Usage("x".into()).verdict(), Verdict::Failed);
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Error::Refused("x".into()).exit_code(), exit::REFUSED);
        assert_eq!(Error::NoStacksSelected.exit_code(), exit::ERROR);
        // A closed pipe is no success: only stdout's reader may close it, and that is
        // absorbed before it becomes an error.
        let pipe = Error::output(std::io::ErrorKind::BrokenPipe.into());
        assert_eq!(pipe.exit_code(), exit::ERROR);
    }
}
