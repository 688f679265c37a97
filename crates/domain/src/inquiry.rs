//! Helpline inquiries (DESIGN.md §2): a call, web form or referral about someone who may need
//! care. An inquiry is not a client (TEDS: screening alone does not make a client) until it is
//! converted at admission.

use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::ids::{ClientId, InquiryId, TaskId, UserId};

/// Where an inquiry is in the admissions pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    New,
    Screening,
    AdmissionScheduled,
    Waitlist,
    Admitted,
    ReferredOut,
    Lost,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::New,
        Stage::Screening,
        Stage::AdmissionScheduled,
        Stage::Waitlist,
        Stage::Admitted,
        Stage::ReferredOut,
        Stage::Lost,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Screening => "screening",
            Stage::AdmissionScheduled => "admission_scheduled",
            Stage::Waitlist => "waitlist",
            Stage::Admitted => "admitted",
            Stage::ReferredOut => "referred_out",
            Stage::Lost => "lost",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Stage::New => "New",
            Stage::Screening => "Screening",
            Stage::AdmissionScheduled => "Admission scheduled",
            Stage::Waitlist => "Waitlist",
            Stage::Admitted => "Admitted",
            Stage::ReferredOut => "Referred out",
            Stage::Lost => "Lost to contact",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Stages a person can move to by hand. `Admitted` is reached only by converting the
    /// inquiry, which creates the client; closed inquiries can be reopened as new contact.
    pub fn can_move_to(self, to: Stage) -> bool {
        use Stage::*;
        match (self, to) {
            (a, b) if a == b => false,
            (_, Admitted) | (Admitted, _) => false,
            (
                New | Screening | Waitlist | AdmissionScheduled,
                Screening | AdmissionScheduled | Waitlist | ReferredOut | Lost,
            ) => true,
            (ReferredOut | Lost, New) => true,
            _ => false,
        }
    }

    pub const fn is_open(self) -> bool {
        !matches!(self, Stage::Admitted | Stage::ReferredOut | Stage::Lost)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Routine,
    Soon,
    Urgent,
    Crisis,
}

impl Urgency {
    pub const ALL: [Urgency; 4] = [Urgency::Routine, Urgency::Soon, Urgency::Urgent, Urgency::Crisis];
    pub const fn code(self) -> &'static str {
        match self {
            Urgency::Routine => "routine",
            Urgency::Soon => "soon",
            Urgency::Urgent => "urgent",
            Urgency::Crisis => "crisis",
        }
    }
    pub const fn label(self) -> &'static str {
        match self {
            Urgency::Routine => "Routine",
            Urgency::Soon => "Within a week",
            Urgency::Urgent => "Within 24 hours",
            Urgency::Crisis => "Crisis – now",
        }
    }
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.code() == code)
    }
}

/// The short pre-admission screen asked on the phone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PreScreen {
    pub withdrawal_risk: bool,
    pub self_harm_thoughts: bool,
    pub medical_conditions: bool,
    pub prior_treatment: bool,
}

impl PreScreen {
    /// Answers that mean the caller needs a clinician or emergency services now, not a callback.
    pub fn needs_immediate_attention(&self) -> bool {
        self.self_harm_thoughts || self.withdrawal_risk
    }
}

/// One inquiry as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inquiry {
    pub id: InquiryId,
    pub received_at: OffsetDateTime,
    pub caller_name: String,
    pub caller_relationship: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<Date>,
    pub phone: Option<String>,
    pub substances: Option<String>,
    pub urgency: Urgency,
    pub insurance: Option<String>,
    pub screen: PreScreen,
    pub heard_about: Option<String>,
    pub stage: Stage,
    pub notes: Option<String>,
    /// The client it became, once admitted.
    pub client: Option<ClientId>,
    pub taken_by: UserId,
}

/// A follow-up task on an inquiry (call back, verify insurance, send paperwork).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Task {
    pub id: TaskId,
    pub inquiry: InquiryId,
    pub title: String,
    pub due_on: Date,
    pub done_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipeline_moves_forward_closes_and_reopens() {
        use Stage::*;
        assert!(New.can_move_to(Screening));
        assert!(Screening.can_move_to(AdmissionScheduled));
        assert!(Waitlist.can_move_to(AdmissionScheduled));
        assert!(Screening.can_move_to(Lost));
        assert!(Lost.can_move_to(New));
        assert!(!New.can_move_to(Admitted), "only conversion admits");
        assert!(!Admitted.can_move_to(Lost), "an admitted inquiry is closed for good");
        assert!(!Lost.can_move_to(Screening), "reopen as new first");
        assert!(!New.can_move_to(New));
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.code()), Some(s));
        }
    }

    #[test]
    fn immediate_attention() {
        assert!(PreScreen { self_harm_thoughts: true, ..Default::default() }.needs_immediate_attention());
        assert!(!PreScreen { prior_treatment: true, ..Default::default() }.needs_immediate_attention());
    }
}
