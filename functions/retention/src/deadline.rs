//! When a run must stop. A sweep asks before every S3 request; once the answer is no, it stops
//! cleanly between requests and the next run carries on (nothing half-done is left behind:
//! a listed page that was not deleted is simply listed again).
//!
//! In Lambda the deadline is the invocation's, minus a margin that covers the longest S3
//! request (see `lib.rs`). Tests use a budget of requests instead of a clock, so a run cut
//! short is reproducible and no test depends on timing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

#[derive(Debug)]
pub struct Deadline(Kind);

#[derive(Debug)]
enum Kind {
    At(Instant),
    Requests(AtomicU64),
    Never,
}

impl Deadline {
    pub fn at(instant: Instant) -> Deadline {
        Deadline(Kind::At(instant))
    }

    /// `margin` before `deadline` (Lambda's context deadline, wall-clock time).
    pub fn before(deadline: SystemTime, margin: Duration) -> Deadline {
        let left = deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(margin);
        Deadline::at(Instant::now() + left)
    }

    /// Allows exactly `requests` more S3 requests.
    pub fn after_requests(requests: u64) -> Deadline {
        Deadline(Kind::Requests(AtomicU64::new(requests)))
    }

    pub fn never() -> Deadline {
        Deadline(Kind::Never)
    }

    /// Asked before each request: may one more start? (A budget of requests is spent by asking.)
    pub fn allows_request(&self) -> bool {
        match &self.0 {
            Kind::At(instant) => Instant::now() < *instant,
            Kind::Requests(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
            Kind::Never => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_allows_exactly_its_requests() {
        let deadline = Deadline::after_requests(2);
        assert!(deadline.allows_request());
        assert!(deadline.allows_request());
        assert!(!deadline.allows_request());
        assert!(!deadline.allows_request());
        assert!(Deadline::never().allows_request());
    }

    #[test]
    fn a_deadline_already_inside_the_margin_allows_nothing() {
        let soon = SystemTime::now() + Duration::from_secs(5);
        assert!(!Deadline::before(soon, Duration::from_secs(30)).allows_request());
        let past = SystemTime::now() - Duration::from_secs(5);
        assert!(!Deadline::before(past, Duration::ZERO).allows_request());
        let later = SystemTime::now() + Duration::from_secs(3600);
        assert!(Deadline::before(later, Duration::from_secs(30)).allows_request());
    }
}
