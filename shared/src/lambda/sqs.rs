//! The FIFO batch runner: one SQS batch → per-record handling → a partial batch response.
//!
//! A FIFO batch mixes records of several message groups (conversations). Within a group the
//! order is the conversation's order, so records of one group run one after another, and the
//! first failure stops its group: that record and every later record of the group are reported
//! as batch item failures, so SQS delivers them again, still in order. Other groups go on, a
//! bounded number at a time. A record counts as done only when its handler returned `Ok`,
//! i.e. after its effect (the event on the target queue) happened.
//!
//! The runtime's own partial-batch example runs every record at once; on a FIFO queue that
//! would reorder a conversation, which is why this runner exists.

use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};
use futures_util::StreamExt;

/// The attribute SQS sets on every FIFO record.
const GROUP_ATTRIBUTE: &str = "MessageGroupId";

/// The attribute SQS sets on every record from the credentials of whoever sent the message: an
/// IAM user's unique id (`AIDA…`), or `AROA…:{session}` for a role. Senders cannot set it.
const SENDER_ATTRIBUTE: &str = "SenderId";

/// The attribute SQS sets on every record: how many times it has been received, this time
/// included (1 the first time).
const RECEIVE_COUNT_ATTRIBUTE: &str = "ApproximateReceiveCount";

/// A record's receive count: 1 when the attribute is missing, unparsable or 0 (SQS always sets
/// it, from 1), so a handler never sees a count it would treat as "received before".
fn receive_count(message: &SqsMessage) -> u32 {
    message
        .attributes
        .get(RECEIVE_COUNT_ATTRIBUTE)
        .and_then(|count| count.parse::<u32>().ok())
        .filter(|count| *count >= 1)
        .unwrap_or(1)
}

/// What the runner needs of a record: an id to report, and the group it belongs to.
pub trait FifoRecord {
    fn message_id(&self) -> &str;
    /// `None` on a standard queue: each such record is a group of its own.
    fn group_id(&self) -> Option<&str>;
}

impl FifoRecord for SqsMessage {
    fn message_id(&self) -> &str {
        self.message_id.as_deref().unwrap_or_default()
    }

    fn group_id(&self) -> Option<&str> {
        self.attributes.get(GROUP_ATTRIBUTE).map(String::as_str)
    }
}

/// How one record went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The handler failed this record; it and the rest of its group come back.
    Failed(String),
    /// Not run, because an earlier record of its group failed.
    Skipped,
}

/// Splits records into groups, each in arrival order, the groups in order of first appearance.
pub fn groups<R: FifoRecord>(records: &[R]) -> Vec<Vec<usize>> {
    let mut groups: Vec<(Option<&str>, Vec<usize>)> = Vec::new();
    for (index, record) in records.iter().enumerate() {
        match record.group_id() {
            Some(group) => match groups.iter_mut().find(|(g, _)| *g == Some(group)) {
                Some((_, members)) => members.push(index),
                None => groups.push((Some(group), vec![index])),
            },
            None => groups.push((None, vec![index])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// Runs `handle` over the records: groups concurrently (at most `concurrency` at once), each
/// group in order, stopping a group at its first failure. Returns each record's outcome, in the
/// records' order.
pub async fn run<'a, R, F, Fut, E>(records: &'a [R], concurrency: usize, handle: F) -> Vec<Outcome>
where
    R: FifoRecord,
    F: Fn(&'a R) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let handle = &handle;
    let per_group = futures_util::stream::iter(groups(records))
        .map(|members| async move {
            let mut outcomes = Vec::with_capacity(members.len());
            let mut failed = false;
            for index in members {
                let outcome = if failed {
                    Outcome::Skipped
                } else {
                    match handle(&records[index]).await {
                        Ok(()) => Outcome::Done,
                        Err(err) => {
                            failed = true;
                            Outcome::Failed(err.to_string())
                        }
                    }
                };
                outcomes.push((index, outcome));
            }
            outcomes
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let mut outcomes = vec![Outcome::Skipped; records.len()];
    for (index, outcome) in per_group.into_iter().flatten() {
        outcomes[index] = outcome;
    }
    outcomes
}

/// A record as a handler sees it: its body, its message group (on a standard queue, its own
/// id: a group of one), SQS's id for it (what logs name it by: never its content), and who sent
/// it (SQS's `SenderId`: the sender's IAM unique id, which no sender can forge; `None` only when
/// the attribute is missing, which SQS never does), and how many times SQS has handed it out
/// (`ApproximateReceiveCount`, this time included; 1 when the attribute is missing or
/// unparsable). A record skipped because an earlier record of its group failed comes back too,
/// so the count is of receives, not of attempts by the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub body: &'a str,
    pub group_id: &'a str,
    pub message_id: &'a str,
    pub sender_id: Option<&'a str>,
    pub receive_count: u32,
}

/// One SQS batch through [`run`]: each message handed to `handle` as a [`Record`], each failure
/// logged with its reason, and the partial batch response for SQS. The kit's FIFO shell
/// (`kit::fifo`) calls it.
pub async fn handle_batch<'a, F, Fut, E>(
    messages: &'a [SqsMessage],
    concurrency: usize,
    handle: F,
) -> SqsBatchResponse
where
    F: Fn(Record<'a>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let outcomes = run(messages, concurrency, |message: &'a SqsMessage| {
        handle(Record {
            body: message.body.as_deref().unwrap_or_default(),
            group_id: message
                .group_id()
                .unwrap_or(FifoRecord::message_id(message)),
            message_id: FifoRecord::message_id(message),
            sender_id: message.attributes.get(SENDER_ATTRIBUTE).map(String::as_str),
            receive_count: receive_count(message),
        })
    })
    .await;
    for (message, outcome) in messages.iter().zip(&outcomes) {
        if let Outcome::Failed(reason) = outcome {
            tracing::warn!(message_id = FifoRecord::message_id(message), %reason, "record failed; it and the rest of its group come back");
        }
    }
    batch_response(messages, &outcomes)
}

/// The partial batch response for these outcomes: every record not done, in order.
pub fn batch_response<R: FifoRecord>(records: &[R], outcomes: &[Outcome]) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = records
        .iter()
        .zip(outcomes)
        .filter(|(_, outcome)| **outcome != Outcome::Done)
        .map(|(record, _)| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id().to_owned();
            failure
        })
        .collect();
    response
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    struct Record {
        id: String,
        group: Option<String>,
    }

    impl FifoRecord for Record {
        fn message_id(&self) -> &str {
            &self.id
        }
        fn group_id(&self) -> Option<&str> {
            self.group.as_deref()
        }
    }

    fn record(id: &str, group: &str) -> Record {
        Record {
            id: id.into(),
            group: Some(group.into()),
        }
    }

    #[tokio::test]
    async fn a_failure_stops_its_group_and_only_its_group() {
        let records = [
            record("a1", "a"),
            record("b1", "b"),
            record("a2", "a"),
            record("b2", "b"),
            record("a3", "a"),
        ];
        let ran = Mutex::new(Vec::new());
        let outcomes = run(&records, 4, |r: &Record| {
            ran.lock().unwrap().push(r.id.clone());
            let fail = r.id == "a2";
            async move { if fail { Err("boom") } else { Ok(()) } }
        })
        .await;
        assert_eq!(
            outcomes,
            [
                Outcome::Done,
                Outcome::Done,
                Outcome::Failed("boom".into()),
                Outcome::Done,
                Outcome::Skipped
            ]
        );
        assert!(
            !ran.lock().unwrap().contains(&"a3".to_owned()),
            "a3 never ran"
        );
        let response = batch_response(&records, &outcomes);
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["a2", "a3"]);
    }

    #[tokio::test]
    async fn an_sqs_message_is_grouped_by_its_message_group_id() {
        let mut message = SqsMessage::default();
        message.message_id = Some("m1".into());
        message
            .attributes
            .insert("MessageGroupId".into(), "acme/c/01CONV".into());
        assert_eq!(message.group_id(), Some("acme/c/01CONV"));
        assert_eq!(FifoRecord::message_id(&message), "m1");
    }

    #[test]
    fn the_receive_count_is_sqss_else_one() {
        let with = |count: Option<&str>| {
            let mut message = SqsMessage::default();
            if let Some(count) = count {
                message
                    .attributes
                    .insert("ApproximateReceiveCount".into(), count.into());
            }
            receive_count(&message)
        };
        assert_eq!(with(Some("4")), 4);
        assert_eq!(with(Some("1")), 1);
        for odd in [
            None,
            Some(""),
            Some("0"),
            Some("-2"),
            Some("many"),
            Some("99999999999"),
        ] {
            assert_eq!(with(odd), 1, "{odd:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn groups_run_concurrently_but_a_group_never_overlaps_itself() {
        // Group "slow" sleeps; "fast" must not wait for it, and "slow"'s records must not overlap.
        let records = [
            record("s1", "slow"),
            record("f1", "fast"),
            record("s2", "slow"),
            record("f2", "fast"),
        ];
        let log = Mutex::new(Vec::new());
        run(&records, 2, |r: &Record| {
            let log = &log;
            let id = r.id.clone();
            async move {
                log.lock().unwrap().push(format!("start {id}"));
                if id.starts_with('s') {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                log.lock().unwrap().push(format!("end {id}"));
                Ok::<(), String>(())
            }
        })
        .await;
        let log = log.into_inner().unwrap();
        let at = |entry: &str| log.iter().position(|e| e == entry).unwrap();
        assert!(
            at("end f2") < at("end s1"),
            "fast did not wait for slow: {log:?}"
        );
        assert!(at("end s1") < at("start s2"), "slow ran in order: {log:?}");
    }

    proptest! {
        /// Whatever fails, per group: everything before the first failure is done, the failure
        /// is failed, everything after is skipped; and the response lists exactly the rest.
        #[test]
        fn outcomes_follow_the_group_rule(
            spec in proptest::collection::vec((0u8..3, prop::bool::weighted(0.2)), 0..20)
        ) {
            let records: Vec<Record> = spec.iter().enumerate()
                .map(|(i, (g, _))| record(&format!("r{i}"), &format!("g{g}")))
                .collect();
            let failing: Vec<bool> = spec.iter().map(|(_, f)| *f).collect();
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let outcomes = runtime.block_on(run(&records, 3, |r: &Record| {
                let index: usize = r.id[1..].parse().unwrap();
                let fail = failing[index];
                async move { if fail { Err("x") } else { Ok(()) } }
            }));
            for group in 0u8..3 {
                let mut seen_failure = false;
                for (i, (g, fail)) in spec.iter().enumerate() {
                    if *g != group { continue; }
                    let expected = if seen_failure { Outcome::Skipped }
                        else if *fail { seen_failure = true; Outcome::Failed("x".into()) }
                        else { Outcome::Done };
                    prop_assert_eq!(&outcomes[i], &expected);
                }
            }
            let response = batch_response(&records, &outcomes);
            let expected: Vec<String> = records.iter().zip(&outcomes)
                .filter(|(_, o)| **o != Outcome::Done).map(|(r, _)| r.id.clone()).collect();
            let got: Vec<String> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
            prop_assert_eq!(got, expected);
        }
    }
}
