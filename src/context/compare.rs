//! Comparing a live ECR repository or IAM role with its template's properties: the
//! differences, the properties skipped because the template builds them with intrinsic
//! functions, and a resource that is gone. Pure functions over what `aws` read, shared by the
//! drift audit and `little adopt` (what differs between a resource and the template adopting it).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::aws::drift::{PropertyDifference, RepositoryFacts, ResourceDrift};
use crate::aws::iam::RoleFacts;
use crate::aws::stack_ops::StackResource;
use crate::template::canonical::canonical;
use crate::template::intrinsic::has_intrinsic;

/// A value's text in a difference: strings as they are, others as compact JSON.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Collects the differences of one resource.
struct Differences<'a> {
    properties: &'a Value,
    found: Vec<PropertyDifference>,
    skipped: &'a mut Vec<String>,
}

impl Differences<'_> {
    /// The template's value at a pointer, unless absent or built with intrinsic functions
    /// (then noted as skipped).
    fn expected(&mut self, path: &str) -> Option<Value> {
        let v = self.properties.pointer(path)?;
        if has_intrinsic(v) {
            self.skipped.push(path.to_owned());
            return None;
        }
        Some(v.clone())
    }

    fn differ(&mut self, path: &str, expected: &Value, actual: &Value) {
        if canonical(expected) == canonical(actual) {
            return;
        }
        let kind = match (expected.is_null(), actual.is_null()) {
            (false, true) => "REMOVE",
            (true, false) => "ADD",
            _ => "NOT_EQUAL",
        };
        self.found.push(PropertyDifference {
            path: path.to_owned(),
            expected: shown(expected),
            actual: shown(actual),
            kind: kind.into(),
        });
    }

    /// Compares a template string property with the live text (absent live: null).
    fn text(&mut self, path: &str, actual: Option<&str>) {
        if let Some(expected) = self.expected(path) {
            let actual = actual
                .map(|a| Value::String(a.to_owned()))
                .unwrap_or(Value::Null);
            self.differ(path, &expected, &actual);
        }
    }

    /// Compares a JSON document (object or JSON text in the template) with the live text.
    fn document(&mut self, path: &str, actual: Option<&Value>) {
        if let Some(expected) = self.expected(path) {
            self.differ(path, &expected, actual.unwrap_or(&Value::Null));
        }
    }

    fn into_drift(self, r: &StackResource) -> ResourceDrift {
        ResourceDrift {
            logical_id: r.logical_id.clone(),
            physical_id: r.physical_id.clone(),
            resource_type: r.resource_type.clone(),
            status: if self.found.is_empty() {
                ResourceDrift::IN_SYNC
            } else {
                ResourceDrift::MODIFIED
            }
            .into(),
            differences: self.found,
        }
    }
}

fn deleted(r: &StackResource) -> ResourceDrift {
    ResourceDrift {
        logical_id: r.logical_id.clone(),
        physical_id: r.physical_id.clone(),
        resource_type: r.resource_type.clone(),
        status: ResourceDrift::DELETED.into(),
        differences: Vec::new(),
    }
}

/// A JSON text as a value: parsed if it is JSON, else the text.
fn json_text(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))
}

/// Compares an ECR repository's template properties with its live configuration.
pub fn compare_repository(
    r: &StackResource,
    properties: &Value,
    live: Option<&RepositoryFacts>,
    skipped: &mut Vec<String>,
) -> ResourceDrift {
    let Some(live) = live else {
        return deleted(r);
    };
    let mut d = Differences {
        properties,
        found: Vec::new(),
        skipped,
    };
    d.text("/ImageTagMutability", Some(&live.tag_mutability));
    if let Some(expected) = d.expected("/ImageTagMutabilityExclusionFilters") {
        let want: BTreeSet<(String, String)> = expected
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                (
                    shown(&f["ImageTagMutabilityExclusionFilterType"]),
                    shown(&f["ImageTagMutabilityExclusionFilterValue"]),
                )
            })
            .collect();
        let have: BTreeSet<(String, String)> = live.exclusion_filters.iter().cloned().collect();
        if want != have {
            let list = |s: &BTreeSet<(String, String)>| {
                Value::Array(
                    s.iter()
                        .map(|(t, f)| {
                            serde_json::json!({
                                "ImageTagMutabilityExclusionFilterType": t,
                                "ImageTagMutabilityExclusionFilterValue": f,
                            })
                        })
                        .collect(),
                )
            };
            d.differ(
                "/ImageTagMutabilityExclusionFilters",
                &list(&want),
                &list(&have),
            );
        }
    }
    if let Some(expected) = d.expected("/ImageScanningConfiguration/ScanOnPush") {
        d.differ(
            "/ImageScanningConfiguration/ScanOnPush",
            &expected,
            &Value::Bool(live.scan_on_push),
        );
    }
    d.text(
        "/EncryptionConfiguration/EncryptionType",
        Some(&live.encryption_type),
    );
    d.text("/EncryptionConfiguration/KmsKey", live.kms_key.as_deref());
    let lifecycle = live.lifecycle_policy.as_deref().map(json_text);
    d.document("/LifecyclePolicy/LifecyclePolicyText", lifecycle.as_ref());
    let policy = live.repository_policy.as_deref().map(json_text);
    d.document("/RepositoryPolicyText", policy.as_ref());
    if let Some(tags) = d.expected("/Tags") {
        compare_tags(&mut d, &tags, &live.tags);
    }
    d.into_drift(r)
}

/// The template's tags (a list of Key/Value) against the live ones: each template tag must be
/// there with its value; tags added outside the template (stack tags, AWS's own) are not drift.
fn compare_tags(d: &mut Differences<'_>, tags: &Value, live: &BTreeMap<String, String>) {
    for (i, tag) in tags.as_array().into_iter().flatten().enumerate() {
        let key = shown(&tag["Key"]);
        let value = &tag["Value"];
        match live.get(&key) {
            Some(v) => d.differ(
                &format!("/Tags/{i}/Value"),
                value,
                &Value::String(v.clone()),
            ),
            None => d.differ(&format!("/Tags/{i}"), tag, &Value::Null),
        }
    }
}

/// Compares an IAM role's template properties with its live policies.
pub fn compare_role(
    r: &StackResource,
    properties: &Value,
    live: Option<&RoleFacts>,
    skipped: &mut Vec<String>,
) -> ResourceDrift {
    let Some(live) = live else {
        return deleted(r);
    };
    let mut d = Differences {
        properties,
        found: Vec::new(),
        skipped,
    };
    d.document("/AssumeRolePolicyDocument", Some(&live.trust_policy));
    if properties.get("Policies").is_some() {
        let mut named: BTreeSet<String> = BTreeSet::new();
        let count = properties["Policies"].as_array().map_or(0, Vec::len);
        for i in 0..count {
            let Some(name) = d.expected(&format!("/Policies/{i}/PolicyName")) else {
                continue;
            };
            let name = shown(&name);
            named.insert(name.clone());
            match live.inline.get(&name) {
                Some(doc) => d.document(&format!("/Policies/{i}/PolicyDocument"), Some(doc)),
                None => {
                    let expected = properties["Policies"][i].clone();
                    d.differ(&format!("/Policies/{i}"), &expected, &Value::Null);
                }
            }
        }
        // Inline policies added outside the template; unknown when a name is computed.
        let computed = d.skipped.iter().any(|p| p.ends_with("/PolicyName"));
        if !computed {
            for (name, doc) in &live.inline {
                if !named.contains(name) {
                    let actual = serde_json::json!({"PolicyName": name, "PolicyDocument": doc});
                    d.differ(&format!("/Policies/{name}"), &Value::Null, &actual);
                }
            }
        }
    }
    if let Some(expected) = d.expected("/ManagedPolicyArns") {
        let want: BTreeSet<String> = expected
            .as_array()
            .into_iter()
            .flatten()
            .map(shown)
            .collect();
        let have: BTreeSet<String> = live.managed.iter().cloned().collect();
        for arn in want.difference(&have) {
            d.differ(
                "/ManagedPolicyArns",
                &Value::String(arn.clone()),
                &Value::Null,
            );
        }
        for arn in have.difference(&want) {
            d.differ(
                "/ManagedPolicyArns",
                &Value::Null,
                &Value::String(arn.clone()),
            );
        }
    }
    d.into_drift(r)
}
