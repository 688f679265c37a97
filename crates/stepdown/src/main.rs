//! The `stepdown` binary: one executable for serving, migrating, managing users, verifying
//! the audit chain and taking backups.

mod serve;

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use app::users::NewUserForm;
use clap::{Parser, Subcommand};

use stepdown::config::FileConfig;
use stepdown::{Global, Storage, app_config, build_app, open_store, storage};

#[derive(Parser)]
#[command(name = "stepdown", version, about = "Stepdown: the step-down continuum of care, from helpline to aftercare")]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web application and API.
    Serve(serve::ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage staff accounts from the server's console.
    #[command(subcommand)]
    User(UserCommand),
    /// Work with the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Fill an empty database with the fictional demo center and exit.
    Demo,
    /// Write a consistent online backup of the SQLite database to FILE.
    Backup { file: PathBuf },
    /// Replace the SQLite database in the data directory with a backup (server must be stopped).
    Restore {
        file: PathBuf,
        /// Overwrite an existing database.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff account. Without --password-stdin a one-time password is printed.
    Add {
        #[arg(long)]
        username: String,
        /// Full name as shown to colleagues.
        #[arg(long)]
        name: String,
        /// admin, privacy_officer, supervisor, counselor, program_coordinator, admissions or biller.
        #[arg(long)]
        role: String,
        /// Read the password from standard input instead of generating a one-time password.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List staff accounts.
    List,
    /// Give an account a one-time password (printed once; changed at next sign-in) and end
    /// its sessions. Audited as done at the console by this operating-system account.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Remove an account's two-step verification (it is set up again at next sign-in where the
    /// role requires it) and end its sessions. Audited like reset-password.
    ResetMfa {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exit 2 at the first broken link.
    Verify {
        /// Also check that the chain still holds every checkpoint in this file (a checkpoint
        /// file, or a log with checkpoint lines); exit 2 when it was truncated or rewritten.
        #[arg(long, value_name = "FILE")]
        against: Option<PathBuf>,
    },
    /// Verify the chain, then print a signed checkpoint of how far it reaches.
    Checkpoint {
        /// Also append the checkpoint to this file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// Seeds the demo center and tells the operator how to sign in.
pub async fn seed_demo(app: &app::App) -> Result<()> {
    println!("Preparing the demo center…");
    let summary = app.seed_demo(20_261_127).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if summary.created {
        println!("Demo center ready: {} fictional clients, {} inquiries.", summary.clients, summary.inquiries);
    } else {
        println!("Demo center already present.");
    }
    println!("Demo accounts (password for all: {}):", app::demo::DEMO_PASSWORD);
    for (username, name, role) in app::demo::ACCOUNTS {
        println!("  {username:<18} {name:<18} {}", role.label());
    }
    Ok(())
}

fn init_tracing(format: &str) {
    use tracing_subscriber::EnvFilter;
    // Migration chatter is not news on every start; STEPDOWN_LOG overrides the whole filter.
    let filter =
        EnvFilter::try_from_env("STEPDOWN_LOG").unwrap_or_else(|_| EnvFilter::new("info,sea_orm_migration=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    let file = FileConfig::load(cli.global.config.as_deref())?;
    let log_format = cli.global.log_format.clone().or_else(|| file.log_format.clone()).unwrap_or_else(|| "text".into());
    if !matches!(log_format.as_str(), "text" | "json") {
        bail!("--log-format must be text or json");
    }
    init_tracing(&log_format);
    let storage = storage(&cli.global, &file)?;
    match cli.command {
        Command::Serve(args) => serve::run(args, &cli.global, &storage, &file).await,
        Command::Demo => {
            let store = open_store(&storage).await?;
            let app = build_app(&store, app_config(&file)?)?;
            let result = seed_demo(&app).await;
            store.close().await;
            result?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let store = open_store(&storage).await?;
            println!("Migrations applied; {} pending.", store.pending_migrations().await?);
            store.close().await;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::User(cmd) => user_command(cmd, &storage, &file).await,
        Command::Audit(cmd) => {
            let checkpoints = stepdown::checkpoints::settings(&cli.global, &file, &storage)?;
            let store = open_store(&storage).await?;
            let app = build_app(&store, app_config(&file)?)?;
            let result = audit_command(cmd, &app, &checkpoints).await;
            store.close().await;
            result
        }
        Command::Backup { file: target } => {
            let store = open_store(&storage).await?;
            let result = store::backup_sqlite(&store, &target).await;
            store.close().await;
            result?;
            println!("Backup written to {}", target.display());
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Restore { file: source, force } => restore(&storage, &source, force),
    }
}

async fn audit_command(
    cmd: AuditCommand,
    app: &app::App,
    settings: &stepdown::checkpoints::CheckpointSettings,
) -> Result<std::process::ExitCode> {
    use domain::audit_checkpoint::Witness;
    use stepdown::checkpoints::{Unusable, append, load_key, read};
    const BROKEN: u8 = 2;
    match cmd {
        AuditCommand::Checkpoint { out } => {
            let key = load_key(&settings.key_file, true)?;
            match app.verified_audit_checkpoint(&key).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                Ok(checkpoint) => {
                    if let Some(out) = &out {
                        append(out, &checkpoint)?;
                    }
                    println!("{}", checkpoint.to_line());
                    Ok(std::process::ExitCode::SUCCESS)
                }
                Err(b) => {
                    println!("Audit chain BROKEN: {b}; no checkpoint taken.");
                    Ok(std::process::ExitCode::from(BROKEN))
                }
            }
        }
        AuditCommand::Verify { against } => {
            // The checkpoints are read first: a forged or empty file is reported before the walk.
            let checkpoints = match &against {
                Some(path) => {
                    let key = load_key(&settings.key_file, false)?;
                    match read(path, &key)? {
                        Ok(found) => Some((path, found)),
                        Err(Unusable::Forged(why)) => {
                            println!("Checkpoints REFUSED: {why}.");
                            return Ok(std::process::ExitCode::from(BROKEN));
                        }
                        Err(Unusable::Empty) => bail!("{} holds no audit checkpoints", path.display()),
                    }
                }
                None => None,
            };
            let events = match app.verify_audit_chain().await.map_err(|e| anyhow::anyhow!("{e}"))? {
                app::ports::ChainReport::Intact { events } => events,
                app::ports::ChainReport::Broken(b) => {
                    println!("Audit chain BROKEN: {b}.");
                    return Ok(std::process::ExitCode::from(BROKEN));
                }
            };
            println!("Audit chain intact: {events} events verified.");
            let Some((path, found)) = checkpoints else {
                return Ok(std::process::ExitCode::SUCCESS);
            };
            for (line, signed) in &found {
                let c = &signed.checkpoint;
                let at = signed.at_rfc3339();
                match app.audit_witness(c).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                    Witness::Holds => {}
                    Witness::Truncated { head_seq } => {
                        println!(
                            "Audit chain TRUNCATED: it ends at event {head_seq}, but the checkpoint of {at} \
                             (line {line} of {}) saw event {}: the newest events were deleted.",
                            path.display(),
                            c.seq
                        );
                        return Ok(std::process::ExitCode::from(BROKEN));
                    }
                    Witness::Rewritten => {
                        println!(
                            "Audit chain REWRITTEN: event {} is not the one the checkpoint of {at} \
                             (line {line} of {}) saw: events up to it were replaced or re-hashed.",
                            c.seq,
                            path.display()
                        );
                        return Ok(std::process::ExitCode::from(BROKEN));
                    }
                }
            }
            if let Some((_, newest)) = found.last() {
                println!(
                    "It holds all {} checkpoints in {} (the newest: event {}, {}).",
                    found.len(),
                    path.display(),
                    newest.checkpoint.seq,
                    newest.at_rfc3339()
                );
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

fn restore(storage: &Storage, source: &std::path::Path, force: bool) -> Result<std::process::ExitCode> {
    if !storage.database_url.starts_with("sqlite:") {
        bail!("restore is for SQLite; use pg_restore for PostgreSQL");
    }
    if !source.is_file() {
        bail!("{} is not a file", source.display());
    }
    let target = storage.data_dir.join("stepdown.db");
    if target.exists() && !force {
        bail!("{} already exists; stop the server and pass --force to replace it", target.display());
    }
    // Stale WAL files from the old database must not be replayed onto the restored one.
    for suffix in ["-wal", "-shm"] {
        let side = storage.data_dir.join(format!("stepdown.db{suffix}"));
        if side.exists() {
            std::fs::remove_file(&side).with_context(|| format!("removing {}", side.display()))?;
        }
    }
    let tmp = storage.data_dir.join("stepdown.db.restoring");
    // Copied into a file created 0600 (`fs::copy` would carry over the backup's own bits,
    // which may be wider), then synced, so the rename puts a complete file in place.
    let _ = std::fs::remove_file(&tmp);
    let copied = (|| -> std::io::Result<()> {
        let mut from = std::fs::File::open(source)?;
        let mut to = store::files::open_private(&tmp, true, false)?;
        std::io::copy(&mut from, &mut to)?;
        to.sync_all()
    })();
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("copying {}", source.display()));
    }
    std::fs::rename(&tmp, &target).context("moving the restored database into place")?;
    println!("Restored {} into {}", source.display(), target.display());
    Ok(std::process::ExitCode::SUCCESS)
}

async fn user_command(cmd: UserCommand, storage: &Storage, file: &FileConfig) -> Result<std::process::ExitCode> {
    let store = open_store(storage).await?;
    let app = build_app(&store, app_config(file)?)?;
    let result = match cmd {
        UserCommand::Add { username, name, role, password_stdin } => {
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).context("reading the password from standard input")?;
                Some(s.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let form = NewUserForm { username, display_name: name, role, password };
            match app.create_user_from_console(&form).await {
                Ok(created) => {
                    println!(
                        "Created {} ({}) as {}.",
                        created.user.display_name,
                        created.user.username,
                        created.user.role.label()
                    );
                    if let Some(p) = created.one_time_password {
                        println!("One-time password (shown once; they choose their own at first sign-in): {p}");
                    }
                    Ok(std::process::ExitCode::SUCCESS)
                }
                Err(app::AppError::Invalid(errors)) => {
                    for e in errors {
                        eprintln!("{}: {}", e.field, e.message);
                    }
                    Ok(std::process::ExitCode::from(2))
                }
                Err(e) => Err(anyhow::anyhow!("{e}")),
            }
        }
        UserCommand::ResetPassword { username } => {
            console_reset(app.reset_password_from_console(&username, &operator()).await, &username)
        }
        UserCommand::ResetMfa { username } => {
            console_reset(app.reset_mfa_from_console(&username, &operator()).await, &username)
        }
        UserCommand::List => {
            use app::Store;
            let mut tx = store.read().await?;
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            for u in tx.list_users().await? {
                // A closed pipe (`| head`) ends the listing quietly instead of panicking.
                if writeln!(
                    out,
                    "{:<24} {:<22} {:<8} mfa={}",
                    u.username.as_str(),
                    u.role.code(),
                    if u.active { "active" } else { "inactive" },
                    if u.mfa_enabled { "on" } else { "off" }
                )
                .is_err()
                {
                    break;
                }
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
    };
    store.close().await;
    result
}

/// The operating-system account running this command, for the audit event of a console reset
/// (the one who ran `sudo`, when it was used).
fn operator() -> String {
    ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

fn console_reset(
    result: Result<app::users::ConsoleReset, app::AppError>,
    username: &str,
) -> Result<std::process::ExitCode> {
    match result {
        Ok(reset) => {
            let user = &reset.user;
            println!("Reset {} ({}, {}).", user.display_name, user.username, user.role.label());
            if let Some(p) = &reset.one_time_password {
                // Printed once, never logged: this is the only copy.
                println!("One-time password (shown once; they choose their own at next sign-in): {p}");
            }
            if reset.mfa_required {
                println!("They set up two-step verification at their next sign-in, as their role requires.");
            }
            println!("Sessions ended: {}.", reset.sessions_ended);
            if !user.active {
                println!("Note: this account is inactive; an administrator must reactivate it before it can sign in.");
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(app::AppError::NotFound) => {
            eprintln!("No account is named {username:?}; `stepdown user list` shows them.");
            Ok(std::process::ExitCode::from(2))
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}
