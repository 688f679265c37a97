//! The Stepdown binary's library half: configuration and the wiring that turns a store and
//! the use cases into a running server. `main.rs` and the test kit both start servers here,
//! so tests exercise exactly what production runs.

pub mod checkpoints;
pub mod config;
pub mod server;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use app::{App, AppConfig, SystemClock, UuidV7};
use clap::Args;
use domain::role::Role;
use store::{SeaStore, StoreOptions};

use crate::config::FileConfig;

#[derive(Args, Clone)]
pub struct Global {
    /// Where Stepdown keeps its SQLite database and other files.
    #[arg(long, env = "STEPDOWN_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Use this database instead (sqlite://PATH or postgres://USER@HOST/DB).
    #[arg(long, env = "STEPDOWN_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// A TOML file with the same settings (default: ./stepdown.toml when present).
    #[arg(long, env = "STEPDOWN_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, env = "STEPDOWN_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// The key that signs audit checkpoints (default: DATA_DIR/audit-checkpoint.key).
    #[arg(long, env = "STEPDOWN_CHECKPOINT_KEY_FILE", global = true)]
    pub checkpoint_key: Option<PathBuf>,
}

/// Resolved storage settings.
pub struct Storage {
    pub data_dir: PathBuf,
    pub database_url: String,
}

pub fn storage(global: &Global, file: &FileConfig) -> Result<Storage> {
    let data_dir =
        global.data_dir.clone().or_else(|| file.data_dir.clone()).unwrap_or_else(|| PathBuf::from("stepdown-data"));
    store::files::create_private_dir(&data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    warn_if_too_open(&data_dir, "chmod 700");
    let database_url = global
        .database_url
        .clone()
        .or_else(|| file.database_url.clone())
        .unwrap_or_else(|| SeaStore::sqlite_url(&data_dir));
    Ok(Storage { data_dir, database_url })
}

pub fn app_config(file: &FileConfig) -> Result<AppConfig> {
    let mut config = AppConfig::default();
    if let Some(m) = file.session_idle_minutes {
        if !(1..=24 * 60).contains(&m) {
            bail!("session_idle_minutes must be between 1 and 1440");
        }
        config.session.idle_timeout = time::Duration::minutes(m);
    }
    if let Some(h) = file.session_absolute_hours {
        if !(1..=72).contains(&h) {
            bail!("session_absolute_hours must be between 1 and 72");
        }
        config.session.absolute_timeout = time::Duration::hours(h);
    }
    if let Some(f) = &file.mrn_format {
        domain::client::MrnFormat::parse(f).map_err(|e| anyhow::anyhow!("mrn_format: {e}"))?;
        config.mrn_format = f.clone();
    }
    if let Some(c) = &file.level_catalogue {
        domain::level::Catalogue::builtin(c).map_err(|e| anyhow::anyhow!("level_catalogue: {e}"))?;
        config.catalogue = c.clone();
    }
    if let Some(m) = file.ciwa_moderate_from {
        config.ciwa.moderate_from = m;
    }
    if let Some(m) = file.ciwa_severe_from {
        config.ciwa.severe_from = m;
    }
    if !(1..config.ciwa.severe_from).contains(&config.ciwa.moderate_from) || config.ciwa.severe_from > 67 {
        bail!("CIWA-Ar bands must satisfy 0 < ciwa_moderate_from < ciwa_severe_from <= 67");
    }
    if let Some(a) = file.ciwa_alert_from {
        if !(1..=67).contains(&a) {
            bail!("ciwa_alert_from must be between 1 and 67");
        }
        config.withdrawal_alerts.ciwa_from = a;
    }
    if let Some(a) = file.cows_alert_from {
        if !(1..=48).contains(&a) {
            bail!("cows_alert_from must be between 1 and 48");
        }
        config.withdrawal_alerts.cows_from = a;
    }
    if let Some(days) = &file.review_days {
        let catalogue = domain::level::Catalogue::builtin(&config.catalogue)
            .map_err(|e| anyhow::anyhow!("level_catalogue: {e}"))?;
        for (level, d) in days {
            if catalogue.level(level).is_err() {
                bail!("review_days names level {level:?}, which is not in {}", config.catalogue);
            }
            if !(1..=365).contains(d) {
                bail!("review_days for {level} must be between 1 and 365");
            }
        }
        config.review_days = days.clone();
    }
    if let Some(path) = &file.measurement_schedule {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("measurement_schedule {}: {e}", path.display()))?;
        config.schedule = domain::measurement::Schedule::from_json(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if let Some(roles) = &file.mfa_required_roles {
        config.mfa_required = roles
            .iter()
            .map(|r| r.parse::<Role>().map_err(|_| anyhow::anyhow!("unknown role {r:?} in mfa_required_roles")))
            .collect::<Result<_>>()?;
    }
    Ok(config)
}

pub async fn open_store(storage: &Storage) -> Result<SeaStore> {
    let sqlite_file = store::files::sqlite_path(&storage.database_url);
    if let Some(file) = &sqlite_file {
        // Created here, 0600, rather than by SQLite (0644 under the usual umask); SQLite then
        // gives the WAL and shared-memory files the same bits. A missing parent directory is
        // left for SQLite to report.
        if file.parent().is_none_or(|p| p.as_os_str().is_empty() || p.is_dir()) {
            store::files::create_private_file(file).with_context(|| format!("creating {}", file.display()))?;
        }
    }
    let store = SeaStore::connect(&storage.database_url, &StoreOptions::default()).await?;
    store.migrate().await?;
    if let Some(file) = &sqlite_file {
        for f in store::files::sqlite_files(file) {
            warn_if_too_open(&f, "chmod 600");
        }
    }
    Ok(store)
}

/// Warns (once per start) about a data directory or database file that other local accounts
/// can read: files made by an older version, or by hand. We do not change them ourselves; the
/// operator may have widened them on purpose, and the warning says how to narrow them.
pub fn warn_if_too_open(path: &std::path::Path, fix: &str) {
    match store::files::too_open(path) {
        Ok(Some(mode)) => tracing::warn!(
            path = %path.display(),
            mode = format!("{mode:o}"),
            "{} is readable by other accounts on this machine; run `{fix} {}`",
            path.display(),
            path.display()
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot read the permissions"),
    }
}

pub fn build_app(store: &SeaStore, config: AppConfig) -> Result<App> {
    App::new(Arc::new(store.clone()), Arc::new(SystemClock), Arc::new(UuidV7), config)
        .map_err(|e| anyhow::anyhow!("{e}"))
}
