//! Key use remembered in memory and written in batches: what `last_used_at` of admin keys and
//! of service account keys is made of, so that requests never each write.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Uses of keys not yet written to storage: each key's latest use. The service notes a use
/// per authentication and takes the whole log as one batch when it flushes.
pub(super) struct UseLog<K> {
    pending: Mutex<HashMap<K, i64>>,
}

impl<K> Default for UseLog<K> {
    fn default() -> Self {
        Self {
            pending: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone> UseLog<K> {
    /// Remembers that `key` was used at `at`; of several uses, the latest wins.
    pub(super) fn note(&self, key: &K, at: i64) {
        if let Ok(mut pending) = self.pending.lock() {
            // The key's id is copied only the first time it is seen between two flushes.
            match pending.get_mut(key) {
                Some(latest) => *latest = (*latest).max(at),
                None => {
                    pending.insert(key.clone(), at);
                }
            }
        }
    }

    /// Every remembered use, forgotten here: the batch to write.
    pub(super) fn take(&self) -> Vec<(K, i64)> {
        match self.pending.lock() {
            Ok(mut pending) => pending.drain().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Remembers again a batch whose write failed, for the next flush; uses noted meanwhile
    /// are kept where they are later.
    pub(super) fn keep(&self, batch: Vec<(K, i64)>) {
        if let Ok(mut pending) = self.pending.lock() {
            for (key, at) in batch {
                let latest = pending.entry(key).or_insert(at);
                *latest = (*latest).max(at);
            }
        }
    }

    /// `stored` (a key's `last_used_at` as read from storage) with the key's unwritten use
    /// folded in.
    pub(super) fn latest(&self, key: &K, stored: Option<i64>) -> Option<i64> {
        let pending = self
            .pending
            .lock()
            .ok()
            .and_then(|pending| pending.get(key).copied());
        match (stored, pending) {
            (Some(stored), Some(at)) => Some(stored.max(at)),
            (stored, at) => stored.or(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_use_of_each_key_is_taken_once() {
        let log = UseLog::default();
        log.note(&"a", 5);
        log.note(&"a", 9);
        log.note(&"a", 7);
        log.note(&"b", 3);
        let mut batch = log.take();
        batch.sort_unstable();
        assert_eq!(batch, [("a", 9), ("b", 3)]);
        assert!(log.take().is_empty(), "taken means forgotten");
    }

    #[test]
    fn a_kept_batch_is_merged_with_later_uses() {
        let log = UseLog::default();
        log.note(&"a", 5);
        log.note(&"b", 5);
        let batch = log.take();
        log.note(&"a", 8);
        log.note(&"b", 2);
        log.keep(batch);
        let mut batch = log.take();
        batch.sort_unstable();
        assert_eq!(batch, [("a", 8), ("b", 5)]);
    }

    #[test]
    fn unwritten_use_is_folded_into_the_stored_time() {
        let log = UseLog::default();
        assert_eq!(log.latest(&"a", None), None);
        assert_eq!(log.latest(&"a", Some(4)), Some(4));
        log.note(&"a", 6);
        assert_eq!(log.latest(&"a", None), Some(6));
        assert_eq!(log.latest(&"a", Some(4)), Some(6));
        assert_eq!(log.latest(&"a", Some(8)), Some(8));
        assert_eq!(log.latest(&"b", Some(4)), Some(4));
    }
}
