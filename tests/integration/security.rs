//! The security properties of the repository's own bootstrap, asserted on every template that
//! `little render --all` produces: immutable, scanned, lifecycle-managed, retained
//! repositories; no public principal without an organisation condition; no `*` on `*` but the
//! admin role's; buckets that block public access and deny non-TLS requests.

use serde_json::Value;

use crate::harness::TestProject;

/// Every rendered template of the repository's stacks, by stack.
fn rendered() -> Vec<(String, Value)> {
    let p = TestProject::from_repo();
    let out = p.run(&["render", "--all"]);
    out.success();
    let all = out.json();
    let map = all.as_object().expect("several stacks render to an object");
    assert!(
        map.len() >= 5,
        "the bootstrap has its stacks: {:?}",
        map.keys()
    );
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn resources(t: &Value) -> Vec<(&String, &Value)> {
    t["Resources"]
        .as_object()
        .map(|m| m.iter().collect())
        .unwrap_or_default()
}

fn of_type<'a>(t: &'a Value, ty: &str) -> Vec<(&'a String, &'a Value)> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| r["Type"] == ty)
        .collect()
}

/// A policy document that may be given as an object or as a JSON string.
fn document(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        Value::Object(_) => vec![doc["Statement"].clone()],
        _ => Vec::new(),
    }
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn is_public(principal: &Value) -> bool {
    principal == "*" || as_list(&principal["AWS"]).iter().any(|p| p == "*")
}

fn has_org_condition(statement: &Value) -> bool {
    statement["Condition"]
        .as_object()
        .map(|ops| {
            ops.values()
                .any(|keys| keys.get("aws:PrincipalOrgID").is_some())
        })
        .unwrap_or(false)
}

#[test]
fn every_repository_is_immutable_scanned_lifecycle_managed_and_retained() {
    let mut seen = 0;
    for (stack, t) in rendered() {
        for (id, r) in of_type(&t, "AWS::ECR::Repository") {
            seen += 1;
            let p = &r["Properties"];
            let mutability = p["ImageTagMutability"].as_str().unwrap_or("MUTABLE");
            match mutability {
                "IMMUTABLE" => {}
                "IMMUTABLE_WITH_EXCLUSION" => assert!(
                    !as_list(&p["ImageTagMutabilityExclusionFilters"]).is_empty(),
                    "{stack}/{id}: IMMUTABLE_WITH_EXCLUSION without exclusion filters"
                ),
                other => panic!("{stack}/{id}: tag mutability {other}"),
            }
            assert_eq!(
                p["ImageScanningConfiguration"]["ScanOnPush"], true,
                "{stack}/{id}: scan on push"
            );
            let lifecycle = document(&p["LifecyclePolicy"]["LifecyclePolicyText"]);
            assert!(
                !as_list(&lifecycle["rules"]).is_empty(),
                "{stack}/{id}: a lifecycle policy with rules"
            );
            assert_eq!(
                r["DeletionPolicy"], "Retain",
                "{stack}/{id}: DeletionPolicy"
            );
            assert_eq!(
                r["UpdateReplacePolicy"], "Retain",
                "{stack}/{id}: UpdateReplacePolicy"
            );
            assert!(
                p["EncryptionConfiguration"]["EncryptionType"].is_string(),
                "{stack}/{id}: encryption"
            );
        }
    }
    assert!(seen > 0, "the bootstrap creates repositories");
}

#[test]
fn no_public_principal_without_an_organisation_condition() {
    for (stack, t) in rendered() {
        for (id, r) in resources(&t) {
            let p = &r["Properties"];
            for doc in [
                document(&p["RepositoryPolicyText"]),
                document(&p["AssumeRolePolicyDocument"]),
                document(&p["PolicyDocument"]),
                document(&p["KeyPolicy"]),
            ] {
                for s in statements(&doc) {
                    if s["Effect"] == "Allow" && is_public(&s["Principal"]) {
                        assert!(
                            has_org_condition(&s),
                            "{stack}/{id}: a public principal without aws:PrincipalOrgID: {s}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn only_the_admin_role_grants_everything() {
    for (stack, t) in rendered() {
        for (id, r) in resources(&t) {
            let p = &r["Properties"];
            let mut docs = vec![document(&p["PolicyDocument"])];
            for inline in as_list(&p["Policies"]) {
                docs.push(document(&inline["PolicyDocument"]));
            }
            for doc in docs {
                for s in statements(&doc) {
                    let star = |k: &str| as_list(&s[k]).iter().any(|v| v == "*");
                    if s["Effect"] == "Allow" && star("Action") && star("Resource") {
                        assert!(
                            id.to_lowercase().contains("admin"),
                            "{stack}/{id} grants * on *: {s}"
                        );
                    }
                }
            }
            // Managed AdministratorAccess only on the admin role, too.
            for arn in as_list(&p["ManagedPolicyArns"]) {
                if arn
                    .as_str()
                    .is_some_and(|a| a.ends_with("policy/AdministratorAccess"))
                {
                    assert!(
                        id.to_lowercase().contains("admin"),
                        "{stack}/{id} attaches AdministratorAccess"
                    );
                }
            }
        }
    }
}

#[test]
fn buckets_block_public_access_and_deny_non_tls() {
    let mut seen = 0;
    for (stack, t) in rendered() {
        for (id, r) in of_type(&t, "AWS::S3::Bucket") {
            seen += 1;
            let block = &r["Properties"]["PublicAccessBlockConfiguration"];
            for k in [
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            ] {
                assert_eq!(block[k], true, "{stack}/{id}: {k}");
            }
            let policies: Vec<_> = of_type(&t, "AWS::S3::BucketPolicy")
                .into_iter()
                .filter(|(_, bp)| bp["Properties"]["Bucket"] == serde_json::json!({"Ref": id}))
                .collect();
            assert_eq!(policies.len(), 1, "{stack}/{id}: one bucket policy");
            let denies_plain_http =
                statements(&document(&policies[0].1["Properties"]["PolicyDocument"]))
                    .iter()
                    .any(|s| {
                        s["Effect"] == "Deny"
                            && s["Condition"]["Bool"]["aws:SecureTransport"]
                                .as_str()
                                .map(|v| v == "false")
                                .or(s["Condition"]["Bool"]["aws:SecureTransport"]
                                    .as_bool()
                                    .map(|b| !b))
                                .unwrap_or(false)
                    });
            assert!(
                denies_plain_http,
                "{stack}/{id}: a Deny on aws:SecureTransport false"
            );
        }
    }
    assert!(seen > 0, "the bootstrap creates a report bucket");
}
