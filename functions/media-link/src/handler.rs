//! `GET /{tenant}/media/{token}`, independent of Lambda: check the signed token, check the
//! object is still there, redirect to a freshly presigned S3 URL valid for minutes.
//!
//! | request | answer |
//! |---|---|
//! | a valid token, object present | 302 to a presigned GET (`Cache-Control: private, no-store`) |
//! | a genuine token past its expiry | 410 |
//! | object gone (retention deleted it) | 404 |
//! | malformed, altered, another tenant's, an unknown key, a key outside `inbound/{tenant}/` | 404, the same body: a caller never learns which part failed |
//! | the keys or S3 unavailable | 503 |
//!
//! 404 rather than 403 for a refused token: to a stranger, a link that does not verify is a
//! link that does not exist. Tokens and presigned URLs are bearer credentials and are never
//! logged; the log says which rule refused a request.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use http::{Method, StatusCode};
use switchboard_shared::config::TenantId;
use switchboard_shared::media::link::LinkError;
use switchboard_shared::media::link_keys::{LinkKeyCache, VerifyError};
use tracing::{info, warn};

use crate::disposition::{content_disposition, filename_of};
use crate::objects::{MediaObjects, Presign};
use crate::settings::Settings;

/// A request as the handler sees it (the kit's HTTP request, borrowed; see `function.rs`).
#[derive(Debug)]
pub struct LinkRequest<'a> {
    pub method: &'a Method,
    pub path: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkResponse {
    pub status: StatusCode,
    /// The presigned URL of a 302; never logged.
    pub location: Option<String>,
    /// A small JSON document.
    pub body: &'static str,
}

pub const NOT_FOUND_BODY: &str = r#"{"error":"not found"}"#;
pub const GONE_BODY: &str = r#"{"error":"this link has expired"}"#;
pub const UNAVAILABLE_BODY: &str = r#"{"error":"unavailable; retry later"}"#;
pub const METHOD_BODY: &str = r#"{"error":"method not allowed"}"#;

impl LinkResponse {
    fn plain(status: StatusCode, body: &'static str) -> LinkResponse {
        LinkResponse {
            status,
            location: None,
            body,
        }
    }
}

/// Every response carries these: nothing about a link is cached by a browser or a proxy (a
/// cached redirect would outlive its presigned URL, and a shared cache must never hand one
/// agent's redirect to another: `private` says so to caches that ignore `no-store`), and the
/// presigned URL is not sent on as a referrer.
pub const RESPONSE_HEADERS: [(&str, &str); 3] = [
    ("cache-control", "private, no-store"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
];

pub struct MediaLink<O> {
    keys: LinkKeyCache,
    objects: O,
    settings: Settings,
}

/// `/{tenant}/media/{token}`: the tenant and the token, or `None` for any other path.
fn parse_path(path: &str) -> Option<(&str, &str)> {
    let mut segments = path.strip_prefix('/')?.split('/');
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (Some(tenant), Some("media"), Some(token), None)
            if !tenant.is_empty() && !token.is_empty() =>
        {
            Some((tenant, token))
        }
        _ => None,
    }
}

impl<O: MediaObjects> MediaLink<O> {
    pub fn new(keys: LinkKeyCache, objects: O, settings: Settings) -> MediaLink<O> {
        MediaLink {
            keys,
            objects,
            settings,
        }
    }

    pub fn objects(&self) -> &O {
        &self.objects
    }

    pub async fn handle(&self, request: LinkRequest<'_>, now: DateTime<Utc>) -> LinkResponse {
        let Some((tenant, token)) = parse_path(request.path) else {
            info!(reason = "route", "media link refused");
            return LinkResponse::plain(StatusCode::NOT_FOUND, NOT_FOUND_BODY);
        };
        if request.method != Method::GET {
            info!(reason = "method", "media link refused");
            return LinkResponse::plain(StatusCode::METHOD_NOT_ALLOWED, METHOD_BODY);
        }
        let not_found = |reason: &'static str| {
            info!(tenant, reason, "media link refused");
            LinkResponse::plain(StatusCode::NOT_FOUND, NOT_FOUND_BODY)
        };
        if TenantId::parse(tenant).is_err() {
            return not_found("tenant");
        }
        let link = match self.keys.verify(tenant, token, now).await {
            Ok(link) => link,
            Err(VerifyError::Link(LinkError::Expired)) => {
                info!(tenant, reason = "expired", "media link refused");
                return LinkResponse::plain(StatusCode::GONE, GONE_BODY);
            }
            Err(VerifyError::Link(LinkError::Malformed)) => return not_found("malformed"),
            Err(VerifyError::Link(LinkError::BadSignature)) => return not_found("signature"),
            Err(VerifyError::Keys(err)) => {
                warn!(tenant, error = %err, reason = "keys_unavailable", "media link failed");
                return LinkResponse::plain(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_BODY);
            }
        };
        // The token is ours (it verified), so this only guards against a signing bug: the link
        // of one tenant never reaches another's media, nor anything but customer media.
        let prefix = format!("inbound/{tenant}/");
        if !link.s3_key.starts_with(&prefix) || link.s3_key.split('/').any(|s| s == "..") {
            return not_found("key_outside_tenant");
        }
        let info = match self.objects.head(&link.s3_key).await {
            Ok(Some(info)) => info,
            Ok(None) => return not_found("object_gone"),
            Err(err) => {
                warn!(tenant, error = %err, reason = "s3_unavailable", "media link failed");
                return LinkResponse::plain(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_BODY);
            }
        };
        let content_type = info
            .content_type
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let filename = filename_of(&link.s3_key);
        let disposition = content_disposition(&content_type, &filename);
        // Never past the link's own expiry (itself the end of the tenant's retention).
        let left = (link.expires_at - now).to_std().unwrap_or(Duration::ZERO);
        let expires_in = self
            .settings
            .presign_expiry
            .min(left)
            .max(Duration::from_secs(1));
        let start = SystemTime::UNIX_EPOCH
            + Duration::from_secs(u64::try_from(now.timestamp()).unwrap_or(0));
        match self
            .objects
            .presign_get(&Presign {
                key: &link.s3_key,
                content_type: &content_type,
                content_disposition: &disposition,
                start,
                expires_in,
            })
            .await
        {
            Ok(url) => {
                info!(
                    tenant,
                    content_type,
                    expires_in_secs = expires_in.as_secs(),
                    "media link redirected"
                );
                LinkResponse {
                    status: StatusCode::FOUND,
                    location: Some(url),
                    body: "",
                }
            }
            Err(err) => {
                warn!(tenant, error = %err, reason = "presign", "media link failed");
                LinkResponse::plain(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_BODY)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_is_private_and_never_stored_nor_sniffed_nor_referred() {
        let headers: std::collections::HashMap<_, _> = RESPONSE_HEADERS.into_iter().collect();
        assert_eq!(headers["cache-control"], "private, no-store");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }

    #[test]
    fn only_the_link_path_parses() {
        assert_eq!(parse_path("/acme/media/v1.a.b"), Some(("acme", "v1.a.b")));
        for other in [
            "/acme/media/",
            "/acme/media",
            "//media/x",
            "/acme/media/x/y",
            "/acme/sms/x",
            "acme/media/x",
        ] {
            assert_eq!(parse_path(other), None, "{other}");
        }
    }
}
