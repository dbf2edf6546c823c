//! SDP bodies (RFC 4566), as much as call-flow analysis needs.
//!
//! Owns: [`Sdp::parse`]: the session-level `c=` address, `m=` lines (media, port, proto,
//! formats), media-level `c=`, `a=rtpmap`, and the direction attributes (`sendrecv`,
//! `sendonly`, `recvonly`, `inactive`) at session and media level, a media-level attribute
//! overriding the session-level one. Lines that do not parse are skipped. Does not own: offer/
//! answer negotiation, or deciding whether a body is SDP (see `SipMessage::sdp`). Also owns
//! [`lines`], the one way SDP lines are cut (shared by the parser and the line spans of
//! `SipMessage::sdp_line_spans`, so that both see the same lines).

use std::borrow::Cow;
use std::ops::Range;

use super::{Media, MediaDirection, RtpMap, Sdp};

/// The lines of an SDP body: each line's byte range in `body` (without the line end, trailing
/// CRs and leading blanks) and its text (invalid UTF-8 replaced). Blank lines are skipped.
pub(crate) fn lines(body: &[u8]) -> impl Iterator<Item = (Range<usize>, Cow<'_, str>)> {
    let mut start = 0;
    body.split(|&c| c == b'\n').filter_map(move |piece| {
        let at = start;
        start += piece.len() + 1;
        let end = piece.iter().rposition(|&c| c != b'\r').map_or(0, |p| p + 1);
        let text = String::from_utf8_lossy(piece.get(..end)?);
        // Leading blanks are valid UTF-8, so their length in the text is their length in bytes.
        let lead = text.len() - text.trim_start().len();
        if lead >= end {
            return None;
        }
        let text = match text {
            Cow::Borrowed(t) => Cow::Borrowed(t.get(lead..)?),
            Cow::Owned(t) => Cow::Owned(t.get(lead..)?.to_string()),
        };
        Some((at + lead..at + end, text))
    })
}

/// Whether an SDP line is of type `kind` (`c` for `c=…`).
pub(crate) fn is_kind(line: &str, kind: char) -> bool {
    line.split_once('=')
        .is_some_and(|(k, _)| k.len() == kind.len_utf8() && k.starts_with(kind))
}

/// Whether an `m=` line's value parses, i.e. [`Sdp::parse`] keeps it as a [`Media`].
pub(crate) fn is_media(value: &str) -> bool {
    media(value).is_some()
}

fn direction(attr: &str) -> Option<MediaDirection> {
    match attr.trim() {
        "sendrecv" => Some(MediaDirection::SendRecv),
        "sendonly" => Some(MediaDirection::SendOnly),
        "recvonly" => Some(MediaDirection::RecvOnly),
        "inactive" => Some(MediaDirection::Inactive),
        _ => None,
    }
}

/// `c=<nettype> <addrtype> <address>[/ttl[/n]]` → the address.
fn connection(v: &str) -> Option<String> {
    let mut it = v.split_ascii_whitespace();
    let (_net, _ty, addr) = (it.next()?, it.next()?, it.next()?);
    let addr = addr.split('/').next().unwrap_or(addr);
    (!addr.is_empty()).then(|| addr.to_string())
}

/// `m=<media> <port>[/<count>] <proto> <fmt> …`.
fn media(v: &str) -> Option<Media> {
    let mut it = v.split_ascii_whitespace();
    let kind = it.next()?;
    let port = it.next()?;
    let port = port.split('/').next().unwrap_or(port);
    let port = super::uri::parse_u16(port)?;
    let proto = it.next()?;
    Some(Media {
        kind: kind.to_string(),
        port,
        proto: proto.to_string(),
        formats: it.map(str::to_string).collect(),
        connection: None,
        rtpmaps: Vec::new(),
        direction: MediaDirection::SendRecv,
    })
}

/// `rtpmap:<payload> <encoding>/<clock>[/<channels>]` (the part after `a=rtpmap:`).
fn rtpmap(v: &str) -> Option<RtpMap> {
    let (pt, enc) = v.trim().split_once(char::is_whitespace)?;
    let mut parts = enc.trim().split('/');
    let encoding = parts.next()?.trim();
    let clock = super::uri::parse_u32(parts.next()?)?;
    let channels = match parts.next() {
        Some(c) => Some(c.trim().parse::<u8>().ok()?),
        None => None,
    };
    if encoding.is_empty() {
        return None;
    }
    Some(RtpMap {
        payload: pt.trim().parse().ok()?,
        encoding: encoding.to_string(),
        clock,
        channels,
    })
}

impl Sdp {
    /// `None` unless the body has a `v=` line.
    pub(crate) fn parse_impl(body: &[u8]) -> Option<Sdp> {
        let mut sdp = Sdp::default();
        let mut seen_v = false;
        let mut session_dir: Option<MediaDirection> = None;
        // Per media: its explicit direction, if any.
        let mut media_dirs: Vec<Option<MediaDirection>> = Vec::new();
        // Whether lines currently belong to a media section (a bad m= line opens one that is
        // ignored, so its attributes do not leak into the previous media).
        let mut in_media = false;
        let mut current_ok = false;
        for (_, line) in lines(body) {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            match key {
                "v" => seen_v = true,
                "m" => {
                    in_media = true;
                    match media(value) {
                        Some(m) => {
                            sdp.media.push(m);
                            media_dirs.push(None);
                            current_ok = true;
                        }
                        None => current_ok = false,
                    }
                }
                "c" if !in_media => sdp.connection = connection(value),
                "c" if current_ok => {
                    if let Some(m) = sdp.media.last_mut() {
                        m.connection = connection(value);
                    }
                }
                "a" => {
                    if let Some(dir) = direction(value) {
                        if !in_media {
                            session_dir = Some(dir);
                        } else if current_ok && let Some(d) = media_dirs.last_mut() {
                            *d = Some(dir);
                        }
                    } else if let Some(map) = value.strip_prefix("rtpmap:")
                        && in_media
                        && current_ok
                        && let (Some(m), Some(map)) = (sdp.media.last_mut(), rtpmap(map))
                    {
                        m.rtpmaps.push(map);
                    }
                }
                _ => {}
            }
        }
        if !seen_v {
            return None;
        }
        sdp.direction = session_dir.unwrap_or_default();
        for (m, d) in sdp.media.iter_mut().zip(media_dirs) {
            m.direction = d.unwrap_or(sdp.direction);
        }
        Some(sdp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_level_direction_overrides_session() {
        let body = b"v=0\r\n\
o=- 1 1 IN IP4 192.0.2.2\r\n\
s=-\r\n\
c=IN IP4 192.0.2.2\r\n\
t=0 0\r\n\
a=sendonly\r\n\
garbage line\r\n\
m=audio 4000 RTP/AVP 0 8 101\r\n\
c=IN IP4 192.0.2.9\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=rtpmap:bad\r\n\
a=inactive\r\n\
m=video 5000/2 RTP/AVP 96\r\n\
a=rtpmap:96 H264/90000\r\n\
m=broken\r\n\
a=recvonly\r\n\
a=rtpmap:9 G722/8000\r\n\
m=audio 6000 RTP/SAVP 111\r\n\
a=rtpmap:111 opus/48000/2\r\n";
        let sdp = Sdp::parse_impl(body).unwrap();
        assert_eq!(sdp.connection.as_deref(), Some("192.0.2.2"));
        assert_eq!(sdp.direction, MediaDirection::SendOnly);
        assert_eq!(sdp.media.len(), 3);
        let a = &sdp.media[0];
        assert_eq!(
            (a.kind.as_str(), a.port, a.proto.as_str()),
            ("audio", 4000, "RTP/AVP")
        );
        assert_eq!(a.formats, vec!["0", "8", "101"]);
        assert_eq!(a.connection.as_deref(), Some("192.0.2.9"));
        assert_eq!(a.direction, MediaDirection::Inactive);
        assert_eq!(
            a.rtpmaps,
            vec![
                RtpMap {
                    payload: 0,
                    encoding: "PCMU".into(),
                    clock: 8000,
                    channels: None
                },
                RtpMap {
                    payload: 101,
                    encoding: "telephone-event".into(),
                    clock: 8000,
                    channels: None
                }
            ]
        );
        let v = &sdp.media[1];
        assert_eq!((v.kind.as_str(), v.port), ("video", 5000));
        assert_eq!(v.connection, None);
        assert_eq!(v.direction, MediaDirection::SendOnly);
        assert_eq!(v.rtpmaps.len(), 1);
        let o = &sdp.media[2];
        assert_eq!(o.proto, "RTP/SAVP");
        assert_eq!(o.direction, MediaDirection::SendOnly);
        assert_eq!(
            o.rtpmaps,
            vec![RtpMap {
                payload: 111,
                encoding: "opus".into(),
                clock: 48000,
                channels: Some(2)
            }]
        );
    }

    #[test]
    fn not_sdp() {
        assert_eq!(Sdp::parse_impl(b""), None);
        assert_eq!(Sdp::parse_impl(b"hello=world"), None);
        assert_eq!(Sdp::parse_impl(b"\xff\x00v=0"), None);
        let s = Sdp::parse_impl(b"v=0\n\xff\xfe\nm=audio x RTP/AVP 0\n").unwrap();
        assert_eq!(s.media, vec![]);
        assert_eq!(s.direction, MediaDirection::SendRecv);
    }
}
