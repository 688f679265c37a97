//! The one check every piece of submitted text passes before a handler sees it: no control
//! characters except tab and line breaks (which multi-line fields need; single-line fields
//! refuse those too, in `domain::text`). A NUL or an escape code has no place in a clinical
//! record: it corrupts exports and logs, and PostgreSQL cannot even store a NUL.

use std::borrow::Cow;

use serde_json::Value;

/// The first text value that holds a control character, named by its path (`note`,
/// `entries[2].reason`, `item[0].item[1].text`).
pub fn json_control_character(value: &Value) -> Option<String> {
    fn walk(value: &Value, path: &mut String) -> bool {
        match value {
            Value::String(s) => has_control(s),
            Value::Array(items) => items.iter().enumerate().any(|(i, v)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(v, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Object(map) => map.iter().any(|(k, v)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&field_name(k));
                let found = has_control(k) || walk(v, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
    let mut path = String::new();
    walk(value, &mut path).then(|| if path.is_empty() { "body".to_owned() } else { path })
}

/// The first form field whose name or value holds a control character.
pub fn form_control_character(fields: &[(String, String)]) -> Option<String> {
    fields.iter().find(|(k, v)| has_control(k) || has_control(v)).map(|(k, _)| field_name(k).into_owned())
}

/// A control character other than tab, line feed and carriage return (browsers send a
/// textarea's line breaks as CR LF).
pub fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// A field name as it can be shown back: a name that is itself junk is not echoed.
fn field_name(name: &str) -> Cow<'_, str> {
    if has_control(name) || name.chars().count() > 100 { Cow::Borrowed("(field name)") } else { Cow::Borrowed(name) }
}

const MESSAGE: &str = "must not contain control characters";

/// Refuses a JSON body in which any text holds a control character (a 422 naming the field).
pub fn check_json(value: &Value) -> Result<(), app::AppError> {
    json_control_character(value).map_or(Ok(()), refused)
}

/// Refuses a form in which any field holds a control character (a 422 naming the field).
pub fn check_form(fields: &[(String, String)]) -> Result<(), app::AppError> {
    form_control_character(fields).map_or(Ok(()), refused)
}

fn refused(field: String) -> Result<(), app::AppError> {
    Err(app::AppError::Invalid(vec![app::FieldError::new(field, MESSAGE)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_field_that_holds_a_control_character() {
        assert_eq!(json_control_character(&json!({"note": "fine\r\n\twith lines"})), None);
        assert_eq!(json_control_character(&json!({"note": "a\u{0}b"})).as_deref(), Some("note"));
        assert_eq!(
            json_control_character(&json!({"entries": [{"reason": "ok"}, {"reason": "esc\u{1b}[2J"}]})).as_deref(),
            Some("entries[1].reason")
        );
        assert_eq!(json_control_character(&json!({"a": {"b": ["\u{7f}"]}})).as_deref(), Some("a.b[0]"));
        assert_eq!(json_control_character(&json!("\u{85}")).as_deref(), Some("body"), "C1 controls too");
        assert_eq!(json_control_character(&json!({"x\u{0}": 1})).as_deref(), Some("(field name)"));
        assert_eq!(
            form_control_character(&[("csrf".into(), "t".into()), ("title".into(), "x\u{0}".into())]).as_deref(),
            Some("title")
        );
        assert!(!has_control("Zoë – naïve 😀"));
    }
}
