//! Target `callback_parser`: arbitrary bytes through `parse_callback`, Sinch's callback parser,
//! which sees every body the webhook receives (before the signature check, for the app id).
//!
//! Properties: parsing never panics; a parsed callback serializes back without panicking, the
//! result parses again, and it is the same callback (the round trip the module promises): the
//! whole callback for typed kinds, the envelope for `Unknown` and `Unparsed` bodies, which write
//! no content.

use switchboard_shared::sinch::callback::{Callback, parse_callback};

/// What became of the input, for the regression tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not a JSON object: an error, as documented.
    NotACallback,
    /// Parsed into a typed kind.
    Typed,
    /// Parsed, but `Unknown` or `Unparsed`.
    Untyped,
}

pub fn run(data: &[u8]) -> Outcome {
    let Ok(callback) = parse_callback(data) else {
        return Outcome::NotACallback;
    };
    let written = match serde_json::to_vec(&callback) {
        Ok(written) => written,
        Err(err) => panic!("a parsed callback does not serialize: {err}"),
    };
    let again = match parse_callback(&written) {
        Ok(again) => again,
        Err(err) => panic!("a serialized callback does not parse again: {err}"),
    };
    assert_eq!(
        envelope(&again),
        envelope(&callback),
        "the envelope changed in a round trip"
    );
    if callback.body.is_parsed() {
        assert_eq!(again, callback, "the callback changed in a round trip");
        Outcome::Typed
    } else {
        Outcome::Untyped
    }
}

type Envelope<'a> = (
    &'a str,
    &'a str,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<&'a str>,
    Option<&'a str>,
);

fn envelope(callback: &Callback) -> Envelope<'_> {
    (
        &callback.app_id,
        &callback.project_id,
        callback.accepted_time,
        callback.event_time,
        callback.message_metadata.as_deref(),
        callback.correlation_id.as_deref(),
    )
}
