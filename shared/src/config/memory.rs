//! An in-memory [`TenantConfigSource`], so handlers and the cache are tested in milliseconds
//! without DynamoDB (the DynamoDB adapter itself is tested against moto). It counts its loads,
//! which is how tests show what a request costs, and can be told to fail.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::model::{TenantConfig, TenantId};
use super::store::{StoreError, TenantConfigSource};

#[derive(Default)]
pub struct MemoryConfigSource {
    tenants: Mutex<HashMap<TenantId, serde_json::Value>>,
    failure: Mutex<Option<StoreError>>,
    tenant_loads: AtomicUsize,
    index_loads: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MemoryConfigSource {
    /// Adds (or replaces) a tenant given in the seed-file format. Credentials are dropped, as
    /// the DynamoDB store does for the webhook's view.
    pub fn insert(&self, mut seed: serde_json::Value) {
        if let Some(services) = seed.get_mut("services").and_then(|s| s.as_array_mut()) {
            for service in services.iter_mut().filter_map(|s| s.as_object_mut()) {
                service.remove("access_key_id");
                service.remove("access_key_secret");
            }
        }
        let Some(id) = seed
            .get("id")
            .and_then(|id| id.as_str())
            .and_then(|id| TenantId::parse(id).ok())
        else {
            return;
        };
        lock(&self.tenants).insert(id, seed);
    }

    /// Every later load fails with this error (`None`: loads work again).
    pub fn fail_with(&self, failure: Option<StoreError>) {
        *lock(&self.failure) = failure;
    }

    pub fn tenant_loads(&self) -> usize {
        self.tenant_loads.load(Ordering::SeqCst)
    }

    pub fn index_loads(&self) -> usize {
        self.index_loads.load(Ordering::SeqCst)
    }

    fn failure(&self) -> Result<(), StoreError> {
        match lock(&self.failure).as_ref() {
            None => Ok(()),
            Some(StoreError::Unavailable(text)) => Err(StoreError::Unavailable(text.clone())),
            Some(StoreError::Corrupt { tenant, problem }) => Err(StoreError::Corrupt {
                tenant: tenant.clone(),
                problem: problem.clone(),
            }),
            Some(StoreError::Conflict { tenant, problem }) => Err(StoreError::Conflict {
                tenant: tenant.clone(),
                problem: problem.clone(),
            }),
        }
    }
}

impl TenantConfigSource for MemoryConfigSource {
    async fn load_tenant(&self, id: &TenantId) -> Result<Option<TenantConfig>, StoreError> {
        self.tenant_loads.fetch_add(1, Ordering::SeqCst);
        // A real load awaits the network: let other tasks run, as they would then.
        tokio::task::yield_now().await;
        self.failure()?;
        let Some(seed) = lock(&self.tenants).get(id).cloned() else {
            return Ok(None);
        };
        let corrupt = |problem: String| StoreError::Corrupt {
            tenant: id.to_string(),
            problem,
        };
        let tenant: TenantConfig =
            serde_json::from_value(seed).map_err(|err| corrupt(err.to_string()))?;
        tenant.validate().map_err(|err| corrupt(err.to_string()))?;
        Ok(Some(tenant))
    }

    async fn load_tenant_ids(&self) -> Result<HashSet<TenantId>, StoreError> {
        self.index_loads.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        self.failure()?;
        Ok(lock(&self.tenants).keys().cloned().collect())
    }
}

/// A valid tenant in the seed-file format: one service `main` with one app and webhook secret
/// `{id}-secret`, no queue, and moto's sender id as the one sender of its commands.
pub fn sample_tenant(id: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "services": [{
            "name": "main", "region": "eu", "project_id": format!("{id}-project"),
            "app_ids": [format!("01{}APP", id.to_ascii_uppercase().replace(['-', '_'], ""))],
            "access_key_id": format!("{id}-key"), "access_key_secret": format!("{id}-key-secret"),
            "webhook_secret": format!("{id}-secret")
        }],
        "queues": [],
        "contact_center": { "sender_ids": [super::contact_center::MOTO_SENDER_ID] }
    })
}
