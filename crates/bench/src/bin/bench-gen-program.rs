//! Builds an IOP program with two years of attendance for the dose-compliance benchmark
//! (issue 5), entirely through the real use cases, with a clock walked forward week by week so
//! that every week's attendance is taken after its sessions (the use cases refuse attendance
//! for a day still to come):
//!
//! - a site in Chicago, facilitators and rooms; evening tracks for 2.1 (Monday, Tuesday and
//!   Thursday 18:00–21:00, 9 h a week) and day tracks for 2.5 (Monday to Friday 09:00–13:00,
//!   20 h a week), each holding at most the default group of 12;
//! - `--clients` clients admitted two years ago, two thirds at 2.1 and one third at 2.5, each
//!   enrolled in one track, with plan requirements (individual therapy weekly for most) and
//!   availability;
//! - for every week: `ensure_week` for every track and `add_to_roster` for each member of each
//!   session (Monday morning), then on Saturday the facilitator's `record_attendance` for the
//!   whole roster in one call (mostly present, some late or leaving early, some absent),
//!   `sign_session_note`, and `complete_outreach` for most tasks an unexcused absence opened;
//! - this week, at the real time: the sessions so far recorded and signed except today's,
//!   and individual sessions booked for two thirds of the clients, earlier and later in the
//!   week, so the dashboard shows met, on-track and at-risk clients.
//!
//! Roster entries are the bulk of the work (about 1,100 a week for 300 clients): each is its
//! own transaction with the calendar lock, the eligibility and collision checks and an audit
//! event, exactly as the session page writes them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use anyhow::{Result, anyhow};
use app::attendance::AttendanceEntry;
use app::continuum::AdmitForm;
use app::iop::{AppointmentForm, EnrolForm, SlotForm, TemplateForm, TrackForm};
use app::{App, AppConfig, Clock, Ctx, UuidV7};
use bench::names::{FAMILY, GIVEN, list};
use bench::{DbArgs, add_user, client_form, ctx_for};
use clap::Parser;
use domain::ids::{ClientId, IopSessionId, TrackId, UserId};
use domain::iop::Slot;
use domain::iop::compliance::IsoWeek;
use domain::iop::program::AttendanceStatus;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::{SeaStore, StoreOptions};
use time::{Date, Duration, OffsetDateTime};

#[derive(Parser)]
#[command(about = "Generate an IOP program with two years of weekly attendance through the real use cases")]
struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// Clients in the program (two thirds at 2.1, one third at 2.5).
    #[arg(long, default_value_t = 300)]
    clients: usize,
    /// Weeks of history before this one.
    #[arg(long, default_value_t = 104)]
    weeks: i64,
    #[arg(long, default_value_t = 5)]
    seed: u64,
}

/// The real clock moved by an offset, so that a week's work can be done "then".
struct Walked(AtomicI64);

impl Clock for Walked {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + Duration::milliseconds(self.0.load(Ordering::Relaxed))
    }
}

impl Walked {
    /// Moves "now" to `at` (UTC); `None` goes back to the real time.
    fn set(&self, at: Option<OffsetDateTime>) {
        let offset = at.map_or(0, |at| (at - OffsetDateTime::now_utc()).whole_milliseconds());
        self.0.store(i64::try_from(offset).unwrap_or(0), Ordering::Relaxed);
    }
}

/// `date` at `hour`:00 UTC.
fn at(date: Date, hour: u8) -> Option<OffsetDateTime> {
    date.with_hms(hour, 0, 0).ok().map(|d| d.assume_utc())
}

struct TrackPlan {
    id: TrackId,
    members: Vec<ClientId>,
}

/// How often a client comes, in percent.
struct Member {
    reliability: u8,
}

fn e(what: &'static str) -> impl FnOnce(app::AppError) -> anyhow::Error {
    move |err| anyhow!("{what}: {err}")
}

#[derive(Default)]
struct Counts {
    rosters: u64,
    sessions: u64,
    attendance: u64,
    unexcused: u64,
    outreach_done: u64,
    individual: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let url = args.db.url()?;
    let store = SeaStore::connect(&url, &StoreOptions::default()).await?;
    store.migrate().await?;
    let clock = Arc::new(Walked(AtomicI64::new(0)));
    let app = App::new(Arc::new(store.clone()), clock.clone(), Arc::new(UuidV7), AppConfig::default())
        .map_err(|err| anyhow!("{err}"))?;
    let mut rng = StdRng::seed_from_u64(args.seed);

    let today = app.today_in("America/Chicago");
    let this_week = IsoWeek::of(today);
    let first_week = IsoWeek::of(this_week.monday() - Duration::weeks(args.weeks));
    // Everything before the history happens the Thursday before it.
    let opened = first_week.monday() - Duration::days(4);
    clock.set(at(opened, 15));

    let admin = ctx_for(&add_user(&app, "admin", "Ada Administrator", "admin").await?);
    let sup = ctx_for(&add_user(&app, "sup", "Sue Pemberton", "supervisor").await?);
    let coordinator = ctx_for(&add_user(&app, "coord", "Casey Coordinator", "program_coordinator").await?);
    let site = app.create_site(&admin, "Riverside Outpatient", "America/Chicago").await.map_err(e("site"))?;

    // One facilitator and one group room per evening track; the day tracks share them (the
    // day groups end at 13:00, the evening ones start at 18:00).
    let evening_clients = args.clients * 2 / 3;
    let day_clients = args.clients - evening_clients;
    let limit = usize::from(domain::iop::program::DEFAULT_GROUP_LIMIT);
    let (evening_tracks, day_tracks) = (evening_clients.div_ceil(limit), day_clients.div_ceil(limit));
    let staff_count = evening_tracks.max(day_tracks).max(1);
    let (given, family) = (list(GIVEN), list(FAMILY));
    let mut staff: Vec<(UserId, Ctx, uuid::Uuid)> = Vec::new();
    for k in 0..staff_count {
        let name = format!("{} {}", given[(k * 7) % given.len()], family[(k * 11 + 3) % family.len()]);
        let user = add_user(&app, &format!("fac{}", k + 1), &name, "counselor").await?;
        let room = app.add_room(&admin, site.id, &format!("Group room {}", k + 1), "14").await.map_err(e("room"))?;
        staff.push((user.id, ctx_for(&user), room));
    }
    let mut tracks: Vec<TrackPlan> = Vec::new();
    for (n, evening) in (0..evening_tracks).map(|n| (n, true)).chain((0..day_tracks).map(|n| (n, false))) {
        let form = TrackForm {
            site: site.id.to_string(),
            name: format!("{} track {}", if evening { "Evening" } else { "Day" }, n + 1),
            active_from: first_week.monday().to_string(),
            ..Default::default()
        };
        let track = app.create_track(&coordinator, &form).await.map_err(e("track"))?;
        let (days, start, end, modality): (&[&str], _, _, _) = if evening {
            (&["monday", "tuesday", "thursday"], "18:00", "21:00", "group")
        } else {
            (&["monday", "tuesday", "wednesday", "thursday", "friday"], "09:00", "13:00", "group")
        };
        for (d, weekday) in days.iter().enumerate() {
            let template = TemplateForm {
                weekday: (*weekday).into(),
                start: start.into(),
                end: end.into(),
                modality: if d % 2 == 1 { "psychoeducation" } else { modality }.into(),
                title: ["Process group", "Relapse prevention", "Coping skills", "Family roles", "Weekly review"][d]
                    .into(),
                facilitator: staff[n].0.to_string(),
                room: staff[n].2.to_string(),
            };
            app.add_template(&coordinator, track.id, &template).await.map_err(e("template"))?;
        }
        tracks.push(TrackPlan { id: track.id, members: Vec::new() });
    }
    println!(
        "{} facilitators, {evening_tracks} evening and {day_tracks} day tracks, in {:.1?}",
        staff.len(),
        started.elapsed()
    );

    // The clients: admitted the Thursday before the history, enrolled from its first Monday.
    let t = Instant::now();
    let mut members: BTreeMap<ClientId, Member> = BTreeMap::new();
    for i in 0..args.clients {
        let evening = i < evening_clients;
        let record = app
            .create_client_record(&sup, &client_form(args.seed, i as u64, &given, &family), false)
            .await
            .map_err(e("client"))?;
        let client = record.client.id;
        let admit = AdmitForm {
            on: opened.to_string(),
            level: if evening { "2.1" } else { "2.5" }.into(),
            site: site.id.to_string(),
            reason: "Assessed at intake against the six ASAM dimensions.".into(),
            ..Default::default()
        };
        app.admit(&sup, client, &admit).await.map_err(e("admit"))?;
        let track = if evening { i / limit } else { evening_tracks + (i - evening_clients) / limit };
        let form = EnrolForm {
            track: tracks[track].id.to_string(),
            from: first_week.monday().to_string(),
            until: String::new(),
        };
        app.enrol(&coordinator, client, &form).await.map_err(e("enrol"))?;
        tracks[track].members.push(client);
        let plan = BTreeMap::from([("individual".to_owned(), if i % 5 == 4 { "0" } else { "1" }.to_owned())]);
        app.set_requirements(&coordinator, client, &plan).await.map_err(e("requirements"))?;
        let availability = if evening {
            "mon 17:00 21:30\ntue 17:00 21:30\nwed 12:00 17:00\nthu 17:00 21:30\nfri 12:00 17:00"
        } else {
            "mon 08:30 17:00\ntue 08:30 17:00\nwed 08:30 17:00\nthu 08:30 17:00\nfri 08:30 17:00"
        };
        app.set_availability(&coordinator, client, availability).await.map_err(e("availability"))?;
        let reliability = match rng.random_range(0..100) {
            0..=69 => 94,
            70..=94 => 82,
            _ => 60,
        };
        members.insert(client, Member { reliability });
    }
    println!("{} clients admitted, enrolled and planned in {:.1} s", members.len(), t.elapsed().as_secs_f64());

    let mut counts = Counts::default();
    let t = Instant::now();
    let mut week = first_week;
    while week < this_week {
        clock.set(at(week.monday(), 13));
        let held = generate_week(&app, &coordinator, &tracks, week, &mut counts).await?;
        // Saturday: every session of the week is over.
        clock.set(at(week.monday() + Duration::days(5), 18));
        take_attendance(&app, &sup, &staff, &members, &held, false, &mut rng, &mut counts).await?;
        let done = (week.monday() - first_week.monday()).whole_weeks() + 1;
        if done % 4 == 0 {
            let per = t.elapsed().as_secs_f64() / done as f64;
            println!(
                "{done} of {} weeks, {} roster entries, {} attendance records, {:.1} s a week",
                args.weeks, counts.rosters, counts.attendance, per
            );
        }
        week = week.next().ok_or_else(|| anyhow!("calendar overflow"))?;
    }
    println!(
        "{} weeks of history in {:.1} s: {} sessions, {} roster entries, {} attendance records ({} unexcused, {} outreach calls done)",
        args.weeks,
        t.elapsed().as_secs_f64(),
        counts.sessions,
        counts.rosters,
        counts.attendance,
        counts.unexcused,
        counts.outreach_done
    );

    // This week, at the real time.
    clock.set(None);
    let (today, now_time) = app.civil_now("America/Chicago");
    let mut held = generate_week(&app, &coordinator, &tracks, this_week, &mut counts).await?;
    // Individual sessions in the afternoons for two thirds of those whose plan asks for one.
    let mut slot = 0usize;
    for (i, client) in members.keys().enumerate() {
        if i % 5 == 4 || i % 3 == 2 {
            continue;
        }
        let (k, day, hour) = (slot % staff.len(), slot / staff.len() % 5, 13 + slot / (staff.len() * 5) % 4);
        slot += 1;
        let form = AppointmentForm {
            client: client.to_string(),
            modality: "individual".into(),
            facilitator: staff[k].0.to_string(),
            room: staff[k].2.to_string(),
            slot: SlotForm {
                date: (this_week.monday() + Duration::days(day as i64)).to_string(),
                start: format!("{hour}:00"),
                end: format!("{}:00", hour + 1),
                end_date: String::new(),
            },
            ..Default::default()
        };
        let s = app.book_appointment(&coordinator, &form).await.map_err(e("individual"))?;
        counts.individual += 1;
        held.push((s.id, s.slot, s.facilitator, vec![*client]));
    }
    let over = |s: &Slot| s.date < today || (s.date == today && app::iop::slot_end(s) <= now_time);
    held.retain(|(_, s, _, _)| over(s));
    take_attendance(&app, &sup, &staff, &members, &held, true, &mut rng, &mut counts).await?;
    println!(
        "this week: {} sessions held so far, {} individual sessions booked; totals: {} sessions, {} roster entries, {} attendance records",
        held.len(),
        counts.individual,
        counts.sessions,
        counts.rosters,
        counts.attendance
    );
    store.close().await;
    println!("done in {:.1?}", started.elapsed());
    Ok(())
}

type HeldSession = (IopSessionId, Slot, UserId, Vec<ClientId>);

/// Generates the week's sessions of every track and puts each track's members on them.
async fn generate_week(
    app: &App,
    coordinator: &Ctx,
    tracks: &[TrackPlan],
    week: IsoWeek,
    counts: &mut Counts,
) -> Result<Vec<HeldSession>> {
    let mut out = Vec::new();
    for track in tracks {
        let generated = app.ensure_week(coordinator, track.id, week).await.map_err(e("ensure_week"))?;
        for s in generated.created {
            counts.sessions += 1;
            for client in &track.members {
                app.add_to_roster(coordinator, s.id, *client).await.map_err(e("roster"))?;
                counts.rosters += 1;
            }
            out.push((s.id, s.slot, s.facilitator, track.members.clone()));
        }
    }
    Ok(out)
}

/// Each facilitator takes the roster's attendance in one go and signs the note; in the
/// `current` week the latest day's notes are left unsigned and the outreach calls open, in the
/// past most outreach calls an unexcused absence opened are made.
#[allow(clippy::too_many_arguments)]
async fn take_attendance(
    app: &App,
    sup: &Ctx,
    staff: &[(UserId, Ctx, uuid::Uuid)],
    members: &BTreeMap<ClientId, Member>,
    held: &[HeldSession],
    current: bool,
    rng: &mut StdRng,
    counts: &mut Counts,
) -> Result<()> {
    let latest = held.iter().map(|(_, s, _, _)| s.date).max();
    for (id, slot, facilitator, roster) in held {
        let ctx = &staff.iter().find(|(u, _, _)| u == facilitator).ok_or_else(|| anyhow!("no facilitator"))?.1;
        let length = slot.minutes;
        let entries: Vec<AttendanceEntry> = roster
            .iter()
            .map(|c| {
                let reliability = members.get(c).map_or(90, |m| m.reliability);
                let roll = rng.random_range(0..100u8);
                let (status, minutes) = if roll < reliability {
                    match rng.random_range(0..100) {
                        0..=84 => (AttendanceStatus::Present, None),
                        85..=93 => (AttendanceStatus::Late, Some(length - rng.random_range(5..=length / 4))),
                        _ => (AttendanceStatus::LeftEarly, Some(length - rng.random_range(10..=length / 3))),
                    }
                } else if rng.random_range(0..100) < 80 {
                    (AttendanceStatus::AbsentExcused, None)
                } else {
                    (AttendanceStatus::AbsentUnexcused, None)
                };
                if status == AttendanceStatus::AbsentUnexcused {
                    counts.unexcused += 1;
                }
                AttendanceEntry {
                    client: c.to_string(),
                    status: status.code().into(),
                    minutes: minutes.map(|m| m.to_string()).unwrap_or_default(),
                }
            })
            .collect();
        let tasks = app.record_attendance(ctx, *id, &entries).await.map_err(e("attendance"))?;
        counts.attendance += entries.len() as u64;
        if current && Some(slot.date) == latest {
            continue;
        }
        app.sign_session_note(ctx, *id, "Group attended; themes and homework in the group log.")
            .await
            .map_err(e("note"))?;
        if !current {
            for task in tasks {
                if rng.random_range(0..100) < 90 {
                    app.complete_outreach(sup, task.id, "Reached by phone; back at the next group.")
                        .await
                        .map_err(e("outreach"))?;
                    counts.outreach_done += 1;
                }
            }
        }
    }
    Ok(())
}
