//! Idempotency records: "this event was forwarded", "this reply was sent", across retries,
//! redeliveries and containers, well past SQS's five-minute de-duplication window.
//!
//! A worker *claims* a key before doing the work: the claim is a conditional put that only one
//! worker wins. The winner does the work and *completes* the record with its result; a later
//! delivery of the same key finds it done and reuses the result instead of doing the work again.
//! A worker that fails midway *releases* its claim so the retry is not blocked; one that
//! crashed cannot release, so a claim is a lease: once `lease_until` has passed, another worker
//! may take the key over.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{StateError, put_condition_failed};
use crate::error::AwsError;

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This worker holds the key until the lease ends: do the work, then complete or release.
    Acquired,
    /// The work was done before; its result.
    Done { result: String },
    /// Another worker holds the key; try again after `lease_until`.
    Busy { lease_until: DateTime<Utc> },
}

/// Where idempotency records live (the state table; in memory for handler tests).
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for `owner` until `now + lease`; the record lives until `now + ttl`.
    fn claim(
        &self,
        key: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        ttl: Duration,
    ) -> impl Future<Output = Result<Claim, StateError>> + Send;

    /// Records the work as done with `result` (only by the owner of the claim).
    fn complete(
        &self,
        key: &str,
        owner: &str,
        result: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Gives the claim up so a retry can take it at once (only by its owner, only if not done).
    fn release(
        &self,
        key: &str,
        owner: &str,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}

fn epoch(time: DateTime<Utc>) -> String {
    time.timestamp().to_string()
}

fn later(now: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX)
}

/// The state-table implementation.
#[derive(Debug, Clone)]
pub struct DynamoIdempotency {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// Separates the users of one table (e.g. `inbound`, `outbound`).
    scope: String,
}

impl DynamoIdempotency {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        scope: impl Into<String>,
    ) -> Self {
        DynamoIdempotency {
            client,
            table: table.into(),
            scope: scope.into(),
        }
    }

    fn pk(&self, key: &str) -> AttributeValue {
        AttributeValue::S(format!("IDEM#{}#{key}", self.scope))
    }
}

const SK: &str = "IDEM";
const IN_PROGRESS: &str = "in_progress";
const DONE: &str = "done";

impl IdempotencyStore for DynamoIdempotency {
    async fn claim(
        &self,
        key: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        ttl: Duration,
    ) -> Result<Claim, StateError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", self.pk(key))
            .item("sk", AttributeValue::S(SK.into()))
            .item("state", AttributeValue::S(IN_PROGRESS.into()))
            .item("owner", AttributeValue::S(owner.into()))
            .item("lease_until", AttributeValue::N(epoch(later(now, lease))))
            .item("expires_at", AttributeValue::N(epoch(later(now, ttl))))
            // Free, expired (TTL deletes late), or a claim whose lease ran out (a crashed worker).
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now OR (#state = :in_progress AND lease_until < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", AttributeValue::N(epoch(now)))
            .expression_attribute_values(":in_progress", AttributeValue::S(IN_PROGRESS.into()))
            .send()
            .await;
        match put {
            Ok(_) => return Ok(Claim::Acquired),
            Err(err) if put_condition_failed(&err) => {}
            Err(err) => return Err(AwsError::from_sdk("PutItem", &err).into()),
        }
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", self.pk(key))
            .key("sk", AttributeValue::S(SK.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("GetItem", &err))?
            .item
            .unwrap_or_default();
        read_claim(key, &item)
    }

    async fn complete(
        &self,
        key: &str,
        owner: &str,
        result: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<(), StateError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", self.pk(key))
            .key("sk", AttributeValue::S(SK.into()))
            .update_expression(
                "SET #state = :done, #result = :result, expires_at = :expires REMOVE lease_until",
            )
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#result", "result")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":done", AttributeValue::S(DONE.into()))
            .expression_attribute_values(":result", AttributeValue::S(result.into()))
            .expression_attribute_values(":expires", AttributeValue::N(epoch(later(now, ttl))))
            .expression_attribute_values(":owner", AttributeValue::S(owner.into()))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("UpdateItem", &err))?;
        Ok(())
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StateError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", self.pk(key))
            .key("sk", AttributeValue::S(SK.into()))
            .condition_expression("#owner = :owner AND #state = :in_progress")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":owner", AttributeValue::S(owner.into()))
            .expression_attribute_values(":in_progress", AttributeValue::S(IN_PROGRESS.into()))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            // Someone else took it over, or it is done: nothing of ours to release.
            Err(aws_sdk_dynamodb::error::SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                Ok(())
            }
            Err(err) => Err(AwsError::from_sdk("DeleteItem", &err).into()),
        }
    }
}

fn read_claim(key: &str, item: &HashMap<String, AttributeValue>) -> Result<Claim, StateError> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let number = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
    };
    let corrupt = |problem: &str| StateError::Corrupt {
        key: key.to_owned(),
        problem: problem.to_owned(),
    };
    match text("state").as_deref() {
        Some(DONE) => Ok(Claim::Done {
            result: text("result").ok_or_else(|| corrupt("done without a result"))?,
        }),
        Some(IN_PROGRESS) => Ok(Claim::Busy {
            lease_until: number("lease_until")
                .and_then(|s| DateTime::from_timestamp(s, 0))
                .ok_or_else(|| corrupt("in progress without a lease"))?,
        }),
        // Deleted between the failed put and the read (released or expired): busy for now.
        None => Ok(Claim::Busy {
            lease_until: Utc::now(),
        }),
        Some(_) => Err(corrupt("unknown state")),
    }
}

/// In memory, with the same rules, for handler tests.
#[derive(Default)]
pub struct MemoryIdempotency {
    records: Mutex<HashMap<String, Record>>,
}

#[derive(Clone)]
struct Record {
    owner: String,
    done: Option<String>,
    lease_until: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl MemoryIdempotency {
    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl IdempotencyStore for MemoryIdempotency {
    async fn claim(
        &self,
        key: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        ttl: Duration,
    ) -> Result<Claim, StateError> {
        let mut records = self.records();
        match records.get(key) {
            Some(record) if record.expires_at >= now => match &record.done {
                Some(result) => {
                    return Ok(Claim::Done {
                        result: result.clone(),
                    });
                }
                None if record.lease_until >= now => {
                    return Ok(Claim::Busy {
                        lease_until: record.lease_until,
                    });
                }
                None => {}
            },
            _ => {}
        }
        records.insert(
            key.to_owned(),
            Record {
                owner: owner.to_owned(),
                done: None,
                lease_until: later(now, lease),
                expires_at: later(now, ttl),
            },
        );
        Ok(Claim::Acquired)
    }

    async fn complete(
        &self,
        key: &str,
        owner: &str,
        result: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<(), StateError> {
        let mut records = self.records();
        match records.get_mut(key) {
            Some(record) if record.owner == owner => {
                record.done = Some(result.to_owned());
                record.expires_at = later(now, ttl);
                Ok(())
            }
            _ => Err(StateError::Corrupt {
                key: key.to_owned(),
                problem: "completed by a worker that does not hold it".into(),
            }),
        }
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StateError> {
        let mut records = self.records();
        if records
            .get(key)
            .is_some_and(|r| r.owner == owner && r.done.is_none())
        {
            records.remove(key);
        }
        Ok(())
    }
}
