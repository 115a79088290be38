//! `switchboard-admin dlq`: the stack's dead-letter queues — list them, read their messages
//! without consuming them, and move them back to their source queues.
//!
//! The dead-letter queues come from the template (each queue's `RedrivePolicy`), named as the
//! local stack names them (`{prefix}-{LogicalId}.fifo`), or one is given by URL (a deployed
//! stack). Nothing here prints a customer's text unless `--json` asks for the raw bodies.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use clap::{Args, Subcommand};
use serde::Serialize;
use switchboard_local_stack::Template;
use switchboard_local_stack::local_stack::queue_name;
use switchboard_shared::sqs::{FifoMessage, send_fifo};

use crate::AdminError;

/// SQS's FIFO de-duplication window.
const DEDUP_WINDOW: Duration = Duration::from_secs(5 * 60);
/// How long a message read by `redrive` stays hidden: long enough for one send and delete, short
/// enough that an interrupted run leaves nothing hidden for long.
const REDRIVE_VISIBILITY_SECS: i32 = 30;
/// How long `show` hides what it read before making it visible again (at the end).
const SHOW_VISIBILITY_SECS: i32 = 30;

#[derive(Debug, Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    command: DlqCommand,
}

#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// Each dead-letter queue of the stack with its approximate message count and its source
    /// queue.
    List(ListArgs),
    /// The messages of one dead-letter queue, summarized (kind, tenant, reply_id/event_id, group,
    /// receive count, source queue), without deleting them: they are visible again when it ends.
    /// FIFO: a message group's later messages show only once its first ones are gone.
    Show(ShowArgs),
    /// Move every message of one dead-letter queue back to its source queue, keeping its
    /// MessageGroupId and (outside SQS's 5-minute de-duplication window) its
    /// MessageDeduplicationId; each is deleted from the dead-letter queue only once the send
    /// succeeded. Stops at the first failure, leaving that message and the rest in place.
    Redrive(RedriveArgs),
}

#[derive(Debug, Args)]
struct StackArgs {
    /// Prefix of the stack's physical names ({prefix}-{LogicalId}.fifo), as given to
    /// `local-stack`.
    #[arg(long)]
    prefix: String,
    /// The SAM template declaring the queues.
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
}

#[derive(Debug, Args)]
struct ListArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// One JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
#[group(id = "which", required = true, multiple = false)]
struct WhichDlq {
    /// Logical id of the dead-letter queue (e.g. RepliesDeadLetterQueue) or of its source queue
    /// (e.g. RepliesQueue); needs --prefix.
    #[arg(long, group = "which", requires = "prefix")]
    queue: Option<String>,
    /// The dead-letter queue's URL (a deployed stack: `aws sqs get-queue-url --queue-name …`).
    #[arg(long, group = "which")]
    queue_url: Option<String>,
}

#[derive(Debug, Args)]
struct ShowArgs {
    #[command(flatten)]
    which: WhichDlq,
    /// Prefix of the stack's physical names, with --queue.
    #[arg(long)]
    prefix: Option<String>,
    /// The SAM template declaring the queues, with --queue.
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
    /// At most this many messages.
    #[arg(long, default_value_t = 100)]
    max: usize,
    /// JSON lines, one per message, with the full body (customer content included).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct RedriveArgs {
    #[command(flatten)]
    which: WhichDlq,
    /// Prefix of the stack's physical names, with --queue.
    #[arg(long)]
    prefix: Option<String>,
    /// The SAM template declaring the queues, with --queue.
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
    /// The source queue's URL, where messages go back to: required with --queue-url.
    #[arg(long, value_name = "SOURCE_QUEUE_URL")]
    to: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: DlqArgs) -> Result<(), AdminError> {
    let sdk_config = switchboard_shared::aws::load_sdk_config().await;
    let sqs = switchboard_shared::aws::sqs_client(&sdk_config);
    match args.command {
        DlqCommand::List(args) => list(&sqs, args).await,
        DlqCommand::Show(args) => show(&sqs, args).await,
        DlqCommand::Redrive(args) => redrive(&sqs, args).await,
    }
}

/// A dead-letter queue of the template and the queue it is the target of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlqPair {
    pub dead_letter: String,
    pub source: String,
    pub max_receive_count: u32,
}

/// Every (dead-letter queue, source queue) pair of the template, by the DLQ's logical id.
pub fn dead_letter_queues(template: &Template) -> Vec<DlqPair> {
    template
        .queues
        .iter()
        .filter_map(|(id, spec)| {
            spec.redrive.as_ref().map(|redrive| DlqPair {
                dead_letter: redrive.dead_letter_target.clone(),
                source: id.clone(),
                max_receive_count: redrive.max_receive_count,
            })
        })
        .collect()
}

fn fifo(template: &Template, id: &str) -> bool {
    template.queues.get(id).is_some_and(|spec| spec.fifo)
}

pub(crate) async fn queue_url(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<String, AdminError> {
    let answer = sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(|err| {
            AdminError::Queue(format!(
                "queue {name} not found ({}): check --prefix and AWS_ENDPOINT_URL/AWS_REGION \
                 (`switchboard-admin local-stack --prefix …` creates the local stack), or give \
                 --queue-url",
                switchboard_shared::aws::describe_error(&err)
            ))
        })?;
    answer
        .queue_url
        .ok_or_else(|| AdminError::Queue(format!("GetQueueUrl answered no URL for {name}")))
}

/// The DLQ URL and, when known, its source queue URL.
async fn resolve(
    sqs: &aws_sdk_sqs::Client,
    which: &WhichDlq,
    prefix: Option<&str>,
    template: &PathBuf,
) -> Result<(String, Option<String>), AdminError> {
    if let Some(url) = &which.queue_url {
        return Ok((url.clone(), None));
    }
    let (Some(id), Some(prefix)) = (which.queue.as_deref(), prefix) else {
        return Err(AdminError::Usage(
            "give --queue-url, or --queue with --prefix".into(),
        ));
    };
    let template = Template::from_path(template)?;
    let pairs = dead_letter_queues(&template);
    let Some(pair) = pairs
        .iter()
        .find(|pair| pair.dead_letter == id || pair.source == id)
    else {
        let known: Vec<&str> = pairs.iter().map(|p| p.dead_letter.as_str()).collect();
        return Err(AdminError::Usage(format!(
            "{id} is neither a dead-letter queue of the template nor a queue with one; \
             the dead-letter queues are {known:?} (see `switchboard-admin dlq list`)"
        )));
    };
    let dlq = queue_url(
        sqs,
        &queue_name(
            prefix,
            &pair.dead_letter,
            fifo(&template, &pair.dead_letter),
        ),
    )
    .await?;
    let source = queue_url(
        sqs,
        &queue_name(prefix, &pair.source, fifo(&template, &pair.source)),
    )
    .await?;
    Ok((dlq, Some(source)))
}

async fn approximate_count(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<(u64, u64), AdminError> {
    let answer = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(|err| {
            AdminError::Queue(format!(
                "GetQueueAttributes on {url}: {}",
                switchboard_shared::aws::describe_error(&err)
            ))
        })?;
    let attributes = answer.attributes.unwrap_or_default();
    let number = |name: QueueAttributeName| {
        attributes
            .get(&name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok((
        number(QueueAttributeName::ApproximateNumberOfMessages),
        number(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    ))
}

#[derive(Debug, Serialize)]
struct ListedDlq {
    dead_letter_queue: String,
    url: String,
    approximate_messages: u64,
    approximate_in_flight: u64,
    source_queue: String,
    source_url: String,
    max_receive_count: u32,
}

async fn list(sqs: &aws_sdk_sqs::Client, args: ListArgs) -> Result<(), AdminError> {
    let template = Template::from_path(&args.stack.template)?;
    let mut listed = Vec::new();
    for pair in dead_letter_queues(&template) {
        let prefix = &args.stack.prefix;
        let url = queue_url(
            sqs,
            &queue_name(
                prefix,
                &pair.dead_letter,
                fifo(&template, &pair.dead_letter),
            ),
        )
        .await?;
        let source_url = queue_url(
            sqs,
            &queue_name(prefix, &pair.source, fifo(&template, &pair.source)),
        )
        .await?;
        let (visible, in_flight) = approximate_count(sqs, &url).await?;
        listed.push(ListedDlq {
            dead_letter_queue: pair.dead_letter,
            url,
            approximate_messages: visible,
            approximate_in_flight: in_flight,
            source_queue: pair.source,
            source_url,
            max_receive_count: pair.max_receive_count,
        });
    }
    if args.json {
        return crate::print(&(serde_json::to_string_pretty(&listed)? + "\n"));
    }
    let mut out = format!(
        "{:<28} {:>8} {:>9}  {:<20} {}\n",
        "DEAD-LETTER QUEUE", "MESSAGES", "IN FLIGHT", "SOURCE", "AFTER RECEIVES"
    );
    for dlq in &listed {
        out.push_str(&format!(
            "{:<28} {:>8} {:>9}  {:<20} {}\n",
            dlq.dead_letter_queue,
            dlq.approximate_messages,
            dlq.approximate_in_flight,
            dlq.source_queue,
            dlq.max_receive_count
        ));
    }
    crate::print(&out)
}

/// What can be said about a message without its customer content.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct Summary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

/// The identifying fields of a body: top-level `kind`/`type`, `tenant`, `reply_id`,
/// `event_id`, falling back to the message attributes of the same names. Never the text.
pub fn summarize(body: &str, attributes: &BTreeMap<String, String>) -> Summary {
    let value: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let field = |name: &str| {
        value
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .or_else(|| attributes.get(name).cloned())
    };
    let kind = field("kind").or_else(|| field("type")).or_else(|| {
        // An agent command has no kind field: it is a message or an event.
        let v = value.as_ref()?;
        if v.get("message").is_some() {
            Some("command:message".into())
        } else if v.get("event").is_some() {
            Some("command:event".into())
        } else {
            None
        }
    });
    Summary {
        kind,
        tenant: field("tenant"),
        reply_id: field("reply_id"),
        event_id: field("event_id"),
    }
}

/// One message read from a dead-letter queue.
#[derive(Debug, Clone)]
pub(crate) struct DeadLetter {
    pub(crate) message_id: String,
    pub(crate) receipt_handle: String,
    pub(crate) body: String,
    group_id: Option<String>,
    deduplication_id: Option<String>,
    receive_count: Option<u64>,
    sent: Option<SystemTime>,
    source_arn: Option<String>,
    /// String attributes; a message with another type of attribute is refused by `redrive`.
    attributes: BTreeMap<String, String>,
    other_attribute_types: Vec<String>,
}

pub(crate) async fn receive(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    max: i32,
    visibility: i32,
) -> Result<Vec<DeadLetter>, AdminError> {
    let answer = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max.clamp(1, 10))
        .visibility_timeout(visibility)
        .wait_time_seconds(0)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await
        .map_err(|err| {
            AdminError::Queue(format!(
                "ReceiveMessage on {url}: {}",
                switchboard_shared::aws::describe_error(&err)
            ))
        })?;
    Ok(answer
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|message| {
            let system = message.attributes.unwrap_or_default();
            let get = |name: MessageSystemAttributeName| system.get(&name).cloned();
            let mut attributes = BTreeMap::new();
            let mut other_attribute_types = Vec::new();
            for (name, value) in message.message_attributes.unwrap_or_default() {
                match (value.data_type.as_str(), value.string_value) {
                    ("String", Some(text)) => {
                        attributes.insert(name, text);
                    }
                    (data_type, _) => other_attribute_types.push(format!("{name}: {data_type}")),
                }
            }
            DeadLetter {
                message_id: message.message_id.unwrap_or_default(),
                receipt_handle: message.receipt_handle.unwrap_or_default(),
                body: message.body.unwrap_or_default(),
                group_id: get(MessageSystemAttributeName::MessageGroupId),
                deduplication_id: get(MessageSystemAttributeName::MessageDeduplicationId),
                receive_count: get(MessageSystemAttributeName::ApproximateReceiveCount)
                    .and_then(|v| v.parse().ok()),
                sent: get(MessageSystemAttributeName::SentTimestamp)
                    .and_then(|v| v.parse::<u64>().ok())
                    .map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
                source_arn: get(MessageSystemAttributeName::DeadLetterQueueSourceArn),
                attributes,
                other_attribute_types,
            }
        })
        .collect())
}

pub(crate) async fn make_visible(sqs: &aws_sdk_sqs::Client, url: &str, receipt_handle: &str) {
    // Best effort: if this fails, the message is visible again after its short timeout anyway.
    let _ = sqs
        .change_message_visibility()
        .queue_url(url)
        .receipt_handle(receipt_handle)
        .visibility_timeout(0)
        .send()
        .await;
}

fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

async fn show(sqs: &aws_sdk_sqs::Client, args: ShowArgs) -> Result<(), AdminError> {
    let (url, _) = resolve(sqs, &args.which, args.prefix.as_deref(), &args.template).await?;
    let mut read: Vec<DeadLetter> = Vec::new();
    let mut result = Ok(());
    while read.len() < args.max {
        let want = (args.max - read.len()).min(10) as i32;
        match receive(sqs, &url, want, SHOW_VISIBILITY_SECS).await {
            Ok(batch) if batch.is_empty() => break,
            Ok(batch) => read.extend(batch),
            Err(err) => {
                result = Err(err);
                break;
            }
        }
    }
    let mut out = String::new();
    for message in &read {
        let summary = summarize(&message.body, &message.attributes);
        if args.json {
            let line = serde_json::json!({
                "message_id": message.message_id,
                "group_id": message.group_id,
                "deduplication_id": message.deduplication_id,
                "receive_count": message.receive_count,
                "sent_unix": message.sent.map(unix_secs),
                "source_arn": message.source_arn,
                "summary": summary,
                "attributes": message.attributes,
                "body": message.body,
            });
            out.push_str(&serde_json::to_string(&line)?);
            out.push('\n');
        } else {
            out.push_str(&format!(
                "{} kind={} tenant={} reply_id={} event_id={} group={} receives={} source={}\n",
                message.message_id,
                summary.kind.as_deref().unwrap_or("-"),
                summary.tenant.as_deref().unwrap_or("-"),
                summary.reply_id.as_deref().unwrap_or("-"),
                summary.event_id.as_deref().unwrap_or("-"),
                message.group_id.as_deref().unwrap_or("-"),
                message
                    .receive_count
                    .map_or_else(|| "-".to_owned(), |n| n.to_string()),
                message.source_arn.as_deref().unwrap_or("-"),
            ));
        }
    }
    for message in &read {
        make_visible(sqs, &url, &message.receipt_handle).await;
    }
    if !args.json {
        out.push_str(&format!(
            "{} message(s) shown, left in place{}\n",
            read.len(),
            if read.len() >= args.max {
                " (--max reached)"
            } else {
                ""
            }
        ));
    }
    crate::print(&out)?;
    result
}

/// The de-duplication id to redrive with. SQS silently drops a message whose id it saw within
/// the last 5 minutes (per message group here), so a message first sent within that window
/// gets a new id (`{original}-redrive-{unix seconds}`, cut to 128 characters); outside it the
/// original id is kept, so a redrive repeated after an interruption (sent, not yet deleted)
/// within 5 minutes is de-duplicated by SQS instead of sent twice.
pub fn redrive_deduplication_id(
    original: Option<&str>,
    message_id: &str,
    sent: Option<SystemTime>,
    now: SystemTime,
) -> String {
    let original = original.unwrap_or(message_id);
    let outside_window =
        sent.is_some_and(|sent| now.duration_since(sent).is_ok_and(|age| age > DEDUP_WINDOW));
    if outside_window {
        return original.to_owned();
    }
    let suffix = format!("-redrive-{}", unix_secs(now));
    let keep = 128usize.saturating_sub(suffix.len());
    let cut: String = original.chars().take(keep).collect();
    cut + &suffix
}

#[derive(Debug, Serialize, Default)]
struct RedriveSummary {
    dead_letter_queue_url: String,
    source_queue_url: String,
    moved: usize,
    failed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn attribute_name(name: &str) -> &'static str {
    // FifoMessage names attributes with &'static str (the functions' names are constants); a
    // redrive copies whatever names the message has, a handful per run.
    Box::leak(name.to_owned().into_boxed_str())
}

async fn redrive_one(
    sqs: &aws_sdk_sqs::Client,
    dlq: &str,
    source: &str,
    message: &DeadLetter,
) -> Result<(), String> {
    if !message.other_attribute_types.is_empty() {
        return Err(format!(
            "message {} has non-string attributes {:?}, which this command does not copy; \
             move it with `aws sqs start-message-move-task`",
            message.message_id, message.other_attribute_types
        ));
    }
    let Some(group_id) = message.group_id.as_deref() else {
        return Err(format!(
            "message {} has no MessageGroupId: is {dlq} a FIFO queue?",
            message.message_id
        ));
    };
    let mut names: HashMap<&str, &'static str> = HashMap::new();
    let attributes: Vec<(&'static str, &str)> = message
        .attributes
        .iter()
        .map(|(name, value)| {
            let name = *names.entry(name).or_insert_with(|| attribute_name(name));
            (name, value.as_str())
        })
        .collect();
    let dedup = redrive_deduplication_id(
        message.deduplication_id.as_deref(),
        &message.message_id,
        message.sent,
        SystemTime::now(),
    );
    let fifo = FifoMessage::text(message.body.clone(), group_id, dedup, &attributes)
        .map_err(|err| format!("message {}: {err}", message.message_id))?;
    send_fifo(sqs, source, &fifo)
        .await
        .map_err(|err| format!("message {} not sent to {source}: {err}", message.message_id))?;
    sqs.delete_message()
        .queue_url(dlq)
        .receipt_handle(&message.receipt_handle)
        .send()
        .await
        .map_err(|err| {
            format!(
                "message {} was sent to {source} but not deleted from {dlq} ({}): it is there \
                 twice now; delete it from the dead-letter queue by hand or rerun within 5 \
                 minutes (SQS then drops the duplicate)",
                message.message_id,
                switchboard_shared::aws::describe_error(&err)
            )
        })?;
    Ok(())
}

async fn redrive(sqs: &aws_sdk_sqs::Client, args: RedriveArgs) -> Result<(), AdminError> {
    let (dlq, source) = resolve(sqs, &args.which, args.prefix.as_deref(), &args.template).await?;
    let source = match (args.to, source) {
        (Some(to), _) => to,
        (None, Some(source)) => source,
        (None, None) => {
            return Err(AdminError::Usage(
                "--queue-url needs --to SOURCE_QUEUE_URL: the queue the messages go back to".into(),
            ));
        }
    };
    let mut summary = RedriveSummary {
        dead_letter_queue_url: dlq.clone(),
        source_queue_url: source.clone(),
        ..RedriveSummary::default()
    };
    'outer: loop {
        let batch = match receive(sqs, &dlq, 10, REDRIVE_VISIBILITY_SECS).await {
            Ok(batch) if batch.is_empty() => break,
            Ok(batch) => batch,
            Err(err) => {
                summary.error = Some(err.to_string());
                break;
            }
        };
        for (index, message) in batch.iter().enumerate() {
            match redrive_one(sqs, &dlq, &source, message).await {
                Ok(()) => {
                    summary.moved += 1;
                    if summary.moved.is_multiple_of(10) {
                        eprintln!("redrive: {} moved", summary.moved);
                    }
                }
                Err(error) => {
                    // Stop: a later message of the same group must not overtake this one.
                    summary.failed += 1;
                    summary.error = Some(error);
                    for left in &batch[index..] {
                        make_visible(sqs, &dlq, &left.receipt_handle).await;
                    }
                    break 'outer;
                }
            }
        }
    }
    if args.json {
        crate::print(&(serde_json::to_string(&summary)? + "\n"))?;
    } else {
        crate::print(&format!(
            "redrive: {} message(s) moved from {} to {}{}\n",
            summary.moved,
            summary.dead_letter_queue_url,
            summary.source_queue_url,
            if summary.error.is_some() {
                "; stopped at a failure, the rest left in place"
            } else {
                ""
            }
        ))?;
    }
    match summary.error {
        Some(error) => Err(AdminError::Queue(error)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_s_dead_letter_queues_and_their_sources() {
        let template =
            Template::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
                .unwrap();
        let pairs = dead_letter_queues(&template);
        let names: Vec<(&str, &str)> = pairs
            .iter()
            .map(|p| (p.dead_letter.as_str(), p.source.as_str()))
            .collect();
        assert!(names.contains(&("RepliesDeadLetterQueue", "RepliesQueue")));
        assert!(names.contains(&("EventsDeadLetterQueue", "EventsQueue")));
        assert!(names.contains(&("IngestDeadLetterQueue", "IngestQueue")));
    }

    #[test]
    fn a_summary_never_holds_the_text() {
        let body =
            r#"{"reply_id":"r-1","tenant":"demo","message":{"text_message":{"text":"secret"}}}"#;
        let summary = summarize(body, &BTreeMap::new());
        assert_eq!(summary.kind.as_deref(), Some("command:message"));
        assert_eq!(summary.reply_id.as_deref(), Some("r-1"));
        assert!(!serde_json::to_string(&summary).unwrap().contains("secret"));
        let attributes = BTreeMap::from([("tenant".to_owned(), "acme".to_owned())]);
        assert_eq!(
            summarize("not json", &attributes).tenant.as_deref(),
            Some("acme")
        );
    }

    #[test]
    fn the_original_dedup_id_is_kept_only_outside_the_window() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let old = now - Duration::from_secs(600);
        let recent = now - Duration::from_secs(60);
        assert_eq!(
            redrive_deduplication_id(Some("d"), "m", Some(old), now),
            "d"
        );
        assert_eq!(
            redrive_deduplication_id(Some("d"), "m", Some(recent), now),
            "d-redrive-1000000"
        );
        assert_eq!(
            redrive_deduplication_id(None, "m", None, now),
            "m-redrive-1000000"
        );
        let long = "x".repeat(128);
        assert_eq!(
            redrive_deduplication_id(Some(&long), "m", Some(recent), now).len(),
            128
        );
    }
}
