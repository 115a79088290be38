//! A Lambda function whose behaviour the emulator's tests choose through its input, to observe
//! what the emulator does with each kind of answer. Every invocation is appended to the file
//! named by `PROBE_LOG` as one JSON line.
//!
//! - HTTP API events (by `rawPath`): `/echo` answers 200 with the event and the function's
//!   Lambda variables; `/raw` answers JSON without a statusCode; `/malformed` an invalid
//!   statusCode; `/fail` an error; `/sleep/{secs}` sleeps, then answers; `/exit` exits.
//! - SQS events (by each record's body): `ok`; `fail` (reported in batchItemFailures);
//!   `fail-once:{key}` (failed the first time, `PROBE_STATE` dir remembers); `sleep:{secs}`;
//!   the answer is the partial batch response.
//! - anything else: logged and answered with `{}`; `{"fail": true}` fails.

use std::io::Write;
use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

fn log(entry: Value) {
    let Ok(path) = std::env::var("PROBE_LOG") else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{entry}");
    }
}

/// True the first time `key` is seen by any environment of this probe.
fn first_time(key: &str) -> bool {
    let Ok(dir) = std::env::var("PROBE_STATE") else {
        return true;
    };
    std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(std::path::Path::new(&dir).join(key))
        .is_ok()
}

async fn http(event: &Value) -> Result<Value, Error> {
    let path = event["rawPath"].as_str().unwrap_or_default();
    if let Some(secs) = path.strip_prefix("/sleep/") {
        tokio::time::sleep(Duration::from_secs(secs.parse()?)).await;
        return Ok(json!({"statusCode": 200, "body": "slept"}));
    }
    match path {
        "/echo" => Ok(json!({
            "statusCode": 201,
            "headers": {"content-type": "application/json", "x-probe": "yes"},
            "cookies": ["a=1", "b=2"],
            "body": json!({
                "event": event,
                "runtime_api": std::env::var("AWS_LAMBDA_RUNTIME_API").ok(),
                "memory": std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").ok(),
                "function": std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok(),
                "template_variable": std::env::var("PROBE_FROM_TEMPLATE").ok(),
            }).to_string(),
        })),
        "/binary" => Ok(json!({"statusCode": 200, "body": "AAEC", "isBase64Encoded": true})),
        "/raw" => Ok(json!({"hello": "world"})),
        "/malformed" => Ok(json!({"statusCode": "two hundred"})),
        "/fail" => Err("the probe was asked to fail".into()),
        "/exit" => std::process::exit(3),
        _ => Ok(json!({"statusCode": 404, "body": "no such probe path"})),
    }
}

async fn sqs(records: &[Value]) -> Result<Value, Error> {
    let mut failures = Vec::new();
    for record in records {
        let id = record["messageId"].as_str().unwrap_or_default();
        let body = record["body"].as_str().unwrap_or_default();
        log(json!({"message_id": id, "body": body,
            "receive_count": record["attributes"]["ApproximateReceiveCount"],
            "group": record["attributes"]["MessageGroupId"]}));
        let failed = match body.split_once(':') {
            Some(("fail-once", key)) => first_time(key),
            Some(("sleep", secs)) => {
                tokio::time::sleep(Duration::from_secs(secs.parse()?)).await;
                false
            }
            _ => body == "fail",
        };
        if failed {
            failures.push(json!({"itemIdentifier": id}));
        }
    }
    Ok(json!({"batchItemFailures": failures}))
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let payload = event.payload;
    if payload.get("routeKey").is_some() {
        log(json!({"http": payload["rawPath"]}));
        return http(&payload).await;
    }
    if let Some(records) = payload.get("Records").and_then(Value::as_array) {
        return sqs(records).await;
    }
    log(json!({"event": payload}));
    if payload.get("fail") == Some(&Value::Bool(true)) {
        return Err("the probe was asked to fail".into());
    }
    Ok(json!({}))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
