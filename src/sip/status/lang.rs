//! The languages status explanations are written in, how one is chosen (`--lang`, else the
//! locale), and the shape of one language's texts ([`Words`], [`Texts`], [`Note`]). The texts
//! themselves are data, one module per language (`en`, `zh`, `vi`).

use std::fmt;

/// A language of the status explanations. Rule docs, JSON keys and rule names stay English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum Lang {
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
    Vi,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Zh, Lang::Vi];

    /// `en`, `zh` or `vi`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
            Lang::Vi => "vi",
        }
    }

    /// `en`, `zh` or `vi` (any case), as given to `--lang`.
    pub fn parse(s: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(s.trim()))
    }

    /// The language of a POSIX locale name: `zh_CN.UTF-8` (any `zh…`) gives Chinese, `vi_VN…`
    /// Vietnamese, anything else (`C`, `POSIX`, `en_US`, `fr_FR`) English.
    pub fn from_locale(locale: &str) -> Lang {
        let lang = locale
            .split(['_', '.', '@', '-'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match lang.as_str() {
            "zh" => Lang::Zh,
            "vi" => Lang::Vi,
            _ => Lang::En,
        }
    }

    /// The language of the locale given by `var` (POSIX precedence: the first of `LC_ALL`,
    /// `LC_MESSAGES`, `LANG` that is set and not empty).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|k| var(k))
            .find(|v| !v.is_empty())
            .map_or(Lang::En, |v| Lang::from_locale(&v))
    }

    /// The language of this process's locale environment.
    pub fn from_env() -> Lang {
        Lang::from_vars(|k| std::env::var(k).ok())
    }

    /// Every text of this language.
    pub(super) fn words(self) -> &'static Words {
        match self {
            Lang::En => &super::en::WORDS,
            Lang::Zh => &super::zh::WORDS,
            Lang::Vi => &super::vi::WORDS,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A registered code's texts in one language (English ones are in [`super::ALL`]).
#[derive(Debug, Clone, Copy)]
pub struct Texts {
    pub code: u16,
    pub meaning: &'static str,
    pub when: &'static str,
    pub action: &'static str,
}

/// `Texts` in one line of a table.
pub(super) const fn t(
    code: u16,
    meaning: &'static str,
    when: &'static str,
    action: &'static str,
) -> Texts {
    Texts {
        code,
        meaning,
        when,
        action,
    }
}

/// A curated note on a classic pair: what sets the two apart and which to use, sharper than
/// what the facts alone say. `a` < `b`.
#[derive(Debug, Clone, Copy)]
pub struct Note {
    pub a: u16,
    pub b: u16,
    pub difference: &'static str,
    pub which: &'static str,
}

/// Every text of one language but the per-code ones: labels, headings, the names of classes
/// and facts, and the phrases comparisons are built from. A struct, so that a language cannot
/// miss one.
#[derive(Debug)]
pub struct Words {
    /// Text-output labels of `explain CODE`: reference, treat as, meaning, seen when, action.
    pub labels: [&'static str; 5],
    /// Markdown headings of a code: description, when you see it, how to fix it.
    pub headings: [&'static str; 3],
    /// After "Treat as: 400 Bad Request".
    pub treat_as_note: &'static str,
    /// Title tails: "not a registered response code", "not a valid SIP status code".
    pub not_registered: &'static str,
    pub not_valid: &'static str,
    /// In place of a reason phrase: "(not registered)", "(not a valid SIP status code)".
    pub reason_unregistered: &'static str,
    pub reason_invalid: &'static str,
    /// Provisional … global failure, with the digit pattern.
    pub classes: [&'static str; 6],
    /// "provisional (the transaction goes on)", "final (it ends the transaction)".
    pub provisional: &'static str,
    pub final_: &'static str,
    /// Meaning, when, action of an unregistered code of each class.
    pub generic: [[&'static str; 3]; 6],
    /// Meaning, when, action of a number outside 100–699.
    pub invalid: [&'static str; 3],
    /// "Main difference", "When to use which".
    pub main_difference: &'static str,
    pub when_to_use: &'static str,
    /// "Sending (UAS or proxy)", "Handling (UAC or application)".
    pub sending: &'static str,
    pub handling: &'static str,
    /// "vs", as in the title of a comparison.
    pub vs: &'static str,
    /// "both", as in "both: final".
    pub both: &'static str,
    /// Aspect labels: class, scope, retry, sent by, acted on by, headers, cause, note.
    pub aspects: [&'static str; 8],
    /// One per [`super::facts::Scope`].
    pub scopes: [&'static str; 7],
    /// One per [`super::facts::Retry`].
    pub retries: [&'static str; 10],
    /// What a UAC or application does on receiving it, one per [`super::facts::Retry`].
    pub handle: [&'static str; 10],
    /// When a UAS or proxy sends it, one per [`super::facts::Scope`].
    pub send: [&'static str; 7],
    /// UAS, proxy, registrar, redirect server, gateway, the local SIP stack.
    pub senders: [&'static str; 6],
    /// UAC, proxy, user, operator.
    pub actors: [&'static str; 4],
    /// "Retry-After says when to try again", "Contact gives the address(es) to use",
    /// "neither Retry-After nor Contact matters".
    pub headers: [&'static str; 3],
    /// When every fact is the same: the difference is in the cause.
    pub same_facts: &'static str,
    /// After the handling of a 6xx that a later retry may still help: "do not try other
    /// locations".
    pub not_elsewhere: &'static str,
    /// "typically sent by ", before a list of senders.
    pub sent_by: &'static str,
    /// The list separator (", " or "、").
    pub comma: &'static str,
    /// Curated notes on classic pairs.
    pub notes: &'static [Note],
    /// Registered codes' texts (empty for English, whose texts are the registry's).
    pub codes: &'static [Texts],
    /// Titles of the generated pages: all codes; "SIP status codes".
    pub all_title: &'static str,
}
