//! Validation of emitted FHIR resources against HL7's official R4 JSON schema, kept in this
//! crate (`data/fhir-r4/`, CC0) so that a fresh clone runs its tests with nothing beside it;
//! `STEPDOWN_FHIR_SCHEMA` points elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

fn schema_path() -> PathBuf {
    if let Ok(p) = std::env::var("STEPDOWN_FHIR_SCHEMA") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/fhir-r4/fhir.schema.json")
}

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = schema_path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("FHIR R4 schema not found at {} ({e}); set STEPDOWN_FHIR_SCHEMA", path.display())
        });
        serde_json::from_str(&text).expect("schema is JSON")
    })
}

fn validator(resource_type: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(resource_type) {
        return v.clone();
    }
    // Validate against one resource's definition for precise messages (see the schema's README).
    let mut root = schema().clone();
    let obj = root.as_object_mut().unwrap();
    obj.remove("oneOf");
    obj.remove("discriminator");
    obj.insert("$ref".into(), Value::String(format!("#/definitions/{resource_type}")));
    let v = Arc::new(jsonschema::validator_for(&root).expect("schema compiles"));
    cache.lock().unwrap().insert(resource_type.to_owned(), v.clone());
    v
}

/// Every schema violation in `resource`, as "message at /path"; empty when valid.
pub fn errors(resource: &Value) -> Vec<String> {
    let kind = resource["resourceType"].as_str().expect("resourceType");
    let v = validator(kind);
    v.iter_errors(resource).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

/// Panics with every violation when `resource` is not valid R4.
pub fn assert_valid(resource: &Value) {
    let errs = errors(resource);
    assert!(errs.is_empty(), "invalid FHIR R4 {}:\n{}", resource["resourceType"], errs.join("\n"));
}
