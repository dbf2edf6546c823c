//! Links pjsua call ids (`call 0`) in a pjsip log to the SIP call they belong to, so that log
//! lines become evidence on that call.
//!
//! pjsua logs no Call-ID next to its call ids, so the link is made the way the log is written:
//! an incoming call's first `Call N: initializing media..` follows the RX INVITE that created
//! it; an outgoing call's `Making call …` and media init come just *before* its TX INVITE. A
//! pjsua id is re-bound whenever it is initialised again (pjsua reuses slots). Lines without a
//! call id (`Delaying BYE…`, send failures, PJ errors) go to the call or flow of the latest
//! message in the same input. DNS lookups (pjsip's resolver lines, a capture's DNS facts) come
//! *before* the request they resolve for: they wait for the next request the same input sends,
//! for at most [`LOOKUP_WAIT_MICROS`] of log time, and go nowhere if none comes (a request that
//! never left). A capture's TLS facts go nowhere: the SIP they carried is encrypted. Owns only
//! this linking (its state machine, [`Binder`], is also
//! what `super::window` routes log lines with); does not own parsing the lines.

use std::collections::VecDeque;

use super::call::PjsuaCall;
use super::{Model, Owner};
use crate::event::{Direction, Event, LogEvent, LogKind, Timestamp};
use crate::hash::Map;

/// How long a DNS lookup waits for the request it was made for (pjsip's resolver gives up on a
/// name within about 30 s).
pub const LOOKUP_WAIT_MICROS: i64 = 32_000_000;
/// DNS lookups held at once per input; beyond, the oldest goes nowhere.
const MAX_LOOKUPS: usize = 256;

/// The pjsua call id a log line names, if any.
fn pjsua_call(kind: &LogKind) -> Option<u32> {
    match kind {
        LogKind::Answering { call, .. }
        | LogKind::PendingAnswer { call }
        | LogKind::HangingUp { call, .. }
        | LogKind::PendingHangup { call, .. }
        | LogKind::CallState { call, .. }
        | LogKind::CallMediaInit { call } => Some(*call),
        LogKind::UnhandledRedirection { call } => *call,
        _ => None,
    }
}

/// Process-wide lines that say nothing about one call.
fn process_wide(kind: &LogKind) -> bool {
    matches!(
        kind,
        LogKind::ExternalThread
            | LogKind::SoundDevice
            | LogKind::AccountDeleted { .. }
            | LogKind::Shutdown
            | LogKind::TransportConnect { .. }
    )
}

/// A DNS lookup: it waits for the request it was made for.
fn lookup(kind: &LogKind) -> bool {
    matches!(kind, LogKind::DnsFailure { .. } | LogKind::DnsAnswer { .. })
}

/// A fact read from packets rather than written by a process: a TLS handshake's (the SIP it
/// would have carried is encrypted, so no call can be named).
fn packets_tls(l: &LogEvent) -> bool {
    l.from_packets()
        && matches!(
            l.kind,
            LogKind::TlsFailure { .. } | LogKind::TlsEstablished { .. }
        )
}

/// What a log line is, for routing.
pub(super) fn route_kind(l: &LogEvent) -> Kind {
    if lookup(&l.kind) {
        Kind::Lookup
    } else if process_wide(&l.kind) || packets_tls(l) {
        Kind::ProcessWide
    } else {
        Kind::Line
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Lookup,
    ProcessWide,
    Line,
}

/// pjsua's call ids in one input, bound to their owners the way the log is written. `O` is what
/// owns events (a call in [`link`], an open group in [`super::window`]); `E` is what is held
/// for an outgoing call until its INVITE is sent (an event index, or the event itself).
pub(super) struct Binder<O, E> {
    /// pjsua id → owner.
    bound: Map<u32, O>,
    /// An outgoing call is being set up: these log events and pjsua ids wait for its TX INVITE.
    outgoing: Option<(Vec<E>, Vec<u32>)>,
    last_rx_invite: Option<O>,
    last: Option<O>,
    /// DNS lookups waiting for the next request sent, with their log time.
    lookups: VecDeque<(E, Timestamp)>,
}

impl<O, E> Default for Binder<O, E> {
    fn default() -> Self {
        Binder {
            bound: Map::default(),
            outgoing: None,
            last_rx_invite: None,
            last: None,
            lookups: VecDeque::new(),
        }
    }
}

/// What a message does to the lines held.
pub(super) struct Released<E> {
    /// Lines that go to the message's owner (an outgoing call's, the lookups for its request).
    pub to_owner: Vec<E>,
    /// pjsua ids now bound to the owner.
    pub ids: Vec<u32>,
    /// Lookups that waited too long: they go nowhere.
    pub unowned: Vec<E>,
}

/// Where a log line goes.
pub(super) enum Route<O, E> {
    /// To this owner.
    To(O, E),
    /// Nowhere (yet): it is held for an outgoing call; the lines held before it, for a call
    /// that never sent its INVITE, are let go unowned.
    Held(Vec<E>),
    /// To no owner.
    Unowned(E),
}

impl<O: Copy, E> Binder<O, E> {
    /// A message owned by `owner` at `ts`. When it is a call's initial INVITE (`initial` gives
    /// its direction), a sent one takes the held outgoing lines, with the ids now bound; a
    /// received one waits for the media init line that names its pjsua id. A request that is
    /// not received (`sent`) takes the DNS lookups held.
    pub fn message(
        &mut self,
        owner: Option<O>,
        initial: Option<Option<Direction>>,
        sent: bool,
        ts: Timestamp,
    ) -> Released<E> {
        self.last = owner.or(self.last);
        let mut r = Released {
            to_owner: Vec::new(),
            ids: Vec::new(),
            unowned: self.expire(ts),
        };
        if let (Some(_), true) = (owner, sent) {
            r.to_owner.extend(self.lookups.drain(..).map(|(e, _)| e));
        }
        // A sent INVITE whose call cannot be known (cut before its Call-ID): the lines held for
        // it are its own, and go to no call rather than to the next call's INVITE.
        if owner.is_none() && initial == Some(Some(Direction::Tx)) {
            r.unowned
                .extend(self.outgoing.take().map(|(e, _)| e).unwrap_or_default());
            return r;
        }
        let (Some(o), Some(direction)) = (owner, initial) else {
            return r;
        };
        if direction != Some(Direction::Tx) {
            self.last_rx_invite = Some(o);
            return r;
        }
        let Some((events, ids)) = self.outgoing.take() else {
            return r;
        };
        for &id in &ids {
            self.bound.insert(id, o);
        }
        // The call's own lines come first, as they were written before its lookups.
        r.to_owner.splice(0..0, events);
        r.ids = ids;
        r
    }

    /// The lookups held longer than [`LOOKUP_WAIT_MICROS`] at `now`.
    fn expire(&mut self, now: Timestamp) -> Vec<E> {
        let mut out = Vec::new();
        while self
            .lookups
            .front()
            .is_some_and(|(_, t)| t.micros.saturating_add(LOOKUP_WAIT_MICROS) < now.micros)
        {
            out.extend(self.lookups.pop_front().map(|(e, _)| e));
        }
        out
    }

    /// A DNS lookup at `ts`: held for the next request sent. Returns the lookups let go
    /// unowned (too old, or too many held).
    pub fn lookup(&mut self, event: E, ts: Timestamp) -> Vec<E> {
        let mut out = self.expire(ts);
        if self.lookups.len() >= MAX_LOOKUPS {
            out.extend(self.lookups.pop_front().map(|(e, _)| e));
        }
        self.lookups.push_back((event, ts));
        out
    }

    /// Everything still held (the end of the input): it goes nowhere.
    pub fn drain(&mut self) -> Vec<E> {
        let mut out: Vec<E> = self.outgoing.take().map(|(e, _)| e).unwrap_or_default();
        out.extend(self.lookups.drain(..).map(|(e, _)| e));
        out
    }

    /// A log line of `kind`. `alive` says whether an owner can still take events; a new
    /// binding of a received call is also returned.
    pub fn log(
        &mut self,
        kind: &LogKind,
        event: E,
        alive: impl Fn(O) -> bool,
    ) -> (Route<O, E>, Option<(O, u32)>) {
        if process_wide(kind) {
            return (Route::Unowned(event), None);
        }
        if let LogKind::MakingCall { .. } = kind {
            let before = self.outgoing.replace((vec![event], Vec::new()));
            return (
                Route::Held(before.map(|(e, _)| e).unwrap_or_default()),
                None,
            );
        }
        let media_init = match kind {
            LogKind::CallMediaInit { call } => Some(*call),
            _ => None,
        };
        if let (Some(call), Some((events, ids))) = (media_init, self.outgoing.as_mut()) {
            events.push(event);
            ids.push(call);
            return (Route::Held(Vec::new()), None);
        }
        // A line without a pjsua id written while an outgoing call is set up (its media
        // transport's `RTP socket reachable at …`, a failure to send its INVITE) is that call's,
        // not the latest message's (in a B2BUA, the incoming leg's).
        if let (None, Some((events, _))) = (pjsua_call(kind), self.outgoing.as_mut()) {
            events.push(event);
            return (Route::Held(Vec::new()), None);
        }
        let mut bound = None;
        if let (Some(call), Some(o)) = (media_init, self.last_rx_invite) {
            self.bound.insert(call, o);
            self.last_rx_invite = None;
            bound = Some((o, call));
        }
        let owner = pjsua_call(kind)
            .and_then(|id| self.bound.get(&id).copied())
            .filter(|&o| alive(o))
            .or(self.last.filter(|&o| alive(o)));
        let route = match owner {
            Some(o) => Route::To(o, event),
            None => Route::Unowned(event),
        };
        (route, bound)
    }
}

/// Whether a message is a call's initial INVITE (`Some(direction)`): a parsed INVITE without a
/// To tag, or a sent INVITE cut before its headers could tell (its call unknown).
pub(super) fn initial_invite(m: &crate::event::MessageEvent) -> Option<Option<Direction>> {
    let initial = match m.parsed() {
        Some(p) => p.method() == Some("INVITE") && p.to().is_some_and(|t| t.tag().is_none()),
        None => m.direction == Some(Direction::Tx) && m.raw().starts_with(b"INVITE "),
    };
    initial.then_some(m.direction)
}

/// Whether a message is a request this input sent (a capture cannot tell: any request), which
/// a DNS lookup just before it may have been made for. Not an ACK: it goes where its INVITE
/// went.
pub(super) fn sent_request(p: &crate::sip::SipMessage, direction: Option<Direction>) -> bool {
    p.is_request() && p.method() != Some("ACK") && direction != Some(Direction::Rx)
}

pub fn link(model: &mut Model) {
    let mut state: Map<usize, Binder<Owner, usize>> = Map::default();
    let mut links: Vec<(usize, Owner)> = Vec::new();
    let mut pjsua_ids: Vec<(usize, PjsuaCall)> = Vec::new();
    let call_of = |o: Owner| match o {
        Owner::Call(c) => Some(c),
        Owner::Flow(_) => None,
    };
    for (i, ev) in model.events.iter().enumerate() {
        let input = ev.origin().input;
        let st = state.entry(input).or_default();
        match ev {
            Event::Message(m) => {
                let owner = model.event_owner[i];
                let parsed = m.parsed();
                let initial = initial_invite(m)
                    .filter(|_| owner.is_none() || owner.and_then(call_of).is_some());
                let sent = parsed.is_some_and(|p| sent_request(p, m.direction));
                let r = st.message(owner, initial, sent, m.ts);
                if let Some(o) = owner {
                    links.extend(r.to_owner.into_iter().map(|e| (e, o)));
                }
                if let Some(c) = owner.and_then(call_of) {
                    pjsua_ids.extend(
                        r.ids
                            .into_iter()
                            .map(|id| (c, PjsuaCall { input, call: id })),
                    );
                }
            }
            Event::Log(l) => {
                match route_kind(l) {
                    Kind::Lookup => {
                        st.lookup(i, l.ts);
                        continue;
                    }
                    Kind::ProcessWide => continue,
                    Kind::Line => {}
                }
                let (route, bound) = st.log(&l.kind, i, |_| true);
                if let Some((c, call)) = bound.and_then(|(o, call)| Some((call_of(o)?, call))) {
                    pjsua_ids.push((c, PjsuaCall { input, call }));
                }
                if let Route::To(o, e) = route {
                    links.push((e, o));
                }
            }
        }
    }
    for (event, owner) in links {
        model.event_owner[event] = Some(owner);
        match owner {
            Owner::Call(c) => model.calls[c].log_events.push(event),
            Owner::Flow(f) => model.flows[f].log_events.push(event),
        }
    }
    for (c, p) in pjsua_ids {
        if !model.calls[c].pjsua_calls.contains(&p) {
            model.calls[c].pjsua_calls.push(p);
        }
    }
    for call in &mut model.calls {
        call.log_events.sort_unstable();
    }
    for flow in &mut model.flows {
        flow.log_events.sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Timestamp;

    #[test]
    fn lines_held_for_an_invite_cut_before_its_call_id_go_to_no_call() {
        // `Making call …` and `Call 0: initializing media..` wait for their TX INVITE; that
        // INVITE is cut before its Call-ID (no owner): they are let go, not bound to the next
        // call's INVITE.
        let mut b: Binder<u32, &str> = Binder::default();
        let ts = Timestamp::default();
        let making = LogKind::MakingCall {
            account: 0,
            target: "sip:260@example.com".into(),
        };
        assert!(matches!(b.log(&making, "making", |_| true).0, Route::Held(v) if v.is_empty()));
        let media = LogKind::CallMediaInit { call: 0 };
        assert!(matches!(b.log(&media, "media", |_| true).0, Route::Held(v) if v.is_empty()));
        let r = b.message(None, Some(Some(Direction::Tx)), true, ts);
        assert_eq!(r.unowned, ["making", "media"]);
        let r = b.message(Some(7), Some(Some(Direction::Tx)), true, ts);
        assert!(r.to_owner.is_empty() && r.ids.is_empty());
        assert!(b.drain().is_empty());
    }
}
