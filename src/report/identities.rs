//! Who and what took part in a call or flow, as a person searches for it: every address its
//! messages came from or went to, the display names and user parts (numbers) of From, To, the
//! Request-URI, Contact and the identity headers (P-Asserted-Identity, P-Preferred-Identity,
//! Remote-Party-ID), and the User-Agent and Server of its messages.
//!
//! Owns: gathering these from a call's wire messages, exactly (every distinct value, none
//! twice). The HTML report's search matches them, and selecting calls by user or address can.
//! Does not own: matching, or bounding what an output embeds (each output's choice).

use std::collections::HashSet;

use crate::dialog::Model;
use crate::report::endpoints;
use crate::sip::{Contact, NameAddr, SipMessage, Uri};

/// The identity headers that name a party beside From and To.
const IDENTITY_HEADERS: [&str; 3] = [
    "P-Asserted-Identity",
    "P-Preferred-Identity",
    "Remote-Party-ID",
];

/// A call's or flow's identities, each list in the order first seen, without repeats.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Identities {
    /// Where its messages came from and went to, as the ladder's lanes name them
    /// (`10.186.207.1:37398`, `[2001:db8::1]:5060`; a host name when only a Via gives it).
    pub addresses: Vec<String>,
    /// Display names and URI user parts (numbers): `Псков-5`, `540454`, `+15144009500`.
    pub users: Vec<String>,
    /// User-Agent and Server values.
    pub agents: Vec<String>,
}

impl Identities {
    /// The identities in the wire messages `wires` (indexes into [`Model::messages`]).
    pub fn of(model: &Model, wires: &[usize]) -> Identities {
        let mut g = Gather::default();
        for (src, dst) in endpoints::resolve(model, wires) {
            for addr in [src, dst] {
                if addr != "?" {
                    g.add(Kind::Address, addr);
                }
            }
        }
        for msg in wires.iter().filter_map(|&w| model.message(w).parsed()) {
            g.add_message(msg);
        }
        g.ids
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Address,
    User,
    Agent,
}

/// The identities so far, and which are in (a set, so that a call of many messages costs no
/// more than its distinct values).
#[derive(Default)]
struct Gather {
    ids: Identities,
    seen: HashSet<(Kind, String)>,
}

impl Gather {
    /// Adds a non-empty value not yet in its list.
    fn add(&mut self, kind: Kind, value: String) {
        if value.is_empty() || !self.seen.insert((kind, value.clone())) {
            return;
        }
        let list = match kind {
            Kind::Address => &mut self.ids.addresses,
            Kind::User => &mut self.ids.users,
            Kind::Agent => &mut self.ids.agents,
        };
        list.push(value);
    }

    fn add_message(&mut self, msg: &SipMessage) {
        let mut parties: Vec<NameAddr> = msg.from().into_iter().chain(msg.to()).collect();
        parties.extend(msg.contacts().into_iter().filter_map(|c| match c {
            Contact::Addr { addr, .. } => Some(addr),
            Contact::Star => None,
        }));
        for name in IDENTITY_HEADERS {
            parties.extend(msg.name_addrs_named(name));
        }
        for p in &parties {
            if let Some(d) = p.display.as_deref().map(str::trim) {
                self.add(Kind::User, d.to_string());
            }
            if let Some(u) = p.uri.as_ref().and_then(|u| u.user.clone()) {
                self.add(Kind::User, u);
            }
        }
        if let Some(u) = msg.request_uri().and_then(Uri::parse).and_then(|u| u.user) {
            self.add(Kind::User, u);
        }
        for agent in msg.user_agent().into_iter().chain(msg.server()) {
            self.add(Kind::Agent, agent.trim().to_string());
        }
    }
}
