//! Where a tenant's retention comes from: the config table (one GetItem of the tenant's
//! retention, never its services or secrets), or a fixed map in tests.

use std::collections::BTreeMap;
use std::future::Future;

use switchboard_shared::config::{ConfigStore, Retention, StoreError, TenantId};

pub trait RetentionSource: Send + Sync {
    /// The tenant's retention; `None` when it is not (or no longer) in the config.
    fn retention(
        &self,
        tenant: &TenantId,
    ) -> impl Future<Output = Result<Option<Retention>, StoreError>> + Send;
}

impl RetentionSource for ConfigStore {
    fn retention(
        &self,
        tenant: &TenantId,
    ) -> impl Future<Output = Result<Option<Retention>, StoreError>> + Send {
        self.load_retention(tenant)
    }
}

/// Tenants known in memory; every other tenant is not in the config.
#[derive(Debug, Clone, Default)]
pub struct FixedRetention(pub BTreeMap<TenantId, Retention>);

impl RetentionSource for FixedRetention {
    async fn retention(&self, tenant: &TenantId) -> Result<Option<Retention>, StoreError> {
        Ok(self.0.get(tenant).copied())
    }
}
