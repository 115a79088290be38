//! SQS (Lambda's event source mapping on `replies.fifo`) → the FIFO batch runner → the handler,
//! and the partial batch response back. The local event-source shell calls [`handle_batch`]
//! the same way.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use lambda_runtime::{Error, LambdaEvent};
use switchboard_shared::config::TenantConfigSource;
use switchboard_shared::config::credentials::CredentialSource;
use switchboard_shared::deadline::Deadline;
use switchboard_shared::event_queue::EventQueue;
use switchboard_shared::lambda::sqs::handle_batch as handle_fifo_batch;
use switchboard_shared::state::idempotency::IdempotencyStore;
use switchboard_shared::state::reply_map::ReplyIdMap;

use crate::handler::Outbound;
use crate::media::OutboundObjects;

/// Kept back from the invocation's deadline to store results and answer SQS after the last
/// Sinch call gives up (a DynamoDB write and an SQS send, each with the SDK's own retries).
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(3);

/// Runs one batch; `now` is the batch's clock (results carry it, claims and expiry count from it).
pub async fn handle_batch<C, K, I, R, M, Q>(
    outbound: &Outbound<C, K, I, R, M, Q>,
    event: SqsEvent,
    now: DateTime<Utc>,
    deadline: Deadline,
) -> SqsBatchResponse
where
    C: TenantConfigSource,
    K: CredentialSource,
    I: IdempotencyStore,
    R: ReplyIdMap,
    M: OutboundObjects,
    Q: EventQueue,
{
    let concurrency = outbound.settings().group_concurrency;
    let deadline = &deadline;
    handle_fifo_batch(&event.records, concurrency, |record| async move {
        outbound.handle(record, now, deadline).await.map(|_| ())
    })
    .await
}

pub async fn run_lambda<C, K, I, R, M, Q>(outbound: Outbound<C, K, I, R, M, Q>) -> Result<(), Error>
where
    C: TenantConfigSource,
    K: CredentialSource,
    I: IdempotencyStore,
    R: ReplyIdMap,
    M: OutboundObjects,
    Q: EventQueue,
{
    let outbound = &outbound;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<SqsEvent>| async move {
            let deadline = Deadline::from_lambda(event.context.deadline(), DEADLINE_MARGIN);
            Ok::<_, Error>(handle_batch(outbound, event.payload, Utc::now(), deadline).await)
        },
    ))
    .await
}
