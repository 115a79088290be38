//! Delivery status kept monotonic per Sinch message: reports arrive out of order (READ before
//! DELIVERED), and an agent desktop must never see a message go from "read" back to
//! "delivered". QUEUED_ON_CHANNEL < DELIVERED < READ; a report that would move a message
//! backwards (or repeat where it is) is not forwarded. FAILED is always forwarded, and so are
//! SWITCHING_CHANNEL and statuses Switchboard does not know: they are news, not steps.
//!
//! The record remembers which event moved it last, so a retry of that same event (the stage
//! moved the status, then failed to forward, and the record came back) is forwarded, not
//! judged stale against its own step.

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{StateError, update_condition_failed};
use crate::error::AwsError;

/// The rank of a status on the way to the customer; `None` for statuses outside that order.
pub fn rank(status: &str) -> Option<u8> {
    match status {
        "QUEUED_ON_CHANNEL" => Some(1),
        "DELIVERED" => Some(2),
        "READ" => Some(3),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Forward,
    /// The message is already at this status or further: drop the report (logged and counted).
    Stale,
}

pub trait DeliveryStatusStore: Send + Sync {
    /// Moves the message's furthest status to `status` if that is forward (or if `event_id`
    /// is the event that moved it there); says whether to forward the report.
    fn advance(
        &self,
        tenant: &str,
        message_id: &str,
        status: &str,
        event_id: &str,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> impl Future<Output = Result<Decision, StateError>> + Send;
}

#[derive(Debug, Clone)]
pub struct DynamoDeliveryStatus {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoDeliveryStatus {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoDeliveryStatus {
            client,
            table: table.into(),
        }
    }
}

impl DeliveryStatusStore for DynamoDeliveryStatus {
    async fn advance(
        &self,
        tenant: &str,
        message_id: &str,
        status: &str,
        event_id: &str,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> Result<Decision, StateError> {
        let Some(rank) = rank(status) else {
            return Ok(Decision::Forward);
        };
        let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(
                "pk",
                AttributeValue::S(format!("DLR#{tenant}#{message_id}")),
            )
            .key("sk", AttributeValue::S("STATUS".into()))
            .update_expression(
                "SET #rank = :rank, #status = :status, #event = :event, expires_at = :expires",
            )
            .condition_expression(
                "attribute_not_exists(#rank) OR #rank < :rank OR expires_at < :now \
                 OR (#event = :event AND #rank = :rank)",
            )
            .expression_attribute_names("#rank", "rank")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#event", "event_id")
            .expression_attribute_values(":event", AttributeValue::S(event_id.to_owned()))
            .expression_attribute_values(":rank", AttributeValue::N(rank.to_string()))
            .expression_attribute_values(":status", AttributeValue::S(status.to_owned()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N(expires.timestamp().to_string()),
            )
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(Decision::Forward),
            Err(err) if update_condition_failed(&err) => Ok(Decision::Stale),
            Err(err) => Err(AwsError::from_sdk("UpdateItem", &err).into()),
        }
    }
}

/// In memory, with the same rule, for handler tests.
#[derive(Default)]
pub struct MemoryDeliveryStatus {
    /// The furthest rank per message, and the event that moved it there.
    ranks: std::sync::Mutex<std::collections::HashMap<String, (u8, String)>>,
}

impl DeliveryStatusStore for MemoryDeliveryStatus {
    async fn advance(
        &self,
        tenant: &str,
        message_id: &str,
        status: &str,
        event_id: &str,
        _now: DateTime<Utc>,
        _ttl: std::time::Duration,
    ) -> Result<Decision, StateError> {
        let Some(rank) = rank(status) else {
            return Ok(Decision::Forward);
        };
        let mut ranks = self.ranks.lock().unwrap_or_else(|p| p.into_inner());
        let key = format!("{tenant}#{message_id}");
        if let Some((known, by)) = ranks.get(&key) {
            let own_retry = *known == rank && by == event_id;
            if *known >= rank && !own_retry {
                return Ok(Decision::Stale);
            }
        }
        ranks.insert(key, (rank, event_id.to_owned()));
        Ok(Decision::Forward)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_queued_delivered_read_and_everything_else_is_news() {
        assert!(rank("QUEUED_ON_CHANNEL") < rank("DELIVERED"));
        assert!(rank("DELIVERED") < rank("READ"));
        for news in ["FAILED", "SWITCHING_CHANNEL", "SOMETHING_NEW"] {
            assert_eq!(rank(news), None);
        }
    }
}
