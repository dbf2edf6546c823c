//! Tests of the translations, the facts and the comparisons: every code has every field in
//! every language, translations keep the English text's technical tokens, every pair of codes
//! compares in every language, and the seed documents' key facts hold.

use super::compare::{classic_pairs, compare};
use super::facts::{FACTS, Facts, Scope};
use super::lang::Words;
use super::render::{self, WIDTH, columns};
use super::{ALL, Lang, StatusClass, explain_in, render_in};

/// Header names that appear in the English texts; a translation keeps each one its English
/// text names.
const HEADERS: &[&str] = &[
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Accept-Resource-Priority",
    "AlertMsg-Error",
    "Allow",
    "Allow-Events",
    "Authorization",
    "Call-ID",
    "Call-Info",
    "Contact",
    "Content-Length",
    "CSeq",
    "Diversion",
    "Event",
    "Expires",
    "Geolocation",
    "Geolocation-Error",
    "History-Info",
    "Identity",
    "Identity-Info",
    "Max-Breadth",
    "Max-Forwards",
    "Min-Expires",
    "Min-SE",
    "Permission-Missing",
    "Privacy",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "Reason",
    "Record-Route",
    "Recv-Info",
    "Referred-By",
    "Require",
    "Resource-Priority",
    "Retry-After",
    "Security-Server",
    "Security-Verify",
    "Session-Expires",
    "SIP-If-Match",
    "Supported",
    "Suppress-If-Match",
    "Unsupported",
    "Via",
    "Warning",
    "WWW-Authenticate",
];

/// The technical tokens of an English text: header names, acronyms and method names (words of
/// two or more capitals or digits, such as INVITE, SDP, B2BUA), and every number.
fn tokens(en: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '-'));
    for h in HEADERS {
        let found = en.match_indices(h).any(|(i, _)| {
            boundary(en[..i].chars().next_back()) && boundary(en[i + h.len()..].chars().next())
        });
        if found {
            out.push(h.to_string());
        }
    }
    for word in en.split(|c: char| !c.is_ascii_alphanumeric()) {
        let caps = word.len() >= 2
            && word
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && word.chars().any(|c| c.is_ascii_uppercase());
        if caps {
            out.push(word.to_string());
        }
    }
    for number in en.split(|c: char| !c.is_ascii_digit()) {
        if !number.is_empty() {
            out.push(number.to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every (where, English, translation) text pair of a language.
fn pairs(lang: Lang) -> Vec<(String, &'static str, &'static str)> {
    let (en, w): (&Words, &Words) = (Lang::En.words(), lang.words());
    let mut out = Vec::new();
    let mut add = |name: String, a: &[&'static str], b: &[&'static str]| {
        assert_eq!(a.len(), b.len(), "{lang} {name}");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            out.push((format!("{name}[{i}]"), *x, *y));
        }
    };
    for s in ALL {
        let t = explain_in(s.code, lang);
        add(
            format!("{}", s.code),
            &[s.meaning, s.when, s.action],
            &[t.meaning, t.when, t.action],
        );
    }
    for (i, (a, b)) in en.generic.iter().zip(w.generic.iter()).enumerate() {
        add(format!("generic{i}"), a, b);
    }
    add("invalid".into(), &en.invalid, &w.invalid);
    add("classes".into(), &en.classes, &w.classes);
    add("scopes".into(), &en.scopes, &w.scopes);
    add("retries".into(), &en.retries, &w.retries);
    add("handle".into(), &en.handle, &w.handle);
    add("send".into(), &en.send, &w.send);
    add("senders".into(), &en.senders, &w.senders);
    add("actors".into(), &en.actors, &w.actors);
    add("headers".into(), &en.headers, &w.headers);
    add(
        "phrases".into(),
        &[
            en.sending,
            en.handling,
            en.same_facts,
            en.treat_as_note,
            en.not_valid,
            en.not_elsewhere,
        ],
        &[
            w.sending,
            w.handling,
            w.same_facts,
            w.treat_as_note,
            w.not_valid,
            w.not_elsewhere,
        ],
    );
    for (a, b) in en.notes.iter().zip(w.notes) {
        assert_eq!((a.a, a.b), (b.a, b.b), "{lang}: notes in another order");
        add(
            format!("note {}/{}", a.a, a.b),
            &[a.difference, a.which],
            &[b.difference, b.which],
        );
    }
    out
}

#[test]
fn every_code_has_every_field_in_every_language() {
    for lang in [Lang::Zh, Lang::Vi] {
        let codes: Vec<u16> = lang.words().codes.iter().map(|t| t.code).collect();
        let registry: Vec<u16> = ALL.iter().map(|s| s.code).collect();
        assert_eq!(
            codes, registry,
            "{lang}: codes missing, extra or out of order"
        );
        assert_eq!(
            lang.words().notes.len(),
            Lang::En.words().notes.len(),
            "{lang}"
        );
    }
    for lang in Lang::ALL {
        for (name, en, text) in pairs(lang) {
            assert!(!text.trim().is_empty(), "{lang} {name} is empty");
            assert_eq!(text, text.trim(), "{lang} {name} has stray whitespace");
            assert!(!text.contains("  "), "{lang} {name} has a double space");
            // Names (UAS, proxy) may stay as they are; sentences may not.
            if lang != Lang::En && en.split_whitespace().count() > 3 {
                assert_ne!(text, en, "{lang} {name} is not translated");
            }
        }
    }
}

#[test]
fn translations_keep_the_technical_tokens() {
    let mut missing = Vec::new();
    for lang in [Lang::Zh, Lang::Vi] {
        for (name, en, text) in pairs(lang) {
            for token in tokens(en) {
                if !text.contains(&token) {
                    missing.push(format!("{lang} {name}: {token}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "tokens lost:\n{}", missing.join("\n"));
}

#[test]
fn token_extraction() {
    assert_eq!(
        tokens("Resend with Proxy-Authorization; a 2xx to an INVITE needs its ACK (RFC 3261)."),
        ["2", "3261", "ACK", "INVITE", "Proxy-Authorization", "RFC"]
    );
    // Contact inside another word is no header; plural acronyms are no tokens.
    assert_eq!(tokens("Contacts of PBXs"), Vec::<String>::new());
}

#[test]
fn facts_cover_exactly_the_registry() {
    let codes: Vec<u16> = FACTS.iter().map(|f| f.code).collect();
    let registry: Vec<u16> = ALL.iter().map(|s| s.code).collect();
    assert_eq!(codes, registry);
    for f in FACTS {
        assert_ne!(f.senders, 0, "{}", f.code);
        assert_ne!(f.actors, 0, "{}", f.code);
        let class = StatusClass::of(f.code).unwrap();
        // Class semantics: the scope agrees with the class.
        let expected: &[Scope] = match class {
            StatusClass::Provisional => &[Scope::Progress],
            StatusClass::Success => &[Scope::Done],
            StatusClass::Redirection => &[Scope::Moved],
            StatusClass::ClientError => &[Scope::Request, Scope::Location],
            StatusClass::ServerError => &[Scope::Server],
            StatusClass::GlobalFailure => &[Scope::Everywhere],
        };
        assert!(expected.contains(&f.scope), "{}: {:?}", f.code, f.scope);
    }
    // Unregistered codes take the facts of what they are treated as; invalid ones have none.
    assert_eq!(Facts::of(499).map(|f| f.scope), Some(Scope::Request));
    assert_eq!(Facts::of(150).map(|f| f.scope), Some(Scope::Progress));
    assert_eq!(Facts::of(699).map(|f| f.code), Some(699));
    assert!(Facts::of(99).is_none() && Facts::of(700).is_none());
}

#[test]
fn every_pair_compares_in_every_language() {
    for lang in Lang::ALL {
        let w = lang.words();
        for a in ALL {
            for b in ALL {
                let c = compare(a.code, b.code, lang)
                    .unwrap_or_else(|| panic!("{lang} {} {}", a.code, b.code));
                let text = render::pair_text(&c);
                assert!(text.contains(w.main_difference) && text.contains(w.when_to_use));
                assert!(text.contains(a.reason) && text.contains(b.reason));
                for line in text.lines() {
                    assert!(
                        columns(line) <= WIDTH,
                        "{lang} {}/{}: {line}",
                        a.code,
                        b.code
                    );
                    assert_eq!(line, line.trim_end());
                }
                // The class line differs exactly when the classes do.
                let same_class = a.code / 100 == b.code / 100;
                assert_eq!(c.aspects[0].same(), same_class, "{} {}", a.code, b.code);
                // Two different codes always say what sets them apart.
                if a.code != b.code {
                    let differs = c.aspects.iter().any(|x| !x.same());
                    assert!(differs || c.same_facts.is_some(), "{} {}", a.code, b.code);
                }
                let md = render::pair_markdown(&c);
                assert!(md.starts_with("# ") && md.ends_with('\n') && !md.ends_with("\n\n"));
                let json = render::pair_json(&c);
                assert_eq!(json["a"]["code"], a.code);
                assert_eq!(json["b"]["code"], b.code);
            }
        }
    }
    // Unregistered codes in range compare too; numbers outside it do not.
    assert!(compare(499, 150, Lang::Zh).is_some());
    assert!(compare(99, 600, Lang::En).is_none());
}

#[test]
fn same_class_pairs_still_differ() {
    // 404 vs 410: both client errors, and both about this location; the retry differs, and the
    // curated note says why.
    let c = compare(404, 410, Lang::En).unwrap();
    assert!(c.aspects[0].same());
    assert!(!c.aspects[2].same(), "{:?}", c.aspects[2]);
    assert!(c.note.unwrap().difference.contains("existed here"));
    // Two codes with the very same facts: the cause is what differs.
    let c = compare(414, 416, Lang::En).unwrap();
    assert!(
        c.same_facts
            .unwrap()
            .contains("414 and 416 are handled alike")
    );
    // Order does not matter for the note.
    assert!(compare(600, 486, Lang::Vi).unwrap().note.is_some());
}

/// A comparison as one line, so that a phrase wrapped over lines is still found.
fn flat_pair(a: u16, b: u16, lang: Lang) -> String {
    let text = render::pair_text(&compare(a, b, lang).unwrap());
    let joined: Vec<&str> = text.split_whitespace().collect();
    match lang {
        // Chinese may break a line between any two characters.
        Lang::Zh => joined.concat(),
        _ => joined.join(" "),
    }
}

#[test]
fn seed_document_100_vs_603() {
    let en = flat_pair(100, 603, Lang::En);
    // 100: provisional, hop-by-hop, no fix unless nothing follows it.
    assert!(
        en.contains("100: provisional (1xx), provisional: the transaction goes on"),
        "{en}"
    );
    assert!(en.contains("hop-by-hop"));
    assert!(en.contains("Nothing, this is normal. Only investigate"));
    assert!(en.contains(
        "100: keep waiting for the final response; nothing to fix unless nothing follows it"
    ));
    // 603: an explicit decline, final, everywhere, to be respected.
    assert!(en.contains("explicitly declined the call"));
    assert!(en.contains("603: global failure (6xx), final"));
    assert!(en.contains("603: definitive: every location; no other location will accept it"));
    assert!(en.contains("603: respect it: do not retry, neither here nor elsewhere"));
    assert!(en.contains("Respect it: do not retry elsewhere automatically"));
    assert!(en.contains("Send 603 only for a real decline by the user"));
    let zh = flat_pair(100, 603, Lang::Zh);
    assert!(
        zh.contains("主要区别") && zh.contains("何时使用哪个"),
        "{zh}"
    );
    assert!(zh.contains("除非其后没有任何后续，否则无需修复"));
    assert!(zh.contains("被叫明确拒绝了该呼叫") && zh.contains("尊重它"));
    let vi = flat_pair(100, 603, Lang::Vi);
    assert!(
        vi.contains("Mô tả:") && vi.contains("Khi bạn thấy mã này:"),
        "{vi}"
    );
    assert!(vi.contains("Cách khắc phục:"));
    assert!(vi.contains("không cần sửa gì trừ khi không có gì theo sau"));
    assert!(vi.contains("từ chối cuộc gọi một cách rõ ràng") && vi.contains("Tôn trọng nó"));
}

#[test]
fn seed_document_301_vs_600() {
    let en = flat_pair(301, 600, Lang::En);
    // 301: retry at the new Contact and update the address book.
    assert!(
        en.contains("update the address book or stored target to the new Contact"),
        "{en}"
    );
    assert!(en.contains("301: retry at the address(es) in Contact"));
    assert!(en.contains("301: redirection (3xx), final"));
    assert!(en.contains("(typically sent by redirect server)"));
    // 600: definitive, no other endpoint should be tried.
    assert!(en.contains("600: definitive: every location; no other location will accept it"));
    assert!(en.contains("Do not try other locations"));
    assert!(en.contains(
        "600: retry the same request later, after Retry-After if given; do not try other locations"
    ));
    assert!(en.contains("On 600, do not try other endpoints"));
    assert!(en.contains("600: send it only when you know that no other location will accept"));
    let zh = flat_pair(301, 600, Lang::Zh);
    assert!(
        zh.contains("将通讯录或保存的目标地址更新为新的Contact"),
        "{zh}"
    );
    assert!(zh.contains("确定性的") && zh.contains("不要尝试其他位置"));
    assert!(zh.contains("描述:") && zh.contains("何时出现:") && zh.contains("如何修复:"));
    let vi = flat_pair(301, 600, Lang::Vi);
    assert!(
        vi.contains("cập nhật danh bạ hoặc đích đã lưu sang Contact mới"),
        "{vi}"
    );
    assert!(vi.contains("dứt khoát") && vi.contains("Không thử các vị trí khác"));
}

#[test]
fn busy_here_everywhere_declined() {
    let pair = |a, b| flat_pair(a, b, Lang::En);
    assert!(pair(486, 600).contains("A proxy keeps forking (or goes to voicemail) after 486"));
    assert!(pair(486, 600).contains("486: this location only"));
    assert!(pair(486, 603).contains("603 Decline says the callee chose not to take it"));
    assert!(pair(401, 407).contains("Proxy-Authenticate"));
}

#[test]
fn every_language_renders_every_number_within_the_width() {
    for lang in Lang::ALL {
        for c in 0..=1000u16 {
            let r = render_in(c, lang);
            assert!(r.ends_with('\n'));
            for line in r.lines() {
                assert!(columns(line) <= WIDTH, "{lang} {c}: {line:?}");
                assert_eq!(line, line.trim_end(), "{lang} {c}: {line:?}");
            }
        }
    }
    // The labels are the seed documents' headings.
    assert!(render_in(603, Lang::Zh).contains("\n描述:"));
    assert!(render_in(603, Lang::Vi).contains("\nKhi bạn thấy mã này:"));
    assert!(render_in(603, Lang::Zh).starts_with("603 Decline — 全局失败 (6xx)\n"));
    assert!(render_in(499, Lang::Vi).contains("mã phản hồi chưa được đăng ký"));
    assert!(render_in(700, Lang::Zh).contains("不是有效的 SIP 状态码"));
}

#[test]
fn chinese_wraps_between_characters() {
    let r = render_in(408, Lang::Zh);
    assert!(r.lines().count() > 4, "{r}");
    // A continuation line starts at the text column and never with closing punctuation.
    let width = render::label_width(&Lang::Zh.words().labels);
    for line in r.lines().skip(1) {
        let text = line.trim_start();
        assert!(
            !text.starts_with(['，', '。', '；', '：', '、', '）']),
            "{line}"
        );
        if !line.contains(':') {
            assert_eq!(line.len() - text.len(), width, "{line}");
        }
    }
}

#[test]
fn language_from_the_locale() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        Lang::from_vars(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    };
    assert_eq!(env(&[("LANG", "zh_CN.UTF-8")]), Lang::Zh);
    assert_eq!(env(&[("LANG", "vi_VN")]), Lang::Vi);
    assert_eq!(env(&[("LANG", "en_US.UTF-8")]), Lang::En);
    assert_eq!(env(&[("LANG", "fr_FR.UTF-8")]), Lang::En);
    assert_eq!(env(&[("LANG", "C")]), Lang::En);
    assert_eq!(env(&[]), Lang::En);
    // LC_ALL over LC_MESSAGES over LANG; an empty one does not count.
    assert_eq!(
        env(&[("LC_ALL", "vi_VN.UTF-8"), ("LANG", "zh_CN.UTF-8")]),
        Lang::Vi
    );
    assert_eq!(
        env(&[("LC_MESSAGES", "zh_TW"), ("LANG", "vi_VN")]),
        Lang::Zh
    );
    assert_eq!(env(&[("LC_ALL", ""), ("LANG", "zh_CN.UTF-8")]), Lang::Zh);
    assert_eq!(Lang::parse("ZH"), Some(Lang::Zh));
    assert_eq!(Lang::parse("de"), None);
}

#[test]
fn classic_pairs_are_the_issues() {
    let mut pairs = classic_pairs();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            (100, 180),
            (100, 603),
            (301, 302),
            (301, 600),
            (401, 403),
            (401, 407),
            (404, 410),
            (404, 480),
            (408, 504),
            (486, 600),
            (486, 603),
            (488, 606),
        ]
    );
}

#[test]
fn all_codes_export() {
    for lang in Lang::ALL {
        let md = render::all_markdown(lang);
        for s in ALL {
            assert!(
                md.contains(&format!("\n## {} {} — ", s.code, s.reason)),
                "{lang} {}",
                s.code
            );
        }
        let json = render::all_json(lang);
        assert_eq!(json["codes"].as_array().map(Vec::len), Some(ALL.len()));
        assert_eq!(json["codes"][0]["facts"]["scope"], "progress");
    }
    let pages = render::pages();
    assert_eq!(pages.len(), 3 + 3 * classic_pairs().len() + 1);
    assert!(pages.iter().any(|(f, _)| f == "486-vs-600.zh.md"));
}
