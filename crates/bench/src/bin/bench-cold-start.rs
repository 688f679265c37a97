//! Cold start to ready: spawns `stepdown serve` on an existing data directory and polls
//! `GET /readyz` until it answers 200, timing from just before the spawn to that first 200.
//! Repeats, stopping the server with SIGTERM between runs, and prints each run and the median.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Time `stepdown serve` from spawn to its first 200 on /readyz")]
struct Args {
    /// The stepdown binary (a release build).
    #[arg(long)]
    bin: PathBuf,
    /// A data directory holding an existing, migrated database with at least one user.
    #[arg(long)]
    data_dir: PathBuf,
    #[arg(long, default_value_t = 5)]
    runs: usize,
    #[arg(long, default_value = "127.0.0.1:18181")]
    listen: SocketAddr,
    /// Drop the kernel's page cache before each run (root only), so the database is read from disk.
    #[arg(long)]
    drop_caches: bool,
    /// Where the server's stderr (its log) goes; each run appends.
    #[arg(long, default_value = "/dev/null")]
    log: PathBuf,
}

/// Status code of `GET /readyz`, or `None` while nothing listens yet.
fn readyz(addr: SocketAddr) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

fn drop_page_cache() -> Result<()> {
    let status = Command::new("sync").status()?;
    if !status.success() {
        bail!("sync failed");
    }
    std::fs::write("/proc/sys/vm/drop_caches", "3\n").context("dropping the page cache (needs root)")
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if !n.is_multiple_of(2) { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 }
}

fn one_run(args: &Args) -> Result<(f64, f64)> {
    if readyz(args.listen).is_some() {
        bail!("something already answers on {}", args.listen);
    }
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&args.log)?;
    let started = Instant::now();
    let mut child = Command::new(&args.bin)
        .arg("--data-dir")
        .arg(&args.data_dir)
        .args(["serve", "--listen", &args.listen.to_string(), "--metrics-listen", "off"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", args.bin.display()))?;
    let ready_ms = loop {
        if readyz(args.listen) == Some(200) {
            break started.elapsed().as_secs_f64() * 1000.0;
        }
        if let Some(status) = child.try_wait()? {
            bail!("the server exited before it was ready: {status}");
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            bail!("not ready after 60 s");
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let stopping = Instant::now();
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status()?;
    if !status.success() {
        let _ = child.kill();
        bail!("could not send SIGTERM");
    }
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if stopping.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            bail!("the server did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok((ready_ms, stopping.elapsed().as_secs_f64() * 1000.0))
}

fn main() -> Result<()> {
    let args = Args::parse();
    let db = args.data_dir.join("stepdown.db");
    let bytes = std::fs::metadata(&db).with_context(|| format!("no database at {}", db.display()))?.len();
    println!("database: {} ({:.0} MB)", db.display(), bytes as f64 / 1_048_576.0);
    let mut ready = Vec::new();
    for run in 1..=args.runs {
        if args.drop_caches {
            drop_page_cache()?;
        }
        let (ms, stop_ms) = one_run(&args)?;
        println!("run {run}: ready after {ms:.1} ms (stopped {stop_ms:.1} ms after SIGTERM)");
        ready.push(ms);
    }
    ready.sort_by(f64::total_cmp);
    println!(
        "cold start to ready{}: median {:.1} ms, min {:.1} ms, max {:.1} ms over {} runs",
        if args.drop_caches { " (page cache dropped)" } else { " (page cache warm)" },
        median(&ready),
        ready.first().copied().unwrap_or(f64::NAN),
        ready.last().copied().unwrap_or(f64::NAN),
        ready.len()
    );
    Ok(())
}
