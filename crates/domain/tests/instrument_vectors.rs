//! Test vectors for every built-in instrument: the edges of every band, weighted and
//! mixed-range items, sex-specific cut-offs, safety flags, and refusal of bad or partial forms.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use domain::client::Sex;
use domain::instruments::{Answers, CiwaThresholds, Instrument, SafetyFlag, ScoreError, ScoringContext, items, score};

/// Answers reaching `total` by filling items in order with their highest allowed value.
fn reaching(instrument: Instrument, total: i64) -> Answers {
    let mut left = total;
    let mut answers = Answers::new();
    for item in items(instrument).iter().filter(|i| i.scored) {
        let v = item.values.iter().copied().filter(|v| *v <= left).max().unwrap_or(0);
        left -= v;
        answers.insert(item.id.to_owned(), v);
    }
    assert_eq!(left, 0, "{instrument:?} cannot reach {total} this way");
    answers
}

fn band(instrument: Instrument, total: i64) -> &'static str {
    let s = score(instrument, &reaching(instrument, total), &ScoringContext::default()).unwrap();
    assert_eq!(s.total, Some(total));
    s.band
}

#[test]
fn phq9_bands_and_item_9() {
    for (total, want) in [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ] {
        assert_eq!(band(Instrument::Phq9, total), want, "PHQ-9 {total}");
    }
    let mut a = reaching(Instrument::Phq9, 0);
    a.insert("9".into(), 1);
    let s = score(Instrument::Phq9, &a, &ScoringContext::default()).unwrap();
    assert_eq!((s.total, s.flags.as_slice()), (Some(1), &[SafetyFlag::Phq9Item9][..]), "item 9 alone raises the flag");
    assert!(
        score(Instrument::Phq9, &reaching(Instrument::Phq9, 24), &ScoringContext::default()).unwrap().flags.is_empty()
    );
}

#[test]
fn gad7_bands() {
    for (total, want) in [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ] {
        assert_eq!(band(Instrument::Gad7, total), want, "GAD-7 {total}");
    }
}

#[test]
fn audit_zones_and_weighted_items() {
    for (total, want) in [
        (0, "zone_1"),
        (7, "zone_1"),
        (8, "zone_2"),
        (15, "zone_2"),
        (16, "zone_3"),
        (19, "zone_3"),
        (20, "zone_4"),
        (40, "zone_4"),
    ] {
        assert_eq!(band(Instrument::Audit, total), want, "AUDIT {total}");
    }
    let mut a = reaching(Instrument::Audit, 0);
    a.insert("9".into(), 1);
    assert_eq!(
        score(Instrument::Audit, &a, &ScoringContext::default()),
        Err(ScoreError::OutOfRange { item: "9".into(), value: 1 }),
        "items 9 and 10 are scored 0, 2 or 4"
    );
    a.insert("9".into(), 4);
    a.insert("10".into(), 2);
    assert_eq!(score(Instrument::Audit, &a, &ScoringContext::default()).unwrap().total, Some(6));
}

#[test]
fn audit_c_cut_offs_differ_by_sex() {
    let three = reaching(Instrument::AuditC, 3);
    let four = reaching(Instrument::AuditC, 4);
    let with = |sex| ScoringContext { sex: Some(sex), ..ScoringContext::default() };
    assert_eq!(score(Instrument::AuditC, &three, &with(Sex::Female)).unwrap().band, "positive");
    assert_eq!(score(Instrument::AuditC, &three, &with(Sex::Male)).unwrap().band, "negative");
    assert_eq!(score(Instrument::AuditC, &four, &with(Sex::Male)).unwrap().band, "positive");
    assert_eq!(
        score(Instrument::AuditC, &reaching(Instrument::AuditC, 2), &with(Sex::Female)).unwrap().band,
        "negative"
    );
    assert_eq!(
        score(Instrument::AuditC, &three, &ScoringContext::default()).unwrap().band,
        "positive",
        "unknown sex: the lower cut-off"
    );
}

#[test]
fn pcl5_threshold_and_clusters() {
    assert_eq!(band(Instrument::Pcl5, 32), "below_threshold");
    assert_eq!(band(Instrument::Pcl5, 33), "probable_ptsd");
    assert_eq!(band(Instrument::Pcl5, 80), "probable_ptsd");
    let s = score(Instrument::Pcl5, &reaching(Instrument::Pcl5, 80), &ScoringContext::default()).unwrap();
    assert_eq!(s.subscores, vec![("cluster_b", 20), ("cluster_c", 8), ("cluster_d", 28), ("cluster_e", 24)]);
}

#[test]
fn bam_subscales() {
    let mut a: Answers = (1..=17).filter(|i| *i != 7 && *i != 17).map(|i| (i.to_string(), 0)).collect();
    // Protective items at 3 each: 18 > 12, so not poor; no use; risk 0.
    for id in ["9", "10", "12", "13", "14", "16"] {
        a.insert(id.into(), 3);
    }
    let s = score(Instrument::Bam, &a, &ScoringContext::default()).unwrap();
    assert_eq!(s.subscores, vec![("use", 0), ("risk", 0), ("protective", 18)]);
    assert_eq!((s.total, s.band), (None, "stable"));
    a.insert("5".into(), 1);
    assert_eq!(score(Instrument::Bam, &a, &ScoringContext::default()).unwrap().band, "attention", "any use flags");
    a.insert("5".into(), 0);
    for id in ["1", "2", "3"] {
        a.insert(id.into(), 4);
    }
    assert_eq!(score(Instrument::Bam, &a, &ScoringContext::default()).unwrap().subscores[1], ("risk", 12));
    assert_eq!(score(Instrument::Bam, &a, &ScoringContext::default()).unwrap().band, "attention", "risk 12 flags");
    a.insert("7".into(), 1);
    a.insert("17".into(), 4);
    assert!(score(Instrument::Bam, &a, &ScoringContext::default()).is_ok(), "7 and 17 are asked, not scored");
}

#[test]
fn cssrs_screener_risk_levels() {
    let answers = |yes: &[&str], recent: Option<bool>| {
        let mut a: Answers =
            ["1", "2", "3", "4", "5", "6"].iter().map(|id| ((*id).to_owned(), i64::from(yes.contains(id)))).collect();
        if let Some(r) = recent {
            a.insert("6_recent".into(), i64::from(r));
        }
        a
    };
    let case = |yes: &[&str], recent: Option<bool>| {
        score(Instrument::CssrsScreener, &answers(yes, recent), &ScoringContext::default()).unwrap()
    };
    assert_eq!(case(&[], None).band, "none");
    assert_eq!(case(&["1"], None).band, "low");
    assert_eq!(case(&["1", "2"], None).band, "low");
    let m = case(&["2", "3"], None);
    assert_eq!((m.band, m.flags.as_slice()), ("moderate", &[SafetyFlag::CssrsModerate][..]));
    assert_eq!(case(&["6"], Some(false)).band, "moderate", "behaviour more than 3 months ago");
    let h = case(&["6"], Some(true));
    assert_eq!((h.band, h.flags.as_slice()), ("high", &[SafetyFlag::CssrsHigh][..]));
    assert_eq!(case(&["2", "4"], None).band, "high");
    assert_eq!(case(&["2", "5"], None).band, "high");
    assert!(
        matches!(
            score(Instrument::CssrsScreener, &answers(&["6"], None), &ScoringContext::default()),
            Err(ScoreError::Incomplete { .. })
        ),
        "a yes to 6 needs its timing"
    );
}

#[test]
fn ciwa_bands_follow_the_centers_thresholds() {
    for (total, want) in
        [(0, "minimal"), (9, "minimal"), (10, "moderate"), (15, "moderate"), (16, "severe"), (67, "severe")]
    {
        assert_eq!(band(Instrument::CiwaAr, total), want, "CIWA-Ar {total}");
    }
    let strict =
        ScoringContext { ciwa: CiwaThresholds { moderate_from: 8, severe_from: 15 }, ..ScoringContext::default() };
    assert_eq!(score(Instrument::CiwaAr, &reaching(Instrument::CiwaAr, 8), &strict).unwrap().band, "moderate");
    let mut a = reaching(Instrument::CiwaAr, 0);
    a.insert("orientation".into(), 5);
    assert!(
        matches!(score(Instrument::CiwaAr, &a, &ScoringContext::default()), Err(ScoreError::OutOfRange { .. })),
        "orientation is 0–4"
    );
}

#[test]
fn cows_bands_and_mixed_ranges() {
    for (total, want) in [
        (0, "none"),
        (4, "none"),
        (5, "mild"),
        (12, "mild"),
        (13, "moderate"),
        (24, "moderate"),
        (25, "moderately_severe"),
        (36, "moderately_severe"),
        (37, "severe"),
        (48, "severe"),
    ] {
        assert_eq!(band(Instrument::Cows, total), want, "COWS {total}");
    }
    let mut a = reaching(Instrument::Cows, 0);
    a.insert("gooseflesh".into(), 1);
    assert!(
        matches!(score(Instrument::Cows, &a, &ScoringContext::default()), Err(ScoreError::OutOfRange { .. })),
        "gooseflesh is 0, 3 or 5"
    );
}

#[test]
fn partial_and_foreign_answers_are_not_scored() {
    let mut a = reaching(Instrument::Gad7, 10);
    a.remove("7");
    assert_eq!(
        score(Instrument::Gad7, &a, &ScoringContext::default()),
        Err(ScoreError::Incomplete { missing: vec!["7".into()] })
    );
    a.insert("7".into(), 0);
    a.insert("8".into(), 0);
    assert_eq!(score(Instrument::Gad7, &a, &ScoringContext::default()), Err(ScoreError::UnknownItem("8".into())));
    a.remove("8");
    a.insert("1".into(), -1);
    assert!(matches!(score(Instrument::Gad7, &a, &ScoringContext::default()), Err(ScoreError::OutOfRange { .. })));
}

#[test]
fn codes_and_loinc() {
    for i in Instrument::ALL {
        assert_eq!(Instrument::parse(i.code()), Some(i));
    }
    assert_eq!(Instrument::Phq9.loinc(), (Some("44249-1"), Some("44261-6")));
    assert_eq!(Instrument::Pcl5.loinc().1, Some("101698-9"));
}

#[test]
fn check_in_flags_self_harm_and_keeps_craving() {
    let base: Answers = [("mood", 6), ("craving", 7), ("triggers", 1), ("sleep", 2), ("used", 0), ("self_harm", 0)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let s = score(Instrument::CheckIn, &base, &ScoringContext::default()).unwrap();
    assert_eq!((s.band, s.subscore("craving"), s.flags.len()), ("no_use", Some(7), 0));
    let mut harm = base.clone();
    harm.insert("self_harm".into(), 1);
    harm.insert("used".into(), 1);
    let s = score(Instrument::CheckIn, &harm, &ScoringContext::default()).unwrap();
    assert_eq!(s.flags, vec![SafetyFlag::CheckInSelfHarm]);
    assert_eq!(s.band, "used");
    let mut bad = base;
    bad.insert("craving".into(), 11);
    assert!(matches!(score(Instrument::CheckIn, &bad, &ScoringContext::default()), Err(ScoreError::OutOfRange { .. })));
}

#[test]
fn self_assessment_bands() {
    for (total, want) in
        [(0, "not_ready"), (7, "not_ready"), (8, "getting_there"), (11, "getting_there"), (12, "ready"), (16, "ready")]
    {
        assert_eq!(band(Instrument::SelfAssessment, total), want, "total {total}");
    }
}

#[test]
fn withdrawal_alerts_fire_on_crossing_not_on_every_high_score() {
    let a = domain::instruments::WithdrawalAlerts::default();
    assert!(a.crossed(Instrument::CiwaAr, None, 10));
    assert!(!a.crossed(Instrument::CiwaAr, None, 9));
    assert!(a.crossed(Instrument::CiwaAr, Some(8), 12));
    assert!(!a.crossed(Instrument::CiwaAr, Some(12), 14));
    assert!(a.crossed(Instrument::Cows, Some(12), 13));
    assert!(!a.crossed(Instrument::Phq9, None, 27));
}
