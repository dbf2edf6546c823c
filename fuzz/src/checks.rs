//! The invariants the fuzz targets check, in one place.
//!
//! Shared without duplication: the fuzz crate exposes this file as `sipflow_fuzz::checks`, and
//! `tests/integration/fuzz_regressions.rs` includes the same file with `#[path]`, so the
//! committed corpora and crash inputs are replayed through exactly these checks by a plain
//! `cargo test` (no fuzzer, no nightly). It uses only the public library API of `sipflow` and
//! crates that `sipflow` itself depends on (`base64`, `flate2`, `serde_json`).
//!
//! Every check panics on a violation; libFuzzer reports a panic as a crash, and the test
//! reports it as a failure naming the input file.

use std::io::Read;
use std::ops::Range;
use std::sync::OnceLock;

use base64::Engine;
use sipflow::dialog::{self, CorrelateOptions, Model};
use sipflow::event::{Event, Locator};
use sipflow::ingest::{self, Format, IngestOptions};
use sipflow::report::findings::{self, Located};
use sipflow::report::ladder::sequence::{self, Syntax};
use sipflow::report::ladder::{Conversation, Layout, ascii};
use sipflow::report::{self, html};
use sipflow::rules::{self, Finding, RuleSettings, Severity};
use sipflow::sip::{self, HeaderName, SipMessage};

/// The fuzz targets; `name` is the target's file in `fuzz/fuzz_targets/` and its folder in
/// `fuzz/corpus/` and `fuzz/regressions/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Any bytes as one SIP message.
    SipParser,
    /// Any bytes as a pjsip log, then the whole pipeline.
    PjsipIngest,
    /// Any bytes as a pcap/pcapng capture, then the whole pipeline.
    PcapIngest,
    /// Any bytes as raw SIP, then the whole pipeline with the HTML report checked closely.
    HtmlReport,
}

impl Target {
    pub const ALL: [Target; 4] = [
        Target::SipParser,
        Target::PjsipIngest,
        Target::PcapIngest,
        Target::HtmlReport,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::SipParser => "sip_parser",
            Target::PjsipIngest => "pjsip_ingest",
            Target::PcapIngest => "pcap_ingest",
            Target::HtmlReport => "html_report",
        }
    }

    /// Runs the target's checks on one input.
    pub fn check(self, data: &[u8]) {
        match self {
            Target::SipParser => sip_parser(data),
            Target::PjsipIngest => pipeline(data, Format::PJSIP),
            // The pcapng magic is recognised even when pcap is forced.
            Target::PcapIngest => pipeline(data, Format::PCAP),
            Target::HtmlReport => pipeline(data, Format::SIP),
        }
    }
}

fn within(span: &Range<usize>, len: usize, what: impl std::fmt::Display) {
    assert!(
        span.start <= span.end && span.end <= len,
        "{what}: span {span:?} is outside the {len} bytes it indexes"
    );
}

/// Target 1: one SIP message.
pub fn sip_parser(data: &[u8]) {
    if let Some(n) = sip::message_len(data) {
        assert!(n <= data.len(), "message_len {n} > {}", data.len());
    }
    sip::is_start_line(data);
    match SipMessage::parse(data) {
        Ok(m) => {
            assert_eq!(m.raw(), data, "the message keeps its bytes");
            check_message(&m);
        }
        Err(u) => {
            assert_eq!(u.raw, data, "the unparsed message keeps its bytes");
            within(&u.error.span, data.len(), "parse error");
        }
    }
}

/// Every span lies inside the raw message and in wire order, re-parsing the raw bytes gives the
/// same index, and no accessor panics.
pub fn check_message(m: &SipMessage) {
    let raw = m.raw();
    let len = raw.len();
    let start = m.start_span();
    within(&start, len, "start line");
    assert!(!start.is_empty(), "empty start line span");
    let mut end_of_previous = start.end;
    for h in m.headers() {
        let name = m.header_name(h);
        within(&h.span, len, format_args!("header {name}"));
        within(&h.name_span, len, format_args!("header {name} name"));
        within(&h.value_span, len, format_args!("header {name} value"));
        assert!(
            h.span.start >= end_of_previous,
            "header {name} at {:?} overlaps what precedes it (ends {end_of_previous})",
            h.span
        );
        assert!(
            !h.name_span.is_empty()
                && h.name_span.start == h.span.start
                && h.name_span.end <= h.value_span.start
                && h.value_span.end <= h.span.end,
            "header {name}: name {:?} / value {:?} not inside span {:?} in order",
            h.name_span,
            h.value_span,
            h.span
        );
        assert_eq!(
            h.name,
            HeaderName::from_name(&name),
            "header kind of {name}"
        );
        end_of_previous = h.span.end;
        let _ = m.value(h);
        let _ = m.contacts_in(h);
    }
    let body = m.body_span();
    within(&body, len, "body");
    assert!(
        body.start >= end_of_previous,
        "body {body:?} starts inside the headers (end {end_of_previous})"
    );
    assert_eq!(m.body(), &raw[body.clone()]);
    for issue in m.issues() {
        within(&issue.span, len, format_args!("issue {:?}", issue.kind));
    }

    let again = SipMessage::parse(raw).expect("the raw bytes of a parsed message parse again");
    assert_eq!(again.start_line(), m.start_line());
    assert_eq!(again.start_span(), start);
    assert_eq!(
        again.headers(),
        m.headers(),
        "re-parse gives another header index"
    );
    assert_eq!(again.body_span(), body);
    assert_eq!(again.issues(), m.issues());

    // Typed views: none may panic, and the spans they give lie inside the message.
    let _ = (m.method(), m.status(), m.reason_phrase(), m.request_uri());
    let _ = (m.call_id(), m.cseq());
    // The quick tag lookups of correlation agree with the full name-addr parse.
    let tag = |n: Option<sip::NameAddr>| n.and_then(|n| n.tag().map(str::to_string));
    assert_eq!(m.from_tag(), tag(m.from()).as_deref(), "From tag");
    assert_eq!(m.to_tag(), tag(m.to()).as_deref(), "To tag");
    let _ = (m.vias(), m.top_via(), m.contacts(), m.max_forwards());
    let _ = (
        m.content_type(),
        m.content_length(),
        m.expires(),
        m.min_expires(),
    );
    let _ = (m.reasons(), m.user_agent(), m.server());
    let _ = (
        m.record_routes(),
        m.routes(),
        m.session_expires(),
        m.min_se(),
    );
    let _ = (m.require(), m.supported(), m.method_or_cseq_method());
    let _ = (
        m.requested_expires(),
        m.is_stale_challenge(),
        m.credentials(),
    );
    let _ = (m.has_authorization(), m.has_www_authenticate());
    let _ = m.first_named("X-Call-ID");
    if let Some(uri) = m.request_uri() {
        let _ = sip::Uri::parse(uri);
    }
    for name in [HeaderName::Via, HeaderName::CSeq, HeaderName::Contact] {
        if let Some(s) = m.header_span(name) {
            within(&s, len, "header_span");
        }
    }
    if let Some(s) = m.requested_expires_span() {
        within(&s, len, "requested_expires_span");
    }
    for kind in ['v', 'o', 'c', 'm', 'a'] {
        for s in m.sdp_line_spans(kind) {
            assert!(
                body.start <= s.start && s.start < s.end && s.end <= body.end,
                "SDP {kind}= line {s:?} outside the body {body:?}"
            );
        }
    }
    let media = m.sdp_media_spans();
    if let Some(sdp) = m.sdp() {
        assert_eq!(media.len(), sdp.media.len(), "one m= span per media");
    }
    for s in &media {
        assert!(body.start <= s.start && s.end <= body.end, "m= line {s:?}");
    }
}

/// Targets 2 to 4: ingest with the format forced, correlate, run the rules and every reporter.
pub fn pipeline(data: &[u8], format: Format) {
    let opts = IngestOptions {
        format: Some(format),
        ..IngestOptions::default()
    };
    let Ok((info, source, events)) = ingest::ingest_bytes("fuzz", data.to_vec(), &opts) else {
        return;
    };
    for ev in &events {
        if let Locator::Text { span, .. } = &ev.origin().locator {
            within(span, source.len(), "event origin");
        }
        if let Event::Message(m) = ev {
            match &m.msg {
                Ok(msg) => check_message(msg),
                Err(u) => within(&u.error.span, u.raw.len(), "parse error"),
            }
        }
    }
    let model = dialog::correlate(events, &CorrelateOptions::default());
    check_model(&model);

    let inputs = [info];
    let settings = RuleSettings::default();
    let found = rules::run(&rules::Context::new(&model, &settings, &inputs));
    for f in &found {
        for e in &f.evidence {
            let ev = model.events.get(e.event);
            assert!(
                ev.is_some(),
                "{}: evidence event {} out of range",
                f.rule.code,
                e.event
            );
            if let (Some(Event::Message(m)), Some(s)) = (ev, &e.span) {
                assert!(s.start < s.end, "{}: empty evidence span", f.rule.code);
                within(s, m.raw().len(), f.rule.code);
            }
        }
    }

    let sources = vec![sipflow::ingest::Source::new(source)];
    let diagnoses = rules::Diagnoses::of(&model, &found);
    let ctx = report::Context {
        model: &model,
        inputs: &inputs,
        sources: &sources,
        diagnoses: &diagnoses,
        lang: sipflow::sip::status::Lang::En,
    };
    every_text_reporter(&ctx, &found);
    let page = html_page(&ctx, &found);
    // With valid UTF-8 input, a message shown in the report is never cut inside a character.
    let clean = format != Format::PCAP
        && std::str::from_utf8(data).is_ok_and(|s| !s.contains(char::REPLACEMENT_CHARACTER));
    check_html(&page, &model, found.len(), clean);
}

fn check_model(model: &Model) {
    let n = model.events.len();
    assert_eq!(model.event_owner.len(), n);
    assert_eq!(model.message_owner.len(), model.messages.len());
    for w in &model.messages {
        assert!(
            w.sightings.contains(&w.event),
            "a wire message's first sighting"
        );
        for &s in &w.sightings {
            assert!(matches!(model.events.get(s), Some(Event::Message(_))));
        }
    }
    for c in &model.calls {
        assert!(c.messages.iter().all(|&w| w < model.messages.len()));
        assert!(c.log_events.iter().all(|&e| e < n));
    }
    for f in &model.flows {
        assert!(f.messages.iter().all(|&w| w < model.messages.len()));
        assert!(f.log_events.iter().all(|&e| e < n));
    }
}

fn json_doc(bytes: &[u8], what: &str) {
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(bytes) {
        panic!("{what} is not JSON: {e}");
    }
}

fn json_lines(bytes: &[u8], what: &str) {
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        json_doc(line, what);
    }
}

/// Every reporter but the HTML one; the machine-readable ones must parse.
fn every_text_reporter(ctx: &report::Context<'_>, found: &[Finding]) {
    let model = ctx.model;
    let mut out = Vec::new();
    report::calls::write_table(ctx, &mut out).expect("calls table");
    out.clear();
    report::calls::write_json(ctx, &mut out).expect("calls json");
    json_doc(&out, "calls --format json");
    out.clear();
    report::events::write_jsonl(ctx, false, &mut out).expect("events");
    json_lines(&out, "events");
    let convs = model
        .calls
        .iter()
        .map(|c| Conversation::of_call(ctx, c))
        .chain(model.flows.iter().map(Conversation::of_flow));
    for conv in convs {
        let layout = Layout::new(ctx, &conv);
        ascii::write_layout(ctx, &layout, Some(80), &mut out).expect("ascii ladder");
        sequence::write(&layout, Syntax::Mermaid, &mut out).expect("mermaid");
        sequence::write(&layout, Syntax::PlantUml, &mut out).expect("plantuml");
    }
    let located: Vec<Located<'_>> = found.iter().map(|f| findings::locate(ctx, f)).collect();
    findings::human::write(ctx, &located, &mut out).expect("human");
    findings::concise::write(&located, &mut out).expect("concise");
    findings::github::write(&located, &mut out).expect("github");
    findings::junit::write(ctx, &located, Severity::Warning, &mut out).expect("junit");
    out.clear();
    findings::json::write(ctx, &located, 1, &mut out).expect("json");
    json_doc(&out, "check --format json");
    out.clear();
    findings::json::write_lines(&located, &mut out).expect("jsonl");
    json_lines(&out, "check --format jsonl");
    out.clear();
    findings::sarif::write(&located, &mut out).expect("sarif");
    json_doc(&out, "sarif");
}

fn html_page(ctx: &report::Context<'_>, found: &[Finding]) -> String {
    let mut page = Vec::new();
    html::write(ctx, found, &html::Options::default(), &mut page).expect("html");
    String::from_utf8(page).expect("the page is UTF-8")
}

const DATA_OPEN: &str = "<script type=\"application/json\" id=\"sipflow-data\">";

/// The page's three raw-text blocks (style sheet, embedded data, script) and the markup
/// around them with their contents cut out.
struct Blocks<'a> {
    style: &'a str,
    data: &'a str,
    script: &'a str,
    markup: String,
}

fn blocks(page: &str) -> Blocks<'_> {
    fn cut<'a>(page: &'a str, from: usize, open: &str, close: &str) -> (usize, &'a str, usize) {
        let start = page[from..]
            .find(open)
            .unwrap_or_else(|| panic!("no {open:?} in the page"))
            + from
            + open.len();
        let len = page[start..]
            .find(close)
            .unwrap_or_else(|| panic!("{open:?} is not closed"));
        (start, &page[start..start + len], start + len)
    }
    let (s0, style, s1) = cut(page, 0, "<style>", "</style>");
    let (d0, data, d1) = cut(page, s1, DATA_OPEN, "</script>");
    let (c0, script, c1) = cut(page, d1, "<script>", "</script>");
    let markup = [&page[..s0], &page[s1..d0], &page[d1..c0], &page[c1..]].concat();
    Blocks {
        style,
        data,
        script,
        markup,
    }
}

/// The style sheet and script of the report of nothing: those blocks hold no data, so every
/// report must carry them unchanged.
fn reference_blocks() -> &'static (String, String) {
    static REFERENCE: OnceLock<(String, String)> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let model = dialog::correlate(Vec::new(), &CorrelateOptions::default());
        let ctx = report::Context {
            model: &model,
            inputs: &[],
            sources: &[],
            diagnoses: &rules::Diagnoses::NONE,
            lang: sipflow::sip::status::Lang::En,
        };
        let page = html_page(&ctx, &[]);
        let b = blocks(&page);
        (b.style.to_string(), b.script.to_string())
    })
}

/// Every element the page shell writes (`report/html/mod.rs`); the script builds the rest.
const TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "section",
    "div", "table", "tr", "th", "td", "span", "ul", "li", "noscript", "input", "select", "option",
    "aside", "script",
];
const VOID: &[&str] = &["meta", "input"];
const ATTRS: &[&str] = &[
    "lang",
    "charset",
    "http-equiv",
    "content",
    "name",
    "class",
    "id",
    "title",
    "type",
    "value",
    "placeholder",
    "role",
    "tabindex",
    "hidden",
    "aria-label",
    "aria-live",
    "data-outcome",
    "data-rule",
];
const ENTITIES: &[&str] = &["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"];

/// Text between tags: escaped, so no `<`/`>` of its own and only the escaper's entities.
fn check_text(text: &str) {
    assert!(!text.contains('>'), "unescaped '>' in page text: {text:?}");
    for (i, _) in text.match_indices('&') {
        assert!(
            ENTITIES.iter().any(|e| text[i..].starts_with(e)),
            "bare '&' in page text: {text:?}"
        );
    }
}

/// One tag (between `<` and `>`): a known element, known attributes, escaped values.
fn check_tag(tag: &str, stack: &mut Vec<String>) {
    if let Some(name) = tag.strip_prefix('/') {
        assert!(TAGS.contains(&name), "unknown closing tag </{name}>");
        let open = stack.pop();
        assert_eq!(open.as_deref(), Some(name), "</{name}> closes {open:?}");
        return;
    }
    let name_len = tag.find(' ').unwrap_or(tag.len());
    let name = &tag[..name_len];
    assert!(TAGS.contains(&name), "unknown tag <{tag}>");
    let mut rest = &tag[name_len..];
    while let Some(r) = rest.strip_prefix(' ') {
        let attr_len = r.find(['=', ' ']).unwrap_or(r.len());
        let attr = &r[..attr_len];
        assert!(
            ATTRS.contains(&attr),
            "unknown attribute {attr:?} in <{tag}>"
        );
        rest = &r[attr_len..];
        if let Some(v) = rest.strip_prefix("=\"") {
            let end = v
                .find('"')
                .unwrap_or_else(|| panic!("unclosed value in <{tag}>"));
            check_text(&v[..end]);
            rest = &v[end + 1..];
        }
    }
    assert!(rest.is_empty(), "junk {rest:?} in <{tag}>");
    if !VOID.contains(&name) {
        stack.push(name.to_string());
    }
}

/// Only the program's own tags, properly nested, outside the script blocks; the style and
/// script are the program's; the embedded data cannot end its block and decodes to JSON that
/// agrees with the model.
pub fn check_html(page: &str, model: &Model, findings: usize, clean_input: bool) {
    let b = blocks(page);
    let (style, script) = reference_blocks();
    assert!(
        b.style == style,
        "the style sheet differs from the program's"
    );
    assert!(b.script == script, "the script differs from the program's");
    assert!(
        !b.data.contains(['<', '>', '&']),
        "'<', '>' or '&' unescaped in the embedded data"
    );

    let mut rest = b
        .markup
        .strip_prefix("<!DOCTYPE html>")
        .expect("the page starts with its doctype");
    let mut stack = Vec::new();
    while let Some(lt) = rest.find('<') {
        check_text(&rest[..lt]);
        let after = &rest[lt + 1..];
        let gt = after.find('>').expect("a tag is closed");
        let tag = &after[..gt];
        assert!(!tag.contains('<'), "'<' inside a tag: <{tag}>");
        check_tag(tag, &mut stack);
        rest = &after[gt + 1..];
    }
    check_text(rest);
    assert!(stack.is_empty(), "elements left open: {stack:?}");

    check_data(b.data, model, findings, clean_input);
}

fn inflate(b64: &serde_json::Value) -> serde_json::Value {
    let b64 = b64.as_str().expect("a data block is a string");
    let gz = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("a data block is base64");
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut json)
        .expect("a data block is gzip");
    serde_json::from_slice(&json).expect("a data block is JSON")
}

fn index_list(v: &serde_json::Value, bound: usize, what: &str) {
    for i in v.as_array().unwrap_or_else(|| panic!("{what} is a list")) {
        let i = i.as_u64().unwrap_or_else(|| panic!("{what} holds indexes"));
        assert!((i as usize) < bound, "{what}: index {i} >= {bound}");
    }
}

fn check_data(data: &str, model: &Model, findings: usize, clean_input: bool) {
    let envelope: serde_json::Value = serde_json::from_str(data).expect("embedded JSON");
    assert_eq!(envelope["version"], 1);
    let index = inflate(&envelope["index"]);
    let details: Vec<serde_json::Value> = envelope["chunks"]
        .as_array()
        .expect("chunks")
        .iter()
        .flat_map(|c| inflate(c).as_array().expect("a chunk is a list").clone())
        .collect();
    let items = index["items"].as_array().expect("items");
    assert_eq!(
        items.len(),
        model.calls.len() + model.flows.len(),
        "one item per call and flow"
    );
    assert_eq!(index["findings"].as_array().map(Vec::len), Some(findings));
    for item in items {
        index_list(&item["findings"], findings, "item findings");
        let conv = item["conv"].as_u64().expect("conv") as usize;
        assert!(
            conv < details.len(),
            "item opens conversation {conv} of {}",
            details.len()
        );
    }
    for f in index["findings"].as_array().expect("findings") {
        if let Some(i) = f["item"].as_u64() {
            assert!((i as usize) < items.len(), "finding of item {i}");
        }
    }
    for d in &details {
        let rows = d["rows"].as_array().expect("rows").len();
        let messages = d["messages"].as_array().expect("messages");
        let badges = d["badges"].as_array().expect("badges");
        assert_eq!(messages.len(), rows, "one message slot per row");
        assert_eq!(badges.len(), rows, "one badge list per row");
        for b in badges {
            index_list(b, findings, "badges");
        }
        index_list(&d["unplaced"], findings, "unplaced");
        for m in messages.iter().filter(|m| !m.is_null()) {
            for part in m["parts"].as_array().expect("parts") {
                let text = part[0].as_str().expect("part text");
                assert!(!text.is_empty(), "empty message part");
                index_list(&part[1], findings, "part findings");
                assert!(
                    !clean_input || !text.contains(char::REPLACEMENT_CHARACTER),
                    "a highlight cuts a character of valid UTF-8 input: {text:?}"
                );
            }
        }
    }
}
