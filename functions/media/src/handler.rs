//! The inbound stage's work for one `ingest.fifo` record, independent of Lambda:
//!
//! 1. claim the event's id (the state table): an event forwarded before, even days ago, is not
//!    forwarded again; an attempt that fails releases its claim so its retry is not blocked;
//! 2. the event is enriched ([`crate::enrich`]): the customer's display name, the reply ids of
//!    agent messages it concerns;
//! 3. a delivery report that would move its message's status backwards is dropped (counted);
//! 4. every pending media item is stored in S3 (or marked failed, with why), within the
//!    tenant's media settings (size, types, hosts), and within the invocation's deadline less
//!    [`FORWARD_RESERVE`]: a download still running then is cut off (a transient failure; no
//!    partial file is stored), so the record fails in time to release its claim and answer.
//!    A transient failure of the media host (down, 5xx, silent, reset, or cut off by the
//!    deadline: a slow or dripping host, a file too large to arrive in time) fails the record,
//!    so it comes back; but from the record's `SWITCHBOARD_MEDIA_MAX_RECEIVES`th receive on the
//!    item is marked `failed` instead ("the media could not be fetched in N attempts: …") and
//!    the event goes on, so one bad host never holds a conversation until the dead-letter
//!    queue. The media bucket failing is not the host's doing: it always fails the record;
//! 5. the event goes to its queue in the same message group, with the `event_id` as the
//!    de-duplication id. Where is decided first, as soon as the tenant's config is read and
//!    before anything else moves ([`StackQueues::resolve`], as in the outbound function): the
//!    queue's own `target_queue_url`, else the tenant's
//!    `contact_center.default_target_queue_url`, else `events.fifo`. A refused target (not an
//!    SQS FIFO queue URL, loopback in a deployment, one of the stack's own queues) fails the
//!    record transiently ([`StageError::Target`] says why);
//! 6. the claim is completed. Only then is the record done (the batch runner reports it so).
//!
//! Every step runs under the [`Invocation`]: one clock reading for claims, keys and expiry, and
//! one deadline. Whether a failure is worth retrying is [`StageError`]'s `Classify`, the one
//! place it is decided; [`crate::function`] hands that answer to the kit's FIFO shell. The
//! permanent failures are answered here where they can be: a tenant whose configuration cannot
//! be read (for good) still gets its event, with every pending media item `failed` and why.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

use switchboard_shared::config::{
    ConfigCache, MediaSettings, Retention, StackQueues, TargetError, TenantConfig,
    TenantConfigSource, TenantId,
};
use switchboard_shared::contract::{EventBody, InboundEvent, MediaStatus};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::error::{Classify, Retry};
use switchboard_shared::kit::Invocation;
use switchboard_shared::sqs::{FifoMessage, MessageError};
use switchboard_shared::state::delivery::{Decision, DeliveryStatusStore};
use switchboard_shared::state::idempotency::{Claim, IdempotencyStore};
use tracing::{error, info, warn};

use crate::enrich::Enrich;
use crate::fetch::{FetchError, SafeFetcher};
use crate::forward::{EventQueue, Outgoing};
use crate::links::MediaLinks;
use crate::media::{ItemPlace, Limits, Watched, store_item};
use crate::settings::Settings;
use crate::store::MediaStore;

/// Kept back from the deadline when media is fetched: for the links, the send to the queue and
/// completing (or releasing) the claim, each a call or two to AWS.
pub const FORWARD_RESERVE: Duration = Duration::from_secs(3);

pub use switchboard_shared::kit::fifo::Record;

/// What became of a record that succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Forwarded {
        event_id: String,
        queue_url: String,
    },
    /// Forwarded before (a redelivery, or a callback Sinch sent again later).
    AlreadyForwarded {
        event_id: String,
    },
    /// A delivery report older than the status already forwarded.
    StaleDelivery {
        event_id: String,
    },
}

/// Why a record failed; it and the rest of its group come back.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("the record is not an inbound event: {0}")]
    NotAnEvent(String),
    #[error("another attempt is working on event {0}")]
    Busy(String),
    #[error(transparent)]
    State(#[from] switchboard_shared::state::StateError),
    #[error(transparent)]
    Config(#[from] switchboard_shared::config::StoreError),
    #[error("media: {0}")]
    Media(FetchError),
    #[error(transparent)]
    Queue(#[from] switchboard_shared::error::AwsError),
    #[error("media link keys: {0}")]
    Links(#[from] switchboard_shared::media::link_keys::LinkKeysError),
    /// The tenant's target for the event is refused (not an SQS FIFO queue URL, on loopback in
    /// a deployment, or one of the stack's own queues): a config error.
    ///
    /// Transient, although a retry cannot fix it, because every other answer loses or leaks the
    /// event: permanent would count the record done with the event sent nowhere (the outbound
    /// function can refuse a command, whose sender still has it; an inbound event exists only
    /// on `ingest.fifo`), and forwarding to `events.fifo` instead could hand it to a contact
    /// center that is not the tenant's. Failing the record keeps it on `ingest.fifo`, its
    /// conversation held in order behind it; after the queue's `maxReceiveCount` it moves to the
    /// ingest dead-letter queue (alarmed), from which it is redriven once the config is fixed.
    /// It is checked before any media is fetched or any status moved, so each retry costs one
    /// config read (cached) and the claim.
    #[error(transparent)]
    Target(TargetError),
    /// The event cannot become a message SQS accepts (too large once enriched).
    #[error("the event cannot be forwarded: {0}")]
    Unsendable(#[from] MessageError),
}

impl Classify for StageError {
    fn retry(&self) -> Retry {
        match self {
            StageError::NotAnEvent(_) | StageError::Unsendable(_) => Retry::Permanent,
            StageError::State(err) => err.retry(),
            StageError::Config(err) if err.is_retryable() => Retry::Retryable,
            StageError::Config(_) => Retry::Permanent,
            StageError::Queue(err) => err.retry,
            StageError::Links(err) => err.retry(),
            StageError::Busy(_) | StageError::Media(_) | StageError::Target(_) => Retry::Retryable,
        }
    }
}

/// The record's event. A refusal says what kind of problem and where, never serde's message:
/// it would echo the value it refused (a phone number, a message text) into the log line the
/// kit writes for a record that failed for good.
pub fn parse_event(body: &str) -> Result<InboundEvent, StageError> {
    serde_json::from_str(body)
        .map_err(|err| StageError::NotAnEvent(switchboard_shared::telemetry::json_problem(&err)))
}

pub struct MediaStage<C, I, D, S, Q, E> {
    config: ConfigCache<C>,
    idempotency: I,
    delivery: D,
    store: S,
    queue: Q,
    fetcher: SafeFetcher,
    enricher: E,
    settings: Settings,
    /// Agents' links for stored items (`url`, `url_expires_at`); none: those stay empty.
    links: Option<MediaLinks>,
    /// The stack's queues: where events go when a tenant names no target, and which targets
    /// are refused.
    stack: StackQueues,
    /// Who this worker is, in idempotency claims.
    worker: String,
}

impl<C, I, D, S, Q, E> MediaStage<C, I, D, S, Q, E>
where
    C: TenantConfigSource,
    I: IdempotencyStore,
    D: DeliveryStatusStore,
    S: MediaStore,
    Q: EventQueue,
    E: Enrich,
{
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: C,
        idempotency: I,
        delivery: D,
        store: S,
        queue: Q,
        fetcher: SafeFetcher,
        enricher: E,
        settings: Settings,
    ) -> Self {
        MediaStage {
            config: ConfigCache::new(config, settings.config_cache_ttl),
            idempotency,
            delivery,
            store,
            queue,
            fetcher,
            enricher,
            stack: StackQueues::new(&settings.events_queue_url),
            settings,
            links: None,
            worker: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// Stored items get an agent link signed with these keys.
    pub fn with_links(mut self, links: MediaLinks) -> Self {
        self.links = Some(links);
        self
    }

    pub fn queue(&self) -> &Q {
        &self.queue
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn enricher(&self) -> &E {
        &self.enricher
    }

    /// Handles one record; its media downloads end by the invocation's deadline less
    /// [`FORWARD_RESERVE`].
    pub async fn handle(
        &self,
        record: Record<'_>,
        invocation: &Invocation,
    ) -> Result<Outcome, StageError> {
        let (now, deadline) = (invocation.now, &invocation.deadline);
        let event = parse_event(record.body)?;
        let event_id = event.event_id.clone();
        let claim = self
            .idempotency
            .claim(
                &event_id,
                &self.worker,
                now,
                self.settings.claim_lease,
                self.settings.idempotency_ttl,
            )
            .await?;
        match claim {
            Claim::Acquired => {}
            Claim::Done { .. } => {
                info!(%event_id, "already forwarded; not again");
                return Ok(Outcome::AlreadyForwarded { event_id });
            }
            Claim::Busy { .. } => return Err(StageError::Busy(event_id)),
        }
        match self
            .complete_and_forward(event, record, now, deadline)
            .await
        {
            Ok((outcome, result)) => {
                self.idempotency
                    .complete(
                        &event_id,
                        &self.worker,
                        &result,
                        now,
                        self.settings.idempotency_ttl,
                    )
                    .await?;
                Ok(outcome)
            }
            Err(err) => {
                if let Err(release) = self.idempotency.release(&event_id, &self.worker).await {
                    // The lease ends on its own; the retry then takes the claim over.
                    warn!(%event_id, error = %release, "could not release the claim");
                }
                Err(err)
            }
        }
    }

    async fn complete_and_forward(
        &self,
        mut event: InboundEvent,
        record: Record<'_>,
        now: DateTime<Utc>,
        deadline: &Deadline,
    ) -> Result<(Outcome, String), StageError> {
        let event_id = event.event_id.clone();
        // A configuration that cannot be read for good will not be readable on a retry either:
        // the event goes on without it (default target and limits), its media not stored.
        let (tenant, unreadable) = match self.tenant_of(&event).await {
            Ok(tenant) => (tenant, None),
            Err(StageError::Config(err)) if !err.is_retryable() => {
                warn!(%event_id, tenant = %event.tenant, error = %err, "the tenant's configuration cannot be read; forwarding with its media not stored");
                (None, Some(err.to_string()))
            }
            Err(err) => return Err(err),
        };
        // Where the event goes, before anything moves: a refused target fails the record before
        // a status advances or a byte of media is fetched.
        let queue_url = self
            .stack
            .resolve(tenant.as_deref(), event.queue_address.as_ref())
            .map_err(|err| {
                error!(
                    metric = "event_target_refused",
                    tenant = %err.tenant,
                    %event_id,
                    field = %err.field,
                    problem = %err.problem,
                    "the tenant's target queue is refused (config error): the event stays on ingest.fifo and, after its receives, goes to the ingest dead-letter queue; fix the tenant's config, then redrive"
                );
                StageError::Target(err)
            })?;
        // Before the delivery status moves: a failure here (the reply map) must leave the
        // status where it was, or the retry would find its own report stale.
        self.enricher
            .enrich(&mut event, tenant.as_deref(), now)
            .await?;
        if let EventBody::Delivery { delivery } = &event.body {
            let decision = self
                .delivery
                .advance(
                    &event.tenant,
                    &delivery.message_id,
                    &delivery.status,
                    &event_id,
                    now,
                    self.settings.idempotency_ttl,
                )
                .await?;
            if decision == Decision::Stale {
                warn!(%event_id, message_id = %delivery.message_id, status = %delivery.status, metric = "stale_delivery_report", "delivery report older than the status already forwarded; dropped");
                return Ok((Outcome::StaleDelivery { event_id }, "stale".into()));
            }
        }
        let default_media = MediaSettings::default();
        let media = tenant.as_ref().map_or(&default_media, |t| &t.media);
        if let EventBody::Message { message } = &mut event.body {
            let limits = Limits {
                // The stage's ceiling (SWITCHBOARD_MAX_MEDIA_BYTES) over the tenant's limit.
                max_bytes: media.max_bytes.min(self.settings.max_media_bytes),
                media,
            };
            let media_deadline =
                Deadline::after(deadline.remaining().saturating_sub(FORWARD_RESERVE));
            // The media's last try: a host still failing now is given up on, item by item.
            let last_try = record.receive_count >= self.settings.max_receives;
            for (index, item) in message.media.iter_mut().enumerate() {
                if item.status != MediaStatus::Pending {
                    continue;
                }
                if let Some(problem) = &unreadable {
                    crate::media::fail(
                        item,
                        format!(
                            "not stored: the tenant's configuration cannot be read ({problem})"
                        ),
                    );
                    continue;
                }
                let place = ItemPlace {
                    tenant: &event.tenant,
                    event_id: &event_id,
                    index,
                    now,
                };
                let store = Watched::new(&self.store);
                match store_item(
                    &self.fetcher,
                    &store,
                    &limits,
                    &place,
                    item,
                    &media_deadline,
                )
                .await
                {
                    Ok(()) => {}
                    Err(FetchError::Transient(reason)) if last_try && !store.failed() => {
                        warn!(
                            metric = "media_fetch_given_up",
                            %event_id,
                            tenant = %event.tenant,
                            item = index,
                            receive_count = record.receive_count,
                            %reason,
                            "the media host still fails on the record's last allowed receive; the item is marked failed and the event forwarded"
                        );
                        crate::media::fail(
                            item,
                            format!(
                                "the media could not be fetched in {} attempts: {reason}",
                                record.receive_count
                            ),
                        );
                    }
                    Err(err) => return Err(StageError::Media(err)),
                }
            }
            if let Some(links) = &self.links
                && message
                    .media
                    .iter()
                    .any(|item| item.status == MediaStatus::Stored)
            {
                // A tenant not (or no longer) configured: the default retention.
                let days = tenant.as_ref().map_or_else(
                    || Retention::default().inbound_media_days,
                    |tenant| tenant.retention.inbound_media_days,
                );
                for item in &mut message.media {
                    links.fill(&event.tenant, days, item, now).await?;
                }
            }
        }
        let message = FifoMessage::json(
            &event,
            record.group_id,
            event_id.clone(),
            &[("kind", event.body.kind()), ("tenant", &event.tenant)],
        )?;
        self.queue
            .send(&Outgoing {
                queue_url: queue_url.clone(),
                message,
            })
            .await?;
        info!(%event_id, tenant = %event.tenant, kind = event.body.kind(), "forwarded");
        Ok((
            Outcome::Forwarded {
                event_id,
                queue_url,
            },
            "forwarded".into(),
        ))
    }

    /// The event's tenant config (cached), `None` for a tenant not (or no longer) configured.
    async fn tenant_of(
        &self,
        event: &InboundEvent,
    ) -> Result<Option<Arc<TenantConfig>>, StageError> {
        let Ok(tenant_id) = TenantId::parse(&event.tenant) else {
            return Ok(None);
        };
        Ok(self.config.tenant(&tenant_id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_that_is_not_an_event_is_refused_without_echoing_it() {
        for body in [
            r#"{"schema_version": 1, "kind": "+46701234567"}"#,
            r#"{"schema_version": "+46701234567"}"#,
            r#"{"+46701234567": 1}"#,
            r#"+46701234567"#,
        ] {
            let err = parse_event(body).unwrap_err();
            assert_eq!(err.retry(), Retry::Permanent);
            let text = err.to_string();
            assert!(
                text.starts_with("the record is not an inbound event: "),
                "{text}"
            );
            assert!(!text.contains("4670123456"), "{text}");
        }
    }
}
