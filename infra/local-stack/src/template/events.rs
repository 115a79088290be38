//! What invokes a function: the `Events` of an `AWS::Serverless::Function`. HTTP routes, SQS
//! event source mappings and schedules are described with everything that changes how a local
//! runner must behave (batch size, batching window, partial batch responses, the queue's
//! visibility timeout, the schedule's rate and input); other kinds are kept by name only.
//!
//! As for resources, the reader is strict where behaviour depends on it: an SQS event property
//! it does not know (a filter, say) is an error, not silently dropped, and limits that AWS
//! enforces at deploy time are enforced here too, so `make dev` never runs a configuration that
//! would not deploy.

use std::time::Duration;

use serde_yaml::Value;

use super::{Template, TemplateError, invalid};

/// Lambda's defaults for an SQS event source mapping.
const DEFAULT_BATCH_SIZE: u32 = 10;
/// FIFO queues: at most 10 messages per batch, and no batching window.
const FIFO_MAX_BATCH_SIZE: u32 = 10;
const STANDARD_MAX_BATCH_SIZE: u32 = 10_000;
const MAX_BATCHING_WINDOW_SECS: u32 = 300;
/// SQS's default when a queue sets no VisibilityTimeout.
pub const DEFAULT_VISIBILITY_TIMEOUT_SECS: u32 = 30;
pub const REPORT_BATCH_ITEM_FAILURES: &str = "ReportBatchItemFailures";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSource {
    /// An API Gateway route (`HttpApi` or `Api`).
    Http {
        kind: String,
        /// Logical id of the API (`ApiId` / `RestApiId`); `None` means SAM's implicit API.
        api: Option<String>,
        method: Option<String>,
        path: Option<String>,
    },
    Sqs(SqsSource),
    Schedule(ScheduleSource),
    /// A kind the local tooling does not run (S3, SNS, DynamoDB streams, ...).
    Other {
        kind: String,
    },
}

impl EventSource {
    /// The `Type` as written in the template.
    pub fn kind(&self) -> &str {
        match self {
            EventSource::Http { kind, .. } | EventSource::Other { kind } => kind,
            EventSource::Sqs(_) => "SQS",
            EventSource::Schedule(schedule) => match schedule.flavour {
                ScheduleFlavour::EventBridgeRule => "Schedule",
                ScheduleFlavour::Scheduler => "ScheduleV2",
            },
        }
    }
}

/// An SQS event source mapping, with the facts of its queue that matter to a consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsSource {
    /// Logical id of the queue (`Queue: !GetAtt X.Arn`).
    pub queue: String,
    pub batch_size: u32,
    pub maximum_batching_window_secs: u32,
    pub function_response_types: Vec<String>,
    pub enabled: bool,
    /// `ScalingConfig.MaximumConcurrency`, when set.
    pub maximum_concurrency: Option<u32>,
    /// Filled from the queue once the whole template is read.
    pub queue_fifo: bool,
    pub queue_visibility_timeout_secs: u32,
}

impl SqsSource {
    /// Whether the function answers `{"batchItemFailures": [...]}` so that only the failed
    /// messages come back; otherwise any error returns the whole batch to the queue.
    pub fn reports_batch_item_failures(&self) -> bool {
        self.function_response_types
            .iter()
            .any(|t| t == REPORT_BATCH_ITEM_FAILURES)
    }

    pub fn maximum_batching_window(&self) -> Duration {
        Duration::from_secs(self.maximum_batching_window_secs.into())
    }

    pub fn queue_visibility_timeout(&self) -> Duration {
        Duration::from_secs(self.queue_visibility_timeout_secs.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleFlavour {
    /// `Type: Schedule`: an EventBridge rule.
    EventBridgeRule,
    /// `Type: ScheduleV2`: EventBridge Scheduler.
    Scheduler,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSource {
    pub flavour: ScheduleFlavour,
    /// `rate(...)`, `cron(...)` or `at(...)`, as written.
    pub expression: String,
    /// The JSON the function receives instead of the scheduled event, when set.
    pub input: Option<String>,
    pub enabled: bool,
}

impl ScheduleSource {
    /// The period of a `rate(N unit)` expression; `None` for cron and one-off schedules.
    pub fn rate(&self) -> Option<Duration> {
        parse_rate(&self.expression)
    }
}

/// `rate(1 minute)`, `rate(5 minutes)`, `rate(1 hour)`, `rate(2 days)`; EventBridge wants the
/// singular for 1 and the plural otherwise.
pub fn parse_rate(expression: &str) -> Option<Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (value, unit) = inner.trim().split_once(' ')?;
    let value: u64 = value.parse().ok().filter(|v| *v > 0)?;
    let seconds = match (value, unit.trim()) {
        (1, "minute") | (2.., "minutes") => 60,
        (1, "hour") | (2.., "hours") => 3600,
        (1, "day") | (2.., "days") => 86_400,
        _ => return None,
    };
    value.checked_mul(seconds).map(Duration::from_secs)
}

pub(super) fn parse_event(
    template: &Template,
    event: &Value,
    at: &str,
) -> Result<EventSource, TemplateError> {
    let kind = event
        .get("Type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(at, "Type is missing"))?
        .to_owned();
    let empty = serde_yaml::Mapping::new();
    let properties = match event.get("Properties") {
        Some(Value::Mapping(m)) => m,
        Some(_) => return Err(invalid(at, "Properties is not a mapping")),
        None => &empty,
    };
    let text = |key: &str| {
        properties
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match kind.as_str() {
        "HttpApi" | "Api" => {
            let api = ["ApiId", "RestApiId"]
                .iter()
                .filter_map(|key| properties.get(*key))
                .find_map(|value| match super::Expr::parse(value, at) {
                    Ok(super::Expr::Ref(id)) => Some(id),
                    _ => None,
                });
            Ok(EventSource::Http {
                kind,
                api,
                method: text("Method"),
                path: text("Path"),
            })
        }
        "SQS" => parse_sqs(template, properties, at).map(EventSource::Sqs),
        "Schedule" => parse_schedule(template, properties, at, ScheduleFlavour::EventBridgeRule)
            .map(EventSource::Schedule),
        "ScheduleV2" => parse_schedule(template, properties, at, ScheduleFlavour::Scheduler)
            .map(EventSource::Schedule),
        _ => Ok(EventSource::Other { kind }),
    }
}

fn parse_sqs(
    template: &Template,
    properties: &serde_yaml::Mapping,
    at: &str,
) -> Result<SqsSource, TemplateError> {
    let mut queue = None;
    let mut batch_size = DEFAULT_BATCH_SIZE;
    let mut window = 0;
    let mut function_response_types = Vec::new();
    let mut enabled = true;
    let mut maximum_concurrency = None;
    for (key, value) in properties {
        let key = key
            .as_str()
            .ok_or_else(|| invalid(at, "a property name is not a string"))?;
        let location = format!("{at}.Properties.{key}");
        match key {
            "Queue" => {
                queue = Some(match super::Expr::parse(value, &location)? {
                    super::Expr::GetAtt {
                        resource,
                        attribute,
                    } if attribute == "Arn" => resource,
                    other => {
                        return Err(invalid(
                            location,
                            format!(
                                "expected !GetAtt SomeQueue.Arn of this template, found {other}"
                            ),
                        ));
                    }
                })
            }
            "BatchSize" => batch_size = template.static_u32(value, &location)?,
            "MaximumBatchingWindowInSeconds" => window = template.static_u32(value, &location)?,
            "FunctionResponseTypes" => {
                for item in super::sequence(value, &location)? {
                    function_response_types.push(template.static_value(item, &location)?);
                }
            }
            "Enabled" => enabled = template.static_bool(value, &location)?,
            "ScalingConfig" => {
                if let Some(limit) = value.get("MaximumConcurrency") {
                    maximum_concurrency = Some(template.static_u32(limit, &location)?);
                }
            }
            // Encryption of filter criteria and metrics change nothing a consumer sees.
            "KmsKeyArn" | "MetricsConfig" => {}
            other => {
                return Err(invalid(
                    location,
                    format!(
                        "SQS event property {other} is not supported by the local tooling \
                         (infra/local-stack/src/template/events.rs)"
                    ),
                ));
            }
        }
    }
    let queue = queue.ok_or_else(|| invalid(at, "Queue is missing"))?;
    if batch_size == 0 || batch_size > STANDARD_MAX_BATCH_SIZE {
        return Err(invalid(
            at,
            format!("BatchSize {batch_size} is outside 1..={STANDARD_MAX_BATCH_SIZE}"),
        ));
    }
    if window > MAX_BATCHING_WINDOW_SECS {
        return Err(invalid(
            at,
            format!("MaximumBatchingWindowInSeconds {window} is above {MAX_BATCHING_WINDOW_SECS}"),
        ));
    }
    for kind in &function_response_types {
        if kind != REPORT_BATCH_ITEM_FAILURES {
            return Err(invalid(
                at,
                format!("FunctionResponseTypes {kind:?} is not {REPORT_BATCH_ITEM_FAILURES}"),
            ));
        }
    }
    Ok(SqsSource {
        queue,
        batch_size,
        maximum_batching_window_secs: window,
        function_response_types,
        enabled,
        maximum_concurrency,
        queue_fifo: false,
        queue_visibility_timeout_secs: DEFAULT_VISIBILITY_TIMEOUT_SECS,
    })
}

/// Checks that need the queue: it must exist, and FIFO queues take batches of at most 10
/// without a batching window; standard queues need a window for batches above 10.
pub(super) fn attach_queue(
    source: &mut SqsSource,
    template: &Template,
    at: &str,
) -> Result<(), TemplateError> {
    let queue = template.queues.get(&source.queue).ok_or_else(|| {
        invalid(
            at,
            format!(
                "event source queue {} is not a queue of this template",
                source.queue
            ),
        )
    })?;
    source.queue_fifo = queue.fifo;
    source.queue_visibility_timeout_secs = queue
        .visibility_timeout_secs
        .unwrap_or(DEFAULT_VISIBILITY_TIMEOUT_SECS);
    if queue.fifo {
        if source.batch_size > FIFO_MAX_BATCH_SIZE {
            return Err(invalid(
                at,
                format!(
                    "BatchSize {} is above {FIFO_MAX_BATCH_SIZE}, the limit for FIFO queue {}",
                    source.batch_size, source.queue
                ),
            ));
        }
        if source.maximum_batching_window_secs > 0 {
            return Err(invalid(
                at,
                format!(
                    "FIFO queue {} takes no MaximumBatchingWindowInSeconds",
                    source.queue
                ),
            ));
        }
    } else if source.batch_size > 10 && source.maximum_batching_window_secs == 0 {
        return Err(invalid(
            at,
            "a BatchSize above 10 needs MaximumBatchingWindowInSeconds of at least 1",
        ));
    }
    Ok(())
}

fn parse_schedule(
    template: &Template,
    properties: &serde_yaml::Mapping,
    at: &str,
    flavour: ScheduleFlavour,
) -> Result<ScheduleSource, TemplateError> {
    let expression_key = match flavour {
        ScheduleFlavour::EventBridgeRule => "Schedule",
        ScheduleFlavour::Scheduler => "ScheduleExpression",
    };
    let mut expression = None;
    let mut input = None;
    let mut enabled = true;
    for (key, value) in properties {
        let key = key
            .as_str()
            .ok_or_else(|| invalid(at, "a property name is not a string"))?;
        let location = format!("{at}.Properties.{key}");
        match key {
            k if k == expression_key => expression = Some(template.static_value(value, &location)?),
            "Input" => input = Some(template.static_value(value, &location)?),
            "Enabled" => enabled = template.static_bool(value, &location)?,
            "State" => enabled = template.static_value(value, &location)? == "ENABLED",
            // Names, descriptions, retries and time zones change nothing in a local tick.
            "Name"
            | "Description"
            | "RetryPolicy"
            | "DeadLetterConfig"
            | "FlexibleTimeWindow"
            | "ScheduleExpressionTimezone"
            | "StartDate"
            | "EndDate"
            | "GroupName"
            | "KmsKeyArn"
            | "PermissionsBoundary"
            | "RoleArn"
            | "OmitName" => {}
            other => {
                return Err(invalid(
                    location,
                    format!(
                        "schedule event property {other} is not supported by the local tooling \
                         (infra/local-stack/src/template/events.rs)"
                    ),
                ));
            }
        }
    }
    let expression =
        expression.ok_or_else(|| invalid(at, format!("{expression_key} is missing")))?;
    if let Some(input) = &input
        && serde_json::from_str::<serde_json::Value>(input).is_err()
    {
        return Err(invalid(at, "Input is not valid JSON"));
    }
    Ok(ScheduleSource {
        flavour,
        expression,
        input,
        enabled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_follow_eventbridge_spelling() {
        assert_eq!(parse_rate("rate(1 minute)"), Some(Duration::from_secs(60)));
        assert_eq!(
            parse_rate("rate(5 minutes)"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(parse_rate("rate(2 hours)"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_rate("rate(1 day)"), Some(Duration::from_secs(86_400)));
        for bad in [
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(0 minutes)",
            "rate(5 seconds)",
            "cron(0 3 * * ? *)",
            "rate(x minutes)",
            "rate(5minutes)",
        ] {
            assert_eq!(parse_rate(bad), None, "{bad}");
        }
    }
}
