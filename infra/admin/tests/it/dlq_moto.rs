//! `dlq list|show|redrive` on the local stack: messages put straight on a dead-letter queue go
//! back to their source queue with their group ids, and a failed send leaves them in place.

use std::process::{Command, Output};

use aws_sdk_sqs::types::MessageSystemAttributeName;

fn admin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard-admin"));
    command.current_dir(
        switchboard_testkit::template_path()
            .parent()
            .expect("workspace root"),
    );
    command
}

fn output(command: &mut Command) -> Output {
    command.output().expect("switchboard-admin runs")
}

fn ok(command: &mut Command) -> String {
    let output = output(command);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

async fn stack(sqs: &aws_sdk_sqs::Client) -> (String, String, String) {
    let prefix = switchboard_testkit::unique_prefix("dlq");
    ok(admin().args([
        "local-stack",
        "--prefix",
        &prefix,
        "--function",
        "WebhookFunction",
    ]));
    let url = |id: &str| {
        let name = format!("{prefix}-{id}.fifo");
        async move {
            sqs.get_queue_url()
                .queue_name(name)
                .send()
                .await
                .expect("queue exists")
                .queue_url
                .expect("url")
        }
    };
    let dlq = url("RepliesDeadLetterQueue").await;
    let source = url("RepliesQueue").await;
    (prefix, dlq, source)
}

async fn put(sqs: &aws_sdk_sqs::Client, url: &str, group: &str, reply_id: &str) {
    let body = serde_json::json!({
        "schema_version": 1, "reply_id": reply_id, "tenant": "demo",
        "message": {"text_message": {"text": "customer secret"}}
    });
    sqs.send_message()
        .queue_url(url)
        .message_body(body.to_string())
        .message_group_id(group)
        .message_deduplication_id(reply_id)
        .send()
        .await
        .expect("put on the DLQ");
}

async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut all = Vec::new();
    loop {
        let batch = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive")
            .messages
            .unwrap_or_default();
        if batch.is_empty() {
            return all;
        }
        for message in &batch {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        all.extend(batch);
    }
}

#[tokio::test]
async fn redrive_moves_every_message_back_with_its_group() {
    let sdk = switchboard_testkit::moto_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (prefix, dlq, source) = stack(&sqs).await;
    for n in 0..12 {
        put(&sqs, &dlq, &format!("demo/c{}", n % 3), &format!("r-{n}")).await;
    }

    let listed = ok(admin().args(["dlq", "list", "--prefix", &prefix, "--json"]));
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let replies = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dead_letter_queue"] == "RepliesDeadLetterQueue")
        .expect("the replies DLQ is listed");
    assert_eq!(replies["source_queue"], "RepliesQueue");
    assert_eq!(replies["approximate_messages"], 12);

    let shown = ok(admin().args([
        "dlq",
        "show",
        "--prefix",
        &prefix,
        "--queue",
        "RepliesDeadLetterQueue",
    ]));
    assert!(shown.contains("reply_id=r-0"), "{shown}");
    assert!(shown.contains("tenant=demo"), "{shown}");
    assert!(!shown.contains("customer secret"), "{shown}");

    let summary = ok(admin().args([
        "dlq",
        "redrive",
        "--prefix",
        &prefix,
        "--queue",
        "RepliesQueue",
        "--json",
    ]));
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["moved"], 12, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");

    assert!(drain(&sqs, &dlq).await.is_empty(), "the DLQ is empty");
    let moved = drain(&sqs, &source).await;
    assert_eq!(moved.len(), 12);
    for message in &moved {
        let body: serde_json::Value = serde_json::from_str(message.body().unwrap()).unwrap();
        let n: usize = body["reply_id"].as_str().unwrap()[2..].parse().unwrap();
        let system = message.attributes().unwrap();
        assert_eq!(
            system[&MessageSystemAttributeName::MessageGroupId],
            format!("demo/c{}", n % 3)
        );
        // Put on the DLQ just now: within the window, so a new id derived from the original.
        assert!(
            system[&MessageSystemAttributeName::MessageDeduplicationId]
                .starts_with(&format!("r-{n}-redrive-")),
            "{system:?}"
        );
    }
}

#[tokio::test]
async fn a_failed_send_leaves_the_message_on_the_dead_letter_queue() {
    let sdk = switchboard_testkit::moto_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (_prefix, dlq, source) = stack(&sqs).await;
    put(&sqs, &dlq, "demo/c1", "r-kept").await;

    let missing = source.replace("RepliesQueue", "NoSuchQueue");
    let failed = output(admin().args(["dlq", "redrive", "--queue-url", &dlq, "--to", &missing]));
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("not sent"), "{stderr}");

    let left = drain(&sqs, &dlq).await;
    assert_eq!(left.len(), 1, "the message is still there");
    assert!(left[0].body().unwrap().contains("r-kept"));
}

#[test]
fn usage_errors_exit_2() {
    let no_queue = output(admin().args(["dlq", "show"]));
    assert_eq!(no_queue.status.code(), Some(2));
    let no_target = output(admin().args(["dlq", "redrive", "--queue-url", "http://x/q.fifo"]));
    assert_eq!(no_target.status.code(), Some(2));
}
