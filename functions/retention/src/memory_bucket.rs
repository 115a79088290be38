//! An in-memory bucket with S3's listing semantics (lexicographic order, `/` roll-up into
//! common prefixes, pages, continuation) and injectable per-key delete failures, so the sweep's
//! decisions are tested in milliseconds. The S3 adapter is tested against moto.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use switchboard_shared::error::AwsError;

use crate::bucket::{Bucket, KeyFailure, MAX_BATCH, Page, StoredObject};

/// An object's size and, when known, when it was last written.
type Stored = (u64, Option<DateTime<Utc>>);

#[derive(Debug)]
pub struct MemoryBucket {
    objects: Mutex<BTreeMap<String, Stored>>,
    /// Keys whose deletion fails, with how many more times it will.
    failing: Mutex<BTreeMap<String, u32>>,
    page_size: usize,
}

impl Default for MemoryBucket {
    fn default() -> Self {
        MemoryBucket::with_page_size(MAX_BATCH)
    }
}

enum Entry {
    Prefix(String),
    Object(StoredObject),
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Entry::Prefix(prefix) => prefix,
            Entry::Object(object) => &object.key,
        }
    }
}

impl MemoryBucket {
    /// Pages of at most `page_size` entries (S3: 1,000), to exercise continuation cheaply.
    pub fn with_page_size(page_size: usize) -> MemoryBucket {
        MemoryBucket {
            objects: Mutex::default(),
            failing: Mutex::default(),
            page_size: page_size.clamp(1, MAX_BATCH),
        }
    }

    /// An object with no modification time: only its key's day can expire it.
    pub fn put(&self, key: impl Into<String>, size: u64) {
        self.lock().insert(key.into(), (size, None));
    }

    /// An object last written at `modified`, as S3 reports it.
    pub fn put_at(&self, key: impl Into<String>, size: u64, modified: DateTime<Utc>) {
        self.lock().insert(key.into(), (size, Some(modified)));
    }

    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// The next `times` deletions of `key` fail as S3 reports a failed key in a batch.
    pub fn fail_deletes_of(&self, key: impl Into<String>, times: u32) {
        self.failing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key.into(), times);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Stored>> {
        self.objects
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Bucket for MemoryBucket {
    async fn list(
        &self,
        prefix: &str,
        delimited: bool,
        continuation: Option<&str>,
    ) -> Result<Page, AwsError> {
        let objects = self.lock();
        let mut entries: Vec<Entry> = Vec::new();
        let mut more = false;
        for (key, (size, modified)) in objects.range(prefix.to_owned()..) {
            if !key.starts_with(prefix) {
                break;
            }
            let entry = match key[prefix.len()..].find('/') {
                Some(slash) if delimited => {
                    Entry::Prefix(key[..prefix.len() + slash + 1].to_owned())
                }
                _ => Entry::Object(StoredObject {
                    key: key.clone(),
                    size: *size,
                    last_modified: *modified,
                }),
            };
            // Continuation is "after this entry", as S3's tokens are for this listing.
            if continuation.is_some_and(|after| entry.name() <= after) {
                continue;
            }
            if let (Entry::Prefix(new), Some(Entry::Prefix(last))) = (&entry, entries.last())
                && new == last
            {
                continue;
            }
            if entries.len() == self.page_size {
                more = true;
                break;
            }
            entries.push(entry);
        }
        let next = if more {
            entries.last().map(|entry| entry.name().to_owned())
        } else {
            None
        };
        let mut page = Page {
            next,
            ..Page::default()
        };
        for entry in entries {
            match entry {
                Entry::Prefix(prefix) => page.prefixes.push(prefix),
                Entry::Object(object) => page.objects.push(object),
            }
        }
        Ok(page)
    }

    async fn delete(&self, keys: &[String]) -> Result<Vec<KeyFailure>, AwsError> {
        assert!(
            !keys.is_empty() && keys.len() <= MAX_BATCH,
            "DeleteObjects takes 1 to {MAX_BATCH} keys, got {}",
            keys.len()
        );
        let mut failing = self
            .failing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut objects = self.lock();
        let mut failures = Vec::new();
        for key in keys {
            if let Some(times) = failing.get_mut(key)
                && *times > 0
            {
                *times -= 1;
                failures.push(KeyFailure {
                    key: key.clone(),
                    code: "InternalError".into(),
                });
                continue;
            }
            // Like S3: deleting a key that is not there succeeds.
            objects.remove(key);
        }
        Ok(failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn listing_rolls_up_at_the_delimiter_and_pages_like_s3() {
        let bucket = MemoryBucket::with_page_size(2);
        for key in ["a/x/1", "a/x/2", "a/y/1", "a/z", "a/zz/1", "b/1"] {
            bucket.put(key, 1);
        }
        let first = block_on(bucket.list("a/", true, None)).unwrap();
        assert_eq!(first.prefixes, ["a/x/", "a/y/"]);
        assert!(first.objects.is_empty());
        let second = block_on(bucket.list("a/", true, first.next.as_deref())).unwrap();
        assert_eq!(second.prefixes, ["a/zz/"]);
        assert_eq!(second.objects[0].key, "a/z");
        assert_eq!(second.next, None);

        let flat = block_on(bucket.list("a/x/", false, None)).unwrap();
        assert_eq!(
            flat.objects
                .iter()
                .map(|o| o.key.as_str())
                .collect::<Vec<_>>(),
            ["a/x/1", "a/x/2"]
        );
        assert_eq!(flat.next, None);
    }

    #[test]
    fn injected_failures_fail_the_key_then_stop() {
        let bucket = MemoryBucket::default();
        bucket.put("k1", 1);
        bucket.put("k2", 1);
        bucket.fail_deletes_of("k1", 1);
        let keys = vec!["k1".to_owned(), "k2".to_owned()];
        let failures = block_on(bucket.delete(&keys)).unwrap();
        assert_eq!(failures.len(), 1);
        assert_eq!(bucket.keys(), ["k1"]);
        assert!(block_on(bucket.delete(&keys)).unwrap().is_empty());
        assert!(bucket.keys().is_empty());
    }
}
