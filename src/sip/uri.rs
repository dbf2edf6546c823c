//! URIs and name-addr values (RFC 3261 §19.1, §20.10, §25.1; `tel:` per RFC 3966).
//!
//! Owns: [`Uri::parse`] for `sip:`, `sips:` and `tel:` URIs (user, host with IPv6 brackets kept,
//! port, `;params`; `?headers` are ignored), [`NameAddr::parse`] (quoted or token display name,
//! `<uri>` or bare addr-spec, header parameters such as `tag`), and the parameter-list helpers
//! shared with the other views. Does not own: which header a value came from (see `views`) or
//! header-line grammar (see `grammar`).

use super::header::split_outside;
use super::{NameAddr, Uri};

pub(crate) type Params = Vec<(String, Option<String>)>;

/// Parses `;name[=value]` pieces. Leading/trailing `;` and blanks are tolerated; pieces with an
/// empty name are dropped. Values are kept as written (quotes included), trimmed of blanks.
pub(crate) fn parse_params(s: &str) -> Params {
    split_outside(s, b';')
        .filter_map(|r| {
            let piece = s.get(r)?;
            let (name, value) = match piece.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
                None => (piece.trim(), None),
            };
            (!name.is_empty()).then(|| (name.to_string(), value))
        })
        .collect()
}

/// Looks a parameter up by name (case-insensitive). A parameter without a value gives `Some("")`.
pub(crate) fn find_param<'p>(
    params: &'p [(String, Option<String>)],
    name: &str,
) -> Option<&'p str> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_deref().unwrap_or(""))
}

/// Removes surrounding double quotes and `\` escapes; text without quotes is returned trimmed.
pub(crate) fn unquote(s: &str) -> String {
    let s = s.trim();
    let Some(inner) = s.strip_prefix('"') else {
        return s.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '"' => break,
            _ => out.push(c),
        }
    }
    out
}

/// Parses `host[:port]`, the host being a name, an IPv4 address or a bracketed IPv6 reference
/// (brackets kept). `None` if the host is empty or the port is not a valid `u16`.
pub(crate) fn host_port(s: &str) -> Option<(String, Option<u16>)> {
    host_port_str(s).map(|(host, port)| (host.to_string(), port))
}

/// A host and its port, if one is given, borrowed.
pub(crate) type HostPort<'a> = (&'a str, Option<u16>);

/// [`host_port`], borrowed from `s`.
pub(crate) fn host_port_str(s: &str) -> Option<HostPort<'_>> {
    let s = s.trim();
    let (host, rest) = if s.starts_with('[') {
        let close = s.find(']')?;
        (s.get(..=close)?, s.get(close + 1..)?)
    } else {
        match s.find(':') {
            Some(i) => (s.get(..i)?, s.get(i..)?),
            None => (s, ""),
        }
    };
    if host.is_empty() || host.bytes().any(|c| c.is_ascii_whitespace() || c == b'@') {
        return None;
    }
    let port = if rest.is_empty() {
        None
    } else {
        Some(parse_u16(rest.strip_prefix(':')?)?)
    };
    Some((host, port))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

pub(crate) fn parse_u16(s: &str) -> Option<u16> {
    let s = s.trim();
    if all_digits(s) { s.parse().ok() } else { None }
}

pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    let s = s.trim();
    if all_digits(s) { s.parse().ok() } else { None }
}

/// Parses a decimal number, saturating at `u32::MAX` (for delta-seconds, RFC 3261 §20.19).
pub(crate) fn parse_u32_saturating(s: &str) -> Option<u32> {
    let s = s.trim();
    if !all_digits(s) {
        return None;
    }
    Some(s.bytes().fold(0u32, |acc, d| {
        acc.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    }))
}

impl Uri {
    /// Parses a `sip:`, `sips:` or `tel:` URI. For `tel:` the number goes in `user` and `host`
    /// is empty. Other schemes give `None`. The scheme is lowercased; the rest is kept as written.
    pub(crate) fn parse_impl(s: &str) -> Option<Uri> {
        let s = s.trim();
        let (scheme, rest) = s.split_once(':')?;
        let scheme = scheme.to_ascii_lowercase();
        match scheme.as_str() {
            "sip" | "sips" => {
                let rest = rest.split('?').next().unwrap_or("");
                let (user, hostpart) = match rest.find('@') {
                    Some(i) => {
                        let userinfo = rest.get(..i)?;
                        let user = userinfo.split(':').next().unwrap_or("");
                        let user = (!user.is_empty()).then(|| user.to_string());
                        (user, rest.get(i + 1..)?)
                    }
                    None => (None, rest),
                };
                let (hostport, params) = match hostpart.find(';') {
                    Some(i) => (hostpart.get(..i)?, hostpart.get(i..)?),
                    None => (hostpart, ""),
                };
                let (host, port) = host_port(hostport)?;
                Some(Uri {
                    scheme,
                    user,
                    host,
                    port,
                    params: parse_params(params),
                })
            }
            "tel" => {
                let (number, params) = match rest.find(';') {
                    Some(i) => (rest.get(..i)?, rest.get(i..)?),
                    None => (rest, ""),
                };
                let number = number.trim();
                if number.is_empty() {
                    return None;
                }
                Some(Uri {
                    scheme,
                    user: Some(number.to_string()),
                    host: String::new(),
                    port: None,
                    params: parse_params(params),
                })
            }
            _ => None,
        }
    }

    /// A URI parameter by name (case-insensitive); a parameter without value gives `Some("")`.
    pub fn param(&self, name: &str) -> Option<&str> {
        find_param(&self.params, name)
    }
}

/// Index of the first `needle` outside double quotes.
fn find_outside_quotes(s: &str, needle: u8) -> Option<usize> {
    super::header::unquoted_bytes(s)
        .find(|&(_, c)| c == needle)
        .map(|(i, _)| i)
}

/// Where the parts of a name-addr or addr-spec value are, found without parsing them.
struct Parts<'a> {
    /// A quoted display name, quotes included.
    quoted: Option<&'a str>,
    /// An unquoted display name (before `<`), trimmed, non-empty.
    bare: Option<&'a str>,
    uri_text: &'a str,
    /// The header parameters (`;tag=…`), unparsed.
    params: &'a str,
}

fn parts(s: &str) -> Option<Parts<'_>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // Quoted display name: the closing quote is the first unescaped `"`.
    let (quoted, after_display) = if s.starts_with('"') {
        let close = super::grammar::quoted_end(s)? - 1;
        let rest = s.get(close + 1..)?.trim_start();
        if !rest.starts_with('<') {
            return None;
        }
        (Some(s.get(..=close)?), rest)
    } else {
        (None, s)
    };
    match find_outside_quotes(after_display, b'<') {
        Some(lt) => {
            let bare = match quoted {
                Some(_) => None,
                None => Some(after_display.get(..lt)?.trim()).filter(|d| !d.is_empty()),
            };
            let inner = after_display.get(lt + 1..)?;
            let gt = inner.find('>')?;
            Some(Parts {
                quoted,
                bare,
                uri_text: inner.get(..gt)?.trim(),
                params: inner.get(gt + 1..)?,
            })
        }
        None => {
            // addr-spec: any `;` after the URI starts header parameters (RFC 3261 §20.10).
            let (uri_text, params) = match s.find(';') {
                Some(i) => (s.get(..i)?, s.get(i..)?),
                None => (s, ""),
            };
            let uri_text = uri_text.trim();
            if uri_text.is_empty() {
                return None;
            }
            Some(Parts {
                quoted: None,
                bare: None,
                uri_text,
                params,
            })
        }
    }
}

impl NameAddr {
    pub(crate) fn parse_impl(s: &str) -> Option<NameAddr> {
        let p = parts(s)?;
        Some(NameAddr {
            display: p.quoted.map(unquote).or(p.bare.map(str::to_string)),
            uri_text: p.uri_text.to_string(),
            uri: Uri::parse_impl(p.uri_text),
            params: parse_params(p.params),
        })
    }
}

/// A header parameter of a name-addr value (`tag` of From/To), exactly as
/// `NameAddr::parse(s)?.param(name)` gives it, without parsing the URI or the display name:
/// the hot path of correlation.
pub(crate) fn name_addr_param<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    param_in(parts(s)?.params, name)
}

/// `find_param(&parse_params(s), name)`, without building the list: a slice of `s`.
pub(crate) fn param_in<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    split_outside(s, b';').find_map(|r| {
        let piece = s.get(r)?;
        let (n, value) = match piece.split_once('=') {
            Some((n, v)) => (n.trim(), v.trim()),
            None => (piece.trim(), ""),
        };
        (!n.is_empty() && n.eq_ignore_ascii_case(name)).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: &str, v: Option<&str>) -> (String, Option<String>) {
        (n.to_string(), v.map(str::to_string))
    }

    #[test]
    fn sip_uri() {
        let u = Uri::parse_impl("sip:caller@127.0.0.1:5080;ob").unwrap();
        assert_eq!(
            u,
            Uri {
                scheme: "sip".into(),
                user: Some("caller".into()),
                host: "127.0.0.1".into(),
                port: Some(5080),
                params: vec![p("ob", None)],
            }
        );
        let u = Uri::parse_impl("SIPS:alice:secret@[2001:db8::1]:5061;transport=tls;lr?Subject=x")
            .unwrap();
        assert_eq!(u.scheme, "sips");
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.host, "[2001:db8::1]");
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.params, vec![p("transport", Some("tls")), p("lr", None)]);
        assert_eq!(u.param("LR"), Some(""));
        let u = Uri::parse_impl("sip:[::1]").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.user), ("[::1]", None, None));
        let u = Uri::parse_impl("tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!(u.scheme, "tel");
        assert_eq!(u.user.as_deref(), Some("+1-201-555-0123"));
        assert_eq!(u.host, "");
        assert_eq!(u.params, vec![p("phone-context", Some("example.com"))]);
    }

    #[test]
    fn bad_uris() {
        for s in [
            "",
            "sip:",
            "sip:host:99999",
            "sip:host:abc",
            "sip:[::1",
            "http://x",
            "nocolon",
            "tel:",
        ] {
            assert_eq!(Uri::parse_impl(s), None, "{s}");
        }
    }

    #[test]
    fn name_addrs() {
        let a = NameAddr::parse_impl("sip:caller@127.0.0.1;tag=gQB9eJof2JjtH3Uw0y3JyWw4buq1.SRt")
            .unwrap();
        assert_eq!(a.display, None);
        assert_eq!(a.uri_text, "sip:caller@127.0.0.1");
        assert_eq!(a.uri.as_ref().unwrap().params, vec![]);
        assert_eq!(a.tag(), Some("gQB9eJof2JjtH3Uw0y3JyWw4buq1.SRt"));

        let a =
            NameAddr::parse_impl(r#""Doe, \"John\"" <sip:j@x.org;transport=tcp>;tag=abc ;q=0.5"#)
                .unwrap();
        assert_eq!(a.display.as_deref(), Some(r#"Doe, "John""#));
        assert_eq!(a.uri_text, "sip:j@x.org;transport=tcp");
        assert_eq!(a.uri.as_ref().unwrap().param("transport"), Some("tcp"));
        assert_eq!(a.params, vec![p("tag", Some("abc")), p("q", Some("0.5"))]);

        let a = NameAddr::parse_impl("Bob Smith <sip:bob@[2001:db8::2]:5070>").unwrap();
        assert_eq!(a.display.as_deref(), Some("Bob Smith"));
        assert_eq!(a.uri.as_ref().unwrap().host, "[2001:db8::2]");
        assert_eq!(a.uri.as_ref().unwrap().port, Some(5070));
        assert_eq!(a.tag(), None);

        let a = NameAddr::parse_impl(r#"<sip:a@b>;+sip.instance="<urn:uuid:1234>";expires=60"#)
            .unwrap();
        assert_eq!(a.param("+sip.instance"), Some(r#""<urn:uuid:1234>""#));
        assert_eq!(a.param("expires"), Some("60"));

        let a = NameAddr::parse_impl("<urn:service:sos>").unwrap();
        assert_eq!(a.uri_text, "urn:service:sos");
        assert_eq!(a.uri, None);

        for s in [
            "",
            "\"unterminated <sip:a@b>",
            "<sip:a@b",
            "\"x\" sip:a@b",
            ";tag=1",
        ] {
            assert_eq!(NameAddr::parse_impl(s), None, "{s}");
        }
    }

    #[test]
    fn params_and_quotes() {
        assert_eq!(
            parse_params(r#" ;cause=200 ;text="a;b" ;x"#),
            vec![
                p("cause", Some("200")),
                p("text", Some(r#""a;b""#)),
                p("x", None)
            ]
        );
        assert_eq!(unquote(r#""a \"b\" c""#), r#"a "b" c"#);
        assert_eq!(unquote(" plain "), "plain");
        assert_eq!(parse_u32_saturating("99999999999"), Some(u32::MAX));
        assert_eq!(parse_u32("99999999999"), None);
        assert_eq!(parse_u16("+1"), None);
    }
}
