//! What the stage adds to an event before forwarding it, so an agent sees a person and their own
//! replies rather than Sinch's ids:
//!
//! - the customer's **display name**, from the Sinch contact (`GET /contacts/{id}`, CONVERSATION
//!   mode) or, where the channel has one, the channel profile (`contacts:getChannelProfile`).
//!   Sinch's answer is cached in the state table for a day (shared by all containers) and in
//!   this container's memory, so a warm container makes no call at all for a known contact.
//!   A look-up is bounded in time, and whatever goes wrong (timeout, 4xx, 5xx, no credentials,
//!   the cache unavailable) leaves the identity the webhook put there: a name is never worth a
//!   failed or delayed event. A tenant with `display_name_lookups: false` never calls Sinch.
//! - the contact center's **reply id** of the agent message a delivery report is about, or that
//!   a customer quotes, from the map the outbound function writes. Unknown: absent. A state
//!   table failure is returned (the record is retried): a missing reply id would be silent.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use switchboard_shared::channel::Channel;
use switchboard_shared::config::credentials::CredentialSource;
use switchboard_shared::config::{ApiCredentials, ServiceName, TenantConfig};
use switchboard_shared::contract::{EventBody, InboundEvent};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::sinch::api::contacts::ChannelProfileRequest;
use switchboard_shared::sinch::api::send::{ChannelIdentity, IdentifiedBy, Recipient};
use switchboard_shared::sinch::api::{ServiceEndpoint, SinchClient, SinchError};
use switchboard_shared::state::StateError;
use switchboard_shared::state::names::{CachedName, DisplayNameCache};
use switchboard_shared::state::reply_map::ReplyIdMap;
use tracing::{debug, warn};

/// How long Sinch's answer about a name is trusted (the state table's record).
pub const NAME_TTL: Duration = Duration::from_secs(86_400);
/// How long this container keeps a name it read or looked up.
const MEMORY_NAME_TTL: Duration = Duration::from_secs(3600);
/// After a failed look-up, this container does not ask again for a while: a Sinch outage must
/// not add the look-up's time bound to every event.
const FAILURE_BACKOFF: Duration = Duration::from_secs(60);
/// How long this container keeps a service's API credentials.
const CREDENTIALS_TTL: Duration = Duration::from_secs(300);
/// Entries kept in each in-memory map before it starts over (bounded memory).
const MEMORY_ENTRIES: usize = 10_000;

/// Channels with a channel profile (Sinch's reference: Messenger, Instagram, Viber Bot, LINE).
fn has_channel_profile(channel: &Channel) -> bool {
    matches!(
        channel,
        Channel::Messenger | Channel::Instagram | Channel::ViberBot | Channel::Line
    )
}

/// Sinch's placeholder when it knows no name.
fn real_name(name: Option<String>) -> Option<String> {
    name.map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty() && n != "Unknown")
}

/// What a look-up at Sinch came to.
enum Lookup {
    /// Sinch answered: a name, or none known (worth remembering for a day either way).
    Answered(Option<String>),
    /// No answer worth remembering (timeout, 5xx, refused credentials, no credentials).
    Failed(String),
}

/// A bounded map whose entries expire.
struct Expiring<V> {
    entries: Mutex<HashMap<String, (Instant, V)>>,
}

impl<V: Clone> Expiring<V> {
    fn new() -> Self {
        Expiring {
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(until, _)| *until > Instant::now())
            .map(|(_, value)| value.clone())
    }

    fn put(&self, key: String, value: V, ttl: Duration) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MEMORY_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (Instant::now() + ttl, value));
    }
}

/// The stage's view of enrichment (a seam: the stage need not know the enricher's ports).
pub trait Enrich: Send + Sync {
    /// Fills the display name and the reply ids. Only a state-table failure of the reply map
    /// fails (retryable); a name never does.
    fn enrich(
        &self,
        event: &mut InboundEvent,
        tenant: Option<&TenantConfig>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}

impl<N, R, K> Enrich for Enricher<N, R, K>
where
    N: DisplayNameCache,
    R: ReplyIdMap,
    K: CredentialSource,
{
    async fn enrich(
        &self,
        event: &mut InboundEvent,
        tenant: Option<&TenantConfig>,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        Enricher::enrich(self, event, tenant, now).await
    }
}

pub struct Enricher<N, R, K> {
    names: N,
    replies: R,
    credentials: K,
    sinch: SinchClient,
    lookup_timeout: Duration,
    /// `{tenant}#{contact}` → the name (or none) this container knows.
    known_names: Expiring<Option<String>>,
    /// `{tenant}#{contact}` → a look-up failed lately.
    failed_lookups: Expiring<()>,
    /// `{tenant}#{service}` → the service's credentials (or that it has none).
    service_credentials: Expiring<Option<ApiCredentials>>,
    /// `{tenant}#{sinch message id}` → reply id: a mapping never changes once written.
    known_replies: Expiring<String>,
}

impl<N, R, K> Enricher<N, R, K>
where
    N: DisplayNameCache,
    R: ReplyIdMap,
    K: CredentialSource,
{
    pub fn new(
        names: N,
        replies: R,
        credentials: K,
        sinch: SinchClient,
        lookup_timeout: Duration,
    ) -> Self {
        Enricher {
            names,
            replies,
            credentials,
            sinch,
            lookup_timeout,
            known_names: Expiring::new(),
            failed_lookups: Expiring::new(),
            service_credentials: Expiring::new(),
            known_replies: Expiring::new(),
        }
    }

    pub fn names(&self) -> &N {
        &self.names
    }

    pub fn replies(&self) -> &R {
        &self.replies
    }

    /// Fills the display name and the reply ids. Only a state-table failure of the reply map
    /// fails (retryable); a name never does.
    pub async fn enrich(
        &self,
        event: &mut InboundEvent,
        tenant: Option<&TenantConfig>,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        if let Some(tenant) = tenant
            && let Some(name) = self.display_name(event, tenant, now).await
            && let Some(contact) = event.contact.as_mut()
        {
            contact.display_name = Some(name);
        }
        match &mut event.body {
            EventBody::Delivery { delivery } => {
                let found = self
                    .reply_id(&event.tenant, &delivery.message_id, now)
                    .await?;
                event.reply_id = event.reply_id.take().or(found);
            }
            EventBody::Message { message } => {
                if let Some(quoted) = message.quoted_message.as_mut() {
                    let found = self
                        .reply_id(&event.tenant, &quoted.message_id, now)
                        .await?;
                    quoted.reply_id = quoted.reply_id.take().or(found);
                    // The event concerns that agent reply too (the contract's top-level field).
                    event.reply_id = event.reply_id.take().or_else(|| quoted.reply_id.clone());
                }
            }
            _ => {}
        }
        Ok(())
    }

    async fn reply_id(
        &self,
        tenant: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StateError> {
        if message_id.is_empty() {
            return Ok(None);
        }
        let key = format!("{tenant}#{message_id}");
        if let Some(reply_id) = self.known_replies.get(&key) {
            return Ok(Some(reply_id));
        }
        let found = self.replies.reply_id(tenant, message_id, now).await?;
        if let Some(reply_id) = &found {
            self.known_replies
                .put(key, reply_id.clone(), MEMORY_NAME_TTL);
        }
        Ok(found)
    }

    /// The customer's name, when Sinch knows one; `None` leaves the identity in place.
    async fn display_name(
        &self,
        event: &InboundEvent,
        tenant: &TenantConfig,
        now: DateTime<Utc>,
    ) -> Option<String> {
        if !tenant.media.display_name_lookups {
            return None;
        }
        let contact = event.contact.as_ref()?;
        let contact_id = contact.id.as_deref().filter(|id| !id.is_empty());
        let identity = contact
            .channel_identity
            .as_deref()
            .filter(|id| !id.is_empty());
        let profile_channel = event
            .channel
            .as_ref()
            .filter(|channel| has_channel_profile(channel));
        // Without a contact id, only a channel profile can name the customer, and a channel
        // identity is only unique within its app and channel.
        let cache_key = match (contact_id, profile_channel, identity) {
            (Some(id), _, _) => id.to_owned(),
            (None, Some(channel), Some(identity)) if !event.app_id.is_empty() => {
                format!("{}:{channel}:{identity}", event.app_id)
            }
            _ => return None,
        };
        let memory_key = format!("{}#{cache_key}", event.tenant);
        if let Some(known) = self.known_names.get(&memory_key) {
            return known;
        }
        if self.failed_lookups.get(&memory_key).is_some() {
            return None;
        }
        match self.names.get(&event.tenant, &cache_key, now).await {
            Ok(Some(cached)) => {
                self.known_names
                    .put(memory_key, cached.name.clone(), MEMORY_NAME_TTL);
                return cached.name;
            }
            Ok(None) => {}
            Err(err) => {
                warn!(tenant = %event.tenant, error = %err, "display-name cache unavailable; asking Sinch")
            }
        }
        let deadline = Deadline::after(self.lookup_timeout);
        let lookup = deadline
            .run(
                "display-name look-up",
                self.look_up(
                    event,
                    tenant,
                    contact_id,
                    identity,
                    profile_channel,
                    &deadline,
                ),
            )
            .await
            .unwrap_or_else(|late| Lookup::Failed(late.to_string()));
        match lookup {
            Lookup::Answered(name) => {
                let found = CachedName { name: name.clone() };
                if let Err(err) = self
                    .names
                    .put(&event.tenant, &cache_key, &found, now, NAME_TTL)
                    .await
                {
                    warn!(tenant = %event.tenant, error = %err, "could not cache a display name");
                }
                self.known_names
                    .put(memory_key, name.clone(), MEMORY_NAME_TTL);
                name
            }
            Lookup::Failed(why) => {
                warn!(tenant = %event.tenant, event_id = %event.event_id, reason = %why, metric = "display_name_lookup_failed", "display-name look-up failed; the agent sees the identity");
                self.failed_lookups.put(memory_key, (), FAILURE_BACKOFF);
                None
            }
        }
    }

    async fn look_up(
        &self,
        event: &InboundEvent,
        tenant: &TenantConfig,
        contact_id: Option<&str>,
        identity: Option<&str>,
        profile_channel: Option<&Channel>,
        deadline: &Deadline,
    ) -> Lookup {
        let endpoint = match self.endpoint(tenant, &event.service).await {
            Ok(endpoint) => endpoint,
            Err(why) => return Lookup::Failed(why),
        };
        if let Some(id) = contact_id {
            match self.sinch.get_contact(&endpoint, id, deadline).await {
                Ok(contact) => {
                    if let Some(name) = real_name(contact.display_name) {
                        return Lookup::Answered(Some(name));
                    }
                }
                // The contact is gone (merged, deleted): the channel profile may still know.
                Err(SinchError::Api {
                    http_status: 404, ..
                }) => {}
                Err(err) => return Lookup::Failed(err.to_string()),
            }
        }
        let (Some(channel), Some(identity)) = (profile_channel, identity) else {
            return Lookup::Answered(None);
        };
        let request = ChannelProfileRequest {
            app_id: event.app_id.clone(),
            recipient: match contact_id {
                Some(id) => Recipient {
                    contact_id: Some(id.to_owned()),
                    identified_by: None,
                },
                None => Recipient {
                    contact_id: None,
                    identified_by: Some(IdentifiedBy {
                        channel_identities: vec![ChannelIdentity {
                            channel: channel.clone(),
                            identity: identity.to_owned(),
                        }],
                    }),
                },
            },
            channel: channel.clone(),
        };
        match self
            .sinch
            .get_channel_profile(&endpoint, &request, deadline)
            .await
        {
            Ok(profile) => Lookup::Answered(real_name(profile.profile_name)),
            Err(SinchError::Api {
                http_status: 404, ..
            }) => Lookup::Answered(None),
            Err(err) => Lookup::Failed(err.to_string()),
        }
    }

    /// Where and as whom to ask Sinch for the event's messaging service.
    async fn endpoint(
        &self,
        tenant: &TenantConfig,
        service: &str,
    ) -> Result<ServiceEndpoint, String> {
        let name = ServiceName::parse(service).map_err(|err| err.to_string())?;
        let service = tenant
            .service(&name)
            .ok_or_else(|| format!("service '{name}' is not in the tenant's config"))?;
        let key = format!("{}#{name}", tenant.id);
        let credentials = match self.service_credentials.get(&key) {
            Some(known) => known,
            None => {
                let loaded = self
                    .credentials
                    .load(&tenant.id, &name)
                    .await
                    .map_err(|err| err.to_string())?;
                self.service_credentials
                    .put(key, loaded.clone(), CREDENTIALS_TTL);
                loaded
            }
        };
        let credentials = credentials
            .ok_or_else(|| format!("service '{name}' has no API credentials in the config"))?;
        debug!(tenant = %tenant.id, service = %name, "asking Sinch for a display name");
        Ok(ServiceEndpoint::new(&tenant.id, service, credentials))
    }
}
