//! Windows: the event stream cut into pieces that can be analysed alone, so that memory grows
//! with the calls open at once, not with the input.
//!
//! Events are grouped by Call-ID as they arrive. A group *closes* when it is over: the final
//! response to its BYE, the ACK of a final non-2xx response to its INVITE, or the final response
//! of a non-INVITE flow (REGISTER, OPTIONS, …). Waiting for that last message ends in log time
//! after 32 s (64 × T1, RFC 3261's Timer B/F/H). A group that is not an established call also
//! closes after [`IDLE_MICROS`] without an event; an established call stays open until its
//! BYE, the end of the input, or the open-call limit. Closed groups wait together; once they
//! hold [`Limits::window_events`] events they are handed on, in arrival order, as one
//! [`Window`], which is then correlated and judged like a whole input. Until then, stragglers
//! of a closed group (retransmissions) join it, and a new request on its Call-ID (an INVITE
//! sent again with credentials) starts a group of its own that correlation joins to it when
//! both are in one window. So an input smaller than a window gives exactly one window: the same
//! result as having held it all, and the same output.
//!
//! pjsua log lines go with the group of the call they name (`Call 2 …`), bound the way
//! [`super::pjsua`] binds them; DNS lookups go with the group of the next request the same input
//! sends (within 32 s); process-wide lines, a capture's TLS facts and lines that name no open
//! call go with the next window, and so do lines still held when the input ends.
//!
//! The open-call limit closes the oldest group when more are open (a flood of dialogs that
//! never end), and a group of four windows' events (a flood of messages in one dialog) is closed
//! too; both are reported: such a call may be split, and a later part of it seen as a dialog
//! nobody started. Owns only the cutting; does not own correlation.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use miette::Diagnostic;

use super::call_id_in_raw;
use super::pjsua::{Binder, Kind, Route, initial_invite, route_kind, sent_request};
use crate::event::{Event, Timestamp};
use crate::hash::Map;

/// Log time without an event after which a group that is not an established call closes.
pub const IDLE_MICROS: i64 = 300_000_000;
/// Log time a group waits for its last message (64 × T1).
const WAIT_MICROS: i64 = 32_000_000;

/// The bounds of windowing (`--limit open-calls=…`, `--limit window-events=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Groups (calls, flows) open at once; beyond it the oldest is closed early.
    pub open_calls: usize,
    /// Events of closed groups held before they are handed on as a window.
    pub window_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            open_calls: 4_096,
            window_events: 4_096,
        }
    }
}

/// A piece of the stream that can be analysed alone.
#[derive(Debug, Default)]
pub struct Window {
    /// In arrival (log time) order.
    pub events: Vec<Event>,
    /// How far each input had been read when the window was cut (by input index): what rules
    /// that ask "did anything come before the input ended" must compare with.
    pub input_ends: Vec<Option<Timestamp>>,
}

/// A limit was reached: some calls were analysed before they ended.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error(
    "{closed_early} call(s) or flow(s) were analysed before they ended, to bound memory: more \
     than {open_calls} were open at once, or one held four times {window_events} events"
)]
#[diagnostic(
    code(sipflow::limit::open_calls),
    severity(Warning),
    help(
        "their later messages may show as dialogs nobody started; raise the limits with \
         --limit open-calls=N or --limit window-events=N (memory grows with them)"
    )
)]
pub struct OpenCallLimit {
    pub closed_early: usize,
    pub open_calls: usize,
    pub window_events: usize,
}

/// One open group of events: a Call-ID's messages and the log lines bound to it.
struct Group {
    call_id: String,
    /// (arrival number, event).
    events: Numbered,
    last: Timestamp,
    /// A 2xx answered its INVITE and no BYE came yet.
    established: bool,
    /// Whether an INVITE was seen (a call, not a flow).
    call: bool,
    /// Waiting for a last message (the BYE's response, the ACK of a failure) until then.
    ending: Option<i64>,
    /// Its key in `deadlines`.
    deadline: Option<i64>,
}

impl Group {
    fn deadline(&self) -> Option<i64> {
        match self.ending {
            Some(t) => Some(t),
            None if self.established => None,
            None => Some(self.last.micros.saturating_add(IDLE_MICROS)),
        }
    }

    /// Takes what a message tells about the group's end; `true` when the group is over.
    fn observe(&mut self, ev: &Event) -> bool {
        let Event::Message(m) = ev else {
            return false;
        };
        self.last = self.last.max(m.ts);
        let Some(msg) = m.parsed() else {
            return false;
        };
        let wait = Some(m.ts.micros.saturating_add(WAIT_MICROS));
        let method = msg
            .method()
            .or_else(|| msg.cseq_method())
            .unwrap_or_default();
        match (msg.status(), method) {
            (None, "INVITE") => {
                self.call = true;
                self.ending = None;
            }
            (None, "BYE") => {
                self.established = false;
                self.ending = wait;
            }
            (None, "ACK") => return self.ending.is_some() && !self.established,
            (Some(200..), "BYE") => return true,
            (Some(200..=299), "INVITE") => {
                self.call = true;
                self.established = self.ending.is_none();
            }
            (Some(300..), "INVITE") if !self.established => self.ending = wait,
            (Some(200..), _) if !self.call => return true,
            _ => {}
        }
        false
    }
}

/// Events with their arrival numbers.
type Numbered = Vec<(u64, Event)>;

/// How long, on the wall clock, a closed group of a live input waits for a retry on its
/// Call-ID (after a challenge, a redirect) before [`Windows::flush`] hands it on.
pub const LINGER: Duration = Duration::from_millis(500);

/// A closed group (or an unbound event) waiting for the next window.
struct Closed {
    /// Log time when it closed.
    at: i64,
    /// Wall-clock time when it closed (live inputs only).
    wall: Option<Instant>,
    call_id: Option<String>,
    events: Numbered,
}

/// Cuts an event stream into [`Window`]s.
pub struct Windows {
    limits: Limits,
    arrivals: u64,
    /// Open groups, oldest first (groups are numbered in order of creation).
    groups: BTreeMap<u64, Group>,
    by_call_id: Map<String, u64>,
    /// (deadline, group) of open groups that close by time.
    deadlines: BTreeSet<(i64, u64)>,
    /// Call-IDs of the closed groups not handed on yet (index into `closed`): their
    /// stragglers join them.
    closed_ids: Map<String, usize>,
    next_group: u64,
    /// Per input: pjsua call ids bound to groups, held lines of an outgoing call.
    pjsua: Map<usize, Binder<u64, (u64, Event)>>,
    /// Closed groups and unbound log lines, in order of closing, waiting for the next window.
    closed: Vec<Closed>,
    /// Their events.
    closed_events: usize,
    input_ends: Vec<Option<Timestamp>>,
    now: Timestamp,
    closed_early: usize,
    /// Live inputs: the wall-clock time the last event arrived, and the log time then.
    arrived: Option<(Instant, Timestamp)>,
    live: bool,
}

impl Windows {
    pub fn new(limits: Limits) -> Self {
        Windows {
            limits,
            arrivals: 0,
            groups: BTreeMap::new(),
            by_call_id: Map::default(),
            deadlines: BTreeSet::new(),
            closed_ids: Map::default(),
            next_group: 0,
            pjsua: Map::default(),
            closed: Vec::new(),
            closed_events: 0,
            input_ends: Vec::new(),
            now: Timestamp::default(),
            closed_early: 0,
            arrived: None,
            live: false,
        }
    }

    /// Windows of live inputs, handed on by [`Windows::flush`] as the wall clock goes.
    pub fn live(limits: Limits) -> Self {
        Windows {
            live: true,
            ..Windows::new(limits)
        }
    }

    /// Live inputs: lets the wall clock run the log's. The log time is taken to have gone on
    /// since the last event as long as the wall clock has (so an unanswered request or an idle
    /// flow times out while nothing arrives, and the inputs count as read up to then); then
    /// the groups closed at least [`LINGER`] ago are handed on, with every closed group of
    /// their Call-ID, unless one of those closed later. Open groups (a call in progress) stay.
    pub fn flush(&mut self, wall: Instant) -> Option<Window> {
        if let Some((at, log)) = self.arrived {
            let gone =
                i64::try_from(wall.saturating_duration_since(at).as_micros()).unwrap_or(i64::MAX);
            let now = log.micros.saturating_add(gone);
            if now > self.now.micros && self.now.is_known() {
                self.now.micros = now;
                for end in self.input_ends.iter_mut().flatten() {
                    if end.is_known() {
                        end.micros = end.micros.max(now);
                    }
                }
                self.close_due();
            }
        }
        let settled = wall.checked_sub(LINGER);
        let fresh: Vec<bool> = self
            .closed
            .iter()
            .map(|c| matches!((c.wall, settled), (Some(w), Some(s)) if w > s))
            .collect();
        let recent: BTreeSet<&str> = self
            .closed
            .iter()
            .zip(&fresh)
            .filter(|(_, f)| **f)
            .filter_map(|(c, _)| c.call_id.as_deref())
            .collect();
        let keep: Vec<bool> = self
            .closed
            .iter()
            .zip(&fresh)
            .map(|(c, &f)| f || c.call_id.as_deref().is_some_and(|id| recent.contains(id)))
            .collect();
        if keep.iter().all(|&k| k) {
            return None;
        }
        Some(self.cut_keeping(keep))
    }

    /// Takes the next event; returns a window when one is complete.
    pub fn push(&mut self, ev: Event) -> Option<Window> {
        let seq = self.arrivals;
        self.arrivals += 1;
        let input = ev.origin().input;
        if self.input_ends.len() <= input {
            self.input_ends.resize(input + 1, None);
        }
        let ts = ev.ts();
        self.input_ends[input] = Some(self.input_ends[input].map_or(ts, |t| t.max(ts)));
        self.now = self.now.max(ts);
        if self.live {
            self.arrived = Some((Instant::now(), self.now));
        }
        match &ev {
            Event::Message(_) => self.message(seq, ev),
            Event::Log(_) => self.log(seq, ev),
        }
        self.close_due();
        while self.groups.len() > self.limits.open_calls {
            let Some(&oldest) = self.groups.keys().next() else {
                break;
            };
            self.close(oldest);
            self.closed_early += 1;
        }
        (self.closed_events >= self.limits.window_events).then(|| self.cut(true))
    }

    /// Closes the groups whose deadline has passed.
    fn close_due(&mut self) {
        while let Some(&(at, g)) = self.deadlines.first() {
            if at > self.now.micros {
                break;
            }
            self.close(g);
        }
    }

    /// Closes every group and returns the last window (possibly empty).
    pub fn finish(mut self) -> (Window, Option<OpenCallLimit>) {
        // Lines held for an outgoing call or a request that never came.
        let mut held: Numbered = self.pjsua.values_mut().flat_map(Binder::drain).collect();
        held.sort_by_key(|(seq, _)| *seq);
        for (seq, ev) in held {
            self.unbound(seq, ev);
        }
        let open: Vec<u64> = self.groups.keys().copied().collect();
        for g in open {
            self.close(g);
        }
        let limit = (self.closed_early > 0).then_some(OpenCallLimit {
            closed_early: self.closed_early,
            open_calls: self.limits.open_calls,
            window_events: self.limits.window_events,
        });
        (self.cut(false), limit)
    }

    /// Hands on the closed groups as a window. With `carry`, the groups that closed in the
    /// last [`WAIT_MICROS`] stay for the next window, with every other closed group of their
    /// Call-ID, as long as they hold at most a quarter of one: a retry on the same Call-ID
    /// (after a challenge, a redirect, a 422) then still meets the attempt before it.
    fn cut(&mut self, carry: bool) -> Window {
        let mut keep = vec![false; self.closed.len()];
        let mut kept_events = 0;
        if carry {
            let mut by_id: Map<&str, Vec<usize>> = Map::default();
            for (i, c) in self.closed.iter().enumerate() {
                if let Some(id) = &c.call_id {
                    by_id.entry(id.as_str()).or_default().push(i);
                }
            }
            let recent = self.now.micros.saturating_sub(WAIT_MICROS);
            for i in (0..self.closed.len()).rev() {
                if keep[i] {
                    continue;
                }
                let c = &self.closed[i];
                let cluster = match &c.call_id {
                    Some(id) => by_id.get(id.as_str()).map_or(&[][..], Vec::as_slice),
                    None => std::slice::from_ref(&i),
                };
                let size: usize = cluster.iter().map(|&j| self.closed[j].events.len()).sum();
                if c.at < recent || kept_events + size > self.limits.window_events / 4 {
                    break;
                }
                kept_events += size;
                for &j in cluster {
                    keep[j] = true;
                }
            }
        }
        self.cut_keeping(keep)
    }

    /// Hands on the closed groups but those marked in `keep`, which wait for the next window.
    fn cut_keeping(&mut self, keep: Vec<bool>) -> Window {
        let mut events: Numbered = Vec::new();
        let mut kept = Vec::new();
        for (c, keep) in std::mem::take(&mut self.closed).into_iter().zip(keep) {
            if keep {
                kept.push(c);
            } else {
                events.extend(c.events);
            }
        }
        self.closed = kept;
        let kept_events = self.closed.iter().map(|c| c.events.len()).sum();
        // Back in arrival order. Events are large: sort their numbers, then move each event
        // once, rather than moving events at every step of a sort.
        let mut order: Vec<(u64, usize)> = events
            .iter()
            .enumerate()
            .map(|(i, (seq, _))| (*seq, i))
            .collect();
        order.sort_unstable();
        let mut slots: Vec<Option<Event>> = events.into_iter().map(|(_, e)| Some(e)).collect();
        self.closed_events = kept_events;
        self.closed_ids.clear();
        for (i, c) in self.closed.iter().enumerate() {
            if let Some(id) = &c.call_id {
                self.closed_ids.insert(id.clone(), i);
            }
        }
        Window {
            events: order.iter().filter_map(|&(_, i)| slots[i].take()).collect(),
            input_ends: self.input_ends.clone(),
        }
    }

    /// An event that belongs to no open group: it waits for the next window on its own.
    fn unbound(&mut self, seq: u64, ev: Event) {
        self.push_closed(None, vec![(seq, ev)]);
    }

    fn push_closed(&mut self, call_id: Option<String>, events: Numbered) {
        self.closed_events += events.len();
        if let Some(id) = &call_id {
            self.closed_ids.insert(id.clone(), self.closed.len());
        }
        let wall = self.live.then(Instant::now);
        self.closed.push(Closed {
            at: self.now.micros,
            wall,
            call_id,
            events,
        });
    }

    fn message(&mut self, seq: u64, ev: Event) {
        let Event::Message(m) = &ev else {
            return;
        };
        let call_id = match m.parsed() {
            Some(p) => p.call_id().map(|c| c.into_owned()),
            None => call_id_in_raw(m.raw()),
        };
        let Some(call_id) = call_id else {
            // A sent INVITE cut before its Call-ID: the lines held for its call go with it.
            let r = self.pjsua.entry(m.origin.input).or_default().message(
                None,
                initial_invite(m),
                false,
                m.ts,
            );
            for (s, e) in r.unowned {
                self.unbound(s, e);
            }
            self.unbound(seq, ev);
            return;
        };
        let new_request = m
            .parsed()
            .is_some_and(|p| p.is_request() && p.method() != Some("ACK"));
        let g = match self.by_call_id.get(&call_id) {
            Some(&g) => g,
            None if !new_request && let Some(&c) = self.closed_ids.get(&call_id) => {
                self.closed_events += 1;
                self.closed[c].events.push((seq, ev));
                return;
            }
            None => self.open_group(call_id, m.ts),
        };
        let input = m.origin.input;
        let initial = initial_invite(m);
        let sent = m.parsed().is_some_and(|p| sent_request(p, m.direction));
        let r = self
            .pjsua
            .entry(input)
            .or_default()
            .message(Some(g), initial, sent, m.ts);
        for (s, e) in r.unowned {
            self.unbound(s, e);
        }
        for (s, e) in r.to_owner {
            self.add(g, s, e);
        }
        self.add(g, seq, ev);
    }

    fn log(&mut self, seq: u64, ev: Event) {
        let Event::Log(l) = &ev else {
            return;
        };
        let (input, kind, ts) = (l.origin.input, l.kind.clone(), l.ts);
        match route_kind(l) {
            Kind::Lookup => {
                let old = self.pjsua.entry(input).or_default().lookup((seq, ev), ts);
                for (s, e) in old {
                    self.unbound(s, e);
                }
                return;
            }
            Kind::ProcessWide => {
                self.unbound(seq, ev);
                return;
            }
            Kind::Line => {}
        }
        let groups = &self.groups;
        let st = self.pjsua.entry(input).or_default();
        let (route, _) = st.log(&kind, (seq, ev), |g| groups.contains_key(&g));
        match route {
            Route::To(g, (seq, ev)) => self.add(g, seq, ev),
            Route::Unowned((seq, ev)) => self.unbound(seq, ev),
            // Lines of a call set up before that never sent its INVITE wait on their own.
            Route::Held(before) if !before.is_empty() => self.push_closed(None, before),
            Route::Held(_) => {}
        }
    }

    fn open_group(&mut self, call_id: String, ts: Timestamp) -> u64 {
        let g = self.next_group;
        self.next_group += 1;
        self.by_call_id.insert(call_id.clone(), g);
        self.groups.insert(
            g,
            Group {
                call_id,
                // Most groups of a flood hold one event; a call grows it as it goes.
                events: Vec::with_capacity(1),
                last: ts,
                established: false,
                call: false,
                ending: None,
                deadline: None,
            },
        );
        g
    }

    fn add(&mut self, g: u64, seq: u64, ev: Event) {
        let Some(group) = self.groups.get_mut(&g) else {
            self.unbound(seq, ev);
            return;
        };
        let over = group.observe(&ev);
        group.events.push((seq, ev));
        if over {
            self.close(g);
            return;
        }
        // A call of four windows (a flood of messages in one dialog) is analysed so far.
        if group.events.len() >= self.limits.window_events.saturating_mul(4) {
            self.close(g);
            self.closed_early += 1;
            return;
        }
        let deadline = group.deadline();
        if deadline != group.deadline {
            if let Some(old) = group.deadline {
                self.deadlines.remove(&(old, g));
            }
            if let Some(new) = deadline {
                self.deadlines.insert((new, g));
            }
            group.deadline = deadline;
        }
    }

    fn close(&mut self, g: u64) {
        let Some(group) = self.groups.remove(&g) else {
            return;
        };
        if let Some(d) = group.deadline {
            self.deadlines.remove(&(d, g));
        }

        if self.by_call_id.get(&group.call_id) == Some(&g) {
            self.by_call_id.remove(&group.call_id);
        }
        self.push_closed(Some(group.call_id), group.events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{IngestOptions, ingest_bytes};

    /// The events of a recorded fixture, in order.
    fn fixture(rel: &str) -> Vec<Event> {
        let path = format!("{}/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(path).expect("fixture");
        ingest_bytes(rel, bytes, &IngestOptions::default())
            .expect("ingest")
            .2
    }

    /// Every window the events make with `limits`, and the limit report.
    fn windows(events: Vec<Event>, limits: Limits) -> (Vec<Window>, Option<OpenCallLimit>) {
        let mut w = Windows::new(limits);
        let mut out: Vec<Window> = events.into_iter().filter_map(|e| w.push(e)).collect();
        let (last, limit) = w.finish();
        out.push(last);
        (out, limit)
    }

    /// What identifies an event in these tests: its place in its input.
    fn places(events: &[Event]) -> Vec<String> {
        events.iter().map(|e| format!("{:?}", e.origin())).collect()
    }

    fn call_ids(w: &Window) -> Vec<String> {
        let mut ids: Vec<String> = w
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => m.parsed()?.call_id().map(|c| c.into_owned()),
                Event::Log(_) => None,
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    #[test]
    fn an_input_smaller_than_a_window_is_one_window_in_order() {
        let events = fixture("basic-call/caller.log");
        let before = places(&events);
        let (ws, limit) = windows(events, Limits::default());
        assert_eq!(ws.len(), 1);
        assert_eq!(places(&ws[0].events), before);
        assert!(limit.is_none());
    }

    #[test]
    fn every_event_lands_in_exactly_one_window_in_order() {
        for rel in [
            "call-freed-early/callee.log",
            "b2bua/b2bua.log",
            "captures/pjsua-udp/call.pcap",
            "register-401/ua.log",
        ] {
            let events = fixture(rel);
            let mut before = places(&events);
            let limits = Limits {
                open_calls: 10_000,
                window_events: 1,
            };
            let (ws, _) = windows(events, limits);
            assert!(ws.len() > 1, "{rel}: cut into several windows");
            let mut after = Vec::new();
            for w in &ws {
                let p = places(&w.events);
                let seq: Vec<usize> = p
                    .iter()
                    .map(|x| before.iter().position(|b| b == x).expect("known event"))
                    .collect();
                assert!(seq.windows(2).all(|s| s[0] < s[1]), "{rel}: in order");
                after.extend(p);
            }
            before.sort();
            after.sort();
            assert_eq!(before, after, "{rel}: nothing lost or doubled");
        }
    }

    #[test]
    fn a_call_is_handed_on_whole_once_it_is_over() {
        // One call to its BYE's 200, in windows as large as the call: it is one window, handed
        // on when its last message came, not at the end.
        let events = fixture("captures/pjsua-udp/call.pcap");
        let total = events.len();
        let limits = Limits {
            open_calls: 10_000,
            window_events: total,
        };
        let mut w = Windows::new(limits);
        let mut ws: Vec<Window> = events.into_iter().filter_map(|e| w.push(e)).collect();
        assert_eq!(ws.len(), 1, "handed on before the end");
        let (last, limit) = w.finish();
        assert!(last.events.is_empty() && limit.is_none());
        ws.push(last);
        let with_call: Vec<&Window> = ws.iter().filter(|w| !call_ids(w).is_empty()).collect();
        assert_eq!(with_call.len(), 1, "one window holds the call");
        assert_eq!(with_call[0].events.len(), total);
    }

    #[test]
    fn the_open_call_limit_closes_the_oldest_and_is_reported() {
        // The B2BUA log has two legs open at once.
        let events = fixture("b2bua/b2bua.log");
        let limits = Limits {
            open_calls: 1,
            window_events: 8_192,
        };
        let (_, limit) = windows(events, limits);
        let limit = limit.expect("reported");
        assert!(limit.closed_early >= 1);
        assert_eq!(limit.open_calls, 1);
    }

    #[test]
    fn a_call_of_four_windows_is_handed_on_and_reported() {
        let events = fixture("basic-call/caller.log");
        let total = events.len();
        let limits = Limits {
            open_calls: 10_000,
            window_events: 2,
        };
        let (ws, limit) = windows(events, limits);
        assert!(limit.expect("reported").closed_early >= 1);
        assert!(ws.iter().all(|w| w.events.len() < total));
        assert_eq!(ws.iter().map(|w| w.events.len()).sum::<usize>(), total);
    }
}
