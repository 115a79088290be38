//! The Sinch simulator as a black box (the real binary against moto): tokens checked against the
//! config table, requests validated and answered as Sinch does, every request recorded verbatim,
//! faults on demand.

use base64::Engine as _;
use serde_json::{Value, json};
use switchboard_e2e::simulator::{SimulatorStack, http_call};
use switchboard_e2e::*;

fn basic(key: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
    )
}

/// A token for tenant acme's service main (key `k`, secret `ks`, project `p-acme`).
fn token(sim: &SimulatorStack) -> String {
    let (status, body, _) = http_call(
        "POST",
        &format!("{}/oauth2/token", sim.simulator.base_url),
        b"grant_type=client_credentials",
        &[
            ("authorization", &basic("k", "ks")),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let answer: Value = serde_json::from_slice(&body).unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

fn post_json(
    sim: &SimulatorStack,
    path: &str,
    token: &str,
    body: &str,
) -> (u16, Value, Vec<(String, String)>) {
    let auth = format!("Bearer {token}");
    let (status, answer, headers) = http_call(
        "POST",
        &format!("{}{path}", sim.simulator.base_url),
        body.as_bytes(),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
    );
    (
        status,
        serde_json::from_slice(&answer).unwrap_or(Value::Null),
        headers,
    )
}

fn text_send() -> Value {
    json!({
        "app_id": APP,
        "recipient": {"identified_by": {"channel_identities": [{"channel": "WHATSAPP", "identity": "46732001122"}]}},
        "message": {"text_message": {"text": "Hej"}},
        "correlation_id": "r-1"
    })
}

#[tokio::test]
async fn tokens_are_issued_only_for_access_keys_in_the_config_table() {
    let sim = SimulatorStack::start("sim-token", &[]).await;
    let url = format!("{}/oauth2/token", sim.simulator.base_url);
    let form = b"grant_type=client_credentials";
    let (status, body, _) = http_call("POST", &url, form, &[("authorization", &basic("k", "ks"))]);
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        answer["access_token"]
            .as_str()
            .is_some_and(|t| t.len() > 20)
    );
    assert_eq!(answer["expires_in"], 3600);
    assert_eq!(answer["token_type"], "bearer");

    // Wrong secret, unknown key, no credentials, wrong grant.
    for (auth, body, expected) in [
        (basic("k", "wrong"), &form[..], 401),
        (basic("nobody", "ks"), &form[..], 401),
        (String::new(), &form[..], 401),
        (basic("k", "ks"), &b"grant_type=password"[..], 400),
    ] {
        let headers: Vec<(&str, &str)> = if auth.is_empty() {
            vec![]
        } else {
            vec![("authorization", auth.as_str())]
        };
        let (status, _, _) = http_call("POST", &url, body, &headers);
        assert_eq!(status, expected, "{auth} {}", String::from_utf8_lossy(body));
    }

    // A tenant seeded while the simulator runs works at once.
    let seed = json!({"tenants": [{"id": "late", "services": [{"name": "main", "region": "eu",
        "project_id": "p-late", "app_ids": ["01LATEAPP"], "access_key_id": "late-key",
        "access_key_secret": "late-secret", "webhook_secret": "w"}]}]});
    for tenant in switchboard_shared::config::SeedFile::parse(&seed.to_string())
        .unwrap()
        .tenants
    {
        sim.store.put_tenant(&tenant).await.unwrap();
    }
    let (status, _, _) = http_call(
        "POST",
        &url,
        form,
        &[("authorization", &basic("late-key", "late-secret"))],
    );
    assert_eq!(status, 200);
}

#[tokio::test]
async fn sends_are_checked_like_sinch_and_answered_with_sinchs_bodies() {
    let sim = SimulatorStack::start("sim-send", &[("SWITCHBOARD_SINCH_CALLBACKS", "false")]).await;
    let token = token(&sim);
    let send = "/v1/projects/p-acme/messages:send";

    let (status, answer, _) = post_json(&sim, send, &token, &text_send().to_string());
    assert_eq!(status, 200, "{answer}");
    let id = answer["message_id"].as_str().unwrap();
    assert_eq!(id.len(), 26);
    assert!(answer["accepted_time"].as_str().unwrap().ends_with('Z'));

    let mut two_kinds = text_send();
    two_kinds["message"]["media_message"] = json!({"url": "https://x.example/a.png"});
    let (status, answer, _) = post_json(&sim, send, &token, &two_kinds.to_string());
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(answer["error"]["code"], 400);
    assert_eq!(
        answer["error"]["details"][0]["field_violations"][0]["field"],
        "message"
    );

    let mut bad_queue = text_send();
    bad_queue["queue"] = json!("HIGH");
    let (status, answer, _) = post_json(&sim, send, &token, &bad_queue.to_string());
    assert_eq!(
        (
            status,
            answer["error"]["details"][0]["field_violations"][0]["field"].clone()
        ),
        (400, json!("queue"))
    );

    // Not in the token's project, an app of another project, no token, a made-up token.
    let (status, answer, _) = post_json(
        &sim,
        "/v1/projects/p-globex/messages:send",
        &token,
        &text_send().to_string(),
    );
    assert_eq!(
        (status, answer["error"]["status"].clone()),
        (403, json!("PERMISSION_DENIED"))
    );
    let mut other_app = text_send();
    other_app["app_id"] = json!("01GLOBEXAPP000000000000000");
    let (status, answer, _) = post_json(&sim, send, &token, &other_app.to_string());
    assert_eq!(
        (status, answer["error"]["status"].clone()),
        (404, json!("NOT_FOUND"))
    );
    let (status, _, _) = http_call(
        "POST",
        &format!("{}{send}", sim.simulator.base_url),
        text_send().to_string().as_bytes(),
        &[],
    );
    assert_eq!(status, 401);
    let (status, answer, headers) = post_json(&sim, send, "made-up", &text_send().to_string());
    assert_eq!(
        (status, answer["error"]["status"].clone()),
        (401, json!("UNAUTHENTICATED"))
    );
    assert!(
        headers
            .iter()
            .any(|(n, v)| n == "www-authenticate" && v.contains("invalid_token"))
    );

    // Expired tokens say so.
    assert_eq!(
        sim.simulator
            .call("POST", "/_simulator/tokens/expire", None)
            .0,
        200
    );
    let (status, _, headers) = post_json(&sim, send, &token, &text_send().to_string());
    assert_eq!(status, 401);
    assert!(
        headers
            .iter()
            .any(|(n, v)| n == "www-authenticate" && v.contains("expired")),
        "{headers:?}"
    );

    let events = "/v1/projects/p-acme/events:send";
    let token = self::token(&sim);
    let event =
        json!({"app_id": APP, "recipient": {"contact_id": "c1"}, "event": {"composing_event": {}}});
    let (status, answer, _) = post_json(&sim, events, &token, &event.to_string());
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["event_id"].as_str().unwrap().len(), 26);
    let (status, _, _) = post_json(
        &sim,
        events,
        &token,
        &json!({"app_id": APP, "recipient": {"contact_id": "c1"}, "event": {"typing": {}}})
            .to_string(),
    );
    assert_eq!(status, 400);
}

#[tokio::test]
async fn every_request_is_recorded_verbatim_oldest_first_and_can_be_cleared() {
    let sim =
        SimulatorStack::start("sim-record", &[("SWITCHBOARD_SINCH_CALLBACKS", "false")]).await;
    let token = token(&sim);
    // Odd spacing and key order: the record must keep the exact text.
    let body = "{ \"app_id\":\"01EB37HMH1M6SV18ABNS3G135H\",  \"recipient\":{\"contact_id\":\"c-1\"},\"message\":{\"text_message\":{\"text\":\"Jägaren 🔥\"}} }";
    let (status, _, _) = post_json(&sim, "/v1/projects/p-acme/messages:send", &token, body);
    assert_eq!(status, 200);
    let (status, _, _) = http_call(
        "GET",
        &format!(
            "{}/v1/projects/p-acme/contacts/c-9?view=full",
            sim.simulator.base_url
        ),
        b"",
        &[("authorization", &format!("Bearer {token}"))],
    );
    assert_eq!(status, 404);

    let requests = sim.simulator.requests();
    let paths: Vec<&str> = requests
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/oauth2/token",
            "/v1/projects/p-acme/messages:send",
            "/v1/projects/p-acme/contacts/c-9"
        ]
    );
    let send = &requests[1];
    assert_eq!(send["method"], "POST");
    assert_eq!(send["query"], "");
    assert_eq!(send["body"], body);
    assert_eq!(send["headers"]["content-type"], "application/json");
    assert_eq!(send["headers"]["authorization"], format!("Bearer {token}"));
    assert_eq!(requests[0]["body"], "grant_type=client_credentials");
    assert_eq!(requests[2]["method"], "GET");
    assert_eq!(requests[2]["query"], "view=full");
    for request in &requests {
        let keys: Vec<&String> = request.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["body", "headers", "method", "path", "query"]);
    }
    // Control calls are not recorded.
    assert_eq!(sim.simulator.requests().len(), 3);

    assert_eq!(
        sim.simulator.call("DELETE", "/_simulator/requests", None).0,
        200
    );
    assert!(sim.simulator.requests().is_empty());
}

#[tokio::test]
async fn faults_answer_the_next_requests_then_stop() {
    let sim =
        SimulatorStack::start("sim-faults", &[("SWITCHBOARD_SINCH_CALLBACKS", "false")]).await;
    let token = token(&sim);
    let send = "/v1/projects/p-acme/messages:send";
    let (status, _) = sim.simulator.call(
        "POST",
        "/_simulator/faults",
        Some(&json!({"status": 429, "count": 2, "path_contains": "messages:send"})),
    );
    assert_eq!(status, 200);
    let (status, _) = sim.simulator.call(
        "POST",
        "/_simulator/faults",
        Some(&json!({"status": 503, "count": 1, "message": "down for a moment"})),
    );
    assert_eq!(status, 200);
    let mut answers = Vec::new();
    for _ in 0..4 {
        let (status, answer, _) = post_json(&sim, send, &token, &text_send().to_string());
        answers.push((
            status,
            answer["error"]["status"].as_str().unwrap_or("").to_owned(),
        ));
    }
    assert_eq!(
        answers,
        [
            (429, "RESOURCE_EXHAUSTED".to_owned()),
            (429, "RESOURCE_EXHAUSTED".to_owned()),
            (503, "UNAVAILABLE".to_owned()),
            (200, String::new())
        ]
    );
    // Faulted requests are recorded too.
    assert_eq!(sim.simulator.count("messages:send"), 4);
    let (status, answer) =
        sim.simulator
            .call("POST", "/_simulator/faults", Some(&json!({"status": 200})));
    assert_eq!(status, 400, "{answer}");
}

#[tokio::test]
async fn webhooks_contacts_and_profiles_behave_like_sinchs() {
    let sim =
        SimulatorStack::start("sim-resources", &[("SWITCHBOARD_SINCH_CALLBACKS", "false")]).await;
    let token = token(&sim);
    let hook = json!({"app_id": APP, "target": "https://x.example/acme/sms/sinchconversation/main",
                      "target_type": "HTTP", "triggers": ["MESSAGE_INBOUND", "MESSAGE_DELIVERY"], "secret": "w"});
    let (status, created, _) = post_json(
        &sim,
        "/v1/projects/p-acme/webhooks",
        &token,
        &hook.to_string(),
    );
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, answer, _) = post_json(
        &sim,
        "/v1/projects/p-acme/webhooks",
        &token,
        &hook.to_string(),
    );
    assert_eq!(
        (status, answer["error"]["status"].clone()),
        (400, json!("INVALID_ARGUMENT")),
        "duplicate target"
    );
    let auth = format!("Bearer {token}");
    let base = &sim.simulator.base_url;
    let (status, list, _) = http_call(
        "GET",
        &format!("{base}/v1/projects/p-acme/apps/{APP}/webhooks"),
        b"",
        &[("authorization", &auth)],
    );
    assert_eq!(status, 200);
    let list: Value = serde_json::from_slice(&list).unwrap();
    assert_eq!(list["webhooks"][0]["id"], id.as_str());
    let (status, _, _) = http_call(
        "DELETE",
        &format!("{base}/v1/projects/p-acme/webhooks/{id}"),
        b"",
        &[("authorization", &auth)],
    );
    assert_eq!(status, 200);
    let (status, _, _) = http_call(
        "DELETE",
        &format!("{base}/v1/projects/p-acme/webhooks/{id}"),
        b"",
        &[("authorization", &auth)],
    );
    assert_eq!(status, 404);

    let contact = json!({"project_id": "p-acme", "id": "c-1", "display_name": "Anna",
        "channel_identities": [{"channel": "MESSENGER", "identity": "psid-1"}], "profile_name": "Anna A."});
    assert_eq!(
        sim.simulator
            .call("POST", "/_simulator/contacts", Some(&contact))
            .0,
        200
    );
    let (status, answer, _) = http_call(
        "GET",
        &format!("{base}/v1/projects/p-acme/contacts/c-1"),
        b"",
        &[("authorization", &auth)],
    );
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["display_name"], "Anna");
    let profile = json!({"app_id": APP, "recipient": {"identified_by": {"channel_identities": [{"channel": "MESSENGER", "identity": "psid-1"}]}}, "channel": "MESSENGER"});
    let (status, answer, _) = post_json(
        &sim,
        "/v1/projects/p-acme/contacts:getChannelProfile",
        &token,
        &profile.to_string(),
    );
    assert_eq!(
        (status, answer["profile_name"].clone()),
        (200, json!("Anna A."))
    );
    let mut whatsapp = profile.clone();
    whatsapp["channel"] = json!("WHATSAPP");
    let (status, _, _) = post_json(
        &sim,
        "/v1/projects/p-acme/contacts:getChannelProfile",
        &token,
        &whatsapp.to_string(),
    );
    assert_eq!(status, 400, "no channel profiles on WhatsApp");
}

/// Polls `GET /_simulator/callbacks` until `count` callbacks were posted (bounded).
fn wait_for_callbacks(
    sim: &switchboard_e2e::simulator::SimulatorProcess,
    count: usize,
) -> Vec<Value> {
    for _ in 0..200 {
        let (_, posted) = sim.call("GET", "/_simulator/callbacks", None);
        let posted = posted.as_array().cloned().unwrap_or_default();
        if posted.len() >= count {
            return posted;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("fewer than {count} callbacks were posted");
}

#[tokio::test]
async fn signed_delivery_reports_and_customer_messages_reach_the_real_webhook() {
    let running = Running::start("sim-webhook").await;
    let sim = switchboard_e2e::simulator::SimulatorProcess::start(
        "sim-webhook",
        &running.env("SWITCHBOARD_CONFIG_TABLE"),
        &[
            (
                "SWITCHBOARD_SINCH_WEBHOOK_BASE_URL",
                running.base_url.as_str(),
            ),
            ("SWITCHBOARD_SINCH_CALLBACK_DELAY_MS", "0"),
        ],
    );
    let token = {
        let (status, body, _) = http_call(
            "POST",
            &format!("{}/oauth2/token", sim.base_url),
            b"grant_type=client_credentials",
            &[("authorization", &basic("k", "ks"))],
        );
        assert_eq!(status, 200);
        serde_json::from_slice::<Value>(&body).unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let send = |body: &Value| {
        let (status, answer, _) = http_call(
            "POST",
            &format!("{}/v1/projects/p-acme/messages:send", sim.base_url),
            body.to_string().as_bytes(),
            &[("authorization", &format!("Bearer {token}"))],
        );
        assert_eq!(status, 200);
        serde_json::from_slice::<Value>(&answer).unwrap()["message_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // A send that is delivered and read, then one that fails with a reason.
    let mut delivered = text_send();
    delivered["message_metadata"] = json!("{\"ticket\":\"T-1\"}");
    let read_id = send(&delivered);
    let failure = json!({"statuses": ["QUEUED_ON_CHANNEL", "FAILED"], "count": 1,
        "reason": {"code": "OUTSIDE_ALLOWED_SENDING_WINDOW", "description": "24 h passed", "sub_code": "UNSPECIFIED_SUB_CODE"}});
    assert_eq!(
        sim.call("POST", "/_simulator/delivery", Some(&failure)).0,
        200
    );
    let mut second = text_send();
    second["correlation_id"] = json!("r-2");
    let failed_id = send(&second);

    // Customer messages: text, media hosted by the simulator, location.
    let (status, mo) = sim.call(
        "POST",
        "/_simulator/mo",
        Some(&json!({"app_id": APP, "identity": "46732001122", "text": "Hej!"})),
    );
    assert_eq!(
        (status, mo["webhook_status"].clone()),
        (200, json!(200)),
        "{mo}"
    );
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 simulated");
    let (_, media) = sim.call(
        "POST",
        "/_simulator/mo",
        Some(&json!({"app_id": APP, "identity": "46732001122",
        "media": {"content_type": "application/pdf", "filename": "bill.pdf", "body_base64": pdf}})),
    );
    assert_eq!(media["webhook_status"], 200, "{media}");
    let (_, location) = sim.call(
        "POST",
        "/_simulator/mo",
        Some(&json!({"app_id": APP, "identity": "46732001122",
        "location": {"latitude": 55.7, "longitude": 13.1, "title": "Lund"}})),
    );
    assert_eq!(location["webhook_status"], 200);

    let posted = wait_for_callbacks(&sim, 8);
    for callback in &posted {
        assert_eq!(
            callback["status"], 200,
            "the webhook refused a callback: {callback}"
        );
        assert!(
            callback["url"]
                .as_str()
                .unwrap()
                .ends_with("/acme/sms/sinchconversation/main")
        );
    }

    // The media URL serves the exact bytes with type and length.
    let media_url = media["media_url"].as_str().unwrap();
    let (status, bytes, headers) = http_call("GET", media_url, b"", &[]);
    assert_eq!(
        (status, bytes.as_slice()),
        (200, &b"%PDF-1.4 simulated"[..])
    );
    assert!(headers.contains(&("content-type".into(), "application/pdf".into())));
    assert!(headers.contains(&("content-length".into(), "18".into())));

    let events: Vec<Value> = running
        .drain_ingest()
        .await
        .into_iter()
        .map(|(event, _)| event)
        .collect();
    let deliveries: Vec<(String, String, Value)> = events
        .iter()
        .filter(|e| e["kind"] == "delivery")
        .map(|e| {
            (
                e["delivery"]["message_id"].as_str().unwrap().to_owned(),
                e["delivery"]["status"].as_str().unwrap().to_owned(),
                e["correlation_id"].clone(),
            )
        })
        .collect();
    for expected in [
        (read_id.clone(), "QUEUED_ON_CHANNEL", "r-1"),
        (read_id.clone(), "DELIVERED", "r-1"),
        (read_id.clone(), "READ", "r-1"),
        (failed_id.clone(), "QUEUED_ON_CHANNEL", "r-2"),
        (failed_id.clone(), "FAILED", "r-2"),
    ] {
        assert!(
            deliveries
                .iter()
                .any(|(id, status, correlation)| *id == expected.0
                    && status == expected.1
                    && correlation == expected.2),
            "missing {expected:?} in {deliveries:?}"
        );
    }
    let failed = events
        .iter()
        .find(|e| e["delivery"]["status"] == "FAILED")
        .unwrap();
    assert_eq!(
        failed["delivery"]["reason"]["code"],
        "OUTSIDE_ALLOWED_SENDING_WINDOW"
    );
    let read = events
        .iter()
        .find(|e| e["delivery"]["status"] == "READ")
        .unwrap();
    assert_eq!(read["delivery"]["metadata"], "{\"ticket\":\"T-1\"}");
    assert_eq!(read["channel"], "WHATSAPP");
    assert_eq!(read["contact"]["channel_identity"], "46732001122");

    let messages: Vec<&Value> = events.iter().filter(|e| e["kind"] == "message").collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages.iter().any(|m| m["message"]["text"] == "Hej!"));
    assert!(
        messages
            .iter()
            .any(|m| m["message"]["media"][0]["source_url"] == media_url)
    );
    assert!(
        messages
            .iter()
            .any(|m| m["message"]["location"]["title"] == "Lund")
    );
}
