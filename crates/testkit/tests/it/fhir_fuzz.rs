//! Every FHIR search parameter, fuzzed through a real server: whatever a caller puts in a
//! search (multi-byte and control characters, percent-encoded junk, very long values), the
//! answer is never a 5xx, every refusal is an `OperationOutcome`, and a value no parameter
//! could mean is refused with a 4xx rather than searched for.

use domain::role::Role;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use testkit::TestApp;

/// The search endpoints and their parameters, as the CapabilityStatement lists them (checked
/// below, so a new parameter cannot escape the fuzzing). AuditEvent also takes `_count`.
const SEARCHES: &[(&str, &[&str])] = &[
    ("AuditEvent", &["patient", "agent", "date", "action", "_count"]),
    ("Questionnaire", &["url"]),
    ("QuestionnaireResponse", &["patient"]),
    ("Observation", &["patient", "category"]),
    ("Appointment", &["patient", "date"]),
    ("Encounter", &["patient", "date"]),
];

/// Parameters that filter by any text (a url, a category code): no value is wrong, an
/// unknown one just matches nothing.
const FREE_TEXT: &[&str] = &["url", "category"];

/// Generated cases per parameter: a few hundred requests in all, seconds on two cores.
const CASES: u32 = 20;

struct Fixture {
    app: TestApp,
    officer: String,
    supervisor: String,
    client: String,
}

impl Fixture {
    async fn new() -> Self {
        let app = testkit::spawn_app().await;
        let (_, supervisor) = app.full_token("sup", Role::Supervisor).await;
        let (_, officer) = app.full_token("priv", Role::PrivacyOfficer).await;
        let client = app.new_client(&supervisor, "Ana", "Alvarez").await;
        Self { app, officer, supervisor, client }
    }

    /// Searches `resource` with `query` appended to what the search needs anyway (the patient
    /// of the program and measurement searches, unless `query` names one itself).
    async fn search(&self, resource: &str, query: &str, names_patient: bool) -> (u16, String, Value) {
        let token = if resource == "AuditEvent" { &self.officer } else { &self.supervisor };
        let needs_patient = !matches!(resource, "AuditEvent" | "Questionnaire") && !names_patient;
        let base = if needs_patient { format!("patient={}&", self.client) } else { String::new() };
        let res = reqwest::Client::new()
            .get(self.app.url(&format!("/fhir/{resource}?{base}{query}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let content_type =
            res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        (status, content_type, res.json().await.unwrap_or(Value::Null))
    }
}

/// Percent-encodes every byte but the unreserved ones, so the server sees exactly `value`.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Values a caller might send: anything at all (control characters included), things shaped
/// like what the parameters take (a date prefix, a reference, a number) but broken, often by
/// a multi-byte character where a byte index would cut, and very long ones.
fn values() -> impl Strategy<Value = String> {
    let shaped = (
        prop::sample::select(vec!["", "e", "ge", "gt", "le", "lt", "eq", "Patient/", "Practitioner/", "client."]),
        prop::sample::select(vec!["", "é", "€", "💥", "\u{0}", "\u{7f}", "\u{202e}", "\n", "%", "a"]),
        prop::sample::select(vec!["", "2026-01-01", "2026-13-40", "0190a1b2-0000-7000-8000-000000000001", "5", "-1"]),
        any::<String>(),
    )
        .prop_map(|(a, b, c, d)| format!("{a}{b}{c}{d}"));
    prop_oneof![
        3 => any::<String>(),
        3 => shaped,
        1 => "\\PC{0,8}".prop_map(|s| s.repeat(200)),
        1 => "[a-z0-9]{1,4}".prop_map(|s| s.repeat(1500)),
    ]
}

/// Raw query text with broken percent escapes and separators, sent as it is.
fn raw_queries() -> impl Strategy<Value = String> {
    "(%|%[0-9A-Fa-fGZz]{1,2}|%C3|%E2%82|[&=+;]|[a-z_]{1,8}|é|💥)*"
}

fn check_answer(status: u16, content_type: &str, body: &Value) -> Result<(), TestCaseError> {
    prop_assert!(status < 500, "a {status} answer");
    prop_assert_eq!(content_type, "application/fhir+json");
    if status == 200 {
        prop_assert_eq!(&body["resourceType"], "Bundle");
    } else {
        prop_assert!((400..500).contains(&status), "a {status} answer");
        prop_assert_eq!(&body["resourceType"], "OperationOutcome", "{}", body);
        prop_assert_eq!(&body["issue"][0]["severity"], "error");
    }
    Ok(())
}

/// Runs `test` on `CASES` values of `strategy`, shrinking a failure to its smallest value.
fn run<S: Strategy>(what: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let mut runner = TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() });
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{what}: {e}");
    }
}

#[test]
fn every_fhir_search_parameter_answers_arbitrary_values_without_a_server_error() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut fx = rt.block_on(Fixture::new());

    // The list above is the server's own: every parameter the CapabilityStatement declares.
    let meta: Value =
        rt.block_on(async { reqwest::get(fx.app.url("/fhir/metadata")).await.unwrap().json().await.unwrap() });
    for resource in meta["rest"][0]["resource"].as_array().unwrap() {
        let kind = resource["type"].as_str().unwrap();
        let declared: Vec<&str> =
            resource["searchParam"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        let (_, fuzzed) = SEARCHES.iter().find(|(k, _)| *k == kind).unwrap_or_else(|| panic!("{kind} is not fuzzed"));
        assert!(declared.iter().all(|p| fuzzed.contains(p)), "{kind}: {declared:?} not all in {fuzzed:?}");
    }

    // The reported case, exactly as sent: the prefix once ended inside "é" and panicked.
    for (resource, query) in
        [("AuditEvent", "date=a%C3%A9"), ("Appointment", "date=a%C3%A9"), ("Encounter", "date=%C3%A9")]
    {
        let (status, content_type, body) = rt.block_on(fx.search(resource, query, false));
        assert_eq!(status, 400, "{resource}?{query}: {body}");
        check_answer(status, &content_type, &body).unwrap();
    }

    for (resource, params) in SEARCHES {
        for param in *params {
            run(&format!("{resource}?{param}"), values(), |value| {
                let query = format!("{param}={}", encode(&value));
                let (status, content_type, body) = rt.block_on(fx.search(resource, &query, *param == "patient"));
                check_answer(status, &content_type, &body)?;
                // Only the free-text filters can mean anything by a non-ASCII or control
                // character; anywhere else it is a bad value, refused, not searched for.
                let meaningless = value.chars().any(|c| !c.is_ascii() || c.is_ascii_control());
                if meaningless && !FREE_TEXT.contains(param) {
                    prop_assert_eq!(status, 400, "{}", body);
                    prop_assert_eq!(&body["issue"][0]["code"], "invalid");
                }
                Ok(())
            });
        }
        run(&format!("{resource} (raw query)"), raw_queries(), |raw| {
            let (status, content_type, body) = rt.block_on(fx.search(resource, &raw, false));
            check_answer(status, &content_type, &body)
        });
    }

    rt.block_on(fx.app.stop());
}
