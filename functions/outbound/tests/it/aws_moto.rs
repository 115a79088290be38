//! The outbound function's AWS adapters against moto: HeadObject of agents' attachments (found,
//! missing) and the upload of a fetched media URL's copy, the Sinch credentials from the config table's `SECRETS#` partition, reply claims
//! that store and return the whole send_result, and the send_result on a FIFO queue with its
//! message group and de-duplication id.

use std::time::Duration;

use chrono::Utc;
use secrecy::ExposeSecret;
use switchboard_outbound::media::{OutboundObjects, S3OutboundObjects};
use switchboard_shared::config::credentials::CredentialSource;
use switchboard_shared::config::{ConfigStore, SeedFile, ServiceName, TenantId};
use switchboard_shared::event_queue::{EventQueue, Outgoing, SqsEventQueue};
use switchboard_shared::media::store::{MediaStore, Upload};
use switchboard_shared::sqs::FifoMessage;
use switchboard_shared::state::idempotency::{Claim, DynamoIdempotency, IdempotencyStore};

use switchboard_testkit::moto_config as sdk;

fn unique(what: &str) -> String {
    switchboard_testkit::unique_prefix(&format!("outbound-{what}"))
}

async fn table(client: &aws_sdk_dynamodb::Client) -> String {
    let name = unique("table");
    switchboard_shared::tables::create_table(client, &name)
        .await
        .expect("create table");
    name
}

#[tokio::test]
async fn an_attachment_is_found_by_its_key_and_a_missing_one_is_none() {
    let sdk = sdk().await;
    let s3 = switchboard_shared::aws::s3_client(&sdk);
    let bucket = unique("bucket");
    let mut create = s3.create_bucket().bucket(&bucket);
    if let Some(region) = sdk
        .region()
        .map(|r| r.to_string())
        .filter(|r| r != "us-east-1")
    {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    region.as_str(),
                ))
                .build(),
        );
    }
    create.send().await.unwrap();
    let key = "outbound/acme/2026-11-21/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/invoice.pdf";
    s3.put_object()
        .bucket(&bucket)
        .key(key)
        .content_type("application/pdf")
        .body(b"%PDF-1.7 tiny".to_vec().into())
        .send()
        .await
        .unwrap();
    let objects = S3OutboundObjects::new(s3, &bucket);
    let found = objects.head(key).await.unwrap().expect("the object");
    assert_eq!(found.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(found.size_bytes, Some(13));
    assert_eq!(
        objects
            .head("outbound/acme/2026-11-21/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/other.pdf")
            .await
            .unwrap(),
        None
    );

    // A fetched media URL's copy goes through the same adapter, and is then found like any
    // agent's attachment, with the type it was stored with.
    let fetched = "outbound/acme/2026-12-01/0123456789abcdef0123456789abcdef/photo.png";
    let mut upload = objects.begin(fetched, "image/png", "photo.png");
    upload
        .write(bytes::Bytes::from_static(b"\x89PNG\r\n\x1a\nrest"))
        .await
        .unwrap();
    let stored = upload.finish().await.unwrap();
    assert_eq!(stored.size_bytes, 12);
    let found = objects.head(fetched).await.unwrap().expect("the copy");
    assert_eq!(found.content_type.as_deref(), Some("image/png"));
    assert_eq!(found.size_bytes, Some(12));
}

#[tokio::test]
async fn credentials_come_from_the_secrets_partition() {
    let sdk = sdk().await;
    let dynamodb = switchboard_shared::aws::dynamodb_client(&sdk);
    let store = ConfigStore::new(dynamodb.clone(), table(&dynamodb).await);
    let seed = serde_json::json!({"tenants": [{"id": "acme", "services": [{
        "name": "main", "region": "eu", "project_id": "p", "app_ids": ["01APP"],
        "access_key_id": "key-1", "access_key_secret": "secret-1", "webhook_secret": "w"}]}]});
    for tenant in SeedFile::parse(&seed.to_string()).unwrap().tenants {
        store.put_tenant(&tenant).await.unwrap();
    }
    let tenant = TenantId::parse("acme").unwrap();
    let found = CredentialSource::load(&store, &tenant, &ServiceName::parse("main").unwrap())
        .await
        .unwrap()
        .expect("credentials");
    assert_eq!(found.key_id, "key-1");
    assert_eq!(found.key_secret.expose_secret(), "secret-1");
    let none = CredentialSource::load(&store, &tenant, &ServiceName::parse("other").unwrap())
        .await
        .unwrap();
    assert!(none.is_none());
}

#[tokio::test]
async fn a_reply_claim_keeps_the_whole_result_for_the_next_delivery() {
    let sdk = sdk().await;
    let dynamodb = switchboard_shared::aws::dynamodb_client(&sdk);
    let claims = DynamoIdempotency::new(
        dynamodb.clone(),
        table(&dynamodb).await,
        switchboard_outbound::IDEMPOTENCY_SCOPE,
    );
    let (lease, ttl) = (Duration::from_secs(60), Duration::from_secs(14 * 86_400));
    let now = Utc::now();
    let key = "acme#cc-reply-1";
    assert_eq!(
        claims.claim(key, "w1", now, lease, ttl).await.unwrap(),
        Claim::Acquired
    );
    // A send_result as stored: JSON with characters of every kind.
    let result = r#"{"kind":"send_result","reply_id":"cc-reply-1","text":"Grüße \"quoted\" 🙂"}"#;
    claims.complete(key, "w1", result, now, ttl).await.unwrap();
    assert_eq!(
        claims.claim(key, "w2", now, lease, ttl).await.unwrap(),
        Claim::Done {
            result: result.to_owned()
        }
    );
}

#[tokio::test]
async fn a_send_result_goes_to_a_fifo_queue_in_its_group_once() {
    let sdk = sdk().await;
    let sqs = switchboard_shared::aws::sqs_client(&sdk);
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("{}.fifo", unique("events")))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue = SqsEventQueue::new(sqs.clone());
    let outgoing = Outgoing {
        queue_url: queue_url.clone(),
        message: FifoMessage::text(
            r#"{"kind":"send_result"}"#.into(),
            "acme/c/01CONV",
            "a".repeat(64),
            &[("kind", "send_result"), ("tenant", "acme")],
        )
        .unwrap(),
    };
    queue.send(&outgoing).await.unwrap();
    queue.send(&outgoing).await.unwrap();
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(received.len(), 1, "de-duplicated by its id");
    let message = &received[0];
    assert_eq!(message.body(), Some(r#"{"kind":"send_result"}"#));
    let group = message
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId));
    assert_eq!(group.map(String::as_str), Some("acme/c/01CONV"));
    let kind = message
        .message_attributes()
        .and_then(|a| a.get("kind"))
        .and_then(|v| v.string_value());
    assert_eq!(kind, Some("send_result"));

    // A result for a body too broken to name its tenant still goes (SQS refuses empty
    // attribute values, moto does not: the rule itself is tested in shared/src/sqs.rs).
    let nameless = Outgoing {
        queue_url: queue_url.clone(),
        message: FifoMessage::text(
            r#"{"kind":"send_result"}"#.into(),
            "acme/c/01CONV",
            "b".repeat(64),
            &[("kind", "send_result"), ("tenant", "")],
        )
        .unwrap(),
    };
    queue
        .send(&nameless)
        .await
        .expect("sent without a tenant attribute");
}
