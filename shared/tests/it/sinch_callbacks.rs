//! Sinch callback parsing: every example of the reference as a fixture, times, DISPATCH mode,
//! open enums, unknown kinds, and the "never refuse a signed callback" properties.

use std::borrow::Cow;

use chrono::{DateTime, Timelike, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use switchboard_shared::channel::Channel;
use switchboard_shared::sinch::callback::{
    Callback, CallbackBody, CallbackKind, CallbackParseError, ChannelIdentity, ConsentStatus,
    ContactEvent, ContactMessageEvent, ContactMessageKind, DeliveryStatus, Direction,
    ProcessingMode, ReactionAction, parse_callback, parse_time,
};

/// Every fixture: (file name, exact bytes).
const FIXTURES: &[(&str, &[u8])] = &[
    (
        "signature_vector_a_dlr_queued",
        include_bytes!("../fixtures/callbacks/signature_vector_a_dlr_queued.json"),
    ),
    (
        "signature_vector_b_contact_create",
        include_bytes!("../fixtures/callbacks/signature_vector_b_contact_create.json"),
    ),
    (
        "mo_whatsapp_text_reply_to",
        include_bytes!("../fixtures/callbacks/mo_whatsapp_text_reply_to.json"),
    ),
    (
        "mo_whatsapp_media",
        include_bytes!("../fixtures/callbacks/mo_whatsapp_media.json"),
    ),
    (
        "mo_whatsapp_media_card",
        include_bytes!("../fixtures/callbacks/mo_whatsapp_media_card.json"),
    ),
    (
        "mo_whatsapp_location",
        include_bytes!("../fixtures/callbacks/mo_whatsapp_location.json"),
    ),
    (
        "mo_whatsapp_choice_response",
        include_bytes!("../fixtures/callbacks/mo_whatsapp_choice_response.json"),
    ),
    (
        "mo_whatsapp_media_full_reply_to",
        include_bytes!("../fixtures/callbacks/mo_whatsapp_media_full_reply_to.json"),
    ),
    (
        "mo_whatsapp_fallback",
        include_bytes!("../fixtures/callbacks/mo_whatsapp_fallback.json"),
    ),
    (
        "mo_whatsapp_product_response",
        include_bytes!("../fixtures/callbacks/mo_whatsapp_product_response.json"),
    ),
    (
        "mo_whatsapp_channel_specific_nfm_reply",
        include_bytes!("../fixtures/callbacks/mo_whatsapp_channel_specific_nfm_reply.json"),
    ),
    (
        "dlr_whatsapp_failed_outside_window",
        include_bytes!("../fixtures/callbacks/dlr_whatsapp_failed_outside_window.json"),
    ),
    (
        "event_rcs_composing",
        include_bytes!("../fixtures/callbacks/event_rcs_composing.json"),
    ),
    (
        "event_messenger_reaction",
        include_bytes!("../fixtures/callbacks/event_messenger_reaction.json"),
    ),
    (
        "opt_out_whatsapp",
        include_bytes!("../fixtures/callbacks/opt_out_whatsapp.json"),
    ),
    (
        "unsupported_messenger_echo",
        include_bytes!("../fixtures/callbacks/unsupported_messenger_echo.json"),
    ),
    (
        "channel_event_whatsapp_quality",
        include_bytes!("../fixtures/callbacks/channel_event_whatsapp_quality.json"),
    ),
];

fn fixture(name: &str) -> Callback {
    let (_, bytes) = FIXTURES
        .iter()
        .find(|(fixture, _)| *fixture == name)
        .unwrap_or_else(|| panic!("no fixture {name}"));
    parse_callback(bytes).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn parse_json(value: &Value) -> Callback {
    parse_callback(&serde_json::to_vec(value).unwrap()).unwrap()
}

fn message(callback: &Callback) -> &switchboard_shared::sinch::callback::MessageInbound {
    match &callback.body {
        CallbackBody::Message(message) => message,
        other => panic!("not a message: {other:?}"),
    }
}

fn whatsapp(identity: &str) -> ChannelIdentity {
    ChannelIdentity {
        channel: Channel::WhatsApp,
        identity: identity.to_owned(),
        app_id: None,
    }
}

// ---------------------------------------------------------------- §1.4 signature vector bodies

#[test]
fn vector_a_is_a_queued_delivery_report() {
    let callback = fixture("signature_vector_a_dlr_queued");
    assert_eq!(callback.app_id, "01EB37HMH1M6SV18BSNS3G135H");
    assert_eq!(callback.project_id, "c36f3d3d-1513-2edd-ae42-11995557ff61");
    assert_eq!(
        callback.accepted_time,
        Some(utc("2020-11-17T15:09:11.659Z"))
    );
    assert_eq!(callback.accepted_time.unwrap().nanosecond(), 659_000_000);
    assert_eq!(callback.event_time, None);
    assert_eq!(callback.message_metadata, None);
    assert_eq!(callback.correlation_id, None);
    assert_eq!(callback.key(), "message_delivery_report");
    assert_eq!(callback.trigger(), "MESSAGE_DELIVERY");
    assert_eq!(callback.kind(), Some(CallbackKind::MessageDeliveryReport));
    let CallbackBody::MessageDeliveryReport(report) = &callback.body else {
        panic!("{:?}", callback.body)
    };
    assert_eq!(
        report.message_id.as_deref(),
        Some("01EQBC1A3BEK731GY4YXEN0C2R")
    );
    assert_eq!(report.status, Some(DeliveryStatus::QueuedOnChannel));
    assert_eq!(report.reason, None);
    assert_eq!(callback.sinch_id(), Some("01EQBC1A3BEK731GY4YXEN0C2R"));
    assert_eq!(
        callback.conversation_id(),
        Some("01EPYATA64TMNZ1FV02JKF12JF")
    );
    assert_eq!(callback.contact_id(), Some("01EXA07N79THJ20WSN6AS30TMW"));
    assert_eq!(callback.channel_identity(), None);
    assert_eq!(callback.channel(), None);
}

#[test]
fn vector_b_is_a_contact_create_notification() {
    let callback = fixture("signature_vector_b_contact_create");
    assert_eq!(callback.app_id, "");
    assert_eq!(callback.project_id, "e2df3a34-a71b-4448-9db5-a8d2baad28e4");
    assert_eq!(
        callback.accepted_time,
        Some(utc("2021-10-18T17:49:13.813615Z"))
    );
    assert_eq!(callback.accepted_time.unwrap().nanosecond(), 813_615_000);
    assert_eq!(callback.message_metadata, None, "\"\" is no metadata");
    assert_eq!(callback.trigger(), "CONTACT_CREATE");
    assert_eq!(callback.key(), "contact_create_notification");
    let CallbackBody::ContactCreateNotification(content) = &callback.body else {
        panic!("{:?}", callback.body)
    };
    assert_eq!(content["contact"]["display_name"], "New Test Contact");
    assert_eq!(
        content["contact"]["channel_identities"][0]["channel"],
        "SMS"
    );
    assert_eq!(callback.contact_id(), Some("01FJA8B466Y0R2GNXD78MD9SM1"));
    assert_eq!(callback.conversation_id(), None);
    assert_eq!(callback.sinch_id(), None);
}

// ---------------------------------------------------------------- §2.3 MESSAGE_INBOUND

#[test]
fn whatsapp_text_with_reply_to_and_metadata() {
    let callback = fixture("mo_whatsapp_text_reply_to");
    assert_eq!(callback.app_id, "01EB37HMH1M6SV18ABNS3G135H");
    assert_eq!(callback.project_id, "c36f3d3d-1523-4edd-ae42-11995557ff61");
    assert_eq!(
        callback.accepted_time,
        Some(utc("2020-11-16T08:17:44.993024Z"))
    );
    assert_eq!(callback.accepted_time.unwrap().nanosecond(), 993_024_000);
    assert_eq!(callback.event_time.unwrap().nanosecond(), 814_000_000);
    assert_eq!(
        callback.message_metadata.as_deref(),
        Some(r#"{"queue":"billing"}"#)
    );
    assert_eq!(callback.correlation_id.as_deref(), Some("case-42"));
    assert_eq!(callback.trigger(), "MESSAGE_INBOUND");
    assert_eq!(callback.key(), "message");

    let message = message(&callback);
    assert_eq!(message.id.as_deref(), Some("01EQ8235TD19N21XQTH12B145D"));
    assert_eq!(message.direction, Some(Direction::ToApp));
    let ContactMessageKind::Text(text) = &message.contact_message.kind else {
        panic!("{:?}", message.contact_message)
    };
    assert_eq!(text.text, "Hi!");
    assert_eq!(
        message
            .contact_message
            .reply_to
            .as_ref()
            .map(|reply| reply.message_id.as_str()),
        Some("01EQ8200000000000000000000")
    );
    assert_eq!(message.channel_identity, Some(whatsapp("46712312312")));
    assert_eq!(message.metadata, None);
    assert_eq!(
        message.accept_time,
        Some(utc("2020-11-16T08:17:43.915829Z"))
    );
    assert_eq!(message.sender_id.as_deref(), Some("46701234567"));
    assert_eq!(message.processing_mode, Some(ProcessingMode::Conversation));
    assert!(!message.injected);

    assert_eq!(callback.sinch_id(), Some("01EQ8235TD19N21XQTH12B145D"));
    assert_eq!(
        callback.conversation_id(),
        Some("01EQ8172WMDB8008EFT4M30481")
    );
    assert_eq!(callback.contact_id(), Some("01EQ4174TGGY5B1VPTPGHW19R0"));
    assert_eq!(callback.channel(), Some(&Channel::WhatsApp));
    assert!(matches!(
        callback.channel_identity(),
        Some(Cow::Borrowed(_))
    ));
    assert_eq!(
        callback.processing_mode(),
        Some(&ProcessingMode::Conversation)
    );
}

#[test]
fn whatsapp_media() {
    let callback = fixture("mo_whatsapp_media");
    assert_eq!(callback.accepted_time.unwrap().nanosecond(), 73_703_000);
    let message = message(&callback);
    assert_eq!(message.id.as_deref(), Some("01EKJ1534NWK5R02TGWEJN13HA"));
    let ContactMessageKind::Media(media) = &message.contact_message.kind else {
        panic!("{:?}", message.contact_message)
    };
    assert_eq!(media.url, "https://…/Sinch-logo-Events.png");
    assert_eq!(media.thumbnail_url, None);
    assert_eq!(media.filename_override, None);
    assert_eq!(message.contact_message.reply_to, None);
    assert_eq!(
        message.contact_message.kind.media_url(),
        Some("https://…/Sinch-logo-Events.png")
    );
    assert_eq!(
        callback.conversation_id(),
        Some("01EKJ0KSWXMVDF05MG9TQ20S06")
    );
    assert_eq!(callback.contact_id(), Some("01EKA07N79THJ20WSN6AS30TMW"));
    assert_eq!(message.processing_mode, None);
}

#[test]
fn whatsapp_media_card() {
    let callback = fixture("mo_whatsapp_media_card");
    let message = message(&callback);
    assert_eq!(message.id.as_deref(), Some("01EKJ1534NWK5R02TGWEJN13H1"));
    let ContactMessageKind::MediaCard(card) = &message.contact_message.kind else {
        panic!("{:?}", message.contact_message)
    };
    assert_eq!(card.url, "https://…/image.png");
    assert_eq!(card.caption.as_deref(), Some("caption text"));
    assert_eq!(message.contact_message.kind.key(), "media_card_message");
    assert_eq!(
        message.contact_message.kind.media_url(),
        Some("https://…/image.png")
    );
}

#[test]
fn whatsapp_location() {
    let callback = fixture("mo_whatsapp_location");
    let message = message(&callback);
    let ContactMessageKind::Location(location) = &message.contact_message.kind else {
        panic!("{:?}", message.contact_message)
    };
    assert_eq!(location.title, "ICA Jägaren");
    let coordinates = location.coordinates.as_ref().unwrap();
    assert_eq!(coordinates.latitude, Some(55.727802));
    assert_eq!(coordinates.longitude, Some(13.175061));
    assert_eq!(location.label, None);
    assert_eq!(message.contact_message.kind.media_url(), None);
}

#[test]
fn whatsapp_choice_response() {
    let callback = fixture("mo_whatsapp_choice_response");
    let message = message(&callback);
    let ContactMessageKind::ChoiceResponse(choice) = &message.contact_message.kind else {
        panic!("{:?}", message.contact_message)
    };
    assert_eq!(
        choice.message_id.as_deref(),
        Some("01EBDTZ9SN8HTW092K56PH1GDS")
    );
    assert_eq!(choice.postback_data.as_deref(), Some("email_postback"));
}

#[test]
fn media_with_thumbnail_filename_and_reply_to() {
    let callback = fixture("mo_whatsapp_media_full_reply_to");
    let message = message(&callback);
    let ContactMessageKind::Media(media) = &message.contact_message.kind else {
        panic!("{:?}", message.contact_message)
    };
    assert_eq!(media.url, "an url value");
    assert_eq!(media.thumbnail_url.as_deref(), Some("another url"));
    assert_eq!(
        media.filename_override.as_deref(),
        Some("filename override value")
    );
    assert_eq!(
        message
            .contact_message
            .reply_to
            .as_ref()
            .map(|reply| reply.message_id.as_str()),
        Some("message id value")
    );
}

#[test]
fn fallback_message_with_reason() {
    let callback = fixture("mo_whatsapp_fallback");
    let message = message(&callback);
    let ContactMessageKind::Fallback(fallback) = &message.contact_message.kind else {
        panic!("{:?}", message.contact_message)
    };
    assert_eq!(fallback.raw_message.as_deref(), Some("raw message value"));
    let reason = fallback.reason.as_ref().unwrap();
    assert_eq!(reason.code, "RECIPIENT_NOT_OPTED_IN");
    assert_eq!(reason.description.as_deref(), Some("reason description"));
    assert_eq!(reason.sub_code.as_deref(), Some("UNSPECIFIED_SUB_CODE"));
    assert_eq!(reason.channel_code.as_deref(), Some("a channel code"));
}

#[test]
#[allow(clippy::approx_constant)] // 3.14159 is the fixture's price, not an approximation of π.
fn product_response() {
    let callback = fixture("mo_whatsapp_product_response");
    let message = message(&callback);
    let ContactMessageKind::ProductResponse(cart) = &message.contact_message.kind else {
        panic!("{:?}", message.contact_message)
    };
    assert_eq!(cart.products.len(), 1);
    let product = &cart.products[0];
    assert_eq!(product.id, "product ID value");
    assert_eq!(product.marketplace.as_deref(), Some("marketplace value"));
    assert_eq!(product.quantity, Some(4));
    assert_eq!(product.item_price, Some(3.14159));
    assert_eq!(product.currency.as_deref(), Some("currency value"));
    assert_eq!(cart.title(), Some("…"));
    assert_eq!(cart.catalog_id.as_deref(), Some("catalog id value"));
}

#[test]
fn product_response_title_also_read_from_nodes_text() {
    let callback = parse_json(&json!({
        "app_id": "a",
        "message": {"contact_message": {"product_response_message": {
            "products": [{"id": "p", "quantity": "2", "item_price": "1.5"}], "text": "Cart"}}}
    }));
    let ContactMessageKind::ProductResponse(cart) = &message(&callback).contact_message.kind else {
        panic!("{callback:?}")
    };
    assert_eq!(cart.title(), Some("Cart"));
    assert_eq!(
        cart.products[0].quantity,
        Some(2),
        "proto3 JSON int64 as a string"
    );
    assert_eq!(cart.products[0].item_price, Some(1.5));
}

#[test]
fn channel_specific_nfm_reply() {
    let callback = fixture("mo_whatsapp_channel_specific_nfm_reply");
    let message = message(&callback);
    let ContactMessageKind::ChannelSpecific(specific) = &message.contact_message.kind else {
        panic!("{:?}", message.contact_message)
    };
    assert_eq!(specific.message_type.as_deref(), Some("nfm_reply"));
    let reply = specific.nfm_reply().unwrap();
    assert_eq!(reply.name.as_deref(), Some("flow"));
    assert_eq!(
        reply.response_json.as_deref(),
        Some(r#"{"flow_token":"t-1","choice":"a"}"#)
    );
    assert_eq!(reply.body.as_deref(), Some("Sent"));
}

// ---------------------------------------------------------------- §2.4 MESSAGE_DELIVERY

#[test]
fn failed_delivery_report_outside_the_window() {
    let callback = fixture("dlr_whatsapp_failed_outside_window");
    assert_eq!(
        callback.accepted_time,
        Some(utc("2020-11-17T16:01:06.374Z"))
    );
    assert_eq!(callback.accepted_time.unwrap().nanosecond(), 374_000_000);
    assert_eq!(callback.event_time, Some(utc("2020-11-17T16:01:07Z")));
    assert_eq!(callback.event_time.unwrap().nanosecond(), 0);
    assert_eq!(callback.message_metadata, None);
    assert_eq!(callback.correlation_id.as_deref(), Some("case-42"));
    let CallbackBody::MessageDeliveryReport(report) = &callback.body else {
        panic!("{:?}", callback.body)
    };
    assert_eq!(
        report.message_id.as_deref(),
        Some("01EQBF0BT63J7S1FEKJZ0Z08VD")
    );
    assert_eq!(report.status, Some(DeliveryStatus::Failed));
    assert!(report.status.as_ref().unwrap().is_terminal());
    let reason = report.reason.as_ref().unwrap();
    assert_eq!(reason.code, "OUTSIDE_ALLOWED_SENDING_WINDOW");
    assert!(
        reason
            .description
            .as_deref()
            .unwrap()
            .starts_with("The underlying channel")
    );
    assert_eq!(reason.sub_code.as_deref(), Some("UNSPECIFIED_SUB_CODE"));
    assert_eq!(reason.channel_code, None);
    assert_eq!(report.metadata, None);
    assert_eq!(report.processing_mode, Some(ProcessingMode::Conversation));
    assert_eq!(callback.sinch_id(), Some("01EQBF0BT63J7S1FEKJZ0Z08VD"));
    assert_eq!(
        callback.conversation_id(),
        Some("01EQBCFQR3EGE60P42H6H1117J")
    );
    assert_eq!(callback.contact_id(), Some("01EXA07N79THJ20WSN6AS30TMW"));
    assert_eq!(callback.channel(), Some(&Channel::WhatsApp));
    assert_eq!(
        callback.channel_identity().as_deref(),
        Some(&whatsapp("12345678910"))
    );
}

// ---------------------------------------------------------------- §2.5 EVENT_INBOUND

#[test]
fn rcs_composing_event() {
    let callback = fixture("event_rcs_composing");
    assert_eq!(callback.trigger(), "EVENT_INBOUND");
    let CallbackBody::Event(event) = &callback.body else {
        panic!("{:?}", callback.body)
    };
    assert_eq!(event.contact_event, Some(ContactEvent::Composing));
    assert_eq!(event.contact_message_event, None);
    assert_eq!(event.id, None);
    assert_eq!(event.accept_time.unwrap().nanosecond(), 915_829_000);
    assert_eq!(callback.sinch_id(), None, "this example has no event id");
    assert_eq!(callback.conversation_id(), None);
    assert_eq!(callback.contact_id(), Some("01EQ4174TGGY5B1VPTPGHW19R0"));
    assert_eq!(callback.channel(), Some(&Channel::Rcs));
}

#[test]
fn messenger_reaction_event() {
    let callback = fixture("event_messenger_reaction");
    let CallbackBody::Event(event) = &callback.body else {
        panic!("{:?}", callback.body)
    };
    let Some(ContactMessageEvent::Reaction(reaction)) = &event.contact_message_event else {
        panic!("{event:?}")
    };
    assert_eq!(reaction.emoji.as_deref(), Some("🔥"));
    assert_eq!(reaction.action, Some(ReactionAction::React));
    assert_eq!(reaction.message_id.as_deref(), Some("message id value"));
    assert_eq!(
        reaction.reaction_category.as_deref(),
        Some("reaction category")
    );
    assert_eq!(event.contact_event, None);
    assert_eq!(event.accept_time, Some(utc("2020-11-17T16:07:15Z")));
    assert_eq!(event.processing_mode, Some(ProcessingMode::Dispatch));
    assert_eq!(callback.sinch_id(), Some("event id"));
    assert_eq!(callback.conversation_id(), Some("conversation id"));
    assert_eq!(callback.contact_id(), Some("contact ID"));
    assert_eq!(callback.channel(), Some(&Channel::Messenger));
    assert_eq!(
        callback.channel_identity().as_deref(),
        Some(&ChannelIdentity {
            channel: Channel::Messenger,
            identity: "an identity".into(),
            app_id: Some("an app id".into()),
        })
    );
}

// ---------------------------------------------------------------- §2.6 OPT_IN / OPT_OUT

#[test]
fn whatsapp_opt_out() {
    let callback = fixture("opt_out_whatsapp");
    assert_eq!(
        callback.project_id, "",
        "the example really has an empty project id"
    );
    assert_eq!(callback.trigger(), "OPT_OUT");
    let CallbackBody::OptOutNotification(opt) = &callback.body else {
        panic!("{:?}", callback.body)
    };
    assert_eq!(opt.status, Some(ConsentStatus::OptOutSucceeded));
    assert!(opt.status.as_ref().unwrap().is_succeeded());
    assert_eq!(
        opt.request_id.as_deref(),
        Some("01EQBFNC9HVGDW1878RD3B15AC")
    );
    assert_eq!(callback.sinch_id(), Some("01EQBFNC9HVGDW1878RD3B15AC"));
    assert_eq!(callback.contact_id(), Some("01EKA07N79THJ20ZSN6AS30TMW"));
    assert_eq!(callback.channel(), Some(&Channel::WhatsApp));
    let identity = callback.channel_identity().unwrap();
    assert!(matches!(identity, Cow::Owned(_)));
    assert_eq!(*identity, whatsapp("12345678910"));
}

#[test]
fn opt_in_with_error_details() {
    let callback = parse_json(&json!({
        "app_id": "a", "project_id": "p",
        "opt_in_notification": {"request_id": "r1", "contact_id": "", "channel": "SMS",
            "identity": "4670000", "status": "OPT_IN_FAILED",
            "error_details": {"description": "nope"}, "processing_mode": "DISPATCH"}
    }));
    let CallbackBody::OptInNotification(opt) = &callback.body else {
        panic!("{:?}", callback.body)
    };
    assert_eq!(opt.status, Some(ConsentStatus::OptInFailed));
    assert!(!opt.status.as_ref().unwrap().is_succeeded());
    assert_eq!(
        opt.error_details.as_ref().unwrap().description.as_deref(),
        Some("nope")
    );
    assert_eq!(callback.contact_id(), None);
    assert_eq!(callback.trigger(), "OPT_IN");
    assert_eq!(callback.channel(), Some(&Channel::Sms));
}

// ---------------------------------------------------------------- §2.7 UNSUPPORTED

#[test]
fn unsupported_messenger_echo() {
    let callback = fixture("unsupported_messenger_echo");
    assert_eq!(callback.event_time.unwrap().nanosecond(), 683_253_000);
    assert_eq!(callback.trigger(), "UNSUPPORTED");
    let CallbackBody::UnsupportedCallback(unsupported) = &callback.body else {
        panic!("{:?}", callback.body)
    };
    assert_eq!(unsupported.channel, Some(Channel::Messenger));
    let payload: Value = serde_json::from_str(unsupported.payload.as_deref().unwrap()).unwrap();
    assert_eq!(payload["object"], "page");
    assert_eq!(
        payload["entry"][0]["messaging"][0]["message"]["is_echo"],
        true
    );
    assert_eq!(callback.channel(), Some(&Channel::Messenger));
    assert_eq!(callback.sinch_id(), None);
    assert_eq!(callback.channel_identity(), None);
}

#[test]
fn unsupported_payload_given_as_json_is_kept_as_text() {
    let callback = parse_json(&json!({
        "unsupported_callback": {"channel": "LINE", "payload": {"a": 1}, "id": "u1"}
    }));
    let CallbackBody::UnsupportedCallback(unsupported) = &callback.body else {
        panic!("{:?}", callback.body)
    };
    assert_eq!(unsupported.payload.as_deref(), Some(r#"{"a":1}"#));
    assert_eq!(callback.sinch_id(), Some("u1"));
}

// ---------------------------------------------------------------- §2.8 CHANNEL_EVENT

#[test]
fn whatsapp_quality_rating_channel_event() {
    let callback = fixture("channel_event_whatsapp_quality");
    assert_eq!(callback.app_id, "app id value");
    assert_eq!(callback.project_id, "project id value");
    assert_eq!(callback.message_metadata.as_deref(), Some("metadata value"));
    assert_eq!(
        callback.correlation_id.as_deref(),
        Some("correlation id value")
    );
    assert_eq!(callback.accepted_time.unwrap().nanosecond(), 724_083_000);
    assert_eq!(callback.event_time, Some(utc("2020-11-17T16:05:45Z")));
    assert_eq!(callback.trigger(), "CHANNEL_EVENT");
    let CallbackBody::ChannelEventNotification(notification) = &callback.body else {
        panic!("{:?}", callback.body)
    };
    let event = &notification.channel_event;
    assert_eq!(event.channel, Some(Channel::WhatsApp));
    assert_eq!(
        event.event_type.as_deref(),
        Some("WHATS_APP_QUALITY_RATING_CHANGED")
    );
    assert_eq!(event.additional_data["quality_rating"], "GREEN");
    assert_eq!(callback.channel(), Some(&Channel::WhatsApp));
    assert_eq!(callback.sinch_id(), None);
}

// ---------------------------------------------------------------- every fixture, every kind

#[test]
fn every_fixture_parses_fully_and_round_trips_through_serialize() {
    for (name, bytes) in FIXTURES {
        let callback = parse_callback(bytes).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(callback.body.is_parsed(), "{name}: {:?}", callback.body);
        let written = serde_json::to_vec(&callback).unwrap();
        assert_eq!(parse_callback(&written).unwrap(), callback, "{name}");
    }
}

#[test]
fn every_documented_trigger_dispatches_on_its_key() {
    let expected = [
        ("message", "MESSAGE_INBOUND"),
        ("message_delivery_report", "MESSAGE_DELIVERY"),
        ("message_submit_notification", "MESSAGE_SUBMIT"),
        ("event", "EVENT_INBOUND"),
        ("event_delivery_report", "EVENT_DELIVERY"),
        ("conversation_start_notification", "CONVERSATION_START"),
        ("conversation_stop_notification", "CONVERSATION_STOP"),
        ("conversation_delete_notification", "CONVERSATION_DELETE"),
        ("contact_create_notification", "CONTACT_CREATE"),
        ("contact_delete_notification", "CONTACT_DELETE"),
        ("contact_update_notification", "CONTACT_UPDATE"),
        ("contact_merge_notification", "CONTACT_MERGE"),
        (
            "duplicated_contact_identities_notification",
            "CONTACT_IDENTITIES_DUPLICATION",
        ),
        ("capability_notification", "CAPABILITY"),
        ("opt_in_notification", "OPT_IN"),
        ("opt_out_notification", "OPT_OUT"),
        ("channel_event_notification", "CHANNEL_EVENT"),
        ("unsupported_callback", "UNSUPPORTED"),
        ("smart_conversation_notification", "SMART_CONVERSATION"),
        (
            "message_redaction",
            "MESSAGE_INBOUND_SMART_CONVERSATION_REDACTION",
        ),
        ("record_notification", "RECORD_NOTIFICATION"),
    ];
    assert_eq!(CallbackKind::all().count(), expected.len());
    for (kind, (key, trigger)) in CallbackKind::all().zip(expected) {
        assert_eq!((kind.key(), kind.trigger()), (key, trigger));
        assert_eq!(CallbackKind::from_key(key), Some(kind));
        assert_eq!(CallbackKind::from_trigger(trigger), Some(kind));
        let callback = parse_json(&json!({"app_id": "a", "project_id": "p", key: {}}));
        assert!(callback.body.is_parsed(), "{key}: {:?}", callback.body);
        assert_eq!(callback.kind(), Some(kind));
        assert_eq!(callback.key(), key);
        assert_eq!(callback.trigger(), trigger);
    }
}

#[test]
fn the_other_kinds_expose_their_ids() {
    let start = parse_json(&json!({"conversation_start_notification": {"conversation":
        {"id": "conv1", "app_id": "a", "contact_id": "c1", "active_channel": "WHATSAPP"}}}));
    assert_eq!(start.conversation_id(), Some("conv1"));
    assert_eq!(start.contact_id(), Some("c1"));

    let merge = parse_json(&json!({"contact_merge_notification":
        {"preserved_contact": {"id": "kept"}, "deleted_contact": {"id": "gone"}}}));
    assert_eq!(merge.contact_id(), Some("kept"));

    let submit = parse_json(&json!({"message_submit_notification": {"message_id": "m1",
        "conversation_id": "", "channel_identity": {"channel": "SMS", "identity": "1"},
        "submitted_message": {"text_message": {"text": "hi"}}}}));
    assert_eq!(submit.sinch_id(), Some("m1"));
    assert_eq!(submit.conversation_id(), None);
    assert_eq!(submit.channel(), Some(&Channel::Sms));

    let event_report = parse_json(&json!({"event_delivery_report": {"event_id": "e1",
        "status": "DELIVERED", "reason": {"code": "X"}}}));
    assert_eq!(event_report.sinch_id(), Some("e1"));
    let CallbackBody::EventDeliveryReport(report) = &event_report.body else {
        panic!()
    };
    assert_eq!(report.status, Some(DeliveryStatus::Delivered));

    let capability = parse_json(&json!({"capability_notification": {"request_id": "q1",
        "contact_id": "c9", "channel": "RCS", "identity": "467", "capability_status": "CAPABILITY_FULL",
        "channel_capabilities": ["x"]}}));
    assert_eq!(capability.sinch_id(), Some("q1"));
    assert_eq!(capability.channel_identity().unwrap().identity, "467");

    let redaction = parse_json(&json!({"message_redaction": {"id": "r1",
        "contact_message": {"text_message": {"text": "my card is ****"}}}}));
    assert_eq!(
        redaction.trigger(),
        "MESSAGE_INBOUND_SMART_CONVERSATION_REDACTION"
    );
    assert_eq!(redaction.sinch_id(), Some("r1"));
}

// ---------------------------------------------------------------- times

#[test]
fn rfc3339_times_with_0_to_9_fractional_digits_and_offsets() {
    // (text, nanoseconds, the same instant in UTC without its fraction)
    let cases = [
        ("2020-11-17T16:01:07Z", 0, "2020-11-17T16:01:07Z"),
        (
            "2020-11-17T16:01:07.8Z",
            800_000_000,
            "2020-11-17T16:01:07Z",
        ),
        (
            "2020-11-17T16:01:07.659Z",
            659_000_000,
            "2020-11-17T16:01:07Z",
        ),
        (
            "2020-11-17T16:01:07.813615Z",
            813_615_000,
            "2020-11-17T16:01:07Z",
        ),
        (
            "2022-02-07T20:01:09.892757478Z",
            892_757_478,
            "2022-02-07T20:01:09Z",
        ),
        ("2020-11-17T18:01:07+02:00", 0, "2020-11-17T16:01:07Z"),
        (
            "2020-11-17T18:01:07.8+02:00",
            800_000_000,
            "2020-11-17T16:01:07Z",
        ),
        (
            "2020-11-17T18:01:07.659+02:00",
            659_000_000,
            "2020-11-17T16:01:07Z",
        ),
        (
            "2020-11-17T18:01:07.813615+02:00",
            813_615_000,
            "2020-11-17T16:01:07Z",
        ),
        (
            "2020-11-18T01:01:09.892757478+02:00",
            892_757_478,
            "2020-11-17T23:01:09Z",
        ),
    ];
    for (text, nanos, whole_second) in cases {
        let body = json!({"app_id": "a", "accepted_time": text, "event_time": text,
            "message": {"accept_time": text}});
        let callback = parse_json(&body);
        let accepted = callback.accepted_time.unwrap_or_else(|| panic!("{text}"));
        assert_eq!(accepted.nanosecond(), nanos, "{text}");
        assert_eq!(
            accepted.with_nanosecond(0).unwrap(),
            utc(whole_second),
            "{text}"
        );
        assert_eq!(callback.event_time, Some(accepted));
        assert_eq!(message(&callback).accept_time, Some(accepted));
    }
    // +02:00 really is two hours ahead of UTC.
    assert_eq!(
        parse_time("2020-11-17T18:01:07.5+02:00"),
        Some(utc("2020-11-17T16:01:07.5Z"))
    );
    assert_eq!(
        parse_time("2020-11-17T10:31:07-05:30"),
        Some(utc("2020-11-17T16:01:07Z"))
    );
}

#[test]
fn malformed_times_become_none_and_the_callback_still_parses() {
    for bad in [
        json!("yesterday"),
        json!("2020-13-45T99:00:00Z"),
        json!(1605628867),
        json!({}),
        json!(""),
    ] {
        let callback = parse_json(
            &json!({"app_id": "a", "accepted_time": bad, "event_time": bad,
            "message_delivery_report": {"message_id": "m", "status": "READ"}}),
        );
        assert_eq!(callback.accepted_time, None, "{bad}");
        assert_eq!(callback.event_time, None, "{bad}");
        assert_eq!(callback.kind(), Some(CallbackKind::MessageDeliveryReport));
        assert!(callback.body.is_parsed());
    }
    let callback = parse_json(&json!({"message": {"id": "m", "accept_time": 12}}));
    assert_eq!(message(&callback).accept_time, None);
}

#[test]
fn a_time_without_offset_is_taken_as_utc() {
    assert_eq!(
        parse_time("2020-11-17T16:01:07.25"),
        Some(utc("2020-11-17T16:01:07.25Z"))
    );
}

// ---------------------------------------------------------------- DISPATCH mode, open enums

#[test]
fn dispatch_mode_empty_ids_are_none() {
    let callback = parse_json(&json!({
        "app_id": "a", "project_id": "p", "message_metadata": "", "correlation_id": "",
        "message": {"id": "01MO", "direction": "TO_APP",
            "contact_message": {"text_message": {"text": "hello"}, "reply_to": {"message_id": ""}},
            "channel_identity": {"channel": "SMS", "identity": "46712312312", "app_id": ""},
            "conversation_id": "", "contact_id": "", "metadata": "", "sender_id": "",
            "processing_mode": "DISPATCH", "injected": null}
    }));
    let message = message(&callback);
    assert_eq!(message.conversation_id, None);
    assert_eq!(message.contact_id, None);
    assert_eq!(message.sender_id, None);
    assert_eq!(message.contact_message.reply_to, None);
    assert_eq!(message.channel_identity.as_ref().unwrap().app_id, None);
    assert_eq!(message.processing_mode, Some(ProcessingMode::Dispatch));
    assert_eq!(callback.message_metadata, None);
    assert_eq!(callback.correlation_id, None);
    assert_eq!(callback.conversation_id(), None);
    assert_eq!(callback.contact_id(), None);
    assert_eq!(callback.sinch_id(), Some("01MO"));

    let report = parse_json(&json!({"message_delivery_report": {"message_id": "01MT",
        "conversation_id": "", "contact_id": "", "status": "DELIVERED",
        "channel_identity": {"channel": "SMS", "identity": "46712312312"}}}));
    assert_eq!(report.conversation_id(), None);
    assert_eq!(report.contact_id(), None);
    assert_eq!(report.sinch_id(), Some("01MT"));
}

#[test]
fn unknown_channel_status_reason_and_modes_are_kept() {
    let callback = parse_json(&json!({"message_delivery_report": {
        "message_id": "m", "status": "BOUNCED_OFF_THE_MOON",
        "channel_identity": {"channel": "CARRIER_PIGEON", "identity": "coo"},
        "reason": {"code": "PIGEON_TIRED", "sub_code": "FEATHERS", "channel_code": 42},
        "processing_mode": "TELEPATHY"}}));
    let CallbackBody::MessageDeliveryReport(report) = &callback.body else {
        panic!("{:?}", callback.body)
    };
    assert_eq!(
        report.status,
        Some(DeliveryStatus::Other("BOUNCED_OFF_THE_MOON".into()))
    );
    assert!(!report.status.as_ref().unwrap().is_terminal());
    assert_eq!(
        callback.channel(),
        Some(&Channel::Other("CARRIER_PIGEON".into()))
    );
    let reason = report.reason.as_ref().unwrap();
    assert_eq!(reason.code, "PIGEON_TIRED");
    assert_eq!(reason.sub_code.as_deref(), Some("FEATHERS"));
    assert_eq!(reason.channel_code.as_deref(), Some("42"));
    assert_eq!(
        report.processing_mode,
        Some(ProcessingMode::Other("TELEPATHY".into()))
    );

    let sinch_chat = parse_json(&json!({"message_delivery_report": {"status": "DELIVERED",
        "channel_identity": {"channel": "SINCH_CHAT", "identity": "x"}}}));
    assert_eq!(sinch_chat.channel(), Some(&Channel::SinchChat));

    let opt =
        parse_json(&json!({"opt_in_notification": {"status": "OPT_IN_MAYBE", "channel": "NEW"}}));
    let CallbackBody::OptInNotification(opt_in) = &opt.body else {
        panic!()
    };
    assert_eq!(
        opt_in.status,
        Some(ConsentStatus::Other("OPT_IN_MAYBE".into()))
    );
    assert_eq!(opt.channel(), Some(&Channel::Other("NEW".into())));
}

#[test]
fn an_empty_channel_counts_as_no_channel() {
    let callback = parse_json(&json!({"message": {"id": "m",
        "channel_identity": {"channel": "", "identity": "1"}}}));
    assert_eq!(callback.channel(), None);
    let missing =
        parse_json(&json!({"message": {"id": "m", "channel_identity": {"identity": "1"}}}));
    assert_eq!(missing.channel(), None);
    assert_eq!(missing.channel_identity().unwrap().identity, "1");
}

#[test]
fn unknown_contact_message_kinds_and_events_are_kept() {
    let callback = parse_json(&json!({"message": {"id": "m", "contact_message": {
        "hologram_message": {"url": "h"}, "reply_to": {"message_id": "q"}}}}));
    let message = message(&callback);
    assert_eq!(
        message.contact_message.kind,
        ContactMessageKind::Unknown(json!({"hologram_message": {"url": "h"}}))
    );
    assert_eq!(message.contact_message.kind.key(), "hologram_message");
    assert_eq!(
        message
            .contact_message
            .reply_to
            .as_ref()
            .unwrap()
            .message_id,
        "q"
    );
    assert!(callback.body.is_parsed());

    let no_content = parse_json(&json!({"message": {"id": "m"}}));
    assert_eq!(
        message_kind(&no_content),
        &ContactMessageKind::Unknown(Value::Null)
    );

    let event = parse_json(&json!({"event": {"id": "e",
        "contact_event": {"levitation_event": {}},
        "contact_message_event": {"shortlink_activated_event": {"payload": "p"}}}}));
    let CallbackBody::Event(event) = &event.body else {
        panic!()
    };
    assert_eq!(
        event.contact_event,
        Some(ContactEvent::Unknown(json!({"levitation_event": {}})))
    );
    assert_eq!(
        event.contact_message_event,
        Some(ContactMessageEvent::ShortlinkActivated(
            json!({"payload": "p"})
        ))
    );

    let more = parse_json(
        &json!({"event": {"contact_event": {"comment_event": {"id": "c",
        "text": "nice", "comment_type": "LIVE", "commented_on": "post", "user": "anna"}},
        "contact_message_event": {"undo_event": {"x": 1}}}}),
    );
    let CallbackBody::Event(more) = &more.body else {
        panic!()
    };
    let Some(ContactEvent::Comment(comment)) = &more.contact_event else {
        panic!("{more:?}")
    };
    assert_eq!(comment.text.as_deref(), Some("nice"));
    assert_eq!(
        comment.comment_type.as_ref().map(|kind| kind.as_str()),
        Some("LIVE")
    );
    assert_eq!(
        more.contact_message_event,
        Some(ContactMessageEvent::Unknown(
            json!({"undo_event": {"x": 1}})
        ))
    );
}

fn message_kind(callback: &Callback) -> &ContactMessageKind {
    &message(callback).contact_message.kind
}

#[test]
fn an_unknown_top_level_key_is_an_unknown_body() {
    let callback = parse_json(&json!({"app_id": "a", "project_id": "p",
        "accepted_time": "2026-01-01T00:00:00Z", "batch_status_update": {"batch_id": "b"}}));
    assert_eq!(
        callback.body,
        CallbackBody::Unknown {
            key: Some("batch_status_update".into())
        }
    );
    assert_eq!(callback.key(), "batch_status_update");
    assert_eq!(callback.trigger(), "UNKNOWN");
    assert_eq!(callback.kind(), None);
    assert!(!callback.body.is_parsed());
    assert_eq!(callback.app_id, "a");
    assert!(callback.accepted_time.is_some());

    // The first key in document order, not in alphabetical order; null values last.
    let ordered = parse_callback(br#"{"zeta": null, "omega": 1, "alpha": {}}"#).unwrap();
    assert_eq!(
        ordered.body,
        CallbackBody::Unknown {
            key: Some("omega".into())
        }
    );

    let envelope_only = parse_callback(br#"{"app_id": "a"}"#).unwrap();
    assert_eq!(envelope_only.body, CallbackBody::Unknown { key: None });
    assert_eq!(envelope_only.key(), "");

    assert_eq!(
        parse_callback(b"{}").unwrap().body,
        CallbackBody::Unknown { key: None }
    );
}

#[test]
fn a_known_key_with_content_of_the_wrong_shape_is_unparsed_not_refused() {
    let cases = [
        json!({"app_id": "a", "message_delivery_report": {"message_id": 42, "status": "READ"}}),
        json!({"app_id": "a", "message_delivery_report": {"status": ["READ"]}}),
        json!({"app_id": "a", "message_delivery_report": "READ"}),
        json!({"app_id": "a", "message_delivery_report": {"channel_identity": {"channel": 7}}}),
        json!({"app_id": "a", "message_delivery_report": {"reason": "oops"}}),
    ];
    for body in cases {
        let callback = parse_json(&body);
        let CallbackBody::Unparsed {
            key,
            trigger,
            reason,
        } = &callback.body
        else {
            panic!("{body}: {:?}", callback.body)
        };
        assert_eq!(key, "message_delivery_report");
        assert_eq!(trigger, "MESSAGE_DELIVERY");
        assert!(!reason.is_empty());
        assert_eq!(callback.app_id, "a");
        assert_eq!(callback.kind(), Some(CallbackKind::MessageDeliveryReport));
        assert_eq!(callback.trigger(), "MESSAGE_DELIVERY");
        assert!(!callback.body.is_parsed());
    }

    let nested = parse_json(&json!({"message": {"id": "m",
        "contact_message": {"text_message": {"text": {"rich": true}}}}}));
    let CallbackBody::Unparsed { key, reason, .. } = &nested.body else {
        panic!("{:?}", nested.body)
    };
    assert_eq!(key, "message");
    assert!(reason.contains("text_message"), "{reason}");
}

#[test]
fn nulls_are_like_absent_fields() {
    let callback = parse_json(&json!({
        "app_id": null, "project_id": null, "accepted_time": null, "message_metadata": null,
        "message": null,
        "message_delivery_report": {"message_id": "m", "status": null, "reason": null,
            "channel_identity": {"channel": null, "identity": null, "app_id": null},
            "metadata": null, "processing_mode": null}
    }));
    assert_eq!(callback.app_id, "");
    let CallbackBody::MessageDeliveryReport(report) = &callback.body else {
        panic!("{:?}", callback.body)
    };
    assert_eq!(report.status, None);
    assert_eq!(report.reason, None);
    assert_eq!(callback.channel(), None);
    assert_eq!(callback.sinch_id(), Some("m"));
}

#[test]
fn non_string_envelope_values_do_not_fail() {
    let callback = parse_json(
        &json!({"app_id": 5, "project_id": [], "message_metadata": {"queue": "q"},
        "correlation_id": 17, "opt_out_notification": {}}),
    );
    assert_eq!(callback.app_id, "");
    assert_eq!(callback.project_id, "");
    assert_eq!(
        callback.message_metadata.as_deref(),
        Some(r#"{"queue":"q"}"#)
    );
    assert_eq!(callback.correlation_id.as_deref(), Some("17"));
    assert!(callback.body.is_parsed());
}

#[test]
fn not_json_and_not_an_object_are_the_only_errors() {
    for garbage in [
        &b""[..],
        b"   ",
        b"{",
        b"{\"a\":}",
        b"not json",
        b"\xff\xfe{}",
        b"{} {}",
        b"{}x",
    ] {
        assert!(
            matches!(parse_callback(garbage), Err(CallbackParseError::NotJson(_))),
            "{garbage:?}"
        );
    }
    assert_eq!(
        parse_callback(b"[]"),
        Err(CallbackParseError::NotAnObject("an array"))
    );
    assert_eq!(
        parse_callback(b" [1, {}]"),
        Err(CallbackParseError::NotAnObject("an array"))
    );
    assert_eq!(
        parse_callback(b"\"x\""),
        Err(CallbackParseError::NotAnObject("a string"))
    );
    assert_eq!(
        parse_callback(b"12"),
        Err(CallbackParseError::NotAnObject("a number"))
    );
    assert_eq!(
        parse_callback(b"null"),
        Err(CallbackParseError::NotAnObject("null"))
    );
    assert_eq!(
        parse_callback(b"true"),
        Err(CallbackParseError::NotAnObject("a boolean"))
    );
    let message = parse_callback(b"[]").unwrap_err().to_string();
    assert!(message.contains("not an object"), "{message}");
    // Surrounding whitespace is fine.
    assert!(parse_callback(b" \n{\"message\": {}}\n").is_ok());
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let depth = 100_000;
    let mut body = String::from(r#"{"record_notification": "#);
    body.push_str(&"[".repeat(depth));
    body.push_str(&"]".repeat(depth));
    body.push('}');
    // serde_json's recursion limit turns this into an error rather than a crash.
    let _ = parse_callback(body.as_bytes());

    let mut shallow = String::from(r#"{"record_notification": "#);
    shallow.push_str(&"[".repeat(200));
    shallow.push_str(&"]".repeat(200));
    shallow.push('}');
    let _ = parse_callback(shallow.as_bytes());
}

#[test]
fn if_two_known_keys_came_the_table_order_wins() {
    let callback = parse_json(&json!({"message_delivery_report": {"message_id": "d"},
        "message": {"id": "m"}}));
    assert_eq!(callback.kind(), Some(CallbackKind::Message));
}

// ---------------------------------------------------------------- properties

/// Arbitrary JSON, kept small.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // Decimal fractions: serde_json (without `float_roundtrip`) may misread arbitrary
        // doubles by one ulp, which would make the round-trip property flaky for no fault of ours.
        (any::<i32>(), 0_i32..4).prop_map(|(m, e)| Value::from(f64::from(m) / 10_f64.powi(e))),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("\\PC{0,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Objects whose content sits under keys the model may hold as raw JSON: adding a field there
/// is a real change of content, not an unknown field.
fn is_opaque(path: &[String], top_level_key: Option<&str>) -> bool {
    const OPAQUE: &[&str] = &[
        "additional_data",
        "payload",
        "submitted_message",
        "channel_capabilities",
        "shortlink_activated_event",
        "payment_status_update_event",
    ];
    const JSON_KINDS: &[&str] = &[
        "conversation_start_notification",
        "conversation_stop_notification",
        "conversation_delete_notification",
        "contact_create_notification",
        "contact_delete_notification",
        "contact_update_notification",
        "contact_merge_notification",
        "duplicated_contact_identities_notification",
        "smart_conversation_notification",
        "record_notification",
    ];
    if top_level_key.is_some_and(|key| JSON_KINDS.contains(&key)) && !path.is_empty() {
        return true;
    }
    let last = path.last().map(String::as_str);
    let parent = path.len().checked_sub(2).map(|i| path[i].as_str());
    last.is_some_and(|key| OPAQUE.contains(&key))
        || (last == Some("message") && parent == Some("channel_specific_message"))
}

/// JSON pointers of every object where an unknown field is a no-op.
fn typed_objects(value: &Value, path: &mut Vec<String>, top: Option<&str>, out: &mut Vec<String>) {
    if is_opaque(path, top) {
        return;
    }
    match value {
        Value::Object(object) => {
            out.push(path.iter().map(|segment| format!("/{segment}")).collect());
            for (key, child) in object {
                path.push(key.clone());
                typed_objects(child, path, top, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                path.push(index.to_string());
                typed_objects(child, path, top, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn known_top_level_key(value: &Value) -> Option<String> {
    value
        .as_object()?
        .keys()
        .find(|key| CallbackKind::from_key(key).is_some())
        .cloned()
}

proptest! {
    // No regression files: a failure prints its minimal input, which belongs in a named test.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(512)
    })]

    #[test]
    fn unknown_fields_anywhere_never_change_the_result(
        which in 0..FIXTURES.len(),
        additions in proptest::collection::vec(
            (any::<prop::sample::Index>(), "x_[a-z0-9_]{0,10}", any_json()), 1..8),
    ) {
        let (name, bytes) = FIXTURES[which];
        let expected = parse_callback(bytes).unwrap();
        let mut value: Value = serde_json::from_slice(bytes).unwrap();
        let top = known_top_level_key(&value);
        let mut targets = Vec::new();
        typed_objects(&value, &mut Vec::new(), top.as_deref(), &mut targets);
        prop_assert!(!targets.is_empty());
        for (target, key, extra) in additions {
            let pointer = &targets[target.index(targets.len())];
            let object = value.pointer_mut(pointer).and_then(Value::as_object_mut).unwrap();
            object.insert(key, extra);
        }
        let changed = parse_callback(&serde_json::to_vec(&value).unwrap()).unwrap();
        prop_assert_eq!(changed, expected, "{}", name);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_callback(&bytes);
    }

    #[test]
    fn arbitrary_text_after_an_open_brace_never_panics(text in "\\{\\PC{0,200}") {
        let _ = parse_callback(text.as_bytes());
    }

    #[test]
    fn every_json_object_parses(
        envelope in proptest::collection::btree_map(
            prop_oneof![
                Just("app_id".to_owned()), Just("project_id".to_owned()),
                Just("accepted_time".to_owned()), Just("event_time".to_owned()),
                Just("message_metadata".to_owned()), Just("correlation_id".to_owned()),
                "[a-z_]{0,10}",
            ],
            any_json(),
            0..6,
        ),
        kind in 0..21_usize,
        fields in proptest::collection::btree_map(
            prop_oneof![
                Just("id".to_owned()), Just("message_id".to_owned()), Just("status".to_owned()),
                Just("channel".to_owned()), Just("identity".to_owned()),
                Just("channel_identity".to_owned()), Just("contact_message".to_owned()),
                Just("contact_event".to_owned()), Just("contact_message_event".to_owned()),
                Just("reason".to_owned()), Just("accept_time".to_owned()),
                Just("processing_mode".to_owned()), Just("conversation_id".to_owned()),
                Just("channel_event".to_owned()), Just("payload".to_owned()),
                Just("text_message".to_owned()), Just("reply_to".to_owned()),
            ],
            any_json(),
            0..6,
        ),
    ) {
        let key = CallbackKind::all().nth(kind).unwrap().key();
        let mut object: serde_json::Map<String, Value> = envelope.into_iter().collect();
        object.insert(key.to_owned(), Value::Object(fields.into_iter().collect()));
        let callback = parse_callback(&serde_json::to_vec(&object).unwrap());
        prop_assert!(callback.is_ok(), "{:?}", callback);
        let callback = callback.unwrap();
        // Whatever happened inside, the kind is known.
        prop_assert_eq!(callback.kind().map(CallbackKind::key), Some(key));
        // Accessors never panic either.
        let _ = (callback.conversation_id(), callback.contact_id(), callback.channel(),
                 callback.channel_identity(), callback.sinch_id(), callback.processing_mode());
        // Serialize writes the wire shape back: a fully parsed callback survives the round trip.
        let written = serde_json::to_vec(&callback).unwrap();
        if callback.body.is_parsed() {
            prop_assert_eq!(parse_callback(&written).unwrap(), callback);
        }
    }

    #[test]
    fn parsed_callbacks_round_trip_through_serialize(which in 0..FIXTURES.len(),
        delivery_status in "[A-Z_]{1,20}") {
        let (_, bytes) = FIXTURES[which];
        let callback = parse_callback(bytes).unwrap();
        let again = parse_callback(&serde_json::to_vec(&callback).unwrap()).unwrap();
        prop_assert_eq!(&again, &callback);

        let dlr = parse_json(&json!({"message_delivery_report": {"message_id": "m",
            "status": delivery_status}}));
        let again = parse_callback(&serde_json::to_vec(&dlr).unwrap()).unwrap();
        prop_assert_eq!(again, dlr);
    }
}
