//! SF005 `auth-failed`: credentials were sent and refused (a 401/407 loop, a 403 after a
//! challenge, or pjsip's `Authorization failed`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use crate::dialog::Owner;
use crate::event::{Event, LogKind};
use crate::rules::{Context, Finding, Rule, Scope, Severity, scanner_traffic};
use crate::sip::{HeaderName, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF005",
    name: "auth-failed",
    severity: Severity::Error,
    scope: Scope::Transaction,
    judges_time: false,
    summary: "credentials were refused (401/407 loop, 403 after a challenge), or challenged again only for a fresh nonce (stale-nonce race)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
Digest authentication that did not work:

- **A wrong password: a 401/407 loop.** A request that carries `Authorization` (or
  `Proxy-Authorization`) is answered with another `401 Unauthorized` / `407 Proxy
  Authentication Required` without `stale=true`, and none of the client's next attempts gets
  in. The server did not accept the credentials. (The empty Digest response
  `nonce="", response=""` that IMS clients put in their first REGISTER is not credentials.)
- **A refused account: 403 after a challenge.** A request with credentials, or a request
  after the server challenged that method in the same Call-ID, is answered `403 Forbidden`.
- **The server's words: a 403 that says the password was wrong** (`403 Wrong password`,
  `403 Forbidden (Bad auth)`, `403 Invalid credentials`: a reason phrase with `passw`,
  `credential`, `bad auth` or `auth fail`), when the input shows neither the credentials nor an
  earlier challenge: a quote that starts at the 403, a capture that lost or damaged the request
  or the challenge's Call-ID or CSeq. The status line must be readable; a message that does not
  parse is not read for this.
- **A stale-nonce race, not a wrong password.** A new challenge to credentials that carries
  `stale=true` (the server accepted them but wants a fresh nonce), or one where the trace shows
  the nonce was the trouble (the credentials answered an older challenge than the latest one
  the client had got, or the server's reason phrase says so, e.g. `401 nonce has changed`) and
  one of the client's next three attempts gets in. The finding says so, with the challenge and
  the attempt that got in as evidence. A client that answers each newest nonce at once and is
  refused each time (a brute force trying passwords) is refused, not racing, even if an
  attempt finally gets in.
- **pjsip's own verdict.** `sip_auth_client.c  Authorization failed for alice@example.com: …`
  and errors such as `PJSIP_EFAILEDCREDENTIAL`, `PJSIP_ENOCREDENTIAL`, `PJSIP_EAUTHSTALECOUNT`
  on the log line.

One finding per call or registration (Call-ID), with every rejection counted; the wire and the
log evidence of the same failure are reported together.

## Why it matters
The account cannot register or call. pjsip gives up after the second challenge of the same
request (the registration ends with the 401, or with `PJSIP_EFAILEDCREDENTIAL`), and many
servers lock an account or ban an IP address (fail2ban) after repeated failures, so a wrong
password left running can take a whole site offline.

## Severity
- **error**: a wrong password or a refused account (a 401/407 loop, a 403) and the
  registration or call never got in afterwards in the trace; also pjsip's own authentication
  error when no message shows more;
- **warning**: the same, but a later attempt of the owner got in (a fixed password, another
  account); or a stale-nonce race that cost a refused attempt (no `stale=true`), or after which
  no attempt got in;
- **info**: only `stale=true` challenges, each answered by an attempt that got in: the server
  refreshed its nonce and the client followed, as RFC 7616 intends.

When `registration-failed` reports the same 401 or 403 as an error, this rule keeps the error
and that finding becomes info (one problem, one error).

**Info** when the refused requests came from an address that `scanner-traffic` reports as a SIP
scanner (by the end of the window being judged; see that rule): they are an attacker's
guesses, refused as they should be, and the attack is that rule's finding (a warning, and an
error for an account it won). With `scanner-traffic` disabled this finding keeps its severity.

## Typical causes
- Wrong password or user name; the auth user differs from the user part of the SIP URI
  (many providers use a separate "auth ID").
- The credential's realm does not match the realm in the challenge (`AuthCredInfo` with a
  fixed realm instead of `*`): pjsip then has no credential to answer with
  (`PJSIP_ENOCREDENTIAL`).
- The password is stored hashed (`dataType` 1, HA1) but computed for another realm.
- A 403 after the challenge: the credentials are right but the account is disabled, not
  allowed from this IP address, or the From/To user does not match the authenticated user.

## How to fix
- Check user, auth ID and password against the provider's settings, and use realm `*`:
  `acc_cfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", "alice", 0, "secret"))`.
- Compare the `realm` and `username` in the rejected `Authorization` header with what the
  server expects (both are shown in the finding).
- On a 403, ask the server's operator: its log says why (IP ACL, disabled account,
  From/auth-user mismatch).
- Stop the retry loop: do not re-register in a tight loop after a 401/403
  (`regConfig.retryIntervalSec`), or the server may ban the address.

## Example
From `fixtures/rules/auth-failed` (pjsua2 with a wrong password against a registrar that
never accepts it):
```
TX REGISTER sip:127.0.0.1:5660  CSeq n              (no credentials)
RX 401 Unauthorized            WWW-Authenticate: Digest realm="sipflow.test", nonce="4f8c…"
TX REGISTER sip:127.0.0.1:5660  CSeq n+1            Authorization: Digest username="alice", realm="sipflow.test", …
RX 401 Unauthorized            (challenged again, stale not set)
sip_auth_client.c  Authorization failed for alice@sipflow.test: server rejected with stale=false
pjsua_acc.c        SIP registration error: Credential failed to authenticate (PJSIP_EFAILEDCREDENTIAL)
```
and `fixtures/register-403`: REGISTER → 401 → REGISTER with credentials → 403 Forbidden.

## References
- RFC 3261 §22 (Usage of HTTP authentication), §22.2–22.3, §21.4.2 (401), §21.4.8 (407),
  §21.4.4 (403)
- RFC 7616 §3.3–3.4 (Digest challenge and `stale`)
- pjsua2 `AuthCredInfo`, `AccountSipConfig.authCreds` (https://docs.pjsip.org/en/latest/api/generated/pjsip/group/group__PJSUA2__ACC.html)
"#;

const HELP: &str = "check the user name, auth ID and password of the account and use realm \
                    \"*\" (AuthCredInfo(\"digest\", \"*\", user, 0, password)); after a 403, \
                    ask the server's operator why the account is refused (IP ACL, disabled \
                    account, From/auth-user mismatch)";

/// How many of the owner's next requests are searched for the retry of a refused one.
const LOOKAHEAD: usize = 3;

/// Why credentials were refused, from what the trace shows around the refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A 403, or a new challenge with no later success: the credentials are wrong (or the
    /// account refused).
    Refused,
    /// A new challenge to credentials that only asked for a fresh nonce: `stale=true`, or the
    /// client's next attempts got in. `stale`: the server said so.
    Race { stale: bool },
}

/// One refusal: the rejecting response, the request it answered (wire indexes), its kind.
struct Rejection {
    response: usize,
    request: Option<usize>,
    kind: Kind,
    /// Known only by the server's words: a 403 whose reason phrase says the credentials were
    /// wrong, while the input shows neither the credentials nor an earlier challenge.
    by_phrase: bool,
}

/// What was found about one call or registration (one owner).
#[derive(Default)]
struct Failure {
    rejections: Vec<Rejection>,
    /// Log events (auth failure lines).
    logs: Vec<usize>,
}

/// The request a response answers: the first request of its transaction.
fn request_of(ctx: &Context<'_>, wire: usize) -> Option<usize> {
    let t = ctx.model.messages[wire].tsx?;
    ctx.model.transactions[t]
        .messages
        .iter()
        .copied()
        .find(|&w| {
            ctx.model
                .message(w)
                .parsed()
                .and_then(SipMessage::method)
                .is_some_and(|m| m != "ACK" && m != "CANCEL")
        })
}

fn is_auth_log(kind: &LogKind, errors: &[String]) -> bool {
    matches!(kind, LogKind::AuthFailed)
        || errors.iter().any(|e| {
            e.starts_with("PJSIP_EAUTH")
                || e == "PJSIP_EFAILEDCREDENTIAL"
                || e == "PJSIP_ENOCREDENTIAL"
        })
}

/// The credentials a request carries (see [`SipMessage::credentials`]), as text.
fn credentials(m: &SipMessage) -> Option<String> {
    m.credentials().map(|h| m.value(h).into_owned())
}

/// What a rejection rests on: the new challenge of a 401/407 (WWW-Authenticate or
/// Proxy-Authenticate), the status line of a 403.
fn rejection_span(m: &SipMessage) -> Option<Range<usize>> {
    let challenge: &[HeaderName] = match m.status() {
        Some(401) => &[HeaderName::WwwAuthenticate, HeaderName::ProxyAuthenticate],
        Some(407) => &[HeaderName::ProxyAuthenticate, HeaderName::WwwAuthenticate],
        _ => &[],
    };
    challenge
        .iter()
        .find_map(|&h| m.header_span(h))
        .or_else(|| Some(m.start_span()))
}

/// Words of a reason phrase that refuse credentials (`403 Wrong password`, `403 Bad auth`,
/// `403 Invalid credentials`), lowercase. `passw` also matches a phrase whose end is damaged
/// (`Wrong passw%s or domain`).
const REFUSED_CREDENTIALS: [&str; 5] = [
    "passw",
    "credential",
    "bad auth",
    "authentication fail",
    "auth fail",
];

/// Whether a response's reason phrase says the credentials were refused.
fn refuses_credentials(m: &SipMessage) -> bool {
    m.reason_phrase().is_some_and(|r| {
        let r = r.to_ascii_lowercase();
        REFUSED_CREDENTIALS.iter().any(|w| r.contains(w))
    })
}

/// The nonce of a 401/407's challenge (WWW-Authenticate or Proxy-Authenticate).
fn challenge_nonce(m: &SipMessage) -> Option<String> {
    if !matches!(m.status(), Some(401 | 407)) {
        return None;
    }
    [HeaderName::WwwAuthenticate, HeaderName::ProxyAuthenticate]
        .into_iter()
        .flat_map(|h| m.all(h))
        .find_map(|v| crate::sip::auth_param(&v, "nonce"))
}

/// A rejection found on the wire, before its kind is known.
struct Candidate {
    key: (u8, usize),
    owner: Option<Owner>,
    response: usize,
    request: Option<usize>,
    code: u16,
    method: String,
    stale: bool,
    /// See [`Rejection::by_phrase`].
    by_phrase: bool,
    /// The trace shows the nonce was the trouble: the request answered an older challenge
    /// than the latest, or the server's reason phrase says so.
    nonce_evidence: bool,
}

/// An owner's requests (wire, method), in order.
type Requests = HashMap<(u8, usize), Vec<(usize, String)>>;

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    let mut candidates: Vec<Candidate> = Vec::new();
    // (owner, method) pairs that were challenged so far.
    let mut challenged: HashSet<((u8, usize), String)> = HashSet::new();
    let mut requests: Requests = HashMap::new();
    // owner → the nonce of the latest challenge it got; request → whether its credentials
    // answer that latest nonce (`false`: an older one, reused).
    let mut latest_nonce: HashMap<(u8, usize), String> = HashMap::new();
    let mut fresh: HashMap<usize, bool> = HashMap::new();
    for (w, wire) in model.messages.iter().enumerate() {
        if wire.retransmission {
            continue;
        }
        let Some(m) = model.message(w).parsed() else {
            continue;
        };
        let owner = model.message_owner[w];
        let key = crate::rules::owner_sort_key(owner, w);
        if let Some(method) = m.method() {
            if method != "ACK" && method != "CANCEL" {
                requests
                    .entry(key)
                    .or_default()
                    .push((w, method.to_string()));
            }
            if let (Some(used), Some(latest)) = (
                credentials(m).and_then(|v| crate::sip::auth_param(&v, "nonce")),
                latest_nonce.get(&key),
            ) {
                fresh.insert(w, &used == latest);
            }
            continue;
        }
        if let Some(nonce) = challenge_nonce(m) {
            latest_nonce.insert(key, nonce);
        }
        let Some(code) = m.status().filter(|c| matches!(c, 401 | 403 | 407)) else {
            continue;
        };
        let method = m.cseq().map(|c| c.method.clone()).unwrap_or_default();
        let request = request_of(ctx, w);
        // The server's own words (`401 nonce has changed`, `stale nonce`).
        let says_nonce = m.reason_phrase().is_some_and(|r| {
            let r = r.to_ascii_lowercase();
            r.contains("nonce") || r.contains("stale")
        });
        let reused = request.is_some_and(|r| fresh.get(&r) == Some(&false));
        let with_credentials = request
            .and_then(|r| model.message(r).parsed())
            .and_then(credentials)
            .is_some();
        let after_challenge = challenged.contains(&(key, method.clone()));
        // A 403 that says the password was wrong is the server's verdict on credentials even
        // when the input lost them (a damaged or missing request, a challenge whose CSeq or
        // Call-ID is unreadable).
        let by_phrase =
            code == 403 && !with_credentials && !after_challenge && refuses_credentials(m);
        let rejected = match code {
            401 | 407 => with_credentials,
            _ => with_credentials || after_challenge || by_phrase,
        };
        if code != 403 {
            challenged.insert((key, method.clone()));
        }
        if rejected {
            candidates.push(Candidate {
                key,
                owner,
                response: w,
                request,
                code,
                method,
                stale: m.is_stale_challenge(),
                by_phrase,
                nonce_evidence: says_nonce || reused,
            });
        }
    }
    let mut found: BTreeMap<(u8, usize), (Option<Owner>, Failure)> = BTreeMap::new();
    for c in candidates {
        let list = requests.get(&c.key).map_or(&[][..], Vec::as_slice);
        let kind = match (c.code, c.stale) {
            // The server says the credentials were right and only the nonce is old.
            (401 | 407, true) => Kind::Race { stale: true },
            // Challenged again although the nonce was the trouble (an older one reused, or the
            // server says so), and the client's next attempts got in: a fresh nonce was
            // wanted, not another password. (A brute force answers each newest nonce at once
            // with a new password: that is not a race.)
            (401 | 407, false)
                if c.nonce_evidence
                    && c.request
                        .is_some_and(|r| next_attempt_succeeded(ctx, list, r, &c.method)) =>
            {
                Kind::Race { stale: false }
            }
            _ => Kind::Refused,
        };
        found
            .entry(c.key)
            .or_insert_with(|| (c.owner, Failure::default()))
            .1
            .rejections
            .push(Rejection {
                response: c.response,
                request: c.request,
                kind,
                by_phrase: c.by_phrase,
            });
    }
    for (e, ev) in model.events.iter().enumerate() {
        let Event::Log(l) = ev else { continue };
        if !is_auth_log(&l.kind, &l.errors) {
            continue;
        }
        let owner = model.event_owner[e];
        found
            .entry(crate::rules::owner_sort_key(
                owner,
                model.messages.len() + e,
            ))
            .or_insert_with(|| (owner, Failure::default()))
            .1
            .logs
            .push(e);
    }
    for (key, (owner, failure)) in found {
        let list = requests.get(&key).map_or(&[][..], Vec::as_slice);
        if let Some(f) = finding(ctx, owner, &failure, list) {
            out.push(f);
        }
    }
}

/// Whether one of the owner's next few requests of `method` after `request` got a 2xx.
fn next_attempt_succeeded(
    ctx: &Context<'_>,
    list: &[(usize, String)],
    request: usize,
    method: &str,
) -> bool {
    let at = list.partition_point(|(w, _)| *w <= request);
    list[at..]
        .iter()
        .filter(|(_, m)| m == method)
        .take(LOOKAHEAD)
        .any(|&(w, _)| succeeded(ctx, w))
}

/// Whether request `w`'s transaction got a 2xx.
fn succeeded(ctx: &Context<'_>, w: usize) -> bool {
    ctx.model.messages[w]
        .tsx
        .and_then(|t| ctx.model.transactions[t].final_status)
        .is_some_and(|c| (200..300).contains(&c))
}

/// The owner's first request of `method` after `after` that got a 2xx.
fn later_success(
    ctx: &Context<'_>,
    list: &[(usize, String)],
    after: usize,
    method: &str,
) -> Option<usize> {
    let at = list.partition_point(|(w, _)| *w <= after);
    list[at..]
        .iter()
        .find(|(w, m)| m == method && succeeded(ctx, *w))
        .map(|&(w, _)| w)
}

fn finding(
    ctx: &Context<'_>,
    owner: Option<Owner>,
    failure: &Failure,
    requests: &[(usize, String)],
) -> Option<Finding> {
    let model = ctx.model;
    // A refusal is told first; only races, the first race.
    let refused = failure
        .rejections
        .iter()
        .filter(|r| r.kind == Kind::Refused)
        .count();
    let Some(told) = failure
        .rejections
        .iter()
        .find(|r| r.kind == Kind::Refused)
        .or(failure.rejections.first())
    else {
        // Only pjsip's log says so.
        let &e = failure.logs.first()?;
        let Event::Log(l) = &model.events[e] else {
            return None;
        };
        let mut f = Finding::new(
            &RULE,
            owner,
            format!(
                "pjsip reports an authentication failure in {}: {}",
                ctx.input_name(l.origin.input),
                l.text
            ),
            HELP.to_string(),
        )
        .with(e, "pjsip's authentication error");
        for &more in failure.logs.iter().skip(1).take(3) {
            f = f.with(more, "pjsip's authentication error");
        }
        return Some(f);
    };
    let resp = model.message(told.response).parsed()?;
    let code = resp.status()?;
    let reason = resp.reason_phrase().unwrap_or("");
    let req_msg = told.request.and_then(|r| model.message(r).parsed());
    let method = resp.cseq().map(|c| c.method.as_str()).unwrap_or_default();
    let target = req_msg
        .and_then(SipMessage::request_uri)
        .map(|u| format!(" to {u}"))
        .unwrap_or_default();
    let creds = req_msg.and_then(credentials);
    let who = creds
        .as_deref()
        .map(|v| {
            let user = crate::sip::auth_param(v, "username").unwrap_or_else(|| "?".into());
            let realm = crate::sip::auth_param(v, "realm").unwrap_or_else(|| "?".into());
            format!(" (username \"{user}\", realm \"{realm}\")")
        })
        .unwrap_or_default();
    let races = failure.rejections.len() - refused;
    // Whether the owner got in after the last rejection.
    let last = (failure.rejections.iter())
        .map(|r| r.response)
        .max()
        .unwrap_or(told.response);
    let success = later_success(ctx, requests, last, method);
    let got_in = success
        .map(|w| format!("; a later {method} succeeded at {}", model.message(w).ts))
        .unwrap_or_default();
    let (message, severity, help) = match told.kind {
        Kind::Refused => {
            let what = if creds.is_some() {
                format!("although it carried credentials{who}")
            } else if told.by_phrase {
                let request = match req_msg {
                    Some(_) => "its credentials are not readable in the input",
                    None => "its request is missing or unreadable in the input",
                };
                format!("({request})")
            } else {
                format!("after the server had challenged the {method}")
            };
            let times = if refused > 1 {
                format!("; {refused} requests were refused this way")
            } else {
                String::new()
            };
            let verdict = match code {
                _ if told.by_phrase => {
                    "its reason phrase is the server's verdict: the credentials were refused (a \
                     wrong password, user or realm)"
                }
                403 => "the server refuses this account",
                _ => "the server did not accept the credentials (a wrong password, user or realm)",
            };
            let also = match races {
                0 => String::new(),
                n => format!(
                    "; {n} other challenge(s) to credentials only asked for a fresh nonce \
                     (stale-nonce race)"
                ),
            };
            let subject = match method {
                "" => "a request (its CSeq is unreadable)".to_string(),
                m => format!("{m}{target}"),
            };
            (
                format!(
                    "{subject} was answered {code} {reason} {what}: {verdict}{times}{also}{got_in}"
                ),
                // The registration or call failed, unless the owner got in later.
                if success.is_some() {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                HELP,
            )
        }
        Kind::Race { stale } => {
            let all_stale = failure
                .rejections
                .iter()
                .all(|r| r.kind == Kind::Race { stale: true });
            let why = if stale {
                "with stale=true: the server accepted the credentials but wants them computed \
                 with a fresh nonce"
            } else {
                "without stale=true, yet a later attempt got in: the nonce had expired or was \
                 already used (a retransmission or a second request crossed the challenge)"
            };
            let times = if races > 1 {
                format!(" ({races} times)")
            } else {
                String::new()
            };
            let after = if success.is_some() {
                got_in
            } else {
                format!("; no {method} with the fresh nonce succeeded in the input")
            };
            (
                format!(
                    "{method}{target} was challenged again with {code} {reason} although it \
                     carried credentials{who}{times}, {why}: a stale-nonce race, not a wrong \
                     password{after}"
                ),
                // Only the server's nonce refresh, answered: an explanation. Otherwise a
                // client that answers with old nonces, or does not answer, is worth a look.
                if all_stale && success.is_some() {
                    Severity::Info
                } else {
                    Severity::Warning
                },
                RACE_HELP,
            )
        }
    };
    let mut f = Finding::new(&RULE, owner, message, help.to_string()).with_span(
        ctx.sighting_in(told.response, None),
        ctx.span_in(ctx.sighting_in(told.response, None), rejection_span),
        match (told.kind, creds.is_some()) {
            (Kind::Race { .. }, _) => format!("{code} {reason}: a new challenge"),
            (Kind::Refused, true) => format!("{code} {reason} to a request with credentials"),
            (Kind::Refused, false) if told.by_phrase => {
                format!("{code} {reason}: the server's verdict on the credentials")
            }
            (Kind::Refused, false) => format!("{code} {reason} after a challenge"),
        },
    );
    f.severity = severity;
    if let Some(r) = told.request {
        let label = if creds.is_some() {
            format!("the {method} with credentials{who}")
        } else {
            format!("the {method}")
        };
        let e = ctx.sighting_in(r, None);
        f = f.with_span(
            e,
            ctx.span_in(e, |m| m.credentials().map(|h| h.span.clone())),
            label,
        );
    }
    if let Some(w) = success {
        f = f.with(
            ctx.sighting_in(w, None),
            format!("the {method} that got in"),
        );
    }
    for &e in failure.logs.iter().take(3) {
        f = f.with(e, "pjsip's authentication error");
    }
    if let Some(src) = scanner_source(ctx, failure) {
        f.severity = Severity::Info;
        f.message.push_str(&scanner_traffic::lowered_note(&src));
    }
    Some(f)
}

/// The source of the refused requests when `scanner-traffic` reports it as a scanner: the
/// request's sender, or, when only the refusal is in the input, where the refusal went.
fn scanner_source(ctx: &Context<'_>, failure: &Failure) -> Option<String> {
    failure.rejections.iter().find_map(|r| {
        let src = match r.request {
            Some(q) => ctx.model.messages[q].src.as_deref(),
            None => ctx.model.messages[r.response].dst.as_deref(),
        }?;
        scanner_traffic::scanner_at(ctx, src).then(|| src.to_string())
    })
}

const RACE_HELP: &str = "nothing is wrong with the password; if it happens often, answer \
                         challenges at once, do not reuse a nonce for parallel requests, and \
                         check the server's nonce lifetime against the client's \
                         re-registration interval";

#[cfg(test)]
mod tests {
    use super::*;

    fn register(auth: &str) -> SipMessage {
        let raw = format!(
            "REGISTER sip:r SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
             From: <sip:a@r>;tag=1\r\nTo: <sip:a@r>\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n\
             Max-Forwards: 70\r\n{auth}Content-Length: 0\r\n\r\n"
        );
        SipMessage::parse(raw.as_bytes()).expect("parses")
    }

    #[test]
    fn the_nonce_of_a_challenge() {
        let resp = |status: &str, challenge: &str| {
            let raw = format!(
                "SIP/2.0 {status}\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
                 From: <sip:a@r>;tag=1\r\nTo: <sip:a@r>;tag=2\r\nCall-ID: c\r\n\
                 CSeq: 2 REGISTER\r\n{challenge}Content-Length: 0\r\n\r\n"
            );
            SipMessage::parse(raw.as_bytes()).expect("parses")
        };
        let www = "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", stale=true\r\n";
        assert_eq!(
            challenge_nonce(&resp("401 Unauthorized", www)).as_deref(),
            Some("n1")
        );
        let proxy = "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n2\"\r\n";
        assert_eq!(
            challenge_nonce(&resp("407 Proxy Authentication Required", proxy)).as_deref(),
            Some("n2")
        );
        // Only a challenge has one.
        assert_eq!(challenge_nonce(&resp("200 OK", www)), None);
        assert_eq!(challenge_nonce(&resp("401 Unauthorized", "")), None);
    }

    #[test]
    fn reason_phrases_that_refuse_credentials() {
        let says = |status: &str| {
            let raw = format!(
                "SIP/2.0 {status}\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
                 From: <sip:a@r>;tag=1\r\nTo: <sip:a@r>;tag=2\r\nCall-ID: c\r\n\
                 CSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n"
            );
            refuses_credentials(&SipMessage::parse(raw.as_bytes()).expect("parses"))
        };
        // Cirpack, Asterisk, others; a phrase whose end was damaged.
        for yes in [
            "403 Wrong password",
            "403 Forbidden (Bad auth)",
            "403 Invalid credentials",
            "403 Authentication failed",
            "403 Wrong passw%s or domain",
        ] {
            assert!(says(yes), "{yes}");
        }
        for no in [
            "403 Forbidden",
            "403 Not allowed from this IP",
            "403 Unauthorized user",
        ] {
            assert!(!says(no), "{no}");
        }
    }

    #[test]
    fn digest_params_and_credentials() {
        let v = r#"Digest username="alice", realm="sipflow.test", nonce="4f8c", response="bc6f", qop=auth"#;
        assert_eq!(
            crate::sip::auth_param(v, "username").as_deref(),
            Some("alice")
        );
        assert_eq!(
            crate::sip::auth_param(v, "REALM").as_deref(),
            Some("sipflow.test")
        );
        assert_eq!(crate::sip::auth_param(v, "qop").as_deref(), Some("auth"));
        assert_eq!(crate::sip::auth_param(v, "stale"), None);
        assert!(credentials(&register(&format!("Authorization: {v}\r\n"))).is_some());
        // An IMS client's first REGISTER: an empty Digest response answers nothing.
        let ims = r#"Authorization: Digest nonce="",uri="sip:r",realm="r",username="u",response=""
"#;
        assert!(credentials(&register(&ims.replace('\n', "\r\n"))).is_none());
        assert!(credentials(&register("")).is_none());
    }
}
