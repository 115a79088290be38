//! template.yaml, as far as the retention function is concerned (no moto): how it is built and
//! scheduled, what it may touch, how its failures are seen, and the rule that the bucket's
//! lifecycle backstop lies beyond every retention the config accepts.

use std::collections::BTreeSet;

use serde_yaml::Value;
use switchboard_retention::settings::{DEFAULT_DEADLINE_MARGIN, DEFAULT_QUARANTINE_DAYS};
use switchboard_shared::config::MAX_RETENTION_DAYS;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// `!Ref X` / `{Ref: X}`.
fn ref_target(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(t) if t.tag == "Ref" => t.value.as_str(),
        Value::Mapping(m) => m.get("Ref").and_then(Value::as_str),
        _ => None,
    }
}

/// A literal as text; `!Sub '…'` as `!Sub:…`, `!GetAtt X.Y` as `!GetAtt:X.Y`.
fn text(value: &Value) -> String {
    match value {
        Value::Tagged(t) => format!("{}:{}", t.tag, t.value.as_str().unwrap_or("?")),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

fn number(value: &Value) -> u64 {
    match value {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not a number: {other:?}"),
    }
}

fn function(template: &Value) -> &Value {
    let function = &template["Resources"]["RetentionFunction"];
    assert_eq!(function["Type"].as_str(), Some("AWS::Serverless::Function"));
    function
}

#[test]
fn the_function_is_an_arm64_al2023_cargo_lambda_binary_of_this_crate() {
    let template = template();
    let function = function(&template);
    let p = &function["Properties"];
    assert_eq!(p["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(p["Handler"].as_str(), Some("bootstrap"));
    assert_eq!(p["Architectures"][0].as_str(), Some("arm64"));
    assert_eq!(p["CodeUri"].as_str(), Some("."));
    assert_eq!(
        function["Metadata"]["BuildMethod"].as_str(),
        Some("rust-cargolambda")
    );
    assert_eq!(
        function["Metadata"]["BuildProperties"]["Binary"].as_str(),
        Some("retention")
    );
    let manifest = include_str!("../../Cargo.toml");
    assert!(
        manifest.contains("name = \"switchboard-retention\"")
            && manifest.contains("name = \"retention\"")
    );
    // The run stops a margin before the timeout; the timeout must leave room for work.
    assert!(number(&p["Timeout"]) >= 4 * DEFAULT_DEADLINE_MARGIN.as_secs());
}

#[test]
fn it_runs_on_a_schedule_that_is_a_parameter_hourly_by_default() {
    let template = template();
    let events = function(&template)["Properties"]["Events"]
        .as_mapping()
        .unwrap();
    assert_eq!(events.len(), 1);
    let event = events.values().next().unwrap();
    assert_eq!(event["Type"].as_str(), Some("Schedule"));
    assert_eq!(
        ref_target(&event["Properties"]["Schedule"]),
        Some("RetentionSchedule")
    );
    assert_eq!(
        template["Parameters"]["RetentionSchedule"]["Default"].as_str(),
        Some("rate(1 hour)")
    );
    // The next scheduled run is the retry.
    assert_eq!(
        number(&function(&template)["Properties"]["EventInvokeConfig"]["MaximumRetryAttempts"]),
        0
    );
}

#[test]
fn its_environment_is_wired_to_the_stack() {
    let template = template();
    let variables = &function(&template)["Properties"]["Environment"]["Variables"];
    for (variable, target) in [
        ("SWITCHBOARD_CONFIG_TABLE", "ConfigTable"),
        ("SWITCHBOARD_MEDIA_BUCKET", "MediaBucket"),
        (
            "SWITCHBOARD_QUARANTINE_RETENTION_DAYS",
            "QuarantineRetentionDays",
        ),
        ("SWITCHBOARD_STAGE", "Stage"),
        ("RUST_LOG", "LogLevel"),
    ] {
        assert_eq!(ref_target(&variables[variable]), Some(target), "{variable}");
    }
    let quarantine = &template["Parameters"]["QuarantineRetentionDays"];
    assert_eq!(
        number(&quarantine["Default"]),
        u64::from(DEFAULT_QUARANTINE_DAYS)
    );
    assert_eq!(
        number(&quarantine["MaxValue"]),
        u64::from(MAX_RETENTION_DAYS)
    );
}

#[test]
fn the_lifecycle_backstop_lies_beyond_every_retention_the_config_accepts() {
    let template = template();
    let backstop = &template["Parameters"]["MediaBackstopDays"];
    let max = u64::from(MAX_RETENTION_DAYS);
    assert!(
        number(&backstop["Default"]) > max,
        "the default backstop must exceed {max} days"
    );
    assert!(
        number(&backstop["MinValue"]) > max,
        "no deployment may set it to {max} days or less"
    );
    // Every expiring lifecycle rule of the media prefixes is the backstop.
    let rules =
        template["Resources"]["MediaBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
            .as_sequence()
            .unwrap();
    let mut prefixes = BTreeSet::new();
    for rule in rules.iter().filter(|r| !r["ExpirationInDays"].is_null()) {
        assert_eq!(
            ref_target(&rule["ExpirationInDays"]),
            Some("MediaBackstopDays"),
            "{rule:?}"
        );
        prefixes.insert(rule["Prefix"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        prefixes,
        BTreeSet::from(["inbound/".into(), "outbound/".into(), "quarantine/".into()])
    );
}

#[test]
fn it_may_read_retention_list_media_and_delete_under_the_three_prefixes_and_nothing_else() {
    let template = template();
    let policies = function(&template)["Properties"]["Policies"]
        .as_sequence()
        .unwrap();
    let statements: Vec<&Value> = policies
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().unwrap())
        .collect();
    let mut actions = BTreeSet::new();
    for statement in &statements {
        assert_eq!(statement["Effect"].as_str(), Some("Allow"));
        for action in statement["Action"].as_sequence().unwrap() {
            actions.insert(action.as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        actions,
        BTreeSet::from(
            [
                "dynamodb:GetItem",
                "kms:Decrypt",
                "s3:DeleteObject",
                "s3:ListBucket"
            ]
            .map(String::from)
        ),
        "no secrets, no writes but deletions, no scans"
    );
    let by_action = |action: &str| {
        statements
            .iter()
            .find(|s| {
                s["Action"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .any(|a| a.as_str() == Some(action))
            })
            .unwrap()
    };
    let delete: Vec<String> = by_action("s3:DeleteObject")["Resource"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(text)
        .collect();
    assert_eq!(
        delete,
        ["outbound", "inbound", "quarantine"].map(|p| format!("!Sub:${{MediaBucket.Arn}}/{p}/*"))
    );
    let list = by_action("s3:ListBucket");
    assert_eq!(text(&list["Resource"]), "!GetAtt:MediaBucket.Arn");
    let listable: Vec<String> = list["Condition"]["StringLike"]["s3:prefix"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(text)
        .collect();
    assert_eq!(listable, ["outbound/*", "inbound/*", "quarantine/*"]);
    let get = by_action("dynamodb:GetItem");
    let condition = &get["Condition"];
    assert_eq!(
        condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"][0].as_str(),
        Some("TENANT#*")
    );
    let attributes: BTreeSet<&str> = condition["ForAllValues:StringEquals"]["dynamodb:Attributes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        attributes,
        BTreeSet::from(["pk", "sk", "public_attachment_days", "inbound_media_days"])
    );
    assert_eq!(
        condition["StringEqualsIfExists"]["dynamodb:Select"].as_str(),
        Some("SPECIFIC_ATTRIBUTES")
    );
}

#[test]
fn its_logs_have_a_group_and_its_errors_an_alarm() {
    let template = template();
    let p = &function(&template)["Properties"];
    let group = ref_target(&p["LoggingConfig"]["LogGroup"]).unwrap();
    assert_eq!(
        template["Resources"][group]["Type"].as_str(),
        Some("AWS::Logs::LogGroup")
    );
    let alarms: Vec<&Value> = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::CloudWatch::Alarm"))
        .filter(|r| {
            ref_target(&r["Properties"]["Dimensions"][0]["Value"]) == Some("RetentionFunction")
        })
        .collect();
    assert_eq!(alarms.len(), 1);
    let alarm = &alarms[0]["Properties"];
    assert_eq!(alarm["Namespace"].as_str(), Some("AWS/Lambda"));
    assert_eq!(alarm["MetricName"].as_str(), Some("Errors"));
    assert_eq!(number(&alarm["Threshold"]), 0);
}
