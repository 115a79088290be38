//! Answers: JSON, and Sinch's error body (`{"error":{"code","message","status","details"}}`).

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use serde_json::{Value, json};

use crate::validate::Violation;

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            content_type: "application/json".into(),
            headers: Vec::new(),
            body: Bytes::from(value.to_string()),
        }
    }

    pub fn bytes(content_type: &str, body: Bytes) -> Reply {
        Reply {
            status: StatusCode::OK,
            content_type: content_type.to_owned(),
            headers: Vec::new(),
            body,
        }
    }

    /// Sinch's error body for `status`, with the google.rpc status name Sinch uses for it.
    pub fn sinch_error(status: u16, message: &str) -> Reply {
        Reply::json(status, &error_body(status, message, Vec::new()))
    }

    /// A 400 naming the field, with a google.rpc BadRequest detail.
    pub fn invalid(violation: &Violation) -> Reply {
        let detail = json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "field_violations": [{"field": violation.field, "description": violation.description}]
        });
        let message = format!(
            "Invalid argument: {}: {}",
            violation.field, violation.description
        );
        Reply::json(400, &error_body(400, &message, vec![detail]))
    }

    pub fn with_header(mut self, name: HeaderName, value: &str) -> Reply {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }
}

/// The google.rpc status name for an HTTP status.
pub fn rpc_status(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

fn error_body(status: u16, message: &str, details: Vec<Value>) -> Value {
    json!({"error": {"code": status, "message": message, "status": rpc_status(status), "details": details}})
}
