//! The logging process's own address for each dump: TX `src`, RX `dst`.
//!
//! In order of preference: the connection a stream transport line shows for the peer
//! (`TCP transport L is connected to P`, `TCP listener L: got incoming TCP connection from P`),
//! the address a transport of that type was published or listens at (same address family as
//! the peer), then what the message itself shows (the Via sent-by of a TX request or an RX
//! response, the Contact of a TX response), then the address found that way for another message
//! on the same transport.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::evidence::Fact;
use crate::event::{Direction, Event, MessageEvent, Transport};
use crate::sip::Contact;

/// What the log's transport lines showed.
#[derive(Debug, Default)]
pub(super) struct Locals {
    listen: Vec<(Transport, String)>,
    /// Local address by transport and peer.
    conns: BTreeMap<Transport, BTreeMap<String, String>>,
}

impl Locals {
    pub fn learn(&mut self, fact: Fact) {
        match fact {
            Fact::Listen { transport, addr } => self.listen.push((transport, addr)),
            Fact::Conn {
                transport,
                local,
                peer,
            } => {
                self.conns.entry(transport).or_default().insert(peer, local);
            }
        }
    }

    /// The local end of the connection the log shows to `peer` over a stream `transport`.
    pub fn conn(&self, transport: Transport, peer: &str) -> Option<String> {
        self.conns.get(&transport)?.get(peer).cloned()
    }

    /// The address a `transport` was published or listens at, the peer's address family first.
    pub fn listening(&self, transport: Transport, peer: &str) -> Option<String> {
        let mut of_type = self.listen.iter().rev().filter(|(t, _)| *t == transport);
        let same = of_type.clone().find(|(_, a)| is_v6(a) == is_v6(peer));
        same.or_else(|| of_type.next()).map(|(_, a)| a.clone())
    }
}

fn is_v6(addr: &str) -> bool {
    addr.starts_with('[')
}

fn is_rx(m: &MessageEvent) -> bool {
    m.direction == Some(Direction::Rx)
}

/// The slot of a message event that holds the logging process's own address.
pub(super) fn slot(m: &mut MessageEvent) -> &mut Option<Arc<str>> {
    if is_rx(m) { &mut m.dst } else { &mut m.src }
}

/// The slot of a message event that holds the peer's address.
pub(super) fn peer_slot(m: &mut MessageEvent) -> &mut Option<Arc<str>> {
    if is_rx(m) { &mut m.src } else { &mut m.dst }
}

/// A message event whose local address the log had not shown when it was read, with the
/// address its transport was listening at then.
pub(super) type Pending = (usize, Option<String>);

/// Fills the local address of the `pending` message events from, in order: the connections the
/// whole log shows, the listening address at the time, the message itself, and the address
/// found for another message on the same transport.
pub(super) fn fill(events: &mut [Event], pending: &[Pending], locals: &Locals) {
    for (i, listening) in pending {
        if let Some(Event::Message(m)) = events.get_mut(*i) {
            let conn = locals.conn(m.transport, peer(m));
            *slot(m) = conn
                .or_else(|| listening.clone())
                .or_else(|| from_message(m))
                .map(Arc::from);
        }
    }
    let mut learned: BTreeMap<Transport, Arc<str>> = BTreeMap::new();
    for e in events.iter() {
        if let Event::Message(m) = e
            && let (Some(local), _) = sides(m)
        {
            learned.entry(m.transport).or_insert_with(|| local.clone());
        }
    }
    for (i, _) in pending {
        if let Some(Event::Message(m)) = events.get_mut(*i) {
            let learned = learned.get(&m.transport);
            let local = slot(m);
            if local.is_none() {
                *local = learned.cloned();
            }
        }
    }
}

/// The (local, peer) addresses of a message event.
fn sides(m: &MessageEvent) -> (&Option<Arc<str>>, &Option<Arc<str>>) {
    if is_rx(m) {
        (&m.dst, &m.src)
    } else {
        (&m.src, &m.dst)
    }
}

fn peer(m: &MessageEvent) -> &str {
    sides(m).1.as_deref().unwrap_or_default()
}

/// The local address a message shows about its sender or receiver.
fn from_message(m: &MessageEvent) -> Option<String> {
    let msg = m.parsed()?;
    match (m.direction?, msg.is_request()) {
        (Direction::Tx, true) | (Direction::Rx, false) => {
            let via = msg.top_via()?;
            Some(via.transport.endpoint(&via.host, via.port))
        }
        (Direction::Tx, false) => msg.contacts().into_iter().find_map(|c| match c {
            Contact::Addr { addr, .. } => {
                let uri = addr.uri?;
                Some(m.transport.endpoint(&uri.host, uri.port))
            }
            Contact::Star => None,
        }),
        (Direction::Rx, true) => None,
    }
}
