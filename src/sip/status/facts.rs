//! Structured facts about every registered status code: where it applies, whether and how a
//! retry can help, who typically sends it, who acts on it, and which headers matter. The
//! comparisons of `sipflow explain A B` are derived from these (see [`super::compare`]), so a
//! pair is never written by hand twice; curated notes only sharpen a few classic pairs.

use super::{StatusClass, lookup};

/// Where a response applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Progress on this request; the final answer is still to come.
    Progress,
    /// The request succeeded.
    Done,
    /// The target is to be reached at another address (Contact) or in another way.
    Moved,
    /// This request, as sent, is refused; a corrected request can succeed.
    Request,
    /// This location (this server, device or user) only; other locations may accept.
    Location,
    /// This server failed; another server, or the same one later, may succeed.
    Server,
    /// Definitive: every location; no other location will accept it.
    Everywhere,
}

/// Whether a retry can help, and with what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Nothing to retry: wait for the final response.
    Wait,
    /// Nothing to retry: it succeeded.
    Done,
    /// Retry at the address(es) in Contact.
    Contact,
    /// Resend with credentials answering the challenge.
    Credentials,
    /// A changed request can succeed; the same one fails again.
    Change,
    /// Only once the cause (account, configuration, routing) is fixed.
    AfterFix,
    /// The same request later (Retry-After).
    Later,
    /// The same request at another server or location.
    Elsewhere,
    /// The same request later or elsewhere.
    LaterOrElsewhere,
    /// No retry helps.
    Never,
}

/// Typical senders (bits).
pub const UAS: u8 = 1;
pub const PROXY: u8 = 2;
pub const REGISTRAR: u8 = 4;
pub const REDIRECT: u8 = 8;
pub const GATEWAY: u8 = 16;
pub const LOCAL: u8 = 32;
/// Who acts on it (bits).
pub const UAC: u8 = 1;
pub const PROXY_ACTS: u8 = 2;
pub const USER: u8 = 4;
pub const OPERATOR: u8 = 8;
/// Headers that matter (bits).
pub const RETRY_AFTER: u8 = 1;
pub const CONTACT: u8 = 2;

/// The facts of one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub code: u16,
    pub scope: Scope,
    pub retry: Retry,
    /// [`UAS`] | [`PROXY`] | …
    pub senders: u8,
    /// [`UAC`] | [`PROXY_ACTS`] | [`USER`] | [`OPERATOR`].
    pub actors: u8,
    /// [`RETRY_AFTER`] | [`CONTACT`].
    pub headers: u8,
}

impl Facts {
    /// The facts of `code`: its own for a registered code, those of the code a user agent
    /// treats it as for an unregistered one of a valid class (RFC 3261 §8.1.3.2), `None`
    /// outside 100–699.
    pub fn of(code: u16) -> Option<Facts> {
        let own = |c: u16| {
            FACTS
                .binary_search_by_key(&c, |f| f.code)
                .ok()
                .map(|i| FACTS[i])
        };
        if lookup(code).is_some() {
            return own(code);
        }
        let class = StatusClass::of(code)?;
        own(class.fallback_code()).map(|f| Facts { code, ..f })
    }

    pub fn class(&self) -> StatusClass {
        StatusClass::of(self.code).unwrap_or(StatusClass::ClientError)
    }
}

use Retry as R;
use Scope as S;

const fn f(code: u16, scope: Scope, retry: Retry, senders: u8, actors: u8, headers: u8) -> Facts {
    Facts {
        code,
        scope,
        retry,
        senders,
        actors,
        headers,
    }
}

const PX: u8 = PROXY;
const PA: u8 = PROXY_ACTS;
const OP: u8 = OPERATOR;
const RA: u8 = RETRY_AFTER;
const CT: u8 = CONTACT;

/// The facts of every registered code, sorted by code (a test checks they match [`super::ALL`]).
pub const FACTS: &[Facts] = &[
    f(100, S::Progress, R::Wait, UAS | PX, UAC, 0),
    f(180, S::Progress, R::Wait, UAS, UAC | USER, 0),
    f(181, S::Progress, R::Wait, PX, UAC, 0),
    f(182, S::Progress, R::Wait, PX | UAS, UAC, 0),
    f(183, S::Progress, R::Wait, UAS | GATEWAY, UAC, 0),
    f(199, S::Progress, R::Wait, UAS | PX, UAC, 0),
    f(200, S::Done, R::Done, UAS | REGISTRAR, UAC, CT),
    f(202, S::Done, R::Done, UAS, UAC, 0),
    f(204, S::Done, R::Done, UAS, UAC, 0),
    f(
        300,
        S::Moved,
        R::Contact,
        REDIRECT | PX,
        UAC | PA | USER,
        CT,
    ),
    f(301, S::Moved, R::Contact, REDIRECT, UAC | USER, CT),
    f(302, S::Moved, R::Contact, REDIRECT | UAS, UAC | PA, CT),
    f(305, S::Moved, R::Contact, REDIRECT, UAC | OP, CT),
    f(380, S::Moved, R::Change, REDIRECT | PX, UAC, 0),
    f(400, S::Request, R::Change, UAS | PX, OP, 0),
    f(401, S::Request, R::Credentials, UAS | REGISTRAR, UAC, 0),
    f(402, S::Request, R::AfterFix, PX | GATEWAY, USER | OP, 0),
    f(
        403,
        S::Request,
        R::AfterFix,
        UAS | PX | REGISTRAR | GATEWAY,
        USER | OP,
        0,
    ),
    f(
        404,
        S::Location,
        R::Change,
        PX | REGISTRAR | UAS,
        USER | OP,
        RA,
    ),
    f(405, S::Request, R::Change, UAS | PX, UAC | OP, 0),
    f(406, S::Request, R::Change, UAS, UAC, 0),
    f(407, S::Request, R::Credentials, PX, UAC, 0),
    f(
        408,
        S::Location,
        R::LaterOrElsewhere,
        PX | LOCAL,
        UAC | OP,
        0,
    ),
    f(410, S::Location, R::Never, PX | UAS, USER, 0),
    f(412, S::Request, R::Change, UAS, UAC, 0),
    f(413, S::Request, R::Change, UAS | PX, UAC | OP, RA),
    f(414, S::Request, R::Change, UAS | PX, OP, 0),
    f(415, S::Request, R::Change, UAS, UAC, 0),
    f(416, S::Request, R::Change, UAS | PX, OP, 0),
    f(417, S::Request, R::Change, UAS | PX, UAC, 0),
    f(420, S::Request, R::Change, UAS | PX, UAC | OP, 0),
    f(421, S::Request, R::Change, UAS | GATEWAY, UAC | OP, 0),
    f(422, S::Request, R::Change, UAS | PX, UAC, 0),
    f(423, S::Request, R::Change, REGISTRAR, UAC, 0),
    f(424, S::Request, R::Change, UAS | PX, UAC, 0),
    f(425, S::Request, R::Change, UAS, UAC, 0),
    f(428, S::Request, R::AfterFix, PX | GATEWAY, OP, 0),
    f(429, S::Request, R::Change, UAS, UAC, 0),
    f(430, S::Location, R::Elsewhere, PX, PA | UAC, 0),
    f(433, S::Request, R::Change, UAS | PX, USER, 0),
    f(436, S::Request, R::AfterFix, UAS | PX, OP, 0),
    f(437, S::Request, R::AfterFix, UAS | PX, OP, 0),
    f(438, S::Request, R::AfterFix, UAS | PX, OP, 0),
    f(439, S::Request, R::Change, REGISTRAR, UAC | OP, 0),
    f(440, S::Request, R::AfterFix, PX, OP, 0),
    f(469, S::Request, R::Change, UAS, UAC, 0),
    f(470, S::Request, R::AfterFix, PX, USER, 0),
    f(
        480,
        S::Location,
        R::LaterOrElsewhere,
        UAS | PX,
        UAC | PA | USER,
        RA,
    ),
    f(481, S::Request, R::Never, UAS, UAC, 0),
    f(482, S::Request, R::AfterFix, PX, OP, 0),
    f(483, S::Request, R::AfterFix, PX, OP, 0),
    f(484, S::Request, R::Change, PX | GATEWAY, USER, 0),
    f(485, S::Request, R::Change, PX, USER, CT),
    f(486, S::Location, R::LaterOrElsewhere, UAS, USER | PA, RA),
    f(487, S::Request, R::Never, UAS, UAC, 0),
    f(488, S::Location, R::Change, UAS | GATEWAY, UAC | OP, 0),
    f(489, S::Request, R::Change, UAS, UAC | OP, 0),
    f(491, S::Request, R::Later, UAS, UAC, 0),
    f(493, S::Request, R::Change, UAS, UAC | OP, 0),
    f(494, S::Request, R::Change, REGISTRAR | PX, UAC, 0),
    f(
        500,
        S::Server,
        R::LaterOrElsewhere,
        UAS | PX | GATEWAY,
        UAC | PA | OP,
        RA,
    ),
    f(501, S::Server, R::Change, UAS | PX, UAC, 0),
    f(502, S::Server, R::Elsewhere, GATEWAY | PX, PA | OP, 0),
    f(
        503,
        S::Server,
        R::LaterOrElsewhere,
        PX | UAS | GATEWAY | LOCAL,
        UAC | PA,
        RA,
    ),
    f(
        504,
        S::Server,
        R::LaterOrElsewhere,
        PX | GATEWAY,
        PA | OP,
        0,
    ),
    f(505, S::Server, R::Change, UAS | PX, OP, 0),
    f(513, S::Server, R::Change, UAS | PX, UAC, 0),
    f(555, S::Server, R::Change, PX, UAC, 0),
    f(580, S::Server, R::Change, UAS | GATEWAY, UAC | OP, 0),
    f(600, S::Everywhere, R::Later, UAS, USER, RA),
    f(603, S::Everywhere, R::Never, UAS, USER, RA),
    f(604, S::Everywhere, R::Never, PX | UAS, USER, 0),
    f(606, S::Everywhere, R::Change, UAS, UAC | OP, 0),
    f(607, S::Everywhere, R::Never, UAS, USER, 0),
    f(608, S::Everywhere, R::Never, PX, USER, 0),
];

/// The index of a scope or retry in the language tables.
impl Scope {
    pub fn index(self) -> usize {
        self as usize
    }
    /// A stable English identifier for JSON.
    pub fn id(self) -> &'static str {
        [
            "progress",
            "done",
            "moved",
            "request",
            "location",
            "server",
            "everywhere",
        ][self.index()]
    }
}

impl Retry {
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn id(self) -> &'static str {
        [
            "wait",
            "done",
            "contact",
            "credentials",
            "change",
            "after-fix",
            "later",
            "elsewhere",
            "later-or-elsewhere",
            "never",
        ][self.index()]
    }
}

/// English identifiers of the sender, actor and header bits, for JSON.
pub const SENDER_IDS: [&str; 6] = [
    "uas",
    "proxy",
    "registrar",
    "redirect-server",
    "gateway",
    "local-stack",
];
pub const ACTOR_IDS: [&str; 4] = ["uac", "proxy", "user", "operator"];

/// The indexes of the set bits of `bits`, lowest first.
pub fn bits(bits: u8) -> impl Iterator<Item = usize> {
    (0..8).filter(move |i| bits & (1 << i) != 0)
}
