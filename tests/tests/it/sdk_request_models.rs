//! Sinch's own SDK accepts what Switchboard sends: the request `build_request` makes for every
//! golden agent command (`schemas/examples/agent-command-*.json`) passes
//! `tests/sinch_sdk/check_requests.py`, which validates `messages:send` and `events:send`
//! bodies against the request models of Sinch's official Python SDK (field names, enum
//! spellings, types, required fields, exactly one kind). The requests are handed over in the
//! format of the simulator's `GET /_simulator/requests`, the same check that can be run on a
//! `make dev` session. Broken copies are refused with their field path, so the check can fail.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};
use switchboard_e2e::workspace_root;
use switchboard_shared::contract::{AgentCommand, parse_command};
use switchboard_shared::sinch::api::send::{SendContext, SinchRequest, build_request};

/// Where the public media distribution would serve the command's S3 keys.
const PUBLIC_BASE: &str = "https://d111111abcdef8.cloudfront.net";

fn sdk_python() -> PathBuf {
    let python = workspace_root().join(".tools/sinch/bin/python");
    assert!(
        python.exists(),
        "Sinch's Python SDK is not installed: run `infra/scripts/install-tools.sh sinch` (make test does)"
    );
    python
}

fn golden_commands() -> Vec<(String, AgentCommand)> {
    let dir = workspace_root().join("schemas/examples");
    let mut commands: Vec<(String, AgentCommand)> = std::fs::read_dir(&dir)
        .expect("schemas/examples")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("agent-command-") && n.ends_with(".json"))
        })
        .map(|path| {
            let text = std::fs::read(&path).expect("the example");
            let command =
                parse_command(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                command,
            )
        })
        .collect();
    commands.sort_by(|a, b| a.0.cmp(&b.0));
    commands
}

/// As the simulator records a request: `body` is the request text.
fn recorded(request: &SinchRequest) -> Value {
    let endpoint = match request {
        SinchRequest::Message(_) => "messages:send",
        SinchRequest::Event(_) => "events:send",
    };
    json!({ "method": "POST", "path": format!("/v1/projects/demo/{endpoint}"), "query": "",
            "headers": { "content-type": "application/json" },
            "body": serde_json::to_string(request).unwrap() })
}

/// Runs the checker on one array; its exit status and what it printed.
fn check(items: &[Value]) -> (bool, String) {
    let file = std::env::temp_dir().join(format!(
        "switchboard-sdk-requests-{}.json",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&file, serde_json::to_vec(items).unwrap()).unwrap();
    let output = Command::new(sdk_python())
        .arg(workspace_root().join("tests/sinch_sdk/check_requests.py"))
        .arg(&file)
        .output()
        .expect("run the checker");
    let _ = std::fs::remove_file(&file);
    let printed = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "the checker could not run: {printed}"
    );
    (output.status.success(), printed)
}

#[test]
fn the_request_of_every_golden_agent_command_is_accepted_by_sinchs_sdk_models() {
    let commands = golden_commands();
    assert!(
        commands.len() >= 13,
        "{:?}",
        commands.iter().map(|c| &c.0).collect::<Vec<_>>()
    );
    let mut items = vec![
        // Token requests are recorded too; the checker skips them.
        json!({"method": "POST", "path": "/oauth2/token", "query": "", "headers": {}, "body": "grant_type=client_credentials"}),
    ];
    let (mut messages, mut events) = (0, 0);
    for (name, command) in &commands {
        let urls: BTreeMap<String, String> = command
            .media_s3_keys()
            .into_iter()
            .map(|key| (key.to_owned(), format!("{PUBLIC_BASE}/{key}")))
            .collect();
        // With and without the queue's SMS sender (channel_properties).
        for queue_sms_sender in [None, Some("+15550100123")] {
            let context = SendContext {
                queue_sms_sender,
                public_urls: &urls,
            };
            let request =
                build_request(command, &context).unwrap_or_else(|e| panic!("{name}: {e}"));
            match &request {
                SinchRequest::Message(_) => messages += 1,
                SinchRequest::Event(_) => events += 1,
            }
            items.push(recorded(&request));
        }
    }
    assert!(messages > 0 && events > 0);
    let (valid, printed) = check(&items);
    assert!(
        valid,
        "Sinch's SDK models refuse Switchboard's requests:\n{printed}"
    );
    assert!(
        printed.contains(&format!(
            "valid: {messages} messages:send, {events} events:send"
        )),
        "{printed}"
    );
}

fn text_request() -> Value {
    let (_, command) = golden_commands()
        .into_iter()
        .find(|(name, _)| name == "agent-command-text.json")
        .expect("the text example");
    let request = build_request(
        &command,
        &SendContext {
            queue_sms_sender: None,
            public_urls: &BTreeMap::new(),
        },
    )
    .unwrap();
    serde_json::to_value(request).unwrap()
}

fn typing_request() -> Value {
    let (_, command) = golden_commands()
        .into_iter()
        .find(|(name, _)| name == "agent-command-typing.json")
        .expect("the typing example");
    let request = build_request(
        &command,
        &SendContext {
            queue_sms_sender: None,
            public_urls: &BTreeMap::new(),
        },
    )
    .unwrap();
    serde_json::to_value(request).unwrap()
}

#[test]
fn the_check_refuses_broken_requests_naming_the_field() {
    type Breakage = fn(&mut Value);
    let breakages: [(&str, Breakage, &str); 8] = [
        (
            "queue",
            |b| b["queue"] = json!("HIGH"),
            "messages:send: queue: 'HIGH'",
        ),
        (
            "misspelt field",
            |b| {
                let text = b["message"]["text_message"]
                    .as_object_mut()
                    .unwrap()
                    .remove("text")
                    .unwrap();
                b["message"]["text_message"]["txt"] = text;
            },
            "message.text_message.txt: not a field",
        ),
        (
            "channel spelling",
            |b| b["channel_priority_order"] = json!(["WHATSAP"]),
            "channel_priority_order[0]: 'WHATSAP'",
        ),
        (
            "agent type",
            |b| b["message"]["agent"] = json!({"display_name": "Bob", "type": "PERSON"}),
            "message.agent.type: 'PERSON'",
        ),
        (
            "two kinds",
            |b| b["message"]["media_message"] = json!({"url": "https://example.com/a.png"}),
            "message: exactly one message kind",
        ),
        (
            "both recipients",
            |b| b["recipient"]["contact_id"] = json!("01HCONTACT"),
            "recipient: exactly one of contact_id and identified_by",
        ),
        ("ttl type", |b| b["ttl"] = json!(1.5), "messages:send: ttl:"),
        (
            "quote without id",
            |b| b["message"]["reply_to"] = json!({"id": "01HMSG"}),
            "message.reply_to.message_id",
        ),
    ];
    for (what, breakage, expected) in breakages {
        let mut body = text_request();
        breakage(&mut body);
        let (valid, printed) = check(&[body]);
        assert!(!valid, "the check missed: {what}");
        assert!(printed.contains(expected), "{what}: {printed}");
    }

    let mut event = typing_request();
    event["event"] = json!({"typing": {}});
    let (valid, printed) = check(&[event]);
    assert!(
        !valid && printed.contains("events:send: event.typing"),
        "{printed}"
    );
}
