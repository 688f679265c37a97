//! The recommendation rules against a table of vignettes: ratings for the six dimensions and
//! the level a clinician would expect.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use domain::level::Catalogue;
use domain::recommend::{RatingError, Ratings, RuleSet, RuleSetError, recommend};

/// (vignette, [d1..d6], expected level)
const VIGNETTES: &[(&str, [u8; 6], &str)] = &[
    ("stable in early remission", [0, 0, 0, 0, 0, 0], "1"),
    ("mild issues everywhere", [1, 1, 1, 1, 1, 1], "1"),
    ("mild relapse risk", [0, 0, 0, 1, 2, 1], "2.1"),
    ("unsupportive home", [0, 0, 0, 1, 1, 2], "2.1"),
    ("ambivalent about change", [0, 0, 1, 3, 1, 1], "2.1"),
    ("relapse risk and thin supports", [0, 0, 1, 2, 2, 2], "2.1"),
    ("depression needing structure", [0, 0, 2, 1, 1, 1], "2.5"),
    ("high relapse risk, good home", [0, 0, 1, 2, 3, 1], "2.5"),
    ("high relapse risk, mild home issues", [0, 1, 1, 2, 3, 2], "2.5"),
    ("anxious, relapse risk", [0, 0, 2, 2, 2, 2], "2.5"),
    ("sober living needed", [0, 0, 1, 1, 1, 3], "3.1"),
    ("home full of use, moderate relapse", [0, 0, 1, 2, 2, 3], "3.1"),
    ("high relapse and unsafe home", [0, 0, 1, 2, 3, 3], "3.5"),
    ("imminent relapse", [0, 0, 1, 2, 4, 1], "3.5"),
    ("dangerous environment", [0, 0, 0, 1, 1, 4], "3.5"),
    ("no recognition of problem", [0, 0, 0, 4, 2, 2], "3.5"),
    ("precontemplation and unsafe home", [0, 0, 1, 4, 3, 3], "3.5"),
    ("mild withdrawal", [2, 0, 0, 1, 1, 1], "3.2-WM"),
    ("mild withdrawal and unsafe home", [2, 0, 1, 2, 3, 4], "3.5"),
    ("moderate withdrawal", [3, 0, 0, 1, 1, 1], "3.7-WM"),
    ("moderate withdrawal, high relapse", [3, 1, 1, 2, 4, 3], "3.7-WM"),
    ("severe withdrawal", [4, 1, 1, 1, 1, 1], "4"),
    ("severe withdrawal, everything else fine", [4, 0, 0, 0, 0, 0], "4"),
    ("medical monitoring needed", [0, 3, 0, 1, 1, 1], "3.7"),
    ("unstable medical", [0, 4, 0, 0, 0, 0], "4"),
    ("psychiatric monitoring", [0, 0, 3, 1, 1, 1], "3.7"),
    ("acute psychiatric risk", [0, 0, 4, 1, 1, 1], "4"),
    ("medical and psychiatric moderate", [1, 3, 3, 2, 2, 2], "3.7"),
    ("withdrawal 2 and psychiatric 3", [2, 0, 3, 1, 1, 1], "3.7"),
    ("withdrawal 3 and psychiatric 3", [3, 0, 3, 1, 1, 1], "3.7-WM"),
    ("everything moderate", [2, 2, 2, 2, 2, 2], "3.2-WM"),
    ("everything severe", [4, 4, 4, 4, 4, 4], "4"),
    ("step-down candidate after residential", [0, 0, 1, 1, 2, 1], "2.1"),
    ("step-down candidate with sober living", [0, 0, 1, 1, 2, 3], "3.1"),
    ("IOP to outpatient", [0, 0, 0, 1, 1, 1], "1"),
    ("IOP struggling", [0, 0, 1, 2, 3, 2], "2.5"),
    ("IOP relapse, home unsafe", [1, 0, 1, 2, 4, 4], "3.5"),
    ("ready to change, home unsafe", [0, 0, 0, 0, 1, 4], "3.5"),
    ("psychiatric 2 and home 3", [0, 0, 2, 1, 1, 3], "3.1"),
    ("relapse 3 and home 2", [0, 0, 0, 1, 3, 2], "2.5"),
    ("motivation 3 and relapse 3", [0, 0, 0, 3, 3, 1], "2.5"),
];

/// (vignette, [d1..d6], expected level) for the ASAM 4th edition, whose dimensions are
/// 1 intoxication, withdrawal and addiction medications · 2 biomedical · 3 psychiatric and
/// cognitive · 4 substance use–related risks · 5 recovery environment interactions ·
/// 6 person-centered considerations. Withdrawal management is part of every level; 1.7, 2.7,
/// 3.7 and 4 are the medically managed ones.
const VIGNETTES_ASAM_4: &[(&str, [u8; 6], &str)] = &[
    // No active need anywhere: long-term remission monitoring.
    ("sustained remission, nothing active", [0, 0, 0, 0, 0, 0], "1.0"),
    // Outpatient therapy.
    ("mild issues, no withdrawal or medication needs", [0, 1, 1, 1, 1, 1], "1.5"),
    ("some risk of return to use, otherwise stable", [0, 0, 0, 1, 0, 0], "1.5"),
    ("mild barriers to care only", [0, 0, 0, 0, 0, 1], "1.5"),
    ("moderate barriers to care, otherwise stable", [0, 0, 0, 0, 0, 2], "1.5"),
    ("mild stable medical condition only", [0, 1, 0, 0, 0, 0], "1.5"),
    ("IOP to outpatient therapy", [0, 0, 1, 1, 1, 1], "1.5"),
    // Medically managed outpatient.
    ("mild issues everywhere", [1, 1, 1, 1, 1, 1], "1.7"),
    ("mild withdrawal only", [1, 0, 0, 0, 0, 0], "1.7"),
    ("starting buprenorphine, mild risks", [1, 0, 0, 1, 1, 0], "1.7"),
    ("liver disease needing medical follow-up", [0, 2, 0, 1, 0, 0], "1.7"),
    ("moderate medical condition only", [0, 2, 0, 0, 0, 0], "1.7"),
    // Intensive outpatient.
    ("moderate risk of continued use", [0, 0, 0, 2, 1, 1], "2.1"),
    ("few supports around the person", [0, 0, 1, 1, 2, 1], "2.1"),
    ("significant barriers, low engagement", [0, 0, 0, 1, 1, 3], "2.1"),
    ("moderate risks with mild medication needs", [1, 1, 1, 2, 2, 2], "2.1"),
    ("residential to IOP step-down", [0, 0, 1, 2, 1, 1], "2.1"),
    ("thin supports only", [0, 0, 0, 0, 2, 0], "2.1"),
    ("significant barriers only", [0, 0, 0, 0, 0, 3], "2.1"),
    // High-intensity outpatient.
    ("depression needing daily structure", [0, 0, 2, 1, 1, 1], "2.5"),
    ("high risk of continued use, supportive home", [0, 0, 1, 3, 2, 1], "2.5"),
    ("severe barriers to engaging", [0, 0, 0, 1, 1, 4], "2.5"),
    ("everything moderate except withdrawal", [0, 1, 2, 2, 2, 2], "2.5"),
    ("high risk of continued use only", [0, 0, 0, 3, 0, 0], "2.5"),
    ("severe barriers only", [0, 0, 0, 0, 0, 4], "2.5"),
    // Medically managed intensive outpatient.
    ("moderate alcohol withdrawal, supportive home", [2, 0, 0, 1, 1, 1], "2.7"),
    ("everything moderate", [2, 2, 2, 2, 2, 2], "2.7"),
    ("moderate withdrawal only", [2, 0, 0, 0, 0, 0], "2.7"),
    // Clinically managed low-intensity residential.
    ("needs a sober 24-hour living environment", [0, 0, 1, 1, 3, 1], "3.1"),
    ("use at home, moderate psychiatric needs", [0, 0, 2, 2, 3, 1], "3.1"),
    ("mild withdrawal, no safe place to live", [1, 0, 0, 1, 3, 0], "3.1"),
    ("unsupportive environment only", [0, 0, 0, 0, 3, 0], "3.1"),
    // Clinically managed high-intensity residential.
    ("high risk of use in an unsupportive home", [0, 0, 1, 3, 3, 1], "3.5"),
    ("imminent dangerous use", [0, 0, 1, 4, 1, 1], "3.5"),
    ("dangerous environment", [0, 0, 0, 1, 4, 1], "3.5"),
    ("high risks everywhere except medical", [0, 0, 1, 4, 4, 4], "3.5"),
    ("mild withdrawal, imminent dangerous use", [1, 0, 2, 4, 2, 1], "3.5"),
    ("dangerous use only", [0, 0, 0, 4, 0, 0], "3.5"),
    ("dangerous environment only", [0, 0, 0, 0, 4, 0], "3.5"),
    // Medically managed residential.
    ("withdrawal needing 24-hour medical care", [3, 0, 0, 1, 1, 1], "3.7"),
    ("medical conditions needing 24-hour nursing", [0, 3, 0, 1, 1, 1], "3.7"),
    ("psychiatric needs 24-hour monitoring", [0, 0, 3, 1, 1, 1], "3.7"),
    ("moderate withdrawal, no safe home", [2, 0, 0, 1, 3, 1], "3.7"),
    ("moderate withdrawal and dangerous continued use", [2, 0, 1, 4, 2, 1], "3.7"),
    ("withdrawal 3 with high risk in an unsafe home", [3, 1, 1, 3, 4, 2], "3.7"),
    ("medical and psychiatric moderate-severe", [1, 3, 3, 2, 2, 2], "3.7"),
    ("withdrawal 2 and psychiatric 3", [2, 0, 3, 1, 1, 1], "3.7"),
    ("withdrawal 3 and psychiatric 3", [3, 0, 3, 1, 1, 1], "3.7"),
    // Medically managed inpatient.
    ("severe withdrawal, everything else fine", [4, 0, 0, 0, 0, 0], "4"),
    ("unstable medical, everything else fine", [0, 4, 0, 0, 0, 0], "4"),
    ("acute psychiatric risk, everything else fine", [0, 0, 4, 0, 0, 0], "4"),
    ("severe withdrawal with mild issues", [4, 1, 1, 1, 1, 1], "4"),
    ("everything severe", [4, 4, 4, 4, 4, 4], "4"),
];

#[test]
fn the_rules_recommend_what_a_clinician_expects() {
    let catalogue = Catalogue::builtin("asam-3").unwrap();
    let rules = RuleSet::builtin("asam-3").unwrap();
    rules.check_against(&catalogue).unwrap();
    assert!(VIGNETTES.len() >= 40);
    for (vignette, ratings, expected) in VIGNETTES {
        let r = recommend(&Ratings::new(*ratings).unwrap(), &rules, &catalogue).unwrap();
        assert_eq!(r.level.as_str(), *expected, "{vignette}: {ratings:?} → {:?}", r.reasons);
        assert!(!r.reasons.is_empty(), "{vignette}: every recommendation says why");
        assert_eq!(r.rule_set_version, "asam-3/2026.1");
    }
}

#[test]
fn reasons_name_the_dimensions_that_drove_the_level() {
    let catalogue = Catalogue::builtin("asam-3").unwrap();
    let rules = RuleSet::builtin("asam-3").unwrap();
    let r = recommend(&Ratings::new([3, 0, 0, 1, 1, 1]).unwrap(), &rules, &catalogue).unwrap();
    assert_eq!(
        r.reasons,
        vec!["Dimension 1 rated 3: withdrawal needs a 24-hour medically monitored setting".to_owned()]
    );
}

#[test]
fn ratings_above_4_and_bad_rule_sets_are_refused() {
    assert_eq!(Ratings::new([0, 0, 5, 0, 0, 0]), Err(RatingError { dimension: 3 }));
    assert!(RuleSet::from_json(r#"{"catalogue":"x","version":"1","default_level":"1","rules":[{"when":[{"dimension":7,"at_least":1}],"level":"1","reason":"x"}]}"#).is_err());
    let wrong_level = RuleSet::from_json(r#"{"catalogue":"asam-3","version":"1","default_level":"1","rules":[{"when":[{"dimension":1,"at_least":1}],"level":"9.9","reason":"x"}]}"#).unwrap();
    assert!(wrong_level.check_against(&Catalogue::builtin("asam-3").unwrap()).is_err());
    assert_eq!(RuleSet::builtin("asam-5"), Err(RuleSetError::Unknown("asam-5".to_owned())));
}

/// Every catalogue shipped with Stepdown, each with its own rule set.
const BUILTIN_CATALOGUES: &[&str] = &["asam-3", "asam-4"];

#[test]
fn every_builtin_rule_set_fits_its_catalogue() {
    for id in BUILTIN_CATALOGUES {
        let catalogue = Catalogue::builtin(id).unwrap();
        let rules = RuleSet::builtin(id).unwrap();
        assert_eq!(rules.catalogue, *id);
        assert!(rules.version.starts_with(&format!("{id}/")), "{}", rules.version);
        rules.check_against(&catalogue).unwrap_or_else(|e| panic!("{id}: {e}"));
    }
}

#[test]
fn the_asam_4_rules_recommend_what_a_clinician_expects() {
    let catalogue = Catalogue::builtin("asam-4").unwrap();
    let rules = RuleSet::builtin("asam-4").unwrap();
    rules.check_against(&catalogue).unwrap();
    assert!(VIGNETTES_ASAM_4.len() >= 40);
    for (vignette, ratings, expected) in VIGNETTES_ASAM_4 {
        let r = recommend(&Ratings::new(*ratings).unwrap(), &rules, &catalogue).unwrap();
        assert_eq!(r.level.as_str(), *expected, "{vignette}: {ratings:?} → {:?}", r.reasons);
        assert!(!r.reasons.is_empty(), "{vignette}: every recommendation says why");
        assert_eq!(r.rule_set_version, "asam-4/2026.1");
    }
}

#[test]
fn the_asam_4_vignettes_reach_every_level() {
    let catalogue = Catalogue::builtin("asam-4").unwrap();
    for level in &catalogue.levels {
        assert!(
            VIGNETTES_ASAM_4.iter().any(|(_, _, expected)| *expected == level.code.as_str()),
            "no vignette expects level {}",
            level.code
        );
    }
}

#[test]
fn asam_4_reasons_name_the_dimensions_that_drove_the_level() {
    let catalogue = Catalogue::builtin("asam-4").unwrap();
    let rules = RuleSet::builtin("asam-4").unwrap();
    let r = recommend(&Ratings::new([3, 0, 0, 1, 1, 1]).unwrap(), &rules, &catalogue).unwrap();
    assert_eq!(
        r.reasons,
        vec!["Dimension 1 rated 3: withdrawal needs medically managed care in a 24-hour setting".to_owned()]
    );
    // Two rules requiring the same level both explain it.
    let r = recommend(&Ratings::new([2, 0, 0, 1, 3, 1]).unwrap(), &rules, &catalogue).unwrap();
    assert_eq!(r.level.as_str(), "3.7");
    assert_eq!(r.reasons.len(), 1, "{:?}", r.reasons);
    assert!(r.reasons[0].starts_with("Dimension 1 rated 2 or more with Dimension 5"), "{:?}", r.reasons);
}

/// A reason that says "Dimension N rated K:" is shown only when dimension N is rated exactly K,
/// over every possible set of ratings.
#[test]
fn reasons_quote_the_ratings_they_name() {
    for id in BUILTIN_CATALOGUES {
        let catalogue = Catalogue::builtin(id).unwrap();
        let rules = RuleSet::builtin(id).unwrap();
        for n in 0..5u32.pow(6) {
            let mut values = [0u8; 6];
            for (i, v) in values.iter_mut().enumerate() {
                *v = u8::try_from(n / 5u32.pow(u32::try_from(i).unwrap()) % 5).unwrap();
            }
            let r = recommend(&Ratings::new(values).unwrap(), &rules, &catalogue).unwrap();
            for reason in &r.reasons {
                for (d, rating) in values.iter().enumerate() {
                    for k in 0..=4u8 {
                        if reason.starts_with(&format!("Dimension {} rated {k}:", d + 1)) {
                            assert_eq!(*rating, k, "{id}: {values:?} → {reason}");
                        }
                    }
                }
            }
        }
    }
}
