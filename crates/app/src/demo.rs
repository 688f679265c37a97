//! The demo center: a fictional treatment center with staff of every role, two sites, about
//! sixty clients with six months of history across the continuum, and inquiries in every stage
//! of the pipeline, so every screen has something real to show. Everything is created through
//! the same use cases as real work (so it is validated and audited the same way), in date
//! order, and is deterministic from a seed.
//!
//! It goes only into a database that holds nothing it did not make: its nine accounts share a
//! published password, and `demo.admin` / `demo.privacy` set up two-step verification for
//! whoever signs in first, so beside real accounts they would be a way in. Before it makes
//! anything it checks, in one write transaction, that there is no account, site, client or
//! inquiry, and marks the database as the demo's (`demo_started`); a run that stopped half-way
//! is then refused rather than mistaken for real data or finished on top of it.

use std::collections::BTreeSet;

use domain::access::{Actor, Purpose};
use domain::client::TeamRole;
use domain::episode::Episode;
use domain::ids::{BedId, ClientId, IopSessionId, SiteId, TrackId, UserId};
use domain::role::Role;
use time::{Date, Duration};

use crate::aftercare::{OutcomeForm, PlanForm};
use crate::clients::NewClientForm;
use crate::continuum::{AdmitForm, DecisionForm};
use crate::error::AppError;
use crate::inquiries::InquiryForm;
use crate::ports::RealRecords;
use crate::service::{App, Ctx};
use crate::users::NewUserForm;
use domain::forms::{FormDefinition, RawAnswer};
use domain::instruments::Instrument;

/// Every demo account signs in with this password (the administrator and privacy officer are
/// then asked to set up two-step verification, as the policy requires of their roles).
pub const DEMO_PASSWORD: &str = "harbor lantern demo";

/// (user name, full name, role)
pub const ACCOUNTS: [(&str, &str, Role); 9] = [
    ("demo.admin", "Avery Admin", Role::Admin),
    ("demo.privacy", "Priya Shah", Role::PrivacyOfficer),
    ("demo.supervisor", "Dr. Sam Okafor", Role::Supervisor),
    ("demo.counselor", "Jordan Lee", Role::Counselor),
    ("demo.counselor2", "Morgan Diaz", Role::Counselor),
    ("demo.coordinator", "Casey Nguyen", Role::ProgramCoordinator),
    ("demo.admissions", "Riley Brooks", Role::Admissions),
    ("demo.biller", "Taylor Kim", Role::Biller),
    ("demo.intake", "Alex Romero", Role::Admissions),
];

const SEEDED: &str = "demo_seeded";
const STARTED: &str = "demo_started";

/// Why the demo center was not seeded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "the demo center only goes into an empty database, and this one holds {} not made by the demo; \
         use a new data directory (or database) for the demo",
        describe(.0)
    )]
    NotEmpty(RealRecords),
    #[error("an earlier demo run did not finish; start again with a new data directory (or database)")]
    Unfinished,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<crate::ports::StoreError> for DemoError {
    fn from(e: crate::ports::StoreError) -> Self {
        DemoError::App(e.into())
    }
}

/// "1 user account and 2 clients".
fn describe(found: &RealRecords) -> String {
    let parts: Vec<String> = [
        (found.users, "user account", "user accounts"),
        (found.sites, "site", "sites"),
        (found.clients, "client", "clients"),
        (found.inquiries, "inquiry", "inquiries"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
    .collect();
    match parts.as_slice() {
        [] => "nothing".into(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[derive(Clone, Debug)]
pub struct DemoSummary {
    /// False when the database already held the demo center.
    pub created: bool,
    pub clients: usize,
    pub inquiries: usize,
}

/// SplitMix64: small, fast, and the same sequence on every platform and version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::try_from(self.below(u64::try_from(hi - lo + 1).unwrap_or(1))).unwrap_or(0)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[usize::try_from(self.below(items.len() as u64)).unwrap_or(0) % items.len().max(1)]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const GIVEN: [&str; 40] = [
    "Ana",
    "Ben",
    "Carla",
    "Darnell",
    "Elena",
    "Farid",
    "Grace",
    "Hector",
    "Imani",
    "Jamal",
    "Keisha",
    "Liam",
    "Marisol",
    "Nathan",
    "Olivia",
    "Pedro",
    "Quinn",
    "Rosa",
    "Samuel",
    "Tanya",
    "Umar",
    "Valeria",
    "Wesley",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Brandon",
    "Chloe",
    "Derek",
    "Erin",
    "Felipe",
    "Gabrielle",
    "Isaac",
    "Jasmine",
    "Kevin",
    "Lucía",
    "Marcus",
    "Nadia",
    "Owen",
    "Paige",
];
const FAMILY: [&str; 40] = [
    "Alvarez",
    "Baker",
    "Castillo",
    "Dawson",
    "Estrada",
    "Fischer",
    "Gomez",
    "Harris",
    "Ibarra",
    "Jackson",
    "Kowalski",
    "Lopez",
    "Mitchell",
    "Nguyen",
    "O'Connor",
    "Patel",
    "Quintero",
    "Robinson",
    "Sanders",
    "Thompson",
    "Underwood",
    "Vasquez",
    "Washington",
    "Young",
    "Zimmerman",
    "Brooks",
    "Carter",
    "Delgado",
    "Ellis",
    "Foster",
    "García",
    "Hughes",
    "Jenkins",
    "Kim",
    "Lambert",
    "Moreno",
    "Nelson",
    "Ortiz",
    "Price",
    "Reyes",
];
const PRONOUNS: [&str; 3] = ["she/her", "he/him", "they/them"];
const PAYERS: [&str; 4] = ["Blue Plains Health", "Prairie Medicaid", "Lakeshore Mutual", "Heartland Care"];
const SUBSTANCES: [&str; 6] =
    ["alcohol", "opioids", "methamphetamine", "alcohol, benzodiazepines", "cocaine", "cannabis, alcohol"];

/// One step of a client's planned history.
#[derive(Clone, Debug)]
enum Step {
    Admit { level: &'static str, bed: Option<BedKind>, planned: i64 },
    Move { kind: &'static str, level: &'static str, bed: Option<BedKind>, planned: i64, reason: &'static str },
    Extend { days: i64 },
    Discharge { reason: &'static str, why: &'static str },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BedKind {
    Detox,
    Residential,
}

/// The stays a center sees, as (days after the previous step, step).
fn pathway(rng: &mut Rng) -> Vec<(i64, Step)> {
    use Step::*;
    let residential = Some(BedKind::Residential);
    match rng.below(100) {
        0..=24 => vec![
            (0, Admit { level: "3.7-WM", bed: Some(BedKind::Detox), planned: 5 }),
            (
                rng.range(3, 5),
                Move {
                    kind: "step_down",
                    level: "3.5",
                    bed: residential,
                    planned: 30,
                    reason: "Withdrawal resolved; CIWA-Ar below 8 for 48 hours",
                },
            ),
            (
                rng.range(24, 34),
                Move {
                    kind: "step_down",
                    level: "2.1",
                    bed: None,
                    planned: 42,
                    reason: "Stable, engaged; readiness review supports IOP",
                },
            ),
            (rng.range(30, 42), Discharge { reason: "completed", why: "Completed IOP; aftercare in place" }),
        ],
        25..=59 => {
            let mut v = vec![(0, Admit { level: "3.5", bed: residential, planned: 30 })];
            if rng.chance(35) {
                v.push((28, Extend { days: 14 }));
                v.push((
                    rng.range(8, 14),
                    Move {
                        kind: "step_down",
                        level: "2.1",
                        bed: None,
                        planned: 42,
                        reason: "Cravings now manageable; ready for IOP",
                    },
                ));
            } else {
                v.push((
                    rng.range(26, 32),
                    Move { kind: "step_down", level: "2.1", bed: None, planned: 42, reason: "Met residential goals" },
                ));
            }
            v.push((
                rng.range(28, 42),
                Move {
                    kind: "step_down",
                    level: "1",
                    bed: None,
                    planned: 60,
                    reason: "Working again; stepping down to weekly outpatient",
                },
            ));
            v.push((rng.range(30, 60), Discharge { reason: "completed", why: "Treatment goals met" }));
            v
        }
        60..=69 => vec![
            (0, Admit { level: "3.5", bed: residential, planned: 30 }),
            (rng.range(4, 15), Discharge { reason: "left_against_advice", why: "Left the residence against advice" }),
        ],
        70..=89 => vec![
            (0, Admit { level: "2.1", bed: None, planned: 42 }),
            (
                rng.range(35, 45),
                Move {
                    kind: "step_down",
                    level: "1",
                    bed: None,
                    planned: 60,
                    reason: "Consistent attendance, negative screens",
                },
            ),
            (rng.range(30, 60), Discharge { reason: "completed", why: "Completed outpatient" }),
        ],
        _ => vec![
            (0, Admit { level: "2.1", bed: None, planned: 42 }),
            (
                rng.range(10, 20),
                Move {
                    kind: "step_up",
                    level: "3.5",
                    bed: residential,
                    planned: 21,
                    reason: "Relapse; unsafe living environment",
                },
            ),
            (
                rng.range(18, 24),
                Move {
                    kind: "step_down",
                    level: "2.1",
                    bed: None,
                    planned: 42,
                    reason: "Stabilized; sober living arranged",
                },
            ),
            (rng.range(30, 42), Discharge { reason: "completed", why: "Completed IOP after step-up" }),
        ],
    }
}

struct Beds {
    detox: Vec<(BedId, Date)>,
    residential: Vec<(BedId, Date)>,
}

impl Beds {
    /// A bed of `kind` free from `on`, marked taken until released.
    fn take(&mut self, kind: BedKind, on: Date) -> Option<BedId> {
        let list = match kind {
            BedKind::Detox => &mut self.detox,
            BedKind::Residential => &mut self.residential,
        };
        let slot = list.iter_mut().find(|(_, free_from)| *free_from <= on)?;
        slot.1 = Date::MAX;
        Some(slot.0)
    }
    fn release(&mut self, bed: BedId, on: Date) {
        for (b, free_from) in self.detox.iter_mut().chain(self.residential.iter_mut()) {
            if *b == bed {
                *free_from = on;
            }
        }
    }
}

fn ctx(user: UserId, role: Role) -> Ctx {
    Ctx {
        actor: Actor {
            user_id: user,
            role,
            session_id: None,
            care_team: BTreeSet::new(),
            purpose: Purpose::default_for(role),
        },
        source: Some("demo".into()),
    }
}

fn fail(what: &'static str) -> impl FnOnce(AppError) -> AppError {
    move |e| {
        tracing::error!(error = %e, step = what, "demo seeding failed");
        AppError::Internal(what)
    }
}

impl App {
    /// Seeds the demo center unless it is already there. Refuses a database that holds
    /// anything the demo did not make, saying what it found.
    pub async fn seed_demo(&self, seed: u64) -> Result<DemoSummary, DemoError> {
        let mut tx = self.begin().await?;
        if tx.setting(SEEDED).await?.is_some() {
            return Ok(DemoSummary { created: false, clients: 0, inquiries: 0 });
        }
        if tx.setting(STARTED).await?.is_some() {
            return Err(DemoError::Unfinished);
        }
        let found = tx.count_real_records().await?;
        if !found.is_empty() {
            return Err(DemoError::NotEmpty(found));
        }
        tx.set_setting(STARTED, &seed.to_string()).await?;
        tx.commit().await?;
        Ok(self.build_demo(seed).await?)
    }

    async fn build_demo(&self, seed: u64) -> Result<DemoSummary, AppError> {
        let mut rng = Rng(seed);
        // Both demo sites are in Chicago: their calendar decides what "today" is.
        let today = self.today_in("America/Chicago");

        let mut users = Vec::new();
        for (username, name, role) in ACCOUNTS {
            let form = NewUserForm {
                username: username.into(),
                display_name: name.into(),
                role: role.code().into(),
                password: Some(DEMO_PASSWORD.into()),
            };
            let created = self.create_user_from_console(&form).await.map_err(fail("demo accounts"))?;
            users.push((created.user.id, role));
        }
        let by_role = |role: Role| users.iter().find(|(_, r)| *r == role).map(|(id, r)| ctx(*id, *r));
        let (Some(admin), Some(sup), Some(admissions)) =
            (by_role(Role::Admin), by_role(Role::Supervisor), by_role(Role::Admissions))
        else {
            return Err(AppError::Internal("demo accounts missing"));
        };
        let counselors: Vec<UserId> = users.iter().filter(|(_, r)| *r == Role::Counselor).map(|(id, _)| *id).collect();

        // Sites, rooms and beds.
        let lakeside =
            self.create_site(&admin, "Lakeside Residential", "America/Chicago").await.map_err(fail("site"))?;
        let riverside =
            self.create_site(&admin, "Riverside Outpatient", "America/Chicago").await.map_err(fail("site"))?;
        let mut beds = Beds { detox: Vec::new(), residential: Vec::new() };
        for (room, capacity, kind) in [
            ("Detox", 4, BedKind::Detox),
            ("Cedar", 4, BedKind::Residential),
            ("Birch", 4, BedKind::Residential),
            ("Maple", 4, BedKind::Residential),
            ("Willow", 2, BedKind::Residential),
        ] {
            let room_id =
                self.add_room(&admin, lakeside.id, room, &capacity.to_string()).await.map_err(fail("room"))?;
            for label in ["A", "B", "C", "D"].iter().take(capacity) {
                let bed = self.add_bed(&admin, room_id, label).await.map_err(fail("bed"))?;
                match kind {
                    BedKind::Detox => beds.detox.push((bed, Date::MIN)),
                    BedKind::Residential => beds.residential.push((bed, Date::MIN)),
                }
            }
        }
        self.add_room(&admin, riverside.id, "Group room 1", "1").await.map_err(fail("room"))?;

        // Clients and their planned histories.
        struct Plan {
            client: ClientId,
            steps: Vec<(Date, usize, Step)>,
        }
        let mut plans = Vec::new();
        for i in 0..60 {
            let given = *rng.pick(&GIVEN);
            let family = *rng.pick(&FAMILY);
            let age = rng.range(19, 64);
            let dob = today - Duration::days(age * 365 + rng.range(0, 364));
            let form = NewClientForm {
                given_name: given.into(),
                family_name: family.into(),
                date_of_birth: dob.to_string(),
                preferred_name: if rng.chance(15) { given.chars().take(3).collect() } else { String::new() },
                pronouns: if rng.chance(60) { (*rng.pick(&PRONOUNS)).into() } else { String::new() },
                sex: (*rng.pick(&["female", "male", "female", "male", "other"])).into(),
                phone: format!("555-01{:02}-{:04}", rng.below(100), rng.below(10_000)),
                email: String::new(),
                address: String::new(),
                mrn: String::new(),
            };
            let record = self.create_client_record(&sup, &form, true).await.map_err(fail("client"))?;
            let counselor = counselors[i % counselors.len().max(1)];
            self.add_care_team_member(&sup, record.client.id, counselor, TeamRole::PrimaryCounselor.code())
                .await
                .map_err(fail("care team"))?;
            if rng.chance(70) {
                self.add_coverage(
                    &sup,
                    record.client.id,
                    &crate::clients::CoverageForm {
                        payer: (*rng.pick(&PAYERS)).into(),
                        member_id: format!("M{:08}", rng.below(100_000_000)),
                        group_number: String::new(),
                        priority: "primary".into(),
                    },
                )
                .await
                .map_err(fail("coverage"))?;
            }
            // Half the stays began in the last two months, so the census is busy today.
            let back = if rng.chance(50) { rng.range(1, 60) } else { rng.range(61, 180) };
            let mut date = today - Duration::days(back);
            let mut steps = Vec::new();
            for (order, (gap, step)) in pathway(&mut rng).into_iter().enumerate() {
                date += Duration::days(gap);
                if date > today {
                    break;
                }
                steps.push((date, order, step));
            }
            plans.push(Plan { client: record.client.id, steps });
        }

        // Carry the histories out in date order, so beds are taken and freed as they were.
        let mut schedule: Vec<(Date, usize, usize, Step)> = Vec::new();
        for (p, plan) in plans.iter().enumerate() {
            for (date, order, step) in &plan.steps {
                schedule.push((*date, *order, p, step.clone()));
            }
        }
        // Same day: leaving before arriving, so a freed bed can be taken that day.
        schedule.sort_by_key(|(d, order, p, s)| (*d, matches!(s, Step::Admit { .. }), *p, *order));
        let mut episodes: Vec<Option<Episode>> = vec![None; plans.len()];
        let mut held: Vec<Option<BedId>> = vec![None; plans.len()];
        for (date, _, p, step) in schedule {
            let client = plans[p].client;
            match step {
                Step::Admit { level, bed, planned } => {
                    let (level, bed_id) = match bed.map(|k| beds.take(k, date)) {
                        Some(Some(b)) => (level, Some(b)),
                        // No bed free that day: a day program instead, as centers do.
                        Some(None) => ("2.5", None),
                        None => (level, None),
                    };
                    let form = AdmitForm {
                        on: date.to_string(),
                        level: level.into(),
                        site: site_of(bed_id, lakeside.id, riverside.id).to_string(),
                        bed: bed_id.map(|b| b.to_string()).unwrap_or_default(),
                        planned_end: (date + Duration::days(planned)).to_string(),
                        reason: "Admitted after pre-admission screen and assessment".into(),
                    };
                    let e = self.admit(&sup, client, &form).await.map_err(fail("admission"))?;
                    held[p] = bed_id;
                    episodes[p] = Some(e);
                }
                Step::Extend { days } => {
                    let Some(e) = episodes[p].as_ref().filter(|e| e.is_open()) else { continue };
                    let Some(end) = e.current().and_then(|c| c.planned_end) else { continue };
                    let form = DecisionForm {
                        kind: "extend".into(),
                        planned_end: (end + Duration::days(days)).to_string(),
                        reason: "Cravings and family conflict; needs two more weeks".into(),
                        ..Default::default()
                    };
                    episodes[p] = Some(self.decide(&sup, client, e.id, &form).await.map_err(fail("extension"))?);
                }
                Step::Move { kind, level, bed, planned, reason } => {
                    let Some(e) = episodes[p].as_ref().filter(|e| e.is_open()) else { continue };
                    if e.current().is_some_and(|c| c.start >= date) {
                        continue;
                    }
                    if let Some(b) = held[p].take() {
                        beds.release(b, date);
                    }
                    let (level, bed_id) = match bed.map(|k| beds.take(k, date)) {
                        Some(Some(b)) => (level, Some(b)),
                        Some(None) => ("2.5", None),
                        None => (level, None),
                    };
                    let current_rank =
                        e.current().and_then(|c| self.catalogue.get(&c.level)).map(|l| l.rank).unwrap_or(0);
                    let rank = self.catalogue.level(level).map(|l| l.rank).unwrap_or(0);
                    let kind = if rank < current_rank {
                        "step_down"
                    } else if rank > current_rank {
                        "step_up"
                    } else {
                        kind
                    };
                    if rank == current_rank {
                        continue;
                    }
                    let form = DecisionForm {
                        kind: kind.into(),
                        on: date.to_string(),
                        level: level.into(),
                        site: site_of(bed_id, lakeside.id, riverside.id).to_string(),
                        bed: bed_id.map(|b| b.to_string()).unwrap_or_default(),
                        planned_end: (date + Duration::days(planned)).to_string(),
                        reason: reason.into(),
                        ..Default::default()
                    };
                    episodes[p] = Some(self.decide(&sup, client, e.id, &form).await.map_err(fail("transition"))?);
                    held[p] = bed_id;
                }
                Step::Discharge { reason, why } => {
                    let Some(e) = episodes[p].as_ref().filter(|e| e.is_open()) else { continue };
                    if let Some(b) = held[p].take() {
                        beds.release(b, date);
                    }
                    let form = DecisionForm {
                        kind: "discharge".into(),
                        on: date.to_string(),
                        discharge_reason: reason.into(),
                        reason: why.into(),
                        ..Default::default()
                    };
                    let e = self.decide(&sup, client, e.id, &form).await.map_err(fail("discharge"))?;
                    let plan = PlanForm {
                        referrals: "Outpatient therapy with Dr. Ellis, weekly".into(),
                        sober_living: if rng.chance(40) { "Oak Street sober living".into() } else { String::new() },
                        meetings: "AA Tuesday and Thursday 7pm; SMART Recovery Saturday".into(),
                        medication: if rng.chance(40) {
                            "Buprenorphine via Dr. Patel; next refill booked".into()
                        } else {
                            String::new()
                        },
                        appointments: "Primary care follow-up within 2 weeks".into(),
                    };
                    self.save_aftercare_plan(&sup, client, e.id, &plan).await.map_err(fail("aftercare"))?;
                    episodes[p] = Some(e);
                }
            }
        }

        // Answer most follow-ups that have come due.
        let due = self.follow_ups_due(&sup).await.map_err(fail("follow-ups"))?;
        for (f, _) in due {
            if !rng.chance(70) {
                continue;
            }
            let reached = rng.chance(75);
            let form = OutcomeForm {
                reached: if reached { "yes" } else { "no" }.into(),
                substance_use: if reached {
                    (*rng.pick(&["abstinent", "abstinent", "abstinent", "using", "unknown"])).into()
                } else {
                    String::new()
                },
                working_or_in_school: if reached { (*rng.pick(&["yes", "yes", "no"])).into() } else { String::new() },
                readmitted_elsewhere: if reached {
                    (*rng.pick(&["no", "no", "no", "yes"])).into()
                } else {
                    String::new()
                },
                notes: String::new(),
            };
            self.record_follow_up(&sup, f.id, &form).await.map_err(fail("follow-up outcome"))?;
        }

        // Inquiries in every stage.
        let stages: [&[&str]; 7] = [
            &[],
            &["screening"],
            &["screening", "admission_scheduled"],
            &["screening", "waitlist"],
            &["screening", "referred_out"],
            &["lost"],
            &["screening", "admission_scheduled"],
        ];
        let mut inquiries = 0;
        for (n, path) in stages.iter().cycle().take(18).enumerate() {
            let given = *rng.pick(&GIVEN);
            let family = *rng.pick(&FAMILY);
            let dob = today - Duration::days(rng.range(19, 60) * 365);
            let form = InquiryForm {
                caller_name: if n % 3 == 0 {
                    format!("{given} {family}")
                } else {
                    format!("{} {family}", rng.pick(&GIVEN))
                },
                caller_relationship: (*rng.pick(&["self", "parent", "spouse or partner", "friend", "professional"]))
                    .into(),
                given_name: given.into(),
                family_name: family.into(),
                date_of_birth: dob.to_string(),
                phone: format!("555-02{:02}-{:04}", rng.below(100), rng.below(10_000)),
                substances: (*rng.pick(&SUBSTANCES)).into(),
                urgency: (*rng.pick(&["routine", "soon", "soon", "urgent", "crisis"])).into(),
                insurance: (*rng.pick(&PAYERS)).into(),
                withdrawal_risk: rng.chance(30),
                self_harm_thoughts: rng.chance(8),
                medical_conditions: rng.chance(20),
                prior_treatment: rng.chance(50),
                heard_about: (*rng.pick(&[
                    "Search engine",
                    "Primary care referral",
                    "Court referral",
                    "Family",
                    "Alumni",
                ]))
                .into(),
                notes: String::new(),
            };
            let inquiry = self.log_inquiry(&admissions, &form, true).await.map_err(fail("inquiry"))?;
            for stage in path.iter() {
                self.move_inquiry(&admissions, inquiry.id, stage, "").await.map_err(fail("inquiry stage"))?;
            }
            // The last column of the board: converted into clients, admitted to IOP today.
            if n % 7 == 6 {
                let client = NewClientForm {
                    given_name: given.into(),
                    family_name: family.into(),
                    date_of_birth: dob.to_string(),
                    phone: form.phone.clone(),
                    ..Default::default()
                };
                let record = self.create_client_record(&sup, &client, true).await.map_err(fail("inquiry client"))?;
                let admit = AdmitForm {
                    on: today.to_string(),
                    level: "2.1".into(),
                    site: riverside.id.to_string(),
                    planned_end: (today + Duration::days(42)).to_string(),
                    reason: "Admitted from the helpline".into(),
                    ..Default::default()
                };
                self.convert_inquiry(&admissions, inquiry.id, &admit, Some(record.client.id))
                    .await
                    .map_err(fail("conversion"))?;
            }
            inquiries += 1;
        }

        self.seed_measures(&sup, &mut rng, today).await?;
        let coordinator = by_role(Role::ProgramCoordinator).ok_or(AppError::Internal("demo accounts missing"))?;
        let program = self.seed_program(&admin, &sup, &coordinator, riverside.id, &counselors, &mut rng, today).await?;
        self.seed_attendance(&admin, &coordinator, &program, &mut rng, today).await?;

        let mut tx = self.begin().await?;
        tx.set_setting(SEEDED, &seed.to_string()).await?;
        tx.commit().await?;
        Ok(DemoSummary { created: true, clients: plans.len() + 2, inquiries })
    }
}

/// Answers to `instrument` that add up to `total`, spread over its scored items; PHQ-9 item 9
/// stays 0 unless `item9` (safety answers are placed on purpose, never by chance).
fn answers_reaching(
    instrument: Instrument,
    total: i64,
    item9: i64,
    rng: &mut Rng,
) -> std::collections::BTreeMap<String, RawAnswer> {
    let items: Vec<&domain::instruments::Item> = domain::instruments::items(instrument)
        .iter()
        .filter(|i| i.scored && !(instrument == Instrument::Phq9 && i.id == "9"))
        .collect();
    let mut values: Vec<i64> = vec![0; items.len()];
    let mut left = (total - item9).max(0);
    let mut guard = 0;
    while left > 0 && guard < 10_000 {
        guard += 1;
        let n = usize::try_from(rng.below(items.len() as u64)).unwrap_or(0);
        let next = items[n].values.iter().copied().find(|v| *v > values[n]);
        if let Some(v) = next
            && v - values[n] <= left
        {
            left -= v - values[n];
            values[n] = v;
        }
    }
    let mut out: std::collections::BTreeMap<String, RawAnswer> =
        items.iter().zip(values).map(|(i, v)| (i.id.to_owned(), RawAnswer::Number(v))).collect();
    if instrument == Instrument::Phq9 {
        out.insert("9".into(), RawAnswer::Number(item9));
    }
    out
}

fn numbers(pairs: &[(&str, i64)]) -> std::collections::BTreeMap<String, RawAnswer> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), RawAnswer::Number(*v))).collect()
}

impl App {
    /// Measurement history for everyone in care today: PHQ-9 and GAD-7 every two weeks from
    /// admission (most improving, some not), check-ins, self-assessments, a withdrawal series
    /// in detox, two safety alerts (one still open) and readiness reviews, one disagreeing.
    async fn seed_measures(&self, sup: &Ctx, rng: &mut Rng, today: Date) -> Result<(), AppError> {
        let census = self.census(sup).await.map_err(fail("census"))?;
        let rows: Vec<crate::ports::CensusRow> =
            census.sites.iter().flat_map(|s| s.groups.iter().flat_map(|g| g.clients.clone())).collect();
        let noon = |d: Date, hour: u8| {
            d.with_hms(hour, 0, 0).map(|t| t.assume_utc()).unwrap_or_else(|_| d.midnight().assume_utc())
        };
        let now = self.now();
        let mut detox_done = false;
        for (n, row) in rows.iter().enumerate() {
            let client = row.client.id;
            let improving = rng.chance(75);
            let mut phq = rng.range(11, 22);
            let mut gad = rng.range(8, 18);
            let mut day = row.admitted_on;
            while day <= today {
                let at = noon(day, 15).min(now);
                for (i, total) in [(Instrument::Phq9, phq), (Instrument::Gad7, gad)] {
                    let answers = answers_reaching(i, total, 0, rng);
                    self.record_response(sup, client, &FormDefinition::builtin(i).url, None, &answers, Some(at))
                        .await
                        .map_err(fail("demo response"))?;
                }
                let step = if improving { -rng.range(1, 4) } else { rng.range(-1, 3) };
                phq = (phq + step).clamp(1, 26);
                gad = (gad + step).clamp(1, 20);
                day += Duration::days(14);
            }
            // Daily check-ins for the last week, and two weekly self-assessments.
            for back in (0..7).rev() {
                let d = today - Duration::days(back);
                if d < row.placement.start {
                    continue;
                }
                let craving = if improving { rng.range(1, 5) } else { rng.range(4, 9) };
                let answers = numbers(&[
                    ("mood", 10 - craving.min(9)),
                    ("craving", craving),
                    ("triggers", i64::from(rng.chance(40))),
                    ("sleep", rng.range(1, 4)),
                    ("used", 0),
                    ("self_harm", 0),
                ]);
                let url = FormDefinition::builtin(Instrument::CheckIn).url;
                self.record_response(sup, client, &url, None, &answers, Some(noon(d, 14).min(now)))
                    .await
                    .map_err(fail("demo check-in"))?;
            }
            for back in [8, 1] {
                let d = today - Duration::days(back);
                if d < row.placement.start {
                    continue;
                }
                let base = if improving { 3 } else { 1 };
                let answers = numbers(&[
                    ("confidence", (base + rng.range(0, 1)).min(4)),
                    ("triggers_known", (base + rng.range(0, 1)).min(4)),
                    ("supports", (base + rng.range(-1, 1)).clamp(0, 4)),
                    ("ready_home", (base - 1 + rng.range(0, 1)).clamp(0, 4)),
                ]);
                let url = FormDefinition::builtin(Instrument::SelfAssessment).url;
                self.record_response(sup, client, &url, None, &answers, Some(noon(d, 16).min(now)))
                    .await
                    .map_err(fail("demo self-assessment"))?;
            }
            // One alcohol withdrawal series in detox, every four hours since this morning.
            if !detox_done && row.placement.level.as_str().ends_with("-WM") {
                detox_done = true;
                for (k, score) in [16i64, 13, 11, 8].into_iter().enumerate() {
                    let at = now - Duration::hours(4 * (4 - k as i64));
                    if at.date() < row.placement.start {
                        continue;
                    }
                    let answers = answers_reaching(Instrument::CiwaAr, score, 0, rng);
                    let url = FormDefinition::builtin(Instrument::CiwaAr).url;
                    self.record_response(sup, client, &url, None, &answers, Some(at))
                        .await
                        .map_err(fail("demo CIWA-Ar"))?;
                }
            }
            // Safety: one open PHQ-9 item 9 alert, one check-in alert answered with a safety plan.
            if n == 3 {
                let answers = answers_reaching(Instrument::Phq9, 16, 1, rng);
                let url = FormDefinition::builtin(Instrument::Phq9).url;
                self.record_response(sup, client, &url, None, &answers, None).await.map_err(fail("demo alert"))?;
            }
            if n == 5 {
                let answers = numbers(&[
                    ("mood", 2),
                    ("craving", 8),
                    ("triggers", 1),
                    ("sleep", 1),
                    ("used", 0),
                    ("self_harm", 1),
                ]);
                let url = FormDefinition::builtin(Instrument::CheckIn).url;
                let r = self
                    .record_response(sup, client, &url, None, &answers, None)
                    .await
                    .map_err(fail("demo check-in alert"))?;
                for a in r.alerts {
                    self.acknowledge_alert(
                        sup,
                        a.id,
                        "safety_plan",
                        "Met with the client the same hour; safety plan written together and shared with the night staff.",
                    )
                    .await
                    .map_err(fail("demo acknowledgement"))?;
                }
            }
            // Reviews for half of those whose first review has come due; the rest show as due.
            let cadence = self.catalogue.get(&row.placement.level).map(|l| l.review_days).unwrap_or(0);
            if cadence > 0 && row.placement.start + Duration::days(i64::from(cadence)) <= today && n % 2 == 0 {
                let residential = row.placement.level.as_str().starts_with('3');
                let ratings: [&str; 6] =
                    if residential { ["0", "0", "1", "2", "2", "2"] } else { ["0", "0", "1", "1", "1", "1"] };
                let rec =
                    self.recommend(ratings.map(|r| r.parse().unwrap_or(0))).map_err(fail("demo recommendation"))?;
                let agree = rec.level == row.placement.level;
                let form = crate::reviews::ReviewForm {
                    ratings: ratings.map(str::to_owned),
                    rationales: [
                        "No withdrawal signs",
                        "Stable; medications reconciled",
                        "Mood improving; PHQ-9 trending down",
                        "Engaged in groups, names own goals",
                        "Cravings lower; knows triggers",
                        "Family supportive; sober housing arranged",
                    ]
                    .map(str::to_owned),
                    drug_screen: "negative".into(),
                    decision: "continue".into(),
                    disagreement_reason: if agree {
                        String::new()
                    } else {
                        "Finishing this level's family sessions before stepping down".into()
                    },
                    note: "Reviewed with the client and the team.".into(),
                    ..Default::default()
                };
                self.record_review(sup, client, row.episode, &form).await.map_err(fail("demo review"))?;
            }
        }
        Ok(())
    }
}

impl App {
    /// The IOP program at Riverside: a day track (Monday to Friday 9:00–12:00) and an evening
    /// track (Monday, Tuesday, Thursday 18:00–21:00) with weekly templates run by the demo
    /// counselors and the coordinator, this week's and next week's sessions, a holiday
    /// closure, one cancelled session, one substitute facilitator, two individual
    /// appointments, and everyone now at a day/evening level enrolled and on the rosters.
    #[allow(clippy::too_many_arguments)] // the demo's cast, handed over from `seed_demo`
    async fn seed_program(
        &self,
        admin: &Ctx,
        sup: &Ctx,
        coordinator: &Ctx,
        riverside: SiteId,
        counselors: &[UserId],
        rng: &mut Rng,
        today: Date,
    ) -> Result<DemoProgram, AppError> {
        use crate::iop::{AppointmentForm, CalendarView, ClosureForm, EnrolForm, SlotForm, TemplateForm, TrackForm};
        use domain::iop::compliance::IsoWeek;

        let (Some(jordan), Some(morgan)) = (counselors.first().copied(), counselors.get(1).copied()) else {
            return Err(AppError::Internal("demo counselors missing"));
        };
        let casey = coordinator.actor.user_id;
        let group_room = self.add_room(admin, riverside, "Group room 2", "12").await.map_err(fail("program room"))?;
        let studio = self.add_room(admin, riverside, "Wellness studio", "16").await.map_err(fail("program room"))?;
        let office = self.add_room(admin, riverside, "Counseling room", "2").await.map_err(fail("program room"))?;
        let opened = today - Duration::days(56);
        let track = |name: &str| TrackForm {
            site: riverside.to_string(),
            name: name.into(),
            active_from: opened.to_string(),
            ..Default::default()
        };
        let day = self.create_track(coordinator, &track("Day track")).await.map_err(fail("track"))?;
        let evening = self.create_track(coordinator, &track("Evening track")).await.map_err(fail("track"))?;
        let day_template = [
            ("monday", "09:00", "10:30", "group", "Process group", jordan, group_room),
            ("monday", "10:30", "12:00", "psychoeducation", "How addiction changes the brain", morgan, group_room),
            ("tuesday", "09:00", "10:30", "life_skills", "Refusal skills", morgan, group_room),
            ("tuesday", "10:30", "12:00", "wellness", "Mindfulness", jordan, studio),
            ("wednesday", "09:00", "10:30", "group", "Process group", jordan, group_room),
            ("wednesday", "10:30", "12:00", "psychoeducation", "Relapse warning signs", morgan, group_room),
            ("thursday", "09:00", "10:30", "life_skills", "Coping with cravings", morgan, group_room),
            ("thursday", "10:30", "12:00", "wellness", "Yoga and breathing", jordan, studio),
            ("friday", "09:00", "10:30", "group", "Weekly review", jordan, group_room),
            ("friday", "10:30", "12:00", "psychoeducation", "Family roles", morgan, group_room),
        ];
        let evening_template = [
            ("monday", "18:00", "19:30", "group", "Relapse prevention", morgan, group_room),
            ("monday", "19:30", "21:00", "psychoeducation", "Stress and sleep", jordan, group_room),
            ("tuesday", "18:00", "19:30", "life_skills", "Planning the week", casey, group_room),
            ("tuesday", "19:30", "21:00", "wellness", "Mindful movement", jordan, studio),
            ("thursday", "18:00", "19:30", "group", "Process group", morgan, group_room),
            ("thursday", "19:30", "21:00", "psychoeducation", "Triggers and high-risk situations", jordan, group_room),
        ];
        for (t, template) in [(&day, &day_template[..]), (&evening, &evening_template[..])] {
            for (weekday, start, end, modality, title, who, room) in template {
                let form = TemplateForm {
                    weekday: (*weekday).into(),
                    start: (*start).into(),
                    end: (*end).into(),
                    modality: (*modality).into(),
                    title: (*title).into(),
                    facilitator: who.to_string(),
                    room: room.to_string(),
                };
                self.add_template(coordinator, t.id, &form).await.map_err(fail("template"))?;
            }
        }
        let this_week = IsoWeek::of(today);
        let next_week = this_week.next().unwrap_or(this_week);
        let holiday = ClosureForm {
            site: riverside.to_string(),
            date: (next_week.monday() + Duration::days(4)).to_string(),
            reason: "Center holiday".into(),
        };
        self.add_closure(coordinator, &holiday).await.map_err(fail("closure"))?;
        for t in [&day, &evening] {
            for week in [this_week, next_week] {
                self.ensure_week(coordinator, t.id, week).await.map_err(fail("generate week"))?;
            }
        }

        // Everyone at a day or evening level joins a track: the sessions still to come this
        // week and next through the enrolment, the earlier ones of this week added here.
        let clients = self.iop_clients(sup).await.map_err(fail("program clients"))?.clients;
        let this_weeks = |id| self.calendar(coordinator, CalendarView::Track(id), Some(this_week.monday()), 7);
        let sessions =
            [(day.id, this_weeks(day.id).await?.entries), (evening.id, this_weeks(evening.id).await?.entries)];
        let mut enrolled = Vec::new();
        let mut members = Vec::new();
        let mut counts = [0_u16, 0];
        for c in &clients {
            // Mostly the day track, but neither track beyond its groups' size while the other has room.
            let limit = domain::iop::program::DEFAULT_GROUP_LIMIT;
            let pick = usize::from(!((rng.chance(60) && counts[0] < limit) || counts[1] >= limit));
            counts[pick] += 1;
            let (track, entries) = &sessions[pick];
            let from = c.since.max(opened);
            let form = EnrolForm { track: track.to_string(), from: from.to_string(), until: String::new() };
            let done = self.enrol(coordinator, c.client.id, &form).await.map_err(fail("enrolment"))?;
            for e in entries.iter().filter(|e| e.session.slot.date >= from && !done.added_to.contains(&e.session.id)) {
                if e.session.cancelled || e.session.modality.is_one_to_one() {
                    continue;
                }
                match self.add_to_roster(coordinator, e.session.id, c.client.id).await {
                    Ok(()) | Err(AppError::Invalid(_)) => {}
                    Err(other) => return Err(fail("roster")(other)),
                }
            }
            enrolled.push(c.client.id);
            members.push(Member { client: c.client.id, track: *track, from });
        }

        // The two counselors run groups on both tracks and most individual sessions: their
        // weekly loads are set above the default; the coordinator facilitates a little.
        for (who, load) in [(jordan, "110"), (morgan, "110"), (casey, "30")] {
            self.set_facilitator_load(coordinator, &who.to_string(), load).await.map_err(fail("facilitator load"))?;
        }

        // Exceptions: one cancellation and one substitute next week; two individual sessions.
        // The cancellation is on the day track, whose week still holds more than 9 hours
        // without it, so the schedule builder can place its clients.
        let next = |id| self.calendar(coordinator, CalendarView::Track(id), Some(next_week.monday()), 7);
        let day_next = next(day.id).await?.entries;
        if let Some(e) = day_next.iter().find(|e| e.session.title == "Yoga and breathing") {
            self.cancel_session(coordinator, e.session.id, "Facilitator at a training")
                .await
                .map_err(fail("cancel"))?;
        }
        let evening_next = next(evening.id).await?.entries;
        if let Some(e) = evening_next.iter().find(|e| e.session.title == "Triggers and high-risk situations") {
            self.substitute(coordinator, e.session.id, &casey.to_string()).await.map_err(fail("substitute"))?;
        }
        let wednesday = next_week.monday() + Duration::days(2);
        let appointments = [(jordan, "13:00", "14:00"), (morgan, "14:00", "15:00")];
        for (client, (who, start, end)) in enrolled.iter().zip(appointments) {
            let form = AppointmentForm {
                client: client.to_string(),
                modality: "individual".into(),
                title: String::new(),
                facilitator: who.to_string(),
                room: office.to_string(),
                slot: SlotForm {
                    date: wednesday.to_string(),
                    start: start.into(),
                    end: end.into(),
                    end_date: String::new(),
                },
            };
            self.book_appointment(coordinator, &form).await.map_err(fail("appointment"))?;
        }
        Ok(DemoProgram { site: riverside, tracks: [day.id, evening.id], office, counselors: [jordan, morgan], members })
    }
}

/// A client `seed_program` put in a track.
struct Member {
    client: ClientId,
    track: TrackId,
    /// First day of the enrolment.
    from: Date,
}

/// What `seed_program` made that the attendance history builds on.
struct DemoProgram {
    site: SiteId,
    /// Day, evening.
    tracks: [TrackId; 2],
    /// The counseling room.
    office: uuid::Uuid,
    /// Jordan, Morgan.
    counselors: [UserId; 2],
    members: Vec<Member>,
}

/// A session that the attendance history takes attendance of.
struct Held {
    id: IopSessionId,
    slot: domain::iop::Slot,
    staff: UserId,
    title: String,
    group: bool,
}

const GROUP_NOTES: [&str; 6] = [
    "Members named one trigger from the week and the plan that got them through it.",
    "Worked through the handout together; two members shared early warning signs.",
    "Check-in, then role-play of refusal skills; good peer feedback.",
    "Quiet start; opened up after the breathing exercise. Homework: track cravings daily.",
    "Reviewed the week's goals; members set one goal each for the weekend.",
    "Discussed sleep and routine; several members report better sleep this week.",
];

impl App {
    /// Attendance for the program's last two weeks and this week so far, so the attendance,
    /// dose and outreach screens have something real: the two weeks before this one are
    /// generated and their rosters filled, plan requirements (individual therapy weekly for
    /// most) and availability are set, individual sessions booked (some clients get none this
    /// week, so the dashboard has clients at risk), attendance taken by each session's
    /// facilitator (mostly present, some late or leaving early, some excused absences and two
    /// unexcused ones that open outreach), and the notes signed, except for the most recent
    /// day's sessions, which are left open to edit.
    async fn seed_attendance(
        &self,
        admin: &Ctx,
        coordinator: &Ctx,
        program: &DemoProgram,
        rng: &mut Rng,
        today: Date,
    ) -> Result<(), AppError> {
        use crate::attendance::AttendanceEntry;
        use crate::iop::{AppointmentForm, CalendarView, SlotForm};
        use domain::iop::compliance::IsoWeek;
        use domain::iop::program::AttendanceStatus;

        let [jordan, morgan] = program.counselors;
        let staff_ctx = |user: UserId| {
            if user == coordinator.actor.user_id { coordinator.clone() } else { ctx(user, Role::Counselor) }
        };
        let this_week = IsoWeek::of(today);
        let weeks: Vec<IsoWeek> = [2, 1]
            .into_iter()
            .filter_map(|n| this_week.monday().checked_sub(Duration::weeks(n)).map(IsoWeek::of))
            .chain([this_week])
            .collect();
        let (_, now_time) = self.civil_now("America/Chicago");
        let over = |slot: &domain::iop::Slot| {
            slot.date < today || (slot.date == today && crate::iop::slot_end(slot) <= now_time)
        };

        // The past weeks' sessions, with everyone enrolled then on their track's rosters.
        let mut held = Vec::new();
        for week in &weeks {
            for track in program.tracks {
                if *week != this_week {
                    self.ensure_week(coordinator, track, *week).await.map_err(fail("past week"))?;
                }
                let entries = self
                    .calendar(coordinator, CalendarView::Track(track), Some(week.monday()), 7)
                    .await
                    .map_err(fail("past calendar"))?
                    .entries;
                for e in entries {
                    let s = e.session;
                    if s.cancelled || s.modality.is_one_to_one() {
                        continue;
                    }
                    if *week != this_week {
                        for m in program.members.iter().filter(|m| m.track == track && m.from <= s.slot.date) {
                            match self.add_to_roster(coordinator, s.id, m.client).await {
                                Ok(()) | Err(AppError::Invalid(_)) => {}
                                Err(other) => return Err(fail("past roster")(other)),
                            }
                        }
                    }
                    if over(&s.slot) {
                        held.push(Held { id: s.id, slot: s.slot, staff: s.staff(), title: s.title, group: true });
                    }
                }
            }
        }

        // Plans: individual therapy once a week for most, and when each client can come.
        let mut individual = Vec::new();
        for (n, m) in program.members.iter().enumerate() {
            let wants = n % 8 != 5;
            let plan =
                std::collections::BTreeMap::from([("individual".to_owned(), if wants { "1" } else { "0" }.to_owned())]);
            self.set_requirements(coordinator, m.client, &plan).await.map_err(fail("plan requirements"))?;
            let availability = if m.track == program.tracks[0] {
                "mon 08:30 17:00\ntue 08:30 17:00\nwed 08:30 17:00\nthu 08:30 17:00\nfri 08:30 17:00"
            } else {
                "mon 12:00 21:30\ntue 17:30 21:30\nwed 12:00 17:00\nthu 17:30 21:30\nfri 12:00 17:00"
            };
            self.set_availability(coordinator, m.client, availability).await.map_err(fail("availability"))?;
            if wants {
                // Evening clients work days: their afternoons are Monday, Wednesday and Friday.
                let days: &[usize] = if m.track == program.tracks[0] { &[0, 1, 2, 3, 4] } else { &[0, 2, 4] };
                individual.push((m.client, days));
            }
        }

        // Individual sessions in the afternoons, between the day and the evening groups: every
        // week for nearly everyone whose plan asks for one (next week's are booked already),
        // but this week not yet booked for about a third, who are then at risk of missing the
        // week's dose.
        let office2 =
            self.add_room(admin, program.site, "Counseling room 2", "2").await.map_err(fail("program room"))?;
        let rooms = [(jordan, program.office), (morgan, office2)];
        for week in weeks.iter().copied().chain(this_week.next()) {
            let mut slot = usize::try_from(rng.below(6)).unwrap_or(0);
            for (client, days) in &individual {
                if !rng.chance(if week == this_week { 65 } else { 92 }) {
                    continue;
                }
                // Monday to Friday, 13:00 to 17:00, both counselors: 40 slots a week, spread
                // over the days first; the next free one inside the client's afternoons.
                for _ in 0..12 {
                    let (day, hour, (who, room)) = (slot % 5, 13 + slot / 10 % 4, rooms[slot / 5 % 2]);
                    slot += 1;
                    if !days.contains(&day) {
                        continue;
                    }
                    let date = week.monday() + Duration::days(day as i64);
                    let form = AppointmentForm {
                        client: client.to_string(),
                        modality: "individual".into(),
                        title: String::new(),
                        facilitator: who.to_string(),
                        room: room.to_string(),
                        slot: SlotForm {
                            date: date.to_string(),
                            start: format!("{hour}:00"),
                            end: format!("{}:00", hour + 1),
                            end_date: String::new(),
                        },
                    };
                    match self.book_appointment(coordinator, &form).await {
                        Ok(s) => {
                            if over(&s.slot) {
                                held.push(Held {
                                    id: s.id,
                                    slot: s.slot,
                                    staff: s.staff(),
                                    title: s.title,
                                    group: false,
                                });
                            }
                            break;
                        }
                        // Not in the program that day yet, a holiday or a clash: the next slot.
                        Err(AppError::Invalid(_)) => {}
                        Err(other) => return Err(fail("individual session")(other)),
                    }
                }
            }
        }

        // Attendance, in the order the sessions happened. Two unexcused absences: at the last
        // group of last week and at the latest group held this week (or the first of last week).
        held.sort_by_key(|h| (h.slot.date, h.slot.start, h.id.as_uuid()));
        let last_week = weeks.get(1).copied().unwrap_or(this_week);
        let groups_in = |w: IsoWeek| held.iter().filter(move |h| h.group && w.contains(h.slot.date));
        let mut unexcused: Vec<IopSessionId> = groups_in(last_week).next_back().map(|h| h.id).into_iter().collect();
        match groups_in(this_week).next_back() {
            Some(h) => unexcused.push(h.id),
            None => unexcused.extend(groups_in(last_week).next().map(|h| h.id)),
        }
        let latest = held.iter().filter(|h| this_week.contains(h.slot.date)).map(|h| h.slot.date).max();
        for h in &held {
            let staff = staff_ctx(h.staff);
            let sheet = self.attendance_sheet(&staff, h.id).await.map_err(fail("attendance sheet"))?;
            if sheet.rows.is_empty() {
                continue;
            }
            let length = h.slot.minutes;
            let mut entries = Vec::new();
            for (k, row) in sheet.rows.iter().enumerate() {
                // A few clients miss more than the others.
                let shaky = program.members.iter().position(|m| m.client == row.client.id).is_some_and(|n| n % 6 == 4);
                let roll = rng.below(100);
                let (status, minutes) = if k == 0 && unexcused.contains(&h.id) {
                    (AttendanceStatus::AbsentUnexcused, None)
                } else if roll < if shaky { 55 } else { 82 } {
                    (AttendanceStatus::Present, None)
                } else if roll < if shaky { 65 } else { 89 } {
                    let late = u16::try_from(rng.range(10, 30)).unwrap_or(15);
                    (AttendanceStatus::Late, Some(length.saturating_sub(late)))
                } else if roll < if shaky { 72 } else { 94 } {
                    let early = u16::try_from(rng.range(15, 45)).unwrap_or(20);
                    (AttendanceStatus::LeftEarly, Some(length.saturating_sub(early)))
                } else {
                    (AttendanceStatus::AbsentExcused, None)
                };
                entries.push(AttendanceEntry {
                    client: row.client.id.to_string(),
                    status: status.code().into(),
                    minutes: minutes.map(|m| m.to_string()).unwrap_or_default(),
                });
            }
            self.record_attendance(&staff, h.id, &entries).await.map_err(fail("attendance"))?;
            if Some(h.slot.date) == latest {
                continue;
            }
            let note = if h.group {
                format!("{}. {}", h.title, rng.pick(&GROUP_NOTES))
            } else {
                "Individual session: reviewed the week, cravings and the relapse prevention plan.".to_owned()
            };
            self.sign_session_note(&staff, h.id, &note).await.map_err(fail("session note"))?;
        }
        Ok(())
    }
}

fn site_of(bed: Option<BedId>, residential: SiteId, outpatient: SiteId) -> SiteId {
    if bed.is_some() { residential } else { outpatient }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_password_meets_the_policy_for_every_account() {
        for (username, name, _) in ACCOUNTS {
            assert!(
                domain::password::NewPassword::parse(DEMO_PASSWORD, &[username, name, "stepdown"]).is_ok(),
                "{username}"
            );
        }
    }

    #[test]
    fn a_refusal_says_what_it_found() {
        let found = RealRecords { users: 1, ..RealRecords::default() };
        assert!(DemoError::NotEmpty(found).to_string().contains("holds 1 user account not made by the demo"));
        let found = RealRecords { users: 2, clients: 1, inquiries: 3, sites: 1 };
        assert_eq!(describe(&found), "2 user accounts, 1 site, 1 client and 3 inquiries");
    }

    #[test]
    fn the_generator_is_deterministic() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        let xs: Vec<u64> = (0..5).map(|_| a.next()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng(8).next(), xs[0]);
    }
}
