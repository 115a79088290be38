//! `switchboard-admin events tail`: the events queue, one readable line per event.

use std::collections::HashSet;

use clap::{Args, Subcommand};

use crate::AdminError;
use crate::dlq::{make_visible, queue_url, receive};

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(subcommand)]
    command: EventsCommand,
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Print the events on the events queue, one line each (kind, tenant, conversation, text
    /// cut to 40 characters, media count, delivery status or send outcome). Leaves them on the
    /// queue (visible again when it ends) unless --consume.
    Tail(TailArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["prefix", "queue_url"])))]
struct TailArgs {
    /// Prefix of the local stack's physical names: reads {prefix}-EventsQueue.fifo.
    #[arg(long)]
    prefix: Option<String>,
    /// The events queue's URL (a deployed stack, or a tenant's own queue).
    #[arg(long)]
    queue_url: Option<String>,
    /// Keep waiting for new events until Ctrl-C.
    #[arg(long)]
    follow: bool,
    /// Delete each event once printed (as the contact center would): only when nobody else
    /// consumes the queue.
    #[arg(long)]
    consume: bool,
    /// Print each event's full JSON body (customer content included) instead of a line.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: EventsArgs) -> Result<(), AdminError> {
    let EventsCommand::Tail(args) = args.command;
    let sdk_config = switchboard_shared::aws::load_sdk_config().await;
    let sqs = switchboard_shared::aws::sqs_client(&sdk_config);
    let url = match (&args.queue_url, &args.prefix) {
        (Some(url), _) => url.clone(),
        (None, Some(prefix)) => queue_url(&sqs, &format!("{prefix}-EventsQueue.fifo")).await?,
        (None, None) => return Err(AdminError::Usage("give --prefix or --queue-url".into())),
    };
    let mut held = Vec::new();
    let mut seen = HashSet::new();
    let result = async {
        loop {
            let batch = tokio::select! {
                batch = receive(&sqs, &url, 10, 30) => batch?,
                _ = tokio::signal::ctrl_c() => break,
            };
            if batch.is_empty() {
                if args.follow {
                    tokio::select! {
                        () = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                        _ = tokio::signal::ctrl_c() => break,
                    }
                }
                break;
            }
            for message in batch {
                if seen.insert(message.message_id.clone()) {
                    let line = if args.json {
                        message.body.clone()
                    } else {
                        event_line(&message.body)
                    };
                    crate::print(&format!("{line}\n"))?;
                }
                if args.consume {
                    sqs.delete_message()
                        .queue_url(&url)
                        .receipt_handle(&message.receipt_handle)
                        .send()
                        .await
                        .map_err(|err| {
                            AdminError::Queue(format!(
                                "DeleteMessage on {url}: {}",
                                switchboard_shared::aws::describe_error(&err)
                            ))
                        })?;
                } else {
                    held.push(message.receipt_handle);
                }
            }
        }
        Ok::<(), AdminError>(())
    }
    .await;
    for receipt in &held {
        make_visible(&sqs, &url, receipt).await;
    }
    result
}

fn text(value: &serde_json::Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// One line for an event of the inbound event contract: never more than 40 characters of text.
pub fn event_line(body: &str) -> String {
    let Ok(event) = serde_json::from_str::<serde_json::Value>(body) else {
        return format!("(not JSON, {} bytes)", body.len());
    };
    let mut line = format!(
        "{} {} tenant={} conversation={}",
        text(&event, "/received_at").unwrap_or_else(|| "-".into()),
        text(&event, "/kind").unwrap_or_else(|| "-".into()),
        text(&event, "/tenant").unwrap_or_else(|| "-".into()),
        text(&event, "/conversation_id").unwrap_or_else(|| "-".into()),
    );
    if let Some(reply_id) = text(&event, "/reply_id") {
        line.push_str(&format!(" reply_id={reply_id}"));
    }
    if let Some(message_text) = text(&event, "/message/text") {
        let cut: String = message_text.chars().take(40).collect();
        let more = if cut.len() < message_text.len() {
            "…"
        } else {
            ""
        };
        line.push_str(&format!(" text={:?}", format!("{cut}{more}")));
    }
    let media = match event.pointer("/message/media") {
        Some(serde_json::Value::Array(items)) => items.len(),
        Some(serde_json::Value::Null) | None => 0,
        Some(_) => 1,
    };
    if media > 0 {
        line.push_str(&format!(" media={media}"));
    }
    if let Some(status) = text(&event, "/delivery/status") {
        line.push_str(&format!(" status={status}"));
    }
    if let Some(outcome) = text(&event, "/send_result/outcome") {
        line.push_str(&format!(" outcome={outcome}"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/../../schemas/examples/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn one_line_per_kind_of_event() {
        let line = event_line(&example("message-text"));
        assert!(
            line.contains(" message tenant=acme conversation=01EQ8172"),
            "{line}"
        );
        assert!(event_line(&example("delivery-failed")).contains("status="));
        assert!(event_line(&example("send-result-failed")).contains("outcome="));
        assert_eq!(event_line("nope"), "(not JSON, 4 bytes)");
    }
}
