//! Scoring throughput of `domain::instruments::score` on one thread. Random complete answer sets
//! for every instrument are made up front (fixed seed), then scored in turn, a batch of one
//! instrument at a time, for a few seconds. Prints responses per second overall and per
//! instrument (each instrument's count over the time spent in its own batches).

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use clap::Parser;
use domain::instruments::{Answers, Instrument, ScoringContext, items, score};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

#[derive(Parser)]
#[command(about = "Instrument scoring throughput on one thread")]
struct Args {
    /// Seconds to score for.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Answer sets made per instrument.
    #[arg(long, default_value_t = 1000)]
    sets: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// Responses of one instrument scored between two clock reads.
const BATCH: usize = 64;

/// One answer to every item, each drawn from the values the item allows.
fn answers(instrument: Instrument, rng: &mut impl Rng) -> Answers {
    items(instrument).iter().filter_map(|item| Some((item.id.to_owned(), *item.values.choose(rng)?))).collect()
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.sets == 0 {
        bail!("--sets must be at least 1");
    }
    let ctx = ScoringContext::default();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let sets: Vec<(Instrument, Vec<Answers>)> =
        Instrument::ALL.iter().map(|&i| (i, (0..args.sets).map(|_| answers(i, &mut rng)).collect())).collect();
    // Every set must score: an error here would make the loop below measure the wrong path.
    for (instrument, list) in &sets {
        for a in list {
            score(*instrument, a, &ctx).map_err(|e| anyhow!("{}: {e}", instrument.code()))?;
        }
    }

    let limit = Duration::from_secs_f64(args.seconds);
    let mut counts = vec![0u64; sets.len()];
    let mut spent = vec![Duration::ZERO; sets.len()];
    let mut next = 0usize;
    let started = Instant::now();
    while started.elapsed() < limit {
        for (k, (instrument, list)) in sets.iter().enumerate() {
            let batch_started = Instant::now();
            for j in 0..BATCH {
                let a = &list[(next + j) % list.len()];
                let _ = black_box(score(*instrument, black_box(a), &ctx));
            }
            spent[k] += batch_started.elapsed();
            counts[k] += BATCH as u64;
        }
        next += BATCH;
    }
    let wall = started.elapsed().as_secs_f64();

    let total: u64 = counts.iter().sum();
    println!("scoring: {} instruments, {} answer sets each, one thread, {wall:.2} s", sets.len(), args.sets);
    let w = sets.iter().map(|(i, _)| i.code().len()).max().unwrap_or(0).max("overall".len());
    println!("{:<w$}  {:>10.0} responses/s", "overall", total as f64 / wall);
    for ((instrument, _), (count, time)) in sets.iter().zip(counts.iter().zip(&spent)) {
        let secs = time.as_secs_f64();
        println!(
            "{:<w$}  {:>10.0} responses/s  {:>6.3} µs/response  ({} items)",
            instrument.code(),
            *count as f64 / secs,
            secs * 1e6 / *count as f64,
            items(*instrument).len()
        );
    }
    Ok(())
}
