//! little-automation's `little stack` verbs on little's own engine: what the verbs need that
//! `render`, `plan`, `apply`, `destroy` and `status` do not already give. The stack bucket
//! (`cloudformation-<account alias>-<region>`), the change-set name (`little-$USER-$HOSTNAME`),
//! the template variables the original provided (`stackBucket`, `templateFiles.openapi`), the
//! variables JSON of `little stack variables`, and the calls on a deployed stack or change set
//! that the original made one at a time (describe, resources, list, show/rm/exec a change set).
//!
//! Not here: the verbs that render, plan, apply and destroy (the command line calls those
//! operations with the options of the verb), and the AWS-shaped JSON the verbs print
//! (`report::aws_json`).

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::aws::changeset::{wait_for_change_set, ChangeSet};
use crate::aws::cloudformation::{wait_for_stack, StackInfo};
use crate::aws::connect::{Account, Connect};
use crate::aws::stack_ops::StackResource;
use crate::context::clients_for;
use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::poll::Poll;
use crate::project::{Project, Stack};

/// The change-set name of `make-change`, `show-change`, `rm-change` and `exec-change`:
/// `little-$USER-$HOSTNAME`, each character a change-set name may not hold (the original
/// replaced `.`, `_` and spaces) as `-`, at most 128 characters.
pub fn change_name(user: &str, host: &str) -> String {
    let name: String = format!("little-{user}-{host}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name.chars().take(128).collect()
}

/// The host's name, as `$HOSTNAME` gives it in a shell: the `HOSTNAME` variable when it is
/// exported, else the kernel's host name.
pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            ["/proc/sys/kernel/hostname", "/etc/hostname"]
                .iter()
                .find_map(|p| std::fs::read_to_string(p).ok())
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "localhost".into())
}

/// The stack bucket: `cloudformation-<account alias>-<region>` (the account id when the
/// account has no alias), as little-automation named the bucket it staged templates in.
pub async fn stack_bucket(
    connect: &dyn Connect,
    region: Option<&str>,
    account: Option<&Account>,
) -> Result<String> {
    let caller = connect.caller(region, account).await?;
    let clients = connect.clients(region, account).await?;
    let name = match clients.iam.account_alias().await? {
        Some(alias) => alias,
        None => caller.identity.account,
    };
    Ok(format!("cloudformation-{name}-{}", caller.region))
}

/// `templateFiles` of the original: `openapi`, the text (as JSON) of `openapi.yaml` or
/// `openapi.json` beside the stack's template, `{}` without one.
pub fn template_files(project: &Project) -> Result<Value> {
    let dir = project.templates_dir();
    for name in ["openapi.yaml", "openapi.json"] {
        let path = dir.join(name);
        if !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let value: Value = serde_norway::from_str(&text).map_err(|e| {
            Error::Invalid(vec![Diagnostic::error(
                "bad-openapi",
                format!("`{name}` beside the template is not YAML or JSON: {e}"),
            )
            .in_file(&project.shown(&path))])
        })?;
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        return Ok(json!({ "openapi": text }));
    }
    Ok(json!({ "openapi": "{}" }))
}

/// The template-context names little-automation added beside a stack's own: `stackBucket`
/// (when known) and `templateFiles`.
pub fn globals(bucket: Option<&str>, template_files: Value) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(b) = bucket {
        m.insert("stackBucket".into(), Value::String(b.to_owned()));
    }
    m.insert("templateFiles".into(), template_files);
    m
}

/// What `little stack variables` prints: the template variables of a stack (none: the empty
/// set), as the original assembled them.
pub fn variables(stack: Option<&Stack>, bucket: &str, template_files: Value) -> Value {
    let empty = Map::new();
    let (parameters, tags, vars): (Map<String, Value>, Vec<Value>, &Map<String, Value>) =
        match stack {
            Some(s) => (
                s.parameters
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
                s.tags
                    .iter()
                    .map(|(k, v)| json!({ "Key": k, "Value": v }))
                    .collect(),
                &s.variables,
            ),
            None => (Map::new(), Vec::new(), &empty),
        };
    let tags_str = tags
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(",");
    json!({
        "stackParameters": parameters,
        "stackTags": tags,
        "stackTagsStr": tags_str,
        "stackVariables": vars,
        "stackBucket": bucket,
        "templateFiles": template_files,
    })
}

/// The stackParams.json text that `filter-template` renders a template with: the variables
/// JSON of `little stack variables` (or any object) split into the stack's parameters, tags
/// and variables; the other names go to [`globals`]-like context names, returned beside.
pub fn template_stack_params(
    template: &Path,
    variables: &Map<String, Value>,
) -> (String, Map<String, Value>) {
    let parameters: Vec<Value> = variables
        .get("stackParameters")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| json!({ "ParameterKey": k, "ParameterValue": scalar(v) }))
                .collect()
        })
        .unwrap_or_default();
    let tags: Vec<Value> = variables
        .get("stackTags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    Some(json!({ "Key": t.get("Key")?, "Value": scalar(t.get("Value")?) }))
                })
                .collect()
        })
        .unwrap_or_default();
    let vars = variables
        .get("stackVariables")
        .filter(|v| v.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    let text = json!({
        "StackName": "filter-template",
        "Parameters": parameters,
        "Tags": tags,
        "Littleware": {
            "TemplatePath": template.to_string_lossy(),
            "Variables": vars,
        }
    });
    let rest = variables
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "stackParameters" | "stackTags" | "stackTagsStr" | "stackVariables"
            )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (
        serde_json::to_string_pretty(&text).unwrap_or_default(),
        rest,
    )
}

/// A parameter or tag value as a stackParams.json holds it: a string, number or boolean.
fn scalar(v: &Value) -> Value {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => v.clone(),
        other => Value::String(other.to_string()),
    }
}

/// The project's one stack, or the named one.
fn stack<'p>(project: &'p Project, name: &str) -> Result<&'p Stack> {
    project
        .select(&[name.to_owned()], false)?
        .into_iter()
        .next()
        .ok_or(Error::NoStacksSelected)
}

/// DescribeStacks of the stack; an error naming it when it does not exist.
pub async fn describe(project: &Project, connect: &dyn Connect, name: &str) -> Result<StackInfo> {
    let s = stack(project, name)?;
    let clients = clients_for(project, connect, s).await?;
    clients
        .cfn
        .describe_stack(name)
        .await?
        .ok_or_else(|| missing(name))
}

fn missing(name: &str) -> Error {
    Error::StackState {
        stack: name.to_owned(),
        status: "not deployed".into(),
        guidance: format!("Stack with id {name} does not exist"),
    }
}

/// Whether the stack exists: `create` refuses one that does, `update` one that does not, as
/// CreateStack and UpdateStack did for the original.
pub async fn require(
    project: &Project,
    connect: &dyn Connect,
    name: &str,
    exists: bool,
) -> Result<()> {
    let s = stack(project, name)?;
    let clients = clients_for(project, connect, s).await?;
    let found = clients
        .cfn
        .describe_stack(name)
        .await?
        .filter(|i| !i.is_review());
    match (found.is_some(), exists) {
        (true, false) => Err(Error::StackState {
            stack: name.to_owned(),
            status: "deployed".into(),
            guidance: format!("Stack [{name}] already exists: `little stack update` changes it"),
        }),
        (false, true) => Err(Error::StackState {
            stack: name.to_owned(),
            status: "not deployed".into(),
            guidance: format!("Stack [{name}] does not exist: `little stack create` makes it"),
        }),
        _ => Ok(()),
    }
}

/// ListStackResources of the stack.
pub async fn resources(
    project: &Project,
    connect: &dyn Connect,
    name: &str,
) -> Result<Vec<StackResource>> {
    let s = stack(project, name)?;
    let clients = clients_for(project, connect, s).await?;
    if clients.cfn.describe_stack(name).await?.is_none() {
        return Err(missing(name));
    }
    clients.ops.resources(name).await
}

/// Every stack of the account and region that is not deleted, as DescribeStacks reports each.
pub async fn list(
    connect: &dyn Connect,
    region: Option<&str>,
    account: Option<&Account>,
) -> Result<Vec<StackInfo>> {
    let clients = connect.clients(region, account).await?;
    let names = clients.ops.stack_names().await?;
    let cfn = clients.cfn.as_ref();
    let futures: Vec<crate::parallel::Pending<'_, Result<Option<StackInfo>>>> = names
        .iter()
        .map(|n| Box::pin(cfn.describe_stack(n)) as crate::parallel::Pending<'_, _>)
        .collect();
    let found = crate::parallel::bounded(futures, 8).await;
    let mut out = Vec::new();
    for f in found {
        if let Some(info) = f? {
            out.push(info);
        }
    }
    Ok(out)
}

/// DescribeChangeSet of the named change set (all pages).
pub async fn show_change(
    project: &Project,
    connect: &dyn Connect,
    name: &str,
    change: &str,
) -> Result<ChangeSet> {
    let s = stack(project, name)?;
    let clients = clients_for(project, connect, s).await?;
    wait_for_change_set(clients.change_sets.as_ref(), name, change, Poll::CHANGE_SET).await
}

/// DeleteChangeSet of the named change set.
pub async fn rm_change(
    project: &Project,
    connect: &dyn Connect,
    name: &str,
    change: &str,
) -> Result<()> {
    let s = stack(project, name)?;
    let clients = clients_for(project, connect, s).await?;
    clients.change_sets.delete_change_set(name, change).await
}

/// ExecuteChangeSet of the named change set, then the wait until the stack is at rest.
pub async fn exec_change(
    project: &Project,
    connect: &dyn Connect,
    name: &str,
    change: &str,
    wait: Poll,
) -> Result<StackInfo> {
    let s = stack(project, name)?;
    let clients = clients_for(project, connect, s).await?;
    clients.change_sets.execute_change_set(name, change).await?;
    wait_for_stack(clients.cfn.as_ref(), name, wait)
        .await?
        .ok_or_else(|| missing(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_name_is_user_and_host_with_dashes() {
        assert_eq!(
            change_name("reuben", "dev.frickjack.com"),
            "little-reuben-dev-frickjack-com"
        );
        assert_eq!(change_name("a_b", "my host"), "little-a-b-my-host");
        assert_eq!(change_name("x", &"h".repeat(200)).len(), 128);
    }

    #[test]
    fn variables_are_the_originals_names() {
        let v = variables(
            None,
            "cloudformation-acme-us-east-1",
            json!({"openapi": "{}"}),
        );
        assert_eq!(
            v,
            json!({
                "stackParameters": {},
                "stackTags": [],
                "stackTagsStr": "",
                "stackVariables": {},
                "stackBucket": "cloudformation-acme-us-east-1",
                "templateFiles": {"openapi": "{}"}
            })
        );
    }

    #[test]
    fn filter_template_variables_become_a_stack_and_globals() {
        let vars: Map<String, Value> = serde_json::from_value(json!({
            "stackParameters": {"Env": "dev", "Count": 3},
            "stackTags": [{"Key": "org", "Value": "devops"}],
            "stackTagsStr": "ignored",
            "stackVariables": {"repos": ["a"]},
            "stackBucket": "b",
            "eventName": "hello"
        }))
        .unwrap();
        let (text, rest) = template_stack_params(Path::new("/t/x.json"), &vars);
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            doc["Parameters"][1],
            json!({"ParameterKey": "Count", "ParameterValue": 3})
        );
        assert_eq!(doc["Tags"][0]["Value"], "devops");
        assert_eq!(doc["Littleware"]["Variables"]["repos"][0], "a");
        assert_eq!(doc["Littleware"]["TemplatePath"], "/t/x.json");
        assert_eq!(
            rest.keys().collect::<Vec<_>>(),
            vec!["stackBucket", "eventName"]
        );
    }

    #[test]
    fn globals_hold_the_bucket_only_when_known() {
        assert!(!globals(None, json!({})).contains_key("stackBucket"));
        assert_eq!(globals(Some("b"), json!({}))["stackBucket"], "b");
    }
}
