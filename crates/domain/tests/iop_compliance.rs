//! Dose compliance (issue 5): table tests of the hour, modality and H0015 rules across week,
//! year and DST boundaries and partial weeks, and property tests of the totals and the status.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use domain::iop::compliance::{
    Amount, Attended, Enrolment, IsoWeek, ModalityRequirement, Shortfall, Status, Upcoming, WeekCompliance, WeeklyDose,
    WeeklyMinimum, assess, week_of,
};
use domain::iop::{AgeGroup, Modality, Slot};
use domain::level::Catalogue;
use proptest::prelude::*;
use time::{Date, Duration, Time, macros::date, macros::time};

use Modality::{CaseManagement, Family, Group, Individual, LifeSkills, Psychoeducation};

/// 2026-W20: Monday 2026-05-11 to Sunday 2026-05-17, an ordinary week.
fn w20() -> IsoWeek {
    IsoWeek::new(2026, 20).unwrap()
}

/// Day `i` (0 = Monday) of the week.
fn d(week: IsoWeek, i: usize) -> Date {
    week.days()[i]
}

fn slot(date: Date, start: Time, minutes: u16) -> Slot {
    Slot { date, start, minutes }
}

/// An evening group 18:00–21:00 attended for `minutes`.
fn evening(date: Date, minutes: u16) -> Attended {
    Attended { slot: slot(date, time!(18:00), 180), modality: Group, minutes }
}

fn upcoming_evening(date: Date) -> Upcoming {
    Upcoming { slot: slot(date, time!(18:00), 180), modality: Group }
}

fn level_minimum(code: &str, age: AgeGroup) -> WeeklyMinimum {
    let catalogue = Catalogue::builtin("asam-3").unwrap();
    WeeklyMinimum::for_level(catalogue.level(code).unwrap(), age).unwrap()
}

fn dose(minimum: WeeklyMinimum, modalities: Vec<ModalityRequirement>, h0015: bool) -> WeeklyDose {
    WeeklyDose { minimum, modalities, h0015_applies: h0015 }
}

/// 2.1 adults: 9 h, H0015 applies, no modality requirement.
fn iop_adult() -> WeeklyDose {
    dose(level_minimum("2.1", AgeGroup::Adult), vec![], true)
}

/// Assessed after the week is over: only attendance counts.
fn closed(week: IsoWeek, enrolment: Enrolment, dose: &WeeklyDose, attended: &[Attended]) -> WeekCompliance {
    let after = week.sunday() + Duration::days(1);
    assess(week, enrolment, dose, attended, &[], after, time!(08:00))
}

#[test]
fn the_level_minimums_come_from_the_catalogue() {
    assert_eq!(level_minimum("2.1", AgeGroup::Adult).minutes(), 540);
    assert_eq!(level_minimum("2.1", AgeGroup::Adolescent).minutes(), 360);
    assert_eq!(level_minimum("2.5", AgeGroup::Adult).minutes(), 1200);
    let catalogue = Catalogue::builtin("asam-3").unwrap();
    assert_eq!(
        WeeklyMinimum::for_level(catalogue.level("1").unwrap(), AgeGroup::Adult),
        None,
        "level 1 sets only a maximum"
    );
    assert_eq!(WeeklyMinimum::from_hours(9), WeeklyMinimum::from_minutes(540));
}

#[test]
fn weeks_are_iso_weeks_across_year_boundaries() {
    // (date, ISO year, ISO week, Monday of that week)
    let table = [
        (date!(2025 - 12 - 28), 2025, 52, date!(2025 - 12 - 22)),
        (date!(2025 - 12 - 29), 2026, 1, date!(2025 - 12 - 29)),
        (date!(2025 - 12 - 31), 2026, 1, date!(2025 - 12 - 29)),
        (date!(2026 - 01 - 04), 2026, 1, date!(2025 - 12 - 29)),
        (date!(2026 - 01 - 05), 2026, 2, date!(2026 - 01 - 05)),
        (date!(2026 - 12 - 28), 2026, 53, date!(2026 - 12 - 28)),
        (date!(2026 - 12 - 31), 2026, 53, date!(2026 - 12 - 28)),
        (date!(2027 - 01 - 03), 2026, 53, date!(2026 - 12 - 28)),
        (date!(2027 - 01 - 04), 2027, 1, date!(2027 - 01 - 04)),
        (date!(2026 - 03 - 08), 2026, 10, date!(2026 - 03 - 02)),
        (date!(2026 - 11 - 01), 2026, 44, date!(2026 - 10 - 26)),
    ];
    for (day, year, week, monday) in table {
        let w = week_of(day);
        assert_eq!((w.year(), w.week(), w.monday()), (year, week, monday), "{day}");
        assert_eq!(IsoWeek::new(year, week).unwrap(), w, "{day}");
        assert!(
            w.contains(day) && !w.contains(monday - Duration::days(1)) && !w.contains(w.sunday() + Duration::days(1))
        );
        let days = w.days();
        assert_eq!((days[0], days[6]), (monday, monday + Duration::days(6)));
        assert!(days.windows(2).all(|p| p[1] - p[0] == Duration::days(1)));
    }
    let w53 = IsoWeek::new(2026, 53).unwrap();
    assert_eq!(w53.sunday(), date!(2027 - 01 - 03));
    assert_eq!(w53.to_string(), "2026-W53");
    assert_eq!("2026-W53".parse::<IsoWeek>().unwrap(), w53);
    assert_eq!(w53.next().unwrap(), IsoWeek::new(2027, 1).unwrap());
    assert_eq!(IsoWeek::new(2027, 1).unwrap().previous().unwrap(), w53);
    assert_eq!("2026-W01".parse::<IsoWeek>().unwrap().monday(), date!(2025 - 12 - 29));
    assert!(IsoWeek::new(2025, 53).is_err(), "2025 has 52 weeks");
    assert!(IsoWeek::new(2026, 0).is_err());
    for bad in ["2026-53", "2026-W", "W53", "2025-W53", "2026-Wx"] {
        assert!(bad.parse::<IsoWeek>().is_err(), "{bad}");
    }
    let json = serde_json::to_string(&w53).unwrap();
    assert_eq!(json, "\"2026-W53\"");
    assert_eq!(serde_json::from_str::<IsoWeek>(&json).unwrap(), w53);
    assert!(serde_json::from_str::<IsoWeek>("\"2025-W53\"").is_err());
}

/// One row of the hour-rule table: a dose, an enrolment, attendance, and what a closed week
/// must show.
struct HoursCase {
    name: &'static str,
    week: IsoWeek,
    enrolment: Enrolment,
    dose: WeeklyDose,
    attended: Vec<Attended>,
    clinical_minutes: u32,
    required_minutes: u32,
    h0015_days: u8,
    status: Status,
    shortfalls: Vec<Shortfall>,
}

#[test]
fn hour_and_h0015_rules_table() {
    let w = w20();
    let evening_track =
        |mins: [u16; 3]| vec![evening(d(w, 0), mins[0]), evening(d(w, 1), mins[1]), evening(d(w, 3), mins[2])];
    let adolescent = dose(level_minimum("2.1", AgeGroup::Adolescent), vec![], false);
    let php = dose(level_minimum("2.5", AgeGroup::Adult), vec![], true);
    let day_track = |minutes: [u16; 5]| -> Vec<Attended> {
        (0..5)
            .map(|i| Attended { slot: slot(d(w, i), time!(09:00), 240), modality: Group, minutes: minutes[i] })
            .collect()
    };
    let w01 = IsoWeek::new(2026, 1).unwrap();
    let w53 = IsoWeek::new(2026, 53).unwrap();
    let march = week_of(date!(2026 - 03 - 08));
    let november = week_of(date!(2026 - 11 - 01));

    let cases = vec![
        HoursCase {
            name: "a full week of 9 h meets 2.1 adult and H0015",
            week: w,
            enrolment: Enrolment::open(),
            dose: iop_adult(),
            attended: evening_track([180, 180, 180]),
            clinical_minutes: 540,
            required_minutes: 540,
            h0015_days: 3,
            status: Status::Met,
            shortfalls: vec![],
        },
        HoursCase {
            name: "8 h 59 min is short by a minute, and one day falls below 180",
            week: w,
            enrolment: Enrolment::open(),
            dose: iop_adult(),
            attended: evening_track([180, 179, 180]),
            clinical_minutes: 539,
            required_minutes: 540,
            h0015_days: 2,
            status: Status::AtRisk,
            shortfalls: vec![Shortfall::Hours { missing_minutes: 1 }, Shortfall::H0015Days { have: 2, need: 3 }],
        },
        HoursCase {
            name: "adolescent 6 h over three 2 h evenings (H0015 not applied)",
            week: w,
            enrolment: Enrolment::open(),
            dose: adolescent.clone(),
            attended: (0..3)
                .map(|i| Attended { slot: slot(d(w, i), time!(16:00), 120), modality: Group, minutes: 120 })
                .collect(),
            clinical_minutes: 360,
            required_minutes: 360,
            h0015_days: 0,
            status: Status::Met,
            shortfalls: vec![],
        },
        HoursCase {
            name: "adolescent 5 h 59 min",
            week: w,
            enrolment: Enrolment::open(),
            dose: adolescent,
            attended: (0..3)
                .map(|i| Attended {
                    slot: slot(d(w, i), time!(16:00), 120),
                    modality: Group,
                    minutes: 120 - u16::from(i == 2),
                })
                .collect(),
            clinical_minutes: 359,
            required_minutes: 360,
            h0015_days: 0,
            status: Status::AtRisk,
            shortfalls: vec![Shortfall::Hours { missing_minutes: 1 }],
        },
        HoursCase {
            name: "2.5 at 20 h: five 4 h days",
            week: w,
            enrolment: Enrolment::open(),
            dose: php.clone(),
            attended: day_track([240; 5]),
            clinical_minutes: 1200,
            required_minutes: 1200,
            h0015_days: 5,
            status: Status::Met,
            shortfalls: vec![],
        },
        HoursCase {
            name: "2.5 with a half day missed: 18 h",
            week: w,
            enrolment: Enrolment::open(),
            dose: php,
            attended: day_track([240, 240, 120, 240, 240]),
            clinical_minutes: 1080,
            required_minutes: 1200,
            h0015_days: 4,
            status: Status::AtRisk,
            shortfalls: vec![Shortfall::Hours { missing_minutes: 120 }],
        },
        HoursCase {
            name: "ISO week 1 of 2026 holds Dec 29-31 of 2025; Dec 28 is the week before",
            week: w01,
            enrolment: Enrolment::open(),
            dose: iop_adult(),
            attended: vec![
                evening(date!(2025 - 12 - 28), 180),
                evening(date!(2025 - 12 - 29), 180),
                evening(date!(2025 - 12 - 30), 180),
                evening(date!(2025 - 12 - 31), 180),
                evening(date!(2026 - 01 - 05), 180),
            ],
            clinical_minutes: 540,
            required_minutes: 540,
            h0015_days: 3,
            status: Status::Met,
            shortfalls: vec![],
        },
        HoursCase {
            name: "week 53 of 2026 runs into 2027",
            week: w53,
            enrolment: Enrolment::open(),
            dose: iop_adult(),
            attended: vec![
                evening(date!(2026 - 12 - 28), 180),
                evening(date!(2026 - 12 - 30), 180),
                evening(date!(2027 - 01 - 01), 180),
                evening(date!(2027 - 01 - 04), 180),
            ],
            clinical_minutes: 540,
            required_minutes: 540,
            h0015_days: 3,
            status: Status::Met,
            shortfalls: vec![],
        },
        HoursCase {
            name: "the spring-forward week (2026-03-08): 3 h evening groups still count 180 min",
            week: march,
            enrolment: Enrolment::open(),
            dose: iop_adult(),
            attended: vec![
                evening(date!(2026 - 03 - 06), 180),
                evening(date!(2026 - 03 - 07), 180),
                evening(date!(2026 - 03 - 08), 180),
            ],
            clinical_minutes: 540,
            required_minutes: 540,
            h0015_days: 3,
            status: Status::Met,
            shortfalls: vec![],
        },
        HoursCase {
            name: "the fall-back week (2026-11-01): 3 h evening groups still count 180 min",
            week: november,
            enrolment: Enrolment::open(),
            dose: iop_adult(),
            attended: vec![
                evening(date!(2026 - 10 - 29), 180),
                evening(date!(2026 - 10 - 31), 180),
                evening(date!(2026 - 11 - 01), 180),
                evening(date!(2026 - 11 - 02), 180),
            ],
            clinical_minutes: 540,
            required_minutes: 540,
            h0015_days: 3,
            status: Status::Met,
            shortfalls: vec![],
        },
        HoursCase {
            name: "starting Wednesday: 3 program days, 540 x 3/5 = 324; Monday and Tuesday ignored",
            week: w,
            enrolment: Enrolment::starting(d(w, 2)),
            dose: iop_adult(),
            attended: vec![evening(d(w, 0), 180), evening(d(w, 1), 180), evening(d(w, 2), 180), evening(d(w, 3), 144)],
            clinical_minutes: 324,
            required_minutes: 324,
            h0015_days: 1,
            status: Status::Met,
            shortfalls: vec![],
        },
        HoursCase {
            name: "starting Wednesday, a minute short of the prorated minimum",
            week: w,
            enrolment: Enrolment::starting(d(w, 2)),
            dose: iop_adult(),
            attended: vec![evening(d(w, 2), 180), evening(d(w, 3), 143)],
            clinical_minutes: 323,
            required_minutes: 324,
            h0015_days: 1,
            status: Status::AtRisk,
            shortfalls: vec![Shortfall::Hours { missing_minutes: 1 }],
        },
        HoursCase {
            name: "leaving Tuesday: 2 program days, 216 min; Thursday ignored",
            week: w,
            enrolment: Enrolment::new(None, Some(d(w, 1))).unwrap(),
            dose: iop_adult(),
            attended: vec![evening(d(w, 0), 180), evening(d(w, 1), 0), evening(d(w, 3), 180)],
            clinical_minutes: 180,
            required_minutes: 216,
            h0015_days: 1,
            status: Status::AtRisk,
            shortfalls: vec![Shortfall::Hours { missing_minutes: 36 }],
        },
        HoursCase {
            name: "prorating rounds up to the minute: 7 min x 1/5",
            week: w,
            enrolment: Enrolment::new(Some(d(w, 4)), Some(d(w, 6))).unwrap(),
            dose: dose(WeeklyMinimum::from_minutes(7), vec![], true),
            attended: vec![Attended { slot: slot(d(w, 4), time!(10:00), 60), modality: Group, minutes: 1 }],
            clinical_minutes: 1,
            required_minutes: 2,
            h0015_days: 0,
            status: Status::AtRisk,
            shortfalls: vec![Shortfall::Hours { missing_minutes: 1 }],
        },
        HoursCase {
            name: "H0015 with exactly three days of 180 min plus shorter days",
            week: w,
            enrolment: Enrolment::open(),
            dose: iop_adult(),
            attended: vec![evening(d(w, 0), 180), evening(d(w, 1), 180), evening(d(w, 2), 90), evening(d(w, 3), 180)],
            clinical_minutes: 630,
            required_minutes: 540,
            h0015_days: 3,
            status: Status::Met,
            shortfalls: vec![],
        },
        HoursCase {
            name: "H0015 with 179 min on one of three days: hours met, H0015 not",
            week: w,
            enrolment: Enrolment::open(),
            dose: iop_adult(),
            attended: vec![evening(d(w, 0), 180), evening(d(w, 1), 179), evening(d(w, 2), 90), evening(d(w, 3), 180)],
            clinical_minutes: 629,
            required_minutes: 540,
            h0015_days: 2,
            status: Status::AtRisk,
            shortfalls: vec![Shortfall::H0015Days { have: 2, need: 3 }],
        },
        HoursCase {
            name: "H0015 from two sessions on one day (individual + group)",
            week: w,
            enrolment: Enrolment::open(),
            dose: iop_adult(),
            attended: vec![
                evening(d(w, 0), 180),
                evening(d(w, 1), 180),
                Attended { slot: slot(d(w, 3), time!(16:00), 60), modality: Individual, minutes: 60 },
                Attended { slot: slot(d(w, 3), time!(18:00), 120), modality: Psychoeducation, minutes: 120 },
            ],
            clinical_minutes: 540,
            required_minutes: 540,
            h0015_days: 3,
            status: Status::Met,
            shortfalls: vec![],
        },
        HoursCase {
            name: "late and left early count the minutes attended; more than the slot is capped",
            week: w,
            enrolment: Enrolment::open(),
            dose: iop_adult(),
            attended: vec![evening(d(w, 0), 165), evening(d(w, 1), 150), evening(d(w, 3), 240)],
            clinical_minutes: 495,
            required_minutes: 540,
            h0015_days: 1,
            status: Status::AtRisk,
            shortfalls: vec![Shortfall::Hours { missing_minutes: 45 }, Shortfall::H0015Days { have: 1, need: 3 }],
        },
        HoursCase {
            name: "case management is not treatment time, nor an H0015 day",
            week: w,
            enrolment: Enrolment::open(),
            dose: iop_adult(),
            attended: vec![
                evening(d(w, 0), 180),
                evening(d(w, 1), 180),
                Attended { slot: slot(d(w, 3), time!(18:00), 180), modality: CaseManagement, minutes: 180 },
            ],
            clinical_minutes: 360,
            required_minutes: 540,
            h0015_days: 2,
            status: Status::AtRisk,
            shortfalls: vec![Shortfall::Hours { missing_minutes: 180 }, Shortfall::H0015Days { have: 2, need: 3 }],
        },
        HoursCase {
            name: "enrolment ended the week before: not enrolled, nothing required or counted",
            week: w,
            enrolment: Enrolment::new(Some(date!(2026 - 01 - 05)), Some(d(w, 0) - Duration::days(1))).unwrap(),
            dose: iop_adult(),
            attended: evening_track([180, 0, 0]),
            clinical_minutes: 0,
            required_minutes: 0,
            h0015_days: 0,
            status: Status::NotEnrolled,
            shortfalls: vec![],
        },
        HoursCase {
            name: "enrolled from Saturday: no program day this week",
            week: w,
            enrolment: Enrolment::starting(d(w, 5)),
            dose: iop_adult(),
            attended: vec![evening(d(w, 5), 180)],
            clinical_minutes: 180,
            required_minutes: 0,
            h0015_days: 1,
            status: Status::NotEnrolled,
            shortfalls: vec![],
        },
    ];

    for c in cases {
        let r = closed(c.week, c.enrolment, &c.dose, &c.attended);
        let name = c.name;
        assert!(r.closed, "{name}");
        assert_eq!(r.clinical_minutes, c.clinical_minutes, "{name}: clinical minutes");
        assert_eq!(r.required_minutes, c.required_minutes, "{name}: required minutes");
        assert_eq!(r.h0015.days, c.h0015_days, "{name}: H0015 days");
        assert_eq!(r.h0015.met, c.h0015_days >= 3, "{name}: H0015 met");
        assert_eq!(r.status, c.status, "{name}: status ({:?})", r.shortfalls);
        assert_eq!(r.shortfalls, c.shortfalls, "{name}: shortfalls");
        // Closed weeks have nothing to come: the forecast is what was attended.
        assert_eq!(r.forecast_shortfalls, r.shortfalls, "{name}: forecast");
        assert_eq!(r.hours_met, c.clinical_minutes >= c.required_minutes, "{name}: hours met");
        assert!(!r.needs_action(), "{name}: a closed week needs no action");
        assert_eq!(r.days.iter().map(|d| d.clinical_minutes).sum::<u32>(), r.clinical_minutes, "{name}");
    }
}

#[test]
fn dst_weeks_have_seven_days_and_per_day_minutes() {
    for (sunday, monday) in
        [(date!(2026 - 03 - 08), date!(2026 - 03 - 02)), (date!(2026 - 11 - 01), date!(2026 - 10 - 26))]
    {
        let w = week_of(sunday);
        assert_eq!(w.monday(), monday);
        assert_eq!(w.sunday(), sunday);
        let r = closed(w, Enrolment::open(), &iop_adult(), &[evening(sunday, 180)]);
        assert_eq!(r.days[6].date, sunday);
        assert_eq!(r.days[6].clinical_minutes, 180, "a 3 h group on the change day is 180 min");
        assert!(r.days[6].h0015);
    }
}

#[test]
fn partial_weeks_prorate_modalities_and_drop_the_h0015_requirement() {
    let w = w20();
    let plan = vec![
        ModalityRequirement { modality: Individual, at_least: Amount::Sessions(1) },
        ModalityRequirement { modality: Family, at_least: Amount::Minutes(100) },
    ];
    let d21 = dose(level_minimum("2.1", AgeGroup::Adult), plan, true);
    // Starting Thursday: 2 program days, 216 min, 1 individual session, 40 family minutes.
    let attended = vec![
        evening(d(w, 3), 180),
        Attended { slot: slot(d(w, 4), time!(10:00), 50), modality: Individual, minutes: 50 },
        Attended { slot: slot(d(w, 4), time!(11:00), 60), modality: Family, minutes: 40 },
    ];
    let r = closed(w, Enrolment::starting(d(w, 3)), &d21, &attended);
    assert_eq!(r.program_days, 2);
    assert_eq!(r.required_minutes, 216);
    assert_eq!(r.modalities[0].required, Amount::Sessions(1));
    assert_eq!(r.modalities[1].required, Amount::Minutes(40));
    assert!(!r.h0015.required && !r.h0015.met && r.h0015.days == 1, "{:?}", r.h0015);
    assert_eq!(r.clinical_minutes, 270);
    assert_eq!(r.status, Status::Met, "{:?}", r.shortfalls);

    // The same attendance over a full week: everything is short.
    let r = closed(w, Enrolment::open(), &d21, &attended);
    assert!(r.h0015.required);
    assert_eq!(
        r.shortfalls,
        vec![
            Shortfall::Hours { missing_minutes: 270 },
            Shortfall::Modality { modality: Family, missing: Amount::Minutes(60) },
            Shortfall::H0015Days { have: 1, need: 3 },
        ]
    );
}

/// (name, plan, sessions attended besides a 9 h evening track, shortfalls of the closed week)
type ModalityCase = (&'static str, Vec<ModalityRequirement>, Vec<Attended>, Vec<Shortfall>);

#[test]
fn modality_requirements_table() {
    let w = w20();
    let track = [evening(d(w, 0), 180), evening(d(w, 1), 180), evening(d(w, 3), 180)];
    let individual = |minutes: u16| Attended { slot: slot(d(w, 2), time!(17:00), 50), modality: Individual, minutes };
    let family = |minutes: u16| Attended { slot: slot(d(w, 4), time!(17:00), 60), modality: Family, minutes };
    let case_mgmt = Attended { slot: slot(d(w, 4), time!(09:00), 30), modality: CaseManagement, minutes: 30 };
    let one_individual = ModalityRequirement { modality: Individual, at_least: Amount::Sessions(1) };
    let family_60 = ModalityRequirement { modality: Family, at_least: Amount::Minutes(60) };
    let two_life_skills = ModalityRequirement { modality: LifeSkills, at_least: Amount::Sessions(2) };
    let one_case_mgmt = ModalityRequirement { modality: CaseManagement, at_least: Amount::Sessions(1) };

    let table: Vec<ModalityCase> = vec![
        (
            "individual required, none held",
            vec![one_individual],
            vec![],
            vec![Shortfall::Modality { modality: Individual, missing: Amount::Sessions(1) }],
        ),
        (
            "individual required, absent",
            vec![one_individual],
            vec![individual(0)],
            vec![Shortfall::Modality { modality: Individual, missing: Amount::Sessions(1) }],
        ),
        ("individual required, attended late", vec![one_individual], vec![individual(35)], vec![]),
        (
            "family 60 min, left after 45",
            vec![family_60],
            vec![family(45)],
            vec![Shortfall::Modality { modality: Family, missing: Amount::Minutes(15) }],
        ),
        ("family 60 min, attended", vec![family_60], vec![family(60)], vec![]),
        (
            "two life skills, groups do not count",
            vec![two_life_skills],
            vec![],
            vec![Shortfall::Modality { modality: LifeSkills, missing: Amount::Sessions(2) }],
        ),
        ("case management counts toward its own requirement", vec![one_case_mgmt], vec![case_mgmt], vec![]),
        (
            "two requirements, both unmet",
            vec![one_individual, family_60],
            vec![],
            vec![
                Shortfall::Modality { modality: Individual, missing: Amount::Sessions(1) },
                Shortfall::Modality { modality: Family, missing: Amount::Minutes(60) },
            ],
        ),
    ];
    for (name, plan, extra, shortfalls) in table {
        let d21 = dose(level_minimum("2.1", AgeGroup::Adult), plan.clone(), true);
        let attended: Vec<Attended> = track.iter().copied().chain(extra.iter().copied()).collect();
        let r = closed(w, Enrolment::open(), &d21, &attended);
        assert_eq!(r.shortfalls, shortfalls, "{name}");
        assert_eq!(r.status, if shortfalls.is_empty() { Status::Met } else { Status::AtRisk }, "{name}");
        assert_eq!(r.modalities.len(), plan.len(), "{name}");
        for (m, req) in r.modalities.iter().zip(&plan) {
            assert_eq!((m.modality, m.required), (req.modality, req.at_least), "{name}");
            assert_eq!(
                m.met,
                !shortfalls
                    .iter()
                    .any(|s| matches!(s, Shortfall::Modality { modality, .. } if *modality == m.modality)),
                "{name}"
            );
        }
        assert!(r.clinical_minutes >= 540, "{name}");
    }
    // Case management minutes never reach the clinical total.
    let r = closed(w, Enrolment::open(), &iop_adult(), &[case_mgmt]);
    assert_eq!(r.clinical_minutes, 0);
}

#[test]
fn the_forecast_separates_on_track_from_at_risk_mid_week() {
    let w = w20();
    let (mon, tue, wed, thu, fri) = (d(w, 0), d(w, 1), d(w, 2), d(w, 3), d(w, 4));
    let plan = vec![ModalityRequirement { modality: Individual, at_least: Amount::Sessions(1) }];
    let d21 = dose(level_minimum("2.1", AgeGroup::Adult), plan, true);
    let individual_fri = Upcoming { slot: slot(fri, time!(10:00), 50), modality: Individual };
    let schedule = [upcoming_evening(mon), upcoming_evening(tue), upcoming_evening(thu), individual_fri];
    let run = |attended: &[Attended], today: Date, now: Time| {
        assess(w, Enrolment::open(), &d21, attended, &schedule, today, now)
    };

    // Thursday 17:00 after Monday and Tuesday: Thursday's group and Friday's individual session
    // would complete the week.
    let r = run(&[evening(mon, 180), evening(tue, 180)], thu, time!(17:00));
    assert_eq!(r.status, Status::OnTrack, "{:?}", r.forecast_shortfalls);
    assert!(!r.closed && !r.needs_action());
    assert_eq!(r.scheduled_clinical_minutes, 230, "Monday and Tuesday are past: only Thursday and Friday count");
    assert_eq!(
        r.shortfalls,
        vec![
            Shortfall::Hours { missing_minutes: 180 },
            Shortfall::Modality { modality: Individual, missing: Amount::Sessions(1) },
            Shortfall::H0015Days { have: 2, need: 3 },
        ]
    );
    assert!(r.forecast_shortfalls.is_empty());
    assert!(r.days[3].h0015_forecast && !r.days[3].h0015);

    // Tuesday missed: even with Thursday's group and Friday's 50 min individual session the
    // week ends 130 min and one H0015 day short.
    let r = run(&[evening(mon, 180), evening(tue, 0)], thu, time!(17:00));
    assert_eq!(r.status, Status::AtRisk);
    assert!(r.needs_action(), "still time to act: book a make-up session");
    assert_eq!(
        r.forecast_shortfalls,
        vec![Shortfall::Hours { missing_minutes: 130 }, Shortfall::H0015Days { have: 2, need: 3 }]
    );

    // A session that has started (or starts exactly now) is not "upcoming".
    for now in [time!(18:00), time!(18:30)] {
        let r = run(&[evening(mon, 180), evening(tue, 180)], thu, now);
        assert_eq!(r.status, Status::AtRisk, "{now}");
        assert_eq!(r.scheduled_clinical_minutes, 50, "{now}");
    }
    let r = run(&[evening(mon, 180), evening(tue, 180)], thu, time!(17:59));
    assert_eq!(r.status, Status::OnTrack);

    // Wednesday: the individual session alone is missing after Thursday's group is attended.
    let r = run(&[evening(mon, 180), evening(tue, 180), evening(thu, 180)], thu, time!(21:00));
    assert_eq!(r.status, Status::OnTrack);
    assert_eq!(r.shortfalls, vec![Shortfall::Modality { modality: Individual, missing: Amount::Sessions(1) }]);

    // The same week seen the Sunday before: all of it is still to come.
    let r = run(&[], mon - Duration::days(1), time!(12:00));
    assert_eq!(r.status, Status::OnTrack);
    assert_eq!(r.scheduled_clinical_minutes, 590);

    // Met as soon as attended, whatever is still scheduled.
    let all = [
        evening(mon, 180),
        evening(tue, 180),
        evening(wed, 50),
        evening(thu, 180),
        Attended::full(individual_fri.slot, Individual),
    ];
    let r = run(&all, fri, time!(12:00));
    assert_eq!(r.status, Status::Met);
    assert!(r.shortfalls.is_empty() && r.forecast_shortfalls.is_empty());
}

#[test]
fn scheduled_sessions_outside_the_week_or_enrolment_do_not_rescue_it() {
    let w = w20();
    let leaving_wed = Enrolment::new(None, Some(d(w, 2))).unwrap();
    let schedule =
        [upcoming_evening(d(w, 3)), upcoming_evening(d(w, 4)), upcoming_evening(d(w, 7 - 1) + Duration::days(1))];
    let r = assess(w, leaving_wed, &iop_adult(), &[evening(d(w, 0), 180)], &schedule, d(w, 1), time!(09:00));
    // 3 program days: 324 min; Thursday, Friday and next Monday don't count.
    assert_eq!((r.program_days, r.required_minutes, r.scheduled_clinical_minutes), (3, 324, 0));
    assert_eq!(r.status, Status::AtRisk);
    assert!(r.needs_action());
    assert!(!r.days[3].enrolled && r.days[3].scheduled_clinical_minutes == 0);

    // With a Wednesday session scheduled the week can still be met.
    let schedule = [upcoming_evening(d(w, 2))];
    let r = assess(w, leaving_wed, &iop_adult(), &[evening(d(w, 0), 180)], &schedule, d(w, 1), time!(09:00));
    assert_eq!(r.status, Status::OnTrack, "{:?}", r.forecast_shortfalls);
}

#[test]
fn enrolments_refuse_an_end_before_the_start() {
    assert!(Enrolment::new(Some(date!(2026 - 05 - 12)), Some(date!(2026 - 05 - 11))).is_err());
    let one_day = Enrolment::new(Some(date!(2026 - 05 - 12)), Some(date!(2026 - 05 - 12))).unwrap();
    assert!(one_day.contains(date!(2026 - 05 - 12)) && !one_day.contains(date!(2026 - 05 - 13)));
    assert!(Enrolment::open().contains(date!(2026 - 05 - 12)));
}

// ---- properties ----------------------------------------------------------------------------

const MODALITIES: [Modality; 7] = Modality::ALL;

fn base() -> Date {
    date!(2025 - 12 - 01)
}

fn attended_strategy() -> impl Strategy<Value = Attended> {
    (-3i64..60, 6u8..22, 0u16..=240, 0u16..=300, 0usize..7).prop_map(|(day, hour, len, att, m)| Attended {
        slot: Slot { date: base() + Duration::days(day), start: Time::from_hms(hour, 0, 0).unwrap(), minutes: len },
        modality: MODALITIES[m],
        minutes: att,
    })
}

fn upcoming_strategy() -> impl Strategy<Value = Upcoming> {
    (-3i64..60, 6u8..22, 0u16..=240, 0usize..7).prop_map(|(day, hour, len, m)| Upcoming {
        slot: Slot { date: base() + Duration::days(day), start: Time::from_hms(hour, 0, 0).unwrap(), minutes: len },
        modality: MODALITIES[m],
    })
}

fn requirement_strategy() -> impl Strategy<Value = ModalityRequirement> {
    (0usize..7, any::<bool>(), 0u16..4, 0u32..200).prop_map(|(m, sessions, n, minutes)| ModalityRequirement {
        modality: MODALITIES[m],
        at_least: if sessions { Amount::Sessions(n) } else { Amount::Minutes(minutes) },
    })
}

proptest! {
    #[test]
    fn totals_and_status_are_consistent(
        week_offset in 0i64..8,
        first in proptest::option::of(-10i64..60),
        length in proptest::option::of(0i64..40),
        minimum in 0u32..1500,
        h0015 in any::<bool>(),
        plan in proptest::collection::vec(requirement_strategy(), 0..4),
        attended in proptest::collection::vec(attended_strategy(), 0..30),
        upcoming in proptest::collection::vec(upcoming_strategy(), 0..15),
        today_offset in -10i64..70,
        now_hour in 0u8..24,
    ) {
        let week = week_of(base() + Duration::weeks(week_offset));
        let first_day = first.map(|f| base() + Duration::days(f));
        let last_day = match (first_day, length) {
            (Some(f), Some(n)) => Some(f + Duration::days(n)),
            (None, Some(n)) => Some(base() + Duration::days(n)),
            (_, None) => None,
        };
        let enrolment = Enrolment::new(first_day, last_day).unwrap();
        let dose = WeeklyDose { minimum: WeeklyMinimum::from_minutes(minimum), modalities: plan, h0015_applies: h0015 };
        let today = base() + Duration::days(today_offset);
        let r = assess(week, enrolment, &dose, &attended, &upcoming, today, Time::from_hms(now_hour, 0, 0).unwrap());

        // Totals: the sum over the days, never more than the slots held.
        prop_assert_eq!(r.clinical_minutes, r.days.iter().map(|d| d.clinical_minutes).sum::<u32>());
        let slot_total: u32 = attended.iter().map(|a| u32::from(a.slot.minutes)).sum();
        prop_assert!(r.clinical_minutes <= slot_total);
        let counted: u32 = attended
            .iter()
            .filter(|a| a.modality.is_clinical() && week.contains(a.slot.date) && enrolment.contains(a.slot.date))
            .map(|a| u32::from(a.slot.minutes))
            .sum();
        prop_assert!(r.clinical_minutes <= counted);
        for day in &r.days {
            prop_assert!(week.contains(day.date));
            if !day.enrolled {
                prop_assert_eq!((day.clinical_minutes, day.scheduled_clinical_minutes), (0, 0));
            }
            prop_assert_eq!(day.h0015, day.clinical_minutes >= 180);
        }
        prop_assert_eq!(r.h0015.days as usize, r.days.iter().filter(|d| d.h0015).count());
        prop_assert!(r.required_minutes <= minimum);
        prop_assert!(r.program_days <= 5);

        // Status and shortfalls agree.
        match r.status {
            Status::Met => prop_assert!(r.shortfalls.is_empty() && r.forecast_shortfalls.is_empty()),
            Status::OnTrack => prop_assert!(!r.shortfalls.is_empty() && r.forecast_shortfalls.is_empty()),
            Status::AtRisk => prop_assert!(!r.forecast_shortfalls.is_empty()),
            Status::NotEnrolled => prop_assert!(r.program_days == 0 && r.shortfalls.is_empty()),
        }
        if r.status != Status::NotEnrolled {
            prop_assert_eq!(r.hours_met, r.clinical_minutes >= r.required_minutes);
            prop_assert_eq!(r.hours_met, !r.shortfalls.iter().any(|s| matches!(s, Shortfall::Hours { .. })));
        }
        if r.closed {
            prop_assert!(r.status != Status::OnTrack);
            prop_assert_eq!(r.scheduled_clinical_minutes, 0);
        }
        if r.program_days == 5 {
            prop_assert_eq!(r.required_minutes, minimum);
        }
    }
}
