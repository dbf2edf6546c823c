//! SIP response codes explained: what each registered status code means, when it is typically
//! seen in real deployments, and what to do about it.
//!
//! [`ALL`] holds every code of the IANA "Session Initiation Protocol (SIP) Parameters" registry,
//! "Response Codes" table, sorted by code. [`lookup`] finds one entry; [`explain`] also covers
//! codes that are not registered (RFC 3261 §8.1.3.2: an unknown code is treated like the x00
//! code of its class, an unknown provisional one like 183); [`render`] gives the text shown by
//! `sipflow explain <code>`.
//!
//! The texts are written for someone reading a SIP trace: the reason phrase is the registered
//! one, everything else is an explanation in our own words, not a quote of the RFCs.
//!
//! Also here: the same explanations in Chinese and Vietnamese ([`Lang`]; the texts are data,
//! one module per language: `en`, `zh`, `vi`), the structured [`facts`] of every code, the
//! comparison of two codes derived from them ([`compare`]), and the text, Markdown and JSON
//! renderings of all of it, including the generated `docs/status-codes/` pages ([`render`]).

use std::fmt;

pub mod compare;
mod en;
pub mod facts;
mod lang;
pub mod render;
mod vi;
mod zh;

pub use lang::{Lang, Note, Texts};

#[cfg(test)]
mod checks;

/// One registered SIP response code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusInfo {
    pub code: u16,
    /// The registered reason phrase, e.g. "Busy Everywhere".
    pub reason: &'static str,
    /// Where it is defined, e.g. "RFC 3261 §21.6.1".
    pub rfc: &'static str,
    /// What it means, in one or two sentences.
    pub meaning: &'static str,
    /// When it is typically seen (real-world causes).
    pub when: &'static str,
    /// What to do about it, for a VoIP developer or operator.
    pub action: &'static str,
}

/// The six response classes of RFC 3261 §7.2 (first digit of the code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    Provisional,
    Success,
    Redirection,
    ClientError,
    ServerError,
    GlobalFailure,
}

impl StatusClass {
    /// The class of a code, or `None` outside 100–699.
    pub fn of(code: u16) -> Option<StatusClass> {
        match code {
            100..=199 => Some(StatusClass::Provisional),
            200..=299 => Some(StatusClass::Success),
            300..=399 => Some(StatusClass::Redirection),
            400..=499 => Some(StatusClass::ClientError),
            500..=599 => Some(StatusClass::ServerError),
            600..=699 => Some(StatusClass::GlobalFailure),
            _ => None,
        }
    }

    /// A short name with the digit pattern, e.g. "client error (4xx)".
    pub fn name(&self) -> &'static str {
        match self {
            StatusClass::Provisional => "provisional (1xx)",
            StatusClass::Success => "success (2xx)",
            StatusClass::Redirection => "redirection (3xx)",
            StatusClass::ClientError => "client error (4xx)",
            StatusClass::ServerError => "server error (5xx)",
            StatusClass::GlobalFailure => "global failure (6xx)",
        }
    }

    /// [`StatusClass::name`] in `lang`.
    pub fn name_in(&self, lang: Lang) -> &'static str {
        lang.words().classes[*self as usize]
    }

    /// Whether responses of this class end the transaction (everything but 1xx).
    pub fn is_final(&self) -> bool {
        !matches!(self, StatusClass::Provisional)
    }

    /// The code a user agent treats an unrecognised code of this class as (RFC 3261 §8.1.3.2):
    /// 183 for provisional responses, the class's x00 code otherwise.
    pub fn fallback_code(&self) -> u16 {
        match self {
            StatusClass::Provisional => 183,
            StatusClass::Success => 200,
            StatusClass::Redirection => 300,
            StatusClass::ClientError => 400,
            StatusClass::ServerError => 500,
            StatusClass::GlobalFailure => 600,
        }
    }
}

impl fmt::Display for StatusClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl StatusInfo {
    /// The class of this code (always `Some` for table entries).
    pub fn class(&self) -> Option<StatusClass> {
        StatusClass::of(self.code)
    }
}

/// An explanation for any code: a registry entry, a generic text for an unregistered code in a
/// valid class, or a note that the number is not a SIP status code at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explanation {
    pub code: u16,
    /// The registered reason phrase; for other codes a short description of what it is.
    pub reason: &'static str,
    /// `None` when the code is outside 100–699.
    pub class: Option<StatusClass>,
    pub rfc: &'static str,
    pub meaning: &'static str,
    pub when: &'static str,
    pub action: &'static str,
    /// Whether the code is in the IANA registry.
    pub registered: bool,
    /// For an unregistered code of a valid class: the code a user agent treats it as
    /// (RFC 3261 §8.1.3.2). `None` for registered and invalid codes.
    pub treat_as: Option<u16>,
}

/// The registry entry for `code`, if it is registered.
pub fn lookup(code: u16) -> Option<&'static StatusInfo> {
    ALL.binary_search_by_key(&code, |s| s.code)
        .ok()
        .map(|i| &ALL[i])
}

/// An explanation for any code: the table entry, or for an unregistered code in a valid range
/// (100–699) a generic one built from its class (RFC 3261 §8.1.3.2: treat an unknown x00 as its
/// class), or for anything else a clear "not a valid SIP status code" explanation.
pub fn explain(code: u16) -> Explanation {
    explain_in(code, Lang::En)
}

/// [`explain`] in `lang`. The reason phrase stays the registered (English) one.
pub fn explain_in(code: u16, lang: Lang) -> Explanation {
    let w = lang.words();
    if let Some(s) = lookup(code) {
        let (meaning, when, action) = match lang {
            Lang::En => (s.meaning, s.when, s.action),
            _ => match w.codes.binary_search_by_key(&code, |t| t.code) {
                Ok(i) => (w.codes[i].meaning, w.codes[i].when, w.codes[i].action),
                // A test checks that every language has every code; English otherwise.
                Err(_) => (s.meaning, s.when, s.action),
            },
        };
        return Explanation {
            code,
            reason: s.reason,
            class: s.class(),
            rfc: s.rfc,
            meaning,
            when,
            action,
            registered: true,
            treat_as: None,
        };
    }
    match StatusClass::of(code) {
        Some(class) => {
            let [meaning, when, action] = w.generic[class as usize];
            Explanation {
                code,
                reason: w.reason_unregistered,
                class: Some(class),
                rfc: "RFC 3261 §8.1.3.2 (unknown response codes), §21",
                meaning,
                when,
                action,
                registered: false,
                treat_as: Some(class.fallback_code()),
            }
        }
        None => {
            let [meaning, when, action] = w.invalid;
            Explanation {
                code,
                reason: w.reason_invalid,
                class: None,
                rfc: "RFC 3261 §7.2, §21",
                meaning,
                when,
                action,
                registered: false,
                treat_as: None,
            }
        }
    }
}

/// Multi-line human text for `sipflow explain <code>`.
pub fn render(code: u16) -> String {
    render_in(code, Lang::En)
}

/// [`render`] in `lang`.
pub fn render_in(code: u16, lang: Lang) -> String {
    let w = lang.words();
    let e = explain_in(code, lang);
    let mut out = String::new();
    out.push_str(&render::title(&e, lang));
    out.push('\n');
    let width = render::label_width(&w.labels);
    let [reference, treat_as, meaning, when, action] = w.labels;
    render::field(&mut out, reference, width, e.rfc);
    if let Some(t) = e.treat_as {
        let name = lookup(t).map_or("", |s| s.reason);
        let text = format!("{t} {name} {}", w.treat_as_note);
        render::field(&mut out, treat_as, width, &text);
    }
    render::field(&mut out, meaning, width, e.meaning);
    render::field(&mut out, when, width, e.when);
    render::field(&mut out, action, width, e.action);
    out
}

/// Every IANA-registered SIP response code, sorted by code.
pub const ALL: &[StatusInfo] = &[
    // ---- 1xx provisional ----
    StatusInfo {
        code: 100,
        reason: "Trying",
        rfc: "RFC 3261 §21.1.1",
        meaning: "The next hop received the request and is working on it. It is hop-by-hop: a \
            stateful proxy answers it itself and does not forward the 100 it gets from downstream.",
        when: "Normal call setup: the first response to almost every INVITE, sent by the proxy, \
            PBX or phone that got it; it stops the INVITE retransmissions over UDP.",
        action: "Nothing, this is normal. Only investigate the network or the next hop if nothing \
            follows it (no 18x and no final response) for a long time.",
    },
    StatusInfo {
        code: 180,
        reason: "Ringing",
        rfc: "RFC 3261 §21.1.2",
        meaning: "The called user agent is alerting its user: the phone is ringing.",
        when: "Normal outgoing call while the callee's phone rings. With an SDP body it also \
            starts early media (the far end plays the ringback).",
        action: "Nothing, this is normal. Without SDP the caller must play a local ringback tone; \
            if callers hear silence while the far end rings, that local ringback is missing.",
    },
    StatusInfo {
        code: 181,
        reason: "Call Is Being Forwarded",
        rfc: "RFC 3261 §21.1.3",
        meaning: "A server is forwarding the call to one or more other destinations.",
        when: "Call forwarding (unconditional, on busy, on no answer) on a PBX or in the carrier \
            network; often with History-Info or Diversion headers naming the original target.",
        action: "Nothing; useful to explain why the call ends up somewhere else. Check the \
            forwarding rules if the forwarding is unexpected.",
    },
    StatusInfo {
        code: 182,
        reason: "Queued",
        rfc: "RFC 3261 §21.1.4",
        meaning: "The callee is temporarily unavailable and the server has put the call in a queue \
            instead of rejecting it; a final response will follow later.",
        when: "Call centres and ACD queues; the reason phrase may carry the queue position or \
            waiting time, and several 182s may arrive.",
        action: "Keep waiting. Make sure the caller's own timers (and any proxy's Timer C) do not \
            give up on a queued call too early.",
    },
    StatusInfo {
        code: 183,
        reason: "Session Progress",
        rfc: "RFC 3261 §21.1.5",
        meaning: "Progress information about a call that is still being set up, usually with an \
            SDP body for early media.",
        when: "PSTN gateways and carriers playing announcements or a network ringback before \
            answer; with 100rel it is sent reliably and must be acknowledged with PRACK.",
        action: "Play the early media described by its SDP. If early media is silent or one-way, \
            check the SDP addresses and NAT; if the 183 has Require: 100rel, make sure PRACK is \
            sent and answered.",
    },
    StatusInfo {
        code: 199,
        reason: "Early Dialog Terminated",
        rfc: "RFC 6228",
        meaning: "An early dialog created by a provisional response has ended before the final \
            response, e.g. one branch of a forked call gave up.",
        when: "Forking proxies and user agents that support it, and only when the caller \
            advertised Supported: 199.",
        action: "Release what belongs to that early dialog (stop its early media). It is not a \
            call failure: the final response still follows.",
    },
    // ---- 2xx success ----
    StatusInfo {
        code: 200,
        reason: "OK",
        rfc: "RFC 3261 §21.2.1",
        meaning: "The request succeeded. For an INVITE the call is answered and a dialog is \
            established.",
        when: "Answered calls, accepted REGISTER (its Contact lists the current bindings and their \
            expiry), BYE, OPTIONS pings, and so on.",
        action: "For an INVITE, send the ACK. If the 200 keeps being retransmitted and the call \
            drops after about 32 s, the ACK is not reaching the answering side: check its Contact, \
            Record-Route and NAT.",
    },
    StatusInfo {
        code: 202,
        reason: "Accepted",
        rfc: "RFC 3265; deprecated by RFC 6665 (REFER: RFC 3515)",
        meaning: "The request was accepted but not processed yet. The registry marks it \
            deprecated: senders should now use 200, and receivers must treat 202 like 200.",
        when: "The answer to a REFER (call transfer) and, from older stacks, to a SUBSCRIBE.",
        action: "Treat it like 200. For a transfer, the outcome comes later in NOTIFY requests \
            carrying a message/sipfrag body.",
    },
    StatusInfo {
        code: 204,
        reason: "No Notification",
        rfc: "RFC 5839",
        meaning: "A subscription request succeeded, but no NOTIFY will follow because the \
            subscriber's copy of the state (its entity tag) is still current.",
        when: "Subscription refreshes with conditional event notification (Suppress-If-Match), \
            e.g. presence or dialog-info subscriptions that try to save bandwidth.",
        action: "Nothing; keep using the state you already have.",
    },
    // ---- 3xx redirection ----
    StatusInfo {
        code: 300,
        reason: "Multiple Choices",
        rfc: "RFC 3261 §21.3.1",
        meaning: "The address resolved to several possible targets, listed in Contact headers; the \
            caller chooses.",
        when: "Redirect servers and location services that return several registered devices of a \
            user.",
        action: "Retry at the listed Contacts (in q-value order), or let the user pick; without \
            redirect support the call fails.",
    },
    StatusInfo {
        code: 301,
        reason: "Moved Permanently",
        rfc: "RFC 3261 §21.3.2",
        meaning: "The user is no longer at the Request-URI; the new permanent address is in the \
            Contact header.",
        when: "Users or services that moved to a new domain or number, announced by a redirect \
            server.",
        action: "Retry at the Contact, and update the address book or stored target to the new \
            Contact so future requests go there directly.",
    },
    StatusInfo {
        code: 302,
        reason: "Moved Temporarily",
        rfc: "RFC 3261 §21.3.3",
        meaning: "The user is temporarily reachable elsewhere; the Contact header gives the \
            address to retry this request at.",
        when: "Call forwarding implemented by redirect servers and some PBXs or carriers, \
            load-balancing redirects, voicemail diversion.",
        action: "Retry the request at the Contact (keep the stored address, the move is \
            temporary). In pjsua implement on_call_redirected (pjsua2: Call::onCallRedirected) to \
            accept it; otherwise pjsua logs 'Unhandled redirection' and disconnects the call.",
    },
    StatusInfo {
        code: 305,
        reason: "Use Proxy",
        rfc: "RFC 3261 §21.3.4",
        meaning: "The target must be reached through the proxy given in the Contact header.",
        when: "Rare; servers that insist on a particular outbound proxy. Many user agents ignore \
            it because it could steer traffic to an attacker.",
        action: "Configure the right outbound proxy instead of relying on 305; only follow it if \
            the proxy it names is trusted.",
    },
    StatusInfo {
        code: 380,
        reason: "Alternative Service",
        rfc: "RFC 3261 §21.3.5",
        meaning: "The call failed, but alternative services are possible; the body describes them.",
        when: "IMS networks: a 380 to a call that the network recognises as an emergency call \
            tells the phone to retry it as an emergency call.",
        action: "Read the body to see which alternative is offered; in IMS, retry as an emergency \
            call (or over the circuit-switched domain).",
    },
    // ---- 4xx client error ----
    StatusInfo {
        code: 400,
        reason: "Bad Request",
        rfc: "RFC 3261 §21.4.1",
        meaning: "The server could not understand the request because its syntax is malformed; the \
            reason phrase should say what is wrong.",
        when: "Missing or broken mandatory headers (Via, From, To, Call-ID, CSeq, Max-Forwards), a \
            wrong Content-Length, bad SDP, headers mangled by a SIP ALG, or a truncated UDP \
            datagram.",
        action: "Read the reason phrase and any Warning header, then compare the request with the \
            grammar (sipflow's parse issues help). Fix the sender; resending unchanged will fail \
            again.",
    },
    StatusInfo {
        code: 401,
        reason: "Unauthorized",
        rfc: "RFC 3261 §21.4.2",
        meaning: "The request needs authentication: the user agent or registrar challenges the \
            sender with a WWW-Authenticate header (digest).",
        when: "Normal: the first REGISTER (and often INVITE) of every session gets one. A second \
            401 right after a request that carried credentials means the credentials were \
            rejected.",
        action: "Resend with an Authorization header computed from the challenge (stacks do this \
            automatically). If the challenge repeats, check username, auth username, password and \
            realm; stale=true only means the nonce expired and a plain retry is fine.",
    },
    StatusInfo {
        code: 402,
        reason: "Payment Required",
        rfc: "RFC 3261 §21.4.3",
        meaning: "Reserved for future use by the standard; in practice used to say that payment is \
            needed.",
        when: "Prepaid or trunk accounts without credit, blocked for unpaid bills, or calls to \
            destinations the plan does not cover.",
        action: "Check the account balance and billing status with the provider.",
    },
    StatusInfo {
        code: 403,
        reason: "Forbidden",
        rfc: "RFC 3261 §21.4.4",
        meaning: "The server understood the request but refuses it, and authenticating again will \
            not help.",
        when: "After a digest challenge: a wrong password or a disabled account. Also IP not on \
            the allow list, calling restrictions (international, premium), a caller ID the account \
            may not use, registering from an unauthorised address, or a STIR date that is too old \
            ('Stale Date').",
        action: "Do not retry blindly. Verify the credentials and account status, the provider's \
            IP allow list, the caller ID and the dial permissions for that destination.",
    },
    StatusInfo {
        code: 404,
        reason: "Not Found",
        rfc: "RFC 3261 §21.4.5",
        meaning: "The user does not exist in the domain of the Request-URI, or the server does not \
            handle that domain.",
        when: "A mistyped extension or number, a callee that is not provisioned, the wrong domain \
            or realm in the Request-URI, or a number format (E.164 vs national) the dial plan does \
            not match.",
        action: "Check the user and host parts of the Request-URI, the number normalisation, and \
            that the proxy serves that domain.",
    },
    StatusInfo {
        code: 405,
        reason: "Method Not Allowed",
        rfc: "RFC 3261 §21.4.6",
        meaning: "The method is understood but not allowed for this address; the Allow header \
            lists the methods that are.",
        when: "SUBSCRIBE, PUBLISH, MESSAGE or REFER to a server that does not offer that feature, \
            or REGISTER sent to something that is not a registrar.",
        action: "Look at the Allow header and stop sending that method there (e.g. disable \
            presence, BLF or MWI for that server), or enable the feature on the server.",
    },
    StatusInfo {
        code: 406,
        reason: "Not Acceptable",
        rfc: "RFC 3261 §21.4.7",
        meaning: "The server could only answer with content that the Accept header of the request \
            does not allow.",
        when: "Rare; requests with a narrow Accept header, e.g. SUBSCRIBE asking for a body format \
            the notifier cannot produce.",
        action: "Widen the Accept header to formats the server can produce.",
    },
    StatusInfo {
        code: 407,
        reason: "Proxy Authentication Required",
        rfc: "RFC 3261 §21.4.8",
        meaning: "Like 401, but the challenge comes from a proxy (Proxy-Authenticate) and the \
            answer goes in Proxy-Authorization.",
        when: "Normal: INVITEs through carrier or PBX proxies that authenticate every call. A \
            second 407 after credentials were sent means they were rejected.",
        action: "Resend with Proxy-Authorization computed from the challenge. If the challenge \
            repeats, check username, password and realm of the account used for calls.",
    },
    StatusInfo {
        code: 408,
        reason: "Request Timeout",
        rfc: "RFC 3261 §21.4.9",
        meaning: "No final response arrived in time: either a server downstream gave up, or the \
            local stack did when its transaction timer (Timer B for INVITE, Timer F otherwise, 32 \
            s by default) fired.",
        when: "The far end is unreachable or down, NAT or a firewall drops the responses or \
            inbound requests, a wrong Contact address or port, large UDP INVITEs lost to \
            fragmentation, or a SIP ALG rewriting things. A 408 with no matching response on the \
            wire was made up locally.",
        action: "Check whether the request reached the far end and whether its responses came back \
            (capture on both sides). Check NAT (rport, received, keep-alives) and firewall rules; \
            try TCP for large messages.",
    },
    StatusInfo {
        code: 410,
        reason: "Gone",
        rfc: "RFC 3261 §21.4.10",
        meaning: "The user used to exist here but no longer does, and no forwarding address is \
            known.",
        when: "Disconnected numbers, removed accounts, numbers ported away.",
        action: "Remove or update the stored address; retrying will not help.",
    },
    StatusInfo {
        code: 412,
        reason: "Conditional Request Failed",
        rfc: "RFC 3903",
        meaning: "A PUBLISH that refreshes or modifies an earlier publication named an entity tag \
            (SIP-If-Match) that the server does not know.",
        when: "The publication expired, or the presence server restarted and lost its state.",
        action: "Send an initial PUBLISH without SIP-If-Match carrying the full state to create a \
            new publication.",
    },
    StatusInfo {
        code: 413,
        reason: "Request Entity Too Large",
        rfc: "RFC 3261 §21.4.11",
        meaning: "The request body is larger than the server is willing to process; a Retry-After \
            means the condition is temporary.",
        when: "Big SDP bodies (many codecs, many ICE candidates, video), large MESSAGE or NOTIFY \
            bodies.",
        action: "Shrink the body (fewer codecs or candidates, smaller payload), or raise the \
            server's limit.",
    },
    StatusInfo {
        code: 414,
        reason: "Request-URI Too Long",
        rfc: "RFC 3261 §21.4.12",
        meaning: "The Request-URI is longer than the server will accept.",
        when: "URIs stuffed with parameters or embedded headers, often built by a B2BUA or a \
            script.",
        action: "Shorten the Request-URI; move data into headers or the body.",
    },
    StatusInfo {
        code: 415,
        reason: "Unsupported Media Type",
        rfc: "RFC 3261 §21.4.13",
        meaning: "The server does not support the format of the request body (type, encoding or \
            language); Accept, Accept-Encoding or Accept-Language list what it does support.",
        when: "MESSAGE with a body type the peer cannot display, INFO with an unknown body, \
            multipart bodies (SDP plus ISUP) sent to a plain UA, compressed bodies.",
        action: "Read the Accept headers of the response and send a body in a supported format.",
    },
    StatusInfo {
        code: 416,
        reason: "Unsupported URI Scheme",
        rfc: "RFC 3261 §21.4.14",
        meaning: "The server does not understand the scheme of the Request-URI.",
        when: "tel:, sips: or urn: URIs sent to servers that only handle sip:.",
        action: "Use a sip: URI (e.g. sip:+15551234567@domain;user=phone instead of tel:), or \
            enable the scheme on the server.",
    },
    StatusInfo {
        code: 417,
        reason: "Unknown Resource-Priority",
        rfc: "RFC 4412",
        meaning: "The request required resource priority handling, but the server does not \
            understand the namespace or priority value given in Resource-Priority.",
        when: "Government and emergency priority schemes (e.g. ETS/WPS) between networks that do \
            not share the same namespaces.",
        action: "Use a namespace and value listed in the response's Accept-Resource-Priority \
            header, or do not require resource priority.",
    },
    StatusInfo {
        code: 420,
        reason: "Bad Extension",
        rfc: "RFC 3261 §21.4.15",
        meaning: "The server does not support an extension that the request listed in Require or \
            Proxy-Require; the Unsupported header names it.",
        when: "A UA configured to require 100rel, timer or precondition talking to a server \
            without that extension.",
        action: "Look at the Unsupported header and stop requiring those extensions (list them in \
            Supported instead), e.g. set pjsua's 100rel or session-timer use to optional rather \
            than required.",
    },
    StatusInfo {
        code: 421,
        reason: "Extension Required",
        rfc: "RFC 3261 §21.4.16",
        meaning: "The server needs an extension that the request did not list in Supported; the \
            Require header of the response names it.",
        when: "Gateways that insist on reliable provisional responses (100rel/PRACK) or session \
            timers, talking to a UA with those disabled.",
        action: "Enable the named extension in the UA so that it is offered in Supported.",
    },
    StatusInfo {
        code: 422,
        reason: "Session Interval Too Small",
        rfc: "RFC 4028",
        meaning: "The Session-Expires interval in the request is below the server's minimum; the \
            Min-SE header of the response gives that minimum.",
        when: "UAs configured with very short session timers, or servers with a large minimum \
            (e.g. 1800 s) when the UA offers 90 s.",
        action: "Raise Session-Expires to at least the Min-SE value (and include Min-SE) and \
            resend; most stacks do this automatically. In pjsua adjust timer_setting \
            (sess_expires, min_se).",
    },
    StatusInfo {
        code: 423,
        reason: "Interval Too Brief",
        rfc: "RFC 3261 §21.4.17",
        meaning: "The expiry time requested (usually a REGISTER's Expires) is shorter than the \
            server allows; Min-Expires gives the minimum.",
        when: "Phones registering every 30 or 60 s to keep NAT open, against registrars with a \
            higher minimum.",
        action: "Retry the REGISTER with Expires greater than or equal to Min-Expires, and keep \
            the NAT binding open with keep-alives instead of short registrations.",
    },
    StatusInfo {
        code: 424,
        reason: "Bad Location Information",
        rfc: "RFC 6442",
        meaning: "The location information carried by the request (Geolocation header, PIDF-LO \
            body) is malformed or not good enough; Geolocation-Error says why.",
        when: "Emergency calls and location-based routing where the location object is missing, \
            invalid or cannot be dereferenced.",
        action: "Read the Geolocation-Error code and fix the location object or its reference.",
    },
    StatusInfo {
        code: 425,
        reason: "Bad Alert Message",
        rfc: "RFC 8876",
        meaning: "A non-interactive emergency call (an alert carried as a data payload, e.g. CAP) \
            was rejected because its alert payload could not be processed; AlertMsg-Error gives \
            the detail.",
        when: "Automatic emergency alerts from sensors or alarm systems with a corrupt, missing or \
            incomplete alert payload.",
        action: "Read the AlertMsg-Error code and fix the alert payload that is sent.",
    },
    StatusInfo {
        code: 428,
        reason: "Use Identity Header",
        rfc: "RFC 8224 (was RFC 4474)",
        meaning: "The server's policy requires an Identity header (a signed caller identity, \
            STIR/SHAKEN) and the request had none.",
        when: "Carrier interconnects that require STIR/SHAKEN signed calls.",
        action: "Have the originating network sign the call (add an Identity header with a \
            PASSporT) before it reaches this server.",
    },
    StatusInfo {
        code: 429,
        reason: "Provide Referrer Identity",
        rfc: "RFC 3892",
        meaning: "The referee needs a valid Referred-By token proving who asked for the REFER, and \
            the request did not have one.",
        when: "Rare; call transfers towards parties that require authenticated referrers.",
        action: "Include a Referred-By header with a valid token, or transfer differently.",
    },
    StatusInfo {
        code: 430,
        reason: "Flow Failed",
        rfc: "RFC 5626",
        meaning: "With SIP Outbound, the specific connection (flow) to the user agent has failed, \
            although other flows may still work. Meant between proxies; an endpoint that gets it \
            treats it as 400.",
        when: "An edge proxy tells the home proxy that the registered TCP/TLS connection of a \
            device is gone.",
        action: "The device must re-register to create a new flow; check its keep-alives (CRLF or \
            STUN) and connection handling.",
    },
    StatusInfo {
        code: 433,
        reason: "Anonymity Disallowed",
        rfc: "RFC 5079",
        meaning: "The callee rejects the request because it is anonymous.",
        when: "Anonymous call rejection: the caller used Privacy: id or an anonymous From.",
        action: "Present a caller identity (remove the privacy request) if the call should go \
            through.",
    },
    StatusInfo {
        code: 436,
        reason: "Bad Identity Info",
        rfc: "RFC 8224 (was 'Bad Identity-Info', RFC 4474)",
        meaning: "The verifier cannot use the reference to the signer's credential (the info \
            parameter of Identity, or the old Identity-Info header): an unsupported scheme or an \
            address it cannot fetch.",
        when: "STIR/SHAKEN verification where the certificate URL is unreachable, not HTTPS, or \
            wrong.",
        action: "Make sure the certificate URL in the Identity header is correct and reachable by \
            the verifier.",
    },
    StatusInfo {
        code: 437,
        reason: "Unsupported Credential",
        rfc: "RFC 8224 (was 'Unsupported Certificate', RFC 4474)",
        meaning: "The verifier obtained the signer's credential but cannot validate or does not \
            accept it.",
        when: "STIR/SHAKEN with an expired certificate, a chain to an untrusted certification \
            authority, or an unsupported algorithm.",
        action: "Check the certificate's validity, its chain and the trust anchors the verifier \
            uses.",
    },
    StatusInfo {
        code: 438,
        reason: "Invalid Identity Header",
        rfc: "RFC 8224 (was RFC 4474)",
        meaning: "The verifier has a valid credential but the Identity signature does not verify, \
            or the signed claims do not match the request.",
        when: "Numbers changed after signing (normalisation, prefixes, From/To rewritten by an \
            SBC), a key that does not match the certificate, or a malformed PASSporT.",
        action: "Sign after the final number manipulation, make sure the signed origin and \
            destination match From and To, and that the signing key belongs to the certificate.",
    },
    StatusInfo {
        code: 439,
        reason: "First Hop Lacks Outbound Support",
        rfc: "RFC 5626",
        meaning: "The registrar supports SIP Outbound, but the first proxy on the path does not, \
            so the registration cannot use it.",
        when: "REGISTER with reg-id and +sip.instance through an edge proxy without Outbound \
            support.",
        action: "Register without Outbound (no reg-id; in pjsua disable use_rfc5626) or use an \
            edge proxy that supports it.",
    },
    StatusInfo {
        code: 440,
        reason: "Max-Breadth Exceeded",
        rfc: "RFC 5393",
        meaning: "A proxy could not fork the request in parallel because the remaining Max-Breadth \
            was too small; the request did not reach all possible destinations.",
        when: "Deep or wide forking between proxies, and forking loops.",
        action: "Check the forking configuration and look for loops between proxies; raise \
            Max-Breadth only if the fan-out is legitimate.",
    },
    StatusInfo {
        code: 469,
        reason: "Bad Info Package",
        rfc: "RFC 6086",
        meaning: "An INFO request used an Info Package that the receiver did not say it accepts; \
            its Recv-Info header lists the ones it does.",
        when: "INFO-based DTMF or other application data sent to a peer that did not announce that \
            package.",
        action: "Only send packages listed in the peer's Recv-Info; for DTMF prefer RFC 4733 \
            telephone-events in RTP.",
    },
    StatusInfo {
        code: 470,
        reason: "Consent Needed",
        rfc: "RFC 5360",
        meaning: "A relay (such as a URI-list or conference server) needs the recipients' consent \
            before it sends them requests; Permission-Missing lists who has not consented.",
        when: "Sending to URI lists or conference invitations through a consent-based relay.",
        action: "Obtain the recipients' permission first, or drop the listed recipients.",
    },
    StatusInfo {
        code: 480,
        reason: "Temporarily Unavailable",
        rfc: "RFC 3261 §21.4.18",
        meaning: "The callee exists but cannot be reached right now; Retry-After may say when to \
            try again.",
        when: "The callee is not registered (phone off, app asleep, registration expired), \
            do-not-disturb, no answer within the PBX's ring time, or a mobile app that was not \
            woken by its push notification.",
        action: "Check the callee's registration and push notification setup; retry later or send \
            to voicemail.",
    },
    StatusInfo {
        code: 481,
        reason: "Call/Transaction Does Not Exist",
        rfc: "RFC 3261 §21.4.19",
        meaning: "The request matches no dialog or transaction that the receiver knows (Call-ID \
            plus From and To tags).",
        when: "A BYE or re-INVITE after the other side restarted or already ended the call, a \
            dialog that died because its ACK was lost, tags or Call-ID changed by a B2BUA or SBC, \
            a CANCEL after the final response, a NOTIFY after the subscription ended.",
        action: "Compare Call-ID and tags with the dialog's; check whether the other side \
            restarted or already tore the call down, and whether something on the path rewrites \
            tags. The local dialog should be cleaned up.",
    },
    StatusInfo {
        code: 482,
        reason: "Loop Detected",
        rfc: "RFC 3261 §21.4.20",
        meaning: "A proxy received a request it has already forwarded: a routing loop.",
        when: "Proxies or PBXs routing to each other or to themselves, a DNS name that resolves \
            back to the sender, forwarding rules that point at each other.",
        action: "Look at the Via headers to see which hops repeat, and fix the routes or dial \
            plans between them.",
    },
    StatusInfo {
        code: 483,
        reason: "Too Many Hops",
        rfc: "RFC 3261 §21.4.21",
        meaning: "The request reached a server with Max-Forwards at 0.",
        when: "A routing loop that went round until the counter ran out, or a sender that starts \
            with a very low Max-Forwards.",
        action: "Check the Via chain for repeated hops and fix the loop; senders should start at \
            Max-Forwards 70.",
    },
    StatusInfo {
        code: 484,
        reason: "Address Incomplete",
        rfc: "RFC 3261 §21.4.22",
        meaning: "The Request-URI is incomplete: more digits are needed.",
        when: "Overlap dialing, or a dial plan that matched a prefix but expects more digits.",
        action: "Send the complete number; fix the phone's digit map or the dial plan.",
    },
    StatusInfo {
        code: 485,
        reason: "Ambiguous",
        rfc: "RFC 3261 §21.4.23",
        meaning: "The Request-URI matches several users; the response may list the candidates in \
            Contact headers.",
        when: "Dialing by name or a short alias that matches more than one user.",
        action: "Pick one of the listed Contacts, or use an unambiguous address.",
    },
    StatusInfo {
        code: 486,
        reason: "Busy Here",
        rfc: "RFC 3261 §21.4.24",
        meaning: "The callee's user agent is busy at this location; other locations or voicemail \
            may still take the call.",
        when: "The callee is already on a call (and has no call waiting) or pressed reject on some \
            phones; apps that answer every incoming call with 486 by default.",
        action: "Normal outcome: retry later or go to voicemail. If unexpected, check the callee's \
            limit on simultaneous calls and what its application does with incoming calls.",
    },
    StatusInfo {
        code: 487,
        reason: "Request Terminated",
        rfc: "RFC 3261 §21.4.25",
        meaning: "The INVITE was cancelled before it got a final answer.",
        when: "Normal after a CANCEL: the caller hung up before answer, or a forked call was \
            answered elsewhere and the other branches were cancelled.",
        action: "Nothing if the caller cancelled. If unexpected, find who sent the CANCEL: a proxy \
            or PBX ring timeout, or an application that dropped the call (e.g. a pjsua2 app whose \
            outgoing Call object was garbage-collected).",
    },
    StatusInfo {
        code: 488,
        reason: "Not Acceptable Here",
        rfc: "RFC 3261 §21.4.26",
        meaning: "The session description (SDP) is not acceptable at this location; a Warning \
            header may say which part.",
        when: "No codec in common, a media type the peer cannot do (video, T.38), SRTP required on \
            one side but plain RTP offered (or the reverse), an unsupported address family.",
        action: "Check the SDP codecs: compare the offer's m= lines and rtpmaps with what the far \
            end has enabled, align the SRTP settings, and read the Warning header.",
    },
    StatusInfo {
        code: 489,
        reason: "Bad Event",
        rfc: "RFC 6665 (was RFC 3265)",
        meaning: "The server does not understand the event package in the Event header of a \
            SUBSCRIBE, NOTIFY or PUBLISH; Allow-Events lists the ones it does.",
        when: "Phones subscribing to presence, dialog (BLF) or message-summary (MWI) on a server \
            where that package is not enabled.",
        action: "Check Allow-Events and disable that subscription on the phone, or enable the \
            package on the server.",
    },
    StatusInfo {
        code: 491,
        reason: "Request Pending",
        rfc: "RFC 3261 §21.4.27",
        meaning: "The request arrived while another offer/answer exchange in the same dialog was \
            still pending: re-INVITE glare.",
        when: "Both sides send a re-INVITE or UPDATE at the same time (hold, codec change, session \
            refresh), or an application starts a re-INVITE before the previous one finished.",
        action: "Wait a random time and retry (RFC 3261 §14.1: 2.1–4 s if you generated the \
            Call-ID, 0–2 s otherwise), and do not start a new re-INVITE while one is pending.",
    },
    StatusInfo {
        code: 493,
        reason: "Undecipherable",
        rfc: "RFC 3261 §21.4.28",
        meaning: "The request carried an encrypted (S/MIME) body that the receiver cannot decrypt.",
        when: "Rare; S/MIME with a missing or wrong key or certificate on the receiving side.",
        action: "Check the certificates and keys used for S/MIME, or send the body unencrypted \
            over TLS.",
    },
    StatusInfo {
        code: 494,
        reason: "Security Agreement Required",
        rfc: "RFC 3329",
        meaning: "The server requires a security mechanism to be negotiated first; Security-Server \
            lists the mechanisms it offers.",
        when: "IMS and VoLTE registration (ipsec-3gpp, tls) when the device did not start the \
            security agreement.",
        action: "Pick a mechanism from Security-Server, set it up, and resend with \
            Security-Verify; or turn off the requirement on the server.",
    },
    // ---- 5xx server error ----
    StatusInfo {
        code: 500,
        reason: "Server Internal Error",
        rfc: "RFC 3261 §21.5.1",
        meaning: "The server hit an unexpected condition and could not process the request; \
            Retry-After means it is temporary.",
        when: "Routing script errors, database or backend failures, crashes in a B2BUA, and PBXs \
            that use 500 for any internal failure.",
        action: "Check the server's logs; retry later or at another server.",
    },
    StatusInfo {
        code: 501,
        reason: "Not Implemented",
        rfc: "RFC 3261 §21.5.2",
        meaning: "The server does not support the method at all (unlike 405, where it is known but \
            not allowed for that address).",
        when: "UPDATE, PRACK, INFO, MESSAGE, REFER or PUBLISH sent to a server that lacks them.",
        action: "Avoid the method (check Allow in an OPTIONS answer) and use a fallback, e.g. \
            re-INVITE instead of UPDATE.",
    },
    StatusInfo {
        code: 502,
        reason: "Bad Gateway",
        rfc: "RFC 3261 §21.5.3",
        meaning: "A gateway or proxy received an invalid response from the server it forwarded the \
            request to.",
        when: "Faults on the downstream trunk or carrier, or a downstream server answering with \
            something unparsable.",
        action: "Investigate the downstream hop (its logs, the trunk status); try another route.",
    },
    StatusInfo {
        code: 503,
        reason: "Service Unavailable",
        rfc: "RFC 3261 §21.5.4",
        meaning: "The server is temporarily overloaded or down for maintenance, or (from a proxy) \
            it found no usable route; Retry-After says when to try again.",
        when: "Overload, a trunk that is down or out of channels or licences, DNS failure, every \
            destination failing. pjsip also reports a local transport failure (connection refused, \
            unresolvable host) as 503 without anything coming back from the network.",
        action: "Honour Retry-After and fail over to another server (RFC 3263). Check trunk status \
            and capacity, and whether the 503 really came over the wire or was made up locally.",
    },
    StatusInfo {
        code: 504,
        reason: "Server Time-out",
        rfc: "RFC 3261 §21.5.5",
        meaning: "The server did not get a timely answer from another server it needed \
            (downstream, a location server, DNS).",
        when: "An unreachable or slow next hop or carrier, a slow database or DNS lookup.",
        action: "Investigate the server's upstream dependencies and the downstream hop; retry \
            later.",
    },
    StatusInfo {
        code: 505,
        reason: "Version Not Supported",
        rfc: "RFC 3261 §21.5.6",
        meaning: "The server does not support the SIP version in the request line.",
        when: "Requests that do not say SIP/2.0, usually because the request line is malformed \
            (spaces in the URI, a mangled line).",
        action: "Check the request line; the sender must send SIP/2.0 and a well-formed \
            Request-URI.",
    },
    StatusInfo {
        code: 513,
        reason: "Message Too Large",
        rfc: "RFC 3261 §21.5.7",
        meaning: "The message is longer than the server can process.",
        when: "Large INVITEs (many codecs, ICE candidates, long Via or Record-Route lists), \
            typically over UDP.",
        action: "Shrink the message (fewer codecs and headers) or use TCP, which has no datagram \
            size limit.",
    },
    StatusInfo {
        code: 555,
        reason: "Push Notification Service Not Supported",
        rfc: "RFC 8599",
        meaning: "The proxy does not support the push notification service named in the \
            pn-provider URI parameter.",
        when: "Mobile clients registering with push parameters (pn-provider, pn-prid) for a push \
            service the proxy does not handle.",
        action: "Use a push provider the proxy supports, or register without the push parameters.",
    },
    StatusInfo {
        code: 580,
        reason: "Precondition Failure",
        rfc: "RFC 3312",
        meaning: "The callee cannot or will not meet a precondition of the session (e.g. QoS \
            resource reservation).",
        when: "IMS and VoLTE calls using preconditions when the network could not reserve \
            resources, or a peer that cannot meet them.",
        action: "Check the precondition attributes in the SDP (a=curr, a=des) and the network's \
            QoS; disable preconditions towards peers that cannot handle them.",
    },
    // ---- 6xx global failure ----
    StatusInfo {
        code: 600,
        reason: "Busy Everywhere",
        rfc: "RFC 3261 §21.6.1",
        meaning: "The callee is busy and knows that no other destination (not even voicemail) \
            would take the call.",
        when: "The callee's device or service decides the user is busy everywhere, e.g. busy with \
            call forwarding and voicemail disabled.",
        action: "Do not try other locations; tell the caller the callee is busy and retry later \
            (after Retry-After if present).",
    },
    StatusInfo {
        code: 603,
        reason: "Decline",
        rfc: "RFC 3261 §21.6.2",
        meaning: "The callee explicitly declined the call, and no other location would accept it \
            either; Retry-After may suggest a better time.",
        when: "The user pressed reject or decline; call screening. In pjsua2 apps an unexpected \
            603 right after the INVITE often means the callee's Call object was garbage-collected: \
            its destructor hangs up, and an unanswered incoming call is hung up with 603.",
        action: "Respect it: do not retry elsewhere automatically. If the 603 was not a user's \
            choice and the callee is a pjsua2 app, keep a reference to the Call object created in \
            onIncomingCall.",
    },
    StatusInfo {
        code: 604,
        reason: "Does Not Exist Anywhere",
        rfc: "RFC 3261 §21.6.3",
        meaning: "The server knows for certain that the user does not exist anywhere.",
        when: "Unallocated numbers and removed users, reported by a server with authoritative \
            knowledge.",
        action: "Verify the number or URI; do not retry it elsewhere.",
    },
    StatusInfo {
        code: 606,
        reason: "Not Acceptable",
        rfc: "RFC 3261 §21.6.4",
        meaning: "The callee was reached but some aspect of the session (media, bandwidth, \
            addressing) is not acceptable, and no other location would do better.",
        when: "No acceptable media or codec at all, e.g. a video-only offer to audio-only devices \
            or codec sets with nothing in common; a Warning header gives the reason.",
        action: "Check the SDP codecs and media types in the offer against what the callee \
            supports, and read the Warning header; do not retry elsewhere with the same offer.",
    },
    StatusInfo {
        code: 607,
        reason: "Unwanted",
        rfc: "RFC 8197",
        meaning: "The called person marked the call as unwanted (spam, robocall); future calls \
            from the same caller are likely to be rejected too.",
        when: "A user pressing a 'spam' button; carriers feed it into call-analytics reputation.",
        action: "Do not redial automatically. A legitimate caller should check its caller ID \
            presentation and reputation (STIR/SHAKEN attestation, calling patterns).",
    },
    StatusInfo {
        code: 608,
        reason: "Rejected",
        rfc: "RFC 8688",
        meaning: "An intermediary (call analytics, a blocking service), not the called person, \
            rejected the call.",
        when: "Network call-blocking of suspected spam; the response should carry a Call-Info \
            header (purpose=jwscard) with contact details for disputes.",
        action: "Do not redial automatically; use the contact in Call-Info to dispute a wrong \
            block, and check caller ID reputation and attestation.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry's codes (IANA "Response Codes" table), including 425 Bad Alert Message
    /// (RFC 8876).
    const REGISTERED: &[u16] = &[
        100, 180, 181, 182, 183, 199, 200, 202, 204, 300, 301, 302, 305, 380, 400, 401, 402, 403,
        404, 405, 406, 407, 408, 410, 412, 413, 414, 415, 416, 417, 420, 421, 422, 423, 424, 425,
        428, 429, 430, 433, 436, 437, 438, 439, 440, 469, 470, 480, 481, 482, 483, 484, 485, 486,
        487, 488, 489, 491, 493, 494, 500, 501, 502, 503, 504, 505, 513, 555, 580, 600, 603, 604,
        606, 607, 608,
    ];

    #[test]
    fn table_is_sorted_and_unique() {
        for w in ALL.windows(2) {
            assert!(w[0].code < w[1].code, "{} before {}", w[0].code, w[1].code);
        }
    }

    #[test]
    fn every_entry_is_complete() {
        for s in ALL {
            assert!(StatusClass::of(s.code).is_some(), "{}", s.code);
            for (name, v) in [
                ("reason", s.reason),
                ("rfc", s.rfc),
                ("meaning", s.meaning),
                ("when", s.when),
                ("action", s.action),
            ] {
                assert!(!v.trim().is_empty(), "{} {name} is empty", s.code);
                assert_eq!(v, v.trim(), "{} {name} has stray whitespace", s.code);
                assert!(!v.contains("  "), "{} {name} has a double space", s.code);
            }
            assert!(s.rfc.starts_with("RFC "), "{} rfc: {}", s.code, s.rfc);
        }
    }

    #[test]
    fn table_is_exactly_the_registry() {
        let codes: Vec<u16> = ALL.iter().map(|s| s.code).collect();
        assert_eq!(codes, REGISTERED);
        for &c in REGISTERED {
            assert!(lookup(c).is_some(), "{c} missing");
        }
    }

    #[test]
    fn reason_phrases() {
        let phrase = |c| lookup(c).unwrap().reason;
        assert_eq!(phrase(100), "Trying");
        assert_eq!(phrase(199), "Early Dialog Terminated");
        assert_eq!(phrase(204), "No Notification");
        assert_eq!(phrase(425), "Bad Alert Message");
        assert_eq!(phrase(436), "Bad Identity Info");
        assert_eq!(phrase(437), "Unsupported Credential");
        assert_eq!(phrase(481), "Call/Transaction Does Not Exist");
        assert_eq!(phrase(500), "Server Internal Error");
        assert_eq!(phrase(504), "Server Time-out");
        assert_eq!(phrase(555), "Push Notification Service Not Supported");
        assert_eq!(phrase(600), "Busy Everywhere");
        assert_eq!(phrase(606), "Not Acceptable");
        assert_eq!(phrase(607), "Unwanted");
        assert_eq!(phrase(608), "Rejected");
    }

    #[test]
    fn lookup_finds_and_misses() {
        assert_eq!(lookup(486).unwrap().reason, "Busy Here");
        assert_eq!(lookup(600).unwrap().rfc, "RFC 3261 §21.6.1");
        assert_eq!(lookup(100).unwrap().code, 100);
        assert_eq!(lookup(608).unwrap().code, 608);
        for c in [0, 99, 101, 409, 411, 426, 499, 599, 699, 700, u16::MAX] {
            assert!(lookup(c).is_none(), "{c}");
        }
    }

    #[test]
    fn classes() {
        assert_eq!(StatusClass::of(99), None);
        assert_eq!(StatusClass::of(100), Some(StatusClass::Provisional));
        assert_eq!(StatusClass::of(299), Some(StatusClass::Success));
        assert_eq!(StatusClass::of(302), Some(StatusClass::Redirection));
        assert_eq!(StatusClass::of(499), Some(StatusClass::ClientError));
        assert_eq!(StatusClass::of(503), Some(StatusClass::ServerError));
        assert_eq!(StatusClass::of(699), Some(StatusClass::GlobalFailure));
        assert_eq!(StatusClass::of(700), None);
        assert_eq!(StatusClass::Provisional.name(), "provisional (1xx)");
        assert_eq!(
            StatusClass::GlobalFailure.to_string(),
            "global failure (6xx)"
        );
        assert!(!StatusClass::Provisional.is_final());
        assert!(StatusClass::Success.is_final());
    }

    #[test]
    fn explain_registered() {
        let e = explain(603);
        assert!(e.registered);
        assert_eq!(e.reason, "Decline");
        assert_eq!(e.class, Some(StatusClass::GlobalFailure));
        assert_eq!(e.treat_as, None);
    }

    #[test]
    fn explain_unregistered_in_range() {
        let e = explain(499);
        assert!(!e.registered);
        assert_eq!(e.code, 499);
        assert_eq!(e.class, Some(StatusClass::ClientError));
        assert_eq!(e.treat_as, Some(400));
        assert!(e.rfc.contains("8.1.3.2"));
        assert!(e.meaning.contains("client-error"));
        assert_eq!(explain(199).treat_as, None);
        assert_eq!(explain(150).treat_as, Some(183));
        assert_eq!(explain(299).treat_as, Some(200));
        assert_eq!(explain(699).treat_as, Some(600));
    }

    #[test]
    fn explain_out_of_range() {
        for c in [0, 99, 700, 999, u16::MAX] {
            let e = explain(c);
            assert_eq!(e.class, None, "{c}");
            assert!(!e.registered);
            assert_eq!(e.treat_as, None);
            assert!(e.meaning.contains("not a valid SIP status code"), "{c}");
            assert!(render(c).contains("not a valid SIP status code"), "{c}");
        }
    }

    /// The rendered text with line wrapping undone.
    fn flat(code: u16) -> String {
        render(code)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn render_603() {
        assert!(render(603).starts_with("603 Decline — global failure (6xx)\n"));
        let r = flat(603);
        assert!(r.contains("declined"), "{r}");
        assert!(r.contains("RFC 3261"), "{r}");
        assert!(r.contains("garbage-collected"), "{r}");
    }

    #[test]
    fn render_key_advice() {
        assert!(flat(600).contains("Do not try other locations"));
        assert!(flat(301).contains("update the address book or stored target to the new Contact"));
        let r302 = flat(302);
        assert!(r302.contains("on_call_redirected") && r302.contains("Unhandled redirection"));
        assert!(flat(423).contains("Expires greater than or equal to Min-Expires"));
        assert!(flat(422).contains("Raise Session-Expires to at least the Min-SE"));
        assert!(flat(491).contains("RFC 3261 §14.1"));
        assert!(flat(503).contains("Honour Retry-After"));
        assert!(flat(408).contains("Timer B"));
        assert!(flat(488).contains("Check the SDP codecs"));
        assert!(flat(481).contains("after the other side restarted"));
        assert!(flat(487).contains("Normal after a CANCEL"));
    }

    #[test]
    fn render_unregistered() {
        let r = render(499);
        assert!(r.starts_with("499 — not a registered response code, client error (4xx)\n"));
        assert!(r.contains("\nTreat as:  400 Bad Request "), "{r}");
    }

    #[test]
    fn render_is_wrapped_and_never_panics() {
        for c in 0..=1000u16 {
            let r = render(c);
            assert!(r.ends_with('\n'));
            for line in r.lines() {
                assert!(render::columns(line) <= render::WIDTH, "{c}: {line:?}");
                assert_eq!(line, line.trim_end(), "{c}: {line:?}");
            }
        }
    }
}
