//! One media item: fetched (SSRF-safe, from the tenant's allowed hosts), limited by the tenant's
//! media settings (size while streaming, type by sniffing),
//! stored under `inbound/{tenant}/{yyyy-mm-dd}/{event_id}/{n}-{filename}`, and the item
//! completed. A permanent failure marks the item `failed` with a reason an agent can read; a
//! transient one is returned, so the record is retried and the event never forwarded half-done.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use switchboard_shared::config::MediaSettings;
use switchboard_shared::contract::{MediaItem, MediaStatus};
use tracing::warn;

use crate::fetch::{FetchError, SafeFetcher};
use crate::store::{MediaStore, Upload};

/// Bytes looked at to sniff the content type.
const SNIFF_BYTES: usize = 512;

/// Types whose files start with a signature: a claim of one of them must be borne out.
fn has_magic(content_type: &str) -> bool {
    ["image/", "video/", "audio/"]
        .iter()
        .any(|prefix| content_type.starts_with(prefix))
        || content_type == "application/pdf"
}

/// The stored type: what the bytes are when they say so, else what the server claimed (if the
/// claim is not one that the bytes would have confirmed).
pub fn decide_content_type(claimed: Option<&str>, head: &[u8]) -> Result<String, String> {
    let claimed = claimed
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty());
    if let Some(sniffed) = infer::get(head) {
        let sniffed = sniffed.mime_type().to_owned();
        let kind = |t: &str| t.split('/').next().unwrap_or_default().to_owned();
        if let Some(claimed) = claimed.as_deref()
            && has_magic(claimed)
            && kind(claimed) != kind(&sniffed)
        {
            return Err(format!(
                "the file does not look like the {claimed} it claims to be"
            ));
        }
        return Ok(sniffed);
    }
    match claimed {
        Some(claimed) if has_magic(&claimed) => Err(format!(
            "the file does not look like the {claimed} it claims to be"
        )),
        Some(claimed) => Ok(claimed),
        None => Err("the media host did not say what the file is".into()),
    }
}

/// A file name safe in an S3 key, a header and a file system.
pub fn sanitize_filename(candidate: &str) -> String {
    let cleaned: String = candidate
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // The end is kept (it has the extension), then leading dots go (no hidden files).
    let tail: String = cleaned
        .chars()
        .rev()
        .take(100)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let short = tail.trim_start_matches('.');
    if short.chars().all(|c| c == '_' || c == '.') {
        "file".to_owned()
    } else {
        short.to_owned()
    }
}

fn filename_for(item: &MediaItem) -> String {
    let from_url = url::Url::parse(&item.source_url).ok().and_then(|url| {
        url.path_segments()
            .and_then(|mut segments| segments.next_back().map(str::to_owned))
            .filter(|last| !last.is_empty())
    });
    sanitize_filename(
        item.filename
            .as_deref()
            .or(from_url.as_deref())
            .unwrap_or("file"),
    )
}

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

/// What a tenant accepts (its `media` settings), with the size limit in force.
pub struct Limits<'a> {
    pub max_bytes: u64,
    pub media: &'a MediaSettings,
}

/// Where an item goes: its event and its place in the event's media list.
pub struct ItemPlace<'a> {
    pub tenant: &'a str,
    pub event_id: &'a str,
    pub index: usize,
    pub now: DateTime<Utc>,
}

fn fail(item: &mut MediaItem, reason: String) {
    item.status = MediaStatus::Failed;
    item.failure_reason = Some(reason);
}

/// Completes `item` in place, or says the record must be retried.
pub async fn store_item<S: MediaStore>(
    fetcher: &SafeFetcher,
    store: &S,
    limits: &Limits<'_>,
    place: &ItemPlace<'_>,
    item: &mut MediaItem,
) -> Result<(), FetchError> {
    let mut response = match fetcher
        .get_within(&item.source_url, &limits.media.allowed_hosts)
        .await
    {
        Ok(response) => response,
        Err(FetchError::Permanent(reason)) => {
            fail(item, reason);
            return Ok(());
        }
        Err(transient) => return Err(transient),
    };
    if response
        .content_length()
        .is_some_and(|length| length > limits.max_bytes)
    {
        fail(
            item,
            format!(
                "the file is larger than the limit of {} bytes",
                limits.max_bytes
            ),
        );
        return Ok(());
    }
    let claimed = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    // Enough of the start to sniff; kept, then written first.
    let mut head: Vec<u8> = Vec::new();
    let mut ended = false;
    while head.len() < SNIFF_BYTES {
        match response.chunk().await.map_err(crate::fetch::classify)? {
            Some(chunk) => head.extend_from_slice(&chunk),
            None => {
                ended = true;
                break;
            }
        }
    }
    let content_type = match decide_content_type(claimed.as_deref(), &head) {
        Ok(content_type) if limits.media.allows_type(&content_type) => content_type,
        Ok(content_type) => {
            fail(
                item,
                format!("files of type {content_type} are not accepted"),
            );
            return Ok(());
        }
        Err(reason) => {
            fail(item, reason);
            return Ok(());
        }
    };
    let filename = filename_for(item);
    let key = object_key(
        place.tenant,
        place.event_id,
        place.index,
        &filename,
        place.now,
    );
    let mut upload = store.begin(&key, &content_type, &filename);
    let mut size = head.len() as u64;
    let outcome: Result<Option<String>, FetchError> = async {
        if size > limits.max_bytes {
            return Ok(Some(format!(
                "the file is larger than the limit of {} bytes",
                limits.max_bytes
            )));
        }
        upload
            .write(Bytes::from(head))
            .await
            .map_err(|e| FetchError::Transient(e.to_string()))?;
        if !ended {
            // Enforced while streaming: a lying or missing Content-Length changes nothing.
            while let Some(chunk) = response.chunk().await.map_err(crate::fetch::classify)? {
                size += chunk.len() as u64;
                if size > limits.max_bytes {
                    return Ok(Some(format!(
                        "the file is larger than the limit of {} bytes",
                        limits.max_bytes
                    )));
                }
                upload
                    .write(chunk)
                    .await
                    .map_err(|e| FetchError::Transient(e.to_string()))?;
            }
        }
        Ok(None)
    }
    .await;
    match outcome {
        Ok(None) => {}
        Ok(Some(reason)) => {
            upload.abort().await;
            fail(item, reason);
            return Ok(());
        }
        Err(err) => {
            upload.abort().await;
            return Err(err);
        }
    }
    let stored = upload.finish().await.map_err(|err| {
        warn!(error = %err, "storing media failed");
        FetchError::Transient(err.to_string())
    })?;
    item.status = MediaStatus::Stored;
    item.s3_key = Some(key);
    item.content_type = Some(content_type);
    item.size_bytes = Some(stored.size_bytes);
    item.failure_reason = None;
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

    #[test]
    fn the_bytes_decide_the_type_and_a_false_claim_is_refused() {
        assert_eq!(
            decide_content_type(Some("application/octet-stream"), PNG).unwrap(),
            "image/png"
        );
        assert_eq!(
            decide_content_type(Some("text/plain; charset=utf-8"), b"hello").unwrap(),
            "text/plain"
        );
        assert!(decide_content_type(Some("image/png"), b"<html><script>").is_err());
        assert!(decide_content_type(None, b"???").is_err());
        assert!(decide_content_type(Some("audio/ogg"), b"OggS\0\x02\0\0\0\0\0\0\0\0").is_ok());
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(sanitize_filename("photo 1.jpg"), "photo_1.jpg");
        assert_eq!(sanitize_filename("..."), "file");
        assert_eq!(sanitize_filename("\"quote\".pdf"), "_quote_.pdf");
    }

    proptest! {
        #[test]
        fn any_name_becomes_a_short_safe_key_segment(name in ".{0,300}") {
            let safe = sanitize_filename(&name);
            prop_assert!(!safe.is_empty() && safe.len() <= 100);
            prop_assert!(safe.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')));
            prop_assert!(!safe.starts_with('.'));
        }
    }
}
