//! SF033 `dns-failure`: the DNS lookup of a SIP destination failed (pjsip's resolver lines, or
//! a capture's DNS queries answered with an error, with no record, or not at all).

use std::collections::BTreeMap;

use crate::dialog::Owner;
use crate::event::{DnsError, Event, LogEvent, LogKind, Timestamp};
use crate::ingest::capture::net::dns::{is_sip_service, service_domain};
use crate::rules::{Context, Finding, Rule, Scope, Severity, secs};
use crate::sip::{HeaderName, NameAddr, Uri};

pub(super) const RULE: Rule = Rule {
    code: "SF033",
    name: "dns-failure",
    severity: Severity::Error,
    scope: Scope::Log,
    judges_time: true,
    summary: "the DNS lookup of a SIP domain failed (NXDOMAIN, SERVFAIL, REFUSED, no record, no answer)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A DNS lookup for a SIP destination that failed, seen either way:

- in a pjsip log, the resolver's own lines: `DNS SRV resolution failed for _sip._udp.example.com:
  DNS "Name Error" (PJLIB_UTIL_EDNS_NXDOMAIN)`, `DNS A record resolution failed: …`,
  `DNS A record resolution error for 'example.com'.: No working DNS nameserver
  (PJLIB_UTIL_EDNSNOWORKINGNS)`, `Discard truncated DNS SRV response for …` (pjsip does not
  retry over TCP), `Error setting nameserver: Invalid DNS nameserver address
  (PJLIB_UTIL_EDNSINNSADDR)`, `Failed to resolve 'example.com'` (the system resolver,
  `PJ_ERESOLVE`);
- in a capture, the queries a SIP UA makes (RFC 3263: NAPTR, SRV `_sip._udp`/`_sips._tcp`…, A
  and AAAA) answered with NXDOMAIN, SERVFAIL, REFUSED or an empty answer, or not answered at
  all within 5 s of the first attempt (and 3 s of the last). A capture that stops sooner after
  a query says nothing about it: the end of the input is not a timeout. An empty AAAA answer is
  not a failure (an IPv4-only host).

A capture's lookup counts when its name is a SIP service name (`_sip._…`, `_sips._…`), a
NAPTR, or the host of a SIP request's URI or Route in the input; a pjsip log's always does. The
lookups of one domain (its SRV, then its A fallback; pjsip's lines and the packets) make one
finding.

## Why it matters
A request whose destination does not resolve never leaves: there is no INVITE or REGISTER on
the wire at all, only the lookups. pjsip ends the call or registration locally (`502` for
NXDOMAIN, `503` for a timeout or a dead nameserver), and its log shows `Failed to send Request
msg INVITE… err=… (PJLIB_UTIL_EDNS_NXDOMAIN)`, which reads like a transport problem. When the
SRV lookup times out before the A fallback, every request is sent seconds late: enough for a
nonce to go stale or a call to ring out.

## Severity
- **error** (the default) when the failure's effect is in the trace: no lookup of the domain
  succeeded and no request to it went out afterwards (a pjsip log shows the request or
  registration failing with the DNS error), or the address lookups (A/AAAA) failed for good.
- **warning** when a request to the domain did go out after the failure, but only after the
  resolver timed out or a server refused or failed (SERVFAIL, REFUSED): the request was late
  by the time shown. Also when only the SRV/NAPTR lookup failed and the trace shows neither a
  request nor an address lookup after it.
- **info** when an SRV or NAPTR lookup found no record (NXDOMAIN, empty answer) and the request
  went out after the A fallback: that is RFC 3263 §4.2 working as designed.

## Typical causes
- A typo in the domain (account, registrar or target URI), or a domain that lapsed.
- The domain publishes no `_sip._udp` SRV record while the client asks for it (harmless, see
  info), or publishes it with a target that has no A record.
- The configured nameserver (`UaConfig.nameserver`) is wrong, unreachable from the device, or
  refuses recursion (REFUSED; pjsip then marks it bad: `PJLIB_UTIL_EDNSNOWORKINGNS`).
- A split-horizon name that only resolves inside a VPN or corporate network.
- Firewalls that drop DNS to other servers than the network's own.

## How to fix
- Check the name: `dig NAPTR example.com`, `dig SRV _sip._udp.example.com`, `dig A
  example.com` from the device's network, with the same server (`@ns`).
- Fix or remove `UaConfig.nameserver`; without it pjsip uses the system resolver.
- Publish the SRV records the clients ask for, or configure the registrar/proxy with an explicit
  port (`sip:pbx.example.com:5060` makes pjsip skip SRV), or an IP address.
- Give the resolver a second server (`nameserver` takes a list).

## Example
From `fixtures/rules-net/dns-nxdomain-call/caller.log` (pjsua2 calling sip:bob@nx.sipflow.test,
the nameserver knows no such name):
```
sip_resolve.c  ....Starting async DNS SRV query: target=_sip._udp.nx.sipflow.test, transport=UDP, port=0
_sip._udp.nx.sipflow.t  DNS SRV resolution failed for _sip._udp.nx.sipflow.test: DNS "Name Error" (PJLIB_UTIL_EDNS_NXDOMAIN)
_sip._udp.nx.sipflow.t  DNS A record resolution failed: DNS "Name Error" (PJLIB_UTIL_EDNS_NXDOMAIN)
tsx0x…  Failed to send Request msg INVITE/cseq=… (tdta0x…)! err=320053 (DNS "Name Error" (PJLIB_UTIL_EDNS_NXDOMAIN))
```
The capture of the same run (`call.pcap`) holds only the two queries and their NXDOMAIN answers.

## References
- RFC 3263 (locating SIP servers: NAPTR, SRV, A/AAAA), RFC 2782 (SRV), RFC 1035 (DNS)
- pjsua2 `UaConfig.nameserver` (https://docs.pjsip.org/en/latest/api/generated/pjsip/group/group__PJSUA2__UA.html)
"#;

const HELP: &str = "check the name and the nameserver (dig SRV _sip._udp.DOMAIN, dig A DOMAIN \
                    with the same server), fix UaConfig.nameserver or the domain in the \
                    account/target URI, or give an explicit port or IP address to skip SRV";

/// pjsip lines naming the failed request this soon after the domain's last lookup failure are
/// its effect (ms).
const EFFECT_MS: i64 = 1_000;

/// A nameless pjsip resolver line joins the named lookup of the same input this close (ms): a
/// resolver's whole try (SRV, then A, each retried) fits in it.
const SAME_LOOKUP_MS: i64 = 32_000;

/// The PJ error names of DNS failures.
fn is_dns_error(name: &str) -> bool {
    name.starts_with("PJLIB_UTIL_EDNS") || name == "PJ_ERESOLVE"
}

/// The lookups of one domain in the model.
#[derive(Default)]
struct Domain {
    /// Failure events, in order.
    failures: Vec<usize>,
    /// Whether an address lookup (A, AAAA or pjsip's final A/AAAA line) failed.
    address_failed: bool,
    /// Whether every failure was a definite "no such record" (NXDOMAIN or an empty answer).
    only_missing: bool,
    /// Whether one came from a pjsip log (a SIP UA's own resolver).
    from_log: bool,
    /// A later successful answer for it.
    answered: Option<usize>,
}

fn dns_failure(l: &LogEvent) -> Option<(Option<&str>, Option<&str>, &DnsError)> {
    match &l.kind {
        LogKind::DnsFailure { name, qtype, error } => {
            Some((name.as_deref(), qtype.as_deref(), error))
        }
        _ => None,
    }
}

/// The domain a looked-up name stands for: `_sip._udp.example.com` → `example.com`.
fn domain_of(name: &str) -> String {
    service_domain(name)
        .unwrap_or(name)
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// A request sent to a host: its first sighting and owner.
struct Request {
    event: usize,
    ts: Timestamp,
    method: String,
    owner: Option<Owner>,
}

/// The hosts a request is sent to by name: its URI's and its first Route's.
fn request_hosts(m: &crate::sip::SipMessage) -> Vec<String> {
    let mut hosts = Vec::new();
    if let Some(u) = m.request_uri().and_then(Uri::parse) {
        hosts.push(u.host.to_ascii_lowercase());
    }
    if let Some(h) = m.headers_named(HeaderName::Route).next()
        && let Some(na) = NameAddr::parse(&m.value(h))
        && let Some(u) = Uri::parse(&na.uri_text)
    {
        hosts.push(u.host.to_ascii_lowercase());
    }
    hosts
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    let mut domains: BTreeMap<String, Domain> = BTreeMap::new();
    // input → (domain, time) of its latest named failure, for pjsip's nameless lines.
    let mut latest: BTreeMap<usize, (String, Timestamp)> = BTreeMap::new();
    let mut answers: Vec<(usize, String)> = Vec::new();
    for (i, ev) in model.events.iter().enumerate() {
        let Event::Log(l) = ev else {
            continue;
        };
        if let LogKind::DnsAnswer { name, .. } = &l.kind {
            // Any SIP answer for the domain (an SRV of another transport, the A fallback)
            // shows its lookup going on to succeed.
            answers.push((i, domain_of(name)));
            continue;
        }
        let Some((name, qtype, error)) = dns_failure(l) else {
            continue;
        };
        let input = l.origin.input;
        let from_log = !l.from_packets();
        let domain = match name {
            Some(n) => domain_of(n),
            None => match latest.get(&input) {
                Some((d, t)) if t.ms_until(l.ts) <= SAME_LOOKUP_MS => d.clone(),
                _ => format!("(input {input})"),
            },
        };
        latest.insert(input, (domain.clone(), l.ts));
        let d = domains.entry(domain).or_insert(Domain {
            only_missing: true,
            ..Domain::default()
        });
        d.failures.push(i);
        d.from_log |= from_log;
        d.address_failed |= qtype.is_none_or(|q| q.starts_with('A'));
        d.only_missing &= matches!(error, DnsError::NxDomain | DnsError::NoRecords);
    }
    if domains.is_empty() {
        return;
    }
    // The requests sent to each host name (only read about the names that failed).
    let mut requests: BTreeMap<String, Vec<Request>> = BTreeMap::new();
    for (i, ev) in model.events.iter().enumerate() {
        let Event::Message(m) = ev else {
            continue;
        };
        if let Some(p) = m
            .parsed()
            .filter(|p| p.is_request() && p.method() != Some("ACK"))
        {
            for host in request_hosts(p) {
                requests.entry(host).or_default().push(Request {
                    event: i,
                    ts: m.ts,
                    method: p.method().unwrap_or("?").to_string(),
                    owner: model.event_owner[i],
                });
            }
        }
    }
    for (name, d) in &mut domains {
        let first = d.failures[0];
        d.answered = answers
            .iter()
            .find(|(i, a)| *i > first && a == name)
            .map(|(i, _)| *i);
    }
    let mut orphans: Vec<(&str, Finding)> = Vec::new();
    for (name, d) in &domains {
        report(ctx, name, d, &requests, out, &mut orphans);
    }
    // Lookups of several names that failed the same way with nothing after them (a resolver
    // that answers nothing) are one problem: one finding.
    match orphans.len() {
        0 => {}
        1 => out.extend(orphans.into_iter().map(|(_, f)| f)),
        n => {
            let shown = orphans
                .iter()
                .take(5)
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", ");
            let more = if n > 5 {
                format!(" and {} more", n - 5)
            } else {
                String::new()
            };
            let mut f = Finding::new(
                &RULE,
                None,
                format!(
                    "DNS lookups of {n} SIP names got no answer or an error ({shown}{more}); \
                     the trace shows neither an A/AAAA fallback nor a request to them"
                ),
                HELP.to_string(),
            );
            f.severity = Severity::Warning;
            f.evidence = orphans
                .iter()
                .filter_map(|(_, o)| o.evidence.first().cloned())
                .take(8)
                .collect();
            out.push(f);
        }
    }
}

fn report<'a>(
    ctx: &Context<'_>,
    domain: &'a str,
    d: &Domain,
    requests: &BTreeMap<String, Vec<Request>>,
    out: &mut Vec<Finding>,
    orphans: &mut Vec<(&'a str, Finding)>,
) {
    let model = ctx.model;
    // A key made for nameless lines is no name to show.
    let domain_key = domain;
    let nameless = domain.starts_with('(');
    let domain = if nameless { "the destination" } else { domain };
    let subject = if nameless {
        "DNS resolution".to_string()
    } else {
        format!("DNS lookup of {domain}")
    };
    let log = |e: usize| match &model.events[e] {
        Event::Log(l) => Some(l),
        Event::Message(_) => None,
    };
    let Some(&first) = d.failures.first() else {
        return;
    };
    let Some(first_l) = log(first) else {
        return;
    };
    let sip_name = d.failures.iter().filter_map(|&e| log(e)).any(|l| {
        matches!(&l.kind, LogKind::DnsFailure { name: Some(n), qtype, .. }
            if is_sip_service(n) || qtype.as_deref() == Some("NAPTR"))
    });
    let sent: Vec<&Request> = requests
        .get(domain_key)
        .map(|r| r.iter().filter(|r| r.event > first).collect())
        .unwrap_or_default();
    if !(d.from_log || sip_name || requests.contains_key(domain_key)) {
        // A lookup that has nothing to do with SIP in this trace.
        return;
    }
    // pjsip's lines that show the effect: the request or registration failing with the DNS
    // error, just after the lookups.
    // Per input, the time of its last failure: a log and a capture of the same run may not
    // share a clock.
    let mut last_of: BTreeMap<usize, Timestamp> = BTreeMap::new();
    for l in d.failures.iter().filter_map(|&e| log(e)) {
        last_of.insert(l.origin.input, l.ts);
    }
    let effects: Vec<usize> = model
        .events
        .iter()
        .enumerate()
        .skip(first)
        .filter_map(|(i, ev)| match ev {
            Event::Log(l)
                if matches!(
                    l.kind,
                    LogKind::SendFailure | LogKind::Registration { ok: false, .. }
                ) && last_of.get(&l.origin.input).is_some_and(|t| {
                    let after = t.ms_until(l.ts);
                    // Named as a DNS error, or any error in the same instant (a timeout).
                    (0..=EFFECT_MS).contains(&after)
                        && (l.errors.iter().any(|e| is_dns_error(e))
                            || (after <= 5 && !l.errors.is_empty()))
                }) =>
            {
                Some(i)
            }
            _ => None,
        })
        .collect();
    let lookups: Vec<String> = {
        let mut seen: Vec<String> = Vec::new();
        for l in d.failures.iter().filter_map(|&e| log(e)) {
            if let LogKind::DnsFailure { name, qtype, error } = &l.kind {
                let what = match (qtype, name) {
                    (None, None) => error.describe(),
                    _ => format!(
                        "{} {}: {}",
                        qtype.as_deref().unwrap_or("lookup"),
                        name.as_deref().unwrap_or(domain),
                        error.describe()
                    ),
                };
                if !seen.contains(&what) {
                    seen.push(what);
                }
            }
        }
        seen.truncate(4);
        seen
    };
    // Failures of one lookup seen from several inputs count once: the most any input saw.
    let mut per_input: BTreeMap<usize, usize> = BTreeMap::new();
    for l in d.failures.iter().filter_map(|&e| log(e)) {
        *per_input.entry(l.origin.input).or_default() += 1;
    }
    let count = per_input.values().copied().max().unwrap_or(0);
    let times = if count > 2 {
        format!(" ({count} failures)")
    } else {
        String::new()
    };
    let lookups = lookups.join("; ");
    // When the first lookup was made: a query not answered is dated when it counted as such.
    let asked = match &first_l.kind {
        LogKind::DnsFailure {
            error: DnsError::NoAnswer { waited_ms, .. },
            ..
        } => Timestamp {
            micros: first_l.ts.micros - waited_ms * 1000,
            ..first_l.ts
        },
        _ => first_l.ts,
    };
    let mut orphan = false;
    let (severity, message, owner) = if let Some(r) = sent.first() {
        let late_ms = asked.ms_until(r.ts);
        if d.only_missing {
            (
                Severity::Info,
                format!(
                    "DNS found no record for {lookups}{times}; the {} to {domain} went out after \
                     the fallback (RFC 3263 §4.2), {} after the first lookup",
                    r.method,
                    secs(late_ms)
                ),
                r.owner,
            )
        } else {
            (
                Severity::Warning,
                format!(
                    "{subject} failed ({lookups}){times}: the {} went out only {} \
                     after the first lookup, once the resolver gave up or fell back",
                    r.method,
                    secs(late_ms)
                ),
                r.owner,
            )
        }
    } else if d.answered.is_some() {
        // Resolved in the end, and nothing in the trace was sent to the domain by name.
        return;
    } else if !effects.is_empty() || d.address_failed {
        let lines: Vec<&LogEvent> = effects.iter().filter_map(|&e| log(e)).collect();
        let method = lines
            .iter()
            .find_map(|l| {
                let rest = &l.text[l.text.find("Request msg ")? + 12..];
                rest.split('/').next().map(str::to_string)
            })
            .unwrap_or_else(|| "request".to_string());
        let registration = lines
            .iter()
            .any(|l| matches!(l.kind, LogKind::Registration { .. }));
        let what = match (lines.is_empty(), registration) {
            (true, _) if nameless => "no request could be sent".to_string(),
            (true, _) => format!("nothing was sent to {domain}"),
            (false, true) => format!("the {method} was never sent and the registration failed"),
            (false, false) => format!("the {method} was never sent"),
        };
        (
            Severity::Error,
            format!("{subject} failed ({lookups}){times}: {what}"),
            effects.iter().find_map(|&e| model.event_owner[e]),
        )
    } else {
        // Only the SRV/NAPTR lookup failed and nothing shows what came of it: a resolver
        // that does not answer or fails is a risk; a name without SRV records is normal.
        let severity = if d.only_missing {
            Severity::Info
        } else {
            orphan = true;
            Severity::Warning
        };
        (
            severity,
            format!(
                "{subject} failed ({lookups}){times}; the trace shows neither the \
                 A/AAAA fallback nor a request to {domain} after it"
            ),
            None,
        )
    };
    let mut f = Finding::new(&RULE, owner, message, HELP.to_string());
    f.severity = severity;
    let mut f = f.with(first, "the lookup that failed");
    for &e in d.failures.iter().skip(1).take(3) {
        f = f.with(e, "the same lookup");
    }
    for &e in effects.iter().take(2) {
        f = f.with(e, "the DNS error ends the request");
    }
    if let Some(a) = d.answered {
        f = f.with(a, "the fallback answer");
    }
    if let Some(r) = sent.first() {
        f = f.with(r.event, format!("the {} sent after it", r.method));
    }
    if orphan {
        orphans.push((domain, f));
    } else {
        out.push(f);
    }
}
