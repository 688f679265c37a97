//! Sign-in throttling: how many failures an account or an address may have before it waits.
//!
//! Failures are counted per account name *as typed*, whether or not such an account exists,
//! so the throttle itself never tells an attacker which names are real.
//!
//! An address (often a clinic's NAT, shared by everyone there) is throttled for trying many
//! *different* accounts — password spraying — not for failures as such: one colleague typing
//! a wrong password again and again locks only their own account, never the clinic.

use time::{Duration, OffsetDateTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub window: Duration,
    pub max_failures_per_account: usize,
    /// Distinct account names that may fail from one address within the window.
    pub max_accounts_per_address: usize,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        // 5 per 15 minutes is at most 20 an hour per account, well inside ASVS 2.2.1's 100.
        // 20 accounts failing from one address in 15 minutes is far beyond a clinic's
        // mistypes, and still caps a spray at 100 guesses per window.
        Self { window: Duration::minutes(15), max_failures_per_account: 5, max_accounts_per_address: 20 }
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

impl ThrottlePolicy {
    /// `failures` from one address, each with the account (digest) it tried. The address
    /// waits once `max_accounts_per_address` distinct accounts failed within the window, until
    /// enough of those accounts' latest failures age out.
    pub fn decide_address(&self, failures: &[(OffsetDateTime, &str)], now: OffsetDateTime) -> ThrottleDecision {
        let mut latest: std::collections::BTreeMap<&str, OffsetDateTime> = std::collections::BTreeMap::new();
        for (at, account) in failures.iter().filter(|(t, _)| now - *t < self.window) {
            let e = latest.entry(account).or_insert(*at);
            *e = (*e).max(*at);
        }
        let times: Vec<OffsetDateTime> = latest.into_values().collect();
        self.decide(&times, self.max_accounts_per_address, now)
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

    #[test]
    fn an_address_waits_for_many_accounts_not_for_many_failures() {
        let p = ThrottlePolicy::default();
        let t0 = datetime!(2026-01-01 08:00 UTC);
        let now = t0 + Duration::minutes(10);
        // One colleague mistyping 200 times: never the address's fault.
        let one: Vec<_> = (0..200).map(|i| (t0 + Duration::seconds(i), "nurse")).collect();
        assert_eq!(p.decide_address(&one, now), ThrottleDecision::Allow);
        // Nineteen people, once each: still fine.
        let names: Vec<String> = (0..20).map(|i| format!("user{i}")).collect();
        let spray: Vec<_> =
            names.iter().enumerate().map(|(i, n)| (t0 + Duration::minutes(i as i64 / 4), n.as_str())).collect();
        assert_eq!(p.decide_address(&spray[..19], now), ThrottleDecision::Allow);
        // The twentieth distinct account: the address waits until the first ages out.
        assert_eq!(p.decide_address(&spray, now), ThrottleDecision::WaitUntil(t0 + Duration::minutes(15)));
        assert_eq!(p.decide_address(&spray, t0 + Duration::minutes(15)), ThrottleDecision::Allow);
    }
}
