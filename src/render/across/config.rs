//! The checks of a stack's config against its rendered template: the capabilities its
//! `capabilities` list leaves out, and role ARNs of another partition than its region.
//!
//! Not here: checks between stacks (`super`), region names (checked at load).

use std::path::Path;

use serde_json::Value;

use super::{At, Places};
use crate::diag::{Diagnostic, Location};
use crate::project::ConfigFormat;
use crate::render::Rendered;
use crate::text::child;

// --- 1. capabilities -----------------------------------------------------------------------

const IAM: &str = "CAPABILITY_IAM";
const NAMED_IAM: &str = "CAPABILITY_NAMED_IAM";
const AUTO_EXPAND: &str = "CAPABILITY_AUTO_EXPAND";

/// The capabilities the template needs that the stack's `capabilities` list (its own or
/// `defaults.capabilities`) leaves out. An empty list says nothing: `plan` acknowledges what
/// the template needs, as sceptre and rain do. A list that is written but incomplete is a
/// warning: `plan` still acknowledges the rest (CloudFormation will not reject the stack), but
/// the list no longer says what the stack may create.
pub(super) fn capabilities(places: &Places, s: At, rendered: &Rendered) -> Vec<Diagnostic> {
    let listed = &s.stack.capabilities;
    if listed.is_empty() {
        return Vec::new();
    }
    let has = |c: &str| listed.iter().any(|l| l == c);
    let needed = crate::template::params::required_capabilities(&rendered.template, &[]);
    let mut out = Vec::new();
    for cap in needed {
        let covered = has(&cap) || (cap == IAM && has(NAMED_IAM));
        if covered {
            continue;
        }
        let (pointer, what, why) = why_needed(&rendered.template, &cap);
        let project = places.renderer.project;
        let own_key = match s.stack.format {
            ConfigFormat::Native => "capabilities",
            ConfigFormat::StackParams => "Capabilities",
        };
        let own = crate::locate::config::yaml_key_position(&s.stack.source, &[own_key]).is_some()
            || (s.stack.format == ConfigFormat::StackParams
                && s.stack.source.contains("\"Capabilities\""));
        let mut fixed: Vec<&str> = listed.iter().map(String::as_str).collect();
        if cap == NAMED_IAM {
            fixed.retain(|c| *c != IAM);
        }
        fixed.push(&cap);
        let d = Diagnostic::warning(
            "missing-capability",
            format!("`capabilities` does not list `{cap}`, which the template needs: {why}"),
        )
        .with_note(format!("{}: {}", what, places.place(s, &pointer)))
        .with_note(
            "`plan` acknowledges what the template needs whatever the list says, so CloudFormation accepts the stack; but a list is read as what the stack may create",
        )
        .with_note(format!("fix: `capabilities: [{}]`", fixed.join(", ")));
        let d = if own {
            s.stack.diagnostic_at(project, &[own_key], d)
        } else {
            let file = project.shown(Path::new(crate::project::PROJECT_FILE));
            let text = project
                .files()
                .text(Path::new(crate::project::PROJECT_FILE));
            let loc = text
                .as_deref()
                .and_then(|t| {
                    crate::locate::config::yaml_key_position(t, &["defaults", "capabilities"])
                })
                .map(|(l, c)| Location::at(&file, l, Some(c)))
                .unwrap_or_else(|| Location::file(&file));
            d.at(loc, text.as_deref())
                .with_stack(&s.stack.name)
                .with_note(format!(
                    "stack `{}` takes `defaults.capabilities`: list them in its config, or here",
                    s.stack.name
                ))
        };
        out.push(d);
    }
    out
}

/// The pointer of the first thing in a template that needs `cap`, its name, and why.
fn why_needed(template: &Value, cap: &str) -> (String, String, String) {
    if cap == AUTO_EXPAND && template.get("Transform").is_some() {
        return (
            "/Transform".to_owned(),
            "`Transform`".to_owned(),
            "it has a `Transform`".to_owned(),
        );
    }
    if let Some(resources) = template.get("Resources").and_then(Value::as_object) {
        for (name, r) in resources {
            let one = serde_json::json!({ "Resources": { name.as_str(): r } });
            let needs = crate::template::params::required_capabilities(&one, &[]);
            let hit = needs.iter().any(|c| c == cap)
                || (cap == IAM && needs.iter().any(|c| c == NAMED_IAM));
            if hit {
                let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
                let pointer = child("/Resources", name);
                let named = r
                    .get("Properties")
                    .and_then(Value::as_object)
                    .and_then(|p| {
                        [
                            "RoleName",
                            "ManagedPolicyName",
                            "UserName",
                            "GroupName",
                            "InstanceProfileName",
                        ]
                        .into_iter()
                        .find(|k| p.contains_key(*k))
                    });
                return match (cap, named) {
                    (NAMED_IAM, Some(k)) => (
                        child(&child(&pointer, "Properties"), k),
                        format!("`{name}`"),
                        format!("resource `{name}` ({ty}) has a custom name (`{k}`)"),
                    ),
                    _ => (
                        pointer,
                        format!("`{name}`"),
                        format!("resource `{name}` is an `{ty}`"),
                    ),
                };
            }
        }
    }
    (
        "".to_owned(),
        "the template".to_owned(),
        "its resources".to_owned(),
    )
}

// --- 2. the partition of a stack's region and of its roles ------------------------------------

/// A role to assume (the account's `role_arn`) or to hand CloudFormation (the stack's) in
/// another partition than the stack's region: STS or CloudFormation refuses it. (Region names
/// themselves are checked at load, with a did-you-mean.)
pub(super) fn partition(places: &Places, s: At) -> Vec<Diagnostic> {
    let project = places.renderer.project;
    let Some(region) = s.stack.region.as_deref().filter(|_| !s.stack.kind.is_set()) else {
        return Vec::new();
    };
    let Some(want) = crate::region::partition_of(region) else {
        return Vec::new();
    };
    let of = |arn: &str| arn.split(':').nth(1).map(str::to_owned);
    let mut out = Vec::new();
    let message = |what: &str, arn: &str, has: &str| {
        Diagnostic::error(
            "wrong-partition",
            format!(
                "{what} `{arn}` is in partition `{has}`, but stack `{}` is in region {region}, of partition `{want}`",
                s.stack.name
            ),
        )
        .with_note(format!(
            "use the role's ARN in `{want}` (`arn:{want}:iam::...`), or a region of `{has}`"
        ))
    };
    if let Some(arn) = &s.stack.role_arn {
        match of(arn) {
            Some(has) if has != want => out.push(s.stack.diagnostic_at(
                project,
                &["role_arn"],
                message("`role_arn`", arn, &has),
            )),
            _ => {}
        }
    }
    if let Some(account) = project.account_of(s.stack) {
        if let Some(arn) = &account.role_arn {
            match of(arn) {
                Some(has) if has != want => {
                    let file = Path::new(crate::project::PROJECT_FILE);
                    let text = project.files().text(file);
                    let loc = text
                        .as_deref()
                        .and_then(|t| {
                            // The key, else its account (written in flow style).
                            let key = |p: &[&str]| crate::locate::config::yaml_key_position(t, p);
                            key(&["accounts", &account.name, "role_arn"])
                                .or_else(|| key(&["accounts", &account.name]))
                        })
                        .map(|(l, c)| Location::at(project.shown(file), l, Some(c)))
                        .unwrap_or_else(|| Location::file(project.shown(file)));
                    out.push(
                        message(
                            &format!("account `{}`'s `role_arn`", account.name),
                            arn,
                            &has,
                        )
                        .at(loc, text.as_deref())
                        .with_stack(&s.stack.name),
                    );
                }
                _ => {}
            }
        }
    }
    out
}
