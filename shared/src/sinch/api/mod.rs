//! The Sinch Conversation API client side: requests built from agent commands
//! ([`send`]), and the HTTP client that sends them ([`client`]: token cache, retries, Sinch's
//! error body), with contact look-ups and webhook management.

pub mod client;
pub mod contacts;
pub mod error;
pub mod retry;
pub mod send;
pub mod token;
pub mod webhooks;

pub use client::{Accepted, ClientSettings, ServiceEndpoint, SinchClient};
pub use error::{FailureReason, SinchError};
pub use retry::RetryPolicy;
