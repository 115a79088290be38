//! The Lambda shell: API Gateway HTTP API (payload 2.0) events, as `lambda_http` turns them into
//! requests, reach the handler with the exact bytes Sinch signed, base64 or not.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use switchboard_e2e::*;
use switchboard_shared::sinch::signature;
use switchboard_webhook::settings::Settings;

fn api_gateway_event(path: &str, body: &[u8], base64: bool, secret: &str) -> String {
    let nonce = "01FJA8B4A7BM43YGWSG9GBV067";
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = signature::sign(secret.as_bytes(), body, nonce, &timestamp);
    let body = if base64 {
        STANDARD.encode(body)
    } else {
        String::from_utf8(body.to_vec()).unwrap()
    };
    serde_json::json!({
        "version": "2.0",
        "routeKey": "POST /{tenant}/sms/sinchconversation/{service}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "X-Sinch-Webhook-Signature": signature,
            "x-sinch-webhook-signature-nonce": nonce,
            "x-sinch-webhook-signature-timestamp": timestamp,
            "x-sinch-webhook-signature-algorithm": "HmacSHA256"
        },
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example", "domainPrefix": "api",
            "http": { "method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "Sinch" },
            "requestId": "req", "routeKey": "POST /{tenant}/sms/sinchconversation/{service}", "stage": "$default",
            "time": "21/Nov/2026:08:00:00 +0000", "timeEpoch": 1795248000000u64
        },
        "pathParameters": { "tenant": "acme", "service": "main" },
        "body": body,
        "isBase64Encoded": base64
    })
    .to_string()
}

#[tokio::test]
async fn base64_and_plain_bodies_are_verified_over_the_exact_bytes() {
    let running = Running::start("lambda").await;
    let env = running.env.clone();
    let settings =
        Settings::from_lookup(|name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .unwrap();
    let webhook = switchboard_webhook::build(settings).await;

    let callback = |id: &str| {
        serde_json::json!({ "app_id": APP, "project_id": "p", "message": { "id": id,
            "contact_message": { "text_message": { "text": "Hej från Jägaren 🔥" } },
            "channel_identity": { "channel": "WHATSAPP", "identity": "46712312312" } } })
        .to_string()
        .into_bytes()
    };
    for (id, base64) in [
        ("01LAMBDABASE64000000000000", true),
        ("01LAMBDAPLAIN0000000000000", false),
    ] {
        let event = api_gateway_event(
            "/acme/sms/sinchconversation/main",
            &callback(id),
            base64,
            SECRET,
        );
        let request = lambda_http::request::from_str(&event).expect("an API Gateway v2 event");
        let response = switchboard_webhook::lambda_shell::handle(&webhook, request)
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "base64={base64}: {:?}",
            response.body()
        );
    }
    let texts: Vec<String> = running
        .drain_ingest()
        .await
        .iter()
        .map(|(event, _)| event["message"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["Hej från Jägaren 🔥", "Hej från Jägaren 🔥"]);

    // Binary, signed, not JSON: API Gateway base64-encodes it; it is quarantined with a 400.
    let event = api_gateway_event(
        "/acme/sms/sinchconversation/main",
        b"\xff\xfe\x00binary",
        true,
        SECRET,
    );
    let response = switchboard_webhook::lambda_shell::handle(
        &webhook,
        lambda_http::request::from_str(&event).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 400);

    // A wrong secret is refused through this shell too.
    let event = api_gateway_event(
        "/acme/sms/sinchconversation/main",
        &callback("01LAMBDAFORGED000000000000"),
        true,
        "wrong",
    );
    let response = switchboard_webhook::lambda_shell::handle(
        &webhook,
        lambda_http::request::from_str(&event).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 401);
    assert!(running.drain_ingest().await.is_empty());
}
