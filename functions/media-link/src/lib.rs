//! Agents' media links: `GET /{tenant}/media/{token}` checks the signed token and redirects to a
//! freshly presigned S3 URL (README "Media links").
//!
//! [`handler`] holds the logic and knows nothing of Lambda; [`function`] makes it a kit
//! function (`switchboard_shared::kit`): settings, clients built once per container, and the
//! HTTP API shell, under the invocation's clock and deadline (Lambda's, less 0.5 s; a link not
//! answered by then is a 503). There is no local server any more: locally the binary runs under
//! a Lambda emulator, through the Runtime API.

pub mod disposition;
pub mod function;
pub mod handler;
pub mod objects;
pub mod settings;

pub use function::{AwsMediaLink, build};
pub use handler::{LinkRequest, LinkResponse, MediaLink};
