//! An SQS event source mapping: pollers that receive batches from the queue (up to `BatchSize`,
//! within `MaximumBatchingWindowInSeconds` on a standard queue), invoke the function
//! synchronously with the `{"Records": [...]}` event, and delete what Lambda deletes
//! ([`crate::batch_outcome`]). What is not deleted is left alone: it comes back when the queue's
//! visibility timeout ends, and SQS's redrive policy moves it to the dead-letter queue after
//! `maxReceiveCount` receives. FIFO order is SQS's own: it hands out no message of a group while
//! another of that group is in flight, so a failed group waits and others go on.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::batch_outcome;
use crate::function::Function;

/// Lambda starts an SQS mapping with five concurrent batches; without `MaximumConcurrency` the
/// emulator stays there (AWS scales further, a laptop need not).
pub const DEFAULT_POLLERS: u32 = 5;
/// Long-poll wait per receive: short, so a stopping emulator does not wait on it.
const RECEIVE_WAIT_SECS: i32 = 1;

#[derive(Debug, Clone)]
pub struct Mapping {
    pub name: String,
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: u32,
    pub batching_window: Duration,
    pub reports_item_failures: bool,
    pub pollers: u32,
    pub region: String,
}

/// Runs the mapping until `stop` turns true: one receiver, at most `pollers` batches in
/// flight. Receives are made one at a time on purpose: moto decides which FIFO groups are in
/// flight when a long poll starts, so two overlapping receives could both take messages of one
/// group; SQS itself never would.
pub async fn run(
    mapping: Arc<Mapping>,
    function: Arc<Function>,
    sqs: aws_sdk_sqs::Client,
    mut stop: watch::Receiver<bool>,
) {
    let in_flight = Arc::new(tokio::sync::Semaphore::new(
        mapping.pollers.clamp(1, function.concurrency) as usize,
    ));
    let mut batches = tokio::task::JoinSet::new();
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&in_flight).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let messages = tokio::select! {
            received = receive(&mapping, &sqs) => received,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let messages = match messages {
            Ok(messages) if messages.is_empty() => continue,
            Ok(messages) => messages,
            Err(err) => {
                tracing::debug!(mapping = %mapping.name, %err, "receive failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let (mapping, function, sqs) = (Arc::clone(&mapping), Arc::clone(&function), sqs.clone());
        batches.spawn(async move {
            let slot = function.slot().await;
            invoke_and_settle(&mapping, &function, &slot, &sqs, messages).await;
            drop(permit);
        });
        // Finished batches are collected as we go.
        while batches.try_join_next().is_some() {}
    }
    // Stopping: batches in flight end with their environments.
    batches.shutdown().await;
}

/// One invocation for a batch, and what Lambda deletes after it.
async fn invoke_and_settle(
    mapping: &Mapping,
    function: &Function,
    slot: &crate::function::Slot,
    sqs: &aws_sdk_sqs::Client,
    messages: Vec<Message>,
) {
    let payload = Bytes::from(event(mapping, &messages).to_string());
    let outcome = function.invoke(slot, payload).await;
    let ids: Vec<&str> = messages
        .iter()
        .map(|m| m.message_id().unwrap_or_default())
        .collect();
    let deleted = batch_outcome::deleted(&ids, mapping.reports_item_failures, &outcome);
    if deleted.len() < ids.len() {
        tracing::info!(
            mapping = %mapping.name,
            kept = ids.len() - deleted.len(),
            "messages stay on the queue until their visibility timeout ends"
        );
    }
    let handles: Vec<&str> = messages
        .iter()
        .filter(|m| deleted.contains(&m.message_id().unwrap_or_default()))
        .filter_map(Message::receipt_handle)
        .collect();
    delete(mapping, sqs, &handles).await;
}

async fn receive(
    mapping: &Mapping,
    sqs: &aws_sdk_sqs::Client,
) -> Result<Vec<Message>, aws_sdk_sqs::Error> {
    let wanted = mapping.batch_size as usize;
    let window_ends = Instant::now() + mapping.batching_window;
    let mut messages = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&mapping.queue_url)
            .max_number_of_messages((wanted - messages.len()).min(10) as i32)
            .wait_time_seconds(RECEIVE_WAIT_SECS)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(aws_sdk_sqs::Error::from)?;
        messages.extend(received.messages.unwrap_or_default());
        // A batch is sent when it is full, when the window has passed, or at once without one
        // (FIFO mappings have no window).
        if messages.len() >= wanted
            || mapping.batching_window.is_zero()
            || Instant::now() >= window_ends
        {
            return Ok(messages);
        }
    }
}

async fn delete(mapping: &Mapping, sqs: &aws_sdk_sqs::Client, handles: &[&str]) {
    for chunk in handles.chunks(10) {
        let entries = chunk.iter().enumerate().filter_map(|(i, handle)| {
            aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(*handle)
                .build()
                .ok()
        });
        let result = sqs
            .delete_message_batch()
            .queue_url(&mapping.queue_url)
            .set_entries(Some(entries.collect()))
            .send()
            .await;
        match result {
            Ok(output) if output.failed.is_empty() => {}
            Ok(output) => tracing::warn!(
                mapping = %mapping.name,
                failed = output.failed.len(),
                "some messages could not be deleted; they come back after their visibility timeout"
            ),
            Err(err) => {
                tracing::warn!(mapping = %mapping.name, err = %aws_sdk_sqs::Error::from(err), "DeleteMessageBatch failed")
            }
        }
    }
}

/// The `{"Records": [...]}` event Lambda sends for a batch.
pub fn event(mapping: &Mapping, messages: &[Message]) -> Value {
    let records: Vec<Value> = messages.iter().map(|m| record(mapping, m)).collect();
    json!({ "Records": records })
}

fn record(mapping: &Mapping, message: &Message) -> Value {
    let mut attributes = Map::new();
    for (name, value) in message.attributes().into_iter().flatten() {
        attributes.insert(name.as_str().to_owned(), json!(value));
    }
    let mut message_attributes = Map::new();
    for (name, value) in message.message_attributes().into_iter().flatten() {
        let mut attribute = Map::new();
        if let Some(text) = value.string_value() {
            attribute.insert("stringValue".into(), json!(text));
        }
        if let Some(blob) = value.binary_value() {
            use base64::Engine;
            attribute.insert(
                "binaryValue".into(),
                json!(base64::engine::general_purpose::STANDARD.encode(blob.as_ref())),
            );
        }
        attribute.insert("stringListValues".into(), json!([]));
        attribute.insert("binaryListValues".into(), json!([]));
        attribute.insert("dataType".into(), json!(value.data_type()));
        message_attributes.insert(name.clone(), Value::Object(attribute));
    }
    let mut record = Map::new();
    record.insert("messageId".into(), json!(message.message_id()));
    record.insert("receiptHandle".into(), json!(message.receipt_handle()));
    record.insert("body".into(), json!(message.body().unwrap_or_default()));
    record.insert("attributes".into(), Value::Object(attributes));
    record.insert(
        "messageAttributes".into(),
        Value::Object(message_attributes),
    );
    record.insert("md5OfBody".into(), json!(message.md5_of_body()));
    if let Some(md5) = message.md5_of_message_attributes() {
        record.insert("md5OfMessageAttributes".into(), json!(md5));
    }
    record.insert("eventSource".into(), json!("aws:sqs"));
    record.insert("eventSourceARN".into(), json!(mapping.queue_arn));
    record.insert("awsRegion".into(), json!(mapping.region));
    Value::Object(record)
}
