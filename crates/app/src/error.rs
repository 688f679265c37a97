//! What a use case can answer instead of a result. The web crate maps each variant once.

use domain::access::AccessDenied;
use time::OffsetDateTime;

use crate::ports::StoreError;

/// One problem with one input field, in words for the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field's name; a path such as `entries[2].reason` for a nested JSON value.
    pub field: std::borrow::Cow<'static, str>,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<std::borrow::Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input was refused; nothing was changed.
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("not signed in")]
    Unauthenticated,
    /// Wrong user name or password; deliberately does not say which.
    #[error("the user name or password is not right")]
    BadCredentials,
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    #[error("not found")]
    NotFound,
    /// The change would contradict what is stored (e.g. a taken user name).
    #[error("{0}")]
    Conflict(&'static str),
    #[error("too many attempts")]
    Throttled { until: OffsetDateTime },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl AppError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }
}

/// Collects field errors so a form can show all of them at once.
#[derive(Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }
    /// Keeps the value when it parsed, records "`label` `error`" when it did not.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: &'static str, label: &str, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, format!("{label} {e}"));
                None
            }
        }
    }
    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() { Ok(()) } else { Err(AppError::Invalid(self.0)) }
    }
}
