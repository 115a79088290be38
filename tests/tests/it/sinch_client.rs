//! Switchboard's Sinch client (shared/sinch/api) against the simulator binary: one token for many
//! sends, one refresh shared by concurrent callers, one retry after an expired token, retries on
//! 429 and 503 until success, a 400 as a permanent error carrying Sinch's message, the deadline
//! respected; and every golden agent command, mapped to Sinch's request, accepted by the
//! simulator's independent validation.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use switchboard_e2e::simulator::SimulatorStack;
use switchboard_e2e::*;
use switchboard_shared::config::ApiCredentials;
use switchboard_shared::contract::parse_command;
use switchboard_shared::deadline::Deadline;
use switchboard_shared::error::Classify;
use switchboard_shared::sinch::api::contacts::ChannelProfileRequest;
use switchboard_shared::sinch::api::send::{
    ChannelIdentity, IdentifiedBy, Recipient, SendContext, SendMessageRequest, build_request,
};
use switchboard_shared::sinch::api::webhooks::NewWebhook;
use switchboard_shared::sinch::api::{
    ClientSettings, RetryPolicy, ServiceEndpoint, SinchClient, SinchError,
};

/// Tenant acme's service main (project p-acme, key k / ks) at the simulator.
fn endpoint(sim: &SimulatorStack) -> ServiceEndpoint {
    let base_url = sim.simulator.base_url.clone();
    ServiceEndpoint {
        tenant: "acme".into(),
        service: "main".into(),
        project_id: "p-acme".into(),
        token_url: switchboard_shared::sinch::api::client::token_url_for(&base_url),
        base_url,
        credentials: ApiCredentials {
            key_id: "k".into(),
            key_secret: SecretString::from("ks".to_owned()),
        },
        refuse_loopback: false,
    }
}

/// Fast retries, so tests do not wait on production backoff.
fn client() -> SinchClient {
    SinchClient::new(ClientSettings {
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        },
        ..ClientSettings::default()
    })
    .unwrap()
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(20))
}

fn text(reply: &str) -> SendMessageRequest {
    let command = json!({
        "schema_version": 1, "reply_id": reply, "tenant": "acme",
        "queue_address": format!("{APP}@whatsapp.sinchconversation.com"),
        "recipient": {"identity": "46732001122"},
        "message": {"text_message": {"text": format!("reply {reply}")}}
    });
    let command = parse_command(command.to_string().as_bytes()).unwrap();
    let urls = BTreeMap::new();
    match build_request(
        &command,
        &SendContext {
            queue_sms_sender: None,
            public_urls: &urls,
        },
    )
    .unwrap()
    {
        switchboard_shared::sinch::api::send::SinchRequest::Message(message) => *message,
        other => panic!("not a message: {other:?}"),
    }
}

const QUIET: &[(&str, &str)] = &[("SWITCHBOARD_SINCH_CALLBACKS", "false")];

#[tokio::test]
async fn one_token_serves_many_sends() {
    let sim = SimulatorStack::start("client-token", QUIET).await;
    let (client, endpoint) = (client(), endpoint(&sim));
    for n in 0..25 {
        let answer = client
            .send_message(&endpoint, &text(&format!("r-{n}")), &deadline())
            .await
            .unwrap();
        assert_eq!(answer.message_id.len(), 26);
    }
    assert_eq!(sim.simulator.count("/oauth2/token"), 1);
    assert_eq!(sim.simulator.count("/messages:send"), 25);
    // Every send carried the one token.
    let tokens: std::collections::BTreeSet<String> = sim
        .simulator
        .requests()
        .iter()
        .filter_map(|r| {
            r["headers"]["authorization"]
                .as_str()
                .filter(|a| a.starts_with("Bearer "))
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(tokens.len(), 1);
}

#[tokio::test]
async fn concurrent_callers_share_one_token_request_and_one_refresh() {
    let sim = SimulatorStack::start("client-concurrent", QUIET).await;
    let (client, endpoint) = (client(), endpoint(&sim));
    let burst = |tag: &'static str| {
        let sends: Vec<_> = (0..30)
            .map(|n| {
                let (client, endpoint) = (client.clone(), endpoint.clone());
                tokio::spawn(async move {
                    client
                        .send_message(&endpoint, &text(&format!("{tag}-{n}")), &deadline())
                        .await
                })
            })
            .collect();
        async move {
            for send in sends {
                send.await.unwrap().unwrap();
            }
        }
    };
    burst("cold").await;
    assert_eq!(
        sim.simulator.count("/oauth2/token"),
        1,
        "a cold burst makes one token request"
    );
    // Every token expires at once: each caller hears "expired", and one refresh serves them all.
    assert_eq!(
        sim.simulator
            .call("POST", "/_simulator/tokens/expire", None)
            .0,
        200
    );
    burst("expired").await;
    assert_eq!(sim.simulator.count("/oauth2/token"), 2);
    assert_eq!(
        sim.simulator.count("/messages:send"),
        90,
        "30 + 30 refused as expired + 30 resent"
    );
}

#[tokio::test]
async fn a_401_that_says_expired_is_retried_once_with_a_new_token() {
    let sim = SimulatorStack::start("client-expired", QUIET).await;
    let (client, endpoint) = (client(), endpoint(&sim));
    client
        .send_message(&endpoint, &text("warm"), &deadline())
        .await
        .unwrap();
    sim.simulator.call(
        "POST",
        "/_simulator/faults",
        Some(
            &json!({"status": 401, "expired": true, "count": 1, "path_contains": "messages:send"}),
        ),
    );
    client
        .send_message(&endpoint, &text("after"), &deadline())
        .await
        .unwrap();
    assert_eq!(sim.simulator.count("/oauth2/token"), 2);
    // A plain 401 (not "expired") is not retried: the credentials are wrong.
    sim.simulator.call(
        "POST",
        "/_simulator/faults",
        Some(&json!({"status": 401, "count": 1, "path_contains": "messages:send"})),
    );
    let err = client
        .send_message(&endpoint, &text("refused"), &deadline())
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(401));
    assert!(!err.is_retryable());
    assert_eq!(sim.simulator.count("/oauth2/token"), 2);
}

#[tokio::test]
async fn throttling_and_unavailability_are_retried_until_sinch_accepts() {
    let sim = SimulatorStack::start("client-retry", QUIET).await;
    let (client, endpoint) = (client(), endpoint(&sim));
    sim.simulator.call(
        "POST",
        "/_simulator/faults",
        Some(&json!({"status": 429, "count": 2, "path_contains": "messages:send"})),
    );
    sim.simulator.call(
        "POST",
        "/_simulator/faults",
        Some(&json!({"status": 503, "count": 1, "path_contains": "messages:send"})),
    );
    let answer = client
        .send_message(&endpoint, &text("r-1"), &deadline())
        .await
        .unwrap();
    assert_eq!(answer.message_id.len(), 26);
    assert_eq!(sim.simulator.count("/messages:send"), 4);
    // The token endpoint's throttling is retried the same way.
    let fresh = self::client();
    sim.simulator.call(
        "POST",
        "/_simulator/faults",
        Some(&json!({"status": 429, "count": 1, "path_contains": "oauth2"})),
    );
    fresh
        .send_message(&endpoint, &text("r-2"), &deadline())
        .await
        .unwrap();
    assert_eq!(sim.simulator.count("/oauth2/token"), 3);
}

#[tokio::test]
async fn retries_end_with_a_retryable_error_when_sinch_stays_down() {
    let sim = SimulatorStack::start("client-down", QUIET).await;
    let (client, endpoint) = (client(), endpoint(&sim));
    sim.simulator.call(
        "POST",
        "/_simulator/faults",
        Some(&json!({"status": 503, "count": 100, "path_contains": "messages:send"})),
    );
    let err = client
        .send_message(&endpoint, &text("r-1"), &deadline())
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.code(), "UNAVAILABLE");
    assert_eq!(sim.simulator.count("/messages:send"), 5, "max_attempts");
}

#[tokio::test]
async fn a_slow_answer_is_cut_at_the_deadline_as_retryable() {
    let sim = SimulatorStack::start("client-slow", QUIET).await;
    let (client, endpoint) = (client(), endpoint(&sim));
    client
        .send_message(&endpoint, &text("warm"), &deadline())
        .await
        .unwrap();
    sim.simulator.call(
        "POST",
        "/_simulator/faults",
        Some(&json!({"delay_ms": 5000, "count": 1, "path_contains": "messages:send"})),
    );
    let err = client
        .send_message(
            &endpoint,
            &text("slow"),
            &Deadline::after(Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        SinchError::Deadline {
            operation: "SendMessage"
        }
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_400_is_permanent_and_carries_sinchs_message() {
    let sim = SimulatorStack::start("client-400", QUIET).await;
    let (client, endpoint) = (client(), endpoint(&sim));
    sim.simulator.call("POST", "/_simulator/faults", Some(&json!({"status": 400, "count": 1, "path_contains": "messages:send", "message": "Invalid argument: the recipient is blocked"})));
    let err = client
        .send_message(&endpoint, &text("r-1"), &deadline())
        .await
        .unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(err.code(), "INVALID_ARGUMENT");
    assert_eq!(
        err.reason_message(),
        "Invalid argument: the recipient is blocked"
    );
    assert_eq!(sim.simulator.count("/messages:send"), 1, "never retried");

    // A request Sinch's rules refuse: the simulator's own validation names the field.
    let mut bad = text("r-2");
    bad.recipient = Recipient {
        contact_id: None,
        identified_by: Some(IdentifiedBy {
            channel_identities: vec![ChannelIdentity {
                channel: switchboard_shared::channel::Channel::Other("PIGEON".into()),
                identity: "1".into(),
            }],
        }),
    };
    let err = client
        .send_message(&endpoint, &bad, &deadline())
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(400));
    assert!(
        err.reason_message()
            .contains("recipient.identified_by.channel_identities[0].channel"),
        "{err}"
    );

    // An app outside the token's project: 404, permanent.
    let mut other = text("r-3");
    other.app_id = "01GLOBEXAPP000000000000000".into();
    let err = client
        .send_message(&endpoint, &other, &deadline())
        .await
        .unwrap_err();
    assert_eq!((err.http_status(), err.is_retryable()), (Some(404), false));
}

#[tokio::test]
async fn wrong_credentials_fail_permanently_at_the_token_endpoint() {
    let sim = SimulatorStack::start("client-creds", QUIET).await;
    let mut endpoint = endpoint(&sim);
    endpoint.credentials.key_secret = SecretString::from("not-the-secret".to_owned());
    let err = client()
        .send_message(&endpoint, &text("r-1"), &deadline())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SinchError::Token {
                http_status: Some(401),
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert!(!err.to_string().contains("not-the-secret"));
    assert_eq!(sim.simulator.count("/oauth2/token"), 1);
}

#[tokio::test]
async fn every_golden_command_is_a_request_sinchs_rules_accept() {
    let sim = SimulatorStack::start("client-golden", QUIET).await;
    let (client, endpoint) = (client(), endpoint(&sim));
    let examples = workspace_root().join("schemas/examples");
    let mut sent = 0;
    for entry in std::fs::read_dir(examples).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("agent-command-") {
            continue;
        }
        // The golden commands are for the demo tenant; send them as acme's (same shape).
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("outbound/demo/", "outbound/acme/")
            .replace("\"demo\"", "\"acme\"")
            .replace("01DEMOAPP00000000000000001", APP)
            .replace("01DEMOAPP00000000000000002", APP);
        let command = parse_command(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let urls: BTreeMap<String, String> = command
            .media_s3_keys()
            .iter()
            .map(|key| (key.to_string(), format!("https://media.example.net/{key}")))
            .collect();
        let request = build_request(
            &command,
            &SendContext {
                queue_sms_sender: Some("+15550100"),
                public_urls: &urls,
            },
        )
        .unwrap();
        // Channel priority must name channels of the app (its queues: WhatsApp only here).
        let answer = client.send(&endpoint, &request, &deadline()).await;
        let accepted = answer.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(accepted.id.len(), 26, "{name}");
        sent += 1;
    }
    assert_eq!(sent, 13);
    assert_eq!(
        sim.simulator.count("/messages:send") + sim.simulator.count("/events:send"),
        13
    );
}

#[tokio::test]
async fn contacts_profiles_and_webhooks_go_through_the_same_client() {
    let sim = SimulatorStack::start("client-resources", QUIET).await;
    let (client, endpoint) = (client(), endpoint(&sim));
    let contact = json!({"project_id": "p-acme", "id": "c-1", "display_name": "Anna",
        "channel_identities": [{"channel": "MESSENGER", "identity": "psid-1"}], "profile_name": "Anna A."});
    sim.simulator
        .call("POST", "/_simulator/contacts", Some(&contact));
    let found = client
        .get_contact(&endpoint, "c-1", &deadline())
        .await
        .unwrap();
    assert_eq!(found.display_name.as_deref(), Some("Anna"));
    assert_eq!(found.channel_identities[0].identity, "psid-1");
    let missing = client
        .get_contact(&endpoint, "c-2", &deadline())
        .await
        .unwrap_err();
    assert_eq!(
        (missing.http_status(), missing.is_retryable()),
        (Some(404), false)
    );
    let profile = client
        .get_channel_profile(
            &endpoint,
            &ChannelProfileRequest {
                app_id: APP.into(),
                recipient: Recipient {
                    contact_id: Some("c-1".into()),
                    identified_by: None,
                },
                channel: switchboard_shared::channel::Channel::Messenger,
            },
            &deadline(),
        )
        .await
        .unwrap();
    assert_eq!(profile.profile_name.as_deref(), Some("Anna A."));

    let hook = NewWebhook::http(
        APP,
        "https://x.example/acme/sms/sinchconversation/main",
        &["MESSAGE_INBOUND", "MESSAGE_DELIVERY"],
        SecretString::from("w".to_owned()),
    );
    let created = client
        .create_webhook(&endpoint, &hook, &deadline())
        .await
        .unwrap();
    assert_eq!(created.target_type.as_deref(), Some("HTTP"));
    let listed = client
        .list_webhooks(&endpoint, APP, &deadline())
        .await
        .unwrap();
    assert_eq!(listed, vec![created.clone()]);
    client
        .delete_webhook(&endpoint, &created.id, &deadline())
        .await
        .unwrap();
    assert!(
        client
            .list_webhooks(&endpoint, APP, &deadline())
            .await
            .unwrap()
            .is_empty()
    );
    // The secret went to Sinch in the create request only.
    let creates: Vec<_> = sim
        .simulator
        .requests()
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("/webhooks") && r["method"] == "POST")
        .collect();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(creates[0]["body"].as_str().unwrap()).unwrap()["secret"],
        "w"
    );
}
