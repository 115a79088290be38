//! One deadline per request or batch, shared by every call made for it.
//!
//! Lambda kills an invocation at its deadline, answering nothing useful. Each AWS call has its
//! own timeouts, but several calls in a row (config pages, a PutObject, a SendMessage) can add up
//! past it. So a request takes its deadline from the Lambda context (minus a margin to answer
//! in) and every call runs under what is left of it: when time is up, the function still
//! answers, with the "try again" answer (503 to Sinch, a batch item failure to SQS).

use std::future::Future;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// Time kept back to build and send the answer after the last call gives up: the default
/// margin of every function (`kit::Function::deadline_margin`). Answering is serializing a small
/// document and one local HTTP call to the Runtime API, milliseconds; 0.5 s covers that with
/// room for a slow container, and costs little of a 10 s (HTTP) or 30 s (SQS) timeout. Functions
/// whose last step after the deadline is itself a remote call keep more (the outbound function:
/// 3 s to store a result and send it; retention: its setting, one whole S3 request).
pub const DEFAULT_MARGIN: Duration = Duration::from_millis(500);

/// Far enough ahead to never come within any run, near enough that adding it to an instant
/// cannot overflow.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request's deadline passed before {0} finished")]
pub struct DeadlineExceeded(pub &'static str);

impl Deadline {
    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + budget,
        }
    }

    /// No deadline: a run by hand, or a test that is about something else.
    pub fn never() -> Deadline {
        Deadline::after(NEVER)
    }

    /// From the Lambda context's deadline (wall-clock), keeping `margin` to answer in.
    pub fn from_lambda(deadline: SystemTime, margin: Duration) -> Deadline {
        let left = deadline
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        Deadline::after(left.saturating_sub(margin))
    }

    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    pub fn is_past(&self) -> bool {
        self.remaining().is_zero()
    }

    /// Runs `call` until it finishes or the deadline passes; `what` names it in the error.
    pub async fn run<T>(
        &self,
        what: &'static str,
        call: impl Future<Output = T>,
    ) -> Result<T, DeadlineExceeded> {
        // A call is not even started once time is up: its answer could not be used.
        if self.is_past() {
            return Err(DeadlineExceeded(what));
        }
        tokio::time::timeout_at(self.at, call)
            .await
            .map_err(|_| DeadlineExceeded(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_call_past_the_deadline_is_cut_off_and_named() {
        let deadline = Deadline::after(Duration::from_secs(2));
        let slow = tokio::time::sleep(Duration::from_secs(5));
        assert_eq!(
            deadline.run("SendMessage", slow).await,
            Err(DeadlineExceeded("SendMessage"))
        );
        assert!(deadline.is_past());
    }

    #[tokio::test(start_paused = true)]
    async fn calls_share_one_budget() {
        let deadline = Deadline::after(Duration::from_secs(3));
        let first = deadline
            .run("Query", tokio::time::sleep(Duration::from_secs(2)))
            .await;
        assert!(first.is_ok());
        let second = deadline
            .run("PutObject", tokio::time::sleep(Duration::from_secs(2)))
            .await;
        assert_eq!(second, Err(DeadlineExceeded("PutObject")));
    }

    #[test]
    fn a_lambda_deadline_keeps_the_margin() {
        let deadline = Deadline::from_lambda(
            SystemTime::now() + Duration::from_secs(10),
            Duration::from_millis(500),
        );
        let left = deadline.remaining();
        assert!(
            left <= Duration::from_millis(9500) && left > Duration::from_secs(9),
            "{left:?}"
        );
        let past =
            Deadline::from_lambda(SystemTime::now() - Duration::from_secs(1), DEFAULT_MARGIN);
        assert!(past.is_past());
    }

    #[test]
    fn never_is_not_past() {
        assert!(!Deadline::never().is_past());
        assert!(Deadline::never().remaining() > Duration::from_secs(365 * 24 * 3600));
    }
}
