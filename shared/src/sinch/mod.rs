//! The Sinch Conversation API's wire format: callbacks and their signatures, and the API client.

pub mod api;
pub mod callback;
pub mod signature;
