//! How a searched word is matched: by its stem, as a prefix.
//!
//! Both stores match each search term as a prefix of indexed words, so cutting a common
//! inflectional ending off a term makes it find the word's other forms: "аптечка" searches
//! `аптечк*`, which finds "аптечки" and "аптечками"; "generators" searches `generator*`.
//! This is a light stemmer on purpose: one ending, the longest that leaves a stem of at least
//! [`MIN_STEM`] letters, then a syllable whose vowel alternates between forms (Харків /
//! Харкова), and no rewriting of the stem, so the index needs no stemming at all (it stores
//! words as written) and a term never matches less than it did unstemmed.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::Region;

/// Changes whenever [`place_words`] would give other words for the same regions (new names,
/// new spellings): each store then writes the place words of the listings it holds again
/// when it opens, so older listings are found by them too.
pub const PLACE_WORDS_VERSION: i32 = 2;

/// What a search finds a listing by besides its own text: the names of the places it works
/// in (`Region::search_words`), so that "Одеса" finds a listing in Odesa oblast whose text
/// never names the city, and "Львів" one whose text only says "у Львові". Indexed with the
/// name and tags: where a listing works is as telling as what it calls itself.
pub fn place_words(regions: &[Region]) -> String {
    regions
        .iter()
        .map(Region::search_words)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text with the marks taken off Latin letters (`Zbiórka` → `Zbiorka`, `Oděsa` → `Odesa`),
/// as donors abroad often type words without them. This is what SQLite's FTS5 tokenizer
/// (`remove_diacritics 2`) does to every word it indexes and searches, so both stores find the
/// same: PostgreSQL's documents and every search's terms go through here. Only marks on Latin
/// letters go: in Ukrainian `й` and `ї` are letters of their own, not `и` and `і` with a mark.
/// Letters that are not a base letter and a mark (`ł`, `ø`, `ß`) stay, as in SQLite.
pub fn fold_diacritics(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    let mut folded = String::with_capacity(text.len());
    let mut after_latin = false;
    for c in text.nfd() {
        if is_combining_mark(c) {
            if !after_latin {
                folded.push(c);
            }
            continue;
        }
        after_latin = c.is_ascii_alphabetic();
        folded.push(c);
    }
    Cow::Owned(folded.nfc().collect())
}

/// Letters a stem keeps at least: shorter prefixes match too many unrelated words.
const MIN_STEM: usize = 4;

/// Ukrainian noun, adjective and verb endings, longest first.
const UKRAINIAN: &[&str] = &[
    "ння", "ами", "ями", "ові", "еві", "єві", "ого", "ому", "ими", "іми", "ати", "яти", "ити",
    "іти", "ють", "ять", "уть", "ах", "ях", "ам", "ям", "ом", "ем", "єм", "ів", "їв", "ою", "ею",
    "єю", "ий", "ій", "ої", "их", "іх", "им", "ім", "ти", "а", "я", "о", "е", "є", "у", "ю", "і",
    "ї", "и", "ь", "й",
];

/// English plural and verb endings, longest first.
const ENGLISH: &[&str] = &["ing", "ies", "es", "ed", "s", "y"];

/// The last syllable of a Ukrainian stem whose vowel alternates between a word's forms:
/// Харків / Харкова, Чернігів / Чернігова, Миколаїв / Миколаєва.
const ALTERNATING: &[&str] = &["ов", "ев", "єв"];

/// The part of a lower-cased word that a search matches as a prefix.
pub fn stem(word: &str) -> &str {
    let (endings, alternating) = match word.chars().last() {
        Some(c) if c.is_ascii_lowercase() => (ENGLISH, &[][..]),
        Some('а'..='я' | 'є' | 'і' | 'ї' | 'ґ') => (UKRAINIAN, ALTERNATING),
        _ => return word,
    };
    let long_enough =
        |stem: &&str| stem.chars().count() >= MIN_STEM && stem.chars().all(char::is_alphabetic);
    let stem = endings
        .iter()
        .filter_map(|ending| word.strip_suffix(ending))
        .find(long_enough)
        .unwrap_or(word);
    alternating
        .iter()
        .filter_map(|syllable| stem.strip_suffix(syllable))
        .find(long_enough)
        .unwrap_or(stem)
}

#[cfg(test)]
mod tests {
    use super::{fold_diacritics, stem};

    #[test]
    fn marks_come_off_latin_letters_only() {
        for (text, folded) in [
            ("Zbiórka na łódź", "Zbiorka na łodz"),
            (
                "Oděsa, Kijów, Crème, naïve, Ñandú",
                "Odesa, Kijow, Creme, naive, Nandu",
            ),
            // Already decomposed, as some keyboards send it.
            ("zbio\u{301}rka", "zbiorka"),
            ("Straße, øre", "Straße, øre"),
            ("Київ, Миколаїв, ґанок, їжа", "Київ, Миколаїв, ґанок, їжа"),
            // A Cyrillic letter sent decomposed comes back whole.
            ("Миколаі\u{308}в", "Миколаїв"),
            ("help 2022", "help 2022"),
        ] {
            assert_eq!(fold_diacritics(text), folded, "{text}");
        }
    }

    #[test]
    fn forms_of_a_word_share_a_stem() {
        for (forms, stemmed) in [
            (
                &["аптечка", "аптечки", "аптечку", "аптечками"][..],
                "аптечк",
            ),
            (&["генератор", "генератори", "генераторів"], "генератор"),
            (&["медичний", "медична", "медичні", "медичного"], "медичн"),
            (&["generator", "generators"], "generator"),
            (&["supply", "supplies"], "suppl"),
            // Place names whose vowel alternates: the nominative and the other cases meet.
            (&["харків", "харкова", "харкові"], "харк"),
            (&["чернігів", "чернігова", "чернігові"], "черніг"),
            (&["миколаїв", "миколаєва"], "микола"),
        ] {
            for form in forms {
                assert_eq!(stem(form), stemmed, "{form}");
                assert!(form.starts_with(stemmed), "a stem is a prefix: {form}");
            }
        }
    }

    #[test]
    fn short_words_and_codes_stay_whole() {
        // Cutting these would leave prefixes that match unrelated words.
        for word in [
            "ліки",
            "їжа",
            "львів",
            "київ",
            "help",
            "cars",
            "ua",
            "2022",
            "b2b",
            "x",
        ] {
            assert_eq!(stem(word), word);
        }
        assert_eq!(stem(""), "");
    }
}
