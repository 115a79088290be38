//! Reading a function's settings from the environment, once, at start-up.
//!
//! Every function validates its settings before it serves anything, so a misconfigured
//! deployment fails at init with a message naming the variable, not on the first request.
//! The lookup is a function so tests pass a map instead of touching the process environment.

use std::ops::RangeInclusive;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name}: {problem}")]
    Invalid { name: &'static str, problem: String },
}

/// A view of the environment (or of a test's map) with typed, validated reads.
pub struct Env<F> {
    get: F,
}

impl Env<fn(&str) -> Option<String>> {
    /// The process environment.
    pub fn process() -> Self {
        fn lookup(name: &str) -> Option<String> {
            std::env::var(name).ok()
        }
        Env { get: lookup }
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn from_lookup(get: F) -> Self {
        Env { get }
    }

    /// The value, trimmed; blank counts as unset.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.get)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<String, SettingsError> {
        self.optional(name).ok_or(SettingsError::Missing(name))
    }

    /// A whole number within `range`, or `default` when unset.
    pub fn number(
        &self,
        name: &'static str,
        default: u64,
        range: RangeInclusive<u64>,
    ) -> Result<u64, SettingsError> {
        let Some(text) = self.optional(name) else {
            return Ok(default);
        };
        let value: u64 = text.parse().map_err(|_| SettingsError::Invalid {
            name,
            problem: format!("'{text}' is not a whole number"),
        })?;
        if !range.contains(&value) {
            return Err(SettingsError::Invalid {
                name,
                problem: format!("{value} is outside {}..={}", range.start(), range.end()),
            });
        }
        Ok(value)
    }

    /// A duration in whole seconds within `range`, or `default` when unset.
    pub fn seconds(
        &self,
        name: &'static str,
        default: Duration,
        range: RangeInclusive<u64>,
    ) -> Result<Duration, SettingsError> {
        self.number(name, default.as_secs(), range)
            .map(Duration::from_secs)
    }

    /// A size in bytes within `range`, or `default` when unset.
    pub fn bytes(
        &self,
        name: &'static str,
        default: usize,
        range: RangeInclusive<usize>,
    ) -> Result<usize, SettingsError> {
        let wide = (*range.start() as u64)..=(*range.end() as u64);
        let value = self.number(name, default as u64, wide)?;
        usize::try_from(value).map_err(|_| SettingsError::Invalid {
            name,
            problem: format!("{value} does not fit this machine's sizes"),
        })
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`), or `default` when unset.
    pub fn flag(&self, name: &'static str, default: bool) -> Result<bool, SettingsError> {
        match self
            .optional(name)
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None => Ok(default),
            Some("true" | "1" | "yes") => Ok(true),
            Some("false" | "0" | "no") => Ok(false),
            Some(other) => Err(SettingsError::Invalid {
                name,
                problem: format!("'{other}' is not true or false"),
            }),
        }
    }
}

/// A lookup over fixed name-value pairs, the later of two equal names winning: for settings
/// tests and tools that build a function's settings from something other than the process's
/// environment.
pub fn lookup_in(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        Env::from_lookup(lookup_in(pairs))
    }

    #[test]
    fn the_later_of_two_equal_names_wins() {
        let get = lookup_in(&[("A", "1"), ("A", "2")]);
        assert_eq!(get("A").as_deref(), Some("2"));
        assert_eq!(get("B"), None);
    }

    #[test]
    fn blank_is_unset_and_required_names_are_reported() {
        let env = env(&[("A", "  "), ("B", " x ")]);
        assert_eq!(env.required("A"), Err(SettingsError::Missing("A")));
        assert_eq!(env.required("B").unwrap(), "x");
        assert_eq!(env.optional("C"), None);
    }

    #[test]
    fn numbers_are_checked_against_their_range_and_named() {
        let env = env(&[("N", "0"), ("G", "five"), ("OK", "7")]);
        assert!(
            env.number("N", 5, 1..=10)
                .unwrap_err()
                .to_string()
                .contains("N")
        );
        assert!(
            env.number("G", 5, 1..=10)
                .unwrap_err()
                .to_string()
                .contains("'five'")
        );
        assert_eq!(env.number("OK", 5, 1..=10).unwrap(), 7);
        assert_eq!(env.number("UNSET", 5, 1..=10).unwrap(), 5);
        assert_eq!(
            env.seconds("OK", Duration::ZERO, 0..=10).unwrap(),
            Duration::from_secs(7)
        );
        assert_eq!(env.bytes("UNSET", 1024, 1..=4096).unwrap(), 1024);
    }

    #[test]
    fn flags_accept_the_usual_spellings_only() {
        let env = env(&[("T", "TRUE"), ("F", "0"), ("X", "maybe")]);
        assert!(env.flag("T", false).unwrap());
        assert!(!env.flag("F", true).unwrap());
        assert!(env.flag("UNSET", true).unwrap());
        assert!(env.flag("X", true).is_err());
    }
}
