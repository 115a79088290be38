//! The agent's link for a stored item: `url` = `{base}/{tenant}/media/{token}` (the media-link
//! function checks the token and redirects to a short presigned URL) and `url_expires_at` = the
//! end of the tenant's `inbound_media_days` for the day the object was stored, the moment the
//! retention function may delete it (`switchboard_shared::media::expiry`). A presigned URL
//! would die with the function's temporary credentials (hours); this link lives as long as the
//! object.

use chrono::{DateTime, Utc};
use switchboard_shared::contract::{MediaItem, MediaStatus};
use switchboard_shared::media::expiry::{deletable_from, key_day};
use switchboard_shared::media::link_keys::{LinkKeyCache, LinkKeysError};

pub struct MediaLinks {
    keys: LinkKeyCache,
    /// The HTTP API's URL (no trailing `/`), e.g. `https://abc.execute-api.eu-west-1.amazonaws.com`.
    base_url: String,
}

impl MediaLinks {
    pub fn new(keys: LinkKeyCache, base_url: &str) -> MediaLinks {
        MediaLinks {
            keys,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Fills `url` and `url_expires_at` of a stored item. An item whose object is already past
    /// its retention (a retention of 0 days keeps nothing) gets no link: it would never work.
    pub async fn fill(
        &self,
        tenant: &str,
        inbound_media_days: u32,
        item: &mut MediaItem,
        now: DateTime<Utc>,
    ) -> Result<(), LinkKeysError> {
        let (MediaStatus::Stored, Some(key)) = (item.status, item.s3_key.as_deref()) else {
            return Ok(());
        };
        let Some(expires_at) = key_day(key)
            .and_then(|day| deletable_from(day, inbound_media_days))
            .filter(|expires_at| *expires_at > now)
        else {
            return Ok(());
        };
        let token = self.keys.issue(tenant, key, expires_at, now).await?;
        item.url = Some(format!("{}/{tenant}/media/{token}", self.base_url));
        item.url_expires_at = Some(expires_at);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use secrecy::SecretSlice;
    use switchboard_shared::media::link::{LinkKey, LinkKeys};

    use super::*;

    fn links() -> MediaLinks {
        MediaLinks::new(
            LinkKeyCache::fixed(LinkKeys {
                current: LinkKey {
                    id: "k1".into(),
                    secret: SecretSlice::from(b"0123456789abcdef0123456789abcdef".to_vec()),
                },
                previous: None,
            }),
            "http://127.0.0.1:3000/",
        )
    }

    fn stored(key: &str) -> MediaItem {
        serde_json::from_value(serde_json::json!({
            "source_url": "https://x/y.png", "thumbnail_url": null, "filename": null,
            "caption": null, "status": "stored", "s3_key": key, "url": null,
            "url_expires_at": null, "content_type": "image/png", "size_bytes": 1,
            "failure_reason": null
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_stored_item_gets_a_link_until_the_end_of_its_retention() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 13, 0, 0).unwrap();
        let mut item = stored("inbound/acme/2026-12-01/ev/0-a.png");
        links().fill("acme", 30, &mut item, now).await.unwrap();
        let url = item.url.unwrap();
        assert!(
            url.starts_with("http://127.0.0.1:3000/acme/media/v1."),
            "{url}"
        );
        assert_eq!(
            item.url_expires_at,
            Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()),
            "30 days after the last instant of December 1st"
        );
    }

    #[tokio::test]
    async fn no_link_when_nothing_is_kept_or_nothing_was_stored() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 13, 0, 0).unwrap();
        let mut item = stored("inbound/acme/2026-12-01/ev/0-a.png");
        links().fill("acme", 0, &mut item, now).await.unwrap();
        assert_eq!((item.url, item.url_expires_at), (None, None));
        let mut failed = stored("inbound/acme/2026-12-01/ev/0-a.png");
        failed.status = MediaStatus::Failed;
        links().fill("acme", 30, &mut failed, now).await.unwrap();
        assert_eq!(failed.url, None);
    }
}
