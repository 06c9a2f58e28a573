//! Comparing what would be deployed with what is: key/value changes of parameters and tags
//! (NoEcho values masked), the hashes `apply --plan` checks a saved plan against (NoEcho
//! values salted and stretched), and the deployed state as the plan records it.
//!
//! Pure functions, no AWS calls; the template diff itself is `diff`, the risks `risk`.

use indexmap::IndexMap;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::diff::ChangeKind;
use super::model::{Deployed, Hashes, SecretHash, ValueChange};
use crate::aws::cloudformation::StackInfo;
use crate::error::{Error, Result};
use crate::render::Rendered;
use crate::template::params::{no_echo_parameters, template_defaults};

/// Key/value pairs (parameters, tags) as a map, in their order.
pub fn to_map(pairs: &[(String, String)]) -> IndexMap<String, String> {
    pairs.iter().cloned().collect()
}

/// The parameters CloudFormation would see: template defaults, overridden by the config.
pub fn effective_parameters(rendered: &Rendered) -> IndexMap<String, String> {
    let mut out = template_defaults(&rendered.template);
    for (k, v) in &rendered.parameters {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// The mask shown instead of a NoEcho value.
pub const MASK: &str = "****";

/// Changes between deployed and new key/values; `before` None means a new stack (no changes
/// are reported for it: everything is new).
pub fn value_changes(
    before: Option<IndexMap<String, String>>,
    after: &IndexMap<String, String>,
    masked: &[String],
) -> Vec<ValueChange> {
    let Some(before) = before else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let is_masked = |k: &str| masked.iter().any(|m| m == k);
    for (k, v) in after {
        let mask = is_masked(k);
        match before.get(k) {
            None => out.push(ValueChange {
                key: k.clone(),
                kind: ChangeKind::Added,
                before: None,
                after: Some(if mask { MASK.into() } else { v.clone() }),
                masked: mask,
            }),
            // A deployed NoEcho value reads back as `****`: it cannot be compared.
            Some(old) if mask => {
                if old != MASK && old != v {
                    out.push(ValueChange {
                        key: k.clone(),
                        kind: ChangeKind::Modified,
                        before: Some(MASK.into()),
                        after: Some(MASK.into()),
                        masked: true,
                    });
                }
            }
            Some(old) if old != v => out.push(ValueChange {
                key: k.clone(),
                kind: ChangeKind::Modified,
                before: Some(old.clone()),
                after: Some(v.clone()),
                masked: false,
            }),
            Some(_) => {}
        }
    }
    for (k, v) in &before {
        if !after.contains_key(k) {
            let mask = is_masked(k);
            out.push(ValueChange {
                key: k.clone(),
                kind: ChangeKind::Removed,
                before: Some(if mask { MASK.into() } else { v.clone() }),
                after: None,
                masked: mask,
            });
        }
    }
    out
}

pub fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The PBKDF2 iterations of a NoEcho hash (OWASP's figure for PBKDF2-HMAC-SHA256).
pub const NO_ECHO_ITERATIONS: u32 = 600_000;
/// The algorithm of a NoEcho hash, as the plan names it.
pub const NO_ECHO_ALGORITHM: &str = "pbkdf2-hmac-sha256";
/// The most iterations a plan's NoEcho hash may ask for (an edited plan must not make `apply`
/// spin).
const MAX_NO_ECHO_ITERATIONS: u32 = 10_000_000;

/// The parameters as sorted lines: the plain ones (`key=value`, a NoEcho one as its key
/// alone) and the NoEcho ones (`key=value`; None when there is none).
fn parameter_lines(
    template: &Value,
    parameters: &IndexMap<String, String>,
) -> (String, Option<String>) {
    let no_echo = no_echo_parameters(template);
    let mut plain = Vec::new();
    let mut secret = Vec::new();
    for (k, v) in parameters {
        if no_echo.iter().any(|n| n == k) {
            plain.push(k.clone());
            secret.push(format!("{k}={v}"));
        } else {
            plain.push(format!("{k}={v}"));
        }
    }
    plain.sort();
    secret.sort();
    let secret = (!secret.is_empty()).then(|| secret.join("\n"));
    (plain.join("\n"), secret)
}

fn pbkdf2(iterations: std::num::NonZeroU32, salt: &[u8], secret: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        secret.as_bytes(),
        &mut out,
    );
    out
}

/// What `apply --plan` compares: the template, the parameters, and the NoEcho values
/// through a salted, stretched hash (a new random salt each time: two plans of the same
/// values differ; compare with [`hashes_match`]).
pub fn hashes(
    body: &str,
    template: &Value,
    parameters: &IndexMap<String, String>,
) -> Result<Hashes> {
    let (plain, secret) = parameter_lines(template, parameters);
    let no_echo = match secret {
        None => None,
        Some(secret) => {
            use ring::rand::SecureRandom;
            let mut salt = [0u8; 16];
            ring::rand::SystemRandom::new()
                .fill(&mut salt)
                .map_err(|_| {
                    Error::Internal(
                        "the operating system gave no random numbers for the plan's salt".into(),
                    )
                })?;
            let iterations = std::num::NonZeroU32::new(NO_ECHO_ITERATIONS)
                .ok_or_else(|| Error::Internal("no PBKDF2 iterations".into()))?;
            Some(SecretHash {
                algorithm: NO_ECHO_ALGORITHM.into(),
                iterations: NO_ECHO_ITERATIONS,
                salt: hex::encode(salt),
                hash: hex::encode(pbkdf2(iterations, &salt, &secret)),
            })
        }
    };
    Ok(Hashes {
        template_sha256: sha256(body),
        parameters_sha256: sha256(&plain),
        no_echo,
    })
}

/// Whether `saved` (a plan's hashes) matches what would be deployed now. A NoEcho hash is
/// checked with its own salt and iterations, in constant time; one that is malformed, or
/// present on one side only, does not match.
pub fn hashes_match(
    saved: &Hashes,
    body: &str,
    template: &Value,
    parameters: &IndexMap<String, String>,
) -> bool {
    let (plain, secret) = parameter_lines(template, parameters);
    if saved.template_sha256 != sha256(body) || saved.parameters_sha256 != sha256(&plain) {
        return false;
    }
    match (&saved.no_echo, secret) {
        (None, None) => true,
        (Some(h), Some(secret)) => {
            let (Ok(salt), Ok(expected)) = (hex::decode(&h.salt), hex::decode(&h.hash)) else {
                return false;
            };
            let Some(iterations) = std::num::NonZeroU32::new(h.iterations)
                .filter(|n| n.get() <= MAX_NO_ECHO_ITERATIONS)
            else {
                return false;
            };
            h.algorithm == NO_ECHO_ALGORITHM
                && ring::pbkdf2::verify(
                    ring::pbkdf2::PBKDF2_HMAC_SHA256,
                    iterations,
                    &salt,
                    secret.as_bytes(),
                    &expected,
                )
                .is_ok()
        }
        _ => false,
    }
}

/// The deployed state as the plan records it, for comparison at apply.
pub fn deployed_of(info: &StackInfo, template_sha256: String) -> Deployed {
    Deployed {
        stack_id: info.id.clone(),
        status: info.status.clone(),
        last_updated: info.last_updated.clone().or_else(|| info.created.clone()),
        template_sha256,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::parse;
    use serde_json::json;

    #[test]
    fn no_echo_values_are_salted_and_stretched_and_changes_still_show() {
        let template = json!({"Parameters": {
            "Token": {"Type": "String", "NoEcho": true},
            "Name": {"Type": "String"}}});
        let params = |token: &str, name: &str| -> IndexMap<String, String> {
            [("Token", token), ("Name", name)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        let p = params("hunter2", "api");
        let h = hashes("{}", &template, &p).unwrap();
        let secret = h.no_echo.clone().expect("a NoEcho hash");
        assert_eq!(secret.algorithm, "pbkdf2-hmac-sha256");
        assert_eq!(secret.iterations, NO_ECHO_ITERATIONS);
        assert_eq!(secret.salt.len(), 32);
        // Nothing in the plan is a plain SHA-256 of the value, in any obvious form.
        let json = serde_json::to_string(&h).unwrap();
        for guess in [
            "hunter2",
            "Token=hunter2",
            "Name=api\nToken=hunter2",
            "Token=hunter2\nName=api",
        ] {
            assert!(!json.contains(&sha256(guess)), "{guess}: {json}");
        }
        assert!(!json.contains("hunter2"));
        assert_eq!(h.parameters_sha256, sha256("Name=api\nToken"));
        // A fresh salt every time: the same value hashes differently in two plans.
        let again = hashes("{}", &template, &p).unwrap();
        assert_ne!(again.no_echo.as_ref().unwrap().salt, secret.salt);
        assert_ne!(again.no_echo.as_ref().unwrap().hash, secret.hash);

        // `apply --plan` still sees every change.
        assert!(hashes_match(&h, "{}", &template, &p));
        assert!(!hashes_match(
            &h,
            "{}",
            &template,
            &params("hunter3", "api")
        ));
        assert!(!hashes_match(
            &h,
            "{}",
            &template,
            &params("hunter2", "web")
        ));
        assert!(!hashes_match(&h, "{ }", &template, &p));
        let mut stripped = h.clone();
        stripped.no_echo = None;
        assert!(!hashes_match(&stripped, "{}", &template, &p));
        let mut edited = h.clone();
        edited.no_echo.as_mut().unwrap().iterations = 1;
        assert!(!hashes_match(&edited, "{}", &template, &p));
        edited.no_echo.as_mut().unwrap().iterations = u32::MAX;
        assert!(!hashes_match(&edited, "{}", &template, &p));
        let mut edited = h.clone();
        edited.no_echo.as_mut().unwrap().salt = "zz".into();
        assert!(!hashes_match(&edited, "{}", &template, &p));

        // No NoEcho parameter: no salted hash, and the parameters as before.
        let plain =
            json!({"Parameters": {"Token": {"Type": "String"}, "Name": {"Type": "String"}}});
        let h = hashes("{}", &plain, &p).unwrap();
        assert_eq!(h.no_echo, None);
        assert_eq!(h.parameters_sha256, sha256("Name=api\nToken=hunter2"));
        assert!(hashes_match(&h, "{}", &plain, &p));
        // A parameter that became NoEcho since the plan: the plan is stale.
        assert!(!hashes_match(&h, "{}", &template, &p));
    }

    #[test]
    fn value_changes_mask_no_echo() {
        let before: IndexMap<String, String> = [
            ("A".into(), "1".into()),
            ("Secret".into(), MASK.into()),
            ("Gone".into(), "x".into()),
        ]
        .into_iter()
        .collect();
        let after: IndexMap<String, String> = [
            ("A".into(), "2".into()),
            ("Secret".into(), "hunter2".into()),
            ("New".into(), "n".into()),
        ]
        .into_iter()
        .collect();
        let changes = value_changes(Some(before), &after, &["Secret".into()]);
        let text = serde_json::to_string(&changes).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        let keys: Vec<(&str, ChangeKind)> =
            changes.iter().map(|c| (c.key.as_str(), c.kind)).collect();
        assert_eq!(
            keys,
            [
                ("A", ChangeKind::Modified),
                ("New", ChangeKind::Added),
                ("Gone", ChangeKind::Removed)
            ]
        );
    }

    #[test]
    fn parameters_equal_to_defaults_are_no_change() {
        let rendered = Rendered {
            stack: "s".into(),
            template_name: "t".into(),
            syntax: parse::Syntax::Json,
            text: String::new(),
            template: json!({"Parameters": {"Env": {"Type": "String", "Default": "dev"}, "N": {"Type": "Number", "Default": 3}}}),
            parameters: IndexMap::new(),
            tags: IndexMap::new(),
        };
        let effective = effective_parameters(&rendered);
        let deployed: IndexMap<String, String> =
            [("Env".into(), "dev".into()), ("N".into(), "3".into())]
                .into_iter()
                .collect();
        assert!(value_changes(Some(deployed), &effective, &[]).is_empty());
    }
}
