//! Sign-in throttling: how many failures an account or an address may have before it waits.
//!
//! Failures are counted per account name *as typed*, whether or not such an account exists,
//! so the throttle itself never tells an attacker which names are real.

use time::{Duration, OffsetDateTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub window: Duration,
    pub max_failures_per_account: usize,
    pub max_failures_per_address: usize,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        // 5 per 15 minutes is at most 20 an hour per account, well inside ASVS 2.2.1's 100.
        Self { window: Duration::minutes(15), max_failures_per_account: 5, max_failures_per_address: 50 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleDecision {
    Allow,
    /// Wait until this moment before trying again.
    WaitUntil(OffsetDateTime),
}

impl ThrottlePolicy {
    /// `failures` are the times of recent failures for one key, in any order.
    pub fn decide(&self, failures: &[OffsetDateTime], limit: usize, now: OffsetDateTime) -> ThrottleDecision {
        let mut recent: Vec<OffsetDateTime> = failures.iter().copied().filter(|t| now - *t < self.window).collect();
        if recent.len() < limit {
            return ThrottleDecision::Allow;
        }
        // Allowed again once enough of the failures have aged out of the window.
        recent.sort_unstable();
        let index = recent.len() - limit;
        match recent.get(index) {
            Some(t) => ThrottleDecision::WaitUntil(*t + self.window),
            None => ThrottleDecision::Allow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn locks_after_limit_and_reopens_as_failures_age() {
        let p = ThrottlePolicy::default();
        let t0 = datetime!(2026-01-01 08:00 UTC);
        let fails: Vec<_> = (0..5).map(|i| t0 + Duration::minutes(i)).collect();
        assert_eq!(p.decide(&fails[..4], 5, t0 + Duration::minutes(5)), ThrottleDecision::Allow);
        assert_eq!(
            p.decide(&fails, 5, t0 + Duration::minutes(5)),
            ThrottleDecision::WaitUntil(t0 + Duration::minutes(15))
        );
        assert_eq!(p.decide(&fails, 5, t0 + Duration::minutes(15)), ThrottleDecision::Allow);
    }
}
