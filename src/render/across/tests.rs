//! Unit tests of the project checks: for each, a broken project found at the right place, and
//! its fixed twin passing. They run `validate` on projects in temporary directories.

use super::values::{resolve, Scope};
use super::*;
use crate::project::{Project, Selection};
use crate::render::ops::validate;
use crate::render::RenderOptions;

const LITTLE: &str = "defaults: {region: us-east-1, account: a}\naccounts:\n  a: {id: \"111111111111\"}\n  b: {id: \"222222222222\"}\n";

fn diags_of(little: &str, files: &[(&str, &str)], names: &[&str]) -> Vec<Diagnostic> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("little.yaml"), little).unwrap();
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let project = Project::load(dir.path()).unwrap();
    let selection = Selection {
        names: names.iter().map(|s| s.to_string()).collect(),
        all: names.is_empty(),
    };
    let v = validate(&project, &selection, RenderOptions::default(), false).unwrap();
    // Counts per stack agree with the diagnostics.
    let errors: usize = v.stacks.iter().map(|s| s.errors).sum();
    assert_eq!(
        errors,
        v.diagnostics.iter().filter(|d| d.is_error()).count()
    );
    assert_eq!(v.valid, errors == 0);
    v.diagnostics
}

fn all(files: &[(&str, &str)]) -> Vec<Diagnostic> {
    diags_of(LITTLE, files, &[])
}

fn at(d: &Diagnostic) -> (String, Option<usize>, Option<usize>) {
    let l = d.location.as_ref().unwrap();
    (
        l.file.to_string_lossy().replace('\\', "/"),
        l.line,
        l.column,
    )
}

fn ends(d: &Diagnostic, file: &str, line: usize) {
    let (f, l, _) = at(d);
    assert!(f.ends_with(file), "{d}");
    assert_eq!(l, Some(line), "{d}");
}

const ROLE: &str = "{\n  \"Resources\": {\n    \"Role\": {\n      \"Type\": \"AWS::IAM::Role\",\n      \"Properties\": {\n        \"RoleName\": \"deployer\",\n        \"AssumeRolePolicyDocument\": {}\n      }\n    }\n  }\n}\n";

#[test]
fn a_listed_capability_that_misses_what_the_template_needs_is_a_warning_at_the_list() {
    let d = all(&[
        (
            "stacks/s.yaml",
            "name: s\ntemplate: r.json.njk\ncapabilities: [CAPABILITY_IAM]\n",
        ),
        ("templates/r.json.njk", ROLE),
    ]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].code, "missing-capability");
    assert!(!d[0].is_error());
    ends(&d[0], "stacks/s.yaml", 3);
    assert!(d[0].message.contains("`CAPABILITY_NAMED_IAM`"), "{}", d[0]);
    assert!(d[0].message.contains("`Role`"), "{}", d[0]);
    let notes = d[0].notes.join("\n");
    assert!(notes.contains("r.json.njk:6:"), "{notes}");
    assert!(
        notes.contains("fix: `capabilities: [CAPABILITY_NAMED_IAM]`"),
        "{notes}"
    );

    // The fixed twin; and no list at all (plan acknowledges what is needed).
    for extra in ["capabilities: [CAPABILITY_NAMED_IAM]\n", ""] {
        let d = all(&[
            (
                "stacks/s.yaml",
                &format!("name: s\ntemplate: r.json.njk\n{extra}"),
            ),
            ("templates/r.json.njk", ROLE),
        ]);
        assert!(d.is_empty(), "{d:?}");
    }
}

#[test]
fn a_capability_missing_from_the_defaults_is_at_little_yaml() {
    let little = LITTLE.replace(
        "defaults: {region: us-east-1, account: a}",
        "defaults:\n  region: us-east-1\n  account: a\n  capabilities: [CAPABILITY_AUTO_EXPAND]",
    );
    let d = diags_of(
        &little,
        &[
            ("stacks/s.yaml", "name: s\ntemplate: r.json.njk\n"),
            ("templates/r.json.njk", ROLE),
        ],
        &[],
    );
    assert_eq!(d.len(), 1, "{d:?}");
    ends(&d[0], "little.yaml", 4);
    assert!(
        d[0].notes
            .iter()
            .any(|n| n.contains("CAPABILITY_AUTO_EXPAND, CAPABILITY_NAMED_IAM")),
        "{}",
        d[0]
    );
}

#[test]
fn one_repository_name_in_two_stacks_of_an_account_and_region_is_an_error_at_both() {
    let t = "{\"Resources\": {\n  \"Repo\": {\"Type\": \"AWS::ECR::Repository\", \"Properties\": {\n    \"RepositoryName\": \"{{ vars.name }}\"}}}}\n";
    let files = |b_extra: &str| {
        vec![
            (
                "stacks/a.yaml".to_owned(),
                "name: a\ntemplate: r.json.njk\nvariables: {name: team/api}\n".to_owned(),
            ),
            (
                "stacks/b.yaml".to_owned(),
                format!("name: b\ntemplate: r.json.njk\n{b_extra}"),
            ),
            ("templates/r.json.njk".to_owned(), t.to_owned()),
        ]
    };
    let run = |b_extra: &str| {
        let f = files(b_extra);
        let refs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        all(&refs)
    };
    let d = run("variables: {name: team/api}\n");
    assert_eq!(d.len(), 2, "{d:?}");
    for (d, stack) in d.iter().zip(["a", "b"]) {
        assert_eq!(d.code, "duplicate-name");
        assert!(d.is_error());
        assert_eq!(d.stack.as_deref(), Some(stack));
        ends(d, "templates/r.json.njk", 3);
        assert!(d.message.contains("`team/api`"), "{d}");
        assert!(
            d.message
                .contains("account 111111111111 and region us-east-1"),
            "{d}"
        );
    }
    // Another name, another region, another account: no clash.
    for fixed in [
        "variables: {name: team/web}\n",
        "region: eu-west-1\nvariables: {name: team/api}\n",
        "account: b\nvariables: {name: team/api}\n",
    ] {
        assert!(run(fixed).is_empty(), "{fixed}: {:?}", run(fixed));
    }
}

#[test]
fn iam_names_clash_across_regions_and_ignore_case() {
    let d = all(&[
        ("stacks/a.yaml", "name: a\ntemplate: r.json.njk\n"),
        (
            "stacks/b.yaml",
            "name: b\ntemplate: r2.json.njk\nregion: eu-west-1\n",
        ),
        ("templates/r.json.njk", ROLE),
        (
            "templates/r2.json.njk",
            &ROLE.replace("deployer", "Deployer"),
        ),
    ]);
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(
        d[0].message.contains("IAM names hold in every region"),
        "{}",
        d[0]
    );
    assert!(
        d[1].notes.iter().any(|n| n.contains("r.json.njk:6:")),
        "{}",
        d[1]
    );
}

#[test]
fn one_name_twice_in_one_template_is_an_error_at_both() {
    let t = "{\"Resources\": {\n  \"A\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": \"jobs\"}},\n  \"B\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"QueueName\": {\"Fn::Sub\": [\"${N}\", {\"N\": \"jobs\"}]}}}\n}}\n";
    let d = all(&[
        ("stacks/s.yaml", "name: s\ntemplate: q.json.njk\n"),
        ("templates/q.json.njk", t),
    ]);
    assert_eq!(d.len(), 2, "{d:?}");
    ends(&d[0], "q.json.njk", 2);
    ends(&d[1], "q.json.njk", 3);
    // A resource with a condition may not be made: not compared.
    let t2 = t
        .replace("\"B\": {", "\"B\": {\"Condition\": \"Prod\", ")
        .replace(
            "{\"Resources\"",
            "{\"Conditions\": {\"Prod\": {\"Fn::Equals\": [\"a\", \"b\"]}}, \"Resources\"",
        );
    let d = all(&[
        ("stacks/s.yaml", "name: s\ntemplate: q.json.njk\n"),
        ("templates/q.json.njk", &t2),
    ]);
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn an_output_the_producing_template_does_not_declare_is_an_error_at_the_call() {
    let producer = "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}},\n \"Outputs\": {\"QueueArn\": {\"Value\": {\"Fn::GetAtt\": [\"Q\", \"Arn\"]}}}}\n";
    let consumer = "{\"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\", \"Properties\": {\"DisplayName\": \"{{ stack_output('p', 'QueueArm') }}\"}}}}\n";
    let d = all(&[
        ("stacks/p.yaml", "name: p\ntemplate: p.json.njk\n"),
        ("stacks/c.yaml", "name: c\ntemplate: c.json.njk\n"),
        ("templates/p.json.njk", producer),
        ("templates/c.json.njk", consumer),
    ]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].code, "unknown-output");
    let (f, l, c) = at(&d[0]);
    assert!(f.ends_with("templates/c.json.njk"), "{}", d[0]);
    assert_eq!((l, c), (Some(1), Some(83)), "{}", d[0]);
    assert!(
        d[0].notes.iter().any(|n| n == "did you mean `QueueArn`?"),
        "{}",
        d[0]
    );
    assert!(
        d[0].notes.iter().any(|n| n.contains("p.json.njk:2:")),
        "{}",
        d[0]
    );

    // In a parameter of the config, and with only the consumer selected.
    let d = diags_of(
        LITTLE,
        &[
            ("stacks/p.yaml", "name: p\ntemplate: p.json.njk\n"),
            (
                "stacks/c.yaml",
                "name: c\ntemplate: c.json.njk\nparameters:\n  Arn: \"{{ stack_output('p', 'Arm') }}\"\n",
            ),
            ("templates/p.json.njk", producer),
            (
                "templates/c.json.njk",
                "{\"Parameters\": {\"Arn\": {\"Type\": \"String\"}}, \"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\", \"Properties\": {\"DisplayName\": {\"Ref\": \"Arn\"}}}}}\n",
            ),
        ],
        &["c"],
    );
    assert_eq!(d.len(), 1, "{d:?}");
    ends(&d[0], "stacks/c.yaml", 4);

    // The fixed twin.
    let d = all(&[
        ("stacks/p.yaml", "name: p\ntemplate: p.json.njk\n"),
        ("stacks/c.yaml", "name: c\ntemplate: c.json.njk\n"),
        ("templates/p.json.njk", producer),
        (
            "templates/c.json.njk",
            &consumer.replace("QueueArm", "QueueArn"),
        ),
    ]);
    assert!(d.is_empty(), "{d:?}");
}

fn exporter(name: &str) -> String {
    format!("{{\"Resources\": {{\"Q\": {{\"Type\": \"AWS::SQS::Queue\"}}}},\n \"Outputs\": {{\"Arn\": {{\"Value\": {{\"Fn::GetAtt\": [\"Q\", \"Arn\"]}},\n   \"Export\": {{\"Name\": {{\"Fn::Sub\": [\"${{N}}\", {{\"N\": \"{name}\"}}]}}}}}}}}}}\n")
}

const IMPORTER: &str = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !ImportValue shared-queue-arn\n";

#[test]
fn an_import_no_stack_exports_is_a_warning_and_two_exports_of_one_name_an_error() {
    let d = all(&[
        ("stacks/e.yaml", "name: e\ntemplate: e.json.njk\n"),
        ("stacks/i.yaml", "name: i\ntemplate: i.yaml.njk\n"),
        ("templates/e.json.njk", &exporter("shared-queue-amr")),
        ("templates/i.yaml.njk", IMPORTER),
    ]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].code, "unknown-import");
    assert!(!d[0].is_error());
    ends(&d[0], "templates/i.yaml.njk", 5);
    assert!(d[0].message.contains("outside the project"), "{}", d[0]);
    assert!(
        d[0].notes
            .iter()
            .any(|n| n == "did you mean `shared-queue-amr`?"),
        "{}",
        d[0]
    );

    // Only the importer selected: its exporter may be any stack, so nothing is said.
    let d = diags_of(
        LITTLE,
        &[
            ("stacks/e.yaml", "name: e\ntemplate: e.json.njk\n"),
            ("stacks/i.yaml", "name: i\ntemplate: i.yaml.njk\n"),
            ("templates/e.json.njk", &exporter("other")),
            ("templates/i.yaml.njk", IMPORTER),
        ],
        &["i"],
    );
    assert!(d.is_empty(), "{d:?}");

    // Fixed; then exported twice.
    let fixed = [
        ("stacks/e.yaml", "name: e\ntemplate: e.json.njk\n"),
        ("stacks/i.yaml", "name: i\ntemplate: i.yaml.njk\n"),
        (
            "templates/e.json.njk",
            exporter("shared-queue-arn").leak() as &str,
        ),
        ("templates/i.yaml.njk", IMPORTER),
    ];
    assert!(all(&fixed).is_empty(), "{:?}", all(&fixed));
    let mut twice = fixed.to_vec();
    twice.push(("stacks/e2.yaml", "name: e2\ntemplate: e.json.njk\n"));
    let d = all(&twice);
    assert_eq!(d.len(), 2, "{d:?}");
    for d in &d {
        assert_eq!(d.code, "duplicate-export");
        ends(d, "templates/e.json.njk", 3);
    }
    // In another region, the second export is another name; the import still finds its own.
    twice[4] = (
        "stacks/e2.yaml",
        "name: e2\ntemplate: e.json.njk\nregion: eu-west-1\n",
    );
    assert!(all(&twice).is_empty(), "{:?}", all(&twice));
}

#[test]
fn values_resolve_only_when_certain() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("little.yaml"), LITTLE).unwrap();
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    std::fs::write(
        dir.path().join("stacks/s.yaml"),
        "name: s\ntemplate: t.json\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(dir.path().join("templates/t.json"), "{}").unwrap();
    let project = Project::load(dir.path()).unwrap();
    let stack = project.stack("s").unwrap();
    let template = serde_json::json!({"Parameters": {"Env": {"Type": "String", "Default": "dev"}, "Out": {"Type": "String"}}});
    let rendered = Rendered {
        stack: "s".into(),
        template_name: "t.json".into(),
        syntax: Syntax::Json,
        text: String::new(),
        template,
        parameters: [(
            "Out".to_owned(),
            crate::render::output_placeholder("p", "K"),
        )]
        .into_iter()
        .collect(),
        tags: Default::default(),
    };
    let scope = Scope::of(&project, stack, &rendered);
    let r = |v: serde_json::Value| resolve(&v, &scope);
    assert_eq!(r(serde_json::json!("x")).as_deref(), Some("x"));
    assert_eq!(
        r(serde_json::json!({"Fn::Sub": "${AWS::StackName}-${Env}-${AWS::Region}-${AWS::AccountId}-${!Lit}"}))
            .as_deref(),
        Some("s-dev-us-east-1-111111111111-${Lit}")
    );
    assert_eq!(
        r(serde_json::json!({"Fn::Join": ["-", ["a", {"Ref": "Env"}]]})).as_deref(),
        Some("a-dev")
    );
    assert_eq!(
        r(serde_json::json!({"Fn::Sub": ["${X}-q", {"X": {"Ref": "AWS::Partition"}}]})).as_deref(),
        Some("aws-q")
    );
    for unknown in [
        serde_json::json!({"Ref": "Out"}),
        serde_json::json!({"Ref": "Missing"}),
        serde_json::json!({"Fn::Sub": "${Q.Arn}"}),
        serde_json::json!({"Fn::GetAtt": ["Q", "Arn"]}),
        serde_json::json!({"Fn::ImportValue": "x"}),
        serde_json::json!(3),
    ] {
        assert_eq!(r(unknown.clone()), None, "{unknown}");
    }
}

#[test]
fn a_role_of_another_partition_than_the_region_is_an_error_at_the_role() {
    let little = "defaults: {region: cn-north-1, account: a}\naccounts:\n  a: {id: \"111111111111\", role_arn: \"arn:aws:iam::111111111111:role/deploy\"}\n";
    let files = [
        (
            "stacks/s.yaml",
            "name: s\ntemplate: q.json\nrole_arn: arn:aws:iam::111111111111:role/cfn\n",
        ),
        (
            "templates/q.json",
            "{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}",
        ),
    ];
    let d = diags_of(little, &files, &[]);
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(d[0].code, "wrong-partition");
    ends(&d[0], "stacks/s.yaml", 3);
    ends(&d[1], "little.yaml", 3);
    assert!(
        d[1].message.contains(
            "partition `aws`, but stack `s` is in region cn-north-1, of partition `aws-cn`"
        ),
        "{}",
        d[1]
    );
    let fixed = little.replace("arn:aws:", "arn:aws-cn:");
    let files = [files[0], files[1]].map(|(f, t)| (f, t.replace("arn:aws:", "arn:aws-cn:")));
    let refs: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
    assert!(diags_of(&fixed, &refs, &[]).is_empty());
}
