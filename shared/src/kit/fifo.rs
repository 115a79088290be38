//! The SQS FIFO shell: a batch from Lambda's event source mapping, through the FIFO batch
//! runner (`lambda::sqs`: each message group in order, groups a bounded number at a time), to a
//! [`FifoHandler`] record by record, and the partial batch response back.
//!
//! **Transient or permanent.** A handler's [`RecordError`] says which, and this shell is the
//! one place that acts on it:
//! - transient (it may pass later: throttling, an unavailable service, time running out): the
//!   record and every later record of its group are reported in `batchItemFailures`, so SQS
//!   delivers them again, still in order; other groups go on;
//! - permanent (trying again gives the same answer): the handler has already answered it as its
//!   contract says where it could (a failed `send_result`, an event forwarded with what failed
//!   marked); the record counts as done, logged as an error, and its group goes on. Retrying it
//!   would only hold its conversation back until it reached the dead-letter queue.
//!
//! Every failure is logged with the record's SQS message id and the reason, never its content.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use tracing::error;

use super::{Error, Fifo, Function, Invocation, Shell};
use crate::error::{Classify, Retry};
pub use crate::lambda::sqs::Record;

/// Why a record was not done, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct RecordError {
    pub retry: Retry,
    /// For the log: what failed and why, without the record's content.
    pub reason: String,
}

impl RecordError {
    pub fn transient(reason: impl Display) -> RecordError {
        RecordError {
            retry: Retry::Retryable,
            reason: reason.to_string(),
        }
    }

    pub fn permanent(reason: impl Display) -> RecordError {
        RecordError {
            retry: Retry::Permanent,
            reason: reason.to_string(),
        }
    }

    /// A function's own error, by its own classification.
    pub fn classified<E: Classify + Display>(err: &E) -> RecordError {
        RecordError {
            retry: err.retry(),
            reason: err.to_string(),
        }
    }
}

impl Classify for RecordError {
    fn retry(&self) -> Retry {
        self.retry
    }
}

/// A function triggered by an SQS FIFO queue.
pub trait FifoHandler: Send + Sync {
    /// Message groups (conversations) handled at once within a batch.
    fn group_concurrency(&self) -> usize;

    /// One record. `Ok` only once its effect happened (the event is on its queue).
    fn handle(
        &self,
        record: Record<'_>,
        invocation: &Invocation,
    ) -> impl Future<Output = Result<(), RecordError>>;
}

/// One batch under one invocation: every record shares its clock and its deadline.
pub async fn handle_batch<H: FifoHandler>(
    handler: &H,
    event: &SqsEvent,
    invocation: &Invocation,
) -> SqsBatchResponse {
    crate::lambda::sqs::handle_batch(
        &event.records,
        handler.group_concurrency(),
        |record| async move {
            match handler.handle(record, invocation).await {
                Err(err) if err.retry == Retry::Permanent => {
                    error!(
                        message_id = record.message_id,
                        reason = %err.reason,
                        "record failed for good; answered where it could be, and done: its group goes on"
                    );
                    Ok(())
                }
                other => other,
            }
        },
    )
    .await
}

/// One invocation: the batch under the context's deadline less `margin`.
pub async fn handle_event<H: FifoHandler>(
    handler: &H,
    event: LambdaEvent<SqsEvent>,
    margin: Duration,
) -> SqsBatchResponse {
    let invocation = Invocation::starting(event.context.deadline(), margin);
    handle_batch(handler, &event.payload, &invocation).await
}

impl<F: Function + FifoHandler> Shell<F> for Fifo {
    async fn serve(function: F) -> Result<(), Error> {
        let function = &function;
        let margin = function.deadline_margin();
        lambda_runtime::run(lambda_runtime::service_fn(
            move |event: LambdaEvent<SqsEvent>| async move {
                Ok::<_, Error>(handle_event(function, event, margin).await)
            },
        ))
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use aws_lambda_events::event::sqs::SqsMessage;
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::deadline::Deadline;

    /// Fails the records whose body says so; remembers what ran, and at which time, and who sent
    /// it.
    #[derive(Default)]
    struct Scripted {
        ran: Mutex<Vec<(String, chrono::DateTime<Utc>)>>,
        senders: Mutex<Vec<Option<String>>>,
        receives: Mutex<Vec<(String, u32)>>,
    }

    impl FifoHandler for Scripted {
        fn group_concurrency(&self) -> usize {
            2
        }

        async fn handle(
            &self,
            record: Record<'_>,
            invocation: &Invocation,
        ) -> Result<(), RecordError> {
            self.ran
                .lock()
                .unwrap()
                .push((record.message_id.to_owned(), invocation.now));
            self.senders
                .lock()
                .unwrap()
                .push(record.sender_id.map(str::to_owned));
            self.receives
                .lock()
                .unwrap()
                .push((record.message_id.to_owned(), record.receive_count));
            match record.body {
                "transient" => Err(RecordError::transient("the queue is down")),
                "permanent" => Err(RecordError::permanent("not an event")),
                _ => Ok(()),
            }
        }
    }

    fn message(id: &str, group: &str, body: &str) -> SqsMessage {
        let mut message = SqsMessage::default();
        message.message_id = Some(id.into());
        message.body = Some(body.into());
        message
            .attributes
            .insert("MessageGroupId".into(), group.into());
        message
    }

    async fn run(records: Vec<SqsMessage>) -> (Vec<String>, Vec<String>, Scripted) {
        let handler = Scripted::default();
        let mut event = SqsEvent::default();
        event.records = records;
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
        let response =
            handle_batch(&handler, &event, &Invocation::new(now, Deadline::never())).await;
        let failed = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        let ran = handler
            .ran
            .lock()
            .unwrap()
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        (failed, ran, handler)
    }

    #[tokio::test]
    async fn a_permanent_failure_is_done_and_its_group_goes_on() {
        let (failed, ran, _) = run(vec![
            message("a1", "a", "ok"),
            message("a2", "a", "permanent"),
            message("a3", "a", "ok"),
        ])
        .await;
        assert!(failed.is_empty(), "{failed:?}");
        assert_eq!(ran, ["a1", "a2", "a3"]);
    }

    #[tokio::test]
    async fn a_transient_failure_is_reported_with_the_rest_of_its_group_only() {
        let (failed, ran, _) = run(vec![
            message("a1", "a", "ok"),
            message("b1", "b", "ok"),
            message("a2", "a", "transient"),
            message("b2", "b", "permanent"),
            message("a3", "a", "ok"),
            message("b3", "b", "ok"),
        ])
        .await;
        assert_eq!(failed, ["a2", "a3"]);
        assert!(!ran.contains(&"a3".to_owned()), "a3 never ran: {ran:?}");
        assert!(ran.contains(&"b3".to_owned()), "b went on: {ran:?}");
    }

    #[tokio::test]
    async fn every_record_of_a_batch_shares_the_invocations_clock() {
        let (_, _, handler) = run(vec![message("a1", "a", "ok"), message("b1", "b", "ok")]).await;
        let times: Vec<_> = handler
            .ran
            .lock()
            .unwrap()
            .iter()
            .map(|(_, t)| *t)
            .collect();
        assert_eq!(times.len(), 2);
        assert!(
            times
                .iter()
                .all(|t| *t == Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap())
        );
    }

    #[tokio::test]
    async fn each_record_carries_the_sender_id_sqs_set() {
        let mut from_role = message("a1", "a", "ok");
        from_role
            .attributes
            .insert("SenderId".into(), "AROAEXAMPLEROLE00001:desk".into());
        let without = message("b1", "b", "ok");
        let (_, _, handler) = run(vec![from_role, without]).await;
        let mut senders = handler.senders.lock().unwrap().clone();
        senders.sort();
        assert_eq!(
            senders,
            [None, Some("AROAEXAMPLEROLE00001:desk".to_owned())]
        );
    }

    #[tokio::test]
    async fn each_record_carries_its_receive_count_one_when_sqs_gave_none() {
        let mut again = message("a1", "a", "ok");
        again
            .attributes
            .insert("ApproximateReceiveCount".into(), "3".into());
        let (_, _, handler) = run(vec![again, message("b1", "b", "ok")]).await;
        let mut receives = handler.receives.lock().unwrap().clone();
        receives.sort();
        assert_eq!(receives, [("a1".to_owned(), 3), ("b1".to_owned(), 1)]);
    }

    #[test]
    fn a_functions_error_keeps_its_own_classification() {
        let permanent = crate::sqs::MessageError::TooLarge { bytes: 300_000 };
        let err = RecordError::classified(&permanent);
        assert_eq!(err.retry, Retry::Permanent);
        assert!(err.reason.contains("300000"), "{}", err.reason);
        assert!(RecordError::transient("x").is_retryable());
    }
}
