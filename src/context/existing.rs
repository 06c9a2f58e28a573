//! Which resources of a rendered template already exist in the account, outside the stack:
//! matched by physical name (an ECR repository's `RepositoryName`, an IAM role's `RoleName`, an
//! S3 bucket's `BucketName`, an SQS queue's `QueueName`, an SNS topic's `TopicName`, a KMS
//! alias's `AliasName`), with what they hold (a repository's images, whether a bucket holds
//! objects) and, for repositories and roles, how they differ from the template (the drift
//! comparison of [`super::compare`]; the other types are not compared). `plan` flags them (a new stack would fail with
//! "already exists"), `adopt` imports them. Not here: the import itself (`deploy::adopt`).

use serde_json::Value;

use crate::aws::connect::Clients;
use crate::aws::drift::PropertyDifference;
use crate::aws::import::{import_key, ImportKey};
use crate::aws::named::BucketState;
use crate::aws::stack_ops::StackResource;
use crate::error::{Error, Result};
use crate::text::plural;

/// A template resource that exists already, and may be imported.
#[derive(Debug, Clone, PartialEq)]
pub struct Existing {
    pub logical_id: String,
    pub resource_type: String,
    /// Its physical name (`team-a/api`).
    pub name: String,
    /// The identifier of `ResourcesToImport`: key and value.
    pub identifier: (String, String),
    /// For people: "repository `team-a/api` exists with 312 images".
    pub summary: String,
    /// Where the live resource differs from the template (the second change set changes it).
    pub differences: Vec<PropertyDifference>,
    /// Properties not compared: built with intrinsic functions.
    pub skipped: Vec<String>,
    /// Whether the live resource was compared with the template at all (repositories and
    /// roles are; buckets, queues, topics and KMS aliases are not).
    pub compared: bool,
}

/// What became of looking up one template resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Exists(Existing),
    /// Its type can be imported and its name is a literal, but nothing has that name: the
    /// stack creates it.
    Missing {
        logical_id: String,
        resource_type: String,
        name: String,
        noun: &'static str,
    },
    /// It cannot be matched by name: why (a type `little adopt` does not import, a name the
    /// template computes or leaves to CloudFormation, a type not looked up).
    Unmatched {
        logical_id: String,
        resource_type: String,
        reason: String,
    },
}

impl Found {
    pub fn logical_id(&self) -> &str {
        match self {
            Found::Exists(e) => &e.logical_id,
            Found::Missing { logical_id, .. } | Found::Unmatched { logical_id, .. } => logical_id,
        }
    }
}

/// The resources of `template` that `old` (the deployed template; `None` for a new stack) does
/// not hold: the ones a change set would add, in template order.
pub fn added(template: &Value, old: Option<&Value>) -> Vec<String> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let held = old
        .and_then(|o| o.get("Resources"))
        .and_then(Value::as_object);
    resources
        .keys()
        .filter(|id| !held.is_some_and(|h| h.contains_key(*id)))
        .cloned()
        .collect()
}

/// Looks up each of `logical_ids` (resources of `template`) by its physical name.
pub async fn look_up(
    clients: &Clients,
    template: &Value,
    logical_ids: &[String],
) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    for id in logical_ids {
        let resource = &template["Resources"][id];
        let resource_type = resource["Type"].as_str().unwrap_or_default().to_owned();
        let unmatched = |reason: String| Found::Unmatched {
            logical_id: id.clone(),
            resource_type: resource_type.clone(),
            reason,
        };
        let key = match import_key(&resource_type) {
            Ok(key) => key,
            Err(reason) => {
                found.push(unmatched(reason));
                continue;
            }
        };
        let properties = resource.get("Properties").cloned().unwrap_or(Value::Null);
        let Some(name) = properties
            .get(key.name_property)
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            found.push(unmatched(format!(
                "its {} is not a literal in the template (computed, or left to CloudFormation): \
                 there is no name to look up",
                key.name_property
            )));
            continue;
        };
        found.push(look_up_one(clients, id, key, &name, &properties).await?);
    }
    Ok(found)
}

async fn look_up_one(
    clients: &Clients,
    id: &str,
    key: &'static ImportKey,
    name: &str,
    properties: &Value,
) -> Result<Found> {
    let resource = StackResource {
        logical_id: id.to_owned(),
        physical_id: Some(name.to_owned()),
        resource_type: key.resource_type.to_owned(),
        status: String::new(),
        drift_status: None,
    };
    let missing = || Found::Missing {
        logical_id: id.to_owned(),
        resource_type: key.resource_type.to_owned(),
        name: name.to_owned(),
        noun: key.noun,
    };
    let mut skipped = Vec::new();
    let (summary, differences) = match key.resource_type {
        "AWS::ECR::Repository" => {
            let Some(facts) = clients.drift.repository(name).await? else {
                return Ok(missing());
            };
            let images = clients.ecr.images(name).await?.len();
            let drift = super::compare::compare_repository(
                &resource,
                properties,
                Some(&facts),
                &mut skipped,
            );
            (
                format!(
                    "repository `{name}` exists with {}",
                    plural(images, "image", "images")
                ),
                drift.differences,
            )
        }
        "AWS::IAM::Role" => {
            let Some(facts) = clients.iam.role(name).await? else {
                return Ok(missing());
            };
            let drift =
                super::compare::compare_role(&resource, properties, Some(&facts), &mut skipped);
            (format!("role `{name}` exists"), drift.differences)
        }
        "AWS::S3::Bucket" => {
            let account = clients.caller.as_ref().map(|c| c.identity.account.as_str());
            let holds = match clients.named.bucket(name, account).await? {
                BucketState::Missing => return Ok(missing()),
                BucketState::Owned { holds_objects } => holds_objects,
                BucketState::Forbidden => {
                    return Err(Error::Aws {
                        operation: "s3:HeadBucket".into(),
                        message: format!(
                            "`{id}`: bucket `{name}` exists but S3 refuses to show it (403): it \
                             belongs to another account (bucket names are global), or these \
                             credentials lack s3:ListBucket on it; it cannot be adopted: rename \
                             it in the template or grant the permission"
                        ),
                    })
                }
                BucketState::OtherRegion(region) => {
                    return Err(Error::Aws {
                        operation: "s3:HeadBucket".into(),
                        message: format!(
                            "`{id}`: bucket `{name}` exists in another region{}, not `{}`; a \
                             stack imports only resources of its own region",
                            region.map(|r| format!(" (`{r}`)")).unwrap_or_default(),
                            clients.region
                        ),
                    })
                }
            };
            let summary = if holds {
                format!("bucket `{name}` exists and holds objects")
            } else {
                format!("bucket `{name}` exists, empty")
            };
            return Ok(uncompared(id, key, name, name.to_owned(), summary));
        }
        "AWS::SQS::Queue" => {
            let Some(url) = clients.named.queue_url(name).await? else {
                return Ok(missing());
            };
            let summary = format!("queue `{name}` exists ({url})");
            return Ok(uncompared(id, key, name, url, summary));
        }
        "AWS::SNS::Topic" => {
            let Some(caller) = &clients.caller else {
                return Ok(Found::Unmatched {
                    logical_id: id.to_owned(),
                    resource_type: key.resource_type.to_owned(),
                    reason: "the account is not known, so neither is the topic's ARN".into(),
                });
            };
            let partition = caller.identity.arn.split(':').nth(1).unwrap_or("aws");
            let arn = format!(
                "arn:{partition}:sns:{}:{}:{name}",
                clients.region, caller.identity.account
            );
            if !clients.named.topic_exists(&arn).await? {
                return Ok(missing());
            }
            let summary = format!("topic `{name}` exists ({arn})");
            return Ok(uncompared(id, key, name, arn, summary));
        }
        "AWS::KMS::Alias" => {
            if !clients.named.kms_alias_exists(name).await? {
                return Ok(missing());
            }
            let summary = format!("KMS alias `{name}` exists");
            return Ok(uncompared(id, key, name, name.to_owned(), summary));
        }
        other => {
            return Ok(Found::Unmatched {
                logical_id: id.to_owned(),
                resource_type: other.to_owned(),
                reason: format!("this version of `little` does not look up {}s", key.noun),
            })
        }
    };
    Ok(Found::Exists(Existing {
        logical_id: id.to_owned(),
        resource_type: key.resource_type.to_owned(),
        name: name.to_owned(),
        identifier: (key.identifier.to_owned(), name.to_owned()),
        summary,
        differences,
        skipped,
        compared: true,
    }))
}

/// A resource found by name whose properties are not compared with the template.
fn uncompared(id: &str, key: &ImportKey, name: &str, identifier: String, summary: String) -> Found {
    Found::Exists(Existing {
        logical_id: id.to_owned(),
        resource_type: key.resource_type.to_owned(),
        name: name.to_owned(),
        identifier: (key.identifier.to_owned(), identifier),
        summary,
        differences: Vec::new(),
        skipped: Vec::new(),
        compared: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn added_resources_are_the_ones_the_deployed_template_lacks() {
        let template = json!({"Resources": {"A": {"Type": "X"}, "B": {"Type": "Y"}}});
        assert_eq!(added(&template, None), vec!["A", "B"]);
        let old = json!({"Resources": {"A": {"Type": "X"}}});
        assert_eq!(added(&template, Some(&old)), vec!["B"]);
        assert!(added(&json!({}), None).is_empty());
    }

    fn template() -> Value {
        json!({"Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "team-a-data"}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}},
            "Alias": {"Type": "AWS::KMS::Alias",
                      "Properties": {"AliasName": "alias/team-a", "TargetKeyId": "k"}},
        }})
    }

    async fn clients(aws: &std::sync::Arc<crate::testing::fake_aws::FakeAws>) -> Clients {
        use crate::aws::connect::Connect;
        let connect = crate::testing::fake_aws::FakeConnect(aws.clone());
        let mut c = connect.clients(Some("eu-west-1"), None).await.unwrap();
        c.caller = Some(connect.caller(Some("eu-west-1"), None).await.unwrap());
        c
    }

    fn ids() -> Vec<String> {
        ["Bucket", "Queue", "Topic", "Alias"]
            .map(String::from)
            .to_vec()
    }

    #[tokio::test]
    async fn buckets_queues_topics_and_aliases_are_found_by_name() {
        let aws = std::sync::Arc::new(crate::testing::fake_aws::FakeAws::default());
        aws.buckets.lock().unwrap().insert(
            "team-a-data".into(),
            BucketState::Owned {
                holds_objects: true,
            },
        );
        let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs";
        aws.queues.lock().unwrap().insert("jobs".into(), url.into());
        let arn = "arn:aws:sns:eu-west-1:123456789012:alerts";
        aws.topics.lock().unwrap().insert(arn.into());
        aws.kms_aliases
            .lock()
            .unwrap()
            .insert("alias/team-a".into());
        let found = look_up(&clients(&aws).await, &template(), &ids())
            .await
            .unwrap();
        let exists: Vec<&Existing> = found
            .iter()
            .map(|f| match f {
                Found::Exists(e) => e,
                other => panic!("not found: {other:?}"),
            })
            .collect();
        let idents: Vec<(&str, &str)> = exists
            .iter()
            .map(|e| (e.identifier.0.as_str(), e.identifier.1.as_str()))
            .collect();
        assert_eq!(
            idents,
            vec![
                ("BucketName", "team-a-data"),
                ("QueueUrl", url),
                ("TopicArn", arn),
                ("AliasName", "alias/team-a"),
            ]
        );
        assert_eq!(
            exists[0].summary,
            "bucket `team-a-data` exists and holds objects"
        );
        assert!(exists
            .iter()
            .all(|e| !e.compared && e.differences.is_empty()));
        aws.buckets.lock().unwrap().insert(
            "team-a-data".into(),
            BucketState::Owned {
                holds_objects: false,
            },
        );
        let found = look_up(&clients(&aws).await, &template(), &ids()[..1])
            .await
            .unwrap();
        assert!(
            matches!(&found[0], Found::Exists(e) if e.summary == "bucket `team-a-data` exists, empty"),
            "{found:?}"
        );
    }

    #[tokio::test]
    async fn what_does_not_exist_is_missing_by_name() {
        let aws = std::sync::Arc::new(crate::testing::fake_aws::FakeAws::default());
        // A topic of that name in another region is not this one.
        aws.topics
            .lock()
            .unwrap()
            .insert("arn:aws:sns:us-east-1:123456789012:alerts".into());
        let found = look_up(&clients(&aws).await, &template(), &ids())
            .await
            .unwrap();
        let missing: Vec<(&str, &str)> = found
            .iter()
            .map(|f| match f {
                Found::Missing { name, noun, .. } => (*noun, name.as_str()),
                other => panic!("not missing: {other:?}"),
            })
            .collect();
        assert_eq!(
            missing,
            vec![
                ("bucket", "team-a-data"),
                ("queue", "jobs"),
                ("topic", "alerts"),
                ("KMS alias", "alias/team-a"),
            ]
        );
        assert!(aws
            .calls
            .lock()
            .unwrap()
            .contains(&"GetTopicAttributes arn:aws:sns:eu-west-1:123456789012:alerts".into()));
    }

    #[tokio::test]
    async fn a_bucket_s3_refuses_to_show_is_an_error_naming_it() {
        let aws = std::sync::Arc::new(crate::testing::fake_aws::FakeAws::default());
        aws.buckets
            .lock()
            .unwrap()
            .insert("team-a-data".into(), BucketState::Forbidden);
        let err = look_up(&clients(&aws).await, &template(), &ids()[..1])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`Bucket`") && err.contains("`team-a-data`"),
            "{err}"
        );
        assert!(err.contains("another account"), "{err}");
        aws.buckets.lock().unwrap().insert(
            "team-a-data".into(),
            BucketState::OtherRegion(Some("us-west-2".into())),
        );
        let err = look_up(&clients(&aws).await, &template(), &ids()[..1])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`us-west-2`") && err.contains("`eu-west-1`"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_topic_of_an_unknown_account_is_not_looked_up() {
        let aws = std::sync::Arc::new(crate::testing::fake_aws::FakeAws::default());
        let mut c = clients(&aws).await;
        c.caller = None;
        let found = look_up(&c, &template(), &["Topic".into()]).await.unwrap();
        assert!(
            matches!(&found[0], Found::Unmatched { reason, .. } if reason.contains("account")),
            "{found:?}"
        );
    }
}
