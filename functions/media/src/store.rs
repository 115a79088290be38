//! The streaming S3 store lives in `switchboard_shared::media::store`, shared with the outbound
//! function; this re-export keeps the stage's paths.

pub use switchboard_shared::media::store::*;
