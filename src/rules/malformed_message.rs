//! SF021 `malformed-message`: a SIP message that does not parse, whose headers break their
//! grammar, or that the receiving SIP stack said it could not parse.

use std::collections::BTreeMap;

use super::fate::{self, Fate};
use super::{Context, Finding, Rule, Scope, Severity};
use crate::event::{Cut, Event, Locator, MessageEvent};
use crate::sip::{IssueKind, ParseIssue, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF021",
    name: "malformed-message",
    severity: Severity::Warning,
    scope: Scope::Message,
    judges_time: false,
    summary: "a SIP message that does not parse, or whose headers a strict parser rejects",
    docs: r#"## What it detects
A message (a log dump or a packet recognised as SIP) that a strict receiver cannot read:

- its start line or header block does not follow the RFC 3261 grammar (the finding points at
  the place where parsing stopped), or a line of its header block is no header (no colon, an
  invalid name);
- it parses (sipflow's grammar is lenient), but a header that matching and routing depend on
  breaks its grammar: From, To, Contact, Route and Record-Route (`name-addr` or `addr-spec`:
  a display name that is neither a quoted string nor tokens, an unclosed `<` or quote, a URI
  with blanks or stray characters, a parameter that is not `name[=value]`), Via, Call-ID
  (`word[@word]`), CSeq (`number METHOD`, the request's own method), Max-Forwards (0–255), or
  a Digest challenge or credentials (`name=value` pairs, each value a token or a quoted
  string); or a header that may appear only once (To, From, Call-ID, CSeq, Max-Forwards,
  Content-Length) appears twice. The finding points at each such header;
- a request that exists only inside a dialog (BYE, PRACK, UPDATE, INFO) whose To carries no
  tag, so no receiver can match it to its dialog; the finding says so when the `tag=` was
  written inside the URI's angle brackets (`To: <sip:b@host;tag=x>`), where it is a URI
  parameter;
- the SIP stack that logged it said it could not parse it and dropped it (pjsip's `Error
  processing N bytes packet from …: PJSIP syntax error exception …`), even when sipflow's
  grammar reads it: the stack's verdict is the evidence, quoted in the finding.

Odd but legal writing is not reported: quoted display names with `\` escapes and commas,
unquoted display names of several tokens (or UTF-8), compact forms, parameters without a
value (`;lr`), IPv6 references, comma lists where the header's grammar has them, a bare IPv6
address in `received`, parameter values with URI parameter characters (`&`, `/`), and any
authentication scheme other than Digest. A response that only echoes a problem of its request
(a response copies From, To, Call-ID, CSeq and Via) is the request's problem, reported once.
Messages from one sender with the same problem are one finding, with a count.

Not reported: a message that the input starts or ends inside (an excerpt, a rotated log, a
capture that stops), or a pjsip dump cut by the log record limit. What is missing there was
never in the input, and the message went on the wire whole; it is not malformed (the header a
cut ends in is not checked; the others are). A message the input holds damaged (bytes lost
inside it: a snapshot length, a TCP gap, a paste that collapsed its line breaks) and that
therefore does not parse is reported as info, saying so: it is the input's fault, not the
sender's.

## Why it matters
Every SIP element that receives it will reject or, worse, misread it: a request may get a 400
Bad Request or be dropped silently, and the call fails with a timeout far from the cause. A
lenient stack (pjsip reads most of these headers) hides the problem until a stricter proxy or
SBC is on the path; a garbled tag or Call-ID makes a dialog unmatchable (481).

## Severity
Default **warning**. It follows what became of the message:

- **error** when the trace shows the failure: a request refused with `400` (or `481`, for one
  without its dialog's To tag); a request that got
  no response while the input covers its transaction timer (32 s after it) although the sender
  sent the same bad message again; an ACK after which the response it acknowledges kept coming
  (twice or more: the receiver did not take it); a final response after which its request
  kept coming; a message the logging stack dropped whose sender retransmitted it (dropped
  again) and never got an answer;
- **warning** otherwise: a message that does not parse (it cannot be matched to its
  transaction, so the trace cannot show what became of it), a bad header on a message that
  was answered or whose fate the input does not show, a message the stack dropped once;
- **info** for a message the input holds damaged: the sender is not to blame, and the finding
  only explains why the message is not read.

## Typical causes
- Hand-built messages in an application or a test tool (missing `SIP/2.0`, wrong line ends,
  quotes escaped twice: `f: \"arik\" <sip:…>`).
- A broken ALG or SBC rewriting packets.
- A PBX writing a header its peers' parsers reject (a stray `>` after a To URI).
- Memory corruption or a bit-flipping network path.

## How to fix
Find who builds or rewrites the message (the `Via` and `User-Agent` of neighbouring messages
tell), fix the generator, or disable the SIP ALG on the router.

## Example
From suricata-verify's `sip-compact-form` capture (a synthetic INVITE):
```
INVITE sip:97239287044@voip.brujula.net SIP/2.0
v: SIP/2.0/UDP 192.168.1.2:5060;branch=z9hG4bKnp104984053-44ce4a41192.168.1.2;rport
f: \"arik\" <sip:816666@voip.brurjula.net>;tag=6433ef9
```
The display name `\"arik\"` has backslashes outside a quoted string: neither a quoted string
nor tokens. From a pjsip log (VialerSIPLib issue #217), a BYE with
`To: <sip:13567142@hpbx030.telecomsvc.com;tag=wOjMDZN12uHxPu03jGOe8RzKkxiLsvqZ>`: the tag is a
parameter of the URI, the BYE has no To tag, and pjsip does not end the call. From a pjsip log
(VialerSIPLib issue #11), FreePBX's OPTIONS with
`To: <sip:269@172.16.2.25:49675>;ob>`: pjsip says `PJSIP syntax error exception when parsing
'' header on line 5 col 35` and drops it, and its retransmission.

## References
- RFC 3261 §7 (SIP messages), §7.3.1 (header fields that appear once), §20 (header fields),
  §25 (augmented BNF)
"#,
    check,
};

/// The help of a message its sender built wrong.
const HELP: &str = "find who builds or rewrites this message (the Via and User-Agent of the \
                    neighbouring messages tell) and fix it; check for a SIP ALG on the path";

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    // Header problems: (what, the headers at fault, sender) → the messages, in order.
    type Key = (String, Vec<String>, String);
    let mut groups: BTreeMap<Key, Vec<(usize, Vec<ParseIssue>)>> = BTreeMap::new();
    for (w, wire) in ctx.model.messages.iter().enumerate() {
        let ev = ctx.model.message(w);
        let stack = wire
            .sightings
            .iter()
            .find_map(|&e| match &ctx.model.events[e] {
                Event::Message(m) => m.stack_error.as_deref().map(|r| (e, m, r)),
                Event::Log(_) => None,
            });
        if let Some((e, seen, reason)) = stack {
            if !wire.retransmission {
                out.push(dropped_by_stack(ctx, w, (e, seen), reason));
            }
            continue;
        }
        match &ev.msg {
            Err(u) => {
                if let Some(f) = unparsed(ctx, w, ev, u) {
                    out.push(f);
                }
            }
            Ok(m) if !wire.retransmission => {
                let problems = own_problems(ctx, w, ev, m);
                if problems.is_empty() {
                    continue;
                }
                let at_fault = problems
                    .iter()
                    .map(|p| {
                        let name = m
                            .headers()
                            .iter()
                            .find(|h| h.span == p.span)
                            .map_or("", |h| h.name.as_str());
                        match p.kind {
                            IssueKind::RepeatedHeader => format!("{name} repeated"),
                            _ => name.to_string(),
                        }
                    })
                    .collect();
                let sender = wire
                    .src
                    .as_deref()
                    .map(str::to_string)
                    .or_else(|| m.from().map(|f| f.uri_text))
                    .unwrap_or_default();
                groups
                    .entry((fate::what(m), at_fault, sender))
                    .or_default()
                    .push((w, problems));
            }
            Ok(_) => {}
        }
    }
    out.extend(
        groups
            .values()
            .filter_map(|members| bad_headers(ctx, members)),
    );
}

/// A message that does not parse at all.
fn unparsed(
    ctx: &Context<'_>,
    w: usize,
    ev: &MessageEvent,
    u: &crate::sip::Unparsed,
) -> Option<Finding> {
    // Only part of it is in the input, and what is there went on the wire whole.
    if matches!(ev.cut, Some(Cut::InputEdge | Cut::RecordLimit)) {
        return None;
    }
    let owner = ctx.model.message_owner[w];
    let finding = if ev.cut == Some(Cut::Damaged) {
        let mut f = Finding::new(
            &RULE,
            owner,
            format!(
                "the message is damaged in the input (bytes of it were lost on the way into \
                 the log or capture) and does not parse: {}",
                u.error.message
            ),
            "read the message from a better copy of the input (a capture with a full \
             snapshot length, the log file rather than a paste)"
                .into(),
        );
        f.severity = Severity::Info;
        f
    } else {
        Finding::new(
            &RULE,
            owner,
            format!("the message does not parse: {}", u.error.message),
            HELP.into(),
        )
    };
    let event = ctx.model.messages[w].event;
    Some(finding.with_span(event, u.error.span.clone(), u.error.message.clone()))
}

/// The header problems of a parsed message that are the sender's: none when the input lost
/// bytes inside the message (a pjsip dump well short of its declared size), and not the
/// header a cut ends in (the rest of it is not in the input).
fn header_problems(ev: &MessageEvent, m: &SipMessage) -> Vec<ParseIssue> {
    if ev.cut == Some(Cut::Damaged) && matches!(ev.origin.locator, Locator::Text { .. }) {
        return Vec::new();
    }
    let end = m.raw().trim_ascii_end().len();
    m.header_problems()
        .into_iter()
        .filter(|p| ev.cut.is_none() || p.span.end < end)
        .collect()
}

/// [`header_problems`] of wire message `w`, without those a response only echoes: a
/// response copies From, To, Call-ID, CSeq and Via from its request (RFC 3261 §8.2.6.2), so a
/// problem its request in the transaction has too is the request's.
fn own_problems(ctx: &Context<'_>, w: usize, ev: &MessageEvent, m: &SipMessage) -> Vec<ParseIssue> {
    let mut problems = header_problems(ev, m);
    if m.is_request() || problems.is_empty() {
        return problems;
    }
    let model = ctx.model;
    let Some(t) = model.messages[w].tsx else {
        return problems;
    };
    let echoed: Vec<String> = model.transactions[t]
        .messages
        .iter()
        .filter_map(|&r| {
            let ev = model.message(r);
            ev.parsed()
                .filter(|q| q.is_request())
                .map(|q| header_problems(ev, q))
        })
        .flatten()
        .map(|p| p.message)
        .collect();
    problems.retain(|p| !echoed.contains(&p.message));
    problems
}

/// Messages with the same header problems from one sender: one finding, told by the member
/// whose fate is the worst (the first if none failed).
fn bad_headers(ctx: &Context<'_>, members: &[(usize, Vec<ParseIssue>)]) -> Option<Finding> {
    let judged: Vec<(usize, &[ParseIssue], Fate)> = members
        .iter()
        .filter_map(|(w, problems)| {
            let m = ctx.model.message(*w).parsed()?;
            let alike = |c: usize| same_problems(ctx, c, problems);
            let refusals: &[u16] = if no_dialog(problems) {
                &[400, 481]
            } else {
                &[400]
            };
            let fate = fate::of(ctx, *w, m, refusals, &alike);
            Some((*w, problems.as_slice(), fate))
        })
        .collect();
    let told = judged
        .iter()
        .find(|(.., fate)| fate.failed())
        .or(judged.first());
    let (w, problems, fate) = told.cloned()?;
    let m = ctx.model.message(w).parsed();
    let list = problems
        .iter()
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let ack = m.is_some_and(|m| m.method() == Some("ACK"));
    let effect = match &fate {
        Fate::Refused { response, .. } => {
            format!(", and it was refused with {}", fate::status(ctx, *response))
        }
        Fate::Unanswered { covered_ms, .. } if fate.failed() => format!(
            ", and it got no response in the {} the input covers after it although its \
             sender retransmitted it: the receiver dropped it",
            super::secs(*covered_ms)
        ),
        Fate::Ignored { copies, .. } if ack => format!(
            "; the response it acknowledges came {copies} more times after it: the receiver \
             did not take it"
        ),
        Fate::Ignored { copies, .. } => {
            format!("; its request came {copies} more times after it: the client did not take it")
        }
        Fate::Answered { response, .. } => {
            format!("; it was answered {}", fate::status(ctx, *response))
        }
        _ if no_dialog(problems) => "; its receiver answers 481 or drops it".into(),
        _ => "; a lenient receiver may read it, a strict one answers 400 or drops it".into(),
    };
    let times = match members.len() {
        1 => String::new(),
        n => format!(" ({n} such messages; the worst fate is told)"),
    };
    let mut f = Finding::new(
        &RULE,
        ctx.model.message_owner[w],
        format!(
            "the {}{} has headers a strict parser rejects: {list}{times}{effect}",
            m.map_or_else(|| "message".to_string(), fate::what),
            fate::from(ctx, w)
        ),
        HELP.into(),
    );
    let event = ctx.model.messages[w].event;
    for p in problems {
        f = f.with_span(event, p.span.clone(), p.message.clone());
    }
    f.severity = if fate.failed() {
        Severity::Error
    } else {
        Severity::Warning
    };
    Some(fate.evidence(ctx, f))
}

/// Whether a message's problems include a missing dialog tag (then 481 is a refusal too).
fn no_dialog(problems: &[ParseIssue]) -> bool {
    problems.iter().any(|p| p.kind == IssueKind::NoDialogTag)
}

/// Whether wire message `c` (another copy of a request) has these header problems too.
fn same_problems(ctx: &Context<'_>, c: usize, problems: &[ParseIssue]) -> bool {
    let ev = ctx.model.message(c);
    ev.parsed().is_some_and(|copy| {
        let theirs = header_problems(ev, copy);
        theirs.len() == problems.len()
            && theirs
                .iter()
                .zip(problems)
                .all(|(a, b)| a.message == b.message)
    })
}

/// Wire message `w`, which the SIP stack that logged its sighting `(event, ev)` said it could
/// not parse, and dropped.
fn dropped_by_stack(
    ctx: &Context<'_>,
    w: usize,
    (event, ev): (usize, &MessageEvent),
    reason: &str,
) -> Finding {
    let model = ctx.model;
    let parsed = ev.parsed();
    let problems = parsed.map(|m| header_problems(ev, m)).unwrap_or_default();
    // Copies the stack dropped too.
    let dropped = |c: usize| {
        model.messages[c]
            .sightings
            .iter()
            .any(|&e| matches!(&model.events[e], Event::Message(m) if m.stack_error.is_some()))
    };
    let fate = parsed.map_or(Fate::Unknown, |m| fate::of(ctx, w, m, &[400], &dropped));
    let what = parsed.map_or_else(|| "message".to_string(), fate::what);
    let retransmitted = matches!(
        fate,
        Fate::Unanswered {
            retransmitted: true,
            ..
        }
    );
    let mut message = format!(
        "the SIP stack that logged {} could not parse the {what}{} and dropped it: {reason}",
        ctx.input_name(ev.origin.input),
        fate::from(ctx, w)
    );
    if let Some(p) = problems.first() {
        message.push_str(&format!(" ({})", p.message));
    }
    if retransmitted {
        message.push_str("; its sender retransmitted it and got no answer: the transaction fails");
    } else if fate.failed() {
        message.push_str("; the trace shows the failure");
    }
    let mut f = Finding::new(&RULE, model.message_owner[w], message, HELP.into()).with_span(
        event,
        problems.first().map(|p| p.span.clone()),
        reason.to_string(),
    );
    f.severity = if retransmitted || fate.failed() {
        Severity::Error
    } else {
        Severity::Warning
    };
    fate.evidence(ctx, f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialog::{CorrelateOptions, correlate};
    use crate::event::{Direction, Origin, Timestamp, Transport};
    use crate::rules::RuleSettings;

    /// FreePBX's OPTIONS that pjsip could not parse (VialerSIPLib issue #11, as pasted there;
    /// `tests/real-world/logs/vialersiplib-11-xcodecolors-options-parse-error.log`): the To
    /// header has a stray `>`.
    const OPTIONS: &str = "OPTIONS sip:269@115.118.242.252:49675;ob SIP/2.0\r\n\
        Via: SIP/2.0/UDP 27.111.250.164:5060;branch=z9hG4bK3e5b915b\r\n\
        Max-Forwards: 70\r\n\
        From: \"Unknown\" <sip:Unknown@27.111.250.164>;tag=as685d18a9\r\n\
        To: <sip:269@172.16.2.25:49675>;ob>\r\n\
        Contact: <sip:Unknown@27.111.250.164:5060>\r\n\
        Call-ID: 782140291aebbf7f6dda0de3658a461a@27.111.250.164:5060\r\n\
        CSeq: 102 OPTIONS\r\n\
        User-Agent: FPBX-2.10.1(1.8.13.0)\r\n\
        Date: Thu, 29 Dec 2016 06:37:12 GMT\r\n\
        Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO, PUBLISH\r\n\
        Supported: replaces, timer\r\n\
        Content-Length: 0\r\n\r\n";

    const REASON: &str = "Error processing 557 bytes packet from UDP 27.111.250.164:5060 : \
                          PJSIP syntax error exception when parsing '' header on line 5 col 35";

    /// An RX dump of `raw` at `secs`, with what the stack said about it.
    fn rx(raw: &[u8], secs: i64, stack_error: Option<&str>, cut: Option<Cut>) -> Event {
        Event::Message(MessageEvent {
            ts: Timestamp {
                micros: secs * 1_000_000,
                dated: false,
                micro: false,
                unknown: false,
            },
            origin: Origin {
                input: 0,
                locator: Locator::Text {
                    line: 1,
                    span: 0..raw.len(),
                },
            },
            direction: Some(Direction::Rx),
            transport: Transport::Udp,
            src: Some("27.111.250.164:5060".into()),
            dst: None,
            handle: None,
            declared_len: Some(557),
            cut,
            stack_error: stack_error.map(str::to_string),
            msg: SipMessage::parse(raw),
        })
    }

    fn findings(events: Vec<Event>) -> Vec<Finding> {
        let model = correlate(events, &CorrelateOptions::default());
        let settings = RuleSettings::default();
        let ctx = Context::new(&model, &settings, &[]);
        let mut out = Vec::new();
        check(&ctx, &mut out);
        out
    }

    #[test]
    fn a_message_the_stack_dropped_is_reported_with_its_reason() {
        let raw = OPTIONS.as_bytes();
        let found = findings(vec![rx(raw, 0, Some(REASON), None)]);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.contains(REASON), "{}", f.message);
        // sipflow's own grammar names the header pjsip stopped at.
        assert!(
            f.message
                .contains("To: the parameter `ob>` after the `>` is not `name[=value]`"),
            "{}",
            f.message
        );
        let span = f.evidence[0].span.clone().expect("a span");
        assert_eq!(&raw[span], b"To: <sip:269@172.16.2.25:49675>;ob>");
        assert_eq!(f.evidence[0].label, REASON);
    }

    #[test]
    fn dropped_again_when_retransmitted_and_never_answered_is_an_error() {
        let raw = OPTIONS.as_bytes();
        let found = findings(vec![
            rx(raw, 0, Some(REASON), None),
            rx(raw, 1, Some(REASON), None),
        ]);
        assert_eq!(
            found.len(),
            1,
            "one finding for the message and its copy: {found:#?}"
        );
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0]
                .message
                .contains("retransmitted it and got no answer")
        );
    }

    #[test]
    fn the_stack_s_word_counts_even_when_the_text_is_cut_or_does_not_parse() {
        // The dump is cut by the end of the excerpt: only the stack's verdict is whole.
        let raw = &OPTIONS.as_bytes()[..60];
        let found = findings(vec![rx(raw, 0, Some(REASON), Some(Cut::InputEdge))]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Warning);
        // The same text without the stack's word: an excerpt's edge, not a fault.
        assert!(findings(vec![rx(raw, 0, None, Some(Cut::InputEdge))]).is_empty());
        // A message that does not parse at all, with the stack's word.
        let found = findings(vec![rx(b"OPTIONS\r\n\r\n", 0, Some(REASON), None)]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message.contains("could not parse the message"));
    }

    #[test]
    fn a_lenient_parse_without_the_stack_s_word_still_checks_the_grammar() {
        let found = findings(vec![rx(OPTIONS.as_bytes(), 0, None, None)]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0]
                .message
                .starts_with("the OPTIONS from 27.111.250.164:5060 has headers")
        );
    }
}
