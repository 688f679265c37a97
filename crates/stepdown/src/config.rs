//! Settings: command line, then environment, then `stepdown.toml`, then defaults.
//! The flag and variable names are an interface operators depend on; keep them stable.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// What `stepdown.toml` may hold. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub metrics_listen: Option<String>,
    pub log_format: Option<String>,
    pub secure_cookies: Option<bool>,
    /// Reverse proxies whose X-Forwarded-For header is trusted.
    pub trusted_proxies: Option<Vec<String>>,
    pub session_idle_minutes: Option<i64>,
    pub session_absolute_hours: Option<i64>,
    /// How new medical record numbers look, e.g. "SD-{seq:06}".
    pub mrn_format: Option<String>,
    /// Level-of-care catalogue: asam-3 (default) or asam-4.
    pub level_catalogue: Option<String>,
    /// Role codes that must use two-step verification.
    pub mfa_required_roles: Option<Vec<String>>,
    /// CIWA-Ar band edges (center-set): lowest moderate and lowest severe total.
    pub ciwa_moderate_from: Option<i64>,
    pub ciwa_severe_from: Option<i64>,
    /// Withdrawal totals that raise an alert to the care team.
    pub ciwa_alert_from: Option<i64>,
    pub cows_alert_from: Option<i64>,
    /// Readiness review cadence by level code, in days.
    pub review_days: Option<std::collections::BTreeMap<String, u16>>,
    /// A JSON measurement schedule replacing the built-in one.
    pub measurement_schedule: Option<PathBuf>,
    /// The key that signs audit checkpoints (created on first use).
    pub checkpoint_key_file: Option<PathBuf>,
    /// Where `serve` appends its audit checkpoints.
    pub checkpoint_file: Option<PathBuf>,
    /// How often `serve` writes an audit checkpoint, in minutes.
    pub checkpoint_minutes: Option<u64>,
}

impl FileConfig {
    /// Reads `path` if given (it must exist), else `./stepdown.toml` if present.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from("stepdown.toml"), false),
        };
        if !path.exists() {
            if required {
                bail!("configuration file {} does not exist", path.display());
            }
            return Ok(Self::default());
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

pub fn parse_addr(raw: &str, what: &str) -> Result<SocketAddr> {
    raw.parse().with_context(|| format!("{what} must look like 127.0.0.1:8080, not {raw:?}"))
}
