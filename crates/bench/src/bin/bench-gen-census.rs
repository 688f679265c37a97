//! Builds a center with a live census and years of history for the census benchmark, entirely
//! through the real use cases: `create_site` / `add_room` / `add_bed` as an administrator,
//! `create_client_record`, `admit` and `decide` (step down, step up, transfer, extend,
//! discharge) as supervisors, each in its own transaction with its audit event, exactly as the
//! API would write them.
//!
//! Episodes are planned first (levels, dates, discharge reasons), then replayed in admission
//! order, assigning beds on the way so that a bed is never held by two placements at once (the
//! use case refuses that, as it should). Decisions are dated in the past; `extend` is always
//! dated today by the use case, so only open episodes get one.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use app::continuum::{AdmitForm, DecisionForm};
use bench::names::{FAMILY, GIVEN, list};
use bench::{DbArgs, add_user, client_form, ctx_for, open};
use clap::Parser;
use domain::ids::{BedId, ClientId, SiteId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::{Date, Duration};

#[derive(Parser)]
#[command(about = "Generate sites, beds, years of episodes and a live census through the real use cases")]
struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// Discharged episodes spread over the history.
    #[arg(long, default_value_t = 3_600)]
    history: usize,
    #[arg(long, default_value_t = 5)]
    years: i64,
    /// Episodes open today (the census).
    #[arg(long, default_value_t = 300)]
    open: usize,
    /// Two-bed rooms per site (two sites).
    #[arg(long, default_value_t = 50)]
    rooms_per_site: usize,
    #[arg(long, default_value_t = 11)]
    seed: u64,
}

const RESIDENTIAL: [&str; 3] = ["3.7", "3.5", "3.1"];
const NON_RESIDENTIAL: [&str; 3] = ["2.5", "2.1", "1"];

fn rank(level: &str) -> u16 {
    match level {
        "3.7" => 37,
        "3.5" => 35,
        "3.1" => 31,
        "2.5" => 25,
        "2.1" => 21,
        _ => 10,
    }
}

fn residential(level: &str) -> bool {
    RESIDENTIAL.contains(&level)
}

/// Typical days at a level: (shortest, longest).
fn stay(level: &str) -> (i64, i64) {
    match level {
        "3.7" => (4, 14),
        "3.5" => (10, 30),
        "3.1" => (14, 45),
        "2.5" => (10, 30),
        "2.1" => (21, 60),
        _ => (30, 120),
    }
}

#[derive(Clone, Debug)]
struct Segment {
    level: &'static str,
    start: Date,
    planned_end: Option<Date>,
    /// Non-residential only: this segment is a transfer to the other site at the same level.
    transfer: bool,
}

#[derive(Clone, Debug)]
struct Plan {
    admitted: Date,
    site: usize,
    segments: Vec<Segment>,
    /// Discharge date and reason; `None` for an open episode.
    discharge: Option<(Date, &'static str)>,
    /// Open episodes only: extend the current planned end today.
    extend: bool,
    readmission: bool,
}

impl Plan {
    /// The day the last residential segment ends (the bed is free from then on), if any.
    fn bed_until(&self) -> Option<Date> {
        let last_res = self.segments.iter().rposition(|s| residential(s.level))?;
        Some(match self.segments.get(last_res + 1) {
            Some(next) => next.start,
            None => self.discharge.map(|d| d.0).unwrap_or(Date::MAX),
        })
    }
}

fn days(rng: &mut StdRng, level: &str) -> i64 {
    let (lo, hi) = stay(level);
    rng.random_range(lo..=hi)
}

fn planned(rng: &mut StdRng, start: Date, actual: i64) -> Option<Date> {
    if rng.random_bool(0.1) {
        return None;
    }
    let guess = (actual + rng.random_range(-7..=7)).max(1);
    Some(start + Duration::days(guess))
}

/// The chain of levels an episode goes through, most intensive first.
fn pathway(rng: &mut StdRng) -> Vec<&'static str> {
    let mut chain = Vec::new();
    if rng.random_bool(0.6) {
        let first = match rng.random_range(0..100) {
            0..=24 => 0,
            25..=69 => 1,
            _ => 2,
        };
        chain.push(RESIDENTIAL[first]);
        for next in RESIDENTIAL.iter().skip(first + 1) {
            if rng.random_bool(0.4) {
                chain.push(next);
            }
        }
        if rng.random_bool(0.2) {
            // Left (or was discharged) straight from residential care.
            return chain;
        }
        chain.push(NON_RESIDENTIAL[rng.random_range(0..2)]);
    } else {
        chain.push(NON_RESIDENTIAL[rng.random_range(0..3)]);
    }
    // Step down through the remaining outpatient levels, sometimes up again for a while.
    while let Some(&last) = chain.last() {
        let i = NON_RESIDENTIAL.iter().position(|l| *l == last).unwrap_or(2);
        if i > 0 && rng.random_bool(0.06) {
            chain.push(NON_RESIDENTIAL[i - 1]);
            continue;
        }
        if i + 1 < NON_RESIDENTIAL.len() && rng.random_bool(0.65) {
            chain.push(NON_RESIDENTIAL[i + 1 + usize::from(i == 0 && rng.random_bool(0.3))]);
        } else {
            break;
        }
    }
    chain
}

fn discharge_reason(rng: &mut StdRng) -> &'static str {
    match rng.random_range(0..100) {
        0..=54 => "completed",
        55..=79 => "left_against_advice",
        80..=84 => "terminated_by_facility",
        85..=92 => "transferred",
        93..=95 => "incarcerated",
        _ => "other",
    }
}

fn history_plan(rng: &mut StdRng, first_day: Date, today: Date) -> Plan {
    let chain = pathway(rng);
    let lengths: Vec<i64> = chain.iter().map(|l| days(rng, l)).collect();
    let total: i64 = lengths.iter().sum();
    let span = (today - first_day).whole_days() - total - 2;
    let admitted = first_day + Duration::days(rng.random_range(0..span.max(1)));
    let mut segments = Vec::new();
    let mut at = admitted;
    for (level, len) in chain.iter().zip(&lengths) {
        // Now and then a client at a day or outpatient level moves to the other site.
        if !residential(level) && *len > 20 && rng.random_bool(0.05) {
            let half = len / 2;
            segments.push(Segment { level, start: at, planned_end: planned(rng, at, *len), transfer: false });
            segments.push(Segment { level, start: at + Duration::days(half), planned_end: None, transfer: true });
        } else {
            segments.push(Segment { level, start: at, planned_end: planned(rng, at, *len), transfer: false });
        }
        at += Duration::days(*len);
    }
    Plan {
        admitted,
        site: usize::from(rng.random_bool(0.45)),
        segments,
        discharge: Some((at, discharge_reason(rng))),
        extend: false,
        readmission: rng.random_bool(0.2),
    }
}

/// An episode open today at `level`, with its earlier levels before it.
fn open_plan(rng: &mut StdRng, level: &'static str, today: Date) -> Plan {
    let mut chain = vec![level];
    // Half came down from a more intensive level: residential clients from a higher residential
    // level (same bed), day and outpatient clients often from a residential stay.
    if rng.random_bool(0.5) {
        let pool: Vec<&'static str> = if residential(level) || rng.random_bool(0.4) {
            RESIDENTIAL.iter().chain(NON_RESIDENTIAL.iter()).copied().filter(|l| rank(l) > rank(level)).collect()
        } else {
            RESIDENTIAL[1..].to_vec()
        };
        let pool: Vec<&'static str> =
            pool.into_iter().filter(|l| residential(l) == residential(level) || !residential(level)).collect();
        if !pool.is_empty() {
            chain.insert(0, pool[rng.random_range(0..pool.len())]);
        }
    }
    let current = rng.random_range(1..=(stay(level).1 * 3 / 4).max(2));
    let prior: Vec<i64> = chain[..chain.len() - 1].iter().map(|l| days(rng, l)).collect();
    let admitted = today - Duration::days(current + prior.iter().sum::<i64>());
    let mut segments = Vec::new();
    let mut at = admitted;
    for (l, len) in chain.iter().zip(&prior) {
        segments.push(Segment { level: l, start: at, planned_end: planned(rng, at, *len), transfer: false });
        at += Duration::days(*len);
    }
    // Where the current stay's planned end falls: passed, within a week, or later.
    let planned_end = match rng.random_range(0..100) {
        0..=14 => Some(today - Duration::days(rng.random_range(1..=14))),
        15..=34 => Some(today + Duration::days(rng.random_range(0..=7))),
        35..=89 => Some(today + Duration::days(rng.random_range(8..=60))),
        _ => None,
    }
    .map(|d| d.max(at + Duration::days(1)));
    segments.push(Segment { level, start: at, planned_end, transfer: false });
    Plan {
        admitted,
        site: usize::from(rng.random_bool(0.45)),
        segments,
        discharge: None,
        extend: planned_end.is_some() && rng.random_bool(0.1),
        readmission: rng.random_bool(0.25),
    }
}

const REASONS: &[&str] = &[
    "Met the goals of this level; ready for less intensive care per ASAM dimensions review.",
    "Withdrawal resolved; medically stable for a lower level of care.",
    "Team review: stable housing arranged, continuing in a less intensive program.",
    "Client request after discussion with the primary counselor.",
    "Payer authorization ended for this level; clinically appropriate to step down.",
    "Relapse risk increased (dimension 5); more structure needed for now.",
];

struct Bed {
    id: BedId,
    free_from: Date,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let url = args.db.url()?;
    let (store, app) = open(&url).await?;
    let today = app.now().date();
    let first_day = today - Duration::days(365 * args.years);
    let mut rng = StdRng::seed_from_u64(args.seed);

    let admin = ctx_for(&add_user(&app, "admin", "Ada Administrator", "admin").await?);
    add_user(&app, "sup", "Sue Pemberton", "supervisor").await?;
    let mut clinicians = Vec::new();
    for (k, name) in ["Marcus Webb", "Ines Okafor", "Dana Lindqvist"].iter().enumerate() {
        clinicians.push(ctx_for(&add_user(&app, &format!("clin{}", k + 1), name, "supervisor").await?));
    }
    println!("accounts: admin, sup (measures), clin1..clin3 (admit and decide)");

    // Two sites of two-bed rooms.
    let mut sites: Vec<(SiteId, Vec<Bed>)> = Vec::new();
    for (name, tz) in [("Riverside Campus", "America/Chicago"), ("Hillcrest House", "America/Chicago")] {
        let site = app.create_site(&admin, name, tz).await.map_err(|e| anyhow::anyhow!("site: {e}"))?;
        let mut beds = Vec::new();
        for r in 1..=args.rooms_per_site {
            let room = app
                .add_room(&admin, site.id, &format!("Room {}{:02}", 1 + (r - 1) / 20, r), "2")
                .await
                .map_err(|e| anyhow::anyhow!("room: {e}"))?;
            for label in ["A", "B"] {
                let id = app.add_bed(&admin, room, label).await.map_err(|e| anyhow::anyhow!("bed: {e}"))?;
                beds.push(Bed { id, free_from: first_day });
            }
        }
        sites.push((site.id, beds));
    }
    println!("2 sites, {} beds, in {:.1?}", sites.iter().map(|s| s.1.len()).sum::<usize>(), started.elapsed());

    // Plan: history first, then the census (300 open: half in beds).
    let mut plans: Vec<Plan> = (0..args.history).map(|_| history_plan(&mut rng, first_day, today)).collect();
    let weights = [("3.7", 12), ("3.5", 22), ("3.1", 16), ("2.5", 14), ("2.1", 18), ("1", 18)];
    for i in 0..args.open {
        let mut slot = (i * 100 / args.open.max(1)) as i32;
        let mut level = "1";
        for (l, w) in weights {
            if slot < w {
                level = l;
                break;
            }
            slot -= w;
        }
        plans.push(open_plan(&mut rng, level, today));
    }
    plans.sort_by_key(|p| p.admitted);

    let (given, family) = (list(GIVEN), list(FAMILY));
    // Clients free to be readmitted: (client, last discharge).
    let mut discharged: Vec<(ClientId, Date)> = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut clients = 0u64;
    let mut skipped = 0usize;
    let t = Instant::now();
    for (n, plan) in plans.iter().enumerate() {
        let ctx = &clinicians[n % clinicians.len()];
        // A bed for the residential part, at the planned site or else the other one.
        let mut site = plan.site;
        let mut bed: Option<BedId> = None;
        if let Some(until) = plan.bed_until() {
            let found = [plan.site, 1 - plan.site].into_iter().find_map(|s| {
                let free: Vec<usize> = sites[s]
                    .1
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.free_from <= plan.admitted)
                    .map(|(i, _)| i)
                    .collect();
                (!free.is_empty()).then(|| (s, free[rng.random_range(0..free.len())]))
            });
            let Some((s, i)) = found else {
                skipped += 1;
                continue;
            };
            site = s;
            let b = &mut sites[s].1[i];
            b.free_from = until;
            bed = Some(b.id);
        }
        // The client: sometimes someone discharged before, otherwise a new registration.
        let returning = plan
            .readmission
            .then(|| discharged.iter().position(|(_, d)| *d < plan.admitted))
            .flatten()
            .map(|i| discharged.swap_remove(i).0);
        let client = match returning {
            Some(c) => {
                *counts.entry("readmissions").or_default() += 1;
                c
            }
            None => {
                let form = client_form(args.seed, clients, &given, &family);
                clients += 1;
                app.create_client_record(ctx, &form, false).await.map_err(|e| anyhow::anyhow!("client: {e}"))?.client.id
            }
        };
        let first = plan.segments.first().context("empty plan")?;
        let admit = AdmitForm {
            on: plan.admitted.to_string(),
            level: first.level.into(),
            site: sites[site].0.to_string(),
            bed: if residential(first.level) { bed.map(|b| b.to_string()).unwrap_or_default() } else { String::new() },
            planned_end: first.planned_end.map(|d| d.to_string()).unwrap_or_default(),
            reason: "Assessed at intake against the six ASAM dimensions.".into(),
        };
        let episode = app
            .admit(ctx, client, &admit)
            .await
            .map_err(|e| anyhow::anyhow!("admitting on {} at {}: {e}", plan.admitted, first.level))?;
        *counts.entry("admissions").or_default() += 1;
        let mut current = first.level;
        for seg in plan.segments.iter().skip(1) {
            let kind = if seg.transfer {
                site = 1 - site;
                "transfer"
            } else if rank(seg.level) < rank(current) {
                "step_down"
            } else {
                "step_up"
            };
            let form = DecisionForm {
                kind: kind.into(),
                on: seg.start.to_string(),
                level: seg.level.into(),
                site: sites[site].0.to_string(),
                bed: if residential(seg.level) {
                    bed.map(|b| b.to_string()).unwrap_or_default()
                } else {
                    String::new()
                },
                planned_end: seg.planned_end.map(|d| d.to_string()).unwrap_or_default(),
                discharge_reason: String::new(),
                reason: REASONS[rng.random_range(0..REASONS.len())].into(),
            };
            app.decide(ctx, client, episode.id, &form)
                .await
                .map_err(|e| anyhow::anyhow!("{kind} on {} {current} -> {}: {e}", seg.start, seg.level))?;
            *counts.entry(kind).or_default() += 1;
            current = seg.level;
        }
        if let Some((on, reason)) = plan.discharge {
            let form = DecisionForm {
                kind: "discharge".into(),
                on: on.to_string(),
                discharge_reason: reason.into(),
                reason: "Discharge planning completed with the client.".into(),
                ..Default::default()
            };
            app.decide(ctx, client, episode.id, &form).await.map_err(|e| anyhow::anyhow!("discharge on {on}: {e}"))?;
            *counts.entry("discharges").or_default() += 1;
            discharged.push((client, on));
        } else if plan.extend
            && let Some(end) = plan.segments.last().and_then(|s| s.planned_end)
        {
            let form = DecisionForm {
                kind: "extend".into(),
                planned_end: (end.max(today) + Duration::days(14)).to_string(),
                reason: "Team review: needs two more weeks at this level.".into(),
                ..Default::default()
            };
            app.decide(ctx, client, episode.id, &form).await.map_err(|e| anyhow::anyhow!("extend: {e}"))?;
            *counts.entry("extend").or_default() += 1;
        }
        if (n + 1) % 500 == 0 {
            println!("{} episodes in {:.1} s", n + 1, t.elapsed().as_secs_f64());
        }
    }
    if skipped * 50 > plans.len() {
        bail!("{skipped} episodes found no free bed; add rooms");
    }
    let open_now = plans.iter().filter(|p| p.discharge.is_none()).count();
    println!(
        "{} episodes ({} open planned, {skipped} skipped for want of a bed), {clients} clients, in {:.1} s",
        plans.len() - skipped,
        open_now,
        t.elapsed().as_secs_f64()
    );
    let shown: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("decisions: {}", shown.join(", "));
    store.close().await;
    println!("done in {:.1?}", started.elapsed());
    Ok(())
}
