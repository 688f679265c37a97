//! Property tests of the episode state machine: whatever sequence of decisions is attempted,
//! an episode never has two open placements, a gap, an overlap or dates going backwards, and
//! a refused decision changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use domain::episode::Destination;
use domain::episode::{DischargeReason, Episode, Transition};
use domain::ids::{BedId, ClientId, EpisodeId, PlacementId, SiteId};
use domain::level::Catalogue;
use proptest::prelude::*;
use time::{Date, Duration, macros::date};
use uuid::Uuid;

const START: Date = date!(2026 - 01 - 01);
const TODAY: Date = date!(2026 - 12 - 31);

#[derive(Debug, Clone)]
enum Op {
    Extend(i64),
    StepDown(i64, usize, u8),
    StepUp(i64, usize, u8),
    Transfer(i64, u8),
    Discharge(i64, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (-10i64..60).prop_map(Op::Extend),
        (-5i64..40, 0usize..11, 0u8..4).prop_map(|(d, l, b)| Op::StepDown(d, l, b)),
        (-5i64..40, 0usize..11, 0u8..4).prop_map(|(d, l, b)| Op::StepUp(d, l, b)),
        (-5i64..40, 0u8..4).prop_map(|(d, b)| Op::Transfer(d, b)),
        (-5i64..40, 0usize..7).prop_map(|(d, r)| Op::Discharge(d, r)),
    ]
}

fn destination(cat: &Catalogue, level: usize, b: u8) -> Destination {
    let level = &cat.levels[level % cat.levels.len()];
    Destination {
        id: PlacementId::from_uuid(Uuid::now_v7()),
        level: level.code.clone(),
        site: SiteId::from_uuid(Uuid::from_u128(u128::from(b % 2))),
        // Usually the right bed-ness for the level, sometimes not, to exercise the refusals.
        bed: match (level.setting.needs_bed(), b) {
            (_, 3) => Some(BedId::from_uuid(Uuid::from_u128(77))),
            (true, _) => Some(BedId::from_uuid(Uuid::from_u128(u128::from(b)))),
            (false, _) => None,
        },
        planned_end: None,
    }
}

proptest! {
    #[test]
    fn invariants_hold_under_any_sequence_of_decisions(ops in proptest::collection::vec(op(), 1..40)) {
        let cat = Catalogue::builtin("asam-3").unwrap();
        let first = Destination { bed: Some(BedId::from_uuid(Uuid::from_u128(1))), ..destination(&cat, 7, 1) };
        let mut e = Episode::admit(
            EpisodeId::from_uuid(Uuid::from_u128(1)), ClientId::from_uuid(Uuid::from_u128(2)), START, first, None, &cat, TODAY,
        ).unwrap();
        for op in ops {
            let base = e.current().map(|p| p.start).unwrap_or(START);
            let t = match op {
                Op::Extend(d) => {
                    let from = e.current().and_then(|p| p.planned_end).unwrap_or(base);
                    Transition::Extend { new_planned_end: from + Duration::days(d) }
                }
                Op::StepDown(d, l, b) => Transition::StepDown { on: base + Duration::days(d), to: destination(&cat, l, b) },
                Op::StepUp(d, l, b) => Transition::StepUp { on: base + Duration::days(d), to: destination(&cat, l, b) },
                Op::Transfer(d, b) => {
                    let level = e.current().map(|p| p.level.clone()).unwrap_or_else(|| cat.levels[0].code.clone());
                    let idx = cat.levels.iter().position(|l| l.code == level).unwrap_or(0);
                    Transition::Transfer { on: base + Duration::days(d), to: destination(&cat, idx, b) }
                }
                Op::Discharge(d, r) => Transition::Discharge { on: base + Duration::days(d), reason: DischargeReason::ALL[r] },
            };
            let before = e.clone();
            match e.apply(t, &cat, TODAY) {
                Ok(()) => {}
                Err(_) => prop_assert_eq!(&e, &before, "a refused decision changed the episode"),
            }
            prop_assert_eq!(e.check_invariants(), Ok(()));
            if !e.is_open() {
                prop_assert!(e.current().is_none(), "closed episode with an open placement");
            }
            let starts: Vec<Date> = e.placements.iter().map(|p| p.start).collect();
            prop_assert!(starts.windows(2).all(|w| w[0] < w[1]), "dates are monotonic");
        }
    }
}
