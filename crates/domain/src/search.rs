//! Typo-tolerant name search: names are folded to plain lowercase letters and cut into
//! trigrams; a query matches a name by the share of trigrams they have in common. The store
//! indexes the trigrams, this module decides what they are and how close is close enough.

use std::collections::BTreeSet;

/// Folds a name for comparison: lowercase, common accents removed, anything that is not a
/// letter or digit becomes a single space.
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut space = true;
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
            'ç' | 'č' | 'ć' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
            'ñ' | 'ń' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
            'ý' | 'ÿ' => 'y',
            'š' | 'ś' => 's',
            'ž' | 'ź' | 'ż' => 'z',
            'ł' => 'l',
            c => c,
        };
        if c.is_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    out.trim_end().to_owned()
}

/// The trigrams of each word of a folded name, padded so word starts and ends count.
pub fn trigrams(name: &str) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for word in fold(name).split_whitespace() {
        let padded: Vec<char> = format!("  {word} ").chars().collect();
        for w in padded.windows(3) {
            set.insert(w.iter().collect());
        }
    }
    set
}

/// How alike a query is to a name, 0.0–1.0: shared trigrams over the query's trigrams, so a
/// query for a first name alone still finds "first last".
pub fn similarity(query: &BTreeSet<String>, name: &BTreeSet<String>) -> f64 {
    if query.is_empty() {
        return 0.0;
    }
    let shared = query.intersection(name).count();
    shared as f64 / query.len() as f64
}

/// Below this a name is not shown as a match.
pub const MATCH_THRESHOLD: f64 = 0.5;

/// Digits only, for comparing phone numbers however they were typed. A leading North American
/// country code is dropped, so `+1 312 555 0142` and `312-555-0142` compare equal.
pub fn phone_digits(raw: &str) -> String {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix('1') {
        Some(rest) if digits.len() == 11 => rest.to_owned(),
        _ => digits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(fold("  José  O'Brien-Núñez "), "jose o brien nunez");
        assert_eq!(fold("ÅSA"), "asa");
    }

    #[test]
    fn typos_still_match_and_strangers_do_not() {
        let name = trigrams("Catherine Johnson");
        for q in ["Catherine Johnson", "Katherine Johnson", "Catherin Jonson", "johnson", "Cath Johns"] {
            assert!(similarity(&trigrams(q), &name) >= MATCH_THRESHOLD, "{q}: {}", similarity(&trigrams(q), &name));
        }
        for q in ["Robert Smith", "Xi", "Maria Gonzalez"] {
            assert!(similarity(&trigrams(q), &name) < MATCH_THRESHOLD, "{q}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(phone_digits("(555) 010-2233"), "5550102233");
        assert_eq!(phone_digits("+1 312 555 0142"), phone_digits("312-555-0142"));
        assert_eq!(phone_digits("44 20 7946 0958"), "442079460958", "other country codes stay");
    }
}
