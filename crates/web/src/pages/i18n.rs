//! Languages of the web pages: one TOML file per language in `crates/web/locales/`, chosen by
//! the `lang` cookie, else by `Accept-Language`, else Ukrainian.
//!
//! To add a language: copy `locales/en.toml` to `locales/<code>.toml`, translate every value,
//! and add one line to [`LANGUAGES`]. The tests below fail until every key is translated and
//! every placeholder (`{0}`, `{1}`) is kept.

use std::collections::HashMap;
use std::sync::LazyLock;

/// (code, the language's own name, the locale file). The first is the default.
const LANGUAGES: &[(&str, &str, &str)] = &[
    ("uk", "Українська", include_str!("../../locales/uk.toml")),
    ("en", "English", include_str!("../../locales/en.toml")),
];

/// The reference locale: every other one must have exactly its keys.
const REFERENCE: &str = "en";

struct Locale {
    code: &'static str,
    name: &'static str,
    messages: HashMap<String, String>,
}

static LOCALES: LazyLock<Vec<Locale>> = LazyLock::new(|| {
    LANGUAGES
        .iter()
        .map(|(code, name, text)| Locale {
            code,
            name,
            messages: parse(code, text),
        })
        .collect()
});

/// Flattens a locale file (`[section] key = "…"`) into `section.key` → text. A broken file is
/// a build mistake caught by the tests; at run time it only means English text is shown.
fn parse(code: &str, text: &str) -> HashMap<String, String> {
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(lang = code, error = %e, "locale file is not valid TOML");
            return HashMap::new();
        }
    };
    let mut out = HashMap::new();
    flatten("", &table, &mut out);
    out
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(s) => {
                out.insert(full, s.clone());
            }
            toml::Value::Table(t) => flatten(&full, t, out),
            _ => {}
        }
    }
}

/// A language the pages can be shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang(usize);

impl Lang {
    pub fn default_lang() -> Self {
        Lang(0)
    }

    pub fn from_code(code: &str) -> Option<Self> {
        let code = code.trim();
        LANGUAGES
            .iter()
            .position(|(c, _, _)| c.eq_ignore_ascii_case(code))
            .map(Lang)
    }

    pub fn all() -> impl Iterator<Item = Lang> {
        (0..LANGUAGES.len()).map(Lang)
    }

    pub fn code(self) -> &'static str {
        LANGUAGES[self.0].0
    }

    pub fn name(self) -> &'static str {
        LANGUAGES[self.0].1
    }

    /// The best language for an `Accept-Language` header (`uk-UA,uk;q=0.9,en;q=0.8`).
    pub fn negotiate(accept_language: &str) -> Option<Self> {
        let mut best: Option<(f32, Lang)> = None;
        for part in accept_language.split(',').take(20) {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::from_code(primary)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    pub fn t(self) -> Translator {
        Translator { lang: self }
    }
}

/// Looks up texts in one language, falling back to English and then to the key itself, so a
/// missing text never breaks a page.
#[derive(Debug, Clone, Copy)]
pub struct Translator {
    pub lang: Lang,
}

impl Translator {
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn tr<'a>(&self, key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        let locales = &*LOCALES;
        let lookup = |i: usize| locales.get(i).and_then(|l| l.messages.get(key));
        let reference = LANGUAGES.iter().position(|(c, _, _)| *c == REFERENCE);
        lookup(self.lang.0)
            .or_else(|| reference.and_then(lookup))
            .map_or(key, String::as_str)
    }

    /// A text with `{0}` replaced.
    pub fn tr1(&self, key: &str, a: impl std::fmt::Display) -> String {
        self.tr(key).replace("{0}", &a.to_string())
    }

    /// A text with `{0}` and `{1}` replaced.
    pub fn tr2(&self, key: &str, a: impl std::fmt::Display, b: impl std::fmt::Display) -> String {
        self.tr(key)
            .replace("{0}", &a.to_string())
            .replace("{1}", &b.to_string())
    }

    /// Whether a key exists (for optional texts such as translated error codes).
    pub fn has(&self, key: &str) -> bool {
        LOCALES
            .get(self.lang.0)
            .is_some_and(|l| l.messages.contains_key(key))
    }

    pub fn category(&self, code: &str) -> &'static str {
        self.dynamic("category", code)
    }

    pub fn oblast(&self, code: &str) -> &'static str {
        self.dynamic("oblast", code)
    }

    /// A text named by a section and a code (`trust.level` + `verified`).
    pub fn named(&self, section: &str, code: &str) -> &'static str {
        self.dynamic(section, code)
    }

    /// A text whose key is built at run time (`category.medical`); the key's text lives as long
    /// as the locales (the whole program).
    fn dynamic(&self, section: &str, code: &str) -> &'static str {
        let key = format!("{section}.{code}");
        let locales: &'static Vec<Locale> = &LOCALES;
        let reference = LANGUAGES.iter().position(|(c, _, _)| *c == REFERENCE);
        locales
            .get(self.lang.0)
            .and_then(|l| l.messages.get(&key))
            .or_else(|| reference.and_then(|i| locales[i].messages.get(&key)))
            .map_or("", String::as_str)
    }

    /// The names of every other language, for the switcher.
    pub fn others(&self) -> Vec<(&'static str, &'static str)> {
        Lang::all()
            .filter(|l| *l != self.lang)
            .map(|l| (l.code(), l.name()))
            .collect()
    }

    pub fn locale_name(&self) -> &'static str {
        LOCALES.get(self.lang.0).map_or("", |l| l.name)
    }

    pub fn locale_code(&self) -> &'static str {
        LOCALES.get(self.lang.0).map_or("", |l| l.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn placeholders(s: &str) -> BTreeSet<&'static str> {
        ["{0}", "{1}"]
            .into_iter()
            .filter(|p| s.contains(p))
            .collect()
    }

    #[test]
    fn every_language_has_every_key_and_placeholder() {
        let reference = LOCALES.iter().find(|l| l.code == REFERENCE).unwrap();
        assert!(
            reference.messages.len() > 100,
            "the reference locale did not parse"
        );
        for locale in LOCALES.iter() {
            let keys: BTreeSet<_> = locale.messages.keys().collect();
            let wanted: BTreeSet<_> = reference.messages.keys().collect();
            let missing: Vec<_> = wanted.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&wanted).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", locale.code);
            assert!(
                extra.is_empty(),
                "{} has unknown keys {extra:?}",
                locale.code
            );
            for (key, text) in &locale.messages {
                assert!(!text.trim().is_empty(), "{}: {key} is empty", locale.code);
                assert_eq!(
                    placeholders(text),
                    placeholders(&reference.messages[key]),
                    "{}: {key} must keep the placeholders of {REFERENCE}",
                    locale.code
                );
            }
        }
    }

    /// Every key the templates and handlers look up by a literal exists.
    #[test]
    fn every_used_key_exists() {
        let reference = &LOCALES
            .iter()
            .find(|l| l.code == REFERENCE)
            .unwrap()
            .messages;
        let root = concat!(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["templates", "src/pages"] {
            for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
                files.push(entry.unwrap().path());
            }
        }
        let mut used = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for pattern in [".tr(\"", ".tr1(\"", ".tr2(\""] {
                for (i, _) in text.match_indices(pattern) {
                    let rest = &text[i + pattern.len()..];
                    let key = &rest[..rest.find('"').unwrap()];
                    used += 1;
                    assert!(
                        reference.contains_key(key),
                        "{} uses unknown key `{key}`",
                        file.display()
                    );
                }
            }
        }
        assert!(
            used > 100,
            "found only {used} uses; did the pattern change?"
        );
    }

    /// Every validation code the domain and the use cases give has a message in the pages'
    /// languages: without one the page shows the domain's English text.
    #[test]
    fn every_validation_code_has_a_message() {
        let reference = &LOCALES
            .iter()
            .find(|l| l.code == REFERENCE)
            .unwrap()
            .messages;
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut pending = vec![
            std::path::PathBuf::from(format!("{root}/domain/src")),
            std::path::PathBuf::from(format!("{root}/app/src")),
        ];
        let mut codes = std::collections::BTreeSet::new();
        while let Some(path) = pending.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).unwrap() {
                    pending.push(entry.unwrap().path());
                }
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // `add(field, "code", message)` and `ValidationErrors::single(field, "code", …)`.
            for pattern in ["add(", "single("] {
                for (i, _) in text.match_indices(pattern) {
                    let Some(code) = text[i + pattern.len()..].split(',').nth(1) else {
                        continue;
                    };
                    let code = code
                        .trim()
                        .strip_prefix('"')
                        .and_then(|c| c.strip_suffix('"'));
                    if let Some(code) =
                        code.filter(|c| c.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                    {
                        codes.insert(code.to_string());
                    }
                }
            }
        }
        assert!(
            codes.len() > 30,
            "found only {codes:?}; did the pattern change?"
        );
        for code in codes {
            assert!(
                reference.contains_key(&format!("error.{code}")),
                "no message for the validation code `{code}`"
            );
        }
    }

    #[test]
    fn categories_and_oblasts_are_named_in_every_language() {
        for lang in Lang::all() {
            for c in hromada_domain::Category::ALL {
                assert!(!lang.t().category(c.code()).is_empty(), "{c:?}");
            }
            for o in hromada_domain::Oblast::ALL {
                assert!(!lang.t().oblast(o.code()).is_empty(), "{o:?}");
            }
        }
    }

    #[test]
    fn accept_language() {
        assert_eq!(
            Lang::negotiate("en-GB,en;q=0.9,uk;q=0.8").unwrap().code(),
            "en"
        );
        assert_eq!(
            Lang::negotiate("de, uk-UA;q=0.5, en;q=0.4").unwrap().code(),
            "uk"
        );
        assert_eq!(Lang::negotiate("de,fr;q=0.5"), None);
        assert_eq!(Lang::negotiate("en;q=0"), None);
        assert_eq!(
            Lang::from_code("UK").unwrap().t().tr("lang.name"),
            "Українська"
        );
    }
}
