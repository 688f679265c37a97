//! Online backup of a SQLite database.

use std::path::Path;

use sea_orm::{ConnectionTrait, DbBackend};

use crate::SeaStore;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backups through Stepdown are for SQLite; use pg_dump for PostgreSQL")]
    NotSqlite,
    #[error("the backup file already exists; choose a new name")]
    Exists,
    #[error("the backup path is not valid text")]
    BadPath,
    #[error("backup failed: {0}")]
    Failed(String),
}

/// Writes a consistent copy of the live database to `target`. `VACUUM INTO` reads one
/// snapshot, so writers carry on while it runs and the copy is a single point in time.
///
/// The file is created empty and 0600 first (`VACUUM INTO` accepts an empty file): SQLite
/// would otherwise create it 0644 under the usual umask, a copy of every record readable by
/// every local account.
pub async fn backup_sqlite(store: &SeaStore, target: &Path) -> Result<(), BackupError> {
    let db = store.connection();
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(BackupError::NotSqlite);
    }
    let path = target.to_str().ok_or(BackupError::BadPath)?;
    match crate::files::open_private(target, true, false) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(BackupError::Exists),
        Err(e) => return Err(BackupError::Failed(e.to_string())),
    }
    let stmt = sea_orm::Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [path.into()]);
    match db.execute_raw(stmt).await {
        Ok(_) => Ok(()),
        Err(e) => {
            // Leave no empty or half-written file that looks like a backup.
            let _ = std::fs::remove_file(target);
            Err(BackupError::Failed(e.to_string()))
        }
    }
}
