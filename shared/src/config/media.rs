//! A tenant's settings for customer media and contact enrichment (the seed's `media` object):
//! the largest file stored, the content types and hosts accepted, and whether display names are
//! looked up at Sinch. Every field has a safe default, so a tenant without `media` (and a stored
//! tenant written before these settings existed) gets exactly the defaults.

use serde::Deserialize;

/// WhatsApp's document limit: the largest file a customer can send on any channel we serve.
pub const DEFAULT_MAX_MEDIA_BYTES: u64 = 100 * 1024 * 1024;

/// The largest `max_bytes` a tenant may set (S3's multipart upload takes far more; an agent
/// desktop rarely should).
pub const MAX_MEDIA_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// The smallest `max_bytes`: below it not even a thumbnail fits.
pub const MIN_MEDIA_BYTES: u64 = 1024;

/// What a browser would run or render as a page: never stored for agents, whatever a tenant
/// lists (an `image/*` entry does not let SVG through).
const NEVER_ALLOWED: &[&str] = &[
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/javascript",
    "application/javascript",
    "application/ecmascript",
    "text/ecmascript",
    "application/xml",
    "text/xml",
];

/// The default allow-list: pictures, voice notes (WhatsApp's `audio/ogg`), video, PDF and office
/// documents, plain text, CSV, calendar entries and contact cards. `application/zip` is in it
/// because an office document whose first bytes do not name it sniffs as a ZIP archive.
pub fn default_allowed_types() -> Vec<String> {
    [
        "image/*",
        "audio/*",
        "video/*",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.*",
        "application/vnd.oasis.opendocument.*",
        "application/rtf",
        "application/zip",
        "text/plain",
        "text/csv",
        "text/calendar",
        "text/vcard",
        "text/x-vcard",
        "application/vcard",
    ]
    .iter()
    .map(|t| (*t).to_owned())
    .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaSettings {
    /// The largest file stored, enforced while streaming (not only from Content-Length).
    #[serde(default = "MediaSettings::default_max_bytes")]
    pub max_bytes: u64,
    /// Content types stored (as sniffed from the bytes): `type/subtype`, or a prefix ending in
    /// `*` (`image/*`, `application/vnd.oasis.opendocument.*`).
    #[serde(default = "default_allowed_types")]
    pub allowed_types: Vec<String>,
    /// Hosts media may come from, redirects included: `host.example` or `*.example` (any
    /// subdomain). Empty: any public host.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Look customers' display names up at Sinch (contact, channel profile). Off: agents see
    /// the channel identity, and Sinch is never asked.
    #[serde(default = "MediaSettings::default_lookups")]
    pub display_name_lookups: bool,
}

impl MediaSettings {
    fn default_max_bytes() -> u64 {
        DEFAULT_MAX_MEDIA_BYTES
    }

    fn default_lookups() -> bool {
        true
    }

    /// Whether a file of `content_type` (lower case, no parameters) may be stored.
    pub fn allows_type(&self, content_type: &str) -> bool {
        let content_type = content_type.trim().to_ascii_lowercase();
        if NEVER_ALLOWED.contains(&content_type.as_str()) {
            return false;
        }
        self.allowed_types
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => content_type.starts_with(prefix),
                None => *pattern == content_type,
            })
    }

    /// Whether media may be fetched from `host` (a name or an IP literal).
    pub fn allows_host(&self, host: &str) -> bool {
        host_allowed(&self.allowed_hosts, host)
    }

    /// Refuses what serde cannot: sizes out of range, malformed types, types a browser would
    /// run, malformed hosts. The error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(MIN_MEDIA_BYTES..=MAX_MEDIA_BYTES).contains(&self.max_bytes) {
            return Err(format!(
                "media.max_bytes is {}; it must be between {MIN_MEDIA_BYTES} and {MAX_MEDIA_BYTES}",
                self.max_bytes
            ));
        }
        if self.allowed_types.is_empty() {
            return Err(
                "media.allowed_types is empty, so no file would ever be stored; leave it out for the defaults"
                    .into(),
            );
        }
        for pattern in &self.allowed_types {
            check_type_pattern(pattern)
                .map_err(|problem| format!("media.allowed_types: '{pattern}' {problem}"))?;
        }
        for host in &self.allowed_hosts {
            check_host_pattern(host)
                .map_err(|problem| format!("media.allowed_hosts: '{host}' {problem}"))?;
        }
        Ok(())
    }
}

/// Whether `host` is on a host allow-list (`media.allowed_hosts`); an empty list allows any.
pub fn host_allowed(allowed_hosts: &[String], host: &str) -> bool {
    if allowed_hosts.is_empty() {
        return true;
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    allowed_hosts
        .iter()
        .any(|allowed| match allowed.strip_prefix("*.") {
            Some(domain) => host
                .strip_suffix(domain)
                .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1),
            None => *allowed == host,
        })
}

impl Default for MediaSettings {
    fn default() -> Self {
        MediaSettings {
            max_bytes: DEFAULT_MAX_MEDIA_BYTES,
            allowed_types: default_allowed_types(),
            allowed_hosts: Vec::new(),
            display_name_lookups: true,
        }
    }
}

fn token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$&-^_.+".contains(&b))
}

fn check_type_pattern(pattern: &str) -> Result<(), &'static str> {
    let Some((kind, subtype)) = pattern.split_once('/') else {
        return Err("is not a type/subtype");
    };
    if kind == "*" {
        return Err("accepts every type; list the types to accept instead");
    }
    if !token(kind) {
        return Err("is not a lower-case type/subtype");
    }
    let subtype_ok = match subtype.strip_suffix('*') {
        Some(prefix) => prefix.is_empty() || token(prefix),
        None => token(subtype),
    };
    if !subtype_ok {
        return Err("is not a lower-case type/subtype ('*' only at the end)");
    }
    if NEVER_ALLOWED.contains(&pattern) {
        return Err("is never accepted: a browser would run it");
    }
    Ok(())
}

fn check_host_pattern(pattern: &str) -> Result<(), &'static str> {
    let name = pattern.strip_prefix("*.").unwrap_or(pattern);
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(
            "must be a lower-case host name (no scheme, port or path), optionally starting with '*.'",
        );
    }
    if pattern.starts_with("*.") && !name.contains('.') {
        return Err("would allow every host under a top-level domain");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_accept_media_and_documents_but_nothing_a_browser_runs() {
        let media = MediaSettings::default();
        for ok in [
            "image/jpeg",
            "image/webp",
            "audio/ogg",
            "audio/mpeg",
            "video/mp4",
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "text/plain",
            "text/vcard",
        ] {
            assert!(media.allows_type(ok), "{ok}");
        }
        for bad in [
            "text/html",
            "image/svg+xml",
            "application/javascript",
            "application/octet-stream",
            "application/x-msdownload",
        ] {
            assert!(!media.allows_type(bad), "{bad}");
        }
        assert_eq!(media.validate(), Ok(()));
    }

    #[test]
    fn the_demo_seed_spells_out_exactly_the_defaults() {
        let seed = crate::config::SeedFile::parse(include_str!("../../../infra/seed/demo.json"))
            .expect("the demo seed is valid");
        assert_eq!(seed.tenants[0].media, MediaSettings::default());
    }

    #[test]
    fn a_tenant_list_replaces_the_defaults_and_still_never_lets_svg_through() {
        let media = MediaSettings {
            allowed_types: vec!["image/*".into(), "application/pdf".into()],
            ..MediaSettings::default()
        };
        assert!(media.allows_type("image/png"));
        assert!(!media.allows_type("image/svg+xml"));
        assert!(!media.allows_type("audio/ogg"));
    }

    #[test]
    fn hosts_match_exactly_or_as_subdomains() {
        let media = MediaSettings {
            allowed_hosts: vec!["media.example.com".into(), "*.cdn.example".into()],
            ..MediaSettings::default()
        };
        assert!(media.allows_host("media.example.com"));
        assert!(media.allows_host("MEDIA.example.com."));
        assert!(media.allows_host("a.cdn.example"));
        assert!(media.allows_host("a.b.cdn.example"));
        assert!(!media.allows_host("cdn.example"), "*. means a subdomain");
        assert!(!media.allows_host("evilcdn.example"));
        assert!(!media.allows_host("media.example.com.evil.example"));
        assert!(MediaSettings::default().allows_host("anything.example"));
    }

    #[test]
    fn each_mistake_names_the_field() {
        let cases: Vec<(MediaSettings, &str)> = vec![
            (
                MediaSettings {
                    max_bytes: 10,
                    ..Default::default()
                },
                "media.max_bytes",
            ),
            (
                MediaSettings {
                    max_bytes: MAX_MEDIA_BYTES + 1,
                    ..Default::default()
                },
                "media.max_bytes",
            ),
            (
                MediaSettings {
                    allowed_types: vec![],
                    ..Default::default()
                },
                "media.allowed_types is empty",
            ),
            (
                MediaSettings {
                    allowed_types: vec!["*/*".into()],
                    ..Default::default()
                },
                "accepts every type",
            ),
            (
                MediaSettings {
                    allowed_types: vec!["Image/PNG".into()],
                    ..Default::default()
                },
                "lower-case",
            ),
            (
                MediaSettings {
                    allowed_types: vec!["text/html".into()],
                    ..Default::default()
                },
                "a browser would run it",
            ),
            (
                MediaSettings {
                    allowed_hosts: vec!["https://media.example.com".into()],
                    ..Default::default()
                },
                "media.allowed_hosts",
            ),
            (
                MediaSettings {
                    allowed_hosts: vec!["*.com".into()],
                    ..Default::default()
                },
                "top-level domain",
            ),
        ];
        for (media, expected) in cases {
            let err = media.validate().unwrap_err();
            assert!(err.contains(expected), "expected '{expected}' in: {err}");
        }
    }
}
