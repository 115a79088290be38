//! The outbound function's work for one `replies.fifo` record, independent of Lambda:
//!
//! 0. check the sender: the record's `SenderId` (set by SQS from the sender's credentials, never
//!    by the sender) must be one of the `contact_center.sender_ids` of the tenant the command
//!    names. Anyone else's command is not carried out and not answered: nothing is sent, no
//!    claim is taken, no `send_result` goes anywhere (one on that tenant's queue would tell the
//!    tenant's contact center, not the sender, and confirm to a sender who can read it that the
//!    tenant exists); an unknown tenant is refused the same way. It is logged without its content
//!    and counted (`metric = "command_sender_refused"`), and the record is done, so nothing
//!    loops ([`Outcome::Refused`]);
//! 1. read and validate the agent command; an invalid one is answered with a failed
//!    `send_result` naming the field, and is done (never retried);
//! 2. claim `{tenant}#{reply_id}` (the state table): a reply sent before, even days ago, is not
//!    sent again; its stored `send_result` is emitted again instead;
//! 3. find the queue, its messaging service and the service's Sinch credentials; turn every
//!    S3 key into its public URL (the object must exist); for a tenant with
//!    `outbound.fetch_media_urls`, copy every media URL into `outbound/` and use the copy's
//!    public URL instead ([`crate::fetch_media`]);
//! 4. send through `messages:send` or `events:send`, retrying 429, 5xx and timeouts within the
//!    deadline;
//! 5. accepted, or refused for good (400, 403, 404…): the result is stored in the claim, the
//!    message id → reply id map written, and the `send_result` put on the queue's target, else
//!    the tenant's `contact_center.default_target_queue_url`, else the events queue
//!    (`config::targets`, the inbound stage's resolution too), in the command's message group.
//!    A target that is not an SQS FIFO queue URL, or is one of the stack's own queues, is a
//!    config error: such a tenant's commands are not carried out (logged,
//!    `metric = "event_target_refused"`). Only then is the record done.
//!
//! Anything that may pass later (Sinch 429/5xx/timeout, DynamoDB, S3 or SQS unavailable, a
//! claim another worker holds) releases the claim and fails the record: it and the rest of its
//! conversation come back from SQS, in order; other conversations go on.
//!
//! Whether a failure may pass later is [`OutboundError`]'s `Classify`, the one place it is
//! decided. The refusals the contract names are answered inside [`Outbound::handle`] (a failed
//! `send_result` with its code); a permanent failure that still escapes it (the state table
//! refusing a request for good, a stored result that is no longer an event, SQS refusing the
//! result for good) is answered by [`Outbound::answer_permanent`] with a failed `send_result`
//! (`INTERNAL`), and the record is done: its conversation goes on ([`crate::function`]).
//!
//! Every step runs under the [`Invocation`]: one clock reading (claims, expiry, the results'
//! times) and one deadline (the Sinch client's retries end by it).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use switchboard_shared::config::{
    ConfigCache, SenderCheck, StackQueues, StoreError, TargetError, TenantConfig,
    TenantConfigSource, TenantId,
};
use switchboard_shared::contract::{
    AgentCommand, InboundEvent, InvalidCommand, SendError, parse_command,
};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::error::{AwsError, Classify, Retry};
use switchboard_shared::event_queue::{EventQueue, Outgoing};
use switchboard_shared::kit::Invocation;
use switchboard_shared::media::expiry;
use switchboard_shared::media::fetch::{FetchError, SafeFetcher};
use switchboard_shared::sinch::api::send::{SendContext, build_request};
use switchboard_shared::sinch::api::{ServiceEndpoint, SinchClient, SinchError};
use switchboard_shared::sqs::{FifoMessage, MessageError};
use switchboard_shared::state::StateError;
use switchboard_shared::state::idempotency::{Claim, IdempotencyStore};
use switchboard_shared::state::reply_map::ReplyIdMap;
use tracing::{error, info, warn};

use crate::fetch_media::{FetchPlace, fetch_media, media_urls};
use crate::media::{OutboundObjects, public_url};
use crate::result::{self, About, Service};
use crate::settings::Settings;
use switchboard_shared::config::credentials::{CredentialCache, CredentialSource};

pub use switchboard_shared::kit::fifo::Record;

/// What became of a record that succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sinch accepted it now.
    Accepted { reply_id: String, sinch_id: String },
    /// Refused for good (invalid command, unknown queue, missing object, Sinch 4xx).
    Failed {
        reply_id: Option<String>,
        code: String,
    },
    /// Handled before: its stored result was emitted again, nothing was sent.
    AlreadyHandled { reply_id: String },
    /// Not carried out and not answered (see the module's step 0): nothing sent, no claim, no
    /// `send_result`. `reason` is a fixed word (`sender_not_listed`, `tenant_names_no_senders`,
    /// `no_sender_id`, `unknown_tenant`, `config_invalid`, `target_invalid`).
    Refused { reason: &'static str },
}

/// Why a record failed; it and the rest of its group come back.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("another attempt is working on reply {0}")]
    Busy(String),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Config(StoreError),
    #[error("media: {0}")]
    Media(AwsError),
    #[error("media URL: {0}")]
    MediaFetch(String),
    #[error(transparent)]
    Sinch(SinchError),
    #[error("events queue: {0}")]
    Queue(AwsError),
    #[error("the stored result of reply {0} is not an event: {1}")]
    StoredResult(String, String),
    /// The tenant's target for the result is refused (not an SQS FIFO queue URL, on loopback
    /// in a deployment, or one of the stack's own queues): a config error.
    #[error(transparent)]
    Target(TargetError),
    /// The result cannot become a message SQS accepts (too large).
    #[error("the send_result cannot be sent: {0}")]
    Unsendable(#[from] MessageError),
}

impl Classify for OutboundError {
    fn retry(&self) -> Retry {
        match self {
            OutboundError::Busy(_) | OutboundError::MediaFetch(_) => Retry::Retryable,
            OutboundError::State(err) => err.retry(),
            OutboundError::Config(err) if err.is_retryable() => Retry::Retryable,
            OutboundError::Config(_)
            | OutboundError::Target(_)
            | OutboundError::StoredResult(..)
            | OutboundError::Unsendable(_) => Retry::Permanent,
            OutboundError::Media(err) | OutboundError::Queue(err) => err.retry,
            OutboundError::Sinch(err) => err.retry(),
        }
    }
}

/// Switchboard's own codes of failed results (Sinch's refusals carry Sinch's `status`).
pub mod codes {
    pub use switchboard_shared::contract::InvalidCommand;
    pub const UNKNOWN_TENANT: &str = "UNKNOWN_TENANT";
    pub const UNKNOWN_QUEUE: &str = "UNKNOWN_QUEUE";
    pub const CONFIG_INVALID: &str = "CONFIG_INVALID";
    pub const NO_CREDENTIALS: &str = "NO_CREDENTIALS";
    pub const MEDIA_NOT_FOUND: &str = "MEDIA_NOT_FOUND";
    pub const MEDIA_EXPIRED: &str = "MEDIA_EXPIRED";
    /// An attachment's key is dated more than a day after the invocation's day (UTC).
    pub const MEDIA_DATE_IN_FUTURE: &str = "MEDIA_DATE_IN_FUTURE";
    /// An attachment's stored Content-Type is not one of the tenant's `media.allowed_types`.
    pub const MEDIA_TYPE_NOT_ALLOWED: &str = "MEDIA_TYPE_NOT_ALLOWED";
    pub const PUBLIC_MEDIA_NOT_CONFIGURED: &str = "PUBLIC_MEDIA_NOT_CONFIGURED";
    /// A media URL the tenant has fetched first could not be, for good (404, blocked address,
    /// too large, a type not accepted, a host off the tenant's list).
    pub const MEDIA_FETCH_FAILED: &str = "MEDIA_FETCH_FAILED";
    pub const INTERNAL: &str = "INTERNAL";
}

pub struct Outbound<C, K, I, R, M, Q> {
    config: ConfigCache<C>,
    credentials: CredentialCache<K>,
    idempotency: I,
    reply_map: R,
    objects: M,
    queue: Q,
    sinch: SinchClient,
    /// Media URLs of tenants that have them fetched first (`outbound.fetch_media_urls`).
    fetcher: SafeFetcher,
    settings: Settings,
    /// The stack's queues: where results go when a tenant names no target, and which targets
    /// are refused.
    stack: StackQueues,
    /// Who this worker is, in idempotency claims.
    worker: String,
}

impl<C, K, I, R, M, Q> Outbound<C, K, I, R, M, Q>
where
    C: TenantConfigSource,
    K: CredentialSource,
    I: IdempotencyStore,
    R: ReplyIdMap,
    M: OutboundObjects,
    Q: EventQueue,
{
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: C,
        credentials: K,
        idempotency: I,
        reply_map: R,
        objects: M,
        queue: Q,
        sinch: SinchClient,
        fetcher: SafeFetcher,
        settings: Settings,
    ) -> Self {
        Outbound {
            config: ConfigCache::new(config, settings.config_cache_ttl),
            credentials: CredentialCache::new(credentials, settings.config_cache_ttl),
            idempotency,
            reply_map,
            objects,
            queue,
            sinch,
            fetcher,
            stack: StackQueues::new(&settings.events_queue_url),
            settings,
            worker: uuid::Uuid::new_v4().to_string(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn queue(&self) -> &Q {
        &self.queue
    }

    pub fn idempotency(&self) -> &I {
        &self.idempotency
    }

    pub fn reply_map(&self) -> &R {
        &self.reply_map
    }

    pub fn objects(&self) -> &M {
        &self.objects
    }

    pub async fn handle(
        &self,
        record: Record<'_>,
        invocation: &Invocation,
    ) -> Result<Outcome, OutboundError> {
        let (now, deadline) = (invocation.now, &invocation.deadline);
        if let Some(refused) = self.check_sender(record).await? {
            return Ok(refused);
        }
        let command = match parse_command(record.body.as_bytes()) {
            Ok(command) => command,
            Err(invalid) => return self.refuse_invalid(record, &invalid, now).await,
        };
        let key = format!("{}#{}", command.tenant, command.reply_id);
        let claim = self
            .idempotency
            .claim(
                &key,
                &self.worker,
                now,
                self.settings.claim_lease,
                self.settings.idempotency_ttl,
            )
            .await?;
        match claim {
            Claim::Acquired => {}
            Claim::Done { result } => {
                let event: InboundEvent = serde_json::from_str(&result).map_err(|err| {
                    OutboundError::StoredResult(command.reply_id.clone(), err.to_string())
                })?;
                // The map may not have been written when the first attempt stopped after
                // storing its result; writing it again is harmless.
                self.remember(&command, &event, now).await?;
                self.emit(
                    &command.tenant,
                    Some(&command),
                    record.group_id,
                    &event,
                    Some(result),
                )
                .await?;
                info!(tenant = %command.tenant, reply_id = %command.reply_id, "handled before; its send_result emitted again, nothing sent");
                return Ok(Outcome::AlreadyHandled {
                    reply_id: command.reply_id,
                });
            }
            Claim::Busy { .. } => return Err(OutboundError::Busy(command.reply_id)),
        }
        let event = match self.send(&command, now, deadline).await {
            Ok(event) => event,
            Err(err) => {
                // Nothing was sent (or Sinch's answer never came): the retry may send.
                if let Err(release) = self.idempotency.release(&key, &self.worker).await {
                    warn!(tenant = %command.tenant, reply_id = %command.reply_id, error = %release, "could not release the claim; the retry takes it over after the lease");
                }
                return Err(err);
            }
        };
        // Built (escaped, size-checked) before it is stored, so what is stored is what is sent,
        // now and on every redelivery.
        let text = result_message(&event, record.group_id)?.body;
        // Stored before anything else: from here on, a redelivery re-emits this result and
        // never sends again. If this write fails after an accepted send, the claim is *not*
        // released (the lease runs out first): the one window in which a reply can go twice.
        self.idempotency
            .complete(
                &key,
                &self.worker,
                &text,
                now,
                self.settings.idempotency_ttl,
            )
            .await?;
        self.remember(&command, &event, now).await?;
        self.emit(
            &command.tenant,
            Some(&command),
            record.group_id,
            &event,
            Some(text),
        )
        .await?;
        let outcome = match result::accepted_sinch_id(&event) {
            Some(id) => Outcome::Accepted {
                reply_id: command.reply_id.clone(),
                sinch_id: id.to_owned(),
            },
            None => Outcome::Failed {
                reply_id: Some(command.reply_id.clone()),
                code: failure_code(&event),
            },
        };
        match &outcome {
            Outcome::Accepted { sinch_id, .. } => {
                info!(tenant = %command.tenant, reply_id = %command.reply_id, sinch_id = %sinch_id, kind = kind(&command), "sent")
            }
            Outcome::Failed { code, .. } => {
                warn!(tenant = %command.tenant, reply_id = %command.reply_id, code = %code, kind = kind(&command), "refused for good; failed send_result emitted")
            }
            Outcome::AlreadyHandled { .. } | Outcome::Refused { .. } => {}
        }
        Ok(outcome)
    }

    /// Resolves the command against the config and sends it. `Ok` is the result to keep (accepted
    /// or a permanent failure); `Err` is something that may pass later.
    async fn send(
        &self,
        command: &AgentCommand,
        now: DateTime<Utc>,
        deadline: &Deadline,
    ) -> Result<InboundEvent, OutboundError> {
        let about = About::of(command);
        let event_id = result::result_id(&command.tenant, &command.reply_id);
        let fail = |service: Service<'_>, code: &str, http_status: Option<u16>, message: String| {
            Ok(result::failed(
                &about,
                event_id.clone(),
                service,
                SendError {
                    http_status,
                    code: code.to_owned(),
                    message,
                },
                now,
            ))
        };
        let no_service = Service::default();
        let tenant = match self.tenant(&command.tenant).await {
            Ok(Some(tenant)) => tenant,
            Ok(None) => {
                return fail(
                    no_service,
                    codes::UNKNOWN_TENANT,
                    None,
                    format!("tenant: '{}' is not configured", command.tenant),
                );
            }
            Err(err) if err.is_retryable() => return Err(OutboundError::Config(err)),
            Err(err) => return fail(no_service, codes::CONFIG_INVALID, None, err.to_string()),
        };
        let Some(queue) = tenant.queue(&command.queue_address) else {
            return fail(
                no_service,
                codes::UNKNOWN_QUEUE,
                None,
                format!(
                    "queue_address: '{}' is not a queue of tenant '{}'",
                    command.queue_address, command.tenant
                ),
            );
        };
        let Some(service) = tenant.service(&queue.service) else {
            return fail(
                no_service,
                codes::CONFIG_INVALID,
                None,
                format!(
                    "queue '{}' names no service of the tenant",
                    command.queue_address
                ),
            );
        };
        let named = Service {
            name: service.name.as_str(),
            project_id: &service.project_id,
        };
        let credentials = match self.credentials.get(&tenant.id, &service.name).await {
            Ok(Some(credentials)) => credentials,
            Ok(None) => {
                return fail(
                    named,
                    codes::NO_CREDENTIALS,
                    None,
                    format!("service '{}' has no Sinch access key", service.name),
                );
            }
            Err(err) if err.is_retryable() => return Err(OutboundError::Config(err)),
            Err(err) => return fail(named, codes::CONFIG_INVALID, None, err.to_string()),
        };
        let mut public_urls = BTreeMap::new();
        for key in command.media_s3_keys() {
            let Some(base) = &self.settings.public_media_base_url else {
                return fail(
                    named,
                    codes::PUBLIC_MEDIA_NOT_CONFIGURED,
                    None,
                    "media by s3_key cannot be sent: no public media URL is configured \
                     (SWITCHBOARD_PUBLIC_MEDIA_BASE_URL)"
                        .into(),
                );
            };
            // Past the tenant's retention, the object goes at the next retention run, and its
            // URL with it, maybe before the channel fetched it. (A retention of 0 days keeps
            // nothing by choice: the attachment lives until that run.)
            let days = tenant.retention.public_attachment_days;
            let day = expiry::key_day(key);
            if let Some(day) = day
                && days > 0
                && expiry::is_expired(day, days, now)
            {
                return fail(
                    named,
                    codes::MEDIA_EXPIRED,
                    None,
                    format!(
                        "s3_key '{key}': stored on {day}, past the tenant's retention of public \
                         attachments ({days} days); upload it again under today's date"
                    ),
                );
            }
            // Retention counts from the key's day: a key dated ahead would keep a public file
            // (and its URL) alive past the tenant's retention, up to the bucket's backstop.
            // One day ahead is allowed for clocks on either side of midnight (UTC).
            if let Some(day) = day
                && day > now.date_naive() + chrono::Days::new(MAX_DAYS_AHEAD)
            {
                return fail(
                    named,
                    codes::MEDIA_DATE_IN_FUTURE,
                    None,
                    format!(
                        "s3_key '{key}': dated {day}, more than {MAX_DAYS_AHEAD} day after today \
                         ({}, UTC); put attachments under today's date, from which retention \
                         counts",
                        now.date_naive()
                    ),
                );
            }
            let info = match self.objects.head(key).await {
                Ok(Some(info)) => info,
                Ok(None) => {
                    return fail(
                        named,
                        codes::MEDIA_NOT_FOUND,
                        None,
                        format!("s3_key '{key}': no such object in the media bucket"),
                    );
                }
                Err(err) if err.is_retryable() => return Err(OutboundError::Media(err)),
                Err(err) => {
                    return fail(
                        named,
                        codes::MEDIA_NOT_FOUND,
                        err.http_status,
                        format!("s3_key '{key}': {err}"),
                    );
                }
            };
            // The stored Content-Type is what the public URL serves, and what the channels
            // render: it must be one the tenant accepts (`media.allowed_types`, never HTML, SVG
            // or script, whatever the list says).
            let stored_type = info
                .content_type
                .as_deref()
                .map(|t| t.split(';').next().unwrap_or_default().trim())
                .unwrap_or_default();
            if !tenant.media.allows_type(stored_type) {
                let shown = if stored_type.is_empty() {
                    "no Content-Type".to_owned()
                } else {
                    format!("Content-Type {:?}", truncate(stored_type, 100))
                };
                return fail(
                    named,
                    codes::MEDIA_TYPE_NOT_ALLOWED,
                    None,
                    format!(
                        "s3_key '{key}': stored with {shown}, which is not one of the tenant's \
                         media.allowed_types; upload it with its real type"
                    ),
                );
            }
            let Some(url) = public_url(base, key) else {
                return fail(
                    named,
                    codes::PUBLIC_MEDIA_NOT_CONFIGURED,
                    None,
                    "the public media URL cannot take a path".into(),
                );
            };
            public_urls.insert(key.to_owned(), url);
        }
        // Media URLs are fetched last: a command refused for an S3 key leaves no copies behind.
        let urls = if tenant.outbound.fetch_media_urls {
            media_urls(command)
        } else {
            Vec::new()
        };
        let fetched;
        let command = if urls.is_empty() {
            command
        } else {
            let Some(base) = &self.settings.public_media_base_url else {
                return fail(
                    named,
                    codes::PUBLIC_MEDIA_NOT_CONFIGURED,
                    None,
                    "media URLs cannot be fetched first: no public media URL is configured \
                     (SWITCHBOARD_PUBLIC_MEDIA_BASE_URL)"
                        .into(),
                );
            };
            let place = FetchPlace {
                tenant: &command.tenant,
                public_base: base,
                now,
            };
            match fetch_media(
                &self.fetcher,
                &self.objects,
                &tenant.media,
                &place,
                command,
                &urls,
                deadline,
            )
            .await
            {
                Ok(command) => {
                    fetched = command;
                    &fetched
                }
                Err(FetchError::Permanent(reason)) => {
                    return fail(named, codes::MEDIA_FETCH_FAILED, None, reason);
                }
                Err(FetchError::Transient(reason)) => {
                    warn!(tenant = %command.tenant, reply_id = %command.reply_id, %reason, "a media URL could not be fetched now; the reply comes back from SQS");
                    return Err(OutboundError::MediaFetch(reason));
                }
            }
        };
        let context = SendContext {
            queue_sms_sender: queue.sms_sender.as_deref(),
            public_urls: &public_urls,
        };
        let request = match build_request(command, &context) {
            Ok(request) => request,
            Err(err) => return fail(named, codes::INTERNAL, None, err.to_string()),
        };
        let endpoint = ServiceEndpoint::new(&tenant.id, service, credentials);
        match self.sinch.send(&endpoint, &request, deadline).await {
            Ok(accepted) => Ok(result::accepted(
                &about,
                event_id,
                named,
                accepted.id,
                accepted.accepted_time,
                now,
            )),
            Err(err) if err.is_retryable() => {
                warn!(tenant = %command.tenant, reply_id = %command.reply_id, error = %err, "Sinch did not take the reply; it comes back from SQS");
                Err(OutboundError::Sinch(err))
            }
            Err(err) => fail(named, &err.code(), err.http_status(), err.reason_message()),
        }
    }

    /// Step 0: `Some` (the record is done, unanswered) unless the record's sender may send
    /// commands for the tenant its body names. Read leniently, before validation, so an invalid
    /// command is answered only to its own tenant's contact center too.
    async fn check_sender(&self, record: Record<'_>) -> Result<Option<Outcome>, OutboundError> {
        let named = About::loose(record.body).tenant;
        // The tenant as logged: the body's word only when it is a tenant id (never other input).
        let tenant_id = TenantId::parse(&named).ok();
        let logged = tenant_id.as_ref().map_or("(none)", TenantId::as_str);
        let reason = match self.tenant(&named).await {
            Ok(Some(tenant)) => match tenant.contact_center.check_sender(record.sender_id) {
                SenderCheck::Allowed => return Ok(self.check_target(record, &tenant)),
                SenderCheck::TenantNamesNoSenders => {
                    warn!(
                        tenant = logged,
                        "tenant names no contact_center.sender_ids: every command for it is refused until it is seeded with the contact center's principals"
                    );
                    SenderCheck::TenantNamesNoSenders.reason()
                }
                other => other.reason(),
            },
            Ok(None) => "unknown_tenant",
            Err(err) if err.is_retryable() => return Err(OutboundError::Config(err)),
            Err(err) => {
                error!(tenant = logged, error = %err, "the tenant's config is invalid, so its senders cannot be checked; the command is refused");
                "config_invalid"
            }
        };
        warn!(
            metric = "command_sender_refused",
            reason,
            tenant = logged,
            message_id = record.message_id,
            sender_id = record.sender_id.unwrap_or("(none)"),
            "agent command refused: its sender may not send for the tenant it names; not sent, not answered, done"
        );
        Ok(Some(Outcome::Refused { reason }))
    }

    /// The sender may send for the tenant; but when the tenant's target for the command's queue
    /// is refused, there is nowhere to answer it safely: a config error, the command not carried
    /// out (nothing sent, no claim), logged with the field and why, and the record done.
    fn check_target(&self, record: Record<'_>, tenant: &TenantConfig) -> Option<Outcome> {
        let address = About::loose(record.body).queue_address;
        let err = self.stack.resolve(Some(tenant), address.as_ref()).err()?;
        error!(
            metric = "event_target_refused",
            tenant = %tenant.id,
            message_id = record.message_id,
            field = %err.field,
            problem = %err.problem,
            "the tenant's target queue is refused (config error): the command is not carried out and cannot be answered; fix the tenant's config"
        );
        Some(Outcome::Refused {
            reason: "target_invalid",
        })
    }

    /// An invalid command: a failed result naming the field, and the record is done.
    async fn refuse_invalid(
        &self,
        record: Record<'_>,
        invalid: &InvalidCommand,
        now: DateTime<Utc>,
    ) -> Result<Outcome, OutboundError> {
        let about = About::loose(record.body);
        let event = result::failed(
            &about,
            result::invalid_result_id(record.body),
            Service::default(),
            SendError {
                http_status: None,
                code: InvalidCommand::CODE.to_owned(),
                message: truncate(&invalid.to_string(), MAX_REASON_CHARS),
            },
            now,
        );
        self.emit(&about.tenant, None, record.group_id, &event, None)
            .await?;
        warn!(tenant = %about.tenant, reply_id = about.reply_id.as_deref().unwrap_or(""), problem = %invalid, "invalid agent command; failed send_result emitted");
        Ok(Outcome::Failed {
            reply_id: about.reply_id,
            code: InvalidCommand::CODE.to_owned(),
        })
    }

    async fn tenant(
        &self,
        tenant: &str,
    ) -> Result<Option<std::sync::Arc<TenantConfig>>, StoreError> {
        match TenantId::parse(tenant) {
            Ok(id) => self.config.tenant(&id).await,
            Err(_) => Ok(None),
        }
    }

    async fn remember(
        &self,
        command: &AgentCommand,
        event: &InboundEvent,
        now: DateTime<Utc>,
    ) -> Result<(), OutboundError> {
        // Events (typing) get no delivery reports or quotes: nothing to map.
        if command.is_event() {
            return Ok(());
        }
        if let Some(sinch_id) = result::accepted_sinch_id(event) {
            self.reply_map
                .remember(
                    &command.tenant,
                    sinch_id,
                    &command.reply_id,
                    now,
                    self.settings.reply_map_ttl,
                )
                .await?;
        }
        Ok(())
    }

    /// Puts the result on the queue's target, or the events queue, in the command's group:
    /// `stored`, the text kept with the claim, byte for byte, else `event` serialized now.
    async fn emit(
        &self,
        tenant: &str,
        command: Option<&AgentCommand>,
        group_id: &str,
        event: &InboundEvent,
        stored: Option<String>,
    ) -> Result<(), OutboundError> {
        let message = match stored {
            Some(text) => FifoMessage::text(
                text,
                group_id,
                event.event_id.clone(),
                &[("kind", "send_result"), ("tenant", tenant)],
            )?,
            None => result_message_for(event, group_id, tenant)?,
        };
        let address = command
            .map(|c| &c.queue_address)
            .or(event.queue_address.as_ref());
        let found = match self.tenant(tenant).await {
            Ok(found) => found,
            Err(err) if err.is_retryable() => return Err(OutboundError::Config(err)),
            // A tenant whose config is broken still hears of its commands.
            Err(_) => None,
        };
        // The same resolution as the inbound stage's: the queue's target, the tenant's default
        // target, the events queue.
        let queue_url = self
            .stack
            .resolve(found.as_deref(), address)
            .map_err(OutboundError::Target)?;
        self.queue
            .send(&Outgoing { queue_url, message })
            .await
            .map_err(OutboundError::Queue)
    }

    /// A permanent failure that escaped [`Outbound::handle`]: answered with a failed
    /// `send_result` (`INTERNAL`, naming what failed), so the contact center hears of the
    /// command and its conversation goes on. Nothing was sent to Sinch for it in this attempt.
    /// `Err` when even that answer cannot be given (its own error says whether to retry).
    pub async fn answer_permanent(
        &self,
        record: Record<'_>,
        failure: &OutboundError,
        invocation: &Invocation,
    ) -> Result<(), OutboundError> {
        let about = About::loose(record.body);
        let event_id = match &about.reply_id {
            Some(reply_id) => result::result_id(&about.tenant, reply_id),
            None => result::invalid_result_id(record.body),
        };
        let event = result::failed(
            &about,
            event_id,
            Service::default(),
            SendError {
                http_status: None,
                code: codes::INTERNAL.to_owned(),
                message: truncate(&failure.to_string(), MAX_REASON_CHARS),
            },
            invocation.now,
        );
        self.emit(&about.tenant, None, record.group_id, &event, None)
            .await
    }
}

/// A `send_result` as the message that carries it (the tenant attribute from the event).
fn result_message(event: &InboundEvent, group_id: &str) -> Result<FifoMessage, MessageError> {
    result_message_for(event, group_id, &event.tenant)
}

fn result_message_for(
    event: &InboundEvent,
    group_id: &str,
    tenant: &str,
) -> Result<FifoMessage, MessageError> {
    FifoMessage::json(
        event,
        group_id,
        event.event_id.clone(),
        &[("kind", "send_result"), ("tenant", tenant)],
    )
}

/// How many days after the invocation's day (UTC) an attachment's key may be dated: one, for
/// a contact center whose clock is past midnight before ours (or a few seconds ahead).
const MAX_DAYS_AHEAD: u64 = 1;

/// A failure's message is for people: long enough for any field path and problem, short enough
/// that a command quoting a huge value cannot make its result too large for SQS.
const MAX_REASON_CHARS: usize = 1000;

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn kind(command: &AgentCommand) -> &'static str {
    match (&command.message, command.event) {
        (Some(message), _) => message.kind(),
        (None, Some(_)) => "event",
        (None, None) => "none",
    }
}

fn failure_code(event: &InboundEvent) -> String {
    match &event.body {
        switchboard_shared::contract::EventBody::SendResult { send_result } => send_result
            .error
            .as_ref()
            .map(|e| e.code.clone())
            .unwrap_or_default(),
        _ => String::new(),
    }
}
