//! The display-name cache: what Sinch answered about a contact's name, shared by every container
//! of the inbound stage for a day, so a conversation costs one look-up at Sinch a day rather
//! than one per message. "Sinch knows no name" is remembered too (it would not change within
//! the day either); a failed look-up is never stored here.
//!
//! The key is the Sinch contact id, or, for apps in DISPATCH mode (no contact), the app,
//! channel and identity (see the inbound stage's enrichment). One GetItem per read, one PutItem
//! per write; an expired record reads as absent.

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{StateError, get_unexpired};
use crate::error::AwsError;

/// What a look-up found: the name, or `None` when Sinch knows none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedName {
    pub name: Option<String>,
}

pub trait DisplayNameCache: Send + Sync {
    /// The cached answer for the contact, if one was stored and has not expired.
    fn get(
        &self,
        tenant: &str,
        contact: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<CachedName>, StateError>> + Send;

    /// Remembers Sinch's answer until `now + ttl`.
    fn put(
        &self,
        tenant: &str,
        contact: &str,
        found: &CachedName,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}

fn partition_key(tenant: &str, contact: &str) -> String {
    format!("NAME#{tenant}#{contact}")
}

const SORT_KEY: &str = "NAME";

fn expiry(now: DateTime<Utc>, ttl: std::time::Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX)
}

#[derive(Debug, Clone)]
pub struct DynamoDisplayNames {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoDisplayNames {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoDisplayNames {
            client,
            table: table.into(),
        }
    }
}

impl DisplayNameCache for DynamoDisplayNames {
    async fn get(
        &self,
        tenant: &str,
        contact: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<CachedName>, StateError> {
        let key = partition_key(tenant, contact);
        let Some(item) = get_unexpired(&self.client, &self.table, &key, SORT_KEY, now).await?
        else {
            return Ok(None);
        };
        match item.get("display_name") {
            None => Ok(Some(CachedName { name: None })),
            Some(AttributeValue::S(name)) => Ok(Some(CachedName {
                name: Some(name.clone()),
            })),
            Some(_) => Err(StateError::Corrupt {
                key,
                problem: "display_name is not a string".into(),
            }),
        }
    }

    async fn put(
        &self,
        tenant: &str,
        contact: &str,
        found: &CachedName,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> Result<(), StateError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(partition_key(tenant, contact)))
            .item("sk", AttributeValue::S(SORT_KEY.into()))
            .item(
                "expires_at",
                AttributeValue::N(expiry(now, ttl).timestamp().to_string()),
            );
        if let Some(name) = &found.name {
            put = put.item("display_name", AttributeValue::S(name.clone()));
        }
        put.send()
            .await
            .map_err(|err| AwsError::from_sdk("PutItem", &err))?;
        Ok(())
    }
}

/// In memory, with the same expiry rule, for handler tests; it counts reads and writes, which
/// is how tests show what an event costs.
#[derive(Default)]
pub struct MemoryDisplayNames {
    entries: std::sync::Mutex<std::collections::HashMap<String, (CachedName, DateTime<Utc>)>>,
    reads: std::sync::atomic::AtomicUsize,
    writes: std::sync::atomic::AtomicUsize,
    failing: std::sync::atomic::AtomicBool,
}

impl MemoryDisplayNames {
    pub fn reads(&self) -> usize {
        self.reads.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn writes(&self) -> usize {
        self.writes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Every later call fails as an unavailable table would (`false`: they work again).
    pub fn fail(&self, failing: bool) {
        self.failing
            .store(failing, std::sync::atomic::Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), StateError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StateError::Aws(AwsError {
                operation: "GetItem",
                code: Some("InternalServerError".into()),
                http_status: Some(500),
                message: "the table is unavailable (simulated)".into(),
                retry: crate::error::Retry::Retryable,
            }));
        }
        Ok(())
    }
}

impl DisplayNameCache for MemoryDisplayNames {
    async fn get(
        &self,
        tenant: &str,
        contact: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<CachedName>, StateError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.check()?;
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        Ok(entries
            .get(&partition_key(tenant, contact))
            .filter(|(_, expires)| *expires >= now)
            .map(|(found, _)| found.clone()))
    }

    async fn put(
        &self,
        tenant: &str,
        contact: &str,
        found: &CachedName,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> Result<(), StateError> {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.check()?;
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(
            partition_key(tenant, contact),
            (found.clone(), expiry(now, ttl)),
        );
        Ok(())
    }
}
