//! In-memory versions of the webhook's ports, so its decision table is tested in milliseconds
//! without AWS (the SQS and S3 adapters are tested against moto).
//!
//! The queue enforces what real SQS enforces and moto does not: the characters a message may
//! contain, the 256 KiB size, and FIFO de-duplication by id within five minutes. A test that
//! passes here therefore cannot hide a message real SQS would refuse.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use switchboard_shared::error::{AwsError, Retry};
use switchboard_shared::sqs::{MAX_MESSAGE_BYTES, first_refused_char, message_size};

use crate::ingest::{IngestError, IngestMessage, IngestQueue};
use crate::quarantine::{Quarantine, QuarantineError};

/// SQS FIFO's de-duplication interval.
pub const DEDUPLICATION_WINDOW: Duration = Duration::from_secs(300);

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn failure(operation: &'static str, code: &str, status: u16, retry: Retry) -> AwsError {
    AwsError {
        operation,
        code: Some(code.to_owned()),
        http_status: Some(status),
        retry,
        message: format!("{code}: (in-memory test port)"),
    }
}

/// How a port should fail from now on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failing {
    /// Throttling / unavailable: the caller should ask for a retry.
    Transient,
    /// A refusal that will not change.
    Permanent,
}

#[derive(Default)]
pub struct MemoryIngestQueue {
    accepted: Mutex<Vec<IngestMessage>>,
    /// De-duplication id → when first accepted.
    seen: Mutex<HashMap<String, Instant>>,
    failing: Mutex<Option<Failing>>,
    /// Calls, accepted or not.
    calls: Mutex<usize>,
}

impl MemoryIngestQueue {
    /// Messages SQS would deliver (duplicates within the window are not among them).
    pub fn messages(&self) -> Vec<IngestMessage> {
        lock(&self.accepted).clone()
    }

    pub fn calls(&self) -> usize {
        *lock(&self.calls)
    }

    pub fn fail(&self, failing: Option<Failing>) {
        *lock(&self.failing) = failing;
    }

    /// What real SQS checks before it accepts a FIFO message.
    fn check(message: &IngestMessage) -> Result<(), AwsError> {
        if let Some((offset, c)) = first_refused_char(&message.body) {
            return Err(AwsError {
                message: format!(
                    "InvalidMessageContents: invalid character U+{:04X} at byte {offset}",
                    c as u32
                ),
                ..failure(
                    "SendMessage",
                    "InvalidMessageContents",
                    400,
                    Retry::Permanent,
                )
            });
        }
        let size = message_size(
            &message.body,
            &[("kind", message.kind), ("tenant", &message.tenant)],
        );
        if size > MAX_MESSAGE_BYTES {
            return Err(failure(
                "SendMessage",
                "InvalidParameterValue",
                400,
                Retry::Permanent,
            ));
        }
        let valid_id = |id: &str| {
            (1..=128).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c.is_ascii_punctuation())
        };
        if !valid_id(&message.group_id) || !valid_id(&message.deduplication_id) {
            return Err(failure(
                "SendMessage",
                "InvalidParameterValue",
                400,
                Retry::Permanent,
            ));
        }
        Ok(())
    }
}

impl IngestQueue for MemoryIngestQueue {
    async fn send(&self, message: &IngestMessage) -> Result<(), IngestError> {
        *lock(&self.calls) += 1;
        match *lock(&self.failing) {
            Some(Failing::Transient) => {
                return Err(
                    failure("SendMessage", "ThrottlingException", 400, Retry::Retryable).into(),
                );
            }
            Some(Failing::Permanent) => {
                return Err(failure("SendMessage", "AccessDenied", 403, Retry::Permanent).into());
            }
            None => {}
        }
        MemoryIngestQueue::check(message)?;
        let mut seen = lock(&self.seen);
        let now = Instant::now();
        if let Some(first) = seen.get(&message.deduplication_id)
            && now.duration_since(*first) < DEDUPLICATION_WINDOW
        {
            // SQS answers success and drops the duplicate.
            return Ok(());
        }
        seen.insert(message.deduplication_id.clone(), now);
        lock(&self.accepted).push(message.clone());
        Ok(())
    }
}

/// A body kept by [`MemoryQuarantine`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub key: String,
    pub tenant: String,
    pub body: Vec<u8>,
    pub reason: String,
}

#[derive(Default)]
pub struct MemoryQuarantine {
    kept: Mutex<Vec<Kept>>,
    failing: Mutex<bool>,
}

impl MemoryQuarantine {
    pub fn kept(&self) -> Vec<Kept> {
        lock(&self.kept).clone()
    }

    pub fn fail(&self, failing: bool) {
        *lock(&self.failing) = failing;
    }
}

impl Quarantine for MemoryQuarantine {
    async fn keep(
        &self,
        tenant: &str,
        body: &[u8],
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<String, QuarantineError> {
        if *lock(&self.failing) {
            return Err(QuarantineError(failure(
                "PutObject",
                "SlowDown",
                503,
                Retry::Retryable,
            )));
        }
        let key = crate::quarantine::quarantine_key(tenant, now);
        lock(&self.kept).push(Kept {
            key: key.clone(),
            tenant: tenant.to_owned(),
            body: body.to_vec(),
            reason: reason.to_owned(),
        });
        Ok(key)
    }
}
