//! Where a tenant's events go: one resolution, used by the inbound stage (forwarded events) and
//! the outbound function (`send_result`s), and the checks that keep one tenant's events off
//! queues that are not its contact center's.
//!
//! **Resolution** ([`StackQueues::resolve`]): the queue's own `target_queue_url`, else the
//! tenant's `contact_center.default_target_queue_url`, else the stack's events queue. An event
//! about no known tenant goes to the events queue.
//!
//! **Checks.** A target must be an SQS FIFO queue URL,
//! `https://sqs.{region}.amazonaws.com/{account}/{name}.fifo` (`.amazonaws.com.cn` in China), or,
//! for local runs, `http(s)://{loopback}[:port]/{account}/{name}.fifo` (moto): the seed refuses
//! anything else, naming the field ([`check_target_queue_url`]). Where the functions read the
//! config they also know the stack's events queue, and refuse ([`StackQueues::check`]):
//! - a loopback target when the stack itself is not local (a deployment never sends there);
//! - one of the stack's own queues: `ingest`, `replies` and every dead-letter queue. They are
//!   recognised by name: CloudFormation names a queue `{stack}-{LogicalId}-{suffix}.fifo` (and
//!   the local stack `{prefix}-{LogicalId}.fifo`), so in the events queue's account, a name
//!   that starts with the events queue's `{stack}-` followed by one of the stack's queue logical
//!   ids is refused. The events queue itself is allowed (it is what "no target" means). A stack
//!   name so long that CloudFormation truncates the logical id in the queue name escapes this
//!   name check (the shape check still holds).

use super::model::{QueueConfig, TenantConfig};
use crate::address::QueueAddress;

/// The stack's queues, by their logical ids in template.yaml (lower case: compared without case).
const STACK_QUEUE_IDS: [&str; 6] = [
    "ingestqueue",
    "ingestdeadletterqueue",
    "eventsqueue",
    "eventsdeadletterqueue",
    "repliesqueue",
    "repliesdeadletterqueue",
];

/// The shape of a target queue URL; `Err` says what is wrong (the caller names the field).
pub fn check_target_queue_url(text: &str) -> Result<(), String> {
    parse_target(text).map(|_| ())
}

struct Target {
    host: String,
    account: String,
    /// Lower case.
    name: String,
    loopback: bool,
}

fn parse_target(text: &str) -> Result<Target, String> {
    const SHAPE: &str = "must be an SQS FIFO queue URL: https://sqs.{region}.amazonaws.com/{account}/{name}.fifo \
                         (or http(s) to loopback for a local run)";
    let url = url::Url::parse(text).map_err(|_| format!("'{text}' is not a URL; it {SHAPE}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("'{text}' must not carry user info"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("'{text}' must not carry a query or fragment"));
    }
    let loopback = crate::loopback::is_loopback(&url)
        .ok_or_else(|| format!("'{text}' has no host; it {SHAPE}"))?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let aws = url.scheme() == "https" && url.port().is_none() && is_sqs_host(&host);
    let local = loopback && matches!(url.scheme(), "http" | "https");
    if !aws && !local {
        return Err(format!("'{text}' {SHAPE}"));
    }
    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    let [account, name] = segments.as_slice() else {
        return Err(format!("'{text}' {SHAPE}"));
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{text}' {SHAPE}; its path must start with a 12-digit account id"
        ));
    }
    let Some(stem) = name.strip_suffix(".fifo") else {
        return Err(format!(
            "'{text}' is not a FIFO queue (its name must end in .fifo): events are ordered per conversation"
        ));
    };
    if stem.is_empty()
        || name.len() > 80
        || !stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "'{text}' has a queue name SQS does not allow (1 to 75 of A-Z a-z 0-9 - _, then .fifo)"
        ));
    }
    Ok(Target {
        host,
        account: (*account).to_owned(),
        name: name.to_ascii_lowercase(),
        loopback,
    })
}

/// `sqs.{region}.amazonaws.com` or `sqs.{region}.amazonaws.com.cn`.
fn is_sqs_host(host: &str) -> bool {
    let region = host
        .strip_prefix("sqs.")
        .and_then(|rest| {
            rest.strip_suffix(".amazonaws.com")
                .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))
        })
        .unwrap_or_default();
    !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A target refused where a function reads the config: a config error, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tenant '{tenant}': {field} {problem}")]
pub struct TargetError {
    pub tenant: String,
    /// `queues['{address}'].target_queue_url` or `contact_center.default_target_queue_url`.
    pub field: String,
    pub problem: String,
}

/// What a function knows of its stack's queues: the events queue (its environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackQueues {
    events_queue_url: String,
    /// The events queue is on loopback (moto): loopback targets are allowed.
    local: bool,
    /// The events queue's host and account, and its name's `{stack}-` prefix (lower case).
    own: Option<(String, String, String)>,
}

impl StackQueues {
    /// From the stack's events queue URL (`SWITCHBOARD_EVENTS_QUEUE_URL`).
    pub fn new(events_queue_url: &str) -> StackQueues {
        let parsed = parse_target(events_queue_url).ok();
        let local = parsed.as_ref().is_some_and(|t| t.loopback)
            || crate::loopback::is_loopback_text(events_queue_url);
        let own = parsed.and_then(|t| {
            let at = t.name.find("eventsqueue")?;
            Some((t.host, t.account, t.name[..at].to_owned()))
        });
        StackQueues {
            events_queue_url: events_queue_url.to_owned(),
            local,
            own,
        }
    }

    pub fn events_queue_url(&self) -> &str {
        &self.events_queue_url
    }

    /// Whether `target` may receive a tenant's events; `Err` says why not.
    pub fn check(&self, target: &str) -> Result<(), String> {
        if target == self.events_queue_url {
            return Ok(());
        }
        let parsed = parse_target(target)?;
        if parsed.loopback && !self.local {
            return Err(format!(
                "'{target}' is on loopback, which only a local stack may use"
            ));
        }
        if let Some((host, account, prefix)) = &self.own
            && parsed.host == *host
            && parsed.account == *account
            && let Some(rest) = parsed.name.strip_prefix(prefix.as_str())
            && STACK_QUEUE_IDS.iter().any(|id| rest.starts_with(id))
        {
            return Err(format!(
                "'{target}' is one of this stack's own queues (ingest, replies or a dead-letter \
                 queue); events go to the contact center's queues only"
            ));
        }
        Ok(())
    }

    /// Where an event of `tenant` about `address` goes (see the module's doc), checked.
    pub fn resolve(
        &self,
        tenant: Option<&TenantConfig>,
        address: Option<&QueueAddress>,
    ) -> Result<String, TargetError> {
        let Some(tenant) = tenant else {
            return Ok(self.events_queue_url.clone());
        };
        let own =
            address
                .and_then(|address| tenant.queue(address))
                .and_then(|queue: &QueueConfig| {
                    queue
                        .target_queue_url
                        .as_deref()
                        .map(|url| (format!("queues['{}'].target_queue_url", queue.address), url))
                });
        let chosen = own.or_else(|| {
            tenant
                .contact_center
                .default_target_queue_url
                .as_deref()
                .map(|url| ("contact_center.default_target_queue_url".to_owned(), url))
        });
        let Some((field, url)) = chosen else {
            return Ok(self.events_queue_url.clone());
        };
        self.check(url).map_err(|problem| TargetError {
            tenant: tenant.id.to_string(),
            field,
            problem,
        })?;
        Ok(url.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: &str =
        "https://sqs.eu-west-1.amazonaws.com/123456789012/switchboard-EventsQueue-AbC123xyz.fifo";

    #[test]
    fn fifo_queue_urls_pass_and_anything_else_is_refused_saying_why() {
        for good in [
            "https://sqs.eu-west-1.amazonaws.com/123456789012/acme-events.fifo",
            "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/acme_events.fifo",
            "http://127.0.0.1:4566/123456789012/acme-events.fifo",
            "http://localhost:4566/000000000000/x.fifo",
        ] {
            assert_eq!(check_target_queue_url(good), Ok(()), "{good}");
        }
        for (bad, problem) in [
            (
                "https://sqs.eu-west-1.amazonaws.com/123456789012/acme-events",
                "not a FIFO queue",
            ),
            (
                "http://sqs.eu-west-1.amazonaws.com/123456789012/a.fifo",
                "SQS FIFO queue URL",
            ),
            (
                "https://evil.example/123456789012/a.fifo",
                "SQS FIFO queue URL",
            ),
            (
                "https://sqs.eu-west-1.amazonaws.com.evil.example/123456789012/a.fifo",
                "SQS FIFO queue URL",
            ),
            (
                "https://sqs.eu-west-1.amazonaws.com:8443/123456789012/a.fifo",
                "SQS FIFO queue URL",
            ),
            (
                "https://u:p@sqs.eu-west-1.amazonaws.com/123456789012/a.fifo",
                "user info",
            ),
            (
                "https://sqs.eu-west-1.amazonaws.com/123456789012/a.fifo?x=1",
                "query",
            ),
            (
                "https://sqs.eu-west-1.amazonaws.com/1234/a.fifo",
                "12-digit account",
            ),
            (
                "https://sqs.eu-west-1.amazonaws.com/123456789012/a/b.fifo",
                "SQS FIFO queue URL",
            ),
            (
                "https://sqs.eu-west-1.amazonaws.com/123456789012/a%20b.fifo",
                "queue name",
            ),
            ("not a url", "not a URL"),
        ] {
            let err = check_target_queue_url(bad).unwrap_err();
            assert!(err.contains(problem), "{bad}: {err}");
        }
    }

    #[test]
    fn the_stacks_own_queues_are_refused_but_its_events_queue_and_others_are_not() {
        let stack = StackQueues::new(EVENTS);
        assert_eq!(stack.check(EVENTS), Ok(()));
        for own in [
            "switchboard-IngestQueue-Q1w2E3r4.fifo",
            "switchboard-RepliesQueue-Q1w2E3r4.fifo",
            "switchboard-EventsDeadLetterQueue-Q1w2E3r4.fifo",
            "switchboard-IngestDeadLetterQueue-Q1w2E3r4.fifo",
            "switchboard-RepliesDeadLetterQueue-Q1w2E3r4.fifo",
            "SWITCHBOARD-repliesqueue-x.fifo",
        ] {
            let url = format!("https://sqs.eu-west-1.amazonaws.com/123456789012/{own}");
            let err = stack.check(&url).unwrap_err();
            assert!(err.contains("this stack's own queues"), "{own}: {err}");
        }
        for other in [
            "https://sqs.eu-west-1.amazonaws.com/123456789012/acme-events.fifo",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/other-RepliesQueue-x.fifo",
            // Another account's queue of the same name is not this stack's.
            "https://sqs.eu-west-1.amazonaws.com/210987654321/switchboard-RepliesQueue-x.fifo",
        ] {
            assert_eq!(stack.check(other), Ok(()), "{other}");
        }
        let err = stack
            .check("http://127.0.0.1:4566/123456789012/acme.fifo")
            .unwrap_err();
        assert!(err.contains("loopback"), "{err}");
    }

    #[test]
    fn a_local_stack_takes_loopback_targets_and_knows_its_own_queues() {
        let stack = StackQueues::new("http://127.0.0.1:4566/123456789012/dev-EventsQueue.fifo");
        assert_eq!(
            stack.check("http://127.0.0.1:4566/123456789012/acme.fifo"),
            Ok(())
        );
        assert!(
            stack
                .check("http://127.0.0.1:4566/123456789012/dev-RepliesQueue.fifo")
                .is_err()
        );
        // Moto's queue URLs need not be FIFO-shaped for the events queue itself.
        let plain = StackQueues::new("http://localhost:4566/123456789012/events");
        assert_eq!(
            plain.check("http://localhost:4566/123456789012/events"),
            Ok(())
        );
    }
}
