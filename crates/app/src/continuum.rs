//! The continuum of care: sites and beds, admission, the decisions that move a client between
//! levels (extend, step down, step up, transfer, discharge) and the census board.

use std::collections::BTreeMap;

use domain::access::{ClientScope, Permission};
use domain::audit::{AuditAction, AuditEvent, Outcome};
use domain::episode::{Destination, DischargeReason, Episode, Transition, TransitionError, TransitionKind};
use domain::ids::{BedId, ClientId, EpisodeId, PlacementId, SiteId};
use domain::level::LevelCode;
use domain::site::{CapacityError, Site, TimeZoneName, label, room_capacity};
use domain::text::bounded_line;
use time::Date;

use crate::error::{AppError, Problems};
use crate::ports::{CensusRow, EpisodeEvent, SiteView, Tx};
use crate::service::{App, Ctx};

/// What the admission form carries (all text, as typed).
#[derive(Clone, Debug, Default)]
pub struct AdmitForm {
    pub on: String,
    pub level: String,
    pub site: String,
    pub bed: String,
    pub planned_end: String,
    pub reason: String,
}

/// A decision about an open episode, as typed.
#[derive(Clone, Debug, Default)]
pub struct DecisionForm {
    /// extend, step_down, step_up, transfer or discharge
    pub kind: String,
    pub on: String,
    pub level: String,
    pub site: String,
    pub bed: String,
    pub planned_end: String,
    pub discharge_reason: String,
    pub reason: String,
}

/// An episode with its decision history.
#[derive(Clone, Debug)]
pub struct EpisodeView {
    pub episode: Episode,
    pub events: Vec<EpisodeEvent>,
}

/// One level at one site on the census board.
#[derive(Clone, Debug, Default)]
pub struct CensusGroup {
    pub level: String,
    pub level_name: String,
    pub clients: Vec<CensusRow>,
}

#[derive(Clone, Debug)]
pub struct CensusSite {
    pub site: Site,
    pub beds_total: usize,
    pub beds_occupied: usize,
    pub groups: Vec<CensusGroup>,
    /// Open placements at this site that the viewer may not see by name.
    pub hidden: usize,
}

#[derive(Clone, Debug)]
pub struct Census {
    pub today: Date,
    /// The sites with their rooms and beds, as read for this board.
    pub site_views: Vec<SiteView>,
    pub sites: Vec<CensusSite>,
    pub ending_soon: Vec<CensusRow>,
    pub past_planned_end: Vec<CensusRow>,
}

fn parse_date(raw: &str) -> Result<Date, &'static str> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), f).map_err(|_| "must be a real date, like 2026-11-27")
}

fn optional_date(p: &mut Problems, field: &'static str, label: &str, raw: &str) -> Option<Option<Date>> {
    if raw.trim().is_empty() {
        return Some(None);
    }
    match parse_date(raw) {
        Ok(d) => Some(Some(d)),
        Err(m) => {
            p.add(field, format!("{label} {m}"));
            None
        }
    }
}

fn required_date(p: &mut Problems, field: &'static str, label: &str, raw: &str) -> Option<Date> {
    match parse_date(raw) {
        Ok(d) => Some(d),
        Err(m) => {
            p.add(field, format!("{label} {m}"));
            None
        }
    }
}

/// Which form field a domain refusal belongs next to.
fn field_of(e: &TransitionError) -> &'static str {
    match e {
        TransitionError::BeforeCurrentStart { .. }
        | TransitionError::InFuture
        | TransitionError::BeforeAdmission
        | TransitionError::EpisodeClosed => "on",
        TransitionError::UnknownLevel
        | TransitionError::NotAStepDown { .. }
        | TransitionError::NotAStepUp { .. }
        | TransitionError::TransferChangesLevel => "level",
        TransitionError::TransferGoesNowhere | TransitionError::BedRequired | TransitionError::BedNotAllowed => "bed",
        TransitionError::PlannedEndNotLater | TransitionError::PlannedEndBeforeStart => "planned_end",
    }
}

fn refused(e: TransitionError) -> AppError {
    let field = field_of(&e);
    let mut text = e.to_string();
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + text.get(1..).unwrap_or("");
    }
    AppError::invalid(field, text)
}

/// Shown instead of an earlier stay's decision reasons to someone without clinical access.
pub const WITHHELD: &str = "(clinical detail withheld)";

impl App {
    fn today(&self) -> Date {
        self.now().date()
    }

    /// Sites with their rooms and beds: every signed-in staff member needs them for forms.
    pub async fn sites(&self, ctx: &Ctx) -> Result<Vec<SiteView>, AppError> {
        if !ctx.actor.role.is_staff() {
            return Err(self
                .denied(ctx, domain::access::AccessDenied { permission: Permission::ManageSites, client: None })
                .await);
        }
        let mut tx = self.store.read().await?;
        Ok(tx.sites().await?)
    }

    async fn site_event(&self, ctx: &Ctx, tx: &mut dyn Tx, subject: String, detail: &str) -> Result<(), AppError> {
        let event = AuditEvent {
            subject: Some(subject),
            detail: Some(detail.to_owned()),
            ..self.ctx_event(ctx, AuditAction::SiteChanged, Outcome::Success)
        };
        tx.append_audit(vec![event]).await?;
        Ok(())
    }

    pub async fn create_site(&self, ctx: &Ctx, name: &str, time_zone: &str) -> Result<Site, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageSites)).await?;
        let mut p = Problems::default();
        let name = p.check("name", "Site name", label(name));
        let tz = p.check("time_zone", "Time zone", TimeZoneName::parse(time_zone));
        if let Some(t) = &tz
            && !App::known_time_zone(t.as_str())
        {
            p.add("time_zone", "Time zone is not one we know; use a name like America/Chicago");
        }
        p.into_result()?;
        let (Some(name), Some(time_zone)) = (name, tz) else {
            return Err(AppError::Internal("validated site incomplete"));
        };
        let site = Site { id: SiteId::from_uuid(self.ids.new_id()), name, time_zone };
        let mut tx = self.begin().await?;
        match tx.insert_site(&site).await {
            Err(crate::ports::StoreError::Duplicate(_)) => {
                return Err(AppError::invalid("name", "A site with that name already exists"));
            }
            other => other?,
        }
        self.site_event(ctx, tx.as_mut(), format!("site:{}", site.id), "created").await?;
        tx.commit().await?;
        Ok(site)
    }

    pub async fn add_room(&self, ctx: &Ctx, site: SiteId, name: &str, capacity: &str) -> Result<uuid::Uuid, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageSites)).await?;
        let mut p = Problems::default();
        let name = p.check("room_name", "Room name", label(name));
        let capacity = match capacity.trim().parse::<i64>() {
            Ok(n) => p.check("capacity", "Capacity", room_capacity(n)),
            Err(_) => {
                p.add("capacity", "Capacity must be a whole number of beds");
                None
            }
        };
        p.into_result()?;
        let (Some(name), Some(capacity)) = (name, capacity) else {
            return Err(AppError::Internal("validated room incomplete"));
        };
        let mut tx = self.begin().await?;
        if !tx.sites().await?.iter().any(|s| s.site.id == site) {
            return Err(AppError::NotFound);
        }
        let id = self.ids.new_id();
        match tx.insert_room(id, site, &name, capacity).await {
            Err(crate::ports::StoreError::Duplicate(_)) => {
                return Err(AppError::invalid("room_name", "That site already has a room with that name"));
            }
            other => other?,
        }
        self.site_event(ctx, tx.as_mut(), format!("room:{id}"), "created").await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a bed to a room, refusing more beds than the room's capacity.
    pub async fn add_bed(&self, ctx: &Ctx, room: uuid::Uuid, bed_label: &str) -> Result<BedId, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ManageSites)).await?;
        let mut p = Problems::default();
        let bed_label = p.check("bed_label", "Bed label", label(bed_label));
        p.into_result()?;
        let bed_label = bed_label.ok_or(AppError::Internal("validated bed incomplete"))?;
        let mut tx = self.begin().await?;
        let (site, capacity, beds) = tx.room(room).await?.ok_or(AppError::NotFound)?;
        if beds >= u64::from(capacity) {
            return Err(AppError::invalid("bed_label", format!("Bed {}", CapacityError::RoomFull { capacity })));
        }
        let id = BedId::from_uuid(self.ids.new_id());
        match tx.insert_bed(id, room, site, &bed_label).await {
            Err(crate::ports::StoreError::Duplicate(_)) => {
                return Err(AppError::invalid("bed_label", "That room already has a bed with that label"));
            }
            other => other?,
        }
        self.site_event(ctx, tx.as_mut(), format!("bed:{id}"), "created").await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Parses where a client is going: level from the catalogue, site, bed (checked to belong to
    /// the site) and planned end.
    fn destination(
        &self,
        sites: &[SiteView],
        p: &mut Problems,
        level: &str,
        site: &str,
        bed: &str,
        planned_end: &str,
    ) -> Option<Destination> {
        let level = match self.catalogue.level(level) {
            Ok(l) => Some(l.code.clone()),
            Err(_) => {
                p.add("level", "Choose a level of care from the list");
                None
            }
        };
        let site = match site.trim().parse::<SiteId>() {
            Ok(s) if sites.iter().any(|v| v.site.id == s) => Some(s),
            _ => {
                p.add("site", "Choose a site");
                None
            }
        };
        let bed = if bed.trim().is_empty() {
            Some(None)
        } else {
            match bed.trim().parse::<BedId>() {
                Ok(b) => {
                    match sites.iter().flat_map(|s| s.rooms.iter().flat_map(|r| r.beds.iter())).find(|v| v.id == b) {
                        Some(v) if Some(v.site) == site && v.active => Some(Some(b)),
                        Some(_) => {
                            p.add("bed", "Choose a bed at the chosen site");
                            None
                        }
                        None => {
                            p.add("bed", "Choose a bed from the list");
                            None
                        }
                    }
                }
                Err(_) => {
                    p.add("bed", "Choose a bed from the list");
                    None
                }
            }
        };
        let planned_end = optional_date(p, "planned_end", "Planned end", planned_end);
        match (level, site, bed, planned_end) {
            (Some(level), Some(site), Some(bed), Some(planned_end)) => {
                Some(Destination { id: PlacementId::from_uuid(self.ids.new_id()), level, site, bed, planned_end })
            }
            _ => None,
        }
    }

    /// Today at `site` (the server's date when the site is unknown).
    fn today_at(&self, sites: &[SiteView], site: SiteId) -> Date {
        match sites.iter().find(|s| s.site.id == site) {
            Some(s) => self.today_in(s.site.time_zone.as_str()),
            None => self.today(),
        }
    }

    async fn check_bed(&self, tx: &mut dyn Tx, to: &Destination, on: Date, episode: EpisodeId) -> Result<(), AppError> {
        if let Some(bed) = to.bed
            && tx.bed_taken(bed, on, episode).await?
        {
            return Err(AppError::invalid("bed", "That bed is occupied on that date; choose another"));
        }
        Ok(())
    }

    /// The record of a decision; `moved` is (from level, to level, planned end).
    fn decision_event(
        &self,
        ctx: &Ctx,
        episode: EpisodeId,
        kind: TransitionKind,
        on: Date,
        reason: &str,
        moved: (Option<LevelCode>, Option<LevelCode>, Option<Date>),
    ) -> EpisodeEvent {
        let (from, to, planned_end) = moved;
        EpisodeEvent {
            id: self.ids.new_id(),
            episode,
            kind,
            on,
            decided_at: self.now(),
            decided_by: ctx.actor.user_id,
            decided_by_name: String::new(),
            reason: reason.to_owned(),
            from_level: from,
            to_level: to,
            planned_end,
        }
    }

    /// Admits a client: opens an episode with its first placement. A client with an open
    /// episode cannot be admitted again; a readmission links to the previous episode.
    pub async fn admit(&self, ctx: &Ctx, client: ClientId, form: &AdmitForm) -> Result<Episode, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::AdmitClient, client)).await?;
        let mut tx = self.begin().await?;
        let episode = self.admit_in(ctx, tx.as_mut(), &scope, client, form).await?;
        tx.commit().await?;
        Ok(episode)
    }

    /// Admission inside the caller's transaction (so an inquiry can become a client and an
    /// episode atomically). `scope` must already be authorized.
    pub(crate) async fn admit_in(
        &self,
        ctx: &Ctx,
        tx: &mut dyn Tx,
        scope: &ClientScope,
        client: ClientId,
        form: &AdmitForm,
    ) -> Result<Episode, AppError> {
        let mut p = Problems::default();
        let on = required_date(&mut p, "on", "Admission date", &form.on);
        let reason = p.check("reason", "Reason", bounded_line(&form.reason, 2000));
        tx.client(scope, client).await?.ok_or(AppError::NotFound)?;
        let sites = tx.sites().await?;
        let to = self.destination(&sites, &mut p, &form.level, &form.site, &form.bed, &form.planned_end);
        p.into_result()?;
        let (Some(on), Some(reason), Some(to)) = (on, reason, to) else {
            return Err(AppError::Internal("validated admission incomplete"));
        };
        let previous = tx.episodes_of(client).await?;
        if previous.iter().any(Episode::is_open) {
            return Err(AppError::invalid(
                "on",
                "This client already has an open episode; discharge them before readmitting",
            ));
        }
        if let Some(last) = previous.iter().filter_map(|e| e.discharge.as_ref()).map(|d| d.on).max()
            && on < last
        {
            return Err(AppError::invalid("on", "A readmission cannot start before the previous discharge"));
        }
        let id = EpisodeId::from_uuid(self.ids.new_id());
        self.check_bed(tx, &to, on, id).await?;
        let level = to.level.clone();
        let planned_end = to.planned_end;
        let prev = previous.first().map(|e| e.id);
        let today = self.today_at(&sites, to.site);
        let episode = Episode::admit(id, client, on, to, prev, &self.catalogue, today).map_err(refused)?;
        tx.save_episode(&episode, &self.catalogue.id, self.now()).await?;
        // The stay starts with the people already on the client's team; the team of each
        // episode is then kept on its own (supervisors adjust it from the chart).
        for member in tx.care_team(client).await? {
            tx.add_episode_team_member(id, client, member.user_id, member.team_role, self.now()).await?;
        }
        let ev = self.decision_event(ctx, id, TransitionKind::Admit, on, &reason, (None, Some(level), planned_end));
        tx.insert_episode_event(&ev).await?;
        let audit = AuditEvent {
            client: Some(client),
            subject: Some(format!("episode:{id}")),
            detail: Some(if prev.is_some() { "readmission" } else { "admission" }.into()),
            ..self.ctx_event(ctx, AuditAction::EpisodeAdmitted, Outcome::Success)
        };
        tx.append_audit(vec![audit]).await?;
        Ok(episode)
    }

    /// Records a decision about an open episode and applies it, all in one transaction.
    pub async fn decide(
        &self,
        ctx: &Ctx,
        client: ClientId,
        episode_id: EpisodeId,
        form: &DecisionForm,
    ) -> Result<Episode, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::DecideTransition, client)).await?;
        let mut tx = self.begin().await?;
        let episode = self.decide_in(ctx, tx.as_mut(), &scope, client, episode_id, form).await?;
        tx.commit().await?;
        Ok(episode)
    }

    /// A decision inside the caller's transaction (a readiness review applies its decision
    /// atomically with the review). `scope` must already be authorized for decisions.
    /// An episode of `client`, read within `scope`. An episode id of another client under
    /// this client's path is a probe: an audited refusal, answered "not found".
    pub(crate) async fn episode_of_in(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        scope: &ClientScope,
        client: ClientId,
        id: EpisodeId,
        permission: Permission,
    ) -> Result<Episode, AppError> {
        if let Some(e) = tx.episode(scope, id).await?.filter(|e| e.client == client) {
            return Ok(e);
        }
        match tx.episode(&ClientScope::All, id).await? {
            Some(e) => Err(self.hidden_denied_in(tx, ctx, crate::service::other_client(permission, e.client)).await),
            None => Err(AppError::NotFound),
        }
    }

    pub(crate) async fn decide_in(
        &self,
        ctx: &Ctx,
        tx: &mut dyn Tx,
        scope: &ClientScope,
        client: ClientId,
        episode_id: EpisodeId,
        form: &DecisionForm,
    ) -> Result<Episode, AppError> {
        let kind = TransitionKind::parse(form.kind.trim())
            .filter(|k| *k != TransitionKind::Admit)
            .ok_or_else(|| AppError::invalid("kind", "Choose what was decided"))?;
        let mut p = Problems::default();
        let reason = p.check("reason", "Reason", bounded_line(&form.reason, 2000));
        let mut episode =
            tx.episode(scope, episode_id).await?.filter(|e| e.client == client).ok_or(AppError::NotFound)?;
        let from = episode.current().map(|c| c.level.clone());
        let sites = tx.sites().await?;
        let (transition, on, to_level, planned_end) = match kind {
            TransitionKind::Extend => {
                let new_end = required_date(&mut p, "planned_end", "New planned end", &form.planned_end);
                p.into_result()?;
                let new_end = new_end.ok_or(AppError::Internal("validated date missing"))?;
                (Transition::Extend { new_planned_end: new_end }, self.today(), from.clone(), Some(new_end))
            }
            TransitionKind::Discharge => {
                let on = required_date(&mut p, "on", "Discharge date", &form.on);
                let reason_code = DischargeReason::parse(form.discharge_reason.trim());
                if reason_code.is_none() {
                    p.add("discharge_reason", "Choose the reason for discharge");
                }
                p.into_result()?;
                let (Some(on), Some(r)) = (on, reason_code) else {
                    return Err(AppError::Internal("validated discharge incomplete"));
                };
                (Transition::Discharge { on, reason: r }, on, None, None)
            }
            TransitionKind::StepDown | TransitionKind::StepUp | TransitionKind::Transfer => {
                let on = required_date(&mut p, "on", "Date", &form.on);
                let level = if kind == TransitionKind::Transfer && form.level.trim().is_empty() {
                    from.as_ref().map(|l| l.as_str().to_owned()).unwrap_or_default()
                } else {
                    form.level.clone()
                };
                let to = self.destination(&sites, &mut p, &level, &form.site, &form.bed, &form.planned_end);
                p.into_result()?;
                let (Some(on), Some(to)) = (on, to) else {
                    return Err(AppError::Internal("validated move incomplete"));
                };
                self.check_bed(tx, &to, on, episode_id).await?;
                let (lvl, end) = (Some(to.level.clone()), to.planned_end);
                let t = match kind {
                    TransitionKind::StepDown => Transition::StepDown { on, to },
                    TransitionKind::StepUp => Transition::StepUp { on, to },
                    _ => Transition::Transfer { on, to },
                };
                (t, on, lvl, end)
            }
            TransitionKind::Admit => return Err(AppError::invalid("kind", "Choose what was decided")),
        };
        let reason = reason.ok_or_else(|| AppError::invalid("reason", "Reason must not be empty"))?;
        // Dates are judged by the calendar where the client is now.
        let today = match episode.current().map(|c| c.site) {
            Some(site) => self.today_at(&sites, site),
            None => self.today(),
        };
        episode.apply(transition, &self.catalogue, today).map_err(refused)?;
        tx.save_episode(&episode, &self.catalogue.id, self.now()).await?;
        if kind == TransitionKind::Discharge {
            // Follow-up contacts at 30, 60 and 90 days are part of every discharge.
            tx.schedule_follow_ups(&self.follow_ups_for(&episode)).await?;
        }
        let ev = self.decision_event(ctx, episode_id, kind, on, &reason, (from, to_level, planned_end));
        tx.insert_episode_event(&ev).await?;
        let audit = AuditEvent {
            client: Some(client),
            subject: Some(format!("episode:{episode_id}")),
            detail: Some(kind.code().to_owned()),
            ..self.ctx_event(ctx, AuditAction::EpisodeDecided, Outcome::Success)
        };
        tx.append_audit(vec![audit]).await?;
        Ok(episode)
    }

    /// A client's episodes, newest first, with their decisions. Audited as a read of the client.
    pub async fn episodes(&self, ctx: &Ctx, client: ClientId) -> Result<Vec<EpisodeView>, AppError> {
        let scope = self.authorize(ctx, ctx.actor.scope_for(Permission::ReadClient, client)).await?;
        // Admission needs the stays and their levels; why an earlier stay went as it did is
        // clinical content, shown only to those who may read it.
        let clinical = ctx.actor.scope_for(Permission::ReadClinical, client).is_ok();
        let mut tx = self.store.read().await?;
        tx.client(&scope, client).await?.ok_or(AppError::NotFound)?;
        let mut views = Vec::new();
        for episode in tx.episodes_of(client).await? {
            let mut events = tx.episode_events(episode.id).await?;
            if !clinical && !episode.is_open() {
                for e in &mut events {
                    e.reason = WITHHELD.into();
                }
            }
            views.push(EpisodeView { episode, events });
        }
        drop(tx);
        let event = AuditEvent {
            client: Some(client),
            detail: Some("episodes".into()),
            ..self.ctx_event(ctx, AuditAction::ClientRead, Outcome::Success)
        };
        self.store.record(vec![event]).await?;
        Ok(views)
    }

    /// The live census: who is where, by site and level, with bed occupancy and the stays
    /// that need a decision soon. Names appear only for clients the viewer may read.
    pub async fn census(&self, ctx: &Ctx) -> Result<Census, AppError> {
        self.authorize(ctx, ctx.actor.require(Permission::ViewCensus)).await?;
        let scope = ctx.actor.scope(Permission::ReadClient).unwrap_or(ClientScope::Only(Default::default()));
        let mut tx = self.store.read().await?;
        let sites = tx.sites().await?;
        let site_today = |site: SiteId| {
            sites
                .iter()
                .find(|s| s.site.id == site)
                .map(|s| self.today_in(s.site.time_zone.as_str()))
                .unwrap_or_else(|| self.today())
        };
        let today = sites.first().map(|s| self.today_in(s.site.time_zone.as_str())).unwrap_or_else(|| self.today());
        let everyone = tx.census(&ClientScope::All).await?;
        drop(tx);
        let mut site_views = Vec::new();
        for s in &sites {
            let beds: Vec<BedId> =
                s.rooms.iter().flat_map(|r| r.beds.iter().filter(|b| b.active).map(|b| b.id)).collect();
            let here: Vec<&CensusRow> = everyone.iter().filter(|r| r.placement.site == s.site.id).collect();
            let occupied = here.iter().filter(|r| r.placement.bed.is_some_and(|b| beds.contains(&b))).count();
            let mut groups: BTreeMap<(std::cmp::Reverse<u16>, String), CensusGroup> = BTreeMap::new();
            let mut hidden = 0;
            for row in &here {
                if !scope.contains(row.client.id) {
                    hidden += 1;
                    continue;
                }
                let level = self.catalogue.get(&row.placement.level);
                let key =
                    (std::cmp::Reverse(level.map(|l| l.rank).unwrap_or(0)), row.placement.level.as_str().to_owned());
                let g = groups.entry(key).or_insert_with(|| CensusGroup {
                    level: row.placement.level.as_str().to_owned(),
                    level_name: level.map(|l| l.name.clone()).unwrap_or_default(),
                    clients: Vec::new(),
                });
                g.clients.push((*row).clone());
            }
            let mut groups: Vec<CensusGroup> = groups.into_values().collect();
            for g in &mut groups {
                g.clients.sort_by(|a, b| a.client.family_name.as_str().cmp(b.client.family_name.as_str()));
            }
            site_views.push(CensusSite {
                site: s.site.clone(),
                beds_total: beds.len(),
                beds_occupied: occupied,
                groups,
                hidden,
            });
        }
        let visible: Vec<CensusRow> = everyone.into_iter().filter(|r| scope.contains(r.client.id)).collect();
        let mut ending_soon: Vec<CensusRow> = visible
            .iter()
            .filter(|r| {
                let today = site_today(r.placement.site);
                r.placement.planned_end.is_some_and(|e| e >= today && e <= today + time::Duration::days(7))
            })
            .cloned()
            .collect();
        ending_soon.sort_by_key(|r| r.placement.planned_end);
        let mut past: Vec<CensusRow> = visible
            .iter()
            .filter(|r| r.placement.planned_end.is_some_and(|e| e < site_today(r.placement.site)))
            .cloned()
            .collect();
        past.sort_by_key(|r| r.placement.planned_end);
        let events = visible
            .iter()
            .map(|r| AuditEvent {
                client: Some(r.client.id),
                detail: Some("census".into()),
                ..self.ctx_event(ctx, AuditAction::ClientSearched, Outcome::Success)
            })
            .collect();
        self.store.record(events).await?;
        Ok(Census { today, sites: site_views, site_views: sites, ending_soon, past_planned_end: past })
    }
}
