//! Search folding: case and diacritics fold away, so "muller" finds "Müller" and "lopez"
//! "López". Letters that are not a base letter plus marks get their usual Latin spelling
//! (ß → ss, ø → o, ł → l…); other scripts are only lower-cased.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// `text` lower-cased, decomposed, without combining marks, with the letters below spelled out.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'ß' | 'ẞ' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ø' | 'Ø' => out.push('o'),
            'ł' | 'Ł' => out.push('l'),
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            'þ' | 'Þ' => out.push_str("th"),
            'ı' => out.push('i'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The words of `text` as search sees them: folded, split at anything but letters, digits and
/// apostrophes ("Rossi-Neri" gives "rossi" and "neri"), sorted, without repeats.
pub fn words(text: &str) -> Vec<String> {
    let folded = fold(text);
    let mut words: Vec<String> = folded
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diacritics_and_case_fold_away() {
        assert_eq!(fold("Müller"), "muller");
        assert_eq!(fold("LÓPEZ"), "lopez");
        assert_eq!(
            fold("Çelik Ørsted Łukasz Straße Dvořák"),
            "celik orsted lukasz strasse dvorak"
        );
        assert_eq!(fold("Ægir Œuvre Þór"), "aegir oeuvre thor");
        assert_eq!(fold("Ελένη"), "ελενη");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn words_split_fold_and_dedup() {
        assert_eq!(words("Anna Rossi-Neri"), ["anna", "neri", "rossi"]);
        assert_eq!(words("O'Brien, Seán  seán"), ["o'brien", "sean"]);
        assert!(words(" -- ").is_empty());
    }
}
