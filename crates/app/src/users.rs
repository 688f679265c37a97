//! Managing accounts: the first administrator, and what administrators do to other accounts.

use domain::access::Permission;
use domain::audit::{AuditAction, Outcome};
use domain::ids::UserId;
use domain::password::NewPassword;
use domain::role::Role;
use domain::text::PersonName;
use domain::user::{User, Username};
use rand::Rng;

use crate::error::{AppError, Problems};
use crate::service::{App, Ctx};

/// What an administrator fills in to create an account.
#[derive(Clone, Debug, Default)]
pub struct NewUserForm {
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// Leave empty to generate a one-time password the user must change at first sign-in.
    pub password: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub display_name: String,
    pub role: String,
    pub active: bool,
}

/// A created account, and the one-time password when one was generated.
#[derive(Debug)]
pub struct Created {
    pub user: User,
    pub one_time_password: Option<String>,
}

/// An account reset from the server's console, and what the operator must pass on.
#[derive(Debug)]
pub struct ConsoleReset {
    pub user: User,
    /// The one-time password after a password reset (`None` after a two-step reset).
    pub one_time_password: Option<String>,
    /// Whether the account must set up two-step verification again at its next sign-in.
    pub mfa_required: bool,
    /// Sessions that were ended.
    pub sessions_ended: u64,
}

/// Who resets an account: an administrator in the application, or the operator at the
/// server's console (named by their operating-system account, since no user acts).
#[derive(Clone, Copy)]
enum ResetBy<'a> {
    Admin(&'a Ctx),
    Console(&'a str),
}

/// An operating-system account name as it goes into an audit event's `detail`: letters,
/// digits and `._-` only, at most 64, so a name cannot forge the detail's other fields.
pub fn operator_name(raw: &str) -> String {
    let name: String =
        raw.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).take(64).collect();
    if name.is_empty() { "unknown".into() } else { name }
}

/// 20 characters from an alphabet without look-alikes (about 100 bits), grouped for reading aloud.
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..20)
        .map(|_| ALPHABET.get(rng.random_range(0..ALPHABET.len())).copied().map(char::from).unwrap_or('x'))
        .collect();
    chars.chunks(5).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// A role a staff account may hold, or the form's message.
fn staff_role(p: &mut Problems, raw: &str) -> Option<Role> {
    match raw.parse::<Role>() {
        Ok(r) if r.is_staff() => Some(r),
        _ => {
            p.add("role", "Choose a role");
            None
        }
    }
}

impl App {
    fn parse_new_user(&self, form: &NewUserForm) -> Result<(User, String, bool), AppError> {
        let mut p = Problems::default();
        let username = p.check("username", "User name", Username::parse(&form.username));
        let display_name = p.check("display_name", "Full name", PersonName::parse(&form.display_name));
        let role = staff_role(&mut p, &form.role);
        let password = match form.password.as_deref().filter(|s| !s.is_empty()) {
            Some(raw) => {
                let ctx = [form.username.as_str(), form.display_name.as_str(), "stepdown"];
                p.check("password", "Password", NewPassword::parse(raw, &ctx)).map(|pw| (pw.expose().to_owned(), false))
            }
            None => Some((one_time_password(), true)),
        };
        p.into_result()?;
        match (username, display_name, role, password) {
            (Some(username), Some(display_name), Some(role), Some((password, generated))) => {
                let user = User {
                    id: UserId::from_uuid(self.ids.new_id()),
                    username,
                    display_name,
                    role,
                    active: true,
                    mfa_enabled: false,
                    must_change_password: generated,
                };
                Ok((user, password, generated))
            }
            _ => Err(AppError::Internal("validated user form incomplete")),
        }
    }

    async fn insert_new_user(&self, ctx: Option<&Ctx>, form: &NewUserForm, how: &str) -> Result<Created, AppError> {
        let (user, password, generated) = self.parse_new_user(form)?;
        let hash = self.hash_password(&password).await?;
        let mut tx = self.begin().await?;
        match tx.insert_user(&user, &hash).await {
            Err(crate::ports::StoreError::Duplicate(_)) => {
                return Err(AppError::invalid("username", "That user name is already taken"));
            }
            other => other?,
        }
        let mut event = match ctx {
            Some(ctx) => self.ctx_event(ctx, AuditAction::UserCreated, Outcome::Success),
            None => self.event(None, AuditAction::UserCreated, Outcome::Success),
        };
        event.subject = Some(format!("user:{}", user.id));
        event.detail = Some(format!("{how};role={}", user.role));
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok(Created { user, one_time_password: generated.then_some(password) })
    }

    /// Creates the first administrator when there are no accounts at all; `None` otherwise.
    pub async fn bootstrap_admin(&self) -> Result<Option<Created>, AppError> {
        let mut tx = self.store.read().await?;
        if tx.count_users().await? > 0 {
            return Ok(None);
        }
        drop(tx);
        let form = NewUserForm {
            username: "admin".into(),
            display_name: "Administrator".into(),
            role: Role::Admin.code().into(),
            password: None,
        };
        self.insert_new_user(None, &form, "first_start").await.map(Some)
    }

    /// Creates an account from the command line (operator at the server's console).
    pub async fn create_user_from_console(&self, form: &NewUserForm) -> Result<Created, AppError> {
        self.insert_new_user(None, form, "console").await
    }

    pub async fn create_user(&self, ctx: &Ctx, form: &NewUserForm) -> Result<Created, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageUsers)).await?;
        self.insert_new_user(Some(ctx), form, "admin").await
    }

    pub async fn list_users(&self, ctx: &Ctx) -> Result<Vec<User>, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageUsers)).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_users().await?)
    }

    pub async fn get_user(&self, ctx: &Ctx, id: UserId) -> Result<User, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageUsers)).await?;
        let mut tx = self.store.read().await?;
        tx.user_by_id(id).await?.ok_or(AppError::NotFound)
    }

    /// Changes name, role or active state. Nobody can demote or disable themselves, so a
    /// center can never lock out its last administrator by accident.
    pub async fn update_user(&self, ctx: &Ctx, id: UserId, changes: &UserChanges) -> Result<User, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageUsers)).await?;
        let mut p = Problems::default();
        let display_name = p.check("display_name", "Full name", PersonName::parse(&changes.display_name));
        let role = staff_role(&mut p, &changes.role);
        if id == ctx.actor.user_id {
            if role.is_some_and(|r| r != ctx.actor.role) {
                p.add("role", "You cannot change your own role");
            }
            if !changes.active {
                p.add("active", "You cannot deactivate your own account");
            }
        }
        p.into_result()?;
        let (Some(display_name), Some(role)) = (display_name, role) else {
            return Err(AppError::Internal("validated user changes incomplete"));
        };
        let mut tx = self.begin().await?;
        let before = tx.user_by_id(id).await?.ok_or(AppError::NotFound)?;
        let after = User { display_name, role, active: changes.active, ..before.clone() };
        tx.update_user(&after).await?;
        let mut detail = Vec::new();
        if before.role != after.role {
            detail.push(format!("role={}", after.role));
        }
        if before.active != after.active {
            detail.push(format!("active={}", after.active));
            if !after.active {
                tx.delete_user_sessions(id, None).await?;
            }
        }
        if before.display_name != after.display_name {
            detail.push("display_name".into());
        }
        let mut event = self.ctx_event(ctx, AuditAction::UserUpdated, Outcome::Success);
        event.subject = Some(format!("user:{id}"));
        event.detail = Some(detail.join(";"));
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Gives the account a one-time password and ends its sessions.
    pub async fn reset_password(&self, ctx: &Ctx, id: UserId) -> Result<String, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageUsers)).await?;
        let reset = self.reset_password_by(ResetBy::Admin(ctx), Lookup::Id(id)).await?;
        reset.one_time_password.ok_or(AppError::Internal("reset without a password"))
    }

    /// Removes an account's authenticator (e.g. a lost phone) and ends its sessions.
    pub async fn reset_mfa(&self, ctx: &Ctx, id: UserId) -> Result<(), AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageUsers)).await?;
        self.reset_mfa_by(ResetBy::Admin(ctx), Lookup::Id(id)).await.map(|_| ())
    }

    /// `stepdown user reset-password`: the way back when nobody who could reset a password in
    /// the application can sign in. Whoever runs it already holds the database, so the console
    /// is trusted as `user add` is; the event names the operating-system account.
    pub async fn reset_password_from_console(&self, username: &str, operator: &str) -> Result<ConsoleReset, AppError> {
        let operator = operator_name(operator);
        self.reset_password_by(ResetBy::Console(&operator), Lookup::Name(username)).await
    }

    /// `stepdown user reset-mfa`: removes a lost authenticator when no administrator can.
    pub async fn reset_mfa_from_console(&self, username: &str, operator: &str) -> Result<ConsoleReset, AppError> {
        let operator = operator_name(operator);
        self.reset_mfa_by(ResetBy::Console(&operator), Lookup::Name(username)).await
    }

    /// How many accounts can administer the center (active administrators).
    pub async fn active_administrators(&self) -> Result<usize, AppError> {
        let mut tx = self.store.read().await?;
        Ok(tx.list_users().await?.iter().filter(|u| u.active && u.role == Role::Admin).count())
    }

    async fn reset_password_by(&self, by: ResetBy<'_>, who: Lookup<'_>) -> Result<ConsoleReset, AppError> {
        let password = one_time_password();
        let hash = self.hash_password(&password).await?;
        let mut tx = self.begin().await?;
        let user = who.find(tx.as_mut()).await?;
        tx.set_password(user.id, &hash, true).await?;
        let sessions_ended = tx.delete_user_sessions(user.id, None).await?;
        tx.append_audit(vec![self.reset_event(by, AuditAction::PasswordReset, user.id)]).await?;
        tx.commit().await?;
        let mfa_required = !user.mfa_enabled && self.config.mfa_required.contains(&user.role);
        Ok(ConsoleReset {
            user: User { must_change_password: true, ..user },
            one_time_password: Some(password),
            mfa_required,
            sessions_ended,
        })
    }

    async fn reset_mfa_by(&self, by: ResetBy<'_>, who: Lookup<'_>) -> Result<ConsoleReset, AppError> {
        let mut tx = self.begin().await?;
        let mut user = who.find(tx.as_mut()).await?;
        user.mfa_enabled = false;
        tx.update_user(&user).await?;
        tx.set_totp(user.id, None, None, None).await?;
        let sessions_ended = tx.delete_user_sessions(user.id, None).await?;
        tx.append_audit(vec![self.reset_event(by, AuditAction::MfaReset, user.id)]).await?;
        tx.commit().await?;
        let mfa_required = self.config.mfa_required.contains(&user.role);
        Ok(ConsoleReset { user, one_time_password: None, mfa_required, sessions_ended })
    }

    fn reset_event(&self, by: ResetBy<'_>, action: AuditAction, id: UserId) -> domain::audit::AuditEvent {
        let mut event = match by {
            ResetBy::Admin(ctx) => self.ctx_event(ctx, action, Outcome::Success),
            ResetBy::Console(operator) => {
                let mut e = self.event(None, action, Outcome::Success);
                e.source = Some("console".into());
                e.detail = Some(format!("console;operator={operator}"));
                e
            }
        };
        event.subject = Some(format!("user:{id}"));
        event
    }
}

/// Which account a reset is for: by id from the application, by user name from the console.
#[derive(Clone, Copy)]
enum Lookup<'a> {
    Id(UserId),
    Name(&'a str),
}

impl Lookup<'_> {
    async fn find(self, tx: &mut dyn crate::ports::Tx) -> Result<User, AppError> {
        match self {
            Lookup::Id(id) => tx.user_by_id(id).await?.ok_or(AppError::NotFound),
            Lookup::Name(raw) => {
                let name = Username::parse(raw).map_err(|_| AppError::NotFound)?;
                Ok(tx.credentials_by_username(&name).await?.ok_or(AppError::NotFound)?.user)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_are_strong_and_readable() {
        let p = one_time_password();
        assert_eq!(p.len(), 23);
        assert_eq!(p.matches('-').count(), 3);
        assert!(NewPassword::parse(&p, &[]).is_ok());
        assert_ne!(p, one_time_password());
    }

    #[test]
    fn operator_names_cannot_forge_detail_fields() {
        assert_eq!(operator_name("alice"), "alice");
        assert_eq!(operator_name("eve;role=admin"), "everoleadmin");
        assert_eq!(operator_name(""), "unknown");
        assert_eq!(operator_name(&"x".repeat(100)).len(), 64);
    }
}
