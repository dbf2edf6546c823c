//! What became of a message, as the trace shows it: for the rules about a message's form
//! (`malformed-message`, `missing-mandatory-header`, `content-length-mismatch`, `invalid-sdp`),
//! whose severity follows it. A bad message is an error only when the trace shows the receiver refusing or
//! ignoring it; otherwise it is a risk (a warning). Not a rule.

use crate::dialog::Owner;
use crate::rules::timers::COVERS_64T1_MS;
use crate::rules::{Context, Finding};
use crate::sip::SipMessage;

/// Copies of what the peer sent before that must come after a message for the peer to have
/// visibly ignored it: one may have crossed the message on the way.
const AGAIN: usize = 2;

/// `486 Busy Here`: the status line of response `wire` (its code alone if it has no reason).
pub(super) fn status(ctx: &Context<'_>, wire: usize) -> String {
    let m = ctx.model.message(wire).parsed();
    let code = m.and_then(SipMessage::status).unwrap_or_default();
    match m
        .and_then(SipMessage::reason_phrase)
        .filter(|r| !r.is_empty())
    {
        Some(reason) => format!("{code} {reason}"),
        None => code.to_string(),
    }
}

/// A message as findings name it: its method, or `486 response`.
pub(super) fn what(m: &SipMessage) -> String {
    match (m.method(), m.status()) {
        (Some(method), _) => method.to_string(),
        (None, Some(code)) => format!("{code} response"),
        _ => "message".into(),
    }
}

/// ` from 192.0.2.1:5060` when the sender of wire message `w` is known, else empty.
pub(super) fn from(ctx: &Context<'_>, w: usize) -> String {
    ctx.model.messages[w]
        .src
        .as_deref()
        .map(|s| format!(" from {s}"))
        .unwrap_or_default()
}

/// What became of a wire message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fate {
    /// A request refused with one of the codes asked for (400 Bad Request …): `response` is
    /// the wire message of the refusal.
    Refused { response: usize },
    /// A request answered otherwise: its first final response, else its first provisional.
    Answered { response: usize },
    /// A request with no response in the input: how long the input covers after it, and
    /// whether the sender sent it again (it waited for an answer).
    Unanswered {
        covered_ms: i64,
        retransmitted: bool,
    },
    /// The receiver did not take it, as the peer's next messages show: an ACK after which the
    /// final response it acknowledges kept coming (twice or more), or a final response after
    /// which its request kept coming. `again`: the first of those copies (an event, in the
    /// input that saw them); `copies`: how many.
    Ignored { again: usize, copies: usize },
    /// Nothing in the trace tells: a provisional response, a request outside any transaction
    /// (no Via or CSeq to match it), an ACK or a final response that the peer did not repeat
    /// its own message after.
    Unknown,
}

impl Fate {
    /// Whether the trace shows the message failing: refused, ignored, or unanswered while the
    /// input covers the transaction timer and the sender retransmitted.
    pub(super) fn failed(&self) -> bool {
        match self {
            Fate::Refused { .. } | Fate::Ignored { .. } => true,
            Fate::Unanswered {
                covered_ms,
                retransmitted,
            } => *covered_ms >= COVERS_64T1_MS && *retransmitted,
            Fate::Answered { .. } | Fate::Unknown => false,
        }
    }

    /// `f` with what shows the fate added as evidence: the refusal, or the first of the
    /// peer's messages that came again.
    pub(super) fn evidence(&self, ctx: &Context<'_>, f: Finding) -> Finding {
        match *self {
            Fate::Refused { response, .. } => {
                let e = ctx.model.messages[response].event;
                f.with_span(e, ctx.start_line_of(e), status(ctx, response))
            }
            Fate::Ignored { again, .. } => f.with(again, "sent again after it"),
            _ => f,
        }
    }
}

/// What became of wire message `w` (parsed as `m`). `refusals`: the status codes that refuse
/// it (400, and 483 for a missing Max-Forwards). `alike`: whether another copy of the request
/// (a wire message) has the defect too: only such copies show the sender waiting because of
/// it (a later copy without it was sent for another reason, or by a fuzzer).
pub(super) fn of(
    ctx: &Context<'_>,
    w: usize,
    m: &SipMessage,
    refusals: &[u16],
    alike: &dyn Fn(usize) -> bool,
) -> Fate {
    let model = ctx.model;
    let Some(method) = m.method() else {
        return response_fate(ctx, w, m);
    };
    if method == "ACK" {
        return ack_fate(ctx, w, m);
    }
    let Some(t) = model.messages[w].tsx else {
        return Fate::Unknown;
    };
    let tsx = &model.transactions[t];
    let responses: Vec<(usize, u16)> = tsx
        .messages
        .iter()
        .filter_map(|&r| {
            let resp = model.message(r).parsed()?;
            let code = resp.status()?;
            (resp.cseq()?.method == method).then_some((r, code))
        })
        .collect();
    if let Some(&(response, _)) = responses.iter().find(|(_, c)| refusals.contains(c)) {
        return Fate::Refused { response };
    }
    if let Some(&(response, _)) = responses
        .iter()
        .find(|(_, c)| *c >= 200)
        .or(responses.first())
    {
        return Fate::Answered { response };
    }
    let covered_ms = ctx.covered_after(w);
    let retransmitted = tsx.messages.iter().any(|&c| {
        c != w
            && model
                .message(c)
                .parsed()
                .is_some_and(|q| q.method() == Some(method))
            && alike(c)
    });
    Fate::Unanswered {
        covered_ms,
        retransmitted,
    }
}

/// An ACK is ignored when the final response it acknowledges keeps coming after it.
fn ack_fate(ctx: &Context<'_>, w: usize, ack: &SipMessage) -> Fate {
    let model = ctx.model;
    let (Some(call_id), Some(seq)) = (ack.call_id(), ack.cseq().map(|c| c.seq)) else {
        return Fate::Unknown;
    };
    // Copies seen on the way to the ACK's sender, when the addresses tell (a capture on both
    // sides of a proxy sees each copy twice).
    let to_sender = |r: usize| {
        let (sender, dst) = (&model.messages[w].src, &model.messages[r].dst);
        sender.is_none() || dst.is_none() || sender == dst
    };
    let acknowledged = |r: usize| {
        to_sender(r)
            && model.message(r).parsed().is_some_and(|resp| {
                resp.status().is_some_and(|c| c >= 200)
                    && resp
                        .cseq()
                        .is_some_and(|c| c.seq == seq && c.method == "INVITE")
                    && resp.call_id().as_deref() == Some(&*call_id)
                    && (ack.to_tag().is_none() || resp.to_tag() == ack.to_tag())
            })
    };
    repeated_after(ctx, w, owner_messages(ctx, w), acknowledged)
}

/// A final response is ignored when its request keeps coming after it.
fn response_fate(ctx: &Context<'_>, w: usize, resp: &SipMessage) -> Fate {
    let model = ctx.model;
    let (Some(code), Some(t)) = (resp.status(), model.messages[w].tsx) else {
        return Fate::Unknown;
    };
    if code < 200 {
        // A non-INVITE client goes on retransmitting after a provisional response.
        return Fate::Unknown;
    }
    let method = resp.cseq().map(|c| c.method.as_str());
    let request = |r: usize| {
        model
            .message(r)
            .parsed()
            .is_some_and(|q| q.method().is_some() && q.method() == method)
    };
    repeated_after(ctx, w, &model.transactions[t].messages, request)
}

/// The wire messages of `w`'s call or flow (empty when it has none).
fn owner_messages<'a>(ctx: &Context<'a>, w: usize) -> &'a [usize] {
    match ctx.model.message_owner[w] {
        Some(Owner::Call(c)) => &ctx.model.calls[c].messages,
        Some(Owner::Flow(f)) => &ctx.model.flows[f].messages,
        None => &[],
    }
}

/// [`Fate::Ignored`] when, in an input that saw `w`, [`AGAIN`] or more sightings of the
/// messages among `candidates` that `peer` accepts come after it; else [`Fate::Unknown`].
fn repeated_after(
    ctx: &Context<'_>,
    w: usize,
    candidates: &[usize],
    peer: impl Fn(usize) -> bool,
) -> Fate {
    let model = ctx.model;
    let peers: Vec<usize> = candidates.iter().copied().filter(|&r| peer(r)).collect();
    let mut best: Option<Vec<usize>> = None;
    for &seen in &model.messages[w].sightings {
        let input = model.events[seen].origin().input;
        // Events are in merged order, which keeps each input's own order.
        let mut after: Vec<usize> = peers
            .iter()
            .flat_map(|&r| model.messages[r].sightings.iter().copied())
            .filter(|&e| e > seen && model.events[e].origin().input == input)
            .collect();
        after.sort_unstable();
        if after.len() >= AGAIN && best.as_ref().is_none_or(|b| after.len() > b.len()) {
            best = Some(after);
        }
    }
    match best.as_deref() {
        Some(after @ [first, ..]) => Fate::Ignored {
            again: *first,
            copies: after.len(),
        },
        _ => Fate::Unknown,
    }
}
