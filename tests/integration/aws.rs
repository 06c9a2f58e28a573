//! The AWS layer against the local emulator: config loading with the endpoint override, and
//! STS caller identity, through `account_id()` in a template.

use crate::harness::{Emulator, TestProject};

#[test]
fn account_id_asks_sts_when_the_stack_names_no_account() {
    let emulator = Emulator::lock();
    let p = TestProject::new().with_emulator(&emulator);
    p.stack("s", "t.json.njk", "");
    p.template(
        "t.json.njk",
        r#"{"Description": "{{ account_id() }}", "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#,
    );
    let v = p.run(&["render", "s"]).success().json();
    // moto's account for every access key.
    assert_eq!(v["Description"], "123456789012");
}

#[test]
fn account_id_failure_is_reported_at_the_call() {
    // No emulator: the endpoint refuses connections.
    let p = TestProject::new();
    p.stack("s", "t.json.njk", "");
    p.template(
        "t.json.njk",
        "{\n  \"Description\": \"{{ account_id() }}\"\n}\n",
    );
    p.run(&["render", "s"])
        .code(1)
        .stderr_has("cannot ask AWS who the caller is")
        .stderr_has("--> templates/t.json.njk:2:");
}
