//! Keeping what cannot be processed as it came: the exact bytes of an authentic callback that
//! is not JSON, is too large or too broken to travel whole, or needed repair, are stored under
//! `quarantine/{tenant}/{yyyy-mm-dd}/{uuid}.bin`, so nothing Sinch sent is ever lost.

use std::future::Future;

use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};
use switchboard_shared::error::AwsError;

#[derive(Debug, thiserror::Error)]
#[error("could not store the quarantined body: {0}")]
pub struct QuarantineError(#[from] pub AwsError);

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
            .map_err(|err| QuarantineError(AwsError::from_sdk("PutObject", &err)))?;
        Ok(key)
    }
}
