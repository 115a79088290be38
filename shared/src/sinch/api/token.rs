//! OAuth2 access tokens, cached for the container's lifetime.
//!
//! One token per (tenant, service, token endpoint, access key id, digest of the key's secret):
//! every message of a warm container reuses it until shortly before it expires. The key is what
//! authenticates, not only what names the key: a tenant whose config names another tenant's
//! access key id (with any secret) never gets that tenant's cached token, it asks the token
//! endpoint with its own secret (and is refused there). The secret itself is never kept in the
//! key, only its SHA-256, and the key is never logged. Concurrent callers that find no fresh token wait on one lock per
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

/// Which token: whose (tenant and service), the endpoint that issues it, and the access key it
/// is for, by its id and a digest of its secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    pub tenant: String,
    pub service: String,
    pub token_url: String,
    pub key_id: String,
    /// SHA-256 of the access key's secret ([`secret_digest`]); never the secret.
    pub secret_digest: [u8; 32],
}

/// The SHA-256 of an access key's secret, for [`TokenKey`].
pub fn secret_digest(secret: &SecretString) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(secret.expose_secret().as_bytes()).into()
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
            tenant: "acme".into(),
            service: "main".into(),
            token_url: "https://auth.sinch.com/oauth2/token".into(),
            key_id: "key".into(),
            secret_digest: secret_digest(&SecretString::from("key-secret".to_owned())),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn another_tenant_or_secret_under_the_same_key_id_never_gets_the_cached_token() {
        let cache = TokenCache::new();
        let count = AtomicUsize::new(0);
        let hour = Duration::from_secs(3600);
        let first = cache
            .get(&key(), || fetch_counting(&count, hour))
            .await
            .unwrap();
        let other_tenant = TokenKey {
            tenant: "globex".into(),
            ..key()
        };
        let other_secret = TokenKey {
            secret_digest: secret_digest(&SecretString::from("guessed".to_owned())),
            ..key()
        };
        for key in [other_tenant, other_secret] {
            let token = cache
                .get(&key, || fetch_counting(&count, hour))
                .await
                .unwrap();
            assert_ne!(token.expose_secret(), first.expose_secret(), "{key:?}");
            assert!(!format!("{key:?}").contains("guessed"));
        }
        assert_eq!(count.load(Ordering::SeqCst), 3);
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
