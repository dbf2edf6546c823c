//! Selecting calls: the options shared by every command that reads inputs (`--call`, `--user`,
//! `--ip`, `--status`, `--outcome`, `--rule`, `--method`, `--since`, `--until`), their
//! validation, and which calls and flows of a window they keep.
//!
//! Owns: what each option matches and how they combine (AND). Does not own: running the rules
//! (`cli::stream` runs them on the whole window first, so that a call is judged with all it
//! came with, then keeps the selected calls) or dropping the others from a model
//! ([`crate::dialog::Model::retain`]).

use std::net::IpAddr;

use clap::Args;

use super::UsageError;
use crate::dialog::{Call, Flow, Model, Owner};
use crate::event::{MICROS_PER_DAY, Timestamp};
use crate::rules::{self, Finding};
use crate::sip::{HeaderName, SipMessage};

/// The selection options, as clap reads them.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Selecting calls (options combine with AND)")]
pub struct SelectArgs {
    /// A call by its Call-ID or its index in `sipflow calls`, or a non-call flow as `F<n>`
    /// or by its Call-ID (repeatable: any of them).
    #[arg(long = "call", value_name = "ID|INDEX")]
    pub calls: Vec<String>,
    /// Calls where this text (case-insensitive, a part is enough) is the user part, number
    /// or display name of From, To, the Request-URI, Contact or P-Asserted-Identity.
    #[arg(long, value_name = "TEXT")]
    pub user: Option<String>,
    /// Calls with a message from or to this address or network (`10.0.0.7`,
    /// `2001:db8::/32`, `192.168.1.0/24`).
    #[arg(long, value_name = "ADDR[/PREFIX]")]
    pub ip: Option<String>,
    /// Calls whose final status is this code (`486`) or class (`4xx`).
    #[arg(long, value_name = "CODE|CLASS")]
    pub status: Option<String>,
    /// Calls with this outcome: answered, cancelled, rejected, busy, redirected, failed,
    /// incomplete.
    #[arg(long, value_name = "OUTCOME")]
    pub outcome: Option<String>,
    /// Calls with a finding of this rule (name or code; repeatable: any of them).
    #[arg(long = "rule", value_name = "NAME|CODE")]
    pub rules: Vec<String>,
    /// Calls and non-call flows with a request of this method (`INVITE`, `REGISTER`, …).
    #[arg(long, value_name = "METHOD")]
    pub method: Option<String>,
    /// Calls that started at or after this time: a time of day (`14:05`, `14:05:30.250`) or
    /// a date and time (`2026-11-21 14:05:30`, `2026-11-21T14:05`).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Calls that started at or before this time (as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

/// A validated selection; the default selects everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    calls: Vec<String>,
    user: Option<String>,
    ip: Option<(IpAddr, u8)>,
    status: Option<(u16, u16)>,
    outcome: Option<String>,
    /// Rule codes.
    rules: Vec<&'static str>,
    method: Option<String>,
    since: Option<Moment>,
    until: Option<Moment>,
}

/// A `--since`/`--until` time: with a date it compares with dated times in full, else (and
/// with undated times) by the time of day.
#[derive(Debug, Clone, Copy)]
struct Moment {
    micros: i64,
    dated: bool,
}

impl SelectArgs {
    pub fn selection(&self) -> Result<Selection, UsageError> {
        let bad = |option: &'static str, value: &str| UsageError::Select {
            option,
            value: value.to_string(),
        };
        let ip = match &self.ip {
            Some(s) => Some(parse_net(s).ok_or_else(|| bad("--ip", s))?),
            None => None,
        };
        let status = match &self.status {
            Some(s) => Some(parse_status(s).ok_or_else(|| bad("--status", s))?),
            None => None,
        };
        let outcome = match &self.outcome {
            Some(s) => {
                let o = s.trim().to_ascii_lowercase();
                if !OUTCOMES.contains(&o.as_str()) {
                    return Err(bad("--outcome", s));
                }
                Some(o)
            }
            None => None,
        };
        let rules = self
            .rules
            .iter()
            .map(|n| {
                rules::lookup(n.trim())
                    .map(|r| r.code)
                    .ok_or_else(|| UsageError::UnknownRule(n.clone()))
            })
            .collect::<Result<_, _>>()?;
        let moment = |option, s: &Option<String>| match s {
            Some(s) => parse_moment(s).map(Some).ok_or_else(|| bad(option, s)),
            None => Ok(None),
        };
        Ok(Selection {
            calls: self.calls.iter().map(|c| c.trim().to_string()).collect(),
            user: self.user.as_ref().map(|u| u.to_lowercase()),
            ip,
            status,
            outcome,
            rules,
            method: self.method.as_ref().map(|m| m.trim().to_ascii_uppercase()),
            since: moment("--since", &self.since)?,
            until: moment("--until", &self.until)?,
        })
    }
}

const OUTCOMES: [&str; 7] = [
    "answered",
    "cancelled",
    "rejected",
    "busy",
    "redirected",
    "failed",
    "incomplete",
];

impl Selection {
    /// Every call and flow.
    pub const ALL: Selection = Selection {
        calls: Vec::new(),
        user: None,
        ip: None,
        status: None,
        outcome: None,
        rules: Vec::new(),
        method: None,
        since: None,
        until: None,
    };

    /// Whether every call and flow is selected.
    pub fn is_all(&self) -> bool {
        self.calls.is_empty()
            && self.user.is_none()
            && self.ip.is_none()
            && self.status.is_none()
            && self.outcome.is_none()
            && self.rules.is_empty()
            && self.method.is_none()
            && self.since.is_none()
            && self.until.is_none()
    }

    /// The rules `--rule` names (codes): they must run for it to select anything.
    pub fn rules(&self) -> &[&'static str] {
        &self.rules
    }

    /// The one call or flow `--call` names, if it names exactly one (what `flow --format
    /// mermaid` draws, and what its "no such call" error is about).
    pub fn one_call(&self) -> Option<&str> {
        match self.calls.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// Keeps the selected calls and flows of `model`, and the findings about them (the others
    /// are dropped, so that they count for nothing, the exit code included). `found` are the
    /// findings of the window's whole model, which `--rule` looks at.
    pub fn apply(&self, model: &mut Model, found: &mut Vec<Finding>) {
        if self.is_all() {
            return;
        }
        let with_rule = |owner: Owner| {
            found
                .iter()
                .any(|f| f.owner == Some(owner) && self.rules.contains(&f.rule.code))
        };
        let matched: Vec<bool> = (model.calls.iter().enumerate())
            .map(|(ci, c)| {
                self.call_matches(model, c) && (self.rules.is_empty() || with_rule(Owner::Call(ci)))
            })
            .collect();
        // A call comes with its B2BUA legs: one conversation, as `calls` and `flow` show it.
        let groups: std::collections::BTreeSet<usize> = (model.calls.iter().zip(&matched))
            .filter(|(_, m)| **m)
            .map(|(c, _)| c.group)
            .collect();
        let keep_calls: Vec<bool> = model
            .calls
            .iter()
            .map(|c| groups.contains(&c.group))
            .collect();
        let keep_flows: Vec<bool> = (model.flows.iter().enumerate())
            .map(|(fi, f)| {
                self.flow_matches(model, f) && (self.rules.is_empty() || with_rule(Owner::Flow(fi)))
            })
            .collect();
        let (calls, flows) = model.retain(&keep_calls, &keep_flows);
        found.retain_mut(|f| {
            f.owner = match f.owner {
                Some(Owner::Call(c)) => calls.get(c).copied().flatten().map(Owner::Call),
                Some(Owner::Flow(fl)) => flows.get(fl).copied().flatten().map(Owner::Flow),
                None => None,
            };
            f.owner.is_some()
        });
    }

    fn call_matches(&self, model: &Model, c: &Call) -> bool {
        (self.calls.is_empty()
            || self
                .calls
                .iter()
                .any(|id| *id == c.call_id || id.parse() == Ok(c.index)))
            && self.status_matches(c.final_status)
            && self
                .outcome
                .as_ref()
                .is_none_or(|o| c.outcome.as_str() == o)
            && self.since.is_none_or(|s| s.at_or_before(c.start))
            && self.until.is_none_or(|u| u.at_or_after(c.start))
            && self.messages_match(model, &c.messages)
    }

    fn flow_matches(&self, model: &Model, f: &Flow) -> bool {
        let named = |id: &String| {
            *id == f.call_id
                || id
                    .strip_prefix(['F', 'f'])
                    .is_some_and(|n| n.parse() == Ok(f.index))
        };
        (self.calls.is_empty() || self.calls.iter().any(named))
            && self.status_matches(f.final_status)
            // Flows have no call outcome.
            && self.outcome.is_none()
            && self.since.is_none_or(|s| s.at_or_before(f.start))
            && self.until.is_none_or(|u| u.at_or_after(f.start))
            && self.messages_match(model, &f.messages)
    }

    fn status_matches(&self, status: Option<u16>) -> bool {
        self.status
            .is_none_or(|(lo, hi)| status.is_some_and(|s| (lo..=hi).contains(&s)))
    }

    /// `--user`, `--ip` and `--method`: each holds for some message of the conversation.
    fn messages_match(&self, model: &Model, wires: &[usize]) -> bool {
        let parsed = || wires.iter().filter_map(|&w| model.message(w).parsed());
        self.user
            .as_ref()
            .is_none_or(|u| parsed().any(|m| user_matches(m, u)))
            && self.ip.is_none_or(|(net, prefix)| {
                wires.iter().any(|&w| {
                    let wire = &model.messages[w];
                    [&wire.src, &wire.dst]
                        .into_iter()
                        .flatten()
                        .filter_map(|a| address_ip(a))
                        .any(|ip| in_net(ip, net, prefix))
                })
            })
            && self
                .method
                .as_ref()
                .is_none_or(|want| parsed().any(|m| m.method() == Some(want.as_str())))
    }
}

/// Whether `user` (lower case) is in the user part or display name of one of the message's
/// party headers or its Request-URI.
fn user_matches(m: &SipMessage, user: &str) -> bool {
    let mut values: Vec<std::borrow::Cow<'_, str>> = Vec::new();
    values.extend(m.first(HeaderName::From));
    values.extend(m.first(HeaderName::To));
    values.extend(m.all(HeaderName::Contact));
    values.extend(m.first_named("P-Asserted-Identity"));
    values.extend(m.request_uri().map(std::borrow::Cow::Borrowed));
    values.iter().any(|v| {
        // A header may hold several name-addrs (Contact, P-Asserted-Identity).
        v.split(',')
            .flat_map(|one| {
                let (display, user_part) = party_texts(one);
                [display, user_part]
            })
            .any(|t| t.to_lowercase().contains(user))
    })
}

/// The display name and the URI's user part (number) of a name-addr or bare URI.
fn party_texts(value: &str) -> (&str, &str) {
    let value = value.trim();
    let (display, uri) = match value.find('<') {
        Some(open) => {
            let rest = &value[open + 1..];
            let uri = rest.find('>').map_or(rest, |close| &rest[..close]);
            (value[..open].trim().trim_matches('"'), uri)
        }
        None => ("", value.split(';').next().unwrap_or(value)),
    };
    let uri = uri.split_once(':').map_or(uri, |(scheme, rest)| {
        if scheme.eq_ignore_ascii_case("sip")
            || scheme.eq_ignore_ascii_case("sips")
            || scheme.eq_ignore_ascii_case("tel")
        {
            rest
        } else {
            uri
        }
    });
    // The user part stops at `@`; a tel: URI (no `@`) is all number, up to its parameters.
    let user = match uri.split_once('@') {
        Some((user, _)) => user.split(';').next().unwrap_or(user),
        None if value.contains("tel:") => uri.split(';').next().unwrap_or(uri),
        None => "",
    };
    (display, user)
}

/// The IP address of an `ip:port` or `[v6]:port` text (or a bare address).
fn address_ip(a: &str) -> Option<IpAddr> {
    if let Ok(sa) = a.parse::<std::net::SocketAddr>() {
        return Some(sa.ip());
    }
    if let Ok(ip) = a.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Some(ip);
    }
    a.rsplit_once(':')
        .and_then(|(host, _)| host.trim_matches(['[', ']']).parse().ok())
}

fn parse_net(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, prefix) = match s.trim().split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
        None => (s.trim(), None),
    };
    let ip: IpAddr = addr.trim_matches(['[', ']']).parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some((ip, prefix))
}

fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let (ip, net, bits) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(a.to_bits()), u128::from(b.to_bits()), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (a.to_bits(), b.to_bits(), 128),
        // An IPv4-mapped address matches an IPv4 network.
        (IpAddr::V6(a), IpAddr::V4(b)) => match a.to_ipv4_mapped() {
            Some(a) => (u128::from(a.to_bits()), u128::from(b.to_bits()), 32),
            None => return false,
        },
        (IpAddr::V4(_), IpAddr::V6(_)) => return false,
    };
    let shift = bits - u32::from(prefix);
    shift >= bits || (ip >> shift) == (net >> shift)
}

/// `486` → 486..=486, `4xx` → 400..=499.
fn parse_status(s: &str) -> Option<(u16, u16)> {
    let s = s.trim().to_ascii_lowercase();
    if let Some(class) = s.strip_suffix("xx") {
        let c: u16 = class.parse().ok()?;
        return (1..=6).contains(&c).then_some((c * 100, c * 100 + 99));
    }
    let code: u16 = s.parse().ok()?;
    (100..=699).contains(&code).then_some((code, code))
}

/// `HH:MM[:SS[.fff]]`, optionally after `YYYY-MM-DD` and a space or `T`.
fn parse_moment(s: &str) -> Option<Moment> {
    let s = s.trim();
    let (day, time) = match s.split_once([' ', 'T']) {
        Some((date, time)) => (Some(crate::event::parse_date(date)?), time.trim()),
        None => (None, s),
    };
    let mut parts = time.splitn(3, ':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let (sec, frac) = match parts.next() {
        Some(sec) => match sec.split_once('.') {
            Some((s, f)) => (s, f),
            None => (sec, ""),
        },
        None => ("0", ""),
    };
    let sec: i64 = sec.parse().ok()?;
    if h > 23 || m > 59 || sec > 60 || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let micros_frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    let tod = ((h * 60 + m) * 60 + sec) * 1_000_000 + micros_frac;
    Some(Moment {
        micros: day.unwrap_or(0) * MICROS_PER_DAY + tod,
        dated: day.is_some(),
    })
}

impl Moment {
    /// The two times to compare: in full when both are dated, else by the time of day. An
    /// unknown time is never in range.
    fn pair(&self, t: Timestamp) -> Option<(i64, i64)> {
        if !t.is_known() {
            return None;
        }
        Some(if self.dated && t.dated {
            (self.micros, t.micros)
        } else {
            (
                self.micros.rem_euclid(MICROS_PER_DAY),
                t.micros.rem_euclid(MICROS_PER_DAY),
            )
        })
    }

    fn at_or_before(&self, t: Timestamp) -> bool {
        self.pair(t).is_some_and(|(me, t)| me <= t)
    }

    fn at_or_after(&self, t: Timestamp) -> bool {
        self.pair(t).is_some_and(|(me, t)| me >= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_texts_find_display_names_and_numbers() {
        assert_eq!(
            party_texts("\"Alice Smith\" <sip:+4930123@example.com;user=phone>;tag=1"),
            ("Alice Smith", "+4930123")
        );
        assert_eq!(
            party_texts("sip:bob@10.0.0.1:5060;transport=udp"),
            ("", "bob")
        );
        assert_eq!(
            party_texts("<tel:+15551234;phone-context=x>"),
            ("", "+15551234")
        );
        // A URI without a user part names no user: the host is not one.
        assert_eq!(party_texts("<sip:example.com>"), ("", ""));
    }

    #[test]
    fn networks_match_addresses() {
        let (net, p) = parse_net("192.168.1.0/24").unwrap();
        assert!(in_net(address_ip("192.168.1.77:5060").unwrap(), net, p));
        assert!(!in_net(address_ip("192.168.2.1:5060").unwrap(), net, p));
        let (net, p) = parse_net("2001:db8::/32").unwrap();
        assert!(in_net(address_ip("[2001:db8::5]:5060").unwrap(), net, p));
        let (net, p) = parse_net("10.0.0.7").unwrap();
        assert!(in_net(
            address_ip("[::ffff:10.0.0.7]:5060").unwrap(),
            net,
            p
        ));
        let (net, p) = parse_net("0.0.0.0/0").unwrap();
        assert!(in_net(address_ip("8.8.8.8:53").unwrap(), net, p));
        assert!(parse_net("10.0.0.0/33").is_none());
        assert!(parse_net("host.example").is_none());
    }

    #[test]
    fn statuses_and_times_parse() {
        assert_eq!(parse_status("486"), Some((486, 486)));
        assert_eq!(parse_status("4XX"), Some((400, 499)));
        assert_eq!(parse_status("7xx"), None);
        assert_eq!(parse_status("99"), None);
        let m = parse_moment("14:05:30.25").unwrap();
        assert_eq!(m.micros, ((14 * 60 + 5) * 60 + 30) * 1_000_000 + 250_000);
        assert!(!m.dated);
        let d = parse_moment("2026-11-21T14:05").unwrap();
        assert!(d.dated);
        assert_eq!(
            d.micros.rem_euclid(MICROS_PER_DAY),
            (14 * 60 + 5) * 60 * 1_000_000
        );
        assert!(parse_moment("25:00").is_none());
        assert!(parse_moment("yesterday").is_none());
        // A time of day compares with the time of day of a dated time.
        let t = Timestamp::from_parts(d.micros.div_euclid(MICROS_PER_DAY), 14, 6, 0, 0, true);
        assert!(m.at_or_before(t) && d.at_or_before(t));
        assert!(
            !Moment {
                micros: 0,
                dated: false
            }
            .at_or_before(Timestamp::UNKNOWN)
        );
    }
}
