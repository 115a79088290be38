//! Tenant configuration: the model and its validation, the DynamoDB store, and the warm-container
//! cache in front of it.

mod cache;
pub mod contact_center;
pub mod credentials;
pub mod media;
pub mod memory;
mod model;
pub mod outbound;
mod store;
pub mod targets;

pub use cache::{ConfigCache, DEFAULT_CACHE_TTL};
pub use contact_center::{ContactCenterSettings, SenderCheck};
pub use media::MediaSettings;
pub use model::{
    ALL_SERVICES, ConfigError, MAX_RETENTION_DAYS, MessagingService, QueueConfig, Region,
    Retention, SeedFile, ServiceName, TenantConfig, TenantId,
};
pub use outbound::OutboundSettings;
pub use store::{ApiCredentials, ConfigStore, StoreError, TenantConfigSource};
pub use targets::{StackQueues, TargetError};
