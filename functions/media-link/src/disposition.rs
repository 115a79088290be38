//! How a browser treats the file behind a link: shown in place only when that cannot run
//! anything (raster images, audio, video), downloaded otherwise (PDF viewers run scripts, text
//! may be sniffed as HTML, office files carry macros). The filename is the stored one, made
//! safe again for a header.

/// Types shown in the browser (`inline`); every other type is an `attachment`.
pub fn is_safe_inline(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (kind, subtype) = essence.split_once('/').unwrap_or((&essence, ""));
    match kind {
        "image" => matches!(
            subtype,
            "png" | "jpeg" | "gif" | "webp" | "avif" | "heic" | "heif" | "bmp"
        ),
        "audio" | "video" => !subtype.is_empty(),
        _ => false,
    }
}

/// The file's name from its key `inbound/{tenant}/{day}/{event}/{n}-{filename}`, without the
/// item's index, restricted to `[A-Za-z0-9._-]` (the stage stores it so; this guards a header).
pub fn filename_of(key: &str) -> String {
    let last = key.rsplit('/').next().unwrap_or_default();
    let name = match last.split_once('-') {
        Some((index, rest)) if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) => {
            rest
        }
        _ => last,
    };
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    if safe.is_empty() {
        "file".to_owned()
    } else {
        safe.to_owned()
    }
}

pub fn content_disposition(content_type: &str, filename: &str) -> String {
    let kind = if is_safe_inline(content_type) {
        "inline"
    } else {
        "attachment"
    };
    format!("{kind}; filename=\"{filename}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_media_that_cannot_run_anything_is_shown_in_place() {
        for inline in [
            "image/png",
            "image/jpeg",
            "audio/ogg; codecs=opus",
            "video/mp4",
        ] {
            assert!(is_safe_inline(inline), "{inline}");
        }
        for attachment in [
            "image/svg+xml",
            "application/pdf",
            "text/plain",
            "text/html",
            "application/octet-stream",
            "audio",
            "",
        ] {
            assert!(!is_safe_inline(attachment), "{attachment}");
        }
    }

    #[test]
    fn the_filename_is_the_stored_one_without_its_index() {
        assert_eq!(
            filename_of("inbound/acme/2026-12-01/ev/0-photo.jpg"),
            "photo.jpg"
        );
        assert_eq!(
            filename_of("inbound/acme/2026-12-01/ev/12-a-b.pdf"),
            "a-b.pdf"
        );
        assert_eq!(filename_of("inbound/acme/d/ev/x\"y.pdf"), "x_y.pdf");
        assert_eq!(filename_of("inbound/acme/d/ev/0-"), "file");
        assert_eq!(
            content_disposition("application/pdf", "a.pdf"),
            "attachment; filename=\"a.pdf\""
        );
        assert_eq!(
            content_disposition("image/png", "a.png"),
            "inline; filename=\"a.png\""
        );
    }
}
