//! What only AWS's semantics make true, on the real inbound stage under the local Lambda
//! emulator: a record that fails transiently comes back and arrives once because the template
//! asks for partial batch responses; the same run against a copy of the template without
//! `ReportBatchItemFailures` loses it, as Lambda would (it deletes the whole batch on success
//! and ignores the list). So the emulator follows the template, not the code.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use switchboard_e2e::*;
use switchboard_local_stack::template::Template;

const MAIN: &str = "/acme/sms/sinchconversation/main";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
/// The ingest queue's visibility timeout and the inbound stage's timeout in the changed copy:
/// short, so a record comes back within the test, yet long enough for the stage's work (its
/// display-name look-up at Sinch, unreachable here, spends a few seconds on retries).
const SECONDS: u64 = 12;

/// Answers 503 to its first request and the PNG to every later one; counts requests.
fn flaky_png_server() -> (String, Arc<AtomicUsize>) {
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    let address = media_server(move |n| {
        counted.fetch_add(1, Ordering::SeqCst);
        match n {
            0 => MediaAnswer {
                status: "503 Service Unavailable",
                content_type: "text/plain",
                body: b"",
            },
            _ => MediaAnswer {
                status: "200 OK",
                content_type: "image/png",
                body: PNG,
            },
        }
    });
    (address, requests)
}

/// template.yaml with a short visibility timeout on the ingest queue and timeout on the
/// inbound stage, and with or without its mapping's `ReportBatchItemFailures`.
fn template(report_batch_item_failures: bool) -> Template {
    let mut yaml = template_yaml();
    let resources = &mut yaml["Resources"];
    resources["IngestQueue"]["Properties"]["VisibilityTimeout"] = SECONDS.into();
    let media = &mut resources["MediaFunction"]["Properties"];
    media["Timeout"] = SECONDS.into();
    let mapping = media["Events"]["Ingest"]["Properties"]
        .as_mapping_mut()
        .expect("the inbound stage's SQS event");
    assert!(
        mapping.contains_key("FunctionResponseTypes"),
        "template.yaml asks for partial batch responses"
    );
    if !report_batch_item_failures {
        mapping.remove("FunctionResponseTypes");
    }
    Template::from_value(&yaml).expect("the changed template")
}

fn image_callback(id: &str, url: &str) -> Vec<u8> {
    serde_json::json!({"app_id": APP, "project_id": "p-acme", "message": {
        "id": id, "conversation_id": "01SEMANTICSCONVERSATION", "contact_id": "01E2ECONTACT",
        "channel_identity": {"channel": "WHATSAPP", "identity": "46712312312", "app_id": ""},
        "contact_message": {"media_message": {"url": url}}}})
    .to_string()
    .into_bytes()
}

async fn run(report_batch_item_failures: bool) -> (Vec<serde_json::Value>, usize) {
    let (server, requests) = flaky_png_server();
    let template = template(report_batch_item_failures);
    let mut running = Running::start_with_template("semantics", template.clone(), &[]).await;
    running.start_function(
        &template,
        "MediaFunction",
        &[("SWITCHBOARD_MEDIA_ALLOW_LOCAL", &server)],
    );
    let image = image_callback("01SEMANTICSIMAGE", &format!("http://{server}/photo.png"));
    assert_eq!(running.post_signed(MAIN, &image, SECRET, 0).0, 200);
    // Long enough for the record to come back (one visibility timeout) and be done; then a
    // little longer, for a duplicate to show.
    let mut events: Vec<serde_json::Value> = running
        .wait_for_events(1, Duration::from_secs(2 * SECONDS + 10))
        .await
        .into_iter()
        .map(|(event, _)| event)
        .collect();
    events.extend(
        running
            .wait_for_events(1, Duration::from_secs(3))
            .await
            .into_iter()
            .map(|(event, _)| event),
    );
    (events, requests.load(Ordering::SeqCst))
}

#[tokio::test]
async fn a_transient_failure_comes_back_and_arrives_once_with_report_batch_item_failures() {
    let (events, requests) = run(true).await;
    assert_eq!(events.len(), 1, "exactly once: {events:?}");
    let item = &events[0]["message"]["media"][0];
    assert_eq!(item["status"], "stored", "stored on the second try: {item}");
    assert_eq!(
        requests, 2,
        "the 503, then the retry after the visibility timeout"
    );
}

#[tokio::test]
async fn the_same_failure_is_lost_when_the_template_drops_report_batch_item_failures() {
    let (events, requests) = run(false).await;
    assert_eq!(requests, 1, "tried once");
    assert!(
        events.is_empty(),
        "Lambda deleted the whole batch on success, the failed record with it: {events:?}"
    );
}
