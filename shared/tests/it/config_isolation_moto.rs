//! Tenant isolation in the config store, against moto (a table with the config table's key
//! schema): an access key belongs to one tenant (a second tenant naming its id is refused and
//! nothing of it is written; the key is free again once its tenant stops naming it), and a
//! tenant's contact center (its senders and default target) round-trips, a tenant stored
//! without it reading as one that names no sender.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use switchboard_shared::config::{
    ConfigStore, SeedFile, SenderCheck, StoreError, TenantConfig, TenantConfigSource, TenantId,
};

async fn config_table() -> (aws_sdk_dynamodb::Client, String) {
    let sdk = switchboard_testkit::moto_config().await;
    let client = switchboard_shared::aws::dynamodb_client(&sdk);
    let name = switchboard_testkit::unique_prefix("cfg-iso");
    switchboard_shared::tables::create_table(&client, &name)
        .await
        .expect("create table");
    (client, name)
}

fn tenant(id: &str, app: &str, key_id: &str, key_secret: &str) -> TenantConfig {
    let seed = json!({ "tenants": [{
        "id": id,
        "services": [{ "name": "main", "region": "eu", "project_id": format!("p-{id}"),
            "app_ids": [app], "access_key_id": key_id, "access_key_secret": key_secret,
            "webhook_secret": format!("{id}-webhook") }],
        "contact_center": {
            "sender_ids": ["AROAEXAMPLEROLE00001", "AIDAEXAMPLEUSER00001"],
            "default_target_queue_url": format!("https://sqs.eu-west-1.amazonaws.com/123456789012/{id}-events.fifo")
        }
    }]});
    SeedFile::parse(&seed.to_string())
        .unwrap()
        .tenants
        .into_iter()
        .next()
        .unwrap()
}

fn id(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

#[tokio::test]
async fn two_tenants_naming_one_access_key_id_cannot_both_be_seeded() {
    let (client, table) = config_table().await;
    let store = ConfigStore::new(client, &table);
    store
        .put_tenant(&tenant("acme", "01ACMEAPP", "shared-key", "acme-secret"))
        .await
        .unwrap();
    let err = store
        .put_tenant(&tenant(
            "globex",
            "01GLOBEXAPP",
            "shared-key",
            "globex-guess",
        ))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Conflict { .. }), "{text}");
    assert!(!err.is_retryable());
    assert!(
        text.contains("services[0].access_key_id") && text.contains("tenant 'acme'"),
        "{text}"
    );
    assert!(
        !text.contains("acme-secret") && !text.contains("globex-guess"),
        "{text}"
    );
    assert!(
        store.load_tenant(&id("globex")).await.unwrap().is_none(),
        "nothing of the refused tenant is written"
    );
    assert!(
        store.load_tenant_ids().await.unwrap().len() == 1,
        "not in the tenant index"
    );
    assert_eq!(
        store
            .access_key_owner("shared-key")
            .await
            .unwrap()
            .as_deref(),
        Some("acme")
    );

    // Its own tenant writes it again as often as it likes.
    store
        .put_tenant(&tenant("acme", "01ACMEAPP", "shared-key", "rotated"))
        .await
        .unwrap();
    // Once acme moves to another key, the old one is free.
    store
        .put_tenant(&tenant("acme", "01ACMEAPP", "acme-key-2", "acme-secret"))
        .await
        .unwrap();
    assert_eq!(store.access_key_owner("shared-key").await.unwrap(), None);
    store
        .put_tenant(&tenant("globex", "01GLOBEXAPP", "shared-key", "globex-own"))
        .await
        .unwrap();
    let err = store
        .put_tenant(&tenant("acme", "01ACMEAPP", "shared-key", "x"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("tenant 'globex'"), "{err}");
}

#[tokio::test]
async fn the_contact_center_round_trips_and_its_absence_refuses_every_sender() {
    let (client, table) = config_table().await;
    let store = ConfigStore::new(client.clone(), &table);
    store
        .put_tenant(&tenant("acme", "01ACMEAPP", "acme-key", "s"))
        .await
        .unwrap();
    let loaded = store.load_tenant(&id("acme")).await.unwrap().unwrap();
    assert_eq!(
        loaded.contact_center.sender_ids,
        ["AROAEXAMPLEROLE00001", "AIDAEXAMPLEUSER00001"]
    );
    assert_eq!(
        loaded.contact_center.default_target_queue_url.as_deref(),
        Some("https://sqs.eu-west-1.amazonaws.com/123456789012/acme-events.fifo")
    );
    assert_eq!(
        loaded
            .contact_center
            .check_sender(Some("AROAEXAMPLEROLE00001:desk")),
        SenderCheck::Allowed
    );

    // A TENANT item written before contact_center existed.
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("TENANT#acme".into()))
        .key("sk", AttributeValue::S("TENANT".into()))
        .update_expression("REMOVE contact_center")
        .send()
        .await
        .unwrap();
    let legacy = store.load_tenant(&id("acme")).await.unwrap().unwrap();
    assert!(legacy.contact_center.sender_ids.is_empty());
    assert_eq!(
        legacy
            .contact_center
            .check_sender(Some("AROAEXAMPLEROLE00001:desk")),
        SenderCheck::TenantNamesNoSenders
    );

    // A malformed stored entry is a config error, naming the field.
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("TENANT#acme".into()))
        .key("sk", AttributeValue::S("TENANT".into()))
        .update_expression("SET contact_center = :cc")
        .expression_attribute_values(
            ":cc",
            AttributeValue::M(HashMap::from([(
                "sender_ids".to_owned(),
                AttributeValue::L(vec![AttributeValue::S("not an id".into())]),
            )])),
        )
        .send()
        .await
        .unwrap();
    let err = store.load_tenant(&id("acme")).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt { .. })
            && err.to_string().contains("contact_center.sender_ids[0]"),
        "{err}"
    );
}
