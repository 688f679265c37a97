//! Form bodies for the web UI, each checked against the session's CSRF token (or, before
//! sign-in, the double-submit cookie) before the handler sees it.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::{ResolvedSession, cookie_value, login_csrf_cookie_name};
use crate::error::UiError;

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form whose `csrf` field matched. The session itself is resolved separately by the
/// handler's auth extractor; this only proves the form came from our own page.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let secure = state.config.secure_cookies;
        // A signed-in handler's auth extractor has already resolved the session; forms without
        // one (sign-in) use the double-submit cookie.
        let expected = match req.extensions().get::<ResolvedSession>() {
            Some(ResolvedSession(auth)) => Some(auth.session.csrf_token.clone()),
            None => cookie_value(req.headers(), login_csrf_cookie_name(secure)),
        };
        let body = Bytes::from_request(req, state).await.map_err(|_| UiError::BadRequest("The form was too large."))?;
        let sent: CsrfField =
            serde_urlencoded::from_bytes(&body).map_err(|_| UiError::BadRequest("The form could not be read."))?;
        match expected {
            Some(e) if !sent.csrf.is_empty() && app::security::constant_time_eq(&sent.csrf, &e) => {}
            _ => return Err(UiError::Csrf),
        }
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&body).map_err(|_| UiError::BadRequest("The form could not be read."))?;
        crate::input::check_form(&fields)?;
        let form =
            serde_urlencoded::from_bytes(&body).map_err(|_| UiError::BadRequest("The form could not be read."))?;
        Ok(CsrfForm(form))
    }
}
