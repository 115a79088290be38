//! Counts a bucket's requests. The sweep wraps its bucket in this for every run, so the
//! summary and the metrics say what the run cost in S3 requests (the point of the design: that
//! number follows what expires, not what is stored).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use switchboard_shared::error::AwsError;

use crate::bucket::{Bucket, KeyFailure, Page};

/// Requests sent, whether they succeeded or not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct S3Requests {
    /// ListObjectsV2 pages.
    pub list: u64,
    /// DeleteObjects batches.
    pub delete: u64,
}

impl S3Requests {
    pub fn total(&self) -> u64 {
        self.list + self.delete
    }
}

#[derive(Debug, Default)]
struct Counters {
    list: AtomicU64,
    delete: AtomicU64,
}

pub struct Counting<B> {
    inner: B,
    counters: Arc<Counters>,
}

impl<B: Bucket> Counting<B> {
    pub fn new(inner: B) -> Counting<B> {
        Counting {
            inner,
            counters: Arc::default(),
        }
    }

    pub fn requests(&self) -> S3Requests {
        S3Requests {
            list: self.counters.list.load(Ordering::Relaxed),
            delete: self.counters.delete.load(Ordering::Relaxed),
        }
    }
}

impl<B: Bucket> Bucket for Counting<B> {
    async fn list(
        &self,
        prefix: &str,
        delimited: bool,
        continuation: Option<&str>,
    ) -> Result<Page, AwsError> {
        self.counters.list.fetch_add(1, Ordering::Relaxed);
        self.inner.list(prefix, delimited, continuation).await
    }

    async fn delete(&self, keys: &[String]) -> Result<Vec<KeyFailure>, AwsError> {
        self.counters.delete.fetch_add(1, Ordering::Relaxed);
        self.inner.delete(keys).await
    }
}
