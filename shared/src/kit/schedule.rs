//! The schedule shell: an EventBridge scheduled event (or a manual `aws lambda invoke` with a
//! payload of its own) to a [`ScheduleHandler`], and its summary back as the invocation's answer.
//! A handler's error fails the invocation, so Lambda's `Errors` metric (and an alarm on it)
//! sees it; a schedule is not retried at once, the next scheduled run is the retry.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;

use super::{Error, Function, Invocation, Schedule, Shell};

/// What started the invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleInput {
    /// EventBridge's scheduled event (`"source": "aws.events"`, `"detail-type": "Scheduled
    /// Event"`), with the time it was scheduled for when it names one.
    Scheduled { time: Option<DateTime<Utc>> },
    /// Any other payload: a run by hand (`null` when the invoke had none). The handler reads it.
    Invoked(Value),
}

/// Which of the two `payload` is. Only an object carrying both marks of EventBridge's envelope
/// counts as scheduled, so a hand-written payload is never mistaken for one and always reaches
/// the handler's own checks.
pub fn input_of(payload: Value) -> ScheduleInput {
    let scheduled = payload.get("source").and_then(Value::as_str) == Some("aws.events")
        && payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event");
    if !scheduled {
        return ScheduleInput::Invoked(payload);
    }
    let time = payload
        .get("time")
        .and_then(Value::as_str)
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|time| time.with_timezone(&Utc));
    ScheduleInput::Scheduled { time }
}

/// A function triggered by a schedule.
pub trait ScheduleHandler: Send + Sync {
    /// The run's answer (also what a manual invoke prints).
    type Summary: Serialize;

    fn handle(
        &self,
        input: ScheduleInput,
        invocation: &Invocation,
    ) -> impl Future<Output = Result<Self::Summary, Error>>;
}

/// One invocation: the payload read, the handler run under the context's deadline less
/// `margin`, its summary as JSON.
pub async fn handle_event<H: ScheduleHandler>(
    handler: &H,
    event: LambdaEvent<Value>,
    margin: Duration,
) -> Result<Value, Error> {
    let invocation = Invocation::starting(event.context.deadline(), margin);
    let summary = handler.handle(input_of(event.payload), &invocation).await?;
    Ok(serde_json::to_value(summary)?)
}

impl<F: Function + ScheduleHandler> Shell<F> for Schedule {
    async fn serve(function: F) -> Result<(), Error> {
        let function = &function;
        let margin = function.deadline_margin();
        lambda_runtime::run(lambda_runtime::service_fn(
            move |event: LambdaEvent<Value>| handle_event(function, event, margin),
        ))
        .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    #[test]
    fn an_eventbridge_scheduled_event_is_recognised_with_its_time() {
        let scheduled = json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
            "time": "2026-03-01T12:00:00Z", "region": "eu-west-1",
            "resources": ["arn:aws:events:eu-west-1:123456789012:rule/my-schedule"], "detail": {}
        });
        assert_eq!(
            input_of(scheduled),
            ScheduleInput::Scheduled {
                time: Some(Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap())
            }
        );
    }

    #[test]
    fn anything_else_reaches_the_handler_as_it_came() {
        for payload in [
            Value::Null,
            json!({}),
            json!({ "dry_run": true }),
            json!({ "source": "aws.events" }),
            json!({ "detail-type": "Scheduled Event", "source": "someone.else" }),
            json!([1]),
        ] {
            assert_eq!(input_of(payload.clone()), ScheduleInput::Invoked(payload));
        }
    }

    struct Counter;

    impl ScheduleHandler for Counter {
        type Summary = Value;

        async fn handle(
            &self,
            input: ScheduleInput,
            invocation: &Invocation,
        ) -> Result<Value, Error> {
            match input {
                ScheduleInput::Invoked(Value::String(text)) if text == "fail" => {
                    Err("the run had 1 error".into())
                }
                other => Ok(json!({
                    "scheduled": matches!(other, ScheduleInput::Scheduled { .. }),
                    "past": invocation.deadline.is_past(),
                })),
            }
        }
    }

    fn event(payload: Value, time_left: Duration) -> LambdaEvent<Value> {
        let mut context = lambda_runtime::Context::default();
        context.deadline = (std::time::SystemTime::now() + time_left)
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        LambdaEvent::new(payload, context)
    }

    #[tokio::test]
    async fn the_summary_is_the_answer_and_an_error_fails_the_invocation() {
        let scheduled = json!({ "source": "aws.events", "detail-type": "Scheduled Event" });
        let answer = handle_event(
            &Counter,
            event(scheduled, Duration::from_secs(60)),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        assert_eq!(answer, json!({ "scheduled": true, "past": false }));
        let inside_the_margin = handle_event(
            &Counter,
            event(json!({}), Duration::from_secs(10)),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        assert_eq!(inside_the_margin["past"], true);
        let err = handle_event(
            &Counter,
            event(json!("fail"), Duration::from_secs(60)),
            Duration::ZERO,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("1 error"), "{err}");
    }
}
