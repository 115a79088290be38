//! One media item: fetched (SSRF-safe, from the tenant's allowed hosts), limited by the tenant's
//! media settings (size while streaming, type by sniffing; `switchboard_shared::media::download`),
//! stored under `inbound/{tenant}/{yyyy-mm-dd}/{event_id}/{n}-{filename}`, and the item
//! completed. A permanent failure marks the item `failed` with a reason an agent can read; a
//! transient one is returned, so the record is retried and the event never forwarded half-done.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use switchboard_shared::contract::{MediaItem, MediaStatus};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::error::AwsError;
use switchboard_shared::media::download::{download, filename_for};

use crate::fetch::{FetchError, SafeFetcher};
use crate::store::{MediaStore, StoredObject, Upload};

pub use switchboard_shared::media::download::{Limits, decide_content_type, sanitize_filename};

pub fn object_key(
    tenant: &str,
    event_id: &str,
    index: usize,
    filename: &str,
    now: DateTime<Utc>,
) -> String {
    format!(
        "inbound/{tenant}/{}/{event_id}/{index}-{filename}",
        now.format("%Y-%m-%d")
    )
}

/// Where an item goes: its event and its place in the event's media list.
pub struct ItemPlace<'a> {
    pub tenant: &'a str,
    pub event_id: &'a str,
    pub index: usize,
    pub now: DateTime<Utc>,
}

/// Marks `item` failed for good, with why (the agent sees the reason).
pub fn fail(item: &mut MediaItem, reason: String) {
    item.status = MediaStatus::Failed;
    item.failure_reason = Some(reason);
}

/// Completes `item` in place, or says the record must be retried (also when `deadline` cuts the
/// download off: nothing is stored then).
pub async fn store_item<S: MediaStore>(
    fetcher: &SafeFetcher,
    store: &S,
    limits: &Limits<'_>,
    place: &ItemPlace<'_>,
    item: &mut MediaItem,
    deadline: &Deadline,
) -> Result<(), FetchError> {
    let filename = filename_for(item.filename.as_deref(), &item.source_url);
    let key = object_key(
        place.tenant,
        place.event_id,
        place.index,
        &filename,
        place.now,
    );
    match download(
        fetcher,
        store,
        limits,
        &item.source_url,
        &key,
        &filename,
        deadline,
    )
    .await
    {
        Ok(stored) => {
            item.status = MediaStatus::Stored;
            item.s3_key = Some(key);
            item.content_type = Some(stored.content_type);
            item.size_bytes = Some(stored.size_bytes);
            item.failure_reason = None;
            Ok(())
        }
        Err(FetchError::Permanent(reason)) => {
            fail(item, reason);
            Ok(())
        }
        Err(transient) => Err(transient),
    }
}

/// A store that remembers whether it failed: a transient failure of a download is the media
/// host's (down, slow, dripping bytes: worth giving up on after a few receives) or the media
/// bucket's (S3 unavailable: ours, like the state table; the record is retried, never given up
/// on). [`download`] reports both as transient; this tells them apart.
pub struct Watched<'a, S> {
    store: &'a S,
    failed: Arc<AtomicBool>,
}

impl<'a, S: MediaStore> Watched<'a, S> {
    pub fn new(store: &'a S) -> Self {
        Watched {
            store,
            failed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether a write or the completion of an upload failed.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }
}

impl<S: MediaStore> MediaStore for Watched<'_, S> {
    type Upload = WatchedUpload<S::Upload>;

    fn begin(&self, key: &str, content_type: &str, filename: &str) -> Self::Upload {
        WatchedUpload {
            upload: self.store.begin(key, content_type, filename),
            failed: Arc::clone(&self.failed),
        }
    }
}

pub struct WatchedUpload<U> {
    upload: U,
    failed: Arc<AtomicBool>,
}

impl<U: Upload> WatchedUpload<U> {
    fn note<T>(&self, result: Result<T, AwsError>) -> Result<T, AwsError> {
        if result.is_err() {
            self.failed.store(true, Ordering::Relaxed);
        }
        result
    }
}

impl<U: Upload> Upload for WatchedUpload<U> {
    async fn write(&mut self, chunk: Bytes) -> Result<(), AwsError> {
        let result = self.upload.write(chunk).await;
        self.note(result)
    }

    async fn finish(self) -> Result<StoredObject, AwsError> {
        let failed = Arc::clone(&self.failed);
        let result = self.upload.finish().await;
        if result.is_err() {
            failed.store(true, Ordering::Relaxed);
        }
        result
    }

    async fn abort(self) {
        self.upload.abort().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryMediaStore;
    use switchboard_shared::error::Retry;

    /// S3 refusing every part.
    struct Down;
    struct DownUpload;

    fn unavailable() -> AwsError {
        AwsError {
            operation: "UploadPart",
            code: Some("ServiceUnavailable".into()),
            http_status: Some(503),
            retry: Retry::Retryable,
            message: "S3 is unavailable".into(),
        }
    }

    impl MediaStore for Down {
        type Upload = DownUpload;
        fn begin(&self, _: &str, _: &str, _: &str) -> DownUpload {
            DownUpload
        }
    }

    impl Upload for DownUpload {
        async fn write(&mut self, _: Bytes) -> Result<(), AwsError> {
            Err(unavailable())
        }
        async fn finish(self) -> Result<StoredObject, AwsError> {
            Err(unavailable())
        }
        async fn abort(self) {}
    }

    #[tokio::test]
    async fn the_watch_tells_a_failing_bucket_from_a_working_one() {
        let working = MemoryMediaStore::default();
        let watched = Watched::new(&working);
        let mut upload = watched.begin("k", "image/png", "a.png");
        upload.write(Bytes::from_static(b"png")).await.unwrap();
        upload.finish().await.unwrap();
        assert!(!watched.failed());
        assert_eq!(working.objects.lock().unwrap()["k"].1, b"png");

        let watched = Watched::new(&Down);
        let mut upload = watched.begin("k", "image/png", "a.png");
        assert!(upload.write(Bytes::from_static(b"png")).await.is_err());
        assert!(watched.failed(), "a failed write");
        let watched = Watched::new(&Down);
        assert!(watched.begin("k", "", "").finish().await.is_err());
        assert!(watched.failed(), "a failed completion");
    }
}
