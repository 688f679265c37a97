//! Clients and their care teams, as far as the foundation needs them: every read is scoped by
//! the actor's reach and recorded in the audit log before the data is returned.

use domain::access::Permission;
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::client::{
    Client, ClientRecord, Contact, Coverage, CoveragePriority, Demographics, Mrn, Sex, TeamRole, check_birth_date,
};
use domain::episode::Episode;
use domain::ids::{ClientId, UserId};
use domain::ids::{ContactId, CoverageId};
use domain::role::Role;
use domain::text::PersonName;
use time::Date;

use crate::error::{AppError, Problems};
use crate::ports::TeamMember;
use crate::service::other_client;
use crate::service::{App, Ctx};

#[derive(Clone, Debug, Default)]
pub struct NewClientForm {
    pub given_name: String,
    pub family_name: String,
    /// ISO 8601 date, `YYYY-MM-DD`.
    pub date_of_birth: String,
    pub preferred_name: String,
    pub pronouns: String,
    pub sex: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    /// Leave empty to number the record from the center's sequence.
    pub mrn: String,
}

/// One search result with how close the name matched (1.0 for exact identifiers).
#[derive(Clone, Debug)]
pub struct SearchHit {
    pub record: ClientRecord,
    pub score: f64,
}

fn optional(p: &mut Problems, field: &'static str, label: &str, raw: &str, max: usize) -> Option<Option<String>> {
    if raw.trim().is_empty() {
        return Some(None);
    }
    p.check(field, label, domain::text::bounded_line(raw, max)).map(Some)
}

fn demographics(p: &mut Problems, f: &NewClientForm) -> Option<Demographics> {
    let preferred_name = optional(p, "preferred_name", "Preferred name", &f.preferred_name, 200);
    let pronouns = optional(p, "pronouns", "Pronouns", &f.pronouns, 40);
    let sex = if f.sex.trim().is_empty() {
        Some(None)
    } else {
        match Sex::parse(f.sex.trim()) {
            Some(s) => Some(Some(s)),
            None => {
                p.add("sex", "Choose sex recorded at birth from the list");
                None
            }
        }
    };
    let phone = optional(p, "phone", "Phone", &f.phone, 40);
    if let Some(Some(ph)) = &phone {
        let digits = domain::search::phone_digits(ph).len();
        if !(7..=15).contains(&digits) {
            p.add("phone", "Phone must have 7 to 15 digits");
        }
    }
    let email = optional(p, "email", "Email", &f.email, 254);
    if let Some(Some(e)) = &email
        && !(e.contains('@') && !e.starts_with('@') && !e.ends_with('@') && !e.contains(' '))
    {
        p.add("email", "Email must look like name@example.org");
    }
    let address = optional(p, "address", "Address", &f.address, 400);
    Some(Demographics {
        preferred_name: preferred_name?,
        pronouns: pronouns?,
        sex: sex?,
        phone: phone?,
        email: email?,
        address: address?,
    })
}

#[derive(Clone, Debug)]
pub struct ClientView {
    pub client: Client,
    pub record: ClientRecord,
    pub contacts: Vec<Contact>,
    pub coverages: Vec<Coverage>,
    pub care_team: Vec<TeamMember>,
}

#[derive(Clone, Debug, Default)]
pub struct ContactForm {
    pub name: String,
    pub relationship: String,
    pub phone: String,
    pub email: String,
    pub emergency: bool,
}

#[derive(Clone, Debug, Default)]
pub struct CoverageForm {
    pub payer: String,
    pub member_id: String,
    pub group_number: String,
    pub priority: String,
}

fn parse_date(raw: &str) -> Result<Date, &'static str> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), format).map_err(|_| "must be a real date, like 1990-02-27")
}

impl App {
    fn read_event(&self, ctx: &Ctx, client: ClientId, action: AuditAction) -> AuditEvent {
        AuditEvent { client: Some(client), ..self.ctx_event(ctx, action, Outcome::Success) }
    }

    fn parse_client_form(&self, form: &NewClientForm, p: &mut Problems) -> Option<(Client, Demographics)> {
        let today = self.now().date();
        let given_name = p.check("given_name", "First name", PersonName::parse(&form.given_name));
        let family_name = p.check("family_name", "Last name", PersonName::parse(&form.family_name));
        let dob = match parse_date(&form.date_of_birth) {
            Ok(d) => p.check("date_of_birth", "Date of birth", check_birth_date(d, today)),
            Err(m) => {
                p.add("date_of_birth", format!("Date of birth {m}"));
                None
            }
        };
        let demographics = demographics(p, form);
        match (given_name, family_name, dob, demographics) {
            (Some(given_name), Some(family_name), Some(date_of_birth), Some(d)) => {
                Some((Client { id: ClientId::from_uuid(self.ids.new_id()), given_name, family_name, date_of_birth }, d))
            }
            _ => None,
        }
    }

    pub async fn create_client(&self, ctx: &Ctx, form: &NewClientForm) -> Result<Client, AppError> {
        self.create_client_record(ctx, form, false).await.map(|r| r.client)
    }

    /// Creates a client; `is_demo` marks fictional records of the demo center.
    pub async fn create_client_record(
        &self,
        ctx: &Ctx,
        form: &NewClientForm,
        is_demo: bool,
    ) -> Result<ClientRecord, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::CreateClient)).await?;
        let mut tx = self.begin().await?;
        let record = self.create_client_in(ctx, tx.as_mut(), form, is_demo).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Creation inside the caller's transaction; `CreateClient` must already be authorized.
    pub(crate) async fn create_client_in(
        &self,
        ctx: &Ctx,
        tx: &mut dyn crate::ports::Tx,
        form: &NewClientForm,
        is_demo: bool,
    ) -> Result<ClientRecord, AppError> {
        let mut p = Problems::default();
        let parsed = self.parse_client_form(form, &mut p);
        let manual_mrn = if form.mrn.trim().is_empty() {
            Some(None)
        } else {
            p.check("mrn", "MRN", Mrn::parse(&form.mrn)).map(Some)
        };
        p.into_result()?;
        let (Some((client, demographics)), Some(manual_mrn)) = (parsed, manual_mrn) else {
            return Err(AppError::Internal("validated client form incomplete"));
        };
        let now = self.now();
        let mrn = match manual_mrn {
            Some(m) => {
                if tx.mrn_taken(&m).await? {
                    return Err(AppError::invalid("mrn", "That MRN belongs to another client"));
                }
                m
            }
            None => loop {
                // Skip numbers already used by hand-entered MRNs.
                let m =
                    self.mrn_format.render(tx.next_mrn_seq().await?).map_err(|_| AppError::Internal("MRN format"))?;
                if !tx.mrn_taken(&m).await? {
                    break m;
                }
            },
        };
        let record = ClientRecord { client, mrn, demographics };
        match tx.insert_client(&record, is_demo, now).await {
            Err(crate::ports::StoreError::Duplicate(_)) => {
                return Err(AppError::invalid("mrn", "That MRN belongs to another client"));
            }
            other => other?,
        }
        // Whoever admits a client is on their team until someone reassigns it; without this an
        // admissions coordinator could not open the chart they just created.
        let team_role = if ctx.actor.role == Role::Admissions { TeamRole::Intake } else { TeamRole::Other };
        tx.add_team_member(record.client.id, ctx.actor.user_id, team_role, now).await?;
        tx.append_audit(vec![self.read_event(ctx, record.client.id, AuditAction::ClientCreated)]).await?;
        Ok(record)
    }

    /// Corrects a client's name, date of birth or demographics (the MRN stays).
    pub async fn update_client(&self, ctx: &Ctx, id: ClientId, form: &NewClientForm) -> Result<ClientRecord, AppError> {
        let scope = self.registration_scope(ctx, id).await?;
        let mut p = Problems::default();
        let parsed = self.parse_client_form(form, &mut p);
        p.into_result()?;
        let (client, demographics) = parsed.ok_or(AppError::Internal("validated client form incomplete"))?;
        let mut tx = self.begin().await?;
        let before = tx.client_record(&scope, id).await?.ok_or(AppError::NotFound)?;
        let record = ClientRecord { client: Client { id, ..client }, mrn: before.mrn, demographics };
        tx.update_client(&record).await?;
        let mut event = self.read_event(ctx, id, AuditAction::ClientUpdated);
        event.detail = Some("demographics".into());
        tx.append_audit(vec![event]).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Finds clients by name (typo-tolerant), MRN, date of birth or phone, within the actor's
    /// reach. Every client returned is recorded as seen.
    pub async fn search_clients(&self, ctx: &Ctx, text: &str) -> Result<Vec<SearchHit>, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope(Permission::ReadClient)).await?;
        let text = text.trim();
        if text.chars().count() > 100 {
            return Err(AppError::invalid("q", "Search for at most 100 characters"));
        }
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let date = parse_date(text).ok().or_else(|| {
            let f = time::macros::format_description!("[month]/[day]/[year]");
            time::Date::parse(text, f).ok()
        });
        let digits = domain::search::phone_digits(text);
        let is_phone = digits.len() >= 7 && text.chars().all(|c| c.is_ascii_digit() || " ()+-.".contains(c));
        let mrn =
            Mrn::parse(text).ok().filter(|_| text.chars().any(|c| c.is_ascii_digit()) && date.is_none() && !is_phone);
        let query_grams = domain::search::trigrams(text);
        // Names have no digits: a query with digits is an identifier, not a name.
        let is_name = !text.chars().any(|c| c.is_ascii_digit());
        let query = crate::ports::ClientQuery {
            trigrams: if is_name { query_grams.iter().cloned().collect() } else { Vec::new() },
            mrn: mrn.clone(),
            date_of_birth: date,
            phone_digits: is_phone.then_some(digits.clone()),
        };
        let mut tx = self.store.read().await?;
        let candidates = tx.search_clients(&scope, &query, 50).await?;
        drop(tx);
        let mut hits: Vec<SearchHit> = candidates
            .into_iter()
            .filter_map(|record| {
                let exact = mrn.as_ref() == Some(&record.mrn)
                    || date == Some(record.client.date_of_birth)
                    || (is_phone
                        && record.demographics.phone.as_deref().map(domain::search::phone_digits)
                            == Some(digits.clone()));
                let name = format!(
                    "{} {} {}",
                    record.client.given_name,
                    record.client.family_name,
                    record.demographics.preferred_name.as_deref().unwrap_or("")
                );
                let score = if exact {
                    1.0
                } else {
                    domain::search::similarity(&query_grams, &domain::search::trigrams(&name))
                };
                (score >= domain::search::MATCH_THRESHOLD).then_some(SearchHit { record, score })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(25);
        let events =
            hits.iter().map(|h| self.read_event(ctx, h.record.client.id, AuditAction::ClientSearched)).collect();
        self.store.record(events).await?;
        Ok(hits)
    }

    /// The full record (demographics, MRN) of one client.
    pub async fn client_record(&self, ctx: &Ctx, id: ClientId) -> Result<ClientRecord, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReadClient, id)).await?;
        let mut tx = self.store.read().await?;
        let record = tx.client_record(&scope, id).await?.ok_or(AppError::NotFound)?;
        drop(tx);
        self.store.record(vec![self.read_event(ctx, id, AuditAction::ClientRead)]).await?;
        Ok(record)
    }

    /// One client's record, if the actor may read it. The read is audited before it returns.
    pub async fn client(&self, ctx: &Ctx, id: ClientId) -> Result<ClientView, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReadClient, id)).await?;
        let mut tx = self.store.read().await?;
        let record = tx.client_record(&scope, id).await?.ok_or(AppError::NotFound)?;
        let care_team = match tx.episodes_of(id).await?.into_iter().find(Episode::is_open) {
            Some(open) => tx.episode_team(open.id).await?,
            None => tx.care_team(id).await?,
        };
        let contacts = tx.contacts(id).await?;
        let coverages = tx.coverages(id).await?;
        drop(tx);
        self.store.record(vec![self.read_event(ctx, id, AuditAction::ClientRead)]).await?;
        Ok(ClientView { client: record.client.clone(), record, contacts, coverages, care_team })
    }

    /// Those who admit a client keep their registration data (contacts, coverage) up to date.
    async fn registration_scope(&self, ctx: &Ctx, id: ClientId) -> Result<domain::access::ClientScope, AppError> {
        self.authorize(ctx, ctx.actor.scope_for(Permission::AdmitClient, id)).await
    }

    async fn registration_change(
        &self,
        ctx: &Ctx,
        id: ClientId,
        tx: &mut dyn crate::ports::Tx,
        detail: &str,
    ) -> Result<(), AppError> {
        let mut event = self.read_event(ctx, id, AuditAction::ClientUpdated);
        event.detail = Some(detail.to_owned());
        tx.append_audit(vec![event]).await?;
        Ok(())
    }

    pub async fn add_contact(&self, ctx: &Ctx, id: ClientId, form: &ContactForm) -> Result<Contact, AppError> {
        let scope = self.registration_scope(ctx, id).await?;
        let mut p = Problems::default();
        let name = p.check("contact_name", "Contact's name", domain::text::bounded_line(&form.name, 200));
        let relationship = p.check("relationship", "Relationship", domain::text::bounded_line(&form.relationship, 80));
        let dummy = NewClientForm { phone: form.phone.clone(), email: form.email.clone(), ..Default::default() };
        let d = demographics(&mut p, &dummy);
        if form.phone.trim().is_empty() && form.email.trim().is_empty() {
            p.add("phone", "Give a phone number or an email address");
        }
        p.into_result()?;
        let (Some(name), Some(relationship), Some(d)) = (name, relationship, d) else {
            return Err(AppError::Internal("validated contact incomplete"));
        };
        let contact = Contact {
            id: ContactId::from_uuid(self.ids.new_id()),
            name,
            relationship,
            phone: d.phone,
            email: d.email,
            emergency: form.emergency,
        };
        let mut tx = self.begin().await?;
        tx.client_record(&scope, id).await?.ok_or(AppError::NotFound)?;
        tx.insert_contact(id, &contact).await?;
        self.registration_change(ctx, id, tx.as_mut(), "contact_added").await?;
        tx.commit().await?;
        Ok(contact)
    }

    pub async fn remove_contact(&self, ctx: &Ctx, id: ClientId, contact: ContactId) -> Result<(), AppError> {
        let scope = self.registration_scope(ctx, id).await?;
        let mut tx = self.begin().await?;
        tx.client_record(&scope, id).await?.ok_or(AppError::NotFound)?;
        if !tx.delete_contact(id, contact).await? {
            return Err(match tx.contact_owner(contact).await? {
                Some(other) => {
                    self.hidden_denied_in(tx.as_mut(), ctx, other_client(Permission::AdmitClient, other)).await
                }
                None => AppError::NotFound,
            });
        }
        self.registration_change(ctx, id, tx.as_mut(), "contact_removed").await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_coverage(&self, ctx: &Ctx, id: ClientId, form: &CoverageForm) -> Result<Coverage, AppError> {
        let scope = self.registration_scope(ctx, id).await?;
        let mut p = Problems::default();
        let payer = p.check("payer", "Payer", domain::text::bounded_line(&form.payer, 120));
        let member_id = p.check("member_id", "Member ID", domain::text::bounded_line(&form.member_id, 60));
        let group = optional(&mut p, "group_number", "Group number", &form.group_number, 60);
        let priority = CoveragePriority::parse(form.priority.trim());
        if priority.is_none() {
            p.add("priority", "Choose primary, secondary or tertiary");
        }
        p.into_result()?;
        let (Some(payer), Some(member_id), Some(group_number), Some(priority)) = (payer, member_id, group, priority)
        else {
            return Err(AppError::Internal("validated coverage incomplete"));
        };
        let coverage =
            Coverage { id: CoverageId::from_uuid(self.ids.new_id()), payer, member_id, group_number, priority };
        let mut tx = self.begin().await?;
        tx.client_record(&scope, id).await?.ok_or(AppError::NotFound)?;
        tx.insert_coverage(id, &coverage).await?;
        self.registration_change(ctx, id, tx.as_mut(), "coverage_added").await?;
        tx.commit().await?;
        Ok(coverage)
    }

    pub async fn remove_coverage(&self, ctx: &Ctx, id: ClientId, coverage: CoverageId) -> Result<(), AppError> {
        let scope = self.registration_scope(ctx, id).await?;
        let mut tx = self.begin().await?;
        tx.client_record(&scope, id).await?.ok_or(AppError::NotFound)?;
        if !tx.delete_coverage(id, coverage).await? {
            return Err(match tx.coverage_owner(coverage).await? {
                Some(other) => {
                    self.hidden_denied_in(tx.as_mut(), ctx, other_client(Permission::AdmitClient, other)).await
                }
                None => AppError::NotFound,
            });
        }
        self.registration_change(ctx, id, tx.as_mut(), "coverage_removed").await?;
        tx.commit().await?;
        Ok(())
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
        // During a stay the assignment is to that episode's team.
        if let Some(open) = tx.episodes_of(client).await?.into_iter().find(Episode::is_open) {
            tx.add_episode_team_member(open.id, client, user, role, self.now()).await?;
        }
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
        let open = tx.episodes_of(client).await?.into_iter().find(Episode::is_open);
        let removed = match open {
            // Off this stay's team; access goes too unless they treated the client in an
            // earlier stay (their own notes and decisions stay theirs to read).
            Some(e) => {
                let was_on = tx.remove_episode_team_member(e.id, user).await?;
                if !tx.on_any_episode_team(client, user).await? {
                    tx.remove_team_member(client, user).await?;
                }
                was_on
            }
            None => tx.remove_team_member(client, user).await?,
        };
        if !removed {
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
