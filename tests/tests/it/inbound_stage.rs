//! The inbound path end to end on the real binaries: a signed callback to the webhook, the
//! media stage polling `ingest.fifo` as Lambda's event source would, customer media stored in
//! S3 from a local file server, and one event per callback on `events.fifo`, in order.

use std::time::Duration;

use switchboard_e2e::*;

const MAIN: &str = "/acme/sms/sinchconversation/main";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// Answers every request with the PNG; returns its `host:port`.
fn png_server() -> String {
    media_server(|_| MediaAnswer {
        status: "200 OK",
        content_type: "image/png",
        body: PNG,
    })
}

fn media_callback(id: &str, url: &str) -> Vec<u8> {
    serde_json::json!({"app_id": APP, "project_id": "p-acme", "message": {
        "id": id, "conversation_id": "01E2ECONVERSATION", "contact_id": "01E2ECONTACT",
        "channel_identity": {"channel": "WHATSAPP", "identity": "46712312312", "app_id": ""},
        "contact_message": {"media_message": {"url": url}}}})
    .to_string()
    .into_bytes()
}

fn text_callback(id: &str) -> Vec<u8> {
    serde_json::json!({"app_id": APP, "project_id": "p-acme", "message": {
        "id": id, "conversation_id": "01E2ECONVERSATION", "contact_id": "01E2ECONTACT",
        "channel_identity": {"channel": "WHATSAPP", "identity": "46712312312", "app_id": ""},
        "contact_message": {"text_message": {"text": "after the image"}}}})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn an_image_then_a_text_arrive_in_order_with_the_image_in_s3_and_each_once() {
    let server = png_server();
    let mut running = Running::start("inbound").await;
    running.start_media(&[("SWITCHBOARD_MEDIA_ALLOW_LOCAL", &server)]);
    let image = media_callback("01E2EIMAGE", &format!("http://{server}/photo.png"));
    for _ in 0..3 {
        assert_eq!(running.post_signed(MAIN, &image, SECRET, 0).0, 200);
    }
    assert_eq!(
        running
            .post_signed(MAIN, &text_callback("01E2ETEXT"), SECRET, 0)
            .0,
        200
    );

    let events = running.wait_for_events(2, Duration::from_secs(30)).await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|(event, _)| {
            event["message"]["content_kind"]
                .as_str()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        kinds,
        ["media_message", "text_message"],
        "in the order posted, each once"
    );
    let item = &events[0].0["message"]["media"][0];
    assert_eq!(item["status"], "stored", "{item}");
    assert_eq!(item["content_type"], "image/png");
    let key = item["s3_key"].as_str().expect("s3 key");
    let object = running
        .s3
        .get_object()
        .bucket(running.env("SWITCHBOARD_MEDIA_BUCKET"))
        .key(key)
        .send()
        .await
        .expect("stored object");
    let bytes = object.body.collect().await.expect("body").into_bytes();
    assert_eq!(bytes.as_ref(), PNG, "the exact bytes");
    // Nothing more arrives: the repeats were de-duplicated.
    assert!(
        running
            .wait_for_events(1, Duration::from_secs(3))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_agent_link_of_a_stored_image_returns_its_exact_bytes() {
    let server = png_server();
    let mut running = Running::start("inbound-link").await;
    let link_base = running.start_media_link();
    running.start_media(&[
        ("SWITCHBOARD_MEDIA_ALLOW_LOCAL", &server),
        ("SWITCHBOARD_MEDIA_LINK_BASE_URL", &link_base),
    ]);
    let image = media_callback("01E2ELINK", &format!("http://{server}/photo.png"));
    assert_eq!(running.post_signed(MAIN, &image, SECRET, 0).0, 200);
    let events = running.wait_for_events(1, Duration::from_secs(30)).await;
    let item = &events[0].0["message"]["media"][0];
    assert_eq!(item["status"], "stored", "{item}");
    let url = item["url"].as_str().expect("a link");
    assert!(
        url.starts_with(&format!("{link_base}/acme/media/v1.")),
        "{url}"
    );
    // Until the end of the tenant's retention (30 days by default), at a midnight UTC.
    let expires: chrono::DateTime<chrono::Utc> = item["url_expires_at"]
        .as_str()
        .expect("url_expires_at")
        .parse()
        .expect("a time");
    let days = (expires - chrono::Utc::now()).num_days();
    assert!((29..=31).contains(&days), "{expires}");
    assert_eq!(expires.timestamp() % 86_400, 0, "{expires}");

    let (status, _, headers) = switchboard_e2e::simulator::http_call("GET", url, b"", &[]);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(status, 302);
    assert_eq!(
        header("cache-control").as_deref(),
        Some("private, no-store")
    );
    let location = header("location").expect("a Location");
    let (status, body, headers) = switchboard_e2e::simulator::http_call("GET", &location, b"", &[]);
    assert_eq!(status, 200);
    assert_eq!(body, PNG, "the exact bytes");
    assert!(
        headers
            .iter()
            .any(|(n, v)| n == "content-type" && v == "image/png"),
        "{headers:?}"
    );

    // An altered link is refused, and says nothing more.
    let mut altered = url.to_owned();
    altered.push('x');
    let (status, body, _) = switchboard_e2e::simulator::http_call("GET", &altered, b"", &[]);
    assert_eq!(
        (status, String::from_utf8_lossy(&body).into_owned()),
        (404, r#"{"error":"not found"}"#.to_owned())
    );
}

#[tokio::test]
async fn media_at_a_forbidden_address_arrives_failed_and_why() {
    let mut running = Running::start("inbound-ssrf").await;
    running.start_media(&[]);
    for (id, url) in [
        ("01E2EMETA", "https://169.254.169.254/latest/meta-data/"),
        ("01E2ELOOP", "http://127.0.0.1:9/x.png"),
    ] {
        let callback = media_callback(id, url);
        assert_eq!(running.post_signed(MAIN, &callback, SECRET, 0).0, 200);
    }
    let events = running.wait_for_events(2, Duration::from_secs(30)).await;
    assert_eq!(events.len(), 2);
    for (event, _) in &events {
        let item = &event["message"]["media"][0];
        assert_eq!(item["status"], "failed", "{item}");
        assert!(
            item["failure_reason"]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{item}"
        );
    }
}
