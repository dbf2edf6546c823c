//! WebSocket framing (RFC 6455 §5.2) as used by SIP over WebSocket (RFC 7118).
//!
//! Owns: frame headers (FIN, RSV, opcode, 7/16/64-bit lengths, masking key), unmasking, and
//! recognising an HTTP Upgrade handshake. Does not own: reassembly of messages from frames (see
//! `framer`).

use super::detect;

pub(super) const OP_CONTINUATION: u8 = 0x0;
pub(super) const OP_TEXT: u8 = 0x1;
pub(super) const OP_BINARY: u8 = 0x2;

/// A WebSocket frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FrameHead {
    pub fin: bool,
    /// RSV1..3 (RSV1 is set by permessage-deflate).
    pub rsv: u8,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub header_len: usize,
    pub payload_len: u64,
}

impl FrameHead {
    pub fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }

    pub fn is_known_opcode(&self) -> bool {
        matches!(self.opcode, 0x0 | 0x1 | 0x2 | 0x8 | 0x9 | 0xa)
    }
}

/// The header of the frame at the start of `b`; `None` when more bytes are needed.
pub(super) fn parse_head(b: &[u8]) -> Option<FrameHead> {
    let (&b0, &b1) = (b.first()?, b.get(1)?);
    let masked = b1 & 0x80 != 0;
    let (payload_len, mut n) = match b1 & 0x7f {
        126 => {
            let s = b.get(2..4)?;
            (u64::from(u16::from_be_bytes([s[0], s[1]])), 4)
        }
        127 => {
            let s: [u8; 8] = b.get(2..10)?.try_into().ok()?;
            (u64::from_be_bytes(s), 10)
        }
        len => (u64::from(len), 2),
    };
    let mask = if masked {
        let k: [u8; 4] = b.get(n..n + 4)?.try_into().ok()?;
        n += 4;
        Some(k)
    } else {
        None
    };
    Some(FrameHead {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x7,
        opcode: b0 & 0x0f,
        mask,
        header_len: n,
        payload_len,
    })
}

/// Unmasks `data`, the payload bytes from `offset` on (RFC 6455 §5.3).
pub(super) fn unmask(data: &mut [u8], key: [u8; 4], offset: u64) {
    for (i, c) in data.iter_mut().enumerate() {
        let k = (offset + i as u64) % 4;
        *c ^= key.get(k as usize).copied().unwrap_or(0);
    }
}

/// A handshake's first line: `GET <path> HTTP/1.x`.
pub(super) fn is_get_request(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.starts_with(b"GET ") && (line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0"))
}

/// Whether `line` is an HTTP status line.
pub(super) fn is_http_status(line: &[u8]) -> bool {
    line.starts_with(b"HTTP/1.")
}

/// An HTTP `101 Switching Protocols` status line.
pub(super) fn is_switching_protocols(line: &[u8]) -> bool {
    is_http_status(line)
        && line.get(8..12) == Some(b" 101".as_slice())
        && matches!(line.get(12), None | Some(b' ' | b'\r'))
}

/// A GET header block asking for a WebSocket upgrade.
pub(super) fn is_upgrade_request(block: &[u8]) -> bool {
    detect::header_value(block, b"upgrade")
        .is_some_and(|v| detect::contains_ignore_case(v, b"websocket"))
}

/// How much of a frame's payload is searched for a start line when guessing.
const LOOKAHEAD: usize = 2048;

/// Whether `b` starts with a text or binary frame whose payload begins with a SIP start line
/// (to pick up a WebSocket session whose handshake was not captured, or after a gap). `None`
/// when more bytes are needed to tell.
pub(super) fn starts_with_sip_frame(b: &[u8]) -> Option<bool> {
    let h = parse_head(b)?;
    if h.rsv != 0 || !(h.opcode == OP_TEXT || h.opcode == OP_BINARY) {
        return Some(false);
    }
    let avail = b.len().saturating_sub(h.header_len) as u64;
    let take = avail.min(h.payload_len).min(LOOKAHEAD as u64) as usize;
    let mut p = b.get(h.header_len..h.header_len + take)?.to_vec();
    if let Some(k) = h.mask {
        unmask(&mut p, k, 0);
    }
    match detect::find_lf(&p) {
        Some(lf) => Some(detect::is_sure_start_line(p.get(..lf).unwrap_or(&[]))),
        None if (take as u64) < h.payload_len && take < LOOKAHEAD => None,
        None => Some(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_heads() {
        let h = parse_head(&[0x81, 0x05]).unwrap();
        assert_eq!(
            (h.fin, h.opcode, h.header_len, h.payload_len),
            (true, 1, 2, 5)
        );
        let h = parse_head(&[0x02, 0xfe, 0x01, 0x00, 1, 2, 3, 4]).unwrap();
        assert_eq!(h.mask, Some([1, 2, 3, 4]));
        assert_eq!(
            (h.fin, h.opcode, h.header_len, h.payload_len),
            (false, 2, 8, 256)
        );
        let h = parse_head(&[0x80, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]).unwrap();
        assert_eq!((h.header_len, h.payload_len), (10, 65536));
        assert_eq!(parse_head(&[0x81, 0xfe, 0x01]), None);
    }

    #[test]
    fn handshake_lines() {
        assert!(is_get_request(b"GET /ws HTTP/1.1\r"));
        assert!(!is_get_request(b"GET /ws FTP/1.1"));
        assert!(is_switching_protocols(b"HTTP/1.1 101 Switching Protocols"));
        assert!(is_switching_protocols(b"HTTP/1.1 101"));
        assert!(!is_switching_protocols(b"HTTP/1.1 200 OK"));
        assert!(is_upgrade_request(
            b"GET / HTTP/1.1\r\nUpgrade: WebSocket\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
        ));
        assert!(!is_upgrade_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
}
