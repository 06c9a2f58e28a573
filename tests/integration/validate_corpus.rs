//! `little validate` against CloudFormation's own linter on a generated corpus
//! (`tests/fixtures/cfn-corpus/`, written by `scripts/cfn-corpus.py`: for 49 resource types, a
//! valid template, the same with intrinsic functions, a misspelt type, a misspelt property and
//! a broken one). The pinned cfn-lint of the virtualenv and `little validate` must agree on
//! which templates are rejected in at least 95% of cases, and the cases where they do not are
//! exactly the ones listed, with the reason, in `disagreements.txt` beside the corpus.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::harness::{repo, TestProject};

/// The corpus's templates, by file name.
fn corpus() -> BTreeMap<String, String> {
    let dir = repo().join("tests/fixtures/cfn-corpus");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("the corpus folder") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.insert(name, std::fs::read_to_string(&path).expect("a template"));
        }
    }
    out
}

/// The stack a corpus file is validated as.
fn stack_of(file: &str) -> String {
    format!("c-{}", file.trim_end_matches(".json").replace("--", "-"))
}

/// The files cfn-lint rejects (an `E` finding), run once over the whole folder.
fn rejected_by_cfn_lint(dir: &Path) -> BTreeSet<String> {
    let out = Command::new(repo().join(".venv/bin/cfn-lint"))
        .args(["--format", "parseable", "--"])
        .args(
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "json")),
        )
        .output()
        .expect("run the pinned cfn-lint (scripts/emulator install)");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|line| {
            // path:line:col:endline:endcol:RULE:message
            let mut parts = line.splitn(7, ':');
            let path = parts.next()?;
            let rule = parts.nth(4)?;
            rule.starts_with('E').then(|| {
                Path::new(path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })?
        })
        .collect()
}

/// The files `little validate` rejects (a stack with an error).
fn rejected_by_little(p: &TestProject, files: &BTreeMap<String, String>) -> BTreeSet<String> {
    let out = p.run(&["validate", "--all", "--format", "json"]);
    let report = out.json();
    let failing: BTreeSet<String> = report["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .filter(|s| s["errors"].as_u64().unwrap_or(0) > 0)
        .map(|s| s["stack"].as_str().unwrap_or_default().to_owned())
        .collect();
    files
        .keys()
        .filter(|f| failing.contains(&stack_of(f)))
        .cloned()
        .collect()
}

/// `disagreements.txt`: `file: reason` lines (`#` comments and blank lines apart).
fn listed() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/cfn-corpus/disagreements.txt"))
        .expect("disagreements.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (file, reason) = l.split_once(':').expect("`file: reason`");
            (file.trim().to_owned(), reason.trim().to_owned())
        })
        .collect()
}

#[test]
fn validate_agrees_with_cfn_lint_on_the_corpus() {
    let files = corpus();
    assert!(
        files.len() >= 200,
        "the corpus has {} templates",
        files.len()
    );
    let p = TestProject::new();
    p.file(
        "little.yaml",
        "name: corpus\ndefaults:\n  region: us-east-1\n",
    );
    for (file, text) in &files {
        p.template(&format!("corpus/{file}"), text);
        p.file(
            &format!("stacks/{}.yaml", stack_of(file)),
            &format!(
                "name: {}\ntemplate: corpus/{file}\ncapabilities: [CAPABILITY_NAMED_IAM]\n",
                stack_of(file)
            ),
        );
    }
    let cfn_lint = rejected_by_cfn_lint(&p.path().join("templates/corpus"));
    // Three broken variants of each type: a cfn-lint that did not run rejects nothing.
    assert!(
        cfn_lint.len() * 3 >= files.len(),
        "cfn-lint rejected only {} of {} templates; did it run?",
        cfn_lint.len(),
        files.len()
    );
    let little = rejected_by_little(&p, &files);
    let differ: BTreeSet<String> = cfn_lint.symmetric_difference(&little).cloned().collect();
    let agree = files.len() - differ.len();
    let listed = listed();
    let unlisted: Vec<String> = differ
        .iter()
        .filter(|f| !listed.contains_key(*f))
        .map(|f| {
            format!(
                "{f}: cfn-lint {}, little {}",
                if cfn_lint.contains(f) {
                    "rejects"
                } else {
                    "accepts"
                },
                if little.contains(f) {
                    "rejects"
                } else {
                    "accepts"
                }
            )
        })
        .collect();
    let stale: Vec<&String> = listed.keys().filter(|f| !differ.contains(*f)).collect();
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "{agree} of {} agree; disagreements not in disagreements.txt:\n{}\nlisted but agreeing now: {stale:?}",
        files.len(),
        unlisted.join("\n")
    );
    assert!(
        agree * 100 >= files.len() * 95,
        "only {agree} of {} templates agree with cfn-lint (at least 95% must)",
        files.len()
    );
}
