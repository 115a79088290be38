//! The Sinch message id → the contact center's `reply_id`, written by the outbound function when
//! Sinch accepts a send and read by the inbound stage: a delivery report names only Sinch's
//! message id, and a customer quoting an agent's message names only that too, but the agent
//! desktop knows its own `reply_id`. The record is written once per accepted send (the same
//! message id always maps to the same reply id, so a second write is harmless) and read with
//! one GetItem; an absent or expired record reads as "unknown", never as an error.

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{StateError, get_unexpired};
use crate::error::AwsError;

pub trait ReplyIdMap: Send + Sync {
    /// Remembers that Sinch's `message_id` is the tenant's `reply_id`, until `now + ttl`.
    fn remember(
        &self,
        tenant: &str,
        message_id: &str,
        reply_id: &str,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// The reply id of Sinch's `message_id`, if the outbound function sent it and the record
    /// has not expired.
    fn reply_id(
        &self,
        tenant: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<String>, StateError>> + Send;
}

fn partition_key(tenant: &str, message_id: &str) -> String {
    format!("MSG#{tenant}#{message_id}")
}

const SORT_KEY: &str = "REPLY";

#[derive(Debug, Clone)]
pub struct DynamoReplyIdMap {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoReplyIdMap {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoReplyIdMap {
            client,
            table: table.into(),
        }
    }
}

impl ReplyIdMap for DynamoReplyIdMap {
    async fn remember(
        &self,
        tenant: &str,
        message_id: &str,
        reply_id: &str,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> Result<(), StateError> {
        let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(partition_key(tenant, message_id)))
            .item("sk", AttributeValue::S(SORT_KEY.into()))
            .item("reply_id", AttributeValue::S(reply_id.to_owned()))
            .item(
                "expires_at",
                AttributeValue::N(expires.timestamp().to_string()),
            )
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("PutItem", &err))?;
        Ok(())
    }

    async fn reply_id(
        &self,
        tenant: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StateError> {
        let key = partition_key(tenant, message_id);
        let Some(item) = get_unexpired(&self.client, &self.table, &key, SORT_KEY, now).await?
        else {
            return Ok(None);
        };
        match item.get("reply_id").map(AttributeValue::as_s) {
            Some(Ok(reply_id)) => Ok(Some(reply_id.clone())),
            _ => Err(StateError::Corrupt {
                key,
                problem: "no reply_id string".into(),
            }),
        }
    }
}

/// In memory, with the same expiry rule, for handler tests.
#[derive(Default)]
pub struct MemoryReplyIdMap {
    entries: std::sync::Mutex<std::collections::HashMap<String, (String, DateTime<Utc>)>>,
}

impl ReplyIdMap for MemoryReplyIdMap {
    async fn remember(
        &self,
        tenant: &str,
        message_id: &str,
        reply_id: &str,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> Result<(), StateError> {
        let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(
            partition_key(tenant, message_id),
            (reply_id.to_owned(), expires),
        );
        Ok(())
    }

    async fn reply_id(
        &self,
        tenant: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StateError> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        Ok(entries
            .get(&partition_key(tenant, message_id))
            .filter(|(_, expires)| *expires >= now)
            .map(|(reply_id, _)| reply_id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_remembered_id_is_found_for_its_tenant_only_and_until_it_expires() {
        let map = MemoryReplyIdMap::default();
        let now = Utc::now();
        let day = std::time::Duration::from_secs(86_400);
        map.remember("acme", "01MSG", "reply-1", now, day)
            .await
            .expect("remember");
        assert_eq!(
            map.reply_id("acme", "01MSG", now).await.expect("read"),
            Some("reply-1".to_owned())
        );
        assert_eq!(
            map.reply_id("other", "01MSG", now).await.expect("read"),
            None
        );
        let later = now + chrono::Duration::days(2);
        assert_eq!(
            map.reply_id("acme", "01MSG", later).await.expect("read"),
            None
        );
    }
}
