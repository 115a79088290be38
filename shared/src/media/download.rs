//! One URL into one S3 object, within a tenant's media limits: fetched SSRF-safe (from the
//! tenant's allowed hosts), the size enforced while streaming (not only from Content-Length),
//! the type decided by sniffing the first bytes, and the bytes streamed to the store as they
//! arrive. The inbound stage stores customers' media this way, and the outbound function agents'
//! media URLs when the tenant asks for it.
//!
//! A failure says whether it can pass: [`FetchError::Permanent`] (a 404, a blocked address, a
//! file too large or of a type not accepted) carries a reason a person can read;
//! [`FetchError::Transient`] (a timeout, a 5xx, S3 unavailable, no time left) means "try the
//! record again".
//!
//! The whole download runs under the caller's [`Deadline`]: the fetcher's connect and read
//! timeouts catch a host that stops answering, the deadline a host that answers too slowly for
//! the invocation (a slow but steady body never trips a read timeout). Cut off, a download is a
//! transient failure that leaves no object and no open multipart upload behind: a file stored
//! in part is never handed on.

use bytes::Bytes;

use crate::config::MediaSettings;
use crate::deadline::{Deadline, DeadlineExceeded};
use crate::media::fetch::{FetchError, SafeFetcher, classify};
use crate::media::store::{MediaStore, Upload};

/// Bytes looked at to sniff the content type.
const SNIFF_BYTES: usize = 512;

/// What a tenant accepts (its `media` settings), with the size limit in force.
pub struct Limits<'a> {
    pub max_bytes: u64,
    pub media: &'a MediaSettings,
}

/// What was stored under the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// As sniffed from the bytes (or the server's claim when the bytes do not say).
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256_hex: String,
}

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

/// The safe file name of a download: the name given, else the URL's last path segment, else
/// `file`.
pub fn filename_for(given: Option<&str>, url: &str) -> String {
    let from_url = url::Url::parse(url).ok().and_then(|url| {
        url.path_segments()
            .and_then(|mut segments| segments.next_back().map(str::to_owned))
            .filter(|last| !last.is_empty())
    });
    sanitize_filename(given.or(from_url.as_deref()).unwrap_or("file"))
}

/// A body that stops midway is the network's doing: worth another try.
fn read_failed(err: reqwest::Error) -> FetchError {
    match classify(err) {
        FetchError::Permanent(reason) | FetchError::Transient(reason) => {
            FetchError::Transient(reason)
        }
    }
}

/// The reason given when the deadline cuts a download off (the URL is never in it: it may be
/// signed).
pub const OUT_OF_TIME: &str = "the media did not arrive within the invocation's time";

fn out_of_time(_: DeadlineExceeded) -> FetchError {
    FetchError::Transient(OUT_OF_TIME.into())
}

fn too_large(limits: &Limits<'_>) -> FetchError {
    FetchError::Permanent(format!(
        "the file is larger than the limit of {} bytes",
        limits.max_bytes
    ))
}

/// Fetches `url` and stores it under `key` (with `filename` in its Content-Disposition), all of
/// it before `deadline`. Nothing is left under `key` when it fails (a multipart upload is
/// aborted).
pub async fn download<S: MediaStore>(
    fetcher: &SafeFetcher,
    store: &S,
    limits: &Limits<'_>,
    url: &str,
    key: &str,
    filename: &str,
    deadline: &Deadline,
) -> Result<Downloaded, FetchError> {
    let mut response = deadline
        .run(
            "fetching media",
            fetcher.get_within(url, &limits.media.allowed_hosts),
        )
        .await
        .map_err(out_of_time)??;
    if response
        .content_length()
        .is_some_and(|length| length > limits.max_bytes)
    {
        return Err(too_large(limits));
    }
    let claimed = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    // Enough of the start to sniff; kept, then written first.
    let mut head: Vec<u8> = Vec::new();
    let mut ended = false;
    deadline
        .run("fetching media", async {
            while head.len() < SNIFF_BYTES {
                match response.chunk().await.map_err(read_failed)? {
                    Some(chunk) => head.extend_from_slice(&chunk),
                    None => {
                        ended = true;
                        break;
                    }
                }
            }
            Ok::<(), FetchError>(())
        })
        .await
        .map_err(out_of_time)??;
    let content_type = match decide_content_type(claimed.as_deref(), &head) {
        Ok(content_type) if limits.media.allows_type(&content_type) => content_type,
        Ok(content_type) => {
            return Err(FetchError::Permanent(format!(
                "files of type {content_type} are not accepted"
            )));
        }
        Err(reason) => return Err(FetchError::Permanent(reason)),
    };
    let mut upload = store.begin(key, &content_type, filename);
    let mut size = head.len() as u64;
    let streamed = deadline.run("fetching media", async {
        if size > limits.max_bytes {
            return Err(too_large(limits));
        }
        upload
            .write(Bytes::from(head))
            .await
            .map_err(|e| FetchError::Transient(e.to_string()))?;
        if !ended {
            // Enforced while streaming: a lying or missing Content-Length changes nothing.
            while let Some(chunk) = response.chunk().await.map_err(read_failed)? {
                size += chunk.len() as u64;
                if size > limits.max_bytes {
                    return Err(too_large(limits));
                }
                upload
                    .write(chunk)
                    .await
                    .map_err(|e| FetchError::Transient(e.to_string()))?;
            }
        }
        Ok::<(), FetchError>(())
    });
    // Cut off by the deadline, the stream future is dropped mid-read; the upload it wrote to
    // is still ours to abort.
    if let Err(err) = streamed.await.map_err(out_of_time).and_then(|done| done) {
        upload.abort().await;
        return Err(err);
    }
    // Completing the upload is the last step; cut off here, S3 may or may not complete it.
    // Either way the caller hears "transient" and never hands the key on; the retry stores the
    // file again (the stage under the same key), and an upload left open is removed by the
    // bucket's lifecycle rule.
    let stored = deadline
        .run("storing media", upload.finish())
        .await
        .map_err(out_of_time)?
        .map_err(|err| {
            tracing::warn!(error = %err, "storing media failed");
            FetchError::Transient(err.to_string())
        })?;
    Ok(Downloaded {
        content_type,
        size_bytes: stored.size_bytes,
        sha256_hex: stored.sha256_hex,
    })
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

    #[test]
    fn the_name_given_wins_then_the_urls_last_segment() {
        assert_eq!(
            filename_for(Some("Invoice 7.pdf"), "https://x.example/a/b.pdf"),
            "Invoice_7.pdf"
        );
        assert_eq!(
            filename_for(None, "https://x.example/a/b.pdf?sig=1"),
            "b.pdf"
        );
        assert_eq!(filename_for(None, "https://x.example/"), "file");
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
