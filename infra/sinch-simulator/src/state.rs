//! What the simulator remembers: the requests it received (the inspection API), the faults it was
//! told to inject, the tokens it issued, the delivery outcome of the next sends, and what tests
//! registered (contacts) or created (webhooks). All in memory; a restart forgets everything.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// One received request, as `GET /_simulator/requests` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string; empty when there is none.
    pub query: String,
    /// Header names in lower case; repeated headers joined with ", ".
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// The request body exactly as received (lossy UTF-8 for bytes that are not).
    pub body: String,
}

/// "Answer the next `count` requests (whose path contains `path_contains`) with `status`, after
/// `delay_ms`". Without a status, the requests are answered normally after the delay.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default)]
    pub path_contains: Option<String>,
    /// The error message in Sinch's body; a default per status otherwise.
    #[serde(default)]
    pub message: Option<String>,
    /// With status 401: say that the token expired (`WWW-Authenticate: … expired`).
    #[serde(default)]
    pub expired: bool,
}

fn one() -> u32 {
    1
}

/// The delivery reports one accepted send produces.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Outcome {
    pub statuses: Vec<String>,
    #[serde(default)]
    pub reason: Option<serde_json::Value>,
}

impl Default for Outcome {
    fn default() -> Self {
        Outcome {
            statuses: vec![
                "QUEUED_ON_CHANNEL".into(),
                "DELIVERED".into(),
                "READ".into(),
            ],
            reason: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Issued {
    pub tenant: String,
    pub service: String,
    pub expires_at: Instant,
}

#[derive(Debug, Clone, Serialize)]
pub struct SentCallback {
    pub kind: &'static str,
    pub url: String,
    pub body: String,
    /// The webhook's HTTP status, or null when it could not be reached.
    pub status: Option<u16>,
    pub answer: String,
}

#[derive(Debug, Default)]
pub struct State {
    requests: Mutex<Vec<Recorded>>,
    faults: Mutex<Vec<Fault>>,
    tokens: Mutex<HashMap<String, Issued>>,
    default_outcome: Mutex<Outcome>,
    next_outcomes: Mutex<VecDeque<Outcome>>,
    /// (project, contact id) → the contact as `GET /contacts/{id}` answers it.
    contacts: Mutex<HashMap<(String, String), serde_json::Value>>,
    /// (project, webhook) in creation order.
    webhooks: Mutex<Vec<(String, serde_json::Value)>>,
    callbacks: Mutex<Vec<SentCallback>>,
    media: Mutex<HashMap<String, (String, Bytes)>>,
}

/// A poisoned lock means a handler panicked mid-update of a plain list; keep serving.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    pub fn record(&self, request: Recorded) {
        lock(&self.requests).push(request);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.requests).clear();
    }

    pub fn add_fault(&self, fault: Fault) {
        lock(&self.faults).push(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.faults).clone()
    }

    /// The fault that applies to a request for `path`, counted down.
    pub fn take_fault(&self, path: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let index = faults.iter().position(|fault| {
            fault.count > 0
                && fault
                    .path_contains
                    .as_deref()
                    .is_none_or(|part| path.contains(part))
        })?;
        let fault = faults[index].clone();
        faults[index].count -= 1;
        if faults[index].count == 0 {
            faults.remove(index);
        }
        Some(fault)
    }

    pub fn issue_token(&self, token: String, issued: Issued) {
        lock(&self.tokens).insert(token, issued);
    }

    pub fn token(&self, token: &str) -> Option<Issued> {
        lock(&self.tokens).get(token).cloned()
    }

    /// Makes every issued token expired (they stay known, so the answer says "expired").
    pub fn expire_tokens(&self) {
        let past = Instant::now()
            .checked_sub(Duration::from_secs(1))
            .unwrap_or_else(Instant::now);
        for issued in lock(&self.tokens).values_mut() {
            issued.expires_at = past;
        }
    }

    pub fn set_outcome(&self, outcome: Outcome, count: Option<u32>) {
        match count {
            None => *lock(&self.default_outcome) = outcome,
            Some(n) => {
                let mut next = lock(&self.next_outcomes);
                next.extend(std::iter::repeat_n(outcome, n as usize));
            }
        }
    }

    pub fn next_outcome(&self) -> Outcome {
        lock(&self.next_outcomes)
            .pop_front()
            .unwrap_or_else(|| lock(&self.default_outcome).clone())
    }

    pub fn put_contact(&self, project: &str, id: &str, contact: serde_json::Value) {
        lock(&self.contacts).insert((project.to_owned(), id.to_owned()), contact);
    }

    pub fn contact(&self, project: &str, id: &str) -> Option<serde_json::Value> {
        lock(&self.contacts)
            .get(&(project.to_owned(), id.to_owned()))
            .cloned()
    }

    /// The contact of `project` with this channel identity.
    pub fn contact_by_identity(
        &self,
        project: &str,
        channel: &str,
        identity: &str,
    ) -> Option<serde_json::Value> {
        lock(&self.contacts)
            .iter()
            .filter(|((p, _), _)| p == project)
            .map(|(_, contact)| contact)
            .find(|contact| {
                contact["channel_identities"].as_array().is_some_and(|ids| {
                    ids.iter()
                        .any(|i| i["channel"] == channel && i["identity"] == identity)
                })
            })
            .cloned()
    }

    pub fn webhooks(&self, project: &str) -> Vec<serde_json::Value> {
        lock(&self.webhooks)
            .iter()
            .filter(|(p, _)| p == project)
            .map(|(_, hook)| hook.clone())
            .collect()
    }

    pub fn add_webhook(&self, project: &str, webhook: serde_json::Value) {
        lock(&self.webhooks).push((project.to_owned(), webhook));
    }

    pub fn remove_webhook(&self, project: &str, id: &str) -> bool {
        let mut hooks = lock(&self.webhooks);
        let before = hooks.len();
        hooks.retain(|(p, hook)| !(p == project && hook["id"] == id));
        hooks.len() != before
    }

    pub fn log_callback(&self, callback: SentCallback) {
        lock(&self.callbacks).push(callback);
    }

    pub fn callbacks(&self) -> Vec<SentCallback> {
        lock(&self.callbacks).clone()
    }

    pub fn clear_callbacks(&self) {
        lock(&self.callbacks).clear();
    }

    pub fn host_media(&self, id: &str, content_type: &str, bytes: Bytes) {
        lock(&self.media).insert(id.to_owned(), (content_type.to_owned(), bytes));
    }

    pub fn media(&self, id: &str) -> Option<(String, Bytes)> {
        lock(&self.media).get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(status: u16, count: u32, path: Option<&str>) -> Fault {
        Fault {
            status: Some(status),
            count,
            delay_ms: 0,
            path_contains: path.map(str::to_owned),
            message: None,
            expired: false,
        }
    }

    #[test]
    fn faults_count_down_and_match_paths() {
        let state = State::default();
        state.add_fault(fault(429, 2, Some("messages:send")));
        state.add_fault(fault(503, 1, None));
        assert_eq!(state.take_fault("/oauth2/token").unwrap().status, Some(503));
        assert!(state.take_fault("/oauth2/token").is_none());
        assert_eq!(
            state
                .take_fault("/v1/projects/p/messages:send")
                .unwrap()
                .status,
            Some(429)
        );
        assert_eq!(
            state
                .take_fault("/v1/projects/p/messages:send")
                .unwrap()
                .status,
            Some(429)
        );
        assert!(state.take_fault("/v1/projects/p/messages:send").is_none());
        assert!(state.faults().is_empty());
    }

    #[test]
    fn counted_outcomes_come_first_then_the_default() {
        let state = State::default();
        let failed = Outcome {
            statuses: vec!["FAILED".into()],
            reason: None,
        };
        state.set_outcome(failed.clone(), Some(1));
        assert_eq!(state.next_outcome(), failed);
        assert_eq!(state.next_outcome(), Outcome::default());
    }
}
