//! When a session ends by itself (HIPAA 164.312(a)(2)(iii) automatic logoff).

use time::{Duration, OffsetDateTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Ends a session nobody has used for this long.
    pub idle_timeout: Duration,
    /// Ends every session this long after sign-in, however busy.
    pub absolute_timeout: Duration,
    /// How stale `last_seen` may get before a request refreshes it: saves a write per request
    /// at the cost of this much precision in the idle timeout.
    pub touch_interval: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::minutes(15),
            absolute_timeout: Duration::hours(12),
            touch_interval: Duration::seconds(30),
        }
    }
}

/// Where a session stands at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    Live { needs_touch: bool },
    IdleExpired,
    AbsoluteExpired,
}

impl SessionPolicy {
    pub fn state(&self, created_at: OffsetDateTime, last_seen_at: OffsetDateTime, now: OffsetDateTime) -> SessionState {
        if now - created_at >= self.absolute_timeout {
            SessionState::AbsoluteExpired
        } else if now - last_seen_at >= self.idle_timeout {
            SessionState::IdleExpired
        } else {
            SessionState::Live { needs_touch: now - last_seen_at >= self.touch_interval }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn idle_and_absolute_timeouts() {
        let p = SessionPolicy::default();
        let t0 = datetime!(2026-01-01 08:00 UTC);
        assert_eq!(p.state(t0, t0, t0), SessionState::Live { needs_touch: false });
        assert_eq!(p.state(t0, t0, t0 + Duration::seconds(31)), SessionState::Live { needs_touch: true });
        assert_eq!(p.state(t0, t0, t0 + Duration::minutes(15)), SessionState::IdleExpired);
        let busy = t0 + Duration::hours(12) - Duration::seconds(1);
        assert_eq!(p.state(t0, busy, busy), SessionState::Live { needs_touch: false });
        let end = t0 + Duration::hours(12);
        assert_eq!(p.state(t0, end, end), SessionState::AbsoluteExpired);
    }
}
