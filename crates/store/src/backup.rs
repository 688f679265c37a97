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
pub async fn backup_sqlite(store: &SeaStore, target: &Path) -> Result<(), BackupError> {
    let db = store.connection();
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(BackupError::NotSqlite);
    }
    if target.exists() {
        return Err(BackupError::Exists);
    }
    let path = target.to_str().ok_or(BackupError::BadPath)?;
    let stmt = sea_orm::Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [path.into()]);
    db.execute_raw(stmt).await.map(|_| ()).map_err(|e| BackupError::Failed(e.to_string()))
}
