//! Who may do what (DESIGN.md §6): default deny, decided from the actor and the record's
//! context. The store turns a [`ClientScope`] into the `WHERE` clause of every client query,
//! so there is no "load by id, then check".

use crate::ids::{ClientId, SessionId, UserId};
use crate::role::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// Why data is being used (HIPAA/Part 2 purposes of use).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Treatment,
    Payment,
    Operations,
    /// Oversight of the system itself: audit review, accounting of disclosures.
    Oversight,
}

impl Purpose {
    pub const fn code(self) -> &'static str {
        match self {
            Purpose::Treatment => "treatment",
            Purpose::Payment => "payment",
            Purpose::Operations => "operations",
            Purpose::Oversight => "oversight",
        }
    }

    /// The purpose a role acts under by default.
    pub const fn default_for(role: Role) -> Self {
        match role {
            Role::Supervisor | Role::Counselor | Role::ProgramCoordinator | Role::Client | Role::Family => {
                Purpose::Treatment
            }
            Role::Admissions => Purpose::Treatment,
            Role::Biller => Purpose::Payment,
            Role::Admin => Purpose::Operations,
            Role::PrivacyOfficer => Purpose::Oversight,
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Things a person can be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ManageUsers,
    ViewAuditLog,
    CreateClient,
    ReadClient,
    /// The clinical content of a chart: scores and answers, reviews, aftercare plans, the
    /// reasons for decisions. Admissions staff register and admit (`ReadClient`) but never
    /// need it, so a readmission never opens an earlier stay's clinical record to them.
    ReadClinical,
    ManageCareTeam,
    ManageSites,
    AdmitClient,
    DecideTransition,
    ViewCensus,
    PlanAftercare,
    ManageInquiries,
    /// Give a client a questionnaire (in the chart or in client mode).
    AdministerForms,
    AcknowledgeAlert,
    ReviewReadiness,
    /// Import and retire questionnaires.
    ManageForms,
    /// Aggregate reports without client names.
    ViewReports,
    /// Run the IOP program: tracks, templates, closures, sessions, enrolments, the schedule.
    ManageProgram,
    /// See the program's calendars.
    ViewProgram,
    RecordAttendance,
}

impl Permission {
    pub const fn code(self) -> &'static str {
        match self {
            Permission::ManageUsers => "manage_users",
            Permission::ViewAuditLog => "view_audit_log",
            Permission::CreateClient => "create_client",
            Permission::ReadClient => "read_client",
            Permission::ReadClinical => "read_clinical",
            Permission::ManageCareTeam => "manage_care_team",
            Permission::ManageSites => "manage_sites",
            Permission::AdmitClient => "admit_client",
            Permission::DecideTransition => "decide_transition",
            Permission::ViewCensus => "view_census",
            Permission::PlanAftercare => "plan_aftercare",
            Permission::ManageInquiries => "manage_inquiries",
            Permission::AdministerForms => "administer_forms",
            Permission::AcknowledgeAlert => "acknowledge_alert",
            Permission::ReviewReadiness => "review_readiness",
            Permission::ManageForms => "manage_forms",
            Permission::ViewReports => "view_reports",
            Permission::ManageProgram => "manage_program",
            Permission::ViewProgram => "view_program",
            Permission::RecordAttendance => "record_attendance",
        }
    }
}

/// How far a granted permission reaches over clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Every client of the center.
    AllClients,
    /// Only clients whose care team the actor belongs to.
    CareTeam,
    /// The permission is not about particular clients.
    System,
}

/// The grant table. Anything not listed is denied.
pub const fn grant(role: Role, permission: Permission) -> Option<Reach> {
    use Permission::*;
    use Role::*;
    match (role, permission) {
        (Admin | PrivacyOfficer, ManageUsers | ViewAuditLog) => Some(Reach::System),
        (Admin, ManageSites) => Some(Reach::System),
        (Supervisor, ReadClient | ManageCareTeam | AdmitClient | DecideTransition | PlanAftercare) => {
            Some(Reach::AllClients)
        }
        (Supervisor, AdministerForms | AcknowledgeAlert | ReviewReadiness) => Some(Reach::AllClients),
        (Counselor, PlanAftercare | AdministerForms | AcknowledgeAlert | ReviewReadiness) => Some(Reach::CareTeam),
        (Admin | Supervisor, ManageForms) => Some(Reach::System),
        (Supervisor | ProgramCoordinator, ViewReports) => Some(Reach::System),
        (Supervisor | ProgramCoordinator, ManageProgram | RecordAttendance) => Some(Reach::AllClients),
        (Counselor, RecordAttendance) => Some(Reach::CareTeam),
        (Supervisor | ProgramCoordinator | Counselor, ViewProgram) => Some(Reach::System),
        (Supervisor | Admissions, CreateClient) => Some(Reach::System),
        (Counselor | ProgramCoordinator | Admissions, ReadClient) => Some(Reach::CareTeam),
        (Supervisor, ReadClinical) => Some(Reach::AllClients),
        (Counselor | ProgramCoordinator, ReadClinical) => Some(Reach::CareTeam),
        (Admissions, AdmitClient) => Some(Reach::CareTeam),
        (Admissions | Supervisor, ManageInquiries) => Some(Reach::System),
        (Supervisor | Admissions | ProgramCoordinator | Counselor, ViewCensus) => Some(Reach::System),
        _ => None,
    }
}

/// The person behind a request, as every use case sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    pub session_id: Option<SessionId>,
    /// Clients whose care team this person is on.
    pub care_team: BTreeSet<ClientId>,
    pub purpose: Purpose,
}

/// A refusal. Carries what was asked, never the data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not permitted: {}", permission.code())]
pub struct AccessDenied {
    pub permission: Permission,
    pub client: Option<ClientId>,
}

/// Which clients a query may return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientScope {
    All,
    Only(BTreeSet<ClientId>),
}

impl ClientScope {
    pub fn contains(&self, client: ClientId) -> bool {
        match self {
            ClientScope::All => true,
            ClientScope::Only(set) => set.contains(&client),
        }
    }
}

impl Actor {
    /// A permission that is not about a particular client.
    pub fn require(&self, permission: Permission) -> Result<(), AccessDenied> {
        match grant(self.role, permission) {
            Some(_) => Ok(()),
            None => Err(AccessDenied { permission, client: None }),
        }
    }

    /// The clients `permission` reaches for this actor; an error when it reaches none.
    pub fn scope(&self, permission: Permission) -> Result<ClientScope, AccessDenied> {
        match grant(self.role, permission) {
            Some(Reach::AllClients) => Ok(ClientScope::All),
            Some(Reach::CareTeam) => Ok(ClientScope::Only(self.care_team.clone())),
            Some(Reach::System) | None => Err(AccessDenied { permission, client: None }),
        }
    }

    /// `permission` on one client: the scope, narrowed to that client, or a refusal.
    pub fn scope_for(&self, permission: Permission, client: ClientId) -> Result<ClientScope, AccessDenied> {
        let scope = self.scope(permission).map_err(|e| AccessDenied { client: Some(client), ..e })?;
        if scope.contains(client) {
            Ok(ClientScope::Only(BTreeSet::from([client])))
        } else {
            Err(AccessDenied { permission, client: Some(client) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn actor(role: Role, team: &[ClientId]) -> Actor {
        Actor {
            user_id: UserId::from_uuid(Uuid::nil()),
            role,
            session_id: None,
            care_team: team.iter().copied().collect(),
            purpose: Purpose::default_for(role),
        }
    }

    /// The whole grant table, asserted cell by cell so that widening any role fails here.
    #[test]
    fn grant_matrix() {
        use Permission::*;
        use Role::*;
        let expected: &[(Role, &[(Permission, Reach)])] = &[
            (
                Admin,
                &[
                    (ManageUsers, Reach::System),
                    (ViewAuditLog, Reach::System),
                    (ManageSites, Reach::System),
                    (ManageForms, Reach::System),
                ],
            ),
            (PrivacyOfficer, &[(ManageUsers, Reach::System), (ViewAuditLog, Reach::System)]),
            (
                Supervisor,
                &[
                    (CreateClient, Reach::System),
                    (ReadClient, Reach::AllClients),
                    (ManageCareTeam, Reach::AllClients),
                    (AdmitClient, Reach::AllClients),
                    (DecideTransition, Reach::AllClients),
                    (ViewCensus, Reach::System),
                    (PlanAftercare, Reach::AllClients),
                    (ManageInquiries, Reach::System),
                    (AdministerForms, Reach::AllClients),
                    (AcknowledgeAlert, Reach::AllClients),
                    (ReviewReadiness, Reach::AllClients),
                    (ManageForms, Reach::System),
                    (ViewReports, Reach::System),
                    (ManageProgram, Reach::AllClients),
                    (ViewProgram, Reach::System),
                    (RecordAttendance, Reach::AllClients),
                ],
            ),
            (
                Counselor,
                &[
                    (ReadClient, Reach::CareTeam),
                    (ViewCensus, Reach::System),
                    (PlanAftercare, Reach::CareTeam),
                    (AdministerForms, Reach::CareTeam),
                    (AcknowledgeAlert, Reach::CareTeam),
                    (ReviewReadiness, Reach::CareTeam),
                    (ViewProgram, Reach::System),
                    (RecordAttendance, Reach::CareTeam),
                ],
            ),
            (
                ProgramCoordinator,
                &[
                    (ReadClient, Reach::CareTeam),
                    (ViewCensus, Reach::System),
                    (ViewReports, Reach::System),
                    (ManageProgram, Reach::AllClients),
                    (ViewProgram, Reach::System),
                    (RecordAttendance, Reach::AllClients),
                ],
            ),
            (
                Admissions,
                &[
                    (CreateClient, Reach::System),
                    (ReadClient, Reach::CareTeam),
                    (AdmitClient, Reach::CareTeam),
                    (ViewCensus, Reach::System),
                    (ManageInquiries, Reach::System),
                ],
            ),
            (Biller, &[]),
            (Client, &[]),
            (Family, &[]),
        ];
        let all = [
            ManageUsers,
            ViewAuditLog,
            CreateClient,
            ReadClient,
            ManageCareTeam,
            ManageSites,
            AdmitClient,
            DecideTransition,
            ViewCensus,
            PlanAftercare,
            ManageInquiries,
            AdministerForms,
            AcknowledgeAlert,
            ReviewReadiness,
            ManageForms,
            ViewReports,
            ManageProgram,
            ViewProgram,
            RecordAttendance,
        ];
        for (role, grants) in expected {
            for p in all {
                let want = grants.iter().find(|(q, _)| *q == p).map(|(_, r)| *r);
                assert_eq!(grant(*role, p), want, "{role} / {}", p.code());
            }
        }
    }

    #[test]
    fn care_team_scopes_client_reads() {
        let mine = ClientId::from_uuid(Uuid::from_u128(1));
        let theirs = ClientId::from_uuid(Uuid::from_u128(2));
        let counselor = actor(Role::Counselor, &[mine]);
        assert!(counselor.scope_for(Permission::ReadClient, mine).is_ok());
        assert_eq!(
            counselor.scope_for(Permission::ReadClient, theirs),
            Err(AccessDenied { permission: Permission::ReadClient, client: Some(theirs) })
        );
        let supervisor = actor(Role::Supervisor, &[]);
        assert!(supervisor.scope_for(Permission::ReadClient, theirs).is_ok());
        let biller = actor(Role::Biller, &[mine]);
        assert!(biller.scope_for(Permission::ReadClient, mine).is_err(), "membership alone grants nothing");
        let admin = actor(Role::Admin, &[]);
        assert!(admin.scope(Permission::ReadClient).is_err(), "admins manage accounts, not charts");
    }
}
