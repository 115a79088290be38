//! What went wrong calling Sinch, and whether trying again can help.
//!
//! Sinch answers errors in the google.rpc style, `{"error":{"code","message","status","details"}}`,
//! and some examples leave out the `error` wrapper: both are read into a [`FailureReason`], which
//! is what a failed `send_result` reports. 429 and 5xx (and no answer at all) are retryable;
//! 400, 401 (after one token refresh), 403 and 404 are not (reference §5).

use std::fmt;

use serde::Deserialize;

use crate::error::{Classify, Retry};

/// Sinch's reason for refusing a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureReason {
    /// The numeric code in the body (usually the HTTP status).
    pub code: Option<i64>,
    /// e.g. `INVALID_ARGUMENT`, `NOT_FOUND`, `RESOURCE_EXHAUSTED`.
    pub status: Option<String>,
    pub message: String,
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.status {
            Some(status) => write!(f, "{status}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Longest piece of a non-JSON error body kept in a reason (they end up in logs and events).
const MAX_RAW_REASON_CHARS: usize = 200;

impl FailureReason {
    /// Reads Sinch's error body, wrapped or not; anything else becomes a short text reason.
    pub fn from_body(http_status: u16, body: &[u8]) -> FailureReason {
        #[derive(Deserialize)]
        struct Wrapped {
            error: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            #[serde(default)]
            code: Option<i64>,
            #[serde(default)]
            message: Option<String>,
            #[serde(default)]
            status: Option<String>,
        }
        let inner = serde_json::from_slice::<Wrapped>(body)
            .map(|wrapped| wrapped.error)
            .or_else(|_| serde_json::from_slice::<Inner>(body));
        match inner {
            Ok(inner) if inner.message.is_some() || inner.status.is_some() => FailureReason {
                code: inner.code,
                status: inner.status.filter(|s| !s.is_empty()),
                message: inner.message.unwrap_or_default(),
            },
            _ => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                let message = if text.is_empty() {
                    http::StatusCode::from_u16(http_status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("no reason given")
                        .to_owned()
                } else {
                    text.chars().take(MAX_RAW_REASON_CHARS).collect()
                };
                FailureReason {
                    code: None,
                    status: None,
                    message,
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinchError {
    /// Sinch answered with an error status.
    #[error("{operation}: Sinch answered HTTP {http_status}: {reason}")]
    Api {
        operation: &'static str,
        http_status: u16,
        reason: FailureReason,
    },
    /// The OAuth2 token endpoint refused (bad credentials: permanent) or failed.
    #[error("{operation}: the token request failed{}: {message}", http_status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Token {
        operation: &'static str,
        http_status: Option<u16>,
        message: String,
    },
    /// No answer: connection refused or reset, timeout.
    #[error("{operation}: no answer from Sinch: {message}")]
    Transport {
        operation: &'static str,
        message: String,
    },
    /// The request's time ran out before Sinch answered or before another attempt fitted.
    #[error("{operation}: the deadline passed before Sinch answered")]
    Deadline { operation: &'static str },
    /// Sinch answered 2xx with a body that is not what the API describes. Not retried: a send
    /// that Sinch accepted must not be sent again.
    #[error("{operation}: unexpected answer from Sinch: {message}")]
    UnexpectedAnswer {
        operation: &'static str,
        message: String,
    },
    /// The service's configuration cannot make a request (e.g. a base URL that is not a URL).
    #[error("{operation}: {message}")]
    Config {
        operation: &'static str,
        message: String,
    },
}

impl SinchError {
    /// The HTTP status Sinch (or its token endpoint) answered with, when it answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            SinchError::Api { http_status, .. } => Some(*http_status),
            SinchError::Token { http_status, .. } => *http_status,
            _ => None,
        }
    }

    /// A stable code for a failed `send_result`: Sinch's `status` when it gave one.
    pub fn code(&self) -> String {
        match self {
            SinchError::Api {
                reason,
                http_status,
                ..
            } => reason
                .status
                .clone()
                .unwrap_or_else(|| format!("HTTP_{http_status}")),
            SinchError::Token { .. } => "SINCH_AUTH_FAILED".into(),
            SinchError::Transport { .. } => "SINCH_UNREACHABLE".into(),
            SinchError::Deadline { .. } => "DEADLINE_EXCEEDED".into(),
            SinchError::UnexpectedAnswer { .. } => "SINCH_UNEXPECTED_ANSWER".into(),
            SinchError::Config { .. } => "SERVICE_MISCONFIGURED".into(),
        }
    }

    /// Sinch's own message when it gave one, else this error's description.
    pub fn reason_message(&self) -> String {
        match self {
            SinchError::Api { reason, .. } => reason.message.clone(),
            other => other.to_string(),
        }
    }
}

/// 429 and 5xx: "try again with exponential back-off" (reference §5).
pub fn retry_for_status(http_status: u16) -> Retry {
    match http_status {
        429 | 500..=599 => Retry::Retryable,
        _ => Retry::Permanent,
    }
}

impl Classify for SinchError {
    fn retry(&self) -> Retry {
        match self {
            SinchError::Api { http_status, .. } => retry_for_status(*http_status),
            SinchError::Token { http_status, .. } => match http_status {
                Some(status) => retry_for_status(*status),
                None => Retry::Retryable,
            },
            SinchError::Transport { .. } | SinchError::Deadline { .. } => Retry::Retryable,
            SinchError::UnexpectedAnswer { .. } | SinchError::Config { .. } => Retry::Permanent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapped_form_is_read() {
        let body = br#"{"error":{"code":400,"message":"Invalid argument","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo"}]}}"#;
        let reason = FailureReason::from_body(400, body);
        assert_eq!(
            reason,
            FailureReason {
                code: Some(400),
                status: Some("INVALID_ARGUMENT".into()),
                message: "Invalid argument".into()
            }
        );
        assert_eq!(reason.to_string(), "INVALID_ARGUMENT: Invalid argument");
    }

    #[test]
    fn the_unwrapped_form_is_read() {
        let body = br#"{"code":404,"message":"app not found","status":"NOT_FOUND","details":[]}"#;
        let reason = FailureReason::from_body(404, body);
        assert_eq!(reason.status.as_deref(), Some("NOT_FOUND"));
        assert_eq!(reason.message, "app not found");
        assert_eq!(reason.code, Some(404));
    }

    #[test]
    fn other_bodies_become_a_short_text_reason() {
        assert_eq!(
            FailureReason::from_body(503, b"").message,
            "Service Unavailable"
        );
        assert_eq!(
            FailureReason::from_body(502, b"<html>bad gateway</html>").message,
            "<html>bad gateway</html>"
        );
        let long = "x".repeat(1000);
        assert_eq!(
            FailureReason::from_body(500, long.as_bytes()).message.len(),
            200
        );
        let reason = FailureReason::from_body(400, br#"{"error":"invalid_client"}"#);
        assert_eq!(reason.status, None);
        assert_eq!(reason.message, r#"{"error":"invalid_client"}"#);
    }

    #[test]
    fn throttling_and_server_errors_are_retryable_and_client_errors_are_not() {
        let api = |status| SinchError::Api {
            operation: "SendMessage",
            http_status: status,
            reason: FailureReason::from_body(status, b""),
        };
        for status in [429, 500, 501, 503] {
            assert!(api(status).is_retryable(), "{status}");
        }
        for status in [400, 401, 403, 404] {
            assert!(!api(status).is_retryable(), "{status}");
        }
        assert!(
            SinchError::Transport {
                operation: "x",
                message: "reset".into()
            }
            .is_retryable()
        );
        assert!(SinchError::Deadline { operation: "x" }.is_retryable());
        assert!(
            !SinchError::UnexpectedAnswer {
                operation: "x",
                message: "m".into()
            }
            .is_retryable()
        );
        let bad_credentials = SinchError::Token {
            operation: "x",
            http_status: Some(401),
            message: "m".into(),
        };
        assert!(!bad_credentials.is_retryable());
    }

    #[test]
    fn the_code_is_sinchs_status_when_given() {
        let err = SinchError::Api {
            operation: "SendMessage",
            http_status: 400,
            reason: FailureReason::from_body(
                400,
                br#"{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}"#,
            ),
        };
        assert_eq!(err.code(), "INVALID_ARGUMENT");
        assert_eq!(err.reason_message(), "bad");
        assert_eq!(err.http_status(), Some(400));
        assert_eq!(
            err.to_string(),
            "SendMessage: Sinch answered HTTP 400: INVALID_ARGUMENT: bad"
        );
    }
}
