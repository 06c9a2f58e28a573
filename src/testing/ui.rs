//! A scripted person at a terminal ([`TestUi`], a [`crate::deploy::Ui`]) and apply options
//! for tests ([`apply_options`]): every stack, no waiting between polls.

use std::sync::Mutex;

use crate::aws::stack_ops::StackEvent;
use crate::deploy::Ui;
use crate::error::Result;
use crate::plan::model::Plan;
use std::time::Duration;

use crate::deploy::options::ApplyOptions;
use crate::plan::model::PlanOptions;
use crate::poll::Poll;
use crate::project::Selection;
use crate::render::RenderOptions;

/// A scripted person at a terminal.
#[derive(Default)]
pub struct TestUi {
    pub terminal: bool,
    pub answer: bool,
    pub events: Mutex<Vec<String>>,
    pub lines: Mutex<Vec<String>>,
    pub asked: Mutex<Vec<String>>,
}

impl Ui for TestUi {
    fn show_plan(&self, plan: &Plan) {
        self.lines
            .lock()
            .unwrap()
            .push(serde_json::to_string(plan).unwrap());
    }
    fn can_ask(&self) -> bool {
        self.terminal
    }
    fn confirm(&self, question: &str) -> Result<bool> {
        self.asked.lock().unwrap().push(question.to_owned());
        Ok(self.answer)
    }
    fn event(&self, stack: &str, e: &StackEvent) {
        self.events
            .lock()
            .unwrap()
            .push(format!("{stack} {} {}", e.logical_id, e.status));
    }
    fn progress(&self, stack: &str, message: &str) {
        self.lines
            .lock()
            .unwrap()
            .push(format!("{stack}: {message}"));
    }
    fn message(&self, text: &str) {
        self.lines.lock().unwrap().push(text.to_owned());
    }
}

/// Apply options for tests: every stack, no waiting between polls, `--yes` as given.
pub fn apply_options(yes: bool) -> ApplyOptions {
    let zero = Duration::ZERO;
    ApplyOptions {
        plan: PlanOptions {
            selection: Selection {
                names: Vec::new(),
                all: true,
            },
            concurrency: 4,
            keep_change_sets: true,
            change_sets: crate::plan::model::ChangeSetMode::Always,
            poll: Poll {
                first: zero,
                max: zero,
                timeout: Duration::from_secs(5),
            },
            render: RenderOptions::default(),
            now: 1,
            run_id: "5eed1e55".into(),
            change_set_name: None,
            replace_failed: false,
            refresh_templates: false,
            interrupt: crate::interrupt::Interrupt::never(),
        },
        saved: None,
        yes,
        allow_destructive: false,
        allow_broadening: false,
        allow_unprotect: false,
        replace_failed: false,
        wait: Poll {
            first: zero,
            max: zero,
            timeout: Duration::from_secs(5),
        },
    }
}
