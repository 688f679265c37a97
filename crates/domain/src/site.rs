//! The center's places: sites (each in its own time zone), rooms with a capacity, and beds.

use serde::Serialize;

use crate::ids::{BedId, SiteId};
use crate::text::{TextError, bounded_line};

/// An IANA time zone name such as `America/Chicago`, or `UTC`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TimeZoneName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a time zone name like America/Chicago")]
pub struct BadTimeZone;

impl TimeZoneName {
    pub fn parse(raw: &str) -> Result<Self, BadTimeZone> {
        let raw = raw.trim();
        let part_ok = |p: &str| {
            !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c)) && p.len() <= 40
        };
        let parts: Vec<&str> = raw.split('/').collect();
        let ok = raw == "UTC"
            || (parts.len() >= 2
                && parts.len() <= 3
                && parts.iter().all(|p| part_ok(p))
                && parts[0].chars().next().is_some_and(|c| c.is_ascii_uppercase()));
        if ok { Ok(Self(raw.to_owned())) } else { Err(BadTimeZone) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    pub time_zone: TimeZoneName,
}

/// A short label (site, room or bed name): one line, 1–80 characters.
pub fn label(raw: &str) -> Result<String, TextError> {
    bounded_line(raw, 80)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CapacityError {
    #[error("must be between 1 and 50 beds")]
    OutOfRange,
    #[error("the room already has as many beds as its capacity ({capacity})")]
    RoomFull { capacity: u16 },
    #[error("that bed is occupied on that date")]
    BedOccupied,
}

pub fn room_capacity(n: i64) -> Result<u16, CapacityError> {
    u16::try_from(n).ok().filter(|c| (1..=50).contains(c)).ok_or(CapacityError::OutOfRange)
}

/// A bed with where it is, as the census and the admission form see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BedView {
    pub id: BedId,
    pub site: SiteId,
    pub room: String,
    pub label: String,
    pub active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones() {
        for ok in ["America/Chicago", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5"] {
            assert!(TimeZoneName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "chicago", "America/", "America/Chi cago", "<script>/x"] {
            assert_eq!(TimeZoneName::parse(bad), Err(BadTimeZone), "{bad}");
        }
    }

    #[test]
    fn capacities() {
        assert_eq!(room_capacity(4), Ok(4));
        assert_eq!(room_capacity(0), Err(CapacityError::OutOfRange));
        assert_eq!(room_capacity(51), Err(CapacityError::OutOfRange));
    }
}
