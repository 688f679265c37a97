//! Identifiers. Each is a UUID (v7 when we mint it, so ids sort by creation) wrapped in its own
//! type so that a client id can never be passed where a user id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self).map_err(|_| InvalidId)
            }
        }
    };
}

/// The text was not a well-formed identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid identifier")]
pub struct InvalidId;

id_type!(
    /// A staff member's (and later a client's or family member's) login account.
    UserId
);
id_type!(
    /// A person receiving care.
    ClientId
);
id_type!(
    /// One event in the audit log.
    AuditEventId
);
id_type!(
    /// One server-side session.
    SessionId
);
id_type!(
    /// One stay in treatment, from admission to discharge.
    EpisodeId
);
id_type!(
    /// One stretch at one level of care inside an episode.
    PlacementId
);
id_type!(
    /// A physical location of the center.
    SiteId
);
id_type!(
    /// A residential bed.
    BedId
);
id_type!(
    /// A helpline call or referral, before anyone is admitted.
    InquiryId
);
id_type!(
    /// A person to contact about a client (emergency contact, family).
    ContactId
);
id_type!(
    /// A client's insurance or other payer coverage.
    CoverageId
);
id_type!(
    /// One scheduled follow-up contact after discharge.
    FollowUpId
);
id_type!(
    /// A follow-up task on an inquiry.
    TaskId
);
id_type!(
    /// One set of answers to a form.
    ResponseId
);
id_type!(
    /// A safety or withdrawal alert raised to a care team.
    AlertId
);
id_type!(
    /// One readiness review of a placement.
    ReviewId
);
id_type!(
    /// One version of an imported questionnaire.
    FormId
);
id_type!(
    /// An IOP track (e.g. the evening track).
    TrackId
);
id_type!(
    /// One entry of a track's weekly template.
    TemplateId
);
id_type!(
    /// One scheduled IOP session (a group meeting or an individual or family appointment).
    IopSessionId
);
id_type!(
    /// A client's enrolment in a track.
    EnrolmentId
);
