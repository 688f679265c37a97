//! Audit checkpoints on disk: the key that signs them and the files they are appended to
//! (what a checkpoint proves is in `domain::audit_checkpoint`). Both are created 0600. The key
//! lives outside the database so that someone who can rewrite the database cannot sign a
//! checkpoint for the rewritten chain; checkpoints are worth most when the lines are also
//! shipped off the host (they go to the log as well), where that person cannot reach them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use domain::audit_checkpoint::{SignedCheckpoint, scan};

use crate::config::FileConfig;
use crate::{Global, Storage, warn_if_too_open};

/// Keys shorter than this are refused: an HMAC key should carry at least 256 bits.
const MIN_KEY_BYTES: usize = 32;

pub struct CheckpointSettings {
    pub key_file: PathBuf,
    /// Where `serve` appends its checkpoints.
    pub file: PathBuf,
    pub every: Duration,
}

pub fn settings(global: &Global, file: &FileConfig, storage: &Storage) -> Result<CheckpointSettings> {
    let minutes = file.checkpoint_minutes.unwrap_or(15);
    if !(1..=24 * 60).contains(&minutes) {
        bail!("checkpoint_minutes must be between 1 and 1440");
    }
    Ok(CheckpointSettings {
        key_file: global
            .checkpoint_key
            .clone()
            .or_else(|| file.checkpoint_key_file.clone())
            .unwrap_or_else(|| storage.data_dir.join("audit-checkpoint.key")),
        file: file.checkpoint_file.clone().unwrap_or_else(|| storage.data_dir.join("audit-checkpoints")),
        every: Duration::from_secs(minutes * 60),
    })
}

/// Reads the signing key (the file's text, trimmed). When it does not exist and `create` is
/// set, makes a random one first; verifying never creates a key, since a new key could only
/// say that every existing checkpoint is forged.
pub fn load_key(path: &Path, create: bool) -> Result<Vec<u8>> {
    if create && !path.exists() {
        create_key(path)?;
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading the checkpoint key {}", path.display()))?;
    warn_if_too_open(path, "chmod 600");
    let key = text.trim().as_bytes().to_vec();
    if key.len() < MIN_KEY_BYTES {
        bail!("the checkpoint key {} is shorter than {MIN_KEY_BYTES} characters", path.display());
    }
    Ok(key)
}

/// Writes a new key beside `path` and links it into place, so two processes starting at once
/// cannot each see the other's half-written file; the loser keeps the winner's key.
fn create_key(path: &Path) -> Result<()> {
    let tmp = path.with_extension(format!("new-{}", uuid::Uuid::new_v4().simple()));
    let written = (|| -> std::io::Result<()> {
        let mut f = store::files::open_private(&tmp, true, false)?;
        writeln!(f, "{}", app::security::random_token())?;
        f.sync_all()?;
        match std::fs::hard_link(&tmp, path) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
            _ => Ok(()),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    written.with_context(|| format!("creating the checkpoint key {}", path.display()))?;
    tracing::info!(path = %path.display(), "created the audit checkpoint key");
    Ok(())
}

/// Appends one checkpoint line (the file is created 0600) and syncs it.
pub fn append(path: &Path, checkpoint: &SignedCheckpoint) -> Result<()> {
    let mut f = store::files::open_private(path, false, true)
        .with_context(|| format!("opening the checkpoint file {}", path.display()))?;
    writeln!(f, "{}", checkpoint.to_line())
        .and_then(|()| f.sync_data())
        .with_context(|| format!("writing {}", path.display()))
}

/// Why the checkpoints in a file cannot be used.
pub enum Unusable {
    /// Something that looks like a checkpoint is not one, or its MAC is wrong: the file was
    /// edited, or the checkpoint was signed with another key.
    Forged(String),
    Empty,
}

/// The authentic checkpoints in `path` with their line numbers, oldest position first.
pub fn read(path: &Path, key: &[u8]) -> Result<std::result::Result<Vec<(usize, SignedCheckpoint)>, Unusable>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut found = Vec::new();
    for (line, parsed) in scan(&text) {
        match parsed {
            Ok(c) if c.is_authentic(key) => found.push((line, c)),
            Ok(_) => {
                return Ok(Err(Unusable::Forged(format!(
                    "the checkpoint on line {line} of {} is not authentic: it was edited, or signed with another key",
                    path.display()
                ))));
            }
            Err(e) => {
                return Ok(Err(Unusable::Forged(format!("line {line} of {}: {e}", path.display()))));
            }
        }
    }
    if found.is_empty() {
        return Ok(Err(Unusable::Empty));
    }
    found.sort_by_key(|(line, c)| (c.checkpoint.seq, *line));
    found.dedup_by_key(|(_, c)| (c.checkpoint.seq, c.checkpoint.hash));
    Ok(Ok(found))
}

/// Takes a checkpoint now and writes it to `file` and to the log, unless the chain has not
/// moved since `last` (the position this process last wrote). Failures are logged: a missed
/// checkpoint must not stop the service.
pub async fn write_now(app: &app::App, key: &[u8], file: &Path, last: Option<&AtomicI64>) {
    let checkpoint = match app.audit_checkpoint(key).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "could not take an audit checkpoint");
            return;
        }
    };
    if let Some(last) = last
        && last.swap(checkpoint.checkpoint.seq, Ordering::SeqCst) == checkpoint.checkpoint.seq
    {
        return;
    }
    if let Err(e) = append(file, &checkpoint) {
        tracing::error!(error = format!("{e:#}"), "could not write the audit checkpoint file");
    }
    // Positions, hashes and a MAC only: nothing from any event.
    tracing::info!(target: "stepdown::audit", "{}", checkpoint.to_line());
}

/// `serve`'s checkpoints: one at start, then every `every` when the chain has moved.
pub fn spawn_periodic(app: app::App, key: Arc<Vec<u8>>, file: PathBuf, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let last = AtomicI64::new(-1);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            write_now(&app, &key, &file, Some(&last)).await;
        }
    })
}
