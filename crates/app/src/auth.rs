//! Signing in and out: passwords, second factors, sessions, throttling.

use domain::access::{AccessDenied, Actor, Permission};
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::ids::{SessionId, UserId};
use domain::password::NewPassword;
use domain::session::SessionState;
use domain::throttle::ThrottleDecision;
use domain::user::{User, Username};
use time::OffsetDateTime;

use crate::error::{AppError, Problems};
use crate::ports::{Credentials, SessionRecord, SessionStage, ThrottleKey, Tx};
use crate::security::{self, keyed_digest, random_token, token_hash};
use crate::service::{App, Ctx, default_purpose};

/// Where a request came from, for the audit log and the session list.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub source: Option<String>,
    pub user_agent: Option<String>,
}

/// A new session: the bearer token goes to the browser (or API client) and nowhere else.
#[derive(Clone, Debug)]
pub struct SignIn {
    pub token: String,
    pub csrf_token: String,
    pub stage: SessionStage,
    pub user_id: UserId,
}

/// A request's verified identity.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub user: User,
    pub session: SessionRecord,
    pub ctx: Ctx,
    /// Open safety and withdrawal alerts on this person's care teams; filled in by the web
    /// UI for the navigation badge.
    pub open_alerts: usize,
}

/// What the sessions page shows about one session.
#[derive(Clone, Debug)]
pub struct SessionSummary {
    pub id: SessionId,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub source: Option<String>,
    pub user_agent: Option<String>,
    pub current: bool,
}

#[derive(Clone, Debug)]
pub struct MfaEnrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
}

fn account_key(username: &str) -> String {
    keyed_digest("account", &username.trim().to_lowercase())
}

fn address_key(source: Option<&str>) -> String {
    keyed_digest("address", source.unwrap_or("unknown"))
}

fn truncate(s: Option<&str>, max: usize) -> Option<String> {
    s.map(|s| s.chars().filter(|c| !c.is_control()).take(max).collect())
}

impl App {
    async fn throttle_check(&self, tx: &mut dyn Tx, account: &str, address: &str) -> Result<(), AppError> {
        let now = self.now();
        let policy = self.config.throttle;
        let since = now - policy.window;
        let by_account = tx.login_failures_since(ThrottleKey::Account(account), since).await?;
        let by_address = tx.address_failures_since(address, since).await?;
        let by_address: Vec<(OffsetDateTime, &str)> = by_address.iter().map(|(t, a)| (*t, a.as_str())).collect();
        let decisions =
            [policy.decide(&by_account, policy.max_failures_per_account, now), policy.decide_address(&by_address, now)];
        let until = decisions
            .iter()
            .filter_map(|d| match d {
                ThrottleDecision::WaitUntil(t) => Some(*t),
                ThrottleDecision::Allow => None,
            })
            .max();
        match until {
            Some(until) => Err(AppError::Throttled { until }),
            None => Ok(()),
        }
    }

    async fn record_failure(
        &self,
        account: &str,
        address: &str,
        mut event: AuditEvent,
        source: Option<&str>,
    ) -> Result<(), AppError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        tx.record_login_failure(account, address, now).await?;
        event.source = source.map(str::to_owned);
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    fn new_session(&self, user_id: UserId, stage: SessionStage, meta: &RequestMeta) -> (SignIn, SessionRecord) {
        let now = self.now();
        let token = random_token();
        let record = SessionRecord {
            id: SessionId::from_uuid(self.ids.new_id()),
            token_hash: token_hash(&token),
            user_id,
            stage,
            csrf_token: random_token(),
            created_at: now,
            last_seen_at: now,
            source: truncate(meta.source.as_deref(), 64),
            user_agent: truncate(meta.user_agent.as_deref(), 200),
        };
        let sign_in = SignIn { token, csrf_token: record.csrf_token.clone(), stage, user_id };
        (sign_in, record)
    }

    fn stage_after_password(&self, creds: &Credentials) -> SessionStage {
        if creds.user.mfa_enabled {
            SessionStage::MfaPending
        } else if self.config.mfa_required.contains(&creds.user.role) {
            SessionStage::MfaEnrolRequired
        } else {
            SessionStage::Full
        }
    }

    /// Checks a user name and password. Unknown accounts, wrong passwords and disabled
    /// accounts all get the same answer after the same amount of work.
    pub async fn login(&self, username: &str, password: &str, meta: &RequestMeta) -> Result<SignIn, AppError> {
        let account = account_key(username);
        let address = address_key(meta.source.as_deref());
        let creds = {
            let mut tx = self.store.read().await?;
            if let Err(e) = self.throttle_check(tx.as_mut(), &account, &address).await {
                drop(tx);
                let mut event = self.event(None, AuditAction::LoginThrottled, Outcome::Denied);
                event.source = meta.source.clone();
                self.store.record(vec![event]).await?;
                return Err(e);
            }
            match Username::parse(username) {
                Ok(name) => tx.credentials_by_username(&name).await?,
                Err(_) => None,
            }
        };

        let hash = creds.as_ref().map(|c| c.password_hash.as_str()).unwrap_or(&self.dummy_hash);
        let matches = self.verify_password(password, hash).await?;

        let creds = match creds {
            Some(c) if matches && c.user.active => c,
            other => {
                let mut event = self.event(None, AuditAction::LoginFailure, Outcome::Failure);
                event.actor = other.as_ref().map(|c| c.user.id);
                event.detail = Some(
                    match other {
                        None => "unknown_account",
                        Some(c) if !c.user.active => "inactive_account",
                        Some(_) => "wrong_password",
                    }
                    .to_owned(),
                );
                self.record_failure(&account, &address, event, meta.source.as_deref()).await?;
                return Err(AppError::BadCredentials);
            }
        };

        let stage = self.stage_after_password(&creds);
        let (sign_in, record) = self.new_session(creds.user.id, stage, meta);
        let mut tx = self.begin().await?;
        tx.clear_login_failures(ThrottleKey::Account(&account)).await?;
        tx.insert_session(&record).await?;
        let mut event = self.event(None, AuditAction::LoginSuccess, Outcome::Success);
        event.actor = Some(creds.user.id);
        event.actor_role = Some(creds.user.role);
        event.source = meta.source.clone();
        event.detail = Some(stage.code().to_owned());
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok(sign_in)
    }

    /// Resolves a bearer token to a live session, ending it if it has timed out.
    pub async fn authenticate(&self, token: &str, source: Option<&str>) -> Result<Authenticated, AppError> {
        let now = self.now();
        let hash = token_hash(token);
        let mut tx = self.store.read().await?;
        let Some(session) = tx.session_by_token_hash(&hash).await? else {
            return Err(AppError::Unauthenticated);
        };
        let state = self.config.session.state(session.created_at, session.last_seen_at, now);
        let user = tx.user_by_id(session.user_id).await?;
        let (user, needs_touch) = match (state, user) {
            (SessionState::Live { needs_touch }, Some(user)) if user.active => (user, needs_touch),
            (state, user) => {
                drop(tx);
                let mut tx = self.begin().await?;
                tx.delete_session(session.id).await?;
                let mut event = self.event(None, AuditAction::SessionExpired, Outcome::Success);
                event.actor = Some(session.user_id);
                event.actor_role = user.map(|u| u.role);
                event.source = source.map(str::to_owned);
                event.detail = Some(
                    match state {
                        SessionState::IdleExpired => "idle_timeout",
                        SessionState::AbsoluteExpired => "absolute_timeout",
                        SessionState::Live { .. } => "account_inactive",
                    }
                    .to_owned(),
                );
                tx.append_audit(vec![event]).await?;
                tx.commit().await?;
                return Err(AppError::Unauthenticated);
            }
        };
        let care_team = tx.care_team_clients(user.id).await?;
        drop(tx);
        if needs_touch {
            let mut tx = self.begin().await?;
            tx.touch_session(session.id, now).await?;
            tx.commit().await?;
        }
        let actor = Actor {
            user_id: user.id,
            role: user.role,
            session_id: Some(session.id),
            care_team,
            purpose: default_purpose(user.role),
        };
        Ok(Authenticated { ctx: Ctx { actor, source: source.map(str::to_owned) }, user, session, open_alerts: 0 })
    }

    /// Checks the second factor of a half-signed-in session and, when right, replaces the
    /// session with a fully signed-in one under a new token.
    pub async fn verify_mfa(&self, auth: &Authenticated, code: &str, meta: &RequestMeta) -> Result<SignIn, AppError> {
        if auth.session.stage != SessionStage::MfaPending {
            return Err(AppError::Conflict("this session is not waiting for a code"));
        }
        let account = account_key(auth.user.username.as_str());
        let address = address_key(meta.source.as_deref());
        let mut tx = self.begin().await?;
        self.throttle_check(tx.as_mut(), &account, &address).await?;
        let creds = tx.credentials_by_id(auth.user.id).await?.ok_or(AppError::Unauthenticated)?;
        let secret = creds.totp_secret.as_deref().ok_or(AppError::Conflict("no authenticator is set up"))?;
        let totp = security::totp(secret, &self.config.issuer, auth.user.username.as_str())?;
        let step = security::totp_step(&totp, code, unix_seconds(self.now()));
        let accepted = match step {
            Some(step) => tx.advance_totp_step(auth.user.id, step).await?,
            None => false,
        };
        if !accepted {
            drop(tx);
            let mut event = self.ctx_event(&auth.ctx, AuditAction::MfaFailure, Outcome::Failure);
            event.detail = Some(if step.is_some() { "replayed_code" } else { "wrong_code" }.to_owned());
            self.record_failure(&account, &address, event, meta.source.as_deref()).await?;
            let message = if step.is_some() {
                "That code has already been used. Wait for the next code and enter it"
            } else {
                "Enter the 6-digit code shown in your authenticator app"
            };
            return Err(AppError::invalid("code", message));
        }
        let (sign_in, record) = self.new_session(auth.user.id, SessionStage::Full, meta);
        tx.delete_session(auth.session.id).await?;
        tx.insert_session(&record).await?;
        tx.clear_login_failures(ThrottleKey::Account(&account)).await?;
        tx.append_audit(vec![self.ctx_event(&auth.ctx, AuditAction::MfaSuccess, Outcome::Success)]).await?;
        tx.commit().await?;
        Ok(sign_in)
    }

    /// Starts (or restarts) setting up an authenticator app: a new secret, kept pending until
    /// the user proves they stored it by entering a code.
    pub async fn begin_mfa_enrolment(&self, auth: &Authenticated) -> Result<MfaEnrolment, AppError> {
        if auth.session.stage == SessionStage::MfaPending {
            return Err(AppError::Unauthenticated);
        }
        let mut tx = self.begin().await?;
        let creds = tx.credentials_by_id(auth.user.id).await?.ok_or(AppError::Unauthenticated)?;
        let secret = match creds.totp_pending_secret {
            Some(s) => s,
            None => {
                let s = security::new_totp_secret();
                tx.set_totp(auth.user.id, creds.totp_secret.as_deref(), Some(&s), creds.totp_last_step).await?;
                s
            }
        };
        tx.commit().await?;
        self.enrolment_view(&secret, auth.user.username.as_str())
    }

    fn enrolment_view(&self, secret: &[u8], account: &str) -> Result<MfaEnrolment, AppError> {
        let totp = security::totp(secret, &self.config.issuer, account)?;
        let otpauth_uri = totp.to_url().map_err(|_| AppError::Internal("could not build otpauth URI"))?;
        Ok(MfaEnrolment { secret_base32: security::base32(secret), otpauth_uri })
    }

    /// Finishes enrolment with a code from the new authenticator. A session that was only let
    /// in to enrol becomes a full session under a new token.
    pub async fn confirm_mfa_enrolment(
        &self,
        auth: &Authenticated,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<Option<SignIn>, AppError> {
        let mut tx = self.begin().await?;
        let creds = tx.credentials_by_id(auth.user.id).await?.ok_or(AppError::Unauthenticated)?;
        let pending =
            creds.totp_pending_secret.ok_or(AppError::Conflict("start setting up the authenticator first"))?;
        let totp = security::totp(&pending, &self.config.issuer, auth.user.username.as_str())?;
        let Some(step) = security::totp_step(&totp, code, unix_seconds(self.now())) else {
            drop(tx);
            let mut event = self.ctx_event(&auth.ctx, AuditAction::MfaFailure, Outcome::Failure);
            event.detail = Some("enrolment_wrong_code".into());
            self.store.record(vec![event]).await?;
            return Err(AppError::invalid("code", "Enter the 6-digit code your authenticator app shows now"));
        };
        tx.set_totp(auth.user.id, Some(&pending), None, Some(step)).await?;
        let mut user = auth.user.clone();
        user.mfa_enabled = true;
        tx.update_user(&user).await?;
        let sign_in = if auth.session.stage == SessionStage::MfaEnrolRequired {
            let (sign_in, record) = self.new_session(auth.user.id, SessionStage::Full, meta);
            tx.delete_session(auth.session.id).await?;
            tx.insert_session(&record).await?;
            Some(sign_in)
        } else {
            None
        };
        tx.append_audit(vec![self.ctx_event(&auth.ctx, AuditAction::MfaEnrolled, Outcome::Success)]).await?;
        tx.commit().await?;
        Ok(sign_in)
    }

    pub async fn logout(&self, auth: &Authenticated) -> Result<(), AppError> {
        let mut tx = self.begin().await?;
        tx.delete_session(auth.session.id).await?;
        tx.append_audit(vec![self.ctx_event(&auth.ctx, AuditAction::Logout, Outcome::Success)]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of the signed-in user, this one included.
    pub async fn logout_everywhere(&self, auth: &Authenticated) -> Result<u64, AppError> {
        let mut tx = self.begin().await?;
        let ended = tx.delete_user_sessions(auth.user.id, None).await?;
        let mut event = self.ctx_event(&auth.ctx, AuditAction::Logout, Outcome::Success);
        event.detail = Some(format!("everywhere:{ended}"));
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok(ended)
    }

    pub async fn my_sessions(&self, auth: &Authenticated) -> Result<Vec<SessionSummary>, AppError> {
        let mut tx = self.store.read().await?;
        let mut sessions = tx.sessions_of(auth.user.id).await?;
        drop(tx);
        let now = self.now();
        sessions.retain(|s| {
            matches!(self.config.session.state(s.created_at, s.last_seen_at, now), SessionState::Live { .. })
        });
        sessions.sort_by_key(|s| std::cmp::Reverse(s.last_seen_at));
        Ok(sessions
            .into_iter()
            .map(|s| SessionSummary {
                current: s.id == auth.session.id,
                id: s.id,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                source: s.source,
                user_agent: s.user_agent,
            })
            .collect())
    }

    /// Ends one of the signed-in user's own sessions. Any other session id is refused (and
    /// audited) but answered "not found": the answer does not tell whether it exists.
    pub async fn revoke_my_session(&self, auth: &Authenticated, id: SessionId) -> Result<(), AppError> {
        let mut tx = self.begin().await?;
        let own = tx.sessions_of(auth.user.id).await?.into_iter().any(|s| s.id == id);
        if !own {
            let refusal = AccessDenied { permission: Permission::ManageUsers, client: None };
            return Err(self.hidden_denied_in(tx.as_mut(), &auth.ctx, refusal).await);
        }
        tx.delete_session(id).await?;
        let mut event = self.ctx_event(&auth.ctx, AuditAction::SessionRevoked, Outcome::Success);
        event.subject = Some(format!("session:{id}"));
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the signed-in user's password and ends their other sessions (ASVS 3.3.3).
    pub async fn change_password(
        &self,
        auth: &Authenticated,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> Result<(), AppError> {
        let creds = {
            let mut tx = self.store.read().await?;
            tx.credentials_by_id(auth.user.id).await?.ok_or(AppError::Unauthenticated)?
        };
        let current_ok = self.verify_password(current, &creds.password_hash).await?;
        let mut problems = Problems::default();
        if !current_ok {
            problems.add("current_password", "Your current password is not right");
        }
        let context = [auth.user.username.as_str(), auth.user.display_name.as_str(), "stepdown"];
        let new_password = problems.check("new_password", "Your new password", NewPassword::parse(new, &context));
        if new != confirm {
            problems.add("confirm_password", "The passwords do not match");
        }
        problems.into_result()?;
        let new_password = new_password.ok_or(AppError::Internal("validated password missing"))?;
        if self.verify_password(new_password.expose(), &creds.password_hash).await? {
            return Err(AppError::invalid("new_password", "Your new password must be different from your current one"));
        }
        let hash = self.hash_password(new_password.expose()).await?;
        let mut tx = self.begin().await?;
        tx.set_password(auth.user.id, &hash, false).await?;
        let ended = tx.delete_user_sessions(auth.user.id, Some(auth.session.id)).await?;
        let mut event = self.ctx_event(&auth.ctx, AuditAction::PasswordChanged, Outcome::Success);
        event.detail = Some(format!("other_sessions_ended:{ended}"));
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes sessions past their timeouts (they are already refused; this keeps the table small).
    pub async fn sweep_sessions(&self) -> Result<u64, AppError> {
        let now = self.now();
        let policy = self.config.session;
        let mut tx = self.begin().await?;
        let n = tx.delete_sessions_idle_since(now - policy.idle_timeout, now - policy.absolute_timeout).await?;
        tx.commit().await?;
        Ok(n)
    }
}

fn unix_seconds(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp()).unwrap_or(0)
}
