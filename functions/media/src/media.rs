//! One media item: fetched (SSRF-safe, from the tenant's allowed hosts), limited by the tenant's
//! media settings (size while streaming, type by sniffing; `switchboard_shared::media::download`),
//! stored under `inbound/{tenant}/{yyyy-mm-dd}/{event_id}/{n}-{filename}`, and the item
//! completed. A permanent failure marks the item `failed` with a reason an agent can read; a
//! transient one is returned, so the record is retried and the event never forwarded half-done.

use chrono::{DateTime, Utc};
use switchboard_shared::contract::{MediaItem, MediaStatus};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::media::download::{download, filename_for};

use crate::fetch::{FetchError, SafeFetcher};
use crate::store::MediaStore;

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
