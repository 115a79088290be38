//! The SSRF-safe media fetch lives in `switchboard_shared::media::fetch`, shared with the
//! outbound function (which fetches agents' media URLs for tenants that ask for it); this
//! re-export keeps the stage's paths.

pub use switchboard_shared::media::fetch::*;
