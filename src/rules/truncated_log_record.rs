//! SF020 `truncated-log-record`: a message dump cut by pjsip's 4000-byte log record cap.

use super::{Context, Finding, Rule, Scope, Severity};
use crate::event::{Cut, Event, Locator};

pub(super) const RULE: Rule = Rule {
    code: "SF020",
    name: "truncated-log-record",
    severity: Severity::Info,
    scope: Scope::Log,
    judges_time: false,
    summary: "a pjsip message dump was cut by the 4000-byte log record limit",
    docs: r#"## What it detects
A `TX`/`RX` message dump in a pjsip log that ends early: pjsip writes a message and its
`--end msg--` marker as one log record, and caps a record at 4000 bytes (`PJ_LOG_MAX_SIZE`).
A bigger message (a large SDP, many headers) loses its tail and the end marker.

Only pjsip's own record limit: a dump that the input's end cuts (an excerpt, a log that stops)
is not a truncated record, nor a dump whose byte count differs from its text only by line ends
(a paste that turned CRLF into LF).

## Why it matters
The part that was cut (often the SDP, with codecs and addresses) is missing from the evidence,
so media problems cannot be diagnosed from the log alone. Other rules see a shorter message
(and do not report headers or a body missing from it).

## Severity
Always **info**: the message went on the wire whole, only the log lost its tail. The finding
explains why the evidence is incomplete; it is not a fault of the call.

## Typical causes
- INVITEs or 200 OKs with large SDP (many codecs, ICE candidates, SRTP keys).
- Many custom headers (`X-…`) added by the application.

## How to fix
- Build PJSIP with a larger `PJ_LOG_MAX_SIZE` (in `config_site.h`), or
- capture the traffic (tcpdump) alongside the log: sipflow merges the capture, which has the
  whole message.

## Example
```
05:42:13.701  pjsua_core.c  ....TX 3958 bytes Request msg INVITE/cseq=3401 (tdta0x…) to UDP 127.0.0.1:5190:
INVITE sip:callee@127.0.0.1:5190 SIP/2.0
…
a=rtpma
05:42:13.701  udp0x…  ....Request msg INVITE/cseq=3401 (tdta0x…) sent successfully
```
The dump declares 3958 bytes; 3870 are in the log, and `--end msg--` is missing.

## References
- pjlib `log.c`: `PJ_LOG_MAX_SIZE`
- `docs/formats/pjsip.md`, "Cut records"
"#,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (i, ev) in ctx.model.events.iter().enumerate() {
        let Event::Message(m) = ev else { continue };
        if m.cut != Some(Cut::RecordLimit) || !matches!(m.origin.locator, Locator::Text { .. }) {
            continue;
        }
        let what = m
            .parsed()
            .map(|p| match (p.method(), p.status()) {
                (Some(method), _) => method.to_string(),
                (None, Some(code)) => code.to_string(),
                _ => "message".into(),
            })
            .unwrap_or_else(|| "message".into());
        let kept = m.raw().len();
        // A dump longer than it declares is not cut short: never say "317 of its 308 bytes".
        let size = m
            .declared_len
            .filter(|&d| d > kept)
            .map(|d| format!("{kept} of its {d} bytes"))
            .unwrap_or_else(|| format!("{kept} bytes"));
        out.push(
            Finding::new(
                &RULE,
                ctx.model.event_owner.get(i).copied().flatten(),
                format!(
                    "the {what} dump in {} was cut by the log record limit: {size} are in the log",
                    ctx.input_name(m.origin.input)
                ),
                "build PJSIP with a larger PJ_LOG_MAX_SIZE, or capture the traffic alongside \
                 the log (sipflow merges the capture, which has the whole message)"
                    .into(),
            )
            .with_span(
                i,
                last_line(m.raw()),
                "the dump ends here without --end msg--",
            ),
        );
    }
}

/// The span of the last non-blank line of a message's raw bytes (where a cut dump stops),
/// trailing blanks and line ends left out.
fn last_line(raw: &[u8]) -> Option<std::ops::Range<usize>> {
    let end = raw.iter().rposition(|c| !c.is_ascii_whitespace())? + 1;
    let start = raw
        .get(..end)?
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    Some(start..end)
}

#[cfg(test)]
mod tests {
    use super::last_line;

    #[test]
    fn last_line_of_a_cut_dump() {
        let raw = b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\na=rtpmap:0 PC";
        assert_eq!(last_line(raw).map(|r| &raw[r]), Some(&b"a=rtpmap:0 PC"[..]));
        let raw = b"SIP/2.0 200 OK\r\nCall-ID: x \r\n\r\n";
        assert_eq!(last_line(raw).map(|r| &raw[r]), Some(&b"Call-ID: x"[..]));
        assert_eq!(last_line(b"one line"), Some(0..8));
        assert_eq!(last_line(b" \r\n "), None);
        assert_eq!(last_line(b""), None);
    }
}
