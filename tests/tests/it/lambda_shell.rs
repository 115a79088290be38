//! The webhook's Lambda shell behind API Gateway (the emulator's HTTP API, payload format 2.0):
//! a JSON body arrives as text, any other body base64-encoded (`isBase64Encoded`), and either
//! way the handler verifies the signature over the exact bytes Sinch signed.

use switchboard_e2e::simulator::http_call;
use switchboard_e2e::*;
use switchboard_shared::sinch::signature;

const MAIN: &str = "/acme/sms/sinchconversation/main";

/// POSTs `body` with `content_type`, signed with `secret`: (status, answer).
fn post(running: &Running, content_type: &str, body: &[u8], secret: &str) -> (u16, String) {
    let nonce = format!("01NONCE{}", uuid::Uuid::new_v4().simple());
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = signature::sign(secret.as_bytes(), body, &nonce, &timestamp);
    let (status, answer, _) = http_call(
        "POST",
        &format!("{}{MAIN}", running.base_url),
        body,
        &[
            ("Content-Type", content_type),
            ("X-Sinch-Webhook-Signature", signature.as_str()),
            ("x-sinch-webhook-signature-nonce", nonce.as_str()),
            ("x-sinch-webhook-signature-timestamp", timestamp.as_str()),
            ("x-sinch-webhook-signature-algorithm", "HmacSHA256"),
        ],
    );
    (status, String::from_utf8_lossy(&answer).into_owned())
}

fn callback(id: &str) -> Vec<u8> {
    serde_json::json!({ "app_id": APP, "project_id": "p", "message": { "id": id,
        "contact_message": { "text_message": { "text": "Hej från Jägaren 🔥" } },
        "channel_identity": { "channel": "WHATSAPP", "identity": "46712312312" } } })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn base64_and_plain_bodies_are_verified_over_the_exact_bytes() {
    let running = Running::start("lambda").await;
    // application/json travels as text; application/octet-stream (and a missing type) as base64.
    for (id, content_type) in [
        ("01LAMBDAPLAIN0000000000000", "application/json"),
        ("01LAMBDABASE64000000000000", "application/octet-stream"),
    ] {
        let (status, answer) = post(&running, content_type, &callback(id), SECRET);
        assert_eq!(status, 200, "{content_type}: {answer}");
    }
    let texts: Vec<String> = running
        .drain_ingest()
        .await
        .iter()
        .map(|(event, _)| event["message"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["Hej från Jägaren 🔥", "Hej från Jägaren 🔥"]);

    // Binary, signed, not JSON: base64 through API Gateway; quarantined with a 400.
    let (status, _) = post(
        &running,
        "application/octet-stream",
        b"\xff\xfe\x00binary",
        SECRET,
    );
    assert_eq!(status, 400);

    // A wrong secret is refused through this path too.
    let forged = callback("01LAMBDAFORGED000000000000");
    let (status, _) = post(&running, "application/octet-stream", &forged, "wrong");
    assert_eq!(status, 401);
    assert!(running.drain_ingest().await.is_empty());
}
