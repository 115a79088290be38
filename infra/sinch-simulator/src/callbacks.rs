//! Signed callbacks to the webhook, as Sinch sends them: delivery reports after an accepted send,
//! and customer (MO) messages on request. Each goes to the service's webhook path,
//! `{base}/{tenant}/sms/sinchconversation/{service}`, signed with the service's current webhook
//! secret (HMAC-SHA256 over body, nonce and timestamp), and is logged with the webhook's answer
//! for `GET /_simulator/callbacks`.

use chrono::Utc;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use switchboard_shared::sinch::signature::SignatureHeaders;

use crate::Simulator;
use crate::directory::Service;
use crate::ids;
use crate::state::{Outcome, SentCallback};

/// Where a delivery report's recipient is, as the report names it.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub app_id: String,
    pub message_id: String,
    pub channel: String,
    pub identity: String,
    pub contact_id: String,
    pub metadata: String,
    pub correlation_id: Option<String>,
}

/// Posts the outcome's delivery reports one after the other, `callback_delay` apart.
pub async fn deliver(
    simulator: &Simulator,
    service: &Service,
    delivered: Delivered,
    outcome: Outcome,
) {
    for status in &outcome.statuses {
        tokio::time::sleep(simulator.settings.callback_delay).await;
        let mut report = json!({
            "message_id": delivered.message_id,
            "conversation_id": "",
            "status": status,
            "channel_identity": {"channel": delivered.channel, "identity": delivered.identity, "app_id": ""},
            "contact_id": delivered.contact_id,
            "metadata": delivered.metadata,
            "processing_mode": if delivered.contact_id.is_empty() { "DISPATCH" } else { "CONVERSATION" },
        });
        if status == "FAILED" {
            report["reason"] = outcome.reason.clone().unwrap_or_else(|| {
                json!({"code": "RECIPIENT_NOT_REACHABLE", "description": "simulated failure", "sub_code": "UNSPECIFIED_SUB_CODE"})
            });
        }
        let mut body = json!({
            "app_id": delivered.app_id,
            "accepted_time": ids::now(),
            "event_time": ids::now(),
            "project_id": service.project_id,
            "message_delivery_report": report,
            "message_metadata": "",
        });
        if let Some(correlation_id) = &delivered.correlation_id {
            body["correlation_id"] = json!(correlation_id);
        }
        post(simulator, service, "message_delivery_report", &body).await;
    }
}

/// Signs and posts one callback; logs it with the webhook's answer. Returns that answer.
pub async fn post(
    simulator: &Simulator,
    service: &Service,
    kind: &'static str,
    body: &Value,
) -> SentCallback {
    let url = format!(
        "{}/{}/sms/sinchconversation/{}",
        simulator.settings.webhook_base_url, service.tenant, service.name
    );
    let text = body.to_string();
    let nonce = ids::ulid();
    let timestamp = Utc::now().timestamp().to_string();
    let headers = SignatureHeaders::signed(
        service.webhook_secret.expose_secret().as_bytes(),
        text.as_bytes(),
        &nonce,
        &timestamp,
    );
    let mut request = simulator
        .http
        .post(&url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(text.clone());
    for (name, value) in headers.to_pairs() {
        request = request.header(name, value);
    }
    let (status, answer) = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (Some(status), response.text().await.unwrap_or_default())
        }
        Err(err) => (None, err.without_url().to_string()),
    };
    tracing::info!(kind, tenant = %service.tenant, service = %service.name, status = ?status, "callback posted");
    let sent = SentCallback {
        kind,
        url,
        body: text,
        status,
        answer,
    };
    simulator.state.log_callback(sent.clone());
    sent
}
