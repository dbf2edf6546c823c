//! SF029 `scanner-traffic`: SIP scanners and brute force: scanner User-Agents, sweeps of many
//! users from one source, password guessing, and the account it compromised.
//!
//! Owns: reading each window's REGISTER, INVITE and OPTIONS transactions as attempts of their
//! source address, and [`Sources`], the bounded memory of what each source has done so far,
//! which the run carries from one window to the next ([`super::Memory`]); and [`Window`], what
//! it makes of one window, computed once ([`super::Shared`]) and read by the rules that lower
//! their findings on a scanner's requests ([`scanner_at`]). Does not own: why one user's
//! registration failed (`registration-failed`, `auth-failed`).

use std::collections::{BTreeMap, BTreeSet};

use crate::dialog::Owner;
use crate::event::Timestamp;
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::{HeaderName, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF029",
    name: "scanner-traffic",
    severity: Severity::Warning,
    scope: Scope::Transaction,
    judges_time: true,
    summary: "a SIP scanner or password guesser: scanner User-Agent, sweep of users, many refused guesses (error when an account fell)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
Traffic from one source address that is an attack on the SIP service rather than a user's
phone:

- **a scanner's User-Agent**: `friendly-scanner` and `sipvicious` (SIPVicious svmap, svwar,
  svcrack), `sipcli`, `VaxSIPUserAgent`, `VaxIPUserAgent`, `sip-scan`, `sundayddr`, `iWar`,
  `SIVuS`, `smap`, `friendly-request`, `siparmyknife`, `pplsip` (the product name, the User-Agent
  up to its first `/` or space, or anywhere for `friendly-scanner` and `sipvicious`);
- **a sweep**: REGISTER, INVITE or OPTIONS requests from one source for at least 10 different
  users (or extensions, or hosts when the request URI has no user) that were refused (`403`,
  `404`, `484`, `604` …) or challenged and never answered with credentials, with fewer users
  accepted than half of those refused;
- **password guessing**: at least 5 requests with credentials for one user from one source
  refused (`401`/`407`/`403`), each within 10 s of the one before.

Then it watches what the attacker achieved: a `2xx` to a REGISTER from that source (an
account it now holds), or a `2xx` to its INVITE (a call set up for it).

One finding per source address, and one more for each account or call it won. Not reported: a
proxy or SBC that forwards the REGISTERs of many users from one address (their challenges are
answered and they register), a PBX's OPTIONS keepalives to its trunks or phones (answered
`200`), a phone that re-registers every minute (one user, accepted), a phone with a wrong
password retrying every 20 s or more (see `auth-failed`).

**Across windows.** A large input is judged in windows of ended calls (see
`docs/architecture.md`, "Memory"); a sweep spreads over many Call-IDs and windows. The rule
remembers each source's counts from one window to the next (at most 1,024 sources, the least
recently seen forgotten first; at most 256 users each), so a slow sweep or a guesser is
still found when its requests fall in many windows, and a source is reported once: in the
window where it first met a criterion, with the counts as of the end of that window and its
evidence from that window. Later windows report only what it then won. A challenge answered
in a later window than it was sent counts as unanswered.

## Why it matters
Scanners probe every public SIP port all day, looking for extensions and weak passwords.
A guessed password is used within hours for toll fraud (calls to premium-rate and
international numbers, billed to you) or to take the extension's incoming calls. Scanner
INVITEs also ring phones that accept calls from any address ("ghost calls").

## Severity
A warning by default: an attack that failed is worth a look, nothing broke. An error when the
trace shows that the attack succeeded: a REGISTER from the scanning source accepted with a
`2xx` (the account is compromised: its password was guessed, or it needs none), or an INVITE
from it answered with a `2xx` (a call was set up for the attacker).

One problem, one finding: `auth-failed` and `registration-failed` report the refusals of a
request from a source this rule reports (its guesses, its sweep's `404`s) as info, naming this
rule. They read which sources are scanners from this rule's analysis of the window, which
runs once whichever rule asks first (`rules::Shared`); a source first flagged in a later
window does not change the findings of the windows already judged.

## Typical causes
- The SIP port (5060) is reachable from the internet with no filter.
- Extensions with guessable names (100, 1000, 6001) and weak or numeric passwords (the
  extension number, `1234`, `123456`).
- A PBX that answers unknown users with `404` and known ones with `401`, so extensions can be
  enumerated.
- Phones that accept INVITEs from any address, not only from their registrar.

## How to fix
- Block the source, and block sources like it automatically: fail2ban (Asterisk, FreeSWITCH
  filters), Kamailio's `pike` (rate limits) and `secfilter` (User-Agent block lists), APIBAN
  (a shared list of known scanners).
- If an account fell (the error): change its password at once, check its calls since then
  (CDRs) for fraud, and look for other accounts registered from the same address.
- Strong random passwords for every account; user names that are not the extension number;
  the same answer (`401`, or `403`) for known and unknown users (`alwaysauthreject=yes` in
  Asterisk).
- Allow registrations only from the networks the phones are on; move SIP off port 5060 or
  behind an SBC; let phones accept INVITEs only from their registrar or proxy.

## Example
From `fixtures/rules-traffic/scanner-crack/scan.pcap` (SIPVicious against a kamailio
registrar):
```
OPTIONS sip:100@127.0.0.1 User-Agent: friendly-scanner          (svmap)  → 200
REGISTER 6000 … 6019 (one each)                                  (svwar)  → 401 × 10, 404 × 10
REGISTER 6001 with credentials × 5                               (svcrack) → 401 × 5
REGISTER 6001 with credentials                                            → 200 OK
```
sipflow reports the scanner (warning) and the account 6001 it compromised (error).

## References
- RFC 3261 §22 (digest authentication), §26.1 (attacks on SIP)
- SIPVicious OSS (https://github.com/EnableSecurity/sipvicious)
- fail2ban, Kamailio `pike` and `secfilter`, APIBAN (https://www.apiban.org)
"#;

/// User-Agent product names of scanners and attack tools (lowercase).
const SCANNER_AGENTS: &[&str] = &[
    "friendly-scanner",
    "sipvicious",
    "sipcli",
    "vaxsipuseragent",
    "vaxipuseragent",
    "sip-scan",
    "sundayddr",
    "iwar",
    "sivus",
    "smap",
    "friendly-request",
    "siparmyknife",
    "pplsip",
];

/// Distinct users refused from one source that make a sweep.
const SWEEP_USERS: usize = 10;
/// Refused guesses for one user from one source that make password guessing.
const GUESSES: u32 = 5;
/// The longest gap between two refused guesses of one run (µs). Phones retry a refused
/// password after 20 s or more (Asterisk's default `registertimeout`), pjsip after 300 s.
const GUESS_GAP_MICROS: i64 = 10_000_000;
/// Sources remembered at once.
const MAX_SOURCES: usize = 1_024;
/// Users remembered per source.
const MAX_USERS: usize = 256;

/// Whether a User-Agent is a scanner's.
pub(crate) fn scanner_agent(ua: &str) -> bool {
    let lower = ua.trim().to_ascii_lowercase();
    let product = lower
        .split(|c: char| c == '/' || c.is_whitespace())
        .next()
        .unwrap_or("");
    SCANNER_AGENTS.contains(&product)
        || lower.contains("friendly-scanner")
        || lower.contains("sipvicious")
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// A 2xx.
    Accepted,
    /// A 401/407 to a request without credentials; `answered` when the source sent that user's
    /// credentials later in the window.
    Challenged { answered: bool },
    /// Credentials refused (401/407/403 to a request with credentials).
    Guess,
    /// Refused without credentials in a way that tells a prober something (403, 404, 484 …).
    Refused,
    /// Anything else: no final response, 5xx, 408, a redirect.
    Other,
}

/// One request of a source, as the rule reads it.
#[derive(Debug, Clone)]
struct Attempt<'a> {
    source: &'a str,
    ts: Timestamp,
    /// REGISTER, INVITE, OPTIONS, or another method (which counts only for the User-Agent).
    method: &'a str,
    /// The user (REGISTER: the To user; else the request URI's user, or its host).
    user: String,
    outcome: Outcome,
    /// The scanner User-Agent it carried.
    agent: Option<String>,
    /// The request's and the final response's wire messages.
    request: usize,
    response: Option<usize>,
}

/// What a source did to one user.
#[derive(Debug, Default, Clone)]
struct UserState {
    refused: bool,
    accepted: bool,
    guesses: u32,
    /// Refused guesses in the current run (each within [`GUESS_GAP_MICROS`] of the last).
    run: u32,
    last_guess: Option<Timestamp>,
    /// The account it won was reported.
    won: bool,
}

/// What one source has done so far.
#[derive(Debug, Clone)]
struct SourceState {
    first: Timestamp,
    last: Timestamp,
    /// REGISTER, INVITE, OPTIONS, other.
    requests: [u64; 4],
    agent: Option<String>,
    users: BTreeMap<String, UserState>,
    /// Users refused beyond [`MAX_USERS`] (not remembered one by one).
    more_refused: usize,
    /// The user with the most refused guesses in one run, and how many.
    guessed: Option<(String, u32)>,
    reported: bool,
}

impl SourceState {
    fn new(ts: Timestamp) -> Self {
        SourceState {
            first: ts,
            last: ts,
            requests: [0; 4],
            agent: None,
            users: BTreeMap::new(),
            more_refused: 0,
            guessed: None,
            reported: false,
        }
    }

    fn refused_users(&self) -> usize {
        self.users
            .values()
            .filter(|u| u.refused && !u.accepted)
            .count()
            + self.more_refused
    }

    fn accepted_users(&self) -> usize {
        self.users.values().filter(|u| u.accepted).count()
    }

    fn sweep(&self) -> bool {
        let refused = self.refused_users();
        refused >= SWEEP_USERS && self.accepted_users() * 2 < refused
    }

    fn guessing(&self) -> bool {
        self.guessed.as_ref().is_some_and(|(_, n)| *n >= GUESSES)
    }

    /// Whether the source is an attacker (so far).
    fn attacker(&self) -> bool {
        self.agent.is_some() || self.sweep() || self.guessing()
    }

    /// Takes one attempt; returns whether it won something (an accepted REGISTER or INVITE
    /// of an attacker, not reported before).
    fn observe(&mut self, a: &Attempt<'_>) -> bool {
        self.first = self.first.min(a.ts);
        self.last = self.last.max(a.ts);
        let slot = match a.method {
            "REGISTER" => 0,
            "INVITE" => 1,
            "OPTIONS" => 2,
            _ => 3,
        };
        self.requests[slot] += 1;
        if self.agent.is_none() {
            self.agent.clone_from(&a.agent);
        }
        if slot == 3 {
            return false;
        }
        let probe = matches!(
            a.outcome,
            Outcome::Refused | Outcome::Guess | Outcome::Challenged { answered: false }
        );
        if !self.users.contains_key(&a.user) && self.users.len() >= MAX_USERS {
            if probe {
                self.more_refused += 1;
            }
            return false;
        }
        if !self.users.contains_key(&a.user) {
            self.users.insert(a.user.clone(), UserState::default());
        }
        let Some(user) = self.users.get_mut(&a.user) else {
            return false;
        };
        match a.outcome {
            Outcome::Accepted => user.accepted = true,
            Outcome::Refused | Outcome::Challenged { answered: false } => user.refused = true,
            Outcome::Guess => {
                user.refused = true;
                user.guesses += 1;
                let close = user
                    .last_guess
                    .is_some_and(|t| t.micros.saturating_add(GUESS_GAP_MICROS) >= a.ts.micros);
                user.run = if close { user.run + 1 } else { 1 };
                user.last_guess = Some(a.ts);
                let run = user.run;
                if self.guessed.as_ref().is_none_or(|(_, n)| run > *n) {
                    self.guessed = Some((a.user.clone(), run));
                }
            }
            Outcome::Challenged { answered: true } | Outcome::Other => {}
        }
        let won = a.outcome == Outcome::Accepted && slot != 2 && self.attacker();
        let Some(user) = self.users.get_mut(&a.user) else {
            return false;
        };
        let first_win = won && !user.won;
        if first_win {
            user.won = true;
        }
        first_win
    }
}

/// What the run remembers of each source (bounded: [`MAX_SOURCES`], the least recently seen
/// forgotten first).
#[derive(Debug, Default)]
pub struct Sources {
    by_addr: BTreeMap<String, SourceState>,
}

impl Sources {
    /// [`SourceState::observe`] on the attempt's source (remembered from now on).
    fn observe(&mut self, a: &Attempt<'_>) -> bool {
        if let Some(state) = self.by_addr.get_mut(a.source) {
            return state.observe(a);
        }
        if self.by_addr.len() >= MAX_SOURCES {
            let oldest = self
                .by_addr
                .iter()
                .min_by_key(|(k, s)| (s.last, (*k).clone()))
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.by_addr.remove(&k);
            }
        }
        let mut state = SourceState::new(a.ts);
        let won = state.observe(a);
        self.by_addr.insert(a.source.to_string(), state);
        won
    }
}

/// The address part of `ip:port` (IPv6 in brackets).
fn address(src: &str) -> &str {
    if let Some(rest) = src.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match src.rsplit_once(':') {
        Some((ip, port)) if port.bytes().all(|b| b.is_ascii_digit()) => ip,
        _ => src,
    }
}

/// The user an attempt is about.
fn user_of(m: &SipMessage, method: &str) -> Option<String> {
    let to;
    let uri = if method == "REGISTER" {
        to = m.to()?;
        to.uri_text.as_str()
    } else {
        m.request_uri()?
    };
    let mut user = match crate::sip::Uri::parse(uri) {
        Some(u) => u.user.filter(|u| !u.is_empty()).unwrap_or(u.host),
        None => uri.to_string(),
    };
    user.make_ascii_lowercase();
    Some(user)
}

/// The attempts of the window, in time order.
fn attempts<'a>(ctx: &Context<'a>) -> Vec<Attempt<'a>> {
    let model = ctx.model;
    let mut out = Vec::new();
    for t in &model.transactions {
        if matches!(t.method.as_str(), "ACK" | "CANCEL") {
            continue;
        }
        let Some(&request) = t.messages.iter().find(|&&w| {
            !model.messages[w].retransmission
                && model
                    .message(w)
                    .parsed()
                    .is_some_and(|m| m.method() == Some(t.method.as_str()))
        }) else {
            continue;
        };
        let ev = model.message(request);
        let Some(msg) = ev.parsed() else { continue };
        let Some(source) = model.messages[request].src.as_deref().map(address) else {
            continue;
        };
        let Some(user) = user_of(msg, &t.method) else {
            continue;
        };
        let response = t.messages.iter().copied().find(|&w| {
            model.message(w).parsed().is_some_and(|m| {
                m.status().is_some_and(|c| c >= 200)
                    && m.cseq().is_some_and(|c| c.method == t.method)
            })
        });
        let credentials = msg.credentials().is_some();
        let outcome = match t.final_status {
            Some(200..=299) => Outcome::Accepted,
            Some(401 | 407) if !credentials => Outcome::Challenged { answered: false },
            Some(401 | 403 | 407) if credentials => Outcome::Guess,
            Some(403 | 404 | 410 | 484 | 485 | 604) => Outcome::Refused,
            _ => Outcome::Other,
        };
        let agent = msg
            .user_agent()
            .filter(|ua| scanner_agent(ua))
            .map(|ua| ua.trim().to_string());
        out.push(Attempt {
            source,
            ts: ev.ts,
            method: &t.method,
            user,
            outcome,
            agent,
            request,
            response,
        });
    }
    out.sort_by_key(|a| (a.ts, a.request));
    // A challenge is answered when the source later sends that user's credentials.
    for i in 0..out.len() {
        if out[i].outcome != (Outcome::Challenged { answered: false }) {
            continue;
        }
        let answered = out[i + 1..].iter().any(|b| {
            b.source == out[i].source
                && b.user == out[i].user
                && b.method == out[i].method
                && model
                    .message(b.request)
                    .parsed()
                    .is_some_and(|m| m.credentials().is_some())
        });
        out[i].outcome = Outcome::Challenged { answered };
    }
    out
}

/// A source's evidence in this window.
#[derive(Default)]
struct Seen {
    agent: Option<usize>,
    refused: Vec<usize>,
    guesses: Vec<usize>,
    /// The accepted attempts it won (indexes into the window's attempts).
    won: Vec<usize>,
}

/// What the rule makes of one window: its findings, and the sources the run knows as
/// scanners by the end of it. Computed once per window ([`analysis`]), by this rule's check or
/// by a rule that asks whether a request came from a scanner ([`scanner_at`]).
#[derive(Debug, Default)]
pub struct Window {
    findings: Vec<Finding>,
    /// Addresses (no port).
    scanners: BTreeSet<String>,
}

/// This window's analysis: computed by the first rule that asks, with the memory of the
/// windows before it, which it advances.
fn analysis<'c>(ctx: &'c Context<'_>) -> &'c Window {
    ctx.shared.scanner.get_or_init(|| analyse(ctx))
}

/// Whether a request from `src` (`ip:port`, or an address) comes from a source this rule
/// reports as a scanner (it must be enabled), as the run knows by the end of this window. A
/// rule whose finding is about such a request lowers it: the attacker failing is this rule's
/// problem, not the victim's.
pub(super) fn scanner_at(ctx: &Context<'_>, src: &str) -> bool {
    ctx.settings.enabled(&RULE) && analysis(ctx).scanners.contains(address(src))
}

/// The text a lowered finding adds about the scanner at `src`.
pub(super) fn lowered_note(src: &str) -> String {
    format!(
        "; the request came from {}, which `scanner-traffic` reports as a SIP scanner: an \
         attacker's attempt refused, as it should be (info here: that rule reports the attack, \
         and an error for an account it won)",
        address(src)
    )
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    out.extend(analysis(ctx).findings.iter().cloned());
}

fn analyse(ctx: &Context<'_>) -> Window {
    let mut out = Vec::new();
    let attempts = attempts(ctx);
    let mut sources = match ctx.memory.scanner.lock() {
        Ok(s) => s,
        Err(poisoned) => poisoned.into_inner(),
    };
    let mut seen: BTreeMap<&str, Seen> = BTreeMap::new();
    for (i, a) in attempts.iter().enumerate() {
        let won = sources.observe(a);
        let s = seen.entry(a.source).or_default();
        if a.agent.is_some() && s.agent.is_none() {
            s.agent = Some(a.request);
        }
        match a.outcome {
            Outcome::Guess => s.guesses.push(a.request),
            Outcome::Refused | Outcome::Challenged { answered: false } => {
                s.refused.push(a.request);
            }
            _ => {}
        }
        if won {
            s.won.push(i);
        }
    }
    for (addr, s) in &seen {
        let Some(state) = sources.by_addr.get_mut(*addr) else {
            continue;
        };
        if !state.reported && state.attacker() {
            state.reported = true;
            out.push(report(ctx, addr, state, s));
        }
        for &i in &s.won {
            out.push(won(ctx, addr, state, &attempts[i]));
        }
    }
    let scanners = sources
        .by_addr
        .iter()
        .filter(|(_, s)| s.attacker())
        .map(|(a, _)| a.clone())
        .collect();
    Window {
        findings: out,
        scanners,
    }
}

/// The warning about a source.
fn report(ctx: &Context<'_>, addr: &str, state: &SourceState, s: &Seen) -> Finding {
    let mut what = Vec::new();
    if let Some(agent) = &state.agent {
        what.push(format!(
            "its User-Agent is \"{}\", a SIP scanner's",
            crate::report::printable(agent)
        ));
    }
    if state.sweep() {
        what.push(format!(
            "it swept {} users that were refused or challenged and never answered with \
             credentials",
            state.refused_users()
        ));
    }
    if let Some((user, run)) = state.guessed.as_ref().filter(|_| state.guessing()) {
        what.push(format!(
            "it guessed passwords: {run} refused credentials for user {} in a row",
            crate::report::printable(user)
        ));
    }
    let [r, i, o, other] = state.requests;
    let mut counts = Vec::new();
    for (n, m) in [
        (r, "REGISTER"),
        (i, "INVITE"),
        (o, "OPTIONS"),
        (other, "other"),
    ] {
        if n > 0 {
            counts.push(format!("{n} {m}"));
        }
    }
    let message = format!(
        "SIP scanner at {addr}: {}; {} request(s) so far ({}) over {}",
        what.join("; "),
        state.requests.iter().sum::<u64>(),
        counts.join(", "),
        crate::rules::secs(state.first.ms_until(state.last)),
    );
    let help = "block the address (fail2ban, Kamailio pike/secfilter, APIBAN); use strong random \
                passwords and user names that are not the extension number; answer known and \
                unknown users alike; accept registrations only from the phones' networks";
    let mut f = Finding::new(&RULE, None, message, help.into());
    if let Some(e) = s.agent {
        let event = ctx.model.messages[e].event;
        f = f.with_span(
            event,
            ctx.header_of(event, HeaderName::UserAgent),
            "a scanner's User-Agent",
        );
    }
    for &w in s.refused.iter().take(2) {
        let event = ctx.model.messages[w].event;
        f = f.with_span(event, ctx.start_line_of(event), "refused or never answered");
    }
    for &w in s.guesses.iter().take(2) {
        let event = ctx.model.messages[w].event;
        f = f.with_span(
            event,
            ctx.span_in(event, |m| m.credentials().map(|h| h.span.clone())),
            "a guess that was refused",
        );
    }
    if f.evidence.is_empty() {
        // Flagged by what earlier windows saw: its first request here.
        if let Some(&w) = s.refused.first().or(s.guesses.first()) {
            f = f.with(ctx.model.messages[w].event, "a request from it");
        }
    }
    f
}

/// The error about an account or call the attacker won.
fn won(ctx: &Context<'_>, addr: &str, state: &SourceState, a: &Attempt) -> Finding {
    let user = crate::report::printable(&a.user);
    let guesses = state.users.get(&a.user).map_or(0, |u| u.guesses);
    let (message, help) = if a.method == "REGISTER" {
        let how = if guesses > 0 {
            format!("after {guesses} refused guesses: its password was guessed")
        } else {
            "without guessing: the account's password is known or it needs none".to_string()
        };
        (
            format!(
                "account {user} compromised: the scanner at {addr} registered as {user} \
                 (2xx to its REGISTER) {how}; its calls now reach the attacker, and the \
                 account can be used for toll fraud"
            ),
            "change the account's password now (a strong random one), remove the attacker's \
             registration, check the account's calls (CDRs) since then for fraud, and block \
             the address",
        )
    } else {
        (
            format!(
                "the scanner at {addr} got a call answered: its INVITE to {user} was accepted \
                 (2xx): a call was set up for an attacker (toll fraud, or a phone that accepts \
                 calls from any address)"
            ),
            "require authentication for calls from outside, accept INVITEs only from the \
             registrar or proxy, check the calls made, and block the address",
        )
    };
    let owner: Option<Owner> = ctx.model.message_owner[a.request];
    let mut f = Finding::new(&RULE, owner, message, help.into());
    f.severity = Severity::Error;
    if let Some(r) = a.response {
        let event = ctx.model.messages[r].event;
        f = f.with_span(
            event,
            ctx.start_line_of(event),
            "the attacker's request accepted",
        );
    }
    let event = ctx.model.messages[a.request].event;
    let span = ctx
        .span_in(event, |m| m.credentials().map(|h| h.span.clone()))
        .or_else(|| ctx.start_line_of(event));
    f.with_span(event, span, format!("the {} from {addr}", a.method))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp {
            micros: ms * 1000,
            dated: false,
            micro: false,
            unknown: false,
        }
    }

    fn attempt<'a>(user: &str, method: &'a str, outcome: Outcome, ms: i64) -> Attempt<'a> {
        Attempt {
            source: "203.0.113.9",
            ts: at(ms),
            method,
            user: user.into(),
            outcome,
            agent: None,
            request: 0,
            response: None,
        }
    }

    /// Feeds attempts; returns (attacker, wins).
    fn feed(list: &[Attempt]) -> (bool, usize) {
        let mut s = SourceState::new(at(0));
        let wins = list.iter().filter(|a| s.observe(a)).count();
        (s.attacker(), wins)
    }

    #[test]
    fn scanner_agents() {
        assert!(scanner_agent("friendly-scanner"));
        assert!(scanner_agent("sipcli/v1.8"));
        assert!(scanner_agent("VaxSIPUserAgent/3.1"));
        assert!(scanner_agent("Mozilla sipvicious 0.3"));
        assert!(!scanner_agent("PJSUA v2.15.1 Linux"));
        assert!(!scanner_agent("Yealink SIP-T46S 66.86.0.15"));
        assert!(!scanner_agent("sipsak 0.9.8"));
        assert!(!scanner_agent("Asterisk PBX 18.10.0"));
    }

    #[test]
    fn addresses() {
        assert_eq!(address("10.0.0.1:5060"), "10.0.0.1");
        assert_eq!(address("[2001:db8::1]:5060"), "2001:db8::1");
        assert_eq!(address("10.0.0.1"), "10.0.0.1");
    }

    #[test]
    fn a_sweep_of_refused_users_is_an_attack() {
        let list: Vec<_> = (0..SWEEP_USERS)
            .map(|i| attempt(&format!("60{i:02}"), "REGISTER", Outcome::Refused, i as i64))
            .collect();
        assert_eq!(feed(&list), (true, 0));
        assert_eq!(feed(&list[..SWEEP_USERS - 1]), (false, 0));
    }

    #[test]
    fn a_proxy_forwarding_many_users_is_not() {
        // Each user challenged, the challenge answered, then accepted: 50 users from one
        // address.
        let mut list = Vec::new();
        for i in 0..50 {
            let u = format!("user{i}");
            list.push(attempt(
                &u,
                "REGISTER",
                Outcome::Challenged { answered: true },
                i * 10,
            ));
            list.push(attempt(&u, "REGISTER", Outcome::Accepted, i * 10 + 5));
        }
        // A few of them refused (deleted accounts) do not make it a sweep either.
        for i in 0..12 {
            list.push(attempt(
                &format!("gone{i}"),
                "REGISTER",
                Outcome::Refused,
                600,
            ));
        }
        assert_eq!(feed(&list), (false, 0));
    }

    #[test]
    fn keepalives_and_reregistrations_are_not() {
        let mut list = Vec::new();
        for round in 0..20 {
            for trunk in 0..15 {
                list.push(attempt(
                    &format!("trunk{trunk}"),
                    "OPTIONS",
                    Outcome::Accepted,
                    round * 60_000,
                ));
            }
            list.push(attempt(
                "6001",
                "REGISTER",
                Outcome::Challenged { answered: true },
                round * 60_000,
            ));
            list.push(attempt(
                "6001",
                "REGISTER",
                Outcome::Accepted,
                round * 60_000 + 1,
            ));
        }
        assert_eq!(feed(&list), (false, 0));
    }

    #[test]
    fn guessing_then_success_is_a_compromise() {
        let mut list: Vec<_> = (0..GUESSES as i64)
            .map(|i| attempt("6001", "REGISTER", Outcome::Guess, i * 100))
            .collect();
        list.push(attempt("6001", "REGISTER", Outcome::Accepted, 600));
        // The same account accepted again is not a second compromise.
        list.push(attempt("6001", "REGISTER", Outcome::Accepted, 700));
        assert_eq!(feed(&list), (true, 1));
    }

    #[test]
    fn a_wrong_password_retried_slowly_is_not_guessing() {
        // A phone retrying every 20 s (Asterisk's registertimeout), then fixed.
        let mut list: Vec<_> = (0..30)
            .map(|i| attempt("6001", "REGISTER", Outcome::Guess, i * 20_000))
            .collect();
        list.push(attempt("6001", "REGISTER", Outcome::Accepted, 700_000));
        assert_eq!(feed(&list), (false, 0));
    }

    #[test]
    fn a_scanner_agent_marks_the_source_and_its_accepted_invite_is_won() {
        let mut a = attempt("100", "INVITE", Outcome::Other, 0);
        a.agent = Some("friendly-scanner".into());
        let b = attempt("100", "INVITE", Outcome::Accepted, 10);
        assert_eq!(feed(&[a.clone(), b]), (true, 1));
        // Its accepted OPTIONS wins nothing.
        let c = attempt("100", "OPTIONS", Outcome::Accepted, 10);
        assert_eq!(feed(&[a, c]), (true, 0));
    }

    #[test]
    fn memory_is_bounded() {
        let mut sources = Sources::default();
        for i in 0..(MAX_SOURCES + 10) {
            let addr = format!("10.0.{}.{}", i / 256, i % 256);
            sources.observe(&Attempt {
                source: &addr,
                ..attempt("u", "OPTIONS", Outcome::Other, i as i64)
            });
        }
        assert_eq!(sources.by_addr.len(), MAX_SOURCES);
        // The least recently seen went first.
        assert!(!sources.by_addr.contains_key("10.0.0.0"));
        let mut s = SourceState::new(at(0));
        for i in 0..(MAX_USERS + 20) {
            s.observe(&attempt(&format!("u{i}"), "REGISTER", Outcome::Refused, 0));
        }
        assert_eq!(s.users.len(), MAX_USERS);
        assert_eq!(s.refused_users(), MAX_USERS + 20);
    }
}
