//! The recommendation rules against a table of vignettes: ratings for the six dimensions and
//! the level a clinician would expect.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use domain::level::Catalogue;
use domain::recommend::{RatingError, Ratings, RuleSet, recommend};

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
    assert!(RuleSet::builtin("asam-4").is_err(), "4th-edition rules are not written yet");
}
