//! Links pjsua call ids (`call 0`) in a pjsip log to the SIP call they belong to, so that log
//! lines become evidence on that call.
//!
//! pjsua logs no Call-ID next to its call ids, so the link is made the way the log is written:
//! an incoming call's first `Call N: initializing media..` follows the RX INVITE that created
//! it; an outgoing call's `Making call …` and media init come just *before* its TX INVITE. A
//! pjsua id is re-bound whenever it is initialised again (pjsua reuses slots). Lines without a
//! call id (`Delaying BYE…`, send failures, PJ errors) go to the call or flow of the latest
//! message in the same input. Owns only this linking (its state machine, [`Binder`], is also
//! what `super::window` routes log lines with); does not own parsing the lines.

use std::collections::HashMap;

use super::call::PjsuaCall;
use super::{Model, Owner};
use crate::event::{Direction, Event, LogKind};

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
    )
}

/// pjsua's call ids in one input, bound to their owners the way the log is written. `O` is what
/// owns events (a call in [`link`], an open group in [`super::window`]); `E` is what is held
/// for an outgoing call until its INVITE is sent (an event index, or the event itself).
pub(super) struct Binder<O, E> {
    /// pjsua id → owner.
    bound: HashMap<u32, O>,
    /// An outgoing call is being set up: these log events and pjsua ids wait for its TX INVITE.
    outgoing: Option<(Vec<E>, Vec<u32>)>,
    last_rx_invite: Option<O>,
    last: Option<O>,
}

impl<O, E> Default for Binder<O, E> {
    fn default() -> Self {
        Binder {
            bound: HashMap::new(),
            outgoing: None,
            last_rx_invite: None,
            last: None,
        }
    }
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
    /// A message owned by `owner`. When it is a call's initial INVITE (`initial` gives its
    /// direction), a sent one takes the held outgoing lines, returned with the ids now bound;
    /// a received one waits for the media init line that names its pjsua id.
    pub fn message(
        &mut self,
        owner: Option<O>,
        initial: Option<Option<Direction>>,
    ) -> (Vec<E>, Vec<u32>) {
        self.last = owner.or(self.last);
        let (Some(o), Some(direction)) = (owner, initial) else {
            return (Vec::new(), Vec::new());
        };
        if direction != Some(Direction::Tx) {
            self.last_rx_invite = Some(o);
            return (Vec::new(), Vec::new());
        }
        let Some((events, ids)) = self.outgoing.take() else {
            return (Vec::new(), Vec::new());
        };
        for &id in &ids {
            self.bound.insert(id, o);
        }
        (events, ids)
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

pub fn link(model: &mut Model) {
    let mut state: HashMap<usize, Binder<Owner, usize>> = HashMap::new();
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
                let initial = m
                    .parsed()
                    .is_some_and(|p| {
                        owner.and_then(call_of).is_some()
                            && p.method() == Some("INVITE")
                            && p.to().is_some_and(|t| t.tag().is_none())
                    })
                    .then_some(m.direction);
                let (held, ids) = st.message(owner, initial);
                if let Some(o) = owner {
                    links.extend(held.into_iter().map(|e| (e, o)));
                }
                if let Some(c) = owner.and_then(call_of) {
                    pjsua_ids.extend(ids.into_iter().map(|id| (c, PjsuaCall { input, call: id })));
                }
            }
            Event::Log(l) => {
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
