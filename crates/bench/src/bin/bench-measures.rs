//! The measures tab of one chart with two years of weekly scores: generates a client in
//! residential then IOP care with a PHQ-9 and a GAD-7 every week for two years (through the
//! real use cases, with a clock walked forward week by week), then times `App::measures` with
//! both charts rendered in-process, and/or `GET /clients/{id}/measures` (HTML with the two SVG
//! charts) over HTTP.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use app::continuum::{AdmitForm, DecisionForm};
use app::{App, AppConfig, Clock, UuidV7};
use bench::http::{Conn, login};
use bench::{DbArgs, PASSWORD, add_user, client_form, ctx_for, open, sign_in, summarize};
use clap::Parser;
use domain::forms::{FormDefinition, RawAnswer};
use domain::instruments::{Instrument, items};
use store::{SeaStore, StoreOptions};
use time::OffsetDateTime;

#[derive(Parser)]
#[command(about = "Measures tab with two years of weekly scores: generation and latency")]
struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// Generate the client and its two years of scores first.
    #[arg(long)]
    generate: bool,
    #[arg(long, default_value_t = 104)]
    weeks: i64,
    #[arg(long, default_value_t = 200)]
    requests: usize,
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    #[arg(long)]
    in_process: bool,
    #[arg(long)]
    http: Option<SocketAddr>,
    /// Print "TOKEN CLIENT" for a wrk run against the server at --http, and exit.
    #[arg(long)]
    print_token: bool,
}

/// A clock `offset` milliseconds away from the real one, so scores can be given "then".
struct Shifted(AtomicI64);

impl Clock for Shifted {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::milliseconds(self.0.load(Ordering::Relaxed))
    }
}

fn answers(instrument: Instrument, total: i64) -> BTreeMap<String, RawAnswer> {
    let mut left = total;
    items(instrument)
        .iter()
        .filter(|i| i.scored)
        .map(|i| {
            let v = i.values.iter().copied().filter(|v| *v <= left).max().unwrap_or(0);
            left -= v;
            (i.id.to_owned(), RawAnswer::Number(v))
        })
        .collect()
}

async fn generate(args: &Args) -> Result<String> {
    let url = args.db.url()?;
    let store = SeaStore::connect(&url, &StoreOptions::default()).await?;
    store.migrate().await?;
    let clock = Arc::new(Shifted(AtomicI64::new(0)));
    let app = App::new(Arc::new(store.clone()), clock.clone(), Arc::new(UuidV7), AppConfig::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let admin = ctx_for(&add_user(&app, "admin2", "Avery Admin", "admin").await?);
    add_user(&app, "sup", "Sam Supervisor", "supervisor").await?;
    let sup = sign_in(&app, "sup").await?;
    let start = OffsetDateTime::now_utc() - time::Duration::weeks(args.weeks);
    clock.0.store(-(args.weeks * 7 * 24 * 3_600_000), Ordering::Relaxed);
    let site = app.create_site(&admin, "Lakeside", "UTC").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let room = app.add_room(&admin, site.id, "Cedar", "2").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let bed = app.add_bed(&admin, room, "A").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let record = app
        .create_client_record(&sup, &client_form(7, 1, &["Ana"], &["Alvarez"]), false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let client = record.client.id;
    let admit = AdmitForm {
        on: start.date().to_string(),
        level: "3.5".into(),
        site: site.id.to_string(),
        bed: bed.to_string(),
        reason: "Two years of measures".into(),
        ..Default::default()
    };
    let episode = app.admit(&sup, client, &admit).await.map_err(|e| anyhow::anyhow!("admit: {e}"))?;
    let t = Instant::now();
    for week in 0..args.weeks {
        clock.0.store(-((args.weeks - week) * 7 * 24 * 3_600_000) + 3_600_000, Ordering::Relaxed);
        if week == 5 {
            let step = DecisionForm {
                kind: "step_down".into(),
                on: app.now().date().to_string(),
                level: "2.1".into(),
                site: site.id.to_string(),
                reason: "Ready for IOP".into(),
                ..Default::default()
            };
            app.decide(&sup, client, episode.id, &step).await.map_err(|e| anyhow::anyhow!("step down: {e}"))?;
        }
        let phq = (20 - week / 6).max(3) + (week % 3);
        let gad = (16 - week / 8).max(2) + (week % 2);
        for (i, total) in [(Instrument::Phq9, phq), (Instrument::Gad7, gad)] {
            app.record_response(&sup, client, &FormDefinition::builtin(i).url, None, &answers(i, total), None)
                .await
                .map_err(|e| anyhow::anyhow!("response: {e}"))?;
        }
    }
    println!("generated {} weeks × 2 responses in {:.1} s; client {client}", args.weeks, t.elapsed().as_secs_f64());
    store.close().await;
    Ok(client.to_string())
}

fn print(what: &str, samples: &[Duration], extra: &str) {
    let s = summarize(samples);
    println!("== {what}: {s}{extra}");
    println!(
        "RESULT what={what} n={} mean={:.3} p50={:.3} p95={:.3} p99={:.3} max={:.3}",
        s.n, s.mean, s.p50, s.p95, s.p99, s.max
    );
}

async fn in_process(args: &Args, client: &str) -> Result<()> {
    let (store, app) = open(&args.db.url()?).await?;
    let ctx = sign_in(&app, "sup").await?;
    let client = client.parse().map_err(|_| anyhow::anyhow!("bad client id"))?;
    let run = || async {
        let m = app.measures(&ctx, client).await.map_err(|e| anyhow::anyhow!("measures: {e}"))?;
        let svgs: usize = m.series.iter().map(|s| web::charts::render(&chart_of(s)).len()).sum();
        anyhow::Ok((m.responses.len(), svgs))
    };
    let (n, bytes) = run().await?;
    println!("measures: {n} responses, {bytes} bytes of SVG");
    for _ in 0..args.warmup {
        run().await?;
    }
    let mut samples = Vec::new();
    for _ in 0..args.requests {
        let t = Instant::now();
        run().await?;
        samples.push(t.elapsed());
    }
    print("in-process App::measures + charts", &samples, "");
    store.close().await;
    Ok(())
}

fn chart_of(s: &app::measurement::Series) -> web::charts::TrendChart {
    let max = s.max as f64;
    web::charts::TrendChart {
        title: s.instrument.title().to_owned(),
        y_min: 0.0,
        y_max: max,
        bands: s
            .bands
            .iter()
            .enumerate()
            .map(|(n, (from, label))| web::charts::Band {
                from: *from as f64,
                to: s.bands.get(n + 1).map(|(f, _)| *f as f64).unwrap_or(max),
                label: (*label).to_owned(),
            })
            .collect(),
        points: s.points.iter().map(|(at, v)| web::charts::Point { at: *at, value: *v as f64 }).collect(),
        markers: Vec::new(),
        threshold: None,
    }
}

fn over_http(args: &Args, addr: SocketAddr, client: &str) -> Result<()> {
    let token = login(addr, "sup", PASSWORD)?;
    let cookie = format!("Cookie: __Host-stepdown_session={token}");
    let path = format!("/clients/{client}/measures");
    let mut conn = Conn::open(addr)?;
    let first = conn.request("GET", &path, std::slice::from_ref(&cookie), None)?;
    if first.status != 200 {
        bail!("{path} gave {}", first.status);
    }
    for _ in 0..args.warmup {
        conn.request("GET", &path, std::slice::from_ref(&cookie), None)?;
    }
    let mut samples = Vec::new();
    for _ in 0..args.requests {
        let t = Instant::now();
        let res = conn.request("GET", &path, std::slice::from_ref(&cookie), None)?;
        samples.push(t.elapsed());
        if res.status != 200 {
            bail!("{path} gave {}", res.status);
        }
    }
    print("GET /clients/{id}/measures (HTML, 2 charts)", &samples, &format!("  ({} bytes)", first.body.len()));
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let id_file = match &args.db.data_dir {
        Some(d) => d.join("bench-measures-client"),
        None => std::env::temp_dir().join("bench-measures-client"),
    };
    let client = if args.generate {
        let c = generate(&args).await?;
        std::fs::write(&id_file, &c)?;
        c
    } else {
        std::fs::read_to_string(&id_file).map_err(|_| anyhow::anyhow!("run with --generate first"))?
    };
    if args.print_token {
        let addr = args.http.ok_or_else(|| anyhow::anyhow!("--print-token needs --http"))?;
        let token = tokio::task::spawn_blocking(move || login(addr, "sup", PASSWORD)).await??;
        println!("{token} {client}");
        return Ok(());
    }
    if args.in_process {
        in_process(&args, &client).await?;
    }
    if let Some(addr) = args.http {
        tokio::task::spawn_blocking(move || over_http(&args, addr, &client)).await??;
    }
    Ok(())
}
