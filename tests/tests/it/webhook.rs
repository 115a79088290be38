//! The webhook, black-box: the real binary on a random port, a private stack on moto built from
//! template.yaml, callbacks signed as Sinch signs them. One test per row of the failure table
//! (docs/failures.md) that the webhook answers.

use switchboard_e2e::*;

const MAIN: &str = "/acme/sms/sinchconversation/main";
const ALL: &str = "/acme/sms/sinchconversation/all";

fn text_callback(message_id: &str) -> Vec<u8> {
    serde_json::json!({
        "app_id": APP, "accepted_time": "2026-11-21T08:17:44.993024Z", "event_time": "2026-11-21T08:17:42.814Z",
        "project_id": "p-acme",
        "message": {
            "id": message_id, "direction": "TO_APP",
            "contact_message": { "text_message": { "text": "Hello from e2e" } },
            "channel_identity": { "channel": "WHATSAPP", "identity": "46712312312", "app_id": "" },
            "conversation_id": "01EQ8172WMDB8008EFT4M30481", "contact_id": "01EQ4174TGGY5B1VPTPGHW19R0",
            "metadata": "", "accept_time": "2026-11-21T08:17:43.915829Z", "processing_mode": "CONVERSATION"
        },
        "message_metadata": "{\"queue\":\"billing\"}"
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn a_signed_callback_is_queued_once_however_often_it_arrives() {
    let running = Running::start("once").await;
    let body = text_callback("01E2EMESSAGE0000000000000A");
    for _ in 0..3 {
        // Each delivery is signed anew (new nonce and timestamp), as a Sinch retry is.
        let (status, answer) = running.post_signed(MAIN, &body, SECRET, 0);
        assert_eq!(status, 200, "{answer}");
    }
    let messages = running.drain_ingest().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let (event, group) = &messages[0];
    assert_eq!(event["kind"], "message");
    assert_eq!(event["tenant"], "acme");
    assert_eq!(event["service"], "main");
    assert_eq!(
        event["queue_address"],
        format!("{APP}@whatsapp.sinchconversation.com")
    );
    assert_eq!(event["message"]["text"], "Hello from e2e");
    assert_eq!(event["attached_data"]["queue"], "billing");
    assert_eq!(group, "acme/c/01EQ8172WMDB8008EFT4M30481");
}

#[tokio::test]
async fn the_all_path_finds_the_service_by_app_id_and_rotation_keeps_the_previous_secret() {
    let running = Running::start("all").await;
    let mut body: serde_json::Value =
        serde_json::from_slice(&text_callback("01E2EMESSAGE0000000000000B")).unwrap();
    body["app_id"] = OTHER_APP.into();
    let body = body.to_string().into_bytes();
    let (status, answer) = running.post_signed(ALL, &body, "e2e-us-secret", 0);
    assert_eq!(status, 200, "{answer}");
    // The main service's secret does not authenticate the us service's app.
    assert_eq!(
        running
            .post_signed(
                ALL,
                &text_callback("01E2EMESSAGE0000000000000X"),
                "e2e-us-secret",
                0
            )
            .0,
        401
    );

    let (status, answer) = running.post_signed(
        ALL,
        &text_callback("01E2EMESSAGE0000000000000C"),
        PREVIOUS_SECRET,
        0,
    );
    assert_eq!(status, 200, "previous secret during rotation: {answer}");

    // Sinch leaves app_id empty on contact notifications: any service's secret may match.
    let contact_create = br#"{"app_id":"","accepted_time":"2021-10-18T17:49:13.813615Z","project_id":"p","contact_create_notification":{"contact":{"id":"01FJA8B466Y0R2GNXD78MD9SM1","channel_identities":[{"channel":"SMS","identity":"48123456789","app_id":""}],"display_name":"New Test Contact"}},"message_metadata":""}"#;
    assert_eq!(running.post_signed(ALL, contact_create, SECRET, 0).0, 200);

    let mut kinds: Vec<(String, String)> = running
        .drain_ingest()
        .await
        .into_iter()
        .map(|(event, _)| {
            (
                event["service"].as_str().unwrap().to_owned(),
                event["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("main".into(), "message".into()),
            ("main".into(), "unsupported".into()),
            ("us".into(), "message".into())
        ]
    );
}

#[tokio::test]
async fn forged_stale_or_foreign_signatures_get_401_and_nothing_is_queued() {
    let running = Running::start("forged").await;
    let body = text_callback("01E2EMESSAGE0000000000000D");
    let mut tampered = body.clone();
    let last = tampered.len() - 2;
    tampered[last] ^= 0x01;

    let nonce = "01FJA8B4A7BM43YGWSG9GBV067";
    let now = chrono::Utc::now().timestamp().to_string();
    let good = switchboard_shared::sinch::signature::sign(SECRET.as_bytes(), &body, nonce, &now);
    let headers = |signature: &str, timestamp: &str, algorithm: &str| {
        vec![
            ("x-sinch-webhook-signature".to_owned(), signature.to_owned()),
            (
                "x-sinch-webhook-signature-nonce".to_owned(),
                nonce.to_owned(),
            ),
            (
                "x-sinch-webhook-signature-timestamp".to_owned(),
                timestamp.to_owned(),
            ),
            (
                "x-sinch-webhook-signature-algorithm".to_owned(),
                algorithm.to_owned(),
            ),
        ]
    };
    let post = |body: &[u8], headers: Vec<(String, String)>| {
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        running.post(MAIN, body, &pairs)
    };

    assert_eq!(
        post(&tampered, headers(&good, &now, "HmacSHA256")).0,
        401,
        "tampered body"
    );
    assert_eq!(
        post(
            &body,
            headers(
                &good,
                &(now.parse::<i64>().unwrap() + 1).to_string(),
                "HmacSHA256"
            )
        )
        .0,
        401,
        "changed timestamp"
    );
    assert_eq!(
        post(&body, headers(&good, &now, "HmacSHA1")).0,
        401,
        "other algorithm"
    );
    assert_eq!(
        post(&body, headers("not base64!", &now, "HmacSHA256")).0,
        401,
        "garbage signature"
    );
    assert_eq!(post(&body, vec![]).0, 401, "no signature headers");
    assert_eq!(
        running.post_signed(MAIN, &body, SECRET, -301).0,
        401,
        "stale timestamp"
    );
    assert_eq!(
        running.post_signed(MAIN, &body, SECRET, 301).0,
        401,
        "timestamp from the future"
    );
    assert_eq!(
        running.post_signed(MAIN, &body, OTHER_TENANT_SECRET, 0).0,
        401,
        "another tenant's secret"
    );
    assert_eq!(
        running
            .post_signed("/globex/sms/sinchconversation/all", &body, SECRET, 0)
            .0,
        401,
        "acme's secret on globex"
    );
    let (status, answer) = running.post_signed(MAIN, &body, SECRET, 0);
    assert!(!answer.contains(SECRET));
    assert_eq!(status, 200, "the untouched callback still passes: {answer}");
    assert_eq!(
        running.drain_ingest().await.len(),
        1,
        "only the genuine callback was queued"
    );
}

#[tokio::test]
async fn unknown_tenants_services_and_bad_signatures_look_the_same_and_unconfigured_apps_are_not_lost()
 {
    let running = Running::start("unknown").await;
    let body = text_callback("01E2EMESSAGE0000000000000E");
    let answers = [
        running.post_signed("/nobody/sms/sinchconversation/all", &body, SECRET, 0),
        running.post_signed("/acme/sms/sinchconversation/nope", &body, SECRET, 0),
        running.post_signed(MAIN, &body, "e2e-wrong-secret", 0),
        running.post_signed(MAIN, &body, SECRET, -3600),
    ];
    for (status, answer) in &answers {
        assert_eq!(
            (*status, answer.as_str()),
            (401, r#"{"error":"unauthorized"}"#)
        );
    }
    assert_eq!(
        running
            .post_signed("/acme/sms/other/main", &body, SECRET, 0)
            .0,
        404
    );
    let mut unknown_app: serde_json::Value = serde_json::from_slice(&body).unwrap();
    unknown_app["app_id"] = "01UNKNOWNAPP00000000000000".into();
    let unknown_app = unknown_app.to_string().into_bytes();
    // An app id the tenant has not configured is no reason to believe an unverified body.
    assert_eq!(
        running
            .post_signed(ALL, &unknown_app, "not-a-secret-of-acme", 0)
            .0,
        401
    );
    // Signed with a secret of the tenant, the same callback is authentic: kept, not lost.
    assert_eq!(running.post_signed(ALL, &unknown_app, SECRET, 0).0, 200);
    assert_eq!(running.drain_ingest().await.len(), 1);
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let running = Running::start_with("large", &[("SWITCHBOARD_MAX_BODY_BYTES", "2048")]).await;
    let mut body = serde_json::json!({"app_id": APP, "project_id": "p", "message": {"id": "01BIG", "contact_message": {"text_message": {"text": ""}}}});
    body["message"]["contact_message"]["text_message"]["text"] = "x".repeat(4096).into();
    let body = body.to_string().into_bytes();
    assert_eq!(running.post_signed(MAIN, &body, SECRET, 0).0, 413);
    assert!(running.drain_ingest().await.is_empty());
}

#[tokio::test]
async fn a_signed_body_that_is_not_json_gets_400_and_is_quarantined() {
    let running = Running::start("quarantine").await;
    let body = b"\x00\x01 definitely not json \xff";
    let (status, answer) = running.post_signed(MAIN, body, SECRET, 0);
    assert_eq!(status, 400, "{answer}");
    assert!(running.drain_ingest().await.is_empty());
    let bucket = running.env("SWITCHBOARD_MEDIA_BUCKET");
    let listed = running
        .s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("quarantine/acme/")
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let object = running
        .s3
        .get_object()
        .bucket(&bucket)
        .key(&keys[0])
        .send()
        .await
        .unwrap();
    let kept = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(&kept[..], body, "the exact bytes are kept");
    // Unsigned garbage is refused before anything is stored.
    assert_eq!(running.post(MAIN, b"garbage", &[]).0, 401);
}

#[tokio::test]
async fn every_reference_example_is_accepted_as_its_kind() {
    let running = Running::start("reference").await;
    let dir = workspace_root().join("shared/tests/fixtures/callbacks");
    let mut expected = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let body = std::fs::read(&path).unwrap();
        let (status, answer) = running.post_signed(MAIN, &body, SECRET, 0);
        assert_eq!(status, 200, "{}: {answer}", path.display());
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
        expected.push((
            answer["event_id"].as_str().unwrap().to_owned(),
            answer["kind"].as_str().unwrap().to_owned(),
        ));
    }
    let mut queued: Vec<(String, String)> = running
        .drain_ingest()
        .await
        .into_iter()
        .map(|(event, _)| {
            (
                event["event_id"].as_str().unwrap().to_owned(),
                event["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    queued.sort();
    expected.sort();
    assert_eq!(queued, expected);
    let kinds: std::collections::BTreeSet<&str> =
        queued.iter().map(|(_, kind)| kind.as_str()).collect();
    for kind in [
        "message",
        "delivery",
        "contact_event",
        "consent",
        "channel_event",
        "unsupported",
    ] {
        assert!(kinds.contains(kind), "no {kind} among {kinds:?}");
    }
}

#[tokio::test]
async fn an_unavailable_queue_or_table_gets_503_so_sinch_retries() {
    let running = Running::start("down").await;
    let missing_queue = format!(
        "{}-missing.fifo",
        running
            .env("SWITCHBOARD_INGEST_QUEUE_URL")
            .trim_end_matches(".fifo")
    );
    let queue_down = Running::start_with(
        "down-queue",
        &[("SWITCHBOARD_INGEST_QUEUE_URL", &missing_queue)],
    )
    .await;
    let body = text_callback("01E2EMESSAGE0000000000000F");
    assert_eq!(queue_down.post_signed(MAIN, &body, SECRET, 0).0, 503);

    let table_down = Running::start_with(
        "down-table",
        &[("SWITCHBOARD_CONFIG_TABLE", "no-such-table")],
    )
    .await;
    assert_eq!(table_down.post_signed(MAIN, &body, SECRET, 0).0, 503);

    // Nothing was lost: the same callback, retried once things are back, is queued.
    assert_eq!(running.post_signed(MAIN, &body, SECRET, 0).0, 200);
    assert_eq!(running.drain_ingest().await.len(), 1);
}

#[tokio::test]
async fn an_authentic_callback_too_large_for_the_queue_is_kept_in_s3_and_announced() {
    let running = Running::start("oversize").await;
    // Under the body limit, but its event (text and raw content) is over SQS's 256 KiB.
    let body = serde_json::json!({"app_id": APP, "project_id": "p", "message": {"id": "01E2EOVERSIZE00000000000000",
        "contact_message": {"fallback_message": {"raw_message": "y".repeat(150 * 1024)}},
        "channel_identity": {"channel": "WHATSAPP", "identity": "46712312312"}}})
    .to_string()
    .into_bytes();
    let (status, answer) = running.post_signed(MAIN, &body, SECRET, 0);
    assert_eq!(status, 200, "{answer}");
    let messages = running.drain_ingest().await;
    assert_eq!(messages.len(), 1);
    let event = &messages[0].0;
    assert_eq!(event["kind"], "unsupported");
    assert_eq!(event["unsupported"]["trigger"], "MESSAGE_INBOUND");
    let key = event["unsupported"]["callback_s3_key"]
        .as_str()
        .expect("a pointer to the kept callback");
    let object = running
        .s3
        .get_object()
        .bucket(running.env("SWITCHBOARD_MEDIA_BUCKET"))
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        object.body.collect().await.unwrap().into_bytes().as_ref(),
        &body[..],
        "kept whole"
    );
}

#[tokio::test]
async fn an_unavailable_quarantine_gets_503_so_sinch_retries() {
    let running = Running::start_with(
        "quarantine-down",
        &[("SWITCHBOARD_MEDIA_BUCKET", "no-such-bucket")],
    )
    .await;
    assert_eq!(running.post_signed(MAIN, b"not json", SECRET, 0).0, 503);
    assert!(running.drain_ingest().await.is_empty());
}

#[tokio::test]
async fn a_hung_aws_endpoint_gets_503_instead_of_a_lambda_timeout() {
    // Accepts connections and never answers: what a hung AWS endpoint looks like to the SDK.
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = black_hole.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in black_hole.incoming().flatten() {
            held.push(stream);
        }
    });
    let endpoint = format!("http://{address}");
    let running = Running::start_with("hung", &[("AWS_ENDPOINT_URL", &endpoint)]).await;
    let started = std::time::Instant::now();
    let (status, answer) = running.post_signed(
        MAIN,
        &text_callback("01E2EHUNG000000000000000000"),
        SECRET,
        0,
    );
    assert_eq!(status, 503, "{answer}");
    // Within the request's deadline (10 s minus the margin), not whenever the SDK gives up.
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(10),
        "answered after {took:?}"
    );
}

#[tokio::test]
async fn a_signed_callback_of_a_kind_nobody_knows_yet_is_forwarded_whole() {
    let running = Running::start("newkind").await;
    let body = format!(
        r#"{{"app_id":"{APP}","project_id":"p","accepted_time":"2026-11-21T08:00:00.1Z","hologram_notification":{{"id":"01HOLO","depth":3}}}}"#
    );
    let (status, answer) = running.post_signed(MAIN, body.as_bytes(), SECRET, 0);
    assert_eq!(status, 200, "{answer}");
    let messages = running.drain_ingest().await;
    assert_eq!(messages.len(), 1);
    let event = &messages[0].0;
    assert_eq!(event["kind"], "unsupported");
    assert_eq!(event["unsupported"]["trigger"], "UNKNOWN");
    assert_eq!(
        event["unsupported"]["callback_key"],
        "hologram_notification"
    );
    assert_eq!(
        event["unsupported"]["callback"]["hologram_notification"]["depth"],
        3
    );
}

#[tokio::test]
async fn only_post_is_routed_a_get_gets_api_gateways_404() {
    // The template routes only POST to the webhook, so API Gateway (here, the emulator's)
    // answers any other method itself, without invoking the function.
    use std::io::{Read, Write};
    let running = Running::start("method").await;
    let host = running.base_url.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&host).unwrap();
    write!(
        stream,
        "GET {MAIN} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    assert!(
        response.ends_with(r#"{"message":"Not Found"}"#),
        "{response}"
    );
}

#[tokio::test]
async fn no_secret_reaches_an_answer_or_the_log() {
    let running = Running::start("nosecret").await;
    let body = text_callback("01E2ENOSECRET00000000000000");
    let refused = running.post_signed(MAIN, &body, "e2e-wrong-secret", 0);
    let accepted = running.post_signed(MAIN, &body, SECRET, 0);
    assert_eq!((refused.0, accepted.0), (401, 200));
    // The log is written as the webhook goes; give it a moment to flush the last lines.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let logs = running.logs();
    assert!(
        logs.contains("callback refused"),
        "the refusal is logged: {logs}"
    );
    for secret in [
        SECRET,
        PREVIOUS_SECRET,
        "e2e-wrong-secret",
        "ks",
        "e2e-us-secret",
    ] {
        for text in [refused.1.as_str(), accepted.1.as_str(), logs.as_str()] {
            assert!(
                !text.contains(&format!("\"{secret}\"")) && !text.contains(&format!("={secret}")),
                "{secret} leaked"
            );
        }
    }
    assert!(!logs.contains(SECRET) && !logs.contains(PREVIOUS_SECRET));
}

#[tokio::test]
async fn a_custom_signature_window_applies_end_to_end() {
    let running =
        Running::start_with("window", &[("SWITCHBOARD_SIGNATURE_WINDOW_SECS", "30")]).await;
    let body = text_callback("01E2EWINDOW0000000000000000");
    assert_eq!(
        running.post_signed(MAIN, &body, SECRET, -120).0,
        401,
        "outside 30 s"
    );
    assert_eq!(
        running.post_signed(MAIN, &body, SECRET, -5).0,
        200,
        "inside 30 s"
    );
}

#[tokio::test]
async fn the_event_delivery_sequence_a_lone_surrogate_and_u_ffff_are_all_queued() {
    let running = Running::start("hardening").await;
    for status in ["QUEUED_ON_CHANNEL", "DELIVERED", "FAILED"] {
        let body = serde_json::json!({"app_id": APP, "project_id": "p", "event_delivery_report": {
            "event_id": "01E2EEVENT", "status": status,
            "channel_identity": {"channel": "WHATSAPP", "identity": "46700000001"}}})
        .to_string();
        assert_eq!(running.post_signed(MAIN, body.as_bytes(), SECRET, 0).0, 200);
    }
    let surrogate = format!(
        r#"{{"app_id":"{APP}","project_id":"p","message":{{"id":"01E2ESURROGATE","conversation_id":"01C","contact_message":{{"text_message":{{"text":"a\ud800b"}}}}}}}}"#
    );
    assert_eq!(
        running.post_signed(MAIN, surrogate.as_bytes(), SECRET, 0).0,
        200
    );
    let nonchar = serde_json::json!({"app_id": APP, "project_id": "p", "message": {
        "id": "01E2ENONCHAR", "conversation_id": "01C",
        "contact_message": {"text_message": {"text": "a\u{FFFF}b"}}}})
    .to_string();
    assert_eq!(
        running.post_signed(MAIN, nonchar.as_bytes(), SECRET, 0).0,
        200
    );
    let queued = running.drain_ingest().await;
    assert_eq!(queued.len(), 5);
    let texts: Vec<String> = queued
        .iter()
        .filter_map(|(event, _)| event["message"]["text"].as_str().map(str::to_owned))
        .collect();
    assert!(texts.contains(&"a\u{FFFD}b".to_owned()), "{texts:?}");
    assert!(texts.contains(&"a\u{FFFF}b".to_owned()), "{texts:?}");
}
