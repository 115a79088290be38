//! The agent command contract: every golden example (`schemas/examples/agent-command-*.json`)
//! validates against the published schema, reads into the Rust types, passes validation and
//! writes back to the same JSON; every message kind and event has one; and each kind of
//! mistake is refused naming the exact field.

use std::path::PathBuf;

use switchboard_shared::contract::{AgentCommand, CommandMessage, parse_command};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every golden command, by file stem after `agent-command-`.
const EXAMPLES: &[&str] = &[
    "text",
    "media-s3",
    "media-url",
    "choice",
    "card",
    "carousel",
    "location",
    "list",
    "contact-info",
    "whatsapp-template",
    "omni-template",
    "typing",
    "typing-end",
];

fn example(name: &str) -> serde_json::Value {
    let path = root().join(format!("schemas/examples/agent-command-{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn validator() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(root().join("schemas/agent-command.v1.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap())
        .expect("the schema is a valid JSON Schema")
}

#[test]
fn every_example_validates_reads_and_writes_back_unchanged() {
    let validator = validator();
    for name in EXAMPLES {
        let json = example(name);
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name} against the schema: {errors:?}");
        let command = parse_command(json.to_string().as_bytes())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(
            serde_json::to_value(&command).unwrap(),
            json,
            "{name} round trip"
        );
    }
}

#[test]
fn every_example_file_is_checked_and_every_kind_has_one() {
    let dir = root().join("schemas/examples");
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().to_string();
        if let Some(rest) = file.strip_prefix("agent-command-") {
            let stem = rest.strip_suffix(".json").unwrap_or(rest);
            assert!(
                file.ends_with(".json") && EXAMPLES.contains(&stem),
                "schemas/examples/{file} is not in this test's list"
            );
        }
    }
    let commands: Vec<AgentCommand> = EXAMPLES
        .iter()
        .map(|name| serde_json::from_value(example(name)).unwrap())
        .collect();
    let kinds: Vec<&str> = commands
        .iter()
        .filter_map(|c| c.message.as_ref().map(CommandMessage::kind))
        .collect();
    for kind in [
        "text_message",
        "media_message",
        "choice_message",
        "card_message",
        "carousel_message",
        "location_message",
        "list_message",
        "contact_info_message",
        "template_message",
    ] {
        assert!(kinds.contains(&kind), "no example of {kind}");
    }
    let events: Vec<String> = commands
        .iter()
        .filter_map(|c| {
            c.event
                .map(|e| serde_json::to_value(e).unwrap()["type"].to_string())
        })
        .collect();
    assert_eq!(events, ["\"typing\"", "\"typing_end\""]);
}

/// Applies `edit` to the text example and returns what parsing says.
fn refusal(base: &str, edit: impl FnOnce(&mut serde_json::Value)) -> (String, String) {
    let mut json = example(base);
    edit(&mut json);
    let err = parse_command(json.to_string().as_bytes()).expect_err("must be refused");
    (err.field, err.problem)
}

#[test]
fn each_mistake_is_refused_naming_its_field() {
    use serde_json::json;
    type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit, &str, &str)> = vec![
        (
            "text",
            Box::new(|c| c["message"]["text_message"]["text"] = json!("  ")),
            "message.text_message.text",
            "must not be empty",
        ),
        (
            "text",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("reply_id");
            }),
            "reply_id",
            "is required",
        ),
        (
            "text",
            Box::new(|c| c["reply_id"] = json!("has space")),
            "reply_id",
            "printable ASCII",
        ),
        (
            "text",
            Box::new(|c| c["reply_id"] = json!("x".repeat(129))),
            "reply_id",
            "at most 128",
        ),
        (
            "text",
            Box::new(|c| c["schema_version"] = json!(2)),
            "schema_version",
            "not supported",
        ),
        (
            "text",
            Box::new(|c| c["tenant"] = json!("Demo!")),
            "tenant",
            "tenant id",
        ),
        (
            "text",
            Box::new(|c| c["queue_address"] = json!("nope")),
            "queue_address",
            "not of the form",
        ),
        (
            "text",
            Box::new(|c| c["reply_too"] = json!("x")),
            "reply_too",
            "unknown field",
        ),
        (
            "text",
            Box::new(|c| c["message"] = json!({"txt_message": {"text": "x"}})),
            "message",
            "unknown variant `txt_message`",
        ),
        (
            "text",
            Box::new(|c| c["message"]["media_message"] = json!({"url": "https://x.example/f"})),
            "message",
            "has 2 kinds (media_message, text_message); a message has exactly one",
        ),
        (
            "text",
            Box::new(|c| c["message"]["text_message"]["text"] = json!(5)),
            "message.text_message.text",
            "invalid type",
        ),
        (
            "text",
            Box::new(|c| *c = json!([1])),
            ".",
            "must be a JSON object",
        ),
        (
            "text",
            Box::new(|c| c["event"] = json!({"type": "typing"})),
            ".",
            "both a message and an event",
        ),
        (
            "text",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("message");
            }),
            "message",
            "is required",
        ),
        (
            "text",
            Box::new(|c| c["recipient"] = json!({"contact_id": "c", "identity": "1"})),
            "recipient",
            "both contact_id and identity",
        ),
        (
            "text",
            Box::new(|c| c["recipient"] = json!({})),
            "recipient",
            "needs contact_id",
        ),
        (
            "text",
            Box::new(|c| c["recipient"] = json!({"contact_id": "c", "channel": "SMS"})),
            "recipient.channel",
            "goes with identity",
        ),
        (
            "text",
            Box::new(|c| c["recipient"]["channel"] = json!("PIGEON")),
            "recipient.channel",
            "unknown channel 'PIGEON'",
        ),
        (
            "text",
            Box::new(|c| c["agent"]["type"] = json!("ROBOT")),
            "agent.type",
            "unknown variant `ROBOT`",
        ),
        (
            "text",
            Box::new(|c| c["agent"]["display_name"] = json!("")),
            "agent.display_name",
            "must not be empty",
        ),
        (
            "text",
            Box::new(|c| c["queue_priority"] = json!("HIGH")),
            "queue_priority",
            "unknown variant `HIGH`",
        ),
        (
            "text",
            Box::new(|c| c["ttl_seconds"] = json!(2)),
            "ttl_seconds",
            "outside 3..=",
        ),
        (
            "text",
            Box::new(|c| c["correlation_id"] = json!("c".repeat(129))),
            "correlation_id",
            "at most 128",
        ),
        (
            "text",
            Box::new(|c| c["attached_data"] = json!({"k": "v".repeat(1100)})),
            "attached_data",
            "at most 1024",
        ),
        (
            "text",
            Box::new(|c| c["attached_data"] = json!({"n": 1})),
            "attached_data.n",
            "invalid type",
        ),
        (
            "text",
            Box::new(|c| c["channel_priority"] = json!(["SMS", "SMS"])),
            "channel_priority[1]",
            "listed twice",
        ),
        (
            "media-s3",
            Box::new(|c| {
                c["message"]["media_message"]["s3_key"] = json!("outbound/other/2026-11-21/x/f.pdf")
            }),
            "message.media_message.s3_key",
            "must start with outbound/demo/",
        ),
        (
            "media-s3",
            Box::new(|c| {
                c["message"]["media_message"]["s3_key"] = json!("outbound/demo/../inbound/x")
            }),
            "message.media_message.s3_key",
            "'..'",
        ),
        (
            "media-s3",
            Box::new(|c| {
                c["message"]["media_message"]["s3_key"] = json!("outbound/demo/2026-11-21/f.pdf")
            }),
            "message.media_message.s3_key",
            "{random}",
        ),
        (
            "media-s3",
            Box::new(|c| {
                c["message"]["media_message"]["s3_key"] =
                    json!("outbound/demo/2026-11-21/shortrandom/f.pdf")
            }),
            "message.media_message.s3_key",
            "at least 22 characters",
        ),
        (
            "media-s3",
            Box::new(|c| {
                c["message"]["media_message"]["s3_key"] =
                    json!("outbound/demo/someday/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/f.pdf")
            }),
            "message.media_message.s3_key",
            "yyyy-mm-dd",
        ),
        (
            "media-s3",
            Box::new(|c| c["message"]["media_message"]["url"] = json!("https://x.example/f")),
            "message.media_message",
            "both s3_key and url",
        ),
        (
            "media-url",
            Box::new(|c| c["message"]["media_message"]["url"] = json!("ftp://x.example/f")),
            "message.media_message.url",
            "http or https",
        ),
        (
            "choice",
            Box::new(|c| {
                c["message"]["choice_message"]["choices"][2]["url_message"]["url"] =
                    json!("not a url")
            }),
            "message.choice_message.choices[2].url_message.url",
            "http or https",
        ),
        (
            "choice",
            Box::new(|c| {
                c["message"]["choice_message"]["choices"][0]["url_message"] =
                    json!({"title": "t", "url": "https://x.example"})
            }),
            "message.choice_message.choices[0]",
            "exactly one of",
        ),
        (
            "choice",
            Box::new(|c| {
                c["message"]["choice_message"]["choices"][1]["call_message"]["phone_number"] =
                    json!("0732")
            }),
            "message.choice_message.choices[1].call_message.phone_number",
            "E.164",
        ),
        (
            "choice",
            Box::new(|c| {
                c["message"]["choice_message"]["choices"] =
                    json!(vec![json!({"text_message": {"text": "x"}}); 11])
            }),
            "message.choice_message.choices",
            "1 to 10",
        ),
        (
            "card",
            Box::new(|c| c["message"]["card_message"] = json!({"choices": []})),
            "message.card_message",
            "needs a title",
        ),
        (
            "card",
            Box::new(|c| c["message"]["card_message"]["height"] = json!("HUGE")),
            "message.card_message.height",
            "unknown variant `HUGE`",
        ),
        (
            "carousel",
            Box::new(|c| {
                c["message"]["carousel_message"]["choices"] =
                    json!(vec![json!({"text_message": {"text": "x"}}); 4])
            }),
            "message.carousel_message.choices",
            "at most 3",
        ),
        (
            "carousel",
            Box::new(|c| c["message"]["carousel_message"]["cards"][1]["media_message"] = json!({})),
            "message.carousel_message.cards[1].media_message",
            "needs s3_key or url",
        ),
        (
            "location",
            Box::new(|c| c["message"]["location_message"]["coordinates"]["latitude"] = json!(91.0)),
            "message.location_message.coordinates.latitude",
            "-90..=90",
        ),
        (
            "location",
            Box::new(|c| {
                c["message"]["location_message"]
                    .as_object_mut()
                    .unwrap()
                    .remove("title");
            }),
            "message.location_message.title",
            "is required",
        ),
        (
            "list",
            Box::new(|c| {
                c["message"]["list_message"]["sections"][0]["items"][1] =
                    json!({"product": {"id": "p", "marketplace": "FACEBOOK"}})
            }),
            "message.list_message.message_properties.catalog_id",
            "products",
        ),
        (
            "list",
            Box::new(|c| c["message"]["list_message"]["sections"][0]["items"] = json!([])),
            "message.list_message.sections[0].items",
            "at least one",
        ),
        (
            "contact-info",
            Box::new(|c| c["message"]["contact_info_message"]["phone_numbers"] = json!([])),
            "message.contact_info_message.phone_numbers",
            "at least one",
        ),
        (
            "whatsapp-template",
            Box::new(|c| {
                c["message"]["template_message"]["channel_template"]["WHATSAPP"]["language_code"] =
                    json!("en-US")
            }),
            "message.template_message.channel_template.WHATSAPP.language_code",
            "underscore",
        ),
        (
            "whatsapp-template",
            Box::new(|c| {
                c["message"]["template_message"]["channel_template"]["WHATSAPP"]
                    .as_object_mut()
                    .unwrap()
                    .remove("language_code");
            }),
            "message.template_message.channel_template.WHATSAPP.language_code",
            "required",
        ),
        (
            "whatsapp-template",
            Box::new(|c| c["message"]["template_message"] = json!({})),
            "message.template_message",
            "omni_template or channel_template",
        ),
        (
            "omni-template",
            Box::new(|c| {
                c["message"]["template_message"]["omni_template"]
                    .as_object_mut()
                    .unwrap()
                    .remove("version");
            }),
            "message.template_message.omni_template.version",
            "required",
        ),
        (
            "typing",
            Box::new(|c| c["event"] = json!({"type": "waving"})),
            "event.type",
            "unknown variant `waving`",
        ),
        (
            "typing",
            Box::new(|c| c["reply_to"] = json!("01X")),
            "reply_to",
            "messages only",
        ),
        (
            "typing",
            Box::new(|c| c["channel_priority"] = json!(["WHATSAPP", "SMS"])),
            "channel_priority",
            "at most one",
        ),
    ];
    let mut failures = Vec::new();
    for (base, edit, field, problem) in cases {
        let (got_field, got_problem) = refusal(base, edit);
        if got_field != field || !got_problem.contains(problem) {
            failures.push(format!(
                "expected `{field}: …{problem}…`, got `{got_field}: {got_problem}`"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bytes_that_are_not_json_are_refused_as_a_whole() {
    let err = parse_command(b"{\"reply_id\": ").unwrap_err();
    assert_eq!(err.field, ".");
    assert!(err.problem.starts_with("is not JSON"), "{}", err.problem);
    assert!(!err.problem.contains("line"), "{}", err.problem);
}

#[test]
fn the_message_names_the_field_first() {
    let (field, problem) = refusal("text", |c| c["message"]["text_message"]["text"] = "".into());
    let err = switchboard_shared::contract::InvalidCommand { field, problem };
    assert_eq!(
        err.to_string(),
        "message.text_message.text: must not be empty"
    );
}

#[test]
fn the_schema_refuses_what_it_can_express() {
    let validator = validator();
    let good = example("text");
    assert!(validator.is_valid(&good));
    let mut both = good.clone();
    both["event"] = serde_json::json!({"type": "typing"});
    let mut two_recipients = good.clone();
    two_recipients["recipient"]["contact_id"] = "c".into();
    let mut typo = good.clone();
    typo["reply_too"] = "x".into();
    let mut media = example("media-s3");
    media["message"]["media_message"]["url"] = "https://x.example/f".into();
    let mut choice = example("choice");
    choice["message"]["choice_message"]["choices"][0]["url_message"] =
        serde_json::json!({"title": "t", "url": "https://x.example"});
    for broken in [both, two_recipients, typo, media, choice] {
        assert!(!validator.is_valid(&broken), "accepted: {broken}");
    }
}

#[test]
fn media_keys_are_listed_in_order_for_every_kind_that_holds_media() {
    let keys = |name: &str| {
        let command: AgentCommand = serde_json::from_value(example(name)).unwrap();
        command
            .media_s3_keys()
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys("media-s3"),
        ["outbound/demo/2026-11-21/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/invoice.pdf"]
    );
    assert_eq!(
        keys("card"),
        ["outbound/demo/2026-11-21/9a8b7c6d5e4f4a3b2c1d0e9f8a7b6c5d/router.png"]
    );
    assert!(keys("carousel").is_empty(), "carousel media are URLs");
    let mut list = example("list");
    list["message"]["list_message"]["media"] =
        serde_json::json!({"s3_key": "outbound/demo/2026-11-21/0123456789abcdefABCDEF_-/1.png"});
    list["message"]["list_message"]["sections"][0]["items"][1]["choice"]["media"] =
        serde_json::json!({"s3_key": "outbound/demo/2026-11-21/0123456789abcdefABCDEF_-/2.png"});
    let command = parse_command(list.to_string().as_bytes()).unwrap();
    assert_eq!(
        command.media_s3_keys(),
        [
            "outbound/demo/2026-11-21/0123456789abcdefABCDEF_-/1.png",
            "outbound/demo/2026-11-21/0123456789abcdefABCDEF_-/2.png"
        ]
    );
}
