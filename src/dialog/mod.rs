//! Correlation: from a time-ordered event stream to wire messages, transactions, dialogs, calls
//! and non-call flows.
//!
//! Owns: de-duplication of one message seen from several vantage points (both ends' logs),
//! transaction matching ([`transaction`]), dialog and call assembly with the derived outcome,
//! setup time, answer time, duration and who hung up ([`call`]), the link from pjsua call ids in
//! a log to their SIP dialog ([`pjsua`]), and the B2BUA leg graph ([`legs`]). The clock is the
//! log's clock, never the wall clock. Does not own: reading inputs, the SIP grammar, judging
//! calls (rules) or printing.

pub mod call;
pub mod legs;
pub mod pjsua;
pub mod transaction;
pub mod window;

#[cfg(test)]
mod tests;

pub use call::{Call, Flow, Outcome, Party};
use std::sync::Arc;

use smallvec::{SmallVec, smallvec};

use transaction::{Transaction, TsxKey};

use crate::event::{Event, MessageEvent, Timestamp};
use crate::hash::Map;
use crate::sip::SipMessage;

/// Correlation settings.
#[derive(Debug, Clone)]
pub struct CorrelateOptions {
    /// Headers whose value names another leg's Call-ID (or, for `Session-ID`, a shared session
    /// UUID), in the order they are tried.
    pub correlation_headers: Vec<String>,
}

impl Default for CorrelateOptions {
    fn default() -> Self {
        CorrelateOptions {
            correlation_headers: ["X-Call-ID", "X-CID", "Session-ID"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// One message on the wire, with every place it was seen.
#[derive(Debug, Clone)]
pub struct WireMessage {
    /// Index of the first sighting in [`Model::events`].
    pub event: usize,
    /// Every sighting (the first included), in time order.
    pub sightings: SmallVec<[usize; 2]>,
    pub tsx: Option<usize>,
    /// The same request or response was already seen in this transaction.
    pub retransmission: bool,
    pub src: Option<Arc<str>>,
    pub dst: Option<Arc<str>>,
}

/// Where a wire message or log event belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    Call(usize),
    Flow(usize),
}

/// Everything correlation rebuilt from one run's events.
#[derive(Debug, Default)]
pub struct Model {
    pub events: Vec<Event>,
    pub messages: Vec<WireMessage>,
    pub transactions: Vec<Transaction>,
    pub calls: Vec<Call>,
    pub flows: Vec<Flow>,
    /// The owner of each wire message (None: no Call-ID could be found).
    pub message_owner: Vec<Option<Owner>>,
    /// The owner of each event (messages and log lines), by event index.
    pub event_owner: Vec<Option<Owner>>,
}

impl Model {
    pub fn message(&self, wire: usize) -> &MessageEvent {
        match &self.events[self.messages[wire].event] {
            Event::Message(m) => m,
            Event::Log(_) => unreachable!("wire messages index message events"),
        }
    }

    /// Shifts the 1-based numbers of calls and flows past those of earlier windows (see
    /// [`window`]), so that they stay unique in a run.
    pub fn renumber(&mut self, calls_before: usize, flows_before: usize) {
        for c in &mut self.calls {
            c.index += calls_before;
            c.group += calls_before;
            for l in &mut c.linked {
                *l += calls_before;
            }
        }
        for f in &mut self.flows {
            f.index += flows_before;
        }
    }

    /// Keeps the calls and flows whose `keep_*` entry is true (a selection), in order, with
    /// their numbers. The events and wire messages of the others stay, owned by nobody.
    /// Returns where each call and flow went (`None`: dropped), to move what points at them.
    pub fn retain(
        &mut self,
        keep_calls: &[bool],
        keep_flows: &[bool],
    ) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
        fn positions(keep: &[bool], len: usize) -> Vec<Option<usize>> {
            let mut next = 0;
            (0..len)
                .map(|i| {
                    keep.get(i).copied().unwrap_or(false).then(|| {
                        next += 1;
                        next - 1
                    })
                })
                .collect()
        }
        let calls = positions(keep_calls, self.calls.len());
        let flows = positions(keep_flows, self.flows.len());
        let mut i = 0;
        self.calls.retain(|_| {
            i += 1;
            calls[i - 1].is_some()
        });
        let mut i = 0;
        self.flows.retain(|_| {
            i += 1;
            flows[i - 1].is_some()
        });
        let moved = |o: Option<Owner>| match o? {
            Owner::Call(c) => calls[c].map(Owner::Call),
            Owner::Flow(f) => flows[f].map(Owner::Flow),
        };
        for o in self.message_owner.iter_mut().chain(&mut self.event_owner) {
            *o = moved(*o);
        }
        (calls, flows)
    }

    /// Finds a call by Call-ID or by its 1-based index.
    pub fn find_call(&self, key: &str) -> Option<&Call> {
        self.calls.iter().find(|c| c.call_id == key).or_else(|| {
            key.parse::<usize>()
                .ok()
                .and_then(|i| self.calls.iter().find(|c| c.index == i))
        })
    }
}

/// Rebuilds transactions, dialogs, calls and flows.
pub fn correlate(events: Vec<Event>, opts: &CorrelateOptions) -> Model {
    let mut b = Builder::default();
    b.model.event_owner = vec![None; events.len()];
    for (i, ev) in events.iter().enumerate() {
        if let Event::Message(m) = ev {
            b.add_message(&events, i, m);
        }
    }
    b.attach_orphans(&events);
    b.model.events = events;
    let mut model = b.model;
    call::finish(&mut model);
    pjsua::link(&mut model);
    legs::link(&mut model, &opts.correlation_headers);
    model
}

#[derive(Default)]
struct Builder {
    model: Model,
    /// (content hash, occurrence) → wire message.
    seen: Map<(u64, usize), usize>,
    /// (input, content hash) → occurrences so far in that input.
    occurrences: Map<(usize, u64), usize>,
    tsx_index: Map<TsxKey, usize>,
    /// Call-ID → call indexes (a Call-ID may carry several INVITE dialogs from different
    /// From tags).
    calls_by_id: Map<String, Vec<usize>>,
    flows_by_id: Map<String, usize>,
    /// Message identity → wire messages, to pair cut sightings (see [`Builder::cut_copy_of`]).
    by_identity: Map<Identity, SmallVec<[usize; 1]>>,
}

/// A hash of the start line, Call-ID and CSeq: what a cut copy of a message still shares with
/// the whole one. Kept for every message, so it is a number, not the strings.
type Identity = u64;

fn identity(m: &MessageEvent) -> Option<Identity> {
    let msg = m.parsed()?;
    Some(crate::hash::fingerprint(&(
        msg.raw().get(msg.start_span())?,
        msg.call_id()?,
        msg.cseq_seq()?,
        msg.cseq_method()?,
    )))
}

impl Builder {
    fn add_message(&mut self, events: &[Event], event: usize, m: &MessageEvent) {
        let hash = m.content_hash();
        let occ = self.occurrences.entry((m.origin.input, hash)).or_insert(0);
        let key = (hash, *occ);
        *occ += 1;
        let identity = identity(m);
        let same = self
            .seen
            .get(&key)
            .copied()
            .or_else(|| self.cut_copy_of(events, m, identity?));
        if let Some(wire) = same {
            self.add_sighting(events, wire, event, m);
            return;
        }
        let wire = self.model.messages.len();
        self.seen.insert(key, wire);
        if let Some(id) = identity {
            self.by_identity.entry(id).or_default().push(wire);
        }
        let mut w = WireMessage {
            event,
            sightings: smallvec![event],
            tsx: None,
            retransmission: false,
            src: m.src.clone(),
            dst: m.dst.clone(),
        };
        let owner = match &m.msg {
            Ok(msg) => {
                if let Some(key) = TsxKey::of(msg) {
                    let next = self.model.transactions.len();
                    let t = *self.tsx_index.entry(key).or_insert(next);
                    if t == next {
                        let method = msg.method_or_cseq_method().unwrap_or_default();
                        self.model.transactions.push(Transaction::new(key, method));
                    }
                    w.tsx = Some(t);
                    w.retransmission = self.model.transactions[t].add(wire, msg);
                }
                // A copy cut before its Call-ID (the end of an excerpt) belongs where its
                // transaction does.
                self.owner_of(msg, wire, m.ts).or_else(|| {
                    let first = *self.model.transactions[w.tsx?].messages.first()?;
                    self.model.message_owner.get(first).copied().flatten()
                })
            }
            Err(u) => call_id_in_raw(&u.raw)
                .and_then(|id| self.owner_by_id(&id))
                .or_else(|| self.owner_of_tail(m, wire)),
        };
        self.model.messages.push(w);
        self.model.message_owner.push(owner);
        self.model.event_owner[event] = owner;
        match owner {
            Some(Owner::Call(c)) => self.model.calls[c].messages.push(wire),
            Some(Owner::Flow(f)) => self.model.flows[f].messages.push(wire),
            None => {}
        }
    }

    /// Another sighting of a wire message: merge what it tells. A complete copy replaces a cut
    /// one as the message's primary event.
    fn add_sighting(&mut self, events: &[Event], wire: usize, event: usize, m: &MessageEvent) {
        let w = &mut self.model.messages[wire];
        w.sightings.push(event);
        w.src = w.src.take().or_else(|| m.src.clone());
        w.dst = w.dst.take().or_else(|| m.dst.clone());
        let primary_cut = matches!(&events[w.event], Event::Message(p) if p.truncated());
        if primary_cut && !m.truncated() {
            w.event = event;
        }
        if let Some(owner) = self.model.message_owner[wire] {
            self.model.event_owner[event] = Some(owner);
        }
    }

    /// A sighting that pjsip's log cap cut (or whose earlier sighting was cut) is the same wire
    /// message as one with the same identity whose bytes it is a prefix of (or that are a prefix
    /// of it), provided that message has no sighting from this input yet.
    fn cut_copy_of(&self, events: &[Event], m: &MessageEvent, id: Identity) -> Option<usize> {
        let raw = m.raw();
        self.by_identity.get(&id)?.iter().copied().find(|&wire| {
            let w = &self.model.messages[wire];
            let Event::Message(p) = &events[w.event] else {
                return false;
            };
            let from_here = w
                .sightings
                .iter()
                .any(|&s| events[s].origin().input == m.origin.input);
            (m.truncated() || p.truncated())
                && !from_here
                && (p.raw().starts_with(raw) || raw.starts_with(p.raw()))
        })
    }

    /// The call or flow a parsed message belongs to, creating it if needed.
    fn owner_of(&mut self, msg: &SipMessage, wire: usize, ts: Timestamp) -> Option<Owner> {
        let call_id = msg.call_id()?;
        let from_tag = msg.from_tag();
        let to_tag = msg.to_tag();
        let method = msg
            .method()
            .or_else(|| msg.cseq_method())
            .unwrap_or_default();
        let initial_invite = msg.method() == Some("INVITE") && to_tag.is_none();
        let calls = self
            .calls_by_id
            .get(&*call_id)
            .map_or(&[][..], Vec::as_slice);
        let tagged = calls.iter().copied().find(|&c| {
            let t = self.model.calls[c].caller_tag.as_deref();
            t.is_some() && (t == from_tag || t == to_tag)
        });
        let only = match calls {
            [c] if !initial_invite => Some(*c),
            _ => None,
        };
        if let Some(c) = tagged.or(only) {
            return Some(Owner::Call(c));
        }
        if call::is_call_method(method) {
            let c = self.model.calls.len();
            self.model.calls.push(Call::new(
                c + 1,
                call_id.to_string(),
                from_tag.map(str::to_string),
                wire,
                ts,
            ));
            self.calls_by_id
                .entry(call_id.into_owned())
                .or_default()
                .push(c);
            return Some(Owner::Call(c));
        }
        if let Some(&f) = self.flows_by_id.get(&*call_id) {
            return Some(Owner::Flow(f));
        }
        let f = self.model.flows.len();
        self.flows_by_id.insert(call_id.to_string(), f);
        self.model.flows.push(Flow::new(
            f + 1,
            call_id.into_owned(),
            method.to_string(),
            wire,
            ts,
        ));
        Some(Owner::Flow(f))
    }

    /// Messages that did not parse and came before their call's first parsed message: attach
    /// them by the Call-ID line found in their raw bytes, now that every call exists.
    fn attach_orphans(&mut self, events: &[Event]) {
        for wire in 0..self.model.messages.len() {
            if self.model.message_owner[wire].is_some() {
                continue;
            }
            let event = self.model.messages[wire].event;
            let Event::Message(m) = &events[event] else {
                continue;
            };
            let Some(owner) = call_id_in_raw(m.raw()).and_then(|id| self.owner_by_id(&id)) else {
                continue;
            };
            self.model.message_owner[wire] = Some(owner);
            for &s in &self.model.messages[wire].sightings {
                self.model.event_owner[s] = Some(owner);
            }
            let list = match owner {
                Owner::Call(c) => &mut self.model.calls[c].messages,
                Owner::Flow(f) => &mut self.model.flows[f].messages,
            };
            let pos = list.partition_point(|&w| w < wire);
            list.insert(pos, wire);
        }
    }

    /// The call or flow of a message the input starts inside (a log excerpt that starts in a
    /// dump): no start line, but its header lines name the Call-ID, the CSeq method and the
    /// caller's tag, which is enough to open its call when nothing else has. It counts as no
    /// message of any kind.
    fn owner_of_tail(&mut self, m: &MessageEvent, wire: usize) -> Option<Owner> {
        let raw = m.raw();
        let first = raw.split(|&b| b == b'\n').next()?;
        if m.cut != Some(crate::event::Cut::InputEdge) || !header_line(first) {
            return None;
        }
        let call_id = call_id_in_raw(raw)?;
        let method = header_in_raw(raw, &["cseq"])?
            .split_whitespace()
            .nth(1)?
            .to_string();
        if call::is_call_method(&method) {
            let from_tag = header_in_raw(raw, &["from", "f"]).and_then(|f| {
                crate::sip::NameAddr::parse(&f)?
                    .param("tag")
                    .map(str::to_string)
            });
            let c = self.model.calls.len();
            self.model
                .calls
                .push(Call::new(c + 1, call_id.clone(), from_tag, wire, m.ts));
            self.calls_by_id.entry(call_id).or_default().push(c);
            return Some(Owner::Call(c));
        }
        let f = self.model.flows.len();
        self.flows_by_id.insert(call_id.clone(), f);
        self.model
            .flows
            .push(Flow::new(f + 1, call_id, method, wire, m.ts));
        Some(Owner::Flow(f))
    }

    fn owner_by_id(&self, call_id: &str) -> Option<Owner> {
        if let Some(calls) = self.calls_by_id.get(call_id) {
            return calls.first().map(|&c| Owner::Call(c));
        }
        self.flows_by_id.get(call_id).map(|&f| Owner::Flow(f))
    }
}

/// The Call-ID of a message that did not parse, found by a plain line scan.
fn call_id_in_raw(raw: &[u8]) -> Option<String> {
    header_in_raw(raw, &["call-id", "i"])
}

/// The first value of a header (any of `names`, compared without case) in a message that did
/// not parse, found by a plain line scan.
fn header_in_raw(raw: &[u8], names: &[&str]) -> Option<String> {
    raw.split(|&b| b == b'\n').find_map(|line| {
        let line = String::from_utf8_lossy(line);
        let (name, value) = line.split_once(':')?;
        let name = name.trim();
        names
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
            .then(|| value.trim().to_string())
            .filter(|v| !v.is_empty())
    })
}

/// `Name: value` (a token, a colon): a header line, not a start line.
fn header_line(line: &[u8]) -> bool {
    let name = line
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
        .count();
    name > 0
        && line
            .get(name..)
            .is_some_and(|r| r.trim_ascii_start().starts_with(b":"))
}
