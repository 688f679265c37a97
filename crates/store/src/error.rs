//! Turning database errors into the store port's error type, without leaking row content.

use app::StoreError;
use sea_orm::{DbErr, SqlErr};

pub(crate) fn map(err: DbErr) -> StoreError {
    if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
        return StoreError::Duplicate("unique constraint");
    }
    let text = err.to_string();
    if text.contains("database is locked") || text.contains("SQLITE_BUSY") {
        return StoreError::Busy;
    }
    StoreError::Database(text)
}

pub(crate) trait OrStore<T> {
    fn store(self) -> Result<T, StoreError>;
}

impl<T> OrStore<T> for Result<T, DbErr> {
    fn store(self) -> Result<T, StoreError> {
        self.map_err(map)
    }
}
