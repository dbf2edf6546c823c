//! Text, Markdown and JSON renderings of status explanations and comparisons, in any
//! [`Lang`], and the generated `docs/status-codes/` pages. Text is word-wrapped to [`WIDTH`]
//! terminal columns (a Chinese character takes two, and may break anywhere).

use serde_json::{Value, json};

use super::compare::{Comparison, classic_pairs, compare};
use super::facts::{ACTOR_IDS, Facts, SENDER_IDS, bits};
use super::{ALL, Explanation, Lang, explain_in, lookup, render_in};

/// The text width, in terminal columns.
pub const WIDTH: usize = 100;

/// The title line of a code: `603 Decline — global failure (6xx)`.
pub fn title(e: &Explanation, lang: Lang) -> String {
    let w = lang.words();
    match (e.registered, e.class) {
        (true, Some(class)) => format!("{} {} — {}", e.code, e.reason, class.name_in(lang)),
        (false, Some(class)) => {
            format!("{} — {}, {}", e.code, w.not_registered, class.name_in(lang))
        }
        _ => format!("{} — {}", e.code, w.not_valid),
    }
}

/// `603 Decline`, or just the number for an unregistered code.
fn name(code: u16) -> String {
    match lookup(code) {
        Some(s) => format!("{code} {}", s.reason),
        None => code.to_string(),
    }
}

/// The terminal columns `s` takes.
pub fn columns(s: &str) -> usize {
    s.chars().map(|c| if wide(c) { 2 } else { 1 }).sum()
}

/// East Asian wide characters (CJK ideographs, kana, hangul, full-width forms and punctuation).
fn wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
}

/// Punctuation that must not begin a line.
fn closing(c: char) -> bool {
    matches!(
        c,
        '，' | '。' | '；' | '：' | '、' | '）' | '！' | '？' | '」' | '”'
    )
}

/// The label column for these labels: the widest, its colon and a space.
pub fn label_width(labels: &[&str]) -> usize {
    labels.iter().map(|l| columns(l)).max().unwrap_or(0) + 2
}

/// Appends `label:` padded to `width` columns, then `text` word-wrapped to [`WIDTH`] columns
/// with continuation lines indented to `width`. Words break at spaces; wide characters may
/// also break between each other.
pub fn field(out: &mut String, label: &str, width: usize, text: &str) {
    let head = format!("{label}:");
    let pad = width.saturating_sub(columns(&head));
    wrap(out, &format!("{head}{}", " ".repeat(pad)), width, text);
}

/// Appends `first` then `text` wrapped to [`WIDTH`] columns, continuation lines indented by
/// `indent` spaces.
fn wrap(out: &mut String, first: &str, indent: usize, text: &str) {
    let mut line = first.to_string();
    let mut empty = true;
    for (space, unit) in units(text) {
        let need = usize::from(space && !empty) + columns(unit);
        if !empty && columns(&line) + need > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(indent);
            empty = true;
        }
        if space && !empty {
            line.push(' ');
        }
        line.push_str(unit);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// The units a line may break between, each with whether a space came before it: words (runs
/// of narrow characters), and single wide characters with any closing punctuation after them.
fn units(text: &str) -> Vec<(bool, &str)> {
    // (space before, start, end) of each unit.
    let mut spans: Vec<(bool, usize, usize)> = Vec::new();
    let mut word: Option<(bool, usize)> = None;
    let mut space = false;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        if !(c.is_whitespace() || wide(c)) {
            if word.is_none() {
                word = Some((space, i));
                space = false;
            }
            continue;
        }
        if let Some((before, start)) = word.take() {
            spans.push((before, start, i));
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        match spans.last_mut() {
            Some(last) if closing(c) && !space && last.2 == i => last.2 = end,
            _ => spans.push((space, i, end)),
        }
        space = false;
    }
    if let Some((before, start)) = word {
        spans.push((before, start, text.len()));
    }
    spans
        .into_iter()
        .map(|(b, s, e)| (b, &text[s..e]))
        .collect()
}

/// `sipflow explain A B`: both explanations, the main difference, and when to use which.
pub fn pair_text(c: &Comparison) -> String {
    let w = c.lang.words();
    let mut out = format!("{} {} {}\n\n", name(c.a.code), w.vs, name(c.b.code));
    out.push_str(&render_in(c.a.code, c.lang));
    out.push('\n');
    out.push_str(&render_in(c.b.code, c.lang));
    out.push('\n');
    out.push_str(w.main_difference);
    out.push('\n');
    let width = 2 + label_width(&w.aspects);
    for a in &c.aspects {
        let label = format!("  {}", a.label);
        if a.same() {
            field(&mut out, &label, width, &format!("{}: {}", w.both, a.a));
        } else {
            field(&mut out, &label, width, &format!("{}: {}", c.a.code, a.a));
            wrap(
                &mut out,
                &" ".repeat(width),
                width,
                &format!("{}: {}", c.b.code, a.b),
            );
        }
    }
    if let Some(s) = &c.same_facts {
        field(&mut out, &format!("  {}", w.aspects[6]), width, s);
    }
    if let Some(n) = c.note {
        field(
            &mut out,
            &format!("  {}", w.aspects[7]),
            width,
            n.difference,
        );
    }
    out.push('\n');
    out.push_str(w.when_to_use);
    out.push('\n');
    for (heading, lines) in [(w.sending, &c.sending), (w.handling, &c.handling)] {
        out.push_str(&format!("  {heading}:\n"));
        for (e, line) in [&c.a, &c.b].iter().zip(lines.iter()) {
            wrap(&mut out, &format!("    {}: ", e.code), 9, line);
        }
    }
    if let Some(n) = c.note {
        field(&mut out, &format!("  {}", w.aspects[7]), width, n.which);
    }
    out
}

/// One code in Markdown, its heading at `level`.
pub fn code_markdown(code: u16, lang: Lang, level: usize) -> String {
    let w = lang.words();
    let e = explain_in(code, lang);
    let h = "#".repeat(level);
    let mut out = format!("{h} {}\n\n", title(&e, lang));
    let mut facts = vec![format!("{}: {}", w.labels[0], e.rfc)];
    if let Some(t) = e.treat_as {
        facts.push(format!("{}: {} {}", w.labels[1], name(t), w.treat_as_note));
    }
    out.push_str(&format!("*{}*\n\n", facts.join(" · ")));
    for (heading, text) in w.headings.iter().zip([e.meaning, e.when, e.action]) {
        out.push_str(&format!("{h}# {heading}\n\n{text}\n\n"));
    }
    out
}

/// `sipflow explain A B --format markdown`: a page like the seed documents.
pub fn pair_markdown(c: &Comparison) -> String {
    let w = c.lang.words();
    let (a, b) = (name(c.a.code), name(c.b.code));
    let mut out = format!("# {a} {} {b}\n\n", w.vs);
    out.push_str(&code_markdown(c.a.code, c.lang, 2));
    out.push_str(&code_markdown(c.b.code, c.lang, 2));
    out.push_str(&format!("## {}\n\n", w.main_difference));
    out.push_str(&format!("| | {a} | {b} |\n|---|---|---|\n"));
    for x in &c.aspects {
        out.push_str(&format!("| {} | {} | {} |\n", x.label, x.a, x.b));
    }
    out.push('\n');
    if let Some(s) = &c.same_facts {
        out.push_str(&format!("{s}\n\n"));
    }
    if let Some(n) = c.note {
        out.push_str(&format!("{}\n\n", n.difference));
    }
    out.push_str(&format!("## {}\n\n", w.when_to_use));
    for (heading, lines) in [(w.sending, &c.sending), (w.handling, &c.handling)] {
        out.push_str(&format!("### {heading}\n\n"));
        for (code, line) in [c.a.code, c.b.code].iter().zip(lines.iter()) {
            out.push_str(&format!("- **{}**: {line}\n", name(*code)));
        }
        out.push('\n');
    }
    if let Some(n) = c.note {
        out.push_str(&format!("{}\n\n", n.which));
    }
    finish(out)
}

/// One code as a JSON object (English keys and identifiers, texts in `lang`).
pub fn code_json(code: u16, lang: Lang) -> Value {
    let e = explain_in(code, lang);
    let facts = Facts::of(code).map(|f| {
        json!({
            "scope": f.scope.id(),
            "retry": f.retry.id(),
            "sent_by": bits(f.senders).map(|i| SENDER_IDS[i]).collect::<Vec<_>>(),
            "acted_on_by": bits(f.actors).map(|i| ACTOR_IDS[i]).collect::<Vec<_>>(),
            "retry_after": f.headers & super::facts::RETRY_AFTER != 0,
            "contact": f.headers & super::facts::CONTACT != 0,
        })
    });
    json!({
        "code": e.code,
        "reason": e.reason,
        "registered": e.registered,
        "treat_as": e.treat_as,
        "class": e.class.map(|c| c.name()),
        "class_text": e.class.map(|c| c.name_in(lang)),
        "final": e.class.map(|c| c.is_final()),
        "rfc": e.rfc,
        "lang": lang.code(),
        "meaning": e.meaning,
        "when": e.when,
        "action": e.action,
        "facts": facts,
    })
}

/// `sipflow explain A B --format json`.
pub fn pair_json(c: &Comparison) -> Value {
    let aspects: Vec<Value> = (c.aspects.iter())
        .map(|x| json!({"aspect": x.id, "label": x.label, "same": x.same(), "a": x.a, "b": x.b}))
        .collect();
    json!({
        "lang": c.lang.code(),
        "a": code_json(c.a.code, c.lang),
        "b": code_json(c.b.code, c.lang),
        "difference": {
            "aspects": aspects,
            "same_facts": c.same_facts,
            "note": c.note.map(|n| n.difference),
        },
        "which": {
            "sending": {"a": c.sending[0], "b": c.sending[1]},
            "handling": {"a": c.handling[0], "b": c.handling[1]},
            "note": c.note.map(|n| n.which),
        },
    })
}

/// `sipflow explain --all --format markdown`: every registered code.
pub fn all_markdown(lang: Lang) -> String {
    let mut out = format!("# {}\n\n", lang.words().all_title);
    for s in ALL {
        out.push_str(&code_markdown(s.code, lang, 2));
    }
    finish(out)
}

/// `sipflow explain --all --format json`.
pub fn all_json(lang: Lang) -> Value {
    json!({
        "lang": lang.code(),
        "codes": ALL.iter().map(|s| code_json(s.code, lang)).collect::<Vec<_>>(),
    })
}

/// `sipflow explain --all` as text: every registered code, a blank line between.
pub fn all_text(lang: Lang) -> String {
    let texts: Vec<String> = ALL.iter().map(|s| render_in(s.code, lang)).collect();
    texts.join("\n")
}

/// One trailing newline.
fn finish(mut s: String) -> String {
    while s.ends_with("\n\n") {
        s.pop();
    }
    s
}

/// The pages of `docs/status-codes/` (file name, content): every code in each language, and
/// the classic pairs in each language, with an index.
pub fn pages() -> Vec<(String, String)> {
    let mut pages = Vec::new();
    let mut index = String::from(
        "# SIP status codes, explained and compared\n\n\
         Generated by `sipflow explain --docs docs/status-codes` from the status-code registry \
         (`src/sip/status.rs`), its facts and its translations; do not edit by hand. \
         `sipflow explain CODE`, `sipflow explain A B` and `--format markdown|json`, \
         `--lang en|zh|vi` give the same texts.\n\n## Every code\n\n",
    );
    for lang in Lang::ALL {
        let file = format!("codes.{}.md", lang.code());
        index.push_str(&format!(
            "- [{}]({file}) ({})\n",
            lang.words().all_title,
            lang.code()
        ));
        pages.push((file, all_markdown(lang)));
    }
    index.push_str("\n## Classic pairs\n\n");
    for (a, b) in classic_pairs() {
        let links: Vec<String> = Lang::ALL
            .iter()
            .map(|l| format!("[{}]({a}-vs-{b}.{}.md)", l.code(), l.code()))
            .collect();
        index.push_str(&format!(
            "- {} vs {}: {}\n",
            name(a),
            name(b),
            links.join(" · ")
        ));
        for lang in Lang::ALL {
            if let Some(c) = compare(a, b, lang) {
                pages.push((format!("{a}-vs-{b}.{}.md", lang.code()), pair_markdown(&c)));
            }
        }
    }
    pages.push(("README.md".to_string(), index));
    pages
}
