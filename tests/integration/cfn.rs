//! The CloudFormation adapter against the local emulator, through the library: describe,
//! create, read the template back, find importers, delete.

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_cloudformation::config::{Credentials, SharedCredentialsProvider};
use little_stack::aws::cloudformation::{wait_for_stack, CfnClient, CloudFormation, StackRequest};
use little_stack::aws::{load_config, AwsSettings};
use little_stack::error::Error;
use little_stack::poll::Poll;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use tokio::runtime::Runtime;

use crate::harness::Emulator;

/// The SDK configuration for the emulator in us-east-1.
pub fn emulator_config(rt: &Runtime, emulator: &Emulator) -> SdkConfig {
    config_for(rt, &emulator.endpoint, "us-east-1")
}

/// The SDK configuration for an endpoint and region: fixed credentials and no retries (a
/// retried call could apply twice, and a failing one would take seconds). Credentials and
/// retries are set on the configuration itself, so the test process's environment is neither
/// read for them nor changed.
pub fn config_for(rt: &Runtime, endpoint: &str, region: &str) -> SdkConfig {
    let settings = AwsSettings {
        endpoint_url: Some(endpoint.to_owned()),
        region: Some(region.to_owned()),
        ..AwsSettings::default()
    };
    let config = rt
        .block_on(load_config(&settings, None))
        .expect("load the AWS config");
    config
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "tests",
        )))
        .retry_config(RetryConfig::disabled())
        .build()
}

/// Polling for the emulator, whose stack operations complete before they return.
pub const FAST: Poll = Poll {
    first: std::time::Duration::ZERO,
    max: std::time::Duration::ZERO,
    timeout: std::time::Duration::from_secs(30),
};

const QUEUE_TEMPLATE: &str = r#"{
  "Parameters": {"Suffix": {"Type": "String"}},
  "Resources": {
    "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "little-${Suffix}"}}}
  },
  "Outputs": {
    "QueueUrl": {"Value": {"Ref": "Queue"}, "Description": "the queue's URL"},
    "QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}, "Export": {"Name": "little-queue-arn"}}
  }
}"#;

fn queue_request(name: &str) -> StackRequest {
    StackRequest {
        stack_name: name.into(),
        template_body: QUEUE_TEMPLATE.into(),
        parameters: vec![("Suffix".into(), "orders".into())],
        tags: vec![
            ("team".into(), "platform".into()),
            ("env".into(), "test".into()),
        ],
        capabilities: vec!["CAPABILITY_IAM".into()],
        termination_protection: false,
        timeout_in_minutes: Some(5),
    }
}

#[test]
fn describe_of_a_missing_stack_is_none() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let cfn = CfnClient::new(&emulator_config(&rt, &emulator));
    assert_eq!(
        rt.block_on(cfn.describe_stack("nothing-here")).unwrap(),
        None
    );
    assert_eq!(
        rt.block_on(wait_for_stack(&cfn, "nothing-here", FAST))
            .unwrap(),
        None
    );
}

#[test]
fn create_describe_read_back_and_delete() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let cfn = CfnClient::new(&emulator_config(&rt, &emulator));

    let mut req = queue_request("queues");
    req.termination_protection = true;
    let id = rt.block_on(cfn.create_stack(&req)).unwrap();
    assert!(
        id.starts_with("arn:aws:cloudformation:us-east-1:123456789012:stack/queues/"),
        "{id}"
    );

    let s = rt
        .block_on(wait_for_stack(&cfn, "queues", FAST))
        .unwrap()
        .expect("the stack exists");
    assert_eq!(s.name, "queues");
    assert_eq!(s.id, id);
    assert_eq!(s.status, "CREATE_COMPLETE");
    assert!(!s.is_in_progress() && !s.is_failed());
    assert!(s.termination_protection);
    // moto 5.2.5 neither enforces nor reports capabilities: `s.capabilities` is empty there.
    assert!(s.created.as_deref().is_some_and(|c| c.contains('T')));
    assert_eq!(s.parameters, vec![("Suffix".into(), "orders".into())]);
    let mut tags = s.tags.clone();
    tags.sort();
    assert_eq!(
        tags,
        vec![
            ("env".into(), "test".into()),
            ("team".into(), "platform".into())
        ]
    );
    let outputs = s.outputs_map();
    assert_eq!(
        outputs.get("QueueArn").map(String::as_str),
        Some("arn:aws:sqs:us-east-1:123456789012:little-orders")
    );
    assert!(
        outputs
            .get("QueueUrl")
            .is_some_and(|u| u.ends_with("/123456789012/little-orders")),
        "{outputs:?}"
    );
    let arn = s.outputs.iter().find(|o| o.key == "QueueArn").unwrap();
    assert_eq!(arn.export_name.as_deref(), Some("little-queue-arn"));
    let url = s.outputs.iter().find(|o| o.key == "QueueUrl").unwrap();
    assert_eq!(url.description.as_deref(), Some("the queue's URL"));
    assert_eq!(url.export_name, None);

    // The body comes back as sent.
    assert_eq!(
        rt.block_on(cfn.get_template("queues")).unwrap(),
        QUEUE_TEMPLATE
    );

    // A protected stack cannot be deleted (the launcher enforces it as AWS does); once
    // protection is off, it can.
    match rt.block_on(cfn.delete_stack("queues")) {
        Err(Error::Aws { operation, message }) => {
            assert_eq!(operation, "cloudformation:DeleteStack");
            assert!(message.contains("TerminationProtection"), "{message}");
        }
        other => panic!("a protected stack was deleted: {other:?}"),
    }
    let ops = little_stack::aws::stack_ops::StackOpsClient::new(&emulator_config(&rt, &emulator));
    rt.block_on(
        little_stack::aws::stack_ops::StackOps::set_termination_protection(&ops, "queues", false),
    )
    .unwrap();
    rt.block_on(cfn.delete_stack("queues")).unwrap();
    assert_eq!(
        rt.block_on(wait_for_stack(&cfn, "queues", FAST)).unwrap(),
        None
    );
    assert_eq!(rt.block_on(cfn.describe_stack("queues")).unwrap(), None);
}

#[test]
fn a_stack_without_exports_has_no_importers() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let cfn = CfnClient::new(&emulator_config(&rt, &emulator));
    let mut req = queue_request("plain");
    req.template_body =
        r#"{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"Name": {"Value": {"Fn::GetAtt": ["Queue", "QueueName"]}}}}"#
            .into();
    req.parameters.clear();
    rt.block_on(cfn.create_stack(&req)).unwrap();
    // Another stack's export does not count.
    rt.block_on(cfn.create_stack(&queue_request("exporter")))
        .unwrap();
    assert_eq!(
        rt.block_on(cfn.importers_of("plain")).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        rt.block_on(cfn.importers_of("no-such-stack")).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn failures_carry_the_operation_and_aws_message() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let cfn = CfnClient::new(&emulator_config(&rt, &emulator));

    let err = rt.block_on(cfn.get_template("nothing-here")).unwrap_err();
    match &err {
        Error::Aws { operation, message } => {
            assert_eq!(operation, "cloudformation:GetTemplate");
            assert!(message.contains("does not exist"), "{message}");
        }
        other => panic!("not an AWS error: {other}"),
    }

    rt.block_on(cfn.create_stack(&queue_request("twice")))
        .unwrap();
    let err = rt
        .block_on(cfn.create_stack(&queue_request("twice")))
        .unwrap_err();
    match &err {
        Error::Aws { operation, message } => {
            assert_eq!(operation, "cloudformation:CreateStack");
            assert!(message.starts_with("AlreadyExistsException"), "{message}");
        }
        other => panic!("not an AWS error: {other}"),
    }
}

/// A canned CloudFormation endpoint for what the emulator lacks (ListImports): answers each
/// query-protocol request through `answer(action, form)` with (status, XML body).
struct CannedCfn {
    endpoint: String,
}

impl CannedCfn {
    fn start(answer: fn(&str, &BTreeMap<String, String>) -> (u16, String)) -> CannedCfn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                serve(stream, answer);
            }
        });
        CannedCfn { endpoint }
    }
}

fn serve(mut stream: TcpStream, answer: fn(&str, &BTreeMap<String, String>) -> (u16, String)) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let form: BTreeMap<String, String> = String::from_utf8_lossy(&body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect();
    let action = form.get("Action").cloned().unwrap_or_default();
    let (status, xml) = answer(&action, &form);
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
        xml.len()
    );
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn exports_page(exports: &[(&str, &str)], next: Option<&str>) -> String {
    let members: String = exports
        .iter()
        .map(|(stack, name)| {
            format!(
                "<member><ExportingStackId>arn:aws:cloudformation:us-east-1:123456789012:stack/{stack}/0b7e</ExportingStackId><Name>{name}</Name><Value>v</Value></member>"
            )
        })
        .collect();
    let next = next
        .map(|t| format!("<NextToken>{t}</NextToken>"))
        .unwrap_or_default();
    format!(
        "<ListExportsResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><ListExportsResult><Exports>{members}</Exports>{next}</ListExportsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListExportsResponse>"
    )
}

fn imports_page(imports: &[&str], next: Option<&str>) -> String {
    let members: String = imports
        .iter()
        .map(|s| format!("<member>{s}</member>"))
        .collect();
    let next = next
        .map(|t| format!("<NextToken>{t}</NextToken>"))
        .unwrap_or_default();
    format!(
        "<ListImportsResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><ListImportsResult><Imports>{members}</Imports>{next}</ListImportsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListImportsResponse>"
    )
}

fn validation_error(message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    )
}

fn canned_client(rt: &Runtime, canned: &CannedCfn) -> CfnClient {
    CfnClient::new(&config_for(rt, &canned.endpoint, "us-east-1"))
}

#[test]
fn importers_of_reads_every_page_of_exports_and_imports() {
    // moto 5.2.5 does not implement ListImports (it answers 500): a canned endpoint instead.
    fn answer(action: &str, form: &BTreeMap<String, String>) -> (u16, String) {
        let token = form.get("NextToken").map(String::as_str);
        let export = form.get("ExportName").map(String::as_str);
        match (action, token, export) {
            ("ListExports", None, _) => (
                200,
                exports_page(&[("net", "net-VpcId"), ("other", "other-X")], Some("p2")),
            ),
            ("ListExports", Some("p2"), _) => (
                200,
                exports_page(&[("net", "net-SubnetIds"), ("net", "net-Unused")], None),
            ),
            ("ListImports", None, Some("net-VpcId")) => {
                (200, imports_page(&["app", "db"], Some("i2")))
            }
            ("ListImports", Some("i2"), Some("net-VpcId")) => (200, imports_page(&["web"], None)),
            ("ListImports", None, Some("net-SubnetIds")) => (200, imports_page(&["app"], None)),
            ("ListImports", None, Some("net-Unused")) => (
                400,
                validation_error("Export 'net-Unused' is not imported by any stack."),
            ),
            ("ListImports", None, Some("other-X")) => {
                panic!("asked for the importers of another stack's export")
            }
            _ => (
                400,
                validation_error(&format!("unexpected {action} {form:?}")),
            ),
        }
    }
    let canned = CannedCfn::start(answer);
    let rt = Runtime::new().unwrap();
    let cfn = canned_client(&rt, &canned);
    assert_eq!(
        rt.block_on(cfn.importers_of("net")).unwrap(),
        vec!["app".to_owned(), "db".to_owned(), "web".to_owned()]
    );
    assert_eq!(
        rt.block_on(cfn.importers_of("lonely")).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn importers_of_reports_other_list_imports_errors() {
    fn answer(action: &str, _form: &BTreeMap<String, String>) -> (u16, String) {
        match action {
            "ListExports" => (200, exports_page(&[("net", "net-VpcId")], None)),
            _ => (400, validation_error("Rate exceeded")),
        }
    }
    let canned = CannedCfn::start(answer);
    let rt = Runtime::new().unwrap();
    let cfn = canned_client(&rt, &canned);
    match rt.block_on(cfn.importers_of("net")).unwrap_err() {
        Error::Aws { operation, message } => {
            assert_eq!(operation, "cloudformation:ListImports");
            assert_eq!(message, "ValidationError: Rate exceeded");
        }
        other => panic!("not an AWS error: {other}"),
    }
}
