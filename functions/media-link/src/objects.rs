//! The bucket as the link handler sees it: is the object still there (and what is it), and a
//! short presigned GET for it. An S3 implementation, and an in-memory one for the handler's
//! decision-table tests.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use switchboard_shared::error::{AwsError, Retry};

/// What a HEAD says about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub content_type: Option<String>,
}

/// The response headers a presigned GET makes S3 send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presign<'a> {
    pub key: &'a str,
    pub content_type: &'a str,
    pub content_disposition: &'a str,
    /// When the URL starts being valid (the handler's clock).
    pub start: SystemTime,
    pub expires_in: Duration,
}

pub trait MediaObjects: Send + Sync {
    /// `None` when the object does not exist (retention deleted it).
    fn head(&self, key: &str) -> impl Future<Output = Result<Option<ObjectInfo>, AwsError>> + Send;
    /// A URL that GETs the object; a bearer credential, never logged.
    fn presign_get(
        &self,
        presign: &Presign<'_>,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
}

#[derive(Debug, Clone)]
pub struct S3Objects {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Objects {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> S3Objects {
        S3Objects {
            client,
            bucket: bucket.into(),
        }
    }
}

fn local_error(operation: &'static str, message: String) -> AwsError {
    AwsError {
        operation,
        code: None,
        http_status: None,
        retry: Retry::Permanent,
        message,
    }
}

impl MediaObjects for S3Objects {
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, AwsError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(ObjectInfo {
                content_type: head.content_type().map(str::to_owned),
            })),
            // Without s3:ListBucket (which this role does not have, on purpose) S3 answers 403
            // rather than 404 for a key that does not exist: both mean "not there for us".
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|service| service.is_not_found())
                    || err
                        .raw_response()
                        .is_some_and(|raw| matches!(raw.status().as_u16(), 403 | 404)) =>
            {
                Ok(None)
            }
            Err(err) => Err(AwsError::from_sdk("HeadObject", &err)),
        }
    }

    async fn presign_get(&self, presign: &Presign<'_>) -> Result<String, AwsError> {
        let config = PresigningConfig::builder()
            .start_time(presign.start)
            .expires_in(presign.expires_in)
            .build()
            .map_err(|err| local_error("PresignGetObject", err.to_string()))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(presign.key)
            .response_content_type(presign.content_type)
            .response_content_disposition(presign.content_disposition)
            .presigned(config);
        // Presigning is local: no request is sent.
        let presigned = request
            .await
            .map_err(|err| local_error("PresignGetObject", err.to_string()))?;
        Ok(presigned.uri().to_owned())
    }
}

/// Objects in memory, and a switch that makes S3 "unavailable".
#[derive(Debug, Default)]
pub struct MemoryObjects {
    objects: Mutex<HashMap<String, ObjectInfo>>,
    unavailable: Mutex<bool>,
}

impl MemoryObjects {
    pub fn put(&self, key: &str, content_type: &str) {
        self.objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                key.to_owned(),
                ObjectInfo {
                    content_type: Some(content_type.to_owned()),
                },
            );
    }

    pub fn delete(&self, key: &str) {
        self.objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    pub fn set_unavailable(&self, unavailable: bool) {
        *self.unavailable.lock().unwrap_or_else(|p| p.into_inner()) = unavailable;
    }
}

impl MediaObjects for MemoryObjects {
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, AwsError> {
        if *self.unavailable.lock().unwrap_or_else(|p| p.into_inner()) {
            return Err(AwsError {
                operation: "HeadObject",
                code: Some("SlowDown".into()),
                http_status: Some(503),
                retry: Retry::Retryable,
                message: "SlowDown: please reduce your request rate".into(),
            });
        }
        Ok(self
            .objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned())
    }

    async fn presign_get(&self, presign: &Presign<'_>) -> Result<String, AwsError> {
        let start = presign
            .start
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        Ok(format!(
            "https://bucket.memory/{}?start={start}&expires={}&type={}&disposition={}",
            presign.key,
            presign.expires_in.as_secs(),
            presign.content_type,
            presign.content_disposition,
        ))
    }
}
