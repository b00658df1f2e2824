//! The retry policy: which failures are retried, and how long to wait in between.
//!
//! What is retried is decided by [`ChatError::is_retryable`] alone (one definition for the
//! provider and its callers): HTTP 429 (except `insufficient_quota`, which waiting does not
//! fix), 408, 500, 502, 503, 504, and network failures. Not retried: other 4xx and 5xx,
//! deadlines of our own (retrying would multiply the caller's deadline), and anything that
//! happens once a stream was handed to the caller. The wait doubles from `initial_delay` with
//! jitter (75–100 % of the computed value), capped at `max_delay`; a server's `Retry-After` /
//! `retry-after-ms` replaces it, capped at `max_delay` too.

use std::time::Duration;

use weft_core::ChatError;

/// The default number of retries after a failed attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// How failed attempts are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The wait before the first retry when the server names none.
    pub initial_delay: Duration,
    /// The longest wait, also the cap on `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: DEFAULT_MAX_RETRIES,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Whether an attempt that failed with `error` may be retried (attempt budget aside):
    /// exactly when [`ChatError::is_retryable`] says so.
    pub fn should_retry(error: &ChatError) -> bool {
        error.is_retryable()
    }

    /// The wait before retry number `retry` (0 for the first retry).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let exponent = retry.min(16);
        let base = self.initial_delay.saturating_mul(1u32 << exponent).min(self.max_delay);
        let jitter: f64 = rand::random_range(0.75..=1.0);
        base.mul_f64(jitter)
    }
}

#[cfg(test)]
mod tests {
    use weft_core::ChatErrorKind;

    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy = RetryPolicy {
            max_retries: 5,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        let first = policy.delay(0, None);
        assert!(first >= Duration::from_millis(75) && first <= Duration::from_millis(100), "{first:?}");
        let second = policy.delay(1, None);
        assert!(second >= Duration::from_millis(150) && second <= Duration::from_millis(200), "{second:?}");
        assert!(policy.delay(10, None) <= Duration::from_millis(300));
        assert_eq!(policy.delay(0, Some(Duration::from_secs(1))), Duration::from_millis(300));
        assert_eq!(policy.delay(0, Some(Duration::from_millis(20))), Duration::from_millis(20));
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let status = |kind, status| ChatError::new(kind, "x").with_status(status);
        assert!(RetryPolicy::should_retry(&status(ChatErrorKind::RateLimit, 429)));
        assert!(!RetryPolicy::should_retry(
            &status(ChatErrorKind::RateLimit, 429).with_code(Some("insufficient_quota".into()))
        ));
        assert!(RetryPolicy::should_retry(&status(ChatErrorKind::Server, 503)));
        assert!(!RetryPolicy::should_retry(&status(ChatErrorKind::Server, 501)));
        assert!(!RetryPolicy::should_retry(&status(ChatErrorKind::BadRequest, 400)));
        assert!(RetryPolicy::should_retry(&ChatError::new(ChatErrorKind::Network, "refused")));
        assert!(!RetryPolicy::should_retry(&ChatError::new(ChatErrorKind::Timeout, "deadline")));
        assert!(RetryPolicy::should_retry(&status(ChatErrorKind::Timeout, 408)));
        assert!(!RetryPolicy::should_retry(&ChatError::new(ChatErrorKind::ResponseTooLarge, "big")));
    }
}
