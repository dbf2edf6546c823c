//! SF023 `content-length-mismatch`: Content-Length disagrees with the body that was received.

use super::fate::{self, Fate};
use crate::event::{Cut, Transport};
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::{HeaderName, IssueKind};

pub(super) const RULE: Rule = Rule {
    code: "SF023",
    name: "content-length-mismatch",
    severity: Severity::Warning,
    scope: Scope::Message,
    judges_time: false,
    summary: "Content-Length disagrees with the body (or is not a number)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A message whose `Content-Length` does not match the bytes of its body: it declares more bytes
than the datagram or dump holds, fewer bytes than follow the header block (the rest is not a
new message), or it is not a number at all. In a capture, the bytes a datagram (or SCTP chunk,
WebSocket message) carries beyond the declared body stay with the message, so they are seen;
a second SIP message packed after the first one's body is read as a message of its own and
is not reported here.

Not reported: a message that the input holds only in part: pjsip dumps cut by the 4000-byte
log record limit (that is `truncated-log-record`) or by the end of the log, messages on a
stream transport (TCP, TLS, WebSocket) that a capture holds only in part (the capture, not the
sender, lost the rest). A UDP datagram is the whole message as sent: a Content-Length larger
than the datagram is reported.

## Why it matters
On UDP the receiver must take the body from Content-Length and discard the rest of the
datagram (RFC 3261 §18.3): a larger value means the message is incomplete and should be
discarded or answered `400`, a smaller one cuts the body it reads (SDP lines or message text
lost). On TCP a wrong value breaks the framing of the whole
connection: the next message is read from the middle of this one. Lenient stacks (pjsip, SIPp)
may accept it, so the bug surfaces only with a stricter peer.

## Severity
Default **warning**: lenient receivers (pjsip, SIPp) accept the message and take the body from
the datagram. **Error** when the trace shows the failure: the request was refused with `400`
(the transaction failed, and the bad length is the likely reason), or got no response while
the input covers its transaction timer (32 s) although the sender sent it again with the same
problem, or (an ACK, a final response) the peer kept sending its own message again after it.

## Typical causes
- An application or script that builds the message as text and computes Content-Length before
  it edits the body, or counts characters instead of bytes (UTF-8 text, line ends `\n` vs
  `\r\n`).
- A B2BUA, SBC or SIP ALG that rewrites the SDP (addresses, codecs) without updating
  Content-Length.
- A test tool scenario with a fixed length.

## How to fix
Let the SIP stack compute Content-Length, or compute it from the final body bytes after every
change (`len(body.encode())`, with the `\r\n` line ends). Fix the rewriting element so it updates
the header, or disable its SDP manipulation.

## Example
From `fixtures/rules-message-extra/content-length-mismatch/message.pcap` (a SIPp UAC with a fixed
length):
```
MESSAGE sip:ua@127.0.0.1:5852 SIP/2.0
…
Content-Type: text/plain
Content-Length: 40

hello from sipflow, take 1
```
The body has 28 bytes; pjsip accepted it anyway and answered 200 OK.

## References
- RFC 3261 §18.3 (framing), §20.14 (Content-Length)
"#;

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    for (w, wire) in model.messages.iter().enumerate() {
        if wire.retransmission {
            continue;
        }
        let ev = model.message(w);
        let Some(m) = ev.parsed() else { continue };
        if m.issues().is_empty() {
            continue;
        }
        // A datagram in a capture (or in the text a capture tool printed) is the whole
        // message as sent: when it is shorter than its Content-Length, the reader marks it
        // damaged, but the sender wrote the wrong length. Any other cut message lost bytes in
        // the input, not on the wire.
        let whole_datagram = ev.cut == Some(Cut::Damaged)
            && ctx
                .inputs
                .get(ev.origin.input)
                .is_some_and(|i| i.format.packets)
            // sngrep's saved text does not say the transport; it reassembles a stream's
            // messages by their Content-Length, so one it saved short was a datagram.
            && matches!(
                ev.transport,
                Transport::Udp | Transport::Sctp | Transport::Unknown
            );
        if ev.truncated() && !whole_datagram {
            continue;
        }
        let cl_spans: Vec<_> = m
            .headers_named(HeaderName::ContentLength)
            .map(|h| h.value_span.clone())
            .collect();
        let Some(issue) = m.issues().iter().find(|i| match i.kind {
            IssueKind::ContentLengthMismatch => true,
            IssueKind::BadHeaderValue => cl_spans.contains(&i.span),
            IssueKind::BadHeaderLine
            | IssueKind::Recovered
            | IssueKind::RepeatedHeader
            | IssueKind::NoDialogTag => false,
        }) else {
            continue;
        };
        // The evidence is the Content-Length header: the one whose value the issue names, else
        // the first (the one framing reads).
        let header = m
            .headers_named(HeaderName::ContentLength)
            .find(|h| h.value_span == issue.span)
            .or_else(|| m.headers_named(HeaderName::ContentLength).next())
            .map(|h| h.span.clone());
        // Over a message transport the receiver takes the body from Content-Length (RFC 3261
        // §18.3): a shorter value cuts what it reads.
        let carried = m.raw().len().saturating_sub(m.body_span().start);
        let cut = m.content_length().filter(|&n| n < carried);
        let effect = match (ev.transport, cut) {
            (Transport::Tcp | Transport::Tls, _) => {
                "on a stream this breaks the framing of every following message".to_string()
            }
            (_, Some(n)) => format!(
                "the receiver reads a {n}-byte body and discards the {} bytes after it \
                 (RFC 3261 §18.3): the body it reads is cut",
                carried - n
            ),
            (_, None) => "a strict receiver discards the message or answers 400, a lenient one \
                          may cut the body"
                .to_string(),
        };
        // Copies with a Content-Length problem too.
        let alike = |c: usize| {
            model.message(c).parsed().is_some_and(|copy| {
                copy.issues()
                    .iter()
                    .any(|i| i.kind == IssueKind::ContentLengthMismatch)
            })
        };
        let fate = fate::of(ctx, w, m, &[400], &alike);
        let effect = match &fate {
            Fate::Refused { response, .. } => {
                format!("it was refused with {}", fate::status(ctx, *response))
            }
            Fate::Unanswered { covered_ms, .. } if fate.failed() => format!(
                "{effect}; it got no response in the {} the input covers after it although \
                 its sender retransmitted it",
                crate::rules::secs(*covered_ms)
            ),
            Fate::Ignored { copies, .. } => {
                format!("{effect}; its peer sent its own message {copies} more times after it")
            }
            _ => effect,
        };
        let transport = match ev.transport {
            Transport::Unknown => String::new(),
            t => format!(" over {}", t.as_str()),
        };
        let mut f = Finding::new(
            &RULE,
            model.message_owner[w],
            format!(
                "the {}{}{transport}: {}; {effect}",
                fate::what(m),
                fate::from(ctx, w),
                issue.message
            ),
            "compute Content-Length from the final body bytes (after every edit, bytes not \
                 characters, with CRLF line ends), or let the SIP stack fill it in; fix any \
                 element that rewrites the body without updating it"
                .into(),
        )
        .with_span(wire.event, header, issue.message.clone());
        if fate.failed() {
            f.severity = Severity::Error;
        }
        out.push(fate.evidence(ctx, f));
    }
}
