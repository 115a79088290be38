//! What the moto tests share: the moto endpoint, a local stack per test (unique names, from
//! template.yaml), tenants in its config table, objects in its bucket, and an S3 client that
//! counts the requests the SDK really sends.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RequestChecksumCalculation, RuntimeComponents};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use switchboard_local_stack::LocalStack;
use switchboard_retention::settings::Settings;
use switchboard_shared::config::{ConfigStore, SeedFile};

pub use switchboard_testkit::{moto_config, template_path, unique_prefix};

/// The requests an S3 client sent, by operation (every attempt, retries included).
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl RequestCounter {
    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_owned())
            .unwrap_or_else(|| "unknown".into());
        *self.0.lock().unwrap().entry(operation).or_default() += 1;
        Ok(())
    }
}

/// One test's stack on moto.
pub struct Stack {
    pub sdk: SdkConfig,
    pub s3: aws_sdk_s3::Client,
    /// An S3 client whose requests are counted.
    pub counted_s3: aws_sdk_s3::Client,
    pub counter: RequestCounter,
    pub bucket: String,
    pub config: ConfigStore,
    pub settings: Settings,
    pub environment: BTreeMap<String, String>,
}

impl Stack {
    pub async fn create(tag: &str) -> Stack {
        let sdk = moto_config().await;
        let stack = LocalStack::create(&sdk, &unique_prefix(tag), template_path())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let environment = stack
            .function_environment("RetentionFunction")
            .unwrap_or_else(|e| panic!("{e}"));
        let settings = Settings::from_lookup(|name| environment.get(name).cloned())
            .unwrap_or_else(|e| panic!("the template's environment: {e}"));
        let counter = RequestCounter::default();
        let s3_config = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true);
        // Test set-up puts many tiny objects: no checksum for moto to verify on each.
        let s3 = aws_sdk_s3::Client::from_conf(
            s3_config
                .clone()
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .build(),
        );
        let counted_s3 =
            aws_sdk_s3::Client::from_conf(s3_config.interceptor(counter.clone()).build());
        let config = ConfigStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            settings.config_table.clone(),
        );
        Stack {
            s3,
            counted_s3,
            counter,
            bucket: settings.media_bucket.clone(),
            config,
            settings,
            environment,
            sdk,
        }
    }

    /// Writes tenants `(id, public_attachment_days, inbound_media_days)` into the config table.
    pub async fn seed(&self, tenants: &[(&str, u32, u32)]) {
        let tenants: Vec<_> = tenants
            .iter()
            .enumerate()
            .map(|(i, (id, public, inbound))| {
                serde_json::json!({
                    "id": id,
                    "retention": { "public_attachment_days": public, "inbound_media_days": inbound },
                    "services": [{ "name": "main", "region": "eu", "project_id": "p",
                        "app_ids": [format!("01APP{i}")], "access_key_id": format!("key-{id}"), "access_key_secret": "s",
                        "webhook_secret": "w" }]
                })
            })
            .collect();
        let seed = SeedFile::parse(&serde_json::json!({ "tenants": tenants }).to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        for tenant in &seed.tenants {
            self.config.put_tenant(tenant).await.unwrap();
        }
    }

    /// Puts `keys` (each `size` bytes), `parallel` requests at a time.
    pub async fn put_all(&self, keys: Vec<String>, size: usize, parallel: usize) {
        let chunks: Vec<Vec<String>> = keys
            .chunks(keys.len().div_ceil(parallel.max(1)).max(1))
            .map(<[String]>::to_vec)
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in chunks {
            let (s3, bucket) = (self.s3.clone(), self.bucket.clone());
            tasks.spawn(async move {
                for key in chunk {
                    s3.put_object()
                        .bucket(&bucket)
                        .key(&key)
                        .body(ByteStream::from(vec![b'x'; size]))
                        .send()
                        .await
                        .unwrap_or_else(|e| {
                            panic!(
                                "PutObject {key}: {}",
                                aws_sdk_s3::error::DisplayErrorContext(e)
                            )
                        });
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
    }

    /// Every key in the bucket.
    pub async fn keys(&self) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        let mut pages = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.unwrap();
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        keys
    }
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap()
}

pub fn day(days_ago: u64) -> NaiveDate {
    now()
        .date_naive()
        .checked_sub_days(Days::new(days_ago))
        .unwrap()
}

pub fn key(area: &str, tenant: &str, days_ago: u64, name: &str) -> String {
    format!(
        "{area}/{tenant}/{}/{name}",
        day(days_ago).format("%Y-%m-%d")
    )
}

/// The age in days of a key made by [`key`].
pub fn age(key: &str) -> u64 {
    let day = key.split('/').nth(2).unwrap();
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    (now().date_naive() - day).num_days() as u64
}
