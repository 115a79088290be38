//! The local stack against moto (AWS_ENDPOINT_URL; run through make test or
//! `infra/scripts/with-moto.sh -- cargo test -p switchboard-local-stack`).
//!
//! The drift test describes what moto really holds after `LocalStack::create` and compares it
//! with template.yaml as read by the tests' own YAML helpers, not by the crate's reader.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::TimeToLiveStatus;
use aws_sdk_sqs::types::QueueAttributeName;
use common::{
    getatt_target, literal, literal_or, moto_config, raw_template, ref_target, resources_of_type,
    s3_client, template_path, unique_prefix,
};
use serde_yaml::Value;
use switchboard_local_stack::{LocalStack, LocalStackError, PhysicalResource};

/// SQS defaults for attributes a template leaves out.
const DEFAULT_VISIBILITY_TIMEOUT: &str = "30";
const DEFAULT_RETENTION: &str = "345600";

fn queue_name(prefix: &str, id: &str, queue: &Value) -> String {
    if literal(&queue["Properties"]["FifoQueue"]).as_deref() == Some("true") {
        format!("{prefix}-{id}.fifo")
    } else {
        format!("{prefix}-{id}")
    }
}

async fn queue_attributes(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
) -> (String, BTreeMap<String, String>) {
    let url = sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "queue {name} does not exist: {}",
                aws_sdk_sqs::error::DisplayErrorContext(e)
            )
        })
        .queue_url
        .expect("GetQueueUrl returns a URL");
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "GetQueueAttributes {name}: {}",
                aws_sdk_sqs::error::DisplayErrorContext(e)
            )
        })
        .attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.as_str().to_owned(), v))
        .collect();
    (url, attributes)
}

/// A JSON number or a string holding one (SQS has returned both for maxReceiveCount).
fn json_count(value: &serde_json::Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

/// Every difference, so one run lists them all.
#[derive(Default)]
struct Drift(Vec<String>);

impl Drift {
    fn check(&mut self, what: String, actual: Option<&str>, expected: &str) {
        if actual != Some(expected) {
            self.0.push(format!(
                "{what}: moto has {actual:?}, the template says {expected:?}"
            ));
        }
    }

    fn note(&mut self, difference: String) {
        self.0.push(difference);
    }
}

#[tokio::test]
async fn local_stack_matches_template_on_moto() {
    let config = moto_config().await;
    let prefix = unique_prefix("drift");
    let stack = LocalStack::create(&config, &prefix, template_path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let template = raw_template();
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let s3 = s3_client(&config);
    let mut drift = Drift::default();

    // Queues
    let queues = resources_of_type(&template, "AWS::SQS::Queue");
    for (id, queue) in &queues {
        let name = queue_name(&prefix, id, queue);
        let (url, attributes) = queue_attributes(&sqs, &name).await;
        let p = &queue["Properties"];
        let attribute = |key: &str| attributes.get(key).map(String::as_str);
        drift.check(
            format!("{id} URL"),
            stack.resource(id).map(PhysicalResource::ref_value),
            &url,
        );
        drift.check(
            format!("{id} FifoQueue"),
            attribute("FifoQueue").or(Some("false")),
            &literal_or(&p["FifoQueue"], "false"),
        );
        drift.check(
            format!("{id} ContentBasedDeduplication"),
            attribute("ContentBasedDeduplication").or(Some("false")),
            &literal_or(&p["ContentBasedDeduplication"], "false"),
        );
        for key in [
            "DeduplicationScope",
            "FifoThroughputLimit",
            "SqsManagedSseEnabled",
        ] {
            if let Some(expected) = literal(&p[key]) {
                drift.check(format!("{id} {key}"), attribute(key), &expected);
            }
        }
        drift.check(
            format!("{id} VisibilityTimeout"),
            attribute("VisibilityTimeout"),
            &literal_or(&p["VisibilityTimeout"], DEFAULT_VISIBILITY_TIMEOUT),
        );
        drift.check(
            format!("{id} MessageRetentionPeriod"),
            attribute("MessageRetentionPeriod"),
            &literal_or(&p["MessageRetentionPeriod"], DEFAULT_RETENTION),
        );
        let redrive = &p["RedrivePolicy"];
        if redrive.is_null() {
            if let Some(actual) = attribute("RedrivePolicy") {
                drift.note(format!(
                    "{id}: moto has RedrivePolicy {actual}, the template has none"
                ));
            }
            continue;
        }
        let (target, _) = getatt_target(&redrive["deadLetterTargetArn"])
            .expect("deadLetterTargetArn is !GetAtt X.Arn");
        let target_queue = &template["Resources"][target.as_str()];
        let (_, target_attributes) =
            queue_attributes(&sqs, &queue_name(&prefix, &target, target_queue)).await;
        let Some(policy) = attribute("RedrivePolicy") else {
            drift.note(format!("{id}: moto has no RedrivePolicy"));
            continue;
        };
        let policy: serde_json::Value =
            serde_json::from_str(policy).expect("RedrivePolicy is JSON");
        drift.check(
            format!("{id} RedrivePolicy.deadLetterTargetArn"),
            policy["deadLetterTargetArn"].as_str(),
            target_attributes.get("QueueArn").expect("a QueueArn"),
        );
        drift.check(
            format!("{id} RedrivePolicy.maxReceiveCount"),
            json_count(&policy["maxReceiveCount"])
                .map(|n| n.to_string())
                .as_deref(),
            &literal_or(&redrive["maxReceiveCount"], "?"),
        );
    }

    // Tables
    let tables = resources_of_type(&template, "AWS::DynamoDB::Table");
    for (id, table) in &tables {
        let name = format!("{prefix}-{id}");
        let p = &table["Properties"];
        let description = dynamodb
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "table {name}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                )
            })
            .table
            .expect("DescribeTable returns the table");
        drift.check(
            format!("{id} name"),
            stack.resource(id).map(PhysicalResource::ref_value),
            &name,
        );
        let actual_keys: Vec<String> = description
            .key_schema()
            .iter()
            .map(|k| format!("{} {}", k.attribute_name(), k.key_type().as_str()))
            .collect();
        let expected_keys: Vec<String> = p["KeySchema"]
            .as_sequence()
            .expect("KeySchema is a list")
            .iter()
            .map(|k| {
                format!(
                    "{} {}",
                    literal_or(&k["AttributeName"], "?"),
                    literal_or(&k["KeyType"], "?")
                )
            })
            .collect();
        drift.check(
            format!("{id} KeySchema"),
            Some(&actual_keys.join(", ")),
            &expected_keys.join(", "),
        );
        let actual_attributes: BTreeSet<String> = description
            .attribute_definitions()
            .iter()
            .map(|a| format!("{} {}", a.attribute_name(), a.attribute_type().as_str()))
            .collect();
        let expected_attributes: BTreeSet<String> = p["AttributeDefinitions"]
            .as_sequence()
            .expect("AttributeDefinitions is a list")
            .iter()
            .map(|a| {
                format!(
                    "{} {}",
                    literal_or(&a["AttributeName"], "?"),
                    literal_or(&a["AttributeType"], "?")
                )
            })
            .collect();
        drift.check(
            format!("{id} AttributeDefinitions"),
            Some(&format!("{actual_attributes:?}")),
            &format!("{expected_attributes:?}"),
        );
        if let Some(billing) = literal(&p["BillingMode"]) {
            drift.check(
                format!("{id} BillingMode"),
                description
                    .billing_mode_summary()
                    .and_then(|b| b.billing_mode())
                    .map(|m| m.as_str()),
                &billing,
            );
        }
        let ttl = dynamodb
            .describe_time_to_live()
            .table_name(&name)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "DescribeTimeToLive {name}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                )
            })
            .time_to_live_description
            .expect("DescribeTimeToLive returns a description");
        let spec = &p["TimeToLiveSpecification"];
        if literal(&spec["Enabled"]).as_deref() == Some("true") {
            drift.check(
                format!("{id} TTL status"),
                ttl.time_to_live_status().map(|s| s.as_str()),
                "ENABLED",
            );
            drift.check(
                format!("{id} TTL attribute"),
                ttl.attribute_name(),
                &literal_or(&spec["AttributeName"], "?"),
            );
        } else if ttl.time_to_live_status() == Some(&TimeToLiveStatus::Enabled) {
            drift.note(format!(
                "{id}: TTL is enabled in moto but not in the template"
            ));
        }
    }

    // Buckets
    let buckets = resources_of_type(&template, "AWS::S3::Bucket");
    for (id, bucket) in &buckets {
        let name = format!("{prefix}-{id}").to_ascii_lowercase();
        let p = &bucket["Properties"];
        s3.head_bucket()
            .bucket(&name)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "bucket {name}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            });
        drift.check(
            format!("{id} name"),
            stack.resource(id).map(PhysicalResource::ref_value),
            &name,
        );
        let block = &p["PublicAccessBlockConfiguration"];
        if !block.is_null() {
            let actual = s3
                .get_public_access_block()
                .bucket(&name)
                .send()
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "GetPublicAccessBlock {name}: {}",
                        aws_sdk_s3::error::DisplayErrorContext(e)
                    )
                })
                .public_access_block_configuration
                .expect("a public access block");
            for (key, value) in [
                ("BlockPublicAcls", actual.block_public_acls()),
                ("BlockPublicPolicy", actual.block_public_policy()),
                ("IgnorePublicAcls", actual.ignore_public_acls()),
                ("RestrictPublicBuckets", actual.restrict_public_buckets()),
            ] {
                drift.check(
                    format!("{id} {key}"),
                    Some(&value.unwrap_or(false).to_string()),
                    &literal_or(&block[key], "false"),
                );
            }
        }
        let encryption = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
        if !encryption.is_null() {
            let rules = s3
                .get_bucket_encryption()
                .bucket(&name)
                .send()
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "GetBucketEncryption {name}: {}",
                        aws_sdk_s3::error::DisplayErrorContext(e)
                    )
                })
                .server_side_encryption_configuration
                .expect("an encryption configuration")
                .rules;
            let rule = rules.first().expect("one encryption rule");
            drift.check(
                format!("{id} SSEAlgorithm"),
                rule.apply_server_side_encryption_by_default()
                    .map(|d| d.sse_algorithm().as_str()),
                &literal_or(
                    &encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
                    "?",
                ),
            );
            if let Some(expected) = literal(&encryption["BucketKeyEnabled"]) {
                drift.check(
                    format!("{id} BucketKeyEnabled"),
                    Some(&rule.bucket_key_enabled().unwrap_or(false).to_string()),
                    &expected,
                );
            }
        }
        if let Some(expected) = literal(&p["OwnershipControls"]["Rules"][0]["ObjectOwnership"]) {
            let controls = s3
                .get_bucket_ownership_controls()
                .bucket(&name)
                .send()
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "GetBucketOwnershipControls {name}: {}",
                        aws_sdk_s3::error::DisplayErrorContext(e)
                    )
                })
                .ownership_controls
                .expect("ownership controls");
            drift.check(
                format!("{id} ObjectOwnership"),
                controls
                    .rules()
                    .first()
                    .map(|r| r.object_ownership().as_str()),
                &expected,
            );
        }
    }

    // Nothing missing, nothing extra.
    let secrets = resources_of_type(&template, "AWS::SecretsManager::Secret");
    let declared: BTreeSet<String> = queues
        .iter()
        .chain(&tables)
        .chain(&buckets)
        .chain(&secrets)
        .map(|(id, _)| id.clone())
        .collect();
    let created: BTreeSet<String> = stack.resources().keys().cloned().collect();
    assert_eq!(
        created, declared,
        "the local stack's resources are the template's queues, tables, buckets and secrets"
    );
    assert!(
        drift.0.is_empty(),
        "the local stack drifted from template.yaml:\n  {}",
        drift.0.join("\n  ")
    );
}

#[tokio::test]
async fn webhook_environment_resolves_to_local_resources() {
    let config = moto_config().await;
    let prefix = unique_prefix("env");
    let mut stack = LocalStack::create(&config, &prefix, template_path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let template = raw_template();
    let declared =
        template["Resources"]["WebhookFunction"]["Properties"]["Environment"]["Variables"]
            .as_mapping()
            .expect("WebhookFunction has Environment.Variables");
    let environment = stack
        .function_environment("WebhookFunction")
        .unwrap_or_else(|e| panic!("{e}"));
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let s3 = s3_client(&config);

    assert_eq!(
        environment.keys().collect::<BTreeSet<_>>(),
        declared
            .keys()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect::<BTreeSet<_>>()
            .iter()
            .collect(),
    );
    for (variable, expression) in declared {
        let variable = variable.as_str().expect("variable names are strings");
        let value = &environment[variable];
        assert!(!value.is_empty(), "{variable} resolved to an empty value");
        let Some(target) = ref_target(expression) else {
            if let Some(expected) = literal(expression) {
                assert_eq!(value, &expected, "{variable}");
            }
            continue;
        };
        if let Some(parameter) = template["Parameters"].get(target.as_str()) {
            assert_eq!(
                Some(value.clone()),
                literal(&parameter["Default"]),
                "{variable} = parameter {target}'s Default"
            );
            continue;
        }
        // A reference to a resource: the value must name something that really exists.
        match template["Resources"][target.as_str()]["Type"].as_str() {
            Some("AWS::SQS::Queue") => {
                sqs.get_queue_attributes()
                    .queue_url(value)
                    .send()
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "{variable}={value} is not a queue URL: {}",
                            aws_sdk_sqs::error::DisplayErrorContext(e)
                        )
                    });
            }
            Some("AWS::DynamoDB::Table") => {
                dynamodb
                    .describe_table()
                    .table_name(value)
                    .send()
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "{variable}={value} is not a table: {}",
                            aws_sdk_dynamodb::error::DisplayErrorContext(e)
                        )
                    });
            }
            Some("AWS::S3::Bucket") => {
                s3.head_bucket()
                    .bucket(value)
                    .send()
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "{variable}={value} is not a bucket: {}",
                            aws_sdk_s3::error::DisplayErrorContext(e)
                        )
                    });
            }
            other => panic!(
                "{variable} refers to {target} of type {other:?}, which the test does not know"
            ),
        }
    }

    // Overrides work like sam deploy --parameter-overrides, within AllowedValues.
    stack
        .set_parameter("LogLevel", "debug")
        .unwrap_or_else(|e| panic!("{e}"));
    let environment = stack
        .function_environment("WebhookFunction")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(environment["RUST_LOG"], "debug");
    assert!(matches!(
        stack.set_parameter("LogLevel", "verbose"),
        Err(LocalStackError::DisallowedParameterValue { .. })
    ));
    assert!(matches!(
        stack.set_parameter("NoSuchParameter", "x"),
        Err(LocalStackError::UnknownParameter { .. })
    ));
    assert!(matches!(
        stack.function_environment("NoSuchFunction"),
        Err(LocalStackError::UnknownFunction { .. })
    ));
}

#[tokio::test]
async fn creating_the_stack_again_is_idempotent() {
    let config = moto_config().await;
    let prefix = unique_prefix("again");
    let first = LocalStack::create(&config, &prefix, template_path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = LocalStack::create(&config, &prefix, template_path())
        .await
        .unwrap_or_else(|e| panic!("creating the same stack twice failed: {e}"));
    assert_eq!(first.resources(), second.resources());
}

#[tokio::test]
async fn an_existing_table_with_other_keys_is_reported_not_reused() {
    let config = moto_config().await;
    let prefix = unique_prefix("conflict");
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    dynamodb
        .create_table()
        .table_name(format!("{prefix}-ConfigTable"))
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(e)));
    let result = LocalStack::create(&config, &prefix, template_path()).await;
    match result {
        Err(LocalStackError::Conflict { logical_id, .. }) => assert_eq!(logical_id, "ConfigTable"),
        Err(other) => panic!("expected a conflict on ConfigTable, got: {other}"),
        Ok(_) => panic!("a ConfigTable with other keys was silently reused"),
    }
}

/// The bucket's encryption settings, as applied locally, still let the webhook write its
/// quarantine objects.
#[tokio::test]
async fn the_media_bucket_accepts_quarantine_writes() {
    let config = moto_config().await;
    let prefix = unique_prefix("media");
    let stack = LocalStack::create(&config, &prefix, template_path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let bucket = stack
        .resource("MediaBucket")
        .expect("a MediaBucket")
        .name()
        .to_owned();
    let s3 = s3_client(&config);
    s3.put_object()
        .bucket(&bucket)
        .key("quarantine/tenant/2026-11-21/body.bin")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"not json"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutObject: {}", aws_sdk_s3::error::DisplayErrorContext(e)));
    let object = s3
        .get_object()
        .bucket(&bucket)
        .key("quarantine/tenant/2026-11-21/body.bin")
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetObject: {}", aws_sdk_s3::error::DisplayErrorContext(e)));
    let body = object.body.collect().await.expect("the body").into_bytes();
    assert_eq!(&body[..], b"not json");
}

/// docs/failures.md, "anything past the queue's max receives → DLQ": on the stack the template makes, a message that
/// is received and never deleted moves to the ingest dead-letter queue after maxReceiveCount (5).
#[tokio::test]
async fn a_message_received_too_often_moves_to_the_dead_letter_queue() {
    let config = common::moto_config().await;
    let stack = switchboard_local_stack::LocalStack::create(
        &config,
        &common::unique_prefix("redrive"),
        common::template_path(),
    )
    .await
    .expect("stack");
    let queue = stack
        .resource("IngestQueue")
        .expect("IngestQueue")
        .ref_value()
        .to_owned();
    let dead_letters = stack
        .resource("IngestDeadLetterQueue")
        .expect("IngestDeadLetterQueue")
        .ref_value()
        .to_owned();
    let sqs = aws_sdk_sqs::Client::new(&config);
    sqs.send_message()
        .queue_url(&queue)
        .message_body("poison")
        .message_group_id("acme/c/1")
        .message_deduplication_id("poison-1")
        .send()
        .await
        .expect("send");

    let mut receives = 0;
    for _ in 0..10 {
        // Visibility 0: as if the consumer failed at once, so the next receive sees it again.
        let batch = sqs
            .receive_message()
            .queue_url(&queue)
            .visibility_timeout(0)
            .send()
            .await
            .expect("receive");
        if batch.messages().is_empty() {
            break;
        }
        receives += 1;
    }
    assert_eq!(
        receives, 5,
        "received maxReceiveCount times, then gone from the source queue"
    );
    let moved = sqs
        .receive_message()
        .queue_url(&dead_letters)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("receive from the DLQ");
    assert_eq!(moved.messages().len(), 1);
    assert_eq!(moved.messages()[0].body(), Some("poison"));
}

/// A value with no local counterpart (the CloudFront distribution's URL) is an error naming the
/// variable until it is given a local value; the value then replaces it in every function that
/// declares it, and nowhere else.
#[tokio::test]
async fn a_variable_with_no_local_counterpart_takes_the_value_given_for_it() {
    let config = moto_config().await;
    let template = switchboard_local_stack::Template::from_yaml_str(
        r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Cdn:
    Type: AWS::CloudFront::Distribution
    Properties: {DistributionConfig: {Enabled: true}}
  Work:
    Type: AWS::SQS::Queue
  Sender:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Environment:
        Variables:
          PUBLIC_BASE_URL: !Sub 'https://${Cdn.DomainName}'
          QUEUE: !Ref Work
  Other:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Environment:
        Variables:
          QUEUE: !Ref Work
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let prefix = unique_prefix("override");
    let mut stack = LocalStack::create_from_template(&config, &prefix, template)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let refused = stack.function_environment("Sender").unwrap_err();
    assert!(
        matches!(&refused, LocalStackError::Unresolvable { variable, .. } if variable == "PUBLIC_BASE_URL"),
        "{refused}"
    );
    assert!(
        refused
            .to_string()
            .contains("AWS::CloudFront::Distribution")
            && refused.to_string().contains("--env PUBLIC_BASE_URL="),
        "{refused}"
    );

    stack.set_environment("PUBLIC_BASE_URL", "http://127.0.0.1:3002");
    let sender = stack
        .function_environment("Sender")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sender["PUBLIC_BASE_URL"], "http://127.0.0.1:3002");
    assert!(
        sender["QUEUE"].ends_with(&format!("/{prefix}-Work")),
        "{sender:?}"
    );
    let other = stack
        .function_environment("Other")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!other.contains_key("PUBLIC_BASE_URL"), "{other:?}");
}

#[tokio::test]
async fn the_link_secret_is_generated_and_the_http_api_url_is_the_local_gateway() {
    let config = moto_config().await;
    let prefix = unique_prefix("link");
    let mut stack = LocalStack::create(&config, &prefix, template_path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let Some(PhysicalResource::Secret { arn, .. }) = stack.resource("MediaLinkSecret").cloned()
    else {
        panic!("MediaLinkSecret was not created as a secret");
    };
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let value = secrets
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .expect("the secret has a current version");
    let value = value.secret_string().expect("a string");
    // As GenerateSecretString: PasswordLength 64, ExcludePunctuation.
    assert_eq!(value.len(), 64);
    assert!(value.chars().all(|c| c.is_ascii_alphanumeric()));

    for function in ["MediaFunction", "MediaLinkFunction"] {
        let environment = stack.function_environment(function).unwrap();
        assert_eq!(
            environment["SWITCHBOARD_MEDIA_LINK_SECRET_ARN"], arn,
            "{function}"
        );
    }
    let media = stack.function_environment("MediaFunction").unwrap();
    assert_eq!(
        media["SWITCHBOARD_MEDIA_LINK_BASE_URL"],
        "http://127.0.0.1:3000"
    );
    stack.set_http_base_url("http://127.0.0.1:4000/");
    let media = stack.function_environment("MediaFunction").unwrap();
    assert_eq!(
        media["SWITCHBOARD_MEDIA_LINK_BASE_URL"],
        "http://127.0.0.1:4000"
    );

    // A second run keeps the key, so links issued before it keep working.
    let again = LocalStack::create(&config, &prefix, template_path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        again.resource("MediaLinkSecret"),
        stack.resource("MediaLinkSecret")
    );
}
