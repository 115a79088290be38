//! Baseline for the cold-start benchmark: the least a `lambda_runtime` function can do, so
//! whatever a real function costs above it is that function's own start-up work.
//! No tracing subscriber on purpose: it is part of what real functions pay for.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(echo)).await
}

async fn echo(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(event.payload)
}
