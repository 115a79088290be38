//! The port to the media bucket: the two things a sweep does with S3, list a page and delete a
//! batch. Behind a trait so the sweep's decisions are tested in memory, and so its requests can
//! be counted (`counting.rs`): the cost of a run is the number of these calls.

use std::future::Future;

use switchboard_shared::error::AwsError;

/// S3's limit on keys per ListObjectsV2 page and per DeleteObjects request.
pub const MAX_BATCH: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    /// When S3 last wrote it; what ages an object whose key names no day.
    pub last_modified: Option<chrono::DateTime<chrono::Utc>>,
}

/// One ListObjectsV2 page, in S3's (lexicographic) order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// With a delimiter: the `…/` prefixes one level below the listed prefix.
    pub prefixes: Vec<String>,
    /// Objects directly at this level (without a delimiter: every object under the prefix).
    pub objects: Vec<StoredObject>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<String>,
}

/// A key that DeleteObjects reported it could not delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFailure {
    pub key: String,
    /// S3's error code, e.g. `AccessDenied`, `InternalError`.
    pub code: String,
}

pub trait Bucket: Send + Sync {
    /// One page of the objects under `prefix`; with `delimited`, grouped at the next `/`.
    fn list(
        &self,
        prefix: &str,
        delimited: bool,
        continuation: Option<&str>,
    ) -> impl Future<Output = Result<Page, AwsError>> + Send;

    /// One DeleteObjects request for at most [`MAX_BATCH`] keys. `Ok` holds the keys it could
    /// not delete (a partly failed batch); every other key is gone.
    fn delete(
        &self,
        keys: &[String],
    ) -> impl Future<Output = Result<Vec<KeyFailure>, AwsError>> + Send;
}

impl<B: Bucket> Bucket for &B {
    fn list(
        &self,
        prefix: &str,
        delimited: bool,
        continuation: Option<&str>,
    ) -> impl Future<Output = Result<Page, AwsError>> + Send {
        (**self).list(prefix, delimited, continuation)
    }

    fn delete(
        &self,
        keys: &[String],
    ) -> impl Future<Output = Result<Vec<KeyFailure>, AwsError>> + Send {
        (**self).delete(keys)
    }
}
