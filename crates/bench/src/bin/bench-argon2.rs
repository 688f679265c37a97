//! Password verifications per second with the parameters Stepdown uses
//! (`app::security::HashParams::default()`), on one thread, then on every core.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use app::security::HashParams;
use clap::Parser;

#[derive(Parser)]
#[command(about = "Argon2id verifications per second with Stepdown's parameters")]
struct Args {
    /// Seconds to verify for, per measurement.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Also measure with this many threads at once (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

const PASSWORD: &str = "quiet lantern orbits the harbor";

/// Verifies for `limit`, alternating right and wrong passwords (both cost the same); returns the count.
fn verify_for(params: HashParams, hash: &str, limit: Duration) -> Result<u64> {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < limit {
        let right = n.is_multiple_of(2);
        let ok = params.verify(if right { PASSWORD } else { "not the password at all" }, hash);
        if ok != right {
            bail!("verification gave the wrong answer");
        }
        n += 1;
    }
    Ok(n)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let params = HashParams::default();
    println!(
        "argon2id parameters: m={} KiB, t={}, p={} (HashParams::default())",
        params.memory_kib, params.iterations, params.lanes
    );
    let limit = Duration::from_secs_f64(args.seconds);

    let t = Instant::now();
    let hash = params.hash(PASSWORD).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    println!("one hash: {:.1} ms  ({hash})", t.elapsed().as_secs_f64() * 1000.0);

    // Warm up (page faults for the 19 MiB block, CPU frequency).
    verify_for(params, &hash, Duration::from_millis(500))?;

    let t = Instant::now();
    let n = verify_for(params, &hash, limit)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "1 thread: {n} verifications in {secs:.2} s = {:.1}/s ({:.1} ms each)",
        n as f64 / secs,
        secs * 1000.0 / n as f64
    );

    let threads = if args.threads == 0 { std::thread::available_parallelism()?.get() } else { args.threads };
    if threads > 1 {
        let t = Instant::now();
        let total: u64 = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..threads).map(|_| s.spawn(|| verify_for(params, &hash, limit).unwrap_or(0))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
        });
        let secs = t.elapsed().as_secs_f64();
        println!("{threads} threads: {total} verifications in {secs:.2} s = {:.1}/s", total as f64 / secs);
    }
    Ok(())
}
