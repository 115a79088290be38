//! The warm container's cache of tenant configuration.
//!
//! A webhook request needs its tenant's config; reading DynamoDB every time would double the
//! AWS calls per callback. Entries live for a short TTL so rotated secrets and new apps are
//! picked up within a minute.
//!
//! Strangers choose the tenant names in the paths they post to, so a made-up name must cost
//! nothing: the set of tenant ids is loaded once per TTL (one Query), and a name outside it is
//! refused without touching DynamoDB. Known tenants are kept in a bounded least-recently-used
//! map, so the busiest tenants stay cached however many there are.

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lru::LruCache;

use super::model::{TenantConfig, TenantId};
use super::store::{StoreError, TenantConfigSource};

pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);
const DEFAULT_CAPACITY: NonZeroUsize = NonZeroUsize::new(1024).expect("1024 is not zero");

type Loaded<T> = (Instant, T);

pub struct ConfigCache<S> {
    source: S,
    ttl: Duration,
    ids: Mutex<Option<Loaded<Arc<HashSet<TenantId>>>>>,
    tenants: Mutex<LruCache<TenantId, Loaded<Arc<TenantConfig>>>>,
    /// Held while loading: the groups of a batch start together, and without it each would
    /// load the same cold tenant at once (one load is enough; the others wait and read it).
    loading: tokio::sync::Mutex<()>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind, never a broken invariant.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<S: TenantConfigSource> ConfigCache<S> {
    pub fn new(source: S, ttl: Duration) -> ConfigCache<S> {
        ConfigCache::with_capacity(source, ttl, DEFAULT_CAPACITY)
    }

    pub fn with_capacity(source: S, ttl: Duration, capacity: NonZeroUsize) -> ConfigCache<S> {
        ConfigCache {
            source,
            ttl,
            ids: Mutex::new(None),
            tenants: Mutex::new(LruCache::new(capacity)),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    /// The tenant's config, `None` when the tenant does not exist.
    pub async fn tenant(&self, id: &TenantId) -> Result<Option<Arc<TenantConfig>>, StoreError> {
        if let Some(config) = self.fresh_tenant(id) {
            return Ok(Some(config));
        }
        // One load at a time (the std locks are never held across an await): the callers that
        // waited find the tenant loaded and cost nothing.
        let _loading = self.loading.lock().await;
        if !self.tenant_ids().await?.contains(id) {
            return Ok(None);
        }
        if let Some(config) = self.fresh_tenant(id) {
            return Ok(Some(config));
        }
        let Some(loaded) = self.source.load_tenant(id).await?.map(Arc::new) else {
            return Ok(None);
        };
        lock(&self.tenants).put(id.clone(), (Instant::now(), loaded.clone()));
        Ok(Some(loaded))
    }

    fn fresh_tenant(&self, id: &TenantId) -> Option<Arc<TenantConfig>> {
        let mut tenants = lock(&self.tenants);
        match tenants.get(id) {
            Some((at, config)) if at.elapsed() < self.ttl => Some(config.clone()),
            _ => None,
        }
    }

    /// Called with `loading` held.
    async fn tenant_ids(&self) -> Result<Arc<HashSet<TenantId>>, StoreError> {
        if let Some((at, ids)) = lock(&self.ids).as_ref()
            && at.elapsed() < self.ttl
        {
            return Ok(ids.clone());
        }
        let ids = Arc::new(self.source.load_tenant_ids().await?);
        *lock(&self.ids) = Some((Instant::now(), ids.clone()));
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::memory::MemoryConfigSource;

    fn id(name: &str) -> TenantId {
        TenantId::parse(name).unwrap()
    }

    fn source(tenants: &[&str]) -> MemoryConfigSource {
        let source = MemoryConfigSource::default();
        for name in tenants {
            source.insert(crate::config::memory::sample_tenant(name));
        }
        source
    }

    #[tokio::test]
    async fn a_fresh_entry_is_served_without_loading_again() {
        let cache = ConfigCache::new(source(&["a", "b"]), Duration::from_secs(60));
        assert!(cache.tenant(&id("a")).await.unwrap().is_some());
        assert!(cache.tenant(&id("a")).await.unwrap().is_some());
        assert_eq!(cache.source().tenant_loads(), 1);
        cache.tenant(&id("b")).await.unwrap();
        assert_eq!(cache.source().tenant_loads(), 2);
        assert_eq!(cache.source().index_loads(), 1);
    }

    #[tokio::test]
    async fn an_expired_entry_is_loaded_again() {
        let cache = ConfigCache::new(source(&["a"]), Duration::ZERO);
        cache.tenant(&id("a")).await.unwrap();
        cache.tenant(&id("a")).await.unwrap();
        assert_eq!(cache.source().tenant_loads(), 2);
        assert_eq!(cache.source().index_loads(), 2);
    }

    #[tokio::test]
    async fn unknown_names_cost_no_load_at_all() {
        let cache = ConfigCache::new(source(&["real"]), Duration::from_secs(60));
        for n in 0..5000 {
            assert!(cache.tenant(&id(&format!("t{n}"))).await.unwrap().is_none());
        }
        assert_eq!(cache.source().tenant_loads(), 0);
        assert_eq!(cache.source().index_loads(), 1);
    }

    #[tokio::test]
    async fn the_least_recently_used_tenant_is_the_one_evicted() {
        let cache = ConfigCache::with_capacity(
            source(&["a", "b", "c"]),
            Duration::from_secs(60),
            NonZeroUsize::new(2).unwrap(),
        );
        cache.tenant(&id("a")).await.unwrap();
        cache.tenant(&id("b")).await.unwrap();
        cache.tenant(&id("a")).await.unwrap(); // a is now the most recent
        cache.tenant(&id("c")).await.unwrap(); // evicts b, not a
        assert_eq!(cache.source().tenant_loads(), 3);
        cache.tenant(&id("a")).await.unwrap();
        assert_eq!(cache.source().tenant_loads(), 3, "a stayed cached");
        cache.tenant(&id("b")).await.unwrap();
        assert_eq!(cache.source().tenant_loads(), 4, "b was evicted");
    }

    #[tokio::test]
    async fn concurrent_callers_of_a_cold_tenant_share_one_load() {
        let cache = Arc::new(ConfigCache::new(source(&["a"]), Duration::from_secs(60)));
        let callers: Vec<_> = (0..10)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.tenant(&id("a")).await })
            })
            .collect();
        for caller in callers {
            assert!(caller.await.unwrap().unwrap().is_some());
        }
        assert_eq!(cache.source().tenant_loads(), 1);
        assert_eq!(cache.source().index_loads(), 1);
    }

    #[tokio::test]
    async fn a_failing_store_is_an_error_not_an_unknown_tenant() {
        let cache = ConfigCache::new(source(&["a"]), Duration::from_secs(60));
        cache
            .source()
            .fail_with(Some(StoreError::Unavailable("down".into())));
        assert!(cache.tenant(&id("a")).await.unwrap_err().is_retryable());
    }
}
