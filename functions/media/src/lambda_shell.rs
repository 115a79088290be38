//! SQS (Lambda's event source mapping) → the FIFO batch runner → the handler, and the partial
//! batch response back. The local event-source shell calls [`handle_batch`] the same way, with
//! a deadline of its own (the function's timeout, as in Lambda).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent};
use switchboard_shared::config::TenantConfigSource;
use switchboard_shared::deadline::{DEFAULT_MARGIN, Deadline};
use switchboard_shared::lambda::sqs::handle_batch as handle_fifo_batch;
use switchboard_shared::state::delivery::DeliveryStatusStore;
use switchboard_shared::state::idempotency::IdempotencyStore;

use crate::enrich::Enrich;
use crate::forward::EventQueue;
use crate::handler::MediaStage;
use crate::store::MediaStore;

pub async fn handle_batch<C, I, D, S, Q, E>(
    stage: &MediaStage<C, I, D, S, Q, E>,
    event: SqsEvent,
    deadline: Deadline,
) -> SqsBatchResponse
where
    C: TenantConfigSource,
    I: IdempotencyStore,
    D: DeliveryStatusStore,
    S: MediaStore,
    Q: EventQueue,
    E: Enrich,
{
    let concurrency = stage.settings().group_concurrency;
    let deadline = &deadline;
    handle_fifo_batch(&event.records, concurrency, |record| async move {
        stage.handle(record, Utc::now(), deadline).await.map(|_| ())
    })
    .await
}

pub async fn run_lambda<C, I, D, S, Q, E>(stage: MediaStage<C, I, D, S, Q, E>) -> Result<(), Error>
where
    C: TenantConfigSource,
    I: IdempotencyStore,
    D: DeliveryStatusStore,
    S: MediaStore,
    Q: EventQueue,
    E: Enrich,
{
    let stage = &stage;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<SqsEvent>| async move {
            // Every record of the batch shares the invocation's time, less a margin to answer.
            let deadline = Deadline::from_lambda(event.context.deadline(), DEFAULT_MARGIN);
            Ok::<_, Error>(handle_batch(stage, event.payload, deadline).await)
        },
    ))
    .await
}
