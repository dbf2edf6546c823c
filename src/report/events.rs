//! `sipflow events`: every ingested event of a model as one JSON object per line (JSON Lines),
//! in merged time order; a run in windows writes one model per window. Field list:
//! `docs/output.md`.

use std::io::{self, Write};

use serde::Serialize;

use super::Context;
use crate::dialog::Owner;
use crate::event::{Direction, Event, LogKind, Timestamp, Transport};

#[derive(Serialize)]
struct EventJson<'a> {
    kind: &'static str,
    ts: Timestamp,
    input: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frame: Option<&'a [u64]>,
    /// 1-based index of the call in `sipflow calls`, if the event belongs to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    call: Option<usize>,
    /// 1-based index of the non-call flow, if the event belongs to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    flow: Option<usize>,
    #[serde(flatten)]
    body: Body<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Body<'a> {
    Message {
        direction: Option<Direction>,
        src: Option<&'a str>,
        dst: Option<&'a str>,
        transport: Transport,
        method: Option<&'a str>,
        status: Option<u16>,
        reason: Option<&'a str>,
        call_id: Option<String>,
        cseq: Option<String>,
        handle: Option<&'a str>,
        bytes: usize,
        truncated: bool,
        parse_error: Option<String>,
        /// What the logging stack said when it dropped the message (pjsip's `Error processing
        /// … packet`), only when it did.
        #[serde(skip_serializing_if = "Option::is_none")]
        stack_error: Option<&'a str>,
    },
    Log {
        sender: &'a str,
        text: &'a str,
        log: &'a LogKind,
        errors: &'a [String],
    },
}

/// Writes the model's events; with `owned`, only those of its calls and flows (a selection).
pub fn write_jsonl(ctx: &Context<'_>, owned: bool, out: &mut dyn Write) -> io::Result<()> {
    for (i, ev) in ctx.model.events.iter().enumerate() {
        if owned && ctx.model.event_owner.get(i).copied().flatten().is_none() {
            continue;
        }
        let origin = ev.origin();
        let (line, frame) = match &origin.locator {
            crate::event::Locator::Text { line, .. } => (Some(*line), None),
            crate::event::Locator::Frames(f) => (None, Some(f.as_slice())),
        };
        let owner = ctx.model.event_owner.get(i).copied().flatten();
        let (call, flow) = match owner {
            Some(Owner::Call(c)) => (ctx.model.calls.get(c).map(|c| c.index), None),
            Some(Owner::Flow(f)) => (None, ctx.model.flows.get(f).map(|f| f.index)),
            None => (None, None),
        };
        let (kind, body) = match ev {
            Event::Message(m) => {
                let p = m.parsed();
                (
                    "message",
                    Body::Message {
                        direction: m.direction,
                        src: m.src.as_deref(),
                        dst: m.dst.as_deref(),
                        transport: m.transport,
                        method: p.and_then(|p| p.method()),
                        status: p.and_then(|p| p.status()),
                        reason: p.and_then(|p| p.reason_phrase()),
                        call_id: p.and_then(|p| p.call_id()).map(|c| c.into_owned()),
                        cseq: p
                            .and_then(|p| p.cseq())
                            .map(|c| format!("{} {}", c.seq, c.method)),
                        handle: m.handle.as_deref(),
                        bytes: m.raw().len(),
                        truncated: m.truncated(),
                        parse_error: m.msg.as_ref().err().map(|u| u.error.message.clone()),
                        stack_error: m.stack_error.as_deref(),
                    },
                )
            }
            Event::Log(l) => (
                "log",
                Body::Log {
                    sender: &l.sender,
                    text: &l.text,
                    log: &l.kind,
                    errors: &l.errors,
                },
            ),
        };
        let json = EventJson {
            kind,
            ts: ev.ts(),
            input: ctx.input_name(origin.input),
            line,
            frame,
            call,
            flow,
            body,
        };
        serde_json::to_writer(&mut *out, &json)?;
        writeln!(out)?;
    }
    Ok(())
}
