//! Lenient field decoders shared by the callback types.
//!
//! Sinch marks almost every field optional, sends empty strings for absent ids (DISPATCH mode)
//! and some serializers write `null` for absent fields. These decoders treat `null` like an
//! absent field and empty ids like no id. A value of a clearly wrong JSON type is still an error;
//! the caller turns that into `CallbackBody::Unparsed` instead of rejecting the callback.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::channel::Channel;

/// Implemented by the open string enums, so the decoders can treat `""` like an absent value.
pub(crate) trait OpenEnum {
    fn wire(&self) -> &str;
}

/// RFC 3339 with any number of fractional digits and any offset. A time without an offset is
/// taken as UTC (protobuf timestamps are UTC); anything else unreadable is `None`, never an error,
/// because a time is never worth losing a callback over.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    // Four-digit years only, as RFC 3339 has them: chrono's patterns would also take a signed or
    // five-digit year, which no Sinch time has and which cannot be written back as RFC 3339.
    let bytes = text.as_bytes();
    if !(bytes.len() > 4 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-') {
        return None;
    }
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|naive| naive.and_utc())
        })
}

pub(crate) fn time_of(value: &Value) -> Option<DateTime<Utc>> {
    value.as_str().and_then(parse_time)
}

/// Text of a free-form field: a string as it is, any other non-null JSON as compact JSON text.
pub(crate) fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) if text.is_empty() => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

pub(crate) fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(time_of(&Value::deserialize(d)?))
}

pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(text_of(&Value::deserialize(d)?))
}

/// An id or other string: `null` and `""` are `None`.
pub(crate) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|text| !text.is_empty()))
}

pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or_default())
}

pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

pub(crate) fn opt_open<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + OpenEnum,
{
    Ok(Option::<T>::deserialize(d)?.filter(|value| !value.wire().is_empty()))
}

pub(crate) fn no_channel() -> Channel {
    Channel::Other(String::new())
}

pub(crate) fn channel<'de, D: Deserializer<'de>>(d: D) -> Result<Channel, D::Error> {
    Ok(Option::<Channel>::deserialize(d)?.unwrap_or_else(no_channel))
}

pub(crate) fn opt_channel<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Channel>, D::Error> {
    Ok(Option::<Channel>::deserialize(d)?.filter(|channel| !channel.sinch_id().is_empty()))
}

/// A number, also accepted as a numeric string (proto3 JSON writes 64-bit integers as strings).
pub(crate) fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(number) => Ok(number.as_f64()),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom("expected a number or a numeric string")),
        _ => Err(D::Error::custom("expected a number or a numeric string")),
    }
}

/// An integer, also accepted as a numeric string.
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(number) => number
            .as_i64()
            .map(Some)
            .ok_or_else(|| D::Error::custom("expected an integer")),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom("expected an integer or an integer string")),
        _ => Err(D::Error::custom("expected an integer or an integer string")),
    }
}

/// For "one of these keys" objects: the first of `keys` present with a non-null value.
pub(crate) fn pick<'m>(
    object: &'m serde_json::Map<String, Value>,
    keys: &[&'static str],
) -> Option<(&'static str, &'m Value)> {
    keys.iter().find_map(|key| {
        object
            .get(*key)
            .filter(|value| !value.is_null())
            .map(|value| (*key, value))
    })
}

/// Decodes one member of a "one of" object, naming the member in the error.
pub(crate) fn member<T: serde::de::DeserializeOwned>(
    key: &str,
    value: &Value,
) -> Result<T, serde_json::Error> {
    T::deserialize(value).map_err(|err| serde_json::Error::custom(format_args!("{key}: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_four_digit_years_are_times() {
        // Found by fuzzing: chrono's patterns take these, and they cannot be written back.
        for text in [
            "+12345-01-01T00:00:00Z",
            "-0001-01-01T00:00:00",
            "12345-01-01T00:00:00",
        ] {
            assert_eq!(parse_time(text), None, "{text}");
        }
        let time = parse_time("2022-02-07T20:01:09.892757478Z").unwrap();
        assert_eq!(parse_time(&time.to_rfc3339()), Some(time));
        assert!(
            parse_time("2026-11-21T08:17:44").is_some(),
            "no offset: UTC"
        );
    }
}
