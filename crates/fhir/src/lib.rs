//! FHIR R4 wire structures for the resources Stepdown serves, and the mapping from the
//! domain to them. Our own serde structs: only the elements we emit, each checked against
//! the official R4 JSON schema in tests.

pub mod appointment;
pub mod audit_event;
pub mod bundle;
pub mod capability;
pub mod datatypes;
pub mod encounter;
pub mod observation;
pub mod questionnaire;
pub mod questionnaire_response;

pub use appointment::{Appointment, VisitFacts, VisitOutcome, appointment};
pub use audit_event::audit_event;
pub use bundle::searchset;
pub use capability::capability_statement;
pub use encounter::{Encounter, encounter, encounter_id};
pub use observation::score_observation;
pub use questionnaire::{
    ImportError, ImportedQuestionnaire, Questionnaire, QuestionnaireStatus, parse_questionnaire, questionnaire,
};
pub use questionnaire_response::{
    Author, IncomingResponse, QuestionnaireResponse, ResponseError, ResponseFacts, parse_questionnaire_response,
    questionnaire_response,
};
