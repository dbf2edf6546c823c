//! Links pjsua call ids (`call 0`) in a pjsip log to the SIP call they belong to, so that log
//! lines become evidence on that call.
//!
//! pjsua logs no Call-ID next to its call ids, so the link is made the way the log is written:
//! an incoming call's first `Call N: initializing media..` follows the RX INVITE that created
//! it; an outgoing call's `Making call …` and media init come just *before* its TX INVITE. A
//! pjsua id is re-bound whenever it is initialised again (pjsua reuses slots). Lines without a
//! call id (`Delaying BYE…`, send failures, PJ errors) go to the call or flow of the latest
//! message in the same input. Owns only this linking; does not own parsing the lines.

use std::collections::HashMap;

use super::call::PjsuaCall;
use super::{Model, Owner};
use crate::event::{Direction, Event, LogKind};

/// The pjsua call id a log line names, if any.
pub(super) fn pjsua_call(kind: &LogKind) -> Option<u32> {
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
pub(super) fn process_wide(kind: &LogKind) -> bool {
    matches!(
        kind,
        LogKind::ExternalThread | LogKind::SoundDevice | LogKind::AccountDeleted { .. }
    )
}

#[derive(Default)]
struct InputState {
    /// pjsua id → call index.
    bound: HashMap<u32, usize>,
    /// An outgoing call is being set up: these log events and pjsua ids wait for its TX INVITE.
    outgoing: Option<(Vec<usize>, Vec<u32>)>,
    last_rx_invite: Option<usize>,
    last_owner: Option<Owner>,
}

pub fn link(model: &mut Model) {
    let mut state: HashMap<usize, InputState> = HashMap::new();
    let mut links: Vec<(usize, Owner)> = Vec::new();
    let mut pjsua_ids: Vec<(usize, PjsuaCall)> = Vec::new();
    for (i, ev) in model.events.iter().enumerate() {
        let input = ev.origin().input;
        let st = state.entry(input).or_default();
        match ev {
            Event::Message(m) => {
                let owner = model.event_owner[i];
                st.last_owner = owner.or(st.last_owner);
                let Some(Owner::Call(c)) = owner else {
                    continue;
                };
                let initial = m.parsed().is_some_and(|p| {
                    p.method() == Some("INVITE") && p.to().is_some_and(|t| t.tag().is_none())
                });
                if !initial {
                    continue;
                }
                match m.direction {
                    Some(Direction::Tx) => {
                        if let Some((events, ids)) = st.outgoing.take() {
                            for id in ids {
                                st.bound.insert(id, c);
                                pjsua_ids.push((c, PjsuaCall { input, call: id }));
                            }
                            links.extend(events.into_iter().map(|e| (e, Owner::Call(c))));
                        }
                    }
                    _ => st.last_rx_invite = Some(c),
                }
            }
            Event::Log(l) => {
                if process_wide(&l.kind) {
                    continue;
                }
                if let LogKind::MakingCall { .. } = l.kind {
                    st.outgoing = Some((vec![i], Vec::new()));
                    continue;
                }
                let id = pjsua_call(&l.kind);
                if let (LogKind::CallMediaInit { call }, Some((events, ids))) =
                    (&l.kind, st.outgoing.as_mut())
                {
                    events.push(i);
                    ids.push(*call);
                    continue;
                }
                if let (LogKind::CallMediaInit { call }, Some(c)) = (&l.kind, st.last_rx_invite) {
                    st.bound.insert(*call, c);
                    st.last_rx_invite = None;
                    pjsua_ids.push((c, PjsuaCall { input, call: *call }));
                }
                let owner = id
                    .and_then(|id| st.bound.get(&id).map(|&c| Owner::Call(c)))
                    .or(st.last_owner);
                if let Some(o) = owner {
                    links.push((i, o));
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
