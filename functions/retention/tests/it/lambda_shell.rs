//! The kit's schedule shell around the function, with in-memory ports: the event decides dry run
//! or not, the context's deadline less the function's margin bounds the run, and a run with
//! errors fails the invocation (so the Errors alarm sees it) while a clean run answers with its
//! summary.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{Days, Utc};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use switchboard_retention::RetentionFunction;
use switchboard_retention::memory_bucket::MemoryBucket;
use switchboard_retention::metrics::MetricsOutput;
use switchboard_retention::settings::Settings;
use switchboard_retention::tenants::FixedRetention;
use switchboard_shared::kit::schedule::handle_event;

fn function(bucket: MemoryBucket) -> RetentionFunction<FixedRetention, MemoryBucket> {
    let settings = Settings::from_lookup(|name| match name {
        "SWITCHBOARD_CONFIG_TABLE" | "SWITCHBOARD_MEDIA_BUCKET" => Some("unused".into()),
        _ => None,
    })
    .unwrap();
    RetentionFunction::new(FixedRetention::default(), bucket, settings)
        .with_metrics(MetricsOutput::Off)
}

/// An object stored `days_ago` days before today (the shell uses the real clock).
fn old_key(tenant: &str, days_ago: u64) -> String {
    let day = Utc::now()
        .date_naive()
        .checked_sub_days(Days::new(days_ago))
        .unwrap();
    format!("inbound/{tenant}/{}/e/f.jpg", day.format("%Y-%m-%d"))
}

/// One invocation through the kit's shell, with the function's own margin (30 s by default).
async fn handle(
    function: &RetentionFunction<FixedRetention, MemoryBucket>,
    event: LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    handle_event(function, event, function.settings().deadline_margin).await
}

fn event(payload: Value, time_left: Duration) -> LambdaEvent<Value> {
    let mut context = Context::default();
    let deadline = SystemTime::now() + time_left;
    context.deadline = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    LambdaEvent::new(payload, context)
}

const PLENTY: Duration = Duration::from_secs(300);

#[tokio::test]
async fn a_dry_run_answers_with_its_summary_and_deletes_nothing() {
    let bucket = MemoryBucket::default();
    bucket.put(old_key("acme", 100), 5);
    let function = function(bucket);
    let answer = handle(&function, event(json!({ "dry_run": true }), PLENTY))
        .await
        .unwrap();
    assert_eq!(answer["dry_run"], true);
    assert_eq!(answer["tenants"]["acme"]["in_config"], false);
    assert_eq!(
        answer["tenants"]["acme"]["areas"]["inbound"]["objects_would_delete"],
        1
    );
    assert_eq!(answer["s3_requests"]["delete"], 0);
}

#[tokio::test]
async fn a_scheduled_event_deletes_what_is_expired() {
    let bucket = MemoryBucket::default();
    bucket.put(old_key("acme", 100), 5);
    bucket.put(old_key("acme", 1), 5);
    let function = function(bucket);
    let scheduled = json!({ "version": "0", "id": "x", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-03-01T12:00:00Z",
        "region": "eu-west-1", "resources": [], "detail": {} });
    let answer = handle(&function, event(scheduled, PLENTY)).await.unwrap();
    assert_eq!(answer["dry_run"], false);
    assert_eq!(
        answer["tenants"]["acme"]["areas"]["inbound"]["objects_deleted"],
        1
    );
    assert_eq!(
        answer["tenants"]["acme"]["areas"]["inbound"]["bytes_deleted"],
        5
    );
}

#[tokio::test]
async fn a_misspelt_field_fails_before_anything_is_deleted() {
    let bucket = MemoryBucket::default();
    bucket.put(old_key("acme", 100), 5);
    let function = function(bucket);
    let err = handle(&function, event(json!({ "dryrun": true }), PLENTY))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("dryrun"), "{err}");
    // Proven by a run that still finds the object.
    let answer = handle(&function, event(json!({ "dry_run": true }), PLENTY))
        .await
        .unwrap();
    assert_eq!(
        answer["tenants"]["acme"]["areas"]["inbound"]["objects_would_delete"],
        1
    );
}

#[tokio::test]
async fn an_invocation_already_inside_the_margin_sends_no_request() {
    let bucket = MemoryBucket::default();
    bucket.put(old_key("acme", 100), 5);
    let function = function(bucket);
    // 10 s left, 30 s margin.
    let answer = handle(&function, event(json!({}), Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(answer["stopped_for_deadline"], true);
    assert_eq!(answer["s3_requests"]["list"], 0);
}

#[tokio::test]
async fn a_run_with_errors_fails_the_invocation() {
    let bucket = MemoryBucket::default();
    let stubborn = old_key("acme", 100);
    bucket.put(&stubborn, 5);
    bucket.fail_deletes_of(&stubborn, 1);
    let function = function(bucket);
    let err = handle(&function, event(json!({}), PLENTY))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1 error"), "{err}");
    // The next invocation deletes it and succeeds.
    let answer = handle(&function, event(json!({}), PLENTY)).await.unwrap();
    assert_eq!(
        answer["tenants"]["acme"]["areas"]["inbound"]["objects_deleted"],
        1
    );
}
