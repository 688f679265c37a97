//! Clients and their care teams, as far as the foundation needs them: every read is scoped by
//! the actor's reach and recorded in the audit log before the data is returned.

use domain::access::Permission;
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::client::{Client, TeamRole, check_birth_date};
use domain::ids::{ClientId, UserId};
use domain::role::Role;
use domain::text::PersonName;
use time::Date;

use crate::error::{AppError, Problems};
use crate::ports::TeamMember;
use crate::service::{App, Ctx};

#[derive(Clone, Debug, Default)]
pub struct NewClientForm {
    pub given_name: String,
    pub family_name: String,
    /// ISO 8601 date, `YYYY-MM-DD`.
    pub date_of_birth: String,
}

#[derive(Clone, Debug)]
pub struct ClientView {
    pub client: Client,
    pub care_team: Vec<TeamMember>,
}

fn parse_date(raw: &str) -> Result<Date, &'static str> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), format).map_err(|_| "must be a real date, like 1990-02-27")
}

impl App {
    fn read_event(&self, ctx: &Ctx, client: ClientId, action: AuditAction) -> AuditEvent {
        AuditEvent { client: Some(client), ..self.ctx_event(ctx, action, Outcome::Success) }
    }

    pub async fn create_client(&self, ctx: &Ctx, form: &NewClientForm) -> Result<Client, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::CreateClient)).await?;
        let today = self.now().date();
        let mut p = Problems::default();
        let given_name = p.check("given_name", "First name", PersonName::parse(&form.given_name));
        let family_name = p.check("family_name", "Last name", PersonName::parse(&form.family_name));
        let dob = match parse_date(&form.date_of_birth) {
            Ok(d) => p.check("date_of_birth", "Date of birth", check_birth_date(d, today)),
            Err(m) => {
                p.add("date_of_birth", format!("Date of birth {m}"));
                None
            }
        };
        p.into_result()?;
        let (Some(given_name), Some(family_name), Some(date_of_birth)) = (given_name, family_name, dob) else {
            return Err(AppError::Internal("validated client form incomplete"));
        };
        let client = Client { id: ClientId::from_uuid(self.ids.new_id()), given_name, family_name, date_of_birth };
        let now = self.now();
        let mut tx = self.begin().await?;
        tx.insert_client(&client, now).await?;
        // Whoever admits a client is on their team until someone reassigns it; without this an
        // admissions coordinator could not open the chart they just created.
        let team_role = if ctx.actor.role == Role::Admissions { TeamRole::Intake } else { TeamRole::Other };
        tx.add_team_member(client.id, ctx.actor.user_id, team_role, now).await?;
        tx.append_audit(vec![self.read_event(ctx, client.id, AuditAction::ClientCreated)]).await?;
        tx.commit().await?;
        Ok(client)
    }

    /// One client's record, if the actor may read it. The read is audited before it returns.
    pub async fn client(&self, ctx: &Ctx, id: ClientId) -> Result<ClientView, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReadClient, id)).await?;
        let mut tx = self.store.read().await?;
        let client = tx.client(&scope, id).await?.ok_or(AppError::NotFound)?;
        let care_team = tx.care_team(id).await?;
        drop(tx);
        self.store.record(vec![self.read_event(ctx, id, AuditAction::ClientRead)]).await?;
        Ok(ClientView { client, care_team })
    }

    /// The clients the actor may see (their caseload, or everyone for a supervisor).
    pub async fn clients(&self, ctx: &Ctx, limit: u64) -> Result<Vec<Client>, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope(Permission::ReadClient)).await?;
        let mut tx = self.store.read().await?;
        let clients = tx.clients(&scope, limit.min(500)).await?;
        drop(tx);
        let events = clients.iter().map(|c| self.read_event(ctx, c.id, AuditAction::ClientSearched)).collect();
        self.store.record(events).await?;
        Ok(clients)
    }

    pub async fn add_care_team_member(
        &self,
        ctx: &Ctx,
        client: ClientId,
        user: UserId,
        team_role: &str,
    ) -> Result<(), AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ManageCareTeam, client)).await?;
        let role = TeamRole::parse(team_role).ok_or_else(|| AppError::invalid("team_role", "Choose a team role"))?;
        let mut tx = self.begin().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let member = tx.user_by_id(user).await?;
        match member {
            Some(u) if u.active && u.role.is_staff() => {}
            _ => return Err(AppError::invalid("user_id", "Choose an active staff member")),
        }
        tx.add_team_member(client, user, role, self.now()).await?;
        let mut event = self.read_event(ctx, client, AuditAction::CareTeamChanged);
        event.subject = Some(format!("user:{user}"));
        event.detail = Some(format!("added:{}", role.code()));
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Active staff a care team can be built from (for whoever manages care teams).
    pub async fn staff_directory(&self, ctx: &Ctx) -> Result<Vec<domain::user::User>, AppError> {
        self.authorize(ctx, ctx.actor.scope(Permission::ManageCareTeam).map(|_| ())).await?;
        let mut tx = self.store.read().await?;
        let mut users = tx.list_users().await?;
        users.retain(|u| u.active && u.role.is_staff());
        Ok(users)
    }

    pub async fn remove_care_team_member(&self, ctx: &Ctx, client: ClientId, user: UserId) -> Result<(), AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ManageCareTeam, client)).await?;
        let mut tx = self.begin().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        if !tx.remove_team_member(client, user).await? {
            return Err(AppError::NotFound);
        }
        let mut event = self.read_event(ctx, client, AuditAction::CareTeamChanged);
        event.subject = Some(format!("user:{user}"));
        event.detail = Some("removed".into());
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates_are_iso() {
        assert!(parse_date("1990-02-27").is_ok());
        assert!(parse_date("1990-02-30").is_err());
        assert!(parse_date("27/02/1990").is_err());
    }
}
