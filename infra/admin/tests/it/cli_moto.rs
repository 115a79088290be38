//! The commands the scripts build on, run as the scripts run them: `functions` lists the
//! template's cargo-lambda functions, `local-stack --env-dir` writes one environment per
//! function, resolved to what it created on moto.

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

fn run(command: &mut Command) -> String {
    let output = command.output().expect("switchboard-admin runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn functions_lists_the_webhook_with_its_binary_and_trigger() {
    let listed = run(admin().arg("functions"));
    let lines: Vec<Vec<&str>> = listed.lines().map(|l| l.split('\t').collect()).collect();
    assert!(
        lines.contains(&vec!["WebhookFunction", "webhook", "http"]),
        "{listed}"
    );
    assert!(lines.iter().all(|l| l.len() == 3), "{listed}");
}

#[tokio::test]
async fn local_stack_writes_one_resolved_environment_per_function() {
    let sdk = switchboard_testkit::moto_config().await;
    let prefix = switchboard_testkit::unique_prefix("cli");
    let dir = std::env::temp_dir().join(format!("switchboard-{prefix}"));
    // As dev.sh runs it: the CloudFront distribution's URL has no local counterpart.
    let written = run(admin()
        .args(["local-stack", "--prefix", &prefix])
        .args([
            "--env",
            "SWITCHBOARD_PUBLIC_MEDIA_BASE_URL=http://127.0.0.1:3002",
        ])
        .arg("--env-dir")
        .arg(&dir));
    let functions = run(admin().arg("functions"));
    for line in functions.lines() {
        let function = line.split('\t').next().expect("a logical id");
        let path = dir.join(format!("{function}.env"));
        assert!(written.contains(&path.display().to_string()), "{written}");
        let text = std::fs::read_to_string(&path).expect("the env file");
        assert!(text.lines().all(|l| l.contains('=')), "{text}");
    }

    let webhook = std::fs::read_to_string(dir.join("WebhookFunction.env")).unwrap();
    let queue_url = webhook
        .lines()
        .find_map(|l| l.strip_prefix("SWITCHBOARD_INGEST_QUEUE_URL="))
        .expect("the ingest queue URL");
    assert!(
        queue_url.ends_with(&format!("/{prefix}-IngestQueue.fifo")),
        "{queue_url}"
    );
    // The URL is the queue moto has, not a guess.
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    sqs.get_queue_attributes()
        .queue_url(queue_url)
        .send()
        .await
        .expect("the queue exists");

    // One function by name prints the same lines.
    let printed = run(admin().args([
        "local-stack",
        "--prefix",
        &prefix,
        "--function",
        "WebhookFunction",
    ]));
    assert_eq!(printed, webhook);
    let _ = std::fs::remove_dir_all(&dir);
}
