//! What Lambda's SQS event source mapping deletes after one batch, from the function's outcome
//! and the mapping's `FunctionResponseTypes` (AWS's rules, listed in `docs/lambda-emulator.md`):
//!
//! - an error, a timeout or a crash: nothing is deleted; the whole batch comes back after the
//!   visibility timeout;
//! - success without `ReportBatchItemFailures`: everything is deleted, whatever the body says;
//! - success with it: an empty or null answer, or an empty list, deletes everything; a valid
//!   list keeps exactly the listed messages; anything malformed (not JSON, a wrong key, an empty
//!   or null `itemIdentifier`, an id not in the batch) is a complete failure: nothing deleted.

use serde_json::Value;

use crate::environment::Outcome;

/// The message ids of the batch that Lambda deletes.
pub fn deleted<'a>(
    batch: &[&'a str],
    reports_item_failures: bool,
    outcome: &Outcome,
) -> Vec<&'a str> {
    let Outcome::Response(body) = outcome else {
        return Vec::new();
    };
    if !reports_item_failures {
        return batch.to_vec();
    }
    match failed_items(body, batch) {
        Some(failed) => batch
            .iter()
            .filter(|id| !failed.contains(id))
            .copied()
            .collect(),
        None => Vec::new(),
    }
}

/// The ids listed in a partial batch response; `None` when it is malformed.
fn failed_items<'a>(body: &[u8], batch: &[&'a str]) -> Option<Vec<&'a str>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some(Vec::new());
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = match value {
        Value::Null => return Some(Vec::new()),
        Value::Object(object) => object,
        _ => return None,
    };
    let items = match object.get("batchItemFailures") {
        None if object.is_empty() => return Some(Vec::new()),
        None => return None,
        Some(Value::Null) => return Some(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return None,
    };
    items
        .iter()
        .map(|item| {
            let id = item.get("itemIdentifier")?.as_str()?;
            batch.iter().find(|candidate| **candidate == id).copied()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;

    const BATCH: [&str; 3] = ["m1", "m2", "m3"];

    fn answered(body: &str) -> Outcome {
        Outcome::Response(Bytes::from(body.to_owned()))
    }

    #[test]
    fn listed_failures_stay_and_the_rest_is_deleted() {
        let body = r#"{"batchItemFailures":[{"itemIdentifier":"m2"},{"itemIdentifier":"m3"}]}"#;
        assert_eq!(deleted(&BATCH, true, &answered(body)), ["m1"]);
    }

    #[test]
    fn without_report_batch_item_failures_the_list_is_not_read() {
        let body = r#"{"batchItemFailures":[{"itemIdentifier":"m2"}]}"#;
        assert_eq!(deleted(&BATCH, false, &answered(body)), BATCH);
    }

    #[test]
    fn an_error_or_timeout_deletes_nothing_either_way() {
        for reports in [true, false] {
            for outcome in [
                Outcome::failed("Unhandled", "boom".into()),
                Outcome::failed("Sandbox.Timedout", "late".into()),
            ] {
                assert!(deleted(&BATCH, reports, &outcome).is_empty());
            }
        }
    }

    #[test]
    fn empty_answers_are_complete_success() {
        for body in [
            "",
            "null",
            "{}",
            r#"{"batchItemFailures":[]}"#,
            r#"{"batchItemFailures":null}"#,
        ] {
            assert_eq!(deleted(&BATCH, true, &answered(body)), BATCH, "{body:?}");
        }
    }

    #[test]
    fn a_malformed_answer_is_complete_failure() {
        for body in [
            "nope",
            "[]",
            r#"{"batchItemFailure":[{"itemIdentifier":"m1"}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":null}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":"not-in-batch"}]}"#,
            r#"{"batchItemFailures":[{"id":"m1"}]}"#,
            r#"{"batchItemFailures":"m1"}"#,
        ] {
            assert!(
                deleted(&BATCH, true, &answered(body)).is_empty(),
                "{body:?}"
            );
        }
    }

    proptest! {
        /// With partial batch responses on, a valid list keeps exactly the listed messages.
        #[test]
        fn kept_is_exactly_listed(listed in proptest::collection::vec(0usize..3, 0..5)) {
            let items: Vec<_> = listed.iter().map(|i| serde_json::json!({"itemIdentifier": BATCH[*i]})).collect();
            let body = serde_json::json!({ "batchItemFailures": items }).to_string();
            let gone = deleted(&BATCH, true, &answered(&body));
            for (i, id) in BATCH.iter().enumerate() {
                prop_assert_eq!(gone.contains(id), !listed.contains(&i));
            }
        }
    }
}
