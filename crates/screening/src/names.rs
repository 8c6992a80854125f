//! Names as the matcher compares them: transliterated to ASCII (diacritics, Cyrillic, Greek and
//! other scripts through `deunicode`), lower case, punctuation gone, "SURNAME, Given" read in
//! either order, and legal forms (Co. Ltd, Company Limited, LLC, OOO, ...) set apart, so that
//! what is left is what identifies the party.

/// Legal forms and their spelled-out variants: they say what kind of company a name is, not
/// which one.
const LEGAL_FORMS: &[&str] = &[
    "co",
    "company",
    "companies",
    "ltd",
    "limited",
    "llc",
    "llp",
    "lp",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "plc",
    "sa",
    "sarl",
    "sas",
    "srl",
    "spa",
    "gmbh",
    "ag",
    "kg",
    "bv",
    "nv",
    "ab",
    "oy",
    "as",
    "asa",
    "ooo",
    "oao",
    "zao",
    "pao",
    "jsc",
    "ojsc",
    "cjsc",
    "pjsc",
    "fzc",
    "fze",
    "fzco",
    "llc",
    "pte",
    "pty",
    "sdn",
    "bhd",
    "tbk",
    "sac",
    "sl",
    "cia",
    "kft",
    "doo",
    "dd",
    "ad",
    "eood",
    "ood",
    "sro",
    "as",
    "sp",
    "zoo",
];

/// Legal forms long enough to be misspelt, and recognised when they are ("coreoration").
const SPELLED_OUT: &[&str] = &["company", "limited", "corporation", "incorporated"];

fn is_legal_form(word: &str) -> bool {
    LEGAL_FORMS.contains(&word)
        || (word.len() >= 6
            && SPELLED_OUT
                .iter()
                .any(|form| strsim::jaro_winkler(word, form) >= 0.88))
}

/// One name, ready to compare: its tokens and the tokens glued together.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalName {
    /// The identifying tokens, in the order written (legal forms left out).
    pub tokens: Vec<String>,
    /// Every token run together: "al qaida" and "alqaida" meet here.
    pub joined: String,
    /// Written in Arabic or Hebrew script, whose writing leaves most vowels out: its tokens are
    /// compared by their consonants ([`skeleton`]).
    pub abjad: bool,
}

/// Whether `letter` is of the Arabic or the Hebrew script (their blocks and presentation forms).
fn is_abjad(letter: char) -> bool {
    matches!(u32::from(letter),
        0x0590..=0x05FF | 0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF
        | 0xFB1D..=0xFB4F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
}

/// A token's consonants, each run of one letter once: what a name written without vowels
/// ("mhmd", "hsn") shares with its spellings in Latin letters ("mohamed", "hassan").
/// `w` and `y` go too: in Arabic and Hebrew they mostly write long vowels ("mhmwd", "mahmoud").
pub fn skeleton(token: &str) -> String {
    let mut consonants = String::with_capacity(token.len());
    for letter in token.chars() {
        if matches!(letter, 'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'w') {
            continue;
        }
        if !consonants.ends_with(letter) {
            consonants.push(letter);
        }
    }
    consonants
}

/// Normalises a name for matching.
pub fn normalise(name: &str) -> NormalName {
    let ascii = deunicode::deunicode(name).to_lowercase();
    // "SURNAME, Given" and "Given SURNAME" give the same tokens; the order only decides which
    // token pairs are tried first, and the matcher aligns tokens in any order.
    let mut cleaned = String::with_capacity(ascii.len());
    for character in ascii.chars() {
        match character {
            'a'..='z' | '0'..='9' => cleaned.push(character),
            // O'Brien and OBrien are one name.
            '\'' | '`' => {}
            _ => cleaned.push(' '),
        }
    }
    // Initials run together ("S.A.", "L.L.C.") are one abbreviation: "sa", "llc".
    let mut words: Vec<String> = Vec::new();
    let mut run = String::new();
    for word in cleaned.split_whitespace() {
        if word.len() == 1 {
            run.push_str(word);
            continue;
        }
        if !run.is_empty() {
            words.push(std::mem::take(&mut run));
        }
        words.push(word.to_owned());
    }
    if !run.is_empty() {
        words.push(run);
    }
    let mut tokens: Vec<String> = words
        .iter()
        .filter(|word| !is_legal_form(word))
        .cloned()
        .collect();
    if tokens.is_empty() {
        // A name made only of legal forms keeps them: it is still a name.
        tokens = words;
    }
    if tokens.is_empty() {
        // Letters the transliteration does not know are compared as themselves, each written as
        // its code point: such a name still matches itself exactly.
        tokens = name
            .split_whitespace()
            .map(|word| {
                word.chars()
                    .filter(|c| c.is_alphanumeric())
                    .map(|c| format!("u{:x}", u32::from(c)))
                    .collect::<String>()
            })
            .filter(|token| !token.is_empty())
            .collect();
    }
    let joined = tokens.concat();
    NormalName {
        tokens,
        joined,
        abjad: name.chars().any(is_abjad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_diacritics_order_and_legal_forms_fold_away() {
        assert_eq!(
            normalise("NORIEGA, Manuel Antonio").tokens,
            ["noriega", "manuel", "antonio"]
        );
        assert_eq!(
            normalise("José Müller-Lüdenscheidt").tokens,
            ["jose", "muller", "ludenscheidt"]
        );
        assert_eq!(normalise("Владимир Путин").tokens, ["vladimir", "putin"]);
        assert_eq!(
            normalise("O'Brien Trading Co., Ltd.").tokens,
            ["obrien", "trading"]
        );
        assert_eq!(normalise("OOO Rosneft").tokens, ["rosneft"]);
        assert_eq!(normalise("AL-QAIDA").joined, "alqaida");
        assert_eq!(
            normalise("LLC").tokens,
            ["llc"],
            "a name of legal forms only keeps them"
        );
        let untransliterated = ('\u{370}'..='\u{1FFFF}')
            .find(|c| {
                c.is_alphanumeric()
                    && deunicode::deunicode_char(*c)
                        .is_none_or(|ascii| !ascii.chars().any(|a| a.is_ascii_alphanumeric()))
            })
            .expect("some letter has no transliteration");
        let code = format!("u{:x}", u32::from(untransliterated));
        assert_eq!(
            normalise(&format!(
                "{untransliterated}{untransliterated} {untransliterated}"
            ))
            .tokens,
            [format!("{code}{code}"), code],
            "letters without a transliteration are kept as code points"
        );
        assert!(normalise("... --").tokens.is_empty());
        let arabic = normalise("خالد محمود");
        assert!(arabic.abjad && !normalise("Khaled Mahmoud").abjad);
        assert_eq!(
            arabic
                .tokens
                .iter()
                .map(|t| skeleton(t))
                .collect::<Vec<_>>(),
            ["khld", "mhmd"]
        );
        assert_eq!(
            (skeleton("khaled"), skeleton("mahmoud"), skeleton("hassan")),
            ("khld".to_owned(), "mhmd".to_owned(), "hsn".to_owned())
        );
    }
}
