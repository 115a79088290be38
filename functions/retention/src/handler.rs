//! One retention run, independent of Lambda: sweep, then the summary line and the metrics.
//! [`RetentionFunction::run`] takes the [`Invocation`] (its clock is the run's "today", its
//! deadline stops the run between two S3 requests), so tests choose both; the kit's schedule
//! shell calls it through [`crate::function`].

use serde::Deserialize;
use serde::de::IgnoredAny;
use switchboard_shared::kit::Invocation;

use crate::bucket::Bucket;
use crate::budget::RequestBudget;
use crate::metrics::MetricsOutput;
use crate::settings::Settings;
use crate::summary::RunSummary;
use crate::sweep::{Plan, sweep};
use crate::tenants::RetentionSource;

/// What an invocation asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunRequest {
    pub dry_run: bool,
}

/// The event: `{"dry_run": true}` by hand, or EventBridge's scheduled event. Unknown fields are
/// refused, so a misspelt `dryrun` fails instead of deleting for real.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Event {
    #[serde(default)]
    dry_run: bool,
    // EventBridge's envelope of a scheduled event, accepted and ignored.
    #[serde(default, rename = "version")]
    _version: Option<IgnoredAny>,
    #[serde(default, rename = "id")]
    _id: Option<IgnoredAny>,
    #[serde(default, rename = "detail-type")]
    _detail_type: Option<IgnoredAny>,
    #[serde(default, rename = "source")]
    _source: Option<IgnoredAny>,
    #[serde(default, rename = "account")]
    _account: Option<IgnoredAny>,
    #[serde(default, rename = "time")]
    _time: Option<IgnoredAny>,
    #[serde(default, rename = "region")]
    _region: Option<IgnoredAny>,
    #[serde(default, rename = "resources")]
    _resources: Option<IgnoredAny>,
    #[serde(default, rename = "detail")]
    _detail: Option<IgnoredAny>,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the event is not a JSON object")]
    NotAnObject,
    #[error("the event is not a retention request: {0}")]
    Invalid(#[from] serde_json::Error),
}

impl RunRequest {
    /// Reads an invocation's payload; no payload (`null`) is a normal run.
    pub fn from_event(payload: serde_json::Value) -> Result<RunRequest, EventError> {
        if payload.is_null() {
            return Ok(RunRequest::default());
        }
        // serde would also read a struct from a JSON array; only an object is an event.
        if !payload.is_object() {
            return Err(EventError::NotAnObject);
        }
        let event: Event = serde_json::from_value(payload)?;
        Ok(RunRequest {
            dry_run: event.dry_run,
        })
    }
}

pub struct RetentionFunction<C, B> {
    config: C,
    bucket: B,
    settings: Settings,
    metrics: MetricsOutput,
}

impl<C: RetentionSource, B: Bucket> RetentionFunction<C, B> {
    pub fn new(config: C, bucket: B, settings: Settings) -> Self {
        RetentionFunction {
            config,
            bucket,
            settings,
            metrics: MetricsOutput::default(),
        }
    }

    pub fn with_metrics(self, metrics: MetricsOutput) -> Self {
        RetentionFunction { metrics, ..self }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub async fn run(&self, request: RunRequest, invocation: &Invocation) -> RunSummary {
        self.run_within(request, invocation, &RequestBudget::unlimited())
            .await
    }

    /// A run that also stops once `budget` is spent (tests).
    pub async fn run_within(
        &self,
        request: RunRequest,
        invocation: &Invocation,
        budget: &RequestBudget,
    ) -> RunSummary {
        let plan = Plan {
            quarantine_days: self.settings.quarantine_days,
            dry_run: request.dry_run,
        };
        let summary = sweep(&self.config, &self.bucket, &plan, invocation, budget).await;
        summary.log();
        crate::metrics::emit(self.metrics, &summary, &self.settings.stage, invocation.now);
        summary
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dry_run_comes_from_the_event_and_typos_are_refused() {
        assert_eq!(
            RunRequest::from_event(json!({ "dry_run": true })).unwrap(),
            RunRequest { dry_run: true }
        );
        assert_eq!(
            RunRequest::from_event(serde_json::Value::Null).unwrap(),
            RunRequest::default()
        );
        assert_eq!(
            RunRequest::from_event(json!({})).unwrap(),
            RunRequest::default()
        );
        for bad in [
            json!({ "dryrun": true }),
            json!({ "dry_run": "yes" }),
            json!([true]),
        ] {
            assert!(RunRequest::from_event(bad.clone()).is_err(), "{bad}");
        }
        let typo = RunRequest::from_event(json!({ "dryrun": true }))
            .unwrap_err()
            .to_string();
        assert!(typo.contains("dryrun"), "{typo}");
    }

    #[test]
    fn an_eventbridge_scheduled_event_is_a_normal_run() {
        let scheduled = json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
            "time": "2026-03-01T12:00:00Z", "region": "eu-west-1",
            "resources": ["arn:aws:events:eu-west-1:123456789012:rule/my-schedule"], "detail": {}
        });
        assert_eq!(
            RunRequest::from_event(scheduled).unwrap(),
            RunRequest { dry_run: false }
        );
    }
}
