//! What every handler is told about the invocation it runs in.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use crate::deadline::Deadline;

/// The invocation's clock and deadline, made once by the shell when the invocation starts.
///
/// **The clock rule**: `now` is read once, as the invocation starts, and everything the
/// invocation decides by time (a signature's freshness, claims and their leases, retention's
/// "today", the `received_at` of a result) uses this one reading. Two records of one batch
/// therefore agree on the time, and a test fixes it by building the invocation itself.
///
/// **The deadline**: Lambda's deadline for the invocation minus the function's margin
/// ([`Function::deadline_margin`](super::Function::deadline_margin)); every call made for the
/// invocation runs under what is left of it, so the function answers (503, a batch item
/// failure, a run that stops between two requests) before Lambda cuts it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invocation {
    pub now: DateTime<Utc>,
    pub deadline: Deadline,
}

impl Invocation {
    /// An invocation at `now` with `deadline`: what tests build.
    pub fn new(now: DateTime<Utc>, deadline: Deadline) -> Invocation {
        Invocation { now, deadline }
    }

    /// Starts now, under Lambda's `deadline` (the context's, wall-clock) less `margin`.
    pub fn starting(deadline: SystemTime, margin: Duration) -> Invocation {
        Invocation {
            now: Utc::now(),
            deadline: Deadline::from_lambda(deadline, margin),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_lambdas_less_the_margin() {
        let lambda = SystemTime::now() + Duration::from_secs(10);
        let invocation = Invocation::starting(lambda, Duration::from_secs(3));
        let left = invocation.deadline.remaining();
        assert!(
            left <= Duration::from_secs(7) && left > Duration::from_millis(6500),
            "{left:?}"
        );
    }

    #[test]
    fn a_margin_longer_than_the_time_left_leaves_no_time_at_all() {
        let lambda = SystemTime::now() + Duration::from_secs(10);
        let invocation = Invocation::starting(lambda, Duration::from_secs(30));
        assert!(invocation.deadline.is_past());
    }
}
