//! The warm container's cache of tenant configuration.
//!
//! A webhook request needs its tenant's config; reading DynamoDB every time would double the
//! AWS calls per callback. Entries live for a short TTL so rotated secrets and new apps are
//! picked up within a minute. Unknown tenants are cached too (as absent), so a flood of requests
//! to made-up tenant paths costs one Query per name and TTL; the map is bounded so such a flood
//! cannot grow memory without limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::model::{TenantConfig, TenantId};
use super::store::{StoreError, TenantConfigSource};

pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 1024;

type Entry = (Instant, Option<Arc<TenantConfig>>);

pub struct ConfigCache<S> {
    source: S,
    ttl: Duration,
    entries: Mutex<HashMap<TenantId, Entry>>,
}

impl<S: TenantConfigSource> ConfigCache<S> {
    pub fn new(source: S, ttl: Duration) -> ConfigCache<S> {
        ConfigCache {
            source,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    /// The tenant's config, `None` when the tenant does not exist.
    pub async fn tenant(&self, id: &TenantId) -> Result<Option<Arc<TenantConfig>>, StoreError> {
        if let Some(hit) = self.fresh(id) {
            return Ok(hit);
        }
        // Not holding the lock across the await: concurrent misses may both load, which is
        // harmless and keeps the lock a plain std Mutex.
        let loaded = self.source.load_tenant(id).await?.map(Arc::new);
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= MAX_ENTRIES {
            let now = Instant::now();
            entries.retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(id.clone(), (Instant::now(), loaded.clone()));
        Ok(loaded)
    }

    fn fresh(&self, id: &TenantId) -> Option<Option<Arc<TenantConfig>>> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .get(id)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, config)| config.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts loads; answers "no such tenant" so no AWS is needed for cache behaviour.
    #[derive(Default)]
    struct CountingSource(AtomicUsize);

    impl TenantConfigSource for CountingSource {
        async fn load_tenant(&self, _: &TenantId) -> Result<Option<TenantConfig>, StoreError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        }
    }

    fn id(name: &str) -> TenantId {
        TenantId::parse(name).unwrap()
    }

    #[tokio::test]
    async fn a_fresh_entry_is_served_without_loading_again() {
        let cache = ConfigCache::new(CountingSource::default(), Duration::from_secs(60));
        assert!(cache.tenant(&id("a")).await.unwrap().is_none());
        assert!(cache.tenant(&id("a")).await.unwrap().is_none());
        assert_eq!(cache.source().0.load(Ordering::SeqCst), 1);
        cache.tenant(&id("b")).await.unwrap();
        assert_eq!(cache.source().0.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_expired_entry_is_loaded_again() {
        let cache = ConfigCache::new(CountingSource::default(), Duration::ZERO);
        cache.tenant(&id("a")).await.unwrap();
        cache.tenant(&id("a")).await.unwrap();
        assert_eq!(cache.source().0.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_cache_stays_bounded_under_a_flood_of_names() {
        let cache = ConfigCache::new(CountingSource::default(), Duration::from_secs(60));
        for n in 0..(MAX_ENTRIES * 2 + 3) {
            cache.tenant(&id(&format!("t{n}"))).await.unwrap();
        }
        assert!(cache.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
