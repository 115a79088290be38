//! Agents' attachments by S3 key: the object must exist under the tenant's `outbound/` prefix
//! (the command's validation checked the key's shape), and Sinch gets its public URL,
//! `{public base}/{key}`, served by the CloudFront distribution over the private bucket (200
//! with the file itself, its Content-Length and stored Content-Type, no redirect), which lives
//! exactly as long as the object: retention deletes it on the tenant's schedule.
//!
//! Media by https URL is passed on as it is. Fetching a private URL into `outbound/` first (the
//! tenant option of the issue) is not built yet.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use aws_sdk_s3::operation::head_object::HeadObjectError;
use switchboard_shared::error::AwsError;

/// What HeadObject says of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub content_type: Option<String>,
    pub size_bytes: Option<u64>,
}

pub trait OutboundObjects: Send + Sync {
    /// The object's metadata; `None` when there is no such object (or it is not readable).
    fn head(&self, key: &str) -> impl Future<Output = Result<Option<ObjectInfo>, AwsError>> + Send;
}

#[derive(Debug, Clone)]
pub struct S3OutboundObjects {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3OutboundObjects {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3OutboundObjects {
            client,
            bucket: bucket.into(),
        }
    }
}

impl OutboundObjects for S3OutboundObjects {
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
                content_type: head.content_type,
                size_bytes: head.content_length.and_then(|n| u64::try_from(n).ok()),
            })),
            Err(err) => {
                let not_found = matches!(&err, aws_sdk_s3::error::SdkError::ServiceError(service)
                    if matches!(service.err(), HeadObjectError::NotFound(_)));
                let err = AwsError::from_sdk("HeadObject", &err);
                // S3 answers 403 instead of 404 to a caller without s3:ListBucket, which this
                // function does not have: both mean "no object this command may send".
                if not_found || matches!(err.http_status, Some(403 | 404)) {
                    return Ok(None);
                }
                Err(err)
            }
        }
    }
}

/// The public URL of `key` under `base`: each key segment percent-encoded, so a file name with
/// spaces or `#` still names the object.
pub fn public_url(base: &str, key: &str) -> Option<String> {
    let mut url = url::Url::parse(base).ok()?;
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(key.split('/'));
    Some(url.to_string())
}

/// In memory, for handler tests: key → info; can be told to fail.
#[derive(Default)]
pub struct MemoryOutboundObjects {
    objects: Mutex<HashMap<String, ObjectInfo>>,
    failing: Mutex<Option<AwsError>>,
}

impl MemoryOutboundObjects {
    pub fn insert(&self, key: &str, content_type: &str, size_bytes: u64) {
        self.objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                key.to_owned(),
                ObjectInfo {
                    content_type: Some(content_type.to_owned()),
                    size_bytes: Some(size_bytes),
                },
            );
    }

    pub fn fail_with(&self, failure: Option<AwsError>) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = failure;
    }
}

impl OutboundObjects for MemoryOutboundObjects {
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, AwsError> {
        if let Some(err) = self
            .failing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(err);
        }
        Ok(self
            .objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_is_the_base_and_the_key_with_each_segment_encoded() {
        assert_eq!(
            public_url(
                "https://d111.cloudfront.net",
                "outbound/acme/2026-11-21/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/invoice.pdf"
            )
            .as_deref(),
            Some(
                "https://d111.cloudfront.net/outbound/acme/2026-11-21/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/invoice.pdf"
            )
        );
        assert_eq!(
            public_url(
                "http://127.0.0.1:4567/media/",
                "outbound/a/d/r/my file#1.pdf"
            )
            .as_deref(),
            Some("http://127.0.0.1:4567/media/outbound/a/d/r/my%20file%231.pdf")
        );
    }
}
