//! The layer rules of `docs/architecture.md`, kept by a test that reads the sources.
//!
//! Every `.rs` file under `src/` is read, its comments, string literals and `#[cfg(test)]`
//! items left out (tests may reach anywhere), and every `crate::…` and `super::…` path in what
//! is left is resolved to the top-level module it names. Then:
//!
//! - an import may only run down the layers of [`LAYERS`] (or stay inside its own top-level
//!   module); the one sideways import between operations is `deploy → plan`;
//! - no SDK crate (`aws_sdk_*`, `aws_smithy_*`, `aws_config`, `aws_types`,
//!   `aws_credential_types`) is named outside `src/aws/`;
//! - AWS's status strings (`"REVIEW_IN_PROGRESS"`, `"DRIFTED"`, ...) are compared only in
//!   `src/aws/`;
//! - the graph of modules (each layer's members) has no cycle;
//! - no file has more than [`MAX_LINES`] lines of non-test code;
//! - every file, test modules too, opens with a `//!` doc.
//!
//! The checker itself is tested on planted sources at the end: a rule that cannot fail keeps
//! nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first. A module may import modules of lower layers; inside a layer only
/// the ground modules may import each other. Sub-paths (`check::rules`) are placed apart from
/// their module where a lower layer uses them as vocabulary.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "ground",
        &[
            "error",
            "diag",
            "duration",
            "time",
            "text",
            "poll",
            "net",
            "parallel",
            "locate",
            "template",
            "policy",
            "region",
            "interrupt",
            "exit",
        ],
    ),
    ("aws adapters", &["aws"]),
    ("notifications", &["notify"]),
    ("check rules", &["check::rules"]),
    ("check limits", &["check::limits"]),
    ("project model", &["project"]),
    ("rendering", &["render"]),
    ("live context", &["context"]),
    ("operations", &["plan", "deploy", "audit", "check"]),
    ("document schemas", &["schema"]),
    ("printers and tools", &["report", "init"]),
    ("server", &["serve"]),
    ("permissions", &["permissions"]),
    ("command line", &["cli"]),
];

/// The sideways imports allowed inside a layer: apply executes plans.
const SIDEWAYS: &[(&str, &str)] = &[("deploy", "plan")];

/// The most lines of non-test code one file may hold.
const MAX_LINES: usize = 800;

/// The crates of the AWS SDK, which only `src/aws/` may name.
const SDK_CRATES: &[&str] = &[
    "aws_sdk_",
    "aws_smithy_",
    "aws_config",
    "aws_types",
    "aws_credential_types",
];

/// AWS's own status strings (of stacks, drift, scans), compared only inside `src/aws/`, which
/// gives them names (`StackStatus`, `ScanStatus`, `StackInfo::is_review`, ...).
const AWS_STATUSES: &[&str] = &[
    "\"REVIEW_IN_PROGRESS\"",
    "\"CREATE_COMPLETE\"",
    "\"UPDATE_COMPLETE\"",
    "\"DELETE_COMPLETE\"",
    "\"ROLLBACK_COMPLETE\"",
    "\"ROLLBACK_FAILED\"",
    "\"UPDATE_ROLLBACK_COMPLETE\"",
    "\"UPDATE_ROLLBACK_FAILED\"",
    "\"DELETE_FAILED\"",
    "\"DRIFTED\"",
    "\"IN_SYNC\"",
    "\"NOT_SCANNED\"",
    "\"IN_PROGRESS\"",
];

/// One source file: where it is, its module path, and its non-test code.
struct Source {
    path: PathBuf,
    module: Vec<String>,
    code: String,
}

/// The layer of a module path (`["check", "rules", "x"]`), by its longest listed prefix.
fn layer_of(module: &[String]) -> Option<(usize, String)> {
    let mut best: Option<(usize, usize, String)> = None;
    for (rank, (_, members)) in LAYERS.iter().enumerate() {
        for member in *members {
            let parts: Vec<&str> = member.split("::").collect();
            if module.len() >= parts.len()
                && module.iter().zip(&parts).all(|(a, b)| a == b)
                && best.as_ref().is_none_or(|(len, _, _)| parts.len() > *len)
            {
                best = Some((parts.len(), rank, (*member).to_owned()));
            }
        }
    }
    best.map(|(_, rank, member)| (rank, member))
}

/// The code of a file without comments and without the contents of string and char literals
/// (their quotes stay, so that a status string can still be found by `"…"` when asked for with
/// `keep_strings`).
fn strip(text: &str, keep_strings: bool) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == b'\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == b'r'
            && matches!(b.get(i + 1), Some(b'#') | Some(b'"'))
            && !ident_before(b, i)
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            j += 1;
            let start = j;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == b'"'
                    && b[j + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|&&h| h == b'#')
                        .count()
                        == hashes
                {
                    break;
                }
                j += 1;
            }
            out.push('"');
            push_literal(&mut out, &text[start..j.min(b.len())], keep_strings);
            out.push('"');
            i = (j + 1 + hashes).min(b.len());
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                if b[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            out.push('"');
            push_literal(&mut out, &text[i + 1..j.min(b.len())], keep_strings);
            out.push('"');
            i = j + 1;
        } else if c == b'\'' {
            // A char literal ('a', '\n', '\'') or a lifetime ('a): a lifetime has no closing
            // quote within three characters.
            let close = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..]
                    .iter()
                    .position(|&x| x == b'\'')
                    .map(|p| i + 2 + p)
            } else if b.get(i + 2) == Some(&b'\'') {
                Some(i + 2)
            } else {
                // A multi-byte char: find the quote within the next 5 bytes.
                b[i + 1..b.len().min(i + 6)]
                    .iter()
                    .position(|&x| x == b'\'')
                    .map(|p| i + 1 + p)
                    .filter(|&p| !text[i + 1..p].is_empty() && text[i + 1..p].chars().count() == 1)
            };
            match close {
                Some(end) => {
                    out.push_str("' '");
                    i = end + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn ident_before(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// A literal's text kept (for the status-string rule) or blanked, newlines kept either way.
fn push_literal(out: &mut String, literal: &str, keep: bool) {
    if keep {
        out.push_str(literal);
    } else {
        out.extend(literal.chars().filter(|&c| c == '\n'));
    }
}

/// The code without the items under `#[cfg(test)]`, and the names of the modules declared
/// `#[cfg(test)] mod name;` (whose files are test code).
fn without_tests(code: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(code.len());
    let mut test_mods = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at + "#[cfg(test)]".len()..];
        // The item ends at the first `;` before any `{`, or at the `}` closing its first `{`.
        let b = item.as_bytes();
        let mut depth = 0usize;
        let mut end = b.len();
        for (k, &ch) in b.iter().enumerate() {
            match ch {
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    end = k + 1;
                    break;
                }
                _ => {}
            }
        }
        let skipped = &item[..end];
        let head: Vec<&str> = skipped
            .split(|c: char| c.is_whitespace() || c == ';' || c == '{')
            .filter(|w| !w.is_empty() && !w.starts_with("#["))
            .collect();
        if let Some(pos) = head.iter().position(|w| *w == "mod") {
            if skipped.trim_end().ends_with(';') {
                if let Some(name) = head.get(pos + 1) {
                    test_mods.push((*name).to_owned());
                }
            }
        }
        // Keep the line count.
        out.extend(skipped.chars().filter(|&c| c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    (out, test_mods)
}

/// The module path of a file under `src/` (`aws/connect.rs` → `["aws", "connect"]`).
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts
}

/// Every production source file of the library, with its non-test code.
fn sources(root: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    collect(root, &mut files);
    files.sort();
    let mut parsed = Vec::new();
    let mut test_files: BTreeSet<Vec<String>> = BTreeSet::new();
    for path in files {
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        if rel == Path::new("main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let (code, test_mods) = without_tests(&strip(&text, false));
        let module = module_of(&rel);
        for name in test_mods {
            let mut m = module.clone();
            m.push(name);
            test_files.insert(m);
        }
        parsed.push(Source {
            path: rel,
            module,
            code,
        });
    }
    parsed.retain(|s| !test_files.iter().any(|t| s.module.starts_with(t)));
    parsed
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every module path a file's code names through `crate::` or `super::`, with its line.
fn imports(source: &Source) -> Vec<(usize, Vec<String>)> {
    let mut found = Vec::new();
    let code = &source.code;
    let b = code.as_bytes();
    for (at, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        if ident_before(b, at) || (at >= 2 && &code[at - 2..at] == "::") {
            continue;
        }
        let line = code[..at].matches('\n').count() + 1;
        // The base: the crate root, or the parent of this file's module for each `super::`.
        let mut base: Vec<String> = Vec::new();
        let mut tail = &code[at..];
        if let Some(t) = tail.strip_prefix("crate::") {
            tail = t;
        } else {
            base = source.module.clone();
            while let Some(t) = tail.strip_prefix("super::") {
                base.pop();
                tail = t;
            }
        }
        let mut paths: Vec<Vec<String>> = Vec::new();
        if let Some(group) = tail.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let path = path_words(item.trim());
                if !path.is_empty() {
                    paths.push(path);
                }
            }
        } else {
            paths.push(path_words(tail));
        }
        for path in paths {
            let mut full = base.clone();
            full.extend(path);
            if !full.is_empty() && full[0] != "self" {
                found.push((line, full));
            }
        }
    }
    found
}

/// The `a::b::c` words at the start of `text`.
fn path_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = text;
    loop {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        words.push(rest[..end].to_owned());
        match rest[end..].strip_prefix("::") {
            Some(r) if r.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') => rest = r,
            _ => break,
        }
    }
    words
}

/// Every broken rule, as `file:line: what`.
fn violations(sources: &[Source], raw: &BTreeMap<PathBuf, String>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for source in sources {
        let shown = source.path.display();
        let Some(top) = source.module.first() else {
            continue;
        };
        let from = layer_of(&source.module);
        if from.is_none() && !source.module.is_empty() {
            problems.push(format!(
                "{shown}: module `{top}` is in no layer (add it to LAYERS and docs/architecture.md)"
            ));
        }
        for (line, path) in imports(source) {
            let to = layer_of(&path);
            // A node of the graph is a layer's member: a module, or a sub-path listed apart
            // (`check::rules` is the project model's vocabulary, below the rest of `check`).
            let from_node = from.as_ref().map_or(top.clone(), |(_, m)| m.clone());
            let to_node = to.as_ref().map_or(path[0].clone(), |(_, m)| m.clone());
            if from_node == to_node || (path[0] == *top && to.is_none()) {
                continue;
            }
            graph
                .entry(from_node.clone())
                .or_default()
                .insert(to_node.clone());
            let (Some((from_rank, from_name)), Some((to_rank, _))) = (from.clone(), to) else {
                continue;
            };
            let ground = from_rank == 0 && to_rank == 0;
            let sideways = SIDEWAYS.contains(&(from_node.as_str(), to_node.as_str()));
            if to_rank >= from_rank && !ground && !sideways {
                problems.push(format!(
                    "{shown}:{line}: `{from_name}` ({}) imports `{}` ({}), which is {}",
                    LAYERS[from_rank].0,
                    path.join("::"),
                    LAYERS[to_rank].0,
                    if to_rank == from_rank {
                        "a sibling in the same layer"
                    } else {
                        "a layer above it"
                    },
                ));
            }
        }
        let code_lines = source.code.lines().count();
        let test_lines = source
            .code
            .lines()
            .rev()
            .take_while(|l| l.trim().is_empty())
            .count();
        if code_lines - test_lines > MAX_LINES {
            problems.push(format!(
                "{shown}: {} lines of non-test code (at most {MAX_LINES}; split it along its seams)",
                code_lines - test_lines
            ));
        }
        if source.path.iter().next().is_some_and(|p| p != "aws") {
            if let Some(text) = raw.get(&source.path) {
                let (code, _) = without_tests(&strip(text, true));
                for (n, l) in code.lines().enumerate() {
                    for krate in SDK_CRATES {
                        if l.contains(krate) {
                            problems.push(format!(
                                "{shown}:{}: names the SDK crate `{krate}…` outside src/aws/",
                                n + 1
                            ));
                        }
                    }
                    for status in AWS_STATUSES {
                        if l.contains(status) {
                            problems.push(format!(
                                "{shown}:{}: compares AWS's status {status} outside src/aws/ (give it a name there)",
                                n + 1
                            ));
                        }
                    }
                }
            }
        }
    }
    for cycle in cycles(&graph) {
        problems.push(format!(
            "import cycle between modules: {}",
            cycle.join(" → ")
        ));
    }
    // Every module, test modules too, opens with a `//!` doc: what it is for.
    for (path, text) in raw {
        if !text.trim_start().starts_with("//!") {
            problems.push(format!(
                "{}: the module does not open with a `//!` doc",
                path.display()
            ));
        }
    }
    problems
}

/// The cycles of a graph, one per strongly connected component of more than one node, as a
/// path through it.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = graph.keys().chain(graph.values().flatten()).collect();
    let reaches = |from: &String, to: &String| -> Option<Vec<String>> {
        // Breadth-first, remembering the way back.
        let mut seen: BTreeMap<&String, &String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([from]);
        while let Some(n) = queue.pop_front() {
            for next in graph.get(n).into_iter().flatten() {
                if seen.contains_key(next) {
                    continue;
                }
                seen.insert(next, n);
                if next == to {
                    let mut way = vec![to.clone()];
                    let mut at = to;
                    while at != from || way.len() == 1 {
                        at = seen[at];
                        way.push(at.clone());
                        if at == from {
                            break;
                        }
                    }
                    way.reverse();
                    return Some(way);
                }
                queue.push_back(next);
            }
        }
        None
    };
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for n in &nodes {
        if reported.contains(*n) {
            continue;
        }
        if let Some(way) = reaches(n, n) {
            // Everything on a cycle through `n` is one knot: report it once.
            reported.insert((*n).clone());
            for m in &nodes {
                if reaches(n, m).is_some() && reaches(m, n).is_some() {
                    reported.insert((*m).clone());
                }
            }
            out.push(way);
        }
    }
    out
}

fn check(root: &Path) -> Vec<String> {
    let sources = sources(root);
    let raw = sources
        .iter()
        .map(|s| {
            (
                s.path.clone(),
                std::fs::read_to_string(root.join(&s.path)).unwrap_or_default(),
            )
        })
        .collect();
    violations(&sources, &raw)
}

#[test]
fn the_sources_keep_the_layer_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = check(&root);
    assert!(
        problems.is_empty(),
        "{} broken architecture rules (docs/architecture.md):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A project of planted sources, checked like the real one.
fn planted(files: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    check(dir.path())
}

#[test]
fn a_planted_upward_import_fails() {
    let problems = planted(&[
        ("lib.rs", "//! The crate.\npub mod aws;\npub mod project;\n"),
        ("project/mod.rs", "//! The model.\nuse crate::aws::connect::Account;\n"),
        (
            "aws/mod.rs",
            "//! Adapters.\nuse crate::project::Project;\nfn f() { let _ = \"crate::cli::x\"; } // crate::cli\n",
        ),
    ]);
    assert_eq!(
        problems,
        vec![
            "aws/mod.rs:2: `aws` (aws adapters) imports `project::Project` (project model), which is a layer above it",
            "import cycle between modules: aws → project → aws",
        ],
        "{problems:#?}"
    );
}

#[test]
fn a_planted_sideways_import_between_operations_fails_but_deploy_may_use_plan() {
    let problems = planted(&[
        ("audit/run.rs", "//! x\nuse super::super::plan::run::clients_for;\n"),
        ("deploy/apply.rs", "//! x\nuse crate::plan::model::Plan;\n"),
        ("plan/mod.rs", "//! x\nfn f() { crate::deploy::apply(); }\n#[cfg(test)]\nmod tests { use crate::cli::Cli; }\n"),
    ]);
    assert_eq!(
        problems,
        vec![
            "audit/run.rs:2: `audit` (operations) imports `plan::run::clients_for` (operations), which is a sibling in the same layer",
            "plan/mod.rs:2: `plan` (operations) imports `deploy::apply` (operations), which is a sibling in the same layer",
            "import cycle between modules: deploy → plan → deploy",
        ],
        "{problems:#?}"
    );
}

#[test]
fn sdk_names_status_strings_and_long_files_outside_their_place_fail() {
    let long = format!("//! x\n{}", "fn f() {}\n".repeat(MAX_LINES));
    let problems = planted(&[
        (
            "plan/run.rs",
            "//! x\nfn f(s: &str) -> bool { s == \"REVIEW_IN_PROGRESS\" }\nuse aws_sdk_s3::Client;\n",
        ),
        ("aws/cloudformation.rs", "//! x\nfn f(s: &str) -> bool { s == \"REVIEW_IN_PROGRESS\" }\nuse aws_sdk_s3::Client;\n"),
        ("render/lint.rs", long.as_str()),
        ("render/ok.rs", "//! x\n#[cfg(test)]\nmod tests;\n"),
        ("render/ok/tests.rs", "use crate::cli::Cli;\nuse aws_sdk_s3::Client;\n"),
    ]);
    assert_eq!(
        problems,
        vec![
            "plan/run.rs:2: compares AWS's status \"REVIEW_IN_PROGRESS\" outside src/aws/ (give it a name there)",
            "plan/run.rs:3: names the SDK crate `aws_sdk_…` outside src/aws/",
            "render/lint.rs: 801 lines of non-test code (at most 800; split it along its seams)",
        ],
        "{problems:#?}"
    );
}

#[test]
fn vocabulary_kept_apart_from_its_module_may_not_import_the_rest_of_it() {
    let problems = planted(&[
        ("check/rules.rs", "//! x\nuse super::image::ImageConfig;\n"),
        (
            "check/image.rs",
            "//! x\nuse crate::project::Project;\nuse super::rules::Level;\n",
        ),
        (
            "project/mod.rs",
            "//! x\nuse crate::check::rules::Checks;\n",
        ),
    ]);
    assert_eq!(
        problems,
        vec![
            "check/rules.rs:2: `check::rules` (check rules) imports `check::image::ImageConfig` (operations), which is a layer above it",
            "import cycle between modules: check → check::rules → check",
        ],
        "{problems:#?}"
    );
}

#[test]
fn a_module_without_its_doc_is_named() {
    let problems = planted(&[
        ("error.rs", "//! Errors.\n"),
        ("error/tests.rs", "use super::*;\n"),
    ]);
    assert_eq!(
        problems,
        vec!["error/tests.rs: the module does not open with a `//!` doc"]
    );
}

#[test]
fn a_module_in_no_layer_is_named() {
    let problems = planted(&[("gadgets.rs", "//! x\n")]);
    assert_eq!(
        problems,
        vec!["gadgets.rs: module `gadgets` is in no layer (add it to LAYERS and docs/architecture.md)"]
    );
}
