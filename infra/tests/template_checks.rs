//! Fast checks of template.yaml (no moto): what cfn-lint and `sam validate --lint` cannot see
//! on an AWS::Serverless::Function (runtime, architecture, build method, event routes), the
//! wiring of the webhook's environment, and the queue rules of the design.

mod common;

use std::collections::BTreeMap;

use common::{
    getatt_target, literal, literal_or, raw_template, ref_target, resources_of_type, template_path,
};
use serde_yaml::Value;
use switchboard_infra::template::{Expr, Template};

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

#[test]
fn webhook_binary_exists_in_the_workspace() {
    let manifest = template_path()
        .with_file_name("functions")
        .join("webhook")
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the template builds its binary `webhook`",
            manifest.display()
        )
    });
    assert!(
        text.contains("name = \"switchboard-webhook\"") && text.contains("name = \"webhook\""),
        "{} must define package switchboard-webhook with [[bin]] name = \"webhook\" (template.yaml BuildProperties.Binary)",
        manifest.display()
    );
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
    let route = function
        .events
        .iter()
        .find(|e| e.kind == "HttpApi")
        .expect("an HttpApi event");
    assert_eq!(route.method.as_deref(), Some("POST"));
    assert_eq!(
        route.path.as_deref(),
        Some("/{tenant}/sms/sinchconversation/{service}")
    );
}
