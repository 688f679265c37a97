//! Forms, responses and scores as FHIR: every emitted resource is valid R4, every built-in
//! form survives a round trip through import, and import refuses what it cannot record.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeMap;

use domain::forms::{AnswerOption, AnswerValue, FormAnswers, FormDefinition, ItemKind, RawAnswer};
use domain::instruments::{Instrument, ScoringContext, score};
use fhir::{
    Author, ImportError, QuestionnaireStatus, ResponseError, ResponseFacts, parse_questionnaire,
    parse_questionnaire_response, questionnaire, questionnaire_response, score_observation,
};
use serde_json::{Value, json};
use testkit::fhir_schema::assert_valid;
use time::macros::datetime;
use uuid::Uuid;

const STAFF: Uuid = Uuid::from_u128(7);
const CLIENT: Uuid = Uuid::from_u128(9);
const RESPONSE: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
const OBSERVATION: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002);

fn to_json<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap()
}

fn labels(v: &Value) -> Vec<&str> {
    v["meta"]["security"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect()
}

// ----------------------------------------------------------------------------------------
// Questionnaire

#[test]
fn every_builtin_form_is_a_valid_questionnaire_that_imports_back_unchanged() {
    for instrument in Instrument::ALL {
        let form = FormDefinition::builtin(instrument);
        let q = questionnaire(&form, instrument.code(), QuestionnaireStatus::Active);
        let value = to_json(&q);
        assert_valid(&value);
        assert_eq!(value["status"], "active");
        assert_eq!(value["url"], form.url.as_str());
        assert_eq!(value["version"], form.version.as_str());

        let imported = parse_questionnaire(&value.to_string())
            .unwrap_or_else(|e| panic!("{} does not import: {e}", instrument.code()));
        assert_eq!(imported.status, "active");
        assert_eq!(imported.loinc_codes, instrument.loinc().0.map(str::to_owned).into_iter().collect::<Vec<_>>());
        let back = &imported.form;
        assert_eq!((&back.url, &back.version, &back.title), (&form.url, &form.version, &form.title));
        assert_eq!(back.instrument, None);
        assert_eq!(back.items.len(), form.items.len());
        for (b, f) in back.items.iter().zip(&form.items) {
            assert_eq!((&b.link_id, &b.text, &b.kind, b.required), (&f.link_id, &f.text, &f.kind, f.required));
            assert_eq!(b.scores_as, None);
        }
        // Bound to its instrument again, the import is the built-in form exactly.
        let mut bound = imported.form.clone();
        bound.bind(instrument).unwrap();
        assert_eq!(bound, form);
    }
}

#[test]
fn the_phq9_questionnaire_carries_loinc_and_scored_options() {
    let form = FormDefinition::builtin(Instrument::Phq9);
    let value = to_json(&questionnaire(&form, "phq-9-1", QuestionnaireStatus::Retired));
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("questionnaire_phq9", value);
    });
    assert_eq!(value["status"], "retired");
    assert_eq!(value["code"][0]["system"], "http://loinc.org");
    assert_eq!(value["code"][0]["code"], "44249-1");
    let option = &value["item"][8]["answerOption"][3];
    assert_eq!(option["valueCoding"]["code"], "3");
    assert_eq!(option["extension"][0]["url"], "http://hl7.org/fhir/StructureDefinition/ordinalValue");
    assert_eq!(option["extension"][0]["valueDecimal"], 3);
    // Forms without a LOINC panel have no code; Questionnaires are not client data: no labels.
    let bam = to_json(&questionnaire(&FormDefinition::builtin(Instrument::Bam), "bam", QuestionnaireStatus::Active));
    assert!(bam.get("code").is_none());
    assert!(bam.get("meta").is_none());
}

/// An unscored form with every kind of item a center may import.
fn custom_form_json() -> Value {
    json!({
        "resourceType": "Questionnaire",
        "url": "https://center.example/fhir/Questionnaire/intake-extras",
        "version": "2026-01",
        "name": "IntakeExtras",
        "status": "active",
        "item": [
            {"linkId": "intro", "type": "display", "text": "A few more questions."},
            {"linkId": "nights", "type": "integer", "text": "Nights slept outside last month", "required": true,
             "extension": [
                {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 0},
                {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": 31}
             ]},
            {"linkId": "age", "type": "integer", "text": "Age at first use"},
            {"linkId": "car", "type": "boolean", "text": "Has a car"},
            {"linkId": "notes", "type": "text", "text": "Anything else"},
            {"linkId": "name", "type": "string", "text": "Preferred name"},
            {"linkId": "housing", "type": "choice", "text": "Housing", "answerOption": [
                {"valueString": "Own home"}, {"valueString": "Family"}, {"valueString": "Shelter"}
            ]},
            {"linkId": "times", "type": "choice", "text": "Times per week", "answerOption": [
                {"valueInteger": 0}, {"valueInteger": 1}, {"valueInteger": 7}
            ]},
            {"linkId": "coded", "type": "choice", "text": "Coded", "answerOption": [
                {"valueCoding": {"system": "https://center.example/cs", "code": "a", "display": "A"},
                 "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/itemWeight", "valueDecimal": 5}]},
                {"valueCoding": {"system": "https://center.example/cs", "code": "b", "display": "B",
                 "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 2.0}]}},
                {"valueCoding": {"system": "https://center.example/cs", "code": "9"}}
            ]},
            {"linkId": "later", "type": "boolean", "text": "Conditional", "required": true,
             "enableWhen": [{"question": "car", "operator": "=", "answerBoolean": true}]}
        ]
    })
}

#[test]
fn import_reads_every_supported_item_kind() {
    let imported = parse_questionnaire(&custom_form_json().to_string()).unwrap();
    let form = &imported.form;
    assert_eq!(form.title, "IntakeExtras", "the name stands in for a missing title");
    assert!(imported.loinc_codes.is_empty());
    let kind = |id: &str| form.item(id).unwrap().kind.clone();
    let opts = |pairs: &[(i64, &str)]| ItemKind::Choice {
        options: pairs.iter().map(|(v, l)| AnswerOption { value: *v, label: (*l).to_owned() }).collect(),
    };
    assert_eq!(kind("intro"), ItemKind::Display);
    assert_eq!(kind("nights"), ItemKind::Integer { min: 0, max: 31 });
    assert_eq!(kind("age"), ItemKind::Integer { min: 0, max: 1000 });
    assert_eq!(kind("car"), ItemKind::Boolean);
    assert_eq!(kind("notes"), ItemKind::Text);
    assert_eq!(kind("name"), ItemKind::Text);
    assert_eq!(kind("housing"), opts(&[(0, "Own home"), (1, "Family"), (2, "Shelter")]));
    assert_eq!(kind("times"), opts(&[(0, "0"), (1, "1"), (7, "7")]));
    assert_eq!(kind("coded"), opts(&[(5, "A"), (2, "B"), (9, "9")]));
    assert!(form.item("nights").unwrap().required);
    assert!(!form.item("age").unwrap().required);
    assert!(!form.item("later").unwrap().required, "a conditional question cannot be demanded");
    let ids: Vec<&str> = form.items.iter().map(|i| i.link_id.as_str()).collect();
    assert_eq!(ids, ["intro", "nights", "age", "car", "notes", "name", "housing", "times", "coded", "later"]);

    // And it serves back as a valid Questionnaire.
    assert_valid(&to_json(&questionnaire(form, "intake-extras", QuestionnaireStatus::Active)));
}

/// A PHQ-9 laid out as LOINC / NLM forms lay it out, with placeholder wording.
fn loinc_style_phq9() -> Value {
    let codes = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"];
    let answers = [("LA6568-5", 0), ("LA6569-3", 1), ("LA6570-1", 2), ("LA6571-9", 3)];
    let items: Vec<Value> = codes
        .iter()
        .enumerate()
        .map(|(n, code)| {
            json!({
                "type": "choice",
                "code": [{"system": "http://loinc.org", "code": code}],
                "extension": [{
                    "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl",
                    "valueCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/questionnaire-item-control", "code": "drop-down"}]}
                }],
                "required": true,
                "linkId": format!("/{code}"),
                "text": format!("Item {} wording (licensed)", n + 1),
                "answerOption": answers.iter().map(|(la, score)| json!({
                    "extension": [
                        {"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-optionPrefix", "valueString": score.to_string()},
                        {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": score}
                    ],
                    "valueCoding": {"system": "http://loinc.org", "code": la, "display": format!("Answer {score} (licensed)")}
                })).collect::<Vec<_>>()
            })
        })
        .collect();
    let intro = json!({"linkId": "/intro", "type": "display", "text": "Instructions (licensed)"});
    // Published forms compute their own total: a read-only, calculated decimal item.
    let total = json!({
        "linkId": "/44261-6", "type": "decimal", "readOnly": true, "text": "Total score",
        "code": [{"system": "http://loinc.org", "code": "44261-6"}],
        "extension": [{"url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression",
                       "valueExpression": {"language": "text/fhirpath", "expression": "sum"}}]
    });
    let group_items: Vec<Value> = std::iter::once(intro).chain(items).chain(std::iter::once(total)).collect();
    json!({
        "resourceType": "Questionnaire",
        "id": "44249-1-x",
        "meta": {"tag": [{"code": "lformsVersion: 28.1.1"}]},
        "url": "https://center.example/fhir/Questionnaire/phq-9-licensed",
        "version": "2026.1",
        "title": "PHQ-9 (licensed wording)",
        "status": "active",
        "code": [{"system": "http://loinc.org", "code": "44249-1", "display": "PHQ-9 panel"}],
        "subjectType": ["Patient", "Person"],
        "item": [{
            "linkId": "/44249-1-group",
            "type": "group",
            "text": "Group heading (licensed)",
            "item": group_items
        }]
    })
}

#[test]
fn a_loinc_style_phq9_imports_with_nine_scored_questions_and_binds() {
    let imported = parse_questionnaire(&loinc_style_phq9().to_string()).unwrap();
    assert_eq!(imported.loinc_codes, ["44249-1"]);
    assert_eq!(imported.status, "active");
    let form = &imported.form;
    assert_eq!(form.title, "PHQ-9 (licensed wording)");
    assert_eq!(form.items[0].kind, ItemKind::Display);
    let questions: Vec<_> = form.items.iter().filter(|i| i.kind != ItemKind::Display).collect();
    assert_eq!(questions.len(), 9, "the calculated read-only total is left out");
    assert!(form.item("/44261-6").is_none());
    assert_eq!(questions[0].link_id, "/44250-9");
    assert_eq!(questions[8].text, "Item 9 wording (licensed)");
    for q in &questions {
        let ItemKind::Choice { options } = &q.kind else { panic!("{} is not a choice", q.link_id) };
        assert_eq!(options.iter().map(|o| o.value).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert_eq!(options[2].label, "Answer 2 (licensed)");
        assert!(q.required);
    }
    let mut bound = form.clone();
    bound.bind(Instrument::Phq9).unwrap();
    assert_eq!(bound.item("/44260-8").unwrap().scores_as.as_deref(), Some("9"));
}

fn with(mut q: Value, edit: impl FnOnce(&mut Value)) -> String {
    edit(&mut q);
    q.to_string()
}

fn choice_item(link_id: &str, options: Value) -> Value {
    json!({"linkId": link_id, "type": "choice", "text": "Q", "answerOption": options})
}

#[test]
fn import_refuses_what_it_cannot_record_and_names_the_item() {
    let base = custom_form_json;
    let cases: Vec<(String, ImportError)> = vec![
        ("{not json".into(), ImportError::InvalidJson(String::new())),
        (json!({"resourceType": "Patient"}).to_string(), ImportError::NotAQuestionnaire { found: "Patient".into() }),
        (with(base(), |q| q["item"] = json!("x")), ImportError::Malformed(String::new())),
        (
            with(base(), |q| {
                q.as_object_mut().unwrap().remove("url");
            }),
            ImportError::MissingUrl,
        ),
        (with(base(), |q| q["version"] = json!("")), ImportError::MissingVersion),
        (with(base(), |q| q["version"] = json!("1|2")), ImportError::BarInCanonical),
        (with(base(), |q| q["title"] = json!("x".repeat(2001))), ImportError::TitleTooLong),
        (
            with(base(), |q| q["item"] = json!([{"linkId": "a", "type": "display", "text": "only text"}])),
            ImportError::NoQuestions,
        ),
        (
            with(base(), |q| {
                q["item"] = json!([{"linkId": "g", "type": "group", "item":
                    (0..501).map(|i| json!({"linkId": format!("q{i}"), "type": "boolean"})).collect::<Vec<_>>()}]);
            }),
            ImportError::TooManyItems { found: 501 },
        ),
        (
            with(base(), |q| {
                q["item"][1].as_object_mut().unwrap().remove("linkId");
            }),
            ImportError::MissingLinkId { position: 2 },
        ),
        (
            with(base(), |q| {
                q["item"][1].as_object_mut().unwrap().remove("type");
            }),
            ImportError::MissingType { link_id: "nights".into() },
        ),
        (with(base(), |q| q["item"][2]["linkId"] = json!("nights")), ImportError::DuplicateLinkId("nights".into())),
        (
            with(base(), |q| q["item"][2]["type"] = json!("date")),
            ImportError::UnsupportedType { link_id: "age".into(), kind: "date".into() },
        ),
        (
            with(base(), |q| q["item"][2]["type"] = json!("decimal")),
            ImportError::UnsupportedType { link_id: "age".into(), kind: "decimal".into() },
        ),
        (
            with(base(), |q| q["item"][2]["type"] = json!("attachment")),
            ImportError::UnsupportedType { link_id: "age".into(), kind: "attachment".into() },
        ),
        (
            with(base(), |q| q["item"][2]["type"] = json!("open-choice")),
            ImportError::UnsupportedType { link_id: "age".into(), kind: "open-choice".into() },
        ),
        (with(base(), |q| q["item"][3]["repeats"] = json!(true)), ImportError::Repeating { link_id: "car".into() }),
        (
            with(base(), |q| {
                q["item"][6] = json!({"linkId": "housing", "type": "choice", "answerValueSet": "http://x/vs"});
            }),
            ImportError::NoOptions { link_id: "housing".into() },
        ),
        (
            with(base(), |q| q["item"][6] = choice_item("housing", json!([{"valueDate": "2020-01-01"}]))),
            ImportError::UnsupportedOption { link_id: "housing".into(), kind: "valueDate".into() },
        ),
        (
            with(base(), |q| {
                q["item"][6] =
                    choice_item("housing", json!([{"valueCoding": {"code": "LA6572-7", "display": "Not difficult"}}]));
            }),
            ImportError::OptionWithoutScore { link_id: "housing".into(), option: "Not difficult".into() },
        ),
        (
            with(base(), |q| {
                q["item"][6] = choice_item(
                    "housing",
                    json!([{"valueCoding": {"code": "x"},
                    "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 1.5}]}]),
                );
            }),
            ImportError::NonIntegerScore { link_id: "housing".into(), value: "1.5".into() },
        ),
        (
            with(base(), |q| q["item"][6] = choice_item("housing", json!([{"valueInteger": 2.5}]))),
            ImportError::NonIntegerScore { link_id: "housing".into(), value: "2.5".into() },
        ),
        (
            with(base(), |q| {
                q["item"][6] = choice_item("housing", json!([{"valueInteger": 1}, {"valueCoding": {"code": "1"}}]))
            }),
            ImportError::DuplicateScore { link_id: "housing".into(), value: 1 },
        ),
        (
            with(base(), |q| q["item"][1]["extension"][0]["valueInteger"] = json!(40)),
            ImportError::InvalidRange { link_id: "nights".into(), detail: "minValue 40 > maxValue 31".into() },
        ),
        (
            with(base(), |q| q["item"][4]["text"] = json!("é".repeat(2001))),
            ImportError::TextTooLong { link_id: "notes".into() },
        ),
        (
            with(base(), |q| q["item"][6] = choice_item("housing", json!([{"valueString": "y".repeat(2001)}]))),
            ImportError::TextTooLong { link_id: "housing".into() },
        ),
    ];
    for (input, expected) in cases {
        let err = parse_questionnaire(&input).expect_err(&format!("accepted; expected {expected:?}"));
        match (&err, &expected) {
            // Messages from serde vary; the kind is what matters.
            (ImportError::InvalidJson(_), ImportError::InvalidJson(_))
            | (ImportError::Malformed(_), ImportError::Malformed(_)) => {}
            _ => assert_eq!(err, expected),
        }
        // Every message names the offending item when there is one.
        let message = err.to_string();
        for id in ["nights", "age", "car", "housing", "notes"] {
            if format!("{expected:?}").contains(&format!("{id:?}")) {
                assert!(message.contains(id), "{message:?} does not name {id}");
            }
        }
    }
    // The unsupported type is named in the message.
    let err = parse_questionnaire(&with(base(), |q| q["item"][2]["type"] = json!("date"))).unwrap_err();
    assert!(err.to_string().contains("\"date\""), "{err}");
    // Exactly 500 questions is fine.
    let ok = with(base(), |q| {
        q["item"] = json!((0..500).map(|i| json!({"linkId": format!("q{i}"), "type": "boolean"})).collect::<Vec<_>>());
    });
    assert_eq!(parse_questionnaire(&ok).unwrap().form.items.len(), 500);
}

// ----------------------------------------------------------------------------------------
// QuestionnaireResponse and Observation

struct Scored {
    form: FormDefinition,
    answers: FormAnswers,
    complete: bool,
    total: Option<i64>,
    band: Option<(&'static str, &'static str)>,
    subscores: Vec<(String, i64)>,
}

fn scored(form: FormDefinition, raw: &[(&str, i64)]) -> Scored {
    let raw: BTreeMap<String, RawAnswer> = raw.iter().map(|(k, v)| ((*k).to_owned(), RawAnswer::Number(*v))).collect();
    let answers = form.check(&raw).unwrap();
    let complete = form.missing(&answers).is_empty();
    let (total, band, subscores) = match (complete, form.instrument) {
        (true, Some(i)) => {
            let s = score(i, &form.scoring_answers(&answers), &ScoringContext::default()).unwrap();
            (s.total, Some((s.band, s.band_label)), s.subscores.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect())
        }
        _ => (None, None, Vec::new()),
    };
    Scored { form, answers, complete, total, band, subscores }
}

fn facts(s: &Scored, author: Author) -> ResponseFacts<'_> {
    ResponseFacts {
        id: RESPONSE,
        client: CLIENT,
        episode: Some(Uuid::from_u128(3)),
        form: &s.form,
        answers: &s.answers,
        complete: s.complete,
        authored: datetime!(2026-09-21 12:00:00 UTC),
        author,
        total: s.total,
        band: s.band,
        subscores: &s.subscores,
    }
}

#[test]
fn a_scored_phq9_gives_a_valid_response_and_a_loinc_observation() {
    let s = scored(
        FormDefinition::builtin(Instrument::Phq9),
        &[("1", 2), ("2", 3), ("3", 1), ("4", 2), ("5", 1), ("6", 2), ("7", 1), ("8", 0), ("9", 1)],
    );
    assert_eq!(s.total, Some(13));
    let f = facts(&s, Author::Staff(STAFF));

    let qr = to_json(&questionnaire_response(&f));
    assert_valid(&qr);
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("questionnaire_response_phq9", qr);
    });
    assert_eq!(qr["questionnaire"], "https://stepdown.example.org/fhir/Questionnaire/phq-9|1");
    assert_eq!(qr["status"], "completed");
    assert_eq!(qr["subject"]["reference"], format!("Patient/{CLIENT}"));
    assert_eq!(qr["author"]["reference"], format!("Practitioner/{STAFF}"));
    assert_eq!(qr["authored"], "2026-09-21T12:00:00Z");
    assert!(qr.get("encounter").is_none());
    assert_eq!(labels(&qr), ["R", "ETH", "42CFRPart2"]);
    assert_eq!(qr["item"].as_array().unwrap().len(), 9);
    let answer = &qr["item"][1]["answer"][0]["valueCoding"];
    assert_eq!(answer["code"], "3");
    assert_eq!(answer["display"], "3");
    assert_eq!(answer["system"], "https://stepdown.example.org/fhir/Questionnaire/phq-9/options");

    // The response reads back to the same answers.
    let incoming = parse_questionnaire_response(&qr.to_string()).unwrap();
    assert_eq!(incoming.questionnaire, "https://stepdown.example.org/fhir/Questionnaire/phq-9|1");
    assert_eq!(incoming.authored.as_deref(), Some("2026-09-21T12:00:00Z"));
    assert_eq!(s.form.check(&incoming.answers).unwrap(), s.answers);

    let obs = to_json(&score_observation(&f, OBSERVATION).unwrap());
    assert_valid(&obs);
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("observation_phq9", obs);
    });
    assert_eq!(obs["status"], "final");
    assert_eq!(obs["category"][0]["coding"][0]["code"], "survey");
    assert_eq!(obs["code"]["coding"][0]["system"], "http://loinc.org");
    assert_eq!(obs["code"]["coding"][0]["code"], "44261-6");
    assert_eq!(obs["valueInteger"], 13);
    assert_eq!(obs["interpretation"][0]["coding"][0]["system"], "https://stepdown.example.org/fhir/CodeSystem/band");
    assert_eq!(obs["interpretation"][0]["coding"][0]["code"], "moderate");
    assert_eq!(obs["interpretation"][0]["text"], s.band.unwrap().1);
    assert_eq!(obs["derivedFrom"][0]["reference"], format!("QuestionnaireResponse/{RESPONSE}"));
    assert_eq!(obs["performer"][0]["reference"], format!("Practitioner/{STAFF}"));
    assert_eq!(obs["effectiveDateTime"], "2026-09-21T12:00:00Z");
    assert_eq!(labels(&obs), ["R", "ETH", "42CFRPart2"]);
    assert!(obs.get("component").is_none());
}

#[test]
fn a_bam_has_subscores_as_components_and_no_total() {
    let raw: Vec<(String, i64)> = (1..=17).map(|i| (i.to_string(), if i == 4 { 2 } else { 1 })).collect();
    let raw: Vec<(&str, i64)> = raw.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let s = scored(FormDefinition::builtin(Instrument::Bam), &raw);
    assert!(s.complete && s.total.is_none());
    let f = facts(&s, Author::Client);

    let qr = to_json(&questionnaire_response(&f));
    assert_valid(&qr);
    assert_eq!(qr["author"]["reference"], format!("Patient/{CLIENT}"));
    // Item 7 is a yes/no question: the coding says so.
    let seven = qr["item"].as_array().unwrap().iter().find(|i| i["linkId"] == "7").unwrap();
    assert_eq!(seven["answer"][0]["valueCoding"]["display"], "Yes");

    let obs = to_json(&score_observation(&f, OBSERVATION).unwrap());
    assert_valid(&obs);
    assert_eq!(obs["code"]["coding"][0]["system"], "https://stepdown.example.org/fhir/CodeSystem/instrument");
    assert_eq!(obs["code"]["coding"][0]["code"], "bam-r");
    assert!(obs.get("valueInteger").is_none());
    assert_eq!(obs["performer"][0]["reference"], format!("Patient/{CLIENT}"));
    let components: Vec<(&str, i64)> = obs["component"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["code"]["coding"][0]["code"].as_str().unwrap(), c["valueInteger"].as_i64().unwrap()))
        .collect();
    assert_eq!(components, [("bam-r-use", 4), ("bam-r-risk", 6), ("bam-r-protective", 6)]);
    assert_eq!(obs["interpretation"][0]["coding"][0]["code"], "attention");
}

#[test]
fn forms_without_loinc_totals_use_stepdown_codes() {
    let raw: Vec<(&str, i64)> = [
        "nausea",
        "tremor",
        "sweats",
        "anxiety",
        "agitation",
        "tactile",
        "auditory",
        "visual",
        "headache",
        "orientation",
    ]
    .iter()
    .map(|k| (*k, 1))
    .collect();
    let s = scored(FormDefinition::builtin(Instrument::CiwaAr), &raw);
    let obs = to_json(&score_observation(&facts(&s, Author::Staff(STAFF)), OBSERVATION).unwrap());
    assert_valid(&obs);
    assert_eq!(obs["code"]["coding"][0]["code"], "ciwa-ar-total");
    assert_eq!(obs["valueInteger"], 10);
}

#[test]
fn an_incomplete_form_is_in_progress_and_has_no_observation() {
    let s = scored(FormDefinition::builtin(Instrument::Phq9), &[("1", 1), ("2", 0), ("9", 0)]);
    assert!(!s.complete);
    let f = facts(&s, Author::Staff(STAFF));
    let qr = to_json(&questionnaire_response(&f));
    assert_valid(&qr);
    assert_eq!(qr["status"], "in-progress");
    assert_eq!(qr["item"].as_array().unwrap().len(), 3);
    assert!(score_observation(&f, OBSERVATION).is_none());
    // Nor is a complete form scored when the caller says it is incomplete.
    let full = scored(
        FormDefinition::builtin(Instrument::Phq9),
        &[("1", 0), ("2", 0), ("3", 0), ("4", 0), ("5", 0), ("6", 0), ("7", 0), ("8", 0), ("9", 0)],
    );
    assert!(
        score_observation(&ResponseFacts { complete: false, ..facts(&full, Author::Client) }, OBSERVATION).is_none()
    );
}

#[test]
fn an_unscored_imported_form_gives_a_valid_response_of_every_value_type() {
    let form = parse_questionnaire(&custom_form_json().to_string()).unwrap().form;
    let raw: BTreeMap<String, RawAnswer> = [
        ("nights", RawAnswer::Number(3)),
        ("car", RawAnswer::Bool(true)),
        ("notes", RawAnswer::Text("Lives with a sister.".into())),
        ("housing", RawAnswer::Number(2)),
        ("coded", RawAnswer::Number(5)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let answers = form.check(&raw).unwrap();
    let s = Scored {
        complete: form.missing(&answers).is_empty(),
        form,
        answers,
        total: None,
        band: None,
        subscores: Vec::new(),
    };
    assert!(s.complete);
    let f = facts(&s, Author::Staff(STAFF));
    let qr = to_json(&questionnaire_response(&f));
    assert_valid(&qr);
    assert_eq!(qr["questionnaire"], "https://center.example/fhir/Questionnaire/intake-extras|2026-01");
    let answer =
        |id: &str| qr["item"].as_array().unwrap().iter().find(|i| i["linkId"] == id).unwrap()["answer"][0].clone();
    assert_eq!(answer("nights"), json!({"valueInteger": 3}));
    assert_eq!(answer("car"), json!({"valueBoolean": true}));
    assert_eq!(answer("notes"), json!({"valueString": "Lives with a sister."}));
    assert_eq!(answer("housing")["valueCoding"]["display"], "Shelter");
    assert_eq!(answer("coded")["valueCoding"]["display"], "A");
    assert!(qr["item"].as_array().unwrap().iter().all(|i| i["linkId"] != "intro"), "display items take no answer");
    assert!(score_observation(&f, OBSERVATION).is_none());

    let back = parse_questionnaire_response(&qr.to_string()).unwrap();
    assert_eq!(s.form.check(&back.answers).unwrap(), s.answers);
    assert_eq!(s.answers.get("car"), Some(&AnswerValue::Bool(true)));
}

#[test]
fn authored_keeps_its_offset() {
    let s = scored(FormDefinition::builtin(Instrument::Gad7), &[("1", 1)]);
    let f = ResponseFacts { authored: datetime!(2026-03-08 01:30:05 -05:00), ..facts(&s, Author::Client) };
    let qr = to_json(&questionnaire_response(&f));
    assert_eq!(qr["authored"], "2026-03-08T01:30:05-05:00");
    assert_valid(&qr);
}

// ----------------------------------------------------------------------------------------
// Reading posted responses

fn response(items: Value) -> String {
    json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "https://center.example/fhir/Questionnaire/intake-extras|2026-01",
        "status": "completed",
        "authored": "2026-09-21T12:00:00Z",
        "item": items
    })
    .to_string()
}

#[test]
fn posted_responses_read_every_value_type_from_nested_items() {
    let json = response(json!([
        {"linkId": "g", "item": [
            {"linkId": "n", "answer": [{"valueInteger": 4}]},
            {"linkId": "b", "answer": [{"valueBoolean": false}]},
            {"linkId": "s", "answer": [{"valueString": "hello"}],
             "item": [{"linkId": "child", "answer": [{"valueInteger": 1}]}]},
            {"linkId": "unanswered"},
            {"linkId": "c1", "answer": [{"valueCoding": {"system": "x", "code": "LA6570-1",
                "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 2}]}}]},
            {"linkId": "c2", "answer": [{"valueCoding": {"system": "x", "code": "3"}}]},
            {"linkId": "c3", "answer": [{"valueCoding": {"code": "LA1"},
                "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 1.0}]}]},
            {"linkId": "parent", "answer": [{"valueBoolean": true,
                "item": [{"linkId": "under-answer", "answer": [{"valueString": "x"}]}]}]}
        ]}
    ]));
    let r = parse_questionnaire_response(&json).unwrap();
    assert_eq!(r.questionnaire, "https://center.example/fhir/Questionnaire/intake-extras|2026-01");
    assert_eq!(r.authored.as_deref(), Some("2026-09-21T12:00:00Z"));
    let expected: BTreeMap<String, RawAnswer> = [
        ("n", RawAnswer::Number(4)),
        ("b", RawAnswer::Bool(false)),
        ("s", RawAnswer::Text("hello".into())),
        ("child", RawAnswer::Number(1)),
        ("c1", RawAnswer::Number(2)),
        ("c2", RawAnswer::Number(3)),
        ("c3", RawAnswer::Number(1)),
        ("parent", RawAnswer::Bool(true)),
        ("under-answer", RawAnswer::Text("x".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(r.answers, expected);
}

#[test]
fn posted_responses_are_refused_with_the_item_named() {
    let no_q = json!({"resourceType": "QuestionnaireResponse", "status": "completed"}).to_string();
    let many: Vec<Value> = (0..501).map(|i| json!({"linkId": format!("q{i}")})).collect();
    let cases: Vec<(String, ResponseError)> = vec![
        ("[".into(), ResponseError::InvalidJson(String::new())),
        (
            json!({"resourceType": "Questionnaire"}).to_string(),
            ResponseError::NotAQuestionnaireResponse { found: "Questionnaire".into() },
        ),
        (response(json!({"linkId": "x"})), ResponseError::Malformed(String::new())),
        (no_q, ResponseError::MissingQuestionnaire),
        (response(json!(many)), ResponseError::TooManyItems),
        (response(json!([{"answer": [{"valueInteger": 1}]}])), ResponseError::MissingLinkId { position: 1 }),
        (
            response(
                json!([{"linkId": "a", "answer": [{"valueInteger": 1}]}, {"linkId": "a", "answer": [{"valueInteger": 2}]}]),
            ),
            ResponseError::DuplicateLinkId("a".into()),
        ),
        (
            response(json!([{"linkId": "a", "answer": [{"valueInteger": 1}, {"valueInteger": 2}]}])),
            ResponseError::MultipleAnswers { link_id: "a".into() },
        ),
        (response(json!([{"linkId": "a", "answer": [{}]}])), ResponseError::EmptyAnswer { link_id: "a".into() }),
        (
            response(json!([{"linkId": "a", "answer": [{"valueDate": "2026-01-01"}]}])),
            ResponseError::UnsupportedAnswer { link_id: "a".into(), kind: "valueDate".into() },
        ),
        (
            response(json!([{"linkId": "a", "answer": [{"valueDecimal": 1.5}]}])),
            ResponseError::UnsupportedAnswer { link_id: "a".into(), kind: "valueDecimal".into() },
        ),
        (
            response(json!([{"linkId": "a", "answer": [{"valueCoding": {"system": "x", "code": "LA6568-5"}}]}])),
            ResponseError::CodingWithoutScore { link_id: "a".into(), code: "LA6568-5".into() },
        ),
        (
            response(json!([{"linkId": "a", "answer": [{"valueInteger": 1.5}]}])),
            ResponseError::NonInteger { link_id: "a".into(), value: "1.5".into() },
        ),
        (
            response(json!([{"linkId": "a", "answer": [{"valueCoding": {"code": "x",
                "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 0.5}]}}]}])),
            ResponseError::NonInteger { link_id: "a".into(), value: "0.5".into() },
        ),
        (
            response(json!([{"linkId": "a", "answer": [{"valueBoolean": "yes"}]}])),
            ResponseError::Malformed(String::new()),
        ),
    ];
    for (input, expected) in cases {
        let err = parse_questionnaire_response(&input).expect_err(&format!("accepted; expected {expected:?}"));
        match (&err, &expected) {
            (ResponseError::InvalidJson(_), ResponseError::InvalidJson(_))
            | (ResponseError::Malformed(_), ResponseError::Malformed(_)) => {}
            _ => assert_eq!(err, expected),
        }
        if format!("{expected:?}").contains("link_id: \"a\"") {
            assert!(err.to_string().contains("\"a\""), "{err} does not name the item");
        }
    }
}
