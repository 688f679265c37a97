//! Builds a large Stepdown SQLite database (about 1 GB by default) in a data directory, for the
//! cold-start benchmark. The schema comes from the real migrations and the first account from the
//! real use case; the bulk rows (staff, clients, care teams, audit events) are generated inside
//! SQLite with recursive CTEs, which is far faster than sending them over the driver.
//!
//! The audit rows are shaped like real ones (time-ordered UUIDv7 ids, realistic actions, actors
//! and clients) but their hash chain is not valid: `stepdown audit verify` will report it broken.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use app::AppConfig;
use app::users::NewUserForm;
use clap::Parser;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use store::{SeaStore, StoreOptions};

#[derive(Parser)]
#[command(about = "Generate a large Stepdown SQLite database for benchmarks")]
struct Args {
    /// The data directory (its stepdown.db is created; an existing one is refused).
    #[arg(long)]
    data_dir: PathBuf,
    /// Stop adding audit events once the database file reaches this size.
    #[arg(long, default_value_t = 1024)]
    target_mb: u64,
    /// Staff accounts besides the administrator.
    #[arg(long, default_value_t = 1_000)]
    staff: u64,
    #[arg(long, default_value_t = 50_000)]
    clients: u64,
    /// Care-team members per client.
    #[arg(long, default_value_t = 3)]
    team_size: u64,
    /// Audit events inserted per statement.
    #[arg(long, default_value_t = 250_000)]
    chunk: u64,
    /// Password of the `admin` account (created through the real use case).
    #[arg(long, default_value = "quiet lantern orbits the harbor")]
    admin_password: String,
}

/// Names to combine, separated by whitespace.
const GIVEN: &str = "Ada Amir Beatriz Chen Dmitri Elena Farah Grace Hiroshi Imani Jonas Keira Luis Maya Nikolai Olivia \
     Priya Quentin Rosa Samuel Tariq Uma Victor Wen Ximena Yusuf Zoe Aaron Bianca Connor Dalia Emeka \
     Fiona Gabriel Hana Isaac Jasmine";
const FAMILY: &str = "Abbott Bergström Castillo Dubois Eze Fitzgerald García Hoffmann Ivanova Jensen Kowalski Lindqvist \
     Mensah Nakamura O'Brien Patel Quinn Rossi Schmidt Tanaka Umarov Valdez Whitaker Xu Yamamoto \
     Zielinski Achebe Brennan Cohen Delgado Ellis Fernandes Gallagher Haddad Iqbal Jovanović Kim Larsen \
     Moreau Novak Okafor";

/// (action, outcome, has client, weight out of 100).
const ACTIONS: &[(&str, &str, bool, u64)] = &[
    ("client.read", "success", true, 62),
    ("client.searched", "success", true, 14),
    ("auth.login.success", "success", false, 7),
    ("auth.logout", "success", false, 4),
    ("auth.session.expired", "success", false, 3),
    ("client.care_team.changed", "success", true, 3),
    ("auth.login.failure", "failure", false, 2),
    ("client.created", "success", true, 2),
    ("access.denied", "denied", true, 1),
    ("auth.mfa.success", "success", false, 1),
    ("audit.viewed", "success", false, 1),
];

/// A SQL expression for a UUIDv7 (as its 16-byte blob) at the epoch milliseconds `ms_expr`.
fn uuid_v7_sql(ms_expr: &str) -> String {
    format!(
        "unhex(printf('%012x', {ms_expr}) || '7' || substr(hex(randomblob(2)), 1, 3) || '8' \
         || substr(hex(randomblob(8)), 1, 15))"
    )
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

async fn scalar_i64(db: &DatabaseConnection, sql: &str) -> Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql.to_owned()))
        .await?
        .with_context(|| format!("no row from {sql}"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn exec(db: &DatabaseConnection, sql: &str) -> Result<u64> {
    Ok(db
        .execute_unprepared(sql)
        .await
        .with_context(|| format!("running {}", &sql[..sql.len().min(120)]))?
        .rows_affected())
}

async fn file_bytes(db: &DatabaseConnection) -> Result<u64> {
    let pages = scalar_i64(db, "PRAGMA page_count").await?;
    let size = scalar_i64(db, "PRAGMA page_size").await?;
    Ok(u64::try_from(pages * size)?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    std::fs::create_dir_all(&args.data_dir)?;
    let db_file = args.data_dir.join("stepdown.db");
    if db_file.exists() {
        bail!("{} already exists; remove the data directory first", db_file.display());
    }
    let url = SeaStore::sqlite_url(&args.data_dir);

    // 1. The schema through the real migrations, the first account through the real use case.
    let store = SeaStore::connect(&url, &StoreOptions::default()).await?;
    store.migrate().await?;
    let app = stepdown::build_app(&store, AppConfig::default())?;
    app.create_user_from_console(&NewUserForm {
        username: "admin".into(),
        display_name: "Administrator".into(),
        role: "admin".into(),
        password: Some(args.admin_password.clone()),
    })
    .await
    .map_err(|e| anyhow::anyhow!("creating the administrator: {e}"))?;
    store.close().await;
    println!("migrated and created admin in {:.1?}", started.elapsed());

    // 2. Bulk rows on one connection without a journal (a crash here just means generating again).
    let mut opts = ConnectOptions::new(url);
    opts.sqlx_logging(false).max_connections(1).min_connections(1);
    opts.map_sqlx_sqlite_opts(|o| {
        o.journal_mode(SqliteJournalMode::Off).synchronous(SqliteSynchronous::Off).foreign_keys(true)
    });
    let db = Database::connect(opts).await?;
    exec(&db, "PRAGMA cache_size = -2000000").await?;
    exec(&db, "PRAGMA temp_store = MEMORY").await?;
    let version: String = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "SELECT sqlite_version()".to_owned()))
        .await?
        .context("sqlite_version")?
        .try_get_by_index(0)?;
    println!("SQLite {version}");

    let now_ms = i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis())?;
    // The history spans the last three years.
    let span_ms: i64 = 3 * 365 * 24 * 3600 * 1000;
    let start_ms = now_ms - span_ms;

    exec(&db, "CREATE TEMP TABLE given_names (i INTEGER PRIMARY KEY, name TEXT NOT NULL)").await?;
    exec(&db, "CREATE TEMP TABLE family_names (i INTEGER PRIMARY KEY, name TEXT NOT NULL)").await?;
    for (table, names) in [("given_names", GIVEN), ("family_names", FAMILY)] {
        let values: Vec<String> =
            names.split_whitespace().enumerate().map(|(i, n)| format!("({i}, {})", sql_str(n))).collect();
        exec(&db, &format!("INSERT INTO {table} (i, name) VALUES {}", values.join(","))).await?;
    }

    // Staff, sharing the administrator's (real) password hash.
    let roles = "CASE n.i % 20 WHEN 0 THEN 'supervisor' WHEN 1 THEN 'admissions' WHEN 2 THEN 'program_coordinator' \
                 WHEN 3 THEN 'biller' ELSE 'counselor' END";
    let staff = exec(
        &db,
        &format!(
            "INSERT INTO users (id, username, display_name, role, active, mfa_enabled, must_change_password, \
             password_hash, totp_secret, totp_pending_secret, totp_last_step, created_at, updated_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {staff}) \
             SELECT {id}, 'staff' || n.i, g.name || ' ' || f.name, {roles}, (n.i % 50) <> 0, 0, 0, \
             (SELECT password_hash FROM users WHERE username = 'admin'), NULL, NULL, NULL, {start_ms} + n.i * 1000, \
             {start_ms} + n.i * 1000 \
             FROM n JOIN given_names g ON g.i = n.i % {ng} JOIN family_names f ON f.i = (n.i * 7) % {nf}",
            staff = args.staff,
            id = uuid_v7_sql(&format!("{start_ms} + n.i * 1000")),
            ng = GIVEN.split_whitespace().count(),
            nf = FAMILY.split_whitespace().count(),
        ),
    )
    .await?;
    exec(&db, "CREATE TEMP TABLE staff (i INTEGER PRIMARY KEY, id BLOB NOT NULL, role TEXT NOT NULL)").await?;
    exec(
        &db,
        "INSERT INTO staff (i, id, role) SELECT row_number() OVER (ORDER BY rowid) - 1, id, role FROM users \
         WHERE username LIKE 'staff%'",
    )
    .await?;
    println!("{staff} staff accounts");

    // Clients, admitted evenly over the three years.
    let step = span_ms / i64::try_from(args.clients.max(1))?;
    let clients = exec(
        &db,
        &format!(
            "INSERT INTO clients (id, given_name, family_name, date_of_birth, created_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
             SELECT {id}, g.name, f.name, date('1950-01-01', '+' || (abs(random()) % 20000) || ' days'), \
             {start_ms} + n.i * {step} \
             FROM n JOIN given_names g ON g.i = (n.i * 5) % {ng} JOIN family_names f ON f.i = (n.i * 11) % {nf}",
            count = args.clients,
            id = uuid_v7_sql(&format!("{start_ms} + n.i * {step}")),
            ng = GIVEN.split_whitespace().count(),
            nf = FAMILY.split_whitespace().count(),
        ),
    )
    .await?;
    exec(&db, "CREATE TEMP TABLE client_ix (i INTEGER PRIMARY KEY, id BLOB NOT NULL)").await?;
    exec(&db, "INSERT INTO client_ix (i, id) SELECT row_number() OVER (ORDER BY rowid) - 1, id FROM clients").await?;
    println!("{clients} clients");

    // Care teams: distinct staff per client (consecutive indexes modulo the staff count).
    let team = exec(
        &db,
        &format!(
            "INSERT INTO care_team_members (client_id, user_id, team_role, since) \
             WITH RECURSIVE k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < {last}) \
             SELECT c.id, s.id, CASE k.k WHEN 0 THEN 'primary_counselor' WHEN 1 THEN 'counselor' \
             WHEN 2 THEN 'intake' ELSE 'other' END, c.created_at \
             FROM clients c CROSS JOIN k JOIN staff s ON s.i = (c.rowid * 7 + k.k) % {staff}",
            last = args.team_size.saturating_sub(1),
            staff = args.staff,
        ),
    )
    .await?;
    println!("{team} care-team members");

    // Audit events until the file reaches the target size.
    let mut actions = String::from("CASE");
    let mut cumulative = 0;
    for (action, _, _, weight) in ACTIONS {
        cumulative += weight;
        actions.push_str(&format!(" WHEN n.i % 100 < {cumulative} THEN {}", sql_str(action)));
    }
    actions.push_str(" ELSE 'client.read' END");
    exec(&db, "CREATE TEMP TABLE actions (name TEXT PRIMARY KEY, outcome TEXT NOT NULL, has_client INTEGER)").await?;
    let values: Vec<String> =
        ACTIONS.iter().map(|(a, o, c, _)| format!("({}, {}, {})", sql_str(a), sql_str(o), i32::from(*c))).collect();
    exec(&db, &format!("INSERT INTO actions VALUES {}", values.join(","))).await?;

    let target = args.target_mb * 1024 * 1024;
    // One event every 25 s: the ~3.3 million events that make 1 GB span the last two and a half years.
    let event_step_ms = 25_000;
    let mut total = 0u64;
    loop {
        let size = file_bytes(&db).await?;
        if size >= target {
            break;
        }
        let base = scalar_i64(&db, "SELECT seq FROM audit_head WHERE id = 1").await?;
        let occurred = format!("({start_ms} + (n.i + {base}) * {event_step_ms})");
        let sql = format!(
            "INSERT INTO audit_events (seq, id, occurred_at, actor_id, actor_role, action, outcome, client_id, \
             subject, purpose, source, detail, prev_hash, hash) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {chunk}), \
             e AS (SELECT n.i AS i, {actions} AS action FROM n) \
             SELECT {base} + e.i, {id}, {occurred_e}, s.id, s.role, e.action, a.outcome, \
             CASE WHEN a.has_client THEN c.id END, NULL, \
             CASE WHEN a.has_client THEN 'treatment' END, \
             '10.20.' || (e.i % 16) || '.' || (e.i % 211), \
             CASE e.action WHEN 'auth.session.expired' THEN 'idle_timeout' END, \
             randomblob(32), randomblob(32) \
             FROM e JOIN actions a ON a.name = e.action \
             JOIN staff s ON s.i = (e.i * 31) % {staff} \
             JOIN client_ix c ON c.i = (e.i * 17 + {base}) % {clients}",
            chunk = args.chunk,
            id = uuid_v7_sql(&occurred.replace("n.i", "e.i")),
            occurred_e = occurred.replace("n.i", "e.i"),
            staff = args.staff,
            clients = args.clients,
        );
        let t = Instant::now();
        let added = exec(&db, &sql).await?;
        total += added;
        exec(
            &db,
            "UPDATE audit_head SET seq = (SELECT max(seq) FROM audit_events), \
             hash = (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1) WHERE id = 1",
        )
        .await?;
        println!(
            "{total} audit events, {:.0} MB ({:.1?} for this chunk)",
            file_bytes(&db).await? as f64 / 1_048_576.0,
            t.elapsed()
        );
        if added == 0 {
            bail!("no audit events were inserted");
        }
    }

    // Back to the journal mode the server uses; it persists in the file.
    exec(&db, "PRAGMA journal_mode = WAL").await?;
    db.close().await?;
    let bytes = std::fs::metadata(&db_file)?.len();
    println!("done: {} ({:.0} MB) in {:.1?}", db_file.display(), bytes as f64 / 1_048_576.0, started.elapsed());
    Ok(())
}
