//! Every callback example of the Sinch reference becomes the right contact-center event.

use chrono::{TimeZone, Utc};
use serde_json::Value;
use switchboard_shared::contract::{
    ConsentAction, ContactEventType, EventBody, InboundEvent, MediaStatus,
};
use switchboard_shared::sinch::callback::parse_callback;
use switchboard_webhook::classify::{classify, event_id};
use switchboard_webhook::ingest::{GroupKey, IngestMessage, group_id};

/// The group key of the tests (a service's webhook secret in the function).
const KEY: GroupKey<'static> = GroupKey::new(b"demo-webhook-secret");

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../shared/tests/fixtures/callbacks/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn event_of(body: &[u8]) -> InboundEvent {
    let callback = parse_callback(body).expect("callback parses");
    classify(
        "acme",
        "main",
        &callback,
        body,
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap(),
    )
}

fn event(name: &str) -> InboundEvent {
    event_of(&fixture(name))
}

#[test]
fn whatsapp_text_with_quote_and_metadata() {
    let event = event("mo_whatsapp_text_reply_to");
    let EventBody::Message { message } = &event.body else {
        panic!("{:?}", event.body)
    };
    assert_eq!(message.message_id, "01EQ8235TD19N21XQTH12B145D");
    assert_eq!(message.text.as_deref(), Some("Hi!"));
    assert_eq!(
        message
            .quoted_message
            .as_ref()
            .map(|q| q.message_id.as_str()),
        Some("01EQ8200000000000000000000")
    );
    assert_eq!(message.sender_id.as_deref(), Some("46701234567"));
    assert_eq!(
        event
            .queue_address
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("01EB37HMH1M6SV18ABNS3G135H@whatsapp.sinchconversation.com")
    );
    let contact = event.contact.as_ref().unwrap();
    assert_eq!(contact.id.as_deref(), Some("01EQ4174TGGY5B1VPTPGHW19R0"));
    assert_eq!(contact.channel_identity.as_deref(), Some("46712312312"));
    assert_eq!(
        contact.display_name.as_deref(),
        Some("46712312312"),
        "identity stands in for the name"
    );
    assert_eq!(
        event.conversation_id.as_deref(),
        Some("01EQ8172WMDB8008EFT4M30481")
    );
    assert_eq!(
        event.attached_data.get("queue").map(String::as_str),
        Some("billing")
    );
    assert_eq!(event.correlation_id.as_deref(), Some("case-42"));
    assert_eq!(event.processing_mode.as_deref(), Some("CONVERSATION"));
    assert_eq!(
        event
            .sinch_times
            .accepted_time
            .unwrap()
            .timestamp_subsec_micros(),
        993_024
    );
    assert_eq!(group_id(&event, &KEY), "acme/c/01EQ8172WMDB8008EFT4M30481");
}

#[test]
fn media_and_media_cards_are_pending_media_items() {
    let event_media = event("mo_whatsapp_media");
    let EventBody::Message { message } = &event_media.body else {
        panic!()
    };
    assert_eq!(message.content_kind, "media_message");
    assert_eq!(message.media.len(), 1);
    assert_eq!(message.media[0].status, MediaStatus::Pending);
    assert!(message.media[0].source_url.starts_with("https://"));

    let EventBody::Message { message } = event("mo_whatsapp_media_card").body else {
        panic!()
    };
    assert_eq!(message.media[0].caption.as_deref(), Some("caption text"));
    assert_eq!(message.text.as_deref(), Some("caption text"));

    let EventBody::Message { message } = event("mo_whatsapp_media_full_reply_to").body else {
        panic!()
    };
    assert_eq!(
        message.media[0].thumbnail_url.as_deref(),
        Some("another url")
    );
    assert_eq!(
        message.media[0].filename.as_deref(),
        Some("filename override value")
    );
    assert!(message.quoted_message.is_some());
}

#[test]
fn location_choice_and_the_raw_kinds() {
    let EventBody::Message { message } = event("mo_whatsapp_location").body else {
        panic!()
    };
    let location = message.location.unwrap();
    assert_eq!(
        (location.latitude, location.longitude),
        (55.727802, 13.175061)
    );
    assert_eq!(location.title.as_deref(), Some("ICA Jägaren"));

    let EventBody::Message { message } = event("mo_whatsapp_choice_response").body else {
        panic!()
    };
    assert_eq!(
        message.choice_response.unwrap().postback_data.as_deref(),
        Some("email_postback")
    );

    for (name, kind) in [
        ("mo_whatsapp_fallback", "fallback_message"),
        ("mo_whatsapp_product_response", "product_response_message"),
        (
            "mo_whatsapp_channel_specific_nfm_reply",
            "channel_specific_message",
        ),
    ] {
        let EventBody::Message { message } = event(name).body else {
            panic!("{name}")
        };
        assert_eq!(message.content_kind, kind);
        let raw = message
            .raw_content
            .unwrap_or_else(|| panic!("{name} keeps its raw content"));
        assert!(raw.get(kind).is_some(), "{name}: {raw}");
    }
}

#[test]
fn delivery_report_keeps_status_and_reason() {
    let event = event("dlr_whatsapp_failed_outside_window");
    let EventBody::Delivery { delivery } = &event.body else {
        panic!()
    };
    assert_eq!(delivery.message_id, "01EQBF0BT63J7S1FEKJZ0Z08VD");
    assert_eq!(delivery.status, "FAILED");
    let reason = delivery.reason.as_ref().unwrap();
    assert_eq!(
        reason.code.as_deref(),
        Some("OUTSIDE_ALLOWED_SENDING_WINDOW")
    );
    assert_eq!(reason.sub_code.as_deref(), Some("UNSPECIFIED_SUB_CODE"));
    assert_eq!(group_id(&event, &KEY), "acme/c/01EQBCFQR3EGE60P42H6H1117J");
}

#[test]
fn contact_events_consent_and_channel_events() {
    let composing = event("event_rcs_composing");
    let EventBody::ContactEvent { contact_event } = &composing.body else {
        panic!()
    };
    assert_eq!(contact_event.event_type, ContactEventType::Typing);
    // No conversation id on this example: ordered by the customer's identity instead.
    let group = group_id(&composing, &KEY);
    assert!(group.starts_with("acme/i/RCS/"), "{group}");
    assert!(
        !group.contains("123456789"),
        "never the identity itself: {group}"
    );

    let EventBody::ContactEvent { contact_event } = event("event_messenger_reaction").body else {
        panic!()
    };
    assert_eq!(contact_event.event_type, ContactEventType::Reaction);
    assert_eq!(contact_event.reaction.unwrap().emoji.as_deref(), Some("🔥"));

    let opt_out = event("opt_out_whatsapp");
    let EventBody::Consent { consent } = &opt_out.body else {
        panic!()
    };
    assert_eq!(consent.action, ConsentAction::OptOut);
    assert_eq!(consent.status.as_deref(), Some("OPT_OUT_SUCCEEDED"));
    assert_eq!(
        opt_out
            .contact
            .as_ref()
            .unwrap()
            .channel_identity
            .as_deref(),
        Some("12345678910")
    );

    let EventBody::ChannelEvent { channel_event } = event("channel_event_whatsapp_quality").body
    else {
        panic!()
    };
    assert_eq!(
        channel_event.event_type.as_deref(),
        Some("WHATS_APP_QUALITY_RATING_CHANGED")
    );
    assert_eq!(
        channel_event.additional_data.unwrap()["quality_rating"],
        "GREEN"
    );
}

#[test]
fn unsupported_and_unmodelled_callbacks_are_forwarded_whole() {
    let body = fixture("unsupported_messenger_echo");
    let EventBody::Unsupported { unsupported } = event_of(&body).body else {
        panic!()
    };
    assert_eq!(unsupported.trigger, "UNSUPPORTED");
    assert_eq!(
        unsupported.callback,
        serde_json::from_slice::<Value>(&body).unwrap()
    );

    let EventBody::Unsupported { unsupported } = event("signature_vector_b_contact_create").body
    else {
        panic!()
    };
    assert_eq!(unsupported.trigger, "CONTACT_CREATE");
    assert_eq!(
        unsupported.callback_key.as_deref(),
        Some("contact_create_notification")
    );

    let body = br#"{"app_id":"01APP","project_id":"p","brand_new_notification":{"x":1}}"#;
    let EventBody::Unsupported { unsupported } = event_of(body).body else {
        panic!()
    };
    assert_eq!(unsupported.trigger, "UNKNOWN");
    assert_eq!(unsupported.callback["brand_new_notification"]["x"], 1);

    // A known key whose content does not fit the model: still forwarded, with the reason.
    let body = br#"{"app_id":"01APP","project_id":"p","message":{"id":"01M","contact_message":{"text_message":{"text":5}}}}"#;
    let EventBody::Unsupported { unsupported } = event_of(body).body else {
        panic!()
    };
    assert_eq!(unsupported.trigger, "MESSAGE_INBOUND");
    assert!(unsupported.reason.is_some());
}

#[test]
fn dispatch_mode_groups_by_channel_identity() {
    let body = br#"{"app_id":"01APP","project_id":"p","message":{"id":"01M","direction":"TO_APP",
        "contact_message":{"text_message":{"text":"hi"}},"channel_identity":{"channel":"SMS","identity":"46700000001","app_id":""},
        "conversation_id":"","contact_id":"","processing_mode":"DISPATCH"}}"#;
    let event = event_of(body);
    assert_eq!(event.conversation_id, None);
    assert_eq!(event.contact.as_ref().unwrap().id, None);
    let group = group_id(&event, &KEY);
    assert!(group.starts_with("acme/i/SMS/"), "{group}");
    assert_eq!(group.len(), "acme/i/SMS/".len() + 32, "{group}");
    assert!(
        !group.contains("46700000001"),
        "never the phone number: {group}"
    );
    // Stable under one key (the customer's events stay in order), another under another key.
    assert_eq!(group, group_id(&event_of(body), &KEY));
    assert_ne!(group, group_id(&event, &GroupKey::new(b"rotated-secret")));
}

#[test]
fn group_ids_sqs_would_refuse_are_hashed_deterministically() {
    // An identity SQS would refuse is digested like any other.
    let body = "{\"app_id\":\"01APP\",\"project_id\":\"p\",\"message\":{\"id\":\"01M\",\"contact_message\":{\"text_message\":{\"text\":\"hi\"}},\"channel_identity\":{\"channel\":\"LINE\",\"identity\":\"名前 with spaces\"}}}";
    let event = event_of(body.as_bytes());
    let group = group_id(&event, &KEY);
    assert!(
        group.starts_with("acme/i/LINE/") && group.len() <= 128,
        "{group}"
    );
    // A conversation id SQS would refuse is keyed and hashed.
    let odd = "{\"app_id\":\"01APP\",\"project_id\":\"p\",\"message\":{\"id\":\"01M\",\"contact_message\":{\"text_message\":{\"text\":\"hi\"}},\"conversation_id\":\"名前 with spaces\"}}";
    let hashed = group_id(&event_of(odd.as_bytes()), &KEY);
    assert!(
        hashed.starts_with("acme/h/") && hashed.len() <= 128,
        "{hashed}"
    );
    assert!(
        group
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c.is_ascii_punctuation())
    );
    assert_eq!(group, group_id(&event_of(body.as_bytes()), &KEY));
}

#[test]
fn event_ids_are_stable_per_callback_and_distinct_across_callbacks() {
    let mut ids = std::collections::BTreeSet::new();
    let dir = format!(
        "{}/../../shared/tests/fixtures/callbacks",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let body = std::fs::read(entry.unwrap().path()).unwrap();
        let callback = parse_callback(&body).unwrap();
        let id = event_id("acme", &callback, &body);
        assert_eq!(id, event_id("acme", &callback, &body));
        assert_ne!(
            id,
            event_id("globex", &callback, &body),
            "tenants never share ids"
        );
        assert_eq!(id.len(), 32);
        ids.insert(id);
        count += 1;
    }
    assert_eq!(ids.len(), count, "every fixture has its own id");

    // The same MO serialized differently (a retry need not be byte-identical) keeps its id.
    let a = br#"{"app_id":"01APP","project_id":"p","message":{"id":"01M","contact_message":{"text_message":{"text":"hi"}}}}"#;
    let b = br#"{"project_id":"p","app_id":"01APP","message":{"contact_message":{"text_message":{"text":"hi"}},"id":"01M"}}"#;
    assert_eq!(
        event_id("acme", &parse_callback(a).unwrap(), a),
        event_id("acme", &parse_callback(b).unwrap(), b)
    );

    // Delivery reports: one id per status of a message.
    let dlr = |status: &str| {
        format!(
            r#"{{"app_id":"01APP","project_id":"p","message_delivery_report":{{"message_id":"01M","status":"{status}","channel_identity":{{"channel":"WHATSAPP","identity":"1"}}}}}}"#
        )
    };
    let (delivered, read) = (dlr("DELIVERED"), dlr("READ"));
    assert_ne!(
        event_id(
            "acme",
            &parse_callback(delivered.as_bytes()).unwrap(),
            delivered.as_bytes()
        ),
        event_id(
            "acme",
            &parse_callback(read.as_bytes()).unwrap(),
            read.as_bytes()
        )
    );
}

#[test]
fn the_ingest_message_is_the_event_with_its_routing() {
    let event = event("mo_whatsapp_text_reply_to");
    let message = IngestMessage::new(&event, &KEY).unwrap();
    assert_eq!(message.deduplication_id, event.event_id);
    assert_eq!(message.kind, "message");
    let round_trip: InboundEvent = serde_json::from_str(&message.body).unwrap();
    assert_eq!(round_trip, event);
}

#[test]
fn an_event_over_the_sqs_limit_is_refused_by_the_ingest_message_and_replaced_by_a_pointer() {
    use switchboard_webhook::classify::kept_in_s3;
    use switchboard_webhook::ingest::{IngestError, MAX_MESSAGE_BYTES};
    // A fallback message carries its text twice (text and raw content): 150 KiB becomes 300 KiB.
    let raw = "x".repeat(150 * 1024);
    let body = serde_json::json!({"app_id": "01APP", "project_id": "p", "message": {"id": "01BIG",
        "contact_message": {"fallback_message": {"raw_message": raw}}}})
    .to_string();
    let event = event_of(body.as_bytes());
    let Err(IngestError::TooLarge { bytes }) = IngestMessage::new(&event, &KEY) else {
        panic!("should be too large")
    };
    assert!(bytes > MAX_MESSAGE_BYTES);

    let callback = parse_callback(body.as_bytes()).unwrap();
    let pointer = kept_in_s3(
        event.clone(),
        &callback,
        "too large",
        "quarantine/acme/x.bin".into(),
    );
    let message = IngestMessage::new(&pointer, &KEY).expect("the pointer fits");
    assert!(message.body.len() < 4096);
    assert_eq!(
        pointer.event_id, event.event_id,
        "same id, so a retry is still de-duplicated"
    );
    let EventBody::Unsupported { unsupported } = pointer.body else {
        panic!()
    };
    assert_eq!(unsupported.trigger, "MESSAGE_INBOUND");
    assert_eq!(
        unsupported.callback_s3_key.as_deref(),
        Some("quarantine/acme/x.bin")
    );
}
