//! Census board latency (see `bench-gen-census`): `App::census` in-process, and/or
//! `GET /census` (HTML, session cookie) and `GET /api/v1/census` (JSON, bearer) over HTTP,
//! sequentially, as a supervisor who may see every client.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use bench::http::{Conn, login};
use bench::{DbArgs, PASSWORD, open, sign_in, summarize};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Census board latency: in-process and over HTTP")]
struct Args {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long, default_value_t = 200)]
    requests: usize,
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Measure `App::census` in this process.
    #[arg(long)]
    in_process: bool,
    /// Measure over HTTP against a running server at this address.
    #[arg(long)]
    http: Option<SocketAddr>,
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
    let c = app.census(&ctx).await.map_err(|e| anyhow::anyhow!("census: {e}"))?;
    let rows: usize = c.sites.iter().flat_map(|s| s.groups.iter().map(|g| g.clients.len())).sum();
    let beds: usize = c.sites.iter().map(|s| s.beds_total).sum();
    let occupied: usize = c.sites.iter().map(|s| s.beds_occupied).sum();
    println!(
        "census: {} sites, {rows} clients on the board, {occupied}/{beds} beds occupied, {} ending within 7 days, {} past planned end",
        c.sites.len(),
        c.ending_soon.len(),
        c.past_planned_end.len()
    );
    for _ in 0..args.warmup {
        app.census(&ctx).await.map_err(|e| anyhow::anyhow!("census: {e}"))?;
    }
    let mut samples = Vec::with_capacity(args.requests);
    for _ in 0..args.requests {
        let t = Instant::now();
        app.census(&ctx).await.map_err(|e| anyhow::anyhow!("census: {e}"))?;
        samples.push(t.elapsed());
    }
    result(&args.label, "in-process App::census", &samples, "");

    store.close().await;
    Ok(())
}

fn over_http(args: &Args, addr: SocketAddr) -> Result<()> {
    let token = login(addr, &args.username, PASSWORD)?;
    let cookie = format!("Cookie: __Host-stepdown_session={token}");
    let bearer = format!("Authorization: Bearer {token}");
    let mut conn = Conn::open(addr)?;
    for (what, path, header) in
        [("GET /census (HTML)", "/census", &cookie), ("GET /api/v1/census (JSON)", "/api/v1/census", &bearer)]
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
