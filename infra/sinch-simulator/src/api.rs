//! The Conversation API endpoints: the OAuth2 token endpoint, `messages:send`, `events:send`,
//! contacts, the channel profile and webhook management, each checked as Sinch checks it as far
//! as the reference tells (bearer token, the project of the token's key, the app in that project,
//! the request's shape) and answered with Sinch's body, or Sinch's error body.

use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, Method};
use serde_json::{Value, json};

use crate::Simulator;
use crate::callbacks::{self, Delivered};
use crate::directory::Service;
use crate::ids;
use crate::reply::Reply;
use crate::state::Issued;
use crate::validate;

pub async fn handle(
    simulator: &Arc<Simulator>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["oauth2", "token"]) => token(simulator, headers, body).await,
        (_, ["v1", "projects", project, rest @ ..]) => {
            let service = match authorize(simulator, headers).await {
                Ok(service) => service,
                Err(reply) => return reply,
            };
            if service.project_id != *project {
                return Reply::sinch_error(403, &format!("no access to project {project}"));
            }
            project_call(simulator, &service, method, rest, body).await
        }
        _ => Reply::sinch_error(404, &format!("no such endpoint: {method} {path}")),
    }
}

async fn project_call(
    simulator: &Arc<Simulator>,
    service: &Service,
    method: &Method,
    rest: &[&str],
    body: &[u8],
) -> Reply {
    match (method.as_str(), rest) {
        ("POST", ["messages:send"]) => send_message(simulator, service, body).await,
        ("POST", ["events:send"]) => send_event(service, body),
        ("GET", ["contacts", id]) => match simulator.state.contact(&service.project_id, id) {
            Some(contact) => Reply::json(200, &contact),
            None => Reply::sinch_error(404, &format!("contact {id} not found")),
        },
        ("POST", ["contacts:getChannelProfile"]) => channel_profile(simulator, service, body),
        ("POST", ["webhooks"]) => create_webhook(simulator, service, body),
        ("GET", ["apps", app, "webhooks"]) => {
            if !service.serves_app(app) {
                return app_not_found(app);
            }
            let hooks: Vec<Value> = simulator
                .state
                .webhooks(&service.project_id)
                .into_iter()
                .filter(|hook| hook["app_id"] == *app)
                .collect();
            Reply::json(200, &json!({ "webhooks": hooks }))
        }
        ("GET", ["webhooks", id]) => simulator
            .state
            .webhooks(&service.project_id)
            .into_iter()
            .find(|hook| hook["id"] == *id)
            .map(|hook| Reply::json(200, &hook))
            .unwrap_or_else(|| Reply::sinch_error(404, &format!("webhook {id} not found"))),
        ("DELETE", ["webhooks", id]) => {
            if simulator.state.remove_webhook(&service.project_id, id) {
                Reply::json(200, &json!({}))
            } else {
                Reply::sinch_error(404, &format!("webhook {id} not found"))
            }
        }
        _ => Reply::sinch_error(
            404,
            &format!("no such endpoint: {method} …/{}", rest.join("/")),
        ),
    }
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

/// `POST /oauth2/token`: client credentials, checked against every service's access key.
async fn token(simulator: &Simulator, headers: &HeaderMap, body: &[u8]) -> Reply {
    let grant = url::form_urlencoded::parse(body)
        .find(|(name, _)| name == "grant_type")
        .map(|(_, value)| value.into_owned());
    if grant.as_deref() != Some("client_credentials") {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok());
    let Some((key_id, key_secret)) = basic.as_deref().and_then(|pair| pair.split_once(':')) else {
        return oauth_error(
            401,
            "invalid_client",
            "Basic client credentials are required",
        )
        .with_header(WWW_AUTHENTICATE, "Basic realm=\"sinch\"");
    };
    let service = match simulator.directory.authenticate(key_id, key_secret).await {
        Ok(Some(service)) => service,
        Ok(None) => {
            return oauth_error(401, "invalid_client", "unknown access key or wrong secret")
                .with_header(WWW_AUTHENTICATE, "Basic realm=\"sinch\"");
        }
        Err(err) => return Reply::sinch_error(503, &format!("config table unavailable: {err}")),
    };
    let token = ids::token();
    let ttl = simulator.settings.token_ttl;
    simulator.state.issue_token(
        token.clone(),
        Issued {
            tenant: service.tenant.clone(),
            service: service.name.clone(),
            expires_at: Instant::now() + ttl,
        },
    );
    Reply::json(
        200,
        &json!({"access_token": token, "token_type": "bearer", "expires_in": ttl.as_secs(), "scope": ""}),
    )
}

/// The service whose token this is; a 401 for no, unknown or expired tokens.
async fn authorize(simulator: &Simulator, headers: &HeaderMap) -> Result<Service, Reply> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let unauthenticated = |message: &str, challenge: &str| {
        Reply::sinch_error(401, message).with_header(WWW_AUTHENTICATE, challenge)
    };
    let Some(token) = bearer else {
        return Err(unauthenticated(
            "Request is missing a bearer token",
            "Bearer realm=\"sinch\"",
        ));
    };
    let Some(issued) = simulator.state.token(token.trim()) else {
        return Err(unauthenticated(
            "Invalid access token",
            "Bearer error=\"invalid_token\", error_description=\"The access token is invalid\"",
        ));
    };
    if Instant::now() >= issued.expires_at {
        return Err(unauthenticated(
            "The access token expired",
            "Bearer error=\"invalid_token\", error_description=\"The access token expired\"",
        ));
    }
    match simulator
        .directory
        .service(&issued.tenant, &issued.service)
        .await
    {
        Ok(Some(service)) => Ok(service),
        Ok(None) => Err(unauthenticated(
            "The access key no longer exists",
            "Bearer realm=\"sinch\"",
        )),
        Err(err) => Err(Reply::sinch_error(
            503,
            &format!("config table unavailable: {err}"),
        )),
    }
}

fn app_not_found(app_id: &str) -> Reply {
    Reply::sinch_error(404, &format!("app {app_id} not found in this project"))
}

fn parse(body: &[u8]) -> Result<Value, Reply> {
    serde_json::from_slice(body)
        .map_err(|_| Reply::sinch_error(400, "Invalid JSON payload received"))
}

/// The app of a valid request, which must be one of the token's service.
fn app_of<'a>(service: &Service, request: &'a Value) -> Result<&'a str, Reply> {
    let app_id = request["app_id"].as_str().unwrap_or_default();
    if service.serves_app(app_id) {
        Ok(app_id)
    } else {
        Err(app_not_found(app_id))
    }
}

async fn send_message(simulator: &Arc<Simulator>, service: &Service, body: &[u8]) -> Reply {
    let request = match parse(body) {
        Ok(request) => request,
        Err(reply) => return reply,
    };
    if let Err(violation) = validate::send_message(&request) {
        return Reply::invalid(&violation);
    }
    let app_id = match app_of(service, &request) {
        Ok(app_id) => app_id.to_owned(),
        Err(reply) => return reply,
    };
    // "Every channel listed must be configured on the app": here, the channels of its queues.
    let configured: Vec<String> = service
        .app_channels
        .iter()
        .filter(|(app, _)| *app == app_id)
        .map(|(_, channel)| channel.to_string())
        .collect();
    if !configured.is_empty()
        && let Some(channels) = request["channel_priority_order"].as_array()
    {
        for (index, channel) in channels.iter().enumerate() {
            let channel = channel.as_str().unwrap_or_default();
            if !configured.iter().any(|c| c == channel) {
                return Reply::invalid(&validate::Violation {
                    field: format!("channel_priority_order[{index}]"),
                    description: format!("channel {channel} is not configured on app {app_id}"),
                });
            }
        }
    }
    let message_id = ids::ulid();
    if simulator.settings.delivery_callbacks {
        let delivered = delivered_to(simulator, service, &app_id, &message_id, &request);
        let outcome = simulator.state.next_outcome();
        let simulator = Arc::clone(simulator);
        let service = service.clone();
        tokio::spawn(async move {
            callbacks::deliver(&simulator, &service, delivered, outcome).await;
        });
    }
    Reply::json(
        200,
        &json!({"message_id": message_id, "accepted_time": ids::now()}),
    )
}

/// Who the delivery reports name: the identity sent to, or the registered contact's.
fn delivered_to(
    simulator: &Simulator,
    service: &Service,
    app_id: &str,
    message_id: &str,
    request: &Value,
) -> Delivered {
    let preferred = request["channel_priority_order"][0]
        .as_str()
        .map(str::to_owned);
    let queue_channel = service.channel_of(app_id).map(|c| c.to_string());
    let (channel, identity, contact_id) = match request["recipient"]["contact_id"].as_str() {
        Some(contact_id) => {
            let contact = simulator.state.contact(&service.project_id, contact_id);
            let identities = contact
                .as_ref()
                .and_then(|c| c["channel_identities"].as_array().cloned())
                .unwrap_or_default();
            let wanted = preferred.clone().or(queue_channel.clone());
            let chosen = identities
                .iter()
                .find(|i| wanted.as_deref().is_some_and(|w| i["channel"] == w))
                .or(identities.first());
            match chosen {
                Some(identity) => (
                    identity["channel"].as_str().unwrap_or_default().to_owned(),
                    identity["identity"].as_str().unwrap_or_default().to_owned(),
                    contact_id.to_owned(),
                ),
                None => (
                    wanted.unwrap_or_else(|| "WHATSAPP".into()),
                    String::new(),
                    contact_id.to_owned(),
                ),
            }
        }
        None => {
            let identities = request["recipient"]["identified_by"]["channel_identities"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let chosen = identities
                .iter()
                .find(|i| preferred.as_deref().is_some_and(|p| i["channel"] == p))
                .or(identities.first());
            (
                chosen
                    .map(|i| i["channel"].as_str().unwrap_or_default().to_owned())
                    .unwrap_or_default(),
                chosen
                    .map(|i| i["identity"].as_str().unwrap_or_default().to_owned())
                    .unwrap_or_default(),
                String::new(),
            )
        }
    };
    Delivered {
        app_id: app_id.to_owned(),
        message_id: message_id.to_owned(),
        channel,
        identity,
        contact_id,
        metadata: request["message_metadata"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        correlation_id: request["correlation_id"].as_str().map(str::to_owned),
    }
}

fn send_event(service: &Service, body: &[u8]) -> Reply {
    let request = match parse(body) {
        Ok(request) => request,
        Err(reply) => return reply,
    };
    if let Err(violation) = validate::send_event(&request) {
        return Reply::invalid(&violation);
    }
    if let Err(reply) = app_of(service, &request) {
        return reply;
    }
    Reply::json(
        200,
        &json!({"event_id": ids::ulid(), "accepted_time": ids::now()}),
    )
}

fn channel_profile(simulator: &Simulator, service: &Service, body: &[u8]) -> Reply {
    let request = match parse(body) {
        Ok(request) => request,
        Err(reply) => return reply,
    };
    if let Err(violation) = validate::channel_profile(&request) {
        return Reply::invalid(&violation);
    }
    if let Err(reply) = app_of(service, &request) {
        return reply;
    }
    let channel = request["channel"].as_str().unwrap_or_default();
    let contact = match request["recipient"]["contact_id"].as_str() {
        Some(id) => simulator.state.contact(&service.project_id, id),
        None => {
            let identity = &request["recipient"]["identified_by"]["channel_identities"][0];
            simulator.state.contact_by_identity(
                &service.project_id,
                identity["channel"].as_str().unwrap_or(channel),
                identity["identity"].as_str().unwrap_or_default(),
            )
        }
    };
    match contact.and_then(|c| c.get("profile_name").cloned()) {
        Some(name) => Reply::json(200, &json!({"profile_name": name})),
        None => Reply::sinch_error(404, "no channel profile for this recipient"),
    }
}

/// At most 5 webhooks per app; the same target twice on an app is refused.
fn create_webhook(simulator: &Simulator, service: &Service, body: &[u8]) -> Reply {
    let mut request = match parse(body) {
        Ok(request) => request,
        Err(reply) => return reply,
    };
    if let Err(violation) = validate::new_webhook(&request) {
        return Reply::invalid(&violation);
    }
    let app_id = match app_of(service, &request) {
        Ok(app_id) => app_id.to_owned(),
        Err(reply) => return reply,
    };
    let existing: Vec<Value> = simulator
        .state
        .webhooks(&service.project_id)
        .into_iter()
        .filter(|hook| hook["app_id"] == app_id.as_str())
        .collect();
    if existing.len() >= 5 {
        return Reply::sinch_error(400, "an app has at most 5 webhooks");
    }
    if existing
        .iter()
        .any(|hook| hook["target"] == request["target"])
    {
        return Reply::sinch_error(400, "this app already has a webhook with this target");
    }
    request["id"] = json!(ids::ulid());
    if request.get("target_type").is_none() {
        request["target_type"] = json!("DISMISS");
    }
    simulator
        .state
        .add_webhook(&service.project_id, request.clone());
    Reply::json(200, &request)
}
