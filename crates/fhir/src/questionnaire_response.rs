//! Answers to a form as R4 `QuestionnaireResponse`s, and the reading of one posted to the API.
//!
//! Reading only extracts answers; checking them against the form is the domain's
//! (`FormDefinition::check`), so this module must never decide whether an answer is allowed.

use std::collections::BTreeMap;

use domain::forms::{AnswerValue, FormAnswers, FormDefinition, ItemKind, RawAnswer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::datatypes::{Coding, Extension, Meta, Reference, date_time, part2_labels};
use crate::questionnaire::{CodingIn, ExtIn, MAX_ITEMS, ORDINAL_VALUE, coding_score, option_coding, whole};

/// Who filled in the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Author {
    /// A staff member asked the questions or rated the client.
    Staff(Uuid),
    /// The client, alone (client mode).
    Client,
}

/// What the response and its score observation are built from.
#[derive(Clone, Copy, Debug)]
pub struct ResponseFacts<'a> {
    pub id: Uuid,
    pub client: Uuid,
    /// Not emitted: R4 has no element for an episode of care on either resource.
    pub episode: Option<Uuid>,
    pub form: &'a FormDefinition,
    pub answers: &'a FormAnswers,
    /// Every required question answered.
    pub complete: bool,
    pub authored: OffsetDateTime,
    pub author: Author,
    pub total: Option<i64>,
    /// (code, label) of the band the score falls in.
    pub band: Option<(&'a str, &'a str)>,
    pub subscores: &'a [(String, i64)],
}

impl ResponseFacts<'_> {
    /// The author as a reference (a practitioner, or the client as patient).
    pub(crate) fn author_reference(&self) -> Reference {
        match self.author {
            Author::Staff(id) => Reference::to(format!("Practitioner/{id}")),
            Author::Client => Reference::to(format!("Patient/{}", self.client)),
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct QuestionnaireResponse {
    pub resource_type: &'static str,
    pub id: String,
    pub meta: Meta,
    /// Canonical `url|version` of the form answered.
    pub questionnaire: String,
    pub status: &'static str,
    pub subject: Reference,
    pub authored: String,
    pub author: Reference,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub item: Vec<ResponseItem>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ResponseItem {
    pub link_id: String,
    pub text: String,
    pub answer: Vec<ResponseAnswer>,
}

/// One answer; exactly one value is set.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResponseAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_coding: Option<Coding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_integer: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_boolean: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_string: Option<String>,
}

/// A saved response as R4. Only answered questions appear, in the form's order.
pub fn questionnaire_response(facts: &ResponseFacts) -> QuestionnaireResponse {
    let form = facts.form;
    let item = form
        .items
        .iter()
        .filter_map(|i| {
            let value = facts.answers.get(&i.link_id)?;
            let answer = match (value, &i.kind) {
                (AnswerValue::Integer(n), ItemKind::Choice { options }) => {
                    let coding = match options.iter().find(|o| o.value == *n) {
                        Some(o) => option_coding(&form.url, o),
                        None => {
                            Coding::owned(crate::questionnaire::option_system(&form.url), n.to_string(), None::<String>)
                        }
                    };
                    // The score rides on the coding too, so a reader needs no Questionnaire.
                    let coding = Coding { extension: vec![Extension::decimal(ORDINAL_VALUE, *n)], ..coding };
                    ResponseAnswer { value_coding: Some(coding), ..Default::default() }
                }
                (AnswerValue::Integer(n), _) => ResponseAnswer { value_integer: Some(*n), ..Default::default() },
                (AnswerValue::Bool(b), _) => ResponseAnswer { value_boolean: Some(*b), ..Default::default() },
                (AnswerValue::Text(t), _) => ResponseAnswer { value_string: Some(t.clone()), ..Default::default() },
            };
            Some(ResponseItem { link_id: i.link_id.clone(), text: i.text.clone(), answer: vec![answer] })
        })
        .collect();
    QuestionnaireResponse {
        resource_type: "QuestionnaireResponse",
        id: facts.id.to_string(),
        meta: Meta { security: part2_labels() },
        questionnaire: format!("{}|{}", form.url, form.version),
        status: if facts.complete { "completed" } else { "in-progress" },
        subject: Reference::to(format!("Patient/{}", facts.client)),
        authored: date_time(facts.authored),
        author: facts.author_reference(),
        item,
    }
}

// ---------------------------------------------------------------------------------------
// Reading a response posted to the API

/// The answers of a posted `QuestionnaireResponse`, not yet checked against the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingResponse {
    /// `questionnaire` as given (normally `url|version`).
    pub questionnaire: String,
    pub answers: BTreeMap<String, RawAnswer>,
    pub authored: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error("not valid JSON: {0}")]
    InvalidJson(String),
    #[error("expected a QuestionnaireResponse, found {found:?}")]
    NotAQuestionnaireResponse { found: String },
    #[error("the QuestionnaireResponse is malformed: {0}")]
    Malformed(String),
    #[error("the QuestionnaireResponse does not name its questionnaire")]
    MissingQuestionnaire,
    #[error("the QuestionnaireResponse has more than {MAX_ITEMS} items")]
    TooManyItems,
    #[error("item number {position} has no linkId")]
    MissingLinkId { position: usize },
    #[error("linkId {0:?} appears more than once")]
    DuplicateLinkId(String),
    #[error("item {link_id:?} has more than one answer; Stepdown records one answer per question")]
    MultipleAnswers { link_id: String },
    #[error("an answer to item {link_id:?} has no value")]
    EmptyAnswer { link_id: String },
    #[error(
        "item {link_id:?} is answered with {kind}, which Stepdown does not take (valueInteger, valueBoolean, valueString, valueCoding)"
    )]
    UnsupportedAnswer { link_id: String, kind: String },
    #[error(
        "item {link_id:?} is answered with code {code:?}, which carries no score (ordinalValue or an integer code)"
    )]
    CodingWithoutScore { link_id: String, code: String },
    #[error("item {link_id:?} is answered with {value}, which is not a whole number")]
    NonInteger { link_id: String, value: String },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseIn {
    questionnaire: Option<String>,
    authored: Option<String>,
    #[serde(default)]
    item: Vec<ItemIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemIn {
    link_id: Option<String>,
    #[serde(default)]
    answer: Vec<AnswerIn>,
    #[serde(default)]
    item: Vec<ItemIn>,
}

#[derive(Deserialize)]
struct AnswerIn {
    #[serde(default)]
    extension: Vec<ExtIn>,
    #[serde(default)]
    item: Vec<ItemIn>,
    /// The answer's value[x], whichever it is.
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// Reads the answers of a posted `QuestionnaireResponse`, from nested items too.
pub fn parse_questionnaire_response(json: &str) -> Result<IncomingResponse, ResponseError> {
    let value: Value = serde_json::from_str(json).map_err(|e| ResponseError::InvalidJson(e.to_string()))?;
    let found = value.get("resourceType").and_then(Value::as_str).unwrap_or("no resourceType");
    if found != "QuestionnaireResponse" {
        return Err(ResponseError::NotAQuestionnaireResponse { found: found.to_owned() });
    }
    let r: ResponseIn = serde_json::from_value(value).map_err(|e| ResponseError::Malformed(e.to_string()))?;
    let questionnaire = r.questionnaire.filter(|q| !q.trim().is_empty()).ok_or(ResponseError::MissingQuestionnaire)?;
    let mut items = Vec::new();
    flatten(&r.item, &mut items);
    if items.len() > MAX_ITEMS {
        return Err(ResponseError::TooManyItems);
    }
    let mut answers = BTreeMap::new();
    for (position, item) in items.into_iter().enumerate() {
        let link_id = item
            .link_id
            .clone()
            .filter(|l| !l.trim().is_empty())
            .ok_or(ResponseError::MissingLinkId { position: position + 1 })?;
        let answer = match item.answer.as_slice() {
            [] => continue,
            [one] => read_answer(&link_id, one)?,
            _ => return Err(ResponseError::MultipleAnswers { link_id }),
        };
        if answers.insert(link_id.clone(), answer).is_some() {
            return Err(ResponseError::DuplicateLinkId(link_id));
        }
    }
    Ok(IncomingResponse { questionnaire, answers, authored: r.authored })
}

/// Every item (groups included, to be skipped for want of answers), in document order,
/// including those nested under other items and under answers.
fn flatten<'a>(items: &'a [ItemIn], out: &mut Vec<&'a ItemIn>) {
    for i in items {
        out.push(i);
        for a in &i.answer {
            flatten(&a.item, out);
        }
        flatten(&i.item, out);
    }
}

fn read_answer(link_id: &str, a: &AnswerIn) -> Result<RawAnswer, ResponseError> {
    let malformed = |what: &str, v: &Value| ResponseError::Malformed(format!("item {link_id:?}: {what} {v}"));
    let values: Vec<(&String, &Value)> = a.rest.iter().filter(|(k, _)| k.starts_with("value")).collect();
    let (kind, v) = match values.as_slice() {
        [] => return Err(ResponseError::EmptyAnswer { link_id: link_id.to_owned() }),
        [one] => *one,
        _ => return Err(ResponseError::Malformed(format!("item {link_id:?}: an answer has several values"))),
    };
    let non_integer = |value: String| ResponseError::NonInteger { link_id: link_id.to_owned(), value };
    match kind.as_str() {
        "valueInteger" => {
            let n = v.as_number().ok_or_else(|| malformed("valueInteger", v))?;
            Ok(RawAnswer::Number(whole(n).ok_or_else(|| non_integer(n.to_string()))?))
        }
        "valueBoolean" => Ok(RawAnswer::Bool(v.as_bool().ok_or_else(|| malformed("valueBoolean", v))?)),
        "valueString" => Ok(RawAnswer::Text(v.as_str().ok_or_else(|| malformed("valueString", v))?.to_owned())),
        "valueCoding" => {
            let coding: CodingIn = serde_json::from_value(v.clone())
                .map_err(|e| ResponseError::Malformed(format!("item {link_id:?}: valueCoding: {e}")))?;
            let score = coding_score(&a.extension, &coding).ok_or_else(|| ResponseError::CodingWithoutScore {
                link_id: link_id.to_owned(),
                code: coding.code.clone().unwrap_or_default(),
            })?;
            Ok(RawAnswer::Number(score.map_err(non_integer)?))
        }
        other => Err(ResponseError::UnsupportedAnswer { link_id: link_id.to_owned(), kind: other.to_owned() }),
    }
}
