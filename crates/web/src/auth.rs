//! Who is calling: session cookies for the web UI, bearer tokens for API clients, and the
//! CSRF rules that go with cookies.

use std::net::{IpAddr, SocketAddr};

use app::auth::{Authenticated, RequestMeta, SignIn};
use app::ports::SessionStage;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use cookie::{Cookie, SameSite};

use crate::AppState;
use crate::error::{ApiError, Problem, UiError};

pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-stepdown_session" } else { "stepdown_session" }
}

pub fn login_csrf_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-stepdown_login" } else { "stepdown_login" }
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| Cookie::parse(pair.trim().to_owned()).ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn build_cookie(name: &'static str, value: String, secure: bool, max_age: Option<time::Duration>) -> HeaderValue {
    let mut c = Cookie::build((name, value)).path("/").http_only(true).secure(secure).same_site(SameSite::Strict);
    if let Some(age) = max_age {
        c = c.max_age(age);
    }
    HeaderValue::from_str(&c.build().to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Sets the session cookie. No `Max-Age`: the server ends sessions, the browser forgets the
/// cookie when it closes.
pub fn set_session_cookie(res: &mut Response, state: &AppState, sign_in: &SignIn) {
    let secure = state.config.secure_cookies;
    res.headers_mut()
        .append(header::SET_COOKIE, build_cookie(session_cookie_name(secure), sign_in.token.clone(), secure, None));
}

pub fn clear_session_cookie(res: &mut Response, state: &AppState) {
    let secure = state.config.secure_cookies;
    res.headers_mut().append(
        header::SET_COOKIE,
        build_cookie(session_cookie_name(secure), String::new(), secure, Some(time::Duration::ZERO)),
    );
}

pub fn client_mode_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-stepdown_client_mode" } else { "stepdown_client_mode" }
}

/// The cookie that opens one form in client mode (and nothing else).
pub fn set_client_mode_cookie(res: &mut Response, state: &AppState, token: &str, minutes: i64) {
    let secure = state.config.secure_cookies;
    res.headers_mut().append(
        header::SET_COOKIE,
        build_cookie(client_mode_cookie_name(secure), token.to_owned(), secure, Some(time::Duration::minutes(minutes))),
    );
}

pub fn clear_client_mode_cookie(res: &mut Response, state: &AppState) {
    let secure = state.config.secure_cookies;
    res.headers_mut().append(
        header::SET_COOKIE,
        build_cookie(client_mode_cookie_name(secure), String::new(), secure, Some(time::Duration::ZERO)),
    );
}

pub fn set_login_csrf_cookie(res: &mut Response, state: &AppState, token: &str) {
    let secure = state.config.secure_cookies;
    res.headers_mut().append(
        header::SET_COOKIE,
        build_cookie(login_csrf_cookie_name(secure), token.to_owned(), secure, Some(time::Duration::hours(1))),
    );
}

/// The client's address: the peer, or, when the peer is a trusted proxy, the nearest address in
/// `X-Forwarded-For` that is not itself a trusted proxy (so a client cannot spoof it by sending
/// the header themselves).
pub fn client_address(parts: &Parts, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip())?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    Some(forwarded.into_iter().rev().find(|a| !trusted.contains(a)).unwrap_or(peer))
}

pub fn request_meta(parts: &Parts, state: &AppState) -> RequestMeta {
    RequestMeta {
        source: client_address(parts, &state.config.trusted_proxies).map(|a| a.to_string()),
        user_agent: parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
    }
}

/// The request's origin, for use cases that audit or throttle.
pub struct Meta(pub RequestMeta);

impl FromRequestParts<AppState> for Meta {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Meta(request_meta(parts, state)))
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim().to_owned())
}

async fn authenticate(parts: &Parts, state: &AppState, token: &str) -> Result<Authenticated, app::AppError> {
    let meta = request_meta(parts, state);
    state.app.authenticate(token, meta.source.as_deref()).await
}

/// A fully signed-in person using the web UI. Half-finished sign-ins are sent to finish.
pub struct Signed(pub Authenticated);

/// A signed-in person at any stage: for the pages that finish signing in.
pub struct AnyStage(pub Authenticated);

/// The session a UI extractor resolved, kept on the request so the form extractor that runs
/// after it checks CSRF against it instead of authenticating a second time.
#[derive(Clone)]
pub struct ResolvedSession(pub Authenticated);

async fn ui_session(parts: &mut Parts, state: &AppState) -> Result<Authenticated, UiError> {
    let token =
        cookie_value(&parts.headers, session_cookie_name(state.config.secure_cookies)).ok_or(UiError::SignIn)?;
    let auth = authenticate(parts, state, &token).await.map_err(|e| match e {
        app::AppError::Unauthenticated => UiError::SignIn,
        other => UiError::App(other),
    })?;
    parts.extensions.insert(ResolvedSession(auth.clone()));
    Ok(auth)
}

impl FromRequestParts<AppState> for AnyStage {
    type Rejection = UiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        ui_session(parts, state).await.map(AnyStage)
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = UiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let auth = ui_session(parts, state).await?;
        match auth.session.stage {
            SessionStage::MfaPending => return Err(UiError::Redirect("/login/mfa".into())),
            SessionStage::MfaEnrolRequired => return Err(UiError::Redirect("/account/mfa".into())),
            SessionStage::Full => {}
        }
        if auth.user.must_change_password {
            return Err(UiError::Redirect("/account/password".into()));
        }
        let mut auth = auth;
        // Every page shows how many alerts wait, so none goes unseen for long.
        auth.open_alerts = state.app.open_alert_count(&auth.ctx).await.map_err(UiError::App)?;
        Ok(Signed(auth))
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Resolves the API caller, at any sign-in stage. Cookie-authenticated writes must echo the
/// session's CSRF token in `X-CSRF-Token`; bearer tokens are not sent by browsers on their
/// own, so they need none.
async fn api_session(parts: &Parts, state: &AppState) -> Result<Authenticated, ApiError> {
    let (token, via_cookie) = match bearer(&parts.headers) {
        Some(t) => (t, false),
        None => match cookie_value(&parts.headers, session_cookie_name(state.config.secure_cookies)) {
            Some(t) => (t, true),
            None => return Err(app::AppError::Unauthenticated.into()),
        },
    };
    let auth = authenticate(parts, state, &token).await?;
    if via_cookie && !is_safe(&parts.method) {
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !app::security::constant_time_eq(sent, &auth.session.csrf_token) {
            return Err(Problem::new(StatusCode::FORBIDDEN, "csrf", "Missing or wrong CSRF token")
                .detail("Send the session's CSRF token in the X-CSRF-Token header")
                .into());
        }
    }
    Ok(auth)
}

/// A fully signed-in API caller.
pub struct ApiAuth(pub Authenticated);

/// An API caller at any stage of signing in (for the MFA and password endpoints).
pub struct ApiAnyStage(pub Authenticated);

impl FromRequestParts<AppState> for ApiAnyStage {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        api_session(parts, state).await.map(ApiAnyStage)
    }
}

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let auth = api_session(parts, state).await?;
        let refuse = |code, title| Err(ApiError(Problem::new(StatusCode::FORBIDDEN, code, title)));
        match auth.session.stage {
            SessionStage::MfaPending => return refuse("mfa_required", "Enter your authentication code first"),
            SessionStage::MfaEnrolRequired => {
                return refuse("mfa_enrolment_required", "Set up two-step verification first");
            }
            SessionStage::Full => {}
        }
        if auth.user.must_change_password {
            return refuse("password_change_required", "Choose a new password first");
        }
        Ok(ApiAuth(auth))
    }
}
