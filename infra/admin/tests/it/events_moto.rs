//! `events tail` on the local stack's events queue: one line per event, left in place unless
//! --consume.

use std::process::Command;

fn admin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard-admin"));
    command.current_dir(
        switchboard_testkit::template_path()
            .parent()
            .expect("workspace root"),
    );
    command
}

fn ok(command: &mut Command) -> String {
    let output = command.output().expect("switchboard-admin runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[tokio::test]
async fn tail_prints_a_line_per_event_and_consumes_only_when_asked() {
    let sdk = switchboard_testkit::moto_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let prefix = switchboard_testkit::unique_prefix("events");
    ok(admin().args([
        "local-stack",
        "--prefix",
        &prefix,
        "--function",
        "WebhookFunction",
    ]));
    let url = sqs
        .get_queue_url()
        .queue_name(format!("{prefix}-EventsQueue.fifo"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let root = switchboard_testkit::template_path();
    let examples = root.parent().unwrap().join("schemas/examples");
    for (n, name) in ["message-text", "delivery-failed"].iter().enumerate() {
        let body = std::fs::read_to_string(examples.join(format!("{name}.json"))).unwrap();
        sqs.send_message()
            .queue_url(&url)
            .message_body(body)
            .message_group_id(format!("g{n}"))
            .message_deduplication_id(format!("d{n}"))
            .send()
            .await
            .unwrap();
    }

    let lines = ok(admin().args(["events", "tail", "--prefix", &prefix]));
    assert_eq!(lines.lines().count(), 2, "{lines}");
    assert!(lines.contains(" message tenant=acme"), "{lines}");
    assert!(lines.contains(" delivery tenant=acme"), "{lines}");
    // Left in place: read again, then consumed.
    let again = ok(admin().args(["events", "tail", "--queue-url", &url, "--consume"]));
    assert_eq!(again, lines);
    let after = ok(admin().args(["events", "tail", "--queue-url", &url]));
    assert_eq!(after, "");
}
