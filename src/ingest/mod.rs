//! Ingest: turns the user's inputs (paths or `-` for stdin) into one time-ordered event stream.
//!
//! Owns: reading files and stdin, transparent gzip, sniffing the format from content (never from
//! the file name), dispatch to one module per format ([`pjsip`], [`raw`]), per-input errors as
//! miette diagnostics, and the merge of several inputs by log time. Does not own: SIP grammar
//! ([`crate::sip`]), correlation ([`crate::dialog`]) or any output.

// `InputError` carries a window of the input for miette. It is built at most once per input, on
// the error path, so its size does not matter and boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod pjsip;
pub mod raw;

use std::fmt;
use std::io::Read;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Serialize;

use crate::event::Event;

/// The formats sipflow reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// PJSIP / pjsua / pjsua2 log output with `TX`/`RX` message dumps.
    Pjsip,
    /// SIPp's `-trace_msg` message log.
    Sipp,
    /// Raw SIP messages back to back.
    Sip,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Pjsip => "pjsip",
            Format::Sipp => "sipp",
            Format::Sip => "sip",
        })
    }
}

/// How to read inputs (validated from the command line).
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Force a format instead of sniffing.
    pub format: Option<Format>,
    /// Day (days since 1970-01-01) for logs without a date.
    pub date: Option<i64>,
}

/// One input as the run saw it.
#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    /// The path as given, or `-` for stdin.
    pub name: String,
    pub format: Format,
    /// Whether the input was gzip-compressed.
    pub gzip: bool,
    pub bytes: usize,
    /// Message dumps (or messages) found.
    pub messages: usize,
    /// Dumps cut by the log record cap or without an end marker.
    pub truncated: usize,
    /// Evidence log lines found.
    pub log_events: usize,
}

/// An input that could not be read. Rendered by `main` through miette.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum InputError {
    #[error("cannot read {name}")]
    #[diagnostic(code(sipflow::input::io), help("check the path and its permissions"))]
    Io {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{name}: the gzip stream is corrupt")]
    #[diagnostic(code(sipflow::input::gzip))]
    Gzip {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{name}: {what} captures are not supported yet")]
    #[diagnostic(
        code(sipflow::input::capture),
        help(
            "export the SIP messages as text (e.g. `tshark -r FILE -Y sip -V`) or feed a pjsip log"
        )
    )]
    Capture {
        name: String,
        what: &'static str,
        #[source_code]
        src: NamedSource<String>,
        #[label("{what} magic number")]
        span: SourceSpan,
    },
    #[error("{name}: not a pjsip log, SIPp message trace or raw SIP dump")]
    #[diagnostic(
        code(sipflow::input::unrecognized),
        help(
            "sipflow looks for pjsip log lines (`HH:MM:SS.mmm sender message`), SIPp `-trace_msg` \
             records or a SIP start line; use --input-format to force one"
        )
    )]
    Unrecognized {
        name: String,
        #[source_code]
        src: NamedSource<String>,
        #[label("this does not look like SIP or a pjsip log")]
        span: SourceSpan,
    },
    #[error("{name}: the input is empty")]
    #[diagnostic(code(sipflow::input::empty))]
    Empty { name: String },
}

/// The result of ingesting all inputs: what could be read, and what could not.
#[derive(Debug, Default)]
pub struct Ingested {
    /// One entry per input that was read, in command-line order. [`crate::event::Origin::input`]
    /// indexes this list.
    pub inputs: Vec<InputInfo>,
    /// The raw bytes of each input (decompressed), for rendering spans.
    pub sources: Vec<Vec<u8>>,
    /// All events, merged by log time; ties keep input order.
    pub events: Vec<Event>,
    pub errors: Vec<InputError>,
}

/// Reads every input, continuing past unreadable ones.
pub fn ingest(names: &[String], opts: &IngestOptions) -> Ingested {
    let mut out = Ingested::default();
    let mut streams = Vec::new();
    for name in names {
        let index = out.inputs.len();
        match read_input(name).and_then(|(bytes, gzip)| decode(name, bytes, gzip, index, opts)) {
            Ok((info, bytes, events)) => {
                out.inputs.push(info);
                out.sources.push(bytes);
                streams.push(events);
            }
            Err(e) => out.errors.push(e),
        }
    }
    out.events = merge_by_time(streams);
    out
}

/// Parses one input that is already in memory (used by tests and `ingest`).
pub fn ingest_bytes(
    name: &str,
    bytes: Vec<u8>,
    opts: &IngestOptions,
) -> Result<(InputInfo, Vec<u8>, Vec<Event>), InputError> {
    let gzip = bytes.starts_with(&[0x1f, 0x8b]);
    decode(name, bytes, gzip, 0, opts)
}

fn read_input(name: &str) -> Result<(Vec<u8>, bool), InputError> {
    let mut bytes = Vec::new();
    let res = if name == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(name).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    res.map_err(|source| InputError::Io {
        name: name.to_string(),
        source,
    })?;
    let gzip = bytes.starts_with(&[0x1f, 0x8b]);
    Ok((bytes, gzip))
}

fn decode(
    name: &str,
    bytes: Vec<u8>,
    gzip: bool,
    index: usize,
    opts: &IngestOptions,
) -> Result<(InputInfo, Vec<u8>, Vec<Event>), InputError> {
    let bytes = if gzip { gunzip(name, &bytes)? } else { bytes };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::Empty {
            name: name.to_string(),
        });
    }
    let format = match opts.format {
        Some(f) => f,
        None => sniff(name, &bytes)?,
    };
    let (events, messages, truncated) = match format {
        Format::Pjsip => {
            let popts = pjsip::PjsipOptions { date: opts.date };
            let log = pjsip::parse(&bytes, index, &popts);
            (log.events, log.dumps, log.truncated)
        }
        Format::Sipp => {
            let events = raw::parse_sipp(&bytes, index, opts.date);
            let n = events.len();
            (events, n, 0)
        }
        Format::Sip => {
            let events = raw::parse_raw(&bytes, index);
            let n = events.len();
            (events, n, 0)
        }
    };
    let log_events = events.iter().filter(|e| matches!(e, Event::Log(_))).count();
    let info = InputInfo {
        name: name.to_string(),
        format,
        gzip,
        bytes: bytes.len(),
        messages,
        truncated,
        log_events,
    };
    Ok((info, bytes, events))
}

/// Decompresses gzip, bounded so that a zip bomb cannot exhaust memory.
fn gunzip(name: &str, bytes: &[u8]) -> Result<Vec<u8>, InputError> {
    const LIMIT: u64 = 4 << 30;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(LIMIT)
        .read_to_end(&mut out)
        .map_err(|source| InputError::Gzip {
            name: name.to_string(),
            source,
        })?;
    Ok(out)
}

const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x4d, 0x3c, 0xb2, 0xa1],
];

/// Picks the format from the content.
fn sniff(name: &str, bytes: &[u8]) -> Result<Format, InputError> {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let capture = if PCAP_MAGICS.iter().any(|m| head.starts_with(m)) {
        Some("pcap")
    } else if head.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        Some("pcapng")
    } else {
        None
    };
    if let Some(what) = capture {
        return Err(InputError::Capture {
            name: name.to_string(),
            what,
            src: source_window(name, head),
            span: (0, 4).into(),
        });
    }
    if pjsip::sniff(head) {
        Ok(Format::Pjsip)
    } else if raw::sniff_sipp(head) {
        Ok(Format::Sipp)
    } else if raw::sniff_raw(head) {
        Ok(Format::Sip)
    } else {
        let first = first_line_span(head);
        Err(InputError::Unrecognized {
            name: name.to_string(),
            src: source_window(name, head),
            span: first.into(),
        })
    }
}

/// The first non-blank line, as (offset, length), capped for display.
fn first_line_span(head: &[u8]) -> (usize, usize) {
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let len = head[start..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(head.len() - start)
        .min(200);
    (start, len)
}

/// A small window of the input for miette (never the whole file).
fn source_window(name: &str, head: &[u8]) -> NamedSource<String> {
    let window = &head[..head.len().min(4096)];
    let text: String = String::from_utf8_lossy(window)
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '.'
            } else {
                c
            }
        })
        .collect();
    NamedSource::new(name, text)
}

/// k-way merge by timestamp. Each input keeps its own order (pjsip threads may log slightly out
/// of order, and that order is the truth for that process); ties go to the earlier input.
fn merge_by_time(streams: Vec<Vec<Event>>) -> Vec<Event> {
    let total = streams.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    let mut iters: Vec<_> = streams
        .into_iter()
        .map(|s| s.into_iter().peekable())
        .collect();
    loop {
        let mut best: Option<(usize, crate::event::Timestamp)> = None;
        for (i, it) in iters.iter_mut().enumerate() {
            if let Some(e) = it.peek() {
                let ts = e.ts();
                if best.is_none_or(|(_, b)| ts < b) {
                    best = Some((i, ts));
                }
            }
        }
        match best.and_then(|(i, _)| iters[i].next()) {
            Some(e) => out.push(e),
            None => break,
        }
    }
    out
}
