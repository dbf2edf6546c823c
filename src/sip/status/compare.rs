//! Two status codes side by side (`sipflow explain A B`): the main difference and when to use
//! which, derived from each code's [`Facts`] in the reader's language, sharpened by a curated
//! [`Note`] for the classic pairs. Rendering is in [`super::render`].

use super::facts::{Facts, Retry, Scope, bits};
use super::lang::{Lang, Note, Words};
use super::{Explanation, explain_in};

/// One aspect of the difference: its label, and what it is for each code (`same` when the two
/// say the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aspect {
    /// An English identifier, for JSON.
    pub id: &'static str,
    pub label: &'static str,
    pub a: String,
    pub b: String,
}

impl Aspect {
    pub fn same(&self) -> bool {
        self.a == self.b
    }
}

/// A comparison of two codes in one language.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub lang: Lang,
    pub a: Explanation,
    pub b: Explanation,
    pub facts: (Facts, Facts),
    /// Class, scope, retry, senders, actors, headers.
    pub aspects: Vec<Aspect>,
    /// When every fact but the class agrees: what that means (the cause is the difference).
    pub same_facts: Option<String>,
    /// For a UAS or proxy choosing what to send: one line per code.
    pub sending: [String; 2],
    /// For a UAC or application handling what it got: one line per code.
    pub handling: [String; 2],
    /// The curated note on this pair, if it is a classic one.
    pub note: Option<&'static Note>,
}

const ASPECT_IDS: [&str; 6] = [
    "class",
    "scope",
    "retry",
    "sent_by",
    "acted_on_by",
    "headers",
];

/// Compares `a` and `b` (in either order; a code with itself too). `None` when either is
/// outside 100–699.
pub fn compare(a: u16, b: u16, lang: Lang) -> Option<Comparison> {
    let w = lang.words();
    let (fa, fb) = (Facts::of(a)?, Facts::of(b)?);
    let described = |f: &Facts| -> [String; 6] {
        let class = f.class();
        let finality = if class.is_final() {
            w.final_
        } else {
            w.provisional
        };
        let headers: Vec<&str> = bits(f.headers).map(|i| w.headers[i]).collect();
        [
            format!("{}{}{finality}", w.classes[class as usize], w.comma),
            w.scopes[f.scope.index()].to_string(),
            w.retries[f.retry.index()].to_string(),
            list(w, bits(f.senders).map(|i| w.senders[i])),
            list(w, bits(f.actors).map(|i| w.actors[i])),
            if headers.is_empty() {
                w.headers[2].to_string()
            } else {
                list(w, headers.into_iter())
            },
        ]
    };
    let (da, db) = (described(&fa), described(&fb));
    let aspects: Vec<Aspect> = (0..6)
        .map(|i| Aspect {
            id: ASPECT_IDS[i],
            label: w.aspects[i],
            a: da[i].clone(),
            b: db[i].clone(),
        })
        .collect();
    let same_facts =
        (a != b && aspects[1..].iter().all(Aspect::same)).then(|| fill(w.same_facts, a, b));
    let sending = [&fa, &fb].map(|f| {
        format!(
            "{} ({}{})",
            w.send[f.scope.index()],
            w.sent_by,
            list(w, bits(f.senders).map(|i| w.senders[i]))
        )
    });
    let handling = [&fa, &fb].map(|f| {
        let handle = w.handle[f.retry.index()];
        // A 6xx that may be retried (later, or changed) is still never retried elsewhere.
        let global = f.scope == Scope::Everywhere && f.retry != Retry::Never;
        if global {
            let semicolon = if lang == Lang::Zh { "；" } else { "; " };
            format!("{handle}{semicolon}{}", w.not_elsewhere)
        } else {
            handle.to_string()
        }
    });
    Some(Comparison {
        lang,
        a: explain_in(a, lang),
        b: explain_in(b, lang),
        facts: (fa, fb),
        aspects,
        same_facts,
        sending,
        handling,
        note: note(w, a, b),
    })
}

/// The curated note on the pair, in either order.
fn note(w: &'static Words, a: u16, b: u16) -> Option<&'static Note> {
    let (lo, hi) = (a.min(b), a.max(b));
    w.notes.iter().find(|n| n.a == lo && n.b == hi)
}

/// `{a}` and `{b}` in a phrase replaced by the codes.
fn fill(phrase: &str, a: u16, b: u16) -> String {
    phrase
        .replace("{a}", &a.to_string())
        .replace("{b}", &b.to_string())
}

fn list<'a>(w: &Words, items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(w.comma)
}

/// The classic pairs that have a curated note (the same in every language).
pub fn classic_pairs() -> Vec<(u16, u16)> {
    Lang::En.words().notes.iter().map(|n| (n.a, n.b)).collect()
}
