//! docs/getting-started.md runs as written: every `console` block's `$ little …` and `$ cd …`
//! lines are run in order, in a temporary directory, against the emulator (the doc starts it
//! with `scripts/emulator start`; here the harness's emulator stands in, with the same
//! credentials), and what each prints (stdout, then stderr) is compared with the lines the doc
//! shows under it. A line `...` in the doc stands for any number of lines; timestamps, clock
//! times and durations are normalised on both sides as the exact-output tests do.

use std::path::PathBuf;

use crate::exact::tokens;
use crate::harness::{repo, Emulator, TestProject};

/// One command of the doc and the output it shows.
struct Step {
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// The `$ ` commands of the doc's `console` blocks, each with the lines below it.
fn steps(doc: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    for (i, line) in doc.lines().enumerate() {
        if line.starts_with("```") {
            in_console = !in_console && line.trim() == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            steps.push(Step {
                line: i + 1,
                command: command.to_owned(),
                expected: Vec::new(),
            });
        } else if let Some(step) = steps.last_mut() {
            step.expected.push(line.to_owned());
        }
    }
    steps
}

/// Whether `actual` is `expected`, where a `...` line of `expected` matches any lines.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => {
            actual.first().is_some_and(|a| a == first) && matches(rest, &actual[1..])
        }
    }
}

/// The words of a command line: spaces split, single or double quotes group.
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[test]
fn the_getting_started_steps_print_what_the_doc_shows() {
    let doc = std::fs::read_to_string(repo().join("docs/getting-started.md")).unwrap();
    let steps = steps(&doc);
    assert!(
        steps.len() >= 8,
        "docs/getting-started.md has too few steps"
    );
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    let home = p.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut dir: PathBuf = home.clone();
    let mut failures = String::new();
    for step in &steps {
        let words = words(&step.command);
        let actual = match words.first().map(String::as_str) {
            Some("cd") => {
                dir = dir.join(&words[1]).canonicalize().unwrap();
                String::new()
            }
            Some("little") => {
                let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
                let out = p.command(&dir, &args).output().expect("run little");
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            }
            _ => panic!(
                "docs/getting-started.md:{}: the test runs `little` and `cd` only: `{}`",
                step.line, step.command
            ),
        };
        let actual = tokens(&actual.replace(&home.display().to_string(), "~"));
        let actual: Vec<&str> = actual.lines().collect();
        let expected: Vec<String> = step.expected.iter().map(|l| tokens(l)).collect();
        if !matches(&expected, &actual) {
            failures.push_str(&format!(
                "docs/getting-started.md:{}: `{}` printed:\n{}\n\n",
                step.line,
                step.command,
                actual.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn the_doc_reader_reads_steps_and_elisions() {
    let doc = "text\n```console\n$ little a 'b c'\none\n...\nfour\n$ cd x\n```\n```sh\n$ no\n```\n";
    let steps = steps(doc);
    assert_eq!(steps.len(), 2);
    assert_eq!(words(&steps[0].command), ["little", "a", "b c"]);
    assert_eq!(steps[0].expected, ["one", "...", "four"]);
    assert!(matches(
        &steps[0].expected,
        &["one", "two", "three", "four"]
    ));
    assert!(matches(&steps[0].expected, &["one", "four"]));
    assert!(!matches(&steps[0].expected, &["one", "two"]));
    assert!(steps[1].expected.is_empty());
}
