//! The Sinch Conversation API's wire format: callbacks and their signatures.

pub mod callback;
pub mod signature;
