//! The Sinch API credentials of a messaging service, kept in the config table's `SECRETS#`
//! partition (which only the functions that call Sinch may read, one item at a time), and a
//! per-container cache in front of them so a call to Sinch costs no extra AWS call.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::model::{ServiceName, TenantId};
use super::store::{ApiCredentials, ConfigStore, StoreError};

/// Where credentials come from (the config table; in memory for handler tests).
pub trait CredentialSource: Send + Sync {
    fn load(
        &self,
        tenant: &TenantId,
        service: &ServiceName,
    ) -> impl Future<Output = Result<Option<ApiCredentials>, StoreError>> + Send;
}

impl CredentialSource for ConfigStore {
    async fn load(
        &self,
        tenant: &TenantId,
        service: &ServiceName,
    ) -> Result<Option<ApiCredentials>, StoreError> {
        self.load_credentials(tenant, service).await
    }
}

type Key = (String, String);

/// A source with a per-container cache in front (misses are not cached: a service seeded a
/// moment ago works at once).
pub struct CredentialCache<S> {
    source: S,
    ttl: Duration,
    entries: Mutex<HashMap<Key, (Instant, ApiCredentials)>>,
}

impl<S: CredentialSource> CredentialCache<S> {
    pub fn new(source: S, ttl: Duration) -> Self {
        CredentialCache {
            source,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        service: &ServiceName,
    ) -> Result<Option<ApiCredentials>, StoreError> {
        let key = (tenant.to_string(), service.to_string());
        if let Some((at, found)) = self.lock().get(&key)
            && at.elapsed() < self.ttl
        {
            return Ok(Some(found.clone()));
        }
        let loaded = self.source.load(tenant, service).await?;
        if let Some(found) = &loaded {
            self.lock().insert(key, (Instant::now(), found.clone()));
        }
        Ok(loaded)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (Instant, ApiCredentials)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// In memory, counting loads, for handler tests.
#[derive(Default)]
pub struct MemoryCredentials {
    entries: Mutex<HashMap<Key, ApiCredentials>>,
    loads: std::sync::atomic::AtomicUsize,
}

impl MemoryCredentials {
    /// The same as [`MemoryCredentials::insert`], for building one in an expression.
    pub fn with(self, tenant: &str, service: &str, credentials: ApiCredentials) -> Self {
        self.insert(tenant, service, credentials);
        self
    }

    pub fn insert(&self, tenant: &str, service: &str, credentials: ApiCredentials) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((tenant.to_owned(), service.to_owned()), credentials);
    }

    pub fn loads(&self) -> usize {
        self.loads.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl CredentialSource for MemoryCredentials {
    async fn load(
        &self,
        tenant: &TenantId,
        service: &ServiceName,
    ) -> Result<Option<ApiCredentials>, StoreError> {
        self.loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(tenant.to_string(), service.to_string()))
            .cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(id: &str) -> ApiCredentials {
        ApiCredentials {
            key_id: id.to_owned(),
            key_secret: String::from("s").into(),
        }
    }

    #[tokio::test]
    async fn credentials_are_loaded_once_per_ttl_and_misses_are_not_cached() {
        let memory = MemoryCredentials::default();
        let tenant = TenantId::parse("acme").unwrap();
        let service = ServiceName::parse("main").unwrap();
        let cache = CredentialCache::new(memory, Duration::from_secs(60));
        assert!(cache.get(&tenant, &service).await.unwrap().is_none());
        cache.source().insert("acme", "main", credentials("k"));
        assert_eq!(
            cache.get(&tenant, &service).await.unwrap().unwrap().key_id,
            "k"
        );
        assert_eq!(
            cache.get(&tenant, &service).await.unwrap().unwrap().key_id,
            "k"
        );
        assert_eq!(cache.source().loads(), 2, "one miss, one load, then cached");
    }
}
