//! What the bytes of one TCP direction are, and their cutting into SIP messages.
//!
//! A stream starts in `Detect`: a SIP start line makes it SIP (framed by Content-Length), an
//! HTTP `GET … Upgrade: websocket` or `HTTP/1.1 101` makes it a WebSocket handshake (then
//! frames), `HEP3` makes it a HEP stream; anything else makes it ignored (a known start) or
//! searched for a start line (a capture that begins mid-stream). After garbage or a gap, SIP
//! framing resynchronises at the next start line that begins a line. Every scan keeps its
//! offset, so a long stream is read once.
//!
//! Owns: the modes above, the chunks and warnings they produce. Does not own: sequence numbers
//! (see `tcp`), recognising SIP in a self-contained unit (see `detect`).

use bytes::Bytes;

use super::detect::{
    ContentLength, content_length, find_header_end, find_lf, first_line, glued_junk,
    is_sure_start_line, skip_crlf,
};
use super::tcp::{Attribution, StreamBuf};
use super::{Cx, UnitOrigin, UnitOutcome, emit_hep, emit_unit, hep, ws};
use crate::event::Transport;
use crate::ingest::capture::{SipChunk, WarningKind};
use crate::sip::{is_start_line, message_len};

/// The longest HTTP handshake header block accepted.
const MAX_HTTP_HEADER: usize = 16 * 1024;

/// Buffer capacity kept for reuse between messages; larger buffers are released.
const RETAINED_CAPACITY: usize = 64 * 1024;

/// TCP segments held for one message; beyond, it is kept truncated (each segment costs its
/// frame list, so tiny segments must not multiply the memory held per flow).
const MAX_SEGMENTS: usize = 16 * 1024;

#[derive(Debug)]
enum Mode {
    Detect {
        known_start: bool,
        scan: usize,
        /// The bytes were found not to start with a WebSocket frame carrying SIP.
        not_ws: bool,
    },
    Sip(Sip),
    Handshake {
        client: bool,
        scan: usize,
    },
    Ws(Box<Ws>),
    /// After a gap in a WebSocket stream: the next bytes must be a frame carrying SIP.
    WsResync,
    Hep,
    Ignore,
}

#[derive(Debug)]
enum Sip {
    /// Between messages. `scan`: how far the search for the first line's LF got.
    Boundary { scan: usize },
    /// A message from stream offset `start`; `scan`: where the header-end search resumes;
    /// `end`: where the message ends, once the header block is complete.
    Message {
        start: u64,
        scan: u64,
        end: Option<u64>,
    },
    /// Looking for a start line at the start of a line.
    Resync {
        /// Non-SIP bytes skipped so far.
        skipped: u64,
        /// The first line may be the tail of a line: only a sure start line counts.
        uncertain: bool,
        /// The current line was too long and its start already dropped.
        long_line: bool,
        scan: usize,
    },
}

#[derive(Debug, Default)]
struct Ws {
    msg: Vec<u8>,
    in_msg: bool,
    /// The current message is being discarded (too large, compressed).
    dropping: bool,
    attr: Attribution,
    /// An oversized frame is being skipped and it ends its message.
    skip_fin: bool,
    warned_compressed: bool,
}

impl Ws {
    fn reset_message(&mut self) {
        if self.msg.capacity() > RETAINED_CAPACITY {
            self.msg = Vec::new();
        } else {
            self.msg.clear();
        }
        self.in_msg = false;
        self.dropping = false;
        self.attr = Attribution::default();
        self.skip_fin = false;
    }
}

#[derive(Debug, Default)]
struct Flags {
    /// SIP was framed on this stream: garbage is resynchronised, never given up on.
    sip_seen: bool,
    /// Non-SIP data on this stream was reported.
    warned: bool,
    /// Bytes still to discard (the rest of an oversized message or frame).
    skip: u64,
}

enum Step {
    Wait,
    Again,
    Switch(Mode),
}

/// The framing state of one TCP direction.
#[derive(Debug)]
pub(super) struct Framer {
    mode: Mode,
    fl: Flags,
}

fn flow(cx: &Cx<'_>) -> String {
    format!("TCP {} -> {}", cx.src, cx.dst)
}

/// Emits bytes `start..end` of the stream as a chunk.
fn emit(buf: &StreamBuf, start: u64, end: u64, truncated: bool, cx: &mut Cx<'_>) {
    let bytes = buf.slice(start, end);
    if bytes.is_empty() {
        return;
    }
    let a = buf.attribution(start, end);
    cx.out.push(SipChunk {
        frames: a.frames,
        ts: a.ts,
        src: cx.src,
        dst: cx.dst,
        transport: Transport::Tcp,
        bytes: Bytes::copy_from_slice(bytes),
        head: None,
        truncated,
    });
}

/// Bytes that cannot start a text protocol (TLS records, binary protocols).
fn looks_binary(b: &[u8]) -> bool {
    b.iter()
        .take(16)
        .any(|&c| (c < 0x20 && !matches!(c, b'\t' | b'\r' | b'\n')) || c == 0x7f)
}

fn describe(b: &[u8]) -> &'static str {
    match b {
        [0x14..=0x17, 0x03, ..] => "TLS records (encrypted SIP cannot be decoded)",
        _ if looks_binary(b) => "binary data",
        _ => "data that is not SIP",
    }
}

impl Flags {
    /// The stream is not SIP: reported once when on a SIP port, then ignored.
    fn not_sip(&mut self, cx: &mut Cx<'_>, what: &str) -> Step {
        if cx.sip_port && !self.warned {
            self.warned = true;
            let message = format!("{}: {what} on a SIP port; the flow is skipped", flow(cx));
            cx.warn(WarningKind::Malformed, message);
        }
        Step::Switch(Mode::Ignore)
    }
}

impl Framer {
    pub fn new(known_start: bool) -> Self {
        Framer {
            mode: Mode::Detect {
                known_start,
                scan: 0,
                not_ws: known_start,
            },
            fl: Flags::default(),
        }
    }

    pub fn is_ignoring(&self) -> bool {
        matches!(self.mode, Mode::Ignore)
    }

    /// Bytes held besides the stream buffer.
    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        match &self.mode {
            Mode::Ws(w) => w.msg.len(),
            _ => 0,
        }
    }

    /// Frames what `buf` holds; consumes what it is done with.
    pub fn process(&mut self, buf: &mut StreamBuf, cx: &mut Cx<'_>) {
        loop {
            if self.fl.skip > 0 {
                let n = self.fl.skip.min(buf.len() as u64);
                buf.consume(n as usize);
                self.fl.skip -= n;
                if self.fl.skip > 0 {
                    return;
                }
                if let Mode::Ws(w) = &mut self.mode
                    && w.skip_fin
                {
                    w.reset_message();
                }
            }
            let step = match &mut self.mode {
                Mode::Detect {
                    known_start,
                    scan,
                    not_ws,
                } => detect(*known_start, scan, not_ws, &mut self.fl, buf, cx),
                Mode::Sip(st) => sip(st, &mut self.fl, buf, cx),
                Mode::Handshake { client, scan } => handshake(*client, scan, &mut self.fl, buf, cx),
                Mode::Ws(w) => ws_frame(w, &mut self.fl, buf, cx),
                Mode::WsResync => match ws::starts_with_sip_frame(buf.avail()) {
                    Some(true) => Step::Switch(Mode::Ws(Box::default())),
                    Some(false) => Step::Switch(Mode::Ignore),
                    None if buf.len() > cx.max_line() => Step::Switch(Mode::Ignore),
                    None => Step::Wait,
                },
                Mode::Hep => hep_packet(&mut self.fl, buf, cx),
                Mode::Ignore => {
                    buf.consume_all();
                    Step::Wait
                }
            };
            match step {
                Step::Wait => return,
                Step::Again => {}
                Step::Switch(m) => self.mode = m,
            }
        }
    }

    /// `missing` bytes from sequence number `seq` will not come: flushes what is buffered and
    /// prepares to resume after the gap (the caller empties `buf`).
    pub fn gap(&mut self, buf: &mut StreamBuf, cx: &mut Cx<'_>, missing: u64, seq: u32) {
        self.fl.skip = 0;
        let what = match &mut self.mode {
            Mode::Ignore => return,
            Mode::Detect { known_start, .. } => {
                let flushed = flush_partial(buf, !*known_start, cx);
                self.mode = Mode::Detect {
                    known_start: false,
                    scan: 0,
                    not_ws: false,
                };
                if !flushed && !cx.sip_port {
                    return;
                }
                "framing resumes after it".to_string()
            }
            Mode::Sip(st) => {
                let (flushed, skipped) = flush_sip(st, buf, cx);
                self.mode = Mode::Sip(Sip::Resync {
                    skipped: 0,
                    uncertain: true,
                    long_line: false,
                    scan: 0,
                });
                let before = if skipped > 0 {
                    format!("{skipped} bytes that are not SIP before it skipped; ")
                } else {
                    String::new()
                };
                let cut = if flushed {
                    "the message it cuts is kept as truncated; "
                } else {
                    ""
                };
                format!("{before}{cut}framing resumes at the next start line")
            }
            Mode::Ws(w) => {
                flush_ws(w, buf, cx);
                self.mode = Mode::WsResync;
                "the WebSocket message it cuts is kept as truncated if it is SIP".to_string()
            }
            Mode::WsResync | Mode::Handshake { .. } | Mode::Hep => {
                self.mode = Mode::Ignore;
                "the rest of the flow is skipped".to_string()
            }
        };
        let message = format!(
            "{}: {missing} bytes missing from the capture at sequence number {seq}; {what}",
            flow(cx)
        );
        cx.warn(WarningKind::StreamGap, message);
    }

    /// The end of the stream: flushes what is buffered.
    pub fn end(&mut self, buf: &mut StreamBuf, cx: &mut Cx<'_>) {
        match &mut self.mode {
            Mode::Detect { known_start, .. } => {
                flush_partial(buf, !*known_start, cx);
            }
            Mode::Sip(st) => {
                let (_, skipped) = flush_sip(st, buf, cx);
                if skipped > 0 && (self.fl.sip_seen || cx.sip_port) {
                    let message = format!(
                        "{}: {skipped} bytes that are not SIP skipped before the end of the stream",
                        flow(cx)
                    );
                    cx.warn(WarningKind::StreamGap, message);
                }
            }
            Mode::Ws(w) => flush_ws(w, buf, cx),
            _ => {}
        }
        buf.consume_all();
        self.mode = Mode::Ignore;
    }
}

/// Emits what `buf` holds as a truncated chunk if it starts with a start line. Returns whether
/// it did.
fn flush_partial(buf: &mut StreamBuf, uncertain: bool, cx: &mut Cx<'_>) -> bool {
    let k = skip_crlf(buf.avail());
    buf.consume(k);
    let line = first_line(buf.avail());
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let ok = if uncertain {
        is_sure_start_line(line)
    } else {
        is_start_line(line)
    };
    if ok {
        let start = buf.head_offset();
        emit(buf, start, start + buf.len() as u64, true, cx);
    }
    buf.consume_all();
    ok
}

/// Flushes a SIP stream's buffer: `(a truncated chunk was emitted, non-SIP bytes skipped)`.
fn flush_sip(st: &mut Sip, buf: &mut StreamBuf, cx: &mut Cx<'_>) -> (bool, u64) {
    let r = match st {
        Sip::Message { start, .. } => {
            let start = *start;
            emit(buf, start, start + buf.len() as u64, true, cx);
            (true, 0)
        }
        Sip::Boundary { .. } => {
            let k = skip_crlf(buf.avail());
            buf.consume(k);
            let n = buf.len() as u64;
            if flush_partial(buf, false, cx) {
                (true, 0)
            } else {
                (false, n)
            }
        }
        Sip::Resync {
            skipped,
            uncertain,
            long_line,
            ..
        } => {
            let n = buf.len() as u64;
            if !*long_line && flush_partial(buf, *uncertain, cx) {
                (true, *skipped)
            } else {
                (false, *skipped + n)
            }
        }
    };
    buf.consume_all();
    r
}

/// Flushes a partial WebSocket message (with what has arrived of its current frame).
fn flush_ws(w: &mut Ws, buf: &mut StreamBuf, cx: &mut Cx<'_>) {
    if w.in_msg && !w.dropping {
        if let Some(h) = ws::parse_head(buf.avail())
            && !h.is_control()
            && h.opcode == ws::OP_CONTINUATION
        {
            let start = buf.head_offset();
            let mut p = buf.avail().get(h.header_len..).unwrap_or(&[]).to_vec();
            if let Some(k) = h.mask {
                ws::unmask(&mut p, k, 0);
            }
            w.attr
                .merge(buf.attribution(start, start + buf.len() as u64));
            w.msg.extend_from_slice(&p);
        }
        emit_ws(w, true, cx);
    } else if !w.in_msg
        && let Some(h) = ws::parse_head(buf.avail())
        && (h.opcode == ws::OP_TEXT || h.opcode == ws::OP_BINARY)
    {
        let start = buf.head_offset();
        let mut p = buf.avail().get(h.header_len..).unwrap_or(&[]).to_vec();
        if let Some(k) = h.mask {
            ws::unmask(&mut p, k, 0);
        }
        w.attr = buf.attribution(start, start + buf.len() as u64);
        w.msg = p;
        w.in_msg = true;
        emit_ws(w, true, cx);
    }
    w.reset_message();
    buf.consume_all();
}

/// Emits a WebSocket message's SIP content.
fn emit_ws(w: &mut Ws, truncated: bool, cx: &mut Cx<'_>) {
    if w.msg.is_empty() {
        return;
    }
    let frames = std::mem::take(&mut w.attr.frames);
    let origin = UnitOrigin {
        frames: &frames,
        ts: w.attr.ts,
        src: cx.src,
        dst: cx.dst,
        transport: Transport::Ws,
        snapped: truncated,
    };
    // Non-SIP WebSocket messages (JSON, MSRP …) are not SIP's business: skipped silently.
    let unit = Bytes::copy_from_slice(&w.msg);
    let _: UnitOutcome = emit_unit(&unit, &origin, cx.out, cx.warnings);
}

fn detect(
    known_start: bool,
    scan: &mut usize,
    not_ws: &mut bool,
    fl: &mut Flags,
    buf: &mut StreamBuf,
    cx: &mut Cx<'_>,
) -> Step {
    let k = skip_crlf(buf.avail());
    if k > 0 {
        buf.consume(k);
        *scan = 0;
    }
    let avail = buf.avail();
    if avail.is_empty() || (avail.len() < 4 && b"HEP3".starts_with(avail)) {
        return Step::Wait;
    }
    if avail.starts_with(b"HEP3") {
        return Step::Switch(Mode::Hep);
    }
    if !*not_ws {
        match ws::starts_with_sip_frame(avail) {
            Some(true) => return Step::Switch(Mode::Ws(Box::default())),
            Some(false) => *not_ws = true,
            None => {}
        }
    }
    let Some(lf) = avail.get(*scan..).and_then(find_lf).map(|i| *scan + i) else {
        if known_start && looks_binary(avail) {
            return fl.not_sip(cx, describe(avail));
        }
        if avail.len() > cx.max_line() {
            if known_start {
                return fl.not_sip(cx, describe(avail));
            }
            return Step::Switch(Mode::Sip(Sip::Resync {
                skipped: 0,
                uncertain: true,
                long_line: false,
                scan: 0,
            }));
        }
        *scan = avail.len();
        return Step::Wait;
    };
    let line = avail.get(..lf).unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if is_start_line(line) && (known_start || is_sure_start_line(line)) {
        return Step::Switch(Mode::Sip(Sip::Boundary { scan: 0 }));
    }
    if ws::is_get_request(line) {
        return Step::Switch(Mode::Handshake {
            client: true,
            scan: 0,
        });
    }
    if ws::is_http_status(line) {
        if ws::is_switching_protocols(line) {
            return Step::Switch(Mode::Handshake {
                client: false,
                scan: 0,
            });
        }
        return fl.not_sip(cx, "HTTP");
    }
    if known_start {
        return fl.not_sip(cx, describe(avail));
    }
    Step::Switch(Mode::Sip(Sip::Resync {
        skipped: 0,
        uncertain: true,
        long_line: false,
        scan: 0,
    }))
}

fn sip(st: &mut Sip, fl: &mut Flags, buf: &mut StreamBuf, cx: &mut Cx<'_>) -> Step {
    match st {
        Sip::Boundary { scan } => {
            let k = skip_crlf(buf.avail());
            if k > 0 {
                buf.consume(k);
                *scan = 0;
            }
            let avail = buf.avail();
            if avail.is_empty() {
                return Step::Wait;
            }
            match avail.get(*scan..).and_then(find_lf).map(|i| *scan + i) {
                None if avail.len() > cx.max_line() => {
                    *st = Sip::Resync {
                        skipped: 0,
                        uncertain: false,
                        long_line: false,
                        scan: 0,
                    };
                }
                None => {
                    *scan = avail.len();
                    return Step::Wait;
                }
                Some(lf) => {
                    let line = avail.get(..lf).unwrap_or(&[]);
                    if is_start_line(line) && glued_junk(line).is_none() {
                        let start = buf.head_offset();
                        *st = Sip::Message {
                            start,
                            scan: start + lf as u64,
                            end: None,
                        };
                    } else {
                        *st = Sip::Resync {
                            skipped: 0,
                            uncertain: false,
                            long_line: false,
                            scan: 0,
                        };
                    }
                }
            }
            Step::Again
        }
        Sip::Resync {
            skipped,
            uncertain,
            long_line,
            scan,
        } => {
            let avail = buf.avail();
            let Some(lf) = avail.get(*scan..).and_then(find_lf).map(|i| *scan + i) else {
                if avail.len() > cx.max_line() {
                    *skipped += avail.len() as u64;
                    buf.consume_all();
                    *long_line = true;
                    *uncertain = false;
                    *scan = 0;
                    return resync_budget(*skipped, fl, cx).unwrap_or(Step::Wait);
                }
                *scan = avail.len();
                return Step::Wait;
            };
            let line = avail.get(..lf).unwrap_or(&[]);
            let blank = line.is_empty() || line == b"\r";
            // Junk glued to a known method (a body that did not end with CRLF) is cut off.
            let junk = glued_junk(line).unwrap_or(0);
            if !*long_line
                && !blank
                && is_start_line(line)
                && (!*uncertain || junk > 0 || is_sure_start_line(line))
            {
                *skipped += junk as u64;
                buf.consume(junk);
                if *skipped > 0 {
                    let message = if fl.sip_seen {
                        format!("{}: {skipped} bytes that are not SIP skipped", flow(cx))
                    } else {
                        format!(
                            "{}: {skipped} bytes skipped before the first SIP start line (the capture starts mid-stream or after a gap)",
                            flow(cx)
                        )
                    };
                    cx.warn(WarningKind::StreamGap, message);
                }
                *st = Sip::Boundary { scan: 0 };
                return Step::Again;
            }
            // CRLF keep-alives before any garbage are not worth counting.
            if !blank || *long_line || *skipped > 0 {
                *skipped += lf as u64 + 1;
            }
            buf.consume(lf + 1);
            *scan = 0;
            *long_line = false;
            *uncertain = false;
            resync_budget(*skipped, fl, cx).unwrap_or(Step::Again)
        }
        Sip::Message { start, scan, end } => {
            let avail = buf.avail();
            let limit = cx.limits.max_flow_bytes;
            let e = match *end {
                Some(e) => e,
                None => match find_header_end(avail, (*scan - *start) as usize) {
                    Ok(body) => {
                        let total = message_len(avail).unwrap_or_else(|| {
                            match content_length(avail.get(..body).unwrap_or(&[])) {
                                ContentLength::Value(n) => body.saturating_add(n),
                                ContentLength::Absent | ContentLength::Invalid => body,
                            }
                        });
                        let e = start.saturating_add(total as u64);
                        *end = Some(e);
                        e
                    }
                    Err(resume) => {
                        *scan = *start + resume as u64;
                        if avail.len() > limit || buf.segments() > MAX_SEGMENTS {
                            let (s, n) = (*start, avail.len() as u64);
                            emit(buf, s, s + n, true, cx);
                            let message = format!(
                                "{}: a SIP header block longer than {limit} bytes or {MAX_SEGMENTS} segments; kept as truncated",
                                flow(cx)
                            );
                            cx.warn(WarningKind::Limit, message);
                            buf.consume_all();
                            *st = Sip::Resync {
                                skipped: 0,
                                uncertain: false,
                                long_line: true,
                                scan: 0,
                            };
                            return Step::Again;
                        }
                        return Step::Wait;
                    }
                },
            };
            let s = *start;
            let need = e - s;
            let have = avail.len() as u64;
            if have >= need {
                emit(buf, s, e, false, cx);
                buf.consume(need as usize);
                fl.sip_seen = true;
                *st = Sip::Boundary { scan: 0 };
                Step::Again
            } else if have >= limit as u64 || buf.segments() > MAX_SEGMENTS {
                emit(buf, s, s + have, true, cx);
                let message = format!(
                    "{}: a SIP message of {need} bytes is larger than the {limit} bytes or {MAX_SEGMENTS} segments held per flow; kept as truncated",
                    flow(cx)
                );
                cx.warn(WarningKind::Limit, message);
                fl.skip = need - have;
                fl.sip_seen = true;
                buf.consume_all();
                *st = Sip::Boundary { scan: 0 };
                Step::Again
            } else {
                Step::Wait
            }
        }
    }
}

/// A stream that never showed SIP is given up after this many non-SIP bytes.
fn resync_budget(skipped: u64, fl: &mut Flags, cx: &mut Cx<'_>) -> Option<Step> {
    if fl.sip_seen || skipped <= cx.limits.resync_budget as u64 {
        return None;
    }
    Some(fl.not_sip(cx, "data with no SIP start line"))
}

fn handshake(
    client: bool,
    scan: &mut usize,
    fl: &mut Flags,
    buf: &mut StreamBuf,
    cx: &mut Cx<'_>,
) -> Step {
    let avail = buf.avail();
    match find_header_end(avail, *scan) {
        Ok(end) => {
            let block = avail.get(..end).unwrap_or(&[]);
            let ok = if client {
                ws::is_upgrade_request(block)
            } else {
                ws::is_switching_protocols(first_line(block))
            };
            if !ok {
                return fl.not_sip(cx, "HTTP");
            }
            buf.consume(end);
            Step::Switch(Mode::Ws(Box::default()))
        }
        Err(resume) => {
            *scan = resume;
            if avail.len() > MAX_HTTP_HEADER {
                return fl.not_sip(cx, "HTTP");
            }
            Step::Wait
        }
    }
}

fn ws_frame(w: &mut Ws, fl: &mut Flags, buf: &mut StreamBuf, cx: &mut Cx<'_>) -> Step {
    let avail = buf.avail();
    let Some(h) = ws::parse_head(avail) else {
        return Step::Wait;
    };
    let limit = cx.limits.max_flow_bytes;
    if h.rsv & 0b011 != 0
        || !h.is_known_opcode()
        || (h.is_control() && (!h.fin || h.payload_len > 125))
    {
        let message = format!(
            "{}: invalid WebSocket frame (opcode {:#x}, RSV {:#b}); the rest of the flow is skipped",
            flow(cx),
            h.opcode,
            h.rsv
        );
        cx.warn(WarningKind::Malformed, message);
        flush_ws(w, buf, cx);
        return Step::Switch(Mode::Ignore);
    }
    let start = buf.head_offset();
    let data = !h.is_control();
    let starts = h.opcode != ws::OP_CONTINUATION;
    if data && starts && w.in_msg {
        let message = format!(
            "{}: a WebSocket message starts before the previous one ended",
            flow(cx)
        );
        cx.warn(WarningKind::Malformed, message);
        if !w.dropping {
            emit_ws(w, true, cx);
        }
        w.reset_message();
    }
    if h.payload_len > limit as u64 {
        let message = format!(
            "{}: a WebSocket frame of {} bytes is larger than the {limit} bytes held per flow; skipped",
            flow(cx),
            h.payload_len
        );
        cx.warn(WarningKind::Limit, message);
        if data {
            w.in_msg = true;
            w.dropping = true;
            w.msg.clear();
            w.skip_fin = h.fin;
        }
        fl.skip = h.payload_len;
        buf.consume(h.header_len);
        return Step::Again;
    }
    let total = h.header_len + h.payload_len as usize;
    if avail.len() < total {
        return Step::Wait;
    }
    if !data || (!starts && !w.in_msg) {
        // Ping, pong, close; or the continuation of a message whose start was not seen.
        buf.consume(total);
        return Step::Again;
    }
    w.in_msg = true;
    if starts && h.rsv & 0b100 != 0 {
        if !w.warned_compressed {
            w.warned_compressed = true;
            let message = format!(
                "{}: compressed WebSocket messages (permessage-deflate) are not decoded",
                flow(cx)
            );
            cx.warn(WarningKind::Malformed, message);
        }
        w.dropping = true;
    }
    if !w.dropping {
        let mut p = avail.get(h.header_len..total).unwrap_or(&[]).to_vec();
        if let Some(k) = h.mask {
            ws::unmask(&mut p, k, 0);
        }
        w.attr.merge(buf.attribution(start, start + total as u64));
        w.msg.extend_from_slice(&p);
        if w.msg.len() > limit {
            let message = format!(
                "{}: a WebSocket message larger than the {limit} bytes held per flow; skipped",
                flow(cx)
            );
            cx.warn(WarningKind::Limit, message);
            w.dropping = true;
            w.msg = Vec::new();
        }
    }
    buf.consume(total);
    if h.fin {
        if !w.dropping {
            fl.sip_seen = true;
            emit_ws(w, false, cx);
        }
        w.reset_message();
    }
    Step::Again
}

fn hep_packet(fl: &mut Flags, buf: &mut StreamBuf, cx: &mut Cx<'_>) -> Step {
    let avail = buf.avail();
    if avail.len() < 6 {
        return Step::Wait;
    }
    let Some(len) = hep::v3_len(avail).filter(|&n| n >= 6) else {
        let message = format!(
            "{}: HEP stream out of step; the rest of the flow is skipped",
            flow(cx)
        );
        cx.warn(WarningKind::Malformed, message);
        return Step::Switch(Mode::Ignore);
    };
    if avail.len() < len {
        return Step::Wait;
    }
    let start = buf.head_offset();
    let a = buf.attribution(start, start + len as u64);
    match hep::parse_v3(avail.get(..len).unwrap_or(&[])) {
        Ok((h, _)) => {
            fl.sip_seen = true;
            emit_hep(&h, None, &a.frames, a.ts, false, None, cx.out, cx.warnings);
        }
        Err(e) => {
            let message = format!("{}: {e}", flow(cx));
            cx.warn(WarningKind::Malformed, message);
        }
    }
    buf.consume(len);
    Step::Again
}
