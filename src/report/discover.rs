//! What `little discover` found, written as stack configs that reproduce it: one for the ECR
//! repositories (variables of `templates/ecr/repositories.json.njk`, their policies carried as
//! documents) and one for the IAM roles (`templates/iam/roles.json.njk`). A header comment
//! says where they came from and where the template will change a repository (its safety
//! defaults: immutable tags, scan on push, a lifecycle policy). Pure text: the command writes
//! the files.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::audit::discover::Discovered;
use crate::aws::drift::RepositoryFacts;
use crate::aws::iam::RoleFacts;

/// One stack config to write: its file name (`<name>.yaml`) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackConfig {
    pub file: String,
    pub stack: String,
    pub text: String,
}

/// The stack configs reproducing what was found, named `<prefix>-repositories` and
/// `<prefix>-roles` (none for a kind with nothing found).
pub fn stack_configs(d: &Discovered, prefix: &str) -> Vec<StackConfig> {
    let mut out = Vec::new();
    let whence = format!(
        "# Written by `little discover` from account {}, region {}.",
        d.account.as_deref().unwrap_or("(unknown)"),
        d.region
    );
    if !d.repositories.is_empty() {
        let stack = format!("{prefix}-repositories");
        let mut header = vec![
            "# yaml-language-server: $schema=../schemas/stack.schema.json".to_owned(),
            whence.clone(),
            format!(
                "# The ECR repositories no CloudFormation stack manages; `little adopt {stack}` takes them over"
            ),
            "# with their images. Policies are kept as they are (lifecycle_policy, repository_policy).".into(),
        ];
        let notes: Vec<String> = d.repositories.iter().flat_map(repository_notes).collect();
        if !notes.is_empty() {
            header.push(
                "# The template's safety defaults change these (the adopt plan shows it):".into(),
            );
            header.extend(notes.into_iter().map(|n| format!("#   {n}")));
        }
        let config = json!({
            "name": stack,
            "template": "ecr/repositories.json.njk",
            "region": d.region,
            "variables": {
                "pull_accounts": [],
                "pull_organization_id": "",
                "repositories": d.repositories.iter().map(repository).collect::<Vec<_>>(),
            },
        });
        out.push(config_text(&stack, header, &config));
    }
    if !d.roles.is_empty() {
        let stack = format!("{prefix}-roles");
        let header = vec![
            "# yaml-language-server: $schema=../schemas/stack.schema.json".to_owned(),
            whence,
            format!(
                "# The IAM roles no CloudFormation stack manages; `little adopt {stack}` takes them over as they are."
            ),
        ];
        let config = json!({
            "name": stack,
            "template": "iam/roles.json.njk",
            "region": d.region,
            "capabilities": ["CAPABILITY_NAMED_IAM"],
            "variables": {
                "roles": d.roles.iter().map(|(n, f)| role(n, f)).collect::<Vec<_>>(),
            },
        });
        out.push(config_text(&stack, header, &config));
    }
    out
}

fn config_text(stack: &str, header: Vec<String>, config: &Value) -> StackConfig {
    let yaml = serde_norway::to_string(config).unwrap_or_default();
    StackConfig {
        file: format!("{stack}.yaml"),
        stack: stack.to_owned(),
        text: format!("{}\n{yaml}", header.join("\n")),
    }
}

/// The tags people set: not AWS's own (`aws:…`).
fn own_tags(tags: &BTreeMap<String, String>) -> Map<String, Value> {
    tags.iter()
        .filter(|(k, _)| !k.starts_with("aws:"))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

/// A JSON text as a document; a text that is not JSON stays text.
fn document(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// A repository as the variables of `templates/ecr/repositories.json.njk`.
fn repository(r: &RepositoryFacts) -> Value {
    let mut v = Map::new();
    v.insert("name".into(), json!(r.name));
    if r.tag_mutability.ends_with("_WITH_EXCLUSION") {
        let filters: Vec<&str> = r
            .exclusion_filters
            .iter()
            .map(|(_, f)| f.as_str())
            .collect();
        v.insert("mutable_tags".into(), json!(filters));
    }
    if r.encryption_type != "AES256" {
        v.insert("encryption".into(), json!(r.encryption_type));
        if let Some(key) = &r.kms_key {
            v.insert("kms_key".into(), json!(key));
        }
    }
    if let Some(text) = &r.lifecycle_policy {
        v.insert("lifecycle_policy".into(), document(text));
    }
    if let Some(text) = &r.repository_policy {
        v.insert("repository_policy".into(), document(text));
    }
    let tags = own_tags(&r.tags);
    if !tags.is_empty() {
        v.insert("tags".into(), Value::Object(tags));
    }
    Value::Object(v)
}

/// Where the template's defaults differ from the live repository.
fn repository_notes(r: &RepositoryFacts) -> Vec<String> {
    let mut notes = Vec::new();
    if r.tag_mutability.starts_with("MUTABLE") {
        notes.push(format!(
            "{}: tags are {}; the template makes them immutable",
            r.name, r.tag_mutability
        ));
    }
    if !r.scan_on_push {
        notes.push(format!(
            "{}: no scan on push; the template turns it on",
            r.name
        ));
    }
    if r.lifecycle_policy.is_none() {
        notes.push(format!(
            "{}: no lifecycle policy; the template sets the project's default one",
            r.name
        ));
    }
    notes
}

/// A role as the variables of `templates/iam/roles.json.njk`.
fn role(name: &str, f: &RoleFacts) -> Value {
    let mut v = Map::new();
    v.insert("name".into(), json!(name));
    if !f.settings.path.is_empty() && f.settings.path != "/" {
        v.insert("path".into(), json!(f.settings.path));
    }
    if let Some(d) = &f.settings.description {
        v.insert("description".into(), json!(d));
    }
    if let Some(s) = f.settings.max_session_duration.filter(|s| *s != 3600) {
        v.insert("max_session_duration".into(), json!(s));
    }
    v.insert("trust_policy".into(), f.trust_policy.clone());
    if !f.inline.is_empty() {
        let policies: Vec<Value> = f
            .inline
            .iter()
            .map(|(n, d)| json!({"name": n, "document": d}))
            .collect();
        v.insert("policies".into(), Value::Array(policies));
    }
    if !f.managed.is_empty() {
        v.insert("managed_policy_arns".into(), json!(f.managed));
    }
    let tags = own_tags(&f.settings.tags);
    if !tags.is_empty() {
        v.insert("tags".into(), Value::Object(tags));
    }
    Value::Object(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::iam::RoleSettings;

    fn found() -> Discovered {
        Discovered {
            region: "us-east-1".into(),
            account: Some("123456789012".into()),
            repositories: vec![RepositoryFacts {
                name: "team-a/api".into(),
                tag_mutability: "MUTABLE".into(),
                encryption_type: "AES256".into(),
                lifecycle_policy: Some(r#"{"rules":[]}"#.into()),
                tags: [
                    ("team".to_owned(), "a".to_owned()),
                    ("aws:cloudformation:stack-name".to_owned(), "x".to_owned()),
                ]
                .into(),
                ..Default::default()
            }],
            roles: vec![(
                "app".into(),
                RoleFacts {
                    trust_policy: json!({"Version": "2012-10-17", "Statement": []}),
                    managed: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
                    settings: RoleSettings {
                        path: "/".into(),
                        max_session_duration: Some(7200),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )],
            managed: 0,
        }
    }

    #[test]
    fn the_configs_carry_what_was_found_and_say_what_the_template_changes() {
        let configs = stack_configs(&found(), "legacy");
        assert_eq!(
            configs.iter().map(|c| c.file.as_str()).collect::<Vec<_>>(),
            vec!["legacy-repositories.yaml", "legacy-roles.yaml"]
        );
        let repos = &configs[0].text;
        assert!(
            repos.contains("account 123456789012, region us-east-1"),
            "{repos}"
        );
        assert!(repos.contains("team-a/api: tags are MUTABLE"), "{repos}");
        assert!(repos.contains("team-a/api: no scan on push"), "{repos}");
        let yaml: Value = serde_norway::from_str(repos).unwrap();
        let repo = &yaml["variables"]["repositories"][0];
        assert_eq!(repo["name"], "team-a/api");
        assert_eq!(repo["lifecycle_policy"], json!({"rules": []}));
        assert_eq!(
            repo["tags"],
            json!({"team": "a"}),
            "AWS's own tags are left out"
        );
        assert_eq!(yaml["template"], "ecr/repositories.json.njk");
        let roles: Value = serde_norway::from_str(&configs[1].text).unwrap();
        let role = &roles["variables"]["roles"][0];
        assert_eq!(role["max_session_duration"], 7200);
        assert_eq!(
            role["managed_policy_arns"],
            json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"])
        );
        assert!(role.get("path").is_none());
        assert_eq!(roles["capabilities"], json!(["CAPABILITY_NAMED_IAM"]));
    }

    #[test]
    fn nothing_found_is_no_config() {
        let mut d = found();
        d.repositories.clear();
        d.roles.clear();
        assert!(stack_configs(&d, "x").is_empty());
    }
}
