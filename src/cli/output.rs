//! The process's stdout, as every command writes it: a writer that never fails, so that what
//! happens to stdout can neither stop an operation half-way nor change its exit code.
//!
//! A write error is recorded instead of returned, and later output is dropped:
//! - a closed pipe (`EPIPE`, `little plan | head -1`) is the reader's choice: the command goes
//!   on as it would have and exits with the code its result deserves;
//! - any other error (a full disk, `>/dev/full`) is reported on stderr by `main`, and the exit
//!   code is never 0 ([`verdict`]).
//!
//! This is not a logger: progress and diagnostics go to stderr, through [`stderr_line`] or the
//! reporters, and are best effort.

use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::Verdict;

/// What became of stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Every write so far succeeded.
    Open,
    /// The reader went away (`EPIPE`); later output was dropped.
    Closed,
    /// A write failed otherwise (the error's text); later output was dropped.
    Failed(String),
}

/// A handle on stdout (or, in tests, on any writer) that records its first write error
/// instead of returning it. Clones share the writer and the state.
#[derive(Clone)]
pub struct Stdout {
    shared: Arc<Shared>,
}

struct Shared {
    sink: Mutex<Sink>,
    /// `true` once the state is no longer [`State::Open`]; for [`Stdout::stopped`].
    stopped: tokio::sync::watch::Sender<bool>,
}

struct Sink {
    writer: Box<dyn Write + Send>,
    state: State,
    /// Said on stderr when stdout stops, for a command that goes on (see [`Stdout::note_on_stop`]).
    note: Option<String>,
}

impl Stdout {
    /// The process's stdout.
    pub fn process() -> Self {
        Self::new(io::stdout())
    }

    /// Any writer, for tests.
    pub fn new(writer: impl Write + Send + 'static) -> Self {
        Stdout {
            shared: Arc::new(Shared {
                sink: Mutex::new(Sink {
                    writer: Box::new(writer),
                    state: State::Open,
                    note: None,
                }),
                stopped: tokio::sync::watch::Sender::new(false),
            }),
        }
    }

    /// What became of stdout so far.
    pub fn state(&self) -> State {
        self.sink().state.clone()
    }

    /// Flushes what is buffered and returns the final state; `main` calls it once, last.
    pub fn finish(&self) -> State {
        let mut sink = self.sink();
        if sink.state == State::Open {
            if let Err(e) = sink.writer.flush() {
                self.record(&mut sink, &e);
            }
        }
        sink.state.clone()
    }

    /// For a command that changes things: when stdout stops, say once on stderr why and what
    /// the command does about it (`note: stdout is closed; <text>`).
    pub fn note_on_stop(&self, text: impl Into<String>) {
        self.sink().note = Some(text.into());
    }

    /// Resolves once stdout no longer takes output (closed or failed): for commands that
    /// would otherwise go on producing output for nobody, such as `events --follow`.
    pub async fn stopped(&self) {
        let mut rx = self.shared.stopped.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = rx.wait_for(|stopped| *stopped).await;
    }

    fn sink(&self) -> MutexGuard<'_, Sink> {
        // A panic while writing leaves the sink usable: its state is still true.
        self.shared.sink.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, sink: &mut Sink, err: &io::Error) {
        let why = if err.kind() == io::ErrorKind::BrokenPipe {
            sink.state = State::Closed;
            "stdout is closed".to_owned()
        } else {
            sink.state = State::Failed(err.to_string());
            format!("cannot write to stdout: {err}")
        };
        if let Some(note) = sink.note.take() {
            stderr_line(format_args!("note: {why}; {note}"));
        }
        self.shared.stopped.send_replace(true);
    }

    fn write_through(&self, buf: &[u8]) {
        let mut sink = self.sink();
        if sink.state != State::Open {
            return;
        }
        if let Err(e) = sink.writer.write_all(buf) {
            self.record(&mut sink, &e);
        }
    }

    fn flush_through(&self) {
        let mut sink = self.sink();
        if sink.state != State::Open {
            return;
        }
        if let Err(e) = sink.writer.flush() {
            self.record(&mut sink, &e);
        }
    }
}

/// Never fails: the whole buffer is written, or the error recorded and the buffer dropped.
impl Write for &Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_through(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_through();
        Ok(())
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self).flush()
    }
}

/// The verdict of a command whose result's verdict is `result`, given what became of stdout:
/// a closed stdout changes nothing; a failed one turns a success into a failure and leaves any
/// other verdict as it is.
pub fn verdict(result: Verdict, stdout: &State) -> Verdict {
    match stdout {
        State::Failed(_) if result == Verdict::Ok => Verdict::Failed,
        State::Open | State::Closed | State::Failed(_) => result,
    }
}

/// One line on stderr. Unlike `eprintln!`, never panics: when stderr is gone there is no one
/// left to tell, and the exit code still tells.
pub fn stderr_line(line: impl fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes `room` bytes, then fails with `kind`.
    struct Limited {
        taken: Arc<Mutex<Vec<u8>>>,
        room: usize,
        kind: io::ErrorKind,
        flushes: Arc<Mutex<usize>>,
    }

    impl Write for Limited {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut taken = self.taken.lock().unwrap();
            let n = buf.len().min(self.room - taken.len());
            if n == 0 && !buf.is_empty() {
                return Err(io::Error::from(self.kind));
            }
            taken.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            *self.flushes.lock().unwrap() += 1;
            if self.taken.lock().unwrap().len() >= self.room {
                return Err(io::Error::from(self.kind));
            }
            Ok(())
        }
    }

    fn limited(room: usize, kind: io::ErrorKind) -> (Stdout, Arc<Mutex<Vec<u8>>>) {
        let taken = Arc::new(Mutex::new(Vec::new()));
        let out = Stdout::new(Limited {
            taken: taken.clone(),
            room,
            kind,
            flushes: Default::default(),
        });
        (out, taken)
    }

    #[test]
    fn writes_through_while_open() {
        let (out, taken) = limited(100, io::ErrorKind::BrokenPipe);
        writeln!(&out, "hello").unwrap();
        assert_eq!(out.finish(), State::Open);
        assert_eq!(&*taken.lock().unwrap(), b"hello\n");
    }

    #[test]
    fn a_closed_pipe_is_recorded_and_later_output_dropped() {
        let (out, taken) = limited(4, io::ErrorKind::BrokenPipe);
        // The writer's error never reaches the caller, which goes on.
        writeln!(&out, "hello").unwrap();
        assert_eq!(out.state(), State::Closed);
        writeln!(&out, "more").unwrap();
        (&out).flush().unwrap();
        assert_eq!(&*taken.lock().unwrap(), b"hell");
        assert_eq!(out.finish(), State::Closed);
    }

    #[test]
    fn other_errors_are_recorded_with_their_text() {
        let (out, _) = limited(0, io::ErrorKind::StorageFull);
        let mut handle = out.clone();
        handle.write_all(b"x").unwrap();
        match out.finish() {
            State::Failed(why) => {
                assert_eq!(why, io::Error::from(io::ErrorKind::StorageFull).to_string())
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn an_error_on_the_last_flush_is_recorded() {
        let (out, _) = limited(3, io::ErrorKind::StorageFull);
        // The write fits; only the flush at the end fails.
        (&out).write_all(b"abc").unwrap();
        assert_eq!(out.state(), State::Open);
        assert!(matches!(out.finish(), State::Failed(_)));
    }

    #[test]
    fn stopped_resolves_once_stdout_stops() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (out, _) = limited(2, io::ErrorKind::BrokenPipe);
        let early = rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_millis(20), out.stopped()).await
        });
        assert!(early.is_err(), "stopped before any error");
        (&out).write_all(b"abc").unwrap();
        rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(5), out.stopped())
                .await
                .expect("stopped after the error");
        });
    }

    #[test]
    fn verdicts_combine_the_result_and_stdout() {
        let failed = State::Failed("No space left on device (os error 28)".into());
        let table = [
            (Verdict::Ok, State::Open, Verdict::Ok),
            (Verdict::Failed, State::Open, Verdict::Failed),
            (Verdict::Changes, State::Open, Verdict::Changes),
            (Verdict::Refused, State::Open, Verdict::Refused),
            // A closed pipe is the reader's choice: the result's code stands.
            (Verdict::Ok, State::Closed, Verdict::Ok),
            (Verdict::Failed, State::Closed, Verdict::Failed),
            (Verdict::Changes, State::Closed, Verdict::Changes),
            (Verdict::Refused, State::Closed, Verdict::Refused),
            // Lost output is never a success.
            (Verdict::Ok, failed.clone(), Verdict::Failed),
            (Verdict::Failed, failed.clone(), Verdict::Failed),
            (Verdict::Changes, failed.clone(), Verdict::Changes),
            (Verdict::Refused, failed, Verdict::Refused),
        ];
        for (result, state, expected) in table {
            assert_eq!(
                verdict(result, &state),
                expected,
                "{result:?} with {state:?}"
            );
        }
    }
}
