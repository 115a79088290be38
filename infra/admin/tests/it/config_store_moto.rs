//! The tenant config store against moto, in the ConfigTable that template.yaml declares, and the
//! `seed` command on the demo seed file that `make dev` uses.

use std::process::Command;

use aws_sdk_dynamodb::types::AttributeValue;
use secrecy::ExposeSecret;
use switchboard_local_stack::LocalStack;
use switchboard_shared::config::{ConfigStore, SeedFile, StoreError, TenantConfigSource, TenantId};

async fn config_table(test: &str) -> (aws_config::SdkConfig, String) {
    let sdk = switchboard_testkit::moto_config().await;
    let prefix = switchboard_testkit::unique_prefix(&format!("cfg-{test}"));
    let stack = LocalStack::create(&sdk, &prefix, switchboard_testkit::template_path())
        .await
        .expect("stack");
    let table = stack
        .resource("ConfigTable")
        .expect("ConfigTable")
        .name()
        .to_owned();
    (sdk, table)
}

async fn partition_items(
    sdk: &aws_config::SdkConfig,
    table: &str,
    pk: &str,
) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    switchboard_shared::aws::dynamodb_client(sdk)
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
        .send()
        .await
        .expect("query")
        .items
        .unwrap_or_default()
}

fn tenant_json(queues: serde_json::Value) -> String {
    serde_json::json!({ "tenants": [{
        "id": "acme",
        "retention": { "public_attachment_days": 3, "inbound_media_days": 14 },
        "services": [{ "name": "main", "region": "br", "project_id": "p-1", "app_ids": ["01APPA", "01APPB"],
            "access_key_id": "kid", "access_key_secret": "ksecret", "webhook_secret": "now", "previous_webhook_secret": "before",
            "api_base_url": "http://127.0.0.1:9999" }],
        "queues": queues
    }]})
    .to_string()
}

#[tokio::test]
async fn a_tenant_round_trips_and_a_rewrite_drops_what_it_no_longer_has() {
    let (sdk, table) = config_table("roundtrip").await;
    let store = ConfigStore::new(switchboard_shared::aws::dynamodb_client(&sdk), &table);
    let id = TenantId::parse("acme").unwrap();
    assert!(
        store.load_tenant(&id).await.unwrap().is_none(),
        "unknown tenant"
    );

    let seed = SeedFile::parse(&tenant_json(serde_json::json!([
        { "address": "01APPA@whatsapp.sinchconversation.com", "service": "main", "target_queue_url": "https://sqs.eu-west-1.amazonaws.com/111122223333/acme-events.fifo" },
        { "address": "01APPB@sms.sinchconversation.com", "service": "main", "sms_sender": "+15550100" }
    ])))
    .unwrap();
    store.put_tenant(&seed.tenants[0]).await.unwrap();
    let loaded = store
        .load_tenant(&id)
        .await
        .unwrap()
        .expect("stored tenant");
    assert_eq!(loaded.retention, seed.tenants[0].retention);
    assert_eq!(loaded.queues, seed.tenants[0].queues);
    let service = &loaded.services[0];
    assert_eq!(
        (service.region.as_str(), service.project_id.as_str()),
        ("br", "p-1")
    );
    assert_eq!(service.app_ids, ["01APPA", "01APPB"]);
    assert_eq!(service.webhook_secret.expose_secret(), "now");
    assert_eq!(
        service
            .previous_webhook_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned())
            .as_deref(),
        Some("before")
    );
    assert_eq!(service.api_base_url(), "http://127.0.0.1:9999");
    // The API credentials are not in the tenant's partition (the webhook reads that one) but
    // in their own, for the functions that call Sinch.
    assert!(service.access_key_id.is_none() && service.access_key_secret.is_none());
    let credentials = store
        .load_credentials(&id, &service.name)
        .await
        .unwrap()
        .expect("credentials");
    assert_eq!(
        (
            credentials.key_id.as_str(),
            credentials.key_secret.expose_secret()
        ),
        ("kid", "ksecret")
    );
    let tenant_partition = partition_items(&sdk, &table, "TENANT#acme").await;
    assert!(
        tenant_partition
            .iter()
            .all(|item| !item.contains_key("access_key_secret")
                && !item.contains_key("access_key_id")),
        "no credentials in the webhook's partition"
    );
    assert!(store.load_tenant_ids().await.unwrap().contains(&id));

    let fewer = SeedFile::parse(&tenant_json(serde_json::json!([
        { "address": "01APPA@whatsapp.sinchconversation.com", "service": "main" }
    ])))
    .unwrap();
    store.put_tenant(&fewer.tenants[0]).await.unwrap();
    let loaded = store.load_tenant(&id).await.unwrap().unwrap();
    assert_eq!(
        loaded.queues, fewer.tenants[0].queues,
        "the SMS queue was removed"
    );
}

#[tokio::test]
async fn a_corrupt_item_is_reported_not_half_loaded() {
    let (sdk, table) = config_table("corrupt").await;
    let client = switchboard_shared::aws::dynamodb_client(&sdk);
    let store = ConfigStore::new(client.clone(), &table);
    let seed = SeedFile::parse(&tenant_json(serde_json::json!([]))).unwrap();
    store.put_tenant(&seed.tenants[0]).await.unwrap();
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("TENANT#acme".into()))
        .key("sk", AttributeValue::S("SERVICE#main".into()))
        .update_expression("SET #r = :r")
        .expression_attribute_names("#r", "region")
        .expression_attribute_values(":r", AttributeValue::S("mars".into()))
        .send()
        .await
        .unwrap();
    let err = store
        .load_tenant(&TenantId::parse("acme").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("mars"));
}

#[tokio::test]
async fn media_settings_round_trip_and_an_item_without_them_reads_as_the_defaults() {
    let (sdk, table) = config_table("media").await;
    let client = switchboard_shared::aws::dynamodb_client(&sdk);
    let store = ConfigStore::new(client.clone(), &table);
    let id = TenantId::parse("acme").unwrap();
    let mut json: serde_json::Value =
        serde_json::from_str(&tenant_json(serde_json::json!([]))).unwrap();
    json["tenants"][0]["media"] = serde_json::json!({
        "max_bytes": 5_000_000, "allowed_types": ["image/*", "application/pdf"],
        "allowed_hosts": ["media.example.com", "*.cdn.example"], "display_name_lookups": false
    });
    let seed = SeedFile::parse(&json.to_string()).unwrap();
    store.put_tenant(&seed.tenants[0]).await.unwrap();
    let loaded = store.load_tenant(&id).await.unwrap().expect("stored");
    assert_eq!(loaded.media, seed.tenants[0].media);
    assert!(!loaded.media.display_name_lookups);

    // A TENANT item written before the media settings existed.
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("TENANT#acme".into()))
        .key("sk", AttributeValue::S("TENANT".into()))
        .update_expression("REMOVE media")
        .send()
        .await
        .unwrap();
    let loaded = store.load_tenant(&id).await.unwrap().expect("stored");
    assert_eq!(
        loaded.media,
        switchboard_shared::config::MediaSettings::default()
    );

    // A stored value that fails validation is reported, naming the field.
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("TENANT#acme".into()))
        .key("sk", AttributeValue::S("TENANT".into()))
        .update_expression("SET media = :m")
        .expression_attribute_values(
            ":m",
            AttributeValue::M(std::collections::HashMap::from([(
                "allowed_types".to_owned(),
                AttributeValue::L(vec![AttributeValue::S("text/html".into())]),
            )])),
        )
        .send()
        .await
        .unwrap();
    let err = store.load_tenant(&id).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("media.allowed_types"), "{err}");
}

#[tokio::test]
async fn outbound_settings_round_trip_and_an_item_without_them_reads_as_the_defaults() {
    let (sdk, table) = config_table("outbound").await;
    let client = switchboard_shared::aws::dynamodb_client(&sdk);
    let store = ConfigStore::new(client.clone(), &table);
    let id = TenantId::parse("acme").unwrap();
    let mut json: serde_json::Value =
        serde_json::from_str(&tenant_json(serde_json::json!([]))).unwrap();
    json["tenants"][0]["outbound"] = serde_json::json!({ "fetch_media_urls": true });
    let seed = SeedFile::parse(&json.to_string()).unwrap();
    store.put_tenant(&seed.tenants[0]).await.unwrap();
    let loaded = store.load_tenant(&id).await.unwrap().expect("stored");
    assert!(loaded.outbound.fetch_media_urls);

    // A TENANT item written before the outbound settings existed.
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("TENANT#acme".into()))
        .key("sk", AttributeValue::S("TENANT".into()))
        .update_expression("REMOVE outbound")
        .send()
        .await
        .unwrap();
    let loaded = store.load_tenant(&id).await.unwrap().expect("stored");
    assert_eq!(
        loaded.outbound,
        switchboard_shared::config::OutboundSettings::default()
    );

    // A stored value of the wrong type is reported, naming the field.
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("TENANT#acme".into()))
        .key("sk", AttributeValue::S("TENANT".into()))
        .update_expression("SET outbound = :o")
        .expression_attribute_values(
            ":o",
            AttributeValue::M(std::collections::HashMap::from([(
                "fetch_media_urls".to_owned(),
                AttributeValue::S("yes".into()),
            )])),
        )
        .send()
        .await
        .unwrap();
    let err = store.load_tenant(&id).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().contains("outbound.fetch_media_urls"),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_table_is_a_retryable_error() {
    let sdk = switchboard_testkit::moto_config().await;
    let store = ConfigStore::new(
        switchboard_shared::aws::dynamodb_client(&sdk),
        "no-such-table",
    );
    let err = store
        .load_tenant(&TenantId::parse("acme").unwrap())
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn the_seed_command_loads_the_demo_tenant_without_printing_secrets() {
    let (sdk, table) = config_table("seedcmd").await;
    let demo = switchboard_testkit::template_path()
        .parent()
        .unwrap()
        .join("infra/seed/demo.json");
    let output = Command::new(env!("CARGO_BIN_EXE_switchboard-admin"))
        .args(["seed", "--file"])
        .arg(&demo)
        .env("SWITCHBOARD_CONFIG_TABLE", &table)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("seeded tenant 'demo'"), "{stdout}");
    assert!(!stdout.contains("demo-webhook-secret") && !stdout.contains("demo-access-key-secret"));

    let store = ConfigStore::new(switchboard_shared::aws::dynamodb_client(&sdk), &table);
    let demo_tenant = store
        .load_tenant(&TenantId::parse("demo").unwrap())
        .await
        .unwrap()
        .expect("demo seeded");
    assert!(
        demo_tenant
            .service_for_app("01DEMOAPP00000000000000001")
            .is_some()
    );

    let bad = std::env::temp_dir().join(format!("bad-seed-{}.json", std::process::id()));
    std::fs::write(&bad, r#"{"tenants":[{"id":"Bad Id","services":[]}]}"#).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_switchboard-admin"))
        .args(["seed", "--file"])
        .arg(&bad)
        .env("SWITCHBOARD_CONFIG_TABLE", &table)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("Bad Id"));
}
