//! A budget of S3 requests: what tests give a run instead of a clock, so a run cut short is
//! reproducible and no test depends on timing. The sweep asks it, and the invocation's
//! [`Deadline`](switchboard_shared::deadline::Deadline), before every request; in Lambda it is
//! unlimited and the deadline alone stops a run.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug)]
pub struct RequestBudget(Option<AtomicU64>);

impl RequestBudget {
    pub fn unlimited() -> RequestBudget {
        RequestBudget(None)
    }

    /// Allows exactly `requests` more S3 requests.
    pub fn requests(requests: u64) -> RequestBudget {
        RequestBudget(Some(AtomicU64::new(requests)))
    }

    /// May one more request start? Asking spends one.
    pub fn take(&self) -> bool {
        match &self.0 {
            None => true,
            Some(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_allows_exactly_its_requests() {
        let budget = RequestBudget::requests(2);
        assert!(budget.take());
        assert!(budget.take());
        assert!(!budget.take());
        assert!(!budget.take());
        let unlimited = RequestBudget::unlimited();
        assert!((0..1000).all(|_| unlimited.take()));
    }
}
