//! Field-level validation errors, collected rather than returned at the first problem, so a
//! form or API client can show every mistake at once.

use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one field. `field` is a path such as `donation_methods[0].iban`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    /// A stable machine-readable code, e.g. `too_long`, `invalid_iban`.
    pub code: &'static str,
    /// An English explanation for humans.
    pub message: String,
}

/// Every problem found in one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema, thiserror::Error)]
#[error("{} invalid field(s): {}", .errors.len(), self.summary())]
pub struct ValidationErrors {
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        let mut errors = Self::new();
        errors.add(field, code, message);
        errors
    }

    pub fn add(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.errors.push(FieldError {
            field: field.into(),
            code,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Merges the errors of a nested value, prefixing their field paths.
    pub fn nest(&mut self, prefix: &str, nested: ValidationErrors) {
        for e in nested.errors {
            let field = if e.field.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}.{}", e.field)
            };
            self.errors.push(FieldError { field, ..e });
        }
    }

    /// `Ok(value)` when nothing was found, the collected errors otherwise.
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    pub fn summary(&self) -> String {
        self.errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Checks a required text field: trimmed, not empty, at most `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.add(field, "required", "must not be empty");
        } else {
            self.max_len(field, value, max);
        }
    }

    /// Checks an optional text field's length.
    pub fn max_len(&mut self, field: &str, value: &str, max: usize) {
        let len = value.chars().count();
        if len > max {
            self.add(
                field,
                "too_long",
                format!("must be at most {max} characters (is {len})"),
            );
        }
    }

    /// Checks a list's length.
    pub fn max_items<T>(&mut self, field: &str, items: &[T], max: usize) {
        if items.len() > max {
            self.add(
                field,
                "too_many",
                format!("must have at most {max} entries (has {})", items.len()),
            );
        }
    }

    /// Refuses a time outside the years 1970–9999: nothing the directory lists happened or will
    /// happen outside them, and the stores keep four-digit years only.
    pub fn time(&mut self, field: &str, value: &crate::Timestamp) {
        use chrono::Datelike;
        self.year(field, value.year());
    }

    /// [`Self::time`] for a calendar date.
    pub fn date(&mut self, field: &str, value: &chrono::NaiveDate) {
        use chrono::Datelike;
        self.year(field, value.year());
    }

    fn year(&mut self, field: &str, year: i32) {
        if !(1970..=9999).contains(&year) {
            self.add(field, "out_of_range", "must be between 1970 and 9999");
        }
    }

    /// Refuses control characters (other than newlines and tabs) that have no place in text.
    pub fn no_control_chars(&mut self, field: &str, value: &str) {
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            self.add(
                field,
                "control_characters",
                "must not contain control characters",
            );
        }
    }
}

/// Trims surrounding white space; the form everything is stored in.
pub(crate) fn clean(value: &str) -> String {
    value.trim().to_string()
}

/// Checks a web link: absolute http(s) with a host, and nothing before it: in
/// `https://send.monobank.ua@evil.example/` the browser goes to evil.example.
pub(crate) fn check_web_url(
    errors: &mut ValidationErrors,
    field: &str,
    value: &str,
) -> Option<url::Url> {
    if value.chars().count() > 500 {
        errors.add(field, "too_long", "must be at most 500 characters");
        return None;
    }
    match url::Url::parse(value.trim()) {
        Ok(url) if !url.username().is_empty() || url.password().is_some() => {
            errors.add(
                field,
                "url_with_user",
                "must not contain a user name or password (a part ending in @ before the host)",
            );
            None
        }
        Ok(url) if (url.scheme() == "https" || url.scheme() == "http") && url.host().is_some() => {
            Some(url)
        }
        Ok(_) => {
            errors.add(
                field,
                "invalid_url",
                "must be an http:// or https:// address",
            );
            None
        }
        Err(_) => {
            errors.add(
                field,
                "invalid_url",
                "must be a full web address such as https://example.org",
            );
            None
        }
    }
}

/// Whether JSON text holds a NUL character, which it can only write as `\u0000` (a backslash
/// before that escapes the backslash instead). No text here may hold one: nobody types them,
/// and PostgreSQL cannot store them.
pub fn json_holds_nul(json: &[u8]) -> bool {
    json.windows(6).enumerate().any(|(at, w)| {
        w == b"\\u0000" && json[..at].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0
    })
}

/// JSON text with its NUL characters (`\u0000`) left out: a document fetched from elsewhere is
/// taken in part, and one stray NUL (in a profile's bio, say) must not cost the rest of it.
pub fn json_without_nul(json: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !json_holds_nul(json) {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = Vec::with_capacity(json.len());
    let mut at = 0;
    while at < json.len() {
        let escaped = out.iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1;
        if !escaped && json[at..].starts_with(b"\\u0000") {
            at += 6;
        } else {
            out.push(json[at]);
            at += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod nul_tests {
    use super::*;

    #[test]
    fn nul_escapes_are_found_and_left_out_but_escaped_backslashes_are_text() {
        let nul = br#"{"a": "x\u0000y", "b": "C:\\u0000"}"#;
        assert!(json_holds_nul(nul));
        assert_eq!(&*json_without_nul(nul), br#"{"a": "xy", "b": "C:\\u0000"}"#);
        let text = br#"{"b": "C:\\u0000"}"#;
        assert!(!json_holds_nul(text));
        assert!(matches!(
            json_without_nul(text),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
