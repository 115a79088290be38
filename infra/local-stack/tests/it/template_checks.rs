//! Fast checks of template.yaml (no moto): what cfn-lint and `sam validate --lint` cannot see
//! on an AWS::Serverless::Function (runtime, architecture, build method, event routes), the
//! wiring of the webhook's environment, and the queue rules of the design.

use crate::common;

use std::collections::BTreeMap;

use common::{
    getatt_target, literal, literal_or, raw_template, ref_target, resources_of_type, template_path,
};
use serde_yaml::Value;
use switchboard_local_stack::template::{EventSource, Expr, Template};

fn webhook(template: &Value) -> &Value {
    let resource = &template["Resources"]["WebhookFunction"];
    assert_eq!(resource["Type"].as_str(), Some("AWS::Serverless::Function"));
    resource
}

/// A function property, falling back to SAM's Globals.Function.
fn function_property<'a>(template: &'a Value, function: &'a Value, name: &str) -> &'a Value {
    let own = &function["Properties"][name];
    if own.is_null() {
        &template["Globals"]["Function"][name]
    } else {
        own
    }
}

#[test]
fn webhook_is_an_arm64_al2023_binary_built_by_cargo_lambda() {
    let template = raw_template();
    let function = webhook(&template);
    let property = |name| function_property(&template, function, name);
    assert_eq!(property("Runtime").as_str(), Some("provided.al2023"));
    assert_eq!(property("Handler").as_str(), Some("bootstrap"));
    let architectures: Vec<_> = property("Architectures")
        .as_sequence()
        .expect("Architectures is a list")
        .iter()
        .map(|a| a.as_str())
        .collect();
    assert_eq!(architectures, vec![Some("arm64")]);
    // sam build runs `cargo lambda build --bin <Binary>` in CodeUri: the workspace root.
    assert_eq!(property("CodeUri").as_str(), Some("."));
    assert_eq!(
        function["Metadata"]["BuildMethod"].as_str(),
        Some("rust-cargolambda")
    );
    assert_eq!(
        function["Metadata"]["BuildProperties"]["Binary"].as_str(),
        Some("webhook")
    );
    assert_eq!(literal(property("Timeout")).as_deref(), Some("10"));
}

/// (logical id, Binary) of every function sam builds with cargo-lambda, from the raw YAML.
fn cargo_functions_in_yaml(template: &Value) -> Vec<(String, String)> {
    let mut functions: Vec<(String, String)> =
        resources_of_type(template, "AWS::Serverless::Function")
            .into_iter()
            .filter(|(_, f)| f["Metadata"]["BuildMethod"].as_str() == Some("rust-cargolambda"))
            .map(|(id, f)| {
                let binary = f["Metadata"]["BuildProperties"]["Binary"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{id} has no Metadata.BuildProperties.Binary"));
                (id, binary.to_owned())
            })
            .collect();
    functions.sort();
    functions
}

/// `sam build` runs `cargo lambda build --bin <Binary>` in the workspace: each function's
/// binary must be a binary target of exactly one workspace package.
#[test]
fn every_function_binary_exists_in_the_workspace() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(template_path().parent().expect("the workspace root"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let binaries: Vec<(String, String)> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .flat_map(|package| {
            let name = package["name"].as_str().unwrap_or_default().to_owned();
            package["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| {
                    t["kind"]
                        .as_array()
                        .is_some_and(|k| k.iter().any(|k| k == "bin"))
                })
                .map(move |t| {
                    (
                        t["name"].as_str().unwrap_or_default().to_owned(),
                        name.clone(),
                    )
                })
        })
        .collect();
    let functions = cargo_functions_in_yaml(&raw_template());
    assert!(!functions.is_empty());
    for (id, binary) in functions {
        let packages: Vec<&str> = binaries
            .iter()
            .filter(|(b, _)| *b == binary)
            .map(|(_, p)| p.as_str())
            .collect();
        assert_eq!(
            packages.len(),
            1,
            "{id}: binary `{binary}` must be a [[bin]] of exactly one workspace package, found in {packages:?}"
        );
    }
}

#[test]
fn webhook_route_is_post_tenant_service_on_the_http_api() {
    let template = raw_template();
    let events = webhook(&template)["Properties"]["Events"]
        .as_mapping()
        .expect("WebhookFunction has Events");
    let routes: Vec<_> = events
        .values()
        .filter(|e| e["Type"].as_str() == Some("HttpApi"))
        .map(|e| &e["Properties"])
        .collect();
    assert_eq!(
        routes.len(),
        1,
        "one HttpApi route serves both a named service and `all`"
    );
    let route = routes[0];
    assert_eq!(route["Method"].as_str(), Some("POST"));
    assert_eq!(
        route["Path"].as_str(),
        Some("/{tenant}/sms/sinchconversation/{service}")
    );
    assert_eq!(ref_target(&route["ApiId"]).as_deref(), Some("HttpApi"));
    // lambda_http's apigw_http feature reads the 2.0 payload.
    assert_eq!(
        literal(&route["PayloadFormatVersion"]).as_deref(),
        Some("2.0")
    );

    let api = &template["Resources"]["HttpApi"];
    assert_eq!(api["Type"].as_str(), Some("AWS::Serverless::HttpApi"));
    // No StageName means API Gateway's $default stage: no stage segment in the URL, the same
    // path as the local webhook.
    assert!(api["Properties"]["StageName"].is_null());
}

#[test]
fn webhook_environment_is_wired_to_the_right_resources() {
    let template = raw_template();
    let variables = webhook(&template)["Properties"]["Environment"]["Variables"]
        .as_mapping()
        .expect("WebhookFunction has Environment.Variables");
    let expected = [
        ("SWITCHBOARD_CONFIG_TABLE", "ConfigTable"),
        ("SWITCHBOARD_INGEST_QUEUE_URL", "IngestQueue"),
        ("SWITCHBOARD_MEDIA_BUCKET", "MediaBucket"),
        (
            "SWITCHBOARD_SIGNATURE_WINDOW_SECS",
            "SignatureWindowSeconds",
        ),
        ("SWITCHBOARD_STAGE", "Stage"),
        ("RUST_LOG", "LogLevel"),
    ];
    for (variable, target) in expected {
        let value = variables
            .get(variable)
            .unwrap_or_else(|| panic!("WebhookFunction does not declare {variable}"));
        assert_eq!(ref_target(value).as_deref(), Some(target), "{variable}");
    }
}

#[test]
fn queues_tables_and_bucket_of_the_design_are_declared() {
    let template = raw_template();
    let ids = |kind| -> Vec<String> {
        let mut ids: Vec<_> = resources_of_type(&template, kind)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids("AWS::SQS::Queue"),
        [
            "EventsDeadLetterQueue",
            "EventsQueue",
            "IngestDeadLetterQueue",
            "IngestQueue",
            "RepliesDeadLetterQueue",
            "RepliesQueue"
        ]
    );
    assert_eq!(ids("AWS::DynamoDB::Table"), ["ConfigTable", "StateTable"]);
    assert_eq!(ids("AWS::S3::Bucket"), ["MediaBucket"]);
    assert_eq!(
        template["Resources"]["StateTable"]["Properties"]["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some("expires_at")
    );
}

#[test]
fn every_queue_is_fifo_with_a_fifo_dead_letter_queue_that_keeps_messages_longer() {
    let template = raw_template();
    let queues: BTreeMap<String, &Value> = resources_of_type(&template, "AWS::SQS::Queue")
        .into_iter()
        .collect();
    let retention = |q: &Value| -> u64 {
        literal_or(&q["Properties"]["MessageRetentionPeriod"], "345600")
            .parse()
            .expect("retention is a number")
    };
    let dead_letter_targets: Vec<String> = queues
        .values()
        .filter_map(|q| getatt_target(&q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]))
        .map(|(target, _)| target)
        .collect();
    for (id, queue) in &queues {
        let p = &queue["Properties"];
        assert_eq!(
            literal(&p["FifoQueue"]).as_deref(),
            Some("true"),
            "{id} is FIFO"
        );
        // Producers always set a de-duplication id.
        assert_eq!(
            literal(&p["ContentBasedDeduplication"]).as_deref(),
            Some("false"),
            "{id}"
        );
        assert_eq!(
            literal(&p["DeduplicationScope"]).as_deref(),
            Some("messageGroup"),
            "{id}"
        );
        assert_eq!(
            literal(&p["FifoThroughputLimit"]).as_deref(),
            Some("perMessageGroupId"),
            "{id}"
        );
        assert_eq!(
            literal(&p["SqsManagedSseEnabled"]).as_deref(),
            Some("true"),
            "{id}"
        );
        if dead_letter_targets.contains(id) {
            continue;
        }
        let redrive = &p["RedrivePolicy"];
        let (target, attribute) =
            getatt_target(&redrive["deadLetterTargetArn"]).unwrap_or_else(|| {
                panic!("{id} has no RedrivePolicy with deadLetterTargetArn: !GetAtt <Queue>.Arn")
            });
        assert_eq!(attribute, "Arn", "{id}");
        assert_eq!(
            literal(&redrive["maxReceiveCount"]).as_deref(),
            Some("5"),
            "{id}"
        );
        let dead_letter = queues
            .get(&target)
            .unwrap_or_else(|| panic!("{id}'s dead-letter target {target} is not a queue"));
        assert!(
            retention(dead_letter) > retention(queue),
            "{target} must keep messages longer than {id}"
        );
        assert!(
            resources_of_type(&template, "AWS::CloudWatch::Alarm")
                .iter()
                .any(|(_, alarm)| {
                    getatt_target(&alarm["Properties"]["Dimensions"][0]["Value"])
                        == Some((target.clone(), "QueueName".into()))
                }),
            "{target} has no CloudWatch alarm"
        );
    }
}

/// AWS guidance for SQS event sources: visibility timeout >= 6 x the function's timeout.
/// Vacuous until a function consumes a queue of this template; then it guards the pair.
#[test]
fn queues_consumed_by_functions_hide_messages_six_times_the_function_timeout() {
    let template = raw_template();
    for (id, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        let timeout: u64 = literal_or(function_property(&template, function, "Timeout"), "3")
            .parse()
            .expect("Timeout is a number");
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for event in events
            .values()
            .filter(|e| e["Type"].as_str() == Some("SQS"))
        {
            let Some((queue, _)) = getatt_target(&event["Properties"]["Queue"]) else {
                continue;
            };
            let visibility: u64 = literal_or(
                &template["Resources"][queue.as_str()]["Properties"]["VisibilityTimeout"],
                "30",
            )
            .parse()
            .expect("VisibilityTimeout is a number");
            assert!(
                visibility >= 6 * timeout,
                "{queue} VisibilityTimeout {visibility} < 6 x {id} Timeout {timeout}"
            );
        }
    }
}

/// The crate's reader accepts the real template (it refuses properties it does not know, so
/// this fails fast when the template gains one the local stack would ignore) and reads the
/// same facts as the raw YAML.
#[test]
fn the_crate_reads_the_template_like_the_raw_yaml() {
    let parsed = Template::from_path(template_path()).unwrap_or_else(|e| panic!("{e}"));
    let raw = raw_template();
    let ids = |kind| -> Vec<String> {
        let mut ids: Vec<_> = resources_of_type(&raw, kind)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        parsed.queues.keys().cloned().collect::<Vec<_>>(),
        ids("AWS::SQS::Queue")
    );
    assert_eq!(
        parsed.tables.keys().cloned().collect::<Vec<_>>(),
        ids("AWS::DynamoDB::Table")
    );
    assert_eq!(
        parsed.buckets.keys().cloned().collect::<Vec<_>>(),
        ids("AWS::S3::Bucket")
    );
    assert_eq!(
        parsed.functions.keys().cloned().collect::<Vec<_>>(),
        ids("AWS::Serverless::Function")
    );

    let function = &parsed.functions["WebhookFunction"];
    assert_eq!(function.runtime.as_deref(), Some("provided.al2023"));
    assert_eq!(function.architectures, ["arm64"]);
    assert_eq!(function.build_method.as_deref(), Some("rust-cargolambda"));
    assert_eq!(function.build_binary.as_deref(), Some("webhook"));
    assert_eq!(
        function.environment["SWITCHBOARD_INGEST_QUEUE_URL"],
        Expr::Ref("IngestQueue".into())
    );
    let routes: Vec<_> = function
        .events
        .iter()
        .filter(|e| e.source.kind() == "HttpApi")
        .map(|e| &e.source)
        .collect();
    assert_eq!(
        routes,
        [&EventSource::Http {
            kind: "HttpApi".into(),
            api: Some("HttpApi".into()),
            method: Some("POST".into()),
            path: Some("/{tenant}/sms/sinchconversation/{service}".into()),
        }]
    );
    // Every function the local tooling runs is built by cargo-lambda from a workspace binary.
    let listed: Vec<(String, String)> = parsed
        .cargo_functions()
        .map(|(id, bin, _)| (id.to_owned(), bin.to_owned()))
        .collect();
    assert_eq!(listed, cargo_functions_in_yaml(&raw));
    assert!(listed.contains(&("WebhookFunction".into(), "webhook".into())));
}

fn parameter<'a>(template: &'a Value, name: &str) -> &'a Value {
    let parameter = &template["Parameters"][name];
    assert!(!parameter.is_null(), "template parameter {name} is missing");
    parameter
}

/// A Number parameter with a default of at least `min` and a MinValue that keeps it there.
fn number_parameter(template: &Value, name: &str, min: f64) -> f64 {
    let parameter = parameter(template, name);
    assert_eq!(parameter["Type"].as_str(), Some("Number"), "{name}");
    let number = |key: &str| -> f64 {
        literal(&parameter[key])
            .unwrap_or_else(|| panic!("{name} has no {key}"))
            .parse()
            .unwrap_or_else(|e| panic!("{name}.{key}: {e}"))
    };
    assert!(
        number("MinValue") >= min,
        "{name}.MinValue must be at least {min}"
    );
    let default = number("Default");
    assert!(
        default >= number("MinValue"),
        "{name}.Default is below its MinValue"
    );
    default
}

/// cfn-lint does not look into an AWS::Serverless::Function, so a typo in
/// ReservedConcurrentExecutions or a dropped throttle would pass it.
#[test]
fn the_http_api_is_throttled_and_the_webhook_concurrency_is_capped() {
    let template = raw_template();
    let settings = &template["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"];
    assert_eq!(
        ref_target(&settings["ThrottlingRateLimit"]).as_deref(),
        Some("ApiThrottlingRateLimit")
    );
    assert_eq!(
        ref_target(&settings["ThrottlingBurstLimit"]).as_deref(),
        Some("ApiThrottlingBurstLimit")
    );
    let rate = number_parameter(&template, "ApiThrottlingRateLimit", 1.0);
    let burst = number_parameter(&template, "ApiThrottlingBurstLimit", 1.0);
    assert!(
        burst >= rate,
        "the default burst should absorb at least one second of the rate"
    );

    assert_eq!(
        ref_target(&webhook(&template)["Properties"]["ReservedConcurrentExecutions"]).as_deref(),
        Some("WebhookReservedConcurrency"),
        "the webhook's concurrency is reserved and capped through a parameter"
    );
    // 0 would stop the function altogether.
    number_parameter(&template, "WebhookReservedConcurrency", 1.0);
}

#[test]
fn no_log_level_makes_the_runtime_log_raw_events() {
    let template = raw_template();
    let level = parameter(&template, "LogLevel");
    let allowed: Vec<&str> = level["AllowedValues"]
        .as_sequence()
        .expect("LogLevel has AllowedValues")
        .iter()
        .map(|v| v.as_str().expect("levels are strings"))
        .collect();
    // At trace, lambda_runtime logs every event whole: signatures and customer text.
    assert!(
        !allowed.iter().any(|l| l.eq_ignore_ascii_case("trace")),
        "{allowed:?}"
    );
    assert!(allowed.contains(&level["Default"].as_str().expect("a default level")));
}

/// `[!If [CreateAlarmTopic, !Ref AlarmTopic, !Ref AlarmTopicArn]]`
fn notifies_the_alarm_topic(actions: &Value) -> bool {
    let [action] = actions.as_sequence().map(Vec::as_slice).unwrap_or_default() else {
        return false;
    };
    let argument = match action {
        Value::Tagged(t) if t.tag == "If" => &t.value,
        Value::Mapping(m) => match m.get("Fn::If") {
            Some(argument) => argument,
            None => return false,
        },
        _ => return false,
    };
    match argument.as_sequence().map(Vec::as_slice) {
        Some([condition, created, given]) => {
            condition.as_str() == Some("CreateAlarmTopic")
                && ref_target(created).as_deref() == Some("AlarmTopic")
                && ref_target(given).as_deref() == Some("AlarmTopicArn")
        }
        _ => false,
    }
}

#[test]
fn every_alarm_notifies_the_alarm_topic_which_always_exists() {
    let template = raw_template();
    let condition = &template["Conditions"]["CreateAlarmTopic"];
    let equals = match condition {
        Value::Tagged(t) if t.tag == "Equals" => &t.value,
        other => &other["Fn::Equals"],
    };
    let operands = equals
        .as_sequence()
        .expect("CreateAlarmTopic is !Equals [a, b]");
    assert_eq!(ref_target(&operands[0]).as_deref(), Some("AlarmTopicArn"));
    assert_eq!(literal(&operands[1]).as_deref(), Some(""));
    let topic = &template["Resources"]["AlarmTopic"];
    assert_eq!(topic["Type"].as_str(), Some("AWS::SNS::Topic"));
    assert_eq!(topic["Condition"].as_str(), Some("CreateAlarmTopic"));

    let alarms = resources_of_type(&template, "AWS::CloudWatch::Alarm");
    assert!(!alarms.is_empty());
    for (id, alarm) in alarms {
        for key in ["AlarmActions", "OKActions"] {
            assert!(
                notifies_the_alarm_topic(&alarm["Properties"][key]),
                "{id}.{key} must be [!If [CreateAlarmTopic, !Ref AlarmTopic, !Ref AlarmTopicArn]]"
            );
        }
    }
}

/// (namespace as written, metric name, dimensions) of an alarm.
fn alarm_metric(alarm: &Value) -> (String, String, Vec<(String, Value)>) {
    let p = &alarm["Properties"];
    let namespace = literal(&p["Namespace"]).unwrap_or_else(|| format!("{:?}", p["Namespace"]));
    let metric = literal(&p["MetricName"]).expect("an alarm on one metric");
    let dimensions = items_of(&p["Dimensions"])
        .iter()
        .map(|d| {
            (
                literal(&d["Name"]).expect("dimension name"),
                d["Value"].clone(),
            )
        })
        .collect();
    (namespace, metric, dimensions)
}

fn items_of(value: &Value) -> Vec<Value> {
    value.as_sequence().cloned().unwrap_or_default()
}

fn has_alarm(
    template: &Value,
    namespace: &str,
    metric: &str,
    dimension: Option<(&str, Value)>,
) -> bool {
    resources_of_type(template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(_, alarm)| alarm_metric(alarm))
        .any(|(n, m, dimensions)| {
            n == namespace
                && m == metric
                && match &dimension {
                    Some((name, value)) => {
                        dimensions.iter().any(|(dn, dv)| dn == name && dv == value)
                    }
                    None => dimensions.is_empty(),
                }
        })
}

#[test]
fn alarms_watch_the_webhook_the_api_and_every_working_queue() {
    let template = raw_template();
    let reference =
        |target: &str| -> Value { serde_yaml::from_str(&format!("!Ref {target}")).unwrap() };
    for metric in ["Errors", "Throttles"] {
        assert!(
            has_alarm(
                &template,
                "AWS/Lambda",
                metric,
                Some(("FunctionName", reference("WebhookFunction")))
            ),
            "no alarm on the webhook's {metric}"
        );
    }
    assert!(
        has_alarm(
            &template,
            "AWS/ApiGateway",
            "5xx",
            Some(("ApiId", reference("HttpApi")))
        ),
        "no alarm on the HTTP API's 5xx"
    );
    let dead_letter_targets: Vec<String> = resources_of_type(&template, "AWS::SQS::Queue")
        .into_iter()
        .filter_map(|(_, q)| {
            getatt_target(&q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        })
        .map(|(target, _)| target)
        .collect();
    for (id, _) in resources_of_type(&template, "AWS::SQS::Queue") {
        if dead_letter_targets.contains(&id) {
            continue;
        }
        let name: Value = serde_yaml::from_str(&format!("!GetAtt {id}.QueueName")).unwrap();
        assert!(
            has_alarm(
                &template,
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                Some(("QueueName", name))
            ),
            "no alarm on the age of {id}'s oldest message"
        );
    }
}

/// A JSON metric filter pattern of the one form the template uses: `{ $.a.b = "text" }`.
fn json_filter_matches(pattern: &str, line: &serde_json::Value) -> bool {
    let inner = pattern
        .trim()
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or_else(|| panic!("{pattern:?} is not a JSON filter pattern"));
    let (selector, value) = inner
        .split_once('=')
        .unwrap_or_else(|| panic!("this test reads only `{{ $.x = \"v\" }}`, not {pattern:?}"));
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or_else(|| panic!("this test reads only quoted values, not {pattern:?}"));
    select(selector.trim(), line).and_then(serde_json::Value::as_str) == Some(value)
}

/// `$.a.b` in a JSON log line.
fn select<'a>(selector: &str, line: &'a serde_json::Value) -> Option<&'a serde_json::Value> {
    let path = selector.strip_prefix("$.")?;
    path.split('.').try_fold(line, |value, key| value.get(key))
}

/// One refusal line as the functions write it in Lambda (shared telemetry: JSON, no time, no
/// span, no target), made by tracing-subscriber itself rather than typed here.
fn refusal_log_line(reason: &str) -> serde_json::Value {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .without_time()
        .with_current_span(false)
        .with_target(false)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::warn!(reason, status = 401u16, "callback refused");
        tracing::warn!(reason, "callback accepted late");
    });
    let bytes = buffer.0.lock().unwrap().clone();
    let text = String::from_utf8(bytes).unwrap();
    let mut lines = text.lines();
    let refusal = serde_json::from_str(lines.next().expect("a refusal line")).unwrap();
    let other: serde_json::Value =
        serde_json::from_str(lines.next().expect("a second line")).unwrap();
    // The filter must tell refusals from other lines that carry a reason.
    for (_, filter) in resources_of_type(&raw_template(), "AWS::Logs::MetricFilter") {
        let pattern = filter["Properties"]["FilterPattern"]
            .as_str()
            .unwrap_or_default();
        if pattern.contains("callback refused") {
            assert!(
                !json_filter_matches(pattern, &other),
                "{pattern} matches {other}"
            );
        }
    }
    refusal
}

#[test]
fn refusals_are_counted_by_reason_from_the_webhook_log_line() {
    let template = raw_template();
    let filters: Vec<(String, &Value)> = resources_of_type(&template, "AWS::Logs::MetricFilter")
        .into_iter()
        .filter(|(_, f)| {
            ref_target(&f["Properties"]["LogGroupName"]).as_deref() == Some("WebhookLogs")
        })
        .collect();
    assert_eq!(
        ref_target(&webhook(&template)["Properties"]["LoggingConfig"]["LogGroup"]).as_deref(),
        Some("WebhookLogs"),
        "the filters read the webhook's own log group"
    );
    let line = refusal_log_line("signature");
    let mut by_reason = None;
    let mut total = None;
    for (id, filter) in &filters {
        let p = &filter["Properties"];
        let pattern = p["FilterPattern"]
            .as_str()
            .expect("a literal FilterPattern");
        assert!(
            json_filter_matches(pattern, &line),
            "{id}: {pattern} does not match {line}"
        );
        let transformation = &p["MetricTransformations"][0];
        let dimensions = items_of(&transformation["Dimensions"]);
        match dimensions.as_slice() {
            [] => total = Some(transformation.clone()),
            [dimension] => {
                let selector = dimension["Value"].as_str().expect("a selector");
                assert_eq!(
                    select(selector, &line).and_then(serde_json::Value::as_str),
                    Some("signature"),
                    "{id}: dimension {selector} must read the refusal's reason"
                );
                by_reason = Some(transformation.clone());
            }
            _ => panic!("{id}: one dimension at most"),
        }
    }
    let by_reason = by_reason.expect("a metric filter with the reason as dimension");
    let total = total.expect("a metric filter over all reasons (alarms need one series)");
    assert_eq!(by_reason["MetricName"], total["MetricName"]);
    assert_eq!(by_reason["MetricNamespace"], total["MetricNamespace"]);

    // The refusal alarm watches the total.
    let alarm = resources_of_type(&template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .find(|(_, a)| {
            a["Properties"]["MetricName"] == total["MetricName"]
                && a["Properties"]["Namespace"] == total["MetricNamespace"]
        })
        .map(|(_, a)| a)
        .expect("an alarm on the refusal count");
    assert!(alarm["Properties"]["Dimensions"].is_null());
    assert_eq!(
        ref_target(&alarm["Properties"]["Threshold"]).as_deref(),
        Some("RefusalAlarmThreshold")
    );
}

#[test]
fn the_readme_explains_every_alarm() {
    let readme_path = template_path().with_file_name("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    for (id, _) in resources_of_type(&raw_template(), "AWS::CloudWatch::Alarm") {
        assert!(
            readme.contains(&format!("`{id}`")),
            "README.md does not explain alarm `{id}` (Operations: what it means, what to do)"
        );
    }
}
