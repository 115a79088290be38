//! Keeping what cannot be processed: a signed callback that is not JSON is answered 400, and
//! its exact bytes are stored under `quarantine/{tenant}/{yyyy-mm-dd}/{uuid}.bin` so an operator
//! can look at it, instead of being lost.

use std::future::Future;

use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
#[error("could not store the quarantined body: {0}")]
pub struct QuarantineError(pub String);

pub trait Quarantine: Send + Sync {
    /// Stores the body and returns where.
    fn keep(
        &self,
        tenant: &str,
        body: &[u8],
        reason: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<String, QuarantineError>> + Send;
}

#[derive(Debug, Clone)]
pub struct S3Quarantine {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Quarantine {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> S3Quarantine {
        S3Quarantine {
            client,
            bucket: bucket.into(),
        }
    }
}

pub fn quarantine_key(tenant: &str, now: DateTime<Utc>) -> String {
    format!(
        "quarantine/{tenant}/{}/{}.bin",
        now.format("%Y-%m-%d"),
        uuid::Uuid::new_v4()
    )
}

impl Quarantine for S3Quarantine {
    async fn keep(
        &self,
        tenant: &str,
        body: &[u8],
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<String, QuarantineError> {
        let key = quarantine_key(tenant, now);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(ByteStream::from(body.to_vec()))
            .content_type("application/octet-stream")
            .metadata("reason", reason)
            .send()
            .await
            .map_err(|err| QuarantineError(switchboard_shared::aws::describe_error(&err)))?;
        Ok(key)
    }
}
