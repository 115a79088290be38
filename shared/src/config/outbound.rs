//! A tenant's settings for agents' replies (the seed's `outbound` object). Today one: whether
//! media given by URL is fetched into `outbound/` first and sent as Switchboard's own public URL
//! (for URLs Sinch's channels cannot reach: signed, short-lived, behind a login), or passed on to
//! Sinch as it is. Every field has a default, so a tenant without `outbound` (and a stored tenant
//! written before it existed) gets exactly the defaults.

use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundSettings {
    /// Fetch every media URL of an agent command (SSRF-safe, within the tenant's `media`
    /// limits), store it under `outbound/{tenant}/…` and send its public URL. Off (the default):
    /// the URL goes to Sinch unchanged.
    #[serde(default)]
    pub fetch_media_urls: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_unknown_fields_are_refused() {
        let parsed: OutboundSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, OutboundSettings::default());
        assert!(!parsed.fetch_media_urls);
        let on: OutboundSettings = serde_json::from_str(r#"{"fetch_media_urls": true}"#).unwrap();
        assert!(on.fetch_media_urls);
        let err = serde_json::from_str::<OutboundSettings>(r#"{"fetch_media_url": true}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("fetch_media_url"), "{err}");
        assert!(
            serde_json::from_str::<OutboundSettings>(r#"{"fetch_media_urls": "yes"}"#).is_err()
        );
    }

    #[test]
    fn the_demo_seed_spells_out_exactly_the_defaults() {
        let seed = crate::config::SeedFile::parse(include_str!("../../../infra/seed/demo.json"))
            .expect("the demo seed is valid");
        assert_eq!(seed.tenants[0].outbound, OutboundSettings::default());
        assert!(
            include_str!("../../../infra/seed/demo.json").contains("\"fetch_media_urls\": false"),
            "spelled out, so the demo shows the option"
        );
    }
}
