//! The schedule builder (DESIGN.md §4): for one track and one week, propose which concrete
//! sessions each enrolled client attends, so that every client reaches the dose their level
//! requires (clinical minutes and a mix of modalities) inside their stated availability, without
//! overfilling a session or overloading a facilitator, and say why any client could not be
//! placed. The coordinator reviews the [`Proposal`], may edit it, and [`check`] re-verifies the
//! edited version before it is applied.
//!
//! This module must never do I/O, read a clock or draw unseeded randomness: the same
//! [`Instance`] and [`Options`] always give the same proposal (the local search draws from a
//! SplitMix64 stream seeded by [`Options::seed`]).
//!
//! # The instance
//! Sessions, facilitators, rooms and clients refer to each other by index (position in their
//! `Vec`); the caller maps its ids to positions. Times are civil site-local times (see the
//! parent module); minutes are whole (seconds are ignored).
//!
//! * The **capacity** of a session is `min(session.capacity, room.capacity)`, where
//!   `session.capacity` is the group size limit; a one-to-one modality (individual, family,
//!   case management) holds one client whatever the numbers say.
//! * The **load** of a facilitator is the number of client-assignments in their sessions this
//!   week (a group of 10 counts 10, an individual session 1): each one is a progress note to
//!   write, which is what `Facilitator::max_load` caps. Fixed assignments count.
//! * A client's **requirement** is a number of clinical minutes (the level minimum, e.g. 540 for
//!   2.1, 1200 for 2.5; case management is not clinical) and a minimum count per modality
//!   (e.g. one individual and one family session).
//! * **Availability** is a list of windows (weekday, start, end); a session is open to a client
//!   only if it lies entirely inside one window.
//! * **Fixed** assignments are kept as they are and count toward the requirement (an instance
//!   whose fixed assignments already break a hard constraint is malformed).
//! * **Continuity** compares `Session::series` (the recurring series, i.e. the week-template
//!   entry: same value every week) with the series the client attended last week
//!   (`Client::last_week`). Keeping each client in last week's series keeps groups together
//!   week to week, and unlike counting co-member pairs it is linear, so an exact solver can
//!   optimise the very same objective.
//!
//! # Hard constraints (what [`check`] verifies)
//! A client is only in sessions inside their availability, never in two overlapping sessions,
//! keeps their fixed assignments; no session over capacity, no one-to-one session shared, no
//! facilitator over load; every client not listed as unplaced meets their requirement.
//!
//! # Unplaced clients
//! A client the builder cannot bring to their full requirement gets **no assignments beyond
//! their fixed ones** (a partial week would look like a schedule and is not one), and is listed
//! in [`Proposal::unplaced`] with the first [`Blocker`] that explains it, from the client's own
//! situation outwards: no session in their availability; a required modality never offered
//! inside it; not enough clinical minutes inside it even with every session open; the
//! requirements cannot be met together (e.g. the only family slot clashes with the groups
//! needed for the hours); the sessions that would do it are full; a facilitator is at load.
//!
//! # Objective (maximised; the exact solver in `bench/schedule_exact.py` uses the same)
//! ```text
//! objective = Σ over placed clients c of
//!     PLACED_WEIGHT (10 000)
//!   + CONTINUITY_WEIGHT (20) × |{ sessions of c whose series is in c.last_week }|
//!   − excess(c),   excess(c) = total minutes of c's sessions − c.required_minutes
//! ```
//! A client is *placed* when their assignments meet their requirement; unplaced clients add
//! nothing. The excess counts every scheduled minute beyond the level minimum, fixed sessions
//! and non-clinical case management included (it is still the client's time). So: place as
//! many clients as possible, then keep series (one kept series outweighs 20 minutes of
//! overfill), then don't overfill. The weights are not strictly lexicographic, but a placed
//! client outweighs the continuity and overfill a week of one client can carry. [`score`]
//! computes the objective of any assignment.
//!
//! # Algorithm
//! 1. **One client, exactly.** Against the seats and loads left, a dynamic programme over the
//!    client's open sessions sorted by end time (weighted interval scheduling; state = clinical
//!    minutes so far in steps of their gcd, capped at the requirement × count per required
//!    modality, capped) finds the best-valued non-overlapping set that meets the requirement,
//!    or proves there is none. When that set would take more of a facilitator than they have
//!    left, the facilitator's picks are counted in the state too (exact), or, if that would
//!    grow the state too much, the offending pick is banned and the programme rerun.
//! 2. **Greedy start**: clients in two orders (least slack in their availability first;
//!    smallest requirement first), each inserted with (1); the better week is kept.
//! 3. **Prices** (Lagrangian relaxation of seats and loads, projected subgradient): a price
//!    per session and per facilitator, raised where demand exceeds supply; at given prices the
//!    clients are independent, each taking their best priced plan with (1) or staying out.
//!    Every few rounds a feasible week is rebuilt, clients in order of priced worth, each
//!    plan steered by the prices; at the end it is rebuilt repeatedly with the clients left
//!    out moving to the front (squeaky wheel). The best week and its prices are kept.
//! 4. **Local search** (large neighbourhoods): remove the clients of a session and an
//!    overlapping one, or those blocking a lost series, or those blocking an unplaced client,
//!    and re-insert them in another order; keep the result unless the objective dropped. The
//!    first half of the moves inserts with the prices steering (to place more clients), the
//!    second half without (for continuity and overfill).
//! 5. **Polish**: every client re-optimised alone, and every client whose last-week series is
//!    full tried in the seat of a member who had no continuity there, for a few passes.
//! 6. Explain every unplaced client (see above).
//!
//! Steering (the prices, and a fixed price on one-to-one slots of a modality the client does
//! not require, which someone else's requirement may hang on) only chooses among a client's
//! plans; every decision to keep or undo a change is made on the true objective. The effort
//! is set by [`Options`]; `bench/schedule.sh` measures it against an exact solver.

use serde::{Deserialize, Serialize};
use time::{Time, Weekday};

use super::{Modality, Slot};

/// Worth of one fully placed client in the objective.
pub const PLACED_WEIGHT: i64 = 10_000;
/// Worth of one assignment to a series the client attended last week (in minutes of overfill).
pub const CONTINUITY_WEIGHT: i64 = 20;
/// Largest per-client search state space accepted (steps of minutes × modality counts).
pub const MAX_STATES: usize = 1 << 14;

/// One track's week: what the builder is asked to fill.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub sessions: Vec<Session>,
    pub facilitators: Vec<Facilitator>,
    pub rooms: Vec<Room>,
    pub clients: Vec<Client>,
}

/// One occurrence of a session this week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub slot: Slot,
    pub modality: Modality,
    /// Group size limit; the room's capacity also applies (see [`Instance::capacity`]).
    pub capacity: u16,
    /// Index into [`Instance::facilitators`].
    pub facilitator: usize,
    /// Index into [`Instance::rooms`].
    pub room: usize,
    /// The recurring series (week-template entry) this occurrence belongs to: the same value
    /// every week, compared with [`Client::last_week`] for continuity.
    pub series: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facilitator {
    /// Most client-assignments across all their sessions this week (see the module docs).
    pub max_load: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub capacity: u16,
}

/// An enrolled client and what their week needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// Clinical minutes the level requires this week (2.1 adult: 540; 2.5: 1200).
    pub required_minutes: u32,
    /// Minimum number of sessions per modality (at most one entry per modality).
    #[serde(default)]
    pub required_modalities: Vec<Need>,
    pub availability: Vec<Window>,
    /// Sessions already booked (indices into [`Instance::sessions`]); kept as they are.
    #[serde(default)]
    pub fixed: Vec<usize>,
    /// Series attended last week.
    #[serde(default)]
    pub last_week: Vec<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    pub modality: Modality,
    pub count: u8,
}

/// A weekly window in which the client can attend, e.g. Tuesday 17:00–21:30.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub weekday: Weekday,
    pub start: Time,
    pub end: Time,
}

impl Window {
    /// The whole slot lies inside the window (touching its ends is inside).
    pub fn contains(&self, slot: &Slot) -> bool {
        let (s, e) = slot.span();
        slot.date.weekday() == self.weekday && minute_of(self.start) <= s && e <= minute_of(self.end)
    }
}

impl Instance {
    /// Seats in a session: the smaller of group limit and room, and one for a one-to-one.
    /// `None` when the session or its room does not exist.
    pub fn capacity(&self, session: usize) -> Option<u32> {
        let s = self.sessions.get(session)?;
        let room = self.rooms.get(s.room)?;
        Some(if s.modality.is_one_to_one() { 1 } else { u32::from(s.capacity.min(room.capacity)) })
    }
}

/// A malformed instance: the builder refuses it rather than guess.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InstanceError {
    #[error("client {client}: availability window {window} ends at or before it starts")]
    EmptyWindow { client: usize, window: usize },
    #[error("session {session} lasts zero minutes")]
    ZeroLengthSession { session: usize },
    #[error("session {session} runs past midnight")]
    PastMidnight { session: usize },
    #[error("session {session} has a capacity of 0")]
    ZeroCapacity { session: usize },
    #[error("room {room} has a capacity of 0")]
    ZeroRoomCapacity { room: usize },
    #[error("session {session} names facilitator {facilitator}, who is not in the instance")]
    UnknownFacilitator { session: usize, facilitator: usize },
    #[error("session {session} names room {room}, which is not in the instance")]
    UnknownRoom { session: usize, room: usize },
    #[error("facilitator {facilitator} is booked in overlapping sessions {a} and {b}")]
    FacilitatorDoubleBooked { facilitator: usize, a: usize, b: usize },
    #[error("room {room} is booked for overlapping sessions {a} and {b}")]
    RoomDoubleBooked { room: usize, a: usize, b: usize },
    #[error("client {client}: modality {modality:?} is required twice")]
    DuplicateRequirement { client: usize, modality: Modality },
    #[error("client {client}: fixed session {session} is not in the instance")]
    UnknownFixedSession { client: usize, session: usize },
    #[error("client {client}: session {session} is fixed twice")]
    DuplicateFixed { client: usize, session: usize },
    #[error("client {client}: fixed session {session} is outside their availability")]
    FixedOutsideAvailability { client: usize, session: usize },
    #[error("client {client}: fixed sessions {a} and {b} overlap")]
    FixedOverlap { client: usize, a: usize, b: usize },
    #[error("session {session} has more fixed clients than seats")]
    FixedOverCapacity { session: usize },
    #[error("facilitator {facilitator} is over their load with fixed assignments alone")]
    FixedOverLoad { facilitator: usize },
    #[error("client {client}: the requirement is too fine-grained to schedule (over {MAX_STATES} states)")]
    RequirementsTooLarge { client: usize },
}

/// Why a client could not be placed: the first constraint that blocks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Blocker {
    /// No session of the week lies inside the client's availability.
    NoAvailability,
    /// A required modality is not offered (often enough) inside the availability.
    ModalityUnavailable(Modality),
    /// Even with every session open, the availability holds fewer clinical minutes than needed.
    NotEnoughHoursInAvailability { max_minutes: u32, needed: u32 },
    /// Hours and modalities are each reachable but not together (the sessions clash).
    RequirementsConflict,
    /// The sessions that would meet the requirement are full.
    CapacityExhausted,
    /// The sessions that would meet it have room, but their facilitators are at load.
    FacilitatorLoad,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unplaced {
    pub client: usize,
    pub reason: Blocker,
}

/// The objective and its parts (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub placed: u32,
    pub continuity: u32,
    pub excess_minutes: u64,
    pub objective: i64,
}

/// The builder's answer: per client, the sessions they attend (ascending indices, fixed ones
/// included), the clients it could not place, and the objective.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub assignments: Vec<Vec<usize>>,
    pub unplaced: Vec<Unplaced>,
    pub score: Score,
}

/// Knobs of the search. The defaults keep a 200-client week well under a second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Seed of the search's pseudo-random choices.
    pub seed: u64,
    /// Rounds of the Lagrangian phase (pricing seats and loads).
    pub rounds: u32,
    /// Local-search moves per client (0: greedy construction and single-client polish only).
    pub effort: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options { seed: 0x5EED_5CED, rounds: 24, effort: 12 }
    }
}

/// A broken hard constraint in a proposal.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("the instance is malformed: {0}")]
    Instance(InstanceError),
    #[error("the proposal has {found} clients; the instance has {expected}")]
    WrongClientCount { expected: usize, found: usize },
    #[error("client {client}: session {session} is not in the instance")]
    UnknownSession { client: usize, session: usize },
    #[error("client {client}: session {session} is assigned twice")]
    DuplicateAssignment { client: usize, session: usize },
    #[error("client {client}: session {session} is outside their availability")]
    OutsideAvailability { client: usize, session: usize },
    #[error("client {client}: sessions {a} and {b} overlap")]
    Overlap { client: usize, a: usize, b: usize },
    #[error("client {client}: fixed session {session} was dropped")]
    FixedMissing { client: usize, session: usize },
    #[error("session {session} has {assigned} clients for {capacity} seats")]
    OverCapacity { session: usize, assigned: u32, capacity: u32 },
    #[error("one-to-one session {session} has {assigned} clients")]
    OneToOneShared { session: usize, assigned: u32 },
    #[error("facilitator {facilitator} has {load} client-assignments; the limit is {max}")]
    FacilitatorOverloaded { facilitator: usize, load: u32, max: u32 },
    #[error("client {client} is listed as placed with {minutes} clinical minutes of {needed}")]
    MinutesShort { client: usize, minutes: u32, needed: u32 },
    #[error("client {client} is listed as placed with {have} {modality:?} sessions of {need}")]
    ModalityShort { client: usize, modality: Modality, have: u32, need: u32 },
    #[error("unplaced client {client} is not in the instance")]
    UnknownUnplaced { client: usize },
    #[error("client {client} is listed as unplaced twice")]
    DuplicateUnplaced { client: usize },
}

fn minute_of(t: Time) -> u32 {
    u32::from(t.hour()) * 60 + u32::from(t.minute())
}

/// Checks the instance is well formed (the builder and [`check`] do it themselves).
pub fn validate(instance: &Instance) -> Result<(), InstanceError> {
    Model::new(instance).map(|_| ())
}

/// Verifies every hard constraint of `proposal` against `instance`, independently of how the
/// proposal was made (the builder, or a coordinator's edit). Empty means it may be applied.
pub fn check(instance: &Instance, proposal: &Proposal) -> Vec<Violation> {
    if let Err(e) = validate(instance) {
        return vec![Violation::Instance(e)];
    }
    let mut out = Vec::new();
    let n = instance.clients.len();
    if proposal.assignments.len() != n {
        out.push(Violation::WrongClientCount { expected: n, found: proposal.assignments.len() });
        return out;
    }
    let sessions = &instance.sessions;
    let mut seats = vec![0u32; sessions.len()];
    let mut loads = vec![0u32; instance.facilitators.len()];
    for (c, (client, list)) in instance.clients.iter().zip(&proposal.assignments).enumerate() {
        let mut seen: Vec<usize> = Vec::with_capacity(list.len());
        for &s in list {
            let Some(session) = sessions.get(s) else {
                out.push(Violation::UnknownSession { client: c, session: s });
                continue;
            };
            if seen.contains(&s) {
                out.push(Violation::DuplicateAssignment { client: c, session: s });
                continue;
            }
            if !client.availability.iter().any(|w| w.contains(&session.slot)) {
                out.push(Violation::OutsideAvailability { client: c, session: s });
            }
            for &t in &seen {
                if sessions[t].slot.overlaps(&session.slot) {
                    out.push(Violation::Overlap { client: c, a: t.min(s), b: t.max(s) });
                }
            }
            seen.push(s);
            seats[s] += 1;
            if let Some(l) = loads.get_mut(session.facilitator) {
                *l += 1;
            }
        }
        for &f in &client.fixed {
            if !seen.contains(&f) {
                out.push(Violation::FixedMissing { client: c, session: f });
            }
        }
    }
    for (s, (&assigned, session)) in seats.iter().zip(sessions).enumerate() {
        if session.modality.is_one_to_one() && assigned > 1 {
            out.push(Violation::OneToOneShared { session: s, assigned });
        } else if let Some(capacity) = instance.capacity(s)
            && assigned > capacity
        {
            out.push(Violation::OverCapacity { session: s, assigned, capacity });
        }
    }
    for (f, (&load, fac)) in loads.iter().zip(&instance.facilitators).enumerate() {
        if load > fac.max_load {
            out.push(Violation::FacilitatorOverloaded { facilitator: f, load, max: fac.max_load });
        }
    }
    let mut listed = vec![false; n];
    for u in &proposal.unplaced {
        match listed.get_mut(u.client) {
            None => out.push(Violation::UnknownUnplaced { client: u.client }),
            Some(true) => out.push(Violation::DuplicateUnplaced { client: u.client }),
            Some(l) => *l = true,
        }
    }
    for (c, client) in instance.clients.iter().enumerate() {
        if listed[c] {
            continue;
        }
        let dose = Dose::of(instance, client, &proposal.assignments[c]);
        if dose.clinical < client.required_minutes {
            out.push(Violation::MinutesShort { client: c, minutes: dose.clinical, needed: client.required_minutes });
        }
        for need in &client.required_modalities {
            let have = dose.count(need.modality);
            if have < u32::from(need.count) {
                out.push(Violation::ModalityShort {
                    client: c,
                    modality: need.modality,
                    have,
                    need: u32::from(need.count),
                });
            }
        }
    }
    out
}

/// What one client's assignments add up to (unknown session indices are skipped).
struct Dose {
    clinical: u32,
    total: u32,
    continuity: u32,
    counts: [u32; Modality::ALL.len()],
}

impl Dose {
    fn of(instance: &Instance, client: &Client, list: &[usize]) -> Dose {
        let mut d = Dose { clinical: 0, total: 0, continuity: 0, counts: [0; Modality::ALL.len()] };
        for s in list.iter().filter_map(|&s| instance.sessions.get(s)) {
            let minutes = u32::from(s.slot.minutes);
            d.total += minutes;
            if s.modality.is_clinical() {
                d.clinical += minutes;
            }
            if client.last_week.contains(&s.series) {
                d.continuity += 1;
            }
            d.counts[modality_index(s.modality)] += 1;
        }
        d
    }

    fn count(&self, m: Modality) -> u32 {
        self.counts[modality_index(m)]
    }

    fn meets(&self, client: &Client) -> bool {
        self.clinical >= client.required_minutes
            && client.required_modalities.iter().all(|n| self.count(n.modality) >= u32::from(n.count))
    }
}

fn modality_index(m: Modality) -> usize {
    Modality::ALL.iter().position(|&x| x == m).unwrap_or(0)
}

/// The objective of any assignment (see the module docs): a client counts as placed when
/// their assignments meet their requirement.
pub fn score(instance: &Instance, assignments: &[Vec<usize>]) -> Score {
    let mut sc = Score::default();
    for (client, list) in instance.clients.iter().zip(assignments) {
        let d = Dose::of(instance, client, list);
        if !d.meets(client) {
            continue;
        }
        let excess = d.total.saturating_sub(client.required_minutes);
        sc.placed += 1;
        sc.continuity += d.continuity;
        sc.excess_minutes += u64::from(excess);
        sc.objective += PLACED_WEIGHT + CONTINUITY_WEIGHT * i64::from(d.continuity) - i64::from(excess);
    }
    sc
}

/// Builds a proposal with the default options.
pub fn build(instance: &Instance) -> Result<Proposal, InstanceError> {
    build_with(instance, &Options::default())
}

/// Builds a proposal (greedy start, prices and rebuilds, local search; see the module docs),
/// then explains each client left unplaced. Every hard constraint holds in the result.
pub fn build_with(instance: &Instance, options: &Options) -> Result<Proposal, InstanceError> {
    let model = Model::new(instance)?;
    let mut search = Search::new(&model, options.seed);
    search.construct();
    search.lagrange(options.rounds);
    let moves = u64::from(options.effort) * instance.clients.len() as u64;
    search.improve(moves / 2, true);
    search.improve(moves - moves / 2, false);
    search.polish();
    let mut assignments = Vec::with_capacity(instance.clients.len());
    let mut unplaced = Vec::new();
    for (c, client) in instance.clients.iter().enumerate() {
        let mut list: Vec<usize> = client.fixed.iter().copied().chain(search.plan[c].iter().copied()).collect();
        list.sort_unstable();
        assignments.push(list);
        if !search.placed[c] {
            unplaced.push(Unplaced { client: c, reason: search.diagnose(c) });
        }
    }
    let score = score(instance, &assignments);
    Ok(Proposal { assignments, unplaced, score })
}

/// The proposal for assignments a coordinator has edited: the objective, and every client whose
/// assignments do not meet their requirement listed as unplaced, with the reason the builder
/// would give against the seats the others now take. Run [`check`] on it before applying: this
/// lists, it does not verify.
pub fn proposal_from(instance: &Instance, assignments: Vec<Vec<usize>>) -> Result<Proposal, InstanceError> {
    let model = Model::new(instance)?;
    let mut search = Search::new(&model, 0);
    let mut short = Vec::new();
    for (c, client) in instance.clients.iter().enumerate() {
        let list = assignments.get(c).map_or(&[][..], |l| l.as_slice());
        let plan: Vec<usize> =
            list.iter().copied().filter(|&s| s < instance.sessions.len() && !client.fixed.contains(&s)).collect();
        search.apply(c, plan, 0);
        if !Dose::of(instance, client, list).meets(client) {
            short.push(c);
        }
    }
    let mut unplaced = Vec::with_capacity(short.len());
    for c in short {
        let saved = search.save(c);
        search.remove(c);
        unplaced.push(Unplaced { client: c, reason: search.diagnose(c) });
        search.restore(vec![saved]);
    }
    let score = score(instance, &assignments);
    Ok(Proposal { assignments, unplaced, score })
}

// ---------------------------------------------------------------------------------------------
// The prepared model: per-session numbers and, per client, the sessions open to them in the
// order the dynamic programme needs.

const NEG: i32 = i32::MIN / 4;
/// How much counting facilitator picks may multiply a client's state space before the
/// builder falls back from the exact programme to banning picks.
const EXACT_LIMIT_GROWTH: usize = 8;
/// How often (in rounds) the Lagrangian phase builds a feasible week.
const RECOVER_EVERY: u32 = 8;
/// Feasible weeks built at the unpriced start of the Lagrangian phase, and at its end.
const EARLY_REBUILDS: u32 = 8;
const REBUILDS: u32 = 32;
/// Steering price of a one-to-one session of a modality the client does not require: such a
/// slot may trim overfill, but someone else's requirement may hang on it.
const SPARE_PRICE: i32 = 100;
const NO_NEED: u8 = u8::MAX;
/// Passes of the final polish (each re-optimises every client and tries every series swap).
const POLISH_PASSES: u32 = 3;

struct Model<'a> {
    inst: &'a Instance,
    /// Effective seats.
    cap: Vec<u32>,
    fac: Vec<usize>,
    max_load: Vec<u32>,
    /// Seats and loads taken by fixed assignments.
    base_used: Vec<u32>,
    base_load: Vec<u32>,
    clients: Vec<Prep>,
    /// Per session, the clients to whom it is open.
    open_to: Vec<Vec<usize>>,
    /// Per session, the sessions overlapping it (itself excluded).
    overlapping: Vec<Vec<usize>>,
}

/// One client, ready for the dynamic programme.
struct Prep {
    /// Sessions open to the client (inside availability, not fixed, not filled by others' fixed
    /// assignments, not clashing with a fixed one), sorted by (day, end, start).
    open: Vec<usize>,
    /// Per open session: how many of `open` end before it starts (its compatible prefix).
    pred: Vec<usize>,
    /// Per open session: clinical minutes in steps (see `m_cap`), the need it counts toward
    /// (or `NO_NEED`), and its value (continuity bonus minus minutes).
    steps: Vec<u32>,
    need_of: Vec<u8>,
    value: Vec<i32>,
    /// Per open session: a one-to-one session of a modality the client does not require.
    spare: Vec<bool>,
    /// Minute steps (of the gcd of the open sessions' clinical minutes) still needed beyond
    /// the fixed sessions: exact, since every sum of those minutes is a multiple of the step.
    m_cap: u32,
    /// Remaining count per need and the successor table of the modality counter.
    needs: Vec<(Modality, u32)>,
    qnext: Vec<Vec<u32>>,
    q_len: usize,
    /// The objective of the client once placed, less the value of the chosen sessions.
    base_value: i64,
    /// Clinical minutes reachable inside the availability with every session open.
    max_minutes: u32,
    /// Some session of the week (fixed or not) lies inside the availability.
    inside_any: bool,
}

impl Prep {
    fn states(&self) -> usize {
        (self.m_cap as usize + 1) * self.q_len
    }

    fn goal(&self) -> usize {
        self.states() - 1
    }

    fn next(&self, j: usize, s: usize) -> usize {
        let w = self.m_cap as usize + 1;
        let (m, q) = (s % w, s / w);
        let m1 = (m + self.steps[j] as usize).min(self.m_cap as usize);
        let q1 = match self.need_of[j] {
            NO_NEED => q,
            k => self.qnext[k as usize][q] as usize,
        };
        m1 + w * q1
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Sorting key of a session for interval scheduling: (day, end, start).
fn key(s: &Session) -> (i32, u32, u32) {
    let (a, b) = s.slot.span();
    (s.slot.date.to_julian_day(), b, a)
}

/// Reports the first pair of overlapping sessions among those `owner` assigns to the same owner.
fn double_booking(sessions: &[Session], owner: impl Fn(&Session) -> usize) -> Option<(usize, usize, usize)> {
    let mut order: Vec<usize> = (0..sessions.len()).collect();
    order.sort_by_key(|&i| {
        let s = &sessions[i];
        (owner(s), s.slot.date.to_julian_day(), s.slot.span().0, i)
    });
    // Within one owner and day, sorted by start: a session overlaps an earlier one iff it
    // starts before the latest end seen so far.
    let mut latest: Option<(usize, i32, u32, usize)> = None;
    for &i in &order {
        let s = &sessions[i];
        let (start, end) = s.slot.span();
        let day = s.slot.date.to_julian_day();
        if let Some((o, d, e, j)) = latest
            && o == owner(s)
            && d == day
        {
            if start < e {
                return Some((o, j.min(i), j.max(i)));
            }
            if end > e {
                latest = Some((o, d, end, i));
            }
            continue;
        }
        latest = Some((owner(s), day, end, i));
    }
    None
}

impl<'a> Model<'a> {
    fn new(inst: &'a Instance) -> Result<Self, InstanceError> {
        let sessions = &inst.sessions;
        for (room, r) in inst.rooms.iter().enumerate() {
            if r.capacity == 0 {
                return Err(InstanceError::ZeroRoomCapacity { room });
            }
        }
        let mut cap = Vec::with_capacity(sessions.len());
        for (i, s) in sessions.iter().enumerate() {
            if s.slot.minutes == 0 {
                return Err(InstanceError::ZeroLengthSession { session: i });
            }
            if s.slot.span().1 > 24 * 60 {
                return Err(InstanceError::PastMidnight { session: i });
            }
            if s.capacity == 0 {
                return Err(InstanceError::ZeroCapacity { session: i });
            }
            if s.facilitator >= inst.facilitators.len() {
                return Err(InstanceError::UnknownFacilitator { session: i, facilitator: s.facilitator });
            }
            let Some(c) = inst.capacity(i) else {
                return Err(InstanceError::UnknownRoom { session: i, room: s.room });
            };
            cap.push(c);
        }
        if let Some((facilitator, a, b)) = double_booking(sessions, |s| s.facilitator) {
            return Err(InstanceError::FacilitatorDoubleBooked { facilitator, a, b });
        }
        if let Some((room, a, b)) = double_booking(sessions, |s| s.room) {
            return Err(InstanceError::RoomDoubleBooked { room, a, b });
        }
        let fac: Vec<usize> = sessions.iter().map(|s| s.facilitator).collect();
        let max_load: Vec<u32> = inst.facilitators.iter().map(|f| f.max_load).collect();
        let mut base_used = vec![0u32; sessions.len()];
        let mut base_load = vec![0u32; inst.facilitators.len()];
        for (c, client) in inst.clients.iter().enumerate() {
            for (w, win) in client.availability.iter().enumerate() {
                if minute_of(win.start) >= minute_of(win.end) {
                    return Err(InstanceError::EmptyWindow { client: c, window: w });
                }
            }
            for (k, need) in client.required_modalities.iter().enumerate() {
                if client.required_modalities[..k].iter().any(|n| n.modality == need.modality) {
                    return Err(InstanceError::DuplicateRequirement { client: c, modality: need.modality });
                }
            }
            for (k, &f) in client.fixed.iter().enumerate() {
                let Some(s) = sessions.get(f) else {
                    return Err(InstanceError::UnknownFixedSession { client: c, session: f });
                };
                if client.fixed[..k].contains(&f) {
                    return Err(InstanceError::DuplicateFixed { client: c, session: f });
                }
                if !client.availability.iter().any(|w| w.contains(&s.slot)) {
                    return Err(InstanceError::FixedOutsideAvailability { client: c, session: f });
                }
                if let Some(&g) = client.fixed[..k].iter().find(|&&g| sessions[g].slot.overlaps(&s.slot)) {
                    return Err(InstanceError::FixedOverlap { client: c, a: g.min(f), b: g.max(f) });
                }
                base_used[f] += 1;
                base_load[s.facilitator] += 1;
            }
        }
        if let Some(session) = (0..sessions.len()).find(|&s| base_used[s] > cap[s]) {
            return Err(InstanceError::FixedOverCapacity { session });
        }
        if let Some(facilitator) = (0..max_load.len()).find(|&f| base_load[f] > max_load[f]) {
            return Err(InstanceError::FixedOverLoad { facilitator });
        }

        let mut order: Vec<usize> = (0..sessions.len()).collect();
        order.sort_by_key(|&i| (key(&sessions[i]), i));
        let mut overlapping = vec![Vec::new(); sessions.len()];
        for (a, sa) in sessions.iter().enumerate() {
            for (b, sb) in sessions.iter().enumerate() {
                if a != b && sa.slot.overlaps(&sb.slot) {
                    overlapping[a].push(b);
                }
            }
        }
        let mut clients = Vec::with_capacity(inst.clients.len());
        let mut open_to = vec![Vec::new(); sessions.len()];
        // A session whose seats fixed assignments fill (say, another client's individual
        // appointment) is open to no one else: leaving it out keeps the search from trying it
        // and the diagnosis from offering it as a way to meet a requirement.
        let full: Vec<bool> = (0..sessions.len()).map(|s| base_used[s] >= cap[s]).collect();
        for (c, client) in inst.clients.iter().enumerate() {
            let prep = Self::prepare(inst, c, client, &order, &full)?;
            for &s in &prep.open {
                open_to[s].push(c);
            }
            clients.push(prep);
        }
        Ok(Model { inst, cap, fac, max_load, base_used, base_load, clients, open_to, overlapping })
    }

    fn prepare(
        inst: &Instance,
        c: usize,
        client: &Client,
        order: &[usize],
        full: &[bool],
    ) -> Result<Prep, InstanceError> {
        let sessions = &inst.sessions;
        let open: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| {
                let s = &sessions[i];
                !client.fixed.contains(&i)
                    && !full[i]
                    && client.availability.iter().any(|w| w.contains(&s.slot))
                    && !client.fixed.iter().any(|&f| sessions[f].slot.overlaps(&s.slot))
            })
            .collect();
        let keys: Vec<(i32, u32, u32)> = open.iter().map(|&i| key(&sessions[i])).collect();
        let pred: Vec<usize> =
            keys.iter().map(|&(day, _, start)| keys.partition_point(|&(d, e, _)| (d, e) <= (day, start))).collect();

        let fixed = Dose::of(inst, client, &client.fixed);
        let rest = client.required_minutes.saturating_sub(fixed.clinical);
        let clinical = |i: usize| {
            let s = &sessions[i];
            if s.modality.is_clinical() { u32::from(s.slot.minutes) } else { 0 }
        };
        let unit = open.iter().map(|&i| clinical(i)).fold(0, gcd).max(1);
        let m_cap = rest.div_ceil(unit);
        let needs: Vec<(Modality, u32)> = client
            .required_modalities
            .iter()
            .map(|n| (n.modality, u32::from(n.count).saturating_sub(fixed.count(n.modality))))
            .filter(|&(_, r)| r > 0)
            .collect();
        let mut q_len = 1usize;
        let mut strides = Vec::with_capacity(needs.len());
        for &(_, r) in &needs {
            strides.push(q_len);
            q_len = q_len.saturating_mul(r as usize + 1);
        }
        if (m_cap as usize + 1).saturating_mul(q_len) > MAX_STATES {
            return Err(InstanceError::RequirementsTooLarge { client: c });
        }
        let qnext: Vec<Vec<u32>> = needs
            .iter()
            .zip(&strides)
            .map(|(&(_, r), &stride)| {
                (0..q_len)
                    .map(|q| {
                        let digit = (q / stride) % (r as usize + 1);
                        (if digit < r as usize { q + stride } else { q }) as u32
                    })
                    .collect()
            })
            .collect();
        let mut steps = Vec::with_capacity(open.len());
        let mut need_of = Vec::with_capacity(open.len());
        let mut value = Vec::with_capacity(open.len());
        let mut spare = Vec::with_capacity(open.len());
        for &i in &open {
            let s = &sessions[i];
            steps.push(clinical(i) / unit);
            need_of.push(needs.iter().position(|&(m, _)| m == s.modality).map_or(NO_NEED, |k| k as u8));
            let bonus = if client.last_week.contains(&s.series) { CONTINUITY_WEIGHT as i32 } else { 0 };
            value.push(bonus - i32::from(s.slot.minutes));
            spare.push(
                s.modality.is_one_to_one() && !client.required_modalities.iter().any(|n| n.modality == s.modality),
            );
        }
        // Most clinical minutes with every session open: weighted interval scheduling.
        let mut best = vec![0u32; open.len() + 1];
        for j in 0..open.len() {
            best[j + 1] = best[j].max(best[pred[j]] + clinical(open[j]));
        }
        let max_minutes = fixed.clinical + best[open.len()];
        let inside_any = sessions.iter().any(|s| client.availability.iter().any(|w| w.contains(&s.slot)));
        let base_value =
            PLACED_WEIGHT + i64::from(client.required_minutes) + CONTINUITY_WEIGHT * i64::from(fixed.continuity)
                - i64::from(fixed.total);
        Ok(Prep {
            open,
            pred,
            steps,
            need_of,
            value,
            spare,
            m_cap,
            needs,
            qnext,
            q_len,
            base_value,
            max_minutes,
            inside_any,
        })
    }

    /// The best set of open sessions for client `c` among those `ok` allows, with its value in
    /// the objective; `None` when no such set meets the requirement. Exact (see the module
    /// docs) for the value less `price` (per session; empty for none) less, with `spare_price`,
    /// `SPARE_PRICE` per spare one-to-one session: both only steer the choice, the value
    /// returned is the true one. `limits` caps how many sessions of a facilitator the plan may
    /// take, `(facilitator, at most)`; each one multiplies the state space by `at most + 1`.
    fn best_plan(
        &self,
        c: usize,
        ok: impl Fn(usize) -> bool,
        price: &[i32],
        spare_price: bool,
        limits: &[(usize, u32)],
        work: &mut Work,
    ) -> Option<(Vec<usize>, i64)> {
        let p = &self.clients[c];
        let n = p.open.len();
        let base = p.states();
        let mw = p.m_cap as usize + 1;
        let mut strides = Vec::with_capacity(limits.len());
        let mut l_len = 1usize;
        for &(_, r) in limits {
            strides.push(l_len);
            l_len *= r as usize + 1;
        }
        let w = base * l_len;
        let limit_of = |j: usize| limits.iter().position(|&(fac, _)| fac == self.fac[p.open[j]]);
        // The limit counter after taking open session j, or None when it would pass the limit.
        let lnext = |j: usize, l: usize| match limit_of(j) {
            None => Some(l),
            Some(i) => {
                let r = limits[i].1 as usize;
                ((l / strides[i]) % (r + 1) < r).then_some(l + strides[i])
            }
        };
        let worth = |j: usize| {
            let spare = if spare_price && p.spare[j] { SPARE_PRICE } else { 0 };
            p.value[j] - price.get(p.open[j]).copied().unwrap_or(0) - spare
        };
        // Row j holds the best values over the first j open sessions. A session `ok` refuses
        // adds nothing, so its row is the previous one: `row[j]` maps j to the row stored.
        let (f, row) = (&mut work.f, &mut work.rows);
        row.clear();
        row.push(0);
        let mut stored = 1usize;
        for j in 0..n {
            row.push(if ok(p.open[j]) { stored } else { row[j] });
            if row[j + 1] == stored {
                stored += 1;
            }
        }
        f.clear();
        f.resize(stored * w, NEG);
        f[0] = 0;
        for j in 0..n {
            let r = row[j + 1];
            if r == row[j] {
                continue;
            }
            let (lo, hi) = f.split_at_mut(r * w);
            let dst = &mut hi[..w];
            dst.copy_from_slice(&lo[row[j] * w..(row[j] + 1) * w]);
            let from_row = row[p.pred[j]];
            let src = &lo[from_row * w..(from_row + 1) * w];
            let v = worth(j);
            let u = p.steps[j] as usize;
            for l0 in 0..l_len {
                let Some(l1) = lnext(j, l0) else { continue };
                for q0 in 0..p.q_len {
                    let q1 = match p.need_of[j] {
                        NO_NEED => q0,
                        k => p.qnext[k as usize][q0] as usize,
                    };
                    let from = l0 * base + q0 * mw;
                    let to = l1 * base + q1 * mw;
                    for (m0, &x) in src[from..from + mw].iter().enumerate() {
                        if x == NEG {
                            continue;
                        }
                        let s1 = to + (m0 + u).min(mw - 1);
                        if x + v > dst[s1] {
                            dst[s1] = x + v;
                        }
                    }
                }
            }
        }
        let last = &f[row[n] * w..(row[n] + 1) * w];
        let goal = (0..l_len).map(|l| l * base + p.goal()).max_by_key(|&s| (last[s], std::cmp::Reverse(s)))?;
        if last[goal] == NEG {
            return None;
        }
        // Walk back: a session whose row equals the previous one at this state was not needed.
        let mut plan = Vec::new();
        let mut value = p.base_value;
        let (mut j, mut s) = (n, goal);
        while j > 0 {
            let (here_row, prev_row) = (row[j], row[j - 1]);
            let here = f[here_row * w + s];
            if here_row == prev_row || here == f[prev_row * w + s] {
                j -= 1;
                continue;
            }
            let e = j - 1;
            let back = row[p.pred[e]];
            let v = worth(e);
            let from = (0..w).find(|&s0| {
                let x = f[back * w + s0];
                x != NEG && lnext(e, s0 / base).is_some_and(|l1| l1 * base + p.next(e, s0 % base) == s) && x + v == here
            })?;
            plan.push(p.open[e]);
            value += i64::from(p.value[e]);
            s = from;
            j = p.pred[e];
        }
        plan.reverse();
        Some((plan, value))
    }
}

// ---------------------------------------------------------------------------------------------
// The search.

/// Scratch space of the dynamic programme, reused across calls.
#[derive(Default)]
struct Work {
    f: Vec<i32>,
    rows: Vec<usize>,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

struct Search<'m> {
    m: &'m Model<'m>,
    used: Vec<u32>,
    load: Vec<u32>,
    /// Per client, the non-fixed sessions assigned.
    plan: Vec<Vec<usize>>,
    placed: Vec<bool>,
    value: Vec<i64>,
    total: i64,
    /// Per session, the clients assigned to it by the search (fixed ones are not listed).
    members: Vec<Vec<usize>>,
    rng: Rng,
    work: Work,
    /// Per session, the congestion price that steers insertions away from what others need
    /// (learnt by `negotiate`); it never enters the objective.
    steer: Vec<i32>,
    /// Per client, how many rebuilds left them out though they have a plan on their own.
    blame: Vec<u32>,
}

/// A client's state before a move, to put back if the move is rejected.
struct Saved {
    client: usize,
    placed: bool,
    plan: Vec<usize>,
    value: i64,
}

impl<'m> Search<'m> {
    fn new(m: &'m Model<'m>, seed: u64) -> Self {
        let n = m.inst.clients.len();
        Search {
            m,
            used: m.base_used.clone(),
            load: m.base_load.clone(),
            plan: vec![Vec::new(); n],
            placed: vec![false; n],
            value: vec![0; n],
            total: 0,
            members: vec![Vec::new(); m.cap.len()],
            rng: Rng(seed),
            work: Work::default(),
            steer: Vec::new(),
            blame: vec![0; n],
        }
    }

    fn remove(&mut self, c: usize) {
        for s in std::mem::take(&mut self.plan[c]) {
            self.used[s] -= 1;
            self.load[self.m.fac[s]] -= 1;
            if let Some(k) = self.members[s].iter().position(|&x| x == c) {
                self.members[s].swap_remove(k);
            }
        }
        if self.placed[c] {
            self.total -= self.value[c];
        }
        self.placed[c] = false;
        self.value[c] = 0;
    }

    fn apply(&mut self, c: usize, plan: Vec<usize>, value: i64) {
        for &s in &plan {
            self.used[s] += 1;
            self.load[self.m.fac[s]] += 1;
            self.members[s].push(c);
        }
        self.plan[c] = plan;
        self.placed[c] = true;
        self.value[c] = value;
        self.total += value;
    }

    /// The best plan for `c` against the current seats, if any; `c` must not be placed.
    /// Without `seats` (or `loads`) full sessions (or facilitators at load) are treated as open:
    /// that is for diagnosis and for choosing whom to move.
    fn plan_for(&mut self, c: usize, seats: bool, loads: bool, steered: bool) -> Option<(Vec<usize>, i64)> {
        let m = self.m;
        let price: &[i32] = if steered { &self.steer } else { &[] };
        let (used, load) = (&self.used, &self.load);
        let ok = |s: usize| (!seats || used[s] < m.cap[s]) && (!loads || load[m.fac[s]] < m.max_load[m.fac[s]]);
        let (plan, value) = m.best_plan(c, ok, price, steered, &[], &mut self.work)?;
        let room = |f: usize| m.max_load[f] - load[f];
        let over = |plan: &[usize]| {
            plan.iter().any(|&s| plan.iter().filter(|&&t| m.fac[t] == m.fac[s]).count() as u32 > room(m.fac[s]))
        };
        if !loads || !over(&plan) {
            return Some((plan, value));
        }
        // The plan takes more of some facilitator than they have left. Count, in the state,
        // the picks of every facilitator the client could overload (exact) when that stays
        // small; otherwise ban an offending pick and retry (a heuristic that stays feasible).
        let mut mine = vec![0u32; m.max_load.len()];
        for &s in &m.clients[c].open {
            if ok(s) {
                mine[m.fac[s]] += 1;
            }
        }
        let mut limits: Vec<(usize, u32)> = Vec::new();
        let mut size = m.clients[c].states();
        for (f, &k) in mine.iter().enumerate() {
            if k > room(f) {
                limits.push((f, room(f)));
                size = size.saturating_mul(room(f) as usize + 1);
            }
        }
        if size <= (m.clients[c].states() * EXACT_LIMIT_GROWTH).min(MAX_STATES) {
            return m.best_plan(c, ok, price, steered, &limits, &mut self.work);
        }
        let mut banned: Vec<usize> = Vec::new();
        let mut plan = plan;
        for _ in 0..m.clients[c].open.len() {
            let Some(&s) =
                plan.iter().find(|&&s| plan.iter().filter(|&&t| m.fac[t] == m.fac[s]).count() as u32 > room(m.fac[s]))
            else {
                break;
            };
            banned.push(s);
            let ok2 = |t: usize| ok(t) && !banned.contains(&t);
            let (next, v) = m.best_plan(c, ok2, price, steered, &[], &mut self.work)?;
            if !over(&next) {
                return Some((next, v));
            }
            plan = next;
        }
        None
    }

    /// Places `c` (not placed) if it fits; `steered` lets the congestion prices pick among
    /// plans, otherwise the best plan for the objective is taken.
    fn insert(&mut self, c: usize, steered: bool) -> bool {
        match self.plan_for(c, true, true, steered) {
            Some((plan, value)) => {
                self.apply(c, plan, value);
                true
            }
            None => false,
        }
    }

    fn save(&self, c: usize) -> Saved {
        Saved { client: c, placed: self.placed[c], plan: self.plan[c].clone(), value: self.value[c] }
    }

    fn restore(&mut self, saved: Vec<Saved>) {
        for s in &saved {
            self.remove(s.client);
        }
        for s in saved {
            if s.placed {
                self.apply(s.client, s.plan, s.value);
            }
        }
    }

    /// Prices for seats and loads from a Lagrangian relaxation (projected subgradient, steps
    /// scaled by supply): at given prices the clients are independent, each taking their best
    /// priced plan, or none if no plan is worth its price; prices rise where demand exceeds
    /// supply and fall where seats go spare. At the start (no prices) a few feasible weeks are
    /// built, then one every `RECOVER_EVERY` rounds, and at the end `REBUILDS` more at the
    /// prices of the best week so far: each inserts the clients in order of their priced worth
    /// with the prices steering each plan, the clients left out by earlier builds first
    /// (squeaky wheel). The best week and its prices are kept; the prices then steer the local
    /// search. In the rounds allowed the subgradient is far from converged on crowded weeks;
    /// the prices still move clients with alternatives off contested seats, which is what the
    /// builds need.
    fn lagrange(&mut self, rounds: u32) {
        let m = self.m;
        let n = m.inst.clients.len();
        let (ns, nf) = (m.cap.len(), m.max_load.len());
        let room_s: Vec<f64> = (0..ns).map(|s| f64::from(m.cap[s] - m.base_used[s])).collect();
        let room_f: Vec<f64> = (0..nf).map(|f| f64::from(m.max_load[f] - m.base_load[f])).collect();
        let mut lam = vec![0f64; ns];
        let mut mu = vec![0f64; nf];
        let mut price = vec![0i32; ns];
        let mut worth = vec![i64::MIN; n];
        let (mut theta, mut stall) = (1.0f64, 0u32);
        // The best dual (upper bound) seen, with its prices and the clients' worth at them.
        let mut best_dual: (f64, Vec<i32>, Vec<i64>) = (f64::INFINITY, Vec::new(), Vec::new());
        // The best week so far (from `construct` to start with), its prices and worths.
        let mut best = (self.total, (0..n).map(|c| self.save(c)).collect::<Vec<_>>(), Vec::new(), Vec::new());
        for round in 0..rounds.max(1) {
            for (s, p) in price.iter_mut().enumerate() {
                *p = (lam[s] + mu[m.fac[s]]).round().min(1e6) as i32;
            }
            let mut dem_s = vec![0f64; ns];
            let mut dem_f = vec![0f64; nf];
            let mut dual: f64 = lam.iter().zip(&room_s).map(|(l, r)| l * r).sum::<f64>()
                + mu.iter().zip(&room_f).map(|(l, r)| l * r).sum::<f64>();
            for (c, w) in worth.iter_mut().enumerate() {
                *w = i64::MIN;
                if let Some((plan, value)) = m.best_plan(c, |_| true, &price, false, &[], &mut self.work) {
                    let v = value - plan.iter().map(|&s| i64::from(price[s])).sum::<i64>();
                    *w = v;
                    if v > 0 {
                        dual += v as f64;
                        for &s in &plan {
                            dem_s[s] += 1.0;
                            dem_f[m.fac[s]] += 1.0;
                        }
                    }
                }
            }
            if dual < best_dual.0 - 0.5 {
                best_dual = (dual, price.clone(), worth.clone());
                stall = 0;
            } else {
                stall += 1;
                if stall >= 5 {
                    theta /= 2.0;
                    stall = 0;
                }
            }
            // Feasible weeks: at the start (unpriced, where a roomy week is already solved) a
            // few squeaky-wheel rebuilds, which also give the step rule a sound lower bound;
            // then one every few rounds.
            let rebuilds = if round == 0 {
                EARLY_REBUILDS
            } else if round % RECOVER_EVERY == 0 {
                1
            } else {
                0
            };
            self.steer = price.clone();
            for _ in 0..rebuilds {
                self.recover(&worth);
                if self.total > best.0 {
                    best = (self.total, (0..n).map(|c| self.save(c)).collect(), price.clone(), worth.clone());
                }
            }
            let lower = best.0 as f64;
            let gs: Vec<f64> = (0..ns)
                .map(|s| if lam[s] > 0.0 || dem_s[s] > room_s[s] { dem_s[s] - room_s[s] } else { 0.0 })
                .collect();
            let gf: Vec<f64> =
                (0..nf).map(|f| if mu[f] > 0.0 || dem_f[f] > room_f[f] { dem_f[f] - room_f[f] } else { 0.0 }).collect();
            // Scaled by supply: a load of 90 and a room of 10 move on the same relative footing.
            let norm: f64 = gs.iter().zip(&room_s).chain(gf.iter().zip(&room_f)).map(|(g, r)| g * g / r.max(1.0)).sum();
            if norm == 0.0 {
                break;
            }
            let step = theta * (dual - lower).max(1.0) / norm;
            for ((l, g), r) in lam.iter_mut().zip(&gs).zip(&room_s) {
                *l = (*l + step * g / r.max(1.0)).clamp(0.0, 1e6);
            }
            for ((l, g), r) in mu.iter_mut().zip(&gf).zip(&room_f) {
                *l = (*l + step * g / r.max(1.0)).clamp(0.0, 1e6);
            }
        }
        // Squeaky wheel at the prices that gave the best week: rebuild repeatedly, the clients
        // left out each time moving up.
        let (price, worth) =
            if best.2.is_empty() { (best_dual.1, best_dual.2) } else { (best.2.clone(), best.3.clone()) };
        self.steer = price;
        for _ in 0..REBUILDS {
            self.recover(&worth);
            if self.total > best.0 {
                best = (self.total, (0..n).map(|c| self.save(c)).collect(), self.steer.clone(), worth.clone());
            }
        }
        let (_, saved, price, _) = best;
        for c in 0..n {
            self.remove(c);
        }
        self.restore(saved);
        self.steer = price;
    }

    /// A feasible week from scratch: clients in order of their priced worth (most first),
    /// each taking the best plan left for them as steered by the current prices.
    /// Clients left out of earlier attempts go first (squeaky-wheel ordering): a client
    /// placed last time can usually still be placed when moved back, the reverse is rarer.
    fn recover(&mut self, worth: &[i64]) {
        let n = self.m.inst.clients.len();
        for c in 0..n {
            self.remove(c);
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&c| (std::cmp::Reverse(self.blame[c]), std::cmp::Reverse(worth[c]), c));
        for c in order {
            if !self.insert(c, true) && worth[c] != i64::MIN {
                self.blame[c] += 1;
            }
        }
    }

    /// Greedy construction in two orders (least slack in their availability first; smallest
    /// requirement first); keeps the better.
    fn construct(&mut self) {
        let m = self.m;
        let n = m.inst.clients.len();
        let slack = |c: usize| i64::from(m.clients[c].max_minutes) - i64::from(m.inst.clients[c].required_minutes);
        let mut tight: Vec<usize> = (0..n).collect();
        tight.sort_by_key(|&c| (slack(c), c));
        let mut small: Vec<usize> = (0..n).collect();
        small.sort_by_key(|&c| (m.inst.clients[c].required_minutes, slack(c), c));
        for &c in &tight {
            self.insert(c, true);
        }
        let first: Vec<Saved> = (0..n).map(|c| self.save(c)).collect();
        let first_total = self.total;
        for c in 0..n {
            self.remove(c);
        }
        for &c in &small {
            self.insert(c, true);
        }
        if self.total < first_total {
            self.restore(first);
        }
    }

    /// Large-neighbourhood search: `moves` destroy-and-repair steps.
    fn improve(&mut self, moves: u64, steered: bool) {
        let n = self.m.inst.clients.len();
        if n == 0 || self.m.cap.is_empty() {
            return;
        }
        for _ in 0..moves {
            let touched = match self.rng.below(10) {
                0..=3 => self.around_session(),
                4..=6 => self.for_lost_series(),
                _ => self.for_unplaced(),
            };
            let Some(touched) = touched else { continue };
            let mut order: Vec<usize> = Vec::with_capacity(touched.len());
            for c in touched {
                if !order.contains(&c) {
                    order.push(c);
                }
            }
            self.attempt(&order, steered);
        }
    }

    /// The members of a random session and of one session overlapping it, plus a few unplaced
    /// clients to whom it is open, in a shuffled order.
    fn around_session(&mut self) -> Option<Vec<usize>> {
        let m = self.m;
        let s = self.rng.below(m.cap.len());
        let mut out = self.members[s].clone();
        if !m.overlapping[s].is_empty() {
            let t = m.overlapping[s][self.rng.below(m.overlapping[s].len())];
            let extra: Vec<usize> = self.members[t].iter().copied().filter(|c| !out.contains(c)).collect();
            out.extend(extra);
        }
        let waiting: Vec<usize> = m.open_to[s].iter().copied().filter(|&c| !self.placed[c]).collect();
        for _ in 0..waiting.len().min(3) {
            let c = waiting[self.rng.below(waiting.len())];
            if !out.contains(&c) {
                out.push(c);
            }
        }
        if out.is_empty() {
            return None;
        }
        for i in (1..out.len()).rev() {
            let j = self.rng.below(i + 1);
            out.swap(i, j);
        }
        Some(out)
    }

    /// A placed client missing a series they had last week, because it is full: them first,
    /// then up to two members of that session who had no continuity there.
    fn for_lost_series(&mut self) -> Option<Vec<usize>> {
        let m = self.m;
        let n = m.inst.clients.len();
        let c = self.rng.below(n);
        let client = &m.inst.clients[c];
        if !self.placed[c] || client.last_week.is_empty() {
            return None;
        }
        let lost: Vec<usize> = m.clients[c]
            .open
            .iter()
            .copied()
            .filter(|&s| client.last_week.contains(&m.inst.sessions[s].series) && !self.plan[c].contains(&s))
            .collect();
        if lost.is_empty() {
            return None;
        }
        let s = lost[self.rng.below(lost.len())];
        let series = m.inst.sessions[s].series;
        let others: Vec<usize> =
            self.members[s].iter().copied().filter(|&o| !m.inst.clients[o].last_week.contains(&series)).collect();
        let mut out = vec![c];
        for _ in 0..others.len().min(2) {
            let o = others[self.rng.below(others.len())];
            if !out.contains(&o) {
                out.push(o);
            }
        }
        // Whoever sits in the sessions overlapping s may have to move too.
        if let Some(&t) = self.plan[c].iter().find(|&&t| m.inst.sessions[t].slot.overlaps(&m.inst.sessions[s].slot)) {
            let extra: Vec<usize> = self.members[t].iter().copied().filter(|o| !out.contains(o)).take(2).collect();
            out.extend(extra);
        }
        Some(out)
    }

    /// An unplaced client whose requirement fits if seats were free: them first, then one
    /// member of each full session (or at-load facilitator) their ideal plan uses.
    fn for_unplaced(&mut self) -> Option<Vec<usize>> {
        let m = self.m;
        let waiting: Vec<usize> = (0..m.inst.clients.len()).filter(|&c| !self.placed[c]).collect();
        if waiting.is_empty() {
            return None;
        }
        let c = waiting[self.rng.below(waiting.len())];
        let (plan, _) = self.plan_for(c, false, false, true)?;
        // Either one member of each blocking session moves, or all of them (a bigger hole,
        // refilled least flexible first).
        let all = self.rng.below(2) == 0;
        let mut out = Vec::new();
        for s in plan {
            let f = m.fac[s];
            if self.used[s] < m.cap[s] && self.load[f] < m.max_load[f] {
                continue;
            }
            let pool: Vec<usize> = self.members[s].iter().copied().filter(|o| !out.contains(o)).collect();
            if all {
                out.extend(pool);
            } else if !pool.is_empty() {
                out.push(pool[self.rng.below(pool.len())]);
            }
        }
        out.sort_by_key(|&o| (m.clients[o].max_minutes as i64 - i64::from(m.inst.clients[o].required_minutes), o));
        out.insert(0, c);
        Some(out)
    }

    /// Re-optimises each client alone against everyone else until nothing improves, and
    /// retries every unplaced client.
    fn polish(&mut self) {
        let n = self.m.inst.clients.len();
        for _ in 0..POLISH_PASSES {
            let before = self.total;
            for c in 0..n {
                self.attempt(&[c], false);
            }
            self.swap_for_series();
            if self.total == before {
                break;
            }
        }
    }

    /// Removes `order`, re-inserts it in that order, and keeps the result unless the objective
    /// dropped (then puts everything back). True when it rose.
    fn attempt(&mut self, order: &[usize], steered: bool) -> bool {
        let before = self.total;
        let saved: Vec<Saved> = order.iter().map(|&c| self.save(c)).collect();
        for &c in order {
            self.remove(c);
        }
        for &c in order {
            self.insert(c, steered);
        }
        if self.total < before {
            self.restore(saved);
        }
        self.total > before
    }

    /// For every placed client and every series they had last week whose session is full
    /// now: let them take a seat from a member who had no continuity there, the member
    /// re-planning afterwards, if that raises the objective.
    fn swap_for_series(&mut self) {
        let m = self.m;
        for c in 0..m.inst.clients.len() {
            let client = &m.inst.clients[c];
            if !self.placed[c] || client.last_week.is_empty() {
                continue;
            }
            for &s in &m.clients[c].open {
                let series = m.inst.sessions[s].series;
                if !client.last_week.contains(&series) || self.plan[c].contains(&s) || self.used[s] < m.cap[s] {
                    continue;
                }
                let others: Vec<usize> = self.members[s]
                    .iter()
                    .copied()
                    .filter(|&o| !m.inst.clients[o].last_week.contains(&series))
                    .collect();
                for o in others {
                    if self.attempt(&[c, o], false) {
                        break;
                    }
                }
            }
        }
    }

    /// Why client `c` (unplaced) cannot be placed, from their own situation outwards.
    fn diagnose(&mut self, c: usize) -> Blocker {
        let m = self.m;
        let p = &m.clients[c];
        let client = &m.inst.clients[c];
        if !p.inside_any {
            return Blocker::NoAvailability;
        }
        for &(modality, need) in &p.needs {
            // Most non-overlapping sessions of this modality: earliest end first.
            let mut count = 0u32;
            let mut last: Option<(i32, u32)> = None;
            for &s in &p.open {
                let session = &m.inst.sessions[s];
                if session.modality != modality {
                    continue;
                }
                let (day, end, start) = key(session);
                if last.is_none_or(|(d, e)| d < day || e <= start) {
                    count += 1;
                    last = Some((day, end));
                }
            }
            if count < need {
                return Blocker::ModalityUnavailable(modality);
            }
        }
        if p.max_minutes < client.required_minutes {
            return Blocker::NotEnoughHoursInAvailability {
                max_minutes: p.max_minutes,
                needed: client.required_minutes,
            };
        }
        if self.plan_for(c, false, false, false).is_none() {
            return Blocker::RequirementsConflict;
        }
        if self.plan_for(c, true, false, false).is_none() {
            return Blocker::CapacityExhausted;
        }
        Blocker::FacilitatorLoad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_booking_finds_a_long_session_overlapping_a_later_one() {
        let slot = |h: u8, minutes: u16| Slot {
            date: time::macros::date!(2026 - 03 - 02),
            start: Time::from_hms(h, 0, 0).unwrap(),
            minutes,
        };
        let s = |h, minutes| Session {
            slot: slot(h, minutes),
            modality: Modality::Group,
            capacity: 8,
            facilitator: 0,
            room: 0,
            series: 0,
        };
        // 9–12, 10–11 (inside), 12–13: the first two clash though not adjacent after the third.
        let sessions = [s(9, 180), s(12, 60), s(10, 60)];
        assert_eq!(double_booking(&sessions, |s| s.facilitator), Some((0, 0, 2)));
        let fine = [s(9, 60), s(10, 60), s(11, 60)];
        assert_eq!(double_booking(&fine, |s| s.facilitator), None);
    }
}
