//! A form as Stepdown administers it: a built-in instrument, or a questionnaire a center
//! imported (FHIR `Questionnaire`), possibly carrying licensed wording and bound to a
//! built-in scorer. Checking answers against the form is here; scoring is in `instruments`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::instruments::{Answers, Instrument, items};

/// Canonical URLs of the built-in forms start with this.
pub const BUILTIN_BASE: &str = "https://stepdown.example.org/fhir/Questionnaire/";
/// The version of every built-in form; bump when an item list changes.
pub const BUILTIN_VERSION: &str = "1";
/// Longest free-text answer kept.
pub const MAX_TEXT: usize = 2000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerOption {
    pub value: i64,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemKind {
    Choice {
        options: Vec<AnswerOption>,
    },
    Integer {
        min: i64,
        max: i64,
    },
    Boolean,
    Text,
    /// Text shown between questions; never answered.
    Display,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormItem {
    pub link_id: String,
    pub text: String,
    pub kind: ItemKind,
    pub required: bool,
    /// For a scored form, the built-in item this question is scored as.
    pub scores_as: Option<String>,
}

/// One version of a form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormDefinition {
    pub url: String,
    pub version: String,
    pub title: String,
    /// The built-in scorer this form is bound to; `None` for an unscored form.
    pub instrument: Option<Instrument>,
    pub items: Vec<FormItem>,
}

/// An answer as it arrives (a form posts text; the API posts numbers, booleans or text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawAnswer {
    Number(i64),
    Bool(bool),
    Text(String),
}

/// A checked answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    Integer(i64),
    Bool(bool),
    Text(String),
}

/// Checked answers, by link id. Unanswered items are absent.
pub type FormAnswers = BTreeMap<String, AnswerValue>;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("item {0:?} is not part of this form")]
    UnknownItem(String),
    #[error("item {item:?} cannot be {value}")]
    OutOfRange { item: String, value: String },
    #[error("item {0:?} takes a number")]
    NotANumber(String),
    #[error("item {0:?} takes yes or no")]
    NotABoolean(String),
    #[error("item {0:?} is longer than {MAX_TEXT} characters")]
    TooLong(String),
    #[error("item {0:?} is display text and takes no answer")]
    NotAQuestion(String),
}

/// Why an imported questionnaire cannot be scored by the instrument its code names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error("{instrument} has {expected} questions; this questionnaire has {found}")]
    ItemCount { instrument: &'static str, expected: usize, found: usize },
    #[error("question {link_id:?} offers scores {found:?}, but {instrument} item {item} is scored {expected:?}")]
    Scores { instrument: &'static str, link_id: String, item: &'static str, expected: Vec<i64>, found: Vec<i64> },
}

impl FormDefinition {
    /// The built-in form of an instrument, with our own short labels.
    pub fn builtin(instrument: Instrument) -> Self {
        let items = items(instrument)
            .iter()
            .map(|i| {
                let yes_no = i.values == [0, 1];
                let options = i
                    .values
                    .iter()
                    .map(|v| AnswerOption {
                        value: *v,
                        label: match (yes_no, v) {
                            (true, 0) => "No".to_owned(),
                            (true, _) => "Yes".to_owned(),
                            _ => v.to_string(),
                        },
                    })
                    .collect();
                FormItem {
                    link_id: i.id.to_owned(),
                    text: i.label.to_owned(),
                    kind: ItemKind::Choice { options },
                    // (The C-SSRS timing question is skipped by `missing` unless question 6 is "yes".)
                    required: i.scored,
                    scores_as: Some(i.id.to_owned()),
                }
            })
            .collect();
        Self {
            url: format!("{BUILTIN_BASE}{}", instrument.code()),
            version: BUILTIN_VERSION.to_owned(),
            title: instrument.title().to_owned(),
            instrument: Some(instrument),
            items,
        }
    }

    pub fn is_builtin(&self) -> bool {
        self.url.starts_with(BUILTIN_BASE)
    }

    pub fn item(&self, link_id: &str) -> Option<&FormItem> {
        self.items.iter().find(|i| i.link_id == link_id)
    }

    /// Checks every answer against its item; unanswered items stay absent.
    pub fn check(&self, raw: &BTreeMap<String, RawAnswer>) -> Result<FormAnswers, FormError> {
        let mut out = FormAnswers::new();
        for (id, answer) in raw {
            let item = self.item(id).ok_or_else(|| FormError::UnknownItem(id.clone()))?;
            let value = check_one(item, answer)?;
            out.insert(id.clone(), value);
        }
        Ok(out)
    }

    /// Required questions without an answer.
    pub fn missing(&self, answers: &FormAnswers) -> Vec<String> {
        self.items
            .iter()
            .filter(|i| i.required && !answers.contains_key(&i.link_id))
            .filter(|i| !self.conditional_skip(i, answers))
            .map(|i| i.link_id.clone())
            .collect()
    }

    /// The C-SSRS timing question is asked only after a "yes" to question 6.
    fn conditional_skip(&self, item: &FormItem, answers: &FormAnswers) -> bool {
        self.instrument == Some(Instrument::CssrsScreener)
            && item.scores_as.as_deref() == Some("6_recent")
            && self.items.iter().find(|i| i.scores_as.as_deref() == Some("6")).and_then(|i| answers.get(&i.link_id))
                != Some(&AnswerValue::Integer(1))
    }

    /// The answers in the scorer's item ids (only for a bound form).
    pub fn scoring_answers(&self, answers: &FormAnswers) -> Answers {
        let mut out = Answers::new();
        for item in &self.items {
            if let (Some(as_id), Some(AnswerValue::Integer(v))) = (&item.scores_as, answers.get(&item.link_id)) {
                out.insert(as_id.clone(), *v);
            }
        }
        out
    }

    /// Binds an imported form to `instrument`'s scorer: by link id when every built-in item
    /// id appears, otherwise question by question in order. Every question's scores must be
    /// exactly the built-in item's, so a licensed wording is scored by the published rules.
    pub fn bind(&mut self, instrument: Instrument) -> Result<(), BindError> {
        let builtin = items(instrument);
        let questions: Vec<usize> =
            (0..self.items.len()).filter(|i| self.items[*i].kind != ItemKind::Display).collect();
        let by_id = builtin.iter().all(|b| self.items.iter().any(|i| i.link_id == b.id));
        let pairs: Vec<(usize, usize)> = if by_id {
            builtin
                .iter()
                .enumerate()
                .filter_map(|(bi, b)| self.items.iter().position(|i| i.link_id == b.id).map(|fi| (fi, bi)))
                .collect()
        } else {
            if questions.len() != builtin.len() {
                return Err(BindError::ItemCount {
                    instrument: instrument.code(),
                    expected: builtin.len(),
                    found: questions.len(),
                });
            }
            questions.iter().copied().zip(0..builtin.len()).collect()
        };
        for (fi, bi) in &pairs {
            let (item, b) = (&self.items[*fi], &builtin[*bi]);
            let found: BTreeSet<i64> = match &item.kind {
                ItemKind::Choice { options } => options.iter().map(|o| o.value).collect(),
                ItemKind::Integer { min, max } => (*min..=*max).collect(),
                ItemKind::Boolean => BTreeSet::from([0, 1]),
                ItemKind::Text | ItemKind::Display => BTreeSet::new(),
            };
            let expected: BTreeSet<i64> = b.values.iter().copied().collect();
            if found != expected {
                return Err(BindError::Scores {
                    instrument: instrument.code(),
                    link_id: item.link_id.clone(),
                    item: b.id,
                    expected: expected.into_iter().collect(),
                    found: found.into_iter().collect(),
                });
            }
        }
        for (fi, bi) in pairs {
            let b = &builtin[bi];
            let item = &mut self.items[fi];
            item.scores_as = Some(b.id.to_owned());
            item.required = b.scored;
            if item.kind == ItemKind::Boolean {
                item.kind = ItemKind::Choice {
                    options: vec![
                        AnswerOption { value: 0, label: "No".into() },
                        AnswerOption { value: 1, label: "Yes".into() },
                    ],
                };
            }
        }
        self.instrument = Some(instrument);
        Ok(())
    }
}

fn check_one(item: &FormItem, answer: &RawAnswer) -> Result<AnswerValue, FormError> {
    let id = || item.link_id.clone();
    let number = || match answer {
        RawAnswer::Number(n) => Ok(*n),
        RawAnswer::Text(t) => t.trim().parse::<i64>().map_err(|_| FormError::NotANumber(id())),
        RawAnswer::Bool(_) => Err(FormError::NotANumber(id())),
    };
    match &item.kind {
        ItemKind::Choice { options } => {
            let n = number()?;
            if options.iter().any(|o| o.value == n) {
                Ok(AnswerValue::Integer(n))
            } else {
                Err(FormError::OutOfRange { item: id(), value: n.to_string() })
            }
        }
        ItemKind::Integer { min, max } => {
            let n = number()?;
            if (*min..=*max).contains(&n) {
                Ok(AnswerValue::Integer(n))
            } else {
                Err(FormError::OutOfRange { item: id(), value: n.to_string() })
            }
        }
        ItemKind::Boolean => match answer {
            RawAnswer::Bool(b) => Ok(AnswerValue::Bool(*b)),
            RawAnswer::Text(t) if matches!(t.trim(), "true" | "yes") => Ok(AnswerValue::Bool(true)),
            RawAnswer::Text(t) if matches!(t.trim(), "false" | "no") => Ok(AnswerValue::Bool(false)),
            _ => Err(FormError::NotABoolean(id())),
        },
        ItemKind::Text => match answer {
            RawAnswer::Text(t) if t.chars().count() <= MAX_TEXT => Ok(AnswerValue::Text(t.clone())),
            RawAnswer::Text(_) => Err(FormError::TooLong(id())),
            RawAnswer::Number(n) => Ok(AnswerValue::Text(n.to_string())),
            RawAnswer::Bool(b) => Ok(AnswerValue::Text(b.to_string())),
        },
        ItemKind::Display => Err(FormError::NotAQuestion(id())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, i64)]) -> BTreeMap<String, RawAnswer> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), RawAnswer::Number(*v))).collect()
    }

    #[test]
    fn builtin_forms_accept_exactly_their_values() {
        let f = FormDefinition::builtin(Instrument::Phq9);
        assert_eq!(f.items.len(), 9);
        assert!(f.check(&raw(&[("1", 3)])).is_ok());
        assert_eq!(f.check(&raw(&[("1", 4)])), Err(FormError::OutOfRange { item: "1".into(), value: "4".into() }));
        assert_eq!(f.check(&raw(&[("10", 0)])), Err(FormError::UnknownItem("10".into())));
        let text: BTreeMap<_, _> = [("2".to_owned(), RawAnswer::Text("x".into()))].into();
        assert_eq!(f.check(&text), Err(FormError::NotANumber("2".into())));
    }

    #[test]
    fn missing_follows_the_cssrs_skip_rule() {
        let f = FormDefinition::builtin(Instrument::CssrsScreener);
        let a = f.check(&raw(&[("1", 0), ("2", 0), ("3", 0), ("4", 0), ("5", 0), ("6", 0)])).unwrap();
        assert!(f.missing(&a).is_empty());
        let b = f.check(&raw(&[("1", 0), ("2", 0), ("3", 0), ("4", 0), ("5", 0), ("6", 1)])).unwrap();
        assert_eq!(f.missing(&b), vec!["6_recent".to_owned()]);
    }

    fn imported(values: &[i64], n: usize) -> FormDefinition {
        FormDefinition {
            url: "https://center.example/q/phq".into(),
            version: "2024".into(),
            title: "Licensed PHQ-9".into(),
            instrument: None,
            items: (0..n)
                .map(|i| FormItem {
                    link_id: format!("/4425{i}-x"),
                    text: format!("Licensed wording {i}"),
                    kind: ItemKind::Choice {
                        options: values.iter().map(|v| AnswerOption { value: *v, label: v.to_string() }).collect(),
                    },
                    required: false,
                    scores_as: None,
                })
                .collect(),
        }
    }

    #[test]
    fn binding_maps_questions_in_order_and_checks_scores() {
        let mut f = imported(&[0, 1, 2, 3], 9);
        f.bind(Instrument::Phq9).unwrap();
        assert_eq!(f.items[8].scores_as.as_deref(), Some("9"));
        assert!(f.items.iter().all(|i| i.required));
        let a = f.check(&raw(&[("/44258-x", 2)])).unwrap();
        assert_eq!(f.scoring_answers(&a).get("9"), Some(&2));

        assert!(matches!(imported(&[0, 1, 2, 3], 8).bind(Instrument::Phq9), Err(BindError::ItemCount { .. })));
        assert!(matches!(imported(&[0, 1, 2], 9).bind(Instrument::Phq9), Err(BindError::Scores { .. })));
    }
}
