//! FHIR R4 wire structures for the resources Stepdown serves, and the mapping from the
//! domain to them. Our own serde structs: only the elements we emit, each checked against
//! the official R4 JSON schema in tests.

pub mod audit_event;
pub mod bundle;
pub mod capability;
pub mod datatypes;

pub use audit_event::audit_event;
pub use bundle::searchset;
pub use capability::capability_statement;
