//! Making an authentic callback's bytes readable as JSON text without losing them.
//!
//! Sinch signs bytes, and a signed body may still carry what a strict JSON parser refuses:
//! invalid UTF-8, a lone surrogate escape (`"\ud800"`, e.g. half an emoji cut by a channel),
//! another invalid escape, or a raw control character inside a string. Refusing such a body
//! would lose a customer's message. [`repair`] rewrites only those spots (each becomes U+FFFD,
//! or the control character's escape) and says whether it changed anything, so the caller
//! keeps the original bytes as well (the webhook stores them in S3 and points to them).

use std::borrow::Cow;

/// The readable text, and whether it differs from the bytes received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired<'a> {
    pub text: Cow<'a, str>,
    pub changed: bool,
}

const REPLACEMENT: &str = "\\ufffd";

/// Repairs what would make a JSON parser refuse a document that is otherwise JSON. Text outside
/// strings is left as it is: a body that is not JSON stays not JSON.
pub fn repair(body: &[u8]) -> Repaired<'_> {
    let utf8 = String::from_utf8_lossy(body);
    let lossy = matches!(utf8, Cow::Owned(_));
    match repair_strings(&utf8) {
        None if !lossy => Repaired {
            text: utf8,
            changed: false,
        },
        None => Repaired {
            text: utf8,
            changed: true,
        },
        Some(fixed) => Repaired {
            text: Cow::Owned(fixed),
            changed: true,
        },
    }
}

fn hex4(bytes: &[u8]) -> Option<u16> {
    let digits = std::str::from_utf8(bytes.get(..4)?).ok()?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(digits, 16).ok()
}

/// `None` when nothing needed repair (the common case: no allocation).
fn repair_strings(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Everything before `copied` is already in `out` (when `out` exists).
    let mut copied = 0;
    let mut in_string = false;
    let mut i = 0;
    let replace =
        |out: &mut Option<String>, copied: &mut usize, from: usize, to: usize, with: &str| {
            let buffer = out.get_or_insert_with(|| String::with_capacity(text.len() + 8));
            buffer.push_str(&text[*copied..from]);
            buffer.push_str(with);
            *copied = to;
        };
    while i < bytes.len() {
        let b = bytes[i];
        if !in_string {
            if b == b'"' {
                in_string = true;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = false;
                i += 1;
            }
            0x00..=0x1F => {
                replace(&mut out, &mut copied, i, i + 1, &format!("\\u{b:04x}"));
                i += 1;
            }
            b'\\' => match bytes.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u') => match hex4(&bytes[i + 2..]) {
                    Some(high @ 0xD800..=0xDBFF) => {
                        let low = (bytes.get(i + 6..i + 8) == Some(b"\\u"))
                            .then(|| hex4(&bytes[i + 8..]))
                            .flatten();
                        if matches!(low, Some(0xDC00..=0xDFFF)) {
                            i += 12;
                        } else {
                            let _ = high;
                            replace(&mut out, &mut copied, i, i + 6, REPLACEMENT);
                            i += 6;
                        }
                    }
                    Some(0xDC00..=0xDFFF) => {
                        replace(&mut out, &mut copied, i, i + 6, REPLACEMENT);
                        i += 6;
                    }
                    Some(_) => i += 6,
                    None => {
                        // `\u` without four hex digits: the escape goes, what follows stays.
                        replace(&mut out, &mut copied, i, i + 2, REPLACEMENT);
                        i += 2;
                    }
                },
                Some(_) => {
                    // An unknown escape such as `\x`: the backslash and its letter go. The
                    // letter is one byte only if ASCII; keep char boundaries intact.
                    let width = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                    replace(&mut out, &mut copied, i, i + 1 + width, REPLACEMENT);
                    i += 1 + width;
                }
                None => {
                    replace(&mut out, &mut copied, i, i + 1, REPLACEMENT);
                    i += 1;
                }
            },
            _ => i += 1,
        }
    }
    let mut fixed = out?;
    fixed.push_str(&text[copied..]);
    Some(fixed)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn text_of(body: &[u8]) -> (String, bool) {
        let repaired = repair(body);
        let value: serde_json::Value = serde_json::from_str(&repaired.text).expect("valid JSON");
        (value["t"].as_str().unwrap().to_owned(), repaired.changed)
    }

    #[test]
    fn valid_json_is_untouched_and_not_copied() {
        let body = br#"{"t":"a \ud83d\ude00 \u00e9 \n \"q\""}"#;
        let repaired = repair(body);
        assert!(!repaired.changed);
        assert!(matches!(repaired.text, Cow::Borrowed(_)));
    }

    #[test]
    fn lone_surrogates_become_the_replacement_character() {
        assert_eq!(text_of(br#"{"t":"a\ud800b"}"#), ("a\u{FFFD}b".into(), true));
        assert_eq!(text_of(br#"{"t":"\udc00"}"#), ("\u{FFFD}".into(), true));
        assert_eq!(
            text_of(br#"{"t":"\ud800\u0041"}"#),
            ("\u{FFFD}A".into(), true)
        );
        assert_eq!(text_of(br#"{"t":"x\ud83d"}"#), ("x\u{FFFD}".into(), true));
    }

    #[test]
    fn other_invalid_escapes_and_raw_controls_are_repaired() {
        assert_eq!(text_of(br#"{"t":"a\xb"}"#), ("a\u{FFFD}b".into(), true));
        assert_eq!(
            text_of(br#"{"t":"a\u12G4"}"#),
            ("a\u{FFFD}12G4".into(), true)
        );
        assert_eq!(text_of(b"{\"t\":\"a\tb\"}"), ("a\tb".into(), true));
        assert_eq!(
            text_of(b"{\"t\":\"a\\\xc3\xa9\"}"),
            ("a\u{FFFD}".into(), true)
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_and_reported() {
        assert_eq!(text_of(b"{\"t\":\"a\xffb\"}"), ("a\u{FFFD}b".into(), true));
    }

    #[test]
    fn text_outside_strings_is_not_made_json() {
        let repaired = repair(b"not json \\ud800");
        assert!(serde_json::from_str::<serde_json::Value>(&repaired.text).is_err());
    }

    proptest! {
        #[test]
        fn any_json_string_with_any_escapes_becomes_parseable(
            pieces in proptest::collection::vec(prop_oneof![
                "[a-z ]{0,5}".prop_map(|s| s),
                (0u16..=0xFFFF).prop_map(|u| format!("\\u{u:04x}")),
                proptest::char::any().prop_map(|c| format!("\\{c}")),
            ], 0..12)
        ) {
            let body = format!("{{\"t\":\"{}\"}}", pieces.concat());
            let repaired = repair(body.as_bytes());
            let value: Result<serde_json::Value, _> = serde_json::from_str(&repaired.text);
            prop_assert!(value.is_ok(), "{} -> {}", body, repaired.text);
            let strict_ok = serde_json::from_str::<serde_json::Value>(&body).is_ok();
            prop_assert_eq!(strict_ok, !repaired.changed);
        }

        #[test]
        fn valid_documents_never_change(text in any::<String>()) {
            let body = serde_json::to_string(&serde_json::json!({ "t": text })).unwrap();
            let repaired = repair(body.as_bytes());
            prop_assert!(!repaired.changed);
            prop_assert_eq!(repaired.text.as_ref(), body.as_str());
        }
    }
}
