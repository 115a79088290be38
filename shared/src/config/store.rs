//! Tenant configuration in DynamoDB.
//!
//! A tenant's items share one partition (`pk = TENANT#{id}`), so loading a tenant, with every
//! service, app id and queue, is a single Query. Two more partitions keep what not every
//! function may read or needs:
//!
//! | pk               | sk                 | attributes                                                  |
//! |------------------|--------------------|-------------------------------------------------------------|
//! | `TENANT#{id}`    | `TENANT`           | `public_attachment_days`, `inbound_media_days`, `media`?, `outbound`?, `contact_center`? |
//! | `TENANT#{id}`    | `SERVICE#{name}`   | `region`, `project_id`, `app_ids`, `webhook_secret`, `previous_webhook_secret`?, `api_base_url`? |
//! | `TENANT#{id}`    | `QUEUE#{address}`  | `service`, `target_queue_url`?, `sms_sender`?                |
//! | `TENANTS`        | `{id}`             | (none): the index of tenant ids                             |
//! | `SECRETS#{id}`   | `SERVICE#{name}`   | `access_key_id`, `access_key_secret` (Sinch API credentials) |
//! | `ACCESS_KEYS`    | `{access_key_id}`  | `tenant`: which tenant's services use this access key        |
//!
//! `media` is a map (`max_bytes` N, `allowed_types` L, `allowed_hosts` L, `display_name_lookups`
//! BOOL); a `TENANT` item without it, or without one of its entries, reads as the defaults, so
//! items written before the media settings existed load unchanged. `outbound` is a map
//! (`fetch_media_urls` BOOL), read the same way. `contact_center` is a map (`sender_ids` L,
//! `default_target_queue_url` S?); a `TENANT` item without it reads as a tenant that names no
//! sender, which refuses every agent command (see `config::contact_center`).
//!
//! `ACCESS_KEYS` makes an access key one tenant's: [`ConfigStore::put_tenant`] refuses a tenant
//! whose service names an access key id another tenant's service uses (one GetItem per key id to
//! find the owner, then a conditional put, so two writers cannot both take it). A tenant's items
//! there go when it stops naming the key. Tenants seeded before the index existed enter it at
//! their next seed.
//!
//! The webhook's IAM policy reaches only the `TENANT#*` and `TENANTS` partitions (a
//! `dynamodb:LeadingKeys` condition in template.yaml), so the internet-facing function can
//! verify callbacks but never read the credentials that send messages. The index lets it refuse
//! a made-up tenant name without a Query per name.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use secrecy::{ExposeSecret, SecretString};

use super::contact_center::ContactCenterSettings;
use super::media::MediaSettings;
use super::model::{
    MessagingService, QueueConfig, Region, Retention, ServiceName, TenantConfig, TenantId,
};
use super::outbound::OutboundSettings;

type Item = HashMap<String, AttributeValue>;

/// The partition listing every tenant id.
const TENANT_INDEX_PK: &str = "TENANTS";

/// The partition naming, per access key id, the tenant whose services use it.
const ACCESS_KEY_INDEX_PK: &str = "ACCESS_KEYS";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB did not answer or refused: worth retrying.
    #[error("config store unavailable: {0}")]
    Unavailable(String),
    /// The stored items do not form a valid configuration: an operator must fix them.
    #[error("config of tenant '{tenant}' is invalid in the store: {problem}")]
    Corrupt { tenant: String, problem: String },
    /// The tenant cannot be written as it is (it conflicts with another tenant): nothing of it
    /// was written.
    #[error("tenant '{tenant}' refused: {problem}")]
    Conflict { tenant: String, problem: String },
}

impl StoreError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// Where tenant configuration comes from (DynamoDB in production; a seam for the cache).
pub trait TenantConfigSource: Send + Sync {
    /// The tenant without its services' API credentials.
    fn load_tenant(
        &self,
        id: &TenantId,
    ) -> impl Future<Output = Result<Option<TenantConfig>, StoreError>> + Send;

    /// Every tenant id that exists.
    fn load_tenant_ids(&self)
    -> impl Future<Output = Result<HashSet<TenantId>, StoreError>> + Send;
}

/// A service's Sinch API credentials (OAuth2 client credentials).
#[derive(Debug, Clone)]
pub struct ApiCredentials {
    pub key_id: String,
    pub key_secret: SecretString,
}

#[derive(Debug, Clone)]
pub struct ConfigStore {
    client: Client,
    table: String,
}

fn tenant_pk(id: &TenantId) -> String {
    format!("TENANT#{id}")
}

fn secrets_pk(id: &TenantId) -> String {
    format!("SECRETS#{id}")
}

fn unavailable<E>(
    operation: &'static str,
) -> impl FnOnce(
    aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |err| {
        StoreError::Unavailable(crate::error::AwsError::from_sdk(operation, &err).to_string())
    }
}

impl ConfigStore {
    pub fn new(client: Client, table: impl Into<String>) -> ConfigStore {
        ConfigStore {
            client,
            table: table.into(),
        }
    }

    /// Writes a tenant's whole configuration, removing items it no longer has.
    pub async fn put_tenant(&self, tenant: &TenantConfig) -> Result<(), StoreError> {
        tenant
            .validate_complete()
            .map_err(|err| StoreError::Corrupt {
                tenant: tenant.id.to_string(),
                problem: err.to_string(),
            })?;
        let key_ids = self.claim_access_keys(tenant).await?;
        let previous_key_ids: Vec<String> = self
            .query_partition(&secrets_pk(&tenant.id))
            .await?
            .iter()
            .filter_map(|item| string(item, "access_key_id"))
            .map(str::to_owned)
            .collect();
        let pk = tenant_pk(&tenant.id);
        let mut items = vec![tenant_item(tenant)];
        items.extend(tenant.services.iter().map(service_item));
        items.extend(tenant.queues.iter().map(queue_item));
        self.replace_partition(&pk, items).await?;
        let secrets = tenant
            .services
            .iter()
            .filter_map(credentials_item)
            .collect();
        self.replace_partition(&secrets_pk(&tenant.id), secrets)
            .await?;
        for stale in previous_key_ids
            .iter()
            .filter(|id| !key_ids.contains(&id.as_str()))
        {
            self.release_access_key(&tenant.id, stale).await?;
        }
        // Last, so the webhook never knows a tenant whose items are not written yet.
        self.put(Item::from([
            ("pk".into(), AttributeValue::S(TENANT_INDEX_PK.into())),
            ("sk".into(), AttributeValue::S(tenant.id.to_string())),
        ]))
        .await
    }

    /// The tenant whose services use `key_id`, when one does (one GetItem).
    pub async fn access_key_owner(&self, key_id: &str) -> Result<Option<String>, StoreError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(ACCESS_KEY_INDEX_PK.into()))
            .key("sk", AttributeValue::S(key_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable("GetItem"))?;
        Ok(answer
            .item
            .as_ref()
            .and_then(|item| string(item, "tenant"))
            .map(str::to_owned))
    }

    /// Makes every access key id of `tenant`'s services its own in the `ACCESS_KEYS` index, or
    /// refuses the tenant (before anything of it is written) when another tenant's service uses
    /// one. Returns the tenant's key ids.
    async fn claim_access_keys<'t>(
        &self,
        tenant: &'t TenantConfig,
    ) -> Result<Vec<&'t str>, StoreError> {
        let mut named: Vec<(usize, &str)> = Vec::new();
        for (index, service) in tenant.services.iter().enumerate() {
            if let Some(id) = service.access_key_id.as_deref()
                && !named.iter().any(|(_, seen)| *seen == id)
            {
                named.push((index, id));
            }
        }
        let conflict = |index: usize, owner: &str| StoreError::Conflict {
            tenant: tenant.id.to_string(),
            problem: match TenantId::parse(owner) {
                Ok(owner) => super::model::access_key_reused(index, &owner),
                Err(_) => format!(
                    "services[{index}].access_key_id is already another tenant's access key"
                ),
            },
        };
        // Every key is looked up before any is claimed, so a refused tenant claims nothing.
        for (index, id) in &named {
            if let Some(owner) = self.access_key_owner(id).await?
                && owner != tenant.id.as_str()
            {
                return Err(conflict(*index, &owner));
            }
        }
        for (index, id) in &named {
            let claimed = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", AttributeValue::S(ACCESS_KEY_INDEX_PK.into()))
                .item("sk", AttributeValue::S((*id).to_owned()))
                .item("tenant", AttributeValue::S(tenant.id.to_string()))
                .condition_expression("attribute_not_exists(pk) OR #tenant = :tenant")
                .expression_attribute_names("#tenant", "tenant")
                .expression_attribute_values(":tenant", AttributeValue::S(tenant.id.to_string()))
                .send()
                .await;
            match claimed {
                Ok(_) => {}
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    // Another writer took it between the look-up and now.
                    let owner = self.access_key_owner(id).await?.unwrap_or_default();
                    return Err(conflict(*index, &owner));
                }
                Err(err) => return Err(unavailable("PutItem")(err)),
            }
        }
        Ok(named.into_iter().map(|(_, id)| id).collect())
    }

    /// Drops `key_id` from the index if `tenant` still owns it there.
    async fn release_access_key(&self, tenant: &TenantId, key_id: &str) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(ACCESS_KEY_INDEX_PK.into()))
            .key("sk", AttributeValue::S(key_id.to_owned()))
            .condition_expression("#tenant = :tenant")
            .expression_attribute_names("#tenant", "tenant")
            .expression_attribute_values(":tenant", AttributeValue::S(tenant.to_string()))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(err) => Err(unavailable("DeleteItem")(err)),
        }
    }

    /// The API credentials of one service, for the functions that call Sinch.
    pub async fn load_credentials(
        &self,
        tenant: &TenantId,
        service: &ServiceName,
    ) -> Result<Option<ApiCredentials>, StoreError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(secrets_pk(tenant)))
            .key("sk", AttributeValue::S(format!("SERVICE#{service}")))
            .send()
            .await
            .map_err(unavailable("GetItem"))?;
        let Some(item) = answer.item else {
            return Ok(None);
        };
        match (
            string(&item, "access_key_id"),
            string(&item, "access_key_secret"),
        ) {
            (Some(id), Some(secret)) => Ok(Some(ApiCredentials {
                key_id: id.to_owned(),
                key_secret: SecretString::from(secret.to_owned()),
            })),
            _ => Err(StoreError::Corrupt {
                tenant: tenant.to_string(),
                problem: format!("the credentials of service '{service}' are incomplete"),
            }),
        }
    }

    async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable("PutItem"))?;
        Ok(())
    }

    /// Makes the partition hold exactly `items` (each with its `sk`).
    async fn replace_partition(&self, pk: &str, items: Vec<Item>) -> Result<(), StoreError> {
        let kept: Vec<String> = items
            .iter()
            .filter_map(|item| string(item, "sk"))
            .map(str::to_owned)
            .collect();
        let existing = self.query_partition(pk).await?;
        for mut item in items {
            item.insert("pk".into(), AttributeValue::S(pk.to_owned()));
            self.put(item).await?;
        }
        for stale in existing
            .iter()
            .filter_map(|item| string(item, "sk"))
            .filter(|sk| !kept.iter().any(|kept| kept == sk))
        {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(pk.to_owned()))
                .key("sk", AttributeValue::S(stale.to_owned()))
                .send()
                .await
                .map_err(unavailable("DeleteItem"))?;
        }
        Ok(())
    }

    async fn query_partition(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable("Query"))?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

impl TenantConfigSource for ConfigStore {
    async fn load_tenant(&self, id: &TenantId) -> Result<Option<TenantConfig>, StoreError> {
        let items = self.query_partition(&tenant_pk(id)).await?;
        tenant_from_items(id, &items)
    }

    async fn load_tenant_ids(&self) -> Result<HashSet<TenantId>, StoreError> {
        let items = self.query_partition(TENANT_INDEX_PK).await?;
        Ok(items
            .iter()
            .filter_map(|item| string(item, "sk"))
            // A malformed id cannot be a webhook path's tenant; skipping it refuses nothing real.
            .filter_map(|sk| TenantId::parse(sk).ok())
            .collect())
    }
}

fn tenant_item(tenant: &TenantConfig) -> Item {
    let mut item = Item::from([
        ("sk".into(), AttributeValue::S("TENANT".into())),
        (
            "public_attachment_days".into(),
            AttributeValue::N(tenant.retention.public_attachment_days.to_string()),
        ),
        (
            "inbound_media_days".into(),
            AttributeValue::N(tenant.retention.inbound_media_days.to_string()),
        ),
    ]);
    item.insert("media".into(), media_attribute(&tenant.media));
    item.insert("outbound".into(), outbound_attribute(&tenant.outbound));
    item.insert(
        "contact_center".into(),
        contact_center_attribute(&tenant.contact_center),
    );
    item
}

fn contact_center_attribute(contact_center: &ContactCenterSettings) -> AttributeValue {
    let mut map = HashMap::from([(
        "sender_ids".to_owned(),
        string_list(&contact_center.sender_ids),
    )]);
    if let Some(url) = &contact_center.default_target_queue_url {
        map.insert(
            "default_target_queue_url".to_owned(),
            AttributeValue::S(url.clone()),
        );
    }
    AttributeValue::M(map)
}

/// The `contact_center` map of a `TENANT` item; absent (a tenant written before it existed):
/// no sender, no default target.
fn contact_center_from_item(head: &Item) -> Result<ContactCenterSettings, String> {
    let mut contact_center = ContactCenterSettings::default();
    let Some(value) = head.get("contact_center") else {
        return Ok(contact_center);
    };
    let map = value
        .as_m()
        .map_err(|_| "'contact_center' is not a map".to_owned())?;
    if let Some(value) = map.get("sender_ids") {
        contact_center.sender_ids = value
            .as_l()
            .map_err(|_| "'contact_center.sender_ids' is not a list".to_owned())?
            .iter()
            .map(|v| {
                v.as_s()
                    .cloned()
                    .map_err(|_| "'contact_center.sender_ids' holds a non-string".to_owned())
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(value) = map.get("default_target_queue_url") {
        contact_center.default_target_queue_url = Some(
            value
                .as_s()
                .map_err(|_| "'contact_center.default_target_queue_url' is not a string")?
                .clone(),
        );
    }
    Ok(contact_center)
}

fn outbound_attribute(outbound: &OutboundSettings) -> AttributeValue {
    AttributeValue::M(HashMap::from([(
        "fetch_media_urls".to_owned(),
        AttributeValue::Bool(outbound.fetch_media_urls),
    )]))
}

/// The `outbound` map of a `TENANT` item; each entry absent reads as its default.
fn outbound_from_item(head: &Item) -> Result<OutboundSettings, String> {
    let mut outbound = OutboundSettings::default();
    let Some(value) = head.get("outbound") else {
        return Ok(outbound);
    };
    let map = value
        .as_m()
        .map_err(|_| "'outbound' is not a map".to_owned())?;
    if let Some(value) = map.get("fetch_media_urls") {
        outbound.fetch_media_urls = *value
            .as_bool()
            .map_err(|_| "'outbound.fetch_media_urls' is not a boolean")?;
    }
    Ok(outbound)
}

fn string_list(values: &[String]) -> AttributeValue {
    AttributeValue::L(values.iter().cloned().map(AttributeValue::S).collect())
}

fn media_attribute(media: &MediaSettings) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        (
            "max_bytes".to_owned(),
            AttributeValue::N(media.max_bytes.to_string()),
        ),
        (
            "allowed_types".to_owned(),
            string_list(&media.allowed_types),
        ),
        (
            "allowed_hosts".to_owned(),
            string_list(&media.allowed_hosts),
        ),
        (
            "display_name_lookups".to_owned(),
            AttributeValue::Bool(media.display_name_lookups),
        ),
    ]))
}

/// The `media` map of a `TENANT` item; each entry absent reads as its default.
fn media_from_item(head: &Item) -> Result<MediaSettings, String> {
    let mut media = MediaSettings::default();
    let Some(value) = head.get("media") else {
        return Ok(media);
    };
    let map = value
        .as_m()
        .map_err(|_| "'media' is not a map".to_owned())?;
    if let Some(value) = map.get("max_bytes") {
        media.max_bytes = value
            .as_n()
            .ok()
            .and_then(|n| n.parse().ok())
            .ok_or("'media.max_bytes' is not a whole number")?;
    }
    let strings = |name: &str| -> Result<Option<Vec<String>>, String> {
        let Some(value) = map.get(name) else {
            return Ok(None);
        };
        let list = value
            .as_l()
            .map_err(|_| format!("'media.{name}' is not a list"))?;
        list.iter()
            .map(|v| {
                v.as_s()
                    .cloned()
                    .map_err(|_| format!("'media.{name}' holds a non-string"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    };
    if let Some(types) = strings("allowed_types")? {
        media.allowed_types = types;
    }
    if let Some(hosts) = strings("allowed_hosts")? {
        media.allowed_hosts = hosts;
    }
    if let Some(value) = map.get("display_name_lookups") {
        media.display_name_lookups = *value
            .as_bool()
            .map_err(|_| "'media.display_name_lookups' is not a boolean")?;
    }
    Ok(media)
}

fn service_item(service: &MessagingService) -> Item {
    let mut item = Item::from([
        (
            "sk".into(),
            AttributeValue::S(format!("SERVICE#{}", service.name)),
        ),
        (
            "region".into(),
            AttributeValue::S(service.region.as_str().into()),
        ),
        (
            "project_id".into(),
            AttributeValue::S(service.project_id.clone()),
        ),
        (
            "app_ids".into(),
            AttributeValue::L(
                service
                    .app_ids
                    .iter()
                    .cloned()
                    .map(AttributeValue::S)
                    .collect(),
            ),
        ),
        (
            "webhook_secret".into(),
            AttributeValue::S(service.webhook_secret.expose_secret().to_owned()),
        ),
    ]);
    if let Some(previous) = &service.previous_webhook_secret {
        item.insert(
            "previous_webhook_secret".into(),
            AttributeValue::S(previous.expose_secret().to_owned()),
        );
    }
    if let Some(url) = &service.api_base_url {
        item.insert("api_base_url".into(), AttributeValue::S(url.clone()));
    }
    item
}

fn credentials_item(service: &MessagingService) -> Option<Item> {
    Some(Item::from([
        (
            "sk".into(),
            AttributeValue::S(format!("SERVICE#{}", service.name)),
        ),
        (
            "access_key_id".into(),
            AttributeValue::S(service.access_key_id.clone()?),
        ),
        (
            "access_key_secret".into(),
            AttributeValue::S(
                service
                    .access_key_secret
                    .as_ref()?
                    .expose_secret()
                    .to_owned(),
            ),
        ),
    ]))
}

fn queue_item(queue: &QueueConfig) -> Item {
    let mut item = Item::from([
        (
            "sk".into(),
            AttributeValue::S(format!("QUEUE#{}", queue.address)),
        ),
        (
            "service".into(),
            AttributeValue::S(queue.service.to_string()),
        ),
    ]);
    if let Some(url) = &queue.target_queue_url {
        item.insert("target_queue_url".into(), AttributeValue::S(url.clone()));
    }
    if let Some(sender) = &queue.sms_sender {
        item.insert("sms_sender".into(), AttributeValue::S(sender.clone()));
    }
    item
}

fn string<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|value| value.as_s().ok())
        .map(String::as_str)
}

fn tenant_from_items(id: &TenantId, items: &[Item]) -> Result<Option<TenantConfig>, StoreError> {
    let corrupt = |problem: String| StoreError::Corrupt {
        tenant: id.to_string(),
        problem,
    };
    let Some(head) = items
        .iter()
        .find(|item| string(item, "sk") == Some("TENANT"))
    else {
        return Ok(None);
    };
    let required = |item: &Item, name: &str| -> Result<String, StoreError> {
        string(item, name).map(str::to_owned).ok_or_else(|| {
            corrupt(format!(
                "item {} lacks '{name}'",
                string(item, "sk").unwrap_or("?")
            ))
        })
    };
    let days = |name: &str, default: u32| -> Result<u32, StoreError> {
        match head.get(name) {
            None => Ok(default),
            Some(value) => value
                .as_n()
                .ok()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| corrupt(format!("'{name}' is not a whole number of days"))),
        }
    };
    let defaults = Retention::default();
    let retention = Retention {
        public_attachment_days: days("public_attachment_days", defaults.public_attachment_days)?,
        inbound_media_days: days("inbound_media_days", defaults.inbound_media_days)?,
    };
    let media = media_from_item(head).map_err(corrupt)?;
    let outbound = outbound_from_item(head).map_err(corrupt)?;
    let contact_center = contact_center_from_item(head).map_err(corrupt)?;
    let mut services = Vec::new();
    let mut queues = Vec::new();
    for item in items {
        let sk = string(item, "sk").unwrap_or_default();
        if let Some(name) = sk.strip_prefix("SERVICE#") {
            let region = required(item, "region")?;
            let app_ids = item
                .get("app_ids")
                .and_then(|value| value.as_l().ok())
                .map(|list| list.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
                .unwrap_or_default();
            services.push(MessagingService {
                name: ServiceName::parse(name).map_err(|err| corrupt(err.to_string()))?,
                region: Region::parse(&region).ok_or_else(|| {
                    corrupt(format!("service '{name}': unknown region '{region}'"))
                })?,
                project_id: required(item, "project_id")?,
                app_ids,
                // Kept in the `SECRETS#` partition; see [`ConfigStore::load_credentials`].
                access_key_id: None,
                access_key_secret: None,
                webhook_secret: SecretString::from(required(item, "webhook_secret")?),
                previous_webhook_secret: string(item, "previous_webhook_secret")
                    .map(|s| SecretString::from(s.to_owned())),
                api_base_url: string(item, "api_base_url").map(str::to_owned),
            });
        } else if let Some(address) = sk.strip_prefix("QUEUE#") {
            queues.push(QueueConfig {
                address: address
                    .parse()
                    .map_err(|err: crate::address::AddressError| corrupt(err.to_string()))?,
                service: ServiceName::parse(&required(item, "service")?)
                    .map_err(|err| corrupt(err.to_string()))?,
                target_queue_url: string(item, "target_queue_url").map(str::to_owned),
                sms_sender: string(item, "sms_sender").map(str::to_owned),
            });
        }
    }
    let tenant = TenantConfig {
        id: id.clone(),
        retention,
        services,
        queues,
        media,
        outbound,
        contact_center,
    };
    tenant.validate().map_err(|err| corrupt(err.to_string()))?;
    Ok(Some(tenant))
}

/// The retention function needs a tenant's retention and nothing else: one GetItem of the
/// `TENANT` item, projected to its retention attributes, so it never reads a service or a
/// secret, and its IAM policy can say so (template.yaml, `RetentionFunction`).
const RETENTION_ATTRIBUTES: [&str; 2] = ["public_attachment_days", "inbound_media_days"];

impl ConfigStore {
    /// A tenant's retention; `None` when the tenant is not (or no longer) in the config.
    pub async fn load_retention(&self, id: &TenantId) -> Result<Option<Retention>, StoreError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(tenant_pk(id)))
            .key("sk", AttributeValue::S("TENANT".into()))
            // `sk` too, so an existing item never comes back as an empty projection.
            .projection_expression(format!("sk, {}", RETENTION_ATTRIBUTES.join(", ")))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| StoreError::Unavailable(crate::aws::describe_error(&err)))?;
        match answer.item {
            Some(item) if !item.is_empty() => retention_from_item(id, &item).map(Some),
            _ => Ok(None),
        }
    }
}

fn retention_from_item(id: &TenantId, item: &Item) -> Result<Retention, StoreError> {
    let corrupt = |problem: String| StoreError::Corrupt {
        tenant: id.to_string(),
        problem,
    };
    let days = |name: &str, default: u32| -> Result<u32, StoreError> {
        match item.get(name) {
            None => Ok(default),
            Some(value) => value
                .as_n()
                .ok()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| corrupt(format!("'{name}' is not a whole number of days"))),
        }
    };
    let defaults = Retention::default();
    let retention = Retention {
        public_attachment_days: days(RETENTION_ATTRIBUTES[0], defaults.public_attachment_days)?,
        inbound_media_days: days(RETENTION_ATTRIBUTES[1], defaults.inbound_media_days)?,
    };
    retention.validate().map_err(corrupt)?;
    Ok(retention)
}
