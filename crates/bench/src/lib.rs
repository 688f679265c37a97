//! Helpers the benchmark binaries share: name lists, opening a store the way `stepdown` does,
//! acting as a user without a session, latency summaries and a minimal keep-alive HTTP/1.1
//! client (so the load generator stays small next to the server on a two-core machine).

pub mod http;
pub mod names;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use app::clients::NewClientForm;
use app::users::NewUserForm;
use app::{App, AppConfig, Ctx};
use domain::access::{Actor, Purpose};
use domain::user::User;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::{SeaStore, StoreOptions};

/// The password every generated account gets (the scripts sign in with it).
pub const PASSWORD: &str = "quiet lantern orbits the harbor";

/// Where the database is: a data directory (SQLite) or a URL.
#[derive(clap::Args, Clone, Debug)]
pub struct DbArgs {
    /// A Stepdown data directory (its stepdown.db).
    #[arg(long, conflicts_with = "database_url")]
    pub data_dir: Option<PathBuf>,
    /// A database URL instead (sqlite://PATH or postgres://USER@HOST/DB).
    #[arg(long)]
    pub database_url: Option<String>,
}

impl DbArgs {
    pub fn url(&self) -> Result<String> {
        match (&self.data_dir, &self.database_url) {
            (_, Some(url)) => Ok(url.clone()),
            (Some(dir), None) => {
                std::fs::create_dir_all(dir)?;
                Ok(SeaStore::sqlite_url(dir))
            }
            (None, None) => bail!("give --data-dir or --database-url"),
        }
    }
}

/// Connects with the server's default options and applies the migrations, then wires the use
/// cases exactly as `stepdown serve` does.
pub async fn open(url: &str) -> Result<(SeaStore, App)> {
    let store = SeaStore::connect(url, &StoreOptions::default()).await?;
    store.migrate().await?;
    let app = stepdown::build_app(&store, AppConfig::default())?;
    Ok((store, app))
}

/// Creates an account through the console use case (as `stepdown user add` does).
pub async fn add_user(app: &App, username: &str, name: &str, role: &str) -> Result<User> {
    let created = app
        .create_user_from_console(&NewUserForm {
            username: username.into(),
            display_name: name.into(),
            role: role.into(),
            password: Some(PASSWORD.into()),
        })
        .await
        .map_err(|e| anyhow::anyhow!("creating {username}: {e}"))?;
    Ok(created.user)
}

/// A request context for `user` with an empty care team, as if it came through a session.
pub fn ctx_for(user: &User) -> Ctx {
    Ctx {
        actor: Actor {
            user_id: user.id,
            role: user.role,
            session_id: None,
            care_team: Default::default(),
            purpose: Purpose::default_for(user.role),
        },
        source: Some("127.0.0.1".into()),
    }
}

/// Signs in through the real use cases (password check, session) and returns the request
/// context `authenticate` builds from the token, as the web layer does for every request.
pub async fn sign_in(app: &App, username: &str) -> Result<Ctx> {
    let meta = app::auth::RequestMeta { source: Some("127.0.0.1".into()), user_agent: Some("bench".into()) };
    let signed = app.login(username, PASSWORD, &meta).await.map_err(|e| anyhow::anyhow!("signing in: {e}"))?;
    let auth = app.authenticate(&signed.token, Some("127.0.0.1")).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(auth.ctx)
}

/// An index into a list of `n` names, skewed towards the front (common names are common).
pub fn skewed(rng: &mut StdRng, n: usize) -> usize {
    let u: f64 = rng.random();
    ((u.powf(1.7) * n as f64) as usize).min(n.saturating_sub(1))
}

pub fn pick<'a>(rng: &mut StdRng, names: &[&'a str]) -> &'a str {
    names.get(skewed(rng, names.len())).copied().unwrap_or("Smith")
}

const STREETS: &[&str] =
    &["Main", "Oak", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Pine", "River", "Sunset"];

/// The form a registrar would fill in for client number `i` (deterministic for a seed).
pub fn client_form(seed: u64, i: u64, given: &[&str], family: &[&str]) -> NewClientForm {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i);
    let given_name = pick(&mut rng, given).to_owned();
    let family_name = if rng.random_bool(0.03) {
        format!("{}-{}", pick(&mut rng, family), pick(&mut rng, family))
    } else {
        pick(&mut rng, family).to_owned()
    };
    let year = rng.random_range(1950..=2007);
    let month = rng.random_range(1..=12);
    let day = rng.random_range(1..=28);
    let (area, exchange, line) = (rng.random_range(201..=989), rng.random_range(200..=999), rng.random_range(0..=9999));
    let phone = match rng.random_range(0..10) {
        0..=3 => format!("({area}) {exchange}-{line:04}"),
        4..=6 => format!("{area}-{exchange}-{line:04}"),
        7 => format!("+1 {area} {exchange} {line:04}"),
        8 => format!("{area}.{exchange}.{line:04}"),
        _ => String::new(),
    };
    let sex = match rng.random_range(0..100) {
        0..=44 => "female",
        45..=92 => "male",
        93..=96 => "other",
        _ => "",
    };
    NewClientForm {
        given_name,
        family_name,
        date_of_birth: format!("{year:04}-{month:02}-{day:02}"),
        preferred_name: if rng.random_bool(0.08) { pick(&mut rng, given).to_owned() } else { String::new() },
        pronouns: match rng.random_range(0..10) {
            0..=1 => "she/her".into(),
            2..=3 => "he/him".into(),
            4 => "they/them".into(),
            _ => String::new(),
        },
        sex: sex.into(),
        phone,
        email: if rng.random_bool(0.5) { format!("client{i}@example.org") } else { String::new() },
        address: if rng.random_bool(0.7) {
            format!(
                "{} {} St, Apt {}, Springfield",
                rng.random_range(1..9999),
                STREETS[rng.random_range(0..STREETS.len())],
                rng.random_range(1..40)
            )
        } else {
            String::new()
        },
        mrn: String::new(),
    }
}

/// Latency percentiles of one series, in milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// Nearest-rank percentiles of `samples`.
pub fn summarize(samples: &[Duration]) -> Summary {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    let at = |q: f64| -> f64 {
        if n == 0 {
            return f64::NAN;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        ms[rank - 1]
    };
    Summary {
        n,
        mean: if n == 0 { f64::NAN } else { ms.iter().sum::<f64>() / n as f64 },
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        max: ms.last().copied().unwrap_or(f64::NAN),
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "n={:<5} mean {:>8.2} ms  p50 {:>8.2} ms  p95 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
            self.n, self.mean, self.p50, self.p95, self.p99, self.max
        )
    }
}
