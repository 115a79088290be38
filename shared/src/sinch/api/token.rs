//! OAuth2 access tokens, cached for the container's lifetime.
//!
//! One token per (token endpoint, access key): every message of a warm container reuses it until
//! shortly before it expires. Concurrent callers that find no fresh token wait on one lock per
//! key while the first of them fetches, so a burst of sends after a cold start (or at expiry)
//! makes one token request, not one per send. The token itself is a [`SecretString`]: it never
//! shows in Debug output or logs.
//!
//! Time is tokio's clock, so tests pause and advance it instead of waiting.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

/// Refresh this long before expiry (the SDKs' choice), or at half the lifetime for short tokens.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// A bearer token and when to stop using it.
#[derive(Clone)]
pub struct AccessToken {
    pub value: SecretString,
    /// When a new token should be fetched instead (before the real expiry).
    pub refresh_at: Instant,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"[REDACTED]")
            .field("refresh_at", &self.refresh_at)
            .finish()
    }
}

impl AccessToken {
    /// A token that Sinch said lives `expires_in` from `issued_at`.
    pub fn new(value: SecretString, issued_at: Instant, expires_in: Duration) -> AccessToken {
        let margin = REFRESH_BEFORE_EXPIRY.min(expires_in / 2);
        AccessToken {
            value,
            refresh_at: issued_at + expires_in - margin,
        }
    }

    fn is_fresh(&self, now: Instant) -> bool {
        now < self.refresh_at
    }
}

/// Which token: the endpoint that issues it and the access key it is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    pub token_url: String,
    pub key_id: String,
}

type Slot = Arc<tokio::sync::Mutex<Option<AccessToken>>>;

/// The container's tokens.
#[derive(Debug, Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<TokenKey, Slot>>,
}

impl TokenCache {
    pub fn new() -> TokenCache {
        TokenCache::default()
    }

    fn slot(&self, key: &TokenKey) -> Slot {
        // A poisoned map only means another thread panicked between two lines that cannot
        // leave it inconsistent; keep using it.
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(slots.entry(key.clone()).or_default())
    }

    /// A fresh token for `key`: the cached one, or one from `fetch`, called by at most one
    /// caller at a time per key (the others wait and then use its token).
    pub async fn get<F, Fut, E>(&self, key: &TokenKey, fetch: F) -> Result<SecretString, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, E>>,
    {
        let slot = self.slot(key);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref()
            && token.is_fresh(Instant::now())
        {
            return Ok(token.value.clone());
        }
        let token = fetch().await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    /// Forgets `rejected` (a token Sinch called expired), unless another caller already
    /// replaced it with a newer one.
    pub async fn invalidate(&self, key: &TokenKey, rejected: &SecretString) {
        let slot = self.slot(key);
        let mut cached = slot.lock().await;
        if cached
            .as_ref()
            .is_some_and(|token| token.value.expose_secret() == rejected.expose_secret())
        {
            *cached = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn key() -> TokenKey {
        TokenKey {
            token_url: "https://auth.sinch.com/oauth2/token".into(),
            key_id: "key".into(),
        }
    }

    async fn fetch_counting(
        count: &AtomicUsize,
        lifetime: Duration,
    ) -> Result<AccessToken, std::convert::Infallible> {
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        // Long enough that concurrent callers pile up behind this fetch.
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(AccessToken::new(
            SecretString::from(format!("token-{n}")),
            Instant::now(),
            lifetime,
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn one_fetch_serves_every_call_until_shortly_before_expiry() {
        let cache = TokenCache::new();
        let count = AtomicUsize::new(0);
        let hour = Duration::from_secs(3600);
        for _ in 0..50 {
            let token = cache
                .get(&key(), || fetch_counting(&count, hour))
                .await
                .unwrap();
            assert_eq!(token.expose_secret(), "token-1");
        }
        assert_eq!(count.load(Ordering::SeqCst), 1);
        // 59 minutes later: still within the token's life minus the 60 s margin.
        tokio::time::advance(Duration::from_secs(3600 - 61)).await;
        let token = cache
            .get(&key(), || fetch_counting(&count, hour))
            .await
            .unwrap();
        assert_eq!(token.expose_secret(), "token-1");
        // Inside the last minute: refreshed.
        tokio::time::advance(Duration::from_secs(2)).await;
        let token = cache
            .get(&key(), || fetch_counting(&count, hour))
            .await
            .unwrap();
        assert_eq!(token.expose_secret(), "token-2");
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_refresh() {
        let cache = Arc::new(TokenCache::new());
        let count = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let cache = Arc::clone(&cache);
            let count = Arc::clone(&count);
            tasks.push(tokio::spawn(async move {
                cache
                    .get(&key(), || fetch_counting(&count, Duration::from_secs(3600)))
                    .await
                    .unwrap()
                    .expose_secret()
                    .to_owned()
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), "token-1");
        }
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn keys_do_not_share_tokens_and_short_tokens_refresh_at_half_life() {
        let cache = TokenCache::new();
        let count = AtomicUsize::new(0);
        let other = TokenKey {
            key_id: "other".into(),
            ..key()
        };
        let short = Duration::from_secs(30);
        cache
            .get(&key(), || fetch_counting(&count, short))
            .await
            .unwrap();
        cache
            .get(&other, || fetch_counting(&count, short))
            .await
            .unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 2);
        tokio::time::advance(Duration::from_secs(14)).await;
        cache
            .get(&key(), || fetch_counting(&count, short))
            .await
            .unwrap();
        assert_eq!(
            count.load(Ordering::SeqCst),
            2,
            "a 30 s token is used for 15 s"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        cache
            .get(&key(), || fetch_counting(&count, short))
            .await
            .unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn invalidating_drops_only_the_rejected_token() {
        let cache = TokenCache::new();
        let count = AtomicUsize::new(0);
        let hour = Duration::from_secs(3600);
        let first = cache
            .get(&key(), || fetch_counting(&count, hour))
            .await
            .unwrap();
        cache.invalidate(&key(), &first).await;
        let second = cache
            .get(&key(), || fetch_counting(&count, hour))
            .await
            .unwrap();
        assert_eq!(second.expose_secret(), "token-2");
        // A late caller still holding the first token must not throw away the second.
        cache.invalidate(&key(), &first).await;
        let again = cache
            .get(&key(), || fetch_counting(&count, hour))
            .await
            .unwrap();
        assert_eq!(again.expose_secret(), "token-2");
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let token = AccessToken::new(
            SecretString::from("eyJsecret".to_owned()),
            Instant::now(),
            Duration::from_secs(60),
        );
        assert!(!format!("{token:?}").contains("eyJsecret"));
    }
}
