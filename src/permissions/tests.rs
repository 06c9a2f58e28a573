//! Tests of `little iam-policy`'s builder: scoping to stack ARNs, dependencies, roles, the
//! audit's checks and flags, and the generated doc tables against the declarations.

use super::*;

fn project(little: &str, stacks: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("little.yaml"), little).unwrap();
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/t.json"),
        r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#,
    )
    .unwrap();
    for (name, body) in stacks {
        std::fs::write(
            dir.path().join(format!("stacks/{name}.yaml")),
            format!("name: {name}\ntemplate: t.json\n{body}"),
        )
        .unwrap();
    }
    let project = Project::load(dir.path()).unwrap();
    (dir, project)
}

const WITH_ACCOUNT: &str = "name: acme\ndefaults:\n  region: eu-west-1\n  account: tooling\naccounts:\n  tooling: {id: \"123456789012\", role_arn: \"arn:aws:iam::123456789012:role/deployer\"}\n";
const WITHOUT_ACCOUNT: &str = "name: acme\ndefaults:\n  region: us-east-1\n";

fn statement<'a>(policy: &'a Value, action: &str) -> &'a Value {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"].as_array().unwrap().iter().any(|a| a == action))
        .unwrap_or_else(|| panic!("no {action} in {policy:#}"))
}

fn all_actions(policy: &Value) -> Vec<String> {
    let mut out: Vec<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn apply_of_one_stack_is_scoped_to_its_arn_and_its_dependencies_are_read_only() {
    let (_d, p) = project(
        WITH_ACCOUNT,
        &[
            ("network", ""),
            (
                "app",
                "depends_on: [network]\nrole_arn: arn:aws:iam::123456789012:role/cfn\n",
            ),
        ],
    );
    let mut options = PolicyOptions::new(Command::Apply);
    options.stacks = vec!["app".into()];
    let policy = policy(&p, &options).unwrap();
    assert_eq!(policy["Version"], "2012-10-17");
    let execute = statement(&policy, "cloudformation:ExecuteChangeSet");
    assert_eq!(
        execute["Resource"],
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/app/*"
    );
    // DescribeStacks on the stack and on the one it reads outputs from.
    let describe = statement(&policy, "cloudformation:DescribeStacks");
    assert_eq!(
        describe["Resource"],
        json!([
            "arn:aws:cloudformation:eu-west-1:123456789012:stack/app/*",
            "arn:aws:cloudformation:eu-west-1:123456789012:stack/network/*"
        ])
    );
    assert_eq!(
        statement(&policy, "iam:PassRole")["Resource"],
        "arn:aws:iam::123456789012:role/cfn"
    );
    assert_eq!(
        statement(&policy, "sts:AssumeRole")["Resource"],
        "arn:aws:iam::123456789012:role/deployer"
    );
    // Actions sorted within a statement, one service per statement.
    for s in policy["Statement"].as_array().unwrap() {
        let actions: Vec<&str> = s["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let mut sorted = actions.clone();
        sorted.sort();
        assert_eq!(actions, sorted);
        let services: BTreeSet<&str> = actions.iter().map(|a| service(a)).collect();
        assert_eq!(services.len(), 1, "{s}");
    }
    let actions = all_actions(&policy);
    // No stack policy, no StackSet, no large template, no --replace-failed beyond plan's.
    for absent in [
        "cloudformation:SetStackPolicy",
        "cloudformation:GetStackPolicy",
        "cloudformation:CreateStackSet",
        "s3:PutObject",
    ] {
        assert!(!actions.iter().any(|a| a == absent), "{absent}");
    }
}

#[test]
fn without_an_account_the_resources_are_every_resource() {
    let (_d, p) = project(WITHOUT_ACCOUNT, &[(
            "app",
            "stack_policy: {Statement: [{Effect: Allow, Action: 'Update:*', Principal: '*', Resource: '*'}]}\n",
        )]);
    let policy = policy(&p, &PolicyOptions::new(Command::Plan)).unwrap();
    for s in policy["Statement"].as_array().unwrap() {
        assert_eq!(s["Resource"], "*", "{s}");
    }
    let actions = all_actions(&policy);
    assert!(actions.contains(&"cloudformation:GetStackPolicy".to_owned()));
    assert!(!actions.contains(&"cloudformation:ExecuteChangeSet".to_owned()));
    // No account role: no sts:AssumeRole.
    assert!(!actions.contains(&"sts:AssumeRole".to_owned()));
}

#[test]
fn the_audit_policy_follows_the_selected_checks_and_flags() {
    let (_d, p) = project(WITH_ACCOUNT, &[("app", "")]);
    let mut options = PolicyOptions::new(Command::Audit);
    options.checks = vec!["ecr.tag-immutability".into()];
    options.remediate = true;
    options.no_stacks = true;
    let policy = policy(&p, &options).unwrap();
    assert_eq!(
        all_actions(&policy),
        vec![
            "ecr:DescribeRepositories",
            "ecr:PutImageTagMutability",
            "sts:AssumeRole"
        ]
    );
    // Every check: each check's declared calls, and DescribeStacks on the project's stacks.
    let all = super::policy(&p, &PolicyOptions::new(Command::Audit)).unwrap();
    let actions = all_actions(&all);
    for (_, calls) in crate::audit::ecr::CHECK_CALLS {
        for c in *calls {
            assert!(actions.iter().any(|a| a == c), "{c}");
        }
    }
    assert_eq!(
        statement(&all, "cloudformation:DescribeStacks")["Resource"],
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/app/*"
    );
    assert!(!actions.contains(&"ecr:PutImageTagMutability".to_owned()));
    // ecr promote: the gate's reads and the tag; --start only for scan-report with it.
    let promote =
        all_actions(&super::policy(&p, &PolicyOptions::new(Command::EcrPromote)).unwrap());
    assert_eq!(
        promote,
        vec![
            "ecr:BatchGetImage",
            "ecr:DescribeImageScanFindings",
            "ecr:PutImage"
        ]
    );
    let mut start = PolicyOptions::new(Command::EcrScanReport);
    start.start = true;
    assert!(
        all_actions(&super::policy(&p, &start).unwrap()).contains(&"ecr:StartImageScan".to_owned())
    );
    // serve adds the scan configurations' calls.
    let serve = all_actions(&super::policy(&p, &PolicyOptions::new(Command::Serve)).unwrap());
    assert!(serve.contains(&"ecr:StartImageScan".to_owned()));
    // --org: ListAccounts and the audit role of every account.
    options.org = true;
    let org = super::policy(&p, &options).unwrap();
    assert_eq!(
        statement(&org, "sts:AssumeRole")["Resource"],
        "arn:aws:iam::*:role/acme-audit"
    );
    assert!(all_actions(&org).contains(&"organizations:ListAccounts".to_owned()));
}

#[test]
fn stack_selection_is_refused_where_the_command_takes_none() {
    let (_d, p) = project(WITHOUT_ACCOUNT, &[("app", "")]);
    let mut options = PolicyOptions::new(Command::Audit);
    options.stacks = vec!["app".into()];
    let e = policy(&p, &options).unwrap_err().to_string();
    assert!(
        e.contains("the policy of `little audit` takes no `--stack`"),
        "{e}"
    );
    let mut options = PolicyOptions::new(Command::Apply);
    options.stacks = vec!["nope".into()];
    assert!(policy(&p, &options).is_err());
}

/// docs/iam-permissions.md's tables are [`markdown`]'s: the doc and the declarations cannot
/// disagree (`scripts/docs` rewrites them from `little iam-policy --tables`).
#[test]
fn the_doc_tables_are_the_declarations() {
    let doc = include_str!("../../docs/iam-permissions.md");
    let begin = "<!-- begin: little iam-policy --tables -->\n";
    let end = "<!-- end: little iam-policy --tables -->";
    let start = doc.find(begin).expect("the doc marks the generated tables") + begin.len();
    let stop = doc[start..].find(end).expect("the generated tables end") + start;
    assert_eq!(
        &doc[start..stop],
        markdown(),
        "docs/iam-permissions.md's tables differ from the declarations: run scripts/docs"
    );
}

#[test]
fn the_doc_table_of_checks_is_each_checks_minimal_policy() {
    let (_d, p) = project(WITHOUT_ACCOUNT, &[("app", "")]);
    let table = markdown();
    for (check, calls) in crate::audit::permissions::check_calls() {
        if check == crate::audit::org::CHECK_ACCOUNT_UNREACHABLE {
            continue;
        }
        let mut options = PolicyOptions::new(Command::Audit);
        options.checks = vec![check.to_owned()];
        let mut want: Vec<String> = calls.iter().map(|c| (*c).to_owned()).collect();
        want.sort();
        assert_eq!(all_actions(&policy(&p, &options).unwrap()), want, "{check}");
        assert!(table.contains(&format!("| `{check}` | {} |", codes(calls.iter().copied()))));
    }
}

#[test]
fn many_stacks_of_one_region_need_describe_stacks_on_every_stack_and_fewer_do_not() {
    use crate::context::listing::LIST_FROM;
    let names: Vec<String> = (0..LIST_FROM).map(|i| format!("s{i:02}")).collect();
    let stacks: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "")).collect();
    let (_d, p) = project(WITH_ACCOUNT, &stacks);
    for command in [Command::Plan, Command::Apply] {
        let mut options = PolicyOptions::new(command);
        let listed = policy(&p, &options).unwrap();
        // DescribeStacks without a stack name: authorised on every stack.
        assert_eq!(
            statement(&listed, "cloudformation:DescribeStacks")["Resource"],
            "*"
        );
        // With ListStacks, which AWS's reference asks for beside it.
        assert_eq!(
            statement(&listed, "cloudformation:ListStacks")["Resource"],
            "*"
        );
        // What changes the stacks stays scoped to them.
        let get = statement(&listed, "cloudformation:GetTemplate");
        assert_eq!(get["Resource"].as_array().unwrap().len(), LIST_FROM);

        // One fewer: each is read on its own, DescribeStacks scoped to the stacks.
        options.stacks = names[1..].to_vec();
        let alone = policy(&p, &options).unwrap();
        let describe = statement(&alone, "cloudformation:DescribeStacks");
        assert_eq!(
            describe["Resource"].as_array().unwrap().len(),
            LIST_FROM - 1
        );
        assert!(!all_actions(&alone).contains(&"cloudformation:ListStacks".to_owned()));
    }
    // The doc's table says when, with the threshold.
    assert!(condition(When::ManyStacks, Command::Plan)
        .unwrap()
        .starts_with(&format!("{LIST_FROM} or more stacks")));
}
