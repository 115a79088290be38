//! The state table: what the functions remember between invocations, each record under its own
//! key prefix, each with a TTL (`expires_at`, Unix seconds).
//!
//! DynamoDB deletes expired items late (up to days), so no record is trusted past its
//! `expires_at`: every read and every conditional write treats an expired record as absent.
//!
//! | pk                                   | sk       | what |
//! |--------------------------------------|----------|------|
//! | `IDEM#{scope}#{key}`                 | `IDEM`   | an idempotency record ([`idempotency`]) |
//! | `DLR#{tenant}#{sinch_message_id}`    | `STATUS` | the furthest delivery status forwarded ([`delivery`]) |
//! | `MSG#{tenant}#{sinch_message_id}`    | `REPLY`  | the contact center's `reply_id` of a sent message ([`reply_map`]) |
//! | `NAME#{tenant}#{contact}`            | `NAME`   | a customer's display name as Sinch answered it, for a day ([`names`]) |

pub mod delivery;
pub mod idempotency;
pub mod names;
pub mod reply_map;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::{AwsError, Classify, Retry};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state table: {0}")]
    Aws(#[from] AwsError),
    #[error("state table record {key} is invalid: {problem}")]
    Corrupt { key: String, problem: String },
}

impl Classify for StateError {
    fn retry(&self) -> Retry {
        match self {
            StateError::Aws(err) => err.retry,
            StateError::Corrupt { .. } => Retry::Permanent,
        }
    }
}

/// The record under `pk`/`sk`, or `None` when there is none or it has expired (DynamoDB deletes
/// late). A record without `expires_at` is corrupt: every writer sets one.
pub(crate) async fn get_unexpired(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
    sk: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<HashMap<String, AttributeValue>>, StateError> {
    let found = client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .key("sk", AttributeValue::S(sk.to_owned()))
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("GetItem", &err))?;
    let Some(item) = found.item else {
        return Ok(None);
    };
    let expires_at = item
        .get("expires_at")
        .and_then(|value| value.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok());
    match expires_at {
        Some(at) if at >= now.timestamp() => Ok(Some(item)),
        Some(_) => Ok(None),
        None => Err(StateError::Corrupt {
            key: pk.to_owned(),
            problem: "no expires_at".into(),
        }),
    }
}

/// True when a conditional write failed its condition (not an error: the answer "no").
pub(crate) fn put_condition_failed<R>(err: &SdkError<PutItemError, R>) -> bool {
    matches!(err, SdkError::ServiceError(service)
        if matches!(service.err(), PutItemError::ConditionalCheckFailedException(_)))
}

pub(crate) fn update_condition_failed<R>(err: &SdkError<UpdateItemError, R>) -> bool {
    matches!(err, SdkError::ServiceError(service)
        if matches!(service.err(), UpdateItemError::ConditionalCheckFailedException(_)))
}
