//! Client search latency over a generated register (see `bench-gen-clients`), in-process through
//! `App::search_clients` and/or over HTTP through `POST /api/v1/clients/search`, with a mix of
//! the queries a front desk types: full names, names with one typo, partial names, MRNs, dates of
//! birth and phone numbers. The targets are drawn from the database (by MRN, with a fixed seed),
//! so both backends get the same queries.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bench::http::{Conn, login};
use bench::{DbArgs, PASSWORD, Summary, open, sign_in, summarize};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, Statement};

#[derive(Parser)]
#[command(about = "Client search latency: in-process and over HTTP")]
struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// Searches per measured run.
    #[arg(long, default_value_t = 2_000)]
    queries: usize,
    /// Unmeasured searches before the first run.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// Concurrency levels to measure, comma-separated.
    #[arg(long, default_value = "1,8", value_delimiter = ',')]
    concurrency: Vec<usize>,
    /// Measure `App::search_clients` in this process.
    #[arg(long)]
    in_process: bool,
    /// Measure over HTTP against a running server at this address.
    #[arg(long)]
    http: Option<SocketAddr>,
    /// The supervisor who searches.
    #[arg(long, default_value = "sup")]
    username: String,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// A label for the RESULT lines (e.g. the backend).
    #[arg(long, default_value = "")]
    label: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    FullName,
    Typo,
    FamilyOnly,
    PartialName,
    Folded,
    Mrn,
    Dob,
    Phone,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::FullName => "exact full name",
            Kind::Typo => "full name, one typo",
            Kind::FamilyOnly => "family name only",
            Kind::PartialName => "given prefix + family",
            Kind::Folded => "lowercase, no accents",
            Kind::Mrn => "MRN",
            Kind::Dob => "date of birth",
            Kind::Phone => "phone",
        }
    }
}

struct Target {
    mrn: String,
    given: String,
    family: String,
    dob: String,
    phone: Option<String>,
}

struct Query {
    kind: Kind,
    text: String,
    /// The MRN the query was made from.
    target: String,
}

async fn targets(db: &sea_orm::DatabaseConnection, n: usize, seed: u64) -> Result<Vec<Target>> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, "SELECT count(*) FROM clients".to_owned()))
        .await?
        .context("count")?;
    let count: i64 = row.try_get_by_index(0)?;
    if count < 1 {
        bail!("the database has no clients; run bench-gen-clients first");
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let seqs: Vec<i64> = (0..n).map(|_| rng.random_range(1..=count)).collect();
    let mut by_mrn: BTreeMap<String, Target> = BTreeMap::new();
    for chunk in seqs.chunks(500) {
        let list: Vec<String> = chunk.iter().map(|s| format!("'SD-{s:06}'")).collect();
        let sql = format!(
            "SELECT mrn, given_name, family_name, date_of_birth, phone FROM clients WHERE mrn IN ({})",
            list.join(",")
        );
        for r in db.query_all_raw(Statement::from_string(backend, sql)).await? {
            let t = Target {
                mrn: r.try_get_by_index(0)?,
                given: r.try_get_by_index(1)?,
                family: r.try_get_by_index(2)?,
                dob: r.try_get_by_index(3)?,
                phone: r.try_get_by_index(4)?,
            };
            by_mrn.insert(t.mrn.clone(), t);
        }
    }
    let out: Vec<Target> = seqs.iter().filter_map(|s| by_mrn.get(&format!("SD-{s:06}"))).map(clone_target).collect();
    if out.len() < n / 2 {
        bail!("only {} of {n} sampled MRNs exist (were the MRNs numbered from the sequence?)", out.len());
    }
    Ok(out)
}

fn clone_target(t: &Target) -> Target {
    Target {
        mrn: t.mrn.clone(),
        given: t.given.clone(),
        family: t.family.clone(),
        dob: t.dob.clone(),
        phone: t.phone.clone(),
    }
}

/// One edit (substitute, delete, transpose or insert) somewhere after the first letter.
fn typo(rng: &mut StdRng, word: &str) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 4 {
        chars.push('e');
        return chars.into_iter().collect();
    }
    let i = rng.random_range(1..chars.len() - 1);
    let letter = char::from(b'a' + rng.random_range(0..26u8));
    match rng.random_range(0..4) {
        0 => chars[i] = if chars[i] == letter { 'x' } else { letter },
        1 => {
            chars.remove(i);
        }
        2 => chars.swap(i, i + 1),
        _ => chars.insert(i, letter),
    }
    chars.into_iter().collect()
}

fn build_queries(targets: &[Target], seed: u64) -> Vec<Query> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xA5A5);
    let mut out = Vec::with_capacity(targets.len());
    for (i, t) in targets.iter().enumerate() {
        // The mix, per 100: 25 full names, 20 typos, 8 family names, 7 given prefix + family,
        // 5 folded names, 12 MRNs, 12 dates of birth, 11 phones (falls back to a name if none).
        let slot = i % 100;
        let kind = match slot {
            0..=24 => Kind::FullName,
            25..=44 => Kind::Typo,
            45..=52 => Kind::FamilyOnly,
            53..=59 => Kind::PartialName,
            60..=64 => Kind::Folded,
            65..=76 => Kind::Mrn,
            77..=88 => Kind::Dob,
            _ if t.phone.is_some() => Kind::Phone,
            _ => Kind::FullName,
        };
        let text = match kind {
            Kind::FullName => format!("{} {}", t.given, t.family),
            Kind::Typo => {
                if rng.random_bool(0.7) {
                    format!("{} {}", t.given, typo(&mut rng, &t.family))
                } else {
                    format!("{} {}", typo(&mut rng, &t.given), t.family)
                }
            }
            Kind::FamilyOnly => t.family.clone(),
            Kind::PartialName => {
                let prefix: String = t.given.chars().take(3).collect();
                format!("{prefix} {}", t.family)
            }
            Kind::Folded => domain::search::fold(&format!("{} {}", t.given, t.family)),
            Kind::Mrn => t.mrn.to_lowercase(),
            Kind::Dob => {
                if rng.random_bool(0.5) {
                    t.dob.clone()
                } else {
                    // MM/DD/YYYY, as printed on many cards.
                    let parts: Vec<&str> = t.dob.split('-').collect();
                    match parts.as_slice() {
                        [y, m, d] => format!("{m}/{d}/{y}"),
                        _ => t.dob.clone(),
                    }
                }
            }
            Kind::Phone => {
                let digits = domain::search::phone_digits(t.phone.as_deref().unwrap_or(""));
                let d = digits.strip_prefix('1').filter(|d| d.len() == 10).unwrap_or(&digits).to_owned();
                if rng.random_bool(0.5) || d.len() != 10 { d } else { format!("{}-{}-{}", &d[..3], &d[3..6], &d[6..]) }
            }
        };
        out.push(Query { kind, text, target: t.mrn.clone() });
    }
    out
}

/// What one search took and returned.
struct Sample {
    kind: Kind,
    took: Duration,
    hits: usize,
    found: bool,
}

fn report(label: &str, mode: &str, concurrency: usize, wall: Duration, samples: &[Sample]) {
    let all: Vec<Duration> = samples.iter().map(|s| s.took).collect();
    let s = summarize(&all);
    println!(
        "== {mode}, concurrency {concurrency}: {} searches in {:.2} s = {:.0}/s",
        samples.len(),
        wall.as_secs_f64(),
        samples.len() as f64 / wall.as_secs_f64()
    );
    println!("   all kinds               {s}");
    let mut kinds: BTreeMap<Kind, Vec<&Sample>> = BTreeMap::new();
    for x in samples {
        kinds.entry(x.kind).or_default().push(x);
    }
    for (kind, xs) in &kinds {
        let d: Vec<Duration> = xs.iter().map(|x| x.took).collect();
        let k: Summary = summarize(&d);
        let found = xs.iter().filter(|x| x.found).count();
        let hits: usize = xs.iter().map(|x| x.hits).sum();
        println!(
            "   {:<23} n={:<4} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  hits/query {:>5.1}  target found {:>5.1} %",
            kind.label(),
            k.n,
            k.p50,
            k.p99,
            k.max,
            hits as f64 / xs.len() as f64,
            100.0 * found as f64 / xs.len() as f64
        );
    }
    println!(
        "RESULT label={label} mode={mode} c={concurrency} n={} rps={:.1} mean={:.3} p50={:.3} p95={:.3} p99={:.3} max={:.3}",
        s.n,
        samples.len() as f64 / wall.as_secs_f64(),
        s.mean,
        s.p50,
        s.p95,
        s.p99,
        s.max
    );
}

async fn in_process(args: &Args, app: &app::App, queries: Arc<Vec<Query>>) -> Result<()> {
    let ctx = sign_in(app, &args.username).await?;
    for q in queries.iter().cycle().take(args.warmup) {
        app.search_clients(&ctx, &q.text).await.map_err(|e| anyhow::anyhow!("{:?}: {e}", q.text))?;
    }
    for &c in &args.concurrency {
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..c.max(1) {
            let (app, ctx, queries, next) = (app.clone(), ctx.clone(), queries.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(q) = queries.get(i) else { return Ok::<_, anyhow::Error>(out) };
                    let t = Instant::now();
                    let hits =
                        app.search_clients(&ctx, &q.text).await.map_err(|e| anyhow::anyhow!("{:?}: {e}", q.text))?;
                    let took = t.elapsed();
                    let found = hits.iter().any(|h| h.record.mrn.as_str() == q.target);
                    out.push(Sample { kind: q.kind, took, hits: hits.len(), found });
                }
            }));
        }
        let mut samples = Vec::new();
        for t in tasks {
            samples.extend(t.await??);
        }
        report(&args.label, "in-process", c, start.elapsed(), &samples);
    }
    Ok(())
}

fn search_once(conn: &mut Conn, auth: &str, q: &Query) -> Result<Sample> {
    let body = serde_json::json!({ "q": q.text }).to_string();
    let headers = [auth.to_owned(), "Content-Type: application/json".to_owned()];
    let t = Instant::now();
    let res = conn.request("POST", "/api/v1/clients/search", &headers, Some(body.as_bytes()))?;
    let took = t.elapsed();
    if res.status != 200 {
        bail!("search {:?} gave {}: {}", q.text, res.status, String::from_utf8_lossy(&res.body));
    }
    let v: serde_json::Value = serde_json::from_slice(&res.body)?;
    let hits = v.as_array().context("search response is not a list")?;
    let found = hits.iter().any(|h| h.pointer("/client/mrn").and_then(|m| m.as_str()) == Some(q.target.as_str()));
    Ok(Sample { kind: q.kind, took, hits: hits.len(), found })
}

fn over_http(args: &Args, addr: SocketAddr, queries: Arc<Vec<Query>>) -> Result<()> {
    let token = login(addr, &args.username, PASSWORD)?;
    let auth = format!("Authorization: Bearer {token}");
    let mut conn = Conn::open(addr)?;
    for q in queries.iter().cycle().take(args.warmup) {
        search_once(&mut conn, &auth, q)?;
    }
    for &c in &args.concurrency {
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let samples = std::thread::scope(|s| -> Result<Vec<Sample>> {
            let handles: Vec<_> = (0..c.max(1))
                .map(|_| {
                    let (queries, next, auth) = (queries.clone(), next.clone(), auth.clone());
                    s.spawn(move || -> Result<Vec<Sample>> {
                        let mut conn = Conn::open(addr)?;
                        let mut out = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(q) = queries.get(i) else { return Ok(out) };
                            out.push(search_once(&mut conn, &auth, q)?);
                        }
                    })
                })
                .collect();
            let mut all = Vec::new();
            for h in handles {
                all.extend(h.join().map_err(|_| anyhow::anyhow!("a client thread failed"))??);
            }
            Ok(all)
        })?;
        report(&args.label, "http", c, start.elapsed(), &samples);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !args.in_process && args.http.is_none() {
        bail!("give --in-process and/or --http ADDR");
    }
    let url = args.db.url()?;
    let (store, app) = open(&url).await?;
    let t = targets(store.connection(), args.queries, args.seed).await?;
    let queries = Arc::new(build_queries(&t, args.seed));
    let mut mix: BTreeMap<Kind, usize> = BTreeMap::new();
    for q in queries.iter() {
        *mix.entry(q.kind).or_default() += 1;
    }
    let shown: Vec<String> = mix.iter().map(|(k, n)| format!("{} {n}", k.label())).collect();
    println!("{} queries: {}", queries.len(), shown.join(", "));
    for q in queries.iter().take(12) {
        println!("   e.g. {:<22} {:?}", q.kind.label(), q.text);
    }
    if args.in_process {
        in_process(&args, &app, queries.clone()).await?;
    }
    store.close().await;
    if let Some(addr) = args.http {
        tokio::task::spawn_blocking(move || over_http(&args, addr, queries)).await??;
    }
    Ok(())
}
