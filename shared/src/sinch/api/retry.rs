//! Retries of Sinch calls: exponential backoff with full jitter, within the request's deadline.
//!
//! Sinch asks for exponential back-off on 429 and 5xx and sends no `Retry-After`. Full jitter
//! (a delay drawn uniformly from zero to the exponential bound) keeps many containers that were
//! throttled together from coming back together. A retry is only started if its delay fits in
//! what is left of the deadline; otherwise the last retryable error goes back to the caller,
//! which leaves the message to SQS's own redelivery.

use std::future::Future;
use std::time::Duration;

use crate::deadline::Deadline;
use crate::error::Classify;

use super::error::SinchError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The bound of the first retry's delay; doubled for each further retry.
    pub base_delay: Duration,
    /// No delay bound grows beyond this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Up to 10 attempts, delays bounded by 0.2, 0.4, … 3.2 s and then 5 s: a throttled or
    /// briefly failing Sinch is ridden out within one invocation (about 15 s of waiting on
    /// average, always within the deadline) rather than handed back to SQS, whose redelivery
    /// waits a whole visibility timeout (minutes on the replies queue).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The upper bound of the delay before retry number `retry` (1 for the first retry).
    pub fn bound(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Full jitter: uniform in `0..=bound(retry)`; `unit` is a number in `0.0..=1.0`.
    pub fn delay(&self, retry: u32, unit: f64) -> Duration {
        self.bound(retry).mul_f64(unit.clamp(0.0, 1.0))
    }

    /// Runs `attempt` until it succeeds, fails permanently, runs out of attempts, or the next
    /// delay would not fit in the deadline. Each attempt itself runs under the deadline.
    pub async fn run<T, F, Fut>(
        &self,
        operation: &'static str,
        deadline: &Deadline,
        mut attempt: F,
    ) -> Result<T, SinchError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SinchError>>,
    {
        let mut retry = 0;
        loop {
            let result = deadline
                .run(operation, attempt())
                .await
                .unwrap_or(Err(SinchError::Deadline { operation }));
            let err = match result {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            retry += 1;
            if !err.is_retryable() || retry >= self.max_attempts {
                return Err(err);
            }
            let delay = self.delay(retry, fastrand::f64());
            if delay >= deadline.remaining() {
                return Err(err);
            }
            tracing::debug!(operation, retry, delay_ms = delay.as_millis() as u64, error = %err, "retrying Sinch call");
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::sinch::api::error::FailureReason;

    fn status(code: u16) -> SinchError {
        SinchError::Api {
            operation: "SendMessage",
            http_status: code,
            reason: FailureReason::from_body(code, b""),
        }
    }

    #[test]
    fn bounds_double_up_to_the_cap_and_jitter_stays_within_them() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        let bounds: Vec<u64> = (1..=6)
            .map(|r| policy.bound(r).as_millis() as u64)
            .collect();
        assert_eq!(bounds, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(policy.delay(3, 0.0), Duration::ZERO);
        assert_eq!(policy.delay(3, 0.5), Duration::from_millis(200));
        assert_eq!(policy.delay(3, 1.0), Duration::from_millis(400));
        assert_eq!(
            policy.bound(200),
            Duration::from_millis(1000),
            "no overflow"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retryable_failures_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let deadline = Deadline::after(Duration::from_secs(30));
        let result = RetryPolicy::default()
            .run("SendMessage", &deadline, || async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(status(429)),
                    1 => Err(status(503)),
                    _ => Ok("sent"),
                }
            })
            .await;
        assert_eq!(result, Ok("sent"));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_failures_are_not_retried() {
        let calls = AtomicU32::new(0);
        let deadline = Deadline::after(Duration::from_secs(30));
        let result: Result<(), _> = RetryPolicy::default()
            .run("SendMessage", &deadline, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(status(400))
            })
            .await;
        assert_eq!(result.unwrap_err().http_status(), Some(400));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_are_bounded_and_the_last_error_is_returned() {
        let calls = AtomicU32::new(0);
        let deadline = Deadline::after(Duration::from_secs(300));
        let result: Result<(), _> = RetryPolicy::default()
            .run("SendMessage", &deadline, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(status(503))
            })
            .await;
        assert!(result.unwrap_err().is_retryable());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            RetryPolicy::default().max_attempts
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_retry_is_started_that_cannot_finish_before_the_deadline() {
        let calls = AtomicU32::new(0);
        // Every delay bound is 10 s; only 1 s is left.
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(10),
        };
        let deadline = Deadline::after(Duration::from_secs(1));
        let started = tokio::time::Instant::now();
        let result: Result<(), _> = policy
            .run("SendMessage", &deadline, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(status(429))
            })
            .await;
        // Either the drawn delay did not fit (one call), or it fitted and later ones did not;
        // never past the deadline.
        assert!(result.unwrap_err().is_retryable());
        assert!(started.elapsed() <= Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_attempt_is_cut_at_the_deadline_as_retryable() {
        let deadline = Deadline::after(Duration::from_secs(2));
        let result: Result<(), _> = RetryPolicy::default()
            .run("SendMessage", &deadline, || async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            })
            .await;
        assert_eq!(
            result,
            Err(SinchError::Deadline {
                operation: "SendMessage"
            })
        );
    }
}
