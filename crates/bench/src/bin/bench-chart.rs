//! Render time of a two-year trend chart with `web::charts::render`: 104 weekly PHQ-9-like
//! scores, five severity bands, four level-of-care changes and an alert line. Prints the median
//! and p99 render time in microseconds and the size of the SVG.

use std::hint::black_box;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::Duration;
use time::macros::datetime;
use web::charts::{Band, Marker, Point, TrendChart, render};

#[derive(Parser)]
#[command(about = "Render time of a two-year weekly trend chart")]
struct Args {
    /// Renders to time (after a tenth as many to warm up).
    #[arg(long, default_value_t = 20_000)]
    iterations: usize,
}

/// Two years of weekly scores: a deterministic random walk from severe down to mild.
fn chart() -> TrendChart {
    let mut rng = StdRng::seed_from_u64(42);
    let start = datetime!(2024-01-01 09:00 UTC);
    let mut value: f64 = 22.0;
    let points = (0..104)
        .map(|week| {
            value = (value + rng.random_range(-3.0..3.0) - 0.1).clamp(0.0, 27.0);
            Point { at: start + Duration::weeks(week), value: value.round() }
        })
        .collect();
    let bands = [
        (0.0, 5.0, "minimal"),
        (5.0, 10.0, "mild"),
        (10.0, 15.0, "moderate"),
        (15.0, 20.0, "moderately severe"),
        (20.0, 27.0, "severe"),
    ]
    .into_iter()
    .map(|(from, to, label)| Band { from, to, label: label.to_owned() })
    .collect();
    let markers =
        [(0, "Admitted to 3.7"), (4, "Stepped down to 3.5"), (16, "Stepped down to 2.1"), (40, "Stepped down to 1")]
            .into_iter()
            .map(|(week, label)| Marker { at: start + Duration::weeks(week), label: label.to_owned() })
            .collect();
    TrendChart {
        title: "PHQ-9".to_owned(),
        y_min: 0.0,
        y_max: 27.0,
        bands,
        points,
        markers,
        threshold: Some((15.0, "Review".to_owned())),
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.iterations == 0 {
        bail!("--iterations must be at least 1");
    }
    let chart = chart();
    for _ in 0..args.iterations / 10 {
        black_box(render(black_box(&chart)));
    }
    let mut samples = Vec::with_capacity(args.iterations);
    let mut bytes = 0;
    for _ in 0..args.iterations {
        let started = Instant::now();
        let svg = render(black_box(&chart));
        samples.push(started.elapsed());
        bytes = black_box(svg).len();
    }
    let s = bench::summarize(&samples);
    println!(
        "trend chart: {} points, {} bands, {} markers; {} renders on one thread",
        chart.points.len(),
        chart.bands.len(),
        chart.markers.len(),
        s.n
    );
    println!(
        "render  median {:.1} µs  p99 {:.1} µs  mean {:.1} µs  max {:.1} µs",
        s.p50 * 1000.0,
        s.p99 * 1000.0,
        s.mean * 1000.0,
        s.max * 1000.0
    );
    println!("svg     {bytes} bytes");
    Ok(())
}
