//! The Sinch Conversation API client side: requests built from agent commands, and the HTTP
//! client that sends them (token cache, retries, Sinch's error body).

pub mod send;
