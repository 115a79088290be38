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

/// Script-capable and markup types that a browser (or a viewer it hands the file to) would
/// run, render as a page or transform: never stored, whatever a tenant's `allowed_types` say,
/// whether the server declared them or the bytes show them. Every `+xml` type is refused as
/// well ([`never_stored`]): SVG, XHTML, XSLT and any XML a browser could style or script.
const NEVER_STORED: &[&str] = &[
    "text/html",
    "application/xhtml+xml",
    "application/xml",
    "text/xml",
    "text/xsl",
    "application/xslt+xml",
    "application/xsl",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "text/x-javascript",
    "text/ecmascript",
    "application/ecmascript",
    "application/x-ecmascript",
    "text/x-ecmascript",
    "text/jscript",
    "text/livescript",
    "text/vbscript",
    "text/x-component",
    "application/hta",
    "application/x-shockwave-flash",
    "application/wasm",
    "message/rfc822",
    "multipart/related",
    "application/x-mimearchive",
];

/// Whether a type (parameters and case aside) is one a browser would run or render as a page:
/// the list above and every `+xml` type.
pub fn never_stored(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    NEVER_STORED.contains(&essence.as_str()) || essence.ends_with("+xml")
}

/// Whether the first bytes are markup a browser would render (HTML, XML, SVG, XSL): the
/// patterns of the WHATSG MIME sniffing standard for HTML, and the start of any XML document,
/// after a byte-order mark and white space. `infer` knows only some of them.
pub fn looks_like_markup(head: &[u8]) -> bool {
    let head = head
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(head)
        .trim_ascii_start()
        .to_ascii_lowercase();
    const TAGS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<svg",
        b"<xsl:",
        b"<math",
        b"<object",
        b"<embed",
    ];
    if head.starts_with(b"<?xml") || head.starts_with(b"<!--") {
        return true;
    }
    // A tag name ends with white space or `>` (so `<b` does not catch `<bogus text`).
    TAGS.iter().any(|tag| {
        head.strip_prefix(*tag).is_some_and(|rest| {
            matches!(
                rest.first(),
                Some(b' ' | b'>' | b'\t' | b'\n' | b'\r' | b'/')
            ) || tag.ends_with(b":")
        })
    })
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
    // What a browser would run is refused before any tenant setting is asked: as declared,
    // as sniffed, and as the first bytes look.
    if let Some(declared) = claimed.as_deref().filter(|c| never_stored(c)) {
        let declared = declared.split(';').next().unwrap_or_default().trim();
        return Err(FetchError::Permanent(format!(
            "files of type {} are not accepted",
            declared.to_ascii_lowercase()
        )));
    }
    let content_type = match decide_content_type(claimed.as_deref(), &head) {
        Ok(content_type) if never_stored(&content_type) => {
            return Err(FetchError::Permanent(format!(
                "files of type {content_type} are not accepted"
            )));
        }
        Ok(_) if looks_like_markup(&head) => {
            return Err(FetchError::Permanent(
                "the file is HTML or XML markup, which is not accepted".into(),
            ));
        }
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

    #[test]
    fn script_and_markup_types_are_never_stored() {
        for bad in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            "application/xhtml+xml",
            "image/svg+xml",
            "application/xslt+xml",
            "text/xsl",
            "application/xml",
            "text/xml",
            "application/rss+xml",
            "application/vnd.example+xml",
            "application/javascript",
            "text/javascript",
            "application/x-javascript",
            "text/ecmascript",
            "text/vbscript",
            "message/rfc822",
        ] {
            assert!(never_stored(bad), "{bad}");
        }
        for ok in [
            "image/png",
            "application/pdf",
            "text/plain",
            "text/csv",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/zip",
        ] {
            assert!(!never_stored(ok), "{ok}");
        }
    }

    #[test]
    fn markup_is_recognised_by_its_first_bytes() {
        for markup in [
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>x</script></svg>"[..],
            b"<?xml version=\"1.0\"?><svg/>",
            b"\xef\xbb\xbf  \n<!DOCTYPE html><p>hi",
            b"<HTML><body>",
            b"<script>alert(1)</script>",
            b"<xsl:stylesheet version=\"1.0\">",
            b"<!-- a comment --><div>",
            b"<b>bold</b>",
        ] {
            assert!(
                looks_like_markup(markup),
                "{}",
                String::from_utf8_lossy(markup)
            );
        }
        for plain in [
            &b"hello <b> world"[..],
            b"<bogus text",
            b"name,phone\n",
            b"BEGIN:VCARD",
            PNG,
            b"%PDF-1.7",
            b"",
        ] {
            assert!(
                !looks_like_markup(plain),
                "{}",
                String::from_utf8_lossy(plain)
            );
        }
    }

    /// A loopback server answering every request with `content_type` and `body`.
    async fn serving(content_type: &'static str, body: &'static [u8]) -> std::net::SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.write_all(body).await;
                let _ = socket.shutdown().await;
            }
        });
        addr
    }

    async fn fetch_as_tenant(
        content_type: &'static str,
        body: &'static [u8],
        allowed_types: &[&str],
    ) -> Result<Downloaded, FetchError> {
        let addr = serving(content_type, body).await;
        let fetcher = SafeFetcher::new(
            crate::media::address_policy::AddressPolicy::with_allowed_local(&addr.to_string())
                .unwrap(),
        )
        .unwrap();
        let store = crate::media::store::MemoryMediaStore::default();
        let media = MediaSettings {
            allowed_types: allowed_types.iter().map(|t| (*t).to_owned()).collect(),
            ..MediaSettings::default()
        };
        let limits = Limits {
            max_bytes: 1 << 20,
            media: &media,
        };
        let result = download(
            &fetcher,
            &store,
            &limits,
            &format!("http://{addr}/file"),
            "inbound/acme/2026-12-01/e/0-file",
            "file",
            &Deadline::never(),
        )
        .await;
        if result.is_err() {
            assert!(store.objects.lock().unwrap().is_empty(), "nothing stored");
        }
        result
    }

    #[tokio::test]
    async fn a_browser_runnable_file_is_refused_whatever_the_tenant_allows() {
        let svg: &'static [u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(document.domain)</script></svg>";
        // A tenant that accepts every image and all plain text: none of these gets through.
        let tenant = ["image/*", "text/*", "application/vnd.example*"];
        for (declared, body, expected) in [
            (
                "image/svg+xml",
                svg,
                "files of type image/svg+xml are not accepted",
            ),
            (
                "text/html; charset=utf-8",
                b"hello".as_slice(),
                "files of type text/html are not accepted",
            ),
            (
                "application/xslt+xml",
                b"x".as_slice(),
                "files of type application/xslt+xml are not accepted",
            ),
            (
                "text/xsl",
                b"x".as_slice(),
                "files of type text/xsl are not accepted",
            ),
            (
                "text/javascript",
                b"alert(1)".as_slice(),
                "files of type text/javascript are not accepted",
            ),
            (
                "application/vnd.example+xml",
                b"<a/>".as_slice(),
                "files of type application/vnd.example+xml are not accepted",
            ),
            // Declared harmless, sniffed as markup.
            ("text/plain", svg, "markup"),
            (
                "text/plain",
                b"<!DOCTYPE html><script>1</script>".as_slice(),
                "not accepted",
            ),
            (
                "text/plain",
                b"<?xml version=\"1.0\"?><x/>".as_slice(),
                "not accepted",
            ),
        ] {
            let err = fetch_as_tenant(declared, body, &tenant).await.unwrap_err();
            let FetchError::Permanent(reason) = err else {
                panic!("{declared}: {err:?}");
            };
            assert!(reason.contains(expected), "{declared}: {reason}");
        }
        // The same tenant still gets its plain text.
        let stored = fetch_as_tenant("text/plain", b"hello", &tenant)
            .await
            .unwrap();
        assert_eq!(stored.content_type, "text/plain");
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
