//! Who and what took part in a call or flow, as a person searches for it: every address its
//! messages came from or went to, the display names and user parts (numbers) of From, To, the
//! Request-URI, Contact and the identity headers (P-Asserted-Identity, P-Preferred-Identity,
//! Remote-Party-ID), and the User-Agent and Server of its messages. The users are in two
//! lists: those of the headers `--user` reads (From, To, the Request-URI, Contact and a
//! message's first P-Asserted-Identity header), which the report's `user:` term matches as
//! the option does, and the others, which only its free text finds.
//!
//! Owns: gathering these from a call's wire messages, exactly (every distinct value, none
//! twice). The HTML report's search matches them, and selecting calls by user or address can.
//! Does not own: matching, or bounding what an output embeds (each output's choice).

use std::collections::HashSet;

use crate::dialog::Model;
use crate::report::endpoints;
use crate::sip::{Contact, NameAddr, SipMessage, Uri};

/// The identity header whose first line `--user` reads (`cli::select`).
const ASSERTED: &str = "P-Asserted-Identity";
/// The identity headers `--user` does not read.
const OTHER_IDENTITY_HEADERS: [&str; 2] = ["P-Preferred-Identity", "Remote-Party-ID"];

/// A call's or flow's identities, each list in the order first seen, without repeats.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Identities {
    /// Where its messages came from and went to, as the ladder's lanes name them
    /// (`10.186.207.1:37398`, `[2001:db8::1]:5060`; a host name when only a Via gives it).
    pub addresses: Vec<String>,
    /// Display names and URI user parts (numbers): `Псков-5`, `540454`, `+15144009500`, of
    /// the headers `--user` reads: From, To, the Request-URI, Contact and the first
    /// P-Asserted-Identity header of a message.
    pub users: Vec<String>,
    /// The display names and numbers of the other identity headers (P-Preferred-Identity,
    /// Remote-Party-ID, a P-Asserted-Identity header after the first) that are not in
    /// `users`: searched as text, not selected by `--user`.
    pub other_users: Vec<String>,
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
        let Gather { mut ids, seen } = g;
        ids.other_users
            .retain(|u| !seen.contains(&(Kind::User, u.clone())));
        ids
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Address,
    User,
    OtherUser,
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
            Kind::OtherUser => &mut self.ids.other_users,
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
        // P-Asserted-Identity: the first header line as `--user` reads it, the others apart.
        let asserted = msg
            .headers()
            .iter()
            .filter(|h| msg.header_name(h).trim().eq_ignore_ascii_case(ASSERTED));
        let mut others: Vec<NameAddr> = Vec::new();
        for (k, h) in asserted.enumerate() {
            let addrs = msg.contacts_in(h).into_iter().filter_map(|c| match c {
                Contact::Addr { addr, .. } => Some(addr),
                Contact::Star => None,
            });
            if k == 0 {
                parties.extend(addrs);
            } else {
                others.extend(addrs);
            }
        }
        for name in OTHER_IDENTITY_HEADERS {
            others.extend(msg.name_addrs_named(name));
        }
        self.add_parties(Kind::User, &parties);
        if let Some(u) = msg.request_uri().and_then(Uri::parse).and_then(|u| u.user) {
            self.add(Kind::User, u);
        }
        self.add_parties(Kind::OtherUser, &others);
        for agent in msg.user_agent().into_iter().chain(msg.server()) {
            self.add(Kind::Agent, agent.trim().to_string());
        }
    }

    /// The display names and URI user parts of `parties`, as `kind`.
    fn add_parties(&mut self, kind: Kind, parties: &[NameAddr]) {
        for p in parties {
            if let Some(d) = p.display.as_deref().map(str::trim) {
                self.add(kind, d.to_string());
            }
            if let Some(u) = p.uri.as_ref().and_then(|u| u.user.clone()) {
                self.add(kind, u);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Identities;
    use crate::dialog::{CorrelateOptions, correlate};
    use crate::ingest::{IngestOptions, ingest};

    /// The identities of every message of a public excerpt (`fixtures/stacks/public/`).
    fn of_excerpt(name: &str) -> Identities {
        let path = format!(
            "{}/fixtures/stacks/public/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let read = ingest(&[path], &IngestOptions::default());
        let model = correlate(read.events, &CorrelateOptions::default());
        let wires: Vec<usize> = (0..model.messages.len()).collect();
        assert!(!wires.is_empty(), "{name}: no messages");
        Identities::of(&model, &wires)
    }

    /// A Remote-Party-ID that repeats the To of the same call adds no other user; the
    /// other users are what only P-Preferred-Identity, Remote-Party-ID or a later
    /// P-Asserted-Identity header gives (the browser test `search::field_terms_…` finds one,
    /// "Outbound Call", in a public capture).
    #[test]
    fn a_remote_party_id_repeating_the_to_is_a_user_once() {
        let ids = of_excerpt("tcpdump-p8952-blog-A-invite-ack.txt");
        assert!(ids.users.iter().any(|u| u == "12345"), "{ids:?}");
        assert!(ids.other_users.is_empty(), "{ids:?}");
    }

    /// A value the Remote-Party-ID repeats from P-Asserted-Identity and From is a user once,
    /// not also another one.
    #[test]
    fn a_repeated_identity_is_a_user_once() {
        let ids = of_excerpt("asterisk-293-pjsip-logger-invite.log");
        assert!(ids.other_users.is_empty(), "{ids:?}");
        for want in ["Intellasoft", "1181207755", "1181179609"] {
            assert!(ids.users.iter().any(|u| u == want), "{want}: {ids:?}");
        }
    }

    /// P-Asserted-Identity is a user `user:` reads, as `--user` does.
    #[test]
    fn p_asserted_identity_is_a_user() {
        let ids = of_excerpt("freeswitch-1144-siptrace.log");
        assert!(ids.users.iter().any(|u| u == "+3397847XXXX"), "{ids:?}");
        assert!(!ids.other_users.iter().any(|u| u == "+3397847XXXX"));
    }
}
