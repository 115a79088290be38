//! Schedules: an EventBridge rule (`Type: Schedule`) or EventBridge Scheduler (`ScheduleV2`)
//! invoking the function asynchronously at the template's rate, or at a faster local period.
//! A rule sends the scheduled-event JSON (or its `Input` instead); Scheduler sends its `Input`
//! verbatim. An asynchronous invocation that fails is retried twice, after the configured
//! delays (Lambda's are 1 and 2 minutes), then dropped, as Lambda does without a DLQ.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use switchboard_local_stack::template::{ScheduleFlavour, ScheduleSource};
use tokio::sync::watch;

use crate::function::Function;

/// Lambda's delays before the two retries of a failed asynchronous invocation.
pub const ASYNC_RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(60), Duration::from_secs(120)];

#[derive(Debug, Clone)]
pub struct Schedule {
    /// `Function/Event`, for logs.
    pub name: String,
    /// The rule's name, as in its ARN.
    pub rule: String,
    pub source: ScheduleSource,
    pub period: Duration,
    pub region: String,
    pub account: String,
    pub retry_delays: Vec<Duration>,
}

/// The payload one firing delivers.
pub fn payload(schedule: &Schedule, at: chrono::DateTime<chrono::Utc>) -> Value {
    if let Some(input) = &schedule.source.input {
        // Checked when the emulator starts: the template's Input is JSON.
        return serde_json::from_str(input).unwrap_or(Value::Null);
    }
    let time = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let id = uuid::Uuid::new_v4().to_string();
    match schedule.source.flavour {
        ScheduleFlavour::EventBridgeRule => json!({
            "version": "0",
            "id": id,
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": schedule.account,
            "time": time,
            "region": schedule.region,
            "resources": [format!("arn:aws:events:{}:{}:rule/{}", schedule.region, schedule.account, schedule.rule)],
            "detail": {},
        }),
        // Scheduler without Input: the shape third parties observed (`detail` a string).
        ScheduleFlavour::Scheduler => json!({
            "version": "0",
            "id": id,
            "detail-type": "Scheduled Event",
            "source": "aws.scheduler",
            "account": schedule.account,
            "time": time,
            "region": schedule.region,
            "resources": [format!("arn:aws:scheduler:{}:{}:schedule/default/{}", schedule.region, schedule.account, schedule.rule)],
            "detail": "{}",
        }),
    }
}

/// Fires every period (the first after one period, as a new rule does) until `stop`.
pub async fn run(
    schedule: Arc<Schedule>,
    function: Arc<Function>,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval_at(
        tokio::time::Instant::now() + schedule.period,
        schedule.period,
    );
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        let payload = Bytes::from(payload(&schedule, chrono::Utc::now()).to_string());
        tokio::spawn(invoke_async(
            Arc::clone(&schedule),
            Arc::clone(&function),
            payload,
        ));
    }
}

/// One asynchronous invocation with Lambda's retries.
pub async fn invoke_async(schedule: Arc<Schedule>, function: Arc<Function>, payload: Bytes) {
    let mut delays = schedule.retry_delays.iter();
    loop {
        let slot = function.slot().await;
        let outcome = function.invoke(&slot, payload.clone()).await;
        drop(slot);
        let crate::environment::Outcome::Failed { error_type, .. } = outcome else {
            return;
        };
        match delays.next() {
            Some(delay) => {
                tracing::warn!(schedule = %schedule.name, %error_type, retry_in_secs = delay.as_secs_f64(), "scheduled invocation failed; retrying");
                tokio::time::sleep(*delay).await;
            }
            None => {
                tracing::warn!(schedule = %schedule.name, %error_type, "scheduled invocation failed after its retries; dropped");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(flavour: ScheduleFlavour, input: Option<&str>) -> Schedule {
        Schedule {
            name: "Retention/Schedule".into(),
            rule: "Retention-Schedule".into(),
            source: ScheduleSource {
                flavour,
                expression: "rate(1 hour)".into(),
                input: input.map(str::to_owned),
                enabled: true,
            },
            period: Duration::from_secs(3600),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            retry_delays: Vec::new(),
        }
    }

    #[test]
    fn a_rule_sends_the_scheduled_event() {
        let at = chrono::DateTime::from_timestamp(1_551_403_425, 0).unwrap();
        let event = payload(&schedule(ScheduleFlavour::EventBridgeRule, None), at);
        assert_eq!(event["detail-type"], "Scheduled Event");
        assert_eq!(event["source"], "aws.events");
        assert_eq!(event["time"], "2019-03-01T01:23:45Z");
        assert_eq!(event["detail"], json!({}));
        assert_eq!(
            event["resources"][0],
            "arn:aws:events:eu-west-1:123456789012:rule/Retention-Schedule"
        );
    }

    #[test]
    fn an_input_is_delivered_instead_of_the_event() {
        let at = chrono::Utc::now();
        for flavour in [ScheduleFlavour::EventBridgeRule, ScheduleFlavour::Scheduler] {
            let event = payload(&schedule(flavour, Some(r#"{"dry_run":true}"#)), at);
            assert_eq!(event, json!({"dry_run": true}));
        }
        let default = payload(&schedule(ScheduleFlavour::Scheduler, None), at);
        assert_eq!(default["source"], "aws.scheduler");
    }
}
