//! Tests of the plan as Markdown: its structure parsed back with pulldown-cmark, escaping, and
//! what each part of a plan becomes.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::json;

use super::*;

/// A stack's plan from the JSON shape, with `extra` keys over a plain one.
fn stack(name: &str, status: &str, extra: serde_json::Value) -> StackPlan {
    let mut v = json!({
        "stack": name, "region": "us-east-1", "account_id": "123456789012", "status": status,
        "deployed": null, "risks": [],
        "template_changes": {"resources": [], "outputs": [], "parameters": [], "sections": []},
        "parameter_changes": [], "tag_changes": [], "resource_changes": [],
        "change_set": null, "known_after_apply": [],
        "hashes": {"template_sha256": "", "parameters_sha256": ""}
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    serde_json::from_value(v).unwrap()
}

/// A changed stack with a broadening risk of `grants` permission tuples, a modified resource
/// whose diff has `lines` lines, a parameter and a tag.
fn big(name: &str, grants: usize, lines: usize) -> StackPlan {
    let added: Vec<serde_json::Value> = (0..grants)
        .map(|i| {
            json!({"policy": "Policies[deploy]", "effect": "Allow", "principal": "-",
                   "action": format!("svc:Action{i}"), "resource": format!("arn:aws:svc:::thing/{}", i % 8),
                   "condition": null})
        })
        .collect();
    let before: Vec<String> = (0..lines).map(|i| format!("line {i}")).collect();
    let after: Vec<String> = (0..lines).map(|i| format!("line {i} changed")).collect();
    stack(
        name,
        "changed",
        json!({
            "risks": [{"kind": "broadening", "logical_id": "Role", "resource_type": "AWS::IAM::Role",
                       "reason": format!("grants {grants} permissions through IAM role `Role`"),
                       "added": added, "removed": []}],
            "template_changes": {"resources": [{"logical_id": "Queue", "resource_type": "AWS::SQS::Queue",
                "kind": "modified", "type_changed": false,
                "changes": [{"path": "Properties.Tags", "kind": "modified", "before": before, "after": after}]}],
                "outputs": [], "parameters": [], "sections": []},
            "resource_changes": [{"action": "Modify", "logical_id": "Queue", "physical_id": "q",
                "resource_type": "AWS::SQS::Queue", "replacement": "False", "scope": ["Properties"], "details": []}],
            "parameter_changes": [{"key": "Env", "kind": "modified", "before": "a|b", "after": "c`d"}],
            "tag_changes": [{"key": "team", "kind": "added", "before": null, "after": "x"}]
        }),
    )
}

fn markdown(plan: &Plan, options: &MarkdownOptions) -> String {
    let mut out = Vec::new();
    write_markdown(&mut out, plan, options).unwrap();
    String::from_utf8(out).unwrap()
}

/// What a Markdown parser makes of the text, checked as GitHub would render it: the tables
/// (rows of cell texts, header first), the alerts and the `<details>` sections; panics when a
/// `<details>` is left open or closed twice, when HTML other than the marker and the sections'
/// tags appears, or when a table row has another number of cells than its header.
struct Read {
    tables: Vec<Vec<Vec<String>>>,
    alerts: usize,
    details: usize,
}

fn read(md: &str) -> Read {
    let mut r = Read {
        tables: Vec::new(),
        alerts: 0,
        details: 0,
    };
    let mut depth = 0i32;
    let mut cell: Option<String> = None;
    let options = Options::ENABLE_TABLES | Options::ENABLE_GFM | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(md, options) {
        match event {
            Event::Start(Tag::Table(_)) => r.tables.push(Vec::new()),
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                r.tables.last_mut().unwrap().push(Vec::new())
            }
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                let text = cell.take().unwrap();
                r.tables.last_mut().unwrap().last_mut().unwrap().push(text);
            }
            Event::Start(Tag::BlockQuote(Some(_))) => r.alerts += 1,
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = cell.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::Html(h) => {
                let h = h.trim_end();
                if h.starts_with("<details><summary>") && h.ends_with("</summary>") {
                    assert!(!h.contains('\n'), "a section head took more lines: {h}");
                    depth += 1;
                    r.details += 1;
                } else if h == "</details>" {
                    depth -= 1;
                    assert!(depth >= 0, "</details> without <details>");
                } else {
                    assert!(h.starts_with("<!-- little-plan: "), "unexpected HTML: {h}");
                }
            }
            Event::InlineHtml(h) => {
                assert!(
                    matches!(&*h, "<br>" | "<code>" | "</code>" | "<b>" | "</b>"),
                    "unexpected inline HTML: {h}"
                );
            }
            _ => {}
        }
    }
    assert_eq!(depth, 0, "a <details> is left open");
    for t in &r.tables {
        for row in t {
            assert_eq!(row.len(), t[0].len(), "a row of another width: {row:?}");
        }
    }
    r
}

#[test]
fn a_small_plan_is_whole_with_a_table_and_a_section_per_stack() {
    let plan = Plan::new(
        "p",
        1,
        vec![
            big("app", 12, 5),
            stack("quiet", "unchanged", json!({})),
            stack(
                "broken",
                "failed",
                json!({"error": "templates/a.njk:3:7: undefined\n  `x` | y"}),
            ),
        ],
    );
    let md = markdown(&plan, &MarkdownOptions::default());
    assert!(
        md.starts_with("<!-- little-plan: p -->\n## little plan: `p`\n"),
        "{md}"
    );
    assert!(!md.contains("Cut to stay"), "{md}");
    let r = read(&md);
    // The summary table, then the permission table, the change set, the values.
    let summary = &r.tables[0];
    assert_eq!(summary[0], ["Stack", "Change", "Risks"]);
    assert_eq!(
        summary[1..],
        [
            [
                "app",
                "changed: 1 to modify, 1 parameter, 1 tag",
                "1 broadening"
            ],
            ["quiet", "no changes", "-"],
            ["broken", "failed", "-"],
        ]
    );
    // One section per stack that changes or failed; the risks in one alert.
    assert_eq!(r.details, 2);
    assert_eq!(r.alerts, 1);
    // The twelve tuples are eight statements (one per resource, each with its actions), and
    // the values keep their `|` and backtick.
    let permissions = r
        .tables
        .iter()
        .find(|t| t[0][2] == "Actions")
        .expect("a permission table");
    assert_eq!(permissions.len(), 1 + 8, "{permissions:?}");
    let values = r.tables.iter().find(|t| t[0][1] == "Kind").unwrap();
    assert_eq!(values[1][2], "Env: a|b -> c`d");
    assert!(md.contains("```diff\n# Queue Properties.Tags\n"), "{md}");
    assert!(md.contains("templates/a.njk:3:7: undefined"), "{md}");
}

#[test]
fn summary_only_is_the_table() {
    let plan = Plan::new("p", 1, vec![big("app", 3, 3)]);
    let options = MarkdownOptions {
        summary_only: true,
        ..MarkdownOptions::default()
    };
    let md = markdown(&plan, &options);
    let r = read(&md);
    assert_eq!(r.tables.len(), 1);
    assert_eq!((r.details, r.alerts), (0, 0));
    assert!(
        md.ends_with("| `app` | changed: 1 to modify, 1 parameter, 1 tag | **1 broadening** |\n\n"),
        "{md}"
    );
}

#[test]
fn a_big_plan_is_cut_least_important_first_and_says_so() {
    let stacks: Vec<StackPlan> = (0..6).map(|i| big(&format!("s{i}"), 200, 300)).collect();
    let plan = Plan::new("p", 1, stacks);
    let whole = markdown(
        &plan,
        &MarkdownOptions {
            limit: usize::MAX,
            ..MarkdownOptions::default()
        },
    );
    let options = MarkdownOptions {
        limit: 20_000,
        saved_to: Some("plan.json".into()),
        ..MarkdownOptions::default()
    };
    assert!(whole.chars().count() > options.limit);
    let md = markdown(&plan, &options);
    assert!(
        md.chars().count() <= options.limit,
        "{}",
        md.chars().count()
    );
    let r = read(&md);
    // Template diffs go first; the risks and change sets stay.
    assert!(!md.contains("```diff"), "{md}");
    assert_eq!(r.details, 6);
    // Each risk in the list at the top and in its section.
    assert_eq!(md.matches("**broadening**: grants 200").count(), 12);
    assert!(md.contains("| Modify | `Queue` |"), "{md}");
    assert!(
        md.contains("_Cut to stay under 20,000 characters: 6 template diffs"),
        "{md}"
    );
    assert!(
        md.contains("The whole plan is in `plan.json` (saved with `--out`)._"),
        "{md}"
    );
    assert!(md.contains("_Left out to stay under 20,000 characters: 1 template diff"));
}

#[test]
fn the_count_of_characters_is_the_rendered_length_at_every_cut() {
    let plan = Plan::new(
        "p",
        1,
        (0..4).map(|i| big(&format!("s{i}"), 50, 40)).collect(),
    );
    let options = MarkdownOptions {
        limit: 0,
        ..MarkdownOptions::default()
    };
    let mut doc = Doc::new(&plan, &options);
    let mut cuts = 0;
    let mut stubs = 0;
    loop {
        let text = doc.render();
        assert_eq!(doc.chars(), text.chars().count(), "after {cuts} cuts");
        read(&text);
        if text.contains("| … | | 3 more statements (18 permissions) left out | | | | |\n\n") {
            stubs += 1;
            assert!(
                text.contains("1 permission table cut to its first statements")
                    || text.contains("permission tables cut to their first statements"),
                "{text}"
            );
        }
        if !doc.cut_one() {
            break;
        }
        cuts += 1;
    }
    // Long permission tables were cut to their first statements before they went whole.
    assert!(stubs > 0);
    // Everything went, down to the last summary row.
    let text = doc.render();
    assert!(text.contains("| … | 4 more stacks not shown | |"), "{text}");
    assert!(!text.contains("<details>"), "{text}");
    assert!(
        text.contains("`little plan --format json` or `--out FILE` gives the whole plan."),
        "{text}"
    );
}

#[test]
fn many_stacks_keep_the_limit_by_dropping_sections_and_rows() {
    let stacks: Vec<StackPlan> = (0..400)
        .map(|i| stack(&format!("stack-{i:03}"), "new", json!({})))
        .collect();
    let plan = Plan::new("p", 1, stacks);
    let options = MarkdownOptions {
        limit: 8_000,
        ..MarkdownOptions::default()
    };
    let md = markdown(&plan, &options);
    assert!(md.chars().count() <= 8_000);
    let r = read(&md);
    assert!(r.tables[0].len() < 401, "some rows are cut");
    assert!(md.contains("more stacks not shown"), "{md}");
    assert!(md.contains("stack sections"), "{md}");
}

#[test]
fn markdown_special_characters_stay_text() {
    // A stack whose every text is hostile still reads back as written.
    let odd = stack(
        "odd",
        "changed",
        json!({
            "parameter_changes": [{"key": "K|`", "kind": "added", "before": null, "after": "<details>|``"}],
            "risks": [{"kind": "destructive", "logical_id": "Q", "resource_type": "AWS::SQS::Queue",
                       "reason": "removes `Q|x` </details> *now*", "added": [], "removed": []}],
            "known_after_apply": ["a.`b`"]
        }),
    );
    let md = markdown(&Plan::new("p", 1, vec![odd]), &MarkdownOptions::default());
    let r = read(&md);
    let values = r.tables.iter().find(|t| t[0][1] == "Kind").unwrap();
    assert_eq!(values[1][2], "K|` = <details>|``");
    assert_eq!(r.details, 1);
    assert!(md.contains("> [!CAUTION]"), "{md}");
}

#[test]
fn a_resource_that_exists_already_is_shown_with_the_way_to_adopt_it() {
    let plan = Plan::new(
        "p",
        1,
        vec![stack(
            "repos",
            "new",
            json!({"adoptable": [{"logical_id": "Repo", "resource_type": "AWS::ECR::Repository",
                                  "name": "team-a/api", "summary": "repository `team-a/api` exists with 312 images"}]}),
        )],
    );
    let md = markdown(&plan, &MarkdownOptions::default());
    assert!(md.contains("**exists**: repository"), "{md}");
    assert!(md.contains("312 images"), "{md}");
    assert!(md.contains("`little adopt repos`"), "{md}");
}
