//! Failures that remember whether trying again can help.
//!
//! Every function answers the same question when something fails: retry (503 to Sinch, a batch
//! item failure to SQS) or give up and say why (a failed event, a quarantined body). That
//! answer must survive the AWS SDK boundary as data (the service's error code and the HTTP
//! status), not be guessed later from a string.

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Whether the same operation, tried again later, can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retry {
    /// Throttling, timeouts, 5xx, a dropped connection: try again (with backoff).
    Retryable,
    /// The request itself is wrong, or the resource does not exist: trying again gives the
    /// same answer.
    Permanent,
}

impl Retry {
    pub fn is_retryable(self) -> bool {
        self == Retry::Retryable
    }
}

/// Anything that knows whether it is worth retrying.
pub trait Classify {
    fn retry(&self) -> Retry;

    fn is_retryable(&self) -> bool {
        self.retry().is_retryable()
    }
}

/// An AWS call that failed, with what the service said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AwsError {
    /// The SDK operation, e.g. `SendMessage`.
    pub operation: &'static str,
    /// The service's error code, e.g. `ThrottlingException`, when the service answered.
    pub code: Option<String>,
    /// The HTTP status of the service's answer, when there was one.
    pub http_status: Option<u16>,
    pub retry: Retry,
    /// A one-line description without the raw response (which may carry request data).
    pub message: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.operation)?;
        if let Some(status) = self.http_status {
            write!(f, " (HTTP {status})")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl Classify for AwsError {
    fn retry(&self) -> Retry {
        self.retry
    }
}

/// Error codes that mean "not now" even when the HTTP status alone would say otherwise
/// (several services answer throttling with 400).
const RETRYABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
    "TransactionInProgressException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "KMS.ThrottlingException",
    "KmsThrottled",
    "AWS.SimpleQueueService.KmsThrottled",
];

/// Retryable or not, from the service's answer: the code first, then the status.
pub fn classify_service_answer(code: Option<&str>, http_status: Option<u16>) -> Retry {
    if let Some(code) = code
        && RETRYABLE_CODES.contains(&code)
    {
        return Retry::Retryable;
    }
    match http_status {
        Some(429) | Some(500..=599) => Retry::Retryable,
        Some(_) => Retry::Permanent,
        // An answer without a status cannot be judged; the safe side is to try again.
        None => Retry::Retryable,
    }
}

impl AwsError {
    /// Keeps the code and status of an SDK error. Transport failures and timeouts are
    /// retryable; a request the SDK could not even build is not.
    pub fn from_sdk<E>(operation: &'static str, err: &SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let http_status = err.raw_response().map(|raw| raw.status().as_u16());
        let (code, retry) = match err {
            SdkError::ServiceError(service) => {
                let code = service.err().code().map(str::to_owned);
                let retry = classify_service_answer(code.as_deref(), http_status);
                (code, retry)
            }
            SdkError::ConstructionFailure(_) => (None, Retry::Permanent),
            // Timeouts, dispatch (connect, reset) and unparseable responses.
            _ => (None, Retry::Retryable),
        };
        AwsError {
            operation,
            code,
            http_status,
            retry,
            message: crate::aws::describe_error(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_retryable_whatever_the_status() {
        assert_eq!(
            classify_service_answer(Some("ThrottlingException"), Some(400)),
            Retry::Retryable
        );
        assert_eq!(
            classify_service_answer(Some("ProvisionedThroughputExceededException"), Some(400)),
            Retry::Retryable
        );
    }

    #[test]
    fn client_errors_are_permanent_and_server_errors_are_not() {
        assert_eq!(
            classify_service_answer(Some("InvalidMessageContents"), Some(400)),
            Retry::Permanent
        );
        assert_eq!(
            classify_service_answer(Some("NoSuchBucket"), Some(404)),
            Retry::Permanent
        );
        assert_eq!(classify_service_answer(None, Some(503)), Retry::Retryable);
        assert_eq!(classify_service_answer(None, Some(429)), Retry::Retryable);
        assert_eq!(classify_service_answer(None, None), Retry::Retryable);
    }

    #[test]
    fn the_description_names_the_operation_and_status() {
        let err = AwsError {
            operation: "SendMessage",
            code: Some("InvalidMessageContents".into()),
            http_status: Some(400),
            retry: Retry::Permanent,
            message: "InvalidMessageContents: bad char".into(),
        };
        assert_eq!(
            err.to_string(),
            "SendMessage failed (HTTP 400): InvalidMessageContents: bad char"
        );
        assert!(!err.is_retryable());
    }
}
