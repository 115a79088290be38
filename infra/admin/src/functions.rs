//! `switchboard-admin functions`: the template's functions that the local tooling builds and
//! runs, so scripts take the list from template.yaml instead of naming functions themselves.

use serde::Serialize;
use switchboard_local_stack::template::{EventSource, Template};

/// How a function is invoked, in one word a script can switch on.
pub fn trigger_word(source: &EventSource) -> String {
    match source {
        EventSource::Http { .. } => "http".to_owned(),
        EventSource::Sqs(_) => "sqs".to_owned(),
        EventSource::Schedule(_) => "schedule".to_owned(),
        EventSource::Other { kind } => kind.to_ascii_lowercase(),
    }
}

/// One line per function: `LogicalId<TAB>binary<TAB>triggers` (comma-separated, sorted,
/// `none` when it has no event), in logical-id order.
pub fn lines(template: &Template) -> String {
    let mut out = String::new();
    for (id, binary, function) in template.cargo_functions() {
        let mut triggers: Vec<String> = function
            .events
            .iter()
            .map(|e| trigger_word(&e.source))
            .collect();
        triggers.sort();
        triggers.dedup();
        let triggers = if triggers.is_empty() {
            "none".to_owned()
        } else {
            triggers.join(",")
        };
        out.push_str(&format!("{id}\t{binary}\t{triggers}\n"));
    }
    out
}

#[derive(Debug, Serialize)]
pub struct Described<'a> {
    pub logical_id: &'a str,
    pub binary: &'a str,
    pub timeout_secs: u32,
    pub events: Vec<DescribedEvent<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DescribedEvent<'a> {
    Http {
        name: &'a str,
        method: Option<&'a str>,
        path: Option<&'a str>,
    },
    Sqs {
        name: &'a str,
        queue: &'a str,
        batch_size: u32,
        maximum_batching_window_secs: u32,
        report_batch_item_failures: bool,
        queue_fifo: bool,
        queue_visibility_timeout_secs: u32,
        enabled: bool,
    },
    Schedule {
        name: &'a str,
        expression: &'a str,
        rate_secs: Option<u64>,
        input: Option<&'a str>,
        enabled: bool,
    },
    Other {
        name: &'a str,
        kind: &'a str,
    },
}

pub fn describe(template: &Template) -> Vec<Described<'_>> {
    template
        .cargo_functions()
        .map(|(logical_id, binary, function)| Described {
            logical_id,
            binary,
            timeout_secs: function.timeout_secs_or_default(),
            events: function
                .events
                .iter()
                .map(|event| {
                    let name = event.name.as_str();
                    match &event.source {
                        EventSource::Http { method, path, .. } => DescribedEvent::Http {
                            name,
                            method: method.as_deref(),
                            path: path.as_deref(),
                        },
                        EventSource::Sqs(s) => DescribedEvent::Sqs {
                            name,
                            queue: &s.queue,
                            batch_size: s.batch_size,
                            maximum_batching_window_secs: s.maximum_batching_window_secs,
                            report_batch_item_failures: s.reports_batch_item_failures(),
                            queue_fifo: s.queue_fifo,
                            queue_visibility_timeout_secs: s.queue_visibility_timeout_secs,
                            enabled: s.enabled,
                        },
                        EventSource::Schedule(s) => DescribedEvent::Schedule {
                            name,
                            expression: &s.expression,
                            rate_secs: s.rate().map(|r| r.as_secs()),
                            input: s.input.as_deref(),
                            enabled: s.enabled,
                        },
                        EventSource::Other { kind } => DescribedEvent::Other { name, kind },
                    }
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Resources:
  Q: {Type: AWS::SQS::Queue, Properties: {FifoQueue: true}}
  Web:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: web}}
    Properties:
      Events:
        A: {Type: HttpApi, Properties: {Method: POST, Path: /a}}
        B: {Type: HttpApi, Properties: {Method: GET, Path: /b}}
  Worker:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: worker}}
    Properties:
      Events:
        Q: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}
        Tick: {Type: Schedule, Properties: {Schedule: rate(5 minutes)}}
  Idle:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: idle}}
  Python:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12}
"#;

    #[test]
    fn one_line_per_cargo_function_with_its_triggers() {
        let template = Template::from_yaml_str(TEMPLATE).unwrap();
        assert_eq!(
            lines(&template),
            "Idle\tidle\tnone\nWeb\tweb\thttp\nWorker\tworker\tschedule,sqs\n"
        );
    }

    #[test]
    fn the_json_form_carries_batching_and_schedules() {
        let template = Template::from_yaml_str(TEMPLATE).unwrap();
        let json = serde_json::to_value(describe(&template)).unwrap();
        let worker = &json[2];
        assert_eq!(worker["logical_id"], "Worker");
        assert_eq!(worker["timeout_secs"], 3);
        assert_eq!(worker["events"][0]["type"], "sqs");
        assert_eq!(worker["events"][0]["batch_size"], 10);
        assert_eq!(worker["events"][0]["queue_fifo"], true);
        assert_eq!(worker["events"][0]["queue_visibility_timeout_secs"], 30);
        assert_eq!(worker["events"][1]["type"], "schedule");
        assert_eq!(worker["events"][1]["rate_secs"], 300);
    }
}
