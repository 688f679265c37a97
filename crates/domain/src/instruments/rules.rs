//! The rules of each instrument: items, allowed values, totals, bands, flags.

use super::{Answers, CiwaThresholds, Instrument, SafetyFlag, Score, ScoreError, ScoringContext};
use crate::client::Sex;

/// One item: its id and the values it accepts.
pub struct Item {
    pub id: &'static str,
    pub label: &'static str,
    pub values: &'static [i64],
    /// Asked but not part of any score.
    pub scored: bool,
}

const ZERO_3: &[i64] = &[0, 1, 2, 3];
const ZERO_4: &[i64] = &[0, 1, 2, 3, 4];
const ZERO_7: &[i64] = &[0, 1, 2, 3, 4, 5, 6, 7];
const YES_NO: &[i64] = &[0, 1];

macro_rules! items {
    ($values:expr; $($id:literal => $label:literal),* $(,)?) => {
        &[$(Item { id: $id, label: $label, values: $values, scored: true }),*]
    };
}

const PHQ9: &[Item] = items!(ZERO_3;
    "1" => "Little interest or pleasure", "2" => "Feeling down", "3" => "Sleep", "4" => "Tired, low energy",
    "5" => "Appetite", "6" => "Feeling bad about yourself", "7" => "Concentration", "8" => "Moving or speaking",
    "9" => "Thoughts of self-harm");
const GAD7: &[Item] = items!(ZERO_3;
    "1" => "Nervous or on edge", "2" => "Cannot stop worrying", "3" => "Worrying too much", "4" => "Trouble relaxing",
    "5" => "Restless", "6" => "Easily annoyed", "7" => "Afraid something awful might happen");
const AUDIT: &[Item] = &[
    Item { id: "1", label: "How often you drink", values: ZERO_4, scored: true },
    Item { id: "2", label: "Drinks on a typical day", values: ZERO_4, scored: true },
    Item { id: "3", label: "Six or more drinks at once", values: ZERO_4, scored: true },
    Item { id: "4", label: "Could not stop once started", values: ZERO_4, scored: true },
    Item { id: "5", label: "Failed to do what was expected", values: ZERO_4, scored: true },
    Item { id: "6", label: "Morning drink needed", values: ZERO_4, scored: true },
    Item { id: "7", label: "Guilt or remorse", values: ZERO_4, scored: true },
    Item { id: "8", label: "Could not remember the night before", values: ZERO_4, scored: true },
    Item { id: "9", label: "Someone injured", values: &[0, 2, 4], scored: true },
    Item { id: "10", label: "Others concerned", values: &[0, 2, 4], scored: true },
];
const AUDIT_C: &[Item] = items!(ZERO_4;
    "1" => "How often you drink", "2" => "Drinks on a typical day", "3" => "Six or more drinks at once");
const PCL5: &[Item] = items!(ZERO_4;
    "1" => "Memories", "2" => "Dreams", "3" => "Reliving", "4" => "Upset by reminders", "5" => "Physical reactions",
    "6" => "Avoiding memories", "7" => "Avoiding reminders", "8" => "Trouble remembering", "9" => "Negative beliefs",
    "10" => "Blame", "11" => "Negative feelings", "12" => "Loss of interest", "13" => "Feeling distant",
    "14" => "Trouble with positive feelings", "15" => "Irritability", "16" => "Risk-taking", "17" => "Superalert",
    "18" => "Jumpy", "19" => "Concentration", "20" => "Sleep");
const BAM: &[Item] = &[
    Item { id: "1", label: "Physical health", values: ZERO_4, scored: true },
    Item { id: "2", label: "Sleep problems", values: ZERO_4, scored: true },
    Item { id: "3", label: "Mood", values: ZERO_4, scored: true },
    Item { id: "4", label: "Days of alcohol use", values: ZERO_4, scored: true },
    Item { id: "5", label: "Days of heavy drinking", values: ZERO_4, scored: true },
    Item { id: "6", label: "Days of drug use", values: ZERO_4, scored: true },
    Item { id: "7", label: "Drugs used (7a–g)", values: YES_NO, scored: false },
    Item { id: "8", label: "Cravings", values: ZERO_4, scored: true },
    Item { id: "9", label: "Confidence to abstain", values: ZERO_4, scored: true },
    Item { id: "10", label: "Self-help attendance", values: ZERO_4, scored: true },
    Item { id: "11", label: "Risky situations", values: ZERO_4, scored: true },
    Item { id: "12", label: "Religion or spirituality", values: ZERO_4, scored: true },
    Item { id: "13", label: "Work, school, volunteering", values: ZERO_4, scored: true },
    Item { id: "14", label: "Income for necessities", values: ZERO_4, scored: true },
    Item { id: "15", label: "Family or friend conflict", values: ZERO_4, scored: true },
    Item { id: "16", label: "Supportive family or friends", values: ZERO_4, scored: true },
    Item { id: "17", label: "Satisfaction with progress", values: ZERO_4, scored: false },
];
const CSSRS: &[Item] = &[
    Item { id: "1", label: "Wished to be dead", values: YES_NO, scored: true },
    Item { id: "2", label: "Thoughts of killing yourself", values: YES_NO, scored: true },
    Item { id: "3", label: "Thought about how", values: YES_NO, scored: true },
    Item { id: "4", label: "Intention of acting", values: YES_NO, scored: true },
    Item { id: "5", label: "Worked out details; intend a plan", values: YES_NO, scored: true },
    Item { id: "6", label: "Ever done anything to end your life", values: YES_NO, scored: true },
    Item { id: "6_recent", label: "Within the past 3 months", values: YES_NO, scored: true },
];
const CIWA: &[Item] = &[
    Item { id: "nausea", label: "Nausea and vomiting", values: ZERO_7, scored: true },
    Item { id: "tremor", label: "Tremor", values: ZERO_7, scored: true },
    Item { id: "sweats", label: "Paroxysmal sweats", values: ZERO_7, scored: true },
    Item { id: "anxiety", label: "Anxiety", values: ZERO_7, scored: true },
    Item { id: "agitation", label: "Agitation", values: ZERO_7, scored: true },
    Item { id: "tactile", label: "Tactile disturbances", values: ZERO_7, scored: true },
    Item { id: "auditory", label: "Auditory disturbances", values: ZERO_7, scored: true },
    Item { id: "visual", label: "Visual disturbances", values: ZERO_7, scored: true },
    Item { id: "headache", label: "Headache", values: ZERO_7, scored: true },
    Item { id: "orientation", label: "Orientation", values: ZERO_4, scored: true },
];
const COWS: &[Item] = &[
    Item { id: "pulse", label: "Resting pulse", values: &[0, 1, 2, 4], scored: true },
    Item { id: "sweating", label: "Sweating", values: &[0, 1, 2, 3, 4], scored: true },
    Item { id: "restlessness", label: "Restlessness", values: &[0, 1, 3, 5], scored: true },
    Item { id: "pupils", label: "Pupil size", values: &[0, 1, 2, 5], scored: true },
    Item { id: "aches", label: "Bone or joint aches", values: &[0, 1, 2, 4], scored: true },
    Item { id: "runny_nose", label: "Runny nose or tearing", values: &[0, 1, 2, 4], scored: true },
    Item { id: "gi", label: "GI upset", values: &[0, 1, 2, 3, 5], scored: true },
    Item { id: "tremor", label: "Tremor", values: &[0, 1, 2, 4], scored: true },
    Item { id: "yawning", label: "Yawning", values: &[0, 1, 2, 4], scored: true },
    Item { id: "anxiety", label: "Anxiety or irritability", values: &[0, 1, 2, 4], scored: true },
    Item { id: "gooseflesh", label: "Gooseflesh skin", values: &[0, 3, 5], scored: true },
];

const ZERO_10: &[i64] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const CHECK_IN: &[Item] = &[
    Item { id: "mood", label: "Mood today (0 very low – 10 very good)", values: ZERO_10, scored: true },
    Item { id: "craving", label: "Craving (0 none – 10 overwhelming)", values: ZERO_10, scored: true },
    Item { id: "triggers", label: "Met a trigger today", values: YES_NO, scored: true },
    Item { id: "sleep", label: "Sleep last night (0 very poor – 4 very good)", values: ZERO_4, scored: true },
    Item { id: "used", label: "Used alcohol or drugs", values: YES_NO, scored: true },
    Item { id: "self_harm", label: "Thoughts of harming yourself", values: YES_NO, scored: true },
];
const SELF_ASSESSMENT: &[Item] = items!(ZERO_4;
    "confidence" => "Confident I can stay sober (0 not at all – 4 completely)",
    "triggers_known" => "I know my triggers and what to do about them",
    "supports" => "People and meetings are in place to support me",
    "ready_home" => "Ready to go home, to work or to school");

pub fn items(instrument: Instrument) -> &'static [Item] {
    match instrument {
        Instrument::Phq9 => PHQ9,
        Instrument::Gad7 => GAD7,
        Instrument::Audit => AUDIT,
        Instrument::AuditC => AUDIT_C,
        Instrument::Bam => BAM,
        Instrument::CssrsScreener => CSSRS,
        Instrument::Pcl5 => PCL5,
        Instrument::CiwaAr => CIWA,
        Instrument::Cows => COWS,
        Instrument::CheckIn => CHECK_IN,
        Instrument::SelfAssessment => SELF_ASSESSMENT,
    }
}

/// Checks every answer against the item list; returns the missing required items.
fn check(instrument: Instrument, answers: &Answers) -> Result<(), ScoreError> {
    let list = items(instrument);
    for (id, value) in answers {
        let item = list.iter().find(|i| i.id == id).ok_or_else(|| ScoreError::UnknownItem(id.clone()))?;
        if !item.values.contains(value) {
            return Err(ScoreError::OutOfRange { item: id.clone(), value: *value });
        }
    }
    let missing: Vec<String> = list
        .iter()
        .filter(|i| i.scored && !answers.contains_key(i.id))
        // The timing question only follows a "yes" to C-SSRS question 6.
        .filter(|i| !(instrument == Instrument::CssrsScreener && i.id == "6_recent" && answers.get("6") != Some(&1)))
        .map(|i| i.id.to_owned())
        .collect();
    if missing.is_empty() { Ok(()) } else { Err(ScoreError::Incomplete { missing }) }
}

fn get(answers: &Answers, id: &str) -> i64 {
    answers.get(id).copied().unwrap_or(0)
}

fn sum(answers: &Answers, ids: &[&str]) -> i64 {
    ids.iter().map(|id| get(answers, id)).sum()
}

fn total(instrument: Instrument, answers: &Answers) -> i64 {
    items(instrument).iter().filter(|i| i.scored).map(|i| get(answers, i.id)).sum()
}

/// (lowest total of the band, code, label), ascending.
fn band(total: i64, bands: &[(i64, &'static str, &'static str)]) -> (&'static str, &'static str) {
    bands.iter().rev().find(|(from, _, _)| total >= *from).map(|(_, c, l)| (*c, *l)).unwrap_or(("none", "None"))
}

fn with_total(total: i64, bands: &[(i64, &'static str, &'static str)]) -> Score {
    let (band, band_label) = band(total, bands);
    Score { total: Some(total), band, band_label, subscores: Vec::new(), flags: Vec::new() }
}

pub(super) fn score(instrument: Instrument, answers: &Answers, ctx: &ScoringContext) -> Result<Score, ScoreError> {
    check(instrument, answers)?;
    let t = total(instrument, answers);
    Ok(match instrument {
        Instrument::Phq9 => {
            let mut s = with_total(
                t,
                &[
                    (0, "minimal", "None–minimal"),
                    (5, "mild", "Mild"),
                    (10, "moderate", "Moderate"),
                    (15, "moderately_severe", "Moderately severe"),
                    (20, "severe", "Severe"),
                ],
            );
            if get(answers, "9") > 0 {
                s.flags.push(SafetyFlag::Phq9Item9);
            }
            s
        }
        Instrument::Gad7 => with_total(
            t,
            &[(0, "minimal", "Minimal"), (5, "mild", "Mild"), (10, "moderate", "Moderate"), (15, "severe", "Severe")],
        ),
        Instrument::Audit => with_total(
            t,
            &[
                (0, "zone_1", "Zone I: low risk"),
                (8, "zone_2", "Zone II: hazardous"),
                (16, "zone_3", "Zone III: harmful"),
                (20, "zone_4", "Zone IV: possible dependence"),
            ],
        ),
        Instrument::AuditC => {
            // Positive at 4 for men, 3 for women; with sex unknown the lower cut-off is used,
            // so no one at risk is missed.
            let cut = if ctx.sex == Some(Sex::Male) { 4 } else { 3 };
            let (band, band_label) =
                if t >= cut { ("positive", "Positive screen") } else { ("negative", "Negative screen") };
            Score { total: Some(t), band, band_label, subscores: Vec::new(), flags: Vec::new() }
        }
        Instrument::Pcl5 => {
            let mut s =
                with_total(t, &[(0, "below_threshold", "Below threshold"), (33, "probable_ptsd", "Probable PTSD")]);
            s.subscores = vec![
                ("cluster_b", sum(answers, &["1", "2", "3", "4", "5"])),
                ("cluster_c", sum(answers, &["6", "7"])),
                ("cluster_d", sum(answers, &["8", "9", "10", "11", "12", "13", "14"])),
                ("cluster_e", sum(answers, &["15", "16", "17", "18", "19", "20"])),
            ];
            s
        }
        Instrument::Bam => {
            let use_ = sum(answers, &["4", "5", "6"]);
            let risk = sum(answers, &["1", "2", "3", "8", "11", "15"]);
            let protective = sum(answers, &["9", "10", "12", "13", "14", "16"]);
            let concern = use_ >= 1 || risk >= 12 || protective <= 12;
            Score {
                total: None,
                band: if concern { "attention" } else { "stable" },
                band_label: if concern { "Needs attention" } else { "Stable" },
                subscores: vec![("use", use_), ("risk", risk), ("protective", protective)],
                flags: Vec::new(),
            }
        }
        Instrument::CssrsScreener => {
            let yes = |id: &str| get(answers, id) == 1;
            let recent = yes("6") && yes("6_recent");
            let (band, band_label, flag) = if yes("4") || yes("5") || recent {
                ("high", "High risk", Some(SafetyFlag::CssrsHigh))
            } else if yes("3") || yes("6") {
                ("moderate", "Moderate risk", Some(SafetyFlag::CssrsModerate))
            } else if yes("1") || yes("2") {
                ("low", "Low risk", None)
            } else {
                ("none", "No risk identified", None)
            };
            Score { total: None, band, band_label, subscores: Vec::new(), flags: flag.into_iter().collect() }
        }
        Instrument::CiwaAr => {
            let CiwaThresholds { moderate_from, severe_from } = ctx.ciwa;
            with_total(
                t,
                &[
                    (0, "minimal", "Minimal"),
                    (moderate_from, "moderate", "Moderate"),
                    (severe_from, "severe", "Severe"),
                ],
            )
        }
        Instrument::Cows => with_total(
            t,
            &[
                (0, "none", "None"),
                (5, "mild", "Mild"),
                (13, "moderate", "Moderate"),
                (25, "moderately_severe", "Moderately severe"),
                (37, "severe", "Severe"),
            ],
        ),
        Instrument::CheckIn => {
            let used = get(answers, "used") == 1;
            Score {
                total: None,
                band: if used { "used" } else { "no_use" },
                band_label: if used { "Used" } else { "No use" },
                subscores: vec![
                    ("mood", get(answers, "mood")),
                    ("craving", get(answers, "craving")),
                    ("sleep", get(answers, "sleep")),
                    ("triggers", get(answers, "triggers")),
                ],
                flags: if get(answers, "self_harm") == 1 { vec![SafetyFlag::CheckInSelfHarm] } else { Vec::new() },
            }
        }
        Instrument::SelfAssessment => with_total(
            t,
            &[(0, "not_ready", "Not yet ready"), (8, "getting_there", "Getting there"), (12, "ready", "Feels ready")],
        ),
    })
}
