//! Lambda → the handler: the payload says whether it is a dry run, the context says when the
//! invocation must end. A run with errors ends the invocation with an error, so Lambda's
//! `Errors` metric (and the template's alarm on it) sees it; the summary is the answer either way
//! in the logs.

use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

use crate::bucket::Bucket;
use crate::deadline::Deadline;
use crate::handler::{RetentionFunction, RunRequest};
use crate::tenants::RetentionSource;

pub async fn handle<C: RetentionSource, B: Bucket>(
    function: &RetentionFunction<C, B>,
    event: LambdaEvent<Value>,
) -> Result<Value, Error> {
    let request = RunRequest::from_event(event.payload)?;
    let deadline = Deadline::before(
        event.context.deadline(),
        function.settings().deadline_margin,
    );
    let summary = function.run(request, Utc::now(), &deadline).await;
    if summary.error_count > 0 {
        return Err(format!(
            "retention run had {} error(s), first: {}",
            summary.error_count,
            summary.errors.first().map(String::as_str).unwrap_or("?")
        )
        .into());
    }
    Ok(serde_json::to_value(&summary)?)
}

pub async fn run<C: RetentionSource, B: Bucket>(
    function: RetentionFunction<C, B>,
) -> Result<(), Error> {
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        handle(function, event)
    }))
    .await
}
