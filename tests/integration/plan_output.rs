//! The plan sized for people: the repository's whole bootstrap planned from nothing (an empty
//! emulator with the organisation its StackSets target) as a pull-request comment, Markdown
//! under 60,000 characters that a Markdown parser reads as GitHub would, and as text that keeps
//! to the width it is given.

use std::path::Path;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::harness::{library_organisation, Emulator, Output, TestProject};

/// What GitHub would make of a Markdown text: its tables (rows of cell texts, header first),
/// its alerts, and the summaries of its `<details>` sections.
pub struct Markdown {
    pub tables: Vec<Vec<Vec<String>>>,
    pub alerts: usize,
    pub sections: Vec<String>,
}

/// Reads `md` with a Markdown parser (GitHub's extensions: tables, alerts, strikethrough) and
/// panics where GitHub would show something else than meant: a `<details>` left open or closed
/// twice, a section head that swallowed Markdown, other HTML than the plan's, a table row of
/// another width than its header, or a table line with more or fewer unescaped `|` than its
/// header (a cell that split).
pub fn read_github_markdown(md: &str) -> Markdown {
    let mut out = Markdown {
        tables: Vec::new(),
        alerts: 0,
        sections: Vec::new(),
    };
    let mut depth = 0i32;
    let mut cell: Option<String> = None;
    let options = Options::ENABLE_TABLES | Options::ENABLE_GFM | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(md, options) {
        match event {
            Event::Start(Tag::Table(_)) => out.tables.push(Vec::new()),
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                out.tables.last_mut().unwrap().push(Vec::new())
            }
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                let text = cell.take().unwrap();
                out.tables
                    .last_mut()
                    .unwrap()
                    .last_mut()
                    .unwrap()
                    .push(text);
            }
            Event::Start(Tag::BlockQuote(Some(_))) => out.alerts += 1,
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = cell.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::Html(h) => {
                let h = h.trim_end();
                if let Some(summary) = h
                    .strip_prefix("<details><summary>")
                    .and_then(|h| h.strip_suffix("</summary>"))
                {
                    assert!(!h.contains('\n'), "a section head took more lines: {h}");
                    depth += 1;
                    out.sections.push(summary.to_owned());
                } else if h == "</details>" {
                    depth -= 1;
                    assert!(depth >= 0, "</details> without <details>");
                } else {
                    assert!(h.starts_with("<!-- little-plan: "), "unexpected HTML: {h}");
                }
            }
            Event::InlineHtml(h) => assert!(
                matches!(&*h, "<br>" | "<code>" | "</code>" | "<b>" | "</b>"),
                "unexpected inline HTML: {h}"
            ),
            _ => {}
        }
    }
    assert_eq!(depth, 0, "a <details> is left open");
    for t in &out.tables {
        for row in t {
            assert_eq!(row.len(), t[0].len(), "a row of another width: {row:?}");
        }
    }
    // The source: each table line has its header's number of unescaped pipes.
    let pipes = |l: &str| {
        let b = l.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    let mut fence = false;
    let mut header: Option<usize> = None;
    for line in md.lines() {
        if line.starts_with("```") {
            fence = !fence;
        }
        if fence || !line.starts_with('|') {
            header = None;
            continue;
        }
        let n = pipes(line);
        match header {
            None => header = Some(n),
            Some(h) => assert_eq!(n, h, "a table line split or joined cells: {line}"),
        }
    }
    out
}

/// `little ARGS` in the project with `env` set (and `COLUMNS` unset unless `env` sets it).
fn run_with(p: &TestProject, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = p.command(p.path(), args);
    cmd.env_remove("COLUMNS").env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run little");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked at"),
        "little panicked:\n{stderr}"
    );
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    }
}

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn stack_names(p: &TestProject) -> Vec<String> {
    p.run(&["stacks", "--format", "json"])
        .success()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_whole_bootstrap_plan_fits_a_comment_and_a_terminal() {
    let emulator = Emulator::lock();
    let p = TestProject::from_repo().with_emulator(&emulator);
    library_organisation(&emulator, p.path());
    let stacks = stack_names(&p);
    assert_eq!(stacks.len(), 10, "{stacks:?}");

    // Markdown, also appended to the job summary.
    let summary: &Path = &p.path().join("job-summary.md");
    std::fs::write(summary, "earlier step\n").unwrap();
    let md = run_with(
        &p,
        &["plan", "--all", "--format", "markdown", "--step-summary"],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    md.success();
    let chars = md.stdout.chars().count();
    eprintln!(
        "bootstrap plan: Markdown {chars} characters, {} lines",
        md.stdout.lines().count()
    );
    assert!(chars < 60_000, "{chars} characters");
    // It fits whole: nothing was cut.
    assert!(!md.stdout.contains("Cut to stay under"), "{}", md.stdout);
    let read = read_github_markdown(&md.stdout);
    let table = &read.tables[0];
    assert_eq!(table[0], ["Stack", "Change", "Risks"]);
    let names: Vec<&str> = table[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, stacks);
    assert!(
        table[1..].iter().all(|r| r[1].starts_with("new: ")),
        "{table:?}"
    );
    // One section per stack (all are new), and the risks in one alert.
    assert_eq!(read.sections.len(), stacks.len(), "{:?}", read.sections);
    for (section, name) in read.sections.iter().zip(&stacks) {
        assert!(
            section.starts_with(&format!("<code>{name}</code> · new")),
            "{section}"
        );
    }
    assert_eq!(read.alerts, 1);
    // Permission tables are statements, not tuples: far fewer rows than permissions.
    let permission_rows: usize = read
        .tables
        .iter()
        .filter(|t| t[0].get(2).is_some_and(|h| h == "Actions"))
        .map(|t| t.len() - 1)
        .sum();
    assert!((10..200).contains(&permission_rows), "{permission_rows}");
    assert_eq!(
        std::fs::read_to_string(summary).unwrap(),
        format!("earlier step\n{}", md.stdout)
    );
    md.stderr_has("appended the Markdown plan to the job summary");

    // Text at 120 columns: no line wider; at 80 neither; -v shows long values whole.
    let text = run_with(&p, &["plan", "--all"], &[("COLUMNS", "120")]);
    text.success();
    eprintln!(
        "bootstrap plan: text {} characters, {} lines, {} columns at most",
        text.stdout.chars().count(),
        text.stdout.lines().count(),
        widest(&text.stdout)
    );
    assert!(widest(&text.stdout) <= 120, "{}", text.stdout);
    text.stdout_has("Plan: 10 new, 0 changed, 0 unchanged, 0 failed.");
    let narrow = run_with(&p, &["plan", "--all"], &[("COLUMNS", "80")]);
    assert!(widest(&narrow.success().stdout) <= 80, "{}", narrow.stdout);
    let verbose = run_with(&p, &["plan", "--all", "-v"], &[("COLUMNS", "80")]);
    verbose.success();
    assert!(widest(&verbose.stdout) > 80);
    let condition = verbose
        .stdout
        .lines()
        .find(|l| l.contains("condition") && l.contains("token.actions.githubusercontent.com:sub"))
        .unwrap_or_else(|| panic!("no whole OIDC condition:\n{}", verbose.stdout));
    assert!(condition.trim_end().ends_with("]}}"), "{condition}");

    // The summary: a line a stack.
    let short = run_with(&p, &["plan", "--all", "--summary"], &[("COLUMNS", "120")]);
    let lines: Vec<&str> = short.success().stdout.lines().collect();
    assert_eq!(lines.len(), 1 + stacks.len() + 2, "{}", short.stdout);
    assert!(lines[0].starts_with("STACK "), "{}", short.stdout);
}

#[test]
fn summary_is_refused_for_json_before_any_aws_call() {
    let p = TestProject::new();
    p.stack("app", "app.json", "");
    p.template("app.json", r#"{"Resources": {}}"#);
    let out = p.run(&["plan", "--all", "--summary", "--format", "json"]);
    out.code(1)
        .stderr_has("`--summary` is for `--format text` and `markdown`");
}

#[test]
fn step_summary_without_the_variable_warns() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    p.stack("app", "app.json", "");
    p.template(
        "app.json",
        r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#,
    );
    let out = run_with(&p, &["plan", "--all", "--step-summary"], &[]);
    out.success()
        .stdout_has("app (us-east-1")
        .stderr_has("`--step-summary`: GITHUB_STEP_SUMMARY is not set");
}
