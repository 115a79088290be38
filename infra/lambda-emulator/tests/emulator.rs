//! The emulator against AWS's semantics, with a real Lambda binary (`emulator-probe`) behind
//! the Runtime API and moto's SQS. Each test writes a small template of its own, so what it
//! proves is that the emulator follows the template.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;
use switchboard_lambda_emulator::{Emulator, FunctionCode, Options};
use switchboard_local_stack::template::Template;

const PROBE: &str = env!("CARGO_BIN_EXE_emulator-probe");

struct Probe {
    dir: PathBuf,
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Probe {
    fn new(test: &str) -> Probe {
        let dir = std::env::temp_dir().join(format!("emulator-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("state")).unwrap();
        Probe { dir }
    }

    fn code(&self) -> FunctionCode {
        let mut environment = BTreeMap::new();
        environment.insert(
            "PROBE_LOG".into(),
            self.dir.join("log").display().to_string(),
        );
        environment.insert(
            "PROBE_STATE".into(),
            self.dir.join("state").display().to_string(),
        );
        environment.insert("PROBE_FROM_TEMPLATE".into(), "from-the-template".into());
        FunctionCode {
            binary: PROBE.into(),
            environment,
        }
    }

    fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("log"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    fn seen(&self, body: &str) -> Vec<Value> {
        self.log()
            .into_iter()
            .filter(|entry| entry["body"] == body)
            .collect()
    }
}

fn options(http: bool) -> Options {
    Options {
        http_listen: http.then(|| "127.0.0.1:0".parse().unwrap()),
        log_dir: None,
        ..Options::default()
    }
}

async fn sqs() -> aws_sdk_sqs::Client {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run through `make test` or infra/scripts/with-moto.sh"
    );
    let config = aws_config::from_env().load().await;
    aws_sdk_sqs::Client::new(&config)
}

/// Creates the template's queues in moto under unique names, redrive included.
async fn create_queues(
    sqs: &aws_sdk_sqs::Client,
    template: &Template,
    test: &str,
) -> BTreeMap<String, String> {
    let mut urls = BTreeMap::new();
    // Dead-letter queues (no redrive of their own) first.
    let mut ids: Vec<&String> = template.queues.keys().collect();
    ids.sort_by_key(|id| template.queues[*id].redrive.is_some());
    for id in ids {
        let spec = &template.queues[id];
        let name = format!(
            "{test}-{id}-{}{}",
            std::process::id(),
            if spec.fifo { ".fifo" } else { "" }
        );
        let mut request = sqs.create_queue().queue_name(&name);
        if spec.fifo {
            request = request.attributes(QueueAttributeName::FifoQueue, "true");
        }
        if let Some(vt) = spec.visibility_timeout_secs {
            request = request.attributes(QueueAttributeName::VisibilityTimeout, vt.to_string());
        }
        if let Some(redrive) = &spec.redrive {
            let target = &urls[&redrive.dead_letter_target];
            let arn = sqs
                .get_queue_attributes()
                .queue_url(target)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await
                .unwrap()
                .attributes
                .unwrap()[&QueueAttributeName::QueueArn]
                .clone();
            request = request.attributes(
                QueueAttributeName::RedrivePolicy,
                serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": redrive.max_receive_count}).to_string(),
            );
        }
        let url = request.send().await.unwrap().queue_url.unwrap();
        urls.insert(id.clone(), url);
    }
    urls
}

fn template(timeout: u32, events: &str, queues: &str) -> Template {
    let yaml = format!(
        r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Probe:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: emulator-probe
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      MemorySize: 192
      Timeout: {timeout}
      Events:
{events}
{queues}
"#
    );
    Template::from_yaml_str(&yaml).unwrap()
}

const HTTP_EVENTS: &str = r#"        Echo:
          Type: HttpApi
          Properties:
            Method: ANY
            Path: /{proxy+}"#;

const QUEUES: &str = r#"  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 2
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt WorkDlq.Arn
        maxReceiveCount: 2
  WorkDlq:
    Type: AWS::SQS::Queue"#;

fn sqs_events(report_failures: bool) -> String {
    let types = if report_failures {
        "\n            FunctionResponseTypes: [ReportBatchItemFailures]"
    } else {
        ""
    };
    format!(
        r#"        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
            BatchSize: 10{types}"#
    )
}

async fn start(
    template: &Template,
    probe: &Probe,
    queues: &BTreeMap<String, String>,
    http: bool,
) -> Emulator {
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("eu-west-1"))
            .build(),
    );
    let sqs = if queues.is_empty() {
        sqs
    } else {
        self::sqs().await
    };
    let code = BTreeMap::from([("Probe".to_owned(), probe.code())]);
    Emulator::start(template, code, queues, sqs, options(http))
        .await
        .unwrap()
}

#[tokio::test]
async fn an_http_answer_reaches_the_caller_as_api_gateway_shapes_it() {
    let probe = Probe::new("http");
    let template = template(3, HTTP_EVENTS, "");
    let emulator = start(&template, &probe, &BTreeMap::new(), true).await;
    let base = format!("http://{}", emulator.http_addr.unwrap());
    let client = reqwest::Client::new();

    let response = client
        .post(format!("{base}/echo?x=1&x=2"))
        .header("cookie", "c=3")
        .header("content-type", "application/octet-stream")
        .body(vec![0u8, 1, 2])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "the function's statusCode");
    assert_eq!(response.headers()["x-probe"], "yes");
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies.len(), 2, "each cookie its own set-cookie");
    let echoed: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let event = &echoed["event"];
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "ANY /{proxy+}");
    assert_eq!(event["rawQueryString"], "x=1&x=2");
    assert_eq!(event["queryStringParameters"]["x"], "1,2");
    assert_eq!(event["pathParameters"]["proxy"], "echo");
    assert_eq!(event["cookies"][0], "c=3");
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(event["body"], "AAEC");
    assert!(
        echoed["runtime_api"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert_eq!(echoed["memory"], "192", "MemorySize from the template");
    assert_eq!(echoed["function"], "Probe");
    assert_eq!(echoed["template_variable"], "from-the-template");

    let binary = client.get(format!("{base}/binary")).send().await.unwrap();
    assert_eq!(binary.bytes().await.unwrap().as_ref(), [0u8, 1, 2]);

    let raw = client.get(format!("{base}/raw")).send().await.unwrap();
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.headers()["content-type"], "application/json");
    assert_eq!(raw.text().await.unwrap(), r#"{"hello":"world"}"#);

    for path in ["/malformed", "/fail"] {
        let failed = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(failed.status(), 500, "{path}");
        assert_eq!(
            failed.text().await.unwrap(),
            r#"{"message":"Internal Server Error"}"#
        );
    }
    emulator.stop().await;
}

#[tokio::test]
async fn an_http_invocation_past_its_timeout_is_ended_and_the_next_gets_a_new_environment() {
    let probe = Probe::new("timeout");
    let template = template(1, HTTP_EVENTS, "");
    let emulator = start(&template, &probe, &BTreeMap::new(), true).await;
    let base = format!("http://{}", emulator.http_addr.unwrap());
    let client = reqwest::Client::new();
    let first: Value = client
        .get(format!("{base}/echo"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|text| serde_json::from_str(&text).unwrap())
        .unwrap();
    let slow = client.get(format!("{base}/sleep/3")).send().await.unwrap();
    assert_eq!(slow.status(), 500, "timed out: Internal Server Error");
    let crashed = client.get(format!("{base}/exit")).send().await.unwrap();
    assert_eq!(crashed.status(), 500);
    let after: Value = client
        .get(format!("{base}/echo"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|text| serde_json::from_str(&text).unwrap())
        .unwrap();
    assert_ne!(
        first["runtime_api"], after["runtime_api"],
        "a reset environment is started anew"
    );
    emulator.stop().await;
}

/// Waits until `done` holds of the probe's log, or panics after `limit`.
async fn until(probe: &Probe, limit: Duration, what: &str, done: impl Fn(&Probe) -> bool) {
    let start = tokio::time::Instant::now();
    while !done(probe) {
        assert!(start.elapsed() < limit, "{what}: log {:?}", probe.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn send(sqs: &aws_sdk_sqs::Client, url: &str, bodies: &[&str]) {
    for body in bodies {
        sqs.send_message()
            .queue_url(url)
            .message_body(*body)
            .send()
            .await
            .unwrap();
    }
}

async fn queue_depth(sqs: &aws_sdk_sqs::Client, url: &str) -> u64 {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .map(|name| attributes[name].parse::<u64>().unwrap())
    .sum()
}

#[tokio::test]
async fn with_report_batch_item_failures_a_failed_record_comes_back_and_the_rest_go() {
    let sqs = sqs().await;
    let probe = Probe::new("rbif-on");
    let template = template(1, &sqs_events(true), QUEUES);
    let queues = create_queues(&sqs, &template, "rbif-on").await;
    let emulator = start(&template, &probe, &queues, false).await;
    send(&sqs, &queues["Work"], &["ok-1", "fail-once:k", "ok-2"]).await;
    until(
        &probe,
        Duration::from_secs(20),
        "the failed record seen again",
        |p| p.seen("fail-once:k").len() == 2,
    )
    .await;
    assert_eq!(probe.seen("fail-once:k")[1]["receive_count"], "2");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(probe.seen("ok-1").len(), 1, "deleted after the first batch");
    assert_eq!(probe.seen("ok-2").len(), 1);
    assert_eq!(probe.seen("fail-once:k").len(), 2);
    assert_eq!(queue_depth(&sqs, &queues["Work"]).await, 0);
    assert_eq!(queue_depth(&sqs, &queues["WorkDlq"]).await, 0);
    emulator.stop().await;
}

#[tokio::test]
async fn without_report_batch_item_failures_a_returned_list_is_ignored_and_the_record_is_lost() {
    let sqs = sqs().await;
    let probe = Probe::new("rbif-off");
    let template = template(1, &sqs_events(false), QUEUES);
    let queues = create_queues(&sqs, &template, "rbif-off").await;
    let emulator = start(&template, &probe, &queues, false).await;
    send(&sqs, &queues["Work"], &["ok-1", "fail-once:k"]).await;
    until(&probe, Duration::from_secs(20), "the batch ran", |p| {
        p.seen("fail-once:k").len() == 1
    })
    .await;
    // Two visibility timeouts: it would be back by now, had it not been deleted.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        probe.seen("fail-once:k").len(),
        1,
        "deleted with the batch: lost"
    );
    assert_eq!(queue_depth(&sqs, &queues["Work"]).await, 0);
    assert_eq!(queue_depth(&sqs, &queues["WorkDlq"]).await, 0);
    emulator.stop().await;
}

#[tokio::test]
async fn a_batch_that_outlives_its_timeout_comes_back_whole_until_the_dead_letter_queue() {
    let sqs = sqs().await;
    let probe = Probe::new("sqs-timeout");
    let template = template(1, &sqs_events(true), QUEUES);
    let queues = create_queues(&sqs, &template, "sqs-timeout").await;
    let emulator = start(&template, &probe, &queues, false).await;
    send(&sqs, &queues["Work"], &["sleep:3"]).await;
    until(&probe, Duration::from_secs(20), "received twice", |p| {
        p.seen("sleep:3").len() == 2
    })
    .await;
    // maxReceiveCount 2: the third receive moves it to the dead-letter queue instead.
    let dlq = &queues["WorkDlq"];
    let start = tokio::time::Instant::now();
    while queue_depth(&sqs, dlq).await == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never dead-lettered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(probe.seen("sleep:3").len(), 2, "never seen a third time");
    assert_eq!(queue_depth(&sqs, &queues["Work"]).await, 0);
    emulator.stop().await;
}
