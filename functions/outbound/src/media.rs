//! Agents' attachments by S3 key: the object must exist under the tenant's `outbound/` prefix
//! (the command's validation checked the key's shape), and Sinch gets its public URL,
//! `{public base}/{key}`, served by the CloudFront distribution over the private bucket (200
//! with the file itself, its Content-Length and stored Content-Type, no redirect), which lives
//! exactly as long as the object: retention deletes it on the tenant's schedule.
//!
//! Media by URL is passed on as it is, unless the tenant has `outbound.fetch_media_urls`: then
//! [`crate::fetch_media`] stores each URL's file here first, under [`fetched_key`], through the
//! same streamed upload as the inbound stage ([`MediaStore`]).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use aws_sdk_s3::operation::head_object::HeadObjectError;
use chrono::{DateTime, Utc};
use switchboard_shared::error::AwsError;
use switchboard_shared::media::store::{MediaStore, MemoryMediaStore, S3MediaStore};

/// What HeadObject says of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub content_type: Option<String>,
    pub size_bytes: Option<u64>,
}

/// The `outbound/` objects of the media bucket: looked up (an agent's S3 key), or written (a
/// fetched media URL).
pub trait OutboundObjects: MediaStore {
    /// The object's metadata; `None` when there is no such object (or it is not readable).
    fn head(&self, key: &str) -> impl Future<Output = Result<Option<ObjectInfo>, AwsError>> + Send;
}

#[derive(Debug, Clone)]
pub struct S3OutboundObjects {
    client: aws_sdk_s3::Client,
    bucket: String,
    uploads: S3MediaStore,
}

impl S3OutboundObjects {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        let bucket = bucket.into();
        S3OutboundObjects {
            uploads: S3MediaStore::new(client.clone(), bucket.clone()),
            client,
            bucket,
        }
    }
}

impl MediaStore for S3OutboundObjects {
    type Upload = <S3MediaStore as MediaStore>::Upload;

    fn begin(&self, key: &str, content_type: &str, filename: &str) -> Self::Upload {
        self.uploads.begin(key, content_type, filename)
    }
}

/// Where a fetched media URL's file goes: `outbound/{tenant}/{yyyy-mm-dd}/{random}/{filename}`,
/// the shape agents' own attachments have, so retention counts the tenant's
/// `public_attachment_days` from today and the public URL cannot be guessed (32 random hex
/// characters).
pub fn fetched_key(tenant: &str, filename: &str, now: DateTime<Utc>) -> String {
    format!(
        "outbound/{tenant}/{}/{}/{filename}",
        now.format("%Y-%m-%d"),
        uuid::Uuid::new_v4().simple()
    )
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

/// In memory, for handler tests: key → info; can be told to fail. Uploads (fetched media) are
/// kept with their bytes and found by `head` too.
#[derive(Default)]
pub struct MemoryOutboundObjects {
    objects: Mutex<HashMap<String, ObjectInfo>>,
    failing: Mutex<Option<AwsError>>,
    uploads: MemoryMediaStore,
}

impl MediaStore for MemoryOutboundObjects {
    type Upload = <MemoryMediaStore as MediaStore>::Upload;

    fn begin(&self, key: &str, content_type: &str, filename: &str) -> Self::Upload {
        self.uploads.begin(key, content_type, filename)
    }
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

    /// Every uploaded object: key → (content type, bytes).
    pub fn uploaded(&self) -> HashMap<String, (String, Vec<u8>)> {
        self.uploads
            .objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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
        if let Some(info) = self
            .objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
        {
            return Ok(Some(info.clone()));
        }
        Ok(self
            .uploads
            .objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .map(|(content_type, bytes)| ObjectInfo {
                content_type: Some(content_type.clone()),
                size_bytes: Some(bytes.len() as u64),
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fetched_key_is_dated_today_and_unguessable() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, 5, 0, 0).unwrap();
        let key = fetched_key("demo", "photo.jpg", now);
        let parts: Vec<&str> = key.split('/').collect();
        assert_eq!(parts[..3], ["outbound", "demo", "2026-12-01"]);
        assert!(parts[3].len() >= 22 && parts[3].chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(parts[4], "photo.jpg");
        assert_ne!(key, fetched_key("demo", "photo.jpg", now));
        assert_eq!(
            switchboard_shared::media::expiry::key_day(&key),
            chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
            "retention reads the day from the key"
        );
    }

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
