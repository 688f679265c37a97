//! The schedule builder (`domain::iop::builder`) on generated IOP weeks. For each client count
//! it generates a week (deterministic by seed), writes it as JSON, runs the builder several
//! times (timing it), checks the proposal with `builder::check`, and writes the proposal with
//! its objective. `bench/schedule_exact.py` solves the same JSON exactly with CP-SAT and
//! `bench/schedule.sh` prints both side by side.
//!
//! The generated week: a day track (Mon–Fri 9:00–10:30 group therapy, 10:30–12:00
//! psychoeducation / life skills / wellness), afternoon hours for 2.5 (Mon–Fri 13:00–14:00 and
//! 14:00–15:00), an evening track (Mon/Tue/Thu 18:00–19:30 group therapy, 19:30–21:00 the
//! others), groups of 8–12 in rooms of 8–14, group facilitators capped at 85–100 % of the
//! seats they run; individual (60 min), family (60 min) and case-management (30 min) slots with
//! their own staff. Clients: 90 % 2.1 (540 min), 10 % 2.5 (1200 min), all needing one
//! individual session, some a family session, some 2.5 clients case management; available
//! mornings (they work afternoons), days, evenings (they work days) or all day, a fifth of them
//! missing one weekday, a few only at weekends; most returning with last week's series, some
//! with their individual session already fixed.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use domain::iop::builder::{
    self, Blocker, Client, Facilitator, Instance, Need, Options, Room, Session, Window, build_with, check,
};
use domain::iop::{Modality, Slot};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use time::{Date, Time, Weekday, macros::date};

#[derive(Parser)]
#[command(about = "Schedule builder on generated IOP weeks")]
struct Args {
    /// Client counts to generate.
    #[arg(long, value_delimiter = ',', default_value = "50,200,500")]
    clients: Vec<usize>,
    /// Group sessions per week; default 0.75 per client, clamped to 60–150.
    #[arg(long)]
    groups: Option<usize>,
    /// Where to write the instances and proposals.
    #[arg(long, default_value = "/tmp/stepdown-bench/schedule")]
    out: PathBuf,
    #[arg(long, default_value_t = 11)]
    seed: u64,
    /// Timed runs of the builder per instance (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Local-search effort (moves per client); default: the builder's own.
    #[arg(long)]
    effort: Option<u32>,
}

const MONDAY: Date = date!(2026 - 03 - 02);
const DAYS: [Weekday; 5] = [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday];
const ROTATION: [Modality; 3] = [Modality::Psychoeducation, Modality::LifeSkills, Modality::Wellness];

fn hm(h: u8, m: u8) -> Result<Time> {
    Time::from_hms(h, m, 0).context("bad time")
}

struct Gen {
    inst: Instance,
    rng: StdRng,
}

impl Gen {
    fn facilitator(&mut self, max_load: u32) -> usize {
        self.inst.facilitators.push(Facilitator { max_load });
        self.inst.facilitators.len() - 1
    }

    fn room(&mut self, capacity: u16) -> usize {
        self.inst.rooms.push(Room { capacity });
        self.inst.rooms.len() - 1
    }

    fn session(&mut self, day: usize, start: Time, minutes: u16, modality: Modality, fac: usize, room: usize) -> usize {
        let capacity = if modality.is_one_to_one() { 1 } else { self.rng.random_range(8..=12) };
        let series = self.inst.sessions.len() as u32;
        let date = MONDAY + time::Duration::days(day as i64);
        self.inst.sessions.push(Session {
            slot: Slot { date, start, minutes },
            modality,
            capacity,
            facilitator: fac,
            room,
            series,
        });
        self.inst.sessions.len() - 1
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Avail {
    Morning,
    Day,
    Evening,
    Flexible,
    Weekend,
}

fn generate(n: usize, groups: usize, seed: u64) -> Result<Instance> {
    let mut g = Gen { inst: Instance::default(), rng: StdRng::seed_from_u64(seed ^ (n as u64).wrapping_mul(0x9E37)) };
    let k_day = ((groups as f64 * 0.54 / 10.0).round() as usize).max(1);
    let k_pm = ((groups as f64 * 0.13 / 10.0).round() as usize).max(1);
    let k_eve = ((groups.saturating_sub(10 * (k_day + k_pm))) / 6).max(1);

    // Group rooms, reused across blocks that do not overlap.
    let n_rooms = k_day.max(k_pm).max(k_eve);
    let rooms: Vec<usize> =
        (0..n_rooms).map(|_| g.rng.random_range(8..=14)).collect::<Vec<u16>>().into_iter().map(|c| g.room(c)).collect();
    // (session, parallel index, block) of every group session, for last week's series.
    let mut group_sessions: Vec<(usize, usize, usize, usize)> = Vec::new(); // (session, day, block, parallel)
    let mut facilitated: Vec<(usize, u32)> = Vec::new(); // (facilitator, seats run)
    let day_fac: Vec<usize> = (0..k_day).map(|_| g.facilitator(0)).collect();
    let pm_fac: Vec<usize> = (0..k_pm).map(|_| g.facilitator(0)).collect();
    let eve_fac: Vec<usize> = (0..k_eve).map(|_| g.facilitator(0)).collect();
    for (d, _) in DAYS.iter().enumerate() {
        for p in 0..k_day {
            let s = g.session(d, hm(9, 0)?, 90, Modality::Group, day_fac[p], rooms[p]);
            group_sessions.push((s, d, 0, p));
            let s = g.session(d, hm(10, 30)?, 90, ROTATION[(d + p) % 3], day_fac[p], rooms[p]);
            group_sessions.push((s, d, 1, p));
        }
        for p in 0..k_pm {
            let s = g.session(d, hm(13, 0)?, 60, Modality::Wellness, pm_fac[p], rooms[p]);
            group_sessions.push((s, d, 2, p));
            let m = if (d + p) % 2 == 0 { Modality::Group } else { Modality::LifeSkills };
            let s = g.session(d, hm(14, 0)?, 60, m, pm_fac[p], rooms[p]);
            group_sessions.push((s, d, 3, p));
        }
        if matches!(DAYS[d], Weekday::Monday | Weekday::Tuesday | Weekday::Thursday) {
            for p in 0..k_eve {
                let s = g.session(d, hm(18, 0)?, 90, Modality::Group, eve_fac[p], rooms[p]);
                group_sessions.push((s, d, 4, p));
                let s = g.session(d, hm(19, 30)?, 90, ROTATION[(d + p + 1) % 3], eve_fac[p], rooms[p]);
                group_sessions.push((s, d, 5, p));
            }
        }
    }
    for &(s, ..) in &group_sessions {
        let sess = g.inst.sessions[s];
        let seats = u32::from(sess.capacity.min(g.inst.rooms[sess.room].capacity));
        match facilitated.iter_mut().find(|(f, _)| *f == sess.facilitator) {
            Some((_, total)) => *total += seats,
            None => facilitated.push((sess.facilitator, seats)),
        }
    }
    // Group facilitators write a note per client per session: capped at 85–100 % of the seats.
    for (f, seats) in facilitated {
        let pct = g.rng.random_range(85..=100);
        g.inst.facilitators[f].max_load = seats * pct / 100;
    }

    // One-to-one staff, each in their own office.
    let mut individual: Vec<usize> = Vec::new();
    let therapists = (n * 11).div_ceil(100).max(2);
    for t in 0..therapists {
        let office = g.room(4);
        let fac = g.facilitator(0);
        let mut slots = Vec::new();
        match t % 4 {
            0 => {
                for d in 0..5 {
                    slots.push((d, hm(8, 0)?));
                    slots.push((d, hm(12, 0)?));
                }
            }
            1 => {
                for d in 0..5 {
                    slots.push((d, hm(12, 0)?));
                    slots.push((d, hm(15, 0)?));
                }
            }
            _ => {
                for d in 0..5 {
                    slots.push((d, hm(17, 0)?));
                }
                for d in [2, 4] {
                    for h in [18, 19, 20] {
                        slots.push((d, hm(h, 0)?));
                    }
                }
            }
        }
        let count = slots.len() as u32;
        for (d, at) in slots {
            individual.push(g.session(d, at, 60, Modality::Individual, fac, office));
        }
        g.inst.facilitators[fac].max_load = if t % 3 == 0 { count - 2 } else { count };
    }
    let mut family: Vec<usize> = Vec::new();
    for _ in 0..(n * 35).div_ceil(800).max(1) {
        let office = g.room(4);
        let fac = g.facilitator(8);
        for d in 0..4 {
            family.push(g.session(d, hm(12, 0)?, 60, Modality::Family, fac, office));
            family.push(g.session(d, hm(17, 0)?, 60, Modality::Family, fac, office));
        }
    }
    for _ in 0..(n * 2).div_ceil(150).max(1) {
        let office = g.room(2);
        let fac = g.facilitator(15);
        for d in 0..5 {
            for at in [hm(8, 0)?, hm(12, 30)?, hm(16, 30)?] {
                g.session(d, at, 30, Modality::CaseManagement, fac, office);
            }
        }
    }

    // Clients.
    let mut fixed_used = vec![0u32; g.inst.sessions.len()];
    let mut fixed_load = vec![0u32; g.inst.facilitators.len()];
    for _ in 0..n {
        let intensive = g.rng.random_bool(0.10);
        let r: f64 = g.rng.random();
        let avail = if r < 0.02 {
            Avail::Weekend
        } else if intensive && g.rng.random_bool(0.9) {
            if g.rng.random_bool(0.5) { Avail::Day } else { Avail::Flexible }
        } else if r < 0.30 {
            Avail::Morning
        } else if r < 0.45 {
            Avail::Day
        } else if r < 0.77 {
            Avail::Evening
        } else {
            Avail::Flexible
        };
        let (from, to) = match avail {
            Avail::Morning => (hm(8, 0)?, hm(13, 0)?),
            Avail::Day => (hm(8, 0)?, hm(16, 0)?),
            Avail::Evening => (hm(16, 30)?, hm(21, 30)?),
            Avail::Flexible | Avail::Weekend => (hm(8, 0)?, hm(21, 30)?),
        };
        let mut availability: Vec<Window> = if avail == Avail::Weekend {
            vec![Window { weekday: Weekday::Saturday, start: hm(10, 0)?, end: hm(14, 0)? }]
        } else {
            DAYS.iter().map(|&weekday| Window { weekday, start: from, end: to }).collect()
        };
        if avail != Avail::Weekend && g.rng.random_bool(0.2) {
            let drop = g.rng.random_range(0..availability.len());
            availability.remove(drop);
        }
        let mut required_modalities = vec![Need { modality: Modality::Individual, count: 1 }];
        if g.rng.random_bool(0.3) {
            required_modalities.push(Need { modality: Modality::Family, count: 1 });
        }
        if intensive && g.rng.random_bool(0.6) {
            required_modalities.push(Need { modality: Modality::CaseManagement, count: 1 });
        }
        let inside = |s: usize, inst: &Instance| availability.iter().any(|w| w.contains(&inst.sessions[s].slot));
        let mut last_week = Vec::new();
        let mut fixed = Vec::new();
        if g.rng.random_bool(0.7) {
            // Last week: one preferred group per block, most days they could come.
            let pref: Vec<usize> =
                (0..6).map(|b| g.rng.random_range(0..[k_day, k_day, k_pm, k_pm, k_eve, k_eve][b])).collect();
            for &(s, _, block, p) in &group_sessions {
                if p == pref[block] && inside(s, &g.inst) && g.rng.random_bool(0.8) {
                    last_week.push(g.inst.sessions[s].series);
                }
            }
            let mine: Vec<usize> = individual.iter().copied().filter(|&s| inside(s, &g.inst)).collect();
            if !mine.is_empty() {
                let s = mine[g.rng.random_range(0..mine.len())];
                last_week.push(g.inst.sessions[s].series);
                let f = g.inst.sessions[s].facilitator;
                if g.rng.random_bool(0.15) && fixed_used[s] == 0 && fixed_load[f] < g.inst.facilitators[f].max_load {
                    fixed_used[s] += 1;
                    fixed_load[f] += 1;
                    fixed.push(s);
                }
            }
            if required_modalities.iter().any(|n| n.modality == Modality::Family) {
                let mine: Vec<usize> = family.iter().copied().filter(|&s| inside(s, &g.inst)).collect();
                if !mine.is_empty() {
                    last_week.push(g.inst.sessions[mine[g.rng.random_range(0..mine.len())]].series);
                }
            }
        }
        g.inst.clients.push(Client {
            required_minutes: if intensive { 1200 } else { 540 },
            required_modalities,
            availability,
            fixed,
            last_week,
        });
    }
    builder::validate(&g.inst).context("the generator made a malformed instance")?;
    Ok(g.inst)
}

fn reason_name(b: &Blocker) -> &'static str {
    match b {
        Blocker::NoAvailability => "no_availability",
        Blocker::ModalityUnavailable(_) => "modality_unavailable",
        Blocker::NotEnoughHoursInAvailability { .. } => "not_enough_hours",
        Blocker::RequirementsConflict => "requirements_conflict",
        Blocker::CapacityExhausted => "capacity_exhausted",
        Blocker::FacilitatorLoad => "facilitator_load",
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    std::fs::create_dir_all(&args.out)?;
    let mut options = Options::default();
    if let Some(e) = args.effort {
        options.effort = e;
    }
    println!("clients  groups  1:1  time_ms(median)  objective  placed  continuity  excess  violations  unplaced");
    for &n in &args.clients {
        let groups = args.groups.unwrap_or((n * 3 / 4).clamp(60, 150));
        let inst = generate(n, groups, args.seed)?;
        let one_to_one = inst.sessions.iter().filter(|s| s.modality.is_one_to_one()).count();
        let n_groups = inst.sessions.len() - one_to_one;
        let name = format!("n{n}");
        std::fs::write(args.out.join(format!("{name}.instance.json")), serde_json::to_vec(&inst)?)?;

        let mut times = Vec::with_capacity(args.runs);
        let mut proposal = None;
        for _ in 0..args.runs {
            let t = Instant::now();
            let p = build_with(&inst, &options)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            proposal = Some(p);
        }
        let Some(proposal) = proposal else { bail!("no run") };
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let violations = check(&inst, &proposal);
        let mut reasons: Vec<(&str, usize)> = Vec::new();
        for u in &proposal.unplaced {
            let r = reason_name(&u.reason);
            match reasons.iter_mut().find(|(k, _)| *k == r) {
                Some((_, c)) => *c += 1,
                None => reasons.push((r, 1)),
            }
        }
        let sc = proposal.score;
        let reasons_text: Vec<String> = reasons.iter().map(|(k, c)| format!("{k}={c}")).collect();
        println!(
            "{n:>7}  {n_groups:>6}  {one_to_one:>3}  {median:>15.1}  {:>9}  {:>6}  {:>10}  {:>6}  {:>10}  {}",
            sc.objective,
            sc.placed,
            sc.continuity,
            sc.excess_minutes,
            violations.len(),
            reasons_text.join(" ")
        );
        for v in violations.iter().take(5) {
            println!("  violation: {v}");
        }
        let result = json!({
            "clients": n,
            "groups": n_groups,
            "one_to_one": one_to_one,
            "sessions": inst.sessions.len(),
            "time_ms_median": median,
            "time_ms_min": times[0],
            "time_ms_max": times[times.len() - 1],
            "objective": sc.objective,
            "placed": sc.placed,
            "continuity": sc.continuity,
            "excess_minutes": sc.excess_minutes,
            "violations": violations.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            "unplaced": proposal.unplaced,
            "assignments": proposal.assignments,
        });
        std::fs::write(args.out.join(format!("{name}.builder.json")), serde_json::to_vec(&result)?)?;
    }
    Ok(())
}
