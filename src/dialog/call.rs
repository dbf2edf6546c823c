//! Calls (INVITE dialogs with all their transactions) and non-call flows, and what is derived
//! from them: outcome, final status, setup/answer time, duration, who hung up, dialogs (early
//! and forked).
//!
//! Owns: the [`Call`] and [`Flow`] records and [`finish`], which derives their summary fields
//! once all messages are assigned. Does not own: assigning messages ([`super`]).

use serde::Serialize;

use super::Model;
use crate::event::Timestamp;
use crate::sip::SipMessage;

/// Methods that belong to an INVITE dialog; anything else starts a non-call flow.
pub fn is_call_method(method: &str) -> bool {
    matches!(
        method,
        "INVITE" | "ACK" | "BYE" | "CANCEL" | "PRACK" | "UPDATE" | "INFO"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// A 2xx to the INVITE.
    Answered,
    /// The caller sent CANCEL and no 2xx came.
    Cancelled,
    /// A 4xx/6xx other than busy.
    Rejected,
    /// 486 Busy Here or 600 Busy Everywhere.
    Busy,
    /// A 3xx.
    Redirected,
    /// 408 or a 5xx: the request could not be served.
    Failed,
    /// No final response (or no INVITE) in the input.
    Incomplete,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Cancelled => "cancelled",
            Outcome::Rejected => "rejected",
            Outcome::Busy => "busy",
            Outcome::Redirected => "redirected",
            Outcome::Failed => "failed",
            Outcome::Incomplete => "incomplete",
        }
    }

    fn of_status(code: u16) -> Outcome {
        match code {
            200..=299 => Outcome::Answered,
            300..=399 => Outcome::Redirected,
            486 | 600 => Outcome::Busy,
            408 | 500..=599 => Outcome::Failed,
            _ => Outcome::Rejected,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    Caller,
    Callee,
}

/// One dialog of a call: the INVITE's dialog with one To tag (forking gives several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dialog {
    /// Observer-independent id: Call-ID and the two tags in sorted order.
    pub id: String,
    pub to_tag: String,
    /// Reached by a 2xx (otherwise it stayed early).
    pub confirmed: bool,
}

/// A pjsua call id in one log input, linked to this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PjsuaCall {
    pub input: usize,
    pub call: u32,
}

#[derive(Debug, Clone)]
pub struct Call {
    /// 1-based, in order of first message.
    pub index: usize,
    pub call_id: String,
    /// The From tag of the initial INVITE.
    pub caller_tag: Option<String>,
    /// The first message of the call (a wire message index).
    pub first: usize,
    pub start: Timestamp,
    /// Wire message indexes, in time order.
    pub messages: Vec<usize>,
    /// Log event indexes (into [`Model::events`]) linked to the call.
    pub log_events: Vec<usize>,
    pub pjsua_calls: Vec<PjsuaCall>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub outcome: Outcome,
    pub final_status: Option<u16>,
    pub final_reason: Option<String>,
    pub setup_ms: Option<i64>,
    pub answer_ms: Option<i64>,
    pub duration_ms: Option<i64>,
    pub hung_up_by: Option<Party>,
    pub dialogs: Vec<Dialog>,
    pub retransmissions: u32,
    /// The 1-based index of the first call of its B2BUA group (itself if alone).
    pub group: usize,
    /// Other legs of the same B2BUA call (1-based indexes).
    pub linked: Vec<usize>,
}

impl Call {
    pub fn new(
        index: usize,
        call_id: String,
        caller_tag: Option<String>,
        first: usize,
        start: Timestamp,
    ) -> Self {
        Call {
            index,
            call_id,
            caller_tag,
            first,
            start,
            messages: Vec::new(),
            log_events: Vec::new(),
            pjsua_calls: Vec::new(),
            from: None,
            to: None,
            outcome: Outcome::Incomplete,
            final_status: None,
            final_reason: None,
            setup_ms: None,
            answer_ms: None,
            duration_ms: None,
            hung_up_by: None,
            dialogs: Vec::new(),
            retransmissions: 0,
            group: index,
            linked: Vec::new(),
        }
    }
}

/// A non-call exchange (REGISTER, OPTIONS, MESSAGE, SUBSCRIBE/NOTIFY …), grouped by Call-ID.
#[derive(Debug, Clone)]
pub struct Flow {
    pub index: usize,
    pub call_id: String,
    /// The method of the first request.
    pub method: String,
    pub first: usize,
    pub start: Timestamp,
    pub messages: Vec<usize>,
    pub log_events: Vec<usize>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The last final response to the flow's method.
    pub final_status: Option<u16>,
    pub final_reason: Option<String>,
    pub retransmissions: u32,
}

impl Flow {
    pub fn new(index: usize, call_id: String, method: String, first: usize, ts: Timestamp) -> Self {
        Flow {
            index,
            call_id,
            method,
            first,
            start: ts,
            messages: Vec::new(),
            log_events: Vec::new(),
            from: None,
            to: None,
            final_status: None,
            final_reason: None,
            retransmissions: 0,
        }
    }
}

/// A parsed wire message with its time, as the summaries need it.
struct Seen<'a> {
    ts: Timestamp,
    msg: &'a SipMessage,
    retransmission: bool,
}

fn seen<'a>(model: &'a Model, wires: &[usize]) -> Vec<Seen<'a>> {
    wires
        .iter()
        .filter_map(|&w| {
            let ev = model.message(w);
            Some(Seen {
                ts: ev.ts,
                msg: ev.parsed()?,
                retransmission: model.messages[w].retransmission,
            })
        })
        .collect()
}

fn cseq_method(m: &SipMessage) -> Option<String> {
    m.cseq().map(|c| c.method.clone())
}

/// Derives every call's and flow's summary fields.
pub fn finish(model: &mut Model) {
    let starts: Vec<_> = model
        .calls
        .iter()
        .map(|c| c.messages.first().map(|&w| (w, model.message(w).ts)))
        .collect();
    for (call, start) in model.calls.iter_mut().zip(starts) {
        if let Some((w, ts)) = start {
            (call.first, call.start) = (w, ts);
        }
    }
    let summaries: Vec<_> = model
        .calls
        .iter()
        .map(|c| summarize_call(&seen(model, &c.messages), c.caller_tag.as_deref()))
        .collect();
    for (call, s) in model.calls.iter_mut().zip(summaries) {
        s.apply(call);
    }
    let flows: Vec<_> = model
        .flows
        .iter()
        .map(|f| summarize_flow(&seen(model, &f.messages), &f.method))
        .collect();
    for (flow, s) in model.flows.iter_mut().zip(flows) {
        flow.from = s.from;
        flow.to = s.to;
        flow.final_status = s.final_status;
        flow.final_reason = s.final_reason;
        flow.retransmissions = s.retransmissions;
    }
}

#[derive(Default)]
struct CallSummary {
    from: Option<String>,
    to: Option<String>,
    outcome: Option<Outcome>,
    final_status: Option<u16>,
    final_reason: Option<String>,
    setup_ms: Option<i64>,
    answer_ms: Option<i64>,
    duration_ms: Option<i64>,
    hung_up_by: Option<Party>,
    dialogs: Vec<Dialog>,
    retransmissions: u32,
}

impl CallSummary {
    fn apply(self, call: &mut Call) {
        call.from = self.from;
        call.to = self.to;
        call.outcome = self.outcome.unwrap_or(Outcome::Incomplete);
        call.final_status = self.final_status;
        call.final_reason = self.final_reason;
        call.setup_ms = self.setup_ms;
        call.answer_ms = self.answer_ms;
        call.duration_ms = self.duration_ms;
        call.hung_up_by = self.hung_up_by;
        call.dialogs = self.dialogs;
        call.retransmissions = self.retransmissions;
    }
}

fn summarize_call(msgs: &[Seen<'_>], caller_tag: Option<&str>) -> CallSummary {
    let mut s = CallSummary::default();
    let invite = msgs
        .iter()
        .find(|m| m.msg.method() == Some("INVITE") && m.msg.to_tag().is_none())
        .or_else(|| msgs.iter().find(|m| m.msg.method() == Some("INVITE")));
    let first = invite.or(msgs.first());
    if let Some(f) = first {
        s.from = f.msg.from().map(|n| n.uri_text);
        s.to = f.msg.to().map(|n| n.uri_text);
    }
    s.retransmissions = msgs.iter().filter(|m| m.retransmission).count() as u32;
    // Without the INVITE (a capture that starts late), the responses still tell the outcome;
    // only the times need the INVITE.
    let t0 = invite.map(|i| i.ts);
    let is_invite_resp =
        |m: &&Seen<'_>| m.msg.status().is_some() && cseq_method(m.msg).as_deref() == Some("INVITE");
    let responses: Vec<&Seen<'_>> = msgs.iter().filter(is_invite_resp).collect();
    let first_18x = responses
        .iter()
        .find(|m| m.msg.status().is_some_and(|c| (180..=189).contains(&c)));
    s.setup_ms = t0
        .zip(first_18x)
        .and_then(|(t0, m)| t0.known_ms_until(m.ts));
    let answer = responses
        .iter()
        .find(|m| m.msg.status().is_some_and(|c| (200..300).contains(&c)));
    s.answer_ms = t0.zip(answer).and_then(|(t0, m)| t0.known_ms_until(m.ts));
    let final_resp = answer.or_else(|| {
        responses
            .iter()
            .rev()
            .find(|m| m.msg.status().is_some_and(|c| c >= 300))
    });
    s.final_status = final_resp.and_then(|m| m.msg.status());
    s.final_reason = final_resp.and_then(|m| m.msg.reason_phrase().map(str::to_string));
    let cancel = msgs.iter().find(|m| m.msg.method() == Some("CANCEL"));
    let bye = msgs.iter().find(|m| m.msg.method() == Some("BYE"));
    s.outcome = Some(match (s.final_status, cancel) {
        (Some(c), _) if (200..300).contains(&c) => Outcome::Answered,
        (None | Some(487), Some(_)) => Outcome::Cancelled,
        (Some(c), _) => Outcome::of_status(c),
        (None, None) => Outcome::Incomplete,
    });
    s.duration_ms = match (answer, bye) {
        (Some(a), Some(b)) => a.ts.known_ms_until(b.ts),
        _ => None,
    };
    s.hung_up_by = match (s.outcome, bye) {
        (Some(Outcome::Answered), Some(b)) => {
            let from_tag = b.msg.from_tag();
            Some(if from_tag == caller_tag {
                Party::Caller
            } else {
                Party::Callee
            })
        }
        (Some(Outcome::Cancelled), _) => Some(Party::Caller),
        (Some(Outcome::Rejected | Outcome::Busy | Outcome::Redirected), _) => Some(Party::Callee),
        _ => None,
    };
    if let Some(first) = first {
        s.dialogs = dialogs(&responses, first.msg);
    }
    s
}

/// The dialogs created by responses to the INVITE: one per To tag, in order of appearance.
fn dialogs(responses: &[&Seen<'_>], invite: &SipMessage) -> Vec<Dialog> {
    let call_id = invite.call_id().unwrap_or_default().into_owned();
    let from_tag = invite.from_tag().unwrap_or_default();
    let mut out: Vec<Dialog> = Vec::new();
    for r in responses {
        let (Some(code), Some(tag)) = (r.msg.status(), r.msg.to_tag()) else {
            continue;
        };
        if code == 100 || code >= 300 {
            continue;
        }
        let confirmed = (200..300).contains(&code);
        match out.iter_mut().find(|d| d.to_tag == tag) {
            Some(d) => d.confirmed |= confirmed,
            None => out.push(Dialog {
                id: dialog_id(&call_id, from_tag, tag),
                to_tag: tag.to_string(),
                confirmed,
            }),
        }
    }
    out
}

/// Call-ID plus the two tags in sorted order: the same for both ends of the dialog.
pub fn dialog_id(call_id: &str, a: &str, b: &str) -> String {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    format!("{call_id};{x};{y}")
}

/// What `finish` fills in on a flow.
struct FlowSummary {
    from: Option<String>,
    to: Option<String>,
    final_status: Option<u16>,
    final_reason: Option<String>,
    retransmissions: u32,
}

fn summarize_flow(msgs: &[Seen<'_>], method: &str) -> FlowSummary {
    let first = msgs.iter().find(|m| m.msg.is_request()).or(msgs.first());
    let last_final = msgs.iter().rev().find(|m| {
        m.msg.status().is_some_and(|c| c >= 200) && cseq_method(m.msg).as_deref() == Some(method)
    });
    FlowSummary {
        from: first.and_then(|m| m.msg.from().map(|n| n.uri_text)),
        to: first.and_then(|m| m.msg.to().map(|n| n.uri_text)),
        final_status: last_final.and_then(|m| m.msg.status()),
        final_reason: last_final.and_then(|m| m.msg.reason_phrase().map(str::to_string)),
        retransmissions: msgs.iter().filter(|m| m.retransmission).count() as u32,
    }
}
