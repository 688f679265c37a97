//! Forms as R4 `Questionnaire`s: the ones we serve (built-in instruments and imported forms),
//! and the import of a center's own `Questionnaire` (e.g. licensed wording from LOINC / NLM
//! forms) into a [`FormDefinition`].
//!
//! Import must never accept a form whose answers we could not store or score faithfully: every
//! choice option needs an integer score, every question a type we can check, and anything
//! else is refused with the offending `linkId` named, rather than silently dropped.

use std::collections::BTreeSet;

use domain::forms::{AnswerOption, FormDefinition, FormItem, ItemKind, MAX_TEXT};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::datatypes::{Coding, Extension, LOINC};

/// Score of an answer option (R4 core extension, on the option or on its coding).
pub const ORDINAL_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";
/// Score of an answer option as R5 and some form builders write it.
pub const ITEM_WEIGHT: &str = "http://hl7.org/fhir/StructureDefinition/itemWeight";
pub const MIN_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
pub const MAX_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";
/// Most questions an imported form may have.
pub const MAX_ITEMS: usize = 500;
/// The range of an imported integer question without minValue/maxValue.
pub const DEFAULT_INTEGER_RANGE: (i64, i64) = (0, 1000);

/// The code system of a form's answer options: the code is the option's score.
pub fn option_system(form_url: &str) -> String {
    format!("{form_url}/options")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuestionnaireStatus {
    Active,
    Retired,
}

impl QuestionnaireStatus {
    pub const fn code(self) -> &'static str {
        match self {
            QuestionnaireStatus::Active => "active",
            QuestionnaireStatus::Retired => "retired",
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Questionnaire {
    pub resource_type: &'static str,
    pub id: String,
    pub url: String,
    pub version: String,
    pub title: String,
    pub status: &'static str,
    pub subject_type: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<Coding>,
    pub item: Vec<QuestionnaireItem>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct QuestionnaireItem {
    /// minValue / maxValue of an integer question.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    pub link_id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Absent on display items (FHIR forbids it there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answer_option: Vec<QuestionnaireAnswerOption>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct QuestionnaireAnswerOption {
    /// The option's score as `ordinalValue`.
    pub extension: Vec<Extension>,
    pub value_coding: Coding,
}

/// The coding of one answer option of a form (also used for answers in responses).
pub(crate) fn option_coding(form_url: &str, option: &AnswerOption) -> Coding {
    Coding::owned(option_system(form_url), option.value.to_string(), Some(option.label.clone()))
}

/// A form as an R4 `Questionnaire`; `id` is the server's id for this version.
pub fn questionnaire(form: &FormDefinition, id: &str, status: QuestionnaireStatus) -> Questionnaire {
    let code = form
        .instrument
        .and_then(|i| i.loinc().0)
        // No display: ours would not be LOINC's name for the panel.
        .map(|panel| Coding::owned(LOINC, panel, None::<String>))
        .into_iter()
        .collect();
    Questionnaire {
        resource_type: "Questionnaire",
        id: id.to_owned(),
        url: form.url.clone(),
        version: form.version.clone(),
        title: form.title.clone(),
        status: status.code(),
        subject_type: vec!["Patient"],
        code,
        item: form.items.iter().map(|i| item(&form.url, i)).collect(),
    }
}

fn item(form_url: &str, i: &FormItem) -> QuestionnaireItem {
    let mut out = QuestionnaireItem {
        extension: Vec::new(),
        link_id: i.link_id.clone(),
        text: i.text.clone(),
        kind: "display",
        required: Some(i.required),
        max_length: None,
        answer_option: Vec::new(),
    };
    match &i.kind {
        ItemKind::Choice { options } => {
            out.kind = "choice";
            out.answer_option = options
                .iter()
                .map(|o| QuestionnaireAnswerOption {
                    extension: vec![Extension::decimal(ORDINAL_VALUE, o.value)],
                    value_coding: option_coding(form_url, o),
                })
                .collect();
        }
        ItemKind::Integer { min, max } => {
            out.kind = "integer";
            out.extension = vec![Extension::integer(MIN_VALUE, *min), Extension::integer(MAX_VALUE, *max)];
        }
        ItemKind::Boolean => out.kind = "boolean",
        ItemKind::Text => {
            out.kind = "string";
            out.max_length = Some(MAX_TEXT);
        }
        ItemKind::Display => out.required = None,
    }
    out
}

// ---------------------------------------------------------------------------------------
// Import

/// A center's questionnaire, read into a form (unscored until bound to an instrument).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedQuestionnaire {
    /// `instrument` and every `scores_as` are `None`.
    pub form: FormDefinition,
    /// Codes of `Questionnaire.code` in LOINC, to suggest the instrument to bind to.
    pub loinc_codes: Vec<String>,
    /// `Questionnaire.status` as given (`unknown` when absent).
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("not valid JSON: {0}")]
    InvalidJson(String),
    #[error("expected a Questionnaire, found {found:?}")]
    NotAQuestionnaire { found: String },
    #[error("the Questionnaire is malformed: {0}")]
    Malformed(String),
    #[error("the Questionnaire has no url; responses must name the form they answer")]
    MissingUrl,
    #[error("the Questionnaire has no version; responses are bound to one version of a form")]
    MissingVersion,
    #[error("the Questionnaire's url and version may not contain \"|\"")]
    BarInCanonical,
    #[error("the title is longer than {MAX_TEXT} characters")]
    TitleTooLong,
    #[error("the Questionnaire has no questions")]
    NoQuestions,
    #[error("the Questionnaire has more than {MAX_ITEMS} items ({found})")]
    TooManyItems { found: usize },
    #[error("item number {position} has no linkId")]
    MissingLinkId { position: usize },
    #[error("item {link_id:?} has no type")]
    MissingType { link_id: String },
    #[error("linkId {0:?} is used more than once")]
    DuplicateLinkId(String),
    #[error(
        "item {link_id:?} has type {kind:?}, which Stepdown cannot record (supported: choice, integer, boolean, string, text, display, group)"
    )]
    UnsupportedType { link_id: String, kind: String },
    #[error("question {link_id:?} repeats (takes several answers); Stepdown records one answer per question")]
    Repeating { link_id: String },
    #[error("choice question {link_id:?} has no answerOption (answerValueSet is not supported)")]
    NoOptions { link_id: String },
    #[error(
        "question {link_id:?} has an answer option of type {kind:?} (supported: valueInteger, valueCoding, valueString)"
    )]
    UnsupportedOption { link_id: String, kind: String },
    #[error("question {link_id:?} has option {option:?} without a score (ordinalValue, itemWeight or an integer code)")]
    OptionWithoutScore { link_id: String, option: String },
    #[error("question {link_id:?} has score {value}, which is not a whole number")]
    NonIntegerScore { link_id: String, value: String },
    #[error("question {link_id:?} has two options scored {value}; the answers could not be told apart")]
    DuplicateScore { link_id: String, value: i64 },
    #[error("integer question {link_id:?} has a bad range: {detail}")]
    InvalidRange { link_id: String, detail: String },
    #[error("the text of item {link_id:?} (or of one of its options) is longer than {MAX_TEXT} characters")]
    TextTooLong { link_id: String },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QIn {
    url: Option<String>,
    version: Option<String>,
    title: Option<String>,
    name: Option<String>,
    status: Option<String>,
    #[serde(default)]
    code: Vec<CodingIn>,
    #[serde(default)]
    item: Vec<ItemIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CodingIn {
    pub(crate) system: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) display: Option<String>,
    #[serde(default)]
    pub(crate) extension: Vec<ExtIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExtIn {
    #[serde(default)]
    pub(crate) url: String,
    pub(crate) value_decimal: Option<Number>,
    pub(crate) value_integer: Option<Number>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemIn {
    link_id: Option<String>,
    text: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    repeats: bool,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    enable_when: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    extension: Vec<ExtIn>,
    #[serde(default)]
    answer_option: Vec<OptionIn>,
    #[serde(default)]
    item: Vec<ItemIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionIn {
    #[serde(default)]
    extension: Vec<ExtIn>,
    /// The option's value[x], whichever it is.
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// A JSON number that is a whole number (`2` or `2.0`).
pub(crate) fn whole(n: &Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        let f = n.as_f64()?;
        // The cast is exact: f is whole and well inside i64's range.
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    })
}

/// The score an extension list gives (ordinalValue, then itemWeight), if any.
/// `Err(text)` when the score is not a whole number.
pub(crate) fn extension_score(extensions: &[ExtIn]) -> Option<Result<i64, String>> {
    [ORDINAL_VALUE, ITEM_WEIGHT].iter().find_map(|url| {
        let e = extensions.iter().find(|e| e.url == *url)?;
        let n = e.value_decimal.as_ref().or(e.value_integer.as_ref())?;
        Some(whole(n).ok_or_else(|| n.to_string()))
    })
}

/// The score of a coded answer: ordinalValue/itemWeight on `outer` (the answer option), then
/// on the coding, then a code that is an integer.
pub(crate) fn coding_score(outer: &[ExtIn], coding: &CodingIn) -> Option<Result<i64, String>> {
    extension_score(outer)
        .or_else(|| extension_score(&coding.extension))
        .or_else(|| coding.code.as_deref().and_then(|c| c.trim().parse::<i64>().ok()).map(Ok))
}

/// Reads a center's `Questionnaire` into an unscored form.
pub fn parse_questionnaire(json: &str) -> Result<ImportedQuestionnaire, ImportError> {
    let value: Value = serde_json::from_str(json).map_err(|e| ImportError::InvalidJson(e.to_string()))?;
    let found = value.get("resourceType").and_then(Value::as_str).unwrap_or("no resourceType");
    if found != "Questionnaire" {
        return Err(ImportError::NotAQuestionnaire { found: found.to_owned() });
    }
    let q: QIn = serde_json::from_value(value).map_err(|e| ImportError::Malformed(e.to_string()))?;
    let url = q.url.filter(|u| !u.trim().is_empty()).ok_or(ImportError::MissingUrl)?;
    let version = q.version.filter(|v| !v.trim().is_empty()).ok_or(ImportError::MissingVersion)?;
    if url.contains('|') || version.contains('|') {
        return Err(ImportError::BarInCanonical);
    }
    let title = [q.title, q.name].into_iter().flatten().find(|t| !t.trim().is_empty()).unwrap_or_else(|| url.clone());
    if title.chars().count() > MAX_TEXT {
        return Err(ImportError::TitleTooLong);
    }

    let mut leaves = Vec::new();
    flatten(&q.item, &mut leaves);
    if leaves.len() > MAX_ITEMS {
        return Err(ImportError::TooManyItems { found: leaves.len() });
    }
    let mut seen = BTreeSet::new();
    let mut items = Vec::with_capacity(leaves.len());
    for (position, leaf) in leaves.into_iter().enumerate() {
        let link_id = leaf
            .link_id
            .clone()
            .filter(|l| !l.trim().is_empty())
            .ok_or(ImportError::MissingLinkId { position: position + 1 })?;
        if !seen.insert(link_id.clone()) {
            return Err(ImportError::DuplicateLinkId(link_id));
        }
        items.push(form_item(link_id, leaf)?);
    }
    if items.iter().all(|i| i.kind == ItemKind::Display) {
        return Err(ImportError::NoQuestions);
    }
    let loinc_codes =
        q.code.into_iter().filter(|c| c.system.as_deref() == Some(LOINC)).filter_map(|c| c.code).collect();
    Ok(ImportedQuestionnaire {
        form: FormDefinition { url, version, title, instrument: None, items },
        loinc_codes,
        status: q.status.unwrap_or_else(|| "unknown".to_owned()),
    })
}

/// SDC's marker of a value the form computes (e.g. the total score of a LOINC panel).
const CALCULATED: &str = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression";

/// Every item that is not a group, in document order (a question's own sub-items follow it).
/// Read-only and calculated items (the total a published form computes for itself) are left
/// out: Stepdown computes totals with its own scorer, and no one answers them.
fn flatten<'a>(items: &'a [ItemIn], out: &mut Vec<&'a ItemIn>) {
    for i in items {
        let computed = i.read_only || i.extension.iter().any(|e| e.url == CALCULATED);
        if i.kind.as_deref() != Some("group") && !computed {
            out.push(i);
        }
        flatten(&i.item, out);
    }
}

fn form_item(link_id: String, i: &ItemIn) -> Result<FormItem, ImportError> {
    let text = i.text.clone().unwrap_or_else(|| link_id.clone());
    if text.chars().count() > MAX_TEXT {
        return Err(ImportError::TextTooLong { link_id });
    }
    let Some(kind) = i.kind.as_deref() else { return Err(ImportError::MissingType { link_id }) };
    if i.repeats && kind != "display" {
        return Err(ImportError::Repeating { link_id });
    }
    let kind = match kind {
        "choice" => ItemKind::Choice { options: options(&link_id, &i.answer_option)? },
        "integer" => {
            let bound = |url: &str, default: i64| -> Result<i64, ImportError> {
                match i.extension.iter().find(|e| e.url == url).and_then(|e| e.value_integer.as_ref()) {
                    None => Ok(default),
                    Some(n) => whole(n).ok_or_else(|| ImportError::InvalidRange {
                        link_id: link_id.clone(),
                        detail: format!("{n} is not a whole number"),
                    }),
                }
            };
            let (min, max) = (bound(MIN_VALUE, DEFAULT_INTEGER_RANGE.0)?, bound(MAX_VALUE, DEFAULT_INTEGER_RANGE.1)?);
            if min > max {
                return Err(ImportError::InvalidRange { link_id, detail: format!("minValue {min} > maxValue {max}") });
            }
            ItemKind::Integer { min, max }
        }
        "boolean" => ItemKind::Boolean,
        "string" | "text" => ItemKind::Text,
        "display" => ItemKind::Display,
        other => return Err(ImportError::UnsupportedType { link_id, kind: other.to_owned() }),
    };
    // A conditional question (enableWhen) cannot be demanded unconditionally: we do not
    // evaluate enableWhen, so it is optional here.
    let required = kind != ItemKind::Display && i.required && i.enable_when.is_empty();
    Ok(FormItem { link_id, text, kind, required, scores_as: None })
}

fn options(link_id: &str, given: &[OptionIn]) -> Result<Vec<AnswerOption>, ImportError> {
    if given.is_empty() {
        return Err(ImportError::NoOptions { link_id: link_id.to_owned() });
    }
    let non_integer = |value: String| ImportError::NonIntegerScore { link_id: link_id.to_owned(), value };
    let mut out: Vec<AnswerOption> = Vec::with_capacity(given.len());
    for (position, o) in given.iter().enumerate() {
        let (value, label) = if let Some(v) = o.rest.get("valueInteger") {
            let n = v.as_number().ok_or_else(|| ImportError::Malformed(format!("{link_id}: valueInteger {v}")))?;
            let value = whole(n).ok_or_else(|| non_integer(n.to_string()))?;
            (value, value.to_string())
        } else if let Some(v) = o.rest.get("valueCoding") {
            let coding: CodingIn = serde_json::from_value(v.clone())
                .map_err(|e| ImportError::Malformed(format!("{link_id}: valueCoding: {e}")))?;
            let label = coding.display.clone().or_else(|| coding.code.clone()).unwrap_or_default();
            let value = coding_score(&o.extension, &coding)
                .ok_or_else(|| ImportError::OptionWithoutScore {
                    link_id: link_id.to_owned(),
                    option: if label.is_empty() { format!("number {}", position + 1) } else { label.clone() },
                })?
                .map_err(non_integer)?;
            (value, label)
        } else if let Some(v) = o.rest.get("valueString") {
            let label = v.as_str().ok_or_else(|| ImportError::Malformed(format!("{link_id}: valueString {v}")))?;
            // A plain list of strings is scored by position, as most paper forms number them.
            let value = extension_score(&o.extension).transpose().map_err(non_integer)?;
            (value.unwrap_or(i64::try_from(position).unwrap_or(i64::MAX)), label.to_owned())
        } else {
            let kind = o.rest.keys().find(|k| k.starts_with("value")).cloned().unwrap_or_else(|| "none".to_owned());
            return Err(ImportError::UnsupportedOption { link_id: link_id.to_owned(), kind });
        };
        if label.chars().count() > MAX_TEXT {
            return Err(ImportError::TextTooLong { link_id: link_id.to_owned() });
        }
        if out.iter().any(|p| p.value == value) {
            return Err(ImportError::DuplicateScore { link_id: link_id.to_owned(), value });
        }
        out.push(AnswerOption { value, label });
    }
    Ok(out)
}
