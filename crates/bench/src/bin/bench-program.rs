//! Dose-compliance dashboard latency (see `bench-gen-program`): `App::compliance_dashboard`
//! in-process, and/or `GET /program/dose` (HTML, session cookie) and `GET /api/v1/iop/compliance`
//! (JSON, bearer) over HTTP, sequentially, as a supervisor who may see every client.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use bench::http::{Conn, login};
use bench::{DbArgs, PASSWORD, open, sign_in, summarize};
use clap::Parser;
use domain::iop::compliance::{IsoWeek, week_of};

#[derive(Parser)]
#[command(about = "Dose-compliance dashboard latency: in-process and over HTTP")]
struct Args {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long, default_value_t = 100)]
    requests: usize,
    #[arg(long, default_value_t = 10)]
    warmup: usize,
    /// Measure `App::compliance_dashboard` in this process.
    #[arg(long)]
    in_process: bool,
    /// Measure over HTTP against a running server at this address.
    #[arg(long)]
    http: Option<SocketAddr>,
    /// An ISO week like 2025-W48 instead of this week.
    #[arg(long)]
    week: Option<String>,
    #[arg(long, default_value = "sup")]
    username: String,
    /// A label for the RESULT lines (e.g. the backend).
    #[arg(long, default_value = "")]
    label: String,
    /// Print the session token (for wrk) and exit.
    #[arg(long)]
    print_token: bool,
}

fn result(label: &str, what: &str, samples: &[Duration], extra: &str) {
    let s = summarize(samples);
    println!("== {what}: {s}{extra}");
    println!(
        "RESULT label={label} what={what} n={} mean={:.3} p50={:.3} p95={:.3} p99={:.3} max={:.3}",
        s.n, s.mean, s.p50, s.p95, s.p99, s.max
    );
}

async fn in_process(args: &Args) -> Result<()> {
    let url = args.db.url()?;
    let (store, app) = open(&url).await?;
    let ctx = sign_in(&app, &args.username).await?;
    let week: IsoWeek = match &args.week {
        Some(w) => w.parse()?,
        None => week_of(app.today_in("America/Chicago")),
    };
    let rows = app.compliance_dashboard(&ctx, week).await.map_err(|e| anyhow::anyhow!("dashboard: {e}"))?;
    let count = |code: &str| rows.iter().filter(|r| r.week.status.code() == code).count();
    println!(
        "dose dashboard {week}: {} clients, {} met, {} on track, {} at risk ({} need action), {} not enrolled",
        rows.len(),
        count("met"),
        count("on_track"),
        count("at_risk"),
        rows.iter().filter(|r| r.week.needs_action()).count(),
        count("not_enrolled")
    );
    for _ in 0..args.warmup {
        app.compliance_dashboard(&ctx, week).await.map_err(|e| anyhow::anyhow!("dashboard: {e}"))?;
    }
    let mut samples = Vec::with_capacity(args.requests);
    for _ in 0..args.requests {
        let t = Instant::now();
        app.compliance_dashboard(&ctx, week).await.map_err(|e| anyhow::anyhow!("dashboard: {e}"))?;
        samples.push(t.elapsed());
    }
    result(&args.label, "in-process App::compliance_dashboard", &samples, "");
    store.close().await;
    Ok(())
}

fn over_http(args: &Args, addr: SocketAddr) -> Result<()> {
    let token = login(addr, &args.username, PASSWORD)?;
    let cookie = format!("Cookie: __Host-stepdown_session={token}");
    let bearer = format!("Authorization: Bearer {token}");
    let query = args.week.as_ref().map(|w| format!("?week={w}")).unwrap_or_default();
    let (ui, api) = (format!("/program/dose{query}"), format!("/api/v1/iop/compliance{query}"));
    let mut conn = Conn::open(addr)?;
    for (what, path, header) in
        [("GET /program/dose (HTML)", &ui, &cookie), ("GET /api/v1/iop/compliance (JSON)", &api, &bearer)]
    {
        let (samples, bytes) = conn.time_gets(path, header, args.warmup, args.requests)?;
        result(&args.label, what, &samples, &format!("  ({bytes} bytes)"));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.print_token {
        let addr = args.http.ok_or_else(|| anyhow::anyhow!("--print-token needs --http"))?;
        println!("{}", login(addr, &args.username, PASSWORD)?);
        return Ok(());
    }
    if !args.in_process && args.http.is_none() {
        bail!("give --in-process and/or --http ADDR");
    }
    if args.in_process {
        in_process(&args).await?;
    }
    if let Some(addr) = args.http {
        tokio::task::spawn_blocking(move || over_http(&args, addr)).await??;
    }
    Ok(())
}
