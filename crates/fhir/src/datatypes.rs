//! The few R4 data types our resources use.

use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Coding {
    pub system: &'static str,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<&'static str>,
}

impl Coding {
    pub const fn new(system: &'static str, code: &'static str, display: &'static str) -> Self {
        Self { system, code, display: Some(display) }
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
