//! The media links' signing keys, read from Secrets Manager and cached per container.
//!
//! The template creates one secret (a long random string). Its `AWSCURRENT` version signs new
//! links and its `AWSPREVIOUS` version still verifies, so a rotation
//! (`aws secretsmanager put-secret-value`, or `rotate-secret`) takes effect without a deploy
//! while links issued before it keep working until they expire. A key's id (`kid`, named in
//! each token) is derived from the secret's `VersionId`, so the id changes with every version
//! and is never secret.
//!
//! Both the media stage (which signs) and the link handler (which verifies) hold a
//! [`LinkKeyCache`]: keys are read again after `refresh` (minutes), and a token naming a key
//! this container has not seen yet makes it read them again at once (at most every
//! [`FORCED_REFRESH_GAP`]), so a container that cached keys just before a rotation does not
//! refuse links signed just after it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretSlice;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::error::{AwsError, Classify, Retry};
use crate::media::link::{Link, LinkError, LinkKey, LinkKeys, token_key_id};

/// How long a container trusts the keys it read, by default.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(300);
/// The least time between two reads forced by a token naming an unknown key: a flood of forged
/// tokens costs at most one Secrets Manager call per this period.
pub const FORCED_REFRESH_GAP: Duration = Duration::from_secs(30);
/// After a failed read, cached keys are used this long before the next try.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);
/// HMAC-SHA256 keys shorter than its block's half are weak; the template generates 64 characters.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkKeysError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The secret exists but cannot be a key (empty, binary, too short). Never says its value.
    #[error("the media link secret's {stage} version is unusable: {problem}")]
    Unusable {
        stage: &'static str,
        problem: &'static str,
    },
}

impl Classify for LinkKeysError {
    fn retry(&self) -> Retry {
        match self {
            LinkKeysError::Aws(err) => err.retry,
            LinkKeysError::Unusable { .. } => Retry::Permanent,
        }
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The keys could not be read: the token may be fine; try again later.
    #[error(transparent)]
    Keys(#[from] LinkKeysError),
}

/// A short, stable id for a secret version: the first 12 hex digits of SHA-256 of its
/// `VersionId`.
pub fn key_id(version_id: &str) -> String {
    hex::encode(Sha256::digest(version_id.as_bytes()))[..12].to_owned()
}

enum Source {
    SecretsManager {
        client: aws_sdk_secretsmanager::Client,
        secret_id: String,
    },
    /// Tests and in-memory stages: keys given once.
    Fixed(Arc<LinkKeys>),
}

struct Loaded {
    keys: Arc<LinkKeys>,
    /// When these keys must be read again.
    refresh_at: DateTime<Utc>,
    /// When they were last read (successfully or not), for the forced-refresh gap.
    tried_at: DateTime<Utc>,
}

pub struct LinkKeyCache {
    source: Source,
    refresh: Duration,
    loaded: Mutex<Option<Loaded>>,
}

impl std::fmt::Debug for LinkKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkKeyCache")
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

fn later(now: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(by)
        .ok()
        .and_then(|by| now.checked_add_signed(by))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl LinkKeyCache {
    pub fn secrets_manager(
        client: aws_sdk_secretsmanager::Client,
        secret_id: impl Into<String>,
        refresh: Duration,
    ) -> LinkKeyCache {
        LinkKeyCache {
            source: Source::SecretsManager {
                client,
                secret_id: secret_id.into(),
            },
            refresh,
            loaded: Mutex::new(None),
        }
    }

    pub fn fixed(keys: LinkKeys) -> LinkKeyCache {
        LinkKeyCache {
            source: Source::Fixed(Arc::new(keys)),
            refresh: Duration::MAX,
            loaded: Mutex::new(None),
        }
    }

    /// The keys in force at `now`: cached, or read again once `refresh` has passed. When a read
    /// fails and keys are cached, the cached keys go on serving (a rotation is then picked up a
    /// little later rather than every link failing); with nothing cached the error is returned.
    pub async fn keys(&self, now: DateTime<Utc>) -> Result<Arc<LinkKeys>, LinkKeysError> {
        self.keys_inner(now, false).await
    }

    async fn keys_inner(
        &self,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<Arc<LinkKeys>, LinkKeysError> {
        // One reader at a time: concurrent requests of a cold container wait for one read.
        let mut loaded = self.loaded.lock().await;
        if let Some(current) = loaded.as_ref() {
            let due = now >= current.refresh_at;
            let forced = force && now >= later(current.tried_at, FORCED_REFRESH_GAP);
            if !due && !forced {
                return Ok(Arc::clone(&current.keys));
            }
        }
        match self.read().await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                *loaded = Some(Loaded {
                    keys: Arc::clone(&keys),
                    refresh_at: later(now, self.refresh),
                    tried_at: now,
                });
                Ok(keys)
            }
            Err(err) => match loaded.as_mut() {
                Some(stale) => {
                    warn!(error = %err, "could not read the media link keys; using the cached ones");
                    stale.refresh_at = later(now, RETRY_AFTER_FAILURE);
                    stale.tried_at = now;
                    Ok(Arc::clone(&stale.keys))
                }
                None => Err(err),
            },
        }
    }

    /// A token for `s3_key` of `tenant`, valid until `expires_at`, signed with the current key.
    pub async fn issue(
        &self,
        tenant: &str,
        s3_key: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<String, LinkKeysError> {
        Ok(self.keys(now).await?.issue(tenant, s3_key, expires_at))
    }

    /// Checks a token presented under `tenant`'s path. A token naming a key this container does
    /// not know makes it read the keys again (rate-limited) before it is refused.
    pub async fn verify(
        &self,
        tenant: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Link, VerifyError> {
        let keys = self.keys(now).await?;
        match keys.verify(tenant, token, now) {
            Err(LinkError::BadSignature) => {
                let unknown = token_key_id(token).filter(|kid| !keys.knows(kid));
                if unknown.is_none() {
                    return Err(LinkError::BadSignature.into());
                }
                let keys = self.keys_inner(now, true).await?;
                Ok(keys.verify(tenant, token, now)?)
            }
            other => Ok(other?),
        }
    }

    async fn read(&self) -> Result<LinkKeys, LinkKeysError> {
        let (client, secret_id) = match &self.source {
            Source::Fixed(keys) => return Ok(clone_keys(keys)),
            Source::SecretsManager { client, secret_id } => (client, secret_id),
        };
        let current = read_version(client, secret_id, "AWSCURRENT").await?.ok_or(
            LinkKeysError::Unusable {
                stage: "AWSCURRENT",
                problem: "it does not exist",
            },
        )?;
        // A secret never rotated has no previous version; an unusable previous one is dropped
        // (links it signed then stop working) rather than stopping every link.
        let previous = match read_version(client, secret_id, "AWSPREVIOUS").await {
            Ok(previous) => previous,
            Err(LinkKeysError::Unusable { problem, .. }) => {
                warn!(
                    problem,
                    "the media link secret's previous version is unusable; ignored"
                );
                None
            }
            Err(err) => return Err(err),
        };
        info!(
            current = %current.id,
            previous = previous.as_ref().map(|key| key.id.as_str()).unwrap_or("none"),
            "media link keys read"
        );
        Ok(LinkKeys { current, previous })
    }
}

fn clone_keys(keys: &LinkKeys) -> LinkKeys {
    use secrecy::ExposeSecret;
    let copy = |key: &LinkKey| LinkKey {
        id: key.id.clone(),
        secret: SecretSlice::from(key.secret.expose_secret().to_vec()),
    };
    LinkKeys {
        current: copy(&keys.current),
        previous: keys.previous.as_ref().map(copy),
    }
}

/// One version of the secret by its stage label; `None` when no version has that label.
async fn read_version(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    stage: &'static str,
) -> Result<Option<LinkKey>, LinkKeysError> {
    let answer = match client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await
    {
        Ok(answer) => answer,
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception())
                && stage != "AWSCURRENT" =>
        {
            return Ok(None);
        }
        Err(err) => return Err(AwsError::from_sdk("GetSecretValue", &err).into()),
    };
    let version_id = answer.version_id().ok_or(LinkKeysError::Unusable {
        stage,
        problem: "it has no version id",
    })?;
    let secret = answer.secret_string().ok_or(LinkKeysError::Unusable {
        stage,
        problem: "it is not a string",
    })?;
    if secret.len() < MIN_SECRET_BYTES {
        return Err(LinkKeysError::Unusable {
            stage,
            problem: "it is shorter than 32 bytes",
        });
    }
    Ok(Some(LinkKey {
        id: key_id(version_id),
        secret: SecretSlice::from(secret.as_bytes().to_vec()),
    }))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn keys(id: &str) -> LinkKeys {
        LinkKeys {
            current: LinkKey {
                id: id.into(),
                secret: SecretSlice::from(b"0123456789abcdef0123456789abcdef".to_vec()),
            },
            previous: None,
        }
    }

    #[test]
    fn key_ids_are_short_stable_and_differ_per_version() {
        let a = key_id("a1b2c3d4-0000-4000-8000-000000000001");
        assert_eq!(a.len(), 12);
        assert_eq!(a, key_id("a1b2c3d4-0000-4000-8000-000000000001"));
        assert_ne!(a, key_id("a1b2c3d4-0000-4000-8000-000000000002"));
    }

    #[tokio::test]
    async fn fixed_keys_issue_and_verify() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let cache = LinkKeyCache::fixed(keys("k1"));
        let token = cache
            .issue(
                "acme",
                "inbound/acme/x",
                now + chrono::Duration::hours(1),
                now,
            )
            .await
            .unwrap();
        assert_eq!(
            cache.verify("acme", &token, now).await.unwrap().s3_key,
            "inbound/acme/x"
        );
        assert_eq!(
            cache.verify("globex", &token, now).await,
            Err(VerifyError::Link(LinkError::BadSignature))
        );
    }
}
