//! Fills a database with realistic clients for the search benchmark, through the real use case
//! (`App::create_client_record`): validation, the MRN sequence, the trigram index, the care-team
//! row and the audit event are exactly what production writes.
//!
//! Accounts: `sup` (supervisor, the one who searches; on no care team) and `intake01`..`intakeNN`
//! (admissions, who register the clients and so join their care teams as intake, as in
//! production). All share `bench::PASSWORD`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Result, bail};
use bench::names::{FAMILY, GIVEN, list};
use bench::{DbArgs, add_user, client_form, ctx_for, open};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Generate clients through the real use case, for the search benchmark")]
struct Args {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long, default_value_t = 100_000)]
    clients: u64,
    /// Admissions accounts the registrations are spread over.
    #[arg(long, default_value_t = 20)]
    intake_staff: u64,
    /// Registrations in flight at once (SQLite serializes them anyway; PostgreSQL overlaps them).
    #[arg(long, default_value_t = 4)]
    concurrency: u64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let url = args.db.url()?;
    let (store, app) = open(&url).await?;
    let given = list(GIVEN);
    let family = list(FAMILY);
    println!("{} given names, {} family names", given.len(), family.len());

    add_user(&app, "sup", "Sue Pemberton", "supervisor").await?;
    let mut intake = Vec::new();
    for k in 1..=args.intake_staff {
        let name = format!("{} {}", given[(k as usize * 7) % given.len()], family[(k as usize * 13) % family.len()]);
        intake.push(ctx_for(&add_user(&app, &format!("intake{k:02}"), &name, "admissions").await?));
    }
    if intake.is_empty() {
        bail!("--intake-staff must be at least 1");
    }
    println!("accounts: sup (supervisor), intake01..intake{:02} (admissions)", args.intake_staff);

    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let (given, family) = (Arc::new(given), Arc::new(family));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (app, intake, next, done) = (app.clone(), intake.clone(), next.clone(), done.clone());
        let (given, family, seed, total) = (given.clone(), family.clone(), args.seed, args.clients);
        tasks.push(tokio::spawn(async move {
            let given: Vec<&str> = given.iter().copied().collect();
            let family: Vec<&str> = family.iter().copied().collect();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<(), anyhow::Error>(());
                }
                let form = client_form(seed, i, &given, &family);
                let ctx = &intake[(i % intake.len() as u64) as usize];
                app.create_client_record(ctx, &form, false)
                    .await
                    .map_err(|e| anyhow::anyhow!("client {i} ({form:?}): {e}"))?;
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of(10_000) {
                    let secs = t.elapsed().as_secs_f64();
                    println!("{n} clients in {secs:.1} s ({:.0}/s)", n as f64 / secs);
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let secs = t.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "created {n} clients through create_client_record in {secs:.1} s ({:.0}/s, {:.2} ms each, concurrency {})",
        n as f64 / secs,
        secs * 1000.0 / n.max(1) as f64,
        args.concurrency
    );
    store.close().await;
    println!("done in {:.1?}", started.elapsed());
    Ok(())
}
