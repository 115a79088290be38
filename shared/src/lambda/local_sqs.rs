//! The local event-source shell: what Lambda's SQS event source mapping does, for `make dev`
//! and black-box tests, where no Lambda runs the functions.
//!
//! It long-polls a queue for batches of up to the mapping's batch size, hands each batch to the
//! same handler the Lambda shell calls (an [`SqsEvent`] in, an [`SqsBatchResponse`] out),
//! deletes the records the handler did not report as failed, and leaves the failed ones alone,
//! so SQS delivers them again after the visibility timeout, as in AWS. A handler error (the
//! whole invocation failing) deletes nothing. Every SQS-driven function runs locally through
//! this one shell.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use tracing::{info, warn};

use crate::error::AwsError;
use crate::settings::{Env, SettingsError};

/// The event source mapping's settings, as template.yaml gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSqsSource {
    pub queue_url: String,
    /// Up to 10 (what one ReceiveMessage returns).
    pub batch_size: i32,
    pub visibility_timeout: Duration,
    /// How long one poll waits for messages (SQS allows up to 20 s).
    pub wait: Duration,
}

impl LocalSqsSource {
    /// From `SWITCHBOARD_LOCAL_SQS_QUEUE_URL`, `…_BATCH_SIZE` (default 10) and
    /// `…_VISIBILITY_TIMEOUT_SECS` (default 30), which the local stack derives from the
    /// function's SQS event in template.yaml.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, SettingsError> {
        Ok(LocalSqsSource {
            queue_url: env.required("SWITCHBOARD_LOCAL_SQS_QUEUE_URL")?,
            batch_size: env.number("SWITCHBOARD_LOCAL_SQS_BATCH_SIZE", 10, 1..=10)? as i32,
            visibility_timeout: env.seconds(
                "SWITCHBOARD_LOCAL_SQS_VISIBILITY_TIMEOUT_SECS",
                Duration::from_secs(30),
                0..=43_200,
            )?,
            wait: env.seconds(
                "SWITCHBOARD_LOCAL_SQS_WAIT_SECS",
                Duration::from_secs(20),
                0..=20,
            )?,
        })
    }
}

/// What one batch came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub received: usize,
    pub deleted: usize,
    pub left_for_retry: usize,
}

/// Receives one batch (waiting up to `source.wait`), runs `handler` on it, deletes what
/// succeeded. `None` when the poll returned no message.
pub async fn poll_once<H, Fut, E>(
    client: &aws_sdk_sqs::Client,
    source: &LocalSqsSource,
    handler: &H,
) -> Result<Option<BatchReport>, AwsError>
where
    H: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = Result<SqsBatchResponse, E>>,
    E: std::fmt::Display,
{
    let received = client
        .receive_message()
        .queue_url(&source.queue_url)
        .max_number_of_messages(source.batch_size)
        .visibility_timeout(source.visibility_timeout.as_secs() as i32)
        .wait_time_seconds(source.wait.as_secs() as i32)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("ReceiveMessage", &err))?;
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(None);
    }
    let receipts: HashMap<String, String> = messages
        .iter()
        .filter_map(|m| Some((m.message_id.clone()?, m.receipt_handle.clone()?)))
        .collect();
    let mut event = SqsEvent::default();
    event.records = messages
        .into_iter()
        .map(|m| record(m, &source.queue_url))
        .collect();
    let ids: Vec<String> = event
        .records
        .iter()
        .filter_map(|r| r.message_id.clone())
        .collect();
    let failed: HashSet<String> = match handler(event).await {
        Ok(response) => response
            .batch_item_failures
            .into_iter()
            .map(|failure| failure.item_identifier)
            .collect(),
        Err(err) => {
            warn!(error = %err, "the handler failed the whole batch; every record comes back");
            ids.iter().cloned().collect()
        }
    };
    let done: Vec<DeleteMessageBatchRequestEntry> = ids
        .iter()
        .filter(|id| !failed.contains(*id))
        .filter_map(|id| {
            DeleteMessageBatchRequestEntry::builder()
                .id(id.clone())
                .receipt_handle(receipts.get(id)?.clone())
                .build()
                .ok()
        })
        .collect();
    let deleted = done.len();
    if !done.is_empty() {
        client
            .delete_message_batch()
            .queue_url(&source.queue_url)
            .set_entries(Some(done))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("DeleteMessageBatch", &err))?;
    }
    Ok(Some(BatchReport {
        received: ids.len(),
        deleted,
        left_for_retry: ids.len() - deleted,
    }))
}

/// Polls until `shutdown` completes; AWS errors are logged and polling goes on, as the event
/// source mapping does.
pub async fn run<H, Fut, E>(
    client: aws_sdk_sqs::Client,
    source: LocalSqsSource,
    handler: H,
    shutdown: impl Future<Output = ()>,
) where
    H: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = Result<SqsBatchResponse, E>>,
    E: std::fmt::Display,
{
    tokio::pin!(shutdown);
    info!(queue = %source.queue_url, batch_size = source.batch_size, "polling the queue");
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            polled = poll_once(&client, &source, &handler) => match polled {
                Ok(Some(report)) => info!(received = report.received, deleted = report.deleted, left_for_retry = report.left_for_retry, "batch handled"),
                Ok(None) => {}
                Err(err) => {
                    warn!(error = %err, "polling failed; trying again shortly");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
        }
    }
}

/// The record Lambda would pass for this message.
fn record(message: aws_sdk_sqs::types::Message, queue_url: &str) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = message.message_id;
    record.receipt_handle = message.receipt_handle;
    record.body = message.body;
    record.md5_of_body = message.md5_of_body;
    record.attributes = message
        .attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| (name.as_str().to_owned(), value))
        .collect();
    record.message_attributes = message
        .message_attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| {
            let mut attribute = SqsMessageAttribute::default();
            attribute.string_value = value.string_value;
            attribute.data_type = Some(value.data_type);
            (name, attribute)
        })
        .collect();
    record.event_source = Some("aws:sqs".to_owned());
    record.event_source_arn = Some(queue_arn(queue_url));
    record
}

/// `arn:aws:sqs:{region}:{account}:{name}` from a queue URL `…/{account}/{name}`; the region
/// is not in a local URL, so the SDK's region stands in.
fn queue_arn(queue_url: &str) -> String {
    let mut parts = queue_url.rsplit('/');
    let name = parts.next().unwrap_or_default();
    let account = parts.next().unwrap_or_default();
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    format!("arn:aws:sqs:{region}:{account}:{name}")
}
