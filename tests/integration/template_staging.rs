//! Templates over CloudFormation's inline limit are staged in S3: the bucket is created on
//! first use with encryption, a public access block, a TLS-only policy and a lifecycle rule.

use aws_sdk_s3::Client as S3;
use little_stack::aws::staging::{template_key, S3Staging, Staging};
use tokio::runtime::Runtime;

use crate::cfn::emulator_config;
use crate::harness::Emulator;

#[test]
fn the_bucket_is_created_secured_and_the_template_uploaded() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let staging = S3Staging::new(&config, Some("123456789012".into()), None);
    let body = format!("{{\"Description\": \"{}\"}}", "x".repeat(60_000));
    // moto 5.2.5 denies every object call on a bucket whose policy has a condition it cannot
    // evaluate, such as the TLS-only policy's `aws:SecureTransport`: the upload is refused on
    // the emulator (AWS evaluates it, and little talks HTTPS to AWS). The round trip is tested
    // below with a bucket that has no such policy, and with SDK mocks in `aws::staging`.
    let refused = rt
        .block_on(staging.upload_template("big", &body))
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("s3:PutObject failed: HTTP 403"),
        "{refused}"
    );
    let bucket = "little-templates-123456789012-us-east-1";
    let key = template_key("big", &body);

    let s3 = S3::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    rt.block_on(async {
        assert!(s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .is_err());

        let enc = s3
            .get_bucket_encryption()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
        assert_eq!(
            rule.apply_server_side_encryption_by_default()
                .unwrap()
                .sse_algorithm()
                .as_str(),
            "AES256"
        );
        let block = s3
            .get_public_access_block()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        let block = block.public_access_block_configuration().unwrap();
        assert_eq!(
            (
                block.block_public_acls(),
                block.ignore_public_acls(),
                block.block_public_policy(),
                block.restrict_public_buckets()
            ),
            (Some(true), Some(true), Some(true), Some(true))
        );
        let policy = s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
        let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
        assert_eq!(policy["Statement"][0]["Effect"], "Deny");
        assert_eq!(
            policy["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"],
            "false"
        );
        let lifecycle = s3
            .get_bucket_lifecycle_configuration()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        assert_eq!(lifecycle.rules()[0].expiration().unwrap().days(), Some(7));
    });
}

#[test]
fn an_existing_bucket_is_used_as_it_is() {
    let emulator = Emulator::lock();
    let rt = Runtime::new().unwrap();
    let config = emulator_config(&rt, &emulator);
    let s3 = S3::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    rt.block_on(s3.create_bucket().bucket("team-templates").send())
        .unwrap();
    let staging = S3Staging::new(&config, None, Some("team-templates".into()));
    let body = "{\"Resources\": {}}".to_owned() + &" ".repeat(52_000);
    let url = rt.block_on(staging.upload_template("big", &body)).unwrap();
    let key = template_key("big", &body);
    assert_eq!(url, format!("{}/team-templates/{key}", emulator.endpoint));
    let object = rt
        .block_on(s3.get_object().bucket("team-templates").key(&key).send())
        .unwrap();
    let bytes = rt.block_on(object.body.collect()).unwrap().into_bytes();
    assert_eq!(bytes.len(), body.len());
    // Used as it is: no policy was added to a bucket little did not create.
    assert!(rt
        .block_on(s3.get_bucket_policy().bucket("team-templates").send())
        .is_err());
    // The same body again: the same key.
    let again = rt.block_on(staging.upload_template("big", &body)).unwrap();
    assert_eq!(again, url);
}
