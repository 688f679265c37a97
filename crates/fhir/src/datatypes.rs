//! The few R4 data types our resources use.

use std::borrow::Cow;

use serde::Serialize;
use time::OffsetDateTime;

/// LOINC's code system.
pub const LOINC: &str = "http://loinc.org";

/// A code. Most of ours are constants; answer codes and band codes come from data, so the
/// strings may also be owned.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Coding {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    pub system: Cow<'static, str>,
    pub code: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<Cow<'static, str>>,
}

impl Coding {
    pub const fn new(system: &'static str, code: &'static str, display: &'static str) -> Self {
        Self {
            extension: Vec::new(),
            system: Cow::Borrowed(system),
            code: Cow::Borrowed(code),
            display: Some(Cow::Borrowed(display)),
        }
    }

    /// A coding built from data.
    pub fn owned(
        system: impl Into<Cow<'static, str>>,
        code: impl Into<Cow<'static, str>>,
        display: Option<impl Into<Cow<'static, str>>>,
    ) -> Self {
        Self { extension: Vec::new(), system: system.into(), code: code.into(), display: display.map(Into::into) }
    }
}

/// An extension carrying a number (the only kind we emit: ordinal values and ranges).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    pub url: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_decimal: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_integer: Option<i64>,
}

impl Extension {
    pub const fn decimal(url: &'static str, value: i64) -> Self {
        Self { url, value_decimal: Some(value), value_integer: None }
    }
    pub const fn integer(url: &'static str, value: i64) -> Self {
        Self { url, value_decimal: None, value_integer: Some(value) }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CodeableConcept {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Reference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Reference {
    /// A literal reference such as `Patient/{id}`.
    pub fn to(reference: String) -> Self {
        Self { reference: Some(reference), display: None }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, Default)]
pub struct Meta {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<Coding>,
}

/// Confidentiality and sensitivity labels for substance-use records (DS4P).
pub fn part2_labels() -> Vec<Coding> {
    vec![
        Coding::new("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R", "restricted"),
        Coding::new(
            "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "ETH",
            "substance abuse information sensitivity",
        ),
        Coding::new("http://terminology.hl7.org/CodeSystem/v3-ActCode", "42CFRPart2", "42 CFR Part2"),
    ]
}

/// An R4 `dateTime` with seconds and the instant's own offset (`Z` for UTC). Built by hand
/// rather than with `time`'s RFC 3339 formatter, which fails (and we may not panic) for
/// offsets with seconds; sub-second precision is dropped.
pub fn date_time(t: OffsetDateTime) -> String {
    let offset = t.offset();
    let zone = if offset.is_utc() {
        "Z".to_owned()
    } else {
        let sign = if offset.is_negative() { '-' } else { '+' };
        format!("{sign}{:02}:{:02}", offset.whole_hours().unsigned_abs(), offset.minutes_past_hour().unsigned_abs())
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A time span between two instants (either end may be open; ours never are).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Period {
    pub start: String,
    pub end: String,
}

impl Period {
    pub fn new(start: OffsetDateTime, end: OffsetDateTime) -> Self {
        Self { start: date_time(start), end: date_time(end) }
    }
}

/// An R4 `Duration` in UCUM minutes.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Minutes {
    pub value: u32,
    pub unit: &'static str,
    pub system: &'static str,
    pub code: &'static str,
}

impl Minutes {
    pub const fn new(value: u32) -> Self {
        Self { value, unit: "min", system: "http://unitsofmeasure.org", code: "min" }
    }
}
