//! Agents' media URLs fetched into `outbound/` before sending, for tenants with
//! `outbound.fetch_media_urls` (URLs Sinch's channels could not fetch themselves: signed, short-
//! lived, behind a login or a firewall allow-list). Each distinct URL of the command (`url` and
//! `thumbnail_url` of every media object: media, card, carousel cards, list) goes through the
//! inbound stage's fetch (SSRF-safe, redirects checked, the tenant's `media` limits on size,
//! types and hosts, streamed into S3), is stored under [`fetched_key`] with its sniffed type, and
//! the command is sent with the public URL of the copy, like an attachment given by S3 key.
//!
//! A permanent failure (404, blocked address, too large, a type not accepted) is the command's:
//! a failed `send_result`. A transient one (timeout, 429, 5xx, S3 unavailable, no time left in
//! the invocation) fails the record, which comes back. A copy cut off midway is never stored;
//! whole copies stored before a failure stay until retention removes them (they are never sent,
//! and their keys are unguessable).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use switchboard_shared::config::MediaSettings;
use switchboard_shared::contract::AgentCommand;
use switchboard_shared::deadline::Deadline;
use switchboard_shared::media::download::{Limits, download, filename_for};
use switchboard_shared::media::fetch::{FetchError, SafeFetcher};
use tracing::info;

use crate::media::{OutboundObjects, fetched_key, public_url};

/// Kept back from the invocation's deadline for the send to Sinch (with its retries) once the
/// media is in: a slow media host fails the record rather than the send.
pub const SEND_RESERVE: Duration = Duration::from_secs(5);

/// One URL to fetch, and the file name an agent gave it (`filename_override`), if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaUrl {
    pub url: String,
    pub filename: Option<String>,
}

/// Every distinct media URL of the command, in order of appearance (thumbnails included).
pub fn media_urls(command: &AgentCommand) -> Vec<MediaUrl> {
    let mut urls: Vec<MediaUrl> = Vec::new();
    let mut add = |url: &str, filename: Option<&str>| {
        if !urls.iter().any(|known| known.url == url) {
            urls.push(MediaUrl {
                url: url.to_owned(),
                filename: filename.map(str::to_owned),
            });
        }
    };
    if let Some(message) = &command.message {
        message.for_each_media(&mut |media| {
            if let Some(url) = &media.url {
                add(url, media.filename_override.as_deref());
            }
            if let Some(thumbnail) = &media.thumbnail_url {
                add(thumbnail, None);
            }
        });
    }
    urls
}

/// Where the copies go and who asks.
pub struct FetchPlace<'a> {
    pub tenant: &'a str,
    pub public_base: &'a str,
    pub now: DateTime<Utc>,
}

/// Fetches `urls` into `outbound/` and returns the command with each replaced by its copy's
/// public URL. The reason of a permanent failure names the host, never the URL (it may be
/// signed).
pub async fn fetch_media<M: OutboundObjects>(
    fetcher: &SafeFetcher,
    objects: &M,
    media: &MediaSettings,
    place: &FetchPlace<'_>,
    command: &AgentCommand,
    urls: &[MediaUrl],
    deadline: &Deadline,
) -> Result<AgentCommand, FetchError> {
    let limits = Limits {
        max_bytes: media.max_bytes,
        media,
    };
    let mut copies: BTreeMap<&str, String> = BTreeMap::new();
    for item in urls {
        let host = url::Url::parse(&item.url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_else(|| "an invalid URL".to_owned());
        let filename = filename_for(item.filename.as_deref(), &item.url);
        let key = fetched_key(place.tenant, &filename, place.now);
        let budget = Deadline::after(deadline.remaining().saturating_sub(SEND_RESERVE));
        // The download stops at this budget and then aborts its upload: nothing half-stored.
        let stored = download(
            fetcher, objects, &limits, &item.url, &key, &filename, &budget,
        )
        .await
        .map_err(|err| match err {
            FetchError::Permanent(reason) => {
                FetchError::Permanent(format!("fetching media from {host}: {reason}"))
            }
            FetchError::Transient(reason) => {
                FetchError::Transient(format!("fetching media from {host}: {reason}"))
            }
        })?;
        let public = public_url(place.public_base, &key).ok_or_else(|| {
            FetchError::Permanent("the public media URL cannot take a path".into())
        })?;
        info!(tenant = %place.tenant, %host, content_type = %stored.content_type, size_bytes = stored.size_bytes, "media URL fetched into outbound/");
        copies.insert(item.url.as_str(), public);
    }
    let mut fetched = command.clone();
    if let Some(message) = &mut fetched.message {
        message.for_each_media_mut(&mut |media| {
            for url in [&mut media.url, &mut media.thumbnail_url]
                .into_iter()
                .flatten()
            {
                if let Some(public) = copies.get(url.as_str()) {
                    *url = public.clone();
                }
            }
        });
    }
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_distinct_url_once_in_order_with_thumbnails_and_given_names() {
        let command: AgentCommand = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "reply_id": "r-1", "tenant": "demo",
            "queue_address": "01DEMOAPP00000000000000001@whatsapp.sinchconversation.com",
            "recipient": { "identity": "46732001122" },
            "message": { "carousel_message": { "cards": [
                { "title": "a", "media_message": { "url": "https://x.example/a.png",
                    "thumbnail_url": "https://x.example/t.png", "filename_override": "A.png" } },
                { "title": "b", "media_message": { "url": "https://x.example/a.png" } },
                { "title": "c", "media_message": { "s3_key": "outbound/demo/2026-12-01/0123456789abcdef0123456789abcdef/c.png" } }
            ] } }
        }))
        .unwrap();
        assert_eq!(
            media_urls(&command),
            [
                MediaUrl {
                    url: "https://x.example/a.png".into(),
                    filename: Some("A.png".into())
                },
                MediaUrl {
                    url: "https://x.example/t.png".into(),
                    filename: None
                },
            ]
        );
    }
}
